//! Sigstore trusted roots (`application/vnd.dev.sigstore.trustedroot+json;
//! version=0.1`), the document `cosign verify --trusted-root` takes and
//! Sigstore's TUF repository distributes: the Fulcio certificate
//! authorities, the transparency logs (Rekor v1 and v2), the certificate
//! transparency logs and the timestamp authorities, each with the window in
//! which it is trusted.
//!
//! Parsing is strict (`cosign::json`) and follows sigstore-go's
//! `NewTrustedRootFromJSON`:
//! - the media type is exactly version 0.1;
//! - a transparency log (tlog or ctlog) has `hashAlgorithm` `SHA2_256`, a
//!   `logId.keyId`, a public key whose `keyDetails` is one sigstore-go
//!   accepts and agrees with the key, and a `validFor` with a `start` (a
//!   missing start is an error, not "since ever");
//! - a certificate authority or timestamp authority has a non-empty chain
//!   of certificates (root last) and an optional `validFor`;
//! - a timestamp authority's chain starts with its (non-CA) signing
//!   certificate when it names one, and has a root;
//! - at most [`MAX_TRUSTED_ROOT_BYTES`], 64 entries per list, 10
//!   certificates per chain.
//!
//! Validity windows are closed intervals: both ends count as inside
//! (protobuf-specs' `TimeRange`, and the conformance suite's
//! `trust-root-*-validity-end-inclusive` cases).

use aws_lc_rs::digest;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::json::{Obj, element};
use super::payload::strict_json;
use super::rekor::RekorKey;
use crate::x509::{Cert, Curve, PublicKey};

/// The one media type of a trusted root.
pub const TRUSTED_ROOT_MEDIA_TYPE: &str =
    "application/vnd.dev.sigstore.trustedroot+json;version=0.1";
/// A trusted root larger than this is refused (the public-good one is 7 KiB).
pub const MAX_TRUSTED_ROOT_BYTES: usize = 1 << 20;
const MAX_ENTRIES: usize = 64;
const MAX_CHAIN: usize = 10;

/// A closed interval of time; an absent end is unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeRange {
    pub start: Option<OffsetDateTime>,
    pub end: Option<OffsetDateTime>,
}

impl TimeRange {
    /// No bounds at all.
    pub const ALWAYS: TimeRange = TimeRange {
        start: None,
        end: None,
    };

    /// `t` is inside the window (both ends included).
    pub fn contains(&self, t: OffsetDateTime) -> bool {
        self.start.is_none_or(|s| t >= s) && self.end.is_none_or(|e| t <= e)
    }

    /// "from 2021-01-12T11:53:27Z until 2022-12-31T23:59:59.999Z".
    pub fn describe(&self) -> String {
        let fmt = |t: OffsetDateTime| t.format(&Rfc3339).unwrap_or_else(|_| t.to_string());
        match (self.start, self.end) {
            (None, None) => "at any time".into(),
            (Some(s), None) => format!("from {}", fmt(s)),
            (None, Some(e)) => format!("until {}", fmt(e)),
            (Some(s), Some(e)) => format!("from {} until {}", fmt(s), fmt(e)),
        }
    }
}

/// The signature scheme a log key is declared with (`keyDetails`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyDetails {
    EcdsaP256Sha256,
    EcdsaP384Sha384,
    EcdsaP521Sha512,
    /// `PKIX_RSA_PKCS1V15_{2048,3072,4096}_SHA256`: an RSA SubjectPublicKeyInfo.
    RsaPkcs1v15Sha256,
    /// `PKCS1_RSA_PKCS1V5` (deprecated): a bare PKCS#1 RSAPublicKey.
    Pkcs1RsaPkcs1v5,
    Ed25519,
}

