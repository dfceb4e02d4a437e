#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Black-box tests of the `pullgate` binary against real components.

mod cosign;
mod cri;
mod discover;
mod notation;
mod revocation;

use std::process::{Command, Output};

pub fn pullgate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pullgate"))
        .args(args)
        .output()
        .expect("run pullgate")
}

/// `pullgate verify --json --config CONFIG [--dangerous-verification-time AT] IMAGE`:
/// the one verdict line, parsed, and the exit status.
pub fn verify_json(
    config: &std::path::Path,
    image: &str,
    at: Option<&str>,
) -> (serde_json::Value, Option<i32>) {
    let config = config.to_str().unwrap();
    let mut args = vec!["verify", "--json", "--config", config];
    if let Some(t) = at {
        args.extend(["--dangerous-verification-time", t]);
    }
    args.push(image);
    let out = pullgate(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().next().unwrap_or_else(|| {
        panic!(
            "no verdict; stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (serde_json::from_str(line).unwrap(), out.status.code())
}
