use pullgate_testsupport::notary::TestPki;
use pullgate_testsupport::{RawExt, RevokedEntry, TestCrl, serial_of};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::*;
use crate::notary::revocation::fixtures::{NOW, cert, crl_chain, pki, signer, vector};

const NEXT: OffsetDateTime = datetime!(2031-01-01 00:00:00 UTC);
const LAST_MONTH: OffsetDateTime = datetime!(2030-05-01 00:00:00 UTC);

fn bundle(crl: &[u8]) -> Bundle {
    Bundle {
        base: Arc::new(Crl::from_der(crl).unwrap()),
        delta: None,
    }
}

fn with_delta(base: &[u8], delta: &[u8]) -> Bundle {
    Bundle {
        delta: Some(Arc::new(Crl::from_der(delta).unwrap())),
        ..bundle(base)
    }
}

fn base_crl(p: &TestPki) -> TestCrl {
    TestCrl::new(&p.root.der, LAST_MONTH, NEXT)
}

fn problem(r: Result<(), ValidationError>) -> CrlProblem {
    match r {
        Err(ValidationError::Base(p)) => p,
        other => panic!("expected a base CRL problem, got {other:?}"),
    }
}

#[test]
fn the_e2e_crls_validate_against_their_issuers_only() {
    let chain = crl_chain();
    for (file, issuer) in [
        ("leaf.crl", &chain[1]),
        ("leaf_revoked.crl", &chain[1]),
        ("intermediate.crl", &chain[2]),
        ("intermediate_revoked.crl", &chain[2]),
    ] {
        let b = bundle(&vector(&format!("notation-e2e-crl/{file}")));
        assert_eq!(validate(&b, issuer, NOW), Ok(()), "{file}");
    }
    let wrong = validate(
        &bundle(&vector("notation-e2e-crl/leaf.crl")),
        &chain[2],
        NOW,
    );
    assert!(matches!(problem(wrong), CrlProblem::Issuer { .. }));
    // leaf_expired.crl is expired, and signed by another IntermediateCA key.
    let expired = validate(
        &bundle(&vector("notation-e2e-crl/leaf_expired.crl")),
        &chain[1],
        NOW,
    );
    let text = problem(expired).to_string();
    assert!(
        text.starts_with("CRL is not signed by CA CN=IntermediateCA,"),
        "{text}"
    );
}

#[test]
fn a_crl_must_be_current_signed_and_without_unknown_critical_extensions() {
    let p = pki(&[], &[]);
    let (root, key) = (cert(&p.root), signer(&p.root));
    let ok = base_crl(&p).sign(&key);
    assert_eq!(validate(&bundle(&ok), &root, NOW), Ok(()));
    let at_next_update = validate(&bundle(&ok), &root, NEXT);
    assert!(matches!(
        problem(at_next_update),
        CrlProblem::Expired { .. }
    ));
    let early = validate(&bundle(&ok), &root, LAST_MONTH - Duration::seconds(1));
    assert!(matches!(problem(early), CrlProblem::NotYetValid { .. }));
    let no_next = TestCrl {
        next_update: None,
        ..base_crl(&p)
    }
    .sign(&key);
    assert_eq!(
        problem(validate(&bundle(&no_next), &root, NOW)),
        CrlProblem::NoNextUpdate
    );
    let by_leaf = base_crl(&p).sign(&signer(&p.leaf));
    let text = problem(validate(&bundle(&by_leaf), &root, NOW)).to_string();
    assert!(text.contains("crypto/rsa: verification error"), "{text}");
    let mut critical = base_crl(&p);
    critical.extra_extensions.push(RawExt {
        oid: "1.2.3.4".into(),
        critical: true,
        value: vec![0x05, 0x00],
    });
    let critical = critical.sign(&key);
    assert_eq!(
        problem(validate(&bundle(&critical), &root, NOW)).to_string(),
        "unsupported critical extension found in CRL: 1.2.3.4"
    );
    // IssuingDistributionPoint is critical and known.
    let scoped = base_crl(&p)
        .scoped_to(&["http://crl/x.crl".into()])
        .sign(&key);
    assert_eq!(validate(&bundle(&scoped), &root, NOW), Ok(()));
}

#[test]
fn only_a_ca_may_sign_crls() {
    let p = pki(&[], &[]);
    let leaf = cert(&p.leaf);
    let crl = TestCrl::new(&p.leaf.der, LAST_MONTH, NEXT).sign(&signer(&p.leaf));
    let text = problem(validate(&bundle(&crl), &leaf, NOW)).to_string();
    assert!(
        text.contains("parent certificate cannot sign this kind of certificate"),
        "{text}"
    );
}

