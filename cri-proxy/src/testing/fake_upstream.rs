//! A fake containerd: an in-process hyper HTTP/2 server on a unix socket that records every call
//! and answers as scripted.

use std::future::pending;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body::{Body, Frame};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::UnixListener;
use tokio::sync::{Notify, mpsc, oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};

use crate::grpc::status;

/// How the fake answers one call (after reading the whole request).
#[derive(Clone)]
pub(crate) enum Reply {
    /// Response headers, one message, trailers (add grpc-status yourself).
    Message {
        headers: HeaderMap,
        message: Bytes,
        trailers: HeaderMap,
    },
    /// Headers, no message, trailers with `code`, `message` and the extra trailing metadata.
    Error {
        code: u32,
        message: String,
        trailers: HeaderMap,
    },
    /// A trailers-only error: one HEADERS frame with the status.
    TrailersOnly { code: u32, message: String },
    /// The messages, one by one `gap` apart; the OK trailers only once `release` is notified.
    Stream {
        messages: Vec<Bytes>,
        gap: Duration,
        release: Arc<Notify>,
    },
    /// The messages, then the stream is reset (the body fails: hyper sends RST_STREAM).
    StreamThenReset { messages: Vec<Bytes> },
    /// Answers after `delay`.
    Delayed { delay: Duration, then: Box<Reply> },
    /// Never answers.
    Hang,
}

/// One call as the fake received it.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub(crate) path: String,
    pub(crate) authority: Option<String>,
    pub(crate) headers: HeaderMap,
    /// The raw body: gRPC prefixes included.
    pub(crate) body: Bytes,
}

type Script = Arc<dyn Fn(&str) -> Reply + Send + Sync>;

/// A running fake; stops (closing every connection) when stopped or dropped.
pub(crate) struct FakeUpstream {
    path: PathBuf,
    records: Arc<Mutex<Vec<Recorded>>>,
    cancelled: Arc<AtomicUsize>,
    drain: watch::Sender<bool>,
    closed: Option<oneshot::Receiver<()>>,
    task: JoinHandle<()>,
}

impl FakeUpstream {
    /// Serves `path` (removing a leftover socket file) with `script` choosing the reply by method.
    pub(crate) async fn start(
        path: &Path,
        script: impl Fn(&str) -> Reply + Send + Sync + 'static,
    ) -> FakeUpstream {
        let _ = std::fs::remove_file(path);
        let listener = UnixListener::bind(path).unwrap();
        let records = Arc::new(Mutex::new(Vec::new()));
        let cancelled = Arc::new(AtomicUsize::new(0));
        let (drain, draining) = watch::channel(false);
        let (closed_tx, closed) = oneshot::channel();
        let shared = Shared {
            script: Arc::new(script),
            records: records.clone(),
            cancelled: cancelled.clone(),
        };
        let task = tokio::spawn(accept(
            listener,
            path.to_path_buf(),
            shared,
            draining,
            closed_tx,
        ));
        FakeUpstream {
            path: path.to_path_buf(),
            records,
            cancelled,
            drain,
            closed: Some(closed),
            task,
        }
    }

    /// Every call received so far (complete request bodies only).
    pub(crate) fn records(&self) -> Vec<Recorded> {
        self.records.lock().unwrap().clone()
    }

    /// How many calls were dropped before the fake answered them (the client cancelled).
    pub(crate) fn cancelled(&self) -> usize {
        self.cancelled.load(Ordering::SeqCst)
    }

    /// Stops like a crashed containerd: every connection closed, the socket file removed.
    pub(crate) async fn stop(self) {
        self.task.abort();
        let _ = (&mut { self.task }).await;
        let _ = std::fs::remove_file(&self.path);
    }

    /// Stops like containerd on SIGTERM (grpc-go `GracefulStop`): the socket is closed and
    /// removed, every connection gets a GOAWAY, calls in flight finish. Returns once the socket is
    /// gone; the handle finishes when the last connection has.
    pub(crate) async fn drain(mut self) -> JoinHandle<()> {
        self.drain.send_replace(true);
        let _ = self.closed.take().unwrap().await;
        self.task
    }
}

#[derive(Clone)]
struct Shared {
    script: Script,
    records: Arc<Mutex<Vec<Recorded>>>,
    cancelled: Arc<AtomicUsize>,
}

