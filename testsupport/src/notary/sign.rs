//! Signing a target descriptor into a JWS or COSE envelope as notation
//! (notation-go `signer.GenericSigner` + notation-core-go) does, with knobs
//! for every way a verifier must reject an envelope.

use std::fmt;
use std::sync::Arc;

use pullgate_registry::Descriptor;
use serde_json::Value;
use time::OffsetDateTime;

use super::cbor::Cbor;
use super::cert::TestCert;
use super::keys::Algorithm;
use super::{cose, gojson, jws};

/// `cty` / COSE label 3 of every notation envelope.
pub const PAYLOAD_CONTENT_TYPE: &str = "application/vnd.cncf.notary.payload.v1+json";
pub const MEDIA_TYPE_JWS: &str = "application/jose+json";
pub const MEDIA_TYPE_COSE: &str = "application/cose";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvelopeFormat {
    Jws,
    Cose,
}

impl EnvelopeFormat {
    /// The media type of the envelope blob (and of the signature layer).
    pub fn media_type(self) -> &'static str {
        match self {
            EnvelopeFormat::Jws => MEDIA_TYPE_JWS,
            EnvelopeFormat::Cose => MEDIA_TYPE_COSE,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningScheme {
    /// `notary.x509`: `io.cncf.notary.signingTime`.
    X509,
    /// `notary.x509.signingAuthority`: `io.cncf.notary.authenticSigningTime`
    /// (critical).
    SigningAuthority,
}

impl SigningScheme {
    pub fn as_str(self) -> &'static str {
        match self {
            SigningScheme::X509 => "notary.x509",
            SigningScheme::SigningAuthority => "notary.x509.signingAuthority",
        }
    }

    /// The protected header holding the signing time under this scheme.
    pub fn time_header(self) -> &'static str {
        match self {
            SigningScheme::X509 => "io.cncf.notary.signingTime",
            SigningScheme::SigningAuthority => "io.cncf.notary.authenticSigningTime",
        }
    }
}

/// Damage done after signing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Corruption {
    #[default]
    None,
    /// The last signature byte is flipped (the signature no longer verifies).
    Signature,
    /// The envelope carries a different payload (the target's `size` + 1)
    /// than the one signed.
    Payload,
}

/// A COSE header label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoseLabel {
    Int(i64),
    Text(String),
}

impl CoseLabel {
    pub(super) fn to_cbor(&self) -> Cbor {
        match self {
            CoseLabel::Int(i) => Cbor::Int(*i),
            CoseLabel::Text(t) => Cbor::text(t),
        }
    }

    /// The label of a header named as in JWS: `alg`, `crit`, `cty` are the
    /// COSE integer labels 1, 2, 3; any other name is a text label.
    pub fn from_name(name: &str) -> CoseLabel {
        match name {
            "alg" => CoseLabel::Int(1),
            "crit" => CoseLabel::Int(2),
            "cty" => CoseLabel::Int(3),
            other => CoseLabel::Text(other.to_string()),
        }
    }
}

/// Makes an RFC 3161 token over the primitive signature bytes (what a TSA
/// would stamp), as notation's `Timestamper` does.
#[derive(Clone)]
pub struct Timestamper(pub Arc<TimestampFn>);

/// The function behind a [`Timestamper`]: signature bytes in, token out.
pub type TimestampFn = dyn Fn(&[u8]) -> Vec<u8> + Send + Sync;

impl Timestamper {
    pub fn new(f: impl Fn(&[u8]) -> Vec<u8> + Send + Sync + 'static) -> Timestamper {
        Timestamper(Arc::new(f))
    }
}

impl fmt::Debug for Timestamper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Timestamper(..)")
    }
}

