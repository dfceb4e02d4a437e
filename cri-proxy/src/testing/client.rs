//! A raw gRPC client for tests: hyper's HTTP/2 client over a unix socket, sending framed bytes
//! and returning the response exactly as received.

use std::convert::Infallible;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::UnixStream;
use tokio::sync::mpsc;

use crate::grpc::status;

/// One HTTP/2 connection to the proxy.
pub(crate) struct TestClient {
    sender: SendRequest<Full<Bytes>>,
}

/// A request body fed chunk by chunk; it ends when the sender is dropped.
pub(crate) struct Feed(mpsc::Receiver<Bytes>);

impl Feed {
    pub(crate) fn channel() -> (mpsc::Sender<Bytes>, Feed) {
        let (tx, rx) = mpsc::channel(16);
        (tx, Feed(rx))
    }
}

impl Body for Feed {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|c| Ok(Frame::data(c))))
    }
}

/// Starts a call whose request body is fed through the returned sender, on a connection of its
/// own; the response comes with its body read whole.
pub(crate) async fn call_streaming(
    socket: &Path,
    path: &str,
    metadata: &[(&str, &str)],
) -> (
    mpsc::Sender<Bytes>,
    tokio::task::JoinHandle<Result<Answer, hyper::Error>>,
) {
    let stream = UnixStream::connect(socket).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let (feed, body) = Feed::channel();
    let request = grpc_request(path, metadata, body);
    let answer = tokio::spawn(async move {
        let response = sender.send_request(request).await?;
        Answer::read(response).await
    });
    (feed, answer)
}

fn grpc_request<B>(path: &str, metadata: &[(&str, &str)], body: B) -> Request<B> {
    let mut request = Request::post(format!("http://localhost{path}"))
        .body(body)
        .unwrap();
    let headers = request.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("application/grpc"));
    headers.insert("te", HeaderValue::from_static("trailers"));
    for (name, value) in metadata {
        headers.append(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    request
}

/// A whole response.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    /// The raw body, prefixes included.
    pub(crate) body: Bytes,
    pub(crate) trailers: Option<HeaderMap>,
}

impl Answer {
    /// grpc-status from the trailers, or from the headers of a trailers-only response.
    pub(crate) fn grpc_status(&self) -> Option<u32> {
        self.trailers
            .as_ref()
            .and_then(status::read_status)
            .or_else(|| status::read_status(&self.headers))
    }

    /// The decoded grpc-message from wherever the status is.
    pub(crate) fn grpc_message(&self) -> Option<String> {
        let map = self
            .trailers
            .as_ref()
            .filter(|t| t.contains_key("grpc-status"))
            .unwrap_or(&self.headers);
        map.get("grpc-message")
            .map(|v| status::decode_message(v.as_bytes()))
    }

    pub(crate) fn messages(&self) -> Vec<Bytes> {
        super::messages(&self.body)
    }

    async fn read(response: Response<Incoming>) -> Result<Answer, hyper::Error> {
        let (parts, body) = response.into_parts();
        let collected = body.collect().await?;
        Ok(Answer {
            status: parts.status,
            headers: parts.headers,
            trailers: collected.trailers().cloned(),
            body: collected.to_bytes(),
        })
    }
}

impl TestClient {
    pub(crate) async fn connect(path: &Path) -> std::io::Result<TestClient> {
        let stream = UnixStream::connect(path).await?;
        let (sender, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                .await
                .map_err(std::io::Error::other)?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(TestClient { sender })
    }

    /// Starts a call and returns the response head with the body still streaming.
    pub(crate) async fn start(
        &mut self,
        path: &str,
        metadata: &[(&str, &str)],
        body: Bytes,
    ) -> Result<Response<Incoming>, hyper::Error> {
        let request = grpc_request(path, metadata, Full::new(body));
        self.sender.send_request(request).await
    }

    /// A whole call.
    pub(crate) async fn call(
        &mut self,
        path: &str,
        metadata: &[(&str, &str)],
        body: Bytes,
    ) -> Result<Answer, hyper::Error> {
        let response = self.start(path, metadata, body).await?;
        Answer::read(response).await
    }
}
