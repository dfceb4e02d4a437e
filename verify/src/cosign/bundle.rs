//! Sigstore bundles (protobuf-specs `dev.sigstore.bundle.v1.Bundle` in its
//! JSON form), versions 0.1, 0.2 and 0.3, parsed strictly
//! (`cosign::json`) and checked for the structure sigstore-go's
//! `Bundle.validate` requires. Nothing here is verified yet; see
//! [`super::verifier`].
//!
//! | media type | version |
//! |---|---|
//! | `application/vnd.dev.sigstore.bundle+json;version=0.1` | 0.1 |
//! | `application/vnd.dev.sigstore.bundle+json;version=0.2` | 0.2 |
//! | `application/vnd.dev.sigstore.bundle+json;version=0.3` | 0.3 |
//! | `application/vnd.dev.sigstore.bundle.v0.3+json` | 0.3 |
//!
//! Structure:
//! - `verificationMaterial` has exactly one of `certificate` (the leaf),
//!   `x509CertificateChain` (leaf first; not in 0.3; must not be empty and,
//!   as protobuf-specs says, must not hold a root: a self-signed certificate
//!   in it is refused) and `publicKey` (`hint`, which only selects among
//!   configured keys);
//! - every transparency-log entry has a log ID, a kind and version, a
//!   canonicalized body, a log index that is not negative; in 0.1 an
//!   inclusion promise (SET), from 0.2 on an inclusion proof;
//! - `timestampVerificationData.rfc3161Timestamps[].signedTimestamp` are
//!   DER RFC 3161 `TimeStampResp`s;
//! - the content is exactly one of `messageSignature` (a digest of
//!   SHA2_256/384/512 and a signature) and `dsseEnvelope`;
//! - at most [`MAX_BUNDLE_BYTES`], 32 log entries, 32 timestamps, 10
//!   certificates, 64 proof hashes.

use super::dsse::Envelope;
use super::json::{Obj, element};
use super::payload::strict_json;
use crate::x509::{Cert, Hash, is_issued_by};

pub const BUNDLE_MEDIA_TYPE_V01: &str = "application/vnd.dev.sigstore.bundle+json;version=0.1";
pub const BUNDLE_MEDIA_TYPE_V02: &str = "application/vnd.dev.sigstore.bundle+json;version=0.2";
pub const BUNDLE_MEDIA_TYPE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// The older spelling of version 0.3's media type.
pub const BUNDLE_MEDIA_TYPE_V03_OLD: &str = "application/vnd.dev.sigstore.bundle+json;version=0.3";
/// A bundle larger than this is refused (an image signature's is ~10 KiB;
/// attestations carry larger payloads).
pub const MAX_BUNDLE_BYTES: usize = 16 << 20;
const MAX_TLOG_ENTRIES: usize = 32;
const MAX_TIMESTAMPS: usize = 32;
const MAX_CHAIN: usize = 10;
const MAX_PROOF_HASHES: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BundleVersion {
    V0_1,
    V0_2,
    V0_3,
}

impl BundleVersion {
    pub fn of_media_type(media_type: &str) -> Option<BundleVersion> {
        Some(match media_type {
            BUNDLE_MEDIA_TYPE_V01 => BundleVersion::V0_1,
            BUNDLE_MEDIA_TYPE_V02 => BundleVersion::V0_2,
            BUNDLE_MEDIA_TYPE_V03 | BUNDLE_MEDIA_TYPE_V03_OLD => BundleVersion::V0_3,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BundleVersion::V0_1 => "0.1",
            BundleVersion::V0_2 => "0.2",
            BundleVersion::V0_3 => "0.3",
        }
    }
}

/// A message digest's algorithm (protobuf-specs `HashAlgorithm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlgorithm {
    Sha2_256,
    Sha2_384,
    Sha2_512,
}

impl HashAlgorithm {
    /// From protobuf-specs' name (`SHA2_256`) or Rekor's (`sha256`).
    pub fn parse(s: &str) -> Option<HashAlgorithm> {
        Some(match s {
            "SHA2_256" | "sha256" => HashAlgorithm::Sha2_256,
            "SHA2_384" | "sha384" => HashAlgorithm::Sha2_384,
            "SHA2_512" | "sha512" => HashAlgorithm::Sha2_512,
            _ => return None,
        })
    }

    pub fn hash(self) -> Hash {
        match self {
            HashAlgorithm::Sha2_256 => Hash::Sha256,
            HashAlgorithm::Sha2_384 => Hash::Sha384,
            HashAlgorithm::Sha2_512 => Hash::Sha512,
        }
    }

