//! One verdict cache for the process, keyed by (repository, digest,
//! generation), single-flight per key: a hundred pods pulling one image
//! cause one verification, and the verification finishes (within its
//! deadline) even when the caller that started it goes away.
//!
//! A verified image is reused for `ttl`, then served while a background
//! re-check runs (expiry, revocation), never on the caller's path; a
//! re-check that cannot reach the registry keeps the earlier verdict. A
//! denial is reused for `negative_ttl`, then verified afresh.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use pullgate_registry::{Digest, Repository};
use tokio::sync::watch;

use crate::decision::{Decision, Denial, Mode, Verdict};
use crate::generation::Generation;

/// What a verdict holds for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    pub repository: Repository,
    pub digest: Digest,
    pub generation: Generation,
}

#[derive(Debug, Clone, Copy)]
pub struct CacheSettings {
    /// How long a verified verdict is reused before a background re-check.
    pub ttl: Duration,
    /// How long a denial is reused.
    pub negative_ttl: Duration,
    /// The most verdicts kept (in-flight verifications are never dropped).
    pub max_entries: usize,
    /// The longest one verification may take; after it, a denial.
    pub deadline: Duration,
}

impl Default for CacheSettings {
    fn default() -> CacheSettings {
        CacheSettings {
            ttl: Duration::from_secs(300),
            negative_ttl: Duration::from_secs(10),
            max_entries: 10_000,
            deadline: Duration::from_secs(60),
        }
    }
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct CacheStats {
    /// Verifications run (first ones and re-checks).
    pub verifications: AtomicU64,
    /// Background re-checks among them.
    pub rechecks: AtomicU64,
    /// Answers from a finished verdict.
    pub hits: AtomicU64,
    /// Callers that waited for a verification another caller started.
    pub joined: AtomicU64,
    /// Verifications cut off by the deadline.
    pub timeouts: AtomicU64,
}

#[derive(Clone)]
struct Done {
    verdict: Arc<Verdict>,
    at: Instant,
}

struct Slot {
    rx: watch::Receiver<Option<Done>>,
    tx: Tx,
    rechecking: bool,
}

pub struct VerdictCache {
    settings: CacheSettings,
    slots: Mutex<HashMap<CacheKey, Slot>>,
    stats: CacheStats,
}

type Tx = Arc<watch::Sender<Option<Done>>>;

enum Plan {
    /// A finished verdict to reuse.
    Ready(Arc<Verdict>),
    /// A verified verdict past its ttl: reuse it, re-check in the background.
    Recheck(Arc<Verdict>, Tx),
    /// Another caller's verification to wait for.
    Wait(watch::Receiver<Option<Done>>),
    /// Nothing usable: verify.
    Start(Tx, watch::Receiver<Option<Done>>),
}

async fn wait(mut rx: watch::Receiver<Option<Done>>, image: &str, mode: Mode) -> Arc<Verdict> {
    match rx.wait_for(Option::is_some).await {
        Ok(done) => match done.as_ref() {
            Some(d) => d.verdict.clone(),
            None => Arc::new(failed(image, mode, "verification ended without a verdict")),
        },
        Err(_) => Arc::new(failed(image, mode, "verification ended without a verdict")),
    }
}

impl VerdictCache {
    pub fn new(settings: CacheSettings) -> Arc<VerdictCache> {
        Arc::new(VerdictCache {
            settings,
            slots: Mutex::new(HashMap::new()),
            stats: CacheStats::default(),
        })
    }

    pub fn settings(&self) -> &CacheSettings {
        &self.settings
    }

