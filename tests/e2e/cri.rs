//! The CRI proxy end to end: the real containerd (1.6, runc) and the real
//! docker-registry, `pullgate serve` between a CRI client (playing the
//! kubelet) and containerd.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pullgate_registry::{Digest, Platform, RegistryClient, Repository};
use pullgate_testsupport::containerd::{
    Containerd, ContainerdOptions, CriClient, CriStatus, push_pause_image,
};
use pullgate_testsupport::notary::{
    ManifestShape, SignOptions, TestPki, push_notary_signature, sign,
};
use pullgate_testsupport::{RealRegistry, RegistryOptions, TestImage, push_index};

/// gRPC's `Unknown`, the code of a denied pull.
const UNKNOWN: i32 = 2;

/// The test bed: a registry, containerd, trust material and a directory.
struct Bed {
    reg: Option<RealRegistry>,
    host: String,
    client: RegistryClient,
    containerd: Containerd,
    pki: TestPki,
    other: TestPki,
    dir: tempfile::TempDir,
}

impl Bed {
    async fn new() -> Bed {
        let reg = RealRegistry::start(RegistryOptions::default());
        let pause = push_pause_image(&reg).await;
        let containerd = Containerd::start(ContainerdOptions {
            sandbox_image: Some(pause),
            ..ContainerdOptions::with_registry(&reg)
        });
        Bed {
            host: reg.host.clone(),
            client: reg.client(),
            reg: Some(reg),
            containerd,
            pki: TestPki::code_signing_chain(0),
            other: TestPki::code_signing_chain(0),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn repo(&self, name: &str) -> Repository {
        Repository::new(&self.host, name).unwrap()
    }

    fn image(&self, name_tag: &str) -> String {
        format!("{}/{name_tag}", self.host)
    }

    /// Pushes a busybox image saying `text` to `repo:tag`, signed by `pki`
    /// when given.
    async fn push(&self, repo: &str, tag: &str, text: &str, signer: Option<&TestPki>) -> Digest {
        let img = TestImage::busybox(text);
        let repository = self.repo(repo);
        let digest = img.push(&self.client, &repository, tag).await;
        if let Some(pki) = signer {
            let env = sign(&img.descriptor(), &pki.chain(), &SignOptions::default());
            push_notary_signature(
                &self.client,
                &repository,
                &img.descriptor(),
                &env,
                ManifestShape::ArtifactType,
                true,
            )
            .await;
        }
        digest
    }

    /// Writes a configuration: `[cri]` extras and top-level extras given.
    fn config(&self, name: &str, top: &str, cri: &str) -> PathBuf {
        let d = self.dir.path();
        std::fs::write(d.join("test-root.pem"), self.pki.root.pem()).unwrap();
        std::fs::write(d.join("other-root.pem"), self.other.root.pem()).unwrap();
        let policy = format!(
            r#"{{"version":"1.0","trustPolicies":[
              {{"name":"strangers","registryScopes":["{host}/strangers"],"signatureVerification":{{"level":"strict"}},
                "trustStores":["ca:other"],"trustedIdentities":["*"]}},
              {{"name":"default","registryScopes":["*"],"signatureVerification":{{"level":"strict"}},
                "trustStores":["ca:test"],"trustedIdentities":["*"]}}]}}"#,
            host = self.host
        );
        std::fs::write(d.join(format!("{name}-policy.json")), policy).unwrap();
        let text = format!(
            r#"{top}
state_dir = {state:?}
negative_cache_ttl = "1s"

[[key_provider]]
name = "test-root"
type = "file"
path = "test-root.pem"

[[key_provider]]
name = "other-root"
type = "file"
path = "other-root.pem"

[notation]
trust_policy = "{name}-policy.json"
[notation.trust_stores]
"ca:test" = ["test-root"]
"ca:other" = ["other-root"]

[registry."{host}"]
insecure = true

[cri]
listen = {listen:?}
upstream = {upstream:?}
exempt_namespaces = ["kube-system"]
{cri}

[admin]
listen = "127.0.0.1:{port}"
"#,
            state = d.join("state"),
            host = self.host,
            listen = d.join("run/image.sock"),
            upstream = self.containerd.socket(),
            port = free_port(),
        );
        let path = d.join(format!("{name}.toml"));
        std::fs::write(&path, text).unwrap();
        path
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("run/image.sock")
    }

    /// A client whose image service is pullgate and runtime containerd.
    fn via_pullgate(&self) -> CriClient {
        CriClient::connect(self.socket(), self.containerd.socket())
    }

    /// containerd directly.
    fn direct(&self) -> CriClient {
        self.containerd.cri()
    }

    fn stop_registry(&mut self) {
        self.reg.take();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// `pullgate serve`, stopped with SIGTERM on drop.
struct Serve {
    child: Option<Child>,
    admin: SocketAddr,
    stderr: PathBuf,
}

impl Serve {
    /// Starts and waits until `/readyz` answers 200.
    fn start(config: &Path) -> Serve {
        let text = std::fs::read_to_string(config).unwrap();
        let admin = text
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("listen = \"127.0.0.1:"))
            .map(|p| format!("127.0.0.1:{}", p.trim_end_matches('"')))
            .unwrap()
            .parse()
            .unwrap();
        let stderr = config.with_extension(format!("{}.log", free_port()));
        let child = Command::new(env!("CARGO_BIN_EXE_pullgate"))
            .args(["serve", "--config", config.to_str().unwrap()])
            .env("PULLGATE_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let mut s = Serve {
            child: Some(child),
            admin,
            stderr,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok((200, _)) = s.get("/readyz") {
                return s;
            }
            if let Some(status) = s.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("pullgate serve exited {status}: {}", s.log());
            }
            assert!(Instant::now() < deadline, "not ready: {}", s.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    fn get(&self, path: &str) -> std::io::Result<(u16, String)> {
        http_get(self.admin, path)
    }

    /// The value of one metric sample (`name` with its labels).
    fn metric(&self, sample: &str) -> u64 {
        let (_, body) = self.get("/metrics").unwrap();
        body.lines()
            .find_map(|l| l.strip_prefix(sample).and_then(|v| v.strip_prefix(' ')))
            .unwrap_or_else(|| panic!("no {sample} in\n{body}"))
            .parse()
            .unwrap()
    }

    /// SIGTERM, and the exit status.
    fn stop(&mut self) -> Option<i32> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status.code();
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        self.stop();
    }
}

fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: pullgate\r\nConnection: close\r\n\r\n"
    )?;
    let mut text = String::new();
    s.read_to_string(&mut text)?;
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

