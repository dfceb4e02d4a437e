//! Rekor SETs (the `dev.sigstore.cosign/bundle` annotation) and entry
//! bodies: parsing arbitrary bytes never panics; a bundle that parses has a
//! canonical payload that is stable under re-canonicalisation and says what
//! was parsed, and writing the parsed bundle back out parses to the same
//! bundle; a body that parses can be checked against anything without
//! panicking; the RFC 8785 canonicaliser is idempotent on any JSON.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use libfuzzer_sys::fuzz_target;
use pullgate_verify::cosign::jcs;
use pullgate_verify::cosign::rekor::{RekorBody, RekorBundle, SignedBy};
use pullgate_verify::x509::PublicKey;

fuzz_target!(|data: &[u8]| {
    if let Ok(b) = RekorBundle::parse(data) {
        if let Ok(c) = b.canonical_payload() {
            let v: serde_json::Value = serde_json::from_str(&c).expect("canonical JSON parses");
            assert_eq!(v["body"].as_str(), Some(b.body.as_str()));
            assert_eq!(v["integratedTime"].as_i64(), Some(b.integrated_time));
            assert_eq!(v["logIndex"].as_i64(), Some(b.log_index));
            assert_eq!(v["logID"].as_str(), Some(b.log_id.as_str()));
            assert_eq!(jcs::canonicalize(&v).as_deref(), Ok(c.as_str()));
        }
        let written = serde_json::json!({
            "SignedEntryTimestamp": STANDARD.encode(&b.signed_entry_timestamp),
            "Payload": {"body": b.body, "integratedTime": b.integrated_time,
                        "logIndex": b.log_index, "logID": b.log_id},
        })
        .to_string();
        assert_eq!(RekorBundle::parse(written.as_bytes()), Ok(b.clone()));
        let _ = b.verify(&[]);
    }
    if let Ok(body) = RekorBody::parse(data) {
        let key = PublicKey::Ed25519(vec![0; 32]);
        let _ = body.check(&body.signature, SignedBy::Key(&key), data);
        let _ = body.check(data, SignedBy::Key(&key), data);
    }
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data)
        && let Ok(c) = jcs::canonicalize(&v)
    {
        let again: serde_json::Value = serde_json::from_str(&c).expect("canonical JSON parses");
        assert_eq!(jcs::canonicalize(&again).as_deref(), Ok(c.as_str()));
    }
});
