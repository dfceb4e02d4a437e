//! The gRPC length prefix: 1 byte compressed flag, 4 bytes big-endian length, then the message.
//!
//! [`MessageLimiter`] watches a passed-through stream chunk by chunk and looks only at the
//! prefixes (it skips over message bytes without touching them), so the size limit costs a few
//! comparisons per chunk and no copy. [`encode`] and [`decode_single`] build and read the one
//! message of a unary call.

use bytes::{BufMut, Bytes, BytesMut};

/// Length of the prefix in front of every message.
pub const PREFIX_LEN: usize = 5;

/// A message larger than the limit, as grpc-go reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("grpc: received message larger than max ({size} vs. {limit})")]
pub struct TooLarge {
    /// The length the prefix announced.
    pub size: u64,
    /// The limit in force.
    pub limit: u64,
}

/// A unary body that is not exactly one well-formed message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The message is over the limit.
    #[error(transparent)]
    TooLarge(#[from] TooLarge),
    /// The compressed flag is set; the proxy does not decompress.
    #[error("grpc: compressed messages are not supported here")]
    Compressed,
    /// The body ends inside a prefix or a message.
    #[error("grpc: body ends inside a message ({have} of {need} bytes)")]
    Truncated { have: usize, need: u64 },
    /// More bytes follow the one message of a unary call.
    #[error("grpc: {extra} bytes follow the single message of a unary call")]
    TrailingData { extra: usize },
    /// The compressed-flag byte is neither 0 nor 1.
    #[error("grpc: invalid compressed flag {flag}")]
    BadFlag { flag: u8 },
}

impl FrameError {
    /// A short, stable label for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            FrameError::TooLarge(_) => "message_too_large",
            FrameError::Compressed => "compressed_message",
            FrameError::Truncated { .. } => "truncated_message",
            FrameError::TrailingData { .. } => "trailing_data",
            FrameError::BadFlag { .. } => "bad_compressed_flag",
        }
    }
}

/// Prefixes one uncompressed message.
pub fn encode(message: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(PREFIX_LEN + message.len());
    out.put_u8(0);
    // Messages over u32::MAX cannot be framed; they are far past any limit the proxy accepts.
    out.put_u32(u32::try_from(message.len()).unwrap_or(u32::MAX));
    out.put_slice(message);
    out.freeze()
}

/// Reads the body of a unary call: no message at all, or exactly one uncompressed message of at
/// most `limit` bytes. The message shares `body`'s memory.
pub fn decode_single(body: &Bytes, limit: usize) -> Result<Option<Bytes>, FrameError> {
    if body.is_empty() {
        return Ok(None);
    }
    let Some(prefix) = body.get(..PREFIX_LEN) else {
        return Err(FrameError::Truncated {
            have: body.len(),
            need: PREFIX_LEN as u64,
        });
    };
    let (flag, size) = read_prefix(prefix);
    check_prefix(flag, size, limit)?;
    let end = PREFIX_LEN as u64 + size;
    match (body.len() as u64).cmp(&end) {
        std::cmp::Ordering::Less => Err(FrameError::Truncated {
            have: body.len(),
            need: end,
        }),
        std::cmp::Ordering::Greater => Err(FrameError::TrailingData {
            extra: body.len() - end as usize,
        }),
        std::cmp::Ordering::Equal => Ok(Some(body.slice(PREFIX_LEN..))),
    }
}

/// Checks a prefix read from a unary body: flag 0 and size within `limit`.
pub fn check_prefix(flag: u8, size: u64, limit: usize) -> Result<(), FrameError> {
    match flag {
        0 => {}
        1 => return Err(FrameError::Compressed),
        flag => return Err(FrameError::BadFlag { flag }),
    }
    if size > limit as u64 {
        return Err(TooLarge {
            size,
            limit: limit as u64,
        }
        .into());
    }
    Ok(())
}

/// The compressed flag and the length of a 5-byte prefix.
pub fn read_prefix(prefix: &[u8]) -> (u8, u64) {
    let mut bytes = [0u8; PREFIX_LEN];
    for (slot, byte) in bytes.iter_mut().zip(prefix) {
        *slot = *byte;
    }
    (
        bytes[0],
        u64::from(u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]])),
    )
}

