//! RFC 3161 timestamp tokens as notation's tspclient-go reads and verifies
//! them: BER converted to DER, CMS SignedData (version 3) holding a TSTInfo,
//! the signer found through its signing-certificate-v2 attribute, its path
//! built to the TSA trust store at the timestamp's time, the CMS signature
//! over the signed attributes, and the attributes' content type and digest.
//! Messages are tspclient-go's.

mod asn1;
mod ber;

use std::time::Duration;

use const_oid::ObjectIdentifier;
use sha2::{Digest as _, Sha256, Sha384, Sha512};
use time::OffsetDateTime;

use self::asn1::{R, algorithm, big, expect, int, items, octets, oid, one, strip};
use crate::x509::der_walk::Tlv;
use crate::x509::{
    Cert, Eku, Hash, SignatureAlgorithm, VerifyOptions, check_signature, parse_certificates,
    verify_path,
};

const SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
const SIGNING_CERTIFICATE_V2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
const BASELINE_POLICY: ObjectIdentifier = ObjectIdentifier::new_unwrap("0.4.0.2023.1.1");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const RSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const SHA256_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");

fn hash_of(alg: &ObjectIdentifier) -> Option<Hash> {
    match *alg {
        SHA256 => Some(Hash::Sha256),
        SHA384 => Some(Hash::Sha384),
        SHA512 => Some(Hash::Sha512),
        _ => None,
    }
}

fn digest(h: Hash, data: &[u8]) -> Vec<u8> {
    match h {
        Hash::Sha384 => Sha384::digest(data).to_vec(),
        Hash::Sha512 => Sha512::digest(data).to_vec(),
        _ => Sha256::digest(data).to_vec(),
    }
}

struct Attribute {
    oid: ObjectIdentifier,
    /// The contents of the SET of values (the first value, as Go reads it).
    values: Vec<u8>,
    whole: Vec<u8>,
}

struct SignerInfo {
    version: i64,
    issuer: Vec<u8>,
    serial: Vec<u8>,
    digest_algorithm: ObjectIdentifier,
    signed_attributes: Vec<Attribute>,
    signature_algorithm: ObjectIdentifier,
    signature: Vec<u8>,
}

/// A parsed timestamp token.
pub struct SignedToken {
    content: Vec<u8>,
    certificates: Vec<Cert>,
    signers: Vec<SignerInfo>,
}

/// A token's TSTInfo, as far as verification reads it.
pub struct TstInfo {
    version: i64,
    policy: ObjectIdentifier,
    hash_algorithm: ObjectIdentifier,
    hashed_message: Vec<u8>,
    gen_time: OffsetDateTime,
    accuracy: Duration,
    accuracy_given: bool,
}

/// The time a token proves, with its accuracy.
#[derive(Debug, Clone, Copy)]
pub struct Timestamp {
    pub value: OffsetDateTime,
    pub accuracy: Duration,
}

impl Timestamp {
    /// The whole interval is at or before `t`.
    pub fn bounded_before(&self, t: OffsetDateTime) -> bool {
        // An interval that leaves the representable range is not bounded.
        time::Duration::try_from(self.accuracy)
            .ok()
            .and_then(|a| self.value.checked_add(a))
            .is_some_and(|end| end <= t)
    }

    /// The whole interval is at or after `t`.
    pub fn bounded_after(&self, t: OffsetDateTime) -> bool {
        time::Duration::try_from(self.accuracy)
            .ok()
            .and_then(|a| self.value.checked_sub(a))
            .is_some_and(|start| start >= t)
    }
}

