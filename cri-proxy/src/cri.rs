//! The few CRI `runtime.v1` and containerd `images.v1` messages the proxy
//! reads or writes, by their published field numbers (cri-api
//! `pkg/apis/runtime/v1/api.proto`, containerd `api/services/images/v1`).
//! Everything else passes through as bytes.

use bytes::Bytes;
use pullgate_registry::AuthFields;
use pullgate_verify::PodContext;

use crate::proto::{self, ProtoError, Value};

/// Method paths.
pub mod path {
    pub const IMAGE_SERVICE_PREFIX: &str = "/runtime.v1.ImageService/";
    pub const PULL_IMAGE: &str = "/runtime.v1.ImageService/PullImage";
    pub const IMAGE_STATUS: &str = "/runtime.v1.ImageService/ImageStatus";
    pub const LIST_IMAGES: &str = "/runtime.v1.ImageService/ListImages";
    pub const REMOVE_IMAGE: &str = "/runtime.v1.ImageService/RemoveImage";
    pub const IMAGE_FS_INFO: &str = "/runtime.v1.ImageService/ImageFsInfo";
    pub const CONTAINERD_IMAGE_GET: &str = "/containerd.services.images.v1.Images/Get";
    pub const CONTAINERD_IMAGE_CREATE: &str = "/containerd.services.images.v1.Images/Create";
    pub const CONTAINERD_IMAGE_UPDATE: &str = "/containerd.services.images.v1.Images/Update";
}

/// `PullImageRequest { ImageSpec image = 1; AuthConfig auth = 2; PodSandboxConfig sandbox_config = 3; }`
mod pull_request {
    pub const IMAGE: u32 = 1;
    pub const AUTH: u32 = 2;
    pub const SANDBOX_CONFIG: u32 = 3;
}
/// `ImageSpec { string image = 1; ...; string runtime_handler = 19; }`
const IMAGE_SPEC_IMAGE: u32 = 1;
const IMAGE_SPEC_RUNTIME_HANDLER: u32 = 19;
/// `AuthConfig { username = 1; password = 2; auth = 3; server_address = 4; identity_token = 5; registry_token = 6; }`
mod auth_config {
    pub const USERNAME: u32 = 1;
    pub const PASSWORD: u32 = 2;
    pub const AUTH: u32 = 3;
    pub const IDENTITY_TOKEN: u32 = 5;
    pub const REGISTRY_TOKEN: u32 = 6;
}
/// `PodSandboxConfig { PodSandboxMetadata metadata = 1; ... }`,
/// `PodSandboxMetadata { name = 1; uid = 2; namespace = 3; attempt = 4; }`
const SANDBOX_METADATA: u32 = 1;
const METADATA_NAME: u32 = 1;
const METADATA_NAMESPACE: u32 = 3;
/// `PullImageResponse { string image_ref = 1; }`
const PULL_RESPONSE_IMAGE_REF: u32 = 1;
/// `ImageStatusRequest { ImageSpec image = 1; bool verbose = 2; }`,
/// `ImageStatusResponse { Image image = 1; map<string,string> info = 2; }`
const STATUS_IMAGE: u32 = 1;
/// `Image { string id = 1; repeated string repo_tags = 2; repeated string repo_digests = 3; ... }`
mod image {
    pub const ID: u32 = 1;
    pub const REPO_TAGS: u32 = 2;
    pub const REPO_DIGESTS: u32 = 3;
}
/// containerd `Image { string name = 1; labels = 2; Descriptor target = 3; ... }`,
/// `Descriptor { media_type = 1; digest = 2; size = 3; }`, and the requests
/// `GetImageRequest { name = 1 }`, `GetImageResponse { image = 1 }`,
/// `CreateImageRequest { image = 1 }`, `UpdateImageRequest { image = 1; update_mask = 2 }`.
mod containerd_image {
    pub const NAME: u32 = 1;
    pub const TARGET: u32 = 3;
    pub const TARGET_DIGEST: u32 = 2;
    pub const MESSAGE_IMAGE: u32 = 1;
}

