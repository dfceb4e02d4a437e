//! Calls the interceptor claims: decided in-process, answered exactly as decided.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};

use super::{Behaviour, Harness, TestInterceptor, own_uid};
use crate::grpc::code;
use crate::proto;
use crate::testing::{Reply, frame};
use crate::{UnaryResponse, Upstream, UpstreamConfig};

const PULL: &str = "/runtime.v1.ImageService/PullImage";
const STATUS: &str = "/runtime.v1.ImageService/ImageStatus";
const IMAGES_GET: &str = "/containerd.services.images.v1.Images/Get";

/// A PullImageRequest with an unknown field inside the ImageSpec and one at the top.
fn pull_request(image: &str) -> Vec<u8> {
    let mut spec = Vec::new();
    proto::encode_len_field(1, image.as_bytes(), &mut spec);
    proto::encode_varint_field(4242, 1, &mut spec);
    let mut msg = Vec::new();
    proto::encode_len_field(1, &spec, &mut msg);
    proto::encode_len_field(77, b"future", &mut msg);
    msg
}

fn ok_reply(message: &'static [u8]) -> Reply {
    let mut trailers = HeaderMap::new();
    trailers.insert("grpc-status", HeaderValue::from_static("0"));
    trailers.insert("x-from", HeaderValue::from_static("containerd"));
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/grpc"));
    Reply::Message {
        headers,
        message: Bytes::from_static(message),
        trailers,
    }
}

#[tokio::test]
async fn an_intercepted_call_is_answered_by_the_interceptor_exactly() {
    let mut decided = UnaryResponse::ok(Bytes::from_static(b"\x0a\x0bsha256:cafe"));
    decided
        .headers
        .insert("x-pullgate", HeaderValue::from_static("verified"));
    decided.trailers.insert(
        "x-verdict",
        HeaderValue::from_static("verified; digest=sha256:cafe"),
    );
    let interceptor = TestInterceptor::new(&[PULL], Behaviour::Answer(decided.clone()));
    let harness = Harness::start_with(
        Some(|_: &str| ok_reply(b"upstream")),
        interceptor.clone(),
        |_| {},
    )
    .await;

    let message = pull_request("registry.example/app:v1");
    let metadata = [("x-request-id", "42"), ("grpc-timeout", "10S")];
    let answer = harness
        .client()
        .await
        .call(PULL, &metadata, frame(&message))
        .await
        .unwrap();

    assert_eq!(answer.headers, decided.headers);
    assert_eq!(answer.body, frame(&decided.message.clone().unwrap()));
    assert_eq!(answer.trailers.as_ref(), Some(&decided.trailers));
    assert!(
        harness.fake().records().is_empty(),
        "an intercepted call does not reach the upstream by itself"
    );

    let seen = interceptor.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, PULL);
    assert_eq!(seen[0].message, message);
    assert_eq!(seen[0].metadata.get("x-request-id").unwrap(), "42");
    assert_eq!(seen[0].peer.uid, own_uid());
    assert_eq!(
        seen[0].peer.pid,
        Some(i32::try_from(std::process::id()).unwrap())
    );
}

#[tokio::test]
async fn a_denial_reaches_the_kubelet_as_unknown_with_its_message() {
    let denial = UnaryResponse::error(
        code::UNKNOWN,
        "SignatureValidationFailed: no trusted signature for app:v1",
    );
    let interceptor = TestInterceptor::new(&[PULL], Behaviour::Answer(denial));
    let harness = Harness::start_with(Some(|_: &str| ok_reply(b"x")), interceptor, |_| {}).await;
    let answer = harness
        .client()
        .await
        .call(PULL, &[], frame(&pull_request("app:v1")))
        .await
        .unwrap();
    assert_eq!(answer.grpc_status(), Some(code::UNKNOWN));
    assert_eq!(
        answer.grpc_message().unwrap(),
        "SignatureValidationFailed: no trusted signature for app:v1"
    );
    assert!(answer.body.is_empty());
}

#[tokio::test]
async fn the_interceptor_forwards_a_spliced_request_upstream() {
    let digest_ref = "registry.example/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let interceptor = TestInterceptor::new(&[PULL], Behaviour::SpliceAndForward(digest_ref));
    let harness = Harness::start_with(
        Some(|_: &str| ok_reply(b"\x0a\x04sha2")),
        interceptor,
        |_| {},
    )
    .await;
    let metadata = [("x-request-id", "7"), ("grpc-timeout", "5S")];
    let answer = harness
        .client()
        .await
        .call(
            PULL,
            &metadata,
            frame(&pull_request("registry.example/app:v1")),
        )
        .await
        .unwrap();

    let recorded = harness.fake().records();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].path, PULL);
    assert_eq!(
        recorded[0].body,
        frame(&pull_request(digest_ref)),
        "only the image reference changed"
    );
    assert_eq!(recorded[0].headers.get("x-request-id").unwrap(), "7");
    assert_eq!(recorded[0].headers.get("grpc-timeout").unwrap(), "5S");
    assert_eq!(recorded[0].headers.get("te").unwrap(), "trailers");
    assert_eq!(recorded[0].headers.get("content-length"), None);

    assert_eq!(answer.messages(), vec![Bytes::from_static(b"\x0a\x04sha2")]);
    assert_eq!(
        answer.trailers.as_ref().unwrap().get("x-from").unwrap(),
        "containerd"
    );
}

