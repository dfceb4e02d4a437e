//! Distinguished names: notation-go's DN parsing and Go's subject rendering never panic; a
//! parsed DN has non-empty C, ST and O; a rendered subject parses (or is rejected) without
//! panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pullgate_policy::dn::{AttrValue, go_name_string, go_quote, parse_distinguished_name};

/// The OIDs the renderer treats specially, plus two it does not.
const OIDS: [&str; 11] = [
    "2.5.4.3",
    "2.5.4.5",
    "2.5.4.6",
    "2.5.4.7",
    "2.5.4.8",
    "2.5.4.9",
    "2.5.4.10",
    "2.5.4.11",
    "2.5.4.17",
    "1.2.840.113549.1.9.1",
    "0.9.2342.19200300.100.1.25",
];

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(dn) = parse_distinguished_name(&text) {
        for key in ["C", "ST", "O"] {
            assert!(
                dn.get(key).is_some_and(|v| !v.is_empty()),
                "{key} missing in {text:?}"
            );
        }
    }
    let quoted = go_quote(&text);
    assert!(quoted.starts_with('"') && quoted.ends_with('"'));

    // Build a subject from the bytes: each chunk is (selector, value).
    let rdns: Vec<Vec<(String, AttrValue)>> = data
        .split(|&b| b == 0)
        .filter_map(|chunk| {
            let (&selector, value) = chunk.split_first()?;
            let oid = OIDS[usize::from(selector) % OIDS.len()].to_owned();
            let value = if selector & 0x80 != 0 {
                AttrValue::Der(value.to_vec())
            } else {
                AttrValue::Str(String::from_utf8_lossy(value).into_owned())
            };
            Some(vec![(oid, value)])
        })
        .collect();
    let rendered = go_name_string(&rdns);
    let _ = parse_distinguished_name(&rendered);
});
