#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Signatures made by the test signer (pullgate-testsupport's `notary`):
//! chains with intermediates, expired and not-yet-valid certificates, wrong
//! key usages, wrong digests, broken envelopes. Each verdict and its reason.

mod common;

use common::*;
use pullgate_policy::{TrustPolicyDocument, TrustStoreRef, ValidationType};
use pullgate_registry::Descriptor;
use pullgate_testsupport::TestImage;
use pullgate_testsupport::notary::{
    CertSpec, Corruption, Eku, EnvelopeFormat, KeyKind, KeyUsage, SignOptions, SigningScheme,
    TestCert, TestPki, sign,
};
use pullgate_verify::notary::{Outcome, TrustStores};
use pullgate_verify::x509::parse_certificates;
use time::OffsetDateTime;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2030-06-01 00:00:00 UTC);
const SIGNED: OffsetDateTime = datetime!(2030-05-31 12:00:00 UTC);
const SUBJECT: &str = "CN=Pullgate Test Signer,O=Notary,L=Seattle,ST=WA,C=US";

fn trust(kind: &str, certs: &[&TestCert]) -> TrustStores {
    let mut s = TrustStores::default();
    let r: TrustStoreRef = format!("{kind}:test").parse().unwrap();
    s.insert(
        &r,
        certs
            .iter()
            .flat_map(|c| parse_certificates(&c.der).unwrap())
            .collect(),
    );
    s
}

fn strict() -> TrustPolicyDocument {
    statement("strict", &["ca:test", "signingAuthority:test"], &["*"], "")
}

fn target() -> Descriptor {
    TestImage::new("signed by the test signer").descriptor()
}

async fn run(
    doc: &TrustPolicyDocument,
    stores: &TrustStores,
    chain: &[&TestCert],
    opts: &SignOptions,
) -> Outcome {
    let env = sign(&target(), chain, opts);
    verify_with(doc, stores, NOW, &target(), env.media_type, &env.bytes).await
}

fn opts(format: EnvelopeFormat) -> SignOptions {
    SignOptions {
        signing_time: SIGNED,
        ..SignOptions::new(format)
    }
}

const FORMATS: [EnvelopeFormat; 2] = [EnvelopeFormat::Jws, EnvelopeFormat::Cose];

#[tokio::test]
async fn chains_with_intermediates_and_every_key_kind() {
    for kind in KeyKind::SUPPORTED {
        let pki = TestPki::code_signing_chain_with(kind, 2);
        for format in FORMATS {
            let o = run(
                &strict(),
                &trust("ca", &[&pki.root]),
                &pki.chain(),
                &opts(format),
            )
            .await;
            assert!(o.verified(), "{kind:?} {format:?}: {}", failure(&o));
            assert_eq!(o.signer(), Some(SUBJECT));
            // Trust by presence: an intermediate in the store is enough too.
            let o = run(
                &strict(),
                &trust("ca", &[&pki.intermediates[0]]),
                &pki.chain(),
                &opts(format),
            )
            .await;
            assert!(o.verified(), "{kind:?} {format:?}: {}", failure(&o));
        }
    }
}

#[tokio::test]
async fn a_chain_the_store_does_not_know() {
    let pki = TestPki::code_signing_chain(1);
    let other = TestPki::code_signing_chain(0);
    let o = run(
        &strict(),
        &trust("ca", &[&other.root]),
        &pki.chain(),
        &opts(EnvelopeFormat::Jws),
    )
    .await;
    assert_eq!(
        failure(&o),
        "authenticity validation failed: the signature's certificate chain does not contain any trusted certificate"
    );
    assert_eq!(o.signer(), Some(SUBJECT));
}

