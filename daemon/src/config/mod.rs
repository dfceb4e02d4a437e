//! The configuration file (../shared/design/interfaces.md): typed, read
//! once, every problem reported with its file and key, and checked before
//! anything binds. [`load`] reads the TOML; [`build`] loads every document
//! it names (trust policy, certificates) and builds the engine's parts.

mod build;
mod reader;
mod schema;

pub use build::{Built, Purpose, build};
pub use reader::ConfigError;
pub use schema::*;

use std::path::Path;

/// The most a configuration file may weigh.
const MAX_CONFIG_BYTES: u64 = 4 << 20;

/// Reads and validates the configuration file at `path`.
pub fn load(path: &Path) -> Result<Config, Vec<ConfigError>> {
    let one = |message: String| {
        vec![ConfigError {
            file: path.to_path_buf(),
            key: String::new(),
            message,
        }]
    };
    let bytes = pullgate_registry::files::read_bounded(path, MAX_CONFIG_BYTES)
        .map_err(|e| one(e.to_string()))?;
    let text = String::from_utf8(bytes).map_err(|_| one("not valid UTF-8".into()))?;
    parse(path, &text)
}

/// Validates configuration `text` as if read from `path`.
pub fn parse(path: &Path, text: &str) -> Result<Config, Vec<ConfigError>> {
    let table: toml::Table = toml::from_str(text).map_err(|e| {
        vec![ConfigError {
            file: path.to_path_buf(),
            key: String::new(),
            message: format!("not valid TOML: {}", e.message()),
        }]
    })?;
    schema::read(path, &table)
}

#[cfg(test)]
mod tests;
