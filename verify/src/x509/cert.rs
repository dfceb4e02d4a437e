//! A parsed X.509 certificate holding what notation-go's checks read, with
//! Go's semantics (crypto/x509): raw TBS, subject and issuer bytes, the
//! subject as `pkix.Name.String()` renders it, basic constraints, key usage,
//! extended key usage, the public key, and revocation pointers.

use std::sync::Arc;

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5280 as ids;
use der::{Decode, Tag, Tagged};
use pullgate_policy::dn::{AttrValue, go_name_string};
use time::OffsetDateTime;
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityInfoAccessSyntax, BasicConstraints, ExtendedKeyUsage, KeyUsage,
};
use x509_cert::name::Name;

use super::der_walk::raw_parts;
use super::key::{PublicKey, SignatureAlgorithm};

/// Why bytes are not a certificate Go would accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CertError(pub String);

/// Go's `x509.KeyUsage` bits.
pub mod key_usage {
    pub const DIGITAL_SIGNATURE: u16 = 1 << 0;
    pub const CONTENT_COMMITMENT: u16 = 1 << 1;
    pub const KEY_ENCIPHERMENT: u16 = 1 << 2;
    pub const DATA_ENCIPHERMENT: u16 = 1 << 3;
    pub const KEY_AGREEMENT: u16 = 1 << 4;
    pub const CERT_SIGN: u16 = 1 << 5;
    pub const CRL_SIGN: u16 = 1 << 6;
    pub const ENCIPHER_ONLY: u16 = 1 << 7;
    pub const DECIPHER_ONLY: u16 = 1 << 8;
}

/// The extended key usages notation distinguishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Eku {
    Any,
    ServerAuth,
    ClientAuth,
    CodeSigning,
    EmailProtection,
    TimeStamping,
    OcspSigning,
    Other(ObjectIdentifier),
}

impl Eku {
    fn from_oid(oid: ObjectIdentifier) -> Eku {
        match oid {
            ids::ANY_EXTENDED_KEY_USAGE => Eku::Any,
            ids::ID_KP_SERVER_AUTH => Eku::ServerAuth,
            ids::ID_KP_CLIENT_AUTH => Eku::ClientAuth,
            ids::ID_KP_CODE_SIGNING => Eku::CodeSigning,
            ids::ID_KP_EMAIL_PROTECTION => Eku::EmailProtection,
            ids::ID_KP_TIME_STAMPING => Eku::TimeStamping,
            ids::ID_KP_OCSP_SIGNING => Eku::OcspSigning,
            other => Eku::Other(other),
        }
    }

    /// notation-core-go's `ekuToString`.
    pub fn go_name(&self) -> String {
        match self {
            Eku::Any => "Any".into(),
            Eku::ServerAuth => "ServerAuth".into(),
            Eku::ClientAuth => "ClientAuth".into(),
            Eku::CodeSigning => "CodeSigning".into(),
            Eku::EmailProtection => "EmailProtection".into(),
            Eku::TimeStamping => "Timestamping".into(),
            Eku::OcspSigning => "OCSPSigning".into(),
            Eku::Other(oid) => oid.to_string(),
        }
    }
}

/// An extension as present in the certificate.
#[derive(Debug, Clone)]
pub struct RawExtension {
    pub oid: ObjectIdentifier,
    pub critical: bool,
    pub value: Vec<u8>,
}

#[derive(Debug)]
struct Inner {
    der: Vec<u8>,
    tbs: std::ops::Range<usize>,
    raw_subject: std::ops::Range<usize>,
    raw_issuer: std::ops::Range<usize>,
    subject: String,
    issuer: String,
    version: u8,
    serial: Vec<u8>,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    basic_constraints: Option<BasicConstraints>,
    key_usage: u16,
    extended_key_usage: Vec<Eku>,
    extensions: Vec<RawExtension>,
    public_key: PublicKey,
    signature_algorithm: SignatureAlgorithm,
    signature: Vec<u8>,
    crl_urls: Vec<String>,
    ocsp_urls: Vec<String>,
}

/// A certificate; cheap to clone.
#[derive(Debug, Clone)]
pub struct Cert(Arc<Inner>);

impl PartialEq for Cert {
    fn eq(&self, other: &Cert) -> bool {
        self.0.der == other.0.der
    }
}

