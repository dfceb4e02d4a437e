//! Signing for hand-made PKIX structures (CRLs, OCSP responses) with a
//! PKCS#8 key, the way CAs and responders usually sign them:
//! sha256WithRSAEncryption for RSA, ECDSA with the curve's hash otherwise.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as sig, EcdsaKeyPair, KeyPair as _, RsaKeyPair};

use crate::der_build::{null, oid, seq};

enum Key {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair, &'static str),
}

/// A private key that signs TBS bytes and names its algorithm.
pub struct PkixSigner {
    key: Key,
    pkcs8: Vec<u8>,
}

impl std::fmt::Debug for PkixSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PkixSigner(..)")
    }
}

impl Clone for PkixSigner {
    fn clone(&self) -> PkixSigner {
        PkixSigner::from_pkcs8(&self.pkcs8)
    }
}

impl PkixSigner {
    /// An RSA or EC (P-256/384/521) PKCS#8 key.
    pub fn from_pkcs8(der: &[u8]) -> PkixSigner {
        let key = if let Ok(k) = RsaKeyPair::from_pkcs8(der) {
            Key::Rsa(k)
        } else {
            let ec = [
                (&sig::ECDSA_P256_SHA256_ASN1_SIGNING, "1.2.840.10045.4.3.2"),
                (&sig::ECDSA_P384_SHA384_ASN1_SIGNING, "1.2.840.10045.4.3.3"),
                (&sig::ECDSA_P521_SHA512_ASN1_SIGNING, "1.2.840.10045.4.3.4"),
            ];
            ec.into_iter()
                .find_map(|(alg, oid)| {
                    EcdsaKeyPair::from_pkcs8(alg, der)
                        .ok()
                        .map(|k| Key::Ec(k, oid))
                })
                .expect("an RSA or EC PKCS#8 key")
        };
        PkixSigner {
            key,
            pkcs8: der.to_vec(),
        }
    }

    /// A `PRIVATE KEY` PEM (PKCS#8).
    pub fn from_pem(pem: &str) -> PkixSigner {
        let pair = rcgen::KeyPair::from_pem(pem).expect("a PKCS#8 PEM key");
        PkixSigner::from_pkcs8(&pair.serialize_der())
    }

    /// The AlgorithmIdentifier DER of the signatures [`PkixSigner::sign`] makes.
    pub fn algorithm_identifier(&self) -> Vec<u8> {
        match &self.key {
            Key::Rsa(_) => seq(&[oid("1.2.840.113549.1.1.11"), null()]),
            Key::Ec(_, o) => seq(&[oid(o)]),
        }
    }

    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match &self.key {
            Key::Rsa(k) => {
                let mut out = vec![0; k.public_modulus_len()];
                k.sign(&sig::RSA_PKCS1_SHA256, &rng, msg, &mut out).unwrap();
                out
            }
            Key::Ec(k, _) => k.sign(&rng, msg).unwrap().as_ref().to_vec(),
        }
    }

    /// The public key bytes (PKCS#1 for RSA, the point for EC).
    pub fn public_key(&self) -> Vec<u8> {
        match &self.key {
            Key::Rsa(k) => k.public_key().as_ref().to_vec(),
            Key::Ec(k, _) => k.public_key().as_ref().to_vec(),
        }
    }
}

/// The subject Name DER of a DER certificate.
pub fn subject_der(cert_der: &[u8]) -> Vec<u8> {
    use der::{Decode as _, Encode as _};
    x509_cert::Certificate::from_der(cert_der)
        .unwrap()
        .tbs_certificate()
        .subject()
        .to_der()
        .unwrap()
}

/// The serial number's INTEGER contents of a DER certificate.
pub fn serial_of(cert_der: &[u8]) -> Vec<u8> {
    use der::Decode as _;
    x509_cert::Certificate::from_der(cert_der)
        .unwrap()
        .tbs_certificate()
        .serial_number()
        .as_bytes()
        .to_vec()
}

/// The DER of the first certificate in a PEM file.
pub fn first_pem_cert(pem: &str) -> Vec<u8> {
    use base64::Engine as _;
    let start = pem.find("-----BEGIN CERTIFICATE-----").unwrap() + 27;
    let end = pem[start..].find("-----END CERTIFICATE-----").unwrap() + start;
    let body: String = pem[start..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

/// The DER of every certificate in a PEM file, in order.
pub fn pem_certs(pem: &str) -> Vec<Vec<u8>> {
    pem.split_inclusive("-----END CERTIFICATE-----")
        .filter(|p| p.contains("-----BEGIN CERTIFICATE-----"))
        .map(first_pem_cert)
        .collect()
}
