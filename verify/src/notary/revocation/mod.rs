//! The revocation validation (notation-go `verifyRevocation` and
//! `revocationFinalResult`): every certificate but the root is checked;
//! one without OCSP or CRL pointers cannot be revoked; the aggregate is OK,
//! revoked, or unknown (which fails like revoked under `enforce`).
//!
//! [`Checker`] answers for one certificate and its issuer, following
//! notation-core-go (`revocation/`, `revocation/internal/{ocsp,crl}`,
//! `revocation/crl`) and, for OCSP responses, x/crypto/ocsp:
//!
//! - **OCSP**: `http://` responders only, a SHA-1 CertID,
//!   GET `<url>/<escaped base64>` when shorter than 255 characters, else
//!   POST; the first good, revoked or "unknown" answer decides, failures go
//!   on to the next responder. The response must be signed by the issuer,
//!   or by a responder certificate the issuer signed; it must not be past
//!   its nextUpdate (a response without one counts as expired, as in Go).
//!   A revocation whose invalidity date is after the authentic signing
//!   time (signing-authority scheme only) is no revocation.
//! - **CRL**: every distribution point must answer (`http://` only, at
//!   most 32 MiB, delta CRLs only through the base CRL's FreshestCRL; a
//!   FreshestCRL in the certificate alone gives "unknown"); the CRL must be
//!   the issuer's, signed by its key, with a nextUpdate; unknown critical
//!   CRL or entry extensions are errors; a reason other than
//!   certificateHold / removeFromCRL revokes, else the latest hold / remove
//!   entry decides.
//! - OCSP that does not answer good or revoked falls back to CRLs when the
//!   certificate has distribution points.
//!
//! Where notation (online only) meets pullgate's configuration, the
//! contract (interfaces.md, "Verdicts") decides:
//!
//! - **Sources, in order.** Online: a current CRL from `crl_dir` or the
//!   cache, else OCSP, else CRL download. Offline: `crl_dir` only; the
//!   network is never touched and, without a CRL there, the status is
//!   unknown. A CRL from `crl_dir` applies when its issuer name is the
//!   issuer's subject, its signature verifies with the issuer's key, it is
//!   current (thisUpdate ≤ now < nextUpdate), it is not a delta CRL, and
//!   its IssuingDistributionPoint (if any) covers the certificate — one of
//!   the certificate's own distribution points, no reason subset, not
//!   indirect (notation ignores that extension because it reads every
//!   distribution point; a CRL picked by issuer must prove its scope). The
//!   newest applicable CRL (thisUpdate, then CRL number) wins; if it has a
//!   FreshestCRL, the newest current delta CRL of `crl_dir` that belongs to
//!   it is used with it, and without one `crl_dir` gives no status. The
//!   cache answers only when every distribution point of the certificate
//!   has a current entry; between `crl_dir` and the cache the newer wins.
//! - **Currency.** Every CRL must be current at the verification time:
//!   thisUpdate ≤ now < nextUpdate (notation accepts a CRL whose thisUpdate
//!   is in the future and one at exactly its nextUpdate).
//! - **Issuer name.** A CRL's issuer must equal the issuer certificate's
//!   subject (notation checks the signature only).
//! - **Cache.** notation's file format (`sha256(url)` hex, JSON with base64
//!   `baseCRL` / `deltaCRL`), keyed by the certificate's URL before any
//!   rewrite; written only after the bundle validated against the issuer
//!   (notation writes before validating), atomically, at most 1024 files;
//!   parsed bundles are also kept in memory (at most 64) while current.
//! - **OCSP responders.** A delegated responder certificate must carry the
//!   OCSPSigning extended key usage (x/crypto/ocsp does not check it; RFC
//!   6960 requires it, and without it any certificate the CA issued could
//!   vouch for its siblings); the issuer's own certificate needs no EKU.
//!   thisUpdate is not checked (as in notation).
//! - **Bounds.** A per-request timeout (connect through the last byte),
//!   at most 4 OCSP URLs, at most 4 distribution points (more: unknown,
//!   since all must be read), at most 4 delta URLs, redirects only to
//!   `http://` and at most 5, OCSP responses ≤ 20 KiB, and one certificate's
//!   whole check ends after 4 timeouts. URLs go through `url_rewrite`
//!   (longest prefix, `http://` to `http://` only) after the `http://`
//!   check on the original; `crl_dir` holds at most 1000 entries of at
//!   most 32 MiB each, 256 MiB together.
//! - Certificates of a chain are checked one after the other (notation
//!   checks them concurrently); the verdict is the same.

mod asn1;
mod cache;
mod checker;
mod crl;
mod crl_check;
mod crl_dir;
mod crl_fetch;
mod error;
#[cfg(test)]
mod fixtures;
mod http;
mod ocsp;
mod ocsp_der;
mod settings;
#[cfg(test)]
mod tests;

pub use checker::Checker;
pub use error::{
    CrlError, CrlParseError, CrlProblem, DistributionPointError, EntryError, FetchError, HttpError,
    OcspError, OcspParseError, RevocationSetupError, ValidationError,
};
pub use settings::{
    DEFAULT_TIMEOUT, MAX_CRL_BYTES, MAX_TIMEOUT, RevocationMode, RevocationSettings,
};

use async_trait::async_trait;
use pullgate_policy::dn::go_quote;
use time::OffsetDateTime;

use super::envelope::{SignerInfo, SigningScheme};
use crate::x509::Cert;

