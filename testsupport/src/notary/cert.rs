//! X.509 certificates for signing tests: a [`CertSpec`] says exactly which
//! extensions (and which critical flags) a certificate carries, so tests can
//! make every profile notation accepts and every one it must reject.

use std::sync::Arc;

use rcgen::string::PrintableString;
use rcgen::{
    CertificateParams, CrlDistributionPoint, DistinguishedName, DnType, DnValue, Issuer,
    SerialNumber,
};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use time::macros::datetime;

use super::extensions;
use super::keys::{KeyKind, TestKey};

/// A distinguished-name attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnAttr {
    /// countryName (2.5.4.6)
    C,
    /// stateOrProvinceName (2.5.4.8)
    ST,
    /// localityName (2.5.4.7)
    L,
    /// organizationName (2.5.4.10)
    O,
    /// organizationalUnitName (2.5.4.11)
    OU,
    /// commonName (2.5.4.3)
    CN,
    /// Any other attribute type by OID arcs, e.g. `[1, 2, 840, 113549, 1, 9, 1]`.
    Custom(Vec<u64>),
}

/// A keyUsage bit (RFC 5280 §4.2.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUsage {
    DigitalSignature,
    NonRepudiation,
    KeyEncipherment,
    DataEncipherment,
    KeyAgreement,
    KeyCertSign,
    CrlSign,
    EncipherOnly,
    DecipherOnly,
}

/// An extendedKeyUsage purpose (RFC 5280 §4.2.1.12).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Eku {
    CodeSigning,
    TimeStamping,
    ServerAuth,
    ClientAuth,
    EmailProtection,
    OcspSigning,
    /// anyExtendedKeyUsage (2.5.29.37.0)
    Any,
    /// Any other purpose, as a dotted OID.
    Other(String),
}

/// What to put in a certificate. Fields are public: start from
/// [`CertSpec::leaf`], [`CertSpec::ca`] or [`CertSpec::tsa`] and change what
/// the test is about with struct-update syntax.
#[derive(Debug, Clone)]
pub struct CertSpec {
    /// Subject attributes in order. An attribute type may appear once (a
    /// second value for the same type replaces the first: rcgen's model).
    /// Values are PrintableString when they fit, else UTF8String (as Go's
    /// `x509.CreateCertificate` does).
    pub subject: Vec<(DnAttr, String)>,
    pub key: KeyKind,
    /// Which cached key of that kind ([`TestKey::shared`]); certificates of
    /// one chain should use different slots.
    pub key_slot: usize,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    /// `Some(path_len)`: basicConstraints with cA TRUE (and the optional
    /// pathLenConstraint). `None`: see `explicit_not_ca`.
    pub ca: Option<Option<u8>>,
    /// With `ca: None`: write basicConstraints with cA FALSE (`true`) or omit
    /// the extension (`false`).
    pub explicit_not_ca: bool,
    /// The critical flag of basicConstraints, when present.
    pub basic_constraints_critical: bool,
    /// keyUsage bits and the critical flag; `None`: extension absent.
    pub key_usage: Option<(Vec<KeyUsage>, bool)>,
    /// extendedKeyUsage purposes; `None`: extension absent.
    pub eku: Option<Vec<Eku>>,
    /// The critical flag of extendedKeyUsage, when present (TSA leaves need it).
    pub eku_critical: bool,
    /// cRLDistributionPoints URIs (one distribution point); empty: absent.
    pub crl_urls: Vec<String>,
    /// authorityInfoAccess id-ad-ocsp URIs; empty: absent.
    pub ocsp_urls: Vec<String>,
    /// `None`: a random positive 63-bit serial.
    pub serial: Option<u64>,
}

/// 2000-01-01T00:00:00Z, the default notBefore.
pub const DEFAULT_NOT_BEFORE: OffsetDateTime = datetime!(2000-01-01 00:00:00 UTC);
/// 2100-01-01T00:00:00Z, the default notAfter.
pub const DEFAULT_NOT_AFTER: OffsetDateTime = datetime!(2100-01-01 00:00:00 UTC);

impl CertSpec {
    /// A code-signing leaf as notation requires it: subject
    /// `C=US, ST=WA, L=Seattle, O=Notary, CN=<cn>`, RSA-2048, keyUsage
    /// digitalSignature (critical), extendedKeyUsage codeSigning, no
    /// basicConstraints, valid 2000–2100.
    pub fn leaf(cn: &str) -> CertSpec {
        CertSpec {
            subject: notary_subject(cn),
            key: KeyKind::Rsa2048,
            key_slot: 0,
            not_before: DEFAULT_NOT_BEFORE,
            not_after: DEFAULT_NOT_AFTER,
            ca: None,
            explicit_not_ca: false,
            basic_constraints_critical: true,
            key_usage: Some((vec![KeyUsage::DigitalSignature], true)),
            eku: Some(vec![Eku::CodeSigning]),
            eku_critical: false,
            crl_urls: Vec::new(),
            ocsp_urls: Vec::new(),
            serial: None,
        }
    }

    /// A CA: basicConstraints cA TRUE (critical, no pathLen), keyUsage
    /// keyCertSign + cRLSign (critical), no extendedKeyUsage, RSA-2048 in
    /// slot 1.
    pub fn ca(cn: &str) -> CertSpec {
        CertSpec {
            key_slot: 1,
            ca: Some(None),
            key_usage: Some((vec![KeyUsage::KeyCertSign, KeyUsage::CrlSign], true)),
            eku: None,
            ..CertSpec::leaf(cn)
        }
    }

