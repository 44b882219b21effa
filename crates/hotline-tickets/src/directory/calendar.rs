//! Calendar edits (调休, extra days off) laid over the calendar files.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{corrupt, MAX_NOTE_CHARS, MAX_USER_ID_CHARS};
use crate::routing::audit::{audit_append, audit_commit, audit_lock, audit_store_head};
use crate::sos::{at_most, required};
use crate::{ts, Result, TicketError, TicketStore};

/// A calendar edit: `day` is a working day (调休 make-up day) or a day off, whatever the files say.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct CalendarDay {
    pub day: NaiveDate,
    pub working: bool,
    pub note: String,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct CalendarDbRow {
    day: String,
    working: bool,
    note: String,
    updated_by: String,
    updated_at: DateTime<Utc>,
}

impl TryFrom<CalendarDbRow> for CalendarDay {
    type Error = TicketError;
    fn try_from(r: CalendarDbRow) -> Result<CalendarDay> {
        let day = NaiveDate::parse_from_str(&r.day, "%Y-%m-%d")
            .map_err(|_| corrupt(format!("calendar day {:?}", r.day)))?;
        Ok(CalendarDay {
            day,
            working: r.working,
            note: r.note,
            updated_by: r.updated_by,
            updated_at: r.updated_at,
        })
    }
}

const CALENDAR_COLUMNS: &str = "day, working, note, updated_by, updated_at";

/// How a day is stored: `YYYY-MM-DD`.
fn day_key(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

impl TicketStore {
    /// Records that `day` is a working day or a day off (replacing an earlier edit of that day).
    pub async fn upsert_calendar_day(
        &self,
        day: NaiveDate,
        working: bool,
        note: &str,
        updated_by: &str,
        now: DateTime<Utc>,
    ) -> Result<CalendarDay> {
        let note = note.trim();
        at_most("note", note, MAX_NOTE_CHARS)?;
        let updated_by = required("updated_by", updated_by, MAX_USER_ID_CHARS)?;
        let before = self.calendar_day(day).await?;
        let saved: CalendarDay = with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let mut chain = audit_lock!(tx);
            let row: CalendarDbRow = sqlx::query_as::<_, CalendarDbRow>(
                "INSERT INTO calendar_days (day, working, note, updated_by, updated_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (day) DO UPDATE SET \
                 working = EXCLUDED.working, note = EXCLUDED.note, \
                 updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at \
                 RETURNING day, working, note, updated_by, updated_at",
            )
            .bind(day_key(day))
            .bind(working)
            .bind(note)
            .bind(&updated_by)
            .bind(ts(now))
            .fetch_one(&mut *tx)
            .await?;
            let saved = CalendarDay::try_from(row)?;
            audit_commit!(self, tx, chain, format!("calendar:{}", day_key(day)), "set", &before, &saved);
            saved
        });
        Ok(saved)
    }

    pub async fn calendar_day(&self, day: NaiveDate) -> Result<Option<CalendarDay>> {
        let sql = format!("SELECT {CALENDAR_COLUMNS} FROM calendar_days WHERE day = $1");
        self.fetch_by::<CalendarDbRow, _>(&sql, day_key(day)).await
    }

    /// Removes the edit of `day` (it follows the calendar files again); `false` if there was none.
    pub async fn delete_calendar_day(&self, day: NaiveDate) -> Result<bool> {
        let Some(old) = self.calendar_day(day).await? else {
            return Ok(false);
        };
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let mut chain = audit_lock!(tx);
            sqlx::query("DELETE FROM calendar_days WHERE day = $1")
                .bind(day_key(day))
                .execute(&mut *tx)
                .await?;
            audit_commit!(self, tx, chain, format!("calendar:{}", day_key(day)), "delete", &old, None::<()>);
        });
        Ok(true)
    }

    /// Every edit, by day.
    pub async fn list_calendar_days(&self) -> Result<Vec<CalendarDay>> {
        let sql = format!("SELECT {CALENDAR_COLUMNS} FROM calendar_days ORDER BY day");
        self.fetch_all::<CalendarDbRow, _>(&sql).await
    }
}

/// Lays the edits over a calendar loaded from the files.
pub fn apply_calendar_days(cal: &mut hotline_calendar::Calendar, days: &[CalendarDay]) {
    for d in days {
        let kind = if d.working {
            hotline_calendar::Kind::Workday
        } else {
            hotline_calendar::Kind::DayOff
        };
        cal.set_day(d.day, kind);
    }
}
