//! # pullgate-verify
//!
//! The verification engine shared by the CRI proxy and the Gatekeeper
//! provider, so that admission and the node reach the same verdict from the
//! same trust documents.
//!
//! - [`engine::Engine`] turns an image reference into a [`decision::Verdict`].
//! - [`notary`] verifies Notary Project signatures as notation-go does.
//! - [`cosign`] verifies Cosign signatures (legacy `.sig`, public keys).
//! - [`x509`] parses certificates with Go's semantics and checks chains.
//! - [`keys`] are the key providers trust stores are built from.
//! - [`decision`] is the one decision type enforcement points act on.

#![forbid(unsafe_code)]

pub mod cache;
pub mod clock;
pub mod cosign;
pub mod decision;
pub mod engine;
pub mod generation;
pub mod keys;
pub mod node;
pub mod notary;
pub mod x509;

pub use cache::{CacheKey, CacheSettings, CacheStats, VerdictCache};
pub use clock::{Clock, FixedClock, SystemClock};
pub use decision::{
    Allowance, Decision, Denial, Evidence, Exemption, Mode, Require, Verdict, VerifiedImage,
    VerifierReport,
};
pub use engine::{Engine, EngineConfig, Resolved};
pub use generation::Generation;
pub use node::{NodePolicy, PodContext};
