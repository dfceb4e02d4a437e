//! Platforms (`os/architecture/variant`) and containerd's rules for matching
//! the node's platform against an index entry.

use serde::{Deserialize, Serialize};

/// The platform of an image manifest, as written in an index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(
        default,
        rename = "os.version",
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
}

impl Platform {
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Platform {
        Platform {
            os: os.to_string(),
            architecture: architecture.to_string(),
            variant: variant.map(str::to_string),
            os_version: None,
        }
    }

    /// The platform this process runs on, in OCI names (`linux/amd64`,
    /// `linux/arm64/v8`, …).
    pub fn current() -> Platform {
        let (arch, variant) = match std::env::consts::ARCH {
            "x86_64" => ("amd64", None),
            "aarch64" => ("arm64", Some("v8")),
            "arm" => ("arm", Some("v7")),
            "x86" => ("386", None),
            "powerpc64" => ("ppc64le", None),
            "riscv64" => ("riscv64", None),
            "s390x" => ("s390x", None),
            other => (other, None),
        };
        Platform::new(std::env::consts::OS, arch, variant)
    }

    /// Whether an index entry's platform `candidate` can run here: same OS,
    /// same architecture after normalising aliases, and the same variant once
    /// defaults are applied (`arm64` ↔ `v8`, `arm` ↔ `v7`, `amd64` ↔ `v1`).
    pub fn matches(&self, candidate: &Platform) -> bool {
        let (a_arch, a_var) = normalise(&self.architecture, self.variant.as_deref());
        let (b_arch, b_var) = normalise(&candidate.architecture, candidate.variant.as_deref());
        self.os.eq_ignore_ascii_case(&candidate.os) && a_arch == b_arch && a_var == b_var
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

fn normalise(arch: &str, variant: Option<&str>) -> (String, String) {
    let arch = arch.to_ascii_lowercase();
    let variant = variant.unwrap_or("").to_ascii_lowercase();
    match arch.as_str() {
        "x86_64" | "x86-64" | "amd64" => {
            let v = if variant.is_empty() {
                "v1".to_string()
            } else {
                variant
            };
            ("amd64".to_string(), v)
        }
        "aarch64" | "arm64" => {
            let v = if variant.is_empty() || variant == "8" {
                "v8".to_string()
            } else {
                variant
            };
            ("arm64".to_string(), v)
        }
        "armhf" => ("arm".to_string(), "v7".to_string()),
        "armel" => ("arm".to_string(), "v6".to_string()),
        "arm" => {
            let v = match variant.as_str() {
                "" | "7" => "v7".to_string(),
                "5" | "6" | "8" => format!("v{variant}"),
                _ => variant,
            };
            ("arm".to_string(), v)
        }
        "i386" | "386" => ("386".to_string(), variant),
        _ => (arch, variant),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_aliases_and_variants() {
        let node = Platform::new("linux", "arm64", Some("v8"));
        assert!(node.matches(&Platform::new("linux", "arm64", None)));
        assert!(node.matches(&Platform::new("linux", "aarch64", None)));
        assert!(!node.matches(&Platform::new("linux", "arm", Some("v8"))));
        let amd = Platform::new("linux", "amd64", None);
        assert!(amd.matches(&Platform::new("linux", "x86_64", None)));
        assert!(amd.matches(&Platform::new("Linux", "amd64", Some("v1"))));
        assert!(!amd.matches(&Platform::new("linux", "amd64", Some("v3"))));
        assert!(!amd.matches(&Platform::new("windows", "amd64", None)));
        let arm = Platform::new("linux", "arm", None);
        assert!(arm.matches(&Platform::new("linux", "arm", Some("v7"))));
        assert!(!arm.matches(&Platform::new("linux", "arm", Some("v6"))));
    }

    #[test]
    fn current_is_an_oci_name() {
        let p = Platform::current();
        assert!(!p.architecture.is_empty());
        assert!(p.matches(&p.clone()));
    }
}
