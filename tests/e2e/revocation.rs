//! Revocation through `pullgate verify`: an image signed with the Notary
//! Project's revocable e2e chain (leaf → intermediate → root, CRL
//! distribution points at http://localhost:10086), CRLs from `crl_dir`
//! (offline) or downloaded through `url_rewrite` (online, never kept after
//! the command); the trust policy's level and override decide.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pullgate_registry::RegistryClient;
use pullgate_testsupport::notary::{
    ManifestShape, SignOptions, TestCert, TestKey, push_notary_signature, sign,
};
use pullgate_testsupport::{FileServer, RealRegistry, RegistryOptions, TestImage, pem_certs};
use serde_json::Value;

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/notation")
}

fn crl_vector(name: &str) -> Vec<u8> {
    std::fs::read(vectors().join("revocation/notation-e2e-crl").join(name)).unwrap()
}

async fn signed_image(client: &RegistryClient, reg: &RealRegistry) -> String {
    let text = |n: &str| String::from_utf8(crl_vector(n)).unwrap();
    let key = Arc::new(TestKey::from_pkcs8_pem(&text("leaf.key")));
    let chain: Vec<TestCert> = pem_certs(&text("certchain_with_crl.pem"))
        .into_iter()
        .map(|der| TestCert::external(der, Arc::clone(&key)))
        .collect();
    let repo = reg.repo("revocable/app");
    let img = TestImage::new("signed with a revocable chain");
    img.push(client, &repo, "v1").await;
    let env = sign(
        &img.descriptor(),
        &chain.iter().collect::<Vec<_>>(),
        &SignOptions::default(),
    );
    push_notary_signature(
        client,
        &repo,
        &img.descriptor(),
        &env,
        ManifestShape::ArtifactType,
        true,
    )
    .await;
    format!("{}/revocable/app:v1", reg.host)
}

struct Setup {
    dir: tempfile::TempDir,
    host: String,
}

impl Setup {
    /// A configuration; `revocation` is the `[notation.revocation]` body and
    /// `override_` the trust policy's override object ("" for none).
    fn config(&self, name: &str, revocation: &str, override_: &str) -> PathBuf {
        let d = self.dir.path();
        let over = if override_.is_empty() {
            String::new()
        } else {
            format!(r#","override":{override_}"#)
        };
        let policy = format!(
            r#"{{"version":"1.0","trustPolicies":[{{"name":"revocable","registryScopes":["*"],
            "signatureVerification":{{"level":"strict"{over}}},"trustStores":["ca:crl-root"],"trustedIdentities":["*"]}}]}}"#
        );
        std::fs::write(d.join(format!("{name}.json")), policy).unwrap();
        let root = vectors().join("revocation/notation-e2e-crl/root.crt");
        let text = format!(
            "state_dir = {:?}\n[[key_provider]]\nname = \"root\"\ntype = \"file\"\npath = {root:?}\n[notation]\ntrust_policy = \"{name}.json\"\n[notation.trust_stores]\n\"ca:crl-root\" = [\"root\"]\n[notation.revocation]\n{revocation}\n[registry.\"{}\"]\ninsecure = true\n",
            d.join(format!("state-{name}")),
            self.host
        );
        let path = d.join(format!("{name}.toml"));
        std::fs::write(&path, text).unwrap();
        path
    }

    fn crl_dir(&self, name: &str, files: &[&str]) -> PathBuf {
        let dir = self.dir.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        for f in files {
            std::fs::write(dir.join(f), crl_vector(f)).unwrap();
        }
        dir
    }
}

fn verify(config: &Path, image: &str) -> Value {
    crate::verify_json(config, image, None).0
}

fn reason(v: &Value) -> &str {
    v["reason"].as_str().unwrap_or_default()
}

const LEAF: &str = "CN=LeafCert,OU=OrgUnit,O=Organization,L=City,ST=State,C=US";

// The binary blocks this thread while the CRL server answers from another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_offline_and_online() {
    let reg = RealRegistry::start(RegistryOptions::default());
    let image = signed_image(&reg.client(), &reg).await;
    let s = Setup {
        dir: tempfile::tempdir().unwrap(),
        host: reg.host.clone(),
    };

    // Offline, CRLs from crl_dir.
    let good = s.crl_dir("good", &["leaf.crl", "intermediate.crl"]);
    let v = verify(
        &s.config(
            "offline-good",
            &format!("mode = \"offline\"\ncrl_dir = {good:?}"),
            "",
        ),
        &image,
    );
    assert_eq!(v["allowed"], true, "{v}");
    let revoked = s.crl_dir("revoked", &["leaf_revoked.crl", "intermediate.crl"]);
    let v = verify(
        &s.config(
            "offline-revoked",
            &format!("mode = \"offline\"\ncrl_dir = {revoked:?}"),
            "",
        ),
        &image,
    );
    assert_eq!(v["allowed"], false);
    assert!(
        reason(&v).contains(&format!(
            "revocation validation failed: signing certificate with subject \"{LEAF}\" is revoked"
        )),
        "{v}"
    );

    // Offline without CRLs: unknown, which strict enforces; the override is the documented way out.
    let v = verify(&s.config("offline-none", "mode = \"offline\"", ""), &image);
    assert_eq!(v["allowed"], false);
    assert!(reason(&v).contains("revocation status is unknown"), "{v}");
    for action in ["log", "skip"] {
        let cfg = s.config(
            &format!("offline-{action}"),
            "mode = \"offline\"",
            &format!(r#"{{"revocation":"{action}"}}"#),
        );
        assert_eq!(verify(&cfg, &image)["allowed"], true, "{action}");
    }

    // Online: the CRLs are downloaded from a mirror named by url_rewrite.
    let server = FileServer::start().await;
    server.put("/leaf.crl", crl_vector("leaf.crl"));
    server.put("/intermediate.crl", crl_vector("intermediate.crl"));
    let online = s.config(
        "online",
        &format!(
            "mode = \"online\"\ntimeout = \"2s\"\nurl_rewrite = {{ \"http://localhost:10086/\" = \"{}/\", \"http://localhost.test/\" = \"http://127.0.0.1:9/\" }}",
            server.base()
        ),
        "",
    );
    let v = verify(&online, &image);
    assert_eq!(v["allowed"], true, "{v}");
    assert!(
        server.requests().iter().any(|r| r.contains("/leaf.crl")),
        "{:?}",
        server.requests()
    );
    drop(server);
    // `verify` verifies afresh and keeps nothing in state_dir (the contract):
    // with the mirror gone, the status is unknown again. (The daemon keeps
    // downloaded CRLs under state_dir/crl; the cache has its own tests.)
    let v = verify(&online, &image);
    assert_eq!(v["allowed"], false, "{v}");
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .contains("revocation status is unknown"),
        "{v}"
    );
}
