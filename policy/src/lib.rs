//! # pullgate-policy
//!
//! Trust policies, pure and synchronous. Today: the Notary Project trust policy document v1.0
//! for OCI artifacts (`trustpolicy.oci.json`), reproducing notation-go (at a48f2283, with go-ldap
//! v3.4.11) so that a document notation accepts is accepted here, one it rejects is rejected
//! with the same message, and a signer it trusts is trusted here.
//!
//! - [`TrustPolicyDocument::parse`] decodes with Go's encoding/json semantics and validates as
//!   `OCIDocument.Validate` does; [`PolicyError`]'s `Display` is notation-go's text.
//! - [`TrustPolicyDocument::applicable`] picks the statement for a repository as
//!   `GetApplicableTrustPolicy` does.
//! - [`TrustedIdentities::check`] is the verifier's x509 trusted-identity match, given the signing
//!   certificate's subject as Go renders it ([`dn::go_name_string`]).
//! - [`dn`] holds notation-go's DN parsing (go-ldap's `ParseDN` plus notation's rules), Go's
//!   subject rendering and Go's `%q` ([`dn::go_quote`]).
//!
//! ## Faithful to Go, including its quirks
//!
//! The document is decoded as `json.NewDecoder(f).Decode(&doc)` would: only the first JSON value
//! is read (trailing bytes are ignored; a top-level `null` is an empty document), keys match
//! fields case-insensitively with Unicode folding, unknown fields are ignored, invalid UTF-8 and
//! lone surrogates become U+FFFD, and a repeated key decodes *into* the earlier value (objects and
//! maps merge, arrays overwrite element by element with `null` elements keeping old values)
//! rather than replacing it. DNs keep go-ldap's trimming and escaping quirks and Go's byte
//! strings (a `\XX` escape may produce bytes that are not UTF-8; matching uses those bytes).
//!
//! ## Where this crate differs, and why
//!
//! - Determinism. Go iterates maps in random order, so two of notation-go's messages vary from
//!   run to run when several entries are wrong: the `override` entry reported (here: known
//!   validation types in notation's order, then unknown keys sorted) and the registry scope
//!   reported as used twice (here: the first in document order). Accept/reject never differs.
//! - [`dn::DnMap`] (a `String` map) shows bytes that are not UTF-8 as U+FFFD; only that view is
//!   lossy.
//! - go-ldap's `#hex` (BER) attribute values are unreachable through notation-go, which rejects
//!   any DN containing `=#` first; the port decodes them but reports BER REAL and
//!   GeneralizedTime contents as unsupported and bounds nesting.
//! - `%q` follows Go 1.21–1.24's `strconv.IsPrint` (Unicode 15.0.0): a notation binary built with
//!   a later Go may print a character assigned since then unescaped. Messages only.
//! - Blob documents (`trustpolicy.blob.json`) are not handled.

#![forbid(unsafe_code)]

pub mod cosign;
pub mod dn;
mod gofmt;
pub mod notary;

pub use notary::{
    Action, LevelName, PolicyError, StoreKind, TrustPolicyDocument, TrustPolicyStatement,
    TrustStoreRef, TrustedIdentities, ValidationType, VerificationLevel, VerifyTimestamp,
    no_applicable_policy_message,
};
