//! Cosign through `pullgate verify`: images in the real docker-registry
//! signed by the test bed's `cosign-tool` (the sigstore crate, legacy
//! `.sig` format), verified with Cosign trust policies; and `require`
//! combining Cosign with Notary Project signatures.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use pullgate_registry::{Digest, Manifest, RegistryClient, Repository};
use pullgate_testsupport::notary::{
    ManifestShape, SignOptions, TestPki, push_notary_signature, sign,
};
use pullgate_testsupport::{CosignKeyPair, RealRegistry, RegistryOptions, TestImage};
use serde_json::Value;

use crate::pullgate;

struct Bed {
    _reg: RealRegistry,
    host: String,
    client: RegistryClient,
    dir: tempfile::TempDir,
}

impl Bed {
    fn repo(&self, name: &str) -> Repository {
        Repository::new(&self.host, name).unwrap()
    }

    fn image(&self, name_tag: &str) -> String {
        format!("{}/{name_tag}", self.host)
    }

    async fn push(&self, repo: &str, tag: &str, text: &str) -> TestImage {
        let img = TestImage::new(text);
        img.push(&self.client, &self.repo(repo), tag).await;
        img
    }

    /// A configuration with Cosign keys from `public_key` (and, with
    /// `notation_root`, a Notary trust policy that trusts it for every
    /// repository).
    fn config(
        &self,
        name: &str,
        public_key: &Path,
        extra: &str,
        notation_root: Option<&TestPki>,
    ) -> PathBuf {
        let d = self.dir.path();
        let notation = match notation_root {
            None => String::new(),
            Some(pki) => {
                std::fs::write(d.join("notary-root.pem"), pki.root.pem()).unwrap();
                std::fs::write(
                    d.join("trustpolicy.json"),
                    r#"{"version":"1.0","trustPolicies":[{"name":"all","registryScopes":["*"],
                    "signatureVerification":{"level":"strict"},"trustStores":["ca:test"],"trustedIdentities":["*"]}]}"#,
                )
                .unwrap();
                "[[key_provider]]\nname = \"notary-root\"\ntype = \"file\"\npath = \"notary-root.pem\"\n\
                 [notation]\ntrust_policy = \"trustpolicy.json\"\n[notation.trust_stores]\n\"ca:test\" = [\"notary-root\"]\n"
                    .to_string()
            }
        };
        let text = format!(
            r#"{extra}
state_dir = {state:?}

[[key_provider]]
name = "cosign-keys"
type = "file"
content_type = "key"
path = {key:?}

{notation}
[[cosign.trust_policy]]
name = "default"
scopes = ["*"]
keys = [{{ provider = "cosign-keys" }}]
tlog_verify = false

[registry."{host}"]
insecure = true
"#,
            state = d.join("state"),
            key = public_key,
            host = self.host,
        );
        let path = d.join(format!("{name}.toml"));
        std::fs::write(&path, text).unwrap();
        path
    }
}

fn verify(config: &Path, image: &str) -> (Value, Option<i32>) {
    crate::verify_json(config, image, None)
}

fn verifier<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["verifiers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no {name} report in {v}"))
}