#[tokio::test]
async fn expired_and_not_yet_valid_signers() {
    let expired = TestPki::build(
        CertSpec::leaf("Pullgate Test Signer").valid(
            datetime!(2030-01-01 00:00 UTC),
            datetime!(2030-05-31 23:00 UTC),
        ),
        0,
    );
    let o = run(
        &strict(),
        &trust("ca", &[&expired.root]),
        &expired.chain(),
        &opts(EnvelopeFormat::Jws),
    )
    .await;
    assert_eq!(
        failure(&o),
        format!(
            "authenticTimestamp validation failed: verification time is after certificate \"{SUBJECT}\" validity period, it was expired at \"Fri, 31 May 2030 23:00:00 +0000\""
        )
    );
    let permissive = statement("permissive", &["ca:test"], &["*"], "");
    let o = run(
        &permissive,
        &trust("ca", &[&expired.root]),
        &expired.chain(),
        &opts(EnvelopeFormat::Cose),
    )
    .await;
    assert!(o.verified(), "{}", failure(&o));
    assert_eq!(
        o.logged().map(|r| r.kind).collect::<Vec<_>>(),
        vec![ValidationType::AuthenticTimestamp]
    );

    let future = TestPki::build(
        CertSpec::leaf("Pullgate Test Signer").valid(
            datetime!(2031-01-01 00:00 UTC),
            datetime!(2032-01-01 00:00 UTC),
        ),
        0,
    );
    let o = run(
        &strict(),
        &trust("ca", &[&future.root]),
        &future.chain(),
        &opts(EnvelopeFormat::Cose),
    )
    .await;
    assert_eq!(
        failure(&o),
        format!(
            "authenticTimestamp validation failed: verification time is before certificate \"{SUBJECT}\" validity period, it will be valid from \"Wed, 01 Jan 2031 00:00:00 +0000\""
        )
    );
}

#[tokio::test]
async fn leaf_profile_rules() {
    let cases: Vec<(CertSpec, String)> = vec![
        (
            CertSpec {
                eku: Some(vec![Eku::ServerAuth]),
                ..CertSpec::leaf("Pullgate Test Signer")
            },
            format!(
                "certificate with subject \"{SUBJECT}\": extended key usage must not contain ServerAuth eku"
            ),
        ),
        (
            CertSpec {
                eku: Some(vec![Eku::CodeSigning, Eku::TimeStamping]),
                ..CertSpec::leaf("Pullgate Test Signer")
            },
            format!(
                "certificate with subject \"{SUBJECT}\": extended key usage must not contain Timestamping eku"
            ),
        ),
        (
            CertSpec {
                key_usage: Some((vec![KeyUsage::DigitalSignature], false)),
                ..CertSpec::leaf("Pullgate Test Signer")
            },
            format!(
                "certificate with subject \"{SUBJECT}\": key usage extension must be marked critical"
            ),
        ),
        (
            CertSpec {
                key_usage: None,
                ..CertSpec::leaf("Pullgate Test Signer")
            },
            format!("certificate with subject \"{SUBJECT}\": key usage extension must be present"),
        ),
        (
            CertSpec {
                key_usage: Some((
                    vec![KeyUsage::DigitalSignature, KeyUsage::KeyEncipherment],
                    true,
                )),
                ..CertSpec::leaf("Pullgate Test Signer")
            },
            format!(
                "the certificate with subject \"{SUBJECT}\" is invalid. The key usage must be \"Digital Signature\" only, but found \"KeyEncipherment\""
            ),
        ),
        (
            CertSpec {
                key_usage: Some((vec![KeyUsage::NonRepudiation], true)),
                ..CertSpec::leaf("Pullgate Test Signer")
            },
            format!(
                "the certificate with subject \"{SUBJECT}\" is invalid. The key usage must have the bit positions for \"Digital Signature\" set"
            ),
        ),
        (
            CertSpec {
                ca: Some(None),
                ..CertSpec::leaf("Pullgate Test Signer")
            },
            format!(
                "certificate with subject \"{SUBJECT}\": if the basic constraints extension is present, the ca field must be set to false"
            ),
        ),
    ];
    for (spec, expected) in cases {
        let pki = TestPki::build(spec, 1);
        let o = run(
            &strict(),
            &trust("ca", &[&pki.root]),
            &pki.chain(),
            &opts(EnvelopeFormat::Jws),
        )
        .await;
        assert_eq!(
            failure(&o),
            format!("integrity validation failed: certificate-chain is invalid, {expected}")
        );
    }
}

