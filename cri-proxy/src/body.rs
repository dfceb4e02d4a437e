//! The bodies that flow through the proxy.
//!
//! Passed-through bodies are never collected: each chunk goes on as it arrives (h2 flow control
//! bounds what is buffered), and the wrappers only follow the 5-byte gRPC prefixes to enforce the
//! size limit. The kubelet's request body is piped into the upstream stream by [`RequestPipe`];
//! containerd's response body ([`UpstreamBody`]) is passed to hyper as the kubelet's response
//! body ([`DownBody`]). Unary bodies (intercepted calls, [`crate::Upstream::unary`]) are one
//! message, collected with a bound.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker, ready};

use bytes::{Bytes, BytesMut};
use h2::{Reason, RecvStream, SendStream};
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::time::Sleep;

use crate::grpc::frame::{self, FrameError, MessageLimiter, PREFIX_LEN, TooLarge};
use crate::grpc::{code, status};

/// Set by the request side of a passed-through call when the client sent a message over the
/// limit, read by the response side to answer RESOURCE_EXHAUSTED instead of the upstream's reset.
/// Only a request pipe that outlives the first poll (a body still streaming) needs one.
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

/// Why a request pipe stopped early.
#[derive(Debug)]
pub(crate) enum PipeError {
    /// The client sent a message over the limit; the upstream stream was reset.
    TooLarge(TooLarge),
    /// The client's body failed (it reset its stream); the upstream stream was reset with the
    /// same reason.
    Client,
}

/// The kubelet's request body on its way to containerd, under the size limit.
///
/// The first chunk is queued at once, behind the request head, so a unary call's HEADERS and
/// message leave in one write; every later chunk waits for send capacity first, as hyper's pipe
/// does, so no more than one chunk beyond the flow-control window is held. The kubelet's reset
/// is passed on with its reason; a message over the limit resets the upstream stream
/// (INTERNAL_ERROR, as hyper did for a failing body).
pub(crate) struct RequestPipe {
    body: Incoming,
    send: SendStream<Bytes>,
    limiter: MessageLimiter,
    /// A chunk waiting for send capacity, and whether it ends the body.
    waiting: Option<(Bytes, bool)>,
    sent_data: bool,
    tripwire: Option<Arc<Tripwire>>,
}

impl RequestPipe {
    pub(crate) fn new(body: Incoming, send: SendStream<Bytes>, limit: usize) -> RequestPipe {
        RequestPipe {
            body,
            send,
            limiter: MessageLimiter::new(limit),
            waiting: None,
            sent_data: false,
            tripwire: None,
        }
    }

    /// Reports a message over the limit to `tripwire` too (for a pipe that runs on its own).
    pub(crate) fn with_tripwire(mut self, tripwire: Arc<Tripwire>) -> RequestPipe {
        self.tripwire = Some(tripwire);
        self
    }

    /// Resets the upstream stream (the call was abandoned before its response came).
    pub(crate) fn cancel(&mut self) {
        self.send.send_reset(Reason::CANCEL);
    }

    /// Sends `data`; true when the pipe is done (the body ended, or the stream is gone and the
    /// response side reports why).
    fn send(&mut self, data: Bytes, end: bool) -> bool {
        self.sent_data = true;
        self.send.send_data(data, end).is_err() || end
    }
}

