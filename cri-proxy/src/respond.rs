//! The one place where a failure becomes the gRPC status the kubelet sees.

use std::error::Error;
use std::time::Duration;

use crate::error::UpstreamError;
use crate::grpc::code;
use crate::grpc::frame::{FrameError, TooLarge};
use crate::unary::UnaryResponse;

/// A call the proxy has to answer itself.
#[derive(Debug)]
pub(crate) enum CallError {
    /// containerd could not be reached or answered below gRPC.
    Upstream(UpstreamError),
    /// The request of an intercepted call is not one acceptable message.
    Request(FrameError),
    /// The request body of an intercepted call broke off.
    RequestBody(hyper::Error),
    /// A passed-through message (either way) is over the limit.
    TooLarge(TooLarge),
    /// The call's `grpc-timeout` passed.
    Deadline(Duration),
}

impl UpstreamError {
    /// The gRPC status code this failure is reported with.
    pub fn code(&self) -> u32 {
        match self {
            UpstreamError::Connect { .. }
            | UpstreamError::ConnectTimeout { .. }
            | UpstreamError::Handshake { .. }
            | UpstreamError::Send { .. } => code::UNAVAILABLE,
            UpstreamError::HttpStatus { status } => code::from_http_status(*status),
            UpstreamError::Body { .. } | UpstreamError::InvalidPath { .. } => code::INTERNAL,
            UpstreamError::Frame { source } => frame_code(source),
            UpstreamError::DeadlineExceeded { .. } => code::DEADLINE_EXCEEDED,
        }
    }

    /// The answer the kubelet gets for this failure.
    pub fn to_response(&self) -> UnaryResponse {
        UnaryResponse::error(self.code(), &describe(self))
    }
}

/// The answer for a call the proxy could not complete.
pub(crate) fn respond(error: &CallError) -> UnaryResponse {
    match error {
        CallError::Upstream(error) => error.to_response(),
        CallError::Request(error) => UnaryResponse::error(request_code(error), &describe(error)),
        CallError::RequestBody(error) => UnaryResponse::error(code::CANCELLED, &describe(error)),
        CallError::TooLarge(error) => {
            UnaryResponse::error(code::RESOURCE_EXHAUSTED, &describe(error))
        }
        CallError::Deadline(after) => UnaryResponse::error(
            code::DEADLINE_EXCEEDED,
            &format!("pullgate: deadline exceeded after {after:?}"),
        ),
    }
}

/// The code a request-side framing problem gets, as grpc-go's server would answer it.
fn request_code(error: &FrameError) -> u32 {
    match error {
        // grpc-go: "grpc: Decompressor is not installed for grpc-encoding"
        FrameError::Compressed => code::UNIMPLEMENTED,
        other => frame_code(other),
    }
}

fn frame_code(error: &FrameError) -> u32 {
    match error {
        FrameError::TooLarge(_) => code::RESOURCE_EXHAUSTED,
        FrameError::Compressed
        | FrameError::Truncated { .. }
        | FrameError::TrailingData { .. }
        | FrameError::BadFlag { .. } => code::INTERNAL,
    }
}

/// `pullgate: ` and the error with its sources, joined by `: `.
fn describe(error: &dyn Error) -> String {
    let mut text = format!("pullgate: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_grpc_go() {
        let unreachable = UpstreamError::Connect {
            path: "/run/containerd/containerd.sock".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        let response = unreachable.to_response();
        assert_eq!(response.status(), code::UNAVAILABLE);
        let text = response.status_message().unwrap();
        assert!(
            text.starts_with("pullgate: cannot connect to /run/containerd/containerd.sock: "),
            "{text}"
        );

        let too_large = TooLarge {
            size: 17,
            limit: 16,
        };
        assert_eq!(
            respond(&CallError::TooLarge(too_large)).status(),
            code::RESOURCE_EXHAUSTED
        );
        assert_eq!(
            respond(&CallError::Request(FrameError::Compressed)).status(),
            code::UNIMPLEMENTED
        );
        let truncated = FrameError::Truncated { have: 3, need: 5 };
        assert_eq!(
            respond(&CallError::Request(truncated)).status(),
            code::INTERNAL
        );
        let late = CallError::Deadline(Duration::from_millis(5));
        assert_eq!(respond(&late).status(), code::DEADLINE_EXCEEDED);
        let status = UpstreamError::HttpStatus {
            status: http::StatusCode::SERVICE_UNAVAILABLE,
        };
        assert_eq!(status.code(), code::UNAVAILABLE);
    }
}
