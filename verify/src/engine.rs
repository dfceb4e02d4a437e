//! The engine: one image reference in, one [`Verdict`] out, the same for
//! every enforcement point. It resolves the reference, picks the subjects
//! whose signatures count, asks each configured verifier, and combines
//! their reports as `require` says.

use std::sync::Arc;

use pullgate_policy::no_applicable_policy_message;
use pullgate_registry::{ArtifactSource, Digest, Fetched, ImageRef, Manifest, Platform};

use crate::clock::Clock;
use crate::cosign::{CosignReport, CosignVerifier};
use crate::decision::{
    Decision, Denial, Evidence, Mode, Require, Verdict, VerifiedImage, VerifierReport,
};
use crate::generation::Generation;
use crate::node::{NodePolicy, PodContext};
use crate::notary::{NotaryVerifier, Report, Subject};

/// What the engine needs, built once from the configuration.
pub struct EngineConfig {
    pub mode: Mode,
    pub require: Require,
    pub notation: Option<NotaryVerifier>,
    pub cosign: Option<CosignVerifier>,
    /// Count signatures on the node's platform manifest of a multi-arch image.
    pub accept_platform_signatures: bool,
    pub platform: Platform,
    /// The node's pass-through lists (empty where there is no `[cri]`).
    pub node: NodePolicy,
}

pub struct Engine {
    config: EngineConfig,
    clock: Arc<dyn Clock>,
    generation: Generation,
}

/// An image reference resolved to its manifest.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The reference as given.
    pub image: String,
    pub reference: ImageRef,
    pub manifest: Fetched<Manifest>,
}

/// One verifier's conclusion, with what an allow rests on.
struct Part {
    report: VerifierReport,
    evidence: Option<Evidence>,
    /// Denied because the registry could not be reached.
    unreachable: bool,
}

impl Engine {
    pub fn new(config: EngineConfig, clock: Arc<dyn Clock>) -> Engine {
        let generation = Generation::of(&config);
        Engine {
            config,
            clock,
            generation,
        }
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The hash of everything this engine's verdicts depend on.
    pub fn generation(&self) -> &Generation {
        &self.generation
    }

    pub fn mode(&self) -> Mode {
        self.config.mode
    }

    /// The node's pass-through for `image` pulled for `pod`, if one applies
    /// (exempt namespace, allowed digest, break-glass), as a verdict.
    /// `resolved` is the digest the reference resolved to, when known.
    pub fn pass_through(
        &self,
        pod: &PodContext,
        image: &ImageRef,
        resolved: Option<&Digest>,
    ) -> Option<Verdict> {
        let decision = self.config.node.pass_through(pod, image, resolved)?;
        Some(self.pass_verdict(image, resolved, decision))
    }

    /// The pass-through for an image already on the node, asked about
    /// without a pod (allowed digest or break-glass).
    pub fn pass_through_present(&self, image: &ImageRef, digest: &Digest) -> Option<Verdict> {
        let decision = self.config.node.allows_present(image, digest)?;
        Some(self.pass_verdict(image, Some(digest), decision))
    }

    fn pass_verdict(
        &self,
        image: &ImageRef,
        resolved: Option<&Digest>,
        decision: Decision,
    ) -> Verdict {
        let warnings = match &decision {
            Decision::BreakGlass(a) => vec![format!(
                "break-glass: {image} allowed without verification by entry {:?}",
                a.entry()
            )],
            _ => Vec::new(),
        };
        Verdict {
            image: image.to_string(),
            digest: resolved.or(image.digest()).cloned(),
            mode: self.config.mode,
            decision,
            verifiers: Vec::new(),
            warnings,
        }
    }

    /// Verifies `image` (a reference as the user or the kubelet wrote it)
    /// reading through `source`.
    pub async fn verify(&self, source: &dyn ArtifactSource, image: &str) -> Verdict {
        match self.resolve(source, image).await {
            Ok(resolved) => self.verify_resolved(source, &resolved).await,
            Err(verdict) => *verdict,
        }
    }

    /// The verdict for an image that could not be looked at for a reason
    /// outside the engine (malformed request, credentials): a denial, or in
    /// audit mode what audit makes of one. It never allows.
    pub fn cannot_verify(&self, image: &str, reason: String) -> Verdict {
        self.fail(image, reason)
    }

    /// Parses and resolves `image`; an image that cannot be resolved gets
    /// its final verdict here (denied, or allowed by a skip-level policy).
    pub async fn resolve(
        &self,
        source: &dyn ArtifactSource,
        image: &str,
    ) -> Result<Resolved, Box<Verdict>> {
        let reference: ImageRef = image.parse().map_err(|e| {
            Box::new(self.fail(image, format!("invalid image reference {image:?}: {e}")))
        })?;
        // Scopes are matched as written; a host spelled in capitals (DNS
        // does not care) would slip past a scope written in lowercase.
        let registry = reference.repository().registry();
        if registry.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(Box::new(self.fail(
                image,
                format!(
                    "image reference {image:?} spells its registry host with capitals: write {:?} so that trust policy scopes apply",
                    registry.to_ascii_lowercase()
                ),
            )));
        }
        match source.resolve(&reference).await {
            Ok(manifest) => Ok(Resolved {
                image: image.to_string(),
                reference,
                manifest,
            }),
            Err(e) => {
                let reason = format!("could not resolve {image}: {e}");
                Err(Box::new(
                    self.skipped_without_digest(image, &reference, &reason)
                        .unwrap_or_else(|| {
                            let denial = if e.is_unreachable() {
                                Denial::unreachable(reason)
                            } else {
                                Denial::new(reason)
                            };
                            self.fail_with(image, Some(&reference), None, denial)
                        }),
                ))
            }
        }
    }

