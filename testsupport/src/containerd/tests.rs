//! Against the real thing: Debian's docker-registry and containerd. Each test
//! runs its own registry and containerd, so they run in parallel.

use std::path::Path;
use std::time::Instant;

use tonic::Code;

use super::*;
use crate::{RealRegistry, RegistryOptions, TestImage};

/// A registry holding the pause image and `e2e/busybox:v1`, and a containerd
/// that pulls from it. Returns the image's reference without tag and its
/// manifest digest.
async fn registry_and_containerd(
    registry_options: RegistryOptions,
    text: &str,
) -> (RealRegistry, Containerd, String, String) {
    let registry = RealRegistry::start(registry_options);
    push_pause_image(&registry).await;
    let image = TestImage::busybox(text);
    let digest = image
        .push(&registry.client(), &registry.repo("e2e/busybox"), "v1")
        .await;
    let containerd = Containerd::start(ContainerdOptions::with_registry(&registry));
    let repo = format!("{}/e2e/busybox", registry.host);
    (registry, containerd, repo, digest.to_string())
}

#[tokio::test]
async fn pull_status_pod_and_remove_through_cri() {
    let (_registry, containerd, repo, digest) =
        registry_and_containerd(RegistryOptions::default(), "hello from busybox").await;
    eprintln!(
        "containerd ({:?}) answered CRI Version {:?} after spawning",
        containerd.snapshotter(),
        containerd.started_in()
    );
    let cri = containerd.cri();
    let version = cri.version().await.unwrap();
    assert_eq!(version.runtime_name, "containerd");
    assert!(version.runtime_version.starts_with("1.6"), "{version:?}");

    let tagged = format!("{repo}:v1");
    let by_digest = format!("{repo}@{digest}");
    assert_eq!(cri.image_status(&tagged).await.unwrap(), None);
    let t = Instant::now();
    let image_ref = cri.pull(&tagged, None, Some("team-a")).await.unwrap();
    eprintln!("cold pull {:?}", t.elapsed());
    let t = Instant::now();
    assert_eq!(cri.pull(&tagged, None, None).await.unwrap(), image_ref);
    eprintln!("repeated pull {:?}", t.elapsed());

    // containerd answers PullImage with the image id (its config digest)
    let status = cri.image_status(&tagged).await.unwrap().expect("pulled");
    assert_eq!(status.id, image_ref);
    assert!(image_ref.starts_with("sha256:") && image_ref != digest);
    assert_eq!(status.repo_tags, vec![tagged.clone()]);
    assert_eq!(status.repo_digests, vec![by_digest.clone()]);
    let same = cri
        .image_status(&by_digest)
        .await
        .unwrap()
        .expect("by digest");
    assert_eq!(same, status);
    assert_eq!(
        cri.image_status(&image_ref).await.unwrap(),
        Some(status.clone())
    );
    let listed = cri.list_images().await.unwrap();
    assert!(listed.contains(&status), "{listed:?}");
    let fs = cri.image_fs_info().await.unwrap();
    assert!(!fs.image_filesystems.is_empty());

    let t = Instant::now();
    let pod = cri.run_pod(&tagged, None).await.unwrap();
    eprintln!("pod (sandbox pull, run, exec, remove) {:?}", t.elapsed());
    assert_eq!(
        (pod.exit_code, pod.stdout.as_str()),
        (0, "hello from busybox\n")
    );
    assert_eq!(pod.image_id, image_ref);
    assert_eq!(pod.image_ref, by_digest);

    cri.remove(&tagged).await.unwrap();
    assert_eq!(cri.image_status(&tagged).await.unwrap(), None);
    assert_eq!(cri.image_status(&by_digest).await.unwrap(), None);
    cri.remove(&tagged).await.unwrap(); // absent: still OK
    let missing = cri
        .pull(&format!("{repo}:nope"), None, None)
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound, "{missing:?}");
}

