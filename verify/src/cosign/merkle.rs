//! RFC 6962 Merkle trees with SHA-256, as Rekor (v1 and v2) builds them:
//! leaf hashes, and inclusion proofs verified by RFC 9162 §2.1.3.2.

use aws_lc_rs::digest::{Context, SHA256};

/// `SHA-256(0x00 ‖ leaf)`.
pub fn leaf_hash(leaf: &[u8]) -> [u8; 32] {
    let mut c = Context::new(&SHA256);
    c.update(&[0]);
    c.update(leaf);
    to_array(c.finish().as_ref())
}

fn node_hash(left: &[u8], right: &[u8]) -> [u8; 32] {
    let mut c = Context::new(&SHA256);
    c.update(&[1]);
    c.update(left);
    c.update(right);
    to_array(c.finish().as_ref())
}

fn to_array(b: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(b);
    out
}

/// Verifies that the leaf with hash `leaf` is at `index` in the tree of
/// `size` leaves whose root is `root`, by the audit path `proof`.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &[u8; 32],
    proof: &[Vec<u8>],
    root: &[u8],
) -> Result<(), String> {
    if index >= size {
        return Err(format!(
            "the inclusion proof is invalid: index {index} is not inside a tree of {size} entries"
        ));
    }
    if root.len() != 32 {
        return Err(format!(
            "the inclusion proof is invalid: the root hash is {} bytes, not 32",
            root.len()
        ));
    }
    let mut fn_ = index;
    let mut sn = size - 1;
    let mut r = *leaf;
    for (i, p) in proof.iter().enumerate() {
        if p.len() != 32 {
            return Err(format!(
                "the inclusion proof is invalid: hash {i} is {} bytes, not 32",
                p.len()
            ));
        }
        if sn == 0 {
            return Err(format!(
                "the inclusion proof is invalid: it has {} hashes, more than a tree of {size} entries needs",
                proof.len()
            ));
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(format!(
            "the inclusion proof is invalid: it has {} hashes, fewer than a tree of {size} entries needs",
            proof.len()
        ));
    }
    if r.as_slice() != root {
        return Err(format!(
            "the inclusion proof does not lead to the root hash: computed {}, expected {}",
            hex::encode(r),
            hex::encode(root)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The RFC 6962 root of `leaves`, by the definition.
    fn root(leaves: &[[u8; 32]]) -> [u8; 32] {
        if leaves.len() == 1 {
            return leaves[0];
        }
        let k = leaves.len().next_power_of_two() / 2;
        node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
    }

    /// The audit path of leaf `m`, by RFC 6962 §2.1.1.
    fn path(m: usize, leaves: &[[u8; 32]]) -> Vec<Vec<u8>> {
        if leaves.len() == 1 {
            return Vec::new();
        }
        let k = leaves.len().next_power_of_two() / 2;
        if m < k {
            let mut p = path(m, &leaves[..k]);
            p.push(root(&leaves[k..]).to_vec());
            p
        } else {
            let mut p = path(m - k, &leaves[k..]);
            p.push(root(&leaves[..k]).to_vec());
            p
        }
    }

    #[test]
    fn every_leaf_of_every_small_tree() {
        for n in 1..=17usize {
            let leaves: Vec<[u8; 32]> = (0..n).map(|i| leaf_hash(&[i as u8])).collect();
            let r = root(&leaves);
            for m in 0..n {
                let p = path(m, &leaves);
                verify_inclusion(m as u64, n as u64, &leaves[m], &p, &r).unwrap();
                // another leaf, index, size or root fails
                let other = leaf_hash(b"x");
                assert!(verify_inclusion(m as u64, n as u64, &other, &p, &r).is_err());
                if n > 1 {
                    let m2 = (m + 1) % n;
                    assert!(verify_inclusion(m2 as u64, n as u64, &leaves[m], &p, &r).is_err());
                }
                // (a size is not bound by the path alone, e.g. leaf 0 of 3
                // and of 4 leaves share one; the signed checkpoint binds it)
                let mut other_root = r;
                other_root[31] ^= 1;
                assert!(verify_inclusion(m as u64, n as u64, &leaves[m], &p, &other_root).is_err());
                let mut bad = p.clone();
                if let Some(h) = bad.first_mut() {
                    h[0] ^= 1;
                    assert!(verify_inclusion(m as u64, n as u64, &leaves[m], &bad, &r).is_err());
                }
                let mut long = p.clone();
                long.push(vec![0; 32]);
                assert!(verify_inclusion(m as u64, n as u64, &leaves[m], &long, &r).is_err());
            }
        }
    }

    #[test]
    fn malformed_proofs() {
        let l = leaf_hash(b"a");
        assert!(
            verify_inclusion(1, 1, &l, &[], &l)
                .unwrap_err()
                .contains("not inside")
        );
        assert!(
            verify_inclusion(0, 2, &l, &[vec![0; 31]], &l)
                .unwrap_err()
                .contains("31 bytes")
        );
        assert!(verify_inclusion(0, 1, &l, &[], &l[..31]).is_err());
        verify_inclusion(0, 1, &l, &[], &l).unwrap();
    }
}
