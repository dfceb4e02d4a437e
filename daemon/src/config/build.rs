//! From a validated [`Config`] to the engine's parts: every document the
//! configuration names is read and checked here, before anything binds.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use pullgate_policy::cosign::CosignPolicies;
use pullgate_policy::{Action, TrustPolicyDocument, ValidationType};
use pullgate_registry::files::read_bounded;
use pullgate_registry::{
    ClientConfig, Credentials, DockerConfig, HostSettings, Platform, RegistryClient,
};
use pullgate_verify::cosign::{
    BundleCheck, BundleKey, BundlePolicy, BundleTrust, CosignKey, CosignVerifier,
    DEFAULT_MAX_SIGNATURES, IdentityPolicy, RekorKey, TrustedRoot,
};
use pullgate_verify::keys::{
    ContentType, FileProvider, InlineProvider, Item, ItemContent, KeyProvider, parse_public_keys,
};
use pullgate_verify::notary::revocation::{Checker, RevocationMode as Mode, RevocationSettings};
use pullgate_verify::notary::{NotaryVerifier, TrustStores, load_store};
use pullgate_verify::x509::{Cert, parse_certificates};
use pullgate_verify::{Clock, Engine, EngineConfig};

use super::reader::ConfigError;
use super::schema::{Config, NotationConfig, ProviderSource, RevocationMode};

/// Trust policy documents larger than this are refused.
const MAX_POLICY_BYTES: u64 = 4 << 20;
/// A registry's CA bundle (`ca_file`).
const MAX_CA_FILE_BYTES: u64 = 1 << 20;

/// What a configuration builds.
pub struct Built {
    pub engine: Engine,
    pub registry: RegistryClient,
    /// Things worth saying that do not make the configuration invalid.
    pub warnings: Vec<String>,
}

struct Errors<'a> {
    config: &'a Config,
    list: Vec<ConfigError>,
}

impl Errors<'_> {
    fn add(&mut self, key: &str, message: impl Into<String>) {
        self.list.push(ConfigError {
            file: self.config.file.clone(),
            key: key.to_string(),
            message: message.into(),
        });
    }
}

/// Loads every document `config` names and builds the engine and the
/// registry client, or reports every problem found.
/// What the built configuration is for: the daemon keeps state on disk
/// under `state_dir` (the CRL cache); a one-shot command (`verify`,
/// `check-config`) writes nothing there and works for a user who cannot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Serve,
    OneShot,
}

pub fn build(
    config: &Config,
    clock: Arc<dyn Clock>,
    purpose: Purpose,
) -> Result<Built, Vec<ConfigError>> {
    let mut errors = Errors {
        config,
        list: Vec::new(),
    };
    let mut warnings = Vec::new();
    let providers: BTreeMap<String, Arc<dyn KeyProvider>> = config
        .key_providers
        .iter()
        .filter_map(|p| {
            let provider: Arc<dyn KeyProvider> = match &p.source {
                ProviderSource::Inline(v) => {
                    Arc::new(InlineProvider::new(&p.name, p.content_type, v))
                }
                ProviderSource::File(path) => {
                    Arc::new(FileProvider::new(&p.name, p.content_type, path))
                }
                ProviderSource::AzureKeyVault => return None,
            };
            Some((p.name.clone(), provider))
        })
        .collect();
    check_key_providers(config, &providers, &mut errors);
    let notation = config
        .notation
        .as_ref()
        .and_then(|n| build_notation(config, n, &providers, purpose, &mut errors, &mut warnings));
    let cosign = build_cosign(config, &providers, &mut errors);
    let registry = build_registry(config, &mut errors, &mut warnings);
    if !errors.list.is_empty() {
        return Err(errors.list);
    }
    let registry = registry.ok_or_else(Vec::new)?;
    let engine = Engine::new(
        EngineConfig {
            mode: config.mode,
            require: config.require,
            notation,
            cosign,
            accept_platform_signatures: config.accept_platform_signatures,
            platform: Platform::current(),
            node: config
                .cri
                .as_ref()
                .map(|c| c.node.clone())
                .unwrap_or_default(),
        },
        clock,
    );
    Ok(Built {
        engine,
        registry,
        warnings,
    })
}

