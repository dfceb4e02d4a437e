//! The connection to containerd: one shared HTTP/2 connection over its unix socket, opened on
//! first use and reopened on the next call after it breaks (containerd restarts).
//!
//! It speaks [`h2`] directly rather than through hyper's client: hyper sends a request body only
//! once the connection task has opened the stream, so a call's HEADERS and its message left in two
//! writes (and woke containerd twice); here the first chunk of the body is queued with the head
//! and both leave in one write. The settings are hyper's client defaults.

use std::future::poll_fn;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use h2::SendStream;
use h2::client::{ResponseFuture, SendRequest};
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderName, TE};
use http::{HeaderMap, HeaderValue, Method, Request, Uri, uri};
use tokio::net::UnixStream;

use crate::body::{CollectError, UpstreamBody, collect_unary};
use crate::config::ProxyConfig;
use crate::error::UpstreamError;
use crate::grpc::{self, frame, timeout};
use crate::metrics::Counters;
use crate::unary::UnaryResponse;

/// Largest header block accepted from containerd (response headers, trailers).
pub(crate) const MAX_HEADER_LIST_BYTES: u32 = 64 * 1024;
/// hyper's client defaults: flow-control windows, frame size, send buffer, streams before the
/// server's SETTINGS arrive.
const STREAM_WINDOW: u32 = 2 * 1024 * 1024;
const CONNECTION_WINDOW: u32 = 5 * 1024 * 1024;
const MAX_FRAME_BYTES: u32 = 16 * 1024;
const MAX_SEND_BUFFER_BYTES: usize = 1024 * 1024;
const INITIAL_MAX_SEND_STREAMS: usize = 100;
const MAX_LOCAL_ERROR_RESET_STREAMS: usize = 1024;

/// Where containerd is and the limits for calling it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamConfig {
    /// containerd's socket.
    pub socket: PathBuf,
    /// The largest message accepted back from a unary call.
    pub max_message_bytes: usize,
    /// How long connecting (connect and HTTP/2 preface) may take.
    pub connect_timeout: Duration,
}

impl From<&ProxyConfig> for UpstreamConfig {
    fn from(config: &ProxyConfig) -> UpstreamConfig {
        UpstreamConfig {
            socket: config.upstream.clone(),
            max_message_bytes: config.max_message_bytes,
            connect_timeout: config.connect_timeout,
        }
    }
}

/// Calls containerd over its socket. Cheap to clone; clones share the connection.
#[derive(Debug, Clone)]
pub struct Upstream {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: UpstreamConfig,
    current: Mutex<Option<Connection>>,
    /// Held while connecting, so a burst of calls after a restart opens one connection.
    connecting: tokio::sync::Mutex<()>,
    /// Numbers connections, so a call that finds one closing forgets that one and no newer one.
    opened: AtomicU64,
    counters: Arc<Counters>,
}

/// The shared connection: a handle to open streams on, and its number.
#[derive(Debug, Clone)]
struct Connection {
    id: u64,
    sender: SendRequest<Bytes>,
}

/// A call whose request head is on its way to containerd: the response to wait for, and the
/// stream to send the request body on.
pub(crate) struct Opened {
    pub(crate) response: ResponseFuture,
    pub(crate) body: SendStream<Bytes>,
}

impl Upstream {
    /// An upstream that connects on first use.
    pub fn new(config: UpstreamConfig) -> Upstream {
        Upstream::with_counters(config, Arc::default())
    }

    pub(crate) fn with_counters(config: UpstreamConfig, counters: Arc<Counters>) -> Upstream {
        let inner = Inner {
            config,
            current: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
            opened: AtomicU64::new(0),
            counters,
        };
        Upstream {
            inner: Arc::new(inner),
        }
    }

    /// containerd's socket path.
    pub fn socket(&self) -> &Path {
        &self.inner.config.socket
    }

    /// Connects if there is no live connection (for readiness probes). Does not call any method.
    pub async fn ready(&self) -> Result<(), UpstreamError> {
        self.open_ready().await.map(drop)
    }

