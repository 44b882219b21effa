//! hotline-api: the HTTP API (axum).
//!
//! * `GET /health` — no auth; `{"status":"ok"}`, or 503 `{"status":"draining"}` once
//!   [`ApiState::set_draining`] was called (load balancers stop sending work during shutdown).
//! * `GET /api/v1/tickets?caller&disposition&state&channel&unit&from&to&page&per_page` —
//!   `{items, page, per_page, total}` (a liaison gets its unit's tickets only).
//! * `GET /api/v1/tickets/{id}` — the ticket (by id or number) with `interactions`, `handoffs` (third
//!   parties such as 120 brought into the call), its `sos_profile`, `location`, `recording` path and
//!   `workflow` (assignments, requests, clocks, supervision, callbacks).
//! * `POST /api/v1/tickets`, `PATCH /api/v1/tickets/{id}`, `POST /api/v1/tickets/{id}/actions`,
//!   `GET /api/v1/tickets/{id}/history`, `GET /api/v1/assignments`, `GET /api/v1/audit/verify` — the ticket
//!   lifecycle (see `routing`); `GET /api/v1/reports/scorecards?year` — partner scorecards.
//! * `GET /api/v1/openapi.yaml` — no auth; this API as an OpenAPI 3 document.
//! * `GET /api/v1/tickets/{id}/recording` — the call's recording, `audio/wav` as an attachment;
//!   a single `Range: bytes=…` gets 206 (416 if unsatisfiable); 404 if there is none (see `recording`).
//! * `GET /api/v1/agents`, `GET /api/v1/agents/{id}`.
//! * `PUT /api/v1/agents/{id}/status` — body `{"status": "available"|"break"|"logged_out", "reason": "..."}`.
//! * `POST /api/v1/agents/{id}/wrap-up/end` — ends the agent's wrap-up early.
//! * `GET /api/v1/agents/{id}/stats?from&to`, `GET /api/v1/queues`, `GET /api/v1/queues/{name}/stats?from&to`
//!   — live statistics since start-up; with `from`/`to` (RFC 3339 or `YYYY-MM-DD`, a day in UTC+8) the
//!   counts and averages come from the tickets of that interval (see `live`).
//! * `GET /api/v1/callbacks?status&kind&page&per_page`, `GET /api/v1/callbacks/{id}`,
//!   `POST /api/v1/callbacks/{id}/dial` (202) — call-back requests and missed calls (回拨 / 漏接回拨).
//! * `GET /api/v1/sos/devices?community&q&page&per_page`, `POST /api/v1/sos/devices` (201; 409 if the
//!   number is taken), `GET|PUT|DELETE /api/v1/sos/devices/{number}` (PUT replaces; DELETE 204) — the
//!   SOS handset registry (一键通); numbers are normalised, in the path too (see `sos`).
//! * `GET /api/v1/calls`, `GET /api/v1/calls/{id}` — live calls with their legs;
//!   `POST /api/v1/calls/{id}/conference` `{"number"}`, `…/leave`, `…/transfer` `{"number", "mode"}`,
//!   `…/monitor` `{"supervisor", "mode"}` — 202 once started (see `calls`).
//! * `GET /api/v1/reports/kpi?from&to&group_by&unit&category&area&channel&format=json|csv`,
//!   `/reports/daily?date`, `/reports/weekly?date`, `/reports/monthly?month` — KPI reports (see `reports`).
//! * `GET /metrics` — no auth; Prometheus text format.
//!
//! * `POST /api/v1/login` (no auth), `POST /api/v1/logout`, `GET /api/v1/me` — sessions (see `auth`).
//! * `/api/v1/users`, `/api/v1/units`, `/api/v1/catalogue`, `/api/v1/kb`, `/api/v1/calendar` — the
//!   directory of the routing core (see `users`, `units`, `catalogue`, `kb`, `calendar`).
//!
//! Every other `/api/v1` route needs `Authorization: Bearer <token>`: the configured admin token or
//! a session token from login (403 `forbidden` when the caller's role may not do it). Every error is
//! `{"error": "<code>", "reason": "<text>"}`: 400 `bad_request`/`invalid`, 401 `unauthorized`,
//! 403 `forbidden`, 404 `not_found`, 405 `method_not_allowed`, 409 `conflict`, 413 `payload_too_large`,
//! 416 `range_not_satisfiable`, 500 `internal`, 503 `unavailable`.

