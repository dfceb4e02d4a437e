//! The node's pass-through lists (`[cri]`: `exempt_namespaces`,
//! `allow_digests`, `break_glass`). They are part of the engine's policy
//! layer: a pass-through is a [`Decision`] kind of its own, built here and
//! nowhere else, and never a "verified".

use std::collections::BTreeSet;

use pullgate_registry::{Digest, ImageRef};

use crate::decision::{Allowance, Decision, Exemption};

/// What is known of the pod an image is for (from the CRI's
/// `PullImageRequest.sandbox_config`; absent for calls without a pod).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodContext {
    pub namespace: Option<String>,
    pub name: Option<String>,
}

impl PodContext {
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> PodContext {
        PodContext {
            namespace: Some(namespace.into()),
            name: Some(name.into()),
        }
    }
}

/// One `break_glass` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum BreakGlassEntry {
    /// `sha256:…`: that digest in any repository.
    Digest(Digest),
    /// An image reference: the same repository and tag (or digest).
    Image(ImageRef),
}

/// The node's lists, checked when the configuration loads.
#[derive(Debug, Clone, Default)]
pub struct NodePolicy {
    exempt_namespaces: BTreeSet<String>,
    allow_digests: BTreeSet<Digest>,
    break_glass: Vec<(String, BreakGlassEntry)>,
}

