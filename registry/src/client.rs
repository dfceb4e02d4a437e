//! The registry client: resolve, fetch (digest-checked), discover, push.

use std::sync::Arc;

use bytes::Bytes;
use reqwest::header::{CONTENT_TYPE, LOCATION};
use reqwest::{Method, StatusCode};

use crate::config::{ClientConfig, Credentials};
use crate::digest::Digest;
use crate::error::RegistryError;
use crate::manifest::{Descriptor, ImageIndex, ImageManifest, Manifest};
use crate::media_types as mt;
use crate::platform::Platform;
use crate::reference::{ImageRef, Repository};
use crate::transport::{Request, Transport, error_code, read_body};

const DOCKER_CONTENT_DIGEST: &str = "docker-content-digest";

/// Bytes fetched from a registry, their digest (checked), the media type they
/// were served as, and what they parse to.
#[derive(Debug, Clone)]
pub struct Fetched<T> {
    pub raw: Bytes,
    pub digest: Digest,
    pub media_type: String,
    pub parsed: T,
}

impl<T> Fetched<T> {
    /// The OCI descriptor of these bytes (media type, digest, size).
    pub fn descriptor(&self) -> Descriptor {
        Descriptor::new(&self.media_type, self.digest.clone(), self.raw.len() as u64)
    }
}

/// A registry client. Cheap to clone; clones share connections and tokens.
#[derive(Clone)]
pub struct RegistryClient {
    transport: Arc<Transport>,
    call_credentials: Option<Arc<Credentials>>,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryClient")
            .field("call_credentials", &self.call_credentials.is_some())
            .finish_non_exhaustive()
    }
}

impl RegistryClient {
    pub fn new(config: ClientConfig) -> Result<RegistryClient, RegistryError> {
        Ok(RegistryClient {
            transport: Arc::new(Transport::new(config)?),
            call_credentials: None,
        })
    }

    /// A handle that uses `creds` (the kubelet's pull credentials, say) for
    /// the image's registry ahead of the configured ones, sharing everything
    /// else with `self`. Tokens are cached per credentials.
    pub fn with_credentials(&self, creds: Option<Credentials>) -> RegistryClient {
        RegistryClient {
            transport: Arc::clone(&self.transport),
            call_credentials: creds.map(Arc::new),
        }
    }

    pub fn config(&self) -> &ClientConfig {
        &self.transport.config
    }

    fn credentials(&self, repo: &Repository) -> Option<Credentials> {
        match &self.call_credentials {
            Some(c) => Some(Credentials::clone(c)),
            None => self
                .transport
                .config
                .configured_credentials(repo.registry()),
        }
    }

    async fn send(&self, req: &Request<'_>) -> Result<reqwest::Response, RegistryError> {
        let creds = self.credentials(req.repo);
        self.transport.send(req, creds.as_ref()).await
    }

