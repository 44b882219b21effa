//! Working-day calendar for the hotline's time limits (时限): official days off and make-up working days (调休)
//! per year from the State Council notices, Monday–Friday for every date not listed.
//!
//! Pure and sans-IO apart from [`Calendar::from_dir`]: nothing reads the clock, the caller passes every instant.
//! Calendar arithmetic runs in China Standard Time (Asia/Shanghai). China has had no daylight saving since 1991,
//! so the fixed offset UTC+8 is exact for every date this engine will see.
//!
//! Rules:
//! * "N working days" starts on the first working day after the day of receipt and ends at the end
//!   (23:59:59.999 UTC+8) of the Nth working day. `n = 0` means the end of the receipt day if it is a working
//!   day, else the end of the next working day.
//! * Hour clocks (dispatch "urgent 15 min / normal 24 h", "consult 2 h") are natural time: [`Calendar::add_hours`].
//! * A year whose notice is not loaded (no file, or `published = false`) falls back to Monday–Friday and every
//!   deadline whose span touches it is `provisional`.

use std::collections::BTreeMap;
use std::ops::Bound::{Excluded, Included};
use std::path::Path;

use chrono::{DateTime, Datelike, Days, FixedOffset, NaiveDate, TimeDelta, TimeZone, Utc, Weekday};

mod load;
pub use load::CalendarError;
use load::{parse_year, ListedDay};

#[cfg(test)]
mod tests;

/// Asia/Shanghai as a fixed offset (exact, see the crate docs).
pub fn shanghai() -> FixedOffset {
    // A constant within chrono's ±24 h: cannot fail, whatever the input.
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset")
}

/// How a date is to be treated; [`Kind::Default`] removes an entry so the date follows Monday–Friday again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    DayOff,
    Workday,
    Default,
}

/// A computed time limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    pub due: DateTime<Utc>,
    /// True when a year between receipt and `due` has no official schedule loaded, so `due` may move once the
    /// notice is entered. Also true when `due` saturated at the end of representable time.
    pub provisional: bool,
}

/// Where a clock stands, for the 50 % and 80 % warnings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// Less than half the time used.
    OnTrack,
    /// At least 50 % used.
    HalfUsed,
    /// At least 80 % used.
    NearlyDue,
    /// Past the deadline.
    Overdue,
}

impl Stage {
    pub fn from_fraction(f: f64) -> Stage {
        if f >= 1.0 {
            Stage::Overdue
        } else if f >= 0.8 {
            Stage::NearlyDue
        } else if f >= 0.5 {
            Stage::HalfUsed
        } else {
            // Also NaN, which fraction_elapsed never returns.
            Stage::OnTrack
        }
    }
}

/// What is known about one year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearInfo {
    /// False when the notice is not out (or not entered): the year is Monday–Friday and provisional.
    pub published: bool,
    /// Title, number and date of the notice.
    pub source: String,
    pub url: Option<String>,
    /// File the year was loaded from, or empty when set in memory.
    pub file: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Calendar {
    years: BTreeMap<i32, YearInfo>,
    /// Dates that differ from, or are explicitly listed against, the Monday–Friday week.
    days: BTreeMap<NaiveDate, ListedDay>,
}

