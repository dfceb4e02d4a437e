//! # pullgate-registry
//!
//! An OCI distribution client built for signature verification. Everything a
//! registry sends is untrusted: manifests and blobs are checked against their
//! digests and returned as raw bytes beside their parsed form, every body has
//! a size limit, every wait a timeout, every retry a bound.
//!
//! - [`ImageRef`] parses references as Docker and containerd do.
//! - [`RegistryClient`] resolves, fetches, discovers referrers (API, then the
//!   tag schema) and Cosign `.sig` manifests, and pushes (for test support).
//! - [`ArtifactSource`] is the trait the verification engine reads through.
//!
//! This crate knows nothing of policies or verdicts.

#![forbid(unsafe_code)]

mod auth;
mod client;
mod config;
mod digest;
mod docker_config;
mod error;
pub mod files;
mod manifest;
pub mod media_types;
mod platform;
mod push;
mod reference;
mod referrers;
mod source;
mod transport;

pub use auth::{Challenge, parse_challenges};
pub use client::{Fetched, RegistryClient};
pub use config::{ClientConfig, Credentials, HostSettings, Limits, RetryPolicy, Secret, Timeouts};
pub use digest::{Algorithm, Digest, DigestError};
pub use docker_config::{AuthFields, DockerConfig};
pub use error::RegistryError;
pub use manifest::{
    Descriptor, ImageIndex, ImageManifest, MAX_DESCRIPTORS, Manifest, ManifestError,
};
pub use platform::Platform;
pub use reference::{DOCKER_HUB, ImageRef, ReferenceError, Repository, scope_respelled};
pub use referrers::{Discovery, Referrers, ReferrersSource, SignatureKind};
pub use source::ArtifactSource;
