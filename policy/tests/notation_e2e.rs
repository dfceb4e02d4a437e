#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Every trust policy file of `trustpolicies/notation-e2e/` with its outcome from the vectors'
//! README §4.1 (notation's e2e suite), and the `trustpolicies/derived/` documents.
//!
//! Statement errors are compared with the `oci trust policy: ` prefix notation-go's `Validate`
//! adds (the README quotes them without it: the e2e suite matches substrings). Outcomes that
//! happen later in verification (missing store, identity mismatch) are checked on the inputs
//! this crate hands to the verifier.

mod common;

use common::{go_subject, read, vectors};
use pullgate_policy::{
    Action, LevelName, PolicyError, StoreKind, TrustPolicyDocument, TrustedIdentities,
    ValidationType, VerifyTimestamp, no_applicable_policy_message,
};

enum Outcome {
    /// Parses; then these checks.
    Valid(fn(&TrustPolicyDocument)),
    /// Rejected with exactly this message.
    Invalid(&'static str),
    /// Not an OCI trust policy document.
    Skip(&'static str),
}

use Outcome::{Invalid, Skip, Valid};

const BLOB: &str =
    "blob trust policy document (trustpolicy.blob.json): out of scope, OCI documents only";

fn only(doc: &TrustPolicyDocument) -> &pullgate_policy::TrustPolicyStatement {
    assert_eq!(doc.statements().len(), 1);
    &doc.statements()[0]
}

fn strict_any(doc: &TrustPolicyDocument) {
    let s = only(doc);
    assert_eq!(s.name(), "e2e");
    assert_eq!(s.level().name(), LevelName::Strict);
    assert_eq!(s.verify_timestamp(), VerifyTimestamp::Always);
    assert_eq!(s.trusted_identities(), &TrustedIdentities::Any);
    assert_eq!(
        doc.applicable("localhost:5000/e2e").map(|s| s.name()),
        Some("e2e")
    );
}

fn stores(doc: &TrustPolicyDocument) -> Vec<String> {
    only(doc)
        .trust_stores()
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn actions(doc: &TrustPolicyDocument) -> Vec<Action> {
    let level = only(doc).level();
    ValidationType::ALL
        .iter()
        .map(|&t| level.action(t))
        .collect()
}

const E: Action = Action::Enforce;
const L: Action = Action::Log;

const FILES: &[(&str, Outcome)] = &[
    ("trustpolicy.json", Valid(strict_any)),
    ("any_registry_scope_trust_policy.json", Valid(strict_any)),
    (
        "registry_scope_trustpolicy.json",
        Valid(|doc| {
            assert_eq!(
                doc.applicable("localhost:5000/test-repo").map(|s| s.name()),
                Some("e2e")
            );
            assert!(doc.applicable("localhost:5000/other").is_none());
        }),
    ),
    (
        "multiple_registry_scope_trustpolicy.json",
        Valid(|doc| {
            assert!(doc.applicable("localhost:5000/test-repo2").is_some());
            assert!(doc.applicable("localhost:5000/test-repo3").is_some());
        }),
    ),
    (
        "invalid_registry_scope_trustpolicy.json",
        Valid(|doc| {
            let reference = "localhost:5000/e2e@sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";
            assert!(doc.applicable("localhost:5000/e2e").is_none());
            let err = doc.applicable_for_reference(reference).err();
            assert_eq!(
                err,
                Some(PolicyError::NoApplicablePolicy {
                    reference: reference.to_owned()
                })
            );
            assert_eq!(
                err.map(|e| e.to_string()),
                Some(no_applicable_policy_message(reference))
            );
        }),
    ),
    (
        "malformed_registry_scope_trustpolicy.json",
        Invalid(
            r#"registry scope "localhost:5000\\test-repo" is not valid, make sure it is a fully qualified repository without the scheme, protocol or tag. For example domain.com/my/repository or a local scope like local/myOCILayout"#,
        ),
    ),
    (
        "empty_registry_scope_trustpolicy.json",
        Invalid(
            r#"oci trust policy statement "e2e" has zero registry scopes, it must specify registry scopes with at least one value"#,
        ),
    ),
    (
        "overlapped_registry_scope_trustpolicy.json",
        Invalid(
            r#"registry scope "localhost:5000/test-repo6" is present in multiple oci trust policy statements, one registry scope value can only be associated with one statement"#,
        ),
    ),
    (
        "wildcard_plus_other_registry_scope_trustpolicy.json",
        Invalid(
            r#"oci trust policy statement "e2e" uses wildcard registry scope '*', a wildcard scope cannot be used in conjunction with other scope values"#,
        ),
    ),
    (
        "multi_statements_with_the_same_registry_scope_trustpolicy.json",
        Invalid(
            r#"registry scope "localhost:5000/test-repo8" is present in multiple oci trust policy statements, one registry scope value can only be associated with one statement"#,
        ),
    ),
    (
        "multi_statements_with_wildcard_registry_scope_trustpolicy.json",
        Valid(|doc| {
            assert_eq!(
                doc.applicable("localhost:5000/test-repo9")
                    .map(|s| s.name()),
                Some("e2e")
            );
            assert_eq!(
                doc.applicable("localhost:5000/test-repo").map(|s| s.name()),
                Some("e2e2")
            );
        }),
    ),
    (
        "multi_statements_with_the_same_name_trustpolicy.json",
        Invalid(
            r#"multiple oci trust policy statements use the same name "e2e", statement names must be unique"#,
        ),
    ),
    (
        "multi_statements_with_multi_wildcard_registry_scope_trustpolicy.json",
        Invalid(
            r#"registry scope "*" is present in multiple oci trust policy statements, one registry scope value can only be associated with one statement"#,
        ),
    ),
    (
        "unset_trust_store_trustpolicy.json",
        Invalid(
            r#"oci trust policy: trust policy statement "e2e" is either missing trust stores or trusted identities, both must be specified"#,
        ),
    ),
    (
        "unset_trusted_identity_trustpolicy.json",
        Invalid(
            r#"oci trust policy: trust policy statement "e2e" is either missing trust stores or trusted identities, both must be specified"#,
        ),
    ),
    // Fails later, loading the (absent) store: the verifier gets `ca:invalid_store`.
    (
        "invalid_trust_store_trustpolicy.json",
        Valid(|doc| {
            let store = &only(doc).trust_stores()[0];
            assert_eq!(
                (store.kind, store.name.as_str()),
                (StoreKind::Ca, "invalid_store")
            );
        }),
    ),
    (
        "malformed_trust_store_trustpolicy.json",
        Invalid(
            r#"oci trust policy: trust policy statement "e2e" uses an unsupported trust store name "" in trust store value "ca:". Named store name needs to follow [a-zA-Z0-9_.-]+ format"#,
        ),
    ),
    (
        "wildcard_trust_store_trustpolicy.json",
        Invalid(
            r#"oci trust policy: trust policy statement "e2e" has malformed trust store value "*". The required format is <TrustStoreType>:<TrustStoreName>"#,
        ),
    ),
    (
        "multiple_trust_store_trustpolicy.json",
        Valid(|doc| assert_eq!(stores(doc), ["ca:e2e", "ca:e2e-new"])),
    ),
    (
        "overlapped_trust_store_trustpolicy.json",
        Valid(|doc| assert_eq!(stores(doc), ["ca:e2e"])),
    ),
    (
        "valid_trusted_identity_trustpolicy.json",
        Valid(|doc| {
            let identities = only(doc).trusted_identities();
            assert_eq!(identities.check("e2e", &go_subject("e2e.crt")), Ok(()));
            assert!(identities.check("e2e", &go_subject("new_e2e.crt")).is_err());
        }),
    ),
    // Fails at verification (authenticity) for the e2e signer.
    (
        "invalid_trusted_identity_trustpolicy.json",
        Valid(|doc| {
            let identities = only(doc).trusted_identities();
            let TrustedIdentities::List { x509, other } = identities else {
                panic!("{identities:?}")
            };
            assert!(other.is_empty());
            assert_eq!(
                x509[0].raw(),
                "x509.subject: CN=e2e,O=Notary,L=Seattle,ST=WA,C=USB"
            );
            assert_eq!(x509[0].dn()["C"], "USB");
            assert_eq!(
            identities.check("e2e", &go_subject("e2e.crt")),
            Err(r#"signing certificate from the digital signature does not match the X.509 trusted identities [map["C":"USB" "CN":"e2e" "L":"Seattle" "O":"Notary" "ST":"WA"]] defined in the trust policy "e2e""#.to_owned())
        );
        }),
    ),
    (
        "malformed_trusted_identity_trustpolicy.json",
        Invalid(
            r#"oci trust policy: trust policy statement "e2e" has trusted identity "x509.subject CN=e2e,O=Notary,L=Seattle,ST=WA,C=US" missing separator"#,
        ),
    ),
    (
        "empty_trusted_identity_trustpolicy.json",
        Invalid(r#"oci trust policy: trust policy statement "e2e" has an empty trusted identity"#),
    ),
    (
        "multiple_trusted_identity_trustpolicy.json",
        Valid(|doc| {
            let identities = only(doc).trusted_identities();
            assert_eq!(identities.check("e2e", &go_subject("e2e.crt")), Ok(()));
            assert_eq!(identities.check("e2e", &go_subject("new_e2e.crt")), Ok(()));
        }),
    ),
    // The subset is named first (notation-go tests subset(i, j) for every ordered pair).
    (
        "overlapped_trusted_identity_trustpolicy.json",
        Invalid(
            r#"oci trust policy: trust policy statement "e2e" has overlapping x509 trustedIdentities, "x509.subject: CN=e2e,O=Notary,ST=WA,C=US" overlaps with "x509.subject: CN=e2e,O=Notary,L=Seattle,ST=WA,C=US""#,
        ),
    ),
    (
        "wildcard_plus_other_trusted_identity_trustpolicy.json",
        Invalid(
            r#"oci trust policy: trust policy statement "e2e" uses a wildcard trusted identity '*', a wildcard identity cannot be used in conjunction with other values"#,
        ),
    ),
    (
        "missing_organization_trusted_identity_trustpolicy.json",
        Invalid(
            r#"oci trust policy: trust policy statement "e2e" has trusted identity "x509.subject: CN=e2e,L=Seattle,ST=WA,C=US" with invalid identity value: distinguished name (DN) " CN=e2e,L=Seattle,ST=WA,C=US" has no mandatory RDN attribute for "O", it must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum"#,
        ),
    ),
    (
        "missing_state_trusted_identity_trustpolicy.json",
        Invalid(
            r#"oci trust policy: trust policy statement "e2e" has trusted identity "x509.subject: CN=e2e,O=Notary,L=Seattle,C=US" with invalid identity value: distinguished name (DN) " CN=e2e,O=Notary,L=Seattle,C=US" has no mandatory RDN attribute for "ST", it must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum"#,
        ),
    ),
    (
        "missing_country_trusted_identity_trustpolicy.json",
        Invalid(
            r#"oci trust policy: trust policy statement "e2e" has trusted identity "x509.subject: CN=e2e,O=Notary,L=Seattle,ST=WA" with invalid identity value: distinguished name (DN) " CN=e2e,O=Notary,L=Seattle,ST=WA" has no mandatory RDN attribute for "C", it must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum"#,
        ),
    ),
    (
        "permissive_trustpolicy.json",
        Valid(|doc| {
            assert_eq!(only(doc).level().name(), LevelName::Permissive);
            assert_eq!(actions(doc), [E, E, L, L, L]);
        }),
    ),
    (
        "audit_trustpolicy.json",
        Valid(|doc| {
            assert_eq!(only(doc).level().name(), LevelName::Audit);
            assert_eq!(actions(doc), [E, L, L, L, L]);
        }),
    ),
    (
        "skip_trustpolicy.json",
        Valid(|doc| {
            let s = only(doc);
            assert!(s.level().is_skip());
            assert!(s.trust_stores().is_empty());
            assert_eq!(actions(doc), [Action::Skip; 5]);
        }),
    ),
    (
        "override_strict_trustpolicy.json",
        Valid(|doc| {
            assert_eq!(only(doc).level().name(), LevelName::Custom);
            assert_eq!(actions(doc), [E, L, L, L, L]);
        }),
    ),
    (
        "override_permissive_trustpolicy.json",
        Valid(|doc| assert_eq!(actions(doc), [E, L, E, E, E])),
    ),
    (
        "override_audit_trustpolicy.json",
        Valid(|doc| assert_eq!(actions(doc), [E; 5])),
    ),
    (
        "override_integrity_for_permissive_trustpolicy.json",
        Invalid(
            r#"oci trust policy: trust policy statement "e2e" has invalid signatureVerification: "integrity" verification can not be overridden in custom signature verification"#,
        ),
    ),
    (
        "timestamp_trustpolicy.json",
        Valid(|doc| {
            assert_eq!(only(doc).verify_timestamp(), VerifyTimestamp::Always);
            assert_eq!(stores(doc), ["ca:e2e", "tsa:e2e"]);
        }),
    ),
    (
        "timestamp_after_cert_expiry_trustpolicy.json",
        Valid(|doc| {
            assert_eq!(
                only(doc).verify_timestamp(),
                VerifyTimestamp::AfterCertExpiry
            );
        }),
    ),
    (
        "invalid_format_trustpolicy.json",
        Invalid(
            "malformed trust policy. To create a trust policy, see: https://notaryproject.dev/docs/quickstart/#create-a-trust-policy",
        ),
    ),
    (
        "quickstart_trustpolicy.json",
        Valid(|doc| assert_eq!(stores(doc), ["ca:wabbit-networks.io"])),
    ),
    (
        "generate_test_trustpolicy.json",
        Valid(|doc| assert_eq!(stores(doc), ["ca:sKey"])),
    ),
    ("blob_trust_policy.json", Skip(BLOB)),
    ("blob_trustpolicy.blob.json", Skip(BLOB)),
];

#[test]
fn e2e_policies() {
    for (file, outcome) in FILES {
        let result =
            TrustPolicyDocument::parse(&read(&format!("trustpolicies/notation-e2e/{file}")));
        match (outcome, result) {
            (Valid(check), Ok(doc)) => check(&doc),
            (Invalid(want), Err(e)) => assert_eq!(e.to_string(), *want, "{file}"),
            (Skip(reason), _) => eprintln!("skipped {file}: {reason}"),
            (Valid(_), Err(e)) => panic!("{file}: rejected: {e}"),
            (Invalid(want), Ok(_)) => panic!("{file}: accepted, want {want}"),
        }
    }
}

#[test]
fn every_e2e_file_has_an_expectation() {
    let dir = vectors().join("trustpolicies/notation-e2e");
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            FILES.iter().any(|(file, _)| *file == name),
            "no expectation for {name}"
        );
    }
}

#[test]
fn derived_policies() {
    let dir = vectors().join("trustpolicies/derived");
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let parsed = TrustPolicyDocument::parse(&std::fs::read(&path).unwrap());
        assert!(parsed.is_ok(), "{}: {parsed:?}", path.display());
    }

    let dummy =
        TrustPolicyDocument::parse(&read("trustpolicies/derived/notation-go-dummy-oci.json"))
            .unwrap();
    let s = dummy
        .applicable("registry.acme-rockets.io/software/net-monitor")
        .unwrap_or_else(|| panic!("no statement"));
    assert_eq!(s.name(), "test-statement-name");
    let kinds: Vec<StoreKind> = s.trust_stores().iter().map(|t| t.kind).collect();
    assert_eq!(kinds, [StoreKind::Ca, StoreKind::SigningAuthority]);

    let timestamp =
        TrustPolicyDocument::parse(&read("trustpolicies/derived/notation-go-timestamp.json"))
            .unwrap();
    let stores: Vec<String> = timestamp.statements()[0]
        .trust_stores()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(stores, ["ca:valid-trust-store", "tsa:test-timestamp"]);

    let plugin = TrustPolicyDocument::parse(&read(
        "trustpolicies/derived/notation-go-plugin-version.json",
    ))
    .unwrap();
    let identity = plugin.statements()[0].trusted_identities();
    let TrustedIdentities::List { x509, .. } = identity else {
        panic!("{identity:?}")
    };
    assert_eq!(x509[0].dn()["CN"], "wabbit-networks.io");
}
