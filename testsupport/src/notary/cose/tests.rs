use ciborium::Value as V;
use time::macros::datetime;

use crate::notary::test_util::*;
use crate::notary::*;

fn self_signed(kind: KeyKind) -> TestCert {
    TestCert::issue(CertSpec::leaf("cose test").with_key(kind, 0), None)
}

fn tag1(v: &V) -> i128 {
    match v {
        V::Tag(1, inner) => i128::from(inner.as_integer().unwrap()),
        other => panic!("not a tag-1 time: {other:?}"),
    }
}

#[test]
fn envelope_is_a_tagged_sign1_that_verifies() {
    let pki = TestPki::code_signing_chain(1);
    let opts = SignOptions::new(EnvelopeFormat::Cose);
    let env = sign(&alpine_target(), &pki.chain(), &opts);
    assert_eq!(env.media_type, "application/cose");
    assert_eq!(env.bytes[0], 0xd2, "COSE_Sign1_Tagged starts with tag 18");
    let cose = Cose::parse(&env.bytes);
    assert_eq!(cose.tag, 18);
    assert_eq!(cose.protected("1"), Some(&V::from(-37)));
    let crit = V::Array(vec![V::from("io.cncf.notary.signingScheme")]);
    assert_eq!(cose.protected("2"), Some(&crit));
    let cty = "application/vnd.cncf.notary.payload.v1+json";
    assert_eq!(cose.protected("3"), Some(&V::from(cty)));
    let scheme = cose.protected("io.cncf.notary.signingScheme");
    assert_eq!(scheme, Some(&V::from("notary.x509")));
    let time = tag1(cose.protected("io.cncf.notary.signingTime").unwrap());
    assert_eq!(time, i128::from(env.signing_time.unix_timestamp()));

    let chain: Vec<V> = pki
        .chain()
        .iter()
        .map(|c| V::Bytes(c.der.clone()))
        .collect();
    assert_eq!(cose.unprotected("33"), Some(&V::Array(chain)));
    let agent = cose.unprotected("io.cncf.notary.signingAgent");
    assert_eq!(agent, Some(&V::from("pullgate-testsupport/notary")));
    assert_eq!(cose.payload, env.payload);
    assert_eq!(cose.signature, env.raw_signature);
    let tbs = sig_structure(&cose.protected_raw, &cose.payload);
    assert!(verifies(
        &pki.leaf.key,
        Algorithm::Ps256,
        &tbs,
        &cose.signature
    ));
}

#[test]
fn sig_structure_is_signature1_protected_empty_aad_payload() {
    let tbs = sig_structure(&[0xa0], b"p");
    assert_eq!(
        tbs,
        [
            0x84, 0x6a, b'S', b'i', b'g', b'n', b'a', b't', b'u', b'r', b'e', b'1', 0x41, 0xa0,
            0x40, 0x41, b'p'
        ]
    );
}

#[test]
fn protected_header_and_payload_are_byte_identical_to_notation() {
    let leaf = self_signed(KeyKind::Rsa2048);
    let opts = SignOptions {
        // The upstream COSE vector was signed at another second than the JWS one.
        signing_time: time::OffsetDateTime::from_unix_timestamp(1_678_769_122).unwrap(),
        ..SignOptions::new(EnvelopeFormat::Cose)
    };
    let ours = Cose::parse(&sign(&alpine_target(), &[&leaf], &opts).bytes);
    let upstream = Cose::parse(ALPINE_COSE);
    assert_eq!(ours.protected_raw, upstream.protected_raw);
    assert_eq!(ours.payload, upstream.payload);
    assert_eq!(labels(&ours.unprotected), labels(&upstream.unprotected));
}

#[test]
fn timestamped_unprotected_header_matches_upstream_labels() {
    let leaf = self_signed(KeyKind::Rsa2048);
    let opts = SignOptions {
        timestamp_token: Some(b"token".to_vec()),
        ..SignOptions::new(EnvelopeFormat::Cose)
    };
    let ours = Cose::parse(&sign(&alpine_target(), &[&leaf], &opts).bytes);
    let upstream = Cose::parse(TIMESTAMP_COSE);
    let want = [
        "33",
        "io.cncf.notary.signingAgent",
        "io.cncf.notary.timestampSignature",
    ];
    assert_eq!(labels(&upstream.unprotected), want);
    assert_eq!(labels(&ours.unprotected), want);
    let token = ours.unprotected("io.cncf.notary.timestampSignature");
    assert_eq!(token, Some(&V::Bytes(b"token".to_vec())));
}