    pub fn from_hash(h: Hash) -> Option<HashAlgorithm> {
        Some(match h {
            Hash::Sha256 => HashAlgorithm::Sha2_256,
            Hash::Sha384 => HashAlgorithm::Sha2_384,
            Hash::Sha512 => HashAlgorithm::Sha2_512,
            Hash::Sha1 => return None,
        })
    }

    /// protobuf-specs' name.
    pub fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha2_256 => "SHA2_256",
            HashAlgorithm::Sha2_384 => "SHA2_384",
            HashAlgorithm::Sha2_512 => "SHA2_512",
        }
    }

    /// in-toto's and Rekor's name.
    pub fn short_name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha2_256 => "sha256",
            HashAlgorithm::Sha2_384 => "sha384",
            HashAlgorithm::Sha2_512 => "sha512",
        }
    }

    pub fn digest_len(self) -> usize {
        match self {
            HashAlgorithm::Sha2_256 => 32,
            HashAlgorithm::Sha2_384 => 48,
            HashAlgorithm::Sha2_512 => 64,
        }
    }
}

/// `messageSignature.messageDigest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageDigest {
    pub algorithm: HashAlgorithm,
    pub digest: Vec<u8>,
}

/// What was signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    MessageSignature {
        digest: MessageDigest,
        signature: Vec<u8>,
    },
    Dsse(Envelope),
}

/// Who signed: a certificate or a key named by a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Material {
    Certificate {
        leaf: Cert,
        /// The rest of an `x509CertificateChain` (intermediates); not used
        /// for path building, which takes intermediates from the trusted
        /// root only, as sigstore-go does.
        chain: Vec<Cert>,
    },
    PublicKey {
        hint: Option<String>,
    },
}

/// `inclusionProof`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionProof {
    pub log_index: i64,
    pub root_hash: Vec<u8>,
    pub tree_size: i64,
    pub hashes: Vec<Vec<u8>>,
    /// `checkpoint.envelope`; its absence fails verification.
    pub checkpoint: Option<String>,
}

/// One `tlogEntries` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogEntry {
    pub log_index: i64,
    pub log_id: Vec<u8>,
    pub kind: String,
    pub version: String,
    /// Seconds since the epoch; 0 when absent (Rekor v2).
    pub integrated_time: i64,
    /// `inclusionPromise.signedEntryTimestamp`.
    pub inclusion_promise: Option<Vec<u8>>,
    pub inclusion_proof: Option<InclusionProof>,
    pub canonicalized_body: Vec<u8>,
}

/// A parsed bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    pub media_type: String,
    pub version: BundleVersion,
    pub material: Material,
    pub tlog_entries: Vec<TlogEntry>,
    /// DER RFC 3161 `TimeStampResp`s.
    pub timestamps: Vec<Vec<u8>>,
    pub content: Content,
}

fn bad(why: impl std::fmt::Display) -> String {
    format!("not a valid Sigstore bundle: {why}")
}

impl Bundle {
    /// Parses a bundle's JSON; the error names what is wrong and where.
    pub fn parse(bytes: &[u8]) -> Result<Bundle, String> {
        if bytes.len() > MAX_BUNDLE_BYTES {
            return Err(bad(format!(
                "it is {} bytes, more than the {MAX_BUNDLE_BYTES} allowed",
                bytes.len()
            )));
        }
        let value = strict_json(bytes).map_err(|e| bad(format!("it {e}")))?;
        let mut top = Obj::new(value, "").map_err(bad)?;
        top.only(&[
            "mediaType",
            "verificationMaterial",
            "messageSignature",
            "dsseEnvelope",
        ])
        .map_err(bad)?;
        let media_type = top.req_string("mediaType").map_err(bad)?;
        let version = BundleVersion::of_media_type(&media_type).ok_or_else(|| {
            bad(format!(
                "unsupported bundle media type {media_type:?} (versions 0.1 to 0.3 are supported)"
            ))
        })?;
        let material_obj = top.req_obj("verificationMaterial").map_err(bad)?;
        let (material, tlog_entries, timestamps) = material(material_obj, version).map_err(bad)?;
        let message = top.obj("messageSignature").map_err(bad)?;
        let dsse = top.obj("dsseEnvelope").map_err(bad)?;
        let content = match (message, dsse) {
            (Some(m), None) => message_signature(m).map_err(bad)?,
            (None, Some(d)) => Content::Dsse(Envelope::from_obj(d).map_err(bad)?),
            (None, None) => {
                return Err(bad("it has neither a messageSignature nor a dsseEnvelope"));
            }
            (Some(_), Some(_)) => {
                return Err(bad("it has both a messageSignature and a dsseEnvelope"));
            }
        };
        Ok(Bundle {
            media_type,
            version,
            material,
            tlog_entries,
            timestamps,
            content,
        })
    }

