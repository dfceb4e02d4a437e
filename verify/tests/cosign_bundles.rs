#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]
//! Sigstore bundles and trusted roots, verified offline: every bundle case
//! of ../shared/vectors/cosign/README.md section 2 with the outcome it
//! gives (the whole sigstore-conformance bundle-verify suite, each case
//! with the artifact and with its digest; sigstore-rs' cosign 3 image
//! signature and its mutations; cosign's attestation; sigstore-go's
//! bundles), then key-signed image bundles made here with a Rekor v2 log
//! made here. A rejection is checked for its reason, not just for failing.

use std::path::{Path, PathBuf};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as sig, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use pullgate_policy::cosign::{KeyHash, Keyless};
use pullgate_registry::Digest;
use pullgate_verify::cosign::bundle::{Bundle, HashAlgorithm};
use pullgate_verify::cosign::dsse::pae;
use pullgate_verify::cosign::keyless::IdentityPolicy;
use pullgate_verify::cosign::trusted_root::TimeRange;
use pullgate_verify::cosign::verifier::{artifact_digest, verify_bundle};
use pullgate_verify::cosign::{
    Artifact, BundleKey, BundlePolicy, BundleTrust, TrustedRoot, VerifiedBundle, VerifiedSigner,
    verify_image_bundle,
};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

// ---------------------------------------------------------------- helpers

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/cosign")
}

