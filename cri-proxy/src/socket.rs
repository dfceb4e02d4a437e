//! Creating the kubelet-facing socket the way containerd creates its own: in a root-only
//! directory, mode 0660, replacing a stale socket file left by a crash.

use std::fs::{self, DirBuilder, Permissions};
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, PermissionsExt};
use std::path::Path;

use tokio::net::UnixListener;

use crate::error::ProxyError;

/// Mode of the socket file.
pub const SOCKET_MODE: u32 = 0o660;
/// Mode of the socket's directory when the proxy creates it.
pub const DIR_MODE: u32 = 0o700;

/// Binds `path`. Its directory is created with mode 0700 when missing; an existing directory
/// must belong to root or this process's user and be writable by nobody else. A socket file already at `path` is
/// removed when nothing accepts on it; a live socket, or anything that is not a socket, is an
/// error. The bound socket gets mode 0660.
pub(crate) fn bind(path: &Path) -> Result<UnixListener, ProxyError> {
    prepare_directory(path)?;
    remove_stale(path)?;
    let listener = UnixListener::bind(path).map_err(|source| ProxyError::Bind {
        path: path.to_path_buf(),
        source,
    })?;
    fs::set_permissions(path, Permissions::from_mode(SOCKET_MODE)).map_err(|source| {
        ProxyError::Permissions {
            path: path.to_path_buf(),
            mode: SOCKET_MODE,
            source,
        }
    })?;
    Ok(listener)
}

fn prepare_directory(path: &Path) -> Result<(), ProxyError> {
    let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) else {
        return Ok(());
    };
    match fs::metadata(dir) {
        // Whoever can write the directory can put their own socket in our
        // place, and the kubelet would talk to them.
        Ok(meta) => private(&meta).map_err(|p| ProxyError::SocketDir {
            path: dir.to_path_buf(),
            source: std::io::Error::new(ErrorKind::PermissionDenied, p),
        }),
        Err(error) if error.kind() == ErrorKind::NotFound => {
            let fail = |source| ProxyError::SocketDir {
                path: dir.to_path_buf(),
                source,
            };
            DirBuilder::new()
                .recursive(true)
                .mode(DIR_MODE)
                .create(dir)
                .map_err(fail)?;
            // The umask may have taken bits away; set exactly 0700.
            fs::set_permissions(dir, Permissions::from_mode(DIR_MODE)).map_err(fail)
        }
        Err(source) => Err(ProxyError::SocketDir {
            path: dir.to_path_buf(),
            source,
        }),
    }
}

/// Owned by root or this process's user, and writable by nobody else: what
/// the socket's directory and the verified state must be.
pub(crate) fn private(meta: &fs::Metadata) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt as _;
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me && meta.uid() != 0 {
        return Err(format!(
            "owned by uid {}, neither root nor this process (uid {me})",
            meta.uid()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(format!(
            "writable by group or others (mode {:o})",
            meta.mode() & 0o7777
        ));
    }
    Ok(())
}

fn remove_stale(path: &Path) -> Result<(), ProxyError> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(error) if error.kind() == ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(ProxyError::Bind {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    if !meta.file_type().is_socket() {
        return Err(ProxyError::NotASocket {
            path: path.to_path_buf(),
        });
    }
    // A socket that still accepts belongs to a live process: do not steal it.
    // Only a refused connection means nobody is there.
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => {
            return Err(ProxyError::InUse {
                path: path.to_path_buf(),
            });
        }
        Err(e) if e.kind() == ErrorKind::ConnectionRefused => {}
        Err(source) => {
            return Err(ProxyError::Bind {
                path: path.to_path_buf(),
                source,
            });
        }
    }
    tracing::info!(path = %path.display(), "removing a stale socket");
    fs::remove_file(path).map_err(|source| ProxyError::RemoveStale {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[tokio::test]
    async fn creates_a_root_only_directory_and_a_0660_socket() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("run/pullgate/image.sock");
        let _listener = bind(&path).unwrap();
        assert_eq!(mode(&path), 0o660);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        assert!(fs::symlink_metadata(&path).unwrap().file_type().is_socket());
    }

    #[tokio::test]
    async fn replaces_a_stale_socket_but_not_a_live_one_or_a_file() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("image.sock");
        let listener = bind(&path).unwrap();
        assert_eq!(bind(&path).unwrap_err().reason(), "socket_in_use");
        drop(listener); // the file stays, nothing accepts: stale
        assert!(path.exists());
        let _again = bind(&path).unwrap();

        let file = tmp.path().join("not-a-socket");
        fs::write(&file, b"keep me").unwrap();
        assert_eq!(bind(&file).unwrap_err().reason(), "not_a_socket");
        assert_eq!(fs::read(&file).unwrap(), b"keep me");
    }

    #[tokio::test]
    async fn a_directory_others_can_write_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("shared");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, Permissions::from_mode(0o777)).unwrap();
        let err = bind(&dir.join("image.sock")).unwrap_err();
        assert_eq!(err.reason(), "socket_dir");
        assert!(
            format!("{:?}", err).contains("writable by group or others"),
            "{err:?}"
        );
        assert!(!dir.join("image.sock").exists());
    }
}
