//! Parsing one `config/calendar/<year>.toml`. Walks the toml_edit tree by hand rather than through serde so that
//! every error, including a bad date deep inside a list, can name its line and key path.

use std::collections::BTreeMap;
use std::ops::Range;

use chrono::{Datelike, NaiveDate};
use toml_edit::{ImDocument, Item, Table, Value};

/// A calendar data problem, located like `hotline-config`'s errors. `line` is 1-based; 0 when the file could not
/// be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {key}: {message}")]
pub struct CalendarError {
    pub file: String,
    pub line: usize,
    /// Path of the offending key, e.g. `year` or `holidays[1].days_off[3]`.
    pub key: String,
    pub message: String,
}

/// One day listed in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListedDay {
    pub working: bool,
    pub holiday: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParsedYear {
    pub year: i32,
    pub published: bool,
    pub source: String,
    pub url: Option<String>,
    pub days: BTreeMap<NaiveDate, ListedDay>,
    /// Line of the `year` key, for errors found later (a year loaded twice).
    pub year_line: usize,
}

struct Ctx<'a> {
    text: &'a str,
    file: &'a str,
}

impl Ctx<'_> {
    fn line_at(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        1 + self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
    }

    fn err(
        &self,
        span: Option<Range<usize>>,
        key: &str,
        message: impl Into<String>,
    ) -> CalendarError {
        CalendarError {
            file: self.file.to_string(),
            line: span.map_or(1, |s| self.line_at(s.start)),
            key: key.to_string(),
            message: message.into(),
        }
    }

    /// Span of the key `k` in `t` (the line a person looks for), else of its value.
    fn key_span(&self, t: &Table, k: &str) -> Option<Range<usize>> {
        t.key(k)
            .and_then(|k| k.span())
            .or_else(|| t.get(k).and_then(Item::span))
    }
}

const TOP_KEYS: &[&str] = &["year", "published", "source", "url", "holidays"];
const HOLIDAY_KEYS: &[&str] = &["name", "days_off", "make_up_workdays"];

/// Parses and checks one year file; `file` is only used in error messages.
pub(crate) fn parse_year(text: &str, file: &str) -> Result<ParsedYear, CalendarError> {
    let cx = Ctx { text, file };
    let doc = ImDocument::parse(text.to_string()).map_err(|e| {
        let msg = e
            .message()
            .lines()
            .next()
            .unwrap_or("invalid TOML")
            .to_string();
        cx.err(e.span(), "(syntax)", msg)
    })?;
    let top = doc.as_table();
    for (k, _) in top.iter() {
        if !TOP_KEYS.contains(&k) {
            return Err(cx.err(
                cx.key_span(top, k),
                k,
                format!("unknown key; expected one of {TOP_KEYS:?}"),
            ));
        }
    }

    let year_v = required_value(&cx, top, "year", "year")?;
    let year = year_v
        .as_integer()
        .filter(|y| (1..=9999).contains(y))
        .ok_or_else(|| cx.err(year_v.span(), "year", "expected a year such as 2026"))?;
    // In range by the filter above.
    let year = year as i32;
    let year_line = cx.key_span(top, "year").map_or(1, |s| cx.line_at(s.start));

    let pub_v = required_value(&cx, top, "published", "published")?;
    let published = pub_v
        .as_bool()
        .ok_or_else(|| cx.err(pub_v.span(), "published", "expected true or false"))?;

    let src_v = required_value(&cx, top, "source", "source")?;
    let source = src_v
        .as_str()
        .ok_or_else(|| {
            cx.err(
                src_v.span(),
                "source",
                "expected a string naming the notice",
            )
        })?
        .to_string();

    let url = match top.get("url") {
        None => None,
        Some(item) => Some(
            item.as_str()
                .ok_or_else(|| cx.err(item.span(), "url", "expected a string"))?
                .to_string(),
        ),
    };

    let mut days: BTreeMap<NaiveDate, (ListedDay, String)> = BTreeMap::new();
    if let Some(item) = top.get("holidays") {
        let tables = item.as_array_of_tables().ok_or_else(|| {
            cx.err(
                cx.key_span(top, "holidays"),
                "holidays",
                "expected [[holidays]] tables",
            )
        })?;
        if !published && !tables.is_empty() {
            return Err(cx.err(
                cx.key_span(top, "holidays"),
                "holidays",
                "a year with published = false must not list days; set published = true",
            ));
        }
        for (i, t) in tables.iter().enumerate() {
            let at = format!("holidays[{i}]");
            parse_holiday(&cx, t, &at, year, &mut days)?;
        }
    }

    Ok(ParsedYear {
        year,
        published,
        source,
        url,
        days: days.into_iter().map(|(d, (day, _))| (d, day)).collect(),
        year_line,
    })
}

