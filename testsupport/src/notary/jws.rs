//! The JWS JSON serialization notation-core-go writes (signature/jws):
//! `{"payload","protected","header":{timestampSignature?, "x5c",
//! signingAgent?},"signature"}` in that order, compact Go JSON.
//!
//! The protected header is a Go map marshalled by golang-jwt, so its keys are
//! sorted; times are Go `time.Time` JSON (RFC 3339, whole seconds, the
//! signer's UTC offset or `Z`); `crit` keeps notation's order.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::gojson;
use super::sign::{PAYLOAD_CONTENT_TYPE, Prepared, SignedEnvelope, SigningScheme};

const SIGNING_SCHEME: &str = "io.cncf.notary.signingScheme";
const EXPIRY: &str = "io.cncf.notary.expiry";
const AUTHENTIC_SIGNING_TIME: &str = "io.cncf.notary.authenticSigningTime";

/// Signs and serializes a JWS envelope.
pub(super) fn build(p: &Prepared<'_>) -> SignedEnvelope {
    let protected = URL_SAFE_NO_PAD.encode(protected_header(p));
    let payload = URL_SAFE_NO_PAD.encode(&p.payload);
    let signing_input = format!("{protected}.{payload}");
    let (signature, _) = p.leaf.key.sign(p.alg, signing_input.as_bytes());
    let (signature, token) = p.finish_signature(signature);
    let bytes = gojson::object(&[
        (
            "payload",
            gojson::string(&URL_SAFE_NO_PAD.encode(&p.stored_payload)),
        ),
        ("protected", gojson::string(&protected)),
        ("header", unprotected_header(p, token.as_deref())),
        (
            "signature",
            gojson::string(&URL_SAFE_NO_PAD.encode(&signature)),
        ),
    ]);
    p.envelope(bytes.into_bytes(), signature)
}

/// The protected header JSON (sorted keys).
fn protected_header(p: &Prepared<'_>) -> String {
    let opts = p.opts;
    let mut h = Map::new();
    h.insert("alg".into(), json!(p.alg.jws_name()));
    h.insert("cty".into(), json!(PAYLOAD_CONTENT_TYPE));
    let crit = crit(p);
    if !crit.is_empty() {
        h.insert("crit".into(), json!(crit));
    }
    h.insert(SIGNING_SCHEME.into(), json!(opts.scheme.as_str()));
    h.insert(
        opts.scheme.time_header().into(),
        json!(go_time(p.signing_time)),
    );
    if let Some(e) = p.expiry {
        h.insert(EXPIRY.into(), json!(go_time(e)));
    }
    for (k, v) in &opts.extra_protected {
        h.insert(k.clone(), v.clone());
    }
    for k in &opts.remove_protected {
        h.remove(k);
    }
    gojson::value(&Value::Object(h))
}

/// notation-core-go's JWS `crit`: signingScheme, the critical extended
/// attributes, then authenticSigningTime (signing authority), then expiry.
fn crit(p: &Prepared<'_>) -> Vec<String> {
    if let Some(c) = &p.opts.crit_override {
        return c.clone();
    }
    let mut crit = vec![SIGNING_SCHEME.to_string()];
    crit.extend(p.opts.extra_critical.iter().cloned());
    if p.opts.scheme == SigningScheme::SigningAuthority {
        crit.push(AUTHENTIC_SIGNING_TIME.into());
    }
    if p.expiry.is_some() {
        crit.push(EXPIRY.into());
    }
    crit
}

/// The unprotected `header` object in Go struct order.
fn unprotected_header(p: &Prepared<'_>, token: Option<&[u8]>) -> String {
    let mut fields: Vec<(String, String)> = Vec::new();
    if let Some(t) = token {
        fields.push((
            "io.cncf.notary.timestampSignature".into(),
            gojson::string(&STANDARD.encode(t)),
        ));
    }
    let x5c: Vec<Value> = p.chain.iter().map(|c| json!(STANDARD.encode(c))).collect();
    fields.push(("x5c".into(), gojson::value(&Value::Array(x5c))));
    if let Some(agent) = p.opts.signing_agent.as_deref().filter(|a| !a.is_empty()) {
        fields.push(("io.cncf.notary.signingAgent".into(), gojson::string(agent)));
    }
    for (k, v) in &p.opts.extra_unprotected {
        let encoded = gojson::value(v);
        match fields.iter_mut().find(|(name, _)| name == k) {
            Some(slot) => slot.1 = encoded,
            None => fields.push((k.clone(), encoded)),
        }
    }
    let borrowed: Vec<(&str, String)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    gojson::object(&borrowed)
}

/// A time as Go's `time.Time.MarshalJSON` writes a whole-second time:
/// `2023-03-14T16:10:02+08:00`, or `…Z` when the offset is zero.
pub fn go_time(t: OffsetDateTime) -> String {
    let offset = t.offset();
    let zone = if offset.is_utc() {
        "Z".to_string()
    } else {
        let (h, m, _) = offset.as_hms();
        let sign = if offset.is_negative() { '-' } else { '+' };
        format!("{sign}{:02}:{:02}", h.unsigned_abs(), m.unsigned_abs())
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{zone}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests;
