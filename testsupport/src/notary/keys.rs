//! Signing keys for test certificates and envelopes, and the signature
//! algorithms notation derives from them.
//!
//! RSA key generation is slow, so keys are cached process-wide by kind and
//! *slot*: [`TestKey::shared`]`(kind, slot)` generates the key once and hands
//! the same key to every later caller. Certificates of one chain use
//! different slots so that no two of them share a key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self as sig, EcdsaKeyPair, Ed25519KeyPair, RsaKeyPair};
use rcgen::{KeyPair, PKCS_ECDSA_P256_SHA256, PKCS_ECDSA_P384_SHA384, PKCS_ECDSA_P521_SHA512};
use rcgen::{PKCS_ED25519, PublicKeyData as _};

/// The key types a test certificate can carry. The first six are the ones
/// notation accepts; `Rsa8192` and `Ed25519` exist for negative tests
/// (aws-lc-rs cannot make or use RSA keys under 2048 bits, so no `Rsa1024`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    Rsa2048,
    Rsa3072,
    Rsa4096,
    /// Unsupported by notation (key size); slow to generate.
    Rsa8192,
    EcP256,
    EcP384,
    EcP521,
    /// Unsupported by notation (key type).
    Ed25519,
}

impl KeyKind {
    /// The six kinds notation signs and verifies with.
    pub const SUPPORTED: [KeyKind; 6] = [
        KeyKind::Rsa2048,
        KeyKind::Rsa3072,
        KeyKind::Rsa4096,
        KeyKind::EcP256,
        KeyKind::EcP384,
        KeyKind::EcP521,
    ];

    /// The signature algorithm notation derives from a key of this kind
    /// (signature-specification.md "Algorithm Selection"); `None` for kinds
    /// notation rejects.
    pub fn notation_algorithm(self) -> Option<Algorithm> {
        match self {
            KeyKind::Rsa2048 => Some(Algorithm::Ps256),
            KeyKind::Rsa3072 => Some(Algorithm::Ps384),
            KeyKind::Rsa4096 => Some(Algorithm::Ps512),
            KeyKind::EcP256 => Some(Algorithm::Es256),
            KeyKind::EcP384 => Some(Algorithm::Es384),
            KeyKind::EcP521 => Some(Algorithm::Es512),
            KeyKind::Rsa8192 | KeyKind::Ed25519 => None,
        }
    }

    /// The algorithm this test signer uses by default: notation's, else
    /// PS512 for `Rsa8192` and EdDSA for `Ed25519`.
    pub fn default_algorithm(self) -> Algorithm {
        match self {
            KeyKind::Rsa8192 => Algorithm::Ps512,
            KeyKind::Ed25519 => Algorithm::EdDsa,
            k => k.notation_algorithm().unwrap_or(Algorithm::Ps256),
        }
    }

    /// Key size in bits (RSA modulus or curve size; 256 for Ed25519).
    pub fn bits(self) -> usize {
        match self {
            KeyKind::Rsa2048 => 2048,
            KeyKind::Rsa3072 => 3072,
            KeyKind::Rsa4096 => 4096,
            KeyKind::Rsa8192 => 8192,
            KeyKind::EcP256 | KeyKind::Ed25519 => 256,
            KeyKind::EcP384 => 384,
            KeyKind::EcP521 => 521,
        }
    }

    pub fn is_rsa(self) -> bool {
        matches!(
            self,
            KeyKind::Rsa2048 | KeyKind::Rsa3072 | KeyKind::Rsa4096 | KeyKind::Rsa8192
        )
    }
}

/// A signature algorithm of the envelope (`alg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// RSASSA-PSS, SHA-256, MGF1 SHA-256, salt 32.
    Ps256,
    Ps384,
    Ps512,
    /// ECDSA, SHA-256, raw `r||s`.
    Es256,
    Es384,
    Es512,
    /// Ed25519; not a notation algorithm (negative tests only).
    EdDsa,
}

impl Algorithm {
    /// The JWS `alg` name.
    pub fn jws_name(self) -> &'static str {
        match self {
            Algorithm::Ps256 => "PS256",
            Algorithm::Ps384 => "PS384",
            Algorithm::Ps512 => "PS512",
            Algorithm::Es256 => "ES256",
            Algorithm::Es384 => "ES384",
            Algorithm::Es512 => "ES512",
            Algorithm::EdDsa => "EdDSA",
        }
    }

    /// The COSE algorithm identifier (IANA "COSE Algorithms").
    pub fn cose_id(self) -> i64 {
        match self {
            Algorithm::Ps256 => -37,
            Algorithm::Ps384 => -38,
            Algorithm::Ps512 => -39,
            Algorithm::Es256 => -7,
            Algorithm::Es384 => -35,
            Algorithm::Es512 => -36,
            Algorithm::EdDsa => -8,
        }
    }
}

