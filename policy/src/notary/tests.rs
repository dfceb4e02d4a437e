//! Document-level behaviour: Go's encoding/json semantics, lookup, trust stores. The notation-go
//! vectors are exercised in `tests/`.

use super::*;

const STATEMENT: &str = r#"{"name": "s", "registryScopes": ["*"], "signatureVerification": {"level": "strict"}, "trustStores": ["ca:store"], "trustedIdentities": ["*"]}"#;

fn doc_with(statements: &str) -> String {
    format!(r#"{{"version": "1.0", "trustPolicies": [{statements}]}}"#)
}

fn parse(json: &str) -> Result<TrustPolicyDocument, String> {
    TrustPolicyDocument::parse(json.as_bytes()).map_err(|e| e.to_string())
}

fn malformed(json: &[u8]) -> bool {
    TrustPolicyDocument::parse(json) == Err(PolicyError::Malformed)
}

#[test]
fn keys_match_case_insensitively_and_unknown_fields_are_ignored() {
    let json = r#"{"VERSION": "1.0", "globalPolicy": true, "TrustPolicies": [{
        "Name": "s", "regi\u017ftryScopes": ["*"], "SIGNATUREverification": {"LEVEL": "audit",
        "extra": [1, {"a": null}]}, "trustStores": ["ca:store"], "trustedidentities": ["*"]}]}"#;
    let doc = parse(json).unwrap();
    let statement = &doc.statements()[0];
    assert_eq!(statement.name(), "s");
    assert_eq!(statement.registry_scopes(), ["*"]);
    assert_eq!(statement.level().name(), LevelName::Audit);
}

#[test]
fn a_later_duplicate_key_decodes_into_the_earlier_value() {
    // Strings: the last wins, whatever the key's case.
    let json = r#"{"version": "1.0", "Version": "2.0", "trustPolicies": []}"#;
    assert_eq!(
        parse(json).err().unwrap(),
        r#"oci trust policy document uses unsupported version "2.0""#
    );
    // Objects merge field by field; `null` for an object changes nothing.
    let json = doc_with(&STATEMENT.replace(
        r#""signatureVerification": {"level": "strict"}"#,
        r#""signatureVerification": {"level": "strict"}, "signatureVerification": {"verifyTimestamp": "afterCertExpiry"}, "signatureVerification": null"#,
    ));
    let doc = parse(&json).unwrap();
    assert_eq!(doc.statements()[0].level().name(), LevelName::Strict);
    assert_eq!(
        doc.statements()[0].verify_timestamp(),
        VerifyTimestamp::AfterCertExpiry
    );
    // Array elements are decoded into the existing ones: a statement object merges.
    let json = format!(
        r#"{{"version": "1.0", "trustPolicies": [{STATEMENT}], "trustPolicies": [{{"name": "renamed"}}]}}"#
    );
    let doc = parse(&json).unwrap();
    assert_eq!(doc.statements()[0].name(), "renamed");
    assert_eq!(doc.statements()[0].trust_stores().len(), 1);
    // Maps merge entries; `null` for a map empties it.
    let json = doc_with(&STATEMENT.replace(
        r#"{"level": "strict"}"#,
        r#"{"level": "strict", "override": {"expiry": "log"}, "override": {"revocation": "skip"}}"#,
    ));
    let level = *parse(&json).unwrap().statements()[0].level();
    assert_eq!(level.action(ValidationType::Expiry), Action::Log);
    assert_eq!(level.action(ValidationType::Revocation), Action::Skip);
    let json = doc_with(&STATEMENT.replace(
        r#"{"level": "strict"}"#,
        r#"{"level": "strict", "override": {"expiry": "log"}, "override": null}"#,
    ));
    assert_eq!(
        parse(&json).unwrap().statements()[0].level().name(),
        LevelName::Strict
    );
}

