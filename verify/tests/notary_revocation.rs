#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Revocation through the whole per-signature pipeline: envelopes signed
//! with the revocation vectors' leaf keys (notation's e2e CRL and OCSP
//! chains), checked by the real `Checker` against CRLs in `crl_dir`, CRLs
//! served on 127.0.0.1, and an in-process OCSP responder; notation's
//! messages and the trust policy's levels and override decide.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::*;
use pullgate_policy::{Action, TrustPolicyDocument, TrustStoreRef, ValidationType};
use pullgate_registry::Descriptor;
use pullgate_testsupport::notary::{
    EnvelopeFormat, SignOptions, SigningScheme, TestCert, TestKey, sign,
};
use pullgate_testsupport::{
    FileServer, OcspAnswer, OcspResponder, OcspSigner, TestImage, pem_certs,
};
use pullgate_verify::notary::revocation::{Checker, RevocationMode, RevocationSettings};
use pullgate_verify::notary::{Context, Outcome, RevocationChecker, TrustStores, signature};
use pullgate_verify::x509::Cert;
use time::OffsetDateTime;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2030-06-01 00:00:00 UTC);
const SIGNED: OffsetDateTime = datetime!(2030-05-31 12:00:00 UTC);
const CRL_LEAF: &str = "CN=LeafCert,OU=OrgUnit,O=Organization,L=City,ST=State,C=US";
const CRL_INTERMEDIATE: &str = "CN=IntermediateCA,OU=OrgUnit,O=Organization,L=City,ST=State,C=US";

fn text(rel: &str) -> String {
    String::from_utf8(read(&format!("revocation/{rel}"))).unwrap()
}

/// A vector chain (PEM, leaf first) as test-signer certificates, signing
/// with `key` (the leaf's).
fn chain(pem: &str, key: &str) -> Vec<TestCert> {
    let key = Arc::new(TestKey::from_pkcs8_pem(&text(key)));
    pem_certs(&text(pem))
        .into_iter()
        .map(|der| TestCert::external(der, Arc::clone(&key)))
        .collect()
}

fn crl_chain() -> Vec<TestCert> {
    chain(
        "notation-e2e-crl/certchain_with_crl.pem",
        "notation-e2e-crl/leaf.key",
    )
}

fn ocsp_chain() -> Vec<TestCert> {
    chain(
        "notation-e2e-ocsp/certchain_with_ocsp.pem",
        "notation-e2e-ocsp/leaf.key",
    )
}

/// Store `ca:test` and `signingAuthority:test` holding the chain's root.
fn trust(chain: &[TestCert]) -> TrustStores {
    let root = Cert::from_der(&chain.last().unwrap().der).unwrap();
    let mut s = TrustStores::default();
    for store in ["ca:test", "signingAuthority:test"] {
        let r: TrustStoreRef = store.parse().unwrap();
        s.insert(&r, vec![root.clone()]);
    }
    s
}

fn level(level: &str, extra: &str) -> TrustPolicyDocument {
    statement(level, &["ca:test", "signingAuthority:test"], &["*"], extra)
}

fn target() -> Descriptor {
    TestImage::new("revocation").descriptor()
}

async fn verify(
    doc: &TrustPolicyDocument,
    chain: &[TestCert],
    scheme: SigningScheme,
    checker: &dyn RevocationChecker,
) -> Outcome {
    verify_trusting(doc, chain, &trust(chain), scheme, checker).await
}

async fn verify_trusting(
    doc: &TrustPolicyDocument,
    chain: &[TestCert],
    stores: &TrustStores,
    scheme: SigningScheme,
    checker: &dyn RevocationChecker,
) -> Outcome {
    let refs: Vec<&TestCert> = chain.iter().collect();
    let opts = SignOptions {
        signing_time: SIGNED,
        scheme,
        ..SignOptions::new(EnvelopeFormat::Jws)
    };
    let env = sign(&target(), &refs, &opts);
    let target = target();
    let ctx = Context {
        policy: &doc.statements()[0],
        stores,
        revocation: checker,
        now: NOW,
        target: &target,
    };
    signature::verify(env.media_type, &env.bytes, &ctx).await
}

