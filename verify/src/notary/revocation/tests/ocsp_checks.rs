//! OCSP through the checker: the e2e OCSP chain against an in-process
//! responder, faults, the fallback to CRLs, and time bounds.

use std::time::Duration;

use pullgate_testsupport::{
    FileServer, OcspAnswer, OcspFault, OcspResponder, OcspSigner, RevokedEntry, TestCrl,
    first_pem_cert, serial_of,
};
use reqwest::Method;
use time::macros::datetime;

use super::*;
use crate::notary::revocation::fixtures::{NOW, cert, ocsp_chain, pki, signer, vector_text};
use crate::notary::revocation::{
    CertResult, RevocationChecker, RevocationContext, RevocationSettings,
};

use Status::{Ok as Good, Revoked, Unknown};

fn delegated() -> OcspSigner {
    OcspSigner::delegated(
        &first_pem_cert(&vector_text("notation-e2e-ocsp/ocsp.crt")),
        &vector_text("notation-e2e-ocsp/ocsp.key"),
    )
}

/// A responder for the e2e OCSP chain, current at [`NOW`].
async fn responder(answer: OcspAnswer) -> OcspResponder {
    let r = OcspResponder::start(delegated()).await;
    r.set_default(answer);
    r.set_times(
        NOW - time::Duration::hours(1),
        Some(NOW + time::Duration::hours(1)),
    );
    r
}

fn checker_for(url: &str, timeout: Duration) -> Checker {
    Checker::new(RevocationSettings {
        timeout,
        url_rewrite: [("http://localhost:10087".to_string(), url.to_string())].into(),
        ..settings(RevocationMode::Online)
    })
    .unwrap()
}

async fn check_leaf(url: &str, ctx: &RevocationContext) -> CertResult {
    let chain = ocsp_chain();
    checker_for(url, Duration::from_secs(5))
        .check(&chain[0], &chain[1], ctx)
        .await
}

fn revoked_at(invalidity: Option<time::OffsetDateTime>) -> OcspAnswer {
    OcspAnswer::Revoked {
        at: datetime!(2030-05-01 0:00 UTC),
        reason: Some(1),
        invalidity_date: invalidity,
    }
}

#[tokio::test]
async fn good_revoked_and_unknown_answers() {
    let chain = ocsp_chain();
    for (answer, want) in [
        (OcspAnswer::Good, Good),
        (revoked_at(None), Revoked),
        (OcspAnswer::Unknown, Unknown),
    ] {
        let r = responder(answer.clone()).await;
        let got = check_leaf(&r.url(), &ctx()).await;
        assert_eq!(got.status, want, "{answer:?}: {got:?}");
        let requests = r.requests();
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].method, Method::GET);
        assert_eq!(requests[0].serial.as_deref(), Some(chain[0].serial()));
    }
    let r = responder(OcspAnswer::Unknown).await;
    let got = check_leaf(&r.url(), &ctx()).await;
    let want = "OCSP http://localhost:10087 (ocsp_unknown_status): certificate has unknown status via OCSP".to_string();
    assert_eq!(got.detail, Some(want));
    let r = responder(revoked_at(None)).await;
    let got = check_leaf(&r.url(), &ctx()).await;
    assert_eq!(
        got.detail.as_deref(),
        Some("revoked according to OCSP responder http://localhost:10087")
    );
}

#[tokio::test]
async fn the_whole_pipeline_of_an_e2e_chain() {
    let r = responder(OcspAnswer::Good).await;
    let checker = checker_for(&r.url(), Duration::from_secs(5));
    assert_eq!(
        statuses(&checker, &ocsp_chain()).await,
        [Good, Status::NonRevokable]
    );
}

