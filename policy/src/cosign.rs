//! Cosign trust policies (`[[cosign.trust_policy]]` in pullgate's
//! configuration): which keys or which keyless identities (Fulcio certificates) an
//! image's Cosign signatures must verify with, chosen by repository.
//!
//! A scope is `*` (every repository), a repository prefix ending in `/*`
//! (`myacr.azurecr.io/team/*`: every repository below it; `myacr.azurecr.io/*`:
//! every repository of that registry), or one repository
//! (`myacr.azurecr.io/team/app`). Repositories are compared as pullgate
//! normalises references (`nginx` is `docker.io/library/nginx`). The most
//! specific scope wins: a repository, then the longest prefix, then `*`. A
//! scope may appear in one policy only, and `*` stands alone in its policy,
//! so the choice is never ambiguous.

use std::fmt;

/// How a Cosign signature was hashed by its signer, per key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyHash {
    /// SHA-256 whatever the key, as `cosign verify` checks legacy
    /// signatures; Ed25519 keys verify pure Ed25519.
    #[default]
    Sha256,
    /// What Cosign ≥ 2.6 signs with for P-384 keys.
    Sha384,
    /// What Cosign ≥ 2.6 signs with for P-521 keys.
    Sha512,
    /// Pre-hashed Ed25519 (SHA-512), what Cosign ≥ 2.6 signs with for
    /// Ed25519 keys.
    Ed25519ph,
}

impl KeyHash {
    pub fn parse(s: &str) -> Option<KeyHash> {
        Some(match s {
            "sha256" => KeyHash::Sha256,
            "sha384" => KeyHash::Sha384,
            "sha512" => KeyHash::Sha512,
            "ed25519ph" => KeyHash::Ed25519ph,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            KeyHash::Sha256 => "sha256",
            KeyHash::Sha384 => "sha384",
            KeyHash::Sha512 => "sha512",
            KeyHash::Ed25519ph => "ed25519ph",
        }
    }
}

/// Keys from one key provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRef {
    pub provider: String,
    /// A specific key of a provider that holds several (its item name).
    pub name: Option<String>,
    /// A specific version (Key Vault).
    pub version: Option<String>,
    pub hash: KeyHash,
}

/// Where a policy applies.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// `*`.
    All,
    /// `prefix/*`: repositories whose name starts with `prefix/`.
    Prefix(String),
    /// One repository.
    Repository(String),
}

impl Scope {
    /// Parses one scope; the error says what is wrong.
    pub fn parse(s: &str) -> Result<Scope, String> {
        if s == "*" {
            return Ok(Scope::All);
        }
        let (body, prefix) = match s.strip_suffix("/*") {
            Some(b) => (b, true),
            None => (s, false),
        };
        let valid_char =
            |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/:[]".contains(c);
        let host_char = |c: char| c.is_ascii_alphanumeric() || "._-:[]".contains(c);
        if body.is_empty()
            || body.contains('*')
            || body.starts_with('/')
            || body.ends_with('/')
            || body.contains("//")
        {
            return Err(format!(
                "scope {s:?} is not \"*\", a repository, or a prefix ending in \"/*\""
            ));
        }
        let (host, path) = body.split_once('/').unwrap_or((body, ""));
        if !host.chars().all(host_char) || !path.chars().all(valid_char) {
            return Err(format!(
                "scope {s:?} has characters a repository cannot have (names are lowercase)"
            ));
        }
        if !prefix && path.is_empty() {
            return Err(format!(
                "scope {s:?} names a registry, not a repository: write {:?} for all of its repositories",
                format!("{s}/*")
            ));
        }
        Ok(if prefix {
            Scope::Prefix(body.to_string())
        } else {
            Scope::Repository(body.to_string())
        })
    }

    /// How well this scope matches `repository` (higher is more specific),
    /// or None.
    fn rank(&self, repository: &str) -> Option<usize> {
        match self {
            Scope::All => Some(0),
            Scope::Prefix(p) => repository
                .strip_prefix(p.as_str())
                .filter(|rest| rest.starts_with('/'))
                .map(|_| 1 + p.len()),
            Scope::Repository(r) => (r == repository).then_some(usize::MAX),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::All => f.write_str("*"),
            Scope::Prefix(p) => write!(f, "{p}/*"),
            Scope::Repository(r) => f.write_str(r),
        }
    }
}

