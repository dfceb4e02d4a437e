//! A pod as the kubelet runs one, reduced to what shows that an image really
//! starts: sandbox, image check (and pull) through the image service,
//! container created from the image ID, started, `ExecSync`, then removed.
//! Host network and no hostname: the test machine has no CNI, and runc
//! cannot set a hostname without a private UTS namespace.

use std::sync::atomic::{AtomicU64, Ordering};

use k8s_cri::v1::{
    ContainerConfig, ContainerMetadata, ContainerStatusRequest, CreateContainerRequest,
    ExecSyncRequest, ImageSpec, LinuxContainerConfig, LinuxContainerSecurityContext,
    LinuxPodSandboxConfig, LinuxSandboxSecurityContext, NamespaceMode, NamespaceOption,
    PodSandboxConfig, PodSandboxMetadata, RemoveContainerRequest, RemovePodSandboxRequest,
    RunPodSandboxRequest, StartContainerRequest, StopContainerRequest, StopPodSandboxRequest,
};
use tonic::Status;

use super::client::CriClient;

/// The namespace of the pods [`CriClient::run_pod`] runs (and of its pulls).
pub const POD_NAMESPACE: &str = "pullgate-e2e";
/// What [`CriClient::run_pod`] runs in the container.
pub const EXEC_CMD: [&str; 3] = ["/bin/busybox", "cat", "/hello.txt"];

