#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! RFC 3161 countersignatures: the Notary Project's timestamped envelopes
//! (README §2.3) and timestamp tokens (README §5), with their outcomes and
//! texts. Rows marked [TSA-rev] upstream need the public TSA chain's
//! revocation status online: they are asserted with an OK status injected,
//! and offline (unknown) too.

mod common;

use async_trait::async_trait;
use base64::Engine as _;
use common::*;
use pullgate_policy::TrustPolicyDocument;
use pullgate_verify::notary::{
    CertResult, Context, NoRevocationData, Outcome, RevocationChecker, RevocationContext, Status,
    TrustStores, signature, tsp,
};
use pullgate_verify::x509::{Cert, parse_certificates};

const TS_DIGEST: &str = "sha256:c0669ef34cdc14332c0f1ab0c2c01acb91d96014b172f1a76f3a39e63d1f0bda";
const NOW: &str = "2025-06-01T00:00:00Z";
const TSA_UNKNOWN: &str = "authenticTimestamp validation failed: timestamping certificate with subject \"CN=Globalsign TSA for Advanced - G4 - 202311,O=GlobalSign nv-sa,C=BE\" revocation status is unknown";

/// Every certificate is good: stands in for the public TSA's OCSP answer.
struct AllGood;

#[async_trait]
impl RevocationChecker for AllGood {
    async fn check(&self, _: &Cert, _: &Cert, _: &RevocationContext) -> CertResult {
        CertResult {
            status: Status::Ok,
            detail: None,
        }
    }
}

fn ts_stores() -> TrustStores {
    stores(&[
        ("truststores/notation-go", "ca:valid-trust-store"),
        ("truststores/notation-go", "tsa:test-timestamp"),
        ("truststores/notation-go", "tsa:test-mismatch"),
        ("truststores/derived", "ca:testTSA-20240618"),
        ("truststores/derived", "ca:testTSA-2001"),
    ])
}

fn ts_policy(stores: &[&str], verify_timestamp: &str) -> TrustPolicyDocument {
    statement(
        "strict",
        stores,
        &["*"],
        &format!(r#","verifyTimestamp":"{verify_timestamp}""#),
    )
}

async fn run(
    policy: &TrustPolicyDocument,
    envelope: &[u8],
    checker: &dyn RevocationChecker,
) -> Outcome {
    let media = if envelope.first() == Some(&0xd2) {
        COSE
    } else {
        JWS
    };
    let stores = ts_stores();
    let target = descriptor(DOCKER_V2, TS_DIGEST, 528);
    let ctx = Context {
        policy: &policy.statements()[0],
        stores: &stores,
        revocation: checker,
        now: at(NOW),
        target: &target,
    };
    signature::verify(media, envelope, &ctx).await
}

fn env(name: &str) -> Vec<u8> {
    read(&format!("envelopes/notation-go-timestamp/{name}"))
}

fn default_policy() -> TrustPolicyDocument {
    policy(std::str::from_utf8(&read("trustpolicies/derived/notation-go-timestamp.json")).unwrap())
}

#[tokio::test]
async fn timestamped_envelopes_verify_with_the_tsa_chain_good() {
    for name in ["jwsWithTimestamp.sig", "coseWithTimestamp.sig"] {
        let o = run(&default_policy(), &env(name), &AllGood).await;
        assert!(o.verified(), "{name}: {}", failure(&o));
        // Offline, the public TSA chain's status is unknown.
        let o = run(&default_policy(), &env(name), &NoRevocationData).await;
        assert_eq!(failure(&o), TSA_UNKNOWN, "{name}");
    }
}

#[tokio::test]
async fn an_expired_signing_certificate_is_saved_by_its_timestamp() {
    let p = ts_policy(&["ca:testTSA-20240618", "tsa:test-timestamp"], "always");
    for name in [
        "jwsExpiredWithTimestamp.sig",
        "coseExpiredWithTimestamp.sig",
    ] {
        let o = run(&p, &env(name), &AllGood).await;
        assert!(o.verified(), "{name}: {}", failure(&o));
        let o = run(&p, &env(name), &NoRevocationData).await;
        assert_eq!(failure(&o), TSA_UNKNOWN, "{name}");
        // afterCertExpiry: the chain has expired, so the token is checked.
        let after = ts_policy(
            &["ca:testTSA-20240618", "tsa:test-timestamp"],
            "afterCertExpiry",
        );
        assert!(run(&after, &env(name), &AllGood).await.verified(), "{name}");
    }
}

#[tokio::test]
async fn timestamps_outside_the_signing_certificate() {
    let o = run(
        &default_policy(),
        &env("timestampBeforeNotBefore.sig"),
        &AllGood,
    )
    .await;
    assert_eq!(
        failure(&o),
        "authenticTimestamp validation failed: timestamp can be before certificate \"CN=testTSA,O=Notary,L=Seattle,ST=WA,C=US\" validity period, it will be valid from \"Fri, 18 Sep 2099 11:54:34 +0000\""
    );
    let p = ts_policy(&["ca:testTSA-2001", "tsa:test-timestamp"], "always");
    let o = run(&p, &env("timestampAfterNotAfter.sig"), &AllGood).await;
    assert_eq!(
        failure(&o),
        "authenticTimestamp validation failed: timestamp can be after certificate \"CN=testTSA,O=Notary,L=Seattle,ST=WA,C=US\" validity period, it was expired at \"Tue, 18 Sep 2001 11:54:34 +0000\""
    );
}

#[tokio::test]
async fn tsa_store_problems() {
    let missing = ts_policy(&["ca:valid-trust-store", "tsa:does-not-exist"], "always");
    let o = run(&missing, &env("jwsWithTimestamp.sig"), &AllGood).await;
    assert_eq!(
        failure(&o),
        "authenticTimestamp validation failed: failed to load tsa trust store with error: the trust store \"does-not-exist\" of type \"tsa\" does not exist"
    );
    let mismatch = ts_policy(&["ca:valid-trust-store", "tsa:test-mismatch"], "always");
    let o = run(&mismatch, &env("jwsWithTimestamp.sig"), &AllGood).await;
    assert_eq!(
        failure(&o),
        "authenticTimestamp validation failed: failed to verify the timestamp countersignature with error: failed to verify signed token: cms verification failure: x509: certificate signed by unknown authority"
    );
}

/// `withoutTimestamp.sig` (JWS) with `token` placed in its unsigned header,
/// as notation-go's timestamp tests do.
fn with_token(token: &[u8]) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(&env("withoutTimestamp.sig")).unwrap();
    v["header"]["io.cncf.notary.timestampSignature"] =
        serde_json::Value::String(base64::engine::general_purpose::STANDARD.encode(token));
    serde_json::to_vec(&v).unwrap()
}

