//! The Notary Project backend: finds an image's Notary signatures through
//! the registry and verifies them exactly as notation-go does (see
//! ../shared/research/notary.md and docs/notary-parity.md).

pub mod algorithm;
mod cbor;
mod cose;
pub mod envelope;
mod gocompat;
mod gojson;
mod jws;
mod pss;
pub mod revocation;
pub mod signature;
mod timestamp;
mod truststore;
mod tsa;
pub mod tsp;

pub use envelope::{EnvelopeContent, IntegrityError, SignerInfo, SigningScheme};
pub use gocompat::rfc1123z;
pub use revocation::{CertResult, NoRevocationData, RevocationChecker, RevocationContext, Status};
pub use signature::{Context, Failure, Outcome};
pub use truststore::{StoreError, TrustStores, load_store};

use std::sync::Arc;

use pullgate_policy::{TrustPolicyDocument, TrustPolicyStatement, no_applicable_policy_message};
use pullgate_registry::media_types as mt;
use pullgate_registry::{ArtifactSource, Descriptor, Manifest, Repository};
use time::OffsetDateTime;

/// Signature manifests are at most this large (notation-go's limit).
pub const MAX_SIGNATURE_MANIFEST_BYTES: u64 = 4 << 20;
/// Envelopes are at most this large (notation-go's limit).
pub const MAX_ENVELOPE_BYTES: u64 = 32 << 20;

/// The Notary verifier's configuration: the trust policy document, the
/// loaded trust stores, revocation, and how many signatures to try.
pub struct NotaryVerifier {
    pub policy: TrustPolicyDocument,
    pub stores: TrustStores,
    pub revocation: Arc<dyn RevocationChecker>,
    /// notation's `--max-signatures` (default 100).
    pub max_signatures: usize,
}

/// A subject whose signatures are looked for: the resolved manifest, or the
/// node's platform manifest when platform signatures are accepted.
#[derive(Debug, Clone)]
pub struct Subject {
    pub descriptor: Descriptor,
}

