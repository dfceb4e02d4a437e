//! Rekor signed entry timestamps (SETs), verified offline: the
//! `dev.sigstore.cosign/bundle` annotation of a legacy signature layer.
//!
//! ```json
//! {"SignedEntryTimestamp":"<base64 ECDSA ASN.1 signature>",
//!  "Payload":{"body":"<base64 entry>","integratedTime":1670870899,
//!             "logIndex":8949589,"logID":"<hex SHA-256 of the log's DER SPKI>"}}
//! ```
//!
//! 1. The annotation is read as strictly as containers/image reads it
//!    (`signature/internal/rekor_set.go`): exactly these keys at both
//!    levels, no key twice, integers for the two numbers, standard base64
//!    (Go's `StdEncoding`) for the signature and the body.
//! 2. The Rekor key is chosen by `logID`, as cosign does; the SET verifies
//!    with it as ECDSA over SHA-256 of the RFC 8785 canonical form of
//!    `Payload` ([`super::jcs`]). Only ECDSA keys can be Rekor keys
//!    ([`RekorKey::from_pem`] refuses others at configuration time, as
//!    containers/image does).
//! 3. The body — a `hashedrekord` or `rekord` 0.0.1 entry — must describe
//!    this very signature ([`RekorBody::check`]): the same signature bytes,
//!    the same public key or certificate (compared parsed, not as text), and
//!    the SHA-256 of this payload. Without this check a valid SET for any
//!    other entry would lend its time to the signature (CVE-2022-36056,
//!    CVE-2026-22703).
//! 4. `integratedTime` is then the time the signature provably existed: a
//!    keyless certificate must have been valid at it.

use aws_lc_rs::digest;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::key::{CosignKey, verify_signature};
use super::payload::strict_json;
use super::{decode_base64, jcs};
use crate::keys::parse_public_keys_with_der;
use crate::x509::{Cert, PublicKey};
use pullgate_policy::cosign::KeyHash;

/// The layer annotation holding the SET.
pub const BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
/// A bundle annotation larger than this is refused (Rekor's are ~3 KiB).
pub const MAX_BUNDLE_BYTES: usize = 256 << 10;

/// A Rekor log's public key with its log ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RekorKey {
    /// An ECDSA key, verifying with SHA-256.
    pub key: CosignKey,
    /// Lowercase hex SHA-256 of the key's DER SubjectPublicKeyInfo.
    pub log_id: String,
}

impl RekorKey {
    /// Every public key of a PEM text as a Rekor key; a key that is not
    /// ECDSA is an error naming it.
    pub fn from_pem(pem: &[u8], source: &str) -> Result<Vec<RekorKey>, String> {
        let keys = parse_public_keys_with_der(pem).map_err(|e| format!("{source}: {e}"))?;
        let several = keys.len() > 1;
        keys.into_iter()
            .enumerate()
            .map(|(i, (key, spki))| {
                let name = if several {
                    format!("{source} (key {})", i + 1)
                } else {
                    source.to_string()
                };
                RekorKey::new(key, &spki, &name)
            })
            .collect()
    }

    /// A Rekor key from its parsed form and SPKI DER.
    pub fn new(key: PublicKey, spki_der: &[u8], source: &str) -> Result<RekorKey, String> {
        if !matches!(key, PublicKey::Ec { .. }) {
            let kind = match &key {
                PublicKey::Rsa { bits, .. } => format!("an RSA-{bits}"),
                PublicKey::Ed25519(_) => "an Ed25519".into(),
                _ => "an unsupported".into(),
            };
            return Err(format!(
                "{source}: {kind} key cannot be a Rekor public key (Rekor logs sign with ECDSA)"
            ));
        }
        Ok(RekorKey {
            key: CosignKey::new(key, KeyHash::Sha256, source)?,
            log_id: hex::encode(digest::digest(&digest::SHA256, spki_der)),
        })
    }
}

/// A parsed bundle annotation, not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RekorBundle {
    pub signed_entry_timestamp: Vec<u8>,
    /// `Payload.body` as written (base64).
    pub body: String,
    pub integrated_time: i64,
    pub log_index: i64,
    pub log_id: String,
}

/// A SET that verified with a configured key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSet {
    pub integrated_time: OffsetDateTime,
    pub log_index: i64,
    pub log_id: String,
    /// The Rekor key's source.
    pub key: String,
    /// The entry, parsed.
    pub body: RekorBody,
}

/// The entry types whose bodies are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    HashedRekord,
    Rekord,
}

