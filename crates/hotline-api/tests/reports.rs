//! KPI report routes (`src/reports.rs`) over generated tickets in a real SQLite store: the API gives
//! what `TicketStore::kpi_report` gives for the same period, as JSON or CSV; bad input is a 400.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use chrono::{DateTime, NaiveDate, Utc};
use hotline_api::*;
use hotline_tickets::generate::{generate, GenerateOptions};
use hotline_tickets::reports::{to_csv, Dim, ReportPeriod, ReportQuery};
use hotline_tickets::TicketStore;
use serde_json::Value;
use tower::ServiceExt;

mod common;

use common::{builder, send_request, sqlite_store, NoAgents};

const TOKEN: &str = "reports-token";

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// 1,500 finished tickets over the 40 China days before 2026-04-01 (local).
async fn app() -> (tempfile::TempDir, TicketStore, Router) {
    let (dir, store) = sqlite_store().await;
    let o = GenerateOptions {
        count: 1_500,
        seed: 5,
        days: 40,
        end: t("2026-03-31T16:00:00Z"),
    };
    generate(&store, &o).await.unwrap();
    let app = router(ApiState::new(store.clone(), TOKEN, Arc::new(NoAgents)));
    (dir, store, app)
}

/// Status, content type, body.
async fn get(app: &Router, uri: &str) -> (StatusCode, String, String) {
    let r = send_request(
        app,
        builder(Method::GET, uri, Some(TOKEN))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    (r.status, r.content_type(), r.text())
}

async fn json(app: &Router, uri: &str) -> Value {
    let (status, ct, body) = get(app, uri).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {body}");
    assert!(ct.starts_with("application/json"), "{ct}");
    serde_json::from_str(&body).unwrap()
}

/// Rates drop out: a JSON round trip of an f64 may change its last bit; the counts decide them anyway.
fn counts(mut v: Value) -> Value {
    match &mut v {
        Value::Object(o) => {
            o.remove("rate");
            for x in o.values_mut() {
                *x = counts(x.take());
            }
        }
        Value::Array(a) => {
            for x in a.iter_mut() {
                *x = counts(x.take());
            }
        }
        _ => {}
    }
    v
}

async fn expected(
    store: &TicketStore,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    g: &[Dim],
) -> Value {
    let mut q = ReportQuery::new(from, to);
    q.group_by = g.to_vec();
    counts(serde_json::to_value(store.kpi_report(&q).await.unwrap()).unwrap())
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

#[tokio::test]
async fn kpi_route_matches_the_store() {
    let (_dir, store, app) = app().await;
    let v = json(
        &app,
        "/api/v1/reports/kpi?from=2026-03-01&to=2026-03-31&group_by=day,unit",
    )
    .await;
    let range = (t("2026-02-28T16:00:00Z"), t("2026-03-31T16:00:00Z"));
    assert_eq!(
        counts(v.clone()),
        expected(&store, range, &[Dim::Day, Dim::Unit]).await
    );
    assert!(v["total"]["tickets"].as_u64().unwrap() > 1_000);
    assert_eq!(v["rows"][0]["keys"]["day"], "2026-03-01");
    assert!(v["total"]["satisfaction"]["rate"].as_f64().is_some());

    // Filters narrow; RFC 3339 bounds are instants.
    let v = json(
        &app,
        "/api/v1/reports/kpi?from=2026-03-01T00:00:00%2B08:00&to=2026-04-01T00:00:00Z&unit=3&channel=voice",
    )
    .await;
    let mut q = ReportQuery::new(t("2026-02-28T16:00:00Z"), t("2026-04-01T00:00:00Z"));
    q.unit = Some(3);
    q.channel = Some("voice".into());
    let want = store.kpi_report(&q).await.unwrap();
    assert_eq!(v["total"]["tickets"], want.total.tickets);
    assert!(want.total.tickets > 0);
    assert_eq!(v["rows"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn period_routes() {
    let (_dir, store, app) = app().await;
    let v = json(&app, "/api/v1/reports/daily?date=2026-03-10").await;
    let range = ReportPeriod::Daily(day("2026-03-10")).range().unwrap();
    assert_eq!(counts(v.clone()), expected(&store, range, &[]).await);
    assert_eq!(v["from"], "2026-03-09T16:00:00Z");

    // 2026-03-11 is a Wednesday: the week of Monday 9 March, seven days by day.
    let v = json(&app, "/api/v1/reports/weekly?date=2026-03-11&group_by=day").await;
    let range = ReportPeriod::Weekly(day("2026-03-09")).range().unwrap();
    assert_eq!(
        counts(v.clone()),
        expected(&store, range, &[Dim::Day]).await
    );
    assert_eq!(v["rows"].as_array().unwrap().len(), 7);
    assert_eq!(v["rows"][0]["keys"]["day"], "2026-03-09");

    let v = json(
        &app,
        "/api/v1/reports/monthly?month=2026-03&group_by=category_major",
    )
    .await;
    let range = ReportPeriod::Monthly(2026, 3).range().unwrap();
    assert_eq!(
        counts(v.clone()),
        expected(&store, range, &[Dim::CategoryMajor]).await
    );
    assert_eq!(v["rows"].as_array().unwrap().len(), 10);
}

#[tokio::test]
async fn csv_format() {
    let (_dir, store, app) = app().await;
    let (status, ct, body) = get(
        &app,
        "/api/v1/reports/monthly?month=2026-03&group_by=week&format=csv",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ct, "text/csv; charset=utf-8");
    assert!(
        body.starts_with("周 week,工单量 tickets,直接办结分子 direct_close_numerator,"),
        "{body}"
    );
    let mut q = ReportQuery::new(t("2026-02-28T16:00:00Z"), t("2026-03-31T16:00:00Z"));
    q.group_by = vec![Dim::Week];
    assert_eq!(body, to_csv(&store.kpi_report(&q).await.unwrap()));
    // 1 March 2026 is a Sunday: the month starts in the week of Monday 23 February.
    let second = body.split("\r\n").nth(1).unwrap();
    assert!(second.starts_with("2026-02-23,"), "{second}");
}

#[tokio::test]
async fn bad_input_is_400() {
    let (_dir, _store, app) = app().await;
    for uri in [
        "/api/v1/reports/kpi",
        "/api/v1/reports/kpi?from=yesterday",
        "/api/v1/reports/kpi?from=2026-03-02&to=2026-03-01",
        "/api/v1/reports/kpi?from=2026-03-01&group_by=hour",
        "/api/v1/reports/kpi?from=2026-03-01&group_by=day,day",
        "/api/v1/reports/kpi?from=2026-03-01&format=xml",
        "/api/v1/reports/kpi?from=2026-03-01&unit=abc",
        "/api/v1/reports/kpi?from=2026-03-01&bogus=1",
        "/api/v1/reports/kpi?date=2026-03-01",
        "/api/v1/reports/daily",
        "/api/v1/reports/daily?date=2026-02-30",
        "/api/v1/reports/daily?date=2026-03-01&from=2026-03-01",
        "/api/v1/reports/weekly?date=03/01/2026",
        "/api/v1/reports/monthly?month=2026-13",
        "/api/v1/reports/monthly?date=2026-03-01",
    ] {
        let (status, _, body) = get(&app, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["error"], "bad_request", "{uri}: {v}");
        assert!(!v["reason"].as_str().unwrap().is_empty());
    }
    // The token is required as everywhere under /api/v1.
    let req = Request::builder()
        .uri("/api/v1/reports/daily?date=2026-03-01")
        .body(Body::empty())
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}
