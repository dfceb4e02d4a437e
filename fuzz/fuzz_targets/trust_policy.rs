//! Trust policy documents: parsing arbitrary bytes never panics, and whatever parses can be
//! looked up and matched against any subject without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pullgate_policy::{TrustPolicyDocument, TrustedIdentities};

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = TrustPolicyDocument::parse(data) else {
        return;
    };
    assert!(!doc.statements().is_empty());
    for statement in doc.statements() {
        assert!(!statement.name().is_empty());
        assert!(!statement.registry_scopes().is_empty());
        for scope in statement.registry_scopes() {
            let found = doc.applicable(scope).map(|s| s.name());
            assert!(found.is_some());
            let _ = doc.applicable_for_reference(&format!("{scope}@sha256:0"));
        }
        let identities = statement.trusted_identities();
        if let TrustedIdentities::List { x509, .. } = identities {
            for identity in x509 {
                for key in ["C", "ST", "O"] {
                    assert!(identity.dn().get(key).is_some_and(|v| !v.is_empty()));
                }
            }
        }
        let _ = identities.check(statement.name(), "CN=x,O=o,ST=s,C=c");
        let _ = identities.check(statement.name(), &String::from_utf8_lossy(data));
    }
});
