#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The Notary Project's own envelopes (../shared/vectors/notation/envelopes),
//! verified at the times the vector README gives, with the outcomes and
//! error texts it gives (README §2).

mod common;

use common::*;
use pullgate_policy::{Action, ValidationType};

const MOCK: &str = "envelopes/notation-go-mock";
const MOCK_DIGEST: &str = "sha256:60043cf45eaebc4c0867fea485a039b598f52fd09fd5b07b0b2d2f88fad9d74e";
const NOW: &str = "2025-01-01T00:00:00Z";

fn mock_stores() -> pullgate_verify::notary::TrustStores {
    stores(&[
        ("truststores/notation-go", "ca:valid-trust-store"),
        (
            "truststores/notation-go",
            "signingAuthority:valid-trust-store",
        ),
        ("truststores/notation-go", "ca:valid-trust-store-2"),
        (
            "truststores/notation-go",
            "signingAuthority:valid-trust-store-2",
        ),
    ])
}

fn dummy_policy() -> pullgate_policy::TrustPolicyDocument {
    policy(std::str::from_utf8(&read("trustpolicies/derived/notation-go-dummy-oci.json")).unwrap())
}

async fn mock(
    file: &str,
    level: &str,
    stores_: &[&str],
    identity: &str,
) -> pullgate_verify::notary::Outcome {
    let doc = statement(level, stores_, &[identity], "");
    verify_with(
        &doc,
        &mock_stores(),
        at(NOW),
        &descriptor(DOCKER_V2, MOCK_DIGEST, 528),
        JWS,
        &read(&format!("{MOCK}/{file}")),
    )
    .await
}

const VALID: [&str; 2] = ["ca:valid-trust-store", "signingAuthority:valid-trust-store"];
const UNTRUSTED: [&str; 2] = [
    "ca:valid-trust-store-2",
    "signingAuthority:valid-trust-store-2",
];
const ROOT_ID: &str = "x509.subject:CN=Notation Test Root,O=Notary,L=Seattle,ST=WA,C=US";

#[tokio::test]
async fn mock_valid_envelopes_with_both_signing_schemes() {
    let doc = dummy_policy();
    for file in ["ca_valid_sig_env.json", "sa_valid_sig_env.json"] {
        let o = verify_with(
            &doc,
            &mock_stores(),
            at(NOW),
            &descriptor(DOCKER_V2, MOCK_DIGEST, 528),
            JWS,
            &read(&format!("{MOCK}/{file}")),
        )
        .await;
        assert!(o.verified(), "{file}: {}", failure(&o));
        for level in ["strict", "permissive", "audit"] {
            let o = mock(file, level, &VALID, "*").await;
            assert!(o.verified(), "{file} {level}: {}", failure(&o));
        }
    }
}

#[tokio::test]
async fn mock_corrupted_envelopes_fail_integrity_at_every_level() {
    for file in ["ca_invalid_sig_env.json", "sa_invalid_sig_env.json"] {
        for level in ["strict", "permissive", "audit"] {
            let o = mock(file, level, &VALID, "*").await;
            assert_eq!(
                failure(&o),
                "integrity validation failed: signature is invalid. Error: illegal base64 data at input byte 242",
                "{file} {level}"
            );
        }
    }
}

#[tokio::test]
async fn mock_expired_envelopes_fail_strict_and_are_logged_otherwise() {
    for file in ["ca_expired_sig_env.json", "sa_expired_sig_env.json"] {
        let o = mock(file, "strict", &VALID, "*").await;
        assert_eq!(
            failure(&o),
            "expiry validation failed: digital signature has expired on \"Fri, 29 Jul 2022 23:59:00 +0000\"",
            "{file}"
        );
        for level in ["permissive", "audit"] {
            let o = mock(file, level, &VALID, "*").await;
            assert!(o.verified(), "{file} {level}: {}", failure(&o));
            let logged: Vec<_> = o.logged().map(|r| r.kind).collect();
            assert_eq!(logged, vec![ValidationType::Expiry], "{file} {level}");
        }
    }
}

