//! Cosign simple-signing payloads: parsing arbitrary bytes never panics, and
//! whatever parses is what a plain JSON reading of the same bytes says (no
//! duplicated key can make the two disagree), with a digest that prints back
//! to the text it was read from.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pullgate_registry::Digest;
use pullgate_verify::cosign::payload::{self, MAX_PAYLOAD_BYTES, SIMPLE_SIGNING_TYPE};

fuzz_target!(|data: &[u8]| {
    let Ok(p) = payload::parse(data) else {
        return;
    };
    assert!(data.len() as u64 <= MAX_PAYLOAD_BYTES);
    let v: serde_json::Value = serde_json::from_slice(data).expect("parsed payload is JSON");
    let critical = &v["critical"];
    assert_eq!(critical["type"], SIMPLE_SIGNING_TYPE);
    let digest = critical["image"]["docker-manifest-digest"]
        .as_str()
        .expect("digest is a string");
    assert_eq!(p.manifest_digest.to_string(), digest);
    assert_eq!(
        digest.parse::<Digest>().ok(),
        Some(p.manifest_digest.clone())
    );
    assert_eq!(
        critical["identity"]["docker-reference"].as_str(),
        Some(p.docker_reference.as_str())
    );
    match (&v["optional"], &p.optional) {
        (serde_json::Value::Null, None) => {}
        (serde_json::Value::Object(a), Some(b)) => assert_eq!(a, b),
        other => panic!("optional disagrees: {other:?}"),
    }
    assert_eq!(payload::parse(data), Ok(p));
});
