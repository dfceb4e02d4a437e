//! Images a runtime can start: one uncompressed tar layer with Debian's static
//! busybox (`/bin/busybox`, `/bin/sh` → busybox, `/tmp`, `/etc/passwd`) and
//! `/hello.txt`, as ../shared/testbed/make-image.py builds them; and a pause
//! image for the pod sandbox that is the same thing with another text.
//!
//! containerd 1.6 unpacks uncompressed layers
//! (`application/vnd.oci.image.layer.v1.tar`) as well as gzip ones, so the
//! layer stays uncompressed like every other [`TestImage`].

use std::path::PathBuf;
use std::sync::OnceLock;

use bytes::Bytes;
use pullgate_registry::Platform;
use serde_json::json;

use super::tar::Tar;
use crate::RealRegistry;
use crate::image::TestImage;

/// Repository and tag [`push_pause_image`] pushes to, and the default
/// sandbox image of [`super::ContainerdOptions::with_registry`].
pub const PAUSE_REPO: &str = "pullgate/pause";
pub const PAUSE_TAG: &str = "1";

/// The command of [`TestImage::busybox`] and [`TestImage::pause`].
pub const SLEEP_CMD: [&str; 3] = ["/bin/busybox", "sleep", "3600"];

impl TestImage {
    /// An image that can run: static busybox, `/bin/sh`, `/tmp`,
    /// `/etc/passwd` (root), and `/hello.txt` holding `text`; its command is
    /// [`SLEEP_CMD`]. Equal texts give equal digests.
    pub fn busybox(text: &str) -> TestImage {
        let layer = Bytes::from(
            Tar::default()
                .file("hello.txt", 0o644, format!("{text}\n").as_bytes())
                .dir("bin")
                .file("bin/busybox", 0o755, busybox_binary())
                .symlink("bin/sh", "busybox")
                .dir("tmp")
                .dir("etc")
                .file("etc/passwd", 0o644, b"root:x:0:0:root:/:/bin/sh\n")
                .finish(),
        );
        let config = json!({
            "Cmd": SLEEP_CMD,
            "Env": ["PATH=/bin"],
            "WorkingDir": "/",
            "Labels": {"test.text": text},
        });
        TestImage::assemble(layer, Platform::current(), config)
    }

    /// The sandbox ("pause") image: busybox sleeping. The CRI plugin stops a
    /// sandbox with SIGKILL, so the sleeper needs no signal handling. Built
    /// once per process.
    pub fn pause() -> TestImage {
        static PAUSE: OnceLock<TestImage> = OnceLock::new();
        PAUSE
            .get_or_init(|| TestImage::busybox("pullgate test pause"))
            .clone()
    }
}

/// Pushes [`TestImage::pause`] to `registry` as `PAUSE_REPO:PAUSE_TAG`
/// (with the registry's credentials) and returns its reference
/// `host/pullgate/pause:1`, the value for the CRI plugin's `sandbox_image`.
pub async fn push_pause_image(registry: &RealRegistry) -> String {
    TestImage::pause()
        .push(&registry.client(), &registry.repo(PAUSE_REPO), PAUSE_TAG)
        .await;
    format!("{}/{PAUSE_REPO}:{PAUSE_TAG}", registry.host)
}

/// Debian's static busybox (package `busybox-static`), read once;
/// `PULLGATE_BUSYBOX` names another static binary.
fn busybox_binary() -> &'static [u8] {
    static BUSYBOX: OnceLock<Vec<u8>> = OnceLock::new();
    BUSYBOX.get_or_init(|| {
        let path = std::env::var_os("PULLGATE_BUSYBOX")
            .map_or_else(|| PathBuf::from("/bin/busybox"), PathBuf::from);
        let data = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; install Debian's busybox-static (apt-get install busybox-static) \
                 or set PULLGATE_BUSYBOX; .ci/run does this",
                path.display()
            )
        });
        assert!(
            !elf_has_interpreter(&data),
            "{} is dynamically linked and cannot run in an empty image: install busybox-static",
            path.display()
        );
        data
    })
}

/// Whether an ELF file names a program interpreter (`PT_INTERP`), i.e. is
/// dynamically linked. Panics on what is not ELF.
fn elf_has_interpreter(elf: &[u8]) -> bool {
    assert!(
        elf.starts_with(b"\x7fELF") && elf.len() > 64,
        "not an ELF file"
    );
    let big_endian = elf[5] == 2;
    let int = |at: usize, len: usize| -> u64 {
        let bytes = &elf[at..at + len];
        let fold = |acc: u64, b: &u8| (acc << 8) | u64::from(*b);
        if big_endian {
            bytes.iter().fold(0, fold)
        } else {
            bytes.iter().rev().fold(0, fold)
        }
    };
    // (e_phoff, e_phentsize, e_phnum) for ELFCLASS64 and ELFCLASS32
    let (phoff, phentsize, phnum) = if elf[4] == 2 {
        (int(0x20, 8), int(0x36, 2), int(0x38, 2))
    } else {
        (int(0x1c, 4), int(0x2a, 2), int(0x2c, 2))
    };
    (0..phnum).any(|i| {
        let at = (phoff + i * phentsize) as usize;
        at + 4 <= elf.len() && int(at, 4) == 3 // PT_INTERP
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busybox_image_is_deterministic_and_distinct_per_text() {
        let a = TestImage::busybox("a");
        assert_eq!(a.digest(), TestImage::busybox("a").digest());
        assert_ne!(a.digest(), TestImage::busybox("b").digest());
        assert_ne!(a.digest(), TestImage::pause().digest());
        assert!(a.layer.len() > busybox_binary().len());
    }

    #[test]
    fn interpreter_detection() {
        assert!(!elf_has_interpreter(busybox_binary()));
        // this test binary is dynamically linked (glibc)
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert!(elf_has_interpreter(&me));
    }
}