    /// A timestamping (TSA) leaf: keyUsage digitalSignature (critical),
    /// extendedKeyUsage exactly timeStamping and critical.
    pub fn tsa(cn: &str) -> CertSpec {
        CertSpec {
            eku: Some(vec![Eku::TimeStamping]),
            eku_critical: true,
            ..CertSpec::leaf(cn)
        }
    }

    /// The same spec with another key kind.
    pub fn with_key(self, key: KeyKind, slot: usize) -> CertSpec {
        CertSpec {
            key,
            key_slot: slot,
            ..self
        }
    }

    /// The same spec with another validity period.
    pub fn valid(self, not_before: OffsetDateTime, not_after: OffsetDateTime) -> CertSpec {
        CertSpec {
            not_before,
            not_after,
            ..self
        }
    }
}

fn notary_subject(cn: &str) -> Vec<(DnAttr, String)> {
    vec![
        (DnAttr::C, "US".into()),
        (DnAttr::ST, "WA".into()),
        (DnAttr::L, "Seattle".into()),
        (DnAttr::O, "Notary".into()),
        (DnAttr::CN, cn.into()),
    ]
}

/// An issued certificate with its key.
#[derive(Debug, Clone)]
pub struct TestCert {
    pub der: Vec<u8>,
    pub key: Arc<TestKey>,
    pub spec: CertSpec,
    /// The rcgen parameters, kept to issue certificates under this one.
    params: CertificateParams,
}

impl TestCert {
    /// Issues a certificate for `spec`, signed by `issuer`'s key (issuer DN
    /// = the issuer's subject, byte for byte), or self-signed when `None`.
    pub fn issue(spec: CertSpec, issuer: Option<&TestCert>) -> TestCert {
        let key = TestKey::shared(spec.key, spec.key_slot);
        let params = params_for(&spec);
        let cert = match issuer {
            Some(i) => {
                let issuer = Issuer::from_params(&i.params, i.key.rcgen());
                params.signed_by(key.rcgen(), &issuer).unwrap()
            }
            None => params.self_signed(key.rcgen()).unwrap(),
        };
        TestCert {
            der: cert.der().to_vec(),
            key,
            spec,
            params,
        }
    }

    /// A certificate made elsewhere (a test vector) with the key that signs
    /// envelopes as it ([`super::sign`] uses the leaf's key and every
    /// certificate's DER). It cannot issue certificates (its rcgen
    /// parameters are unknown) and `spec` is a placeholder; for a chain
    /// member whose key is unknown, pass any key: only the leaf's is used.
    pub fn external(der: Vec<u8>, key: Arc<TestKey>) -> TestCert {
        TestCert {
            der,
            key,
            spec: CertSpec::leaf("external certificate"),
            params: CertificateParams::default(),
        }
    }

    /// The certificate in PEM (`CERTIFICATE`).
    pub fn pem(&self) -> String {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&self.der);
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            lines.join("\n")
        )
    }

    /// Lowercase hex SHA-256 of the DER (notation's thumbprint).
    pub fn sha256_hex(&self) -> String {
        hex::encode(Sha256::digest(&self.der))
    }

    /// The certificate parsed with x509-cert.
    pub fn parsed(&self) -> x509_cert::Certificate {
        use der::Decode as _;
        x509_cert::Certificate::from_der(&self.der).unwrap()
    }
}

/// PEM of several certificates, concatenated (a notation cert-chain file).
pub fn pem_chain(certs: &[&TestCert]) -> String {
    certs.iter().map(|c| c.pem()).collect()
}

fn params_for(spec: &CertSpec) -> CertificateParams {
    let mut params = CertificateParams::default();
    // rcgen's default name holds a CN, which would keep the first position.
    params.distinguished_name = DistinguishedName::new();
    for (attr, value) in &spec.subject {
        params
            .distinguished_name
            .push(dn_type(attr), dn_value(value));
    }
    params.not_before = spec.not_before;
    params.not_after = spec.not_after;
    params.serial_number = Some(SerialNumber::from(
        spec.serial.unwrap_or_else(random_serial),
    ));
    if !spec.crl_urls.is_empty() {
        params.crl_distribution_points = vec![CrlDistributionPoint {
            uris: spec.crl_urls.clone(),
        }];
    }
    params.custom_extensions = extensions::for_spec(spec);
    params
}

fn dn_type(attr: &DnAttr) -> DnType {
    match attr {
        DnAttr::C => DnType::CountryName,
        DnAttr::ST => DnType::StateOrProvinceName,
        DnAttr::L => DnType::LocalityName,
        DnAttr::O => DnType::OrganizationName,
        DnAttr::OU => DnType::OrganizationalUnitName,
        DnAttr::CN => DnType::CommonName,
        DnAttr::Custom(arcs) => DnType::CustomDnType(arcs.clone()),
    }
}

fn dn_value(value: &str) -> DnValue {
    match PrintableString::try_from(value.to_string()) {
        Ok(p) => DnValue::PrintableString(p),
        Err(_) => DnValue::Utf8String(value.to_string()),
    }
}

fn random_serial() -> u64 {
    let mut bytes = [0u8; 8];
    aws_lc_rs::rand::fill(&mut bytes).unwrap();
    (u64::from_be_bytes(bytes) >> 1).max(1)
}

#[cfg(test)]
mod tests;
