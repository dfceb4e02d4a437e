#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The client against the real thing: Debian's docker-registry 2.8 (no
//! referrers API), plain HTTP and TLS with htpasswd.

use std::collections::BTreeMap;

use pullgate_registry::media_types as mt;
use pullgate_registry::{
    ClientConfig, Credentials, DockerConfig, ImageRef, Manifest, Platform, ReferrersSource,
    RegistryClient, RegistryError, SignatureKind,
};
use pullgate_testsupport::{
    RealRegistry, RegistryOptions, TestImage, push_index, push_signature_manifest,
    push_tag_schema_index,
};

const JWS: &str = "application/jose+json";

fn image_ref(reg: &RealRegistry, rest: &str) -> ImageRef {
    format!("{}/{rest}", reg.host).parse().unwrap()
}

#[tokio::test]
async fn resolves_fetches_and_checks_digests_over_plain_http() {
    let reg = RealRegistry::start(RegistryOptions::default());
    let client = reg.client();
    let repo = reg.repo("demo/hello");
    let img = TestImage::new("hello plain");
    let digest = img.push(&client, &repo, "v1").await;

    let by_tag = client
        .resolve(&image_ref(&reg, "demo/hello:v1"))
        .await
        .unwrap();
    assert_eq!(by_tag.digest, digest);
    assert_eq!(by_tag.raw, img.manifest);
    assert_eq!(by_tag.media_type, mt::OCI_MANIFEST);
    let manifest = by_tag.parsed.as_image().unwrap();

    let by_digest = client
        .resolve(&image_ref(&reg, &format!("demo/hello@{digest}")))
        .await
        .unwrap();
    assert_eq!(by_digest.raw, by_tag.raw);
    assert_eq!(by_tag.descriptor(), img.descriptor());

    let config = client.blob(&repo, &manifest.config, 1 << 20).await.unwrap();
    assert_eq!(config, img.config);
    let layer = client
        .blob(&repo, &manifest.layers[0], 1 << 20)
        .await
        .unwrap();
    assert_eq!(layer, img.layer);

    // A blob bigger than the caller's limit is refused before it is fetched.
    let err = client
        .blob(&repo, &manifest.layers[0], 16)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RegistryError::TooLarge { limit: 16, .. }),
        "{err}"
    );

    let missing = client
        .resolve(&image_ref(&reg, "demo/hello:nope"))
        .await
        .unwrap_err();
    assert!(missing.is_not_found(), "{missing}");
    let missing_repo = client
        .resolve(&image_ref(&reg, "demo/absent:v1"))
        .await
        .unwrap_err();
    assert!(missing_repo.is_not_found(), "{missing_repo}");
}

