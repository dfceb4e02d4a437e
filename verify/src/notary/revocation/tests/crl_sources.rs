//! CRLs from `crl_dir`, from downloads and from the cache, with the e2e
//! vectors and synthetic CRLs.

use std::time::Duration;

use pullgate_testsupport::{
    FileServer, OcspAnswer, OcspResponder, OcspSigner, RevokedEntry, TestCrl, crl_pem, serial_of,
};
use time::macros::datetime;

use super::*;
use crate::notary::revocation::cache::file_name;
use crate::notary::revocation::fixtures::{
    NOW, cert, crl_chain, ocsp_chain, pki, signer, vector_text,
};
use crate::notary::revocation::{RevocationChecker, RevocationSetupError, final_result};

use Status::{NonRevokable, Ok as Good, Revoked, Unknown};

/// The e2e scenarios (notation test/e2e/suite/scenario/crl.go, plus the
/// expired CRL): leaf and intermediate CRL files, expected statuses.
const E2E: [(&str, &str, [Status; 3]); 4] = [
    ("leaf.crl", "intermediate.crl", [Good, Good, NonRevokable]),
    (
        "leaf_revoked.crl",
        "intermediate.crl",
        [Revoked, Good, NonRevokable],
    ),
    (
        "leaf.crl",
        "intermediate_revoked.crl",
        [Good, Revoked, NonRevokable],
    ),
    (
        "leaf_expired.crl",
        "intermediate.crl",
        [Unknown, Good, NonRevokable],
    ),
];

#[tokio::test]
async fn e2e_crls_from_crl_dir_offline() {
    let chain = crl_chain();
    for (leaf, intermediate, want) in E2E {
        let dir = crl_dir(&[
            ("a", vector(&format!("notation-e2e-crl/{leaf}"))),
            (
                "b.pem",
                crl_pem(&vector(&format!("notation-e2e-crl/{intermediate}"))).into_bytes(),
            ),
        ]);
        let got = statuses(&offline(dir.path()), &chain).await;
        assert_eq!(got, want, "{leaf} + {intermediate}");
    }
    let revoked = [Revoked, Good, NonRevokable];
    assert_eq!(
        final_result(&revoked, &chain),
        (Revoked, Some(chain[0].subject().to_string()))
    );
}

#[tokio::test]
async fn e2e_crls_downloaded_after_the_intermediates_ocsp_fails() {
    let chain = crl_chain();
    for (leaf, intermediate, want) in E2E {
        let server = e2e_crl_server(leaf, intermediate).await;
        let checker = online(&e2e_rewrites(&server), None, None);
        assert_eq!(
            statuses(&checker, &chain).await,
            want,
            "{leaf} + {intermediate}"
        );
        assert_eq!(server.requests(), ["/leaf.crl", "/intermediate.crl"]);
    }
    let server = e2e_crl_server("leaf.crl", "intermediate.crl").await;
    let checker = online(&e2e_rewrites(&server), None, None);
    let r = checker.check(&chain[1], &chain[2], &ctx()).await;
    assert_eq!(r.status, Good);
    let detail = r.detail.unwrap_or_default();
    assert!(detail.starts_with("OCSP http://localhost.test/ocsp (ocsp_http): error checking revocation status via OCSP: request to http://127.0.0.1:"), "{detail}");
}

