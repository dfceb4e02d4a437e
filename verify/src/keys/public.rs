//! Public keys in PEM (`-----BEGIN PUBLIC KEY-----`, SubjectPublicKeyInfo),
//! as `key` providers hold them for Cosign.

use der::Decode;
use spki::SubjectPublicKeyInfoOwned;

use crate::x509::PublicKey;

/// Parses every PEM block of `bytes` as a public key; at least one is needed.
pub fn parse_public_keys(bytes: &[u8]) -> Result<Vec<PublicKey>, String> {
    Ok(parse_public_keys_with_der(bytes)?
        .into_iter()
        .map(|(k, _)| k)
        .collect())
}

/// [`parse_public_keys`], each key with its SubjectPublicKeyInfo DER (a
/// Rekor log's ID is the SHA-256 of it).
pub fn parse_public_keys_with_der(bytes: &[u8]) -> Result<Vec<(PublicKey, Vec<u8>)>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not PEM text".to_string())?;
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + "-----BEGIN ".len()..];
        let label_end = after.find("-----").ok_or("malformed PEM block")?;
        let label = &after[..label_end];
        if label != "PUBLIC KEY" {
            return Err(format!("PEM block {label:?} is not a PUBLIC KEY"));
        }
        let marker = "-----END PUBLIC KEY-----";
        let body_start = label_end + 5;
        let end = after
            .get(body_start..)
            .and_then(|b| b.find(marker))
            .map(|e| body_start + e)
            .ok_or("malformed PEM block")?;
        let body: String = after[body_start..end]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let der = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, body)
            .map_err(|_| "malformed PEM block".to_string())?;
        let spki = SubjectPublicKeyInfoOwned::from_der(&der)
            .map_err(|e| format!("not a public key: {e}"))?;
        let key = PublicKey::from_spki(&spki)?;
        if let PublicKey::Other(what) = &key {
            return Err(format!("unsupported public key type {what}"));
        }
        out.push((key, der));
        rest = &after[end + marker.len()..];
    }
    if out.is_empty() {
        return Err("no PEM public key found".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const P256: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE1ZBnX6+sQK3DdzITPXfLpcvSpIR6
pMgnx9dzMW9g0fOWbUzaJnSFIqEbb/NVXrV68tLp2T+P5hHKf5jlj4DR4Q==
-----END PUBLIC KEY-----
";

    #[test]
    fn reads_pem_public_keys() {
        let keys = parse_public_keys(P256.as_bytes()).unwrap();
        assert!(matches!(keys[0], PublicKey::Ec { .. }));
        let two = format!("{P256}{P256}");
        assert_eq!(parse_public_keys(two.as_bytes()).unwrap().len(), 2);
        assert!(parse_public_keys(b"").is_err());
        assert!(
            parse_public_keys(b"-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----")
                .is_err()
        );
        assert!(
            parse_public_keys(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")
                .is_err()
        );
    }
}
