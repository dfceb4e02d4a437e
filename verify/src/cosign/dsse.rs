//! DSSE envelopes and the in-toto statements they carry.
//!
//! - An envelope is `{"payload", "payloadType", "signatures": [{"sig",
//!   "keyid"}]}` with base64 `payload` and `sig` (the bundle's protobuf-JSON
//!   form and DSSE's own JSON agree). A bundle's envelope must have exactly
//!   one signature (sigstore-go's `ErrDSSEInvalidSignatureCount`); `keyid`
//!   is a hint that is never trusted.
//! - The signature is over the pre-authentication encoding
//!   `"DSSEv1" SP len(type) SP type SP len(payload) SP payload`.
//! - A statement (`payloadType` `application/vnd.in-toto+json`) is read
//!   strictly: the four fields of in-toto's Statement (`_type`, `subject`,
//!   `predicateType`, `predicate`), subjects with in-toto's resource
//!   descriptor fields, no key twice, at most 1024 subjects of at most 32
//!   digests each (sigstore-go's limits). Both Statement v1 and v0.1
//!   (`https://in-toto.io/Statement/v0.1`, what cosign ≤ 2 `attest` writes)
//!   are read; which one is acceptable is the caller's decision.

use std::collections::BTreeMap;

use serde_json::Value;

use super::json::{Obj, element};
use super::payload::strict_json;

/// The payload type of an in-toto statement.
pub const INTOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// in-toto Statement v1.
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
/// in-toto Statement v0.1.
pub const STATEMENT_V01: &str = "https://in-toto.io/Statement/v0.1";
/// The predicate type of `cosign sign` (cosign 3) image signatures.
pub const COSIGN_SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";
/// A standalone envelope larger than this is refused.
pub const MAX_ENVELOPE_BYTES: usize = 16 << 20;
const MAX_SIGNATURES: usize = 16;
const MAX_SUBJECTS: usize = 1024;
const MAX_SUBJECT_DIGESTS: usize = 32;

/// One signature of an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DsseSignature {
    pub sig: Vec<u8>,
    pub keyid: String,
}

/// A DSSE envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub payload: Vec<u8>,
    pub payload_type: String,
    pub signatures: Vec<DsseSignature>,
}

/// The pre-authentication encoding DSSE signs.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

impl Envelope {
    /// Parses a DSSE envelope's JSON.
    pub fn parse(bytes: &[u8]) -> Result<Envelope, String> {
        if bytes.len() > MAX_ENVELOPE_BYTES {
            return Err(format!(
                "the DSSE envelope is {} bytes, more than the {MAX_ENVELOPE_BYTES} allowed",
                bytes.len()
            ));
        }
        let v = strict_json(bytes).map_err(|e| format!("the DSSE envelope {e}"))?;
        Envelope::from_obj(Obj::new(v, "dsseEnvelope")?)
    }

    /// Reads an envelope object (in a bundle, `dsseEnvelope`).
    pub(crate) fn from_obj(mut o: Obj) -> Result<Envelope, String> {
        o.only(&["payload", "payloadType", "signatures"])?;
        let payload = o
            .bytes("payload")?
            .ok_or_else(|| format!("{}.payload is missing", o.path()))?;
        let payload_type = o.req_string("payloadType")?;
        let signatures = o
            .array("signatures", MAX_SIGNATURES)?
            .into_iter()
            .map(|(path, v)| {
                let mut s = element(path, v)?;
                s.only(&["sig", "keyid"])?;
                Ok(DsseSignature {
                    sig: s.req_bytes("sig")?,
                    keyid: s.string("keyid")?.unwrap_or_default(),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Envelope {
            payload,
            payload_type,
            signatures,
        })
    }

    /// The bytes the signature is over.
    pub fn pae(&self) -> Vec<u8> {
        pae(&self.payload_type, &self.payload)
    }

    /// The one signature a bundle's envelope may carry.
    pub fn single_signature(&self) -> Result<&DsseSignature, String> {
        match self.signatures.as_slice() {
            [one] => Ok(one),
            other => Err(format!(
                "the DSSE envelope has {} signatures: exactly one signature is required",
                other.len()
            )),
        }
    }
}

/// An in-toto statement's version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementVersion {
    V1,
    V01,
}

/// One subject: an optional name and its digests (algorithm → hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub name: Option<String>,
    pub digest: BTreeMap<String, String>,
}

/// A parsed in-toto statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub version: StatementVersion,
    pub subjects: Vec<Subject>,
    pub predicate_type: String,
    pub predicate: Option<Value>,
}

fn statement_error(why: impl std::fmt::Display) -> String {
    format!("the DSSE payload is not an in-toto statement: {why}")
}

