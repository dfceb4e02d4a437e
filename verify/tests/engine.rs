#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The engine against the real docker-registry: signatures found through
//! the referrers tag schema, several signatures of which some are bad,
//! multi-arch subjects, audit mode and uncovered repositories.

mod common;

use std::sync::Arc;

use common::*;
use pullgate_policy::TrustStoreRef;
use pullgate_registry::{Platform, RegistryClient, Repository};
use pullgate_testsupport::notary::{
    Corruption, EnvelopeFormat, ManifestShape, SignOptions, TestPki, push_notary_signature, sign,
};
use pullgate_testsupport::{RealRegistry, RegistryOptions, TestImage, push_index};
use pullgate_verify::notary::{NoRevocationData, NotaryVerifier, TrustStores};
use pullgate_verify::x509::parse_certificates;
use pullgate_verify::{Decision, Engine, EngineConfig, FixedClock, Mode, Require};
use time::macros::datetime;

fn engine(
    pki: &TestPki,
    mode: Mode,
    platform_signatures: bool,
    policy_json: Option<&str>,
) -> Engine {
    let mut stores = TrustStores::default();
    let r: TrustStoreRef = "ca:test".parse().unwrap();
    stores.insert(&r, parse_certificates(&pki.root.der).unwrap());
    let doc = match policy_json {
        Some(j) => policy(j),
        None => statement("strict", &["ca:test"], &["*"], ""),
    };
    Engine::new(
        EngineConfig {
            mode,
            require: Require::Any,
            notation: Some(NotaryVerifier {
                policy: doc,
                stores,
                revocation: Arc::new(NoRevocationData),
                max_signatures: 100,
            }),
            accept_platform_signatures: platform_signatures,
            platform: Platform::current(),
            node: Default::default(),
            cosign: None,
        },
        Arc::new(FixedClock(datetime!(2030-06-01 00:00 UTC))),
    )
}

fn opts(format: EnvelopeFormat) -> SignOptions {
    SignOptions {
        signing_time: datetime!(2030-05-31 12:00 UTC),
        ..SignOptions::new(format)
    }
}

async fn signed(
    client: &RegistryClient,
    repo: &Repository,
    subject: &pullgate_registry::Descriptor,
    pki: &TestPki,
    o: SignOptions,
) -> pullgate_registry::Descriptor {
    let env = sign(subject, &pki.chain(), &o);
    push_notary_signature(
        client,
        repo,
        subject,
        &env,
        ManifestShape::ArtifactType,
        true,
    )
    .await
}

