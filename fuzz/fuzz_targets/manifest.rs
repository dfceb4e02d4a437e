//! Manifests and indexes from a registry: parsing never panics, and what
//! parses keeps its invariants.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pullgate_registry::media_types as mt;
use pullgate_registry::{DockerConfig, MAX_DESCRIPTORS, Manifest};

const TYPES: &[Option<&str>] = &[
    None,
    Some(mt::OCI_MANIFEST),
    Some(mt::OCI_INDEX),
    Some(mt::DOCKER_MANIFEST),
    Some(mt::DOCKER_MANIFEST_LIST),
    Some("application/json"),
    Some("application/vnd.oci.image.index.v1+json; charset=utf-8"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let served = TYPES[usize::from(selector) % TYPES.len()];
    if let Ok(m) = Manifest::parse(served, body) {
        match &m {
            Manifest::Image(i) => {
                assert_eq!(i.schema_version, 2);
                assert!(i.layers.len() <= MAX_DESCRIPTORS);
            }
            Manifest::Index(i) => {
                assert_eq!(i.schema_version, 2);
                assert!(i.manifests.len() <= MAX_DESCRIPTORS);
            }
        }
        assert!(!m.media_type().is_empty());
    }
    let _ = DockerConfig::parse(body);
});
