//! The bodies that flow through the proxy.
//!
//! Passed-through bodies are hyper's [`Incoming`] wrapped, never collected: each chunk goes on as
//! it arrives (h2 flow control bounds what is buffered), and the wrapper only follows the 5-byte
//! gRPC prefixes to enforce the size limit. Unary bodies (intercepted calls, [`crate::Upstream::unary`])
//! are one message, collected with a bound.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};

use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::time::Sleep;

use crate::grpc::frame::{self, FrameError, MessageLimiter, PREFIX_LEN, TooLarge};
use crate::grpc::{code, status};

/// Set by the request side of a passed-through call when the client sent a message over the
/// limit, read by the response side to answer RESOURCE_EXHAUSTED instead of the upstream's reset.
#[derive(Debug, Default)]
pub(crate) struct Tripwire {
    size: AtomicU64,
}

impl Tripwire {
    fn trip(&self, too_large: TooLarge) {
        self.size.store(too_large.size, Ordering::Release);
    }

    /// The oversized message, if the request side refused one.
    pub(crate) fn tripped(&self, limit: usize) -> Option<TooLarge> {
        let size = self.size.load(Ordering::Acquire);
        (size > 0).then_some(TooLarge {
            size,
            limit: limit as u64,
        })
    }
}

/// Why a request body sent upstream stopped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BodyError {
    /// The client's body failed (its reset reason is passed on upstream).
    #[error("the client's request body failed")]
    Client(#[source] hyper::Error),
    /// The client sent a message over the limit.
    #[error(transparent)]
    TooLarge(TooLarge),
}

/// A request body sent to containerd.
#[derive(Debug)]
pub(crate) enum UpBody {
    /// The kubelet's body, passed through under the size limit.
    Stream {
        inner: Incoming,
        limiter: MessageLimiter,
        tripwire: Arc<Tripwire>,
    },
    /// One framed message built here.
    Full(Option<Bytes>),
}

impl Body for UpBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        match self.get_mut() {
            UpBody::Full(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            UpBody::Stream {
                inner,
                limiter,
                tripwire,
            } => match ready!(Pin::new(inner).poll_frame(cx)) {
                Some(Ok(frame)) => {
                    if let Some(Err(too_large)) = frame.data_ref().map(|d| limiter.feed(d)) {
                        tripwire.trip(too_large);
                        return Poll::Ready(Some(Err(BodyError::TooLarge(too_large))));
                    }
                    Poll::Ready(Some(Ok(frame)))
                }
                Some(Err(error)) => Poll::Ready(Some(Err(BodyError::Client(error)))),
                None => Poll::Ready(None),
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            UpBody::Full(data) => data.is_none(),
            UpBody::Stream { inner, .. } => inner.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            // Not exact on purpose: hyper would add a content-length the caller did not send.
            UpBody::Full(_) => SizeHint::default(),
            UpBody::Stream { inner, .. } => inner.size_hint(),
        }
    }
}

/// A response body sent to the kubelet.
#[derive(Debug)]
pub(crate) enum DownBody {
    /// containerd's body, passed through.
    Pass(PassBody),
    /// An answer built here: at most one framed message, then trailers.
    Unary {
        message: Option<Bytes>,
        trailers: Option<HeaderMap>,
    },
}

impl DownBody {
    pub(crate) fn unary(message: Option<Bytes>, trailers: Option<HeaderMap>) -> DownBody {
        DownBody::Unary { message, trailers }
    }

    pub(crate) fn pass(
        inner: Incoming,
        limit: usize,
        deadline: Option<Pin<Box<Sleep>>>,
        tripwire: Arc<Tripwire>,
    ) -> DownBody {
        DownBody::Pass(PassBody {
            inner: Some(inner),
            limiter: MessageLimiter::new(limit),
            limit,
            deadline,
            tripwire,
        })
    }
}

impl Body for DownBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        match self.get_mut() {
            DownBody::Pass(pass) => pass.poll_frame(cx),
            DownBody::Unary { message, trailers } => Poll::Ready(match message.take() {
                Some(message) => Some(Ok(Frame::data(message))),
                None => trailers.take().map(|t| Ok(Frame::trailers(t))),
            }),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            DownBody::Pass(pass) => pass.inner.as_ref().is_none_or(Body::is_end_stream),
            DownBody::Unary { message, trailers } => message.is_none() && trailers.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            DownBody::Pass(PassBody {
                inner: Some(inner), ..
            }) => inner.size_hint(),
            _ => SizeHint::default(),
        }
    }
}

