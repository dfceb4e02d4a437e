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
