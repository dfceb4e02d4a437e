//! The certificate extensions notation checks (basicConstraints, keyUsage,
//! extendedKeyUsage) plus authorityInfoAccess, hand-built as rcgen custom
//! extensions so that presence, contents and the critical flag are exactly
//! what a [`CertSpec`] asks for (rcgen alone always marks keyUsage critical
//! and extendedKeyUsage non-critical). The DER comes from x509-cert's types.

use der::Encode as _;
use der::asn1::{Ia5String, ObjectIdentifier};
use der::flagset::FlagSet;
use rcgen::CustomExtension;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AccessDescription, AuthorityInfoAccessSyntax, BasicConstraints, ExtendedKeyUsage,
    KeyUsage as X509KeyUsage, KeyUsages,
};

use super::cert::{CertSpec, Eku, KeyUsage};

const BASIC_CONSTRAINTS: &[u64] = &[2, 5, 29, 19];
const KEY_USAGE: &[u64] = &[2, 5, 29, 15];
const EXT_KEY_USAGE: &[u64] = &[2, 5, 29, 37];
const AUTHORITY_INFO_ACCESS: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 1, 1];
const ID_AD_OCSP: &str = "1.3.6.1.5.5.7.48.1";

/// The custom extensions for `spec`, in the order basicConstraints,
/// keyUsage, extendedKeyUsage, authorityInfoAccess (absent ones skipped).
pub(super) fn for_spec(spec: &CertSpec) -> Vec<CustomExtension> {
    [
        basic_constraints(spec),
        key_usage(spec),
        ext_key_usage(spec),
        authority_info_access(spec),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn extension(oid: &[u64], content: Vec<u8>, critical: bool) -> CustomExtension {
    let mut ext = CustomExtension::from_oid_content(oid, content);
    ext.set_criticality(critical);
    ext
}

fn basic_constraints(spec: &CertSpec) -> Option<CustomExtension> {
    let value = match spec.ca {
        Some(path_len) => BasicConstraints {
            ca: true,
            path_len_constraint: path_len,
        },
        None if spec.explicit_not_ca => BasicConstraints {
            ca: false,
            path_len_constraint: None,
        },
        None => return None,
    };
    let der = value.to_der().unwrap();
    Some(extension(
        BASIC_CONSTRAINTS,
        der,
        spec.basic_constraints_critical,
    ))
}

fn key_usage(spec: &CertSpec) -> Option<CustomExtension> {
    let (usages, critical) = spec.key_usage.as_ref()?;
    let flags = usages
        .iter()
        .fold(FlagSet::<KeyUsages>::default(), |acc, u| {
            acc | key_usage_flag(*u)
        });
    let der = X509KeyUsage(flags).to_der().unwrap();
    Some(extension(KEY_USAGE, der, *critical))
}

fn key_usage_flag(usage: KeyUsage) -> KeyUsages {
    match usage {
        KeyUsage::DigitalSignature => KeyUsages::DigitalSignature,
        KeyUsage::NonRepudiation => KeyUsages::NonRepudiation,
        KeyUsage::KeyEncipherment => KeyUsages::KeyEncipherment,
        KeyUsage::DataEncipherment => KeyUsages::DataEncipherment,
        KeyUsage::KeyAgreement => KeyUsages::KeyAgreement,
        KeyUsage::KeyCertSign => KeyUsages::KeyCertSign,
        KeyUsage::CrlSign => KeyUsages::CRLSign,
        KeyUsage::EncipherOnly => KeyUsages::EncipherOnly,
        KeyUsage::DecipherOnly => KeyUsages::DecipherOnly,
    }
}

fn ext_key_usage(spec: &CertSpec) -> Option<CustomExtension> {
    let ekus = spec.eku.as_ref()?;
    let oids = ekus
        .iter()
        .map(|e| ObjectIdentifier::new(&e.oid()).unwrap())
        .collect();
    let der = ExtendedKeyUsage(oids).to_der().unwrap();
    Some(extension(EXT_KEY_USAGE, der, spec.eku_critical))
}

fn authority_info_access(spec: &CertSpec) -> Option<CustomExtension> {
    if spec.ocsp_urls.is_empty() {
        return None;
    }
    let method = ObjectIdentifier::new_unwrap(ID_AD_OCSP);
    let descriptions = spec
        .ocsp_urls
        .iter()
        .map(|url| AccessDescription {
            access_method: method,
            access_location: GeneralName::UniformResourceIdentifier(Ia5String::new(url).unwrap()),
        })
        .collect();
    let der = AuthorityInfoAccessSyntax(descriptions).to_der().unwrap();
    Some(extension(AUTHORITY_INFO_ACCESS, der, false))
}

impl Eku {
    /// The dotted OID of this purpose.
    pub fn oid(&self) -> String {
        let known = match self {
            Eku::ServerAuth => "1.3.6.1.5.5.7.3.1",
            Eku::ClientAuth => "1.3.6.1.5.5.7.3.2",
            Eku::CodeSigning => "1.3.6.1.5.5.7.3.3",
            Eku::EmailProtection => "1.3.6.1.5.5.7.3.4",
            Eku::TimeStamping => "1.3.6.1.5.5.7.3.8",
            Eku::OcspSigning => "1.3.6.1.5.5.7.3.9",
            Eku::Any => "2.5.29.37.0",
            Eku::Other(oid) => return oid.clone(),
        };
        known.to_string()
    }
}
