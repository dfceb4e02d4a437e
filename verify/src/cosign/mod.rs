//! The Cosign backend for legacy `.sig` signatures (cosign ≤ 2.x's default,
//! cosign 3 with `--new-bundle-format=false`): public keys, keyless (Fulcio)
//! and BYO-PKI certificates, and the Rekor transparency log verified offline
//! from the signed entry timestamp each layer carries.
//!
//! For each subject (the resolved manifest, then the platform manifest when
//! platform signatures are accepted) the manifest tagged `sha256-<hex>.sig`
//! in the same repository is read. Each of its layers of media type
//! `application/vnd.dev.cosign.simplesigning.v1+json` is one signature (other
//! layers are skipped): the layer blob is the simple-signing payload
//! ([`payload`]), the annotation `dev.cosignproject.cosign/signature` its
//! base64 signature. One layer is checked as follows; one layer that passes
//! suffices, and at most `max_signatures` are tried.
//!
//! 1. Who signed: one of the applicable policy's keys ([`key`]) verifies the
//!    signature over the payload bytes; otherwise, for a policy with
//!    `keyless` settings, the public key of the layer's
//!    `dev.sigstore.cosign/certificate` does ([`keyless`]).
//! 2. When (`tlog_verify = true`, the default): the layer's
//!    `dev.sigstore.cosign/bundle` annotation is a Rekor SET that verifies
//!    with the policy's Rekor key for its log, and whose entry logs this
//!    signature, this key or certificate and this payload ([`rekor`]). Its
//!    integratedTime is the signing time. No bundle: denied. With
//!    `tlog_verify = false` the annotation is ignored, as cosign's
//!    `--insecure-ignore-tlog` ignores it.
//! 3. For a certificate: its chain to the policy's `fulcio_roots` at the
//!    signing time (the current time without a transparency log, as cosign
//!    checks BYO-PKI certificates), its extended key usage, its identity
//!    and OIDC issuer ([`keyless`]).
//! 4. What: the payload parses strictly and names the subject's digest.
//!
//! A policy's `trusted_root` gives this path its Rekor v1 keys and Fulcio
//! CAs (their validity windows are not applied here; they are for
//! bundles). Not verified on this path, and refused (fail closed) rather
//! than ignored: SCTs from CT log keys (`keyless.ctlog_keys`). RFC 3161 timestamps
//! (`dev.sigstore.cosign/rfc3161timestamp`) are not used: policies cannot
//! name timestamp authorities yet.
//!
//! Sigstore bundles (v0.1–v0.3, what cosign 3 attaches as OCI referrers)
//! are verified offline by [`verifier`] against a [`TrustedRoot`]
//! ([`trusted_root`]): [`bundle`] parses them, [`dsse`] reads envelopes and
//! in-toto statements, [`tlog`] checks Rekor v1 and v2 entries ([`merkle`]
//! inclusion proofs, [`checkpoint`] signed notes, SETs), [`rfc3161`]
//! timestamps, [`sct`] embedded SCTs. [`verify_image_bundle`] is the image
//! check; discovering bundles and choosing them per policy is the caller's.

pub mod bundle;
pub mod checkpoint;
pub mod dsse;
pub mod ed25519ph;
pub mod jcs;
pub(crate) mod json;
pub mod key;
pub mod keyless;
pub mod merkle;
pub mod payload;
pub mod rekor;
pub mod rfc3161;
pub(crate) mod schemes;
pub mod sct;
pub mod tlog;
pub mod trusted_root;
pub mod verifier;

pub use key::{CosignKey, verify_signature};
pub use keyless::{CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION, IdentityPolicy};
pub use payload::{MAX_PAYLOAD_BYTES, PayloadError, SimpleSigning};
pub use rekor::{BUNDLE_ANNOTATION, RekorKey};
pub use trusted_root::TrustedRoot;
pub use verifier::{
    Artifact, BundleKey, BundlePolicy, BundleTrust, VerifiedBundle, VerifiedSigner,
    verify_image_bundle,
};

use std::collections::BTreeMap;

use base64::Engine as _;
use pullgate_policy::cosign::{CosignPolicies, CosignPolicy, KeyHash};
use pullgate_registry::media_types as mt;
use pullgate_registry::{ArtifactSource, Descriptor, Digest, Repository};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::notary::Subject;
use crate::x509::Cert;
use keyless::{intermediates_from_annotation, leaf_from_annotation, verify_certificate};
use rekor::{SignedBy, VerifiedSet, verify_bundle};

