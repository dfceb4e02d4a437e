//! Certificate path building as Go's `x509.Certificate.Verify` does it for a
//! timestamp signer: from the signer, through the token's certificates, to a
//! root of the TSA trust store, every certificate valid at the given time,
//! the requested extended key usage allowed along the chain.

use pullgate_policy::dn::go_quote;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::cert::{Cert, Eku};
use super::chain::check_signature_from;

const MAX_DEPTH: usize = 10;
/// Go's `maxChainSignatureChecks`: the search stops (with an error) after
/// this many signature checks, so certificates an attacker adds cannot make
/// it exponential.
const MAX_SIGNATURE_CHECKS: usize = 100;
const SIGNATURE_LIMIT: &str =
    "x509: signature check attempts limit reached while verifying certificate chain";

/// Extensions Go's parser handles; any other critical extension makes Go's
/// `Verify` fail with "unhandled critical extension".
const HANDLED: [&str; 10] = [
    "2.5.29.15",         // key usage
    "2.5.29.19",         // basic constraints
    "2.5.29.17",         // subject alternative name
    "2.5.29.30",         // name constraints
    "2.5.29.31",         // CRL distribution points
    "2.5.29.35",         // authority key identifier
    "2.5.29.37",         // extended key usage
    "2.5.29.14",         // subject key identifier
    "2.5.29.32",         // certificate policies
    "1.3.6.1.5.5.7.1.1", // authority information access
];

pub struct VerifyOptions<'a> {
    pub roots: &'a [Cert],
    pub intermediates: &'a [Cert],
    pub time: OffsetDateTime,
    pub usage: Eku,
}

fn go_time(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

/// Go's `isValid`: the validity window and the critical extensions.
fn valid(cert: &Cert, at: OffsetDateTime) -> Result<(), String> {
    if cert
        .extensions()
        .iter()
        .any(|e| e.critical && !HANDLED.contains(&e.oid.to_string().as_str()))
    {
        return Err("x509: unhandled critical extension".into());
    }
    if at < cert.not_before() {
        return Err(format!(
            "x509: certificate has expired or is not yet valid: current time {} is before {}",
            go_time(at),
            go_time(cert.not_before())
        ));
    }
    if at > cert.not_after() {
        return Err(format!(
            "x509: certificate has expired or is not yet valid: current time {} is after {}",
            go_time(at),
            go_time(cert.not_after())
        ));
    }
    Ok(())
}

/// Go's `checkChainForKeyUsage` for one requested usage.
fn usage_allowed(chain: &[Cert], usage: &Eku) -> bool {
    chain.iter().rev().all(|c| {
        let ekus = c.extended_key_usage();
        ekus.is_empty() || ekus.iter().any(|e| e == &Eku::Any || e == usage)
    })
}

/// Builds the first chain Go's `Verify` would return, leaf first, root last.
pub fn verify_path(leaf: &Cert, opts: &VerifyOptions<'_>) -> Result<Vec<Cert>, String> {
    valid(leaf, opts.time)?;
    let mut hint = None;
    let mut chains = Vec::new();
    let mut checks = 0usize;
    build(
        vec![leaf.clone()],
        opts,
        &mut chains,
        &mut hint,
        &mut checks,
    );
    // As Go: chains found before the budget ran out stand.
    if checks > MAX_SIGNATURE_CHECKS && chains.is_empty() {
        return Err(SIGNATURE_LIMIT.into());
    }
    if chains.is_empty() {
        return Err(match hint {
            Some((err, name)) => format!(
                "x509: certificate signed by unknown authority (possibly because of {} while trying to verify candidate authority certificate {})",
                go_quote(&err),
                go_quote(&name)
            ),
            None => "x509: certificate signed by unknown authority".into(),
        });
    }
    chains
        .into_iter()
        .find(|c| usage_allowed(c, &opts.usage))
        .ok_or_else(|| "x509: certificate specifies an incompatible key usage".into())
}

fn build(
    chain: Vec<Cert>,
    opts: &VerifyOptions<'_>,
    out: &mut Vec<Vec<Cert>>,
    hint: &mut Option<(String, String)>,
    checks: &mut usize,
) {
    let Some(current) = chain.last() else { return };
    if chain.len() > MAX_DEPTH || out.len() >= 8 || *checks > MAX_SIGNATURE_CHECKS {
        return;
    }
    let candidates = opts
        .roots
        .iter()
        .map(|c| (c, true))
        .chain(opts.intermediates.iter().map(|c| (c, false)))
        .filter(|(c, _)| c.raw_subject() == current.raw_issuer() && !chain.contains(c));
    for (candidate, is_root) in candidates {
        *checks += 1;
        if *checks > MAX_SIGNATURE_CHECKS {
            return;
        }
        if let Err(e) = check_signature_from(current, candidate) {
            if hint.is_none() {
                *hint = Some((e.to_string(), common_name(candidate)));
            }
            continue;
        }
        if valid(candidate, opts.time).is_err() {
            continue;
        }
        if !is_root && (!candidate.basic_constraints_valid() || !candidate.is_ca()) {
            continue;
        }
        if let Some(max) = candidate.max_path_len()
            && chain.len() - 1 > usize::from(max)
        {
            continue;
        }
        let mut next = chain.clone();
        next.push(candidate.clone());
        if is_root {
            out.push(next);
        } else {
            build(next, opts, out, hint, checks);
        }
    }
}

fn common_name(cert: &Cert) -> String {
    cert.subject()
        .split(',')
        .find_map(|p| p.strip_prefix("CN="))
        .map(str::to_string)
        .unwrap_or_else(|| cert.subject().to_string())
}
