//! RFC 8785 JSON Canonicalization Scheme, for what Rekor signs: a signed
//! entry timestamp is an ECDSA signature over the SHA-256 of the canonical
//! form of the entry's `{body, integratedTime, logIndex, logID}` object
//! (cosign and containers/image canonicalise with
//! cyberphone/json-canonicalization).
//!
//! - objects: members sorted by their names' UTF-16 code units, no
//!   whitespace;
//! - strings: `"` and `\` escaped, U+0008/0009/000A/000C/000D as `\b \t \n
//!   \f \r`, other controls below U+0020 as `\u00xx` (lowercase hex),
//!   everything else (including U+007F and U+2028) as UTF-8;
//! - numbers: ECMAScript's `Number.prototype.toString`. Only integers of at
//!   most 2^53 in magnitude are supported (they print as their decimal
//!   digits); anything else is refused rather than approximated, as a
//!   number that a double cannot hold exactly would canonicalise to another
//!   value.

use serde_json::Value;

/// The largest integer magnitude a double holds exactly.
pub const MAX_SAFE_INTEGER: u64 = 1 << 53;

/// The canonical form of `value`, or why it has none here.
pub fn canonicalize(value: &Value) -> Result<String, String> {
    let mut out = String::new();
    write(value, &mut out)?;
    Ok(out)
}

fn write(value: &Value, out: &mut String) -> Result<(), String> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number(n)?),
        Value::String(s) => string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, (name, item)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                string(name, out);
                out.push(':');
                write(item, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn number(n: &serde_json::Number) -> Result<String, String> {
    let unsupported = || {
        Err(format!(
            "the number {n} cannot be canonicalised here (only integers of at most 2^53 are)"
        ))
    };
    if let Some(i) = n.as_i64() {
        return if i.unsigned_abs() <= MAX_SAFE_INTEGER {
            Ok(i.to_string())
        } else {
            unsupported()
        };
    }
    if let Some(u) = n.as_u64() {
        return if u <= MAX_SAFE_INTEGER {
            Ok(u.to_string())
        } else {
            unsupported()
        };
    }
    match n.as_f64() {
        // `1.0` and `-0.0` are the integers 1 and 0 in ECMAScript.
        Some(f) if f.is_finite() && f.fract() == 0.0 && f.abs() <= MAX_SAFE_INTEGER as f64 => {
            Ok((f as i64).to_string())
        }
        _ => unsupported(),
    }
}

fn string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canon(text: &str) -> String {
        canonicalize(&serde_json::from_str(text).unwrap()).unwrap()
    }

    #[test]
    fn rfc8785_examples() {
        // RFC 8785 §3.2.2 (strings and literals; its numbers need doubles)
        let v = json!({
            "literals": [null, true, false],
            "string": "\u{20ac}$\u{f}\nA'B\"\\\\\"/",
        });
        assert_eq!(
            canonicalize(&v).unwrap(),
            r#"{"literals":[null,true,false],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
        // RFC 8785 §3.2.3: sorting by UTF-16 code units
        let sorted = canon(
            r#"{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}"#,
        );
        assert_eq!(
            sorted,
            "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\"ö\":\"Latin Small Letter O With Diaeresis\",\"€\":\"Euro Sign\",\"😀\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}"
        );
    }

    #[test]
    fn whitespace_order_and_escapes_do_not_matter() {
        let a = canon(
            r#"{ "logIndex" : 8949589, "body":"eyJ\u0061", "logID":"c0", "integratedTime":1670870899 }"#,
        );
        assert_eq!(
            a,
            r#"{"body":"eyJa","integratedTime":1670870899,"logID":"c0","logIndex":8949589}"#
        );
        assert_eq!(canon(r#""\u003c\u2028\u007f""#), "\"<\u{2028}\u{7f}\"");
        assert_eq!(
            canon("[1.0, -0.0, -5, 9007199254740992]"),
            "[1,0,-5,9007199254740992]"
        );
    }

    #[test]
    fn numbers_a_double_cannot_hold_are_refused() {
        for text in [
            "9007199254740993",
            "-9007199254740993",
            "1.5",
            "1e300",
            "18446744073709551615",
        ] {
            let v: Value = serde_json::from_str(text).unwrap();
            assert!(canonicalize(&v).is_err(), "{text}");
        }
    }
}
