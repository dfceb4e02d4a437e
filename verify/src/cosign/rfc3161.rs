//! RFC 3161 timestamps of a bundle (`timestampVerificationData`), verified
//! against the timestamp authorities of a trusted root with the Notary
//! backend's CMS code ([`crate::notary::tsp`]), as sigstore-go's
//! `SigstoreTimestampingAuthority.Verify` (timestamp-authority's
//! `VerifyTimestampResponse`) does:
//!
//! - the bytes are a DER `TimeStampResp` whose status is granted;
//! - the token's message imprint is the hash of the bundle's signature
//!   bytes;
//! - the signer (found by its signing-certificate-v2 attribute among the
//!   token's certificates and the authority's own chain, so a token without
//!   embedded certificates verifies too) chains to the authority's root at
//!   the token's generation time, has only the timestamping extended key
//!   usage, marked critical, and signs the CMS signed attributes;
//! - when the authority names its signing certificate, the signer is that
//!   certificate;
//! - the generation time lies inside the authority's `validFor` window
//!   (both ends included).
//!
//! The time proved is the generation time (its accuracy is not used, as in
//! sigstore-go).

use time::OffsetDateTime;

use super::trusted_root::CertificateAuthority;
use super::verifier::rfc3339;
use crate::notary::tsp;

/// A timestamp that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedTimestamp {
    pub time: OffsetDateTime,
    /// The authority's URI.
    pub authority: String,
}

/// Verifies one `TimeStampResp` over `signature` against `authorities`.
pub fn verify_timestamp(
    response: &[u8],
    signature: &[u8],
    authorities: &[CertificateAuthority],
) -> Result<VerifiedTimestamp, String> {
    let token = tsp::parse_response(response)?;
    let info = token
        .info()
        .map_err(|e| format!("the timestamp token is malformed: {e}"))?;
    info.validate(signature).map_err(|e| {
        if e.contains("mismatched message") {
            "the timestamp is not over this bundle's signature (its message imprint differs)"
                .to_string()
        } else {
            format!("the timestamp token is invalid: {e}")
        }
    })?;
    let at = info.gen_time();
    if authorities.is_empty() {
        return Err("the trusted root has no timestamp authority".into());
    }
    let mut errors = Vec::new();
    for tsa in authorities {
        let extra: Vec<_> = tsa.intermediates().to_vec();
        let chain = match token.verify_with(std::slice::from_ref(tsa.root()), &extra, at, true) {
            Ok(c) => c,
            Err(e) => {
                errors.push(format!("{}: {e}", tsa.describe()));
                continue;
            }
        };
        if let Some(leaf) = tsa.tsa_leaf()
            && chain.first() != Some(leaf)
        {
            errors.push(format!(
                "{}: the timestamp is signed by {:?}, not by the authority's signing certificate",
                tsa.describe(),
                chain.first().map(|c| c.subject()).unwrap_or_default()
            ));
            continue;
        }
        if !tsa.valid_for.contains(at) {
            errors.push(format!(
                "{}: the timestamp's time {} is outside the authority's validity in the trusted root ({})",
                tsa.describe(),
                rfc3339(at),
                tsa.valid_for.describe()
            ));
            continue;
        }
        return Ok(VerifiedTimestamp {
            time: at,
            authority: tsa.uri.clone(),
        });
    }
    Err(format!(
        "the timestamp ({}) does not verify with any timestamp authority of the trusted root: {}",
        rfc3339(at),
        errors.join("; ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_must_be_granted_and_hold_a_token() {
        // TimeStampResp { status { rejection (2) } }
        let rejected = [0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x02];
        let e = verify_timestamp(&rejected, b"sig", &[]).err().unwrap();
        assert!(e.contains("status is 2, not granted"), "{e}");
        let granted_without_token = [0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x00];
        let e = verify_timestamp(&granted_without_token, b"sig", &[])
            .err()
            .unwrap();
        assert!(e.contains("holds no timestamp token"), "{e}");
        let e = verify_timestamp(b"junk", b"sig", &[]).err().unwrap();
        assert!(e.starts_with("invalid timestamp response"), "{e}");
    }
}
