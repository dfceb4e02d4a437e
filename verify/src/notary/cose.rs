//! COSE_Sign1 envelopes, verified as notation-core-go and go-cose v1.3 do:
//! the tagged message, header rules, the leaf-derived algorithm, the
//! signature over the Sig_structure, then notation's protected-header rules.

use time::OffsetDateTime;

use super::algorithm::{self, Algorithm, PssSalt};
use super::cbor::{self, Decoder, Value};
use super::envelope::{
    EnvelopeContent, ExtendedAttribute, IntegrityError, SignerInfo, SigningScheme,
};
use crate::x509::Cert;

const LABEL_ALG: i128 = 1;
const LABEL_CRIT: i128 = 2;
const LABEL_CTY: i128 = 3;
const LABEL_X5CHAIN: i128 = 33;
const EXPIRY: &str = "io.cncf.notary.expiry";
const SCHEME: &str = "io.cncf.notary.signingScheme";
const SIGNING_TIME: &str = "io.cncf.notary.signingTime";
const AUTHENTIC_SIGNING_TIME: &str = "io.cncf.notary.authenticSigningTime";
const TIMESTAMP: &str = "io.cncf.notary.timestampSignature";
const SIGNING_AGENT: &str = "io.cncf.notary.signingAgent";

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

struct Message {
    raw_protected: Vec<u8>,
    protected: Value,
    unprotected: Value,
    payload: Option<Vec<u8>>,
    signature: Vec<u8>,
}

/// go-cose `Sign1Message.UnmarshalCBOR`.
fn parse(bytes: &[u8]) -> Result<Message, String> {
    let body = bytes
        .strip_prefix(&[0xd2])
        .ok_or("cbor: invalid COSE_Sign1_Tagged object")?;
    let mut d = Decoder::new(body, false);
    let head = body.first().ok_or("cbor: unexpected EOF")?;
    if *head != 0x84 {
        return Err("cbor: COSE_Sign1 must be an array of 4 items".into());
    }
    let _ = d.item_with_span().map_err(|e| e.to_string())?;
    if d.position() != body.len() {
        return Err(format!(
            "cbor: {} bytes of extraneous data",
            body.len() - d.position()
        ));
    }
    let mut items = Decoder::new(&body[1..], false);
    let (_, protected_bstr) = items.item_with_span().map_err(|e| e.to_string())?;
    let (_, unprotected) = items.item_with_span().map_err(|e| e.to_string())?;
    let (_, payload) = items.item_with_span().map_err(|e| e.to_string())?;
    let (_, signature) = items.item_with_span().map_err(|e| e.to_string())?;
    let raw_protected = match protected_bstr {
        Value::Bytes(b) => b,
        Value::Null => return Err("cbor: nil protected header".into()),
        _ => return Err("cbor: require bstr type".into()),
    };
    let payload = match payload {
        Value::Bytes(b) => Some(b),
        Value::Null => None,
        _ => return Err("cbor: require bstr type".into()),
    };
    let signature = match signature {
        Value::Bytes(b) if !b.is_empty() => b,
        Value::Bytes(_) | Value::Null => return Err("empty signature".into()),
        _ => return Err("cbor: require bstr type".into()),
    };
    let protected = if raw_protected.is_empty() {
        Value::Map(Vec::new())
    } else {
        let v = Decoder::decode_all(&raw_protected, true)
            .map_err(|e| format!("cbor: invalid protected header: {e}"))?;
        check_header(&v, true)
            .map_err(|e| format!("cbor: invalid protected header: protected header: {e}"))?;
        v
    };
    if !matches!(unprotected, Value::Map(_)) {
        return Err(
            "cbor: invalid unprotected header: cbor: unprotected header: require map type".into(),
        );
    }
    check_header(&unprotected, false)
        .map_err(|e| format!("cbor: invalid unprotected header: unprotected header: {e}"))?;
    Ok(Message {
        raw_protected,
        protected,
        unprotected,
        payload,
        signature,
    })
}

