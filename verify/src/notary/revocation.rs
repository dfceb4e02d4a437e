//! The revocation validation (notation-go `verifyRevocation` and
//! `revocationFinalResult`): every certificate but the root is checked;
//! one without OCSP or CRL pointers cannot be revoked; the aggregate is OK,
//! revoked, or unknown (which fails like revoked under `enforce`).

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
