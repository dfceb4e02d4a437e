//! Delta CRLs: notation-core-go's FreshestCRL cases
//! (revocation/crl/fetcher_test.go, internal/crl) through the checker, and
//! synthetic base + delta pairs.

use pullgate_testsupport::{FileServer, RevokedEntry, TestCrl, first_pem_cert, serial_of};
use time::macros::datetime;

use super::*;
use crate::notary::revocation::cache::file_name;
use crate::notary::revocation::fixtures::{cert, crl_chain, pki, signer, vector_text};
use crate::notary::revocation::{CertResult, RevocationChecker};

const CDP: &str = "/ejbca/publicweb/webdist/certdist?cmd=crl&issuer=UID%3Dc-0nwwozqvawvao3ech%2CCN%3DManagementCA%2CO%3DEJBCA+Container+Quickstart";
const DELTA: &str = "/ejbca/publicweb/webdist/certdist?cmd=deltacrl&issuer=UID%3Dc-0nwwozqvawvao3ech%2CCN%3DManagementCA%2CO%3DEJBCA+Container+Quickstart";

fn core_go(name: &str) -> Cert {
    let der = first_pem_cert(&vector_text(&format!("notation-core-go-crl/{name}")));
    Cert::from_der(&der).unwrap()
}

/// Checks a notation-core-go certificate whose URLs (localhost:80) are
/// served by `server`; the issuer does not matter before validation.
async fn check_core_go(name: &str, server: &FileServer) -> CertResult {
    let rewrites = [("http://localhost:80/", format!("{}/", server.base()))];
    online(&rewrites, None, None)
        .check(&core_go(name), &crl_chain()[2], &ctx())
        .await
}

#[tokio::test]
async fn a_freshest_crl_in_the_certificate_alone_is_not_supported() {
    let server = FileServer::start().await;
    server.put(CDP, vector("notation-e2e-crl/leaf.crl"));
    let r = check_core_go("certificateWithDeltaCRL.cer", &server).await;
    assert_eq!(r.status, Status::Unknown);
    assert_eq!(
        r.detail.as_deref(),
        Some(
            "CRL (crl_freshest_in_certificate): freshest CRL from certificate extension is not supported"
        )
    );
}

#[tokio::test]
async fn a_base_crl_whose_delta_cannot_be_fetched() {
    let server = FileServer::start().await;
    server.put(
        CDP,
        vector("notation-core-go-crl/crlWithMultipleFreshestCRLs.crl"),
    );
    server.put(DELTA, &b"invalid crl"[..]);
    let r = check_core_go("certificateWith2DeltaCRL.cer", &server).await;
    assert_eq!(r.status, Status::Unknown);
    let detail = r.detail.unwrap_or_default();
    assert!(
        detail.ends_with("failed to retrieve CRL: x509: malformed crl"),
        "{detail}"
    );
    // The base CRL, then both delta URLs (the same one twice).
    assert_eq!(server.requests(), [CDP, DELTA, DELTA]);
}

#[tokio::test]
async fn a_fetched_delta_is_validated_with_its_base() {
    let server = FileServer::start().await;
    server.put(
        CDP,
        vector("notation-core-go-crl/crlWithMultipleFreshestCRLs.crl"),
    );
    server.put(DELTA, vector("notation-core-go-crl/delta.crl"));
    let r = check_core_go("certificateWithDeltaCRL.cer", &server).await;
    assert_eq!(r.status, Status::Unknown);
    let detail = r.detail.unwrap_or_default();
    assert!(detail.contains("failed to validate base CRL"), "{detail}");
    // The first delta URL answered: the second is not asked.
    assert_eq!(server.requests(), [CDP, DELTA]);
}

#[tokio::test]
async fn synthetic_base_and_delta_crls() {
    let p = pki(&["http://crl.test/base.crl".into()], &[]);
    let (leaf, root, key) = (cert(&p.leaf), cert(&p.root), signer(&p.root));
    let when = (
        datetime!(2030-05-01 0:00 UTC),
        datetime!(2030-07-01 0:00 UTC),
    );
    let base = TestCrl {
        number: Some(10),
        freshest: vec!["http://crl.test/delta.crl".into()],
        ..TestCrl::new(&p.root.der, when.0, when.1)
    };
    let delta = |number, of| TestCrl {
        number: Some(number),
        delta_of: Some(of),
        ..TestCrl::new(&p.root.der, when.0, when.1)
    };
    let revoking = delta(11, 10).revoke(RevokedEntry::new(&serial_of(&p.leaf.der), when.0));
    let cases = [
        (Some(revoking.sign(&key)), Status::Revoked, ""),
        (Some(delta(11, 10).sign(&key)), Status::Ok, ""),
        (None, Status::Unknown, "answered with status code 404"),
        (
            Some(delta(12, 11).sign(&key)),
            Status::Unknown,
            "delta CRL indicator 11 is not less than or equal to the base CRL number 10",
        ),
    ];
    for (delta, want, detail) in cases {
        let server = FileServer::start().await;
        server.put("/base.crl", base.sign(&key));
        if let Some(d) = delta {
            server.put("/delta.crl", d);
        }
        let cache = tempfile::tempdir().unwrap();
        let checker = online(
            &[("http://crl.test", server.base())],
            None,
            Some(cache.path()),
        );
        let r = checker.check(&leaf, &root, &ctx()).await;
        assert_eq!(r.status, want, "{r:?}");
        assert!(r.detail.unwrap_or_default().contains(detail));
        let cached = cache.path().join(file_name("http://crl.test/base.crl"));
        if want == Status::Unknown {
            assert!(!cached.exists(), "only validated bundles are cached");
        } else {
            let json: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&cached).unwrap()).unwrap();
            assert!(json["baseCRL"].is_string() && json["deltaCRL"].is_string());
        }
    }
}
