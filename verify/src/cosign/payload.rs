//! Cosign's "simple signing" payload: the JSON document a legacy `.sig`
//! signature signs, stored as the layer blob of the signature manifest.
//!
//! ```json
//! {"critical":{"identity":{"docker-reference":"registry/repo"},
//!              "image":{"docker-manifest-digest":"sha256:…"},
//!              "type":"cosign container image signature"},
//!  "optional":null}
//! ```
//!
//! The exact blob bytes are parsed (never a re-serialisation), after the
//! signature over them has verified. The parser is as strict as
//! containers/image's (`signature/internal/sigstore_payload.go`), which
//! cosign's own output always satisfies:
//! - key names are exact and case-sensitive (Go's `encoding/json`, which
//!   cosign uses, would also match `Critical`; containers/image does not);
//! - `critical`, `critical.identity` and `critical.image` have exactly their
//!   known keys, and the top level has `critical` and `optional` only
//!   (`optional` may be absent, as cosign allows; it is `null` or an object);
//! - no object anywhere in the payload has a key twice. Go and serde_json
//!   keep the last of duplicated keys, so a payload with two
//!   `docker-manifest-digest` values would read differently in parsers that
//!   keep the first; such a payload is refused rather than interpreted;
//! - `critical.type` is exactly `cosign container image signature`;
//! - `critical.image.docker-manifest-digest` is a digest pullgate accepts
//!   (sha256 or sha512, lowercase hex of the right length);
//! - at most [`MAX_PAYLOAD_BYTES`], and nothing after the JSON value.

use std::collections::BTreeMap;
use std::fmt;

use pullgate_registry::Digest;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// A payload larger than this is refused (cosign's are about 250 bytes).
pub const MAX_PAYLOAD_BYTES: u64 = 64 << 10;

/// The only `critical.type` a Cosign image signature has.
pub const SIMPLE_SIGNING_TYPE: &str = "cosign container image signature";

/// A parsed simple-signing payload.
#[derive(Debug, Clone, PartialEq)]
pub struct SimpleSigning {
    /// `critical.identity.docker-reference`: informational (cosign writes the
    /// repository without a tag and does not check it).
    pub docker_reference: String,
    /// `critical.image.docker-manifest-digest`: the binding to the image.
    pub manifest_digest: Digest,
    /// `optional`: the signer's annotations, when not null.
    pub optional: Option<Map<String, Value>>,
}

/// Why a payload is refused; Display is a sentence naming the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("payload is {size} bytes, more than the {limit} a simple-signing payload may have")]
    TooLarge { size: usize, limit: u64 },
    #[error("payload is not valid JSON: {0}")]
    Json(String),
    #[error("payload has the key {0} twice")]
    Duplicate(String),
    #[error("payload has no {0}")]
    Missing(String),
    #[error("payload has the unknown key {0}")]
    Unknown(String),
    #[error("payload's {path} is not {expected}")]
    WrongType {
        path: String,
        expected: &'static str,
    },
    #[error("payload's critical.type is {0:?}, not \"cosign container image signature\"")]
    Type(String),
    #[error(
        "payload's critical.image.docker-manifest-digest {value:?} is not a valid digest: {why}"
    )]
    Digest { value: String, why: String },
}

