//! An in-process stand-in that follows the OCI distribution spec for what
//! Debian's docker-registry 2.8 lacks (the referrers API and its pagination)
//! and injects the faults a verifier must survive: 429 with `Retry-After`,
//! 5xx, redirects (to blob storage, in loops), corrupt and oversized bodies,
//! token auth with a token endpoint that can hang.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use bytes::Bytes;
use pullgate_registry::media_types as mt;
use pullgate_registry::{ClientConfig, Descriptor, Digest, HostSettings, Manifest, Repository};

/// How the stand-in authenticates `/v2/` requests.
#[derive(Debug, Clone, Default)]
pub enum FakeAuth {
    #[default]
    None,
    Basic {
        user: String,
        pass: String,
    },
    /// Token auth; the token endpoint (`/token`) checks `user` when set and
    /// never answers when `hang_token` is true.
    Bearer {
        user: Option<(String, String)>,
        hang_token: bool,
        expires_in: u64,
    },
}

#[derive(Debug, Clone)]
pub struct FakeOptions {
    pub referrers_api: bool,
    /// Referrers per page (`Link` pagination) when set.
    pub page_size: Option<usize>,
    /// Apply the `artifactType` filter server-side (and say so).
    pub filter_referrers: bool,
    pub auth: FakeAuth,
}

impl Default for FakeOptions {
    fn default() -> FakeOptions {
        FakeOptions {
            referrers_api: true,
            page_size: None,
            filter_referrers: true,
            auth: FakeAuth::None,
        }
    }
}

/// What a fault does instead of the normal answer.
#[derive(Debug, Clone)]
pub enum Action {
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Bytes,
    },
    /// A body streamed in chunks without `Content-Length`.
    Stream {
        content_type: String,
        chunk: Bytes,
        chunks: usize,
    },
    Redirect {
        status: u16,
        location: String,
    },
    Hang,
}

/// A fault on requests whose path (without query) equals `path`; `times`
/// limits how often it fires (`None`: always).
#[derive(Debug, Clone)]
pub struct Fault {
    pub method: Option<Method>,
    pub path: String,
    pub times: Option<usize>,
    pub action: Action,
}

/// A request as the stand-in saw it.
#[derive(Debug, Clone)]
pub struct Logged {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub authorization: Option<String>,
}

#[derive(Default)]
struct Repo {
    manifests: HashMap<String, (String, Bytes)>,
    tags: HashMap<String, String>,
    blobs: HashMap<String, Bytes>,
}

struct Shared {
    addr: SocketAddr,
    options: Mutex<FakeOptions>,
    repos: Mutex<HashMap<String, Repo>>,
    faults: Mutex<Vec<Fault>>,
    log: Mutex<Vec<Logged>>,
    tokens_issued: AtomicUsize,
    uploads: AtomicUsize,
}

pub struct FakeRegistry {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeRegistry {
    pub async fn start(options: FakeOptions) -> FakeRegistry {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            addr,
            options: Mutex::new(options),
            repos: Mutex::default(),
            faults: Mutex::default(),
            log: Mutex::default(),
            tokens_issued: AtomicUsize::new(0),
            uploads: AtomicUsize::new(0),
        });
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeRegistry { shared, task }
    }

    /// `127.0.0.1:<port>`
    pub fn host(&self) -> String {
        self.shared.addr.to_string()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.shared.addr)
    }

    pub fn repo(&self, name: &str) -> Repository {
        Repository::new(&self.host(), name).unwrap()
    }

    /// Client settings: plain HTTP for this host.
    pub fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::default();
        config.hosts.insert(
            self.host(),
            HostSettings {
                insecure: true,
                ..HostSettings::default()
            },
        );
        config
    }

    pub fn add_fault(&self, fault: Fault) {
        self.shared.faults.lock().unwrap().push(fault);
    }

    pub fn set_options(&self, options: FakeOptions) {
        *self.shared.options.lock().unwrap() = options;
    }

    pub fn requests(&self) -> Vec<Logged> {
        self.shared.log.lock().unwrap().clone()
    }

    pub fn tokens_issued(&self) -> usize {
        self.shared.tokens_issued.load(Ordering::SeqCst)
    }

    /// Stores a manifest directly (no push), tagged when `tag` is given.
    pub fn put_manifest(
        &self,
        repo: &str,
        tag: Option<&str>,
        media_type: &str,
        bytes: &[u8],
    ) -> Digest {
        let digest = Digest::sha256(bytes);
        let mut repos = self.shared.repos.lock().unwrap();
        let r = repos.entry(repo.to_string()).or_default();
        r.manifests.insert(
            digest.to_string(),
            (media_type.to_string(), Bytes::copy_from_slice(bytes)),
        );
        if let Some(t) = tag {
            r.tags.insert(t.to_string(), digest.to_string());
        }
        digest
    }

    /// Stores a blob directly.
    pub fn put_blob(&self, repo: &str, bytes: &[u8]) -> Digest {
        let digest = Digest::sha256(bytes);
        let mut repos = self.shared.repos.lock().unwrap();
        let r = repos.entry(repo.to_string()).or_default();
        r.blobs
            .insert(digest.to_string(), Bytes::copy_from_slice(bytes));
        digest
    }
}

