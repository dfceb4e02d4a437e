//! JWS (JSON serialization) envelopes, verified in the order notation-core-go
//! does it: the leaf certificate, then golang-jwt's parse and signature check,
//! then the protected header rules.

use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::algorithm::{self, Algorithm, PssSalt};
use super::envelope::{
    EnvelopeContent, ExtendedAttribute, IntegrityError, SignerInfo, SigningScheme,
};
use super::gocompat::{Alphabet, base64_decode, parse_rfc3339};
use super::gojson;
use crate::x509::{Cert, PublicKey};

const ALG: &str = "alg";
const CTY: &str = "cty";
const CRIT: &str = "crit";
const EXPIRY: &str = "io.cncf.notary.expiry";
const SIGNING_TIME: &str = "io.cncf.notary.signingTime";
const SCHEME: &str = "io.cncf.notary.signingScheme";
const AUTHENTIC_SIGNING_TIME: &str = "io.cncf.notary.authenticSigningTime";
const KNOWN: [&str; 7] = [
    ALG,
    CTY,
    CRIT,
    EXPIRY,
    SIGNING_TIME,
    SCHEME,
    AUTHENTIC_SIGNING_TIME,
];

/// The top-level JWS JSON, with Go's struct decoding.
struct Raw {
    payload: String,
    protected: String,
    signature: String,
    x5c: Vec<Vec<u8>>,
    timestamp: Option<Vec<u8>>,
    signing_agent: Option<String>,
}

fn parse_raw(bytes: &[u8]) -> Result<Raw, String> {
    let top = gojson::top_object(bytes)?;
    let header = gojson::object(&top, "header")?;
    let empty = Map::new();
    let header = header.unwrap_or(&empty);
    let decode_std = |s: &str| base64_decode(Alphabet::Std, s).map_err(|e| e.to_string());
    let x5c = gojson::string_list(header, "x5c")?
        .unwrap_or_default()
        .iter()
        .map(|c| decode_std(c))
        .collect::<Result<Vec<_>, _>>()?;
    let timestamp = gojson::string(header, "io.cncf.notary.timestampSignature")?
        .map(|t| decode_std(&t))
        .transpose()?
        .filter(|t| !t.is_empty());
    Ok(Raw {
        payload: gojson::string(&top, "payload")?.unwrap_or_default(),
        protected: gojson::string(&top, "protected")?.unwrap_or_default(),
        signature: gojson::string(&top, "signature")?.unwrap_or_default(),
        x5c,
        timestamp,
        signing_agent: gojson::string(header, "io.cncf.notary.signingAgent")?
            .filter(|s| !s.is_empty()),
    })
}

/// Parses and verifies a JWS envelope.
pub fn open(bytes: &[u8]) -> Result<EnvelopeContent, IntegrityError> {
    let raw = parse_raw(bytes).map_err(IntegrityError::Parse)?;
    let invalid = |m: &str| IntegrityError::Invalid(m.to_string());
    let leaf_der = raw
        .x5c
        .first()
        .ok_or_else(|| invalid("certificate chain is not present"))?;
    let leaf = Cert::from_der(leaf_der).map_err(|_| invalid("malformed leaf certificate"))?;
    verify_jwt(&raw, leaf.public_key()).map_err(IntegrityError::Signature)?;
    content(&raw)
}

/// golang-jwt v4 `Parser.Parse` with notation's options: the checks and
/// messages in its order.
fn verify_jwt(raw: &Raw, key: &PublicKey) -> Result<(), String> {
    let header_bytes =
        base64_decode(Alphabet::RawUrl, &raw.protected).map_err(|e| e.to_string())?;
    let header: Value = serde_json::from_slice(&header_bytes).map_err(|e| e.to_string())?;
    let claims = base64_decode(Alphabet::RawUrl, &raw.payload).map_err(|e| e.to_string())?;
    let mut stream = serde_json::Deserializer::from_slice(&claims).into_iter::<Value>();
    match stream.next() {
        Some(Ok(Value::Object(_) | Value::Null)) => {}
        Some(Ok(_)) => {
            return Err(
                "json: cannot unmarshal non-object into Go value of type jwt.MapClaims".into(),
            );
        }
        Some(Err(e)) => return Err(e.to_string()),
        None => return Err("EOF".into()),
    }
    let alg_name = match header.get(ALG) {
        Some(Value::String(a)) => a.clone(),
        _ => return Err("signing method (alg) is unspecified.".into()),
    };
    let known = [
        "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "EdDSA", "none",
    ];
    let alg = match Algorithm::from_jws(&alg_name) {
        Some(a) => a,
        None if known.contains(&alg_name.as_str()) => {
            return Err(format!("signing method {alg_name} is invalid"));
        }
        None => return Err("signing method (alg) is unavailable.".into()),
    };
    let key_ok = match alg {
        Algorithm::Ps256 | Algorithm::Ps384 | Algorithm::Ps512 => {
            matches!(key, PublicKey::Rsa { .. })
        }
        _ => matches!(key, PublicKey::Ec { .. }),
    };
    if !key_ok {
        return Err("key is of invalid type".into());
    }
    let signature = base64_decode(Alphabet::RawUrl, &raw.signature).map_err(|e| e.to_string())?;
    let signing_input = format!("{}.{}", raw.protected, raw.payload);
    if algorithm::verify(
        alg,
        key,
        signing_input.as_bytes(),
        &signature,
        PssSalt::Auto,
    ) {
        Ok(())
    } else if matches!(key, PublicKey::Rsa { .. }) {
        Err("crypto/rsa: verification error".into())
    } else {
        Err("crypto/ecdsa: verification error".into())
    }
}

