//! RFC 3161 timestamp countersignatures (milestone b of the Notary issue).

use super::envelope::EnvelopeContent;
use super::signature::Context;

pub(crate) async fn verify_countersignature(
    _ctx: &Context<'_>,
    content: &EnvelopeContent,
) -> Result<(), String> {
    if content.signer.timestamp_token.is_none() {
        return Err("no timestamp countersignature was found in the signature envelope".into());
    }
    Err(
        "timestamp countersignature verification is not supported by this build of pullgate yet"
            .into(),
    )
}
