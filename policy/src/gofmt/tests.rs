use super::*;

#[test]
fn quotes_and_backslashes_are_escaped() {
    assert_eq!(go_quote(""), r#""""#);
    assert_eq!(go_quote(r#"a"b\c"#), r#""a\"b\\c""#);
    assert_eq!(go_quote("C=US, ST=WA"), r#""C=US, ST=WA""#);
}

#[test]
fn control_characters() {
    assert_eq!(
        go_quote("\u{7}\u{8}\u{c}\n\r\t\u{b}"),
        r#""\a\b\f\n\r\t\v""#
    );
    assert_eq!(go_quote("\u{0}\u{1}\u{1f}\u{7f}"), r#""\x00\x01\x1f\x7f""#);
    // C1 controls and format characters are not printable: \u escapes.
    assert_eq!(go_quote("\u{85}\u{ad}\u{200b}"), r#""\u0085\u00ad\u200b""#);
}

#[test]
fn printable_non_ascii_is_kept() {
    assert_eq!(
        go_quote("café 日本 😀 \u{fffd}"),
        "\"café 日本 😀 \u{fffd}\""
    );
    // U+1E4D0 (Nag Mundari) is new in Unicode 15.0, printable for Go 1.21+.
    assert_eq!(go_quote("\u{1e4d0}"), "\"\u{1e4d0}\"");
}

#[test]
fn non_printable_runes_use_u_escapes() {
    // Spaces other than U+0020 are not "printable" for Go.
    assert_eq!(go_quote("a\u{a0}b\u{3000}"), r#""a\u00a0b\u3000""#);
    assert_eq!(go_quote("\u{2028}\u{e000}"), r#""\u2028\ue000""#);
    assert_eq!(go_quote("\u{e0001}\u{10ffff}"), r#""\U000e0001\U0010ffff""#);
    // U+31EF was assigned in Unicode 15.1: unassigned for Go 1.21-1.24's tables.
    assert_eq!(go_quote("\u{31ef}"), r#""\u31ef""#);
}

#[test]
fn invalid_utf8_bytes_use_x_escapes() {
    assert_eq!(
        go_quote_bytes(&[0xff, b'a', 0xe2, 0x82, b'"']),
        r#""\xffa\xe2\x82\"""#
    );
    assert_eq!(go_quote_bytes("é".as_bytes()), "\"é\"");
}

#[test]
fn unicode_sharp_format() {
    assert_eq!(go_unicode_sharp('G'), "U+0047 'G'");
    assert_eq!(go_unicode_sharp('\u{1}'), "U+0001");
    assert_eq!(go_unicode_sharp('é'), "U+00E9 'é'");
    assert_eq!(go_unicode_sharp('\u{10ffff}'), "U+10FFFF");
}

#[test]
fn lossy_conversion_replaces_byte_by_byte_like_go() {
    let mut s = String::new();
    push_go_lossy(&mut s, &[0xe2, 0x82, b'A']);
    assert_eq!(s, "\u{fffd}\u{fffd}A");
    // Rust's own lossy conversion would give one replacement for the truncated sequence.
    assert_eq!(String::from_utf8_lossy(&[0xe2, 0x82, b'A']), "\u{fffd}A");

    let mut s = String::new();
    push_go_lossy(&mut s, &[0xed, 0xa0, 0x80, 0xf0, 0x9f, 0x98, 0x80]);
    assert_eq!(s, "\u{fffd}\u{fffd}\u{fffd}😀");
}

#[test]
fn is_print_latin1_matches_go_fast_path() {
    for code in 0u32..=0xff {
        let c = char::from_u32(code).unwrap_or('\0');
        let go = (0x20..=0x7e).contains(&code) || ((0xa1..=0xff).contains(&code) && code != 0xad);
        assert_eq!(is_print(c), go, "U+{code:04X}");
    }
}