    /// The signature bytes (the message signature, or the envelope's one
    /// signature): what the log entries and timestamps are about.
    pub fn signature(&self) -> Result<&[u8], String> {
        match &self.content {
            Content::MessageSignature { signature, .. } => Ok(signature),
            Content::Dsse(e) => Ok(&e.single_signature()?.sig),
        }
    }
}

fn message_signature(mut m: Obj) -> Result<Content, String> {
    m.only(&["messageDigest", "signature"])?;
    let mut d = m.req_obj("messageDigest")?;
    d.only(&["algorithm", "digest"])?;
    let alg = d.req_string("algorithm")?;
    let algorithm = HashAlgorithm::parse(&alg)
        .filter(|_| alg.starts_with("SHA2_"))
        .ok_or_else(|| {
            format!("messageSignature.messageDigest.algorithm {alg:?} is not SHA2_256, SHA2_384 or SHA2_512")
        })?;
    let digest = d.req_bytes("digest")?;
    if digest.len() != algorithm.digest_len() {
        return Err(format!(
            "messageSignature.messageDigest.digest is {} bytes, not the {} of {}",
            digest.len(),
            algorithm.digest_len(),
            algorithm.name()
        ));
    }
    let signature = m.req_bytes("signature")?;
    Ok(Content::MessageSignature {
        digest: MessageDigest { algorithm, digest },
        signature,
    })
}

type MaterialParts = (Material, Vec<TlogEntry>, Vec<Vec<u8>>);

fn material(mut vm: Obj, version: BundleVersion) -> Result<MaterialParts, String> {
    vm.only(&[
        "publicKey",
        "x509CertificateChain",
        "certificate",
        "tlogEntries",
        "timestampVerificationData",
    ])?;
    let public_key = vm.obj("publicKey")?;
    let chain = vm.obj("x509CertificateChain")?;
    let certificate = vm.obj("certificate")?;
    let material = match (public_key, chain, certificate) {
        (Some(mut pk), None, None) => {
            pk.only(&["hint"])?;
            Material::PublicKey {
                hint: pk.string("hint")?,
            }
        }
        (None, Some(mut ch), None) => {
            if version >= BundleVersion::V0_3 {
                return Err(
                    "verificationMaterial.x509CertificateChain is not allowed in a version 0.3 bundle (use certificate)"
                        .into(),
                );
            }
            ch.only(&["certificates"])?;
            let mut certs = ch
                .array("certificates", MAX_CHAIN)?
                .into_iter()
                .map(|(path, v)| raw_certificate(element(path, v)?))
                .collect::<Result<Vec<Cert>, String>>()?;
            if certs.is_empty() {
                return Err("verificationMaterial.x509CertificateChain has no certificate".into());
            }
            let leaf = certs.remove(0);
            if let Some(root) = certs.iter().find(|c| self_signed(c)) {
                return Err(format!(
                    "verificationMaterial.x509CertificateChain contains the root certificate {:?}: a bundle must not carry a root",
                    root.subject()
                ));
            }
            Material::Certificate { leaf, chain: certs }
        }
        (None, None, Some(c)) => Material::Certificate {
            leaf: raw_certificate(c)?,
            chain: Vec::new(),
        },
        (None, None, None) => {
            return Err(
                "verificationMaterial has no publicKey, x509CertificateChain or certificate".into(),
            );
        }
        _ => {
            return Err(
                "verificationMaterial has more than one of publicKey, x509CertificateChain and certificate"
                    .into(),
            );
        }
    };
    let entries = vm
        .array("tlogEntries", MAX_TLOG_ENTRIES)?
        .into_iter()
        .map(|(path, v)| tlog_entry(element(path, v)?))
        .collect::<Result<Vec<TlogEntry>, String>>()?;
    for (i, e) in entries.iter().enumerate() {
        if version == BundleVersion::V0_1 && e.inclusion_promise.is_none() {
            return Err(format!(
                "verificationMaterial.tlogEntries[{i}] has no inclusionPromise, which a version 0.1 bundle requires"
            ));
        }
        if version >= BundleVersion::V0_2 && e.inclusion_proof.is_none() {
            return Err(format!(
                "verificationMaterial.tlogEntries[{i}] has no inclusionProof, which bundles from version 0.2 on require"
            ));
        }
    }
    let mut timestamps = Vec::new();
    if let Some(mut tvd) = vm.obj("timestampVerificationData")? {
        tvd.only(&["rfc3161Timestamps"])?;
        for (path, v) in tvd.array("rfc3161Timestamps", MAX_TIMESTAMPS)? {
            let mut t = element(path, v)?;
            t.only(&["signedTimestamp"])?;
            timestamps.push(t.req_bytes("signedTimestamp")?);
        }
    }
    Ok((material, entries, timestamps))
}

