//! Ed25519ph verification (RFC 8032 §5.1, `phflag = 1`, empty context), what
//! Cosign ≥ 2.6 signs with for Ed25519 keys: the signature is over
//! SHA-512(message), with the `dom2` prefix in the challenge hash.
//!
//! aws-lc-rs 1.19 exposes only pure Ed25519 (aws-lc's `ED25519ph_verify` is
//! not wrapped, and calling it would take `unsafe` code, which this
//! workspace forbids), so the group arithmetic is written here on
//! `num-bigint`. It is verification only: every input is public, so constant
//! time does not matter, and speed is a few milliseconds per signature.
//!
//! The checks are Go's `crypto/ed25519.VerifyWithOptions` (which Cosign
//! uses), cofactorless: the public key must decode to a curve point, `S` must
//! be below the group order `L`, and the encoding of `[S]B - [k]A` must equal
//! the signature's `R` bytes, where
//! `k = SHA-512(dom2(1, "") ‖ R ‖ A ‖ SHA-512(message)) mod L`. One
//! difference: a public key whose `y` is not below `p` (a non-canonical
//! encoding, which no key generator produces) is refused here, while Go
//! accepts it as the point it reduces to.
//!
//! The same code verifies pure Ed25519 when the prefix is empty and the
//! message is not pre-hashed; the tests check it against aws-lc-rs that way,
//! and against RFC 8032's Ed25519ph test vector.

use std::sync::LazyLock;

use num_bigint::BigUint;
use sha2::{Digest as _, Sha512};

/// `dom2(1, "")`: "SigEd25519 no Ed25519 collisions", phflag 1, context
/// length 0.
const DOM2_PH: &[u8] = b"SigEd25519 no Ed25519 collisions\x01\x00";

struct Curve {
    p: BigUint,
    /// 2·d
    d2: BigUint,
    d: BigUint,
    sqrt_m1: BigUint,
    l: BigUint,
    base: Point,
}

#[derive(Clone)]
struct Point {
    x: BigUint,
    y: BigUint,
    z: BigUint,
    t: BigUint,
}

static CURVE: LazyLock<Option<Curve>> = LazyLock::new(Curve::new);

impl Curve {
    fn new() -> Option<Curve> {
        let p = (BigUint::from(1u8) << 255u32) - BigUint::from(19u8);
        let inv = |x: &BigUint, p: &BigUint| x.modpow(&(p - BigUint::from(2u8)), p);
        // d = -121665 / 121666
        let d = ((&p - BigUint::from(121_665u32)) * inv(&BigUint::from(121_666u32), &p)) % &p;
        let sqrt_m1 = BigUint::from(2u8).modpow(&((&p - BigUint::from(1u8)) >> 2u32), &p);
        let l = (BigUint::from(1u8) << 252u32)
            + BigUint::from(0x14de_f9de_a2f7_9cd6_5812_631a_5cf5_d3ed_u128);
        let mut curve = Curve {
            d2: (&d * BigUint::from(2u8)) % &p,
            d,
            sqrt_m1,
            l,
            base: Point::identity(),
            p,
        };
        // B: y = 4/5, x even (its standard encoding is 0x58 0x66 … 0x66)
        let y = (BigUint::from(4u8) * inv(&BigUint::from(5u8), &curve.p)) % &curve.p;
        let mut enc = [0u8; 32];
        let bytes = y.to_bytes_le();
        enc.get_mut(..bytes.len())?.copy_from_slice(&bytes);
        curve.base = curve.decode(&enc)?;
        Some(curve)
    }

    fn mul(&self, a: &BigUint, b: &BigUint) -> BigUint {
        (a * b) % &self.p
    }

    fn add_f(&self, a: &BigUint, b: &BigUint) -> BigUint {
        (a + b) % &self.p
    }

    fn sub_f(&self, a: &BigUint, b: &BigUint) -> BigUint {
        (a + &self.p - b) % &self.p
    }

