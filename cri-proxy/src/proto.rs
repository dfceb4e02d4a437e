//! The protocol-buffers wire format, read and edited without a schema.
//!
//! The proxy never decodes a passed-through message. The few it inspects (a `PullImageRequest`'s
//! `image.image`, an `ImageStatusResponse`'s `image.id`) are read here by field number, and the one
//! it rewrites (a pull's image reference, to the verified digest) is *spliced*: the field at a path
//! is replaced and every other byte is kept, so fields this build does not know survive (a typed
//! re-encode with prost would drop them).
//!
//! Strictness: a singular field that appears more than once is an error here
//! ([`ProtoError::Duplicate`]), although protobuf decoders take the last scalar and merge repeated
//! submessages. A message whose meaning depends on that rule is ambiguous, and for enforcement an
//! ambiguous message is refused rather than guessed at. Groups (wire types 3 and 4, proto2 only)
//! are skipped as opaque values with their nesting bounded by [`MAX_DEPTH`].

use std::ops::Range;

use wire::read_field;

mod wire;

/// The deepest path [`splice`] and [`bytes_at`] follow, and the deepest group nesting skipped.
pub const MAX_DEPTH: usize = 16;
/// The largest field number protobuf allows (2^29 - 1).
pub const MAX_FIELD_NUMBER: u32 = (1 << 29) - 1;

/// How a field's value is laid out on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireType {
    /// 0: int32, int64, uint*, sint*, bool, enum.
    Varint,
    /// 1: fixed64, sfixed64, double.
    Fixed64,
    /// 2: string, bytes, submessages, packed repeated scalars.
    Len,
    /// 3: start of a (proto2) group.
    StartGroup,
    /// 4: end of a (proto2) group.
    EndGroup,
    /// 5: fixed32, sfixed32, float.
    Fixed32,
}

impl WireType {
    fn from_bits(bits: u64, offset: usize) -> Result<WireType, ProtoError> {
        match bits {
            0 => Ok(WireType::Varint),
            1 => Ok(WireType::Fixed64),
            2 => Ok(WireType::Len),
            3 => Ok(WireType::StartGroup),
            4 => Ok(WireType::EndGroup),
            5 => Ok(WireType::Fixed32),
            // bits come from `key & 7`, so they fit in a u8
            other => Err(ProtoError::BadWireType {
                wire_type: (other & 7) as u8,
                offset,
            }),
        }
    }

    fn bits(self) -> u64 {
        match self {
            WireType::Varint => 0,
            WireType::Fixed64 => 1,
            WireType::Len => 2,
            WireType::StartGroup => 3,
            WireType::EndGroup => 4,
            WireType::Fixed32 => 5,
        }
    }
}

/// A field's value, borrowed from the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    /// A varint, undecoded (zigzag and sign are the schema's business).
    Varint(u64),
    /// Eight little-endian bytes.
    Fixed64(u64),
    /// A length-delimited payload: a string, bytes, a submessage or a packed array.
    Len(&'a [u8]),
    /// The fields between a start-group and its end-group, unparsed.
    Group(&'a [u8]),
    /// Four little-endian bytes.
    Fixed32(u32),
}

impl Value<'_> {
    /// The wire type this value was read with.
    pub fn wire_type(&self) -> WireType {
        match self {
            Value::Varint(_) => WireType::Varint,
            Value::Fixed64(_) => WireType::Fixed64,
            Value::Len(_) => WireType::Len,
            Value::Group(_) => WireType::StartGroup,
            Value::Fixed32(_) => WireType::Fixed32,
        }
    }
}

/// One field of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field<'a> {
    /// The field number (1 ..= [`MAX_FIELD_NUMBER`]).
    pub number: u32,
    /// The value.
    pub value: Value<'a>,
    /// Where the whole field (key, length, payload) lies in the message.
    pub range: Range<usize>,
}

