//! The tag record. containerd pulls the verified digest (`repo@sha256:…`),
//! which records the image under its digest only; the kubelet then asks
//! `ImageStatus(repo:tag)`. Copying containerd's digest record under the tag
//! name through containerd's images API (namespace `k8s.io`) makes the CRI
//! find the image by its tag at once (checked on containerd 1.6.20: the CRI
//! plugin follows the images service's create and update events).

use async_trait::async_trait;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue};

use crate::cri::{self, path};
use crate::grpc::code;
use crate::upstream::Upstream;

/// Names an image already pulled by digest under its tag too.
#[async_trait]
pub trait TagRecords: Send + Sync + 'static {
    /// Makes `tag_name` (`repo:tag`) name the same image as `digest_name`
    /// (`repo@sha256:…`, whose target must be `digest`), creating or
    /// replacing the record.
    async fn tag(
        &self,
        upstream: &Upstream,
        digest_name: &str,
        tag_name: &str,
        digest: &str,
    ) -> Result<(), String>;
}

/// containerd's images API (`containerd.services.images.v1.Images`) over
/// the same socket and connection the CRI calls go to.
pub struct ContainerdImages {
    metadata: HeaderMap,
}

/// The namespace the CRI plugin keeps Kubernetes' images in.
pub const K8S_NAMESPACE: &str = "k8s.io";

impl Default for ContainerdImages {
    fn default() -> ContainerdImages {
        ContainerdImages::new()
    }
}

impl ContainerdImages {
    pub fn new() -> ContainerdImages {
        let mut metadata = HeaderMap::new();
        metadata.insert(
            "containerd-namespace",
            HeaderValue::from_static(K8S_NAMESPACE),
        );
        // Bounded: the tag record is a metadata write.
        metadata.insert("grpc-timeout", HeaderValue::from_static("10S"));
        ContainerdImages { metadata }
    }

    async fn call(
        &self,
        upstream: &Upstream,
        path: &str,
        message: Bytes,
    ) -> Result<(u32, Option<Bytes>, String), String> {
        let response = upstream
            .unary(path, &self.metadata, message)
            .await
            .map_err(|e| format!("{path}: {e}"))?;
        let status = response.status();
        let message = response.status_message().unwrap_or_default();
        Ok((status, response.message, message))
    }
}

#[async_trait]
impl TagRecords for ContainerdImages {
    async fn tag(
        &self,
        upstream: &Upstream,
        digest_name: &str,
        tag_name: &str,
        digest: &str,
    ) -> Result<(), String> {
        let (status, body, msg) = self
            .call(
                upstream,
                path::CONTAINERD_IMAGE_GET,
                cri::containerd_get_request(digest_name),
            )
            .await?;
        if status != code::OK {
            return Err(format!(
                "containerd has no image {digest_name}: {msg} (gRPC status {status})"
            ));
        }
        let body = body.unwrap_or_default();
        let image = cri::containerd_response_image(&body)
            .map_err(|e| format!("containerd's image {digest_name}: {e}"))?
            .ok_or_else(|| format!("containerd's answer for {digest_name} has no image"))?;
        let target = cri::containerd_image_digest(image)
            .map_err(|e| format!("containerd's image {digest_name}: {e}"))?;
        if target != Some(digest) {
            return Err(format!(
                "containerd's image {digest_name} targets {}, not the verified {digest}",
                target.unwrap_or("nothing")
            ));
        }
        let request = cri::containerd_copy_request(image, tag_name)
            .map_err(|e| format!("copying {digest_name}: {e}"))?;
        let (status, _, msg) = self
            .call(upstream, path::CONTAINERD_IMAGE_CREATE, request.clone())
            .await?;
        let (status, msg) = if status == code::ALREADY_EXISTS {
            // An empty update mask replaces the whole record: the tag moves.
            let (s, _, m) = self
                .call(upstream, path::CONTAINERD_IMAGE_UPDATE, request)
                .await?;
            (s, m)
        } else {
            (status, msg)
        };
        if status != code::OK {
            return Err(format!(
                "recording {tag_name}: {msg} (gRPC status {status})"
            ));
        }
        Ok(())
    }
}
