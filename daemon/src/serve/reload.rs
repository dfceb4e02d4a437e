//! Reloads: on SIGHUP and when the configuration or a document it names
//! changes (polled). A configuration that does not load or build is
//! reported and the last good one stays in force; one that does replaces
//! the engine, and a change of policy or trust material changes the
//! generation. Socket paths and `allowed_uids` take effect at restart.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use pullgate_cri_proxy::enforce::{Enforcer, Policy};
use pullgate_verify::{Clock, Generation};
use tokio::sync::watch;

use crate::config::{self, Config};

/// How often the watched files are looked at.
const POLL: Duration = Duration::from_secs(2);

pub struct ReloadStats {
    pub ok: AtomicU64,
    pub failed: AtomicU64,
    generation: Mutex<Generation>,
}

impl ReloadStats {
    pub fn new(generation: Generation) -> ReloadStats {
        ReloadStats {
            ok: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            generation: Mutex::new(generation),
        }
    }

    pub fn generation(&self) -> Generation {
        self.generation
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// What the watched files look like: (path, length, mtime, inode) for each
/// file, and for each entry of a directory.
fn fingerprint(paths: &[PathBuf]) -> Vec<(PathBuf, u64, Option<SystemTime>, u64)> {
    use std::os::unix::fs::MetadataExt as _;
    let mut out = Vec::new();
    let mut add = |p: &PathBuf| match std::fs::metadata(p) {
        Ok(m) => out.push((p.clone(), m.len(), m.modified().ok(), m.ino())),
        Err(_) => out.push((p.clone(), u64::MAX, None, 0)),
    };
    for p in paths {
        add(p);
        if p.is_dir()
            && let Ok(entries) = std::fs::read_dir(p)
        {
            let mut names: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .take(10_000)
                .collect();
            names.sort();
            names.iter().for_each(&mut add);
        }
    }
    out
}

pub async fn watch(
    config: Config,
    enforcer: Enforcer,
    clock: Arc<dyn Clock>,
    stats: Arc<ReloadStats>,
    mut stop: watch::Receiver<bool>,
) {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hup = match signal(SignalKind::hangup()) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!("no SIGHUP handler ({e}); reloads follow file changes only");
            None
        }
    };
    let path = config.file.clone();
    let mut current = config;
    let mut seen = fingerprint(&current.watched_paths());
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let why = tokio::select! {
            _ = stop.changed() => return,
            Some(()) = async { match hup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => "SIGHUP",
            _ = tick.tick() => {
                let now = fingerprint(&current.watched_paths());
                if now == seen { continue; }
                "a file changed"
            }
        };
        // Documents named by the new configuration are watched from now on,
        // whether or not it loads.
        match reload(&path, &enforcer, &clock, &current) {
            Ok(new) => {
                let before = stats.generation();
                let after = new.1;
                current = new.0;
                stats.ok.fetch_add(1, Ordering::Relaxed);
                if before != after {
                    tracing::info!(reason = why, from = %before, to = %after, "configuration reloaded: new generation");
                } else {
                    tracing::info!(reason = why, generation = %after, "configuration reloaded: same generation");
                }
                *stats.generation.lock().unwrap_or_else(|e| e.into_inner()) = after;
            }
            Err(errors) => {
                stats.failed.fetch_add(1, Ordering::Relaxed);
                for e in &errors {
                    tracing::error!(
                        reason = why,
                        "reload refused, the last good configuration stays: {e}"
                    );
                }
            }
        }
        seen = fingerprint(&current.watched_paths());
    }
}

fn reload(
    path: &std::path::Path,
    enforcer: &Enforcer,
    clock: &Arc<dyn Clock>,
    current: &Config,
) -> Result<(Config, Generation), Vec<String>> {
    let to_strings = |errors: Vec<config::ConfigError>| {
        errors.iter().map(ToString::to_string).collect::<Vec<_>>()
    };
    let new = config::load(path).map_err(to_strings)?;
    let built = config::build(&new, clock.clone(), config::Purpose::Serve).map_err(to_strings)?;
    match (&new.cri, &current.cri) {
        (None, _) => {
            return Err(vec![format!(
                "{}: the [cri] table is gone; keeping the running configuration",
                path.display()
            )]);
        }
        (Some(n), Some(c))
            if n.listen != c.listen
                || n.upstream != c.upstream
                || n.allowed_uids != c.allowed_uids =>
        {
            tracing::warn!("cri.listen, cri.upstream and cri.allowed_uids take effect at restart");
        }
        _ => {}
    }
    let generation = built.engine.generation().clone();
    enforcer.replace_policy(Policy {
        engine: Arc::new(built.engine),
        registry: built.registry,
    });
    Ok((new, generation))
}