#[test]
fn signing_authority_with_expiry_orders_labels_canonically() {
    let leaf = self_signed(KeyKind::EcP384);
    let opts = SignOptions {
        scheme: SigningScheme::SigningAuthority,
        signing_time: datetime!(2020-11-09 07:00:00 UTC),
        expiry: Some(datetime!(2120-11-09 07:00:00 UTC)),
        extra_critical: vec!["x".into()],
        extra_protected_cose: vec![(CoseLabel::Text("x".into()), Cbor::Int(7))],
        ..SignOptions::new(EnvelopeFormat::Cose)
    };
    let env = sign(&alpine_target(), &[&leaf], &opts);
    let cose = Cose::parse(&env.bytes);
    let want = [
        "1",
        "2",
        "3",
        "x",
        "io.cncf.notary.expiry",
        "io.cncf.notary.signingScheme",
        "io.cncf.notary.authenticSigningTime",
    ];
    assert_eq!(labels(&cose.protected), want);
    let crit = V::Array(
        [
            "io.cncf.notary.signingScheme",
            "io.cncf.notary.authenticSigningTime",
            "io.cncf.notary.expiry",
            "x",
        ]
        .map(V::from)
        .to_vec(),
    );
    assert_eq!(cose.protected("2"), Some(&crit));
    assert_eq!(
        tag1(
            cose.protected("io.cncf.notary.authenticSigningTime")
                .unwrap()
        ),
        1_604_905_200
    );
    assert_eq!(
        tag1(cose.protected("io.cncf.notary.expiry").unwrap()),
        4_760_578_800
    );
    assert!(cose.protected("io.cncf.notary.signingTime").is_none());
    let tbs = sig_structure(&cose.protected_raw, &cose.payload);
    assert!(verifies(&leaf.key, Algorithm::Es384, &tbs, &cose.signature));
}

#[test]
fn every_supported_key_signs_with_its_algorithm() {
    for kind in KeyKind::SUPPORTED {
        let leaf = self_signed(kind);
        let env = sign(
            &alpine_target(),
            &[&leaf],
            &SignOptions::new(EnvelopeFormat::Cose),
        );
        let cose = Cose::parse(&env.bytes);
        let alg = kind.notation_algorithm().unwrap();
        assert_eq!(cose.protected("1"), Some(&V::from(alg.cose_id())));
        let tbs = sig_structure(&cose.protected_raw, &cose.payload);
        assert!(verifies(&leaf.key, alg, &tbs, &cose.signature), "{kind:?}");
    }
}

#[test]
fn corruptions_break_verification() {
    let leaf = self_signed(KeyKind::EcP256);
    for corrupt in [Corruption::Signature, Corruption::Payload] {
        let opts = SignOptions {
            corrupt,
            ..SignOptions::new(EnvelopeFormat::Cose)
        };
        let env = sign(&alpine_target(), &[&leaf], &opts);
        let cose = Cose::parse(&env.bytes);
        let tbs = sig_structure(&cose.protected_raw, &cose.payload);
        assert!(
            !verifies(&leaf.key, Algorithm::Es256, &tbs, &cose.signature),
            "{corrupt:?}"
        );
    }
}

#[test]
fn header_overrides_bend_the_envelope() {
    let leaf = self_signed(KeyKind::EcP256);
    let opts = SignOptions {
        extra_protected_cose: vec![(
            CoseLabel::Text("io.cncf.notary.signingTime".into()),
            Cbor::Tag(0, Box::new(Cbor::text("2023-01-01T00:00:00Z"))),
        )],
        remove_protected: vec!["cty".into()],
        extra_unprotected_cose: vec![(CoseLabel::Int(33), Cbor::Bytes(leaf.der.clone()))],
        algorithm_override: Some(Algorithm::Es384),
        signing_agent: None,
        ..SignOptions::new(EnvelopeFormat::Cose)
    };
    let env = sign(&alpine_target(), &[&leaf], &opts);
    let cose = Cose::parse(&env.bytes);
    assert!(cose.protected("3").is_none());
    assert_eq!(cose.protected("1"), Some(&V::from(-35)));
    let time = cose.protected("io.cncf.notary.signingTime").unwrap();
    assert!(matches!(time, V::Tag(0, _)));
    assert_eq!(cose.unprotected("33"), Some(&V::Bytes(leaf.der.clone())));
    assert_eq!(labels(&cose.unprotected), ["33"]);
    // P-256 cannot make ES384: the key's own algorithm signs.
    let tbs = sig_structure(&cose.protected_raw, &cose.payload);
    assert!(verifies(&leaf.key, Algorithm::Es256, &tbs, &cose.signature));
}

#[test]
fn payload_keeps_notation_go_struct_order() {
    let mut target = alpine_target();
    target.annotations.insert("k".into(), "v".into());
    let payload = payload_json(&target, EnvelopeFormat::Cose);
    let want = concat!(
        r#"{"targetArtifact":{"mediaType":"application/vnd.oci.image.manifest.v1+json","#,
        r#""digest":"sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0","#,
        r#""size":481,"annotations":{"k":"v"}}}"#
    );
    assert_eq!(std::str::from_utf8(&payload).unwrap(), want);
}
