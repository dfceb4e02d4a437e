//! The CRI and containerd messages the proxy reads from the kubelet and
//! containerd: reading never panics, and a pull request that reads is
//! spliced to a digest that reads back, its pod and credentials unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pullgate_cri_proxy::cri;

const PINNED: &str =
    "example.com/app@sha256:0000000000000000000000000000000000000000000000000000000000000000";

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = cri::PullRequest::parse(data) {
        let _ = request.image.parse::<pullgate_registry::ImageRef>();
        let _ = request.auth.clone().into_credentials();
        if let Ok(spliced) = cri::PullRequest::with_image(data, PINNED) {
            let again = cri::PullRequest::parse(&spliced).expect("a spliced request reads");
            assert_eq!(again.image, PINNED);
            assert_eq!(again.pod, request.pod);
            assert_eq!(again.auth.username, request.auth.username);
        }
    }
    let _ = cri::status_request_image(data);
    let _ = cri::status_response_image(data);
    let _ = cri::pull_response_image_ref(data);
    if let Ok(Some(image)) = cri::containerd_response_image(data) {
        let _ = cri::containerd_image_digest(image);
        if let Ok(request) = cri::containerd_copy_request(image, "example.com/app:v1") {
            let copy = cri::containerd_response_image(&request)
                .expect("a copy reads")
                .expect("a copy has its image");
            assert_eq!(
                cri::containerd_image_digest(copy).ok().flatten(),
                cri::containerd_image_digest(image).ok().flatten()
            );
        }
    }
});
