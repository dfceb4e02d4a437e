//! Debian's `containerd` (1.6.20) run by hand for one test, the recipe of
//! ../shared/testbed/start-containerd.sh, stopped and cleaned up on drop.

use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use rustix::mount::{MountFlags, UnmountFlags};
use rustix::process::{Pid, Signal};

use super::client::CriClient;
use super::config::{ContainerdOptions, Layout, Snapshotter};

const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long containerd gets between SIGTERM and SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// Lines of containerd's log shown when it does not start.
const LOG_TAIL: usize = 60;

/// A running containerd with the CRI plugin, its state in a temporary
/// directory; stopped (TERM, then KILL) and cleaned up on drop.
pub struct Containerd {
    layout: Layout,
    child: Child,
    snapshotter: Snapshotter,
    started_in: Duration,
    // last: removed after the process is gone and its mounts are undone
    _dir: tempfile::TempDir,
}

impl Containerd {
    /// Starts containerd and waits until CRI `Version` answers on its socket.
    /// Panics, with the end of containerd's log, when it exits or does not
    /// answer in time. Blocks the calling thread (under 0.1 s here), so it
    /// can be called from synchronous tests and from async ones alike.
    /// Needs root.
    pub fn start(options: ContainerdOptions) -> Containerd {
        assert!(
            rustix::process::geteuid().is_root(),
            "containerd runs containers as root only: run these tests as root"
        );
        let dir = tempfile::Builder::new()
            .prefix("pullgate-containerd-")
            .tempdir()
            .unwrap();
        let layout = Layout {
            dir: dir.path().to_path_buf(),
        };
        let snapshotter = match options.snapshotter {
            Snapshotter::Auto => detect_snapshotter(),
            chosen => chosen,
        };
        layout.write(&options, snapshotter);
        let log = std::fs::File::create(layout.log()).unwrap();
        let began = Instant::now();
        // Not in a session of its own (unlike the testbed script): a test
        // run interrupted from the terminal takes containerd with it.
        let child = Command::new(binary("containerd", "PULLGATE_CONTAINERD"))
            .arg("--config")
            .arg(layout.config())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn containerd: {e}"));
        let mut containerd = Containerd {
            layout,
            child,
            snapshotter,
            started_in: Duration::ZERO,
            _dir: dir,
        };
        let timeout = options.start_timeout.unwrap_or(START_TIMEOUT);
        if let Err(why) = containerd.wait_ready(timeout) {
            let log = containerd.log();
            let lines: Vec<&str> = log.lines().collect();
            let tail = lines[lines.len().saturating_sub(LOG_TAIL)..].join("\n");
            panic!(
                "containerd did not start: {why}\n--- end of {} ---\n{tail}",
                containerd.layout.log().display(),
            );
        }
        containerd.started_in = began.elapsed();
        containerd
    }

    /// The gRPC socket (CRI `runtime.v1` and containerd's own API).
    pub fn socket(&self) -> PathBuf {
        self.layout.socket()
    }

    /// The instance's directory (config, root, state, hosts, log).
    pub fn dir(&self) -> &Path {
        &self.layout.dir
    }

    pub fn snapshotter(&self) -> Snapshotter {
        self.snapshotter
    }

    /// From spawning the process to the first answered CRI `Version`.
    pub fn started_in(&self) -> Duration {
        self.started_in
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What containerd has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.layout.log()).unwrap_or_default()
    }

    /// A CRI client with both services on containerd's socket. Call it
    /// within the tokio runtime that will use it.
    pub fn cri(&self) -> CriClient {
        CriClient::connect(self.socket(), self.socket())
    }

    /// Runs `ctr --address <socket> <args>` (e.g. `-n k8s.io images tag A B`)
    /// and returns its output; panics when `ctr` cannot be spawned.
    pub fn ctr(&self, args: &[&str]) -> Output {
        Command::new(binary("ctr", "PULLGATE_CTR"))
            .arg("--address")
            .arg(self.socket())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("spawn ctr: {e}"))
    }

    fn wait_ready(&mut self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        let socket = self.socket();
        let child = &mut self.child;
        // CRI calls need a runtime, and the caller may be inside one: probe
        // from a thread of our own.
        std::thread::scope(|s| {
            s.spawn(|| {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                let mut last = "socket not created".to_string();
                while Instant::now() < deadline {
                    if let Ok(Some(status)) = child.try_wait() {
                        return Err(format!("containerd exited with {status}"));
                    }
                    if socket.exists() {
                        match rt.block_on(probe(&socket)) {
                            Ok(()) => return Ok(()),
                            Err(e) => last = e,
                        }
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(format!("no answer after {timeout:?}; last: {last}"))
            })
            .join()
            .unwrap()
        })
    }

    fn stop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let pid = Pid::from_raw(self.child.id() as i32).expect("a child's pid is positive");
        let _ = rustix::process::kill_process(pid, Signal::TERM);
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        self.stop();
        super::cleanup::leftovers(&self.layout);
    }
}

async fn probe(socket: &Path) -> Result<(), String> {
    let cri = CriClient::connect(socket, socket);
    let call = tokio::time::timeout(Duration::from_secs(2), cri.version());
    match call.await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(status)) => Err(format!("CRI Version: {status}")),
        Err(_) => Err("CRI Version: no answer in 2 s".into()),
    }
}

/// A plain unmount, else a lazy one (which can take a tenth of a second).
pub(crate) fn unmount(target: &Path) {
    if rustix::mount::unmount(target, UnmountFlags::empty()).is_err() {
        let _ = rustix::mount::unmount(target, UnmountFlags::DETACH);
    }
}

/// `$env`, else `name` on `PATH` or in the usual Debian directories.
pub(crate) fn binary(name: &str, env: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(env) {
        return p.into();
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let fallback = ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"];
    std::env::split_paths(&path)
        .chain(fallback.iter().map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "{name} not found: install Debian's containerd and runc \
                 (apt-get install containerd runc) or set {env}; .ci/run does this"
            )
        })
}

/// overlayfs when a test overlay mount works here (not on every kernel or
/// inside every container), else native. Probed once per process.
fn detect_snapshotter() -> Snapshotter {
    static DETECTED: OnceLock<Snapshotter> = OnceLock::new();
    *DETECTED.get_or_init(|| {
        let t = tempfile::Builder::new()
            .prefix("pullgate-ovl-")
            .tempdir()
            .unwrap();
        for sub in ["l", "u", "w", "m"] {
            std::fs::create_dir(t.path().join(sub)).unwrap();
        }
        let p = |sub: &str| t.path().join(sub).display().to_string();
        let data = CString::new(format!(
            "lowerdir={},upperdir={},workdir={}",
            p("l"),
            p("u"),
            p("w")
        ))
        .unwrap();
        let target = t.path().join("m");
        let mounted =
            rustix::mount::mount("overlay", &target, "overlay", MountFlags::empty(), &*data);
        match mounted {
            Ok(()) => {
                unmount(&target);
                Snapshotter::Overlayfs
            }
            Err(_) => Snapshotter::Native,
        }
    })
}
