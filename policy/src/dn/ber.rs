//! go-ldap's `decodeEncodedString` for `#hex` attribute values: Go's `hex.DecodeString`, then one
//! packet read by go-asn1-ber (the version go-ldap v3.4.11 pins, 29230038a667), whose content
//! bytes (`packet.Data`) become the value.
//!
//! notation-go never gets here: `pkix.ParseDistinguishedName` rejects every DN containing `=#`
//! before calling go-ldap, and a value reaches this decoder only when its first byte follows the
//! `=` directly. The port is kept for completeness of the go-ldap parser with two documented
//! differences: REAL and GeneralizedTime contents (which go-asn1-ber parses with Go's float and
//! time parsers) are reported as unsupported, and nesting is bounded to protect the stack.

use crate::gofmt::go_unicode_sharp;

/// Deepest constructed nesting decoded (go-asn1-ber at this version has no bound).
const MAX_DEPTH: usize = 256;
/// go-asn1-ber's `MaxPacketLengthBytes` (math.MaxInt32).
const MAX_PACKET_LENGTH: i64 = 2_147_483_647;

/// Errors of the hex and BER layers, with Go's texts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BerError {
    /// A character that is not a hex digit.
    #[error("encoding/hex: invalid byte: {}", go_unicode_sharp(char::from(*.byte)))]
    Hex {
        /// The offending byte.
        byte: u8,
    },
    /// An odd number of hex digits.
    #[error("encoding/hex: odd length hex string")]
    HexOddLength,
    /// No bytes at all.
    #[error("EOF")]
    Eof,
    /// The packet is cut short.
    #[error("unexpected EOF")]
    UnexpectedEof,
    /// A high tag number starting with a zero 7-bit group.
    #[error("invalid first high-tag-number tag byte")]
    HighTagFirstByte,
    /// A high tag number longer than 9 bytes.
    #[error("high-tag-number tag overflow")]
    HighTagOverflow,
    /// The reserved length byte 0xff.
    #[error("invalid length byte 0xff")]
    LengthByte,
    /// A long-form length of more than 8 bytes.
    #[error("long-form length overflow")]
    LongFormOverflow,
    /// Indefinite length on a primitive packet.
    #[error("indefinite length used with primitive type")]
    IndefinitePrimitive,
    /// A long-form length that is negative as a Go int.
    #[error("length cannot be less than -1")]
    NegativeLength,
    /// A primitive longer than go-asn1-ber accepts.
    #[error("length {length} greater than maximum {MAX_PACKET_LENGTH}")]
    TooLong {
        /// The declared length.
        length: i64,
    },
    /// Children that overrun their parent's definite length.
    #[error("expected to read {expected} bytes, read {read}")]
    LengthMismatch {
        /// The parent's length.
        expected: i64,
        /// What the children used.
        read: i64,
    },
    /// An end-of-contents marker inside a definite-length packet.
    #[error("eoc child not allowed with definite length")]
    EocInDefinite,
    /// A UTF8String that is not UTF-8.
    #[error("invalid UTF-8 string")]
    InvalidUtf8,
    /// A PrintableString character outside its set.
    #[error("invalid character in position {position}")]
    NotPrintable {
        /// Byte offset of the character.
        position: usize,
    },
    /// An IA5String character at or above 0x7f.
    #[error("invalid character for IA5String at pos {position}: {character}")]
    NotIa5 {
        /// Byte offset of the character.
        position: usize,
        /// The character (U+FFFD for a byte that is not UTF-8, as Go's range loop gives).
        character: char,
    },
    /// Not reproduced: see the module documentation.
    #[error("BER REAL and GeneralizedTime contents are not decoded (tag {tag})")]
    Unsupported {
        /// The universal tag.
        tag: u64,
    },
    /// Not reproduced: see the module documentation.
    #[error("BER packet nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
}