/// Malformed or ambiguous protobuf input. Offsets are byte positions in the message read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtoError {
    /// The message ends inside a key or a value.
    #[error("message truncated inside a {what} at byte {offset}")]
    Truncated { what: &'static str, offset: usize },
    /// A varint has more than ten bytes.
    #[error("varint longer than 10 bytes at byte {offset}")]
    VarintTooLong { offset: usize },
    /// A key names field 0 or a number above 2^29 - 1.
    #[error("field number {number} at byte {offset} is out of range")]
    BadFieldNumber { number: u64, offset: usize },
    /// A key has wire type 6 or 7.
    #[error("wire type {wire_type} at byte {offset} is not defined")]
    BadWireType { wire_type: u8, offset: usize },
    /// A length prefix points past the end of the message.
    #[error(
        "length {length} at byte {offset} runs past the end of the message ({available} bytes left)"
    )]
    LengthOverrun {
        length: u64,
        available: usize,
        offset: usize,
    },
    /// An end-group key without its start-group (or closing a different field).
    #[error("end-group for field {number} at byte {offset} does not close an open group")]
    UnexpectedEndGroup { number: u32, offset: usize },
    /// Groups nested deeper than [`MAX_DEPTH`].
    #[error("groups nested deeper than {max} at byte {offset}")]
    TooDeep { max: usize, offset: usize },
    /// A path with no element, more than [`MAX_DEPTH`] elements, or an invalid field number.
    #[error("field path {path:?} is not usable (1 to {max} field numbers, each 1 to 2^29-1)")]
    BadPath { path: Vec<u32>, max: usize },
    /// A singular field appears more than once.
    #[error("field {number} appears more than once (again at byte {offset})")]
    Duplicate { number: u32, offset: usize },
    /// A field expected to be length-delimited has another wire type.
    #[error("field {number} has wire type {found:?}, expected length-delimited")]
    WrongWireType { number: u32, found: WireType },
    /// A string field holds invalid UTF-8.
    #[error("field {number} is not valid UTF-8")]
    NotUtf8 { number: u32 },
}

impl ProtoError {
    /// A short, stable label for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            ProtoError::Truncated { .. } => "truncated",
            ProtoError::VarintTooLong { .. } => "varint_too_long",
            ProtoError::BadFieldNumber { .. } => "bad_field_number",
            ProtoError::BadWireType { .. } => "bad_wire_type",
            ProtoError::LengthOverrun { .. } => "length_overrun",
            ProtoError::UnexpectedEndGroup { .. } => "unexpected_end_group",
            ProtoError::TooDeep { .. } => "too_deep",
            ProtoError::BadPath { .. } => "bad_path",
            ProtoError::Duplicate { .. } => "duplicate_field",
            ProtoError::WrongWireType { .. } => "wrong_wire_type",
            ProtoError::NotUtf8 { .. } => "not_utf8",
        }
    }
}

/// The fields of `message`, in wire order. The iterator yields the first error and then stops.
pub fn fields(message: &[u8]) -> Fields<'_> {
    Fields {
        buf: message,
        pos: 0,
        failed: false,
    }
}

/// Iterator returned by [`fields`].
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    buf: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<Field<'a>, ProtoError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.buf.len() {
            return None;
        }
        let start = self.pos;
        let read = read_field(self.buf, start, 0).and_then(|(number, value, end)| match value {
            Some(value) => Ok((number, value, end)),
            None => Err(ProtoError::UnexpectedEndGroup {
                number,
                offset: start,
            }),
        });
        match read {
            Ok((number, value, end)) => {
                self.pos = end;
                Some(Ok(Field {
                    number,
                    value,
                    range: start..end,
                }))
            }
            Err(error) => {
                self.failed = true;
                Some(Err(error))
            }
        }
    }
}

/// Checks that `message` is a well-formed sequence of fields (submessages are not descended into).
pub fn validate(message: &[u8]) -> Result<(), ProtoError> {
    fields(message).try_for_each(|field| field.map(|_| ()))
}

/// The only occurrence of field `number`, if any. The whole message is read, so a malformed
/// message or a second occurrence is an error even when the field itself is fine.
pub fn find(message: &[u8], number: u32) -> Result<Option<Field<'_>>, ProtoError> {
    let mut found: Option<Field<'_>> = None;
    for field in fields(message) {
        let field = field?;
        if field.number != number {
            continue;
        }
        if found.is_some() {
            return Err(ProtoError::Duplicate {
                number,
                offset: field.range.start,
            });
        }
        found = Some(field);
    }
    Ok(found)
}

/// The payload of the length-delimited field `number` (bytes, string or submessage), if present.
pub fn bytes_field(message: &[u8], number: u32) -> Result<Option<&[u8]>, ProtoError> {
    match find(message, number)? {
        None => Ok(None),
        Some(Field {
            value: Value::Len(payload),
            ..
        }) => Ok(Some(payload)),
        Some(field) => Err(ProtoError::WrongWireType {
            number,
            found: field.value.wire_type(),
        }),
    }
}

/// The string field `number`, if present.
pub fn string_field(message: &[u8], number: u32) -> Result<Option<&str>, ProtoError> {
    bytes_field(message, number)?
        .map(|payload| std::str::from_utf8(payload).map_err(|_| ProtoError::NotUtf8 { number }))
        .transpose()
}

