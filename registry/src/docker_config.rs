//! Registry credentials from a Docker `config.json` (`auths` entries).
//! Credential helpers (`credsStore`, `credHelpers`) run external programs and
//! are not used; [`DockerConfig::ignored_helpers`] lists them so that
//! `check-config` can say so.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use serde::Deserialize;

use crate::config::{Credentials, Secret};
use crate::error::RegistryError;
use crate::reference::DOCKER_HUB;

const MAX_FILE_BYTES: u64 = 1 << 20;

#[derive(Debug, Clone, Default)]
pub struct DockerConfig {
    auths: BTreeMap<String, Credentials>,
    ignored_helpers: Vec<String>,
}

#[derive(Deserialize)]
struct RawFile {
    #[serde(default)]
    auths: BTreeMap<String, RawAuth>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
struct RawAuth {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
    #[serde(default)]
    registrytoken: Option<String>,
}

impl DockerConfig {
    /// Reads and parses the file at `path` (at most 1 MiB).
    pub fn load(path: &Path) -> Result<DockerConfig, RegistryError> {
        let err = |detail: String| RegistryError::DockerConfig {
            path: path.display().to_string(),
            detail,
        };
        let bytes =
            crate::files::read_bounded(path, MAX_FILE_BYTES).map_err(|e| err(e.to_string()))?;
        DockerConfig::parse(&bytes).map_err(err)
    }

    /// Parses a `config.json` body. Entries are keyed by host as Docker does:
    /// scheme and path are dropped, and Docker Hub's aliases become `docker.io`.
    pub fn parse(bytes: &[u8]) -> Result<DockerConfig, String> {
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if !value.is_object() {
            return Err("not a JSON object".to_string());
        }
        let raw: RawFile = serde_json::from_value(value).map_err(|e| e.to_string())?;
        let mut auths = BTreeMap::new();
        for (key, entry) in raw.auths {
            let host = normalise_key(&key);
            if let Some(creds) = entry
                .into_credentials()
                .map_err(|e| format!("{key}: {e}"))?
            {
                auths.insert(host, creds);
            }
        }
        let mut ignored_helpers: Vec<String> = raw.cred_helpers.into_keys().collect();
        if let Some(store) = raw.creds_store {
            ignored_helpers.push(format!("credsStore={store}"));
        }
        Ok(DockerConfig {
            auths,
            ignored_helpers,
        })
    }

    /// Credentials for `registry` (`host[:port]`), if the file has them.
    pub fn credentials(&self, registry: &str) -> Option<Credentials> {
        self.auths.get(&normalise_key(registry)).cloned()
    }

    /// Credential helpers named in the file, which pullgate does not run.
    pub fn ignored_helpers(&self) -> &[String] {
        &self.ignored_helpers
    }
}

impl RawAuth {
    fn into_credentials(self) -> Result<Option<Credentials>, String> {
        AuthFields {
            username: self.username,
            password: self.password,
            auth: self.auth,
            identity_token: self.identitytoken,
            registry_token: self.registrytoken,
        }
        .into_credentials()
    }
}

/// Credentials as Docker's config.json and the CRI's `AuthConfig` carry
/// them (the same five fields).
#[derive(Default, Clone)]
pub struct AuthFields {
    pub username: Option<String>,
    pub password: Option<String>,
    /// base64 of `user:password`.
    pub auth: Option<String>,
    /// An OAuth2 refresh token.
    pub identity_token: Option<String>,
    /// A bearer token for the registry.
    pub registry_token: Option<String>,
}

impl std::fmt::Debug for AuthFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthFields")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl AuthFields {
    /// The credentials these fields give, in Docker's order of preference
    /// (registry token, identity token, `auth`, username and password);
    /// none when all are empty.
    pub fn into_credentials(self) -> Result<Option<Credentials>, String> {
        if let Some(t) = self.registry_token.filter(|t| !t.is_empty()) {
            return Ok(Some(Credentials::RegistryToken(Secret::new(t))));
        }
        if let Some(t) = self.identity_token.filter(|t| !t.is_empty()) {
            return Ok(Some(Credentials::IdentityToken(Secret::new(t))));
        }
        if let Some(auth) = self.auth.filter(|a| !a.is_empty()) {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .map_err(|_| "\"auth\" is not base64".to_string())?;
            let text =
                String::from_utf8(decoded).map_err(|_| "\"auth\" is not UTF-8".to_string())?;
            let (user, pass) = text
                .split_once(':')
                .ok_or_else(|| "\"auth\" is not user:password".to_string())?;
            return Ok(Some(Credentials::basic(user, pass)));
        }
        match (self.username, self.password) {
            (Some(u), Some(p)) if !u.is_empty() => Ok(Some(Credentials::basic(u, p))),
            _ => Ok(None),
        }
    }
}

fn normalise_key(key: &str) -> String {
    let no_scheme = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = no_scheme.split('/').next().unwrap_or(no_scheme);
    match host {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            DOCKER_HUB.to_string()
        }
        h => h.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_auths_in_every_shape() {
        let cfg = DockerConfig::parse(
            br#"{"auths":{
                "https://index.docker.io/v1/":{"auth":"dTE6cDE="},
                "127.0.0.1:5000":{"username":"u2","password":"p2"},
                "https://myacr.azurecr.io":{"identitytoken":"rt"},
                "tok.example":{"registrytoken":"bearer"},
                "empty.example":{}
            },"credHelpers":{"gcr.io":"gcloud"},"credsStore":"desktop"}"#,
        )
        .unwrap();
        assert_eq!(
            cfg.credentials("docker.io"),
            Some(Credentials::basic("u1", "p1"))
        );
        assert_eq!(
            cfg.credentials("127.0.0.1:5000"),
            Some(Credentials::basic("u2", "p2"))
        );
        assert_eq!(
            cfg.credentials("myacr.azurecr.io"),
            Some(Credentials::IdentityToken(Secret::new("rt")))
        );
        assert_eq!(
            cfg.credentials("tok.example"),
            Some(Credentials::RegistryToken(Secret::new("bearer")))
        );
        assert_eq!(cfg.credentials("empty.example"), None);
        assert_eq!(cfg.credentials("other.example"), None);
        assert_eq!(cfg.ignored_helpers(), ["gcr.io", "credsStore=desktop"]);
    }

    #[test]
    fn rejects_bad_auth_fields() {
        assert!(DockerConfig::parse(br#"{"auths":{"h":{"auth":"!!"}}}"#).is_err());
        assert!(DockerConfig::parse(br#"{"auths":{"h":{"auth":"bm9jb2xvbg=="}}}"#).is_err());
        assert!(DockerConfig::parse(b"[]").is_err());
    }
}
