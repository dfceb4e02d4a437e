//! Registry authentication: `WWW-Authenticate` challenges, the token
//! exchange, and a token cache keyed by registry, scope and credentials.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde::Deserialize;

use crate::config::{Credentials, Secret};

/// Tokens kept at most; expired ones are dropped first, then everything.
const MAX_CACHED_TOKENS: usize = 1024;
/// Lifetime assumed when the token endpoint does not say (Docker's rule).
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(60);
const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// A parsed `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

/// Parses the first usable challenge among `headers`, preferring Bearer.
pub fn parse_challenges<'a>(headers: impl Iterator<Item = &'a str>) -> Option<Challenge> {
    let mut basic = false;
    for h in headers {
        let h = h.trim();
        let (scheme, rest) = h.split_once(' ').unwrap_or((h, ""));
        if scheme.eq_ignore_ascii_case("bearer") {
            let params = parse_params(rest);
            let get = |k: &str| {
                params
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(k))
                    .map(|(_, v)| v.clone())
            };
            if let Some(realm) = get("realm").filter(|r| !r.is_empty()) {
                return Some(Challenge::Bearer {
                    realm,
                    service: get("service"),
                    scope: get("scope"),
                });
            }
        } else if scheme.eq_ignore_ascii_case("basic") {
            basic = true;
        }
    }
    basic.then_some(Challenge::Basic)
}

/// `name=value` or `name="quoted \"value\""` pairs separated by commas.
fn parse_params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace() || *c == ',').is_some() {}
        let name: String = std::iter::from_fn(|| chars.next_if(|c| *c != '=' && *c != ','))
            .collect::<String>()
            .trim()
            .to_string();
        if name.is_empty() {
            return out;
        }
        if chars.next_if_eq(&'=').is_none() {
            continue;
        }
        let mut value = String::new();
        if chars.next_if_eq(&'"').is_some() {
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value = std::iter::from_fn(|| chars.next_if(|c| *c != ','))
                .collect::<String>()
                .trim()
                .to_string();
        }
        out.push((name, value));
    }
}

/// The token endpoint's answer (Docker token spec; OAuth2 uses `access_token`).
#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

impl TokenResponse {
    pub(crate) fn into_token(self) -> Result<(Secret, Duration), &'static str> {
        let token = self
            .token
            .filter(|t| !t.is_empty())
            .or(self.access_token.filter(|t| !t.is_empty()))
            .ok_or("no token in the response")?;
        if token.chars().any(|c| c.is_control() || c == ' ') {
            return Err("token has characters not allowed in a header");
        }
        let lifetime = self
            .expires_in
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_TOKEN_LIFETIME)
            .clamp(Duration::from_secs(1), MAX_TOKEN_LIFETIME);
        Ok((Secret::new(token), lifetime))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct TokenKey {
    registry: String,
    scope: String,
    credentials: String,
}

struct CachedToken {
    token: Secret,
    expires: Instant,
}

/// How to authenticate to one registry, learnt from its challenges.
#[derive(Default)]
pub(crate) struct AuthCache {
    tokens: Mutex<HashMap<TokenKey, CachedToken>>,
    basic_registries: Mutex<std::collections::HashSet<String>>,
}

impl AuthCache {
    /// The `Authorization` value to send to `registry` for `scope`, if known.
    pub(crate) fn header(
        &self,
        registry: &str,
        scope: &str,
        creds: Option<&Credentials>,
    ) -> Option<String> {
        if let Some(Credentials::RegistryToken(t)) = creds {
            return Some(format!("Bearer {}", t.expose()));
        }
        let key = key(registry, scope, creds);
        if let Ok(tokens) = self.tokens.lock()
            && let Some(t) = tokens.get(&key).filter(|t| t.expires > Instant::now())
        {
            return Some(format!("Bearer {}", t.token.expose()));
        }
        let basic = self
            .basic_registries
            .lock()
            .map(|b| b.contains(registry))
            .unwrap_or(false);
        match creds {
            Some(Credentials::Basic { username, password }) if basic => {
                Some(basic_header(username, password))
            }
            _ => None,
        }
    }

    pub(crate) fn remember_basic(&self, registry: &str) {
        if let Ok(mut b) = self.basic_registries.lock() {
            b.insert(registry.to_string());
        }
    }

