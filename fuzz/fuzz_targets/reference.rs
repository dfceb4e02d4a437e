//! Image references and digests: parsing never panics, and a parsed
//! reference prints to a string that parses back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pullgate_registry::{Digest, ImageRef};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(r) = s.parse::<ImageRef>() {
        let printed = r.to_string();
        let again: ImageRef = printed.parse().expect("a printed reference parses");
        assert_eq!(again, r);
        assert!(!r.manifest_reference().is_empty());
    }
    if let Ok(d) = s.parse::<Digest>() {
        assert_eq!(d.to_string(), s);
    }
});
