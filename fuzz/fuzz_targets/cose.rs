//! COSE_Sign1 envelopes from a registry: opening never panics; what opens
//! has a certificate chain and a payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pullgate_verify::notary::envelope::{MEDIA_TYPE_COSE, open};

fuzz_target!(|data: &[u8]| {
    if let Ok(content) = open(MEDIA_TYPE_COSE, data) {
        assert!(!content.signer.chain.is_empty());
        assert!(!content.payload.is_empty());
    }
});