/// How to sign. [`SignOptions::default`] is what `notation sign` does
/// (JWS, notary.x509, now, no expiry); the other fields bend the envelope.
#[derive(Debug, Clone)]
pub struct SignOptions {
    pub format: EnvelopeFormat,
    pub scheme: SigningScheme,
    /// Truncated to whole seconds, as notation-core-go does.
    pub signing_time: OffsetDateTime,
    /// `io.cncf.notary.expiry` (critical); truncated to seconds.
    pub expiry: Option<OffsetDateTime>,
    /// `io.cncf.notary.signingAgent`; `None` or empty: absent.
    pub signing_agent: Option<String>,
    /// JWS protected headers added after the standard ones; a name that is
    /// already there replaces its value.
    pub extra_protected: Vec<(String, Value)>,
    /// COSE protected headers, same rule (e.g. `signingTime` as tag 0 text).
    pub extra_protected_cose: Vec<(CoseLabel, Cbor)>,
    /// Names appended to `crit` (JWS: right after `signingScheme`, before
    /// `authenticSigningTime`/`expiry`; COSE: after them — notation's order).
    pub extra_critical: Vec<String>,
    /// Replaces `crit` entirely (empty: no `crit` header).
    pub crit_override: Option<Vec<String>>,
    /// Protected headers to drop, by JWS name (`alg`, `cty`, `crit` mean
    /// COSE labels 1, 3, 2 in COSE).
    pub remove_protected: Vec<String>,
    /// JWS unprotected (`header`) entries, added or replacing.
    pub extra_unprotected: Vec<(String, Value)>,
    /// COSE unprotected entries, added or replacing (e.g. x5chain shapes).
    pub extra_unprotected_cose: Vec<(CoseLabel, Cbor)>,
    /// The `alg` to claim; the signature is made with it when the leaf key
    /// can (see [`super::TestKey::sign`]), else with the key's own algorithm.
    pub algorithm_override: Option<Algorithm>,
    /// Payload bytes to sign instead of `{"targetArtifact": …}`.
    pub payload_override: Option<Vec<u8>>,
    /// `io.cncf.notary.timestampSignature`, placed as given (any scheme).
    pub timestamp_token: Option<Vec<u8>>,
    /// Called with the envelope's signature bytes when `timestamp_token` is
    /// `None`; its token is placed the same way.
    pub timestamper: Option<Timestamper>,
    pub corrupt: Corruption,
}

impl Default for SignOptions {
    fn default() -> SignOptions {
        SignOptions {
            format: EnvelopeFormat::Jws,
            scheme: SigningScheme::X509,
            signing_time: OffsetDateTime::now_utc(),
            expiry: None,
            signing_agent: Some("pullgate-testsupport/notary".to_string()),
            extra_protected: Vec::new(),
            extra_protected_cose: Vec::new(),
            extra_critical: Vec::new(),
            crit_override: None,
            remove_protected: Vec::new(),
            extra_unprotected: Vec::new(),
            extra_unprotected_cose: Vec::new(),
            algorithm_override: None,
            payload_override: None,
            timestamp_token: None,
            timestamper: None,
            corrupt: Corruption::None,
        }
    }
}

impl SignOptions {
    /// Default options in `format`.
    pub fn new(format: EnvelopeFormat) -> SignOptions {
        SignOptions {
            format,
            ..SignOptions::default()
        }
    }
}

/// A signed envelope and what a registry push and a test need to know of it.
#[derive(Debug, Clone)]
pub struct SignedEnvelope {
    /// The envelope blob.
    pub bytes: Vec<u8>,
    /// `application/jose+json` or `application/cose`.
    pub media_type: &'static str,
    /// The primitive signature as stored (after any corruption).
    pub raw_signature: Vec<u8>,
    /// The payload as stored in the envelope.
    pub payload: Vec<u8>,
    /// The signing time as written (truncated to seconds).
    pub signing_time: OffsetDateTime,
    /// The certificate chain as written, DER, leaf first.
    pub chain: Vec<Vec<u8>>,
    /// The `alg` claimed in the protected header.
    pub algorithm: Algorithm,
}

impl SignedEnvelope {
    /// Lowercase SHA-256 hex of each chain certificate, leaf first.
    pub fn thumbprints(&self) -> Vec<String> {
        use sha2::{Digest as _, Sha256};
        self.chain
            .iter()
            .map(|c| hex::encode(Sha256::digest(c)))
            .collect()
    }
}