/// Parses `bytes` as a simple-signing payload.
pub fn parse(bytes: &[u8]) -> Result<SimpleSigning, PayloadError> {
    if bytes.len() as u64 > MAX_PAYLOAD_BYTES {
        return Err(PayloadError::TooLarge {
            size: bytes.len(),
            limit: MAX_PAYLOAD_BYTES,
        });
    }
    let root = serde_json::from_slice::<Strict>(bytes)
        .map_err(|e| match DuplicateKey::find(&e) {
            Some(key) => PayloadError::Duplicate(key),
            None => PayloadError::Json(e.to_string()),
        })?
        .0;
    let mut top = object(root, "the top level")?;
    exact_keys(&top, "", &["critical", "optional"], &["critical"])?;
    let optional = match top.remove("optional") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m),
        Some(_) => {
            return Err(PayloadError::WrongType {
                path: "optional".into(),
                expected: "null or an object",
            });
        }
    };
    let mut critical = object(take(&mut top, "critical"), "critical")?;
    exact_keys(
        &critical,
        "critical.",
        &["identity", "image", "type"],
        &["identity", "image", "type"],
    )?;
    let kind = string(take(&mut critical, "type"), "critical.type")?;
    if kind != SIMPLE_SIGNING_TYPE {
        return Err(PayloadError::Type(kind));
    }
    let mut image = object(take(&mut critical, "image"), "critical.image")?;
    exact_keys(
        &image,
        "critical.image.",
        &["docker-manifest-digest"],
        &["docker-manifest-digest"],
    )?;
    let digest = string(
        take(&mut image, "docker-manifest-digest"),
        "critical.image.docker-manifest-digest",
    )?;
    let manifest_digest = digest.parse::<Digest>().map_err(|e| PayloadError::Digest {
        value: digest.clone(),
        why: e.to_string(),
    })?;
    let mut identity = object(take(&mut critical, "identity"), "critical.identity")?;
    exact_keys(
        &identity,
        "critical.identity.",
        &["docker-reference"],
        &["docker-reference"],
    )?;
    let docker_reference = string(
        take(&mut identity, "docker-reference"),
        "critical.identity.docker-reference",
    )?;
    Ok(SimpleSigning {
        docker_reference,
        manifest_digest,
        optional,
    })
}

/// `bytes` as one JSON value, refusing an object with a key twice (at any
/// depth) and anything after the value; the error is a phrase.
pub(crate) fn strict_json(bytes: &[u8]) -> Result<Value, String> {
    serde_json::from_slice::<Strict>(bytes)
        .map(|s| s.0)
        .map_err(|e| match DuplicateKey::find(&e) {
            Some(key) => format!("has the key {key} twice"),
            None => format!("is not valid JSON: {e}"),
        })
}

fn take(map: &mut Map<String, Value>, key: &str) -> Value {
    map.remove(key).unwrap_or(Value::Null)
}

fn object(v: Value, path: &str) -> Result<Map<String, Value>, PayloadError> {
    match v {
        Value::Object(m) => Ok(m),
        _ => Err(PayloadError::WrongType {
            path: path.into(),
            expected: "an object",
        }),
    }
}

fn string(v: Value, path: &str) -> Result<String, PayloadError> {
    match v {
        Value::String(s) => Ok(s),
        _ => Err(PayloadError::WrongType {
            path: path.into(),
            expected: "a string",
        }),
    }
}

/// Every key of `map` is in `allowed`, every key of `required` is present.
fn exact_keys(
    map: &Map<String, Value>,
    prefix: &str,
    allowed: &[&str],
    required: &[&str],
) -> Result<(), PayloadError> {
    if let Some(k) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(PayloadError::Unknown(format!("{prefix}{k}")));
    }
    if let Some(k) = required.iter().find(|k| !map.contains_key(**k)) {
        return Err(PayloadError::Missing(format!("{prefix}{k}")));
    }
    Ok(())
}

/// A JSON value read with every object's keys checked for duplicates (at
/// any depth; serde_json bounds the depth).
struct Strict(Value);

/// The marker of the error a duplicated key raises, so that it can be told
/// apart from a syntax error.
struct DuplicateKey;

impl DuplicateKey {
    const MARKER: &'static str = "duplicate key ";

