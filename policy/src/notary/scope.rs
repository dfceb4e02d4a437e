//! Registry scopes: notation-go's `validateRegistryScopeFormat`, the distribution reference
//! grammar for `domain/repository` (no tag, digest or scheme; no normalisation).

use super::PolicyError;

/// notation-go's check of one scope (not `*`) or artifact path.
pub(crate) fn validate_format(scope: &str) -> Result<(), PolicyError> {
    if scope.len() > 1 && scope.contains('*') {
        return Err(PolicyError::WildcardInRegistryScope {
            scope: scope.to_owned(),
        });
    }
    let valid = scope
        .split_once('/')
        .is_some_and(|(domain, repository)| is_domain(domain) && is_repository(repository));
    if valid {
        Ok(())
    } else {
        Err(PolicyError::InvalidRegistryScope {
            scope: scope.to_owned(),
        })
    }
}

/// `^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:(?:\.(?:…))+)?(?::[0-9]+)?$`: dot-separated
/// labels of letters, digits and inner hyphens, then an optional `:port`.
fn is_domain(domain: &str) -> bool {
    let (host, port) = match domain.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (domain, None),
    };
    let label_ok = |label: &str| {
        !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    host.split('.').all(label_ok)
        && port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// `^[a-z0-9]+(?:(?:(?:[._]|__|[-]*)[a-z0-9]+)+)?(?:(?:/<same>)+)?$`: slash-separated components,
/// each lowercase alphanumeric runs joined by `.`, `_`, `__` or any number of `-`.
fn is_repository(repository: &str) -> bool {
    repository.split('/').all(is_path_component)
}

fn is_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !bytes.first().is_some_and(alnum) || !bytes.last().is_some_and(alnum) {
        return false;
    }
    let mut separator: Vec<u8> = Vec::new();
    for &b in bytes {
        if alnum(&b) {
            let ok = separator.is_empty()
                || separator == b"."
                || separator == b"_"
                || separator == b"__"
                || separator.iter().all(|&s| s == b'-');
            if !ok {
                return false;
            }
            separator.clear();
        } else if matches!(b, b'.' | b'_' | b'-') {
            separator.push(b);
        } else {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(scope: &str) -> bool {
        validate_format(scope).is_ok()
    }

    #[test]
    fn domains() {
        assert!(ok("a/b"));
        assert!(ok("a-b.c-d.e:5000/x"));
        assert!(ok("A.B/x"));
        assert!(!ok("-a/x"));
        assert!(!ok("a-/x"));
        assert!(!ok("a..b/x"));
        assert!(!ok(".a/x"));
        assert!(!ok("a:/x"));
        assert!(!ok("a:1:2/x"));
        assert!(!ok("a_b/x"));
        assert!(!ok("[::1]:5000/x"));
        assert!(!ok("ex\u{e9}.com/x"));
    }

    #[test]
    fn repositories() {
        assert!(ok("d/a.b_c__d---e/f0"));
        assert!(ok("d/a--b"));
        assert!(!ok("d/A"));
        assert!(!ok("d/a..b"));
        assert!(!ok("d/a___b"));
        assert!(!ok("d/a._b"));
        assert!(!ok("d/a-.b"));
        assert!(!ok("d/_a"));
        assert!(!ok("d/a_"));
        assert!(!ok("d/a//b"));
        assert!(!ok("d/a/"));
        assert!(!ok("d/a\n"));
        assert!(!ok("d/a@sha256:0"));
    }

    #[test]
    fn wildcards_are_checked_first() {
        let err = |s: &str| validate_format(s).err().map(|e| e.reason());
        assert_eq!(err("*/"), Some("registry_scope_wildcard"));
        assert_eq!(err("d/a*"), Some("registry_scope_wildcard"));
        assert_eq!(err("*"), Some("registry_scope_invalid"));
        assert_eq!(err(""), Some("registry_scope_invalid"));
    }
}
