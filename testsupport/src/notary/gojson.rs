//! JSON written the way Go's `encoding/json` writes it, so envelopes and
//! manifests are byte-compatible with notation's: no whitespace, map keys
//! sorted bytewise, `<`, `>`, `&`, U+2028 and U+2029 escaped as `\u00XX` /
//! `\u20XX`, control characters other than `\b \f \n \r \t` as lowercase
//! `\u00xx`, and float64 formatting for non-integer numbers.

use std::fmt::Write as _;

use serde_json::Value;

/// `s` as a Go JSON string literal (quotes included).
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                write!(out, "\\u{:04x}", u32::from(c)).unwrap();
            }
            c if u32::from(c) < 0x20 => write!(out, "\\u{:04x}", u32::from(c)).unwrap(),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Any JSON value, objects with sorted keys (as Go marshals a map).
pub fn value(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number(n),
        Value::String(s) => string(s),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(value).collect();
            format!("[{}]", parts.join(","))
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            let fields: Vec<(&str, String)> = entries
                .into_iter()
                .map(|(k, v)| (k.as_str(), value(v)))
                .collect();
            object(&fields)
        }
    }
}

/// An object whose fields are written in the given order (as Go marshals a
/// struct); the values are already-encoded JSON.
pub fn object(fields: &[(&str, String)]) -> String {
    let parts: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}:{v}", string(k)))
        .collect();
    format!("{{{}}}", parts.join(","))
}

/// A string map as Go marshals `map[string]string`: keys sorted.
pub fn string_map<'a>(entries: impl IntoIterator<Item = (&'a String, &'a String)>) -> String {
    let mut entries: Vec<(&String, &String)> = entries.into_iter().collect();
    entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let fields: Vec<(&str, String)> = entries
        .into_iter()
        .map(|(k, v)| (k.as_str(), string(v)))
        .collect();
    object(&fields)
}

/// Integers as they are; other numbers as Go formats a float64: shortest
/// round-trip digits, exponent form (`1e-7`, `1e+21`) outside [1e-6, 1e21).
fn number(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    let abs = f.abs();
    if abs == 0.0 || (1e-6..1e21).contains(&abs) {
        return format!("{f}");
    }
    let e = format!("{f:e}");
    match e.split_once('e') {
        Some((m, exp)) if !exp.starts_with('-') => format!("{m}e+{exp}"),
        _ => e,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn strings_are_escaped_like_go() {
        assert_eq!(string("a<b>&c"), r#""a\u003cb\u003e\u0026c""#);
        assert_eq!(string("q\"\\"), r#""q\"\\""#);
        assert_eq!(string("\n\t\r\u{8}\u{c}"), r#""\n\t\r\b\f""#);
        assert_eq!(string("\u{1}\u{1f}\u{7f}"), "\"\\u0001\\u001f\u{7f}\"");
        assert_eq!(string("\u{2028}é"), "\"\\u2028é\"");
    }

    #[test]
    fn maps_are_sorted_and_compact() {
        let v = json!({"b": 1, "a": [true, null, "x"], "Z": {"y": 2, "x": 1}});
        assert_eq!(
            value(&v),
            r#"{"Z":{"x":1,"y":2},"a":[true,null,"x"],"b":1}"#
        );
    }

    #[test]
    fn floats_are_formatted_like_go() {
        assert_eq!(value(&json!(1.5)), "1.5");
        assert_eq!(value(&json!(1e21)), "1e+21");
        assert_eq!(value(&json!(1e-7)), "1e-7");
        assert_eq!(value(&json!(-0.25)), "-0.25");
    }
}