#[tokio::test]
async fn downloaded_crls_are_cached_in_notations_format() {
    let chain = crl_chain();
    let cache = tempfile::tempdir().unwrap();
    let server = e2e_crl_server("leaf_revoked.crl", "intermediate.crl").await;
    let rewrites = e2e_rewrites(&server);
    let first = online(&rewrites, None, Some(cache.path()));
    assert_eq!(
        statuses(&first, &chain).await,
        [Revoked, Good, NonRevokable]
    );
    assert_eq!(server.requests().len(), 2);
    // Again: from memory, then from the files with a fresh checker.
    assert_eq!(
        statuses(&first, &chain).await,
        [Revoked, Good, NonRevokable]
    );
    let second = online(&rewrites, None, Some(cache.path()));
    assert_eq!(
        statuses(&second, &chain).await,
        [Revoked, Good, NonRevokable]
    );
    assert_eq!(server.requests().len(), 2, "the cache answered");
    let file = cache
        .path()
        .join(file_name("http://localhost:10086/leaf.crl"));
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let base = json["baseCRL"].as_str().unwrap();
    use base64::Engine as _;
    let der = base64::engine::general_purpose::STANDARD
        .decode(base)
        .unwrap();
    assert_eq!(der, vector("notation-e2e-crl/leaf_revoked.crl"));
    assert!(json.get("deltaCRL").is_none());
    // With the server gone, the cache still answers.
    drop(server);
    let third = online(&rewrites, None, Some(cache.path()));
    assert_eq!(
        statuses(&third, &chain).await,
        [Revoked, Good, NonRevokable]
    );
}

#[tokio::test]
async fn unreadable_or_stale_cache_files_are_misses() {
    let chain = crl_chain();
    let cache = tempfile::tempdir().unwrap();
    let leaf_url = "http://localhost:10086/leaf.crl";
    std::fs::write(cache.path().join(file_name(leaf_url)), b"{not json").unwrap();
    let stale =
        serde_json::json!({"baseCRL": base64_of(&vector("notation-e2e-crl/leaf_expired.crl"))});
    let inter_url = "http://localhost:10086/intermediate.crl";
    std::fs::write(cache.path().join(file_name(inter_url)), stale.to_string()).unwrap();
    let server = e2e_crl_server("leaf.crl", "intermediate.crl").await;
    let checker = online(&e2e_rewrites(&server), None, Some(cache.path()));
    assert_eq!(statuses(&checker, &chain).await, [Good, Good, NonRevokable]);
    assert_eq!(server.requests(), ["/leaf.crl", "/intermediate.crl"]);
}