/// The layer annotation holding the base64 signature.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// notation's default, used for Cosign too.
pub const DEFAULT_MAX_SIGNATURES: usize = 100;

/// The Cosign verifier's configuration.
#[derive(Debug, Clone)]
pub struct CosignVerifier {
    pub policies: CosignPolicies,
    /// The loaded keys of each policy, by policy name.
    pub keys: BTreeMap<String, Vec<CosignKey>>,
    /// The Rekor public keys of each policy (its `rekor_keys` provider), by
    /// policy name; used when the policy has `tlog_verify = true`.
    pub rekor_keys: BTreeMap<String, Vec<RekorKey>>,
    /// The trust anchors of each keyless policy (its `keyless.fulcio_roots`
    /// provider: roots, and any intermediates configured as anchors), by
    /// policy name.
    pub fulcio_roots: BTreeMap<String, Vec<Cert>>,
    /// Each policy's Sigstore bundle check (cosign 3's referrers), by
    /// policy name; a policy without one does not read bundles.
    pub bundles: BTreeMap<String, BundleCheck>,
    /// Signature layers and bundles tried per image at most (default 100).
    pub max_signatures: usize,
}

/// What a policy verifies Sigstore bundles with: its trusted root (the
/// `trusted_root` document, or the one its `rekor_keys` and
/// `keyless.fulcio_roots` make), its keys, and how much evidence it needs.
#[derive(Debug, Clone)]
pub struct BundleCheck {
    pub trust: BundleTrust,
    pub policy: BundlePolicy,
}

/// The largest bundle layer fetched from a registry.
pub const MAX_IMAGE_BUNDLE_BYTES: u64 = 1 << 20;
/// The largest bundle referrer manifest fetched.
const MAX_BUNDLE_MANIFEST_BYTES: u64 = 64 << 10;

/// The Cosign verifier's answer for one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CosignReport {
    /// No policy's scope covers the repository.
    NotCovered { reason: String },
    Verified {
        policy: String,
        /// The `.sig` manifest holding the signature that verified.
        signature: Digest,
        /// The manifest the signature is on (the resolved one, or the
        /// node's platform manifest of an index).
        subject: Digest,
        /// The key it verified with (its source).
        signer: String,
        warnings: Vec<String>,
    },
    Denied {
        policy: String,
        reason: String,
        /// The registry could not be reached: nothing was learnt.
        unreachable: bool,
    },
}

/// What one signature layer came to.
enum Layer {
    Verified {
        signer: String,
    },
    Failed(String),
    /// Reading it failed; deny at once (`true`: unreachable).
    Fetch(String, bool),
}

impl CosignVerifier {
    /// The policy that applies to `repo` (the most specific scope).
    pub fn applicable(&self, repo: &Repository) -> Option<&CosignPolicy> {
        self.policies.applicable(&repo.to_string())
    }

    /// Why no policy looks at `reference` (when [`Self::applicable`] has none).
    pub fn not_covered(&self, reference: &str, repo: &Repository) -> String {
        not_covered(reference, repo)
    }

