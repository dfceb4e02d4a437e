#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Cosign legacy `.sig` signatures verified with public keys (no
//! transparency log), against Debian's docker-registry: every key-based
//! legacy vector of ../shared/vectors/cosign/legacy, and signatures made here
//! with every key kind and hash setting.
//!
//! The vectors ship layer data only (payload + annotations, see the vectors
//! README "File format of signature-N"); the `.sig` manifest around them is
//! built here as cosign writes it. The signed images' `manifest.json` files
//! name blobs that the vectors do not ship, so the real registry refuses
//! them (MANIFEST_BLOB_UNKNOWN); their descriptors are computed from the
//! exact bytes instead, and one test resolves a vector manifest through the
//! in-process registry, which stores it verbatim.

use std::collections::BTreeMap;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self as sig, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use pullgate_policy::cosign::{CosignPolicies, CosignPolicy, KeyHash, KeyRef, Keyless, Scope};
use pullgate_registry::media_types as mt;
use pullgate_registry::{Descriptor, ImageRef, RegistryClient};
use pullgate_testsupport::{
    Action, FakeOptions, FakeRegistry, Fault, RealRegistry, RegistryOptions, TestImage,
};
use pullgate_verify::cosign::{
    CosignKey, CosignReport, CosignVerifier, SIGNATURE_ANNOTATION, verify_signature,
};
use pullgate_verify::notary::Subject;
use serde_json::json;

mod cosign_support;

use cosign_support::*;

fn policy(name: &str, scope: &str) -> CosignPolicy {
    CosignPolicy {
        name: name.into(),
        scopes: vec![Scope::parse(scope).unwrap()],
        keys: vec![KeyRef {
            provider: "test".into(),
            name: None,
            version: None,
            hash: KeyHash::Sha256,
        }],
        tlog_verify: false,
        rekor_keys: None,
        keyless: None,
        trusted_root: None,
    }
}

fn verifier_with(policy: CosignPolicy, keys: Vec<CosignKey>) -> CosignVerifier {
    let name = policy.name.clone();
    CosignVerifier {
        policies: CosignPolicies::new(vec![policy]).unwrap(),
        keys: BTreeMap::from([(name, keys)]),
        rekor_keys: BTreeMap::new(),
        fulcio_roots: BTreeMap::new(),
        bundles: BTreeMap::new(),
        max_signatures: 100,
    }
}

/// A `*` policy with the keys of vector files (relative to legacy/).
fn verifier(key_files: &[&str]) -> CosignVerifier {
    let keys = key_files
        .iter()
        .flat_map(|f| {
            CosignKey::from_pem(&read(f), KeyHash::Sha256, &format!("provider test, {f}")).unwrap()
        })
        .collect();
    verifier_with(policy("default", "*"), keys)
}

const VALID: &str = "containers-image/dir-img-cosign-valid/signature-1";
const VALID_2: &str = "containers-image/dir-img-cosign-valid-2/signature-2";
const UNKNOWN: &str = "containers-image/unknown-cosign-key.signature";
const COSIGN_PUB: &str = "containers-image/cosign.pub";
const COSIGN2_PUB: &str = "containers-image/cosign2.pub";

// ---------------------------------------------------------------- vectors

/// containers/image dir-img-cosign-valid: accepted with cosign.pub or with
/// both keys in either order; refused with cosign2.pub alone.
#[tokio::test]
async fn valid_vector_verifies_with_its_key_only() {
    let reg = RealRegistry::start(RegistryOptions::default());
    let (client, repo) = (reg.client(), reg.repo("cosign/valid"));
    let s = vector_subject("dir-img-cosign-valid");
    let payload = pullgate_verify::cosign::payload::parse(&sig_file(VALID).payload).unwrap();
    assert_eq!(payload.manifest_digest, s.descriptor.digest);
    let sig_manifest = push_sig(&client, &repo, &s.descriptor.digest, &[sig_file(VALID)]).await;

    for keys in [
        &[COSIGN_PUB][..],
        &[COSIGN_PUB, COSIGN2_PUB],
        &[COSIGN2_PUB, COSIGN_PUB],
    ] {
        let r = run(&verifier(keys), &client, &repo, std::slice::from_ref(&s)).await;
        assert_eq!(
            assert_verified(&r, "provider test, containers-image/cosign.pub"),
            sig_manifest,
            "the report names the .sig manifest"
        );
    }
    let r = run(&verifier(&[COSIGN2_PUB]), &client, &repo, &[s]).await;
    assert_denied(
        &r,
        &[
            "Cosign signature verification failed for all the signatures of",
            "signature does not verify with key provider test, containers-image/cosign2.pub (ECDSA P-256, SHA-256)",
        ],
    );
}