fn read(rel: &str) -> Vec<u8> {
    let p = vectors().join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn root(rel: &str) -> TrustedRoot {
    TrustedRoot::parse(&read(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

const PUBLIC_GOOD: &str = "trust/public-good-trusted_root.json";

/// Far from every signing time: nothing may depend on the current time.
const NOW: OffsetDateTime = datetime!(2031-01-01 0:00 UTC);

fn identity(san: &str, issuer: &str) -> IdentityPolicy {
    IdentityPolicy::new(&Keyless {
        issuer: Some(issuer.into()),
        issuer_regexp: None,
        identity: Some(san.into()),
        identity_regexp: None,
        fulcio_roots: None,
        ctlog_keys: None,
    })
    .unwrap()
}

fn identity_regexp(san: &str, issuer: &str) -> IdentityPolicy {
    IdentityPolicy::new(&Keyless {
        issuer: None,
        issuer_regexp: Some(issuer.into()),
        identity: None,
        identity_regexp: Some(san.into()),
        fulcio_roots: None,
        ctlog_keys: None,
    })
    .unwrap()
}

fn keyless_trust(root_file: &str) -> BundleTrust {
    BundleTrust {
        root: root(root_file),
        keys: Vec::new(),
    }
}

fn digest_of(hex: &str) -> Vec<u8> {
    hex::decode(hex).unwrap()
}

#[track_caller]
fn rejected(result: Result<VerifiedBundle, String>, why: &str) {
    match result {
        Ok(v) => panic!(
            "verified ({}), expected a rejection for {why:?}",
            v.describe()
        ),
        Err(e) => assert!(
            e.contains(why),
            "rejected for another reason: {e}\nexpected: {why}"
        ),
    }
}

// ------------------------------------------------- sigstore-conformance

const CONFORMANCE: &str = "bundles/conformance/bundle-verify";
const DEFAULT_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const DEFAULT_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// Each `_fail` case of the suite with the reason it must fail for (a
/// substring of the error, in both the artifact and the digest run).
const CONFORMANCE_FAILURES: &[(&str, &str)] = &[
    (
        "bundle-empty-certificate-chain_fail",
        "x509CertificateChain has no certificate",
    ),
    (
        "bundle-from-wrong-instance_fail",
        "which the trusted root does not list",
    ),
    (
        "bundle-invalid-base64-signature_fail",
        "messageSignature.signature is not base64",
    ),
    ("bundle-malformed-json_fail", "is not valid JSON"),
    (
        "bundle-negative-log-index_fail",
        "tlogEntries[0].logIndex is negative",
    ),
    (
        "bundle-unknown-version_fail",
        "unsupported bundle media type \"application/vnd.dev.sigstore.bundle+json;version=99.9\"",
    ),
    (
        "bundle-with-root-cert_fail",
        "contains the root certificate",
    ),
    (
        "checkpoint-bad-keyhint_fail",
        "the checkpoint has no signature by the log https://rekor.sigstore.dev",
    ),
    (
        "checkpoint-wrong-roothash_fail",
        "the checkpoint's root hash 20bd7de5",
    ),
    (
        "dsse-invalid-sig_fail",
        "the DSSE envelope's signature does not verify",
    ),
    (
        "dsse-mismatch-envelope_fail",
        "the log entry's payload hash",
    ),
    (
        "dsse-mismatch-sig_fail",
        "no signature of the dsse entry is the envelope's",
    ),
    (
        "inclusion-proof-corrupted-hash_fail",
        "the inclusion proof does not lead to the root hash",
    ),
    (
        "incorrect-public-key_fail",
        "the log entry's public key does not match",
    ),
    (
        "integrated-time-in-future_fail",
        "the signing certificate was not valid at 2026-05-07T15:34:11Z (transparency log",
    ),
    (
        "intoto-expired-certificate_fail",
        "the signing certificate was not valid at 2023-02-01T00:00:00Z",
    ),
    (
        "intoto-log-entry-mismatch_fail",
        "no signature of the intoto entry is the envelope's",
    ),
    (
        "intoto-missing-inclusion-proof_fail",
        "tlogEntries[0] has no inclusionProof",
    ),
    (
        "intoto-set-outside-signing-cert-validity_fail",
        "not valid at 2023-02-02T00:00:00Z (transparency log",
    ),
    (
        "intoto-tsa-timestamp-outside-cert-validity_fail",
        "not valid at 2023-02-02T00:00:00Z (timestamp authority",
    ),
    (
        "invalid-checkpoint-signature_fail",
        "the checkpoint's signature by rekor.sigstore.dev does not verify",
    ),
    (
        "invalid-ct-key_fail",
        "SCT verification failed: 0 CT log(s) of the trusted root vouch for the certificate",
    ),
    (
        "invalid-inclusion-proof_fail",
        "the inclusion proof does not lead to the root hash",
    ),
    (
        "managed-key-no-key_fail",
        "signed with a public key, and the policy has no key",
    ),
    ("managed-key-wrong-key_fail", "key.pub: malformed PEM block"),
    (
        "message-digest-mismatch_fail",
        "does not match the bundle's messageDigest",
    ),
    (
        "rekor2-checkpoint-missing-log-signature_fail",
        "it has no signature lines",
    ),
    (
        "rekor2-checkpoint-missing-origin_fail",
        "the checkpoint's origin is \"736\"",
    ),
    (
        "rekor2-checkpoint-missing-root-hash_fail",
        "it has no root hash line",
    ),
    (
        "rekor2-checkpoint-missing-size_fail",
        "its tree size \"rs1YPY0ydAV0lxgfrq5pE4oRpUJwo3syeps5+eGUTDI=\" is not a number",
    ),
    (
        "rekor2-checkpoint-no-matching-signature_fail",
        "the checkpoint's origin is \"log2025-alpha1.rekor.github.dev\"",
    ),
    (
        "rekor2-dsse-invalid-sig_fail",
        "the DSSE envelope's signature does not verify",
    ),
    (
        "rekor2-dsse-mismatch-envelope_fail",
        "is not the digest of this DSSE envelope's PAE",
    ),
    (
        "rekor2-dsse-mismatch-sig_fail",
        "the entry logs another signature",
    ),
    (
        "rekor2-no-inclusion-proof_fail",
        "tlogEntries[0] has no inclusionProof",
    ),
    (
        "rekor2-no-timestamp_fail",
        "Rekor v2 entries carry no integrated time, so an RFC 3161 timestamp is required",
    ),
    (
        "rekor2-timestamp-outside-trust-root-tsa-validity_fail",
        "outside the authority's validity in the trusted root",
    ),
    (
        "rekor2-timestamp-outside-tsa-cert-validity_fail",
        "current time 2025-08-07T15:38:32Z is after 2025-08-07T15:37:08Z",
    ),
    (
        "rekor2-timestamp-payload-mismatch_fail",
        "the timestamp is not over this bundle's signature",
    ),
    (
        "rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail",
        "certificate signed by unknown authority",
    ),
    (
        "rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail",
        "signing certificate not found in the timestamp token",
    ),
    (
        "rekor2-timestamp-with-incorrect-time_fail",
        "not valid at 2025-07-15T10:33:31Z (timestamp authority",
    ),
    (
        "set-invalid-signature_fail",
        "the inclusion promise (SET) does not verify",
    ),
    (
        "signature-mismatch_fail",
        "the bundle's signature does not verify over the artifact",
    ),
    (
        "trust-root-tlog-missing-validity-start_fail",
        "tlogs[1].publicKey.validFor.start is missing",
    ),
    (
        "wrong-hashedrekord-artifact_fail",
        "the log entry's artifact digest d40ec3ee",
    ),
    (
        "wrong-hashedrekord-cert-and-sig_fail",
        "the entry logs another signature",
    ),
    (
        "wrong-hashedrekord-entry_fail",
        "the log entry's artifact digest 9d92fa52",
    ),
    (
        "wrong-material_fail",
        "does not match the bundle's messageDigest",
    ),
];

/// One case run as the suite's `verify-bundle` runs it: `key.pub` makes it
/// a key verification, else the identity and issuer (defaults unless the
/// case has its own); the case's trusted root, else production's.
fn conformance_case(dir: &Path, by_digest: bool) -> Result<VerifiedBundle, String> {
    let suite = vectors().join(CONFORMANCE);
    let file = |name: &str| std::fs::read(dir.join(name)).ok();
    let artifact = file("artifact").unwrap_or_else(|| std::fs::read(suite.join("a.txt")).unwrap());
    let root = TrustedRoot::parse(&file("trusted_root.json").unwrap_or_else(|| read(PUBLIC_GOOD)))?;
    let text = |name: &str, default: &str| {
        file(name).map_or(default.to_string(), |b| {
            String::from_utf8(b).unwrap().trim().to_string()
        })
    };
    let (keys, policy) = match file("key.pub") {
        Some(pem) => (
            BundleKey::from_pem(&pem, KeyHash::Sha256, "key.pub")?,
            BundlePolicy::keys(),
        ),
        None => (
            Vec::new(),
            BundlePolicy::keyless(identity(
                &text("identity", DEFAULT_IDENTITY),
                &text("issuer", DEFAULT_ISSUER),
            )),
        ),
    };
    let bundle = Bundle::parse(&file("bundle.sigstore.json").unwrap())?;
    let trust = BundleTrust { root, keys };
    let digest = artifact_digest(HashAlgorithm::Sha2_256, &artifact);
    let artifact = if by_digest {
        Artifact::Digest {
            algorithm: HashAlgorithm::Sha2_256,
            digest: &digest,
        }
    } else {
        Artifact::Bytes(&artifact)
    };
    verify_bundle(&bundle, artifact, &trust, &policy, NOW)
}

#[test]
fn sigstore_conformance_bundle_verify_suite() {
    let suite = vectors().join(CONFORMANCE);
    let mut cases: Vec<String> = std::fs::read_dir(&suite)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().into_string().unwrap())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 70, "the suite has 70 cases");
    let mut wrong = Vec::new();
    let (mut verified, mut rejected_as_expected) = (0, 0);
    for name in &cases {
        let expected = CONFORMANCE_FAILURES
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, why)| *why);
        assert_eq!(
            expected.is_some(),
            name.ends_with("_fail"),
            "{name}: every _fail case and only those has a reason in the table"
        );
        for by_digest in [false, true] {
            let how = if by_digest { "digest" } else { "artifact" };
            match (conformance_case(&suite.join(name), by_digest), expected) {
                (Ok(_), None) => verified += 1,
                (Err(e), Some(why)) if e.contains(why) => rejected_as_expected += 1,
                (Ok(v), Some(why)) => wrong.push(format!(
                    "{name} [{how}]: verified ({}), must fail with {why:?}",
                    v.describe()
                )),
                (Err(e), Some(why)) => wrong.push(format!(
                    "{name} [{how}]: failed with {e:?}, must fail with {why:?}"
                )),
                (Err(e), None) => wrong.push(format!("{name} [{how}]: must verify, failed: {e}")),
            }
        }
    }
    let must_fail = CONFORMANCE_FAILURES.len();
    println!(
        "sigstore-conformance bundle-verify: {} cases ({} must verify, {must_fail} must fail), each with the artifact and with its digest: {verified} runs verified, {rejected_as_expected} rejected for the expected reason, {} wrong, 0 skipped",
        cases.len(),
        cases.len() - must_fail,
        wrong.len()
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(verified, 2 * (cases.len() - must_fail));
    assert_eq!(rejected_as_expected, 2 * must_fail);
}

#[test]
fn conformance_times_are_the_proved_ones() {
    let suite = vectors().join(CONFORMANCE);
    for (case, time, source) in [
        (
            "happy-path-v0.1",
            datetime!(2023-07-12 15:56:36 UTC),
            "transparency log https://rekor.sigstore.dev",
        ),
        (
            "rekor2-happy-path",
            datetime!(2025-06-12 12:02:20 UTC),
            "timestamp authority https://timestamp.sigstage.dev/api/v1/timestamp",
        ),
        (
            "trust-root-tsa-validity-end-inclusive",
            datetime!(2025-06-12 12:02:20 UTC),
            "timestamp authority",
        ),
        (
            "trust-root-tlog-validity-end-inclusive",
            datetime!(2023-07-12 15:56:36 UTC),
            "transparency log",
        ),
        (
            "intoto-with-custom-trust-root",
            datetime!(2023-02-01 0:00 UTC),
            "transparency log http://localhost:8000",
        ),
    ] {
        let v = conformance_case(&suite.join(case), false).unwrap();
        assert_eq!(v.signing_time(), Some(time), "{case}");
        assert!(
            v.times.iter().any(|t| t.source.starts_with(source)),
            "{case}: {:?}",
            v.times
        );
        let VerifiedSigner::Certificate(c) = &v.signer else {
            panic!("{case}: signed by a certificate")
        };
        assert_eq!(c.matched, DEFAULT_IDENTITY);
    }
    // the tlog case is also checked at its integrated time, proved by the SET
    let v = conformance_case(&suite.join("intoto-with-custom-trust-root"), true).unwrap();
    assert_eq!(
        v.times.len(),
        2,
        "SET and RFC 3161 timestamp: {:?}",
        v.times
    );
    assert_eq!(v.scts.len(), 1);
    let key = conformance_case(&suite.join("managed-key-happy-path"), false).unwrap();
    assert!(matches!(key.signer, VerifiedSigner::Key { .. }));
    assert_eq!(key.tlog_entries[0].log_index, 771_488_337);
}

// -------------------------------------- sigstore-rs: a cosign 3 image signature

const RS_BUNDLE: &str = "bundles/sigstore-rs/bundle_v03.json";
const KUBEWARDEN: &str = "https://github.com/kubewarden/kubewarden-controller/.github/workflows/release.yml@refs/tags/v1.34.0";
const ACTIONS: &str = "https://token.actions.githubusercontent.com";
const KUBEWARDEN_DIGEST: &str =
    "sha256:c811d58de79c92f03214e63aa339484e488d694ae8a6283b5f3f17a9faf50172";

fn image(digest: &str) -> Digest {
    digest.parse().unwrap()
}

/// The bundle with its statement (or payload type) changed by `edit`.
fn mutated(edit: impl Fn(&mut Value)) -> Vec<u8> {
    let mut b: Value = serde_json::from_slice(&read(RS_BUNDLE)).unwrap();
    let payload = STANDARD
        .decode(b["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let mut statement: Value = serde_json::from_slice(&payload).unwrap();
    statement["payloadType"] = b["dsseEnvelope"]["payloadType"].clone();
    edit(&mut statement);
    b["dsseEnvelope"]["payloadType"] = statement["payloadType"].take();
    statement.as_object_mut().unwrap().remove("payloadType");
    b["dsseEnvelope"]["payload"] = json!(STANDARD.encode(serde_json::to_vec(&statement).unwrap()));
    serde_json::to_vec(&b).unwrap()
}

#[test]
fn sigstore_rs_cosign3_image_signature() {
    let trust = keyless_trust(PUBLIC_GOOD);
    let policy = BundlePolicy::keyless(identity(KUBEWARDEN, ACTIONS));
    let v = verify_image_bundle(
        &read(RS_BUNDLE),
        &image(KUBEWARDEN_DIGEST),
        &trust,
        &policy,
        NOW,
    )
    .unwrap();
    // the SET and the public-good TSA agree: 2026-04-09T07:23:29Z
    assert_eq!(v.signing_time(), Some(datetime!(2026-04-09 07:23:29 UTC)));
    assert_eq!(v.times.len(), 2, "{:?}", v.times);
    assert!(v.times.iter().any(|t| {
        t.source
            .starts_with("timestamp authority https://timestamp.sigstore.dev")
    }));
    assert_eq!(v.tlog_entries[0].log_index, 1_261_105_807);
    let VerifiedSigner::Certificate(c) = &v.signer else {
        panic!("keyless")
    };
    assert_eq!(c.matched, KUBEWARDEN);
    assert_eq!(c.identity.issuer.as_deref(), Some(ACTIONS));
    assert!(
        v.describe()
            .contains("log entry 1261105807 of https://rekor.sigstore.dev")
    );

    // another image
    rejected(
        verify_image_bundle(
            &read(RS_BUNDLE),
            &image("sha256:0000000000000000000000000000000000000000000000000000000000000000"),
            &trust,
            &policy,
            NOW,
        ),
        "the signature is for another image",
    );
    // another identity, another issuer
    for p in [
        identity(
            "https://github.com/kubewarden/kubewarden-controller/.github/workflows/other.yml@refs/tags/v1.34.0",
            ACTIONS,
        ),
        identity(KUBEWARDEN, "https://accounts.google.com"),
    ] {
        let e = verify_image_bundle(
            &read(RS_BUNDLE),
            &image(KUBEWARDEN_DIGEST),
            &trust,
            &BundlePolicy::keyless(p),
            NOW,
        )
        .unwrap_err();
        assert!(
            e.starts_with("certificate identity does not match")
                || e.starts_with("certificate issuer does not match"),
            "{e}"
        );
    }
    // the mutations of sigstore-rs' test
    for (bundle, why) in [
        (
            mutated(|s| s["payloadType"] = json!("application/json")),
            "unsupported DSSE payloadType \"application/json\"",
        ),
        (
            mutated(|s| s["_type"] = json!("https://example.com/Statement/v1")),
            "unsupported in-toto _type \"https://example.com/Statement/v1\"",
        ),
        (
            mutated(|s| s["predicateType"] = json!("https://example.com/predicate/v1")),
            "unsupported in-toto predicateType \"https://example.com/predicate/v1\"",
        ),
        (
            mutated(|s| s["predicate"] = json!({"x": 1})),
            "the DSSE envelope's signature does not verify",
        ),
    ] {
        rejected(
            verify_image_bundle(&bundle, &image(KUBEWARDEN_DIGEST), &trust, &policy, NOW),
            why,
        );
    }
    // keys only: a certificate is refused
    rejected(
        verify_image_bundle(
            &read(RS_BUNDLE),
            &image(KUBEWARDEN_DIGEST),
            &trust,
            &BundlePolicy::keys(),
            NOW,
        ),
        "signed with a certificate, and the policy has no keyless identity",
    );
}

#[test]
fn a_root_without_the_tsa_ignores_the_timestamp() {
    // sigstore-go (and cosign) do not need the timestamp when the SET
    // proves the time; the timestamp that cannot be checked is reported
    let trust = keyless_trust("bundles/cosign/trusted_root_pgi.json");
    let policy = BundlePolicy::keyless(identity(KUBEWARDEN, ACTIONS));
    let v = verify_image_bundle(
        &read(RS_BUNDLE),
        &image(KUBEWARDEN_DIGEST),
        &trust,
        &policy,
        NOW,
    )
    .unwrap();
    assert_eq!(v.times.len(), 1);
    assert!(
        v.notes
            .iter()
            .any(|n| n.contains("RFC 3161 timestamp 0") && n.contains("no timestamp authority")),
        "{:?}",
        v.notes
    );
    // with a timestamp required, it fails for that reason
    let strict = BundlePolicy {
        tsa_threshold: 1,
        ..BundlePolicy::keyless(identity(KUBEWARDEN, ACTIONS))
    };
    rejected(
        verify_image_bundle(
            &read(RS_BUNDLE),
            &image(KUBEWARDEN_DIGEST),
            &trust,
            &strict,
            NOW,
        ),
        "0 RFC 3161 timestamp(s) verified, 1 required: RFC 3161 timestamp 0: the trusted root has no timestamp authority",
    );
}

// ------------------------------------------------ cosign: an attestation

const ATTESTATION: &str = "bundles/cosign/oci-attestation.sigstore.json";
const EMPTY_IMAGE: &str = "732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4";

#[test]
fn cosign_attestation_bundle() {
    let bundle = Bundle::parse(&read(ATTESTATION)).unwrap();
    let d = digest_of(EMPTY_IMAGE);
    let artifact = Artifact::Digest {
        algorithm: HashAlgorithm::Sha2_256,
        digest: &d,
    };
    for root_file in [PUBLIC_GOOD, "bundles/cosign/trusted_root_pgi.json"] {
        let trust = keyless_trust(root_file);
        let v = verify_bundle(
            &bundle,
            artifact,
            &trust,
            &BundlePolicy::keyless(identity_regexp(".*", ".*")),
            NOW,
        )
        .unwrap();
        assert_eq!(v.signing_time(), Some(datetime!(2025-02-28 19:18:11 UTC)));
        let VerifiedSigner::Certificate(c) = &v.signer else {
            panic!()
        };
        assert_eq!(c.matched, "cody@soyland.com");
        let s = v.statement.unwrap();
        assert_eq!(
            s.predicate_type,
            "https://cosign.sigstore.dev/attestation/v1"
        );
        // SubjectRegExp "wrong"
        rejected(
            verify_bundle(
                &bundle,
                artifact,
                &trust,
                &BundlePolicy::keyless(identity_regexp("wrong", ".*")),
                NOW,
            ),
            "certificate identity does not match: the certificate names [cody@soyland.com]",
        );
        // attached to another image
        let other = digest_of(&"1".repeat(64));
        rejected(
            verify_bundle(
                &bundle,
                Artifact::Digest {
                    algorithm: HashAlgorithm::Sha2_256,
                    digest: &other,
                },
                &trust,
                &BundlePolicy::keyless(identity_regexp(".*", ".*")),
                NOW,
            ),
            "the artifact's digest does not match any subject of the in-toto statement",
        );
    }
    // an attestation (Statement v0.1) is not an image signature
    rejected(
        verify_image_bundle(
            &read(ATTESTATION),
            &image(&format!("sha256:{EMPTY_IMAGE}")),
            &keyless_trust(PUBLIC_GOOD),
            &BundlePolicy::keyless(identity_regexp(".*", ".*")),
            NOW,
        ),
        "unsupported in-toto _type for an image signature: Statement v0.1",
    );
}

// ---------------------------------------------------- sigstore-go

const SG: &str = "bundles/sigstore-go";
const SIGSTORE_JS: &str =
    "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main";
const SIGSTORE_JS_SHA512: &str = "46d4e2f74c4877316640000a6fdf8a8b59f1e0847667973e9859f774dd31b8f1e0937813b777fb66a2ac67d50540fe34640966eee9fc2ccca387082b4c85cd3c";

#[test]
fn sigstore_go_provenance_and_thresholds() {
    let bundle = Bundle::parse(&read(&format!(
        "{SG}/bundles/sigstore.js@2.0.0-provenance.sigstore.json"
    )))
    .unwrap();
    let trust = keyless_trust(&format!("{SG}/trusted-roots/public-good.json"));
    let d = digest_of(SIGSTORE_JS_SHA512);
    let artifact = Artifact::Digest {
        algorithm: HashAlgorithm::Sha2_512,
        digest: &d,
    };
    let policy = || BundlePolicy::keyless(identity(SIGSTORE_JS, ACTIONS));
    let v = verify_bundle(&bundle, artifact, &trust, &policy(), NOW).unwrap();
    assert_eq!(v.signing_time(), Some(datetime!(2023-08-18 16:05:35 UTC)));
    for (p, why) in [
        (
            BundlePolicy {
                tlog_threshold: 2,
                ..policy()
            },
            "1 transparency log(s) of the trusted root have a verified entry for this bundle, 2 required",
        ),
        (
            BundlePolicy {
                tsa_threshold: 1,
                ..policy()
            },
            "0 RFC 3161 timestamp(s) verified, 1 required",
        ),
        (
            BundlePolicy {
                timestamp_threshold: 2,
                ..policy()
            },
            "1 verified time(s) for the certificate, 2 required",
        ),
        (
            BundlePolicy {
                tlog_threshold: 0,
                ..policy()
            },
            "0 verified time(s) for the certificate, 1 required",
        ),
    ] {
        rejected(verify_bundle(&bundle, artifact, &trust, &p, NOW), why);
    }
}

/// The bundle with its `x509CertificateChain` cut to the leaf.
fn leaf_only(bytes: &[u8]) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(bytes).unwrap();
    let certs = v["verificationMaterial"]["x509CertificateChain"]["certificates"]
        .as_array_mut()
        .unwrap();
    certs.truncate(1);
    serde_json::to_vec(&v).unwrap()
}

#[test]
fn sigstore_go_dsse_bundles() {
    let trust = keyless_trust(&format!("{SG}/trusted-roots/public-good.json"));
    // sigstore-js 2022 bundles carry the whole chain, root included, which
    // protobuf-specs forbids (and the conformance suite's
    // bundle-with-root-cert_fail refuses); sigstore-go ignores the chain
    let original = read(&format!("{SG}/bundles/dsse.sigstore.json"));
    assert!(Bundle::parse(&original).unwrap_err().contains(
        "x509CertificateChain contains the root certificate \"CN=sigstore,O=sigstore.dev\""
    ));
    let bundle = Bundle::parse(&leaf_only(&original)).unwrap();
    let subject = match &bundle.content {
        pullgate_verify::cosign::bundle::Content::Dsse(e) => {
            pullgate_verify::cosign::dsse::parse_statement(&e.payload).unwrap()
        }
        _ => panic!("a DSSE bundle"),
    };
    let d = digest_of(&subject.subjects[0].digest["sha512"]);
    let artifact = Artifact::Digest {
        algorithm: HashAlgorithm::Sha2_512,
        digest: &d,
    };
    let policy = BundlePolicy::keyless(identity(
        "brian@dehamer.com",
        "https://github.com/login/oauth",
    ));
    let v = verify_bundle(&bundle, artifact, &trust, &policy, NOW).unwrap();
    assert_eq!(v.signing_time(), Some(datetime!(2022-11-09 23:00:36 UTC)));
    assert!(v.tlog_entries[0].time_verified);

    let two = Bundle::parse(&leaf_only(&read(&format!(
        "{SG}/bundles/dsse-2sigs.sigstore.json"
    ))))
    .unwrap();
    rejected(
        verify_bundle(&two, artifact, &trust, &policy, NOW),
        "the DSSE envelope has 2 signatures: exactly one signature is required",
    );
}

#[test]
fn sigstore_go_othername_identity() {
    let bundle = Bundle::parse(&read(&format!("{SG}/bundles/othername.sigstore.json"))).unwrap();
    let trust = keyless_trust(&format!("{SG}/trusted-roots/scaffolding.json"));
    let d = digest_of("bc103b4a84971ef6459b294a2b98568a2bfb72cded09d4acd1e16366a401f95b");
    let artifact = Artifact::Digest {
        algorithm: HashAlgorithm::Sha2_256,
        digest: &d,
    };
    let v = verify_bundle(
        &bundle,
        artifact,
        &trust,
        &BundlePolicy::keyless(identity("foo!oidc.local", "http://oidc.local:8080")),
        NOW,
    )
    .unwrap();
    assert_eq!(v.signing_time(), Some(datetime!(2024-07-12 19:06:29 UTC)));
    rejected(
        verify_bundle(
            &bundle,
            artifact,
            &trust,
            &BundlePolicy::keyless(identity("foo@oidc.local", "http://oidc.local:8080")),
            NOW,
        ),
        "certificate identity does not match: the certificate names [foo!oidc.local]",
    );
}

#[test]
fn sigstore_go_public_key_validity() {
    let bundle = Bundle::parse(&read(&format!(
        "{SG}/bundles/public-key-validity.sigstore.json"
    )))
    .unwrap();
    let root = root(&format!("{SG}/trusted-roots/public-key-validity.json"));
    let mut keys = BundleKey::from_pem(
        &read(&format!("{SG}/public-keys/public-key-validity.pem")),
        KeyHash::Sha256,
        "public-key-validity.pem",
    )
    .unwrap();
    assert_eq!(
        keys[0].hint(),
        "IpekKjxVkmTfB4YqY8q5sGEAeVtF9x3m7jHdhAxpgjQ="
    );
    let policy = BundlePolicy {
        tlog_threshold: 0,
        ..BundlePolicy::keys()
    };
    let artifact = Artifact::Bytes(b"test content");
    let trust = BundleTrust {
        root: root.clone(),
        keys: keys.clone(),
    };
    let v = verify_bundle(&bundle, artifact, &trust, &policy, NOW).unwrap();
    assert_eq!(v.signing_time(), Some(datetime!(2026-06-04 17:43:29 UTC)));
    assert!(
        v.times[0]
            .source
            .contains("https://virtual.tsa.sigstore.dev")
    );
    // upstream gives the key a one-second window in 1970
    keys[0].valid_for = TimeRange {
        start: Some(datetime!(1970-01-01 0:00 UTC)),
        end: Some(datetime!(1970-01-01 0:00:01 UTC)),
    };
    rejected(
        verify_bundle(&bundle, artifact, &BundleTrust { root, keys }, &policy, NOW),
        "signature time outside of public key validity window: 2026-06-04T17:43:29Z (timestamp authority https://virtual.tsa.sigstore.dev)",
    );
    // the log is required by default, and this bundle has no entry
    rejected(
        verify_bundle(&bundle, artifact, &trust, &BundlePolicy::keys(), NOW),
        "the bundle has no transparency-log entry",
    );
}

// ---------------------------------------------------- trusted roots

#[test]
fn every_trusted_root_of_the_vectors_parses() {
    let pg = root(PUBLIC_GOOD);
    assert_eq!(
        (
            pg.tlogs.len(),
            pg.certificate_authorities.len(),
            pg.ctlogs.len(),
            pg.timestamp_authorities.len()
        ),
        (2, 2, 2, 1)
    );
    let rekor = pg
        .tlog(
            &STANDARD
                .decode("wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0=")
                .unwrap(),
        )
        .unwrap();
    assert_eq!(rekor.base_url, "https://rekor.sigstore.dev");
    assert_eq!(
        rekor.valid_for.start,
        Some(datetime!(2021-01-12 11:53:27 UTC))
    );
    let v2 = &pg.tlogs[1];
    assert_eq!(v2.host(), "log2025-1.rekor.sigstore.dev");
    assert_eq!(
        pg.certificate_authorities[0].valid_for.end,
        Some(datetime!(2022-12-31 23:59:59.999 UTC))
    );
    assert_eq!(pg.certificate_authorities[1].chain.len(), 2);
    assert!(pg.timestamp_authorities[0].tsa_leaf().is_some());
    let mut count = 1;
    for f in [
        "bundles/cosign/trusted_root_pgi.json",
        "bundles/sigstore-go/trusted-roots/public-good.json",
        "bundles/sigstore-go/trusted-roots/scaffolding.json",
        "bundles/sigstore-go/trusted-roots/public-key-validity.json",
    ] {
        root(f);
        count += 1;
    }
    let suite = vectors().join(CONFORMANCE);
    for e in std::fs::read_dir(&suite).unwrap() {
        let p = e.unwrap().path().join("trusted_root.json");
        if let Ok(bytes) = std::fs::read(&p) {
            let parsed = TrustedRoot::parse(&bytes);
            if p.to_string_lossy()
                .contains("trust-root-tlog-missing-validity-start_fail")
            {
                assert!(parsed.unwrap_err().contains("validFor.start is missing"));
            } else {
                parsed.unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            }
            count += 1;
        }
    }
    println!("trusted roots parsed: {count}");
    assert!(count >= 30, "{count}");
}

// ------------------------- key-signed image bundles and a Rekor v2 log made here

const LOG_ORIGIN: &str = "log.test.example";

struct Signer {
    pair: EcdsaKeyPair,
    spki: Vec<u8>,
    pem: Vec<u8>,
}

fn signer() -> Signer {
    let pair = EcdsaKeyPair::generate(&sig::ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
    let spki = pair.public_key().as_der().unwrap().as_ref().to_vec();
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        STANDARD.encode(&spki)
    )
    .into_bytes();
    Signer { pair, spki, pem }
}

fn sha256(b: &[u8]) -> Vec<u8> {
    artifact_digest(HashAlgorithm::Sha2_256, b)
}

/// A cosign 3 `cosign sign` statement for `digest_hex`.
fn sign_statement(digest_hex: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"digest": {"sha256": digest_hex}}],
        "predicateType": "https://sigstore.dev/cosign/sign/v1",
        "predicate": {}
    }))
    .unwrap()
}

