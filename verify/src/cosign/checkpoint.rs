//! Transparency-log checkpoints: signed notes (C2SP `signed-note`) whose
//! text is a checkpoint (`origin`, tree size, base64 root hash, optional
//! extension lines).
//!
//! ```text
//! rekor.sigstore.dev - 2605736670972794746
//! 23083062
//! dauhleYK4YyAdxwwDtR0l0KnSOWZdG2bwqHftlanvcI=
//! Timestamp: 1689177396617352539
//!
//! — rekor.sigstore.dev wNI9ajBFAiBxaGyEtxkzFLkaCSEJ…
//! ```
//!
//! Each signature line is `— <name> <base64(key hash[4] ‖ signature)>`.
//! The body is parsed before any signature is checked, so that a damaged
//! checkpoint is reported as such. Then:
//!
//! - Rekor v1 (rekor's `SignedCheckpoint`): a line whose key hash is the
//!   first 4 bytes of SHA-256 of the log key's SubjectPublicKeyInfo must
//!   verify (ECDSA over SHA-256 of the text); the origin and the name are
//!   not checked (they are `rekor.sigstore.dev - <tree ID>`).
//! - Rekor v2 (`golang.org/x/mod/sumdb/note` with rekor-tiles' verifiers):
//!   the origin must be the host of the log's `baseUrl`, and a line named so
//!   whose key hash is the note key ID of the log key (Ed25519:
//!   SHA-256(name ‖ LF ‖ 0x01 ‖ key); ECDSA: SHA-256(SPKI)) must verify.
//!   Lines of other names or keys (witness cosignatures, another key of the
//!   same origin) are ignored.
//!
//! In both, a line that names the log's key but does not verify makes the
//! checkpoint invalid (sumdb's rule), and so does having no such line.

use super::schemes::{Scheme, verify};
use super::trusted_root::{TransparencyLog, sha256};
use crate::x509::{Curve, Hash, PublicKey};

/// A checkpoint envelope larger than this is refused.
pub const MAX_CHECKPOINT_BYTES: usize = 64 << 10;
const MAX_SIGNATURES: usize = 100;
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// One signature line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    pub name: String,
    pub key_hash: [u8; 4],
    pub signature: Vec<u8>,
}

/// A signed note: the text (ending in a newline) and its signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNote {
    pub text: String,
    pub signatures: Vec<NoteSignature>,
}

/// A checkpoint's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root_hash: Vec<u8>,
    /// Lines after the root hash (Rekor v1: `Timestamp: …`).
    pub extensions: Vec<String>,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(char::is_whitespace) && !name.contains('+')
}

/// Parses a signed note (signatures not verified).
pub fn parse_note(envelope: &str) -> Result<SignedNote, String> {
    let bad = |why: &str| format!("the checkpoint is not a signed note: {why}");
    if envelope.len() > MAX_CHECKPOINT_BYTES {
        return Err(bad("it is too large"));
    }
    let split = envelope
        .rfind("\n\n")
        .ok_or_else(|| bad("no blank line before the signatures"))?;
    let text = &envelope[..split + 1];
    let sigs = &envelope[split + 2..];
    if sigs.is_empty() {
        return Err(bad("it has no signature lines"));
    }
    if !sigs.ends_with('\n') {
        return Err(bad("the signature lines do not end with a newline"));
    }
    let mut signatures = Vec::new();
    for line in sigs[..sigs.len() - 1].split('\n') {
        let rest = line
            .strip_prefix(SIGNATURE_PREFIX)
            .ok_or_else(|| bad("a signature line does not start with \"— \""))?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or_else(|| bad("a signature line has no signature"))?;
        if !valid_name(name) {
            return Err(bad(&format!("invalid signer name {name:?}")));
        }
        let raw = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64)
            .map_err(|_| bad(&format!("the signature of {name:?} is not base64")))?;
        if raw.len() < 5 {
            return Err(bad(&format!("the signature of {name:?} is too short")));
        }
        let mut key_hash = [0u8; 4];
        key_hash.copy_from_slice(&raw[..4]);
        signatures.push(NoteSignature {
            name: name.to_string(),
            key_hash,
            signature: raw[4..].to_vec(),
        });
        if signatures.len() > MAX_SIGNATURES {
            return Err(bad("it has more than 100 signatures"));
        }
    }
    Ok(SignedNote {
        text: text.to_string(),
        signatures,
    })
}

/// Parses a note's text as a checkpoint.
pub fn parse_checkpoint(text: &str) -> Result<Checkpoint, String> {
    let bad = |why: String| format!("the checkpoint is malformed: {why}");
    let body = text
        .strip_suffix('\n')
        .ok_or_else(|| bad("its text does not end with a newline".into()))?;
    let mut lines = body.split('\n');
    let origin = lines.next().unwrap_or_default();
    if origin.is_empty() {
        return Err(bad("its origin line is empty".into()));
    }
    let size_line = lines
        .next()
        .ok_or_else(|| bad("it has no tree size line".into()))?;
    if size_line.is_empty() || !size_line.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(format!("its tree size {size_line:?} is not a number")));
    }
    let size = size_line
        .parse::<u64>()
        .map_err(|_| bad(format!("its tree size {size_line:?} is not a number")))?;
    let hash_line = lines
        .next()
        .ok_or_else(|| bad("it has no root hash line".into()))?;
    let root_hash = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, hash_line)
        .ok()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| bad(format!("its root hash {hash_line:?} is not base64")))?;
    Ok(Checkpoint {
        origin: origin.to_string(),
        size,
        root_hash,
        extensions: lines.map(str::to_string).collect(),
    })
}

