//! The latency one pass-through hop adds to `ImageStatus`: the same call made directly to the
//! upstream, through a plain hyper HTTP/2 passthrough (the "h2proxy" baseline of the limits
//! research, §2: hyper server in, one shared hyper client out, nothing else), and through
//! pullgate's [`Proxy`]. Paths are interleaved in each round; each server runs on its own
//! `current_thread` runtime in its own thread, the client on another.
//!
//! ```text
//! cargo run --release -p pullgate-cri-proxy --example hop_latency -- [SOCKET] [CALLS] [ROUNDS]
//! ```
//!
//! SOCKET is containerd's (or any gRPC server's) socket; without it (or with `stub`) an
//! in-process stub answers every call with an empty message. CALLS per path per round (default 5000), ROUNDS (default 3).
#![allow(clippy::print_stdout)]

use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo};
use pullgate_cri_proxy::{PassThrough, Proxy, ProxyConfig, proto};
use tokio::net::{UnixListener, UnixStream};

type BoxError = Box<dyn Error + Send + Sync>;

fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let calls: usize = args.get(1).map(|a| a.parse()).transpose()?.unwrap_or(5000);
    let rounds: usize = args.get(2).map(|a| a.parse()).transpose()?.unwrap_or(3);
    let dir = tempfile::tempdir()?;
    let upstream = match args.first().filter(|socket| *socket != "stub") {
        Some(socket) => PathBuf::from(socket),
        None => {
            let stub = dir.path().join("stub.sock");
            let listener = bind_std(&stub)?;
            spawn_server(move || stub_server(listener));
            stub
        }
    };
    let plain = dir.path().join("plain.sock");
    let (plain_listener, up) = (bind_std(&plain)?, upstream.clone());
    spawn_server(move || plain_proxy(plain_listener, up));
    let pullgate = dir.path().join("pullgate/image.sock");
    let config = ProxyConfig::new(&pullgate, &upstream);
    spawn_server(move || async move {
        let proxy = Proxy::bind(config, Arc::new(PassThrough)).await?;
        proxy.serve(std::future::pending()).await?;
        Ok(())
    });
    std::thread::sleep(Duration::from_millis(200));

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let paths = [
            ("direct", upstream),
            ("plain hyper h2", plain),
            ("pullgate", pullgate),
        ];
        let mut clients = Vec::new();
        for (name, path) in &paths {
            clients.push((*name, connect(path).await?));
        }
        let mut results: Vec<Vec<Stats>> = vec![Vec::new(); clients.len()];
        for _ in 0..rounds {
            for (i, (_, client)) in clients.iter_mut().enumerate() {
                time_calls(client, 500).await?;
                results[i].push(Stats::of(time_calls(client, calls).await?));
            }
        }
        report(
            &clients.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            &results,
        );
        Ok::<_, BoxError>(())
    })?;
    Ok(())
}

/// p50, p90, p99 in µs.
#[derive(Debug, Clone, Copy)]
struct Stats([f64; 3]);

impl Stats {
    fn of(mut samples: Vec<Duration>) -> Stats {
        samples.sort();
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e6;
        Stats([at(0.5), at(0.9), at(0.99)])
    }
}

fn report(names: &[&str], results: &[Vec<Stats>]) {
    let median = |i: usize, k: usize| {
        let mut v: Vec<f64> = results[i].iter().map(|s| s.0[k]).collect();
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[0], v[v.len() - 1])
    };
    println!(
        "{:<16} {:>22} {:>22} {:>22} {:>10} {:>10}",
        "path", "p50 [range]", "p90 [range]", "p99 [range]", "+p50", "+p99"
    );
    for (i, name) in names.iter().enumerate() {
        let cells: Vec<String> = (0..3)
            .map(|k| {
                let (m, lo, hi) = median(i, k);
                format!("{m:.0} [{lo:.0}-{hi:.0}]")
            })
            .collect();
        let added = |k| median(i, k).0 - median(0, k).0;
        println!(
            "{name:<16} {:>22} {:>22} {:>22} {:>+10.0} {:>+10.0}",
            cells[0],
            cells[1],
            cells[2],
            added(0),
            added(2)
        );
    }
}

