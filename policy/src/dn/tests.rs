use super::*;

fn map(pairs: &[(&str, &str)]) -> DnMap {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn err(s: &str) -> String {
    parse_distinguished_name(s)
        .err()
        .unwrap_or_else(|| panic!("{s} parsed"))
        .to_string()
}

fn str_attr(oid: &str, value: &str) -> (String, AttrValue) {
    (oid.to_owned(), AttrValue::Str(value.to_owned()))
}

#[test]
fn parses_with_alias_and_trimming() {
    let dn = parse_distinguished_name(" C=US , S = WA,O=  My.  Org,CN=x").unwrap();
    assert_eq!(
        dn,
        map(&[("C", "US"), ("ST", "WA"), ("O", "My.  Org"), ("CN", "x")])
    );
}

#[test]
fn notation_rules_and_messages() {
    assert_eq!(
        err("C=US,ST=WA,O=a=#b"),
        r#"unsupported distinguished name (DN) "C=US,ST=WA,O=a=#b": notation does not support x509.subject identities containing "=#""#
    );
    assert_eq!(
        err(",,,"),
        r#"parsing distinguished name (DN) ",,," failed with err: incomplete type, value pair. A valid DN must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum, and follow RFC 4514 standard"#
    );
    assert_eq!(
        err("C=US+ST=WA,O=x"),
        r#"distinguished name (DN) "C=US+ST=WA,O=x" has multi-valued RDN attributes, remove multi-valued RDN attributes as they are not supported"#
    );
    assert_eq!(
        err("C=US,S=WA,ST=CA,O=x"),
        r#"distinguished name (DN) "C=US,S=WA,ST=CA,O=x" has duplicate RDN attribute for "ST", DN can only have unique RDN attributes"#
    );
    assert_eq!(
        err("O=x"),
        r#"distinguished name (DN) "O=x" has no mandatory RDN attribute for "C", it must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum"#
    );
}

#[test]
fn mandatory_attributes_must_be_non_empty_and_exact_case() {
    assert!(err("C=US,ST=,O=x").contains(r#"no mandatory RDN attribute for "ST""#));
    assert!(err("c=US,st=WA,o=x").contains(r#"no mandatory RDN attribute for "C""#));
    assert!(err("   ").contains(r#"no mandatory RDN attribute for "C""#));
}

#[test]
fn a_type_with_an_empty_value_may_repeat() {
    // Go tests `map[type] == ""`, so an empty first value is silently replaced.
    let dn = parse_distinguished_name("C=,C=US,ST=WA,O=x,OU=,OU=").unwrap();
    assert_eq!(
        dn,
        map(&[("C", "US"), ("ST", "WA"), ("O", "x"), ("OU", "")])
    );
}

#[test]
fn escaped_bytes_that_are_not_utf8_are_kept_exactly() {
    let raw = parse_raw(r"C=US,ST=WA,O=\ff").unwrap();
    assert_eq!(raw.get(b"O".as_slice()), Some(&vec![0xff]));
    let view = parse_distinguished_name(r"C=US,ST=WA,O=\ff").unwrap();
    assert_eq!(view.get("O").map(String::as_str), Some("\u{fffd}"));
    // The exact bytes differ from an actual U+FFFD, which the view cannot show.
    let other = parse_raw("C=US,ST=WA,O=\u{fffd}").unwrap();
    assert!(!subset(&raw, &other));
    assert_eq!(
        err(r"\ff=a,\ff=b,C=US,ST=WA,O=x"),
        r#"distinguished name (DN) "\\ff=a,\\ff=b,C=US,ST=WA,O=x" has duplicate RDN attribute for "\xff", DN can only have unique RDN attributes"#
    );
}

#[test]
fn subset_treats_missing_keys_as_empty() {
    let leaf = map(&[("C", "US"), ("ST", "WA"), ("O", "x")]);
    assert!(is_subset(&map(&[("C", "US"), ("O", "x")]), &leaf));
    assert!(is_subset(&map(&[("C", "US"), ("OU", "")]), &leaf));
    assert!(!is_subset(&map(&[("C", "US"), ("OU", "a")]), &leaf));
    assert!(!is_subset(&map(&[("C", "us")]), &leaf));
    assert!(is_subset(&DnMap::new(), &leaf));
}

#[test]
fn quoting_maps_like_go() {
    let a = parse_raw("C=IN,ST=TG,O=DummyOrg,L=Hyderabad,CN=LOL").unwrap();
    let b = parse_raw(r#"C=US,ST=W"A,O=\ff"#).unwrap();
    assert_eq!(
        go_quote_maps(&[a, b]),
        r#"[map["C":"IN" "CN":"LOL" "L":"Hyderabad" "O":"DummyOrg" "ST":"TG"] map["C":"US" "O":"\xff" "ST":"W\"A"]]"#
    );
}

#[test]
fn go_name_string_orders_and_reverses() {
    // signing-cert.pem of notation-go's verifier tests, in certificate order.
    let rdns = vec![
        vec![str_attr("2.5.4.6", "US")],
        vec![str_attr("2.5.4.8", "WA")],
        vec![str_attr("2.5.4.7", "Seattle")],
        vec![str_attr("2.5.4.10", "SomeOrg")],
        vec![str_attr("2.5.4.11", "SomeOU")],
        vec![str_attr("2.5.4.3", "SomeCN")],
    ];
    assert_eq!(
        go_name_string(&rdns),
        "CN=SomeCN,OU=SomeOU,O=SomeOrg,L=Seattle,ST=WA,C=US"
    );
    // Order in the certificate does not matter: Go regroups by type.
    let mut shuffled = rdns.clone();
    shuffled.reverse();
    assert_eq!(go_name_string(&shuffled), go_name_string(&rdns));
    let all = vec![vec![
        str_attr("2.5.4.5", "42"),
        str_attr("2.5.4.17", "98101"),
        str_attr("2.5.4.9", "Main St"),
    ]];
    assert_eq!(
        go_name_string(&all),
        "SERIALNUMBER=42,POSTALCODE=98101,STREET=Main St"
    );
}

#[test]
fn go_name_string_merges_values_and_keeps_last_cn() {
    let rdns = vec![
        vec![str_attr("2.5.4.11", "a")],
        vec![str_attr("2.5.4.3", "first"), str_attr("2.5.4.11", "b")],
        vec![str_attr("2.5.4.3", "last")],
        vec![str_attr("2.5.4.6", "US")],
    ];
    assert_eq!(go_name_string(&rdns), "CN=last,OU=a+OU=b,C=US");
    // Which notation-go then rejects as multi-valued.
    assert!(matches!(
        parse_distinguished_name(&go_name_string(&rdns)),
        Err(DnError::MultiValued { .. })
    ));
    // An empty last CN drops the CN altogether; empty values of other types stay.
    let rdns = vec![
        vec![str_attr("2.5.4.3", "x")],
        vec![str_attr("2.5.4.3", "")],
        vec![str_attr("2.5.4.10", "")],
    ];
    assert_eq!(go_name_string(&rdns), "O=");
}

#[test]
fn go_name_string_escaping() {
    let cn = |v: &str| go_name_string(&[vec![str_attr("2.5.4.3", v)]]);
    assert_eq!(cn("#x#"), r"CN=\#x#");
    assert_eq!(cn(" x y "), r"CN=\ x y\ ");
    assert_eq!(cn(r#"a,b+c"d\e<f>g;h"#), r#"CN=a\,b\+c\"d\\e\<f\>g\;h"#);
    assert_eq!(cn("a=b é\t"), "CN=a=b é\t");
    assert_eq!(cn("Bad=#CN"), "CN=Bad=#CN");
}

#[test]
fn go_name_string_non_standard_attributes() {
    let email = (
        "1.2.840.113549.1.9.1".to_owned(),
        AttrValue::Str("a@b.c".to_owned()),
    );
    let dc = (
        "0.9.2342.19200300.100.1.25".to_owned(),
        AttrValue::Str("example".to_owned()),
    );
    let rdns = vec![vec![dc], vec![str_attr("2.5.4.3", "x")], vec![email]];
    // Non-standard attributes go last, in reverse order; '@' is not PrintableString: UTF8String.
    assert_eq!(
        go_name_string(&rdns),
        "CN=x,1.2.840.113549.1.9.1=#0c056140622e63,0.9.2342.19200300.100.1.25=#13076578616d706c65"
    );
    // '*' and '&' force UTF8String too; long values use a long-form length.
    let uid = |v: &str| go_name_string(&[vec![str_attr("0.9.2342.19200300.100.1.1", v)]]);
    assert_eq!(uid("*"), "0.9.2342.19200300.100.1.1=#0c012a");
    assert_eq!(uid("&"), "0.9.2342.19200300.100.1.1=#0c0126");
    assert_eq!(uid(""), "0.9.2342.19200300.100.1.1=#1300");
    assert!(uid(&"a".repeat(200)).starts_with("0.9.2342.19200300.100.1.1=#1381c86161"));
    // DER given as is; a standard attribute with a non-string value is dropped.
    let rdns = vec![vec![
        ("1.2.3".to_owned(), AttrValue::Der(vec![0x02, 0x01, 0x05])),
        ("2.5.4.3".to_owned(), AttrValue::Der(vec![0x02, 0x01, 0x05])),
        str_attr("2.5.4.10", "o"),
    ]];
    assert_eq!(go_name_string(&rdns), "O=o,1.2.3=#020105");
}