/// Keyless verification settings (Fulcio certificates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyless {
    /// The OIDC issuer the certificate must name.
    pub issuer: Option<String>,
    pub issuer_regexp: Option<String>,
    /// The certificate's identity (SAN), exactly.
    pub identity: Option<String>,
    pub identity_regexp: Option<String>,
    /// Key provider with the Fulcio root (and intermediate) certificates.
    pub fulcio_roots: Option<String>,
    /// Key provider with the CT logs' public keys (SCT check).
    pub ctlog_keys: Option<String>,
}

/// One `[[cosign.trust_policy]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignPolicy {
    pub name: String,
    pub scopes: Vec<Scope>,
    pub keys: Vec<KeyRef>,
    /// Require a transparency-log entry (Rekor) for each signature.
    pub tlog_verify: bool,
    /// Key provider holding the Rekor public keys.
    pub rekor_keys: Option<String>,
    pub keyless: Option<Keyless>,
    /// A Sigstore TrustedRoot document (path as configured).
    pub trusted_root: Option<String>,
}

/// A problem with the set of policies, naming the policy (by index) and
/// the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicySetError {
    pub index: usize,
    pub key: &'static str,
    pub message: String,
}

/// Every configured Cosign policy, checked together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CosignPolicies {
    policies: Vec<CosignPolicy>,
}

impl CosignPolicies {
    /// Checks the set: unique names, at least one scope each, `*` alone in
    /// its policy, no scope in two policies, and keys or keyless settings.
    pub fn new(policies: Vec<CosignPolicy>) -> Result<CosignPolicies, Vec<PolicySetError>> {
        let mut errors = Vec::new();
        let mut err = |index: usize, key: &'static str, message: String| {
            errors.push(PolicySetError {
                index,
                key,
                message,
            })
        };
        let mut seen_scopes: Vec<(&Scope, usize)> = Vec::new();
        for (i, p) in policies.iter().enumerate() {
            if p.name.is_empty() {
                err(i, "name", "is empty".into());
            }
            if let Some(first) = policies[..i].iter().position(|q| q.name == p.name) {
                err(
                    i,
                    "name",
                    format!("policy {:?} is defined twice (also policy {first})", p.name),
                );
            }
            if p.scopes.is_empty() {
                err(i, "scopes", "needs at least one scope".into());
            }
            if p.scopes.contains(&Scope::All) && p.scopes.len() > 1 {
                err(
                    i,
                    "scopes",
                    "\"*\" covers every repository and cannot be combined with other scopes".into(),
                );
            }
            for s in &p.scopes {
                match seen_scopes.iter().find(|(t, _)| *t == s) {
                    Some((_, other)) if *other == i => {
                        err(i, "scopes", format!("scope {s} is listed twice"))
                    }
                    Some((_, other)) => err(
                        i,
                        "scopes",
                        format!(
                            "scope {s} is also in policy {:?}: which applies would be ambiguous",
                            policies[*other].name
                        ),
                    ),
                    None => seen_scopes.push((s, i)),
                }
            }
            if p.keys.is_empty() && p.keyless.is_none() {
                err(
                    i,
                    "keys",
                    "a policy needs keys or keyless settings to verify anything".into(),
                );
            }
            if let Some(k) = &p.keyless {
                check_keyless(k, p.trusted_root.is_some(), &mut |key, message| {
                    err(i, key, message)
                });
            }
            if p.tlog_verify && p.rekor_keys.is_none() && p.trusted_root.is_none() {
                err(
                    i,
                    "tlog_verify",
                    "is true (the default) but neither rekor_keys nor trusted_root gives the Rekor public keys; set tlog_verify = false for signatures made without the transparency log".into(),
                );
            }
        }
        if errors.is_empty() {
            Ok(CosignPolicies { policies })
        } else {
            Err(errors)
        }
    }

    pub fn policies(&self) -> &[CosignPolicy] {
        &self.policies
    }

    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    /// The policy for `repository` (normalised, `registry/name`): the most
    /// specific scope wins.
    pub fn applicable(&self, repository: &str) -> Option<&CosignPolicy> {
        self.policies
            .iter()
            .flat_map(|p| {
                p.scopes
                    .iter()
                    .filter_map(move |s| s.rank(repository).map(|r| (r, p)))
            })
            .max_by_key(|(r, _)| *r)
            .map(|(_, p)| p)
    }
}