/// tspclient-go `ParseSignedToken`.
pub fn parse(ber_bytes: &[u8]) -> R<SignedToken> {
    let der = ber::to_der(ber_bytes).map_err(|e| {
        format!("cms: syntax error: invalid signed data: failed to convert from BER to DER: {e}")
    })?;
    let ci = one(&der).map_err(|e| {
        format!(
            "cms: syntax error: invalid content info: failed to unmarshal DER to ContentInfo: {e}"
        )
    })?;
    let ci_items = items(&ci).map_err(|e| {
        format!(
            "cms: syntax error: invalid content info: failed to unmarshal DER to ContentInfo: {e}"
        )
    })?;
    let (Some(ct), Some(content)) = (ci_items.first(), ci_items.get(1)) else {
        return Err("cms: syntax error: invalid content info: failed to unmarshal DER to ContentInfo: asn1: syntax error: sequence truncated".into());
    };
    if oid(ct).ok() != Some(SIGNED_DATA) {
        return Err("cms: content type is not signed-data".into());
    }
    let token =
        signed_data(content).map_err(|e| format!("cms: syntax error: invalid signed data: {e}"))?;
    let (version, content_type, content, certificates, signers) = token;
    if version != 3 {
        return Err(format!(
            "cms: syntax error: unsupported signed data version: got {version}, want 3"
        ));
    }
    let certificates = parse_certificates(&certificates).map_err(|e| {
        format!("cms: syntax error: failed to parse X.509 certificates from signed data. Only X.509 certificates are supported: {e}")
    })?;
    if content_type != TST_INFO {
        return Err(format!(
            "unexpected content type: {content_type}. Expected to be id-ct-TSTInfo ({TST_INFO})"
        ));
    }
    Ok(SignedToken {
        content,
        certificates,
        signers,
    })
}

/// An RFC 3161 `TimeStampResp` (what Sigstore bundles carry): its status
/// must be granted (0) or granted with modifications (1), and its token is
/// read by [`parse`].
pub fn parse_response(bytes: &[u8]) -> R<SignedToken> {
    let der = ber::to_der(bytes).map_err(|e| {
        format!("invalid timestamp response: failed to convert from BER to DER: {e}")
    })?;
    let resp = one(&der).map_err(|e| format!("invalid timestamp response: {e}"))?;
    expect(&resp, 0x30, "TimeStampResp").map_err(|e| format!("invalid timestamp response: {e}"))?;
    let parts = items(&resp).map_err(|e| format!("invalid timestamp response: {e}"))?;
    let status_info = parts
        .first()
        .ok_or("invalid timestamp response: it is empty")?;
    expect(status_info, 0x30, "PKIStatusInfo")
        .map_err(|e| format!("invalid timestamp response: {e}"))?;
    let status = items(status_info)
        .ok()
        .and_then(|s| s.first().map(int))
        .ok_or("invalid timestamp response: it has no status")?
        .map_err(|e| format!("invalid timestamp response: {e}"))?;
    if status != 0 && status != 1 {
        return Err(format!(
            "the timestamp response's status is {status}, not granted"
        ));
    }
    let token = parts
        .get(1)
        .ok_or("the timestamp response holds no timestamp token")?;
    if parts.len() > 2 {
        return Err("invalid timestamp response: trailing fields".into());
    }
    parse(token.whole)
}

type SignedDataParts = (i64, ObjectIdentifier, Vec<u8>, Vec<u8>, Vec<SignerInfo>);

fn signed_data(explicit: &Tlv<'_>) -> R<SignedDataParts> {
    expect(explicit, 0xa0, "content")?;
    let sd = one(explicit.contents)?;
    expect(&sd, 0x30, "signed data")?;
    let f = items(&sd)?;
    let field = |i: usize| {
        f.get(i)
            .ok_or_else(|| "asn1: syntax error: sequence truncated".to_string())
    };
    let version = int(field(0)?)?;
    expect(field(1)?, 0x31, "digest algorithms")?;
    let encap = field(2)?;
    expect(encap, 0x30, "encapsulated content info")?;
    let e = items(encap)?;
    let content_type = oid(e.first().ok_or("asn1: syntax error: sequence truncated")?)?;
    let content = match e.get(1) {
        Some(t) => {
            expect(t, 0xa0, "encapsulated content")?;
            octets(&one(t.contents)?)?.to_vec()
        }
        None => Vec::new(),
    };
    let mut i = 3;
    let mut certificates = Vec::new();
    if let Some(t) = f.get(i).filter(|t| t.tag == 0xa0) {
        certificates = t.contents.to_vec();
        i += 1;
    }
    if f.get(i).is_some_and(|t| t.tag == 0xa1) {
        i += 1;
    }
    let set = f.get(i).ok_or("asn1: syntax error: sequence truncated")?;
    expect(set, 0x31, "signer infos")?;
    let signers = items(set)?.iter().map(signer_info).collect::<R<Vec<_>>>()?;
    Ok((version, content_type, content, certificates, signers))
}

