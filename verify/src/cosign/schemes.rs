//! The signature schemes a Sigstore bundle's signature is checked with,
//! over a message or over its digest (a message signature verified from the
//! artifact's digest alone), on aws-lc-rs and [`super::ed25519ph`].
//!
//! Which schemes apply to a key follows sigstore-go:
//! - a certificate's key: ECDSA with the curve's hash (P-256/SHA-256,
//!   P-384/SHA-384, P-521/SHA-512), and for P-384 and P-521 also SHA-256
//!   (sigstore-go's compatibility verifier for bundles v0.1–v0.3); RSA
//!   PKCS#1 v1.5 with SHA-256; Ed25519: Ed25519ph for message signatures,
//!   pure Ed25519 for DSSE envelopes;
//! - a configured key: its policy `hash` setting (the legacy rules of
//!   [`super::key`]), and also these defaults for its type, since cosign ≥
//!   2.6 signs bundles with the per-key default whatever the verifier's
//!   legacy setting says. Trying several hashes with one key is sound for
//!   ECDSA and RSA (a forger would have to break the scheme under one of
//!   them), as sigstore-go's compatibility verifier does.

use aws_lc_rs::digest::{self as dg, Digest};
use aws_lc_rs::signature::{self as sig, UnparsedPublicKey, VerificationAlgorithm};
use pullgate_policy::cosign::KeyHash;

use super::ed25519ph;
use super::key::{CosignKey, MAX_RSA_BITS, MIN_RSA_BITS};
use crate::x509::{Curve, Hash, PublicKey};

/// One way of checking a signature with a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    Ecdsa(Hash),
    RsaPkcs1(Hash),
    RsaPss(Hash),
    Ed25519,
    Ed25519ph,
}

impl Scheme {
    /// The hash the scheme signs a digest of (None: pure Ed25519).
    pub(crate) fn hash(self) -> Option<Hash> {
        match self {
            Scheme::Ecdsa(h) | Scheme::RsaPkcs1(h) | Scheme::RsaPss(h) => Some(h),
            Scheme::Ed25519ph => Some(Hash::Sha512),
            Scheme::Ed25519 => None,
        }
    }

    pub(crate) fn name(self) -> String {
        let h = |h: Hash| match h {
            Hash::Sha1 => "SHA-1",
            Hash::Sha256 => "SHA-256",
            Hash::Sha384 => "SHA-384",
            Hash::Sha512 => "SHA-512",
        };
        match self {
            Scheme::Ecdsa(x) => format!("ECDSA with {}", h(x)),
            Scheme::RsaPkcs1(x) => format!("RSA PKCS#1 v1.5 with {}", h(x)),
            Scheme::RsaPss(x) => format!("RSA-PSS with {}", h(x)),
            Scheme::Ed25519 => "Ed25519".into(),
            Scheme::Ed25519ph => "Ed25519ph".into(),
        }
    }
}

/// The digest of `data` under `hash` (SHA-1 is never used here and maps to
/// SHA-256).
pub(crate) fn digest(hash: Hash, data: &[u8]) -> Vec<u8> {
    dg::digest(algorithm_of(hash), data).as_ref().to_vec()
}

fn algorithm_of(hash: Hash) -> &'static dg::Algorithm {
    match hash {
        Hash::Sha384 => &dg::SHA384,
        Hash::Sha512 => &dg::SHA512,
        Hash::Sha1 | Hash::Sha256 => &dg::SHA256,
    }
}

/// sigstore-go's schemes for a certificate's key.
pub(crate) fn certificate_schemes(key: &PublicKey, dsse: bool) -> Vec<Scheme> {
    match key {
        PublicKey::Ec {
            curve: Curve::P256, ..
        } => vec![Scheme::Ecdsa(Hash::Sha256)],
        PublicKey::Ec {
            curve: Curve::P384, ..
        } => vec![Scheme::Ecdsa(Hash::Sha384), Scheme::Ecdsa(Hash::Sha256)],
        PublicKey::Ec {
            curve: Curve::P521, ..
        } => vec![Scheme::Ecdsa(Hash::Sha512), Scheme::Ecdsa(Hash::Sha256)],
        PublicKey::Rsa { .. } => vec![Scheme::RsaPkcs1(Hash::Sha256)],
        PublicKey::Ed25519(_) if dsse => vec![Scheme::Ed25519],
        PublicKey::Ed25519(_) => vec![Scheme::Ed25519ph],
        PublicKey::Other(_) => Vec::new(),
    }
}