/// A private key: an rcgen `KeyPair` (certificates), whose PKCS#8 DER
/// aws-lc-rs loads to sign envelopes.
#[derive(Debug)]
pub struct TestKey {
    kind: KeyKind,
    pair: KeyPair,
}

type Cell = Arc<OnceLock<Arc<TestKey>>>;

impl TestKey {
    /// A freshly generated key (not cached).
    pub fn generate(kind: KeyKind) -> TestKey {
        let pair = match kind {
            KeyKind::Rsa2048 => rsa(KeySize::Rsa2048),
            KeyKind::Rsa3072 => rsa(KeySize::Rsa3072),
            KeyKind::Rsa4096 => rsa(KeySize::Rsa4096),
            KeyKind::Rsa8192 => rsa(KeySize::Rsa8192),
            KeyKind::EcP256 => KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap(),
            KeyKind::EcP384 => KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384).unwrap(),
            KeyKind::EcP521 => KeyPair::generate_for(&PKCS_ECDSA_P521_SHA512).unwrap(),
            KeyKind::Ed25519 => KeyPair::generate_for(&PKCS_ED25519).unwrap(),
        };
        TestKey { kind, pair }
    }

    /// A key read from a PKCS#8 PEM (`PRIVATE KEY`), e.g. a test vector's;
    /// its kind is derived from the key (RSA modulus size or curve).
    ///
    /// # Panics
    /// When the PEM is not a PKCS#8 key of a [`KeyKind`].
    pub fn from_pkcs8_pem(pem: &str) -> TestKey {
        let pair = KeyPair::from_pem(pem).expect("a PKCS#8 PEM private key");
        let der = pair.serialize_der();
        let kind = if let Ok(rsa) = RsaKeyPair::from_pkcs8(&der) {
            match rsa.public_modulus_len() * 8 {
                2048 => KeyKind::Rsa2048,
                3072 => KeyKind::Rsa3072,
                4096 => KeyKind::Rsa4096,
                8192 => KeyKind::Rsa8192,
                bits => panic!("unsupported RSA key size {bits}"),
            }
        } else if pair.algorithm() == &PKCS_ECDSA_P256_SHA256 {
            KeyKind::EcP256
        } else if pair.algorithm() == &PKCS_ECDSA_P384_SHA384 {
            KeyKind::EcP384
        } else if pair.algorithm() == &PKCS_ECDSA_P521_SHA512 {
            KeyKind::EcP521
        } else if pair.algorithm() == &PKCS_ED25519 {
            KeyKind::Ed25519
        } else {
            panic!("unsupported key algorithm {:?}", pair.algorithm())
        };
        TestKey { kind, pair }
    }

    /// The process-wide key of `kind` in `slot`, generated on first use.
    /// Different threads asking for different slots generate in parallel.
    pub fn shared(kind: KeyKind, slot: usize) -> Arc<TestKey> {
        static CELLS: OnceLock<Mutex<HashMap<(KeyKind, usize), Cell>>> = OnceLock::new();
        let cell = {
            let mut cells = CELLS.get_or_init(Mutex::default).lock().unwrap();
            Arc::clone(cells.entry((kind, slot)).or_default())
        };
        Arc::clone(cell.get_or_init(|| Arc::new(TestKey::generate(kind))))
    }

    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The rcgen key pair (certificate signing).
    pub fn rcgen(&self) -> &KeyPair {
        &self.pair
    }

    /// The private key as PKCS#8 DER.
    pub fn pkcs8_der(&self) -> Vec<u8> {
        self.pair.serialize_der()
    }

    /// The private key as PKCS#8 PEM (`PRIVATE KEY`).
    pub fn pkcs8_pem(&self) -> String {
        self.pair.serialize_pem()
    }

    /// The SubjectPublicKeyInfo DER.
    pub fn spki_der(&self) -> Vec<u8> {
        self.pair.subject_public_key_info()
    }

    /// Signs `msg` with `alg` when this key can (RSA keys: any PS*; P-521:
    /// ES256/384/512; other curves: their own ES*; Ed25519: EdDSA), else
    /// with [`KeyKind::default_algorithm`]. Returns the signature (PSS salt =
    /// hash length; ECDSA as fixed-width `r||s`) and the algorithm used.
    pub fn sign(&self, alg: Algorithm, msg: &[u8]) -> (Vec<u8>, Algorithm) {
        let alg = if self.can_sign(alg) {
            alg
        } else {
            self.kind.default_algorithm()
        };
        let der = self.pkcs8_der();
        let rng = SystemRandom::new();
        let signature = match alg {
            Algorithm::Ps256 | Algorithm::Ps384 | Algorithm::Ps512 => {
                let key = RsaKeyPair::from_pkcs8(&der).unwrap();
                let mut out = vec![0; key.public_modulus_len()];
                key.sign(pss_encoding(alg), &rng, msg, &mut out).unwrap();
                out
            }
            Algorithm::EdDsa => Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
                .unwrap()
                .sign(msg)
                .as_ref()
                .to_vec(),
            es => {
                let key = EcdsaKeyPair::from_pkcs8(self.ecdsa_signing(es), &der).unwrap();
                key.sign(&rng, msg).unwrap().as_ref().to_vec()
            }
        };
        (signature, alg)
    }

    /// The raw public key aws-lc-rs verifies with (PKCS#1 RSAPublicKey for
    /// RSA, the uncompressed point for EC, 32 bytes for Ed25519).
    pub fn public_key_raw(&self) -> Vec<u8> {
        self.pair.public_key_raw().to_vec()
    }

    fn can_sign(&self, alg: Algorithm) -> bool {
        use Algorithm::*;
        match self.kind {
            k if k.is_rsa() => matches!(alg, Ps256 | Ps384 | Ps512),
            KeyKind::EcP256 => alg == Es256,
            KeyKind::EcP384 => alg == Es384,
            KeyKind::EcP521 => matches!(alg, Es256 | Es384 | Es512),
            _ => alg == EdDsa,
        }
    }

    fn ecdsa_signing(&self, alg: Algorithm) -> &'static sig::EcdsaSigningAlgorithm {
        match (self.kind, alg) {
            (KeyKind::EcP256, _) => &sig::ECDSA_P256_SHA256_FIXED_SIGNING,
            (KeyKind::EcP384, _) => &sig::ECDSA_P384_SHA384_FIXED_SIGNING,
            (_, Algorithm::Es256) => &sig::ECDSA_P521_SHA256_FIXED_SIGNING,
            (_, Algorithm::Es384) => &sig::ECDSA_P521_SHA384_FIXED_SIGNING,
            _ => &sig::ECDSA_P521_SHA512_FIXED_SIGNING,
        }
    }
}

