use aws_lc_rs::signature::{self as sig, UnparsedPublicKey};
use der::asn1::{ObjectIdentifier, UintRef};
use der::{Decode, Encode, Tag, Tagged};
use time::macros::datetime;
use x509_cert::Certificate;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AuthorityInfoAccessSyntax, BasicConstraints, CrlDistributionPoints, ExtendedKeyUsage,
    KeyUsage as X509KeyUsage, KeyUsages,
};

use super::*;
use crate::notary::TestPki;

const OID_BC: &str = "2.5.29.19";
const OID_KU: &str = "2.5.29.15";
const OID_EKU: &str = "2.5.29.37";
const OID_AIA: &str = "1.3.6.1.5.5.7.1.1";
const OID_CRL_DP: &str = "2.5.29.31";

fn ext<'c>(cert: &'c Certificate, oid: &str) -> Option<&'c Extension> {
    let oid = ObjectIdentifier::new_unwrap(oid);
    cert.tbs_certificate()
        .extensions()?
        .iter()
        .find(|e| e.extn_id == oid)
}

fn decoded<'c, T: Decode<'c>>(e: &'c Extension) -> T {
    T::from_der(e.extn_value.as_bytes()).unwrap()
}

fn key_usage(cert: &Certificate) -> Option<(X509KeyUsage, bool)> {
    ext(cert, OID_KU).map(|e| (decoded(e), e.critical))
}

fn ekus(cert: &Certificate) -> Option<(Vec<String>, bool)> {
    ext(cert, OID_EKU).map(|e| {
        let eku: ExtendedKeyUsage = decoded(e);
        (eku.0.iter().map(|o| o.to_string()).collect(), e.critical)
    })
}

fn basic_constraints(cert: &Certificate) -> Option<(BasicConstraints, bool)> {
    ext(cert, OID_BC).map(|e| (decoded(e), e.critical))
}

fn unix(t: x509_cert::time::Time) -> i64 {
    t.to_unix_duration().as_secs() as i64
}

#[test]
fn leaf_has_notations_code_signing_profile() {
    let spec = CertSpec::leaf("leaf profile");
    let cert = TestCert::issue(spec, None).parsed();
    let tbs = cert.tbs_certificate();
    assert_eq!(tbs.version(), x509_cert::certificate::Version::V3);
    assert_eq!(
        tbs.subject().to_string(),
        "CN=leaf profile,O=Notary,L=Seattle,ST=WA,C=US"
    );
    assert_eq!(tbs.subject(), tbs.issuer());
    let (ku, critical) = key_usage(&cert).unwrap();
    assert!(critical);
    assert!(ku.0 == KeyUsages::DigitalSignature);
    assert_eq!(
        ekus(&cert).unwrap(),
        (vec!["1.3.6.1.5.5.7.3.3".to_string()], false)
    );
    assert!(basic_constraints(&cert).is_none());
    assert!(ext(&cert, OID_AIA).is_none());
    assert!(ext(&cert, OID_CRL_DP).is_none());
    let v = tbs.validity();
    assert_eq!(unix(v.not_before), DEFAULT_NOT_BEFORE.unix_timestamp());
    assert_eq!(unix(v.not_after), DEFAULT_NOT_AFTER.unix_timestamp());
}

#[test]
fn ca_has_critical_basic_constraints_and_cert_sign() {
    let cert = TestCert::issue(CertSpec::ca("ca profile"), None).parsed();
    let (bc, critical) = basic_constraints(&cert).unwrap();
    assert!(critical && bc.ca);
    assert_eq!(bc.path_len_constraint, None);
    let (ku, critical) = key_usage(&cert).unwrap();
    assert!(critical && ku.key_cert_sign() && ku.crl_sign() && !ku.digital_signature());
    assert!(ekus(&cert).is_none());
}

#[test]
fn basic_constraints_variants_round_trip() {
    let path_len_zero = CertSpec {
        ca: Some(Some(0)),
        basic_constraints_critical: false,
        ..CertSpec::ca("pathlen")
    };
    let cert = TestCert::issue(path_len_zero, None).parsed();
    let (bc, critical) = basic_constraints(&cert).unwrap();
    assert!(!critical && bc.ca);
    assert_eq!(bc.path_len_constraint, Some(0));

    let not_ca = CertSpec {
        explicit_not_ca: true,
        ..CertSpec::leaf("explicit not ca")
    };
    let cert = TestCert::issue(not_ca, None).parsed();
    let (bc, critical) = basic_constraints(&cert).unwrap();
    assert!(critical && !bc.ca);
}