struct Log {
    pair: Ed25519KeyPair,
}

impl Log {
    fn new() -> Log {
        Log {
            pair: Ed25519KeyPair::from_seed_unchecked(&[42; 32]).unwrap(),
        }
    }

    fn key_hash(&self) -> Vec<u8> {
        let mut m = format!("{LOG_ORIGIN}\n").into_bytes();
        m.push(1);
        m.extend_from_slice(self.pair.public_key().as_ref());
        sha256(&m)
    }

    fn trusted_root(&self) -> TrustedRoot {
        let spki = self.pair.public_key().as_der().unwrap().as_ref().to_vec();
        let doc = json!({
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [{
                "baseUrl": format!("https://{LOG_ORIGIN}"),
                "hashAlgorithm": "SHA2_256",
                "publicKey": {"rawBytes": STANDARD.encode(spki), "keyDetails": "PKIX_ED25519",
                              "validFor": {"start": "2025-01-01T00:00:00Z"}},
                "logId": {"keyId": STANDARD.encode(self.key_hash())}
            }]
        });
        TrustedRoot::parse(&serde_json::to_vec(&doc).unwrap()).unwrap()
    }

    /// A Rekor v2 entry for `body` as leaf 1 of a two-leaf tree.
    fn entry(&self, body: &[u8], tamper_checkpoint: bool) -> Value {
        let mut leaf = vec![0u8];
        leaf.extend_from_slice(body);
        let leaf = sha256(&leaf);
        let sibling = sha256(b"\x00another entry");
        let mut node = vec![1u8];
        node.extend_from_slice(&sibling);
        node.extend_from_slice(&leaf);
        let root = sha256(&node);
        let text = format!("{LOG_ORIGIN}\n2\n{}\n", STANDARD.encode(&root));
        let signed = if tamper_checkpoint {
            text.replace("\n2\n", "\n3\n")
        } else {
            text.clone()
        };
        let mut line = self.key_hash()[..4].to_vec();
        line.extend_from_slice(self.pair.sign(signed.as_bytes()).as_ref());
        let checkpoint = format!("{text}\n\u{2014} {LOG_ORIGIN} {}\n", STANDARD.encode(line));
        json!({
            "logIndex": "1",
            "logId": {"keyId": STANDARD.encode(self.key_hash())},
            "kindVersion": {"kind": "hashedrekord", "version": "0.0.2"},
            "inclusionProof": {"logIndex": "1", "rootHash": STANDARD.encode(&root), "treeSize": "2",
                               "hashes": [STANDARD.encode(&sibling)], "checkpoint": {"envelope": checkpoint}},
            "canonicalizedBody": STANDARD.encode(body)
        })
    }
}

