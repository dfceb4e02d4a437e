//! Tiny deterministic OCI images (one uncompressed tar layer holding
//! `/hello.txt`), indexes, signature manifests and referrers indexes, pushed
//! with the registry client's own push API.

use std::collections::BTreeMap;

use bytes::Bytes;
use pullgate_registry::media_types as mt;
use pullgate_registry::{Descriptor, Digest, Platform, RegistryClient, Repository};
use serde_json::json;

pub const LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";

/// An image built in memory: config, one layer, manifest.
#[derive(Debug, Clone)]
pub struct TestImage {
    pub config: Bytes,
    pub layer: Bytes,
    pub manifest: Bytes,
    pub platform: Platform,
}

impl TestImage {
    /// An image for this machine's platform whose `/hello.txt` holds `text`
    /// (different texts give different digests; equal texts equal digests).
    pub fn new(text: &str) -> TestImage {
        TestImage::for_platform(text, Platform::current())
    }

    pub fn for_platform(text: &str, platform: Platform) -> TestImage {
        let layer = Bytes::from(tar_with_file("hello.txt", format!("{text}\n").as_bytes()));
        let config = json!({"Cmd": ["/hello.txt"], "Labels": {"test.text": text}});
        TestImage::assemble(layer, platform, config)
    }

    /// An image of one uncompressed layer for `platform`, its image
    /// configuration's `config` object given.
    pub(crate) fn assemble(
        layer: Bytes,
        platform: Platform,
        config: serde_json::Value,
    ) -> TestImage {
        let diff_id = Digest::sha256(&layer);
        let mut cfg = json!({
            "created": "1970-01-01T00:00:00Z",
            "architecture": platform.architecture,
            "os": platform.os,
            "config": config,
            "rootfs": {"type": "layers", "diff_ids": [diff_id.to_string()]},
        });
        if let Some(v) = &platform.variant {
            cfg["variant"] = json!(v);
        }
        let config = Bytes::from(serde_json::to_vec(&cfg).unwrap());
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": mt::OCI_MANIFEST,
            "config": Descriptor::of(mt::OCI_IMAGE_CONFIG, &config),
            "layers": [Descriptor::of(LAYER_TAR, &layer)],
        });
        TestImage {
            config,
            layer,
            manifest: Bytes::from(serde_json::to_vec_pretty(&manifest).unwrap()),
            platform,
        }
    }

    pub fn digest(&self) -> Digest {
        Digest::sha256(&self.manifest)
    }

    pub fn descriptor(&self) -> Descriptor {
        Descriptor::of(mt::OCI_MANIFEST, &self.manifest)
    }

    /// Pushes blobs and manifest, tagging it `tag`; returns the manifest digest.
    pub async fn push(&self, client: &RegistryClient, repo: &Repository, tag: &str) -> Digest {
        client
            .push_blob(repo, mt::OCI_IMAGE_CONFIG, self.config.clone())
            .await
            .unwrap();
        client
            .push_blob(repo, LAYER_TAR, self.layer.clone())
            .await
            .unwrap();
        let d = client
            .push_manifest(repo, tag, mt::OCI_MANIFEST, self.manifest.clone())
            .await
            .unwrap();
        assert_eq!(d, self.digest());
        d
    }
}

/// Pushes `images` and an OCI index over them tagged `tag`; returns the
/// index's descriptor.
pub async fn push_index(
    client: &RegistryClient,
    repo: &Repository,
    tag: &str,
    images: &[TestImage],
) -> Descriptor {
    let mut manifests = Vec::new();
    for img in images {
        img.push(client, repo, &img.digest().to_string()).await;
        let mut d = img.descriptor();
        d.platform = Some(img.platform.clone());
        manifests.push(d);
    }
    let index = json!({"schemaVersion": 2, "mediaType": mt::OCI_INDEX, "manifests": manifests});
    let bytes = Bytes::from(serde_json::to_vec(&index).unwrap());
    client
        .push_manifest(repo, tag, mt::OCI_INDEX, bytes.clone())
        .await
        .unwrap();
    Descriptor::of(mt::OCI_INDEX, &bytes)
}

/// Pushes a signature-shaped manifest: `config` (media type, bytes), one
/// layer (media type, bytes), optional `artifactType`, `subject` and
/// annotations, under `tag` (or by digest). Returns its descriptor, with the
/// artifact type the referrers API would report.
#[allow(clippy::too_many_arguments)]
pub async fn push_signature_manifest(
    client: &RegistryClient,
    repo: &Repository,
    tag: Option<&str>,
    artifact_type: Option<&str>,
    config: (&str, &[u8]),
    layer: (&str, &[u8]),
    subject: Option<&Descriptor>,
    annotations: &BTreeMap<String, String>,
) -> Descriptor {
    let config_desc = client
        .push_blob(repo, config.0, Bytes::copy_from_slice(config.1))
        .await
        .unwrap();
    let mut layer_desc = client
        .push_blob(repo, layer.0, Bytes::copy_from_slice(layer.1))
        .await
        .unwrap();
    layer_desc.annotations = annotations.clone();
    let mut m = json!({
        "schemaVersion": 2,
        "mediaType": mt::OCI_MANIFEST,
        "config": config_desc,
        "layers": [layer_desc],
    });
    if let Some(t) = artifact_type {
        m["artifactType"] = json!(t);
    }
    if let Some(s) = subject {
        m["subject"] = json!(s);
    }
    let bytes = Bytes::from(serde_json::to_vec(&m).unwrap());
    let digest = Digest::sha256(&bytes);
    let reference = tag.map_or_else(|| digest.to_string(), str::to_string);
    client
        .push_manifest(repo, &reference, mt::OCI_MANIFEST, bytes.clone())
        .await
        .unwrap();
    let mut d = Descriptor::of(mt::OCI_MANIFEST, &bytes);
    d.artifact_type = Some(artifact_type.unwrap_or(config.0).to_string());
    d
}

/// Pushes the referrers tag schema index (`sha256-<hex>`) for `subject`
/// listing `referrers`, as a client does when the registry has no API.
pub async fn push_tag_schema_index(
    client: &RegistryClient,
    repo: &Repository,
    subject: &Digest,
    referrers: &[Descriptor],
) -> Digest {
    let index = json!({"schemaVersion": 2, "mediaType": mt::OCI_INDEX, "manifests": referrers});
    let bytes = Bytes::from(serde_json::to_vec(&index).unwrap());
    client
        .push_manifest(repo, &subject.referrers_tag(), mt::OCI_INDEX, bytes)
        .await
        .unwrap()
}

/// A ustar archive holding one regular file, as the OCI layer format wants.
fn tar_with_file(name: &str, data: &[u8]) -> Vec<u8> {
    let mut header = [0u8; 512];
    header[..name.len()].copy_from_slice(name.as_bytes());
    let octal = |field: &mut [u8], value: u64| {
        let s = format!("{:0width$o}\0", value, width = field.len() - 1);
        field.copy_from_slice(s.as_bytes());
    };
    octal(&mut header[100..108], 0o755);
    octal(&mut header[108..116], 0);
    octal(&mut header[116..124], 0);
    octal(&mut header[124..136], data.len() as u64);
    octal(&mut header[136..148], 0);
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    header[148..156].copy_from_slice(b"        ");
    let sum: u64 = header.iter().map(|b| u64::from(*b)).sum();
    let s = format!("{sum:06o}\0 ");
    header[148..156].copy_from_slice(s.as_bytes());
    let mut out = header.to_vec();
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out.extend_from_slice(&[0u8; 1024]);
    out
}