/// Follows the message boundaries of a stream of gRPC messages split arbitrarily into chunks, and
/// refuses a message whose prefix announces more than the limit.
#[derive(Debug, Clone)]
pub struct MessageLimiter {
    limit: u64,
    /// Prefix bytes collected so far (a prefix may straddle chunks).
    prefix: [u8; PREFIX_LEN],
    prefix_len: usize,
    /// Message bytes still to skip before the next prefix.
    remaining: u64,
}

impl MessageLimiter {
    /// A limiter for messages of at most `limit` bytes.
    pub fn new(limit: usize) -> MessageLimiter {
        MessageLimiter {
            limit: limit as u64,
            prefix: [0; PREFIX_LEN],
            prefix_len: 0,
            remaining: 0,
        }
    }

    /// Accounts for the next chunk of the stream.
    pub fn feed(&mut self, mut chunk: &[u8]) -> Result<(), TooLarge> {
        while !chunk.is_empty() {
            if self.remaining > 0 {
                let skip = usize::try_from(self.remaining)
                    .unwrap_or(usize::MAX)
                    .min(chunk.len());
                self.remaining -= skip as u64;
                chunk = &chunk[skip..];
                continue;
            }
            let take = (PREFIX_LEN - self.prefix_len).min(chunk.len());
            self.prefix[self.prefix_len..self.prefix_len + take].copy_from_slice(&chunk[..take]);
            self.prefix_len += take;
            chunk = &chunk[take..];
            if self.prefix_len == PREFIX_LEN {
                self.prefix_len = 0;
                let (_, size) = read_prefix(&self.prefix);
                if size > self.limit {
                    return Err(TooLarge {
                        size,
                        limit: self.limit,
                    });
                }
                self.remaining = size;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(sizes: &[usize]) -> Vec<u8> {
        sizes
            .iter()
            .flat_map(|&n| encode(&vec![0xab; n]).to_vec())
            .collect()
    }

    #[test]
    fn limiter_follows_boundaries_across_any_split() {
        let data = stream(&[0, 3, 100, 10]);
        for split in 1..data.len() {
            let mut limiter = MessageLimiter::new(100);
            for chunk in data.chunks(split) {
                limiter.feed(chunk).unwrap();
            }
            assert_eq!(
                (limiter.prefix_len, limiter.remaining),
                (0, 0),
                "split {split}"
            );
        }
    }

    #[test]
    fn limiter_refuses_an_oversized_prefix_even_when_split() {
        let data = stream(&[3, 101]);
        for split in 1..12 {
            let mut limiter = MessageLimiter::new(100);
            let result: Result<(), TooLarge> = data.chunks(split).try_for_each(|c| limiter.feed(c));
            assert_eq!(
                result,
                Err(TooLarge {
                    size: 101,
                    limit: 100
                }),
                "split {split}"
            );
        }
    }

    #[test]
    fn single_message_bodies() {
        let limit = 16;
        assert_eq!(decode_single(&Bytes::new(), limit), Ok(None));
        let body = encode(b"hello");
        assert_eq!(
            decode_single(&body, limit),
            Ok(Some(Bytes::from_static(b"hello")))
        );
        let err = |b: &[u8]| {
            decode_single(&Bytes::copy_from_slice(b), limit)
                .unwrap_err()
                .reason()
        };
        assert_eq!(err(&[0, 0, 0]), "truncated_message");
        assert_eq!(err(&[0, 0, 0, 0, 2, 1]), "truncated_message");
        assert_eq!(err(&[0, 0, 0, 0, 1, 1, 9]), "trailing_data");
        assert_eq!(err(&[1, 0, 0, 0, 1, 1]), "compressed_message");
        assert_eq!(err(&[7, 0, 0, 0, 1, 1]), "bad_compressed_flag");
        assert_eq!(err(&[0, 0, 0, 0, 17]), "message_too_large");
        let too_large = decode_single(&encode(&[0; 17]), limit).unwrap_err();
        assert_eq!(
            too_large.to_string(),
            "grpc: received message larger than max (17 vs. 16)"
        );
    }
}
