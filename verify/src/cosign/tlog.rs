//! One transparency-log entry of a bundle, verified offline against its log
//! in the trusted root, in this order (each failure names the entry):
//!
//! 1. The body (`canonicalizedBody`) is an entry of the kind and version
//!    that `kindVersion` says, and it logs exactly this bundle:
//!    - `hashedrekord` 0.0.1 (Rekor v1, message signatures): the signature,
//!      the certificate or key (PEM; a certificate for a certificate, a key
//!      for a key, compared parsed), and the artifact's digest and algorithm
//!      (`messageDigest`);
//!    - `dsse` 0.0.1 (Rekor v1, DSSE): one of its signatures is the
//!      envelope's with its verifier, and `payloadHash` is the SHA-256 of
//!      the payload (`envelopeHash` depends on Rekor's re-encoding of the
//!      envelope and is not compared, as in sigstore-go; the signature
//!      covers payload type and payload);
//!    - `intoto` 0.0.2 (Rekor v1, DSSE): the same through its doubly
//!      base64-encoded envelope;
//!    - `hashedrekord` 0.0.2 (Rekor v2): the signature, the verifier
//!      (certificate DER or SubjectPublicKeyInfo) and the digest: the
//!      `messageDigest` of a message signature, or for a DSSE envelope the
//!      digest of its PAE with the entry's algorithm ("hashedrekord over
//!      DSSE").
//!
//!    The bundle's content was verified before (its signature over the
//!    artifact or the PAE), so a matching body proves the log holds this
//!    signature by this signer over this content.
//! 2. The inclusion promise (SET, Rekor v1 only): ECDSA with SHA-256 by the
//!    log's key over the RFC 8785 form of `{body, integratedTime, logIndex,
//!    logID}`, where the log key's window must contain the integrated time.
//!    A verified SET makes the integrated time a verified time.
//! 3. The inclusion proof: the RFC 6962 path from `SHA-256(0x00 ‖ body)` to
//!    the root hash, then the checkpoint ([`super::checkpoint`]) signed by
//!    the log, whose root hash and tree size must be the proof's. Rekor v1
//!    proofs are indexed by `inclusionProof.logIndex` (the shard's index),
//!    Rekor v2 proofs by the entry's log index, which must agree.

use base64::Engine as _;
use time::OffsetDateTime;

use super::bundle::{Content, HashAlgorithm, TlogEntry};
use super::checkpoint::{LogFamily, verify_checkpoint};
use super::json::{Obj, decode_bytes};
use super::merkle::{leaf_hash, verify_inclusion};
use super::payload::strict_json;
use super::rekor::{LoggedKey, RekorBundle, SignedBy};
use super::schemes::{Scheme, digest, verify};
use super::trusted_root::TransparencyLog;
use crate::x509::{Cert, Hash, PublicKey};

/// What the entry must log.
pub struct Logged<'a> {
    /// The bundle's signature bytes.
    pub signature: &'a [u8],
    pub signer: SignedBy<'a>,
    pub content: &'a Content,
}

/// A verified entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedEntry {
    /// The log's base URL.
    pub log: String,
    pub log_id: Vec<u8>,
    pub log_index: i64,
    /// Its integrated time (Rekor v1).
    pub integrated_time: Option<OffsetDateTime>,
    /// The integrated time is proved by a verified SET.
    pub time_verified: bool,
    pub rekor_v2: bool,
}

impl TlogEntry {
    /// A Rekor v2 entry (`hashedrekord` 0.0.2).
    pub fn is_rekor_v2(&self) -> bool {
        self.kind == "hashedrekord" && self.version == "0.0.2"
    }
}

fn body_error(why: impl std::fmt::Display) -> String {
    format!("the log entry's body is malformed: {why}")
}

