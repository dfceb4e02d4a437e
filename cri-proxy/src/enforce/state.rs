//! The node's verified state: which (repository, digest) pairs were
//! verified under which generation, and the containerd image ID each one
//! is. It is what `ImageStatus` answers from, and it survives restarts (a
//! JSON file in `state_dir`, replaced atomically), so an air-gapped node
//! restarts its pods without a registry until the generation changes.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use pullgate_registry::{Digest, Repository};
use pullgate_verify::Generation;
use serde::{Deserialize, Serialize};

/// The file's name in `state_dir`.
pub const FILE_NAME: &str = "cri-verified.json";
/// The most entries kept (the oldest go first).
pub const MAX_ENTRIES: usize = 4096;
/// A state file larger than this is not read.
const MAX_FILE_BYTES: u64 = 8 << 20;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    repository: String,
    digest: String,
}

impl Key {
    /// The texts an entry is saved under (`Display` of both, built without formatting: this is
    /// on every `ImageStatus`).
    fn of(repository: &Repository, digest: &Digest) -> Key {
        let (registry, name) = (repository.registry(), repository.name());
        let mut r = String::with_capacity(registry.len() + 1 + name.len());
        r.push_str(registry);
        r.push('/');
        r.push_str(name);
        let (algorithm, hex) = (digest.algorithm().as_str(), digest.hex());
        let mut d = String::with_capacity(algorithm.len() + 1 + hex.len());
        d.push_str(algorithm);
        d.push(':');
        d.push_str(hex);
        Key {
            repository: r,
            digest: d,
        }
    }
}

/// An entry with its generation parsed, so lookups compare 32 bytes instead of hex text.
struct Stored {
    entry: Entry,
    /// None when the saved text is not a generation (then it matches none).
    generation: Option<Generation>,
}

impl Stored {
    fn new(entry: Entry) -> Stored {
        // Only the text `to_hex` writes: any other spelling matches no generation, as before.
        let generation =
            Generation::from_hex(&entry.generation).filter(|g| g.to_hex() == entry.generation);
        Stored { entry, generation }
    }

    fn is_of(&self, generation: &Generation) -> bool {
        self.generation.as_ref() == Some(generation)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    pub repository: String,
    pub digest: String,
    pub generation: String,
    /// containerd's image ID (`sha256:<config digest>`).
    pub image_id: String,
    /// Seconds since the epoch of the first verification under this
    /// generation (the oldest entries make room first).
    pub verified_at: u64,
}

#[derive(Serialize, Deserialize)]
struct File {
    version: u32,
    entries: Vec<Entry>,
}

pub struct VerifiedState {
    path: Option<PathBuf>,
    entries: Mutex<BTreeMap<Key, Stored>>,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl VerifiedState {
    /// A state kept only in memory (tests, `--state-dir` absent).
    pub fn in_memory() -> VerifiedState {
        VerifiedState {
            path: None,
            entries: Mutex::new(BTreeMap::new()),
        }
    }

    /// Loads `state_dir/cri-verified.json`. A missing file is an empty
    /// state; an unreadable or malformed one is reported and then treated
    /// as empty (fail closed: images are verified again).
    pub fn load(state_dir: &Path) -> (VerifiedState, Option<String>) {
        let path = state_dir.join(FILE_NAME);
        let mut problem = None;
        let mut entries = BTreeMap::new();
        match std::fs::metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => problem = Some(format!("{}: {e}", path.display())),
            Ok(m) if m.len() > MAX_FILE_BYTES => {
                problem = Some(format!(
                    "{}: larger than {MAX_FILE_BYTES} bytes, ignored",
                    path.display()
                ))
            }
            Ok(_) => match std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice::<File>(&b).map_err(|e| e.to_string()))
            {
                Ok(file) if file.version == 1 => {
                    for e in file.entries.into_iter().take(MAX_ENTRIES) {
                        if e.digest.parse::<Digest>().is_ok() {
                            entries.insert(
                                Key {
                                    repository: e.repository.clone(),
                                    digest: e.digest.clone(),
                                },
                                Stored::new(e),
                            );
                        }
                    }
                }
                Ok(file) => {
                    problem = Some(format!(
                        "{}: version {} is not known, ignored",
                        path.display(),
                        file.version
                    ))
                }
                Err(e) => problem = Some(format!("{}: {e}, ignored", path.display())),
            },
        }
        (
            VerifiedState {
                path: Some(path),
                entries: Mutex::new(entries),
            },
            problem,
        )
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<Key, Stored>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether (repository, digest) is verified under `generation`.
    pub fn is_verified(
        &self,
        repository: &Repository,
        digest: &Digest,
        generation: &Generation,
    ) -> bool {
        let key = Key::of(repository, digest);
        self.lock()
            .get(&key)
            .is_some_and(|stored| stored.is_of(generation))
    }

    /// Whether some verified pair under `generation` is the image `image_id`.
    pub fn is_verified_id(&self, image_id: &str, generation: &Generation) -> bool {
        self.lock()
            .values()
            .any(|stored| stored.entry.image_id == image_id && stored.is_of(generation))
    }