/// A hashedrekord 0.0.2 body logging `signature` by `spki` over `pae`, in
/// the canonical (RFC 8785) form Rekor v2 writes.
fn rekor_v2_body(pae_bytes: &[u8], signature: &[u8], spki: &[u8]) -> Vec<u8> {
    format!(
        r#"{{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{{"hashedRekordV002":{{"data":{{"algorithm":"SHA2_256","digest":"{}"}},"signature":{{"content":"{}","verifier":{{"keyDetails":"PKIX_ECDSA_P256_SHA_256","publicKey":{{"rawBytes":"{}"}}}}}}}}}}}}"#,
        STANDARD.encode(sha256(pae_bytes)),
        STANDARD.encode(signature),
        STANDARD.encode(spki)
    )
    .into_bytes()
}

/// A cosign 3 key-signed image bundle (v0.3, DSSE, `publicKey` hint).
fn key_bundle(s: &Signer, statement: &[u8], hint: &str, entries: Vec<Value>) -> Vec<u8> {
    let rng = SystemRandom::new();
    let sig = s
        .pair
        .sign(&rng, &pae("application/vnd.in-toto+json", statement))
        .unwrap();
    serde_json::to_vec(&json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"publicKey": {"hint": hint}, "tlogEntries": entries},
        "dsseEnvelope": {"payload": STANDARD.encode(statement), "payloadType": "application/vnd.in-toto+json",
                         "signatures": [{"sig": STANDARD.encode(sig.as_ref()), "keyid": ""}]}
    }))
    .unwrap()
}

