//! # pullgate-cri-proxy
//!
//! The kubelet's CRI image service on a unix socket. The kubelet is pointed at it with
//! `--image-service-endpoint=unix:///run/pullgate/image.sock` (its runtime service stays on
//! containerd); its calls are forwarded to containerd's socket, and the few methods an
//! [`Interceptor`] claims (`PullImage`, `ImageStatus`) are decided in-process first.
//!
//! ## Forwarding: raw gRPC by method path
//!
//! The transport forwards calls by their `:path`, whatever the service (methods newer than this
//! build included); the interceptor may refuse a path outright (pullgate's enforcer refuses
//! everything outside `runtime.v1.ImageService`, so containerd's other services are not reachable
//! through the kubelet's image socket). Forwarding runs over
//! real HTTP/2 both ways (hyper's server towards the kubelet, h2 itself towards containerd, so that
//! a call's head and its first message leave in one write):
//!
//! - the request's headers go on as the kubelet sent them (HTTP/2 forbids hop-by-hop headers, and
//!   h2 refuses a request that carries one), `:authority` included, and its body is streamed chunk
//!   by chunk (client streaming works);
//! - containerd's response head (status, headers), body and trailers come back as they are, as
//!   they arrive (server streaming such as `StreamImages` streams), and a trailers-only answer
//!   stays trailers-only. No `date` or other header is added. A reset stream is reset on the
//!   other side with the same reason; a kubelet that cancels (RST_STREAM, or closing the
//!   connection) cancels the upstream call.
//!
//! **Never decoded:** passed-through messages are not parsed, copied or buffered beyond what h2
//! flow control holds. The only look inside is at the 5-byte gRPC prefixes, to enforce the size
//! limit. Intercepted calls are read whole (one message), and their interceptor reads the fields
//! it needs with the schema-less [`proto`] module, which can also *splice* one field (a pull's
//! image reference) while keeping every other byte, unknown fields included.
//!
//! The proxy answers by itself only when: containerd cannot be reached (UNAVAILABLE, `pullgate:
//! ...` message), a message is over the limit (RESOURCE_EXHAUSTED), the call's `grpc-timeout`
//! passes first (DEADLINE_EXCEEDED; the header is also sent on, so containerd sees the same
//! deadline), or an intercepted request is not one uncompressed message (INTERNAL /
//! UNIMPLEMENTED). These mappings live in one function (`respond.rs`).
//!
//! ## The socket and the peer check
//!
//! [`Proxy::bind`] creates the socket's directory with mode 0700 when it is missing (an existing
//! one is kept, with a warning if group or others may write to it), removes a stale socket file
//! (only a socket, and only if nothing accepts on it), binds, and sets mode 0660. Every accepted
//! connection's peer credentials are read with `SO_PEERCRED`; a uid not in
//! [`ProxyConfig::allowed_uids`] (default `[0]`) is logged once, with uid, gid and pid, counted
//! ([`CounterSnapshot::connections_refused`]) and closed before any HTTP/2 is spoken. The file
//! mode is only a second fence: the peer check alone decides.
//!
//! ## Upstream
//!
//! One HTTP/2 connection to containerd, shared by every call and every kubelet connection,
//! opened on first use and reopened on the next call after it closes (containerd restarted or
//! sent GOAWAY). A request the old connection never took is sent again on the new one; one it
//! took is not retried (the kubelet retries). [`Upstream::unary`] is the interceptor's way to
//! call containerd (CRI, or containerd's images API with `containerd-namespace: k8s.io`).
//!
//! ## Limits
//!
//! | what | bound |
//! |---|---|
//! | a gRPC message, either way | [`ProxyConfig::max_message_bytes`], default 16 MiB (kubelet and containerd's value); a larger one is refused with RESOURCE_EXHAUSTED as grpc-go does, and its stream reset on the other side |
//! | an intercepted request held in memory | one message: at most the limit + 5 bytes |
//! | passed-through bytes in memory | what h2 flow control allows: 1 MiB per stream and per kubelet connection, 2 MiB per stream and 5 MiB on the upstream connection (hyper's defaults, on both sides); a request's first chunk (one frame, 16 KiB) is queued with its head before send capacity is granted |
//! | concurrent calls per kubelet connection | 256 |
//! | header block (headers or trailers) | 64 KiB each way |
//! | connecting to containerd | [`ProxyConfig::connect_timeout`], default 5 s |
//! | a call | its `grpc-timeout` when it has one (the kubelet sets one on all but `PullImage`, which it cancels instead) |
//! | shutdown | [`Proxy::serve`] stops accepting, sends GOAWAY, lets calls in flight finish for [`ProxyConfig::shutdown_grace`] (default 15 s), then closes what is left |
//!
//! Nothing is logged per call at info level; failures of pass-through calls are logged at debug.
//! The proxy runs on whatever tokio runtime it is given; a `current_thread` runtime gave the
//! lowest added latency in measurements (limits research §2).
#![forbid(unsafe_code)]

mod body;
pub mod config;
pub mod cri;
pub mod enforce;
pub mod error;
pub mod grpc;
mod interceptor;
pub mod metrics;
mod peer;
pub mod proto;
mod proxy;
mod respond;
mod service;
pub mod socket;
mod unary;
mod upstream;

pub use config::ProxyConfig;
pub use error::{ProxyError, UpstreamError};
pub use interceptor::{Interceptor, PassThrough};
pub use metrics::{CounterSnapshot, Counters};
pub use peer::Peer;
pub use proxy::Proxy;
pub use unary::{UnaryRequest, UnaryResponse};
pub use upstream::{Upstream, UpstreamConfig};

#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;
