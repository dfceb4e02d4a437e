//! What the proxy is told: where to listen, where containerd is, who may connect, the limits.

use std::path::PathBuf;
use std::time::Duration;

/// gRPC's message size limit as the kubelet and containerd set it (16 MiB, both ways).
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 16 << 20;
/// How long [`crate::Proxy::serve`] lets in-flight calls finish after the shutdown signal.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(15);
/// How long connecting to containerd's socket (connect and HTTP/2 preface) may take.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The proxy's configuration. Build it with [`ProxyConfig::new`] and adjust the public fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyConfig {
    /// The socket the kubelet's `--image-service-endpoint` names (e.g. `/run/pullgate/image.sock`).
    pub listen: PathBuf,
    /// containerd's socket (e.g. `/run/containerd/containerd.sock`).
    pub upstream: PathBuf,
    /// Peer uids allowed to connect (checked with `SO_PEERCRED` on every connection).
    pub allowed_uids: Vec<u32>,
    /// The largest gRPC message accepted in either direction.
    pub max_message_bytes: usize,
    /// How long in-flight calls may run after shutdown begins.
    pub shutdown_grace: Duration,
    /// How long connecting to the upstream may take.
    pub connect_timeout: Duration,
}

impl ProxyConfig {
    /// A configuration with the defaults: only root may connect, 16 MiB messages, 15 s grace,
    /// 5 s upstream connect timeout.
    pub fn new(listen: impl Into<PathBuf>, upstream: impl Into<PathBuf>) -> ProxyConfig {
        ProxyConfig {
            listen: listen.into(),
            upstream: upstream.into(),
            allowed_uids: vec![0],
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        }
    }

    /// Every problem with the configuration, each with the field it concerns.
    pub fn problems(&self) -> Vec<(&'static str, &'static str)> {
        let mut problems = Vec::new();
        if self.listen.as_os_str().is_empty() {
            problems.push(("listen", "must name a socket path"));
        }
        if self.upstream.as_os_str().is_empty() {
            problems.push(("upstream", "must name a socket path"));
        }
        if self.allowed_uids.is_empty() {
            problems.push((
                "allowed_uids",
                "must allow at least one uid (the kubelet's, 0)",
            ));
        }
        if self.max_message_bytes == 0 || self.max_message_bytes > u32::MAX as usize {
            problems.push(("max_message_bytes", "must be between 1 and 4294967295"));
        }
        if self.connect_timeout.is_zero() {
            problems.push(("connect_timeout", "must be longer than zero"));
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_problems_name_their_field() {
        let config = ProxyConfig::new(
            "/run/pullgate/image.sock",
            "/run/containerd/containerd.sock",
        );
        assert_eq!(config.allowed_uids, vec![0]);
        assert_eq!(config.max_message_bytes, 16 * 1024 * 1024);
        assert!(config.problems().is_empty());

        let bad = ProxyConfig {
            allowed_uids: vec![],
            max_message_bytes: 0,
            ..ProxyConfig::new("", "/x")
        };
        let keys: Vec<_> = bad.problems().into_iter().map(|(key, _)| key).collect();
        assert_eq!(keys, vec!["listen", "allowed_uids", "max_message_bytes"]);
    }
}