/// Which log family wrote the checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFamily {
    RekorV1,
    RekorV2,
}

/// The 4-byte key hash a note signature by `log` carries.
fn key_hash(log: &TransparencyLog, family: LogFamily, name: &str) -> [u8; 4] {
    let spki_hash = || {
        if log.spki_der.is_empty() {
            // a legacy Rekor key: its log ID is the SHA-256 of its SPKI
            log.log_id.clone()
        } else {
            sha256(&log.spki_der)
        }
    };
    let full = match (family, &log.key) {
        (LogFamily::RekorV1, _) | (LogFamily::RekorV2, PublicKey::Ec { .. }) => spki_hash(),
        (LogFamily::RekorV2, PublicKey::Ed25519(k)) => {
            let mut m = name.as_bytes().to_vec();
            m.push(b'\n');
            m.push(0x01);
            m.extend_from_slice(k);
            sha256(&m)
        }
        (LogFamily::RekorV2, _) => {
            let mut m = name.as_bytes().to_vec();
            m.push(b'\n');
            m.push(0xff);
            m.extend_from_slice(b"PKIX-RSA-PKCS#1v1.5");
            m.extend_from_slice(&log.spki_der);
            sha256(&m)
        }
    };
    let mut out = [0u8; 4];
    if full.len() >= 4 {
        out.copy_from_slice(&full[..4]);
    }
    out
}

fn verify_line(log: &TransparencyLog, family: LogFamily, text: &[u8], sig: &[u8]) -> bool {
    let schemes: Vec<Scheme> = match (&log.key, family) {
        (PublicKey::Ec { .. }, LogFamily::RekorV1) => vec![Scheme::Ecdsa(Hash::Sha256)],
        (PublicKey::Ec { curve, .. }, LogFamily::RekorV2) => vec![Scheme::Ecdsa(match curve {
            Curve::P256 => Hash::Sha256,
            Curve::P384 => Hash::Sha384,
            Curve::P521 => Hash::Sha512,
        })],
        (PublicKey::Ed25519(_), _) => vec![Scheme::Ed25519],
        (PublicKey::Rsa { .. }, LogFamily::RekorV1) => vec![Scheme::RsaPss(Hash::Sha256)],
        (PublicKey::Rsa { .. }, LogFamily::RekorV2) => vec![Scheme::RsaPkcs1(Hash::Sha256)],
        (PublicKey::Other(_), _) => Vec::new(),
    };
    schemes.into_iter().any(|s| verify(&log.key, s, text, sig))
}

/// Parses `envelope` and verifies it was signed by `log`; the checkpoint
/// on success.
pub fn verify_checkpoint(
    envelope: &str,
    log: &TransparencyLog,
    family: LogFamily,
) -> Result<Checkpoint, String> {
    let note = parse_note(envelope)?;
    let origin = log.host();
    let first = note.text.split('\n').next().unwrap_or_default();
    if family == LogFamily::RekorV2 && first != origin {
        return Err(format!(
            "the checkpoint's origin is {first:?}, not the log's {origin:?}"
        ));
    }
    let checkpoint = parse_checkpoint(&note.text)?;
    let mut by_log = 0usize;
    for s in &note.signatures {
        if family == LogFamily::RekorV2 && s.name != origin {
            continue;
        }
        if s.key_hash != key_hash(log, family, &s.name) {
            continue;
        }
        by_log += 1;
        if !verify_line(log, family, note.text.as_bytes(), &s.signature) {
            return Err(format!(
                "the checkpoint's signature by {} does not verify with the log's key",
                s.name
            ));
        }
    }
    if by_log == 0 {
        return Err(format!(
            "the checkpoint has no signature by the log {} (its {} signature(s) are by other keys or names)",
            log.describe(),
            note.signatures.len()
        ));
    }
    Ok(checkpoint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_and_checkpoints() {
        let n = parse_note("o\n1\nAAAA\n\n\u{2014} o AQIDBAU=\n\u{2014} w AQIDBAUG\n").unwrap();
        assert_eq!(n.text, "o\n1\nAAAA\n");
        assert_eq!(n.signatures.len(), 2);
        assert_eq!(n.signatures[0].key_hash, [1, 2, 3, 4]);
        assert_eq!(n.signatures[1].signature, [5, 6]);
        let c = parse_checkpoint(&n.text).unwrap();
        assert_eq!((c.origin.as_str(), c.size), ("o", 1));
        assert_eq!(c.root_hash, [0, 0, 0]);
        for (bad, why) in [
            ("o\n1\nAAAA\n", "no blank line"),
            ("o\n1\nAAAA\n\n", "no signature lines"),
            (
                "o\n1\nAAAA\n\n\u{2014} o AQIDBAU=",
                "do not end with a newline",
            ),
            ("o\n1\nAAAA\n\n- o AQIDBAU=\n", "does not start with"),
            ("o\n1\nAAAA\n\n\u{2014} o AQID\n", "too short"),
            (
                "o\n1\nAAAA\n\n\u{2014} o+x AQIDBAU=\n",
                "invalid signer name",
            ),
            ("o\n1\nAAAA\n\n\u{2014} o !!\n", "not base64"),
        ] {
            let e = parse_note(bad).unwrap_err();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
        for (bad, why) in [
            ("o\n1\n", "no root hash line"),
            ("o\nAAAA\n", "tree size \"AAAA\" is not a number"),
            ("o\n+1\nAAAA\n", "is not a number"),
            ("\n1\nAAAA\n", "origin line is empty"),
            ("o\n1\n!\n", "root hash"),
            ("o\n1\nAAAA", "does not end with a newline"),
        ] {
            let e = parse_checkpoint(bad).unwrap_err();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
    }
}
