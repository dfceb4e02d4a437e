//! The generation: a hash of everything a verdict depends on besides the
//! registry — the effective trust policies, the verdict-relevant settings,
//! and the certificates and keys each trust store currently holds. A
//! verdict holds for one (repository, digest, generation); the hash is the
//! same after a restart with the same inputs and changes when any changes.
//! Revocation settings are part of it (online or offline, the CRL directory,
//! URL rewrites); revocation data is not: re-checks handle that.

use std::fmt;

use pullgate_policy::{TrustPolicyDocument, TrustedIdentities, ValidationType};
use sha2::{Digest as _, Sha256};

use crate::engine::EngineConfig;

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Generation([u8; 32]);

impl Generation {
    pub fn of(config: &EngineConfig) -> Generation {
        let mut h = Sha256::new();
        let mut field = |name: &str, value: &[u8]| {
            h.update((name.len() as u64).to_be_bytes());
            h.update(name.as_bytes());
            h.update((value.len() as u64).to_be_bytes());
            h.update(value);
        };
        field("version", b"1");
        field("require", format!("{:?}", config.require).as_bytes());
        field(
            "platform-signatures",
            &[u8::from(config.accept_platform_signatures)],
        );
        field("platform", config.platform.to_string().as_bytes());
        if let Some(n) = &config.notation {
            field("notation.policy", canonical_policy(&n.policy).as_bytes());
            field(
                "notation.max-signatures",
                &(n.max_signatures as u64).to_be_bytes(),
            );
            field("notation.revocation", n.revocation.settings().as_bytes());
            for (store, certs) in n.stores.all() {
                field("notation.store", store.as_bytes());
                let mut ders: Vec<&[u8]> = certs.iter().map(|c| c.der()).collect();
                ders.sort();
                for der in ders {
                    field("cert", der);
                }
            }
        }
        if let Some(c) = &config.cosign {
            // The policies' parsed form and each policy's keys, Rekor keys
            // and Fulcio roots, in order.
            field("cosign.policies", format!("{:?}", c.policies).as_bytes());
            field(
                "cosign.max-signatures",
                &(c.max_signatures as u64).to_be_bytes(),
            );
            for (policy, keys) in &c.keys {
                field("cosign.keys", policy.as_bytes());
                let mut each: Vec<String> = keys
                    .iter()
                    .map(|k| format!("{:?} {}", k.key, k.hash.as_str()))
                    .collect();
                each.sort();
                for k in each {
                    field("key", k.as_bytes());
                }
            }
            for (policy, keys) in &c.rekor_keys {
                field("cosign.rekor-keys", policy.as_bytes());
                let mut each: Vec<String> = keys
                    .iter()
                    .map(|k| format!("{} {:?}", k.log_id, k.key.key))
                    .collect();
                each.sort();
                for k in each {
                    field("rekor-key", k.as_bytes());
                }
            }
            for (policy, roots) in &c.fulcio_roots {
                field("cosign.fulcio-roots", policy.as_bytes());
                let mut ders: Vec<&[u8]> = roots.iter().map(|c| c.der()).collect();
                ders.sort();
                for der in ders {
                    field("cert", der);
                }
            }
            // Bundle checks: the trusted root (logs, CAs, CT logs, TSAs with
            // their windows), the keys and the thresholds, in their parsed form.
            for (policy, check) in &c.bundles {
                field("cosign.bundles", policy.as_bytes());
                field("bundle-check", format!("{check:?}").as_bytes());
            }
        }
        Generation(h.finalize().into())
    }

    #[cfg(test)]
    pub(crate) fn from_bytes(bytes: [u8; 32]) -> Generation {
        Generation(bytes)
    }

    /// From a stored hex string (the verified-state file).
    pub fn from_hex(s: &str) -> Option<Generation> {
        let bytes = hex::decode(s).ok()?;
        Some(Generation(bytes.try_into().ok()?))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for Generation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex()[..16])
    }
}

impl fmt::Debug for Generation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Generation({self})")
    }
}

/// The parsed document in a fixed textual form: what it means, not how it
/// was written (whitespace or key order do not change the generation).
fn canonical_policy(doc: &TrustPolicyDocument) -> String {
    let mut out = String::new();
    for s in doc.statements() {
        out.push_str(&format!("statement {:?}\n", s.name()));
        for scope in s.registry_scopes() {
            out.push_str(&format!(" scope {scope:?}\n"));
        }
        for t in ValidationType::ALL {
            out.push_str(&format!(" {t} {}\n", s.level().action(t).as_str()));
        }
        out.push_str(&format!(
            " verifyTimestamp {}\n",
            s.verify_timestamp().as_str()
        ));
        for store in s.trust_stores() {
            out.push_str(&format!(" store {store}\n"));
        }
        match s.trusted_identities() {
            TrustedIdentities::Any => out.push_str(" identity *\n"),
            TrustedIdentities::List { x509, other } => {
                for id in x509 {
                    out.push_str(&format!(" identity {:?}\n", id.raw()));
                }
                for id in other {
                    out.push_str(&format!(" identity {id:?}\n"));
                }
            }
        }
    }
    out
}