/// A configured key's schemes: its `hash` setting, then the defaults.
pub(crate) fn key_schemes(key: &CosignKey, dsse: bool) -> Vec<Scheme> {
    let h = |k: KeyHash| match k {
        KeyHash::Sha384 => Hash::Sha384,
        KeyHash::Sha512 => Hash::Sha512,
        KeyHash::Sha256 | KeyHash::Ed25519ph => Hash::Sha256,
    };
    let mut out = match (&key.key, key.hash) {
        (PublicKey::Ec { .. }, k) => vec![Scheme::Ecdsa(h(k))],
        (PublicKey::Rsa { .. }, k) => vec![Scheme::RsaPkcs1(h(k)), Scheme::RsaPss(h(k))],
        (PublicKey::Ed25519(_), KeyHash::Ed25519ph) => vec![Scheme::Ed25519ph],
        (PublicKey::Ed25519(_), _) => vec![Scheme::Ed25519],
        (PublicKey::Other(_), _) => Vec::new(),
    };
    for s in certificate_schemes(&key.key, dsse) {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

fn ecdsa(curve: Curve, hash: Hash) -> Option<&'static dyn VerificationAlgorithm> {
    Some(match (curve, hash) {
        (Curve::P256, Hash::Sha256) => &sig::ECDSA_P256_SHA256_ASN1,
        (Curve::P256, Hash::Sha384) => &sig::ECDSA_P256_SHA384_ASN1,
        (Curve::P256, Hash::Sha512) => &sig::ECDSA_P256_SHA512_ASN1,
        (Curve::P384, Hash::Sha256) => &sig::ECDSA_P384_SHA256_ASN1,
        (Curve::P384, Hash::Sha384) => &sig::ECDSA_P384_SHA384_ASN1,
        (Curve::P384, Hash::Sha512) => &sig::ECDSA_P384_SHA512_ASN1,
        (Curve::P521, Hash::Sha256) => &sig::ECDSA_P521_SHA256_ASN1,
        (Curve::P521, Hash::Sha384) => &sig::ECDSA_P521_SHA384_ASN1,
        (Curve::P521, Hash::Sha512) => &sig::ECDSA_P521_SHA512_ASN1,
        (_, Hash::Sha1) => return None,
    })
}

/// The aws-lc-rs algorithm and key bytes of `scheme` with `key`.
fn algorithm(
    key: &PublicKey,
    scheme: Scheme,
) -> Option<(&'static dyn VerificationAlgorithm, &[u8])> {
    match (key, scheme) {
        (PublicKey::Ec { curve, point }, Scheme::Ecdsa(h)) => Some((ecdsa(*curve, h)?, point)),
        (PublicKey::Rsa { bits, pkcs1 }, Scheme::RsaPkcs1(h) | Scheme::RsaPss(h)) => {
            if *bits < MIN_RSA_BITS || *bits > MAX_RSA_BITS {
                return None;
            }
            let alg: &'static dyn VerificationAlgorithm = match (scheme, h) {
                (Scheme::RsaPkcs1(_), Hash::Sha256) => &sig::RSA_PKCS1_2048_8192_SHA256,
                (Scheme::RsaPkcs1(_), Hash::Sha384) => &sig::RSA_PKCS1_2048_8192_SHA384,
                (Scheme::RsaPkcs1(_), Hash::Sha512) => &sig::RSA_PKCS1_2048_8192_SHA512,
                (Scheme::RsaPss(_), Hash::Sha256) => &sig::RSA_PSS_2048_8192_SHA256,
                (Scheme::RsaPss(_), Hash::Sha384) => &sig::RSA_PSS_2048_8192_SHA384,
                (Scheme::RsaPss(_), Hash::Sha512) => &sig::RSA_PSS_2048_8192_SHA512,
                _ => return None,
            };
            Some((alg, pkcs1))
        }
        (PublicKey::Ed25519(k), Scheme::Ed25519) => Some((&sig::ED25519, k)),
        _ => None,
    }
}

