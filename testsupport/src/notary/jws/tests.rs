use std::sync::{Arc, Mutex};

use serde_json::json;
use time::macros::datetime;

use crate::notary::test_util::*;
use crate::notary::*;

fn self_signed(kind: KeyKind) -> TestCert {
    TestCert::issue(CertSpec::leaf("jws test").with_key(kind, 0), None)
}

#[test]
fn envelope_has_notations_shape_and_verifies() {
    let pki = TestPki::code_signing_chain(1);
    let env = sign(&alpine_target(), &pki.chain(), &SignOptions::default());
    assert_eq!(env.media_type, "application/jose+json");
    let text = std::str::from_utf8(&env.bytes).unwrap();
    let order = [
        "\"payload\":",
        "\"protected\":",
        "\"header\":",
        "\"signature\":",
    ];
    let at: Vec<usize> = order.iter().map(|k| text.find(k).unwrap()).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]) && at[0] == 1, "{text}");

    let jws = Jws::parse(&env.bytes);
    let x5c: Vec<Vec<u8>> = jws.envelope["header"]["x5c"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| b64std(c.as_str().unwrap()))
        .collect();
    let want: Vec<Vec<u8>> = pki.chain().iter().map(|c| c.der.clone()).collect();
    assert_eq!(x5c, want);
    assert_eq!(env.chain, want);
    assert_eq!(jws.protected["alg"], "PS256");
    assert_eq!(
        jws.protected["cty"],
        "application/vnd.cncf.notary.payload.v1+json"
    );
    assert_eq!(
        jws.protected["crit"],
        json!(["io.cncf.notary.signingScheme"])
    );
    assert_eq!(jws.protected["io.cncf.notary.signingScheme"], "notary.x509");
    let time = jws.protected["io.cncf.notary.signingTime"]
        .as_str()
        .unwrap();
    assert_eq!(time, go_time(env.signing_time));
    assert!(time.ends_with('Z') && time.len() == 20, "{time}");
    assert_eq!(jws.signature, env.raw_signature);
    assert_eq!(jws.payload, env.payload);
    assert!(verifies(
        &pki.leaf.key,
        Algorithm::Ps256,
        &jws.signing_input(),
        &jws.signature
    ));
}

#[test]
fn header_key_sets_match_upstream_vectors() {
    let leaf = self_signed(KeyKind::Rsa2048);
    let env = sign(&alpine_target(), &[&leaf], &SignOptions::default());
    let ours = Jws::parse(&env.bytes);
    let upstream = Jws::parse(ALPINE_JWS);
    assert_eq!(keys(&ours.envelope), keys(&upstream.envelope));
    assert_eq!(ours.header_keys(), upstream.header_keys());
    assert_eq!(ours.protected_keys(), upstream.protected_keys());
    assert_eq!(ours.payload, upstream.payload);
}

#[test]
fn protected_header_and_payload_are_byte_identical_to_notation() {
    let leaf = self_signed(KeyKind::Rsa2048);
    let opts = SignOptions {
        signing_time: datetime!(2023-03-14 16:10:02 +08:00),
        ..SignOptions::default()
    };
    let ours = Jws::parse(&sign(&alpine_target(), &[&leaf], &opts).bytes);
    let upstream = Jws::parse(ALPINE_JWS);
    assert_eq!(ours.protected_b64, upstream.protected_b64);
    assert_eq!(ours.payload_b64, upstream.payload_b64);
}

#[test]
fn signing_authority_and_expiry_match_notations_crit_order() {
    let leaf = self_signed(KeyKind::Rsa3072);
    let opts = SignOptions {
        scheme: SigningScheme::SigningAuthority,
        signing_time: datetime!(2020-11-09 07:00:00 UTC),
        expiry: Some(datetime!(2120-11-09 07:00:00.5 UTC)),
        ..SignOptions::default()
    };
    let env = sign(&alpine_target(), &[&leaf], &opts);
    let ours = Jws::parse(&env.bytes);
    let upstream = Jws::parse(MOCK_SA_VALID);
    assert_eq!(ours.protected_raw, upstream.protected_raw);
    assert!(verifies(
        &leaf.key,
        Algorithm::Ps384,
        &ours.signing_input(),
        &ours.signature
    ));
}

