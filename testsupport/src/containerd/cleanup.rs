//! What a stopped containerd can leave behind, found from its own state so
//! that other instances' things stay untouched: tasks (containers still
//! running under their shims, when a test failed before removing its pod),
//! the shims and their sockets in containerd's fixed `/run/containerd/s/`, and
//! mounts under the instance's directory (snapshots, sandbox `/dev/shm`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rustix::process::{Pid, Signal};

use super::config::Layout;
use super::daemon::{binary, unmount};

/// Where containerd 1.6 puts shim sockets, whatever its configuration says.
pub(crate) const SHIM_SOCKET_DIR: &str = "/run/containerd/s/";

/// Removes the leftovers of the (already stopped) instance at `layout`.
pub(crate) fn leftovers(layout: &Layout) {
    let tasks = layout.state().join("io.containerd.runtime.v2.task");
    for namespace in subdirs(&tasks) {
        for bundle in subdirs(&namespace) {
            remove_task(layout, &namespace, &bundle);
        }
    }
    kill_shims_of(&layout.socket());
    unmount_under(&layout.dir);
}

fn remove_task(layout: &Layout, namespace: &Path, bundle: &Path) {
    let (Some(ns), Some(id)) = (namespace.file_name(), bundle.file_name()) else {
        return;
    };
    // runc checks its own state: kills the container's processes, removes
    // its cgroup; harmless when the container is already gone.
    let _ = Command::new(binary("runc", "PULLGATE_RUNC"))
        .arg("--root")
        .arg(layout.runc_root().join(ns))
        .args(["delete", "--force"])
        .arg(id)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if let Ok(address) = std::fs::read_to_string(bundle.join("address")) {
        let path = address.trim().trim_start_matches("unix://");
        if path.starts_with(SHIM_SOCKET_DIR) && !path.contains("..") {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Kills the shims started by the containerd listening on `socket`: those
/// whose command line carries `-address <socket>` (1.6 writes no shim pid
/// file into the bundle). Once their containers are deleted they hold
/// nothing but their socket.
fn kill_shims_of(socket: &Path) {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return;
    };
    let socket = socket.as_os_str().as_encoded_bytes();
    for entry in procs.flatten() {
        let pid = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok());
        let Some(pid) = pid.and_then(Pid::from_raw) else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        let is_shim = args
            .first()
            .is_some_and(|a| a.ends_with(b"containerd-shim-runc-v2"));
        if is_shim
            && args
                .windows(2)
                .any(|w| w[0] == b"-address" && w[1] == socket)
        {
            let _ = rustix::process::kill_process(pid, Signal::KILL);
        }
    }
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect()
}

/// Detaches every mount at or below `dir`, deepest first.
fn unmount_under(dir: &Path) {
    let Ok(mountinfo) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return;
    };
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let mut points: Vec<PathBuf> = mountinfo
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|p| PathBuf::from(unescape_octal(p)))
        .filter(|p| p.starts_with(&dir))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.as_os_str().len()));
    for p in points {
        unmount(&p);
    }
}

/// mountinfo writes space, tab, newline and backslash as `\ooo`.
fn unescape_octal(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let code = b.get(i + 1..i + 4).and_then(|o| {
            let o = std::str::from_utf8(o).ok()?;
            u8::from_str_radix(o, 8).ok()
        });
        match (b[i], code) {
            (b'\\', Some(c)) => {
                out.push(c);
                i += 4;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