/// Parses an in-toto statement (the payload of an envelope whose type is
/// [`INTOTO_PAYLOAD_TYPE`]).
pub fn parse_statement(payload: &[u8]) -> Result<Statement, String> {
    let v = strict_json(payload).map_err(|e| statement_error(format!("it {e}")))?;
    let mut o = Obj::new(v, "").map_err(statement_error)?;
    o.only(&["_type", "subject", "predicateType", "predicate"])
        .map_err(statement_error)?;
    let kind = o.req_string("_type").map_err(statement_error)?;
    let version = match kind.as_str() {
        STATEMENT_V1 => StatementVersion::V1,
        STATEMENT_V01 => StatementVersion::V01,
        other => {
            return Err(format!(
                "unsupported in-toto _type {other:?} (expected {STATEMENT_V1:?})"
            ));
        }
    };
    let predicate_type = o.req_string("predicateType").map_err(statement_error)?;
    let predicate = o.take("predicate");
    let subjects = o
        .array("subject", MAX_SUBJECTS)
        .map_err(statement_error)?
        .into_iter()
        .map(|(path, v)| subject(element(path, v)?))
        .collect::<Result<Vec<_>, String>>()
        .map_err(statement_error)?;
    if subjects.is_empty() {
        return Err(statement_error("it has no subject"));
    }
    Ok(Statement {
        version,
        subjects,
        predicate_type,
        predicate,
    })
}

fn subject(mut o: Obj) -> Result<Subject, String> {
    o.only(&[
        "name",
        "uri",
        "digest",
        "content",
        "downloadLocation",
        "mediaType",
        "annotations",
    ])?;
    let name = o.string("name")?;
    let mut digest = BTreeMap::new();
    if let Some(d) = o.obj("digest")? {
        let path = d.path().to_string();
        let map = d.into_map();
        if map.len() > MAX_SUBJECT_DIGESTS {
            return Err(format!(
                "{path} has {} digests, more than the {MAX_SUBJECT_DIGESTS} allowed",
                map.len()
            ));
        }
        for (alg, value) in map {
            match value {
                Value::String(s) => {
                    digest.insert(alg, s);
                }
                _ => return Err(format!("{path}.{alg} is not a string")),
            }
        }
    }
    Ok(Subject { name, digest })
}

impl Statement {
    /// Some subject has `digest` (raw bytes) under `algorithm` (in-toto's
    /// name: `sha256`, `sha512`, …); hex is compared case-insensitively.
    pub fn has_subject_digest(&self, algorithm: &str, digest: &[u8]) -> bool {
        self.subjects.iter().any(|s| {
            s.digest
                .get(algorithm)
                .and_then(|h| hex::decode(h).ok())
                .is_some_and(|d| d == digest)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_as_the_spec_writes_it() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ");
    }

    #[test]
    fn envelopes() {
        let e = Envelope::parse(
            br#"{"payload":"aGk=","payloadType":"t","signatures":[{"sig":"AAE=","keyid":""}]}"#,
        )
        .unwrap();
        assert_eq!(e.payload, b"hi");
        assert_eq!(e.single_signature().unwrap().sig, [0, 1]);
        let two = Envelope::parse(
            br#"{"payload":"aGk=","payloadType":"t","signatures":[{"sig":"AAE="},{"sig":"AAE="}]}"#,
        )
        .unwrap();
        assert!(
            two.single_signature()
                .unwrap_err()
                .contains("exactly one signature is required")
        );
        for (bad, why) in [
            (
                r#"{"payloadType":"t","signatures":[]}"#,
                "payload is missing",
            ),
            (
                r#"{"payload":"aGk=","signatures":[]}"#,
                "payloadType is missing",
            ),
            (
                r#"{"payload":"aGk=","payloadType":"t","signatures":[{"sig":""}]}"#,
                "sig is empty",
            ),
            (
                r#"{"payload":"aGk=","payloadType":"t","extra":1}"#,
                "unknown field dsseEnvelope.extra",
            ),
            (
                r#"{"payload":"aGk=","payload":"aGk=","payloadType":"t"}"#,
                "twice",
            ),
        ] {
            let e = Envelope::parse(bad.as_bytes()).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn statements() {
        let s = parse_statement(
            br#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"C811"}}],"predicateType":"https://sigstore.dev/cosign/sign/v1"}"#,
        )
        .unwrap();
        assert_eq!(s.version, StatementVersion::V1);
        assert!(s.has_subject_digest("sha256", &[0xc8, 0x11]));
        assert!(!s.has_subject_digest("sha512", &[0xc8, 0x11]));
        assert!(!s.has_subject_digest("sha256", &[0xc8]));
        for (bad, why) in [
            (
                r#"{"_type":"https://example.com/Statement/v1","subject":[{"digest":{}}],"predicateType":"p"}"#,
                "unsupported in-toto _type",
            ),
            (
                r#"{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"p"}"#,
                "no subject",
            ),
            (
                r#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":1}}],"predicateType":"p"}"#,
                "subject[0].digest.sha256 is not a string",
            ),
            (
                r#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{}}],"predicateType":"p","x":1}"#,
                "unknown field x",
            ),
        ] {
            let e = parse_statement(bad.as_bytes()).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}
