#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]
//! The latency the CRI proxy adds, against the real containerd, and the CPU
//! cost of a cached-verdict pull decision.
//!
//! 1. `ImageStatus` (of a pulled image, by tag) and `ListImages` (one image),
//!    each made directly to containerd, through a plain hyper HTTP/2
//!    passthrough (hyper server in, one shared hyper client out, nothing
//!    else: the baseline), and through pullgate's [`Proxy`] with the real
//!    [`Enforcer`]. The image is recorded as verified under the engine's
//!    generation, so `ImageStatus` takes the "verified, present" path (the
//!    hot path: forwarded, answer read, verified state looked up, answer
//!    returned); `ListImages` is passed through. Paths are interleaved call
//!    by call (one call to each, the order rotating), so that load from
//!    elsewhere on the machine falls on all three alike (batches of calls per
//!    path gave verdicts that flipped from run to run here); each server runs
//!    on its own `current_thread` runtime in its own thread, the client on
//!    another. The table shows, per path, the median over rounds of each
//!    round's p50/p90/p99 (with the rounds' range) and the added latency
//!    against direct; then pullgate minus the plain passthrough, round by
//!    round. Goal: pullgate adds no more than the plain passthrough; stretch:
//!    at most +60 µs at p50.
//! 2. A `PullImage` whose verdict is cached, decided in-process as the
//!    enforcer does it, minus the registry round trip (resolve) and
//!    containerd's pull: parse the request, pass-through checks, credentials,
//!    the verdict-cache hit, the splice to `repo@digest`.
//!
//! Run: `cargo bench -p pullgate-cri-proxy --bench cri_hop` (root; Debian's
//! containerd, runc, busybox-static and docker-registry). Environment:
//! `CRI_HOP_CALLS` calls per path, method and round (default 2000),
//! `CRI_HOP_ROUNDS` (5), `CRI_HOP_WARMUP` unmeasured calls per path,
//! method and round (200), `CRI_HOP_DECISIONS` pull decisions timed (200000),
//! `CRI_HOP_NO_TIMEOUT=1` leaves out the `grpc-timeout` header the kubelet
//! sends.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderValue, Request};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use pullgate_cri_proxy::cri::{self, PullRequest, path};
use pullgate_cri_proxy::enforce::{ContainerdImages, Enforcer, Policy, VerifiedState};
use pullgate_cri_proxy::grpc::frame;
use pullgate_cri_proxy::{Proxy, ProxyConfig, proto};
use pullgate_policy::TrustPolicyDocument;
use pullgate_registry::{ImageRef, Platform, RegistryClient};
use pullgate_testsupport::containerd::{Containerd, ContainerdOptions};
use pullgate_testsupport::{RealRegistry, RegistryOptions, TestImage};
use pullgate_verify::notary::{NoRevocationData, NotaryVerifier, TrustStores};
use pullgate_verify::{
    CacheKey, CacheSettings, Decision, Engine, EngineConfig, Mode, Require, Resolved, SystemClock,
    VerdictCache,
};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::oneshot;

type BoxError = Box<dyn Error + Send + Sync>;

/// The stretch goal for pullgate's added p50, in µs.
const STRETCH_P50_US: f64 = 60.0;

