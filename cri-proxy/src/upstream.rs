//! The connection to containerd: one shared HTTP/2 connection over its unix socket, opened on
//! first use and reopened on the next call after it breaks (containerd restarts).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderName, TE};
use http::{HeaderMap, HeaderValue, Method, Request, Response, Uri};
use hyper::body::Incoming;
use hyper::client::conn::http2::{Builder, SendRequest};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::UnixStream;

use crate::body::{CollectError, UpBody, collect_unary};
use crate::config::ProxyConfig;
use crate::error::UpstreamError;
use crate::grpc::{self, frame, timeout};
use crate::metrics::Counters;
use crate::unary::UnaryResponse;

/// Largest header block accepted from containerd (response headers, trailers).
pub(crate) const MAX_HEADER_LIST_BYTES: u32 = 64 * 1024;

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
    current: Mutex<Option<SendRequest<UpBody>>>,
    /// Held while connecting, so a burst of calls after a restart opens one connection.
    connecting: tokio::sync::Mutex<()>,
    counters: Arc<Counters>,
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
        self.sender().await.map(drop)
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
        let call = self.unary_call(path, metadata, message);
        match timeout::from_headers(metadata) {
            Some(after) => tokio::time::timeout(after, call)
                .await
                .unwrap_or(Err(UpstreamError::DeadlineExceeded { after })),
            None => call.await,
        }
    }

    async fn unary_call(
        &self,
        path: &str,
        metadata: &HeaderMap,
        message: Bytes,
    ) -> Result<UnaryResponse, UpstreamError> {
        let uri = Uri::builder()
            .scheme("http")
            .authority("localhost")
            .path_and_query(path)
            .build()
            .ok()
            .filter(|uri| uri.path() == path && path.starts_with('/'))
            .ok_or_else(|| UpstreamError::InvalidPath {
                path: path.to_owned(),
            })?;
        let mut request = Request::new(UpBody::Full(Some(frame::encode(&message))));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = uri;
        let headers = request.headers_mut();
        for (name, value) in metadata {
            if !is_dropped(name) {
                headers.append(name.clone(), value.clone());
            }
        }
        if !headers.contains_key(CONTENT_TYPE) {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(grpc::CONTENT_TYPE));
        }
        headers.insert(TE, HeaderValue::from_static("trailers"));

        let (parts, body) = self.send(request).await?.into_parts();
        if parts.status != http::StatusCode::OK {
            return Err(UpstreamError::HttpStatus {
                status: parts.status,
            });
        }
        let collected = collect_unary(body, self.inner.config.max_message_bytes)
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

    /// Sends one request on the shared connection, connecting first when there is none. A
    /// request the connection never took (it was closing) is sent again on a new connection;
    /// one it took is not retried.
    pub(crate) async fn send(
        &self,
        request: Request<UpBody>,
    ) -> Result<Response<Incoming>, UpstreamError> {
        let mut sender = self.sender().await?;
        match sender.try_send_request(request).await {
            Ok(response) => Ok(response),
            Err(mut error) => match error.take_message() {
                Some(request) => {
                    tracing::debug!(error = %error.error(), "upstream connection closing; reconnecting");
                    let mut sender = self.sender().await?;
                    sender
                        .send_request(request)
                        .await
                        .map_err(|source| UpstreamError::Send { source })
                }
                None => Err(UpstreamError::Send {
                    source: error.into_error(),
                }),
            },
        }
    }

    /// The live connection, or a new one.
    async fn sender(&self) -> Result<SendRequest<UpBody>, UpstreamError> {
        if let Some(sender) = self.live() {
            return Ok(sender);
        }
        let _connecting = self.inner.connecting.lock().await;
        if let Some(sender) = self.live() {
            return Ok(sender);
        }
        let sender = self.connect().await.inspect_err(|error| {
            self.inner.counters.upstream_connect_failed();
            tracing::warn!(socket = %self.socket().display(), reason = error.reason(), %error, "cannot reach containerd");
        })?;
        *self
            .inner
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(sender.clone());
        Ok(sender)
    }

    fn live(&self) -> Option<SendRequest<UpBody>> {
        let current = self
            .inner
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        current
            .as_ref()
            .filter(|sender| !sender.is_closed())
            .cloned()
    }

    async fn connect(&self) -> Result<SendRequest<UpBody>, UpstreamError> {
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
        let mut builder = Builder::new(TokioExecutor::new());
        builder.max_header_list_size(MAX_HEADER_LIST_BYTES);
        let (sender, connection) =
            tokio::time::timeout(after, builder.handshake(TokioIo::new(stream)))
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
