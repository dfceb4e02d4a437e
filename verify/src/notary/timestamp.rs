//! The authenticTimestamp validation (notation-go `verifyAuthenticTimestamp`):
//! under `notary.x509`, the signing chain must be valid now unless a trusted
//! RFC 3161 countersignature proves the signature was made while it was;
//! under `notary.x509.signingAuthority`, at the authentic signing time.

use pullgate_policy::dn::go_quote;
use pullgate_policy::{StoreKind, VerifyTimestamp};

use super::envelope::{EnvelopeContent, SigningScheme};
use super::gocompat::{rfc1123z, utc};
use super::signature::Context;

pub(crate) async fn authentic_timestamp(
    ctx: &Context<'_>,
    content: &EnvelopeContent,
) -> Result<(), String> {
    let signer = &content.signer;
    if signer.scheme == SigningScheme::SigningAuthority {
        let at = signer.signing_time;
        for cert in &signer.chain {
            if at < cert.not_before() || at > cert.not_after() {
                return Err(format!(
                    "certificate {} was not valid when the digital signature was produced at {}",
                    go_quote(cert.subject()),
                    go_quote(&rfc1123z(at))
                ));
            }
        }
        return Ok(());
    }
    let tsa_enabled = ctx
        .policy
        .trust_stores()
        .iter()
        .any(|s| s.kind == StoreKind::Tsa);
    let mut perform = tsa_enabled;
    if perform && ctx.policy.verify_timestamp() == VerifyTimestamp::AfterCertExpiry {
        let expired = signer.chain.iter().any(|c| ctx.now > c.not_after());
        if !expired {
            tracing::debug!(
                "timestamp verification disabled: verifyTimestamp is afterCertExpiry and the signing chain is unexpired"
            );
            perform = false;
        }
    }
    if !perform {
        for cert in &signer.chain {
            if ctx.now < cert.not_before() {
                return Err(format!(
                    "verification time is before certificate {} validity period, it will be valid from {}",
                    go_quote(cert.subject()),
                    go_quote(&rfc1123z(utc(cert.not_before())))
                ));
            }
            if ctx.now > cert.not_after() {
                return Err(format!(
                    "verification time is after certificate {} validity period, it was expired at {}",
                    go_quote(cert.subject()),
                    go_quote(&rfc1123z(utc(cert.not_after())))
                ));
            }
        }
        return Ok(());
    }
    super::tsa::verify_countersignature(ctx, content).await
}