#[tokio::test]
async fn the_interceptor_can_ask_containerds_own_api() {
    let mut metadata = HeaderMap::new();
    metadata.insert("containerd-namespace", HeaderValue::from_static("k8s.io"));
    metadata.insert("grpc-accept-encoding", HeaderValue::from_static("gzip"));
    let mut get = Vec::new();
    proto::encode_len_field(1, b"registry.example/app:v1", &mut get);
    let ask = Behaviour::Ask {
        path: IMAGES_GET,
        metadata,
        message: get.clone().into(),
    };
    let interceptor = TestInterceptor::new(&[STATUS], ask);
    let harness = Harness::start_with(
        Some(|_: &str| Reply::TrailersOnly {
            code: code::NOT_FOUND,
            message: "image not found".into(),
        }),
        interceptor,
        |_| {},
    )
    .await;

    let answer = harness
        .client()
        .await
        .call(STATUS, &[], frame(b"\x0a\x00"))
        .await
        .unwrap();
    let recorded = &harness.fake().records()[0];
    assert_eq!(recorded.path, IMAGES_GET);
    assert_eq!(recorded.body, frame(&get));
    assert_eq!(
        recorded.headers.get("containerd-namespace").unwrap(),
        "k8s.io"
    );
    assert_eq!(
        recorded.headers.get("grpc-accept-encoding"),
        None,
        "the answer must come uncompressed"
    );
    // containerd's trailers-only answer goes back as one.
    assert_eq!(answer.trailers, None);
    assert_eq!(answer.grpc_status(), Some(code::NOT_FOUND));
    assert_eq!(answer.grpc_message().unwrap(), "image not found");
}

#[tokio::test]
async fn an_intercepted_call_honours_grpc_timeout() {
    let interceptor = TestInterceptor::new(&[PULL], Behaviour::Hang);
    let harness = Harness::start_with(Some(|_: &str| ok_reply(b"")), interceptor, |_| {}).await;
    let started = Instant::now();
    let answer = harness
        .client()
        .await
        .call(PULL, &[("grpc-timeout", "100m")], frame(b""))
        .await
        .unwrap();
    assert_eq!(answer.grpc_status(), Some(code::DEADLINE_EXCEEDED));
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn upstream_unary_reports_transport_failures_as_errors() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("containerd.sock");
    let upstream = Upstream::new(UpstreamConfig {
        socket: socket.clone(),
        max_message_bytes: 1024,
        connect_timeout: Duration::from_secs(1),
    });
    let error = upstream
        .unary(STATUS, &HeaderMap::new(), Bytes::new())
        .await
        .unwrap_err();
    assert_eq!(error.reason(), "upstream_connect");
    assert_eq!(error.code(), code::UNAVAILABLE);
    assert!(upstream.ready().await.is_err());

    let _fake = crate::testing::FakeUpstream::start(&socket, |path| match path {
        "/big" => ok_reply(&[0; 1025]),
        _ => Reply::Hang,
    })
    .await;
    upstream.ready().await.unwrap();
    let mut metadata = HeaderMap::new();
    metadata.insert("grpc-timeout", HeaderValue::from_static("50m"));
    let error = upstream
        .unary(STATUS, &metadata, Bytes::new())
        .await
        .unwrap_err();
    assert_eq!(error.reason(), "deadline_exceeded");
    let error = upstream
        .unary("/big", &HeaderMap::new(), Bytes::new())
        .await
        .unwrap_err();
    assert_eq!(error.code(), code::RESOURCE_EXHAUSTED);
    let error = upstream
        .unary("no-slash", &HeaderMap::new(), Bytes::new())
        .await
        .unwrap_err();
    assert_eq!(error.reason(), "invalid_path");
}

#[tokio::test]
async fn a_call_made_within_an_intercepted_call_sends_what_unary_sends() {
    let harness = Harness::start(|_| ok_reply(b"answer")).await;
    let mut metadata = HeaderMap::new();
    for (name, value) in [
        ("x-custom", "a"),
        ("x-custom", "b"),
        ("grpc-accept-encoding", "gzip"),
        ("grpc-encoding", "identity"),
        ("content-length", "12"),
        ("te", "trailers"),
        ("content-type", "application/grpc+proto"),
        ("grpc-timeout", "5S"),
    ] {
        metadata.append(name, HeaderValue::from_static(value));
    }
    let by_unary = harness
        .upstream
        .unary(STATUS, &metadata, Bytes::from_static(b"q"))
        .await
        .unwrap();
    let in_call = harness
        .upstream
        .unary_in_call(STATUS, metadata, Bytes::from_static(b"q"))
        .await
        .unwrap();
    assert_eq!(in_call, by_unary);
    assert_eq!(in_call.message.as_deref(), Some(&b"answer"[..]));
    let records = harness.fake().records();
    let sorted = |headers: &HeaderMap| {
        let mut pairs: Vec<(String, Vec<u8>)> = headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
            .collect();
        pairs.sort();
        pairs
    };
    assert_eq!(sorted(&records[1].headers), sorted(&records[0].headers));
    assert_eq!(records[1].body, records[0].body);
    let seen = &records[1].headers;
    assert_eq!(seen.get_all("x-custom").iter().count(), 2);
    assert_eq!(seen.get("te").unwrap(), "trailers");
    assert_eq!(seen.get("content-type").unwrap(), "application/grpc+proto");
    for dropped in ["grpc-accept-encoding", "grpc-encoding", "content-length"] {
        assert!(seen.get(dropped).is_none(), "{dropped}");
    }
}
