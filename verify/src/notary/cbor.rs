//! A strict CBOR decoder for COSE_Sign1: definite lengths only, no duplicate
//! map keys, bounded depth, and the byte span of every item kept so the
//! protected header is verified exactly as received. This mirrors the decode
//! options go-cose uses (fxamacker/cbor with `DupMapKeyEnforcedAPF`,
//! `IndefLengthForbidden`, tags forbidden outside the protected header).

const MAX_DEPTH: usize = 16;
/// Entries per map: COSE headers hold a handful; the bound keeps the
/// duplicate-key check cheap on hostile input.
const MAX_MAP_ENTRIES: u64 = 256;
const MAX_ARRAY_ITEMS: u64 = 4096;
/// Items in one decode: a COSE_Sign1 envelope holds a few dozen; each
/// decoded item costs tens of bytes whatever its encoded size, so a 32 MiB
/// envelope of one-byte items would otherwise cost a gigabyte.
const MAX_ITEMS: usize = 16384;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Major types 0 and 1, as an integer (`-1 - n` for negative).
    Int(i128),
    Bytes(Vec<u8>),
    Text(String),
    Array(Vec<Value>),
    Map(Vec<(Value, Value)>),
    Tag(u64, Box<Value>),
    Bool(bool),
    Null,
    Undefined,
    Float(f64),
    Simple(u8),
}

