//! The configuration's typed form, read from TOML.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use pullgate_policy::TrustStoreRef;
use pullgate_policy::cosign::{CosignPolicies, CosignPolicy, KeyHash, KeyRef, Keyless, Scope};
use pullgate_verify::keys::ContentType;
use pullgate_verify::{Mode, NodePolicy, Require};

use super::reader::{ConfigError, Reader, Tbl};

#[derive(Debug, Clone)]
pub struct Config {
    pub file: PathBuf,
    pub mode: Mode,
    pub require: Require,
    pub cache_ttl: Duration,
    pub negative_cache_ttl: Duration,
    /// The longest one verification may take before it is a denial.
    pub verify_timeout: Duration,
    pub state_dir: PathBuf,
    pub docker_config: Option<PathBuf>,
    pub accept_platform_signatures: bool,
    pub key_providers: Vec<KeyProviderConfig>,
    pub notation: Option<NotationConfig>,
    pub cosign: Vec<CosignPolicyConfig>,
    pub registries: BTreeMap<String, RegistryConfig>,
    pub cri: Option<CriConfig>,
    pub admin: AdminConfig,
    pub gatekeeper: Option<GatekeeperConfig>,
    pub azure_present: bool,
}

#[derive(Debug, Clone)]
pub enum ProviderSource {
    Inline(String),
    File(PathBuf),
    AzureKeyVault,
}

#[derive(Debug, Clone)]
pub struct KeyProviderConfig {
    pub name: String,
    pub key: String,
    pub content_type: ContentType,
    pub source: ProviderSource,
}

