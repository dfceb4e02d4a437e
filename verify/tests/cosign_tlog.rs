#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Cosign legacy `.sig` signatures with the transparency log (Rekor SETs
//! verified offline) and with certificates (keyless Fulcio and BYO-PKI),
//! against Debian's docker-registry: every vector of
//! ../shared/vectors/cosign/README.md section 1 that involves a SET or a
//! certificate, then signatures, certificates and SETs made here by a test
//! CA and a test Rekor key (correct entries, and entries whose signature,
//! key or payload hash do not match).

mod cosign_support;

use std::collections::BTreeMap;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as sig, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cosign_support::*;
use pullgate_policy::cosign::{CosignPolicies, CosignPolicy, KeyHash, KeyRef, Keyless, Scope};
use pullgate_registry::media_types as mt;
use pullgate_registry::{Descriptor, Platform};
use pullgate_testsupport::{RealRegistry, RegistryOptions};
use pullgate_verify::cosign::keyless::{
    IdentityPolicy, certificate_identity, intermediates_from_annotation, leaf_from_annotation,
    oidc_issuer, verify_certificate,
};
use pullgate_verify::cosign::rekor::{EntryKind, RekorBundle, SignedBy, verify_bundle};
use pullgate_verify::cosign::{
    BUNDLE_ANNOTATION, CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION, CosignKey, CosignVerifier,
    RekorKey,
};
use pullgate_verify::notary::Subject;
use pullgate_verify::x509::{Cert, parse_certificates};
use pullgate_verify::{EngineConfig, Generation, Mode, NodePolicy, Require};
use rcgen::{
    CertificateParams, CustomExtension, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyUsagePurpose, OtherNameValue, SanType,
};
use serde_json::json;
use time::OffsetDateTime;
use time::macros::datetime;

// ---------------------------------------------------------------- helpers

const COSIGN_PUB: &str = "containers-image/cosign.pub";
const COSIGN2_PUB: &str = "containers-image/cosign2.pub";
const REKOR_PUB: &str = "containers-image/rekor.pub";
const FULCIO_ROOT: &str = "containers-image/fulcio_v1.crt.pem";
const FULCIO_CHAIN: &str = "containers-image/fulcio-chain";
const KEY_REKOR: &str = "containers-image/dir-img-cosign-key-rekor-valid/signature-1";
const FULCIO_REKOR: &str = "containers-image/dir-img-cosign-fulcio-rekor-valid/signature-1";
const PKI: &str = "containers-image/dir-img-cosign-pki-valid/signature-1";
const VALID: &str = "containers-image/dir-img-cosign-valid/signature-1";
const PUBLIC_GOOD_LOG: &str = "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d";
const GITHUB_OAUTH: &str = "https://github.com/login/oauth";

fn keys(files: &[&str]) -> Vec<CosignKey> {
    files
        .iter()
        .flat_map(|f| CosignKey::from_pem(&read(f), KeyHash::Sha256, f).unwrap())
        .collect()
}

fn rekor_keys(files: &[&str]) -> Vec<RekorKey> {
    files
        .iter()
        .flat_map(|f| RekorKey::from_pem(&read(f), f).unwrap())
        .collect()
}

fn certs(files: &[&str]) -> Vec<Cert> {
    files
        .iter()
        .flat_map(|f| parse_certificates(&read(f)).unwrap())
        .collect()
}

/// A policy for `*` named "default": keys from provider "test" (when
/// `with_keys`), Rekor keys from provider "rekor".
fn policy(with_keys: bool, tlog_verify: bool, keyless: Option<Keyless>) -> CosignPolicy {
    CosignPolicy {
        name: "default".into(),
        scopes: vec![Scope::parse("*").unwrap()],
        keys: if with_keys {
            vec![KeyRef {
                provider: "test".into(),
                name: None,
                version: None,
                hash: KeyHash::Sha256,
            }]
        } else {
            Vec::new()
        },
        tlog_verify,
        rekor_keys: Some("rekor".into()),
        keyless,
        trusted_root: None,
    }
}

/// Without an issuer: any, including none (`issuer_regexp = ".*"`, which
/// a private CA's certificates without the extension need).
fn identity(identity: &str, issuer: Option<&str>) -> Keyless {
    Keyless {
        issuer: issuer.map(str::to_string),
        issuer_regexp: issuer.is_none().then(|| ".*".to_string()),
        identity: Some(identity.into()),
        identity_regexp: None,
        fulcio_roots: Some("fulcio".into()),
        ctlog_keys: None,
    }
}

fn verifier(
    policy: CosignPolicy,
    keys: Vec<CosignKey>,
    rekor: Vec<RekorKey>,
    roots: Vec<Cert>,
) -> CosignVerifier {
    let name = policy.name.clone();
    CosignVerifier {
        policies: CosignPolicies::new(vec![policy]).unwrap(),
        keys: BTreeMap::from([(name.clone(), keys)]),
        rekor_keys: BTreeMap::from([(name.clone(), rekor)]),
        fulcio_roots: BTreeMap::from([(name, roots)]),
        bundles: BTreeMap::new(),
        max_signatures: 100,
    }
}

/// A key policy with the transparency log.
fn key_verifier(key_files: &[&str], rekor_files: &[&str]) -> CosignVerifier {
    verifier(
        policy(true, true, None),
        keys(key_files),
        rekor_keys(rekor_files),
        Vec::new(),
    )
}

/// The fulcio-rekor-valid policy: mitr@redhat.com from GitHub's OAuth.
fn fulcio_verifier(who: &str, rekor_files: &[&str], roots: &[&str]) -> CosignVerifier {
    verifier(
        policy(false, true, Some(identity(who, Some(GITHUB_OAUTH)))),
        Vec::new(),
        rekor_keys(rekor_files),
        certs(roots),
    )
}

fn without(layer: &SigLayer, annotation: &str) -> SigLayer {
    let mut l = layer.clone();
    assert!(l.annotations.remove(annotation).is_some(), "{annotation}");
    l
}

fn with(layer: &SigLayer, annotation: &str, value: &str) -> SigLayer {
    let mut l = layer.clone();
    l.annotations.insert(annotation.into(), value.into());
    l
}

fn utc(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).unwrap()
}

// ------------------------------------------- function-level vectors (CI)