/// The envelope signature of a bundle made by [`key_bundle`].
fn envelope_signature(bundle: &[u8]) -> Vec<u8> {
    let v: Value = serde_json::from_slice(bundle).unwrap();
    STANDARD
        .decode(v["dsseEnvelope"]["signatures"][0]["sig"].as_str().unwrap())
        .unwrap()
}

fn with_entries(bundle: &[u8], entries: Vec<Value>) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(bundle).unwrap();
    v["verificationMaterial"]["tlogEntries"] = json!(entries);
    serde_json::to_vec(&v).unwrap()
}

#[test]
fn key_signed_image_bundles_with_rekor_v2() {
    let s = signer();
    let log = Log::new();
    let manifest = b"{\"schemaVersion\":2}";
    let image_digest = Digest::sha256(manifest);
    let statement = sign_statement(image_digest.hex());
    let key = BundleKey::from_pem(&s.pem, KeyHash::Sha256, "cosign.pub").unwrap();
    let trust = BundleTrust {
        root: log.trusted_root(),
        keys: key.clone(),
    };
    let unsigned = key_bundle(&s, &statement, &key[0].hint(), Vec::new());
    let signature = envelope_signature(&unsigned);
    let pae_bytes = pae("application/vnd.in-toto+json", &statement);
    let body = rekor_v2_body(&pae_bytes, &signature, &s.spki);
    let bundle = with_entries(&unsigned, vec![log.entry(&body, false)]);

    let v =
        verify_image_bundle(&bundle, &image_digest, &trust, &BundlePolicy::keys(), NOW).unwrap();
    assert!(matches!(&v.signer, VerifiedSigner::Key { source } if source == "cosign.pub"));
    assert!(v.tlog_entries[0].rekor_v2);
    assert!(
        v.times.is_empty(),
        "Rekor v2 proves no time and a key needs none"
    );

    // another image
    rejected(
        verify_image_bundle(
            &bundle,
            &Digest::sha256(b"other"),
            &trust,
            &BundlePolicy::keys(),
            NOW,
        ),
        "the signature is for another image",
    );
    // a checkpoint whose signature is over other text
    rejected(
        verify_image_bundle(
            &with_entries(&unsigned, vec![log.entry(&body, true)]),
            &image_digest,
            &trust,
            &BundlePolicy::keys(),
            NOW,
        ),
        "the checkpoint's signature by log.test.example does not verify with the log's key",
    );
    // an entry that logs another envelope
    let other_body = rekor_v2_body(b"another PAE", &signature, &s.spki);
    rejected(
        verify_image_bundle(
            &with_entries(&unsigned, vec![log.entry(&other_body, false)]),
            &image_digest,
            &trust,
            &BundlePolicy::keys(),
            NOW,
        ),
        "is not the digest of this DSSE envelope's PAE",
    );
    // an entry that logs another key
    let stranger = signer();
    let stranger_body = rekor_v2_body(&pae_bytes, &signature, &stranger.spki);
    rejected(
        verify_image_bundle(
            &with_entries(&unsigned, vec![log.entry(&stranger_body, false)]),
            &image_digest,
            &trust,
            &BundlePolicy::keys(),
            NOW,
        ),
        "the log entry's verifier does not match: it logs another public key",
    );
    // no entry: refused while the log is required, accepted without it
    rejected(
        verify_image_bundle(&unsigned, &image_digest, &trust, &BundlePolicy::keys(), NOW),
        "(the bundle has no transparency-log entry)",
    );
    let no_log = BundlePolicy {
        tlog_threshold: 0,
        ..BundlePolicy::keys()
    };
    verify_image_bundle(&unsigned, &image_digest, &trust, &no_log, NOW).unwrap();
    // an entry of a log the trusted root does not list is skipped
    let other_log = BundleTrust {
        root: keyless_trust(PUBLIC_GOOD).root,
        keys: key.clone(),
    };
    rejected(
        verify_image_bundle(
            &bundle,
            &image_digest,
            &other_log,
            &BundlePolicy::keys(),
            NOW,
        ),
        "which the trusted root does not list",
    );
}

