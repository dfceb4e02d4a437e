//! The Notary Project trust policy document v1.0 for OCI artifacts (`trustpolicy.oci.json`), as
//! notation-go decodes, validates and applies it.

mod error;
mod identity;
mod json;
mod level;
mod raw;
mod scope;
mod store;
mod validate;

pub use error::PolicyError;
pub use identity::{IdentityMismatch, TrustedIdentities, X509Identity};
pub use level::{
    Action, LevelError, LevelName, ValidationType, VerificationLevel, VerifyTimestamp,
};
pub use store::{StoreKind, TrustStoreError, TrustStoreRef};

use crate::gofmt::go_quote;

/// A validated trust policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustPolicyDocument {
    statements: Vec<TrustPolicyStatement>,
}

/// A validated trust policy statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustPolicyStatement {
    name: String,
    registry_scopes: Vec<String>,
    level: VerificationLevel,
    verify_timestamp: VerifyTimestamp,
    trust_stores: Vec<TrustStoreRef>,
    trusted_identities: TrustedIdentities,
}

impl TrustPolicyStatement {
    /// The statement's name (unique in the document).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `registryScopes` as written: `["*"]` or repository paths.
    pub fn registry_scopes(&self) -> &[String] {
        &self.registry_scopes
    }

    /// The verification level, with overrides applied.
    pub fn level(&self) -> &VerificationLevel {
        &self.level
    }

    /// `verifyTimestamp` ([`VerifyTimestamp::Always`] when absent).
    pub fn verify_timestamp(&self) -> VerifyTimestamp {
        self.verify_timestamp
    }

    /// The trust stores, duplicates removed (first occurrence kept); empty for level `skip`.
    pub fn trust_stores(&self) -> &[TrustStoreRef] {
        &self.trust_stores
    }

    /// The trusted identities (an empty list for level `skip`).
    pub fn trusted_identities(&self) -> &TrustedIdentities {
        &self.trusted_identities
    }
}

impl TrustPolicyDocument {
    /// Decodes the document with Go encoding/json semantics and validates it exactly as
    /// notation-go's `OCIDocument.Validate` does, returning notation-go's error text.
    pub fn parse(json: &[u8]) -> Result<TrustPolicyDocument, PolicyError> {
        let raw = raw::decode(json).map_err(|json::Malformed| PolicyError::Malformed)?;
        let statements = validate::validate(&raw)?;
        Ok(TrustPolicyDocument { statements })
    }

    /// notation-go's `GetApplicableTrustPolicy` for a repository path `registry/repo` (no tag, no
    /// digest): the statement listing the path wins over a `*` statement; `None` when neither
    /// exists. The path is not validated (see [`TrustPolicyDocument::applicable_for_reference`]).
    pub fn applicable(&self, repository: &str) -> Option<&TrustPolicyStatement> {
        let mut wildcard = None;
        let mut exact = None;
        for statement in &self.statements {
            if statement.registry_scopes.iter().any(|s| s == "*") {
                wildcard = Some(statement);
            } else if statement.registry_scopes.iter().any(|s| s == repository) {
                exact = Some(statement);
            }
        }
        exact.or(wildcard)
    }

    /// notation-go's `GetApplicableTrustPolicy` for an artifact reference
    /// `registry/repo@sha256:…`: the path before the last `@` must be a valid scope, then as
    /// [`TrustPolicyDocument::applicable`], with notation-go's errors.
    pub fn applicable_for_reference(
        &self,
        artifact_reference: &str,
    ) -> Result<&TrustPolicyStatement, PolicyError> {
        let Some((path, _)) = artifact_reference.rsplit_once('@') else {
            return Err(PolicyError::InvalidArtifactReference {
                reference: artifact_reference.to_owned(),
            });
        };
        scope::validate_format(path)?;
        self.applicable(path)
            .ok_or_else(|| PolicyError::NoApplicablePolicy {
                reference: artifact_reference.to_owned(),
            })
    }

    /// The statements in document order.
    pub fn statements(&self) -> &[TrustPolicyStatement] {
        &self.statements
    }
}

/// notation-go's text for "no applicable policy" for an artifact reference.
pub fn no_applicable_policy_message(artifact_reference: &str) -> String {
    format!(
        "artifact {} has no applicable oci trust policy statement. Trust policy applicability for a given artifact is determined by registryScopes. To create a trust policy, see: {}",
        go_quote(artifact_reference),
        error::TRUST_POLICY_LINK
    )
}

#[cfg(test)]
mod tests;