fn signer_info(t: &Tlv<'_>) -> R<SignerInfo> {
    expect(t, 0x30, "signer info")?;
    let f = items(t)?;
    let field = |i: usize| {
        f.get(i)
            .ok_or_else(|| "asn1: syntax error: sequence truncated".to_string())
    };
    let version = int(field(0)?)?;
    let sid = field(1)?;
    expect(sid, 0x30, "signer identifier")?;
    let s = items(sid)?;
    let issuer = s
        .first()
        .ok_or("asn1: syntax error: sequence truncated")?
        .whole
        .to_vec();
    let serial = big(s.get(1).ok_or("asn1: syntax error: sequence truncated")?)?;
    let digest_algorithm = algorithm(field(2)?)?;
    let mut i = 3;
    let mut signed_attributes = Vec::new();
    if let Some(attrs) = f.get(i).filter(|t| t.tag == 0xa0) {
        for a in items(attrs)? {
            expect(&a, 0x30, "attribute")?;
            let parts = items(&a)?;
            let oid = oid(parts
                .first()
                .ok_or("asn1: syntax error: sequence truncated")?)?;
            let values = parts
                .get(1)
                .ok_or("asn1: syntax error: sequence truncated")?;
            expect(values, 0x31, "attribute values")?;
            signed_attributes.push(Attribute {
                oid,
                values: values.contents.to_vec(),
                whole: a.whole.to_vec(),
            });
        }
        i += 1;
    }
    let signature_algorithm = algorithm(field(i)?)?;
    let signature = octets(field(i + 1)?)?.to_vec();
    Ok(SignerInfo {
        version,
        issuer,
        serial,
        digest_algorithm,
        signed_attributes,
        signature_algorithm,
        signature,
    })
}

impl SignerInfo {
    fn attribute(&self, oid: ObjectIdentifier) -> R<&[u8]> {
        self.signed_attributes
            .iter()
            .find(|a| a.oid == oid)
            .map(|a| a.values.as_slice())
            .ok_or_else(|| "attribute not found".to_string())
    }

    /// The signed attributes as the DER SET the signature covers (Go
    /// re-marshals them, which sorts the SET OF).
    fn signed_bytes(&self) -> Vec<u8> {
        let mut parts: Vec<&[u8]> = self
            .signed_attributes
            .iter()
            .map(|a| a.whole.as_slice())
            .collect();
        parts.sort();
        let body: Vec<u8> = parts.concat();
        let mut out = vec![0x31];
        push_len(&mut out, body.len());
        out.extend_from_slice(&body);
        out
    }
}

fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let b = (len as u64).to_be_bytes();
        let skip = b.iter().take_while(|x| **x == 0).count();
        out.push(0x80 | (8 - skip) as u8);
        out.extend_from_slice(&b[skip..]);
    }
}

impl SignedToken {
    /// The certificates the token embeds.
    pub fn certificates(&self) -> &[Cert] {
        &self.certificates
    }

    /// tspclient-go `Info`.
    pub fn info(&self) -> R<TstInfo> {
        tst_info(&self.content)
            .map_err(|e| format!("cannot unmarshal TSTInfo from timestamp token: {e}"))
    }

