//! OCSP (RFC 6960) on the wire: the request notation-core-go sends
//! (x/crypto/ocsp `CreateRequest` with SHA-1) and x/crypto/ocsp's
//! `ParseResponseForCert` — the single response whose serial matches, a
//! signature by the issuer or by a responder certificate the issuer signed.
//! The ASN.1 structures are declared here with the `der` derive.

use aws_lc_rs::digest;
use const_oid::ObjectIdentifier;
use der::asn1::{Any, AnyRef, BitString, Int, OctetString};
use der::{Decode, Encode, Sequence, Tag, TagNumber, Tagged};
use spki::AlgorithmIdentifierOwned;
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::ext::Extension;

use super::asn1::{generalized_time, small_int};
use super::error::OcspParseError;
use crate::x509::{Cert, Eku, RawExtension, SignatureAlgorithm, check_signature};

const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const OCSP_BASIC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.1");

/// `CertID ::= SEQUENCE { hashAlgorithm, issuerNameHash, issuerKeyHash, serialNumber }`
#[derive(Debug, Clone, Sequence)]
struct CertId {
    hash_algorithm: AlgorithmIdentifierOwned,
    issuer_name_hash: OctetString,
    issuer_key_hash: OctetString,
    serial_number: Int,
}

/// `Request ::= SEQUENCE { reqCert CertID, singleRequestExtensions [0] … OPTIONAL }`
#[derive(Debug, Clone, Sequence)]
struct SingleRequest {
    req_cert: CertId,
}

/// `TBSRequest ::= SEQUENCE { version [0] DEFAULT v1, requestorName [1] OPTIONAL, requestList, … }`
#[derive(Debug, Clone, Sequence)]
struct TbsRequest {
    request_list: Vec<SingleRequest>,
}

/// `OCSPRequest ::= SEQUENCE { tbsRequest, optionalSignature [0] OPTIONAL }`
#[derive(Debug, Clone, Sequence)]
struct OcspRequest {
    tbs_request: TbsRequest,
}

/// `OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, responseBytes [0] EXPLICIT OPTIONAL }`
#[derive(Debug, Sequence)]
struct OcspResponse<'a> {
    response_status: AnyRef<'a>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    response_bytes: Option<ResponseBytes>,
}

/// `ResponseBytes ::= SEQUENCE { responseType OID, response OCTET STRING }`
#[derive(Debug, Sequence)]
struct ResponseBytes {
    response_type: ObjectIdentifier,
    response: OctetString,
}

/// `BasicOCSPResponse ::= SEQUENCE { tbsResponseData, signatureAlgorithm, signature, certs [0] EXPLICIT OPTIONAL }`
#[derive(Debug, Sequence)]
struct BasicResponse<'a> {
    tbs_response_data: AnyRef<'a>,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: BitString,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    certs: Option<Vec<AnyRef<'a>>>,
}

/// `ResponseData ::= SEQUENCE { version [0] EXPLICIT DEFAULT v1, responderID, producedAt, responses, responseExtensions [1] EXPLICIT OPTIONAL }`
#[derive(Debug, Sequence)]
struct ResponseData<'a> {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    version: Option<AnyRef<'a>>,
    responder_id: AnyRef<'a>,
    produced_at: AnyRef<'a>,
    responses: Vec<SingleResponse<'a>>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    response_extensions: Option<AnyRef<'a>>,
}

/// `SingleResponse ::= SEQUENCE { certID, certStatus, thisUpdate, nextUpdate [0] EXPLICIT OPTIONAL, singleExtensions [1] EXPLICIT OPTIONAL }`
#[derive(Debug, Sequence)]
struct SingleResponse<'a> {
    cert_id: CertId,
    cert_status: AnyRef<'a>,
    this_update: AnyRef<'a>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    next_update: Option<AnyRef<'a>>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    single_extensions: Option<Vec<Extension>>,
}

/// `RevokedInfo ::= SEQUENCE { revocationTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL }`
#[derive(Debug, Sequence)]
struct RevokedInfo<'a> {
    revocation_time: AnyRef<'a>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    revocation_reason: Option<AnyRef<'a>>,
}

/// x/crypto/ocsp's certificate statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CertStatus {
    Good,
    Revoked { at: OffsetDateTime, reason: i64 },
    Unknown,
}

/// What x/crypto/ocsp's `Response` gives notation-core-go.
#[derive(Debug, Clone)]
pub(crate) struct Response {
    pub status: CertStatus,
    pub next_update: Option<OffsetDateTime>,
    /// The matching single response's extensions.
    pub extensions: Vec<RawExtension>,
}

