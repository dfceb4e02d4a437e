//! The admin endpoint: `/livez` (the process answers), `/readyz` (the
//! configuration is loaded and containerd answers a CRI call), `/metrics`
//! (Prometheus text). Plain HTTP/1.1 on a loopback address by default.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use pullgate_cri_proxy::enforce::Enforcer;
use pullgate_cri_proxy::{Counters, Upstream};
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::reload::ReloadStats;

/// How long `/readyz` waits for containerd.
const READY_TIMEOUT: &str = "2S";
/// Connections served at once; more wait in the backlog.
const MAX_CONNECTIONS: usize = 64;

pub struct Shared {
    pub enforcer: Enforcer,
    pub upstream: Upstream,
    pub proxy_counters: Arc<Counters>,
    pub reloads: Arc<ReloadStats>,
}

pub async fn serve(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let permit = tokio::select! {
            _ = stop.changed() => return,
            p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => return },
        };
        let (stream, _) = tokio::select! {
            _ = stop.changed() => return,
            a = listener.accept() => match a {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!("admin endpoint: accept: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(handle(&shared, req).await) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(5))
                .serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(Duration::from_secs(30), conn).await;
            drop(permit);
        });
    }
}

fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

async fn handle(shared: &Shared, req: Request<Incoming>) -> Response<Full<Bytes>> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "GET only\n".into());
    }
    match req.uri().path() {
        "/livez" => text(StatusCode::OK, "ok\n".into()),
        "/readyz" => match containerd_answers(&shared.upstream).await {
            Ok(()) => text(StatusCode::OK, "ok\n".into()),
            Err(e) => text(StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {e}\n")),
        },
        "/metrics" => {
            let mut r = text(StatusCode::OK, super::metrics::render(shared));
            r.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            r
        }
        _ => text(StatusCode::NOT_FOUND, "not found\n".into()),
    }
}

/// containerd answers the CRI's `ImageFsInfo` (what the kubelet checks its
/// image service with at startup).
async fn containerd_answers(upstream: &Upstream) -> Result<(), String> {
    let mut metadata = HeaderMap::new();
    metadata.insert("grpc-timeout", HeaderValue::from_static(READY_TIMEOUT));
    let response = upstream
        .unary(
            pullgate_cri_proxy::cri::path::IMAGE_FS_INFO,
            &metadata,
            Bytes::new(),
        )
        .await
        .map_err(|e| format!("containerd: {e}"))?;
    match response.status() {
        0 => Ok(()),
        s => Err(format!(
            "containerd answered ImageFsInfo with gRPC status {s}: {}",
            response.status_message().unwrap_or_default()
        )),
    }
}
