//! The Notary Project's OCI layouts (../shared/vectors/notation/oci-layouts),
//! pushed verbatim to the real docker-registry (no referrers API: the
//! tag-schema path) or to the in-process stand-in (referrers API), then
//! verified through `pullgate verify`, with the outcomes of README §1.1.

use std::path::{Path, PathBuf};

use pullgate_registry::RegistryClient;
use pullgate_testsupport::{
    FakeOptions, FakeRegistry, RealRegistry, RegistryOptions, push_oci_layout,
};
use serde_json::Value;

use crate::pullgate;

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/notation")
}

fn layout(name: &str) -> PathBuf {
    vectors().join("oci-layouts/notation-e2e").join(name)
}

/// A pullgate configuration for `host`: one trust policy file (its
/// `localhost:5000` scopes rewritten to `host`) and trust stores from vector
/// directories (`type:name` → directory).
struct Setup {
    dir: tempfile::TempDir,
    host: String,
}

impl Setup {
    fn new(host: &str) -> Setup {
        Setup {
            dir: tempfile::tempdir().unwrap(),
            host: host.to_string(),
        }
    }

    fn config(&self, mode: &str, policy_file: &Path, stores: &[(String, PathBuf)]) -> PathBuf {
        let policy = std::fs::read_to_string(policy_file)
            .unwrap()
            .replace("localhost:5000", &self.host);
        let policy_path = self
            .dir
            .path()
            .join(format!("policy-{}.json", rand_suffix()));
        std::fs::write(&policy_path, policy).unwrap();
        let mut toml = format!(
            "mode = \"{mode}\"\nstate_dir = {:?}\n[registry.\"{}\"]\ninsecure = true\n",
            self.dir.path().join("state"),
            self.host
        );
        let mut map = String::from("[notation.trust_stores]\n");
        for (i, (store, dir)) in stores.iter().enumerate() {
            toml.push_str(&format!(
                "[[key_provider]]\nname = \"p{i}\"\ntype = \"file\"\npath = {dir:?}\n"
            ));
            map.push_str(&format!("{store:?} = [\"p{i}\"]\n"));
        }
        toml.push_str(&format!(
            "[notation]\ntrust_policy = {policy_path:?}\n{map}"
        ));
        let path = self
            .dir
            .path()
            .join(format!("config-{}.toml", rand_suffix()));
        std::fs::write(&path, toml).unwrap();
        path
    }
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::SeqCst).to_string()
}

fn store(kind: &str, name: &str) -> (String, PathBuf) {
    let root = if name.starts_with("testcert") || name.starts_with("alpine") {
        "truststores/derived"
    } else {
        "truststores/notation-e2e"
    };
    (
        format!("{kind}:{name}"),
        vectors().join(root).join("x509").join(kind).join(name),
    )
}

fn policy(name: &str) -> PathBuf {
    vectors().join("trustpolicies/notation-e2e").join(name)
}

/// Runs `pullgate verify --json` and returns the verdict and exit code.
fn verify(config: &Path, image: &str, at: Option<&str>) -> (Value, Option<i32>) {
    crate::verify_json(config, image, at)
}

fn reason(v: &Value) -> String {
    v["reason"].as_str().unwrap_or_default().to_string()
}

async fn pushed(client: &RegistryClient, host: &str, repo: &str, name: &str) -> String {
    let r = pullgate_registry::Repository::new(host, repo).unwrap();
    push_oci_layout(client, &r, &layout(name)).await;
    format!("{host}/{repo}:v1")
}

const TARGET: &str = "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";