    fn find(e: &serde_json::Error) -> Option<String> {
        let text = e.to_string();
        let rest = text.strip_prefix(Self::MARKER)?;
        // serde_json appends " at line L column C"
        let end = rest.rfind(" at line ").unwrap_or(rest.len());
        Some(rest[..end].to_string())
    }
}

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Strict, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Strict;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Strict, E> {
        Ok(Strict(Value::Bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Strict, E> {
        Ok(Strict(Value::from(v)))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Strict, E> {
        Ok(Strict(Value::from(v)))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Strict, E> {
        Ok(Strict(Value::from(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Strict, E> {
        Ok(Strict(Value::String(v.to_string())))
    }

    fn visit_string<E>(self, v: String) -> Result<Strict, E> {
        Ok(Strict(Value::String(v)))
    }

    fn visit_unit<E>(self) -> Result<Strict, E> {
        Ok(Strict(Value::Null))
    }

    fn visit_none<E>(self) -> Result<Strict, E> {
        Ok(Strict(Value::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Strict, A::Error> {
        let mut out = Vec::new();
        while let Some(Strict(v)) = seq.next_element::<Strict>()? {
            out.push(v);
        }
        Ok(Strict(Value::Array(out)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Strict, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format_args!(
                    "{}{key:?}",
                    DuplicateKey::MARKER
                )));
            }
            let Strict(v) = map.next_value::<Strict>()?;
            out.insert(key, v);
        }
        Ok(Strict(Value::Object(out.into_iter().collect())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00";

    fn payload(critical: &str, rest: &str) -> String {
        format!(r#"{{"critical":{critical}{rest}}}"#)
    }

    fn critical(identity: &str, image: &str, kind: &str) -> String {
        format!(r#"{{"identity":{identity},"image":{image},"type":{kind}}}"#)
    }

    fn good() -> String {
        payload(
            &critical(
                r#"{"docker-reference":"r.io/app"}"#,
                &format!(r#"{{"docker-manifest-digest":"{DIGEST}"}}"#),
                r#""cosign container image signature""#,
            ),
            r#","optional":null"#,
        )
    }

    #[test]
    fn reads_cosign_payloads() {
        let p = parse(good().as_bytes()).unwrap();
        assert_eq!(p.docker_reference, "r.io/app");
        assert_eq!(p.manifest_digest.to_string(), DIGEST);
        assert_eq!(p.optional, None);
        // optional absent (cosign accepts it), or an object of annotations
        let no_optional = good().replace(r#","optional":null"#, "");
        assert!(parse(no_optional.as_bytes()).is_ok());
        let annotated = good().replace(
            r#""optional":null"#,
            r#""optional":{"a":"b","timestamp":1}"#,
        );
        let p = parse(annotated.as_bytes()).unwrap();
        assert_eq!(p.optional.unwrap()["a"], "b");
        // whitespace and key order do not matter
        let spaced = format!(
            "{{ \"optional\" : null ,\n \"critical\" : {{\"type\":\"{SIMPLE_SIGNING_TYPE}\", \"image\":{{\"docker-manifest-digest\":\"{DIGEST}\"}}, \"identity\":{{\"docker-reference\":\"x\"}}}} }}\n"
        );
        assert!(parse(spaced.as_bytes()).is_ok());
    }

    #[test]
    fn the_type_must_be_exact() {
        for kind in [
            r#""Cosign container image signature""#,
            r#""cosign container image signature ""#,
            r#""atomic container signature""#,
            r#""""#,
        ] {
            let p = good().replace(r#""cosign container image signature""#, kind);
            assert!(
                matches!(parse(p.as_bytes()), Err(PayloadError::Type(_))),
                "{kind}"
            );
        }
        let p = good().replace(r#""cosign container image signature""#, "1");
        assert!(matches!(
            parse(p.as_bytes()),
            Err(PayloadError::WrongType { .. })
        ));
    }

    #[test]
    fn duplicated_keys_are_refused_at_every_level() {
        let other = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
        let twice = good().replace(
            &format!(r#""docker-manifest-digest":"{DIGEST}""#),
            &format!(r#""docker-manifest-digest":"{other}","docker-manifest-digest":"{DIGEST}""#),
        );
        assert_eq!(
            parse(twice.as_bytes()).unwrap_err(),
            PayloadError::Duplicate("\"docker-manifest-digest\"".into())
        );
        let two_critical = good().replace(
            r#","optional":null"#,
            r#","critical":{"type":"x"},"optional":null"#,
        );
        assert!(matches!(
            parse(two_critical.as_bytes()),
            Err(PayloadError::Duplicate(_))
        ));
        let in_optional = good().replace(r#""optional":null"#, r#""optional":{"a":1,"a":2}"#);
        assert!(matches!(
            parse(in_optional.as_bytes()),
            Err(PayloadError::Duplicate(_))
        ));
    }

    #[test]
    fn keys_are_exact_and_complete() {
        let cases = [
            (good().replace("\"critical\"", "\"Critical\""), "Critical"),
            (
                good().replace("docker-manifest-digest", "Docker-Manifest-Digest"),
                "Docker",
            ),
            (
                good().replace("docker-reference", "docker-Reference"),
                "docker-Reference",
            ),
            (
                good().replace(r#""type":"#, r#""extra":1,"type":"#),
                "critical.extra",
            ),
            (
                good().replace(r#","optional":null"#, r#","optional":null,"x":1"#),
                "x",
            ),
        ];
        for (p, what) in cases {
            let e = parse(p.as_bytes()).unwrap_err();
            assert!(
                matches!(e, PayloadError::Unknown(ref k) if k.contains(what)),
                "{p}: {e}"
            );
        }
        let no_identity = payload(
            &format!(
                r#"{{"image":{{"docker-manifest-digest":"{DIGEST}"}},"type":"{SIMPLE_SIGNING_TYPE}"}}"#
            ),
            "",
        );
        assert_eq!(
            parse(no_identity.as_bytes()).unwrap_err(),
            PayloadError::Missing("critical.identity".into())
        );
        assert_eq!(
            parse(br#"{"optional":null}"#).unwrap_err(),
            PayloadError::Missing("critical".into())
        );
    }

    #[test]
    fn values_must_have_their_types() {
        for (from, to) in [
            (r#"{"docker-reference":"r.io/app"}"#, r#""r.io/app""#),
            (r#""r.io/app""#, "null"),
            (&format!(r#""{DIGEST}""#) as &str, "7"),
            (r#""optional":null"#, r#""optional":[]"#),
        ] {
            let p = good().replace(from, to);
            assert!(
                matches!(parse(p.as_bytes()), Err(PayloadError::WrongType { .. })),
                "{p}"
            );
        }
        for v in ["[]", "null", "\"x\"", "1"] {
            assert!(parse(v.as_bytes()).is_err());
        }
    }

    #[test]
    fn the_digest_must_be_valid() {
        for bad in [
            "sha256:634A8F35B5F16DCF4AAA0822ADC0B1964BB786FCA12F6831DE8DDC45E5986A00",
            "sha256:634a",
            "md5:634a8f35b5f16dcf4aaa0822adc0b196",
            "634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00",
            "",
        ] {
            let p = good().replace(DIGEST, bad);
            assert!(
                matches!(parse(p.as_bytes()), Err(PayloadError::Digest { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn syntax_size_and_trailing_bytes() {
        assert!(matches!(parse(b""), Err(PayloadError::Json(_))));
        assert!(matches!(parse(b"{"), Err(PayloadError::Json(_))));
        let trailing = format!("{} x", good());
        assert!(matches!(
            parse(trailing.as_bytes()),
            Err(PayloadError::Json(_))
        ));
        let two = format!("{}{}", good(), good());
        assert!(matches!(parse(two.as_bytes()), Err(PayloadError::Json(_))));
        let bom = format!("\u{feff}{}", good());
        assert!(matches!(parse(bom.as_bytes()), Err(PayloadError::Json(_))));
        let big = good().replace(
            r#""optional":null"#,
            &format!(r#""optional":{{"pad":"{}"}}"#, "x".repeat(70_000)),
        );
        assert!(matches!(
            parse(big.as_bytes()),
            Err(PayloadError::TooLarge { .. })
        ));
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(matches!(parse(deep.as_bytes()), Err(PayloadError::Json(_))));
    }
}
