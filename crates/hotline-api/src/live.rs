//! Queues, statistics, call-backs and Prometheus metrics.
//!
//! Live figures come from the ACD (counters since start-up, current waits, agents by state). With `from`
//! and/or `to`, counts and averages come from the tickets of that interval instead (they survive
//! restarts), and the live-only fields (waiting, longest current wait, agents) stay live. A bare date
//! `YYYY-MM-DD` means that day's midnight in China (UTC+8), the day the hotline works by; `from` alone
//! runs to now, `to` alone starts at the beginning of `to`'s day.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use hotline_acd::stats::QueueLiveStats;
use hotline_tickets::CallbackFilter;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{AgentControlError, ApiError, ApiPath, ApiQuery, ApiState};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Interval {
    pub(crate) from: Option<String>,
    pub(crate) to: Option<String>,
}

/// Midnight in UTC+8 at the start of `day`.
fn china_midnight(day: NaiveDate) -> Option<DateTime<Utc>> {
    hotline_calendar::shanghai()
        .from_local_datetime(&day.and_time(NaiveTime::MIN))
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// One bound as given: an instant, or a whole China day.
enum Bound {
    Instant(DateTime<Utc>),
    Day(NaiveDate),
}

/// Parses an interval bound: RFC 3339 (a `+` that arrived as a space, unencoded in the query, is
/// accepted), or a date `YYYY-MM-DD` meaning that day in UTC+8.
fn parse_bound(key: &str, text: &str) -> Result<Bound, ApiError> {
    let text = text.trim();
    let repaired = text.replace(' ', "+");
    for candidate in [text, repaired.as_str()] {
        if let Ok(t) = DateTime::parse_from_rfc3339(candidate) {
            return Ok(Bound::Instant(t.with_timezone(&Utc)));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(Bound::Day(d));
    }
    Err(ApiError::bad_request(format!(
        "{key}: expected RFC 3339 (2026-11-23T08:00:00%2B08:00) or a date (2026-11-23), got {text:?}"
    )))
}

/// A resolved `[from, to)` interval.
type Range = (DateTime<Utc>, DateTime<Utc>);

impl Interval {
    /// `None` when neither bound is given (live figures only). Like `/api/v1/tickets`, an empty value is
    /// absent, a date `from` starts at that day's midnight and a date `to` includes that whole day.
    pub(crate) fn resolve(&self) -> Result<Option<Range>, ApiError> {
        let given = |v: &Option<String>| {
            v.as_deref()
                .filter(|t| !t.trim().is_empty())
                .map(str::to_string)
        };
        let from = given(&self.from)
            .map(|t| parse_bound("from", &t))
            .transpose()?;
        let to = given(&self.to).map(|t| parse_bound("to", &t)).transpose()?;
        let bad_day = || ApiError::bad_request("from/to: date out of range");
        let start = |b: &Bound| match b {
            Bound::Instant(t) => Ok(*t),
            Bound::Day(d) => china_midnight(*d).ok_or_else(bad_day),
        };
        let end = |b: &Bound| match b {
            Bound::Instant(t) => Ok(*t),
            Bound::Day(d) => d.succ_opt().and_then(china_midnight).ok_or_else(bad_day),
        };
        let (from, to) = match (from, to) {
            (None, None) => return Ok(None),
            // From a moment until now (an empty interval if that moment is still to come).
            (Some(f), None) => {
                let f = start(&f)?;
                (f, Utc::now().max(f))
            }
            // The day `to` falls in, up to `to`.
            (None, Some(t)) => {
                let t_end = end(&t)?;
                let day = match t {
                    Bound::Day(d) => d,
                    Bound::Instant(i) => {
                        i.with_timezone(&hotline_calendar::shanghai()).date_naive()
                    }
                };
                (china_midnight(day).ok_or_else(bad_day)?.min(t_end), t_end)
            }
            (Some(f), Some(t)) => {
                // `to` names a moment or a day before `from`: backwards, not merely empty.
                if start(&t)? < start(&f)? {
                    return Err(ApiError::bad_request("to: must not be before from"));
                }
                (start(&f)?, end(&t)?)
            }
        };
        if to < from {
            return Err(ApiError::bad_request("to: must not be before from"));
        }
        Ok(Some((from, to)))
    }
}

/// Overlays the fields of `over` on `base` (both JSON objects).
fn overlay(mut base: Value, over: Value) -> Value {
    if let (Some(b), Value::Object(o)) = (base.as_object_mut(), over) {
        for (k, v) in o {
            b.insert(k, v);
        }
    }
    base
}

pub(crate) async fn list_queues(State(st): State<ApiState>) -> Json<Vec<QueueLiveStats>> {
    Json(st.agents.queues().await)
}

pub(crate) async fn queue_stats(
    State(st): State<ApiState>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(interval): ApiQuery<Interval>,
) -> Result<Json<Value>, ApiError> {
    let range = interval.resolve()?;
    let live = st
        .agents
        .queues()
        .await
        .into_iter()
        .find(|q| q.queue == name);
    let live = match (live, range) {
        (Some(l), _) => serde_json::to_value(l).map_err(ApiError::internal)?,
        // A queue removed from the configuration still has its history in the tickets.
        (None, Some(_)) => json!({ "queue": name }),
        (None, None) => return Err(ApiError::not_found(format!("queue {name:?} not found"))),
    };
    let Some((from, to)) = range else {
        return Ok(Json(overlay(live, json!({ "source": "live" }))));
    };
    let stats = st.tickets.queue_interval_stats(&name, from, to).await?;
    if live.get("strategy").is_none() && stats.offered == 0 {
        // Neither configured nor seen in that interval: most likely a typo.
        return Err(ApiError::not_found(format!(
            "queue {name:?} not found (not configured, no calls in the interval)"
        )));
    }
    let stats = serde_json::to_value(stats).map_err(ApiError::internal)?;
    Ok(Json(overlay(
        overlay(live, stats),
        json!({ "source": "interval" }),
    )))
}

pub(crate) async fn agent_stats(
    State(st): State<ApiState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(interval): ApiQuery<Interval>,
) -> Result<Json<Value>, ApiError> {
    let range = interval.resolve()?;
    let live = st
        .agents
        .agent_stats(id.clone())
        .await
        .ok_or_else(|| ApiError::not_found(format!("agent {id:?} not found")))?;
    let live = serde_json::to_value(live).map_err(ApiError::internal)?;
    let Some((from, to)) = range else {
        return Ok(Json(overlay(live, json!({ "source": "live" }))));
    };
    let stats = st.tickets.agent_interval_stats(&id, from, to).await?;
    let stats = serde_json::to_value(stats).map_err(ApiError::internal)?;
    // Counters kept only since start-up would sit misleadingly beside the interval's answered calls.
    let mut live = live;
    if let Some(obj) = live.as_object_mut() {
        for since_start in ["offered", "missed", "rejected"] {
            obj.remove(since_start);
        }
    }
    Ok(Json(overlay(
        overlay(live, stats),
        json!({ "source": "interval" }),
    )))
}

pub(crate) async fn end_wrap_up(
    State(st): State<ApiState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    match st.agents.end_wrap_up(id.clone()).await {
        Ok(view) => Ok(Json(view).into_response()),
        Err(AgentControlError::NotFound) => {
            Err(ApiError::not_found(format!("agent {id:?} not found")))
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn list_callbacks(
    State(st): State<ApiState>,
    ApiQuery(filter): ApiQuery<CallbackFilter>,
) -> Result<Response, ApiError> {
    Ok(Json(st.tickets.list_callbacks(&filter).await?).into_response())
}

pub(crate) async fn get_callback(
    State(st): State<ApiState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    match st.tickets.get_callback(id).await? {
        Some(cb) => Ok(Json(cb).into_response()),
        None => Err(ApiError::not_found(format!("callback {id} not found"))),
    }
}

/// Starts the call-back: 202 with the call-back as stored; it progresses (dialing, connected, failed)
/// as the switch works it.
pub(crate) async fn dial_callback(
    State(st): State<ApiState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let cb = st
        .tickets
        .get_callback(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("callback {id} not found")))?;
    st.agents.dial_callback(cb.clone()).await?;
    Ok((StatusCode::ACCEPTED, Json(cb)).into_response())
}

/// Escapes a Prometheus label value.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// `GET /metrics`: queue counters and gauges, agents by status and state.
pub(crate) async fn metrics(State(st): State<ApiState>) -> Response {
    let queues = st.agents.queues().await;
    let agents = st.agents.list().await;
    let mut out = String::new();
    // `None` leaves the sample out: "no call answered yet" must not read as "answered instantly".
    type Field = fn(&QueueLiveStats) -> Option<f64>;
    let series: [(&str, &str, &str, Field); 10] = [
        (
            "hotline_queue_offered_total",
            "counter",
            "Calls that entered the queue since start-up.",
            |q| Some(q.offered as f64),
        ),
        (
            "hotline_queue_answered_total",
            "counter",
            "Calls answered by an agent.",
            |q| Some(q.answered as f64),
        ),
        (
            "hotline_queue_abandoned_total",
            "counter",
            "Callers who hung up while waiting.",
            |q| Some(q.abandoned as f64),
        ),
        (
            "hotline_queue_abandoned_within_5s_total",
            "counter",
            "Callers who hung up within 5 s of joining.",
            |q| Some(q.abandoned_within_5s as f64),
        ),
        (
            "hotline_queue_answered_within_15s_total",
            "counter",
            "Calls answered within 15 s of joining (SL-15).",
            |q| Some(q.answered_within_15s as f64),
        ),
        (
            "hotline_queue_answered_within_20s_total",
            "counter",
            "Calls answered within 20 s of joining.",
            |q| Some(q.answered_within_20s as f64),
        ),
        (
            "hotline_queue_answered_within_30s_total",
            "counter",
            "Calls answered within 30 s of joining.",
            |q| Some(q.answered_within_30s as f64),
        ),
        (
            "hotline_queue_waiting",
            "gauge",
            "Calls waiting now.",
            |q| Some(f64::from(q.waiting)),
        ),
        (
            "hotline_queue_longest_wait_seconds",
            "gauge",
            "Longest current wait.",
            |q| Some(q.longest_current_wait_secs),
        ),
        (
            "hotline_queue_asa_seconds",
            "gauge",
            "Average speed of answer since start-up.",
            |q| q.asa_secs,
        ),
    ];
    for (name, kind, help, f) in series {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for q in &queues {
            if let Some(v) = f(q) {
                let _ = writeln!(out, "{name}{{queue=\"{}\"}} {v}", label(&q.queue));
            }
        }
    }
    let _ = writeln!(
        out,
        "# HELP hotline_queue_agents_by_status Members of the queue by the status they chose.\n\
         # TYPE hotline_queue_agents_by_status gauge"
    );
    for q in &queues {
        let a = &q.agents;
        for (status, n) in [
            ("logged_out", a.logged_out),
            ("break", a.on_break),
            ("available", a.available),
        ] {
            let _ = writeln!(
                out,
                "hotline_queue_agents_by_status{{queue=\"{}\",status=\"{status}\"}} {n}",
                label(&q.queue)
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP hotline_queue_agents Members of the queue by the state the system holds them in.\n\
         # TYPE hotline_queue_agents gauge"
    );
    for q in &queues {
        let a = &q.agents;
        for (state, n) in [
            ("idle", a.idle),
            ("reserved", a.reserved),
            ("ringing", a.ringing),
            ("in_call", a.in_call),
            ("wrap_up", a.wrap_up),
        ] {
            let _ = writeln!(
                out,
                "hotline_queue_agents{{queue=\"{}\",state=\"{state}\"}} {n}",
                label(&q.queue)
            );
        }
    }
    let mut by: BTreeMap<(String, String, bool), u32> = BTreeMap::new();
    for a in &agents {
        let status = serde_json::to_value(a.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let state = serde_json::to_value(a.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        *by.entry((status, state, a.registered)).or_default() += 1;
    }
    let _ = writeln!(
        out,
        "# HELP hotline_agents Agents by status, state and registration.\n# TYPE hotline_agents gauge"
    );
    for ((status, state, registered), n) in by {
        let _ = writeln!(
            out,
            "hotline_agents{{status=\"{status}\",state=\"{state}\",registered=\"{registered}\"}} {n}"
        );
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_accept_rfc3339_and_china_dates() {
        let day = |from: &str, to: &str| {
            Interval {
                from: Some(from.into()),
                to: Some(to.into()),
            }
            .resolve()
            .unwrap()
            .map(|(f, t)| (f.to_rfc3339(), t.to_rfc3339()))
        };
        // A date is a whole China day: from its midnight, through its end.
        assert_eq!(
            day("2026-11-23", "2026-11-23"),
            Some((
                "2026-11-22T16:00:00+00:00".into(),
                "2026-11-23T16:00:00+00:00".into()
            ))
        );
        // An unencoded `+` arrives as a space.
        assert_eq!(
            day("2026-11-23T08:00:00 08:00", "2026-11-23T09:00:00+08:00"),
            Some((
                "2026-11-23T00:00:00+00:00".into(),
                "2026-11-23T01:00:00+00:00".into()
            ))
        );
        let e = parse_bound("to", "yesterday").err().unwrap();
        assert!(e.reason.starts_with("to: expected"), "{}", e.reason);
    }

    #[test]
    fn interval_resolution() {
        let none = Interval::default();
        assert!(none.resolve().unwrap().is_none());
        let empty = Interval {
            from: Some(String::new()),
            to: None,
        };
        assert!(empty.resolve().unwrap().is_none(), "empty means absent");
        let backwards = Interval {
            from: Some("2026-11-24".into()),
            to: Some("2026-11-22".into()),
        };
        assert!(backwards.resolve().is_err());
        let to_only = Interval {
            from: None,
            to: Some("2026-11-23T12:00:00+08:00".into()),
        };
        let (f, t) = to_only.resolve().unwrap().unwrap();
        assert_eq!(f.to_rfc3339(), "2026-11-22T16:00:00+00:00");
        assert_eq!(t.to_rfc3339(), "2026-11-23T04:00:00+00:00");
        let to_day = Interval {
            from: None,
            to: Some("2026-11-23".into()),
        };
        let (f, t) = to_day.resolve().unwrap().unwrap();
        assert_eq!(f.to_rfc3339(), "2026-11-22T16:00:00+00:00");
        assert_eq!(t.to_rfc3339(), "2026-11-23T16:00:00+00:00");
        let future = Interval {
            from: Some("2999-01-01".into()),
            to: None,
        };
        let (f, t) = future.resolve().unwrap().unwrap();
        assert_eq!(f, t, "a future from gives an empty interval, not an error");
    }

    #[test]
    fn labels_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
