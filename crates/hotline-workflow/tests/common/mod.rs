//! Shared by the test binaries: a fake Monday–Friday calendar and the tests' start time.
#![allow(dead_code)] // each test binary uses its own subset

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use hotline_workflow::{Clock, Sla};

/// Monday to Friday, no holidays, UTC: "N working days" ends at midnight after the Nth working day following
/// the start day.
pub struct Weekdays;

impl Clock for Weekdays {
    fn due(&self, start: DateTime<Utc>, sla: Sla) -> DateTime<Utc> {
        if let Some(d) = sla.elapsed() {
            return start + d;
        }
        let Sla::WorkingDays(n) = sla else {
            return start;
        };
        let mut day: NaiveDate = start.date_naive();
        let mut left = n;
        while left > 0 {
            day = day.succ_opt().unwrap_or(day);
            if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
                left -= 1;
            }
        }
        let end = day.succ_opt().unwrap_or(day);
        Utc.from_utc_datetime(&end.and_hms_opt(0, 0, 0).unwrap_or_default())
    }

    // Our due times are the midnight after the last day; that instant still belongs to the day before.
    fn extend(&self, due: DateTime<Utc>, sla: Sla) -> DateTime<Utc> {
        match sla {
            Sla::WorkingDays(_) => self.due(due - Duration::nanoseconds(1), sla),
            _ => self.due(due, sla),
        }
    }
}

pub const CAL: Weekdays = Weekdays;
