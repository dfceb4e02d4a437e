use pullgate_testsupport::der_build::{enumerated, seq};
use pullgate_testsupport::notary::{CertSpec, Eku, TestCert};
use pullgate_testsupport::{OcspAnswer, OcspResponse, OcspSigner, RawExt, ocsp_response_for};
use time::Duration;

use super::*;
use crate::notary::revocation::fixtures::{NOW, ocsp_chain, vector_text};

fn responder() -> OcspSigner {
    OcspSigner::delegated(
        &vector_der("notation-e2e-ocsp/ocsp.crt"),
        &vector_text("notation-e2e-ocsp/ocsp.key"),
    )
}

fn vector_der(rel: &str) -> Vec<u8> {
    pullgate_testsupport::first_pem_cert(&vector_text(rel))
}

fn answer(answer: OcspAnswer) -> OcspResponse {
    OcspResponse {
        answer,
        this_update: NOW - Duration::hours(1),
        next_update: Some(NOW + Duration::hours(1)),
        single_extensions: Vec::new(),
    }
}

/// The leaf's request answered as `response` by `signer`, then parsed.
fn roundtrip(response: &OcspResponse, signer: &OcspSigner) -> Result<Response, OcspParseError> {
    let chain = ocsp_chain();
    let request = create_request(&chain[0], &chain[1]).unwrap();
    let bytes = ocsp_response_for(&request, response, signer);
    parse_response_for_cert(&bytes, &chain[0], &chain[1])
}

#[test]
fn the_request_is_x_crypto_ocsps() {
    let chain = ocsp_chain();
    let request = create_request(&chain[0], &chain[1]).unwrap();
    let parsed = OcspRequest::from_der(&request).unwrap();
    let [single] = parsed.tbs_request.request_list.as_slice() else {
        panic!("one request expected");
    };
    let id = &single.req_cert;
    assert_eq!(id.hash_algorithm.oid, SHA1);
    assert_eq!(id.hash_algorithm.parameters, Some(Any::null()));
    let name_hash = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, chain[1].raw_subject());
    assert_eq!(id.issuer_name_hash.as_bytes(), name_hash.as_ref());
    assert_eq!(id.issuer_key_hash.as_bytes().len(), 20);
    assert_eq!(id.serial_number.as_bytes(), chain[0].serial());
}

#[test]
fn statuses_from_a_delegated_responder() {
    let good = roundtrip(&answer(OcspAnswer::Good), &responder()).unwrap();
    assert_eq!(good.status, CertStatus::Good);
    assert_eq!(good.next_update, Some(NOW + Duration::hours(1)));
    let unknown = roundtrip(&answer(OcspAnswer::Unknown), &responder()).unwrap();
    assert_eq!(unknown.status, CertStatus::Unknown);
    let revoked = OcspAnswer::Revoked {
        at: NOW - Duration::days(1),
        reason: Some(1),
        invalidity_date: Some(NOW - Duration::days(2)),
    };
    let revoked = roundtrip(&answer(revoked), &responder()).unwrap();
    assert_eq!(
        revoked.status,
        CertStatus::Revoked {
            at: NOW - Duration::days(1),
            reason: 1
        }
    );
    assert_eq!(
        revoked.extensions[0].oid,
        super::super::crl::INVALIDITY_DATE
    );
    let no_next = OcspResponse {
        next_update: None,
        ..answer(OcspAnswer::Good)
    };
    assert_eq!(roundtrip(&no_next, &responder()).unwrap().next_update, None);
}

#[test]
fn the_issuer_may_sign_itself_with_or_without_its_certificate() {
    let root = vector_der("notation-e2e-ocsp/root.crt");
    let key = vector_text("notation-e2e-ocsp/root.key");
    let direct = OcspSigner::issuer(&root, &key);
    assert_eq!(
        roundtrip(&answer(OcspAnswer::Good), &direct)
            .unwrap()
            .status,
        CertStatus::Good
    );
    let embedded = OcspSigner::delegated(&root, &key);
    assert_eq!(
        roundtrip(&answer(OcspAnswer::Good), &embedded)
            .unwrap()
            .status,
        CertStatus::Good
    );
}

