//! notation-core-go's certificate-chain rules for code signing
//! (`ValidateCodeSigningCertChain`), with its exact error texts. These are
//! integrity rules: no trust decision is made here (trust is presence in a
//! trust store) and validity periods are checked later.

use pullgate_policy::dn::go_quote;

use super::cert::{Cert, Eku, key_usage as ku};
use super::key::{PublicKey, SignatureError, check_signature};

const KEY_USAGE_OID: const_oid::ObjectIdentifier = const_oid::db::rfc5280::ID_CE_KEY_USAGE;

/// Go's `Certificate.CheckSignatureFrom(parent)`.
pub fn check_signature_from(cert: &Cert, parent: &Cert) -> Result<(), SignatureError> {
    let constraint = SignatureError::Invalid(
        "x509: invalid signature: parent certificate cannot sign this kind of certificate",
    );
    if (parent.version() == 3 && !parent.basic_constraints_valid())
        || (parent.basic_constraints_valid() && !parent.is_ca())
    {
        return Err(constraint);
    }
    if parent.key_usage() != 0 && parent.key_usage() & ku::CERT_SIGN == 0 {
        return Err(constraint);
    }
    if matches!(parent.public_key(), PublicKey::Other(_)) {
        return Err(SignatureError::Unsupported);
    }
    check_signature(
        cert.signature_algorithm(),
        cert.raw_tbs(),
        cert.signature(),
        parent.public_key(),
        false,
    )
}

/// Go's `Certificate.CheckSignature` on the certificate's own key (SHA-1 allowed).
fn check_own_signature(cert: &Cert) -> Result<(), SignatureError> {
    check_signature(
        cert.signature_algorithm(),
        cert.raw_tbs(),
        cert.signature(),
        cert.public_key(),
        true,
    )
}

/// notation-core-go `isIssuedBy`.
pub fn is_issued_by(cert: &Cert, issuer: &Cert) -> Result<bool, SignatureError> {
    check_signature_from(cert, issuer)?;
    Ok(issuer.raw_subject() == cert.raw_issuer())
}

fn subject(c: &Cert) -> String {
    go_quote(c.subject())
}

/// `ValidateCodeSigningCertChain(chain, nil)`: the chain is leaf first and
/// ends with a self-signed root; a single certificate must be self-signed.
pub fn validate_code_signing_chain(chain: &[Cert]) -> Result<(), String> {
    validate_chain(
        chain,
        "issuer({}) and subject({})",
        validate_leaf,
        validate_ca,
    )
}

/// The shape notation-core-go gives both chain validations: one
/// self-signed certificate, or a chain ending in a self-signed root, with a
/// leaf rule and a CA rule. (Its two copies differ in one message's spacing,
/// kept here as `issuer_format`.)
fn validate_chain(
    chain: &[Cert],
    issuer_format: &str,
    leaf: fn(&Cert) -> Result<(), String>,
    ca: fn(&Cert, usize) -> Result<(), String>,
) -> Result<(), String> {
    let Some(first) = chain.first() else {
        return Err("certificate chain must contain at least one certificate".into());
    };
    if chain.len() == 1 {
        if let Err(e) = check_own_signature(first) {
            return Err(format!(
                "invalid self-signed certificate. subject: {}. Error: {e}",
                subject(first)
            ));
        }
        if first.raw_subject() != first.raw_issuer() {
            let names =
                issuer_format
                    .replacen("{}", first.issuer(), 1)
                    .replacen("{}", first.subject(), 1);
            return Err(format!(
                "invalid self-signed certificate. subject: {}. Error: {names} are not the same",
                subject(first)
            ));
        }
        return leaf(first).map_err(|e| format!("invalid self-signed certificate. Error: {e}"));
    }
    for (i, cert) in chain.iter().enumerate() {
        check_link(chain, i)?;
        if i == 0 {
            leaf(cert)?;
        } else {
            ca(cert, i - 1)?;
        }
    }
    Ok(())
}

/// The structural rule for position `i` of a chain: the last certificate is
/// a self-signed root; every other one is issued by the next and is not
/// self-signed itself.
fn check_link(chain: &[Cert], i: usize) -> Result<(), String> {
    let cert = &chain[i];
    if i == chain.len() - 1 {
        return match is_issued_by(cert, cert) {
            Err(e) => Err(format!(
                "root certificate with subject {} is invalid or not self-signed. Certificate chain must end with a valid self-signed root certificate. Error: {e}",
                subject(cert)
            )),
            Ok(false) => Err(format!(
                "root certificate with subject {} is not self-signed. Certificate chain must end with a valid self-signed root certificate",
                subject(cert)
            )),
            Ok(true) => Ok(()),
        };
    }
    if let Ok(true) = is_issued_by(cert, cert) {
        let which = if i == 0 { "leaf" } else { "intermediate" };
        return Err(format!(
            "{which} certificate with subject {} is self-signed. Certificate chain must not contain self-signed {which} certificate",
            subject(cert)
        ));
    }
    let parent = &chain[i + 1];
    match is_issued_by(cert, parent) {
        Err(e) => Err(format!(
            "invalid certificates or certificate with subject {} is not issued by {}. Error: {e}",
            subject(cert),
            subject(parent)
        )),
        Ok(false) => Err(format!(
            "certificate with subject {} is not issued by {}",
            subject(cert),
            subject(parent)
        )),
        Ok(true) => Ok(()),
    }
}

fn validate_ca(cert: &Cert, expected_path_len: usize) -> Result<(), String> {
    validate_ca_basic_constraints(cert, expected_path_len)?;
    key_usage_present(cert)?;
    if cert.key_usage() & ku::CERT_SIGN == 0 {
        return Err(format!(
            "certificate with subject {}: key usage must have the bit positions for key cert sign set",
            subject(cert)
        ));
    }
    Ok(())
}

