//! notation-core-go's CRL download (`HTTPFetcher.fetch`): the base CRL from
//! a distribution point, then its delta CRL from the base CRL's FreshestCRL
//! extension (URLs tried in order until one answers). A FreshestCRL in the
//! certificate alone is not followed (see `crl.CertCheckStatus`).

use std::sync::Arc;

use der::asn1::AnyRef;
use der::{Decode, Reader, SliceReader, Tag, TagNumber, Tagged};

use super::crl::{Crl, FRESHEST_CRL};
use super::crl_check::Bundle;
use super::error::{DistributionPointError, FetchError};
use super::http::Http;
use super::settings::{MAX_CRL_BYTES, MAX_DELTA_URLS};

/// Downloads the CRL at `url` and the delta CRL its FreshestCRL names.
pub(crate) async fn fetch_bundle(http: &Http, url: &str) -> Result<Bundle, FetchError> {
    let base = fetch_crl(http, url).await?;
    let delta = fetch_delta(http, &base).await?;
    Ok(Bundle {
        base: Arc::new(base),
        delta,
    })
}

async fn fetch_crl(http: &Http, url: &str) -> Result<Crl, FetchError> {
    let body = http
        .get(url, MAX_CRL_BYTES)
        .await
        .map_err(FetchError::Http)?;
    Crl::from_der(&body).map_err(FetchError::Parse)
}

/// notation-core-go `fetchDeltaCRL`: no FreshestCRL, or one without URLs,
/// means no delta; otherwise the first URL that gives a CRL wins and, when
/// none does, the last error is the answer.
async fn fetch_delta(http: &Http, base: &Crl) -> Result<Option<Arc<Crl>>, FetchError> {
    let urls = delta_urls(base)?;
    let mut last = None;
    for url in urls.iter().take(MAX_DELTA_URLS) {
        match fetch_crl(http, url).await {
            Ok(crl) => return Ok(Some(Arc::new(crl))),
            Err(e) => last = Some(e),
        }
    }
    last.map_or(Ok(None), Err)
}

/// The delta-CRL URLs of a base CRL (its FreshestCRL extension).
pub(crate) fn delta_urls(base: &Crl) -> Result<Vec<String>, FetchError> {
    match base.extension(FRESHEST_CRL) {
        None => Ok(Vec::new()),
        Some(ext) => parse_distribution_points(&ext.value).map_err(FetchError::Freshest),
    }
}

const FULL_NAME: Tag = Tag::ContextSpecific {
    constructed: true,
    number: TagNumber(0),
};
const URI: Tag = Tag::ContextSpecific {
    constructed: false,
    number: TagNumber(6),
};

/// notation-core-go `parseCRLDistributionPoint` (borrowed from Go's
/// crypto/x509): the URIs of every distribution point's fullName; a name
/// that is not a URI ends that point's list; a relative name is an error.
pub(crate) fn parse_distribution_points(
    value: &[u8],
) -> Result<Vec<String>, DistributionPointError> {
    use DistributionPointError::{Point, Points};
    let outer = read(&mut reader(value).ok_or(Points)?, Tag::Sequence).ok_or(Points)?;
    let mut points = reader(outer.value()).ok_or(Point)?;
    let mut urls = Vec::new();
    while !points.is_finished() {
        let point = read(&mut points, Tag::Sequence).ok_or(Point)?;
        let mut fields = reader(point.value()).ok_or(Point)?;
        if fields.is_finished() || Tag::peek(&fields).ok() != Some(FULL_NAME) {
            continue;
        }
        let name = read(&mut fields, FULL_NAME).ok_or(Point)?;
        let mut name = reader(name.value()).ok_or(Point)?;
        let full = read(&mut name, FULL_NAME).ok_or(Point)?;
        let mut names = reader(full.value()).ok_or(Point)?;
        while !names.is_finished() {
            if Tag::peek(&names).ok() != Some(URI) {
                break;
            }
            let uri = read(&mut names, URI).ok_or(Point)?;
            urls.push(String::from_utf8_lossy(uri.value()).into_owned());
        }
    }
    Ok(urls)
}

fn reader(bytes: &[u8]) -> Option<SliceReader<'_>> {
    SliceReader::new(bytes).ok()
}

fn read<'a>(reader: &mut SliceReader<'a>, tag: Tag) -> Option<AnyRef<'a>> {
    let any = AnyRef::decode(reader).ok()?;
    (any.tag() == tag).then_some(any)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector(name: &str) -> Vec<u8> {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/vectors/notation/revocation/notation-core-go-crl")
            .join(name);
        std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    /// The FreshestCRL value, read with x509-cert (some of these
    /// certificates carry CRL distribution points that pullgate's Go-like
    /// parser rejects).
    fn freshest(name: &str) -> Vec<u8> {
        let pem = String::from_utf8(vector(name)).unwrap();
        let der = pullgate_testsupport::first_pem_cert(&pem);
        let cert = x509_cert::Certificate::from_der(&der).unwrap();
        let exts = cert.tbs_certificate().extensions().unwrap();
        let ext = exts.iter().find(|e| e.extn_id == FRESHEST_CRL).unwrap();
        ext.extn_value.as_bytes().to_vec()
    }

    // notation-core-go revocation/crl/fetcher_test.go TestParseFreshestCRL.
    #[test]
    fn freshest_crl_extensions_of_the_vectors() {
        let one = parse_distribution_points(&freshest("certificateWithDeltaCRL.cer")).unwrap();
        assert_eq!(one.len(), 1);
        assert!(one[0].starts_with("http://localhost:80"), "{one:?}");
        let two = parse_distribution_points(&freshest("certificateWith2DeltaCRL.cer"));
        assert_eq!(two.map(|u| u.len()), Ok(2));
        assert_eq!(
            parse_distribution_points(&[]),
            Err(DistributionPointError::Points)
        );
        for zero in [
            "certificateWithZeroDeltaCRLURL.cer",
            "certificateWithNonURIDeltaCRL.cer",
            "certificateWithIncompleteFreshestCRL2.cer",
        ] {
            assert_eq!(
                parse_distribution_points(&freshest(zero)),
                Ok(vec![]),
                "{zero}"
            );
        }
        let err = parse_distribution_points(&freshest("certificateWithIncompleteFreshestCRL.cer"));
        assert_eq!(
            err.map_err(|e| e.to_string()),
            Err("x509: invalid CRL distribution point".to_string())
        );
    }

    #[test]
    fn a_base_crl_with_two_freshest_pointers() {
        let base = Crl::from_der(&vector("crlWithMultipleFreshestCRLs.crl")).unwrap();
        assert_eq!(delta_urls(&base).unwrap().len(), 2);
        let delta = Crl::from_der(&vector("delta.crl")).unwrap();
        assert!(delta.is_delta());
        assert!(delta_urls(&delta).unwrap().is_empty());
    }
}