impl KeyDetails {
    fn parse(s: &str) -> Option<KeyDetails> {
        Some(match s {
            "PKIX_ECDSA_P256_SHA_256" => KeyDetails::EcdsaP256Sha256,
            "PKIX_ECDSA_P384_SHA_384" => KeyDetails::EcdsaP384Sha384,
            "PKIX_ECDSA_P521_SHA_512" => KeyDetails::EcdsaP521Sha512,
            "PKIX_RSA_PKCS1V15_2048_SHA256"
            | "PKIX_RSA_PKCS1V15_3072_SHA256"
            | "PKIX_RSA_PKCS1V15_4096_SHA256" => KeyDetails::RsaPkcs1v15Sha256,
            "PKCS1_RSA_PKCS1V5" => KeyDetails::Pkcs1RsaPkcs1v5,
            "PKIX_ED25519" => KeyDetails::Ed25519,
            _ => return None,
        })
    }
}

/// A transparency log (Rekor) or certificate transparency log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransparencyLog {
    /// `baseUrl`; for a Rekor v2 log its host is the checkpoint origin.
    pub base_url: String,
    /// `logId.keyId`: how entries, SCTs and checkpoints name the log.
    pub log_id: Vec<u8>,
    pub key: PublicKey,
    pub key_details: KeyDetails,
    /// The key's SubjectPublicKeyInfo DER.
    pub spki_der: Vec<u8>,
    pub valid_for: TimeRange,
    /// `checkpointKeyId`, when the root gives it.
    pub checkpoint_key_id: Option<Vec<u8>>,
}

impl TransparencyLog {
    /// `https://rekor.sigstore.dev (log ID c0d23d6a…)`.
    pub fn describe(&self) -> String {
        format!("{} (log ID {})", self.base_url, hex::encode(&self.log_id))
    }

    /// The host of `baseUrl` (a Rekor v2 log's checkpoint origin).
    pub fn host(&self) -> &str {
        let rest = self
            .base_url
            .split_once("://")
            .map_or(self.base_url.as_str(), |(_, r)| r);
        let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        if let Some(v6) = host_port.strip_prefix('[') {
            return v6.split(']').next().unwrap_or(v6);
        }
        host_port.split(':').next().unwrap_or(host_port)
    }
}

/// A Fulcio certificate authority or a timestamp authority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateAuthority {
    pub uri: String,
    /// As given: the signing certificate (timestamp authorities) or
    /// intermediates first, the root last.
    pub chain: Vec<Cert>,
    pub valid_for: TimeRange,
}

impl CertificateAuthority {
    /// The last certificate of the chain.
    pub fn root(&self) -> &Cert {
        // parse refuses empty chains; `from_legacy` builds one-element chains
        &self.chain[self.chain.len() - 1]
    }

    /// Every certificate but the root.
    pub fn intermediates(&self) -> &[Cert] {
        &self.chain[..self.chain.len() - 1]
    }

    /// A timestamp authority's signing certificate: the first of the chain
    /// when it is not a CA (sigstore-go's rule).
    pub fn tsa_leaf(&self) -> Option<&Cert> {
        self.chain
            .first()
            .filter(|c| self.chain.len() > 1 && !(c.basic_constraints_valid() && c.is_ca()))
    }

    pub fn describe(&self) -> String {
        format!("{} ({:?})", self.uri, self.root().subject())
    }
}

/// A parsed trusted root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedRoot {
    pub tlogs: Vec<TransparencyLog>,
    pub certificate_authorities: Vec<CertificateAuthority>,
    pub ctlogs: Vec<TransparencyLog>,
    pub timestamp_authorities: Vec<CertificateAuthority>,
}

fn bad(why: impl std::fmt::Display) -> String {
    format!("not a Sigstore trusted root: {why}")
}