/// What a `hashedrekord` or `rekord` 0.0.1 entry says was logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RekorBody {
    pub kind: EntryKind,
    /// `spec.signature.content`, decoded.
    pub signature: Vec<u8>,
    /// `spec.signature.publicKey.content`, decoded: a PEM public key or
    /// certificate.
    pub public_key: Vec<u8>,
    /// `spec.data.hash.algorithm`.
    pub hash_algorithm: String,
    /// `spec.data.hash.value` (hex).
    pub hash: String,
}

/// What signed a layer, to be found in the entry.
#[derive(Debug, Clone, Copy)]
pub enum SignedBy<'a> {
    Key(&'a PublicKey),
    Certificate(&'a Cert),
}

fn bad(why: impl std::fmt::Display) -> String {
    format!("the {BUNDLE_ANNOTATION} annotation is not a Rekor SET: {why}")
}

impl RekorBundle {
    /// Parses the annotation's value.
    pub fn parse(bytes: &[u8]) -> Result<RekorBundle, String> {
        if bytes.len() > MAX_BUNDLE_BYTES {
            return Err(bad(format!(
                "it is {} bytes, more than the {MAX_BUNDLE_BYTES} allowed",
                bytes.len()
            )));
        }
        let root = strict_json(bytes).map_err(|e| bad(format!("it {e}")))?;
        let mut top = object(root, "the top level").map_err(bad)?;
        exact_keys(&top, "", &["SignedEntryTimestamp", "Payload"]).map_err(bad)?;
        let set = string(
            take(&mut top, "SignedEntryTimestamp"),
            "SignedEntryTimestamp",
        )
        .map_err(bad)?;
        let signed_entry_timestamp = decode_base64(&set)
            .map_err(|e| bad(format!("SignedEntryTimestamp is not base64: {e}")))?;
        let mut payload = object(take(&mut top, "Payload"), "Payload").map_err(bad)?;
        exact_keys(
            &payload,
            "Payload.",
            &["body", "integratedTime", "logIndex", "logID"],
        )
        .map_err(bad)?;
        let body = string(take(&mut payload, "body"), "Payload.body").map_err(bad)?;
        let integrated_time = integer(
            &take(&mut payload, "integratedTime"),
            "Payload.integratedTime",
        )
        .map_err(bad)?;
        let log_index =
            integer(&take(&mut payload, "logIndex"), "Payload.logIndex").map_err(bad)?;
        let log_id = string(take(&mut payload, "logID"), "Payload.logID").map_err(bad)?;
        Ok(RekorBundle {
            signed_entry_timestamp,
            body,
            integrated_time,
            log_index,
            log_id,
        })
    }

    /// The RFC 8785 form of `Payload`, the bytes the SET signs.
    pub fn canonical_payload(&self) -> Result<String, String> {
        let mut m = Map::new();
        m.insert("body".into(), Value::String(self.body.clone()));
        m.insert("integratedTime".into(), Value::from(self.integrated_time));
        m.insert("logIndex".into(), Value::from(self.log_index));
        m.insert("logID".into(), Value::String(self.log_id.clone()));
        jcs::canonicalize(&Value::Object(m)).map_err(bad)
    }

    /// Verifies the SET with the key of its log among `keys`, then parses
    /// the body (which [`RekorBody::check`] must then match).
    pub fn verify(&self, keys: &[RekorKey]) -> Result<VerifiedSet, String> {
        let candidates: Vec<&RekorKey> = keys.iter().filter(|k| k.log_id == self.log_id).collect();
        if candidates.is_empty() {
            let mut known: Vec<&str> = keys.iter().map(|k| k.log_id.as_str()).collect();
            known.sort_unstable();
            known.dedup();
            return Err(format!(
                "the Rekor SET is from log {:?}, and none of the policy's {} Rekor key(s) has that log ID ({})",
                self.log_id,
                keys.len(),
                known.join(", ")
            ));
        }
        let canonical = self.canonical_payload()?;
        let Some(key) = candidates.into_iter().find(|k| {
            verify_signature(&k.key, canonical.as_bytes(), &self.signed_entry_timestamp).is_ok()
        }) else {
            return Err(format!(
                "cryptographic signature verification of Rekor SET failed (log {})",
                self.log_id
            ));
        };
        let integrated_time =
            OffsetDateTime::from_unix_timestamp(self.integrated_time).map_err(|_| {
                format!(
                    "the Rekor SET's integratedTime {} is out of range",
                    self.integrated_time
                )
            })?;
        let body_bytes = decode_base64(&self.body)
            .map_err(|e| format!("the Rekor SET's body is not base64: {e}"))?;
        let body = RekorBody::parse(&body_bytes)?;
        Ok(VerifiedSet {
            integrated_time,
            log_index: self.log_index,
            log_id: self.log_id.clone(),
            key: key.key.source.clone(),
            body,
        })
    }
}

/// Parses, verifies and matches the annotation `bundle` against the layer's
/// raw `signature`, its signer and its `payload`: the SET's time on success.
pub fn verify_bundle(
    bundle: &str,
    keys: &[RekorKey],
    signature: &[u8],
    signer: SignedBy<'_>,
    payload: &[u8],
) -> Result<VerifiedSet, String> {
    let parsed = RekorBundle::parse(bundle.as_bytes())?;
    let verified = parsed.verify(keys)?;
    verified.body.check(signature, signer, payload)?;
    Ok(verified)
}

fn body_error(why: impl std::fmt::Display) -> String {
    format!("the Rekor SET's body is not a hashedrekord or rekord 0.0.1 entry: {why}")
}

impl RekorBody {
    /// Parses a decoded entry body.
    pub fn parse(bytes: &[u8]) -> Result<RekorBody, String> {
        let root = strict_json(bytes).map_err(|e| body_error(format!("it {e}")))?;
        let mut top = object(root, "the top level").map_err(body_error)?;
        let kind = string(take(&mut top, "kind"), "kind").map_err(body_error)?;
        let kind = match kind.as_str() {
            "hashedrekord" => EntryKind::HashedRekord,
            "rekord" => EntryKind::Rekord,
            other => {
                return Err(body_error(format!(
                    "its kind is {other:?} (only hashedrekord and rekord entries are verified)"
                )));
            }
        };
        let version = string(take(&mut top, "apiVersion"), "apiVersion").map_err(body_error)?;
        if version != "0.0.1" {
            return Err(body_error(format!("unsupported apiVersion {version:?}")));
        }
        let mut spec = object(take(&mut top, "spec"), "spec").map_err(body_error)?;
        let mut sig = object(take(&mut spec, "signature"), "spec.signature").map_err(body_error)?;
        if kind == EntryKind::Rekord {
            let format =
                string(take(&mut sig, "format"), "spec.signature.format").map_err(body_error)?;
            if format != "x509" {
                return Err(body_error(format!(
                    "spec.signature.format is {format:?}, not \"x509\""
                )));
            }
        }
        let content =
            string(take(&mut sig, "content"), "spec.signature.content").map_err(body_error)?;
        let signature = decode_base64(&content)
            .map_err(|e| body_error(format!("spec.signature.content is not base64: {e}")))?;
        let mut key =
            object(take(&mut sig, "publicKey"), "spec.signature.publicKey").map_err(body_error)?;
        let key_content = string(
            take(&mut key, "content"),
            "spec.signature.publicKey.content",
        )
        .map_err(body_error)?;
        let public_key = decode_base64(&key_content).map_err(|e| {
            body_error(format!(
                "spec.signature.publicKey.content is not base64: {e}"
            ))
        })?;
        let mut data = object(take(&mut spec, "data"), "spec.data").map_err(body_error)?;
        let mut hash = object(take(&mut data, "hash"), "spec.data.hash").map_err(body_error)?;
        let hash_algorithm =
            string(take(&mut hash, "algorithm"), "spec.data.hash.algorithm").map_err(body_error)?;
        let hash = string(take(&mut hash, "value"), "spec.data.hash.value").map_err(body_error)?;
        Ok(RekorBody {
            kind,
            signature,
            public_key,
            hash_algorithm,
            hash,
        })
    }

    /// The entry describes `signature` (raw bytes) by `signer` over
    /// `payload`. Checked in this order: signature, key, payload hash.
    pub fn check(
        &self,
        signature: &[u8],
        signer: SignedBy<'_>,
        payload: &[u8],
    ) -> Result<(), String> {
        if self.signature != signature {
            return Err(
                "signature in Rekor SET does not match the layer's signature (the entry logs another signature)".into(),
            );
        }
        let logged = LoggedKey::parse(&self.public_key).map_err(|e| {
            format!("publicKey in Rekor SET is not one PEM public key or certificate: {e}")
        })?;
        let same = match (&logged, signer) {
            (LoggedKey::Certificate(c), SignedBy::Certificate(leaf)) => c == leaf,
            (LoggedKey::Certificate(c), SignedBy::Key(k)) => c.public_key() == k,
            (LoggedKey::Key(k), SignedBy::Certificate(leaf)) => leaf.public_key() == k,
            (LoggedKey::Key(k), SignedBy::Key(key)) => k == key,
        };
        if !same {
            return Err(format!(
                "publicKey in Rekor SET does not match: the entry logs {}, not the {} that signed the layer",
                logged.describe(),
                match signer {
                    SignedBy::Key(_) => "key",
                    SignedBy::Certificate(_) => "certificate",
                }
            ));
        }
        if self.hash_algorithm != "sha256" {
            return Err(format!(
                "payload in Rekor SET does not match: unexpected hash algorithm {:?} (cosign logs sha256)",
                self.hash_algorithm
            ));
        }
        let expected = digest::digest(&digest::SHA256, payload);
        match hex::decode(&self.hash) {
            Ok(h) if h == expected.as_ref() => Ok(()),
            Ok(_) => Err(format!(
                "payload in Rekor SET does not match: the entry logs sha256 {}, the payload's is {}",
                self.hash,
                hex::encode(expected)
            )),
            Err(e) => Err(format!(
                "payload in Rekor SET does not match: spec.data.hash.value {:?} is not hex: {e}",
                self.hash
            )),
        }
    }
}

/// `spec.signature.publicKey.content`, parsed.
pub(crate) enum LoggedKey {
    Key(PublicKey),
    Certificate(Cert),
}

impl LoggedKey {
    pub(crate) fn parse(pem: &[u8]) -> Result<LoggedKey, String> {
        let (label, der) = single_pem(pem)?;
        match label.as_str() {
            "CERTIFICATE" => Cert::from_der(&der)
                .map(LoggedKey::Certificate)
                .map_err(|e| e.to_string()),
            "PUBLIC KEY" => {
                let mut keys = crate::keys::parse_public_keys(pem)?;
                match keys.pop() {
                    Some(k) if keys.is_empty() => Ok(LoggedKey::Key(k)),
                    _ => Err("not one public key".into()),
                }
            }
            other => Err(format!("a PEM block of type {other:?}")),
        }
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            LoggedKey::Key(_) => "another public key".into(),
            LoggedKey::Certificate(c) => format!("the certificate {:?}", c.subject()),
        }
    }
}