pub mod agents_model;
pub mod auth;
mod calendar;
pub mod calls;
mod catalogue;
mod error;
pub mod kb;
mod live;
mod openapi;
mod recording;
mod reports;
mod respond;
pub mod routing;
mod scorecards;
mod sos;
mod units;
mod users;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use futures::future::BoxFuture;
use hotline_acd::stats::{AgentLiveStats, QueueLiveStats};
use hotline_tickets::{Callback, TicketFilter, TicketStore};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

pub use agents_model::{AgentState, AgentStatus, AgentView};
pub use auth::{require_role, AgentLogin};
pub use calendar::overlay as calendar_overlay;
pub use calls::{CallControl, CallControlError, CallView, LegView, MonitorMode, TransferMode};
pub use error::{ApiError, ApiJson, ApiPath, ApiQuery};
pub use hotline_tickets::Principal;
pub use kb::load_kb;
pub use routing::RoutingSetup;

/// Longest accepted break reason, in characters (it is shown on supervisor screens).
pub const MAX_REASON_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentControlError {
    #[error("agent not found")]
    NotFound,
    /// The change is refused (e.g. the agent is unknown to the ACD's current state); shown to the user.
    #[error("{0}")]
    Invalid(String),
    /// The request clashes with the current state (e.g. a call-back already in progress): 409.
    #[error("{0}")]
    Conflict(String),
    /// The switch cannot do it as configured (e.g. no outbound trunk): 503.
    #[error("{0}")]
    Unavailable(String),
}

/// What the API may ask of the ACD. Implemented by the switch (the ACD actor) and by test fakes.
pub trait AgentControl: Send + Sync + 'static {
    fn list(&self) -> BoxFuture<'static, Vec<AgentView>>;
    /// `reason` is the break reason (meaningful with [`AgentStatus::Break`], `None` otherwise).
    fn set_status(
        &self,
        id: String,
        status: AgentStatus,
        reason: Option<String>,
    ) -> BoxFuture<'static, Result<AgentView, AgentControlError>>;

    /// Ends the agent's wrap-up now (no effect in other states); returns the agent.
    fn end_wrap_up(&self, id: String) -> BoxFuture<'static, Result<AgentView, AgentControlError>> {
        let _ = id;
        Box::pin(async {
            Err(AgentControlError::Unavailable(
                "wrap-up control unavailable".into(),
            ))
        })
    }

    /// Live statistics of every queue, in configuration order.
    fn queues(&self) -> BoxFuture<'static, Vec<QueueLiveStats>> {
        Box::pin(async { Vec::new() })
    }

    /// Live statistics of one agent since start-up.
    fn agent_stats(&self, id: String) -> BoxFuture<'static, Option<AgentLiveStats>> {
        let _ = id;
        Box::pin(async { None })
    }

    /// Starts dialling a call-back (it joins its queue; an agent is rung, then the citizen).
    fn dial_callback(
        &self,
        callback: Callback,
    ) -> BoxFuture<'static, Result<(), AgentControlError>> {
        let _ = callback;
        Box::pin(async {
            Err(AgentControlError::Unavailable(
                "call-backs unavailable".into(),
            ))
        })
    }
}

#[derive(Clone)]
pub struct ApiState {
    pub tickets: TicketStore,
    pub admin_token: String,
    pub agents: Arc<dyn AgentControl>,
    /// Live calls; [`calls::NoCalls`] unless [`ApiState::with_calls`] gives the switch.
    pub calls: Arc<dyn CallControl>,
    /// Told of every SOS device created or changed (the switch prepares its announcement for 120).
    pub on_sos_device: Option<Arc<dyn Fn(hotline_tickets::SosDevice) + Send + Sync>>,
    /// Set during graceful shutdown: `/health` answers 503 so balancers drain us.
    pub draining: Arc<AtomicBool>,
    /// The routing core's rules and trees; its routes answer 503 without them.
    pub routing: Option<Arc<RoutingSetup>>,
    /// Agents of the config file, who log in with their id and SIP password.
    pub agent_logins: Arc<Vec<AgentLogin>>,
    /// How long a login lasts.
    pub session_ttl: chrono::TimeDelta,
    /// Search index of the active knowledge-base items (kept in step by `/api/v1/kb` writes).
    pub kb: Arc<RwLock<hotline_kb::KbIndex>>,
    /// The working-day calendar deadlines are computed with: the files plus the stored edits, changed
    /// in place by `/api/v1/calendar` edits.
    pub calendar: Arc<RwLock<hotline_calendar::Calendar>>,
    /// The calendar as the files give it (what a deleted edit reverts to).
    pub calendar_base: Arc<hotline_calendar::Calendar>,
}

