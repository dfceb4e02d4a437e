use std::path::{Path, PathBuf};

use super::{
    ContentType, Item, ItemContent, KeyProvider, MAX_ITEM_BYTES, MAX_ITEMS, ProviderError,
};

/// Certificates or keys in a file, or in every file of a directory (any
/// extension, as notation reads trust stores). Read afresh on each load, so
/// rotated files are picked up.
#[derive(Debug, Clone)]
pub struct FileProvider {
    name: String,
    content_type: ContentType,
    path: PathBuf,
}

impl FileProvider {
    pub fn new(name: &str, content_type: ContentType, path: &Path) -> FileProvider {
        FileProvider {
            name: name.to_string(),
            content_type,
            path: path.to_path_buf(),
        }
    }

    fn err(&self, detail: String) -> ProviderError {
        ProviderError {
            provider: self.name.clone(),
            detail,
        }
    }

    fn read(&self, path: &Path) -> Result<Vec<u8>, ProviderError> {
        use pullgate_registry::files::{FileError, read_bounded};
        read_bounded(path, MAX_ITEM_BYTES).map_err(|e| match e {
            FileError::TooLarge(max) => {
                self.err(format!("{} is larger than {max} bytes", path.display()))
            }
            e => self.err(format!("{}: {e}", path.display())),
        })
    }
}

impl KeyProvider for FileProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn content_type(&self) -> ContentType {
        self.content_type
    }

    fn load(&self) -> Result<Vec<Item>, ProviderError> {
        let meta = std::fs::metadata(&self.path)
            .map_err(|e| self.err(format!("{}: {e}", self.path.display())))?;
        if meta.is_file() {
            let source = self.path.file_name().map_or_else(
                || self.path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            return Ok(vec![Item {
                source,
                content: ItemContent::Bytes(self.read(&self.path)?),
            }]);
        }
        let mut entries: Vec<_> = std::fs::read_dir(&self.path)
            .map_err(|e| self.err(format!("{}: {e}", self.path.display())))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.err(format!("{}: {e}", self.path.display())))?;
        if entries.len() > MAX_ITEMS {
            return Err(self.err(format!(
                "{} holds more than {MAX_ITEMS} entries",
                self.path.display()
            )));
        }
        entries.sort_by_key(|e| e.file_name());
        let mut items = Vec::new();
        for entry in entries {
            let source = entry.file_name().to_string_lossy().into_owned();
            let kind = entry
                .file_type()
                .map_err(|e| self.err(format!("{source}: {e}")))?;
            let content = if kind.is_file() {
                ItemContent::Bytes(self.read(&entry.path())?)
            } else {
                ItemContent::NotRegular
            };
            items.push(Item { source, content });
        }
        Ok(items)
    }
}
