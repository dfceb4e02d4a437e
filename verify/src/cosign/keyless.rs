//! Certificates of legacy signatures: keyless (Fulcio) and bring-your-own
//! PKI, as `cosign verify --certificate-identity… --certificate-oidc-issuer…`
//! checks them.
//!
//! - The leaf is the `dev.sigstore.cosign/certificate` annotation (exactly
//!   one PEM certificate). The optional `dev.sigstore.cosign/chain`
//!   annotation lists intermediates then the root; as cosign does, all but
//!   its last certificate are used as intermediates, and the last (the
//!   signer's claim of a root) is never trusted: roots come from the
//!   policy's `fulcio_roots` only. Intermediates may also be configured
//!   there, which then act as trust anchors (Go's `x509.Verify` semantics).
//! - The path is built with Go's rules ([`crate::x509::verify_path`]) at the
//!   time the signature provably existed: the Rekor SET's integratedTime, or
//!   the current time for a policy with `tlog_verify = false` (cosign
//!   accepts a certificate without a transparency-log entry only while it
//!   is valid). Extended key usage: codeSigning (or any) along the chain;
//!   as in Go, a certificate without the extension allows every usage
//!   (BYO-PKI leaves often have none; Fulcio's always say codeSigning).
//! - Identity: cosign's list of subject alternative names — DNS names,
//!   email addresses, IP addresses, URIs, then the Sigstore OtherName
//!   (1.3.6.1.4.1.57264.1.7, a username) — one of which must equal
//!   `identity` or match `identity_regexp`.
//! - Issuer: the OIDC issuer extension 1.3.6.1.4.1.57264.1.8 (a DER
//!   UTF8String) or the legacy 1.3.6.1.4.1.57264.1.1 (the raw bytes); when
//!   both are present they must agree (containers/image's rule). It must
//!   equal `issuer` or match `issuer_regexp` when the policy names one.
//! - Regular expressions match anywhere in the value, as cosign's Go
//!   `regexp.MatchString` does: anchor them (`^…$`) to match a whole value.
//!
//! Signed certificate timestamps (SCTs) are not checked, as containers/image
//! does not check them; policies with `ctlog_keys` are refused at
//! configuration time until they are.

use const_oid::ObjectIdentifier;
use der::Decode as _;
use der::asn1::Utf8StringRef;
use pullgate_policy::cosign::{Keyless, compile_regexp};
use regex::Regex;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;

use crate::x509::{Cert, Eku, VerifyOptions, parse_certificates, verify_path};

/// The layer annotation holding the signing certificate (PEM).
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
/// The layer annotation holding the intermediates and root (PEM).
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
/// Fulcio's OIDC issuer extension, v1 (raw bytes).
pub const OIDC_ISSUER_V1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.1");
/// Fulcio's OIDC issuer extension, v2 (DER UTF8String).
pub const OIDC_ISSUER_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.8");
/// The Sigstore OtherName SAN type (a username).
pub const OTHER_NAME_SAN: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.7");
const SUBJECT_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");

/// What a certificate says about its subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertIdentity {
    /// cosign's `getSubjectAlternateNames` order: DNS, email, IP, URI,
    /// OtherName.
    pub sans: Vec<String>,
    /// The OIDC issuer, when the certificate has the extension.
    pub issuer: Option<String>,
}

/// Reads the identity of `cert`; a malformed SAN or issuer extension is an
/// error.
pub fn certificate_identity(cert: &Cert) -> Result<CertIdentity, String> {
    let mut dns = Vec::new();
    let mut email = Vec::new();
    let mut ip = Vec::new();
    let mut uri = Vec::new();
    let mut other = Vec::new();
    if let Some(ext) = cert.extension(SUBJECT_ALT_NAME) {
        let san = SubjectAltName::from_der(&ext.value).map_err(|e| {
            format!("the certificate's subject alternative names are malformed: {e}")
        })?;
        for name in san.0 {
            match name {
                GeneralName::DnsName(n) => dns.push(n.to_string()),
                GeneralName::Rfc822Name(n) => email.push(n.to_string()),
                GeneralName::UniformResourceIdentifier(n) => uri.push(n.to_string()),
                GeneralName::IpAddress(o) => ip.push(ip_string(o.as_bytes())?),
                GeneralName::OtherName(o) if o.type_id == OTHER_NAME_SAN => {
                    let v = o.value.decode_as::<Utf8StringRef<'_>>().map_err(|e| {
                        format!("the certificate's OtherName SAN is not a UTF8String: {e}")
                    })?;
                    other.push(v.as_str().to_string());
                }
                _ => {}
            }
        }
    }
    let mut sans = dns;
    sans.extend(email);
    sans.extend(ip);
    sans.extend(uri);
    // cosign (sigstore's UnmarshalOtherNameSAN) uses one OtherName only
    if other.len() == 1 {
        sans.extend(other);
    }
    Ok(CertIdentity {
        sans,
        issuer: oidc_issuer(cert)?,
    })
}