fn self_signed(c: &Cert) -> bool {
    c.raw_subject() == c.raw_issuer() && is_issued_by(c, c).unwrap_or(false)
}

fn raw_certificate(mut c: Obj) -> Result<Cert, String> {
    c.only(&["rawBytes"])?;
    let der = c.req_bytes("rawBytes")?;
    Cert::from_der(&der).map_err(|e| format!("{}.rawBytes is not a certificate: {e}", c.path()))
}

fn tlog_entry(mut e: Obj) -> Result<TlogEntry, String> {
    e.only(&[
        "logIndex",
        "logId",
        "kindVersion",
        "integratedTime",
        "inclusionPromise",
        "inclusionProof",
        "canonicalizedBody",
    ])?;
    let path = e.path().to_string();
    let log_index = e.int64("logIndex")?.unwrap_or(0);
    if log_index < 0 {
        return Err(format!("{path}.logIndex is negative"));
    }
    let mut id = e.req_obj("logId")?;
    id.only(&["keyId"])?;
    let log_id = id.req_bytes("keyId")?;
    let mut kv = e.req_obj("kindVersion")?;
    kv.only(&["kind", "version"])?;
    let kind = kv.req_string("kind")?;
    let version = kv.req_string("version")?;
    let integrated_time = e.int64("integratedTime")?.unwrap_or(0);
    if integrated_time < 0 {
        return Err(format!("{path}.integratedTime is negative"));
    }
    let inclusion_promise = match e.obj("inclusionPromise")? {
        None => None,
        Some(mut p) => {
            p.only(&["signedEntryTimestamp"])?;
            Some(p.req_bytes("signedEntryTimestamp")?)
        }
    };
    let inclusion_proof = match e.obj("inclusionProof")? {
        None => None,
        Some(mut p) => {
            p.only(&["logIndex", "rootHash", "treeSize", "hashes", "checkpoint"])?;
            let proof_path = p.path().to_string();
            let log_index = p.int64("logIndex")?.unwrap_or(0);
            let tree_size = p.int64("treeSize")?.unwrap_or(0);
            if log_index < 0 || tree_size < 0 {
                return Err(format!(
                    "{proof_path} has a negative log index or tree size"
                ));
            }
            let root_hash = p.req_bytes("rootHash")?;
            let hashes = p
                .array("hashes", MAX_PROOF_HASHES)?
                .into_iter()
                .map(|(hp, v)| match v {
                    serde_json::Value::String(s) => super::json::decode_bytes(&s)
                        .map_err(|err| format!("{hp} is not base64: {err}")),
                    _ => Err(format!("{hp} is not a base64 string")),
                })
                .collect::<Result<Vec<_>, String>>()?;
            let checkpoint = match p.obj("checkpoint")? {
                None => None,
                Some(mut c) => {
                    c.only(&["envelope"])?;
                    c.string("envelope")?.filter(|s| !s.is_empty())
                }
            };
            Some(InclusionProof {
                log_index,
                root_hash,
                tree_size,
                hashes,
                checkpoint,
            })
        }
    };
    let canonicalized_body = e.req_bytes("canonicalizedBody")?;
    Ok(TlogEntry {
        log_index,
        log_id,
        kind,
        version,
        integrated_time,
        inclusion_promise,
        inclusion_proof,
        canonicalized_body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "oM/HEnHW4njlfNMy/5V8P3BD/do1TEy7GQow1W76Ab8=";

    fn doc(media_type: &str, material: &str, content: &str) -> String {
        format!(r#"{{"mediaType":"{media_type}","verificationMaterial":{material},{content}}}"#)
    }

    fn message() -> String {
        format!(
            r#""messageSignature":{{"messageDigest":{{"algorithm":"SHA2_256","digest":"{DIGEST}"}},"signature":"AAAA"}}"#
        )
    }

    const ENTRY: &str = r#"{"logIndex":"1","logId":{"keyId":"AAAA"},"kindVersion":{"kind":"hashedrekord","version":"0.0.1"},"integratedTime":"5","canonicalizedBody":"e30="}"#;
    const PROMISE: &str = r#","inclusionPromise":{"signedEntryTimestamp":"AAAA"}"#;
    const PROOF: &str = r#","inclusionProof":{"logIndex":"1","rootHash":"AAAA","treeSize":"2","hashes":["AAAA"],"checkpoint":{"envelope":"x"}}"#;

    fn key(entries: &str) -> String {
        format!(r#"{{"publicKey":{{"hint":"h"}},"tlogEntries":[{entries}]}}"#)
    }

    #[test]
    fn versions_and_their_rules() {
        let entry = |extra: &str| ENTRY.trim_end_matches('}').to_string() + extra + "}";
        let b =
            Bundle::parse(doc(BUNDLE_MEDIA_TYPE_V01, &key(&entry(PROMISE)), &message()).as_bytes())
                .unwrap();
        assert_eq!(b.version, BundleVersion::V0_1);
        assert_eq!(b.tlog_entries[0].log_index, 1);
        assert_eq!(b.tlog_entries[0].integrated_time, 5);
        assert_eq!(b.signature().unwrap(), [0, 0, 0]);
        let b =
            Bundle::parse(doc(BUNDLE_MEDIA_TYPE_V03, &key(&entry(PROOF)), &message()).as_bytes())
                .unwrap();
        let proof = b.tlog_entries[0].inclusion_proof.as_ref().unwrap();
        assert_eq!((proof.tree_size, proof.hashes.len()), (2, 1));
        assert_eq!(proof.checkpoint.as_deref(), Some("x"));
        for (d, why) in [
            (
                doc(BUNDLE_MEDIA_TYPE_V01, &key(&entry(PROOF)), &message()),
                "has no inclusionPromise, which a version 0.1 bundle requires",
            ),
            (
                doc(BUNDLE_MEDIA_TYPE_V02, &key(&entry(PROMISE)), &message()),
                "has no inclusionProof",
            ),
            (
                doc(
                    BUNDLE_MEDIA_TYPE_V03,
                    r#"{"x509CertificateChain":{"certificates":[]}}"#,
                    &message(),
                ),
                "not allowed in a version 0.3 bundle",
            ),
            (
                doc(BUNDLE_MEDIA_TYPE_V03, r#"{}"#, &message()),
                "has no publicKey, x509CertificateChain or certificate",
            ),
            (
                doc(
                    BUNDLE_MEDIA_TYPE_V03,
                    r#"{"publicKey":{},"certificate":{"rawBytes":"AAAA"}}"#,
                    &message(),
                ),
                "more than one of publicKey",
            ),
            (
                format!(
                    r#"{{"mediaType":"{BUNDLE_MEDIA_TYPE_V03}","verificationMaterial":{{"publicKey":{{}}}}}}"#
                ),
                "neither a messageSignature nor a dsseEnvelope",
            ),
            (
                doc(
                    BUNDLE_MEDIA_TYPE_V03,
                    &key(""),
                    &format!(
                        r#"{},"dsseEnvelope":{{"payload":"","payloadType":"t","signatures":[]}}"#,
                        message()
                    ),
                ),
                "both a messageSignature and a dsseEnvelope",
            ),
            (
                doc(
                    BUNDLE_MEDIA_TYPE_V03,
                    &key(""),
                    &message().replace("SHA2_256", "SHA2_384"),
                ),
                "is 32 bytes, not the 48 of SHA2_384",
            ),
            (
                doc(
                    BUNDLE_MEDIA_TYPE_V03,
                    &key(""),
                    &message().replace("SHA2_256", "sha256"),
                ),
                "is not SHA2_256, SHA2_384 or SHA2_512",
            ),
            (
                doc(
                    BUNDLE_MEDIA_TYPE_V03,
                    &key(&entry(PROOF)
                        .replace("\"integratedTime\":\"5\"", "\"integratedTime\":\"-5\"")),
                    &message(),
                ),
                "integratedTime is negative",
            ),
            (
                doc(
                    BUNDLE_MEDIA_TYPE_V03,
                    &key(&entry(PROOF).replace("\"kind\"", "\"Kind\"")),
                    &message(),
                ),
                "unknown field verificationMaterial.tlogEntries[0].kindVersion.Kind",
            ),
            (
                doc(
                    "application/vnd.dev.sigstore.bundle.v0.4+json",
                    &key(""),
                    &message(),
                ),
                "unsupported bundle media type",
            ),
        ] {
            let e = Bundle::parse(d.as_bytes()).unwrap_err();
            assert!(e.contains(why), "{d}: {e}");
            assert!(e.starts_with("not a valid Sigstore bundle: "), "{e}");
        }
    }
}