#[tokio::test]
async fn several_signatures_one_good_one_bad() {
    let reg = RealRegistry::start(RegistryOptions::default());
    let client = reg.client();
    let repo = reg.repo("team/app");
    let pki = TestPki::code_signing_chain(1);
    let stranger = TestPki::code_signing_chain(0);
    let img = TestImage::new("several signatures");
    img.push(&client, &repo, "v1").await;
    let subject = img.descriptor();
    let image = format!("{}/team/app:v1", reg.host);

    // Unsigned first.
    let e = engine(&pki, Mode::Enforce, false, None);
    let v = e.verify(&client, &image).await;
    assert!(!v.allowed());
    assert!(v.reason().contains("no signature found"), "{}", v.reason());
    assert_eq!(v.digest, Some(img.digest()));

    // Two bad signatures: a stranger's and a corrupted one.
    signed(
        &client,
        &repo,
        &subject,
        &stranger,
        opts(EnvelopeFormat::Jws),
    )
    .await;
    signed(
        &client,
        &repo,
        &subject,
        &pki,
        SignOptions {
            corrupt: Corruption::Signature,
            ..opts(EnvelopeFormat::Cose)
        },
    )
    .await;
    let v = e.verify(&client, &image).await;
    assert!(matches!(v.decision, Decision::Denied(_)));
    let reason = v.reason();
    assert!(
        reason.starts_with("signature verification failed for all the signatures associated with"),
        "{reason}"
    );
    assert!(
        reason.contains("and 1 more signature(s) failed"),
        "{reason}"
    );

    // A good one among them is enough.
    let good = signed(&client, &repo, &subject, &pki, opts(EnvelopeFormat::Jws)).await;
    let v = e.verify(&client, &image).await;
    assert!(v.allowed(), "{}", v.reason());
    match &v.decision {
        Decision::Verified(vi) => {
            assert_eq!(vi.digest(), Some(&img.digest()));
            assert_eq!(vi.repository(), &repo);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        v.verifiers[0].reason.contains(&good.digest.to_string()),
        "{:?}",
        v.verifiers
    );

    // Pinned by digest: the same verdict.
    let v = e
        .verify(&client, &format!("{}/team/app@{}", reg.host, img.digest()))
        .await;
    assert!(v.allowed(), "{}", v.reason());

    // A signature copied to another repository says nothing there.
    let other = reg.repo("team/other");
    img.push(&client, &other, "v1").await;
    let v = e
        .verify(&client, &format!("{}/team/other:v1", reg.host))
        .await;
    assert!(!v.allowed());
}

#[tokio::test]
async fn audit_mode_and_uncovered_repositories() {
    let reg = RealRegistry::start(RegistryOptions::default());
    let client = reg.client();
    let pki = TestPki::code_signing_chain(0);
    let img = TestImage::new("audit");
    img.push(&client, &reg.repo("team/app"), "v1").await;
    let image = format!("{}/team/app:v1", reg.host);
    let v = engine(&pki, Mode::Audit, false, None)
        .verify(&client, &image)
        .await;
    assert!(!v.allowed());
    assert!(v.admitted());
    assert!(matches!(v.decision, Decision::Audited { .. }));
    assert_eq!(v.to_json()["mode"], "audit");

    let scoped = format!(
        r#"{{"version":"1.0","trustPolicies":[{{"name":"only-other","registryScopes":["{}/team/other"],
        "signatureVerification":{{"level":"strict"}},"trustStores":["ca:test"],"trustedIdentities":["*"]}}]}}"#,
        reg.host
    );
    let v = engine(&pki, Mode::Enforce, false, Some(&scoped))
        .verify(&client, &image)
        .await;
    assert!(!v.allowed());
    assert!(!v.verifiers[0].covered);
    assert!(
        v.reason()
            .starts_with("image is not covered by any trust policy"),
        "{}",
        v.reason()
    );

    // Bad references and unreachable images are denials, not errors.
    let e = engine(&pki, Mode::Enforce, false, None);
    let v = e.verify(&client, "Not A Reference").await;
    assert!(
        !v.allowed() && v.reason().contains("invalid image reference"),
        "{}",
        v.reason()
    );
    assert!(
        !v.verifiers[0].covered,
        "nothing covers what does not parse"
    );
    let v = e.verify(&client, "MYACR.azurecr.io/team/app:v1").await;
    assert!(!v.allowed());
    assert!(
        v.reason()
            .contains("spells its registry host with capitals: write \"myacr.azurecr.io\""),
        "{}",
        v.reason()
    );
    let v = e
        .verify(&client, &format!("{}/team/app:missing", reg.host))
        .await;
    assert!(
        !v.allowed() && v.reason().contains("could not resolve"),
        "{}",
        v.reason()
    );
    // A covered image that cannot be resolved is still covered: the
    // verifier's report says why it could not look.
    assert!(v.verifiers[0].covered, "{:?}", v.verifiers);
    assert!(!v.verifiers[0].allowed);
    assert!(v.verifiers[0].reason.contains("could not resolve"));
    // One no policy covers says so, resolvable or not.
    let v = engine(&pki, Mode::Enforce, false, Some(&scoped))
        .verify(&client, &format!("{}/team/app:missing", reg.host))
        .await;
    assert!(!v.allowed());
    assert!(!v.verifiers[0].covered);
    assert!(
        v.verifiers[0]
            .reason
            .contains("has no applicable oci trust policy statement"),
        "{:?}",
        v.verifiers
    );
}

