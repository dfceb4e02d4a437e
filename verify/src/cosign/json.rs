//! Reading Sigstore's protobuf-JSON documents (bundles, trusted roots) as
//! strictly as Go's `protojson.Unmarshal`, which sigstore-go uses, reads
//! them, with messages that name the JSON path:
//!
//! - a key of an object that the message does not define is an error
//!   (protojson's default), and so is a key given twice (protojson refuses
//!   duplicated fields; [`super::payload::strict_json`] finds them);
//! - `null` stands for an absent field, as in protojson;
//! - `bytes` fields are base64, standard or URL-safe alphabet, padded or
//!   not (protojson accepts all four);
//! - 64-bit integers are JSON integers or decimal strings (protobuf's JSON
//!   mapping writes them as strings);
//! - timestamps are RFC 3339.
//!
//! Only the JSON field names (lowerCamelCase) are accepted, not protojson's
//! alternative original (snake_case) names: every producer writes the
//! former.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const CONFIG: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, CONFIG);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, CONFIG);

/// protojson's decoding of a `bytes` field.
pub(crate) fn decode_bytes(s: &str) -> Result<Vec<u8>, String> {
    let compact: String = s.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    let engine = if compact.contains(['-', '_']) {
        &URL_SAFE
    } else {
        &STANDARD
    };
    engine.decode(compact).map_err(|e| e.to_string())
}

/// A JSON object being read, with its path for messages.
pub(crate) struct Obj {
    map: Map<String, Value>,
    path: String,
}

/// `path.key`, or `key` at the top level.
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl Obj {
    /// `value` as an object at `path` ("" for the top level).
    pub(crate) fn new(value: Value, path: &str) -> Result<Obj, String> {
        match value {
            Value::Object(map) => Ok(Obj {
                map,
                path: path.to_string(),
            }),
            _ => Err(format!(
                "{} is not an object",
                if path.is_empty() {
                    "the document"
                } else {
                    path
                }
            )),
        }
    }

    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    /// The remaining members.
    pub(crate) fn into_map(self) -> Map<String, Value> {
        self.map
    }

    /// Every key is one of `known`.
    pub(crate) fn only(&self, known: &[&str]) -> Result<(), String> {
        match self.map.keys().find(|k| !known.contains(&k.as_str())) {
            Some(k) => Err(format!("unknown field {}", join(&self.path, k))),
            None => Ok(()),
        }
    }

    /// The value of `key`; absent and `null` are both `None`.
    pub(crate) fn take(&mut self, key: &str) -> Option<Value> {
        match self.map.remove(key) {
            None | Some(Value::Null) => None,
            Some(v) => Some(v),
        }
    }

    fn missing(&self, key: &str) -> String {
        format!("{} is missing", join(&self.path, key))
    }

    pub(crate) fn obj(&mut self, key: &str) -> Result<Option<Obj>, String> {
        let path = join(&self.path, key);
        self.take(key).map(|v| Obj::new(v, &path)).transpose()
    }

    pub(crate) fn req_obj(&mut self, key: &str) -> Result<Obj, String> {
        self.obj(key)?.ok_or_else(|| self.missing(key))
    }

    pub(crate) fn string(&mut self, key: &str) -> Result<Option<String>, String> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(format!("{} is not a string", join(&self.path, key))),
        }
    }

    pub(crate) fn req_string(&mut self, key: &str) -> Result<String, String> {
        self.string(key)?.ok_or_else(|| self.missing(key))
    }

    pub(crate) fn bytes(&mut self, key: &str) -> Result<Option<Vec<u8>>, String> {
        let path = join(&self.path, key);
        match self.take(key) {
            None => Ok(None),
            Some(Value::String(s)) => decode_bytes(&s)
                .map(Some)
                .map_err(|e| format!("{path} is not base64: {e}")),
            Some(_) => Err(format!("{path} is not a base64 string")),
        }
    }

    /// A `bytes` field that must be present and not empty.
    pub(crate) fn req_bytes(&mut self, key: &str) -> Result<Vec<u8>, String> {
        match self.bytes(key)? {
            Some(b) if !b.is_empty() => Ok(b),
            Some(_) => Err(format!("{} is empty", join(&self.path, key))),
            None => Err(self.missing(key)),
        }
    }

    /// An `int64` field (a JSON integer or a decimal string).
    pub(crate) fn int64(&mut self, key: &str) -> Result<Option<i64>, String> {
        let path = join(&self.path, key);
        let bad = || format!("{path} is not a 64-bit integer");
        match self.take(key) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(bad),
            Some(Value::String(s)) => {
                let digits = s.strip_prefix('-').unwrap_or(&s);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad());
                }
                s.parse::<i64>().map(Some).map_err(|_| bad())
            }
            Some(_) => Err(bad()),
        }
    }

    /// The elements of an array field (absent: empty), at most `max`.
    pub(crate) fn array(&mut self, key: &str, max: usize) -> Result<Vec<(String, Value)>, String> {
        let path = join(&self.path, key);
        match self.take(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => {
                if items.len() > max {
                    return Err(format!(
                        "{path} has {} elements, more than the {max} allowed",
                        items.len()
                    ));
                }
                Ok(items
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| (format!("{path}[{i}]"), v))
                    .collect())
            }
            Some(_) => Err(format!("{path} is not an array")),
        }
    }

    /// A `google.protobuf.Timestamp` (RFC 3339).
    pub(crate) fn timestamp(&mut self, key: &str) -> Result<Option<OffsetDateTime>, String> {
        let path = join(&self.path, key);
        match self.string(key)? {
            None => Ok(None),
            Some(s) => OffsetDateTime::parse(&s, &Rfc3339)
                .map(Some)
                .map_err(|e| format!("{path} {s:?} is not an RFC 3339 time: {e}")),
        }
    }
}