/// Key providers that hold public keys must hold readable PEM public keys
/// (certificate providers are checked as trust stores).
fn check_key_providers(
    config: &Config,
    providers: &BTreeMap<String, Arc<dyn KeyProvider>>,
    errors: &mut Errors<'_>,
) {
    for p in config
        .key_providers
        .iter()
        .filter(|p| p.content_type == ContentType::Key)
    {
        let Some(provider) = providers.get(&p.name) else {
            continue;
        };
        match provider.load() {
            Err(e) => errors.add(&p.key, e.to_string()),
            Ok(items) => {
                for item in items {
                    let problem = match &item.content {
                        ItemContent::NotRegular => Some("not a regular file".to_string()),
                        ItemContent::Bytes(b) => parse_public_keys(b).err(),
                    };
                    if let Some(problem) = problem {
                        errors.add(&p.key, format!("{}: {problem}", item.source));
                    }
                }
            }
        }
    }
}

/// The Cosign verifier: each policy's keys loaded from its providers (a
/// `name` picks one item of a provider that holds several), its Rekor keys
/// (ECDSA only) and its Fulcio roots.
fn build_cosign(
    config: &Config,
    providers: &BTreeMap<String, Arc<dyn KeyProvider>>,
    errors: &mut Errors<'_>,
) -> Option<CosignVerifier> {
    if config.cosign.is_empty() {
        return None;
    }
    let policies =
        CosignPolicies::new(config.cosign.iter().map(|c| c.policy.clone()).collect()).ok()?;
    let mut keys = BTreeMap::new();
    let mut rekor_keys = BTreeMap::new();
    let mut fulcio_roots = BTreeMap::new();
    let mut bundles = BTreeMap::new();
    for c in &config.cosign {
        let mut list = Vec::new();
        let mut bundle_keys = Vec::new();
        for (i, k) in c.policy.keys.iter().enumerate() {
            let at = format!("{}.keys[{i}]", c.path);
            if k.version.is_some() {
                errors.add(
                    &format!("{at}.version"),
                    "key versions are Azure Key Vault's, which is not available in this build yet",
                );
            }
            let Some(provider) = providers.get(&k.provider) else {
                continue;
            };
            let items = match provider.load() {
                Ok(items) => items,
                Err(e) => {
                    errors.add(&at, e.to_string());
                    continue;
                }
            };
            let mut matched = false;
            for item in items {
                let stem = std::path::Path::new(&item.source)
                    .file_stem()
                    .map(|s| s.to_string_lossy().to_string());
                if let Some(name) = &k.name
                    && *name != item.source
                    && stem.as_deref() != Some(name.as_str())
                {
                    continue;
                }
                matched = true;
                if let ItemContent::Bytes(bytes) = &item.content {
                    let source = format!("key provider {:?} ({})", k.provider, item.source);
                    match CosignKey::from_pem(bytes, k.hash, &source) {
                        Ok(v) => list.extend(v),
                        Err(e) => errors.add(&at, format!("{}: {e}", item.source)),
                    }
                    if let Ok(v) = BundleKey::from_pem(bytes, k.hash, &source) {
                        bundle_keys.extend(v);
                    }
                }
            }
            if let (Some(name), false) = (&k.name, matched) {
                errors.add(
                    &format!("{at}.name"),
                    format!("key provider {:?} holds no key named {name:?}", k.provider),
                );
            }
        }
        keys.insert(c.policy.name.clone(), list);
        if let Some(name) = &c.policy.rekor_keys {
            let at = format!("{}.rekor_keys", c.path);
            let loaded = load_rekor_keys(providers.get(name), name, &at, errors);
            rekor_keys.insert(c.policy.name.clone(), loaded);
        }
        if let Some(name) = c
            .policy
            .keyless
            .as_ref()
            .and_then(|k| k.fulcio_roots.as_ref())
        {
            let at = format!("{}.keyless.fulcio_roots", c.path);
            let loaded = load_certificates(providers.get(name), name, &at, errors);
            fulcio_roots.insert(c.policy.name.clone(), loaded);
        }
        // A Sigstore trusted root: its Rekor v1 keys and Fulcio CAs serve the
        // legacy path too (beside any providers), and it is the bundles' root.
        let root = match &c.policy.trusted_root {
            Some(path) => {
                let at = format!("{}.trusted_root", c.path);
                let Some(root) = load_trusted_root(Path::new(path), &at, errors) else {
                    continue;
                };
                let name = &c.policy.name;
                let derived_rekor: Vec<RekorKey> = root
                    .tlogs
                    .iter()
                    .filter_map(|t| {
                        RekorKey::new(
                            t.key.clone(),
                            &t.spki_der,
                            &format!("trusted root log {}", t.base_url),
                        )
                        .ok()
                    })
                    .collect();
                rekor_keys
                    .entry(name.clone())
                    .or_insert_with(Vec::new)
                    .extend(derived_rekor);
                let derived_roots = root
                    .certificate_authorities
                    .iter()
                    .flat_map(|ca| ca.chain.iter().cloned());
                fulcio_roots
                    .entry(name.clone())
                    .or_insert_with(Vec::new)
                    .extend(derived_roots);
                root
            }
            None => TrustedRoot::from_legacy(
                rekor_keys
                    .get(&c.policy.name)
                    .map(Vec::as_slice)
                    .unwrap_or_default(),
                fulcio_roots
                    .get(&c.policy.name)
                    .map(Vec::as_slice)
                    .unwrap_or_default(),
            ),
        };
        let mut policy = match &c.policy.keyless {
            Some(k) => match IdentityPolicy::new(k) {
                Ok(identity) => BundlePolicy::keyless(identity),
                Err(e) => {
                    errors.add(&format!("{}.keyless", c.path), e);
                    continue;
                }
            },
            None => BundlePolicy::keys(),
        };
        if !c.policy.tlog_verify {
            policy.tlog_threshold = 0;
            policy.timestamp_threshold = 0;
        }
        if root.ctlogs.is_empty() {
            // SCTs are checked where the trusted root names CT logs.
            policy.sct_threshold = 0;
        }
        bundles.insert(
            c.policy.name.clone(),
            BundleCheck {
                trust: BundleTrust {
                    root,
                    keys: bundle_keys,
                },
                policy,
            },
        );
    }
    Some(CosignVerifier {
        policies,
        keys,
        rekor_keys,
        fulcio_roots,
        bundles,
        max_signatures: DEFAULT_MAX_SIGNATURES,
    })
}

