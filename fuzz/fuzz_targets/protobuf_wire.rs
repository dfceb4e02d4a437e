//! The schema-less protobuf reader and splicer of the CRI proxy: reading never panics, field
//! ranges tile the message, and a splice reads back exactly while every byte around the spliced
//! field stays as it was.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pullgate_cri_proxy::proto::{self, Value};

fuzz_target!(|data: &[u8]| {
    // Layout: [depth][path numbers (1..=8) ...][value length][value ...][message ...]
    let Some((&depth, rest)) = data.split_first() else { return };
    let depth = 1 + usize::from(depth % 4);
    if rest.len() < depth + 1 {
        return;
    }
    let path: Vec<u32> = rest[..depth].iter().map(|b| 1 + u32::from(b % 8)).collect();
    let value_len = usize::from(rest[depth]).min(rest.len() - depth - 1);
    let value = &rest[depth + 1..depth + 1 + value_len];
    let message = &rest[depth + 1 + value_len..];

    // Fields tile the message from the start, in order, until the first error.
    let mut end = 0;
    for field in proto::fields(message) {
        let Ok(field) = field else { break };
        assert_eq!(field.range.start, end);
        assert!(field.range.end > field.range.start && field.range.end <= message.len());
        end = field.range.end;
        if let Value::Len(inner) | Value::Group(inner) = field.value {
            let _ = proto::validate(inner);
        }
    }
    if proto::validate(message).is_ok() {
        assert_eq!(end, message.len());
    }
    let _ = proto::string_at(message, &path);
    let _ = proto::repeated_bytes(message, path[0]);
    let _ = proto::varint_field(message, path[0]);

    let Ok(spliced) = proto::splice(message, &path, value) else { return };
    assert_eq!(proto::bytes_at(&spliced, &path).expect("a splice reads back"), Some(value));
    match proto::find(message, path[0]).expect("splice succeeded, so the level is readable") {
        Some(field) => {
            assert!(spliced.starts_with(&message[..field.range.start]));
            assert!(spliced.ends_with(&message[field.range.end..]));
        }
        None => assert!(spliced.starts_with(message)),
    }
    // Every other top-level field is unchanged, in the same order.
    let others = |m: &[u8]| -> Vec<Vec<u8>> {
        proto::fields(m)
            .map(|f| f.expect("valid after splice"))
            .filter(|f| f.number != path[0])
            .map(|f| m[f.range].to_vec())
            .collect()
    };
    assert_eq!(others(message), others(&spliced));
});
