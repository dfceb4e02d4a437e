//! A tiny DER writer for hand-made test structures (CRLs, OCSP responses),
//! where exact control beats a typed encoder: any tag, any content, wrong
//! on purpose when a test wants it.

use der::Encode as _;
use time::OffsetDateTime;

/// Tag, DER length, content.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// A SEQUENCE of already-encoded elements.
pub fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// `[n]` EXPLICIT (constructed context-specific) around `content`.
pub fn explicit(n: u8, content: &[u8]) -> Vec<u8> {
    tlv(0xa0 | n, content)
}

/// An INTEGER from its two's-complement contents, as given.
pub fn integer_raw(contents: &[u8]) -> Vec<u8> {
    tlv(0x02, contents)
}

/// A non-negative INTEGER, minimally encoded.
pub fn integer_u64(n: u64) -> Vec<u8> {
    let mut bytes: Vec<u8> = n
        .to_be_bytes()
        .into_iter()
        .skip_while(|b| *b == 0)
        .collect();
    if bytes.first().is_none_or(|b| b & 0x80 != 0) {
        bytes.insert(0, 0);
    }
    integer_raw(&bytes)
}

pub fn enumerated(n: u8) -> Vec<u8> {
    if n & 0x80 != 0 {
        tlv(0x0a, &[0, n])
    } else {
        tlv(0x0a, &[n])
    }
}

pub fn boolean(b: bool) -> Vec<u8> {
    tlv(0x01, &[if b { 0xff } else { 0 }])
}

pub fn null() -> Vec<u8> {
    vec![0x05, 0x00]
}

pub fn octet_string(bytes: &[u8]) -> Vec<u8> {
    tlv(0x04, bytes)
}

/// A BIT STRING with no unused bits.
pub fn bit_string(bytes: &[u8]) -> Vec<u8> {
    tlv(0x03, &[&[0u8][..], bytes].concat())
}

/// An OBJECT IDENTIFIER from its dotted form.
pub fn oid(dotted: &str) -> Vec<u8> {
    der::asn1::ObjectIdentifier::new(dotted)
        .unwrap()
        .to_der()
        .unwrap()
}

pub fn ia5(s: &str) -> Vec<u8> {
    tlv(0x16, s.as_bytes())
}

/// GeneralizedTime `YYYYMMDDHHMMSSZ`.
pub fn generalized_time(t: OffsetDateTime) -> Vec<u8> {
    let t = t.to_offset(time::UtcOffset::UTC);
    let s = format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    tlv(0x18, s.as_bytes())
}

/// RFC 5280 time: UTCTime for 1950–2049, GeneralizedTime otherwise.
pub fn x509_time(t: OffsetDateTime) -> Vec<u8> {
    let t = t.to_offset(time::UtcOffset::UTC);
    if (1950..2050).contains(&t.year()) {
        let s = format!(
            "{:02}{:02}{:02}{:02}{:02}{:02}Z",
            t.year() % 100,
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        );
        tlv(0x17, s.as_bytes())
    } else {
        generalized_time(t)
    }
}

/// `Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue }`
pub fn extension(oid_dotted: &str, critical: bool, value: &[u8]) -> Vec<u8> {
    let mut parts = vec![oid(oid_dotted)];
    if critical {
        parts.push(boolean(true));
    }
    parts.push(octet_string(value));
    seq(&parts)
}

/// CRLDistributionPoints / FreshestCRL value: one distribution point whose
/// fullName lists `urls`.
pub fn distribution_points(urls: &[String]) -> Vec<u8> {
    let names: Vec<u8> = urls.iter().flat_map(|u| tlv(0x86, u.as_bytes())).collect();
    seq(&[seq(&[explicit(0, &explicit(0, &names))])])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lengths_and_integers() {
        assert_eq!(tlv(0x04, &[0; 200])[..3], [0x04, 0x81, 200]);
        assert_eq!(tlv(0x04, &[0; 300])[..4], [0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(integer_u64(0), [0x02, 0x01, 0x00]);
        assert_eq!(integer_u64(0x80), [0x02, 0x02, 0x00, 0x80]);
        assert_eq!(integer_u64(0x1000), [0x02, 0x02, 0x10, 0x00]);
    }
}
