use super::*;

fn parse(s: &str) -> ImageRef {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn docker_hub_defaults() {
    let r = parse("alpine");
    assert_eq!(r.repository().registry(), "docker.io");
    assert_eq!(r.repository().name(), "library/alpine");
    assert_eq!(r.tag(), Some("latest"));
    assert_eq!(r.repository().api_host(), "registry-1.docker.io");
    assert_eq!(r.to_string(), "docker.io/library/alpine:latest");

    let r = parse("team/app:1.0");
    assert_eq!(r.repository().registry(), "docker.io");
    assert_eq!(r.repository().name(), "team/app");
    assert_eq!(r.tag(), Some("1.0"));

    let r = parse("index.docker.io/library/busybox");
    assert_eq!(r.repository().registry(), "docker.io");

    // Docker's and containerd's rule: a one-component path on Docker Hub is
    // an official image, however the registry is spelled.
    for text in [
        "nginx:1",
        "docker.io/nginx:1",
        "index.docker.io/nginx:1",
        "docker.io/library/nginx:1",
        "library/nginx:1",
    ] {
        assert_eq!(
            parse(text).to_string(),
            "docker.io/library/nginx:1",
            "{text}"
        );
    }
    assert_eq!(
        parse("docker.io/team/app").to_string(),
        "docker.io/team/app:latest"
    );
    // Other registries keep one-component paths as they are.
    assert_eq!(
        parse("example.com/nginx").to_string(),
        "example.com/nginx:latest"
    );
}

#[test]
fn registries_ports_and_ipv6() {
    let r = parse("myacr.azurecr.io/team/app:v1");
    assert_eq!(r.repository().registry(), "myacr.azurecr.io");
    assert_eq!(r.repository().name(), "team/app");
    assert_eq!(r.repository().api_host(), "myacr.azurecr.io");

    let r = parse("127.0.0.1:5000/demo/hello");
    assert_eq!(r.repository().registry(), "127.0.0.1:5000");
    assert_eq!(r.tag(), Some("latest"));
    assert_eq!(r.manifest_reference(), "latest");

    let r = parse("localhost/app:dev");
    assert_eq!(r.repository().registry(), "localhost");

    let r = parse("[::1]:5000/demo/hello:v2");
    assert_eq!(r.repository().registry(), "[::1]:5000");
    assert_eq!(r.repository().name(), "demo/hello");
    assert_eq!(r.tag(), Some("v2"));

    let r = parse("[fe80::1]/x");
    assert_eq!(r.repository().registry(), "[fe80::1]");
}

#[test]
fn digests_win_over_tags() {
    let d = "sha256:43faa791aa8b4b2b2d2bb7d3b0b7c0b1ba6f44acd3c5a0b9e5f7f1e1c2cfaea7";
    let r = parse(&format!("127.0.0.1:5000/demo/hello:v1@{d}"));
    assert_eq!(r.tag(), Some("v1"));
    assert_eq!(r.digest().unwrap().to_string(), d);
    assert_eq!(r.manifest_reference(), d);
    let r = parse(&format!("demo/hello@{d}"));
    assert_eq!(r.tag(), None);
    assert_eq!(r.to_string(), format!("docker.io/demo/hello@{d}"));
}

#[test]
fn separators() {
    for ok in [
        "a/b.c",
        "a/b_c",
        "a/b__c",
        "a/b---c",
        "a0/1b",
        "x.io/a/b/c/d",
    ] {
        parse(ok);
    }
    for bad in [
        "a/b___c", "a/.b", "a/b.", "a/b..c", "a/B", "a//b", "a/b/", "x.io/", "x.io/Ab", "a/b-",
        "a/b_-c",
    ] {
        assert!(bad.parse::<ImageRef>().is_err(), "{bad} accepted");
    }
}

#[test]
fn rejects_bad_references() {
    assert_eq!("".parse::<ImageRef>(), Err(ReferenceError::Empty));
    assert!(matches!(
        "a:".parse::<ImageRef>(),
        Err(ReferenceError::InvalidTag(_))
    ));
    assert!(matches!(
        "a:.x".parse::<ImageRef>(),
        Err(ReferenceError::InvalidTag(_))
    ));
    let long_tag = format!("a:{}", "t".repeat(129));
    assert!(matches!(
        long_tag.parse::<ImageRef>(),
        Err(ReferenceError::InvalidTag(_))
    ));
    assert!(matches!(
        "a@sha256:zz".parse::<ImageRef>(),
        Err(ReferenceError::InvalidDigest(_))
    ));
    assert!(matches!(
        "h:x/a".parse::<ImageRef>(),
        Err(ReferenceError::InvalidDomain(_))
    ));
    assert!(matches!(
        "h:123456/a".parse::<ImageRef>(),
        Err(ReferenceError::InvalidDomain(_))
    ));
    assert!(matches!(
        "-h.io/a".parse::<ImageRef>(),
        Err(ReferenceError::InvalidDomain(_))
    ));
    assert!(matches!(
        "[zz:]/a".parse::<ImageRef>(),
        Err(ReferenceError::InvalidDomain(_))
    ));
    assert!("[zz]/a".parse::<ImageRef>().is_err());
    assert!(matches!(
        "[::1/a".parse::<ImageRef>(),
        Err(ReferenceError::InvalidDomain(_))
    ));
    assert!(matches!(
        "[::1]x/a".parse::<ImageRef>(),
        Err(ReferenceError::InvalidDomain(_))
    ));
    let long = format!("x.io/{}", "a".repeat(260));
    assert_eq!(long.parse::<ImageRef>(), Err(ReferenceError::NameTooLong));
    assert!("https://x.io/a".parse::<ImageRef>().is_err());
    // The bound is on the normalised name (found by the reference fuzz target).
    let short_but_long_on_hub = format!("team/{}", "a".repeat(244));
    assert_eq!(
        short_but_long_on_hub.parse::<ImageRef>(),
        Err(ReferenceError::NameTooLong)
    );
}

#[test]
fn display_round_trips() {
    for s in [
        "docker.io/library/alpine:latest",
        "127.0.0.1:5000/demo/hello:v1",
        "[::1]:5000/a/b:c",
        "x.io/a@sha256:43faa791aa8b4b2b2d2bb7d3b0b7c0b1ba6f44acd3c5a0b9e5f7f1e1c2cfaea7",
    ] {
        assert_eq!(parse(s).to_string(), s);
        assert_eq!(parse(&parse(s).to_string()), parse(s));
    }
}

#[test]
fn scopes_spelled_otherwise_than_references_are_named() {
    use super::scope_respelled;
    assert_eq!(
        scope_respelled("docker.io/nginx", false).as_deref(),
        Some("docker.io/library/nginx")
    );
    assert_eq!(
        scope_respelled("index.docker.io/team/app", false).as_deref(),
        Some("docker.io/team/app")
    );
    assert_eq!(
        scope_respelled("index.docker.io/team", true).as_deref(),
        Some("docker.io/team")
    );
    assert_eq!(
        scope_respelled("MYACR.azurecr.io/app", false).as_deref(),
        Some("myacr.azurecr.io/app")
    );
    for fine in [
        "docker.io/library/nginx",
        "myacr.azurecr.io/app",
        "localhost:5000/x",
    ] {
        assert_eq!(scope_respelled(fine, false), None, "{fine}");
    }
    for fine in ["docker.io", "docker.io/team", "myacr.azurecr.io"] {
        assert_eq!(scope_respelled(fine, true), None, "{fine}");
    }
}
