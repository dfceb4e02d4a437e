//! Trust store references (`ca:name`, `signingAuthority:name`, `tsa:name`) as notation-go's
//! `validateTrustStore` checks them.

use std::fmt;
use std::str::FromStr;

use crate::gofmt::go_quote;

/// The kind of a named trust store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StoreKind {
    /// Certificate authorities for the `notary.x509` signing scheme.
    Ca,
    /// Signing authorities for the `notary.x509.signingAuthority` scheme.
    SigningAuthority,
    /// Timestamping authority roots.
    Tsa,
}

impl StoreKind {
    /// notation's name: "ca", "signingAuthority", "tsa".
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::Ca => "ca",
            StoreKind::SigningAuthority => "signingAuthority",
            StoreKind::Tsa => "tsa",
        }
    }
}

impl fmt::Display for StoreKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A named trust store a statement uses.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrustStoreRef {
    /// The store's kind.
    pub kind: StoreKind,
    /// The store's name (`[a-zA-Z0-9_.-]+`).
    pub name: String,
}

/// notation-go's `validateTrustStore` errors. The texts are notation-go's without the leading
/// `trust policy statement "<name>" has`/`uses an`, which [`crate::PolicyError`] adds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustStoreError {
    /// No `:` in the value.
    #[error(
        "malformed trust store value {}. The required format is <TrustStoreType>:<TrustStoreName>",
        go_quote(.value)
    )]
    Malformed {
        /// The value as written.
        value: String,
    },
    /// The part before `:` is not a store kind (case-sensitive).
    #[error("unsupported trust store type {} in trust store value {}", go_quote(.kind), go_quote(.value))]
    UnsupportedType {
        /// The part before the first `:`.
        kind: String,
        /// The value as written.
        value: String,
    },
    /// The part after `:` does not match `^[a-zA-Z0-9_.-]+$`.
    #[error(
        "unsupported trust store name {} in trust store value {}. Named store name needs to follow [a-zA-Z0-9_.-]+ format",
        go_quote(.name),
        go_quote(.value)
    )]
    UnsupportedName {
        /// The part after the first `:`.
        name: String,
        /// The value as written.
        value: String,
    },
}

impl TrustStoreError {
    /// The verb notation-go puts between the statement and this text.
    pub(crate) fn verb(&self) -> &'static str {
        match self {
            TrustStoreError::Malformed { .. } => "has",
            TrustStoreError::UnsupportedType { .. } | TrustStoreError::UnsupportedName { .. } => {
                "uses an"
            }
        }
    }

    /// A short stable label for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            TrustStoreError::Malformed { .. } => "trust_store_malformed",
            TrustStoreError::UnsupportedType { .. } => "trust_store_unsupported_type",
            TrustStoreError::UnsupportedName { .. } => "trust_store_unsupported_name",
        }
    }
}

impl FromStr for TrustStoreRef {
    type Err = TrustStoreError;

    /// `type:name`, split at the first `:`, checked as notation-go does.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let Some((kind, name)) = value.split_once(':') else {
            return Err(TrustStoreError::Malformed {
                value: value.to_owned(),
            });
        };
        let kind = match kind {
            "ca" => StoreKind::Ca,
            "signingAuthority" => StoreKind::SigningAuthority,
            "tsa" => StoreKind::Tsa,
            _ => {
                return Err(TrustStoreError::UnsupportedType {
                    kind: kind.to_owned(),
                    value: value.to_owned(),
                });
            }
        };
        if !is_valid_file_name(name) {
            return Err(TrustStoreError::UnsupportedName {
                name: name.to_owned(),
                value: value.to_owned(),
            });
        }
        Ok(TrustStoreRef {
            kind,
            name: name.to_owned(),
        })
    }
}

impl fmt::Display for TrustStoreRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.name)
    }
}

/// notation-go's `file.IsValidFileName`: `^[a-zA-Z0-9_.-]+$`.
fn is_valid_file_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}