fn main() -> Result<(), BoxError> {
    let calls = env_usize("CRI_HOP_CALLS", 2000)?;
    let rounds = env_usize("CRI_HOP_ROUNDS", 5)?;
    let warmup = env_usize("CRI_HOP_WARMUP", 200)?;
    let decisions = env_usize("CRI_HOP_DECISIONS", 200_000)?;
    let timeout = std::env::var_os("CRI_HOP_NO_TIMEOUT").is_none();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;

    // A registry with the image, containerd with it pulled.
    let registry = RealRegistry::start(RegistryOptions::default());
    let repo = registry.repo("bench/app");
    let image = format!("{}/bench/app:v1", registry.host);
    let digest =
        runtime.block_on(TestImage::busybox("bench").push(&registry.client(), &repo, "v1"));
    let containerd = Containerd::start(ContainerdOptions::with_registry(&registry));
    let image_id = runtime.block_on(async { containerd.cri().pull(&image, None, None).await })?;
    println!(
        "containerd {} ({:?} snapshotter, ready in {:?}); {image} = {digest}, image id {image_id}",
        containerd.pid(),
        containerd.snapshotter(),
        containerd.started_in()
    );

    // The enforcer, with the image verified under its engine's generation.
    let engine = Arc::new(skip_engine(&registry.host)?);
    let policy_registry = RegistryClient::new(registry.client_config(false))?;
    let state = Arc::new(VerifiedState::in_memory());
    state.record(&repo, &digest, engine.generation(), &image_id);
    let enforcer = Enforcer::new(
        Policy {
            engine: Arc::clone(&engine),
            registry: policy_registry.clone(),
        },
        VerdictCache::new(CacheSettings::default()),
        state,
        Arc::new(ContainerdImages::new()),
    );

    // The servers.
    let dir = tempfile::tempdir()?;
    let upstream = containerd.socket();
    let plain = dir.path().join("plain.sock");
    let (plain_listener, up) = (bind_std(&plain)?, upstream.clone());
    let (stop_plain, stopped) = oneshot::channel();
    let plain_thread = spawn_server(move || plain_proxy(plain_listener, up, stopped));
    let pullgate = dir.path().join("pullgate/image.sock");
    let config = ProxyConfig::new(&pullgate, &upstream);
    let (stop_pullgate, stopped) = oneshot::channel::<()>();
    let interceptor = Arc::new(enforcer.clone());
    let pullgate_thread = spawn_server(move || async move {
        let proxy = Proxy::bind(config, interceptor).await?;
        proxy
            .serve(async move {
                let _ = stopped.await;
            })
            .await?;
        Ok(())
    });

    let paths = [
        ("direct", upstream),
        ("plain hyper h2", plain),
        ("pullgate", pullgate),
    ];
    let methods = [
        Method {
            name: "ImageStatus",
            path: path::IMAGE_STATUS,
            body: frame::encode(&cri::status_request(&image)),
        },
        Method {
            name: "ListImages",
            path: path::LIST_IMAGES,
            body: frame::encode(b""),
        },
    ];
    println!(
        "{rounds} rounds x {calls} calls per path and method, interleaved call by call ({warmup} warm-up calls each), grpc-timeout {}",
        if timeout { "sent" } else { "not sent" }
    );
    let results = runtime.block_on(async {
        let mut clients = Vec::new();
        for (name, socket) in &paths {
            let mut client = connect_retry(socket).await?;
            for method in &methods {
                method
                    .check(&mut client, timeout)
                    .await
                    .map_err(|e| format!("{} through {name}: {e}", method.name))?;
            }
            clients.push(client);
        }
        // results[method][path][round]
        let mut results = vec![vec![Vec::new(); paths.len()]; methods.len()];
        for _ in 0..rounds {
            for (m, method) in methods.iter().enumerate() {
                let mut samples = vec![Vec::with_capacity(calls); paths.len()];
                for i in 0..warmup + calls {
                    // One call per path, the order rotating call by call.
                    for k in 0..paths.len() {
                        let p = (i + k) % paths.len();
                        let took = method.time(&mut clients[p], timeout).await?;
                        if i >= warmup {
                            samples[p].push(took);
                        }
                    }
                }
                for (p, samples) in samples.into_iter().enumerate() {
                    results[m][p].push(Stats::of(samples));
                }
            }
        }
        Ok::<_, BoxError>(results)
    })?;
    let names: Vec<&str> = paths.iter().map(|(n, _)| *n).collect();
    for (method, results) in methods.iter().zip(&results) {
        report(method.name, &names, results);
    }
    let hidden = enforcer.metrics().status_hidden.load(Ordering::Relaxed);
    if hidden != 0 {
        return Err(
            format!("the enforcer hid the image {hidden} times: not the verified path").into(),
        );
    }

    // A cached-verdict pull decision.
    runtime.block_on(pull_decisions(&engine, &policy_registry, &image, decisions))?;

    // Close the client connections, stop the servers, then containerd and
    // the registry (their drops).
    drop(runtime);
    let _ = stop_plain.send(());
    let _ = stop_pullgate.send(());
    plain_thread
        .join()
        .map_err(|_| "the plain proxy panicked")??;
    pullgate_thread.join().map_err(|_| "pullgate panicked")??;
    drop(containerd);
    drop(registry);
    Ok(())
}

fn env_usize(name: &str, default: usize) -> Result<usize, BoxError> {
    match std::env::var(name) {
        Ok(v) => Ok(v.parse().map_err(|e| format!("{name}={v:?}: {e}"))?),
        Err(_) => Ok(default),
    }
}