#[tokio::test]
async fn notation_go_tokens_in_an_envelope() {
    let cases = [
        (
            "TimeStampTokenWithInvalideContentType.p7s",
            "failed to parse timestamp countersignature with error: unexpected content type: 1.2.840.113549.1.7.1. Expected to be id-ct-TSTInfo (1.2.840.113549.1.9.16.1.4)",
        ),
        (
            "TimeStampTokenWithInvalidTSTInfo.p7s",
            "failed to get the timestamp TSTInfo with error: cannot unmarshal TSTInfo from timestamp token: asn1: structure error: tags don't match",
        ),
        (
            "TimeStampToken.p7s",
            "failed to get timestamp from timestamp countersignature with error: invalid TSTInfo: mismatched message",
        ),
    ];
    for (file, expected) in cases {
        let token = read(&format!("timestamp-tokens/notation-go/{file}"));
        let o = run(&default_policy(), &with_token(&token), &AllGood).await;
        let f = failure(&o);
        let prefix = "authenticTimestamp validation failed: ";
        assert!(f.starts_with(&format!("{prefix}{expected}")), "{file}: {f}");
    }
    // notation-go stamps "notation" for the token without certificates; the
    // same steps on the token itself:
    let token = tsp::parse(&read(
        "timestamp-tokens/notation-go/TimeStampTokenWithoutCertificate.p7s",
    ))
    .unwrap();
    let info = token.info().unwrap();
    info.validate(b"notation").unwrap();
    let roots: Vec<Cert> = ts_stores()
        .certificates(
            pullgate_policy::StoreKind::Tsa,
            &["tsa:test-timestamp".parse().unwrap()],
        )
        .unwrap();
    assert_eq!(
        token.verify(&roots, info.gen_time()).unwrap_err(),
        "failed to verify signed token: signing certificate not found in the timestamp token"
    );
    // A garbage token (the e2e layout's invalid one is 8 bytes of it).
    let o = run(
        &default_policy(),
        &with_token(b"\x01\x02\x03\x04\x05\x06\x07\x08"),
        &AllGood,
    )
    .await;
    assert!(
        failure(&o).starts_with("authenticTimestamp validation failed: failed to parse timestamp countersignature with error: cms: syntax error: invalid signed data: failed to convert from BER to DER"),
        "{}",
        failure(&o)
    );
}

fn globalsign_r3() -> Vec<Cert> {
    parse_certificates(&read("timestamp-tokens/tspclient-go/GlobalSignRootCA.crt")).unwrap()
}

fn tsp_token(file: &str) -> Vec<u8> {
    read(&format!("timestamp-tokens/tspclient-go/{file}"))
}

/// Parse, read the TSTInfo, verify at the token's time (the signer lookup
/// comes first in `verify`, as in tspclient-go).
fn tsp_flow(file: &str) -> Result<Vec<Cert>, String> {
    let token = tsp::parse(&tsp_token(file))?;
    let info = token.info()?;
    token.verify(&globalsign_r3(), info.gen_time())
}

/// The TSTInfo checks against the message "notation".
fn tsp_validate(file: &str) -> Result<(), String> {
    tsp::parse(&tsp_token(file))?
        .info()?
        .validate(b"notation")
        .map(|_| ())
}