pub(crate) fn is_weekday(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// End of `date` in Shanghai, as UTC; saturates instead of failing at the edge of chrono's range.
pub fn end_of_day(date: NaiveDate) -> DateTime<Utc> {
    date.and_hms_milli_opt(23, 59, 59, 999)
        .and_then(|dt| shanghai().from_local_datetime(&dt).single())
        .map_or(DateTime::<Utc>::MAX_UTC, |dt| dt.with_timezone(&Utc))
}

/// Share of the clock from `start` to `due` used at `now`: 0.0 at start (never below), 1.0 at due, above 1.0 when
/// overdue. A clock with no length is 0.0 before its due instant and 1.0 from it on.
pub fn fraction_elapsed(start: DateTime<Utc>, due: DateTime<Utc>, now: DateTime<Utc>) -> f64 {
    let total = (due - start).num_milliseconds();
    if total <= 0 {
        return if now >= due { 1.0 } else { 0.0 };
    }
    let used = (now - start).num_milliseconds();
    (used as f64 / total as f64).max(0.0)
}

impl Calendar {
    /// A calendar with no data: every year Monday–Friday and provisional.
    pub fn new() -> Calendar {
        Calendar::default()
    }

    /// Loads every `*.toml` in `dir` (one year per file, e.g. `config/calendar/`).
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Calendar, CalendarError> {
        let dir = dir.as_ref();
        let read_err = |file: String, e: std::io::Error| CalendarError {
            file,
            line: 0,
            key: String::new(),
            message: e.to_string(),
        };
        let entries = std::fs::read_dir(dir).map_err(|e| read_err(dir.display().to_string(), e))?;
        let mut paths = Vec::new();
        for entry in entries {
            let path = entry
                .map_err(|e| read_err(dir.display().to_string(), e))?
                .path();
            if path.extension().is_some_and(|x| x == "toml") {
                paths.push(path);
            }
        }
        // Sorted so that errors (e.g. a year loaded twice) are reported the same way on every machine.
        paths.sort();
        let mut cal = Calendar::new();
        for path in paths {
            let file = path.display().to_string();
            let text = std::fs::read_to_string(&path).map_err(|e| read_err(file.clone(), e))?;
            cal.load_str(&text, &file)?;
        }
        Ok(cal)
    }

    /// Loads `(file name, text)` pairs; names are only used in error messages and file/year checks.
    pub fn from_strs<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Calendar, CalendarError> {
        let mut cal = Calendar::new();
        for (file, text) in files {
            cal.load_str(text, file)?;
        }
        Ok(cal)
    }

    /// Adds one year file. Fails on a year already loaded, or a file named `<year>.toml` holding another year.
    pub fn load_str(&mut self, text: &str, file: &str) -> Result<(), CalendarError> {
        let parsed = parse_year(text, file)?;
        let located = |message: String| CalendarError {
            file: file.to_string(),
            line: parsed.year_line,
            key: "year".to_string(),
            message,
        };
        let stem = Path::new(file).file_stem().and_then(|s| s.to_str());
        if let Some(named) = stem.and_then(|s| s.parse::<i32>().ok()) {
            if named != parsed.year {
                return Err(located(format!(
                    "file is named for {named} but holds year {}",
                    parsed.year
                )));
            }
        }
        if let Some(prev) = self.years.get(&parsed.year) {
            return Err(located(format!(
                "year {} is already loaded from {}",
                parsed.year, prev.file
            )));
        }
        self.years.insert(
            parsed.year,
            YearInfo {
                published: parsed.published,
                source: parsed.source,
                url: parsed.url,
                file: file.to_string(),
            },
        );
        self.days.extend(parsed.days);
        Ok(())
    }

    pub fn year_info(&self, year: i32) -> Option<&YearInfo> {
        self.years.get(&year)
    }

    /// True when `year` has no official schedule loaded (no file, or `published = false`).
    pub fn is_provisional(&self, year: i32) -> bool {
        !self.years.get(&year).is_some_and(|y| y.published)
    }

    /// Marks `year` as entered from its notice (or not), for the editing API. Days are set with [`Self::set_day`].
    pub fn set_year(&mut self, year: i32, published: bool, source: &str) {
        let info = self.years.entry(year).or_insert_with(|| YearInfo {
            published,
            source: String::new(),
            url: None,
            file: String::new(),
        });
        info.published = published;
        info.source = source.to_string();
    }

    /// Overrides one date in memory (persisting it is the caller's business). `Kind::Default` returns the date
    /// to the Monday–Friday rule. An edit keeps no holiday name.
    pub fn set_day(&mut self, date: NaiveDate, kind: Kind) {
        match kind {
            Kind::Default => {
                self.days.remove(&date);
            }
            Kind::DayOff | Kind::Workday => {
                self.days.insert(
                    date,
                    ListedDay {
                        working: kind == Kind::Workday,
                        holiday: String::new(),
                    },
                );
            }
        }
    }

    /// What the data says about `date`: `Kind::Default` when it is not listed.
    pub fn kind_of(&self, date: NaiveDate) -> Kind {
        match self.days.get(&date) {
            None => Kind::Default,
            Some(d) if d.working => Kind::Workday,
            Some(_) => Kind::DayOff,
        }
    }

    /// The holiday a listed date belongs to (`"春节"`), if it came from a file.
    pub fn holiday_name(&self, date: NaiveDate) -> Option<&str> {
        self.days
            .get(&date)
            .map(|d| d.holiday.as_str())
            .filter(|n| !n.is_empty())
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        self.days
            .get(&date)
            .map_or_else(|| is_weekday(date), |d| d.working)
    }

    /// The first working day strictly after `date`; None only past the end of chrono's calendar.
    pub fn next_working_day(&self, date: NaiveDate) -> Option<NaiveDate> {
        self.nth_working_day_after(date, 1)
    }

    /// The `n`th working day strictly after `date` (`n >= 1`; `n = 0` gives `date`).
    pub fn nth_working_day_after(&self, date: NaiveDate, n: u32) -> Option<NaiveDate> {
        let mut d = date;
        let mut remaining = u64::from(n);
        while remaining > 0 {
            // Jump whole weeks across stretches with no listed day, so a huge n costs little: 7 plain days hold
            // exactly 5 working days whatever weekday they start on.
            if remaining > 5 {
                let gap = match self
                    .days
                    .range((Excluded(d), Included(NaiveDate::MAX)))
                    .next()
                {
                    Some((o, _)) => (*o - d).num_days() - 1,
                    None => i64::MAX,
                };
                let weeks = ((remaining - 1) / 5).min(u64::try_from(gap / 7).unwrap_or(0));
                if weeks > 0 {
                    d = d.checked_add_days(Days::new(weeks * 7))?;
                    remaining -= weeks * 5;
                    continue;
                }
            }
            d = d.succ_opt()?;
            if self.is_working_day(d) {
                remaining -= 1;
            }
        }
        Some(d)
    }

    /// Working days in `(a, b]`: so `working_days_between(receipt day, due day)` of an N-working-day deadline is N.
    /// Negative when `b < a`.
    pub fn working_days_between(&self, a: NaiveDate, b: NaiveDate) -> i64 {
        if b < a {
            return -self.working_days_between(b, a);
        }
        let days = (b - a).num_days();
        let mut count = days / 7 * 5;
        // The remaining < 7 days at the end of the span.
        let mut d = b;
        for _ in 0..days % 7 {
            if is_weekday(d) {
                count += 1;
            }
            match d.pred_opt() {
                Some(p) => d = p,
                None => break,
            }
        }
        for (date, listed) in self.days.range((Excluded(a), Included(b))) {
            match (is_weekday(*date), listed.working) {
                (true, false) => count -= 1,
                (false, true) => count += 1,
                _ => {}
            }
        }
        count
    }

    /// True unless every year from `from` to `to` has an official schedule.
    fn span_provisional(&self, from: i32, to: i32) -> bool {
        let (lo, hi) = (from.min(to), from.max(to));
        let wanted = i64::from(hi) - i64::from(lo) + 1;
        let published = self
            .years
            .range(lo..=hi)
            .filter(|(_, y)| y.published)
            .count();
        i64::try_from(published).map_or(true, |p| p < wanted)
    }

    /// "N working days" from `received`: the end (23:59:59.999, Shanghai) of the Nth working day after the day of
    /// receipt. `n = 0`: the end of the receipt day if it is a working day, else of the next working day.
    pub fn add_working_days<Tz: TimeZone>(&self, received: &DateTime<Tz>, n: u32) -> Deadline {
        let day = received.with_timezone(&shanghai()).date_naive();
        let target = if n == 0 && self.is_working_day(day) {
            Some(day)
        } else {
            self.nth_working_day_after(day, n.max(1))
        };
        match target {
            Some(due_day) => Deadline {
                due: end_of_day(due_day),
                provisional: self.span_provisional(day.year(), due_day.year()),
            },
            None => Deadline {
                due: DateTime::<Utc>::MAX_UTC,
                provisional: true,
            },
        }
    }

    /// Natural-time clock (dispatch, "consult 2 h"): `received + hours`, never provisional.
    pub fn add_hours<Tz: TimeZone>(&self, received: &DateTime<Tz>, hours: u32) -> Deadline {
        self.add_duration(received, TimeDelta::hours(i64::from(hours)))
    }

    /// Natural-time clock of any length (e.g. the 15-minute urgent dispatch).
    pub fn add_duration<Tz: TimeZone>(
        &self,
        received: &DateTime<Tz>,
        length: TimeDelta,
    ) -> Deadline {
        let start = received.with_timezone(&Utc);
        match start.checked_add_signed(length) {
            Some(due) => Deadline {
                due,
                provisional: false,
            },
            None => Deadline {
                due: if length < TimeDelta::zero() {
                    DateTime::<Utc>::MIN_UTC
                } else {
                    DateTime::<Utc>::MAX_UTC
                },
                provisional: true,
            },
        }
    }
}