#[tokio::test]
async fn mock_untrusted_store_fails_authenticity_except_in_audit() {
    let msg = "authenticity validation failed: the signature's certificate chain does not contain any trusted certificate";
    for file in ["ca_valid_sig_env.json", "sa_valid_sig_env.json"] {
        for level in ["strict", "permissive"] {
            assert_eq!(
                failure(&mock(file, level, &UNTRUSTED, "*").await),
                msg,
                "{file} {level}"
            );
        }
        let o = mock(file, "audit", &UNTRUSTED, "*").await;
        assert!(o.verified(), "{file}: {}", failure(&o));
        assert!(
            o.results
                .iter()
                .any(|r| r.kind == ValidationType::Authenticity
                    && r.action == Action::Log
                    && r.error.as_deref()
                        == Some(&msg["authenticity validation failed: ".len()..]))
        );
    }
}

#[tokio::test]
async fn mock_trusted_identities() {
    let o = mock("ca_valid_sig_env.json", "strict", &VALID, ROOT_ID).await;
    assert!(o.verified(), "{}", failure(&o));
    let o = mock(
        "ca_valid_sig_env.json",
        "strict",
        &VALID,
        "x509.subject:CN=LOL,O=DummyOrg,L=Hyderabad,ST=TG,C=IN",
    )
    .await;
    assert_eq!(
        failure(&o),
        "authenticity validation failed: signing certificate from the digital signature does not match the X.509 trusted identities [map[\"C\":\"IN\" \"CN\":\"LOL\" \"L\":\"Hyderabad\" \"O\":\"DummyOrg\" \"ST\":\"TG\"]] defined in the trust policy \"test-statement-name\""
    );
}

#[tokio::test]
async fn mock_plugin_envelopes_need_a_plugin() {
    for file in ["ca_plugin_sig_env.json", "sa_plugin_sig_env.json"] {
        let o = mock(file, "strict", &VALID, "*").await;
        let f = failure(&o);
        assert!(
            f.starts_with("error while locating the verification plugin \"plugin-name\""),
            "{file}: {f}"
        );
    }
    let wabbit = "x509.subject:CN=wabbit-networks.io,O=Notary,L=Seattle,ST=WA,C=US";
    for v in [
        "0.0.9",
        "1.0.0-alpha",
        "1.0.0-alpha.beta",
        "1.0.0",
        "1.0.1",
        "1.0.9",
        "1.1.0-alpha",
        "1.2.3",
    ] {
        let kind = if ["1.0.1", "1.0.9", "1.1.0-alpha", "1.2.3"].contains(&v) {
            "incompatible"
        } else {
            "compatible"
        };
        let doc = statement("strict", &["ca:valid-trust-store"], &[wabbit], "");
        let o = verify_with(
            &doc,
            &mock_stores(),
            at(NOW),
            &descriptor(
                DOCKER_V2,
                "sha256:fe7e9333395060c2f5e63cf36a38fba10176f183b4163a5794e081a480abba5f",
                942,
            ),
            JWS,
            &read(&format!("{MOCK}/ca_{kind}_pluginver_sig_env_{v}.json")),
        )
        .await;
        let f = failure(&o);
        assert!(
            f.starts_with("error while locating the verification plugin \"io.cncf.notary.plugin.unittest.mock\""),
            "{v}: {f}"
        );
    }
}

