//! One unary gRPC call, whole: what an [`crate::Interceptor`] receives and answers.

use std::fmt;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue, Response};

use crate::body::DownBody;
use crate::grpc::{self, code, frame, status};
use crate::peer::Peer;

/// One unary gRPC call, whole: metadata and the single (uncompressed) protobuf message.
///
/// `Debug` prints the path, the metadata names and the message length only: a `PullImage`
/// message carries registry credentials.
#[derive(Clone)]
pub struct UnaryRequest {
    /// The method path, e.g. `/runtime.v1.ImageService/PullImage`.
    pub path: String,
    /// The request headers as the kubelet sent them (`content-type`, `grpc-timeout`,
    /// `user-agent`, custom metadata); pseudo-headers are not in it.
    pub metadata: HeaderMap,
    /// The protobuf message, without the 5-byte gRPC prefix.
    pub message: Bytes,
    /// Who called.
    pub peer: Peer,
}

impl fmt::Debug for UnaryRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnaryRequest")
            .field("path", &self.path)
            .field("metadata", &self.metadata.keys().collect::<Vec<_>>())
            .field("message_len", &self.message.len())
            .field("peer", &self.peer)
            .finish()
    }
}

/// A unary gRPC answer as it goes back to the kubelet: response headers, the message (None on
/// error), and the trailers (`grpc-status`, `grpc-message`, any trailing metadata).
///
/// It is sent exactly as it is, with one addition: `content-type: application/grpc` when
/// `headers` has no `content-type`. With no message and no trailers it goes out as a gRPC
/// "trailers-only" response (one HEADERS frame that ends the stream), which is how
/// [`crate::Upstream::unary`] returns such an answer from containerd: then the status is in
/// `headers`.
#[derive(Clone, PartialEq)]
pub struct UnaryResponse {
    /// Response headers (HTTP status is always 200).
    pub headers: HeaderMap,
    /// The response message without the gRPC prefix; None when the call failed.
    pub message: Option<Bytes>,
    /// Trailers.
    pub trailers: HeaderMap,
}

impl UnaryResponse {
    /// A successful answer carrying `message`.
    pub fn ok(message: Bytes) -> UnaryResponse {
        let mut trailers = HeaderMap::new();
        status::insert_status(&mut trailers, code::OK, "");
        UnaryResponse {
            headers: grpc_headers(),
            message: Some(message),
            trailers,
        }
    }

    /// A failed call: `code` and `message` in the trailers (`grpc-message` percent-encoded as
    /// the gRPC spec says; an empty message is left out).
    pub fn error(code: u32, message: &str) -> UnaryResponse {
        let mut trailers = HeaderMap::new();
        status::insert_status(&mut trailers, code, message);
        UnaryResponse {
            headers: grpc_headers(),
            message: None,
            trailers,
        }
    }

    /// The `grpc-status`: from the trailers, else from the headers (trailers-only), else
    /// UNKNOWN (2) when neither carries a valid one.
    pub fn status(&self) -> u32 {
        status::read_status(&self.trailers)
            .or_else(|| status::read_status(&self.headers))
            .unwrap_or(code::UNKNOWN)
    }

    /// The decoded `grpc-message`, from wherever the status is.
    pub fn status_message(&self) -> Option<String> {
        let map = if self.trailers.contains_key(status::GRPC_STATUS) {
            &self.trailers
        } else {
            &self.headers
        };
        map.get(status::GRPC_MESSAGE)
            .map(|v| status::decode_message(v.as_bytes()))
    }

    pub(crate) fn into_http(self) -> Response<DownBody> {
        let trailers = (!self.trailers.is_empty()).then_some(self.trailers);
        let body = DownBody::unary(self.message.map(|m| frame::encode(&m)), trailers);
        let mut response = Response::new(body);
        *response.headers_mut() = self.headers;
        if !response.headers().contains_key(CONTENT_TYPE) {
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(grpc::CONTENT_TYPE));
        }
        response
    }
}

impl fmt::Debug for UnaryResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnaryResponse")
            .field("headers", &self.headers)
            .field("message_len", &self.message.as_ref().map(Bytes::len))
            .field("trailers", &self.trailers)
            .finish()
    }
}

fn grpc_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(grpc::CONTENT_TYPE));
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_and_ok_carry_their_status() {
        let denied =
            UnaryResponse::error(code::UNKNOWN, "SignatureValidationFailed: 100% unsigned");
        assert_eq!(denied.status(), 2);
        assert_eq!(
            denied.trailers.get("grpc-message").unwrap(),
            "SignatureValidationFailed: 100%25 unsigned"
        );
        assert_eq!(
            denied.status_message().unwrap(),
            "SignatureValidationFailed: 100% unsigned"
        );
        assert_eq!(UnaryResponse::ok(Bytes::from_static(b"x")).status(), 0);
    }

    #[test]
    fn trailers_only_status_is_read_from_headers() {
        let mut headers = grpc_headers();
        status::insert_status(&mut headers, code::NOT_FOUND, "no such image");
        let response = UnaryResponse {
            headers,
            message: None,
            trailers: HeaderMap::new(),
        };
        assert_eq!(response.status(), 5);
        assert_eq!(response.status_message().unwrap(), "no such image");
        let nothing = UnaryResponse {
            headers: HeaderMap::new(),
            message: None,
            trailers: HeaderMap::new(),
        };
        assert_eq!(nothing.status(), code::UNKNOWN);
    }

    #[test]
    fn debug_never_prints_the_message() {
        let request = UnaryRequest {
            path: "/runtime.v1.ImageService/PullImage".into(),
            metadata: HeaderMap::new(),
            message: Bytes::from_static(b"password=hunter2"),
            peer: Peer {
                uid: 0,
                gid: 0,
                pid: None,
            },
        };
        let printed = format!("{request:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("message_len: 16"));
    }
}
