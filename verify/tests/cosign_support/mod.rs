//! Helpers shared by the Cosign integration tests: vector files, signature
//! layers, `.sig` manifests pushed as cosign writes them, report checks.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use pullgate_policy::cosign::KeyHash;
use pullgate_registry::media_types as mt;
use pullgate_registry::{Descriptor, Digest, RegistryClient, Repository};
use pullgate_testsupport::TestImage;
use pullgate_verify::cosign::{CosignKey, CosignReport, CosignVerifier, SIGNATURE_ANNOTATION};
use pullgate_verify::notary::Subject;
use serde_json::json;
use time::OffsetDateTime;

pub fn legacy() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/cosign/legacy")
}

pub fn read(rel: &str) -> Vec<u8> {
    let p = legacy().join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// One signature layer: media type, blob (the payload), annotations.
#[derive(Clone)]
pub struct SigLayer {
    pub media_type: String,
    pub payload: Vec<u8>,
    pub annotations: BTreeMap<String, String>,
}

/// A containers/image `signature-N` file: `\0sigstore-json\n` + JSON.
pub fn sig_file(rel: &str) -> SigLayer {
    let bytes = read(rel);
    let json = bytes
        .strip_prefix(b"\x00sigstore-json\n")
        .unwrap_or_else(|| panic!("{rel}: not a sigstore-json signature file"));
    let v: serde_json::Value = serde_json::from_slice(json).unwrap();
    SigLayer {
        media_type: v["mimeType"].as_str().unwrap().to_string(),
        payload: STANDARD.decode(v["payload"].as_str().unwrap()).unwrap(),
        annotations: serde_json::from_value(v["annotations"].clone()).unwrap(),
    }
}

/// A signature layer made here.
pub fn signed_layer(payload: &[u8], signature: &[u8]) -> SigLayer {
    SigLayer {
        media_type: mt::COSIGN_SIMPLE_SIGNING.to_string(),
        payload: payload.to_vec(),
        annotations: BTreeMap::from([(
            SIGNATURE_ANNOTATION.to_string(),
            STANDARD.encode(signature),
        )]),
    }
}

/// The payload cosign writes for `digest`.
pub fn payload_for(digest: &Digest) -> Vec<u8> {
    format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"pullgate.test/app"}},"image":{{"docker-manifest-digest":"{digest}"}},"type":"cosign container image signature"}},"optional":null}}"#
    )
    .into_bytes()
}

/// Pushes the `.sig` manifest of `subject` holding `layers`, as cosign
/// writes it (OCI image manifest; config with the layers as diff_ids);
/// returns its digest.
pub async fn push_sig(
    client: &RegistryClient,
    repo: &Repository,
    subject: &Digest,
    layers: &[SigLayer],
) -> Digest {
    let mut descriptors = Vec::new();
    for l in layers {
        let mut d = client
            .push_blob(repo, &l.media_type, Bytes::from(l.payload.clone()))
            .await
            .unwrap();
        d.annotations = l.annotations.clone();
        descriptors.push(d);
    }
    let config = json!({
        "architecture": "",
        "created": "0001-01-01T00:00:00Z",
        "history": [{"created": "0001-01-01T00:00:00Z"}],
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": descriptors.iter().map(|d| d.digest.to_string()).collect::<Vec<_>>()},
        "config": {},
    });
    let config = client
        .push_blob(
            repo,
            mt::OCI_IMAGE_CONFIG,
            Bytes::from(serde_json::to_vec(&config).unwrap()),
        )
        .await
        .unwrap();
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": mt::OCI_MANIFEST,
        "config": config,
        "layers": descriptors,
    });
    client
        .push_manifest(
            repo,
            &subject.cosign_signature_tag(),
            mt::OCI_MANIFEST,
            Bytes::from(serde_json::to_vec(&manifest).unwrap()),
        )
        .await
        .unwrap()
}

pub fn pem(spki_der: &[u8]) -> Vec<u8> {
    format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        STANDARD.encode(spki_der)
    )
    .into_bytes()
}

pub fn key(spki_der: &[u8], hash: KeyHash, name: &str) -> CosignKey {
    CosignKey::from_pem(&pem(spki_der), hash, name)
        .unwrap()
        .remove(0)
}

pub fn subject(media_type: &str, manifest: &[u8]) -> Subject {
    Subject {
        descriptor: Descriptor::of(media_type, manifest),
    }
}

pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

pub async fn run(
    v: &CosignVerifier,
    client: &RegistryClient,
    repo: &Repository,
    subjects: &[Subject],
) -> CosignReport {
    let reference = format!("{repo}@{}", subjects[0].descriptor.digest);
    v.verify(client, repo, &reference, subjects, now()).await
}

#[track_caller]
pub fn assert_verified(r: &CosignReport, signer_has: &str) -> Digest {
    match r {
        CosignReport::Verified {
            policy,
            signature,
            signer,
            warnings,
            ..
        } => {
            assert_eq!(policy, "default");
            assert!(signer.contains(signer_has), "signer {signer:?}");
            assert!(warnings.is_empty(), "{warnings:?}");
            signature.clone()
        }
        other => panic!("expected Verified by {signer_has}, got {other:?}"),
    }
}

#[track_caller]
pub fn assert_denied(r: &CosignReport, reason_has: &[&str]) -> String {
    match r {
        CosignReport::Denied {
            reason,
            unreachable,
            ..
        } => {
            assert!(!unreachable, "{reason}");
            for part in reason_has {
                assert!(reason.contains(part), "{part:?} not in {reason:?}");
            }
            reason.clone()
        }
        other => panic!("expected Denied, got {other:?}"),
    }
}

/// The containers/image image `dir` (manifest.json) and its subject, with
/// the signed digest checked against the payload of `signature`.
pub fn vector_subject(dir: &str) -> Subject {
    let manifest = read(&format!("containers-image/{dir}/manifest.json"));
    let media_type = serde_json::from_slice::<serde_json::Value>(&manifest).unwrap()["mediaType"]
        .as_str()
        .unwrap()
        .to_string();
    subject(
        match media_type.as_str() {
            mt::DOCKER_MANIFEST => mt::DOCKER_MANIFEST,
            _ => mt::OCI_MANIFEST,
        },
        &manifest,
    )
}

/// One pushed test image and its subject.
pub async fn image(client: &RegistryClient, repo: &Repository, text: &str) -> Subject {
    let img = TestImage::new(text);
    img.push(client, repo, &text.replace(' ', "-")).await;
    Subject {
        descriptor: img.descriptor(),
    }
}
