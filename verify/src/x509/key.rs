//! Public keys and signature algorithms of certificates, and signature checks
//! with aws-lc-rs, following Go's crypto/x509 `checkSignature`.

use aws_lc_rs::signature::{self as sig, UnparsedPublicKey, VerificationAlgorithm};
use const_oid::ObjectIdentifier;
use der::{Decode, asn1::UintRef};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");

const SHA1_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5");
const SHA256_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const RSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const ECDSA_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.1");
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    pub fn bits(self) -> usize {
        match self {
            Curve::P256 => 256,
            Curve::P384 => 384,
            Curve::P521 => 521,
        }
    }
}

/// A certificate's public key, with the bytes aws-lc-rs verifies with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// `bits` as Go counts them (`Size() << 3`); `pkcs1` is the RSAPublicKey DER.
    Rsa {
        bits: usize,
        pkcs1: Vec<u8>,
    },
    Ec {
        curve: Curve,
        point: Vec<u8>,
    },
    Ed25519(Vec<u8>),
    /// A key type Go parses but no notation rule accepts (e.g. P-224), or an
    /// algorithm Go does not know.
    Other(String),
}

impl PublicKey {
    pub fn from_spki(spki: &SubjectPublicKeyInfoOwned) -> Result<PublicKey, String> {
        let bits = spki
            .subject_public_key
            .as_bytes()
            .ok_or("public key has unused bits")?
            .to_vec();
        match spki.algorithm.oid {
            RSA_ENCRYPTION => {
                let modulus_bits = rsa_modulus_bits(&bits).ok_or("invalid RSA public key")?;
                Ok(PublicKey::Rsa {
                    bits: modulus_bits.div_ceil(8) * 8,
                    pkcs1: bits,
                })
            }
            EC_PUBLIC_KEY => {
                let curve = spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
                    .ok_or("invalid ECDSA parameters")?;
                let curve = match curve {
                    P256 => Curve::P256,
                    P384 => Curve::P384,
                    P521 => Curve::P521,
                    other => return Ok(PublicKey::Other(format!("ECDSA curve {other}"))),
                };
                Ok(PublicKey::Ec { curve, point: bits })
            }
            ED25519 => Ok(PublicKey::Ed25519(bits)),
            other => Ok(PublicKey::Other(other.to_string())),
        }
    }
}

fn rsa_modulus_bits(pkcs1: &[u8]) -> Option<usize> {
    #[derive(der::Sequence)]
    struct RsaPublicKey<'a> {
        modulus: UintRef<'a>,
        #[allow(dead_code)]
        public_exponent: UintRef<'a>,
    }
    let key = RsaPublicKey::from_der(pkcs1).ok()?;
    let m = key.modulus.as_bytes();
    let first = *m.first()?;
    Some(m.len() * 8 - first.leading_zeros() as usize)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

/// A certificate signature algorithm, as Go's x509 distinguishes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    RsaPkcs1(Hash),
    RsaPss(Hash),
    Ecdsa(Hash),
    Ed25519,
    Unknown(String),
}

impl SignatureAlgorithm {
    pub(crate) fn from_identifier(alg: &AlgorithmIdentifierOwned) -> SignatureAlgorithm {
        match alg.oid {
            SHA1_RSA => SignatureAlgorithm::RsaPkcs1(Hash::Sha1),
            SHA256_RSA => SignatureAlgorithm::RsaPkcs1(Hash::Sha256),
            SHA384_RSA => SignatureAlgorithm::RsaPkcs1(Hash::Sha384),
            SHA512_RSA => SignatureAlgorithm::RsaPkcs1(Hash::Sha512),
            ECDSA_SHA1 => SignatureAlgorithm::Ecdsa(Hash::Sha1),
            ECDSA_SHA256 => SignatureAlgorithm::Ecdsa(Hash::Sha256),
            ECDSA_SHA384 => SignatureAlgorithm::Ecdsa(Hash::Sha384),
            ECDSA_SHA512 => SignatureAlgorithm::Ecdsa(Hash::Sha512),
            ED25519 => SignatureAlgorithm::Ed25519,
            RSA_PSS => pss_hash(alg)
                .map(SignatureAlgorithm::RsaPss)
                .unwrap_or_else(|| {
                    SignatureAlgorithm::Unknown("RSASSA-PSS with unsupported parameters".into())
                }),
            other => SignatureAlgorithm::Unknown(other.to_string()),
        }
    }