impl Drop for FakeRegistry {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn respond(status: u16, headers: &[(&str, String)], body: impl Into<Body>) -> Response {
    let mut resp = Response::new(body.into());
    *resp.status_mut() = StatusCode::from_u16(status).unwrap();
    for (k, v) in headers {
        resp.headers_mut().append(
            axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    resp
}

fn error(status: u16, code: &str) -> Response {
    let body = format!(r#"{{"errors":[{{"code":"{code}","message":"{code}"}}]}}"#);
    respond(status, &[("content-type", "application/json".into())], body)
}

async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let headers = req.headers().clone();
    shared.log.lock().unwrap().push(Logged {
        method: method.clone(),
        path: path.clone(),
        query: query.clone(),
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    });
    if path.starts_with("/v2")
        && let Some(denied) = check_auth(&shared, &headers, &path)
    {
        return denied;
    }
    if let Some(action) = take_fault(&shared, &method, &path) {
        return act(action).await;
    }
    let body = axum::body::to_bytes(req.into_body(), 64 << 20)
        .await
        .unwrap_or_default();
    if path == "/token" {
        return token(&shared, &headers).await;
    }
    if path == "/v2/" || path == "/v2" {
        return respond(200, &[("content-type", "application/json".into())], "{}");
    }
    route(&shared, &method, &path, query.as_deref(), &headers, body)
}

fn take_fault(shared: &Shared, method: &Method, path: &str) -> Option<Action> {
    let mut faults = shared.faults.lock().unwrap();
    let i = faults.iter().position(|f| {
        f.path == path && f.method.as_ref().is_none_or(|m| m == method) && f.times != Some(0)
    })?;
    if let Some(t) = faults[i].times.as_mut() {
        *t -= 1;
    }
    Some(faults[i].action.clone())
}

async fn act(action: Action) -> Response {
    match action {
        Action::Respond {
            status,
            headers,
            body,
        } => {
            let h: Vec<(&str, String)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.clone()))
                .collect();
            respond(status, &h, body)
        }
        Action::Stream {
            content_type,
            chunk,
            chunks,
        } => {
            let stream = futures_util::stream::iter(
                (0..chunks).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
            );
            respond(
                200,
                &[("content-type", content_type)],
                Body::from_stream(stream),
            )
        }
        Action::Redirect { status, location } => respond(status, &[("location", location)], ""),
        Action::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            respond(500, &[], "")
        }
    }
}

async fn token(shared: &Shared, headers: &HeaderMap) -> Response {
    let auth = shared.options.lock().unwrap().auth.clone();
    let FakeAuth::Bearer {
        user,
        hang_token,
        expires_in,
    } = auth
    else {
        return error(404, "UNSUPPORTED");
    };
    if hang_token {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    if let Some((u, p)) = user
        && !basic_ok(headers, &u, &p)
    {
        return error(401, "UNAUTHORIZED");
    }
    let n = shared.tokens_issued.fetch_add(1, Ordering::SeqCst) + 1;
    let body = format!(r#"{{"token":"token-{n}","expires_in":{expires_in}}}"#);
    respond(200, &[("content-type", "application/json".into())], body)
}

fn basic_ok(headers: &HeaderMap, user: &str, pass: &str) -> bool {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    );
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected.as_str())
}

