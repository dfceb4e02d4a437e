//! Enforcement at the node: the [`Interceptor`] that decides `PullImage`
//! and `ImageStatus` with the shared engine. Every other method of
//! `runtime.v1.ImageService` passes through untouched; calls to any other
//! service are refused (`Unimplemented`) before their body is read.
//!
//! - `PullImage`: the reference is resolved with the kubelet's own
//!   credentials, the digest verified (through the process's verdict cache),
//!   and containerd pulls exactly that digest; the tag is then recorded on
//!   the node so the kubelet finds it. A denial is gRPC `Unknown` with
//!   `SignatureValidationFailed: <reason>`.
//! - `ImageStatus`: an image on the node that is not verified under the
//!   current generation (nor allowed by digest or break-glass) is reported
//!   absent, so the kubelet pulls and the pull decides.

pub mod state;
pub mod tags;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use pullgate_registry::{Digest, ImageRef, RegistryClient, Repository};
use pullgate_verify::{CacheKey, Decision, Engine, Mode, Verdict, VerdictCache};

use crate::cri::{self, ImageInfo, PullRequest, path};
use crate::grpc::code;
use crate::interceptor::Interceptor;
use crate::unary::{UnaryRequest, UnaryResponse};
use crate::upstream::Upstream;

pub use state::VerifiedState;
pub use tags::{ContainerdImages, TagRecords};

/// The prefix the kubelet turns into `ErrSignatureValidationFailed`.
pub const DENIAL_PREFIX: &str = "SignatureValidationFailed: ";
/// The longest reason sent to the kubelet (it ends up in an event).
const MAX_REASON_BYTES: usize = 4096;

