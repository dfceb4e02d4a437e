//! A parsed CRL with what the checks read, as Go's `x509.ParseRevocationList`
//! gives it: raw TBS and issuer bytes, the signature, thisUpdate and
//! nextUpdate, the CRL number, extensions, and entries with their reason
//! codes. Files of `crl_dir` may be DER or PEM (`X509 CRL` blocks).

use std::ops::Range;

use base64::Engine as _;
use const_oid::ObjectIdentifier;
use der::{Decode, Tagged};
use num_bigint::BigInt;
use time::OffsetDateTime;
use x509_cert::crl::CertificateList;

use super::asn1::{enumerated, first_tlv, raw_elements, x509_time};
use super::error::CrlParseError;
use crate::x509::{RawExtension, SignatureAlgorithm};

pub(crate) const REASON_CODE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.21");
pub(crate) const INVALIDITY_DATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.24");
pub(crate) const CRL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.20");
pub(crate) const DELTA_CRL_INDICATOR: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.27");
pub(crate) const ISSUING_DISTRIBUTION_POINT: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.5.29.28");
pub(crate) const FRESHEST_CRL: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.46");

/// One revoked certificate.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The serial number's INTEGER contents (minimal two's complement).
    pub serial: Vec<u8>,
    pub revocation_time: OffsetDateTime,
    /// The CRLReason (0, unspecified, when the extension is absent).
    pub reason: i64,
    pub extensions: Vec<RawExtension>,
}

/// A CRL as Go reads it.
#[derive(Debug, Clone)]
pub(crate) struct Crl {
    der: Vec<u8>,
    tbs: Range<usize>,
    raw_issuer: Range<usize>,
    pub signature_algorithm: SignatureAlgorithm,
    pub signature: Vec<u8>,
    pub this_update: OffsetDateTime,
    pub next_update: Option<OffsetDateTime>,
    pub number: Option<BigInt>,
    pub extensions: Vec<RawExtension>,
    pub entries: Vec<Entry>,
}

impl Crl {
    /// Parses one DER CRL; bytes after it are ignored, as in Go.
    pub(crate) fn from_der(bytes: &[u8]) -> Result<Crl, CrlParseError> {
        let malformed = |_| CrlParseError::Malformed;
        let der = first_tlv(bytes).map_err(malformed)?;
        let outer = raw_elements(der).map_err(malformed)?;
        let [tbs, outer_alg, _signature] = outer.as_slice() else {
            return Err(CrlParseError::Malformed);
        };
        let tbs_parts = raw_elements(tbs).map_err(malformed)?;
        let version = tbs_parts.first().ok_or(CrlParseError::Malformed)?;
        if version.first() != Some(&0x02) {
            return Err(CrlParseError::Version);
        }
        if *version != [0x02, 0x01, 0x01] {
            return Err(CrlParseError::Version);
        }
        let (Some(inner_alg), Some(issuer)) = (tbs_parts.get(1), tbs_parts.get(2)) else {
            return Err(CrlParseError::Malformed);
        };
        if inner_alg != outer_alg {
            return Err(CrlParseError::AlgorithmMismatch);
        }
        let list: CertificateList = CertificateList::from_der(der).map_err(malformed)?;
        let signature = list
            .signature
            .as_bytes()
            .ok_or(CrlParseError::Malformed)?
            .to_vec();
        let tbs_list = &list.tbs_cert_list;
        let this_update = x509_time(tbs_list.this_update).ok_or(CrlParseError::Malformed)?;
        let next_update = match tbs_list.next_update {
            Some(t) => Some(x509_time(t).ok_or(CrlParseError::Malformed)?),
            None => None,
        };
        let extensions: Vec<RawExtension> = tbs_list
            .crl_extensions
            .iter()
            .flatten()
            .map(raw_extension)
            .collect();
        let number = match extensions.iter().find(|e| e.oid == CRL_NUMBER) {
            Some(e) => Some(integer(&e.value).ok_or(CrlParseError::Number)?),
            None => None,
        };
        let mut entries = Vec::new();
        for revoked in tbs_list.revoked_certificates.iter().flatten() {
            let extensions: Vec<RawExtension> = revoked
                .crl_entry_extensions
                .iter()
                .flatten()
                .map(raw_extension)
                .collect();
            let mut reason = 0;
            for ext in extensions.iter().filter(|e| e.oid == REASON_CODE) {
                reason = enumerated(&ext.value).ok_or(CrlParseError::ReasonCode)?;
            }
            entries.push(Entry {
                serial: revoked.serial_number.as_bytes().to_vec(),
                revocation_time: x509_time(revoked.revocation_date)
                    .ok_or(CrlParseError::Malformed)?,
                reason,
                extensions,
            });
        }
        Ok(Crl {
            tbs: range_of(der, tbs),
            raw_issuer: range_of(der, issuer),
            der: der.to_vec(),
            signature_algorithm: SignatureAlgorithm::from_identifier(&list.signature_algorithm),
            signature,
            this_update,
            next_update,
            number,
            extensions,
            entries,
        })
    }

