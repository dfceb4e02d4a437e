//! Public keys of Cosign policies and the signature check of a legacy
//! signature: the signature is over the payload blob bytes, hashed with the
//! key's `hash` setting.
//!
//! | key | `hash` | check |
//! |---|---|---|
//! | ECDSA P-256/384/521 | sha256 (default), sha384, sha512 | ECDSA, ASN.1 DER signature, over the payload hashed so (`cosign verify` uses SHA-256 for every curve; Cosign ≥ 2.6 signs P-384 with SHA-384 and P-521 with SHA-512) |
//! | RSA ≥ 2048 bits | sha256 (default), sha384, sha512 | PKCS#1 v1.5 (what cosign signs and verifies), then RSASSA-PSS with MGF1 of the same hash and salt length = hash length |
//! | Ed25519 | sha256 (default) | pure Ed25519 over the payload |
//! | Ed25519 | ed25519ph | Ed25519ph (RFC 8032) over SHA-512(payload), what Cosign ≥ 2.6 signs with |
//!
//! Trying PSS after PKCS#1 v1.5 for an RSA key is sound: both are secure
//! signature schemes for the same key, their encoded messages cannot be
//! confused (PKCS#1 v1.5 has a fixed `00 01 FF…` prefix, PSS ends in `BC`
//! with a masked salt), and a forger would have to break one of them. cosign
//! itself only verifies PKCS#1 v1.5; some signers (sigstore-rs'
//! `RSA_PSS_SHA256`, KMS keys) write PSS.
//!
//! Combinations that make no sense (sha384 for an Ed25519 key, ed25519ph for
//! ECDSA or RSA, RSA under 2048 bits) are refused by [`CosignKey::new`], at
//! configuration time.

use aws_lc_rs::signature::{self as sig, UnparsedPublicKey, VerificationAlgorithm};
use pullgate_policy::cosign::KeyHash;

use super::ed25519ph;
use crate::keys::parse_public_keys;
use crate::x509::{Curve, PublicKey};

/// RSA keys smaller than this are refused.
pub const MIN_RSA_BITS: usize = 2048;
/// The largest RSA keys aws-lc-rs verifies with.
pub const MAX_RSA_BITS: usize = 8192;

/// One public key of a Cosign policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignKey {
    pub key: PublicKey,
    pub hash: KeyHash,
    /// Where the key came from, for messages (e.g. "provider cosign-keys,
    /// cosign.pub").
    pub source: String,
}

impl CosignKey {
    /// A key checked for use with `hash`: the error says why the pair cannot
    /// verify anything (unsupported type, RSA size, a hash that does not
    /// apply to the key type, a malformed key).
    pub fn new(key: PublicKey, hash: KeyHash, source: &str) -> Result<CosignKey, String> {
        let key = CosignKey {
            key,
            hash,
            source: source.to_string(),
        };
        key.check()?;
        Ok(key)
    }

    /// Every public key of a PEM text (one or more `PUBLIC KEY` blocks), each
    /// checked as [`CosignKey::new`] does. With several keys the source names
    /// each key's position.
    pub fn from_pem(pem: &[u8], hash: KeyHash, source: &str) -> Result<Vec<CosignKey>, String> {
        let keys = parse_public_keys(pem).map_err(|e| format!("{source}: {e}"))?;
        let several = keys.len() > 1;
        keys.into_iter()
            .enumerate()
            .map(|(i, k)| {
                let name = if several {
                    format!("{source} (key {})", i + 1)
                } else {
                    source.to_string()
                };
                CosignKey::new(k, hash, &name)
            })
            .collect()
    }