#[test]
fn extended_critical_attributes_sit_between_scheme_and_expiry() {
    let leaf = self_signed(KeyKind::Rsa2048);
    let plugin = "io.cncf.notary.verificationPlugin";
    let min = "io.cncf.notary.verificationPluginMinVersion";
    let opts = SignOptions {
        signing_time: datetime!(2023-01-19 13:05:58 -08:00),
        extra_protected: vec![
            (plugin.into(), json!("io.cncf.notary.plugin.unittest.mock")),
            (min.into(), json!("1.0.0")),
        ],
        extra_critical: vec![min.into(), plugin.into()],
        ..SignOptions::default()
    };
    let ours = Jws::parse(&sign(&alpine_target(), &[&leaf], &opts).bytes);
    assert_eq!(ours.protected_raw, Jws::parse(MOCK_PLUGIN).protected_raw);

    let with_expiry = SignOptions {
        expiry: Some(datetime!(2030-01-01 00:00:00 UTC)),
        ..opts
    };
    let ours = Jws::parse(&sign(&alpine_target(), &[&leaf], &with_expiry).bytes);
    let want = json!([
        "io.cncf.notary.signingScheme",
        min,
        plugin,
        "io.cncf.notary.expiry"
    ]);
    assert_eq!(ours.protected["crit"], want);
}

#[test]
fn every_supported_key_signs_with_its_algorithm() {
    for kind in KeyKind::SUPPORTED {
        let leaf = self_signed(kind);
        let env = sign(&alpine_target(), &[&leaf], &SignOptions::default());
        let jws = Jws::parse(&env.bytes);
        let alg = kind.notation_algorithm().unwrap();
        assert_eq!(jws.protected["alg"], alg.jws_name());
        assert_eq!(env.algorithm, alg);
        assert!(
            verifies(&leaf.key, alg, &jws.signing_input(), &jws.signature),
            "{kind:?}"
        );
    }
}