#[tokio::test]
async fn layouts_through_the_tag_schema_on_the_real_registry() {
    let reg = RealRegistry::start(RegistryOptions::default());
    let client = reg.client();
    let s = Setup::new(&reg.host);
    let e2e = [store("ca", "e2e")];
    let strict = s.config("enforce", &policy("trustpolicy.json"), &e2e);

    // Unsigned.
    let image = pushed(&client, &reg.host, "e2e/unsigned", "e2e").await;
    let (v, code) = verify(&strict, &image, None);
    assert_eq!((v["allowed"].as_bool(), code), (Some(false), Some(1)));
    assert!(
        reason(&v).contains("no signature is associated with"),
        "{v}"
    );
    assert_eq!(v["digest"], TARGET);

    // A valid signature, listed by the referrers tag index.
    let image = pushed(&client, &reg.host, "e2e/valid", "e2e-valid-signature").await;
    let (v, code) = verify(&strict, &image, None);
    assert_eq!((v["allowed"].as_bool(), code), (Some(true), Some(0)), "{v}");
    assert_eq!(v["digest"], TARGET);
    assert_eq!(v["verifiers"][0]["name"], "notation");
    assert!(
        reason(&v).contains("CN=e2e,O=Notary,L=Seattle,ST=WA,C=US"),
        "{v}"
    );
    let identity = s.config(
        "enforce",
        &policy("valid_trusted_identity_trustpolicy.json"),
        &e2e,
    );
    assert_eq!(verify(&identity, &image, None).0["allowed"], true);
    let wrong_identity = s.config(
        "enforce",
        &policy("invalid_trusted_identity_trustpolicy.json"),
        &e2e,
    );
    let (v, _) = verify(&wrong_identity, &image, None);
    assert_eq!(v["allowed"], false);
    assert!(reason(&v).contains("signing certificate from the digital signature does not match the X.509 trusted identities"), "{v}");

    // Expired signature: strict fails expiry; permissive, audit and the
    // strict override log it.
    let image = pushed(
        &client,
        &reg.host,
        "e2e/expired-sig",
        "e2e-expired-signature",
    )
    .await;
    let (v, _) = verify(&strict, &image, None);
    assert_eq!(v["allowed"], false);
    assert!(reason(&v).contains("digital signature has expired"), "{v}");
    for p in [
        "permissive_trustpolicy.json",
        "audit_trustpolicy.json",
        "override_strict_trustpolicy.json",
    ] {
        let (v, code) = verify(&s.config("enforce", &policy(p), &e2e), &image, None);
        assert_eq!(
            (v["allowed"].as_bool(), code),
            (Some(true), Some(0)),
            "{p}: {v}"
        );
        assert!(
            v["verifiers"][0]["reason"]
                .as_str()
                .unwrap()
                .contains("expiry validation failed (logged)"),
            "{p}: {v}"
        );
    }

    // Invalid signature blob: integrity fails at every level; skip allows.
    let image = pushed(&client, &reg.host, "e2e/invalid", "e2e-invalid-signature").await;
    for p in [
        "trustpolicy.json",
        "permissive_trustpolicy.json",
        "audit_trustpolicy.json",
    ] {
        let (v, _) = verify(&s.config("enforce", &policy(p), &e2e), &image, None);
        assert_eq!(v["allowed"], false, "{p}");
        assert!(
            reason(&v).contains("integrity validation failed"),
            "{p}: {v}"
        );
    }
    let (v, code) = verify(
        &s.config("enforce", &policy("skip_trustpolicy.json"), &[]),
        &image,
        None,
    );
    assert_eq!((v["allowed"].as_bool(), code), (Some(true), Some(0)), "{v}");
    assert!(reason(&v).contains("skips signature verification"), "{v}");

    // Expired signing certificate.
    let image = pushed(
        &client,
        &reg.host,
        "e2e/expired-cert",
        "e2e-with-expired-cert",
    )
    .await;
    let expired = [store("ca", "e2e-expired")];
    let strict_expired = s.config(
        "enforce",
        &rewrite_store(&s, "trustpolicy.json", "ca:e2e", "ca:e2e-expired"),
        &expired,
    );
    let (v, _) = verify(&strict_expired, &image, None);
    assert_eq!(v["allowed"], false);
    assert!(
        reason(&v).contains("verification time is after certificate \"O=Internet Widgits Pty Ltd,ST=Some-State,C=AU\" validity period, it was expired at \"Tue, 27 Jun 2023 06:10:00 +0000\""),
        "{v}"
    );
    let (v, _) = verify(&strict_expired, &image, Some("2023-06-26T12:00:00Z"));
    assert_eq!(v["allowed"], true, "{v}");
    for p in [
        "permissive_trustpolicy.json",
        "audit_trustpolicy.json",
        "override_strict_trustpolicy.json",
    ] {
        let cfg = s.config(
            "enforce",
            &rewrite_store(&s, p, "ca:e2e", "ca:e2e-expired"),
            &expired,
        );
        assert_eq!(verify(&cfg, &image, None).0["allowed"], true, "{p}");
    }

    // Multiple signatures, but the tag index is stale: only the e2e one is listed.
    let image = pushed(
        &client,
        &reg.host,
        "e2e/multi",
        "e2e-valid-multiple-signatures",
    )
    .await;
    assert_eq!(verify(&strict, &image, None).0["allowed"], true);
    let only11 = s.config(
        "enforce",
        &rewrite_store(&s, "trustpolicy.json", "ca:e2e", "ca:testcert11"),
        &[store("ca", "testcert11")],
    );
    let (v, _) = verify(&only11, &image, Some("2025-02-17T12:00:00Z"));
    assert_eq!(v["allowed"], false);
    assert!(
        reason(&v).contains("does not contain any trusted certificate"),
        "{v}"
    );

    // No tag index at all: nothing to find on a registry without the API.
    let image = pushed(
        &client,
        &reg.host,
        "e2e/timestamped",
        "e2e-with-timestamped-signature",
    )
    .await;
    let (v, _) = verify(&strict, &image, None);
    assert!(
        reason(&v).contains("no signature is associated with"),
        "{v}"
    );

    // Audit mode reports the would-be verdict and exits 0.
    let audit = s.config("audit", &policy("trustpolicy.json"), &e2e);
    let image = format!("{}/e2e/unsigned:v1", reg.host);
    let (v, code) = verify(&audit, &image, None);
    assert_eq!(
        (v["allowed"].as_bool(), v["mode"].as_str(), code),
        (Some(false), Some("audit"), Some(0))
    );

    // A repository no statement covers.
    let scoped = s.config("enforce", &policy("registry_scope_trustpolicy.json"), &e2e);
    let (v, code) = verify(&scoped, &format!("{}/e2e/valid:v1", reg.host), None);
    assert_eq!((v["allowed"].as_bool(), code), (Some(false), Some(1)));
    assert_eq!(v["verifiers"][0]["covered"], false);
    assert!(
        reason(&v).contains("not covered by any trust policy"),
        "{v}"
    );
}