#[tokio::test]
async fn unsupported_leaf_keys() {
    for (kind, format, expected) in [
        (
            KeyKind::Rsa8192,
            EnvelopeFormat::Jws,
            "rsa key size 8192 bits is not supported",
        ),
        (
            KeyKind::Rsa8192,
            EnvelopeFormat::Cose,
            "rsa key size 8192 bits is not supported",
        ),
        // golang-jwt refuses EdDSA before any key is looked at.
        (
            KeyKind::Ed25519,
            EnvelopeFormat::Jws,
            "signing method EdDSA is invalid",
        ),
        (
            KeyKind::Ed25519,
            EnvelopeFormat::Cose,
            "unsupported public key type",
        ),
    ] {
        let pki = TestPki::code_signing_chain_with(kind, 0);
        let o = run(
            &strict(),
            &trust("ca", &[&pki.root]),
            &pki.chain(),
            &opts(format),
        )
        .await;
        let f = failure(&o);
        assert!(
            f.starts_with("integrity validation failed: "),
            "{kind:?}: {f}"
        );
        assert!(f.contains(expected), "{kind:?} {format:?}: {f}");
    }
}

#[tokio::test]
async fn ca_and_path_length_rules() {
    // An intermediate without keyCertSign.
    let root = TestCert::issue(CertSpec::ca("Pullgate Test Root"), None);
    let bad_ca = TestCert::issue(
        CertSpec {
            key_usage: Some((vec![KeyUsage::CrlSign], true)),
            ..CertSpec::ca("Pullgate Test Intermediate 1").with_key(KeyKind::Rsa2048, 2)
        },
        Some(&root),
    );
    let leaf = TestCert::issue(CertSpec::leaf("Pullgate Test Signer"), Some(&bad_ca));
    let o = run(
        &strict(),
        &trust("ca", &[&root]),
        &[&leaf, &bad_ca, &root],
        &opts(EnvelopeFormat::Jws),
    )
    .await;
    let f = failure(&o);
    assert!(f.contains("is not issued by"), "{f}");
    assert!(
        f.contains("parent certificate cannot sign this kind of certificate"),
        "{f}"
    );

    // A root limited to path length 0 above an intermediate.
    let root0 = TestCert::issue(
        CertSpec {
            ca: Some(Some(0)),
            ..CertSpec::ca("Pullgate Test Root")
        },
        None,
    );
    let ca = TestCert::issue(
        CertSpec::ca("Pullgate Test Intermediate 1").with_key(KeyKind::Rsa2048, 2),
        Some(&root0),
    );
    let leaf = TestCert::issue(CertSpec::leaf("Pullgate Test Signer"), Some(&ca));
    let o = run(
        &strict(),
        &trust("ca", &[&root0]),
        &[&leaf, &ca, &root0],
        &opts(EnvelopeFormat::Cose),
    )
    .await;
    assert_eq!(
        failure(&o),
        "integrity validation failed: certificate-chain is invalid, certificate with subject \"CN=Pullgate Test Root,O=Notary,L=Seattle,ST=WA,C=US\": expected path length of 1 but certificate has path length 0 instead"
    );

    // A chain missing its root, and one in the wrong order.
    let pki = TestPki::code_signing_chain(1);
    let o = run(
        &strict(),
        &trust("ca", &[&pki.root]),
        &[&pki.leaf, &pki.intermediates[0]],
        &opts(EnvelopeFormat::Jws),
    )
    .await;
    assert!(
        failure(&o).contains("is invalid or not self-signed. Certificate chain must end with a valid self-signed root certificate. Error: crypto/rsa: verification error"),
        "{}",
        failure(&o)
    );
    let o = run(
        &strict(),
        &trust("ca", &[&pki.root]),
        &[&pki.intermediates[0], &pki.leaf, &pki.root],
        &opts(EnvelopeFormat::Jws),
    )
    .await;
    assert!(
        failure(&o).starts_with("integrity validation failed: certificate-chain is invalid"),
        "{}",
        failure(&o)
    );
}