#[test]
fn a_hint_selects_among_configured_keys_and_adds_no_trust() {
    let s = signer();
    let stranger = signer();
    let manifest = b"{}";
    let image_digest = Digest::sha256(manifest);
    let statement = sign_statement(image_digest.hex());
    let no_log = BundlePolicy {
        tlog_threshold: 0,
        ..BundlePolicy::keys()
    };
    let mine = BundleKey::from_pem(&s.pem, KeyHash::Sha256, "mine.pub").unwrap();
    let theirs = BundleKey::from_pem(&stranger.pem, KeyHash::Sha256, "theirs.pub").unwrap();
    let both = BundleTrust {
        root: keyless_trust(PUBLIC_GOOD).root,
        keys: [theirs.clone(), mine.clone()].concat(),
    };
    // the right hint, a wrong hint, no usable hint: the signing key is found
    for hint in [mine[0].hint(), theirs[0].hint(), "not a key".into()] {
        let b = key_bundle(&s, &statement, &hint, Vec::new());
        let v = verify_image_bundle(&b, &image_digest, &both, &no_log, NOW).unwrap();
        assert!(matches!(&v.signer, VerifiedSigner::Key { source } if source == "mine.pub"));
    }
    // the hint of a key the policy does not have makes nothing trusted
    let only_theirs = BundleTrust {
        root: keyless_trust(PUBLIC_GOOD).root,
        keys: theirs,
    };
    rejected(
        verify_image_bundle(
            &key_bundle(&s, &statement, &mine[0].hint(), Vec::new()),
            &image_digest,
            &only_theirs,
            &no_log,
            NOW,
        ),
        "the DSSE envelope's signature does not verify with key theirs.pub",
    );
    // a message signature is not an image signature
    let msg = serde_json::to_vec(&json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"publicKey": {"hint": mine[0].hint()}},
        "messageSignature": {"messageDigest": {"algorithm": "SHA2_256", "digest": STANDARD.encode(sha256(manifest))},
                             "signature": "AAAA"}
    }))
    .unwrap();
    rejected(
        verify_image_bundle(&msg, &image_digest, &both, &no_log, NOW),
        "an image signature bundle carries a DSSE envelope",
    );
}

