//! notation-go's document structs (`OCIDocument`, `OCITrustPolicy`, `SignatureVerification`)
//! filled the way encoding/json fills them; see [`super::json`] for the decoding rules.

use std::collections::BTreeMap;

use super::json::{GoSlice, Malformed, Reader, Result, fold_key};

#[derive(Debug, Default)]
pub(crate) struct RawDocument {
    pub(crate) version: String,
    pub(crate) trust_policies: GoSlice<RawStatement>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct RawStatement {
    pub(crate) name: String,
    pub(crate) signature_verification: RawSignatureVerification,
    pub(crate) trust_stores: GoSlice<String>,
    pub(crate) trusted_identities: GoSlice<String>,
    pub(crate) registry_scopes: GoSlice<String>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct RawSignatureVerification {
    pub(crate) level: String,
    /// `None` is Go's nil map; only its length matters to notation-go.
    pub(crate) override_: Option<BTreeMap<String, String>>,
    pub(crate) verify_timestamp: String,
}

/// `json.NewDecoder(r).Decode(&doc)`: the first value must be an object (or `null`, which
/// leaves the document empty); nothing after it is read.
pub(crate) fn decode(bytes: &[u8]) -> Result<RawDocument> {
    let mut reader = Reader::new(bytes);
    let mut doc = RawDocument::default();
    match reader.peek_value()? {
        b'n' => {
            reader.null()?;
        }
        b'{' => document(&mut reader, &mut doc, 0)?,
        _ => return Err(Malformed),
    }
    Ok(doc)
}

fn document(r: &mut Reader<'_>, doc: &mut RawDocument, depth: usize) -> Result<()> {
    r.object(depth, |r, key, depth| match fold_key(&key).as_str() {
        "VERSION" => r.string_into(&mut doc.version),
        "TRUSTPOLICIES" => r.slice_into(&mut doc.trust_policies, depth, statement),
        _ => r.skip_value(depth),
    })
}

fn statement(r: &mut Reader<'_>, s: &mut RawStatement, depth: usize) -> Result<()> {
    r.object(depth, |r, key, depth| match fold_key(&key).as_str() {
        "NAME" => r.string_into(&mut s.name),
        "SIGNATUREVERIFICATION" => signature_verification(r, &mut s.signature_verification, depth),
        "TRUSTSTORES" => r.slice_into(&mut s.trust_stores, depth, string_element),
        "TRUSTEDIDENTITIES" => r.slice_into(&mut s.trusted_identities, depth, string_element),
        "REGISTRYSCOPES" => r.slice_into(&mut s.registry_scopes, depth, string_element),
        _ => r.skip_value(depth),
    })
}

fn signature_verification(
    r: &mut Reader<'_>,
    sv: &mut RawSignatureVerification,
    depth: usize,
) -> Result<()> {
    r.object(depth, |r, key, depth| match fold_key(&key).as_str() {
        "LEVEL" => r.string_into(&mut sv.level),
        "OVERRIDE" => override_map(r, &mut sv.override_, depth),
        "VERIFYTIMESTAMP" => r.string_into(&mut sv.verify_timestamp),
        _ => r.skip_value(depth),
    })
}

/// A `map[string]string`: `null` makes it nil; an object adds to the existing map, each value
/// decoded into a fresh string (so `null` stores "").
fn override_map(
    r: &mut Reader<'_>,
    map: &mut Option<BTreeMap<String, String>>,
    depth: usize,
) -> Result<()> {
    if r.null()? {
        *map = None;
        return Ok(());
    }
    let entries = map.get_or_insert_with(BTreeMap::new);
    r.object(depth, |r, key, _| {
        let mut value = String::new();
        r.string_into(&mut value)?;
        entries.insert(key, value);
        Ok(())
    })
}

fn string_element(r: &mut Reader<'_>, s: &mut String, _depth: usize) -> Result<()> {
    r.string_into(s)
}