impl NodePolicy {
    /// Builds the lists; each error names the entry that is not a digest
    /// (`allow_digests`) or neither a digest nor an image reference
    /// (`break_glass`), with its index.
    pub fn new(
        exempt_namespaces: &[String],
        allow_digests: &[String],
        break_glass: &[String],
    ) -> Result<NodePolicy, Vec<(String, String)>> {
        let mut errors = Vec::new();
        let mut allowed = BTreeSet::new();
        for (i, d) in allow_digests.iter().enumerate() {
            match d.parse::<Digest>() {
                Ok(d) => {
                    allowed.insert(d);
                }
                Err(e) => errors.push((format!("allow_digests[{i}]"), format!("{d:?}: {e}"))),
            }
        }
        let mut glass = Vec::new();
        for (i, entry) in break_glass.iter().enumerate() {
            let parsed = if entry.contains(':') && !entry.contains('/') {
                entry
                    .parse::<Digest>()
                    .map(BreakGlassEntry::Digest)
                    .map_err(|e| e.to_string())
            } else {
                entry
                    .parse::<ImageRef>()
                    .map(BreakGlassEntry::Image)
                    .map_err(|e| e.to_string())
            };
            match parsed {
                Ok(p) => glass.push((entry.clone(), p)),
                Err(e) => errors.push((
                    format!("break_glass[{i}]"),
                    format!("{entry:?} is neither a digest nor an image reference: {e}"),
                )),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(NodePolicy {
            exempt_namespaces: exempt_namespaces.iter().cloned().collect(),
            allow_digests: allowed,
            break_glass: glass,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.exempt_namespaces.is_empty()
            && self.allow_digests.is_empty()
            && self.break_glass.is_empty()
    }

    /// The pass-through that applies to `image` for `pod`, if any, in this
    /// order: exempt namespace, allowed digest, break-glass. `resolved` is
    /// the digest the reference resolved to, when known.
    pub(crate) fn pass_through(
        &self,
        pod: &PodContext,
        image: &ImageRef,
        resolved: Option<&Digest>,
    ) -> Option<Decision> {
        if let Some(ns) = &pod.namespace
            && self.exempt_namespaces.contains(ns)
        {
            return Some(Decision::Exempt(Exemption::new(ns.clone())));
        }
        let digests = || image.digest().into_iter().chain(resolved);
        if let Some(d) = digests().find(|d| self.allow_digests.contains(*d)) {
            return Some(Decision::AllowedDigest(Allowance::new(d.to_string())));
        }
        self.break_glass
            .iter()
            .find(|(_, entry)| match entry {
                BreakGlassEntry::Digest(d) => digests().any(|x| x == d),
                BreakGlassEntry::Image(r) => {
                    r.repository() == image.repository()
                        && match (r.digest(), r.tag()) {
                            (Some(d), _) => digests().any(|x| x == d),
                            // A tag entry names what the tag points at:
                            // a reference that brings its own digest
                            // (`app:hotfix@sha256:…`) is not covered.
                            (None, Some(t)) => image.tag() == Some(t) && image.digest().is_none(),
                            (None, None) => false,
                        }
                }
            })
            .map(|(text, _)| Decision::BreakGlass(Allowance::new(text.clone())))
    }

    /// Whether a digest already on the node is allowed without a pod (an
    /// `ImageStatus` of an image in `allow_digests`, or a break-glass digest
    /// or image in `repository`).
    pub(crate) fn allows_present(&self, image: &ImageRef, digest: &Digest) -> Option<Decision> {
        self.pass_through(&PodContext::default(), image, Some(digest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    fn r(s: &str) -> ImageRef {
        s.parse().unwrap()
    }

    #[test]
    fn bad_entries_are_named() {
        let err = NodePolicy::new(&[], &s(&["sha256:zz"]), &s(&["sha256:12", "UPPER/Case:x"]))
            .unwrap_err();
        let keys: Vec<&str> = err.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            ["allow_digests[0]", "break_glass[0]", "break_glass[1]"]
        );
    }

    #[test]
    fn exempt_namespace_wins_and_needs_a_pod() {
        let p = NodePolicy::new(&s(&["kube-system"]), &[], &[]).unwrap();
        let img = r("example.com/app:1");
        let d = p.pass_through(&PodContext::new("kube-system", "x"), &img, None);
        assert!(matches!(d, Some(Decision::Exempt(e)) if e.namespace() == "kube-system"));
        assert!(
            p.pass_through(&PodContext::new("default", "x"), &img, None)
                .is_none()
        );
        assert!(p.pass_through(&PodContext::default(), &img, None).is_none());
    }

    #[test]
    fn allowed_digests_match_the_reference_or_the_resolved_digest() {
        let p = NodePolicy::new(&[], &s(&[D1]), &[]).unwrap();
        let pod = PodContext::default();
        let pinned = r(&format!("example.com/pause@{D1}"));
        assert!(matches!(
            p.pass_through(&pod, &pinned, None),
            Some(Decision::AllowedDigest(_))
        ));
        let tag = r("example.com/pause:3.9");
        assert!(p.pass_through(&pod, &tag, None).is_none());
        let d1: Digest = D1.parse().unwrap();
        assert!(matches!(
            p.pass_through(&pod, &tag, Some(&d1)),
            Some(Decision::AllowedDigest(_))
        ));
        let d2: Digest = D2.parse().unwrap();
        assert!(p.pass_through(&pod, &tag, Some(&d2)).is_none());
    }

    #[test]
    fn break_glass_by_digest_tag_or_pinned_image() {
        let p = NodePolicy::new(
            &[],
            &[],
            &s(&[
                D1,
                "example.com/app:hotfix",
                &format!("example.com/other@{D2}"),
            ]),
        )
        .unwrap();
        let pod = PodContext::default();
        let d1: Digest = D1.parse().unwrap();
        let d2: Digest = D2.parse().unwrap();
        let bg = |img: &str, d: Option<&Digest>| p.pass_through(&pod, &r(img), d);
        assert!(
            matches!(bg("example.com/any:1", Some(&d1)), Some(Decision::BreakGlass(a)) if a.entry() == D1)
        );
        assert!(matches!(
            bg("example.com/app:hotfix", None),
            Some(Decision::BreakGlass(_))
        ));
        assert!(bg("example.com/app:other", None).is_none());
        // The tag entry does not reach a digest the reference names itself,
        // before or after resolution, nor for an image already present.
        let tagged_digest = format!("example.com/app:hotfix@{D2}");
        assert!(bg(&tagged_digest, None).is_none());
        assert!(bg(&tagged_digest, Some(&d2)).is_none());
        assert!(p.allows_present(&r(&tagged_digest), &d2).is_none());
        assert!(
            p.allows_present(&r("example.com/app:hotfix"), &d2)
                .is_some()
        );
        assert!(bg("example.com/app2:hotfix", None).is_none());
        assert!(matches!(
            bg("example.com/other:v", Some(&d2)),
            Some(Decision::BreakGlass(_))
        ));
        assert!(bg("example.com/third:v", Some(&d2)).is_none());
    }
}
