//! Trusted identities: notation-go's `validateTrustedIdentities` (at load) and
//! `verifyX509TrustedIdentities` (at verification).

use super::PolicyError;
use crate::dn::{self, DnError, DnMap, RawDnMap};
use crate::gofmt::go_quote;

const WILDCARD: &str = "*";
const X509_SUBJECT: &str = "x509.subject";

/// An `x509.subject:<DN>` trusted identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct X509Identity {
    raw: String,
    dn: DnMap,
    raw_dn: RawDnMap,
}

impl X509Identity {
    /// The identity as written (`x509.subject:…`).
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The parsed DN (bytes that are not UTF-8 shown as U+FFFD; matching uses the exact bytes).
    pub fn dn(&self) -> &DnMap {
        &self.dn
    }
}

/// A statement's trusted identities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustedIdentities {
    /// `["*"]`: any signer whose chain reaches the trust stores.
    Any,
    /// Specific identities.
    List {
        /// The `x509.subject` identities, in document order.
        x509: Vec<X509Identity>,
        /// Identities with other prefixes, for verification plugins (kept for reporting).
        other: Vec<String>,
    },
}

/// Why a signing certificate does not match the trusted identities; `Display` is notation-go's
/// text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityMismatch {
    /// Only non-x509 identities are configured (they need a plugin).
    #[error("no x509 trusted identities are configured in the trust policy {}", go_quote(.policy))]
    NoX509Identities {
        /// The statement's name.
        policy: String,
    },
    /// The leaf subject, as Go renders it, is not a DN notation-go accepts.
    #[error(
        "error while parsing the certificate subject from the digital signature. error : {}",
        go_quote(&.source.to_string())
    )]
    LeafSubject {
        /// What the DN parser reported.
        #[source]
        source: DnError,
    },
    /// No identity is a subset of the leaf subject.
    #[error(
        "signing certificate from the digital signature does not match the X.509 trusted identities {} defined in the trust policy {}",
        dn::go_quote_maps(.identities),
        go_quote(.policy)
    )]
    NoMatch {
        /// The configured identities' DNs.
        identities: Vec<RawDnMap>,
        /// The statement's name.
        policy: String,
    },
}

impl IdentityMismatch {
    /// A short stable label for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            IdentityMismatch::NoX509Identities { .. } => "no_x509_trusted_identities",
            IdentityMismatch::LeafSubject { .. } => "leaf_subject_unparsable",
            IdentityMismatch::NoMatch { .. } => "trusted_identity_mismatch",
        }
    }
}

impl TrustedIdentities {
    /// notation-go's `validateTrustedIdentities` for a statement whose level is not `skip`.
    pub(crate) fn validate(statement: &str, identities: &[String]) -> Result<Self, PolicyError> {
        let name = || statement.to_owned();
        if identities.len() > 1 && identities.iter().any(|i| i == WILDCARD) {
            return Err(PolicyError::WildcardIdentityNotAlone { statement: name() });
        }
        let mut x509 = Vec::new();
        let mut other = Vec::new();
        for identity in identities {
            if identity.is_empty() {
                return Err(PolicyError::EmptyIdentity { statement: name() });
            }
            if identity == WILDCARD {
                continue;
            }
            let Some((prefix, value)) = identity.split_once(':') else {
                return Err(PolicyError::IdentityMissingSeparator {
                    statement: name(),
                    identity: identity.clone(),
                });
            };
            if prefix != X509_SUBJECT {
                other.push(identity.clone());
                continue;
            }
            if value.is_empty() {
                return Err(PolicyError::IdentityWithoutValue {
                    statement: name(),
                    identity: identity.clone(),
                });
            }
            let raw_dn = dn::parse_raw(value).map_err(|source| PolicyError::IdentityDn {
                statement: name(),
                identity: identity.clone(),
                source,
            })?;
            let dn = dn::to_lossy(&raw_dn);
            x509.push(X509Identity {
                raw: identity.clone(),
                dn,
                raw_dn,
            });
        }
        for (i, first) in x509.iter().enumerate() {
            for (j, second) in x509.iter().enumerate() {
                if i != j && dn::subset(&first.raw_dn, &second.raw_dn) {
                    return Err(PolicyError::OverlappingIdentities {
                        statement: name(),
                        first: first.raw.clone(),
                        second: second.raw.clone(),
                    });
                }
            }
        }
        if identities.iter().any(|i| i == WILDCARD) {
            return Ok(TrustedIdentities::Any);
        }
        Ok(TrustedIdentities::List { x509, other })
    }

    /// No identities (level `skip`).
    pub(crate) fn none() -> Self {
        TrustedIdentities::List {
            x509: Vec::new(),
            other: Vec::new(),
        }
    }

    /// notation-go's x509 trusted-identity check (`verifyX509TrustedIdentities`) for the signing
    /// certificate's subject rendered as Go's `pkix.Name.String()` does
    /// ([`crate::dn::go_name_string`]). `Err` carries notation-go's failure text.
    pub fn check(&self, policy_name: &str, leaf_subject: &str) -> Result<(), String> {
        self.check_detailed(policy_name, leaf_subject)
            .map_err(|e| e.to_string())
    }

    /// [`TrustedIdentities::check`] with a typed error.
    pub fn check_detailed(
        &self,
        policy_name: &str,
        leaf_subject: &str,
    ) -> Result<(), IdentityMismatch> {
        let x509 = match self {
            TrustedIdentities::Any => return Ok(()),
            TrustedIdentities::List { x509, .. } => x509,
        };
        if x509.is_empty() {
            return Err(IdentityMismatch::NoX509Identities {
                policy: policy_name.to_owned(),
            });
        }
        let leaf = dn::parse_raw(leaf_subject)
            .map_err(|source| IdentityMismatch::LeafSubject { source })?;
        if x509
            .iter()
            .any(|identity| dn::subset(&identity.raw_dn, &leaf))
        {
            return Ok(());
        }
        Err(IdentityMismatch::NoMatch {
            identities: x509
                .iter()
                .map(|identity| identity.raw_dn.clone())
                .collect(),
            policy: policy_name.to_owned(),
        })
    }
}