    /// Calls `path` with one message and reads the whole answer.
    ///
    /// `metadata` is sent as request headers, except hop-by-hop headers, `content-length`,
    /// `grpc-encoding` and `grpc-accept-encoding` (the message is sent uncompressed and the answer
    /// must be too); `content-type: application/grpc` is added when missing and `te: trailers`
    /// always. A `grpc-timeout` in `metadata` is sent on and also enforced here. For containerd's
    /// own API, name the namespace: `containerd-namespace: k8s.io`.
    ///
    /// A gRPC error from containerd is `Ok` with a non-zero [`UnaryResponse::status`]; `Err` means
    /// no gRPC answer came back (use [`UpstreamError::to_response`] to answer the kubelet).
    pub async fn unary(
        &self,
        path: &str,
        metadata: &HeaderMap,
        message: Bytes,
    ) -> Result<UnaryResponse, UpstreamError> {
        let call = async {
            let uri = unary_uri(path)?;
            let mut headers = HeaderMap::with_capacity(metadata.len() + 2);
            for (name, value) in metadata {
                if !is_dropped(name) {
                    headers.append(name.clone(), value.clone());
                }
            }
            self.unary_call(uri, headers, message).await
        };
        match timeout::from_headers(metadata) {
            Some(after) => tokio::time::timeout(after, call)
                .await
                .unwrap_or(Err(UpstreamError::DeadlineExceeded { after })),
            None => call.await,
        }
    }

    /// [`Upstream::unary`] for an interceptor answering a call, which the proxy already holds to
    /// its `grpc-timeout` (see [`crate::Interceptor`]): no second timer is armed (the call's
    /// deadline passes first), and the call's metadata is taken rather than copied.
    pub(crate) async fn unary_in_call(
        &self,
        path: &str,
        mut metadata: HeaderMap,
        message: Bytes,
    ) -> Result<UnaryResponse, UpstreamError> {
        let uri = unary_uri(path)?;
        // `te` stays: `unary_call` sets it to `trailers`, replacing what came.
        let dropped = |name: &&HeaderName| **name != TE && is_dropped(name);
        if metadata.keys().any(|name| dropped(&name)) {
            let names: Vec<HeaderName> = metadata.keys().filter(dropped).cloned().collect();
            for name in names {
                metadata.remove(name);
            }
        }
        self.unary_call(uri, metadata, message).await
    }

    /// Sends one message to `uri` with `headers` (those [`Upstream::unary`] sends on) and reads
    /// the whole answer.
    async fn unary_call(
        &self,
        uri: Uri,
        mut headers: HeaderMap,
        message: Bytes,
    ) -> Result<UnaryResponse, UpstreamError> {
        if !headers.contains_key(CONTENT_TYPE) {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(grpc::CONTENT_TYPE));
        }
        headers.insert(TE, HeaderValue::from_static("trailers"));
        let mut request = Request::new(());
        *request.method_mut() = Method::POST;
        *request.uri_mut() = uri;
        *request.headers_mut() = headers;