fn ip_string(bytes: &[u8]) -> Result<String, String> {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        return Ok(std::net::Ipv4Addr::from(v4).to_string());
    }
    if let Ok(v6) = <[u8; 16]>::try_from(bytes) {
        return Ok(std::net::Ipv6Addr::from(v6).to_string());
    }
    Err(format!(
        "the certificate has an IP address SAN of {} bytes",
        bytes.len()
    ))
}

/// The OIDC issuer of a Fulcio certificate (v2 or legacy v1 extension).
pub fn oidc_issuer(cert: &Cert) -> Result<Option<String>, String> {
    let v1 = match cert.extension(OIDC_ISSUER_V1) {
        Some(e) => Some(String::from_utf8(e.value.clone()).map_err(|_| {
            format!("the certificate's OIDC issuer extension {OIDC_ISSUER_V1} is not UTF-8")
        })?),
        None => None,
    };
    let v2 = match cert.extension(OIDC_ISSUER_V2) {
        Some(e) => Some(
            Utf8StringRef::from_der(&e.value)
                .map_err(|_| {
                    format!(
                        "the certificate's OIDC issuer extension {OIDC_ISSUER_V2} is not a DER UTF8String"
                    )
                })?
                .as_str()
                .to_string(),
        ),
        None => None,
    };
    match (v1, v2) {
        (Some(a), Some(b)) if a != b => Err(format!(
            "the certificate's OIDC issuer extensions disagree: {OIDC_ISSUER_V1} says {a:?}, {OIDC_ISSUER_V2} says {b:?}"
        )),
        (a, b) => Ok(b.or(a)),
    }
}

#[derive(Debug, Clone)]
enum Matcher {
    Exact(String),
    Regexp(Regex),
}

impl Matcher {
    fn new(exact: &Option<String>, regexp: &Option<String>) -> Result<Option<Matcher>, String> {
        Ok(match (exact, regexp) {
            (_, Some(r)) => Some(Matcher::Regexp(compile_regexp(r)?)),
            (Some(e), None) => Some(Matcher::Exact(e.clone())),
            (None, None) => None,
        })
    }

    fn matches(&self, value: &str) -> bool {
        match self {
            Matcher::Exact(e) => e == value,
            Matcher::Regexp(r) => r.is_match(value),
        }
    }

    fn is_regexp(&self) -> bool {
        matches!(self, Matcher::Regexp(_))
    }

    fn describe(&self, what: &str) -> String {
        match self {
            Matcher::Exact(e) => format!("{what} {e:?}"),
            Matcher::Regexp(r) => format!("{what}_regexp {:?}", r.as_str()),
        }
    }
}

/// A keyless policy's identity and issuer constraints, compiled.
#[derive(Debug, Clone)]
pub struct IdentityPolicy {
    identity: Option<Matcher>,
    issuer: Option<Matcher>,
}

impl IdentityPolicy {
    /// From the policy's settings (a regexp wins over an exact value, as in
    /// cosign; the configuration refuses both together).
    pub fn new(k: &Keyless) -> Result<IdentityPolicy, String> {
        Ok(IdentityPolicy {
            identity: Matcher::new(&k.identity, &k.identity_regexp)?,
            issuer: Matcher::new(&k.issuer, &k.issuer_regexp)?,
        })
    }