impl ApiState {
    pub fn new(
        tickets: TicketStore,
        admin_token: impl Into<String>,
        agents: Arc<dyn AgentControl>,
    ) -> ApiState {
        ApiState {
            tickets,
            admin_token: admin_token.into(),
            agents,
            calls: Arc::new(calls::NoCalls),
            on_sos_device: None,
            draining: Arc::new(AtomicBool::new(false)),
            routing: None,
            agent_logins: Arc::new(Vec::new()),
            session_ttl: chrono::TimeDelta::hours(auth::DEFAULT_SESSION_TTL_HOURS),
            kb: Arc::new(RwLock::new(hotline_kb::KbIndex::new())),
            calendar: Arc::new(RwLock::new(hotline_calendar::Calendar::new())),
            calendar_base: Arc::new(hotline_calendar::Calendar::new()),
        }
    }

    /// Enables the ticket lifecycle routes (`POST /tickets`, `…/actions`, assignments).
    pub fn with_routing(mut self, setup: RoutingSetup) -> ApiState {
        self.routing = Some(Arc::new(setup));
        self
    }

    /// Agents (and supervisors) of the config file who may log in with their SIP password; checked
    /// before the users table.
    pub fn with_agent_logins(mut self, logins: Vec<AgentLogin>) -> ApiState {
        self.agent_logins = Arc::new(logins);
        self
    }

    pub fn with_session_ttl(mut self, ttl: chrono::TimeDelta) -> ApiState {
        self.session_ttl = ttl;
        self
    }

    /// The knowledge-base index to search (see [`load_kb`]).
    pub fn with_kb(mut self, index: hotline_kb::KbIndex) -> ApiState {
        self.kb = Arc::new(RwLock::new(index));
        self
    }

    /// The calendar of the files (`Calendar::from_dir`) and the stored edits
    /// (`TicketStore::list_calendar_days`) laid over it; read deadlines from [`ApiState::calendar`].
    pub fn with_calendar(
        mut self,
        files: hotline_calendar::Calendar,
        edits: &[hotline_tickets::CalendarDay],
    ) -> ApiState {
        self.calendar = Arc::new(RwLock::new(calendar::overlay(&files, edits)));
        self.calendar_base = Arc::new(files);
        self
    }

    /// Called with every SOS device created or replaced through the API.
    pub fn with_sos_hook(
        mut self,
        hook: Arc<dyn Fn(hotline_tickets::SosDevice) + Send + Sync>,
    ) -> ApiState {
        self.on_sos_device = Some(hook);
        self
    }

    pub(crate) fn sos_device_saved(&self, device: &hotline_tickets::SosDevice) {
        if let Some(hook) = &self.on_sos_device {
            hook(device.clone());
        }
    }

    /// Who answers `/api/v1/calls`.
    pub fn with_calls(mut self, calls: Arc<dyn CallControl>) -> ApiState {
        self.calls = calls;
        self
    }

    /// The store as `p`: directory changes made through it are audited as theirs.
    pub(crate) fn store_for(&self, p: &Principal) -> TicketStore {
        self.tickets
            .acting_as(hotline_tickets::routing::actor_label(&p.actor()))
    }

    pub fn set_draining(&self, draining: bool) {
        self.draining.store(draining, Ordering::SeqCst);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }
}