// ---------------------------------- image bundles found in a registry

/// A cosign 3 image signature pushed as an OCI referrer (on docker-registry
/// 2.8, which has no referrers API, through the `sha256-<hex>` tag index
/// that pushing clients maintain), found and verified by the Cosign
/// verifier beside (and without) legacy `.sig` signatures; one for another
/// image, or verified with another key, is denied with its reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_bundles_are_found_as_referrers_and_verified() {
    use std::collections::BTreeMap;

    use pullgate_policy::cosign::{CosignPolicies, CosignPolicy, KeyRef, Scope};
    use pullgate_registry::media_types as mt;
    use pullgate_testsupport::{
        RealRegistry, RegistryOptions, TestImage, push_signature_manifest, push_tag_schema_index,
    };
    use pullgate_verify::cosign::{BundleCheck, CosignReport, CosignVerifier};
    use pullgate_verify::notary::Subject;

    const BUNDLE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
    let reg = RealRegistry::start(RegistryOptions::default());
    let client = reg.client();
    let s = signer();
    let other = signer();
    let log = Log::new();

    // Signs `img` in `repo` with `who` and attaches the bundle as a referrer.
    let attach = |repo: &'static str, img: TestImage, who: &Signer, statement_for: Digest| {
        let client = client.clone();
        let repo = reg.repo(repo);
        let statement = sign_statement(statement_for.hex());
        let key = BundleKey::from_pem(&who.pem, KeyHash::Sha256, "signer").unwrap();
        let unsigned = key_bundle(who, &statement, &key[0].hint(), Vec::new());
        let signature = envelope_signature(&unsigned);
        let body = rekor_v2_body(
            &pae("application/vnd.in-toto+json", &statement),
            &signature,
            &who.spki,
        );
        let bundle = with_entries(&unsigned, vec![log.entry(&body, false)]);
        async move {
            img.push(&client, &repo, "v1").await;
            let referrer = push_signature_manifest(
                &client,
                &repo,
                None,
                Some(BUNDLE),
                (mt::OCI_EMPTY, b"{}"),
                (BUNDLE, &bundle),
                Some(&img.descriptor()),
                &BTreeMap::from([(
                    "dev.sigstore.bundle.content".to_string(),
                    "dsse-envelope".to_string(),
                )]),
            )
            .await;
            push_tag_schema_index(&client, &repo, &img.digest(), &[referrer]).await;
            (repo, img)
        }
    };
    let signed = attach(
        "bundles/signed",
        TestImage::new("bundle-signed"),
        &s,
        TestImage::new("bundle-signed").digest(),
    )
    .await;
    let elsewhere = attach(
        "bundles/elsewhere",
        TestImage::new("bundle-elsewhere"),
        &s,
        TestImage::new("not this one").digest(),
    )
    .await;
    let by_other = attach(
        "bundles/other-key",
        TestImage::new("bundle-other-key"),
        &other,
        TestImage::new("bundle-other-key").digest(),
    )
    .await;

    let policy = CosignPolicy {
        name: "bundles".into(),
        scopes: vec![Scope::All],
        keys: vec![KeyRef {
            provider: "k".into(),
            name: None,
            version: None,
            hash: KeyHash::Sha256,
        }],
        tlog_verify: true,
        rekor_keys: None,
        keyless: None,
        trusted_root: Some("root.json".into()),
    };
    let keys = pullgate_verify::cosign::CosignKey::from_pem(&s.pem, KeyHash::Sha256, "cosign.pub")
        .unwrap();
    let verifier = CosignVerifier {
        policies: CosignPolicies::new(vec![policy]).unwrap(),
        keys: BTreeMap::from([("bundles".to_string(), keys)]),
        rekor_keys: BTreeMap::new(),
        fulcio_roots: BTreeMap::new(),
        bundles: BTreeMap::from([(
            "bundles".to_string(),
            BundleCheck {
                trust: BundleTrust {
                    root: log.trusted_root(),
                    keys: BundleKey::from_pem(&s.pem, KeyHash::Sha256, "cosign.pub").unwrap(),
                },
                policy: BundlePolicy::keys(),
            },
        )]),
        max_signatures: 100,
    };
    async fn check(
        verifier: &CosignVerifier,
        client: &pullgate_registry::RegistryClient,
        (repo, img): &(pullgate_registry::Repository, TestImage),
    ) -> CosignReport {
        let subject = Subject {
            descriptor: img.descriptor(),
        };
        let reference = format!("{repo}@{}", img.digest());
        verifier
            .verify(
                client,
                repo,
                &reference,
                &[subject],
                OffsetDateTime::now_utc(),
            )
            .await
    }
    let verify = |x| check(&verifier, &client, x);
    match verify(&signed).await {
        CosignReport::Verified { signer, .. } => assert!(signer.contains("cosign.pub"), "{signer}"),
        other => panic!("expected Verified, got {other:?}"),
    }
    match verify(&elsewhere).await {
        CosignReport::Denied { reason, .. } => {
            assert!(
                reason.contains("the signature is for another image"),
                "{reason}"
            )
        }
        other => panic!("expected Denied, got {other:?}"),
    }
    match verify(&by_other).await {
        CosignReport::Denied { reason, .. } => {
            assert!(reason.contains("bundle in sha256:"), "{reason}")
        }
        other => panic!("expected Denied, got {other:?}"),
    }
    // An image with neither form of signature says what it looked for.
    let bare = TestImage::new("bundle-bare");
    let repo = reg.repo("bundles/bare");
    bare.push(&client, &repo, "v1").await;
    match verify(&(repo, bare)).await {
        CosignReport::Denied { reason, .. } => assert!(
            reason.contains("no Cosign signature found")
                && reason.contains("no Sigstore bundle among its referrers"),
            "{reason}"
        ),
        other => panic!("expected Denied, got {other:?}"),
    }
}

