//! A tiny in-process HTTP server of fixed bodies (CRLs for revocation
//! tests) on 127.0.0.1 and a free port: bodies by path and query,
//! redirects, a hang on chosen paths, a log of what was asked. Stopped on drop.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;

#[derive(Default)]
struct Shared {
    bodies: Mutex<HashMap<String, Bytes>>,
    redirects: Mutex<HashMap<String, String>>,
    hanging: Mutex<HashSet<String>>,
    log: Mutex<Vec<String>>,
}

pub struct FileServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl FileServer {
    pub async fn start() -> FileServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared::default());
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FileServer { addr, shared, task }
    }

    /// `http://127.0.0.1:<port>`
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The URL of `path_and_query` (which starts with `/`).
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.base())
    }

    /// Serves `body` at `path_and_query` with status 200.
    pub fn put(&self, path_and_query: &str, body: impl Into<Bytes>) {
        self.shared
            .bodies
            .lock()
            .unwrap()
            .insert(path_and_query.to_string(), body.into());
    }

    pub fn remove(&self, path_and_query: &str) {
        self.shared.bodies.lock().unwrap().remove(path_and_query);
    }

    /// Answers `path_and_query` with a 302 to `location`.
    pub fn redirect(&self, path_and_query: &str, location: &str) {
        self.shared
            .redirects
            .lock()
            .unwrap()
            .insert(path_and_query.to_string(), location.to_string());
    }

    /// Requests for `path_and_query` are accepted and never answered.
    pub fn hang(&self, path_and_query: &str) {
        self.shared
            .hanging
            .lock()
            .unwrap()
            .insert(path_and_query.to_string());
    }

    /// Every path and query asked, in order.
    pub fn requests(&self) -> Vec<String> {
        self.shared.log.lock().unwrap().clone()
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let key = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_string(), |p| p.as_str().to_string());
    shared.log.lock().unwrap().push(key.clone());
    if shared.hanging.lock().unwrap().contains(&key) {
        std::future::pending::<()>().await;
    }
    if let Some(location) = shared.redirects.lock().unwrap().get(&key).cloned() {
        let mut resp = Response::new(Body::empty());
        *resp.status_mut() = StatusCode::FOUND;
        resp.headers_mut()
            .insert("location", location.parse().unwrap());
        return resp;
    }
    let body = shared.bodies.lock().unwrap().get(&key).cloned();
    let mut resp = Response::new(Body::from(body.clone().unwrap_or_default()));
    if body.is_none() {
        *resp.status_mut() = StatusCode::NOT_FOUND;
    }
    resp
}
