//! The enforcer in-process, against a scripted containerd: which services
//! the image socket serves, and what `ImageStatus` reports present on the
//! strength of the node's lists.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue};
use pullgate_registry::{ClientConfig, Platform, RegistryClient};
use pullgate_verify::{
    CacheSettings, Engine, EngineConfig, Mode, NodePolicy, Require, SystemClock,
};

use super::Harness;
use crate::Upstream;
use crate::cri;
use crate::enforce::{Enforcer, Policy, TagRecords, VerifiedState};
use crate::grpc::code;
use crate::proto;
use crate::testing::{Reply, TestClient, frame};
use pullgate_verify::VerdictCache;

const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
const STATUS: &str = "/runtime.v1.ImageService/ImageStatus";

struct NoTags;

#[async_trait]
impl TagRecords for NoTags {
    async fn tag(&self, _: &Upstream, _: &str, _: &str, _: &str) -> Result<(), String> {
        Err("not in this test".into())
    }
}

fn enforcer(dir: &std::path::Path, allow_digests: &[&str], break_glass: &[&str]) -> Enforcer {
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let node = NodePolicy::new(&[], &strings(allow_digests), &strings(break_glass)).unwrap();
    let engine = Engine::new(
        EngineConfig {
            mode: Mode::Enforce,
            require: Require::Any,
            notation: None,
            cosign: None,
            accept_platform_signatures: false,
            platform: Platform::current(),
            node,
        },
        Arc::new(SystemClock),
    );
    let (state, _) = VerifiedState::load(dir);
    Enforcer::new(
        Policy {
            engine: Arc::new(engine),
            registry: RegistryClient::new(ClientConfig::default()).unwrap(),
        },
        VerdictCache::new(CacheSettings::default()),
        Arc::new(state),
        Arc::new(NoTags),
    )
}

/// `ImageStatusResponse { Image image = 1 }` with `Image { id = 1; repo_tags = 2; repo_digests = 3 }`.
fn status_answer(id: &str, tags: &[&str], digests: &[&str]) -> Vec<u8> {
    let mut image = Vec::new();
    proto::encode_len_field(1, id.as_bytes(), &mut image);
    for t in tags {
        proto::encode_len_field(2, t.as_bytes(), &mut image);
    }
    for d in digests {
        proto::encode_len_field(3, d.as_bytes(), &mut image);
    }
    let mut msg = Vec::new();
    proto::encode_len_field(1, &image, &mut msg);
    msg
}

/// A containerd whose every answer is the one last put in `answer`.
async fn harness(enforcer: Enforcer, answer: Arc<Mutex<Vec<u8>>>) -> Harness {
    Harness::start_with(
        Some(move |_: &str| {
            let mut trailers = HeaderMap::new();
            trailers.insert("grpc-status", HeaderValue::from_static("0"));
            let mut headers = HeaderMap::new();
            headers.insert("content-type", HeaderValue::from_static("application/grpc"));
            Reply::Message {
                headers,
                message: Bytes::from(answer.lock().unwrap().clone()),
                trailers,
            }
        }),
        Arc::new(enforcer),
        |_| {},
    )
    .await
}

async fn status(client: &mut TestClient, image: &str) -> Bytes {
    let answer = client
        .call(STATUS, &[], frame(&cri::status_request(image)))
        .await
        .unwrap();
    assert_eq!(answer.grpc_status(), Some(code::OK));
    answer.messages().remove(0)
}

#[tokio::test]
async fn only_the_v1_image_service_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let answer = Arc::new(Mutex::new(b"upstream".to_vec()));
    let h = harness(enforcer(dir.path(), &[], &[]), answer).await;
    let mut client = h.client().await;
    for path in [
        "/runtime.v1alpha2.ImageService/PullImage",
        "/containerd.services.images.v1.Images/Create",
        "/runtime.v1.RuntimeService/CreateContainer",
        "/vendor.future.v9.FutureService/DoSomethingNew",
    ] {
        let answer = client.call(path, &[], frame(b"")).await.unwrap();
        assert_eq!(answer.grpc_status(), Some(code::UNIMPLEMENTED), "{path}");
        assert!(
            answer
                .grpc_message()
                .unwrap()
                .contains("only runtime.v1.ImageService"),
            "{path}"
        );
    }
    // Refused before the body is read: an empty one, or one that is not a
    // gRPC message at all, gets the same answer.
    for body in [Bytes::new(), Bytes::from_static(b"\xff\xff")] {
        let answer = client
            .call("/runtime.v1alpha2.ImageService/PullImage", &[], body)
            .await
            .unwrap();
        assert_eq!(answer.grpc_status(), Some(code::UNIMPLEMENTED));
    }
    assert!(h.fake().records().is_empty(), "nothing reached containerd");

    // A method of the image service this build does not know passes.
    let answer = client
        .call(
            "/runtime.v1.ImageService/FutureMethod",
            &[],
            frame(b"\x08\x01"),
        )
        .await
        .unwrap();
    assert_eq!(answer.grpc_status(), Some(code::OK));
    assert_eq!(answer.messages(), vec![Bytes::from_static(b"upstream")]);
    assert_eq!(h.fake().records().len(), 1);
}

#[tokio::test]
async fn image_status_by_digest_must_be_answered_with_that_image() {
    let dir = tempfile::tempdir().unwrap();
    let answer = Arc::new(Mutex::new(Vec::new()));
    let e = enforcer(dir.path(), &[D1], &[]);
    let h = harness(e.clone(), answer.clone()).await;
    let mut client = h.client().await;
    let asked = format!("example.com/app@{D1}");

    // containerd answers with an image that is not example.com/app@D1.
    *answer.lock().unwrap() =
        status_answer("sha256:aaaa", &[], &[&format!("example.com/other@{D2}")]);
    assert_eq!(status(&mut client, &asked).await, cri::status_absent());

    // With that image, the allowed digest makes it present, and it is counted.
    *answer.lock().unwrap() = status_answer("sha256:aaaa", &[], &[&asked]);
    assert_ne!(status(&mut client, &asked).await, cri::status_absent());
    let m = e.metrics();
    use std::sync::atomic::Ordering::Relaxed;
    assert_eq!(m.status_allowed_digest.load(Relaxed), 1);
    assert_eq!(m.status_break_glass.load(Relaxed), 0);
}

#[tokio::test]
async fn a_break_glass_image_on_the_node_is_counted_and_its_tag_does_not_reach_other_digests() {
    use std::sync::atomic::Ordering::Relaxed;
    let dir = tempfile::tempdir().unwrap();
    let answer = Arc::new(Mutex::new(Vec::new()));
    let e = enforcer(dir.path(), &[], &["example.com/app:hotfix"]);
    let h = harness(e.clone(), answer.clone()).await;
    let mut client = h.client().await;

    *answer.lock().unwrap() = status_answer(
        "sha256:bbbb",
        &["example.com/app:hotfix"],
        &[&format!("example.com/app@{D1}")],
    );
    assert_ne!(
        status(&mut client, "example.com/app:hotfix").await,
        cri::status_absent()
    );
    assert_eq!(e.metrics().status_break_glass.load(Relaxed), 1);

    // The same tag with a digest of its own: not covered by the entry.
    *answer.lock().unwrap() =
        status_answer("sha256:cccc", &[], &[&format!("example.com/app@{D2}")]);
    assert_eq!(
        status(&mut client, &format!("example.com/app:hotfix@{D2}")).await,
        cri::status_absent()
    );
    assert_eq!(e.metrics().status_break_glass.load(Relaxed), 1);
}
