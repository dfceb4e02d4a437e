//! The revocation [`Checker`]: `crl_dir`, the CRL cache, then OCSP and CRL
//! downloads, as the module documentation describes.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use time::OffsetDateTime;

use super::cache::CrlCache;
use super::crl::FRESHEST_CRL;
use super::crl_check::{Bundle, check_revocation, validate};
use super::crl_dir::CrlDir;
use super::crl_fetch::fetch_bundle;
use super::error::{CrlError, RevocationSetupError};
use super::http::Http;
use super::ocsp;
use super::settings::{CHECK_BUDGET_TIMEOUTS, MAX_CRL_URLS, RevocationMode, RevocationSettings};
use super::{CertResult, RevocationChecker, RevocationContext, Status};
use crate::x509::Cert;

/// Answers revocation questions from `crl_dir`, the CRL cache and (online)
/// OCSP and CRL downloads. Cheap to share (`Arc`); one HTTP client.
#[derive(Debug)]
pub struct Checker {
    /// `None` in offline mode: the network is never used.
    http: Option<Http>,
    crl_dir: CrlDir,
    cache: CrlCache,
    /// One certificate's check ends after this long, whatever it waits for.
    budget: Duration,
    /// The verdict-relevant settings (mode, CRL directory, URL rewrites).
    settings: String,
}

impl Checker {
    /// Validates the settings, reads and parses `crl_dir` (every file must
    /// parse) and creates the cache directory (online mode).
    pub fn new(settings: RevocationSettings) -> Result<Checker, RevocationSetupError> {
        let http = Http::new(&settings)?;
        let crl_dir = match &settings.crl_dir {
            Some(dir) => CrlDir::load(dir)?,
            None => CrlDir::default(),
        };
        let online = settings.mode == RevocationMode::Online;
        let cache_dir = settings.cache_dir.as_deref().filter(|_| online);
        if !online && crl_dir.is_empty() {
            tracing::warn!(
                "offline revocation checking without CRLs: every revocable certificate's status is unknown"
            );
        }
        let settings = format!(
            "mode={:?} crl_dir={:?} url_rewrite={:?}",
            settings.mode, settings.crl_dir, settings.url_rewrite
        );
        Ok(Checker {
            settings,
            budget: http.timeout() * CHECK_BUDGET_TIMEOUTS,
            http: online.then_some(http),
            crl_dir,
            cache: CrlCache::new(cache_dir)?,
        })
    }

    async fn decide(&self, cert: &Cert, issuer: &Cert, ctx: &RevocationContext) -> CertResult {
        let local = self.crl_dir.bundle_for(cert, issuer, ctx.now);
        let Some(http) = &self.http else {
            return match local {
                Some(bundle) => from_bundles(cert, issuer, ctx, &[("crl_dir".into(), bundle)]),
                None => unknown(
                    CrlError::NotInCrlDir {
                        issuer: issuer.subject().to_string(),
                    }
                    .to_string(),
                ),
            };
        };
        let cached = self.cached(cert, ctx.now).await;
        let cached_since = cached
            .as_ref()
            .and_then(|c| c.iter().map(|(_, b)| b.base.this_update).min());
        match (local, cached) {
            (Some(local), _) if cached_since.is_none_or(|c| c <= local.base.this_update) => {
                from_bundles(cert, issuer, ctx, &[("crl_dir".into(), local)])
            }
            (_, Some(cached)) => from_bundles(cert, issuer, ctx, &cached),
            (_, None) => self.online(http, cert, issuer, ctx).await,
        }
    }

    /// The cached bundles of every CRL distribution point, when all are
    /// cached and current.
    async fn cached(&self, cert: &Cert, now: OffsetDateTime) -> Option<Vec<(String, Bundle)>> {
        let urls = cert.crl_urls();
        if urls.is_empty() || urls.len() > MAX_CRL_URLS {
            return None;
        }
        let mut out = Vec::with_capacity(urls.len());
        for url in urls {
            let bundle = self.cache.get(url, now).await?;
            out.push((format!("the cached CRL of {url}"), Bundle::clone(&bundle)));
        }
        Some(out)
    }

