//! The revocation checker's errors, shaped by stage: setup, HTTP, CRL
//! parsing, CRL checks and OCSP. Where notation-core-go has a text, the
//! Display is that text (these end up in logs; the verdict's message is
//! notation-go's "revocation status is unknown" either way).

use std::path::PathBuf;
use std::time::Duration;

use const_oid::ObjectIdentifier;
use num_bigint::BigInt;
use time::OffsetDateTime;

use crate::x509::{CertError, SignatureError};

/// Why a [`Checker`](super::Checker) could not be built.
#[derive(Debug, thiserror::Error)]
pub enum RevocationSetupError {
    #[error("revocation timeout must be more than 0 and at most {max:?}, got {timeout:?}")]
    Timeout { timeout: Duration, max: Duration },
    #[error("url_rewrite {from:?} -> {to:?}: both must be http:// URL prefixes")]
    Rewrite { from: String, to: String },
    #[error("crl_dir {}: {source}", path.display())]
    CrlDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("crl_dir {}: more than {max} entries", path.display())]
    TooManyEntries { path: PathBuf, max: usize },
    #[error("crl_dir file {}: larger than {max} bytes", path.display())]
    FileTooLarge { path: PathBuf, max: u64 },
    #[error("crl_dir {}: the files together are larger than {max} bytes", path.display())]
    DirTooLarge { path: PathBuf, max: u64 },
    #[error("crl_dir file {}: {source}", path.display())]
    Crl {
        path: PathBuf,
        #[source]
        source: CrlParseError,
    },
    #[error("CRL cache directory {}: {source}", path.display())]
    CacheDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("revocation HTTP client: {source}")]
    Client {
        #[source]
        source: reqwest::Error,
    },
}

impl RevocationSetupError {
    /// A short stable label for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            RevocationSetupError::Timeout { .. } => "timeout",
            RevocationSetupError::Rewrite { .. } => "url_rewrite",
            RevocationSetupError::CrlDir { .. } => "crl_dir_unreadable",
            RevocationSetupError::TooManyEntries { .. } => "crl_dir_too_many_entries",
            RevocationSetupError::FileTooLarge { .. } => "crl_file_too_large",
            RevocationSetupError::DirTooLarge { .. } => "crl_dir_too_large",
            RevocationSetupError::Crl { .. } => "crl_file_invalid",
            RevocationSetupError::CacheDir { .. } => "cache_dir",
            RevocationSetupError::Client { .. } => "http_client",
        }
    }
}

/// One HTTP exchange that did not give a body.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("invalid URL {url:?}")]
    BadUrl { url: String },
    #[error("unsupported scheme: {scheme}. Only http:// URLs are used ({url})")]
    Scheme { url: String, scheme: String },
    #[error("request to {url} failed: {source}")]
    Transport {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{url} did not answer within {after:?}")]
    Timeout { url: String, after: Duration },
    #[error("{url} answered with status code {status}")]
    Status { url: String, status: u16 },
    #[error("{url} sent more than the {limit}-byte limit")]
    TooLarge { url: String, limit: u64 },
}

/// Bytes that are not a CRL Go's `x509.ParseRevocationList` would accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrlParseError {
    #[error("x509: malformed crl")]
    Malformed,
    #[error("x509: unsupported crl version")]
    Version,
    #[error("x509: inner and outer signature algorithm identifiers don't match")]
    AlgorithmMismatch,
    #[error("x509: malformed reasonCode extension")]
    ReasonCode,
    #[error("x509: malformed crl number")]
    Number,
    #[error("PEM block {label:?} is not an X509 CRL")]
    PemLabel { label: String },
    #[error("malformed PEM")]
    Pem,
    #[error("holds no CRL")]
    Empty,
}

/// A CRLDistributionPoints / FreshestCRL value Go cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DistributionPointError {
    #[error("x509: invalid CRL distribution points")]
    Points,
    #[error("x509: invalid CRL distribution point")]
    Point,
}

/// notation-core-go's `Fetch` errors ("failed to retrieve CRL: …").
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("failed to retrieve CRL: {0}")]
    Http(#[source] HttpError),
    #[error("failed to retrieve CRL: {0}")]
    Parse(#[source] CrlParseError),
    #[error("failed to retrieve CRL: failed to parse Freshest CRL extension: {0}")]
    Freshest(#[source] DistributionPointError),
}

/// Why one CRL does not answer for an issuer (notation-core-go `validateCRL`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CrlProblem {
    #[error("CRL issuer does not match the subject of CA {subject}")]
    Issuer { subject: String },
    #[error("CRL is not signed by CA {subject}: {source},")]
    Signature {
        subject: String,
        #[source]
        source: SignatureError,
    },
    #[error("CRL NextUpdate is not set")]
    NoNextUpdate,
    #[error("expired CRL. Current time {now} is after CRL NextUpdate {next_update}")]
    Expired {
        now: OffsetDateTime,
        next_update: OffsetDateTime,
    },
    #[error("CRL is not yet valid. Current time {now} is before CRL ThisUpdate {this_update}")]
    NotYetValid {
        now: OffsetDateTime,
        this_update: OffsetDateTime,
    },
    #[error("unsupported critical extension found in CRL: {oid}")]
    CriticalExtension { oid: ObjectIdentifier },
}

/// notation-core-go `validate` (a base CRL and its delta).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    #[error("failed to validate base CRL: {0}")]
    Base(#[source] CrlProblem),
    #[error("failed to validate delta CRL: {0}")]
    Delta(#[source] CrlProblem),
    #[error("{which} CRL has no CRL number")]
    NoNumber { which: &'static str },
    #[error("delta CRL number {delta} is not greater than the base CRL number {base}")]
    DeltaNumber { delta: BigInt, base: BigInt },
    #[error("delta CRL indicator extension is not found")]
    NoDeltaIndicator,
    #[error("failed to parse delta CRL indicator extension")]
    BadDeltaIndicator,
    #[error(
        "delta CRL indicator {indicator} is not less than or equal to the base CRL number {base}"
    )]
    DeltaIndicator { indicator: BigInt, base: BigInt },
}

/// A CRL entry for the certificate that cannot be read
/// (notation-core-go `parseEntryExtensions`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("failed to parse invalidity date")]
    InvalidityDate,
    #[error("invalid invalidity date extension: trailing data")]
    InvalidityTrailing,
    #[error("unsupported critical extension found in CRL: {oid}")]
    CriticalExtension { oid: ObjectIdentifier },
}