    /// The identity satisfies the policy; the error says what differs.
    pub fn check(&self, id: &CertIdentity) -> Result<(), String> {
        if let Some(m) = &self.identity
            && !id.sans.iter().any(|s| m.matches(s))
        {
            return Err(format!(
                "certificate identity does not match: the certificate names [{}], the policy requires {}",
                id.sans.join(", "),
                m.describe("identity")
            ));
        }
        if let Some(m) = &self.issuer {
            match &id.issuer {
                // cosign matches a regexp against "" when the extension is
                // absent (a private CA): `issuer_regexp = ".*"` accepts it.
                None if m.is_regexp() && m.matches("") => {}
                None => {
                    return Err(format!(
                        "certificate issuer does not match: the certificate has no OIDC issuer extension ({OIDC_ISSUER_V2} or {OIDC_ISSUER_V1}), the policy requires {}",
                        m.describe("issuer")
                    ));
                }
                Some(i) if !m.matches(i) => {
                    return Err(format!(
                        "certificate issuer does not match: the certificate's OIDC issuer is {i:?}, the policy requires {}",
                        m.describe("issuer")
                    ));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// The first SAN the policy accepts (for reports).
    pub(crate) fn matched<'a>(&self, id: &'a CertIdentity) -> Option<&'a str> {
        id.sans
            .iter()
            .find(|s| self.identity.as_ref().is_none_or(|m| m.matches(s)))
            .map(String::as_str)
    }
}

/// The leaf of the certificate annotation: exactly one PEM certificate.
pub fn leaf_from_annotation(pem: &str) -> Result<Cert, String> {
    let mut certs = parse_pem_certificates(pem).map_err(|e| {
        format!("the {CERTIFICATE_ANNOTATION} annotation is not a PEM certificate: {e}")
    })?;
    match certs.len() {
        1 => Ok(certs.remove(0)),
        n => Err(format!(
            "the {CERTIFICATE_ANNOTATION} annotation holds {n} certificates, not one"
        )),
    }
}

/// The intermediates of the chain annotation: every certificate but the
/// last (the root, which the policy's roots must supply).
pub fn intermediates_from_annotation(pem: &str) -> Result<Vec<Cert>, String> {
    let mut certs = parse_pem_certificates(pem)
        .map_err(|e| format!("the {CHAIN_ANNOTATION} annotation is not PEM certificates: {e}"))?;
    certs.pop();
    Ok(certs)
}

fn parse_pem_certificates(pem: &str) -> Result<Vec<Cert>, String> {
    if !pem.contains("-----BEGIN") {
        return Err("no PEM block".into());
    }
    parse_certificates(pem.as_bytes()).map_err(|e| e.to_string())
}

/// A certificate that chained to a root and satisfied the identity policy.
#[derive(Debug, Clone)]
pub struct VerifiedCertificate {
    /// Leaf first, root last.
    pub chain: Vec<Cert>,
    pub identity: CertIdentity,
    /// The SAN the policy accepted.
    pub matched: String,
}

impl VerifiedCertificate {
    /// "certificate for me@example.com (OIDC issuer https://…), chain to CN=…".
    pub fn describe(&self) -> String {
        let issuer = match &self.identity.issuer {
            Some(i) => format!("OIDC issuer {i}"),
            None => "no OIDC issuer".into(),
        };
        let root = self.chain.last().map(|c| c.subject()).unwrap_or_default();
        format!(
            "certificate for {} ({issuer}) chaining to {root:?}",
            self.matched
        )
    }
}

/// Checks `leaf` (with `intermediates`) against `roots` at `at`, then its
/// identity against `policy`.
pub fn verify_certificate(
    leaf: &Cert,
    intermediates: &[Cert],
    roots: &[Cert],
    at: OffsetDateTime,
    policy: &IdentityPolicy,
) -> Result<VerifiedCertificate, String> {
    let chain = verify_path(
        leaf,
        &VerifyOptions {
            roots,
            intermediates,
            time: at,
            usage: Eku::CodeSigning,
        },
    )
    .map_err(|e| {
        format!(
            "certificate chain does not verify at {}: {e}",
            at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
        )
    })?;
    let identity = certificate_identity(leaf)?;
    policy.check(&identity)?;
    let matched = policy.matched(&identity).unwrap_or_default().to_string();
    Ok(VerifiedCertificate {
        chain,
        identity,
        matched,
    })
}