impl TrustedRoot {
    /// Parses a trusted root document; the error says what is wrong and
    /// where.
    pub fn parse(bytes: &[u8]) -> Result<TrustedRoot, String> {
        if bytes.len() > MAX_TRUSTED_ROOT_BYTES {
            return Err(bad(format!(
                "it is {} bytes, more than the {MAX_TRUSTED_ROOT_BYTES} allowed",
                bytes.len()
            )));
        }
        let value = strict_json(bytes).map_err(|e| bad(format!("it {e}")))?;
        let mut top = Obj::new(value, "").map_err(bad)?;
        top.only(&[
            "mediaType",
            "tlogs",
            "certificateAuthorities",
            "ctlogs",
            "timestampAuthorities",
        ])
        .map_err(bad)?;
        let media_type = top.req_string("mediaType").map_err(bad)?;
        if media_type != TRUSTED_ROOT_MEDIA_TYPE {
            return Err(bad(format!(
                "unsupported media type {media_type:?} (expected {TRUSTED_ROOT_MEDIA_TYPE:?})"
            )));
        }
        let logs = |top: &mut Obj, key: &str| -> Result<Vec<TransparencyLog>, String> {
            top.array(key, MAX_ENTRIES)?
                .into_iter()
                .map(|(path, v)| transparency_log(element(path, v)?))
                .collect()
        };
        let authorities =
            |top: &mut Obj, key: &str, tsa: bool| -> Result<Vec<CertificateAuthority>, String> {
                top.array(key, MAX_ENTRIES)?
                    .into_iter()
                    .map(|(path, v)| authority(element(path, v)?, tsa))
                    .collect()
            };
        let tlogs = logs(&mut top, "tlogs").map_err(bad)?;
        let certificate_authorities =
            authorities(&mut top, "certificateAuthorities", false).map_err(bad)?;
        let ctlogs = logs(&mut top, "ctlogs").map_err(bad)?;
        let timestamp_authorities =
            authorities(&mut top, "timestampAuthorities", true).map_err(bad)?;
        Ok(TrustedRoot {
            tlogs,
            certificate_authorities,
            ctlogs,
            timestamp_authorities,
        })
    }

    /// The transparency log named `log_id`.
    pub fn tlog(&self, log_id: &[u8]) -> Option<&TransparencyLog> {
        self.tlogs.iter().find(|l| l.log_id == log_id)
    }

    /// The certificate transparency log named `log_id`.
    pub fn ctlog(&self, log_id: &[u8]) -> Option<&TransparencyLog> {
        self.ctlogs.iter().find(|l| l.log_id == log_id)
    }

    /// A trusted root made of a legacy policy's material: Rekor v1 keys
    /// (trusted at any time) and Fulcio root or intermediate certificates
    /// (each one a trust anchor of its own, as in Go's `x509.Verify`). It
    /// has no CT logs and no timestamp authorities.
    pub fn from_legacy(rekor_keys: &[RekorKey], fulcio_roots: &[Cert]) -> TrustedRoot {
        TrustedRoot {
            tlogs: rekor_keys
                .iter()
                .filter_map(|k| {
                    let log_id = hex::decode(&k.log_id).ok()?;
                    Some(TransparencyLog {
                        base_url: k.key.source.clone(),
                        key_details: match &k.key.key {
                            PublicKey::Ec {
                                curve: Curve::P384, ..
                            } => KeyDetails::EcdsaP384Sha384,
                            PublicKey::Ec {
                                curve: Curve::P521, ..
                            } => KeyDetails::EcdsaP521Sha512,
                            _ => KeyDetails::EcdsaP256Sha256,
                        },
                        key: k.key.key.clone(),
                        spki_der: Vec::new(),
                        log_id,
                        valid_for: TimeRange::ALWAYS,
                        checkpoint_key_id: None,
                    })
                })
                .collect(),
            certificate_authorities: fulcio_roots
                .iter()
                .map(|c| CertificateAuthority {
                    uri: c.subject().to_string(),
                    chain: vec![c.clone()],
                    valid_for: TimeRange::ALWAYS,
                })
                .collect(),
            ctlogs: Vec::new(),
            timestamp_authorities: Vec::new(),
        }
    }
}