/// What both envelope builders start from.
pub(super) struct Prepared<'a> {
    pub payload: Vec<u8>,
    /// The payload stored in the envelope (differs under `Corruption::Payload`).
    pub stored_payload: Vec<u8>,
    pub chain: Vec<Vec<u8>>,
    pub alg: Algorithm,
    pub signing_time: OffsetDateTime,
    pub expiry: Option<OffsetDateTime>,
    pub leaf: &'a TestCert,
    pub opts: &'a SignOptions,
}

impl Prepared<'_> {
    /// Applies `Corruption::Signature` and the timestamp options to a fresh
    /// signature: (stored signature, timestamp token).
    pub fn finish_signature(&self, mut signature: Vec<u8>) -> (Vec<u8>, Option<Vec<u8>>) {
        if self.opts.corrupt == Corruption::Signature
            && let Some(last) = signature.last_mut()
        {
            *last ^= 0x01;
        }
        let token = self
            .opts
            .timestamp_token
            .clone()
            .or_else(|| self.opts.timestamper.as_ref().map(|t| (t.0)(&signature)));
        (signature, token)
    }

    pub fn envelope(&self, bytes: Vec<u8>, raw_signature: Vec<u8>) -> SignedEnvelope {
        SignedEnvelope {
            bytes,
            media_type: self.opts.format.media_type(),
            raw_signature,
            payload: self.stored_payload.clone(),
            signing_time: self.signing_time,
            chain: self.chain.clone(),
            algorithm: self.alg,
        }
    }
}

/// Signs `target` with the leaf of `chain` (leaf first, root last; written
/// to `x5c` / `x5chain` in that order).
///
/// # Panics
/// When `chain` is empty.
pub fn sign(target: &Descriptor, chain: &[&TestCert], opts: &SignOptions) -> SignedEnvelope {
    let leaf = *chain
        .first()
        .expect("sign needs at least the leaf certificate");
    let payload = opts
        .payload_override
        .clone()
        .unwrap_or_else(|| payload_json(target, opts.format));
    let stored_payload = match opts.corrupt {
        Corruption::Payload => tampered_payload(target, opts),
        _ => payload.clone(),
    };
    let prepared = Prepared {
        payload,
        stored_payload,
        chain: chain.iter().map(|c| c.der.clone()).collect(),
        alg: opts
            .algorithm_override
            .unwrap_or_else(|| leaf.key.kind().default_algorithm()),
        signing_time: whole_seconds(opts.signing_time),
        expiry: opts.expiry.map(whole_seconds),
        leaf,
        opts,
    };
    match opts.format {
        EnvelopeFormat::Jws => jws::build(&prepared),
        EnvelopeFormat::Cose => cose::build(&prepared),
    }
}

/// `{"targetArtifact": <descriptor>}` as notation writes it: mediaType,
/// digest, size and (non-empty) annotations only. COSE carries notation-go's
/// struct-order JSON; JWS carries the payload after golang-jwt re-marshals it
/// as a map, so its keys are sorted.
pub fn payload_json(target: &Descriptor, format: EnvelopeFormat) -> Vec<u8> {
    let mut fields = vec![
        ("mediaType", gojson::string(&target.media_type)),
        ("digest", gojson::string(&target.digest.to_string())),
        ("size", target.size.to_string()),
    ];
    if !target.annotations.is_empty() {
        fields.push(("annotations", gojson::string_map(&target.annotations)));
    }
    if format == EnvelopeFormat::Jws {
        fields.sort_by(|a, b| a.0.cmp(b.0));
    }
    let descriptor = gojson::object(&fields);
    gojson::object(&[("targetArtifact", descriptor)]).into_bytes()
}

fn tampered_payload(target: &Descriptor, opts: &SignOptions) -> Vec<u8> {
    match &opts.payload_override {
        Some(p) => [p.as_slice(), b" "].concat(),
        None => {
            let mut other = target.clone();
            other.size += 1;
            payload_json(&other, opts.format)
        }
    }
}

fn whole_seconds(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).unwrap()
}
