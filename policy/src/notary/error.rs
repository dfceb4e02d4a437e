//! [`PolicyError`]: every way a trust policy document can be rejected, with notation-go's text.

use super::level::LevelError;
use super::store::TrustStoreError;
use crate::dn::DnError;
use crate::gofmt::go_quote;

/// notation-go's link in its trust-policy messages.
pub(crate) const TRUST_POLICY_LINK: &str =
    "https://notaryproject.dev/docs/quickstart/#create-a-trust-policy";

/// Why a trust policy document was rejected (or, for the last two, why no statement applies).
/// `Display` is notation-go's message, including the `oci trust policy: ` prefix its `Validate`
/// puts on statement errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The bytes do not decode (encoding/json) into the document structure.
    #[error(
        "malformed trust policy. To create a trust policy, see: https://notaryproject.dev/docs/quickstart/#create-a-trust-policy"
    )]
    Malformed,
    /// `version` empty or absent.
    #[error("oci trust policy document has empty version, version must be specified")]
    EmptyVersion,
    /// `version` other than "1.0".
    #[error("oci trust policy document uses unsupported version {}", go_quote(.version))]
    UnsupportedVersion {
        /// The version as written.
        version: String,
    },
    /// `trustPolicies` empty or absent.
    #[error("oci trust policy document can not have zero trust policy statements")]
    NoStatements,
    /// Two statements share a name.
    #[error(
        "multiple oci trust policy statements use the same name {}, statement names must be unique",
        go_quote(.name)
    )]
    DuplicateStatementName {
        /// The name.
        name: String,
    },
    /// A statement without a name.
    #[error(
        "oci trust policy: a trust policy statement is missing a name, every statement requires a name"
    )]
    MissingStatementName,
    /// `signatureVerification.level` / `override` invalid.
    #[error(
        "oci trust policy: trust policy statement {} has invalid signatureVerification: {source}",
        go_quote(.statement)
    )]
    SignatureVerification {
        /// The statement's name.
        statement: String,
        /// What `GetVerificationLevel` reported.
        #[source]
        source: LevelError,
    },
    /// `signatureVerification.verifyTimestamp` invalid.
    #[error(
        "oci trust policy: trust policy statement {} has invalid signatureVerification: verifyTimestamp must be \"always\" or \"afterCertExpiry\", but got {}",
        go_quote(.statement),
        go_quote(.value)
    )]
    VerifyTimestamp {
        /// The statement's name.
        statement: String,
        /// The value as written.
        value: String,
    },
    /// Level `skip` with trust stores or trusted identities.
    #[error(
        "oci trust policy: trust policy statement {} is set to skip signature verification but configured with trust stores and/or trusted identities, remove them if signature verification needs to be skipped",
        go_quote(.statement)
    )]
    SkipWithTrust {
        /// The statement's name.
        statement: String,
    },
    /// Another level without trust stores or without trusted identities.
    #[error(
        "oci trust policy: trust policy statement {} is either missing trust stores or trusted identities, both must be specified",
        go_quote(.statement)
    )]
    MissingTrust {
        /// The statement's name.
        statement: String,
    },
    /// A trust store value is invalid.
    #[error(
        "oci trust policy: trust policy statement {} {} {source}",
        go_quote(.statement),
        .source.verb()
    )]
    TrustStore {
        /// The statement's name.
        statement: String,
        /// What is wrong with the value.
        #[source]
        source: TrustStoreError,
    },
    /// `*` with other trusted identities.
    #[error(
        "oci trust policy: trust policy statement {} uses a wildcard trusted identity '*', a wildcard identity cannot be used in conjunction with other values",
        go_quote(.statement)
    )]
    WildcardIdentityNotAlone {
        /// The statement's name.
        statement: String,
    },
    /// An empty trusted identity.
    #[error("oci trust policy: trust policy statement {} has an empty trusted identity", go_quote(.statement))]
    EmptyIdentity {
        /// The statement's name.
        statement: String,
    },
    /// A trusted identity without `:`.
    #[error(
        "oci trust policy: trust policy statement {} has trusted identity {} missing separator",
        go_quote(.statement),
        go_quote(.identity)
    )]
    IdentityMissingSeparator {
        /// The statement's name.
        statement: String,
        /// The identity as written.
        identity: String,
    },
    /// `x509.subject:` with nothing after it.
    #[error(
        "oci trust policy: trust policy statement {} has trusted identity {} without an identity value",
        go_quote(.statement),
        go_quote(.identity)
    )]
    IdentityWithoutValue {
        /// The statement's name.
        statement: String,
        /// The identity as written.
        identity: String,
    },
    /// An `x509.subject` whose DN is rejected.
    #[error(
        "oci trust policy: trust policy statement {} has trusted identity {} with invalid identity value: {source}",
        go_quote(.statement),
        go_quote(.identity)
    )]
    IdentityDn {
        /// The statement's name.
        statement: String,
        /// The identity as written.
        identity: String,
        /// What the DN parser reported.
        #[source]
        source: DnError,
    },
    /// One x509 identity's attributes are a subset of another's.
    #[error(
        "oci trust policy: trust policy statement {} has overlapping x509 trustedIdentities, {} overlaps with {}",
        go_quote(.statement),
        go_quote(.first),
        go_quote(.second)
    )]
    OverlappingIdentities {
        /// The statement's name.
        statement: String,
        /// The identity that is a subset …
        first: String,
        /// … of this one.
        second: String,
    },
    /// A statement without registry scopes.
    #[error(
        "oci trust policy statement {} has zero registry scopes, it must specify registry scopes with at least one value",
        go_quote(.statement)
    )]
    NoRegistryScopes {
        /// The statement's name.
        statement: String,
    },
    /// `*` with other scopes.
    #[error(
        "oci trust policy statement {} uses wildcard registry scope '*', a wildcard scope cannot be used in conjunction with other scope values",
        go_quote(.statement)
    )]
    WildcardScopeNotAlone {
        /// The statement's name.
        statement: String,
    },
    /// A scope that is not `domain/repository`.
    #[error(
        "registry scope {} is not valid, make sure it is a fully qualified repository without the scheme, protocol or tag. For example domain.com/my/repository or a local scope like local/myOCILayout",
        go_quote(.scope)
    )]
    InvalidRegistryScope {
        /// The scope as written.
        scope: String,
    },
    /// A scope other than `*` containing `*`.
    #[error(
        "registry scope {} with wild card(s) is not valid, make sure it is a fully qualified repository without the scheme, protocol or tag. For example domain.com/my/repository or a local scope like local/myOCILayout",
        go_quote(.scope)
    )]
    WildcardInRegistryScope {
        /// The scope as written.
        scope: String,
    },
    /// A scope listed twice in the document.
    #[error(
        "registry scope {} is present in multiple oci trust policy statements, one registry scope value can only be associated with one statement",
        go_quote(.scope)
    )]
    DuplicateRegistryScope {
        /// The scope.
        scope: String,
    },
    /// An artifact reference without `@` (lookup).
    #[error(
        "artifact URI {} could not be parsed, make sure it is the fully qualified oci artifact URI without the scheme/protocol. e.g domain.com:80/my/repository@sha256:digest",
        go_quote(.reference)
    )]
    InvalidArtifactReference {
        /// The reference as given.
        reference: String,
    },
    /// No statement applies to the artifact (lookup).
    #[error("{}", super::no_applicable_policy_message(.reference))]
    NoApplicablePolicy {
        /// The reference as given.
        reference: String,
    },
}