impl Value {
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }

    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// A map entry by key.
    pub fn get(&self, key: &Value) -> Option<&Value> {
        match self {
            Value::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CborError {
    #[error("cbor: unexpected EOF")]
    Eof,
    #[error("cbor: indefinite-length items are not allowed")]
    Indefinite,
    #[error("cbor: invalid additional information {0}")]
    BadInfo(u8),
    #[error("cbor: found duplicate map key")]
    DuplicateKey,
    #[error("cbor: tags are not allowed here")]
    TagForbidden,
    #[error("cbor: nesting deeper than {MAX_DEPTH}")]
    TooDeep,
    #[error("cbor: invalid UTF-8 string")]
    Utf8,
    #[error("cbor: {0} bytes of extraneous data")]
    Trailing(usize),
    #[error("cbor: length exceeds the input")]
    TooLong,
    #[error("cbor: more than {MAX_ITEMS} items")]
    TooManyItems,
}

pub struct Decoder<'a> {
    input: &'a [u8],
    pos: usize,
    allow_tags: bool,
    items: usize,
}

impl<'a> Decoder<'a> {
    pub fn new(input: &'a [u8], allow_tags: bool) -> Decoder<'a> {
        Decoder {
            input,
            pos: 0,
            allow_tags,
            items: 0,
        }
    }

    /// Decodes exactly one item spanning the whole input.
    pub fn decode_all(input: &'a [u8], allow_tags: bool) -> Result<Value, CborError> {
        let mut d = Decoder::new(input, allow_tags);
        let v = d.item(0)?;
        if d.pos != input.len() {
            return Err(CborError::Trailing(input.len() - d.pos));
        }
        Ok(v)
    }

    /// The raw bytes of the next item, and the item.
    pub fn item_with_span(&mut self) -> Result<(&'a [u8], Value), CborError> {
        let start = self.pos;
        let v = self.item(0)?;
        Ok((&self.input[start..self.pos], v))
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    fn byte(&mut self) -> Result<u8, CborError> {
        let b = *self.input.get(self.pos).ok_or(CborError::Eof)?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], CborError> {
        let n = usize::try_from(n).map_err(|_| CborError::TooLong)?;
        if self.input.len() - self.pos < n {
            return Err(CborError::TooLong);
        }
        let s = &self.input[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn argument(&mut self, info: u8) -> Result<u64, CborError> {
        Ok(match info {
            0..=23 => u64::from(info),
            24 => u64::from(self.byte()?),
            25 => u64::from(u16::from_be_bytes(
                self.take(2)?.try_into().map_err(|_| CborError::Eof)?,
            )),
            26 => u64::from(u32::from_be_bytes(
                self.take(4)?.try_into().map_err(|_| CborError::Eof)?,
            )),
            27 => u64::from_be_bytes(self.take(8)?.try_into().map_err(|_| CborError::Eof)?),
            31 => return Err(CborError::Indefinite),
            other => return Err(CborError::BadInfo(other)),
        })
    }

    fn item(&mut self, depth: usize) -> Result<Value, CborError> {
        if depth > MAX_DEPTH {
            return Err(CborError::TooDeep);
        }
        self.items += 1;
        if self.items > MAX_ITEMS {
            return Err(CborError::TooManyItems);
        }
        let initial = self.byte()?;
        let (major, info) = (initial >> 5, initial & 0x1f);
        if major == 7 {
            return self.simple(info);
        }
        let arg = self.argument(info)?;
        match major {
            0 => Ok(Value::Int(i128::from(arg))),
            1 => Ok(Value::Int(-1 - i128::from(arg))),
            2 => Ok(Value::Bytes(self.take(arg)?.to_vec())),
            3 => String::from_utf8(self.take(arg)?.to_vec())
                .map(Value::Text)
                .map_err(|_| CborError::Utf8),
            4 => {
                // Every item takes at least one byte: a count beyond the input is a lie.
                if arg > (self.input.len() - self.pos) as u64 || arg > MAX_ARRAY_ITEMS {
                    return Err(CborError::TooLong);
                }
                (0..arg)
                    .map(|_| self.item(depth + 1))
                    .collect::<Result<_, _>>()
                    .map(Value::Array)
            }
            5 => {
                if arg > ((self.input.len() - self.pos) / 2) as u64 || arg > MAX_MAP_ENTRIES {
                    return Err(CborError::TooLong);
                }
                let mut entries: Vec<(Value, Value)> = Vec::new();
                for _ in 0..arg {
                    let k = self.item(depth + 1)?;
                    if entries.iter().any(|(e, _)| *e == k) {
                        return Err(CborError::DuplicateKey);
                    }
                    let v = self.item(depth + 1)?;
                    entries.push((k, v));
                }
                Ok(Value::Map(entries))
            }
            _ => {
                if !self.allow_tags {
                    return Err(CborError::TagForbidden);
                }
                Ok(Value::Tag(arg, Box::new(self.item(depth + 1)?)))
            }
        }
    }

    fn simple(&mut self, info: u8) -> Result<Value, CborError> {
        Ok(match info {
            20 => Value::Bool(false),
            21 => Value::Bool(true),
            22 => Value::Null,
            23 => Value::Undefined,
            24 => {
                let v = self.byte()?;
                if v < 32 {
                    return Err(CborError::BadInfo(24));
                }
                Value::Simple(v)
            }
            25 => {
                let b = self.take(2)?;
                Value::Float(half_to_f64(u16::from_be_bytes([b[0], b[1]])))
            }
            26 => {
                let b = self.take(4)?;
                Value::Float(f64::from(f32::from_be_bytes([b[0], b[1], b[2], b[3]])))
            }
            27 => {
                let b = self.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                Value::Float(f64::from_be_bytes(a))
            }
            31 => return Err(CborError::Indefinite),
            0..=19 => Value::Simple(info),
            other => return Err(CborError::BadInfo(other)),
        })
    }
}

fn half_to_f64(h: u16) -> f64 {
    let exp = (h >> 10) & 0x1f;
    let mant = f64::from(h & 0x3ff);
    let v = match exp {
        0 => mant * 2f64.powi(-24),
        31 => {
            if mant == 0.0 {
                f64::INFINITY
            } else {
                f64::NAN
            }
        }
        e => (mant + 1024.0) * 2f64.powi(i32::from(e) - 25),
    };
    if h & 0x8000 != 0 { -v } else { v }
}

/// The CBOR encoding of a byte string with the shortest header (go-cose
/// re-encodes the protected header this way for the Sig_structure).
pub fn encode_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    encode_head(out, 2, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

pub fn encode_text(out: &mut Vec<u8>, text: &str) {
    encode_head(out, 3, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}

pub fn encode_head(out: &mut Vec<u8>, major: u8, n: u64) {
    let m = major << 5;
    match n {
        0..=23 => out.push(m | n as u8),
        24..=0xff => out.extend_from_slice(&[m | 24, n as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(m | 26);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
        _ => {
            out.push(m | 27);
            out.extend_from_slice(&n.to_be_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_number_of_items_is_bounded() {
        // Arrays of 4000 zeros, nested in an array of 5: 20006 items.
        let mut many = vec![0x85];
        for _ in 0..5 {
            many.extend_from_slice(&[0x99, 0x0f, 0xa0]);
            many.extend(std::iter::repeat_n(0x00, 4000));
        }
        assert_eq!(
            Decoder::decode_all(&many, false),
            Err(CborError::TooManyItems)
        );
        // Four such arrays (16005 items) are within the bound.
        let mut fewer = vec![0x84];
        for _ in 0..4 {
            fewer.extend_from_slice(&[0x99, 0x0f, 0xa0]);
            fewer.extend(std::iter::repeat_n(0x00, 4000));
        }
        assert!(Decoder::decode_all(&fewer, false).is_ok());
    }

    #[test]
    fn decodes_and_rejects() {
        let v =
            Decoder::decode_all(&[0xa2, 0x01, 0x26, 0x63, b'a', b'b', b'c', 0x40], false).unwrap();
        assert_eq!(v.get(&Value::Int(1)), Some(&Value::Int(-7)));
        assert_eq!(
            v.get(&Value::Text("abc".into())),
            Some(&Value::Bytes(vec![]))
        );
        assert_eq!(
            Decoder::decode_all(&[0xa2, 0x01, 0x00, 0x01, 0x00], false),
            Err(CborError::DuplicateKey)
        );
        assert_eq!(
            Decoder::decode_all(&[0x9f, 0xff], false),
            Err(CborError::Indefinite)
        );
        assert_eq!(
            Decoder::decode_all(&[0xc1, 0x00], false),
            Err(CborError::TagForbidden)
        );
        assert!(matches!(
            Decoder::decode_all(&[0xc1, 0x00], true),
            Ok(Value::Tag(1, _))
        ));
        assert_eq!(
            Decoder::decode_all(&[0x00, 0x00], false),
            Err(CborError::Trailing(1))
        );
        assert_eq!(
            Decoder::decode_all(&[0x5a, 0xff, 0xff, 0xff, 0xff], false),
            Err(CborError::TooLong)
        );
        assert_eq!(
            Decoder::decode_all(
                &[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
                false
            ),
            Err(CborError::TooLong)
        );
        let deep = vec![0x81u8; 100];
        assert_eq!(Decoder::decode_all(&deep, false), Err(CborError::TooDeep));
        assert_eq!(
            Decoder::decode_all(&[0x62, 0xff, 0xfe], false),
            Err(CborError::Utf8)
        );
    }

    #[test]
    fn shortest_headers() {
        let mut out = Vec::new();
        encode_bytes(&mut out, &[0u8; 24]);
        assert_eq!(&out[..2], &[0x58, 24]);
        let mut out = Vec::new();
        encode_head(&mut out, 2, 300);
        assert_eq!(out, [0x59, 0x01, 0x2c]);
        assert_eq!(half_to_f64(0x3c00), 1.0);
    }
}
