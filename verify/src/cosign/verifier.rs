//! Sigstore bundles verified offline, with sigstore-go's verifier semantics
//! (`pkg/verify.Verifier.Verify`), against a trusted root and a policy.
//!
//! One bundle is checked in this order; the first failure is the answer:
//!
//! 1. **Signer.** A certificate (`certificate` or the leaf of
//!    `x509CertificateChain`) needs a policy with a keyless identity; a
//!    `publicKey` needs configured keys. The hint only orders the
//!    configured keys (those whose hint — base64 SHA-256 of the DER
//!    SubjectPublicKeyInfo — matches are tried first); it never adds trust.
//! 2. **Content.** A message signature: the artifact's digest must equal
//!    `messageDigest` (computed from the artifact's bytes, or compared with
//!    a given digest), and the signature must verify over the artifact (or
//!    its digest). A DSSE envelope: exactly one signature, verifying over
//!    the PAE; its payload must be an in-toto statement (payload type
//!    `application/vnd.in-toto+json`) with a subject whose digest is the
//!    artifact's. Signature schemes: `cosign::schemes`.
//! 3. **Transparency log** (`tlog_threshold` > 0): each entry of a log
//!    that the trusted root lists is verified ([`super::tlog`]) and any
//!    failure rejects the bundle; entries of other logs are skipped; an
//!    entry twice (same log and index) is refused. At least `tlog_threshold`
//!    distinct logs must have a verified entry. With `tlog_threshold` = 0
//!    the entries are not read (cosign's `--insecure-ignore-tlog`).
//! 4. **Timestamps.** Every RFC 3161 timestamp is checked against the
//!    trusted root's authorities ([`super::rfc3161`]); those that verify
//!    (one per authority) are verified times, the others are reported only
//!    if too few times verify (sigstore-go counts them the same way).
//! 5. **Verified times** are the integrated times of entries whose SET
//!    verified (one per log) and the timestamps' times. A certificate needs
//!    at least `timestamp_threshold` of them (sigstore-go's
//!    `WithObserverTimestamps`; Rekor v2 entries have no integrated time,
//!    so a certificate logged only there needs an RFC 3161 timestamp). With
//!    a threshold of 0 and no verified time, the certificate is checked at
//!    the current time (cosign without a transparency log).
//! 6. **Certificate**, at every verified time and at the integrated time of
//!    every verified entry: the leaf's own validity, then a path to a
//!    Fulcio CA of the trusted root whose `validFor` contains the time
//!    (intermediates from the trusted root only, code-signing usage, Go's
//!    path rules); then at least `sct_threshold` embedded SCTs from CT logs
//!    of the trusted root ([`super::sct`]); then the identity and issuer
//!    ([`super::keyless::IdentityPolicy`], cosign's SAN list and Fulcio's
//!    issuer extensions). **Key**: every verified time and integrated
//!    time must lie in the key's `valid_for` window.
//!
//! For images ([`verify_image_bundle`]) the bundle must be what cosign 3
//! `cosign sign` attaches: a DSSE envelope of payload type
//! `application/vnd.in-toto+json` holding an in-toto Statement **v1**
//! whose predicate type is `https://sigstore.dev/cosign/sign/v1` and one of
//! whose subjects has the image's digest. Statement v0.1 is refused there:
//! cosign has only ever written the sign predicate in v1 statements, and
//! v0.1 statements are `cosign attest` attestations, which are not
//! signatures of the image. [`verify_bundle`] (any artifact) accepts both.

use base64::Engine as _;
use pullgate_policy::cosign::KeyHash;
use pullgate_registry::{Algorithm, Digest};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::bundle::{Bundle, BundleVersion, Content, HashAlgorithm, Material};
use super::dsse::{
    COSIGN_SIGN_PREDICATE, INTOTO_PAYLOAD_TYPE, STATEMENT_V1, Statement, StatementVersion,
    parse_statement,
};
use super::key::CosignKey;
use super::keyless::{CertIdentity, IdentityPolicy, VerifiedCertificate, certificate_identity};
use super::rekor::SignedBy;
use super::rfc3161::verify_timestamp;
use super::schemes::{Scheme, certificate_schemes, digest, key_schemes, verify, verify_prehashed};
use super::sct::{VerifiedSct, verify_scts};
use super::tlog::{Logged, VerifiedEntry, verify_entry};
use super::trusted_root::{TimeRange, TrustedRoot, sha256};
use crate::keys::parse_public_keys_with_der;
use crate::x509::{Cert, Eku, PublicKey, VerifyOptions, verify_path};

