//! The index schema: which fields exist, how they are indexed, and how a [`SearchDoc`] becomes a document.

use std::collections::BTreeSet;

use tantivy::TantivyDocument;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, Schema, TextFieldIndexing, TextOptions,
};

use crate::SearchDoc;
use crate::analysis::TOKENIZER_NAME;

/// Name of the fast field holding the case id.
pub(crate) const ID: &str = "id";
/// Name of the fast field holding the creation time.
pub(crate) const CREATED_AT: &str = "created_at";

/// The fields of the index. Nothing is stored: searches answer with ids read from a fast field.
#[derive(Debug, Clone)]
pub(crate) struct Fields {
    /// Case id: indexed (to delete by id) and fast (to read it back).
    pub(crate) id: Field,
    /// Creation time: fast, to sort by.
    pub(crate) created_at: Field,
    /// Case number as one raw term.
    pub(crate) number: Field,
    /// Title, description and notes, analysed (one value each).
    pub(crate) text: Field,
    /// Every whole-segment prefix of the case's path and owner path, as raw terms.
    pub(crate) region: Field,
    /// Units the case is with, as raw terms.
    pub(crate) unit: Field,
    /// Status, kind and category as raw terms (for filters; not searched yet).
    pub(crate) status: Field,
    pub(crate) kind: Field,
    pub(crate) category: Field,
}

/// Builds the schema and its fields.
pub(crate) fn build() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let raw = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("raw")
            .set_index_option(IndexRecordOption::Basic)
            .set_fieldnorms(false),
    );
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER_NAME)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        id: builder.add_i64_field(ID, INDEXED | FAST),
        created_at: builder.add_i64_field(CREATED_AT, FAST),
        number: builder.add_text_field("number", raw.clone()),
        text: builder.add_text_field("text", text),
        region: builder.add_text_field("region", raw.clone()),
        unit: builder.add_text_field("unit", raw.clone()),
        status: builder.add_text_field("status", raw.clone()),
        kind: builder.add_text_field("kind", raw.clone()),
        category: builder.add_text_field("category", raw),
    };
    (builder.build(), fields)
}

impl Fields {
    /// The index document of a case.
    pub(crate) fn document(&self, case: &SearchDoc) -> TantivyDocument {
        let mut document = TantivyDocument::new();
        document.add_i64(self.id, case.id);
        document.add_i64(self.created_at, case.created_at);
        document.add_text(self.number, &case.number);
        for text in [&case.title, &case.description]
            .into_iter()
            .chain(&case.notes)
        {
            if !text.trim().is_empty() {
                document.add_text(self.text, text);
            }
        }
        for prefix in region_terms([case.path.as_str(), case.owner_path.as_str()]) {
            document.add_text(self.region, prefix);
        }
        for unit in case.units.iter().filter(|unit| !unit.is_empty()) {
            document.add_text(self.unit, unit);
        }
        document.add_text(self.status, &case.status);
        document.add_text(self.kind, &case.kind);
        if let Some(category) = &case.category {
            document.add_text(self.category, category);
        }
        document
    }
}

/// Every whole-segment prefix of the paths, each ending in '/': "/37/3708/" gives "/", "/37/" and
/// "/37/3708/". A path without its final '/' gets one. Empty paths give nothing.
pub(crate) fn region_terms<'a>(paths: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    let mut terms = BTreeSet::new();
    for path in paths {
        let Some(path) = normalize_region_prefix(path) else {
            continue;
        };
        for (index, _) in path.match_indices('/') {
            terms.insert(path[..=index].to_owned());
        }
    }
    terms
}

/// A path (or path prefix) with its final '/', or `None` when it is empty.
pub(crate) fn normalize_region_prefix(path: &str) -> Option<String> {
    let path = path.trim();
    if path.is_empty() {
        None
    } else if path.ends_with('/') {
        Some(path.to_owned())
    } else {
        Some(format!("{path}/"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_terms_are_whole_segment_prefixes_of_both_paths() {
        let terms = region_terms(["/37/3708/370883/", "/37/3708"]);
        let terms: Vec<&str> = terms.iter().map(String::as_str).collect();
        assert_eq!(terms, ["/", "/37/", "/37/3708/", "/37/3708/370883/"]);
        assert!(region_terms(["", "  "]).is_empty());
    }
}