/// containers/image `TestVerifyRekorSET` and `TestVerifyRekorFulcio`: the
/// unit SET verifies with rekor.pub and gives 2022-12-12T18:48:19Z; its
/// hashedrekord body matches rekor-sig, rekor-cert and rekor-payload, and
/// nothing else; empty, garbage or wrongly keyed SETs fail.
#[test]
fn rekor_set_unit_vector() {
    let set = read("containers-image/rekor-set");
    let parsed = RekorBundle::parse(&set).unwrap();
    assert_eq!(parsed.log_id, PUBLIC_GOOD_LOG);
    let rekor = rekor_keys(&[REKOR_PUB]);
    assert_eq!(
        rekor[0].log_id, PUBLIC_GOOD_LOG,
        "logID = SHA-256 of the SPKI"
    );
    let v = parsed.verify(&rekor).unwrap();
    assert_eq!(v.integrated_time, datetime!(2022-12-12 18:48:19 UTC));
    assert_eq!(v.integrated_time, utc(1_670_870_899));
    assert_eq!(v.log_index, 8_949_589);
    assert_eq!(v.body.kind, EntryKind::HashedRekord);

    let signature = STANDARD
        .decode(
            String::from_utf8(read("containers-image/rekor-sig"))
                .unwrap()
                .trim(),
        )
        .unwrap();
    let cert =
        leaf_from_annotation(&String::from_utf8(read("containers-image/rekor-cert")).unwrap())
            .unwrap();
    let payload = read("containers-image/rekor-payload");
    v.body
        .check(&signature, SignedBy::Certificate(&cert), &payload)
        .unwrap();
    // the certificate's bare key matches too (keys are compared, as cosign does)
    v.body
        .check(&signature, SignedBy::Key(cert.public_key()), &payload)
        .unwrap();
    let e = v
        .body
        .check(
            &signature,
            SignedBy::Certificate(&cert),
            b"this payload does not match",
        )
        .unwrap_err();
    assert!(e.starts_with("payload in Rekor SET does not match"), "{e}");
    let mut other = signature.clone();
    other[10] ^= 1;
    let e = v
        .body
        .check(&other, SignedBy::Certificate(&cert), &payload)
        .unwrap_err();
    assert!(
        e.starts_with("signature in Rekor SET does not match"),
        "{e}"
    );
    let cosign = keys(&[COSIGN_PUB]);
    let e = v
        .body
        .check(&signature, SignedBy::Key(&cosign[0].key), &payload)
        .unwrap_err();
    assert!(
        e.starts_with("publicKey in Rekor SET does not match"),
        "{e}"
    );
    let fulcio_root = &certs(&[FULCIO_ROOT])[0];
    let e = v
        .body
        .check(&signature, SignedBy::Certificate(fulcio_root), &payload)
        .unwrap_err();
    assert!(
        e.starts_with("publicKey in Rekor SET does not match"),
        "{e}"
    );

    // the whole of TestVerifyRekorFulcio: SET, body, then the chain at its time
    let at = verify_bundle(
        std::str::from_utf8(&set).unwrap(),
        &rekor,
        &signature,
        SignedBy::Certificate(&cert),
        &payload,
    )
    .unwrap()
    .integrated_time;
    let chain =
        intermediates_from_annotation(&String::from_utf8(read(FULCIO_CHAIN)).unwrap()).unwrap();
    let who = IdentityPolicy::new(&identity("mitr@redhat.com", Some(GITHUB_OAUTH))).unwrap();
    verify_certificate(&cert, &chain, &certs(&[FULCIO_ROOT]), at, &who).unwrap();

    // empty and garbage SETs; the wrong key
    for bad in [&b""[..], b"this is not a valid SET", b"{}"] {
        let e = RekorBundle::parse(bad).unwrap_err();
        assert!(
            e.starts_with("the dev.sigstore.cosign/bundle annotation is not a Rekor SET"),
            "{e}"
        );
    }
    let e = parsed.verify(&rekor_keys(&[COSIGN_PUB])).unwrap_err();
    assert!(
        e.contains(&format!(
            "the Rekor SET is from log \"{PUBLIC_GOOD_LOG}\", and none of the policy's 1 Rekor key(s) has that log ID"
        )),
        "{e}"
    );
    // a wrong key registered under the log's ID: the signature fails
    let mut impostor = rekor_keys(&[COSIGN_PUB]);
    impostor[0].log_id = PUBLIC_GOOD_LOG.into();
    let e = parsed.verify(&impostor).unwrap_err();
    assert_eq!(
        e,
        format!("cryptographic signature verification of Rekor SET failed (log {PUBLIC_GOOD_LOG})")
    );
    // any change to what the SET signs breaks it
    let text = String::from_utf8(set).unwrap();
    for (from, to) in [("1670870899", "1670870900"), ("8949589", "8949590")] {
        let changed = RekorBundle::parse(text.replace(from, to).as_bytes()).unwrap();
        let e = changed.verify(&rekor).unwrap_err();
        assert!(e.starts_with("cryptographic signature verification"), "{e}");
    }
}

