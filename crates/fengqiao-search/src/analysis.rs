//! Chinese text analysis, shared by indexing and querying.
//!
//! # Why full mode
//!
//! jieba's default and "search" modes choose one segmentation of the text, and a word the searcher
//! types is found only where that segmentation happened to produce it. That fails on ordinary complaints:
//! "小区路灯不亮" is segmented 小区 / 路 / 灯不亮 (灯不亮 is a dictionary word), so 路灯 is never indexed,
//! with or without HMM, in default or search mode.
//!
//! So the index side uses jieba's *full mode*: every dictionary word of two or more characters found
//! anywhere in the text is indexed at its character position, and so is every single non-ASCII letter or
//! ideograph (whether the dictionary knows it or not) and every run of ASCII letters and digits.
//!
//! The query side segments the text with jieba's default mode (no HMM) into words, every one of which is
//! required. Single characters that jieba leaves over are glued to their neighbours (占道经营 is segmented
//! 占 / 道 / 经营 and searched as one part), and a few function characters (的, 了, 和 …) standing alone are
//! dropped. Each part is then analysed exactly like indexed text and matched as one term or as a phrase of
//! terms at their character offsets. Since full mode indexes a dictionary word wherever its characters
//! occur, a part is found in every text that contains it, whatever jieba made of the surrounding text.
//! The price is a larger index than search mode gives (every character is a term too).
//!
//! Full-width ASCII (ＡＢＣ１２３) and the ideographic space are folded to their ASCII forms first, and
//! letters are lower-cased.

use std::borrow::Cow;
use std::sync::LazyLock;

use jieba_rs::Jieba;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// The name the analysis is registered under. It is part of the index schema, so changing the analysis
/// (and this name with it) makes existing indexes report a schema mismatch, and they get rebuilt.
pub(crate) const TOKENIZER_NAME: &str = "fengqiao_zh_full_v1";

/// Terms longer than this (in bytes) are not indexed: they would only be long ASCII runs nobody searches.
const MAX_TERM_BYTES: usize = 64;

/// Single characters that carry no meaning on their own in a query; dropped when jieba leaves them alone.
const QUERY_STOP_CHARACTERS: &[char] = &[
    '的', '地', '得', '了', '着', '和', '与', '及', '或', '在', '是', '把', '被', '吗', '呢', '吧',
    '啊', '呀', '也', '都', '又',
];

/// One jieba instance for the process; its dictionary is compiled into jieba-rs (nothing is downloaded).
static JIEBA: LazyLock<Jieba> = LazyLock::new(Jieba::new);

/// Loads the dictionary now rather than on the first document or query.
pub(crate) fn load_dictionary() {
    LazyLock::force(&JIEBA);
}

/// A term of analysed text: where it is in the (folded) text, in bytes and in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    byte_start: usize,
    byte_end: usize,
    char_start: usize,
    char_len: usize,
}

impl Span {
    fn char_end(&self) -> usize {
        self.char_start + self.char_len
    }
}

/// Folds full-width ASCII and the ideographic space to ASCII. Characters map one to one, so character
/// positions stay the same.
fn fold(text: &str) -> Cow<'_, str> {
    if text.chars().any(|c| fold_char(c) != c) {
        Cow::Owned(text.chars().map(fold_char).collect())
    } else {
        Cow::Borrowed(text)
    }
}