impl PolicyError {
    /// A short stable label for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            PolicyError::Malformed => "malformed",
            PolicyError::EmptyVersion => "empty_version",
            PolicyError::UnsupportedVersion { .. } => "unsupported_version",
            PolicyError::NoStatements => "no_statements",
            PolicyError::DuplicateStatementName { .. } => "duplicate_statement_name",
            PolicyError::MissingStatementName => "missing_statement_name",
            PolicyError::SignatureVerification { .. } => "invalid_signature_verification",
            PolicyError::VerifyTimestamp { .. } => "invalid_verify_timestamp",
            PolicyError::SkipWithTrust { .. } => "skip_with_trust_settings",
            PolicyError::MissingTrust { .. } => "missing_trust_settings",
            PolicyError::TrustStore { .. } => "invalid_trust_store",
            PolicyError::WildcardIdentityNotAlone { .. } => "wildcard_identity_not_alone",
            PolicyError::EmptyIdentity { .. } => "empty_trusted_identity",
            PolicyError::IdentityMissingSeparator { .. } => "trusted_identity_missing_separator",
            PolicyError::IdentityWithoutValue { .. } => "trusted_identity_without_value",
            PolicyError::IdentityDn { .. } => "invalid_trusted_identity_dn",
            PolicyError::OverlappingIdentities { .. } => "overlapping_trusted_identities",
            PolicyError::NoRegistryScopes { .. } => "no_registry_scopes",
            PolicyError::WildcardScopeNotAlone { .. } => "wildcard_scope_not_alone",
            PolicyError::InvalidRegistryScope { .. } => "registry_scope_invalid",
            PolicyError::WildcardInRegistryScope { .. } => "registry_scope_wildcard",
            PolicyError::DuplicateRegistryScope { .. } => "duplicate_registry_scope",
            PolicyError::InvalidArtifactReference { .. } => "invalid_artifact_reference",
            PolicyError::NoApplicablePolicy { .. } => "no_applicable_policy",
        }
    }
}