    fn is_sha1(&self) -> bool {
        matches!(
            self,
            SignatureAlgorithm::RsaPkcs1(Hash::Sha1) | SignatureAlgorithm::Ecdsa(Hash::Sha1)
        )
    }
}

/// The hash of RSASSA-PSS parameters, accepted only in the shape Go accepts:
/// SHA-256/384/512, MGF1 with the same hash, salt length = hash length.
fn pss_hash(alg: &AlgorithmIdentifierOwned) -> Option<Hash> {
    #[derive(der::Sequence)]
    struct PssParams {
        #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
        hash: Option<AlgorithmIdentifierOwned>,
        #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
        mgf: Option<AlgorithmIdentifierOwned>,
        #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
        salt_len: Option<u32>,
        #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
        trailer: Option<u32>,
    }
    let params: PssParams = alg.parameters.as_ref()?.decode_as().ok()?;
    let (hash, len) = match params.hash?.oid {
        SHA256 => (Hash::Sha256, 32),
        SHA384 => (Hash::Sha384, 48),
        SHA512 => (Hash::Sha512, 64),
        _ => return None,
    };
    let mgf_hash: AlgorithmIdentifierOwned = params.mgf?.parameters?.decode_as().ok()?;
    let ok = mgf_hash.oid
        == match hash {
            Hash::Sha256 => SHA256,
            Hash::Sha384 => SHA384,
            _ => SHA512,
        }
        && params.salt_len == Some(len)
        && params.trailer.unwrap_or(1) == 1;
    ok.then_some(hash)
}

/// Why a certificate signature did not verify; Display is Go's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error(
        "x509: cannot verify signature: insecure algorithm {0} (temporarily override with GODEBUG=x509sha1=1)"
    )]
    InsecureAlgorithm(&'static str),
    #[error("x509: cannot verify signature: algorithm unimplemented")]
    Unsupported,
    #[error(
        "x509: signature algorithm specifies an {0} public key, but have public key of type {1}"
    )]
    KeyMismatch(&'static str, &'static str),
    #[error("{0}")]
    Invalid(&'static str),
}

/// Verifies `signature` over `message` with `key`, as Go's `checkSignature`
/// does (`allow_sha1` is true only for `Certificate.CheckSignature`).
pub fn check_signature(
    algorithm: &SignatureAlgorithm,
    message: &[u8],
    signature: &[u8],
    key: &PublicKey,
    allow_sha1: bool,
) -> Result<(), SignatureError> {
    if algorithm.is_sha1() && !allow_sha1 {
        let name = match algorithm {
            SignatureAlgorithm::Ecdsa(_) => "ECDSA-SHA1",
            _ => "SHA1-RSA",
        };
        return Err(SignatureError::InsecureAlgorithm(name));
    }
    let (alg, key_bytes): (&'static dyn VerificationAlgorithm, &[u8]) = match (algorithm, key) {
        (SignatureAlgorithm::RsaPkcs1(h), PublicKey::Rsa { bits, pkcs1 }) => {
            (rsa_pkcs1(*h, *bits)?, pkcs1)
        }
        (SignatureAlgorithm::RsaPss(h), PublicKey::Rsa { pkcs1, .. }) => (rsa_pss(*h), pkcs1),
        (SignatureAlgorithm::Ecdsa(h), PublicKey::Ec { curve, point }) => {
            (ecdsa_asn1(*curve, *h)?, point)
        }
        (SignatureAlgorithm::Ed25519, PublicKey::Ed25519(k)) => (&sig::ED25519, k),
        (SignatureAlgorithm::Unknown(_), _) | (_, PublicKey::Other(_)) => {
            return Err(SignatureError::Unsupported);
        }
        (SignatureAlgorithm::RsaPkcs1(_) | SignatureAlgorithm::RsaPss(_), k) => {
            return Err(SignatureError::KeyMismatch("RSA", key_type(k)));
        }
        (SignatureAlgorithm::Ecdsa(_), k) => {
            return Err(SignatureError::KeyMismatch("ECDSA", key_type(k)));
        }
        (SignatureAlgorithm::Ed25519, k) => {
            return Err(SignatureError::KeyMismatch("Ed25519", key_type(k)));
        }
    };
    UnparsedPublicKey::new(alg, key_bytes)
        .verify(message, signature)
        .map_err(|_| {
            SignatureError::Invalid(match key {
                PublicKey::Rsa { .. } => "crypto/rsa: verification error",
                PublicKey::Ed25519(_) => "ed25519: invalid signature",
                _ => "x509: ECDSA verification failure",
            })
        })
}

