//! The seam between the verification engine and registries: everything the
//! engine reads goes through [`ArtifactSource`], so the engine can be tested
//! against an in-memory fake (see `pullgate-testsupport`) and the same code
//! runs against real registries.

use async_trait::async_trait;
use bytes::Bytes;

use crate::client::{Fetched, RegistryClient};
use crate::digest::Digest;
use crate::error::RegistryError;
use crate::manifest::{Descriptor, ImageManifest, Manifest};
use crate::reference::{ImageRef, Repository};
use crate::referrers::Referrers;

/// Read access to OCI content, with every digest checked by the implementor.
#[async_trait]
pub trait ArtifactSource: Send + Sync {
    /// The manifest `image` names (by digest, or by tag).
    async fn resolve(&self, image: &ImageRef) -> Result<Fetched<Manifest>, RegistryError>;

    /// The manifest a descriptor points at, checked against its digest and size.
    async fn manifest_for(
        &self,
        repo: &Repository,
        descriptor: &Descriptor,
    ) -> Result<Fetched<Manifest>, RegistryError>;

    /// A blob, at most `limit` bytes, checked against the descriptor.
    async fn blob(
        &self,
        repo: &Repository,
        descriptor: &Descriptor,
        limit: u64,
    ) -> Result<Bytes, RegistryError>;

    /// The referrers of `subject`, optionally of one artifact type.
    async fn referrers(
        &self,
        repo: &Repository,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Referrers, RegistryError>;

    /// Cosign's legacy `.sig` manifest for `subject`, if any.
    async fn cosign_signature_manifest(
        &self,
        repo: &Repository,
        subject: &Digest,
    ) -> Result<Option<Fetched<ImageManifest>>, RegistryError>;
}

#[async_trait]
impl ArtifactSource for RegistryClient {
    async fn resolve(&self, image: &ImageRef) -> Result<Fetched<Manifest>, RegistryError> {
        RegistryClient::resolve(self, image).await
    }

    async fn manifest_for(
        &self,
        repo: &Repository,
        descriptor: &Descriptor,
    ) -> Result<Fetched<Manifest>, RegistryError> {
        RegistryClient::manifest_for(self, repo, descriptor).await
    }

    async fn blob(
        &self,
        repo: &Repository,
        descriptor: &Descriptor,
        limit: u64,
    ) -> Result<Bytes, RegistryError> {
        RegistryClient::blob(self, repo, descriptor, limit).await
    }

    async fn referrers(
        &self,
        repo: &Repository,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Referrers, RegistryError> {
        RegistryClient::referrers(self, repo, subject, artifact_type).await
    }

    async fn cosign_signature_manifest(
        &self,
        repo: &Repository,
        subject: &Digest,
    ) -> Result<Option<Fetched<ImageManifest>>, RegistryError> {
        RegistryClient::cosign_signature_manifest(self, repo, subject).await
    }
}