fn assert_denied(result: Result<String, CriStatus>, needle: &str) -> String {
    let status = result.expect_err("the pull was not denied");
    assert_eq!(i32::from(status.code()), UNKNOWN, "{status:?}");
    let message = status.message().to_string();
    assert!(
        message.starts_with("SignatureValidationFailed: "),
        "{message}"
    );
    assert!(
        message.contains(needle),
        "{message:?} does not say {needle:?}"
    );
    message
}

/// The repository digests containerd reports for `image`, asked directly.
async fn node_digests(bed: &Bed, image: &str) -> Option<Vec<String>> {
    bed.direct()
        .image_status(image)
        .await
        .unwrap()
        .map(|i| i.repo_digests)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_image_is_pulled_by_its_verified_digest_and_found_by_tag() {
    let bed = Bed::new().await;
    let digest = bed.push("app", "v1", "signed app", Some(&bed.pki)).await;
    let serve = Serve::start(&bed.config("signed", "", ""));
    let cri = bed.via_pullgate();
    let image = bed.image("app:v1");

    let id = cri.pull(&image, None, Some("default")).await.unwrap();
    assert!(id.starts_with("sha256:"), "{id}");
    // The tag resolves at once, through pullgate and in containerd, and the
    // record's digest is the verified digest.
    let status = cri
        .image_status(&image)
        .await
        .unwrap()
        .expect("present by tag");
    assert_eq!(status.id, id);
    assert!(status.repo_tags.contains(&image), "{status:?}");
    let pinned = format!("{}@{digest}", bed.repo("app"));
    assert_eq!(
        node_digests(&bed, &image).await.unwrap(),
        vec![pinned.clone()]
    );
    let out = bed.containerd.ctr(&["-n", "k8s.io", "images", "ls", "-q"]);
    let names = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(names.lines().any(|l| l == image), "{names}");
    let out = bed.containerd.ctr(&["-n", "k8s.io", "images", "ls"]);
    let listing = String::from_utf8_lossy(&out.stdout).to_string();
    let line = listing
        .lines()
        .find(|l| l.starts_with(&format!("{image} ")))
        .unwrap();
    assert!(line.contains(&digest.to_string()), "{line}");
    // By ID, as the kubelet asks for the image's user.
    assert!(cri.image_status(&id).await.unwrap().is_some());
    // The pod runs.
    let run = cri.run_pod(&image, None).await.unwrap();
    assert_eq!(run.stdout.trim(), "signed app");
    assert_eq!(
        serve.metric("pullgate_cri_pull_decisions_total{decision=\"verified\"}"),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsigned_image_is_denied_with_signature_validation_failed() {
    let bed = Bed::new().await;
    bed.push("unsigned", "v1", "nobody signed this", None).await;
    let serve = Serve::start(&bed.config("unsigned", "", ""));
    let image = bed.image("unsigned:v1");
    let message = assert_denied(
        bed.via_pullgate().pull(&image, None, Some("default")).await,
        "no signature is associated with",
    );
    assert!(
        message.contains(&bed.repo("unsigned").to_string()),
        "{message}"
    );
    assert!(
        node_digests(&bed, &image).await.is_none(),
        "nothing was pulled"
    );
    // The pod cannot start either.
    let err = bed.via_pullgate().run_pod(&image, None).await.unwrap_err();
    assert!(
        err.message().starts_with("SignatureValidationFailed: "),
        "{err:?}"
    );
    assert!(serve.metric("pullgate_cri_pull_decisions_total{decision=\"denied\"}") >= 1);
    let log = serve.log();
    assert!(
        log.contains("pull denied") && log.contains("unsigned:v1"),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tag_moved_to_an_unsigned_image_after_verification_is_not_pulled() {
    let bed = Bed::new().await;
    let signed = bed.push("app", "v1", "signed", Some(&bed.pki)).await;
    let _serve = Serve::start(&bed.config("moved", "", ""));
    let cri = bed.via_pullgate();
    let image = bed.image("app:v1");
    cri.pull(&image, None, Some("default")).await.unwrap();

    let unsigned = bed.push("app", "v1", "swapped in", None).await;
    assert_ne!(signed, unsigned);
    assert_denied(
        cri.pull(&image, None, Some("default")).await,
        "no signature",
    );
    let moved = format!("{}@{unsigned}", bed.repo("app"));
    assert!(
        node_digests(&bed, &moved).await.is_none(),
        "the unsigned digest never reached the node"
    );
    // The node's tag still names the verified image.
    let pinned = format!("{}@{signed}", bed.repo("app"));
    assert_eq!(node_digests(&bed, &image).await.unwrap(), vec![pinned]);

    // A tag moved to another signed image moves on the node too.
    let next = bed.push("app", "v1", "signed again", Some(&bed.pki)).await;
    cri.pull(&image, None, Some("default")).await.unwrap();
    let status = cri.image_status(&image).await.unwrap().unwrap();
    assert_eq!(
        status.repo_digests,
        vec![format!("{}@{next}", bed.repo("app"))]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsigned_image_already_on_the_node_is_reported_absent_then_denied() {
    let bed = Bed::new().await;
    bed.push("preloaded", "v1", "side-loaded", None).await;
    let image = bed.image("preloaded:v1");
    // Put there behind pullgate's back.
    let id = bed.direct().pull(&image, None, None).await.unwrap();
    let serve = Serve::start(&bed.config("preloaded", "", ""));
    let cri = bed.via_pullgate();
    assert!(bed.direct().image_status(&image).await.unwrap().is_some());
    assert!(cri.image_status(&image).await.unwrap().is_none(), "by tag");
    assert!(cri.image_status(&id).await.unwrap().is_none(), "by ID");
    assert!(
        cri.image_status(&id).await.unwrap().is_none(),
        "consistently"
    );
    // ListImages is not filtered (the kubelet's image GC needs it).
    assert!(cri.list_images().await.unwrap().iter().any(|i| i.id == id));
    let err = cri.run_pod(&image, None).await.unwrap_err();
    assert!(
        err.message().starts_with("SignatureValidationFailed: "),
        "{err:?}"
    );
    assert!(serve.metric("pullgate_cri_image_status_hidden_total") >= 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_digest_verified_in_one_repository_is_denied_in_another() {
    let bed = Bed::new().await;
    let digest = bed.push("app", "v1", "shared bits", Some(&bed.pki)).await;
    // The same image and signature in a repository whose policy trusts
    // another root.
    let again = bed
        .push("strangers", "v1", "shared bits", Some(&bed.pki))
        .await;
    assert_eq!(digest, again);
    let _serve = Serve::start(&bed.config("repos", "", ""));
    let cri = bed.via_pullgate();
    let id = cri
        .pull(&bed.image("app:v1"), None, Some("default"))
        .await
        .unwrap();
    assert_denied(
        cri.pull(&bed.image("strangers:v1"), None, Some("default"))
            .await,
        "strangers",
    );
    // Pulled there behind pullgate's back, the same image ID is still not
    // present under the strangers' name.
    bed.direct()
        .pull(&bed.image("strangers:v1"), None, None)
        .await
        .unwrap();
    assert!(
        cri.image_status(&bed.image("strangers:v1"))
            .await
            .unwrap()
            .is_none()
    );
    let pinned = format!("{}@{digest}", bed.repo("strangers"));
    assert!(cri.image_status(&pinned).await.unwrap().is_none());
    // ... while it is under the name it was verified in.
    assert_eq!(
        cri.image_status(&bed.image("app:v1"))
            .await
            .unwrap()
            .unwrap()
            .id,
        id
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exempt_namespace_passes_without_the_registry() {
    let mut bed = Bed::new().await;
    bed.push("addon", "v1", "cluster add-on", None).await;
    let image = bed.image("addon:v1");
    let id = bed.direct().pull(&image, None, None).await.unwrap();
    let serve = Serve::start(&bed.config("exempt", "", ""));
    bed.stop_registry();
    let cri = bed.via_pullgate();
    assert_eq!(
        cri.pull(&image, None, Some("kube-system")).await.unwrap(),
        id
    );
    assert_eq!(
        serve.metric("pullgate_cri_pull_decisions_total{decision=\"exempt\"}"),
        1
    );
    // Another namespace is not exempt: without the registry nothing is verified.
    assert_denied(
        cri.pull(&image, None, Some("default")).await,
        "could not resolve",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_mode_lets_everything_through_and_counts_what_it_would_deny() {
    let bed = Bed::new().await;
    bed.push("unsigned", "v1", "audited", None).await;
    bed.push("preloaded", "v1", "side-loaded", None).await;
    let preloaded = bed.image("preloaded:v1");
    bed.direct().pull(&preloaded, None, None).await.unwrap();
    let serve = Serve::start(&bed.config("audit", "mode = \"audit\"", ""));
    let cri = bed.via_pullgate();
    let image = bed.image("unsigned:v1");
    cri.pull(&image, None, Some("default")).await.unwrap();
    assert!(
        cri.image_status(&image).await.unwrap().is_some(),
        "pulled and tagged"
    );
    assert!(
        cri.image_status(&preloaded).await.unwrap().is_some(),
        "not hidden in audit mode"
    );
    assert_eq!(
        serve.metric("pullgate_cri_pull_decisions_total{decision=\"audited\"}"),
        1
    );
    assert!(serve.metric("pullgate_cri_image_status_would_hide_total") >= 1);
    assert_eq!(serve.metric("pullgate_cri_image_status_hidden_total"), 0);
    assert!(serve.log().contains("would deny"), "{}", serve.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn break_glass_lets_the_listed_image_through_with_a_warning_and_a_metric() {
    let bed = Bed::new().await;
    bed.push("hotfix", "1", "emergency", None).await;
    bed.push("hotfix", "2", "not listed", None).await;
    let cri_extra = format!("break_glass = [\"{}\"]", bed.image("hotfix:1"));
    let serve = Serve::start(&bed.config("glass", "", &cri_extra));
    let cri = bed.via_pullgate();
    cri.pull(&bed.image("hotfix:1"), None, Some("default"))
        .await
        .unwrap();
    assert!(
        cri.image_status(&bed.image("hotfix:1"))
            .await
            .unwrap()
            .is_some()
    );
    assert_denied(
        cri.pull(&bed.image("hotfix:2"), None, Some("default"))
            .await,
        "no signature",
    );
    // One pull and one ImageStatus answer rested on the entry.
    assert_eq!(serve.metric("pullgate_break_glass_total"), 2);
    assert_eq!(
        serve.metric("pullgate_cri_image_status_passed_through_total{decision=\"break_glass\"}"),
        1
    );
    let log = serve.log();
    assert!(log.contains("WARN") && log.contains("break-glass"), "{log}");
    assert!(
        log.contains("image on the node reported present without verification"),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_platform_signature_does_not_cover_a_pull_for_another_runtime_handler() {
    let bed = Bed::new().await;
    // A multi-arch image whose index is unsigned; only this node's platform
    // manifest carries a signature.
    let here = TestImage::busybox("platform signed");
    let other = if Platform::current().architecture == "arm64" {
        Platform::new("linux", "amd64", None)
    } else {
        Platform::new("linux", "arm64", Some("v8"))
    };
    let there = TestImage::for_platform("elsewhere", other);
    let repository = bed.repo("multi");
    push_index(&bed.client, &repository, "v1", &[here.clone(), there]).await;
    let env = sign(
        &here.descriptor(),
        &bed.pki.chain(),
        &SignOptions::default(),
    );
    push_notary_signature(
        &bed.client,
        &repository,
        &here.descriptor(),
        &env,
        ManifestShape::ArtifactType,
        true,
    )
    .await;
    let serve = Serve::start(&bed.config("platform", "accept_platform_signatures = true", ""));
    let cri = bed.via_pullgate();
    let image = bed.image("multi:v1");
    assert_denied(
        cri.pull_for_handler(&image, None, Some("default"), "kata")
            .await,
        "is signed for this node's platform only (accept_platform_signatures), and this pull is for runtime handler \"kata\"",
    );
    cri.pull(&image, None, Some("default")).await.unwrap();
    drop(serve);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_root_client_is_refused_by_the_peer_check_when_only_uid_1000_is_allowed() {
    use std::os::unix::fs::PermissionsExt as _;
    let bed = Bed::new().await;
    let serve = Serve::start(&bed.config("uids", "", "allowed_uids = [1000]"));
    let mode = std::fs::metadata(bed.socket())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o660);
    let dir = std::fs::metadata(bed.socket().parent().unwrap())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(dir & 0o777, 0o700);
    // This test runs as root, which file permissions never stop: the refusal
    // is the peer-credential check's.
    assert_eq!(rustix_uid(), 0);
    let err = bed.via_pullgate().image_fs_info().await.unwrap_err();
    assert_ne!(i32::from(err.code()), 0);
    assert!(serve.metric("pullgate_cri_connections_refused_total") >= 1);
}

fn rustix_uid() -> u32 {
    let out = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verified_images_stay_present_after_a_restart_without_the_registry() {
    let mut bed = Bed::new().await;
    bed.push("app", "v1", "survivor", Some(&bed.pki)).await;
    bed.push("preloaded", "v1", "side-loaded", None).await;
    let preloaded = bed.image("preloaded:v1");
    bed.direct().pull(&preloaded, None, None).await.unwrap();
    let config = bed.config("restart", "", "");
    let image = bed.image("app:v1");
    {
        let mut serve = Serve::start(&config);
        let run = bed.via_pullgate().run_pod(&image, None).await.unwrap();
        assert_eq!(run.stdout.trim(), "survivor");
        assert_eq!(serve.stop(), Some(0), "graceful exit: {}", serve.log());
    }
    bed.stop_registry();
    let serve = Serve::start(&config);
    let cri = bed.via_pullgate();
    assert!(cri.image_status(&image).await.unwrap().is_some());
    let run = cri.run_pod(&image, None).await.unwrap();
    assert_eq!(run.stdout.trim(), "survivor");
    assert!(cri.image_status(&preloaded).await.unwrap().is_none());
    assert_eq!(
        serve.metric("pullgate_verifications_total"),
        0,
        "nothing verified again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_pulls_of_one_digest_cause_one_verification() {
    let bed = Bed::new().await;
    bed.push("app", "v1", "popular", Some(&bed.pki)).await;
    let serve = Serve::start(&bed.config("hundred", "", ""));
    let cri = bed.via_pullgate();
    let image = bed.image("app:v1");
    let pulls: Vec<_> = (0..100)
        .map(|_| {
            let cri = cri.clone();
            let image = image.clone();
            tokio::spawn(async move { cri.pull(&image, None, Some("default")).await })
        })
        .collect();
    let mut ids = std::collections::BTreeSet::new();
    for p in pulls {
        ids.insert(p.await.unwrap().unwrap());
    }
    assert_eq!(ids.len(), 1);
    assert_eq!(serve.metric("pullgate_verifications_total"), 1);
    assert_eq!(
        serve.metric("pullgate_cri_pull_decisions_total{decision=\"verified\"}"),
        100
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_that_changes_the_policy_changes_the_generation_and_a_bad_one_is_refused() {
    let bed = Bed::new().await;
    bed.push("app", "v1", "reloaded", Some(&bed.pki)).await;
    let config = bed.config("reload", "", "");
    let serve = Serve::start(&config);
    let cri = bed.via_pullgate();
    let image = bed.image("app:v1");
    cri.pull(&image, None, Some("default")).await.unwrap();
    let generation = |s: &Serve| {
        let (_, body) = s.get("/metrics").unwrap();
        body.lines()
            .find(|l| l.starts_with("pullgate_config_generation_info"))
            .unwrap()
            .to_string()
    };
    let first = generation(&serve);

    // SIGHUP reloads (the same configuration: the same generation).
    let pid = serve.child.as_ref().unwrap().id().to_string();
    Command::new("kill").args(["-HUP", &pid]).status().unwrap();
    wait_for(|| serve.metric("pullgate_config_reloads_total{result=\"ok\"}") >= 1);
    assert_eq!(generation(&serve), first);

    // A broken configuration is refused; the last good one stays.
    let good = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{good}\nnot valid = = toml")).unwrap();
    wait_for(|| serve.metric("pullgate_config_reloads_total{result=\"failed\"}") >= 1);
    assert_eq!(generation(&serve), first);
    assert!(cri.image_status(&image).await.unwrap().is_some());

    // One that builds but that a restart would refuse (a Gatekeeper table
    // on a node run without --only cri) is refused too.
    std::fs::write(
        &config,
        format!(
            "{good}\n[gatekeeper]\nlisten = \"127.0.0.1:6001\"\ntls_cert = \"t.crt\"\ntls_key = \"t.key\"\nclient_ca = \"ca.crt\"\n"
        ),
    )
    .unwrap();
    wait_for(|| serve.metric("pullgate_config_reloads_total{result=\"failed\"}") >= 2);
    assert_eq!(generation(&serve), first);
    assert!(serve.log().contains("a restart would refuse it"));

    // The default statement now trusts the other root: a new generation,
    // and the image is no longer reported present until verified again
    // (which now fails).
    std::fs::write(&config, &good).unwrap();
    let policy = config.with_file_name("reload-policy.json");
    let text = std::fs::read_to_string(&policy).unwrap();
    std::fs::write(&policy, text.replace("\"ca:test\"", "\"ca:other\"")).unwrap();
    wait_for(|| generation(&serve) != first);
    assert!(cri.image_status(&image).await.unwrap().is_none());
    assert_denied(cri.pull(&image, None, Some("default")).await, "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_pullgate_does_not_decide_are_containerds() {
    let bed = Bed::new().await;
    bed.push("app", "v1", "listed", Some(&bed.pki)).await;
    bed.direct()
        .pull(&bed.image("app:v1"), None, None)
        .await
        .unwrap();
    let _serve = Serve::start(&bed.config("passthrough", "", ""));
    let (via, direct) = (bed.via_pullgate(), bed.direct());
    assert_eq!(
        via.list_images().await.unwrap(),
        direct.list_images().await.unwrap()
    );
    let missing = bed.image("nothing:here");
    let (a, b) = (via.remove(&missing).await, direct.remove(&missing).await);
    match (a, b) {
        (Ok(()), Ok(())) => {}
        (Err(a), Err(b)) => {
            assert_eq!(a.code(), b.code());
            assert_eq!(a.message(), b.message());
        }
        (a, b) => panic!("{a:?} vs {b:?}"),
    }
    assert!(via.image_status(&missing).await.unwrap().is_none());
    let fs = via.image_fs_info().await.unwrap();
    assert_eq!(
        fs.image_filesystems.len(),
        direct
            .image_fs_info()
            .await
            .unwrap()
            .image_filesystems
            .len()
    );
}

fn wait_for(mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn readiness_waits_for_containerd_and_bad_configurations_exit_2_before_binding() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let port = free_port();
    let config = d.join("c.toml");
    std::fs::write(d.join("p.json"), r#"{"version":"1.0","trustPolicies":[{"name":"p","registryScopes":["*"],"signatureVerification":{"level":"skip"},"trustStores":[],"trustedIdentities":[]}]}"#).unwrap();
    std::fs::write(
        &config,
        format!(
            "state_dir = {:?}\n[notation]\ntrust_policy = \"p.json\"\n[cri]\nlisten = {:?}\nupstream = {:?}\n[admin]\nlisten = \"127.0.0.1:{port}\"\n",
            d.join("state"),
            d.join("run/image.sock"),
            d.join("no-containerd.sock")
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pullgate"))
        .args(["serve", "--config", config.to_str().unwrap()])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let live = loop {
        if let Ok(r) = http_get(addr, "/livez") {
            break r;
        }
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(live.0, 200);
    let (status, body) = http_get(addr, "/readyz").unwrap();
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("containerd"), "{body}");
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert_eq!(child.wait().unwrap().code(), Some(0));

    // A bad configuration: exit 2, nothing bound.
    std::fs::write(&config, "mode = \"sometimes\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_pullgate"))
        .args(["serve", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("mode"));
}