async fn accept(
    listener: UnixListener,
    path: PathBuf,
    shared: Shared,
    mut draining: watch::Receiver<bool>,
    closed: oneshot::Sender<()>,
) {
    // Dropping the set (when this task is aborted) aborts every connection.
    let mut connections = JoinSet::new();
    loop {
        let stream = tokio::select! {
            () = drained(&mut draining) => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
        };
        let shared = shared.clone();
        let service = hyper::service::service_fn(move |request| handle(request, shared.clone()));
        let mut draining = draining.clone();
        connections.spawn(async move {
            // Like grpc-go: no `date` header, so the scripted headers are all there is.
            let connection = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                .auto_date_header(false)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                () = drained(&mut draining) => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    drop(listener);
    let _ = std::fs::remove_file(&path);
    let _ = closed.send(());
    while connections.join_next().await.is_some() {}
}

async fn drained(draining: &mut watch::Receiver<bool>) {
    let _ = draining.wait_for(|d| *d).await.map(|_| ());
}

/// Counts a handler dropped before it finished.
struct CancelGuard(Arc<AtomicUsize>, bool);

impl Drop for CancelGuard {
    fn drop(&mut self) {
        if !self.1 {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

async fn handle(
    request: Request<Incoming>,
    shared: Shared,
) -> Result<Response<ChannelBody>, hyper::Error> {
    let Shared {
        script,
        records,
        cancelled,
    } = shared;
    let mut guard = CancelGuard(cancelled, false);
    let (parts, body) = request.into_parts();
    let collected = body.collect().await?;
    let path = parts.uri.path().to_owned();
    records.lock().unwrap().push(Recorded {
        path: path.clone(),
        authority: parts.uri.authority().map(|a| a.to_string()),
        headers: parts.headers,
        body: collected.to_bytes(),
    });
    let response = respond(script(&path)).await;
    guard.1 = true;
    Ok(response)
}

async fn respond(mut reply: Reply) -> Response<ChannelBody> {
    loop {
        match reply {
            Reply::Delayed { delay, then } => {
                tokio::time::sleep(delay).await;
                reply = *then;
            }
            Reply::Hang => pending::<()>().await,
            Reply::Message {
                headers,
                message,
                trailers,
            } => {
                let frames = vec![
                    Frame::data(crate::grpc::frame::encode(&message)),
                    Frame::trailers(trailers),
                ];
                return response(headers, ChannelBody::ready(frames));
            }
            Reply::Error {
                code,
                message,
                mut trailers,
            } => {
                status::insert_status(&mut trailers, code, &message);
                return response(
                    grpc_headers(),
                    ChannelBody::ready(vec![Frame::trailers(trailers)]),
                );
            }
            Reply::TrailersOnly { code, message } => {
                let mut headers = grpc_headers();
                status::insert_status(&mut headers, code, &message);
                return response(headers, ChannelBody::ready(vec![]));
            }
            Reply::Stream {
                messages,
                gap,
                release,
            } => {
                let (tx, body) = ChannelBody::channel();
                tokio::spawn(async move {
                    for message in messages {
                        let _ = tx
                            .send(Frame::data(crate::grpc::frame::encode(&message)))
                            .await;
                        tokio::time::sleep(gap).await;
                    }
                    release.notified().await;
                    let mut trailers = HeaderMap::new();
                    status::insert_status(&mut trailers, 0, "");
                    let _ = tx.send(Frame::trailers(trailers)).await;
                });
                return response(grpc_headers(), body);
            }
            Reply::StreamThenReset { messages } => {
                let (tx, body) = ChannelBody::channel();
                tokio::spawn(async move {
                    for message in messages {
                        let _ = tx
                            .send(Frame::data(crate::grpc::frame::encode(&message)))
                            .await;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    let _ = tx.send_err().await;
                });
                return response(grpc_headers(), body);
            }
        }
    }
}

fn grpc_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/grpc"));
    headers
}

fn response(headers: HeaderMap, body: ChannelBody) -> Response<ChannelBody> {
    let mut response = Response::new(body);
    *response.headers_mut() = headers;
    response
}

/// The error a [`ChannelBody`] fails with, to make hyper reset the stream.
#[derive(Debug, thiserror::Error)]
#[error("fake upstream resets the stream")]
pub(crate) struct FakeReset;

type Item = Result<Frame<Bytes>, FakeReset>;

/// The sending side of a [`ChannelBody`].
struct FrameSender(mpsc::Sender<Item>);

impl FrameSender {
    async fn send(&self, frame: Frame<Bytes>) -> Result<(), mpsc::error::SendError<Item>> {
        self.0.send(Ok(frame)).await
    }

    async fn send_err(&self) -> Result<(), mpsc::error::SendError<Item>> {
        self.0.send(Err(FakeReset)).await
    }
}

/// A body fed frame by frame through a channel.
pub(crate) struct ChannelBody {
    rx: mpsc::Receiver<Item>,
    done: bool,
}

impl ChannelBody {
    fn channel() -> (FrameSender, ChannelBody) {
        let (tx, rx) = mpsc::channel(16);
        (FrameSender(tx), ChannelBody { rx, done: false })
    }

    fn ready(frames: Vec<Frame<Bytes>>) -> ChannelBody {
        let (tx, mut body) = ChannelBody::channel();
        body.done = frames.is_empty();
        for frame in frames {
            tx.0.try_send(Ok(frame)).unwrap();
        }
        body
    }
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = FakeReset;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.done {
            return Poll::Ready(None);
        }
        self.rx.poll_recv(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }
}
