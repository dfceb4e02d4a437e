//! The one HTTP client of the revocation checker: `http://` only (as
//! notation-core-go), URL prefix rewrites for mirrors, redirects only to
//! `http://` URLs and at most [`MAX_REDIRECTS`], a per-request timeout from
//! connect to the last body byte, and bodies read up to a limit.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::Url;

use super::error::{HttpError, RevocationSetupError};
use super::settings::{MAX_REDIRECTS, MAX_TIMEOUT, RevocationSettings, rewrite};

#[derive(Debug)]
pub(crate) struct Http {
    client: reqwest::Client,
    timeout: Duration,
    rewrites: BTreeMap<String, String>,
}

impl Http {
    pub(crate) fn new(settings: &RevocationSettings) -> Result<Http, RevocationSetupError> {
        if settings.timeout.is_zero() || settings.timeout > MAX_TIMEOUT {
            return Err(RevocationSetupError::Timeout {
                timeout: settings.timeout,
                max: MAX_TIMEOUT,
            });
        }
        for (from, to) in &settings.url_rewrite {
            if !is_http(from) || !is_http(to) {
                return Err(RevocationSetupError::Rewrite {
                    from: from.clone(),
                    to: to.clone(),
                });
            }
        }
        let redirects = reqwest::redirect::Policy::custom(|attempt| {
            if attempt.url().scheme() != "http" || attempt.previous().len() > MAX_REDIRECTS {
                attempt.stop()
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .redirect(redirects)
            .connect_timeout(settings.timeout)
            .timeout(settings.timeout)
            .user_agent(concat!("pullgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|source| RevocationSetupError::Client { source })?;
        Ok(Http {
            client,
            timeout: settings.timeout,
            rewrites: settings.url_rewrite.clone(),
        })
    }

    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The URL actually requested for `url` (which must be `http://`, as
    /// must its rewrite).
    pub(crate) fn target(&self, url: &str) -> Result<Url, HttpError> {
        let original = Url::parse(url).map_err(|_| HttpError::BadUrl {
            url: url.to_string(),
        })?;
        if original.scheme() != "http" {
            return Err(HttpError::Scheme {
                url: url.to_string(),
                scheme: original.scheme().to_string(),
            });
        }
        let rewritten = rewrite(&self.rewrites, url);
        Url::parse(&rewritten).map_err(|_| HttpError::BadUrl { url: rewritten })
    }

    /// GET `url` (after rewriting), at most `limit` bytes of body.
    pub(crate) async fn get(&self, url: &str, limit: u64) -> Result<Bytes, HttpError> {
        let target = self.target(url)?;
        let request = self.client.get(target.clone());
        self.exchange(request, target.as_str(), limit).await
    }

    /// POST `body` to `url` (after rewriting), at most `limit` bytes back.
    pub(crate) async fn post(
        &self,
        url: &str,
        content_type: &'static str,
        body: Vec<u8>,
        limit: u64,
    ) -> Result<Bytes, HttpError> {
        let target = self.target(url)?;
        let request = self
            .client
            .post(target.clone())
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body);
        self.exchange(request, target.as_str(), limit).await
    }

    async fn exchange(
        &self,
        request: reqwest::RequestBuilder,
        url: &str,
        limit: u64,
    ) -> Result<Bytes, HttpError> {
        let mut resp = request.send().await.map_err(|e| self.error(url, e))?;
        if resp.status() != reqwest::StatusCode::OK {
            return Err(HttpError::Status {
                url: url.to_string(),
                status: resp.status().as_u16(),
            });
        }
        let too_large = || HttpError::TooLarge {
            url: url.to_string(),
            limit,
        };
        if resp.content_length().is_some_and(|l| l > limit) {
            return Err(too_large());
        }
        let mut buf = BytesMut::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.error(url, e))? {
            if (buf.len() + chunk.len()) as u64 > limit {
                return Err(too_large());
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf.freeze())
    }

    fn error(&self, url: &str, e: reqwest::Error) -> HttpError {
        if e.is_timeout() {
            HttpError::Timeout {
                url: url.to_string(),
                after: self.timeout,
            }
        } else {
            HttpError::Transport {
                url: url.to_string(),
                source: e.without_url(),
            }
        }
    }
}

fn is_http(url: &str) -> bool {
    url.get(..7)
        .is_some_and(|s| s.eq_ignore_ascii_case("http://"))
}
