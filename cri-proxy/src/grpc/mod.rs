//! The bits of gRPC-over-HTTP/2 the proxy needs without decoding a message: status codes and
//! `grpc-message` escaping, `grpc-timeout`, and the 5-byte message prefix.

pub mod code;
pub mod frame;
pub mod status;
pub mod timeout;

/// `content-type` of every gRPC request and response.
pub const CONTENT_TYPE: &str = "application/grpc";
