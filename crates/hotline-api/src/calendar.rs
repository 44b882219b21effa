//! The working-day calendar (调休): `/api/v1/calendar`. Everyone logged in reads; admins and
//! supervisors edit. An edit is stored (`calendar_days`) and applied at once to the shared
//! in-memory calendar ([`ApiState::calendar`]) that deadlines are computed with.
//!
//! * `GET /calendar?year=2026` (default: this year) → `{"year", "provisional", "days": [{"date",
//!   "weekday", "working", "holiday", "note", "edited"}…]}`: every day that is not an ordinary
//!   Monday–Friday working or Saturday–Sunday rest day, and every edited day.
//! * `GET /calendar/{YYYY-MM-DD}` → `{"date", "working", "provisional", "holiday", "note", "edited"}`.
//! * `PUT /calendar/{date}` `{"working": bool, "note"}` → the day as GET shows it.
//! * `DELETE /calendar/{date}` → 204: the day follows the calendar files again (404 if not edited).
//! * `GET /calendar/add?start=<RFC 3339>&working_days=N` → `{"start", "working_days", "due",
//!   "due_local", "provisional"}`: the end of the Nth working day after the day of `start`.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use hotline_calendar::{shanghai, Calendar, Kind};
use hotline_tickets::directory::{apply_calendar_days, MAX_NOTE_CHARS};
use hotline_tickets::{CalendarDay, Principal, UserRole};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::require_role;
use crate::{ApiError, ApiJson, ApiPath, ApiQuery, ApiState};

const WRITERS: &[UserRole] = &[UserRole::Admin, UserRole::Supervisor];
/// Longest span `calendar/add` computes (ten years of working days).
pub const MAX_WORKING_DAYS: u32 = 2500;

/// The calendar files with the stored edits laid over them.
pub fn overlay(base: &Calendar, edits: &[CalendarDay]) -> Calendar {
    let mut cal = base.clone();
    apply_calendar_days(&mut cal, edits);
    cal
}

fn parse_date(s: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| ApiError::bad_request(format!("date: expected YYYY-MM-DD, got {s:?}")))
}

fn weekday(d: NaiveDate) -> &'static str {
    match d.weekday() {
        Weekday::Mon => "mon",
        Weekday::Tue => "tue",
        Weekday::Wed => "wed",
        Weekday::Thu => "thu",
        Weekday::Fri => "fri",
        Weekday::Sat => "sat",
        Weekday::Sun => "sun",
    }
}

fn day_json(cal: &Calendar, date: NaiveDate, edit: Option<&CalendarDay>) -> Value {
    json!({
        "date": date.format("%Y-%m-%d").to_string(),
        "weekday": weekday(date),
        "working": cal.is_working_day(date),
        "provisional": cal.is_provisional(date.year()),
        "holiday": cal.holiday_name(date),
        "note": edit.map(|e| e.note.as_str()).filter(|n| !n.is_empty()),
        "edited": edit.is_some(),
    })
}

fn read(st: &ApiState) -> std::sync::RwLockReadGuard<'_, Calendar> {
    st.calendar.read().unwrap_or_else(|e| e.into_inner())
}

#[derive(Deserialize)]
pub(crate) struct YearQuery {
    #[serde(default)]
    year: Option<i32>,
}

pub(crate) async fn year(
    State(st): State<ApiState>,
    ApiQuery(q): ApiQuery<YearQuery>,
) -> Result<Json<Value>, ApiError> {
    let year = q
        .year
        .unwrap_or_else(|| Utc::now().with_timezone(&shanghai()).year());
    let (Some(first), Some(last)) = (
        NaiveDate::from_ymd_opt(year, 1, 1),
        NaiveDate::from_ymd_opt(year, 12, 31),
    ) else {
        return Err(ApiError::bad_request(format!("year: {year} out of range")));
    };
    let edits: HashMap<NaiveDate, CalendarDay> = st
        .tickets
        .list_calendar_days()
        .await?
        .into_iter()
        .filter(|d| d.day.year() == year)
        .map(|d| (d.day, d))
        .collect();
    let cal = read(&st);
    let days: Vec<Value> = first
        .iter_days()
        .take_while(|d| *d <= last)
        .filter(|d| {
            let ordinary = !matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
            cal.is_working_day(*d) != ordinary || edits.contains_key(d)
        })
        .map(|d| day_json(&cal, d, edits.get(&d)))
        .collect();
    Ok(Json(json!({
        "year": year,
        "provisional": cal.is_provisional(year),
        "days": days,
    })))
}

pub(crate) async fn get_day(
    State(st): State<ApiState>,
    ApiPath(date): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let date = parse_date(&date)?;
    let edit = st.tickets.calendar_day(date).await?;
    Ok(Json(day_json(&read(&st), date, edit.as_ref())))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DayBody {
    working: bool,
    #[serde(default)]
    note: Option<String>,
}

pub(crate) async fn put_day(
    State(st): State<ApiState>,
    Extension(p): Extension<Principal>,
    ApiPath(date): ApiPath<String>,
    ApiJson(body): ApiJson<DayBody>,
) -> Result<Json<Value>, ApiError> {
    require_role(&p, WRITERS)?;
    let date = parse_date(&date)?;
    let note = body.note.unwrap_or_default();
    if note.trim().chars().count() > MAX_NOTE_CHARS {
        return Err(ApiError::invalid(format!(
            "note: at most {MAX_NOTE_CHARS} characters"
        )));
    }
    let edit = st
        .store_for(&p)
        .upsert_calendar_day(date, body.working, &note, &p.user, Utc::now())
        .await?;
    let mut cal = st.calendar.write().unwrap_or_else(|e| e.into_inner());
    cal.set_day(
        date,
        if body.working {
            Kind::Workday
        } else {
            Kind::DayOff
        },
    );
    Ok(Json(day_json(&cal, date, Some(&edit))))
}

pub(crate) async fn delete_day(
    State(st): State<ApiState>,
    Extension(p): Extension<Principal>,
    ApiPath(date): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    require_role(&p, WRITERS)?;
    let date = parse_date(&date)?;
    if !st.store_for(&p).delete_calendar_day(date).await? {
        return Err(ApiError::not_found(format!("{date} has no calendar edit")));
    }
    // Rebuilt from the files and the remaining edits, so the day gets back what the files say
    // (holiday name included).
    let edits = st.tickets.list_calendar_days().await?;
    let fresh = overlay(&st.calendar_base, &edits);
    *st.calendar.write().unwrap_or_else(|e| e.into_inner()) = fresh;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub(crate) struct AddQuery {
    #[serde(default)]
    start: Option<String>,
    #[serde(default)]
    working_days: Option<u32>,
}

pub(crate) async fn add(
    State(st): State<ApiState>,
    ApiQuery(q): ApiQuery<AddQuery>,
) -> Result<Json<Value>, ApiError> {
    let start = match q.start.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Utc::now(),
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| {
                ApiError::bad_request(format!(
                    "start: expected RFC 3339 (2026-03-06T09:00:00+08:00), got {s:?}"
                ))
            })?,
    };
    let n = q
        .working_days
        .ok_or_else(|| ApiError::bad_request("working_days: required"))?;
    if n > MAX_WORKING_DAYS {
        return Err(ApiError::bad_request(format!(
            "working_days: at most {MAX_WORKING_DAYS}"
        )));
    }
    let deadline = read(&st).add_working_days(&start, n);
    Ok(Json(json!({
        "start": start,
        "working_days": n,
        "due": deadline.due,
        "due_local": deadline.due.with_timezone(&shanghai()).to_rfc3339(),
        "provisional": deadline.provisional,
    })))
}