/// Exactly one PEM block (whitespace around it is allowed): its label and
/// DER.
pub(crate) fn single_pem(bytes: &[u8]) -> Result<(String, Vec<u8>), String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not PEM text".to_string())?;
    let text = text.trim();
    let rest = text.strip_prefix("-----BEGIN ").ok_or("not a PEM block")?;
    let label_end = rest.find("-----").ok_or("malformed PEM block")?;
    let label = &rest[..label_end];
    let body = &rest[label_end + 5..];
    let marker = format!("-----END {label}-----");
    let end = body.find(&marker).ok_or("malformed PEM block")?;
    if !body[end + marker.len()..].trim().is_empty() {
        return Err("more than one PEM block, or data after it".into());
    }
    let b64: String = body[..end].chars().filter(|c| !c.is_whitespace()).collect();
    let der = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64)
        .map_err(|_| "malformed PEM block".to_string())?;
    Ok((label.to_string(), der))
}

fn take(map: &mut Map<String, Value>, key: &str) -> Value {
    map.remove(key).unwrap_or(Value::Null)
}

fn object(v: Value, path: &str) -> Result<Map<String, Value>, String> {
    match v {
        Value::Object(m) => Ok(m),
        Value::Null => Err(format!("{path} is missing or null")),
        _ => Err(format!("{path} is not an object")),
    }
}

