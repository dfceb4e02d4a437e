//! Key providers: named sources of certificates and public keys that trust
//! stores and Cosign policies refer to. `inline` and `file` are here; the
//! Azure Key Vault provider arrives with its issue behind the same trait.

mod file;
mod inline;
mod public;

pub use file::FileProvider;
pub use inline::InlineProvider;
pub use public::{parse_public_keys, parse_public_keys_with_der};

use std::fmt;

/// What a provider holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentType {
    /// PEM or DER certificates.
    Certificate,
    /// PEM public keys.
    Key,
}

/// One entry a provider yields, named as notation names trust-store files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The file name (directories) or a description of the inline value.
    pub source: String,
    pub content: ItemContent,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemContent {
    Bytes(Vec<u8>),
    /// A sub-directory or symlink inside a provider directory: notation
    /// refuses those in trust stores.
    NotRegular,
}

/// Why a provider could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("key provider {provider:?}: {detail}")]
pub struct ProviderError {
    pub provider: String,
    pub detail: String,
}

/// A named source of certificates or keys.
pub trait KeyProvider: Send + Sync + fmt::Debug {
    fn name(&self) -> &str;
    fn content_type(&self) -> ContentType;
    /// Everything the provider currently holds.
    fn load(&self) -> Result<Vec<Item>, ProviderError>;
}

/// Files larger than this are refused: certificates and keys are small.
pub const MAX_ITEM_BYTES: u64 = 1 << 20;
/// Entries read from one provider directory at most.
pub const MAX_ITEMS: usize = 1024;
