//! Debian's `docker-registry` (CNCF distribution 2.8) run for a test, the
//! recipe of ../shared/testbed/start-registry.sh: 127.0.0.1, a free port,
//! state in a temporary directory, optional TLS and htpasswd.

use std::io::Read;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pullgate_registry::{ClientConfig, Credentials, HostSettings, RegistryClient, Repository};

use crate::certs::TestCa;

#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    pub tls: bool,
    /// htpasswd user and password.
    pub auth: Option<(String, String)>,
}

pub struct RealRegistry {
    dir: tempfile::TempDir,
    child: Child,
    /// `127.0.0.1:<port>`
    pub host: String,
    pub ca_pem: Option<String>,
    pub auth: Option<(String, String)>,
}

fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("PULLGATE_DOCKER_REGISTRY") {
        return p.into();
    }
    for dir in ["/usr/bin", "/usr/local/bin", "/usr/sbin"] {
        let p = PathBuf::from(dir).join("docker-registry");
        if p.exists() {
            return p;
        }
    }
    panic!(
        "docker-registry not found: install Debian's package (apt-get install docker-registry) \
         or set PULLGATE_DOCKER_REGISTRY; .ci/run does this"
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl RealRegistry {
    pub fn start(options: RegistryOptions) -> RealRegistry {
        let mut last = String::new();
        for _ in 0..3 {
            match RealRegistry::try_start(&options) {
                Ok(r) => return r,
                Err(e) => last = e,
            }
        }
        panic!("docker-registry did not start: {last}");
    }

    fn try_start(options: &RegistryOptions) -> Result<RealRegistry, String> {
        let dir = tempfile::Builder::new()
            .prefix("pullgate-registry-")
            .tempdir()
            .unwrap();
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let d = dir.path();
        let mut tls = String::new();
        let mut ca_pem = None;
        if options.tls {
            let ca = TestCa::new("pullgate test registry CA");
            let (cert, key) = ca.server_cert(&["127.0.0.1", "localhost"]);
            std::fs::write(d.join("server.crt"), cert).unwrap();
            std::fs::write(d.join("server.key"), key).unwrap();
            tls = format!(
                "  tls:\n    certificate: {0}/server.crt\n    key: {0}/server.key\n",
                d.display()
            );
            ca_pem = Some(ca.cert_pem);
        }
        let mut auth = String::new();
        if let Some((user, pass)) = &options.auth {
            // cost 4: the registry accepts any bcrypt cost, and tests stay fast
            let hash = bcrypt::hash(pass, 4).unwrap();
            std::fs::write(d.join("htpasswd"), format!("{user}:{hash}\n")).unwrap();
            auth = format!(
                "auth:\n  htpasswd:\n    realm: pullgate-test\n    path: {}/htpasswd\n",
                d.display()
            );
        }
        let config = format!(
            "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {data}\n  delete:\n    enabled: true\n\
             http:\n  addr: {host}\n  secret: pullgate-test-{port}\n{tls}{auth}",
            data = d.join("data").display()
        );
        std::fs::write(d.join("config.yml"), config).unwrap();
        let log = std::fs::File::create(d.join("registry.log")).unwrap();
        let child = Command::new(binary())
            .arg("serve")
            .arg(d.join("config.yml"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("spawn docker-registry: {e}"))?;
        let mut registry = RealRegistry {
            dir,
            child,
            host,
            ca_pem,
            auth: options.auth.clone(),
        };
        registry.wait_ready()?;
        Ok(registry)
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("exited with {status}: {}", self.log()));
            }
            if self.log().contains("listening on") {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!("not listening after 15 s: {}", self.log()))
    }

    /// What the registry has logged so far.
    pub fn log(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(self.dir.path().join("registry.log")) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }

    /// Client settings for this registry: plain HTTP or its CA, and its
    /// credentials when `with_credentials`.
    pub fn host_settings(&self, with_credentials: bool) -> HostSettings {
        HostSettings {
            insecure: self.ca_pem.is_none(),
            ca_pem: self.ca_pem.as_ref().map(|p| p.as_bytes().to_vec()),
            credentials: match (&self.auth, with_credentials) {
                (Some((u, p)), true) => Some(Credentials::basic(u, p)),
                _ => None,
            },
        }
    }

    pub fn client_config(&self, with_credentials: bool) -> ClientConfig {
        let mut config = ClientConfig::default();
        config
            .hosts
            .insert(self.host.clone(), self.host_settings(with_credentials));
        config
    }

    /// A client configured for this registry, with its credentials.
    pub fn client(&self) -> RegistryClient {
        RegistryClient::new(self.client_config(true)).unwrap()
    }

    pub fn repo(&self, name: &str) -> Repository {
        Repository::new(&self.host, name).unwrap()
    }
}

impl Drop for RealRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
