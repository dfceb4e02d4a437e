use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::*;
use pullgate_verify::SystemClock;

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/notation")
}

fn errors(text: &str) -> Vec<String> {
    match parse(Path::new("/etc/pullgate/config.toml"), text) {
        Ok(_) => Vec::new(),
        Err(list) => list.iter().map(ToString::to_string).collect(),
    }
}

fn has(list: &[String], needle: &str) {
    assert!(
        list.iter().any(|e| e.contains(needle)),
        "no error containing {needle:?} in {list:#?}"
    );
}

const MINIMAL: &str = r#"
[[key_provider]]
name = "ca-certs"
type = "file"
path = "certs"
[notation]
trust_policy = "trustpolicy.json"
[notation.trust_stores]
"ca:certs" = ["ca-certs"]
"#;

#[test]
fn minimal_configuration_with_defaults() {
    let cfg = parse(Path::new("/etc/pullgate/config.toml"), MINIMAL).unwrap();
    assert_eq!(cfg.mode, pullgate_verify::Mode::Enforce);
    assert_eq!(cfg.require, pullgate_verify::Require::Any);
    assert_eq!(cfg.cache_ttl, std::time::Duration::from_secs(300));
    assert_eq!(cfg.state_dir, PathBuf::from("/var/lib/pullgate"));
    assert_eq!(cfg.admin.listen, "127.0.0.1:9099");
    let n = cfg.notation.unwrap();
    assert_eq!(
        n.trust_policy,
        PathBuf::from("/etc/pullgate/trustpolicy.json")
    );
    assert_eq!(n.max_signatures, 100);
    match &cfg.key_providers[0].source {
        ProviderSource::File(p) => assert_eq!(p, &PathBuf::from("/etc/pullgate/certs")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_contracts_gatekeeper_table_with_a_fractional_deadline() {
    let text = format!(
        "{MINIMAL}[gatekeeper]\nlisten = \"0.0.0.0:6001\"\ntls_cert = \"tls/tls.crt\"\ntls_key = \"tls/tls.key\"\nclient_ca = \"tls/gatekeeper-ca.crt\"\ndeadline = \"2.5s\"\n"
    );
    let cfg = parse(Path::new("/etc/pullgate/config.toml"), &text).unwrap();
    let gk = cfg.gatekeeper.unwrap();
    assert_eq!(gk.deadline, std::time::Duration::from_millis(2500));
    assert_eq!(gk.tls_cert, PathBuf::from("/etc/pullgate/tls/tls.crt"));
}

#[test]
fn every_problem_is_reported_with_its_key() {
    let list = errors(
        r#"
mode = "enforcing"
require = 3
cache_ttl = "5 minutes"
colour = "blue"
[[key_provider]]
name = "a"
type = "inline"
[[key_provider]]
name = "a"
type = "file"
path = "x"
content_type = "key"
extra = 1
[notation]
trust_policy = "tp.json"
max_signatures = 0
[notation.trust_stores]
"ca" = ["a"]
"tsa:ok" = ["missing"]
"ca:keys" = ["a"]
"signingAuthority:n" = ["a", 5]
[notation.revocation]
mode = "sometimes"
timeout = "5m"
[registry."bad host!"]
insecure = "yes"
username = "u"
[cri]
allowed_uids = [-1]
allow_digests = ["sha256:nope"]
break_glass = ["Not A Ref"]
[admin]
listen = "localhost"
[gatekeeper]
listen = "0.0.0.0:6001"
"#,
    );
    has(
        &list,
        "mode: \"enforcing\" is not one of \"enforce\", \"audit\"",
    );
    has(&list, "require: expected a string, found an integer");
    has(&list, "cache_ttl: \"5 minutes\" is not a duration");
    let bounds = errors(&format!(
        "cache_ttl = \"1s\"\nnegative_cache_ttl = \"2h\"\n{MINIMAL}"
    ));
    has(&bounds, "cache_ttl: must be at least 10s and at most 168h");
    has(&bounds, "negative_cache_ttl: must be at most 1h");
    has(&list, "colour: unknown key");
    has(&list, "key_provider[0].value: is required");
    has(
        &list,
        "key_provider[1].name: key provider \"a\" is defined twice",
    );
    has(&list, "key_provider[1].extra: unknown key");
    has(&list, "notation.max_signatures: 0 is out of range");
    has(&list, "malformed trust store value \"ca\"");
    has(
        &list,
        "names key provider \"missing\", which is not defined",
    );
    has(&list, "key provider \"a\" holds keys, not certificates");
    has(
        &list,
        "notation.trust_stores.\"signingAuthority:n\"[1]: expected a key provider name (a string)",
    );
    has(
        &list,
        "notation.revocation.mode: \"sometimes\" is not one of",
    );
    has(&list, "notation.revocation.timeout: must be at most 30s");
    has(&list, "is not a registry host[:port]");
    has(&list, "insecure: expected a boolean, found a string");
    has(&list, "username and password go together");
    has(&list, "cri.allowed_uids[0]: expected a user id");
    has(&list, "cri.allow_digests[0]: \"sha256:nope\": ");
    has(
        &list,
        "cri.break_glass[0]: \"Not A Ref\" is neither a digest nor an image reference",
    );
    has(&list, "admin.listen: \"localhost\" is not an address:port");
    has(&list, "gatekeeper.tls_cert: is required");
    assert!(
        list.iter()
            .all(|e| e.starts_with("/etc/pullgate/config.toml: ")),
        "{list:#?}"
    );
}

#[test]
fn cosign_policies_are_read_and_checked_as_a_set() {
    let dir = tempfile::tempdir().unwrap();
    let key = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE1ZBnX6+sQK3DdzITPXfLpcvSpIR6\npMgnx9dzMW9g0fOWbUzaJnSFIqEbb/NVXrV68tLp2T+P5hHKf5jlj4DR4Q==\n-----END PUBLIC KEY-----\n";
    let good = format!(
        r#"
[[key_provider]]
name = "keys"
type = "inline"
content_type = "key"
value = """{key}"""
[[key_provider]]
name = "certs"
type = "inline"
value = "x"
[[cosign.trust_policy]]
name = "team"
scopes = ["myacr.azurecr.io/team/*"]
keys = [{{ provider = "keys", hash = "sha384" }}]
tlog_verify = false
[[cosign.trust_policy]]
name = "rest"
scopes = ["*"]
keys = [{{ provider = "keys" }}]
tlog_verify = false
"#
    );
    let path = dir.path().join("c.toml");
    let cfg = super::parse(
        &path,
        &good.replace(
            "[[key_provider]]\nname = \"certs\"\ntype = \"inline\"\nvalue = \"x\"\n",
            "",
        ),
    )
    .unwrap();
    assert_eq!(cfg.cosign.len(), 2);
    assert_eq!(
        cfg.cosign[0].policy.keys[0].hash,
        pullgate_policy::cosign::KeyHash::Sha384
    );
    assert!(!cfg.cosign[1].policy.tlog_verify);

    // Scopes no normalised reference can match are errors that say how to
    // write them.
    let respelled = super::parse(
        &path,
        &good
            .replace(
                "[[key_provider]]\nname = \"certs\"\ntype = \"inline\"\nvalue = \"x\"\n",
                "",
            )
            .replace(
                "scopes = [\"myacr.azurecr.io/team/*\"]",
                "scopes = [\"docker.io/nginx\", \"index.docker.io/team/*\", \"docker.io/*\"]",
            ),
    )
    .unwrap_err();
    let list: Vec<String> = respelled.iter().map(ToString::to_string).collect();
    has(
        &list,
        "cosign.trust_policy[0].scopes[0]: no image matches this scope: references are normalised as Docker and containerd do, so write \"docker.io/library/nginx\"",
    );
    has(
        &list,
        "cosign.trust_policy[0].scopes[1]: no image matches this scope: references are normalised as Docker and containerd do, so write \"docker.io/team/*\"",
    );
    assert_eq!(list.len(), 2, "{list:?}");

    let bad = format!(
        r#"
[[key_provider]]
name = "keys"
type = "inline"
content_type = "key"
value = """{key}"""
[[key_provider]]
name = "certs"
type = "inline"
value = "x"
[[cosign.trust_policy]]
name = "a"
scopes = ["myacr.azurecr.io", "*"]
keys = [{{ provider = "certs" }}, {{ provider = "nope", hash = "md5" }}]
tlog_verify = false
[[cosign.trust_policy]]
name = "b"
scopes = ["*"]
keys = [{{ provider = "keys", colour = "red" }}]
tlog_verify = false
keyless = {{ issuer = "https://token.actions.githubusercontent.com" }}
"#
    );
    let list: Vec<String> = super::parse(&path, &bad)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
    has(
        &list,
        "cosign.trust_policy[0].scopes[0]: scope \"myacr.azurecr.io\" names a registry, not a repository",
    );
    has(
        &list,
        "cosign.trust_policy[0].keys[1].hash: \"md5\" is not one of",
    );
    has(
        &list,
        "cosign.trust_policy[0].keys[0].provider: key provider \"certs\" holds certificates, not keys",
    );
    has(&list, "cosign.trust_policy[1].keys[0].colour: unknown key");
    has(
        &list,
        "cosign.trust_policy[1].keyless.identity: a keyless policy needs identity or identity_regexp",
    );
    has(
        &list,
        "cosign.trust_policy[1].keyless.fulcio_roots: a keyless policy needs fulcio_roots",
    );
    has(
        &list,
        "cosign.trust_policy[1].scopes: scope * is also in policy \"a\"",
    );
}

#[test]
fn features_of_later_issues_are_refused_honestly() {
    let list = errors(&format!(
        "{MINIMAL}\n[[cosign.trust_policy]]\nname = \"default\"\nscopes = [\"*\"]\n[registry.\"myacr.azurecr.io\"]\nauth = \"azure\"\n"
    ));
    has(
        &list,
        "cosign.trust_policy[0].tlog_verify: is true (the default) but neither rekor_keys nor trusted_root gives the Rekor public keys",
    );
    let later = errors(&format!(
        "{MINIMAL}\n[[cosign.trust_policy]]\nname = \"default\"\nscopes = [\"*\"]\ntrusted_root = \"root.json\"\nkeyless = {{ identity = \"me@example.com\", ctlog_keys = \"ct\" }}\n"
    ));
    has(
        &later,
        "cosign.trust_policy[0].keyless.ctlog_keys: SCT verification with CT log keys from a key provider is not available in this build yet",
    );
    has(
        &list,
        "\"azure\" registry auth is not available in this build of pullgate yet",
    );
    let list = errors(
        "[[key_provider]]\nname = \"akv\"\ntype = \"azurekeyvault\"\nvault_uri = \"https://v.vault.azure.net/\"\n",
    );
    has(
        &list,
        "\"azurekeyvault\" key providers are not available in this build of pullgate yet",
    );
    has(&list, "configures no verifier");
    has(
        &errors("not toml ["),
        "/etc/pullgate/config.toml: not valid TOML",
    );
}

fn build_errors(path: &Path) -> Vec<String> {
    let cfg = load(path).unwrap_or_else(|e| panic!("{e:?}"));
    match build(&cfg, Arc::new(SystemClock), Purpose::OneShot) {
        Ok(_) => Vec::new(),
        Err(list) => list.iter().map(ToString::to_string).collect(),
    }
}

/// Writes `dir/config.toml`: Notation with the trust policy `policy` and the
/// vectors' e2e CA as trust store `ca:e2e`; `top` goes before the tables,
/// `notation` after the trust stores (a `[notation.revocation]` table).
fn e2e_notation_config(dir: &Path, policy: &Path, top: &str, notation: &str) -> PathBuf {
    let e2e = vectors().join("truststores/notation-e2e/x509/ca/e2e");
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            "{top}\n[notation]\ntrust_policy = {policy:?}\n[notation.trust_stores]\n\"ca:e2e\" = [\"e2e\"]\n{notation}\n[[key_provider]]\nname = \"e2e\"\ntype = \"file\"\npath = {e2e:?}\n"
        ),
    )
    .unwrap();
    path
}

/// `path` loaded and built for a one-shot command; it must be valid.
fn built(path: &Path) -> Built {
    let cfg = load(path).unwrap_or_else(|e| panic!("{e:?}"));
    build(&cfg, Arc::new(SystemClock), Purpose::OneShot).unwrap_or_else(|e| panic!("{e:?}"))
}

#[test]
fn notation_scopes_no_reference_matches_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("tp.json");
    std::fs::write(
        &policy,
        r#"{"version":"1.0","trustPolicies":[{"name":"hub","registryScopes":["docker.io/nginx","docker.io/library/redis"],
        "signatureVerification":{"level":"strict"},"trustStores":["ca:e2e"],"trustedIdentities":["*"]}]}"#,
    )
    .unwrap();
    let list = build_errors(&e2e_notation_config(dir.path(), &policy, "", ""));
    has(
        &list,
        "trust policy statement \"hub\" has registry scope \"docker.io/nginx\", which no image matches: references are normalised as Docker and containerd do, so write \"docker.io/library/nginx\"",
    );
    assert_eq!(list.len(), 1, "{list:?}");
}