    /// tspclient-go `SignedToken.Verify` with roots = the TSA trust store and
    /// the time = the token's generation time: the TSA chain, leaf first.
    pub fn verify(&self, roots: &[Cert], at: OffsetDateTime) -> R<Vec<Cert>> {
        self.verify_with(roots, &[], at, false)
    }

    /// [`SignedToken::verify`] with `extra` certificates that the token
    /// does not embed (a Sigstore trusted root's TSA signing certificate and
    /// intermediates): candidates for the signer and for path building.
    /// With `by_signer_id`, a signer without the signing-certificate-v2
    /// attribute is found by its SignerInfo's issuer and serial number (as
    /// Sigstore's timestamp-authority verifier, on digitorus/pkcs7, finds
    /// it); tspclient-go requires the attribute.
    pub fn verify_with(
        &self,
        roots: &[Cert],
        extra: &[Cert],
        at: OffsetDateTime,
        by_signer_id: bool,
    ) -> R<Vec<Cert>> {
        let fail = |m: String| format!("failed to verify signed token: {m}");
        if self.signers.is_empty() {
            return Err(fail("signerInfo not found".into()));
        }
        if roots.is_empty() {
            return Err(fail("tsa root certificate pool cannot be nil".into()));
        }
        let mut last = String::new();
        let pool: Vec<Cert> = self.certificates.iter().chain(extra).cloned().collect();
        for signer in &self.signers {
            let found = if by_signer_id && signer.attribute(SIGNING_CERTIFICATE_V2).is_err() {
                pool.iter()
                    .find(|c| c.raw_issuer() == signer.issuer && strip(c.serial()) == signer.serial)
                    .ok_or_else(|| {
                        "signing certificate not found in the timestamp token".to_string()
                    })
            } else {
                self.signing_certificate(signer, &pool)
            };
            let cert = match found {
                Ok(c) => c,
                Err(e) => {
                    last = fail(e);
                    continue;
                }
            };
            let chain = match self.verify_signer(signer, cert, roots, &pool, at) {
                Ok(c) => c,
                Err(e) => {
                    last = fail(e);
                    continue;
                }
            };
            let ekus = cert.extended_key_usage();
            if ekus.len() == 1 && ekus[0] == Eku::TimeStamping {
                if cert
                    .extension(const_oid::db::rfc5280::ID_CE_EXT_KEY_USAGE)
                    .is_some_and(|e| e.critical)
                {
                    return Ok(chain);
                }
                last = fail(
                    "signing certificate extended key usage extension must be set as critical"
                        .into(),
                );
            } else {
                last = fail("signing certificate must have and only have ExtKeyUsageTimeStamping as extended key usage".into());
            }
        }
        Err(last)
    }