/// An engine whose Notary trust policy skips verification for the bench's
/// repository: a pull is `Verified` without signatures.
fn skip_engine(host: &str) -> Result<Engine, BoxError> {
    let policy = format!(
        r#"{{"version":"1.0","trustPolicies":[{{"name":"bench","registryScopes":["{host}/bench/app"],"signatureVerification":{{"level":"skip"}}}}]}}"#
    );
    let policy = TrustPolicyDocument::parse(policy.as_bytes()).map_err(|e| e.to_string())?;
    let config = EngineConfig {
        mode: Mode::Enforce,
        require: Require::Any,
        notation: Some(NotaryVerifier {
            policy,
            stores: TrustStores::default(),
            revocation: Arc::new(NoRevocationData),
            max_signatures: 100,
        }),
        accept_platform_signatures: false,
        platform: Platform::current(),
        node: Default::default(),
        cosign: None,
    };
    Ok(Engine::new(config, Arc::new(SystemClock)))
}

/// A CRI method called with one fixed request.
struct Method {
    name: &'static str,
    path: &'static str,
    /// The framed request message.
    body: Bytes,
}

impl Method {
    fn request(&self, timeout: bool) -> Result<Request<Full<Bytes>>, BoxError> {
        let mut request = Request::post(format!("http://localhost{}", self.path))
            .body(Full::new(self.body.clone()))?;
        let headers = request.headers_mut();
        headers.insert("content-type", HeaderValue::from_static("application/grpc"));
        headers.insert("te", HeaderValue::from_static("trailers"));
        if timeout {
            headers.insert("grpc-timeout", HeaderValue::from_static("119999m"));
        }
        headers.insert("user-agent", HeaderValue::from_static("grpc-go/1.72.0"));
        Ok(request)
    }

    /// One call; its response message.
    async fn call(
        &self,
        client: &mut SendRequest<Full<Bytes>>,
        timeout: bool,
    ) -> Result<Bytes, BoxError> {
        let response = client.send_request(self.request(timeout)?).await?;
        let (head, body) = response.into_parts();
        let collected = body.collect().await?;
        let status = collected
            .trailers()
            .and_then(|t| t.get("grpc-status"))
            .or_else(|| head.headers.get("grpc-status"))
            .cloned();
        if status.as_ref().is_none_or(|s| s != "0") {
            return Err(format!("call failed: grpc-status {status:?}").into());
        }
        Ok(frame::decode_single(&collected.to_bytes(), 16 << 20)
            .map_err(|e| e.reason())?
            .unwrap_or_default())
    }

    /// The answer is the realistic one: the image present, the list not empty.
    async fn check(
        &self,
        client: &mut SendRequest<Full<Bytes>>,
        timeout: bool,
    ) -> Result<(), BoxError> {
        let message = self.call(client, timeout).await?;
        let ok = match self.path {
            path::IMAGE_STATUS => cri::status_response_image(&message)?.is_some(),
            _ => !proto::repeated_bytes(&message, 1)?.is_empty(),
        };
        if !ok {
            return Err("empty answer".into());
        }
        Ok(())
    }

    /// One call, timed from sending the request to the end of the trailers.
    async fn time(
        &self,
        client: &mut SendRequest<Full<Bytes>>,
        timeout: bool,
    ) -> Result<Duration, BoxError> {
        let request = self.request(timeout)?;
        let started = Instant::now();
        let response = client.send_request(request).await?;
        let collected = response.into_body().collect().await?;
        let took = started.elapsed();
        let status = collected.trailers().and_then(|t| t.get("grpc-status"));
        if status.is_none_or(|s| s != "0") {
            return Err(format!("{} failed: grpc-status {status:?}", self.name).into());
        }
        Ok(took)
    }
}

/// p50, p90, p99 in µs.
#[derive(Debug, Clone, Copy)]
struct Stats([f64; 3]);

impl Stats {
    fn of(mut samples: Vec<Duration>) -> Stats {
        samples.sort();
        Stats([0.5, 0.9, 0.99].map(|q| percentile(&samples, q).as_secs_f64() * 1e6))
    }
}

/// The `q` quantile of sorted samples.
fn percentile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * q) as usize]
}

