#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Certificates and trust stores from the vectors (README §3 and §6).

mod common;

use common::*;
use pullgate_verify::x509::{Cert, parse_certificates, validate_code_signing_chain};

fn certs(rel: &str) -> Vec<Cert> {
    parse_certificates(&read(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn certificate_files_in_every_encoding() {
    let dir = "certs/notation-core-go-x509";
    assert_eq!(certs(&format!("{dir}/pem.crt")).len(), 1);
    assert_eq!(certs(&format!("{dir}/der.der")).len(), 1);
    assert_eq!(
        certs(&format!("{dir}/pem.crt")),
        certs(&format!("{dir}/der.der"))
    );
    assert_eq!(certs(&format!("{dir}/multi-pem.crt")).len(), 2);
    assert_eq!(certs(&format!("{dir}/multi-der.der")).len(), 2);
    assert_eq!(
        certs(&format!("{dir}/openssl-minimum-self-signed.pem")).len(),
        1
    );
    assert!(parse_certificates(&read(&format!("{dir}/invalid"))).is_err());
    assert!(parse_certificates(b"").unwrap().is_empty());
    let gs = &certs(&format!("{dir}/pem.crt"))[0];
    assert_eq!(
        gs.subject(),
        "CN=GlobalSign,OU=GlobalSign Root CA - R3,O=GlobalSign"
    );
}

#[test]
fn timestamping_chain_is_not_a_code_signing_chain() {
    let dir = "certs/notation-core-go-x509";
    let chain: Vec<Cert> = [
        "timestamp_leaf.crt",
        "timestamp_intermediate.crt",
        "timestamp_root.crt",
    ]
    .iter()
    .flat_map(|f| certs(&format!("{dir}/{f}")))
    .collect();
    let err = validate_code_signing_chain(&chain).unwrap_err();
    assert!(
        err.contains("extended key usage must not contain Timestamping eku"),
        "{err}"
    );
}

#[test]
fn subjects_render_as_go_does() {
    let signing = &certs("certs/notation-go-verifier/signing-cert.pem")[0];
    assert_eq!(
        signing.subject(),
        "CN=SomeCN,OU=SomeOU,O=SomeOrg,L=Seattle,ST=WA,C=US"
    );
    let bad = &certs("certs/notation-go-verifier/bad-cert.pem")[0];
    assert!(bad.subject().contains("=#"), "{}", bad.subject());
}

#[test]
fn trust_stores_load_as_notation_loads_them() {
    let root = "truststores/notation-go";
    for ok in [
        "ca:valid-trust-store",
        "signingAuthority:valid-trust-store",
        "ca:valid-trust-store-2",
        "ca:valid-trust-store-self-signed",
        "tsa:test-timestamp",
        "tsa:test-mismatch",
    ] {
        store_from(root, ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    let (_, all) = store_from(root, "ca:valid-trust-store").unwrap();
    assert_eq!(all.len(), 6);
    let err = |s: &str| store_from(root, s).unwrap_err();
    let e = err("ca:trust-store-with-invalid-certs");
    assert_eq!(
        e.message,
        "failed to read the trusted certificate invalid in trust store trust-store-with-invalid-certs of type ca"
    );
    let e = err("ca:trust-store-with-leaf-certs");
    assert_eq!(
        e.message,
        "failed to validate the trusted certificate non-ca.crt in trust store trust-store-with-leaf-certs of type ca"
    );
    assert_eq!(
        e.detail.as_deref(),
        Some(
            "certificate with subject \"CN=wabbit-networks.io,O=Notary,L=Seattle,ST=WA,C=US\" is not a CA certificate or self-signed signing certificate"
        )
    );
    let e = err("ca:trust-store-with-leaf-certs-in-single-file");
    assert_eq!(
        e.message,
        "failed to validate the trusted certificate RootAndLeafCerts.crt in trust store trust-store-with-leaf-certs-in-single-file of type ca"
    );
    let e = err("tsa:test-nonCA");
    assert_eq!(
        e.message,
        "trusted certificate wabbit-networks.io.crt in trust store test-nonCA of type tsa is invalid: certificate with subject \"CN=wabbit-networks.io,O=Notary,L=Seattle,ST=WA,C=US\" is not a root CA certificate: x509: invalid signature: parent certificate cannot sign this kind of certificate"
    );
    let e = err("tsa:test-nonSelfIssued");
    assert!(
        e.message.ends_with("is not a root CA certificate: issuer (CN=Notation Test Revokable RSA Chain Cert Root,O=Notary,L=Seattle,ST=WA,C=US) and subject (CN=Notation Test Revokable RSA Chain Cert 2,O=Notary,L=Seattle,ST=WA,C=US) are not the same"),
        "{}",
        e.message
    );
}

#[test]
fn a_sub_directory_in_a_store_is_refused() {
    // The legacy layout sits directly under x509/; load it as a ca store.
    use pullgate_verify::keys::{ContentType, FileProvider, KeyProvider};
    use std::sync::Arc;
    let dir = vectors().join("truststores/notation-go/x509/trust-store-with-directories");
    let provider: Arc<dyn KeyProvider> =
        Arc::new(FileProvider::new("dirs", ContentType::Certificate, &dir));
    let store: pullgate_policy::TrustStoreRef = "ca:trust-store-with-directories".parse().unwrap();
    let e = pullgate_verify::notary::load_store(&store, &[provider]).unwrap_err();
    assert_eq!(
        e.message,
        "trusted certificate sub-dir in trust store trust-store-with-directories of type ca is not a regular file (directories or symlinks are not supported)"
    );
}

#[test]
fn crl_distribution_points_are_read_as_go_reads_them() {
    // Certificates whose distribution points hold non-URI names Go skips.
    for name in [
        "certificateWithIncompleteFreshestCRL.cer",
        "certificateWithIncompleteFreshestCRL2.cer",
        "certificateWithNonURIDeltaCRL.cer",
        "certificateWithDeltaCRL.cer",
    ] {
        let certs = parse_certificates(&read(&format!("revocation/notation-core-go-crl/{name}")))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!certs.is_empty(), "{name}");
    }
    let chain = certs("revocation/notation-e2e-crl/certchain_with_crl.pem");
    assert_eq!(chain[0].crl_urls(), ["http://localhost:10086/leaf.crl"]);
    assert_eq!(
        chain[1].crl_urls(),
        ["http://localhost:10086/intermediate.crl"]
    );
    assert_eq!(chain[1].ocsp_urls(), ["http://localhost.test/ocsp"]);
}
