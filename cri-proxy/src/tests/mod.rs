//! The proxy end to end, in-process: a real [`Proxy`] on a unix socket under a temporary
//! directory, a scripted fake containerd behind it, and a raw HTTP/2 gRPC client in front.

mod enforce;
mod intercept;
mod lifecycle;
mod limits;
mod passthrough;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::testing::{FakeUpstream, Reply, TestClient};
use crate::{
    Counters, Interceptor, Peer, Proxy, ProxyConfig, ProxyError, UnaryRequest, UnaryResponse,
    Upstream,
};

/// A proxy between a test client and a fake upstream.
pub(crate) struct Harness {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) listen: PathBuf,
    pub(crate) upstream_path: PathBuf,
    pub(crate) fake: Option<FakeUpstream>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) upstream: Upstream,
    stop: Option<oneshot::Sender<()>>,
    serving: JoinHandle<Result<(), ProxyError>>,
}

impl Harness {
    /// Passes everything through to a fake scripted by `script`.
    pub(crate) async fn start(script: impl Fn(&str) -> Reply + Send + Sync + 'static) -> Harness {
        Harness::start_with(Some(script), Arc::new(crate::PassThrough), |_| {}).await
    }

    /// The general form: `script` None leaves the upstream socket empty.
    pub(crate) async fn start_with<F>(
        script: Option<F>,
        interceptor: Arc<dyn Interceptor>,
        configure: impl FnOnce(&mut ProxyConfig),
    ) -> Harness
    where
        F: Fn(&str) -> Reply + Send + Sync + 'static,
    {
        let dir = tempfile::tempdir().unwrap();
        let listen = dir.path().join("run/pullgate/image.sock");
        let upstream_path = dir.path().join("containerd.sock");
        let fake = match script {
            Some(script) => Some(FakeUpstream::start(&upstream_path, script).await),
            None => None,
        };
        let mut config = ProxyConfig::new(&listen, &upstream_path);
        config.allowed_uids = vec![own_uid()];
        configure(&mut config);
        let proxy = Proxy::bind(config, interceptor).await.unwrap();
        let counters = proxy.counters();
        let upstream = proxy.upstream();
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = tokio::spawn(proxy.serve(async move {
            let _ = stopped.await;
        }));
        Harness {
            dir,
            listen,
            upstream_path,
            fake,
            counters,
            upstream,
            stop: Some(stop),
            serving,
        }
    }

    pub(crate) fn fake(&self) -> &FakeUpstream {
        self.fake.as_ref().unwrap()
    }

    pub(crate) async fn client(&self) -> TestClient {
        TestClient::connect(&self.listen).await.unwrap()
    }

    /// Signals shutdown and waits for `serve` to return.
    pub(crate) async fn shutdown(mut self) -> Result<(), ProxyError> {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(10), &mut self.serving)
            .await
            .unwrap()
            .unwrap()
    }

    /// Starts shutting down without waiting.
    pub(crate) fn begin_shutdown(&mut self) {
        let _ = self.stop.take().unwrap().send(());
    }

    pub(crate) async fn served(&mut self) -> Result<(), ProxyError> {
        tokio::time::timeout(Duration::from_secs(10), &mut self.serving)
            .await
            .unwrap()
            .unwrap()
    }
}

/// Our own uid, read the way the proxy reads a peer's.
pub(crate) fn own_uid() -> u32 {
    let (a, _b) = tokio::net::UnixStream::pair().unwrap();
    Peer::of(&a).unwrap().uid
}

/// An interceptor for tests: claims `paths`, records every request, answers with `behaviour`.
pub(crate) struct TestInterceptor {
    pub(crate) paths: Vec<&'static str>,
    pub(crate) behaviour: Behaviour,
    pub(crate) seen: Mutex<Vec<UnaryRequest>>,
}

pub(crate) enum Behaviour {
    Answer(UnaryResponse),
    /// Rewrites field 1.1 of the request to the given bytes and forwards it to the same path.
    SpliceAndForward(&'static str),
    /// Calls `path` upstream with this metadata and message, and answers what came back.
    Ask {
        path: &'static str,
        metadata: http::HeaderMap,
        message: bytes::Bytes,
    },
    Hang,
}

impl TestInterceptor {
    pub(crate) fn new(paths: &[&'static str], behaviour: Behaviour) -> Arc<TestInterceptor> {
        Arc::new(TestInterceptor {
            paths: paths.to_vec(),
            behaviour,
            seen: Mutex::new(Vec::new()),
        })
    }

    pub(crate) fn seen(&self) -> Vec<UnaryRequest> {
        self.seen.lock().unwrap().clone()
    }
}

#[async_trait]
impl Interceptor for TestInterceptor {
    fn intercepts(&self, path: &str) -> bool {
        self.paths.contains(&path)
    }

    async fn call(&self, request: UnaryRequest, upstream: &Upstream) -> UnaryResponse {
        self.seen.lock().unwrap().push(request.clone());
        let forwarded = match &self.behaviour {
            Behaviour::Answer(response) => return response.clone(),
            Behaviour::Hang => return std::future::pending().await,
            Behaviour::SpliceAndForward(image) => {
                let message =
                    crate::proto::splice(&request.message, &[1, 1], image.as_bytes()).unwrap();
                upstream
                    .unary(&request.path, &request.metadata, message.into())
                    .await
            }
            Behaviour::Ask {
                path,
                metadata,
                message,
            } => upstream.unary(path, metadata, message.clone()).await,
        };
        forwarded.unwrap_or_else(|error| error.to_response())
    }
}