/// go-cose `validateHeaderParameters` for the parameters notation can meet.
fn check_header(h: &Value, protected: bool) -> Result<(), String> {
    let Value::Map(entries) = h else {
        return Err("require map type".into());
    };
    for (label, value) in entries {
        match label {
            Value::Int(LABEL_ALG) if !matches!(value, Value::Int(_) | Value::Text(_)) => {
                return Err("header parameter: alg: require int / tstr type".into());
            }
            Value::Int(LABEL_CRIT) => {
                if !protected {
                    return Err("header parameter: crit: not allowed".into());
                }
                let Value::Array(labels) = value else {
                    return Err("header parameter: crit: invalid crit header".into());
                };
                if labels.is_empty() {
                    return Err("header parameter: crit: empty crit header".into());
                }
                for l in labels {
                    if !matches!(l, Value::Int(_) | Value::Text(_)) {
                        return Err("header parameter: crit: require int / tstr type".into());
                    }
                    if h.get(l).is_none() {
                        return Err(format!(
                            "header parameter: crit: missing critical header: {}",
                            show(l)
                        ));
                    }
                }
            }
            Value::Int(LABEL_CTY)
                if !matches!(value, Value::Text(_))
                    && !matches!(value, Value::Int(i) if *i >= 0) =>
            {
                return Err("header parameter: content type: require tstr / uint type".into());
            }
            Value::Int(_) | Value::Text(_) => {}
            _ => return Err("header label: require int / tstr type".into()),
        }
    }
    Ok(())
}

fn show(v: &Value) -> String {
    match v {
        Value::Int(i) => i.to_string(),
        Value::Text(t) => t.clone(),
        other => format!("{other:?}"),
    }
}

/// The Sig_structure go-cose signs: ["Signature1", protected, h'', payload],
/// the protected bytes as received under a shortest-length bstr header.
fn to_be_signed(raw_protected: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw_protected.len() + payload.len() + 32);
    out.push(0x84);
    cbor::encode_text(&mut out, "Signature1");
    cbor::encode_bytes(&mut out, raw_protected);
    cbor::encode_bytes(&mut out, &[]);
    cbor::encode_bytes(&mut out, payload);
    out
}

/// Parses and verifies a COSE envelope.
pub fn open(bytes: &[u8]) -> Result<EnvelopeContent, IntegrityError> {
    let msg = parse(bytes).map_err(IntegrityError::Parse)?;
    let invalid = |m: String| IntegrityError::Invalid(m);
    let chain_items = match msg.unprotected.get(&Value::Int(LABEL_X5CHAIN)) {
        Some(Value::Array(items)) if !items.is_empty() => items,
        _ => return Err(invalid("certificate chain is not present".into())),
    };
    let leaf_der = chain_items[0]
        .as_bytes()
        .ok_or_else(|| invalid("COSE envelope malformed leaf certificate".into()))?;
    let leaf =
        Cert::from_der(leaf_der).map_err(|_| invalid("malformed leaf certificate".into()))?;
    let alg = algorithm::key_spec(&leaf).map_err(invalid)?;
    let payload = msg
        .payload
        .as_ref()
        .ok_or_else(|| IntegrityError::Signature("missing payload".into()))?;
    match msg.protected.get(&Value::Int(LABEL_ALG)) {
        Some(Value::Int(v)) if *v == i128::from(alg.cose_value()) => {}
        Some(Value::Int(v)) => {
            return Err(IntegrityError::Signature(format!(
                "algorithm mismatch: verifier {}: header {}",
                alg.jws_name(),
                cose_alg_name(*v)
            )));
        }
        Some(Value::Text(t)) => return Err(IntegrityError::Signature(format!("Algorithm({t:?})"))),
        Some(_) => return Err(IntegrityError::Signature("invalid algorithm".into())),
        None => return Err(IntegrityError::Signature("algorithm not found".into())),
    }
    let tbs = to_be_signed(&msg.raw_protected, payload);
    if !algorithm::verify(
        alg,
        leaf.public_key(),
        &tbs,
        &msg.signature,
        PssSalt::HashLength,
    ) {
        return Err(IntegrityError::Signature("verification error".into()));
    }
    content(&msg, payload.clone(), chain_items)
}

fn cose_alg_name(v: i128) -> String {
    i64::try_from(v)
        .ok()
        .and_then(Algorithm::from_cose)
        .map(|a| a.jws_name().to_string())
        .unwrap_or_else(|| format!("unknown algorithm value {v}"))
}

fn content(
    msg: &Message,
    payload: Vec<u8>,
    chain_items: &[Value],
) -> Result<EnvelopeContent, IntegrityError> {
    let invalid = |m: String| IntegrityError::Invalid(m);
    let content_type = match msg.protected.get(&Value::Int(LABEL_CTY)) {
        None => return Err(invalid("missing content type".into())),
        Some(Value::Text(t)) => t.clone(),
        Some(_) => return Err(invalid("content type should be of 'tstr' type".into())),
    };
    let (scheme, algorithm, signing_time, expiry, extended) =
        protected_attributes(&msg.protected).map_err(invalid)?;
    let mut chain = Vec::with_capacity(chain_items.len());
    for item in chain_items {
        let der = item
            .as_bytes()
            .ok_or_else(|| invalid("certificate chain is not present".into()))?;
        chain.push(Cert::from_der(der).map_err(|e| invalid(e.to_string()))?);
    }
    let signing_agent = msg
        .unprotected
        .get(&text(SIGNING_AGENT))
        .and_then(Value::as_text)
        .map(str::to_string);
    let timestamp_token = msg
        .unprotected
        .get(&text(TIMESTAMP))
        .and_then(Value::as_bytes)
        .map(<[u8]>::to_vec)
        .filter(|t| !t.is_empty());
    Ok(EnvelopeContent {
        payload,
        content_type,
        signer: SignerInfo {
            algorithm,
            scheme,
            signing_time,
            expiry,
            extended,
            chain,
            signature: msg.signature.clone(),
            signing_agent,
            timestamp_token,
        },
    })
}

