//! Helpers for the Notary vector tests: paths into ../shared/vectors, trust
//! stores built from vector directories, and policies written inline.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;

use pullgate_policy::{TrustPolicyDocument, TrustStoreRef};
use pullgate_registry::{Descriptor, Digest};
use pullgate_verify::keys::{ContentType, FileProvider, KeyProvider};
use pullgate_verify::notary::{
    Context, NoRevocationData, Outcome, StoreError, TrustStores, load_store, signature,
};
use time::OffsetDateTime;

pub fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/notation")
}

pub fn read(rel: &str) -> Vec<u8> {
    let p = vectors().join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

pub fn at(rfc3339: &str) -> OffsetDateTime {
    OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339).unwrap()
}

/// Loads store `type:name` from the directory `root/x509/<type>/<name>`.
pub fn store_from(
    root: &str,
    store: &str,
) -> Result<(TrustStoreRef, Vec<pullgate_verify::x509::Cert>), StoreError> {
    let r: TrustStoreRef = store.parse().unwrap();
    let dir = vectors()
        .join(root)
        .join("x509")
        .join(store.split(':').next().unwrap())
        .join(&r.name);
    let provider: Arc<dyn KeyProvider> =
        Arc::new(FileProvider::new(&r.name, ContentType::Certificate, &dir));
    load_store(&r, &[provider]).map(|c| (r, c))
}

/// Trust stores from `(root, "type:name")` pairs.
pub fn stores(list: &[(&str, &str)]) -> TrustStores {
    let mut s = TrustStores::default();
    for (root, store) in list {
        let (r, certs) = store_from(root, store).unwrap_or_else(|e| panic!("{store}: {e}"));
        s.insert(&r, certs);
    }
    s
}

pub fn policy(json: &str) -> TrustPolicyDocument {
    TrustPolicyDocument::parse(json.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
}

/// A one-statement policy document.
pub fn statement(
    level: &str,
    stores: &[&str],
    identities: &[&str],
    extra: &str,
) -> TrustPolicyDocument {
    let q = |v: &[&str]| {
        v.iter()
            .map(|s| format!("{s:?}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    policy(&format!(
        r#"{{"version":"1.0","trustPolicies":[{{"name":"test-statement-name","registryScopes":["*"],
        "signatureVerification":{{"level":"{level}"{extra}}},"trustStores":[{}],"trustedIdentities":[{}]}}]}}"#,
        q(stores),
        q(identities)
    ))
}

pub fn descriptor(media_type: &str, digest: &str, size: u64) -> Descriptor {
    Descriptor::new(media_type, digest.parse::<Digest>().unwrap(), size)
}

pub async fn verify_with(
    doc: &TrustPolicyDocument,
    stores: &TrustStores,
    now: OffsetDateTime,
    target: &Descriptor,
    media_type: &str,
    envelope: &[u8],
) -> Outcome {
    let ctx = Context {
        policy: &doc.statements()[0],
        stores,
        revocation: &NoRevocationData,
        now,
        target,
    };
    signature::verify(media_type, envelope, &ctx).await
}

pub fn failure(o: &Outcome) -> String {
    o.failure
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default()
}

pub const JWS: &str = "application/jose+json";
pub const COSE: &str = "application/cose";
pub const DOCKER_V2: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
