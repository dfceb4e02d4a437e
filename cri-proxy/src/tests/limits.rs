//! The message size limit, both ways, passed through and intercepted.

use std::sync::Arc;

use bytes::Bytes;
use http::HeaderMap;

use super::{Behaviour, Harness, TestInterceptor};
use crate::grpc::code;
use crate::testing::{Reply, frame};
use crate::{PassThrough, UnaryResponse};

const PATH: &str = "/runtime.v1.ImageService/ListImages";

fn echo_size(size: usize) -> impl Fn(&str) -> Reply + Send + Sync + 'static {
    move |_| {
        let mut trailers = HeaderMap::new();
        trailers.insert("grpc-status", "0".parse().unwrap());
        Reply::Message {
            headers: HeaderMap::new(),
            message: Bytes::from(vec![7u8; size]),
            trailers,
        }
    }
}

async fn with_limit(limit: usize, response_size: usize) -> Harness {
    Harness::start_with(
        Some(echo_size(response_size)),
        Arc::new(PassThrough),
        |config| {
            config.max_message_bytes = limit;
        },
    )
    .await
}

#[tokio::test]
async fn a_request_over_the_limit_is_refused_with_resource_exhausted() {
    let harness = with_limit(1024, 10).await;
    let mut client = harness.client().await;

    let answer = client.call(PATH, &[], frame(&[1u8; 1024])).await.unwrap();
    assert_eq!(
        answer.grpc_status(),
        Some(0),
        "a message of exactly the limit passes"
    );

    let answer = client.call(PATH, &[], frame(&[1u8; 1025])).await.unwrap();
    assert_eq!(answer.grpc_status(), Some(code::RESOURCE_EXHAUSTED));
    assert_eq!(
        answer.grpc_message().unwrap(),
        "pullgate: grpc: received message larger than max (1025 vs. 1024)"
    );
    // The upstream never got a complete request (its stream was reset).
    assert_eq!(harness.fake().records().len(), 1);
}

#[tokio::test]
async fn a_response_over_the_limit_is_refused_with_resource_exhausted() {
    let harness = with_limit(1024, 1025).await;
    let answer = harness
        .client()
        .await
        .call(PATH, &[], frame(b""))
        .await
        .unwrap();
    assert_eq!(answer.grpc_status(), Some(code::RESOURCE_EXHAUSTED));
    assert!(
        answer.messages().is_empty(),
        "no part of the oversized message is passed on"
    );
    assert_eq!(
        answer.grpc_message().unwrap(),
        "pullgate: grpc: received message larger than max (1025 vs. 1024)"
    );
}

#[tokio::test]
async fn the_default_limit_is_16_mib_both_ways() {
    const MIB16: usize = 16 << 20;
    let harness = Harness::start(echo_size(MIB16)).await;
    let mut client = harness.client().await;
    let answer = client
        .call(PATH, &[], frame(&vec![3u8; MIB16]))
        .await
        .unwrap();
    assert_eq!(answer.grpc_status(), Some(0));
    assert_eq!(answer.messages()[0].len(), MIB16);

    let answer = client
        .call(PATH, &[], frame(&vec![3u8; MIB16 + 1]))
        .await
        .unwrap();
    assert_eq!(answer.grpc_status(), Some(code::RESOURCE_EXHAUSTED));
}

#[tokio::test]
async fn an_intercepted_request_over_the_limit_or_compressed_never_reaches_the_interceptor() {
    let interceptor =
        TestInterceptor::new(&[PATH], Behaviour::Answer(UnaryResponse::ok(Bytes::new())));
    let harness = Harness::start_with(Some(echo_size(1)), interceptor.clone(), |config| {
        config.max_message_bytes = 100;
    })
    .await;
    let mut client = harness.client().await;

    let answer = client.call(PATH, &[], frame(&[0u8; 101])).await.unwrap();
    assert_eq!(answer.grpc_status(), Some(code::RESOURCE_EXHAUSTED));

    let mut compressed = frame(b"gzipped").to_vec();
    compressed[0] = 1;
    let answer = client
        .call(PATH, &[("grpc-encoding", "gzip")], compressed.into())
        .await
        .unwrap();
    assert_eq!(answer.grpc_status(), Some(code::UNIMPLEMENTED));

    let answer = client.call(PATH, &[], Bytes::new()).await.unwrap();
    assert_eq!(
        answer.grpc_status(),
        Some(code::INTERNAL),
        "a unary call needs its message"
    );

    let two = [frame(b"a"), frame(b"b")].concat();
    let answer = client.call(PATH, &[], two.into()).await.unwrap();
    assert_eq!(
        answer.grpc_status(),
        Some(code::INTERNAL),
        "a unary call has one message"
    );

    assert!(interceptor.seen().is_empty());
    assert!(harness.fake().records().is_empty());
}
