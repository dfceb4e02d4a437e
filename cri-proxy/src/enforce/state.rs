//! The node's verified state: which (repository, digest) pairs were
//! verified under which generation, and the containerd image ID each one
//! is. It is what `ImageStatus` answers from, and it survives restarts (a
//! JSON file in `state_dir`, replaced atomically), so an air-gapped node
//! restarts its pods without a registry until the generation changes.
//!
//! Changes are made in memory; [`VerifiedState::persist`] writes the newest
//! state (blocking I/O: callers run it off the async threads) and a failed
//! write is retried by the next call. The file is trusted only when it and
//! its directory belong to this process's user and nobody else can write
//! them: whoever can write it could make any image "verified".

use std::collections::BTreeMap;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
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
    /// Bumped (under the entries' lock) by every change.
    changes: AtomicU64,
    /// The change last written; also the writers' lock (one at a time).
    saved: Mutex<u64>,
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
        VerifiedState::with(None, BTreeMap::new())
    }

    fn with(path: Option<PathBuf>, entries: BTreeMap<Key, Stored>) -> VerifiedState {
        VerifiedState {
            path,
            entries: Mutex::new(entries),
            changes: AtomicU64::new(0),
            saved: Mutex::new(0),
        }
    }

    /// Loads `state_dir/cri-verified.json`. A missing file is an empty
    /// state; an unreadable, malformed or untrustworthy one is reported and
    /// then treated as empty (fail closed: images are verified again). A
    /// `state_dir` others can write is not used at all (the state is kept
    /// in memory only).
    pub fn load(state_dir: &Path) -> (VerifiedState, Option<String>) {
        let path = state_dir.join(FILE_NAME);
        if let Err(why) = trustworthy_dir(state_dir) {
            return (
                VerifiedState::in_memory(),
                Some(format!(
                    "{}: {why}; the verified state is kept in memory only",
                    state_dir.display()
                )),
            );
        }
        let mut entries = BTreeMap::new();
        let problem = match read_file(&path) {
            Ok(None) => None,
            Ok(Some(file)) if file.version == 1 => {
                let mut dropped = 0usize;
                for e in file.entries.into_iter().take(MAX_ENTRIES) {
                    if !well_formed(&e) {
                        dropped += 1;
                        continue;
                    }
                    entries.insert(
                        Key {
                            repository: e.repository.clone(),
                            digest: e.digest.clone(),
                        },
                        Stored::new(e),
                    );
                }
                (dropped > 0)
                    .then(|| format!("{}: {dropped} malformed entries ignored", path.display()))
            }
            Ok(Some(file)) => Some(format!(
                "{}: version {} is not known, ignored",
                path.display(),
                file.version
            )),
            Err(e) => Some(format!("{}: {e}, ignored", path.display())),
        };
        (VerifiedState::with(Some(path), entries), problem)
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
        self.entry_is(repository, digest, |stored| stored.is_of(generation))
    }

    /// Whether (repository, digest) is verified under `generation` as the
    /// image `image_id` (what containerd answered is what was verified).
    pub fn is_verified_as(
        &self,
        repository: &Repository,
        digest: &Digest,
        generation: &Generation,
        image_id: &str,
    ) -> bool {
        self.entry_is(repository, digest, |stored| {
            stored.is_of(generation) && stored.entry.image_id == image_id
        })
    }

    fn entry_is(
        &self,
        repository: &Repository,
        digest: &Digest,
        test: impl FnOnce(&Stored) -> bool,
    ) -> bool {
        self.lock()
            .get(&Key::of(repository, digest))
            .is_some_and(test)
    }

    /// Whether some verified pair under `generation` is the image `image_id`.
    pub fn is_verified_id(&self, image_id: &str, generation: &Generation) -> bool {
        self.lock()
            .values()
            .any(|stored| stored.entry.image_id == image_id && stored.is_of(generation))
    }

    /// Records a verification (in memory: [`Self::persist`] saves it);
    /// false when it was already recorded.
    pub fn record(
        &self,
        repository: &Repository,
        digest: &Digest,
        generation: &Generation,
        image_id: &str,
    ) -> bool {
        self.record_if(repository, digest, generation, image_id, || true)
    }

    /// [`Self::record`] when `still` holds, asked under the state's lock: a
    /// [`Self::forget`] that follows whatever made `still` false cannot be
    /// overtaken by this record.
    pub fn record_if(
        &self,
        repository: &Repository,
        digest: &Digest,
        generation: &Generation,
        image_id: &str,
        still: impl FnOnce() -> bool,
    ) -> bool {
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
        {
            let mut entries = self.lock();
            // The same verification again (another pull of a verified image):
            // nothing to save.
            if entries.get(&key).is_some_and(|stored| {
                stored.entry.generation == entry.generation
                    && stored.entry.image_id == entry.image_id
            }) || !still()
            {
                return false;
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
            self.changes.fetch_add(1, Ordering::SeqCst);
        }
        true
    }

    /// Forgets (repository, digest) (a re-check denied it), in memory:
    /// [`Self::persist`] saves it. False when it was not there.
    pub fn forget(&self, repository: &Repository, digest: &Digest) -> bool {
        let key = Key::of(repository, digest);
        let mut entries = self.lock();
        if entries.remove(&key).is_none() {
            return false;
        }
        self.changes.fetch_add(1, Ordering::SeqCst);
        true
    }

    /// Whether the state is kept in a file (false: in memory only, for
    /// want of a trustworthy `state_dir`).
    pub fn is_persistent(&self) -> bool {
        self.path.is_some()
    }

    /// Whether a change has not been written yet.
    pub fn is_dirty(&self) -> bool {
        let saved = *self.saved.lock().unwrap_or_else(|e| e.into_inner());
        self.changes.load(Ordering::SeqCst) != saved
    }

    /// Writes the newest state if it changed since the last write
    /// (blocking: file I/O and fsync). Writers take turns, and each writes
    /// what is current when its turn comes, so an older state never
    /// replaces a newer one; after a failure, the next call writes again.
    pub fn persist(&self) -> Result<(), String> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let mut saved = self.saved.lock().unwrap_or_else(|e| e.into_inner());
        let (change, entries) = {
            let entries = self.lock();
            (self.changes.load(Ordering::SeqCst), snapshot(&entries))
        };
        if change == *saved {
            return Ok(());
        }
        write_file(path, entries).map_err(|e| format!("saving {}: {e}", path.display()))?;
        *saved = change;
        Ok(())
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
}