/// What [`CriClient::run_pod`] saw; the pod is gone by then.
#[derive(Debug, Clone)]
pub struct PodRun {
    pub pod_id: String,
    pub container_id: String,
    /// `ContainerConfig.image.image` of `CreateContainer`: the image's `id`
    /// from `ImageStatus` (its config digest), as the kubelet passes it.
    pub image_id: String,
    /// `ContainerStatus.image_ref`: the image containerd says the container
    /// runs (a repo digest).
    pub image_ref: String,
    /// Exit code, stdout and stderr of [`EXEC_CMD`].
    pub exit_code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl CriClient {
    /// Runs `image` in a pod and `cat`s its `/hello.txt`. The sandbox and
    /// container calls go to the runtime socket; `ImageStatus` and, when the
    /// image is absent, `PullImage` (with `auth`) to the image socket, as
    /// the kubelet does. The pod is stopped and removed whatever happens;
    /// the first error is returned. `image` must run `sleep` or the like
    /// (its own command is used), as [`crate::TestImage::busybox`] does.
    pub async fn run_pod(&self, image: &str, auth: Option<(&str, &str)>) -> Result<PodRun, Status> {
        let logs = tempfile::Builder::new()
            .prefix("pullgate-pod-logs-")
            .tempdir()
            .unwrap();
        let sandbox = sandbox_config(logs.path().to_str().expect("temporary paths are UTF-8"));
        let request = RunPodSandboxRequest {
            config: Some(sandbox.clone()),
            runtime_handler: String::new(),
        };
        let pod_id = self
            .runtime()
            .run_pod_sandbox(request)
            .await?
            .into_inner()
            .pod_sandbox_id;
        let run = self.in_pod(&pod_id, &sandbox, image, auth).await;
        let stopped = self
            .runtime()
            .stop_pod_sandbox(StopPodSandboxRequest {
                pod_sandbox_id: pod_id.clone(),
            })
            .await;
        let removed = self
            .runtime()
            .remove_pod_sandbox(RemovePodSandboxRequest {
                pod_sandbox_id: pod_id,
            })
            .await;
        let run = run?;
        stopped?;
        removed?;
        Ok(run)
    }

    async fn in_pod(
        &self,
        pod_id: &str,
        sandbox: &PodSandboxConfig,
        image: &str,
        auth: Option<(&str, &str)>,
    ) -> Result<PodRun, Status> {
        let image_id = match self.image_status(image).await? {
            Some(found) => found.id,
            None => {
                self.pull(image, auth, Some(POD_NAMESPACE)).await?;
                let pulled = self.image_status(image).await?;
                pulled
                    .ok_or_else(|| Status::not_found(format!("{image}: absent after pulling")))?
                    .id
            }
        };
        let request = CreateContainerRequest {
            pod_sandbox_id: pod_id.into(),
            config: Some(container_config(&image_id, image)),
            sandbox_config: Some(sandbox.clone()),
        };
        let container_id = self
            .runtime()
            .create_container(request)
            .await?
            .into_inner()
            .container_id;
        let run = self.in_container(&container_id).await;
        let stopped = self
            .runtime()
            .stop_container(StopContainerRequest {
                container_id: container_id.clone(),
                timeout: 0, // SIGKILL at once: the sleeper is PID 1 and ignores TERM
            })
            .await;
        let removed = self
            .runtime()
            .remove_container(RemoveContainerRequest {
                container_id: container_id.clone(),
            })
            .await;
        let (image_ref, exit_code, stdout, stderr) = run?;
        stopped?;
        removed?;
        Ok(PodRun {
            pod_id: pod_id.into(),
            container_id,
            image_id,
            image_ref,
            exit_code,
            stdout,
            stderr,
        })
    }

    /// Starts the container, reads its `image_ref`, runs [`EXEC_CMD`].
    async fn in_container(
        &self,
        container_id: &str,
    ) -> Result<(String, i32, String, String), Status> {
        let mut runtime = self.runtime();
        runtime
            .start_container(StartContainerRequest {
                container_id: container_id.into(),
            })
            .await?;
        let status = runtime
            .container_status(ContainerStatusRequest {
                container_id: container_id.into(),
                verbose: false,
            })
            .await?
            .into_inner()
            .status
            .ok_or_else(|| Status::internal("ContainerStatus without a status"))?;
        let exec = runtime
            .exec_sync(ExecSyncRequest {
                container_id: container_id.into(),
                cmd: EXEC_CMD.map(String::from).to_vec(),
                timeout: 10,
            })
            .await?
            .into_inner();
        Ok((
            status.image_ref,
            exec.exit_code,
            String::from_utf8_lossy(&exec.stdout).into_owned(),
            String::from_utf8_lossy(&exec.stderr).into_owned(),
        ))
    }
}

/// Host network, pod IPC, container PID namespace.
fn namespaces() -> NamespaceOption {
    NamespaceOption {
        network: NamespaceMode::Node as i32,
        pid: NamespaceMode::Container as i32,
        ipc: NamespaceMode::Pod as i32,
        ..NamespaceOption::default()
    }
}

fn sandbox_config(log_directory: &str) -> PodSandboxConfig {
    static PODS: AtomicU64 = AtomicU64::new(0);
    let n = PODS.fetch_add(1, Ordering::Relaxed);
    let name = format!("pod-{}-{n}", std::process::id());
    PodSandboxConfig {
        metadata: Some(PodSandboxMetadata {
            uid: format!("{name}-uid"),
            name,
            namespace: POD_NAMESPACE.into(),
            attempt: 0,
        }),
        hostname: String::new(), // host UTS namespace: no hostname
        log_directory: log_directory.into(),
        linux: Some(LinuxPodSandboxConfig {
            security_context: Some(LinuxSandboxSecurityContext {
                namespace_options: Some(namespaces()),
                ..LinuxSandboxSecurityContext::default()
            }),
            ..LinuxPodSandboxConfig::default()
        }),
        ..PodSandboxConfig::default()
    }
}

fn container_config(image_id: &str, user_specified: &str) -> ContainerConfig {
    ContainerConfig {
        metadata: Some(ContainerMetadata {
            name: "c".into(),
            attempt: 0,
        }),
        image: Some(ImageSpec {
            image: image_id.into(),
            user_specified_image: user_specified.into(),
            ..ImageSpec::default()
        }),
        log_path: "c.log".into(),
        linux: Some(LinuxContainerConfig {
            security_context: Some(LinuxContainerSecurityContext {
                namespace_options: Some(namespaces()),
                ..LinuxContainerSecurityContext::default()
            }),
            ..LinuxContainerConfig::default()
        }),
        ..ContainerConfig::default()
    }
}
