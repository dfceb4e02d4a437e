//! Signature verification levels (`strict`, `permissive`, `audit`, `skip`) and custom levels
//! built with `override`, as notation-go's `GetVerificationLevel` builds them.

use std::collections::BTreeMap;
use std::fmt;

use crate::gofmt::go_quote;

/// The validations of the Notary Project verification workflow, in notation-go's
/// `ValidationTypes` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ValidationType {
    /// The signature envelope and its certificate chain are well formed and the signature verifies.
    Integrity,
    /// The chain contains a trusted certificate and the signer matches the trusted identities.
    Authenticity,
    /// The signing certificates are (or were, at the timestamp) valid.
    AuthenticTimestamp,
    /// The signature has not expired.
    Expiry,
    /// No certificate of the chain is revoked.
    Revocation,
}

impl ValidationType {
    /// All types in notation-go's `ValidationTypes` order.
    pub const ALL: [ValidationType; 5] = [
        ValidationType::Integrity,
        ValidationType::Authenticity,
        ValidationType::AuthenticTimestamp,
        ValidationType::Expiry,
        ValidationType::Revocation,
    ];

    /// notation's name: "integrity", "authenticity", "authenticTimestamp", "expiry", "revocation".
    pub fn as_str(self) -> &'static str {
        match self {
            ValidationType::Integrity => "integrity",
            ValidationType::Authenticity => "authenticity",
            ValidationType::AuthenticTimestamp => "authenticTimestamp",
            ValidationType::Expiry => "expiry",
            ValidationType::Revocation => "revocation",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }

    fn index(self) -> usize {
        match self {
            ValidationType::Integrity => 0,
            ValidationType::Authenticity => 1,
            ValidationType::AuthenticTimestamp => 2,
            ValidationType::Expiry => 3,
            ValidationType::Revocation => 4,
        }
    }
}

impl fmt::Display for ValidationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a failed validation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// The failure fails the signature.
    Enforce,
    /// The failure is logged and verification goes on.
    Log,
    /// The validation is not performed.
    Skip,
}

impl Action {
    /// notation's name: "enforce", "log", "skip".
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Enforce => "enforce",
            Action::Log => "log",
            Action::Skip => "skip",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [Action::Enforce, Action::Log, Action::Skip]
            .into_iter()
            .find(|a| a.as_str() == name)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name of a verification level; `Custom` when `override` was used (notation-go's name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LevelName {
    /// Every validation enforced.
    Strict,
    /// Integrity and authenticity enforced, the rest logged.
    Permissive,
    /// Integrity enforced, the rest logged.
    Audit,
    /// Nothing verified.
    Skip,
    /// A base level with overrides.
    Custom,
}

impl LevelName {
    /// notation's name: "strict", "permissive", "audit", "skip", "custom".
    pub fn as_str(self) -> &'static str {
        match self {
            LevelName::Strict => "strict",
            LevelName::Permissive => "permissive",
            LevelName::Audit => "audit",
            LevelName::Skip => "skip",
            LevelName::Custom => "custom",
        }
    }
}

impl fmt::Display for LevelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A verification level: a name and one action per [`ValidationType`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VerificationLevel {
    name: LevelName,
    actions: [Action; 5],
}

/// notation-go's `GetVerificationLevel` errors, with its exact texts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LevelError {
    /// `level` empty or absent.
    #[error("signature verification level is empty or missing in the trust policy statement")]
    Missing,
    /// `level` not one of the four names (case-sensitive).
    #[error("invalid signature verification level {}", go_quote(.level))]
    Unknown {
        /// The level as written.
        level: String,
    },
    /// `override` used with level `skip`.
    #[error(
        "signature verification level \"skip\" can't be used to customize signature verification"
    )]
    SkipCustomized,
    /// An `override` key that is not a validation type.
    #[error(
        "verification type {} in custom signature verification is not supported, supported values are [\"integrity\" \"authenticity\" \"authenticTimestamp\" \"expiry\" \"revocation\"]",
        go_quote(.key)
    )]
    UnsupportedType {
        /// The key as written.
        key: String,
    },
    /// An `override` value that is not an action.
    #[error(
        "verification action {} in custom signature verification is not supported, supported values are [\"enforce\" \"log\" \"skip\"]",
        go_quote(.value)
    )]
    UnsupportedAction {
        /// The value as written.
        value: String,
    },
    /// `integrity` in `override`.
    #[error("\"integrity\" verification can not be overridden in custom signature verification")]
    IntegrityOverridden,
    /// `skip` for a validation other than revocation.
    #[error("\"{validation}\" verification can not be skipped in custom signature verification")]
    CannotSkip {
        /// The validation.
        validation: ValidationType,
    },
}

