//! Helpers shared by the signer's own tests: upstream vectors, decoding
//! envelopes back, verifying signatures.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ciborium::Value as CborValue;
use pullgate_registry::Descriptor;
use pullgate_registry::media_types as mt;
use serde_json::Value;

use super::{Algorithm, TestKey, verification_algorithm};

pub const ALPINE_JWS: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/vectors/notation/envelopes/notation-go-alpine/jws_signature.sig"
));
pub const ALPINE_COSE: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/vectors/notation/envelopes/notation-go-alpine/cose_signature.sig"
));
pub const TIMESTAMP_JWS: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/vectors/notation/envelopes/notation-go-timestamp/jwsWithTimestamp.sig"
));
pub const TIMESTAMP_COSE: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/vectors/notation/envelopes/notation-go-timestamp/coseWithTimestamp.sig"
));
pub const MOCK_SA_VALID: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/vectors/notation/envelopes/notation-go-mock/sa_valid_sig_env.json"
));
pub const MOCK_PLUGIN: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/vectors/notation/envelopes/notation-go-mock/ca_compatible_pluginver_sig_env_1.0.0.json"
));
pub const E2E_SIGNATURE_MANIFEST: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/vectors/notation/oci-layouts/notation-e2e/e2e-valid-signature/blobs/sha256/90ceaff260d657d797c408ac73564a9c7bb9d86055877c2a811f0e63b8c6524f"
));
pub const E2E_ENVELOPE: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/vectors/notation/oci-layouts/notation-e2e/e2e-valid-signature/blobs/sha256/c9af07e038b2b1a463e648986ad7273157511ffeba0b689f33e5472bae471f50"
));
pub const E2E_REFERRERS_INDEX: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/vectors/notation/oci-layouts/notation-e2e/e2e-valid-signature/blobs/sha256/13e107e0dd246f07ff18998a3d39e226965c41477a1bc1765f7617632ff3f283"
));

/// The artifact the alpine vectors sign.
pub fn alpine_target() -> Descriptor {
    let digest = "sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0";
    Descriptor::new(mt::OCI_MANIFEST, digest.parse().unwrap(), 481)
}

pub fn b64url(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s).unwrap()
}

pub fn b64std(s: &str) -> Vec<u8> {
    STANDARD.decode(s).unwrap()
}

/// True when `signature` over `msg` verifies with `key` under `alg`.
pub fn verifies(key: &TestKey, alg: Algorithm, msg: &[u8], signature: &[u8]) -> bool {
    let pk = key.public_key_raw();
    aws_lc_rs::signature::UnparsedPublicKey::new(verification_algorithm(key.kind(), alg), &pk)
        .verify(msg, signature)
        .is_ok()
}

/// A JWS envelope taken apart.
pub struct Jws {
    pub envelope: Value,
    pub protected_b64: String,
    pub payload_b64: String,
    pub protected_raw: Vec<u8>,
    pub protected: Value,
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
}

impl Jws {
    pub fn parse(bytes: &[u8]) -> Jws {
        let envelope: Value = serde_json::from_slice(bytes).unwrap();
        let protected_b64 = envelope["protected"].as_str().unwrap().to_string();
        let payload_b64 = envelope["payload"].as_str().unwrap().to_string();
        let protected_raw = b64url(&protected_b64);
        Jws {
            protected: serde_json::from_slice(&protected_raw).unwrap(),
            protected_raw,
            payload: b64url(&payload_b64),
            signature: b64url(envelope["signature"].as_str().unwrap()),
            envelope,
            protected_b64,
            payload_b64,
        }
    }

    pub fn signing_input(&self) -> Vec<u8> {
        format!("{}.{}", self.protected_b64, self.payload_b64).into_bytes()
    }

    pub fn header_keys(&self) -> Vec<String> {
        keys(&self.envelope["header"])
    }

    pub fn protected_keys(&self) -> Vec<String> {
        keys(&self.protected)
    }
}

/// Object keys, sorted.
pub fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

/// A COSE_Sign1 envelope taken apart.
pub struct Cose {
    pub tag: u64,
    pub protected_raw: Vec<u8>,
    pub protected: Vec<(CborValue, CborValue)>,
    pub unprotected: Vec<(CborValue, CborValue)>,
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
}

impl Cose {
    pub fn parse(bytes: &[u8]) -> Cose {
        let value: CborValue = ciborium::from_reader(bytes).unwrap();
        let CborValue::Tag(tag, inner) = value else {
            panic!("not tagged: {value:?}")
        };
        let CborValue::Array(items) = *inner else {
            panic!("not an array")
        };
        let [protected, unprotected, payload, signature]: [CborValue; 4] =
            items.try_into().unwrap();
        let protected_raw = protected.into_bytes().unwrap();
        let protected: CborValue = ciborium::from_reader(protected_raw.as_slice()).unwrap();
        Cose {
            tag,
            protected: protected.into_map().unwrap(),
            protected_raw,
            unprotected: unprotected.into_map().unwrap(),
            payload: payload.into_bytes().unwrap(),
            signature: signature.into_bytes().unwrap(),
        }
    }

    pub fn protected(&self, label: &str) -> Option<&CborValue> {
        find(&self.protected, label)
    }

    pub fn unprotected(&self, label: &str) -> Option<&CborValue> {
        find(&self.unprotected, label)
    }
}

/// The labels of a header map as strings (`1`, `33`, `io.cncf…`), in order.
pub fn labels(map: &[(CborValue, CborValue)]) -> Vec<String> {
    map.iter().map(|(k, _)| label(k)).collect()
}

fn label(k: &CborValue) -> String {
    match k {
        CborValue::Integer(i) => i128::from(*i).to_string(),
        CborValue::Text(t) => t.clone(),
        other => panic!("unexpected label {other:?}"),
    }
}

fn find<'a>(map: &'a [(CborValue, CborValue)], l: &str) -> Option<&'a CborValue> {
    map.iter().find(|(k, _)| label(k) == l).map(|(_, v)| v)
}