/// The same through a registry with the OCI referrers API (the in-process
/// stand-in): the bundle is found by `GET /v2/<name>/referrers/<digest>`.
#[tokio::test]
async fn image_bundles_through_the_referrers_api() {
    use std::collections::BTreeMap;

    use pullgate_policy::cosign::{CosignPolicies, CosignPolicy, KeyRef, Scope};
    use pullgate_registry::media_types as mt;
    use pullgate_registry::{Descriptor, RegistryClient};
    use pullgate_testsupport::{FakeOptions, FakeRegistry, TestImage};
    use pullgate_verify::cosign::{BundleCheck, CosignReport, CosignVerifier};
    use pullgate_verify::notary::Subject;

    const BUNDLE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
    let fake = FakeRegistry::start(FakeOptions::default()).await;
    let client = RegistryClient::new(fake.client_config()).unwrap();
    let s = signer();
    let log = Log::new();
    let img = TestImage::new("referrers api");
    let repo = fake.repo("bundles/api");
    img.push(&client, &repo, "v1").await;

    let statement = sign_statement(img.digest().hex());
    let key = BundleKey::from_pem(&s.pem, KeyHash::Sha256, "cosign.pub").unwrap();
    let unsigned = key_bundle(&s, &statement, &key[0].hint(), Vec::new());
    let signature = envelope_signature(&unsigned);
    let body = rekor_v2_body(
        &pae("application/vnd.in-toto+json", &statement),
        &signature,
        &s.spki,
    );
    let bundle = with_entries(&unsigned, vec![log.entry(&body, false)]);
    fake.put_blob("bundles/api", b"{}");
    fake.put_blob("bundles/api", &bundle);
    let referrer = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": mt::OCI_MANIFEST,
        "artifactType": BUNDLE,
        "config": Descriptor::of(mt::OCI_EMPTY, b"{}"),
        "layers": [Descriptor::of(BUNDLE, &bundle)],
        "subject": img.descriptor(),
    }))
    .unwrap();
    fake.put_manifest("bundles/api", None, mt::OCI_MANIFEST, &referrer);

    let policy = CosignPolicy {
        name: "api".into(),
        scopes: vec![Scope::All],
        keys: vec![KeyRef {
            provider: "k".into(),
            name: None,
            version: None,
            hash: KeyHash::Sha256,
        }],
        tlog_verify: true,
        rekor_keys: None,
        keyless: None,
        trusted_root: Some("root.json".into()),
    };
    let verifier = CosignVerifier {
        policies: CosignPolicies::new(vec![policy]).unwrap(),
        keys: BTreeMap::new(),
        rekor_keys: BTreeMap::new(),
        fulcio_roots: BTreeMap::new(),
        bundles: BTreeMap::from([(
            "api".to_string(),
            BundleCheck {
                trust: BundleTrust {
                    root: log.trusted_root(),
                    keys: key,
                },
                policy: BundlePolicy::keys(),
            },
        )]),
        max_signatures: 100,
    };
    let subject = Subject {
        descriptor: img.descriptor(),
    };
    let reference = format!("{repo}@{}", img.digest());
    let r = verifier
        .verify(
            &client,
            &repo,
            &reference,
            &[subject],
            OffsetDateTime::now_utc(),
        )
        .await;
    assert!(
        matches!(&r, CosignReport::Verified { signature, .. } if *signature == Digest::sha256(&referrer)),
        "{r:?}"
    );
    assert!(
        fake.requests()
            .iter()
            .any(|l| l.path.contains("/referrers/")),
        "found through the referrers API"
    );
}