/// `hex.DecodeString` then `ber.DecodePacketErr`, returning `packet.Data` (trailing bytes after
/// the first packet are ignored, as go-asn1-ber does).
pub(crate) fn decode_hex_ber(hex: &str) -> Result<Vec<u8>, BerError> {
    let bytes = decode_hex(hex.as_bytes())?;
    let mut reader = Reader {
        bytes: &bytes,
        pos: 0,
    };
    let packet = reader.packet(0)?;
    Ok(packet.data)
}

/// Go's `hex.Decode` error order: pairs left to right, then the odd trailing digit.
fn decode_hex(src: &[u8]) -> Result<Vec<u8>, BerError> {
    let digit = |b: u8| {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    let mut out = Vec::with_capacity(src.len() / 2);
    let mut pairs = src.chunks_exact(2);
    for pair in &mut pairs {
        let (&p, &q) = (pair.first().unwrap_or(&0), pair.get(1).unwrap_or(&0));
        let hi = digit(p).ok_or(BerError::Hex { byte: p })?;
        let lo = digit(q).ok_or(BerError::Hex { byte: q })?;
        out.push(hi << 4 | lo);
    }
    if let Some(&last) = pairs.remainder().first() {
        digit(last).ok_or(BerError::Hex { byte: last })?;
        return Err(BerError::HexOddLength);
    }
    Ok(out)
}

struct Packet {
    class: u8,
    constructed: bool,
    tag: u64,
    data: Vec<u8>,
}

impl Packet {
    fn is_eoc(&self) -> bool {
        self.tag == 0 && self.class == 0 && !self.constructed && self.data.is_empty()
    }

    /// go-asn1-ber's `Packet.Bytes`: identifier, minimal length, data.
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.data.len() + 12);
        let first = self.class | if self.constructed { 0x20 } else { 0 };
        if self.tag < 0x1f {
            out.push(first | u64_low_byte(self.tag));
        } else {
            out.push(first | 0x1f);
            let mut groups = Vec::new();
            let mut tag = self.tag;
            while tag != 0 {
                let continuation = if groups.is_empty() { 0 } else { 0x80 };
                groups.push(u64_low_byte(tag & 0x7f) | continuation);
                tag >>= 7;
            }
            out.extend(groups.iter().rev());
        }
        let length = self.data.len() as u64;
        let length_bytes: Vec<u8> = {
            let all = length.to_be_bytes();
            let skip = all.iter().take(7).take_while(|&&b| b == 0).count();
            all.get(skip..).unwrap_or_default().to_vec()
        };
        if length > 127 || length_bytes.len() > 1 {
            out.push(0x80 | u64_low_byte(length_bytes.len() as u64));
        }
        out.extend_from_slice(&length_bytes);
        out.extend_from_slice(&self.data);
        out
    }
}