type Attributes = (
    SigningScheme,
    Algorithm,
    OffsetDateTime,
    Option<OffsetDateTime>,
    Vec<ExtendedAttribute>,
);

/// notation-core-go `parseProtectedHeaders` with `validateCritHeaders`.
fn protected_attributes(p: &Value) -> Result<Attributes, String> {
    let crit: Vec<Value> = match p.get(&Value::Int(LABEL_CRIT)) {
        Some(Value::Array(l)) => l.clone(),
        _ => Vec::new(),
    };
    let scheme_text = p
        .get(&text(SCHEME))
        .and_then(Value::as_text)
        .ok_or("invalid signingScheme")?
        .to_string();
    let mut must = vec![text(SCHEME)];
    if scheme_text == SigningScheme::SigningAuthority.as_str() {
        must.push(text(AUTHENTIC_SIGNING_TIME));
    }
    if p.get(&text(EXPIRY)).is_some() {
        must.push(text(EXPIRY));
    }
    must.retain(|m| !crit.contains(m));
    if !must.is_empty() {
        let names: Vec<String> = must.iter().map(show).collect();
        return Err(format!(
            "these required headers are not marked as critical: [{}]",
            names.join(" ")
        ));
    }
    let alg_value = match p.get(&Value::Int(LABEL_ALG)) {
        Some(Value::Int(v)) => *v,
        _ => return Err("algorithm not found".into()),
    };
    let algorithm = i64::try_from(alg_value)
        .ok()
        .and_then(Algorithm::from_cose)
        .ok_or_else(|| format!("signature algorithm not supported: {alg_value}"))?;
    let scheme = SigningScheme::parse(&scheme_text)
        .ok_or_else(|| format!("unsupported signingScheme: {scheme_text}"))?;
    let time_label = match scheme {
        SigningScheme::X509 => SIGNING_TIME,
        SigningScheme::SigningAuthority => AUTHENTIC_SIGNING_TIME,
    };
    let signing_time =
        parse_time(p, time_label).map_err(|e| format!("invalid signingTime: {e}"))?;
    let expiry = match p.get(&text(EXPIRY)) {
        Some(_) => Some(parse_time(p, EXPIRY).map_err(|e| format!("invalid expiry: {e}"))?),
        None => None,
    };
    let system = [
        Value::Int(LABEL_ALG),
        Value::Int(LABEL_CRIT),
        Value::Int(LABEL_CTY),
        text(EXPIRY),
        text(SCHEME),
        text(SIGNING_TIME),
        text(AUTHENTIC_SIGNING_TIME),
    ];
    let Value::Map(entries) = p else {
        return Err("invalid protected header".into());
    };
    let extended = entries
        .iter()
        .filter(|(k, _)| !system.contains(k))
        .map(|(k, v)| ExtendedAttribute {
            key: show(k),
            critical: crit.contains(k),
            text: v.as_text().map(str::to_string),
        })
        .collect();
    Ok((scheme, algorithm, signing_time, expiry, extended))
}

/// A time must be CBOR tag 1 (epoch seconds, integer or float).
fn parse_time(p: &Value, label: &str) -> Result<OffsetDateTime, String> {
    match p.get(&text(label)) {
        None => Err(format!(
            "protected header {} is missing",
            pullgate_policy::dn::go_quote(label)
        )),
        Some(Value::Tag(1, inner)) => {
            epoch(inner).ok_or_else(|| "invalid timeValue type".to_string())
        }
        Some(Value::Tag(0, _)) => Err("only Tag `1` Datetime CBOR object is supported".into()),
        Some(_) => Err("invalid timeValue type".into()),
    }
}

fn epoch(v: &Value) -> Option<OffsetDateTime> {
    let nanos: i128 = match v {
        Value::Int(i) => i.checked_mul(1_000_000_000)?,
        Value::Float(f) if f.is_finite() => (f * 1e9) as i128,
        _ => return None,
    };
    OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
}