/// Verifies `entry` from `log` against what the bundle says was logged.
pub fn verify_entry(
    entry: &TlogEntry,
    log: &TransparencyLog,
    logged: &Logged<'_>,
) -> Result<VerifiedEntry, String> {
    // 1. the body logs this bundle
    let body = strict_json(&entry.canonicalized_body).map_err(|e| body_error(format!("it {e}")))?;
    let mut body = Obj::new(body, "body").map_err(body_error)?;
    let kind = body.req_string("kind").map_err(body_error)?;
    let version = body.req_string("apiVersion").map_err(body_error)?;
    if kind != entry.kind || version != entry.version {
        return Err(format!(
            "the log entry's body is a {kind} {version} entry, but kindVersion says {} {}",
            entry.kind, entry.version
        ));
    }
    let spec = body.req_obj("spec").map_err(body_error)?;
    match (kind.as_str(), version.as_str()) {
        ("hashedrekord", "0.0.1") => hashedrekord_v001(spec, logged)?,
        ("dsse", "0.0.1") => dsse_v001(spec, logged)?,
        ("intoto", "0.0.2") => intoto_v002(spec, logged)?,
        ("hashedrekord", "0.0.2") => hashedrekord_v002(spec, logged)?,
        _ => {
            return Err(format!(
                "log entries of kind {kind} {version} are not supported (hashedrekord 0.0.1 and 0.0.2, dsse 0.0.1 and intoto 0.0.2 are)"
            ));
        }
    }
    let rekor_v2 = entry.is_rekor_v2();

    // 2. the inclusion promise
    let integrated_time = if entry.integrated_time == 0 {
        None
    } else {
        Some(
            OffsetDateTime::from_unix_timestamp(entry.integrated_time)
                .map_err(|_| format!("integratedTime {} is out of range", entry.integrated_time))?,
        )
    };
    let mut time_verified = false;
    if let Some(set) = &entry.inclusion_promise {
        if rekor_v2 {
            return Err("a Rekor v2 entry cannot carry an inclusion promise (SET)".into());
        }
        let at =
            integrated_time.ok_or("the entry has an inclusion promise but no integratedTime")?;
        if !log.valid_for.contains(at) {
            return Err(format!(
                "the log's key is trusted {} and the entry was integrated at {}",
                log.valid_for.describe(),
                super::verifier::rfc3339(at)
            ));
        }
        verify_set(entry, log, set)?;
        time_verified = true;
    }

    // 3. the inclusion proof and its checkpoint
    match &entry.inclusion_proof {
        None if entry.inclusion_promise.is_none() => {
            return Err("the entry has neither an inclusion promise nor an inclusion proof".into());
        }
        None => {}
        Some(proof) => {
            let leaf = leaf_hash(&entry.canonicalized_body);
            if rekor_v2 && proof.log_index != entry.log_index {
                return Err(format!(
                    "the inclusion proof is for index {}, the entry's is {}",
                    proof.log_index, entry.log_index
                ));
            }
            verify_inclusion(
                proof.log_index as u64,
                proof.tree_size as u64,
                &leaf,
                &proof.hashes,
                &proof.root_hash,
            )?;
            let envelope = proof
                .checkpoint
                .as_deref()
                .ok_or("the inclusion proof has no checkpoint")?;
            let family = if rekor_v2 {
                LogFamily::RekorV2
            } else {
                LogFamily::RekorV1
            };
            let checkpoint = verify_checkpoint(envelope, log, family)?;
            if checkpoint.root_hash != proof.root_hash {
                return Err(format!(
                    "the checkpoint's root hash {} is not the inclusion proof's {}",
                    hex::encode(&checkpoint.root_hash),
                    hex::encode(&proof.root_hash)
                ));
            }
            if checkpoint.size != proof.tree_size as u64 {
                return Err(format!(
                    "the checkpoint's tree size {} is not the inclusion proof's {}",
                    checkpoint.size, proof.tree_size
                ));
            }
        }
    }
    Ok(VerifiedEntry {
        log: log.base_url.clone(),
        log_id: log.log_id.clone(),
        log_index: entry.log_index,
        integrated_time,
        time_verified,
        rekor_v2,
    })
}

fn verify_set(entry: &TlogEntry, log: &TransparencyLog, set: &[u8]) -> Result<(), String> {
    let payload = RekorBundle {
        signed_entry_timestamp: set.to_vec(),
        body: base64::engine::general_purpose::STANDARD.encode(&entry.canonicalized_body),
        integrated_time: entry.integrated_time,
        log_index: entry.log_index,
        log_id: hex::encode(&log.log_id),
    };
    let canonical = payload
        .canonical_payload()
        .map_err(|e| format!("the SET's payload cannot be canonicalised: {e}"))?;
    if !matches!(log.key, PublicKey::Ec { .. })
        || !verify(
            &log.key,
            Scheme::Ecdsa(Hash::Sha256),
            canonical.as_bytes(),
            set,
        )
    {
        return Err(format!(
            "the inclusion promise (SET) does not verify with the key of {}",
            log.describe()
        ));
    }
    Ok(())
}

/// The logged PEM key or certificate is the signer (a certificate for a
/// certificate, a key for a key, as sigstore-go compares them).
fn check_pem_signer(pem: &[u8], signer: SignedBy<'_>) -> Result<(), String> {
    let logged = LoggedKey::parse(pem).map_err(|e| {
        format!("the log entry's public key is not one PEM public key or certificate: {e}")
    })?;
    let same = match (&logged, signer) {
        (LoggedKey::Certificate(c), SignedBy::Certificate(leaf)) => c == leaf,
        (LoggedKey::Key(k), SignedBy::Key(key)) => k == key,
        _ => false,
    };
    if same {
        Ok(())
    } else {
        Err(format!(
            "the log entry's public key does not match: it logs {}, not the bundle's {}",
            logged.describe(),
            match signer {
                SignedBy::Key(_) => "key",
                SignedBy::Certificate(_) => "certificate",
            }
        ))
    }
}