        let Opened { response, mut body } = self.open(request, false).await?;
        // Queued behind the head: both leave in one write.
        body.send_data(frame::encode(&message), true)
            .map_err(|source| UpstreamError::Send { source })?;
        let (parts, body) = response
            .await
            .map_err(|source| UpstreamError::Send { source })?
            .into_parts();
        if parts.status != http::StatusCode::OK {
            return Err(UpstreamError::HttpStatus {
                status: parts.status,
            });
        }
        let collected = collect_unary(UpstreamBody::new(body), self.inner.config.max_message_bytes)
            .await
            .map_err(|error| match error {
                CollectError::Body(source) => UpstreamError::Body { source },
                CollectError::Frame(source) => UpstreamError::Frame { source },
            })?;
        Ok(UnaryResponse {
            headers: parts.headers,
            message: collected.message,
            trailers: collected.trailers.unwrap_or_default(),
        })
    }

    /// Sends a request head on the shared connection (with END_STREAM when `end_of_stream`),
    /// connecting first when there is none. A connection that is closing (GOAWAY) or gone never
    /// takes the request: it is sent on a new connection. Once sent, it is not retried.
    pub(crate) async fn open(
        &self,
        head: Request<()>,
        end_of_stream: bool,
    ) -> Result<Opened, UpstreamError> {
        let mut connection = self.open_ready().await?;
        let (response, body) = connection
            .sender
            .send_request(head, end_of_stream)
            .map_err(|source| UpstreamError::Send { source })?;
        Ok(Opened { response, body })
    }

    /// A connection that can take a new stream now: the current one, else a new one.
    async fn open_ready(&self) -> Result<Connection, UpstreamError> {
        let mut connection = self.connection().await?;
        match poll_fn(|cx| connection.sender.poll_ready(cx)).await {
            Ok(()) => Ok(connection),
            Err(error) => {
                tracing::debug!(%error, "upstream connection closing; reconnecting");
                self.forget(connection.id);
                let mut connection = self.connection().await?;
                poll_fn(|cx| connection.sender.poll_ready(cx))
                    .await
                    .map_err(|source| UpstreamError::Send { source })?;
                Ok(connection)
            }
        }
    }

    /// The current connection, or a new one.
    async fn connection(&self) -> Result<Connection, UpstreamError> {
        if let Some(connection) = self.current() {
            return Ok(connection);
        }
        let _connecting = self.inner.connecting.lock().await;
        if let Some(connection) = self.current() {
            return Ok(connection);
        }
        let sender = self.connect().await.inspect_err(|error| {
            self.inner.counters.upstream_connect_failed();
            tracing::warn!(socket = %self.socket().display(), reason = error.reason(), %error, "cannot reach containerd");
        })?;
        let connection = Connection {
            id: self.inner.opened.fetch_add(1, Ordering::Relaxed),
            sender,
        };
        *self.lock_current() = Some(connection.clone());
        Ok(connection)
    }

    fn lock_current(&self) -> std::sync::MutexGuard<'_, Option<Connection>> {
        self.inner
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn current(&self) -> Option<Connection> {
        self.lock_current().clone()
    }

    /// Drops connection `id` (closing or gone) unless a newer one already replaced it.
    fn forget(&self, id: u64) {
        let mut current = self.lock_current();
        if current.as_ref().is_some_and(|c| c.id == id) {
            *current = None;
        }
    }

    async fn connect(&self) -> Result<SendRequest<Bytes>, UpstreamError> {
        let config = &self.inner.config;
        let path = config.socket.clone();
        let after = config.connect_timeout;
        let timed_out = || UpstreamError::ConnectTimeout {
            path: path.clone(),
            after,
        };
        let stream = tokio::time::timeout(after, UnixStream::connect(&path))
            .await
            .map_err(|_| timed_out())?
            .map_err(|source| UpstreamError::Connect {
                path: path.clone(),
                source,
            })?;
        let mut builder = h2::client::Builder::new();
        builder
            .initial_max_send_streams(INITIAL_MAX_SEND_STREAMS)
            .initial_window_size(STREAM_WINDOW)
            .initial_connection_window_size(CONNECTION_WINDOW)
            .max_frame_size(MAX_FRAME_BYTES)
            .max_header_list_size(MAX_HEADER_LIST_BYTES)
            .max_send_buffer_size(MAX_SEND_BUFFER_BYTES)
            .max_local_error_reset_streams(Some(MAX_LOCAL_ERROR_RESET_STREAMS))
            .enable_push(false);
        let (sender, connection) = tokio::time::timeout(after, builder.handshake(stream))
            .await
            .map_err(|_| timed_out())?
            .map_err(|source| UpstreamError::Handshake {
                path: path.clone(),
                source,
            })?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "upstream connection ended");
            }
        });
        self.inner.counters.upstream_connected();
        tracing::debug!(socket = %path.display(), "connected to containerd");
        Ok(sender)
    }
}

/// The request URI for a method path, which must be a usable path and nothing else.
fn unary_uri(path: &str) -> Result<Uri, UpstreamError> {
    let mut parts = uri::Parts::default();
    parts.scheme = Some(uri::Scheme::HTTP);
    parts.authority = Some(uri::Authority::from_static("localhost"));
    parts.path_and_query = uri::PathAndQuery::try_from(path).ok();
    Uri::from_parts(parts)
        .ok()
        .filter(|uri| uri.path() == path && path.starts_with('/'))
        .ok_or_else(|| UpstreamError::InvalidPath {
            path: path.to_owned(),
        })
}

/// Request headers [`Upstream::unary`] does not send on.
fn is_dropped(name: &HeaderName) -> bool {
    const DROPPED: [&str; 9] = [
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "upgrade",
        "te",
        "host",
        "grpc-encoding",
        "grpc-accept-encoding",
    ];
    *name == CONTENT_LENGTH || DROPPED.contains(&name.as_str())
}
