use super::*;

/// A PullImageRequest as the kubelet sends it: image { image, annotations }, auth, sandbox_config,
/// plus an unknown field 99 at the top and an unknown field 77 inside the ImageSpec.
fn pull_request(image: &str) -> Vec<u8> {
    let mut spec = Vec::new();
    encode_len_field(1, image.as_bytes(), &mut spec);
    let mut annotation = Vec::new();
    encode_len_field(1, b"key", &mut annotation);
    encode_len_field(2, b"value", &mut annotation);
    encode_len_field(2, &annotation, &mut spec);
    encode_varint_field(77, 300, &mut spec);
    let mut auth = Vec::new();
    encode_len_field(1, b"user", &mut auth);
    let mut msg = Vec::new();
    encode_len_field(1, &spec, &mut msg);
    encode_len_field(2, &auth, &mut msg);
    encode_len_field(99, b"future field", &mut msg);
    msg
}

#[test]
fn iterates_every_wire_type() {
    let mut msg = Vec::new();
    encode_varint_field(1, 150, &mut msg);
    encode_key(2, WireType::Fixed64, &mut msg);
    msg.extend_from_slice(&7u64.to_le_bytes());
    encode_len_field(3, b"abc", &mut msg);
    encode_key(4, WireType::Fixed32, &mut msg);
    msg.extend_from_slice(&9u32.to_le_bytes());
    encode_key(5, WireType::StartGroup, &mut msg);
    encode_varint_field(1, 1, &mut msg);
    encode_key(5, WireType::EndGroup, &mut msg);

    let read: Vec<_> = fields(&msg).collect::<Result<_, _>>().unwrap();
    let values: Vec<_> = read.iter().map(|f| (f.number, f.value)).collect();
    assert_eq!(
        values,
        vec![
            (1, Value::Varint(150)),
            (2, Value::Fixed64(7)),
            (3, Value::Len(b"abc")),
            (4, Value::Fixed32(9)),
            (5, Value::Group(&[0x08, 0x01])),
        ]
    );
    assert_eq!(read[0].range, 0..3);
    assert_eq!(read.last().unwrap().range.end, msg.len());
}

#[test]
fn reads_strings_and_submessages_by_path() {
    let msg = pull_request("registry.example/app:v1");
    assert_eq!(
        string_at(&msg, &[1, 1]).unwrap(),
        Some("registry.example/app:v1")
    );
    assert_eq!(string_at(&msg, &[2, 1]).unwrap(), Some("user"));
    assert_eq!(string_at(&msg, &[3, 1]).unwrap(), None);
    assert_eq!(string_field(&msg, 99).unwrap(), Some("future field"));
    let spec = bytes_field(&msg, 1).unwrap().unwrap();
    assert_eq!(varint_field(spec, 77).unwrap(), Some(300));
    assert_eq!(repeated_bytes(spec, 2).unwrap().len(), 1);
}

#[test]
fn malformed_input_is_an_error_not_a_panic() {
    let cases: &[(&[u8], &str)] = &[
        (&[0x0a], "truncated"),                  // key, no length
        (&[0x0a, 0x05, b'a'], "length_overrun"), // length past the end
        (&[0x08], "truncated"),                  // varint missing
        (
            &[
                0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            ],
            "varint_too_long",
        ),
        (&[0x00, 0x00], "bad_field_number"),     // field 0
        (&[0x0e], "bad_wire_type"),              // wire type 6
        (&[0x0c], "unexpected_end_group"),       // end-group at top level
        (&[0x0b, 0x08, 0x01], "truncated"),      // group never closed
        (&[0x0b, 0x14], "unexpected_end_group"), // group 1 closed by end-group 2
        (&[0x09, 1, 2, 3], "truncated"),         // fixed64 short
        (&[0xf8, 0xff, 0xff, 0xff, 0x7f, 0x00], "bad_field_number"), // number >= 2^29
    ];
    for (input, reason) in cases {
        let err = validate(input).unwrap_err();
        assert_eq!(err.reason(), *reason, "{input:?}: {err}");
    }
}

#[test]
fn group_nesting_is_bounded() {
    let mut msg = Vec::new();
    for _ in 0..=MAX_DEPTH {
        encode_key(1, WireType::StartGroup, &mut msg);
    }
    for _ in 0..=MAX_DEPTH {
        encode_key(1, WireType::EndGroup, &mut msg);
    }
    assert_eq!(validate(&msg).unwrap_err().reason(), "too_deep");
    let shallow = &msg[MAX_DEPTH / 2..msg.len() - MAX_DEPTH / 2];
    validate(shallow).unwrap();
}