/// dir-img-cosign-valid-2: two distinct valid signatures over one payload.
#[tokio::test]
async fn two_signatures_by_the_same_key() {
    let reg = RealRegistry::start(RegistryOptions::default());
    let (client, repo) = (reg.client(), reg.repo("cosign/valid-2"));
    let s = vector_subject("dir-img-cosign-valid");
    let (a, b) = (sig_file(VALID), sig_file(VALID_2));
    assert_eq!(a.payload, b.payload);
    assert_ne!(a.annotations, b.annotations);
    push_sig(&client, &repo, &s.descriptor.digest, &[a, b.clone()]).await;
    let r = run(
        &verifier(&[COSIGN_PUB]),
        &client,
        &repo,
        std::slice::from_ref(&s),
    )
    .await;
    assert_verified(&r, "cosign.pub");
    // the second signature alone verifies too
    push_sig(&client, &repo, &s.descriptor.digest, &[b]).await;
    let r = run(&verifier(&[COSIGN_PUB]), &client, &repo, &[s]).await;
    assert_verified(&r, "cosign.pub");
}

/// unknown-cosign-key: refused alone; with a valid signature after it
/// (dir-img-cosign-mixed) one good signature suffices.
#[tokio::test]
async fn unknown_key_alone_is_refused_and_mixed_is_accepted() {
    let reg = RealRegistry::start(RegistryOptions::default());
    let (client, repo) = (reg.client(), reg.repo("cosign/mixed"));
    let s = vector_subject("dir-img-cosign-valid");
    let v = verifier(&[COSIGN_PUB]);
    push_sig(&client, &repo, &s.descriptor.digest, &[sig_file(UNKNOWN)]).await;
    let r = run(&v, &client, &repo, std::slice::from_ref(&s)).await;
    let reason = assert_denied(&r, &["does not verify with key provider test"]);
    assert!(!reason.contains("more signature"), "{reason}");
    push_sig(
        &client,
        &repo,
        &s.descriptor.digest,
        &[sig_file(UNKNOWN), sig_file(VALID)],
    )
    .await;
    let r = run(&v, &client, &repo, &[s]).await;
    assert_verified(&r, "cosign.pub");
}

/// dir-img-cosign-modified-manifest with the valid signature: the payload
/// names another digest.
#[tokio::test]
async fn modified_manifest_is_refused_with_the_digest_reason() {
    let reg = RealRegistry::start(RegistryOptions::default());
    let (client, repo) = (reg.client(), reg.repo("cosign/modified"));
    let s = vector_subject("dir-img-cosign-modified-manifest");
    assert!(
        s.descriptor
            .digest
            .to_string()
            .starts_with("sha256:d9dcafdb")
    );
    push_sig(&client, &repo, &s.descriptor.digest, &[sig_file(VALID)]).await;
    let r = run(
        &verifier(&[COSIGN_PUB]),
        &client,
        &repo,
        std::slice::from_ref(&s),
    )
    .await;
    assert_denied(
        &r,
        &[
            "(signed by provider test, containers-image/cosign.pub)",
            "payload names digest sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00",
            &format!(
                "not the image's {} (a signature copied from another image)",
                s.descriptor.digest
            ),
        ],
    );
}

/// dir-img-cosign-other-attachment: a text/plain layer with a signature
/// annotation is not a signature; next to a valid one it is skipped.
#[tokio::test]
async fn other_attachments_are_not_signatures() {
    let reg = RealRegistry::start(RegistryOptions::default());
    let (client, repo) = (reg.client(), reg.repo("cosign/other"));
    let s = vector_subject("dir-img-cosign-valid");
    let other = sig_file("containers-image/dir-img-cosign-other-attachment/signature-1");
    assert_eq!(other.media_type, "text/plain");
    push_sig(
        &client,
        &repo,
        &s.descriptor.digest,
        std::slice::from_ref(&other),
    )
    .await;
    let v = verifier(&[COSIGN_PUB]);
    let r = run(&v, &client, &repo, std::slice::from_ref(&s)).await;
    assert_denied(
        &r,
        &[
            "no Cosign signature found for",
            &format!(
                "the {} manifest has 1 layer(s), none of media type application/vnd.dev.cosign.simplesigning.v1+json",
                s.descriptor.digest.cosign_signature_tag()
            ),
        ],
    );
    push_sig(
        &client,
        &repo,
        &s.descriptor.digest,
        &[other, sig_file(VALID)],
    )
    .await;
    let r = run(&v, &client, &repo, &[s]).await;
    assert_verified(&r, "cosign.pub");
}