#[test]
fn key_usage_variants_round_trip() {
    let non_critical = CertSpec {
        key_usage: Some((
            vec![KeyUsage::DigitalSignature, KeyUsage::KeyEncipherment],
            false,
        )),
        ..CertSpec::leaf("ku non critical")
    };
    let cert = TestCert::issue(non_critical, None).parsed();
    let (ku, critical) = key_usage(&cert).unwrap();
    assert!(!critical && ku.digital_signature() && ku.key_encipherment());
    assert!(!ku.key_cert_sign());

    let all = [
        KeyUsage::DigitalSignature,
        KeyUsage::NonRepudiation,
        KeyUsage::KeyEncipherment,
        KeyUsage::DataEncipherment,
        KeyUsage::KeyAgreement,
        KeyUsage::KeyCertSign,
        KeyUsage::CrlSign,
        KeyUsage::EncipherOnly,
        KeyUsage::DecipherOnly,
    ];
    let every = CertSpec {
        key_usage: Some((all.to_vec(), true)),
        ..CertSpec::leaf("ku all")
    };
    let (ku, _) = key_usage(&TestCert::issue(every, None).parsed()).unwrap();
    assert_eq!(ku.0.bits(), 0x1ff);

    let absent = CertSpec {
        key_usage: None,
        ..CertSpec::leaf("ku absent")
    };
    assert!(key_usage(&TestCert::issue(absent, None).parsed()).is_none());
}

#[test]
fn eku_variants_round_trip() {
    let purposes = vec![
        Eku::CodeSigning,
        Eku::TimeStamping,
        Eku::ServerAuth,
        Eku::ClientAuth,
        Eku::EmailProtection,
        Eku::OcspSigning,
        Eku::Any,
        Eku::Other("1.3.6.1.4.1.311.10.3.13".into()),
    ];
    let spec = CertSpec {
        eku: Some(purposes.clone()),
        eku_critical: true,
        ..CertSpec::leaf("eku all")
    };
    let (oids, critical) = ekus(&TestCert::issue(spec, None).parsed()).unwrap();
    assert!(critical);
    let want: Vec<String> = purposes.iter().map(Eku::oid).collect();
    assert_eq!(oids, want);
    assert_eq!(
        want[..7].join(" "),
        "1.3.6.1.5.5.7.3.3 1.3.6.1.5.5.7.3.8 1.3.6.1.5.5.7.3.1 1.3.6.1.5.5.7.3.2 1.3.6.1.5.5.7.3.4 1.3.6.1.5.5.7.3.9 2.5.29.37.0"
    );

    let tsa = TestCert::issue(CertSpec::tsa("tsa"), None).parsed();
    assert_eq!(
        ekus(&tsa).unwrap(),
        (vec!["1.3.6.1.5.5.7.3.8".to_string()], true)
    );

    let absent = CertSpec {
        eku: None,
        ..CertSpec::leaf("eku absent")
    };
    assert!(ekus(&TestCert::issue(absent, None).parsed()).is_none());
}

#[test]
fn revocation_urls_round_trip() {
    let spec = CertSpec {
        crl_urls: vec!["http://crl.test/leaf.crl".into()],
        ocsp_urls: vec!["http://ocsp.test/a".into(), "http://ocsp.test/b".into()],
        ..CertSpec::leaf("revocable")
    };
    let cert = TestCert::issue(spec, None).parsed();
    let aia = ext(&cert, OID_AIA).unwrap();
    assert!(!aia.critical);
    let aia: AuthorityInfoAccessSyntax = decoded(aia);
    let urls: Vec<String> = aia
        .0
        .iter()
        .map(|d| {
            assert_eq!(d.access_method.to_string(), "1.3.6.1.5.5.7.48.1");
            match &d.access_location {
                GeneralName::UniformResourceIdentifier(u) => u.to_string(),
                other => panic!("unexpected {other:?}"),
            }
        })
        .collect();
    assert_eq!(urls, ["http://ocsp.test/a", "http://ocsp.test/b"]);
    let dp: CrlDistributionPoints = decoded(ext(&cert, OID_CRL_DP).unwrap());
    let DistributionPoint {
        distribution_point: Some(DistributionPointName::FullName(names)),
        ..
    } = &dp.0[0]
    else {
        panic!("no full name in {dp:?}")
    };
    assert!(
        matches!(&names[0], GeneralName::UniformResourceIdentifier(u) if u.to_string() == "http://crl.test/leaf.crl")
    );
}

