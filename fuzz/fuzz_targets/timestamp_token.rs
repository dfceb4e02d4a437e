//! RFC 3161 timestamp tokens from envelopes: parsing, reading the TSTInfo
//! and checking it never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pullgate_verify::notary::tsp;

fuzz_target!(|data: &[u8]| {
    if let Ok(token) = tsp::parse(data)
        && let Ok(info) = token.info()
    {
        let _ = info.validate(b"notation");
        assert!(token.verify(&[], info.gen_time()).is_err());
    }
});
