//! Finding what refers to an image: the OCI referrers API (filtered,
//! paginated by `Link`), the referrers tag schema when the API is missing,
//! and Cosign's legacy `.sig` tag.

use std::collections::HashSet;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, LINK};
use url::Url;

use crate::client::{Fetched, RegistryClient};
use crate::digest::Digest;
use crate::error::RegistryError;
use crate::manifest::{Descriptor, ImageManifest, Manifest};
use crate::media_types as mt;
use crate::reference::Repository;
use crate::transport::read_body;

/// Where a list of referrers came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferrersSource {
    /// The registry's referrers API.
    Api,
    /// The `<alg>-<hex>` tag index (the API answered 404).
    TagSchema,
    /// The API is missing and there is no tag index: nothing refers to it.
    NoneFound,
}

/// The referrers of one subject, filtered by artifact type when asked.
#[derive(Debug, Clone)]
pub struct Referrers {
    pub source: ReferrersSource,
    pub descriptors: Vec<Descriptor>,
}

/// What kind of signature an artifact is, from its artifact type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureKind {
    Notary,
    SigstoreBundle,
    CosignLegacy,
    Other(String),
}

impl SignatureKind {
    pub fn of_artifact_type(artifact_type: Option<&str>) -> SignatureKind {
        match artifact_type {
            Some(mt::NOTARY_SIGNATURE) => SignatureKind::Notary,
            Some(t) if t.starts_with(mt::SIGSTORE_BUNDLE_PREFIX) => SignatureKind::SigstoreBundle,
            Some(t) => SignatureKind::Other(t.to_string()),
            None => SignatureKind::Other(String::new()),
        }
    }
}

/// Everything found that may sign one subject.
#[derive(Debug, Clone)]
pub struct Discovery {
    pub subject: Digest,
    pub referrers: Referrers,
    pub cosign_legacy: Option<Fetched<ImageManifest>>,
}

impl Discovery {
    /// Each candidate with its kind: referrers first, then the `.sig` manifest.
    pub fn candidates(&self) -> Vec<(SignatureKind, Descriptor)> {
        let mut out: Vec<_> = self
            .referrers
            .descriptors
            .iter()
            .map(|d| {
                (
                    SignatureKind::of_artifact_type(d.artifact_type.as_deref()),
                    d.clone(),
                )
            })
            .collect();
        if let Some(sig) = &self.cosign_legacy {
            out.push((SignatureKind::CosignLegacy, sig.descriptor()));
        }
        out
    }
}

