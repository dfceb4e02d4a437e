//! The verdict model shared by every enforcement point. A [`Decision`] is
//! built only by this crate's engine: an enforcement point can act on a
//! [`VerifiedImage`] but cannot make one, so a pass-through is never a
//! forged "verified" (the model is rustls' `ServerCertVerified`).

use pullgate_registry::{Digest, Repository};
use serde_json::{Value, json};

/// Enforce (deny) or audit (let through, report what would be denied).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Enforce,
    Audit,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Audit => "audit",
        }
    }
}

/// How several verifiers combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Require {
    /// One verifier allowing is enough; uncovered verifiers take no part.
    Any,
    /// Every configured verifier must allow; an uncovered one denies.
    All,
}

/// What one verifier concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierReport {
    pub name: &'static str,
    pub covered: bool,
    pub allowed: bool,
    pub reason: String,
}

/// What a verifier that allowed saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    /// A Notary Project signature verified under `policy`.
    NotarySignature {
        policy: String,
        signature: Digest,
        /// The manifest it signs.
        subject: Digest,
        signer: String,
    },
    /// The Notary trust policy's level is `skip` for this repository.
    NotarySkipped { policy: String },
    /// A Cosign signature (in the `.sig` manifest `signature`) verified with
    /// `signer` under `policy`.
    CosignSignature {
        policy: String,
        signature: Digest,
        /// The manifest it signs.
        subject: Digest,
        signer: String,
    },
}

/// An image the engine verified: only this crate constructs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedImage {
    repository: Repository,
    digest: Option<Digest>,
    evidence: Vec<Evidence>,
    platform_only: bool,
}

impl VerifiedImage {
    pub(crate) fn new(
        repository: Repository,
        digest: Option<Digest>,
        evidence: Vec<Evidence>,
        platform_only: bool,
    ) -> VerifiedImage {
        VerifiedImage {
            repository,
            digest,
            evidence,
            platform_only,
        }
    }

    pub fn repository(&self) -> &Repository {
        &self.repository
    }

    /// The digest verified (absent only when a skip-level policy allowed an
    /// image that could not be resolved).
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// Whether it was allowed on a signature of the node's platform
    /// manifest only (`accept_platform_signatures`), not of the image the
    /// reference names: it then holds for this node's platform and no other.
    pub fn platform_only(&self) -> bool {
        self.platform_only
    }

    pub fn evidence(&self) -> &[Evidence] {
        &self.evidence
    }
}

/// Why an image is not allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    reason: String,
    unreachable: bool,
}

impl Denial {
    pub(crate) fn new(reason: String) -> Denial {
        Denial {
            reason,
            unreachable: false,
        }
    }

    /// A denial because the registry could not be reached: nothing was
    /// learnt about the image. A background re-check that ends so keeps the
    /// earlier verdict.
    pub(crate) fn unreachable(reason: String) -> Denial {
        Denial {
            reason,
            unreachable: true,
        }
    }

    pub fn reason(&self) -> &str {
        &self.reason
    }

    pub fn is_unreachable(&self) -> bool {
        self.unreachable
    }
}

/// A namespace in `exempt_namespaces`: its pods' images are not checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exemption {
    namespace: String,
}

impl Exemption {
    pub(crate) fn new(namespace: String) -> Exemption {
        Exemption { namespace }
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }
}

/// An image let through by a configured list (`allow_digests` or
/// `break_glass`) without verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowance {
    entry: String,
}

impl Allowance {
    pub(crate) fn new(entry: String) -> Allowance {
        Allowance { entry }
    }

    /// The configured entry that matched.
    pub fn entry(&self) -> &str {
        &self.entry
    }
}

/// The one decision type enforcement points act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Verified(VerifiedImage),
    Denied(Denial),
    /// Audit mode let through an image enforce mode would deny.
    Audited {
        would_deny: Denial,
    },
    /// The pod's namespace is exempt.
    Exempt(Exemption),
    /// The digest is in `allow_digests` (infrastructure images).
    AllowedDigest(Allowance),
    /// A `break_glass` entry let the image through, with a warning.
    BreakGlass(Allowance),
}

impl Decision {
    /// The metric label of this kind of decision.
    pub fn kind(&self) -> &'static str {
        match self {
            Decision::Verified(_) => "verified",
            Decision::Denied(_) => "denied",
            Decision::Audited { .. } => "audited",
            Decision::Exempt(_) => "exempt",
            Decision::AllowedDigest(_) => "allowed_digest",
            Decision::BreakGlass(_) => "break_glass",
        }
    }
}

/// A decision about one image reference, with each verifier's report.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub image: String,
    pub digest: Option<Digest>,
    pub mode: Mode,
    pub decision: Decision,
    pub verifiers: Vec<VerifierReport>,
    pub warnings: Vec<String>,
}

impl Verdict {
    /// A verdict for an image no verifier got to look at.
    pub(crate) fn denied(image: &str, mode: Mode, denial: Denial) -> Verdict {
        let decision = match mode {
            Mode::Enforce => Decision::Denied(denial),
            Mode::Audit => Decision::Audited { would_deny: denial },
        };
        Verdict {
            image: image.to_string(),
            digest: None,
            mode,
            decision,
            verifiers: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// The verdict enforce mode reaches (also reported in audit mode).
    pub fn allowed(&self) -> bool {
        matches!(self.decision, Decision::Verified(_))
    }

    /// Whether the image may run: verified, or let through by audit mode.
    pub fn admitted(&self) -> bool {
        !matches!(self.decision, Decision::Denied(_))
    }

    /// A sentence for a person.
    pub fn reason(&self) -> String {
        match &self.decision {
            Decision::Verified(v) => v
                .evidence
                .iter()
                .map(|e| match e {
                    Evidence::NotarySignature { policy, signer, .. } => {
                        format!(
                            "signed by {signer}, verified by Notary Project trust policy {policy:?}"
                        )
                    }
                    Evidence::NotarySkipped { policy } => {
                        format!(
                            "Notary Project trust policy {policy:?} skips signature verification"
                        )
                    }
                    Evidence::CosignSignature { policy, signer, .. } => {
                        format!("Cosign signature verified with {signer} under Cosign trust policy {policy:?}")
                    }
                })
                .collect::<Vec<_>>()
                .join("; "),
            Decision::Denied(d) => d.reason.clone(),
            Decision::Audited { would_deny } => {
                format!("audit mode, would deny: {}", would_deny.reason)
            }
            Decision::Exempt(e) => format!("namespace {:?} is exempt: not verified", e.namespace),
            Decision::AllowedDigest(a) => {
                format!("digest {} is in allow_digests: not verified", a.entry)
            }
            Decision::BreakGlass(a) => format!(
                "break-glass entry {:?} let the image through without verification",
                a.entry
            ),
        }
    }

    /// The contract's `verify --json` line.
    pub fn to_json(&self) -> Value {
        let reason = match &self.decision {
            Decision::Audited { would_deny } => would_deny.reason.clone(),
            _ => self.reason(),
        };
        json!({
            "image": self.image,
            "digest": self.digest.as_ref().map(ToString::to_string),
            "allowed": self.allowed(),
            "mode": self.mode.as_str(),
            "reason": reason,
            "verifiers": self.verifiers.iter().map(|v| json!({
                "name": v.name,
                "covered": v.covered,
                "allowed": v.allowed,
                "reason": v.reason,
            })).collect::<Vec<_>>(),
            "warnings": self.warnings,
        })
    }
}
