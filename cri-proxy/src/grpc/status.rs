//! `grpc-status` and `grpc-message`: building and reading them.
//!
//! `grpc-message` is percent-encoded as the gRPC spec (`PROTOCOL-HTTP2.md`) says: bytes outside
//! printable ASCII (0x20-0x7E), and `%` itself, become `%XX`. Decoding is lenient the way grpc-go's
//! is: an invalid escape is kept as it is.

use http::{HeaderMap, HeaderName, HeaderValue};

/// `grpc-status` header/trailer name.
pub const GRPC_STATUS: HeaderName = HeaderName::from_static("grpc-status");
/// `grpc-message` header/trailer name.
pub const GRPC_MESSAGE: HeaderName = HeaderName::from_static("grpc-message");

/// Percent-encodes a status message for `grpc-message`.
pub fn encode_message(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for &byte in message.as_bytes() {
        if (0x20..=0x7e).contains(&byte) && byte != b'%' {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(hex_digit(byte >> 4));
            out.push(hex_digit(byte & 0x0f));
        }
    }
    out
}

/// Decodes a `grpc-message` value (invalid escapes kept; invalid UTF-8 replaced).
pub fn decode_message(value: &[u8]) -> String {
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while let Some(&byte) = value.get(i) {
        let escaped = (byte == b'%')
            .then(|| Some((unhex(*value.get(i + 1)?)? << 4) | unhex(*value.get(i + 2)?)?))
            .flatten();
        match escaped {
            Some(decoded) => {
                out.push(decoded);
                i += 3;
            }
            None => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Sets `grpc-status` and (when not empty) the encoded `grpc-message` in `map`.
pub fn insert_status(map: &mut HeaderMap, code: u32, message: &str) {
    map.insert(GRPC_STATUS, HeaderValue::from(code));
    if !message.is_empty() {
        // Encoded messages are printable ASCII, which is always a valid header value.
        if let Ok(value) = HeaderValue::try_from(encode_message(message)) {
            map.insert(GRPC_MESSAGE, value);
        }
    }
}

/// The `grpc-status` in `map`, if present and a number.
pub fn read_status(map: &HeaderMap) -> Option<u32> {
    map.get(GRPC_STATUS)?.to_str().ok()?.trim().parse().ok()
}

fn hex_digit(nibble: u8) -> char {
    char::from(b"0123456789ABCDEF"[usize::from(nibble & 0x0f)])
}

fn unhex(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_as_the_spec_says() {
        assert_eq!(encode_message("plain text: ok"), "plain text: ok");
        assert_eq!(encode_message("50% done\n"), "50%25 done%0A");
        assert_eq!(encode_message("é"), "%C3%A9");
    }

    #[test]
    fn decodes_leniently_and_round_trips() {
        for text in [
            "SignatureValidationFailed: no signature",
            "50% done\n\té ✓",
            "",
        ] {
            assert_eq!(decode_message(encode_message(text).as_bytes()), text);
        }
        assert_eq!(decode_message(b"100%"), "100%");
        assert_eq!(decode_message(b"%zz%4"), "%zz%4");
    }

    #[test]
    fn status_in_a_map() {
        let mut map = HeaderMap::new();
        insert_status(&mut map, 8, "too big: 100%");
        assert_eq!(read_status(&map), Some(8));
        assert_eq!(map.get(GRPC_MESSAGE).unwrap(), "too big: 100%25");
        let mut empty = HeaderMap::new();
        insert_status(&mut empty, 0, "");
        assert!(empty.get(GRPC_MESSAGE).is_none());
    }
}
