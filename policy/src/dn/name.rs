//! Go's `crypto/x509/pkix` `Name.FillFromRDNSequence` followed by `Name.String`, which is how
//! notation-go turns a signing certificate's subject into the text it then parses as a DN.

use std::fmt::Write as _;

/// An attribute value of a certificate name as the certificate parser produced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrValue {
    /// A decoded ASN.1 string (PrintableString, UTF8String, IA5String, BMPString, …), as Go's
    /// `parseASN1String` yields it.
    Str(String),
    /// The DER encoding of a value that is not a string. Go's certificate parser rejects such
    /// names; here a standard attribute with such a value is dropped (as `FillFromRDNSequence`
    /// does with non-string values) and any other is printed from these bytes.
    Der(Vec<u8>),
}

/// The attributes `FillFromRDNSequence` moves into named fields, in `ToRDNSequence` order:
/// (last arc of 2.5.4.x, printed name, only the last value kept and only when non-empty).
const STANDARD: [(u64, &str, bool); 9] = [
    (6, "C", false),
    (8, "ST", false),
    (7, "L", false),
    (9, "STREET", false),
    (17, "POSTALCODE", false),
    (10, "O", false),
    (11, "OU", false),
    (3, "CN", true),
    (5, "SERIALNUMBER", true),
];

/// Go's `pkix.Name.String()` for a subject given as its RDN sequence in certificate order, each
/// attribute as (dotted OID, value).
///
/// The standard attributes (C, ST, L, STREET, POSTALCODE, O, OU, CN, SERIALNUMBER) are regrouped
/// into one RDN per type in `ToRDNSequence` order, all values of a type forming one multi-valued
/// RDN, with only the last CN and the last SERIALNUMBER kept (and dropped when empty). Every
/// other attribute becomes a single-attribute RDN placed before those, and the whole sequence is
/// printed in reverse, so they come last, in reverse order, as `<oid>=#<hex of DER>`, the DER
/// being what `asn1.Marshal` gives for the value (PrintableString when every byte is in its set,
/// else UTF8String). Standard values are escaped as Go does: `, + " \ < > ;` always, `#` in first
/// position, a space in first or last position.
pub fn go_name_string(rdns: &[Vec<(String, AttrValue)>]) -> String {
    let mut standard: [Vec<&str>; 9] = Default::default();
    let mut sequence: Vec<Vec<Rendered<'_>>> = Vec::new();
    for (oid, value) in rdns.iter().flatten() {
        match standard_index(oid) {
            Some(index) => {
                if let (AttrValue::Str(s), Some(values)) = (value, standard.get_mut(index)) {
                    values.push(s);
                }
            }
            None => sequence.push(vec![Rendered::Extra(oid, value)]),
        }
    }
    for ((_, name, last_only), values) in STANDARD.iter().zip(&standard) {
        let kept: Vec<&str> = if *last_only {
            values
                .last()
                .filter(|v| !v.is_empty())
                .into_iter()
                .copied()
                .collect()
        } else {
            values.clone()
        };
        if !kept.is_empty() {
            sequence.push(
                kept.into_iter()
                    .map(|v| Rendered::Standard(name, v))
                    .collect(),
            );
        }
    }
    let mut out = String::new();
    for (i, rdn) in sequence.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, attribute) in rdn.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            attribute.write(&mut out);
        }
    }
    out
}

enum Rendered<'a> {
    Standard(&'a str, &'a str),
    Extra(&'a str, &'a AttrValue),
}

impl Rendered<'_> {
    fn write(&self, out: &mut String) {
        match self {
            Rendered::Standard(name, value) => {
                out.push_str(name);
                out.push('=');
                push_escaped(out, value);
            }
            Rendered::Extra(oid, value) => {
                out.push_str(oid);
                out.push_str("=#");
                let der = match value {
                    AttrValue::Str(s) => marshal_string(s),
                    AttrValue::Der(der) => der.clone(),
                };
                for byte in der {
                    let _ = write!(out, "{byte:02x}");
                }
            }
        }
    }
}

/// Index into [`STANDARD`] when the OID is one of 2.5.4.{3,5,6,7,8,9,10,11,17}.
fn standard_index(oid: &str) -> Option<usize> {
    let arcs: Vec<u64> = oid
        .split('.')
        .map(|a| a.parse().ok())
        .collect::<Option<_>>()?;
    match arcs.as_slice() {
        [2, 5, 4, last] => STANDARD.iter().position(|(arc, _, _)| arc == last),
        _ => None,
    }
}

/// `RDNSequence.String`'s escaping (byte positions, as Go's range loop gives them).
fn push_escaped(out: &mut String, value: &str) {
    let last = value.len().saturating_sub(1);
    for (k, c) in value.char_indices() {
        let escape = match c {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' => true,
            ' ' => k == 0 || k == last,
            '#' => k == 0,
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
}

/// `asn1.Marshal` of a Go string: PrintableString if every byte is in its set (no `*`, no `&`),
/// otherwise UTF8String.
fn marshal_string(s: &str) -> Vec<u8> {
    let printable = s.bytes().all(|b| {
        b.is_ascii_alphanumeric()
            || matches!(b, b'\''..=b')' | b'+'..=b'/' | b' ' | b':' | b'=' | b'?')
    });
    let tag = if printable { 0x13 } else { 0x0c };
    let mut out = vec![tag];
    let length = s.len() as u64;
    if length < 128 {
        out.push(length.to_le_bytes()[0]);
    } else {
        let all = length.to_be_bytes();
        let skip = all.iter().take(7).take_while(|&&b| b == 0).count();
        let bytes = all.get(skip..).unwrap_or_default();
        out.push(0x80 | bytes.len().to_le_bytes()[0]);
        out.extend_from_slice(bytes);
    }
    out.extend_from_slice(s.as_bytes());
    out
}
