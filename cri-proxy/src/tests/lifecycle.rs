//! The socket, the peer check and shutdown.

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::HeaderMap;

use super::passthrough::wait_until;
use super::{Harness, own_uid};
use crate::PassThrough;
use crate::testing::{Reply, TestClient, frame};

fn ok() -> Reply {
    Reply::Error {
        code: 0,
        message: String::new(),
        trailers: HeaderMap::new(),
    }
}

#[tokio::test]
async fn the_socket_is_0660_in_a_0700_directory() {
    let harness = Harness::start(|_| ok()).await;
    let meta = std::fs::symlink_metadata(&harness.listen).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o7777, 0o660);
    let dir = std::fs::metadata(harness.listen.parent().unwrap()).unwrap();
    assert_eq!(dir.permissions().mode() & 0o7777, 0o700);
    assert!(harness.dir.path().exists());
}

#[tokio::test]
async fn a_peer_whose_uid_is_not_allowed_is_closed_by_the_peer_check() {
    // Run as root with allowed_uids = [1000]: the socket file's mode lets us in, so any refusal
    // is the peer check's.
    let me = own_uid();
    let other = if me == 1000 { 1001 } else { 1000 };
    let harness = Harness::start_with(Some(|_: &str| ok()), Arc::new(PassThrough), |config| {
        config.allowed_uids = vec![other];
    })
    .await;

    // connect(2) succeeds (the kernel accepts into the backlog); the proxy then closes.
    let mut client = TestClient::connect(&harness.listen).await.unwrap();
    let result = client
        .call("/runtime.v1.ImageService/ImageFsInfo", &[], frame(b""))
        .await;
    assert!(result.is_err(), "a refused peer got a response: {result:?}");
    let counts = harness.counters.snapshot();
    assert_eq!(
        (counts.connections_refused, counts.connections_accepted),
        (1, 0)
    );
    assert!(harness.fake().records().is_empty());
}

#[tokio::test]
async fn an_allowed_peer_is_served() {
    let harness = Harness::start(|_| ok()).await;
    let answer = harness
        .client()
        .await
        .call("/runtime.v1.ImageService/ImageFsInfo", &[], frame(b""))
        .await
        .unwrap();
    assert_eq!(answer.grpc_status(), Some(0));
    let counts = harness.counters.snapshot();
    assert_eq!(
        (counts.connections_refused, counts.connections_accepted),
        (0, 1)
    );
    // The daemon's readiness probe shares the proxy's upstream connection.
    harness.upstream.ready().await.unwrap();
    assert_eq!(harness.counters.snapshot().upstream_connects, 1);
}

#[tokio::test]
async fn graceful_shutdown_finishes_the_call_in_flight() {
    let slow = || Reply::Delayed {
        delay: Duration::from_millis(300),
        then: Box::new(ok()),
    };
    let mut harness = Harness::start(move |_| slow()).await;
    let mut client = harness.client().await;
    let call = tokio::spawn(async move {
        client
            .call("/runtime.v1.ImageService/PullImage", &[], frame(b""))
            .await
    });
    wait_until(|| harness.fake().records().len() == 1).await;

    harness.begin_shutdown();
    let answer = call.await.unwrap().unwrap();
    assert_eq!(
        answer.grpc_status(),
        Some(0),
        "the call in flight completed"
    );
    harness.served().await.unwrap();
    // No longer accepting.
    assert!(TestClient::connect(&harness.listen).await.is_err());
    assert_eq!(harness.counters.snapshot().shutdown_aborted, 0);
}

#[tokio::test]
async fn graceful_shutdown_is_bounded() {
    let mut harness = Harness::start_with(
        Some(|_: &str| Reply::Hang),
        Arc::new(PassThrough),
        |config| {
            config.shutdown_grace = Duration::from_millis(200);
        },
    )
    .await;
    let mut client = harness.client().await;
    let call = tokio::spawn(async move {
        client
            .call("/runtime.v1.ImageService/PullImage", &[], frame(b""))
            .await
    });
    wait_until(|| harness.fake().records().len() == 1).await;

    let started = Instant::now();
    harness.begin_shutdown();
    harness.served().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(harness.counters.snapshot().shutdown_aborted, 1);
    // The hung call ends (with an error) rather than hanging the client.
    let ended = tokio::time::timeout(Duration::from_secs(5), call)
        .await
        .unwrap()
        .unwrap();
    assert!(ended.is_err() || ended.unwrap().grpc_status().is_some());
    let idle = Harness::start(|_| ok()).await;
    let _idle_client = idle.client().await;
    idle.shutdown().await.unwrap();
}