/// The Notary verifier's answer for one image.
#[derive(Debug, Clone)]
pub enum Report {
    /// No statement's scope covers the repository.
    NotCovered { reason: String },
    /// The applicable statement's level is `skip`.
    Skipped { policy: String },
    Verified {
        policy: String,
        signature: Box<Descriptor>,
        /// The manifest the signature is on (the resolved one, or the
        /// node's platform manifest of an index).
        subject: pullgate_registry::Digest,
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

impl NotaryVerifier {
    /// The statement that applies to `repo` (exact scope, else `*`).
    pub fn applicable(&self, repo: &Repository) -> Option<&TrustPolicyStatement> {
        self.policy.applicable(&repo.to_string())
    }

    /// notation-go's verdict for `repo` at `subjects` (the resolved manifest
    /// first). `reference` is the image as reported in messages.
    pub async fn verify(
        &self,
        source: &dyn ArtifactSource,
        repo: &Repository,
        reference: &str,
        subjects: &[Subject],
        now: OffsetDateTime,
    ) -> Report {
        let Some(policy) = self.applicable(repo) else {
            return Report::NotCovered {
                reason: no_applicable_policy_message(reference),
            };
        };
        let name = policy.name().to_string();
        if policy.level().is_skip() {
            return Report::Skipped { policy: name };
        }
        let deny = |reason: String| Report::Denied {
            policy: name.clone(),
            reason,
            unreachable: false,
        };
        let unreachable = |reason: String| Report::Denied {
            policy: name.clone(),
            reason,
            unreachable: true,
        };
        let mut processed = 0usize;
        let mut failures: Vec<String> = Vec::new();
        for subject in subjects {
            let listed = match source
                .referrers(repo, &subject.descriptor.digest, Some(mt::NOTARY_SIGNATURE))
                .await
            {
                Ok(r) => r.descriptors,
                Err(e) => {
                    let reason = format!("could not list the signatures of {reference}: {e}");
                    return if e.is_unreachable() {
                        unreachable(reason)
                    } else {
                        deny(reason)
                    };
                }
            };
            for sig_desc in listed {
                if processed >= self.max_signatures {
                    return deny(format!(
                        "signature evaluation stopped. The configured limit of {} signatures to verify per artifact exceeded",
                        self.max_signatures
                    ));
                }
                processed += 1;
                let (media_type, envelope) =
                    match self.fetch_signature(source, repo, &sig_desc).await {
                        Ok(x) => x,
                        Err((e, cut_off)) => {
                            let reason =
                                format!("could not fetch signature {}: {e}", sig_desc.digest);
                            return if cut_off {
                                unreachable(reason)
                            } else {
                                deny(reason)
                            };
                        }
                    };
                let ctx = Context {
                    policy,
                    stores: &self.stores,
                    revocation: self.revocation.as_ref(),
                    now,
                    target: &subject.descriptor,
                };
                let outcome = signature::verify(&media_type, &envelope, &ctx).await;
                if outcome.verified() {
                    return Report::Verified {
                        policy: name,
                        signer: outcome.signer().unwrap_or_default().to_string(),
                        warnings: outcome
                            .logged()
                            .filter_map(|r| {
                                r.error
                                    .as_ref()
                                    .map(|e| format!("{} validation failed (logged): {e}", r.kind))
                            })
                            .collect(),
                        signature: Box::new(sig_desc),
                        subject: subject.descriptor.digest.clone(),
                    };
                }
                failures.push(describe_failure(&outcome));
            }
        }
        if processed == 0 {
            return deny(format!(
                "no signature found: no signature is associated with {}, make sure the artifact was signed successfully",
                pullgate_policy::dn::go_quote(reference)
            ));
        }
        let first = failures.first().cloned().unwrap_or_default();
        let others = match failures.len() {
            1 => String::new(),
            n => format!(" (and {} more signature(s) failed)", n - 1),
        };
        deny(format!(
            "signature verification failed for all the signatures associated with {reference}: {first}{others}"
        ))
    }

    /// notation-go's signature fetch: an OCI image manifest with exactly one
    /// layer, whose blob is the envelope.
    async fn fetch_signature(
        &self,
        source: &dyn ArtifactSource,
        repo: &Repository,
        descriptor: &Descriptor,
    ) -> Result<(String, Vec<u8>), (String, bool)> {
        if descriptor.size > MAX_SIGNATURE_MANIFEST_BYTES {
            return Err((
                format!(
                    "signature manifest too large: {} bytes, the limit is {MAX_SIGNATURE_MANIFEST_BYTES}",
                    descriptor.size
                ),
                false,
            ));
        }
        let fetched = source
            .manifest_for(repo, descriptor)
            .await
            .map_err(|e| (e.to_string(), e.is_unreachable()))?;
        let Manifest::Image(manifest) = &fetched.parsed else {
            return Err((
                format!(
                    "signature manifest has media type {}, not an image manifest",
                    fetched.media_type
                ),
                false,
            ));
        };
        if fetched.media_type != mt::OCI_MANIFEST {
            return Err((
                format!("signature manifest has media type {}", fetched.media_type),
                false,
            ));
        }
        let [layer] = manifest.layers.as_slice() else {
            return Err((
                format!(
                    "signature manifest requires exactly one signature envelope blob, got {}",
                    manifest.layers.len()
                ),
                false,
            ));
        };
        if layer.size > MAX_ENVELOPE_BYTES {
            return Err((
                format!(
                    "signature envelope too large: {} bytes, the limit is {MAX_ENVELOPE_BYTES}",
                    layer.size
                ),
                false,
            ));
        }
        let bytes = source
            .blob(repo, layer, MAX_ENVELOPE_BYTES)
            .await
            .map_err(|e| (e.to_string(), e.is_unreachable()))?;
        Ok((layer.media_type.clone(), bytes.to_vec()))
    }
}

/// A person-readable account of one failed signature, naming the signer.
pub fn describe_failure(outcome: &Outcome) -> String {
    let failure = outcome
        .failure
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    match outcome.signer() {
        Some(signer) if !failure.contains(signer) => format!("{failure} (signed by {signer})"),
        _ => failure,
    }
}
