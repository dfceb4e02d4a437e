//! A real containerd for end-to-end tests, and a CRI client to drive it.
//!
//! - [`Containerd`]: Debian's `containerd` (1.6.20) started by hand as
//!   ../shared/testbed/start-containerd.sh does: CRI plugin on, overlayfs (or
//!   native) snapshotter, a hosts directory (`config_path`) for the test
//!   registry, everything under a temporary directory; stopped and cleaned up
//!   on drop. Several can run at once in one process.
//! - [`CriClient`]: CRI `runtime.v1` (types of the `k8s-cri` crate, re-exported
//!   as [`cri`]) over unix sockets, the image and runtime services each on
//!   their own socket as the kubelet has them; [`CriClient::run_pod`] runs an
//!   image in a pod.
//! - [`crate::TestImage::busybox`] and [`crate::TestImage::pause`]: images a
//!   runtime can start; [`push_pause_image`] puts the sandbox image on a
//!   [`crate::RealRegistry`].
//!
//! Needs root and the Debian packages `containerd`, `runc` and
//! `busybox-static` (`.ci/run` installs them). The binaries are found on
//! `PATH` or in `/usr/{bin,sbin}`; `PULLGATE_CONTAINERD`, `PULLGATE_RUNC`,
//! `PULLGATE_CTR` and `PULLGATE_BUSYBOX` override them.
//!
//! # What containerd 1.6 does outside the temporary directory
//!
//! - Shim sockets go to `/run/containerd/s/<sha256 hex>`, whatever the
//!   configuration says (`root`, `state` and the socket paths do not move
//!   them); containerd creates `/run/containerd/` and `…/s/` (0700) and
//!   leaves them. The hashed names include the (random) task id, so
//!   instances do not collide. Drop removes the sockets its own tasks
//!   recorded (bundle `address` files), never the directory's other entries.
//! - Shims are started in sessions of their own and outlive containerd by
//!   design, and 1.6 writes no shim pid file: drop force-deletes leftover
//!   containers with runc (our runc root) and kills the shims whose command
//!   line says `-address <our socket>`. Killed shims are reparented to PID 1
//!   and show as zombies until it reaps them. A test process killed with
//!   SIGKILL leaves containerd and its shims running; stop them by pid
//!   (`ps -ef | grep pullgate-containerd-`).
//! - Containers get cgroups `/k8s.io/<64-hex id>` in every host hierarchy
//!   (no `cgroup_parent` is passed); ids are random, so instances never
//!   collide; runc removes them with the container, and the empty `k8s.io`
//!   parents stay.
//! - The CRI streaming server listens on 127.0.0.1 with a random port; no
//!   other TCP port is opened (`disable_tcp_service`, no metrics, no debug
//!   socket).
//! - Host-network pods share the host's network namespace and see its
//!   `/etc/hosts` and `/etc/resolv.conf`; without CNI a pod cannot have a
//!   network of its own, and must not set a hostname.
//!
//! Here (2 cores) containerd answers CRI `Version` 50–100 ms after it is
//! spawned and stops in about 0.1 s; a cold pull of the 2 MB busybox image
//! takes 120–250 ms, a repeated one 10–30 ms, and [`CriClient::run_pod`]
//! 0.5–0.8 s including containerd's own pull of the sandbox image.
//!
//! # What a test must know
//!
//! - containerd pulls the sandbox image itself, without credentials (unless
//!   [`RegistryHost::node_credentials`]): on a registry with auth, pull it
//!   through CRI with credentials before the first pod.
//! - A pull by digest (`repo@sha256:…`) records the image under its digest
//!   only: `ImageStatus(repo:tag)` then answers "absent" until something
//!   creates the tag record (see the tests).

mod cleanup;
mod client;
mod config;
mod daemon;
mod images;
mod pod;
mod tar;

pub use client::{CriClient, MAX_MESSAGE_SIZE};
pub use config::{ContainerdOptions, RegistryHost, Snapshotter};
pub use daemon::Containerd;
pub use images::{PAUSE_REPO, PAUSE_TAG, SLEEP_CMD, push_pause_image};
pub use pod::{EXEC_CMD, POD_NAMESPACE, PodRun};

/// The CRI `runtime.v1` messages and service clients (crate `k8s-cri` 0.11,
/// from kubernetes/cri-api), so that tests need no dependency of their own.
pub use k8s_cri::v1 as cri;
/// What a CRI call fails with.
pub use tonic::{Code as CriCode, Status as CriStatus};

#[cfg(test)]
mod tests;