fn key_type(k: &PublicKey) -> &'static str {
    match k {
        PublicKey::Rsa { .. } => "*rsa.PublicKey",
        PublicKey::Ec { .. } => "*ecdsa.PublicKey",
        PublicKey::Ed25519(_) => "ed25519.PublicKey",
        PublicKey::Other(_) => "unknown",
    }
}

fn rsa_pkcs1(h: Hash, bits: usize) -> Result<&'static dyn VerificationAlgorithm, SignatureError> {
    let small = bits < 2048;
    Ok(match (h, small) {
        (Hash::Sha1, false) => &sig::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
        (Hash::Sha1, true) => &sig::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY,
        (Hash::Sha256, false) => &sig::RSA_PKCS1_2048_8192_SHA256,
        (Hash::Sha256, true) => &sig::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
        (Hash::Sha384, false) => &sig::RSA_PKCS1_2048_8192_SHA384,
        (Hash::Sha512, false) => &sig::RSA_PKCS1_2048_8192_SHA512,
        (Hash::Sha512, true) => &sig::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
        (Hash::Sha384, true) => return Err(SignatureError::Unsupported),
    })
}

fn rsa_pss(h: Hash) -> &'static dyn VerificationAlgorithm {
    match h {
        Hash::Sha384 => &sig::RSA_PSS_2048_8192_SHA384,
        Hash::Sha512 => &sig::RSA_PSS_2048_8192_SHA512,
        _ => &sig::RSA_PSS_2048_8192_SHA256,
    }
}

fn ecdsa_asn1(curve: Curve, h: Hash) -> Result<&'static dyn VerificationAlgorithm, SignatureError> {
    Ok(match (curve, h) {
        (Curve::P256, Hash::Sha1) => &sig::ECDSA_P256_SHA1_ASN1,
        (Curve::P256, Hash::Sha256) => &sig::ECDSA_P256_SHA256_ASN1,
        (Curve::P256, Hash::Sha384) => &sig::ECDSA_P256_SHA384_ASN1,
        (Curve::P256, Hash::Sha512) => &sig::ECDSA_P256_SHA512_ASN1,
        (Curve::P384, Hash::Sha256) => &sig::ECDSA_P384_SHA256_ASN1,
        (Curve::P384, Hash::Sha384) => &sig::ECDSA_P384_SHA384_ASN1,
        (Curve::P384, Hash::Sha512) => &sig::ECDSA_P384_SHA512_ASN1,
        (Curve::P521, Hash::Sha1) => &sig::ECDSA_P521_SHA1_ASN1,
        (Curve::P521, Hash::Sha256) => &sig::ECDSA_P521_SHA256_ASN1,
        (Curve::P521, Hash::Sha384) => &sig::ECDSA_P521_SHA384_ASN1,
        (Curve::P521, Hash::Sha512) => &sig::ECDSA_P521_SHA512_ASN1,
        (Curve::P384, Hash::Sha1) => return Err(SignatureError::Unsupported),
    })
}
