//! Distinguished names exactly as notation-go handles them: `pkix.ParseDistinguishedName`
//! (go-ldap's RFC 4514 parser plus notation's rules), `pkix.IsSubsetDN`, and Go's rendering of a
//! certificate subject ([`go_name_string`]) that notation-go parses to match trusted identities.
//!
//! Go strings may hold bytes that are not UTF-8, and a `\XX` escape in a DN can produce such
//! bytes. This crate matches and reports on those exact bytes internally; the [`DnMap`] returned
//! by [`parse_distinguished_name`] shows each such byte as U+FFFD.

mod ber;
mod ldap;
mod name;

use std::collections::BTreeMap;

pub use crate::gofmt::go_quote;
use crate::gofmt::{go_quote_bytes, push_go_lossy};
pub use ber::BerError;
pub use ldap::LdapError;
pub use name::{AttrValue, go_name_string};

/// A parsed DN: attribute type → value (types and values case-sensitive, as in notation-go).
pub type DnMap = BTreeMap<String, String>;

/// A parsed DN as Go holds it: byte strings.
pub(crate) type RawDnMap = BTreeMap<Vec<u8>, Vec<u8>>;

/// The attributes notation-go requires, in the order it checks them.
const MANDATORY: [&str; 3] = ["C", "ST", "O"];

/// notation-go's `pkix.ParseDistinguishedName` errors, with its exact texts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnError {
    /// The DN contains `=#` (a hex-encoded value).
    #[error(
        "unsupported distinguished name (DN) {}: notation does not support x509.subject identities containing \"=#\"",
        go_quote(.dn)
    )]
    HexValue {
        /// The DN as given.
        dn: String,
    },
    /// go-ldap could not parse the DN.
    #[error(
        "parsing distinguished name (DN) {} failed with err: {source}. A valid DN must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum, and follow RFC 4514 standard",
        go_quote(.dn)
    )]
    Syntax {
        /// The DN as given.
        dn: String,
        /// go-ldap's error.
        #[source]
        source: LdapError,
    },
    /// An RDN with more than one attribute (`A=1+B=2`).
    #[error(
        "distinguished name (DN) {} has multi-valued RDN attributes, remove multi-valued RDN attributes as they are not supported",
        go_quote(.dn)
    )]
    MultiValued {
        /// The DN as given.
        dn: String,
    },
    /// An attribute type that appears twice with a non-empty first value (`S` counts as `ST`).
    #[error(
        "distinguished name (DN) {} has duplicate RDN attribute for {}, DN can only have unique RDN attributes",
        go_quote(.dn),
        go_quote_bytes(.attribute)
    )]
    DuplicateAttribute {
        /// The DN as given.
        dn: String,
        /// The attribute type (bytes: it may hold `\XX`-escaped bytes).
        attribute: Vec<u8>,
    },
    /// C, ST (or S) or O is missing or empty.
    #[error(
        "distinguished name (DN) {} has no mandatory RDN attribute for {}, it must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum",
        go_quote(.dn),
        go_quote(.attribute)
    )]
    MissingMandatory {
        /// The DN as given.
        dn: String,
        /// "C", "ST" or "O".
        attribute: &'static str,
    },
}

impl DnError {
    /// A short stable label for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            DnError::HexValue { .. } => "dn_hex_value",
            DnError::Syntax { .. } => "dn_syntax",
            DnError::MultiValued { .. } => "dn_multi_valued_rdn",
            DnError::DuplicateAttribute { .. } => "dn_duplicate_attribute",
            DnError::MissingMandatory { .. } => "dn_missing_mandatory_attribute",
        }
    }
}

/// notation-go's `pkix.ParseDistinguishedName`: rejects `=#`, parses with go-ldap v3.4.11's
/// `ParseDN`, rejects multi-valued RDNs, renames `S` to `ST`, rejects a type seen twice (unless
/// its earlier value was empty: Go tests `map[type] == ""`), and requires non-empty C, ST and O.
pub fn parse_distinguished_name(s: &str) -> Result<DnMap, DnError> {
    parse_raw(s).map(|raw| to_lossy(&raw))
}

/// The [`DnMap`] view of a parsed DN.
pub(crate) fn to_lossy(raw: &RawDnMap) -> DnMap {
    raw.iter().map(|(k, v)| (lossy(k), lossy(v))).collect()
}

/// notation-go's `pkix.IsSubsetDN`: every pair of `a` is in `b`, a missing key counting as the
/// empty value (Go's map lookup), so `{"OU": ""}` is a subset of a map without OU.
pub fn is_subset(a: &DnMap, b: &DnMap) -> bool {
    subset(a, b)
}

pub(crate) fn subset<K: Ord, V: AsRef<[u8]>>(a: &BTreeMap<K, V>, b: &BTreeMap<K, V>) -> bool {
    a.iter()
        .all(|(key, value)| b.get(key).map_or(&[][..], |other| other.as_ref()) == value.as_ref())
}

/// [`parse_distinguished_name`] keeping Go's byte strings.
pub(crate) fn parse_raw(s: &str) -> Result<RawDnMap, DnError> {
    let dn = || s.to_owned();
    if s.contains("=#") {
        return Err(DnError::HexValue { dn: dn() });
    }
    let rdns = ldap::parse_dn(s).map_err(|source| DnError::Syntax { dn: dn(), source })?;
    let mut map = RawDnMap::new();
    for rdn in rdns {
        if rdn.len() > 1 {
            return Err(DnError::MultiValued { dn: dn() });
        }
        for attribute in rdn {
            let kind = if attribute.kind == b"S" {
                b"ST".to_vec()
            } else {
                attribute.kind
            };
            if map.get(&kind).is_some_and(|v| !v.is_empty()) {
                return Err(DnError::DuplicateAttribute {
                    dn: dn(),
                    attribute: kind,
                });
            }
            map.insert(kind, attribute.value);
        }
    }
    for attribute in MANDATORY {
        if map.get(attribute.as_bytes()).is_none_or(|v| v.is_empty()) {
            return Err(DnError::MissingMandatory {
                dn: dn(),
                attribute,
            });
        }
    }
    Ok(map)
}

/// Go's `%q` of a `[]map[string]string`: `[map["C":"US" "O":"x"] map[...]]`, keys sorted.
pub(crate) fn go_quote_maps(maps: &[RawDnMap]) -> String {
    let rendered: Vec<String> = maps
        .iter()
        .map(|map| {
            let pairs: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}:{}", go_quote_bytes(k), go_quote_bytes(v)))
                .collect();
            format!("map[{}]", pairs.join(" "))
        })
        .collect();
    format!("[{}]", rendered.join(" "))
}

fn lossy(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    push_go_lossy(&mut s, bytes);
    s
}

#[cfg(test)]
mod tests;
