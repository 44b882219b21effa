//! `GET /api/v1/reports/scorecards?year=YYYY` — partner-enterprise scorecards (考核) for a calendar year in
//! China time: per partner its complaints, finished and on-time work, satisfaction, bad records and card
//! (yellow at the first bad record, red at the second, expelled at the third by default: `[cards]` of the
//! routing data), its rank, and the year's bottom partners who get a red warning (`[ranking]`).

use axum::extract::State;
use axum::{Extension, Json};
use chrono::{TimeZone, Utc};
use hotline_workflow::{scorecards, Actor, Role};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::routing::setup;
use crate::{ApiError, ApiQuery, ApiState};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScorecardQuery {
    year: Option<i32>,
}

pub async fn scorecards_report(
    State(st): State<ApiState>,
    Extension(actor): Extension<Actor>,
    ApiQuery(q): ApiQuery<ScorecardQuery>,
) -> Result<Json<Value>, ApiError> {
    if matches!(actor.role, Role::UnitLiaison { .. }) {
        return Err(ApiError::forbidden("scorecards are for centre staff"));
    }
    let setup = setup(&st)?;
    let tz = hotline_calendar::shanghai();
    let now = Utc::now();
    let year = q
        .year
        .unwrap_or_else(|| chrono::Datelike::year(&now.with_timezone(&tz)));
    let start = |y: i32| {
        tz.with_ymd_and_hms(y, 1, 1, 0, 0, 0)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| ApiError::bad_request(format!("year: {y} is out of range")))
    };
    if !(2000..=2100).contains(&year) {
        return Err(ApiError::bad_request(format!(
            "year: {year} is out of range (2000–2100)"
        )));
    }
    let (from, to) = (start(year)?, start(year + 1)?);
    let (facts, records) = st.tickets.partner_facts(from, to).await?;
    // Cards as they stand at the end of the year, or now for the current year.
    let at = now.min(to - chrono::Duration::milliseconds(1));
    let tallies: Vec<_> = facts.iter().map(|f| f.tally.clone()).collect();
    let cards = scorecards(&tallies, &records, &setup.cards, at);
    let ranked = setup.ranking.rank(&cards);
    let red = setup
        .ranking
        .annual_red_warnings(&cards, setup.ranking.bottom);
    let rows: Vec<Value> = cards
        .iter()
        .zip(&facts)
        .map(|(c, f)| {
            let r = ranked.iter().find(|r| r.unit == c.unit);
            json!({
                "unit_id": f.unit_id,
                "unit": f.code,
                "name": f.name,
                "complaints": c.complaints,
                "finished": c.finished,
                "on_time_rate": c.on_time_rate,
                "satisfaction_rate": c.satisfaction_rate,
                "bad_records": c.bad_records,
                "card": c.card,
                "rank": r.and_then(|r| r.rank),
                "score": r.and_then(|r| r.score),
            })
        })
        .collect();
    let events: Vec<Value> = setup
        .cards
        .card_events(&records)
        .into_iter()
        .map(|e| json!({"unit": e.unit, "at": e.at, "card": e.card, "ticket": e.record.ticket}))
        .collect();
    Ok(Json(json!({
        "year": year,
        "scorecards": rows,
        "red_warnings": red.iter().map(|r| r.unit.clone()).collect::<Vec<_>>(),
        "card_events": events,
    })))
}
