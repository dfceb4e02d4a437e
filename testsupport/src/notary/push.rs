//! Pushing a notation signature the way notation-go does through oras-go:
//! envelope blob, signature manifest (`PackManifest`, field order and all),
//! and, for registries without the referrers API, the referrers tag-schema
//! index `sha256-<hex>`.

use std::collections::BTreeMap;

use bytes::Bytes;
use pullgate_registry::media_types as mt;
use pullgate_registry::{Descriptor, Digest, Manifest, RegistryClient, Repository};

use super::gojson;
use super::sign::SignedEnvelope;

/// The annotation listing the chain's SHA-256 thumbprints (a JSON array in a
/// string, lowercase hex, leaf first).
pub const ANNOTATION_THUMBPRINT: &str = "io.cncf.notary.x509chain.thumbprint#S256";
/// The annotation notation-go sets to the signing time (UTC, RFC 3339).
pub const ANNOTATION_CREATED: &str = "org.opencontainers.image.created";
/// The content of the empty JSON config (`{}`), base64 `e30=` in `data`.
pub const EMPTY_JSON: &[u8] = b"{}";

/// Which signature-manifest format to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestShape {
    /// OCI 1.1 (notation ≥ 1.1 with referrers, notation v2 default):
    /// `artifactType: application/vnd.cncf.notary.signature`, empty config
    /// `application/vnd.oci.empty.v1+json` with `data`.
    ArtifactType,
    /// notation ≤ 1.3 default (`--force-referrers-tag`): no `artifactType`,
    /// config media type `application/vnd.cncf.notary.signature`, content `{}`.
    LegacyConfig,
}

/// The signature manifest's annotations: thumbprints and creation time.
pub fn signature_annotations(envelope: &SignedEnvelope) -> BTreeMap<String, String> {
    let thumbprints: Vec<String> = envelope
        .thumbprints()
        .iter()
        .map(|t| gojson::string(t))
        .collect();
    let created = super::jws::go_time(envelope.signing_time.to_offset(time::UtcOffset::UTC));
    BTreeMap::from([
        (
            ANNOTATION_THUMBPRINT.to_string(),
            format!("[{}]", thumbprints.join(",")),
        ),
        (ANNOTATION_CREATED.to_string(), created),
    ])
}

/// The signature manifest bytes as oras-go's `PackManifest` writes them:
/// schemaVersion, mediaType, artifactType?, config, layers, subject,
/// annotations. `subject` is reduced to mediaType, digest and size.
pub fn signature_manifest(
    subject: &Descriptor,
    envelope: &SignedEnvelope,
    shape: ManifestShape,
) -> Vec<u8> {
    let layer = Descriptor::of(envelope.media_type, &envelope.bytes);
    let subject = Descriptor::new(&subject.media_type, subject.digest.clone(), subject.size);
    let mut fields = vec![
        ("schemaVersion", "2".to_string()),
        ("mediaType", gojson::string(mt::OCI_MANIFEST)),
    ];
    if shape == ManifestShape::ArtifactType {
        fields.push(("artifactType", gojson::string(mt::NOTARY_SIGNATURE)));
    }
    fields.extend([
        ("config", go_descriptor(&config_descriptor(shape))),
        ("layers", format!("[{}]", go_descriptor(&layer))),
        ("subject", go_descriptor(&subject)),
        (
            "annotations",
            gojson::string_map(&signature_annotations(envelope)),
        ),
    ]);
    gojson::object(&fields).into_bytes()
}

/// The config descriptor of a signature manifest of `shape`.
pub fn config_descriptor(shape: ManifestShape) -> Descriptor {
    match shape {
        ManifestShape::ArtifactType => {
            let mut d = Descriptor::of(mt::OCI_EMPTY, EMPTY_JSON);
            d.data = Some("e30=".to_string());
            d
        }
        ManifestShape::LegacyConfig => Descriptor::of(mt::NOTARY_SIGNATURE, EMPTY_JSON),
    }
}

