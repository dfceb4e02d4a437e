//! One call from the kubelet: passed through to containerd as it is, or (for the methods the
//! [`Interceptor`] claims) read whole and decided in-process.

use std::convert::Infallible;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use h2::RecvStream;
use http::{Request, Response};
use http_body::Body;
use hyper::body::Incoming;
use tokio::sync::oneshot;

use crate::body::{
    CollectError, DownBody, PipeError, RequestPipe, Tripwire, UpstreamBody, collect_unary,
};
use crate::error::UpstreamError;
use crate::grpc::frame::FrameError;
use crate::grpc::timeout;
use crate::interceptor::Interceptor;
use crate::peer::Peer;
use crate::respond::{CallError, respond};
use crate::unary::{UnaryRequest, UnaryResponse};
use crate::upstream::Upstream;

/// What every call on every connection shares.
pub(crate) struct Shared {
    pub(crate) interceptor: Arc<dyn Interceptor>,
    pub(crate) upstream: Upstream,
    pub(crate) max_message_bytes: usize,
}

/// The hyper service of one accepted connection.
#[derive(Clone)]
pub(crate) struct CallHandler {
    shared: Arc<Shared>,
    peer: Peer,
}

type CallFuture = Pin<Box<dyn Future<Output = Result<Response<DownBody>, Infallible>> + Send>>;

impl CallHandler {
    pub(crate) fn new(shared: Arc<Shared>, peer: Peer) -> CallHandler {
        CallHandler { shared, peer }
    }
}

impl hyper::service::Service<Request<Incoming>> for CallHandler {
    type Response = Response<DownBody>;
    type Error = Infallible;
    type Future = CallFuture;

    fn call(&self, request: Request<Incoming>) -> CallFuture {
        let shared = Arc::clone(&self.shared);
        if let Some(answer) = shared.interceptor.refuses(request.uri().path()) {
            return Box::pin(async move { Ok(answer.into_http()) });
        }
        if shared.interceptor.intercepts(request.uri().path()) {
            let peer = self.peer;
            Box::pin(async move { Ok(intercept(&shared, peer, request).await.into_http()) })
        } else {
            Box::pin(async move { Ok(pass(&shared, request).await) })
        }
    }
}

/// Forwards the call untouched: same headers, the body streamed both ways, containerd's
/// response head, body and trailers as they come. The proxy answers itself only when containerd
/// cannot be reached (UNAVAILABLE), a message is over the limit (RESOURCE_EXHAUSTED) or the
/// call's `grpc-timeout` passes first (DEADLINE_EXCEEDED; the header also goes on upstream).
async fn pass(shared: &Shared, request: Request<Incoming>) -> Response<DownBody> {
    let limit = shared.max_message_bytes;
    // One timer for the whole call: it bounds the wait for the response head, then moves into
    // the response body to bound the rest.
    let mut deadline = timeout::from_headers(request.headers())
        .map(|after| (after, Box::pin(tokio::time::sleep(after))));
    let head = forward(shared, request);
    let result = match deadline.as_mut() {
        Some((after, sleep)) => tokio::select! {
            biased;
            result = head => result,
            () = sleep.as_mut() => return respond(&CallError::Deadline(*after)).into_http(),
        },
        None => head.await,
    };
    match result {
        Ok((response, tripwire)) => {
            let (parts, body) = response.into_parts();
            let sleep = deadline.map(|(_, sleep)| sleep);
            let body = DownBody::pass(UpstreamBody::new(body), limit, sleep, tripwire);
            Response::from_parts(parts, body)
        }
        Err(error) => {
            if let CallError::Upstream(error) = &error {
                tracing::debug!(reason = error.reason(), %error, "pass-through call failed");
            }
            respond(&error).into_http()
        }
    }
}

/// Sends the request on and waits for the response head. What the kubelet has sent of the body
/// goes at once (with the head, in one write); a body still streaming is piped by a task of its
/// own, which shares a [`Tripwire`] with the response side and is cancelled (RST_STREAM CANCEL)
/// if this future is dropped before the head comes.
async fn forward(
    shared: &Shared,
    request: Request<Incoming>,
) -> Result<(Response<RecvStream>, Option<Arc<Tripwire>>), CallError> {
    let limit = shared.max_message_bytes;
    let (parts, body) = request.into_parts();
    let end_of_stream = body.is_end_stream();
    let opened = shared
        .upstream
        .open(Request::from_parts(parts, ()), end_of_stream)
        .await
        .map_err(CallError::Upstream)?;
    let mut piping = None;
    if !end_of_stream {
        let mut pipe = RequestPipe::new(body, opened.body, limit);
        match poll_fn(|cx| Poll::Ready(Pin::new(&mut pipe).poll(cx))).await {
            Poll::Ready(Err(PipeError::TooLarge(too_large))) => {
                return Err(CallError::TooLarge(too_large));
            }
            // Done, or the kubelet reset its stream (passed on upstream; the response fails).
            Poll::Ready(_) => {}
            Poll::Pending => {
                let tripwire = Arc::new(Tripwire::default());
                let (cancel, cancelled) = oneshot::channel();
                let pipe = pipe.with_tripwire(Arc::clone(&tripwire));
                tokio::spawn(run_pipe(pipe, cancelled));
                piping = Some((tripwire, CancelOnDrop(Some(cancel))));
            }
        }
    }
    match opened.response.await {
        Ok(response) => Ok((
            response,
            piping.map(|(tripwire, cancel)| {
                cancel.disarm();
                tripwire
            }),
        )),
        Err(source) => {
            let tripped = piping.as_ref().and_then(|(t, _)| t.tripped(limit));
            Err(match tripped {
                Some(too_large) => CallError::TooLarge(too_large),
                None => CallError::Upstream(UpstreamError::Send { source }),
            })
        }
    }
}

/// Pipes a streaming request body until it ends, fails, or the call is abandoned.
async fn run_pipe(mut pipe: RequestPipe, cancelled: oneshot::Receiver<()>) {
    tokio::select! {
        _ = &mut pipe => {}
        Ok(()) = cancelled => pipe.cancel(),
    }
}

/// Tells a request pipe that its call was abandoned, unless disarmed.
struct CancelOnDrop(Option<oneshot::Sender<()>>);

impl CancelOnDrop {
    /// The response head came: the pipe runs to the end of the body.
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(cancel) = self.0.take() {
            let _ = cancel.send(());
        }
    }
}

/// Reads the one request message and lets the interceptor answer, all under the call's
/// `grpc-timeout`.
async fn intercept(shared: &Shared, peer: Peer, request: Request<Incoming>) -> UnaryResponse {
    let deadline = timeout::from_headers(request.headers());
    let call = async {
        let (parts, body) = request.into_parts();
        let message = match collect_unary(body, shared.max_message_bytes).await {
            Ok(collected) => collected.message,
            Err(CollectError::Body(error)) => return respond(&CallError::RequestBody(error)),
            Err(CollectError::Frame(error)) => return respond(&CallError::Request(error)),
        };
        let Some(message) = message else {
            let missing = FrameError::Truncated { have: 0, need: 5 };
            return respond(&CallError::Request(missing));
        };
        let path = parts.uri.path().to_owned();
        let request = UnaryRequest {
            path,
            metadata: parts.headers,
            message,
            peer,
        };
        shared.interceptor.call(request, &shared.upstream).await
    };
    match deadline {
        Some(after) => tokio::time::timeout(after, call)
            .await
            .unwrap_or_else(|_| respond(&CallError::Deadline(after))),
        None => call.await,
    }
}
