//! Just enough DER walking to keep the exact bytes Go keeps (`RawTBSCertificate`,
//! `RawSubject`, `RawIssuer`): signatures are checked over the bytes as received,
//! never over a re-encoding.

/// One DER element: its whole encoding and where its contents start.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tlv<'a> {
    pub tag: u8,
    pub whole: &'a [u8],
    pub contents: &'a [u8],
}

/// Reads one definite-length element from the front of `input`; returns it
/// and the rest. Only single-byte tags are accepted (X.509 uses no others).
pub(crate) fn read_tlv(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let (&tag, rest) = input.split_first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    let header = input.len() - rest.len();
    let whole = &input[..header + len];
    Some((
        Tlv {
            tag,
            whole,
            contents: &rest[..len],
        },
        &rest[len..],
    ))
}

/// The elements inside a constructed element's contents, in order.
pub(crate) fn children(mut contents: &[u8]) -> Option<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    while !contents.is_empty() {
        let (tlv, rest) = read_tlv(contents)?;
        out.push(tlv);
        contents = rest;
    }
    Some(out)
}

/// The raw parts of a certificate that Go keeps as bytes.
pub(crate) struct RawParts<'a> {
    pub tbs: &'a [u8],
    pub issuer: &'a [u8],
    pub subject: &'a [u8],
}

/// Finds the raw TBSCertificate, issuer and subject inside a certificate.
pub(crate) fn raw_parts(cert: &[u8]) -> Option<RawParts<'_>> {
    let (outer, _) = read_tlv(cert)?;
    let top = children(outer.contents)?;
    let tbs = top.first()?;
    let fields = children(tbs.contents)?;
    // [0] EXPLICIT version is optional; then serial, signature, issuer, validity, subject.
    let skip = usize::from(fields.first()?.tag == 0xa0);
    let issuer = fields.get(skip + 2)?;
    let subject = fields.get(skip + 4)?;
    Some(RawParts {
        tbs: tbs.whole,
        issuer: issuer.whole,
        subject: subject.whole,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_short_and_long_lengths() {
        let short = [0x04, 0x02, 0xaa, 0xbb, 0xff];
        let (t, rest) = read_tlv(&short).unwrap();
        assert_eq!(t.contents, &[0xaa, 0xbb]);
        assert_eq!(rest, &[0xff]);
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend(std::iter::repeat_n(7u8, 0x80));
        let (t, rest) = read_tlv(&long).unwrap();
        assert_eq!(t.contents.len(), 0x80);
        assert!(rest.is_empty());
    }

    #[test]
    fn rejects_truncated_and_odd_input() {
        assert!(read_tlv(&[]).is_none());
        assert!(read_tlv(&[0x04]).is_none());
        assert!(read_tlv(&[0x04, 0x05, 1]).is_none());
        assert!(read_tlv(&[0x04, 0x80]).is_none());
        assert!(read_tlv(&[0x1f, 0x01, 0x00]).is_none());
        assert!(read_tlv(&[0x04, 0x85, 1, 1, 1, 1, 1]).is_none());
    }
}
