use pullgate_registry::{Manifest, RegistryClient};
use time::macros::datetime;

use super::*;
use crate::notary::test_util::*;
use crate::notary::{Algorithm, EnvelopeFormat, SignOptions, SignedEnvelope, TestPki, sign};
use crate::{FakeOptions, FakeRegistry, TestImage};

/// The e2e vector's envelope, described as the signer would describe it.
fn e2e_envelope() -> SignedEnvelope {
    let jws = Jws::parse(E2E_ENVELOPE);
    let leaf = b64std(jws.envelope["header"]["x5c"][0].as_str().unwrap());
    SignedEnvelope {
        bytes: E2E_ENVELOPE.to_vec(),
        media_type: "application/jose+json",
        raw_signature: jws.signature,
        payload: jws.payload,
        signing_time: datetime!(2023-06-27 13:30:33 +08:00),
        chain: vec![leaf],
        algorithm: Algorithm::Ps256,
    }
}

fn e2e_subject() -> Descriptor {
    let digest = "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";
    Descriptor::new(mt::OCI_MANIFEST, digest.parse().unwrap(), 517)
}

#[test]
fn legacy_manifest_and_index_are_byte_identical_to_notation() {
    let env = e2e_envelope();
    let manifest = signature_manifest(&e2e_subject(), &env, ManifestShape::LegacyConfig);
    assert_eq!(
        std::str::from_utf8(&manifest).unwrap(),
        std::str::from_utf8(E2E_SIGNATURE_MANIFEST).unwrap()
    );
    let mut entry = Descriptor::of(mt::OCI_MANIFEST, &manifest);
    entry.artifact_type = Some(mt::NOTARY_SIGNATURE.to_string());
    entry.annotations = signature_annotations(&env);
    assert_eq!(
        std::str::from_utf8(&index_json(&[entry])).unwrap(),
        std::str::from_utf8(E2E_REFERRERS_INDEX).unwrap()
    );
}

#[test]
fn artifact_type_manifest_uses_the_empty_config() {
    let manifest = signature_manifest(&e2e_subject(), &e2e_envelope(), ManifestShape::ArtifactType);
    let text = std::str::from_utf8(&manifest).unwrap();
    let head = concat!(
        r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","#,
        r#""artifactType":"application/vnd.cncf.notary.signature","#,
        r#""config":{"mediaType":"application/vnd.oci.empty.v1+json","#,
        r#""digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","#,
        r#""size":2,"data":"e30="},"layers":[{"mediaType":"application/jose+json","#
    );
    assert!(text.starts_with(head), "{text}");
}

async fn fetch_index(
    client: &RegistryClient,
    repo: &Repository,
    subject: &Digest,
) -> Vec<Descriptor> {
    let fetched = client
        .manifest(repo, &subject.referrers_tag())
        .await
        .unwrap();
    match fetched.parsed {
        Manifest::Index(index) => index.manifests,
        Manifest::Image(_) => panic!("tag schema entry is not an index"),
    }
}

#[tokio::test]
async fn signatures_are_pushed_and_listed_in_the_tag_schema_index() {
    let fake = FakeRegistry::start(FakeOptions {
        referrers_api: false,
        ..Default::default()
    })
    .await;
    let client = RegistryClient::new(fake.client_config()).unwrap();
    let repo = fake.repo("notary/app");
    let image = TestImage::new("signed by notation");
    image.push(&client, &repo, "v1").await;
    let subject = image.descriptor();
    let pki = TestPki::code_signing_chain(1);
    let jws = sign(&subject, &pki.chain(), &SignOptions::default());
    let cose = sign(
        &subject,
        &pki.chain(),
        &SignOptions::new(EnvelopeFormat::Cose),
    );

    let first = push_notary_signature(
        &client,
        &repo,
        &subject,
        &jws,
        ManifestShape::ArtifactType,
        true,
    )
    .await;
    let second = push_notary_signature(
        &client,
        &repo,
        &subject,
        &cose,
        ManifestShape::LegacyConfig,
        true,
    )
    .await;
    assert_eq!(
        fetch_index(&client, &repo, &subject.digest).await,
        [first.clone(), second.clone()]
    );
    for d in [&first, &second] {
        assert_eq!(d.artifact_type.as_deref(), Some(mt::NOTARY_SIGNATURE));
        let thumbprints = &d.annotations[ANNOTATION_THUMBPRINT];
        let want: Vec<String> = pki.chain().iter().map(|c| c.sha256_hex()).collect();
        assert_eq!(
            serde_json::from_str::<Vec<String>>(thumbprints).unwrap(),
            want
        );
    }

    let again = push_notary_signature(
        &client,
        &repo,
        &subject,
        &jws,
        ManifestShape::ArtifactType,
        true,
    )
    .await;
    assert_eq!(again, first);
    assert_eq!(fetch_index(&client, &repo, &subject.digest).await.len(), 2);

    check_stored(
        &client,
        &repo,
        &first,
        &subject,
        &jws,
        ManifestShape::ArtifactType,
    )
    .await;
    check_stored(
        &client,
        &repo,
        &second,
        &subject,
        &cose,
        ManifestShape::LegacyConfig,
    )
    .await;
}

async fn check_stored(
    client: &RegistryClient,
    repo: &Repository,
    d: &Descriptor,
    subject: &Descriptor,
    env: &SignedEnvelope,
    shape: ManifestShape,
) {
    let fetched = client.manifest_for(repo, d).await.unwrap();
    let m = fetched.parsed.as_image().unwrap();
    assert_eq!(m.effective_artifact_type(), mt::NOTARY_SIGNATURE);
    assert_eq!(m.config, config_descriptor(shape));
    assert_eq!(m.subject.as_ref(), Some(subject));
    assert_eq!(m.annotations, d.annotations);
    assert_eq!(m.layers.len(), 1);
    assert_eq!(m.layers[0].media_type, env.media_type);
    let blob = client.blob(repo, &m.layers[0], 1 << 20).await.unwrap();
    assert_eq!(blob.as_ref(), env.bytes.as_slice());
    let config = client.blob(repo, &m.config, 1 << 10).await.unwrap();
    assert_eq!(config.as_ref(), EMPTY_JSON);
}

#[tokio::test]
async fn without_update_the_tag_index_is_left_alone() {
    let fake = FakeRegistry::start(FakeOptions {
        referrers_api: false,
        ..Default::default()
    })
    .await;
    let client = RegistryClient::new(fake.client_config()).unwrap();
    let repo = fake.repo("notary/untagged");
    let image = TestImage::new("no index");
    image.push(&client, &repo, "v1").await;
    let subject = image.descriptor();
    let pki = TestPki::code_signing_chain(0);
    let env = sign(&subject, &pki.chain(), &SignOptions::default());
    push_notary_signature(
        &client,
        &repo,
        &subject,
        &env,
        ManifestShape::ArtifactType,
        false,
    )
    .await;
    let tag = subject.digest.referrers_tag();
    assert!(
        client
            .manifest_if_tagged(&repo, &tag)
            .await
            .unwrap()
            .is_none()
    );
}
