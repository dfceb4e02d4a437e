//! One signature through notation-go's pipeline (`processSignature` and the
//! checks after it): integrity, plugin headers, authenticity and trusted
//! identities, expiry, authentic timestamp, revocation, then the payload's
//! target descriptor. Each validation's failure is enforced, logged or
//! skipped as the trust policy's level says.

use pullgate_policy::dn::go_quote;
use pullgate_policy::{Action, StoreKind, TrustPolicyStatement, ValidationType};
use pullgate_registry::Descriptor;
use time::OffsetDateTime;

use super::envelope::{self, EnvelopeContent, SigningScheme};
use super::gocompat::rfc1123z;
use super::gojson;
use super::revocation::RevocationChecker;
use super::truststore::TrustStores;

const PLUGIN: &str = "io.cncf.notary.verificationPlugin";
const PLUGIN_MIN_VERSION: &str = "io.cncf.notary.verificationPluginMinVersion";

/// The result of one validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationResult {
    pub kind: ValidationType,
    pub action: Action,
    pub error: Option<String>,
}

/// Why a signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// A validation whose action is `enforce` failed.
    Validation { kind: ValidationType, error: String },
    /// Something outside the validation table (plugins, the target
    /// descriptor, an unreadable payload).
    Other(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Validation { kind, error } => write!(f, "{kind} validation failed: {error}"),
            Failure::Other(e) => f.write_str(e),
        }
    }
}

/// What one signature's verification found.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub results: Vec<ValidationResult>,
    pub failure: Option<Failure>,
    pub content: Option<EnvelopeContent>,
}

impl Outcome {
    pub fn verified(&self) -> bool {
        self.failure.is_none()
    }

    /// Failures that were only logged (warnings for the operator).
    pub fn logged(&self) -> impl Iterator<Item = &ValidationResult> {
        self.results
            .iter()
            .filter(|r| r.error.is_some() && r.action == Action::Log)
    }

    /// The signing certificate's subject, when the envelope could be read.
    pub fn signer(&self) -> Option<&str> {
        self.content
            .as_ref()
            .and_then(|c| c.signer.chain.first())
            .map(|c| c.subject())
    }
}

/// Everything a signature is checked against.
pub struct Context<'a> {
    pub policy: &'a TrustPolicyStatement,
    pub stores: &'a TrustStores,
    pub revocation: &'a dyn RevocationChecker,
    pub now: OffsetDateTime,
    /// The descriptor of the manifest the signature must name.
    pub target: &'a Descriptor,
}

struct Run<'a> {
    ctx: &'a Context<'a>,
    outcome: Outcome,
}

impl Run<'_> {
    /// Records a result; returns true when it is a critical failure.
    fn record(&mut self, kind: ValidationType, error: Option<String>) -> bool {
        let action = self.ctx.policy.level().action(kind);
        let critical = action == Action::Enforce && error.is_some();
        if let (true, Some(e)) = (critical, &error) {
            self.outcome.failure = Some(Failure::Validation {
                kind,
                error: e.clone(),
            });
        } else if let (Action::Log, Some(e)) = (action, &error) {
            tracing::warn!(validation = %kind, error = %e, "validation failed with action \"logged\"");
        }
        self.outcome.results.push(ValidationResult {
            kind,
            action,
            error,
        });
        critical
    }
}

/// Verifies one envelope (`media_type`, `bytes`) in `ctx`.
pub async fn verify(media_type: &str, bytes: &[u8], ctx: &Context<'_>) -> Outcome {
    let mut run = Run {
        ctx,
        outcome: Outcome {
            results: Vec::new(),
            failure: None,
            content: None,
        },
    };
    // Integrity is always enforced, whatever the level.
    let content = match envelope::open(media_type, bytes) {
        Ok(c) => c,
        Err(e) => {
            run.outcome.failure = Some(Failure::Validation {
                kind: ValidationType::Integrity,
                error: e.to_string(),
            });
            run.outcome.results.push(ValidationResult {
                kind: ValidationType::Integrity,
                action: Action::Enforce,
                error: Some(e.to_string()),
            });
            return run.outcome;
        }
    };
    run.record(ValidationType::Integrity, None);
    if let Err(e) = plugin(&content) {
        run.outcome.failure = Some(Failure::Other(e));
        run.outcome.content = Some(content);
        return run.outcome;
    }
    let done = pipeline(&mut run, &content).await;
    if !done
        && run.outcome.failure.is_none()
        && let Err(e) = target_matches(&content.payload, ctx.target)
    {
        run.outcome.failure = Some(Failure::Other(e));
    }
    run.outcome.content = Some(content);
    run.outcome
}