/// dir-img-cosign-valid-with-tag (signed by skopeo, reference with a tag,
/// optional with creator and timestamp): the key verifies it. Its identity
/// checks (containers/image's signedIdentity) are out of scope: Cosign
/// ignores the docker-reference, and so does pullgate.
#[tokio::test]
async fn skopeo_signature_with_a_tag_verifies_by_key() {
    let reg = RealRegistry::start(RegistryOptions::default());
    let (client, repo) = (reg.client(), reg.repo("cosign/with-tag"));
    let s = vector_subject("dir-img-cosign-valid-with-tag");
    let layer = sig_file("containers-image/dir-img-cosign-valid-with-tag/signature-1");
    let p = pullgate_verify::cosign::payload::parse(&layer.payload).unwrap();
    assert_eq!(p.docker_reference, "192.168.64.2:5000/skopeo-signed:tag");
    assert_eq!(
        p.optional.unwrap()["creator"],
        "containers/image 5.21.2-dev"
    );
    push_sig(&client, &repo, &s.descriptor.digest, &[layer]).await;
    let r = run(&verifier(&[COSIGN_PUB]), &client, &repo, &[s]).await;
    assert_verified(&r, "cosign.pub");
}

/// dir-img-cosign-key-rekor-valid: with tlog_verify = false the bundle
/// annotation is ignored and the signature verifies with cosign2.pub; a
/// policy whose trust material is missing or not supported is denied.
#[tokio::test]
async fn key_signature_with_a_bundle_verifies_without_the_tlog() {
    let reg = RealRegistry::start(RegistryOptions::default());
    let (client, repo) = (reg.client(), reg.repo("cosign/key-rekor"));
    let s = vector_subject("dir-img-cosign-key-rekor-valid");
    let layer = sig_file("containers-image/dir-img-cosign-key-rekor-valid/signature-1");
    assert!(layer.annotations.contains_key("dev.sigstore.cosign/bundle"));
    push_sig(&client, &repo, &s.descriptor.digest, &[layer]).await;
    let r = run(
        &verifier(&[COSIGN2_PUB]),
        &client,
        &repo,
        std::slice::from_ref(&s),
    )
    .await;
    assert_verified(&r, "cosign2.pub");
    let r = run(
        &verifier(&[COSIGN_PUB]),
        &client,
        &repo,
        std::slice::from_ref(&s),
    )
    .await;
    assert_denied(
        &r,
        &["does not verify with key provider test, containers-image/cosign.pub"],
    );

    // what the policy needs but the verifier lacks denies (fail closed);
    // cosign_tlog.rs verifies the transparency log and keyless signatures
    let mut tlog = policy("default", "*");
    tlog.tlog_verify = true;
    tlog.rekor_keys = Some("rekor".into());
    let keys = CosignKey::from_pem(&read(COSIGN2_PUB), KeyHash::Sha256, "cosign2.pub").unwrap();
    let r = run(
        &verifier_with(tlog, keys.clone()),
        &client,
        &repo,
        std::slice::from_ref(&s),
    )
    .await;
    assert_denied(
        &r,
        &["Cosign trust policy \"default\" has tlog_verify = true and no usable Rekor public key"],
    );
    let mut keyless = policy("default", "*");
    keyless.keyless = Some(Keyless {
        issuer: Some("https://issuer".into()),
        issuer_regexp: None,
        identity: Some("me@example.com".into()),
        identity_regexp: None,
        fulcio_roots: Some("fulcio".into()),
        ctlog_keys: None,
    });
    let r = run(
        &verifier_with(keyless, keys.clone()),
        &client,
        &repo,
        std::slice::from_ref(&s),
    )
    .await;
    assert_denied(
        &r,
        &[
            "Cosign trust policy \"default\" has no Fulcio root certificate for keyless verification",
        ],
    );
    let mut root = policy("default", "*");
    root.trusted_root = Some("trusted_root.json".into());
    // The trusted root's material is loaded into the verifier's maps by the
    // configuration; without the log, key signatures need nothing of it.
    let r = run(&verifier_with(root, keys), &client, &repo, &[s]).await;
    assert!(matches!(r, CosignReport::Verified { .. }), "{r:?}");
}