#[test]
fn validity_and_serial_are_as_asked() {
    let spec = CertSpec {
        serial: Some(4242),
        ..CertSpec::leaf("expired").valid(
            datetime!(2020-01-01 00:00:00 UTC),
            datetime!(2021-06-30 12:34:56 UTC),
        )
    };
    let cert = TestCert::issue(spec, None).parsed();
    let v = cert.tbs_certificate().validity();
    assert_eq!(unix(v.not_before), 1_577_836_800);
    assert_eq!(unix(v.not_after), 1_625_056_496);
    assert_eq!(
        cert.tbs_certificate().serial_number().as_bytes(),
        [0x10, 0x92]
    );
    let far = CertSpec::leaf("not yet valid").valid(
        datetime!(2060-01-01 00:00:00 UTC),
        datetime!(2070-01-01 00:00:00 UTC),
    );
    let cert = TestCert::issue(far, None).parsed();
    assert!(matches!(
        cert.tbs_certificate().validity().not_before,
        x509_cert::time::Time::GeneralTime(_)
    ));
}

#[test]
fn subject_strings_are_printable_or_utf8() {
    let spec = CertSpec {
        subject: vec![
            (DnAttr::C, "US".into()),
            (DnAttr::OU, "Ünit".into()),
            (DnAttr::CN, "plain".into()),
        ],
        ..CertSpec::leaf("x")
    };
    let cert = TestCert::issue(spec, None).parsed();
    let tags: Vec<Tag> = cert
        .tbs_certificate()
        .subject()
        .iter()
        .map(|atv| atv.value.tag())
        .collect();
    assert_eq!(
        tags,
        [Tag::PrintableString, Tag::Utf8String, Tag::PrintableString]
    );
}

#[derive(der::Sequence)]
struct RsaPublicKey<'a> {
    modulus: UintRef<'a>,
    exponent: UintRef<'a>,
}

/// (algorithm OID, curve OID or None, size in bits)
fn key_facts(cert: &Certificate) -> (String, Option<String>, usize) {
    let spki = cert.tbs_certificate().subject_public_key_info();
    let alg = spki.algorithm.oid.to_string();
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
        .map(|o| o.to_string());
    let raw = spki.subject_public_key.raw_bytes();
    let bits = if alg == "1.2.840.113549.1.1.1" {
        let n = RsaPublicKey::from_der(raw).unwrap().modulus;
        let bytes = n.as_bytes();
        bytes.len() * 8 - bytes[0].leading_zeros() as usize
    } else {
        raw.len()
    };
    (alg, curve, bits)
}

#[test]
fn every_key_kind_lands_in_the_certificate() {
    const RSA: &str = "1.2.840.113549.1.1.1";
    const EC: &str = "1.2.840.10045.2.1";
    let cases = [
        (KeyKind::Rsa2048, RSA, None, 2048),
        (KeyKind::Rsa3072, RSA, None, 3072),
        (KeyKind::Rsa4096, RSA, None, 4096),
        (KeyKind::EcP256, EC, Some("1.2.840.10045.3.1.7"), 65),
        (KeyKind::EcP384, EC, Some("1.3.132.0.34"), 97),
        (KeyKind::EcP521, EC, Some("1.3.132.0.35"), 133),
        (KeyKind::Ed25519, "1.3.101.112", None, 32),
    ];
    for (kind, alg, curve, size) in cases {
        let cert = TestCert::issue(CertSpec::leaf("k").with_key(kind, 0), None);
        let facts = key_facts(&cert.parsed());
        assert_eq!(
            facts,
            (alg.to_string(), curve.map(String::from), size),
            "{kind:?}"
        );
        assert_eq!(cert.key.kind(), kind);
    }
}

#[test]
fn issued_certificates_chain_to_their_issuer() {
    let pki = TestPki::code_signing_chain(2);
    let chain = pki.chain();
    assert_eq!(chain.len(), 4);
    assert_eq!(chain[0].der, pki.leaf.der);
    assert_eq!(chain[3].der, pki.root.der);
    for pair in chain.windows(2) {
        let (child, parent) = (pair[0].parsed(), pair[1].parsed());
        let issuer_der = child.tbs_certificate().issuer().to_der().unwrap();
        let subject_der = parent.tbs_certificate().subject().to_der().unwrap();
        assert_eq!(issuer_der, subject_der);
        let tbs = child.tbs_certificate().to_der().unwrap();
        let pk = pair[1].key.public_key_raw();
        UnparsedPublicKey::new(&sig::RSA_PKCS1_2048_8192_SHA256, &pk)
            .verify(&tbs, child.signature().raw_bytes())
            .unwrap();
        assert_ne!(pair[0].key.spki_der(), pair[1].key.spki_der());
    }
    let root = pki.root.parsed();
    assert_eq!(
        root.tbs_certificate().issuer(),
        root.tbs_certificate().subject()
    );
    assert!(
        basic_constraints(&pki.intermediates[0].parsed())
            .unwrap()
            .0
            .ca
    );
    assert!(
        pki.leaf
            .pem()
            .starts_with("-----BEGIN CERTIFICATE-----\nMII")
    );
    let certs = Certificate::load_pem_chain(pem_chain(&chain).as_bytes()).unwrap();
    assert_eq!(certs.len(), 4);
}