fn valid_for(obj: Option<Obj>) -> Result<Option<TimeRange>, String> {
    let Some(mut v) = obj else { return Ok(None) };
    v.only(&["start", "end"])?;
    let range = TimeRange {
        start: v.timestamp("start")?,
        end: v.timestamp("end")?,
    };
    if let (Some(s), Some(e)) = (range.start, range.end)
        && e < s
    {
        return Err(format!("{} ends before it starts", v.path()));
    }
    Ok(Some(range))
}

fn transparency_log(mut o: Obj) -> Result<TransparencyLog, String> {
    o.only(&[
        "baseUrl",
        "hashAlgorithm",
        "publicKey",
        "logId",
        "checkpointKeyId",
        "operator",
    ])?;
    let path = o.path().to_string();
    let base_url = o.string("baseUrl")?.unwrap_or_default();
    let _ = o.string("operator")?;
    match o.string("hashAlgorithm")?.as_deref() {
        Some("SHA2_256") => {}
        Some(other) => {
            return Err(format!(
                "{path}.hashAlgorithm is {other:?}: only SHA2_256 logs are supported"
            ));
        }
        None => return Err(format!("{path}.hashAlgorithm is missing")),
    }
    let mut id = o.req_obj("logId")?;
    id.only(&["keyId"])?;
    let log_id = id.req_bytes("keyId")?;
    let checkpoint_key_id = match o.obj("checkpointKeyId")? {
        None => None,
        Some(mut c) => {
            c.only(&["keyId"])?;
            Some(c.req_bytes("keyId")?)
        }
    };
    let mut pk = o.req_obj("publicKey")?;
    pk.only(&["rawBytes", "keyDetails", "validFor"])?;
    let raw = pk.req_bytes("rawBytes")?;
    let details_text = pk.req_string("keyDetails")?;
    let key_details = KeyDetails::parse(&details_text).ok_or_else(|| {
        format!("{path}.publicKey.keyDetails {details_text:?} is not a supported log key type")
    })?;
    let range = valid_for(pk.obj("validFor")?)?
        .ok_or_else(|| format!("{path}.publicKey.validFor is missing"))?;
    if range.start.is_none() {
        return Err(format!("{path}.publicKey.validFor.start is missing"));
    }
    let (key, spki_der) = log_key(&raw, key_details)
        .map_err(|e| format!("{path}.publicKey ({details_text}): {e}"))?;
    Ok(TransparencyLog {
        base_url,
        log_id,
        key,
        key_details,
        spki_der,
        valid_for: range,
        checkpoint_key_id,
    })
}

/// The key of a log, checked against its declared details; with its
/// SubjectPublicKeyInfo DER (built for a bare PKCS#1 key).
fn log_key(raw: &[u8], details: KeyDetails) -> Result<(PublicKey, Vec<u8>), String> {
    if details == KeyDetails::Pkcs1RsaPkcs1v5 {
        let spki = rsa_spki(raw);
        let key = spki_key(&spki)?;
        return match key {
            PublicKey::Rsa { .. } => Ok((key, spki)),
            _ => Err("not an RSA public key".into()),
        };
    }
    let key = spki_key(raw)?;
    let fits = matches!(
        (&key, details),
        (
            PublicKey::Ec {
                curve: Curve::P256,
                ..
            },
            KeyDetails::EcdsaP256Sha256
        ) | (
            PublicKey::Ec {
                curve: Curve::P384,
                ..
            },
            KeyDetails::EcdsaP384Sha384
        ) | (
            PublicKey::Ec {
                curve: Curve::P521,
                ..
            },
            KeyDetails::EcdsaP521Sha512
        ) | (PublicKey::Rsa { .. }, KeyDetails::RsaPkcs1v15Sha256)
            | (PublicKey::Ed25519(_), KeyDetails::Ed25519)
    );
    if !fits {
        return Err("the key's type does not match keyDetails".into());
    }
    Ok((key, raw.to_vec()))
}