#[test]
fn documents_are_loaded_and_checked_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let policy = vectors().join("trustpolicies/notation-e2e/trustpolicy.json");
    let e2e = vectors().join("truststores/notation-e2e/x509/ca/e2e");
    // Tables must come after top-level keys: put [notation.trust_stores] last.
    let write = |stores: &str, policy: &Path| {
        let text = format!(
            "state_dir = {:?}\n[notation]\ntrust_policy = {policy:?}\n{stores}",
            dir.path().join("state")
        );
        let path = dir.path().join("config.toml");
        std::fs::write(&path, text).unwrap();
        path
    };
    let providers = format!("[[key_provider]]\nname = \"e2e\"\ntype = \"file\"\npath = {e2e:?}\n");
    let path = write(
        &format!("[notation.trust_stores]\n\"ca:e2e\" = [\"e2e\"]\n{providers}"),
        &policy,
    );
    assert_eq!(build_errors(&path), Vec::<String>::new());

    // The policy names a store nothing maps.
    let path = write(
        &format!("[notation.trust_stores]\n\"ca:other\" = [\"e2e\"]\n{providers}"),
        &policy,
    );
    let list = build_errors(&path);
    has(
        &list,
        "uses trust store \"ca:e2e\", which is not mapped to key providers: the trust store \"e2e\" of type \"ca\" does not exist",
    );

    // An invalid trust policy document, with notation-go's text.
    let bad_policy = vectors()
        .join("trustpolicies/notation-e2e/wildcard_plus_other_registry_scope_trustpolicy.json");
    let path = write(
        &format!("[notation.trust_stores]\n\"ca:e2e\" = [\"e2e\"]\n{providers}"),
        &bad_policy,
    );
    has(
        &build_errors(&path),
        "oci trust policy statement \"e2e\" uses wildcard registry scope '*', a wildcard scope cannot be used in conjunction with other scope values",
    );

    // A store whose directory holds a leaf certificate.
    let leafy = vectors().join("truststores/notation-go/x509/ca/trust-store-with-leaf-certs");
    let path = write(
        &format!(
            "[notation.trust_stores]\n\"ca:e2e\" = [\"leafy\"]\n[[key_provider]]\nname = \"leafy\"\ntype = \"file\"\npath = {leafy:?}\n"
        ),
        &policy,
    );
    has(
        &build_errors(&path),
        "failed to validate the trusted certificate non-ca.crt in trust store e2e of type ca",
    );

    // A missing policy file and a missing provider path.
    let path = write(
        "[notation.trust_stores]\n\"ca:e2e\" = [\"gone\"]\n[[key_provider]]\nname = \"gone\"\ntype = \"file\"\npath = \"nowhere\"\n",
        &dir.path().join("absent.json"),
    );
    let list = build_errors(&path);
    has(&list, "notation.trust_policy: ");
    has(&list, "absent.json");
}