#[tokio::test]
async fn wrong_digest_and_corrupted_envelopes() {
    let pki = TestPki::code_signing_chain(1);
    let stores = trust("ca", &[&pki.root]);
    for format in FORMATS {
        // Signed for another image.
        let other = TestImage::new("another image").descriptor();
        let env = sign(&other, &pki.chain(), &opts(format));
        let o = verify_with(
            &strict(),
            &stores,
            NOW,
            &target(),
            env.media_type,
            &env.bytes,
        )
        .await;
        assert_eq!(failure(&o), "content descriptor mismatch", "{format:?}");
        // Signed for the right digest with the wrong size.
        let mut wrong_size = target();
        wrong_size.size += 1;
        let env = sign(&wrong_size, &pki.chain(), &opts(format));
        let o = verify_with(
            &strict(),
            &stores,
            NOW,
            &target(),
            env.media_type,
            &env.bytes,
        )
        .await;
        assert_eq!(failure(&o), "content descriptor mismatch", "{format:?}");
        // A payload changed after signing.
        let o = run(
            &strict(),
            &stores,
            &pki.chain(),
            &SignOptions {
                corrupt: Corruption::Payload,
                ..opts(format)
            },
        )
        .await;
        assert!(
            failure(&o).starts_with("integrity validation failed: signature is invalid"),
            "{format:?}: {}",
            failure(&o)
        );
        // A flipped signature byte.
        let o = run(
            &strict(),
            &stores,
            &pki.chain(),
            &SignOptions {
                corrupt: Corruption::Signature,
                ..opts(format)
            },
        )
        .await;
        let expected = match format {
            EnvelopeFormat::Jws => {
                "integrity validation failed: signature is invalid. Error: crypto/rsa: verification error"
            }
            EnvelopeFormat::Cose => {
                "integrity validation failed: signature is invalid. Error: verification error"
            }
        };
        assert_eq!(failure(&o), expected, "{format:?}");
    }
}

#[tokio::test]
async fn header_rules() {
    let pki = TestPki::code_signing_chain(0);
    let stores = trust("ca", &[&pki.root]);
    let o = run(
        &strict(),
        &stores,
        &pki.chain(),
        &SignOptions {
            extra_critical: vec!["io.example.unknown".into()],
            ..opts(EnvelopeFormat::Jws)
        },
    )
    .await;
    assert_eq!(
        failure(&o),
        "integrity validation failed: \"io.example.unknown\" header is marked critical but not present"
    );
    let o = run(
        &strict(),
        &stores,
        &pki.chain(),
        &SignOptions {
            crit_override: Some(vec![]),
            ..opts(EnvelopeFormat::Jws)
        },
    )
    .await;
    assert_eq!(
        failure(&o),
        "integrity validation failed: missing \"crit\" header"
    );
    let o = run(
        &strict(),
        &stores,
        &pki.chain(),
        &SignOptions {
            expiry: Some(datetime!(2030-05-31 13:00 UTC)),
            crit_override: Some(vec!["io.cncf.notary.signingScheme".into()]),
            ..opts(EnvelopeFormat::Cose)
        },
    )
    .await;
    assert_eq!(
        failure(&o),
        "integrity validation failed: these required headers are not marked as critical: [io.cncf.notary.expiry]"
    );
    // Expiry in the past.
    for format in FORMATS {
        let o = run(
            &strict(),
            &stores,
            &pki.chain(),
            &SignOptions {
                expiry: Some(datetime!(2030-05-31 18:00 UTC)),
                ..opts(format)
            },
        )
        .await;
        assert_eq!(
            failure(&o),
            "expiry validation failed: digital signature has expired on \"Fri, 31 May 2030 18:00:00 +0000\"",
            "{format:?}"
        );
    }
}