/// The largest trusted root document read.
const MAX_TRUSTED_ROOT_BYTES: u64 = 4 << 20;

fn load_trusted_root(path: &Path, at: &str, errors: &mut Errors<'_>) -> Option<TrustedRoot> {
    let shown = path.display();
    let parsed = read_bounded(path, MAX_TRUSTED_ROOT_BYTES)
        .map_err(|e| e.to_string())
        .and_then(|b| TrustedRoot::parse(&b));
    match parsed {
        Ok(root) => Some(root),
        Err(e) => {
            errors.add(at, format!("{shown}: {e}"));
            None
        }
    }
}

/// Everything `provider` holds, or nothing with the error recorded at `at`.
fn load_items(
    provider: Option<&Arc<dyn KeyProvider>>,
    at: &str,
    errors: &mut Errors<'_>,
) -> Vec<Item> {
    let Some(provider) = provider else {
        return Vec::new();
    };
    provider.load().unwrap_or_else(|e| {
        errors.add(at, e.to_string());
        Vec::new()
    })
}

/// Every public key of a `key` provider as a Rekor key (ECDSA only, as
/// containers/image requires); at least one.
fn load_rekor_keys(
    provider: Option<&Arc<dyn KeyProvider>>,
    name: &str,
    at: &str,
    errors: &mut Errors<'_>,
) -> Vec<RekorKey> {
    let mut out = Vec::new();
    for item in load_items(provider, at, errors) {
        if let ItemContent::Bytes(bytes) = &item.content {
            let source = format!("key provider {name:?} ({})", item.source);
            match RekorKey::from_pem(bytes, &source) {
                Ok(v) => out.extend(v),
                Err(e) => errors.add(at, e),
            }
        }
    }
    if out.is_empty() {
        errors.add(
            at,
            format!("key provider {name:?} holds no Rekor public key"),
        );
    }
    out
}

/// Every certificate of a `certificate` provider; at least one.
fn load_certificates(
    provider: Option<&Arc<dyn KeyProvider>>,
    name: &str,
    at: &str,
    errors: &mut Errors<'_>,
) -> Vec<Cert> {
    let mut out = Vec::new();
    for item in load_items(provider, at, errors) {
        match &item.content {
            ItemContent::Bytes(bytes) => match parse_certificates(bytes) {
                Ok(certs) => out.extend(certs),
                Err(e) => errors.add(at, format!("key provider {name:?} ({}): {e}", item.source)),
            },
            ItemContent::NotRegular => errors.add(
                at,
                format!(
                    "key provider {name:?} ({}): not a regular file",
                    item.source
                ),
            ),
        }
    }
    if out.is_empty() {
        errors.add(at, format!("key provider {name:?} holds no certificate"));
    }
    out
}