/// What a `PullImageRequest` asks, read without touching the rest.
pub struct PullRequest {
    pub image: String,
    /// `ImageSpec.runtime_handler` (KEP-4216): the RuntimeClass handler the
    /// image is pulled for, which can choose another platform (empty: the
    /// default handler).
    pub runtime_handler: String,
    /// The kubelet's credentials for the image's registry (never logged).
    pub auth: AuthFields,
    pub pod: PodContext,
}

impl std::fmt::Debug for PullRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PullRequest")
            .field("image", &self.image)
            .field("runtime_handler", &self.runtime_handler)
            .field("pod", &self.pod)
            .finish_non_exhaustive()
    }
}

fn string_opt(message: &[u8], number: u32) -> Result<Option<String>, ProtoError> {
    Ok(proto::string_field(message, number)?.map(str::to_owned))
}

impl PullRequest {
    pub fn parse(message: &[u8]) -> Result<PullRequest, ProtoError> {
        let image = proto::string_at(message, &[pull_request::IMAGE, IMAGE_SPEC_IMAGE])?
            .unwrap_or_default()
            .to_string();
        let auth = match proto::bytes_field(message, pull_request::AUTH)? {
            Some(a) => AuthFields {
                username: string_opt(a, auth_config::USERNAME)?,
                password: string_opt(a, auth_config::PASSWORD)?,
                auth: string_opt(a, auth_config::AUTH)?,
                identity_token: string_opt(a, auth_config::IDENTITY_TOKEN)?,
                registry_token: string_opt(a, auth_config::REGISTRY_TOKEN)?,
            },
            None => AuthFields::default(),
        };
        let pod = match proto::bytes_at(message, &[pull_request::SANDBOX_CONFIG, SANDBOX_METADATA])?
        {
            Some(m) => PodContext {
                namespace: string_opt(m, METADATA_NAMESPACE)?,
                name: string_opt(m, METADATA_NAME)?,
            },
            None => PodContext::default(),
        };
        let runtime_handler =
            proto::string_at(message, &[pull_request::IMAGE, IMAGE_SPEC_RUNTIME_HANDLER])?
                .unwrap_or_default()
                .to_string();
        Ok(PullRequest {
            image,
            runtime_handler,
            auth,
            pod,
        })
    }

    /// The request with its image reference replaced by `image`, every
    /// other byte kept.
    pub fn with_image(message: &[u8], image: &str) -> Result<Vec<u8>, ProtoError> {
        proto::splice(
            message,
            &[pull_request::IMAGE, IMAGE_SPEC_IMAGE],
            image.as_bytes(),
        )
    }
}

/// The `image_ref` of a `PullImageResponse`.
pub fn pull_response_image_ref(message: &[u8]) -> Result<Option<String>, ProtoError> {
    string_opt(message, PULL_RESPONSE_IMAGE_REF)
}

/// A `PullImageResponse` naming `image_ref`.
pub fn pull_response(image_ref: &str) -> Bytes {
    let mut out = Vec::new();
    proto::encode_len_field(PULL_RESPONSE_IMAGE_REF, image_ref.as_bytes(), &mut out);
    Bytes::from(out)
}

/// The image an `ImageStatusRequest` asks about.
pub fn status_request_image(message: &[u8]) -> Result<String, ProtoError> {
    status_request_str(message).map(str::to_owned)
}

/// [`status_request_image`] without copying.
pub(crate) fn status_request_str(message: &[u8]) -> Result<&str, ProtoError> {
    Ok(proto::string_at(message, &[STATUS_IMAGE, IMAGE_SPEC_IMAGE])?.unwrap_or_default())
}

