//! Revocation data from the network, the CRL cache and `crl_dir`: CRL
//! files, distribution-point values and OCSP responses never panic the
//! parsers or the checks after them.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pullgate_verify::notary::revocation::fuzz_parsers;
use pullgate_verify::x509::{Cert, parse_certificates};

/// notation's e2e OCSP chain: LeafCert → RootCA.
fn chain() -> &'static [Cert] {
    static CHAIN: OnceLock<Vec<Cert>> = OnceLock::new();
    CHAIN.get_or_init(|| {
        let pem = include_bytes!(
            "../../../shared/vectors/notation/revocation/notation-e2e-ocsp/certchain_with_ocsp.pem"
        );
        parse_certificates(pem).unwrap_or_default()
    })
}

fuzz_target!(|data: &[u8]| {
    if let [leaf, root] = chain() {
        fuzz_parsers(data, leaf, root);
    }
});
