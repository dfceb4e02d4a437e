#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Bad input of every kind ends in its typed error within its bound: against
//! the in-process stand-in, which injects what a real registry rarely does.

use std::time::{Duration, Instant};

use bytes::Bytes;
use pullgate_registry::media_types as mt;
use pullgate_registry::{
    ClientConfig, Credentials, Descriptor, Digest, HostSettings, ImageRef, ReferrersSource,
    RegistryClient, RegistryError,
};
use pullgate_testsupport::{Action, FakeAuth, FakeOptions, FakeRegistry, Fault, TestImage};

fn client(fake: &FakeRegistry, tweak: impl FnOnce(&mut ClientConfig)) -> RegistryClient {
    let mut config = fake.client_config();
    tweak(&mut config);
    RegistryClient::new(config).unwrap()
}

fn reference(fake: &FakeRegistry, rest: &str) -> ImageRef {
    format!("{}/{rest}", fake.host()).parse().unwrap()
}

fn respond(status: u16, headers: &[(&str, &str)], body: impl Into<Bytes>) -> Action {
    Action::Respond {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: body.into(),
    }
}

fn fault(path: &str, times: Option<usize>, action: Action) -> Fault {
    Fault {
        method: None,
        path: path.to_string(),
        times,
        action,
    }
}

fn put_image(fake: &FakeRegistry, repo: &str, tag: &str, text: &str) -> TestImage {
    let img = TestImage::new(text);
    fake.put_blob(repo, &img.config);
    fake.put_blob(repo, &img.layer);
    fake.put_manifest(repo, Some(tag), mt::OCI_MANIFEST, &img.manifest);
    img
}

fn signature(
    fake: &FakeRegistry,
    repo: &str,
    subject: &Descriptor,
    n: usize,
    artifact_type: &str,
) -> Digest {
    let config = Descriptor::of(mt::OCI_EMPTY, b"{}");
    let layer = Descriptor::of("application/jose+json", format!("sig{n}").as_bytes());
    let m = serde_json::json!({
        "schemaVersion": 2, "mediaType": mt::OCI_MANIFEST, "artifactType": artifact_type,
        "config": config, "layers": [layer], "subject": subject,
    });
    fake.put_manifest(
        repo,
        None,
        mt::OCI_MANIFEST,
        &serde_json::to_vec(&m).unwrap(),
    )
}

#[tokio::test]
async fn digest_mismatch_by_digest() {
    let fake = FakeRegistry::start(FakeOptions::default()).await;
    let wanted = Digest::sha256(b"the real manifest");
    let img = TestImage::new("impostor");
    fake.add_fault(fault(
        &format!("/v2/demo/manifests/{wanted}"),
        None,
        respond(
            200,
            &[("content-type", mt::OCI_MANIFEST)],
            img.manifest.clone(),
        ),
    ));
    let err = client(&fake, |_| {})
        .resolve(&reference(&fake, &format!("demo@{wanted}")))
        .await
        .unwrap_err();
    match err {
        RegistryError::DigestMismatch {
            expected, actual, ..
        } => {
            assert_eq!(expected, wanted);
            assert_eq!(actual, img.digest());
        }
        other => panic!("expected DigestMismatch, got {other}"),
    }
}

#[tokio::test]
async fn digest_mismatch_against_docker_content_digest() {
    let fake = FakeRegistry::start(FakeOptions::default()).await;
    let img = TestImage::new("tagged");
    let claimed = Digest::sha256(b"something else").to_string();
    fake.add_fault(fault(
        "/v2/demo/manifests/v1",
        None,
        respond(
            200,
            &[
                ("content-type", mt::OCI_MANIFEST),
                ("docker-content-digest", &claimed),
            ],
            img.manifest.clone(),
        ),
    ));
    let err = client(&fake, |_| {})
        .resolve(&reference(&fake, "demo:v1"))
        .await
        .unwrap_err();
    assert!(matches!(err, RegistryError::DigestMismatch { .. }), "{err}");
}