    pub(crate) fn request_get<'a>(
        &self,
        repo: &'a Repository,
        path: &str,
        accept: &'a [&'a str],
    ) -> Result<Request<'a>, RegistryError> {
        Ok(Request {
            method: Method::GET,
            repo,
            url: self.transport.api_url(repo, path)?,
            accept,
            body: None,
            push: false,
        })
    }

    /// Resolves `image` to its manifest: by digest when the reference has one
    /// (checked against the bytes), else by tag (the digest is computed from
    /// the bytes and must agree with the registry's `Docker-Content-Digest`).
    pub async fn resolve(&self, image: &ImageRef) -> Result<Fetched<Manifest>, RegistryError> {
        self.manifest(image.repository(), &image.manifest_reference())
            .await
    }

    /// Fetches the manifest at `reference` (a tag or a digest).
    pub async fn manifest(
        &self,
        repo: &Repository,
        reference: &str,
    ) -> Result<Fetched<Manifest>, RegistryError> {
        let path = format!("/v2/{}/manifests/{reference}", repo.name());
        let req = self.request_get(repo, &path, mt::MANIFEST_ACCEPT)?;
        let url = req.url.to_string();
        let resp = self.send(&req).await?;
        let resp = self.expect_ok(resp, &url).await?;
        let served = header(&resp, CONTENT_TYPE.as_str());
        let registry_digest = header(&resp, DOCKER_CONTENT_DIGEST);
        let limits = &self.transport.config.limits;
        let raw = read_body(
            resp,
            limits.manifest_bytes,
            &url,
            self.transport.config.timeouts.request,
        )
        .await?;
        let digest = match reference.parse::<Digest>() {
            Ok(expected) => check_digest(&url, &expected, &raw)?,
            Err(_) => match registry_digest.as_deref().map(|v| (v, v.parse::<Digest>())) {
                Some((_, Ok(claimed))) => check_digest(&url, &claimed, &raw)?,
                // A header that cannot be checked is refused, not ignored.
                Some((value, Err(e))) => {
                    return Err(RegistryError::BadDigestHeader {
                        url,
                        value: value.chars().take(200).collect(),
                        detail: e.to_string(),
                    });
                }
                None => Digest::sha256(&raw),
            },
        };
        let parsed =
            Manifest::parse(served.as_deref(), &raw).map_err(|source| RegistryError::Manifest {
                url: url.clone(),
                source,
            })?;
        Ok(Fetched {
            media_type: parsed.media_type().to_string(),
            raw,
            digest,
            parsed,
        })
    }

    /// Fetches the manifest a descriptor points at and checks its digest and
    /// size against the descriptor.
    pub async fn manifest_for(
        &self,
        repo: &Repository,
        descriptor: &Descriptor,
    ) -> Result<Fetched<Manifest>, RegistryError> {
        let limit = self.transport.config.limits.manifest_bytes;
        if descriptor.size > limit {
            return Err(RegistryError::TooLarge {
                url: format!("{repo}@{}", descriptor.digest),
                limit,
                declared: Some(descriptor.size),
            });
        }
        let fetched = self.manifest(repo, &descriptor.digest.to_string()).await?;
        if fetched.raw.len() as u64 != descriptor.size {
            return Err(RegistryError::SizeMismatch {
                url: format!("{repo}@{}", descriptor.digest),
                expected: descriptor.size,
                actual: fetched.raw.len() as u64,
            });
        }
        Ok(fetched)
    }

    /// The manifest at `tag`, or `None` when the registry says there is none.
    pub async fn manifest_if_tagged(
        &self,
        repo: &Repository,
        tag: &str,
    ) -> Result<Option<Fetched<Manifest>>, RegistryError> {
        match self.manifest(repo, tag).await {
            Ok(m) => Ok(Some(m)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Fetches the blob `descriptor` names, refusing more than `limit` bytes
    /// (or the configured blob limit, whichever is smaller) and checking its
    /// size and digest against the descriptor.
    pub async fn blob(
        &self,
        repo: &Repository,
        descriptor: &Descriptor,
        limit: u64,
    ) -> Result<Bytes, RegistryError> {
        let limit = limit.min(self.transport.config.limits.blob_bytes);
        let path = format!("/v2/{}/blobs/{}", repo.name(), descriptor.digest);
        let req = self.request_get(repo, &path, &[])?;
        let url = req.url.to_string();
        if descriptor.size > limit {
            return Err(RegistryError::TooLarge {
                url,
                limit,
                declared: Some(descriptor.size),
            });
        }
        let resp = self.send(&req).await?;
        let resp = self.expect_ok(resp, &url).await?;
        let raw = read_body(
            resp,
            descriptor.size,
            &url,
            self.transport.config.timeouts.request,
        )
        .await?;
        if raw.len() as u64 != descriptor.size {
            return Err(RegistryError::SizeMismatch {
                url,
                expected: descriptor.size,
                actual: raw.len() as u64,
            });
        }
        check_digest(&url, &descriptor.digest, &raw)?;
        Ok(raw)
    }

    /// Cosign's legacy signature manifest for `subject` (tag
    /// `sha256-<hex>.sig`), or `None` when there is none.
    pub async fn cosign_signature_manifest(
        &self,
        repo: &Repository,
        subject: &Digest,
    ) -> Result<Option<Fetched<ImageManifest>>, RegistryError> {
        let Some(fetched) = self
            .manifest_if_tagged(repo, &subject.cosign_signature_tag())
            .await?
        else {
            return Ok(None);
        };
        match fetched.parsed {
            Manifest::Image(m) => Ok(Some(Fetched {
                raw: fetched.raw,
                digest: fetched.digest,
                media_type: fetched.media_type,
                parsed: *m,
            })),
            Manifest::Index(_) => Err(RegistryError::Manifest {
                url: format!("{repo}:{}", subject.cosign_signature_tag()),
                source: crate::manifest::ManifestError::UnsupportedMediaType(
                    "an index where Cosign stores an image manifest".to_string(),
                ),
            }),
        }
    }

    /// The manifest for `platform` in `index`, fetched and checked against
    /// the index entry; `None` when the index has no entry for it.
    pub async fn platform_manifest(
        &self,
        repo: &Repository,
        index: &ImageIndex,
        platform: &Platform,
    ) -> Result<Option<Fetched<Manifest>>, RegistryError> {
        match index.manifest_for(platform) {
            Some(d) => Ok(Some(self.manifest_for(repo, d).await?)),
            None => Ok(None),
        }
    }

    /// Turns a non-success response into its error (404 → `NotFound`).
    pub(crate) async fn expect_ok(
        &self,
        resp: reqwest::Response,
        url: &str,
    ) -> Result<reqwest::Response, RegistryError> {
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let code = error_code(resp, &self.transport.config).await;
        if status == StatusCode::NOT_FOUND {
            return Err(RegistryError::NotFound {
                url: url.to_string(),
                code: code.unwrap_or_else(|| "404".to_string()),
            });
        }
        Err(RegistryError::Status {
            url: url.to_string(),
            status: status.as_u16(),
            code,
        })
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.transport
    }

    pub(crate) async fn send_request(
        &self,
        req: &Request<'_>,
    ) -> Result<reqwest::Response, RegistryError> {
        self.send(req).await
    }

    pub(crate) fn location(resp: &reqwest::Response) -> Option<String> {
        header(resp, LOCATION.as_str())
    }
}

fn header(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn check_digest(url: &str, expected: &Digest, raw: &[u8]) -> Result<Digest, RegistryError> {
    let actual = Digest::compute(expected.algorithm(), raw);
    if actual == *expected {
        Ok(actual)
    } else {
        Err(RegistryError::DigestMismatch {
            url: url.to_string(),
            expected: expected.clone(),
            actual,
        })
    }
}
