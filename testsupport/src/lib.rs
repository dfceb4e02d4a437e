//! # pullgate-testsupport
//!
//! Shared by the tests of every crate (never by production code):
//! - [`RealRegistry`]: Debian's `docker-registry` (distribution 2.8) started on
//!   127.0.0.1 and a free port, plain HTTP or TLS with htpasswd, state in a
//!   temporary directory, stopped on drop;
//! - [`FakeRegistry`]: an in-process distribution-spec stand-in for what the
//!   real registry lacks (referrers API, pagination) and for faults (429,
//!   redirects, hanging token endpoint, corrupt or oversized bodies);
//! - [`TestImage`]: tiny deterministic OCI images and index, pushed with the
//!   registry client's own push API;
//! - [`TestCa`]: certificates for TLS servers;
//! - [`OcspResponder`]: an OCSP responder with controllable answers, times,
//!   signers and faults; [`FileServer`]: fixed bodies (CRLs) by URL;
//!   [`TestCrl`]: CRLs made to order; [`der_build`]: a tiny DER writer.
//!
//! Test support may panic: a broken fixture must stop the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod certs;
pub mod containerd;
mod cosign_tool;
mod crl;
pub mod der_build;
mod fake_registry;
mod file_server;
mod image;
mod layout;
pub mod notary;
mod ocsp;
mod pkix_sign;
mod real_registry;

pub use certs::TestCa;
pub use cosign_tool::{CosignKeyPair, cosign_tool};
pub use crl::{RawExt, RevokedEntry, TestCrl, crl_pem};
pub use fake_registry::{Action, FakeAuth, FakeOptions, FakeRegistry, Fault, Logged};
pub use file_server::FileServer;
pub use image::{TestImage, push_index, push_signature_manifest, push_tag_schema_index};
pub use layout::push_oci_layout;
pub use ocsp::{
    OcspAnswer, OcspFault, OcspRequestLog, OcspResponder, OcspResponse, OcspSigner,
    ocsp_response_for,
};
pub use pkix_sign::{PkixSigner, first_pem_cert, pem_certs, serial_of, subject_der};
pub use real_registry::{RealRegistry, RegistryOptions};
