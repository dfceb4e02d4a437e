//! Downloaded CRLs, kept while current: in memory (parsed, a bounded
//! number) and, when a directory is given, on disk in notation's file
//! format — a file named by the hex SHA-256 of the CRL URL holding
//! `{"baseCRL": "<base64 DER>", "deltaCRL": "<base64 DER>"}` — so they
//! survive restarts. Files are written atomically (temporary file, then
//! rename); an unreadable, oversized or stale entry is a miss.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;
use tokio::io::AsyncReadExt as _;

use super::crl::Crl;
use super::crl_check::Bundle;
use super::error::{CrlParseError, RevocationSetupError};
use super::settings::MAX_CRL_BYTES;

/// Parsed bundles kept in memory.
const MAX_MEMORY_ENTRIES: usize = 64;
/// Files kept in the cache directory; the oldest is removed beyond this.
const MAX_FILES: usize = 1024;
/// A cache file holds two base64 CRLs and a little JSON.
const MAX_FILE_BYTES: u64 = (2 * MAX_CRL_BYTES).div_ceil(3) * 4 + 4096;

#[derive(Serialize, Deserialize)]
struct FileContent {
    #[serde(rename = "baseCRL")]
    base: String,
    #[serde(rename = "deltaCRL", default, skip_serializing_if = "Option::is_none")]
    delta: Option<String>,
}

#[derive(Debug)]
pub(crate) struct CrlCache {
    dir: Option<PathBuf>,
    memory: Mutex<HashMap<String, Arc<Bundle>>>,
}

impl CrlCache {
    /// A cache in `dir` (created when missing), or in memory only.
    pub(crate) fn new(dir: Option<&Path>) -> Result<CrlCache, RevocationSetupError> {
        if let Some(dir) = dir {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder
                .create(dir)
                .map_err(|source| RevocationSetupError::CacheDir {
                    path: dir.to_path_buf(),
                    source,
                })?;
        }
        Ok(CrlCache {
            dir: dir.map(Path::to_path_buf),
            memory: Mutex::default(),
        })
    }

    /// The bundle cached for `url`, when it is current at `now`.
    pub(crate) async fn get(&self, url: &str, now: OffsetDateTime) -> Option<Arc<Bundle>> {
        if let Some(b) = self.memory().get(url).filter(|b| b.is_current(now)) {
            return Some(Arc::clone(b));
        }
        let path = self.dir.as_ref()?.join(file_name(url));
        let bundle = match read_file(&path).await {
            Ok(b) => b,
            Err(why) => {
                tracing::debug!(url, path = %path.display(), %why, "CRL cache miss");
                return None;
            }
        };
        if !bundle.is_current(now) {
            tracing::debug!(url, "cached CRL is not current");
            return None;
        }
        let bundle = Arc::new(bundle);
        self.remember(url, &bundle, now);
        Some(bundle)
    }

