//! A test signer for Notary Project (notation) signatures.
//!
//! Verifier tests make their own signatures with it: certificate chains
//! with intermediates, expired and not-yet-valid certificates, wrong key
//! usages and EKUs, wrong payload digests, corrupted signatures, several
//! signatures of which one is bad, pushed to a registry as notation pushes
//! them. Envelopes are byte-compatible with notation-go + notation-core-go
//! (same JSON/CBOR encoding, header order and time formats), except that
//! the signatures differ (RSA-PSS and ECDSA are randomized).
//!
//! - [`TestKey`] / [`KeyKind`]: keys, cached per kind and slot;
//! - [`CertSpec`] / [`TestCert`] / [`TestPki`]: certificates with exactly the
//!   extensions asked for;
//! - [`sign`] with [`SignOptions`] → [`SignedEnvelope`] (JWS or COSE);
//! - [`push_notary_signature`]: signature manifest (+ tag-schema index).
//!
//! ```no_run
//! # async fn demo(client: &pullgate_registry::RegistryClient,
//! #               repo: &pullgate_registry::Repository,
//! #               target: &pullgate_registry::Descriptor) {
//! use pullgate_testsupport::notary::*;
//! let pki = TestPki::code_signing_chain(1);
//! let env = sign(target, &pki.chain(), &SignOptions::new(EnvelopeFormat::Cose));
//! push_notary_signature(client, repo, target, &env, ManifestShape::ArtifactType, true).await;
//! # }
//! ```

mod cbor;
mod cert;
mod cose;
mod extensions;
mod gojson;
mod jws;
mod keys;
mod pki;
mod push;
mod sign;
#[cfg(test)]
mod test_util;

pub use cbor::Cbor;
pub use cert::{
    CertSpec, DEFAULT_NOT_AFTER, DEFAULT_NOT_BEFORE, DnAttr, Eku, KeyUsage, TestCert, pem_chain,
};
pub use cose::{LABEL_X5CHAIN, TAG_COSE_SIGN1, sig_structure};
pub use jws::go_time;
pub use keys::{Algorithm, KeyKind, TestKey, verification_algorithm};
pub use pki::TestPki;
pub use push::{
    ANNOTATION_CREATED, ANNOTATION_THUMBPRINT, EMPTY_JSON, ManifestShape, add_to_tag_schema_index,
    config_descriptor, index_json, push_notary_signature, signature_annotations,
    signature_manifest,
};
pub use sign::{
    Corruption, CoseLabel, EnvelopeFormat, MEDIA_TYPE_COSE, MEDIA_TYPE_JWS, PAYLOAD_CONTENT_TYPE,
    SignOptions, SignedEnvelope, SigningScheme, TimestampFn, Timestamper, payload_json, sign,
};