fn fold_char(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// Appends the index terms of `text` (already folded) to `spans`, in order of position.
fn index_spans(text: &str, spans: &mut Vec<Span>) {
    let mut words = JIEBA
        .cut_all(text)
        .into_iter()
        .filter(|word| {
            let char_len = word.end - word.start;
            // Single ideographs come from the loop below (jieba's dictionary lacks rare ones).
            (char_len >= 2 || word.word.is_ascii())
                && word.word.len() <= MAX_TERM_BYTES
                && word.word.chars().any(char::is_alphanumeric)
        })
        .peekable();
    for (char_index, (byte_index, c)) in text.char_indices().enumerate() {
        if c.is_alphanumeric() && !c.is_ascii() {
            spans.push(Span {
                byte_start: byte_index,
                byte_end: byte_index + c.len_utf8(),
                char_start: char_index,
                char_len: 1,
            });
        }
        while let Some(word) = words.next_if(|word| word.start <= char_index) {
            spans.push(Span {
                byte_start: word.byte_start,
                byte_end: word.byte_end,
                char_start: word.start,
                char_len: word.end - word.start,
            });
        }
    }
}

/// Lower-cases a term in place when it has upper-case letters.
fn lower_case(term: &mut String) {
    if term.is_ascii() {
        term.make_ascii_lowercase();
    } else if term.chars().any(char::is_uppercase) {
        *term = term.to_lowercase();
    }
}

/// The tantivy tokenizer of case text (see the module documentation).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CaseTextTokenizer;

impl Tokenizer for CaseTextTokenizer {
    type TokenStream<'a> = CaseTextTokenStream<'a>;

    fn token_stream<'a>(&mut self, text: &'a str) -> CaseTextTokenStream<'a> {
        let folded = fold(text);
        let mut spans = Vec::new();
        index_spans(&folded, &mut spans);
        // Offsets refer to `text`; folding keeps characters one to one but not their byte lengths.
        let original_offsets = match &folded {
            Cow::Borrowed(_) => None,
            Cow::Owned(_) => Some(text.char_indices().map(|(offset, _)| offset).collect()),
        };
        CaseTextTokenStream {
            original_len: text.len(),
            original_offsets,
            folded,
            spans,
            next: 0,
            token: Token::default(),
        }
    }
}

/// The terms of one text, produced by [`CaseTextTokenizer`].
pub(crate) struct CaseTextTokenStream<'a> {
    original_len: usize,
    /// Byte offset in the original text of each character, when folding changed the text.
    original_offsets: Option<Vec<usize>>,
    folded: Cow<'a, str>,
    spans: Vec<Span>,
    next: usize,
    token: Token,
}

impl CaseTextTokenStream<'_> {
    fn original_offset(&self, char_index: usize, byte_index: usize) -> usize {
        match &self.original_offsets {
            None => byte_index,
            Some(offsets) => offsets
                .get(char_index)
                .copied()
                .unwrap_or(self.original_len),
        }
    }
}

impl TokenStream for CaseTextTokenStream<'_> {
    fn advance(&mut self) -> bool {
        let Some(span) = self.spans.get(self.next).copied() else {
            return false;
        };
        self.next += 1;
        self.token.text.clear();
        self.token.text.push_str(
            self.folded
                .get(span.byte_start..span.byte_end)
                .unwrap_or_default(),
        );
        lower_case(&mut self.token.text);
        self.token.position = span.char_start;
        self.token.position_length = span.char_len;
        self.token.offset_from = self.original_offset(span.char_start, span.byte_start);
        self.token.offset_to = self.original_offset(span.char_end(), span.byte_end);
        true
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

/// One required part of a query: its terms with their character offsets from the start of the part.
/// One term is matched as a term, several as a phrase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QueryPart {
    pub(crate) terms: Vec<(usize, String)>,
}

/// How a query word takes part in grouping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WordClass {
    /// Punctuation or spaces: ends a part.
    Separator,
    /// A lone function character: ends a part, unless the query has nothing else.
    Stop,
    /// A single non-ASCII character jieba left over: glued to its neighbours.
    Single,
    /// A dictionary word or an ASCII run: a part of its own, unless it follows lone characters.
    Word,
}

