//! The dispatch catalogue (派单目录): which unit leads a ticket of a given category in a given area, at a given
//! time of day, and which units assist (协办).
//!
//! [`Catalogue::route`] picks the most specific matching [`Rule`]. A rule matches when each of its conditions
//! does: its category (a minor matches that minor only; a major matches the major and all its minors; none
//! matches any category, also a ticket without one), its area (that area and everything below it; none matches
//! any area, also a ticket without one) and its window (the ticket's China local time lies in it).
//!
//! Precedence among matching rules, compared in this order, first difference wins:
//! 1. category: a minor rule beats a major rule beats an any-category rule;
//! 2. area: a community rule beats a street rule beats a district rule beats an any-area rule;
//! 3. window: a rule with a time window beats one without;
//! 4. file order: the earlier rule wins a full tie.
//!
//! Category comes before area because the catalogue is first a list of responsibilities (权责清单): a city-wide
//! rule for "parking" outranks a district's catch-all. A district that handles parking itself writes a rule with
//! both the minor category and its area, which then beats both.
//!
//! When no rule matches, responsibility is unclear and the ticket falls back (兜底) to the unit governing the
//! ticket's district ([`Routing::Fallback`]); only the district government counts, not the street office of a
//! street-level area. Without an area, or when no unit governs the district, a dispatcher decides
//! ([`Routing::Manual`]).
//!
//! Times are China local (UTC+8, `hotline_calendar::shanghai()`), because windows are written the way the
//! centre's duty roster is: "17:30–08:30".

use chrono::{Datelike, NaiveDateTime, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};

use crate::taxonomy::Taxonomy;

/// A local time-of-day range. `from` is inclusive, `to` exclusive; `from > to` runs across midnight (17:30–08:30)
/// and `from == to` is the whole day. `days`, when not empty, lists the days the window *starts* on: with
/// 17:30–08:30 on Monday–Friday, Saturday 03:00 is in (Friday night), Monday 03:00 is not (Sunday night).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct TimeWindow {
    pub from: NaiveTime,
    pub to: NaiveTime,
    /// Empty: every day.
    pub days: Vec<Weekday>,
}

impl TimeWindow {
    /// Whether a local date and time lies in the window.
    pub fn contains(&self, at: NaiveDateTime) -> bool {
        let t = at.time();
        let (inside, started_yesterday) = if self.from < self.to {
            (self.from <= t && t < self.to, false)
        } else if self.from > self.to {
            // Across midnight: the evening part started today, the morning part the day before.
            if t >= self.from {
                (true, false)
            } else {
                (t < self.to, true)
            }
        } else {
            (true, false)
        };
        if !inside {
            return false;
        }
        if self.days.is_empty() {
            return true;
        }
        let start_day = if started_yesterday {
            at.weekday().pred()
        } else {
            at.weekday()
        };
        self.days.contains(&start_day)
    }

    /// Strict `HH:MM` (two digits each), 00:00–23:59.
    pub fn parse_hhmm(s: &str) -> Option<NaiveTime> {
        let b = s.as_bytes();
        if b.len() != 5
            || b[2] != b':'
            || !b
                .iter()
                .enumerate()
                .all(|(i, c)| i == 2 || c.is_ascii_digit())
        {
            return None;
        }
        let h = u32::from(b[0] - b'0') * 10 + u32::from(b[1] - b'0');
        let m = u32::from(b[3] - b'0') * 10 + u32::from(b[4] - b'0');
        NaiveTime::from_hms_opt(h, m, 0)
    }
}

/// One catalogue entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct Rule {
    /// Stable id from the file, shown with an automatic dispatch so that a person can find the rule.
    pub id: u64,
    /// A minor code, a major code (all its minors), or `None` for any category.
    pub category: Option<String>,
    /// Any area code (that area and below), or `None` for any area.
    pub area: Option<String>,
    pub window: Option<TimeWindow>,
    /// The lead unit's code (主办).
    pub lead: String,
    /// Co-units' codes (协办).
    pub co: Vec<String>,
}

/// The catalogue's answer for a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Routing {
    /// A rule matched: dispatch to its units.
    Automatic {
        rule: u64,
        lead: String,
        co: Vec<String>,
    },
    /// No rule matched: the unit governing the ticket's district takes it (兜底).
    Fallback { lead: String },
    /// No rule and no governing unit (or no area): a dispatcher decides.
    Manual,
}

/// The ordered list of rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct Catalogue {
    pub rules: Vec<Rule>,
}

/// How specific a matching rule is: (category, area depth, window), compared lexicographically.
type Specificity = (u8, u8, u8);

impl Catalogue {
    pub fn new(rules: Vec<Rule>) -> Self {
        Catalogue { rules }
    }

    pub fn rule(&self, id: u64) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// Routes a ticket; see the module docs for the precedence. `local_time` is China local time. Unknown
    /// category or area codes are not an error: such a ticket simply matches only rules that do not ask for them.
    pub fn route(
        &self,
        tax: &Taxonomy,
        category: Option<&str>,
        area: Option<&str>,
        local_time: NaiveDateTime,
    ) -> Routing {
        let major = category
            .and_then(|c| tax.major_of(c))
            .map(|m| m.code.as_str());
        let path = area.map(|a| tax.area_path(a)).unwrap_or_default();
        let mut best: Option<(Specificity, &Rule)> = None;
        for rule in &self.rules {
            let cat = match rule.category.as_deref() {
                None => 0,
                Some(rc) if Some(rc) == category || Some(rc) == major => {
                    if tax.category(rc).is_some_and(|c| c.is_major()) {
                        1
                    } else {
                        2
                    }
                }
                Some(_) => continue,
            };
            let depth = match rule.area.as_deref() {
                None => 0,
                Some(ra) => match path.iter().find(|a| a.code == ra) {
                    Some(a) => a.level.depth(),
                    None => continue,
                },
            };
            let window = match &rule.window {
                None => 0,
                Some(w) if w.contains(local_time) => 1,
                Some(_) => continue,
            };
            let spec = (cat, depth, window);
            // Strictly greater, so that the earlier rule keeps a tie.
            if best.is_none_or(|(s, _)| spec > s) {
                best = Some((spec, rule));
            }
        }
        if let Some((_, rule)) = best {
            return Routing::Automatic {
                rule: rule.id,
                lead: rule.lead.clone(),
                co: rule.co.clone(),
            };
        }
        let governor = area
            .and_then(|a| tax.district_of(a))
            .and_then(|d| tax.governing_unit(&d.code));
        match governor {
            Some(u) => Routing::Fallback {
                lead: u.code.clone(),
            },
            None => Routing::Manual,
        }
    }
}
