//! `pullgate verify --config FILE [--json] IMAGE...` and
//! `pullgate check-config --config FILE`, as the contract says: one verdict
//! per image; exit 0 when all are allowed (or in audit mode), 1 when one is
//! denied, 2 for a bad configuration or usage.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use pullgate_verify::{Clock, FixedClock, Mode, SystemClock, Verdict};

use crate::EXIT_USAGE;
use crate::config;

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// The pullgate configuration file (TOML).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// One JSON object per image and line.
    #[arg(long)]
    json: bool,
    /// Verify as if it were this time (RFC 3339). For tests and for asking
    /// what a verdict was at an earlier time; never for enforcement.
    #[arg(long, value_name = "RFC3339")]
    dangerous_verification_time: Option<String>,
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<String>,
}

#[derive(clap::Args)]
pub struct CheckArgs {
    /// The pullgate configuration file (TOML).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
}

/// Loads and builds the configuration, printing every problem on failure;
/// with it, the longest one verification may take (`verify_timeout`).
fn load(
    path: &std::path::Path,
    clock: Arc<dyn Clock>,
) -> Result<(config::Built, Duration), ExitCode> {
    let report = |errors: Vec<config::ConfigError>| {
        for e in &errors {
            eprintln!("{e}");
        }
        eprintln!("{}: {} problem(s) found", path.display(), errors.len());
        ExitCode::from(EXIT_USAGE)
    };
    let cfg = config::load(path).map_err(report)?;
    let built = config::build(&cfg, clock, config::Purpose::OneShot).map_err(report)?;
    Ok((built, cfg.verify_timeout))
}

pub async fn verify(args: VerifyArgs) -> ExitCode {
    let clock: Arc<dyn Clock> = match &args.dangerous_verification_time {
        None => Arc::new(SystemClock),
        Some(t) => {
            match time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339) {
                Ok(t) => Arc::new(FixedClock(t)),
                Err(e) => {
                    eprintln!("pullgate verify: --dangerous-verification-time {t:?}: {e}");
                    return ExitCode::from(EXIT_USAGE);
                }
            }
        }
    };
    let (built, deadline) = match load(&args.config, clock) {
        Ok(b) => b,
        Err(code) => return code,
    };
    for w in &built.warnings {
        tracing::warn!("{w}");
    }
    let mut denied = false;
    let mut out = std::io::stdout().lock();
    for image in &args.images {
        // The registry client bounds each request; this bounds the whole
        // verification (many requests, revocation), as the node does.
        let verdict =
            match tokio::time::timeout(deadline, built.engine.verify(&built.registry, image)).await
            {
                Ok(v) => v,
                Err(_) => built.engine.cannot_verify(
                    image,
                    format!("verification did not finish within {deadline:?}"),
                ),
            };
        denied |= !verdict.admitted();
        let line = if args.json {
            verdict.to_json().to_string()
        } else {
            text(&verdict)
        };
        if writeln!(out, "{line}").is_err() {
            return ExitCode::FAILURE;
        }
    }
    if denied {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn text(v: &Verdict) -> String {
    let status = match (v.allowed(), v.mode) {
        (true, _) => "ALLOWED",
        (false, Mode::Enforce) => "DENIED",
        (false, Mode::Audit) => "AUDIT (would deny)",
    };
    let digest = v
        .digest
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_else(|| "-".into());
    let mut s = format!("{}: {status} {digest}\n  {}", v.image, v.reason());
    for r in &v.verifiers {
        let state = match (r.covered, r.allowed) {
            (false, _) => "not covered",
            (true, true) => "allowed",
            (true, false) => "denied",
        };
        s.push_str(&format!("\n  {}: {state}: {}", r.name, r.reason));
    }
    s
}

pub fn check_config(args: CheckArgs) -> ExitCode {
    match load(&args.config, Arc::new(SystemClock)) {
        Ok((built, _)) => {
            for w in &built.warnings {
                eprintln!("warning: {w}");
            }
            let mut out = std::io::stdout().lock();
            if writeln!(out, "{}: valid", args.config.display()).is_err() {
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}
