//! The signature algorithms of Notary Project envelopes and the one rule that
//! ties them to the signing key (notation-core-go `ExtractKeySpec`).

use aws_lc_rs::signature::{self as sig, UnparsedPublicKey, VerificationAlgorithm};

use crate::x509::{Cert, Curve, PublicKey};

/// PS256/384/512 and ES256/384/512, the only algorithms notation accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Ps256,
    Ps384,
    Ps512,
    Es256,
    Es384,
    Es512,
}

impl Algorithm {
    pub const ALL: [Algorithm; 6] = [
        Algorithm::Ps256,
        Algorithm::Ps384,
        Algorithm::Ps512,
        Algorithm::Es256,
        Algorithm::Es384,
        Algorithm::Es512,
    ];

    /// notation-core-go's numeric value (it prints it with `%v` in one message).
    pub fn go_number(self) -> u8 {
        match self {
            Algorithm::Ps256 => 1,
            Algorithm::Ps384 => 2,
            Algorithm::Ps512 => 3,
            Algorithm::Es256 => 4,
            Algorithm::Es384 => 5,
            Algorithm::Es512 => 6,
        }
    }

    pub fn jws_name(self) -> &'static str {
        match self {
            Algorithm::Ps256 => "PS256",
            Algorithm::Ps384 => "PS384",
            Algorithm::Ps512 => "PS512",
            Algorithm::Es256 => "ES256",
            Algorithm::Es384 => "ES384",
            Algorithm::Es512 => "ES512",
        }
    }

    pub fn from_jws(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.jws_name() == name)
    }

    /// The COSE algorithm value (RFC 9053 / RFC 8230).
    pub fn cose_value(self) -> i64 {
        match self {
            Algorithm::Ps256 => -37,
            Algorithm::Ps384 => -38,
            Algorithm::Ps512 => -39,
            Algorithm::Es256 => -7,
            Algorithm::Es384 => -35,
            Algorithm::Es512 => -36,
        }
    }

    pub fn from_cose(value: i64) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.cose_value() == value)
    }

    /// The digest length, for RSASSA-PSS salts and timestamp imprints.
    pub fn hash_len(self) -> usize {
        match self {
            Algorithm::Ps256 | Algorithm::Es256 => 32,
            Algorithm::Ps384 | Algorithm::Es384 => 48,
            Algorithm::Ps512 | Algorithm::Es512 => 64,
        }
    }

    fn is_rsa(self) -> bool {
        matches!(self, Algorithm::Ps256 | Algorithm::Ps384 | Algorithm::Ps512)
    }
}

/// notation's key spec of the signing certificate: RSA 2048/3072/4096 or
/// EC P-256/384/521, mapped to the one algorithm each must sign with.
pub fn key_spec(cert: &Cert) -> Result<Algorithm, String> {
    match cert.public_key() {
        PublicKey::Rsa { bits, .. } => match bits {
            2048 => Ok(Algorithm::Ps256),
            3072 => Ok(Algorithm::Ps384),
            4096 => Ok(Algorithm::Ps512),
            b => Err(format!("rsa key size {b} bits is not supported")),
        },
        PublicKey::Ec { curve, .. } => Ok(match curve {
            Curve::P256 => Algorithm::Es256,
            Curve::P384 => Algorithm::Es384,
            Curve::P521 => Algorithm::Es512,
        }),
        PublicKey::Other(desc) if desc.starts_with("ECDSA curve") => {
            Err("ecdsa key size 224 bits is not supported".into())
        }
        _ => Err("unsupported public key type".into()),
    }
}

/// How an RSASSA-PSS salt is checked: COSE fixes it to the hash length
/// (RFC 8230); JWS verification in notation (golang-jwt) detects it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PssSalt {
    HashLength,
    Auto,
}

/// Verifies an envelope's primitive signature with the leaf's key under
/// `alg`. ECDSA signatures are raw `r‖s`. Returns false when it does not verify.
pub fn verify(
    alg: Algorithm,
    key: &PublicKey,
    message: &[u8],
    signature: &[u8],
    salt: PssSalt,
) -> bool {
    let (verifier, key_bytes): (&'static dyn VerificationAlgorithm, &[u8]) = match (alg, key) {
        (Algorithm::Ps256, PublicKey::Rsa { pkcs1, .. }) => (&sig::RSA_PSS_2048_8192_SHA256, pkcs1),
        (Algorithm::Ps384, PublicKey::Rsa { pkcs1, .. }) => (&sig::RSA_PSS_2048_8192_SHA384, pkcs1),
        (Algorithm::Ps512, PublicKey::Rsa { pkcs1, .. }) => (&sig::RSA_PSS_2048_8192_SHA512, pkcs1),
        (
            Algorithm::Es256,
            PublicKey::Ec {
                curve: Curve::P256,
                point,
            },
        ) => (&sig::ECDSA_P256_SHA256_FIXED, point),
        (
            Algorithm::Es384,
            PublicKey::Ec {
                curve: Curve::P384,
                point,
            },
        ) => (&sig::ECDSA_P384_SHA384_FIXED, point),
        (
            Algorithm::Es512,
            PublicKey::Ec {
                curve: Curve::P521,
                point,
            },
        ) => (&sig::ECDSA_P521_SHA512_FIXED, point),
        _ => return false,
    };
    if UnparsedPublicKey::new(verifier, key_bytes)
        .verify(message, signature)
        .is_ok()
    {
        return true;
    }
    // Salt = hash length is what every notation signer writes; only a JWS may
    // carry another salt length, which golang-jwt accepts.
    match (salt, key) {
        (PssSalt::Auto, PublicKey::Rsa { pkcs1, .. }) if alg.is_rsa() => {
            super::pss::verify_any_salt(alg, pkcs1, message, signature)
        }
        _ => false,
    }
}