/// sigstore-rs key-only: valid with key-only.pub, invalid with wrong-key.pub.
/// The image manifest is not shipped: the subject is the payload's digest.
#[tokio::test]
async fn sigstore_rs_key_only_vector() {
    let reg = RealRegistry::start(RegistryOptions::default());
    let (client, repo) = (reg.client(), reg.repo("cosign/key-only"));
    let payload = read("sigstore-rs/key-only.payload.json");
    let annotations: BTreeMap<String, String> =
        serde_json::from_slice(&read("sigstore-rs/key-only.annotations.json")).unwrap();
    let digest = pullgate_verify::cosign::payload::parse(&payload)
        .unwrap()
        .manifest_digest;
    let s = Subject {
        descriptor: Descriptor::new(mt::OCI_MANIFEST, digest.clone(), 1234),
    };
    let layer = SigLayer {
        media_type: mt::COSIGN_SIMPLE_SIGNING.into(),
        payload,
        annotations,
    };
    push_sig(&client, &repo, &digest, &[layer]).await;
    let r = run(
        &verifier(&["sigstore-rs/key-only.pub"]),
        &client,
        &repo,
        std::slice::from_ref(&s),
    )
    .await;
    assert_verified(&r, "key-only.pub");
    let r = run(
        &verifier(&["sigstore-rs/wrong-key.pub"]),
        &client,
        &repo,
        &[s],
    )
    .await;
    assert_denied(
        &r,
        &["does not verify with key provider test, sigstore-rs/wrong-key.pub"],
    );
}

/// The keyless and BYO-PKI vectors are signed by their certificates' keys,
/// which a key policy does not look at: no Cosign key verifies them.
#[test]
fn certificate_vectors_do_not_verify_with_the_cosign_keys() {
    for file in [
        "containers-image/dir-img-cosign-fulcio-rekor-valid/signature-1",
        "containers-image/dir-img-cosign-pki-valid/signature-1",
    ] {
        let l = sig_file(file);
        let s = STANDARD
            .decode(
                l.annotations[SIGNATURE_ANNOTATION]
                    .replace('\n', "")
                    .as_bytes(),
            )
            .unwrap();
        for k in [COSIGN_PUB, COSIGN2_PUB] {
            let key = CosignKey::from_pem(&read(k), KeyHash::Sha256, k)
                .unwrap()
                .remove(0);
            assert!(
                verify_signature(&key, &l.payload, &s).is_err(),
                "{file} {k}"
            );
        }
    }
}

/// A vector image manifest stored verbatim (in the in-process registry, as
/// docker-registry refuses manifests whose blobs it lacks), resolved by tag
/// through the client: the digest computed from the served bytes is the one
/// the signature names.
#[tokio::test]
async fn vector_image_resolved_through_the_client() {
    let fake = FakeRegistry::start(FakeOptions::default()).await;
    let client = RegistryClient::new(fake.client_config()).unwrap();
    let repo = fake.repo("cosign/resolved");
    let manifest = read("containers-image/dir-img-cosign-valid/manifest.json");
    fake.put_manifest(repo.name(), Some("v1"), mt::DOCKER_MANIFEST, &manifest);
    let image: ImageRef = format!("{}/{}:v1", fake.host(), repo.name())
        .parse()
        .unwrap();
    let resolved = client.resolve(&image).await.unwrap();
    let s = Subject {
        descriptor: resolved.descriptor(),
    };
    push_sig(&client, &repo, &resolved.digest, &[sig_file(VALID)]).await;
    let r = verifier(&[COSIGN_PUB])
        .verify(&client, &repo, "cosign/resolved:v1", &[s], now())
        .await;
    assert_verified(&r, "cosign.pub");
}

// ------------------------------------------------- signatures made here