/// containers/image `TestFulcioTrustRootVerifyFulcioCertificateAtTime`:
/// fulcio-cert (valid 18:48:18→18:58:18) with fulcio-chain and root
/// fulcio_v1.crt.pem is valid at 18:48:19, not at 18:48:17 nor 18:58:19;
/// without the chain only when the intermediate is trusted; the identity
/// and issuer must match.
#[test]
fn fulcio_certificate_validity_window() {
    let leaf =
        leaf_from_annotation(&String::from_utf8(read("containers-image/fulcio-cert")).unwrap())
            .unwrap();
    let chain =
        intermediates_from_annotation(&String::from_utf8(read(FULCIO_CHAIN)).unwrap()).unwrap();
    assert_eq!(chain.len(), 1, "the root (last) is not an intermediate");
    let roots = certs(&[FULCIO_ROOT]);
    let who = IdentityPolicy::new(&identity("mitr@redhat.com", Some(GITHUB_OAUTH))).unwrap();
    let ok = verify_certificate(
        &leaf,
        &chain,
        &roots,
        datetime!(2022-12-12 18:48:19 UTC),
        &who,
    )
    .unwrap();
    assert_eq!(ok.chain.len(), 3);
    assert_eq!(ok.identity.sans, ["mitr@redhat.com"]);
    assert_eq!(ok.identity.issuer.as_deref(), Some(GITHUB_OAUTH));
    assert_eq!(
        ok.describe(),
        "certificate for mitr@redhat.com (OIDC issuer https://github.com/login/oauth) chaining to \"CN=sigstore,O=sigstore.dev\""
    );
    for (at, why) in [
        (
            datetime!(2022-12-12 18:48:17 UTC),
            "certificate chain does not verify at 2022-12-12T18:48:17Z: x509: certificate has expired or is not yet valid: current time 2022-12-12T18:48:17Z is before 2022-12-12T18:48:18Z",
        ),
        (
            datetime!(2022-12-12 18:58:19 UTC),
            "certificate chain does not verify at 2022-12-12T18:58:19Z: x509: certificate has expired or is not yet valid: current time 2022-12-12T18:58:19Z is after 2022-12-12T18:58:18Z",
        ),
    ] {
        let e = verify_certificate(&leaf, &chain, &roots, at, &who).unwrap_err();
        assert_eq!(e, why);
    }
    let at = datetime!(2022-12-12 18:48:19 UTC);
    let e = verify_certificate(&leaf, &[], &roots, at, &who).unwrap_err();
    assert!(
        e.contains("x509: certificate signed by unknown authority"),
        "{e}"
    );
    let mut anchors = roots.clone();
    anchors.extend(chain.clone());
    verify_certificate(&leaf, &[], &anchors, at, &who).unwrap();
    // the chain annotation's root is never trusted by itself
    let e = verify_certificate(
        &leaf,
        &chain,
        &certs(&["sigstore-rs/fulcio-root-v0.1.pem"]),
        at,
        &who,
    )
    .unwrap_err();
    assert!(e.contains("unknown authority"), "{e}");

    let wrong = IdentityPolicy::new(&identity("this-does-not-match@example.com", None)).unwrap();
    let e = verify_certificate(&leaf, &chain, &roots, at, &wrong).unwrap_err();
    assert_eq!(
        e,
        "certificate identity does not match: the certificate names [mitr@redhat.com], the policy requires identity \"this-does-not-match@example.com\""
    );
    let wrong_issuer = IdentityPolicy::new(&identity(
        "mitr@redhat.com",
        Some("https://accounts.google.com"),
    ))
    .unwrap();
    let e = verify_certificate(&leaf, &chain, &roots, at, &wrong_issuer).unwrap_err();
    assert_eq!(
        e,
        "certificate issuer does not match: the certificate's OIDC issuer is \"https://github.com/login/oauth\", the policy requires issuer \"https://accounts.google.com\""
    );
    // regular expressions match anywhere, as cosign's do
    let regexp = |id: &str, issuer: &str| {
        IdentityPolicy::new(&Keyless {
            identity: None,
            identity_regexp: Some(id.into()),
            issuer: None,
            issuer_regexp: Some(issuer.into()),
            ..identity("x", None)
        })
        .unwrap()
    };
    verify_certificate(
        &leaf,
        &chain,
        &roots,
        at,
        &regexp("@redhat\\.com$", "github"),
    )
    .unwrap();
    verify_certificate(
        &leaf,
        &chain,
        &roots,
        at,
        &regexp("redhat", "^https://github\\.com/"),
    )
    .unwrap();
    let e =
        verify_certificate(&leaf, &chain, &roots, at, &regexp("^redhat", "github")).unwrap_err();
    assert!(
        e.contains("the policy requires identity_regexp \"^redhat\""),
        "{e}"
    );
    let e = verify_certificate(&leaf, &chain, &roots, at, &regexp("redhat", "google")).unwrap_err();
    assert!(
        e.contains("the policy requires issuer_regexp \"google\""),
        "{e}"
    );
}

/// sigstore-rs `bundle_new_verified_success` and its failures:
/// rekor-bundle-rekord-2021.json (a `rekord` entry) verifies with the
/// public-good key; not with key-only.pub (whose own log ID is another, and
/// which fails the signature when registered under the right one); not
/// when the right key is registered under another log ID.
#[test]
fn rekord_bundle_of_2021() {
    let bundle = RekorBundle::parse(&read("sigstore-rs/rekor-bundle-rekord-2021.json")).unwrap();
    let v = bundle.verify(&rekor_keys(&[REKOR_PUB])).unwrap();
    assert_eq!(v.integrated_time, datetime!(2021-10-20 07:16:19 UTC));
    assert_eq!(v.log_index, 783_606);
    assert_eq!(v.body.kind, EntryKind::Rekord);
    assert!(v.body.public_key.starts_with(b"-----BEGIN PUBLIC KEY-----"));

    let e = bundle
        .verify(&rekor_keys(&["sigstore-rs/key-only.pub"]))
        .unwrap_err();
    assert!(e.contains("has that log ID"), "{e}");
    let mut substituted = rekor_keys(&["sigstore-rs/key-only.pub"]);
    substituted[0].log_id = PUBLIC_GOOD_LOG.into();
    let e = bundle.verify(&substituted).unwrap_err();
    assert!(
        e.starts_with("cryptographic signature verification of Rekor SET failed"),
        "{e}"
    );
    let mut elsewhere = rekor_keys(&[REKOR_PUB]);
    elsewhere[0].log_id = "cf1199155bddd051268d1f16ac5c0c75c009f6fb5a63f4177f8e18d7051e3fa0".into();
    let e = bundle.verify(&elsewhere).unwrap_err();
    assert!(
        e.contains("(cf1199155bddd051268d1f16ac5c0c75c009f6fb5a63f4177f8e18d7051e3fa0)"),
        "{e}"
    );
}

/// containers/image refuses a non-ECDSA Rekor key (some-rsa-key.pub) when
/// the policy is built; so does pullgate.
#[test]
fn rekor_keys_must_be_ecdsa() {
    let e = RekorKey::from_pem(
        &read("containers-image/some-rsa-key.pub"),
        "some-rsa-key.pub",
    )
    .unwrap_err();
    assert_eq!(
        e,
        "some-rsa-key.pub: an RSA-4096 key cannot be a Rekor public key (Rekor logs sign with ECDSA)"
    );
    let ed = aws_lc_rs::signature::Ed25519KeyPair::generate().unwrap();
    let der = ed.public_key().as_der().unwrap();
    let e = RekorKey::from_pem(&pem(der.as_ref()), "ed.pub").unwrap_err();
    assert!(
        e.contains("an Ed25519 key cannot be a Rekor public key"),
        "{e}"
    );
}

// ------------------------------------------- registry-level vectors

