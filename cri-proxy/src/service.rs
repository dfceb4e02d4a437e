//! One call from the kubelet: passed through to containerd as it is, or (for the methods the
//! [`Interceptor`] claims) read whole and decided in-process.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::{Request, Response};
use hyper::body::Incoming;

use crate::body::{CollectError, DownBody, Tripwire, UpBody, collect_unary};
use crate::grpc::frame::{FrameError, MessageLimiter};
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
    let tripwire = Arc::new(Tripwire::default());
    let (parts, body) = request.into_parts();
    let body = UpBody::Stream {
        inner: body,
        limiter: MessageLimiter::new(limit),
        tripwire: Arc::clone(&tripwire),
    };
    let sent = shared.upstream.send(Request::from_parts(parts, body));
    let result = match deadline.as_mut() {
        Some((after, sleep)) => tokio::select! {
            biased;
            result = sent => result,
            () = sleep.as_mut() => return respond(&CallError::Deadline(*after)).into_http(),
        },
        None => sent.await,
    };
    match result {
        Ok(response) => {
            let (parts, body) = response.into_parts();
            let sleep = deadline.map(|(_, sleep)| sleep);
            Response::from_parts(parts, DownBody::pass(body, limit, sleep, tripwire))
        }
        Err(error) => match tripwire.tripped(limit) {
            Some(too_large) => respond(&CallError::TooLarge(too_large)).into_http(),
            None => {
                tracing::debug!(reason = error.reason(), %error, "pass-through call failed");
                respond(&CallError::Upstream(error)).into_http()
            }
        },
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
