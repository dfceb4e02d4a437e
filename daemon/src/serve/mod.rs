//! `pullgate serve --config FILE [--only cri|gatekeeper]`: the CRI
//! image-service proxy with its enforcement, the admin endpoint (`/livez`,
//! `/readyz`, `/metrics`), configuration reloads (SIGHUP and file changes,
//! the last good configuration kept), background re-checks of verified
//! images, and a graceful shutdown on SIGTERM/SIGINT.

mod admin;
mod metrics;
mod reload;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use pullgate_cri_proxy::enforce::{ContainerdImages, Enforcer, Policy, VerifiedState};
use pullgate_cri_proxy::{Proxy, ProxyConfig};
use pullgate_verify::{CacheSettings, SystemClock, VerdictCache};

use crate::EXIT_USAGE;
use crate::config::{self, Config};

#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum Only {
    /// The node's CRI image-service proxy.
    Cri,
    /// The cluster's Gatekeeper external-data provider.
    Gatekeeper,
}

#[derive(clap::Args)]
pub struct ServeArgs {
    /// The pullgate configuration file (TOML).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Run one of the two enforcement points of a configuration that has both.
    #[arg(long, value_enum)]
    only: Option<Only>,
}

/// Exit status when serving fails after the configuration was accepted.
const EXIT_FAILED: u8 = 1;

fn usage(message: &str) -> ExitCode {
    eprintln!("pullgate serve: {message}");
    ExitCode::from(EXIT_USAGE)
}

/// What is served, decided from the configuration and `--only` before
/// anything binds.
fn plan(config: &Config, only: Option<Only>) -> Result<(), String> {
    let cri = config.cri.is_some() && only != Some(Only::Gatekeeper);
    let gatekeeper = config.gatekeeper.is_some() && only != Some(Only::Cri);
    if gatekeeper || only == Some(Only::Gatekeeper) {
        return Err(format!(
            "{}: the Gatekeeper provider is not available in this build yet{}",
            config.file.display(),
            if config.cri.is_some() {
                "; run the node's proxy with --only cri"
            } else {
                ""
            }
        ));
    }
    if !cri {
        return Err(format!(
            "{}: nothing to serve: add a [cri] table",
            config.file.display()
        ));
    }
    Ok(())
}

/// What `serve` needs beyond a configuration that builds: something to
/// serve, a usable socket configuration and an admin address. A reload is
/// held to the same checks, so it never accepts what a restart would
/// refuse.
pub(crate) fn servable(
    config: &Config,
    only: Option<Only>,
) -> Result<(ProxyConfig, std::net::SocketAddr), String> {
    plan(config, only)?;
    let Some(cri) = &config.cri else {
        return Err("nothing to serve: add a [cri] table".into());
    };
    let mut proxy_config = ProxyConfig::new(cri.listen.clone(), cri.upstream.clone());
    proxy_config.allowed_uids = cri.allowed_uids.clone();
    if let Some((key, problem)) = proxy_config.problems().into_iter().next() {
        return Err(format!("{}: cri.{key}: {problem}", config.file.display()));
    }
    let admin_addr = config.admin.listen.parse().map_err(|_| {
        format!(
            "{}: admin.listen {:?} is not an address:port",
            config.file.display(),
            config.admin.listen
        )
    })?;
    Ok((proxy_config, admin_addr))
}

pub async fn serve(args: ServeArgs) -> ExitCode {
    let clock = Arc::new(SystemClock);
    let report = |errors: Vec<config::ConfigError>| {
        for e in &errors {
            eprintln!("{e}");
        }
        eprintln!(
            "{}: {} problem(s) found",
            args.config.display(),
            errors.len()
        );
        ExitCode::from(EXIT_USAGE)
    };
    let cfg = match config::load(&args.config) {
        Ok(c) => c,
        Err(errors) => return report(errors),
    };
    let built = match config::build(&cfg, clock.clone(), config::Purpose::Serve) {
        Ok(b) => b,
        Err(errors) => return report(errors),
    };
    let (proxy_config, admin_addr) = match servable(&cfg, args.only) {
        Ok(v) => v,
        Err(message) => return usage(&message),
    };
    for w in &built.warnings {
        tracing::warn!("{w}");
    }

    let (state, problem) = VerifiedState::load(&cfg.state_dir);
    if let Some(p) = problem {
        tracing::warn!("verified state: {p}; images are verified again");
    }
    let cache = VerdictCache::new(CacheSettings {
        ttl: cfg.cache_ttl,
        negative_ttl: cfg.negative_cache_ttl,
        deadline: cfg.verify_timeout,
        ..CacheSettings::default()
    });
    let generation = built.engine.generation().clone();
    let enforcer = Enforcer::new(
        Policy {
            engine: Arc::new(built.engine),
            registry: built.registry,
        },
        cache,
        Arc::new(state),
        Arc::new(ContainerdImages::new()),
    );
    tracing::info!(generation = %generation, mode = cfg.mode.as_str(), "configuration loaded");

    // The admin port first: if it is taken, nothing has been created yet
    // (no socket file left behind for the next start to clear).
    let admin_listener = match tokio::net::TcpListener::bind(admin_addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("pullgate serve: admin.listen {admin_addr}: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    if !admin_addr.ip().is_loopback() {
        tracing::warn!(listen = %admin_addr, "the admin endpoint (/metrics, /readyz) listens beyond loopback");
    }
    let proxy = match Proxy::bind(proxy_config, Arc::new(enforcer.clone())).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("pullgate serve: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let reloads = Arc::new(reload::ReloadStats::new(generation));
    let shared = Arc::new(admin::Shared {
        enforcer: enforcer.clone(),
        upstream: proxy.upstream(),
        proxy_counters: proxy.counters(),
        reloads: reloads.clone(),
    });
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let admin_task = tokio::spawn(admin::serve(admin_listener, shared, stop_rx.clone()));
    let rechecks = enforcer.spawn_rechecks(cfg.cache_ttl);
    let final_enforcer = enforcer.clone();
    let reload_task = tokio::spawn(reload::watch(
        cfg, args.only, enforcer, clock, reloads, stop_rx,
    ));

    let result = proxy.serve(shutdown_signal()).await;
    let _ = stop_tx.send(true);
    rechecks.abort();
    let _ = reload_task.await;
    let _ = admin_task.await;
    // What was verified last is on disk before the process goes.
    if let Err(e) = final_enforcer.persist().await {
        tracing::error!(error = %e, "could not save the verified state");
    }
    match result {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pullgate serve: {e}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}

/// SIGTERM or SIGINT.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    match (term, int) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => {
            // Without signal handlers, Ctrl-C through tokio's own.
            let _ = tokio::signal::ctrl_c().await;
        }
    }
    tracing::info!("shutting down: draining calls in flight");
}
