//! Signed certificate timestamps (RFC 6962) embedded in Fulcio
//! certificates, verified against the CT logs of a trusted root, as
//! sigstore-go's `VerifySignedCertificateTimestamp` does (cosign verifies
//! them unless `--insecure-ignore-sct`):
//!
//! - the SCT list is the X.509 extension 1.3.6.1.4.1.11129.2.4.2 (an OCTET
//!   STRING holding the TLS-encoded `SignedCertificateTimestampList`);
//! - each SCT names its log by ID; SCTs of logs the trusted root does not
//!   list, or whose timestamp lies outside the log key's window, are
//!   skipped;
//! - the signed structure is a `precert_entry`: the SHA-256 of the issuer's
//!   SubjectPublicKeyInfo and the leaf's TBSCertificate with the SCT list
//!   extension removed (re-encoded in DER), with the SCT's timestamp and
//!   extensions (non-empty extensions, as static CT logs write, are fine);
//! - the signature is SHA-256 with ECDSA or RSA PKCS#1 v1.5;
//! - the number of distinct logs with a verified SCT must reach the
//!   threshold.

use const_oid::ObjectIdentifier;
use der::Decode as _;
use time::OffsetDateTime;

use super::schemes::{Scheme, verify};
use super::trusted_root::{TransparencyLog, TrustedRoot, sha256};
use crate::x509::der_walk::{children, read_tlv};
use crate::x509::{Cert, Hash, PublicKey};

/// The embedded SCT list extension.
pub const SCT_LIST_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.2");

/// One DER element: `tag`, length, `contents`.
pub(crate) fn tlv(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = contents.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let b = (len as u64).to_be_bytes();
        let skip = b.iter().take_while(|x| **x == 0).count();
        out.push(0x80 | (8 - skip) as u8);
        out.extend_from_slice(&b[skip..]);
    }
    out.extend_from_slice(contents);
    out
}

/// One parsed SCT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sct {
    pub log_id: [u8; 32],
    /// Milliseconds since the epoch.
    pub timestamp: u64,
    pub extensions: Vec<u8>,
    pub hash_algorithm: u8,
    pub signature_algorithm: u8,
    pub signature: Vec<u8>,
}

/// A verified SCT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSct {
    /// The CT log's base URL.
    pub log: String,
    pub time: OffsetDateTime,
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err("the SCT list is truncated".into());
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<usize, String> {
        let b = self.take(2)?;
        Ok(usize::from(b[0]) << 8 | usize::from(b[1]))
    }
    fn vec16(&mut self) -> Result<&'a [u8], String> {
        let n = self.u16()?;
        self.take(n)
    }
}

/// Parses the extension value (the DER OCTET STRING around the TLS list).
pub fn parse_sct_list(extension_value: &[u8]) -> Result<Vec<Sct>, String> {
    let (octets, rest) = read_tlv(extension_value).ok_or("the SCT list extension is malformed")?;
    if octets.tag != 0x04 || !rest.is_empty() {
        return Err("the SCT list extension is not one OCTET STRING".into());
    }
    let mut list = Reader(octets.contents);
    let mut body = Reader(list.vec16()?);
    if !list.0.is_empty() {
        return Err("the SCT list has bytes after it".into());
    }
    let mut out = Vec::new();
    while !body.0.is_empty() {
        let mut s = Reader(body.vec16()?);
        let version = s.u8()?;
        if version != 0 {
            return Err(format!("an SCT has version {version}, not v1"));
        }
        let mut log_id = [0u8; 32];
        log_id.copy_from_slice(s.take(32)?);
        let ts = s.take(8)?;
        let mut t = [0u8; 8];
        t.copy_from_slice(ts);
        let extensions = s.vec16()?.to_vec();
        let hash_algorithm = s.u8()?;
        let signature_algorithm = s.u8()?;
        let signature = s.vec16()?.to_vec();
        if !s.0.is_empty() {
            return Err("an SCT has bytes after its signature".into());
        }
        out.push(Sct {
            log_id,
            timestamp: u64::from_be_bytes(t),
            extensions,
            hash_algorithm,
            signature_algorithm,
            signature,
        });
        if out.len() > 64 {
            return Err("the SCT list has more than 64 SCTs".into());
        }
    }
    Ok(out)
}