#[tokio::test]
async fn failures_leave_the_status_unknown() {
    let unreachable = check_leaf(&closed_port_url(), &ctx()).await;
    assert_eq!(unreachable.status, Unknown);
    let r = responder(OcspAnswer::Good).await;
    type Setup = Box<dyn Fn(&OcspResponder)>;
    let cases: Vec<(Setup, &str)> = vec![
        (
            Box::new(|r| {
                r.set_signer(OcspSigner {
                    key: pullgate_testsupport::PkixSigner::from_pem(&vector_text(
                        "notation-e2e-ocsp/leaf.key",
                    )),
                    ..delegated()
                })
            }),
            "bad signature on embedded certificate: crypto/rsa: verification error",
        ),
        (
            Box::new(|r| {
                r.set_times(
                    NOW - time::Duration::hours(2),
                    Some(NOW - time::Duration::hours(1)),
                )
            }),
            "error checking revocation status via OCSP: expired OCSP response",
        ),
        (
            Box::new(|r| r.set_times(NOW - time::Duration::hours(2), None)),
            "error checking revocation status via OCSP: expired OCSP response",
        ),
        (
            Box::new(|r| r.set_fault(Some(OcspFault::Status(500)))),
            "answered with status code 500",
        ),
        (
            Box::new(|r| r.set_fault(Some(OcspFault::Body(vec![0; 30_000])))),
            "sent more than the 20480-byte limit",
        ),
        (
            Box::new(|r| r.set_fault(Some(OcspFault::Body(vec![0x30, 0x03, 0x0a, 0x01, 0x03])))),
            "ocsp: error from server: try later",
        ),
    ];
    for (setup, want) in cases {
        r.set_signer(delegated());
        r.set_times(
            NOW - time::Duration::hours(1),
            Some(NOW + time::Duration::hours(1)),
        );
        r.set_fault(None);
        setup(&r);
        let got = check_leaf(&r.url(), &ctx()).await;
        assert_eq!(got.status, Unknown, "{want}");
        let detail = got.detail.unwrap_or_default();
        assert!(detail.contains(want), "{detail} does not contain {want}");
    }
}

#[tokio::test]
async fn a_hanging_responder_ends_within_the_timeout() {
    let r = responder(OcspAnswer::Good).await;
    r.set_fault(Some(OcspFault::Hang));
    let chain = ocsp_chain();
    let checker = checker_for(&r.url(), Duration::from_millis(300));
    let started = std::time::Instant::now();
    let got = checker.check(&chain[0], &chain[1], &ctx()).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(got.status, Unknown);
    let detail = got.detail.unwrap_or_default();
    assert!(
        detail.contains("exceeded timeout threshold of 0.30 seconds for OCSP check"),
        "{detail}"
    );
}

#[tokio::test]
async fn a_whole_check_is_bounded_whatever_its_urls() {
    // Four hanging responders and a hanging CRL: each request times out,
    // the whole check ends after four timeouts.
    let server = FileServer::start().await;
    server.hang("/root.crl");
    let r = responder(OcspAnswer::Good).await;
    r.set_fault(Some(OcspFault::Hang));
    let urls: Vec<String> = (0..4).map(|i| format!("http://ocsp{i}.test")).collect();
    let p = pki(&["http://crl.test/root.crl".into()], &urls);
    let mut rewrites: Vec<(String, String)> = urls.iter().map(|u| (u.clone(), r.url())).collect();
    rewrites.push(("http://crl.test".into(), server.base()));
    let checker = Checker::new(RevocationSettings {
        timeout: Duration::from_millis(200),
        url_rewrite: rewrites.into_iter().collect(),
        ..settings(RevocationMode::Online)
    })
    .unwrap();
    let started = std::time::Instant::now();
    let got = checker.check(&cert(&p.leaf), &cert(&p.root), &ctx()).await;
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(790) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    assert_eq!(got.status, Unknown);
    assert_eq!(
        got.detail.as_deref(),
        Some("the revocation check did not finish within 800ms")
    );
}

#[tokio::test]
async fn an_invalidity_date_after_the_authentic_signing_time_is_no_revocation() {
    let invalid_since = datetime!(2030-05-10 0:00 UTC);
    let r = responder(revoked_at(Some(invalid_since))).await;
    let at = |signed| RevocationContext {
        now: NOW,
        authentic_signing_time: signed,
    };
    let before = check_leaf(&r.url(), &at(Some(datetime!(2030-05-09 0:00 UTC)))).await;
    assert_eq!(before.status, Good);
    let after = check_leaf(&r.url(), &at(Some(datetime!(2030-05-11 0:00 UTC)))).await;
    assert_eq!(after.status, Revoked);
    // notary.x509 signatures have no authentic signing time.
    assert_eq!(check_leaf(&r.url(), &at(None)).await.status, Revoked);
}

