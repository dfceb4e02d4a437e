use pullgate_testsupport::der_build::{bit_string, extension, integer_u64, oid, seq};
use pullgate_testsupport::{RawExt, RevokedEntry, TestCrl, crl_pem};
use time::macros::datetime;

use super::*;
use crate::notary::revocation::fixtures::{NOW, crl_chain, pki, signer, vector};

#[test]
fn the_e2e_crls_parse_as_go_reads_them() {
    let chain = crl_chain();
    let revoked = Crl::from_der(&vector("notation-e2e-crl/leaf_revoked.crl")).unwrap();
    assert_eq!(revoked.raw_issuer(), chain[1].raw_subject());
    assert_eq!(revoked.number, Some(BigInt::from(4097)));
    assert_eq!(revoked.entries.len(), 1);
    assert_eq!(revoked.entries[0].serial, [0x10, 0x00]);
    assert_eq!(revoked.entries[0].reason, 0);
    assert_eq!(revoked.this_update, datetime!(2024-11-11 05:30:52 UTC));
    assert_eq!(
        revoked.next_update,
        Some(datetime!(2124-10-18 05:30:52 UTC))
    );
    assert!(revoked.is_current(NOW) && !revoked.is_delta());
    let intermediate = Crl::from_der(&vector("notation-e2e-crl/intermediate_revoked.crl")).unwrap();
    assert_eq!(intermediate.raw_issuer(), chain[2].raw_subject());
    assert_eq!(intermediate.entries[0].serial, [0x10, 0x02]);
    let expired = Crl::from_der(&vector("notation-e2e-crl/leaf_expired.crl")).unwrap();
    assert!(!expired.is_current(NOW));
    assert!(
        Crl::from_der(&vector("notation-e2e-crl/leaf.crl"))
            .unwrap()
            .entries
            .is_empty()
    );
}

#[test]
fn pem_files_hold_one_or_more_crls_and_nothing_else() {
    let a = vector("notation-e2e-crl/leaf.crl");
    let b = vector("notation-e2e-crl/intermediate.crl");
    let two = format!("# operator notes\n{}{}", crl_pem(&a), crl_pem(&b));
    assert_eq!(parse_crl_file(two.as_bytes()).unwrap().len(), 2);
    assert_eq!(parse_crl_file(&a).unwrap().len(), 1);
    let cert = vector("notation-e2e-crl/root.crt");
    assert_eq!(
        parse_crl_file(&cert).unwrap_err(),
        CrlParseError::PemLabel {
            label: "CERTIFICATE".into()
        }
    );
    assert_eq!(
        parse_crl_file(b"not a CRL").unwrap_err(),
        CrlParseError::Malformed
    );
    let broken = "-----BEGIN X509 CRL-----\n!!!\n-----END X509 CRL-----\n";
    assert_eq!(
        parse_crl_file(broken.as_bytes()).unwrap_err(),
        CrlParseError::Pem
    );
}

#[test]
fn trailing_bytes_after_a_crl_are_ignored_as_in_go() {
    let mut der = vector("notation-e2e-crl/leaf.crl");
    der.extend_from_slice(b"trailing");
    assert!(Crl::from_der(&der).is_ok());
}

#[test]
fn what_go_rejects() {
    let p = pki(&[], &[]);
    let key = signer(&p.root);
    let base = TestCrl::new(&p.root.der, NOW, datetime!(2031-01-01 0:00 UTC));
    let v1 = TestCrl {
        v2: false,
        number: None,
        ..base.clone()
    };
    assert_eq!(
        Crl::from_der(&v1.sign(&key)).unwrap_err(),
        CrlParseError::Version
    );
    // The TBS names one algorithm, the outer structure another.
    let tbs = base.tbs(&key.algorithm_identifier());
    let other = seq(&[oid("1.2.840.113549.1.1.12")]);
    let mismatched = seq(&[tbs.clone(), other, bit_string(&key.sign(&tbs))]);
    assert_eq!(
        Crl::from_der(&mismatched).unwrap_err(),
        CrlParseError::AlgorithmMismatch
    );
    // A reasonCode that is an INTEGER, not an ENUMERATED.
    let mut entry = RevokedEntry::new(&[0x20, 0x00], NOW);
    entry.extra_extensions.push(RawExt {
        oid: "2.5.29.21".into(),
        critical: false,
        value: integer_u64(1),
    });
    let bad_reason = base.clone().revoke(entry).sign(&key);
    assert_eq!(
        Crl::from_der(&bad_reason).unwrap_err(),
        CrlParseError::ReasonCode
    );
    // A CRL number that is not an INTEGER.
    let mut bad_number = TestCrl {
        number: None,
        ..base
    };
    bad_number.extra_extensions.push(RawExt {
        oid: "2.5.29.20".into(),
        critical: false,
        value: extension("1.2.3", false, &[]),
    });
    assert_eq!(
        Crl::from_der(&bad_number.sign(&key)).unwrap_err(),
        CrlParseError::Number
    );
}

#[test]
fn reason_codes_and_extensions_are_read() {
    let p = pki(&[], &[]);
    let crl = TestCrl::new(&p.root.der, NOW, datetime!(2031-01-01 0:00 UTC))
        .revoke(RevokedEntry::new(&[0x20, 0x00], NOW).reason(6))
        .revoke(RevokedEntry::new(&[0x00, 0x80], NOW).invalid_since(NOW));
    let crl = Crl::from_der(&crl.sign(&signer(&p.root))).unwrap();
    assert_eq!(crl.entries[0].reason, 6);
    assert_eq!(crl.entries[1].serial, [0x00, 0x80]);
    assert_eq!(crl.entries[1].reason, 0);
    assert_eq!(crl.entries[1].extensions[0].oid, INVALIDITY_DATE);
    assert_eq!(crl.number, Some(BigInt::from(1)));
}
