//! RSASSA-PSS verification with the salt length read from the signature
//! (Go's `rsa.PSSSaltLengthAuto`, RFC 8017 §9.1.2 EMSA-PSS-VERIFY), for JWS
//! signatures whose salt is not the hash length. Only reached after the
//! hash-length check with aws-lc-rs has failed.

use der::Decode;
use der::asn1::UintRef;
use num_bigint::BigUint;
use sha2::{Sha256, Sha384, Sha512};

use super::algorithm::Algorithm;

fn hash(alg: Algorithm, parts: &[&[u8]]) -> Vec<u8> {
    fn run<D: sha2::Digest>(parts: &[&[u8]]) -> Vec<u8> {
        let mut h = D::new();
        for p in parts {
            h.update(p);
        }
        h.finalize().to_vec()
    }
    match alg.hash_len() {
        32 => run::<Sha256>(parts),
        48 => run::<Sha384>(parts),
        _ => run::<Sha512>(parts),
    }
}

fn mgf1(alg: Algorithm, seed: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 64);
    let mut counter: u32 = 0;
    while out.len() < len {
        out.extend(hash(alg, &[seed, &counter.to_be_bytes()]));
        counter += 1;
    }
    out.truncate(len);
    out
}

pub(crate) fn verify_any_salt(
    alg: Algorithm,
    pkcs1: &[u8],
    message: &[u8],
    signature: &[u8],
) -> bool {
    #[derive(der::Sequence)]
    struct RsaPublicKey<'a> {
        modulus: UintRef<'a>,
        public_exponent: UintRef<'a>,
    }
    let Ok(key) = RsaPublicKey::from_der(pkcs1) else {
        return false;
    };
    let n = BigUint::from_bytes_be(key.modulus.as_bytes());
    let e = BigUint::from_bytes_be(key.public_exponent.as_bytes());
    let k = key.modulus.as_bytes().len();
    if signature.len() != k || n.bits() < 2048 || n.bits() > 8192 {
        return false;
    }
    let s = BigUint::from_bytes_be(signature);
    if s >= n {
        return false;
    }
    let m = s.modpow(&e, &n).to_bytes_be();
    let em_bits = (n.bits() - 1) as usize;
    let em_len = em_bits.div_ceil(8);
    if m.len() > em_len {
        return false;
    }
    let mut em = vec![0u8; em_len - m.len()];
    em.extend_from_slice(&m);
    emsa_pss_verify(alg, message, &em, em_bits)
}

fn emsa_pss_verify(alg: Algorithm, message: &[u8], em: &[u8], em_bits: usize) -> bool {
    let h_len = alg.hash_len();
    let em_len = em.len();
    if em_len < h_len + 2 || em.last() != Some(&0xbc) {
        return false;
    }
    let m_hash = hash(alg, &[message]);
    let (masked_db, rest) = em.split_at(em_len - h_len - 1);
    let h = &rest[..h_len];
    let unused = 8 * em_len - em_bits;
    let top_mask = if unused == 0 {
        0
    } else {
        0xffu8 << (8 - unused)
    };
    if masked_db.first().is_some_and(|b| b & top_mask != 0) {
        return false;
    }
    let mask = mgf1(alg, h, masked_db.len());
    let mut db: Vec<u8> = masked_db.iter().zip(mask).map(|(a, b)| a ^ b).collect();
    if let Some(first) = db.first_mut() {
        *first &= !top_mask;
    }
    let Some(sep) = db.iter().position(|b| *b != 0) else {
        return false;
    };
    if db[sep] != 0x01 {
        return false;
    }
    let salt = &db[sep + 1..];
    let h2 = hash(alg, &[&[0u8; 8], &m_hash, salt]);
    h2 == h
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::rsa::{KeyPair, KeySize};
    use aws_lc_rs::signature::KeyPair as _;

    /// RSASSA-PSS signing with any salt length, from the raw private key
    /// (aws-lc-rs only signs with salt = hash length).
    fn sign_with_salt(key: &KeyPair, alg: Algorithm, message: &[u8], salt: &[u8]) -> Vec<u8> {
        use crate::x509::der_walk::{children, read_tlv};
        use aws_lc_rs::encoding::AsDer;
        // PKCS#8 → RSAPrivateKey → (version, n, e, d, …)
        let pkcs8 = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(key).unwrap();
        let (outer, _) = read_tlv(pkcs8.as_ref()).unwrap();
        let fields = children(outer.contents).unwrap();
        let (rsa, _) = read_tlv(fields[2].contents).unwrap();
        let ints = children(rsa.contents).unwrap();
        let n = BigUint::from_bytes_be(ints[1].contents);
        let d = BigUint::from_bytes_be(ints[3].contents);
        let k = ints[1].contents.iter().skip_while(|b| **b == 0).count();
        let em_bits = (n.bits() - 1) as usize;
        let em_len = em_bits.div_ceil(8);
        let h_len = alg.hash_len();
        let m_hash = hash(alg, &[message]);
        let h = hash(alg, &[&[0u8; 8], &m_hash, salt]);
        let mut db = vec![0u8; em_len - salt.len() - h_len - 2];
        db.push(0x01);
        db.extend_from_slice(salt);
        let mask = mgf1(alg, &h, db.len());
        let mut masked: Vec<u8> = db.iter().zip(mask).map(|(a, b)| a ^ b).collect();
        masked[0] &= 0xff >> (8 * em_len - em_bits);
        let mut em = masked;
        em.extend_from_slice(&h);
        em.push(0xbc);
        let s = BigUint::from_bytes_be(&em).modpow(&d, &n).to_bytes_be();
        let mut out = vec![0u8; k - s.len()];
        out.extend_from_slice(&s);
        out
    }

    #[test]
    fn any_salt_length_verifies_and_tampering_does_not() {
        let key = KeyPair::generate(KeySize::Rsa2048).unwrap();
        let public = key.public_key().as_ref().to_vec();
        for (alg, salts) in [
            (Algorithm::Ps256, [0usize, 20, 32, 64]),
            (Algorithm::Ps384, [0, 16, 48, 100]),
        ] {
            for len in salts {
                let salt: Vec<u8> = (0..len).map(|i| i as u8).collect();
                let sig = sign_with_salt(&key, alg, b"signing input", &salt);
                assert!(
                    verify_any_salt(alg, &public, b"signing input", &sig),
                    "{alg:?} salt {len}"
                );
                assert!(
                    !verify_any_salt(alg, &public, b"other input", &sig),
                    "{alg:?} salt {len}"
                );
                let mut bad = sig.clone();
                bad[10] ^= 1;
                assert!(!verify_any_salt(alg, &public, b"signing input", &bad));
            }
        }
        // Through the envelope algorithm check: JWS accepts what COSE refuses.
        let sig = sign_with_salt(&key, Algorithm::Ps256, b"x", &[7u8; 5]);
        let pk = crate::x509::PublicKey::Rsa {
            bits: 2048,
            pkcs1: public,
        };
        use super::super::algorithm::{PssSalt, verify};
        assert!(verify(Algorithm::Ps256, &pk, b"x", &sig, PssSalt::Auto));
        assert!(!verify(
            Algorithm::Ps256,
            &pk,
            b"x",
            &sig,
            PssSalt::HashLength
        ));
    }
}