impl Eq for Cert {}

fn range_of(outer: &[u8], inner: &[u8]) -> std::ops::Range<usize> {
    let start = inner.as_ptr() as usize - outer.as_ptr() as usize;
    start..start + inner.len()
}

impl Cert {
    /// Parses one DER certificate (trailing bytes are an error, as in Go).
    pub fn from_der(der: &[u8]) -> Result<Cert, CertError> {
        let err = |m: &str| CertError(format!("x509: {m}"));
        let cert =
            Certificate::from_der(der).map_err(|e| err(&format!("malformed certificate: {e}")))?;
        let raw = raw_parts(der).ok_or_else(|| err("malformed certificate"))?;
        let tbs = cert.tbs_certificate();
        let subject = go_name(tbs.subject())?;
        let issuer = go_name(tbs.issuer())?;
        let public_key = PublicKey::from_spki(tbs.subject_public_key_info())
            .map_err(|e| CertError(format!("x509: {e}")))?;
        let signature_algorithm = SignatureAlgorithm::from_identifier(cert.signature_algorithm());
        let signature = cert
            .signature()
            .as_bytes()
            .ok_or_else(|| err("signature has unused bits"))?
            .to_vec();
        let validity = tbs.validity();
        let not_before = to_time(validity.not_before.to_unix_duration())?;
        let not_after = to_time(validity.not_after.to_unix_duration())?;
        let mut inner = Inner {
            tbs: range_of(der, raw.tbs),
            raw_subject: range_of(der, raw.subject),
            raw_issuer: range_of(der, raw.issuer),
            der: der.to_vec(),
            subject,
            issuer,
            version: match tbs.version() {
                x509_cert::Version::V1 => 1,
                x509_cert::Version::V2 => 2,
                x509_cert::Version::V3 => 3,
            },
            serial: tbs.serial_number().as_bytes().to_vec(),
            not_before,
            not_after,
            basic_constraints: None,
            key_usage: 0,
            extended_key_usage: Vec::new(),
            extensions: Vec::new(),
            public_key,
            signature_algorithm,
            signature,
            crl_urls: Vec::new(),
            ocsp_urls: Vec::new(),
        };
        for ext in tbs.extensions().into_iter().flatten() {
            inner.read_extension(ext)?;
        }
        Ok(Cert(Arc::new(inner)))
    }

    pub fn der(&self) -> &[u8] {
        &self.0.der
    }
    pub fn raw_tbs(&self) -> &[u8] {
        &self.0.der[self.0.tbs.clone()]
    }
    pub fn raw_subject(&self) -> &[u8] {
        &self.0.der[self.0.raw_subject.clone()]
    }
    pub fn raw_issuer(&self) -> &[u8] {
        &self.0.der[self.0.raw_issuer.clone()]
    }
    /// The subject as Go's `pkix.Name.String()` renders it.
    pub fn subject(&self) -> &str {
        &self.0.subject
    }
    pub fn issuer(&self) -> &str {
        &self.0.issuer
    }
    pub fn version(&self) -> u8 {
        self.0.version
    }
    pub fn serial(&self) -> &[u8] {
        &self.0.serial
    }
    pub fn not_before(&self) -> OffsetDateTime {
        self.0.not_before
    }
    pub fn not_after(&self) -> OffsetDateTime {
        self.0.not_after
    }
    /// Go's `BasicConstraintsValid`.
    pub fn basic_constraints_valid(&self) -> bool {
        self.0.basic_constraints.is_some()
    }
    pub fn is_ca(&self) -> bool {
        self.0.basic_constraints.as_ref().is_some_and(|b| b.ca)
    }
    /// The path length constraint when present.
    pub fn max_path_len(&self) -> Option<u8> {
        self.0
            .basic_constraints
            .as_ref()
            .and_then(|b| b.path_len_constraint)
    }
    /// Go's `KeyUsage` bits (0 when the extension is absent).
    pub fn key_usage(&self) -> u16 {
        self.0.key_usage
    }
    pub fn extended_key_usage(&self) -> &[Eku] {
        &self.0.extended_key_usage
    }
    pub fn extensions(&self) -> &[RawExtension] {
        &self.0.extensions
    }
    pub fn extension(&self, oid: ObjectIdentifier) -> Option<&RawExtension> {
        self.0.extensions.iter().find(|e| e.oid == oid)
    }
    pub fn public_key(&self) -> &PublicKey {
        &self.0.public_key
    }
    pub fn signature_algorithm(&self) -> &SignatureAlgorithm {
        &self.0.signature_algorithm
    }
    pub fn signature(&self) -> &[u8] {
        &self.0.signature
    }
    /// HTTP(S) and other URIs of the CRL distribution points.
    pub fn crl_urls(&self) -> &[String] {
        &self.0.crl_urls
    }
    /// OCSP responder URIs from the authority information access.
    pub fn ocsp_urls(&self) -> &[String] {
        &self.0.ocsp_urls
    }
}

