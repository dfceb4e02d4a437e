//! The kubelet-facing server: accept, check the peer, serve HTTP/2, shut down gracefully.

use std::future::Future;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http2::Builder;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::config::ProxyConfig;
use crate::error::ProxyError;
use crate::interceptor::Interceptor;
use crate::metrics::Counters;
use crate::peer::{Peer, PeerCheck};
use crate::service::{CallHandler, Shared};
use crate::socket;
use crate::upstream::{MAX_HEADER_LIST_BYTES, Upstream, UpstreamConfig};

/// Concurrent calls allowed on one kubelet connection.
const MAX_CONCURRENT_STREAMS: u32 = 256;
/// Pause after an `accept(2)` error that is not about one connection (e.g. out of descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// Consecutive such errors after which serving gives up (about 5 s).
const MAX_ACCEPT_FAILURES: u32 = 50;
/// The period of [`keep_timers_cheap`].
const TIMER_TICK: Duration = Duration::from_secs(1);

/// The proxy, bound and ready to serve.
pub struct Proxy {
    listener: UnixListener,
    path: PathBuf,
    shutdown_grace: Duration,
    check: PeerCheck,
    shared: Arc<Shared>,
    counters: Arc<Counters>,
}

impl Proxy {
    /// Checks the configuration and binds the socket (see [`crate::socket`] rules: 0700
    /// directory when created, stale socket replaced, mode 0660). containerd is connected to
    /// lazily, on the first call.
    pub async fn bind(
        config: ProxyConfig,
        interceptor: Arc<dyn Interceptor>,
    ) -> Result<Proxy, ProxyError> {
        if let Some((key, problem)) = config.problems().into_iter().next() {
            return Err(ProxyError::Config { key, problem });
        }
        let listener = socket::bind(&config.listen)?;
        let counters = Arc::new(Counters::default());
        let upstream =
            Upstream::with_counters(UpstreamConfig::from(&config), Arc::clone(&counters));
        let shared = Shared {
            interceptor,
            upstream,
            max_message_bytes: config.max_message_bytes,
        };
        tracing::info!(
            listen = %config.listen.display(),
            upstream = %config.upstream.display(),
            allowed_uids = ?config.allowed_uids,
            "CRI image-service proxy bound"
        );
        Ok(Proxy {
            listener,
            path: config.listen,
            shutdown_grace: config.shutdown_grace,
            check: PeerCheck::new(&config.allowed_uids),
            shared: Arc::new(shared),
            counters,
        })
    }

    /// The upstream the proxy forwards to (for readiness probes).
    pub fn upstream(&self) -> Upstream {
        self.shared.upstream.clone()
    }

    /// Connection and upstream counters, live.
    pub fn counters(&self) -> Arc<Counters> {
        Arc::clone(&self.counters)
    }

    /// The socket path served.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Serves until `shutdown` completes, then stops accepting, tells every connection to finish
    /// (HTTP/2 GOAWAY: calls in flight go on, new ones go elsewhere) and waits up to the
    /// configured grace period before closing what is left. Errors only when accepting keeps
    /// failing.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) -> Result<(), ProxyError> {
        let (stop, stopped) = watch::channel(false);
        let mut connections = JoinSet::new();
        let http = http_builder();
        let mut failures = 0u32;
        let tick = tokio::spawn(keep_timers_cheap());
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        failures = 0;
                        if let Some(peer) = self.admit(&stream) {
                            let handler = CallHandler::new(Arc::clone(&self.shared), peer);
                            let connection = http.serve_connection(TokioIo::new(stream), handler);
                            connections.spawn(serve_connection(connection, stopped.clone()));
                        }
                    }
                    Err(error) => failures = self.accept_failed(error, failures).await?,
                },
            }
        }
        drop(self.listener);
        tick.abort();
        stop.send_replace(true);
        drain(connections, self.shutdown_grace, &self.counters).await;
        Ok(())
    }

    /// Logs an `accept(2)` error and backs off; gives up after too many in a row.
    async fn accept_failed(&self, error: std::io::Error, failures: u32) -> Result<u32, ProxyError> {
        if is_per_connection(&error) {
            tracing::debug!(%error, "accept failed for one connection");
            return Ok(failures);
        }
        let failures = failures + 1;
        tracing::warn!(%error, failures, "accept failed");
        if failures >= MAX_ACCEPT_FAILURES {
            let path = self.path.clone();
            return Err(ProxyError::Accept {
                path,
                attempts: failures,
                source: error,
            });
        }
        tokio::time::sleep(ACCEPT_BACKOFF).await;
        Ok(failures)
    }

    /// The peer check: the connection is served only if its uid is allowed. A refused
    /// connection is logged once and closed without a byte of HTTP/2.
    fn admit(&self, stream: &UnixStream) -> Option<Peer> {
        match Peer::of(stream) {
            Ok(peer) if self.check.allows(&peer) => {
                self.counters.accepted();
                Some(peer)
            }
            Ok(peer) => {
                self.counters.refused();
                tracing::warn!(uid = peer.uid, gid = peer.gid, pid = ?peer.pid, "refused connection: uid not allowed");
                None
            }
            Err(error) => {
                self.counters.refused();
                tracing::warn!(%error, "refused connection: cannot read peer credentials");
                None
            }
        }
    }
}

