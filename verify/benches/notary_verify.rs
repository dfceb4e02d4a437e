#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]
//! Verification speed for the Notary Project's `e2e-valid-signature` layout
//! (JWS PS256, one self-signed RSA-2048 certificate):
//!
//! 1. warm: the registry data already fetched, only the per-signature
//!    pipeline (parse, chain rules, RSA-PSS, trust, identity, times,
//!    target descriptor). Goal: ≤ 100 µs at p50.
//! 2. cold: `Engine::verify` against the loopback docker-registry (no
//!    verdict cache exists at this layer), beside the sum of the p50s of the
//!    same round trips made with a bare HTTP client in the same run. Goal:
//!    ≤ 1.2× that floor.
//!
//! Run: `cargo bench -p pullgate-verify --bench notary_verify` (needs
//! Debian's docker-registry). `BENCH_QUICK=1` runs fewer iterations.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pullgate_policy::{TrustPolicyDocument, TrustStoreRef};
use pullgate_registry::{Descriptor, Platform, Repository};
use pullgate_testsupport::{RealRegistry, RegistryOptions, push_oci_layout};
use pullgate_verify::keys::{ContentType, FileProvider, KeyProvider};
use pullgate_verify::notary::{
    Context, NoRevocationData, NotaryVerifier, TrustStores, load_store, signature,
};
use pullgate_verify::{Engine, EngineConfig, Mode, Require, SystemClock};

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/notation")
}

const TARGET: &str = "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";
const SIG_MANIFEST: &str =
    "sha256:90ceaff260d657d797c408ac73564a9c7bb9d86055877c2a811f0e63b8c6524f";
const ENVELOPE: &str = "c9af07e038b2b1a463e648986ad7273157511ffeba0b689f33e5472bae471f50";

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q) as usize];
    (at(0.5), at(0.99))
}

fn setup() -> (TrustPolicyDocument, TrustStores) {
    let policy =
        std::fs::read(vectors().join("trustpolicies/notation-e2e/trustpolicy.json")).unwrap();
    let policy = TrustPolicyDocument::parse(&policy).unwrap();
    let store: TrustStoreRef = "ca:e2e".parse().unwrap();
    let dir = vectors().join("truststores/notation-e2e/x509/ca/e2e");
    let provider: Arc<dyn KeyProvider> =
        Arc::new(FileProvider::new("e2e", ContentType::Certificate, &dir));
    let mut stores = TrustStores::default();
    stores.insert(&store, load_store(&store, &[provider]).unwrap());
    (policy, stores)
}

fn warm(runtime: &tokio::runtime::Runtime, iterations: usize) {
    let (policy, stores) = setup();
    let envelope = std::fs::read(
        vectors()
            .join("oci-layouts/notation-e2e/e2e-valid-signature/blobs/sha256")
            .join(ENVELOPE),
    )
    .unwrap();
    let target = Descriptor::new(
        pullgate_registry::media_types::OCI_MANIFEST,
        TARGET.parse().unwrap(),
        517,
    );
    let now = time::OffsetDateTime::now_utc();
    let run = || {
        let ctx = Context {
            policy: &policy.statements()[0],
            stores: &stores,
            revocation: &NoRevocationData,
            now,
            target: &target,
        };
        let outcome = runtime.block_on(signature::verify("application/jose+json", &envelope, &ctx));
        assert!(outcome.verified());
    };
    for _ in 0..200 {
        run();
    }
    let samples: Vec<Duration> = (0..iterations)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed()
        })
        .collect();
    let (p50, p99) = percentiles(samples);
    println!(
        "warm: verify e2e-valid-signature (JWS PS256, data fetched): p50 {:.1} µs, p99 {:.1} µs over {iterations} runs (goal ≤ 100 µs at p50)",
        p50.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6
    );
}

async fn cold(iterations: usize) {
    let reg = RealRegistry::start(RegistryOptions::default());
    let client = reg.client();
    let repo = Repository::new(&reg.host, "bench/app").unwrap();
    push_oci_layout(
        &client,
        &repo,
        &vectors().join("oci-layouts/notation-e2e/e2e-valid-signature"),
    )
    .await;
    let (policy, stores) = setup();
    let engine = Engine::new(
        EngineConfig {
            mode: Mode::Enforce,
            require: Require::Any,
            notation: Some(NotaryVerifier {
                policy,
                stores,
                revocation: Arc::new(NoRevocationData),
                max_signatures: 100,
            }),
            accept_platform_signatures: false,
            platform: Platform::current(),
            node: Default::default(),
            cosign: None,
        },
        Arc::new(SystemClock),
    );
    let image = format!("{}/bench/app:v1", reg.host);
    let base = format!("http://{}/v2/bench/app", reg.host);
    let target_hex = &TARGET["sha256:".len()..];
    let floor_requests = [
        (format!("{base}/manifests/v1"), 200u16),
        (format!("{base}/referrers/{TARGET}"), 404),
        (format!("{base}/manifests/sha256-{target_hex}"), 200),
        (format!("{base}/manifests/{SIG_MANIFEST}"), 200),
        (format!("{base}/blobs/sha256:{ENVELOPE}"), 200),
    ];
    let http = reqwest::Client::builder().build().unwrap();
    let accept = pullgate_registry::media_types::MANIFEST_ACCEPT.join(", ");
    let mut floor_samples: Vec<Vec<Duration>> = vec![Vec::new(); floor_requests.len()];
    let mut engine_samples = Vec::new();
    for i in 0..iterations + 50 {
        for (k, (url, status)) in floor_requests.iter().enumerate() {
            let start = Instant::now();
            let resp = http
                .get(url)
                .header("accept", &accept)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status().as_u16(), *status, "{url}");
            let _ = resp.bytes().await.unwrap();
            if i >= 50 {
                floor_samples[k].push(start.elapsed());
            }
        }
        let start = Instant::now();
        let verdict = engine.verify(&client, &image).await;
        assert!(verdict.allowed(), "{}", verdict.reason());
        if i >= 50 {
            engine_samples.push(start.elapsed());
        }
    }
    let floor: Duration = floor_samples.into_iter().map(|s| percentiles(s).0).sum();
    let (p50, p99) = percentiles(engine_samples);
    println!(
        "cold: Engine::verify against loopback docker-registry 2.8: p50 {:.2} ms, p99 {:.2} ms over {iterations} runs",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
    );
    println!(
        "cold: floor = sum of p50s of the same 5 round trips with a bare client: {:.2} ms; ratio {:.2}× (goal ≤ 1.2×)",
        floor.as_secs_f64() * 1e3,
        p50.as_secs_f64() / floor.as_secs_f64()
    );
}

fn main() {
    let quick = std::env::var_os("BENCH_QUICK").is_some();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    warm(&runtime, if quick { 1000 } else { 5000 });
    runtime.block_on(cold(if quick { 100 } else { 500 }));
}