/// RFC 3339, for messages.
pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

/// A public key a policy trusts for bundles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleKey {
    /// The key with its legacy hash setting and its source.
    pub key: CosignKey,
    /// Its SubjectPublicKeyInfo DER.
    pub spki_der: Vec<u8>,
    /// When it may have signed; checked against every verified time
    /// (sigstore-go's expiring keys). Unbounded by default.
    pub valid_for: TimeRange,
}

impl BundleKey {
    /// Every key of a PEM text.
    pub fn from_pem(pem: &[u8], hash: KeyHash, source: &str) -> Result<Vec<BundleKey>, String> {
        let keys = parse_public_keys_with_der(pem).map_err(|e| format!("{source}: {e}"))?;
        let several = keys.len() > 1;
        keys.into_iter()
            .enumerate()
            .map(|(i, (key, spki_der))| {
                let name = if several {
                    format!("{source} (key {})", i + 1)
                } else {
                    source.to_string()
                };
                Ok(BundleKey {
                    key: CosignKey::new(key, hash, &name)?,
                    spki_der,
                    valid_for: TimeRange::ALWAYS,
                })
            })
            .collect()
    }

    /// The hint a bundle names this key by: base64 SHA-256 of its SPKI.
    pub fn hint(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(sha256(&self.spki_der))
    }
}

/// What bundles are verified against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleTrust {
    pub root: TrustedRoot,
    pub keys: Vec<BundleKey>,
}

/// How much evidence a bundle needs.
#[derive(Debug, Clone)]
pub struct BundlePolicy {
    /// The identity and issuer a certificate must name; `None` refuses
    /// certificates (a policy of keys only).
    pub identity: Option<IdentityPolicy>,
    /// Distinct transparency logs with a verified entry required; 0 does
    /// not read the log entries.
    pub tlog_threshold: usize,
    /// Verified times a certificate needs (SET integrated times and RFC
    /// 3161 timestamps).
    pub timestamp_threshold: usize,
    /// CT logs with a valid embedded SCT a certificate needs; 0 does not
    /// check SCTs.
    pub sct_threshold: usize,
    /// Verified RFC 3161 timestamps required whatever the signer
    /// (sigstore-go's `WithSignedTimestamps`, cosign's
    /// `--use-signed-timestamps`); 0 by default.
    pub tsa_threshold: usize,
}

impl BundlePolicy {
    /// cosign's defaults for keyless verification: one log entry, one
    /// verified time, one SCT.
    pub fn keyless(identity: IdentityPolicy) -> BundlePolicy {
        BundlePolicy {
            identity: Some(identity),
            tlog_threshold: 1,
            timestamp_threshold: 1,
            sct_threshold: 1,
            tsa_threshold: 0,
        }
    }

    /// cosign's defaults for keys: one log entry, no time needed.
    pub fn keys() -> BundlePolicy {
        BundlePolicy {
            identity: None,
            tlog_threshold: 1,
            timestamp_threshold: 0,
            sct_threshold: 0,
            tsa_threshold: 0,
        }
    }
}

/// The artifact a bundle must be about.
#[derive(Debug, Clone, Copy)]
pub enum Artifact<'a> {
    Bytes(&'a [u8]),
    Digest {
        algorithm: HashAlgorithm,
        digest: &'a [u8],
    },
}

/// Who signed a verified bundle.
#[derive(Debug, Clone)]
pub enum VerifiedSigner {
    Key { source: String },
    Certificate(VerifiedCertificate),
}

/// A verified time and what proved it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedTime {
    pub time: OffsetDateTime,
    /// `transparency log https://rekor.sigstore.dev` or `timestamp
    /// authority https://timestamp.sigstore.dev/api/v1/timestamp`.
    pub source: String,
}

/// A bundle that verified.
#[derive(Debug, Clone)]
pub struct VerifiedBundle {
    pub version: BundleVersion,
    pub signer: VerifiedSigner,
    pub tlog_entries: Vec<VerifiedEntry>,
    pub times: Vec<VerifiedTime>,
    pub scts: Vec<VerifiedSct>,
    /// The in-toto statement of a DSSE envelope.
    pub statement: Option<Statement>,
    /// What was skipped or did not verify without deciding the verdict.
    pub notes: Vec<String>,
}

impl VerifiedBundle {
    /// The earliest verified time.
    pub fn signing_time(&self) -> Option<OffsetDateTime> {
        self.times.iter().map(|t| t.time).min()
    }

