//! A typed CRI `runtime.v1` client for tests, over unix sockets: the image
//! service and the runtime service each on their own socket, as the kubelet's
//! `--image-service-endpoint` and `--container-runtime-endpoint` (with
//! pullgate in place, the first is pullgate's socket and the second stays
//! containerd's).

use std::path::{Path, PathBuf};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use k8s_cri::v1::image_service_client::ImageServiceClient;
use k8s_cri::v1::runtime_service_client::RuntimeServiceClient;
use k8s_cri::v1::{
    AuthConfig, Image, ImageFsInfoRequest, ImageFsInfoResponse, ImageSpec, ImageStatusRequest,
    ListImagesRequest, PodSandboxConfig, PodSandboxMetadata, PullImageRequest, RemoveImageRequest,
    VersionRequest, VersionResponse,
};
use tonic::Status;
use tonic::transport::{Channel, Endpoint, Uri};

/// The kubelet's limit for CRI messages (16 MiB), both ways.
pub const MAX_MESSAGE_SIZE: usize = 16 << 20;
/// Deadline of every call.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// Clones share the connections; every call takes `&self`.
#[derive(Clone)]
pub struct CriClient {
    images: ImageServiceClient<Channel>,
    runtime: RuntimeServiceClient<Channel>,
}

impl CriClient {
    /// The image service on `image_socket`, the runtime service on
    /// `runtime_socket` (pass the same path twice for one endpoint).
    /// Connects lazily: an unreachable socket shows as `Unavailable` on the
    /// first call. Must be called within a tokio runtime, which must outlive
    /// the client.
    pub fn connect(image_socket: impl AsRef<Path>, runtime_socket: impl AsRef<Path>) -> CriClient {
        CriClient {
            images: ImageServiceClient::new(unix_channel(image_socket.as_ref()))
                .max_decoding_message_size(MAX_MESSAGE_SIZE)
                .max_encoding_message_size(MAX_MESSAGE_SIZE),
            runtime: RuntimeServiceClient::new(unix_channel(runtime_socket.as_ref()))
                .max_decoding_message_size(MAX_MESSAGE_SIZE)
                .max_encoding_message_size(MAX_MESSAGE_SIZE),
        }
    }

    /// The generated image-service client, for calls without a helper.
    pub fn images(&self) -> ImageServiceClient<Channel> {
        self.images.clone()
    }

    /// The generated runtime-service client, for calls without a helper.
    pub fn runtime(&self) -> RuntimeServiceClient<Channel> {
        self.runtime.clone()
    }

    /// RuntimeService `Version` (API `v1`), on the runtime socket.
    pub async fn version(&self) -> Result<VersionResponse, Status> {
        let request = VersionRequest {
            version: "v1".into(),
        };
        Ok(self.runtime().version(request).await?.into_inner())
    }

    /// `PullImage` as the kubelet sends it: `auth` as `AuthConfig`
    /// username/password; with `namespace`, a sandbox config naming the pod
    /// (`pullgate-test`) and its namespace. Returns `image_ref`.
    pub async fn pull(
        &self,
        image: &str,
        auth: Option<(&str, &str)>,
        namespace: Option<&str>,
    ) -> Result<String, Status> {
        self.pull_for_handler(image, auth, namespace, "").await
    }

    /// [`Self::pull`] for a RuntimeClass handler (`ImageSpec.runtime_handler`,
    /// KEP-4216; empty: the default one).
    pub async fn pull_for_handler(
        &self,
        image: &str,
        auth: Option<(&str, &str)>,
        namespace: Option<&str>,
        runtime_handler: &str,
    ) -> Result<String, Status> {
        let request = PullImageRequest {
            image: Some(ImageSpec {
                runtime_handler: runtime_handler.into(),
                ..spec(image)
            }),
            auth: auth.map(|(username, password)| AuthConfig {
                username: username.into(),
                password: password.into(),
                ..AuthConfig::default()
            }),
            sandbox_config: namespace.map(|ns| PodSandboxConfig {
                metadata: Some(PodSandboxMetadata {
                    name: "pullgate-test".into(),
                    uid: "pullgate-test-uid".into(),
                    namespace: ns.into(),
                    attempt: 0,
                }),
                ..PodSandboxConfig::default()
            }),
        };
        Ok(self
            .images()
            .pull_image(request)
            .await?
            .into_inner()
            .image_ref)
    }

    /// `ImageStatus` (not verbose): `None` when the runtime has no such image,
    /// which CRI answers with an empty response, not an error.
    pub async fn image_status(&self, image: &str) -> Result<Option<Image>, Status> {
        let request = ImageStatusRequest {
            image: Some(spec(image)),
            verbose: false,
        };
        Ok(self
            .images()
            .image_status(request)
            .await?
            .into_inner()
            .image)
    }

    pub async fn list_images(&self) -> Result<Vec<Image>, Status> {
        let request = ListImagesRequest { filter: None };
        Ok(self
            .images()
            .list_images(request)
            .await?
            .into_inner()
            .images)
    }

    /// `RemoveImage`; removing an absent image succeeds, as CRI says.
    pub async fn remove(&self, image: &str) -> Result<(), Status> {
        let request = RemoveImageRequest {
            image: Some(spec(image)),
        };
        self.images().remove_image(request).await?;
        Ok(())
    }

    pub async fn image_fs_info(&self) -> Result<ImageFsInfoResponse, Status> {
        let request = ImageFsInfoRequest {};
        Ok(self.images().image_fs_info(request).await?.into_inner())
    }
}

pub(crate) fn spec(image: &str) -> ImageSpec {
    ImageSpec {
        image: image.into(),
        ..ImageSpec::default()
    }
}

/// A channel whose connector dials `socket`; the URI is a placeholder that
/// only fills the `:authority` header.
fn unix_channel(socket: &Path) -> Channel {
    let socket: PathBuf = socket.to_path_buf();
    Endpoint::from_static("http://localhost")
        .timeout(CALL_TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .connect_with_connector_lazy(tower::service_fn(move |_: Uri| {
            let socket = socket.clone();
            async move {
                let stream = tokio::net::UnixStream::connect(socket).await?;
                Ok::<_, std::io::Error>(TokioIo::new(stream))
            }
        }))
}
