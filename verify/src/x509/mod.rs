//! X.509 as notation-go reads it: parsing with Go's semantics, signature
//! checks, and the code-signing chain rules.

mod cert;
mod chain;
pub(crate) mod der_walk;
mod key;
mod path;

pub use cert::{Cert, CertError, Eku, RawExtension, key_usage, parse_certificates};
pub use chain::{
    check_signature_from, is_issued_by, validate_code_signing_chain, validate_timestamping_chain,
};
pub use key::{Curve, Hash, PublicKey, SignatureAlgorithm, SignatureError, check_signature};
pub use path::{VerifyOptions, verify_path};