/// Pushes `envelope` as a notation signature of `subject`: config and
/// envelope blobs, then the manifest by digest. With `update_tag_index`,
/// also adds it to the referrers tag-schema index of `subject` (read, add if
/// missing, put back under `sha256-<hex>`). Returns the manifest descriptor
/// as a referrers index lists it (with `artifactType` and annotations).
pub async fn push_notary_signature(
    client: &RegistryClient,
    repo: &Repository,
    subject: &Descriptor,
    envelope: &SignedEnvelope,
    shape: ManifestShape,
    update_tag_index: bool,
) -> Descriptor {
    let config = config_descriptor(shape);
    client
        .push_blob(repo, &config.media_type, Bytes::from_static(EMPTY_JSON))
        .await
        .unwrap();
    client
        .push_blob(
            repo,
            envelope.media_type,
            Bytes::from(envelope.bytes.clone()),
        )
        .await
        .unwrap();
    let manifest = signature_manifest(subject, envelope, shape);
    let digest = Digest::sha256(&manifest);
    client
        .push_manifest(
            repo,
            &digest.to_string(),
            mt::OCI_MANIFEST,
            Bytes::from(manifest.clone()),
        )
        .await
        .unwrap();
    let mut descriptor = Descriptor::of(mt::OCI_MANIFEST, &manifest);
    descriptor.artifact_type = Some(mt::NOTARY_SIGNATURE.to_string());
    descriptor.annotations = signature_annotations(envelope);
    if update_tag_index {
        add_to_tag_schema_index(client, repo, &subject.digest, &descriptor).await;
    }
    descriptor
}

/// Adds `entry` to the referrers tag-schema index of `subject` (creating it
/// when absent, keeping existing entries, skipping a duplicate digest) as
/// oras-go does without a referrers API; the superseded index is not
/// deleted. Returns the new index digest.
pub async fn add_to_tag_schema_index(
    client: &RegistryClient,
    repo: &Repository,
    subject: &Digest,
    entry: &Descriptor,
) -> Digest {
    let tag = subject.referrers_tag();
    let mut entries = match client.manifest_if_tagged(repo, &tag).await.unwrap() {
        Some(fetched) => match fetched.parsed {
            Manifest::Index(index) => index.manifests,
            Manifest::Image(_) => panic!("{repo}:{tag} is a manifest, not a referrers index"),
        },
        None => Vec::new(),
    };
    if !entries.iter().any(|d| d.digest == entry.digest) {
        entries.push(entry.clone());
    }
    client
        .push_manifest(repo, &tag, mt::OCI_INDEX, Bytes::from(index_json(&entries)))
        .await
        .unwrap()
}

/// An image index as oras-go's `generateIndex` writes it.
pub fn index_json(manifests: &[Descriptor]) -> Vec<u8> {
    let entries: Vec<String> = manifests.iter().map(go_descriptor).collect();
    gojson::object(&[
        ("schemaVersion", "2".to_string()),
        ("mediaType", gojson::string(mt::OCI_INDEX)),
        ("manifests", format!("[{}]", entries.join(","))),
    ])
    .into_bytes()
}

/// A descriptor in the field order of Go's `ocispec.Descriptor`: mediaType,
/// digest, size, annotations, data, platform, artifactType.
fn go_descriptor(d: &Descriptor) -> String {
    let mut fields = vec![
        ("mediaType", gojson::string(&d.media_type)),
        ("digest", gojson::string(&d.digest.to_string())),
        ("size", d.size.to_string()),
    ];
    if !d.annotations.is_empty() {
        fields.push(("annotations", gojson::string_map(&d.annotations)));
    }
    if let Some(data) = &d.data {
        fields.push(("data", gojson::string(data)));
    }
    if let Some(p) = &d.platform {
        fields.push(("platform", gojson::value(&serde_json::to_value(p).unwrap())));
    }
    if let Some(t) = &d.artifact_type {
        fields.push(("artifactType", gojson::string(t)));
    }
    gojson::object(&fields)
}

#[cfg(test)]
mod tests;