impl Future for RequestPipe {
    type Output = Result<(), PipeError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), PipeError>> {
        let me = self.get_mut();
        loop {
            // The upstream reset the stream: nothing more to send (the response side reports it).
            // Checked without leaving this task's waker with the stream: h2 would wake it when the
            // stream opens, after a body sent whole had already ended the pipe. Every way to
            // `Pending` below leaves it.
            let mut unwoken = Context::from_waker(Waker::noop());
            if me.send.poll_reset(&mut unwoken).is_ready() {
                return Poll::Ready(Ok(()));
            }
            if me.waiting.is_some() {
                while me.send.capacity() == 0 {
                    match ready!(me.send.poll_capacity(cx)) {
                        Some(Ok(0)) => {}
                        Some(Ok(_)) => break,
                        Some(Err(_)) | None => return Poll::Ready(Ok(())),
                    }
                }
                if let Some((data, end)) = me.waiting.take()
                    && me.send(data, end)
                {
                    return Poll::Ready(Ok(()));
                }
                continue;
            }
            let frame = match Pin::new(&mut me.body).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => frame,
                Poll::Ready(Some(Err(error))) => {
                    me.send.send_reset(h2_reason(&error));
                    return Poll::Ready(Err(PipeError::Client));
                }
                Poll::Ready(None) => {
                    let _ = me.send.send_data(Bytes::new(), true);
                    return Poll::Ready(Ok(()));
                }
                // Waiting for the kubelet: be woken by an upstream reset too.
                Poll::Pending => return me.send.poll_reset(cx).map(|_| Ok(())),
            };
            let data = match frame.into_data() {
                Ok(data) => data,
                Err(frame) => {
                    if let Ok(trailers) = frame.into_trailers() {
                        me.send.reserve_capacity(0);
                        let _ = me.send.send_trailers(trailers);
                        return Poll::Ready(Ok(()));
                    }
                    continue;
                }
            };
            if let Err(too_large) = me.limiter.feed(&data) {
                if let Some(tripwire) = &me.tripwire {
                    tripwire.trip(too_large);
                }
                me.send.send_reset(Reason::INTERNAL_ERROR);
                return Poll::Ready(Err(PipeError::TooLarge(too_large)));
            }
            let end = me.body.is_end_stream();
            if data.is_empty() || !me.sent_data {
                // Needs no capacity, or leaves with the request head.
                if me.send(data, end) {
                    return Poll::Ready(Ok(()));
                }
            } else {
                me.send.reserve_capacity(1);
                me.waiting = Some((data, end));
            }
        }
    }
}

/// The HTTP/2 reset reason somewhere in `error`'s sources (a client's RST_STREAM), else
/// INTERNAL_ERROR (hyper's choice for a body that failed otherwise).
fn h2_reason(error: &(dyn std::error::Error + 'static)) -> Reason {
    let mut source = Some(error);
    while let Some(error) = source {
        if let Some(reason) = error
            .downcast_ref::<h2::Error>()
            .and_then(h2::Error::reason)
        {
            return reason;
        }
        source = error.source();
    }
    Reason::INTERNAL_ERROR
}

/// containerd's response body: its data as it comes (the flow-control capacity released at once,
/// as hyper does), then its trailers.
#[derive(Debug)]
pub(crate) struct UpstreamBody {
    recv: RecvStream,
    data_done: bool,
}

impl UpstreamBody {
    pub(crate) fn new(recv: RecvStream) -> UpstreamBody {
        UpstreamBody {
            recv,
            data_done: false,
        }
    }
}

impl Body for UpstreamBody {
    type Data = Bytes;
    type Error = h2::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, h2::Error>>> {
        let me = self.get_mut();
        if !me.data_done {
            match ready!(me.recv.poll_data(cx)) {
                Some(Ok(data)) => {
                    let _ = me.recv.flow_control().release_capacity(data.len());
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                Some(Err(error)) => return Poll::Ready(Some(Err(error))),
                None => me.data_done = true,
            }
        }
        Poll::Ready(match ready!(me.recv.poll_trailers(cx)) {
            Ok(Some(trailers)) => Some(Ok(Frame::trailers(trailers))),
            Ok(None) => None,
            Err(error) => Some(Err(error)),
        })
    }

    fn is_end_stream(&self) -> bool {
        self.recv.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        // Not exact on purpose: hyper would add a content-length containerd did not send.
        SizeHint::default()
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
        inner: UpstreamBody,
        limit: usize,
        deadline: Option<Pin<Box<Sleep>>>,
        tripwire: Option<Arc<Tripwire>>,
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
    type Error = h2::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, h2::Error>>> {
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
    inner: Option<UpstreamBody>,
    limiter: MessageLimiter,
    limit: usize,
    deadline: Option<Pin<Box<Sleep>>>,
    tripwire: Option<Arc<Tripwire>>,
}

impl PassBody {
    fn poll_frame(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, h2::Error>>> {
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
            Some(Err(error)) => match self.tripwire.as_ref().and_then(|t| t.tripped(self.limit)) {
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
    ) -> Poll<Option<Result<Frame<Bytes>, h2::Error>>> {
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
pub(crate) enum CollectError<E> {
    Body(E),
    Frame(FrameError),
}

/// Reads a unary body: nothing or one uncompressed message of at most `limit` bytes. Refuses as
/// soon as the prefix shows a problem, so at most `limit` + 5 bytes (and one chunk) are held.
pub(crate) async fn collect_unary<B>(
    mut body: B,
    limit: usize,
) -> Result<Collected, CollectError<B::Error>>
where
    B: Body<Data = Bytes> + Unpin,
{
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
