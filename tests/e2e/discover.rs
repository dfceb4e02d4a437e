use std::collections::BTreeMap;

use pullgate_registry::media_types as mt;
use pullgate_testsupport::{
    RealRegistry, RegistryOptions, TestImage, push_signature_manifest, push_tag_schema_index,
};

use crate::pullgate;

#[test]
fn help_lists_the_subcommands() {
    let out = pullgate(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("discover"), "{text}");
}

#[test]
fn bad_usage_exits_2() {
    let out = pullgate(&["discover"]);
    assert_eq!(out.status.code(), Some(2));
    let out = pullgate(&["discover", "--ca-file", "nohostpath", "x"]);
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn discover_lists_signatures_in_the_real_registry() {
    let reg = RealRegistry::start(RegistryOptions::default());
    let client = reg.client();
    let repo = reg.repo("e2e/app");
    let img = TestImage::new("e2e discover");
    let digest = img.push(&client, &repo, "v1").await;
    let sig = push_signature_manifest(
        &client,
        &repo,
        None,
        Some(mt::NOTARY_SIGNATURE),
        (mt::OCI_EMPTY, b"{}"),
        ("application/jose+json", b"{}"),
        Some(&img.descriptor()),
        &BTreeMap::new(),
    )
    .await;
    push_tag_schema_index(&client, &repo, &digest, std::slice::from_ref(&sig)).await;
    let unsigned = TestImage::new("e2e unsigned");
    unsigned.push(&client, &repo, "unsigned").await;

    let signed_ref = format!("{}/e2e/app:v1", reg.host);
    let unsigned_ref = format!("{}/e2e/app:unsigned", reg.host);
    let missing_ref = format!("{}/e2e/app:missing", reg.host);
    let out = pullgate(&[
        "discover",
        "--json",
        "--insecure-registry",
        &reg.host,
        &signed_ref,
        &unsigned_ref,
        &missing_ref,
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert_eq!(lines[0]["digest"], digest.to_string());
    let sigs = &lines[0]["subjects"][0]["signatures"];
    assert_eq!(sigs["referrersSource"], "TagSchema");
    assert_eq!(sigs["found"][0]["kind"], "Notary");
    assert_eq!(sigs["found"][0]["digest"], sig.digest.to_string());
    assert_eq!(
        lines[1]["subjects"][0]["signatures"]["found"],
        serde_json::json!([])
    );
    assert_eq!(lines[2]["reason"], "not_found");
    // One image could not be looked at: exit status 1.
    assert_eq!(out.status.code(), Some(1));
}