/// The quirk the proxy works around (../shared/research/cri-node.md, last
/// section): after `PullImage(repo@sha256:D)` containerd knows the image
/// only by digest, so the kubelet's `ImageStatus(repo:tag)` says "absent"
/// and it would pull again. Creating the tag record in the `k8s.io`
/// namespace (as `ctr images tag` does) fixes that at once.
#[tokio::test]
async fn pull_by_digest_leaves_the_tag_unknown_until_the_tag_record_exists() {
    let (_registry, containerd, repo, digest) =
        registry_and_containerd(RegistryOptions::default(), "digest then tag").await;
    let cri = containerd.cri();
    let tagged = format!("{repo}:v1");
    let by_digest = format!("{repo}@{digest}");

    let image_ref = cri.pull(&by_digest, None, Some("team-a")).await.unwrap();
    let status = cri.image_status(&by_digest).await.unwrap().expect("pulled");
    assert_eq!(status.id, image_ref);
    assert!(status.repo_tags.is_empty(), "{status:?}");
    assert_eq!(status.repo_digests, vec![by_digest.clone()]);
    assert_eq!(cri.image_status(&tagged).await.unwrap(), None);

    let out = containerd.ctr(&["-n", "k8s.io", "images", "tag", &by_digest, &tagged]);
    assert!(out.status.success(), "{out:?}");
    let status = cri
        .image_status(&tagged)
        .await
        .unwrap()
        .expect("tag record");
    assert_eq!(status.id, image_ref);
    assert_eq!(status.repo_tags, vec![tagged]);
    assert_eq!(status.repo_digests, vec![by_digest]);
}

/// HTTPS with the registry's CA and htpasswd: credentials come with the pull
/// (CRI `AuthConfig`), as the kubelet sends pull secrets. The sandbox image
/// is pulled with them before the first pod, since containerd has none.
#[tokio::test]
async fn tls_registry_with_auth() {
    let options = RegistryOptions {
        tls: true,
        auth: Some(("tester".into(), "s3cret".into())),
    };
    let (registry, containerd, repo, digest) =
        registry_and_containerd(options, "hello over tls").await;
    let cri = containerd.cri();
    let tagged = format!("{repo}:v1");
    let creds = Some(("tester", "s3cret"));

    let denied = cri.pull(&tagged, None, None).await.unwrap_err();
    assert_eq!(denied.code(), Code::Unknown, "{denied:?}");
    let wrong = cri
        .pull(&tagged, Some(("tester", "nope")), None)
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), Code::Unknown, "{wrong:?}");
    // a 404 goes through the `server` fallback: it has the CA too (hosts.toml)
    let missing = cri
        .pull(&format!("{repo}:nope"), creds, None)
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound, "{missing:?}");

    cri.pull(&tagged, creds, None).await.unwrap();
    cri.pull(
        &format!("{}/{PAUSE_REPO}:{PAUSE_TAG}", registry.host),
        creds,
        None,
    )
    .await
    .unwrap();
    let pod = cri
        .run_pod(&format!("{repo}@{digest}"), creds)
        .await
        .unwrap();
    assert_eq!(pod.stdout, "hello over tls\n");
}

/// With node credentials in containerd's own configuration, a pull without
/// `AuthConfig` works, and so does the sandbox image containerd pulls itself.
/// Also the native snapshotter (the fallback where overlay mounts fail).
#[tokio::test]
async fn node_credentials_serve_pulls_without_auth() {
    let registry = RealRegistry::start(RegistryOptions {
        tls: true,
        auth: Some(("node".into(), "node-pass".into())),
    });
    push_pause_image(&registry).await;
    let image = TestImage::busybox("node credentials");
    image
        .push(&registry.client(), &registry.repo("e2e/busybox"), "v1")
        .await;
    let mut options = ContainerdOptions::with_registry(&registry);
    if let Some(host) = options.registry.as_mut() {
        host.node_credentials = registry.auth.clone();
    }
    options.snapshotter = Snapshotter::Native;
    let containerd = Containerd::start(options);
    assert_eq!(containerd.snapshotter(), Snapshotter::Native);
    let pod = containerd
        .cri()
        .run_pod(&format!("{}/e2e/busybox:v1", registry.host), None)
        .await
        .unwrap();
    assert_eq!(pod.stdout, "node credentials\n");
}

