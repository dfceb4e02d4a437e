//! CRLs made to order: any issuer name, thisUpdate / nextUpdate (or none),
//! CRL number, delta-CRL indicator, FreshestCRL, IssuingDistributionPoint,
//! entries with reason codes, invalidity dates and extra (critical)
//! extensions, signed with a [`PkixSigner`].

use time::OffsetDateTime;

use crate::der_build::{
    bit_string, distribution_points, enumerated, explicit, extension, generalized_time,
    integer_raw, integer_u64, seq, tlv, x509_time,
};
use crate::pkix_sign::{PkixSigner, subject_der};

const REASON_CODE: &str = "2.5.29.21";
const INVALIDITY_DATE: &str = "2.5.29.24";
const CRL_NUMBER: &str = "2.5.29.20";
const DELTA_CRL_INDICATOR: &str = "2.5.29.27";
const ISSUING_DISTRIBUTION_POINT: &str = "2.5.29.28";
const FRESHEST_CRL: &str = "2.5.29.46";

/// An extension as written: dotted OID, critical flag, value DER.
#[derive(Debug, Clone)]
pub struct RawExt {
    pub oid: String,
    pub critical: bool,
    pub value: Vec<u8>,
}

/// One revoked certificate.
#[derive(Debug, Clone)]
pub struct RevokedEntry {
    /// The serial number's INTEGER contents (see [`crate::serial_of`]).
    pub serial: Vec<u8>,
    pub revoked_at: OffsetDateTime,
    /// CRLReason; `None`: no reasonCode extension (unspecified).
    pub reason: Option<u8>,
    pub invalidity_date: Option<OffsetDateTime>,
    pub extra_extensions: Vec<RawExt>,
}

impl RevokedEntry {
    pub fn new(serial: &[u8], revoked_at: OffsetDateTime) -> RevokedEntry {
        RevokedEntry {
            serial: serial.to_vec(),
            revoked_at,
            reason: None,
            invalidity_date: None,
            extra_extensions: Vec::new(),
        }
    }

    pub fn reason(self, reason: u8) -> RevokedEntry {
        RevokedEntry {
            reason: Some(reason),
            ..self
        }
    }

    pub fn invalid_since(self, date: OffsetDateTime) -> RevokedEntry {
        RevokedEntry {
            invalidity_date: Some(date),
            ..self
        }
    }
}

/// What a CRL holds. Start from [`TestCrl::new`] and change fields.
#[derive(Debug, Clone)]
pub struct TestCrl {
    /// The issuer Name DER.
    pub issuer: Vec<u8>,
    /// `false`: a v1 CRL (no version field; Go rejects it).
    pub v2: bool,
    pub this_update: OffsetDateTime,
    pub next_update: Option<OffsetDateTime>,
    pub number: Option<u64>,
    /// DeltaCRLIndicator (critical): the base CRL number this delta extends.
    pub delta_of: Option<u64>,
    /// FreshestCRL URLs (delta CRL locations); empty: absent.
    pub freshest: Vec<String>,
    /// IssuingDistributionPoint (critical) value DER.
    pub issuing_distribution_point: Option<Vec<u8>>,
    pub entries: Vec<RevokedEntry>,
    pub extra_extensions: Vec<RawExt>,
}

impl TestCrl {
    /// A v2 CRL of the certificate `issuer_cert` (DER), number 1, no entries.
    pub fn new(
        issuer_cert: &[u8],
        this_update: OffsetDateTime,
        next_update: OffsetDateTime,
    ) -> TestCrl {
        TestCrl {
            issuer: subject_der(issuer_cert),
            v2: true,
            this_update,
            next_update: Some(next_update),
            number: Some(1),
            delta_of: None,
            freshest: Vec::new(),
            issuing_distribution_point: None,
            entries: Vec::new(),
            extra_extensions: Vec::new(),
        }
    }

    pub fn revoke(mut self, entry: RevokedEntry) -> TestCrl {
        self.entries.push(entry);
        self
    }

    /// IssuingDistributionPoint naming `urls` as the distribution point.
    pub fn scoped_to(mut self, urls: &[String]) -> TestCrl {
        let names: Vec<u8> = urls.iter().flat_map(|u| tlv(0x86, u.as_bytes())).collect();
        self.issuing_distribution_point = Some(seq(&[explicit(0, &explicit(0, &names))]));
        self
    }

    /// The TBSCertList DER for `signer`'s algorithm.
    pub fn tbs(&self, algorithm: &[u8]) -> Vec<u8> {
        let mut parts = Vec::new();
        if self.v2 {
            parts.push(integer_u64(1));
        }
        parts.push(algorithm.to_vec());
        parts.push(self.issuer.clone());
        parts.push(x509_time(self.this_update));
        if let Some(n) = self.next_update {
            parts.push(x509_time(n));
        }
        if !self.entries.is_empty() {
            parts.push(seq(&self.entries.iter().map(entry).collect::<Vec<_>>()));
        }
        let exts = self.extensions();
        if !exts.is_empty() {
            parts.push(explicit(0, &seq(&exts)));
        }
        seq(&parts)
    }

    fn extensions(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        if let Some(n) = self.number {
            out.push(extension(CRL_NUMBER, false, &integer_u64(n)));
        }
        if let Some(base) = self.delta_of {
            out.push(extension(DELTA_CRL_INDICATOR, true, &integer_u64(base)));
        }
        if !self.freshest.is_empty() {
            out.push(extension(
                FRESHEST_CRL,
                false,
                &distribution_points(&self.freshest),
            ));
        }
        if let Some(idp) = &self.issuing_distribution_point {
            out.push(extension(ISSUING_DISTRIBUTION_POINT, true, idp));
        }
        out.extend(
            self.extra_extensions
                .iter()
                .map(|e| extension(&e.oid, e.critical, &e.value)),
        );
        out
    }

    /// The signed CRL, DER.
    pub fn sign(&self, signer: &PkixSigner) -> Vec<u8> {
        let algorithm = signer.algorithm_identifier();
        let tbs = self.tbs(&algorithm);
        let signature = signer.sign(&tbs);
        seq(&[tbs, algorithm, bit_string(&signature)])
    }
}

fn entry(e: &RevokedEntry) -> Vec<u8> {
    let mut exts = Vec::new();
    if let Some(r) = e.reason {
        exts.push(extension(REASON_CODE, false, &enumerated(r)));
    }
    if let Some(d) = e.invalidity_date {
        exts.push(extension(INVALIDITY_DATE, false, &generalized_time(d)));
    }
    exts.extend(
        e.extra_extensions
            .iter()
            .map(|x| extension(&x.oid, x.critical, &x.value)),
    );
    let mut parts = vec![integer_raw(&e.serial), x509_time(e.revoked_at)];
    if !exts.is_empty() {
        parts.push(seq(&exts));
    }
    seq(&parts)
}

/// A DER CRL as PEM (`X509 CRL`).
pub fn crl_pem(der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN X509 CRL-----\n{}\n-----END X509 CRL-----\n",
        lines.join("\n")
    )
}
