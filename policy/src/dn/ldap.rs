//! A port of go-ldap v3.4.11's `ParseDN` (dn.go), the RFC 4514 parser notation-go uses, with its
//! quirks kept: types and values are trimmed of ASCII spaces only (an escaped trailing space is
//! re-added, even when the backslash before it was itself escaped), `\XX` escapes write raw bytes
//! (so a value can hold bytes that are not UTF-8, as a Go string can), and a `,`, `;` or `+` is a
//! separator unless it directly follows a backslash.

use super::ber::{self, BerError};
use crate::gofmt::go_unicode_sharp;

/// One `type=value` pair; both are byte strings, as in Go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attribute {
    pub(crate) kind: Vec<u8>,
    pub(crate) value: Vec<u8>,
}

/// go-ldap's `ParseDN` errors, with its exact texts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LdapError {
    /// A `,`, `;` or `+` before the attribute's `=`.
    #[error("incomplete type, value pair")]
    IncompletePair,
    /// The string ended before an `=`.
    #[error("DN ended with incomplete type, value pair")]
    EndedIncomplete,
    /// A type or value ends with a lone backslash.
    #[error("got corrupted escaped character: '{text}'")]
    CorruptedEscape {
        /// The trimmed type or value.
        text: String,
    },
    /// `\` followed by a single character that is not special.
    #[error("failed to decode escaped character: encoding/hex: invalid byte: {character}")]
    ShortHexEscape {
        /// The character after the backslash.
        character: char,
    },
    /// `\` followed by two characters that are not both ASCII.
    #[error("failed to decode escaped character: invalid byte: {text}")]
    NonAsciiHexEscape {
        /// The two characters after the backslash.
        text: String,
    },
    /// `\` followed by two ASCII characters that are not both hex digits.
    #[error("failed to decode escaped character: encoding/hex: invalid byte: {}", go_unicode_sharp(char::from(*.byte)))]
    InvalidHexEscape {
        /// The first non-hex byte.
        byte: u8,
    },
    /// A `#`-prefixed value whose hex or BER is invalid.
    #[error("failed to decode BER encoding: {source}")]
    Ber {
        /// What the hex or BER decoder reported.
        #[source]
        source: BerError,
    },
}

/// go-ldap's `ParseDN`: the RDNs in order, each a list of attributes.
pub(crate) fn parse_dn(s: &str) -> Result<Vec<Vec<Attribute>>, LdapError> {
    let mut rdns = Vec::new();
    if s.trim().is_empty() {
        // Go's strings.TrimSpace and Rust's trim agree: both use Unicode White_Space.
        return Ok(rdns);
    }
    let bytes = s.as_bytes();
    let mut rdn = Vec::new();
    let mut kind: Vec<u8> = Vec::new();
    let mut escaping = false;
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if escaping {
            escaping = false;
        } else if b == b'\\' {
            escaping = true;
        } else if b == b'=' && kind.is_empty() {
            // A type that trims to nothing leaves `kind` empty: the next `=` is tried again.
            kind = decode_string(slice(s, start, i))?;
            start = i + 1;
        } else if matches!(b, b',' | b'+' | b';') {
            if kind.is_empty() {
                return Err(LdapError::IncompletePair);
            }
            let value = decode_value(slice(s, start, i))?;
            start = i + 1;
            rdn.push(Attribute {
                kind: std::mem::take(&mut kind),
                value,
            });
            if b != b'+' {
                rdns.push(std::mem::take(&mut rdn));
            }
        }
    }
    if kind.is_empty() {
        return Err(LdapError::EndedIncomplete);
    }
    let value = decode_value(slice(s, start, s.len()))?;
    rdn.push(Attribute { kind, value });
    rdns.push(rdn);
    Ok(rdns)
}

/// `s[start..end]`; both ends sit next to ASCII delimiters, so they are char boundaries.
fn slice(s: &str, start: usize, end: usize) -> &str {
    s.get(start..end).unwrap_or_default()
}

/// go-ldap's `setValue`: a value starting with `#` (before any trimming) is hex-encoded BER.
fn decode_value(s: &str) -> Result<Vec<u8>, LdapError> {
    match s.strip_prefix('#') {
        Some(hex) => ber::decode_hex_ber(hex).map_err(|source| LdapError::Ber { source }),
        None => decode_string(s),
    }
}

/// go-ldap's `stripLeadingAndTrailingSpaces`.
fn strip_spaces(s: &str) -> String {
    let mut stripped = s.trim_matches(' ').to_owned();
    if stripped.ends_with('\\') && s.ends_with(' ') {
        stripped.push(' ');
    }
    stripped
}

/// go-ldap's `decodeString`: trims, then unescapes over the runes of what is left.
fn decode_string(s: &str) -> Result<Vec<u8>, LdapError> {
    let text = strip_spaces(s);
    let runes: Vec<char> = text.chars().collect();
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while let Some(&c) = runes.get(i) {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            i += 1;
            continue;
        }
        let Some(&next) = runes.get(i + 1) else {
            return Err(LdapError::CorruptedEscape { text });
        };
        if matches!(
            next,
            ' ' | '"' | '#' | '+' | ',' | ';' | '<' | '=' | '>' | '\\'
        ) {
            // All of these are ASCII, so the rune is one byte.
            out.push(u32::from(next).to_le_bytes()[0]);
            i += 2;
            continue;
        }
        let Some(&second) = runes.get(i + 2) else {
            return Err(LdapError::ShortHexEscape { character: next });
        };
        out.push(hex_pair(next, second)?);
        i += 3;
    }
    Ok(out)
}

/// The byte of a `\XX` escape, with encoding/hex's error for the first bad digit.
fn hex_pair(first: char, second: char) -> Result<u8, LdapError> {
    if !first.is_ascii() || !second.is_ascii() {
        return Err(LdapError::NonAsciiHexEscape {
            text: format!("{first}{second}"),
        });
    }
    let digit = |c: char| c.to_digit(16).and_then(|d| u8::try_from(d).ok());
    let byte_of = |c: char| u32::from(c).to_le_bytes()[0];
    match (digit(first), digit(second)) {
        (Some(hi), Some(lo)) => Ok(hi << 4 | lo),
        (None, _) => Err(LdapError::InvalidHexEscape {
            byte: byte_of(first),
        }),
        (Some(_), None) => Err(LdapError::InvalidHexEscape {
            byte: byte_of(second),
        }),
    }
}

#[cfg(test)]
mod tests;