    fn check(&self) -> Result<(), String> {
        let src = &self.source;
        let hash = self.hash.as_str();
        match (&self.key, self.hash) {
            (PublicKey::Other(what), _) => {
                Err(format!("{src}: unsupported public key type {what}"))
            }
            (PublicKey::Rsa { bits, .. }, _) if *bits < MIN_RSA_BITS => Err(format!(
                "{src}: RSA key of {bits} bits is too small (at least {MIN_RSA_BITS} are required)"
            )),
            (PublicKey::Rsa { bits, .. }, _) if *bits > MAX_RSA_BITS => Err(format!(
                "{src}: RSA key of {bits} bits is too large (at most {MAX_RSA_BITS} are supported)"
            )),
            (PublicKey::Rsa { .. } | PublicKey::Ec { .. }, KeyHash::Ed25519ph) => Err(format!(
                "{src}: hash \"ed25519ph\" applies to Ed25519 keys only; use \"sha256\", \"sha384\" or \"sha512\""
            )),
            (PublicKey::Ed25519(_), KeyHash::Sha384 | KeyHash::Sha512) => Err(format!(
                "{src}: hash {hash:?} does not apply to an Ed25519 key; use \"sha256\" (pure Ed25519) or \"ed25519ph\""
            )),
            (PublicKey::Ed25519(k), KeyHash::Ed25519ph) => {
                if ed25519ph::valid_public_key(k) {
                    Ok(())
                } else {
                    Err(format!("{src}: invalid Ed25519 public key"))
                }
            }
            _ => {
                let (alg, bytes) = self.algorithms()?;
                UnparsedPublicKey::new(alg[0], bytes)
                    .parse()
                    .map(|_| ())
                    .map_err(|e| format!("{src}: invalid public key: {e}"))
            }
        }
    }

    fn kind(&self) -> String {
        match &self.key {
            PublicKey::Rsa { bits, .. } => format!("RSA-{bits}"),
            PublicKey::Ec { curve, .. } => format!("ECDSA P-{}", curve.bits()),
            PublicKey::Ed25519(_) => "Ed25519".into(),
            PublicKey::Other(what) => what.clone(),
        }
    }

    /// The aws-lc-rs algorithms to try, in order, with the key bytes.
    fn algorithms(&self) -> Result<(Vec<&'static dyn VerificationAlgorithm>, &[u8]), String> {
        let unsupported = || {
            Err(format!(
                "{}: {} keys cannot verify with hash {}",
                self.source,
                self.kind(),
                self.hash.as_str()
            ))
        };
        Ok(match (&self.key, self.hash) {
            (PublicKey::Ec { curve, point }, h) => {
                let alg: &'static dyn VerificationAlgorithm = match (curve, h) {
                    (Curve::P256, KeyHash::Sha256) => &sig::ECDSA_P256_SHA256_ASN1,
                    (Curve::P256, KeyHash::Sha384) => &sig::ECDSA_P256_SHA384_ASN1,
                    (Curve::P256, KeyHash::Sha512) => &sig::ECDSA_P256_SHA512_ASN1,
                    (Curve::P384, KeyHash::Sha256) => &sig::ECDSA_P384_SHA256_ASN1,
                    (Curve::P384, KeyHash::Sha384) => &sig::ECDSA_P384_SHA384_ASN1,
                    (Curve::P384, KeyHash::Sha512) => &sig::ECDSA_P384_SHA512_ASN1,
                    (Curve::P521, KeyHash::Sha256) => &sig::ECDSA_P521_SHA256_ASN1,
                    (Curve::P521, KeyHash::Sha384) => &sig::ECDSA_P521_SHA384_ASN1,
                    (Curve::P521, KeyHash::Sha512) => &sig::ECDSA_P521_SHA512_ASN1,
                    (_, KeyHash::Ed25519ph) => return unsupported(),
                };
                (vec![alg], point.as_slice())
            }
            (PublicKey::Rsa { pkcs1, .. }, h) => {
                let (pkcs, pss): (
                    &'static dyn VerificationAlgorithm,
                    &'static dyn VerificationAlgorithm,
                ) = match h {
                    KeyHash::Sha256 => (
                        &sig::RSA_PKCS1_2048_8192_SHA256,
                        &sig::RSA_PSS_2048_8192_SHA256,
                    ),
                    KeyHash::Sha384 => (
                        &sig::RSA_PKCS1_2048_8192_SHA384,
                        &sig::RSA_PSS_2048_8192_SHA384,
                    ),
                    KeyHash::Sha512 => (
                        &sig::RSA_PKCS1_2048_8192_SHA512,
                        &sig::RSA_PSS_2048_8192_SHA512,
                    ),
                    KeyHash::Ed25519ph => return unsupported(),
                };
                (vec![pkcs, pss], pkcs1.as_slice())
            }
            (PublicKey::Ed25519(k), KeyHash::Sha256) => (vec![&sig::ED25519], k.as_slice()),
            _ => return unsupported(),
        })
    }

    /// What the signature was checked as, for messages.
    fn scheme(&self) -> String {
        let hash = self.hash.as_str().to_uppercase().replace("SHA", "SHA-");
        match (&self.key, self.hash) {
            (PublicKey::Ed25519(_), KeyHash::Ed25519ph) => "Ed25519ph".into(),
            (PublicKey::Ed25519(_), _) => "Ed25519".into(),
            (PublicKey::Rsa { .. }, _) => format!("RSA PKCS#1 v1.5 or PSS, {hash}"),
            _ => format!("{}, {hash}", self.kind()),
        }
    }
}

