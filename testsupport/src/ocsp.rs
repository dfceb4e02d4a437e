//! An in-process OCSP responder (RFC 6960) on 127.0.0.1 and a free port:
//! answers GET (`/<url-escaped base64 request>`) and POST requests for
//! configured serial numbers with good, revoked or unknown, signed by a
//! given key (with or without an embedded responder certificate), with
//! chosen thisUpdate / nextUpdate, and faults: any HTTP status, a raw body,
//! a hang. Every request is logged. Stopped on drop.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use der::asn1::AnyRef;
use der::{Decode as _, Reader as _, SliceReader, Tagged as _};
use time::OffsetDateTime;

use crate::crl::RawExt;
use crate::der_build::{
    bit_string, enumerated, explicit, extension, generalized_time, octet_string, oid, seq, tlv,
};
use crate::pkix_sign::{PkixSigner, subject_der};

/// What the responder says about a serial number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OcspAnswer {
    Good,
    Revoked {
        at: OffsetDateTime,
        reason: Option<u8>,
        /// Sent as the id-ce-invalidityDate single extension.
        invalidity_date: Option<OffsetDateTime>,
    },
    Unknown,
}

/// Instead of a signed answer.
#[derive(Debug, Clone)]
pub enum OcspFault {
    /// This HTTP status with an empty body.
    Status(u16),
    /// This body with status 200 (malformed data, an error response).
    Body(Vec<u8>),
    /// The request is accepted and never answered.
    Hang,
}

/// Who signs the responses.
#[derive(Debug, Clone)]
pub struct OcspSigner {
    pub key: PkixSigner,
    /// The responder's certificate, embedded in the response when `embed`.
    pub cert: Vec<u8>,
    pub embed: bool,
}

impl OcspSigner {
    /// A delegated responder: `cert` (embedded) with its PEM key.
    pub fn delegated(cert_der: &[u8], key_pem: &str) -> OcspSigner {
        OcspSigner {
            key: PkixSigner::from_pem(key_pem),
            cert: cert_der.to_vec(),
            embed: true,
        }
    }

    /// The issuer itself: no certificate in the response.
    pub fn issuer(cert_der: &[u8], key_pem: &str) -> OcspSigner {
        OcspSigner {
            embed: false,
            ..OcspSigner::delegated(cert_der, key_pem)
        }
    }
}

/// A request as the responder saw it.
#[derive(Debug, Clone)]
pub struct OcspRequestLog {
    pub method: Method,
    pub path: String,
    /// The serial asked about, when the request parsed.
    pub serial: Option<Vec<u8>>,
}

struct Config {
    signer: OcspSigner,
    answers: HashMap<Vec<u8>, OcspAnswer>,
    default: OcspAnswer,
    this_update: OffsetDateTime,
    next_update: Option<OffsetDateTime>,
    single_extensions: Vec<RawExt>,
    fault: Option<OcspFault>,
}

struct Shared {
    config: Mutex<Config>,
    log: Mutex<Vec<OcspRequestLog>>,
}

pub struct OcspResponder {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl OcspResponder {
    /// A responder answering `Unknown` for every serial until told
    /// otherwise, thisUpdate = now − 1 h, nextUpdate = now + 1 h.
    pub async fn start(signer: OcspSigner) -> OcspResponder {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let now = OffsetDateTime::now_utc();
        let shared = Arc::new(Shared {
            config: Mutex::new(Config {
                signer,
                answers: HashMap::new(),
                default: OcspAnswer::Unknown,
                this_update: now - time::Duration::hours(1),
                next_update: Some(now + time::Duration::hours(1)),
                single_extensions: Vec::new(),
                fault: None,
            }),
            log: Mutex::default(),
        });
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        OcspResponder { addr, shared, task }
    }

    /// `http://127.0.0.1:<port>`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The answer for `serial` (INTEGER contents, see [`crate::serial_of`]).
    pub fn set(&self, serial: &[u8], answer: OcspAnswer) {
        self.config().answers.insert(serial.to_vec(), answer);
    }

    /// The answer for serials not [`set`](Self::set).
    pub fn set_default(&self, answer: OcspAnswer) {
        self.config().default = answer;
    }

    pub fn set_times(&self, this_update: OffsetDateTime, next_update: Option<OffsetDateTime>) {
        let mut c = self.config();
        c.this_update = this_update;
        c.next_update = next_update;
    }

    pub fn set_signer(&self, signer: OcspSigner) {
        self.config().signer = signer;
    }

    /// Extra single-response extensions (e.g. a critical unknown one).
    pub fn set_single_extensions(&self, extensions: Vec<RawExt>) {
        self.config().single_extensions = extensions;
    }

    pub fn set_fault(&self, fault: Option<OcspFault>) {
        self.config().fault = fault;
    }

    pub fn requests(&self) -> Vec<OcspRequestLog> {
        self.shared.log.lock().unwrap().clone()
    }

    fn config(&self) -> std::sync::MutexGuard<'_, Config> {
        self.shared.config.lock().unwrap()
    }
}

impl Drop for OcspResponder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let body = axum::body::to_bytes(req.into_body(), 64 << 10)
        .await
        .unwrap_or_default();
    let der = match method {
        Method::POST => Some(body.to_vec()),
        _ => decode_get(&path),
    };
    let cert_id = der.as_deref().and_then(first_cert_id);
    shared.log.lock().unwrap().push(OcspRequestLog {
        method,
        path,
        serial: cert_id.as_ref().map(|(_, serial)| serial.clone()),
    });
    let (fault, reply) = {
        let config = shared.config.lock().unwrap();
        let reply = cert_id.map(|(id, serial)| respond(&config, &id, &serial));
        (config.fault.clone(), reply)
    };
    match fault {
        Some(OcspFault::Hang) => std::future::pending().await,
        Some(OcspFault::Status(s)) => status(s, Vec::new()),
        Some(OcspFault::Body(b)) => status(200, b),
        None => match reply {
            Some(r) => status(200, r),
            // Malformed request: OCSPResponse { malformedRequest }.
            None => status(200, seq(&[enumerated(1)])),
        },
    }
}