/// dir-img-cosign-key-rekor-valid: accepted with keys {cosign2},
/// {cosign2, cosign}, {cosign, cosign2} and Rekor keys {rekor},
/// {rekor, cosign}, {cosign, rekor}; refused without the bundle, with a
/// garbage bundle, with cosign.pub as the Rekor key, and when its bundle is
/// grafted onto another signature.
#[tokio::test]
async fn key_signature_with_rekor_vector() {
    let reg = RealRegistry::start(RegistryOptions::default());
    let (client, repo) = (reg.client(), reg.repo("cosign/key-rekor"));
    let s = vector_subject("dir-img-cosign-key-rekor-valid");
    let layer = sig_file(KEY_REKOR);
    push_sig(
        &client,
        &repo,
        &s.descriptor.digest,
        std::slice::from_ref(&layer),
    )
    .await;
    for key_files in [
        &[COSIGN2_PUB][..],
        &[COSIGN2_PUB, COSIGN_PUB],
        &[COSIGN_PUB, COSIGN2_PUB],
    ] {
        for rekor in [
            &[REKOR_PUB][..],
            &[REKOR_PUB, COSIGN_PUB],
            &[COSIGN_PUB, REKOR_PUB],
        ] {
            let r = run(
                &key_verifier(key_files, rekor),
                &client,
                &repo,
                std::slice::from_ref(&s),
            )
            .await;
            assert_verified(
                &r,
                "containers-image/cosign2.pub, Rekor log entry 11608800 integrated at 2023-01-20T21:57:39Z",
            );
        }
    }
    let v = key_verifier(&[COSIGN2_PUB], &[REKOR_PUB]);
    let deny = async |layer: SigLayer, v: &CosignVerifier, s: &Subject| {
        push_sig(&client, &repo, &s.descriptor.digest, &[layer]).await;
        run(v, &client, &repo, std::slice::from_ref(s)).await
    };
    let r = deny(without(&layer, BUNDLE_ANNOTATION), &v, &s).await;
    assert_denied(
        &r,
        &[
            "(signed by containers-image/cosign2.pub): no transparency-log entry (bundle annotation) and tlog_verify is true",
        ],
    );
    let r = deny(
        with(&layer, BUNDLE_ANNOTATION, "this is not a valid SET"),
        &v,
        &s,
    )
    .await;
    assert_denied(
        &r,
        &["the dev.sigstore.cosign/bundle annotation is not a Rekor SET: it is not valid JSON"],
    );
    let r = deny(
        layer.clone(),
        &key_verifier(&[COSIGN2_PUB], &[COSIGN_PUB]),
        &s,
    )
    .await;
    assert_denied(&r, &["none of the policy's 1 Rekor key(s) has that log ID"]);
    // the same bundle on dir-img-cosign-valid's signature (by cosign.pub)
    let valid = vector_subject("dir-img-cosign-valid");
    let grafted = with(
        &sig_file(VALID),
        BUNDLE_ANNOTATION,
        &layer.annotations[BUNDLE_ANNOTATION],
    );
    let r = deny(
        grafted,
        &key_verifier(&[COSIGN_PUB, COSIGN2_PUB], &[REKOR_PUB]),
        &valid,
    )
    .await;
    assert_denied(
        &r,
        &["(signed by containers-image/cosign.pub): signature in Rekor SET does not match"],
    );
    // with tlog_verify = false the bundle plays no part
    let off = verifier(
        policy(true, false, None),
        keys(&[COSIGN_PUB]),
        Vec::new(),
        Vec::new(),
    );
    let grafted = with(
        &sig_file(VALID),
        BUNDLE_ANNOTATION,
        "this is not a valid SET",
    );
    push_sig(&client, &repo, &valid.descriptor.digest, &[grafted]).await;
    assert_verified(&run(&off, &client, &repo, &[valid]).await, "cosign.pub");
}

/// dir-img-cosign-fulcio-rekor-valid: accepted at its integratedTime
/// (2023-01-20T20:51:33Z; the leaf expired at 21:01:31Z) with the root
/// fulcio_v1.crt.pem, the chain annotation's intermediate, rekor.pub and
/// mitr@redhat.com from GitHub's OAuth. Refused: bundle removed (with or
/// without the log required), certificate removed, chain removed (unless
/// the intermediate is configured), garbage certificate, another email,
/// garbage SET, cosign.pub as the Rekor key.
#[tokio::test]
async fn keyless_fulcio_rekor_vector() {
    let reg = RealRegistry::start(RegistryOptions::default());
    let (client, repo) = (reg.client(), reg.repo("cosign/fulcio-rekor"));
    let s = vector_subject("dir-img-cosign-fulcio-rekor-valid");
    let layer = sig_file(FULCIO_REKOR);
    let good = fulcio_verifier("mitr@redhat.com", &[REKOR_PUB], &[FULCIO_ROOT]);
    let check = async |layer: SigLayer, v: &CosignVerifier| {
        push_sig(&client, &repo, &s.descriptor.digest, &[layer]).await;
        run(v, &client, &repo, std::slice::from_ref(&s)).await
    };
    let r = check(layer.clone(), &good).await;
    assert_verified(
        &r,
        "certificate for mitr@redhat.com (OIDC issuer https://github.com/login/oauth) chaining to \"CN=sigstore,O=sigstore.dev\", Rekor log entry 11605770 integrated at 2023-01-20T20:51:33Z",
    );

    let r = check(without(&layer, BUNDLE_ANNOTATION), &good).await;
    assert_denied(
        &r,
        &["no transparency-log entry (bundle annotation) and tlog_verify is true"],
    );
    // without the log the certificate is checked now: long expired
    let no_tlog = verifier(
        policy(
            false,
            false,
            Some(identity("mitr@redhat.com", Some(GITHUB_OAUTH))),
        ),
        Vec::new(),
        Vec::new(),
        certs(&[FULCIO_ROOT]),
    );
    let r = check(without(&layer, BUNDLE_ANNOTATION), &no_tlog).await;
    assert_denied(
        &r,
        &[
            "x509: certificate has expired or is not yet valid: current time",
            "is after 2023-01-20T21:01:31Z",
        ],
    );
    let r = check(without(&layer, CERTIFICATE_ANNOTATION), &good).await;
    assert_denied(
        &r,
        &[
            "no dev.sigstore.cosign/certificate annotation: a keyless policy verifies signatures made with a certificate",
        ],
    );
    let r = check(without(&layer, CHAIN_ANNOTATION), &good).await;
    assert_denied(
        &r,
        &[
            "certificate chain does not verify at 2023-01-20T20:51:33Z: x509: certificate signed by unknown authority",
        ],
    );
    let with_intermediates = fulcio_verifier("mitr@redhat.com", &[REKOR_PUB], &[FULCIO_CHAIN]);
    let r = check(without(&layer, CHAIN_ANNOTATION), &with_intermediates).await;
    assert_verified(&r, "certificate for mitr@redhat.com");
    let r = check(
        with(&layer, CERTIFICATE_ANNOTATION, "this is not a certificate"),
        &good,
    )
    .await;
    assert_denied(
        &r,
        &["the dev.sigstore.cosign/certificate annotation is not a PEM certificate"],
    );
    let other = fulcio_verifier(
        "this-does-not-match@example.com",
        &[REKOR_PUB],
        &[FULCIO_ROOT],
    );
    let r = check(layer.clone(), &other).await;
    assert_denied(
        &r,
        &[
            "certificate identity does not match: the certificate names [mitr@redhat.com], the policy requires identity \"this-does-not-match@example.com\"",
        ],
    );
    let r = check(
        with(&layer, BUNDLE_ANNOTATION, "this is not a valid SET"),
        &good,
    )
    .await;
    assert_denied(&r, &["is not a Rekor SET"]);
    let wrong_rekor = fulcio_verifier("mitr@redhat.com", &[COSIGN_PUB], &[FULCIO_ROOT]);
    let r = check(layer.clone(), &wrong_rekor).await;
    assert_denied(&r, &["has that log ID"]);
    // a key policy does not read certificates: no key verifies it
    let r = check(
        layer,
        &key_verifier(&[COSIGN_PUB, COSIGN2_PUB], &[REKOR_PUB]),
    )
    .await;
    assert_denied(
        &r,
        &["signature does not verify with any of the 2 keys of the policy"],
    );
}