fn string(v: Value, path: &str) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s),
        Value::Null => Err(format!("{path} is missing or null")),
        _ => Err(format!("{path} is not a string")),
    }
}

/// A JSON integer that fits an int64, as Go decodes one (no fraction, no
/// exponent), and not negative.
fn integer(v: &Value, path: &str) -> Result<i64, String> {
    match v {
        Value::Number(n) => match n.as_i64() {
            Some(i) if i >= 0 => Ok(i),
            Some(_) => Err(format!("{path} is negative")),
            None => Err(format!("{path} is not an integer of 64 bits")),
        },
        Value::Null => Err(format!("{path} is missing or null")),
        _ => Err(format!("{path} is not a number")),
    }
}

fn exact_keys(map: &Map<String, Value>, prefix: &str, keys: &[&str]) -> Result<(), String> {
    if let Some(k) = map.keys().find(|k| !keys.contains(&k.as_str())) {
        return Err(format!("unknown key {prefix}{k}"));
    }
    if let Some(k) = keys.iter().find(|k| !map.contains_key(**k)) {
        return Err(format!("{prefix}{k} is missing"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SET: &str = r#"{"SignedEntryTimestamp":"AAAA","Payload":{"body":"e30=","integratedTime":1,"logIndex":2,"logID":"ab"}}"#;

    #[test]
    fn bundles_are_read_strictly() {
        let b = RekorBundle::parse(SET.as_bytes()).unwrap();
        assert_eq!(b.integrated_time, 1);
        assert_eq!(b.log_index, 2);
        assert_eq!(
            b.canonical_payload().unwrap(),
            r#"{"body":"e30=","integratedTime":1,"logID":"ab","logIndex":2}"#
        );
        for (bad_set, why) in [
            ("this is not a valid SET", "is not valid JSON"),
            ("", "is not valid JSON"),
            (
                &SET.replace("\"logIndex\":2", "\"logIndex\":2.0"),
                "Payload.logIndex is not an integer",
            ),
            (
                &SET.replace("\"logIndex\":2", "\"logIndex\":-2"),
                "Payload.logIndex is negative",
            ),
            (
                &SET.replace("\"logIndex\":2", "\"logIndex\":2,\"extra\":1"),
                "unknown key Payload.extra",
            ),
            (
                &SET.replace(",\"logID\":\"ab\"", ""),
                "Payload.logID is missing",
            ),
            (
                &SET.replace("\"logIndex\":2", "\"logIndex\":2,\"logIndex\":3"),
                "has the key \"logIndex\" twice",
            ),
            (
                &SET.replace("AAAA", "AA"),
                "SignedEntryTimestamp is not base64",
            ),
            (
                &SET.replace("SignedEntryTimestamp", "signedEntryTimestamp"),
                "unknown key signedEntryTimestamp",
            ),
            (&format!("{SET} x"), "is not valid JSON"),
        ] {
            let e = RekorBundle::parse(bad_set.as_bytes()).unwrap_err();
            assert!(e.contains(why), "{bad_set}: {e}");
            assert!(
                e.starts_with("the dev.sigstore.cosign/bundle annotation is not a Rekor SET: "),
                "{e}"
            );
        }
    }

    #[test]
    fn bodies_of_other_kinds_or_versions_are_refused() {
        let body = |kind: &str, version: &str| {
            format!(
                r#"{{"apiVersion":"{version}","kind":"{kind}","spec":{{"data":{{"hash":{{"algorithm":"sha256","value":"00"}}}},"signature":{{"content":"AAAA","format":"x509","publicKey":{{"content":"AAAA"}}}}}}}}"#
            )
        };
        assert_eq!(
            RekorBody::parse(body("hashedrekord", "0.0.1").as_bytes())
                .unwrap()
                .kind,
            EntryKind::HashedRekord
        );
        assert_eq!(
            RekorBody::parse(body("rekord", "0.0.1").as_bytes())
                .unwrap()
                .kind,
            EntryKind::Rekord
        );
        for (b, why) in [
            (body("intoto", "0.0.1"), "kind is \"intoto\""),
            (
                body("hashedrekord", "0.0.2"),
                "unsupported apiVersion \"0.0.2\"",
            ),
            (
                body("rekord", "0.0.1").replace("x509", "pgp"),
                "format is \"pgp\"",
            ),
            (
                body("rekord", "0.0.1").replace(r#""value":"00""#, r#""value":0"#),
                "spec.data.hash.value is not a string",
            ),
            ("[]".to_string(), "the top level is not an object"),
        ] {
            let e = RekorBody::parse(b.as_bytes()).unwrap_err();
            assert!(e.contains(why), "{e}");
        }
    }

    #[test]
    fn one_pem_block_only() {
        let (label, der) = single_pem(b"\n-----BEGIN X-----\nAAEC\n-----END X-----\n").unwrap();
        assert_eq!((label.as_str(), der.as_slice()), ("X", &[0u8, 1, 2][..]));
        for bad in [
            &b"-----BEGIN X-----\nAAEC\n-----END X-----\n-----BEGIN X-----\nAAEC\n-----END X-----\n"[..],
            b"junk",
            b"-----BEGIN X-----\nAAEC\n",
            b"-----BEGIN X-----\n!!\n-----END X-----",
            b"-----BEGIN X-----\nAAEC\n-----END Y-----",
        ] {
            assert!(single_pem(bad).is_err());
        }
    }
}
