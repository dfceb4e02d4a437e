//! Reading the operator's files (configuration, trust policies, keys,
//! certificates, CRLs, Docker config) with a bound: only a regular file is
//! read (a FIFO, a device or a directory is an error, never a hang or an
//! endless read), checked on the handle it is read from, and at most `max`
//! bytes.

use std::io::Read as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not a regular file")]
    NotRegular,
    #[error("larger than {0} bytes")]
    TooLarge(u64),
    /// The caller's check of the opened file refused it.
    #[error("{0}")]
    Refused(String),
}

/// The bytes of the regular file at `path` (symlinks followed), at most
/// `max` of them.
pub fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>, FileError> {
    read_checked(path, max, true, |_| Ok(()))
}

/// [`read_bounded`], without following a symlink at `path` when `follow`
/// is false, and with `check` asked of the opened file's metadata (its
/// owner and mode, say) before a byte is read.
pub fn read_checked(
    path: &Path,
    max: u64,
    follow: bool,
    check: impl FnOnce(&std::fs::Metadata) -> Result<(), String>,
) -> Result<Vec<u8>, FileError> {
    // Non-blocking open: opening a FIFO for reading would otherwise wait
    // for a writer. Reads of a regular file are not affected by the flag.
    let mut flags = rustix::fs::OFlags::NONBLOCK;
    if !follow {
        flags |= rustix::fs::OFlags::NOFOLLOW;
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(i32::try_from(flags.bits()).unwrap_or(0))
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(FileError::NotRegular);
    }
    check(&meta).map_err(FileError::Refused)?;
    if meta.len() > max {
        return Err(FileError::TooLarge(max));
    }
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(FileError::TooLarge(max));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_within_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"12345").unwrap();
        assert_eq!(read_bounded(&file, 5).unwrap(), b"12345");
        assert!(matches!(
            read_bounded(&file, 4),
            Err(FileError::TooLarge(4))
        ));
        assert!(matches!(
            read_bounded(dir.path(), 10),
            Err(FileError::NotRegular)
        ));
        let fifo = dir.path().join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        assert!(matches!(
            read_bounded(&fifo, 10),
            Err(FileError::NotRegular)
        ));
        let zero = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        assert!(matches!(
            read_bounded(&zero, 10),
            Err(FileError::NotRegular)
        ));
        assert!(matches!(
            read_bounded(&dir.path().join("missing"), 10),
            Err(FileError::Io(_))
        ));
    }
}