/// dir-img-cosign-pki-valid: a BYO-PKI certificate without a transparency
/// log, checked now (valid until 2052) under a keyless policy with
/// tlog_verify = false: accepted by email or DNS name; without the chain
/// annotation only when the intermediate is configured; refused without
/// the certificate, with the log required, or for another identity.
#[tokio::test]
async fn pki_certificate_without_tlog_vector() {
    let reg = RealRegistry::start(RegistryOptions::default());
    let (client, repo) = (reg.client(), reg.repo("cosign/pki"));
    let s = vector_subject("dir-img-cosign-pki-valid");
    let layer = sig_file(PKI);
    assert!(!layer.annotations.contains_key(BUNDLE_ANNOTATION));
    let pki = |who: &str, roots: &[&str], tlog: bool| {
        verifier(
            policy(false, tlog, Some(identity(who, None))),
            Vec::new(),
            rekor_keys(&[REKOR_PUB]),
            certs(roots),
        )
    };
    let root = "containers-image/pki_root_crts.pem";
    let intermediate = "containers-image/pki_intermediate_crts.pem";
    let check = async |layer: SigLayer, v: &CosignVerifier| {
        push_sig(&client, &repo, &s.descriptor.digest, &[layer]).await;
        run(v, &client, &repo, std::slice::from_ref(&s)).await
    };
    let r = check(layer.clone(), &pki("qiwan@redhat.com", &[root], false)).await;
    assert_verified(
        &r,
        "certificate for qiwan@redhat.com (no OIDC issuer) chaining to \"CN=Linuxera Root Certificate Authority,OU=Security,O=IT,L=Valencia,C=ES\"",
    );
    let r = check(layer.clone(), &pki("myhost.example.com", &[root], false)).await;
    assert_verified(&r, "certificate for myhost.example.com");
    let r = check(
        without(&layer, CHAIN_ANNOTATION),
        &pki("qiwan@redhat.com", &[root], false),
    )
    .await;
    assert_denied(&r, &["x509: certificate signed by unknown authority"]);
    let r = check(
        without(&layer, CHAIN_ANNOTATION),
        &pki("qiwan@redhat.com", &[root, intermediate], false),
    )
    .await;
    assert_verified(&r, "certificate for qiwan@redhat.com");
    let r = check(
        without(&layer, CERTIFICATE_ANNOTATION),
        &pki("qiwan@redhat.com", &[root], false),
    )
    .await;
    assert_denied(&r, &["no dev.sigstore.cosign/certificate annotation"]);
    let r = check(layer.clone(), &pki("qiwan@redhat.com", &[root], true)).await;
    assert_denied(
        &r,
        &["no transparency-log entry (bundle annotation) and tlog_verify is true"],
    );
    let r = check(layer, &pki("someone@redhat.com", &[root], false)).await;
    assert_denied(
        &r,
        &[
            "the certificate names [myhost.example.com, qiwan@redhat.com], the policy requires identity \"someone@redhat.com\"",
        ],
    );
}

/// sigstore-rs keyless.*: a 2021 leaf issued directly by the 2021 root,
/// no OIDC issuer extension, a `rekord` entry; an identity-only policy
/// accepts it at integratedTime 2021-10-20T07:25:17Z, a policy that
/// requires an issuer cannot match.
#[tokio::test]
async fn sigstore_rs_keyless_vector() {
    let reg = RealRegistry::start(RegistryOptions::default());
    let (client, repo) = (reg.client(), reg.repo("cosign/keyless-2021"));
    let payload = read("sigstore-rs/keyless.payload.json");
    let annotations: BTreeMap<String, String> =
        serde_json::from_slice(&read("sigstore-rs/keyless.annotations.json")).unwrap();
    assert!(!annotations.contains_key(CHAIN_ANNOTATION));
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
    let leaf = leaf_from_annotation(&layer.annotations[CERTIFICATE_ANNOTATION]).unwrap();
    assert_eq!(oidc_issuer(&leaf).unwrap(), None);
    let set = RekorBundle::parse(layer.annotations[BUNDLE_ANNOTATION].as_bytes()).unwrap();
    assert_eq!(
        set.verify(&rekor_keys(&[REKOR_PUB])).unwrap().body.kind,
        EntryKind::Rekord
    );
    push_sig(&client, &repo, &digest, &[layer]).await;
    let v = |issuer: Option<&str>| {
        verifier(
            policy(false, true, Some(identity("flavio@castelli.me", issuer))),
            Vec::new(),
            rekor_keys(&[REKOR_PUB]),
            certs(&["sigstore-rs/fulcio-root-v0.1.pem"]),
        )
    };
    let r = run(&v(None), &client, &repo, std::slice::from_ref(&s)).await;
    assert_verified(
        &r,
        "certificate for flavio@castelli.me (no OIDC issuer) chaining to \"CN=sigstore,O=sigstore.dev\", Rekor log entry 783607 integrated at 2021-10-20T07:25:17Z",
    );
    let r = run(&v(Some(GITHUB_OAUTH)), &client, &repo, &[s]).await;
    assert_denied(
        &r,
        &[
            "certificate issuer does not match: the certificate has no OIDC issuer extension (1.3.6.1.4.1.57264.1.8 or 1.3.6.1.4.1.57264.1.1), the policy requires issuer \"https://github.com/login/oauth\"",
        ],
    );
}