/// An `ImageStatusRequest` for `image` (not verbose).
pub fn status_request(image: &str) -> Bytes {
    let mut spec = Vec::new();
    proto::encode_len_field(IMAGE_SPEC_IMAGE, image.as_bytes(), &mut spec);
    let mut out = Vec::new();
    proto::encode_len_field(STATUS_IMAGE, &spec, &mut out);
    Bytes::from(out)
}

/// The `ImageStatusResponse` that says "not present": no image, no info.
pub fn status_absent() -> Bytes {
    Bytes::new()
}

/// What the proxy reads of a CRI `Image`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImageInfo {
    /// `sha256:<config digest>` on containerd.
    pub id: String,
    pub repo_tags: Vec<String>,
    /// `repo@sha256:<manifest or index digest>`.
    pub repo_digests: Vec<String>,
}

/// [`ImageInfo`] borrowed from the message: what `ImageStatus` reads on every call.
pub(crate) struct ImageView<'a> {
    pub(crate) id: &'a str,
    pub(crate) repo_tags: Vec<&'a str>,
    pub(crate) repo_digests: Vec<&'a str>,
}

impl<'a> ImageView<'a> {
    /// Reads `id` (at most once), `repo_tags` and `repo_digests` in one pass over the message.
    /// It accepts what reading each field on its own (`string_field`, `repeated_bytes`) accepts
    /// and refuses what that refuses; of a message with several problems it may name another.
    fn parse(image: &'a [u8]) -> Result<ImageView<'a>, ProtoError> {
        let mut id: Option<&'a [u8]> = None;
        let mut tags = Vec::new();
        let mut digests = Vec::new();
        for field in proto::fields(image) {
            let field = field?;
            let number = field.number;
            let payload = match (number, field.value) {
                (image::ID | image::REPO_TAGS | image::REPO_DIGESTS, Value::Len(payload)) => {
                    payload
                }
                (image::ID | image::REPO_TAGS | image::REPO_DIGESTS, other) => {
                    return Err(ProtoError::WrongWireType {
                        number,
                        found: other.wire_type(),
                    });
                }
                _ => continue,
            };
            match number {
                image::ID if id.is_some() => {
                    return Err(ProtoError::Duplicate {
                        number,
                        offset: field.range.start,
                    });
                }
                image::ID => id = Some(payload),
                image::REPO_TAGS => tags.push(payload),
                _ => digests.push(payload),
            }
        }
        let text = |number: u32, bytes: &'a [u8]| {
            std::str::from_utf8(bytes).map_err(|_| ProtoError::NotUtf8 { number })
        };
        let texts = |number: u32, list: Vec<&'a [u8]>| -> Result<Vec<&'a str>, ProtoError> {
            list.into_iter().map(|b| text(number, b)).collect()
        };
        Ok(ImageView {
            id: id
                .map(|b| text(image::ID, b))
                .transpose()?
                .unwrap_or_default(),
            repo_tags: texts(image::REPO_TAGS, tags)?,
            repo_digests: texts(image::REPO_DIGESTS, digests)?,
        })
    }
}

/// The image an `ImageStatusResponse` reports, None when it is absent.
pub fn status_response_image(message: &[u8]) -> Result<Option<ImageInfo>, ProtoError> {
    let owned = |v: Vec<&str>| v.into_iter().map(str::to_owned).collect();
    Ok(status_response_view(message)?.map(|view| ImageInfo {
        id: view.id.to_owned(),
        repo_tags: owned(view.repo_tags),
        repo_digests: owned(view.repo_digests),
    }))
}

/// [`status_response_image`] without copying.
pub(crate) fn status_response_view(message: &[u8]) -> Result<Option<ImageView<'_>>, ProtoError> {
    proto::bytes_field(message, STATUS_IMAGE)?
        .map(ImageView::parse)
        .transpose()
}

/// containerd's `GetImageRequest { name }`.
pub fn containerd_get_request(name: &str) -> Bytes {
    let mut out = Vec::new();
    proto::encode_len_field(containerd_image::NAME, name.as_bytes(), &mut out);
    Bytes::from(out)
}

