//! The routing core over HTTP: tickets from every channel and their lifecycle.
//!
//! * `POST /api/v1/tickets` — register a contact (`channel`, `caller`, `content`, `received_at`…; 201).
//! * `PATCH /api/v1/tickets/{id}` — intake details until the ticket is dispatched.
//! * `POST /api/v1/tickets/{id}/actions` — `{"action": "accept" | "close_at_intake" | "queue_for_dispatch" |
//!   "dispatch" | "sign" |
//!   "sub_dispatch" | "contact" | "reply" | "review" | "return" | "extend" | "co_handling" | "decide" |
//!   "callback" | "close" | "reopen" | "urge" | "supervise" | "notice" | "merge" | "hand_off" | "reject" |
//!   "archive", …}` — 200 with the ticket; an illegal action is 409 with the reason, a role that may not act
//!   403, an unknown assignment or request 404, bad data 400 `invalid`.
//! * `GET /api/v1/tickets/{id}/history` — the ticket's audit events.
//! * `GET /api/v1/assignments?unit&state&page&per_page` — a unit's work list (a liaison sees only its own).
//! * `GET /api/v1/audit/verify` — walks the audit chain (admin).
//!
//! `{id}` is the numeric id or the ticket number. Unit references in bodies are unit ids or unit codes.
//! A dispatch without a `lead` asks the catalogue: a matching rule, else the district government of the
//! ticket's area (兜底), else 400 asking for a lead.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use hotline_calendar::Calendar;
use hotline_tickets::routing::{AssignmentFilter, IntakeUpdate, NewTicket};
use hotline_workflow::{
    Actor, Channel, GradeScale, Role, SlaPolicy, Taxonomy, TicketType, Urgency,
};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{ApiError, ApiJson, ApiPath, ApiQuery, ApiState};

mod actions;

use actions::steps_for;
pub use actions::{ActionBody, UnitRef};

/// What the routing core needs besides the store: the centre's time rules and its category/area trees.
pub struct RoutingSetup {
    /// Copied onto each ticket when it enters dispatch.
    pub policy: SlaPolicy,
    pub scale: GradeScale,
    pub taxonomy: Arc<Taxonomy>,
    /// Partner cards (yellow / red / expelled) and the yearly ranking.
    pub cards: hotline_workflow::CardRules,
    pub ranking: hotline_workflow::RankingRules,
    pub repeat_window_days: u32,
    /// First-response time of text channels (SMS, web, WeChat, app, mailbox), in minutes; 0 for none.
    pub first_response_mins: u32,
}

impl RoutingSetup {
    fn top_grade(&self) -> Option<&str> {
        self.scale.grades.first().map(|g| g.code.as_str())
    }
}

/// A copy of the calendar (files plus edits made through `/api/v1/calendar`): a lock guard must not live
/// across the store's awaits.
fn calendar(st: &ApiState) -> Calendar {
    match st.calendar.read() {
        Ok(c) => c.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    }
}

pub(crate) fn setup(st: &ApiState) -> Result<&RoutingSetup, ApiError> {
    st.routing.as_deref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the routing core is not configured",
        )
    })
}

/// Data the action or ticket needs is wrong or missing: 400 `invalid`, like every validation error of the API.
fn unprocessable(reason: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid", reason)
}

/// `{id}`: a numeric id or a ticket number.
async fn ticket_id(st: &ApiState, key: &str) -> Result<i64, ApiError> {
    if key.bytes().all(|b| b.is_ascii_digit()) {
        return key
            .parse::<i64>()
            .map_err(|_| ApiError::bad_request(format!("id: {key} is out of range")));
    }
    // Ticket numbers look like 20261123-000042; anything else is a malformed path, not a missing ticket.
    if !key.contains('-') || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(ApiError::bad_request(format!(
            "id: expected a ticket id or number, got {key:?}"
        )));
    }
    st.tickets
        .id_of_number(key)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("ticket {key} not found")))
}

/// A liaison sees only tickets its unit works on; to others the ticket does not exist.
pub(crate) async fn visible(st: &ApiState, actor: &Actor, id: i64) -> Result<(), ApiError> {
    if let Role::UnitLiaison { unit } = actor.role {
        let unit = i64::try_from(unit).unwrap_or(i64::MAX);
        if !st.tickets.unit_has_ticket(unit, id).await? {
            return Err(ApiError::not_found(format!("ticket {id} not found")));
        }
    }
    Ok(())
}