/// notation-core-go `envelope.Content()` for JWS.
fn content(raw: &Raw) -> Result<EnvelopeContent, IntegrityError> {
    let invalid = |m: String| IntegrityError::Invalid(m);
    let protected = parse_protected(&raw.protected).map_err(invalid)?;
    let payload = base64_decode(Alphabet::RawUrl, &raw.payload)
        .map_err(|e| invalid(format!("payload error: {e}")))?;
    let signer = signer_info(&protected, raw)?;
    Ok(EnvelopeContent {
        payload,
        content_type: protected.cty.clone(),
        signer,
    })
}

struct Protected {
    alg: String,
    cty: String,
    crit: Vec<String>,
    expiry: Option<OffsetDateTime>,
    scheme: String,
    signing_time: Option<OffsetDateTime>,
    authentic_signing_time: Option<OffsetDateTime>,
    extended: Map<String, Value>,
}

fn parse_protected(encoded: &str) -> Result<Protected, String> {
    let fail = |e: String| format!("jws envelope protected header can't be decoded: {e}");
    let bytes = base64_decode(Alphabet::RawUrl, encoded).map_err(|e| fail(e.to_string()))?;
    let obj = gojson::top_object(&bytes).map_err(fail)?;
    let time_field = |name: &str| -> Result<Option<OffsetDateTime>, String> {
        match gojson::string(&obj, name).map_err(fail)? {
            None => Ok(None),
            Some(s) => parse_rfc3339(&s)
                .map(Some)
                .ok_or_else(|| fail(format!("parsing time {s:?} as RFC 3339 failed"))),
        }
    };
    let mut extended = obj.clone();
    for k in KNOWN {
        extended.remove(k);
    }
    Ok(Protected {
        alg: gojson::string(&obj, ALG).map_err(fail)?.unwrap_or_default(),
        cty: gojson::string(&obj, CTY).map_err(fail)?.unwrap_or_default(),
        crit: gojson::string_list(&obj, CRIT)
            .map_err(fail)?
            .unwrap_or_default(),
        expiry: time_field(EXPIRY)?,
        scheme: gojson::string(&obj, SCHEME)
            .map_err(fail)?
            .unwrap_or_default(),
        signing_time: time_field(SIGNING_TIME)?,
        authentic_signing_time: time_field(AUTHENTIC_SIGNING_TIME)?,
        extended,
    })
}

fn signer_info(p: &Protected, raw: &Raw) -> Result<SignerInfo, IntegrityError> {
    let invalid = |m: String| IntegrityError::Invalid(m);
    let scheme = validate_protected(p).map_err(invalid)?;
    let algorithm = Algorithm::from_jws(&p.alg).ok_or_else(|| {
        invalid(format!(
            "signature algorithm {} is not supported",
            quote(&p.alg)
        ))
    })?;
    let extended = p
        .extended
        .iter()
        .map(|(k, v)| ExtendedAttribute {
            key: k.clone(),
            critical: p.crit.contains(k),
            text: v.as_str().map(str::to_string),
        })
        .collect();
    let signing_time = match scheme {
        SigningScheme::X509 => p.signing_time,
        SigningScheme::SigningAuthority => p.authentic_signing_time,
    }
    .ok_or_else(|| invalid("signing-time not present".into()))?;
    let signature =
        base64_decode(Alphabet::RawUrl, &raw.signature).map_err(|e| invalid(e.to_string()))?;
    if signature.is_empty() {
        return Err(invalid("signature missing in jws-json envelope".into()));
    }
    let chain = raw
        .x5c
        .iter()
        .map(|der| Cert::from_der(der).map_err(|e| invalid(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SignerInfo {
        algorithm,
        scheme,
        signing_time,
        expiry: p.expiry,
        extended,
        chain,
        signature,
        signing_agent: raw.signing_agent.clone(),
        timestamp_token: raw.timestamp.clone(),
    })
}

fn quote(s: &str) -> String {
    pullgate_policy::dn::go_quote(s)
}

/// notation-core-go `validateProtectedHeaders` and `validateCriticalHeaders`.
fn validate_protected(p: &Protected) -> Result<SigningScheme, String> {
    let scheme = match SigningScheme::parse(&p.scheme) {
        Some(SigningScheme::X509) => {
            if p.authentic_signing_time.is_some() {
                return Err(format!(
                    "{} header must not be present for notary.x509 signing scheme",
                    quote(AUTHENTIC_SIGNING_TIME)
                ));
            }
            SigningScheme::X509
        }
        Some(SigningScheme::SigningAuthority) => {
            if p.signing_time.is_some() {
                return Err(format!(
                    "{} header must not be present for notary.x509.signingAuthority signing scheme",
                    quote(SIGNING_TIME)
                ));
            }
            if p.authentic_signing_time.is_none() {
                return Err(format!(
                    "{} header must be present for notary.x509 signing scheme",
                    quote(AUTHENTIC_SIGNING_TIME)
                ));
            }
            SigningScheme::SigningAuthority
        }
        None => return Err(format!("unsupported SigningScheme: `{}`", p.scheme)),
    };
    if p.crit.is_empty() {
        return Err("missing \"crit\" header".into());
    }
    let mut must: Vec<&str> = vec![SCHEME];
    if p.expiry.is_some() {
        must.push(EXPIRY);
    }
    if scheme == SigningScheme::SigningAuthority {
        must.push(AUTHENTIC_SIGNING_TIME);
    }
    for c in &p.crit {
        if let Some(i) = must.iter().position(|m| m == c) {
            must.remove(i);
        } else if !p.extended.contains_key(c) {
            return Err(format!(
                "{} header is marked critical but not present",
                quote(c)
            ));
        }
    }
    if !must.is_empty() {
        return Err(format!(
            "these required headers are not marked as critical: [{}]",
            must.join(" ")
        ));
    }
    Ok(scheme)
}
