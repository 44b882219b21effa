//! The official working-day calendar (`hotline-calendar`, 调休 included) as the workflow's [`Clock`].

use chrono::{DateTime, TimeDelta, Utc};
use hotline_calendar::Calendar;

use crate::sla::{Clock, Sla};

impl Clock for Calendar {
    fn due(&self, start: DateTime<Utc>, sla: Sla) -> DateTime<Utc> {
        match sla {
            Sla::Minutes(m) => {
                self.add_duration(&start, TimeDelta::minutes(i64::from(m)))
                    .due
            }
            Sla::Hours(h) => self.add_hours(&start, h).due,
            Sla::WorkingDays(n) => self.add_working_days(&start, n).due,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calendar() -> Calendar {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/calendar");
        Calendar::from_dir(&dir).expect("shipped calendar loads")
    }

    #[test]
    fn working_days_follow_the_official_calendar() {
        let c = calendar();
        // A complaint received the evening of 2026-09-30 (20:00 in China): 5 working days skip the National
        // Day holiday and count the make-up Saturday 10 October.
        let start: DateTime<Utc> = "2026-09-30T12:00:00Z".parse().unwrap();
        let due = c.due(start, Sla::WorkingDays(5));
        assert_eq!(
            due,
            "2026-10-13T15:59:59.999Z".parse::<DateTime<Utc>>().unwrap()
        );
        // An extension of 2 working days from that due date ends at the end of Thu 15 October.
        assert_eq!(
            c.extend(due, Sla::WorkingDays(2)),
            "2026-10-15T15:59:59.999Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            c.due(start, Sla::Minutes(15)),
            start + TimeDelta::minutes(15)
        );
        assert_eq!(c.due(start, Sla::Hours(24)), start + TimeDelta::hours(24));
    }
}