    /// The verdict for `repo` at `subjects` (the resolved manifest first).
    /// `reference` is the image as reported in messages. `now` is the time
    /// certificates are checked at when a policy does without the
    /// transparency log.
    pub async fn verify(
        &self,
        source: &dyn ArtifactSource,
        repo: &Repository,
        reference: &str,
        subjects: &[Subject],
        now: OffsetDateTime,
    ) -> CosignReport {
        let Some(policy) = self.applicable(repo) else {
            return CosignReport::NotCovered {
                reason: not_covered(reference, repo),
            };
        };
        let name = policy.name.clone();
        let deny = |reason: String, unreachable: bool| CosignReport::Denied {
            policy: name.clone(),
            reason,
            unreachable,
        };
        // What the legacy path lacks does not stop the bundle path (a trusted
        // root with only Rekor v2 logs has no SET keys, say).
        let (trust, legacy_unusable) = match self.trust_for(policy) {
            Ok(t) => (Some(t), None),
            Err(why) if self.bundles.contains_key(&name) => (None, Some(why)),
            Err(why) => return deny(why, false),
        };
        let mut tried = 0usize;
        let mut failures: Vec<String> = Vec::new();
        let mut absent: Vec<String> = Vec::new();
        let mut not_signatures: Vec<String> = Vec::new();
        for subject in subjects.iter().filter(|_| trust.is_some()) {
            let digest = &subject.descriptor.digest;
            let tag = digest.cosign_signature_tag();
            let manifest = match source.cosign_signature_manifest(repo, digest).await {
                Ok(Some(m)) => m,
                Ok(None) => {
                    absent.push(tag);
                    continue;
                }
                Err(e) => {
                    return deny(
                        format!(
                            "could not read the Cosign signatures of {reference} (tag {tag}): {e}"
                        ),
                        e.is_unreachable(),
                    );
                }
            };
            let candidates: Vec<(usize, &Descriptor)> = manifest
                .parsed
                .layers
                .iter()
                .enumerate()
                .filter(|(_, l)| l.media_type == mt::COSIGN_SIMPLE_SIGNING)
                .collect();
            if candidates.is_empty() {
                not_signatures.push(format!(
                    "the {tag} manifest has {} layer(s), none of media type {}",
                    manifest.parsed.layers.len(),
                    mt::COSIGN_SIMPLE_SIGNING
                ));
            }
            for (index, layer) in candidates {
                if tried >= self.max_signatures {
                    return deny(
                        format!(
                            "Cosign signature evaluation stopped: the configured limit of {} signatures to verify per image was exceeded{}",
                            self.max_signatures,
                            summary(&failures)
                        ),
                        false,
                    );
                }
                tried += 1;
                let Some(trust) = &trust else { break };
                match self
                    .check_layer(
                        source,
                        repo,
                        (index, layer),
                        &subject.descriptor,
                        trust,
                        now,
                    )
                    .await
                {
                    Layer::Verified { signer } => {
                        return CosignReport::Verified {
                            policy: name,
                            signature: manifest.digest,
                            subject: digest.clone(),
                            signer,
                            warnings: Vec::new(),
                        };
                    }
                    Layer::Failed(why) => failures.push(why),
                    Layer::Fetch(why, unreachable) => return deny(why, unreachable),
                }
            }
        }
        match self
            .check_bundles(
                source,
                repo,
                reference,
                subjects,
                &name,
                now,
                &mut tried,
                &mut failures,
            )
            .await
        {
            Ok(Some((signature, subject, signer))) => {
                return CosignReport::Verified {
                    policy: name,
                    signature,
                    subject,
                    signer,
                    warnings: Vec::new(),
                };
            }
            Ok(None) => {}
            Err((why, unreachable)) => return deny(why, unreachable),
        }
        if tried == 0 {
            let mut why = Vec::new();
            why.extend(legacy_unusable);
            if !absent.is_empty() {
                why.push(format!("no {} tag", absent.join(" or ")));
            }
            why.extend(not_signatures);
            if self.bundles.contains_key(&name) {
                why.push("no Sigstore bundle among its referrers".to_string());
            }
            return deny(
                format!(
                    "no Cosign signature found for {reference} ({})",
                    why.join("; ")
                ),
                false,
            );
        }
        let legacy = legacy_unusable
            .map(|why| format!("; legacy .sig signatures were not read: {why}"))
            .unwrap_or_default();
        deny(
            format!(
                "Cosign signature verification failed for all the signatures of {reference}: {}{legacy}",
                summary(&failures).trim_start_matches(": ")
            ),
            false,
        )
    }