    /// tspclient-go `SigningCertificate`: the signer named by the
    /// signing-certificate-v2 attribute, checked against its hash.
    fn signing_certificate<'a>(&self, signer: &SignerInfo, pool: &'a [Cert]) -> R<&'a Cert> {
        let ess = signer
            .attribute(SIGNING_CERTIFICATE_V2)
            .and_then(signing_certificate_v2)
            .map_err(|e| {
                format!("failed to get SigningCertificateV2 from signed attributes: {e}")
            })?;
        let first = ess
            .first()
            .ok_or("signingCertificateV2 does not contain any certificate")?;
        let (issuer, serial) = match &first.issuer_serial {
            Some((Some(issuer), serial)) => (issuer.as_slice(), serial.as_slice()),
            Some((None, _)) => return Err("issuer name is missing in IssuerSerial".into()),
            None => (signer.issuer.as_slice(), signer.serial.as_slice()),
        };
        let cert = pool
            .iter()
            .find(|c| c.raw_issuer() == issuer && strip(c.serial()) == serial)
            .ok_or("signing certificate not found in the timestamp token")?;
        let hash = match &first.hash_algorithm {
            None => Hash::Sha256,
            Some(alg) => hash_of(alg).ok_or(
                "unsupported certificate hash algorithm in SigningCertificateV2 attribute",
            )?,
        };
        if digest(hash, cert.der()) != first.cert_hash {
            return Err(
                "signing certificate hash does not match CertHash in signed attribute".into(),
            );
        }
        Ok(cert)
    }

    fn verify_signer(
        &self,
        signer: &SignerInfo,
        cert: &Cert,
        roots: &[Cert],
        pool: &[Cert],
        at: OffsetDateTime,
    ) -> R<Vec<Cert>> {
        let cms = |m: String| format!("cms verification failure: {m}");
        if signer.version != 1 {
            return Err(cms(format!(
                "invalid signer info version: only version 1 is supported; got {}",
                signer.version
            )));
        }
        let chain = verify_path(
            cert,
            &VerifyOptions {
                roots,
                intermediates: pool,
                time: at,
                usage: Eku::TimeStamping,
            },
        )
        .map_err(cms)?;
        let algorithm = signature_algorithm(&signer.digest_algorithm, &signer.signature_algorithm)
            .ok_or_else(|| cms("unknown signature algorithm".into()))?;
        let signed = if signer.signed_attributes.is_empty() {
            self.content.clone()
        } else {
            signer.signed_bytes()
        };
        check_signature(
            &algorithm,
            &signed,
            &signer.signature,
            cert.public_key(),
            true,
        )
        .map_err(|e| cms(e.to_string()))?;
        self.signed_attributes(signer, chain)
    }

    fn signed_attributes(&self, signer: &SignerInfo, chain: Vec<Cert>) -> R<Vec<Cert>> {
        let cms = |m: String| format!("cms verification failure: {m}");
        if signer.signed_attributes.is_empty() {
            return Err(cms("missing signed attributes".into()));
        }
        let content_type = signer
            .attribute(CONTENT_TYPE)
            .and_then(|v| oid(&one_of(v)?))
            .map_err(|e| cms(format!("invalid content type: {e}")))?;
        if content_type != TST_INFO {
            return Err(cms(format!(
                "mismatch content type: found \"{content_type}\" in signer info, and \"{TST_INFO}\" in signed data"
            )));
        }
        let expected = signer
            .attribute(MESSAGE_DIGEST)
            .and_then(|v| Ok(octets(&one_of(v)?)?.to_vec()))
            .map_err(|e| cms(format!("invalid message digest: {e}")))?;
        let hash = hash_of(&signer.digest_algorithm)
            .ok_or_else(|| cms("unsupported digest algorithm".into()))?;
        if digest(hash, &self.content) != expected {
            return Err(cms("mismatch message digest".into()));
        }
        match signer.attribute(SIGNING_TIME) {
            Err(_) => Ok(chain),
            Ok(v) => {
                let t = asn1::time(&one_of(v)?)
                    .map_err(|e| cms(format!("invalid signing time: {e}")))?;
                if chain
                    .iter()
                    .all(|c| t >= c.not_before() && t <= c.not_after())
                {
                    Ok(chain)
                } else {
                    Err(cms(format!(
                        "signing time, {t}, is outside certificate's validity period"
                    )))
                }
            }
        }
    }
}

/// The first element of a SET's contents (Go's `Attributes.Get`).
fn one_of(values: &[u8]) -> R<Tlv<'_>> {
    crate::x509::der_walk::read_tlv(values)
        .map(|(t, _)| t)
        .ok_or_else(|| "asn1: syntax error: data truncated".to_string())
}