#[tokio::test]
async fn a_docker_content_digest_that_is_not_a_digest_is_refused() {
    let fake = FakeRegistry::start(FakeOptions::default()).await;
    let img = TestImage::new("tagged");
    fake.add_fault(fault(
        "/v2/demo/manifests/v1",
        None,
        respond(
            200,
            &[
                ("content-type", mt::OCI_MANIFEST),
                ("docker-content-digest", "sha256:NOT-HEX"),
            ],
            img.manifest.clone(),
        ),
    ));
    let err = client(&fake, |_| {})
        .resolve(&reference(&fake, "demo:v1"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, RegistryError::BadDigestHeader { .. }),
        "{err}"
    );
}

#[tokio::test]
async fn blob_digest_and_size_mismatch() {
    let fake = FakeRegistry::start(FakeOptions::default()).await;
    let repo = fake.repo("demo");
    let good = b"0123456789";
    let desc = Descriptor::of("application/octet-stream", good);
    let path = format!("/v2/demo/blobs/{}", desc.digest);
    fake.add_fault(fault(&path, Some(1), respond(200, &[], &b"9876543210"[..])));
    fake.add_fault(fault(&path, Some(1), respond(200, &[], &b"01234"[..])));
    let c = client(&fake, |_| {});
    let err = c.blob(&repo, &desc, 1 << 20).await.unwrap_err();
    assert!(matches!(err, RegistryError::DigestMismatch { .. }), "{err}");
    let err = c.blob(&repo, &desc, 1 << 20).await.unwrap_err();
    assert!(
        matches!(
            err,
            RegistryError::SizeMismatch {
                expected: 10,
                actual: 5,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn oversized_bodies_declared_and_streamed() {
    let fake = FakeRegistry::start(FakeOptions::default()).await;
    let big = Bytes::from(vec![b' '; 5 << 20]);
    fake.add_fault(fault(
        "/v2/demo/manifests/declared",
        None,
        respond(200, &[("content-type", mt::OCI_MANIFEST)], big),
    ));
    fake.add_fault(fault(
        "/v2/demo/manifests/streamed",
        None,
        Action::Stream {
            content_type: mt::OCI_MANIFEST.to_string(),
            chunk: Bytes::from(vec![b' '; 64 << 10]),
            chunks: 1000,
        },
    ));
    let c = client(&fake, |_| {});
    let start = Instant::now();
    let err = c
        .resolve(&reference(&fake, "demo:declared"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, RegistryError::TooLarge { limit, declared: Some(d), .. } if limit == 4 << 20 && d == 5 << 20),
        "{err}"
    );
    let err = c
        .resolve(&reference(&fake, "demo:streamed"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, RegistryError::TooLarge { declared: None, .. }),
        "{err}"
    );
    assert!(start.elapsed() < Duration::from_secs(10));

    // A descriptor announcing more than the limit is refused without a request.
    let huge = Descriptor::new(mt::OCI_MANIFEST, Digest::sha256(b"x"), 1 << 30);
    let before = fake.requests().len();
    let err = c.manifest_for(&fake.repo("demo"), &huge).await.unwrap_err();
    assert!(matches!(err, RegistryError::TooLarge { .. }), "{err}");
    let err = c
        .blob(&fake.repo("demo"), &huge, u64::MAX)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RegistryError::TooLarge { limit, .. } if limit == 32 << 20),
        "{err}"
    );
    assert_eq!(fake.requests().len(), before);
}

#[tokio::test]
async fn malformed_index() {
    let fake = FakeRegistry::start(FakeOptions::default()).await;
    let bad = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"x","digest":"sha256:nothex","size":1}]}"#;
    fake.put_manifest("demo", Some("idx"), mt::OCI_INDEX, bad);
    let c = client(&fake, |_| {});
    let err = c.resolve(&reference(&fake, "demo:idx")).await.unwrap_err();
    assert!(matches!(err, RegistryError::Manifest { .. }), "{err}");

    // The same body as a referrers API answer, and as a tag-schema index.
    let img = put_image(&fake, "demo", "v1", "subject");
    fake.add_fault(fault(
        &format!("/v2/demo/referrers/{}", img.digest()),
        Some(1),
        respond(200, &[("content-type", mt::OCI_INDEX)], &bad[..]),
    ));
    let err = c
        .referrers(&fake.repo("demo"), &img.digest(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, RegistryError::Referrers { .. }), "{err}");

    fake.set_options(FakeOptions {
        referrers_api: false,
        ..FakeOptions::default()
    });
    fake.put_manifest(
        "demo",
        Some(&img.digest().referrers_tag()),
        mt::OCI_INDEX,
        bad,
    );
    let err = c
        .referrers(&fake.repo("demo"), &img.digest(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, RegistryError::Manifest { .. }), "{err}");

    // A tag index that is not an index at all.
    fake.put_manifest(
        "demo",
        Some(&img.digest().referrers_tag()),
        mt::OCI_MANIFEST,
        &img.manifest,
    );
    let err = c
        .referrers(&fake.repo("demo"), &img.digest(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, RegistryError::Referrers { .. }), "{err}");
}

