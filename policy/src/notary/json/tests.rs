use super::*;

/// Skips one value as the content of a top-level object field.
fn skips(json: &str) -> bool {
    let mut r = Reader::new(json.as_bytes());
    r.skip_value(1).is_ok() && {
        r.skip_space();
        r.peek().is_none()
    }
}

fn string(json: &[u8]) -> Result<String> {
    Reader::new(json).string()
}

#[test]
fn grammar_of_go_scanner() {
    for ok in [
        "0",
        "-0",
        "1.5e+10",
        "-12E-3",
        "1e5",
        "true",
        "false",
        "null",
        r#""\u00e9\/""#,
        "[]",
        "{}",
        r#"[1, {"a": [null, {}]}, "x"]"#,
        " \t\r\n[ ] ",
    ] {
        assert!(skips(ok), "{ok}");
    }
    for bad in [
        "01",
        "-",
        "1.",
        ".5",
        "1e",
        "+1",
        "0x10",
        "NaN",
        "tru",
        "nul",
        "[1,]",
        "{\"a\":1,}",
        "{\"a\" 1}",
        "{1:2}",
        "[1 2]",
        "\"\u{1}\"",
        r#""\x""#,
        r#""\u12""#,
        "\"abc",
        "[",
        "\u{a0}1",
        "\u{feff}{}",
        "'a'",
    ] {
        assert!(!skips(bad), "{bad:?}");
    }
}

#[test]
fn nesting_limit_is_ten_thousand() {
    // The value sits in a container at depth 1 (the document object).
    let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    assert!(skips(&nested(9_999)));
    assert!(!skips(&nested(10_000)));
    let objects = |n: usize| format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n));
    assert!(skips(&objects(9_999)));
    assert!(!skips(&objects(10_000)));
}

#[test]
fn strings_decode_like_go_unquote() {
    assert_eq!(
        string(br#""a\"\\\/\b\f\n\r\t""#),
        Ok("a\"\\/\u{8}\u{c}\n\r\t".to_owned())
    );
    assert_eq!(string(br#""\u00e9\ud83d\ude00""#), Ok("é😀".to_owned()));
    // Unpaired surrogates become U+FFFD; the escape after a bad pair is decoded on its own.
    assert_eq!(string(br#""\ud800""#), Ok("\u{fffd}".to_owned()));
    assert_eq!(
        string(br#""\udc00\ud800x""#),
        Ok("\u{fffd}\u{fffd}x".to_owned())
    );
    assert_eq!(string(br#""\ud800\u0041""#), Ok("\u{fffd}A".to_owned()));
    assert_eq!(
        string(br#""\ud800\ud800\udc00""#),
        Ok("\u{fffd}\u{10000}".to_owned())
    );
    assert_eq!(string(br#""\u0000""#), Ok("\u{0}".to_owned()));
    // Invalid UTF-8 bytes: one U+FFFD per byte, as Go's utf8.DecodeRune advances.
    assert_eq!(
        string(b"\"a\xe2\x82b\xff\""),
        Ok("a\u{fffd}\u{fffd}b\u{fffd}".to_owned())
    );
    assert_eq!(
        string(b"\"\xed\xa0\x80\""),
        Ok("\u{fffd}\u{fffd}\u{fffd}".to_owned())
    );
    assert_eq!(string(b"\"\x7f\""), Ok("\u{7f}".to_owned()));
    assert_eq!(string(b"\"\x1f\""), Err(Malformed));
    assert_eq!(string(br#""\ud800\u12""#), Err(Malformed));
}

#[test]
fn fold_key_matches_go_simple_folding() {
    assert_eq!(fold_key("registryScopes"), "REGISTRYSCOPES");
    assert_eq!(fold_key("REGISTRYscopes"), "REGISTRYSCOPES");
    // U+017F LATIN SMALL LETTER LONG S folds to 's', U+212A KELVIN SIGN to 'k'.
    assert_eq!(fold_key("regi\u{17f}tryScopes"), "REGISTRYSCOPES");
    assert_eq!(fold_key("\u{212a}"), "K");
    // Dotless i and dotted capital I have no simple folding to ASCII.
    assert_eq!(fold_key("\u{131}"), "\u{131}");
    assert_eq!(fold_key("\u{130}"), "\u{130}");
}

#[test]
fn slices_reuse_elements_like_go() {
    let decode = |s: &mut GoSlice<String>, json: &str| {
        let mut r = Reader::new(json.as_bytes());
        r.slice_into(s, 1, |r, e, _| r.string_into(e))
    };
    let mut s = GoSlice::default();
    decode(&mut s, r#"["a","b","c"]"#).unwrap();
    assert_eq!(s.as_slice(), ["a", "b", "c"]);
    decode(&mut s, r#"["x"]"#).unwrap();
    assert_eq!(s.as_slice(), ["x"]);
    // Elements past the length are still in Go's backing array: null keeps them.
    decode(&mut s, "[null, null, null, null]").unwrap();
    assert_eq!(s.as_slice(), ["x", "b", "c", ""]);
    // An empty array replaces the backing array.
    decode(&mut s, "[]").unwrap();
    decode(&mut s, "[null]").unwrap();
    assert_eq!(s.as_slice(), [""]);
    decode(&mut s, "null").unwrap();
    assert!(s.as_slice().is_empty());
    assert_eq!(decode(&mut s, r#""a""#), Err(Malformed));
    assert_eq!(decode(&mut s, "[1]"), Err(Malformed));
}
