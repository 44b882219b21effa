//! Knowledge-base search for the intake screen (`GET /api/v1/kb?q=`).
//!
//! Pure and in-memory: the API layer loads items from the database into a [`KbIndex`] and keeps it
//! in step with `upsert`/`remove`. Chinese text has no spaces, so instead of a dictionary segmenter
//! (large data, hard to keep neutral across cities) CJK runs are indexed as character unigrams and
//! bigrams; bigrams carry most of the meaning ("社保", "补办") and are weighted higher, unigrams keep
//! recall for single-character words and near-miss phrasings. Scoring is BM25F over the fields
//! question, keywords, answer and category.

mod index;
mod tokenize;

pub use index::{Hit, KbIndex, KbItem, FIELD_WEIGHTS, MAX_LIMIT};
pub use tokenize::{normalize_char, tokenize, Term, TermKind, MAX_QUERY_CHARS};