#[test]
fn signers_that_are_not_accepted() {
    let good = answer(OcspAnswer::Good);
    // The responder certificate, but another key signed.
    let wrong_key = OcspSigner {
        key: pullgate_testsupport::PkixSigner::from_pem(&vector_text("notation-e2e-ocsp/leaf.key")),
        ..responder()
    };
    let err = roundtrip(&good, &wrong_key).unwrap_err();
    assert_eq!(
        err.to_string(),
        "bad signature on embedded certificate: crypto/rsa: verification error"
    );
    // Not the issuer, no certificate: the issuer's key does not verify.
    let stranger = OcspSigner {
        embed: false,
        ..responder()
    };
    assert!(matches!(
        roundtrip(&good, &stranger),
        Err(OcspParseError::Signature(_))
    ));
    // The leaf: issued by the root, but not for OCSP signing.
    let leaf = OcspSigner::delegated(
        &vector_der("notation-e2e-ocsp/leaf.crt"),
        &vector_text("notation-e2e-ocsp/leaf.key"),
    );
    assert_eq!(
        roundtrip(&good, &leaf).unwrap_err(),
        OcspParseError::NotOcspSigner {
            subject: "CN=LeafCert,OU=OrgUnit,O=Organization,L=City,ST=State,C=US".into()
        }
    );
    // An OCSP signing certificate another CA issued.
    let other = TestCert::issue(
        CertSpec {
            eku: Some(vec![Eku::OcspSigning]),
            ..CertSpec::leaf("Other Responder")
        },
        None,
    );
    let other = OcspSigner {
        key: pullgate_testsupport::PkixSigner::from_pkcs8(&other.key.pkcs8_der()),
        cert: other.der.clone(),
        embed: true,
    };
    let err = roundtrip(&good, &other).unwrap_err();
    assert!(matches!(err, OcspParseError::Signature(_)), "{err}");
}

#[test]
fn malformed_and_unusable_responses() {
    let chain = ocsp_chain();
    let parse = |bytes: &[u8]| parse_response_for_cert(bytes, &chain[0], &chain[1]);
    assert_eq!(
        parse(&seq(&[enumerated(6)])).unwrap_err().to_string(),
        "ocsp: error from server: unauthorized"
    );
    assert_eq!(
        parse(&seq(&[enumerated(0)])).unwrap_err(),
        OcspParseError::ResponseType
    );
    assert!(matches!(parse(b"junk"), Err(OcspParseError::Asn1(_))));
    let request = create_request(&chain[0], &chain[1]).unwrap();
    let mut bytes = ocsp_response_for(&request, &answer(OcspAnswer::Good), &responder());
    bytes.push(0);
    assert_eq!(parse(&bytes).unwrap_err(), OcspParseError::TrailingData);
    // A response about the root, not the leaf.
    let about_root = create_request(&chain[1], &chain[1]).unwrap();
    let bytes = ocsp_response_for(&about_root, &answer(OcspAnswer::Good), &responder());
    assert_eq!(parse(&bytes).unwrap_err(), OcspParseError::NoMatch);
    let critical = OcspResponse {
        single_extensions: vec![RawExt {
            oid: "1.2.3.4".into(),
            critical: true,
            value: vec![5, 0],
        }],
        ..answer(OcspAnswer::Good)
    };
    assert_eq!(
        roundtrip(&critical, &responder()).unwrap_err(),
        OcspParseError::CriticalExtension
    );
}

#[test]
fn an_intermediate_embedding_its_own_certificate_fails_as_in_go() {
    // x/crypto/ocsp checks the embedded certificate's signature with the
    // issuer's key: an intermediate's own certificate is not self-signed.
    let p = pullgate_testsupport::notary::TestPki::build(CertSpec::leaf("Signer"), 1);
    let (leaf, ca) = (
        Cert::from_der(&p.leaf.der).unwrap(),
        Cert::from_der(&p.intermediates[0].der).unwrap(),
    );
    let ca_key = pullgate_testsupport::PkixSigner::from_pkcs8(&p.intermediates[0].key.pkcs8_der());
    let request = create_request(&leaf, &ca).unwrap();
    let signer = |embed| OcspSigner {
        key: ca_key.clone(),
        cert: p.intermediates[0].der.clone(),
        embed,
    };
    let good = answer(OcspAnswer::Good);
    let direct = ocsp_response_for(&request, &good, &signer(false));
    assert_eq!(
        parse_response_for_cert(&direct, &leaf, &ca).unwrap().status,
        CertStatus::Good
    );
    let embedded = ocsp_response_for(&request, &good, &signer(true));
    assert!(matches!(
        parse_response_for_cert(&embedded, &leaf, &ca),
        Err(OcspParseError::Signature(_))
    ));
}
