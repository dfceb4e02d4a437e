//! notation-core-go `revocation/internal/ocsp`: the certificate's OCSP
//! servers are asked in order and the first definitive answer (good,
//! revoked, or an "unknown" certificate status) decides; failures are kept
//! for the log and leave the status unknown.

use base64::Engine as _;
use reqwest::Url;

use super::asn1::generalized_time_tlv;
use super::crl::INVALIDITY_DATE;
use super::error::{HttpError, OcspError};
use super::http::Http;
use super::ocsp_der::{CertStatus, create_request, parse_response_for_cert};
use super::settings::{MAX_OCSP_RESPONSE_BYTES, MAX_OCSP_URLS};
use super::{RevocationContext, Status};
use crate::x509::Cert;

/// notation-core-go builds a GET URL when the encoded request is shorter
/// than this, else POSTs.
const MAX_GET_LENGTH: usize = 255;

/// What the OCSP servers said, and each failure (URL, error) on the way.
#[derive(Debug)]
pub(crate) struct OcspOutcome {
    pub status: Status,
    /// The server whose answer decided, if one did.
    pub answered_by: Option<String>,
    pub failures: Vec<(String, OcspError)>,
}

/// notation-core-go `ocsp.CertCheckStatus` over at most [`MAX_OCSP_URLS`]
/// servers.
pub(crate) async fn check(
    http: &Http,
    cert: &Cert,
    issuer: &Cert,
    ctx: &RevocationContext,
) -> OcspOutcome {
    let mut failures = Vec::new();
    for url in cert.ocsp_urls().iter().take(MAX_OCSP_URLS) {
        let status = match check_server(http, cert, issuer, url, ctx).await {
            Ok(()) => Status::Ok,
            Err(OcspError::Revoked) => Status::Revoked,
            Err(e @ OcspError::UnknownStatus) => {
                // A definitive answer: only this server's result counts.
                return OcspOutcome {
                    status: Status::Unknown,
                    answered_by: Some(url.clone()),
                    failures: vec![(url.clone(), e)],
                };
            }
            Err(e) => {
                failures.push((url.clone(), e));
                continue;
            }
        };
        return OcspOutcome {
            status,
            answered_by: Some(url.clone()),
            failures: Vec::new(),
        };
    }
    OcspOutcome {
        status: Status::Unknown,
        answered_by: None,
        failures,
    }
}

/// notation-core-go `checkStatusFromServer`.
async fn check_server(
    http: &Http,
    cert: &Cert,
    issuer: &Cert,
    server: &str,
    ctx: &RevocationContext,
) -> Result<(), OcspError> {
    http.target(server).map_err(OcspError::Http)?;
    let request = create_request(cert, issuer).map_err(OcspError::Request)?;
    let body = exchange(http, server, request).await?;
    let response = parse_response_for_cert(&body, cert, issuer).map_err(OcspError::Parse)?;
    // Go's `time.Now().After(resp.NextUpdate)`: a response without
    // nextUpdate has the zero time there, so it is expired too.
    if response.next_update.is_none_or(|next| ctx.now > next) {
        return Err(OcspError::Expired);
    }
    match response.status {
        CertStatus::Good => Ok(()),
        CertStatus::Revoked { .. } if signed_before_invalidity(&response.extensions, ctx) => Ok(()),
        CertStatus::Revoked { .. } => Err(OcspError::Revoked),
        CertStatus::Unknown => Err(OcspError::UnknownStatus),
    }
}

/// A revocation whose invalidity date is after the authentic signing time
/// does not affect the signature (signing-authority scheme only).
fn signed_before_invalidity(
    extensions: &[crate::x509::RawExtension],
    ctx: &RevocationContext,
) -> bool {
    let invalidity = extensions
        .iter()
        .find(|e| e.oid == INVALIDITY_DATE)
        .and_then(|e| generalized_time_tlv(&e.value));
    matches!((ctx.authentic_signing_time, invalidity), (Some(s), Some(i)) if s < i)
}

/// GET `<server>/<url-escaped base64 request>` when short enough, else POST
/// (notation-core-go `executeOCSPCheck`).
async fn exchange(http: &Http, server: &str, request: Vec<u8>) -> Result<bytes::Bytes, OcspError> {
    let to_error = |e: HttpError| match e {
        HttpError::Timeout { after, .. } => OcspError::Timeout { after },
        other => OcspError::Http(other),
    };
    match get_url(server, &request) {
        Some(url) => http
            .get(&url, MAX_OCSP_RESPONSE_BYTES)
            .await
            .map_err(to_error),
        None => http
            .post(
                server,
                "application/ocsp-request",
                request,
                MAX_OCSP_RESPONSE_BYTES,
            )
            .await
            .map_err(to_error),
    }
}

/// The GET URL for `request`, or `None` when it must be POSTed: Go's
/// `url.JoinPath(server, url.QueryEscape(base64(request)))`.
pub(crate) fn get_url(server: &str, request: &[u8]) -> Option<String> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(request);
    if encoded.len() >= MAX_GET_LENGTH {
        return None;
    }
    let escaped = query_escape(&encoded);
    if escaped.len() >= MAX_GET_LENGTH {
        return None;
    }
    let mut url = Url::parse(server).ok()?;
    let path = format!("{}/{escaped}", url.path().trim_end_matches('/'));
    url.set_path(&path);
    Some(url.to_string())
}

/// Go's `url.QueryEscape`.
fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_requests_are_gets_under_the_servers_path() {
        let url = get_url("http://localhost:10087", &[0xfb, 0xff, 0x00]).unwrap();
        assert_eq!(url, "http://localhost:10087/%2B%2F8A");
        let url = get_url("http://h/ocsp/", &[1, 2, 3]).unwrap();
        assert_eq!(url, "http://h/ocsp/AQID");
    }

    #[test]
    fn long_requests_are_posted() {
        // 189 bytes give 252 base64 characters: still a GET when nothing
        // needs escaping, a POST when the escapes push it past 254.
        assert!(get_url("http://h", &[0u8; 189]).is_some());
        assert!(get_url("http://h", &[0u8; 190]).is_none());
        assert!(get_url("http://h", &[0xfb; 120]).is_none());
    }
}
