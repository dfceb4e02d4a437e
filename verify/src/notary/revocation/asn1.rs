//! Small DER readers shared by the CRL and OCSP parsers, with Go's
//! semantics where they differ from the `der` crate's (GeneralizedTime with
//! fractional seconds, ENUMERATED, trailing data).

use der::asn1::AnyRef;
use der::{Decode, Reader, SliceReader, Tag, Tagged};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// The first TLV of `bytes` as raw bytes (header included); what follows it
/// is ignored, as Go's `cryptobyte.ReadASN1Element` does.
pub(crate) fn first_tlv(bytes: &[u8]) -> Result<&[u8], der::Error> {
    let mut reader = SliceReader::new(bytes)?;
    reader.tlv_bytes()
}

/// Splits a SEQUENCE's raw bytes into the raw TLVs of its elements.
pub(crate) fn raw_elements(sequence: &[u8]) -> Result<Vec<&[u8]>, der::Error> {
    let any = AnyRef::from_der(sequence)?;
    if any.tag() != Tag::Sequence {
        return Err(der::Error::from(der::ErrorKind::TagUnexpected {
            expected: Some(Tag::Sequence),
            actual: any.tag(),
        }));
    }
    let mut reader = SliceReader::new(any.value())?;
    let mut out = Vec::new();
    while !reader.is_finished() {
        out.push(reader.tlv_bytes()?);
    }
    Ok(out)
}

/// An ENUMERATED TLV as Go's `cryptobyte.ReadASN1Enum` reads it (the whole
/// input must be the one element).
pub(crate) fn enumerated(tlv: &[u8]) -> Option<i64> {
    let any = AnyRef::from_der(tlv).ok()?;
    if any.tag() != Tag::Enumerated {
        return None;
    }
    small_int(any.value())
}

/// A minimal two's-complement integer that fits in an i64.
pub(crate) fn small_int(value: &[u8]) -> Option<i64> {
    let (&first, rest) = value.split_first()?;
    if value.len() > 8 {
        return None;
    }
    if let Some(&second) = rest.first() {
        let redundant = (first == 0 && second & 0x80 == 0) || (first == 0xff && second & 0x80 != 0);
        if redundant {
            return None;
        }
    }
    let mut out: i64 = if first & 0x80 != 0 { -1 } else { 0 };
    for b in value {
        out = (out << 8) | i64::from(*b);
    }
    Some(out)
}

/// A GeneralizedTime TLV as Go's `encoding/asn1` reads it.
pub(crate) fn generalized_time_tlv(tlv: &[u8]) -> Option<OffsetDateTime> {
    let any = AnyRef::from_der(tlv).ok()?;
    if any.tag() != Tag::GeneralizedTime {
        return None;
    }
    generalized_time(any.value())
}

/// GeneralizedTime contents as Go's `encoding/asn1` reads them: layout
/// `20060102150405.999999999Z0700`, and the value must format back to the
/// same text (no trailing zeros in the fraction, `Z` rather than `+0000`).
pub(crate) fn generalized_time(value: &[u8]) -> Option<OffsetDateTime> {
    let s = std::str::from_utf8(value).ok()?;
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let year = i32::try_from(digits(0..4)?).ok()?;
    let month = Month::try_from(u8::try_from(digits(4..6)?).ok()?).ok()?;
    let day = u8::try_from(digits(6..8)?).ok()?;
    let hour = u8::try_from(digits(8..10)?).ok()?;
    let minute = u8::try_from(digits(10..12)?).ok()?;
    let second = u8::try_from(digits(12..14)?).ok()?;
    let mut rest = s.get(14..)?;
    let mut nanos = 0u32;
    if let Some(frac) = rest.strip_prefix('.') {
        let len = frac.bytes().take_while(u8::is_ascii_digit).count();
        let text = &frac[..len];
        if len == 0 || len > 9 || text.ends_with('0') {
            return None;
        }
        nanos = format!("{text:0<9}").parse().ok()?;
        rest = &frac[len..];
    }
    let offset = match rest {
        "Z" => UtcOffset::UTC,
        _ => {
            let sign: i8 = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let tail = rest.get(1..)?;
            if tail.len() != 4 || !tail.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let h: i8 = tail.get(0..2)?.parse().ok()?;
            let m: i8 = tail.get(2..4)?.parse().ok()?;
            if h == 0 && m == 0 {
                return None;
            }
            UtcOffset::from_hms(sign * h, sign * m, 0).ok()?
        }
    };
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let time = Time::from_hms_nano(hour, minute, second, nanos).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_offset(offset))
}

/// An x509-cert `Time` as an `OffsetDateTime`.
pub(crate) fn x509_time(t: x509_cert::time::Time) -> Option<OffsetDateTime> {
    let secs = i64::try_from(t.to_unix_duration().as_secs()).ok()?;
    OffsetDateTime::from_unix_timestamp(secs).ok()
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn generalized_time_follows_go() {
        let t = |s: &str| generalized_time(s.as_bytes());
        assert_eq!(
            t("20300601120000Z"),
            Some(datetime!(2030-06-01 12:00:00 UTC))
        );
        assert_eq!(
            t("20300601120000.25Z"),
            Some(datetime!(2030-06-01 12:00:00.25 UTC))
        );
        assert_eq!(
            t("20300601120000+0200"),
            Some(datetime!(2030-06-01 10:00:00 UTC))
        );
        for bad in [
            "20300601120000.250Z",
            "20300601120000.Z",
            "20300601120000+0000",
            "203006011200Z",
            "20301301120000Z",
            "20300601120000",
        ] {
            assert_eq!(t(bad), None, "{bad}");
        }
    }

    #[test]
    fn enumerated_is_minimal_and_complete() {
        assert_eq!(enumerated(&[0x0a, 0x01, 0x06]), Some(6));
        assert_eq!(enumerated(&[0x0a, 0x02, 0x00, 0x06]), None);
        assert_eq!(enumerated(&[0x02, 0x01, 0x06]), None);
        assert_eq!(enumerated(&[0x0a, 0x01, 0x06, 0x00]), None);
    }
}