/// The aws-lc-rs verification algorithm for signatures made by `kind` with
/// `alg` (as [`TestKey::sign`] makes them), for tests.
pub fn verification_algorithm(
    kind: KeyKind,
    alg: Algorithm,
) -> &'static dyn sig::VerificationAlgorithm {
    match (kind, alg) {
        (_, Algorithm::Ps256) => &sig::RSA_PSS_2048_8192_SHA256,
        (_, Algorithm::Ps384) => &sig::RSA_PSS_2048_8192_SHA384,
        (_, Algorithm::Ps512) => &sig::RSA_PSS_2048_8192_SHA512,
        (_, Algorithm::EdDsa) => &sig::ED25519,
        (KeyKind::EcP256, _) => &sig::ECDSA_P256_SHA256_FIXED,
        (KeyKind::EcP384, _) => &sig::ECDSA_P384_SHA384_FIXED,
        (_, Algorithm::Es256) => &sig::ECDSA_P521_SHA256_FIXED,
        (_, Algorithm::Es384) => &sig::ECDSA_P521_SHA384_FIXED,
        _ => &sig::ECDSA_P521_SHA512_FIXED,
    }
}

fn pss_encoding(alg: Algorithm) -> &'static dyn sig::RsaEncoding {
    match alg {
        Algorithm::Ps384 => &sig::RSA_PSS_SHA384,
        Algorithm::Ps512 => &sig::RSA_PSS_SHA512,
        _ => &sig::RSA_PSS_SHA256,
    }
}

