//! Partner-enterprise scorecards (加盟企业考核): per-period figures, yellow/red cards from bad records, and the
//! yearly ranking with red warnings for the bottom of the list.
//!
//! Inputs are plain records the caller counts from its tickets ([`PartnerTally`], [`BadRecord`]); nothing here
//! reads a clock or a database.
//!
//! Cards (as in Rui'an 瑞安): every [`BadRecord`] (an overdue assignment, an unsatisfied callback caused by the
//! unit, an approved return for a wrong reason) counts within a window, by default the calendar year in China
//! time. With the defaults the first record in the window gives a yellow card, the second a red card, the third
//! expels the partner. A new window starts from zero: cards lapse at the new year (or as records age out of a
//! rolling window) — removing a partner after expulsion is the operator's business, not this module's.
//!
//! Ranking (as in Yantai 烟台): partners are ranked by a composite score, 0–100, rounded to two decimals:
//! `(w_on_time × on_time_rate + w_satisfaction × satisfaction_rate) / (w_on_time + w_satisfaction) × 100`.
//! A partner with finished work but no graded callback is scored on its on-time rate alone (the weights are
//! renormalised over the parts it has). Ties go to fewer complaints, then to the unit code (alphabetical), so
//! the order is total and repeatable. A partner with no finished work has no score: it is listed after every
//! scored partner, without a rank, and never receives a red warning — there is nothing to judge it by. The
//! bottom N ranked partners (default 5) receive the annual red warning.

use chrono::{DateTime, Datelike, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// Why a partner got a bad record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BadRecordKind {
    /// An assignment went past its resolve time (超期).
    Overdue,
    /// A callback graded unsatisfied, caused by the unit.
    UnsatisfiedByUnit,
    /// A return (退单) was approved but the reason was the unit's wrong (推诿).
    WrongReturn,
}

/// One dated bad record of a partner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct BadRecord {
    /// The partner's unit code.
    pub unit: String,
    pub at: DateTime<Utc>,
    pub kind: BadRecordKind,
    /// The ticket it concerns, for the person reading the card.
    pub ticket: String,
}

/// A partner's card, in rising order of severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Card {
    None,
    /// 黄牌
    Yellow,
    /// 红牌
    Red,
    /// 清退: expelled from the partner scheme.
    Expelled,
}

/// Over which stretch of time bad records add up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardWindow {
    /// The calendar year in China time; the count restarts on 1 January.
    CalendarYear,
    /// The last N days (N × 24 h) up to and including the moment asked about.
    RollingDays(u32),
}

/// When cards are given: the number of bad records in the window that gives each card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct CardRules {
    pub yellow_at: u32,
    pub red_at: u32,
    pub expel_at: u32,
    pub window: CardWindow,
}

impl Default for CardRules {
    /// Rui'an: yellow at the first record, red at the second, expelled at the third within the year.
    fn default() -> Self {
        CardRules {
            yellow_at: 1,
            red_at: 2,
            expel_at: 3,
            window: CardWindow::CalendarYear,
        }
    }
}

/// A card given at a moment, by a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct CardEvent {
    pub unit: String,
    pub at: DateTime<Utc>,
    pub card: Card,
    /// The record that raised the card.
    pub record: BadRecord,
}

impl CardRules {
    /// The card for a number of records in the window.
    pub fn card_for_count(&self, n: usize) -> Card {
        let n = u64::try_from(n).unwrap_or(u64::MAX);
        if n >= u64::from(self.expel_at) {
            Card::Expelled
        } else if n >= u64::from(self.red_at) {
            Card::Red
        } else if n >= u64::from(self.yellow_at) {
            Card::Yellow
        } else {
            Card::None
        }
    }

    /// Whether a record at `at` counts in the window as it stands at `now`. Later records do not count yet.
    pub fn in_window(&self, at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        if at > now {
            return false;
        }
        match self.window {
            CardWindow::CalendarYear => {
                let cn = hotline_calendar::shanghai();
                at.with_timezone(&cn).year() == now.with_timezone(&cn).year()
            }
            CardWindow::RollingDays(n) => {
                match now.checked_sub_signed(TimeDelta::days(i64::from(n))) {
                    Some(start) => at > start,
                    // Before representable time: everything up to now counts.
                    None => true,
                }
            }
        }
    }

    /// How many of `unit`'s records count at `now`.
    pub fn count(&self, unit: &str, records: &[BadRecord], now: DateTime<Utc>) -> usize {
        records
            .iter()
            .filter(|r| r.unit == unit && self.in_window(r.at, now))
            .count()
    }

    /// The card `unit` holds at `now`.
    pub fn card_for(&self, unit: &str, records: &[BadRecord], now: DateTime<Utc>) -> Card {
        self.card_for_count(self.count(unit, records, now))
    }

    /// Every moment a record raised a unit's card, in time order (then by unit). A record raises the card when
    /// the card counted with it is higher than the card counted just before it; records at the same instant
    /// count in input order. Lapsed cards (new year, aged-out records) produce no event: [`CardRules::card_for`]
    /// tells the card at any moment.
    pub fn card_events(&self, records: &[BadRecord]) -> Vec<CardEvent> {
        let mut sorted: Vec<&BadRecord> = records.iter().collect();
        // Stable: same-instant records keep their input order.
        sorted.sort_by(|a, b| a.unit.cmp(&b.unit).then(a.at.cmp(&b.at)));
        let mut events = Vec::new();
        // Start of the current unit's run in `sorted`, so each record only looks back at its own unit.
        let mut first = 0;
        for (i, r) in sorted.iter().enumerate() {
            if sorted[first].unit != r.unit {
                first = i;
            }
            let before = sorted[first..i]
                .iter()
                .filter(|p| self.in_window(p.at, r.at))
                .count();
            let (was, now) = (self.card_for_count(before), self.card_for_count(before + 1));
            if now > was {
                events.push(CardEvent {
                    unit: r.unit.clone(),
                    at: r.at,
                    card: now,
                    record: (*r).clone(),
                });
            }
        }
        events.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.unit.cmp(&b.unit)));
        events
    }
}