// ------------------------------------------- made here: a test CA and log

/// A test CA: its rcgen parameters and key, to issue certificates.
struct Ca {
    params: CertificateParams,
    key: rcgen::KeyPair,
    der: Vec<u8>,
}

impl Ca {
    fn root(cn: &str) -> Ca {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
        let params = ca_params(cn);
        let der = params.self_signed(&key).unwrap().der().to_vec();
        Ca { params, key, der }
    }

    fn intermediate(&self, cn: &str) -> Ca {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
        let params = ca_params(cn);
        let der = params
            .signed_by(&key, &Issuer::from_params(&self.params, &self.key))
            .unwrap()
            .der()
            .to_vec();
        Ca { params, key, der }
    }

    fn cert(&self) -> Cert {
        Cert::from_der(&self.der).unwrap()
    }

    fn pem(&self) -> String {
        cert_pem(&self.der)
    }

    /// A Fulcio-like leaf: empty subject, the given SANs and extensions,
    /// a P-256 key (returned for signing).
    fn leaf(&self, spec: LeafSpec) -> (Cert, EcdsaKeyPair) {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params.not_before = spec.not_before;
        params.not_after = spec.not_before + time::Duration::minutes(10);
        params.subject_alt_names = spec.sans;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = spec.eku;
        params.custom_extensions = spec.extensions;
        let der = params
            .signed_by(&key, &Issuer::from_params(&self.params, &self.key))
            .unwrap()
            .der()
            .to_vec();
        let signer =
            EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_ASN1_SIGNING, &key.serialize_der())
                .unwrap();
        (Cert::from_der(&der).unwrap(), signer)
    }
}

fn ca_params(cn: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::OrganizationName, "pullgate.test");
    params.distinguished_name.push(DnType::CommonName, cn);
    params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
    params.not_before = datetime!(2020-01-01 00:00:00 UTC);
    params.not_after = datetime!(2040-01-01 00:00:00 UTC);
    params
}

fn cert_pem(der: &[u8]) -> String {
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        STANDARD.encode(der)
    )
}

struct LeafSpec {
    sans: Vec<SanType>,
    eku: Vec<ExtendedKeyUsagePurpose>,
    extensions: Vec<CustomExtension>,
    not_before: OffsetDateTime,
}

/// When the test leaves are issued (valid for 10 minutes from then).
const T0: OffsetDateTime = datetime!(2024-03-01 12:00:00 UTC);
const ISSUER: &str = "https://issuer.pullgate.test";

fn email(e: &str) -> SanType {
    SanType::Rfc822Name(e.try_into().unwrap())
}

/// Fulcio's v2 issuer extension (DER UTF8String).
fn issuer_v2(issuer: &str) -> CustomExtension {
    let mut value = vec![0x0c, u8::try_from(issuer.len()).unwrap()];
    value.extend_from_slice(issuer.as_bytes());
    CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 57264, 1, 8], value)
}

/// Fulcio's legacy v1 issuer extension (raw bytes).
fn issuer_v1(issuer: &str) -> CustomExtension {
    CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 57264, 1, 1], issuer.as_bytes().to_vec())
}

fn fulcio_leaf_spec(sans: Vec<SanType>) -> LeafSpec {
    LeafSpec {
        sans,
        eku: vec![ExtendedKeyUsagePurpose::CodeSigning],
        extensions: vec![issuer_v2(ISSUER)],
        not_before: T0,
    }
}

/// A test Rekor log: its key signs SETs over entries given as JSON.
struct TestLog {
    pair: EcdsaKeyPair,
    key: RekorKey,
}

impl TestLog {
    fn new() -> TestLog {
        let pair = EcdsaKeyPair::generate(&sig::ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
        let der = pair.public_key().as_der().unwrap();
        let key = RekorKey::from_pem(&pem(der.as_ref()), "test rekor.pub")
            .unwrap()
            .remove(0);
        TestLog { pair, key }
    }

    /// The bundle annotation for `body` at `integrated_time`: the SET is
    /// over the canonical payload written out by hand here (keys sorted, no
    /// whitespace), independently of the verifier's canonicaliser.
    fn bundle(&self, body: &str, integrated_time: OffsetDateTime) -> String {
        let b64 = STANDARD.encode(body);
        let (t, i, id) = (integrated_time.unix_timestamp(), 4242, &self.key.log_id);
        let canonical =
            format!(r#"{{"body":"{b64}","integratedTime":{t},"logID":"{id}","logIndex":{i}}}"#);
        self.bundle_signing(&canonical, &b64, t)
    }

    fn bundle_signing(&self, signed: &str, body_b64: &str, t: i64) -> String {
        let set = self
            .pair
            .sign(&SystemRandom::new(), signed.as_bytes())
            .unwrap();
        json!({
            "SignedEntryTimestamp": STANDARD.encode(set.as_ref()),
            "Payload": {"body": body_b64, "integratedTime": t, "logIndex": 4242, "logID": self.key.log_id},
        })
        .to_string()
    }
}

/// A hashedrekord 0.0.1 entry.
fn hashedrekord(signature: &[u8], public_key_pem: &str, payload: &[u8]) -> String {
    let hash = hex::encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        payload,
    ));
    json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": hash}},
            "signature": {
                "content": STANDARD.encode(signature),
                "publicKey": {"content": STANDARD.encode(public_key_pem)},
            },
        },
    })
    .to_string()
}