    /// Keeps `bundle` for `url` (in memory, and on disk when configured);
    /// a failed write is logged and otherwise ignored.
    pub(crate) async fn put(&self, url: &str, bundle: &Arc<Bundle>, now: OffsetDateTime) {
        self.remember(url, bundle, now);
        let Some(dir) = &self.dir else {
            return;
        };
        if let Err(e) = write_file(dir, url, bundle).await {
            tracing::warn!(url, dir = %dir.display(), error = %e, "could not cache a CRL");
        }
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Bundle>>> {
        self.memory
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn remember(&self, url: &str, bundle: &Arc<Bundle>, now: OffsetDateTime) {
        let mut memory = self.memory();
        if memory.len() >= MAX_MEMORY_ENTRIES && !memory.contains_key(url) {
            memory.retain(|_, b| b.is_current(now));
            if memory.len() >= MAX_MEMORY_ENTRIES
                && let Some(oldest) = memory
                    .iter()
                    .min_by_key(|(_, b)| b.base.this_update)
                    .map(|(k, _)| k.clone())
            {
                memory.remove(&oldest);
            }
        }
        memory.insert(url.to_string(), Arc::clone(bundle));
    }
}

/// notation's cache file name: the hex SHA-256 of the URL.
pub(crate) fn file_name(url: &str) -> String {
    hex::encode(Sha256::digest(url.as_bytes()))
}

/// Why a cache file is a miss.
#[derive(Debug, thiserror::Error)]
enum ReadError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("larger than {MAX_FILE_BYTES} bytes")]
    TooLarge,
    #[error("not notation's cache format: {0}")]
    Json(#[from] serde_json::Error),
    #[error("invalid base64: {0}")]
    Base64(#[from] base64::DecodeError),
    #[error("{0}")]
    Crl(#[from] CrlParseError),
}

async fn read_file(path: &Path) -> Result<Bundle, ReadError> {
    let file = tokio::fs::File::open(path).await?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .await?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ReadError::TooLarge);
    }
    let content: FileContent = serde_json::from_slice(&bytes)?;
    let crl = |b64: &str| -> Result<Arc<Crl>, ReadError> {
        let der = base64::engine::general_purpose::STANDARD.decode(b64)?;
        Ok(Arc::new(Crl::from_der(&der)?))
    };
    Ok(Bundle {
        base: crl(&content.base)?,
        delta: content.delta.as_deref().map(crl).transpose()?,
    })
}

async fn write_file(dir: &Path, url: &str, bundle: &Bundle) -> std::io::Result<()> {
    let b64 = |c: &Crl| base64::engine::general_purpose::STANDARD.encode(c.der());
    let content = FileContent {
        base: b64(&bundle.base),
        delta: bundle.delta.as_deref().map(b64),
    };
    let json = serde_json::to_vec(&content)?;
    make_room(dir).await?;
    let name = file_name(url);
    let mut nonce = [0u8; 8];
    aws_lc_rs::rand::fill(&mut nonce).map_err(|_| std::io::Error::other("no randomness"))?;
    let temp = dir.join(format!(".{name}.{}.tmp", hex::encode(nonce)));
    if let Err(e) = tokio::fs::write(&temp, &json).await {
        let _ = tokio::fs::remove_file(&temp).await;
        return Err(e);
    }
    let renamed = tokio::fs::rename(&temp, dir.join(&name)).await;
    if renamed.is_err() {
        let _ = tokio::fs::remove_file(&temp).await;
    }
    renamed
}

/// Removes the least recently written cache files while there are
/// [`MAX_FILES`] or more, and temporary files an interrupted write left
/// behind more than an hour ago.
async fn make_room(dir: &Path) -> std::io::Result<()> {
    let mut entries = tokio::fs::read_dir(dir).await?;
    let mut files = Vec::new();
    let mut stale = Vec::new();
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    while let Some(entry) = entries.next_entry().await? {
        let name = entry.file_name().to_string_lossy().into_owned();
        let modified = entry.metadata().await?.modified()?;
        if name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
            files.push((modified, entry.path()));
        } else if name.starts_with('.') && name.ends_with(".tmp") && modified < hour_ago {
            stale.push(entry.path());
        }
        if files.len() + stale.len() > 4 * MAX_FILES {
            break;
        }
    }
    for path in stale {
        tokio::fs::remove_file(path).await?;
    }
    if files.len() < MAX_FILES {
        return Ok(());
    }
    files.sort();
    for (_, path) in files.iter().take(files.len() + 1 - MAX_FILES) {
        tokio::fs::remove_file(path).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::notary::revocation::fixtures::{NOW, vector};

    fn bundle() -> Arc<Bundle> {
        let crl = Crl::from_der(&vector("notation-e2e-crl/leaf.crl")).unwrap();
        Arc::new(Bundle {
            base: Arc::new(crl),
            delta: None,
        })
    }

    #[tokio::test]
    async fn entries_survive_a_new_cache_and_expire() {
        let dir = tempfile::tempdir().unwrap();
        let url = "http://localhost:10086/leaf.crl";
        CrlCache::new(Some(dir.path()))
            .unwrap()
            .put(url, &bundle(), NOW)
            .await;
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, [file_name(url)]);
        let fresh = CrlCache::new(Some(dir.path())).unwrap();
        let got = fresh.get(url, NOW).await.unwrap();
        assert_eq!(got.base.der(), bundle().base.der());
        // nextUpdate is 2124-10-18: not current any more after it.
        let later = datetime!(2125-01-01 0:00 UTC);
        assert!(
            CrlCache::new(Some(dir.path()))
                .unwrap()
                .get(url, later)
                .await
                .is_none()
        );
        assert!(
            fresh.get(url, later).await.is_none(),
            "memory entries expire too"
        );
    }

    #[tokio::test]
    async fn the_oldest_files_make_room() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..MAX_FILES {
            std::fs::write(dir.path().join(format!("{i:064x}")), b"{}").unwrap();
        }
        std::fs::write(dir.path().join(".abc.0.tmp"), b"").unwrap();
        let cache = CrlCache::new(Some(dir.path())).unwrap();
        cache.put("http://crl.test/x.crl", &bundle(), NOW).await;
        let count = std::fs::read_dir(dir.path()).unwrap().count();
        // One old file gave way; the fresh temporary file stays.
        assert_eq!(count, MAX_FILES + 1);
        assert!(dir.path().join(file_name("http://crl.test/x.crl")).exists());
    }
}