fn check_auth(shared: &Shared, headers: &HeaderMap, path: &str) -> Option<Response> {
    let auth = shared.options.lock().unwrap().auth.clone();
    match auth {
        FakeAuth::None => None,
        FakeAuth::Basic { user, pass } => (!basic_ok(headers, &user, &pass)).then(|| {
            let mut r = error(401, "UNAUTHORIZED");
            r.headers_mut().insert(
                "www-authenticate",
                HeaderValue::from_static("Basic realm=\"fake\""),
            );
            r
        }),
        FakeAuth::Bearer { .. } => {
            let given = headers.get("authorization").and_then(|v| v.to_str().ok());
            let issued = shared.tokens_issued.load(Ordering::SeqCst);
            let valid = given
                .and_then(|g| g.strip_prefix("Bearer token-"))
                .and_then(|n| n.parse::<usize>().ok())
                .is_some_and(|n| n >= 1 && n <= issued);
            (!valid).then(|| {
                let name = repo_name(path).unwrap_or_default();
                let challenge = format!(
                    "Bearer realm=\"http://{}/token\",service=\"fake\",scope=\"repository:{name}:pull\"",
                    shared.addr
                );
                let mut r = error(401, "UNAUTHORIZED");
                r.headers_mut()
                    .insert("www-authenticate", HeaderValue::from_str(&challenge).unwrap());
                r
            })
        }
    }
}

fn repo_name(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/v2/")?;
    ["/manifests/", "/blobs/", "/referrers/", "/tags/"]
        .iter()
        .filter_map(|m| rest.rfind(m).map(|i| rest[..i].to_string()))
        .next()
}

fn route(
    shared: &Shared,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let Some(rest) = path.strip_prefix("/v2/") else {
        return error(404, "NOT_FOUND");
    };
    if let Some(i) = rest.rfind("/blobs/uploads/") {
        let name = &rest[..i];
        return upload(
            shared,
            method,
            name,
            &rest[i + "/blobs/uploads/".len()..],
            query,
            body,
        );
    }
    if let Some(i) = rest.rfind("/manifests/") {
        let (name, reference) = (&rest[..i], &rest[i + "/manifests/".len()..]);
        return manifests(shared, method, name, reference, headers, body);
    }
    if let Some(i) = rest.rfind("/blobs/") {
        let (name, digest) = (&rest[..i], &rest[i + "/blobs/".len()..]);
        let repos = shared.repos.lock().unwrap();
        return match repos.get(name).and_then(|r| r.blobs.get(digest)) {
            Some(b) if *method == Method::HEAD => respond(
                200,
                &[("content-length", b.len().to_string())],
                Body::empty(),
            ),
            Some(b) => respond(
                200,
                &[("content-type", "application/octet-stream".into())],
                b.clone(),
            ),
            None => error(404, "BLOB_UNKNOWN"),
        };
    }
    if let Some(i) = rest.rfind("/referrers/") {
        let (name, digest) = (&rest[..i], &rest[i + "/referrers/".len()..]);
        return referrers(shared, name, digest, query);
    }
    error(404, "NOT_FOUND")
}