#[test]
fn duplicates_and_wrong_wire_types_are_refused() {
    let mut msg = Vec::new();
    encode_len_field(1, b"a", &mut msg);
    encode_len_field(1, b"b", &mut msg);
    assert_eq!(
        bytes_field(&msg, 1).unwrap_err().reason(),
        "duplicate_field"
    );
    assert_eq!(
        splice(&msg, &[1], b"c").unwrap_err().reason(),
        "duplicate_field"
    );

    let mut msg = Vec::new();
    encode_varint_field(1, 5, &mut msg);
    assert_eq!(
        bytes_field(&msg, 1).unwrap_err().reason(),
        "wrong_wire_type"
    );
    assert_eq!(
        splice(&msg, &[1, 1], b"c").unwrap_err().reason(),
        "wrong_wire_type"
    );

    let mut msg = Vec::new();
    encode_len_field(1, &[0xff, 0xfe], &mut msg);
    assert_eq!(string_field(&msg, 1).unwrap_err().reason(), "not_utf8");
}

#[test]
fn splice_replaces_one_field_and_keeps_every_other_byte() {
    let original = pull_request("registry.example/app:v1");
    let digest = "registry.example/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let spliced = splice(&original, &[1, 1], digest.as_bytes()).unwrap();

    assert_eq!(string_at(&spliced, &[1, 1]).unwrap(), Some(digest));
    // Everything else reads the same, unknown fields included.
    assert_eq!(string_at(&spliced, &[2, 1]).unwrap(), Some("user"));
    assert_eq!(string_field(&spliced, 99).unwrap(), Some("future field"));
    let spec = bytes_field(&spliced, 1).unwrap().unwrap();
    assert_eq!(varint_field(spec, 77).unwrap(), Some(300));

    // Byte-level: the same as rebuilding the request with the new image.
    assert_eq!(spliced, pull_request(digest));
    // The bytes after the ImageSpec are untouched.
    let old_spec_len = bytes_field(&original, 1).unwrap().unwrap().len();
    let new_spec_len = spec.len();
    assert_eq!(&spliced[2 + new_spec_len..], &original[2 + old_spec_len..]);
}

#[test]
fn splice_keeps_field_position_and_handles_growth_past_one_length_byte() {
    let mut msg = Vec::new();
    encode_varint_field(3, 1, &mut msg);
    encode_len_field(1, b"short", &mut msg);
    encode_varint_field(4, 2, &mut msg);
    let long = vec![b'x'; 300];
    let spliced = splice(&msg, &[1], &long).unwrap();
    let read: Vec<_> = fields(&spliced).map(|f| f.unwrap().number).collect();
    assert_eq!(read, vec![3, 1, 4]);
    assert_eq!(bytes_field(&spliced, 1).unwrap(), Some(&long[..]));
    assert_eq!(&spliced[..2], &msg[..2]);
    assert_eq!(&spliced[spliced.len() - 2..], &msg[msg.len() - 2..]);
}

#[test]
fn splice_appends_missing_fields_and_parents() {
    // proto3 omits an empty string: an ImageSpec without `image`.
    let mut spec = Vec::new();
    encode_len_field(19, b"runc", &mut spec);
    let mut msg = Vec::new();
    encode_len_field(1, &spec, &mut msg);
    let spliced = splice(&msg, &[1, 1], b"img").unwrap();
    assert_eq!(string_at(&spliced, &[1, 1]).unwrap(), Some("img"));
    assert_eq!(string_at(&spliced, &[1, 19]).unwrap(), Some("runc"));

    let spliced = splice(&[], &[1, 1], b"img").unwrap();
    assert_eq!(spliced, vec![0x0a, 0x05, 0x0a, 0x03, b'i', b'm', b'g']);
}

#[test]
fn bad_paths_are_refused() {
    assert_eq!(splice(b"", &[], b"x").unwrap_err().reason(), "bad_path");
    assert_eq!(splice(b"", &[0], b"x").unwrap_err().reason(), "bad_path");
    assert_eq!(
        splice(b"", &[MAX_FIELD_NUMBER + 1], b"x")
            .unwrap_err()
            .reason(),
        "bad_path"
    );
    assert_eq!(
        bytes_at(b"", &[1; MAX_DEPTH + 1]).unwrap_err().reason(),
        "bad_path"
    );
    splice(b"", &[MAX_FIELD_NUMBER; MAX_DEPTH], b"x").unwrap();
}

#[test]
fn varint_encoding_round_trips_at_the_edges() {
    for value in [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
        let mut msg = Vec::new();
        encode_varint_field(MAX_FIELD_NUMBER, value, &mut msg);
        assert_eq!(varint_field(&msg, MAX_FIELD_NUMBER).unwrap(), Some(value));
    }
    let mut out = Vec::new();
    encode_varint(u64::MAX, &mut out);
    assert_eq!(out.len(), 10);
}