fn status(code: u16, body: Vec<u8>) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = StatusCode::from_u16(code).unwrap();
    resp.headers_mut().insert(
        "content-type",
        axum::http::HeaderValue::from_static("application/ocsp-response"),
    );
    resp
}

/// The base64 request in the last path segment, percent-decoded.
fn decode_get(path: &str) -> Option<Vec<u8>> {
    let segment = path.rsplit('/').next()?;
    let mut bytes = Vec::new();
    let mut it = segment.bytes();
    while let Some(b) = it.next() {
        if b == b'%' {
            let hex = [it.next()?, it.next()?];
            bytes.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
        } else {
            bytes.push(b);
        }
    }
    base64::engine::general_purpose::STANDARD.decode(bytes).ok()
}

/// The first CertID (raw DER) of an OCSPRequest and its serial contents.
fn first_cert_id(request: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let inner = |bytes: &[u8]| -> Option<Vec<u8>> {
        let any = AnyRef::from_der(bytes).ok()?;
        Some(any.value().to_vec())
    };
    let request = inner(request)?; // OCSPRequest contents
    let mut r = SliceReader::new(&request).ok()?;
    let tbs = r.tlv_bytes().ok()?;
    let tbs = inner(tbs)?;
    let mut r = SliceReader::new(&tbs).ok()?;
    let list = loop {
        let tlv = r.tlv_bytes().ok()?;
        if AnyRef::from_der(tlv).ok()?.tag() == der::Tag::Sequence {
            break tlv;
        }
    };
    let list = inner(list)?;
    let first_request = inner(SliceReader::new(&list).ok()?.tlv_bytes().ok()?)?;
    let cert_id = SliceReader::new(&first_request)
        .ok()?
        .tlv_bytes()
        .ok()?
        .to_vec();
    let fields = inner(&cert_id)?;
    let mut r = SliceReader::new(&fields).ok()?;
    for _ in 0..3 {
        r.tlv_bytes().ok()?;
    }
    let serial = AnyRef::from_der(r.tlv_bytes().ok()?).ok()?.value().to_vec();
    Some((cert_id, serial))
}

fn respond(config: &Config, cert_id: &[u8], serial: &[u8]) -> Vec<u8> {
    let answer = config.answers.get(serial).unwrap_or(&config.default);
    single_response(
        &OcspResponse {
            answer: answer.clone(),
            this_update: config.this_update,
            next_update: config.next_update,
            single_extensions: config.single_extensions.clone(),
        },
        cert_id,
        &config.signer,
    )
}

/// The contents of one signed answer.
#[derive(Debug, Clone)]
pub struct OcspResponse {
    pub answer: OcspAnswer,
    pub this_update: OffsetDateTime,
    pub next_update: Option<OffsetDateTime>,
    pub single_extensions: Vec<RawExt>,
}

/// A signed, successful OCSPResponse answering `request` (an OCSPRequest
/// DER; its first CertID is echoed), as the responder makes them.
pub fn ocsp_response_for(request: &[u8], response: &OcspResponse, signer: &OcspSigner) -> Vec<u8> {
    let (cert_id, _) = first_cert_id(request).expect("an OCSP request");
    single_response(response, &cert_id, signer)
}

fn single_response(response: &OcspResponse, cert_id: &[u8], signer: &OcspSigner) -> Vec<u8> {
    let mut extensions: Vec<Vec<u8>> = Vec::new();
    let status = match &response.answer {
        OcspAnswer::Good => vec![0x80, 0x00],
        OcspAnswer::Unknown => vec![0x82, 0x00],
        OcspAnswer::Revoked {
            at,
            reason,
            invalidity_date,
        } => {
            if let Some(d) = invalidity_date {
                extensions.push(extension("2.5.29.24", false, &generalized_time(*d)));
            }
            let mut info = generalized_time(*at);
            if let Some(r) = reason {
                info.extend(explicit(0, &enumerated(*r)));
            }
            tlv(0xa1, &info)
        }
    };
    extensions.extend(
        response
            .single_extensions
            .iter()
            .map(|e| extension(&e.oid, e.critical, &e.value)),
    );
    let mut single = vec![
        cert_id.to_vec(),
        status,
        generalized_time(response.this_update),
    ];
    if let Some(n) = response.next_update {
        single.push(explicit(0, &generalized_time(n)));
    }
    if !extensions.is_empty() {
        single.push(explicit(1, &seq(&extensions)));
    }
    let tbs = seq(&[
        explicit(1, &subject_der(&signer.cert)),
        generalized_time(OffsetDateTime::now_utc()),
        seq(&[seq(&single)]),
    ]);
    let algorithm = signer.key.algorithm_identifier();
    let signature = signer.key.sign(&tbs);
    let mut basic = vec![tbs, algorithm, bit_string(&signature)];
    if signer.embed {
        basic.push(explicit(0, &seq(std::slice::from_ref(&signer.cert))));
    }
    let basic = seq(&basic);
    seq(&[
        enumerated(0),
        explicit(
            0,
            &seq(&[oid("1.3.6.1.5.5.7.48.1.1"), octet_string(&basic)]),
        ),
    ])
}