/// `signature` verifies over `message` with `key` under `scheme`.
pub(crate) fn verify(key: &PublicKey, scheme: Scheme, message: &[u8], signature: &[u8]) -> bool {
    if let (PublicKey::Ed25519(k), Scheme::Ed25519ph) = (key, scheme) {
        return ed25519ph::verify(k, message, signature);
    }
    match algorithm(key, scheme) {
        Some((alg, bytes)) => UnparsedPublicKey::new(alg, bytes)
            .verify(message, signature)
            .is_ok(),
        None => false,
    }
}

/// `signature` verifies over the message whose `hash` digest is `digest`;
/// false when the scheme does not sign a digest of that hash (pure Ed25519
/// cannot be checked from a digest).
pub(crate) fn verify_prehashed(
    key: &PublicKey,
    scheme: Scheme,
    hash: Hash,
    digest: &[u8],
    signature: &[u8],
) -> bool {
    if scheme.hash() != Some(hash) {
        return false;
    }
    if let (PublicKey::Ed25519(k), Scheme::Ed25519ph) = (key, scheme) {
        return ed25519ph::verify_prehashed(k, digest, signature);
    }
    let Ok(d) = Digest::import_less_safe(digest, algorithm_of(hash)) else {
        return false;
    };
    match algorithm(key, scheme) {
        Some((alg, bytes)) => UnparsedPublicKey::new(alg, bytes)
            .verify_digest(&d, signature)
            .is_ok(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair};

    #[test]
    fn digests_verify_like_messages() {
        let rng = SystemRandom::new();
        let pair = EcdsaKeyPair::generate(&sig::ECDSA_P384_SHA384_ASN1_SIGNING).unwrap();
        let key = PublicKey::Ec {
            curve: Curve::P384,
            point: pair.public_key().as_ref().to_vec(),
        };
        let s = pair.sign(&rng, b"artifact").unwrap();
        let schemes = certificate_schemes(&key, false);
        assert_eq!(schemes[0], Scheme::Ecdsa(Hash::Sha384));
        assert!(verify(&key, schemes[0], b"artifact", s.as_ref()));
        assert!(!verify(&key, schemes[1], b"artifact", s.as_ref()));
        let d = digest(Hash::Sha384, b"artifact");
        assert!(verify_prehashed(
            &key,
            schemes[0],
            Hash::Sha384,
            &d,
            s.as_ref()
        ));
        assert!(!verify_prehashed(
            &key,
            schemes[0],
            Hash::Sha256,
            &d[..32],
            s.as_ref()
        ));
        assert!(!verify_prehashed(
            &key,
            schemes[0],
            Hash::Sha384,
            &d[1..],
            s.as_ref()
        ));
        assert!(!verify_prehashed(
            &key,
            Scheme::Ed25519,
            Hash::Sha512,
            &digest(Hash::Sha512, b"artifact"),
            s.as_ref()
        ));
    }

    #[test]
    fn ed25519ph_from_a_digest() {
        let seed = [9u8; 32];
        let (public, s) = ed25519ph::sign(&seed, b"msg", true);
        let key = PublicKey::Ed25519(public.to_vec());
        assert!(verify(&key, Scheme::Ed25519ph, b"msg", &s));
        assert!(verify_prehashed(
            &key,
            Scheme::Ed25519ph,
            Hash::Sha512,
            &digest(Hash::Sha512, b"msg"),
            &s
        ));
        assert!(!verify(&key, Scheme::Ed25519, b"msg", &s));
    }
}
