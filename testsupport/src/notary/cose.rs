//! COSE_Sign1_Tagged envelopes as notation-core-go writes them with go-cose
//! v1.3 (signature/cose/envelope.go): protected map {1: alg, 2: crit,
//! 3: content type, signingScheme, signingTime | authenticSigningTime as
//! tag 1 epoch seconds, expiry as tag 1}, unprotected map {33: [x5chain
//! bstr…], signingAgent, timestampSignature}, payload bstr, signature over
//! `["Signature1", protected, h'', payload]`. Maps are canonically sorted.

use super::cbor::Cbor;
use super::sign::{CoseLabel, PAYLOAD_CONTENT_TYPE, Prepared, SignedEnvelope, SigningScheme};

/// CBOR tag of COSE_Sign1_Tagged.
pub const TAG_COSE_SIGN1: u64 = 18;
/// COSE header label of x5chain (RFC 9360).
pub const LABEL_X5CHAIN: i64 = 33;

const SIGNING_SCHEME: &str = "io.cncf.notary.signingScheme";
const EXPIRY: &str = "io.cncf.notary.expiry";
const AUTHENTIC_SIGNING_TIME: &str = "io.cncf.notary.authenticSigningTime";

/// Signs and serializes a COSE envelope.
pub(super) fn build(p: &Prepared<'_>) -> SignedEnvelope {
    let protected = Cbor::Map(protected_header(p)).encode();
    let to_be_signed = sig_structure(&protected, &p.payload);
    let (signature, _) = p.leaf.key.sign(p.alg, &to_be_signed);
    let (signature, token) = p.finish_signature(signature);
    let message = Cbor::Tag(
        TAG_COSE_SIGN1,
        Box::new(Cbor::Array(vec![
            Cbor::Bytes(protected),
            Cbor::Map(unprotected_header(p, token)),
            Cbor::Bytes(p.stored_payload.clone()),
            Cbor::Bytes(signature.clone()),
        ])),
    );
    p.envelope(message.encode(), signature)
}

/// The COSE Sig_structure for COSE_Sign1 with empty external AAD.
pub fn sig_structure(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    Cbor::Array(vec![
        Cbor::text("Signature1"),
        Cbor::Bytes(protected.to_vec()),
        Cbor::Bytes(Vec::new()),
        Cbor::Bytes(payload.to_vec()),
    ])
    .encode()
}

fn protected_header(p: &Prepared<'_>) -> Vec<(Cbor, Cbor)> {
    let opts = p.opts;
    let mut h = vec![(Cbor::Int(1), Cbor::Int(p.alg.cose_id()))];
    let crit = crit(p);
    if !crit.is_empty() {
        let labels = crit
            .iter()
            .map(|c| CoseLabel::from_name(c).to_cbor())
            .collect();
        h.push((Cbor::Int(2), Cbor::Array(labels)));
    }
    h.push((Cbor::Int(3), Cbor::text(PAYLOAD_CONTENT_TYPE)));
    h.push((Cbor::text(SIGNING_SCHEME), Cbor::text(opts.scheme.as_str())));
    h.push((
        Cbor::text(opts.scheme.time_header()),
        epoch_time(p.signing_time),
    ));
    if let Some(e) = p.expiry {
        h.push((Cbor::text(EXPIRY), epoch_time(e)));
    }
    for (label, value) in &opts.extra_protected_cose {
        upsert(&mut h, label.to_cbor(), value.clone());
    }
    for name in &opts.remove_protected {
        let label = CoseLabel::from_name(name).to_cbor();
        h.retain(|(k, _)| *k != label);
    }
    h
}

/// notation-core-go's COSE `crit`: signingScheme, authenticSigningTime
/// (signing authority), expiry, then the critical extended attributes.
fn crit(p: &Prepared<'_>) -> Vec<String> {
    if let Some(c) = &p.opts.crit_override {
        return c.clone();
    }
    let mut crit = vec![SIGNING_SCHEME.to_string()];
    if p.opts.scheme == SigningScheme::SigningAuthority {
        crit.push(AUTHENTIC_SIGNING_TIME.into());
    }
    if p.expiry.is_some() {
        crit.push(EXPIRY.into());
    }
    crit.extend(p.opts.extra_critical.iter().cloned());
    crit
}

fn unprotected_header(p: &Prepared<'_>, token: Option<Vec<u8>>) -> Vec<(Cbor, Cbor)> {
    let chain = p.chain.iter().map(|c| Cbor::Bytes(c.clone())).collect();
    let mut h = vec![(Cbor::Int(LABEL_X5CHAIN), Cbor::Array(chain))];
    if let Some(agent) = p.opts.signing_agent.as_deref().filter(|a| !a.is_empty()) {
        h.push((Cbor::text("io.cncf.notary.signingAgent"), Cbor::text(agent)));
    }
    if let Some(t) = token {
        h.push((
            Cbor::text("io.cncf.notary.timestampSignature"),
            Cbor::Bytes(t),
        ));
    }
    for (label, value) in &p.opts.extra_unprotected_cose {
        upsert(&mut h, label.to_cbor(), value.clone());
    }
    h
}

fn upsert(map: &mut Vec<(Cbor, Cbor)>, key: Cbor, value: Cbor) {
    match map.iter_mut().find(|(k, _)| *k == key) {
        Some(slot) => slot.1 = value,
        None => map.push((key, value)),
    }
}

/// A time as fxamacker/cbor writes it with `TimeUnix` + `EncTagRequired`:
/// tag 1 around integer epoch seconds.
fn epoch_time(t: time::OffsetDateTime) -> Cbor {
    Cbor::Tag(1, Box::new(Cbor::Int(t.unix_timestamp())))
}

#[cfg(test)]
mod tests;
