//! Pushing blobs and manifests with plain distribution-spec requests
//! (monolithic blob upload, manifest PUT). Test support pushes images,
//! signature manifests and referrers indexes with it.

use bytes::Bytes;
use reqwest::{Method, StatusCode};
use url::Url;

use crate::client::RegistryClient;
use crate::digest::Digest;
use crate::error::RegistryError;
use crate::manifest::Descriptor;
use crate::reference::Repository;
use crate::transport::Request;

impl RegistryClient {
    /// Uploads `bytes` as a blob (skipped when the registry has it) and
    /// returns its descriptor with media type `media_type`.
    pub async fn push_blob(
        &self,
        repo: &Repository,
        media_type: &str,
        bytes: Bytes,
    ) -> Result<Descriptor, RegistryError> {
        let descriptor = Descriptor::of(media_type, &bytes);
        let head = Request {
            method: Method::HEAD,
            repo,
            url: self.transport().api_url(
                repo,
                &format!("/v2/{}/blobs/{}", repo.name(), descriptor.digest),
            )?,
            accept: &[],
            body: None,
            push: true,
        };
        if self.send_request(&head).await?.status() == StatusCode::OK {
            return Ok(descriptor);
        }
        let start = Request {
            method: Method::POST,
            repo,
            url: self
                .transport()
                .api_url(repo, &format!("/v2/{}/blobs/uploads/", repo.name()))?,
            accept: &[],
            body: None,
            push: true,
        };
        let start_url = start.url.clone();
        let resp = self.send_request(&start).await?;
        let location = RegistryClient::location(&resp);
        let resp = self.expect_ok(resp, start_url.as_str()).await?;
        let location = location.ok_or_else(|| RegistryError::Status {
            url: start_url.to_string(),
            status: resp.status().as_u16(),
            code: Some("no Location for the upload".into()),
        })?;
        let mut upload = start_url
            .join(&location)
            .map_err(|_| RegistryError::BadRedirect {
                from: start_url.to_string(),
                to: location.clone(),
                why: "unparseable upload Location",
            })?;
        if upload.origin() != start_url.origin() {
            return Err(RegistryError::BadRedirect {
                from: start_url.to_string(),
                to: upload.to_string(),
                why: "upload location is off the registry",
            });
        }
        upload
            .query_pairs_mut()
            .append_pair("digest", &descriptor.digest.to_string());
        self.put(repo, upload, bytes, "application/octet-stream")
            .await?;
        Ok(descriptor)
    }

    /// Puts a manifest at `reference` (a tag or its digest) and returns its
    /// digest, checked against the registry's `Docker-Content-Digest`.
    pub async fn push_manifest(
        &self,
        repo: &Repository,
        reference: &str,
        media_type: &'static str,
        bytes: Bytes,
    ) -> Result<Digest, RegistryError> {
        let digest = Digest::sha256(&bytes);
        let url = self
            .transport()
            .api_url(repo, &format!("/v2/{}/manifests/{reference}", repo.name()))?;
        let resp = self.put(repo, url.clone(), bytes, media_type).await?;
        if let Some(claimed) = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<Digest>().ok())
            && claimed != digest
        {
            return Err(RegistryError::DigestMismatch {
                url: url.to_string(),
                expected: digest,
                actual: claimed,
            });
        }
        Ok(digest)
    }

    async fn put(
        &self,
        repo: &Repository,
        url: Url,
        bytes: Bytes,
        content_type: &'static str,
    ) -> Result<reqwest::Response, RegistryError> {
        let req = Request {
            method: Method::PUT,
            repo,
            url,
            accept: &[],
            body: Some((bytes, content_type)),
            push: true,
        };
        let text = req.url.to_string();
        let resp = self.send_request(&req).await?;
        self.expect_ok(resp, &text).await
    }
}
