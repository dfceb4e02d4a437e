//! The registry client's errors, one variant per way a fetch can fail, each
//! with a short stable [`RegistryError::reason`] for logs and metric labels.

use std::time::Duration;

use crate::digest::Digest;
use crate::manifest::ManifestError;
use crate::reference::ReferenceError;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("invalid image reference: {0}")]
    Reference(#[from] ReferenceError),

    #[error("could not reach {url}: {source}")]
    Transport {
        url: String,
        #[source]
        source: reqwest::Error,
    },

    #[error("{url} did not answer within {after:?}")]
    Timeout { url: String, after: Duration },

    #[error("{url} not found ({code})")]
    NotFound { url: String, code: String },

    #[error("{url} answered HTTP {status}{}", code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Status {
        url: String,
        status: u16,
        code: Option<String>,
    },

    #[error("registry {registry} refused the credentials or requires some: {detail}")]
    Unauthorized { registry: String, detail: String },

    #[error("token endpoint {realm} failed: {detail}")]
    TokenEndpoint { realm: String, detail: String },

    #[error("{url} is rate limiting (HTTP 429){}", match retry_after {
        Some(d) => format!("; it asks to wait {d:?}, more than the {cap:?} pullgate waits"),
        None => format!("; gave up after {attempts} attempts"),
    })]
    RateLimited {
        url: String,
        retry_after: Option<Duration>,
        cap: Duration,
        attempts: u32,
    },

    #[error("{url} is unavailable (HTTP {status}) after {attempts} attempts")]
    Unavailable {
        url: String,
        status: u16,
        attempts: u32,
    },

    #[error("{url} sent more than the {limit}-byte limit{}", declared.map(|d| format!(" (declared {d} bytes)")).unwrap_or_default())]
    TooLarge {
        url: String,
        limit: u64,
        declared: Option<u64>,
    },

    #[error("content from {url} has digest {actual}, expected {expected}")]
    DigestMismatch {
        url: String,
        expected: Digest,
        actual: Digest,
    },

    #[error("{url} sent a Docker-Content-Digest that is not a digest ({value:?}): {detail}")]
    BadDigestHeader {
        url: String,
        value: String,
        detail: String,
    },

    #[error("content from {url} has {actual} bytes, its descriptor says {expected}")]
    SizeMismatch {
        url: String,
        expected: u64,
        actual: u64,
    },

    #[error("redirect loop at {url}")]
    RedirectLoop { url: String },

    #[error("more than {max} redirects from {url}")]
    TooManyRedirects { url: String, max: usize },

    #[error("refusing redirect from {from} to {to}: {why}")]
    BadRedirect {
        from: String,
        to: String,
        why: &'static str,
    },

    #[error("manifest from {url} is malformed: {source}")]
    Manifest {
        url: String,
        #[source]
        source: ManifestError,
    },

    #[error("referrers index from {url} is malformed: {detail}")]
    Referrers { url: String, detail: String },

    #[error("TLS settings for {host} are unusable: {detail}")]
    TlsConfig { host: String, detail: String },

    #[error("registry {host} is not configured for plain HTTP")]
    InsecureNotAllowed { host: String },

    #[error("docker config {path}: {detail}")]
    DockerConfig { path: String, detail: String },
}

impl RegistryError {
    /// A short, stable label: the same for every instance of a kind of
    /// failure, safe for metric labels and log fields.
    pub fn reason(&self) -> &'static str {
        match self {
            RegistryError::Reference(_) => "invalid_reference",
            RegistryError::Transport { .. } => "registry_unreachable",
            RegistryError::Timeout { .. } => "registry_timeout",
            RegistryError::NotFound { .. } => "not_found",
            RegistryError::Status { .. } => "registry_error",
            RegistryError::Unauthorized { .. } => "unauthorized",
            RegistryError::TokenEndpoint { .. } => "token_endpoint",
            RegistryError::RateLimited { .. } => "rate_limited",
            RegistryError::Unavailable { .. } => "registry_unavailable",
            RegistryError::TooLarge { .. } => "too_large",
            RegistryError::DigestMismatch { .. } => "digest_mismatch",
            RegistryError::BadDigestHeader { .. } => "bad_digest_header",
            RegistryError::SizeMismatch { .. } => "size_mismatch",
            RegistryError::RedirectLoop { .. } => "redirect_loop",
            RegistryError::TooManyRedirects { .. } => "too_many_redirects",
            RegistryError::BadRedirect { .. } => "bad_redirect",
            RegistryError::Manifest { .. } => "malformed_manifest",
            RegistryError::Referrers { .. } => "malformed_referrers",
            RegistryError::TlsConfig { .. } => "tls_config",
            RegistryError::InsecureNotAllowed { .. } => "insecure_not_allowed",
            RegistryError::DockerConfig { .. } => "docker_config",
        }
    }

    /// True when the registry said the thing does not exist (as opposed to
    /// failing to say anything).
    pub fn is_not_found(&self) -> bool {
        matches!(self, RegistryError::NotFound { .. })
    }

    /// True when the registry could not be asked, did not answer, or did
    /// not let us in: nothing was learnt about the image (a background
    /// re-check that ends here keeps what an earlier verification found; a
    /// re-check runs without the kubelet's pull credentials).
    pub fn is_unreachable(&self) -> bool {
        match self {
            RegistryError::Unauthorized { .. }
            | RegistryError::Transport { .. }
            | RegistryError::Timeout { .. }
            | RegistryError::RateLimited { .. }
            | RegistryError::Unavailable { .. }
            | RegistryError::TokenEndpoint { .. } => true,
            RegistryError::Status { status, .. } => *status >= 500,
            _ => false,
        }
    }
}
