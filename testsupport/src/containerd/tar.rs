//! A deterministic ustar writer for image layers that a runtime can start:
//! directories, regular files with modes, symbolic links; mtime 0, owner root.

/// An uncompressed tar archive (`application/vnd.oci.image.layer.v1.tar`).
#[derive(Debug, Default)]
pub(crate) struct Tar {
    out: Vec<u8>,
}

const REGULAR: u8 = b'0';
const SYMLINK: u8 = b'2';
const DIRECTORY: u8 = b'5';

impl Tar {
    pub(crate) fn dir(&mut self, name: &str) -> &mut Tar {
        self.entry(
            &format!("{}/", name.trim_end_matches('/')),
            DIRECTORY,
            0o755,
            0,
            "",
        );
        self
    }

    pub(crate) fn file(&mut self, name: &str, mode: u32, data: &[u8]) -> &mut Tar {
        self.entry(name, REGULAR, mode, data.len() as u64, "");
        self.out.extend_from_slice(data);
        self.out.resize(self.out.len().div_ceil(512) * 512, 0);
        self
    }

    pub(crate) fn symlink(&mut self, name: &str, target: &str) -> &mut Tar {
        self.entry(name, SYMLINK, 0o777, 0, target);
        self
    }

    /// The archive with its two zero end-of-archive blocks.
    pub(crate) fn finish(&mut self) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.out);
        out.extend_from_slice(&[0u8; 1024]);
        out
    }

    fn entry(&mut self, name: &str, kind: u8, mode: u32, size: u64, link: &str) {
        assert!(
            name.len() < 100 && link.len() < 100,
            "tar name too long: {name}"
        );
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        octal(&mut h[100..108], u64::from(mode));
        octal(&mut h[108..116], 0);
        octal(&mut h[116..124], 0);
        octal(&mut h[124..136], size);
        octal(&mut h[136..148], 0);
        h[156] = kind;
        h[157..157 + link.len()].copy_from_slice(link.as_bytes());
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[265..269].copy_from_slice(b"root");
        h[297..301].copy_from_slice(b"root");
        h[148..156].copy_from_slice(b"        ");
        let sum: u64 = h.iter().map(|b| u64::from(*b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        self.out.extend_from_slice(&h);
    }
}

fn octal(field: &mut [u8], value: u64) {
    let s = format!("{:0width$o}\0", value, width = field.len() - 1);
    assert_eq!(
        s.len(),
        field.len(),
        "value {value} does not fit a tar field"
    );
    field.copy_from_slice(s.as_bytes());
}
