//! The small CBOR subset COSE_Sign1 envelopes need, encoded as go-cose
//! v1.3 encodes them (fxamacker/cbor with `SortCanonical` and
//! `IndefLengthForbidden`): definite lengths, shortest-form heads, and map
//! keys sorted by the length of their encoding first, then bytewise
//! (RFC 7049 §3.9 "canonical CBOR").

/// A CBOR data item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cbor {
    /// An integer, major type 0 (≥ 0) or 1 (< 0).
    Int(i64),
    /// A byte string (major type 2).
    Bytes(Vec<u8>),
    /// A text string (major type 3).
    Text(String),
    /// An array (major type 4).
    Array(Vec<Cbor>),
    /// A map (major type 5); encoded with canonically sorted keys.
    Map(Vec<(Cbor, Cbor)>),
    /// A tagged item (major type 6), e.g. tag 1 (epoch time), tag 18 (COSE_Sign1).
    Tag(u64, Box<Cbor>),
    /// `true` / `false` (simple values 21 / 20).
    Bool(bool),
}

impl Cbor {
    /// `text` as a text string item.
    pub fn text(text: &str) -> Cbor {
        Cbor::Text(text.to_string())
    }

    /// The encoding of this item.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }

    fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            Cbor::Int(i) if *i >= 0 => head(out, 0, i.unsigned_abs()),
            Cbor::Int(i) => head(out, 1, (-1 - *i).unsigned_abs()),
            Cbor::Bytes(b) => {
                head(out, 2, b.len() as u64);
                out.extend_from_slice(b);
            }
            Cbor::Text(t) => {
                head(out, 3, t.len() as u64);
                out.extend_from_slice(t.as_bytes());
            }
            Cbor::Array(items) => {
                head(out, 4, items.len() as u64);
                items.iter().for_each(|i| i.encode_into(out));
            }
            Cbor::Map(entries) => encode_map(entries, out),
            Cbor::Tag(tag, item) => {
                head(out, 6, *tag);
                item.encode_into(out);
            }
            Cbor::Bool(b) => out.push(if *b { 0xf5 } else { 0xf4 }),
        }
    }
}

/// Writes a map with its keys in canonical order (shorter encoded key first,
/// then bytewise), as go-cose does for protected and unprotected headers.
fn encode_map(entries: &[(Cbor, Cbor)], out: &mut Vec<u8>) {
    let mut encoded: Vec<(Vec<u8>, &Cbor)> = entries.iter().map(|(k, v)| (k.encode(), v)).collect();
    encoded.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then_with(|| a.0.cmp(&b.0)));
    head(out, 5, encoded.len() as u64);
    for (key, value) in encoded {
        out.extend_from_slice(&key);
        value.encode_into(out);
    }
}

/// A data item head in shortest form: major type and argument.
fn head(out: &mut Vec<u8>, major: u8, arg: u64) {
    let m = major << 5;
    match arg {
        0..=23 => out.push(m | arg as u8),
        24..=0xff => out.extend_from_slice(&[m | 24, arg as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend_from_slice(&(arg as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(m | 26);
            out.extend_from_slice(&(arg as u32).to_be_bytes());
        }
        _ => {
            out.push(m | 27);
            out.extend_from_slice(&arg.to_be_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_use_the_shortest_head() {
        assert_eq!(Cbor::Int(0).encode(), [0x00]);
        assert_eq!(Cbor::Int(23).encode(), [0x17]);
        assert_eq!(Cbor::Int(33).encode(), [0x18, 0x21]);
        assert_eq!(Cbor::Int(-1).encode(), [0x20]);
        assert_eq!(Cbor::Int(-37).encode(), [0x38, 0x24]);
        assert_eq!(Cbor::Int(1000).encode(), [0x19, 0x03, 0xe8]);
        assert_eq!(
            Cbor::Int(1_678_769_122).encode(),
            [0x1a, 0x64, 0x0f, 0xfb, 0xe2]
        );
        assert_eq!(Cbor::Int(i64::MIN).encode()[0], 0x3b);
        assert_eq!(Cbor::Int(1 << 40).encode()[0], 0x1b);
    }

    #[test]
    fn strings_tags_and_arrays() {
        assert_eq!(Cbor::text("a").encode(), [0x61, b'a']);
        assert_eq!(Cbor::Bytes(vec![1; 24]).encode()[..2], [0x58, 24]);
        assert_eq!(Cbor::Bytes(vec![0; 300]).encode()[..3], [0x59, 0x01, 0x2c]);
        let t = Cbor::Tag(1, Box::new(Cbor::Int(0))).encode();
        assert_eq!(t, [0xc1, 0x00]);
        assert_eq!(
            Cbor::Tag(18, Box::new(Cbor::Array(vec![]))).encode(),
            [0xd2, 0x80]
        );
        assert_eq!(Cbor::Bool(true).encode(), [0xf5]);
    }

    #[test]
    fn map_keys_are_sorted_length_first() {
        let m = Cbor::Map(vec![
            (Cbor::text("bb"), Cbor::Int(1)),
            (Cbor::Int(33), Cbor::Int(2)),
            (Cbor::text("a"), Cbor::Int(3)),
            (Cbor::Int(-1), Cbor::Int(4)),
            (Cbor::Int(1), Cbor::Int(5)),
        ]);
        // 1 (0x01), -1 (0x20), 33 (0x18 0x21), "a" (0x61 ..), "bb" (0x62 ..)
        let want = [
            0xa5, 0x01, 0x05, 0x20, 0x04, 0x18, 0x21, 0x02, 0x61, b'a', 0x03, 0x62, b'b', b'b',
            0x01,
        ];
        assert_eq!(m.encode(), want);
    }
}