#[tokio::test]
async fn metadata_envelope_binds_its_target_descriptor() {
    // User metadata (`notation verify -m`) is not a pullgate feature; the
    // envelope still verifies against its own descriptor, and no other.
    let doc = statement("audit", &["ca:wabbit-networks-20230111"], &["*"], "");
    let s = stores(&[("truststores/derived", "ca:wabbit-networks-20230111")]);
    let env = read(&format!("{MOCK}/sig_env_with_metadata.json"));
    let digest = "sha256:5a07385af4e6b6af81b0ebfd435aedccdfa3507f0609c658209e1aba57159b2b";
    let o = verify_with(
        &doc,
        &s,
        at("2023-01-11T12:00:00Z"),
        &descriptor(DOCKER_V2, digest, 942),
        JWS,
        &env,
    )
    .await;
    assert!(o.verified(), "{}", failure(&o));
    let o = verify_with(
        &doc,
        &s,
        at("2023-01-11T12:00:00Z"),
        &descriptor(DOCKER_V2, digest, 943),
        JWS,
        &env,
    )
    .await;
    assert_eq!(failure(&o), "content descriptor mismatch");
    let o = verify_with(
        &doc,
        &s,
        at("2023-01-11T12:00:00Z"),
        &descriptor(OCI_MANIFEST, digest, 942),
        JWS,
        &env,
    )
    .await;
    assert_eq!(failure(&o), "content descriptor mismatch");
}

#[tokio::test]
async fn alpine_jws_and_cose_verify_until_2123() {
    let target = descriptor(
        OCI_MANIFEST,
        "sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0",
        481,
    );
    let doc = statement("strict", &["ca:alpine-2123"], &["*"], "");
    let s = stores(&[
        ("truststores/derived", "ca:alpine-2123"),
        ("truststores/notation-go", "ca:valid-trust-store-2"),
    ]);
    for (file, mt) in [("jws_signature.sig", JWS), ("cose_signature.sig", COSE)] {
        let env = read(&format!("envelopes/notation-go-alpine/{file}"));
        for now in ["2023-03-15T00:00:00Z", NOW, "2123-08-29T13:50:00Z"] {
            let o = verify_with(&doc, &s, at(now), &target, mt, &env).await;
            assert!(o.verified(), "{file} at {now}: {}", failure(&o));
        }
        let later = verify_with(&doc, &s, at("2123-09-01T00:00:00Z"), &target, mt, &env).await;
        assert!(
            failure(&later).starts_with("authenticTimestamp validation failed: verification time is after certificate \"CN=alpine,O=Notary,L=Seattle,ST=WA,C=US\" validity period"),
            "{file}: {}",
            failure(&later)
        );
        let other = statement("strict", &["ca:valid-trust-store-2"], &["*"], "");
        let o = verify_with(&other, &s, at(NOW), &target, mt, &env).await;
        assert_eq!(
            failure(&o),
            "authenticity validation failed: the signature's certificate chain does not contain any trusted certificate",
            "{file}"
        );
        // The wrong envelope media type cannot be parsed.
        let wrong = if mt == JWS { COSE } else { JWS };
        let o = verify_with(&doc, &s, at(NOW), &target, wrong, &env).await;
        assert!(
            failure(&o).starts_with("integrity validation failed: "),
            "{}",
            failure(&o)
        );
    }
}

#[tokio::test]
async fn unsupported_envelope_media_type() {
    let doc = statement("strict", &["ca:alpine-2123"], &["*"], "");
    let s = stores(&[("truststores/derived", "ca:alpine-2123")]);
    let o = verify_with(
        &doc,
        &s,
        at(NOW),
        &descriptor(OCI_MANIFEST, MOCK_DIGEST, 1),
        "application/vnd.oci.image.layer.v1.tar",
        b"invalid signature\n",
    )
    .await;
    assert_eq!(
        failure(&o),
        "integrity validation failed: unable to parse the digital signature, error : signature envelope format with media type \"application/vnd.oci.image.layer.v1.tar\" is not supported"
    );
}