/// An RSA key generated by aws-lc-rs (rcgen cannot make 8192-bit keys),
/// loaded into rcgen, which signs certificates with sha256WithRSAEncryption
/// for every RSA size.
fn rsa(size: KeySize) -> KeyPair {
    use aws_lc_rs::encoding::AsDer as _;
    let key = RsaKeyPair::generate(size).unwrap();
    let der = key.as_der().unwrap();
    KeyPair::try_from(der.as_ref()).unwrap()
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::signature::UnparsedPublicKey;

    use super::*;

    fn verifies(key: &TestKey, alg: Algorithm, msg: &[u8], signature: &[u8]) -> bool {
        let pk = key.public_key_raw();
        UnparsedPublicKey::new(verification_algorithm(key.kind(), alg), &pk)
            .verify(msg, signature)
            .is_ok()
    }

    #[test]
    fn every_supported_kind_signs_with_notations_algorithm() {
        for kind in KeyKind::SUPPORTED {
            let key = TestKey::shared(kind, 0);
            let alg = kind.notation_algorithm().unwrap();
            let (s, used) = key.sign(alg, b"hello");
            assert_eq!(used, alg);
            assert!(verifies(&key, alg, b"hello", &s), "{kind:?}");
            assert!(!verifies(&key, alg, b"hellO", &s), "{kind:?}");
            let want_len = match kind {
                KeyKind::EcP256 => 64,
                KeyKind::EcP384 => 96,
                KeyKind::EcP521 => 132,
                k => k.bits() / 8,
            };
            assert_eq!(s.len(), want_len, "{kind:?}");
        }
    }

    #[test]
    fn keys_read_from_pem_sign_like_generated_ones() {
        let generated = TestKey::shared(KeyKind::EcP256, 3);
        let read = TestKey::from_pkcs8_pem(&generated.pkcs8_pem());
        assert_eq!(read.kind(), KeyKind::EcP256);
        assert_eq!(read.spki_der(), generated.spki_der());
        let rsa = TestKey::shared(KeyKind::Rsa2048, 0);
        let read = TestKey::from_pkcs8_pem(&rsa.pkcs8_pem());
        assert_eq!(read.kind(), KeyKind::Rsa2048);
        let (s, alg) = read.sign(Algorithm::Ps256, b"m");
        assert!(verifies(&rsa, alg, b"m", &s));
    }

    #[test]
    fn shared_keys_are_cached_per_slot() {
        let a = TestKey::shared(KeyKind::EcP256, 7);
        let b = TestKey::shared(KeyKind::EcP256, 7);
        let c = TestKey::shared(KeyKind::EcP256, 8);
        assert!(Arc::ptr_eq(&a, &b));
        assert_ne!(a.spki_der(), c.spki_der());
    }

    #[test]
    fn mismatched_algorithms_fall_back_or_follow_the_request() {
        let rsa = TestKey::shared(KeyKind::Rsa2048, 0);
        let (s, used) = rsa.sign(Algorithm::Ps512, b"m");
        assert_eq!(used, Algorithm::Ps512);
        assert!(verifies(&rsa, Algorithm::Ps512, b"m", &s));
        assert_eq!(rsa.sign(Algorithm::Es256, b"m").1, Algorithm::Ps256);
        let p521 = TestKey::shared(KeyKind::EcP521, 0);
        let (s, used) = p521.sign(Algorithm::Es256, b"m");
        assert_eq!(used, Algorithm::Es256);
        assert!(verifies(&p521, Algorithm::Es256, b"m", &s));
        let ed = TestKey::shared(KeyKind::Ed25519, 0);
        let (s, used) = ed.sign(Algorithm::Ps256, b"m");
        assert_eq!(used, Algorithm::EdDsa);
        assert!(verifies(&ed, Algorithm::EdDsa, b"m", &s));
    }

    #[test]
    fn unsupported_kinds_still_sign_for_negative_tests() {
        // RSA-8192 generation takes a few seconds, once per process.
        for (kind, alg, len) in [
            (KeyKind::Rsa8192, Algorithm::Ps512, 1024),
            (KeyKind::Ed25519, Algorithm::EdDsa, 64),
        ] {
            assert_eq!(kind.notation_algorithm(), None);
            let key = TestKey::shared(kind, 0);
            let (s, used) = key.sign(kind.default_algorithm(), b"m");
            assert_eq!((used, s.len()), (alg, len));
            assert!(verifies(&key, alg, b"m", &s), "{kind:?}");
        }
    }
}
