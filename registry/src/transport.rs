//! One HTTP exchange with a registry, made safe for untrusted peers: bounded
//! bodies, bounded waits, bounded retries (honouring `Retry-After` up to a
//! cap), authentication from challenges, and redirects followed by hand so
//! credentials never leave the registry's origin and loops are caught.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use reqwest::header::{
    ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION, RETRY_AFTER, WWW_AUTHENTICATE,
};
use reqwest::{Method, StatusCode};
use url::Url;

use crate::auth::{AuthCache, Challenge, TokenResponse, basic_header, parse_challenges};
use crate::config::{ClientConfig, Credentials};
use crate::error::RegistryError;
use crate::reference::Repository;

/// One request to a registry's API.
pub(crate) struct Request<'a> {
    pub method: Method,
    pub repo: &'a Repository,
    pub url: Url,
    pub accept: &'a [&'a str],
    pub body: Option<(Bytes, &'static str)>,
    /// Ask for `pull,push` rather than `pull`.
    pub push: bool,
}

impl Request<'_> {
    fn scope(&self) -> String {
        let actions = if self.push { "pull,push" } else { "pull" };
        format!("repository:{}:{actions}", self.repo.name())
    }
}

pub(crate) struct Transport {
    pub(crate) config: ClientConfig,
    default_client: reqwest::Client,
    host_clients: HashMap<String, reqwest::Client>,
    pub(crate) auth: AuthCache,
}

impl Transport {
    pub(crate) fn new(config: ClientConfig) -> Result<Transport, RegistryError> {
        let default_client = build_client(&config, "(default)", None)?;
        let mut host_clients = HashMap::new();
        for (host, settings) in &config.hosts {
            if let Some(pem) = &settings.ca_pem {
                host_clients.insert(host.clone(), build_client(&config, host, Some(pem))?);
            }
        }
        Ok(Transport {
            config,
            default_client,
            host_clients,
            auth: AuthCache::default(),
        })
    }

    fn client_for(&self, host: &str) -> &reqwest::Client {
        self.host_clients.get(host).unwrap_or(&self.default_client)
    }

    /// The base URL of a repository's registry API.
    pub(crate) fn api_url(&self, repo: &Repository, path: &str) -> Result<Url, RegistryError> {
        let scheme = if self.config.is_insecure(repo.registry()) {
            "http"
        } else {
            "https"
        };
        let text = format!("{scheme}://{}{path}", repo.api_host());
        Url::parse(&text).map_err(|_| RegistryError::Status {
            url: text,
            status: 0,
            code: Some("unusable URL".to_string()),
        })
    }