#[tokio::test]
async fn redirect_loop_and_too_many_redirects() {
    let fake = FakeRegistry::start(FakeOptions::default()).await;
    let repo = fake.repo("demo");
    let desc = Descriptor::of("application/octet-stream", b"blob");
    let path = format!("/v2/demo/blobs/{}", desc.digest);
    let redirect = |to: &str| Action::Redirect {
        status: 302,
        location: to.to_string(),
    };
    fake.add_fault(fault(&path, Some(1), redirect("/loop/a")));
    fake.add_fault(fault("/loop/a", None, redirect("/loop/b")));
    fake.add_fault(fault("/loop/b", None, redirect("/loop/a")));
    let c = client(&fake, |_| {});
    let start = Instant::now();
    let err = c.blob(&repo, &desc, 1 << 20).await.unwrap_err();
    assert!(matches!(err, RegistryError::RedirectLoop { .. }), "{err}");

    fake.add_fault(fault(&path, Some(1), redirect("/hop/0")));
    for i in 0..10 {
        fake.add_fault(fault(
            &format!("/hop/{i}"),
            None,
            redirect(&format!("/hop/{}", i + 1)),
        ));
    }
    let err = c.blob(&repo, &desc, 1 << 20).await.unwrap_err();
    assert!(
        matches!(err, RegistryError::TooManyRedirects { max: 5, .. }),
        "{err}"
    );
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn blob_redirect_to_storage_without_credentials() {
    let fake = FakeRegistry::start(FakeOptions {
        auth: FakeAuth::Basic {
            user: "u".into(),
            pass: "p".into(),
        },
        ..FakeOptions::default()
    })
    .await;
    let storage = FakeRegistry::start(FakeOptions::default()).await;
    let body = b"signature envelope bytes";
    let desc = Descriptor::of("application/jose+json", body);
    fake.add_fault(fault(
        &format!("/v2/demo/blobs/{}", desc.digest),
        None,
        Action::Redirect {
            status: 307,
            location: storage.url("/container/blob?sig=abc"),
        },
    ));
    storage.add_fault(fault("/container/blob", None, respond(200, &[], &body[..])));
    let c = client(&fake, |config| {
        config.hosts.get_mut(&fake.host()).unwrap().credentials =
            Some(Credentials::basic("u", "p"));
        config.hosts.insert(
            storage.host(),
            HostSettings {
                insecure: true,
                ..HostSettings::default()
            },
        );
    });
    let got = c.blob(&fake.repo("demo"), &desc, 1 << 20).await.unwrap();
    assert_eq!(&got[..], body);
    let at_storage = storage.requests();
    assert_eq!(at_storage.len(), 1);
    assert_eq!(
        at_storage[0].authorization, None,
        "credentials leaked to blob storage"
    );
    assert!(fake.requests().iter().any(|r| {
        r.authorization
            .as_deref()
            .is_some_and(|a| a.starts_with("Basic "))
    }));

    // Plain HTTP to a host nobody configured insecure is refused.
    let c = client(&fake, |config| {
        config.hosts.get_mut(&fake.host()).unwrap().credentials =
            Some(Credentials::basic("u", "p"));
    });
    let err = c
        .blob(&fake.repo("demo"), &desc, 1 << 20)
        .await
        .unwrap_err();
    assert!(matches!(err, RegistryError::BadRedirect { .. }), "{err}");
}

#[tokio::test]
async fn rate_limited_within_the_retry_after_cap() {
    let fake = FakeRegistry::start(FakeOptions::default()).await;
    let img = put_image(&fake, "demo", "v1", "rate limited");
    fake.add_fault(fault(
        "/v2/demo/manifests/v1",
        Some(1),
        respond(429, &[("retry-after", "1")], ""),
    ));
    let start = Instant::now();
    let got = client(&fake, |_| {})
        .resolve(&reference(&fake, "demo:v1"))
        .await
        .unwrap();
    let elapsed = start.elapsed();
    assert_eq!(got.digest, img.digest());
    assert!(
        elapsed >= Duration::from_secs(1),
        "did not wait: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_secs(5),
        "waited too long: {elapsed:?}"
    );
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn rate_limited_beyond_the_retry_after_cap() {
    let fake = FakeRegistry::start(FakeOptions::default()).await;
    put_image(&fake, "demo", "v1", "rate limited");
    fake.add_fault(fault(
        "/v2/demo/manifests/v1",
        None,
        respond(429, &[("retry-after", "120")], ""),
    ));
    let c = client(&fake, |config| {
        config.retry.max_retry_after = Duration::from_secs(2)
    });
    let start = Instant::now();
    let err = c.resolve(&reference(&fake, "demo:v1")).await.unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "waited for a Retry-After beyond the cap"
    );
    match err {
        RegistryError::RateLimited {
            retry_after, cap, ..
        } => {
            assert_eq!(retry_after, Some(Duration::from_secs(120)));
            assert_eq!(cap, Duration::from_secs(2));
        }
        other => panic!("expected RateLimited, got {other}"),
    }

    // An HTTP-date Retry-After far in the future is beyond the cap too.
    let fake = FakeRegistry::start(FakeOptions::default()).await;
    let later = httpdate_in(Duration::from_secs(3600));
    fake.add_fault(fault(
        "/v2/demo/manifests/v1",
        None,
        respond(429, &[("retry-after", &later)], ""),
    ));
    let err = client(&fake, |_| {})
        .resolve(&reference(&fake, "demo:v1"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            RegistryError::RateLimited {
                retry_after: Some(_),
                ..
            }
        ),
        "{err}"
    );
}

fn httpdate_in(d: Duration) -> String {
    // RFC 7231 IMF-fixdate, computed without extra crates.
    let t = std::time::SystemTime::now() + d;
    let secs = t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let days = secs / 86400;
    let (h, m, s) = ((secs % 86400) / 3600, (secs % 3600) / 60, secs % 60);
    // civil from days (Howard Hinnant)
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let wd = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(days % 7) as usize];
    let mon = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(month - 1) as usize];
    format!("{wd}, {day:02} {mon} {year} {h:02}:{m:02}:{s:02} GMT")
}

