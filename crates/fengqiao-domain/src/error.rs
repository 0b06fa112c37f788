//! Validation errors that name the field and say why, in Chinese and English.

use serde::Serialize;

/// One field that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field}: {message_en}")]
pub struct FieldError {
    /// The field's name as the API spells it (`id_number`, `phone`, `scope` …).
    pub field: String,
    /// A stable machine-readable reason (`checksum`, `format`, `length` …).
    pub code: &'static str,
    pub message_zh: String,
    pub message_en: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        code: &'static str,
        message_zh: impl Into<String>,
        message_en: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            code,
            message_zh: message_zh.into(),
            message_en: message_en.into(),
        }
    }

    /// The same error reported under another field name (a parser does not know the field it was called for).
    pub fn for_field(mut self, field: impl Into<String>) -> Self {
        self.field = field.into();
        self
    }
}