impl RegistryClient {
    /// The referrers of `subject`, from the referrers API, or from the tag
    /// schema when the API answers 404 (as oras-go and notation do). With
    /// `artifact_type`, only referrers of that type are returned; the filter is
    /// applied here when the registry does not say it applied it.
    pub async fn referrers(
        &self,
        repo: &Repository,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Referrers, RegistryError> {
        match self.referrers_api(repo, subject, artifact_type).await? {
            Some(descriptors) => Ok(Referrers {
                source: ReferrersSource::Api,
                descriptors,
            }),
            None => {
                self.referrers_tag_schema(repo, subject, artifact_type)
                    .await
            }
        }
    }

    /// Referrers and the Cosign `.sig` manifest of `subject`, fetched together.
    pub async fn discover(
        &self,
        repo: &Repository,
        subject: &Digest,
    ) -> Result<Discovery, RegistryError> {
        let (referrers, cosign_legacy) = tokio::join!(
            self.referrers(repo, subject, None),
            self.cosign_signature_manifest(repo, subject)
        );
        Ok(Discovery {
            subject: subject.clone(),
            referrers: referrers?,
            cosign_legacy: cosign_legacy?,
        })
    }

    /// `None` when the registry has no referrers API.
    async fn referrers_api(
        &self,
        repo: &Repository,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Option<Vec<Descriptor>>, RegistryError> {
        let limits = self.config().limits.clone();
        let timeout = self.config().timeouts.request;
        let mut path = format!("/v2/{}/referrers/{subject}", repo.name());
        if let Some(t) = artifact_type {
            let q: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("artifactType", t)
                .finish();
            path = format!("{path}?{q}");
        }
        let mut req = self.request_get(repo, &path, &[mt::OCI_INDEX])?;
        let origin = req.url.clone();
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for page in 0..limits.referrers_pages {
            let url = req.url.to_string();
            let resp = self.send_request(&req).await?;
            if resp.status() == StatusCode::NOT_FOUND && page == 0 {
                // Read the (small) body so the connection is reused.
                let _ = read_body(resp, limits.error_body_bytes, &url, timeout).await;
                return Ok(None);
            }
            let resp = self.expect_ok(resp, &url).await?;
            let is_index = resp
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|ct| ct.split(';').next().unwrap_or("").trim() == mt::OCI_INDEX);
            if !is_index && page == 0 {
                // Not an index: this registry has no referrers API (oras-go's rule).
                return Ok(None);
            }
            let filtered = resp
                .headers()
                .get_all("oci-filters-applied")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .any(|f| f.trim() == "artifactType");
            let next = next_link(&resp, &req.url, &origin)?;
            let raw = read_body(resp, limits.manifest_bytes, &url, timeout).await?;
            let index = parse_index(&url, &raw)?;
            out.extend(
                index
                    .manifests
                    .into_iter()
                    .filter(|d| filtered || wanted(d, artifact_type)),
            );
            if out.len() > limits.referrers_total {
                return Err(RegistryError::Referrers {
                    url,
                    detail: format!("more than {} referrers", limits.referrers_total),
                });
            }
            match next {
                None => return Ok(Some(out)),
                Some(next) => {
                    if !seen.insert(next.clone()) {
                        return Err(RegistryError::Referrers {
                            url,
                            detail: "pagination loops back to a page already read".into(),
                        });
                    }
                    req.url = next;
                }
            }
        }
        Err(RegistryError::Referrers {
            url: origin.to_string(),
            detail: format!("more than {} pages", limits.referrers_pages),
        })
    }

    async fn referrers_tag_schema(
        &self,
        repo: &Repository,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Referrers, RegistryError> {
        let tag = subject.referrers_tag();
        let Some(fetched) = self.manifest_if_tagged(repo, &tag).await? else {
            return Ok(Referrers {
                source: ReferrersSource::NoneFound,
                descriptors: Vec::new(),
            });
        };
        let url = format!("{repo}:{tag}");
        let Manifest::Index(index) = fetched.parsed else {
            return Err(RegistryError::Referrers {
                url,
                detail: "the referrers tag holds an image manifest, not an index".into(),
            });
        };
        if index.manifests.len() > self.config().limits.referrers_total {
            return Err(RegistryError::Referrers {
                url,
                detail: format!(
                    "more than {} referrers",
                    self.config().limits.referrers_total
                ),
            });
        }
        Ok(Referrers {
            source: ReferrersSource::TagSchema,
            descriptors: index
                .manifests
                .into_iter()
                .filter(|d| wanted(d, artifact_type))
                .collect(),
        })
    }
}

fn wanted(d: &Descriptor, artifact_type: Option<&str>) -> bool {
    artifact_type.is_none_or(|t| d.artifact_type.as_deref() == Some(t))
}

fn parse_index(url: &str, raw: &[u8]) -> Result<crate::manifest::ImageIndex, RegistryError> {
    match Manifest::parse(Some(mt::OCI_INDEX), raw) {
        Ok(Manifest::Index(i)) => Ok(*i),
        Ok(Manifest::Image(_)) => Err(RegistryError::Referrers {
            url: url.to_string(),
            detail: "not an index".into(),
        }),
        Err(e) => Err(RegistryError::Referrers {
            url: url.to_string(),
            detail: e.to_string(),
        }),
    }
}

/// The `rel="next"` target of a `Link` header, which must stay on the
/// registry's origin (a page must not send the client elsewhere).
fn next_link(
    resp: &reqwest::Response,
    current: &Url,
    origin: &Url,
) -> Result<Option<Url>, RegistryError> {
    for value in resp.headers().get_all(LINK) {
        let Ok(value) = value.to_str() else { continue };
        for link in value.split(',') {
            let mut parts = link.split(';');
            let target = parts.next().unwrap_or("").trim();
            let is_next = parts.any(|p| {
                let p = p.trim().replace(' ', "");
                p == "rel=\"next\"" || p == "rel=next"
            });
            if !is_next {
                continue;
            }
            let target = target.trim_start_matches('<').trim_end_matches('>');
            let next = current.join(target).map_err(|_| RegistryError::Referrers {
                url: current.to_string(),
                detail: format!("unparseable Link target {target:?}"),
            })?;
            if next.origin() != origin.origin() {
                return Err(RegistryError::Referrers {
                    url: current.to_string(),
                    detail: format!("Link points off the registry, to {next}"),
                });
            }
            return Ok(Some(next));
        }
    }
    Ok(None)
}