/// Keeps a timer pending that is due within [`TIMER_TICK`], so that arming a call's deadline
/// costs no system call.
///
/// Every call with a `grpc-timeout` arms a timer. When tokio's time driver parks with no timer
/// pending it promises no wake-up, and arming any timer then makes it wake itself to look again:
/// a write to its eventfd and one more `epoll_wait`, on the way to sending the call on. With this
/// tick pending, the driver has promised a wake-up within a second, and a deadline later than
/// that (the kubelet's are two minutes) is only put in the timer wheel. It costs one wake-up a
/// second.
async fn keep_timers_cheap() {
    let mut tick = tokio::time::interval(TIMER_TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
    }
}

/// The HTTP/2 server settings for kubelet connections.
fn http_builder() -> Builder<TokioExecutor> {
    let mut http = Builder::new(TokioExecutor::new());
    http.auto_date_header(false)
        .max_header_list_size(MAX_HEADER_LIST_BYTES)
        .max_concurrent_streams(MAX_CONCURRENT_STREAMS);
    http
}

/// Waits up to `grace` for every connection (already told to finish) to end, then closes the rest.
async fn drain(mut connections: JoinSet<()>, grace: Duration, counters: &Counters) {
    tracing::info!(
        connections = connections.len(),
        "shutting down: draining connections"
    );
    let drained = tokio::time::timeout(grace, async {
        while connections.join_next().await.is_some() {}
    });
    if drained.await.is_err() {
        let left = connections.len();
        tracing::warn!(
            connections = left,
            ?grace,
            "grace period over; closing connections"
        );
        counters.shutdown_aborted(left as u64);
        connections.shutdown().await;
    }
}

/// Drives one connection; on the stop signal, asks it to finish gracefully and keeps driving it.
async fn serve_connection<C>(connection: C, mut stopped: watch::Receiver<bool>)
where
    C: Future<Output = Result<(), hyper::Error>> + GracefulShutdown,
{
    tokio::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => log_end(result),
        () = until_stopped(&mut stopped) => {
            connection.as_mut().shutdown_gracefully();
            log_end(connection.await);
        }
    }
}

async fn until_stopped(stopped: &mut watch::Receiver<bool>) {
    // An error means the sender is gone, which only happens once serving is over: stop too.
    let _ = stopped.wait_for(|stop| *stop).await.map(|_| ());
}

fn log_end(result: Result<(), hyper::Error>) {
    if let Err(error) = result {
        tracing::debug!(%error, "kubelet connection ended with an error");
    }
}

/// hyper's server connection, seen through the one method [`serve_connection`] needs.
trait GracefulShutdown {
    fn shutdown_gracefully(self: std::pin::Pin<&mut Self>);
}

impl<I, S, E, B> GracefulShutdown for hyper::server::conn::http2::Connection<I, S, E>
where
    S: hyper::service::HttpService<hyper::body::Incoming, ResBody = B>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin,
    B: http_body::Body + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    E: hyper::rt::bounds::Http2ServerConnExec<S::Future, B>,
{
    fn shutdown_gracefully(self: std::pin::Pin<&mut Self>) {
        self.graceful_shutdown();
    }
}

/// `accept(2)` errors that concern only the connection being accepted.
fn is_per_connection(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        ErrorKind::ConnectionAborted
            | ErrorKind::ConnectionReset
            | ErrorKind::Interrupted
            | ErrorKind::WouldBlock
    )
}