#[tokio::test]
async fn finds_notary_signatures_through_the_tag_schema_and_cosign_sig_tags() {
    let reg = RealRegistry::start(RegistryOptions::default());
    let client = reg.client();
    let repo = reg.repo("demo/signed");
    let img = TestImage::new("signed image");
    let digest = img.push(&client, &repo, "v1").await;
    let subject = img.descriptor();
    let annotations = BTreeMap::new();

    // Notation's new format (artifactType, empty config) and its 1.x format
    // (config media type), both pointing at the image.
    let new_format = push_signature_manifest(
        &client,
        &repo,
        None,
        Some(mt::NOTARY_SIGNATURE),
        (mt::OCI_EMPTY, b"{}"),
        (JWS, b"{\"payload\":\"new\"}"),
        Some(&subject),
        &annotations,
    )
    .await;
    let old_format = push_signature_manifest(
        &client,
        &repo,
        None,
        None,
        (mt::NOTARY_SIGNATURE, b"{}"),
        (JWS, b"{\"payload\":\"old\"}"),
        Some(&subject),
        &annotations,
    )
    .await;
    let sbom = push_signature_manifest(
        &client,
        &repo,
        None,
        Some("application/spdx+json"),
        (mt::OCI_EMPTY, b"{}"),
        ("application/spdx+json", b"{}"),
        Some(&subject),
        &annotations,
    )
    .await;
    push_tag_schema_index(
        &client,
        &repo,
        &digest,
        &[new_format.clone(), old_format.clone(), sbom.clone()],
    )
    .await;

    // Cosign's legacy signature, under sha256-<hex>.sig.
    let mut sig_ann = BTreeMap::new();
    sig_ann.insert(
        "dev.cosignproject.cosign/signature".to_string(),
        "MEUCIQ==".to_string(),
    );
    let payload = format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"{}/demo/signed"}},"image":{{"docker-manifest-digest":"{digest}"}},"type":"cosign container image signature"}},"optional":null}}"#,
        reg.host
    );
    push_signature_manifest(
        &client,
        &repo,
        Some(&digest.cosign_signature_tag()),
        None,
        (mt::OCI_IMAGE_CONFIG, b"{}"),
        (mt::COSIGN_SIMPLE_SIGNING, payload.as_bytes()),
        None,
        &sig_ann,
    )
    .await;

    let notary = client
        .referrers(&repo, &digest, Some(mt::NOTARY_SIGNATURE))
        .await
        .unwrap();
    assert_eq!(notary.source, ReferrersSource::TagSchema);
    assert_eq!(
        notary.descriptors,
        vec![new_format.clone(), old_format.clone()]
    );

    let all = client.referrers(&repo, &digest, None).await.unwrap();
    assert_eq!(all.descriptors.len(), 3);

    // Each referrer is fetched by digest and checked against its descriptor.
    for d in &notary.descriptors {
        let m = client.manifest_for(&repo, d).await.unwrap();
        let m = m.parsed.as_image().unwrap();
        assert_eq!(m.effective_artifact_type(), mt::NOTARY_SIGNATURE);
        assert_eq!(m.subject.as_ref().unwrap().digest, digest);
        let envelope = client.blob(&repo, &m.layers[0], 1 << 20).await.unwrap();
        assert!(envelope.starts_with(b"{\"payload\""));
    }

    let sig = client
        .cosign_signature_manifest(&repo, &digest)
        .await
        .unwrap()
        .expect("the .sig manifest");
    let layer = &sig.parsed.layers[0];
    assert_eq!(layer.media_type, mt::COSIGN_SIMPLE_SIGNING);
    assert_eq!(
        layer.annotations["dev.cosignproject.cosign/signature"],
        "MEUCIQ=="
    );
    let body = client.blob(&repo, layer, 1 << 20).await.unwrap();
    assert_eq!(body, payload.as_bytes());

    let discovery = client.discover(&repo, &digest).await.unwrap();
    let kinds: Vec<SignatureKind> = discovery.candidates().into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        kinds,
        vec![
            SignatureKind::Notary,
            SignatureKind::Notary,
            SignatureKind::Other("application/spdx+json".into()),
            SignatureKind::CosignLegacy,
        ]
    );

    // An unsigned image: the API is missing and there is no tag index.
    let other = TestImage::new("unsigned image");
    let other_digest = other.push(&client, &repo, "unsigned").await;
    let none = client.referrers(&repo, &other_digest, None).await.unwrap();
    assert_eq!(none.source, ReferrersSource::NoneFound);
    assert!(none.descriptors.is_empty());
    assert!(
        client
            .cosign_signature_manifest(&repo, &other_digest)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn multi_arch_index_and_platform_manifest() {
    let reg = RealRegistry::start(RegistryOptions::default());
    let client = reg.client();
    let repo = reg.repo("demo/multi");
    let here = TestImage::new("multi here");
    let other_platform = if Platform::current().architecture == "arm64" {
        Platform::new("linux", "amd64", None)
    } else {
        Platform::new("linux", "arm64", Some("v8"))
    };
    let there = TestImage::for_platform("multi there", other_platform);
    let index = push_index(&client, &repo, "v1", &[there.clone(), here.clone()]).await;

    let resolved = client
        .resolve(&image_ref(&reg, "demo/multi:v1"))
        .await
        .unwrap();
    assert_eq!(resolved.digest, index.digest);
    assert_eq!(resolved.media_type, mt::OCI_INDEX);
    let Manifest::Index(idx) = &resolved.parsed else {
        panic!("expected an index")
    };
    let platform = client
        .platform_manifest(&repo, idx, &Platform::current())
        .await
        .unwrap()
        .expect("a manifest for this platform");
    assert_eq!(platform.digest, here.digest());
    let absent = client
        .platform_manifest(&repo, idx, &Platform::new("linux", "s390x", None))
        .await
        .unwrap();
    assert!(absent.is_none());
}

#[tokio::test]
async fn tls_with_basic_auth() {
    let reg = RealRegistry::start(RegistryOptions {
        tls: true,
        auth: Some(("testuser".into(), "testpass".into())),
    });
    let client = reg.client();
    let repo = reg.repo("secure/app");
    let img = TestImage::new("over tls");
    let digest = img.push(&client, &repo, "v1").await;
    let resolved = client
        .resolve(&image_ref(&reg, "secure/app:v1"))
        .await
        .unwrap();
    assert_eq!(resolved.digest, digest);

    // Without credentials: refused, with a typed error.
    let anonymous = RegistryClient::new(reg.client_config(false)).unwrap();
    let err = anonymous
        .resolve(&image_ref(&reg, "secure/app:v1"))
        .await
        .unwrap_err();
    assert!(matches!(err, RegistryError::Unauthorized { .. }), "{err}");

    // Wrong credentials given per call: refused.
    let wrong = anonymous.with_credentials(Some(Credentials::basic("testuser", "nope")));
    let err = wrong
        .resolve(&image_ref(&reg, "secure/app:v1"))
        .await
        .unwrap_err();
    assert!(matches!(err, RegistryError::Unauthorized { .. }), "{err}");

    // Right credentials given per call (as the kubelet's arrive): accepted.
    let per_call = anonymous.with_credentials(Some(Credentials::basic("testuser", "testpass")));
    let resolved = per_call
        .resolve(&image_ref(&reg, "secure/app:v1"))
        .await
        .unwrap();
    assert_eq!(resolved.digest, digest);

    // Credentials from a Docker config.json.
    let mut config = reg.client_config(false);
    config.docker_config = Some(
        DockerConfig::parse(
            format!(
                r#"{{"auths":{{"https://{}":{{"auth":"dGVzdHVzZXI6dGVzdHBhc3M="}}}}}}"#,
                reg.host
            )
            .as_bytes(),
        )
        .unwrap(),
    );
    let from_file = RegistryClient::new(config).unwrap();
    let resolved = from_file
        .resolve(&image_ref(&reg, "secure/app:v1"))
        .await
        .unwrap();
    assert_eq!(resolved.digest, digest);

    // Without the registry's CA the TLS handshake fails.
    let mut untrusted = reg.client_config(true);
    untrusted.hosts.get_mut(&reg.host).unwrap().ca_pem = None;
    let err = RegistryClient::new(untrusted)
        .unwrap()
        .resolve(&image_ref(&reg, "secure/app:v1"))
        .await
        .unwrap_err();
    assert!(matches!(err, RegistryError::Transport { .. }), "{err}");
}

#[tokio::test]
async fn plain_http_only_when_configured_insecure() {
    let reg = RealRegistry::start(RegistryOptions::default());
    let img = TestImage::new("insecure check");
    img.push(&reg.client(), &reg.repo("demo/x"), "v1").await;
    // No [registry."host"] entry: the client speaks HTTPS, which fails.
    let client = RegistryClient::new(ClientConfig::default()).unwrap();
    let err = client
        .resolve(&image_ref(&reg, "demo/x:v1"))
        .await
        .unwrap_err();
    assert!(matches!(err, RegistryError::Transport { .. }), "{err}");
}
