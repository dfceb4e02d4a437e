//! Reading the DER elements of CMS and RFC 3161 structures.

use const_oid::ObjectIdentifier;
use der::Decode;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use crate::x509::der_walk::{Tlv, children, read_tlv};

pub(crate) type R<T> = Result<T, String>;

pub(crate) fn err<T>(m: &str) -> R<T> {
    Err(format!("asn1: structure error: {m}"))
}

pub(crate) fn one(bytes: &[u8]) -> R<Tlv<'_>> {
    let (tlv, rest) =
        read_tlv(bytes).ok_or_else(|| "asn1: syntax error: data truncated".to_string())?;
    if !rest.is_empty() {
        return Err("asn1: syntax error: trailing data".into());
    }
    Ok(tlv)
}

pub(crate) fn items<'a>(t: &Tlv<'a>) -> R<Vec<Tlv<'a>>> {
    children(t.contents).ok_or_else(|| "asn1: syntax error: data truncated".to_string())
}

pub(crate) fn expect(t: &Tlv<'_>, tag: u8, what: &str) -> R<()> {
    if t.tag == tag {
        Ok(())
    } else {
        err(&format!(
            "tags don't match ({what}: expected tag {tag:#04x}, found {:#04x})",
            t.tag
        ))
    }
}

pub(crate) fn oid(t: &Tlv<'_>) -> R<ObjectIdentifier> {
    expect(t, 0x06, "object identifier")?;
    ObjectIdentifier::from_der(t.whole).map_err(|e| format!("asn1: syntax error: {e}"))
}

/// An INTEGER that fits an i64 (Go's `int` fields).
pub(crate) fn int(t: &Tlv<'_>) -> R<i64> {
    expect(t, 0x02, "integer")?;
    let b = t.contents;
    if b.is_empty() || b.len() > 8 {
        return err("integer too large");
    }
    let mut v: i64 = if b[0] & 0x80 != 0 { -1 } else { 0 };
    for x in b {
        v = (v << 8) | i64::from(*x);
    }
    Ok(v)
}

/// An INTEGER's magnitude without leading zero bytes (serial numbers).
pub(crate) fn big(t: &Tlv<'_>) -> R<Vec<u8>> {
    expect(t, 0x02, "integer")?;
    Ok(strip(t.contents).to_vec())
}

pub(crate) fn strip(b: &[u8]) -> &[u8] {
    let n = b
        .iter()
        .take_while(|x| **x == 0)
        .count()
        .min(b.len().saturating_sub(1));
    &b[n..]
}

pub(crate) fn octets<'a>(t: &Tlv<'a>) -> R<&'a [u8]> {
    expect(t, 0x04, "octet string")?;
    Ok(t.contents)
}

/// The OID of an AlgorithmIdentifier.
pub(crate) fn algorithm(t: &Tlv<'_>) -> R<ObjectIdentifier> {
    expect(t, 0x30, "algorithm identifier")?;
    let parts = items(t)?;
    oid(parts
        .first()
        .ok_or("asn1: syntax error: sequence truncated")?)
}

/// GeneralizedTime (`YYYYMMDDHHMMSS[.f]Z` or with `±hhmm`) or UTCTime.
pub(crate) fn time(t: &Tlv<'_>) -> R<OffsetDateTime> {
    let s = std::str::from_utf8(t.contents)
        .map_err(|_| "asn1: syntax error: invalid time".to_string())?;
    let (year, rest) = match t.tag {
        0x18 => (s.get(..4).and_then(|y| y.parse::<i32>().ok()), s.get(4..)),
        0x17 => {
            let yy = s.get(..2).and_then(|y| y.parse::<i32>().ok());
            (
                yy.map(|y| if y >= 50 { 1900 + y } else { 2000 + y }),
                s.get(2..),
            )
        }
        _ => return err("tags don't match (time)"),
    };
    let bad = || "asn1: syntax error: invalid time".to_string();
    let (year, rest) = (year.ok_or_else(bad)?, rest.ok_or_else(bad)?);
    let num = |a: usize| {
        rest.get(a..a + 2)
            .and_then(|v| v.parse::<u8>().ok())
            .ok_or_else(bad)
    };
    let (mo, d, h, mi, sec) = (num(0)?, num(2)?, num(4)?, num(6)?, num(8)?);
    let mut tail = rest.get(10..).ok_or_else(bad)?;
    let mut nanos = 0u32;
    if let Some(frac) = tail.strip_prefix('.') {
        let digits: String = frac.chars().take_while(char::is_ascii_digit).collect();
        if digits.is_empty() || digits.len() > 9 {
            return Err(bad());
        }
        nanos = format!("{digits:0<9}").parse().map_err(|_| bad())?;
        tail = &frac[digits.len()..];
    }
    let offset = match tail {
        "Z" => UtcOffset::UTC,
        o if o.len() == 5
            && (o.starts_with('+') || o.starts_with('-'))
            && o.bytes().skip(1).all(|b| b.is_ascii_digit()) =>
        {
            let h: i8 = o[1..3].parse().map_err(|_| bad())?;
            let m: i8 = o[3..5].parse().map_err(|_| bad())?;
            let sign = if o.starts_with('-') { -1 } else { 1 };
            UtcOffset::from_hms(sign * h, sign * m, 0).map_err(|_| bad())?
        }
        _ => return Err(bad()),
    };
    let date = Date::from_calendar_date(year, Month::try_from(mo).map_err(|_| bad())?, d)
        .map_err(|_| bad())?;
    let time = Time::from_hms_nano(h, mi, sec, nanos).map_err(|_| bad())?;
    Ok(PrimitiveDateTime::new(date, time).assume_offset(offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        let gt = [0x18, 0x13];
        let mut v = gt.to_vec();
        v.extend_from_slice(b"20250121091746.641Z");
        let t = time(&one(&v).unwrap()).unwrap();
        assert_eq!(t.unix_timestamp(), 1_737_451_066);
        assert_eq!(t.millisecond(), 641);
        let mut u = vec![0x17, 0x0d];
        u.extend_from_slice(b"210917140910Z");
        assert_eq!(time(&one(&u).unwrap()).unwrap().year(), 2021);
    }

    #[test]
    fn odd_offsets_are_errors_not_panics() {
        for bad in [
            "20250121091746+0é0",
            "20250121091746+é00",
            "2025012109174Z",
            "20251321091746Z",
        ] {
            let mut v = vec![0x18, bad.len() as u8];
            v.extend_from_slice(bad.as_bytes());
            assert!(time(&one(&v).unwrap()).is_err(), "{bad}");
        }
    }

    #[test]
    fn integers() {
        assert_eq!(int(&one(&[0x02, 0x01, 0x03]).unwrap()).unwrap(), 3);
        assert_eq!(int(&one(&[0x02, 0x01, 0xff]).unwrap()).unwrap(), -1);
        assert_eq!(
            big(&one(&[0x02, 0x02, 0x00, 0x80]).unwrap()).unwrap(),
            vec![0x80]
        );
    }
}
