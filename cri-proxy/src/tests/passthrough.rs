//! Calls the interceptor does not claim go through untouched.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use http_body_util::BodyExt;
use tokio::sync::Notify;

use super::Harness;
use crate::grpc::code;
use crate::proto::{self, WireType};
use crate::testing::client::call_streaming;
use crate::testing::{Reply, frame, messages};

const UNKNOWN_METHOD: &str = "/vendor.future.v9.FutureService/DoSomethingNew";

/// A message full of fields no schema here knows: high numbers, every wire type, a group.
fn unknown_fields_message(seed: u8) -> Vec<u8> {
    let mut msg = Vec::new();
    proto::encode_len_field(1, b"known-looking", &mut msg);
    proto::encode_varint_field(5000, u64::MAX, &mut msg);
    proto::encode_key(7, WireType::Fixed32, &mut msg);
    msg.extend_from_slice(&[seed, 0xff, 0x00, 0x80]);
    proto::encode_key(123_456, WireType::StartGroup, &mut msg);
    proto::encode_len_field(2, &[0, 1, 2, seed], &mut msg);
    proto::encode_key(123_456, WireType::EndGroup, &mut msg);
    proto::encode_len_field(proto::MAX_FIELD_NUMBER, &[seed; 300], &mut msg);
    msg
}

fn header_map(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(*name, HeaderValue::from_static(value));
    }
    map
}

#[tokio::test]
async fn unknown_method_passes_through_byte_identical_both_ways() {
    let response_message = Bytes::from(unknown_fields_message(2));
    let response_headers = header_map(&[
        ("content-type", "application/grpc+proto"),
        ("x-upstream", "containerd"),
        ("x-multi", "1"),
        ("x-multi", "2"),
    ]);
    let response_trailers = header_map(&[
        ("grpc-status", "0"),
        ("x-trailing", "meta"),
        ("x-bin-bin", "AAEC"),
    ]);
    let (headers, message, trailers) = (
        response_headers.clone(),
        response_message.clone(),
        response_trailers.clone(),
    );
    let harness = Harness::start(move |_| Reply::Message {
        headers: headers.clone(),
        message: message.clone(),
        trailers: trailers.clone(),
    })
    .await;

    let request = frame(&unknown_fields_message(1));
    let answer = harness
        .client()
        .await
        .call(UNKNOWN_METHOD, &[], request.clone())
        .await
        .unwrap();

    let recorded = harness.fake().records();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].path, UNKNOWN_METHOD);
    assert_eq!(recorded[0].authority.as_deref(), Some("localhost"));
    assert_eq!(
        recorded[0].body, request,
        "request bytes changed on the way"
    );
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.headers, response_headers,
        "response headers changed (or were added)"
    );
    assert_eq!(
        answer.body,
        frame(&response_message),
        "response bytes changed on the way"
    );
    assert_eq!(answer.trailers.as_ref(), Some(&response_trailers));
}

#[tokio::test]
async fn request_metadata_reaches_the_upstream_as_given() {
    let harness = Harness::start(|_| Reply::Error {
        code: 0,
        message: String::new(),
        trailers: HeaderMap::new(),
    })
    .await;
    let metadata = [
        ("user-agent", "grpc-go/1.72.0"),
        ("x-request-id", "abc-123"),
        ("x-multi", "first"),
        ("x-multi", "second"),
        ("grpc-timeout", "119999m"),
        ("custom-bin", "AAEC"),
    ];
    let answer = harness
        .client()
        .await
        .call("/runtime.v1.ImageService/ListImages", &metadata, frame(b""))
        .await
        .unwrap();
    assert_eq!(answer.grpc_status(), Some(0));

    let recorded = &harness.fake().records()[0];
    assert_eq!(
        recorded.headers.get("user-agent").unwrap(),
        "grpc-go/1.72.0"
    );
    assert_eq!(recorded.headers.get("x-request-id").unwrap(), "abc-123");
    let multi: Vec<_> = recorded.headers.get_all("x-multi").iter().collect();
    assert_eq!(multi, ["first", "second"]);
    assert_eq!(recorded.headers.get("grpc-timeout").unwrap(), "119999m");
    assert_eq!(recorded.headers.get("custom-bin").unwrap(), "AAEC");
    assert_eq!(recorded.headers.get("te").unwrap(), "trailers");
    assert_eq!(
        recorded.headers.get("content-type").unwrap(),
        "application/grpc"
    );
    assert_eq!(recorded.body, frame(b""));
}