fn image_status_request() -> Bytes {
    let mut spec = Vec::new();
    proto::encode_len_field(1, b"registry.example/demo/hello:v1", &mut spec);
    let mut message = Vec::new();
    proto::encode_len_field(1, &spec, &mut message);
    pullgate_cri_proxy::grpc::frame::encode(&message)
}

async fn time_calls(
    client: &mut SendRequest<Full<Bytes>>,
    calls: usize,
) -> Result<Vec<Duration>, BoxError> {
    let body = image_status_request();
    // The kubelet sends a deadline on ImageStatus; HOP_NO_TIMEOUT=1 leaves it out.
    let with_timeout = std::env::var_os("HOP_NO_TIMEOUT").is_none();
    let mut samples = Vec::with_capacity(calls);
    for _ in 0..calls {
        let mut request = Request::post("http://localhost/runtime.v1.ImageService/ImageStatus")
            .body(Full::new(body.clone()))?;
        let headers = request.headers_mut();
        headers.insert("content-type", HeaderValue::from_static("application/grpc"));
        headers.insert("te", HeaderValue::from_static("trailers"));
        if with_timeout {
            headers.insert("grpc-timeout", HeaderValue::from_static("119999m"));
        }
        headers.insert("user-agent", HeaderValue::from_static("grpc-go/1.72.0"));
        let started = Instant::now();
        let response = client.send_request(request).await?;
        let collected = response.into_body().collect().await?;
        samples.push(started.elapsed());
        let status = collected
            .trailers()
            .and_then(|t| t.get("grpc-status"))
            .cloned();
        if status.as_ref().is_none_or(|s| s != "0") {
            return Err(format!("call failed: grpc-status {status:?}").into());
        }
    }
    Ok(samples)
}

async fn connect(path: &Path) -> Result<SendRequest<Full<Bytes>>, BoxError> {
    let stream = UnixStream::connect(path).await?;
    let (sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

fn bind_std(path: &Path) -> Result<std::os::unix::net::UnixListener, BoxError> {
    let listener = std::os::unix::net::UnixListener::bind(path)?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// Runs a server on its own `current_thread` runtime in its own thread.
fn spawn_server<F, Fut>(server: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), BoxError>>,
{
    std::thread::spawn(move || {
        let result = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(BoxError::from)
            .and_then(|runtime| runtime.block_on(server()));
        if let Err(error) = result {
            println!("server failed: {error}");
        }
    });
}

/// The baseline: hyper in, one shared hyper client out, request and response passed as they are.
async fn plain_proxy(
    listener: std::os::unix::net::UnixListener,
    upstream: PathBuf,
) -> Result<(), BoxError> {
    let listener = UnixListener::from_std(listener)?;
    let sender = connect_incoming(&upstream).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        let sender = sender.clone();
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            let mut sender = sender.clone();
            async move { sender.send_request(request).await }
        });
        tokio::spawn(
            hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service),
        );
    }
}

async fn connect_incoming(path: &Path) -> Result<SendRequest<Incoming>, BoxError> {
    let stream = UnixStream::connect(path).await?;
    let (sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

/// Answers every call with an empty message and OK.
async fn stub_server(listener: std::os::unix::net::UnixListener) -> Result<(), BoxError> {
    let listener = UnixListener::from_std(listener)?;
    loop {
        let (stream, _) = listener.accept().await?;
        let service = hyper::service::service_fn(|request: Request<Incoming>| async move {
            request.into_body().collect().await?;
            let mut trailers = HeaderMap::new();
            trailers.insert("grpc-status", HeaderValue::from_static("0"));
            let body = Full::new(pullgate_cri_proxy::grpc::frame::encode(b""))
                .with_trailers(async move { Some(Ok(trailers)) });
            let mut response = Response::new(body);
            response
                .headers_mut()
                .insert("content-type", HeaderValue::from_static("application/grpc"));
            Ok::<_, hyper::Error>(response)
        });
        tokio::spawn(
            hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service),
        );
    }
}