/// x/crypto/ocsp `CreateRequest(cert, issuer, SHA-1)`: one request, no
/// nonce, no signature.
pub(crate) fn create_request(cert: &Cert, issuer: &Cert) -> Result<Vec<u8>, der::Error> {
    let issuer_cert = Certificate::from_der(issuer.der())?;
    let key_bits = issuer_cert
        .tbs_certificate()
        .subject_public_key_info()
        .subject_public_key
        .raw_bytes()
        .to_vec();
    let sha1 = |b: &[u8]| digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, b);
    let request = OcspRequest {
        tbs_request: TbsRequest {
            request_list: vec![SingleRequest {
                req_cert: CertId {
                    hash_algorithm: AlgorithmIdentifierOwned {
                        oid: SHA1,
                        parameters: Some(Any::null()),
                    },
                    issuer_name_hash: OctetString::new(sha1(issuer.raw_subject()).as_ref())?,
                    issuer_key_hash: OctetString::new(sha1(&key_bits).as_ref())?,
                    serial_number: Int::new(cert.serial())?,
                },
            }],
        },
    };
    request.to_der()
}

/// x/crypto/ocsp `ParseResponseForCert(bytes, cert, issuer)`, except that a
/// delegated responder certificate (one that is not the issuer's own) must
/// carry the OCSPSigning extended key usage.
pub(crate) fn parse_response_for_cert(
    bytes: &[u8],
    cert: &Cert,
    issuer: &Cert,
) -> Result<Response, OcspParseError> {
    let outer = decode_all::<OcspResponse<'_>>(bytes)?;
    let status = outer_status(outer.response_status)?;
    if status != 0 {
        return Err(OcspParseError::ResponseStatus {
            status: status_name(status),
        });
    }
    let Some(response_bytes) = outer
        .response_bytes
        .filter(|r| r.response_type == OCSP_BASIC)
    else {
        return Err(OcspParseError::ResponseType);
    };
    let basic = decode_all::<BasicResponse<'_>>(response_bytes.response.as_bytes())?;
    let tbs = basic
        .tbs_response_data
        .to_der()
        .map_err(OcspParseError::Asn1)?;
    let data = basic
        .tbs_response_data
        .decode_as::<ResponseData<'_>>()
        .map_err(OcspParseError::Asn1)?;
    generalized_time(data.produced_at.value()).ok_or(OcspParseError::Time)?;
    if data.responses.is_empty() {
        return Err(OcspParseError::NumberOfResponses);
    }
    let single = data
        .responses
        .iter()
        .find(|r| r.cert_id.serial_number.as_bytes() == cert.serial())
        .ok_or(OcspParseError::NoMatch)?;
    check_responder_id(data.responder_id)?;
    let algorithm = x_crypto_algorithm(&basic.signature_algorithm);
    let signature = basic.signature.raw_bytes();
    check_signer(&tbs, &algorithm, signature, basic.certs.as_deref(), issuer)?;
    read_single(single)
}

fn decode_all<'a, T: Decode<'a, Error = der::Error>>(bytes: &'a [u8]) -> Result<T, OcspParseError> {
    let mut reader = der::SliceReader::new(bytes).map_err(OcspParseError::Asn1)?;
    let value = T::decode(&mut reader).map_err(OcspParseError::Asn1)?;
    if !der::Reader::is_finished(&reader) {
        return Err(OcspParseError::TrailingData);
    }
    Ok(value)
}

fn outer_status(status: AnyRef<'_>) -> Result<i64, OcspParseError> {
    if status.tag() != Tag::Enumerated {
        return Err(OcspParseError::Asn1(
            Tag::Enumerated.value_error().to_error(),
        ));
    }
    small_int(status.value()).ok_or(OcspParseError::Asn1(
        Tag::Enumerated.value_error().to_error(),
    ))
}

fn status_name(status: i64) -> &'static str {
    match status {
        1 => "malformed",
        2 => "internal error",
        3 => "try later",
        5 => "signature required",
        6 => "unauthorized",
        _ => "unknown OCSP status",
    }
}

fn check_responder_id(id: AnyRef<'_>) -> Result<(), OcspParseError> {
    let number = match id.tag() {
        Tag::ContextSpecific { number, .. } => number,
        _ => return Err(OcspParseError::ResponderIdTag),
    };
    if number == TagNumber(1) {
        x509_cert::name::Name::from_der(id.value()).map_err(|_| OcspParseError::ResponderName)?;
    } else if number == TagNumber(2) {
        OctetString::from_der(id.value()).map_err(|_| OcspParseError::ResponderKeyHash)?;
    } else {
        return Err(OcspParseError::ResponderIdTag);
    }
    Ok(())
}

