//! The runtime settings of the revocation [`Checker`](super::Checker): what
//! the daemon reads from `[notation.revocation]`, plus the cache directory
//! under `state_dir`. The limits that are not configurable live here too.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// The default per-request timeout (notation's OCSP client uses 2 s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
/// The largest accepted per-request timeout.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(30);

/// CRLs are at most this large, downloaded or read from `crl_dir`
/// (notation-core-go's `maxCRLSize`).
pub const MAX_CRL_BYTES: u64 = 32 << 20;
/// OCSP responses are at most this large (notation-core-go reads 20 KiB).
pub const MAX_OCSP_RESPONSE_BYTES: u64 = 20 << 10;
/// `crl_dir` holds at most this many entries.
pub const MAX_CRL_DIR_ENTRIES: usize = 1000;
/// The files of `crl_dir` are together at most this large.
pub const MAX_CRL_DIR_BYTES: u64 = 256 << 20;
/// At most this many OCSP URLs of one certificate are asked.
pub const MAX_OCSP_URLS: usize = 4;
/// A certificate with more CRL distribution points than this cannot have
/// all of them checked, so its status is unknown.
pub const MAX_CRL_URLS: usize = 4;
/// At most this many delta-CRL URLs of a base CRL are tried.
pub const MAX_DELTA_URLS: usize = 4;
/// At most this many redirects (to `http://` URLs only) are followed.
pub const MAX_REDIRECTS: usize = 5;
/// One certificate's whole check (every request it makes) ends after this
/// many timeouts.
pub const CHECK_BUDGET_TIMEOUTS: u32 = 4;

/// Where revocation answers may come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RevocationMode {
    /// `crl_dir` and the CRL cache first, else OCSP and CRL downloads.
    #[default]
    Online,
    /// `crl_dir` only; the network is never used.
    Offline,
}

/// How the [`Checker`](super::Checker) is built.
#[derive(Debug, Clone)]
pub struct RevocationSettings {
    pub mode: RevocationMode,
    /// CRLs supplied by the operator (DER or PEM, any file name), read once.
    pub crl_dir: Option<PathBuf>,
    /// Where downloaded CRLs are cached (notation's file format); created
    /// when missing. `None`: downloaded CRLs are kept in memory only.
    pub cache_dir: Option<PathBuf>,
    /// Per-request timeout (connect through the last body byte).
    pub timeout: Duration,
    /// URL prefix rewrites applied to CRL and OCSP URLs (mirrors); the
    /// longest matching prefix wins.
    pub url_rewrite: BTreeMap<String, String>,
}

impl Default for RevocationSettings {
    fn default() -> RevocationSettings {
        RevocationSettings {
            mode: RevocationMode::Online,
            crl_dir: None,
            cache_dir: None,
            timeout: DEFAULT_TIMEOUT,
            url_rewrite: BTreeMap::new(),
        }
    }
}

/// `url` with the longest matching prefix of `rules` replaced.
pub(crate) fn rewrite(rules: &BTreeMap<String, String>, url: &str) -> String {
    rules
        .iter()
        .filter(|(from, _)| url.starts_with(from.as_str()))
        .max_by_key(|(from, _)| from.len())
        .map_or_else(
            || url.to_string(),
            |(from, to)| format!("{to}{}", &url[from.len()..]),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_prefix_wins() {
        let rules = BTreeMap::from([
            (
                "http://crl.example.com/".to_string(),
                "http://m/a/".to_string(),
            ),
            (
                "http://crl.example.com/x/".to_string(),
                "http://m/b/".to_string(),
            ),
        ]);
        assert_eq!(
            rewrite(&rules, "http://crl.example.com/x/1.crl"),
            "http://m/b/1.crl"
        );
        assert_eq!(
            rewrite(&rules, "http://crl.example.com/y.crl"),
            "http://m/a/y.crl"
        );
        assert_eq!(rewrite(&rules, "http://other/y.crl"), "http://other/y.crl");
    }
}