fn u64_low_byte(v: u64) -> u8 {
    v.to_le_bytes()[0]
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let b = self.bytes.get(self.pos).copied()?;
        self.pos += 1;
        Some(b)
    }

    /// go-asn1-ber's `readPacket`.
    fn packet(&mut self, depth: usize) -> Result<Packet, BerError> {
        if depth > MAX_DEPTH {
            return Err(BerError::TooDeep);
        }
        let (class, constructed, tag) = self.identifier()?;
        let length = self.length()?;
        if length == -1 && !constructed {
            return Err(BerError::IndefinitePrimitive);
        }
        if length < -1 {
            return Err(BerError::NegativeLength);
        }
        let mut packet = Packet {
            class,
            constructed,
            tag,
            data: Vec::new(),
        };
        if constructed {
            let content_start = self.pos;
            loop {
                let read = (self.pos - content_start) as i64;
                if length != -1 {
                    if read == length {
                        break;
                    }
                    if read > length {
                        return Err(BerError::LengthMismatch {
                            expected: length,
                            read,
                        });
                    }
                }
                let child = self.packet(depth + 1).map_err(|e| match e {
                    BerError::Eof => BerError::UnexpectedEof,
                    other => other,
                })?;
                if child.is_eoc() {
                    if length == -1 {
                        break;
                    }
                    return Err(BerError::EocInDefinite);
                }
                packet.data.extend(child.encode());
            }
            return Ok(packet);
        }
        if length > MAX_PACKET_LENGTH {
            return Err(BerError::TooLong { length });
        }
        let end = self
            .pos
            .saturating_add(usize::try_from(length).unwrap_or(usize::MAX));
        let content = self
            .bytes
            .get(self.pos..end)
            .ok_or(BerError::UnexpectedEof)?;
        self.pos = end;
        packet.data = content.to_vec();
        if class == 0 {
            check_universal_content(tag, content)?;
        }
        Ok(packet)
    }

    /// go-asn1-ber's `readIdentifier`: (class bits, constructed, tag number).
    fn identifier(&mut self) -> Result<(u8, bool, u64), BerError> {
        let b = self.byte().ok_or(BerError::Eof)?;
        let class = b & 0xc0;
        let constructed = b & 0x20 != 0;
        if b & 0x1f != 0x1f {
            return Ok((class, constructed, u64::from(b & 0x1f)));
        }
        let mut tag: u64 = 0;
        let mut count = 0;
        loop {
            let b = self.byte().ok_or(BerError::UnexpectedEof)?;
            count += 1;
            tag = tag.wrapping_shl(7) | u64::from(b & 0x7f);
            if count == 1 && tag == 0 {
                return Err(BerError::HighTagFirstByte);
            }
            if count > 9 {
                return Err(BerError::HighTagOverflow);
            }
            if b & 0x80 == 0 {
                return Ok((class, constructed, tag));
            }
        }
    }

    /// go-asn1-ber's `readLength`: -1 for indefinite, Go int semantics for long forms.
    fn length(&mut self) -> Result<i64, BerError> {
        let b = self.byte().ok_or(BerError::UnexpectedEof)?;
        match b {
            0xff => Err(BerError::LengthByte),
            0x80 => Ok(-1),
            _ if b & 0x80 == 0 => Ok(i64::from(b)),
            _ => {
                let count = b & 0x7f;
                if count > 8 {
                    return Err(BerError::LongFormOverflow);
                }
                let mut length: i64 = 0;
                for _ in 0..count {
                    let next = self.byte().ok_or(BerError::UnexpectedEof)?;
                    length = length.wrapping_shl(8) | i64::from(next);
                }
                Ok(length)
            }
        }
    }
}

/// The content checks go-asn1-ber applies to universal primitive strings.
fn check_universal_content(tag: u64, content: &[u8]) -> Result<(), BerError> {
    match tag {
        0x0c if std::str::from_utf8(content).is_err() => Err(BerError::InvalidUtf8),
        0x13 => for_each_go_rune(content, |position, c| {
            let ok = c.is_ascii_alphanumeric() || "'()+,-.=/:? ".contains(c);
            if ok {
                Ok(())
            } else {
                Err(BerError::NotPrintable { position })
            }
        }),
        0x16 => for_each_go_rune(content, |position, c| {
            if u32::from(c) >= 0x7f {
                Err(BerError::NotIa5 {
                    position,
                    character: c,
                })
            } else {
                Ok(())
            }
        }),
        0x09 if !content.is_empty() => Err(BerError::Unsupported { tag }),
        0x18 => Err(BerError::Unsupported { tag }),
        _ => Ok(()),
    }
}

/// Go's `for i, c := range string(bytes)`: U+FFFD (width 1) for each invalid byte.
fn for_each_go_rune(
    bytes: &[u8],
    mut f: impl FnMut(usize, char) -> Result<(), BerError>,
) -> Result<(), BerError> {
    let mut pos = 0;
    while pos < bytes.len() {
        let rest = bytes.get(pos..).unwrap_or_default();
        let (c, width) =
            crate::gofmt::decode_rune(rest).unwrap_or((char::REPLACEMENT_CHARACTER, 1));
        f(pos, c)?;
        pos += width;
    }
    Ok(())
}