/// An array element that must be an object.
pub(crate) fn element(path: String, value: Value) -> Result<Obj, String> {
    Obj::new(value, &path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(s: &str) -> Obj {
        Obj::new(serde_json::from_str(s).unwrap(), "x").unwrap()
    }

    #[test]
    fn bytes_in_every_alphabet_and_padding() {
        for s in ["aGk=", "aGk", "+/8=", "-_8", "-_8="] {
            assert!(decode_bytes(s).is_ok(), "{s}");
        }
        assert_eq!(decode_bytes("aGk").unwrap(), b"hi");
        assert_eq!(decode_bytes("-_8").unwrap(), decode_bytes("+/8=").unwrap());
        assert!(decode_bytes("a*k=").is_err());
        assert!(decode_bytes("+_8=").is_err(), "mixed alphabets");
    }

    #[test]
    fn integers_as_numbers_or_strings() {
        let mut o = obj(
            r#"{"a":"12","b":13,"c":"-1","d":"1e3","e":1.5,"f":"","g":"99999999999999999999"}"#,
        );
        assert_eq!(o.int64("a").unwrap(), Some(12));
        assert_eq!(o.int64("b").unwrap(), Some(13));
        assert_eq!(o.int64("c").unwrap(), Some(-1));
        for k in ["d", "e", "f", "g"] {
            let e = o.int64(k).unwrap_err();
            assert_eq!(e, format!("x.{k} is not a 64-bit integer"));
        }
        assert_eq!(o.int64("absent").unwrap(), None);
    }

    #[test]
    fn unknown_and_missing_fields_are_named() {
        let mut o = obj(r#"{"a":null,"b":"s","c":[1,2,3]}"#);
        assert_eq!(o.only(&["a"]).unwrap_err(), "unknown field x.b");
        assert_eq!(o.req_string("a").unwrap_err(), "x.a is missing");
        assert_eq!(
            o.array("c", 2).unwrap_err(),
            "x.c has 3 elements, more than the 2 allowed"
        );
        let mut o = obj(r#"{"t":"2022-12-31T23:59:59.999Z","u":"yesterday","e":""}"#);
        assert_eq!(
            o.timestamp("t").unwrap().unwrap().unix_timestamp(),
            1_672_531_199
        );
        assert!(
            o.timestamp("u")
                .unwrap_err()
                .starts_with("x.u \"yesterday\"")
        );
        assert_eq!(o.req_bytes("e").unwrap_err(), "x.e is empty");
    }
}