#[test]
fn inline_certificates_and_key_providers() {
    let dir = tempfile::tempdir().unwrap();
    let policy = vectors().join("trustpolicies/notation-e2e/trustpolicy.json");
    let pem = std::fs::read_to_string(vectors().join("truststores/notation-e2e/localkeys/e2e.crt"))
        .unwrap();
    let write = |extra: &str| {
        let text = format!(
            "state_dir = {:?}\n[notation]\ntrust_policy = {policy:?}\n[notation.trust_stores]\n\"ca:e2e\" = [\"inline\"]\n[[key_provider]]\nname = \"inline\"\ntype = \"inline\"\nvalue = \"\"\"{pem}\"\"\"\n{extra}",
            dir.path().join("state")
        );
        let path = dir.path().join("config.toml");
        std::fs::write(&path, text).unwrap();
        path
    };
    assert_eq!(build_errors(&write("")), Vec::<String>::new());
    let keys = dir.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    std::fs::write(keys.join("bad.pub"), "not a key").unwrap();
    let list = build_errors(&write(&format!(
        "[[key_provider]]\nname = \"cosign\"\ntype = \"file\"\ncontent_type = \"key\"\npath = {keys:?}\n"
    )));
    has(&list, "key_provider[1]: bad.pub: no PEM public key found");
}