#[derive(Debug, Clone)]
pub struct NotationConfig {
    pub trust_policy: PathBuf,
    pub trust_stores: BTreeMap<String, (TrustStoreRef, Vec<String>)>,
    pub revocation: RevocationConfig,
    pub max_signatures: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationMode {
    Online,
    Offline,
}

#[derive(Debug, Clone)]
pub struct RevocationConfig {
    pub mode: RevocationMode,
    pub crl_dir: Option<PathBuf>,
    pub timeout: Duration,
    pub url_rewrite: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct CosignPolicyConfig {
    /// Where it is in the file (`cosign.trust_policy[0]`).
    pub path: String,
    pub policy: CosignPolicy,
}

#[derive(Debug, Clone, Default)]
pub struct RegistryConfig {
    pub insecure: bool,
    pub ca_file: Option<PathBuf>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub azure_auth: bool,
}

#[derive(Debug, Clone)]
pub struct CriConfig {
    pub listen: PathBuf,
    pub upstream: PathBuf,
    pub exempt_namespaces: Vec<String>,
    pub allowed_uids: Vec<u32>,
    pub allow_digests: Vec<String>,
    pub break_glass: Vec<String>,
    /// The three lists above, parsed.
    pub node: NodePolicy,
}

#[derive(Debug, Clone)]
pub struct AdminConfig {
    pub listen: String,
}

#[derive(Debug, Clone)]
pub struct GatekeeperConfig {
    pub listen: String,
    pub tls_cert: PathBuf,
    pub tls_key: PathBuf,
    pub client_ca: PathBuf,
    pub deadline: Duration,
}

pub(super) fn read(path: &Path, table: &toml::Table) -> Result<Config, Vec<ConfigError>> {
    let mut r = Reader::new(path);
    let mut top = Tbl::new("", table);
    let mode = match r.choice(&mut top, "mode", &["enforce", "audit"]).as_deref() {
        Some("audit") => Mode::Audit,
        _ => Mode::Enforce,
    };
    let require = match r.choice(&mut top, "require", &["any", "all"]).as_deref() {
        Some("all") => Require::All,
        _ => Require::Any,
    };
    let cache_ttl = r
        .duration(&mut top, "cache_ttl")
        .unwrap_or(Duration::from_secs(300));
    let negative_cache_ttl = r
        .duration(&mut top, "negative_cache_ttl")
        .unwrap_or(Duration::from_secs(10));
    let verify_timeout = r
        .duration(&mut top, "verify_timeout")
        .unwrap_or(Duration::from_secs(60));
    if verify_timeout.is_zero() || verify_timeout > Duration::from_secs(600) {
        r.error("verify_timeout", "must be more than 0 and at most 10m");
    }
    // Every cache_ttl, every verified image is re-checked against its
    // registry: not back to back, and not so rarely that a revocation waits
    // for weeks.
    if cache_ttl < Duration::from_secs(10) || cache_ttl > Duration::from_secs(7 * 24 * 3600) {
        r.error("cache_ttl", "must be at least 10s and at most 168h");
    }
    if negative_cache_ttl > Duration::from_secs(3600) {
        r.error("negative_cache_ttl", "must be at most 1h");
    }
    let state_dir = r
        .path(&mut top, "state_dir")
        .unwrap_or_else(|| PathBuf::from("/var/lib/pullgate"));
    let docker_config = r.path(&mut top, "docker_config");
    let accept_platform_signatures = r
        .bool(&mut top, "accept_platform_signatures")
        .unwrap_or(false);
    let key_providers = read_providers(&mut r, &mut top);
    let azure_present = match r.table(&mut top, "azure") {
        Some(t) => {
            read_azure(&mut r, t);
            true
        }
        None => false,
    };
    let notation = r
        .table(&mut top, "notation")
        .map(|t| read_notation(&mut r, t));
    let cosign = r
        .table(&mut top, "cosign")
        .map(|t| read_cosign(&mut r, t))
        .unwrap_or_default();
    let registries = r
        .table(&mut top, "registry")
        .map(|t| read_registries(&mut r, t))
        .unwrap_or_default();
    let cri = r.table(&mut top, "cri").map(|t| read_cri(&mut r, t));
    let admin = r
        .table(&mut top, "admin")
        .map(|t| read_admin(&mut r, t))
        .unwrap_or(AdminConfig {
            listen: "127.0.0.1:9099".into(),
        });
    let gatekeeper = r
        .table(&mut top, "gatekeeper")
        .and_then(|t| read_gatekeeper(&mut r, t));
    r.finish(top);
    if notation.is_none() && cosign.is_empty() {
        r.error(
            "",
            "configures no verifier: add [notation] or [[cosign.trust_policy]]",
        );
    }
    check_provider_refs(&mut r, &key_providers, notation.as_ref());
    check_cosign(&mut r, &key_providers, &cosign);
    if r.errors.is_empty() {
        Ok(Config {
            file: path.to_path_buf(),
            mode,
            require,
            cache_ttl,
            negative_cache_ttl,
            verify_timeout,
            state_dir,
            docker_config,
            accept_platform_signatures,
            key_providers,
            notation,
            cosign,
            registries,
            cri,
            admin,
            gatekeeper,
            azure_present,
        })
    } else {
        Err(r.errors)
    }
}

fn read_providers(r: &mut Reader, top: &mut Tbl<'_>) -> Vec<KeyProviderConfig> {
    let mut out: Vec<KeyProviderConfig> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for mut t in r.tables(top, "key_provider") {
        let name = r.required(&mut t, "name");
        let kind = r.choice(&mut t, "type", &["inline", "file", "azurekeyvault"]);
        if kind.is_none() && !t.has("type") {
            r.error(&t.key("type"), "is required");
        }
        let content_type = match r
            .choice(&mut t, "content_type", &["certificate", "key"])
            .as_deref()
        {
            Some("key") => ContentType::Key,
            _ => ContentType::Certificate,
        };
        let source = match kind.as_deref() {
            Some("inline") => r.required(&mut t, "value").map(ProviderSource::Inline),
            Some("file") => {
                if !t.has("path") {
                    r.error(&t.key("path"), "is required");
                }
                r.path(&mut t, "path").map(ProviderSource::File)
            }
            Some(_) => {
                r.error(
                    &t.key("type"),
                    "\"azurekeyvault\" key providers are not available in this build of pullgate yet",
                );
                Some(ProviderSource::AzureKeyVault)
            }
            None => None,
        };
        let key = t.path.clone();
        if let Some(n) = &name {
            if names.contains(n) {
                r.error(
                    &t.key("name"),
                    format!("key provider {n:?} is defined twice"),
                );
            }
            names.push(n.clone());
        }
        if matches!(source, Some(ProviderSource::AzureKeyVault)) {
            // Its own keys are not read yet; the error above already says why.
            continue;
        }
        r.finish(t);
        if let (Some(name), Some(source)) = (name, source) {
            out.push(KeyProviderConfig {
                name,
                key,
                content_type,
                source,
            });
        }
    }
    out
}

fn read_azure(r: &mut Reader, mut t: Tbl<'_>) {
    let _ = r.choice(
        &mut t,
        "credential",
        &[
            "auto",
            "workload-identity",
            "managed-identity",
            "client-secret",
        ],
    );
    let _ = r.string(&mut t, "authority_host");
    let _ = r.string(&mut t, "imds_endpoint");
    let _ = r.path(&mut t, "ca_file");
    let _ = r.path(&mut t, "client_secret_file");
    r.finish(t);
}

fn read_notation(r: &mut Reader, mut t: Tbl<'_>) -> NotationConfig {
    if !t.has("trust_policy") {
        r.error(&t.key("trust_policy"), "is required");
    }
    let trust_policy = r.path(&mut t, "trust_policy").unwrap_or_default();
    let mut trust_stores = BTreeMap::new();
    if let Some(stores) = r.table(&mut t, "trust_stores") {
        for (key, value) in stores.keys() {
            let k = stores.key(&format!("{key:?}"));
            let store = match key.parse::<TrustStoreRef>() {
                Ok(s) => Some(s),
                Err(e) => {
                    r.error(&k, e.to_string());
                    None
                }
            };
            let providers = match value {
                toml::Value::Array(items) if !items.is_empty() => {
                    let mut names = Vec::new();
                    for (i, item) in items.iter().enumerate() {
                        match item.as_str() {
                            Some(name) => names.push(name.to_string()),
                            None => r.error(
                                &format!("{k}[{i}]"),
                                "expected a key provider name (a string)",
                            ),
                        }
                    }
                    names
                }
                _ => {
                    r.error(&k, "expected a non-empty array of key provider names");
                    Vec::new()
                }
            };
            if let Some(store) = store {
                trust_stores.insert(key.clone(), (store, providers));
            }
        }
    }
    let revocation = r
        .table(&mut t, "revocation")
        .map(|rt| read_revocation(r, rt))
        .unwrap_or(RevocationConfig {
            mode: RevocationMode::Online,
            crl_dir: None,
            timeout: Duration::from_secs(2),
            url_rewrite: BTreeMap::new(),
        });
    let max_signatures = r.integer(&mut t, "max_signatures", 1, 1000).unwrap_or(100) as usize;
    r.finish(t);
    NotationConfig {
        trust_policy,
        trust_stores,
        revocation,
        max_signatures,
    }
}

fn read_revocation(r: &mut Reader, mut t: Tbl<'_>) -> RevocationConfig {
    let mode = match r.choice(&mut t, "mode", &["online", "offline"]).as_deref() {
        Some("offline") => RevocationMode::Offline,
        _ => RevocationMode::Online,
    };
    let crl_dir = r.path(&mut t, "crl_dir");
    let timeout = r
        .duration(&mut t, "timeout")
        .unwrap_or(Duration::from_secs(2));
    if timeout > Duration::from_secs(30) {
        r.error(&t.key("timeout"), "must be at most 30s");
    }
    let mut url_rewrite = BTreeMap::new();
    if let Some(rw) = r.table(&mut t, "url_rewrite") {
        for (from, to) in rw.keys() {
            match to.as_str() {
                Some(to) => {
                    url_rewrite.insert(from.clone(), to.to_string());
                }
                None => r.error(&rw.key(&format!("{from:?}")), "expected a string"),
            }
        }
    }
    r.finish(t);
    RevocationConfig {
        mode,
        crl_dir,
        timeout,
        url_rewrite,
    }
}

fn read_cosign(r: &mut Reader, mut t: Tbl<'_>) -> Vec<CosignPolicyConfig> {
    let policies = r.tables(&mut t, "trust_policy");
    r.finish(t);
    let mut out = Vec::new();
    for mut p in policies {
        let path = p.path.clone();
        let name = r.required(&mut p, "name").unwrap_or_default();
        let scopes = match r.strings(&mut p, "scopes") {
            None => {
                r.error(&p.key("scopes"), "is required");
                Vec::new()
            }
            Some(list) => list
                .iter()
                .enumerate()
                .filter_map(|(i, s)| {
                    Scope::parse(s)
                        .map_err(|e| r.error(&format!("{}[{i}]", p.key("scopes")), e))
                        .ok()
                })
                .collect(),
        };
        let mut keys = Vec::new();
        for mut k in r.tables(&mut p, "keys") {
            let provider = r.required(&mut k, "provider");
            let key_name = r.string(&mut k, "name");
            let version = r.string(&mut k, "version");
            let hash = match r.string(&mut k, "hash") {
                None => Some(KeyHash::Sha256),
                Some(h) => KeyHash::parse(&h).or_else(|| {
                    r.error(
                        &k.key("hash"),
                        format!(
                            "{h:?} is not one of \"sha256\", \"sha384\", \"sha512\", \"ed25519ph\""
                        ),
                    );
                    None
                }),
            };
            r.finish(k);
            if let (Some(provider), Some(hash)) = (provider, hash) {
                keys.push(KeyRef {
                    provider,
                    name: key_name,
                    version,
                    hash,
                });
            }
        }
        let tlog_verify = r.bool(&mut p, "tlog_verify").unwrap_or(true);
        let rekor_keys = r.string(&mut p, "rekor_keys");
        let keyless = r.table(&mut p, "keyless").map(|mut k| {
            let keyless = Keyless {
                issuer: r.string(&mut k, "issuer"),
                issuer_regexp: r.string(&mut k, "issuer_regexp"),
                identity: r.string(&mut k, "identity"),
                identity_regexp: r.string(&mut k, "identity_regexp"),
                fulcio_roots: r.string(&mut k, "fulcio_roots"),
                ctlog_keys: r.string(&mut k, "ctlog_keys"),
            };
            r.finish(k);
            keyless
        });
        let trusted_root = r.path(&mut p, "trusted_root");
        // SCTs are checked against a trusted root's CT logs (bundles); CT
        // log keys from a provider are not.
        if keyless.as_ref().is_some_and(|k| k.ctlog_keys.is_some()) {
            r.error(
                &format!("{}.ctlog_keys", p.key("keyless")),
                "SCT verification with CT log keys from a key provider is not available in this build yet (leave ctlog_keys out; a trusted_root's CT logs are used for Sigstore bundles)",
            );
        }
        r.finish(p);
        out.push(CosignPolicyConfig {
            path,
            policy: CosignPolicy {
                name,
                scopes,
                keys,
                tlog_verify,
                rekor_keys,
                keyless,
                trusted_root: trusted_root.map(|p| p.display().to_string()),
            },
        });
    }
    out
}

fn read_registries(r: &mut Reader, t: Tbl<'_>) -> BTreeMap<String, RegistryConfig> {
    let mut out = BTreeMap::new();
    for (host, value) in t.keys() {
        let key = t.key(&format!("{host:?}"));
        let toml::Value::Table(inner) = value else {
            r.error(&key, "expected a table");
            continue;
        };
        if pullgate_registry::Repository::new(host, "x").is_err() {
            r.error(&key, "is not a registry host[:port]");
        }
        let mut rt = Tbl::new(&key, inner);
        let insecure = r.bool(&mut rt, "insecure").unwrap_or(false);
        let ca_file = r.path(&mut rt, "ca_file");
        let username = r.string(&mut rt, "username");
        let password = r.string(&mut rt, "password");
        if username.is_some() != password.is_some() {
            r.error(&key, "username and password go together");
        }
        let azure_auth = match r.choice(&mut rt, "auth", &["azure"]) {
            Some(_) => {
                r.error(
                    &rt.key("auth"),
                    "\"azure\" registry auth is not available in this build of pullgate yet",
                );
                true
            }
            None => false,
        };
        r.finish(rt);
        out.insert(
            host.clone(),
            RegistryConfig {
                insecure,
                ca_file,
                username,
                password,
                azure_auth,
            },
        );
    }
    out
}

fn read_cri(r: &mut Reader, mut t: Tbl<'_>) -> CriConfig {
    let listen = r
        .path(&mut t, "listen")
        .unwrap_or_else(|| PathBuf::from("/run/pullgate/image.sock"));
    let upstream = r
        .path(&mut t, "upstream")
        .unwrap_or_else(|| PathBuf::from("/run/containerd/containerd.sock"));
    let exempt_namespaces = r.strings(&mut t, "exempt_namespaces").unwrap_or_default();
    let allowed_uids = r.u32s(&mut t, "allowed_uids").unwrap_or_else(|| vec![0]);
    let allow_digests = r.strings(&mut t, "allow_digests").unwrap_or_default();
    let break_glass = r.strings(&mut t, "break_glass").unwrap_or_default();
    let node = NodePolicy::new(&exempt_namespaces, &allow_digests, &break_glass).unwrap_or_else(
        |errors| {
            for (key, message) in errors {
                r.error(&t.key(&key), message);
            }
            NodePolicy::default()
        },
    );
    r.finish(t);
    CriConfig {
        listen,
        upstream,
        exempt_namespaces,
        allowed_uids,
        allow_digests,
        break_glass,
        node,
    }
}

fn read_admin(r: &mut Reader, mut t: Tbl<'_>) -> AdminConfig {
    let listen = r
        .string(&mut t, "listen")
        .unwrap_or_else(|| "127.0.0.1:9099".into());
    if listen.parse::<std::net::SocketAddr>().is_err() {
        r.error(
            &t.key("listen"),
            format!("{listen:?} is not an address:port"),
        );
    }
    r.finish(t);
    AdminConfig { listen }
}

fn read_gatekeeper(r: &mut Reader, mut t: Tbl<'_>) -> Option<GatekeeperConfig> {
    let listen = r
        .string(&mut t, "listen")
        .unwrap_or_else(|| "0.0.0.0:6001".into());
    if listen.parse::<std::net::SocketAddr>().is_err() {
        r.error(
            &t.key("listen"),
            format!("{listen:?} is not an address:port"),
        );
    }
    let need = |r: &mut Reader, t: &mut Tbl<'_>, k: &str| {
        if !t.has(k) {
            r.error(&t.key(k), "is required");
        }
        r.path(t, k)
    };
    let tls_cert = need(r, &mut t, "tls_cert");
    let tls_key = need(r, &mut t, "tls_key");
    let client_ca = need(r, &mut t, "client_ca");
    let deadline = r
        .duration(&mut t, "deadline")
        .unwrap_or(Duration::from_millis(2500));
    r.finish(t);
    Some(GatekeeperConfig {
        listen,
        tls_cert: tls_cert?,
        tls_key: tls_key?,
        client_ca: client_ca?,
        deadline,
    })
}

impl Config {
    /// The files whose change means a reload: the configuration itself and
    /// every document it names (directories stand for their entries).
    pub fn watched_paths(&self) -> Vec<PathBuf> {
        let mut out = vec![self.file.clone()];
        if let Some(n) = &self.notation {
            out.push(n.trust_policy.clone());
        }
        for p in &self.key_providers {
            if let ProviderSource::File(f) = &p.source {
                out.push(f.clone());
            }
        }
        if let Some(dir) = self
            .notation
            .as_ref()
            .and_then(|n| n.revocation.crl_dir.clone())
        {
            out.push(dir);
        }
        out.extend(
            self.cosign
                .iter()
                .filter_map(|c| c.policy.trusted_root.as_ref().map(PathBuf::from)),
        );
        out.extend(self.docker_config.clone());
        out.extend(self.registries.values().filter_map(|r| r.ca_file.clone()));
        out.sort();
        out.dedup();
        out
    }