/// A copy of a trust policy file with one trust store reference replaced.
fn rewrite_store(s: &Setup, file: &str, from: &str, to: &str) -> PathBuf {
    let text = std::fs::read_to_string(policy(file))
        .unwrap()
        .replace(from, to);
    let p = s
        .dir
        .path()
        .join(format!("rewritten-{}-{file}", rand_suffix()));
    std::fs::write(&p, text).unwrap();
    p
}

// The binary blocks this thread while the stand-in answers from another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn layouts_through_the_referrers_api_of_the_stand_in() {
    let fake = FakeRegistry::start(FakeOptions::default()).await;
    let client = RegistryClient::new(fake.client_config()).unwrap();
    let host = fake.host();
    let s = Setup::new(&host);

    // Both signatures are referrers: the testcert11 one verifies at its time.
    let image = pushed(&client, &host, "e2e/multi", "e2e-valid-multiple-signatures").await;
    let only11 = s.config(
        "enforce",
        &rewrite_store(&s, "trustpolicy.json", "ca:e2e", "ca:testcert11"),
        &[store("ca", "testcert11")],
    );
    let (v, _) = verify(&only11, &image, Some("2025-02-17T12:00:00Z"));
    assert_eq!(v["allowed"], true, "{v}");
    assert!(reason(&v).contains("CN=testcert11"), "{v}");

    // The timestamped layouts have no tag index; the API finds them.
    let stamped = "sha256:53b01912";
    let image = pushed(
        &client,
        &host,
        "e2e/timestamped",
        "e2e-with-timestamped-signature",
    )
    .await;
    let t7 = s.config(
        "enforce",
        &rewrite_store(&s, "trustpolicy.json", "ca:e2e", "ca:testcert7"),
        &[store("ca", "testcert7")],
    );
    let (v, _) = verify(&t7, &image, Some("2025-01-21T10:00:00Z"));
    assert_eq!(v["allowed"], true, "{v}");
    assert!(v["digest"].as_str().unwrap().starts_with(stamped), "{v}");
    let (v, _) = verify(&t7, &image, None);
    assert_eq!(v["allowed"], false);
    assert!(reason(&v).contains("digital signature has expired"), "{v}");

    // With a tsa store the Microsoft token must verify, and its root is not
    // among the vectors: the countersignature cannot be trusted.
    let t7_tsa = s.config(
        "enforce",
        &rewrite_store(&s, "timestamp_trustpolicy.json", "ca:e2e", "ca:testcert7"),
        &[store("ca", "testcert7"), store("tsa", "e2e")],
    );
    let (v, _) = verify(&t7_tsa, &image, Some("2025-01-21T10:00:00Z"));
    assert_eq!(v["allowed"], false);
    assert!(reason(&v).contains("failed to verify the timestamp countersignature with error: failed to verify signed token: cms verification failure: x509: certificate signed by unknown authority"), "{v}");

    let image = pushed(
        &client,
        &host,
        "e2e/bad-timestamp",
        "e2e-with-invalid-timestamped-signature",
    )
    .await;
    let (v, _) = verify(&t7, &image, Some("2025-01-21T10:00:00Z"));
    assert_eq!(
        v["allowed"], true,
        "without a tsa store the token is never parsed: {v}"
    );
    let (v, _) = verify(&t7_tsa, &image, Some("2025-01-21T10:00:00Z"));
    assert_eq!(v["allowed"], false);
    assert!(reason(&v).contains("authenticTimestamp validation failed: failed to parse timestamp countersignature with error: cms: syntax error: invalid signed data: failed to convert from BER to DER"), "{v}");
}