/// The varint field `number`, if present (a bool, enum or integer, undecoded).
pub fn varint_field(message: &[u8], number: u32) -> Result<Option<u64>, ProtoError> {
    match find(message, number)? {
        None => Ok(None),
        Some(Field {
            value: Value::Varint(value),
            ..
        }) => Ok(Some(value)),
        Some(field) => Err(ProtoError::WrongWireType {
            number,
            found: field.value.wire_type(),
        }),
    }
}

/// Every payload of the repeated length-delimited field `number` (e.g. `repeated string`), in order.
pub fn repeated_bytes(message: &[u8], number: u32) -> Result<Vec<&[u8]>, ProtoError> {
    let mut out = Vec::new();
    for field in fields(message) {
        let field = field?;
        if field.number != number {
            continue;
        }
        match field.value {
            Value::Len(payload) => out.push(payload),
            other => {
                return Err(ProtoError::WrongWireType {
                    number,
                    found: other.wire_type(),
                });
            }
        }
    }
    Ok(out)
}

/// The length-delimited payload at `path` (e.g. `[1, 1]`: field 1 inside field 1), if every
/// element of the path is present. Each element must occur at most once.
pub fn bytes_at<'a>(message: &'a [u8], path: &[u32]) -> Result<Option<&'a [u8]>, ProtoError> {
    check_path(path)?;
    let mut current = message;
    for &number in path {
        match bytes_field(current, number)? {
            Some(inner) => current = inner,
            None => return Ok(None),
        }
    }
    Ok(Some(current))
}

/// The string at `path`, if present.
pub fn string_at<'a>(message: &'a [u8], path: &[u32]) -> Result<Option<&'a str>, ProtoError> {
    let number = path.last().copied().unwrap_or(0);
    bytes_at(message, path)?
        .map(|payload| std::str::from_utf8(payload).map_err(|_| ProtoError::NotUtf8 { number }))
        .transpose()
}

/// A copy of `message` with the length-delimited field at `path` set to `value`.
///
/// Every byte outside that field (and outside the length prefixes of the submessages that enclose
/// it, which change with its size) is kept as it was, unknown fields included. A missing field,
/// or a missing enclosing submessage, is appended at the end of its parent. Each element of the
/// path must occur at most once and be length-delimited.
pub fn splice(message: &[u8], path: &[u32], value: &[u8]) -> Result<Vec<u8>, ProtoError> {
    check_path(path)?;
    splice_level(message, path, value)
}

fn splice_level(message: &[u8], path: &[u32], value: &[u8]) -> Result<Vec<u8>, ProtoError> {
    let Some((&number, rest)) = path.split_first() else {
        return Ok(value.to_vec());
    };
    let existing = find(message, number)?;
    let inner = match &existing {
        None => &[][..],
        Some(Field {
            value: Value::Len(payload),
            ..
        }) => payload,
        Some(field) => {
            return Err(ProtoError::WrongWireType {
                number,
                found: field.value.wire_type(),
            });
        }
    };
    let spliced;
    let payload = if rest.is_empty() {
        value
    } else {
        spliced = splice_level(inner, rest, value)?;
        &spliced[..]
    };
    let mut out = Vec::with_capacity(message.len() + payload.len() + 16);
    match existing {
        Some(field) => {
            out.extend_from_slice(&message[..field.range.start]);
            encode_len_field(number, payload, &mut out);
            out.extend_from_slice(&message[field.range.end..]);
        }
        None => {
            out.extend_from_slice(message);
            encode_len_field(number, payload, &mut out);
        }
    }
    Ok(out)
}

fn check_path(path: &[u32]) -> Result<(), ProtoError> {
    let valid = |n: &u32| (1..=MAX_FIELD_NUMBER).contains(n);
    if path.is_empty() || path.len() > MAX_DEPTH || !path.iter().all(valid) {
        return Err(ProtoError::BadPath {
            path: path.to_vec(),
            max: MAX_DEPTH,
        });
    }
    Ok(())
}

/// Appends `value` as a varint.
pub fn encode_varint(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Appends the key of field `number` with `wire_type`.
pub fn encode_key(number: u32, wire_type: WireType, out: &mut Vec<u8>) {
    encode_varint((u64::from(number) << 3) | wire_type.bits(), out);
}

/// Appends a length-delimited field (string, bytes or an encoded submessage).
pub fn encode_len_field(number: u32, payload: &[u8], out: &mut Vec<u8>) {
    encode_key(number, WireType::Len, out);
    encode_varint(payload.len() as u64, out);
    out.extend_from_slice(payload);
}

/// Appends a varint field (bool, enum, integer).
pub fn encode_varint_field(number: u32, value: u64, out: &mut Vec<u8>) {
    encode_key(number, WireType::Varint, out);
    encode_varint(value, out);
}

#[cfg(test)]
mod tests;
