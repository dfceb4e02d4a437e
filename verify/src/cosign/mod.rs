//! The Cosign backend, milestone (a): legacy `.sig` signatures (cosign ≤ 2.x's
//! default, cosign 3 with `--new-bundle-format=false`) verified with public
//! keys and no transparency log, as `cosign verify --key K
//! --insecure-ignore-tlog` does.
//!
//! For each subject (the resolved manifest, then the platform manifest when
//! platform signatures are accepted) the manifest tagged `sha256-<hex>.sig`
//! in the same repository is read. Each of its layers of media type
//! `application/vnd.dev.cosign.simplesigning.v1+json` is one signature (other
//! layers are skipped): the layer blob is the simple-signing payload
//! ([`payload`]), the annotation `dev.cosignproject.cosign/signature` its
//! base64 signature. A signature counts when it verifies with one of the
//! applicable policy's keys ([`key`]) and its payload names the subject's
//! digest. One such signature suffices; at most `max_signatures` are tried.
//!
//! Other annotations (`dev.sigstore.cosign/bundle`, `…/certificate`,
//! `…/chain`, `…/rfc3161timestamp`) are ignored, as cosign ignores them with
//! `--insecure-ignore-tlog` and a key. Policies that ask for the
//! transparency log, keyless identities or a trusted root are denied here
//! (fail closed) until the later milestones verify them.

pub mod ed25519ph;
pub mod key;
pub mod payload;

pub use key::{CosignKey, verify_signature};
pub use payload::{MAX_PAYLOAD_BYTES, PayloadError, SimpleSigning};

use std::collections::BTreeMap;

use base64::Engine as _;
use pullgate_policy::cosign::{CosignPolicies, CosignPolicy};
use pullgate_registry::media_types as mt;
use pullgate_registry::{ArtifactSource, Descriptor, Digest, Repository};
use time::OffsetDateTime;

use crate::notary::Subject;

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
    /// Signature layers tried per image at most (default 100).
    pub max_signatures: usize,
}

/// The Cosign verifier's answer for one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CosignReport {
    /// No policy's scope covers the repository.
    NotCovered { reason: String },
    Verified {
        policy: String,
        /// The `.sig` manifest holding the signature that verified.
        signature: Digest,
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

    /// The verdict for `repo` at `subjects` (the resolved manifest first).
    /// `reference` is the image as reported in messages. `now` is unused:
    /// key-signed signatures without a transparency log have no time.
    pub async fn verify(
        &self,
        source: &dyn ArtifactSource,
        repo: &Repository,
        reference: &str,
        subjects: &[Subject],
        _now: OffsetDateTime,
    ) -> CosignReport {
        let Some(policy) = self.applicable(repo) else {
            return CosignReport::NotCovered {
                reason: format!(
                    "{reference} is not covered by any Cosign trust policy (no scope matches {repo})"
                ),
            };
        };
        let name = policy.name.clone();
        let deny = |reason: String, unreachable: bool| CosignReport::Denied {
            policy: name.clone(),
            reason,
            unreachable,
        };
        if let Some(missing) = unsupported(policy) {
            return deny(
                format!(
                    "Cosign trust policy {name:?} requires {missing}, which this build cannot verify yet: \
                     it verifies key-signed signatures without a transparency log only (tlog_verify = false, no keyless, no trusted_root)"
                ),
                false,
            );
        }
        let keys = match self.keys.get(&name) {
            Some(k) if !k.is_empty() => k.as_slice(),
            _ => {
                return deny(
                    format!("Cosign trust policy {name:?} has no usable public key"),
                    false,
                );
            }
        };
        let mut tried = 0usize;
        let mut failures: Vec<String> = Vec::new();
        let mut absent: Vec<String> = Vec::new();
        let mut not_signatures: Vec<String> = Vec::new();
        for subject in subjects {
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
                match self
                    .check_layer(source, repo, (index, layer), &subject.descriptor, keys)
                    .await
                {
                    Layer::Verified { signer } => {
                        return CosignReport::Verified {
                            policy: name,
                            signature: manifest.digest,
                            signer,
                            warnings: Vec::new(),
                        };
                    }
                    Layer::Failed(why) => failures.push(why),
                    Layer::Fetch(why, unreachable) => return deny(why, unreachable),
                }
            }
        }
        if tried == 0 {
            let mut why = Vec::new();
            if !absent.is_empty() {
                why.push(format!("no {} tag", absent.join(" or ")));
            }
            why.extend(not_signatures);
            return deny(
                format!(
                    "no Cosign signature found for {reference} ({})",
                    why.join("; ")
                ),
                false,
            );
        }
        deny(
            format!(
                "Cosign signature verification failed for all the signatures of {reference}: {}",
                summary(&failures).trim_start_matches(": ")
            ),
            false,
        )
    }

    /// One signature layer: annotation, payload, signature by one of `keys`,
    /// then the payload's digest against `subject`.
    async fn check_layer(
        &self,
        source: &dyn ArtifactSource,
        repo: &Repository,
        (index, layer): (usize, &Descriptor),
        subject: &Descriptor,
        keys: &[CosignKey],
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
        let mut errors = Vec::new();
        let Some(signer) = keys.iter().find(|k| {
            verify_signature(k, &payload, &signature)
                .map_err(|e| errors.push(e))
                .is_ok()
        }) else {
            return Layer::Failed(match errors.as_slice() {
                [one] => format!("{which}: {one}"),
                _ => format!(
                    "{which}: signature does not verify with any of the {} keys of the policy ({})",
                    keys.len(),
                    keys.iter()
                        .map(|k| k.source.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        };
        let parsed = match payload::parse(&payload) {
            Ok(p) => p,
            Err(e) => {
                return Layer::Failed(format!("{which} (signed by {}): {e}", signer.source));
            }
        };
        if parsed.manifest_digest != subject.digest {
            return Layer::Failed(format!(
                "{which} (signed by {}): payload names digest {}, not the image's {} (a signature copied from another image)",
                signer.source, parsed.manifest_digest, subject.digest
            ));
        }
        Layer::Verified {
            signer: signer.source.clone(),
        }
    }
}

/// What a policy asks for that milestone (a) does not verify.
fn unsupported(policy: &CosignPolicy) -> Option<&'static str> {
    if policy.keyless.is_some() {
        Some("keyless (Fulcio) verification")
    } else if policy.trusted_root.is_some() {
        Some("a Sigstore trusted root")
    } else if policy.tlog_verify {
        Some("a transparency-log entry (tlog_verify = true)")
    } else {
        None
    }
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
fn decode_base64(s: &str) -> Result<Vec<u8>, String> {
    const GO_STD: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireCanonical),
    );
    let compact: String = s.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    GO_STD.decode(compact).map_err(|e| e.to_string())
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