    /// The settings a reload cannot change (they take effect at restart),
    /// named when `other` differs in them.
    pub fn restart_only_changes(&self, other: &Config) -> Vec<&'static str> {
        let mut out = Vec::new();
        let mut differ = |name, changed: bool| {
            if changed {
                out.push(name);
            }
        };
        differ("cache_ttl", self.cache_ttl != other.cache_ttl);
        differ(
            "negative_cache_ttl",
            self.negative_cache_ttl != other.negative_cache_ttl,
        );
        differ(
            "verify_timeout",
            self.verify_timeout != other.verify_timeout,
        );
        differ("state_dir", self.state_dir != other.state_dir);
        differ("admin.listen", self.admin.listen != other.admin.listen);
        let cri = |c: &Config| {
            c.cri
                .as_ref()
                .map(|c| (c.listen.clone(), c.upstream.clone(), c.allowed_uids.clone()))
        };
        differ(
            "cri.listen, cri.upstream, cri.allowed_uids",
            cri(self) != cri(other),
        );
        out
    }
}

/// The Cosign policies as a set (names, scopes, keyless settings), and the
/// key providers they name exist and hold what they must: keys for `keys`
/// and `rekor_keys`, certificates for `keyless.fulcio_roots`.
fn check_cosign(r: &mut Reader, providers: &[KeyProviderConfig], cosign: &[CosignPolicyConfig]) {
    if cosign.is_empty() {
        return;
    }
    let policies = cosign.iter().map(|c| c.policy.clone()).collect();
    if let Err(errors) = CosignPolicies::new(policies) {
        for e in errors {
            let at = cosign
                .get(e.index)
                .map(|c| c.path.as_str())
                .unwrap_or("cosign");
            r.error(&format!("{at}.{}", e.key), e.message);
        }
    }
    for c in cosign {
        for (i, scope) in c.policy.scopes.iter().enumerate() {
            let respelled = match scope {
                Scope::All => None,
                Scope::Prefix(p) => {
                    pullgate_registry::scope_respelled(p, true).map(|n| format!("{n}/*"))
                }
                Scope::Repository(r) => pullgate_registry::scope_respelled(r, false),
            };
            if let Some(named) = respelled {
                r.error(
                    &format!("{}.scopes[{i}]", c.path),
                    format!("no image matches this scope: references are normalised as Docker and containerd do, so write {named:?}"),
                );
            }
        }
        let named = [
            (
                format!("{}.rekor_keys", c.path),
                c.policy.rekor_keys.as_ref(),
                ContentType::Key,
            ),
            (
                format!("{}.keyless.fulcio_roots", c.path),
                c.policy
                    .keyless
                    .as_ref()
                    .and_then(|k| k.fulcio_roots.as_ref()),
                ContentType::Certificate,
            ),
        ];
        for (at, name, wanted) in named {
            let Some(name) = name else { continue };
            match providers.iter().find(|p| &p.name == name) {
                None => r.error(
                    &at,
                    format!("names key provider {name:?}, which is not defined"),
                ),
                Some(p) if p.content_type != wanted => r.error(
                    &at,
                    match wanted {
                        ContentType::Key => format!(
                            "key provider {name:?} holds certificates, not keys (content_type = \"key\")"
                        ),
                        ContentType::Certificate => format!(
                            "key provider {name:?} holds keys, not certificates (content_type = \"certificate\")"
                        ),
                    },
                ),
                Some(_) => {}
            }
        }
        for (i, k) in c.policy.keys.iter().enumerate() {
            let at = format!("{}.keys[{i}].provider", c.path);
            match providers.iter().find(|p| p.name == k.provider) {
                None => r.error(
                    &at,
                    format!("names key provider {:?}, which is not defined", k.provider),
                ),
                Some(p) if p.content_type != ContentType::Key => r.error(
                    &at,
                    format!(
                        "key provider {:?} holds certificates, not keys (content_type = \"key\")",
                        k.provider
                    ),
                ),
                Some(_) => {}
            }
        }
    }
}

/// Trust stores name key providers that exist and hold certificates.
fn check_provider_refs(
    r: &mut Reader,
    providers: &[KeyProviderConfig],
    notation: Option<&NotationConfig>,
) {
    let Some(notation) = notation else { return };
    for (key, (_, names)) in &notation.trust_stores {
        for name in names {
            match providers.iter().find(|p| &p.name == name) {
                None => r.error(
                    &format!("notation.trust_stores.{key:?}"),
                    format!("names key provider {name:?}, which is not defined"),
                ),
                Some(p) if p.content_type != ContentType::Certificate => r.error(
                    &format!("notation.trust_stores.{key:?}"),
                    format!("key provider {name:?} holds keys, not certificates"),
                ),
                Some(_) => {}
            }
        }
    }
}