#[tokio::test]
async fn errors_pass_through_with_code_message_and_trailing_metadata() {
    let details = header_map(&[
        ("grpc-status-details-bin", "CAUSBm5vcGUh"),
        ("x-reason", "gone"),
    ]);
    let trailers = details.clone();
    let harness = Harness::start(move |path| match path {
        "/runtime.v1.ImageService/ImageStatus" => Reply::Error {
            code: code::NOT_FOUND,
            message: "image \"app:v1\" not found: 100% sure\n".into(),
            trailers: trailers.clone(),
        },
        _ => Reply::TrailersOnly {
            code: code::UNIMPLEMENTED,
            message: "unknown service".into(),
        },
    })
    .await;
    let mut client = harness.client().await;

    let answer = client
        .call(
            "/runtime.v1.ImageService/ImageStatus",
            &[],
            frame(b"\x0a\x00"),
        )
        .await
        .unwrap();
    let trailers = answer.trailers.clone().unwrap();
    assert_eq!(answer.grpc_status(), Some(code::NOT_FOUND));
    assert_eq!(
        trailers.get("grpc-message").unwrap(),
        "image \"app:v1\" not found: 100%25 sure%0A"
    );
    assert_eq!(
        answer.grpc_message().unwrap(),
        "image \"app:v1\" not found: 100% sure\n"
    );
    for (name, value) in &details {
        assert_eq!(trailers.get(name), Some(value));
    }
    assert!(answer.body.is_empty());

    // A trailers-only answer stays trailers-only: the status in the one HEADERS frame.
    let answer = client
        .call("/runtime.v1.RuntimeService/Version", &[], frame(b""))
        .await
        .unwrap();
    assert_eq!(answer.trailers, None);
    assert_eq!(answer.headers.get("grpc-status").unwrap(), "12");
    assert_eq!(answer.grpc_message().unwrap(), "unknown service");
}

#[tokio::test]
async fn server_streaming_messages_arrive_before_the_upstream_finishes() {
    let release = Arc::new(Notify::new());
    let gate = release.clone();
    let sent: Vec<Bytes> = (0..3u8)
        .map(|i| Bytes::from(vec![i; 10 + usize::from(i)]))
        .collect();
    let stream = sent.clone();
    let harness = Harness::start(move |_| Reply::Stream {
        messages: stream.clone(),
        gap: Duration::from_millis(5),
        release: gate.clone(),
    })
    .await;

    let response = harness
        .client()
        .await
        .start("/runtime.v1.ImageService/StreamImages", &[], frame(b""))
        .await
        .unwrap();
    let mut body = response.into_body();
    let mut received = Vec::new();
    while messages(&received).len() < sent.len() {
        let frame = tokio::time::timeout(Duration::from_secs(5), body.frame())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        received.extend_from_slice(
            &frame
                .into_data()
                .expect("data before the upstream finished"),
        );
    }
    assert_eq!(messages(&received), sent);

    // Only now does the upstream end the stream.
    release.notify_one();
    let last = tokio::time::timeout(Duration::from_secs(5), body.frame())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let trailers = last.into_trailers().unwrap();
    assert_eq!(trailers.get("grpc-status").unwrap(), "0");
}