    pub(crate) fn store(
        &self,
        registry: &str,
        scope: &str,
        creds: Option<&Credentials>,
        token: Secret,
        lifetime: Duration,
    ) {
        // Renew a little early so a token does not expire in flight.
        let margin = (lifetime / 10).min(Duration::from_secs(30));
        let expires = Instant::now() + lifetime - margin;
        if let Ok(mut tokens) = self.tokens.lock() {
            if tokens.len() >= MAX_CACHED_TOKENS {
                let now = Instant::now();
                tokens.retain(|_, t| t.expires > now);
                if tokens.len() >= MAX_CACHED_TOKENS {
                    tokens.clear();
                }
            }
            tokens.insert(key(registry, scope, creds), CachedToken { token, expires });
        }
    }

    /// Forgets the token for this key (the registry refused it).
    pub(crate) fn forget(&self, registry: &str, scope: &str, creds: Option<&Credentials>) {
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.remove(&key(registry, scope, creds));
        }
    }
}

fn key(registry: &str, scope: &str, creds: Option<&Credentials>) -> TokenKey {
    TokenKey {
        registry: registry.to_string(),
        scope: scope.to_string(),
        credentials: creds.map_or_else(|| "anonymous".to_string(), Credentials::fingerprint),
    }
}

pub(crate) fn basic_header(username: &str, password: &Secret) -> String {
    let raw = format!("{username}:{}", password.expose());
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_challenges() {
        let c = parse_challenges(std::iter::once(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull""#,
        ));
        assert_eq!(
            c,
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/alpine:pull".into()),
            })
        );
        let c = parse_challenges(
            [
                "Basic realm=\"x\"",
                "bearer realm=http://h/t, service = svc , error=\"a\\\"b\"",
            ]
            .into_iter(),
        );
        assert_eq!(
            c,
            Some(Challenge::Bearer {
                realm: "http://h/t".into(),
                service: Some("svc".into()),
                scope: None
            })
        );
    }

    #[test]
    fn basic_and_garbage() {
        assert_eq!(
            parse_challenges(std::iter::once("Basic realm=\"registry\"")),
            Some(Challenge::Basic)
        );
        assert_eq!(parse_challenges(std::iter::once("Bearer service=x")), None);
        assert_eq!(parse_challenges(std::iter::once("Negotiate")), None);
        assert_eq!(
            parse_challenges(std::iter::once("Bearer realm=\"unterminated")),
            Some(Challenge::Bearer {
                realm: "unterminated".into(),
                service: None,
                scope: None
            })
        );
        assert_eq!(parse_challenges(std::iter::empty()), None);
    }

    #[test]
    fn token_responses() {
        let t: TokenResponse = serde_json::from_str(r#"{"token":"abc","expires_in":300}"#).unwrap();
        let (tok, life) = t.into_token().unwrap();
        assert_eq!(tok.expose(), "abc");
        assert_eq!(life, Duration::from_secs(300));
        let t: TokenResponse = serde_json::from_str(r#"{"access_token":"xyz"}"#).unwrap();
        assert_eq!(t.into_token().unwrap().1, DEFAULT_TOKEN_LIFETIME);
        let t: TokenResponse = serde_json::from_str(r#"{"token":""}"#).unwrap();
        assert!(t.into_token().is_err());
        let t: TokenResponse = serde_json::from_str(r#"{"token":"a\nb"}"#).unwrap();
        assert!(t.into_token().is_err());
    }

    #[test]
    fn cache_is_keyed_by_credentials() {
        let cache = AuthCache::default();
        let a = Credentials::basic("a", "1");
        let b = Credentials::basic("b", "2");
        cache.store(
            "r",
            "s",
            Some(&a),
            Secret::new("ta"),
            Duration::from_secs(60),
        );
        assert_eq!(
            cache.header("r", "s", Some(&a)).as_deref(),
            Some("Bearer ta")
        );
        assert_eq!(cache.header("r", "s", Some(&b)), None);
        assert_eq!(cache.header("r", "s", None), None);
        assert_eq!(cache.header("r", "other", Some(&a)), None);
        cache.forget("r", "s", Some(&a));
        assert_eq!(cache.header("r", "s", Some(&a)), None);
        cache.remember_basic("r");
        assert!(
            cache
                .header("r", "s", Some(&b))
                .unwrap()
                .starts_with("Basic ")
        );
        assert_eq!(cache.header("r", "s", None), None);
    }
}