fn check_signature(logged_sig: &[u8], logged: &Logged<'_>) -> Result<(), String> {
    if logged_sig == logged.signature {
        Ok(())
    } else {
        Err("the log entry's signature does not match the bundle's (the entry logs another signature)".into())
    }
}

fn message_digest<'a>(
    logged: &'a Logged<'_>,
    kind: &str,
) -> Result<(HashAlgorithm, &'a [u8]), String> {
    match logged.content {
        Content::MessageSignature { digest, .. } => Ok((digest.algorithm, &digest.digest)),
        Content::Dsse(_) => Err(format!(
            "a {kind} entry logs a message signature, and the bundle holds a DSSE envelope"
        )),
    }
}

fn envelope_payload<'a>(logged: &'a Logged<'_>, kind: &str) -> Result<&'a [u8], String> {
    match logged.content {
        Content::Dsse(e) => Ok(&e.payload),
        Content::MessageSignature { .. } => Err(format!(
            "a {kind} entry logs a DSSE envelope, and the bundle holds a message signature"
        )),
    }
}

fn b64(s: &str, what: &str) -> Result<Vec<u8>, String> {
    decode_bytes(s).map_err(|e| body_error(format!("{what} is not base64: {e}")))
}

fn hash_pair(mut o: Obj) -> Result<(String, String), String> {
    Ok((o.req_string("algorithm")?, o.req_string("value")?))
}

fn check_payload_hash(alg: &str, value: &str, payload: &[u8]) -> Result<(), String> {
    if alg != "sha256" {
        return Err(format!(
            "the log entry's payload hash uses {alg:?}, not sha256"
        ));
    }
    let expected = digest(Hash::Sha256, payload);
    if hex::decode(value).ok().as_deref() == Some(expected.as_slice()) {
        Ok(())
    } else {
        Err(format!(
            "the log entry's payload hash {value} does not match the envelope's payload (sha256 {})",
            hex::encode(expected)
        ))
    }
}

fn hashedrekord_v001(mut spec: Obj, logged: &Logged<'_>) -> Result<(), String> {
    let (alg, expected) = message_digest(logged, "hashedrekord")?;
    let mut sig = spec.req_obj("signature").map_err(body_error)?;
    let content = b64(
        &sig.req_string("content").map_err(body_error)?,
        "spec.signature.content",
    )?;
    let mut key = sig.req_obj("publicKey").map_err(body_error)?;
    let pem = b64(
        &key.req_string("content").map_err(body_error)?,
        "spec.signature.publicKey.content",
    )?;
    let mut data = spec.req_obj("data").map_err(body_error)?;
    let (hash_alg, value) =
        hash_pair(data.req_obj("hash").map_err(body_error)?).map_err(body_error)?;
    if HashAlgorithm::parse(&hash_alg).filter(|_| !hash_alg.starts_with("SHA")) != Some(alg) {
        return Err(format!(
            "the log entry's digest algorithm {hash_alg:?} is not the bundle's {}",
            alg.name()
        ));
    }
    if hex::decode(&value).ok().as_deref() != Some(expected) {
        return Err(format!(
            "the log entry's artifact digest {value} does not match the bundle's messageDigest {}",
            hex::encode(expected)
        ));
    }
    check_signature(&content, logged)?;
    check_pem_signer(&pem, logged.signer)
}

fn dsse_v001(mut spec: Obj, logged: &Logged<'_>) -> Result<(), String> {
    let payload = envelope_payload(logged, "dsse")?;
    let (alg, value) =
        hash_pair(spec.req_obj("payloadHash").map_err(body_error)?).map_err(body_error)?;
    let sigs = spec.array("signatures", 16).map_err(body_error)?;
    let mut found = None;
    for (path, v) in sigs {
        let mut s = Obj::new(v, &path).map_err(body_error)?;
        let sig = b64(&s.req_string("signature").map_err(body_error)?, "signature")?;
        let verifier = b64(&s.req_string("verifier").map_err(body_error)?, "verifier")?;
        if sig == logged.signature {
            found = Some(verifier);
            break;
        }
    }
    check_payload_hash(&alg, &value, payload)?;
    let verifier = found.ok_or(
        "the log entry's signature does not match the bundle's (no signature of the dsse entry is the envelope's)",
    )?;
    check_pem_signer(&verifier, logged.signer)
}

