//! Test fixtures: the revocation vectors, synthetic PKIs with revocation
//! pointers, and checker settings.

use std::path::PathBuf;

use pullgate_testsupport::PkixSigner;
use pullgate_testsupport::notary::{CertSpec, TestCert, TestPki};
use time::OffsetDateTime;
use time::macros::datetime;

use super::{RevocationContext, RevocationMode, RevocationSettings};
use crate::x509::{Cert, parse_certificates};

/// The verification time of these tests (every vector is valid then).
pub(crate) const NOW: OffsetDateTime = datetime!(2030-06-01 00:00:00 UTC);

pub(crate) fn vector_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/vectors/notation/revocation")
        .join(rel)
}

pub(crate) fn vector(rel: &str) -> Vec<u8> {
    let p = vector_path(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

pub(crate) fn vector_text(rel: &str) -> String {
    String::from_utf8(vector(rel)).unwrap()
}

/// notation-e2e-crl: LeafCert → IntermediateCA → RootCA.
pub(crate) fn crl_chain() -> Vec<Cert> {
    parse_certificates(&vector("notation-e2e-crl/certchain_with_crl.pem")).unwrap()
}

/// notation-e2e-ocsp: LeafCert → RootCA.
pub(crate) fn ocsp_chain() -> Vec<Cert> {
    parse_certificates(&vector("notation-e2e-ocsp/certchain_with_ocsp.pem")).unwrap()
}

pub(crate) fn ctx() -> RevocationContext {
    RevocationContext {
        now: NOW,
        authentic_signing_time: None,
    }
}

pub(crate) fn cert(c: &TestCert) -> Cert {
    Cert::from_der(&c.der).unwrap()
}

/// Signs CRLs (and OCSP responses) with `c`'s key.
pub(crate) fn signer(c: &TestCert) -> PkixSigner {
    PkixSigner::from_pkcs8(&c.key.pkcs8_der())
}

/// Root → leaf (serial 0x2000) with these CRL distribution points and OCSP
/// responders.
pub(crate) fn pki(crl_urls: &[String], ocsp_urls: &[String]) -> TestPki {
    let leaf = CertSpec {
        crl_urls: crl_urls.to_vec(),
        ocsp_urls: ocsp_urls.to_vec(),
        serial: Some(0x2000),
        ..CertSpec::leaf("Revocable Signer")
    };
    TestPki::build(leaf, 0)
}

pub(crate) fn settings(mode: RevocationMode) -> RevocationSettings {
    RevocationSettings {
        mode,
        timeout: std::time::Duration::from_secs(5),
        ..RevocationSettings::default()
    }
}

/// A URL on 127.0.0.1 where nothing listens.
pub(crate) fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}
