use super::{ContentType, Item, ItemContent, KeyProvider, ProviderError};

/// Certificates or keys given in the configuration itself.
#[derive(Debug, Clone)]
pub struct InlineProvider {
    name: String,
    content_type: ContentType,
    value: String,
}

impl InlineProvider {
    pub fn new(name: &str, content_type: ContentType, value: &str) -> InlineProvider {
        InlineProvider {
            name: name.to_string(),
            content_type,
            value: value.to_string(),
        }
    }
}

impl KeyProvider for InlineProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn content_type(&self) -> ContentType {
        self.content_type
    }

    fn load(&self) -> Result<Vec<Item>, ProviderError> {
        if self.value.trim().is_empty() {
            return Err(ProviderError {
                provider: self.name.clone(),
                detail: "the inline value is empty".into(),
            });
        }
        Ok(vec![Item {
            source: format!("(inline value of key provider {})", self.name),
            content: ItemContent::Bytes(self.value.as_bytes().to_vec()),
        }])
    }
}
