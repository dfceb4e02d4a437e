//! Notation's named trust stores, built from key providers: the union of a
//! store's providers is checked with notation-go's per-store rules (every
//! file must parse; a `ca` or `signingAuthority` store holds CA or
//! self-signed certificates; a `tsa` store holds root CAs only; no
//! sub-directories), with notation-go's error texts.

use std::collections::BTreeMap;
use std::sync::Arc;

use pullgate_policy::dn::go_quote;
use pullgate_policy::{StoreKind, TrustStoreRef};

use crate::keys::{ItemContent, KeyProvider};
use crate::x509::{Cert, is_issued_by, parse_certificates};

/// A trust-store problem: notation's message and, where notation keeps an
/// inner error, that detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}{}", detail.as_ref().map(|d| format!(" ({d})")).unwrap_or_default())]
pub struct StoreError {
    pub message: String,
    pub detail: Option<String>,
}

impl StoreError {
    fn new(message: String) -> StoreError {
        StoreError {
            message,
            detail: None,
        }
    }
}

fn kind_name(kind: StoreKind) -> &'static str {
    match kind {
        StoreKind::Ca => "ca",
        StoreKind::SigningAuthority => "signingAuthority",
        StoreKind::Tsa => "tsa",
    }
}

/// Loads one store from its providers and applies notation's rules.
pub fn load_store(
    store: &TrustStoreRef,
    providers: &[Arc<dyn KeyProvider>],
) -> Result<Vec<Cert>, StoreError> {
    let (name, kind) = (&store.name, kind_name(store.kind));
    let mut certificates = Vec::new();
    for provider in providers {
        let items = provider
            .load()
            .map_err(|e| StoreError::new(e.to_string()))?;
        for item in items {
            let file = &item.source;
            let bytes = match item.content {
                ItemContent::Bytes(b) => b,
                ItemContent::NotRegular => {
                    return Err(StoreError::new(format!(
                        "trusted certificate {file} in trust store {name} of type {kind} is not a regular file (directories or symlinks are not supported)"
                    )));
                }
            };
            let certs = parse_certificates(&bytes).map_err(|e| StoreError {
                message: format!("failed to read the trusted certificate {file} in trust store {name} of type {kind}"),
                detail: Some(e.to_string()),
            })?;
            validate_certificates(&certs).map_err(|e| StoreError {
                message: format!("failed to validate the trusted certificate {file} in trust store {name} of type {kind}"),
                detail: Some(e),
            })?;
            if store.kind == StoreKind::Tsa {
                for cert in &certs {
                    is_root_ca(cert).map_err(|e| {
                        StoreError::new(format!(
                            "trusted certificate {file} in trust store {name} of type {kind} is invalid: {e}"
                        ))
                    })?;
                }
            }
            certificates.extend(certs);
        }
    }
    if certificates.is_empty() {
        return Err(StoreError::new(format!(
            "no x509 certificates were found in trust store {} of type {}",
            go_quote(name),
            go_quote(kind)
        )));
    }
    Ok(certificates)
}

/// notation-go `ValidateCertificates`: a non-CA certificate must be self-signed.
fn validate_certificates(certs: &[Cert]) -> Result<(), String> {
    if certs.is_empty() {
        return Err("input certs cannot be empty".into());
    }
    for cert in certs {
        if !cert.is_ca()
            && crate::x509::check_signature(
                cert.signature_algorithm(),
                cert.raw_tbs(),
                cert.signature(),
                cert.public_key(),
                true,
            )
            .is_err()
        {
            return Err(format!(
                "certificate with subject {} is not a CA certificate or self-signed signing certificate",
                go_quote(cert.subject())
            ));
        }
    }
    Ok(())
}

/// notation-go `isRootCACertificate`.
fn is_root_ca(cert: &Cert) -> Result<(), String> {
    let subject = go_quote(cert.subject());
    match is_issued_by(cert, cert) {
        Err(e) => Err(format!(
            "certificate with subject {subject} is not a root CA certificate: {e}"
        )),
        Ok(false) => Err(format!(
            "certificate with subject {subject} is not a root CA certificate: issuer ({}) and subject ({}) are not the same",
            cert.issuer(),
            cert.subject()
        )),
        Ok(true) => Ok(()),
    }
}

/// Every configured store, loaded.
#[derive(Debug, Clone, Default)]
pub struct TrustStores {
    stores: BTreeMap<(u8, String), Vec<Cert>>,
}

fn key(store: &TrustStoreRef) -> (u8, String) {
    let k = match store.kind {
        StoreKind::Ca => 0,
        StoreKind::SigningAuthority => 1,
        StoreKind::Tsa => 2,
    };
    (k, store.name.clone())
}

impl TrustStores {
    pub fn insert(&mut self, store: &TrustStoreRef, certs: Vec<Cert>) {
        self.stores.insert(key(store), certs);
    }

    pub fn contains(&self, store: &TrustStoreRef) -> bool {
        self.stores.contains_key(&key(store))
    }

    /// notation-go `loadX509TrustStoresWithType`: the certificates of every
    /// store of `kind` that `refs` names, each store once.
    pub fn certificates(
        &self,
        kind: StoreKind,
        refs: &[TrustStoreRef],
    ) -> Result<Vec<Cert>, StoreError> {
        let mut out = Vec::new();
        let mut seen = Vec::new();
        for r in refs.iter().filter(|r| r.kind == kind) {
            if seen.contains(&r) {
                continue;
            }
            seen.push(r);
            let certs = self.stores.get(&key(r)).ok_or_else(|| {
                StoreError::new(format!(
                    "the trust store {} of type {} does not exist",
                    go_quote(&r.name),
                    go_quote(kind_name(kind))
                ))
            })?;
            out.extend(certs.iter().cloned());
        }
        Ok(out)
    }

    /// Every store (`type:name`) with its certificates, in a fixed order.
    pub fn all(&self) -> impl Iterator<Item = (String, &Vec<Cert>)> {
        self.stores.iter().map(|((k, name), certs)| {
            let kind = match k {
                0 => "ca",
                1 => "signingAuthority",
                _ => "tsa",
            };
            (format!("{kind}:{name}"), certs)
        })
    }
}