#[test]
fn null_values() {
    // `null` in a map stores "" (a fresh element is decoded).
    let json = doc_with(&STATEMENT.replace(
        r#"{"level": "strict"}"#,
        r#"{"level": "strict", "override": {"expiry": null}}"#,
    ));
    assert!(parse(&json).err().unwrap().ends_with(
        r#"has invalid signatureVerification: verification action "" in custom signature verification is not supported, supported values are ["enforce" "log" "skip"]"#
    ));
    // `null` for a slice is an absent slice; for a string, an absent string.
    let json = doc_with(&STATEMENT.replace(r#"["ca:store"]"#, "null"));
    assert_eq!(
        parse(&json).err().unwrap(),
        r#"oci trust policy: trust policy statement "s" is either missing trust stores or trusted identities, both must be specified"#
    );
    let json = r#"{"version": null, "trustPolicies": []}"#;
    assert_eq!(
        parse(json).err().unwrap(),
        PolicyError::EmptyVersion.to_string()
    );
}

#[test]
fn type_mismatches_and_syntax_errors_are_malformed() {
    for json in [
        r#"{"version": 1}"#,
        r#"{"version": "1.0", "trustPolicies": {}}"#,
        r#"{"trustPolicies": [{"name": ["x"]}]}"#,
        r#"{"trustPolicies": [{"signatureVerification": {"override": []}}]}"#,
        r#"{"trustPolicies": [{"trustStores": "ca:x"}]}"#,
        r#"{"trustPolicies": [1]}"#,
        r#"{"version": "1.0", "unknown": [1,]}"#,
        r#"{"version": "1.0""#,
        "",
        " \n",
        "[]",
        r#""1.0""#,
        "true",
        "nul",
        "\u{feff}{}",
    ] {
        assert!(malformed(json.as_bytes()), "{json:?}");
    }
    assert_eq!(
        PolicyError::Malformed.to_string(),
        "malformed trust policy. To create a trust policy, see: https://notaryproject.dev/docs/quickstart/#create-a-trust-policy"
    );
}

#[test]
fn only_the_first_value_is_read() {
    let json = format!("{} }}}} garbage \u{0} [", doc_with(STATEMENT));
    assert!(parse(&json).is_ok());
    // A top-level null decodes to an empty document, whatever follows it.
    assert_eq!(
        parse("null").err().unwrap(),
        PolicyError::EmptyVersion.to_string()
    );
    assert_eq!(
        parse(" nullx{").err().unwrap(),
        PolicyError::EmptyVersion.to_string()
    );
}

#[test]
fn nesting_limit_applies_to_ignored_fields() {
    let deep = |n: usize| {
        let nested = format!("{}{}", "[".repeat(n), "]".repeat(n));
        format!(r#"{{"x": {nested}, "version": "1.0", "trustPolicies": [{STATEMENT}]}}"#)
    };
    assert!(parse(&deep(9_999)).is_ok());
    assert!(malformed(deep(10_000).as_bytes()));
}

#[test]
fn invalid_utf8_becomes_replacement_characters() {
    let json = doc_with(&format!(
        "{}, {}",
        STATEMENT.replace(r#""name": "s""#, "\"name\": \"\u{fffd}\""),
        STATEMENT.replace(r#""name": "s""#, r#""name": "\ud800""#)
    ));
    // Both names decode to U+FFFD, so they collide.
    assert_eq!(
        parse(&json).err().unwrap(),
        "multiple oci trust policy statements use the same name \"\u{fffd}\", statement names must be unique"
    );
    let raw = doc_with(&STATEMENT.replace(r#""name": "s""#, "\"name\": \"a\u{1}\"")).into_bytes();
    assert!(malformed(&raw));
    let mut bytes = doc_with(STATEMENT).into_bytes();
    let at = bytes.windows(3).position(|w| w == b"\"s\"").unwrap() + 1;
    bytes[at] = 0xff;
    let doc = TrustPolicyDocument::parse(&bytes).unwrap();
    assert_eq!(doc.statements()[0].name(), "\u{fffd}");
}

#[test]
fn applicable_statement() {
    let exact = STATEMENT
        .replace(r#""name": "s""#, r#""name": "exact""#)
        .replace(
            r#"["*"], "signature"#,
            r#"["registry.io/team/app", "registry.io/other"], "signature"#,
        );
    let doc = parse(&doc_with(&format!("{STATEMENT}, {exact}"))).unwrap();
    let name = |repo: &str| doc.applicable(repo).map(TrustPolicyStatement::name);
    assert_eq!(name("registry.io/team/app"), Some("exact"));
    assert_eq!(name("registry.io/team/app2"), Some("s"));
    assert_eq!(name("docker.io/library/x"), Some("s"));
    let reference = "registry.io/team/app@sha256:abc";
    assert_eq!(
        doc.applicable_for_reference(reference).map(|s| s.name()),
        Ok("exact")
    );
    assert_eq!(
        doc.applicable_for_reference("registry.io/team/app:v1").err().map(|e| e.to_string()),
        Some(r#"artifact URI "registry.io/team/app:v1" could not be parsed, make sure it is the fully qualified oci artifact URI without the scheme/protocol. e.g domain.com:80/my/repository@sha256:digest"#.to_owned())
    );
    assert_eq!(
        doc.applicable_for_reference("Registry.io/Team@sha256:abc")
            .err()
            .map(|e| e.reason()),
        Some("registry_scope_invalid")
    );

    let only_exact = parse(&doc_with(&exact)).unwrap();
    assert!(only_exact.applicable("registry.io/x").is_none());
    let missing = only_exact
        .applicable_for_reference("registry.io/x@sha256:0")
        .err()
        .unwrap();
    assert_eq!(
        missing.to_string(),
        no_applicable_policy_message("registry.io/x@sha256:0")
    );
    assert_eq!(
        no_applicable_policy_message("x/y@sha256:0"),
        r#"artifact "x/y@sha256:0" has no applicable oci trust policy statement. Trust policy applicability for a given artifact is determined by registryScopes. To create a trust policy, see: https://notaryproject.dev/docs/quickstart/#create-a-trust-policy"#
    );
}

#[test]
fn trust_stores_are_deduplicated_in_order() {
    let json = doc_with(&STATEMENT.replace(
        r#"["ca:store"]"#,
        r#"["tsa:t", "ca:store", "tsa:t", "signingAuthority:store", "ca:store"]"#,
    ));
    let doc = parse(&json).unwrap();
    let stores: Vec<String> = doc.statements()[0]
        .trust_stores()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(stores, ["tsa:t", "ca:store", "signingAuthority:store"]);
}

#[test]
fn trust_store_refs_from_config_strings() {
    let store: TrustStoreRef = "signingAuthority:my.store-1_x".parse().unwrap();
    assert_eq!(store.kind, StoreKind::SigningAuthority);
    assert_eq!(store.name, "my.store-1_x");
    assert_eq!(store.to_string(), "signingAuthority:my.store-1_x");
    let err = |s: &str| s.parse::<TrustStoreRef>().err().map(|e| e.to_string());
    assert_eq!(
        err("ca"),
        Some(r#"malformed trust store value "ca". The required format is <TrustStoreType>:<TrustStoreName>"#.into())
    );
    assert_eq!(
        err("CA:x"),
        Some(r#"unsupported trust store type "CA" in trust store value "CA:x""#.into())
    );
    assert_eq!(
        err("ca:a:b"),
        Some(r#"unsupported trust store name "a:b" in trust store value "ca:a:b". Named store name needs to follow [a-zA-Z0-9_.-]+ format"#.into())
    );
}
