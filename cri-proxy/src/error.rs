//! What can go wrong, by stage: setting up the socket ([`ProxyError`]) and talking to containerd
//! ([`UpstreamError`]).

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use crate::grpc::frame::FrameError;

/// Binding or serving the kubelet-facing socket failed.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// The configuration is unusable.
    #[error("invalid proxy configuration: {key} {problem}")]
    Config {
        key: &'static str,
        problem: &'static str,
    },
    /// The socket's directory could not be created.
    #[error("cannot create the socket directory {path}")]
    SocketDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Something that is not a socket sits where the socket goes; it is left alone.
    #[error("{path} exists and is not a socket; refusing to replace it")]
    NotASocket { path: PathBuf },
    /// A live process accepts connections on the socket path.
    #[error("another process is serving {path}")]
    InUse { path: PathBuf },
    /// A stale socket file could not be removed.
    #[error("cannot remove the stale socket {path}")]
    RemoveStale {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// `bind(2)` failed.
    #[error("cannot bind {path}")]
    Bind {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The socket's mode could not be set.
    #[error("cannot set mode {mode:o} on {path}")]
    Permissions {
        path: PathBuf,
        mode: u32,
        #[source]
        source: io::Error,
    },
    /// `accept(2)` kept failing.
    #[error("accepting connections on {path} failed {attempts} times in a row")]
    Accept {
        path: PathBuf,
        attempts: u32,
        #[source]
        source: io::Error,
    },
}

impl ProxyError {
    /// A short, stable label for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            ProxyError::Config { .. } => "config",
            ProxyError::SocketDir { .. } => "socket_dir",
            ProxyError::NotASocket { .. } => "not_a_socket",
            ProxyError::InUse { .. } => "socket_in_use",
            ProxyError::RemoveStale { .. } => "remove_stale_socket",
            ProxyError::Bind { .. } => "bind",
            ProxyError::Permissions { .. } => "socket_permissions",
            ProxyError::Accept { .. } => "accept",
        }
    }
}

/// A call to containerd failed below gRPC: no gRPC status came back from containerd.
/// (A gRPC error from containerd is not an `UpstreamError`: it is a [`crate::UnaryResponse`] with
/// a non-zero status.) [`UpstreamError::to_response`] is how it reaches the kubelet.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// The socket could not be connected.
    #[error("cannot connect to {path}")]
    Connect {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Connecting (or the HTTP/2 preface) took too long.
    #[error("connecting to {path} took longer than {after:?}")]
    ConnectTimeout { path: PathBuf, after: Duration },
    /// The HTTP/2 handshake failed.
    #[error("HTTP/2 handshake with {path} failed")]
    Handshake {
        path: PathBuf,
        #[source]
        source: h2::Error,
    },
    /// The request could not be sent or no response head came back (connection lost, stream reset).
    #[error("the call to containerd failed")]
    Send {
        #[source]
        source: h2::Error,
    },
    /// The response's HTTP status was not 200.
    #[error("containerd answered HTTP status {status}")]
    HttpStatus { status: http::StatusCode },
    /// The response body broke off.
    #[error("the response from containerd broke off")]
    Body {
        #[source]
        source: h2::Error,
    },
    /// The response body is not one acceptable gRPC message.
    #[error("the response from containerd is not one acceptable message")]
    Frame {
        #[source]
        source: FrameError,
    },
    /// The `grpc-timeout` of the call passed.
    #[error("no answer from containerd within the call's deadline ({after:?})")]
    DeadlineExceeded { after: Duration },
    /// The method path cannot be used in a request URI.
    #[error("{path:?} is not a usable gRPC method path")]
    InvalidPath { path: String },
}

impl UpstreamError {
    /// A short, stable label for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            UpstreamError::Connect { .. } => "upstream_connect",
            UpstreamError::ConnectTimeout { .. } => "upstream_connect_timeout",
            UpstreamError::Handshake { .. } => "upstream_handshake",
            UpstreamError::Send { .. } => "upstream_send",
            UpstreamError::HttpStatus { .. } => "upstream_http_status",
            UpstreamError::Body { .. } => "upstream_body",
            UpstreamError::Frame { .. } => "upstream_frame",
            UpstreamError::DeadlineExceeded { .. } => "deadline_exceeded",
            UpstreamError::InvalidPath { .. } => "invalid_path",
        }
    }
}
