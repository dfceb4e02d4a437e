//! The enforcement hook: which methods are decided in-process, and how.

use async_trait::async_trait;

use crate::unary::{UnaryRequest, UnaryResponse};
use crate::upstream::Upstream;

/// Decides some unary methods (PullImage, ImageStatus) instead of passing them through.
///
/// The proxy reads the whole request of an intercepted call (one message, at most the size
/// limit), calls [`Interceptor::call`] under the call's `grpc-timeout` (DEADLINE_EXCEEDED when it
/// passes) and sends the returned [`UnaryResponse`] to the kubelet as it is. If the kubelet
/// cancels, the future is dropped, and with it any upstream call it was making.
#[async_trait]
pub trait Interceptor: Send + Sync + 'static {
    /// Whether this method path is decided here (only unary methods are). Called for every call,
    /// on the raw `:path` (compared as grpc-go compares it: no unescaping); keep it cheap.
    fn intercepts(&self, path: &str) -> bool;

    /// A call to refuse outright, before its body is read (whatever it
    /// streams): the answer to send instead. Checked for every call before
    /// [`Interceptor::intercepts`]; keep it cheap. None by default.
    fn refuses(&self, _path: &str) -> Option<UnaryResponse> {
        None
    }

    /// Answers one intercepted call. `upstream` reaches containerd (to forward a possibly
    /// rewritten request, or to ask something of its own).
    async fn call(&self, request: UnaryRequest, upstream: &Upstream) -> UnaryResponse;
}

/// Intercepts nothing: every call passes through untouched.
#[derive(Debug, Clone, Copy, Default)]
pub struct PassThrough;

#[async_trait]
impl Interceptor for PassThrough {
    fn intercepts(&self, _path: &str) -> bool {
        false
    }

    async fn call(&self, request: UnaryRequest, upstream: &Upstream) -> UnaryResponse {
        match upstream
            .unary(&request.path, &request.metadata, request.message)
            .await
        {
            Ok(response) => response,
            Err(error) => error.to_response(),
        }
    }
}