/// Every key kind and hash setting, signed with aws-lc-rs: each verifies
/// with its setting and is refused with another.
#[tokio::test]
async fn every_key_kind_and_hash_setting() {
    let reg = RealRegistry::start(RegistryOptions::default());
    let client = reg.client();
    let rng = SystemRandom::new();
    let rsa = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let rsa_der = rsa.public_key().as_der().unwrap();
    let rsa_sign = |enc: &'static dyn sig::RsaEncoding, msg: &[u8]| {
        let mut s = vec![0u8; rsa.public_modulus_len()];
        rsa.sign(enc, &rng, msg, &mut s).unwrap();
        s
    };
    let ecdsa = |alg: &'static sig::EcdsaSigningAlgorithm| {
        let pair = EcdsaKeyPair::generate(alg).unwrap();
        let der = pair.public_key().as_der().unwrap().as_ref().to_vec();
        (pair, der)
    };
    let (p256, p256_der) = ecdsa(&sig::ECDSA_P256_SHA256_ASN1_SIGNING);
    let (p384, p384_der) = ecdsa(&sig::ECDSA_P384_SHA384_ASN1_SIGNING);
    let (p521a, p521a_der) = ecdsa(&sig::ECDSA_P521_SHA256_ASN1_SIGNING);
    let (p521b, p521b_der) = ecdsa(&sig::ECDSA_P521_SHA512_ASN1_SIGNING);
    let ed = Ed25519KeyPair::generate().unwrap();
    let ed_der = ed.public_key().as_der().unwrap().as_ref().to_vec();

    type Signer<'a> = Box<dyn Fn(&[u8]) -> Vec<u8> + 'a>;
    let cases: Vec<(&str, Vec<u8>, KeyHash, KeyHash, Signer)> = vec![
        (
            "rsa-pkcs1-sha256",
            rsa_der.as_ref().to_vec(),
            KeyHash::Sha256,
            KeyHash::Sha512,
            Box::new(|m: &[u8]| rsa_sign(&sig::RSA_PKCS1_SHA256, m)),
        ),
        (
            "rsa-pss-sha256",
            rsa_der.as_ref().to_vec(),
            KeyHash::Sha256,
            KeyHash::Sha384,
            Box::new(|m: &[u8]| rsa_sign(&sig::RSA_PSS_SHA256, m)),
        ),
        (
            "rsa-pkcs1-sha384",
            rsa_der.as_ref().to_vec(),
            KeyHash::Sha384,
            KeyHash::Sha256,
            Box::new(|m: &[u8]| rsa_sign(&sig::RSA_PKCS1_SHA384, m)),
        ),
        (
            "rsa-pss-sha512",
            rsa_der.as_ref().to_vec(),
            KeyHash::Sha512,
            KeyHash::Sha256,
            Box::new(|m: &[u8]| rsa_sign(&sig::RSA_PSS_SHA512, m)),
        ),
        (
            "p256-sha256",
            p256_der.clone(),
            KeyHash::Sha256,
            KeyHash::Sha512,
            Box::new(|m: &[u8]| p256.sign(&rng, m).unwrap().as_ref().to_vec()),
        ),
        (
            "p384-sha384",
            p384_der.clone(),
            KeyHash::Sha384,
            KeyHash::Sha256,
            Box::new(|m: &[u8]| p384.sign(&rng, m).unwrap().as_ref().to_vec()),
        ),
        (
            "p521-sha256",
            p521a_der.clone(),
            KeyHash::Sha256,
            KeyHash::Sha512,
            Box::new(|m: &[u8]| p521a.sign(&rng, m).unwrap().as_ref().to_vec()),
        ),
        (
            "p521-sha512",
            p521b_der.clone(),
            KeyHash::Sha512,
            KeyHash::Sha256,
            Box::new(|m: &[u8]| p521b.sign(&rng, m).unwrap().as_ref().to_vec()),
        ),
        (
            "ed25519",
            ed_der.clone(),
            KeyHash::Sha256,
            KeyHash::Ed25519ph,
            Box::new(|m: &[u8]| ed.sign(m).as_ref().to_vec()),
        ),
    ];
    for (name, der, hash, wrong, sign) in cases {
        let repo = reg.repo(&format!("kinds/{name}"));
        let s = image(&client, &repo, name).await;
        let payload = payload_for(&s.descriptor.digest);
        push_sig(
            &client,
            &repo,
            &s.descriptor.digest,
            &[signed_layer(&payload, &sign(&payload))],
        )
        .await;
        let good = verifier_with(policy("default", "*"), vec![key(&der, hash, name)]);
        let r = run(&good, &client, &repo, std::slice::from_ref(&s)).await;
        assert_verified(&r, name);
        let bad = verifier_with(policy("default", "*"), vec![key(&der, wrong, name)]);
        let r = run(&bad, &client, &repo, &[s]).await;
        assert_denied(&r, &[&format!("does not verify with key {name}")]);
    }
}

