//! The test bed's `cosign-tool` (../shared/testbed/cosign-tool): a small CLI
//! over the `sigstore` crate (sigstore-rs) that generates Cosign key pairs
//! and signs images in Cosign's legacy format (`sha256-<hex>.sig`). Tests
//! use it as the independent signer. It is built once per machine, from a
//! copy of its sources, into the workspace's `target/cosign-tool` (release;
//! needs the network for crates the first time, and libssl-dev).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

fn workspace_target() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/cosign-tool")
}

fn sources() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/testbed/cosign-tool")
}

/// The built `cosign-tool` binary (built on first use; panics with cargo's
/// output when it cannot be).
pub fn cosign_tool() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(build).clone()
}

fn build() -> PathBuf {
    let target = workspace_target();
    let src = target.join("src-copy");
    std::fs::create_dir_all(src.join("src")).expect("cosign-tool build directory");
    for file in ["Cargo.toml", "src/main.rs"] {
        let from = sources().join(file);
        let bytes = std::fs::read(&from).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (is ../shared beside the repository?)",
                from.display()
            )
        });
        let to = src.join(file);
        if std::fs::read(&to).ok().as_deref() != Some(bytes.as_slice()) {
            std::fs::write(&to, bytes).expect("copy cosign-tool sources");
        }
    }
    // An empty [workspace] keeps the copy out of any enclosing workspace.
    let manifest = src.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).expect("cosign-tool manifest");
    if !text.contains("[workspace]") {
        std::fs::write(&manifest, format!("{text}\n[workspace]\n")).expect("cosign-tool manifest");
    }
    let out = Command::new(env!("CARGO"))
        .args(["build", "--release", "-q", "--manifest-path"])
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", target.join("target"))
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "building cosign-tool failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    target.join("target/release/cosign-tool")
}

/// A Cosign key pair made by `cosign-tool generate-key-pair` in `dir`.
pub struct CosignKeyPair {
    pub private_key: PathBuf,
    pub password_file: PathBuf,
    pub public_key: PathBuf,
}

impl CosignKeyPair {
    pub fn generate(dir: &Path) -> CosignKeyPair {
        let out = run(&[
            "generate-key-pair",
            dir.to_str().expect("UTF-8 temporary path"),
            "test-password",
        ]);
        assert!(
            out.status.success(),
            "generate-key-pair: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        CosignKeyPair {
            private_key: dir.join("cosign.key"),
            password_file: dir.join("cosign.pass"),
            public_key: dir.join("cosign.pub"),
        }
    }

    /// Signs `image` (`host:port/repo:tag`, plain HTTP) and pushes the
    /// signature to its `sha256-<hex>.sig` tag.
    pub fn sign(&self, image: &str) {
        let out = run(&[
            "sign",
            self.private_key.to_str().expect("UTF-8 path"),
            self.password_file.to_str().expect("UTF-8 path"),
            image,
        ]);
        assert!(
            out.status.success(),
            "cosign-tool sign {image}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn run(args: &[&str]) -> Output {
    Command::new(cosign_tool())
        .args(args)
        .env("COSIGN_TOOL_HTTP", "1")
        .output()
        .expect("run cosign-tool")
}