    pub fn stats(&self) -> &CacheStats {
        &self.stats
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<CacheKey, Slot>> {
        // A panic while holding the lock leaves a map that is still whole.
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The verdict for `key` in `mode`: reused, joined, or verified by
    /// `verify` (spawned, so it outlives a caller that gives up). `image`
    /// names the image in a verdict this cache has to make itself (deadline,
    /// failure).
    pub async fn get_or_verify<F, Fut>(
        self: &Arc<Self>,
        key: CacheKey,
        image: &str,
        mode: Mode,
        verify: F,
    ) -> Arc<Verdict>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Verdict> + Send + 'static,
    {
        let plan = self.plan(&key, mode);
        let rx = match plan {
            Plan::Ready(v) => {
                self.stats.hits.fetch_add(1, Ordering::Relaxed);
                return v;
            }
            Plan::Recheck(old, tx) => {
                self.stats.hits.fetch_add(1, Ordering::Relaxed);
                self.stats.rechecks.fetch_add(1, Ordering::Relaxed);
                self.spawn_verification(tx, image, mode, verify(), Some((key, old.clone())));
                return old;
            }
            Plan::Wait(rx) => {
                self.stats.joined.fetch_add(1, Ordering::Relaxed);
                rx
            }
            Plan::Start(tx, rx) => {
                self.spawn_verification(tx, image, mode, verify(), None);
                rx
            }
        };
        wait(rx, image, mode).await
    }

    /// What to do for `key`, decided under the lock.
    fn plan(&self, key: &CacheKey, mode: Mode) -> Plan {
        let mut slots = self.lock();
        let now = Instant::now();
        if let Some(slot) = slots.get_mut(key) {
            let done = slot.rx.borrow().clone();
            match done {
                None => return Plan::Wait(slot.rx.clone()),
                Some(done) if done.verdict.mode != mode => {}
                Some(done) if is_verified(&done.verdict) => {
                    if now.duration_since(done.at) >= self.settings.ttl && !slot.rechecking {
                        slot.rechecking = true;
                        return Plan::Recheck(done.verdict, slot.tx.clone());
                    }
                    return Plan::Ready(done.verdict);
                }
                Some(done) if now.duration_since(done.at) < self.settings.negative_ttl => {
                    return Plan::Ready(done.verdict);
                }
                Some(_) => {}
            }
        }
        self.make_room(&mut slots, now);
        let (tx, rx) = watch::channel(None);
        let tx = Arc::new(tx);
        slots.insert(
            key.clone(),
            Slot {
                rx: rx.clone(),
                tx: tx.clone(),
                rechecking: false,
            },
        );
        Plan::Start(tx, rx)
    }

    /// Runs `fut` under the deadline and publishes its verdict. With
    /// `keep`, a verdict already verified: kept (and its age renewed) when
    /// the new one is a denial for want of the registry.
    fn spawn_verification<Fut>(
        self: &Arc<Self>,
        tx: Tx,
        image: &str,
        mode: Mode,
        fut: Fut,
        keep: Option<(CacheKey, Arc<Verdict>)>,
    ) where
        Fut: Future<Output = Verdict> + Send + 'static,
    {
        let cache = Arc::clone(self);
        let image = image.to_string();
        self.stats.verifications.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(async move {
            let deadline = cache.settings.deadline;
            let task = tokio::spawn(fut);
            let abort = task.abort_handle();
            let verdict = match tokio::time::timeout(deadline, task).await {
                Ok(Ok(v)) => v,
                Ok(Err(e)) => failed(&image, mode, &format!("verification failed: {e}")),
                Err(_) => {
                    abort.abort();
                    cache.stats.timeouts.fetch_add(1, Ordering::Relaxed);
                    Verdict::denied(
                        &image,
                        mode,
                        Denial::unreachable(format!(
                            "verification did not finish within {deadline:?}"
                        )),
                    )
                }
            };
            let verdict = match keep {
                Some((key, old)) => {
                    if let Some(slot) = cache.lock().get_mut(&key) {
                        slot.rechecking = false;
                    }
                    if is_unreachable(&verdict) {
                        tracing::warn!(
                            image = %image,
                            reason = %verdict.reason(),
                            "re-check could not reach the registry; keeping the verified verdict"
                        );
                        old
                    } else {
                        Arc::new(verdict)
                    }
                }
                None => Arc::new(verdict),
            };
            tx.send_replace(Some(Done {
                verdict,
                at: Instant::now(),
            }));
        });
    }

    /// Re-verifies `key` in the background with `fut`; callers keep getting
    /// the verified verdict meanwhile.
    pub fn recheck<Fut>(self: &Arc<Self>, key: CacheKey, image: &str, mode: Mode, fut: Fut)
    where
        Fut: Future<Output = Verdict> + Send + 'static,
    {
        let (tx, old) = {
            let mut slots = self.lock();
            let Some(slot) = slots.get_mut(&key) else {
                return;
            };
            let Some(done) = slot.rx.borrow().clone() else {
                return;
            };
            if slot.rechecking || !is_verified(&done.verdict) {
                return;
            }
            slot.rechecking = true;
            (slot.tx.clone(), done.verdict)
        };
        self.stats.rechecks.fetch_add(1, Ordering::Relaxed);
        self.spawn_verification(tx, image, mode, fut, Some((key, old)));
    }

    /// The finished verdict for `key`, if any, without verifying.
    pub fn peek(&self, key: &CacheKey) -> Option<Arc<Verdict>> {
        let slots = self.lock();
        let done = slots.get(key)?.rx.borrow().clone()?;
        Some(done.verdict)
    }

    /// Forgets the verdict for `key` (a re-check outside the cache denied
    /// it); an in-flight verification is left to finish.
    pub fn invalidate(&self, key: &CacheKey) {
        let mut slots = self.lock();
        if slots.get(key).is_some_and(|s| s.rx.borrow().is_some()) {
            slots.remove(key);
        }
    }

    /// Drops every verdict of another generation (after a reload).
    pub fn retain_generation(&self, generation: &Generation) {
        self.lock().retain(|k, _| &k.generation == generation);
    }

    /// Keeps the map under `max_entries`: expired denials first, then the
    /// oldest finished verdicts.
    fn make_room(&self, slots: &mut HashMap<CacheKey, Slot>, now: Instant) {
        if slots.len() < self.settings.max_entries {
            return;
        }
        let negative_ttl = self.settings.negative_ttl;
        slots.retain(|_, s| match s.rx.borrow().as_ref() {
            None => true,
            Some(d) => is_verified(&d.verdict) || now.duration_since(d.at) < negative_ttl,
        });
        while slots.len() >= self.settings.max_entries {
            let oldest = slots
                .iter()
                .filter_map(|(k, s)| s.rx.borrow().as_ref().map(|d| (d.at, k.clone())))
                .min_by_key(|(at, _)| *at);
            match oldest {
                Some((_, k)) => {
                    slots.remove(&k);
                }
                None => break,
            }
        }
    }
}

fn is_verified(v: &Verdict) -> bool {
    matches!(v.decision, Decision::Verified(_))
}

fn is_unreachable(v: &Verdict) -> bool {
    match &v.decision {
        Decision::Denied(d) | Decision::Audited { would_deny: d } => d.is_unreachable(),
        _ => false,
    }
}

fn failed(image: &str, mode: Mode, reason: &str) -> Verdict {
    Verdict::denied(image, mode, Denial::new(reason.to_string()))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;
    use crate::decision::VerifiedImage;

    const D: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

    fn key(generation: u8) -> CacheKey {
        CacheKey {
            repository: Repository::new("example.com", "app").unwrap(),
            digest: D.parse().unwrap(),
            generation: Generation::from_bytes([generation; 32]),
        }
    }

    fn verified() -> Verdict {
        Verdict {
            image: "example.com/app:1".into(),
            digest: Some(D.parse().unwrap()),
            mode: Mode::Enforce,
            decision: Decision::Verified(VerifiedImage::new(
                Repository::new("example.com", "app").unwrap(),
                Some(D.parse().unwrap()),
                Vec::new(),
                false,
            )),
            verifiers: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn denied(unreachable: bool) -> Verdict {
        let d = if unreachable {
            Denial::unreachable("registry down".into())
        } else {
            Denial::new("no signature".into())
        };
        Verdict::denied("example.com/app:1", Mode::Enforce, d)
    }

    fn settings(ttl_ms: u64, negative_ms: u64) -> CacheSettings {
        CacheSettings {
            ttl: Duration::from_millis(ttl_ms),
            negative_ttl: Duration::from_millis(negative_ms),
            max_entries: 100,
            deadline: Duration::from_secs(5),
        }
    }

    /// A verifier that counts its runs and answers `verdict` after `delay`.
    fn counting(
        runs: &Arc<AtomicUsize>,
        delay: Duration,
        verdict: Verdict,
    ) -> impl FnOnce() -> std::pin::Pin<Box<dyn Future<Output = Verdict> + Send>> + use<> {
        let runs = runs.clone();
        move || {
            Box::pin(async move {
                runs.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(delay).await;
                verdict
            })
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_hundred_callers_cause_one_verification() {
        let cache = VerdictCache::new(settings(60_000, 60_000));
        let runs = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..100 {
            let cache = cache.clone();
            let f = counting(&runs, Duration::from_millis(50), verified());
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_verify(key(1), "example.com/app:1", Mode::Enforce, f)
                    .await
            }));
        }
        for t in tasks {
            assert!(t.await.unwrap().allowed());
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(cache.stats().verifications.load(Ordering::Relaxed), 1);
        let s = cache.stats();
        assert_eq!(
            s.hits.load(Ordering::Relaxed) + s.joined.load(Ordering::Relaxed),
            99
        );
    }

    #[tokio::test]
    async fn generations_and_modes_do_not_share_verdicts() {
        let cache = VerdictCache::new(settings(60_000, 60_000));
        let runs = Arc::new(AtomicUsize::new(0));
        for k in [key(1), key(2), key(1)] {
            let f = counting(&runs, Duration::ZERO, verified());
            cache.get_or_verify(k, "i", Mode::Enforce, f).await;
        }
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        let f = counting(
            &runs,
            Duration::ZERO,
            Verdict::denied("i", Mode::Audit, Denial::new("x".into())),
        );
        let v = cache.get_or_verify(key(1), "i", Mode::Audit, f).await;
        assert_eq!(v.mode, Mode::Audit);
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        cache.retain_generation(&key(2).generation);
        assert_eq!(cache.len(), 1);
    }

    #[tokio::test]
    async fn denials_are_reused_for_the_negative_ttl_only() {
        let cache = VerdictCache::new(settings(60_000, 100));
        let runs = Arc::new(AtomicUsize::new(0));
        for _ in 0..3 {
            let f = counting(&runs, Duration::ZERO, denied(false));
            assert!(
                !cache
                    .get_or_verify(key(1), "i", Mode::Enforce, f)
                    .await
                    .admitted()
            );
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        tokio::time::sleep(Duration::from_millis(150)).await;
        let f = counting(&runs, Duration::ZERO, verified());
        assert!(
            cache
                .get_or_verify(key(1), "i", Mode::Enforce, f)
                .await
                .allowed()
        );
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn an_expired_verdict_is_served_while_a_background_recheck_runs() {
        let cache = VerdictCache::new(settings(50, 60_000));
        let runs = Arc::new(AtomicUsize::new(0));
        let f = counting(&runs, Duration::ZERO, verified());
        cache.get_or_verify(key(1), "i", Mode::Enforce, f).await;
        tokio::time::sleep(Duration::from_millis(80)).await;
        // The re-check waits on a gate and then finds the image revoked; the
        // caller gets the verified verdict while the gate is still shut.
        let gate = Arc::new(tokio::sync::Notify::new());
        let (g, r) = (gate.clone(), runs.clone());
        let recheck = move || async move {
            r.fetch_add(1, Ordering::SeqCst);
            g.notified().await;
            denied(false)
        };
        assert!(
            cache
                .get_or_verify(key(1), "i", Mode::Enforce, recheck)
                .await
                .allowed()
        );
        // A second caller during the re-check starts no other one.
        let f = counting(&runs, Duration::ZERO, verified());
        assert!(
            cache
                .get_or_verify(key(1), "i", Mode::Enforce, f)
                .await
                .allowed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        gate.notify_one();
        for _ in 0..200 {
            if !cache.peek(&key(1)).unwrap().admitted() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        assert!(!cache.peek(&key(1)).unwrap().admitted());
        assert_eq!(cache.stats().rechecks.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn a_recheck_that_cannot_reach_the_registry_keeps_the_verdict() {
        let cache = VerdictCache::new(settings(60_000, 60_000));
        let runs = Arc::new(AtomicUsize::new(0));
        let f = counting(&runs, Duration::ZERO, verified());
        cache.get_or_verify(key(1), "i", Mode::Enforce, f).await;
        let f = counting(&runs, Duration::ZERO, denied(true));
        cache.recheck(key(1), "i", Mode::Enforce, f());
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        assert!(cache.peek(&key(1)).unwrap().allowed());
    }

    #[tokio::test]
    async fn the_deadline_denies_and_a_gone_caller_does_not_stop_the_verification() {
        let mut s = settings(60_000, 60_000);
        s.deadline = Duration::from_millis(50);
        let cache = VerdictCache::new(s);
        let runs = Arc::new(AtomicUsize::new(0));
        let f = counting(&runs, Duration::from_secs(10), verified());
        let v = cache.get_or_verify(key(1), "i", Mode::Enforce, f).await;
        assert!(
            v.reason().contains("did not finish within"),
            "{}",
            v.reason()
        );
        assert_eq!(cache.stats().timeouts.load(Ordering::Relaxed), 1);

        let f = counting(&runs, Duration::from_millis(20), verified());
        let call = cache.get_or_verify(key(2), "i", Mode::Enforce, f);
        let _ = tokio::time::timeout(Duration::from_millis(1), call).await;
        for _ in 0..300 {
            if cache.peek(&key(2)).is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(cache.peek(&key(2)).unwrap().allowed());
    }

    #[tokio::test]
    async fn the_map_stays_under_its_bound() {
        let mut s = settings(60_000, 60_000);
        s.max_entries = 3;
        let cache = VerdictCache::new(s);
        let runs = Arc::new(AtomicUsize::new(0));
        for g in 0..10 {
            let f = counting(&runs, Duration::ZERO, verified());
            cache.get_or_verify(key(g), "i", Mode::Enforce, f).await;
        }
        assert!(cache.len() <= 3);
        assert!(cache.peek(&key(9)).is_some());
    }
}