/// Verifies `signature` (raw bytes, already base64-decoded) over `payload`
/// with `key`; the error is a sentence naming the key.
pub fn verify_signature(key: &CosignKey, payload: &[u8], signature: &[u8]) -> Result<(), String> {
    key.check()?;
    let ok = match (&key.key, key.hash) {
        (PublicKey::Ed25519(k), KeyHash::Ed25519ph) => ed25519ph::verify(k, payload, signature),
        _ => {
            let (algs, bytes) = key.algorithms()?;
            algs.iter().any(|alg| {
                UnparsedPublicKey::new(*alg, bytes)
                    .verify(payload, signature)
                    .is_ok()
            })
        }
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "signature does not verify with key {} ({})",
            key.source,
            key.scheme()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::rsa::KeySize;
    use aws_lc_rs::signature::{EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};

    fn pem(spki_der: &[u8]) -> Vec<u8> {
        let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, spki_der);
        format!("-----BEGIN PUBLIC KEY-----\n{b64}\n-----END PUBLIC KEY-----\n").into_bytes()
    }

    fn key(spki_der: &[u8], hash: KeyHash) -> CosignKey {
        CosignKey::from_pem(&pem(spki_der), hash, "test key")
            .unwrap()
            .remove(0)
    }

    const MSG: &[u8] = b"{\"critical\":{}}";

    #[test]
    fn ecdsa_with_every_hash_setting() {
        let rng = SystemRandom::new();
        for (signing, hash) in [
            (&sig::ECDSA_P256_SHA256_ASN1_SIGNING, KeyHash::Sha256),
            (&sig::ECDSA_P384_SHA384_ASN1_SIGNING, KeyHash::Sha384),
            (&sig::ECDSA_P521_SHA256_ASN1_SIGNING, KeyHash::Sha256),
            (&sig::ECDSA_P521_SHA512_ASN1_SIGNING, KeyHash::Sha512),
        ] {
            let pair = EcdsaKeyPair::generate(signing).unwrap();
            let der = pair.public_key().as_der().unwrap();
            let signature = pair.sign(&rng, MSG).unwrap();
            let k = key(der.as_ref(), hash);
            verify_signature(&k, MSG, signature.as_ref()).unwrap();
            assert!(verify_signature(&k, b"other", signature.as_ref()).is_err());
            // the hash setting matters
            let other = if hash == KeyHash::Sha256 {
                KeyHash::Sha384
            } else {
                KeyHash::Sha256
            };
            let wrong = key(der.as_ref(), other);
            let e = verify_signature(&wrong, MSG, signature.as_ref()).unwrap_err();
            assert!(
                e.contains("does not verify with key test key (ECDSA P-"),
                "{e}"
            );
            assert!(CosignKey::new(k.key.clone(), KeyHash::Ed25519ph, "k").is_err());
        }
    }

    #[test]
    fn rsa_pkcs1_and_pss() {
        let rng = SystemRandom::new();
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let der = pair.public_key().as_der().unwrap();
        for (hash, encodings) in [
            (
                KeyHash::Sha256,
                [&sig::RSA_PKCS1_SHA256, &sig::RSA_PSS_SHA256],
            ),
            (
                KeyHash::Sha512,
                [&sig::RSA_PKCS1_SHA512, &sig::RSA_PSS_SHA512],
            ),
        ] {
            let k = key(der.as_ref(), hash);
            for enc in encodings {
                let mut s = vec![0u8; pair.public_modulus_len()];
                pair.sign(enc, &rng, MSG, &mut s).unwrap();
                verify_signature(&k, MSG, &s).unwrap();
                let e = verify_signature(&k, b"x", &s).unwrap_err();
                assert!(e.contains("RSA PKCS#1 v1.5 or PSS"), "{e}");
            }
        }
        let e = CosignKey::from_pem(&pem(der.as_ref()), KeyHash::Ed25519ph, "k").unwrap_err();
        assert!(e.contains("Ed25519 keys only"), "{e}");
    }

    #[test]
    fn small_rsa_keys_are_refused() {
        // a 1024-bit RSA public key
        let small = "-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQD2K2j1bQ5K1RpZSR/h3rza7Ick
8V2jFZWLNyJeZbM0rmWhG1aHJ8Nec/ZRSncTj9NFwvnFVM4wQJ0gVvhbIeDDp2vN
6dJ1CCj4deGJiOVZM8Hj01ecsuIgXYzVcG/ocxTIVgCoTFjoiCCt72Dt9GbwSUZA
BZIwUNPm03Sn6iHuIQIDAQAB
-----END PUBLIC KEY-----
";
        match CosignKey::from_pem(small.as_bytes(), KeyHash::Sha256, "old.pub") {
            Err(e) => assert!(
                e.contains("old.pub: RSA key of 1024 bits is too small"),
                "{e}"
            ),
            Ok(_) => panic!("a 1024-bit key was accepted"),
        }
    }

    #[test]
    fn ed25519_pure_and_prehashed() {
        let seed = [7u8; 32];
        let pair = Ed25519KeyPair::from_seed_unchecked(&seed).unwrap();
        let der = pair.public_key().as_der().unwrap();
        let pure = key(der.as_ref(), KeyHash::Sha256);
        let ph = key(der.as_ref(), KeyHash::Ed25519ph);
        let s = pair.sign(MSG);
        verify_signature(&pure, MSG, s.as_ref()).unwrap();
        assert!(verify_signature(&ph, MSG, s.as_ref()).is_err());
        let (_, s_ph) = ed25519ph::sign(&seed, MSG, true);
        verify_signature(&ph, MSG, &s_ph).unwrap();
        let e = verify_signature(&pure, MSG, &s_ph).unwrap_err();
        assert!(e.contains("(Ed25519)"), "{e}");
        let e = verify_signature(&ph, b"x", &s_ph).unwrap_err();
        assert!(e.contains("(Ed25519ph)"), "{e}");
        for h in [KeyHash::Sha384, KeyHash::Sha512] {
            let e = CosignKey::new(pure.key.clone(), h, "ed.pub").unwrap_err();
            assert!(e.contains("does not apply to an Ed25519 key"), "{e}");
        }
    }

    #[test]
    fn unusable_keys_fail_at_construction_and_at_verification() {
        let other = PublicKey::Other("1.2.3".into());
        assert!(CosignKey::new(other.clone(), KeyHash::Sha256, "k").is_err());
        let built = CosignKey {
            key: other,
            hash: KeyHash::Sha256,
            source: "k".into(),
        };
        assert!(verify_signature(&built, MSG, b"sig").is_err());
        let bad_point = PublicKey::Ec {
            curve: Curve::P256,
            point: vec![4; 65],
        };
        let e = CosignKey::new(bad_point, KeyHash::Sha256, "k").unwrap_err();
        assert!(e.contains("invalid public key"), "{e}");
        let bad_ed = PublicKey::Ed25519(vec![1; 31]);
        assert!(CosignKey::new(bad_ed.clone(), KeyHash::Sha256, "k").is_err());
        assert!(CosignKey::new(bad_ed, KeyHash::Ed25519ph, "k").is_err());
    }

    #[test]
    fn several_keys_in_one_pem_are_named_by_position() {
        let a = EcdsaKeyPair::generate(&sig::ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
        let b = EcdsaKeyPair::generate(&sig::ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
        let mut both = pem(a.public_key().as_der().unwrap().as_ref());
        both.extend(pem(b.public_key().as_der().unwrap().as_ref()));
        let keys = CosignKey::from_pem(&both, KeyHash::Sha256, "keys.pem").unwrap();
        let names: Vec<&str> = keys.iter().map(|k| k.source.as_str()).collect();
        assert_eq!(names, ["keys.pem (key 1)", "keys.pem (key 2)"]);
    }
}