    /// Sends `req`, authenticating and retrying as needed, and returns the
    /// final response whatever its status (except those handled here:
    /// 401/403, 429 and 502–504).
    pub(crate) async fn send(
        &self,
        req: &Request<'_>,
        creds: Option<&Credentials>,
    ) -> Result<reqwest::Response, RegistryError> {
        let registry = req.repo.registry();
        let scope = req.scope();
        let retry = &self.config.retry;
        let mut authenticated = false;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let auth = self.auth.header(registry, &scope, creds);
            let resp = match self.exchange(req, auth.as_deref()).await {
                Ok(r) => r,
                Err(e) if is_retryable(&e) && attempt < retry.max_attempts => {
                    tracing::debug!(url = %req.url, error = %e, attempt, "retrying");
                    tokio::time::sleep(self.backoff(attempt)).await;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let status = resp.status();
            let from_registry = same_origin(resp.url(), &req.url);
            match status {
                StatusCode::UNAUTHORIZED if !authenticated && from_registry => {
                    authenticated = true;
                    attempt -= 1;
                    if auth.is_some() {
                        self.auth.forget(registry, &scope, creds);
                    }
                    self.authenticate(&resp, req, &scope, creds).await?;
                }
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                    let code = error_code(resp, &self.config).await;
                    return Err(RegistryError::Unauthorized {
                        registry: registry.to_string(),
                        detail: format!(
                            "HTTP {} from {}{}",
                            status.as_u16(),
                            req.url,
                            code.map(|c| format!(" ({c})")).unwrap_or_default()
                        ),
                    });
                }
                StatusCode::TOO_MANY_REQUESTS => {
                    let wait = retry_after(&resp);
                    if let Some(w) = wait.filter(|w| *w > retry.max_retry_after) {
                        return Err(RegistryError::RateLimited {
                            url: req.url.to_string(),
                            retry_after: Some(w),
                            cap: retry.max_retry_after,
                            attempts: attempt,
                        });
                    }
                    if attempt >= retry.max_attempts {
                        return Err(RegistryError::RateLimited {
                            url: req.url.to_string(),
                            retry_after: None,
                            cap: retry.max_retry_after,
                            attempts: attempt,
                        });
                    }
                    let wait = wait.unwrap_or_else(|| self.backoff(attempt));
                    tracing::debug!(url = %req.url, ?wait, attempt, "rate limited, waiting");
                    tokio::time::sleep(wait).await;
                }
                StatusCode::BAD_GATEWAY
                | StatusCode::SERVICE_UNAVAILABLE
                | StatusCode::GATEWAY_TIMEOUT => {
                    if attempt >= retry.max_attempts {
                        return Err(RegistryError::Unavailable {
                            url: req.url.to_string(),
                            status: status.as_u16(),
                            attempts: attempt,
                        });
                    }
                    let wait = retry_after(&resp)
                        .filter(|w| *w <= retry.max_retry_after)
                        .unwrap_or_else(|| self.backoff(attempt));
                    tokio::time::sleep(wait).await;
                }
                _ => return Ok(resp),
            }
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let r = &self.config.retry;
        let factor = 1u32 << attempt.saturating_sub(1).min(16);
        r.initial_backoff.saturating_mul(factor).min(r.max_backoff)
    }

    /// One exchange, following redirects of GET and HEAD by hand: at most
    /// `limits.redirects` hops, no URL twice, never from HTTPS to plain HTTP
    /// unless the target is configured insecure, and the `Authorization`
    /// header only on the registry's own origin.
    async fn exchange(
        &self,
        req: &Request<'_>,
        auth: Option<&str>,
    ) -> Result<reqwest::Response, RegistryError> {
        let follow = req.method == Method::GET || req.method == Method::HEAD;
        let mut url = req.url.clone();
        let mut seen = HashSet::new();
        seen.insert(url.clone());
        for _ in 0..=self.config.limits.redirects {
            let host = host_port(&url);
            let client = self.client_for(&host);
            let mut builder = client.request(req.method.clone(), url.clone());
            if !req.accept.is_empty() {
                builder = builder.header(ACCEPT, req.accept.join(", "));
            }
            if let (Some(a), true) = (auth, same_origin(&url, &req.url)) {
                builder = builder.header(AUTHORIZATION, a);
            }
            if let Some((body, content_type)) = &req.body {
                builder = builder
                    .header(CONTENT_TYPE, *content_type)
                    .body(body.clone());
            }
            let resp = builder.send().await.map_err(|e| self.map_err(&url, e))?;
            if !(follow && resp.status().is_redirection()) {
                return Ok(resp);
            }
            let Some(location) = resp.headers().get(LOCATION).and_then(|l| l.to_str().ok()) else {
                return Ok(resp);
            };
            let next = url.join(location).map_err(|_| RegistryError::BadRedirect {
                from: url.to_string(),
                to: location.to_string(),
                why: "unparseable Location",
            })?;
            self.check_redirect(&url, &next)?;
            if !seen.insert(next.clone()) {
                return Err(RegistryError::RedirectLoop {
                    url: next.to_string(),
                });
            }
            tracing::debug!(from = %url, to = %next, "following redirect");
            url = next;
        }
        Err(RegistryError::TooManyRedirects {
            url: req.url.to_string(),
            max: self.config.limits.redirects,
        })
    }

    fn check_redirect(&self, from: &Url, to: &Url) -> Result<(), RegistryError> {
        let bad = |why| RegistryError::BadRedirect {
            from: from.to_string(),
            to: to.to_string(),
            why,
        };
        match to.scheme() {
            "https" => Ok(()),
            "http" if self.config.is_insecure(&host_port(to)) => Ok(()),
            "http" => Err(bad("plain HTTP to a host not configured insecure")),
            _ => Err(bad("not an HTTP URL")),
        }
    }

    async fn authenticate(
        &self,
        resp: &reqwest::Response,
        req: &Request<'_>,
        scope: &str,
        creds: Option<&Credentials>,
    ) -> Result<(), RegistryError> {
        let registry = req.repo.registry();
        let unauthorized = |detail: &str| RegistryError::Unauthorized {
            registry: registry.to_string(),
            detail: detail.to_string(),
        };
        let challenges = resp
            .headers()
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok());
        match (parse_challenges(challenges), creds) {
            (None, _) => Err(unauthorized(
                "HTTP 401 without a usable WWW-Authenticate challenge",
            )),
            (Some(Challenge::Basic), Some(Credentials::Basic { .. })) => {
                self.auth.remember_basic(registry);
                Ok(())
            }
            (Some(Challenge::Basic), _) => Err(unauthorized(
                "the registry asks for a username and password and none are configured",
            )),
            (Some(Challenge::Bearer { .. }), Some(Credentials::RegistryToken(_))) => {
                Err(unauthorized("the registry refused the registry token"))
            }
            (
                Some(Challenge::Bearer {
                    realm,
                    service,
                    scope: asked,
                }),
                creds,
            ) => {
                let (token, lifetime) = self
                    .fetch_token(req.repo, &realm, service.as_deref(), scope, asked, creds)
                    .await?;
                self.auth.store(registry, scope, creds, token, lifetime);
                Ok(())
            }
        }
    }