#[test]
fn tspclient_go_tokens() {
    let token = tsp::parse(&tsp_token("TimeStampToken.p7s")).unwrap();
    let info = token.info().unwrap();
    let ts = info.validate(b"notation").unwrap();
    assert_eq!(ts.value, at("2021-09-17T14:09:10Z"));
    assert_eq!(ts.accuracy, std::time::Duration::from_secs(1));
    assert_eq!(
        info.validate(b"invalid").unwrap_err(),
        "invalid TSTInfo: mismatched message"
    );
    assert!(tsp_flow("TimeStampToken.p7s").is_ok());
    assert!(tsp_flow("TimeStampTokenWithValidAndInvalidSignerInfos.p7s").is_ok());
    // Upstream checks only that the signer is found through the SignerInfo's
    // identifier when IssuerSerial is absent; the edit broke the signature,
    // which is the next step, so reaching it shows the lookup worked.
    let e = tsp_flow("TimeStampTokenWithoutSigningCertificateV2IssuerSerial.p7s").unwrap_err();
    assert_eq!(
        e,
        "failed to verify signed token: cms verification failure: crypto/rsa: verification error"
    );
    assert_eq!(
        token.verify(&[], info.gen_time()).unwrap_err(),
        "failed to verify signed token: tsa root certificate pool cannot be nil"
    );
    let expect = |file: &str, message: &str| {
        let e = tsp_flow(file).unwrap_err();
        assert!(e.contains(message), "{file}: {e}");
    };
    expect(
        "TimeStampTokenWithoutCertificate.p7s",
        "failed to verify signed token: signing certificate not found in the timestamp token",
    );
    expect(
        "TimeStampTokenWithInvalidSignature.p7s",
        "failed to verify signed token: cms verification failure: crypto/rsa: verification error",
    );
    expect(
        "TimeStampTokenWithInvalidTSTInfo.p7s",
        "cannot unmarshal TSTInfo from timestamp token: asn1: structure error",
    );
    expect(
        "TimeStampTokenWithInvalideContentType.p7s",
        "unexpected content type: 1.2.840.113549.1.7.1. Expected to be id-ct-TSTInfo (1.2.840.113549.1.9.16.1.4)",
    );
    expect(
        "TimeStampTokenWithoutSigningCertificate.p7s",
        "failed to get SigningCertificateV2 from signed attributes: attribute not found",
    );
    expect(
        "TimeStampTokenWithSigningCertificateV1.p7s",
        "failed to get SigningCertificateV2 from signed attributes: attribute not found",
    );
    expect(
        "TimeStampTokenWithWrongSigningCertificateV2IssuerChoiceTag.p7s",
        "issuer name is missing in IssuerSerial",
    );
    expect(
        "TimeStampTokenWithSHA1CertHash.p7s",
        "unsupported certificate hash algorithm in SigningCertificateV2 attribute",
    );
    expect(
        "TimeStampTokenWithMismatchCertHash.p7s",
        "signing certificate hash does not match CertHash in signed attribute",
    );
    expect(
        "TimeStampTokenWithInvalidSigningCertificateV2.p7s",
        "failed to get SigningCertificateV2 from signed attributes: asn1: s",
    );
    expect(
        "TimeStampTokenWithSigningCertificateV2NoCert.p7s",
        "signingCertificateV2 does not contain any certificate",
    );
    for (file, message) in [
        (
            "TimeStampTokenWithTSTInfoVersion2.p7s",
            "invalid TSTInfo: timestamp token info version must be 1, but got 2",
        ),
        (
            "SHA1TimeStampToken.p7s",
            "invalid TSTInfo: unrecognized hash algorithm: 1.2.840.113549.1.1.5",
        ),
    ] {
        assert_eq!(tsp_validate(file).unwrap_err(), message, "{file}");
    }
    assert_eq!(tsp_validate("TimeStampToken.p7s"), Ok(()));
    for unreferenced in [
        "TimeStampTokenNoRoot.p7s",
        "TimeStampTokenWithInvalidSigningCertificateV1.p7s",
        "TimeStampTokenWithSigningCertificateV1NoCert.p7s",
    ] {
        let ok = tsp_flow(unreferenced).is_ok() && tsp_validate(unreferenced).is_ok();
        assert!(!ok, "{unreferenced} verified");
    }
    // notation-core-go's token whose CMS signature does not verify.
    let root =
        parse_certificates(&read("timestamp-tokens/notation-core-go/tsaRootCert.cer")).unwrap();
    let t = tsp::parse(&read(
        "timestamp-tokens/notation-core-go/TimeStampTokenWithInvalidSignature.p7s",
    ))
    .unwrap();
    let info = t.info().unwrap();
    let e = t.verify(&root, info.gen_time()).unwrap_err();
    assert!(
        e.starts_with("failed to verify signed token: cms verification failure"),
        "{e}"
    );
}