fn required_value<'t>(
    cx: &Ctx,
    t: &'t Table,
    k: &str,
    path: &str,
) -> Result<&'t Value, CalendarError> {
    match t.get(k) {
        None => Err(cx.err(t.span(), path, "missing key")),
        Some(item) => item
            .as_value()
            .ok_or_else(|| cx.err(cx.key_span(t, k), path, "expected a value, not a table")),
    }
}

fn parse_holiday(
    cx: &Ctx,
    t: &Table,
    at: &str,
    year: i32,
    days: &mut BTreeMap<NaiveDate, (ListedDay, String)>,
) -> Result<(), CalendarError> {
    for (k, _) in t.iter() {
        if !HOLIDAY_KEYS.contains(&k) {
            return Err(cx.err(
                cx.key_span(t, k),
                &format!("{at}.{k}"),
                format!("unknown key; expected one of {HOLIDAY_KEYS:?}"),
            ));
        }
    }
    let name_path = format!("{at}.name");
    let name_v = required_value(cx, t, "name", &name_path)?;
    let name = name_v
        .as_str()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| {
            cx.err(
                name_v.span(),
                &name_path,
                "expected a non-empty string such as \"春节\"",
            )
        })?
        .to_string();

    for (k, working) in [("days_off", false), ("make_up_workdays", true)] {
        let Some(item) = t.get(k) else { continue };
        let path = format!("{at}.{k}");
        let arr = item.as_array().ok_or_else(|| {
            cx.err(
                cx.key_span(t, k),
                &path,
                "expected a list of \"YYYY-MM-DD\" dates",
            )
        })?;
        for (j, v) in arr.iter().enumerate() {
            let p = format!("{path}[{j}]");
            let s = v
                .as_str()
                .ok_or_else(|| cx.err(v.span(), &p, "expected a \"YYYY-MM-DD\" string"))?;
            let date = parse_date(s)
                .ok_or_else(|| cx.err(v.span(), &p, format!("{s:?} is not a date YYYY-MM-DD")))?;
            if date.year() != year {
                return Err(cx.err(
                    v.span(),
                    &p,
                    format!("{date} is outside this file's year {year}"),
                ));
            }
            if working && crate::is_weekday(date) {
                return Err(cx.err(
                    v.span(),
                    &p,
                    format!("{date} is a {}, already a working day; make-up working days are weekend days", date.weekday()),
                ));
            }
            if let Some((prev, prev_path)) = days.get(&date) {
                let message = if prev.working == working {
                    format!("{date} is listed twice (also at {prev_path})")
                } else {
                    format!(
                        "{date} is both a day off and a make-up working day (also at {prev_path})"
                    )
                };
                return Err(cx.err(v.span(), &p, message));
            }
            days.insert(
                date,
                (
                    ListedDay {
                        working,
                        holiday: name.clone(),
                    },
                    p,
                ),
            );
        }
    }
    Ok(())
}

/// Strict `YYYY-MM-DD`: chrono alone would also take unpadded months and days.
fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shape_ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape_ok {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}