fn spki_key(der: &[u8]) -> Result<PublicKey, String> {
    use der::Decode as _;
    let spki = spki::SubjectPublicKeyInfoOwned::from_der(der)
        .map_err(|e| format!("not a public key: {e}"))?;
    let key = PublicKey::from_spki(&spki)?;
    if let PublicKey::Other(what) = &key {
        return Err(format!("unsupported public key type {what}"));
    }
    Ok(key)
}

/// A SubjectPublicKeyInfo for a PKCS#1 RSAPublicKey.
fn rsa_spki(pkcs1: &[u8]) -> Vec<u8> {
    use super::sct::tlv;
    let algorithm = tlv(
        0x30,
        &[&[
            0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
        ][..]]
        .concat(),
    );
    let mut bits = vec![0u8];
    bits.extend_from_slice(pkcs1);
    tlv(0x30, &[algorithm, tlv(0x03, &bits)].concat())
}

fn authority(mut o: Obj, tsa: bool) -> Result<CertificateAuthority, String> {
    o.only(&["subject", "uri", "certChain", "validFor", "operator"])?;
    let path = o.path().to_string();
    if let Some(mut subject) = o.obj("subject")? {
        subject.only(&["organization", "commonName"])?;
        subject.string("organization")?;
        subject.string("commonName")?;
    }
    let _ = o.string("operator")?;
    let uri = o.string("uri")?.unwrap_or_default();
    let mut chain_obj = o.req_obj("certChain")?;
    chain_obj.only(&["certificates"])?;
    let certs = chain_obj.array("certificates", MAX_CHAIN)?;
    if certs.is_empty() {
        return Err(format!("{path}.certChain.certificates is empty"));
    }
    let chain = certs
        .into_iter()
        .map(|(p, v)| {
            let mut c = element(p, v)?;
            c.only(&["rawBytes"])?;
            let der = c.req_bytes("rawBytes")?;
            Cert::from_der(&der).map_err(|e| format!("{}: {e}", c.path()))
        })
        .collect::<Result<Vec<Cert>, String>>()?;
    let valid_for = valid_for(o.obj("validFor")?)?.unwrap_or_default();
    let authority = CertificateAuthority {
        uri,
        chain,
        valid_for,
    };
    if tsa {
        let first = &authority.chain[0];
        if authority.chain.len() == 1 && !(first.basic_constraints_valid() && first.is_ca()) {
            return Err(format!(
                "{path}.certChain holds only the signing certificate {:?}, not its root",
                first.subject()
            ));
        }
    }
    Ok(authority)
}

