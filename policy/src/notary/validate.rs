//! notation-go's `OCIDocument.Validate` (and the `validatePolicyCore` it calls per statement),
//! turning the decoded structs into checked statements.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::identity::TrustedIdentities;
use super::level::{VerificationLevel, VerifyTimestamp};
use super::raw::{RawDocument, RawStatement};
use super::store::TrustStoreRef;
use super::{PolicyError, TrustPolicyStatement, scope};

const SUPPORTED_VERSION: &str = "1.0";
const WILDCARD: &str = "*";

/// `OCIDocument.Validate`: version, statements in order (name uniqueness, then the statement's
/// own rules), then registry scopes across the document.
pub(crate) fn validate(doc: &RawDocument) -> Result<Vec<TrustPolicyStatement>, PolicyError> {
    if doc.version.is_empty() {
        return Err(PolicyError::EmptyVersion);
    }
    if doc.version != SUPPORTED_VERSION {
        return Err(PolicyError::UnsupportedVersion {
            version: doc.version.clone(),
        });
    }
    let raw_statements = doc.trust_policies.as_slice();
    if raw_statements.is_empty() {
        return Err(PolicyError::NoStatements);
    }
    let mut names = HashSet::new();
    let mut statements = Vec::with_capacity(raw_statements.len());
    for raw in raw_statements {
        if names.contains(raw.name.as_str()) {
            return Err(PolicyError::DuplicateStatementName {
                name: raw.name.clone(),
            });
        }
        statements.push(statement(raw)?);
        names.insert(raw.name.as_str());
    }
    validate_registry_scopes(raw_statements)?;
    Ok(statements)
}

/// `validatePolicyCore` for one statement.
fn statement(raw: &RawStatement) -> Result<TrustPolicyStatement, PolicyError> {
    let name = &raw.name;
    if name.is_empty() {
        return Err(PolicyError::MissingStatementName);
    }
    let sv = &raw.signature_verification;
    let empty = BTreeMap::new();
    let level = VerificationLevel::from_config(&sv.level, sv.override_.as_ref().unwrap_or(&empty))
        .map_err(|source| PolicyError::SignatureVerification {
            statement: name.clone(),
            source,
        })?;
    let verify_timestamp = match sv.verify_timestamp.as_str() {
        "" | "always" => VerifyTimestamp::Always,
        "afterCertExpiry" => VerifyTimestamp::AfterCertExpiry,
        other => {
            return Err(PolicyError::VerifyTimestamp {
                statement: name.clone(),
                value: other.to_owned(),
            });
        }
    };
    let stores = raw.trust_stores.as_slice();
    let identities = raw.trusted_identities.as_slice();
    let (trust_stores, trusted_identities) = if level.is_skip() {
        if !stores.is_empty() || !identities.is_empty() {
            return Err(PolicyError::SkipWithTrust {
                statement: name.clone(),
            });
        }
        (Vec::new(), TrustedIdentities::none())
    } else {
        if stores.is_empty() || identities.is_empty() {
            return Err(PolicyError::MissingTrust {
                statement: name.clone(),
            });
        }
        (
            trust_stores(name, stores)?,
            TrustedIdentities::validate(name, identities)?,
        )
    };
    Ok(TrustPolicyStatement {
        name: name.clone(),
        registry_scopes: raw.registry_scopes.as_slice().to_vec(),
        level,
        verify_timestamp,
        trust_stores,
        trusted_identities,
    })
}

/// `validateTrustStore`, then de-duplication (first occurrence kept), as the verifier's
/// `loadX509TrustStoresWithType` loads each distinct value once.
fn trust_stores(statement: &str, values: &[String]) -> Result<Vec<TrustStoreRef>, PolicyError> {
    let mut stores: Vec<TrustStoreRef> = Vec::with_capacity(values.len());
    for value in values {
        let store: TrustStoreRef = value.parse().map_err(|source| PolicyError::TrustStore {
            statement: statement.to_owned(),
            source,
        })?;
        if !stores.contains(&store) {
            stores.push(store);
        }
    }
    Ok(stores)
}

/// `validateRegistryScopes`. Go finds a scope used twice by iterating a map, so with several
/// such scopes the one it names varies from run to run; here it is the first in document order.
fn validate_registry_scopes(statements: &[RawStatement]) -> Result<(), PolicyError> {
    let mut count: HashMap<&str, usize> = HashMap::new();
    let mut order: Vec<&str> = Vec::new();
    for statement in statements {
        let scopes = statement.registry_scopes.as_slice();
        if scopes.is_empty() {
            return Err(PolicyError::NoRegistryScopes {
                statement: statement.name.clone(),
            });
        }
        if scopes.len() > 1 && scopes.iter().any(|s| s == WILDCARD) {
            return Err(PolicyError::WildcardScopeNotAlone {
                statement: statement.name.clone(),
            });
        }
        for scope in scopes {
            if scope != WILDCARD {
                scope::validate_format(scope)?;
            }
            let seen = count.entry(scope.as_str()).or_insert(0);
            if *seen == 0 {
                order.push(scope);
            }
            *seen += 1;
        }
    }
    match order
        .into_iter()
        .find(|s| count.get(s).is_some_and(|&n| n > 1))
    {
        Some(scope) => Err(PolicyError::DuplicateRegistryScope {
            scope: scope.to_owned(),
        }),
        None => Ok(()),
    }
}
