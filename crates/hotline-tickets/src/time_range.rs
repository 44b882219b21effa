//! `from` / `to` of ticket listings: RFC 3339 instants or China calendar days.

use super::*;

pub(crate) fn local_midnight(d: NaiveDate) -> Result<DateTime<Utc>> {
    hotline_calendar::shanghai()
        .from_local_datetime(&d.and_time(NaiveTime::MIN))
        .single()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| TicketError::InvalidFilter(format!("date {d} out of range")))
}

enum Bound {
    /// `created_at <= t` (RFC 3339 given) or `created_at >= t` for `from`.
    At(DateTime<Utc>),
    /// A local calendar day.
    Day(NaiveDate),
}

fn parse_bound(name: &str, s: &str) -> Result<Bound> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(Bound::At(ts(t.with_timezone(&Utc))));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(Bound::Day(d));
    }
    Err(TicketError::InvalidFilter(format!(
        "{name}: expected RFC 3339 (2026-11-23T08:00:00Z) or YYYY-MM-DD, got {s:?}"
    )))
}

/// `created_at >= from`, `created_at <= to_incl`, `created_at < to_excl`.
pub(crate) struct TimeRange {
    pub(crate) from: Option<DateTime<Utc>>,
    pub(crate) to_incl: Option<DateTime<Utc>>,
    pub(crate) to_excl: Option<DateTime<Utc>>,
}

pub(crate) fn time_range(f: &TicketFilter) -> Result<TimeRange> {
    let mut r = TimeRange {
        from: None,
        to_incl: None,
        to_excl: None,
    };
    if let Some(s) = f.from.as_deref().filter(|s| !s.trim().is_empty()) {
        r.from = Some(match parse_bound("from", s)? {
            Bound::At(t) => t,
            Bound::Day(d) => local_midnight(d)?,
        });
    }
    if let Some(s) = f.to.as_deref().filter(|s| !s.trim().is_empty()) {
        match parse_bound("to", s)? {
            Bound::At(t) => r.to_incl = Some(t),
            Bound::Day(d) => {
                let next = d
                    .succ_opt()
                    .ok_or_else(|| TicketError::InvalidFilter(format!("to: date {d} too large")))?;
                r.to_excl = Some(local_midnight(next)?);
            }
        }
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_parse() {
        let f = TicketFilter {
            from: Some("2026-11-23".into()),
            to: Some("2026-11-23".into()),
            ..Default::default()
        };
        let r = time_range(&f).unwrap();
        assert_eq!(r.from.unwrap().to_rfc3339(), "2026-11-22T16:00:00+00:00");
        assert_eq!(r.to_excl.unwrap().to_rfc3339(), "2026-11-23T16:00:00+00:00");
        let f = TicketFilter {
            to: Some("2026-11-23T10:00:00+08:00".into()),
            ..Default::default()
        };
        let r = time_range(&f).unwrap();
        assert_eq!(r.to_incl.unwrap().to_rfc3339(), "2026-11-23T02:00:00+00:00");
        let f = TicketFilter {
            from: Some("yesterday".into()),
            ..Default::default()
        };
        assert!(matches!(time_range(&f), Err(TicketError::InvalidFilter(_))));
    }
}
