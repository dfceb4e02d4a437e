//! The pieces of Go's `fmt` and `strconv` that notation-go's messages go through: `%q` of a
//! string (`strconv.Quote`), of a byte string that may not be UTF-8 (Go strings may hold any
//! bytes), and `%#U` of a rune.

mod isprint;

/// Go's `%q` formatting of a string, i.e. `strconv.Quote`: double-quoted, with `"` and `\`
/// backslashed, printable runes (Go's `strconv.IsPrint`, Unicode 15.0.0) kept as they are,
/// `\a \b \f \n \r \t \v` for those controls, `\xNN` for other bytes below U+0020 and for
/// U+007F, and `\uNNNN` / `\UNNNNNNNN` for other non-printable runes. (A `&str` is always UTF-8,
/// so Go's `\xNN` for invalid bytes cannot arise here; see the crate's byte-string variant.)
pub fn go_quote(s: &str) -> String {
    go_quote_bytes(s.as_bytes())
}

/// `strconv.Quote` of a Go string holding arbitrary bytes: every byte that does not start a valid
/// UTF-8 sequence is written as `\xNN`, as Go does.
pub(crate) fn go_quote_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    let mut rest = bytes;
    while let Some(&first) = rest.first() {
        match decode_rune(rest) {
            Some((c, width)) => {
                push_escaped_rune(&mut out, c);
                rest = rest.get(width..).unwrap_or_default();
            }
            None => {
                push_hex_byte(&mut out, "\\x", first);
                rest = rest.get(1..).unwrap_or_default();
            }
        }
    }
    out.push('"');
    out
}

/// Go's `utf8.DecodeRune` on success: the rune and its width, or `None` where Go returns
/// `(RuneError, 1)` (invalid or truncated sequence). Go's accepted sequences are exactly the
/// well-formed UTF-8 ones, as for Rust's `str::from_utf8`.
pub(crate) fn decode_rune(bytes: &[u8]) -> Option<(char, usize)> {
    let width = match *bytes.first()? {
        0x00..=0x7f => 1,
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return None,
    };
    let prefix = bytes.get(..width)?;
    let c = std::str::from_utf8(prefix).ok()?.chars().next()?;
    Some((c, width))
}

/// Appends `bytes` to `out` as Go converts bytes to runes (`for range`, `[]rune(s)`, and
/// encoding/json's unquote): each byte that does not start a valid sequence becomes one U+FFFD.
/// (Rust's `from_utf8_lossy` differs: it replaces a whole truncated sequence by one U+FFFD.)
pub(crate) fn push_go_lossy(out: &mut String, bytes: &[u8]) {
    let mut rest = bytes;
    while !rest.is_empty() {
        match decode_rune(rest) {
            Some((c, width)) => {
                out.push(c);
                rest = rest.get(width..).unwrap_or_default();
            }
            None => {
                out.push(char::REPLACEMENT_CHARACTER);
                rest = rest.get(1..).unwrap_or_default();
            }
        }
    }
}

/// Go's `%#U`: `U+0041 'A'` for a printable rune, `U+0001` otherwise.
pub(crate) fn go_unicode_sharp(c: char) -> String {
    let code = u32::from(c);
    if is_print(c) {
        format!("U+{code:04X} '{c}'")
    } else {
        format!("U+{code:04X}")
    }
}

/// Go's `strconv.IsPrint`.
pub(crate) fn is_print(c: char) -> bool {
    let code = u32::from(c);
    isprint::PRINTABLE
        .binary_search_by(|&(lo, hi)| {
            if hi < code {
                std::cmp::Ordering::Less
            } else if lo > code {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

fn push_escaped_rune(out: &mut String, c: char) {
    if c == '"' || c == '\\' {
        out.push('\\');
        out.push(c);
        return;
    }
    if is_print(c) {
        out.push(c);
        return;
    }
    match c {
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        _ => {
            let code = u32::from(c);
            if code < 0x20 || code == 0x7f {
                // Both branches hold a value below 0x80, so the byte is the code itself.
                push_hex_byte(out, "\\x", code.to_le_bytes()[0]);
            } else if code < 0x10000 {
                out.push_str(&format!("\\u{code:04x}"));
            } else {
                out.push_str(&format!("\\U{code:08x}"));
            }
        }
    }
}

fn push_hex_byte(out: &mut String, prefix: &str, byte: u8) {
    out.push_str(prefix);
    out.push_str(&format!("{byte:02x}"));
}

#[cfg(test)]
mod tests;
