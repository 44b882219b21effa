//! KPI reports (考核指标, see `hotline_tickets::reports` for the definitions).
//!
//! * `GET /api/v1/reports/kpi?from&to&group_by=day,unit&unit&category&area&channel&format=json|csv` —
//!   tickets received in `[from, to)`; `from`/`to` as in the statistics routes (RFC 3339, or a date
//!   `YYYY-MM-DD`: `from` that day's midnight in China, `to` the whole day included).
//! * `GET /api/v1/reports/daily?date=YYYY-MM-DD`, `/weekly?date=YYYY-MM-DD` (the ISO week, Monday to
//!   Sunday, containing the date), `/monthly?month=YYYY-MM` — the same report over that period; they
//!   take the same `group_by`, filters and `format`.
//!
//! JSON is `{from, to, group_by, rows: [{keys, tickets, <kpi>: {numerator, denominator, rate}}], total}`;
//! `format=csv` is `text/csv; charset=utf-8` (no BOM) with a Chinese + English header row and the total
//! as the last line. Bad dates, dimensions or formats are 400 `bad_request` with the reason.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use hotline_tickets::reports::{parse_dims, to_csv, ReportPeriod, ReportQuery};
use serde::Deserialize;

use crate::live::Interval;
use crate::{ApiError, ApiQuery, ApiState};

/// Grouping, filters and format, common to every report route.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KpiParams {
    from: Option<String>,
    to: Option<String>,
    /// `date` of /daily and /weekly.
    date: Option<String>,
    /// `month` of /monthly.
    month: Option<String>,
    group_by: Option<String>,
    unit: Option<i64>,
    category: Option<String>,
    area: Option<String>,
    channel: Option<String>,
    format: Option<String>,
}

enum Format {
    Json,
    Csv,
}

impl KpiParams {
    fn format(&self) -> Result<Format, ApiError> {
        match self.format.as_deref().map(str::trim) {
            None | Some("") | Some("json") => Ok(Format::Json),
            Some("csv") => Ok(Format::Csv),
            Some(other) => Err(ApiError::bad_request(format!(
                "format: expected json or csv, got {other:?}"
            ))),
        }
    }

    /// Only the parameters of the route: `date` on /kpi (or `from` on /daily) is a mistake worth a 400.
    fn refuse(&self, names: &[&str]) -> Result<(), ApiError> {
        let given = [
            ("from", &self.from),
            ("to", &self.to),
            ("date", &self.date),
            ("month", &self.month),
        ];
        for (name, v) in given {
            if names.contains(&name) && v.is_some() {
                return Err(ApiError::bad_request(format!(
                    "{name}: not a parameter of this report"
                )));
            }
        }
        Ok(())
    }

    /// A unit liaison's reports cover its own unit, whatever `unit` it asked for.
    fn own_unit_only(&mut self, actor: &hotline_workflow::Actor) {
        if let hotline_workflow::Role::UnitLiaison { unit } = actor.role {
            self.unit = Some(i64::try_from(unit).unwrap_or(i64::MAX));
        }
    }

    /// Runs the report; a liaison's is limited to its own unit here, so no route can forget it.
    async fn answer(
        mut self,
        st: &ApiState,
        actor: &hotline_workflow::Actor,
        (from, to): (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<Response, ApiError> {
        self.own_unit_only(actor);
        let format = self.format()?;
        let mut q = ReportQuery::new(from, to);
        q.group_by = parse_dims(self.group_by.as_deref().unwrap_or_default())?;
        q.unit = self.unit;
        q.category = self.category;
        q.area = self.area;
        q.channel = self.channel;
        let report = st.tickets.kpi_report(&q).await?;
        Ok(match format {
            Format::Json => Json(report).into_response(),
            Format::Csv => (
                [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
                to_csv(&report),
            )
                .into_response(),
        })
    }
}

fn date(key: &str, v: Option<&str>) -> Result<NaiveDate, ApiError> {
    let v = v.map(str::trim).unwrap_or_default();
    if v.is_empty() {
        return Err(ApiError::bad_request(format!(
            "{key}: required (YYYY-MM-DD)"
        )));
    }
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map_err(|_| ApiError::bad_request(format!("{key}: expected YYYY-MM-DD, got {v:?}")))
}

pub(crate) async fn kpi(
    State(st): State<ApiState>,
    axum::Extension(actor): axum::Extension<hotline_workflow::Actor>,
    ApiQuery(p): ApiQuery<KpiParams>,
) -> Result<Response, ApiError> {
    p.refuse(&["date", "month"])?;
    let interval = Interval {
        from: p.from.clone(),
        to: p.to.clone(),
    };
    let range = interval
        .resolve()?
        .ok_or_else(|| ApiError::bad_request("from/to: at least one is required"))?;
    p.answer(&st, &actor, range).await
}

pub(crate) async fn daily(
    State(st): State<ApiState>,
    axum::Extension(actor): axum::Extension<hotline_workflow::Actor>,
    ApiQuery(p): ApiQuery<KpiParams>,
) -> Result<Response, ApiError> {
    p.refuse(&["from", "to", "month"])?;
    let d = date("date", p.date.as_deref())?;
    let range = ReportPeriod::Daily(d).range()?;
    p.answer(&st, &actor, range).await
}

pub(crate) async fn weekly(
    State(st): State<ApiState>,
    axum::Extension(actor): axum::Extension<hotline_workflow::Actor>,
    ApiQuery(p): ApiQuery<KpiParams>,
) -> Result<Response, ApiError> {
    p.refuse(&["from", "to", "month"])?;
    let d = date("date", p.date.as_deref())?;
    let range = ReportPeriod::Weekly(d).range()?;
    p.answer(&st, &actor, range).await
}

pub(crate) async fn monthly(
    State(st): State<ApiState>,
    axum::Extension(actor): axum::Extension<hotline_workflow::Actor>,
    ApiQuery(p): ApiQuery<KpiParams>,
) -> Result<Response, ApiError> {
    p.refuse(&["from", "to", "date"])?;
    let m = p.month.as_deref().map(str::trim).unwrap_or_default();
    if m.is_empty() {
        return Err(ApiError::bad_request("month: required (YYYY-MM)"));
    }
    let first = NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d")
        .map_err(|_| ApiError::bad_request(format!("month: expected YYYY-MM, got {m:?}")))?;
    let range = ReportPeriod::Monthly(first.year(), first.month()).range()?;
    p.answer(&st, &actor, range).await
}