fn cosign_vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/cosign/legacy")
}

/// Rekor keys (a `key` provider, ECDSA only) and Fulcio roots (a
/// `certificate` provider) are loaded with the policy; wrong content types,
/// missing providers and non-ECDSA Rekor keys are errors with their keys.
#[test]
fn cosign_transparency_log_and_keyless_trust() {
    let dir = tempfile::tempdir().unwrap();
    let ci = cosign_vectors().join("containers-image");
    let write = |rekor: &Path, roots: &str, policy_extra: &str| {
        let text = format!(
            r#"state_dir = {state:?}
[[key_provider]]
name = "cosign"
type = "file"
content_type = "key"
path = {cosign:?}
[[key_provider]]
name = "rekor"
type = "file"
content_type = "key"
path = {rekor:?}
[[key_provider]]
name = "fulcio"
type = "file"
path = {fulcio:?}
[[cosign.trust_policy]]
name = "keys"
scopes = ["r.io/keys/*"]
keys = [{{ provider = "cosign" }}]
rekor_keys = "rekor"
[[cosign.trust_policy]]
name = "keyless"
scopes = ["*"]
rekor_keys = "rekor"
keyless = {{ identity = "mitr@redhat.com", issuer = "https://github.com/login/oauth", fulcio_roots = {roots:?} }}
{policy_extra}"#,
            state = dir.path().join("state"),
            cosign = ci.join("cosign2.pub"),
            fulcio = ci.join("fulcio_v1.crt.pem"),
        );
        let path = dir.path().join("config.toml");
        std::fs::write(&path, text).unwrap();
        path
    };
    let good = write(&ci.join("rekor.pub"), "fulcio", "");
    let cfg = load(&good).unwrap();
    assert!(cfg.cosign[0].policy.tlog_verify, "the default");
    let built =
        build(&cfg, Arc::new(SystemClock), Purpose::OneShot).unwrap_or_else(|e| panic!("{e:?}"));
    let cosign = built.engine.config().cosign.as_ref().unwrap();
    assert_eq!(
        cosign.rekor_keys["keys"][0].log_id,
        "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d"
    );
    assert_eq!(cosign.fulcio_roots["keyless"].len(), 1);
    assert!(!cosign.fulcio_roots.contains_key("keys"));

    // an RSA key cannot be a Rekor key (containers/image refuses it too)
    let list = build_errors(&write(&ci.join("some-rsa-key.pub"), "fulcio", ""));
    has(
        &list,
        "cosign.trust_policy[0].rekor_keys: key provider \"rekor\" (some-rsa-key.pub): an RSA-4096 key cannot be a Rekor public key",
    );
    // content types and names
    let list = errors(
        &std::fs::read_to_string(write(&ci.join("rekor.pub"), "cosign", ""))
            .unwrap()
            .replace(
                "rekor_keys = \"rekor\"\n[[cosign",
                "rekor_keys = \"fulcio\"\n[[cosign",
            ),
    );
    has(
        &list,
        "cosign.trust_policy[0].rekor_keys: key provider \"fulcio\" holds certificates, not keys",
    );
    has(
        &list,
        "cosign.trust_policy[1].keyless.fulcio_roots: key provider \"cosign\" holds keys, not certificates",
    );
    let list = errors(&std::fs::read_to_string(write(&ci.join("rekor.pub"), "nope", "")).unwrap());
    has(
        &list,
        "cosign.trust_policy[1].keyless.fulcio_roots: names key provider \"nope\", which is not defined",
    );
    // regular expressions are checked when the file is read
    let list = errors(
        &std::fs::read_to_string(write(&ci.join("rekor.pub"), "fulcio", ""))
            .unwrap()
            .replace("identity = \"mitr@redhat.com\"", "identity_regexp = \"([\""),
    );
    has(
        &list,
        "cosign.trust_policy[1].keyless.identity_regexp: \"([\" is not a valid regular expression",
    );
}

