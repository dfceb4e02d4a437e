//! containerd's `config.toml` and the CRI plugin's registry hosts directory
//! for one test instance, as ../shared/testbed/start-containerd.sh writes
//! them: every path under the instance's directory.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::RealRegistry;

use super::images::{PAUSE_REPO, PAUSE_TAG};

/// How containerd is started. `Default` gives no registry, an unpullable
/// sandbox image and the snapshotter that works here.
#[derive(Debug, Clone, Default)]
pub struct ContainerdOptions {
    /// The CRI plugin's `sandbox_image`: the image every pod sandbox runs.
    /// containerd pulls it itself at the first `RunPodSandbox`, through the
    /// hosts config and without credentials (unless
    /// [`RegistryHost::node_credentials`]); so on a registry with auth, pull it
    /// through CRI with credentials first. `None`: `<registry>/pullgate/pause:1`
    /// (push it with [`super::push_pause_image`]), or without a registry an
    /// unpullable `127.0.0.1:1/pullgate/pause:1`.
    pub sandbox_image: Option<String>,
    /// The test registry, written to the hosts directory (`config_path`).
    pub registry: Option<RegistryHost>,
    pub snapshotter: Snapshotter,
    /// containerd's `[debug] level`; default `info`.
    pub log_level: Option<String>,
    /// How long to wait for CRI `Version` to answer; default 20 s.
    pub start_timeout: Option<Duration>,
}

impl ContainerdOptions {
    /// Options for pulling from `registry`: its host (plain HTTP, or HTTPS
    /// with its CA) and the pause image on it as sandbox image.
    pub fn with_registry(registry: &RealRegistry) -> ContainerdOptions {
        ContainerdOptions {
            registry: Some(RegistryHost::of(registry)),
            ..ContainerdOptions::default()
        }
    }
}

/// A registry as containerd's hosts directory describes it.
#[derive(Debug, Clone)]
pub struct RegistryHost {
    /// `host:port`, as in image references.
    pub host: String,
    /// PEM of the CA of the registry's certificate: HTTPS; `None`: plain HTTP.
    pub ca_pem: Option<String>,
    /// Credentials containerd uses when a pull brings none, as a node-wide
    /// pull secret (`registry.configs."<host>".auth`, deprecated in 1.6 but
    /// honoured beside `config_path`). `None` (the default): pulls from a
    /// registry with auth need CRI `AuthConfig`, as the kubelet sends.
    pub node_credentials: Option<(String, String)>,
}

impl RegistryHost {
    /// `registry`'s host and CA; no node credentials.
    pub fn of(registry: &RealRegistry) -> RegistryHost {
        RegistryHost {
            host: registry.host.clone(),
            ca_pem: registry.ca_pem.clone(),
            node_credentials: None,
        }
    }
}

/// The CRI plugin's snapshotter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Snapshotter {
    /// overlayfs when an overlay mount works here, else native.
    #[default]
    Auto,
    Overlayfs,
    Native,
}

impl Snapshotter {
    pub fn name(self) -> &'static str {
        match self {
            Snapshotter::Auto => "auto",
            Snapshotter::Overlayfs => "overlayfs",
            Snapshotter::Native => "native",
        }
    }
}

/// The files of one instance, all under `dir`.
pub(crate) struct Layout {
    pub dir: PathBuf,
}

impl Layout {
    pub fn socket(&self) -> PathBuf {
        self.dir.join("run/containerd.sock")
    }
    pub fn config(&self) -> PathBuf {
        self.dir.join("config.toml")
    }
    pub fn log(&self) -> PathBuf {
        self.dir.join("containerd.log")
    }
    pub fn state(&self) -> PathBuf {
        self.dir.join("state")
    }
    pub fn runc_root(&self) -> PathBuf {
        self.dir.join("runc")
    }
    fn hosts_dir(&self) -> PathBuf {
        self.dir.join("certs.d")
    }

    /// Writes `config.toml` and the hosts directory.
    pub fn write(&self, options: &ContainerdOptions, snapshotter: Snapshotter) {
        for sub in [
            "root",
            "state",
            "run",
            "opt",
            "runc",
            "cni/net.d",
            "certs.d",
        ] {
            std::fs::create_dir_all(self.dir.join(sub)).unwrap();
        }
        if let Some(registry) = &options.registry {
            self.write_hosts_toml(registry);
        }
        let sandbox_image = options.sandbox_image.clone().unwrap_or_else(|| {
            let host = options.registry.as_ref().map_or("127.0.0.1:1", |r| &r.host);
            format!("{host}/{PAUSE_REPO}:{PAUSE_TAG}")
        });
        let config = self.config_toml(options, snapshotter, &sandbox_image);
        std::fs::write(self.config(), config).unwrap();
    }

    /// containerd 1.6.20 needs the settings twice (seen with a 127.0.0.1
    /// HTTPS registry): top level only, and it speaks plain HTTP to it;
    /// `[host]` only, and the fallback to `server` (after a 404) has no CA.
    fn write_hosts_toml(&self, registry: &RegistryHost) {
        let dir = self.hosts_dir().join(&registry.host);
        std::fs::create_dir_all(&dir).unwrap();
        let host = &registry.host;
        let (scheme, ca) = match &registry.ca_pem {
            Some(pem) => {
                let ca_file = dir.join("ca.crt");
                std::fs::write(&ca_file, pem).unwrap();
                ("https", format!("ca = {}\n", quote(&ca_file)))
            }
            None => ("http", String::new()),
        };
        let caps = r#"capabilities = ["pull", "resolve"]"#;
        let toml = format!(
            "server = \"{scheme}://{host}\"\n{caps}\n{ca}\
             [host.\"{scheme}://{host}\"]\n  {caps}\n  {ca}"
        );
        std::fs::write(dir.join("hosts.toml"), toml).unwrap();
    }

    fn config_toml(
        &self,
        options: &ContainerdOptions,
        snapshotter: Snapshotter,
        sandbox_image: &str,
    ) -> String {
        let d = |sub: &str| quote(&self.dir.join(sub));
        let socket = self.socket();
        let ttrpc = PathBuf::from(format!("{}.ttrpc", socket.display()));
        let auth = options
            .registry
            .as_ref()
            .and_then(|r| Some((&r.host, r.node_credentials.as_ref()?)))
            .map(|(host, (user, pass))| {
                format!(
                    "    [plugins.\"io.containerd.grpc.v1.cri\".registry.configs.{}.auth]\n      \
                     username = {}\n      password = {}\n",
                    json_str(host),
                    json_str(user),
                    json_str(pass)
                )
            })
            .unwrap_or_default();
        format!(
            include_str!("config.toml.in"),
            root = d("root"),
            state = d("state"),
            socket = quote(&socket),
            ttrpc = quote(&ttrpc),
            log_level = json_str(options.log_level.as_deref().unwrap_or("info")),
            opt = d("opt"),
            sandbox_image = json_str(sandbox_image),
            snapshotter = json_str(snapshotter.name()),
            runc = quote(&super::daemon::binary("runc", "PULLGATE_RUNC")),
            runc_root = d("runc"),
            cni_conf = d("cni/net.d"),
            hosts_dir = quote(&self.hosts_dir()),
            registry_auth = auth,
        )
    }
}

/// A TOML basic string: JSON's escapes are a subset of TOML's.
fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

fn quote(p: &Path) -> String {
    json_str(p.to_str().expect("temporary paths are UTF-8"))
}
