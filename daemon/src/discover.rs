//! `pullgate discover`: what the registry client sees for an image, for
//! operators asking "which signatures does pullgate find?".

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use pullgate_registry::{
    ClientConfig, Digest, DockerConfig, Fetched, HostSettings, ImageRef, Manifest, Platform,
    RegistryClient, RegistryError, Repository,
};
use serde_json::{Value, json};

use crate::EXIT_USAGE;

#[derive(clap::Args)]
pub struct Args {
    /// Speak plain HTTP to this registry (host[:port]); repeatable. Tests and labs only.
    #[arg(long = "insecure-registry", value_name = "HOST")]
    insecure: Vec<String>,
    /// Trust only the PEM certificates in PATH for registry HOST; repeatable.
    #[arg(long = "ca-file", value_name = "HOST=PATH")]
    ca_files: Vec<String>,
    /// Registry credentials in Docker's config.json format.
    #[arg(long, value_name = "PATH")]
    docker_config: Option<PathBuf>,
    /// One JSON object per image instead of text.
    #[arg(long)]
    json: bool,
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<String>,
}

pub async fn run(args: Args) -> ExitCode {
    let client = match client(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("pullgate discover: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let mut failed = false;
    let mut out = std::io::stdout().lock();
    for image in &args.images {
        let report = match discover(&client, image).await {
            Ok(r) => r,
            Err(e) => {
                failed = true;
                json!({"image": image, "error": e.to_string(), "reason": e.reason()})
            }
        };
        let line = if args.json {
            report.to_string()
        } else {
            text(&report)
        };
        if writeln!(out, "{line}").is_err() {
            return ExitCode::FAILURE;
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn client(args: &Args) -> Result<RegistryClient, String> {
    let mut config = ClientConfig::default();
    for host in &args.insecure {
        config.hosts.entry(host.clone()).or_default().insecure = true;
    }
    for spec in &args.ca_files {
        let (host, path) = spec
            .split_once('=')
            .ok_or_else(|| format!("--ca-file {spec:?}: expected HOST=PATH"))?;
        let pem = std::fs::read(path).map_err(|e| format!("--ca-file {path}: {e}"))?;
        let entry: &mut HostSettings = config.hosts.entry(host.to_string()).or_default();
        entry.ca_pem = Some(pem);
    }
    if let Some(path) = &args.docker_config {
        config.docker_config = Some(DockerConfig::load(path).map_err(|e| e.to_string())?);
    }
    RegistryClient::new(config).map_err(|e| e.to_string())
}

async fn discover(client: &RegistryClient, image: &str) -> Result<Value, RegistryError> {
    let reference: ImageRef = image.parse()?;
    let repo = reference.repository();
    let resolved = client.resolve(&reference).await?;
    let mut subjects = vec![json!({
        "digest": resolved.digest.to_string(),
        "role": "resolved",
        "signatures": signatures(client, repo, &resolved.digest).await?,
    })];
    if let Manifest::Index(index) = &resolved.parsed {
        let platform = Platform::current();
        if let Some(m) = client.platform_manifest(repo, index, &platform).await? {
            subjects.push(json!({
                "digest": m.digest.to_string(),
                "role": format!("platform {platform}"),
                "signatures": signatures(client, repo, &m.digest).await?,
            }));
        }
    }
    Ok(json!({
        "image": image,
        "reference": reference.to_string(),
        "digest": resolved.digest.to_string(),
        "mediaType": resolved.media_type,
        "size": resolved.raw.len(),
        "subjects": subjects,
    }))
}

async fn signatures(
    client: &RegistryClient,
    repo: &Repository,
    subject: &Digest,
) -> Result<Value, RegistryError> {
    let found = client.discover(repo, subject).await?;
    let list: Vec<Value> = found
        .candidates()
        .into_iter()
        .map(|(kind, d)| {
            json!({
                "kind": format!("{kind:?}"),
                "artifactType": d.artifact_type,
                "digest": d.digest.to_string(),
                "size": d.size,
            })
        })
        .collect();
    Ok(json!({
        "referrersSource": format!("{:?}", found.referrers.source),
        "found": list,
        "cosignLegacyTag": found.cosign_legacy.as_ref().map(|f: &Fetched<_>| f.digest.to_string()),
    }))
}

fn text(report: &Value) -> String {
    if let Some(err) = report.get("error") {
        return format!(
            "{}: error: {}",
            report["image"].as_str().unwrap_or(""),
            err.as_str().unwrap_or("")
        );
    }
    let mut s = format!(
        "{} -> {} ({})",
        report["reference"].as_str().unwrap_or(""),
        report["digest"].as_str().unwrap_or(""),
        report["mediaType"].as_str().unwrap_or("")
    );
    for subject in report["subjects"].as_array().into_iter().flatten() {
        let sigs = &subject["signatures"];
        s.push_str(&format!(
            "\n  {} {} (referrers: {})",
            subject["role"].as_str().unwrap_or(""),
            subject["digest"].as_str().unwrap_or(""),
            sigs["referrersSource"].as_str().unwrap_or("")
        ));
        let found = sigs["found"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        if found.is_empty() {
            s.push_str("\n    no signatures found");
        }
        for f in found {
            s.push_str(&format!(
                "\n    {} {} {}",
                f["kind"].as_str().unwrap_or(""),
                f["artifactType"].as_str().unwrap_or("-"),
                f["digest"].as_str().unwrap_or("")
            ));
        }
    }
    s
}
