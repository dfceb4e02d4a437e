//! `/metrics` in the Prometheus text format.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use super::admin::Shared;

pub fn render(shared: &Shared) -> String {
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, samples: &[(&str, u64)]| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for (labels, value) in samples {
            if labels.is_empty() {
                let _ = writeln!(out, "{name} {value}");
            } else {
                let _ = writeln!(out, "{name}{{{labels}}} {value}");
            }
        }
    };
    let e = shared.enforcer.metrics();
    let l = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
    let decisions = e.decisions();
    let labels: Vec<String> = decisions
        .iter()
        .map(|(k, _)| format!("decision=\"{k}\""))
        .collect();
    let samples: Vec<(&str, u64)> = labels
        .iter()
        .zip(decisions.iter())
        .map(|(l, (_, v))| (l.as_str(), *v))
        .collect();
    metric(
        "pullgate_cri_pull_decisions_total",
        "counter",
        "PullImage decisions by kind (a break-glass or audited pull is also logged as a warning).",
        &samples,
    );
    metric(
        "pullgate_break_glass_total",
        "counter",
        "Pulls and ImageStatus answers let through by a break_glass entry (each also logged as a warning).",
        &[(
            "",
            l(&e.break_glass).saturating_add(l(&e.status_break_glass)),
        )],
    );
    metric(
        "pullgate_cri_image_status_passed_through_total",
        "counter",
        "ImageStatus answers \"present\" for an image allowed by allow_digests or break_glass, not verified.",
        &[
            ("decision=\"allowed_digest\"", l(&e.status_allowed_digest)),
            ("decision=\"break_glass\"", l(&e.status_break_glass)),
        ],
    );
    metric(
        "pullgate_cri_image_status_hidden_total",
        "counter",
        "ImageStatus answers turned into \"not present\" (image on the node, not verified).",
        &[("", l(&e.status_hidden))],
    );
    metric(
        "pullgate_cri_image_status_would_hide_total",
        "counter",
        "Audit mode: ImageStatus answers enforce mode would turn into \"not present\".",
        &[("", l(&e.status_would_hide))],
    );
    metric(
        "pullgate_cri_tag_record_failures_total",
        "counter",
        "Tag records containerd refused after a pull by digest.",
        &[("", l(&e.tag_record_failures))],
    );
    metric(
        "pullgate_state_write_failures_total",
        "counter",
        "Failed saves of the verified state.",
        &[("", l(&e.state_write_failures))],
    );
    metric(
        "pullgate_rechecks_total",
        "counter",
        "Background re-checks of verified images on the node.",
        &[("", l(&e.rechecks))],
    );
    metric(
        "pullgate_rechecks_denied_total",
        "counter",
        "Background re-checks that denied a verified image.",
        &[("", l(&e.rechecks_denied))],
    );
    let cache = shared.enforcer.cache();
    let s = cache.stats();
    metric(
        "pullgate_verifications_total",
        "counter",
        "Verifications run (one per (repository, digest, generation) however many pulls ask at once).",
        &[("", l(&s.verifications))],
    );
    metric(
        "pullgate_verdict_cache_hits_total",
        "counter",
        "Pulls answered from a finished verdict.",
        &[("", l(&s.hits))],
    );
    metric(
        "pullgate_verdict_cache_joined_total",
        "counter",
        "Pulls that waited for a verification another pull started.",
        &[("", l(&s.joined))],
    );
    metric(
        "pullgate_verdict_cache_rechecks_total",
        "counter",
        "Background re-checks of expired verdicts.",
        &[("", l(&s.rechecks))],
    );
    metric(
        "pullgate_verification_timeouts_total",
        "counter",
        "Verifications cut off by verify_timeout.",
        &[("", l(&s.timeouts))],
    );
    metric(
        "pullgate_verdict_cache_entries",
        "gauge",
        "Verdicts held.",
        &[("", cache.len() as u64)],
    );
    metric(
        "pullgate_verified_images",
        "gauge",
        "(repository, digest) pairs in the verified state, all generations.",
        &[("", shared.enforcer.state().len() as u64)],
    );
    metric(
        "pullgate_verified_state_persistent",
        "gauge",
        "1 when the verified state is kept in state_dir, 0 when only in memory (state_dir not trustworthy).",
        &[("", u64::from(shared.enforcer.state().is_persistent()))],
    );
    let p = shared.proxy_counters.snapshot();
    metric(
        "pullgate_cri_connections_accepted_total",
        "counter",
        "Connections accepted on the CRI socket.",
        &[("", p.connections_accepted)],
    );
    metric(
        "pullgate_cri_connections_refused_total",
        "counter",
        "Connections refused by the peer-credential check.",
        &[("", p.connections_refused)],
    );
    metric(
        "pullgate_cri_upstream_connects_total",
        "counter",
        "Connections opened to containerd.",
        &[("", p.upstream_connects)],
    );
    metric(
        "pullgate_cri_upstream_connect_failures_total",
        "counter",
        "Failed connections to containerd.",
        &[("", p.upstream_connect_failures)],
    );
    metric(
        "pullgate_config_reloads_total",
        "counter",
        "Configuration reloads by result.",
        &[
            ("result=\"ok\"", l(&shared.reloads.ok)),
            ("result=\"failed\"", l(&shared.reloads.failed)),
        ],
    );
    let generation = format!("generation=\"{}\"", shared.reloads.generation().to_hex());
    metric(
        "pullgate_config_generation_info",
        "gauge",
        "The generation in force (hash of policies and trust material).",
        &[(generation.as_str(), 1)],
    );
    out
}