fn offline_with(files: &[&str]) -> (tempfile::TempDir, Checker) {
    let dir = tempfile::tempdir().unwrap();
    for f in files {
        std::fs::write(
            dir.path().join(f),
            read(&format!("revocation/notation-e2e-crl/{f}")),
        )
        .unwrap();
    }
    let checker = offline(dir.path());
    (dir, checker)
}

fn offline(dir: &Path) -> Checker {
    Checker::new(RevocationSettings {
        mode: RevocationMode::Offline,
        crl_dir: Some(dir.to_path_buf()),
        ..RevocationSettings::default()
    })
    .unwrap()
}

fn revocation_result(o: &Outcome) -> Option<(Action, Option<String>)> {
    o.results
        .iter()
        .find(|r| r.kind == ValidationType::Revocation)
        .map(|r| (r.action, r.error.clone()))
}

#[tokio::test]
async fn strict_with_crls_in_crl_dir() {
    let chain = crl_chain();
    let (_d, ok) = offline_with(&["leaf.crl", "intermediate.crl"]);
    let o = verify(&level("strict", ""), &chain, SigningScheme::X509, &ok).await;
    assert!(o.verified(), "{}", failure(&o));
    assert_eq!(revocation_result(&o), Some((Action::Enforce, None)));

    let (_d, leaf_revoked) = offline_with(&["leaf_revoked.crl", "intermediate.crl"]);
    let o = verify(
        &level("strict", ""),
        &chain,
        SigningScheme::X509,
        &leaf_revoked,
    )
    .await;
    assert_eq!(
        failure(&o),
        format!(
            "revocation validation failed: signing certificate with subject \"{CRL_LEAF}\" is revoked"
        )
    );

    let (_d, intermediate_revoked) = offline_with(&["leaf.crl", "intermediate_revoked.crl"]);
    let o = verify(
        &level("strict", ""),
        &chain,
        SigningScheme::X509,
        &intermediate_revoked,
    )
    .await;
    assert_eq!(
        failure(&o),
        format!(
            "revocation validation failed: signing certificate with subject \"{CRL_INTERMEDIATE}\" is revoked"
        )
    );
}

#[tokio::test]
async fn unknown_fails_strict_and_is_logged_by_permissive_and_audit() {
    let chain = crl_chain();
    // The expired leaf CRL gives no status for the leaf.
    let (_d, checker) = offline_with(&["leaf_expired.crl", "intermediate.crl"]);
    let unknown =
        format!("signing certificate with subject \"{CRL_LEAF}\" revocation status is unknown");
    let o = verify(&level("strict", ""), &chain, SigningScheme::X509, &checker).await;
    assert_eq!(
        failure(&o),
        format!("revocation validation failed: {unknown}")
    );
    for lenient in ["permissive", "audit"] {
        let o = verify(&level(lenient, ""), &chain, SigningScheme::X509, &checker).await;
        assert!(o.verified(), "{lenient}: {}", failure(&o));
        assert_eq!(
            revocation_result(&o),
            Some((Action::Log, Some(unknown.clone()))),
            "{lenient}"
        );
    }
}