    /// The token exchange of the Docker token specification (GET with Basic
    /// credentials) or OAuth2 (POST with a refresh token), bounded by
    /// `timeouts.token` and `limits.token_bytes`, never redirected.
    async fn fetch_token(
        &self,
        repo: &Repository,
        realm: &str,
        service: Option<&str>,
        scope: &str,
        asked: Option<String>,
        creds: Option<&Credentials>,
    ) -> Result<(crate::config::Secret, Duration), RegistryError> {
        let fail = |detail: String| RegistryError::TokenEndpoint {
            realm: realm.to_string(),
            detail,
        };
        let mut url = Url::parse(realm).map_err(|_| fail("realm is not a URL".to_string()))?;
        let realm_host = host_port(&url);
        match url.scheme() {
            "https" => {}
            "http"
                if self.config.is_insecure(&realm_host)
                    || (realm_host == repo.registry()
                        && self.config.is_insecure(repo.registry())) => {}
            _ => {
                return Err(fail(
                    "realm must be HTTPS (or a host configured insecure)".into(),
                ));
            }
        }
        let mut scopes = vec![scope.to_string()];
        scopes.extend(asked.filter(|a| a != scope));
        let client = self.client_for(&realm_host);
        let builder = match creds {
            Some(Credentials::IdentityToken(refresh)) => {
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                form.append_pair("grant_type", "refresh_token");
                form.append_pair("client_id", "pullgate");
                form.append_pair("refresh_token", refresh.expose());
                if let Some(s) = service {
                    form.append_pair("service", s);
                }
                for s in &scopes {
                    form.append_pair("scope", s);
                }
                client
                    .post(url.clone())
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(form.finish())
            }
            other => {
                {
                    let mut q = url.query_pairs_mut();
                    if let Some(s) = service {
                        q.append_pair("service", s);
                    }
                    for s in &scopes {
                        q.append_pair("scope", s);
                    }
                }
                let b = client.get(url.clone());
                match other {
                    Some(Credentials::Basic { username, password }) => {
                        b.header(AUTHORIZATION, basic_header(username, password))
                    }
                    _ => b,
                }
            }
        };
        let resp = builder
            .timeout(self.config.timeouts.token)
            .send()
            .await
            .map_err(|e| match e.is_timeout() {
                true => RegistryError::Timeout {
                    url: realm.to_string(),
                    after: self.config.timeouts.token,
                },
                false => fail(format!("request failed: {e}")),
            })?;
        let status = resp.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(RegistryError::Unauthorized {
                registry: repo.registry().to_string(),
                detail: format!("the token endpoint refused the credentials (HTTP {status})"),
            });
        }
        if !status.is_success() {
            return Err(fail(format!("HTTP {}", status.as_u16())));
        }
        let body = read_body(
            resp,
            self.config.limits.token_bytes,
            realm,
            self.config.timeouts.token,
        )
        .await?;
        let parsed: TokenResponse = serde_json::from_slice(&body)
            .map_err(|e| fail(format!("not a token response: {e}")))?;
        parsed.into_token().map_err(|e| fail(e.to_string()))
    }

    pub(crate) fn map_err(&self, url: &Url, e: reqwest::Error) -> RegistryError {
        if e.is_timeout() {
            RegistryError::Timeout {
                url: url.to_string(),
                after: self.config.timeouts.request,
            }
        } else {
            RegistryError::Transport {
                url: url.to_string(),
                source: e.without_url(),
            }
        }
    }
}

