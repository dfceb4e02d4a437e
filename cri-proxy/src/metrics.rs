//! Counters the daemon exports: connections accepted and refused, upstream (re)connects.

use std::sync::atomic::{AtomicU64, Ordering};

/// Live counters, shared by the accept loop, the upstream connector and the daemon.
#[derive(Debug, Default)]
pub struct Counters {
    accepted: AtomicU64,
    refused: AtomicU64,
    upstream_connects: AtomicU64,
    upstream_connect_failures: AtomicU64,
    shutdown_aborted: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CounterSnapshot {
    /// Connections whose peer passed the uid check.
    pub connections_accepted: u64,
    /// Connections closed by the uid check (or whose credentials could not be read).
    pub connections_refused: u64,
    /// HTTP/2 connections opened to containerd (the first one and every reconnect).
    pub upstream_connects: u64,
    /// Attempts to connect to containerd that failed.
    pub upstream_connect_failures: u64,
    /// Connections still busy when the shutdown grace period ended, and closed.
    pub shutdown_aborted: u64,
}

impl Counters {
    /// The current values.
    pub fn snapshot(&self) -> CounterSnapshot {
        CounterSnapshot {
            connections_accepted: self.accepted.load(Ordering::Relaxed),
            connections_refused: self.refused.load(Ordering::Relaxed),
            upstream_connects: self.upstream_connects.load(Ordering::Relaxed),
            upstream_connect_failures: self.upstream_connect_failures.load(Ordering::Relaxed),
            shutdown_aborted: self.shutdown_aborted.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn accepted(&self) {
        self.accepted.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn refused(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn upstream_connected(&self) {
        self.upstream_connects.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn upstream_connect_failed(&self) {
        self.upstream_connect_failures
            .fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn shutdown_aborted(&self, connections: u64) {
        self.shutdown_aborted
            .fetch_add(connections, Ordering::Relaxed);
    }
}