#[tokio::test]
async fn signing_authority_scheme_uses_its_own_stores() {
    let pki = TestPki::code_signing_chain(1);
    let sa = SignOptions {
        scheme: SigningScheme::SigningAuthority,
        ..opts(EnvelopeFormat::Jws)
    };
    let o = run(
        &strict(),
        &trust("signingAuthority", &[&pki.root]),
        &pki.chain(),
        &sa,
    )
    .await;
    assert!(o.verified(), "{}", failure(&o));
    // A `ca` store does not vouch for the signing-authority scheme.
    let o = run(&strict(), &trust("ca", &[&pki.root]), &pki.chain(), &sa).await;
    assert_eq!(
        failure(&o),
        "authenticity validation failed: the trust store \"test\" of type \"signingAuthority\" does not exist"
    );
    // The authentic signing time must lie inside the chain's validity.
    let late = TestPki::build(
        CertSpec::leaf("Pullgate Test Signer").valid(
            datetime!(2030-01-01 00:00 UTC),
            datetime!(2030-05-01 00:00 UTC),
        ),
        0,
    );
    let o = run(
        &strict(),
        &trust("signingAuthority", &[&late.root]),
        &late.chain(),
        &sa,
    )
    .await;
    assert_eq!(
        failure(&o),
        format!(
            "authenticTimestamp validation failed: certificate \"{SUBJECT}\" was not valid when the digital signature was produced at \"Fri, 31 May 2030 12:00:00 +0000\""
        )
    );
}

#[tokio::test]
async fn trusted_identities_match_the_leaf_subject() {
    let pki = TestPki::code_signing_chain(1);
    let stores = trust("ca", &[&pki.root]);
    let matching = statement(
        "strict",
        &["ca:test"],
        &["x509.subject:C=US,ST=WA,O=Notary,CN=Pullgate Test Signer"],
        "",
    );
    assert!(
        run(&matching, &stores, &pki.chain(), &opts(EnvelopeFormat::Jws))
            .await
            .verified()
    );
    let other = statement(
        "strict",
        &["ca:test"],
        &["x509.subject:C=US,ST=WA,O=Other"],
        "",
    );
    let o = run(&other, &stores, &pki.chain(), &opts(EnvelopeFormat::Jws)).await;
    assert!(failure(&o).starts_with("authenticity validation failed: signing certificate from the digital signature does not match the X.509 trusted identities"), "{}", failure(&o));
}

#[tokio::test]
async fn a_chain_longer_than_sixteen_certificates_is_refused_before_its_checks() {
    // 15 intermediates: leaf, 15, root = 17 certificates.
    let pki = TestPki::code_signing_chain(15);
    for format in FORMATS {
        let o = run(
            &strict(),
            &trust("ca", &[&pki.root]),
            &pki.chain(),
            &opts(format),
        )
        .await;
        assert!(!o.verified());
        assert!(
            failure(&o).contains(
                "certificate-chain is invalid, it has 17 certificates, more than the 16 pullgate accepts"
            ),
            "{format:?}: {}",
            failure(&o)
        );
    }
    // 14 intermediates (16 certificates) still verify.
    let pki = TestPki::code_signing_chain(14);
    let o = run(
        &strict(),
        &trust("ca", &[&pki.root]),
        &pki.chain(),
        &opts(EnvelopeFormat::Jws),
    )
    .await;
    assert!(o.verified(), "{}", failure(&o));
}
