//! notation-core-go `revocation/internal/crl`: whether a base CRL (and its
//! delta) answers for an issuer (`validate`), and what it says about a
//! certificate (`checkRevocation`).

use std::sync::Arc;

use time::OffsetDateTime;

use super::Status;
use super::asn1::generalized_time;
use super::crl::{
    Crl, DELTA_CRL_INDICATOR, Entry, INVALIDITY_DATE, ISSUING_DISTRIBUTION_POINT, integer,
};
use super::error::{CrlProblem, EntryError, ValidationError};
use crate::x509::{Cert, PublicKey, SignatureError, check_signature, key_usage};
use der::Tagged;

/// A base CRL and, when its FreshestCRL led to one, its delta CRL.
#[derive(Debug, Clone)]
pub(crate) struct Bundle {
    pub base: Arc<Crl>,
    pub delta: Option<Arc<Crl>>,
}

impl Bundle {
    /// Both CRLs are current at `now`.
    pub(crate) fn is_current(&self, now: OffsetDateTime) -> bool {
        self.base.is_current(now) && self.delta.as_ref().is_none_or(|d| d.is_current(now))
    }
}

/// notation-core-go `validate`: both CRLs are the issuer's and current, and
/// the delta belongs to the base.
pub(crate) fn validate(
    bundle: &Bundle,
    issuer: &Cert,
    now: OffsetDateTime,
) -> Result<(), ValidationError> {
    validate_crl(&bundle.base, issuer, now).map_err(ValidationError::Base)?;
    let Some(delta) = &bundle.delta else {
        return Ok(());
    };
    validate_crl(delta, issuer, now).map_err(ValidationError::Delta)?;
    let base_number = bundle
        .base
        .number
        .clone()
        .ok_or(ValidationError::NoNumber { which: "base" })?;
    let delta_number = delta
        .number
        .clone()
        .ok_or(ValidationError::NoNumber { which: "delta" })?;
    if delta_number <= base_number {
        return Err(ValidationError::DeltaNumber {
            delta: delta_number,
            base: base_number,
        });
    }
    let indicator = delta
        .extension(DELTA_CRL_INDICATOR)
        .ok_or(ValidationError::NoDeltaIndicator)?;
    let minimum = integer(&indicator.value).ok_or(ValidationError::BadDeltaIndicator)?;
    if minimum > base_number {
        return Err(ValidationError::DeltaIndicator {
            indicator: minimum,
            base: base_number,
        });
    }
    Ok(())
}

/// notation-core-go `validateCRL`, plus the contract's issuer-name match
/// and thisUpdate ≤ now.
fn validate_crl(crl: &Crl, issuer: &Cert, now: OffsetDateTime) -> Result<(), CrlProblem> {
    if crl.raw_issuer() != issuer.raw_subject() {
        return Err(CrlProblem::Issuer {
            subject: issuer.subject().to_string(),
        });
    }
    check_signature_from(crl, issuer).map_err(|source| CrlProblem::Signature {
        subject: issuer.subject().to_string(),
        source,
    })?;
    let next_update = crl.next_update.ok_or(CrlProblem::NoNextUpdate)?;
    if now >= next_update {
        return Err(CrlProblem::Expired { now, next_update });
    }
    if now < crl.this_update {
        return Err(CrlProblem::NotYetValid {
            now,
            this_update: crl.this_update,
        });
    }
    for ext in &crl.extensions {
        let known = ext.oid == ISSUING_DISTRIBUTION_POINT || ext.oid == DELTA_CRL_INDICATOR;
        if !known && ext.critical {
            return Err(CrlProblem::CriticalExtension { oid: ext.oid });
        }
    }
    Ok(())
}

/// Go's `RevocationList.CheckSignatureFrom(parent)`: the parent may sign
/// CRLs, and its key verifies the signature (SHA-1 allowed, as Go's
/// `Certificate.CheckSignature` does).
pub(crate) fn check_signature_from(crl: &Crl, parent: &Cert) -> Result<(), SignatureError> {
    let constraint = SignatureError::Invalid(
        "x509: invalid signature: parent certificate cannot sign this kind of certificate",
    );
    if (parent.version() == 3 && !parent.basic_constraints_valid())
        || (parent.basic_constraints_valid() && !parent.is_ca())
    {
        return Err(constraint);
    }
    if parent.key_usage() != 0 && parent.key_usage() & key_usage::CRL_SIGN == 0 {
        return Err(constraint);
    }
    if matches!(parent.public_key(), PublicKey::Other(_)) {
        return Err(SignatureError::Unsupported);
    }
    check_signature(
        &crl.signature_algorithm,
        crl.raw_tbs(),
        &crl.signature,
        parent.public_key(),
        true,
    )
}

const CERTIFICATE_HOLD: i64 = 6;
const REMOVE_FROM_CRL: i64 = 8;

/// notation-core-go `checkRevocation`: the certificate's entries in the base
/// and delta CRLs. An invalidity date after the authentic signing time
/// means good; a reason other than certificateHold / removeFromCRL means
/// revoked; otherwise the latest hold / remove entry decides.
pub(crate) fn check_revocation(
    cert: &Cert,
    bundle: &Bundle,
    signing_time: Option<OffsetDateTime>,
) -> Result<Status, EntryError> {
    let entries = bundle
        .base
        .entries
        .iter()
        .chain(bundle.delta.iter().flat_map(|d| d.entries.iter()))
        .filter(|e| e.serial == cert.serial());
    let mut latest_temporary: Option<&Entry> = None;
    for entry in entries {
        let invalidity = invalidity_date(entry)?;
        if let (Some(signed), Some(invalid)) = (signing_time, invalidity)
            && signed < invalid
        {
            return Ok(Status::Ok);
        }
        match entry.reason {
            CERTIFICATE_HOLD | REMOVE_FROM_CRL => {
                if latest_temporary.is_none_or(|l| l.revocation_time < entry.revocation_time) {
                    latest_temporary = Some(entry);
                }
            }
            _ => return Ok(Status::Revoked),
        }
    }
    match latest_temporary {
        Some(e) if e.reason == CERTIFICATE_HOLD => Ok(Status::Revoked),
        _ => Ok(Status::Ok),
    }
}

/// notation-core-go `parseEntryExtensions`: the invalidity date; any other
/// critical entry extension is an error.
fn invalidity_date(entry: &Entry) -> Result<Option<OffsetDateTime>, EntryError> {
    let mut date = None;
    for ext in &entry.extensions {
        if ext.oid == INVALIDITY_DATE {
            date = Some(parse_invalidity(&ext.value)?);
        } else if ext.critical {
            return Err(EntryError::CriticalExtension { oid: ext.oid });
        }
    }
    Ok(date)
}

fn parse_invalidity(value: &[u8]) -> Result<OffsetDateTime, EntryError> {
    let tlv = super::asn1::first_tlv(value).map_err(|_| EntryError::InvalidityDate)?;
    let any = <der::asn1::AnyRef<'_> as der::Decode>::from_der(tlv)
        .map_err(|_| EntryError::InvalidityDate)?;
    if any.tag() != der::Tag::GeneralizedTime {
        return Err(EntryError::InvalidityDate);
    }
    let date = generalized_time(any.value()).ok_or(EntryError::InvalidityDate)?;
    if tlv.len() != value.len() {
        return Err(EntryError::InvalidityTrailing);
    }
    Ok(date)
}

#[cfg(test)]
mod tests;