fn classify(word: &str, char_len: usize, drop_stop_characters: bool) -> WordClass {
    if !word.chars().any(char::is_alphanumeric) {
        return WordClass::Separator;
    }
    if char_len == 1 && !word.is_ascii() {
        let is_stop = word.chars().all(|c| QUERY_STOP_CHARACTERS.contains(&c));
        return if is_stop && drop_stop_characters {
            WordClass::Stop
        } else {
            WordClass::Single
        };
    }
    WordClass::Word
}

/// Splits query text into its required parts. No parts means there is nothing to search for.
pub(crate) fn query_parts(text: &str) -> Vec<QueryPart> {
    let folded = fold(text);
    let parts = group_query(&folded, true);
    let parts = if parts.is_empty() {
        // A query of function characters only ("的") still searches for them.
        group_query(&folded, false)
    } else {
        parts
    };
    let mut unique: Vec<QueryPart> = Vec::with_capacity(parts.len());
    for part in parts {
        if !unique.contains(&part) {
            unique.push(part);
        }
    }
    unique
}

fn group_query(folded: &str, drop_stop_characters: bool) -> Vec<QueryPart> {
    /// A run of query words being gathered into one part: its byte range and whether it so far holds only
    /// single characters.
    struct Group {
        byte_start: usize,
        byte_end: usize,
        singles_only: bool,
    }

    let mut groups: Vec<(usize, usize)> = Vec::new();
    let mut current: Option<Group> = None;
    for word in JIEBA.cut(folded, false) {
        let class = classify(word.word, word.end - word.start, drop_stop_characters);
        let joins_current = match (&current, class) {
            (Some(group), WordClass::Single) => group.byte_end == word.byte_start,
            (Some(group), WordClass::Word) => {
                group.singles_only && group.byte_end == word.byte_start
            }
            _ => false,
        };
        if joins_current {
            if let Some(group) = current.as_mut() {
                group.byte_end = word.byte_end;
                group.singles_only &= class == WordClass::Single;
            }
            continue;
        }
        if let Some(group) = current.take() {
            groups.push((group.byte_start, group.byte_end));
        }
        if matches!(class, WordClass::Single | WordClass::Word) {
            current = Some(Group {
                byte_start: word.byte_start,
                byte_end: word.byte_end,
                singles_only: class == WordClass::Single,
            });
        }
    }
    if let Some(group) = current {
        groups.push((group.byte_start, group.byte_end));
    }
    groups
        .into_iter()
        .filter_map(|(start, end)| folded.get(start..end))
        .filter_map(part_of)
        .collect()
}