/// What a configuration builds for the node: swapped whole on reload.
pub struct Policy {
    pub engine: Arc<Engine>,
    pub registry: RegistryClient,
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct EnforceMetrics {
    pub verified: AtomicU64,
    pub denied: AtomicU64,
    pub audited: AtomicU64,
    pub exempt: AtomicU64,
    pub allowed_digest: AtomicU64,
    pub break_glass: AtomicU64,
    /// `ImageStatus` answers turned into "not present".
    pub status_hidden: AtomicU64,
    /// Audit mode: `ImageStatus` answers that enforce mode would hide.
    pub status_would_hide: AtomicU64,
    /// Tag records containerd refused.
    pub tag_record_failures: AtomicU64,
    /// Verified-state saves that failed.
    pub state_write_failures: AtomicU64,
    /// Background re-checks of verified images, and those that denied.
    pub rechecks: AtomicU64,
    pub rechecks_denied: AtomicU64,
    /// `ImageStatus` answers "present" on the strength of `allow_digests`
    /// or `break_glass` rather than a verification.
    pub status_allowed_digest: AtomicU64,
    pub status_break_glass: AtomicU64,
}

impl EnforceMetrics {
    fn count(&self, decision: &Decision) {
        let c = match decision {
            Decision::Verified(_) => &self.verified,
            Decision::Denied(_) => &self.denied,
            Decision::Audited { .. } => &self.audited,
            Decision::Exempt(_) => &self.exempt,
            Decision::AllowedDigest(_) => &self.allowed_digest,
            Decision::BreakGlass(_) => &self.break_glass,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// (decision kind, count) for each kind.
    pub fn decisions(&self) -> [(&'static str, u64); 6] {
        let l = |c: &AtomicU64| c.load(Ordering::Relaxed);
        [
            ("verified", l(&self.verified)),
            ("denied", l(&self.denied)),
            ("audited", l(&self.audited)),
            ("exempt", l(&self.exempt)),
            ("allowed_digest", l(&self.allowed_digest)),
            ("break_glass", l(&self.break_glass)),
        ]
    }
}

/// The CRI enforcement point.
#[derive(Clone)]
pub struct Enforcer {
    inner: Arc<Inner>,
}

struct Inner {
    policy: RwLock<Arc<Policy>>,
    cache: Arc<VerdictCache>,
    state: Arc<VerifiedState>,
    tags: Arc<dyn TagRecords>,
    metrics: EnforceMetrics,
    references: References,
}

/// Image references parsed from their text, kept for `ImageStatus`: the kubelet asks about the
/// same few images over and over, and containerd names them the same way each time. Parsing is a
/// pure function of the text, so a kept result is the result. Bounded: emptied when full.
#[derive(Default)]
struct References(Mutex<HashMap<String, Option<Arc<ImageRef>>>>);

/// The most texts [`References`] keeps, and the longest (a reference is at most 255 bytes of
/// name, a 128-byte tag and a digest; longer texts are parsed, and refused, every time).
const MAX_REFERENCES: usize = 1024;
const MAX_REFERENCE_BYTES: usize = 1024;

impl References {
    fn parse(&self, text: &str) -> Option<Arc<ImageRef>> {
        if text.len() > MAX_REFERENCE_BYTES {
            return text.parse::<ImageRef>().ok().map(Arc::new);
        }
        let lock = || self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(parsed) = lock().get(text) {
            return parsed.clone();
        }
        let parsed = text.parse::<ImageRef>().ok().map(Arc::new);
        let mut kept = lock();
        if kept.len() >= MAX_REFERENCES {
            kept.clear();
        }
        kept.insert(text.to_owned(), parsed.clone());
        parsed
    }
}

impl Enforcer {
    pub fn new(
        policy: Policy,
        cache: Arc<VerdictCache>,
        state: Arc<VerifiedState>,
        tags: Arc<dyn TagRecords>,
    ) -> Enforcer {
        Enforcer {
            inner: Arc::new(Inner {
                policy: RwLock::new(Arc::new(policy)),
                cache,
                state,
                tags,
                metrics: EnforceMetrics::default(),
                references: References::default(),
            }),
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> Arc<Policy> {
        let guard = self.inner.policy.read().unwrap_or_else(|e| e.into_inner());
        Arc::clone(&guard)
    }

    /// Puts a reloaded configuration in force; verdicts of other
    /// generations leave the cache (the verified state keeps them on disk,
    /// in case the configuration comes back).
    pub fn replace_policy(&self, policy: Policy) {
        let generation = policy.engine.generation().clone();
        *self.inner.policy.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(policy);
        self.inner.cache.retain_generation(&generation);
    }

    pub fn metrics(&self) -> &EnforceMetrics {
        &self.inner.metrics
    }

    pub fn cache(&self) -> &Arc<VerdictCache> {
        &self.inner.cache
    }

    pub fn state(&self) -> &Arc<VerifiedState> {
        &self.inner.state
    }

    fn deny(&self, reason: &str) -> UnaryResponse {
        let mut message = format!("{DENIAL_PREFIX}{reason}");
        if message.len() > MAX_REASON_BYTES {
            let mut end = MAX_REASON_BYTES;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
        }
        UnaryResponse::error(code::UNKNOWN, &message)
    }

    async fn pull(&self, request: UnaryRequest, upstream: &Upstream) -> UnaryResponse {
        let policy = self.policy();
        let engine = &policy.engine;
        let pull = match PullRequest::parse(&request.message) {
            Ok(p) => p,
            Err(e) => {
                let v = engine.cannot_verify("", format!("malformed PullImageRequest: {e}"));
                tracing::warn!(reason = %v.reason(), decision = v.decision.kind(), "pull request could not be read");
                return self.finish_unresolved(v, &request, upstream, None).await;
            }
        };
        let parsed = pull.image.parse::<ImageRef>().ok();
        if let Some(reference) = &parsed
            && let Some(v) = engine.pass_through(&pull.pod, reference, None)
        {
            return self.pass(v, &pull, &request, upstream, None).await;
        }
        let credentials = match pull.auth.clone().into_credentials() {
            Ok(c) => c,
            Err(e) => {
                let v = engine.cannot_verify(
                    &pull.image,
                    format!("the pull credentials are malformed: {e}"),
                );
                return self
                    .finish_unresolved(v, &request, upstream, Some(&pull))
                    .await;
            }
        };
        let registry = policy.registry.with_credentials(credentials);
        let resolved = match engine.resolve(&registry, &pull.image).await {
            Ok(r) => r,
            Err(v) => {
                return self
                    .finish_unresolved(*v, &request, upstream, Some(&pull))
                    .await;
            }
        };
        let digest = resolved.manifest.digest.clone();
        let repository = resolved.reference.repository().clone();
        if let Some(v) = engine.pass_through(&pull.pod, &resolved.reference, Some(&digest)) {
            return self
                .pass(
                    v,
                    &pull,
                    &request,
                    upstream,
                    Some((&resolved.reference, &digest)),
                )
                .await;
        }
        let key = CacheKey {
            repository: repository.clone(),
            digest: digest.clone(),
            generation: engine.generation().clone(),
        };
        let verdict = {
            let engine = Arc::clone(&policy.engine);
            let registry = registry.clone();
            let resolved = resolved.clone();
            self.inner
                .cache
                .get_or_verify(
                    key.clone(),
                    &pull.image,
                    engine.mode(),
                    move || async move { engine.verify_resolved(&registry, &resolved).await },
                )
                .await
        };
        // A signature on this node's platform manifest says nothing of the
        // platform another runtime handler may unpack (KEP-4216).
        if let Decision::Verified(v) = &verdict.decision
            && v.platform_only()
            && !pull.runtime_handler.is_empty()
        {
            let verdict = engine.cannot_verify(
                &pull.image,
                format!(
                    "{} is signed for this node's platform only (accept_platform_signatures), and this pull is for runtime handler {:?}, which may unpack another platform: sign the image index",
                    pull.image, pull.runtime_handler
                ),
            );
            self.inner.metrics.count(&verdict.decision);
            log_verdict(&pull, &verdict);
            if verdict.admitted() {
                return self
                    .forward_pinned(&request, upstream, &resolved.reference, &digest)
                    .await;
            }
            return self.deny(&verdict.reason());
        }
        self.inner.metrics.count(&verdict.decision);
        log_verdict(&pull, &verdict);
        match &verdict.decision {
            Decision::Verified(_) | Decision::Audited { .. } => {}
            other => {
                // A denial for want of the registry says nothing new about
                // an image verified before: it stays present (air gaps).
                if let Decision::Denied(d) = other
                    && !d.is_unreachable()
                    && self.inner.state.forget(&repository, &digest)
                {
                    self.persist_later();
                }
                return self.deny(&verdict.reason());
            }
        }
        let response = self
            .forward_pinned(&request, upstream, &resolved.reference, &digest)
            .await;
        // Recorded only while the verdict still stands (asked under the
        // state's lock): a re-check that denied it during the pull
        // invalidates the cache before it forgets, so it is not undone here.
        let still_verified = || {
            self.inner
                .cache
                .peek(&key)
                .is_some_and(|v| matches!(v.decision, Decision::Verified(_)))
        };
        if matches!(verdict.decision, Decision::Verified(_))
            && let Some(image_id) = pulled_image(&response)
            && self.inner.state.record_if(
                &repository,
                &digest,
                engine.generation(),
                &image_id,
                still_verified,
            )
        {
            self.persist_later();
        }
        response
    }

    /// Forwards the pull with its reference replaced by `repo@digest`, then
    /// names the image by its tag too. containerd's answer goes back as is.
    async fn forward_pinned(
        &self,
        request: &UnaryRequest,
        upstream: &Upstream,
        reference: &ImageRef,
        digest: &Digest,
    ) -> UnaryResponse {
        let pinned = format!("{}@{digest}", reference.repository());
        let message = match PullRequest::with_image(&request.message, &pinned) {
            Ok(m) => Bytes::from(m),
            Err(e) => return self.deny(&format!("malformed PullImageRequest: {e}")),
        };
        let response = match upstream
            .unary(&request.path, &request.metadata, message)
            .await
        {
            Ok(r) => r,
            Err(e) => return e.to_response(),
        };
        if response.status() == code::OK
            && let (Some(tag), None) = (reference.tag(), reference.digest())
        {
            let tag_name = format!("{}:{tag}", reference.repository());
            if let Err(e) = self
                .inner
                .tags
                .tag(upstream, &pinned, &tag_name, &digest.to_string())
                .await
            {
                self.inner
                    .metrics
                    .tag_record_failures
                    .fetch_add(1, Ordering::Relaxed);
                tracing::warn!(image = %tag_name, error = %e, "could not record the tag on the node; the kubelet will pull again");
            } else if let Some(id) = pulled_image(&response) {
                tag_visible(upstream, &tag_name, &id).await;
            }
        }
        response
    }

    /// A pass-through (exempt, allowed digest, break-glass). With a digest
    /// known, containerd pulls that digest; an exempt pod's image already on
    /// the node is answered from there, without the registry.
    async fn pass(
        &self,
        verdict: Verdict,
        pull: &PullRequest,
        request: &UnaryRequest,
        upstream: &Upstream,
        resolved: Option<(&ImageRef, &Digest)>,
    ) -> UnaryResponse {
        self.inner.metrics.count(&verdict.decision);
        log_verdict(pull, &verdict);
        if let Decision::Exempt(_) = verdict.decision
            && let Some(info) = local_image(upstream, &pull.image).await
        {
            return UnaryResponse::ok(cri::pull_response(&info.id));
        }
        match resolved {
            Some((reference, digest)) => {
                self.forward_pinned(request, upstream, reference, digest)
                    .await
            }
            None => forward(request, upstream).await,
        }
    }

    /// A verdict reached without a digest: denied, audited (forwarded as
    /// the kubelet sent it), or allowed by a skip-level policy.
    async fn finish_unresolved(
        &self,
        verdict: Verdict,
        request: &UnaryRequest,
        upstream: &Upstream,
        pull: Option<&PullRequest>,
    ) -> UnaryResponse {
        self.inner.metrics.count(&verdict.decision);
        if let Some(pull) = pull {
            log_verdict(pull, &verdict);
        }
        if verdict.admitted() {
            forward(request, upstream).await
        } else {
            self.deny(&verdict.reason())
        }
    }

    async fn status(&self, request: UnaryRequest, upstream: &Upstream) -> UnaryResponse {
        let UnaryRequest {
            path,
            metadata,
            message: asked_message,
            ..
        } = request;
        let response = match upstream
            .unary_in_call(&path, metadata, asked_message.clone())
            .await
        {
            Ok(r) => r,
            Err(e) => return e.to_response(),
        };
        if response.status() != code::OK {
            return response;
        }
        let Some(message) = response.message.clone() else {
            return response;
        };
        let info = match cri::status_response_view(&message) {
            Ok(None) => return response,
            Ok(Some(info)) => info,
            Err(e) => {
                tracing::warn!(error = %e, "containerd's ImageStatus answer is malformed; reporting the image absent");
                return self.hide(response);
            }
        };
        let policy = self.policy();
        let asked = cri::status_request_str(&asked_message).unwrap_or_default();
        match self.presence(&policy.engine, asked, info.id, &info.repo_digests) {
            Some(Presence::Verified) => return response,
            Some(Presence::Passed(verdict)) => {
                self.count_passed_status(asked, info.id, &verdict);
                return response;
            }
            None => {}
        }
        if policy.engine.mode() == Mode::Audit {
            self.inner
                .metrics
                .status_would_hide
                .fetch_add(1, Ordering::Relaxed);
            tracing::info!(image = %asked, id = %info.id, "audit mode: image on the node is not verified (enforce mode would report it absent)");
            return response;
        }
        tracing::info!(image = %asked, id = %info.id, "image on the node is not verified under the current policy: reported absent");
        self.hide(response)
    }

    /// containerd's answer with the image taken out ("not present").
    fn hide(&self, response: UnaryResponse) -> UnaryResponse {
        self.inner
            .metrics
            .status_hidden
            .fetch_add(1, Ordering::Relaxed);
        UnaryResponse {
            message: Some(cri::status_absent()),
            ..response
        }
    }

    /// Why the image on the node may be reported present for `asked` (a
    /// reference, or an image ID), if it may: `repo_digests` and `id` are
    /// containerd's answer.
    fn presence(
        &self,
        engine: &Engine,
        asked: &str,
        id: &str,
        repo_digests: &[&str],
    ) -> Option<Presence> {
        let generation = engine.generation();
        let state = &self.inner.state;
        let references = &self.inner.references;
        // The repo digests that are references with a digest.
        let pairs = || {
            repo_digests
                .iter()
                .filter_map(|rd| references.parse(rd))
                .filter(|r| r.digest().is_some())
        };
        let pair = |r: &ImageRef, repo: &Repository, d: &Digest| {
            if state.is_verified_as(repo, d, generation, id) {
                Some(Presence::Verified)
            } else {
                engine
                    .pass_through_present(r, d)
                    .map(|v| Presence::Passed(Box::new(v)))
            }
        };
        if asked == id || is_digest(asked) {
            // By ID (the kubelet's later calls): verified in some repository.
            if state.is_verified_id(id, generation) {
                return Some(Presence::Verified);
            }
            return pairs().find_map(|r| r.digest().and_then(|d| pair(&r, r.repository(), d)));
        }
        let reference = references.parse(asked)?;
        let repo = reference.repository();
        if let Some(d) = reference.digest() {
            // The answer must be that image: containerd's record names
            // `repo@d` (or its ID was verified), whatever resolved it.
            let answered = state.is_verified_id(id, generation)
                || pairs().any(|r| r.repository() == repo && r.digest() == Some(d));
            if !answered {
                return None;
            }
            return pair(&reference, repo, d);
        }
        pairs()
            .filter(|r| r.repository() == repo)
            .find_map(|r| r.digest().and_then(|d| pair(&reference, repo, d)))
    }

    /// An image reported present by a pass-through: counted, and a
    /// break-glass logged as the warning it is.
    fn count_passed_status(&self, asked: &str, id: &str, verdict: &Verdict) {
        let m = &self.inner.metrics;
        match &verdict.decision {
            Decision::BreakGlass(a) => {
                m.status_break_glass.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(image = %asked, id = %id, entry = %a.entry(), "break-glass: image on the node reported present without verification");
            }
            Decision::AllowedDigest(_) => {
                m.status_allowed_digest.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }

    /// Re-verifies every image verified under the current generation, one
    /// at a time, with the configured credentials: a denial forgets it (the
    /// next `ImageStatus` reports it absent); a registry that cannot be
    /// reached changes nothing.
    pub async fn recheck_verified(&self) {
        let policy = self.policy();
        let engine = &policy.engine;
        for entry in self.inner.state.entries(engine.generation()) {
            let Ok(repository) = parse_repository(&entry.repository) else {
                continue;
            };
            let Ok(digest) = entry.digest.parse::<Digest>() else {
                continue;
            };
            let image = format!("{repository}@{digest}");
            self.inner.metrics.rechecks.fetch_add(1, Ordering::Relaxed);
            let deadline = self.inner.cache.settings().deadline;
            let verdict =
                tokio::time::timeout(deadline, engine.verify(&policy.registry, &image)).await;
            let Ok(verdict) = verdict else {
                tracing::warn!(image = %image, "re-check did not finish within {deadline:?}; keeping the verdict");
                continue;
            };
            match &verdict.decision {
                // Still verified: the entry stays as it is (recording it
                // again could only bring back one a pull has just removed).
                Decision::Verified(_) => {}
                Decision::Denied(d) | Decision::Audited { would_deny: d }
                    if !d.is_unreachable() =>
                {
                    self.inner
                        .metrics
                        .rechecks_denied
                        .fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(image = %image, reason = %d.reason(), "re-check denied a verified image; it is no longer reported present");
                    // The cache first, so a pull finishing now does not
                    // record the image again (it checks the cache).
                    self.inner.cache.invalidate(&CacheKey {
                        repository: repository.clone(),
                        digest: digest.clone(),
                        generation: engine.generation().clone(),
                    });
                    if self.inner.state.forget(&repository, &digest) {
                        // Saved now, not at the end of a round that may
                        // take long: a restart must not bring it back.
                        self.persist_later();
                    }
                }
                _ => {
                    tracing::info!(image = %image, reason = %verdict.reason(), "re-check could not reach the registry; keeping the verdict");
                }
            }
        }
        // What the re-checks changed, and what an earlier write failed to
        // save (a full disk), is written now.
        if let Err(e) = self.persist().await {
            self.state_failure(&e);
        }
    }

    /// Writes the verified state if it changed, off the async threads.
    pub async fn persist(&self) -> Result<(), String> {
        let state = Arc::clone(&self.inner.state);
        tokio::task::spawn_blocking(move || state.persist())
            .await
            .map_err(|e| format!("saving the verified state: {e}"))?
    }

    /// [`Self::persist`] in the background (the kubelet's call does not
    /// wait for the disk); a failure is counted, and retried by the next
    /// write or re-check.
    fn persist_later(&self) {
        let me = self.clone();
        tokio::spawn(async move {
            if let Err(e) = me.persist().await {
                me.state_failure(&e);
            }
        });
    }

    /// Runs [`Enforcer::recheck_verified`] every `interval` until dropped.
    pub fn spawn_rechecks(&self, interval: Duration) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval.max(Duration::from_secs(1)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                me.recheck_verified().await;
            }
        })
    }

    fn state_failure(&self, error: &str) {
        self.inner
            .metrics
            .state_write_failures
            .fetch_add(1, Ordering::Relaxed);
        tracing::error!(error = %error, "could not save the verified state");
    }
}

/// Why an image on the node is reported present.
enum Presence {
    /// Verified under the current generation.
    Verified,
    /// Allowed by the node's lists (`allow_digests`, `break_glass`).
    Passed(Box<Verdict>),
}

/// Whether `text` is a digest (checked only when it starts like one: a failed parse builds an
/// error, and most `ImageStatus` calls ask by reference).
fn is_digest(text: &str) -> bool {
    (text.starts_with("sha256:") || text.starts_with("sha512:")) && text.parse::<Digest>().is_ok()
}

fn parse_repository(text: &str) -> Result<Repository, ()> {
    let r: ImageRef = format!("{text}:x").parse().map_err(|_| ())?;
    Ok(r.repository().clone())
}

async fn forward(request: &UnaryRequest, upstream: &Upstream) -> UnaryResponse {
    match upstream
        .unary(&request.path, &request.metadata, request.message.clone())
        .await
    {
        Ok(r) => r,
        Err(e) => e.to_response(),
    }
}

/// The image ID containerd answered a successful pull with.
fn pulled_image(response: &UnaryResponse) -> Option<String> {
    if response.status() != code::OK {
        return None;
    }
    cri::pull_response_image_ref(response.message.as_deref()?)
        .ok()
        .flatten()
}

/// Waits (at most ~1 s) until containerd's CRI finds `tag_name` as the
/// image `id`: the CRI plugin learns of a record made through the images API
/// from an event, asynchronously, and the kubelet's next `ImageStatus` by
/// tag should find what was just pulled.
async fn tag_visible(upstream: &Upstream, tag_name: &str, id: &str) {
    let look = async {
        loop {
            if local_image(upstream, tag_name)
                .await
                .is_some_and(|info| info.id == id)
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    };
    if tokio::time::timeout(Duration::from_secs(1), look)
        .await
        .is_err()
    {
        tracing::debug!(image = %tag_name, "containerd's CRI does not show the tag yet");
    }
}

/// The image on the node for `image`, asked of containerd's CRI.
async fn local_image(upstream: &Upstream, image: &str) -> Option<ImageInfo> {
    let mut metadata = http::HeaderMap::new();
    metadata.insert("grpc-timeout", http::HeaderValue::from_static("10S"));
    let response = upstream
        .unary(path::IMAGE_STATUS, &metadata, cri::status_request(image))
        .await
        .ok()?;
    if response.status() != code::OK {
        return None;
    }
    cri::status_response_image(response.message.as_deref()?)
        .ok()
        .flatten()
}

fn log_verdict(pull: &PullRequest, verdict: &Verdict) {
    let namespace = pull.pod.namespace.as_deref().unwrap_or("");
    let pod = pull.pod.name.as_deref().unwrap_or("");
    let digest = verdict
        .digest
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    let kind = verdict.decision.kind();
    let reason = verdict.reason();
    match &verdict.decision {
        Decision::Denied(_) => {
            tracing::warn!(image = %pull.image, %digest, namespace, pod, decision = kind, %reason, "pull denied")
        }
        Decision::Audited { .. } | Decision::BreakGlass(_) => {
            tracing::warn!(image = %pull.image, %digest, namespace, pod, decision = kind, %reason, "pull let through unverified")
        }
        _ => {
            tracing::info!(image = %pull.image, %digest, namespace, pod, decision = kind, %reason, "pull allowed")
        }
    }
}

#[async_trait]
impl Interceptor for Enforcer {
    /// `PullImage` and `ImageStatus` are decided; every other method of
    /// `runtime.v1.ImageService` (known or not) passes through. Other
    /// services are refused: the socket is the kubelet's image endpoint,
    /// and containerd's other APIs (`runtime.v1alpha2.ImageService`, its
    /// images and containers services) would pull or run unverified.
    fn intercepts(&self, path: &str) -> bool {
        path == path::PULL_IMAGE || path == path::IMAGE_STATUS
    }

    fn refuses(&self, path: &str) -> Option<UnaryResponse> {
        if path.starts_with(path::IMAGE_SERVICE_PREFIX) {
            return None;
        }
        // The path is the client's text: shown escaped and bounded.
        let shown: String = path
            .chars()
            .take(200)
            .flat_map(char::escape_debug)
            .collect();
        tracing::warn!(path = %shown, "refused a call outside runtime.v1.ImageService");
        Some(UnaryResponse::error(
            code::UNIMPLEMENTED,
            &format!(
                "pullgate: {shown} is not served on the image service socket (only runtime.v1.ImageService)"
            ),
        ))
    }

    async fn call(&self, request: UnaryRequest, upstream: &Upstream) -> UnaryResponse {
        match request.path.as_str() {
            path::PULL_IMAGE => self.pull(request, upstream).await,
            path::IMAGE_STATUS => self.status(request, upstream).await,
            _ => forward(&request, upstream).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_digest_agrees_with_parsing() {
        let hex = "a".repeat(64);
        for text in [
            format!("sha256:{hex}"),
            format!("sha512:{}", "b".repeat(128)),
            format!("sha256:{}", hex.to_uppercase()),
            format!("sha384:{hex}"),
            format!("example.com/app@sha256:{hex}"),
            "example.com/app:v1".to_string(),
            "sha256:".to_string(),
            String::new(),
        ] {
            assert_eq!(is_digest(&text), text.parse::<Digest>().is_ok(), "{text}");
        }
    }

    #[test]
    fn kept_references_are_the_parsed_ones_and_bounded() {
        let references = References::default();
        let digest = format!("sha256:{}", "c".repeat(64));
        for text in [
            "alpine".to_string(),
            "example.com:5000/team/app:v1".to_string(),
            format!("example.com/app@{digest}"),
            "Not A Reference".to_string(),
        ] {
            let expected = text.parse::<ImageRef>().ok();
            for _ in 0..2 {
                assert_eq!(
                    references.parse(&text).as_deref(),
                    expected.as_ref(),
                    "{text}"
                );
            }
        }
        for i in 0..MAX_REFERENCES + 10 {
            references.parse(&format!("example.com/app{i}:v1"));
        }
        let kept = references.0.lock().unwrap().len();
        assert!(kept <= MAX_REFERENCES, "{kept}");
        let long = format!("example.com/{}:v1", "a".repeat(MAX_REFERENCE_BYTES));
        assert!(references.parse(&long).is_none());
        assert!(!references.0.lock().unwrap().contains_key(&long));
    }
}