    /// Verifies an image already resolved (the verdict is about its digest).
    pub async fn verify_resolved(
        &self,
        source: &dyn ArtifactSource,
        resolved: &Resolved,
    ) -> Verdict {
        let repo = resolved.reference.repository();
        let digest = resolved.manifest.digest.clone();
        let mut subjects = vec![Subject {
            descriptor: resolved.manifest.descriptor(),
        }];
        if let (true, Manifest::Index(index)) = (
            self.config.accept_platform_signatures,
            &resolved.manifest.parsed,
        ) && let Some(d) = index.manifest_for(&self.config.platform)
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
        if let Some(cosign) = &self.config.cosign {
            let report = cosign.verify(source, repo, &pinned, &subjects, now).await;
            parts.push(cosign_part(report));
        }
        self.combine(&resolved.image, repo.clone(), Some(digest), parts)
    }

    /// A reference that cannot be resolved is still allowed when every
    /// covering policy skips verification, as notation skips before resolving.
    /// `why` is why it could not be resolved, the Cosign verifier's reason.
    fn skipped_without_digest(
        &self,
        image: &str,
        reference: &ImageRef,
        why: &str,
    ) -> Option<Verdict> {
        let notation = self.config.notation.as_ref()?;
        // With `all`, a configured Cosign verifier needs the digest too.
        if self.config.require == Require::All && self.config.cosign.is_some() {
            return None;
        }
        let policy = notation.applicable(reference.repository())?;
        if !policy.level().is_skip() {
            return None;
        }
        let mut parts = vec![notary_part(Report::Skipped {
            policy: policy.name().to_string(),
        })];
        // Every configured verifier appears in the verdict.
        if self.config.cosign.is_some() {
            parts.extend(
                self.unexamined(image, Some(reference), why)
                    .into_iter()
                    .filter(|r| r.name == "cosign")
                    .map(|report| Part {
                        report,
                        evidence: None,
                        unreachable: false,
                    }),
            );
        }
        Some(self.combine(image, reference.repository().clone(), None, parts))
    }

    /// Reports for verifiers that never looked at `image` (it has no
    /// digest): each says whether one of its policies covers the image, and
    /// `why` when one does.
    fn unexamined(
        &self,
        image: &str,
        reference: Option<&ImageRef>,
        why: &str,
    ) -> Vec<VerifierReport> {
        let report = |name, not_covered: Option<String>| match not_covered {
            None => VerifierReport {
                name,
                covered: true,
                allowed: false,
                reason: why.to_string(),
            },
            Some(reason) => VerifierReport {
                name,
                covered: false,
                allowed: false,
                reason,
            },
        };
        let mut out = Vec::new();
        if let Some(n) = &self.config.notation {
            let gap = match reference {
                Some(r) if n.applicable(r.repository()).is_some() => None,
                Some(_) => Some(no_applicable_policy_message(image)),
                None => Some(why.to_string()),
            };
            out.push(report("notation", gap));
        }
        if let Some(c) = &self.config.cosign {
            let gap = match reference {
                Some(r) if c.applicable(r.repository()).is_some() => None,
                Some(r) => Some(c.not_covered(image, r.repository())),
                None => Some(why.to_string()),
            };
            out.push(report("cosign", gap));
        }
        out
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
            // Whether the allowance rests on a signature on the node's
            // platform manifest rather than on the image itself
            // (`accept_platform_signatures`): then it holds for this
            // platform only.
            let on_image = |p: &&Part| match &p.evidence {
                Some(Evidence::NotarySkipped { .. }) => true,
                Some(
                    Evidence::NotarySignature { subject, .. }
                    | Evidence::CosignSignature { subject, .. },
                ) => Some(subject) == digest.as_ref(),
                None => false,
            };
            let mut allowing = parts.iter().filter(|p| p.report.allowed);
            let platform_only = match self.config.require {
                Require::Any => !allowing.any(|p| on_image(&p)),
                Require::All => !allowing.all(|p| on_image(&p)),
            };
            Decision::Verified(VerifiedImage::new(
                repo,
                digest.clone(),
                evidence,
                platform_only,
            ))
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
            // "Unreachable" (a re-check keeps an earlier verdict) only when
            // reaching the registry could have changed the outcome: with
            // `any`, one covered verifier could not look; with `all`, every
            // denying verifier could not look (a definite denial decides).
            let denying = || parts.iter().filter(|p| !p.report.allowed);
            let unreachable = match self.config.require {
                Require::Any => denying().any(|p| p.unreachable && p.report.covered),
                Require::All => denying().next().is_some() && denying().all(|p| p.unreachable),
            };
            self.deny(if unreachable {
                Denial::unreachable(reason)
            } else {
                Denial::new(reason)
            })
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
    fn fail(&self, image: &str, reason: String) -> Verdict {
        let reference = image.parse::<ImageRef>().ok();
        self.fail_with(image, reference.as_ref(), None, Denial::new(reason))
    }

    fn fail_with(
        &self,
        image: &str,
        reference: Option<&ImageRef>,
        digest: Option<Digest>,
        denial: Denial,
    ) -> Verdict {
        let verifiers = self.unexamined(image, reference, denial.reason());
        Verdict {
            image: image.to_string(),
            digest,
            mode: self.config.mode,
            decision: self.deny(denial),
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
            subject,
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
                    subject,
                    signer,
                }),
            )
        }
        Report::Denied {
            reason,
            unreachable,
            ..
        } => {
            return Part {
                report: VerifierReport {
                    name: "notation",
                    covered: true,
                    allowed: false,
                    reason,
                },
                evidence: None,
                unreachable,
            };
        }
    };
    Part {
        report: VerifierReport {
            name: "notation",
            covered,
            allowed,
            reason,
        },
        evidence,
        unreachable: false,
    }
}

