//! The engine: one image reference in, one [`Verdict`] out, the same for
//! every enforcement point. It resolves the reference, picks the subjects
//! whose signatures count, asks each configured verifier, and combines
//! their reports as `require` says.

use std::sync::Arc;

use pullgate_registry::{ArtifactSource, ImageRef, Manifest, Platform};

use crate::clock::Clock;
use crate::decision::{
    Decision, Denial, Evidence, Mode, Require, Verdict, VerifiedImage, VerifierReport,
};
use crate::notary::{NotaryVerifier, Report, Subject};

/// What the engine needs, built once from the configuration.
pub struct EngineConfig {
    pub mode: Mode,
    pub require: Require,
    pub notation: Option<NotaryVerifier>,
    /// Count signatures on the node's platform manifest of a multi-arch image.
    pub accept_platform_signatures: bool,
    pub platform: Platform,
}

pub struct Engine {
    config: EngineConfig,
    clock: Arc<dyn Clock>,
}

/// One verifier's conclusion, with what an allow rests on.
struct Part {
    report: VerifierReport,
    evidence: Option<Evidence>,
}

impl Engine {
    pub fn new(config: EngineConfig, clock: Arc<dyn Clock>) -> Engine {
        Engine { config, clock }
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Verifies `image` (a reference as the user or the kubelet wrote it)
    /// reading through `source`.
    pub async fn verify(&self, source: &dyn ArtifactSource, image: &str) -> Verdict {
        let reference: ImageRef = match image.parse() {
            Ok(r) => r,
            Err(e) => {
                return self.fail(
                    image,
                    None,
                    format!("invalid image reference {image:?}: {e}"),
                );
            }
        };
        let repo = reference.repository();
        let resolved = match source.resolve(&reference).await {
            Ok(r) => r,
            Err(e) => {
                if let Some(v) = self.skipped_without_digest(image, &reference) {
                    return v;
                }
                return self.fail(image, None, format!("could not resolve {image}: {e}"));
            }
        };
        let digest = resolved.digest.clone();
        let mut subjects = vec![Subject {
            descriptor: resolved.descriptor(),
        }];
        if let (true, Manifest::Index(index)) =
            (self.config.accept_platform_signatures, &resolved.parsed)
            && let Some(d) = index.manifest_for(&self.config.platform)
        {
            subjects.push(Subject {
                descriptor: d.clone(),
            });
        }
        let pinned = format!("{repo}@{digest}");
        let now = self.clock.now();
        let mut parts = Vec::new();
        if let Some(notation) = &self.config.notation {
            let report = notation.verify(source, repo, &pinned, &subjects, now).await;
            parts.push(notary_part(report));
        }
        self.combine(image, repo.clone(), Some(digest), parts)
    }

    /// A reference that cannot be resolved is still allowed when every
    /// covering policy skips verification, as notation skips before resolving.
    fn skipped_without_digest(&self, image: &str, reference: &ImageRef) -> Option<Verdict> {
        let notation = self.config.notation.as_ref()?;
        let policy = notation.applicable(reference.repository())?;
        if !policy.level().is_skip() {
            return None;
        }
        let part = notary_part(Report::Skipped {
            policy: policy.name().to_string(),
        });
        Some(self.combine(image, reference.repository().clone(), None, vec![part]))
    }

    fn combine(
        &self,
        image: &str,
        repo: pullgate_registry::Repository,
        digest: Option<pullgate_registry::Digest>,
        parts: Vec<Part>,
    ) -> Verdict {
        let covered: Vec<&Part> = parts.iter().filter(|p| p.report.covered).collect();
        let allowed = match self.config.require {
            Require::Any => covered.iter().any(|p| p.report.allowed),
            Require::All => !parts.is_empty() && parts.iter().all(|p| p.report.allowed),
        };
        let decision = if allowed {
            let evidence = parts
                .iter()
                .filter(|p| p.report.allowed)
                .filter_map(|p| p.evidence.clone())
                .collect();
            Decision::Verified(VerifiedImage::new(repo, digest.clone(), evidence))
        } else {
            let reason = if parts.is_empty() {
                "no verifier is configured".to_string()
            } else if covered.is_empty() {
                let why: Vec<&str> = parts.iter().map(|p| p.report.reason.as_str()).collect();
                format!(
                    "image is not covered by any trust policy: {}",
                    why.join("; ")
                )
            } else {
                parts
                    .iter()
                    .filter(|p| {
                        !p.report.allowed
                            && (p.report.covered || self.config.require == Require::All)
                    })
                    .map(|p| p.report.reason.clone())
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            self.deny(Denial::new(reason))
        };
        Verdict {
            image: image.to_string(),
            digest,
            mode: self.config.mode,
            decision,
            verifiers: parts.into_iter().map(|p| p.report).collect(),
            warnings: Vec::new(),
        }
    }

    fn deny(&self, denial: Denial) -> Decision {
        match self.config.mode {
            Mode::Enforce => Decision::Denied(denial),
            Mode::Audit => Decision::Audited { would_deny: denial },
        }
    }

    /// A verdict for an image no verifier could look at.
    fn fail(
        &self,
        image: &str,
        digest: Option<pullgate_registry::Digest>,
        reason: String,
    ) -> Verdict {
        let verifiers = self
            .config
            .notation
            .iter()
            .map(|_| VerifierReport {
                name: "notation",
                covered: false,
                allowed: false,
                reason: reason.clone(),
            })
            .collect();
        Verdict {
            image: image.to_string(),
            digest,
            mode: self.config.mode,
            decision: self.deny(Denial::new(reason)),
            verifiers,
            warnings: Vec::new(),
        }
    }
}

fn notary_part(report: Report) -> Part {
    let (covered, allowed, reason, evidence) = match report {
        Report::NotCovered { reason } => (false, false, reason, None),
        Report::Skipped { policy } => (
            true,
            true,
            format!("trust policy {policy:?} skips signature verification"),
            Some(Evidence::NotarySkipped { policy }),
        ),
        Report::Verified {
            policy,
            signature,
            signer,
            warnings,
        } => {
            let mut reason = format!(
                "signature {} by {signer} verified under trust policy {policy:?}",
                signature.digest
            );
            for w in &warnings {
                reason.push_str(&format!("; {w}"));
            }
            (
                true,
                true,
                reason,
                Some(Evidence::NotarySignature {
                    policy,
                    signature: signature.digest,
                    signer,
                }),
            )
        }
        Report::Denied { reason, .. } => (true, false, reason, None),
    };
    Part {
        report: VerifierReport {
            name: "notation",
            covered,
            allowed,
            reason,
        },
        evidence,
    }
}