/// SHA-256 of `data`.
pub(crate) fn sha256(data: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA256, data).as_ref().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    const P256: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2G2Y+2tabdTV5BcGiBIx0a9fAFwrkBbmLSGtks4L3qX6yYY0zufBnhC8Ur/iy55GhWP/9A/bY2LhC30M9+RYtw==";

    fn root(tlog: &str) -> String {
        format!(r#"{{"mediaType":"{TRUSTED_ROOT_MEDIA_TYPE}","tlogs":[{tlog}]}}"#)
    }

    fn tlog(valid_for: &str) -> String {
        format!(
            r#"{{"baseUrl":"https://rekor.example:443/x","hashAlgorithm":"SHA2_256","publicKey":{{"rawBytes":"{P256}","keyDetails":"PKIX_ECDSA_P256_SHA_256"{valid_for}}},"logId":{{"keyId":"AAEC"}}}}"#
        )
    }

    #[test]
    fn a_minimal_root() {
        let r = TrustedRoot::parse(
            root(&tlog(r#","validFor":{"start":"2021-01-12T11:53:27Z"}"#)).as_bytes(),
        )
        .unwrap();
        assert_eq!(r.tlogs.len(), 1);
        assert_eq!(r.tlogs[0].log_id, [0, 1, 2]);
        assert_eq!(r.tlogs[0].host(), "rekor.example");
        assert!(r.tlog(&[0, 1, 2]).is_some());
        assert!(r.tlog(&[0, 1]).is_none());
    }

    #[test]
    fn refusals_name_the_field() {
        for (doc, why) in [
            (root(&tlog("")), "tlogs[0].publicKey.validFor is missing"),
            (
                root(&tlog(r#","validFor":{"end":"2021-01-12T11:53:27Z"}"#)),
                "tlogs[0].publicKey.validFor.start is missing",
            ),
            (
                root(&tlog(
                    r#","validFor":{"start":"2022-01-12T11:53:27Z","end":"2021-01-12T11:53:27Z"}"#,
                )),
                "ends before it starts",
            ),
            (
                root(&tlog(r#","validFor":{"start":"2021-01-12T11:53:27Z"}"#))
                    .replace("PKIX_ECDSA_P256_SHA_256", "PKIX_ED25519"),
                "does not match keyDetails",
            ),
            (
                root(&tlog(r#","validFor":{"start":"2021-01-12T11:53:27Z"}"#))
                    .replace("SHA2_256", "SHA2_384"),
                "only SHA2_256 logs",
            ),
            (
                root(&tlog(r#","validFor":{"start":"2021-01-12T11:53:27Z"}"#))
                    .replace("baseUrl", "baseURL"),
                "unknown field tlogs[0].baseURL",
            ),
            (
                root("").replace("version=0.1", "version=0.2"),
                "unsupported media type",
            ),
            ("[]".into(), "the document is not an object"),
            ("{".into(), "is not valid JSON"),
            (
                format!(
                    r#"{{"mediaType":"{TRUSTED_ROOT_MEDIA_TYPE}","certificateAuthorities":[{{"certChain":{{"certificates":[]}}}}]}}"#
                ),
                "certificateAuthorities[0].certChain.certificates is empty",
            ),
        ] {
            let e = TrustedRoot::parse(doc.as_bytes()).unwrap_err();
            assert!(e.contains(why), "{doc}: {e}");
            assert!(e.starts_with("not a Sigstore trusted root: "), "{e}");
        }
    }

    #[test]
    fn windows_are_closed() {
        let t = |s: &str| OffsetDateTime::parse(s, &Rfc3339).unwrap();
        let w = TimeRange {
            start: Some(t("2023-01-01T00:00:00Z")),
            end: Some(t("2023-07-12T15:56:36Z")),
        };
        assert!(w.contains(t("2023-07-12T15:56:36Z")));
        assert!(w.contains(t("2023-01-01T00:00:00Z")));
        assert!(!w.contains(t("2023-07-12T15:56:37Z")));
        assert!(!w.contains(t("2022-12-31T23:59:59Z")));
        assert!(TimeRange::ALWAYS.contains(t("1970-01-01T00:00:00Z")));
        assert_eq!(
            w.describe(),
            "from 2023-01-01T00:00:00Z until 2023-07-12T15:56:36Z"
        );
    }

    #[test]
    fn hosts_of_base_urls() {
        let log = |u: &str| TransparencyLog {
            base_url: u.into(),
            log_id: vec![],
            key: PublicKey::Ed25519(vec![]),
            key_details: KeyDetails::Ed25519,
            spki_der: vec![],
            valid_for: TimeRange::ALWAYS,
            checkpoint_key_id: None,
        };
        assert_eq!(
            log("https://log2025-1.rekor.sigstore.dev").host(),
            "log2025-1.rekor.sigstore.dev"
        );
        assert_eq!(log("http://localhost:8000/api").host(), "localhost");
        assert_eq!(log("https://[::1]:3000").host(), "::1");
        assert_eq!(log("rekor.local").host(), "rekor.local");
    }
}