/// The DER of `cert`'s SubjectPublicKeyInfo.
pub(crate) fn spki_der(cert: &Cert) -> Option<Vec<u8>> {
    let (tbs, _) = read_tlv(cert.raw_tbs())?;
    let fields = children(tbs.contents)?;
    let skip = usize::from(fields.first()?.tag == 0xa0);
    Some(fields.get(skip + 5)?.whole.to_vec())
}

/// The leaf's TBSCertificate without the SCT list extension.
fn precertificate_tbs(leaf: &Cert) -> Result<Vec<u8>, String> {
    let malformed = || "the certificate's TBSCertificate is malformed".to_string();
    let (tbs, _) = read_tlv(leaf.raw_tbs()).ok_or_else(malformed)?;
    let fields = children(tbs.contents).ok_or_else(malformed)?;
    let mut out = Vec::new();
    for f in fields {
        if f.tag != 0xa3 {
            out.extend_from_slice(f.whole);
            continue;
        }
        let (seq, _) = read_tlv(f.contents).ok_or_else(malformed)?;
        let kept: Vec<u8> = children(seq.contents)
            .ok_or_else(malformed)?
            .into_iter()
            .filter(|ext| {
                let oid = children(ext.contents)
                    .and_then(|parts| parts.first().copied())
                    .and_then(|o| ObjectIdentifier::from_der(o.whole).ok());
                oid != Some(SCT_LIST_OID)
            })
            .flat_map(|ext| ext.whole.to_vec())
            .collect();
        if !kept.is_empty() {
            out.extend(tlv(0xa3, &tlv(0x30, &kept)));
        }
    }
    Ok(tlv(0x30, &out))
}

fn signed_data(sct: &Sct, issuer_key_hash: &[u8], tbs: &[u8]) -> Vec<u8> {
    let mut d = vec![0u8, 0u8];
    d.extend_from_slice(&sct.timestamp.to_be_bytes());
    d.extend_from_slice(&[0, 1]);
    d.extend_from_slice(issuer_key_hash);
    let n = tbs.len();
    d.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
    d.extend_from_slice(tbs);
    let e = sct.extensions.len();
    d.extend_from_slice(&[(e >> 8) as u8, e as u8]);
    d.extend_from_slice(&sct.extensions);
    d
}

fn check_one(sct: &Sct, log: &TransparencyLog, signed: &[u8]) -> Result<(), String> {
    if sct.hash_algorithm != 4 {
        return Err(format!(
            "uses hash algorithm {} (only SHA-256 is supported)",
            sct.hash_algorithm
        ));
    }
    let scheme = match (sct.signature_algorithm, &log.key) {
        (3, PublicKey::Ec { .. }) => Scheme::Ecdsa(Hash::Sha256),
        (1, PublicKey::Rsa { .. }) => Scheme::RsaPkcs1(Hash::Sha256),
        (a, _) => {
            return Err(format!(
                "uses signature algorithm {a}, which the log's key cannot verify"
            ));
        }
    };
    if verify(&log.key, scheme, signed, &sct.signature) {
        Ok(())
    } else {
        Err("its signature does not verify with the log's key".into())
    }
}