/// containerd's response body on its way to the kubelet. Ends early with a gRPC status of its own
/// when a message is over the limit (RESOURCE_EXHAUSTED) or the call's deadline passes
/// (DEADLINE_EXCEEDED); dropping `inner` then resets the upstream stream.
#[derive(Debug)]
pub(crate) struct PassBody {
    inner: Option<Incoming>,
    limiter: MessageLimiter,
    limit: usize,
    deadline: Option<Pin<Box<Sleep>>>,
    tripwire: Arc<Tripwire>,
}

impl PassBody {
    fn poll_frame(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(None);
        };
        if let Some(deadline) = self.deadline.as_mut()
            && deadline.as_mut().poll(cx).is_ready()
        {
            return self.finish(code::DEADLINE_EXCEEDED, "pullgate: deadline exceeded");
        }
        match ready!(Pin::new(inner).poll_frame(cx)) {
            Some(Ok(frame)) => {
                if let Some(Err(too_large)) = frame.data_ref().map(|d| self.limiter.feed(d)) {
                    return self
                        .finish(code::RESOURCE_EXHAUSTED, &format!("pullgate: {too_large}"));
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Some(Err(error)) => match self.tripwire.tripped(self.limit) {
                Some(too_large) => {
                    self.finish(code::RESOURCE_EXHAUSTED, &format!("pullgate: {too_large}"))
                }
                // The upstream reset the stream (or the connection broke): hyper resets the
                // kubelet's stream with the same reason.
                None => Poll::Ready(Some(Err(error))),
            },
            None => Poll::Ready(None),
        }
    }

    /// Drops the upstream body and ends the stream with `code`.
    fn finish(
        &mut self,
        code: u32,
        message: &str,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        self.inner = None;
        self.deadline = None;
        let mut trailers = HeaderMap::new();
        status::insert_status(&mut trailers, code, message);
        Poll::Ready(Some(Ok(Frame::trailers(trailers))))
    }
}

/// The body of a unary call, read whole.
#[derive(Debug, Default)]
pub(crate) struct Collected {
    /// The one message (without prefix), if the body had one.
    pub(crate) message: Option<Bytes>,
    /// The trailers, if any came.
    pub(crate) trailers: Option<HeaderMap>,
}

/// Why a unary body could not be read.
#[derive(Debug)]
pub(crate) enum CollectError {
    Body(hyper::Error),
    Frame(FrameError),
}

/// Reads a unary body: nothing or one uncompressed message of at most `limit` bytes. Refuses as
/// soon as the prefix shows a problem, so at most `limit` + 5 bytes (and one chunk) are held.
pub(crate) async fn collect_unary(
    mut body: Incoming,
    limit: usize,
) -> Result<Collected, CollectError> {
    let mut first: Option<Bytes> = None;
    let mut joined: Option<BytesMut> = None;
    let mut total = 0usize;
    let mut expected: Option<usize> = None;
    let mut trailers = None;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(CollectError::Body)?;
        let data = match frame.into_data() {
            Ok(data) => data,
            Err(frame) => {
                trailers = frame.into_trailers().ok();
                continue;
            }
        };
        total += data.len();
        match (&first, &mut joined) {
            (None, _) => first = Some(data),
            (Some(head), None) => {
                let mut buf =
                    BytesMut::with_capacity(expected.unwrap_or(total).min(limit + PREFIX_LEN));
                buf.extend_from_slice(head);
                buf.extend_from_slice(&data);
                joined = Some(buf);
            }
            (Some(_), Some(buf)) => buf.extend_from_slice(&data),
        }
        if expected.is_none() && total >= PREFIX_LEN {
            let head = joined.as_deref().or(first.as_deref()).unwrap_or_default();
            let (flag, size) = frame::read_prefix(head);
            frame::check_prefix(flag, size, limit).map_err(CollectError::Frame)?;
            // check_prefix bounded size by limit, a usize
            expected = Some(PREFIX_LEN + size as usize);
        }
        if let Some(expected) = expected.filter(|&e| total > e) {
            return Err(CollectError::Frame(FrameError::TrailingData {
                extra: total - expected,
            }));
        }
    }
    let all = match (joined, first) {
        (Some(buf), _) => buf.freeze(),
        (None, Some(first)) => first,
        (None, None) => Bytes::new(),
    };
    let message = frame::decode_single(&all, limit).map_err(CollectError::Frame)?;
    Ok(Collected { message, trailers })
}