#[tokio::test]
async fn grpc_timeout_is_sent_on_and_enforced() {
    let harness = Harness::start(|_| Reply::Hang).await;
    let started = Instant::now();
    let answer = harness
        .client()
        .await
        .call(
            "/runtime.v1.ImageService/ImageFsInfo",
            &[("grpc-timeout", "150m")],
            frame(b""),
        )
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(answer.grpc_status(), Some(code::DEADLINE_EXCEEDED));
    assert!(
        took >= Duration::from_millis(150) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert_eq!(
        harness.fake().records()[0]
            .headers
            .get("grpc-timeout")
            .unwrap(),
        "150m"
    );
    // The upstream call was cancelled (RST_STREAM), not left hanging.
    wait_until(|| harness.fake().cancelled() == 1).await;
}

#[tokio::test]
async fn deadline_in_the_middle_of_a_stream_ends_it_with_deadline_exceeded() {
    let never = Arc::new(Notify::new());
    let harness = Harness::start(move |_| Reply::Stream {
        messages: vec![Bytes::from_static(b"first")],
        gap: Duration::ZERO,
        release: never.clone(),
    })
    .await;
    let answer = harness
        .client()
        .await
        .call(
            "/runtime.v1.ImageService/StreamImages",
            &[("grpc-timeout", "200m")],
            frame(b""),
        )
        .await
        .unwrap();
    assert_eq!(answer.messages(), vec![Bytes::from_static(b"first")]);
    assert_eq!(answer.grpc_status(), Some(code::DEADLINE_EXCEEDED));
}

#[tokio::test]
async fn client_cancellation_reaches_the_upstream() {
    let harness = Harness::start(|_| Reply::Hang).await;
    let mut client = harness.client().await;
    let call = tokio::spawn(async move {
        client
            .call(
                "/runtime.v1.ImageService/PullImage",
                &[],
                frame(b"\x0a\x03\x0a\x01x"),
            )
            .await
            .map(drop)
    });
    wait_until(|| harness.fake().records().len() == 1).await;
    call.abort();
    wait_until(|| harness.fake().cancelled() == 1).await;
}

#[tokio::test]
async fn unreachable_upstream_answers_unavailable() {
    let harness = Harness::start_with(
        None::<fn(&str) -> Reply>,
        Arc::new(crate::PassThrough),
        |_| {},
    )
    .await;
    let answer = harness
        .client()
        .await
        .call("/runtime.v1.ImageService/ImageFsInfo", &[], frame(b""))
        .await
        .unwrap();
    assert_eq!(answer.grpc_status(), Some(code::UNAVAILABLE));
    let text = answer.grpc_message().unwrap();
    assert!(text.starts_with("pullgate: cannot connect to "), "{text}");
    assert_eq!(harness.counters.snapshot().upstream_connect_failures, 1);
}

#[tokio::test]
async fn a_restarted_upstream_is_reconnected_on_the_next_call() {
    let ok = || Reply::Error {
        code: 0,
        message: String::new(),
        trailers: HeaderMap::new(),
    };
    let mut harness = Harness::start(move |_| ok()).await;
    let mut client = harness.client().await;
    let path = "/runtime.v1.ImageService/ImageFsInfo";
    assert_eq!(
        client
            .call(path, &[], frame(b""))
            .await
            .unwrap()
            .grpc_status(),
        Some(0)
    );

    // containerd restarts: every connection closes, the socket comes back at the same path.
    harness.fake.take().unwrap().stop().await;
    harness.fake =
        Some(crate::testing::FakeUpstream::start(&harness.upstream_path, move |_| ok()).await);
    assert_eq!(
        client
            .call(path, &[], frame(b""))
            .await
            .unwrap()
            .grpc_status(),
        Some(0)
    );
    assert_eq!(harness.fake().records().len(), 1);

    // Down for a while: calls fail fast with UNAVAILABLE; then it is back.
    harness.fake.take().unwrap().stop().await;
    assert_eq!(
        client
            .call(path, &[], frame(b""))
            .await
            .unwrap()
            .grpc_status(),
        Some(code::UNAVAILABLE)
    );
    harness.fake =
        Some(crate::testing::FakeUpstream::start(&harness.upstream_path, move |_| ok()).await);
    assert_eq!(
        client
            .call(path, &[], frame(b""))
            .await
            .unwrap()
            .grpc_status(),
        Some(0)
    );
    assert_eq!(harness.counters.snapshot().upstream_connects, 3);
}

/// Polls `condition` for up to 5 s.
pub(crate) async fn wait_until(condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !condition() {
        assert!(Instant::now() < deadline, "condition not met in time");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_gracefully_restarting_upstream_finishes_old_calls_and_takes_new_ones() {
    let script = |path: &str| match path {
        "/slow" => Reply::Delayed {
            delay: Duration::from_millis(300),
            then: Box::new(Reply::Error {
                code: 0,
                message: "old".into(),
                trailers: HeaderMap::new(),
            }),
        },
        _ => Reply::Error {
            code: 0,
            message: "old".into(),
            trailers: HeaderMap::new(),
        },
    };
    let mut harness = Harness::start(script).await;
    let mut client = harness.client().await;
    let mut slow_client = harness.client().await;
    let slow = tokio::spawn(async move { slow_client.call("/slow", &[], frame(b"")).await });
    wait_until(|| harness.fake().records().len() == 1).await;

    // containerd gets SIGTERM: GOAWAY on the old connection, a new process on the same path.
    let draining = harness.fake.take().unwrap().drain().await;
    let new = |_: &str| Reply::Error {
        code: 0,
        message: "new".into(),
        trailers: HeaderMap::new(),
    };
    harness.fake = Some(crate::testing::FakeUpstream::start(&harness.upstream_path, new).await);

    let answer = client.call("/fast", &[], frame(b"")).await.unwrap();
    assert_eq!(
        (answer.grpc_status(), answer.grpc_message().as_deref()),
        (Some(0), Some("new"))
    );
    let answer = slow.await.unwrap().unwrap();
    assert_eq!(
        (answer.grpc_status(), answer.grpc_message().as_deref()),
        (Some(0), Some("old"))
    );
    draining.await.unwrap();
    assert_eq!(harness.counters.snapshot().upstream_connects, 2);
}

#[tokio::test]
async fn an_upstream_reset_mid_stream_is_passed_on_as_a_reset() {
    let harness = Harness::start(|_| Reply::StreamThenReset {
        messages: vec![Bytes::from_static(b"one")],
    })
    .await;
    let response = harness
        .client()
        .await
        .start("/runtime.v1.ImageService/StreamImages", &[], frame(b""))
        .await
        .unwrap();
    let mut body = response.into_body();
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(messages(&first), vec![Bytes::from_static(b"one")]);
    let error = body.frame().await.unwrap().unwrap_err();
    let text = format!("{error:?}");
    // hyper resets a stream whose body failed with INTERNAL_ERROR; the same reason arrives here.
    assert!(text.contains("INTERNAL_ERROR"), "{text}");
}

#[tokio::test]
async fn a_request_of_several_messages_passes_through_whole() {
    let harness = Harness::start(|_| Reply::Error {
        code: 0,
        message: String::new(),
        trailers: HeaderMap::new(),
    })
    .await;
    let body: Bytes = [frame(b"first"), frame(b""), frame(&[9u8; 40_000])]
        .concat()
        .into();
    let answer = harness
        .client()
        .await
        .call(
            "/containerd.services.content.v1.Content/Write",
            &[],
            body.clone(),
        )
        .await
        .unwrap();
    assert_eq!(answer.grpc_status(), Some(0));
    assert_eq!(harness.fake().records()[0].body, body);
}

/// Sends `chunk` on a streaming request body.
async fn feed(feed: &tokio::sync::mpsc::Sender<Bytes>, chunk: Bytes) {
    feed.send(chunk).await.unwrap();
}

#[tokio::test]
async fn a_request_still_streaming_is_piped_to_its_end() {
    let harness = Harness::start(|_| Reply::Error {
        code: 0,
        message: String::new(),
        trailers: HeaderMap::new(),
    })
    .await;
    let path = "/containerd.services.content.v1.Content/Write";
    let (tx, answer) = call_streaming(&harness.listen, path, &[]).await;
    feed(&tx, frame(b"first")).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    feed(&tx, frame(&[7u8; 100_000])).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    feed(&tx, frame(b"last")).await;
    drop(tx);
    let answer = answer.await.unwrap().unwrap();
    assert_eq!(answer.grpc_status(), Some(0));
    let body = [frame(b"first"), frame(&[7u8; 100_000]), frame(b"last")].concat();
    assert_eq!(harness.fake().records()[0].body, body);
}

#[tokio::test]
async fn a_streaming_request_abandoned_at_its_deadline_is_cancelled_upstream() {
    let harness = Harness::start(|_| Reply::Hang).await;
    let path = "/containerd.services.content.v1.Content/Write";
    let (tx, answer) = call_streaming(&harness.listen, path, &[("grpc-timeout", "150m")]).await;
    feed(&tx, frame(b"first")).await;
    let answer = answer.await.unwrap().unwrap();
    assert_eq!(answer.grpc_status(), Some(code::DEADLINE_EXCEEDED));
    // The kubelet's body is still open, yet the upstream call was reset.
    wait_until(|| harness.fake().cancelled() == 1).await;
    drop(tx);
}

#[tokio::test]
async fn a_message_over_the_limit_later_in_a_streaming_request_is_refused() {
    let harness = Harness::start_with(
        Some(|_: &str| Reply::Hang),
        Arc::new(crate::PassThrough),
        |config| config.max_message_bytes = 1024,
    )
    .await;
    let path = "/containerd.services.content.v1.Content/Write";
    let (tx, answer) = call_streaming(&harness.listen, path, &[]).await;
    feed(&tx, frame(b"first")).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    feed(&tx, frame(&[1u8; 1025])).await;
    let answer = answer.await.unwrap().unwrap();
    assert_eq!(answer.grpc_status(), Some(code::RESOURCE_EXHAUSTED));
    assert_eq!(
        answer.grpc_message().unwrap(),
        "pullgate: grpc: received message larger than max (1025 vs. 1024)"
    );
    wait_until(|| harness.fake().cancelled() == 1).await;
    drop(tx);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_share_one_upstream_connection() {
    let harness = Arc::new(
        Harness::start(|path| Reply::Message {
            headers: HeaderMap::new(),
            message: Bytes::copy_from_slice(path.as_bytes()),
            trailers: header_map(&[("grpc-status", "0")]),
        })
        .await,
    );
    let mut calls = Vec::new();
    for connection in 0..4 {
        let harness = harness.clone();
        calls.push(tokio::spawn(async move {
            let mut client = harness.client().await;
            let mut answers = Vec::new();
            for i in 0..25 {
                let path = format!("/test.Echo/Call{connection}x{i}");
                let answer = client.call(&path, &[], frame(b"")).await.unwrap();
                answers.push((path, answer.messages()));
            }
            answers
        }));
    }
    for call in calls {
        for (path, messages) in call.await.unwrap() {
            assert_eq!(messages, vec![Bytes::from(path)]);
        }
    }
    let counts = harness.counters.snapshot();
    assert_eq!(
        (counts.connections_accepted, counts.upstream_connects),
        (4, 1)
    );
}