    fn inv(&self, a: &BigUint) -> BigUint {
        a.modpow(&(&self.p - BigUint::from(2u8)), &self.p)
    }

    /// Unified addition in extended coordinates (a = -1), complete on
    /// edwards25519 (Hisil–Wong–Carter–Dawson 2008, "add-2008-hwcd-3").
    fn add(&self, p: &Point, q: &Point) -> Point {
        let a = self.mul(&self.sub_f(&p.y, &p.x), &self.sub_f(&q.y, &q.x));
        let b = self.mul(&self.add_f(&p.y, &p.x), &self.add_f(&q.y, &q.x));
        let c = self.mul(&self.mul(&p.t, &self.d2), &q.t);
        let d = self.mul(&self.add_f(&p.z, &p.z), &q.z);
        let e = self.sub_f(&b, &a);
        let f = self.sub_f(&d, &c);
        let g = self.add_f(&d, &c);
        let h = self.add_f(&b, &a);
        Point {
            x: self.mul(&e, &f),
            y: self.mul(&g, &h),
            t: self.mul(&e, &h),
            z: self.mul(&f, &g),
        }
    }

    fn neg(&self, p: &Point) -> Point {
        Point {
            x: self.sub_f(&BigUint::ZERO, &p.x),
            y: p.y.clone(),
            z: p.z.clone(),
            t: self.sub_f(&BigUint::ZERO, &p.t),
        }
    }

    /// `[n]P`, double and add from the top bit.
    fn scalar_mul(&self, n: &BigUint, p: &Point) -> Point {
        let mut acc = Point::identity();
        for i in (0..n.bits()).rev() {
            acc = self.add(&acc, &acc);
            if n.bit(i) {
                acc = self.add(&acc, p);
            }
        }
        acc
    }

    fn encode(&self, p: &Point) -> [u8; 32] {
        let zi = self.inv(&p.z);
        let x = self.mul(&p.x, &zi);
        let y = self.mul(&p.y, &zi);
        let mut out = [0u8; 32];
        let bytes = y.to_bytes_le();
        // y < p < 2^255: at most 32 bytes
        for (o, b) in out.iter_mut().zip(bytes.iter()) {
            *o = *b;
        }
        if x.bit(0) {
            out[31] |= 0x80;
        }
        out
    }

    /// RFC 8032 §5.1.3 point decoding; `y ≥ p` is refused.
    fn decode(&self, bytes: &[u8; 32]) -> Option<Point> {
        let sign = bytes[31] >> 7 == 1;
        let mut yb = *bytes;
        yb[31] &= 0x7f;
        let y = BigUint::from_bytes_le(&yb);
        if y >= self.p {
            return None;
        }
        let one = BigUint::from(1u8);
        let y2 = self.mul(&y, &y);
        let u = self.sub_f(&y2, &one);
        let v = self.add_f(&self.mul(&self.d, &y2), &one);
        let v3 = self.mul(&self.mul(&v, &v), &v);
        let v7 = self.mul(&self.mul(&v3, &v3), &v);
        let exp = (&self.p - BigUint::from(5u8)) >> 3u32;
        let mut x = self.mul(&self.mul(&u, &v3), &self.mul(&u, &v7).modpow(&exp, &self.p));
        let vx2 = self.mul(&v, &self.mul(&x, &x));
        if vx2 == u {
        } else if vx2 == self.sub_f(&BigUint::ZERO, &u) {
            x = self.mul(&x, &self.sqrt_m1);
        } else {
            return None;
        }
        if x == BigUint::ZERO && sign {
            return None;
        }
        if x.bit(0) != sign {
            x = self.sub_f(&BigUint::ZERO, &x);
        }
        let t = self.mul(&x, &y);
        Some(Point { x, y, z: one, t })
    }