#[test]
fn check_config_reports_every_problem_and_exits_2() {
    let s = Setup::new("127.0.0.1:5000");
    let good = s.config(
        "enforce",
        &policy("trustpolicy.json"),
        &[store("ca", "e2e")],
    );
    let out = pullgate(&["check-config", "--config", good.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("valid"));

    let bad = s.dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        format!(
            "mode = \"loud\"\nsurprise = 1\n[notation]\ntrust_policy = {:?}\n[notation.trust_stores]\n\"ca:e2e\" = [\"nobody\"]\n",
            policy("trustpolicy.json")
        ),
    )
    .unwrap();
    let out = pullgate(&["check-config", "--config", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("mode: \"loud\" is not one of"), "{err}");
    assert!(err.contains("surprise: unknown key"), "{err}");
    assert!(
        err.contains("names key provider \"nobody\", which is not defined"),
        "{err}"
    );
    assert!(err.contains("3 problem(s) found"), "{err}");

    // verify refuses the same configuration with exit status 2.
    let out = pullgate(&[
        "verify",
        "--config",
        bad.to_str().unwrap(),
        "127.0.0.1:5000/x:v1",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = pullgate(&["verify", "--config", "/nonexistent/pullgate.toml", "x"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_verification_that_outlasts_verify_timeout_is_denied_at_the_deadline() {
    // A registry that accepts connections and never answers: the client's
    // own request timeout (20 s) is longer than verify_timeout.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    let held = std::thread::spawn(move || {
        let mut open = Vec::new();
        for conn in listener.incoming().take(8) {
            open.push(conn);
        }
        open
    });
    let s = Setup::new(&host);
    let config = s.config(
        "enforce",
        &policy("trustpolicy.json"),
        &[store("ca", "e2e")],
    );
    let toml = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("verify_timeout = \"1s\"\n{toml}")).unwrap();

    let started = std::time::Instant::now();
    let (v, code) = verify(&config, &format!("{host}/e2e/hang:v1"), None);
    let took = started.elapsed();
    assert_eq!(
        (v["allowed"].as_bool(), code),
        (Some(false), Some(1)),
        "{v}"
    );
    assert!(reason(&v).contains("did not finish within 1s"), "{v}");
    assert!(took < std::time::Duration::from_secs(10), "took {took:?}");
    drop(held);
}

#[tokio::test]
async fn verify_over_tls_with_credentials_from_the_configuration() {
    let reg = RealRegistry::start(RegistryOptions {
        tls: true,
        auth: Some(("ops".into(), "s3cret".into())),
    });
    let client = reg.client();
    let image = pushed(&client, &reg.host, "secure/app", "e2e-valid-signature").await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("registry-ca.pem");
    std::fs::write(&ca, reg.ca_pem.as_ref().unwrap()).unwrap();
    let e2e = store("ca", "e2e");
    let write = |password: &str| {
        let cfg = dir.path().join(format!("pullgate-{password}.toml"));
        std::fs::write(
            &cfg,
            format!(
                "[[key_provider]]\nname = \"e2e\"\ntype = \"file\"\npath = {:?}\n[notation]\ntrust_policy = {:?}\n[notation.trust_stores]\n\"ca:e2e\" = [\"e2e\"]\n[registry.\"{}\"]\nca_file = \"registry-ca.pem\"\nusername = \"ops\"\npassword = \"{password}\"\n",
                e2e.1,
                policy("trustpolicy.json"),
                reg.host
            ),
        )
        .unwrap();
        cfg
    };
    let (v, code) = verify(&write("s3cret"), &image, None);
    assert_eq!((v["allowed"].as_bool(), code), (Some(true), Some(0)), "{v}");
    let (v, code) = verify(&write("wrong"), &image, None);
    assert_eq!((v["allowed"].as_bool(), code), (Some(false), Some(1)));
    assert!(reason(&v).contains("refused the credentials"), "{v}");
    assert!(
        !v.to_string().contains("wrong"),
        "a password must not appear in a verdict: {v}"
    );
}
