//! Test support: a scripted fake containerd and a raw gRPC client, both plain hyper HTTP/2 over
//! unix sockets.

pub(crate) mod client;
pub(crate) mod fake_upstream;

use bytes::Bytes;

pub(crate) use client::TestClient;
pub(crate) use fake_upstream::{FakeUpstream, Reply};

/// Frames one uncompressed message.
pub(crate) fn frame(message: &[u8]) -> Bytes {
    crate::grpc::frame::encode(message)
}

/// Splits a body into its messages (panics on malformed framing: tests only).
pub(crate) fn messages(mut body: &[u8]) -> Vec<Bytes> {
    let mut out = Vec::new();
    while !body.is_empty() {
        let (flag, len) = crate::grpc::frame::read_prefix(&body[..5]);
        assert_eq!(flag, 0, "compressed message in test body");
        let end = 5 + len as usize;
        out.push(Bytes::copy_from_slice(&body[5..end]));
        body = &body[end..];
    }
    out
}