    /// Verifies `signature` under `public` with challenge
    /// `k = SHA-512(prefix ‖ R ‖ A ‖ message) mod L`.
    fn verify_with(&self, prefix: &[u8], public: &[u8], message: &[u8], signature: &[u8]) -> bool {
        let Ok(a_bytes) = <[u8; 32]>::try_from(public) else {
            return false;
        };
        if signature.len() != 64 {
            return false;
        }
        let (r, s) = signature.split_at(32);
        let Some(a) = self.decode(&a_bytes) else {
            return false;
        };
        let s = BigUint::from_bytes_le(s);
        if s >= self.l {
            return false;
        }
        let mut h = Sha512::new();
        h.update(prefix);
        h.update(r);
        h.update(a_bytes);
        h.update(message);
        let k = BigUint::from_bytes_le(&h.finalize()) % &self.l;
        let sb = self.scalar_mul(&s, &self.base);
        let ka = self.scalar_mul(&k, &self.neg(&a));
        self.encode(&self.add(&sb, &ka)) == r
    }
}

impl Point {
    fn identity() -> Point {
        Point {
            x: BigUint::ZERO,
            y: BigUint::from(1u8),
            z: BigUint::from(1u8),
            t: BigUint::ZERO,
        }
    }
}

/// True when `signature` (64 bytes) is an Ed25519ph signature of `message`
/// (which is hashed here with SHA-512) under the 32-byte `public` key.
pub fn verify(public: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let Some(curve) = CURVE.as_ref() else {
        return false;
    };
    curve.verify_with(DOM2_PH, public, &Sha512::digest(message), signature)
}

/// [`verify`] for a message known only by its SHA-512 digest.
pub fn verify_prehashed(public: &[u8], sha512: &[u8], signature: &[u8]) -> bool {
    let Some(curve) = CURVE.as_ref() else {
        return false;
    };
    sha512.len() == 64 && curve.verify_with(DOM2_PH, public, sha512, signature)
}

/// True when `public` is the encoding of a point of edwards25519.
pub fn valid_public_key(public: &[u8]) -> bool {
    match (CURVE.as_ref(), <[u8; 32]>::try_from(public)) {
        (Some(curve), Ok(bytes)) => curve.decode(&bytes).is_some(),
        _ => false,
    }
}

