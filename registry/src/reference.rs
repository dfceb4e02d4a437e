//! Image references (`[registry/]repository[:tag][@digest]`) parsed and
//! normalised the way Docker and containerd do it.

use std::fmt;
use std::str::FromStr;

use crate::digest::{Digest, DigestError};

/// The registry that Docker-style short names (`alpine`, `team/app`) live in.
pub const DOCKER_HUB: &str = "docker.io";
/// The host that actually serves Docker Hub's distribution API.
pub const DOCKER_HUB_API: &str = "registry-1.docker.io";

const MAX_NAME_LEN: usize = 255;
const MAX_TAG_LEN: usize = 128;

/// A repository in a registry: `registry` is `host[:port]` (IPv6 hosts in
/// brackets), `name` the repository path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Repository {
    registry: String,
    name: String,
}

impl Repository {
    /// Builds a repository from already separated parts, checking both.
    pub fn new(registry: &str, name: &str) -> Result<Repository, ReferenceError> {
        check_domain(registry)?;
        check_path(name)?;
        let registry = normalise_registry(registry);
        // Docker's bound applies to the normalised name (`docker.io/library/x`).
        if registry.len() + 1 + name.len() > MAX_NAME_LEN {
            return Err(ReferenceError::NameTooLong);
        }
        Ok(Repository {
            registry,
            name: name.to_string(),
        })
    }

    /// `host[:port]` as written in references and in the configuration.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository path, e.g. `library/alpine`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The `host[:port]` that serves this registry's API (Docker Hub's API
    /// lives on another host than its name).
    pub fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            &self.registry
        }
    }
}

impl fmt::Display for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.name)
    }
}

/// A parsed image reference. At least one of tag and digest is set: a
/// reference with neither gets the tag `latest`, as Docker does.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageRef {
    repository: Repository,
    tag: Option<String>,
    digest: Option<Digest>,
}

/// Why a string is not an image reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("image reference is empty")]
    Empty,
    #[error("image reference is longer than {MAX_NAME_LEN} characters")]
    NameTooLong,
    #[error("invalid registry host {0:?}")]
    InvalidDomain(String),
    #[error(
        "invalid repository name {0:?} (lowercase letters, digits and separators . _ __ - only)"
    )]
    InvalidRepository(String),
    #[error("invalid tag {0:?}")]
    InvalidTag(String),
    #[error("invalid digest: {0}")]
    InvalidDigest(#[from] DigestError),
}

impl ImageRef {
    pub fn new(repository: Repository, tag: Option<String>, digest: Option<Digest>) -> ImageRef {
        let tag = if tag.is_none() && digest.is_none() {
            Some("latest".to_string())
        } else {
            tag
        };
        ImageRef {
            repository,
            tag,
            digest,
        }
    }

    pub fn repository(&self) -> &Repository {
        &self.repository
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// What goes after `/manifests/` to fetch this image: the digest when the
    /// reference has one (it wins over the tag, as in containerd), else the tag.
    pub fn manifest_reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".to_string(),
        }
    }

    /// The same image pinned to `digest` (the tag kept for display).
    pub fn with_digest(&self, digest: Digest) -> ImageRef {
        ImageRef {
            repository: self.repository.clone(),
            tag: self.tag.clone(),
            digest: Some(digest),
        }
    }
}

impl FromStr for ImageRef {
    type Err = ReferenceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(ReferenceError::Empty);
        }
        let (rest, digest) = match s.split_once('@') {
            Some((rest, d)) => (rest, Some(d.parse::<Digest>()?)),
            None => (s, None),
        };
        // A tag is after the last ':' that follows the last '/', so that a
        // registry port (`host:5000/app`) is not mistaken for a tag.
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => {
                let at = last_slash + i;
                (&rest[..at], Some(rest[at + 1..].to_string()))
            }
            None => (rest, None),
        };
        if name.len() > MAX_NAME_LEN {
            return Err(ReferenceError::NameTooLong);
        }
        if let Some(t) = &tag {
            check_tag(t)?;
        }
        let (registry, path) = split_domain(name);
        let repository = Repository::new(registry, &path)?;
        Ok(ImageRef::new(repository, tag, digest))
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// How a repository written in a policy scope (`registry/path`) is named
/// once normalised as image references are (`docker.io/nginx` →
/// `docker.io/library/nginx`, `index.docker.io/x/y` → `docker.io/x/y`),
/// when that differs from how it is written: such a scope would never match.
/// `prefix` is for `registry/path/*` scopes, which cover deeper paths.
pub fn scope_respelled(scope: &str, prefix: bool) -> Option<String> {
    let probe = if prefix {
        format!("{scope}/x/y:t")
    } else {
        format!("{scope}:t")
    };
    let reference: ImageRef = probe.parse().ok()?;
    // Hosts are written in lowercase: references with capitals are refused.
    let named = format!(
        "{}/{}",
        reference.repository().registry().to_ascii_lowercase(),
        reference.repository().name()
    );
    let named = if prefix {
        named.strip_suffix("/x/y")?.to_string()
    } else {
        named
    };
    (named != scope).then_some(named)
}

