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
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};
use hotline_acd::stats::QueueLiveStats;
use hotline_tickets::CallbackFilter;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{ApiError, ApiPath, ApiQuery, ApiState, AgentControlError};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Interval {
    from: Option<String>,
    to: Option<String>,
}

fn china() -> FixedOffset {
    // UTC+8 is a valid offset; the fallback only satisfies the type.
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset"))
}

/// Parses an interval bound: RFC 3339, or a date meaning its midnight in UTC+8.
fn parse_bound(key: &str, text: &str) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        if let Some(t) = china().from_local_datetime(&d.and_time(NaiveTime::MIN)).single() {
            return Ok(t.with_timezone(&Utc));
        }
    }
    Err(ApiError::bad_request(format!(
        "{key}: expected RFC 3339 (2026-11-23T08:00:00+08:00) or a date (2026-11-23), got {text:?}"
    )))
}

/// A resolved `[from, to)` interval.
type Range = (DateTime<Utc>, DateTime<Utc>);

impl Interval {
    /// `None` when neither bound is given (live figures only).
    fn resolve(&self) -> Result<Option<Range>, ApiError> {
        let from = self.from.as_deref().map(|t| parse_bound("from", t)).transpose()?;
        let to = self.to.as_deref().map(|t| parse_bound("to", t)).transpose()?;
        let (from, to) = match (from, to) {
            (None, None) => return Ok(None),
            (Some(f), None) => (f, Utc::now()),
            (None, Some(t)) => {
                let day = t.with_timezone(&china()).date_naive();
                let start = china()
                    .from_local_datetime(&day.and_time(NaiveTime::MIN))
                    .single()
                    .map_or(t, |s| s.with_timezone(&Utc));
                (start, t)
            }
            (Some(f), Some(t)) => (f, t),
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
        .find(|q| q.queue == name)
        .ok_or_else(|| ApiError::not_found(format!("queue {name:?} not found")))?;
    let live = serde_json::to_value(live).map_err(ApiError::internal)?;
    let Some((from, to)) = range else {
        return Ok(Json(overlay(live, json!({ "source": "live" }))));
    };
    let stats = st.tickets.queue_interval_stats(&name, from, to).await?;
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
    type Field = fn(&QueueLiveStats) -> f64;
    let series: [(&str, &str, &str, Field); 10] = [
        ("hotline_queue_offered_total", "counter", "Calls that entered the queue since start-up.", |q| q.offered as f64),
        ("hotline_queue_answered_total", "counter", "Calls answered by an agent.", |q| q.answered as f64),
        ("hotline_queue_abandoned_total", "counter", "Callers who hung up while waiting.", |q| q.abandoned as f64),
        ("hotline_queue_abandoned_within_5s_total", "counter", "Callers who hung up within 5 s of joining.", |q| q.abandoned_within_5s as f64),
        ("hotline_queue_answered_within_15s_total", "counter", "Calls answered within 15 s of joining (SL-15).", |q| q.answered_within_15s as f64),
        ("hotline_queue_answered_within_20s_total", "counter", "Calls answered within 20 s of joining.", |q| q.answered_within_20s as f64),
        ("hotline_queue_answered_within_30s_total", "counter", "Calls answered within 30 s of joining.", |q| q.answered_within_30s as f64),
        ("hotline_queue_waiting", "gauge", "Calls waiting now.", |q| f64::from(q.waiting)),
        ("hotline_queue_longest_wait_seconds", "gauge", "Longest current wait.", |q| q.longest_current_wait_secs),
        ("hotline_queue_asa_seconds", "gauge", "Average speed of answer since start-up.", |q| q.asa_secs.unwrap_or(0.0)),
    ];
    for (name, kind, help, f) in series {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for q in &queues {
            let _ = writeln!(out, "{name}{{queue=\"{}\"}} {}", label(&q.queue), f(q));
        }
    }
    let _ = writeln!(
        out,
        "# HELP hotline_queue_agents Members of the queue by state.\n# TYPE hotline_queue_agents gauge"
    );
    for q in &queues {
        let a = &q.agents;
        for (state, n) in [
            ("logged_out", a.logged_out),
            ("break", a.on_break),
            ("available", a.available),
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
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        out,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_accept_rfc3339_and_china_dates() {
        let t = parse_bound("from", "2026-11-23").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-22T16:00:00+00:00");
        let t = parse_bound("from", "2026-11-23T08:00:00+08:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-23T00:00:00+00:00");
        let e = parse_bound("to", "yesterday").unwrap_err();
        assert!(e.reason.starts_with("to: expected"), "{}", e.reason);
    }

    #[test]
    fn interval_resolution() {
        let none = Interval::default();
        assert!(none.resolve().unwrap().is_none());
        let backwards = Interval {
            from: Some("2026-11-23".into()),
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
    }

    #[test]
    fn labels_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