    /// Records a verification and saves the state.
    pub fn record(
        &self,
        repository: &Repository,
        digest: &Digest,
        generation: &Generation,
        image_id: &str,
    ) -> Result<(), String> {
        let entry = Entry {
            repository: repository.to_string(),
            digest: digest.to_string(),
            generation: generation.to_hex(),
            image_id: image_id.to_string(),
            verified_at: now_secs(),
        };
        let key = Key {
            repository: entry.repository.clone(),
            digest: entry.digest.clone(),
        };
        let snapshot = {
            let mut entries = self.lock();
            // The same verification again (another pull of a verified image):
            // nothing to save.
            if entries.get(&key).is_some_and(|stored| {
                stored.entry.generation == entry.generation
                    && stored.entry.image_id == entry.image_id
            }) {
                return Ok(());
            }
            entries.insert(key, Stored::new(entry));
            while entries.len() > MAX_ENTRIES {
                let oldest = entries
                    .iter()
                    .min_by_key(|(_, stored)| stored.entry.verified_at)
                    .map(|(k, _)| k.clone());
                match oldest {
                    Some(k) => entries.remove(&k),
                    None => break,
                };
            }
            snapshot(&entries)
        };
        self.save(snapshot)
    }

    /// Forgets (repository, digest) (a re-check denied it) and saves.
    pub fn forget(&self, repository: &Repository, digest: &Digest) -> Result<(), String> {
        let key = Key::of(repository, digest);
        let snapshot = {
            let mut entries = self.lock();
            if entries.remove(&key).is_none() {
                return Ok(());
            }
            snapshot(&entries)
        };
        self.save(snapshot)
    }

    /// The entries verified under `generation` (for background re-checks).
    pub fn entries(&self, generation: &Generation) -> Vec<Entry> {
        self.lock()
            .values()
            .filter(|stored| stored.is_of(generation))
            .map(|stored| stored.entry.clone())
            .collect()
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn save(&self, entries: Vec<Entry>) -> Result<(), String> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let text = serde_json::to_vec_pretty(&File {
            version: 1,
            entries,
        })
        .map_err(|e| e.to_string())?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let write = || -> std::io::Result<()> {
            std::fs::create_dir_all(dir)?;
            let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&text)?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        };
        write().map_err(|e| format!("saving {}: {e}", path.display()))
    }
}

/// The entries as saved.
fn snapshot(entries: &BTreeMap<Key, Stored>) -> Vec<Entry> {
    entries
        .values()
        .map(|stored| stored.entry.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gen_of(byte: u8) -> Generation {
        Generation::from_hex(&hex(byte)).unwrap()
    }

    fn hex(byte: u8) -> String {
        format!("{byte:02x}").repeat(32)
    }

    #[test]
    fn survives_a_restart_and_follows_the_generation() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::new("example.com", "app").unwrap();
        let other = Repository::new("example.com", "other").unwrap();
        let d: Digest = format!("sha256:{}", "a".repeat(64)).parse().unwrap();
        {
            let (s, problem) = VerifiedState::load(dir.path());
            assert!(problem.is_none());
            s.record(&repo, &d, &gen_of(1), "sha256:id").unwrap();
        }
        let (s, problem) = VerifiedState::load(dir.path());
        assert!(problem.is_none());
        assert!(s.is_verified(&repo, &d, &gen_of(1)));
        assert!(!s.is_verified(&repo, &d, &gen_of(2)), "another generation");
        assert!(!s.is_verified(&other, &d, &gen_of(1)), "another repository");
        assert!(s.is_verified_id("sha256:id", &gen_of(1)));
        assert!(!s.is_verified_id("sha256:id", &gen_of(2)));
        s.forget(&repo, &d).unwrap();
        let (s, _) = VerifiedState::load(dir.path());
        assert!(s.is_empty());
    }

    #[test]
    fn keys_are_the_display_texts() {
        let repo = Repository::new("localhost:5000", "team/app").unwrap();
        for d in [
            format!("sha256:{}", "a".repeat(64)),
            format!("sha512:{}", "b".repeat(128)),
        ] {
            let d: Digest = d.parse().unwrap();
            let key = Key::of(&repo, &d);
            assert_eq!(
                (key.repository, key.digest),
                (repo.to_string(), d.to_string())
            );
        }
    }

    #[test]
    fn only_the_canonical_generation_text_matches() {
        let repo = Repository::new("example.com", "app").unwrap();
        let d: Digest = format!("sha256:{}", "a".repeat(64)).parse().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let entry = |generation: String| Entry {
            repository: repo.to_string(),
            digest: d.to_string(),
            generation,
            image_id: "sha256:id".into(),
            verified_at: 1,
        };
        let file = File {
            version: 1,
            entries: vec![entry(hex(0xab).to_uppercase())],
        };
        std::fs::write(
            dir.path().join(FILE_NAME),
            serde_json::to_vec(&file).unwrap(),
        )
        .unwrap();
        let (s, problem) = VerifiedState::load(dir.path());
        assert!(problem.is_none());
        assert_eq!(s.len(), 1);
        assert!(!s.is_verified(&repo, &d, &gen_of(0xab)));
        assert!(!s.is_verified_id("sha256:id", &gen_of(0xab)));
        assert!(s.entries(&gen_of(0xab)).is_empty());
    }

    #[test]
    fn a_damaged_file_is_reported_and_trusts_nothing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), b"{not json").unwrap();
        let (s, problem) = VerifiedState::load(dir.path());
        assert!(problem.unwrap().contains("ignored"));
        assert!(s.is_empty());
    }
}
