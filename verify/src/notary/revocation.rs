//! The revocation validation (notation-go `verifyRevocation` and
//! `revocationFinalResult`): every certificate but the root is checked;
//! one without OCSP or CRL pointers cannot be revoked; the aggregate is OK,
//! revoked, or unknown (which fails like revoked under `enforce`).

use pullgate_policy::dn::go_quote;
use time::OffsetDateTime;

use super::envelope::SignerInfo;
use crate::x509::Cert;

/// One certificate's revocation status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    NonRevokable,
    Revoked,
    Unknown,
}

/// Answers revocation questions: from CRL files, a cache, or the network.
pub trait RevocationChecker: Send + Sync {
    /// The status of `cert` issued by `issuer`, at `now`.
    fn status(&self, cert: &Cert, issuer: &Cert, now: OffsetDateTime) -> Status;
}

/// A checker that knows nothing: every revocable certificate is unknown
/// (an offline cluster without CRLs).
#[derive(Debug, Default)]
pub struct NoRevocationData;

impl RevocationChecker for NoRevocationData {
    fn status(&self, _cert: &Cert, _issuer: &Cert, _now: OffsetDateTime) -> Status {
        Status::Unknown
    }
}

/// Statuses of `chain` (leaf first); the root is non-revokable.
pub fn chain_statuses(
    checker: &dyn RevocationChecker,
    chain: &[Cert],
    now: OffsetDateTime,
) -> Vec<Status> {
    chain
        .iter()
        .enumerate()
        .map(|(i, cert)| match chain.get(i + 1) {
            None => Status::NonRevokable,
            Some(_) if cert.crl_urls().is_empty() && cert.ocsp_urls().is_empty() => {
                Status::NonRevokable
            }
            Some(issuer) => checker.status(cert, issuer, now),
        })
        .collect()
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

pub(crate) fn code_signing(
    checker: &dyn RevocationChecker,
    signer: &SignerInfo,
    now: OffsetDateTime,
) -> Result<(), String> {
    let statuses = chain_statuses(checker, &signer.chain, now);
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
