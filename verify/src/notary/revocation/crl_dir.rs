//! The operator's CRLs (`crl_dir`), read once: every entry that is (or
//! links to) a regular file must hold DER or PEM CRLs, or the checker is not
//! built; directories are skipped, so a Kubernetes ConfigMap mount (its
//! `..data` links) works. For a certificate, the CRLs that apply are the
//! issuer's (same name, signature by its key), current, and covering the
//! certificate; the newest one wins.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use time::OffsetDateTime;
use x509_cert::ext::pkix::crl::dp::IssuingDistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};

use super::crl::{Crl, DELTA_CRL_INDICATOR, FRESHEST_CRL, ISSUING_DISTRIBUTION_POINT, integer};
use super::crl_check::{Bundle, check_signature_from};
use super::error::RevocationSetupError;
use super::settings::{MAX_CRL_BYTES, MAX_CRL_DIR_BYTES, MAX_CRL_DIR_ENTRIES};
use crate::x509::Cert;

/// The CRLs of `crl_dir`.
#[derive(Debug, Default)]
pub(crate) struct CrlDir {
    crls: Vec<Arc<Crl>>,
}

impl CrlDir {
    /// Reads and parses every file of `path`.
    pub(crate) fn load(path: &Path) -> Result<CrlDir, RevocationSetupError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| RevocationSetupError::CrlDir { path, source }
        };
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(io(path))?
            .take(MAX_CRL_DIR_ENTRIES + 1)
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .map_err(io(path))?;
        if entries.len() > MAX_CRL_DIR_ENTRIES {
            return Err(RevocationSetupError::TooManyEntries {
                path: path.to_path_buf(),
                max: MAX_CRL_DIR_ENTRIES,
            });
        }
        entries.sort();
        let mut total = 0u64;
        let mut crls = Vec::new();
        for entry in entries {
            let meta = std::fs::metadata(&entry).map_err(io(&entry))?;
            if !meta.is_file() {
                continue;
            }
            let bytes = read_bounded(&entry)?;
            total += bytes.len() as u64;
            if total > MAX_CRL_DIR_BYTES {
                return Err(RevocationSetupError::DirTooLarge {
                    path: path.to_path_buf(),
                    max: MAX_CRL_DIR_BYTES,
                });
            }
            let parsed =
                super::crl::parse_crl_file(&bytes).map_err(|source| RevocationSetupError::Crl {
                    path: entry.clone(),
                    source,
                })?;
            crls.extend(parsed.into_iter().map(Arc::new));
        }
        Ok(CrlDir { crls })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.crls.is_empty()
    }

    /// The newest current CRL of `issuer` covering `cert`, with the newest
    /// current delta CRL that belongs to it when it announces one (without
    /// that delta it gives no status).
    pub(crate) fn bundle_for(
        &self,
        cert: &Cert,
        issuer: &Cert,
        now: OffsetDateTime,
    ) -> Option<Bundle> {
        let usable = |c: &&Arc<Crl>| {
            c.is_current(now)
                && c.raw_issuer() == issuer.raw_subject()
                && check_signature_from(c, issuer).is_ok()
        };
        let base = self
            .crls
            .iter()
            .filter(|c| !c.is_delta())
            .filter(usable)
            .filter(|c| covers(c, cert))
            .max_by(|a, b| newest(a, b))?;
        if base.extension(FRESHEST_CRL).is_none() {
            return Some(Bundle {
                base: Arc::clone(base),
                delta: None,
            });
        }
        let delta = self
            .crls
            .iter()
            .filter(|c| c.is_delta())
            .filter(usable)
            .filter(|c| belongs_to(c, base))
            .max_by(|a, b| newest(a, b))?;
        Some(Bundle {
            base: Arc::clone(base),
            delta: Some(Arc::clone(delta)),
        })
    }
}

fn read_bounded(path: &Path) -> Result<Vec<u8>, RevocationSetupError> {
    let io = |source| RevocationSetupError::CrlDir {
        path: path.to_path_buf(),
        source,
    };
    use pullgate_registry::files::FileError;
    pullgate_registry::files::read_bounded(path, MAX_CRL_BYTES).map_err(|e| match e {
        FileError::TooLarge(max) => RevocationSetupError::FileTooLarge {
            path: path.to_path_buf(),
            max,
        },
        FileError::Io(e) => io(e),
        other => io(std::io::Error::other(other.to_string())),
    })
}

/// Later thisUpdate first, then the higher CRL number.
fn newest(a: &Arc<Crl>, b: &Arc<Crl>) -> std::cmp::Ordering {
    a.this_update
        .cmp(&b.this_update)
        .then_with(|| a.number.cmp(&b.number))
}

/// A delta CRL belongs to a base CRL when its number is higher and its
/// DeltaCRLIndicator (the oldest base it applies to) is at most the base's
/// number (RFC 5280 §5.2.4, notation-core-go `validate`).
fn belongs_to(delta: &Crl, base: &Crl) -> bool {
    let (Some(base_number), Some(delta_number)) = (&base.number, &delta.number) else {
        return false;
    };
    let minimum = delta
        .extension(DELTA_CRL_INDICATOR)
        .and_then(|e| integer(&e.value));
    delta_number > base_number && minimum.is_some_and(|m| &m <= base_number)
}

/// Whether a CRL's scope (its IssuingDistributionPoint, RFC 5280 §5.2.5)
/// covers `cert`. A CRL without one covers every certificate of its
/// issuer. notation-core-go ignores the extension because it reads every
/// distribution point of the certificate; a CRL picked from a directory
/// must instead be one of the certificate's own partitions.
fn covers(crl: &Crl, cert: &Cert) -> bool {
    let Some(ext) = crl.extension(ISSUING_DISTRIBUTION_POINT) else {
        return true;
    };
    let Ok(idp) = <IssuingDistributionPoint as der::Decode>::from_der(&ext.value) else {
        return false;
    };
    if idp.only_some_reasons.is_some()
        || idp.indirect_crl
        || idp.only_contains_attribute_certs
        || (idp.only_contains_user_certs && cert.is_ca())
        || (idp.only_contains_ca_certs && !cert.is_ca())
    {
        return false;
    }
    match idp.distribution_point {
        None => true,
        Some(DistributionPointName::FullName(names)) => names.iter().any(|n| match n {
            GeneralName::UniformResourceIdentifier(u) => {
                cert.crl_urls().iter().any(|c| c.as_str() == u.as_str())
            }
            _ => false,
        }),
        Some(DistributionPointName::NameRelativeToCRLIssuer(_)) => false,
    }
}