/// Splits `name` into registry and path with Docker's rule
/// (`splitDockerDomain`): the first component is a registry when it
/// contains `.` or `:`, is `localhost`, or has an uppercase letter;
/// otherwise the image is on Docker Hub. A single-component path on Docker
/// Hub (`nginx`, `docker.io/nginx`, `index.docker.io/nginx`) is in
/// `library/`.
fn split_domain(name: &str) -> (&str, String) {
    let (registry, path) = match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.chars().any(|c| c.is_ascii_uppercase()) =>
        {
            (first, rest)
        }
        _ => (DOCKER_HUB, name),
    };
    let hub = registry == DOCKER_HUB || registry == "index.docker.io";
    if hub && !path.contains('/') {
        (registry, format!("library/{path}"))
    } else {
        (registry, path.to_string())
    }
}

fn normalise_registry(registry: &str) -> String {
    if registry == "index.docker.io" {
        DOCKER_HUB.to_string()
    } else {
        registry.to_string()
    }
}

/// `host[:port]`: a DNS name or IPv4 address, or an IPv6 address in brackets.
fn check_domain(domain: &str) -> Result<(), ReferenceError> {
    let bad = || ReferenceError::InvalidDomain(domain.to_string());
    let (host, port) = if let Some(rest) = domain.strip_prefix('[') {
        let (v6, after) = rest.split_once(']').ok_or_else(bad)?;
        if v6.is_empty() || !v6.chars().all(|c| c.is_ascii_hexdigit() || c == ':') {
            return Err(bad());
        }
        match after {
            "" => ("", None),
            p => ("", Some(p.strip_prefix(':').ok_or_else(bad)?)),
        }
    } else {
        match domain.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (domain, None),
        }
    };
    if let Some(p) = port
        && (p.is_empty() || p.len() > 5 || !p.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(bad());
    }
    if domain.starts_with('[') {
        return Ok(());
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if host.split('.').all(label_ok) {
        Ok(())
    } else {
        Err(bad())
    }
}

/// Path components of lowercase alphanumerics joined by `.`, `_`, `__` or
/// runs of `-`, separated by `/`.
fn check_path(path: &str) -> Result<(), ReferenceError> {
    let bad = || ReferenceError::InvalidRepository(path.to_string());
    if path.is_empty() || path.len() > MAX_NAME_LEN {
        return Err(bad());
    }
    for component in path.split('/') {
        if !path_component_ok(component) {
            return Err(bad());
        }
    }
    Ok(())
}

fn path_component_ok(c: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = c.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    if !alnum(first) || !alnum(last) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        // A separator: '.', '_', '__' or one or more '-'.
        let start = i;
        match bytes[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if bytes.get(i) == Some(&b'_') {
                    i += 1;
                }
            }
            b'-' => {
                while bytes.get(i) == Some(&b'-') {
                    i += 1;
                }
            }
            _ => return false,
        }
        if i == start || !bytes.get(i).copied().is_some_and(alnum) {
            return false;
        }
    }
    true
}

fn check_tag(tag: &str) -> Result<(), ReferenceError> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut chars = tag.chars();
    let ok = tag.len() <= MAX_TAG_LEN
        && chars.next().is_some_and(word)
        && chars.all(|c| word(c) || c == '.' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(ReferenceError::InvalidTag(tag.to_string()))
    }
}

#[cfg(test)]
mod tests;