/// A partner's counts for one period, as the caller tallied them from tickets.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct PartnerTally {
    pub unit: String,
    /// Complaints (投诉) about the partner.
    pub complaints: u32,
    /// Assignments finished (办结).
    pub finished: u32,
    /// Of those, finished on time; counted as at most `finished`.
    pub on_time: u32,
    /// Callbacks (回访) graded.
    pub graded: u32,
    /// Of those, graded satisfied; counted as at most `graded`.
    pub satisfied: u32,
}

/// A partner's figures for one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct Scorecard {
    pub unit: String,
    pub complaints: u32,
    pub finished: u32,
    /// `on_time / finished`, 0–1; `None` with nothing finished.
    pub on_time_rate: Option<f64>,
    /// `satisfied / graded`, 0–1; `None` with nothing graded.
    pub satisfaction_rate: Option<f64>,
    /// Bad records in the card window at `now`.
    pub bad_records: u32,
    pub card: Card,
}

fn rate(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| f64::from(part.min(whole)) / f64::from(whole))
}

impl Scorecard {
    /// The scorecard of one partner at `now`; `records` may hold every partner's records.
    pub fn new(
        tally: &PartnerTally,
        records: &[BadRecord],
        rules: &CardRules,
        now: DateTime<Utc>,
    ) -> Scorecard {
        let n = rules.count(&tally.unit, records, now);
        Scorecard {
            unit: tally.unit.clone(),
            complaints: tally.complaints,
            finished: tally.finished,
            on_time_rate: rate(tally.on_time, tally.finished),
            satisfaction_rate: rate(tally.satisfied, tally.graded),
            bad_records: u32::try_from(n).unwrap_or(u32::MAX),
            card: rules.card_for_count(n),
        }
    }
}

/// Scorecards for many partners, in the order of `tallies`.
pub fn scorecards(
    tallies: &[PartnerTally],
    records: &[BadRecord],
    rules: &CardRules,
    now: DateTime<Utc>,
) -> Vec<Scorecard> {
    tallies
        .iter()
        .map(|t| Scorecard::new(t, records, rules, now))
        .collect()
}

/// Weights of the yearly ranking and how many at the bottom get a red warning.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct RankingRules {
    pub on_time_weight: f64,
    pub satisfaction_weight: f64,
    /// The default N of [`RankingRules::annual_red_warnings`].
    pub bottom: usize,
}

impl Default for RankingRules {
    /// Equal weights; the bottom five get a red warning (Yantai).
    fn default() -> Self {
        RankingRules {
            on_time_weight: 0.5,
            satisfaction_weight: 0.5,
            bottom: 5,
        }
    }
}

/// One line of the ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct Ranked {
    /// 1 is best; `None` for a partner without a score.
    pub rank: Option<u32>,
    pub unit: String,
    pub score: Option<f64>,
    pub complaints: u32,
}

impl RankingRules {
    /// The composite score 0–100 (two decimals), or `None` when there is nothing to judge (see the module docs).
    pub fn score(&self, card: &Scorecard) -> Option<f64> {
        // A weight that is negative or not a number counts as 0 rather than corrupting the order.
        let clean = |w: f64| if w.is_finite() && w > 0.0 { w } else { 0.0 };
        let (wo, ws) = (clean(self.on_time_weight), clean(self.satisfaction_weight));
        let on_time = card.on_time_rate?;
        let (sum, weight) = match card.satisfaction_rate {
            Some(s) => (wo * on_time + ws * s, wo + ws),
            None => (wo * on_time, wo),
        };
        if weight <= 0.0 {
            return None;
        }
        // Rounded so that scores equal on paper compare equal and fall to the documented tie-breaks.
        Some((sum / weight * 10_000.0).round() / 100.0)
    }

    /// All partners, best first; unscored partners last (by unit code), without a rank.
    pub fn rank(&self, cards: &[Scorecard]) -> Vec<Ranked> {
        let mut lines: Vec<Ranked> = cards
            .iter()
            .map(|c| Ranked {
                rank: None,
                unit: c.unit.clone(),
                score: self.score(c),
                complaints: c.complaints,
            })
            .collect();
        lines.sort_by(|a, b| match (a.score, b.score) {
            (Some(x), Some(y)) => y
                .total_cmp(&x)
                .then(a.complaints.cmp(&b.complaints))
                .then_with(|| a.unit.cmp(&b.unit)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.unit.cmp(&b.unit),
        });
        let mut next = 1u32;
        for line in lines.iter_mut().filter(|l| l.score.is_some()) {
            line.rank = Some(next);
            next = next.saturating_add(1);
        }
        lines
    }

    /// The `n` lowest-ranked scored partners, worst first: the annual red warning (年度红色预警).
    pub fn annual_red_warnings(&self, cards: &[Scorecard], n: usize) -> Vec<Ranked> {
        let mut ranked: Vec<Ranked> = self
            .rank(cards)
            .into_iter()
            .filter(|l| l.rank.is_some())
            .collect();
        ranked.reverse();
        ranked.truncate(n);
        ranked
    }
}