impl LevelError {
    /// A short stable label for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            LevelError::Missing => "level_missing",
            LevelError::Unknown { .. } => "level_unknown",
            LevelError::SkipCustomized => "level_skip_customized",
            LevelError::UnsupportedType { .. } => "override_unsupported_type",
            LevelError::UnsupportedAction { .. } => "override_unsupported_action",
            LevelError::IntegrityOverridden => "override_integrity",
            LevelError::CannotSkip { .. } => "override_cannot_skip",
        }
    }
}

impl VerificationLevel {
    /// `strict`: everything enforced.
    pub const STRICT: VerificationLevel = VerificationLevel {
        name: LevelName::Strict,
        actions: [Action::Enforce; 5],
    };
    /// `permissive`: integrity and authenticity enforced, the rest logged.
    pub const PERMISSIVE: VerificationLevel = VerificationLevel {
        name: LevelName::Permissive,
        actions: [
            Action::Enforce,
            Action::Enforce,
            Action::Log,
            Action::Log,
            Action::Log,
        ],
    };
    /// `audit`: integrity enforced, the rest logged.
    pub const AUDIT: VerificationLevel = VerificationLevel {
        name: LevelName::Audit,
        actions: [
            Action::Enforce,
            Action::Log,
            Action::Log,
            Action::Log,
            Action::Log,
        ],
    };
    /// `skip`: nothing verified.
    pub const SKIP: VerificationLevel = VerificationLevel {
        name: LevelName::Skip,
        actions: [Action::Skip; 5],
    };

    /// notation-go's `GetVerificationLevel` for a `level` and its `override` map.
    ///
    /// Go iterates the override map in random order, so with several invalid entries the error
    /// it reports varies from run to run. Here entries are checked in a fixed order: the known
    /// validation types in `ValidationTypes` order, then the unknown keys sorted bytewise.
    pub fn from_config(
        level: &str,
        overrides: &BTreeMap<String, String>,
    ) -> Result<Self, LevelError> {
        if level.is_empty() {
            return Err(LevelError::Missing);
        }
        let base = [Self::STRICT, Self::PERMISSIVE, Self::AUDIT, Self::SKIP]
            .into_iter()
            .find(|l| l.name.as_str() == level)
            .ok_or_else(|| LevelError::Unknown {
                level: level.to_owned(),
            })?;
        if overrides.is_empty() {
            return Ok(base);
        }
        if base.name == LevelName::Skip {
            return Err(LevelError::SkipCustomized);
        }
        let mut custom = VerificationLevel {
            name: LevelName::Custom,
            actions: base.actions,
        };
        let known = ValidationType::ALL
            .into_iter()
            .filter_map(|t| overrides.get_key_value(t.as_str()));
        let unknown = overrides
            .iter()
            .filter(|(k, _)| ValidationType::from_name(k).is_none());
        for (key, value) in known.chain(unknown) {
            let validation = ValidationType::from_name(key)
                .ok_or_else(|| LevelError::UnsupportedType { key: key.clone() })?;
            let action = Action::from_name(value).ok_or_else(|| LevelError::UnsupportedAction {
                value: value.clone(),
            })?;
            if validation == ValidationType::Integrity {
                return Err(LevelError::IntegrityOverridden);
            }
            if validation != ValidationType::Revocation && action == Action::Skip {
                return Err(LevelError::CannotSkip { validation });
            }
            if let Some(slot) = custom.actions.get_mut(validation.index()) {
                *slot = action;
            }
        }
        Ok(custom)
    }

    /// The level's name.
    pub fn name(&self) -> LevelName {
        self.name
    }

    /// The action for one validation.
    pub fn action(&self, t: ValidationType) -> Action {
        self.actions
            .get(t.index())
            .copied()
            .unwrap_or(Action::Enforce)
    }

    /// Whether verification is skipped altogether (level `skip`).
    pub fn is_skip(&self) -> bool {
        self.name == LevelName::Skip
    }
}

/// When the timestamp countersignature is verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum VerifyTimestamp {
    /// Always (the default when `verifyTimestamp` is absent or empty).
    #[default]
    Always,
    /// Only when the signing certificate chain has expired.
    AfterCertExpiry,
}

impl VerifyTimestamp {
    /// notation's name: "always", "afterCertExpiry".
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyTimestamp::Always => "always",
            VerifyTimestamp::AfterCertExpiry => "afterCertExpiry",
        }
    }
}

impl fmt::Display for VerifyTimestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests;
