#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Hostile certificate input. Path building: a pool of CA certificates
//! that all chain to each other (same name, same key) would make an
//! exhaustive search exponential; the search stops after Go's budget of
//! signature checks, with Go's error.

use pullgate_testsupport::notary::{CertSpec, KeyKind, TestCert};
use pullgate_verify::x509::{Eku, VerifyOptions, parse_certificates, verify_path};
use time::macros::datetime;

fn cert(t: &TestCert) -> pullgate_verify::x509::Cert {
    parse_certificates(&t.der).unwrap().remove(0)
}

#[test]
fn a_pool_of_mutually_issuing_intermediates_hits_the_signature_check_limit() {
    let unrelated_root = TestCert::issue(CertSpec::ca("Unrelated Root"), None);
    let pool: Vec<TestCert> = (0..12)
        .map(|i| {
            let mut spec = CertSpec::ca("Loop").with_key(KeyKind::EcP256, 7);
            spec.serial = Some(1000 + i);
            TestCert::issue(spec, None)
        })
        .collect();
    let leaf = TestCert::issue(
        CertSpec::leaf("Victim").with_key(KeyKind::EcP256, 8),
        Some(&pool[0]),
    );
    let intermediates: Vec<_> = pool.iter().map(cert).collect();
    let roots = [cert(&unrelated_root)];
    let started = std::time::Instant::now();
    let result = verify_path(
        &cert(&leaf),
        &VerifyOptions {
            roots: &roots,
            intermediates: &intermediates,
            time: datetime!(2030-01-01 00:00 UTC),
            usage: Eku::CodeSigning,
        },
    );
    assert_eq!(
        result.unwrap_err(),
        "x509: signature check attempts limit reached while verifying certificate chain"
    );
    // Not a timing assertion of the product's speed: a guard that the
    // search was cut off (unbounded, 12 such certificates take hours).
    assert!(started.elapsed() < std::time::Duration::from_secs(60));

    // A few honest intermediates still chain well within the budget.
    let root = TestCert::issue(CertSpec::ca("Root"), None);
    let mid = TestCert::issue(
        CertSpec::ca("Mid").with_key(KeyKind::EcP256, 9),
        Some(&root),
    );
    let leaf = TestCert::issue(
        CertSpec::leaf("Signer").with_key(KeyKind::EcP256, 10),
        Some(&mid),
    );
    let mut intermediates = vec![cert(&mid)];
    intermediates.extend(pool.iter().take(3).map(cert));
    // A chain is found first (the leaf's issuer is a root, which allows no
    // intermediates below it); the look-alike pool then keeps the search
    // going without finding another until the budget runs out, and the
    // chain found stands, as in Go.
    let mut root_spec = CertSpec::ca("Loop").with_key(KeyKind::EcP256, 7);
    root_spec.ca = Some(Some(0));
    root_spec.serial = Some(999);
    let loop_root = TestCert::issue(root_spec, None);
    let looped_leaf = TestCert::issue(
        CertSpec::leaf("Victim").with_key(KeyKind::EcP256, 8),
        Some(&loop_root),
    );
    let chain = verify_path(
        &cert(&looped_leaf),
        &VerifyOptions {
            roots: &[cert(&loop_root)],
            intermediates: &pool.iter().map(cert).collect::<Vec<_>>(),
            time: datetime!(2030-01-01 00:00 UTC),
            usage: Eku::CodeSigning,
        },
    )
    .unwrap();
    assert_eq!(chain.len(), 2);
    let chain = verify_path(
        &cert(&leaf),
        &VerifyOptions {
            roots: &[cert(&root)],
            intermediates: &intermediates,
            time: datetime!(2030-01-01 00:00 UTC),
            usage: Eku::CodeSigning,
        },
    )
    .unwrap();
    assert_eq!(chain.len(), 3);
}

/// A fuzzer's find (a PEM armour whose END line runs into its BEGIN line):
/// an error, never a panic.
#[test]
fn a_pem_whose_end_runs_into_its_begin_is_an_error() {
    let input = b"-----BEGIN CERTIFICATE-------END CERTIFICATE-----\n";
    assert!(parse_certificates(input).is_err());
}
