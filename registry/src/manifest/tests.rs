use super::*;

const D1: &str = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

fn image_json(media_type: Option<&str>) -> String {
    let mt = media_type.map_or(String::new(), |m| format!("\"mediaType\":\"{m}\","));
    format!(
        r#"{{"schemaVersion":2,{mt}"config":{{"mediaType":"application/vnd.oci.empty.v1+json","digest":"{D1}","size":2}},
        "layers":[{{"mediaType":"application/cose","digest":"{D1}","size":2}}],
        "artifactType":"application/vnd.cncf.notary.signature",
        "subject":{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{D1}","size":7}}}}"#
    )
}

#[test]
fn parses_image_manifest() {
    let m = Manifest::parse(
        Some(mt::OCI_MANIFEST),
        image_json(Some(mt::OCI_MANIFEST)).as_bytes(),
    )
    .unwrap();
    let img = m.as_image().unwrap();
    assert_eq!(img.effective_artifact_type(), mt::NOTARY_SIGNATURE);
    assert_eq!(img.subject.as_ref().unwrap().size, 7);
    assert_eq!(m.media_type(), mt::OCI_MANIFEST);
}

#[test]
fn sniffs_when_type_is_missing() {
    let m = Manifest::parse(None, image_json(None).as_bytes()).unwrap();
    assert!(m.as_image().is_some());
    let m = Manifest::parse(
        Some("application/json"),
        br#"{"schemaVersion":2,"manifests":[]}"#,
    )
    .unwrap();
    assert!(m.as_index().is_some());
}

#[test]
fn rejects_conflicts_and_unknown_types() {
    let err = Manifest::parse(
        Some(mt::OCI_INDEX),
        image_json(Some(mt::OCI_MANIFEST)).as_bytes(),
    )
    .unwrap_err();
    // served as an index, body is an image: the index parser fails or the types conflict
    assert!(matches!(
        err,
        ManifestError::MediaTypeConflict { .. } | ManifestError::Json(_)
    ));
    let err = Manifest::parse(
        Some("application/vnd.docker.distribution.manifest.v1+prettyjws"),
        b"{}",
    )
    .unwrap_err();
    assert!(matches!(err, ManifestError::UnsupportedMediaType(_)));
    let err = Manifest::parse(
        Some(mt::OCI_INDEX),
        br#"{"schemaVersion":1,"manifests":[]}"#,
    )
    .unwrap_err();
    assert!(matches!(err, ManifestError::SchemaVersion(1)));
}

#[test]
fn rejects_malformed_index() {
    for body in [
        &br#"{"schemaVersion":2,"manifests":{}}"#[..],
        br#"{"schemaVersion":2,"manifests":[{"mediaType":"x","digest":"sha256:zz","size":1}]}"#,
        br#"{"schemaVersion":2,"manifests":[{"mediaType":"x","size":1}]}"#,
        br#"{"schemaVersion":2,"manifests":[{"mediaType":"x","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":-1}]}"#,
        b"not json",
        b"",
    ] {
        let err = Manifest::parse(Some(mt::OCI_INDEX), body).unwrap_err();
        assert!(matches!(err, ManifestError::Json(_)), "{err:?}");
    }
}

#[test]
fn selects_platform_manifest() {
    let body = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[
        {{"mediaType":"{m}","digest":"{D1}","size":1,"platform":{{"os":"linux","architecture":"arm","variant":"v7"}}}},
        {{"mediaType":"{m}","digest":"{D1}","size":2,"platform":{{"os":"linux","architecture":"arm64"}}}},
        {{"mediaType":"{m}","digest":"{D1}","size":3,"platform":{{"os":"linux","architecture":"amd64"}}}},
        {{"mediaType":"{m}","digest":"{D1}","size":4,"platform":{{"os":"windows","architecture":"amd64"}}}}]}}"#,
        mt::OCI_INDEX,
        m = mt::OCI_MANIFEST
    );
    let m = Manifest::parse(Some(mt::OCI_INDEX), body.as_bytes()).unwrap();
    let idx = m.as_index().unwrap();
    let pick = |os: &str, arch: &str, variant: Option<&str>| {
        idx.manifest_for(&Platform::new(os, arch, variant))
            .map(|d| d.size)
    };
    assert_eq!(pick("linux", "amd64", None), Some(3));
    assert_eq!(pick("linux", "arm64", Some("v8")), Some(2));
    assert_eq!(pick("linux", "arm", Some("v7")), Some(1));
    assert_eq!(pick("linux", "arm", Some("v6")), None);
    assert_eq!(pick("windows", "amd64", None), Some(4));
    assert_eq!(pick("linux", "s390x", None), None);
}