fn validate_ca_basic_constraints(cert: &Cert, expected_path_len: usize) -> Result<(), String> {
    if !cert.basic_constraints_valid() || !cert.is_ca() {
        return Err(format!(
            "certificate with subject {}: ca field in basic constraints must be present, critical, and set to true",
            subject(cert)
        ));
    }
    if let Some(max) = cert.max_path_len()
        && usize::from(max) < expected_path_len
    {
        return Err(format!(
            "certificate with subject {}: expected path length of {expected_path_len} but certificate has path length {max} instead",
            subject(cert)
        ));
    }
    Ok(())
}

fn validate_leaf(cert: &Cert) -> Result<(), String> {
    if cert.basic_constraints_valid() && cert.is_ca() {
        return Err(format!(
            "certificate with subject {}: if the basic constraints extension is present, the ca field must be set to false",
            subject(cert)
        ));
    }
    key_usage_present(cert)?;
    leaf_key_usage(cert)?;
    for eku in cert.extended_key_usage() {
        if matches!(
            eku,
            Eku::ServerAuth
                | Eku::ClientAuth
                | Eku::EmailProtection
                | Eku::TimeStamping
                | Eku::OcspSigning
        ) {
            return Err(format!(
                "certificate with subject {}: extended key usage must not contain {} eku",
                subject(cert),
                eku.go_name()
            ));
        }
    }
    crate::notary::algorithm::key_spec(cert)
        .map(|_| ())
        .map_err(|e| format!("certificate with subject {}: {e}", subject(cert)))
}

fn key_usage_present(cert: &Cert) -> Result<(), String> {
    match cert.extension(KEY_USAGE_OID) {
        None => Err(format!(
            "certificate with subject {}: key usage extension must be present",
            subject(cert)
        )),
        Some(e) if !e.critical => Err(format!(
            "certificate with subject {}: key usage extension must be marked critical",
            subject(cert)
        )),
        Some(_) => Ok(()),
    }
}

/// `validateLeafKeyUsage`: digital signature and nothing that is not signing.
pub(crate) fn leaf_key_usage(cert: &Cert) -> Result<(), String> {
    let bits = cert.key_usage();
    if bits & ku::DIGITAL_SIGNATURE == 0 {
        return Err(format!(
            "the certificate with subject {} is invalid. The key usage must have the bit positions for \"Digital Signature\" set",
            subject(cert)
        ));
    }
    let names = [
        (ku::KEY_ENCIPHERMENT, "\"KeyEncipherment\""),
        (ku::DATA_ENCIPHERMENT, "\"DataEncipherment\""),
        (ku::KEY_AGREEMENT, "\"KeyAgreement\""),
        (ku::CERT_SIGN, "\"CertSign\""),
        (ku::CRL_SIGN, "\"CRLSign\""),
        (ku::ENCIPHER_ONLY, "\"EncipherOnly\""),
        (ku::DECIPHER_ONLY, "\"DecipherOnly\""),
    ];
    let invalid: Vec<&str> = names
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, n)| *n)
        .collect();
    if invalid.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the certificate with subject {} is invalid. The key usage must be \"Digital Signature\" only, but found {}",
            subject(cert),
            invalid.join(", ")
        ))
    }
}

/// notation-core-go `ValidateTimestampingCertChain`: the TSA chain (leaf
/// first) with the timestamping profile.
pub fn validate_timestamping_chain(chain: &[Cert]) -> Result<(), String> {
    validate_chain(
        chain,
        "issuer ({}) and subject ({})",
        validate_tsa_leaf,
        validate_tsa_ca,
    )
}

/// A timestamping CA: basic constraints as for code signing, key usage
/// present (critical not required) with keyCertSign.
fn validate_tsa_ca(cert: &Cert, expected_path_len: usize) -> Result<(), String> {
    validate_ca_basic_constraints(cert, expected_path_len)?;
    if cert.extension(KEY_USAGE_OID).is_none() {
        return Err(format!(
            "certificate with subject {}: key usage extension must be present",
            subject(cert)
        ));
    }
    if cert.key_usage() & ku::CERT_SIGN == 0 {
        return Err(format!(
            "certificate with subject {}: key usage must have the bit positions for key cert sign set",
            subject(cert)
        ));
    }
    Ok(())
}

fn validate_tsa_leaf(cert: &Cert) -> Result<(), String> {
    if cert.basic_constraints_valid() && cert.is_ca() {
        return Err(format!(
            "certificate with subject {}: if the basic constraints extension is present, the ca field must be set to false",
            subject(cert)
        ));
    }
    if cert.extension(KEY_USAGE_OID).is_none() {
        return Err(format!(
            "certificate with subject {}: key usage extension must be present",
            subject(cert)
        ));
    }
    leaf_key_usage(cert)?;
    let ekus = cert.extended_key_usage();
    if ekus.len() != 1 || ekus[0] != Eku::TimeStamping {
        return Err(format!(
            "timestamp signing certificate with subject {} must have and only have Timestamping as extended key usage",
            subject(cert)
        ));
    }
    if cert
        .extension(const_oid::db::rfc5280::ID_CE_EXT_KEY_USAGE)
        .is_some_and(|e| !e.critical)
    {
        return Err(format!(
            "timestamp signing certificate with subject {} must have extended key usage extension marked as critical",
            subject(cert)
        ));
    }
    crate::notary::algorithm::key_spec(cert)
        .map(|_| ())
        .map_err(|e| format!("certificate with subject {}: {e}", subject(cert)))
}