    /// Sigstore bundles attached to the subjects as OCI referrers (or
    /// through the `sha256-<hex>` tag index, which the registry client
    /// reads where the registry has no referrers API): the first that
    /// verifies for the subject's digest wins. `Err` denies at once (the
    /// registry failed; `true`: unreachable).
    #[allow(clippy::too_many_arguments)]
    async fn check_bundles(
        &self,
        source: &dyn ArtifactSource,
        repo: &Repository,
        reference: &str,
        subjects: &[Subject],
        policy: &str,
        now: OffsetDateTime,
        tried: &mut usize,
        failures: &mut Vec<String>,
    ) -> Result<Option<(Digest, Digest, String)>, (String, bool)> {
        let Some(check) = self.bundles.get(policy) else {
            return Ok(None);
        };
        for subject in subjects {
            let digest = &subject.descriptor.digest;
            let listed = source.referrers(repo, digest, None).await.map_err(|e| {
                (
                    format!(
                        "could not list the referrers of {reference} for Sigstore bundles: {e}"
                    ),
                    e.is_unreachable(),
                )
            })?;
            let bundles = listed.descriptors.iter().filter(|d| {
                d.artifact_type
                    .as_deref()
                    .is_some_and(|t| t.starts_with(mt::SIGSTORE_BUNDLE_PREFIX))
            });
            for d in bundles {
                if *tried >= self.max_signatures {
                    return Err((
                        format!(
                            "Cosign signature evaluation stopped: the configured limit of {} signatures to verify per image was exceeded{}",
                            self.max_signatures,
                            summary(failures)
                        ),
                        false,
                    ));
                }
                *tried += 1;
                if d.size > MAX_BUNDLE_MANIFEST_BYTES {
                    failures.push(format!(
                        "bundle referrer {} is {} bytes, more than the {MAX_BUNDLE_MANIFEST_BYTES} allowed",
                        d.digest, d.size
                    ));
                    continue;
                }
                let fetched = source.manifest_for(repo, d).await.map_err(|e| {
                    (
                        format!("could not read bundle referrer {}: {e}", d.digest),
                        e.is_unreachable(),
                    )
                })?;
                let pullgate_registry::Manifest::Image(manifest) = &fetched.parsed else {
                    failures.push(format!(
                        "bundle referrer {} is not an image manifest",
                        d.digest
                    ));
                    continue;
                };
                let Some(layer) = manifest
                    .layers
                    .iter()
                    .find(|l| l.media_type.starts_with(mt::SIGSTORE_BUNDLE_PREFIX))
                else {
                    failures.push(format!("bundle referrer {} has no bundle layer", d.digest));
                    continue;
                };
                if layer.size > MAX_IMAGE_BUNDLE_BYTES {
                    failures.push(format!(
                        "bundle {} is {} bytes, more than the {MAX_IMAGE_BUNDLE_BYTES} allowed",
                        layer.digest, layer.size
                    ));
                    continue;
                }
                let bytes = source
                    .blob(repo, layer, MAX_IMAGE_BUNDLE_BYTES)
                    .await
                    .map_err(|e| {
                        (
                            format!("could not read bundle {}: {e}", layer.digest),
                            e.is_unreachable(),
                        )
                    })?;
                match verify_image_bundle(&bytes, digest, &check.trust, &check.policy, now) {
                    Ok(v) => {
                        return Ok(Some((fetched.digest.clone(), digest.clone(), v.describe())));
                    }
                    Err(e) => failures.push(format!("bundle in {}: {e}", fetched.digest)),
                }
            }
        }
        Ok(None)
    }

    /// The trust material `policy` verifies with, or why it cannot verify
    /// anything (fail closed: a setting this build does not verify denies).
    fn trust_for<'a>(&'a self, policy: &'a CosignPolicy) -> Result<Trust<'a>, String> {
        let name = &policy.name;
        if policy
            .keyless
            .as_ref()
            .is_some_and(|k| k.ctlog_keys.is_some())
        {
            return Err(format!(
                "Cosign trust policy {name:?} requires SCT verification (keyless.ctlog_keys), which this build cannot verify yet"
            ));
        }
        let keys = self.keys.get(name).map(Vec::as_slice).unwrap_or_default();
        let keyless = match &policy.keyless {
            None => None,
            Some(k) => {
                let identity = IdentityPolicy::new(k)
                    .map_err(|e| format!("Cosign trust policy {name:?}: {e}"))?;
                let roots = match self.fulcio_roots.get(name) {
                    Some(r) if !r.is_empty() => r.as_slice(),
                    _ => {
                        return Err(format!(
                            "Cosign trust policy {name:?} has no Fulcio root certificate for keyless verification"
                        ));
                    }
                };
                Some(KeylessTrust { identity, roots })
            }
        };
        if keys.is_empty() && keyless.is_none() {
            return Err(format!(
                "Cosign trust policy {name:?} has no usable public key"
            ));
        }
        let rekor = if policy.tlog_verify {
            match self.rekor_keys.get(name) {
                Some(r) if !r.is_empty() => Some(r.as_slice()),
                _ => {
                    return Err(format!(
                        "Cosign trust policy {name:?} has tlog_verify = true and no usable Rekor public key"
                    ));
                }
            }
        } else {
            None
        };
        Ok(Trust {
            keys,
            rekor,
            keyless,
        })
    }