/// A fixed image manifest, and signatures over its payload made elsewhere:
/// P-384 with SHA-256 (cosign ≤ 2.5's P-384 signatures; Python
/// `cryptography`, as aws-lc-rs has no P-384/SHA-256 signer) and Ed25519ph
/// (what cosign ≥ 2.6 signs with for Ed25519 keys; @noble/curves'
/// `ed25519ph`, an implementation independent of ours).
const FIXTURE_MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;
const FIXTURE_PAYLOAD: &str = r#"{"critical":{"identity":{"docker-reference":"pullgate.test/fixture"},"image":{"docker-manifest-digest":"sha256:f20c43161d73848408ef247f0ec7111b19fe58ffebc0cbcaa0d2c8bda4967268"},"type":"cosign container image signature"},"optional":null}"#;
const P384_PUB: &str = "-----BEGIN PUBLIC KEY-----
MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAENNMDyAPARze08nlIcmV0TCZb2TLE/TJg
InAnYQ/wV8kDfyhAu1bdiGhf36eCup/zDZ5cLN4pVBIyZQGb7uvJZyD9pMo08Pic
1F9wdjQi7C04ERTnP2CyH3qvBjVchvbr
-----END PUBLIC KEY-----
";
const P384_SHA256_SIG: &str = "MGQCMFMpALvzqFdZB73c739IDBdXzqRU3kTkLqOhsKlH9bZSMWbnUAFrjwdmd8edNNLDRwIwLiYCbLgyBH3ZnBdYpRqNXqCbB/jy7KHcipllQS2ABKLWuTKADgtsRU2bc9MQ0a7R";
const ED25519PH_PUB: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAnPvjkbKaiOre1j9nIGQxZhEm/yEn8gnKmRODgoUYy3A=
-----END PUBLIC KEY-----
";
const ED25519PH_SIG: &str =
    "Bqf/6o0BsyK+ARhNRUNfu6eBeJwKy+EsTu6P6KnIjiVwPecL86TEXeRZ++w9hU51iEOOYnjRVxdkDSl3ZGczBg==";

#[tokio::test]
async fn p384_with_sha256_and_ed25519ph_signed_elsewhere() {
    let reg = RealRegistry::start(RegistryOptions::default());
    let (client, repo) = (reg.client(), reg.repo("cosign/fixture"));
    client
        .push_blob(&repo, mt::OCI_IMAGE_CONFIG, Bytes::from_static(b"{}"))
        .await
        .unwrap();
    let digest = client
        .push_manifest(
            &repo,
            "v1",
            mt::OCI_MANIFEST,
            Bytes::from_static(FIXTURE_MANIFEST.as_bytes()),
        )
        .await
        .unwrap();
    let s = subject(mt::OCI_MANIFEST, FIXTURE_MANIFEST.as_bytes());
    assert_eq!(s.descriptor.digest, digest);
    let payload = FIXTURE_PAYLOAD.as_bytes();
    for (pub_pem, sig_b64, hash, wrong) in [
        (P384_PUB, P384_SHA256_SIG, KeyHash::Sha256, KeyHash::Sha384),
        (
            ED25519PH_PUB,
            ED25519PH_SIG,
            KeyHash::Ed25519ph,
            KeyHash::Sha256,
        ),
    ] {
        let layer = SigLayer {
            media_type: mt::COSIGN_SIMPLE_SIGNING.into(),
            payload: payload.to_vec(),
            annotations: BTreeMap::from([(SIGNATURE_ANNOTATION.into(), sig_b64.into())]),
        };
        push_sig(&client, &repo, &digest, &[layer]).await;
        let keys = |h| CosignKey::from_pem(pub_pem.as_bytes(), h, "fixture.pub").unwrap();
        let r = run(
            &verifier_with(policy("default", "*"), keys(hash)),
            &client,
            &repo,
            std::slice::from_ref(&s),
        )
        .await;
        assert_verified(&r, "fixture.pub");
        let r = run(
            &verifier_with(policy("default", "*"), keys(wrong)),
            &client,
            &repo,
            std::slice::from_ref(&s),
        )
        .await;
        assert_denied(&r, &["does not verify with key fixture.pub"]);
    }
}