/// Keyless signatures made here: a test CA (root, intermediate) issues a
/// Fulcio-like leaf (email SAN, issuer extension 1.8, codeSigning); a test
/// log's SET over a correct hashedrekord entry is accepted; entries whose
/// signature, key or payload hash differ, a SET over non-canonical JSON,
/// and a time outside the leaf's validity are refused with their reasons.
#[tokio::test]
async fn keyless_signatures_made_here() {
    let reg = RealRegistry::start(RegistryOptions::default());
    let (client, repo) = (reg.client(), reg.repo("made/keyless"));
    let s = image(&client, &repo, "keyless made here").await;
    let root = Ca::root("test fulcio root");
    let intermediate = root.intermediate("test fulcio intermediate");
    let (leaf, leaf_key) = intermediate.leaf(fulcio_leaf_spec(vec![email("dev@pullgate.test")]));
    let (other_leaf, _) = intermediate.leaf(fulcio_leaf_spec(vec![email("dev@pullgate.test")]));
    let log = TestLog::new();
    let payload = payload_for(&s.descriptor.digest);
    let signature = leaf_key
        .sign(&SystemRandom::new(), &payload)
        .unwrap()
        .as_ref()
        .to_vec();
    let leaf_pem = cert_pem(leaf.der());
    let base = with(
        &with(
            &signed_layer(&payload, &signature),
            CERTIFICATE_ANNOTATION,
            &leaf_pem,
        ),
        CHAIN_ANNOTATION,
        &format!("{}{}", intermediate.pem(), root.pem()),
    );
    let v = |who: Keyless| {
        verifier(
            policy(false, true, Some(who)),
            Vec::new(),
            vec![log.key.clone()],
            vec![root.cert()],
        )
    };
    let good = v(identity("dev@pullgate.test", Some(ISSUER)));
    let in_window = T0 + time::Duration::minutes(1);
    let check = async |bundle: String, v: &CosignVerifier| {
        let layer = with(&base, BUNDLE_ANNOTATION, &bundle);
        push_sig(&client, &repo, &s.descriptor.digest, &[layer]).await;
        run(v, &client, &repo, std::slice::from_ref(&s)).await
    };

    let correct = hashedrekord(&signature, &leaf_pem, &payload);
    let r = check(log.bundle(&correct, in_window), &good).await;
    assert_verified(
        &r,
        "certificate for dev@pullgate.test (OIDC issuer https://issuer.pullgate.test) chaining to \"CN=test fulcio root,O=pullgate.test\", Rekor log entry 4242 integrated at 2024-03-01T12:01:00Z",
    );
    // the entry may log the certificate's bare public key
    let key_pem = String::from_utf8(pem(leaf_key.public_key().as_der().unwrap().as_ref())).unwrap();
    let r = check(
        log.bundle(&hashedrekord(&signature, &key_pem, &payload), in_window),
        &good,
    )
    .await;
    assert_verified(&r, "certificate for dev@pullgate.test");

    // entries that describe something else
    let mut other_signature = leaf_key
        .sign(&SystemRandom::new(), &payload)
        .unwrap()
        .as_ref()
        .to_vec();
    if other_signature == signature {
        other_signature[5] ^= 1;
    }
    for (body, why) in [
        (
            hashedrekord(&other_signature, &leaf_pem, &payload),
            "signature in Rekor SET does not match",
        ),
        (
            hashedrekord(&signature, &cert_pem(other_leaf.der()), &payload),
            "publicKey in Rekor SET does not match: the entry logs the certificate \"\", not the certificate that signed the layer",
        ),
        (
            hashedrekord(&signature, &leaf_pem, b"another payload"),
            "payload in Rekor SET does not match: the entry logs sha256",
        ),
        (
            hashedrekord(&signature, &leaf_pem, &payload).replace("\"sha256\"", "\"sha512\""),
            "payload in Rekor SET does not match: unexpected hash algorithm \"sha512\"",
        ),
        (
            correct.replace("hashedrekord", "intoto"),
            "its kind is \"intoto\" (only hashedrekord and rekord entries are verified)",
        ),
    ] {
        let r = check(log.bundle(&body, in_window), &good).await;
        assert_denied(&r, &[why]);
    }
    // a SET over another serialisation of the same payload does not verify
    let b64 = STANDARD.encode(&correct);
    let t = in_window.unix_timestamp();
    let spaced = format!(
        r#"{{"body": "{b64}", "integratedTime": {t}, "logID": "{}", "logIndex": 4242}}"#,
        log.key.log_id
    );
    let r = check(log.bundle_signing(&spaced, &b64, t), &good).await;
    assert_denied(
        &r,
        &["cryptographic signature verification of Rekor SET failed"],
    );
    // another log's SET
    let r = check(TestLog::new().bundle(&correct, in_window), &good).await;
    assert_denied(&r, &["has that log ID"]);
    // logged after the certificate expired, or before it was issued
    for at in [
        T0 + time::Duration::minutes(11),
        T0 - time::Duration::seconds(1),
    ] {
        let r = check(log.bundle(&correct, at), &good).await;
        assert_denied(
            &r,
            &["x509: certificate has expired or is not yet valid: current time"],
        );
    }
    // identity and issuer
    let r = check(
        log.bundle(&correct, in_window),
        &v(identity("dev@pullgate.test", Some("https://other.issuer"))),
    )
    .await;
    assert_denied(&r, &["certificate issuer does not match"]);
    let r = check(
        log.bundle(&correct, in_window),
        &v(identity("ops@pullgate.test", Some(ISSUER))),
    )
    .await;
    assert_denied(&r, &["certificate identity does not match"]);
}