/// The image service on one socket and the runtime service on another, as
/// the kubelet will have them with pullgate; here two instances at once,
/// each with its own state: the pod runs in the runtime's instance, which
/// does not have the image, so `CreateContainer` fails there.
#[tokio::test]
async fn two_instances_at_once_and_split_endpoints() {
    let registry = RealRegistry::start(RegistryOptions::default());
    let pause = push_pause_image(&registry).await;
    TestImage::busybox("two")
        .push(&registry.client(), &registry.repo("e2e/two"), "v1")
        .await;
    let tagged = format!("{}/e2e/two:v1", registry.host);
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| Containerd::start(ContainerdOptions::with_registry(&registry)));
        let b = s.spawn(|| Containerd::start(ContainerdOptions::with_registry(&registry)));
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_ne!(a.socket(), b.socket());
    let (cri_a, cri_b) = (a.cri(), b.cri());
    cri_a.pull(&tagged, None, None).await.unwrap();
    assert!(cri_a.image_status(&tagged).await.unwrap().is_some());
    assert_eq!(cri_b.image_status(&tagged).await.unwrap(), None);

    // images from a, pods in b: b pulls the sandbox image itself, but the
    // container's image id (from a) is unknown to b
    let split = CriClient::connect(a.socket(), b.socket());
    let err = split.run_pod(&tagged, None).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
    assert!(err.message().contains("failed to resolve image"), "{err:?}");
    assert!(cri_b.image_status(&pause).await.unwrap().is_some());
    assert_eq!(cri_b.list_images().await.unwrap().len(), 1);

    drop(b);
    assert_eq!(cri_a.version().await.unwrap().runtime_name, "containerd");
}

/// A test that fails with a pod still running leaves nothing behind once
/// its containerd is dropped: no shim, no shim socket, no mount.
#[tokio::test]
async fn drop_cleans_up_a_running_pod() {
    let (_registry, containerd, repo, _) =
        registry_and_containerd(RegistryOptions::default(), "left running").await;
    let cri = containerd.cri();
    cri.pull(&format!("{repo}:v1"), None, None).await.unwrap();
    let socket = containerd.socket();
    let dir = containerd.dir().to_path_buf();
    let sandbox = cri::RunPodSandboxRequest {
        config: Some(cri::PodSandboxConfig {
            metadata: Some(cri::PodSandboxMetadata {
                name: "left".into(),
                uid: "left-uid".into(),
                namespace: POD_NAMESPACE.into(),
                attempt: 0,
            }),
            linux: Some(cri::LinuxPodSandboxConfig {
                security_context: Some(cri::LinuxSandboxSecurityContext {
                    namespace_options: Some(cri::NamespaceOption {
                        network: cri::NamespaceMode::Node as i32,
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }),
        runtime_handler: String::new(),
    };
    let pod = cri.runtime().run_pod_sandbox(sandbox).await.unwrap();
    let pod_id = pod.into_inner().pod_sandbox_id;
    let shim_socket = std::fs::read_to_string(
        dir.join("state/io.containerd.runtime.v2.task/k8s.io")
            .join(&pod_id)
            .join("address"),
    )
    .unwrap();
    let shim_socket = shim_socket.trim().trim_start_matches("unix://").to_string();
    assert!(
        shim_socket.starts_with("/run/containerd/s/"),
        "{shim_socket}"
    );
    assert!(!processes_naming(&socket).is_empty());

    drop(containerd);
    assert_eq!(processes_naming(&socket), Vec::<String>::new());
    assert!(!Path::new(&shim_socket).exists());
    assert!(!dir.exists());
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(dir.to_str().unwrap()), "{mounts}");
}

/// A containerd that cannot start stops the test with its log.
#[test]
#[should_panic(expected = "containerd did not start: containerd exited")]
fn start_failure_shows_the_log() {
    Containerd::start(ContainerdOptions {
        log_level: Some("loud".into()),
        ..ContainerdOptions::default()
    });
}

/// Command lines of the processes that mention `path`.
fn processes_naming(path: &Path) -> Vec<String> {
    let needle = path.to_str().unwrap();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains(needle) {
                found.push(cmdline);
            }
        }
    }
    found
}