/// A keyless policy names who signs (an identity and its OIDC issuer, as
/// cosign requires one of `--certificate-identity[-regexp]` and one of
/// `--certificate-oidc-issuer[-regexp]`), where the certificates chain to, and
/// at most one of each exact/regexp pair; regular expressions must compile.
fn check_keyless(k: &Keyless, trusted_root: bool, err: &mut dyn FnMut(&'static str, String)) {
    if k.identity.is_none() && k.identity_regexp.is_none() {
        err(
            "keyless.identity",
            "a keyless policy needs identity or identity_regexp (the certificate's subject alternative name): without one, any certificate of the CA would be accepted".into(),
        );
    }
    if k.issuer.is_none() && k.issuer_regexp.is_none() {
        err(
            "keyless.issuer",
            "a keyless policy needs issuer or issuer_regexp (the OIDC issuer that vouched for the identity), as cosign requires; for certificates without the issuer extension (a private CA), issuer_regexp = \".*\"".into(),
        );
    }
    if k.identity.is_some() && k.identity_regexp.is_some() {
        err(
            "keyless.identity_regexp",
            "identity and identity_regexp cannot both be set".into(),
        );
    }
    if k.issuer.is_some() && k.issuer_regexp.is_some() {
        err(
            "keyless.issuer_regexp",
            "issuer and issuer_regexp cannot both be set".into(),
        );
    }
    for (key, pattern) in [
        ("keyless.identity_regexp", &k.identity_regexp),
        ("keyless.issuer_regexp", &k.issuer_regexp),
    ] {
        if let Some(p) = pattern
            && let Err(e) = compile_regexp(p)
        {
            err(key, e);
        }
    }
    if k.fulcio_roots.is_none() && !trusted_root {
        err(
            "keyless.fulcio_roots",
            "a keyless policy needs fulcio_roots (a key provider of certificates) or trusted_root"
                .into(),
        );
    }
}

/// A keyless identity or issuer pattern, compiled. Matching is unanchored,
/// as cosign's (Go's `regexp.MatchString`): write `^…$` to match the whole
/// value.
pub fn compile_regexp(pattern: &str) -> Result<regex::Regex, String> {
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| format!("{pattern:?} is not a valid regular expression: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(name: &str, scopes: &[&str]) -> CosignPolicy {
        CosignPolicy {
            name: name.into(),
            scopes: scopes.iter().map(|s| Scope::parse(s).unwrap()).collect(),
            keys: vec![KeyRef {
                provider: "k".into(),
                name: None,
                version: None,
                hash: KeyHash::Sha256,
            }],
            tlog_verify: false,
            rekor_keys: None,
            keyless: None,
            trusted_root: None,
        }
    }

    #[test]
    fn scopes_parse_and_refuse_what_is_not_a_repository() {
        assert_eq!(Scope::parse("*").unwrap(), Scope::All);
        assert_eq!(
            Scope::parse("myacr.azurecr.io/team/*").unwrap(),
            Scope::Prefix("myacr.azurecr.io/team".into())
        );
        assert_eq!(
            Scope::parse("127.0.0.1:5000/*").unwrap(),
            Scope::Prefix("127.0.0.1:5000".into())
        );
        assert_eq!(
            Scope::parse("docker.io/library/nginx").unwrap(),
            Scope::Repository("docker.io/library/nginx".into())
        );
        for bad in [
            "",
            "a*",
            "host/*/x",
            "host/App",
            "/x",
            "host/",
            "host//x",
            "host",
            "host/x/**",
        ] {
            assert!(Scope::parse(bad).is_err(), "{bad:?}");
        }
        assert!(
            Scope::parse("myacr.azurecr.io")
                .unwrap_err()
                .contains("myacr.azurecr.io/*")
        );
    }

    #[test]
    fn the_most_specific_scope_wins() {
        let set = CosignPolicies::new(vec![
            policy("all", &["*"]),
            policy("registry", &["r.io/*"]),
            policy("team", &["r.io/team/*"]),
            policy("app", &["r.io/team/app", "other.io/x"]),
        ])
        .unwrap();
        let name = |r: &str| set.applicable(r).map(|p| p.name.as_str());
        assert_eq!(name("r.io/team/app"), Some("app"));
        assert_eq!(name("r.io/team/app2"), Some("team"));
        assert_eq!(name("r.io/team/sub/x"), Some("team"));
        assert_eq!(name("r.io/teams/x"), Some("registry"));
        assert_eq!(name("r.io/x"), Some("registry"));
        assert_eq!(name("other.io/x"), Some("app"));
        assert_eq!(name("other.io/y"), Some("all"));
        let narrow = CosignPolicies::new(vec![policy("team", &["r.io/team/*"])]).unwrap();
        assert!(
            narrow.applicable("r.io/team").is_none(),
            "a prefix covers what is below it"
        );
        assert!(narrow.applicable("s.io/team/x").is_none());
    }

    #[test]
    fn ambiguous_or_empty_sets_are_refused_with_their_keys() {
        let mut no_keys = policy("c", &["r.io/c"]);
        no_keys.keys.clear();
        let mut tlog = policy("d", &["r.io/d"]);
        tlog.tlog_verify = true;
        let errors = CosignPolicies::new(vec![
            policy("a", &["*", "r.io/x"]),
            policy("a", &["r.io/x"]),
            no_keys,
            tlog,
        ])
        .unwrap_err();
        let got: Vec<(usize, &str)> = errors.iter().map(|e| (e.index, e.key)).collect();
        assert_eq!(
            got,
            [
                (0, "scopes"),
                (1, "name"),
                (1, "scopes"),
                (2, "keys"),
                (3, "tlog_verify")
            ]
        );
        assert!(
            errors[2].message.contains("also in policy \"a\""),
            "{errors:?}"
        );
    }

    fn keyless(k: Keyless) -> CosignPolicy {
        CosignPolicy {
            keys: Vec::new(),
            keyless: Some(k),
            ..policy("k", &["*"])
        }
    }

    const GOOD: Keyless = Keyless {
        issuer: None,
        issuer_regexp: None,
        identity: None,
        identity_regexp: None,
        fulcio_roots: None,
        ctlog_keys: None,
    };

    #[test]
    fn keyless_policies_need_an_identity_an_issuer_and_roots() {
        let good = Keyless {
            identity: Some("me@example.com".into()),
            issuer_regexp: Some("^https://github\\.com/".into()),
            fulcio_roots: Some("fulcio".into()),
            ..GOOD
        };
        assert!(CosignPolicies::new(vec![keyless(good.clone())]).is_ok());
        let errors = CosignPolicies::new(vec![keyless(Keyless {
            identity: Some("a".into()),
            identity_regexp: Some("(".into()),
            issuer: Some("i".into()),
            issuer_regexp: Some("i".into()),
            ..GOOD
        })])
        .unwrap_err();
        let got: Vec<&str> = errors.iter().map(|e| e.key).collect();
        assert_eq!(
            got,
            [
                "keyless.identity_regexp",
                "keyless.issuer_regexp",
                "keyless.identity_regexp",
                "keyless.fulcio_roots"
            ]
        );
        assert!(
            errors[2]
                .message
                .contains("\"(\" is not a valid regular expression"),
            "{errors:?}"
        );
        let errors = CosignPolicies::new(vec![keyless(GOOD)]).unwrap_err();
        assert_eq!(errors[0].key, "keyless.identity");
        assert_eq!(errors[1].key, "keyless.issuer");
        // An identity without an issuer: cosign refuses it too.
        let errors = CosignPolicies::new(vec![keyless(Keyless {
            issuer_regexp: None,
            ..good.clone()
        })])
        .unwrap_err();
        let got: Vec<&str> = errors.iter().map(|e| e.key).collect();
        assert_eq!(got, ["keyless.issuer"]);
        assert!(errors[0].message.contains("as cosign requires"));
        // a trusted root stands in for the Fulcio roots
        let mut p = keyless(Keyless {
            fulcio_roots: None,
            ..good
        });
        p.trusted_root = Some("root.json".into());
        assert!(CosignPolicies::new(vec![p]).is_ok());
    }

    #[test]
    fn patterns_match_anywhere_as_in_cosign() {
        let r = compile_regexp("@example\\.com").unwrap();
        assert!(r.is_match("me@example.com"));
        assert!(r.is_match("me@example.com.evil.org"), "unanchored");
        let anchored = compile_regexp("^.*@example\\.com$").unwrap();
        assert!(!anchored.is_match("me@example.com.evil.org"));
    }
}
