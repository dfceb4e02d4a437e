use super::*;

fn attrs(s: &str) -> Vec<Vec<(String, Vec<u8>)>> {
    parse_dn(s)
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .into_iter()
        .map(|rdn| {
            rdn.into_iter()
                .map(|a| (String::from_utf8(a.kind).unwrap(), a.value))
                .collect()
        })
        .collect()
}

fn one(s: &str) -> Vec<u8> {
    let rdns = attrs(s);
    assert_eq!(rdns.len(), 1, "{s}");
    rdns[0][0].1.clone()
}

fn err(s: &str) -> String {
    parse_dn(s)
        .err()
        .unwrap_or_else(|| panic!("{s} parsed"))
        .to_string()
}

#[test]
fn separators_and_multi_valued_rdns() {
    let rdns = attrs("CN=a,OU=b;O=c+L=d");
    let kinds: Vec<Vec<&str>> = rdns
        .iter()
        .map(|rdn| rdn.iter().map(|(k, _)| k.as_str()).collect())
        .collect();
    assert_eq!(kinds, vec![vec!["CN"], vec!["OU"], vec!["O", "L"]]);
    assert_eq!(rdns[2][1].1, b"d");
}

#[test]
fn spaces_are_trimmed_around_types_and_values_only() {
    let rdns = attrs("  CN  =  a  b  , O=x");
    assert_eq!(rdns[0][0], ("CN".to_owned(), b"a  b".to_vec()));
    // Tabs are not trimmed (go-ldap trims ' ' only).
    assert_eq!(one("CN=\ta\t"), b"\ta\t");
    assert!(attrs("   ").is_empty());
    assert!(attrs("\u{3000}\t").is_empty());
}

#[test]
fn escapes() {
    assert_eq!(one(r#"CN=\,\;\+\"\\\<\>\=\#\ x"#), br#",;+"\<>=# x"#);
    assert_eq!(one(r"CN=\41\c3\a9"), "Aé".as_bytes());
    assert_eq!(one(r"CN=\ff"), [0xff]);
    assert_eq!(one(r"CN=a\ "), b"a ");
    // go-ldap re-adds the trailing space even when the backslash before it is escaped.
    assert_eq!(one(r"CN=a\\ "), br"a\ ");
    // An escaped separator does not separate.
    assert_eq!(attrs(r"CN=a\,b").len(), 1);
}

#[test]
fn empty_types_and_late_equals() {
    // The first '=' yields an empty type, so the next '=' ends the type again.
    assert_eq!(attrs("=a=b"), vec![vec![("a".to_owned(), b"b".to_vec())]]);
    assert_eq!(
        attrs("CN=a=b"),
        vec![vec![("CN".to_owned(), b"a=b".to_vec())]]
    );
}

#[test]
fn error_texts() {
    assert_eq!(err(",,,"), "incomplete type, value pair");
    assert_eq!(err("CN=a,OU"), "DN ended with incomplete type, value pair");
    assert_eq!(err(r"CN=a\"), r"got corrupted escaped character: 'a\'");
    assert_eq!(
        err(r"CN=\4"),
        "failed to decode escaped character: encoding/hex: invalid byte: 4"
    );
    assert_eq!(
        err(r"CN=\é1"),
        "failed to decode escaped character: invalid byte: é1"
    );
    assert_eq!(
        err(r"CN=\4G"),
        "failed to decode escaped character: encoding/hex: invalid byte: U+0047 'G'"
    );
    assert_eq!(
        err(r"CN=\G4x"),
        "failed to decode escaped character: encoding/hex: invalid byte: U+0047 'G'"
    );
    assert_eq!(
        err("CN=\\\u{1}4"),
        "failed to decode escaped character: encoding/hex: invalid byte: U+0001"
    );
}

#[test]
fn hex_ber_values() {
    assert_eq!(one("CN=#0c03616263"), b"abc");
    assert_eq!(one("CN=#0402686900"), b"hi");
    // Constructed: the children re-encoded.
    assert_eq!(one("CN=#3006020101020102"), [2, 1, 1, 2, 1, 2]);
    // Indefinite length ended by end-of-contents.
    assert_eq!(one("CN=#308004016100000000"), [4, 1, 0x61]);
    // Long-form lengths are re-encoded minimally.
    assert_eq!(one("CN=#3005048102ffff"), [4, 2, 0xff, 0xff]);
    // The value is not trimmed before hex decoding.
    assert_eq!(
        err("CN=#41 "),
        "failed to decode BER encoding: encoding/hex: invalid byte: U+0020 ' '"
    );
}

#[test]
fn hex_ber_errors() {
    let cases = [
        ("CN=#", "EOF"),
        ("CN=#zz", "encoding/hex: invalid byte: U+007A 'z'"),
        ("CN=#041", "encoding/hex: odd length hex string"),
        ("CN=#04z", "encoding/hex: invalid byte: U+007A 'z'"),
        ("CN=#0c", "unexpected EOF"),
        ("CN=#0c05", "unexpected EOF"),
        ("CN=#0c02c328", "invalid UTF-8 string"),
        ("CN=#13022a41", "invalid character in position 0"),
        ("CN=#1603 41c3a9", "encoding/hex: invalid byte: U+0020 ' '"),
        (
            "CN=#160341c3a9",
            "invalid character for IA5String at pos 1: é",
        ),
        ("CN=#0480", "indefinite length used with primitive type"),
        ("CN=#04ff", "invalid length byte 0xff"),
        ("CN=#0489", "long-form length overflow"),
        ("CN=#1f00", "invalid first high-tag-number tag byte"),
        (
            "CN=#3003000000",
            "eoc child not allowed with definite length",
        ),
        ("CN=#3001020100", "expected to read 1 bytes, read 3"),
        ("CN=#3003", "unexpected EOF"),
        (
            "CN=#04848000000000",
            "length 2147483648 greater than maximum 2147483647",
        ),
        ("CN=#0488ffffffffffffff00", "length cannot be less than -1"),
    ];
    for (dn, want) in cases {
        assert_eq!(
            err(dn),
            format!("failed to decode BER encoding: {want}"),
            "{dn}"
        );
    }
}