#[test]
fn timestamp_tokens_come_first_in_the_unprotected_header() {
    let leaf = self_signed(KeyKind::EcP256);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    let opts = SignOptions {
        timestamper: Some(Timestamper::new(move |s: &[u8]| {
            *record.lock().unwrap() = s.to_vec();
            b"token".to_vec()
        })),
        ..SignOptions::default()
    };
    let env = sign(&alpine_target(), &[&leaf], &opts);
    assert_eq!(*seen.lock().unwrap(), env.raw_signature);
    let text = std::str::from_utf8(&env.bytes).unwrap();
    assert!(text.contains(r#""header":{"io.cncf.notary.timestampSignature":"dG9rZW4=","x5c":["#));
    let ours = Jws::parse(&env.bytes);
    assert_eq!(ours.header_keys(), Jws::parse(TIMESTAMP_JWS).header_keys());

    let fixed = SignOptions {
        timestamp_token: Some(vec![0xde, 0xad]),
        signing_agent: None,
        ..SignOptions::default()
    };
    let jws = Jws::parse(&sign(&alpine_target(), &[&leaf], &fixed).bytes);
    assert_eq!(
        jws.envelope["header"]["io.cncf.notary.timestampSignature"],
        "3q0="
    );
    assert!(
        jws.envelope["header"]
            .get("io.cncf.notary.signingAgent")
            .is_none()
    );
}

#[test]
fn corruptions_break_verification() {
    let leaf = self_signed(KeyKind::EcP384);
    let target = alpine_target();
    for corrupt in [Corruption::Signature, Corruption::Payload] {
        let opts = SignOptions {
            corrupt,
            ..SignOptions::default()
        };
        let env = sign(&target, &[&leaf], &opts);
        let jws = Jws::parse(&env.bytes);
        assert_eq!(jws.signature, env.raw_signature);
        assert!(!verifies(
            &leaf.key,
            Algorithm::Es384,
            &jws.signing_input(),
            &jws.signature
        ));
        let payload: serde_json::Value = serde_json::from_slice(&jws.payload).unwrap();
        let size = if corrupt == Corruption::Payload {
            482
        } else {
            481
        };
        assert_eq!(payload["targetArtifact"]["size"], size, "{corrupt:?}");
    }
}

#[test]
fn algorithm_override_claims_and_uses_another_algorithm() {
    let leaf = self_signed(KeyKind::Rsa2048);
    let opts = SignOptions {
        algorithm_override: Some(Algorithm::Ps384),
        ..SignOptions::default()
    };
    let env = sign(&alpine_target(), &[&leaf], &opts);
    let jws = Jws::parse(&env.bytes);
    assert_eq!(jws.protected["alg"], "PS384");
    assert!(verifies(
        &leaf.key,
        Algorithm::Ps384,
        &jws.signing_input(),
        &jws.signature
    ));
}

#[test]
fn payload_is_go_json_with_sorted_keys() {
    let leaf = self_signed(KeyKind::EcP256);
    let mut target = alpine_target();
    target.annotations.insert("z".into(), "a<b & c>d".into());
    target.annotations.insert("a".into(), "1".into());
    let env = sign(&target, &[&leaf], &SignOptions::default());
    let want = concat!(
        r#"{"targetArtifact":{"annotations":{"a":"1","z":"a\u003cb \u0026 c\u003ed"},"#,
        r#""digest":"sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0","#,
        r#""mediaType":"application/vnd.oci.image.manifest.v1+json","size":481}}"#
    );
    assert_eq!(std::str::from_utf8(&env.payload).unwrap(), want);
}

#[test]
fn header_overrides_replace_remove_and_add() {
    let leaf = self_signed(KeyKind::EcP256);
    let opts = SignOptions {
        extra_protected: vec![("cty".into(), json!("text/plain")), ("x".into(), json!(1))],
        remove_protected: vec!["io.cncf.notary.signingTime".into()],
        crit_override: Some(vec![]),
        extra_unprotected: vec![("x5c".into(), json!([])), ("extra".into(), json!(true))],
        payload_override: Some(b"[1]".to_vec()),
        ..SignOptions::default()
    };
    let env = sign(&alpine_target(), &[&leaf], &opts);
    let jws = Jws::parse(&env.bytes);
    assert_eq!(
        jws.protected_keys(),
        ["alg", "cty", "io.cncf.notary.signingScheme", "x"]
    );
    assert_eq!(jws.protected["cty"], "text/plain");
    assert_eq!(jws.envelope["header"]["x5c"], json!([]));
    assert_eq!(jws.envelope["header"]["extra"], json!(true));
    assert_eq!(jws.payload, b"[1]");
    assert!(verifies(
        &leaf.key,
        Algorithm::Es256,
        &jws.signing_input(),
        &jws.signature
    ));
}

#[test]
fn times_keep_their_offset_and_drop_fractions() {
    assert_eq!(
        go_time(datetime!(2023-03-14 16:10:02 +08:00)),
        "2023-03-14T16:10:02+08:00"
    );
    assert_eq!(
        go_time(datetime!(2023-01-11 10:02:54 -08:00)),
        "2023-01-11T10:02:54-08:00"
    );
    assert_eq!(
        go_time(datetime!(2023-01-11 10:02:54 +05:30)),
        "2023-01-11T10:02:54+05:30"
    );
    let leaf = self_signed(KeyKind::EcP256);
    let opts = SignOptions {
        signing_time: datetime!(2024-02-29 23:59:59.999 UTC),
        ..SignOptions::default()
    };
    let jws = Jws::parse(&sign(&alpine_target(), &[&leaf], &opts).bytes);
    assert_eq!(
        jws.protected["io.cncf.notary.signingTime"],
        "2024-02-29T23:59:59Z"
    );
}