pub fn router(state: ApiState) -> Router {
    let v1 = Router::new()
        .route("/tickets", get(list_tickets).post(routing::create_ticket))
        .route(
            "/tickets/{id}",
            get(routing::get_ticket).patch(routing::update_ticket),
        )
        .route("/tickets/{id}/actions", post(routing::act))
        .route("/tickets/{id}/history", get(routing::history))
        .route("/assignments", get(routing::assignments))
        .route("/audit/verify", get(routing::verify_audit))
        .route("/tickets/{id}/recording", get(recording::get_recording))
        .route("/agents", get(list_agents))
        .route("/agents/{id}", get(get_agent))
        .route("/agents/{id}/status", put(set_agent_status))
        .route("/agents/{id}/stats", get(live::agent_stats))
        .route("/agents/{id}/wrap-up/end", post(live::end_wrap_up))
        .route("/queues", get(live::list_queues))
        .route("/queues/{name}/stats", get(live::queue_stats))
        .route("/callbacks", get(live::list_callbacks))
        .route("/callbacks/{id}", get(live::get_callback))
        .route("/callbacks/{id}/dial", post(live::dial_callback))
        .route("/reports/scorecards", get(scorecards::scorecards_report))
        .route("/reports/kpi", get(reports::kpi))
        .route("/reports/daily", get(reports::daily))
        .route("/reports/weekly", get(reports::weekly))
        .route("/reports/monthly", get(reports::monthly))
        .route("/calls", get(calls::list_calls))
        .route("/calls/{id}", get(calls::get_call))
        .route("/calls/{id}/conference", post(calls::conference))
        .route("/calls/{id}/leave", post(calls::leave))
        .route("/calls/{id}/transfer", post(calls::transfer))
        .route("/calls/{id}/monitor", post(calls::monitor))
        .route(
            "/sos/devices",
            get(sos::list_devices).post(sos::create_device),
        )
        .route(
            "/sos/devices/{number}",
            get(sos::get_device)
                .put(sos::replace_device)
                .delete(sos::delete_device),
        )
        .route("/logout", post(auth::logout))
        .route("/me", get(auth::me))
        .route("/users", get(users::list).post(users::create))
        .route(
            "/users/{id}",
            get(users::get).put(users::update).delete(users::deactivate),
        )
        .route("/units", get(units::list).post(units::create))
        .route(
            "/units/{id}",
            get(units::get).put(units::update).delete(units::deactivate),
        )
        .route("/catalogue", get(catalogue::list).post(catalogue::create))
        .route(
            "/catalogue/{id}",
            get(catalogue::get)
                .put(catalogue::update)
                .delete(catalogue::delete),
        )
        .route("/kb", get(kb::search).post(kb::create))
        .route("/kb/{id}", get(kb::get).put(kb::update).delete(kb::delete))
        .route("/calendar", get(calendar::year))
        .route("/calendar/add", get(calendar::add))
        .route(
            "/calendar/{date}",
            get(calendar::get_day)
                .put(calendar::put_day)
                .delete(calendar::delete_day),
        )
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        // Added after the layer: no token needed.
        .route("/login", post(auth::login));
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(live::metrics))
        .route("/api/v1/openapi.yaml", get(openapi::yaml))
        .nest("/api/v1", v1)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

async fn health(State(st): State<ApiState>) -> Response {
    if st.is_draining() {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "draining"})),
        )
            .into_response()
    } else {
        Json(json!({"status": "ok"})).into_response()
    }
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed on this route",
    )
}

/// Compares SHA-256 digests in constant time: neither the content nor the length of the
/// configured token leaks through timing.
fn token_matches(given: &str, expected: &str) -> bool {
    if expected.is_empty() {
        // An unset token must not mean "open to everyone".
        return false;
    }
    let a = Sha256::digest(given.as_bytes());
    let b = Sha256::digest(expected.as_bytes());
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

fn bearer(req: &Request) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

async fn list_tickets(
    State(st): State<ApiState>,
    axum::Extension(actor): axum::Extension<hotline_workflow::Actor>,
    ApiQuery(mut filter): ApiQuery<TicketFilter>,
) -> Result<Response, ApiError> {
    // A unit liaison sees only the tickets its unit works on.
    if let hotline_workflow::Role::UnitLiaison { unit } = actor.role {
        filter.unit = Some(i64::try_from(unit).unwrap_or(i64::MAX));
    }
    let mut page = st.tickets.list(&filter).await?;
    for t in &mut page.items {
        routing::redact(&actor, t);
    }
    Ok(Json(page).into_response())
}

async fn list_agents(State(st): State<ApiState>) -> Json<Vec<AgentView>> {
    Json(st.agents.list().await)
}

async fn get_agent(
    State(st): State<ApiState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<AgentView>, ApiError> {
    st.agents
        .list()
        .await
        .into_iter()
        .find(|a| a.id == id)
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("agent {id:?} not found")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    status: AgentStatus,
    #[serde(default)]
    reason: Option<String>,
}

async fn set_agent_status(
    State(st): State<ApiState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<StatusBody>,
) -> Result<Json<AgentView>, ApiError> {
    let reason = body
        .reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    if reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > MAX_REASON_CHARS)
    {
        return Err(ApiError::bad_request(format!(
            "reason: at most {MAX_REASON_CHARS} characters"
        )));
    }
    // A reason only describes a break; drop it otherwise rather than store something misleading.
    let reason = match body.status {
        AgentStatus::Break => reason,
        _ => None,
    };
    match st.agents.set_status(id.clone(), body.status, reason).await {
        Ok(view) => Ok(Json(view)),
        Err(AgentControlError::NotFound) => {
            Err(ApiError::not_found(format!("agent {id:?} not found")))
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_compare() {
        assert!(token_matches("s3cret", "s3cret"));
        assert!(!token_matches("s3cre", "s3cret"));
        assert!(!token_matches("", ""));
        assert!(!token_matches("x", ""));
    }
}