fn build_client(
    config: &ClientConfig,
    host: &str,
    ca_pem: Option<&[u8]>,
) -> Result<reqwest::Client, RegistryError> {
    let tls_err = |detail: String| RegistryError::TlsConfig {
        host: host.to_string(),
        detail,
    };
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(config.user_agent.clone())
        .connect_timeout(config.timeouts.connect)
        .timeout(config.timeouts.request)
        .tls_version_min(reqwest::tls::Version::TLS_1_2);
    if let Some(pem) = ca_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| tls_err(format!("CA file: {e}")))?;
        if certs.is_empty() {
            return Err(tls_err("CA file holds no PEM certificate".to_string()));
        }
        builder = builder.tls_certs_only(certs);
    }
    builder.build().map_err(|e| tls_err(e.to_string()))
}

/// Reads a body of at most `limit` bytes: a larger declared length fails
/// before reading, a longer stream fails as soon as it passes the limit.
pub(crate) async fn read_body(
    mut resp: reqwest::Response,
    limit: u64,
    url: &str,
    timeout: Duration,
) -> Result<Bytes, RegistryError> {
    let too_large = |declared| RegistryError::TooLarge {
        url: url.to_string(),
        limit,
        declared,
    };
    if let Some(len) = resp.content_length().filter(|l| *l > limit) {
        return Err(too_large(Some(len)));
    }
    let mut buf = BytesMut::new();
    loop {
        let chunk = resp.chunk().await.map_err(|e| match e.is_timeout() {
            true => RegistryError::Timeout {
                url: url.to_string(),
                after: timeout,
            },
            false => RegistryError::Transport {
                url: url.to_string(),
                source: e.without_url(),
            },
        })?;
        let Some(chunk) = chunk else {
            return Ok(buf.freeze());
        };
        if (buf.len() + chunk.len()) as u64 > limit {
            return Err(too_large(None));
        }
        buf.extend_from_slice(&chunk);
    }
}

/// The distribution-spec error code of an error response (`MANIFEST_UNKNOWN`,
/// `NAME_UNKNOWN`, …), read within the error-body limit.
pub(crate) async fn error_code(resp: reqwest::Response, config: &ClientConfig) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<ErrorEntry>,
    }
    #[derive(serde::Deserialize)]
    struct ErrorEntry {
        code: String,
    }
    let url = resp.url().to_string();
    let body = read_body(
        resp,
        config.limits.error_body_bytes,
        &url,
        config.timeouts.request,
    )
    .await
    .ok()?;
    let parsed: Errors = serde_json::from_slice(&body).ok()?;
    parsed.errors.into_iter().next().map(|e| {
        e.code
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect()
    })
}

fn is_retryable(e: &RegistryError) -> bool {
    matches!(e, RegistryError::Transport { source, .. } if source.is_connect())
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    let v = resp.headers().get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// `host[:port]` of a URL, as registries are named in the configuration.
pub(crate) fn host_port(url: &Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}