#[tokio::test]
async fn multi_arch_signatures_on_the_index_or_the_platform_manifest() {
    let reg = RealRegistry::start(RegistryOptions::default());
    let client = reg.client();
    let repo = reg.repo("team/multi");
    let pki = TestPki::code_signing_chain(0);
    let here = TestImage::new("multi here");
    let other_platform = if Platform::current().architecture == "arm64" {
        Platform::new("linux", "amd64", None)
    } else {
        Platform::new("linux", "arm64", Some("v8"))
    };
    let there = TestImage::for_platform("multi there", other_platform);
    let index = push_index(&client, &repo, "v1", &[there, here.clone()]).await;
    let image = format!("{}/team/multi:v1", reg.host);

    // Only the platform manifest is signed.
    signed(
        &client,
        &repo,
        &here.descriptor(),
        &pki,
        opts(EnvelopeFormat::Jws),
    )
    .await;
    let v = engine(&pki, Mode::Enforce, false, None)
        .verify(&client, &image)
        .await;
    assert!(
        !v.allowed(),
        "a platform signature must not count by default"
    );
    assert_eq!(v.digest, Some(index.digest.clone()));
    let v = engine(&pki, Mode::Enforce, true, None)
        .verify(&client, &image)
        .await;
    assert!(v.allowed(), "{}", v.reason());
    assert_eq!(
        v.digest,
        Some(index.digest.clone()),
        "the verdict is the index's"
    );
    match &v.decision {
        Decision::Verified(image) => assert!(
            image.platform_only(),
            "allowed on this platform's signature only"
        ),
        other => panic!("{other:?}"),
    }

    // Signing the index, as notation and cosign do, counts either way.
    let repo2 = reg.repo("team/multi2");
    let here2 = TestImage::new("multi2 here");
    let index2 = push_index(&client, &repo2, "v1", &[here2]).await;
    signed(&client, &repo2, &index2, &pki, opts(EnvelopeFormat::Cose)).await;
    let v = engine(&pki, Mode::Enforce, false, None)
        .verify(&client, &format!("{}/team/multi2:v1", reg.host))
        .await;
    assert!(v.allowed(), "{}", v.reason());
    match &v.decision {
        Decision::Verified(image) => assert!(!image.platform_only()),
        other => panic!("{other:?}"),
    }
}

/// The generation is a function of what verdicts depend on: the same inputs
/// (even written differently) give the same hash, a change gives another.
#[test]
fn the_generation_follows_policy_and_trust_material() {
    let pki = TestPki::code_signing_chain(0);
    let other = TestPki::code_signing_chain(0);
    let base = engine(&pki, Mode::Enforce, false, None);
    assert_eq!(
        base.generation(),
        engine(&pki, Mode::Enforce, false, None).generation()
    );
    // The same document with other whitespace and key order.
    let spaced = r#"{ "trustPolicies": [ { "trustedIdentities": ["*"], "trustStores": ["ca:test"],
        "signatureVerification": {"level": "strict"}, "registryScopes": ["*"], "name": "p" } ],
        "version": "1.0" }"#;
    let compact = r#"{"version":"1.0","trustPolicies":[{"name":"p","registryScopes":["*"],"signatureVerification":{"level":"strict"},"trustStores":["ca:test"],"trustedIdentities":["*"]}]}"#;
    assert_eq!(
        engine(&pki, Mode::Enforce, false, Some(spaced)).generation(),
        engine(&pki, Mode::Enforce, false, Some(compact)).generation()
    );
    let permissive = compact.replace("strict", "permissive");
    assert_ne!(
        engine(&pki, Mode::Enforce, false, Some(compact)).generation(),
        engine(&pki, Mode::Enforce, false, Some(&permissive)).generation()
    );
    assert_ne!(
        base.generation(),
        engine(&other, Mode::Enforce, false, None).generation(),
        "other trust material"
    );
    assert_ne!(
        base.generation(),
        engine(&pki, Mode::Enforce, true, None).generation(),
        "accept_platform_signatures"
    );
    // The mode is not part of it: verified images stay verified when a
    // cluster moves from audit to enforce.
    assert_eq!(
        base.generation(),
        engine(&pki, Mode::Audit, false, None).generation()
    );
    let hex = base.generation().to_hex();
    assert_eq!(
        pullgate_verify::Generation::from_hex(&hex).as_ref(),
        Some(base.generation())
    );
}