/// Payloads that verify but must not count: the wrong type, a duplicated
/// digest key (the last one names this image), a signature copied from
/// another image; and layers without a usable annotation.
#[tokio::test]
async fn signed_payloads_that_do_not_count() {
    let reg = RealRegistry::start(RegistryOptions::default());
    let client = reg.client();
    let rng = SystemRandom::new();
    let pair = EcdsaKeyPair::generate(&sig::ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
    let der = pair.public_key().as_der().unwrap();
    let v = verifier_with(
        policy("default", "*"),
        vec![key(der.as_ref(), KeyHash::Sha256, "team.pub")],
    );
    let sign = |p: &[u8]| signed_layer(p, pair.sign(&rng, p).unwrap().as_ref());

    let repo = reg.repo("bad/type");
    let s = image(&client, &repo, "type").await;
    let p = String::from_utf8(payload_for(&s.descriptor.digest))
        .unwrap()
        .replace(
            "cosign container image signature",
            "atomic container signature",
        );
    push_sig(&client, &repo, &s.descriptor.digest, &[sign(p.as_bytes())]).await;
    let r = run(&v, &client, &repo, &[s]).await;
    assert_denied(
        &r,
        &["(signed by team.pub): payload's critical.type is \"atomic container signature\""],
    );

    let repo = reg.repo("bad/duplicate");
    let s = image(&client, &repo, "duplicate").await;
    let other = TestImage::new("someone else").digest();
    let p = String::from_utf8(payload_for(&s.descriptor.digest))
        .unwrap()
        .replace(
            "\"docker-manifest-digest\":",
            &format!("\"docker-manifest-digest\":\"{other}\",\"docker-manifest-digest\":"),
        );
    push_sig(&client, &repo, &s.descriptor.digest, &[sign(p.as_bytes())]).await;
    let r = run(&v, &client, &repo, &[s]).await;
    assert_denied(
        &r,
        &["payload has the key \"docker-manifest-digest\" twice"],
    );

    let repo = reg.repo("bad/copied");
    let a = image(&client, &repo, "image a").await;
    let b = image(&client, &repo, "image b").await;
    let layer = sign(&payload_for(&a.descriptor.digest));
    push_sig(
        &client,
        &repo,
        &a.descriptor.digest,
        std::slice::from_ref(&layer),
    )
    .await;
    assert_verified(
        &run(&v, &client, &repo, std::slice::from_ref(&a)).await,
        "team.pub",
    );
    push_sig(&client, &repo, &b.descriptor.digest, &[layer]).await;
    let r = run(&v, &client, &repo, std::slice::from_ref(&b)).await;
    assert_denied(
        &r,
        &[&format!(
            "payload names digest {}, not the image's {} (a signature copied from another image)",
            a.descriptor.digest, b.descriptor.digest
        )],
    );

    let repo = reg.repo("bad/annotations");
    let s = image(&client, &repo, "annotations").await;
    let good = sign(&payload_for(&s.descriptor.digest));
    let mut none = good.clone();
    none.annotations.clear();
    let mut garbled = good.clone();
    garbled
        .annotations
        .insert(SIGNATURE_ANNOTATION.into(), "not base64!".into());
    push_sig(&client, &repo, &s.descriptor.digest, &[none, garbled]).await;
    let r = run(&v, &client, &repo, std::slice::from_ref(&s)).await;
    assert_denied(
        &r,
        &[
            "signature layer 1 (sha256:",
            "has no dev.cosignproject.cosign/signature annotation",
            "(and 1 more signature(s) failed)",
        ],
    );
    // the signature annotation may be wrapped in lines (Go's decoder skips
    // \r and \n; the BYO-PKI vector's is)
    let mut wrapped = good.clone();
    let b64 = &good.annotations[SIGNATURE_ANNOTATION];
    wrapped.annotations.insert(
        SIGNATURE_ANNOTATION.into(),
        format!("{}\n{}\r\n", &b64[..10], &b64[10..]),
    );
    push_sig(&client, &repo, &s.descriptor.digest, &[wrapped]).await;
    assert_verified(&run(&v, &client, &repo, &[s]).await, "team.pub");
}

/// No `.sig` tag; signatures only on the platform manifest (second
/// subject); no policy for the repository; a policy without keys.
#[tokio::test]
async fn discovery_and_coverage() {
    let reg = RealRegistry::start(RegistryOptions::default());
    let client = reg.client();
    let rng = SystemRandom::new();
    let pair = EcdsaKeyPair::generate(&sig::ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
    let der = pair.public_key().as_der().unwrap();
    let k = key(der.as_ref(), KeyHash::Sha256, "team.pub");
    let v = verifier_with(policy("default", "*"), vec![k.clone()]);

    let repo = reg.repo("multi/app");
    let index = image(&client, &repo, "index stand-in").await;
    let platform = image(&client, &repo, "platform").await;
    let r = run(&v, &client, &repo, &[index.clone(), platform.clone()]).await;
    assert_denied(
        &r,
        &[&format!(
            "no Cosign signature found for {repo}@{} (no {} or {} tag)",
            index.descriptor.digest,
            index.descriptor.digest.cosign_signature_tag(),
            platform.descriptor.digest.cosign_signature_tag()
        )],
    );
    let p = payload_for(&platform.descriptor.digest);
    push_sig(
        &client,
        &repo,
        &platform.descriptor.digest,
        &[signed_layer(&p, pair.sign(&rng, &p).unwrap().as_ref())],
    )
    .await;
    assert_verified(
        &run(&v, &client, &repo, &[index.clone(), platform]).await,
        "team.pub",
    );
    assert_denied(
        &run(&v, &client, &repo, std::slice::from_ref(&index)).await,
        &["no Cosign signature found"],
    );

    let scoped = verifier_with(policy("default", "r.io/team/*"), vec![k]);
    match run(&scoped, &client, &repo, std::slice::from_ref(&index)).await {
        CosignReport::NotCovered { reason } => assert_eq!(
            reason,
            format!(
                "{repo}@{} is not covered by any Cosign trust policy (no scope matches {repo})",
                index.descriptor.digest
            )
        ),
        other => panic!("{other:?}"),
    }
    let keyless = verifier_with(policy("default", "*"), Vec::new());
    assert_denied(
        &run(&keyless, &client, &repo, &[index]).await,
        &["Cosign trust policy \"default\" has no usable public key"],
    );
}

/// At most `max_signatures` signature layers are tried.
#[tokio::test]
async fn the_number_of_signatures_tried_is_bounded() {
    let reg = RealRegistry::start(RegistryOptions::default());
    let (client, repo) = (reg.client(), reg.repo("many/sigs"));
    let s = vector_subject("dir-img-cosign-valid");
    push_sig(
        &client,
        &repo,
        &s.descriptor.digest,
        &[sig_file(UNKNOWN), sig_file(UNKNOWN), sig_file(VALID)],
    )
    .await;
    let mut v = verifier(&[COSIGN_PUB]);
    v.max_signatures = 2;
    let r = run(&v, &client, &repo, std::slice::from_ref(&s)).await;
    assert_denied(
        &r,
        &[
            "the configured limit of 2 signatures to verify per image was exceeded",
            "(and 1 more signature(s) failed)",
        ],
    );
    v.max_signatures = 3;
    assert_verified(&run(&v, &client, &repo, &[s]).await, "cosign.pub");
}

/// Registry failures deny; an unreachable registry says so (the verdict
/// cache keeps an earlier verdict then); a missing payload blob or one over
/// the size limit is not trusted.
#[tokio::test]
async fn registry_failures_deny() {
    let fake = FakeRegistry::start(FakeOptions::default()).await;
    let client = RegistryClient::new(fake.client_config()).unwrap();
    let repo = fake.repo("fail/app");
    let s = vector_subject("dir-img-cosign-valid");
    let v = verifier(&[COSIGN_PUB]);
    let tag_path = format!(
        "/v2/{}/manifests/{}",
        repo.name(),
        s.descriptor.digest.cosign_signature_tag()
    );
    fake.add_fault(Fault {
        method: None,
        path: tag_path,
        times: None,
        action: Action::Respond {
            status: 503,
            headers: Vec::new(),
            body: Bytes::new(),
        },
    });
    match run(&v, &client, &repo, std::slice::from_ref(&s)).await {
        CosignReport::Denied {
            reason,
            unreachable,
            ..
        } => {
            assert!(unreachable, "{reason}");
            assert!(
                reason.starts_with(&format!(
                    "could not read the Cosign signatures of {repo}@{} (tag {})",
                    s.descriptor.digest,
                    s.descriptor.digest.cosign_signature_tag()
                )),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }

    // a .sig manifest whose payload blob is missing, then one too large
    let repo = fake.repo("fail/blob");
    let valid = sig_file(VALID);
    let mut layer = Descriptor::of(mt::COSIGN_SIMPLE_SIGNING, &valid.payload);
    layer.annotations = valid.annotations.clone();
    let config = fake.put_blob(repo.name(), b"{}");
    let sig_manifest = |layer: &Descriptor| {
        serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": mt::OCI_MANIFEST,
            "config": Descriptor::new(mt::OCI_IMAGE_CONFIG, config.clone(), 2),
            "layers": [layer],
        }))
        .unwrap()
    };
    let tag = s.descriptor.digest.cosign_signature_tag();
    fake.put_manifest(
        repo.name(),
        Some(&tag),
        mt::OCI_MANIFEST,
        &sig_manifest(&layer),
    );
    let r = run(&v, &client, &repo, std::slice::from_ref(&s)).await;
    assert_denied(
        &r,
        &[&format!(
            "could not fetch Cosign signature layer 1 ({})",
            layer.digest
        )],
    );
    let mut big = layer.clone();
    big.size = 100_000;
    fake.put_manifest(
        repo.name(),
        Some(&tag),
        mt::OCI_MANIFEST,
        &sig_manifest(&big),
    );
    let r = run(&v, &client, &repo, &[s]).await;
    assert_denied(
        &r,
        &["is 100000 bytes, more than the 65536 a simple-signing payload may have"],
    );
}