impl Inner {
    fn read_extension(&mut self, ext: &x509_cert::ext::Extension) -> Result<(), CertError> {
        let value = ext.extn_value.as_bytes();
        if self.extensions.iter().any(|e| e.oid == ext.extn_id) {
            return Err(CertError(
                "x509: certificate contains duplicate extensions".into(),
            ));
        }
        self.extensions.push(RawExtension {
            oid: ext.extn_id,
            critical: ext.critical,
            value: value.to_vec(),
        });
        let bad = |what: &str| CertError(format!("x509: invalid {what}"));
        match ext.extn_id {
            ids::ID_CE_BASIC_CONSTRAINTS => {
                self.basic_constraints =
                    Some(BasicConstraints::from_der(value).map_err(|_| bad("basic constraints"))?);
            }
            ids::ID_CE_KEY_USAGE => {
                let ku = KeyUsage::from_der(value).map_err(|_| bad("key usage"))?;
                self.key_usage = ku.0.bits();
            }
            ids::ID_CE_EXT_KEY_USAGE => {
                let eku =
                    ExtendedKeyUsage::from_der(value).map_err(|_| bad("extended key usages"))?;
                self.extended_key_usage = eku.0.into_iter().map(Eku::from_oid).collect();
            }
            ids::ID_CE_CRL_DISTRIBUTION_POINTS => {
                self.crl_urls = go_crl_distribution_points(value)
                    .ok_or_else(|| bad("CRL distribution points"))?;
            }
            ids::ID_PE_AUTHORITY_INFO_ACCESS => {
                let aia = AuthorityInfoAccessSyntax::from_der(value)
                    .map_err(|_| bad("authority info access"))?;
                for ad in aia.0 {
                    if ad.access_method == ids::ID_AD_OCSP
                        && let Some(u) = uri(ad.access_location)
                    {
                        self.ocsp_urls.push(u);
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Go's reading of cRLDistributionPoints: for each distribution point with
/// a `fullName`, the leading URI names (reading stops at the first other
/// kind of name); reasons and cRLIssuer are ignored.
fn go_crl_distribution_points(value: &[u8]) -> Option<Vec<String>> {
    use super::der_walk::{children, read_tlv};
    let (seq, rest) = read_tlv(value)?;
    if seq.tag != 0x30 || !rest.is_empty() {
        return None;
    }
    let mut urls = Vec::new();
    for dp in children(seq.contents)? {
        if dp.tag != 0x30 {
            return None;
        }
        let fields = children(dp.contents)?;
        let Some(name) = fields.first().filter(|f| f.tag == 0xa0) else {
            continue;
        };
        let (full, _) = read_tlv(name.contents)?;
        if full.tag != 0xa0 {
            // nameRelativeToCRLIssuer: Go reads it as a malformed fullName.
            return None;
        }
        for general in children(full.contents)? {
            if general.tag != 0x86 {
                break;
            }
            urls.push(String::from_utf8_lossy(general.contents).into_owned());
        }
    }
    Some(urls)
}

fn uri(name: GeneralName) -> Option<String> {
    match name {
        GeneralName::UniformResourceIdentifier(u) => Some(u.to_string()),
        _ => None,
    }
}

fn to_time(d: std::time::Duration) -> Result<OffsetDateTime, CertError> {
    let secs =
        i64::try_from(d.as_secs()).map_err(|_| CertError("x509: time out of range".into()))?;
    OffsetDateTime::from_unix_timestamp(secs)
        .map_err(|_| CertError("x509: time out of range".into()))
}

/// Renders a Name as Go does, decoding attribute values with Go's rules
/// (`parseASN1String`): an unsupported string type fails the parse, as in Go.
fn go_name(name: &Name) -> Result<String, CertError> {
    let mut rdns = Vec::new();
    for rdn in name.iter_rdn() {
        let mut atvs = Vec::new();
        for atv in rdn.iter() {
            let value = go_string(atv.value.tag(), atv.value.value()).map_err(|e| {
                CertError(format!(
                    "x509: invalid RDNSequence: invalid attribute value: {e}"
                ))
            })?;
            atvs.push((atv.oid.to_string(), AttrValue::Str(value)));
        }
        rdns.push(atvs);
    }
    Ok(go_name_string(&rdns))
}

fn go_string(tag: Tag, value: &[u8]) -> Result<String, String> {
    match tag {
        Tag::TeletexString => Ok(String::from_utf8_lossy(value).into_owned()),
        Tag::PrintableString => {
            let ok = value
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b" '()+,-./:=?*&".contains(&b));
            if ok {
                Ok(String::from_utf8_lossy(value).into_owned())
            } else {
                Err("invalid PrintableString".into())
            }
        }
        Tag::Utf8String => {
            String::from_utf8(value.to_vec()).map_err(|_| "invalid UTF-8 string".into())
        }
        Tag::BmpString => {
            if !value.len().is_multiple_of(2) {
                return Err("invalid BMPString".into());
            }
            let mut v = value;
            if v.len() >= 2 && v[v.len() - 1] == 0 && v[v.len() - 2] == 0 {
                v = &v[..v.len() - 2];
            }
            let units: Vec<u16> = v
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            Ok(String::from_utf16_lossy(&units))
        }
        Tag::Ia5String => {
            if value.is_ascii() {
                Ok(String::from_utf8_lossy(value).into_owned())
            } else {
                Err("invalid IA5String".into())
            }
        }
        Tag::NumericString => {
            if value.iter().all(|b| b.is_ascii_digit() || *b == b' ') {
                Ok(String::from_utf8_lossy(value).into_owned())
            } else {
                Err("invalid NumericString".into())
            }
        }
        other => Err(format!("unsupported string type: {}", other.number())),
    }
}

/// Parses every certificate in `bytes`, as notation-core-go's
/// `ReadCertificateFile` does: PEM blocks (each must hold a certificate) or
/// DER (one or several concatenated). Empty input gives an empty list.
pub fn parse_certificates(bytes: &[u8]) -> Result<Vec<Cert>, CertError> {
    let text = std::str::from_utf8(bytes).ok();
    if let Some(text) = text.filter(|t| t.contains("-----BEGIN")) {
        return parse_pem(text);
    }
    let mut rest = bytes;
    let mut out = Vec::new();
    while !rest.is_empty() {
        let (tlv, after) = super::der_walk::read_tlv(rest)
            .ok_or_else(|| CertError("x509: malformed certificate".into()))?;
        out.push(Cert::from_der(tlv.whole)?);
        rest = after;
    }
    Ok(out)
}

fn parse_pem(text: &str) -> Result<Vec<Cert>, CertError> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let label_end = after
            .find("-----")
            .ok_or_else(|| CertError("malformed PEM block".into()))?;
        let label = &after[..label_end];
        let end_marker = format!("-----END {label}-----");
        let body_start = label_end + 5;
        let end = after
            .get(body_start..)
            .and_then(|b| b.find(&end_marker))
            .map(|e| body_start + e)
            .ok_or_else(|| CertError("malformed PEM block".into()))?;
        // Like notation-core-go, the block type is not checked: every block
        // must hold a certificate.
        let body: String = after[body_start..end]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let der = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, body)
            .map_err(|_| CertError("malformed PEM block".into()))?;
        out.push(Cert::from_der(&der)?);
        rest = &after[end + end_marker.len()..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_pem_is_an_error_not_a_panic() {
        // The first was found by the x509 fuzz target: an END marker before the body.
        for input in [
            "-----BEGIN -----END -----",
            "-----BEGIN X-----",
            "-----BEGIN X-----\n!!!\n-----END X-----",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
        ] {
            assert!(parse_certificates(input.as_bytes()).is_err(), "{input}");
        }
    }
}
