//! Sigstore bundles: parsing arbitrary bytes never panics; a bundle that
//! parses verifies against nothing (an empty trusted root, no keys, any
//! policy), and each of its log entries, checked against a log that has
//! its ID but a key that signed nothing, never verifies either; its
//! checkpoints parse or fail without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pullgate_policy::cosign::Keyless;
use pullgate_verify::cosign::bundle::Bundle;
use pullgate_verify::cosign::checkpoint::{parse_checkpoint, parse_note};
use pullgate_verify::cosign::keyless::IdentityPolicy;
use pullgate_verify::cosign::rekor::SignedBy;
use pullgate_verify::cosign::tlog::{Logged, verify_entry};
use pullgate_verify::cosign::trusted_root::{KeyDetails, TimeRange, TransparencyLog};
use pullgate_verify::cosign::verifier::verify_bundle;
use pullgate_verify::cosign::{Artifact, BundlePolicy, BundleTrust, TrustedRoot};
use pullgate_verify::x509::PublicKey;
use time::OffsetDateTime;

fuzz_target!(|data: &[u8]| {
    let Ok(bundle) = Bundle::parse(data) else {
        return;
    };
    let empty = BundleTrust {
        root: TrustedRoot {
            tlogs: Vec::new(),
            certificate_authorities: Vec::new(),
            ctlogs: Vec::new(),
            timestamp_authorities: Vec::new(),
        },
        keys: Vec::new(),
    };
    let any = IdentityPolicy::new(&Keyless {
        issuer: None,
        issuer_regexp: None,
        identity: None,
        identity_regexp: None,
        fulcio_roots: None,
        ctlog_keys: None,
    })
    .expect("an empty identity policy");
    let now = OffsetDateTime::UNIX_EPOCH;
    for policy in [
        BundlePolicy::keyless(any.clone()),
        BundlePolicy::keys(),
        BundlePolicy {
            tlog_threshold: 0,
            timestamp_threshold: 0,
            sct_threshold: 0,
            ..BundlePolicy::keyless(any.clone())
        },
    ] {
        assert!(verify_bundle(&bundle, Artifact::Bytes(data), &empty, &policy, now).is_err());
    }
    let signature = bundle.signature().unwrap_or_default().to_vec();
    let key = PublicKey::Ed25519(vec![0; 32]);
    for entry in &bundle.tlog_entries {
        let log = TransparencyLog {
            base_url: "https://log.example".into(),
            log_id: entry.log_id.clone(),
            key: key.clone(),
            key_details: KeyDetails::Ed25519,
            spki_der: Vec::new(),
            valid_for: TimeRange::ALWAYS,
            checkpoint_key_id: None,
        };
        let logged = Logged {
            signature: &signature,
            signer: SignedBy::Key(&key),
            content: &bundle.content,
        };
        assert!(verify_entry(entry, &log, &logged).is_err());
        if let Some(cp) = entry
            .inclusion_proof
            .as_ref()
            .and_then(|p| p.checkpoint.as_deref())
            && let Ok(note) = parse_note(cp)
        {
            let _ = parse_checkpoint(&note.text);
        }
    }
});