/// A confidential (保密) ticket keeps the caller's identity at the centre: units see neither number nor name.
pub(crate) fn redact(actor: &Actor, t: &mut hotline_tickets::Ticket) {
    if matches!(actor.role, Role::UnitLiaison { .. }) && t.case.confidential {
        t.caller = String::new();
        t.case.caller_name = None;
    }
}

/// The ticket with its workflow (assignments, requests, clocks, supervision, callbacks), as `actor` may see it.
pub(crate) async fn ticket_view(st: &ApiState, actor: &Actor, id: i64) -> Result<Value, ApiError> {
    let mut detail = st
        .tickets
        .get(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("ticket {id} not found")))?;
    redact(actor, &mut detail.ticket);
    let mut v = serde_json::to_value(&detail).map_err(ApiError::internal)?;
    let flow = st.tickets.workflow(id).await?;
    if let Some(obj) = v.as_object_mut() {
        obj.insert(
            "workflow".into(),
            serde_json::to_value(&flow).map_err(ApiError::internal)?,
        );
    }
    Ok(v)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTicketBody {
    channel: Channel,
    #[serde(default)]
    caller: String,
    caller_name: Option<String>,
    #[serde(default)]
    anonymous: bool,
    #[serde(default)]
    confidential: bool,
    received_at: Option<DateTime<Utc>>,
    #[serde(alias = "type")]
    ticket_type: TicketType,
    #[serde(default = "normal")]
    urgency: Urgency,
    category: Option<String>,
    area: Option<String>,
    address: Option<String>,
    content: String,
    request: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    agent_id: Option<String>,
    call_id: Option<String>,
    line: Option<String>,
    /// Accept (受理) at once; default true. False keeps a draft.
    accept: Option<bool>,
}

fn normal() -> Urgency {
    Urgency::Normal
}

/// Checks category and area codes against the trees; returns (major, district).
fn classify(
    tax: &Taxonomy,
    category: Option<&str>,
    area: Option<&str>,
) -> Result<(Option<String>, Option<String>), ApiError> {
    let major = match category {
        None => None,
        Some(c) => Some(
            tax.major_of(c)
                .map(|m| m.code.clone())
                .ok_or_else(|| unprocessable(format!("category: unknown code {c:?}")))?,
        ),
    };
    let district = match area {
        None => None,
        Some(a) => {
            if tax.area(a).is_none() {
                return Err(unprocessable(format!("area: unknown code {a:?}")));
            }
            tax.district_of(a).map(|d| d.code.clone())
        }
    };
    Ok((major, district))
}

fn is_text_channel(c: Channel) -> bool {
    matches!(
        c,
        Channel::Sms | Channel::Web | Channel::Wechat | Channel::App | Channel::Mailbox
    )
}

pub async fn create_ticket(
    State(st): State<ApiState>,
    Extension(actor): Extension<Actor>,
    ApiJson(b): ApiJson<NewTicketBody>,
) -> Result<Response, ApiError> {
    let setup = setup(&st)?;
    let (major, district) = classify(&setup.taxonomy, b.category.as_deref(), b.area.as_deref())?;
    let first_response = (is_text_channel(b.channel) && setup.first_response_mins > 0)
        .then(|| chrono::Duration::minutes(i64::from(setup.first_response_mins)));
    let new = NewTicket {
        channel: b.channel,
        caller: b.caller.trim().to_string(),
        caller_name: b.caller_name,
        anonymous: b.anonymous,
        confidential: b.confidential,
        received_at: b.received_at,
        ticket_type: b.ticket_type,
        urgency: b.urgency,
        category: b.category,
        category_major: major,
        area: b.area,
        district,
        address: b.address,
        content: b.content,
        request: b.request,
        tags: b.tags,
        agent_id: b.agent_id.or_else(|| {
            matches!(actor.role, Role::Agent | Role::Supervisor).then(|| actor.user.clone())
        }),
        call_id: b.call_id,
        line: b.line,
        first_response,
        repeat_window_days: setup.repeat_window_days,
        accept: b.accept.unwrap_or(true),
    };
    let cal = calendar(&st);
    let t = st
        .tickets
        .create_ticket(new, &actor, Utc::now(), &cal)
        .await?;
    let view = ticket_view(&st, &actor, t.id).await?;
    Ok(crate::respond::created(
        format!("/api/v1/tickets/{}", t.id),
        view,
    ))
}