/// tspclient-go `oid.ToSignatureAlgorithm`.
fn signature_algorithm(
    digest: &ObjectIdentifier,
    sig: &ObjectIdentifier,
) -> Option<SignatureAlgorithm> {
    match *sig {
        RSA => hash_of(digest).map(SignatureAlgorithm::RsaPkcs1),
        RSA_PSS => hash_of(digest).map(SignatureAlgorithm::RsaPss),
        SHA256_RSA => Some(SignatureAlgorithm::RsaPkcs1(Hash::Sha256)),
        SHA384_RSA => Some(SignatureAlgorithm::RsaPkcs1(Hash::Sha384)),
        SHA512_RSA => Some(SignatureAlgorithm::RsaPkcs1(Hash::Sha512)),
        ECDSA_SHA256 => Some(SignatureAlgorithm::Ecdsa(Hash::Sha256)),
        ECDSA_SHA384 => Some(SignatureAlgorithm::Ecdsa(Hash::Sha384)),
        ECDSA_SHA512 => Some(SignatureAlgorithm::Ecdsa(Hash::Sha512)),
        _ => None,
    }
}

struct EssCertIdV2 {
    hash_algorithm: Option<ObjectIdentifier>,
    cert_hash: Vec<u8>,
    /// (issuer Name from a directoryName, serial); the name is None when the
    /// GeneralNames holds no directoryName.
    issuer_serial: Option<(Option<Vec<u8>>, Vec<u8>)>,
}

fn signing_certificate_v2(values: &[u8]) -> R<Vec<EssCertIdV2>> {
    let scv2 = one_of(values)?;
    expect(&scv2, 0x30, "signing certificate v2")?;
    let parts = items(&scv2)?;
    let certs = parts
        .first()
        .ok_or("asn1: syntax error: sequence truncated")?;
    expect(certs, 0x30, "certificates")?;
    let mut out = Vec::new();
    for c in items(certs)? {
        expect(&c, 0x30, "ESSCertIDv2")?;
        let f = items(&c)?;
        let mut i = 0;
        let mut hash_algorithm = None;
        if f.first().is_some_and(|t| t.tag == 0x30) {
            hash_algorithm = Some(algorithm(&f[0])?);
            i = 1;
        }
        let cert_hash = octets(f.get(i).ok_or("asn1: syntax error: sequence truncated")?)?.to_vec();
        let issuer_serial = match f.get(i + 1) {
            None => None,
            Some(is) => {
                expect(is, 0x30, "IssuerSerial")?;
                let p = items(is)?;
                let names = p.first().ok_or("asn1: syntax error: sequence truncated")?;
                expect(names, 0x30, "GeneralNames")?;
                let directory = items(names)?
                    .into_iter()
                    .find(|n| n.tag == 0xa4)
                    .map(|n| one(n.contents).map(|name| name.whole.to_vec()))
                    .transpose()?;
                let serial = big(p.get(1).ok_or("asn1: syntax error: sequence truncated")?)?;
                Some((directory, serial))
            }
        };
        out.push(EssCertIdV2 {
            hash_algorithm,
            cert_hash,
            issuer_serial,
        });
    }
    Ok(out)
}

fn tst_info(content: &[u8]) -> R<TstInfo> {
    let t = one(content)?;
    expect(&t, 0x30, "TSTInfo")?;
    let f = items(&t)?;
    let field = |i: usize| {
        f.get(i)
            .ok_or_else(|| "asn1: syntax error: sequence truncated".to_string())
    };
    let version = int(field(0)?)?;
    let policy = oid(field(1)?)?;
    let imprint = field(2)?;
    expect(imprint, 0x30, "message imprint")?;
    let m = items(imprint)?;
    let hash_algorithm = algorithm(m.first().ok_or("asn1: syntax error: sequence truncated")?)?;
    let hashed_message =
        octets(m.get(1).ok_or("asn1: syntax error: sequence truncated")?)?.to_vec();
    let _serial = big(field(3)?)?;
    let gen_time_tlv = field(4)?;
    expect(gen_time_tlv, 0x18, "genTime")?;
    let gen_time = asn1::time(gen_time_tlv)?;
    let (accuracy, accuracy_given) = match f.get(5).filter(|a| a.tag == 0x30) {
        None => (Duration::ZERO, false),
        Some(a) => (accuracy(a)?, true),
    };
    Ok(TstInfo {
        version,
        policy,
        hash_algorithm,
        hashed_message,
        gen_time,
        accuracy,
        accuracy_given,
    })
}

