//! `WWW-Authenticate` headers from a registry: parsing never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pullgate_registry::{Challenge, parse_challenges};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(Challenge::Bearer { realm, .. }) = parse_challenges(s.split('\n')) {
        assert!(!realm.is_empty());
    }
});