/// One method's table: per path, the median over rounds of each quantile
/// with the rounds' range, and the added latency against the first path.
fn report(method: &str, names: &[&str], results: &[Vec<Stats>]) {
    let median = |i: usize, k: usize| {
        let mut v: Vec<f64> = results[i].iter().map(|s| s.0[k]).collect();
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[0], v[v.len() - 1])
    };
    let added = |i: usize, k: usize| median(i, k).0 - median(0, k).0;
    println!();
    println!(
        "{method:<16} {:>18} {:>18} {:>18} {:>8} {:>8}",
        "p50 µs [range]", "p90 µs [range]", "p99 µs [range]", "+p50", "+p99"
    );
    for (i, name) in names.iter().enumerate() {
        let cells: Vec<String> = (0..3)
            .map(|k| {
                let (m, lo, hi) = median(i, k);
                format!("{m:.0} [{lo:.0}-{hi:.0}]")
            })
            .collect();
        println!(
            "{name:<16} {:>18} {:>18} {:>18} {:>+8.0} {:>+8.0}",
            cells[0],
            cells[1],
            cells[2],
            added(i, 0),
            added(i, 2)
        );
    }
    let (plain, ours) = (1, names.len() - 1);
    let paired = |k: usize| {
        let mut v: Vec<f64> = results[ours]
            .iter()
            .zip(&results[plain])
            .map(|(o, p)| o.0[k] - p.0[k])
            .collect();
        v.sort_by(f64::total_cmp);
        format!(
            "{:+.0} [{:+.0} to {:+.0}]",
            v[v.len() / 2],
            v[0],
            v[v.len() - 1]
        )
    };
    println!(
        "{method}: pullgate minus plain hyper h2, per round: p50 {} µs, p99 {} µs",
        paired(0),
        paired(2)
    );
    let verdict = |met: bool| if met { "met" } else { "NOT met" };
    println!(
        "{method}: goal (pullgate adds no more than the plain passthrough): p50 {} ({:+.0} vs {:+.0} µs), p99 {} ({:+.0} vs {:+.0} µs); stretch (+{STRETCH_P50_US:.0} µs at p50): {}",
        verdict(added(ours, 0) <= added(plain, 0)),
        added(ours, 0),
        added(plain, 0),
        verdict(added(ours, 2) <= added(plain, 2)),
        added(ours, 2),
        added(plain, 2),
        verdict(added(ours, 0) <= STRETCH_P50_US),
    );
}

/// A `PullImageRequest` as the kubelet sends it for a pod with a pull
/// secret: image, basic credentials, the sandbox config's metadata,
/// hostname, log directory, labels, annotations and cgroup parent.
fn pull_request(image: &str) -> Vec<u8> {
    let field = |n: u32, payload: &[u8]| {
        let mut out = Vec::new();
        proto::encode_len_field(n, payload, &mut out);
        out
    };
    let entry = |k: &str, v: &str| [field(1, k.as_bytes()), field(2, v.as_bytes())].concat();
    let spec = field(1, image.as_bytes());
    let auth = [field(1, b"bench-user"), field(2, b"bench-password")].concat();
    let metadata = [
        field(1, b"web-5d8f7c9b6-x2x7q"),
        field(2, b"0f8e4c1a-6b1e-4b7a-9c55-3f3d3e0b9a11"),
        field(3, b"production"),
    ]
    .concat();
    let mut sandbox = [
        field(1, &metadata),
        field(2, b"web-5d8f7c9b6-x2x7q"),
        field(
            3,
            b"/var/log/pods/production_web-5d8f7c9b6-x2x7q_0f8e4c1a-6b1e-4b7a-9c55-3f3d3e0b9a11",
        ),
    ]
    .concat();
    for (k, v) in [
        ("app", "web"),
        ("pod-template-hash", "5d8f7c9b6"),
        ("io.kubernetes.pod.name", "web-5d8f7c9b6-x2x7q"),
        ("io.kubernetes.pod.namespace", "production"),
        (
            "io.kubernetes.pod.uid",
            "0f8e4c1a-6b1e-4b7a-9c55-3f3d3e0b9a11",
        ),
    ] {
        sandbox.extend(field(6, &entry(k, v)));
    }
    for (k, v) in [
        (
            "kubernetes.io/config.seen",
            "2025-01-01T00:00:00.000000000Z",
        ),
        ("kubernetes.io/config.source", "api"),
    ] {
        sandbox.extend(field(7, &entry(k, v)));
    }
    sandbox.extend(field(
        8,
        &field(
            1,
            b"/kubepods/burstable/pod0f8e4c1a-6b1e-4b7a-9c55-3f3d3e0b9a11",
        ),
    ));
    [field(1, &spec), field(2, &auth), field(3, &sandbox)].concat()
}

