//! OCI and Docker manifests and indexes, parsed from untrusted bytes into
//! checked types. Only the fields verification needs are typed; the raw bytes
//! travel beside them (see [`crate::Fetched`]) so digests are always computed
//! over exactly what the registry sent.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::media_types as mt;
use crate::platform::Platform;

/// Bounds on what a parsed manifest may hold: a registry is untrusted input.
pub const MAX_DESCRIPTORS: usize = 10_000;

/// A content descriptor: what a manifest says about a blob or manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

impl Descriptor {
    pub fn new(media_type: &str, digest: Digest, size: u64) -> Descriptor {
        Descriptor {
            media_type: media_type.to_string(),
            digest,
            size,
            artifact_type: None,
            annotations: BTreeMap::new(),
            platform: None,
            data: None,
        }
    }

    /// The descriptor of `bytes` under `media_type`.
    pub fn of(media_type: &str, bytes: &[u8]) -> Descriptor {
        Descriptor::new(media_type, Digest::sha256(bytes), bytes.len() as u64)
    }
}

/// An image manifest (OCI or Docker schema 2). Signature manifests of both
/// Notary and Cosign are image manifests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    pub config: Descriptor,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl ImageManifest {
    /// The artifact type as the referrers API reports it: `artifactType`, or
    /// the config media type when that is absent.
    pub fn effective_artifact_type(&self) -> &str {
        self.artifact_type
            .as_deref()
            .unwrap_or(&self.config.media_type)
    }
}

/// An image index (OCI) or manifest list (Docker). Referrers responses and
/// the referrers tag schema are indexes too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl ImageIndex {
    /// The manifest for `platform`, chosen as containerd does: the first entry
    /// whose platform matches (see [`Platform::matches`]).
    pub fn manifest_for(&self, platform: &Platform) -> Option<&Descriptor> {
        self.manifests
            .iter()
            .find(|d| d.platform.as_ref().is_some_and(|p| platform.matches(p)))
    }
}

/// A manifest of either shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Manifest {
    Image(Box<ImageManifest>),
    Index(Box<ImageIndex>),
}

/// Why bytes are not a manifest this client accepts.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("media type {0:?} is not an OCI or Docker schema 2 manifest or index")]
    UnsupportedMediaType(String),
    #[error("manifest is not valid JSON of its type: {0}")]
    Json(#[from] serde_json::Error),
    #[error("schemaVersion is {0}, expected 2")]
    SchemaVersion(u32),
    #[error("the body says mediaType {body:?} but it was served as {served:?}")]
    MediaTypeConflict { served: String, body: String },
    #[error("manifest lists {0} descriptors, more than the limit of {MAX_DESCRIPTORS}")]
    TooManyDescriptors(usize),
}

impl Manifest {
    /// Parses `bytes` served as `media_type` (the `Content-Type`, or the
    /// descriptor's media type). When the registry gives no usable type, the
    /// body's own `mediaType` decides, and without one the presence of
    /// `manifests` or `config` does, as containerd does.
    pub fn parse(media_type: Option<&str>, bytes: &[u8]) -> Result<Manifest, ManifestError> {
        let served = media_type
            .map(|m| m.split(';').next().unwrap_or(m).trim())
            .filter(|m| !m.is_empty() && *m != "application/json" && *m != "text/plain");
        let kind = match served {
            Some(m) => kind_of(m)?,
            None => sniff(bytes)?,
        };
        let manifest = match kind {
            Kind::Image => Manifest::Image(Box::new(serde_json::from_slice(bytes)?)),
            Kind::Index => Manifest::Index(Box::new(serde_json::from_slice(bytes)?)),
        };
        manifest.check(served)?;
        Ok(manifest)
    }

    /// The media type of this manifest: its own `mediaType`, else the OCI type
    /// of its shape.
    pub fn media_type(&self) -> &str {
        match self {
            Manifest::Image(m) => m.media_type.as_deref().unwrap_or(mt::OCI_MANIFEST),
            Manifest::Index(i) => i.media_type.as_deref().unwrap_or(mt::OCI_INDEX),
        }
    }

    pub fn as_image(&self) -> Option<&ImageManifest> {
        match self {
            Manifest::Image(m) => Some(m),
            Manifest::Index(_) => None,
        }
    }

    pub fn as_index(&self) -> Option<&ImageIndex> {
        match self {
            Manifest::Index(i) => Some(i),
            Manifest::Image(_) => None,
        }
    }

    fn check(&self, served: Option<&str>) -> Result<(), ManifestError> {
        let (schema, body_type, count) = match self {
            Manifest::Image(m) => (m.schema_version, m.media_type.as_deref(), m.layers.len()),
            Manifest::Index(i) => (i.schema_version, i.media_type.as_deref(), i.manifests.len()),
        };
        if schema != 2 {
            return Err(ManifestError::SchemaVersion(schema));
        }
        if count > MAX_DESCRIPTORS {
            return Err(ManifestError::TooManyDescriptors(count));
        }
        if let (Some(served), Some(body)) = (served, body_type)
            && served != body
        {
            return Err(ManifestError::MediaTypeConflict {
                served: served.to_string(),
                body: body.to_string(),
            });
        }
        Ok(())
    }
}

enum Kind {
    Image,
    Index,
}

fn kind_of(media_type: &str) -> Result<Kind, ManifestError> {
    match media_type {
        mt::OCI_MANIFEST | mt::DOCKER_MANIFEST => Ok(Kind::Image),
        mt::OCI_INDEX | mt::DOCKER_MANIFEST_LIST => Ok(Kind::Index),
        other => Err(ManifestError::UnsupportedMediaType(other.to_string())),
    }
}

fn sniff(bytes: &[u8]) -> Result<Kind, ManifestError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Probe {
        media_type: Option<String>,
        manifests: Option<serde::de::IgnoredAny>,
        config: Option<serde::de::IgnoredAny>,
    }
    let probe: Probe = serde_json::from_slice(bytes)?;
    match (probe.media_type, probe.manifests, probe.config) {
        (Some(m), _, _) => kind_of(&m),
        (None, Some(_), None) => Ok(Kind::Index),
        (None, None, Some(_)) => Ok(Kind::Image),
        _ => Err(ManifestError::UnsupportedMediaType(
            "(none: neither manifests nor config)".to_string(),
        )),
    }
}

#[cfg(test)]
mod tests;
