//! Reloads: on SIGHUP and when the configuration or a document it names
//! changes (polled). A configuration that does not load or build is
//! reported and the last good one stays in force; one that does replaces
//! the engine, and a change of policy or trust material changes the
//! generation. A configuration `serve` would refuse at start is refused
//! here too. Socket paths, `allowed_uids`, the admin address, `state_dir`
//! and the cache durations take effect at restart (a reload says so).
//! File reads and stats run off the async threads.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use pullgate_cri_proxy::enforce::{Enforcer, Policy};
use pullgate_verify::{Clock, Generation};
use tokio::sync::watch;

use super::{Only, servable};
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
fn fingerprint(paths: &[PathBuf]) -> Fingerprint {
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

/// [`fingerprint`] off the async threads (it stats files, which can block).
async fn fingerprint_of(paths: Vec<PathBuf>) -> Fingerprint {
    tokio::task::spawn_blocking(move || fingerprint(&paths))
        .await
        .unwrap_or_default()
}

type Fingerprint = Vec<(PathBuf, u64, Option<SystemTime>, u64)>;

pub async fn watch(
    config: Config,
    only: Option<Only>,
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
    let mut current = Arc::new(config);
    // What runs until a restart (the socket, the admin address, state_dir,
    // the cache durations): compared with every reload.
    let started = Arc::clone(&current);
    // The files to watch: the running configuration's, and those a refused
    // one named (so that creating the file it missed reloads it).
    let mut watched = current.watched_paths();
    let mut seen = fingerprint_of(watched.clone()).await;
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let why = tokio::select! {
            _ = stop.changed() => return,
            Some(()) = async { match hup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => "SIGHUP",
            _ = tick.tick() => {
                let now = fingerprint_of(watched.clone()).await;
                if now == seen { continue; }
                "a file changed"
            }
        };
        // Taken before reading, so an edit made during the reload is a
        // change the next tick sees.
        seen = fingerprint_of(watched.clone()).await;
        let attempt = {
            let (path, enforcer, clock, started) = (
                path.clone(),
                enforcer.clone(),
                clock.clone(),
                Arc::clone(&started),
            );
            tokio::task::spawn_blocking(move || reload(&path, only, &enforcer, &clock, &started))
                .await
                .unwrap_or_else(|e| {
                    Err(Refused {
                        errors: vec![format!("reload failed: {e}")],
                        named: Vec::new(),
                    })
                })
        };
        match attempt {
            Ok((new, after)) => {
                let before = stats.generation();
                current = Arc::new(new);
                watched = current.watched_paths();
                stats.ok.fetch_add(1, Ordering::Relaxed);
                if before != after {
                    tracing::info!(reason = why, from = %before, to = %after, "configuration reloaded: new generation");
                } else {
                    tracing::info!(reason = why, generation = %after, "configuration reloaded: same generation");
                }
                *stats.generation.lock().unwrap_or_else(|e| e.into_inner()) = after;
            }
            Err(Refused { errors, named }) => {
                stats.failed.fetch_add(1, Ordering::Relaxed);
                for e in &errors {
                    tracing::error!(
                        reason = why,
                        "reload refused, the last good configuration stays: {e}"
                    );
                }
                watched = current.watched_paths();
                watched.extend(named);
                watched.sort();
                watched.dedup();
            }
        }
    }
}

/// A reload that did not happen: why, and the files the refused
/// configuration names (watched, so that fixing one reloads).
struct Refused {
    errors: Vec<String>,
    named: Vec<PathBuf>,
}

/// Loads, builds and checks the configuration at `path` as `serve` does at
/// start, then puts it in force.
fn reload(
    path: &std::path::Path,
    only: Option<Only>,
    enforcer: &Enforcer,
    clock: &Arc<dyn Clock>,
    started: &Config,
) -> Result<(Config, Generation), Refused> {
    let to_strings = |errors: Vec<config::ConfigError>| {
        errors.iter().map(ToString::to_string).collect::<Vec<_>>()
    };
    let mut new = config::load(path).map_err(|e| Refused {
        errors: to_strings(e),
        named: Vec::new(),
    })?;
    let later = started.restart_only_changes(&new);
    // state_dir stays the running one (the CRL cache lives there too).
    new.state_dir = started.state_dir.clone();
    let refuse = |errors: Vec<String>| Refused {
        errors,
        named: new.watched_paths(),
    };
    let built = config::build(&new, clock.clone(), config::Purpose::Serve)
        .map_err(|e| refuse(to_strings(e)))?;
    if new.cri.is_none() {
        return Err(refuse(vec![format!(
            "{}: the [cri] table is gone; keeping the running configuration",
            path.display()
        )]));
    }
    if let Err(e) = servable(&new, only) {
        return Err(refuse(vec![format!("{e} (a restart would refuse it)")]));
    }
    for w in &built.warnings {
        tracing::warn!("{w}");
    }
    if !later.is_empty() {
        tracing::warn!(
            settings = %later.join(", "),
            "changed settings take effect at restart; the running values stay"
        );
    }
    let generation = built.engine.generation().clone();
    enforcer.replace_policy(Policy {
        engine: Arc::new(built.engine),
        registry: built.registry,
    });
    Ok((new, generation))
}
