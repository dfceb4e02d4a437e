//! Checker-level tests: CRLs from `crl_dir`, downloads and the cache; OCSP
//! answers and faults; the OCSP-then-CRL fallback; delta CRLs; time bounds.
//! Servers run on 127.0.0.1; certificates' fixed URLs reach them through
//! `url_rewrite`.

mod crl_sources;
mod deltas;
mod ocsp_checks;

use std::path::Path;

use pullgate_testsupport::FileServer;

use super::fixtures::{closed_port_url, ctx, settings, vector};
use super::{Checker, RevocationMode, Status, chain_statuses};
use crate::x509::Cert;

/// A `crl_dir` holding `files` (name, bytes).
fn crl_dir(files: &[(&str, Vec<u8>)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    dir
}

fn offline(dir: &Path) -> Checker {
    Checker::new(super::RevocationSettings {
        crl_dir: Some(dir.to_path_buf()),
        ..settings(RevocationMode::Offline)
    })
    .unwrap()
}

/// An online checker with these rewrites, crl_dir and cache directory.
fn online(rewrites: &[(&str, String)], dir: Option<&Path>, cache: Option<&Path>) -> Checker {
    Checker::new(super::RevocationSettings {
        crl_dir: dir.map(Path::to_path_buf),
        cache_dir: cache.map(Path::to_path_buf),
        url_rewrite: rewrites
            .iter()
            .map(|(from, to)| (from.to_string(), to.clone()))
            .collect(),
        ..settings(RevocationMode::Online)
    })
    .unwrap()
}

/// The e2e CRL chain's rewrites: its CRLs from `server`, its intermediate's
/// OCSP responder (`http://localhost.test/ocsp`) unreachable.
fn e2e_rewrites(server: &FileServer) -> Vec<(&'static str, String)> {
    vec![
        ("http://localhost:10086/", format!("{}/", server.base())),
        ("http://localhost.test/", format!("{}/", closed_port_url())),
    ]
}

/// A server of the e2e CRL chain's two CRLs, from these vector files.
async fn e2e_crl_server(leaf: &str, intermediate: &str) -> FileServer {
    let server = FileServer::start().await;
    server.put("/leaf.crl", vector(&format!("notation-e2e-crl/{leaf}")));
    server.put(
        "/intermediate.crl",
        vector(&format!("notation-e2e-crl/{intermediate}")),
    );
    server
}

async fn statuses(checker: &Checker, chain: &[Cert]) -> Vec<Status> {
    chain_statuses(checker, chain, &ctx()).await
}
