//! tspclient-go's BER-to-DER conversion: every length re-encoded in its
//! shortest form (indefinite lengths are refused, as there), so that the
//! token can be read as DER.

/// The error texts of tspclient-go's converter (Go asn1 error prefixes).
pub(crate) fn to_der(ber: &[u8]) -> Result<Vec<u8>, String> {
    if ber.is_empty() {
        return Err("asn1: syntax error: BER-encoded ASN.1 data structures is empty".into());
    }
    let mut out = Vec::with_capacity(ber.len());
    let rest = convert(ber, &mut out, 0)?;
    if !rest.is_empty() {
        return Err(format!(
            "asn1: syntax error: decoding BER: length octets value {} does not match with content length {}",
            ber.len() - rest.len(),
            ber.len()
        ));
    }
    Ok(out)
}

const MAX_DEPTH: usize = 64;

/// Converts one element from the front of `input`, appending its DER to
/// `out`; returns what follows it.
fn convert<'a>(input: &'a [u8], out: &mut Vec<u8>, depth: usize) -> Result<&'a [u8], String> {
    if depth > MAX_DEPTH {
        return Err("asn1: structure error: nesting too deep".into());
    }
    let (identifier, rest) = identifier(input)?;
    let (len, rest) = length(rest)?;
    let (content, after) = rest.split_at(len);
    out.extend_from_slice(identifier);
    if identifier[0] & 0x20 == 0 {
        push_len(out, content.len());
        out.extend_from_slice(content);
        return Ok(after);
    }
    // Grown as written: reserving the content's length at each of up to
    // 64 nested levels would reserve 64 times the input.
    let mut inner = Vec::new();
    let mut c = content;
    while !c.is_empty() {
        c = convert(c, &mut inner, depth + 1)?;
    }
    push_len(out, inner.len());
    out.extend_from_slice(&inner);
    Ok(after)
}

fn identifier(r: &[u8]) -> Result<(&[u8], &[u8]), String> {
    let first = *r
        .first()
        .ok_or("asn1: syntax error: decoding BER identifier octets: identifier octets is empty")?;
    let mut offset = 1;
    if first & 0x1f == 0x1f {
        while offset < r.len() && r[offset] & 0x80 == 0x80 {
            offset += 1;
        }
        if offset >= r.len() {
            return Err("asn1: syntax error: decoding BER identifier octets: high-tag-number form with early EOF".into());
        }
        offset += 1;
    }
    if offset >= r.len() {
        return Err("asn1: syntax error: decoding BER identifier octets: early EOF due to missing length and content octets".into());
    }
    Ok(r.split_at(offset))
}

fn length(r: &[u8]) -> Result<(usize, &[u8]), String> {
    let b = *r
        .first()
        .ok_or("asn1: syntax error: decoding BER length octets: length octets is empty")?;
    if b < 0x80 {
        let rest = &r[1..];
        if usize::from(b) > rest.len() {
            return Err("asn1: syntax error: decoding BER length octets: short form length octets value should be less or equal to the subsequent octets length".into());
        }
        return Ok((usize::from(b), rest));
    }
    if b == 0x80 {
        return Err(
            "asn1: structure error: decoding BER length octets: indefinite length not supported"
                .into(),
        );
    }
    let n = usize::from(b & 0x7f);
    if n > 4 {
        return Err(format!(
            "asn1: structure error: decoding BER length octets: length of encoded data ({n} bytes) cannot exceed 4 bytes"
        ));
    }
    if 1 + n >= r.len() {
        return Err("asn1: syntax error: decoding BER length octets: long form length octets with early EOF".into());
    }
    let len = r[1..=n]
        .iter()
        .fold(0u64, |acc, x| (acc << 8) | u64::from(*x));
    if len >> 31 > 0 {
        return Err(format!(
            "asn1: structure error: decoding BER length octets: length {len} does not fit the memory space of int32"
        ));
    }
    let rest = &r[1 + n..];
    let len = len as usize;
    if len > rest.len() {
        return Err("asn1: syntax error: decoding BER length octets: long form length octets value should be less or equal to the subsequent octets length".into());
    }
    Ok((len, rest))
}

fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = (len as u64).to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    out.push(0x80 | (8 - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortens_lengths() {
        // SEQUENCE with a long-form length of 3 holding an INTEGER 5.
        let ber = [0x30, 0x81, 0x03, 0x02, 0x01, 0x05];
        assert_eq!(to_der(&ber).unwrap(), vec![0x30, 0x03, 0x02, 0x01, 0x05]);
        let der = [0x30, 0x03, 0x02, 0x01, 0x05];
        assert_eq!(to_der(&der).unwrap(), der.to_vec());
    }

    #[test]
    fn refuses_what_tspclient_refuses() {
        assert!(to_der(&[]).unwrap_err().contains("is empty"));
        assert!(
            to_der(&[0x30, 0x80, 0x00, 0x00])
                .unwrap_err()
                .contains("indefinite length not supported")
        );
        assert!(
            to_der(&[0x30, 0x05, 0x00])
                .unwrap_err()
                .contains("short form length")
        );
        assert!(
            to_der(&[0x02, 0x01, 0x05, 0x00])
                .unwrap_err()
                .contains("does not match with content length")
        );
        assert!(to_der(b"\x01\x02\x03\x04\x05\x06\x07\x08").is_err());
    }
}
