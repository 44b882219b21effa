//! The in-memory inverted index and BM25F scorer.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::tokenize::{tokenize, TermKind, MAX_QUERY_CHARS};

/// One knowledge-base entry as an agent sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KbItem {
    pub id: i64,
    pub question: String,
    pub answer: String,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
}

/// A search result. `highlights` are byte ranges into the item's `question` that matched the query
/// (merged, sorted), so the console can bold them without re-tokenising.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    pub id: i64,
    pub score: f64,
    pub highlights: Vec<(usize, usize)>,
}

/// Field weights, in the order question, keywords, answer, category. Keywords are curated by
/// staff for exactly this purpose, so they outweigh the question; answers are long and wordy.
pub const FIELD_WEIGHTS: [f64; 4] = [2.0, 2.5, 1.0, 0.5];
const FIELDS: usize = 4;

/// Results per search are capped: the intake screen shows a handful, and an unbounded `limit`
/// from the query string must not make the API sort and serialise the whole base.
pub const MAX_LIMIT: usize = 100;

/// BM25 parameters; the usual defaults.
const K1: f64 = 1.2;
const B: f64 = 0.75;

/// A bigram match says much more than loose characters ("社保" vs "社" + "保" anywhere).
fn kind_weight(kind: TermKind) -> f64 {
    match kind {
        TermKind::Unigram => 0.5,
        TermKind::Bigram => 2.0,
        TermKind::Word => 2.0,
    }
}

type FieldTf = [u32; FIELDS];

#[derive(Debug, Clone)]
struct Doc {
    item: KbItem,
    lens: FieldTf,
    terms: Vec<String>,
}

/// In-memory BM25F index over [`KbItem`]s, keyed by item id.
#[derive(Debug, Clone, Default)]
pub struct KbIndex {
    docs: HashMap<i64, Doc>,
    postings: HashMap<String, HashMap<i64, FieldTf>>,
    total_lens: [u64; FIELDS],
}

impl KbIndex {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.docs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    pub fn get(&self, id: i64) -> Option<&KbItem> {
        self.docs.get(&id).map(|d| &d.item)
    }

    /// Adds the item, or replaces the one with the same id; returns the replaced item.
    pub fn upsert(&mut self, item: KbItem) -> Option<KbItem> {
        let old = self.remove(item.id);
        let fields = field_texts(&item);
        let mut lens = [0u32; FIELDS];
        let mut tfs: HashMap<String, FieldTf> = HashMap::new();
        for (f, text) in fields.iter().enumerate() {
            for term in tokenize(text) {
                lens[f] = lens[f].saturating_add(1);
                let tf = tfs.entry(term.text).or_default();
                tf[f] = tf[f].saturating_add(1);
            }
        }
        for (total, len) in self.total_lens.iter_mut().zip(lens) {
            *total += u64::from(len);
        }
        let id = item.id;
        let terms: Vec<String> = tfs.keys().cloned().collect();
        for (term, tf) in tfs {
            self.postings.entry(term).or_default().insert(id, tf);
        }
        self.docs.insert(id, Doc { item, lens, terms });
        old
    }

    /// Removes the item with this id; returns it if it was there.
    pub fn remove(&mut self, id: i64) -> Option<KbItem> {
        let doc = self.docs.remove(&id)?;
        for (total, len) in self.total_lens.iter_mut().zip(doc.lens) {
            *total = total.saturating_sub(u64::from(len));
        }
        for term in &doc.terms {
            if let Some(list) = self.postings.get_mut(term) {
                list.remove(&id);
                if list.is_empty() {
                    self.postings.remove(term);
                }
            }
        }
        Some(doc.item)
    }

    /// Best matches for `query`, best first (ties by ascending id, so results are stable).
    /// An empty or all-punctuation query yields no hits; long queries are cut to
    /// [`MAX_QUERY_CHARS`]; `limit` is capped at [`MAX_LIMIT`].
    pub fn search(&self, query: &str, limit: usize) -> Vec<Hit> {
        let limit = limit.min(MAX_LIMIT);
        if limit == 0 || self.docs.is_empty() {
            return Vec::new();
        }
        let query = match query.char_indices().nth(MAX_QUERY_CHARS) {
            Some((cut, _)) => &query[..cut],
            None => query,
        };

        // Each distinct term counts once: repeating a word in the query should not outvote others.
        let mut seen = HashSet::new();
        let terms: Vec<_> = tokenize(query)
            .into_iter()
            .filter(|t| seen.insert(t.text.clone()))
            .collect();

        let n = self.docs.len() as f64;
        let mut avg = [1.0f64; FIELDS];
        for (a, total) in avg.iter_mut().zip(self.total_lens) {
            if total > 0 {
                *a = total as f64 / n;
            }
        }

        let mut scores: HashMap<i64, f64> = HashMap::new();
        let mut matched: HashMap<i64, Vec<usize>> = HashMap::new();
        for (qi, term) in terms.iter().enumerate() {
            let Some(list) = self.postings.get(&term.text) else {
                continue;
            };
            let df = list.len() as f64;
            let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
            let kw = kind_weight(term.kind);
            for (&id, tf) in list {
                let Some(doc) = self.docs.get(&id) else {
                    continue;
                };
                // BM25F: length-normalise each field's tf, weight, sum, then saturate once.
                let mut wtf = 0.0;
                for f in 0..FIELDS {
                    if tf[f] > 0 {
                        let norm = 1.0 - B + B * f64::from(doc.lens[f]) / avg[f];
                        wtf += FIELD_WEIGHTS[f] * f64::from(tf[f]) / norm;
                    }
                }
                *scores.entry(id).or_default() += kw * idf * wtf * (K1 + 1.0) / (K1 + wtf);
                matched.entry(id).or_default().push(qi);
            }
        }

        let mut ranked: Vec<(i64, f64)> = scores.into_iter().filter(|(_, s)| *s > 0.0).collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(limit);

        ranked
            .into_iter()
            .map(|(id, score)| {
                let words: HashSet<&str> = matched
                    .get(&id)
                    .map(|qis| qis.iter().map(|&qi| terms[qi].text.as_str()).collect())
                    .unwrap_or_default();
                let highlights = self
                    .docs
                    .get(&id)
                    .map(|d| highlight(&d.item.question, &words))
                    .unwrap_or_default();
                Hit {
                    id,
                    score,
                    highlights,
                }
            })
            .collect()
    }
}

/// The text of each field, in [`FIELD_WEIGHTS`] order. Keywords are joined with a newline so no
/// bigram spans two keywords.
fn field_texts(item: &KbItem) -> [String; FIELDS] {
    [
        item.question.clone(),
        item.keywords.join("\n"),
        item.answer.clone(),
        item.category.clone().unwrap_or_default(),
    ]
}

/// Merged byte ranges of `question` covered by any matched term.
fn highlight(question: &str, words: &HashSet<&str>) -> Vec<(usize, usize)> {
    let mut spans: Vec<(usize, usize)> = tokenize(question)
        .into_iter()
        .filter(|t| words.contains(t.text.as_str()))
        .map(|t| (t.start, t.end))
        .collect();
    spans.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(spans.len());
    for (s, e) in spans {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}