/// A Sigstore trusted root (the public-good instance's) gives a policy its
/// bundle root, and its Rekor v1 key and Fulcio CAs for legacy signatures;
/// SCTs are required where it names CT logs. A broken one is reported.
#[test]
fn cosign_trusted_root() {
    let dir = tempfile::tempdir().unwrap();
    let root = cosign_vectors().join("../trust/public-good-trusted_root.json");
    let text = format!(
        r#"state_dir = {state:?}
[[cosign.trust_policy]]
name = "ci"
scopes = ["*"]
trusted_root = {root:?}
keyless = {{ identity_regexp = "^https://github\\.com/org/", issuer = "https://token.actions.githubusercontent.com" }}
"#,
        state = dir.path().join("state"),
    );
    let path = dir.path().join("config.toml");
    std::fs::write(&path, &text).unwrap();
    let cfg = load(&path).unwrap();
    let built =
        build(&cfg, Arc::new(SystemClock), Purpose::OneShot).unwrap_or_else(|e| panic!("{e:?}"));
    let cosign = built.engine.config().cosign.as_ref().unwrap();
    let check = &cosign.bundles["ci"];
    assert!(!check.trust.root.ctlogs.is_empty());
    assert_eq!(check.policy.sct_threshold, 1);
    assert_eq!(check.policy.tlog_threshold, 1);
    assert!(
        cosign.rekor_keys["ci"]
            .iter()
            .any(|k| k.log_id == "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d"),
        "the Rekor v1 key serves legacy SETs"
    );
    assert!(cosign.fulcio_roots["ci"].len() >= 2);

    std::fs::write(dir.path().join("broken.json"), "{\"mediaType\": 1}").unwrap();
    std::fs::write(&path, text.replace(&format!("{root:?}"), "\"broken.json\"")).unwrap();
    let list = build_errors(&path);
    has(&list, "cosign.trust_policy[0].trusted_root: ");
    has(&list, "broken.json");
}

