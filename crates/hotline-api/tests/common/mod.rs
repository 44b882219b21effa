//! Fixtures shared by the API test binaries (each uses a subset): a fake ACD with no agents, SQLite
//! and PostgreSQL stores, the routing setup of `config/routing.toml`, and HTTP helpers that read a
//! whole response.

#![allow(dead_code)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, request, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use futures::future::BoxFuture;
use hotline_api::*;
use hotline_tickets::TicketStore;
use hotline_workflow::{GradeScale, RoutingConfig, SlaPolicy};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// An ACD with no agents: only the trait's required methods (its defaults answer the rest).
pub struct NoAgents;

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

// ---------------------------------------------------------------------------------------------
// Stores

/// A fresh SQLite store in a temp dir (keep the dir alive as long as the store).
pub async fn sqlite_store() -> (tempfile::TempDir, TicketStore) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/t.db", dir.path().display());
    let store = TicketStore::connect(&url).await.unwrap();
    (dir, store)
}

/// A store on SQLite or, with `pg`, on a fresh PostgreSQL database under `HOTLINE_TEST_PG_URL`
/// (`None` when that is not set). Call [`TestDb::cleanup`] at the end to drop the PG database.
pub struct TestDb {
    pub _dir: tempfile::TempDir,
    pub store: TicketStore,
    pub url: String,
    pg_cleanup: Option<(String, String)>,
}

impl TestDb {
    /// `prefix` names the PG database (`{prefix}_{pid}_{micros}`).
    pub async fn new(pg: bool, prefix: &str) -> Option<TestDb> {
        let dir = tempfile::tempdir().unwrap();
        let (url, pg_cleanup) = if pg {
            let admin = std::env::var("HOTLINE_TEST_PG_URL").ok()?;
            let name = format!(
                "{prefix}_{}_{}",
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
        Some(TestDb {
            _dir: dir,
            store,
            url,
            pg_cleanup,
        })
    }

    pub async fn cleanup(self) {
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

// ---------------------------------------------------------------------------------------------
// Routing and calendar configuration

/// `config/routing.toml`.
pub fn routing_config() -> RoutingConfig {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/routing.toml");
    RoutingConfig::from_path(std::path::Path::new(path)).unwrap()
}

/// The real calendar (`config/calendar`): deadlines cross real holidays and make-up days.
pub fn calendar() -> hotline_calendar::Calendar {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/calendar");
    hotline_calendar::Calendar::from_dir(dir).unwrap()
}

/// The routing setup the engine builds from `cfg`: Guangdong SLA, three-level grades.
pub fn routing_setup(cfg: RoutingConfig) -> RoutingSetup {
    RoutingSetup {
        policy: SlaPolicy::guangdong(),
        scale: GradeScale::three_level(),
        taxonomy: Arc::new(cfg.taxonomy),
        cards: cfg.cards,
        ranking: cfg.ranking,
        repeat_window_days: 7,
        first_response_mins: 3,
    }
}

/// Units and catalogue as the engine seeds them from `config/routing.toml`.
pub async fn seed(store: &TicketStore, cfg: &RoutingConfig) {
    use hotline_tickets::{NewCatalogueRule, UnitInput, UnitKind};
    let units: Vec<UnitInput> = cfg
        .taxonomy
        .units()
        .iter()
        .map(|u| UnitInput {
            code: u.code.clone(),
            name: u.name.clone(),
            parent_code: u.parent.clone(),
            kind: UnitKind::Other,
            area: u.area.clone(),
            partner: u.partner,
        })
        .collect();
    store.seed_units(&units).await.unwrap();
    let rules: Vec<NewCatalogueRule> = cfg
        .taxonomy
        .rules()
        .rules
        .iter()
        .filter(|r| r.window.is_none())
        .map(|r| NewCatalogueRule {
            position: None,
            category: r.category.clone(),
            area: r.area.clone(),
            window_from: None,
            window_to: None,
            days: None,
            lead_unit: r.lead.clone(),
            co_units: r.co.clone(),
            note: String::new(),
        })
        .collect();
    assert!(store.seed_catalogue(&rules).await.unwrap());
}

// ---------------------------------------------------------------------------------------------
// HTTP

/// A response read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: header::HeaderName) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// The content type, `""` if there is none.
    pub fn content_type(&self) -> String {
        self.header(header::CONTENT_TYPE)
            .unwrap_or_default()
            .to_string()
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }

    /// The JSON body; `null` for an empty one; panics on anything else.
    pub fn json(&self) -> Value {
        if self.body.is_empty() {
            return Value::Null;
        }
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} non-JSON body {:?} ({}): {e}",
                self.status,
                String::from_utf8_lossy(&self.body),
                self.content_type()
            )
        })
    }
}

/// A request to `uri`, with `Authorization: Bearer {token}` when a token is given.
pub fn builder(method: Method, uri: &str, token: Option<&str>) -> request::Builder {
    let req = Request::builder().method(method).uri(uri);
    match token {
        Some(t) => req.header(header::AUTHORIZATION, format!("Bearer {t}")),
        None => req,
    }
}

/// Sends `req` and reads the whole response.
pub async fn send_request(app: &Router, req: Request<Body>) -> Reply {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: bytes.to_vec(),
    }
}

/// Sends `body` as JSON (with its content type) and reads the whole response.
pub async fn request_reply(
    app: &Router,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Reply {
    let req = builder(method, uri, token);
    let req = match body {
        Some(v) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(v.to_string())),
        None => req.body(Body::empty()),
    };
    send_request(app, req.unwrap()).await
}

/// Status and JSON body (`null` when empty) of a request with an optional JSON body.
pub async fn request(
    app: &Router,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let r = request_reply(app, method, uri, token, body).await;
    (r.status, r.json())
}