fn build_notation(
    config: &Config,
    n: &NotationConfig,
    providers: &BTreeMap<String, Arc<dyn KeyProvider>>,
    purpose: Purpose,
    errors: &mut Errors<'_>,
    warnings: &mut Vec<String>,
) -> Option<NotaryVerifier> {
    let key = "notation.trust_policy";
    let shown = n.trust_policy.display();
    let bytes = match read_bounded(&n.trust_policy, MAX_POLICY_BYTES) {
        Ok(b) => b,
        Err(e) => {
            errors.add(key, format!("{shown}: {e}"));
            return None;
        }
    };
    let policy = match TrustPolicyDocument::parse(&bytes) {
        Ok(p) => p,
        Err(e) => {
            errors.add(key, format!("{shown}: {e}"));
            return None;
        }
    };
    let mut stores = TrustStores::default();
    for (name, (store, provider_names)) in &n.trust_stores {
        let list: Vec<Arc<dyn KeyProvider>> = provider_names
            .iter()
            .filter_map(|p| providers.get(p).cloned())
            .collect();
        match load_store(store, &list) {
            Ok(certs) => stores.insert(store, certs),
            Err(e) => errors.add(&format!("notation.trust_stores.{name:?}"), e.to_string()),
        }
    }
    for statement in policy.statements() {
        let level = statement.level();
        if !level.is_skip() && level.action(ValidationType::Authenticity) != Action::Enforce {
            warnings.push(format!(
                "{shown}: trust policy statement {:?} (scopes {}) does not enforce authenticity (level {:?}{}): an image signed by any certificate is admitted, only logged",
                statement.name(),
                statement.registry_scopes().join(", "),
                level.name().as_str(),
                if level.name().as_str() == "audit" { "" } else { " with an override" },
            ));
        }
        for scope in statement.registry_scopes().iter().filter(|s| *s != "*") {
            if let Some(named) = pullgate_registry::scope_respelled(scope, false) {
                errors.add(
                    key,
                    format!(
                        "{shown}: trust policy statement {:?} has registry scope {scope:?}, which no image matches: references are normalised as Docker and containerd do, so write {named:?}",
                        statement.name()
                    ),
                );
            }
        }
        for store in statement.trust_stores() {
            if !n.trust_stores.values().any(|(s, _)| s == store) {
                errors.add(
                    "notation.trust_stores",
                    format!(
                        "trust policy statement {:?} in {shown} uses trust store \"{store}\", which is not mapped to key providers: the trust store {:?} of type {:?} does not exist",
                        statement.name(),
                        store.name,
                        store.kind.to_string()
                    ),
                );
            }
        }
    }
    let revocation = Checker::new(RevocationSettings {
        mode: match n.revocation.mode {
            RevocationMode::Online => Mode::Online,
            RevocationMode::Offline => Mode::Offline,
        },
        crl_dir: n.revocation.crl_dir.clone(),
        cache_dir: (purpose == Purpose::Serve).then(|| config.state_dir.join("crl")),
        timeout: n.revocation.timeout,
        url_rewrite: n.revocation.url_rewrite.clone(),
    });
    let revocation = match revocation {
        Ok(r) => r,
        Err(e) => {
            errors.add("notation.revocation", e.to_string());
            return None;
        }
    };
    Some(NotaryVerifier {
        policy,
        stores,
        revocation: Arc::new(revocation),
        max_signatures: n.max_signatures,
    })
}

fn build_registry(
    config: &Config,
    errors: &mut Errors<'_>,
    warnings: &mut Vec<String>,
) -> Option<RegistryClient> {
    let mut client = ClientConfig::default();
    for (host, r) in &config.registries {
        let key = format!("registry.{host:?}");
        let ca_pem = match &r.ca_file {
            Some(path) => match read_bounded(path, MAX_CA_FILE_BYTES) {
                Ok(b) => Some(b),
                Err(e) => {
                    errors.add(
                        &format!("{key}.ca_file"),
                        format!("{}: {e}", path.display()),
                    );
                    None
                }
            },
            None => None,
        };
        let credentials = match (&r.username, &r.password) {
            (Some(u), Some(p)) => Some(Credentials::basic(u, p)),
            _ => None,
        };
        client.hosts.insert(
            host.clone(),
            HostSettings {
                insecure: r.insecure,
                ca_pem,
                credentials,
            },
        );
    }
    if let Some(path) = &config.docker_config {
        match DockerConfig::load(path) {
            Ok(d) => {
                if !d.ignored_helpers().is_empty() {
                    warnings.push(format!(
                        "{}: credential helpers are not run by pullgate: {}",
                        path.display(),
                        d.ignored_helpers().join(", ")
                    ));
                }
                client.docker_config = Some(d);
            }
            Err(e) => errors.add("docker_config", e.to_string()),
        }
    }
    match RegistryClient::new(client) {
        Ok(c) => Some(c),
        Err(e) => {
            errors.add("registry", e.to_string());
            None
        }
    }
}