/// Authenticity through revocation; true when a critical failure stopped it.
async fn pipeline(run: &mut Run<'_>, content: &EnvelopeContent) -> bool {
    let ctx = run.ctx;
    let signer = &content.signer;
    let store_kind = match signer.scheme {
        SigningScheme::X509 => StoreKind::Ca,
        SigningScheme::SigningAuthority => StoreKind::SigningAuthority,
    };
    let authenticity = match ctx
        .stores
        .certificates(store_kind, ctx.policy.trust_stores())
    {
        Err(e) => Some(e.to_string()),
        Ok(trusted) if trusted.is_empty() => {
            Some("no trusted certificates are found to verify authenticity".to_string())
        }
        Ok(trusted) => (!signer.chain.iter().any(|c| trusted.contains(c))).then(|| {
            "the signature's certificate chain does not contain any trusted certificate".to_string()
        }),
    };
    let untrusted = authenticity.is_some();
    if untrusted {
        if run.record(ValidationType::Authenticity, authenticity) {
            return true;
        }
    } else {
        // Trusted identities are reported as authenticity, replacing its result.
        let identity = signer
            .chain
            .first()
            .map(|leaf| {
                ctx.policy
                    .trusted_identities()
                    .check(ctx.policy.name(), leaf.subject())
            })
            .and_then(Result::err);
        if run.record(ValidationType::Authenticity, identity) {
            return true;
        }
    }
    let expiry = signer.expiry.filter(|e| ctx.now >= *e).map(|e| {
        format!(
            "digital signature has expired on {}",
            go_quote(&rfc1123z(e))
        )
    });
    if run.record(ValidationType::Expiry, expiry) {
        return true;
    }
    let timestamp = super::timestamp::authentic_timestamp(ctx, content)
        .await
        .err();
    if run.record(ValidationType::AuthenticTimestamp, timestamp) {
        return true;
    }
    match ctx.policy.level().action(ValidationType::Revocation) {
        Action::Skip => {}
        // A chain no trust store vouches for names whatever OCSP and CRL
        // URLs its maker chose; when the result would only be logged
        // (`audit`), the node does not fetch them. notation-go does; the
        // verdict is the same.
        Action::Log if untrusted => {
            run.record(
                ValidationType::Revocation,
                Some("not checked: the certificate chain is not trusted, and its OCSP and CRL URLs are not fetched".into()),
            );
        }
        _ => {
            let revocation = super::revocation::code_signing(ctx.revocation, signer, ctx.now)
                .await
                .err();
            if run.record(ValidationType::Revocation, revocation) {
                return true;
            }
        }
    }
    false
}

/// notation-go's plugin headers: a signature that names a verification
/// plugin needs that plugin, and pullgate runs none.
fn plugin(content: &EnvelopeContent) -> Result<(), String> {
    let find = |key: &str| content.signer.extended.iter().find(|a| a.key == key);
    let Some(attr) = find(PLUGIN) else {
        return Ok(());
    };
    if !attr.critical {
        return Err(format!("{PLUGIN} is not a critical Extended attribute"));
    }
    let name = attr
        .text
        .as_deref()
        .ok_or_else(|| format!("{PLUGIN} from extended attribute is not a string"))?;
    if name.trim().is_empty() {
        return Err(format!(
            "{PLUGIN} from extended attribute is an empty string"
        ));
    }
    if let Some(min) = find(PLUGIN_MIN_VERSION) {
        let problem = if !min.critical {
            Some(format!(
                "{PLUGIN_MIN_VERSION} is not a critical Extended attribute"
            ))
        } else if min.text.as_deref().is_none_or(|t| t.trim().is_empty()) {
            Some(format!(
                "{PLUGIN_MIN_VERSION} from extended attribute is an empty string"
            ))
        } else {
            None
        };
        if let Some(p) = problem {
            return Err(format!(
                "error while getting plugin minimum version, error: {p}"
            ));
        }
    }
    Err(format!(
        "error while locating the verification plugin {}, make sure the plugin is installed successfully before verifying the signature. error: pullgate does not run verification plugins",
        go_quote(name)
    ))
}

/// The payload must name exactly the manifest being verified (media type,
/// digest and size), as oras `content.Equal` compares them. The payload is
/// read with Go's JSON rules, as notation-go reads it.
fn target_matches(payload: &[u8], target: &Descriptor) -> Result<(), String> {
    let top = gojson::top_object(payload).map_err(|e| format!("invalid signature payload: {e}"))?;
    let empty = serde_json::Map::new();
    let t = gojson::object(&top, "targetArtifact")
        .map_err(|e| format!("invalid signature payload: {e}"))?
        .unwrap_or(&empty);
    let media_type =
        gojson::string(t, "mediaType").map_err(|e| format!("invalid signature payload: {e}"))?;
    let digest =
        gojson::string(t, "digest").map_err(|e| format!("invalid signature payload: {e}"))?;
    let size = match gojson::field(t, "size") {
        None => Some(0),
        Some(serde_json::Value::Number(n)) => n.as_i64(),
        Some(_) => return Err("invalid signature payload: size is not a number".into()),
    };
    let same = media_type.unwrap_or_default() == target.media_type
        && digest.unwrap_or_default() == target.digest.to_string()
        && size.and_then(|s| u64::try_from(s).ok()) == Some(target.size);
    if same {
        Ok(())
    } else {
        Err("content descriptor mismatch".into())
    }
}