/// One certificate's revocation status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    NonRevokable,
    Revoked,
    Unknown,
}

/// What a revocation check is about besides the certificate.
#[derive(Debug, Clone, Copy)]
pub struct RevocationContext {
    /// The verification time.
    pub now: OffsetDateTime,
    /// The authentic signing time (signing-authority scheme only): a
    /// revocation whose invalidity date is after it does not count.
    pub authentic_signing_time: Option<OffsetDateTime>,
}

/// One certificate's status and, when it is not OK, why (for logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertResult {
    pub status: Status,
    pub detail: Option<String>,
}

/// Answers revocation questions: from CRL files, a cache, or the network.
#[async_trait]
pub trait RevocationChecker: Send + Sync {
    /// The status of `cert` (which has OCSP or CRL pointers) issued by `issuer`.
    async fn check(&self, cert: &Cert, issuer: &Cert, ctx: &RevocationContext) -> CertResult;

    /// The settings that change verdicts (not the revocation data itself),
    /// for the generation: a checker with other settings is another one.
    fn settings(&self) -> String {
        std::any::type_name::<Self>().to_string()
    }
}

/// A checker that knows nothing: every revocable certificate is unknown
/// (an offline cluster without CRLs).
#[derive(Debug, Default)]
pub struct NoRevocationData;

#[async_trait]
impl RevocationChecker for NoRevocationData {
    async fn check(&self, _cert: &Cert, _issuer: &Cert, _ctx: &RevocationContext) -> CertResult {
        CertResult {
            status: Status::Unknown,
            detail: Some("no revocation data is available".into()),
        }
    }
}

/// Statuses of `chain` (leaf first); the root, and any certificate without
/// OCSP or CRL pointers, is non-revokable.
pub async fn chain_statuses(
    checker: &dyn RevocationChecker,
    chain: &[Cert],
    ctx: &RevocationContext,
) -> Vec<Status> {
    let mut out = Vec::with_capacity(chain.len());
    for (i, cert) in chain.iter().enumerate() {
        let status = match chain.get(i + 1) {
            None => Status::NonRevokable,
            Some(_) if cert.crl_urls().is_empty() && cert.ocsp_urls().is_empty() => {
                Status::NonRevokable
            }
            Some(issuer) => {
                let r = checker.check(cert, issuer, ctx).await;
                if let Some(d) = &r.detail {
                    tracing::debug!(subject = %cert.subject(), status = ?r.status, detail = %d, "revocation");
                }
                r.status
            }
        };
        out.push(status);
    }
    out
}

/// Runs every parser of untrusted revocation data on `data` — a CRL file
/// (DER or PEM) and the checks after it, a CRLDistributionPoints /
/// FreshestCRL value, an OCSP response about `cert` from `issuer` — for the
/// fuzz target: none may panic.
#[doc(hidden)]
pub fn fuzz_parsers(data: &[u8], cert: &Cert, issuer: &Cert) {
    let now = OffsetDateTime::UNIX_EPOCH + time::Duration::days(365 * 60);
    if let Ok(crls) = crl::parse_crl_file(data) {
        for c in crls {
            let _ = (c.is_current(now), c.is_delta(), crl_fetch::delta_urls(&c));
            let bundle = crl_check::Bundle {
                base: std::sync::Arc::new(c.clone()),
                delta: Some(std::sync::Arc::new(c)),
            };
            let _ = crl_check::validate(&bundle, issuer, now);
            let _ = crl_check::check_revocation(cert, &bundle, Some(now));
        }
    }
    let _ = crl_fetch::parse_distribution_points(data);
    let _ = ocsp_der::parse_response_for_cert(data, cert, issuer);
}

/// notation-go `revocationFinalResult`: revoked wins over unknown; the
/// problematic subject is the one nearest the leaf.
pub fn final_result(statuses: &[Status], chain: &[Cert]) -> (Status, Option<String>) {
    let mut result = Status::Unknown;
    let mut problem = None;
    let mut revoked = None;
    let mut ok = 0;
    for (i, status) in statuses.iter().enumerate().rev() {
        match status {
            Status::Ok | Status::NonRevokable => ok += 1,
            other => {
                result = *other;
                problem = chain.get(i).map(|c| c.subject().to_string());
                if *other == Status::Revoked {
                    revoked = problem.clone();
                }
            }
        }
    }
    if revoked.is_some() {
        return (Status::Revoked, revoked);
    }
    if ok == statuses.len() {
        return (Status::Ok, None);
    }
    (result, problem)
}

/// The revocation validation of a signing chain, with notation-go's texts.
pub(crate) async fn code_signing(
    checker: &dyn RevocationChecker,
    signer: &SignerInfo,
    now: OffsetDateTime,
) -> Result<(), String> {
    let ctx = RevocationContext {
        now,
        authentic_signing_time: (signer.scheme == SigningScheme::SigningAuthority)
            .then_some(signer.signing_time),
    };
    let statuses = chain_statuses(checker, &signer.chain, &ctx).await;
    match final_result(&statuses, &signer.chain) {
        (Status::Ok | Status::NonRevokable, _) => Ok(()),
        (Status::Revoked, s) => Err(format!(
            "signing certificate with subject {} is revoked",
            go_quote(&s.unwrap_or_default())
        )),
        (Status::Unknown, s) => Err(format!(
            "signing certificate with subject {} revocation status is unknown",
            go_quote(&s.unwrap_or_default())
        )),
    }
}
