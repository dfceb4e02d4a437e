//! Shared helpers for the tests driven by the notation vectors in `shared/vectors/notation/`,
//! which sits next to the repository (the same layout in CI).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use pullgate_policy::TrustPolicyDocument;
use pullgate_policy::dn::{AttrValue, go_name_string};

/// `shared/vectors/notation`.
pub fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/notation")
}

pub fn read(relative: &str) -> Vec<u8> {
    let path = vectors().join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn json(relative: &str) -> serde_json::Value {
    serde_json::from_slice(&read(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

pub fn strings(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| {
            v.as_str()
                .unwrap_or_else(|| panic!("not a string: {v}"))
                .to_owned()
        })
        .collect()
}

/// The name notation-go's tests give their statement.
pub const STATEMENT: &str = "test-statement-name";

/// A valid statement (as notation-go's tests build it), as a JSON object to modify.
pub fn statement() -> serde_json::Value {
    serde_json::json!({
        "name": STATEMENT,
        "registryScopes": ["registry.acme-rockets.io/software/net-monitor"],
        "signatureVerification": {"level": "strict"},
        "trustStores": ["ca:valid-trust-store", "signingAuthority:valid-trust-store"],
        "trustedIdentities": ["x509.subject:C=US,ST=WA,L=Seattle,O=wabbit-networks.io,OU=Finance,CN=SecureBuilder"]
    })
}

/// A version 1.0 document with these statements.
pub fn document(statements: Vec<serde_json::Value>) -> serde_json::Value {
    serde_json::json!({"version": "1.0", "trustPolicies": statements})
}

pub fn parse(doc: &serde_json::Value) -> Result<TrustPolicyDocument, String> {
    let bytes = serde_json::to_vec(doc).unwrap_or_else(|e| panic!("{e}"));
    TrustPolicyDocument::parse(&bytes).map_err(|e| e.to_string())
}

fn subject(attributes: &[(&str, &str)]) -> Vec<Vec<(String, AttrValue)>> {
    attributes
        .iter()
        .map(|(oid, v)| vec![(oid.to_string(), AttrValue::Str(v.to_string()))])
        .collect()
}

/// Subjects of the certificates used with the vectors, as (OID, value) in certificate order
/// (read with `openssl asn1parse`; this crate does not parse X.509), rendered as Go does.
pub fn go_subject(cert: &str) -> String {
    const C: &str = "2.5.4.6";
    const ST: &str = "2.5.4.8";
    const L: &str = "2.5.4.7";
    const O: &str = "2.5.4.10";
    const OU: &str = "2.5.4.11";
    const CN: &str = "2.5.4.3";
    let rdns = match cert {
        // certs/notation-go-verifier/signing-cert.pem
        "signing-cert.pem" => subject(&[
            (C, "US"),
            (ST, "WA"),
            (L, "Seattle"),
            (O, "SomeOrg"),
            (OU, "SomeOU"),
            (CN, "SomeCN"),
        ]),
        // certs/notation-go-verifier/bad-cert.pem
        "bad-cert.pem" => subject(&[
            (C, "US"),
            (ST, "WA"),
            (L, "Seattle"),
            (CN, "Bad=#CN"),
            (OU, "SomeOU"),
            (O, "SomeOrg"),
        ]),
        // truststores/notation-e2e/localkeys/e2e.crt
        "e2e.crt" => subject(&[
            (C, "US"),
            (ST, "WA"),
            (L, "Seattle"),
            (O, "Notary"),
            (CN, "e2e"),
        ]),
        // truststores/notation-e2e/localkeys/new_e2e.crt
        "new_e2e.crt" => subject(&[
            (C, "AU"),
            (ST, "Some-State"),
            (O, "Internet Widgits Pty Ltd"),
        ]),
        other => panic!("no subject recorded for {other}"),
    };
    go_name_string(&rdns)
}
