//! Small pieces of Go's standard library whose exact behaviour notation's
//! verdicts and messages depend on: base64 decoding (with its error offsets),
//! RFC 3339 parsing of `time.Time`, and the RFC 1123Z time format.

use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

/// Go's `base64.CorruptInputError`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("illegal base64 data at input byte {0}")]
pub struct CorruptInput(pub usize);

#[derive(Debug, Clone, Copy)]
pub enum Alphabet {
    /// `base64.RawURLEncoding` (JWS segments).
    RawUrl,
    /// `base64.StdEncoding` (Go's JSON encoding of `[]byte`).
    Std,
}

fn decode_char(alphabet: Alphabet, c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'-' if matches!(alphabet, Alphabet::RawUrl) => Some(62),
        b'_' if matches!(alphabet, Alphabet::RawUrl) => Some(63),
        b'+' if matches!(alphabet, Alphabet::Std) => Some(62),
        b'/' if matches!(alphabet, Alphabet::Std) => Some(63),
        _ => None,
    }
}

/// Decodes like Go's non-strict `Encoding.DecodeString`: `\r` and `\n` are
/// skipped, the error offset is Go's.
pub fn base64_decode(alphabet: Alphabet, src: &str) -> Result<Vec<u8>, CorruptInput> {
    let src = src.as_bytes();
    let padded = matches!(alphabet, Alphabet::Std);
    let mut out = Vec::with_capacity(src.len() * 3 / 4);
    let mut si = 0;
    loop {
        let mut buf = [0u8; 4];
        let mut dlen = 4;
        let mut j = 0;
        let mut trailing_err = None;
        while j < 4 {
            if si == src.len() {
                if j == 0 {
                    return Ok(out);
                }
                if j == 1 || padded {
                    return Err(CorruptInput(si - j));
                }
                dlen = j;
                break;
            }
            let c = src[si];
            si += 1;
            if let Some(v) = decode_char(alphabet, c) {
                buf[j] = v;
                j += 1;
                continue;
            }
            if c == b'\n' || c == b'\r' {
                continue;
            }
            if !(padded && c == b'=') {
                return Err(CorruptInput(si - 1));
            }
            match j {
                0 | 1 => return Err(CorruptInput(si - 1)),
                2 => {
                    while si < src.len() && (src[si] == b'\n' || src[si] == b'\r') {
                        si += 1;
                    }
                    if si == src.len() {
                        return Err(CorruptInput(src.len()));
                    }
                    if src[si] != b'=' {
                        return Err(CorruptInput(si - 1));
                    }
                    si += 1;
                }
                _ => {}
            }
            while si < src.len() && (src[si] == b'\n' || src[si] == b'\r') {
                si += 1;
            }
            if si < src.len() {
                trailing_err = Some(CorruptInput(si));
            }
            dlen = j;
            break;
        }
        let val = (u32::from(buf[0]) << 18)
            | (u32::from(buf[1]) << 12)
            | (u32::from(buf[2]) << 6)
            | u32::from(buf[3]);
        let bytes = [(val >> 16) as u8, (val >> 8) as u8, val as u8];
        out.extend_from_slice(&bytes[..dlen - 1]);
        if let Some(e) = trailing_err {
            return Err(e);
        }
        if dlen < 4 {
            return Ok(out);
        }
    }
}

/// Go's `time.Time.UnmarshalJSON` text form: RFC 3339 with optional
/// fractional seconds, keeping the written offset.
pub fn parse_rfc3339(s: &str) -> Option<OffsetDateTime> {
    // Go's layout has a literal upper-case 'T' and 'Z'; the `time` crate
    // also takes a space or lower case, which Go refuses.
    let b = s.as_bytes();
    if b.get(10) != Some(&b'T') || s.ends_with('z') {
        return None;
    }
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

const RFC1123Z: &[FormatItem<'static>] = format_description!(
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] [offset_hour sign:mandatory][offset_minute]"
);

/// Go's `t.Format(time.RFC1123Z)`, e.g. `Tue, 27 Jun 2023 06:10:00 +0000`.
pub fn rfc1123z(t: OffsetDateTime) -> String {
    t.format(RFC1123Z).unwrap_or_else(|_| t.to_string())
}

/// A time in UTC (how Go shows certificate times and CBOR epoch times).
pub fn utc(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(UtcOffset::UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_go() {
        assert_eq!(base64_decode(Alphabet::RawUrl, "aGk").unwrap(), b"hi");
        assert_eq!(
            base64_decode(Alphabet::RawUrl, "aGk=").unwrap_err(),
            CorruptInput(3)
        );
        assert_eq!(
            base64_decode(Alphabet::RawUrl, "a").unwrap_err(),
            CorruptInput(0)
        );
        assert_eq!(base64_decode(Alphabet::RawUrl, "aG\nk").unwrap(), b"hi");
        assert_eq!(
            base64_decode(Alphabet::RawUrl, "a+b").unwrap_err(),
            CorruptInput(1)
        );
        assert_eq!(base64_decode(Alphabet::Std, "aGk=").unwrap(), b"hi");
        assert_eq!(
            base64_decode(Alphabet::Std, "aGk").unwrap_err(),
            CorruptInput(0)
        );
        assert_eq!(base64_decode(Alphabet::Std, "aA==").unwrap(), b"h");
        assert_eq!(
            base64_decode(Alphabet::Std, "aA=").unwrap_err(),
            CorruptInput(3)
        );
        assert_eq!(
            base64_decode(Alphabet::Std, "aA==x").unwrap_err(),
            CorruptInput(4)
        );
        assert_eq!(base64_decode(Alphabet::Std, "").unwrap(), b"");
    }

    #[test]
    fn times() {
        let t = parse_rfc3339("2023-03-14T16:10:02+08:00").unwrap();
        assert_eq!(rfc1123z(t), "Tue, 14 Mar 2023 16:10:02 +0800");
        assert_eq!(rfc1123z(utc(t)), "Tue, 14 Mar 2023 08:10:02 +0000");
        assert!(parse_rfc3339("2023-03-14 16:10:02Z").is_none());
        let t = parse_rfc3339("2022-07-29T23:59:00.123Z").unwrap();
        assert_eq!(rfc1123z(t), "Fri, 29 Jul 2022 23:59:00 +0000");
    }
}