/// An Ed25519ph (or, with `prehash` false, pure Ed25519) signature by the
/// private key `seed`, for tests only.
#[cfg(test)]
pub(crate) fn sign(seed: &[u8; 32], message: &[u8], prehash: bool) -> ([u8; 32], [u8; 64]) {
    let curve = CURVE.as_ref().expect("curve constants");
    let h = Sha512::digest(seed);
    let mut scalar = [0u8; 32];
    scalar.copy_from_slice(&h[..32]);
    scalar[0] &= 248;
    scalar[31] &= 127;
    scalar[31] |= 64;
    let a = BigUint::from_bytes_le(&scalar);
    let public = curve.encode(&curve.scalar_mul(&a, &curve.base));
    let (prefix, msg): (&[u8], Vec<u8>) = if prehash {
        (DOM2_PH, Sha512::digest(message).to_vec())
    } else {
        (&[], message.to_vec())
    };
    let mut rh = Sha512::new();
    rh.update(prefix);
    rh.update(&h[32..]);
    rh.update(&msg);
    let r = BigUint::from_bytes_le(&rh.finalize()) % &curve.l;
    let r_enc = curve.encode(&curve.scalar_mul(&r, &curve.base));
    let mut kh = Sha512::new();
    kh.update(prefix);
    kh.update(r_enc);
    kh.update(public);
    kh.update(&msg);
    let k = BigUint::from_bytes_le(&kh.finalize()) % &curve.l;
    let s = (r + k * a) % &curve.l;
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(&r_enc);
    for (o, b) in sig[32..].iter_mut().zip(s.to_bytes_le()) {
        *o = b;
    }
    (public, sig)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    #[test]
    fn the_base_point_is_the_standard_one() {
        let c = CURVE.as_ref().unwrap();
        let enc = c.encode(&c.base);
        assert_eq!(hex::encode(enc), format!("58{}", "66".repeat(31)));
        assert_eq!(
            c.base.x.to_str_radix(10),
            "15112221349535400772501151409588531511454012693041857206046113283949847762202"
        );
        // L·B is the identity
        assert_eq!(
            c.encode(&c.scalar_mul(&c.l, &c.base)),
            c.encode(&Point::identity())
        );
    }

    #[test]
    fn rfc8032_ed25519ph_vector() {
        // RFC 8032 §7.3, "TEST abc"
        let secret = unhex("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42");
        let public = unhex("ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf");
        let sig = unhex(
            "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae41\
             31f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406",
        );
        assert!(verify(&public, b"abc", &sig));
        assert!(!verify(&public, b"abd", &sig));
        let (p, s) = sign(&secret.try_into().unwrap(), b"abc", true);
        assert_eq!(p.to_vec(), public);
        assert_eq!(s.to_vec(), sig);
        // a flipped bit anywhere fails; so does S + L (malleability)
        for i in [0, 31, 32, 63] {
            let mut bad = sig.clone();
            bad[i] ^= 1;
            assert!(!verify(&public, b"abc", &bad), "byte {i}");
        }
        let c = CURVE.as_ref().unwrap();
        let s_plus_l = BigUint::from_bytes_le(&sig[32..]) + &c.l;
        let mut mall = sig[..32].to_vec();
        let mut tail = s_plus_l.to_bytes_le();
        tail.resize(32, 0);
        mall.extend(tail);
        assert!(!verify(&public, b"abc", &mall));
        assert!(!verify(&public[..31], b"abc", &sig));
        assert!(!verify(&public, b"abc", &sig[..63]));
    }

    #[test]
    fn pure_mode_agrees_with_aws_lc() {
        let c = CURVE.as_ref().unwrap();
        for i in 0u8..6 {
            let seed = [i.wrapping_mul(37).wrapping_add(1); 32];
            let pair = Ed25519KeyPair::from_seed_unchecked(&seed).unwrap();
            let public = pair.public_key().as_ref().to_vec();
            let msg = vec![i; usize::from(i) * 13];
            let sig = pair.sign(&msg);
            assert!(c.verify_with(&[], &public, &msg, sig.as_ref()), "seed {i}");
            let (p, mine) = sign(&seed, &msg, false);
            assert_eq!(p.to_vec(), public);
            assert_eq!(mine.as_ref(), sig.as_ref(), "Ed25519 is deterministic");
            // and an Ed25519ph signature is not a pure one, nor the reverse
            let (_, ph) = sign(&seed, &msg, true);
            assert!(verify(&public, &msg, &ph));
            assert!(
                UnparsedPublicKey::new(&ED25519, &public)
                    .verify(&msg, &ph)
                    .is_err()
            );
            assert!(!verify(&public, &msg, sig.as_ref()));
        }
    }

    #[test]
    fn public_keys_must_be_points() {
        let public = unhex("ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf");
        assert!(valid_public_key(&public));
        assert!(!valid_public_key(&public[1..]));
        // y = p (non-canonical)
        let mut p_enc = [0xffu8; 32];
        p_enc[0] = 0xed;
        p_enc[31] = 0x7f;
        assert!(!valid_public_key(&p_enc));
        // about half of all y have no x on the curve
        let invalid = (2u8..40)
            .filter(|y| {
                let mut e = [0u8; 32];
                e[0] = *y;
                !valid_public_key(&e)
            })
            .count();
        assert!((5..33).contains(&invalid), "{invalid}");
        // x = 0 with the sign bit set
        let mut one = [0u8; 32];
        one[0] = 1;
        assert!(valid_public_key(&one));
        one[31] = 0x80;
        assert!(!valid_public_key(&one));
    }
}
