use super::*;

fn overrides(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn level(name: &str, pairs: &[(&str, &str)]) -> Result<VerificationLevel, String> {
    VerificationLevel::from_config(name, &overrides(pairs)).map_err(|e| e.to_string())
}

#[test]
fn names_display_as_notation_spells_them() {
    let names: Vec<String> = ValidationType::ALL
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        names,
        [
            "integrity",
            "authenticity",
            "authenticTimestamp",
            "expiry",
            "revocation"
        ]
    );
    assert_eq!(Action::Log.to_string(), "log");
    assert_eq!(LevelName::Custom.to_string(), "custom");
    assert_eq!(
        VerifyTimestamp::AfterCertExpiry.to_string(),
        "afterCertExpiry"
    );
    assert_eq!(VerifyTimestamp::default(), VerifyTimestamp::Always);
}

#[test]
fn level_names_are_case_sensitive() {
    assert_eq!(
        level("Strict", &[]),
        Err(r#"invalid signature verification level "Strict""#.into())
    );
    assert_eq!(
        level("", &[("expiry", "log")]),
        Err(
            "signature verification level is empty or missing in the trust policy statement".into()
        )
    );
}

#[test]
fn an_empty_override_map_keeps_the_base_level() {
    assert_eq!(level("skip", &[]), Ok(VerificationLevel::SKIP));
    assert!(VerificationLevel::SKIP.is_skip());
    assert!(!VerificationLevel::AUDIT.is_skip());
}

#[test]
fn override_errors_follow_a_fixed_order() {
    // Go's map order is random; here known types first (ValidationTypes order), then unknown
    // keys sorted.
    assert_eq!(
        level(
            "strict",
            &[("zzz", "log"), ("integrity", "log"), ("expiry", "skip")]
        ),
        Err(
            r#""integrity" verification can not be overridden in custom signature verification"#
                .into()
        )
    );
    assert_eq!(
        level("strict", &[("zzz", "log"), ("aaa", "log")]),
        Err(r#"verification type "aaa" in custom signature verification is not supported, supported values are ["integrity" "authenticity" "authenticTimestamp" "expiry" "revocation"]"#.into())
    );
    // The action is checked before the integrity rule.
    assert_eq!(
        level("strict", &[("integrity", "Log")]),
        Err(r#"verification action "Log" in custom signature verification is not supported, supported values are ["enforce" "log" "skip"]"#.into())
    );
}

#[test]
fn custom_level_keeps_base_actions() {
    let custom = level(
        "permissive",
        &[("revocation", "skip"), ("authenticity", "log")],
    )
    .unwrap();
    assert_eq!(custom.name(), LevelName::Custom);
    let actions: Vec<Action> = ValidationType::ALL
        .iter()
        .map(|&t| custom.action(t))
        .collect();
    assert_eq!(
        actions,
        [
            Action::Enforce,
            Action::Log,
            Action::Log,
            Action::Log,
            Action::Skip
        ]
    );
    assert!(!custom.is_skip());
}