#[tokio::test]
async fn the_first_definitive_answer_wins() {
    let good = responder(OcspAnswer::Good).await;
    let unknown = responder(OcspAnswer::Unknown).await;
    let urls = [
        "http://ocsp1.test".to_string(),
        "http://ocsp2.test".to_string(),
    ];
    let p = pki(&[], &urls);
    let issuer_signed = |r: &OcspResponder| {
        r.set_signer(OcspSigner::issuer(&p.root.der, &p.root.key.pkcs8_pem()));
    };
    issuer_signed(&good);
    issuer_signed(&unknown);
    let run = |first: String, second: String| {
        let (leaf, root) = (cert(&p.leaf), cert(&p.root));
        let urls = urls.clone();
        async move {
            let checker = Checker::new(RevocationSettings {
                url_rewrite: [(urls[0].clone(), first), (urls[1].clone(), second)].into(),
                ..settings(RevocationMode::Online)
            })
            .unwrap();
            checker.check(&leaf, &root, &ctx()).await.status
        }
    };
    assert_eq!(run(closed_port_url(), good.url()).await, Good);
    assert_eq!(run(unknown.url(), good.url()).await, Unknown);
    assert_eq!(
        good.requests().len(),
        1,
        "the unknown answer ended the check"
    );
}

#[tokio::test]
async fn ocsp_without_a_good_or_revoked_answer_falls_back_to_crls() {
    let server = FileServer::start().await;
    let p = pki(
        &["http://crl.test/root.crl".into()],
        &["http://ocsp.test".into()],
    );
    let r = OcspResponder::start(OcspSigner::issuer(&p.root.der, &p.root.key.pkcs8_pem())).await;
    r.set_times(
        NOW - time::Duration::hours(1),
        Some(NOW + time::Duration::hours(1)),
    );
    let crl = TestCrl::new(
        &p.root.der,
        datetime!(2030-05-01 0:00 UTC),
        datetime!(2030-07-01 0:00 UTC),
    )
    .revoke(RevokedEntry::new(
        &serial_of(&p.leaf.der),
        datetime!(2030-05-01 0:00 UTC),
    ))
    .sign(&signer(&p.root));
    server.put("/root.crl", crl);
    let checker = || {
        Checker::new(RevocationSettings {
            url_rewrite: [
                ("http://crl.test".to_string(), server.base()),
                ("http://ocsp.test".to_string(), r.url()),
            ]
            .into(),
            ..settings(RevocationMode::Online)
        })
        .unwrap()
    };
    let (leaf, root) = (cert(&p.leaf), cert(&p.root));
    // A good answer ends the check: the CRL is not read.
    r.set_default(OcspAnswer::Good);
    assert_eq!(checker().check(&leaf, &root, &ctx()).await.status, Good);
    assert!(server.requests().is_empty());
    // "unknown" and failures fall back to the CRL.
    r.set_default(OcspAnswer::Unknown);
    assert_eq!(checker().check(&leaf, &root, &ctx()).await.status, Revoked);
    assert_eq!(server.requests().len(), 1);
    r.set_fault(Some(OcspFault::Status(500)));
    let failing = checker();
    let got = failing.check(&leaf, &root, &ctx()).await;
    assert_eq!(got.status, Revoked, "{got:?}");
    assert_eq!(server.requests().len(), 2);
    let detail = got.detail.unwrap_or_default();
    assert!(detail.contains("answered with status code 500; revoked according to the CRL of http://crl.test/root.crl"), "{detail}");
    // Once cached, a current CRL answers before OCSP is asked.
    let asked = r.requests().len();
    assert_eq!(failing.check(&leaf, &root, &ctx()).await.status, Revoked);
    assert_eq!(r.requests().len(), asked);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn large_requests_are_posted() {
    // SHA-1 CertIDs are small, so notation's POST branch is reached only
    // with long serials; the responder answers either way.
    let r = responder(OcspAnswer::Good).await;
    let chain = ocsp_chain();
    let http = crate::notary::revocation::http::Http::new(&RevocationSettings {
        url_rewrite: [("http://localhost:10087".to_string(), r.url())].into(),
        ..settings(RevocationMode::Online)
    })
    .unwrap();
    let request =
        crate::notary::revocation::ocsp_der::create_request(&chain[0], &chain[1]).unwrap();
    let body = http
        .post(
            "http://localhost:10087",
            "application/ocsp-request",
            request,
            20 << 10,
        )
        .await
        .unwrap();
    let parsed =
        crate::notary::revocation::ocsp_der::parse_response_for_cert(&body, &chain[0], &chain[1])
            .unwrap();
    assert_eq!(
        parsed.status,
        crate::notary::revocation::ocsp_der::CertStatus::Good
    );
    assert_eq!(r.requests()[0].method, Method::POST);
}