#[tokio::test]
async fn timestamp_envelopes_without_timestamp_verification() {
    // Rows of README §2.3 that need no TSA: the signing chain checked against now.
    let target = descriptor(
        DOCKER_V2,
        "sha256:c0669ef34cdc14332c0f1ab0c2c01acb91d96014b172f1a76f3a39e63d1f0bda",
        528,
    );
    let s = stores(&[
        ("truststores/notation-go", "ca:valid-trust-store"),
        ("truststores/derived", "ca:testTSA-20240618"),
    ]);
    let ca_only = statement(
        "strict",
        &["ca:valid-trust-store", "ca:testTSA-20240618"],
        &["*"],
        "",
    );
    let env = read("envelopes/notation-go-timestamp/coseExpiredWithTimestamp.sig");
    let o = verify_with(&ca_only, &s, at(NOW), &target, COSE, &env).await;
    assert_eq!(
        failure(&o),
        "authenticTimestamp validation failed: verification time is after certificate \"CN=testTSA,O=Notary,L=Seattle,ST=WA,C=US\" validity period, it was expired at \"Tue, 18 Jun 2024 07:30:31 +0000\""
    );
    let env = read("envelopes/notation-go-timestamp/withoutTimestamp.sig");
    let o = verify_with(&ca_only, &s, at(NOW), &target, JWS, &env).await;
    assert!(o.verified(), "{}", failure(&o));
    let with_tsa = statement(
        "strict",
        &["ca:valid-trust-store", "tsa:test-timestamp"],
        &["*"],
        r#","verifyTimestamp":"always""#,
    );
    let mut s2 = s.clone();
    let (r, certs) = store_from("truststores/notation-go", "tsa:test-timestamp").unwrap();
    s2.insert(&r, certs);
    let o = verify_with(&with_tsa, &s2, at(NOW), &target, JWS, &env).await;
    assert_eq!(
        failure(&o),
        "authenticTimestamp validation failed: no timestamp countersignature was found in the signature envelope"
    );
    // afterCertExpiry with an unexpired chain: the token is not even looked at.
    let after = statement(
        "strict",
        &["ca:valid-trust-store", "tsa:test-timestamp"],
        &["*"],
        r#","verifyTimestamp":"afterCertExpiry""#,
    );
    let env = read("envelopes/notation-go-timestamp/coseWithTimestamp.sig");
    let o = verify_with(&after, &s2, at(NOW), &target, COSE, &env).await;
    assert!(o.verified(), "{}", failure(&o));
    // Not-yet-valid signer, no TSA store.
    let env = read("envelopes/notation-go-timestamp/timestampBeforeNotBefore.sig");
    let media = if env.first() == Some(&0xd2) {
        COSE
    } else {
        JWS
    };
    let o = verify_with(&ca_only, &s, at(NOW), &target, media, &env).await;
    assert_eq!(
        failure(&o),
        "authenticTimestamp validation failed: verification time is before certificate \"CN=testTSA,O=Notary,L=Seattle,ST=WA,C=US\" validity period, it will be valid from \"Fri, 18 Sep 2099 11:54:34 +0000\""
    );
}

#[tokio::test]
async fn blob_envelopes_are_out_of_scope_but_parse() {
    // Blob signatures are out of scope (pullgate verifies OCI artifacts); their
    // envelopes still open, and the malformed one fails integrity.
    let doc = statement("strict", &["ca:testcert2"], &["*"], "");
    let s = stores(&[("truststores/derived", "ca:testcert2")]);
    let target = descriptor(
        "application/octet-stream",
        "sha256:c71d239df91726fc519c6eb72d318ec65820627232b2f796219e87dcf35d0ab4",
        11357,
    );
    let o = verify_with(
        &doc,
        &s,
        at("2024-12-31T12:00:00Z"),
        &target,
        JWS,
        &read("envelopes/notation-blob/blob.jws.sig"),
    )
    .await;
    assert!(o.verified(), "{}", failure(&o));
    let o = verify_with(
        &doc,
        &s,
        at(NOW),
        &target,
        JWS,
        &read("envelopes/notation-blob/malformed.jws.sig"),
    )
    .await;
    assert!(
        failure(&o)
            .starts_with("integrity validation failed: unable to parse the digital signature"),
        "{}",
        failure(&o)
    );
}
