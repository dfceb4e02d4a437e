//! The `pullgate` binary's library: configuration and commands, kept
//! beside `main.rs` so they can be tested without spawning the binary.

#![forbid(unsafe_code)]

pub mod config;
pub mod discover;
pub mod serve;
pub mod verify_cmd;

/// Exit status for bad usage or configuration (the contract's 2).
pub const EXIT_USAGE: u8 = 2;