    /// notation-core-go's `ValidateContext` for one certificate: OCSP when
    /// the certificate names a responder, and CRLs when it has distribution
    /// points and OCSP gave no good or revoked answer.
    async fn online(
        &self,
        http: &Http,
        cert: &Cert,
        issuer: &Cert,
        ctx: &RevocationContext,
    ) -> CertResult {
        let mut details = Vec::new();
        if !cert.ocsp_urls().is_empty() {
            let outcome = ocsp::check(http, cert, issuer, ctx).await;
            details.extend(
                outcome
                    .failures
                    .iter()
                    .map(|(url, e)| format!("OCSP {url} ({}): {e}", e.reason())),
            );
            if outcome.status != Status::Unknown || cert.crl_urls().is_empty() {
                if let (Status::Revoked, Some(url)) = (outcome.status, &outcome.answered_by) {
                    details.push(format!("revoked according to OCSP responder {url}"));
                }
                return result(outcome.status, details);
            }
        }
        match self.download(http, cert, issuer, ctx).await {
            Ok((status, source)) => {
                if status == Status::Revoked {
                    details.push(format!("revoked according to {source}"));
                }
                result(status, details)
            }
            Err(e) => {
                details.push(format!("CRL ({}): {e}", e.reason()));
                result(Status::Unknown, details)
            }
        }
    }

    /// notation-core-go `crl.CertCheckStatus`: every distribution point is
    /// read (cache, else download) and must answer; a revocation ends it.
    async fn download(
        &self,
        http: &Http,
        cert: &Cert,
        issuer: &Cert,
        ctx: &RevocationContext,
    ) -> Result<(Status, String), CrlError> {
        let urls = cert.crl_urls();
        if urls.len() > MAX_CRL_URLS {
            return Err(CrlError::TooManyUrls {
                count: urls.len(),
                max: MAX_CRL_URLS,
            });
        }
        for url in urls {
            let (bundle, fresh) = match self.cache.get(url, ctx.now).await {
                Some(b) => (b, false),
                None => {
                    let b = fetch_bundle(http, url)
                        .await
                        .map_err(|source| CrlError::Download {
                            url: url.clone(),
                            source,
                        })?;
                    (Arc::new(b), true)
                }
            };
            let status = evaluate(cert, issuer, ctx, url, &bundle)?;
            if fresh {
                self.cache.put(url, &bundle, ctx.now).await;
            }
            if status == Status::Revoked {
                return Ok((Status::Revoked, format!("the CRL of {url}")));
            }
        }
        Ok((Status::Ok, String::new()))
    }
}

#[async_trait]
impl RevocationChecker for Checker {
    fn settings(&self) -> String {
        self.settings.clone()
    }

    async fn check(&self, cert: &Cert, issuer: &Cert, ctx: &RevocationContext) -> CertResult {
        if cert.ocsp_urls().is_empty() && cert.crl_urls().is_empty() {
            return CertResult {
                status: Status::NonRevokable,
                detail: None,
            };
        }
        match tokio::time::timeout(self.budget, self.decide(cert, issuer, ctx)).await {
            Ok(r) => r,
            Err(_) => unknown(format!(
                "the revocation check did not finish within {:?}",
                self.budget
            )),
        }
    }
}

/// CRLs chosen from `crl_dir` or the cache, through notation-core-go's
/// checks; `source` names where each came from.
fn from_bundles(
    cert: &Cert,
    issuer: &Cert,
    ctx: &RevocationContext,
    bundles: &[(String, Bundle)],
) -> CertResult {
    for (source, bundle) in bundles {
        match evaluate(cert, issuer, ctx, source, bundle) {
            Ok(Status::Revoked) => {
                return result(
                    Status::Revoked,
                    vec![format!("revoked according to {source}")],
                );
            }
            Ok(_) => {}
            Err(e) => return unknown(format!("CRL ({}): {e}", e.reason())),
        }
    }
    result(Status::Ok, Vec::new())
}

/// One bundle for one certificate: notation-core-go's loop body.
fn evaluate(
    cert: &Cert,
    issuer: &Cert,
    ctx: &RevocationContext,
    url: &str,
    bundle: &Bundle,
) -> Result<Status, CrlError> {
    if cert.extension(FRESHEST_CRL).is_some() && bundle.delta.is_none() {
        return Err(CrlError::FreshestOnlyInCertificate);
    }
    validate(bundle, issuer, ctx.now).map_err(|source| CrlError::Validate {
        url: url.to_string(),
        source,
    })?;
    check_revocation(cert, bundle, ctx.authentic_signing_time).map_err(|source| CrlError::Entry {
        url: url.to_string(),
        source,
    })
}

fn result(status: Status, details: Vec<String>) -> CertResult {
    CertResult {
        status,
        detail: (!details.is_empty()).then(|| details.join("; ")),
    }
}

fn unknown(detail: String) -> CertResult {
    CertResult {
        status: Status::Unknown,
        detail: Some(detail),
    }
}
