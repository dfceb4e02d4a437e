//! The countersignature branch of authenticTimestamp (notation-go
//! `verifyTimestamp` after it decided a timestamp must be checked): the
//! token stamps the primitive signature, chains to the `tsa` trust store at
//! its own time, its chain has the timestamping profile, the interval it
//! proves lies inside every signing certificate's validity, and the TSA
//! chain is not revoked.

use pullgate_policy::StoreKind;
use pullgate_policy::dn::go_quote;

use super::envelope::EnvelopeContent;
use super::gocompat::{rfc1123z, utc};
use super::revocation::{RevocationContext, Status, chain_statuses, final_result};
use super::signature::Context;
use super::tsp;
use crate::x509::validate_timestamping_chain;

pub(crate) async fn verify_countersignature(
    ctx: &Context<'_>,
    content: &EnvelopeContent,
) -> Result<(), String> {
    let signer = &content.signer;
    let Some(token) = &signer.timestamp_token else {
        return Err("no timestamp countersignature was found in the signature envelope".into());
    };
    let token = tsp::parse(token)
        .map_err(|e| format!("failed to parse timestamp countersignature with error: {e}"))?;
    let info = token
        .info()
        .map_err(|e| format!("failed to get the timestamp TSTInfo with error: {e}"))?;
    let timestamp = info.validate(&signer.signature).map_err(|e| {
        format!("failed to get timestamp from timestamp countersignature with error: {e}")
    })?;
    let roots = ctx
        .stores
        .certificates(StoreKind::Tsa, ctx.policy.trust_stores())
        .map_err(|e| format!("failed to load tsa trust store with error: {e}"))?;
    if roots.is_empty() {
        return Err("no trusted TSA certificate found in trust store".into());
    }
    let tsa_chain = token
        .verify(&roots, timestamp.value)
        .map_err(|e| format!("failed to verify the timestamp countersignature with error: {e}"))?;
    validate_timestamping_chain(&tsa_chain).map_err(|e| {
        format!("failed to validate the timestamping certificate chain with error: {e}")
    })?;
    for cert in &signer.chain {
        if !timestamp.bounded_after(cert.not_before()) {
            return Err(format!(
                "timestamp can be before certificate {} validity period, it will be valid from {}",
                go_quote(cert.subject()),
                go_quote(&rfc1123z(utc(cert.not_before())))
            ));
        }
        if !timestamp.bounded_before(cert.not_after()) {
            return Err(format!(
                "timestamp can be after certificate {} validity period, it was expired at {}",
                go_quote(cert.subject()),
                go_quote(&rfc1123z(utc(cert.not_after())))
            ));
        }
    }
    let rctx = RevocationContext {
        now: ctx.now,
        authentic_signing_time: None,
    };
    let statuses = chain_statuses(ctx.revocation, &tsa_chain, &rctx).await;
    match final_result(&statuses, &tsa_chain) {
        (Status::Ok | Status::NonRevokable, _) => Ok(()),
        (Status::Revoked, s) => Err(format!(
            "timestamping certificate with subject {} is revoked",
            go_quote(&s.unwrap_or_default())
        )),
        (Status::Unknown, s) => Err(format!(
            "timestamping certificate with subject {} revocation status is unknown",
            go_quote(&s.unwrap_or_default())
        )),
    }
}