/// Analyses one part like indexed text and keeps the fewest, longest terms that cover it.
fn part_of(text: &str) -> Option<QueryPart> {
    let mut spans = Vec::new();
    index_spans(text, &mut spans);
    let covered_to = spans.iter().map(Span::char_end).max()?;
    let mut terms = Vec::new();
    let mut position = 0;
    while position < covered_to {
        let longest = spans
            .iter()
            .filter(|span| span.char_start <= position && span.char_end() > position)
            .max_by_key(|span| (span.char_end(), std::cmp::Reverse(span.char_start)));
        match longest {
            Some(span) => {
                let mut term = text
                    .get(span.byte_start..span.byte_end)
                    .unwrap_or_default()
                    .to_owned();
                lower_case(&mut term);
                terms.push((span.char_start, term));
                position = span.char_end();
            }
            // A character no term covers (like the '.' in "3.5") matches any character.
            None => position += 1,
        }
    }
    let first_offset = terms.first().map(|(offset, _)| *offset)?;
    for (offset, _) in &mut terms {
        *offset -= first_offset;
    }
    Some(QueryPart { terms })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index_terms(text: &str) -> Vec<(usize, String)> {
        let mut tokenizer = CaseTextTokenizer;
        let mut stream = tokenizer.token_stream(text);
        let mut terms = Vec::new();
        while stream.advance() {
            terms.push((stream.token().position, stream.token().text.clone()));
        }
        terms
    }

    fn parts(text: &str) -> Vec<Vec<(usize, String)>> {
        query_parts(text)
            .into_iter()
            .map(|part| part.terms)
            .collect()
    }

    /// Expected parts, written as term lists.
    fn expect(parts: &[&[(usize, &str)]]) -> Vec<Vec<(usize, String)>> {
        parts
            .iter()
            .map(|terms| {
                terms
                    .iter()
                    .map(|(offset, term)| (*offset, (*term).to_owned()))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn full_mode_indexes_words_jieba_would_not_segment_out() {
        let terms = index_terms("小区路灯不亮");
        assert!(terms.contains(&(2, "路灯".to_owned())), "{terms:?}");
        assert!(terms.contains(&(3, "灯不亮".to_owned())), "{terms:?}");
        assert!(terms.contains(&(2, "路".to_owned())), "{terms:?}");
    }

    #[test]
    fn every_ideograph_is_a_term_even_unknown_to_the_dictionary() {
        let terms = index_terms("犇𠮷");
        assert_eq!(terms, vec![(0, "犇".to_owned()), (1, "𠮷".to_owned())]);
    }

    #[test]
    fn punctuation_is_not_indexed_and_ascii_is_folded_and_lower_cased() {
        let terms = index_terms("ＡＢＣ１２３号楼，OK!");
        let texts: Vec<&str> = terms.iter().map(|(_, term)| term.as_str()).collect();
        assert!(texts.contains(&"abc123"), "{texts:?}");
        assert!(texts.contains(&"ok"), "{texts:?}");
        assert!(
            !texts.iter().any(|term| term.contains(['，', '!'])),
            "{texts:?}"
        );
    }

    #[test]
    fn offsets_point_into_the_original_text_after_folding() {
        let text = "ＡＢ路灯";
        let mut tokenizer = CaseTextTokenizer;
        let mut stream = tokenizer.token_stream(text);
        while stream.advance() {
            let token = stream.token();
            assert!(
                text.get(token.offset_from..token.offset_to).is_some(),
                "{token:?}"
            );
        }
    }

    #[test]
    fn query_words_are_required_parts_and_lone_characters_are_glued() {
        assert_eq!(parts("噪音"), expect(&[&[(0, "噪音")]]));
        assert_eq!(parts("装修噪音"), expect(&[&[(0, "装修")], &[(0, "噪音")]]));
        // 占道经营 is segmented 占 / 道 / 经营: one part, a phrase of the longest terms.
        assert_eq!(parts("占道经营"), expect(&[&[(0, "占道"), (2, "经营")]]));
        // jieba segments 路 / 灯不亮; the part is matched as 路灯 followed by 灯不亮.
        assert_eq!(parts("路灯不亮"), expect(&[&[(0, "路灯"), (1, "灯不亮")]]));
        assert_eq!(parts("违章建筑"), expect(&[&[(0, "违章建筑")]]));
    }

    #[test]
    fn separators_and_function_characters_split_the_query() {
        assert_eq!(
            parts("楼上的噪音"),
            expect(&[&[(0, "楼上")], &[(0, "噪音")]])
        );
        assert_eq!(
            parts(" 噪音，漏水 "),
            expect(&[&[(0, "噪音")], &[(0, "漏水")]])
        );
        assert_eq!(parts("噪音 噪音"), expect(&[&[(0, "噪音")]]));
        assert_eq!(parts("的"), expect(&[&[(0, "的")]]));
    }

    #[test]
    fn queries_without_words_have_no_parts() {
        for text in ["", "   ", "\u{3000}", "，。！？", "()\":*", "——"] {
            assert!(query_parts(text).is_empty(), "{text:?}");
        }
    }

    #[test]
    fn query_syntax_is_just_text() {
        assert_eq!(
            parts("title:噪音 AND (\"漏水\")"),
            expect(&[
                &[(0, "title")],
                &[(0, "噪音")],
                &[(0, "and")],
                &[(0, "漏水")]
            ])
        );
    }
}