fn upload(
    shared: &Shared,
    method: &Method,
    name: &str,
    id: &str,
    query: Option<&str>,
    body: Bytes,
) -> Response {
    if *method == Method::POST && id.is_empty() {
        let n = shared.uploads.fetch_add(1, Ordering::SeqCst);
        return respond(
            202,
            &[("location", format!("/v2/{name}/blobs/uploads/u{n}"))],
            "",
        );
    }
    if *method != Method::PUT {
        return error(405, "UNSUPPORTED");
    }
    let digest = query
        .into_iter()
        .flat_map(|q| url::form_urlencoded::parse(q.as_bytes()))
        .find(|(k, _)| k == "digest")
        .map(|(_, v)| v.to_string());
    match digest.and_then(|d| d.parse::<Digest>().ok()) {
        Some(d) if d.matches(&body) => {
            let mut repos = shared.repos.lock().unwrap();
            repos
                .entry(name.to_string())
                .or_default()
                .blobs
                .insert(d.to_string(), body);
            respond(201, &[("docker-content-digest", d.to_string())], "")
        }
        _ => error(400, "DIGEST_INVALID"),
    }
}

fn manifests(
    shared: &Shared,
    method: &Method,
    name: &str,
    reference: &str,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let mut repos = shared.repos.lock().unwrap();
    if *method == Method::PUT {
        let media_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or(mt::OCI_MANIFEST)
            .to_string();
        let digest = Digest::sha256(&body);
        let r = repos.entry(name.to_string()).or_default();
        r.manifests.insert(digest.to_string(), (media_type, body));
        if reference.parse::<Digest>().is_err() {
            r.tags.insert(reference.to_string(), digest.to_string());
        }
        return respond(201, &[("docker-content-digest", digest.to_string())], "");
    }
    let Some(repo) = repos.get(name) else {
        return error(404, "NAME_UNKNOWN");
    };
    let key = repo.tags.get(reference).map_or(reference, String::as_str);
    match repo.manifests.get(key) {
        Some((media_type, bytes)) => {
            let h = [
                ("content-type", media_type.clone()),
                ("docker-content-digest", key.to_string()),
            ];
            if *method == Method::HEAD {
                respond(200, &h, Body::empty())
            } else {
                respond(200, &h, bytes.clone())
            }
        }
        None => error(404, "MANIFEST_UNKNOWN"),
    }
}

fn referrers(shared: &Shared, name: &str, subject: &str, query: Option<&str>) -> Response {
    let options = shared.options.lock().unwrap().clone();
    if !options.referrers_api {
        return error(404, "NOT_FOUND");
    }
    let params: HashMap<String, String> = query
        .into_iter()
        .flat_map(|q| url::form_urlencoded::parse(q.as_bytes()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let artifact_type = params.get("artifactType").cloned();
    let page: usize = params.get("page").and_then(|p| p.parse().ok()).unwrap_or(0);
    let repos = shared.repos.lock().unwrap();
    let mut found: Vec<Descriptor> = Vec::new();
    if let Some(repo) = repos.get(name) {
        let mut entries: Vec<_> = repo.manifests.iter().collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        for (_, (media_type, bytes)) in entries {
            let Ok(Manifest::Image(m)) = Manifest::parse(Some(media_type), bytes) else {
                continue;
            };
            if m.subject.as_ref().map(|s| s.digest.to_string()).as_deref() != Some(subject) {
                continue;
            }
            let mut d = Descriptor::of(media_type, bytes);
            d.artifact_type = Some(m.effective_artifact_type().to_string());
            d.annotations = m.annotations.clone();
            found.push(d);
        }
    }
    let filter = options.filter_referrers && artifact_type.is_some();
    if filter {
        found.retain(|d| d.artifact_type == artifact_type);
    }
    let mut headers = vec![("content-type", mt::OCI_INDEX.to_string())];
    if filter {
        headers.push(("oci-filters-applied", "artifactType".to_string()));
    }
    if let Some(size) = options.page_size {
        let start = page * size;
        let more = found.len() > start + size;
        found = found.into_iter().skip(start).take(size).collect();
        if more {
            let mut next = format!("/v2/{name}/referrers/{subject}?page={}", page + 1);
            if let Some(t) = &artifact_type {
                next.push_str(&format!("&artifactType={}", urlencode(t)));
            }
            headers.push(("link", format!("<{next}>; rel=\"next\"")));
        }
    }
    let index =
        serde_json::json!({"schemaVersion": 2, "mediaType": mt::OCI_INDEX, "manifests": found});
    respond(200, &headers, serde_json::to_vec(&index).unwrap())
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
