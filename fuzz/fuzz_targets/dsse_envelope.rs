//! DSSE envelopes and in-toto statements: parsing arbitrary bytes never
//! panics; a parsed envelope's PAE frames its payload; a parsed statement
//! has a subject.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pullgate_verify::cosign::dsse::{Envelope, parse_statement};

fuzz_target!(|data: &[u8]| {
    if let Ok(e) = Envelope::parse(data) {
        let pae = e.pae();
        assert!(pae.starts_with(b"DSSEv1 "));
        assert!(pae.ends_with(&e.payload));
        assert_eq!(e.single_signature().is_ok(), e.signatures.len() == 1);
        let _ = parse_statement(&e.payload);
    }
    if let Ok(s) = parse_statement(data) {
        assert!(!s.subjects.is_empty());
        let _ = s.has_subject_digest("sha256", &[0; 32]);
    }
});