/// Verifies the SCTs embedded in `leaf` (issued by `issuer`) against the CT
/// logs of `root`; at least `threshold` distinct logs must have a valid one.
pub fn verify_scts(
    leaf: &Cert,
    issuer: &Cert,
    root: &TrustedRoot,
    threshold: usize,
) -> Result<Vec<VerifiedSct>, String> {
    let fail = |why: String| format!("SCT verification failed: {why}");
    let Some(ext) = leaf.extension(SCT_LIST_OID) else {
        if threshold == 0 {
            return Ok(Vec::new());
        }
        return Err(fail(
            "the certificate has no embedded SCT (extension 1.3.6.1.4.1.11129.2.4.2)".into(),
        ));
    };
    let scts = parse_sct_list(&ext.value).map_err(fail)?;
    let issuer_spki = spki_der(issuer).ok_or_else(|| fail("the issuer is malformed".into()))?;
    let issuer_key_hash = sha256(&issuer_spki);
    let tbs = precertificate_tbs(leaf).map_err(fail)?;
    let mut verified: Vec<VerifiedSct> = Vec::new();
    let mut seen: Vec<&[u8]> = Vec::new();
    let mut problems = Vec::new();
    for sct in &scts {
        let id = hex::encode(sct.log_id);
        let Some(log) = root.ctlog(&sct.log_id) else {
            problems.push(format!(
                "an SCT from CT log {id}, which the trusted root does not list"
            ));
            continue;
        };
        if seen.contains(&log.log_id.as_slice()) {
            continue;
        }
        let time = i64::try_from(sct.timestamp / 1000)
            .ok()
            .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
            .map(|t| t + time::Duration::milliseconds((sct.timestamp % 1000) as i64));
        let Some(time) = time else {
            problems.push(format!(
                "an SCT from {} has an impossible timestamp",
                log.base_url
            ));
            continue;
        };
        if !log.valid_for.contains(time) {
            problems.push(format!(
                "the SCT from {} is dated outside the log key's window ({})",
                log.base_url,
                log.valid_for.describe()
            ));
            continue;
        }
        match check_one(sct, log, &signed_data(sct, &issuer_key_hash, &tbs)) {
            Ok(()) => {
                seen.push(&log.log_id);
                verified.push(VerifiedSct {
                    log: log.base_url.clone(),
                    time,
                });
            }
            Err(e) => problems.push(format!("the SCT from {} {e}", log.base_url)),
        }
    }
    if verified.len() < threshold {
        return Err(fail(format!(
            "{} CT log(s) of the trusted root vouch for the certificate, {threshold} required{}",
            verified.len(),
            if problems.is_empty() {
                String::new()
            } else {
                format!(" ({})", problems.join("; "))
            }
        )));
    }
    Ok(verified)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths() {
        assert_eq!(tlv(0x04, &[1, 2]), [4, 2, 1, 2]);
        let long = tlv(0x04, &[0; 200]);
        assert_eq!(&long[..3], &[4, 0x81, 200]);
        let longer = tlv(0x04, &[0; 300]);
        assert_eq!(&longer[..4], &[4, 0x82, 1, 44]);
    }

    #[test]
    fn sct_lists() {
        let mut sct = vec![0u8];
        sct.extend_from_slice(&[7; 32]);
        sct.extend_from_slice(&1_000u64.to_be_bytes());
        sct.extend_from_slice(&[0, 2, 9, 9]);
        sct.extend_from_slice(&[4, 3, 0, 1, 0xaa]);
        let mut list = vec![0, (sct.len() + 2) as u8, 0, sct.len() as u8];
        list.extend_from_slice(&sct);
        let parsed = parse_sct_list(&tlv(0x04, &list)).unwrap();
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].log_id, [7; 32]);
        assert_eq!(parsed[0].timestamp, 1_000);
        assert_eq!(parsed[0].extensions, [9, 9]);
        assert_eq!(parsed[0].signature, [0xaa]);
        let mut truncated = list.clone();
        truncated.pop();
        assert!(parse_sct_list(&tlv(0x04, &truncated)).is_err());
        assert!(parse_sct_list(&tlv(0x03, &list)).is_err());
        let mut v2 = list.clone();
        v2[4] = 1;
        assert!(
            parse_sct_list(&tlv(0x04, &v2))
                .unwrap_err()
                .contains("version 1")
        );
    }
}