fn intoto_v002(mut spec: Obj, logged: &Logged<'_>) -> Result<(), String> {
    let payload = envelope_payload(logged, "intoto")?;
    let mut content = spec.req_obj("content").map_err(body_error)?;
    let (alg, value) =
        hash_pair(content.req_obj("payloadHash").map_err(body_error)?).map_err(body_error)?;
    let mut envelope = content.req_obj("envelope").map_err(body_error)?;
    let sigs = envelope.array("signatures", 16).map_err(body_error)?;
    let mut found = None;
    for (path, v) in sigs {
        let mut s = Obj::new(v, &path).map_err(body_error)?;
        // strfmt.Base64 around the DSSE's own base64
        // (what does not decode twice is no signature of this bundle)
        let once = b64(&s.req_string("sig").map_err(body_error)?, "sig")?;
        let sig = std::str::from_utf8(&once)
            .ok()
            .and_then(|t| decode_bytes(t).ok());
        let key = b64(&s.req_string("publicKey").map_err(body_error)?, "publicKey")?;
        if sig.as_deref() == Some(logged.signature) {
            found = Some(key);
            break;
        }
    }
    check_payload_hash(&alg, &value, payload)?;
    let key = found.ok_or(
        "the log entry's signature does not match the bundle's (no signature of the intoto entry is the envelope's)",
    )?;
    check_pem_signer(&key, logged.signer)
}

fn hashedrekord_v002(mut spec: Obj, logged: &Logged<'_>) -> Result<(), String> {
    let mut hr = spec.req_obj("hashedRekordV002").map_err(body_error)?;
    let mut data = hr.req_obj("data").map_err(body_error)?;
    let alg_name = data.req_string("algorithm").map_err(body_error)?;
    let alg = HashAlgorithm::parse(&alg_name)
        .filter(|_| alg_name.starts_with("SHA2_"))
        .ok_or_else(|| body_error(format!("unsupported digest algorithm {alg_name:?}")))?;
    let logged_digest = data
        .bytes("digest")
        .map_err(body_error)?
        .unwrap_or_default();
    let mut sig = hr.req_obj("signature").map_err(body_error)?;
    let content = sig
        .bytes("content")
        .map_err(body_error)?
        .unwrap_or_default();
    let mut verifier = sig.req_obj("verifier").map_err(body_error)?;
    let _ = verifier.string("keyDetails").map_err(body_error)?;
    let cert = verifier.obj("x509Certificate").map_err(body_error)?;
    let key = verifier.obj("publicKey").map_err(body_error)?;
    let expected = match logged.content {
        Content::MessageSignature { digest: d, .. } => {
            if d.algorithm != alg {
                return Err(format!(
                    "the log entry's digest algorithm {} is not the bundle's {}",
                    alg.name(),
                    d.algorithm.name()
                ));
            }
            d.digest.clone()
        }
        Content::Dsse(e) => digest(alg.hash(), &e.pae()),
    };
    if logged_digest != expected {
        return Err(match logged.content {
            Content::Dsse(_) => format!(
                "the log entry's digest {} is not the digest of this DSSE envelope's PAE ({}): the entry logs another envelope",
                hex::encode(&logged_digest),
                hex::encode(&expected)
            ),
            Content::MessageSignature { .. } => format!(
                "the log entry's artifact digest {} does not match the bundle's messageDigest {}",
                hex::encode(&logged_digest),
                hex::encode(&expected)
            ),
        });
    }
    check_signature(&content, logged)?;
    match (cert, key, logged.signer) {
        (Some(mut c), None, SignedBy::Certificate(leaf)) => {
            let der = c.req_bytes("rawBytes").map_err(body_error)?;
            if der != leaf.der() {
                let what = Cert::from_der(&der)
                    .map(|c| format!("the certificate {:?}", c.subject()))
                    .unwrap_or_else(|_| "a malformed certificate".into());
                return Err(format!(
                    "the log entry's verifier does not match: it logs {what}, not the bundle's certificate"
                ));
            }
        }
        (None, Some(mut k), SignedBy::Key(key)) => {
            let der = k.req_bytes("rawBytes").map_err(body_error)?;
            let parsed = <spki::SubjectPublicKeyInfoOwned as der::Decode>::from_der(&der)
                .ok()
                .and_then(|s| PublicKey::from_spki(&s).ok());
            if parsed.as_ref() != Some(key) {
                return Err(
                    "the log entry's verifier does not match: it logs another public key".into(),
                );
            }
        }
        (Some(_), Some(_), _) | (None, None, _) => {
            return Err(body_error(
                "the verifier has not exactly one of x509Certificate and publicKey",
            ));
        }
        (_, _, signer) => {
            return Err(format!(
                "the log entry's verifier does not match: the bundle is signed with a {}",
                match signer {
                    SignedBy::Key(_) => "key and the entry logs a certificate",
                    SignedBy::Certificate(_) => "certificate and the entry logs a key",
                }
            ));
        }
    }
    Ok(())
}