pub async fn update_ticket(
    State(st): State<ApiState>,
    Extension(actor): Extension<Actor>,
    ApiPath(key): ApiPath<String>,
    ApiJson(mut upd): ApiJson<IntakeUpdate>,
) -> Result<Json<Value>, ApiError> {
    let setup = setup(&st)?;
    let id = ticket_id(&st, &key).await?;
    visible(&st, &actor, id).await?;
    let (major, district) = classify(
        &setup.taxonomy,
        upd.category.as_deref(),
        upd.area.as_deref(),
    )?;
    upd.category_major = major;
    upd.district = district;
    st.tickets
        .update_intake(id, upd, &actor, Utc::now())
        .await?;
    Ok(Json(ticket_view(&st, &actor, id).await?))
}

pub async fn get_ticket(
    State(st): State<ApiState>,
    Extension(actor): Extension<Actor>,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let id = ticket_id(&st, &key).await?;
    visible(&st, &actor, id).await?;
    Ok(Json(ticket_view(&st, &actor, id).await?))
}

pub async fn history(
    State(st): State<ApiState>,
    Extension(actor): Extension<Actor>,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let id = ticket_id(&st, &key).await?;
    visible(&st, &actor, id).await?;
    let number = st
        .tickets
        .get(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("ticket {id} not found")))?
        .ticket
        .number;
    let events = st.tickets.audit_of(&format!("ticket:{number}")).await?;
    Ok(Json(json!({ "items": events })))
}

pub async fn assignments(
    State(st): State<ApiState>,
    Extension(actor): Extension<Actor>,
    ApiQuery(mut f): ApiQuery<AssignmentFilter>,
) -> Result<Json<Value>, ApiError> {
    if let Role::UnitLiaison { unit } = actor.role {
        f.unit = Some(i64::try_from(unit).unwrap_or(i64::MAX));
    }
    let page = st.tickets.list_assignments(&f).await?;
    Ok(Json(
        serde_json::to_value(page).map_err(ApiError::internal)?,
    ))
}

pub async fn verify_audit(
    State(st): State<ApiState>,
    Extension(actor): Extension<Actor>,
) -> Result<Json<Value>, ApiError> {
    if !matches!(actor.role, Role::Admin | Role::Supervisor) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "only an admin or supervisor may verify the audit log",
        ));
    }
    let v = st.tickets.verify_audit(Vec::new()).await?;
    Ok(Json(json!({
        "ok": v.ok(),
        "report": v.report,
        "error": v.error,
        "head_mismatch": v.head_mismatch,
    })))
}

pub async fn act(
    State(st): State<ApiState>,
    Extension(actor): Extension<Actor>,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    let setup = setup(&st)?;
    let id = ticket_id(&st, &key).await?;
    visible(&st, &actor, id).await?;
    // Parsed here rather than by the extractor so that a wrong body is a 400 `invalid` naming the problem.
    let body: ActionBody =
        serde_json::from_value(body).map_err(|e| unprocessable(format!("action body: {e}")))?;
    let steps = steps_for(&st, setup, id, body, &actor).await?;
    let cal = calendar(&st);
    st.tickets
        .apply(steps, &actor, Utc::now(), &cal, setup.top_grade())
        .await?;
    Ok(Json(ticket_view(&st, &actor, id).await?))
}

impl From<hotline_workflow::WorkflowError> for ApiError {
    fn from(e: hotline_workflow::WorkflowError) -> Self {
        use hotline_workflow::WorkflowError as W;
        match e {
            W::Conflict(r) => ApiError::new(StatusCode::CONFLICT, "conflict", r),
            W::Forbidden(r) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", r),
            W::NotFound(r) => ApiError::not_found(r),
            W::Invalid(r) => unprocessable(r),
        }
    }
}
