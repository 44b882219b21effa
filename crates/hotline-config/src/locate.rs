//! Maps between byte offsets in the file, line numbers and key paths such as `queues[0].ring_timeout_secs`, so
//! every error can name where it is.

use std::ops::Range;

use toml_edit::{ImDocument, Item, Table, Value};

struct Entry {
    path: String,
    span: Range<usize>,
    /// Spans of keys are preferred when reporting a path: that is the line a person looks for.
    is_key: bool,
}

pub struct Locator<'a> {
    text: &'a str,
    entries: Vec<Entry>,
}

impl<'a> Locator<'a> {
    pub fn new(text: &'a str, doc: &ImDocument<String>) -> Self {
        let mut loc = Locator {
            text,
            entries: Vec::new(),
        };
        loc.walk_table(doc.as_table(), "");
        loc
    }

    /// 1-based line of a byte offset.
    pub fn line_at(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        1 + self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
    }

    /// Line of `path`: its key if written, else its value, else the nearest written ancestor, else line 1.
    pub fn line_of(&self, path: &str) -> usize {
        let mut p = path;
        loop {
            let found = self
                .entries
                .iter()
                .filter(|e| e.path == p)
                .min_by_key(|e| (!e.is_key, e.span.start));
            if let Some(e) = found {
                return self.line_at(e.span.start);
            }
            match parent(p) {
                Some(up) => p = up,
                None => return 1,
            }
        }
    }

    /// The innermost key path whose key or value covers `span`.
    pub fn path_at(&self, span: &Range<usize>) -> Option<String> {
        self.entries
            .iter()
            .filter(|e| {
                e.span.start <= span.start
                    && (span.start < e.span.end || e.span.is_empty() && span.start == e.span.start)
            })
            .min_by_key(|e| e.span.len())
            .map(|e| e.path.clone())
    }

    fn push(&mut self, path: &str, span: Option<Range<usize>>, is_key: bool) {
        if let Some(span) = span {
            if !path.is_empty() {
                self.entries.push(Entry {
                    path: path.to_string(),
                    span,
                    is_key,
                });
            }
        }
    }

    fn walk_table(&mut self, t: &Table, prefix: &str) {
        self.push(prefix, t.span(), false);
        for (k, item) in t.iter() {
            let path = join(prefix, k);
            self.push(&path, t.key(k).and_then(|k| k.span()), true);
            self.walk_item(item, &path);
        }
    }

    fn walk_item(&mut self, item: &Item, path: &str) {
        match item {
            Item::None => {}
            Item::Value(v) => self.walk_value(v, path),
            Item::Table(t) => self.walk_table(t, path),
            Item::ArrayOfTables(a) => {
                for (i, t) in a.iter().enumerate() {
                    self.walk_table(t, &format!("{path}[{i}]"));
                }
            }
        }
    }

    fn walk_value(&mut self, v: &Value, path: &str) {
        self.push(path, v.span(), false);
        match v {
            Value::Array(a) => {
                for (i, e) in a.iter().enumerate() {
                    self.walk_value(e, &format!("{path}[{i}]"));
                }
            }
            Value::InlineTable(t) => {
                for (k, e) in t.iter() {
                    let p = join(path, k);
                    self.push(&p, t.key(k).and_then(|k| k.span()), true);
                    self.walk_value(e, &p);
                }
            }
            _ => {}
        }
    }
}

pub fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// `a.b[2]` → `a.b`, `a.b` → `a`, `a` → None.
fn parent(path: &str) -> Option<&str> {
    let cut = path.rfind(['.', '['])?;
    Some(&path[..cut])
}

/// Best guess at the key a syntax error sits in, from the text alone (the document did not parse): the last
/// table header above the line, with the array-of-tables index, plus the key written on the line.
pub fn syntax_key(text: &str, line: usize) -> String {
    let mut table = String::new();
    let mut counts: Vec<(String, usize)> = Vec::new();
    let mut key = String::new();
    for (i, raw) in text.lines().enumerate().take(line) {
        let l = raw.trim();
        let is_last = i + 1 == line;
        if let Some(rest) = l.strip_prefix("[[") {
            if let Some(name) = rest.split("]]").next() {
                let name = name.trim().to_string();
                let idx = match counts.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, c)) => {
                        *c += 1;
                        *c - 1
                    }
                    None => {
                        counts.push((name.clone(), 1));
                        0
                    }
                };
                table = format!("{name}[{idx}]");
            }
        } else if let Some(rest) = l.strip_prefix('[') {
            if let Some(name) = rest.split(']').next() {
                table = name.trim().to_string();
            }
        } else if is_last {
            if let Some((k, _)) = l.split_once('=') {
                let k = k.trim();
                let plausible = !k.is_empty()
                    && k.chars()
                        .all(|c| c.is_alphanumeric() || "_-.\"'".contains(c));
                if plausible {
                    key = k.replace(['"', '\''], "");
                }
            }
        }
    }
    match (table.is_empty(), key.is_empty()) {
        (true, true) => "(document)".to_string(),
        (true, false) => key,
        (false, true) => table,
        (false, false) => join(&table, &key),
    }
}