    /// One signature layer: who signed it, when (the transparency log),
    /// the certificate at that time, then the payload's digest against
    /// `subject`.
    async fn check_layer(
        &self,
        source: &dyn ArtifactSource,
        repo: &Repository,
        (index, layer): (usize, &Descriptor),
        subject: &Descriptor,
        trust: &Trust<'_>,
        now: OffsetDateTime,
    ) -> Layer {
        // layers of one payload share a digest: the position tells them apart
        let which = format!("signature layer {} ({})", index + 1, layer.digest);
        let Some(encoded) = layer.annotations.get(SIGNATURE_ANNOTATION) else {
            return Layer::Failed(format!("{which} has no {SIGNATURE_ANNOTATION} annotation"));
        };
        let signature = match decode_base64(encoded) {
            Ok(s) => s,
            Err(e) => {
                return Layer::Failed(format!(
                    "{which}: the {SIGNATURE_ANNOTATION} annotation is not base64: {e}"
                ));
            }
        };
        if layer.size > MAX_PAYLOAD_BYTES {
            return Layer::Failed(format!(
                "{which} is {} bytes, more than the {MAX_PAYLOAD_BYTES} a simple-signing payload may have",
                layer.size
            ));
        }
        let payload = match source.blob(repo, layer, MAX_PAYLOAD_BYTES).await {
            Ok(b) => b,
            Err(e) => {
                return Layer::Fetch(
                    format!("could not fetch Cosign {which}: {e}"),
                    e.is_unreachable(),
                );
            }
        };

        // 1. who signed
        let signer = match signer_of(layer, &payload, &signature, trust) {
            Ok(s) => s,
            Err(why) => return Layer::Failed(format!("{which}: {why}")),
        };
        let (signed_by, by) = match &signer {
            Signer::Key(k) => (SignedBy::Key(&k.key), format!(" (signed by {})", k.source)),
            Signer::Certificate { leaf, .. } => (SignedBy::Certificate(leaf), String::new()),
        };

        // 2. when: the transparency log
        let entry: Option<VerifiedSet> = match trust.rekor {
            None => None,
            Some(rekor_keys) => {
                let Some(bundle) = layer.annotations.get(BUNDLE_ANNOTATION) else {
                    return Layer::Failed(format!(
                        "{which}{by}: no transparency-log entry (bundle annotation) and tlog_verify is true"
                    ));
                };
                match verify_bundle(bundle, rekor_keys, &signature, signed_by, &payload) {
                    Ok(v) => Some(v),
                    Err(e) => return Layer::Failed(format!("{which}{by}: {e}")),
                }
            }
        };

        // 3. the certificate at that time
        let mut signer_name = match (&signer, &trust.keyless) {
            (Signer::Key(k), _) => k.source.clone(),
            (
                Signer::Certificate {
                    leaf,
                    intermediates,
                },
                Some(keyless),
            ) => {
                let at = entry.as_ref().map_or(now, |e| e.integrated_time);
                match verify_certificate(leaf, intermediates, keyless.roots, at, &keyless.identity)
                {
                    Ok(v) => v.describe(),
                    Err(e) => return Layer::Failed(format!("{which}: {e}")),
                }
            }
            (Signer::Certificate { .. }, None) => {
                return Layer::Failed(format!("{which}: no keyless settings for a certificate"));
            }
        };
        if let Some(e) = &entry {
            signer_name.push_str(&format!(
                ", Rekor log entry {} integrated at {}",
                e.log_index,
                e.integrated_time.format(&Rfc3339).unwrap_or_default()
            ));
        }

        // 4. what: the payload names the subject
        let parsed = match payload::parse(&payload) {
            Ok(p) => p,
            Err(e) => {
                return Layer::Failed(format!("{which} (signed by {signer_name}): {e}"));
            }
        };
        if parsed.manifest_digest != subject.digest {
            return Layer::Failed(format!(
                "{which} (signed by {signer_name}): payload names digest {}, not the image's {} (a signature copied from another image)",
                parsed.manifest_digest, subject.digest
            ));
        }
        Layer::Verified {
            signer: signer_name,
        }
    }
}

/// What one policy verifies with.
struct Trust<'a> {
    keys: &'a [CosignKey],
    /// The Rekor keys when the policy requires the transparency log.
    rekor: Option<&'a [RekorKey]>,
    keyless: Option<KeylessTrust<'a>>,
}

struct KeylessTrust<'a> {
    identity: IdentityPolicy,
    roots: &'a [Cert],
}

/// Who made a layer's signature, before any check of time or identity.
enum Signer<'a> {
    Key(&'a CosignKey),
    Certificate {
        leaf: Cert,
        intermediates: Vec<Cert>,
    },
}