/// Why CRLs gave no status for a certificate (notation-core-go
/// `crl.CertCheckStatus`, plus pullgate's sources).
#[derive(Debug, thiserror::Error)]
pub enum CrlError {
    #[error("failed to download CRL from {url}: {source}")]
    Download {
        url: String,
        #[source]
        source: FetchError,
    },
    #[error("freshest CRL from certificate extension is not supported")]
    FreshestOnlyInCertificate,
    #[error("failed to validate CRL from {url}: {source}")]
    Validate {
        url: String,
        #[source]
        source: ValidationError,
    },
    #[error("failed to check revocation status from {url}: {source}")]
    Entry {
        url: String,
        #[source]
        source: EntryError,
    },
    #[error("the certificate has {count} CRL distribution points; at most {max} are checked")]
    TooManyUrls { count: usize, max: usize },
    #[error("no current CRL of {issuer} in crl_dir")]
    NotInCrlDir { issuer: String },
}

impl CrlError {
    /// A short stable label for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            CrlError::Download { .. } => "crl_download",
            CrlError::FreshestOnlyInCertificate => "crl_freshest_in_certificate",
            CrlError::Validate { .. } => "crl_invalid",
            CrlError::Entry { .. } => "crl_entry_invalid",
            CrlError::TooManyUrls { .. } => "crl_too_many_urls",
            CrlError::NotInCrlDir { .. } => "crl_not_in_crl_dir",
        }
    }
}

/// An OCSP response that x/crypto/ocsp's `ParseResponseForCert` rejects
/// (texts are x/crypto's), or whose signer pullgate does not accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OcspParseError {
    #[error("asn1: malformed OCSP response: {0}")]
    Asn1(#[source] der::Error),
    #[error("trailing data in OCSP response")]
    TrailingData,
    #[error("ocsp: error from server: {status}")]
    ResponseStatus { status: &'static str },
    #[error("bad OCSP response type")]
    ResponseType,
    #[error("OCSP response contains bad number of responses")]
    NumberOfResponses,
    #[error("no response matching the supplied certificate")]
    NoMatch,
    #[error("invalid responder name")]
    ResponderName,
    #[error("invalid responder key hash")]
    ResponderKeyHash,
    #[error("invalid responder id tag")]
    ResponderIdTag,
    #[error("{0}")]
    EmbeddedCertificate(#[source] CertError),
    #[error("bad signature on embedded certificate: {0}")]
    EmbeddedSignature(#[source] SignatureError),
    #[error("bad OCSP signature: {0}")]
    Signature(#[source] SignatureError),
    #[error(
        "OCSP responder certificate {subject} is not authorized for OCSP signing (no OCSPSigning extended key usage)"
    )]
    NotOcspSigner { subject: String },
    #[error("unsupported critical extension")]
    CriticalExtension,
    #[error("unsupported issuer hash algorithm")]
    IssuerHash,
    #[error("invalid time in OCSP response")]
    Time,
}

/// One OCSP server's answer that is not good (notation-core-go's
/// `internal/ocsp` errors).
#[derive(Debug, thiserror::Error)]
pub enum OcspError {
    #[error("error checking revocation status via OCSP: {0}")]
    Request(#[source] der::Error),
    #[error("error checking revocation status via OCSP: {0}")]
    Http(#[source] HttpError),
    #[error("exceeded timeout threshold of {:.2} seconds for OCSP check", after.as_secs_f64())]
    Timeout { after: Duration },
    #[error("{0}")]
    Parse(#[source] OcspParseError),
    #[error("error checking revocation status via OCSP: expired OCSP response")]
    Expired,
    #[error("certificate is revoked via OCSP")]
    Revoked,
    #[error("certificate has unknown status via OCSP")]
    UnknownStatus,
}

impl OcspError {
    /// A short stable label for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            OcspError::Request(_) => "ocsp_request",
            OcspError::Http(_) => "ocsp_http",
            OcspError::Timeout { .. } => "ocsp_timeout",
            OcspError::Parse(_) => "ocsp_invalid_response",
            OcspError::Expired => "ocsp_expired",
            OcspError::Revoked => "ocsp_revoked",
            OcspError::UnknownStatus => "ocsp_unknown_status",
        }
    }
}