/// Copies the `.sig` manifest (and its blobs) of `from` to the signature
/// tag of `to` in another repository: a signature taken from one image and
/// presented for another.
async fn copy_signature(
    client: &RegistryClient,
    from: (&Repository, &Digest),
    to: (&Repository, &Digest),
) {
    let sig = client
        .manifest_if_tagged(from.0, &from.1.cosign_signature_tag())
        .await
        .unwrap()
        .expect("the source image is signed");
    let Manifest::Image(m) = &sig.parsed else {
        panic!("a .sig manifest is an image manifest")
    };
    for d in std::iter::once(&m.config).chain(m.layers.iter()) {
        let bytes = client.blob(from.0, d, 1 << 20).await.unwrap();
        client.push_blob(to.0, &d.media_type, bytes).await.unwrap();
    }
    client
        .push_manifest(
            to.0,
            &to.1.cosign_signature_tag(),
            pullgate_registry::media_types::OCI_MANIFEST,
            Bytes::from(sig.raw.to_vec()),
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cosign_tool_signatures_through_pullgate_verify() {
    let reg = RealRegistry::start(RegistryOptions::default());
    let bed = Bed {
        host: reg.host.clone(),
        client: reg.client(),
        _reg: reg,
        dir: tempfile::tempdir().unwrap(),
    };
    let signed = bed.push("cosign/app", "v1", "signed by cosign-tool").await;
    let other = bed.push("cosign/other", "v1", "another image").await;
    bed.push("cosign/unsigned", "v1", "nobody signed this")
        .await;
    let (a, b) = (bed.dir.path().join("key-a"), bed.dir.path().join("key-b"));
    let key_a = CosignKeyPair::generate(&a);
    let key_b = CosignKeyPair::generate(&b);
    key_a.sign(&bed.image("cosign/app:v1"));

    // The right key allows.
    let right = bed.config("right", &key_a.public_key, "", None);
    let (v, code) = verify(&right, &bed.image("cosign/app:v1"));
    assert_eq!((v["allowed"].as_bool(), code), (Some(true), Some(0)), "{v}");
    assert_eq!(v["digest"], signed.digest().to_string());
    let c = verifier(&v, "cosign");
    assert_eq!(
        (c["covered"].as_bool(), c["allowed"].as_bool()),
        (Some(true), Some(true)),
        "{v}"
    );
    assert!(c["reason"].as_str().unwrap().contains("cosign-keys"), "{v}");

    // A different key denies.
    let wrong = bed.config("wrong", &key_b.public_key, "", None);
    let (v, code) = verify(&wrong, &bed.image("cosign/app:v1"));
    assert_eq!(
        (v["allowed"].as_bool(), code),
        (Some(false), Some(1)),
        "{v}"
    );
    assert!(
        v["reason"].as_str().unwrap().contains("does not verify"),
        "{v}"
    );

    // An unsigned image denies.
    let (v, code) = verify(&right, &bed.image("cosign/unsigned:v1"));
    assert_eq!(
        (v["allowed"].as_bool(), code),
        (Some(false), Some(1)),
        "{v}"
    );
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .contains("no Cosign signature found"),
        "{v}"
    );

    // A signature copied from another image denies.
    copy_signature(
        &bed.client,
        (&bed.repo("cosign/app"), &signed.digest()),
        (&bed.repo("cosign/other"), &other.digest()),
    )
    .await;
    let (v, code) = verify(&right, &bed.image("cosign/other:v1"));
    assert_eq!(
        (v["allowed"].as_bool(), code),
        (Some(false), Some(1)),
        "{v}"
    );
    let reason = v["reason"].as_str().unwrap();
    assert!(
        reason.contains(&signed.digest().to_string()) && reason.contains("copied"),
        "{reason}"
    );

    // check-config accepts the configuration.
    let out = pullgate(&["check-config", "--config", right.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_any_and_all_with_notary_and_cosign_signatures() {
    let reg = RealRegistry::start(RegistryOptions::default());
    let bed = Bed {
        host: reg.host.clone(),
        client: reg.client(),
        _reg: reg,
        dir: tempfile::tempdir().unwrap(),
    };
    let pki = TestPki::code_signing_chain(0);
    let keys = CosignKeyPair::generate(&bed.dir.path().join("keys"));
    let cosign_only = bed.push("mixed/cosign-only", "v1", "cosign only").await;
    let both = bed.push("mixed/both", "v1", "both signatures").await;
    let notary_only = bed.push("mixed/notary-only", "v1", "notary only").await;
    let _ = cosign_only;
    keys.sign(&bed.image("mixed/cosign-only:v1"));
    keys.sign(&bed.image("mixed/both:v1"));
    for (repo, img) in [("mixed/both", &both), ("mixed/notary-only", &notary_only)] {
        let env = sign(&img.descriptor(), &pki.chain(), &SignOptions::default());
        push_notary_signature(
            &bed.client,
            &bed.repo(repo),
            &img.descriptor(),
            &env,
            ManifestShape::ArtifactType,
            true,
        )
        .await;
    }
    let any = bed.config("any", &keys.public_key, "require = \"any\"", Some(&pki));
    let all = bed.config("all", &keys.public_key, "require = \"all\"", Some(&pki));
    let allowed = |config: &Path, image: &str| {
        let (v, _) = verify(config, &bed.image(image));
        (v["allowed"].as_bool().unwrap(), v)
    };
    // any: one verifier allowing is enough.
    for image in [
        "mixed/cosign-only:v1",
        "mixed/notary-only:v1",
        "mixed/both:v1",
    ] {
        let (ok, v) = allowed(&any, image);
        assert!(ok, "any, {image}: {v}");
    }
    // all: both must allow; the reason names the one that did not.
    let (ok, v) = allowed(&all, "mixed/both:v1");
    assert!(ok, "{v}");
    assert_eq!(verifier(&v, "notation")["allowed"], true);
    assert_eq!(verifier(&v, "cosign")["allowed"], true);
    let (ok, v) = allowed(&all, "mixed/cosign-only:v1");
    assert!(!ok, "{v}");
    assert_eq!(verifier(&v, "notation")["allowed"], false);
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .contains("no signature is associated"),
        "{v}"
    );
    let (ok, v) = allowed(&all, "mixed/notary-only:v1");
    assert!(!ok, "{v}");
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .contains("no Cosign signature found"),
        "{v}"
    );

    // A Notation policy that skips admits an image it cannot even resolve
    // (as notation does) under `any`; the Cosign verifier still appears,
    // covered, saying why it could not look.
    let skip = bed.config("skip", &keys.public_key, "require = \"any\"", Some(&pki));
    let d = bed.dir.path();
    std::fs::write(
        d.join("trustpolicy.json"),
        r#"{"version":"1.0","trustPolicies":[{"name":"all","registryScopes":["*"],
        "signatureVerification":{"level":"skip"}}]}"#,
    )
    .unwrap();
    let (ok, v) = allowed(&skip, "mixed/missing:v1");
    assert!(ok, "{v}");
    assert_eq!(v["verifiers"].as_array().unwrap().len(), 2, "{v}");
    assert_eq!(verifier(&v, "notation")["allowed"], true);
    assert_eq!(verifier(&v, "cosign")["covered"], true);
    assert_eq!(verifier(&v, "cosign")["allowed"], false);
    assert!(
        verifier(&v, "cosign")["reason"]
            .as_str()
            .unwrap()
            .contains("could not resolve"),
        "{v}"
    );
}