/// The key of `trust` that verifies `signature` over `payload`, else (for
/// a keyless policy) the layer's certificate whose key does.
fn signer_of<'a>(
    layer: &Descriptor,
    payload: &[u8],
    signature: &[u8],
    trust: &Trust<'a>,
) -> Result<Signer<'a>, String> {
    let mut errors = Vec::new();
    if let Some(k) = trust.keys.iter().find(|k| {
        verify_signature(k, payload, signature)
            .map_err(|e| errors.push(e))
            .is_ok()
    }) {
        return Ok(Signer::Key(k));
    }
    let key_failure = match (errors.as_slice(), trust.keys.len()) {
        (_, 0) => None,
        ([one], _) => Some(one.clone()),
        (_, n) => Some(format!(
            "signature does not verify with any of the {n} keys of the policy ({})",
            trust
                .keys
                .iter()
                .map(|k| k.source.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    };
    let certificate = layer.annotations.get(CERTIFICATE_ANNOTATION);
    match (&trust.keyless, certificate, key_failure) {
        (None, _, failure) => Err(failure.unwrap_or_default()),
        (Some(_), None, None) => Err(format!(
            "no {CERTIFICATE_ANNOTATION} annotation: a keyless policy verifies signatures made with a certificate"
        )),
        (Some(_), None, Some(failure)) => Err(format!(
            "{failure}, and there is no {CERTIFICATE_ANNOTATION} annotation for keyless verification"
        )),
        (Some(_), Some(pem), failure) => {
            let prefix = failure
                .map(|f| format!("{f}; keyless: "))
                .unwrap_or_default();
            certificate_signer(layer, pem, payload, signature).map_err(|e| format!("{prefix}{e}"))
        }
    }
}

/// The layer's certificate (and chain intermediates), if its key verifies
/// the signature.
fn certificate_signer<'a>(
    layer: &Descriptor,
    pem: &str,
    payload: &[u8],
    signature: &[u8],
) -> Result<Signer<'a>, String> {
    let leaf = leaf_from_annotation(pem)?;
    let intermediates = match layer.annotations.get(CHAIN_ANNOTATION) {
        Some(chain) => intermediates_from_annotation(chain)?,
        None => Vec::new(),
    };
    let key = CosignKey::new(
        leaf.public_key().clone(),
        KeyHash::Sha256,
        "of the signing certificate",
    )
    .map_err(|e| format!("the {CERTIFICATE_ANNOTATION} certificate's key is not usable: {e}"))?;
    verify_signature(&key, payload, signature).map_err(|_| {
        format!(
            "signature does not verify with the public key of the {CERTIFICATE_ANNOTATION} certificate"
        )
    })?;
    Ok(Signer::Certificate {
        leaf,
        intermediates,
    })
}

/// ": <first failure> (and N more signature(s) failed)", or "".
fn summary(failures: &[String]) -> String {
    match failures {
        [] => String::new(),
        [one] => format!(": {one}"),
        [first, rest @ ..] => format!(": {first} (and {} more signature(s) failed)", rest.len()),
    }
}

/// Go's `base64.StdEncoding.DecodeString` (cosign's): padding required,
/// `\r` and `\n` skipped, trailing bits ignored.
pub(crate) fn decode_base64(s: &str) -> Result<Vec<u8>, String> {
    const GO_STD: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireCanonical),
    );
    let compact: String = s.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    GO_STD.decode(compact).map_err(|e| e.to_string())
}

fn not_covered(reference: &str, repo: &Repository) -> String {
    format!("{reference} is not covered by any Cosign trust policy (no scope matches {repo})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_as_go_decodes_it() {
        assert_eq!(decode_base64("aGk=").unwrap(), b"hi");
        assert_eq!(decode_base64("a\nG\r\nk=\n").unwrap(), b"hi");
        assert_eq!(
            decode_base64("aGl=").unwrap(),
            b"hi",
            "trailing bits ignored"
        );
        assert!(decode_base64("aGk").is_err(), "padding required");
        assert!(decode_base64("aG k=").is_err());
        assert!(decode_base64("aGk-").is_err());
        assert_eq!(decode_base64("").unwrap(), b"");
    }

    #[test]
    fn failures_are_summarised_with_their_count() {
        assert_eq!(summary(&[]), "");
        assert_eq!(summary(&["a".into()]), ": a");
        assert_eq!(
            summary(&["a".into(), "b".into(), "c".into()]),
            ": a (and 2 more signature(s) failed)"
        );
    }
}