    /// The CRL's DER (what a cache stores).
    pub(crate) fn der(&self) -> &[u8] {
        &self.der
    }

    pub(crate) fn raw_tbs(&self) -> &[u8] {
        &self.der[self.tbs.clone()]
    }

    /// The issuer Name's DER, as in the CRL.
    pub(crate) fn raw_issuer(&self) -> &[u8] {
        &self.der[self.raw_issuer.clone()]
    }

    pub(crate) fn extension(&self, oid: ObjectIdentifier) -> Option<&RawExtension> {
        self.extensions.iter().find(|e| e.oid == oid)
    }

    /// A delta CRL (it carries a DeltaCRLIndicator).
    pub(crate) fn is_delta(&self) -> bool {
        self.extension(DELTA_CRL_INDICATOR).is_some()
    }

    /// Current at `now`: thisUpdate ≤ now < nextUpdate (no nextUpdate: never).
    pub(crate) fn is_current(&self, now: OffsetDateTime) -> bool {
        self.this_update <= now && self.next_update.is_some_and(|n| now < n)
    }
}

fn raw_extension(ext: &x509_cert::ext::Extension) -> RawExtension {
    RawExtension {
        oid: ext.extn_id,
        critical: ext.critical,
        value: ext.extn_value.as_bytes().to_vec(),
    }
}

fn range_of(outer: &[u8], inner: &[u8]) -> Range<usize> {
    let start = inner.as_ptr() as usize - outer.as_ptr() as usize;
    start..start + inner.len()
}

/// A DER INTEGER (the whole input) as Go's `cryptobyte.ReadASN1Integer`
/// reads it into a `big.Int`.
pub(crate) fn integer(tlv: &[u8]) -> Option<BigInt> {
    let any = der::asn1::AnyRef::from_der(tlv).ok()?;
    if any.tag() != der::Tag::Integer {
        return None;
    }
    let value = any.value();
    let (&first, rest) = value.split_first()?;
    if let Some(&second) = rest.first()
        && ((first == 0 && second & 0x80 == 0) || (first == 0xff && second & 0x80 != 0))
    {
        return None;
    }
    Some(BigInt::from_signed_bytes_be(value))
}

/// Every CRL in a file: PEM `X509 CRL` blocks, else one DER CRL.
pub(crate) fn parse_crl_file(bytes: &[u8]) -> Result<Vec<Crl>, CrlParseError> {
    let text = std::str::from_utf8(bytes).ok();
    let Some(text) = text.filter(|t| t.contains("-----BEGIN ")) else {
        return Ok(vec![Crl::from_der(bytes)?]);
    };
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let label_end = after.find("-----").ok_or(CrlParseError::Pem)?;
        let label = &after[..label_end];
        if label != "X509 CRL" {
            return Err(CrlParseError::PemLabel {
                label: label.to_string(),
            });
        }
        let end_marker = format!("-----END {label}-----");
        let body_start = label_end + 5;
        let end = after
            .get(body_start..)
            .and_then(|b| b.find(&end_marker))
            .map(|e| body_start + e)
            .ok_or(CrlParseError::Pem)?;
        let body: String = after[body_start..end]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|_| CrlParseError::Pem)?;
        out.push(Crl::from_der(&der)?);
        rest = &after[end + end_marker.len()..];
    }
    if out.is_empty() {
        return Err(CrlParseError::Empty);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