fn accuracy(a: &Tlv<'_>) -> R<Duration> {
    let mut d = Duration::ZERO;
    let mut last = 0;
    for part in items(a)? {
        let value = |t: &Tlv<'_>| -> R<u64> {
            let implicit = Tlv {
                tag: 0x02,
                whole: t.whole,
                contents: t.contents,
            };
            u64::try_from(int(&implicit)?)
                .map_err(|_| "asn1: structure error: negative accuracy".to_string())
        };
        // Each optional field at most once, in order (as Go's asn1 reads
        // the struct: anything else is left over, an error).
        let (rank, part) = match part.tag {
            0x02 => (1, Duration::from_secs(value(&part)?)),
            0x80 => (2, Duration::from_millis(value(&part)?)),
            0x81 => (3, Duration::from_micros(value(&part)?)),
            _ => return asn1::err("tags don't match (accuracy)"),
        };
        if rank <= last {
            return Err("asn1: syntax error: trailing data (accuracy)".to_string());
        }
        last = rank;
        // Untrusted until the token's signature is checked: never overflow.
        d = d
            .checked_add(part)
            .ok_or_else(|| "asn1: structure error: accuracy out of range".to_string())?;
    }
    Ok(d)
}

impl TstInfo {
    /// tspclient-go `TSTInfo.Validate`: the token must stamp `message`.
    pub fn validate(&self, message: &[u8]) -> R<Timestamp> {
        let fail = |m: String| format!("invalid TSTInfo: {m}");
        if self.version != 1 {
            return Err(fail(format!(
                "timestamp token info version must be 1, but got {}",
                self.version
            )));
        }
        let hash = hash_of(&self.hash_algorithm).ok_or_else(|| {
            fail(format!(
                "unrecognized hash algorithm: {}",
                self.hash_algorithm
            ))
        })?;
        if digest(hash, message) != self.hashed_message {
            return Err(fail("mismatched message".into()));
        }
        let accuracy = if (!self.accuracy_given || self.accuracy.is_zero())
            && self.policy == BASELINE_POLICY
        {
            Duration::from_secs(1)
        } else {
            self.accuracy
        };
        Ok(Timestamp {
            value: self.gen_time,
            accuracy,
        })
    }

    pub fn gen_time(&self) -> OffsetDateTime {
        self.gen_time
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Accuracy ::= SEQUENCE { seconds INTEGER, millis [0], micros [1] }`
    /// with each field at `i64::MAX`: an error, not an overflow.
    #[test]
    fn an_accuracy_beyond_range_is_an_error() {
        let max = [0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        let mut body = Vec::new();
        for tag in [0x02u8, 0x80, 0x81] {
            body.push(tag);
            body.push(8);
            body.extend_from_slice(&max);
        }
        let mut der = vec![0x30, body.len() as u8];
        der.extend_from_slice(&body);
        let tlv = one(&der).unwrap();
        let most = Duration::from_secs(i64::MAX as u64)
            + Duration::from_millis(i64::MAX as u64)
            + Duration::from_micros(i64::MAX as u64);
        assert_eq!(accuracy(&tlv).unwrap(), most);

        // A field twice (three seconds fields could add up beyond range).
        let mut twice = vec![0x30, 20, 0x02, 8];
        twice.extend_from_slice(&max);
        twice.extend_from_slice(&[0x02, 8]);
        twice.extend_from_slice(&max);
        assert_eq!(
            accuracy(&one(&twice).unwrap()).unwrap_err(),
            "asn1: syntax error: trailing data (accuracy)"
        );

        let stamp = Timestamp {
            value: OffsetDateTime::UNIX_EPOCH,
            accuracy: Duration::MAX,
        };
        assert!(!stamp.bounded_before(OffsetDateTime::UNIX_EPOCH));
        assert!(!stamp.bounded_after(OffsetDateTime::UNIX_EPOCH));
    }
}
