//! What a Notary Project signature envelope says once its integrity is
//! established: the payload and the signer information, in one shape for
//! JWS and COSE (notation-core-go's `EnvelopeContent`).

use time::OffsetDateTime;

use super::algorithm::Algorithm;
use crate::x509::Cert;

/// The longest signing certificate chain an envelope may carry.
pub const MAX_CHAIN_CERTIFICATES: usize = 16;

pub const MEDIA_TYPE_JWS: &str = "application/jose+json";
pub const MEDIA_TYPE_COSE: &str = "application/cose";
pub const PAYLOAD_CONTENT_TYPE: &str = "application/vnd.cncf.notary.payload.v1+json";

pub const SCHEME_X509: &str = "notary.x509";
pub const SCHEME_SIGNING_AUTHORITY: &str = "notary.x509.signingAuthority";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningScheme {
    X509,
    SigningAuthority,
}

impl SigningScheme {
    pub fn parse(s: &str) -> Option<SigningScheme> {
        match s {
            SCHEME_X509 => Some(SigningScheme::X509),
            SCHEME_SIGNING_AUTHORITY => Some(SigningScheme::SigningAuthority),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SigningScheme::X509 => SCHEME_X509,
            SigningScheme::SigningAuthority => SCHEME_SIGNING_AUTHORITY,
        }
    }
}

/// A signed attribute notation does not know, kept to find plugin headers.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtendedAttribute {
    pub key: String,
    pub critical: bool,
    /// The value when it is a string (plugin names and versions are).
    pub text: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SignerInfo {
    pub algorithm: Algorithm,
    pub scheme: SigningScheme,
    /// `signingTime` (notary.x509) or `authenticSigningTime` (signingAuthority).
    pub signing_time: OffsetDateTime,
    pub expiry: Option<OffsetDateTime>,
    pub extended: Vec<ExtendedAttribute>,
    /// Leaf first, root last.
    pub chain: Vec<Cert>,
    /// The primitive signature (what a timestamp countersigns).
    pub signature: Vec<u8>,
    pub signing_agent: Option<String>,
    pub timestamp_token: Option<Vec<u8>>,
}

#[derive(Debug, Clone)]
pub struct EnvelopeContent {
    pub payload: Vec<u8>,
    pub content_type: String,
    pub signer: SignerInfo,
}

/// Why an envelope failed integrity, each with notation's wording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntegrityError {
    /// The envelope could not be parsed at all.
    #[error("unable to parse the digital signature, error : {0}")]
    Parse(String),
    /// The cryptographic signature check failed.
    #[error("signature is invalid. Error: {0}")]
    Signature(String),
    /// A rule on the envelope's content was broken.
    #[error("{0}")]
    Invalid(String),
}

/// notation-core-go `base.validateEnvelopeContent` and notation-go
/// `ValidatePayloadContentType`, shared by both envelope formats.
pub(crate) fn validate_content(content: &EnvelopeContent) -> Result<(), IntegrityError> {
    let invalid = |m: String| Err(IntegrityError::Invalid(m));
    if content.payload.is_empty() {
        return invalid("content not present".into());
    }
    let s = &content.signer;
    if s.signature.is_empty() {
        return invalid("signature not present or is empty".into());
    }
    if let Some(expiry) = s.expiry
        && expiry <= s.signing_time
    {
        return invalid("expiry cannot be equal or before the signing time".into());
    }
    if s.chain.is_empty() {
        return invalid("certificate-chain not present or is empty".into());
    }
    // Each certificate costs signature checks; notation-go sets no limit,
    // real chains have two to five (docs/notary-parity.md).
    if s.chain.len() > MAX_CHAIN_CERTIFICATES {
        return invalid(format!(
            "certificate-chain is invalid, it has {} certificates, more than the {MAX_CHAIN_CERTIFICATES} pullgate accepts",
            s.chain.len()
        ));
    }
    crate::x509::validate_code_signing_chain(&s.chain)
        .or_else(|e| invalid(format!("certificate-chain is invalid, {e}")))?;
    let derived = super::algorithm::key_spec(&s.chain[0]).map_err(IntegrityError::Invalid)?;
    if derived != s.algorithm {
        return invalid(format!(
            "mismatch between signature algorithm derived from signing certificate ({}) and signing algorithm specified ({}s)",
            derived.go_number(),
            s.algorithm.go_number()
        ));
    }
    if content.content_type != PAYLOAD_CONTENT_TYPE {
        return invalid(format!(
            "payload content type {} not supported",
            pullgate_policy::dn::go_quote(&content.content_type)
        ));
    }
    Ok(())
}

/// Verifies and opens an envelope of `media_type` (notation's integrity step).
pub fn open(media_type: &str, bytes: &[u8]) -> Result<EnvelopeContent, IntegrityError> {
    let content = match media_type {
        MEDIA_TYPE_JWS => super::jws::open(bytes)?,
        MEDIA_TYPE_COSE => super::cose::open(bytes)?,
        other => {
            return Err(IntegrityError::Parse(format!(
                "signature envelope format with media type {} is not supported",
                pullgate_policy::dn::go_quote(other)
            )));
        }
    };
    validate_content(&content)?;
    Ok(content)
}
