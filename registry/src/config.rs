//! What the client is told: per-registry settings, credentials, and the bounds
//! on every size, wait and retry.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use sha2::{Digest as _, Sha256};

use crate::docker_config::DockerConfig;

/// A secret string: never printed by `Debug`, never `Display`ed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The secret itself, for the one place that puts it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Credentials for one registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// Username and password: sent as HTTP Basic, or to the token endpoint.
    Basic { username: String, password: Secret },
    /// An OAuth2 refresh token (Docker's `identitytoken`, ACR's refresh
    /// token), exchanged at the token endpoint.
    IdentityToken(Secret),
    /// A registry bearer token used as is (the CRI's `registry_token`).
    RegistryToken(Secret),
}

impl Credentials {
    pub fn basic(username: impl Into<String>, password: impl Into<String>) -> Credentials {
        Credentials::Basic {
            username: username.into(),
            password: Secret::new(password),
        }
    }

    /// A stable fingerprint used to key cached tokens, so a token obtained
    /// with one set of credentials is never used with another.
    pub(crate) fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        match self {
            Credentials::Basic { username, password } => {
                h.update(b"basic\0");
                h.update(username.as_bytes());
                h.update(b"\0");
                h.update(password.expose().as_bytes());
            }
            Credentials::IdentityToken(t) => {
                h.update(b"identity\0");
                h.update(t.expose().as_bytes());
            }
            Credentials::RegistryToken(t) => {
                h.update(b"registry\0");
                h.update(t.expose().as_bytes());
            }
        }
        hex::encode(&h.finalize()[..16])
    }
}

/// Settings for one registry, keyed by `host[:port]` in [`ClientConfig::hosts`].
#[derive(Debug, Clone, Default)]
pub struct HostSettings {
    /// Plain HTTP. Only for registries the configuration names as insecure.
    pub insecure: bool,
    /// PEM certificates that are the only trust anchors for this host.
    pub ca_pem: Option<Vec<u8>>,
    pub credentials: Option<Credentials>,
}

/// Size limits on everything fetched. Defaults follow notation-go (4 MiB for
/// manifests and indexes, 32 MiB for signature envelopes).
#[derive(Debug, Clone)]
pub struct Limits {
    pub manifest_bytes: u64,
    pub blob_bytes: u64,
    pub token_bytes: u64,
    pub error_body_bytes: u64,
    /// Pages of a paginated referrers response followed before giving up.
    pub referrers_pages: usize,
    /// Referrers kept in total across pages.
    pub referrers_total: usize,
    pub redirects: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            manifest_bytes: 4 << 20,
            blob_bytes: 32 << 20,
            token_bytes: 1 << 20,
            error_body_bytes: 64 << 10,
            referrers_pages: 32,
            referrers_total: 10_000,
            redirects: 5,
        }
    }
}

/// Bounds on waits. `request` covers one HTTP exchange including its body.
#[derive(Debug, Clone)]
pub struct Timeouts {
    pub connect: Duration,
    pub request: Duration,
    pub token: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(5),
            request: Duration::from_secs(20),
            token: Duration::from_secs(10),
        }
    }
}

/// Bounds on retries. Retried: connection failures, HTTP 429, 502, 503 and
/// 504. A `Retry-After` longer than `max_retry_after` is not waited for: the
/// call fails at once with [`crate::RegistryError::RateLimited`].
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(10),
        }
    }
}

/// Everything the client needs, built once by the daemon from its typed
/// configuration.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub hosts: BTreeMap<String, HostSettings>,
    pub docker_config: Option<DockerConfig>,
    pub limits: Limits,
    pub timeouts: Timeouts,
    pub retry: RetryPolicy,
    pub user_agent: String,
}

impl Default for ClientConfig {
    fn default() -> ClientConfig {
        ClientConfig {
            hosts: BTreeMap::new(),
            docker_config: None,
            limits: Limits::default(),
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            user_agent: concat!("pullgate/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

impl ClientConfig {
    pub fn host(&self, host: &str) -> Option<&HostSettings> {
        self.hosts.get(host)
    }

    pub fn is_insecure(&self, host: &str) -> bool {
        self.host(host).is_some_and(|h| h.insecure)
    }

    /// Credentials configured for `registry`: its own entry first, then the
    /// Docker config file.
    pub fn configured_credentials(&self, registry: &str) -> Option<Credentials> {
        self.host(registry)
            .and_then(|h| h.credentials.clone())
            .or_else(|| self.docker_config.as_ref()?.credentials(registry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        let c = Credentials::basic("user", "hunter2");
        let shown = format!("{c:?}");
        assert!(shown.contains("user"));
        assert!(!shown.contains("hunter2"));
        let t = Credentials::IdentityToken(Secret::new("refresh-me"));
        assert!(!format!("{t:?}").contains("refresh-me"));
    }

    #[test]
    fn fingerprints_differ_by_credential() {
        let a = Credentials::basic("u", "p1").fingerprint();
        let b = Credentials::basic("u", "p2").fingerprint();
        let c = Credentials::RegistryToken(Secret::new("p1")).fingerprint();
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_eq!(a, Credentials::basic("u", "p1").fingerprint());
    }
}