    /// "certificate for … chaining to …, Rekor entry 123 of … at …".
    pub fn describe(&self) -> String {
        let mut out = match &self.signer {
            VerifiedSigner::Key { source } => format!("key {source}"),
            VerifiedSigner::Certificate(c) => c.describe(),
        };
        for e in &self.tlog_entries {
            out.push_str(&format!(", log entry {} of {}", e.log_index, e.log));
        }
        if let Some(t) = self.signing_time() {
            out.push_str(&format!(", signed at {}", rfc3339(t)));
        }
        out
    }
}

enum Signer<'a> {
    Key(&'a BundleKey),
    Certificate(&'a Cert),
}

impl Signer<'_> {
    fn key(&self) -> &PublicKey {
        match self {
            Signer::Key(k) => &k.key.key,
            Signer::Certificate(c) => c.public_key(),
        }
    }
}

fn schemes_of(signer: &Signer<'_>, dsse: bool) -> Vec<Scheme> {
    match signer {
        Signer::Key(k) => key_schemes(&k.key, dsse),
        Signer::Certificate(c) => certificate_schemes(c.public_key(), dsse),
    }
}

/// The signature verifies with one of the signer's schemes.
fn content_verifies(
    signer: &Signer<'_>,
    content: &Content,
    artifact: Artifact<'_>,
) -> Result<(), String> {
    match content {
        Content::MessageSignature {
            digest: d,
            signature,
        } => {
            let schemes = schemes_of(signer, false);
            match artifact {
                Artifact::Bytes(bytes) => {
                    let actual = digest(d.algorithm.hash(), bytes);
                    if actual != d.digest {
                        return Err(format!(
                            "the artifact's {} digest {} does not match the bundle's messageDigest {}",
                            d.algorithm.name(),
                            hex::encode(&actual),
                            hex::encode(&d.digest)
                        ));
                    }
                    if schemes
                        .iter()
                        .any(|s| verify(signer.key(), *s, bytes, signature))
                    {
                        return Ok(());
                    }
                }
                Artifact::Digest {
                    algorithm,
                    digest: given,
                } => {
                    if algorithm != d.algorithm || given != d.digest.as_slice() {
                        return Err(format!(
                            "the artifact digest {}:{} does not match the bundle's messageDigest {}:{}",
                            algorithm.short_name(),
                            hex::encode(given),
                            d.algorithm.short_name(),
                            hex::encode(&d.digest)
                        ));
                    }
                    if schemes.iter().all(|s| *s == Scheme::Ed25519) {
                        return Err(
                            "a message signature by a pure Ed25519 key can only be verified with the artifact, not its digest".into(),
                        );
                    }
                    let hash = d.algorithm.hash();
                    if schemes
                        .iter()
                        .any(|s| verify_prehashed(signer.key(), *s, hash, given, signature))
                    {
                        return Ok(());
                    }
                }
            }
            Err(format!(
                "the bundle's signature does not verify over the artifact with {} ({})",
                signer_name(signer),
                schemes
                    .iter()
                    .map(|s| s.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
        Content::Dsse(envelope) => {
            let sig = envelope.single_signature()?;
            let pae = envelope.pae();
            let schemes = schemes_of(signer, true);
            if !schemes
                .iter()
                .any(|s| verify(signer.key(), *s, &pae, &sig.sig))
            {
                return Err(format!(
                    "the DSSE envelope's signature does not verify with {} ({})",
                    signer_name(signer),
                    schemes
                        .iter()
                        .map(|s| s.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            Ok(())
        }
    }
}

fn signer_name(signer: &Signer<'_>) -> String {
    match signer {
        Signer::Key(k) => format!("key {}", k.key.source),
        Signer::Certificate(c) => {
            let name = certificate_identity(c)
                .ok()
                .and_then(|id| id.sans.first().cloned())
                .unwrap_or_else(|| c.subject().to_string());
            format!("the key of the certificate for {name}")
        }
    }
}

/// The statement of a verified envelope names the artifact.
fn statement_names(statement: &Statement, artifact: Artifact<'_>) -> Result<(), String> {
    let found = match artifact {
        Artifact::Digest { algorithm, digest } => {
            statement.has_subject_digest(algorithm.short_name(), digest)
        }
        Artifact::Bytes(bytes) => [
            HashAlgorithm::Sha2_256,
            HashAlgorithm::Sha2_384,
            HashAlgorithm::Sha2_512,
        ]
        .iter()
        .any(|a| statement.has_subject_digest(a.short_name(), &digest(a.hash(), bytes))),
    };
    if found {
        Ok(())
    } else {
        let subjects: Vec<String> = statement
            .subjects
            .iter()
            .flat_map(|s| s.digest.iter().map(|(a, h)| format!("{a}:{h}")))
            .collect();
        Err(format!(
            "the artifact's digest does not match any subject of the in-toto statement ({})",
            subjects.join(", ")
        ))
    }
}

/// Verifies a parsed bundle about `artifact`.
pub fn verify_bundle(
    bundle: &Bundle,
    artifact: Artifact<'_>,
    trust: &BundleTrust,
    policy: &BundlePolicy,
    now: OffsetDateTime,
) -> Result<VerifiedBundle, String> {
    let mut notes = Vec::new();
    let signature = bundle.signature()?;

    // 1. who signed, 2. over what
    let mut statement = None;
    let signer = match &bundle.material {
        Material::Certificate { leaf, .. } => {
            if policy.identity.is_none() {
                return Err(
                    "the bundle is signed with a certificate, and the policy has no keyless identity to check it against (it verifies keys)".into(),
                );
            }
            let s = Signer::Certificate(leaf);
            content_verifies(&s, &bundle.content, artifact)?;
            s
        }
        Material::PublicKey { hint } => {
            if trust.keys.is_empty() {
                return Err(
                    "the bundle is signed with a public key, and the policy has no key".into(),
                );
            }
            let mut keys: Vec<&BundleKey> = trust.keys.iter().collect();
            if let Some(h) = hint {
                keys.sort_by_key(|k| k.hint() != *h);
            }
            let mut failures = Vec::new();
            let mut chosen = None;
            for k in keys {
                let s = Signer::Key(k);
                match content_verifies(&s, &bundle.content, artifact) {
                    Ok(()) => {
                        chosen = Some(s);
                        break;
                    }
                    Err(e) => failures.push(e),
                }
            }
            match chosen {
                Some(s) => s,
                None if failures.len() == 1 => return Err(failures.remove(0)),
                None => {
                    return Err(format!(
                        "the bundle's signature does not verify with any of the {} configured keys ({})",
                        failures.len(),
                        failures.join("; ")
                    ));
                }
            }
        }
    };
    if let Content::Dsse(envelope) = &bundle.content {
        if envelope.payload_type != INTOTO_PAYLOAD_TYPE {
            return Err(format!(
                "unsupported DSSE payloadType {:?} (expected {INTOTO_PAYLOAD_TYPE:?})",
                envelope.payload_type
            ));
        }
        let s = parse_statement(&envelope.payload)?;
        statement_names(&s, artifact)?;
        statement = Some(s);
    }
    let signed_by = match &signer {
        Signer::Key(k) => SignedBy::Key(&k.key.key),
        Signer::Certificate(c) => SignedBy::Certificate(c),
    };

    // 3. the transparency log
    let mut entries: Vec<VerifiedEntry> = Vec::new();
    if policy.tlog_threshold > 0 {
        let logged = Logged {
            signature,
            signer: signed_by,
            content: &bundle.content,
        };
        let mut skipped = Vec::new();
        for (i, entry) in bundle.tlog_entries.iter().enumerate() {
            if bundle.tlog_entries[..i]
                .iter()
                .any(|e| e.log_id == entry.log_id && e.log_index == entry.log_index)
            {
                return Err(format!(
                    "transparency-log entry {i} is a duplicate (log {} index {})",
                    hex::encode(&entry.log_id),
                    entry.log_index
                ));
            }
            let Some(log) = trust.root.tlog(&entry.log_id) else {
                skipped.push(format!(
                    "entry {i} is from log {}, which the trusted root does not list",
                    hex::encode(&entry.log_id)
                ));
                continue;
            };
            let v = verify_entry(entry, log, &logged).map_err(|e| {
                format!(
                    "transparency-log entry {i} (index {} of {}): {e}",
                    entry.log_index, log.base_url
                )
            })?;
            entries.push(v);
        }
        let mut logs: Vec<&[u8]> = entries.iter().map(|e| e.log_id.as_slice()).collect();
        logs.sort_unstable();
        logs.dedup();
        if logs.len() < policy.tlog_threshold {
            return Err(format!(
                "{} transparency log(s) of the trusted root have a verified entry for this bundle, {} required{}",
                logs.len(),
                policy.tlog_threshold,
                if skipped.is_empty() && bundle.tlog_entries.is_empty() {
                    " (the bundle has no transparency-log entry)".to_string()
                } else if skipped.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", skipped.join("; "))
                }
            ));
        }
        notes.extend(skipped);
    } else if !bundle.tlog_entries.is_empty() {
        notes.push(
            "the transparency-log entries were not verified (the policy does not use the log)"
                .into(),
        );
    }

    // 4. timestamps
    let mut times: Vec<VerifiedTime> = Vec::new();
    let mut seen_logs: Vec<&[u8]> = Vec::new();
    for e in &entries {
        if let (true, Some(t)) = (e.time_verified, e.integrated_time)
            && !seen_logs.contains(&e.log_id.as_slice())
        {
            seen_logs.push(&e.log_id);
            times.push(VerifiedTime {
                time: t,
                source: format!("transparency log {}", e.log),
            });
        }
    }
    let mut timestamp_errors = Vec::new();
    let mut authorities: Vec<String> = Vec::new();
    for (i, response) in bundle.timestamps.iter().enumerate() {
        match verify_timestamp(response, signature, &trust.root.timestamp_authorities) {
            Ok(t) if authorities.contains(&t.authority) => {
                notes.push(format!(
                    "RFC 3161 timestamp {i} is a second one from {}; ignored",
                    t.authority
                ));
            }
            Ok(t) => {
                authorities.push(t.authority.clone());
                times.push(VerifiedTime {
                    time: t.time,
                    source: format!("timestamp authority {}", t.authority),
                });
            }
            Err(e) => timestamp_errors.push(format!("RFC 3161 timestamp {i}: {e}")),
        }
    }

    if authorities.len() < policy.tsa_threshold {
        let mut why = timestamp_errors.clone();
        if bundle.timestamps.is_empty() {
            why.push("the bundle has no RFC 3161 timestamp".into());
        }
        return Err(format!(
            "{} RFC 3161 timestamp(s) verified, {} required: {}",
            authorities.len(),
            policy.tsa_threshold,
            why.join("; ")
        ));
    }

    // 5., 6. the signer at the verified times
    let mut scts = Vec::new();
    let verified_signer = match signer {
        Signer::Certificate(leaf) => {
            if times.len() < policy.timestamp_threshold {
                let mut why = Vec::new();
                if entries.iter().any(|e| e.rekor_v2) && !entries.iter().any(|e| e.time_verified) {
                    why.push(
                        "Rekor v2 entries carry no integrated time, so an RFC 3161 timestamp is required".to_string(),
                    );
                }
                if bundle.timestamps.is_empty() {
                    why.push("the bundle has no RFC 3161 timestamp".into());
                }
                why.extend(timestamp_errors.iter().cloned());
                return Err(format!(
                    "{} verified time(s) for the certificate, {} required{}",
                    times.len(),
                    policy.timestamp_threshold,
                    if why.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", why.join("; "))
                    }
                ));
            }
            let mut checks: Vec<(OffsetDateTime, String)> =
                times.iter().map(|t| (t.time, t.source.clone())).collect();
            for e in &entries {
                if let Some(t) = e.integrated_time
                    && !checks.iter().any(|(c, _)| *c == t)
                {
                    checks.push((t, format!("integrated time of log entry {}", e.log_index)));
                }
            }
            if checks.is_empty() {
                checks.push((now, "the current time (no verified time)".into()));
            }
            let mut chain = Vec::new();
            for (t, source) in &checks {
                if *t < leaf.not_before() || *t > leaf.not_after() {
                    return Err(format!(
                        "the signing certificate was not valid at {} ({source}): it is valid from {} to {}",
                        rfc3339(*t),
                        rfc3339(leaf.not_before()),
                        rfc3339(leaf.not_after())
                    ));
                }
                chain = fulcio_chain(leaf, &trust.root, *t)?;
            }
            if policy.sct_threshold > 0 {
                let issuer = chain
                    .get(1)
                    .ok_or("the certificate chain has no issuer for the SCT check")?;
                scts = verify_scts(leaf, issuer, &trust.root, policy.sct_threshold)?;
            }
            let identity: CertIdentity = certificate_identity(leaf)?;
            let id_policy = policy
                .identity
                .as_ref()
                .ok_or("the policy has no keyless identity")?;
            id_policy.check(&identity)?;
            let matched = id_policy.matched(&identity).unwrap_or_default().to_string();
            VerifiedSigner::Certificate(VerifiedCertificate {
                chain,
                identity,
                matched,
            })
        }
        Signer::Key(k) => {
            let mut checks: Vec<(OffsetDateTime, String)> =
                times.iter().map(|t| (t.time, t.source.clone())).collect();
            for e in &entries {
                if let Some(t) = e.integrated_time
                    && !checks.iter().any(|(c, _)| *c == t)
                {
                    checks.push((t, format!("integrated time of log entry {}", e.log_index)));
                }
            }
            if checks.is_empty() && k.valid_for != TimeRange::ALWAYS {
                checks.push((now, "the current time (no verified time)".into()));
            }
            for (t, source) in checks {
                if !k.valid_for.contains(t) {
                    return Err(format!(
                        "signature time outside of public key validity window: {} ({source}) is not {}",
                        rfc3339(t),
                        k.valid_for.describe()
                    ));
                }
            }
            VerifiedSigner::Key {
                source: k.key.source.clone(),
            }
        }
    };
    if !timestamp_errors.is_empty() {
        notes.extend(timestamp_errors);
    }
    Ok(VerifiedBundle {
        version: bundle.version,
        signer: verified_signer,
        tlog_entries: entries,
        times,
        scts,
        statement,
        notes,
    })
}

/// The leaf's path to a Fulcio CA of `root` trusted at `at`.
fn fulcio_chain(leaf: &Cert, root: &TrustedRoot, at: OffsetDateTime) -> Result<Vec<Cert>, String> {
    let mut errors = Vec::new();
    for ca in &root.certificate_authorities {
        if !ca.valid_for.contains(at) {
            errors.push(format!(
                "{} is trusted {}",
                ca.describe(),
                ca.valid_for.describe()
            ));
            continue;
        }
        match verify_path(
            leaf,
            &VerifyOptions {
                roots: std::slice::from_ref(ca.root()),
                intermediates: ca.intermediates(),
                time: at,
                usage: Eku::CodeSigning,
            },
        ) {
            Ok(chain) => return Ok(chain),
            Err(e) => errors.push(format!("{}: {e}", ca.describe())),
        }
    }
    if root.certificate_authorities.is_empty() {
        errors.push("the trusted root has no certificate authority".into());
    }
    Err(format!(
        "the signing certificate does not chain to a certificate authority of the trusted root at {}: {}",
        rfc3339(at),
        errors.join("; ")
    ))
}

/// Verifies a cosign 3 image signature bundle (the bytes of the referrer's
/// layer) for the image `image_digest`.
pub fn verify_image_bundle(
    bundle_bytes: &[u8],
    image_digest: &Digest,
    trust: &BundleTrust,
    policy: &BundlePolicy,
    now: OffsetDateTime,
) -> Result<VerifiedBundle, String> {
    let bundle = Bundle::parse(bundle_bytes)?;
    let Content::Dsse(envelope) = &bundle.content else {
        return Err(
            "an image signature bundle carries a DSSE envelope (cosign sign writes one); this one holds a message signature".into(),
        );
    };
    if envelope.payload_type != INTOTO_PAYLOAD_TYPE {
        return Err(format!(
            "unsupported DSSE payloadType {:?} (expected {INTOTO_PAYLOAD_TYPE:?})",
            envelope.payload_type
        ));
    }
    let statement = parse_statement(&envelope.payload)?;
    if statement.version != StatementVersion::V1 {
        return Err(format!(
            "unsupported in-toto _type for an image signature: Statement v0.1 (expected {STATEMENT_V1:?})"
        ));
    }
    if statement.predicate_type != COSIGN_SIGN_PREDICATE {
        return Err(format!(
            "unsupported in-toto predicateType {:?} for an image signature (expected {COSIGN_SIGN_PREDICATE:?})",
            statement.predicate_type
        ));
    }
    let algorithm = match image_digest.algorithm() {
        Algorithm::Sha256 => HashAlgorithm::Sha2_256,
        Algorithm::Sha512 => HashAlgorithm::Sha2_512,
    };
    let raw =
        hex::decode(image_digest.hex()).map_err(|e| format!("the image digest is not hex: {e}"))?;
    if !statement.has_subject_digest(algorithm.short_name(), &raw) {
        return Err(format!(
            "the signature is for another image: no subject of its in-toto statement has the digest {image_digest}"
        ));
    }
    verify_bundle(
        &bundle,
        Artifact::Digest {
            algorithm,
            digest: &raw,
        },
        trust,
        policy,
        now,
    )
}

/// The digest of `bytes` for an [`Artifact::Digest`].
pub fn artifact_digest(algorithm: HashAlgorithm, bytes: &[u8]) -> Vec<u8> {
    digest(algorithm.hash(), bytes)
}