#[tokio::test]
async fn the_revocation_override_skip_does_not_check() {
    let chain = crl_chain();
    let (_d, revoked) = offline_with(&["leaf_revoked.crl", "intermediate.crl"]);
    let skip = level("strict", r#","override":{"revocation":"skip"}"#);
    let o = verify(&skip, &chain, SigningScheme::X509, &revoked).await;
    assert!(o.verified(), "{}", failure(&o));
    assert_eq!(revocation_result(&o), None);
}

#[tokio::test]
async fn strict_with_downloaded_crls() {
    let chain = crl_chain();
    let server = FileServer::start().await;
    server.put(
        "/leaf.crl",
        read("revocation/notation-e2e-crl/leaf_revoked.crl"),
    );
    server.put(
        "/intermediate.crl",
        read("revocation/notation-e2e-crl/intermediate.crl"),
    );
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let checker = Checker::new(RevocationSettings {
        url_rewrite: [
            (
                "http://localhost:10086/".to_string(),
                format!("{}/", server.base()),
            ),
            (
                "http://localhost.test/".to_string(),
                format!("http://{closed}/"),
            ),
        ]
        .into(),
        ..RevocationSettings::default()
    })
    .unwrap();
    let o = verify(&level("strict", ""), &chain, SigningScheme::X509, &checker).await;
    assert_eq!(
        failure(&o),
        format!(
            "revocation validation failed: signing certificate with subject \"{CRL_LEAF}\" is revoked"
        )
    );
}

async fn ocsp_checker(answer: OcspAnswer) -> (OcspResponder, Checker) {
    let responder = OcspResponder::start(OcspSigner::delegated(
        &pem_certs(&text("notation-e2e-ocsp/ocsp.crt"))[0],
        &text("notation-e2e-ocsp/ocsp.key"),
    ))
    .await;
    responder.set_default(answer);
    responder.set_times(
        datetime!(2030-05-31 00:00 UTC),
        Some(datetime!(2030-06-02 00:00 UTC)),
    );
    let checker = Checker::new(RevocationSettings {
        url_rewrite: [("http://localhost:10087".to_string(), responder.url())].into(),
        ..RevocationSettings::default()
    })
    .unwrap();
    (responder, checker)
}

#[tokio::test]
async fn strict_with_ocsp() {
    let chain = ocsp_chain();
    let leaf = "CN=LeafCert,OU=OrgUnit,O=Organization,L=City,ST=State,C=US";
    let (_r, good) = ocsp_checker(OcspAnswer::Good).await;
    let o = verify(&level("strict", ""), &chain, SigningScheme::X509, &good).await;
    assert!(o.verified(), "{}", failure(&o));
    let revoked = OcspAnswer::Revoked {
        at: datetime!(2030-05-01 00:00 UTC),
        reason: Some(1),
        invalidity_date: Some(datetime!(2030-05-31 18:00 UTC)),
    };
    let (_r, checker) = ocsp_checker(revoked).await;
    let o = verify(&level("strict", ""), &chain, SigningScheme::X509, &checker).await;
    assert_eq!(
        failure(&o),
        format!(
            "revocation validation failed: signing certificate with subject \"{leaf}\" is revoked"
        )
    );
    // Signing-authority scheme: the key became invalid after the authentic
    // signing time, so this signature is not affected.
    let o = verify(
        &level("strict", ""),
        &chain,
        SigningScheme::SigningAuthority,
        &checker,
    )
    .await;
    assert!(o.verified(), "{}", failure(&o));
    // Offline, the OCSP-only leaf's status is unknown.
    let empty = tempfile::tempdir().unwrap();
    let o = verify(
        &level("strict", ""),
        &chain,
        SigningScheme::X509,
        &offline(empty.path()),
    )
    .await;
    assert_eq!(
        failure(&o),
        format!(
            "revocation validation failed: signing certificate with subject \"{leaf}\" revocation status is unknown"
        )
    );
}

/// At `audit`, a chain no trust store vouches for is logged as untrusted,
/// and its CRL and OCSP URLs (chosen by whoever made it) are not fetched;
/// a trusted chain's are.
#[tokio::test]
async fn an_untrusted_chain_at_audit_does_not_make_the_node_fetch_its_urls() {
    let chain = crl_chain();
    let server = FileServer::start().await;
    server.put("/leaf.crl", read("revocation/notation-e2e-crl/leaf.crl"));
    server.put(
        "/intermediate.crl",
        read("revocation/notation-e2e-crl/intermediate.crl"),
    );
    let checker = Checker::new(RevocationSettings {
        url_rewrite: [(
            "http://localhost:10086/".to_string(),
            format!("{}/", server.base()),
        )]
        .into(),
        ..RevocationSettings::default()
    })
    .unwrap();
    let audit = level("audit", "");
    let others = trust(&ocsp_chain());
    let o = verify_trusting(&audit, &chain, &others, SigningScheme::X509, &checker).await;
    assert!(o.verified(), "{}", failure(&o));
    let (action, error) = revocation_result(&o).unwrap();
    assert_eq!(action, Action::Log);
    assert!(
        error
            .unwrap()
            .starts_with("not checked: the certificate chain is not trusted")
    );
    assert!(server.requests().is_empty(), "{:?}", server.requests());

    // Trusted, the same chain's CRLs are downloaded.
    let o = verify(&audit, &chain, SigningScheme::X509, &checker).await;
    assert!(o.verified(), "{}", failure(&o));
    assert_eq!(revocation_result(&o), Some((Action::Log, None)));
    assert!(!server.requests().is_empty());
}