/// x/crypto/ocsp's signature algorithm table knows RSA PKCS#1 v1.5, DSA and
/// ECDSA only: RSA-PSS and Ed25519 signatures are unknown algorithms there.
fn x_crypto_algorithm(alg: &AlgorithmIdentifierOwned) -> SignatureAlgorithm {
    match SignatureAlgorithm::from_identifier(alg) {
        SignatureAlgorithm::RsaPss(_) | SignatureAlgorithm::Ed25519 => {
            SignatureAlgorithm::Unknown(alg.oid.to_string())
        }
        other => other,
    }
}

/// The response is signed by the first embedded certificate, which the
/// issuer signed (x/crypto/ocsp: so an issuer embedding its own certificate
/// passes only when it is self-signed) and which, unless it is the issuer's
/// own, may sign OCSP responses; without embedded certificates, by the
/// issuer.
fn check_signer(
    tbs: &[u8],
    algorithm: &SignatureAlgorithm,
    signature: &[u8],
    certs: Option<&[AnyRef<'_>]>,
    issuer: &Cert,
) -> Result<(), OcspParseError> {
    let Some(first) = certs.and_then(<[_]>::first) else {
        return check_signature(algorithm, tbs, signature, issuer.public_key(), true)
            .map_err(OcspParseError::Signature);
    };
    let der = first.to_der().map_err(OcspParseError::Asn1)?;
    let responder = Cert::from_der(&der).map_err(OcspParseError::EmbeddedCertificate)?;
    check_signature(algorithm, tbs, signature, responder.public_key(), true)
        .map_err(OcspParseError::EmbeddedSignature)?;
    check_signature(
        responder.signature_algorithm(),
        responder.raw_tbs(),
        responder.signature(),
        issuer.public_key(),
        true,
    )
    .map_err(OcspParseError::Signature)?;
    if responder != *issuer && !responder.extended_key_usage().contains(&Eku::OcspSigning) {
        return Err(OcspParseError::NotOcspSigner {
            subject: responder.subject().to_string(),
        });
    }
    Ok(())
}

fn read_single(single: &SingleResponse<'_>) -> Result<Response, OcspParseError> {
    let extensions: Vec<RawExtension> = single
        .single_extensions
        .iter()
        .flatten()
        .map(|e| RawExtension {
            oid: e.extn_id,
            critical: e.critical,
            value: e.extn_value.as_bytes().to_vec(),
        })
        .collect();
    if extensions.iter().any(|e| e.critical) {
        return Err(OcspParseError::CriticalExtension);
    }
    let hash = single.cert_id.hash_algorithm.oid;
    if ![SHA1, SHA256, SHA384, SHA512].contains(&hash) {
        return Err(OcspParseError::IssuerHash);
    }
    let time = |any: AnyRef<'_>| {
        (any.tag() == Tag::GeneralizedTime)
            .then(|| generalized_time(any.value()))
            .flatten()
            .ok_or(OcspParseError::Time)
    };
    time(single.this_update)?;
    let next_update = single.next_update.map(time).transpose()?;
    Ok(Response {
        status: cert_status(single.cert_status, &time)?,
        next_update,
        extensions,
    })
}

fn cert_status(
    status: AnyRef<'_>,
    time: &dyn Fn(AnyRef<'_>) -> Result<OffsetDateTime, OcspParseError>,
) -> Result<CertStatus, OcspParseError> {
    let Tag::ContextSpecific { number, .. } = status.tag() else {
        return Err(OcspParseError::Asn1(
            status.tag().unexpected_error(None).to_error(),
        ));
    };
    match number.value() {
        0 => Ok(CertStatus::Good),
        2 => Ok(CertStatus::Unknown),
        _ => {
            let sequence = Any::new(Tag::Sequence, status.value())
                .and_then(|a| a.to_der())
                .map_err(OcspParseError::Asn1)?;
            let info = RevokedInfo::from_der(&sequence).map_err(OcspParseError::Asn1)?;
            let reason = match info.revocation_reason {
                Some(r) if r.tag() == Tag::Enumerated => small_int(r.value()).unwrap_or(0),
                _ => 0,
            };
            Ok(CertStatus::Revoked {
                at: time(info.revocation_time)?,
                reason,
            })
        }
    }
}

#[cfg(test)]
mod tests;