fn cosign_part(report: CosignReport) -> Part {
    let report_of = |covered: bool, allowed: bool, reason: String| VerifierReport {
        name: "cosign",
        covered,
        allowed,
        reason,
    };
    match report {
        CosignReport::NotCovered { reason } => Part {
            report: report_of(false, false, reason),
            evidence: None,
            unreachable: false,
        },
        CosignReport::Verified {
            policy,
            signature,
            subject,
            signer,
            warnings,
        } => {
            let mut reason = format!(
                "Cosign signature in {signature} verified with {signer} under trust policy {policy:?}"
            );
            for w in &warnings {
                reason.push_str(&format!("; {w}"));
            }
            Part {
                report: report_of(true, true, reason),
                evidence: Some(Evidence::CosignSignature {
                    policy,
                    signature,
                    subject,
                    signer,
                }),
                unreachable: false,
            }
        }
        CosignReport::Denied {
            reason,
            unreachable,
            ..
        } => Part {
            report: report_of(true, false, reason),
            evidence: None,
            unreachable,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;

    fn engine(require: Require) -> Engine {
        Engine::new(
            EngineConfig {
                mode: Mode::Enforce,
                require,
                notation: None,
                cosign: None,
                accept_platform_signatures: false,
                platform: Platform::current(),
                node: NodePolicy::default(),
            },
            Arc::new(FixedClock(time::OffsetDateTime::UNIX_EPOCH)),
        )
    }

    fn part(name: &'static str, covered: bool, allowed: bool, unreachable: bool) -> Part {
        Part {
            report: VerifierReport {
                name,
                covered,
                allowed,
                reason: format!("{name} says so"),
            },
            evidence: None,
            unreachable,
        }
    }

    fn unreachable(require: Require, parts: Vec<Part>) -> bool {
        let repo = "example.com/app:v1"
            .parse::<ImageRef>()
            .unwrap()
            .repository()
            .clone();
        match engine(require)
            .combine("example.com/app:v1", repo, None, parts)
            .decision
        {
            Decision::Denied(d) => d.is_unreachable(),
            other => panic!("{other:?}"),
        }
    }

    /// A re-check keeps an earlier verdict only when reaching the registry
    /// could have changed the outcome.
    #[test]
    fn a_definite_denial_is_not_masked_by_an_unreachable_verifier() {
        let definite = || part("notation", true, false, false);
        let offline = || part("cosign", true, false, true);
        // all: a definite denial decides, whatever the other could not see.
        assert!(!unreachable(Require::All, vec![definite(), offline()]));
        assert!(!unreachable(
            Require::All,
            vec![part("notation", false, false, false), offline()]
        ));
        assert!(unreachable(
            Require::All,
            vec![part("notation", true, true, false), offline()]
        ));
        // any: the verifier that could not look might have allowed.
        assert!(unreachable(Require::Any, vec![definite(), offline()]));
        assert!(!unreachable(Require::Any, vec![definite()]));
    }
}