/// A key-signed signature logged by the test log: the entry must log this
/// key (as a PEM public key); another key's entry is refused.
#[tokio::test]
async fn key_signatures_with_a_log_made_here() {
    let reg = RealRegistry::start(RegistryOptions::default());
    let (client, repo) = (reg.client(), reg.repo("made/key"));
    let s = image(&client, &repo, "key made here").await;
    let pair = EcdsaKeyPair::generate(&sig::ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
    let other = EcdsaKeyPair::generate(&sig::ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
    let pub_pem = |p: &EcdsaKeyPair| {
        String::from_utf8(pem(p.public_key().as_der().unwrap().as_ref())).unwrap()
    };
    let log = TestLog::new();
    let payload = payload_for(&s.descriptor.digest);
    let signature = pair
        .sign(&SystemRandom::new(), &payload)
        .unwrap()
        .as_ref()
        .to_vec();
    let v = verifier(
        policy(true, true, None),
        vec![key(
            pair.public_key().as_der().unwrap().as_ref(),
            KeyHash::Sha256,
            "team.pub",
        )],
        vec![log.key.clone()],
        Vec::new(),
    );
    let at = datetime!(2025-06-01 00:00:00 UTC);
    for (logged, outcome) in [
        (pub_pem(&pair), None),
        (
            pub_pem(&other),
            Some(
                "publicKey in Rekor SET does not match: the entry logs another public key, not the key that signed the layer",
            ),
        ),
    ] {
        let layer = with(
            &signed_layer(&payload, &signature),
            BUNDLE_ANNOTATION,
            &log.bundle(&hashedrekord(&signature, &logged, &payload), at),
        );
        push_sig(&client, &repo, &s.descriptor.digest, &[layer]).await;
        let r = run(&v, &client, &repo, std::slice::from_ref(&s)).await;
        match outcome {
            None => {
                assert_verified(
                    &r,
                    "team.pub, Rekor log entry 4242 integrated at 2025-06-01T00:00:00Z",
                );
            }
            Some(why) => {
                assert_denied(&r, &["(signed by team.pub): ", why]);
            }
        }
    }
}

/// Identities as cosign lists them (DNS, email, IP, URI, the Sigstore
/// OtherName), both issuer extensions (which must agree), and the
/// extended key usage, checked at the function level on leaves made here.
#[test]
fn identities_issuers_and_key_usage() {
    let root = Ca::root("test root");
    let roots = [root.cert()];
    let at = T0 + time::Duration::minutes(1);
    let regexp = |re: &str| Keyless {
        identity: None,
        identity_regexp: Some(re.into()),
        ..identity("x", None)
    };
    let check = |spec: LeafSpec, who: Keyless| {
        let (leaf, _) = root.leaf(spec);
        verify_certificate(&leaf, &[], &roots, at, &IdentityPolicy::new(&who).unwrap())
    };

    let workflow = "https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1";
    let uri = SanType::URI(workflow.try_into().unwrap());
    let ok = check(
        fulcio_leaf_spec(vec![uri.clone()]),
        regexp("^https://github\\.com/org/"),
    )
    .unwrap();
    assert_eq!(ok.matched, workflow);
    let e = check(
        fulcio_leaf_spec(vec![uri]),
        regexp("^https://github\\.com/org2/"),
    )
    .unwrap_err();
    assert!(e.contains("certificate identity does not match"), "{e}");

    let other_name = SanType::OtherName((
        vec![1, 3, 6, 1, 4, 1, 57264, 1, 7],
        OtherNameValue::Utf8String("foo!oidc.local".into()),
    ));
    check(
        fulcio_leaf_spec(vec![other_name.clone()]),
        identity("foo!oidc.local", Some(ISSUER)),
    )
    .unwrap();
    let e = check(
        fulcio_leaf_spec(vec![other_name]),
        identity("foo@oidc.local", None),
    )
    .unwrap_err();
    assert!(e.contains("the certificate names [foo!oidc.local]"), "{e}");

    // the order cosign lists them in
    let (leaf, _) = root.leaf(fulcio_leaf_spec(vec![
        SanType::URI("https://u.example".try_into().unwrap()),
        email("e@example.com"),
        SanType::IpAddress("10.0.0.1".parse().unwrap()),
        SanType::DnsName("d.example".try_into().unwrap()),
    ]));
    assert_eq!(
        certificate_identity(&leaf).unwrap().sans,
        [
            "d.example",
            "e@example.com",
            "10.0.0.1",
            "https://u.example"
        ]
    );

    // issuer extensions: v1 alone, both agreeing, both disagreeing
    let spec = |extensions: Vec<CustomExtension>| LeafSpec {
        extensions,
        ..fulcio_leaf_spec(vec![email("a@b.c")])
    };
    let who = identity("a@b.c", Some(ISSUER));
    check(spec(vec![issuer_v1(ISSUER)]), who.clone()).unwrap();
    check(
        spec(vec![issuer_v1(ISSUER), issuer_v2(ISSUER)]),
        who.clone(),
    )
    .unwrap();
    let e = check(
        spec(vec![issuer_v1("https://one"), issuer_v2(ISSUER)]),
        who.clone(),
    )
    .unwrap_err();
    assert_eq!(
        e,
        "the certificate's OIDC issuer extensions disagree: 1.3.6.1.4.1.57264.1.1 says \"https://one\", 1.3.6.1.4.1.57264.1.8 says \"https://issuer.pullgate.test\""
    );
    let e = check(spec(vec![issuer_v2("https://one")]), who.clone()).unwrap_err();
    assert!(e.contains("OIDC issuer is \"https://one\""), "{e}");

    // extended key usage: codeSigning (or none at all, as in Go), not serverAuth
    let eku = |eku: Vec<ExtendedKeyUsagePurpose>| LeafSpec {
        eku,
        ..fulcio_leaf_spec(vec![email("a@b.c")])
    };
    check(eku(Vec::new()), who.clone()).unwrap();
    let e = check(eku(vec![ExtendedKeyUsagePurpose::ServerAuth]), who).unwrap_err();
    assert!(
        e.contains("x509: certificate specifies an incompatible key usage"),
        "{e}"
    );
}

/// Rekor keys and Fulcio roots are part of the generation: verdicts made
/// with other trust material are not reused.
#[test]
fn trust_material_changes_the_generation() {
    let generation = |rekor: &[&str], roots: &[&str]| {
        Generation::of(&EngineConfig {
            mode: Mode::Enforce,
            require: Require::Any,
            notation: None,
            cosign: Some(verifier(
                policy(false, true, Some(identity("mitr@redhat.com", None))),
                Vec::new(),
                rekor_keys(rekor),
                certs(roots),
            )),
            accept_platform_signatures: false,
            platform: Platform::current(),
            node: NodePolicy::default(),
        })
    };
    let base = generation(&[REKOR_PUB], &[FULCIO_ROOT]);
    assert_eq!(base, generation(&[REKOR_PUB], &[FULCIO_ROOT]));
    assert_ne!(base, generation(&[COSIGN_PUB], &[FULCIO_ROOT]));
    assert_ne!(base, generation(&[REKOR_PUB], &[FULCIO_CHAIN]));
}
