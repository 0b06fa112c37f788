//! Turns search text and a scope into a tantivy query, built term by term (the query parser's syntax is
//! never involved, so `:`, `"`, `(` or `AND` in the text are just text).

use tantivy::Term;
use tantivy::query::{
    BooleanQuery, EmptyQuery, Occur, PhraseQuery, Query, TermQuery, TermSetQuery,
};
use tantivy::schema::IndexRecordOption;

use crate::analysis::{QueryPart, query_parts};
use crate::schema::{Fields, normalize_region_prefix};
use crate::{SearchError, SearchScope};

/// The text part of a search: every part of the text is required; a text equal to a case number also
/// finds that case.
pub(crate) fn text_query(fields: &Fields, text: &str) -> Result<Box<dyn Query>, SearchError> {
    let parts = query_parts(text);
    if parts.is_empty() {
        return Err(SearchError::EmptyQuery);
    }
    let mut required: Vec<(Occur, Box<dyn Query>)> = parts
        .iter()
        .map(|part| (Occur::Must, part_query(fields, part)))
        .collect();
    let words: Box<dyn Query> = if required.len() == 1 {
        let (_, only) = required.remove(0);
        only
    } else {
        Box::new(BooleanQuery::new(required))
    };
    let number = TermQuery::new(
        Term::from_field_text(fields.number, text.trim()),
        IndexRecordOption::Basic,
    );
    Ok(Box::new(BooleanQuery::new(vec![
        (Occur::Should, words),
        (Occur::Should, Box::new(number)),
    ])))
}

/// One required part: a term, or a phrase of terms at their character offsets.
fn part_query(fields: &Fields, part: &QueryPart) -> Box<dyn Query> {
    let mut terms: Vec<(usize, Term)> = part
        .terms
        .iter()
        .map(|(offset, text)| (*offset, Term::from_field_text(fields.text, text)))
        .collect();
    if terms.len() >= 2 {
        Box::new(PhraseQuery::new_with_offset(terms))
    } else {
        match terms.pop() {
            Some((_, term)) => Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)),
            // Parts are never empty; an empty one would match nothing.
            None => Box::new(EmptyQuery),
        }
    }
}

/// The cases a scope may see, or `None` when it may see none.
pub(crate) fn scope_query(fields: &Fields, scope: &SearchScope) -> Option<Box<dyn Query>> {
    let regions = scope
        .path_prefixes
        .iter()
        .filter_map(|prefix| normalize_region_prefix(prefix))
        .map(|prefix| Term::from_field_text(fields.region, &prefix));
    let units = scope
        .units
        .iter()
        .filter(|unit| !unit.is_empty())
        .map(|unit| Term::from_field_text(fields.unit, unit));
    let terms: Vec<Term> = regions.chain(units).collect();
    if terms.is_empty() {
        None
    } else {
        Some(Box::new(TermSetQuery::new(terms)))
    }
}