/// The `Image` inside a containerd Get/Create/Update response.
pub fn containerd_response_image(message: &[u8]) -> Result<Option<&[u8]>, ProtoError> {
    proto::bytes_field(message, containerd_image::MESSAGE_IMAGE)
}

/// The target digest of a containerd `Image`.
pub fn containerd_image_digest(image: &[u8]) -> Result<Option<&str>, ProtoError> {
    proto::string_at(
        image,
        &[containerd_image::TARGET, containerd_image::TARGET_DIGEST],
    )
}

/// A Create (or Update, whose empty mask replaces the whole record) request
/// for a copy of the containerd `image` record under `name`: labels and
/// target kept byte for byte.
pub fn containerd_copy_request(image: &[u8], name: &str) -> Result<Bytes, ProtoError> {
    let renamed = proto::splice(image, &[containerd_image::NAME], name.as_bytes())?;
    let mut out = Vec::new();
    proto::encode_len_field(containerd_image::MESSAGE_IMAGE, &renamed, &mut out);
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn len(n: u32, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        proto::encode_len_field(n, payload, &mut out);
        out
    }

    fn pull_request_bytes() -> Vec<u8> {
        let spec = [
            len(1, b"example.com/app:1"),
            len(2, &len(1, b"k")),
            len(99, b"unknown"),
        ]
        .concat();
        let auth = [len(1, b"user"), len(2, b"hunter2"), len(4, b"example.com")].concat();
        let meta = [len(1, b"web-0"), len(2, b"uid"), len(3, b"prod")].concat();
        let sandbox = [len(1, &meta), len(5, b"log")].concat();
        [
            len(1, &spec),
            len(2, &auth),
            len(3, &sandbox),
            len(42, b"future"),
        ]
        .concat()
    }

    #[test]
    fn a_pull_request_is_read_and_spliced() {
        let bytes = pull_request_bytes();
        let r = PullRequest::parse(&bytes).unwrap();
        assert_eq!(r.image, "example.com/app:1");
        assert_eq!(r.pod, PodContext::new("prod", "web-0"));
        assert_eq!(r.auth.username.as_deref(), Some("user"));
        assert!(!format!("{r:?}").contains("hunter2"));
        let pinned = format!("example.com/app@sha256:{}", "a".repeat(64));
        let spliced = PullRequest::with_image(&bytes, &pinned).unwrap();
        let again = PullRequest::parse(&spliced).unwrap();
        assert_eq!(again.image, pinned);
        assert_eq!(again.pod, r.pod);
        // Unknown fields, in the spec and at the top, are still there.
        let spec = proto::bytes_field(&spliced, 1).unwrap().unwrap();
        assert_eq!(proto::bytes_field(spec, 99).unwrap(), Some(&b"unknown"[..]));
        assert_eq!(
            proto::bytes_field(&spliced, 42).unwrap(),
            Some(&b"future"[..])
        );
    }

    #[test]
    fn status_messages() {
        assert_eq!(status_request_image(&status_request("a:1")).unwrap(), "a:1");
        assert_eq!(status_response_image(&status_absent()).unwrap(), None);
        let img = [
            len(1, b"sha256:abc"),
            len(2, b"a:1"),
            len(2, b"a:2"),
            len(3, b"a@sha256:def"),
            vec![0x20, 0x05],
        ]
        .concat();
        let info = status_response_image(&[len(1, &img), len(2, &len(1, b"k"))].concat())
            .unwrap()
            .unwrap();
        assert_eq!(info.id, "sha256:abc");
        assert_eq!(info.repo_tags, ["a:1", "a:2"]);
        assert_eq!(info.repo_digests, ["a@sha256:def"]);
        assert_eq!(
            pull_response_image_ref(&pull_response("sha256:abc"))
                .unwrap()
                .as_deref(),
            Some("sha256:abc")
        );
    }

    /// What `ImageView::parse` replaced: each field read on its own.
    fn image_fieldwise(image: &[u8]) -> Result<ImageInfo, ProtoError> {
        let strings = |n: u32| -> Result<Vec<String>, ProtoError> {
            proto::repeated_bytes(image, n)?
                .into_iter()
                .map(|b| {
                    std::str::from_utf8(b)
                        .map(str::to_owned)
                        .map_err(|_| ProtoError::NotUtf8 { number: n })
                })
                .collect()
        };
        Ok(ImageInfo {
            id: string_opt(image, image::ID)?.unwrap_or_default(),
            repo_tags: strings(image::REPO_TAGS)?,
            repo_digests: strings(image::REPO_DIGESTS)?,
        })
    }

    #[test]
    fn the_one_pass_image_reader_agrees_with_reading_field_by_field() {
        // Fields 1-4 with every wire type, duplicates, bad UTF-8, truncation, from a fixed
        // pseudo-random sequence.
        let pieces: Vec<Vec<u8>> = vec![
            len(1, b"sha256:abc"),
            len(1, b"sha256:def"),
            len(2, b"a:1"),
            len(2, b"\xff"),
            len(3, b"a@sha256:def"),
            len(3, b"\xfe\xff"),
            len(4, b"x"),
            vec![0x08, 0x01],
            vec![0x10, 0x01],
            vec![0x18, 0x01],
            vec![0x20, 0x05],
            vec![0x0d, 1, 2, 3, 4],
            vec![0x0b, 0x0c],
            vec![0x0a, 0x05, 0x01],
            vec![0x80],
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for _ in 0..20_000 {
            let count = next(6);
            let message: Vec<u8> = (0..count)
                .flat_map(|_| pieces[next(pieces.len())].clone())
                .collect();
            let expected = image_fieldwise(&message);
            let view = ImageView::parse(&message).map(|v| ImageInfo {
                id: v.id.to_owned(),
                repo_tags: v.repo_tags.iter().map(|t| t.to_string()).collect(),
                repo_digests: v.repo_digests.iter().map(|d| d.to_string()).collect(),
            });
            assert_eq!(
                view.is_ok(),
                expected.is_ok(),
                "{message:?}: {view:?} vs {expected:?}"
            );
            if let Ok(expected) = expected {
                assert_eq!(view.unwrap(), expected, "{message:?}");
            }
        }
    }

    #[test]
    fn a_containerd_record_is_copied_under_a_new_name() {
        let target = [
            len(1, b"application/vnd.oci.image.index.v1+json"),
            len(2, b"sha256:def"),
            vec![0x18, 0x10],
        ]
        .concat();
        let labels = len(
            2,
            &[len(1, b"io.cri-containerd.image"), len(2, b"managed")].concat(),
        );
        let record = [
            len(1, b"a@sha256:def"),
            labels.clone(),
            len(3, &target),
            len(7, b"\x08\x01"),
        ]
        .concat();
        let response = len(1, &record);
        let image = containerd_response_image(&response).unwrap().unwrap();
        assert_eq!(containerd_image_digest(image).unwrap(), Some("sha256:def"));
        let req = containerd_copy_request(image, "a:1").unwrap();
        let copy = containerd_response_image(&req).unwrap().unwrap();
        assert_eq!(proto::string_field(copy, 1).unwrap(), Some("a:1"));
        assert_eq!(proto::bytes_field(copy, 3).unwrap(), Some(&target[..]));
        assert!(copy.windows(labels.len()).any(|w| w == labels.as_slice()));
    }

    #[test]
    fn malformed_messages_are_errors() {
        assert!(PullRequest::parse(&[0x0a, 0x05, 0x01]).is_err());
        assert!(status_response_image(&[0x0a]).is_err());
        // A duplicated image spec is ambiguous.
        let twice = [len(1, &len(1, b"a:1")), len(1, &len(1, b"b:1"))].concat();
        assert!(PullRequest::parse(&twice).is_err());
    }
}
