//! Pushing an OCI image layout (blobs, manifests, and the referrers tag
//! index) verbatim to a registry with the client's own push API, as the
//! Notary Project's e2e tests push theirs.

use std::collections::BTreeMap;
use std::path::Path;

use bytes::Bytes;
use pullgate_registry::media_types as mt;
use pullgate_registry::{Digest, RegistryClient, Repository};

/// Pushes every blob of the layout at `dir`, then every manifest its
/// `index.json` lists (image manifests before indexes), tagging those with
/// an `org.opencontainers.image.ref.name` annotation. Returns tag → digest.
pub async fn push_oci_layout(
    client: &RegistryClient,
    repo: &Repository,
    dir: &Path,
) -> BTreeMap<String, Digest> {
    let blobs = dir.join("blobs/sha256");
    let mut entries: Vec<_> = std::fs::read_dir(&blobs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in &entries {
        let bytes = std::fs::read(path).unwrap();
        client
            .push_blob(repo, "application/octet-stream", Bytes::from(bytes))
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    let mut manifests: Vec<&serde_json::Value> =
        index["manifests"].as_array().unwrap().iter().collect();
    // Children before the indexes that list them.
    manifests.sort_by_key(|m| m["mediaType"].as_str() == Some(mt::OCI_INDEX));
    let mut tags = BTreeMap::new();
    for m in manifests {
        let digest: Digest = m["digest"].as_str().unwrap().parse().unwrap();
        let media_type = match m["mediaType"].as_str().unwrap() {
            mt::OCI_INDEX => mt::OCI_INDEX,
            mt::OCI_MANIFEST => mt::OCI_MANIFEST,
            other => panic!("unexpected manifest media type {other}"),
        };
        let bytes = Bytes::from(std::fs::read(blobs.join(digest.hex())).unwrap());
        client
            .push_manifest(repo, &digest.to_string(), media_type, bytes.clone())
            .await
            .unwrap_or_else(|e| panic!("{digest}: {e}"));
        if let Some(tag) = m["annotations"]["org.opencontainers.image.ref.name"].as_str() {
            client
                .push_manifest(repo, tag, media_type, bytes)
                .await
                .unwrap();
            tags.insert(tag.to_string(), digest);
        }
    }
    tags
}