#[tokio::test]
async fn rate_limited_until_attempts_run_out() {
    let fake = FakeRegistry::start(FakeOptions::default()).await;
    fake.add_fault(fault("/v2/demo/manifests/v1", None, respond(429, &[], "")));
    let c = client(&fake, |config| {
        config.retry.initial_backoff = Duration::from_millis(10)
    });
    let err = c.resolve(&reference(&fake, "demo:v1")).await.unwrap_err();
    assert!(
        matches!(
            err,
            RegistryError::RateLimited {
                retry_after: None,
                attempts: 3,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test]
async fn unavailable_is_retried_then_bounded() {
    let fake = FakeRegistry::start(FakeOptions::default()).await;
    let img = put_image(&fake, "demo", "v1", "flaky");
    fake.add_fault(fault(
        "/v2/demo/manifests/v1",
        Some(1),
        respond(503, &[], ""),
    ));
    let c = client(&fake, |config| {
        config.retry.initial_backoff = Duration::from_millis(10)
    });
    assert_eq!(
        c.resolve(&reference(&fake, "demo:v1"))
            .await
            .unwrap()
            .digest,
        img.digest()
    );
    fake.add_fault(fault("/v2/demo/manifests/v1", None, respond(502, &[], "")));
    let err = c.resolve(&reference(&fake, "demo:v1")).await.unwrap_err();
    assert!(
        matches!(
            err,
            RegistryError::Unavailable {
                status: 502,
                attempts: 3,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn token_endpoint_that_hangs() {
    let fake = FakeRegistry::start(FakeOptions {
        auth: FakeAuth::Bearer {
            user: None,
            hang_token: true,
            expires_in: 300,
        },
        ..FakeOptions::default()
    })
    .await;
    put_image(&fake, "demo", "v1", "behind a token");
    let c = client(&fake, |config| {
        config.timeouts.token = Duration::from_millis(500)
    });
    let start = Instant::now();
    let err = c.resolve(&reference(&fake, "demo:v1")).await.unwrap_err();
    let elapsed = start.elapsed();
    assert!(
        matches!(&err, RegistryError::Timeout { url, after } if url.ends_with("/token") && *after == Duration::from_millis(500)),
        "{err}"
    );
    assert!(
        elapsed >= Duration::from_millis(500) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn registry_that_hangs() {
    let fake = FakeRegistry::start(FakeOptions::default()).await;
    fake.add_fault(fault("/v2/demo/manifests/v1", None, Action::Hang));
    let c = client(&fake, |config| {
        config.timeouts.request = Duration::from_millis(400)
    });
    let start = Instant::now();
    let err = c.resolve(&reference(&fake, "demo:v1")).await.unwrap_err();
    assert!(matches!(err, RegistryError::Timeout { .. }), "{err}");
    assert!(start.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn bearer_tokens_are_fetched_once_and_keyed_by_credentials() {
    let fake = FakeRegistry::start(FakeOptions {
        auth: FakeAuth::Bearer {
            user: Some(("u".into(), "p".into())),
            hang_token: false,
            expires_in: 300,
        },
        ..FakeOptions::default()
    })
    .await;
    let img = put_image(&fake, "demo", "v1", "token auth");
    let c = client(&fake, |config| {
        config.hosts.get_mut(&fake.host()).unwrap().credentials =
            Some(Credentials::basic("u", "p"));
    });
    for _ in 0..3 {
        assert_eq!(
            c.resolve(&reference(&fake, "demo:v1"))
                .await
                .unwrap()
                .digest,
            img.digest()
        );
    }
    assert_eq!(fake.tokens_issued(), 1);
    let token_requests: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.path == "/token")
        .collect();
    assert_eq!(token_requests.len(), 1);
    let q = token_requests[0].query.clone().unwrap();
    assert!(
        q.contains("service=fake") && q.contains("scope=repository%3Ademo%3Apull"),
        "{q}"
    );

    // Other credentials get their own token, and wrong ones are refused.
    let wrong = c.with_credentials(Some(Credentials::basic("u", "bad")));
    let err = wrong
        .resolve(&reference(&fake, "demo:v1"))
        .await
        .unwrap_err();
    assert!(matches!(err, RegistryError::Unauthorized { .. }), "{err}");
    // Anonymous: the token endpoint refuses.
    let anonymous = client(&fake, |_| {});
    let err = anonymous
        .resolve(&reference(&fake, "demo:v1"))
        .await
        .unwrap_err();
    assert!(matches!(err, RegistryError::Unauthorized { .. }), "{err}");
}

#[tokio::test]
async fn basic_auth_required_and_missing() {
    let fake = FakeRegistry::start(FakeOptions {
        auth: FakeAuth::Basic {
            user: "u".into(),
            pass: "p".into(),
        },
        ..FakeOptions::default()
    })
    .await;
    let err = client(&fake, |_| {})
        .resolve(&reference(&fake, "demo:v1"))
        .await
        .unwrap_err();
    assert!(matches!(err, RegistryError::Unauthorized { .. }), "{err}");
}

#[tokio::test]
async fn referrers_pagination_across_pages() {
    let fake = FakeRegistry::start(FakeOptions {
        page_size: Some(2),
        ..FakeOptions::default()
    })
    .await;
    let img = put_image(&fake, "demo", "v1", "many signatures");
    let subject = img.descriptor();
    let mut notary = Vec::new();
    for n in 0..5 {
        notary.push(signature(&fake, "demo", &subject, n, mt::NOTARY_SIGNATURE));
    }
    signature(&fake, "demo", &subject, 9, "application/spdx+json");
    let c = client(&fake, |_| {});
    let repo = fake.repo("demo");

    let all = c.referrers(&repo, &img.digest(), None).await.unwrap();
    assert_eq!(all.source, ReferrersSource::Api);
    assert_eq!(all.descriptors.len(), 6);
    let pages = fake
        .requests()
        .iter()
        .filter(|r| r.path.contains("/referrers/"))
        .count();
    assert_eq!(pages, 3);

    let mut found: Vec<Digest> = c
        .referrers(&repo, &img.digest(), Some(mt::NOTARY_SIGNATURE))
        .await
        .unwrap()
        .descriptors
        .into_iter()
        .map(|d| d.digest)
        .collect();
    found.sort();
    notary.sort();
    assert_eq!(found, notary);

    // A registry that ignores the filter: the client filters.
    fake.set_options(FakeOptions {
        page_size: Some(2),
        filter_referrers: false,
        ..FakeOptions::default()
    });
    let filtered = c
        .referrers(&repo, &img.digest(), Some(mt::NOTARY_SIGNATURE))
        .await
        .unwrap();
    assert_eq!(filtered.descriptors.len(), 5);
    assert!(
        filtered
            .descriptors
            .iter()
            .all(|d| d.artifact_type.as_deref() == Some(mt::NOTARY_SIGNATURE))
    );
}

#[tokio::test]
async fn referrers_pagination_bounds() {
    let fake = FakeRegistry::start(FakeOptions::default()).await;
    let img = put_image(&fake, "demo", "v1", "looping pages");
    let path = format!("/v2/demo/referrers/{}", img.digest());
    let empty = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[]}}"#,
        mt::OCI_INDEX
    );
    let c = client(&fake, |_| {});
    let repo = fake.repo("demo");

    // A page whose next link is itself.
    let self_link = format!("<{path}?page=1>; rel=\"next\"");
    fake.add_fault(fault(
        &path,
        Some(2),
        respond(
            200,
            &[("content-type", mt::OCI_INDEX), ("link", &self_link)],
            empty.clone(),
        ),
    ));
    let err = c.referrers(&repo, &img.digest(), None).await.unwrap_err();
    assert!(
        matches!(&err, RegistryError::Referrers { detail, .. } if detail.contains("loops")),
        "{err}"
    );

    // A next link to another host.
    let off = "<http://198.51.100.7/v2/demo/referrers/x>; rel=\"next\"";
    fake.add_fault(fault(
        &path,
        Some(1),
        respond(
            200,
            &[("content-type", mt::OCI_INDEX), ("link", off)],
            empty.clone(),
        ),
    ));
    let err = c.referrers(&repo, &img.digest(), None).await.unwrap_err();
    assert!(
        matches!(&err, RegistryError::Referrers { detail, .. } if detail.contains("off the registry")),
        "{err}"
    );

    // Endless distinct pages stop at the page limit.
    fake.set_options(FakeOptions {
        page_size: Some(1),
        ..FakeOptions::default()
    });
    for n in 0..5 {
        signature(&fake, "demo", &img.descriptor(), n, mt::NOTARY_SIGNATURE);
    }
    let c = client(&fake, |config| config.limits.referrers_pages = 3);
    let err = c.referrers(&repo, &img.digest(), None).await.unwrap_err();
    assert!(
        matches!(&err, RegistryError::Referrers { detail, .. } if detail.contains("pages")),
        "{err}"
    );
}