/// Times `n` decisions of a `PullImage` whose verdict is cached.
async fn pull_decisions(
    engine: &Arc<Engine>,
    registry: &RegistryClient,
    image: &str,
    n: usize,
) -> Result<(), BoxError> {
    let message = pull_request(image);
    // The registry round trip, done once: every decision below uses its answer.
    let resolved = engine
        .resolve(registry, image)
        .await
        .map_err(|v| v.reason())?;
    let cache = VerdictCache::new(CacheSettings::default());
    // The first decision verifies (the skip policy) and fills the cache.
    let first = decide(engine, registry, &cache, &resolved, &message).await?;
    let pinned = format!(
        "{}@{}",
        resolved.reference.repository(),
        resolved.manifest.digest
    );
    if PullRequest::parse(&first)?.image != pinned {
        return Err("the decision did not pin the digest".into());
    }
    for _ in 0..n.min(10_000) {
        decide(engine, registry, &cache, &resolved, &message).await?;
    }
    let before = cache.stats().verifications.load(Ordering::Relaxed);
    let mut samples = Vec::with_capacity(n);
    let started = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        let out = decide(engine, registry, &cache, &resolved, &message).await?;
        samples.push(t.elapsed());
        drop(out);
    }
    let total = started.elapsed();
    if cache.stats().verifications.load(Ordering::Relaxed) != before {
        return Err("a timed decision verified instead of hitting the cache".into());
    }
    samples.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!();
    println!(
        "cached-verdict pull decision ({} B PullImageRequest, {n} decisions): p50 {:.2} µs, p99 {:.2} µs, mean {:.2} µs (timer included)",
        message.len(),
        us(percentile(&samples, 0.5)),
        us(percentile(&samples, 0.99)),
        us(total) / n as f64,
    );
    Ok(())
}

/// The enforcer's `PullImage` decision (`Enforcer::pull`) without its I/O:
/// `resolved` stands for `Engine::resolve`'s answer (the registry round
/// trip), and the spliced request is returned instead of sent to containerd.
async fn decide(
    engine: &Arc<Engine>,
    registry: &RegistryClient,
    cache: &Arc<VerdictCache>,
    resolved: &Resolved,
    message: &[u8],
) -> Result<Vec<u8>, BoxError> {
    let pull = PullRequest::parse(message)?;
    if let Ok(reference) = pull.image.parse::<ImageRef>()
        && engine.pass_through(&pull.pod, &reference, None).is_some()
    {
        return Err("unexpected pass-through".into());
    }
    let credentials = pull.auth.clone().into_credentials()?;
    let registry = registry.with_credentials(credentials);
    let digest = resolved.manifest.digest.clone();
    let repository = resolved.reference.repository().clone();
    if engine
        .pass_through(&pull.pod, &resolved.reference, Some(&digest))
        .is_some()
    {
        return Err("unexpected pass-through".into());
    }
    let key = CacheKey {
        repository,
        digest: digest.clone(),
        generation: engine.generation().clone(),
    };
    let verdict = {
        let engine = Arc::clone(engine);
        let registry = registry.clone();
        let resolved = resolved.clone();
        cache
            .get_or_verify(key, &pull.image, engine.mode(), move || async move {
                engine.verify_resolved(&registry, &resolved).await
            })
            .await
    };
    if !matches!(verdict.decision, Decision::Verified(_)) {
        return Err(format!("not verified: {}", verdict.reason()).into());
    }
    let pinned = format!("{}@{digest}", resolved.reference.repository());
    Ok(PullRequest::with_image(message, &pinned)?)
}

async fn connect(path: &Path) -> Result<SendRequest<Full<Bytes>>, BoxError> {
    let stream = UnixStream::connect(path).await?;
    let (sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

/// Connects once the server listens (up to 5 s).
async fn connect_retry(path: &Path) -> Result<SendRequest<Full<Bytes>>, BoxError> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match connect(path).await {
            Ok(sender) => return Ok(sender),
            Err(e) if Instant::now() >= deadline => {
                return Err(format!("{}: {e}", path.display()).into());
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

fn bind_std(path: &Path) -> Result<std::os::unix::net::UnixListener, BoxError> {
    let listener = std::os::unix::net::UnixListener::bind(path)?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// Runs a server on its own `current_thread` runtime in its own thread.
fn spawn_server<F, Fut>(server: F) -> std::thread::JoinHandle<Result<(), BoxError>>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), BoxError>>,
{
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(server())
    })
}

/// The baseline: hyper in, one shared hyper client out, request and
/// response passed as they are.
async fn plain_proxy(
    listener: std::os::unix::net::UnixListener,
    upstream: PathBuf,
    mut stop: oneshot::Receiver<()>,
) -> Result<(), BoxError> {
    let listener = UnixListener::from_std(listener)?;
    let stream = UnixStream::connect(&upstream).await?;
    let (sender, connection) = hyper::client::conn::http2::handshake::<_, _, Incoming>(
        TokioExecutor::new(),
        TokioIo::new(stream),
    )
    .await?;
    tokio::spawn(connection);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => accepted?.0,
            _ = &mut stop => return Ok(()),
        };
        let sender = sender.clone();
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            let mut sender = sender.clone();
            async move { sender.send_request(request).await }
        });
        tokio::spawn(
            hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service),
        );
    }
}