/// The state directory may be trusted: owned by root or this process's
/// user and writable by nobody else. A missing one is created (0700) on
/// first write.
fn trustworthy_dir(dir: &Path) -> Result<(), String> {
    match std::fs::metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e.to_string()),
        Ok(m) if !m.is_dir() => Err("not a directory".into()),
        Ok(m) => crate::socket::private(&m),
    }
}

fn no_follow() -> i32 {
    // The flag's bits fit an i32 (open(2) takes an int).
    i32::try_from(rustix::fs::OFlags::NOFOLLOW.bits()).unwrap_or(0)
}

/// The state file, if there is one: a regular file (not followed through a
/// symlink), trustworthy, at most `MAX_FILE_BYTES`, read from the handle
/// it was checked on.
fn read_file(path: &Path) -> Result<Option<File>, String> {
    use pullgate_registry::files::{FileError, read_checked};
    let bytes = match read_checked(path, MAX_FILE_BYTES, false, crate::socket::private) {
        Err(FileError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
        Ok(b) => b,
    };
    serde_json::from_slice::<File>(&bytes)
        .map(Some)
        .map_err(|e| e.to_string())
}

/// An entry this build could have written: a repository that reads back as
/// itself, a digest, and an image ID that is a digest.
fn well_formed(e: &Entry) -> bool {
    let repository_ok = format!("{}:x", e.repository)
        .parse::<pullgate_registry::ImageRef>()
        .is_ok_and(|r| r.repository().to_string() == e.repository);
    repository_ok && e.digest.parse::<Digest>().is_ok() && e.image_id.parse::<Digest>().is_ok()
}

/// Replaces the state file: a new file only this user can read (never
/// through a symlink), synced, renamed over the old one, and the directory
/// synced so the rename survives a power loss. A failure leaves the old
/// file as it was and no temporary file behind.
fn write_file(path: &Path, entries: Vec<Entry>) -> std::io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let text = serde_json::to_vec_pretty(&File {
        version: 1,
        entries,
    })?;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let tmp = dir.join(format!(
        ".{FILE_NAME}.{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let written = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(no_follow())
            .open(&tmp)?;
        f.write_all(&text)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    std::fs::File::open(dir)?.sync_all()
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

    fn id() -> String {
        format!("sha256:{}", "c".repeat(64))
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
            assert!(s.record(&repo, &d, &gen_of(1), &id()));
            assert!(!s.record(&repo, &d, &gen_of(1), &id()), "already there");
            assert!(s.is_dirty());
            s.persist().unwrap();
            assert!(!s.is_dirty());
        }
        let (s, problem) = VerifiedState::load(dir.path());
        assert!(problem.is_none());
        assert!(s.is_verified(&repo, &d, &gen_of(1)));
        assert!(!s.is_verified(&repo, &d, &gen_of(2)), "another generation");
        assert!(!s.is_verified(&other, &d, &gen_of(1)), "another repository");
        assert!(s.is_verified_as(&repo, &d, &gen_of(1), &id()));
        assert!(
            !s.is_verified_as(&repo, &d, &gen_of(1), "sha256:other"),
            "another image"
        );
        assert!(s.is_verified_id(&id(), &gen_of(1)));
        assert!(!s.is_verified_id(&id(), &gen_of(2)));
        assert!(s.forget(&repo, &d));
        s.persist().unwrap();
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
            image_id: id(),
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
        assert!(!s.is_verified_id(&id(), &gen_of(0xab)));
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

    fn write_entries(dir: &Path, entries: Vec<Entry>) {
        std::fs::write(
            dir.join(FILE_NAME),
            serde_json::to_vec(&File {
                version: 1,
                entries,
            })
            .unwrap(),
        )
        .unwrap();
    }

    fn entry(repository: &str, image_id: &str) -> Entry {
        Entry {
            repository: repository.into(),
            digest: format!("sha256:{}", "a".repeat(64)),
            generation: hex(1),
            image_id: image_id.into(),
            verified_at: 1,
        }
    }

    #[test]
    fn entries_this_build_could_not_have_written_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        write_entries(
            dir.path(),
            vec![
                entry("!!!", &id()),
                // Written before docker.io/x was read as docker.io/library/x.
                entry("docker.io/nginx", &id()),
                entry("example.com/app", "not-a-digest"),
                entry("example.com/app", &id()),
            ],
        );
        let (s, problem) = VerifiedState::load(dir.path());
        assert_eq!(s.len(), 1);
        assert!(problem.unwrap().contains("3 malformed entries ignored"));
        assert!(s.is_verified_id(&id(), &gen_of(1)));
    }

    #[test]
    fn a_state_others_can_write_is_not_trusted() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        write_entries(dir.path(), vec![entry("example.com/app", &id())]);

        // The file writable by others: ignored.
        let file = dir.path().join(FILE_NAME);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
        let (s, problem) = VerifiedState::load(dir.path());
        assert!(s.is_empty());
        assert!(problem.unwrap().contains("writable by group or others"));

        // A symlink in its place: not followed.
        std::fs::remove_file(&file).unwrap();
        let elsewhere = dir.path().join("elsewhere.json");
        write_entries(dir.path(), vec![entry("example.com/app", &id())]);
        std::fs::rename(&file, &elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &file).unwrap();
        let (s, problem) = VerifiedState::load(dir.path());
        assert!(s.is_empty());
        assert!(problem.is_some());

        // A directory writable by others: nothing is read or written there.
        std::fs::remove_file(&file).unwrap();
        std::fs::rename(&elsewhere, &file).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let (s, problem) = VerifiedState::load(dir.path());
        assert!(s.is_empty());
        assert!(problem.unwrap().contains("kept in memory only"));
        let repo = Repository::new("example.com", "other").unwrap();
        let d: Digest = format!("sha256:{}", "b".repeat(64)).parse().unwrap();
        s.record(&repo, &d, &gen_of(1), &id());
        s.persist().unwrap();
        let (_, problem) = VerifiedState::load(dir.path());
        assert!(problem.is_some());
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    }

    #[test]
    fn a_fifo_in_place_of_the_file_does_not_hang_the_load() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(FILE_NAME);
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &file,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let (s, problem) = VerifiedState::load(dir.path());
        assert!(s.is_empty());
        assert!(problem.unwrap().contains("not a regular file"));
    }

    #[test]
    fn saves_leave_no_temporary_files_and_a_private_file() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let state_dir = dir.path().join("state");
        let (s, _) = VerifiedState::load(&state_dir);
        let repo = Repository::new("example.com", "app").unwrap();
        let d: Digest = format!("sha256:{}", "a".repeat(64)).parse().unwrap();
        s.record(&repo, &d, &gen_of(1), &id());
        s.persist().unwrap();
        let names: Vec<_> = std::fs::read_dir(&state_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, [FILE_NAME]);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&state_dir), 0o700);
        assert_eq!(mode(&state_dir.join(FILE_NAME)), 0o600);
    }
}