#[test]
fn a_delta_crl_must_follow_its_base() {
    let p = pki(&[], &[]);
    let (root, key) = (cert(&p.root), signer(&p.root));
    let base = TestCrl {
        number: Some(5),
        ..base_crl(&p)
    }
    .sign(&key);
    let delta = |number: Option<u64>, of: Option<u64>| {
        TestCrl {
            number,
            delta_of: of,
            ..base_crl(&p)
        }
        .sign(&key)
    };
    assert_eq!(
        validate(&with_delta(&base, &delta(Some(6), Some(5))), &root, NOW),
        Ok(())
    );
    assert_eq!(
        validate(&with_delta(&base, &delta(Some(6), Some(3))), &root, NOW),
        Ok(())
    );
    let cases = [
        (
            delta(Some(5), Some(5)),
            "delta CRL number 5 is not greater than the base CRL number 5",
        ),
        (
            delta(Some(6), None),
            "delta CRL indicator extension is not found",
        ),
        (
            delta(Some(7), Some(6)),
            "delta CRL indicator 6 is not less than or equal to the base CRL number 5",
        ),
        (delta(None, Some(5)), "delta CRL has no CRL number"),
    ];
    for (d, want) in cases {
        let got = validate(&with_delta(&base, &d), &root, NOW).unwrap_err();
        assert_eq!(got.to_string(), want);
    }
    let expired_delta = TestCrl {
        number: Some(6),
        delta_of: Some(5),
        next_update: Some(NOW),
        ..base_crl(&p)
    };
    let got = validate(&with_delta(&base, &expired_delta.sign(&key)), &root, NOW).unwrap_err();
    assert!(
        got.to_string()
            .starts_with("failed to validate delta CRL: expired CRL"),
        "{got}"
    );
}

#[test]
fn entries_decide_as_notation_does() {
    let p = pki(&[], &[]);
    let (leaf, key) = (cert(&p.leaf), signer(&p.root));
    let serial = serial_of(&p.leaf.der);
    let t = |days: i64| LAST_MONTH + Duration::days(days);
    let status =
        |entries: Vec<RevokedEntry>, delta: Vec<RevokedEntry>, signed: Option<OffsetDateTime>| {
            let mut base = TestCrl {
                number: Some(5),
                ..base_crl(&p)
            };
            base.entries = entries;
            let mut b = bundle(&base.sign(&key));
            if !delta.is_empty() {
                let mut d = TestCrl {
                    number: Some(6),
                    delta_of: Some(5),
                    ..base_crl(&p)
                };
                d.entries = delta;
                b.delta = Some(Arc::new(Crl::from_der(&d.sign(&key)).unwrap()));
            }
            check_revocation(&leaf, &b, signed)
        };
    let entry = |days, reason: Option<u8>| {
        let e = RevokedEntry::new(&serial, t(days));
        match reason {
            Some(r) => e.reason(r),
            None => e,
        }
    };
    assert_eq!(status(vec![], vec![], None), Ok(Status::Ok));
    let other = RevokedEntry::new(&[0x7f], t(0));
    assert_eq!(status(vec![other], vec![], None), Ok(Status::Ok));
    assert_eq!(
        status(vec![entry(1, None)], vec![], None),
        Ok(Status::Revoked)
    );
    assert_eq!(
        status(vec![entry(1, Some(1))], vec![], None),
        Ok(Status::Revoked)
    );
    assert_eq!(
        status(vec![entry(1, Some(6))], vec![], None),
        Ok(Status::Revoked)
    );
    // The latest hold / remove entry decides, across base and delta.
    assert_eq!(
        status(vec![entry(1, Some(6)), entry(2, Some(8))], vec![], None),
        Ok(Status::Ok)
    );
    assert_eq!(
        status(vec![entry(2, Some(6)), entry(1, Some(8))], vec![], None),
        Ok(Status::Revoked)
    );
    assert_eq!(
        status(vec![entry(1, Some(6))], vec![entry(2, Some(8))], None),
        Ok(Status::Ok)
    );
    assert_eq!(
        status(vec![], vec![entry(2, None)], None),
        Ok(Status::Revoked)
    );
    // A permanent reason revokes whatever else is listed.
    assert_eq!(
        status(vec![entry(2, Some(8)), entry(1, Some(4))], vec![], None),
        Ok(Status::Revoked)
    );
    // Invalidity date after the authentic signing time: not revoked then.
    let invalid = |e: RevokedEntry| e.invalid_since(t(10));
    assert_eq!(
        status(vec![invalid(entry(1, Some(1)))], vec![], Some(t(5))),
        Ok(Status::Ok)
    );
    assert_eq!(
        status(vec![invalid(entry(1, Some(1)))], vec![], Some(t(11))),
        Ok(Status::Revoked)
    );
    assert_eq!(
        status(vec![invalid(entry(1, Some(1)))], vec![], None),
        Ok(Status::Revoked)
    );
    let mut critical = entry(1, None);
    critical.extra_extensions.push(RawExt {
        oid: "1.2.3.4".into(),
        critical: true,
        value: vec![5, 0],
    });
    assert_eq!(
        status(vec![critical], vec![], None).map_err(|e| e.to_string()),
        Err("unsupported critical extension found in CRL: 1.2.3.4".into())
    );
}
