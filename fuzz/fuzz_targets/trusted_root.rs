//! Sigstore trusted roots: parsing arbitrary bytes never panics; a parsed
//! root's logs have a validity start and are found by their IDs, and its
//! authorities have a chain with a root.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pullgate_verify::cosign::TrustedRoot;

fuzz_target!(|data: &[u8]| {
    let Ok(root) = TrustedRoot::parse(data) else {
        return;
    };
    for log in &root.tlogs {
        assert!(log.valid_for.start.is_some());
        assert!(root.tlog(&log.log_id).is_some());
        let _ = (log.host(), log.describe());
    }
    for log in &root.ctlogs {
        assert!(log.valid_for.start.is_some());
        assert!(root.ctlog(&log.log_id).is_some());
    }
    for ca in root
        .certificate_authorities
        .iter()
        .chain(&root.timestamp_authorities)
    {
        assert!(!ca.chain.is_empty());
        let _ = (ca.root(), ca.intermediates(), ca.tsa_leaf(), ca.describe());
    }
});
