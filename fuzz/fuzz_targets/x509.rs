//! Certificates (from envelopes and trust-store files): parsing never
//! panics, and a parsed certificate answers every question asked of it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pullgate_verify::x509::{parse_certificates, validate_code_signing_chain};

fuzz_target!(|data: &[u8]| {
    if let Ok(certs) = parse_certificates(data) {
        for c in &certs {
            let _ = (c.subject(), c.issuer(), c.key_usage(), c.crl_urls(), c.ocsp_urls());
            assert!(c.not_before().unix_timestamp() > i64::MIN);
        }
        let _ = validate_code_signing_chain(&certs);
    }
});
