//! Reading JSON the way Go's encoding/json fills a struct: keys match field
//! names exactly or, failing that, case-insensitively; unknown keys are
//! ignored; `null` leaves a field at its zero value; a value of the wrong
//! type is an error.

use serde_json::{Map, Value};

/// The value for struct field `name`: an exact key first, else a key equal
/// ignoring case.
pub fn field<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name)
        .or_else(|| {
            obj.iter()
                .find(|(k, _)| k.to_lowercase() == name.to_lowercase())
                .map(|(_, v)| v)
        })
        .filter(|v| !v.is_null())
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn mismatch(v: &Value, field: &str, go_type: &str) -> String {
    format!(
        "json: cannot unmarshal {} into Go struct field .{field} of type {go_type}",
        kind(v)
    )
}

pub fn string(obj: &Map<String, Value>, name: &str) -> Result<Option<String>, String> {
    match field(obj, name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => Err(mismatch(v, name, "string")),
    }
}

pub fn string_list(obj: &Map<String, Value>, name: &str) -> Result<Option<Vec<String>>, String> {
    match field(obj, name) {
        None => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.clone()),
                Value::Null => Ok(String::new()),
                v => Err(mismatch(v, name, "string")),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(v) => Err(mismatch(v, name, "[]string")),
    }
}

pub fn object<'a>(
    obj: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a Map<String, Value>>, String> {
    match field(obj, name) {
        None => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(v) => Err(mismatch(v, name, "object")),
    }
}

/// The top level of a document that must be an object (Go: a struct).
pub fn top_object(bytes: &[u8]) -> Result<Map<String, Value>, String> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    match value {
        Value::Object(m) => Ok(m),
        Value::Null => Ok(Map::new()),
        v => Err(format!(
            "json: cannot unmarshal {} into Go value of type struct",
            kind(&v)
        )),
    }
}