fn base64_of(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

#[tokio::test]
async fn offline_mode_never_touches_the_network() {
    let server = e2e_crl_server("leaf.crl", "intermediate.crl").await;
    let responder = OcspResponder::start(OcspSigner::delegated(
        &pullgate_testsupport::first_pem_cert(&vector_text("notation-e2e-ocsp/ocsp.crt")),
        &vector_text("notation-e2e-ocsp/ocsp.key"),
    ))
    .await;
    responder.set_default(OcspAnswer::Good);
    let mut rewrites = e2e_rewrites(&server);
    rewrites.push(("http://localhost:10087", responder.url()));
    let empty = tempfile::tempdir().unwrap();
    let checker = Checker::new(crate::notary::revocation::RevocationSettings {
        crl_dir: Some(empty.path().to_path_buf()),
        url_rewrite: rewrites
            .iter()
            .map(|(f, t)| (f.to_string(), t.clone()))
            .collect(),
        ..settings(RevocationMode::Offline)
    })
    .unwrap();
    assert_eq!(
        statuses(&checker, &crl_chain()).await,
        [Unknown, Unknown, NonRevokable]
    );
    assert_eq!(
        statuses(&checker, &ocsp_chain()).await,
        [Unknown, NonRevokable]
    );
    let r = checker
        .check(&crl_chain()[0], &crl_chain()[1], &ctx())
        .await;
    assert_eq!(
        r.detail.as_deref(),
        Some(
            "no current CRL of CN=IntermediateCA,OU=OrgUnit,O=Organization,L=City,ST=State,C=US in crl_dir"
        )
    );
    assert!(server.requests().is_empty());
    assert!(responder.requests().is_empty());
}

#[tokio::test]
async fn crl_dir_answers_before_ocsp_online() {
    let responder_url = closed_port_url();
    let p = pki(
        &["http://crl.test/root.crl".into()],
        &[format!("{responder_url}/ocsp")],
    );
    let crl = TestCrl::new(
        &p.root.der,
        datetime!(2030-05-01 0:00 UTC),
        datetime!(2030-07-01 0:00 UTC),
    );
    let dir = crl_dir(&[("root.crl", crl.sign(&signer(&p.root)))]);
    let responder =
        OcspResponder::start(OcspSigner::issuer(&p.root.der, &p.root.key.pkcs8_pem())).await;
    responder.set_default(OcspAnswer::Revoked {
        at: NOW,
        reason: None,
        invalidity_date: None,
    });
    let checker = online(
        &[(responder_url.as_str(), responder.url())],
        Some(dir.path()),
        None,
    );
    let r = checker.check(&cert(&p.leaf), &cert(&p.root), &ctx()).await;
    assert_eq!(r.status, Good, "{r:?}");
    assert!(responder.requests().is_empty());
}

#[tokio::test]
async fn crl_dir_files_must_all_parse() {
    let good = vector("notation-e2e-crl/leaf.crl");
    let dir = crl_dir(&[("good.crl", good.clone()), ("notes.txt", b"hello".to_vec())]);
    std::fs::create_dir(dir.path().join("subdir")).unwrap();
    let err = Checker::new(crate::notary::revocation::RevocationSettings {
        crl_dir: Some(dir.path().to_path_buf()),
        ..settings(RevocationMode::Offline)
    })
    .unwrap_err();
    assert_eq!(err.reason(), "crl_file_invalid");
    assert_eq!(
        err.to_string(),
        format!(
            "crl_dir file {}: x509: malformed crl",
            dir.path().join("notes.txt").display()
        )
    );
    std::fs::remove_file(dir.path().join("notes.txt")).unwrap();
    assert!(
        Checker::new(crate::notary::revocation::RevocationSettings {
            crl_dir: Some(dir.path().to_path_buf()),
            ..settings(RevocationMode::Offline)
        })
        .is_ok()
    );
    let missing = Checker::new(crate::notary::revocation::RevocationSettings {
        crl_dir: Some(dir.path().join("nope")),
        ..settings(RevocationMode::Offline)
    });
    assert!(matches!(missing, Err(RevocationSetupError::CrlDir { .. })));
}

#[tokio::test]
async fn the_newest_current_crl_in_crl_dir_wins() {
    let p = pki(&["http://crl.test/root.crl".into()], &[]);
    let (leaf, root, key) = (cert(&p.leaf), cert(&p.root), signer(&p.root));
    let serial = serial_of(&p.leaf.der);
    let older = TestCrl {
        number: Some(1),
        ..TestCrl::new(
            &p.root.der,
            datetime!(2030-05-01 0:00 UTC),
            datetime!(2030-07-01 0:00 UTC),
        )
    }
    .revoke(RevokedEntry::new(&serial, datetime!(2030-04-01 0:00 UTC)).reason(6));
    let newer = TestCrl {
        number: Some(2),
        ..TestCrl::new(
            &p.root.der,
            datetime!(2030-05-15 0:00 UTC),
            datetime!(2030-07-01 0:00 UTC),
        )
    };
    let future = TestCrl {
        number: Some(3),
        ..TestCrl::new(
            &p.root.der,
            datetime!(2030-06-15 0:00 UTC),
            datetime!(2030-08-01 0:00 UTC),
        )
    }
    .revoke(RevokedEntry::new(&serial, datetime!(2030-04-01 0:00 UTC)));
    let check = |files: Vec<(&'static str, Vec<u8>)>| {
        let (leaf, root) = (leaf.clone(), root.clone());
        async move {
            let dir = crl_dir(&files);
            offline(dir.path()).check(&leaf, &root, &ctx()).await.status
        }
    };
    assert_eq!(check(vec![("old", older.sign(&key))]).await, Revoked);
    assert_eq!(
        check(vec![("old", older.sign(&key)), ("new", newer.sign(&key))]).await,
        Good
    );
    // A CRL that is not current yet does not count; neither does one
    // signed by another key.
    assert_eq!(
        check(vec![
            ("old", older.sign(&key)),
            ("future", future.sign(&key))
        ])
        .await,
        Revoked
    );
    let forged = newer.sign(&signer(&p.leaf));
    assert_eq!(
        check(vec![("old", older.sign(&key)), ("forged", forged)]).await,
        Revoked
    );
}

#[tokio::test]
async fn a_crl_dir_crl_must_cover_the_certificate() {
    let url = "http://crl.test/part1.crl".to_string();
    let p = pki(std::slice::from_ref(&url), &[]);
    let (leaf, root, key) = (cert(&p.leaf), cert(&p.root), signer(&p.root));
    let crl = |urls: &[String]| {
        TestCrl::new(
            &p.root.der,
            datetime!(2030-05-01 0:00 UTC),
            datetime!(2030-07-01 0:00 UTC),
        )
        .scoped_to(urls)
        .sign(&key)
    };
    let other = crl_dir(&[("p2", crl(&["http://crl.test/part2.crl".into()]))]);
    assert_eq!(
        offline(other.path())
            .check(&leaf, &root, &ctx())
            .await
            .status,
        Unknown
    );
    let own = crl_dir(&[("p1", crl(std::slice::from_ref(&url)))]);
    assert_eq!(
        offline(own.path()).check(&leaf, &root, &ctx()).await.status,
        Good
    );
}

#[tokio::test]
async fn a_crl_dir_base_that_announces_a_delta_needs_it() {
    let p = pki(&["http://crl.test/root.crl".into()], &[]);
    let (leaf, root, key) = (cert(&p.leaf), cert(&p.root), signer(&p.root));
    let when = (
        datetime!(2030-05-01 0:00 UTC),
        datetime!(2030-07-01 0:00 UTC),
    );
    let base = TestCrl {
        number: Some(10),
        freshest: vec!["http://crl.test/delta.crl".into()],
        ..TestCrl::new(&p.root.der, when.0, when.1)
    }
    .sign(&key);
    let delta = TestCrl {
        number: Some(11),
        delta_of: Some(10),
        ..TestCrl::new(&p.root.der, when.0, when.1)
    }
    .revoke(RevokedEntry::new(&serial_of(&p.leaf.der), when.0))
    .sign(&key);
    let alone = crl_dir(&[("base", base.clone())]);
    assert_eq!(
        offline(alone.path())
            .check(&leaf, &root, &ctx())
            .await
            .status,
        Unknown
    );
    let both = crl_dir(&[("base", base), ("delta", delta)]);
    assert_eq!(
        offline(both.path())
            .check(&leaf, &root, &ctx())
            .await
            .status,
        Revoked
    );
}

#[tokio::test]
async fn a_hanging_crl_server_ends_within_the_timeout() {
    let server = FileServer::start().await;
    server.hang("/leaf.crl");
    let checker = Checker::new(crate::notary::revocation::RevocationSettings {
        timeout: Duration::from_millis(300),
        url_rewrite: e2e_rewrites(&server)
            .into_iter()
            .map(|(f, t)| (f.to_string(), t))
            .collect(),
        ..settings(RevocationMode::Online)
    })
    .unwrap();
    let chain = crl_chain();
    let started = std::time::Instant::now();
    let r = checker.check(&chain[0], &chain[1], &ctx()).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(r.status, Unknown);
    let detail = r.detail.unwrap_or_default();
    assert!(detail.contains("did not answer within 300ms"), "{detail}");
}

#[tokio::test]
async fn redirects_are_followed_to_http_only() {
    let chain = crl_chain();
    let server = e2e_crl_server("leaf_revoked.crl", "intermediate.crl").await;
    server.put(
        "/moved/leaf.crl",
        vector("notation-e2e-crl/leaf_revoked.crl"),
    );
    server.redirect("/leaf.crl", &server.url("/moved/leaf.crl"));
    let checker = online(&e2e_rewrites(&server), None, None);
    assert_eq!(
        checker.check(&chain[0], &chain[1], &ctx()).await.status,
        Revoked
    );
    server.redirect("/leaf.crl", "https://127.0.0.1:1/leaf.crl");
    let checker = online(&e2e_rewrites(&server), None, None);
    let r = checker.check(&chain[0], &chain[1], &ctx()).await;
    assert_eq!(r.status, Unknown);
    let detail = r.detail.unwrap_or_default();
    assert!(detail.contains("answered with status code 302"), "{detail}");
}