#[test]
fn one_shot_commands_write_nothing_under_state_dir() {
    // Online revocation (the default) keeps a CRL cache under state_dir when
    // serving; `verify` and `check-config` must work for a user who cannot
    // write there.
    let dir = tempfile::tempdir().unwrap();
    let policy = vectors().join("trustpolicies/notation-e2e/trustpolicy.json");
    let unwritable = dir.path().join("a-file");
    std::fs::write(&unwritable, "").unwrap();
    let path = e2e_notation_config(
        dir.path(),
        &policy,
        &format!("state_dir = {:?}", unwritable.join("state")),
        "",
    );
    let cfg = load(&path).unwrap_or_else(|e| panic!("{e:?}"));
    assert!(build(&cfg, Arc::new(SystemClock), Purpose::OneShot).is_ok());
    let serve = build(&cfg, Arc::new(SystemClock), Purpose::Serve)
        .err()
        .expect("serving needs the CRL cache directory");
    has(
        &serve.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "CRL cache directory",
    );
    assert!(!unwritable.join("state").exists());
}

#[test]
fn revocation_settings_are_part_of_the_generation() {
    let dir = tempfile::tempdir().unwrap();
    let policy = vectors().join("trustpolicies/notation-e2e/trustpolicy.json");
    let generation = |revocation: &str| {
        built(&e2e_notation_config(dir.path(), &policy, "", revocation))
            .engine
            .generation()
            .clone()
    };
    let online = generation("");
    assert_eq!(
        online,
        generation("[notation.revocation]\nmode = \"online\"")
    );
    // The timeout changes how long a check may take, not its verdict.
    assert_eq!(
        online,
        generation("[notation.revocation]\nmode = \"online\"\ntimeout = \"3s\"")
    );
    let offline = generation("[notation.revocation]\nmode = \"offline\"");
    assert_ne!(online, offline);
    assert_ne!(
        online,
        generation("[notation.revocation]\nurl_rewrite = { \"http://a/\" = \"http://b/\" }")
    );
}

#[test]
fn a_statement_that_does_not_enforce_authenticity_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let write = |level: &str, extra: &str| {
        let policy = dir.path().join("tp.json");
        std::fs::write(
            &policy,
            format!(
                r#"{{"version":"1.0","trustPolicies":[{{"name":"watch","registryScopes":["*"],
                "signatureVerification":{{"level":"{level}"{extra}}},"trustStores":["ca:e2e"],"trustedIdentities":["*"]}}]}}"#
            ),
        )
        .unwrap();
        built(&e2e_notation_config(dir.path(), &policy, "", "")).warnings
    };
    let audit = write("audit", "");
    assert!(
        audit.iter().any(|w| w.contains(
            "trust policy statement \"watch\" (scopes *) does not enforce authenticity (level \"audit\")"
        )),
        "{audit:?}"
    );
    let overridden = write("strict", r#","override":{"authenticity":"log"}"#);
    assert!(
        overridden.iter().any(|w| w.contains("with an override")),
        "{overridden:?}"
    );
    assert!(write("strict", "").is_empty());
    assert!(write("permissive", "").is_empty());
}
