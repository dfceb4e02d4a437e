//! Reading keys and values off the wire; the public reading API is in the parent module.

use super::{MAX_DEPTH, MAX_FIELD_NUMBER, ProtoError, Value, WireType};

/// Reads one varint at `pos`; returns it and the position after it.
fn read_varint(buf: &[u8], pos: usize, what: &'static str) -> Result<(u64, usize), ProtoError> {
    let mut value = 0u64;
    for i in 0..10 {
        let Some(&byte) = buf.get(pos + i) else {
            return Err(ProtoError::Truncated { what, offset: pos });
        };
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok((value, pos + i + 1));
        }
    }
    Err(ProtoError::VarintTooLong { offset: pos })
}

fn read_fixed<const N: usize>(buf: &[u8], pos: usize) -> Result<([u8; N], usize), ProtoError> {
    let end = pos.checked_add(N).filter(|&end| end <= buf.len());
    let bytes = end
        .and_then(|end| buf.get(pos..end))
        .and_then(|s| <[u8; N]>::try_from(s).ok());
    match bytes {
        Some(bytes) => Ok((bytes, pos + N)),
        None => Err(ProtoError::Truncated {
            what: "fixed-width value",
            offset: pos,
        }),
    }
}

/// Reads the field at `pos`: its number, its value (None for an end-group key) and where it ends.
/// `depth` is the number of groups already open around it.
pub(super) fn read_field(
    buf: &[u8],
    pos: usize,
    depth: usize,
) -> Result<(u32, Option<Value<'_>>, usize), ProtoError> {
    let (key, after_key) = read_varint(buf, pos, "field key")?;
    let wire_type = WireType::from_bits(key & 7, pos)?;
    let raw_number = key >> 3;
    let number = u32::try_from(raw_number)
        .ok()
        .filter(|n| (1..=MAX_FIELD_NUMBER).contains(n))
        .ok_or(ProtoError::BadFieldNumber {
            number: raw_number,
            offset: pos,
        })?;
    match wire_type {
        WireType::Varint => {
            let (value, end) = read_varint(buf, after_key, "varint")?;
            Ok((number, Some(Value::Varint(value)), end))
        }
        WireType::Fixed64 => {
            let (bytes, end) = read_fixed::<8>(buf, after_key)?;
            Ok((number, Some(Value::Fixed64(u64::from_le_bytes(bytes))), end))
        }
        WireType::Fixed32 => {
            let (bytes, end) = read_fixed::<4>(buf, after_key)?;
            Ok((number, Some(Value::Fixed32(u32::from_le_bytes(bytes))), end))
        }
        WireType::Len => {
            let (length, start) = read_varint(buf, after_key, "length")?;
            let available = buf.len() - start;
            let payload = usize::try_from(length)
                .ok()
                .filter(|&len| len <= available)
                .and_then(|len| buf.get(start..start + len))
                .ok_or(ProtoError::LengthOverrun {
                    length,
                    available,
                    offset: after_key,
                })?;
            Ok((number, Some(Value::Len(payload)), start + payload.len()))
        }
        WireType::StartGroup => {
            let (inner, end) = skip_group(buf, after_key, number, depth + 1)?;
            Ok((number, Some(Value::Group(inner)), end))
        }
        WireType::EndGroup => Ok((number, None, after_key)),
    }
}

/// Skips the fields of the group `number` that starts at `pos`; returns its contents and the
/// position after its end-group key.
fn skip_group(
    buf: &[u8],
    pos: usize,
    number: u32,
    depth: usize,
) -> Result<(&[u8], usize), ProtoError> {
    if depth > MAX_DEPTH {
        return Err(ProtoError::TooDeep {
            max: MAX_DEPTH,
            offset: pos,
        });
    }
    let mut cursor = pos;
    loop {
        if cursor >= buf.len() {
            return Err(ProtoError::Truncated {
                what: "group",
                offset: pos,
            });
        }
        let (inner_number, value, end) = read_field(buf, cursor, depth)?;
        if value.is_none() {
            if inner_number != number {
                return Err(ProtoError::UnexpectedEndGroup {
                    number: inner_number,
                    offset: cursor,
                });
            }
            return Ok((&buf[pos..cursor], end));
        }
        cursor = end;
    }
}
