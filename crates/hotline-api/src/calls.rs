//! Live calls and call control: `GET /api/v1/calls`, `GET /api/v1/calls/{id}`, and
//! `POST /api/v1/calls/{id}/conference | leave | transfer | monitor`.
//!
//! A call's `id` is the switch's call reference (listed by `GET /api/v1/calls`, with the call's `ticket_id`).
//! Control requests are answered once the switch has *started* the action: `202` with the call as it is then
//! (the third party or supervisor is being rung); the outcome shows in the call's legs and on the ticket.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{ApiError, ApiJson, ApiPath, ApiState};

/// One leg of a live call.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LegView {
    /// `citizen`, `agent`, `third_party` or `supervisor`.
    pub role: String,
    /// The citizen's or third party's number, the agent's or supervisor's id.
    pub party: String,
    /// `ringing`, `up` or `left`.
    pub state: String,
    /// Third party: `three_way`, `blind_transfer`, `attended_transfer`, `escalation`; supervisor: `listen`,
    /// `whisper`, `barge`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
}

/// A live call as the switch sees it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CallView {
    pub id: u64,
    pub ticket_id: i64,
    pub caller: String,
    pub line: String,
    pub queue: Option<String>,
    /// `greeting`, `menu`, `queued`, `ringing_agent`, `talking`, `conference`, `callback_waiting`, …
    pub state: String,
    /// The agent who answered, if any.
    pub agent: Option<String>,
    /// An SOS call (registered handset or SOS line).
    pub sos: bool,
    /// The registered elder's profile for the screen-pop (name, age, address, medical notes, contacts…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sos_device: Option<serde_json::Value>,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub answered_at: Option<chrono::DateTime<chrono::Utc>>,
    pub legs: Vec<LegView>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallControlError {
    #[error("call not found")]
    NotFound,
    /// The request itself is wrong (bad number, unknown supervisor): 400.
    #[error("{0}")]
    Invalid(String),
    /// Not possible in the call's current state (no agent yet, a third party already being rung): 409.
    #[error("{0}")]
    Conflict(String),
    /// The switch cannot do it as configured (nowhere to dial the number): 503.
    #[error("{0}")]
    Unavailable(String),
}

impl From<CallControlError> for ApiError {
    fn from(e: CallControlError) -> Self {
        match e {
            CallControlError::NotFound => ApiError::not_found("call not found (it may have ended)"),
            CallControlError::Invalid(r) => ApiError::new(StatusCode::BAD_REQUEST, "invalid", r),
            CallControlError::Conflict(r) => ApiError::new(StatusCode::CONFLICT, "conflict", r),
            CallControlError::Unavailable(r) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", r)
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferMode {
    /// The citizen is handed over at once; the agent is free.
    Blind,
    /// The agent first talks to the third party (the citizen hears music), then hands over with `leave`.
    Attended,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MonitorMode {
    /// Hears both, heard by none.
    Listen,
    /// Heard by the agent only.
    Whisper,
    /// Heard by both.
    Barge,
}

/// What the API may ask of live calls. Implemented by the switch; the default answers "no calls".
pub trait CallControl: Send + Sync + 'static {
    fn list(&self) -> BoxFuture<'static, Vec<CallView>>;

    /// Dial `number` and join it to the call (caller, agent and third party talk).
    fn conference(
        &self,
        call: u64,
        number: String,
    ) -> BoxFuture<'static, Result<CallView, CallControlError>>;

    /// The agent leaves; the citizen and the third party stay connected.
    fn leave(&self, call: u64) -> BoxFuture<'static, Result<CallView, CallControlError>>;

    fn transfer(
        &self,
        call: u64,
        number: String,
        mode: TransferMode,
    ) -> BoxFuture<'static, Result<CallView, CallControlError>>;

    /// Ring the supervisor and join them to the call in `mode`, or change the mode of one already in.
    fn monitor(
        &self,
        call: u64,
        supervisor: String,
        mode: MonitorMode,
    ) -> BoxFuture<'static, Result<CallView, CallControlError>>;
}

/// No switch behind the API (tests of other routes).
pub struct NoCalls;

impl CallControl for NoCalls {
    fn list(&self) -> BoxFuture<'static, Vec<CallView>> {
        Box::pin(async { Vec::new() })
    }
    fn conference(
        &self,
        _: u64,
        _: String,
    ) -> BoxFuture<'static, Result<CallView, CallControlError>> {
        Box::pin(async { Err(CallControlError::NotFound) })
    }
    fn leave(&self, _: u64) -> BoxFuture<'static, Result<CallView, CallControlError>> {
        Box::pin(async { Err(CallControlError::NotFound) })
    }
    fn transfer(
        &self,
        _: u64,
        _: String,
        _: TransferMode,
    ) -> BoxFuture<'static, Result<CallView, CallControlError>> {
        Box::pin(async { Err(CallControlError::NotFound) })
    }
    fn monitor(
        &self,
        _: u64,
        _: String,
        _: MonitorMode,
    ) -> BoxFuture<'static, Result<CallView, CallControlError>> {
        Box::pin(async { Err(CallControlError::NotFound) })
    }
}

/// A number one may dial: digits, optionally a leading `+`, at most 32.
fn check_number(number: &str) -> Result<String, ApiError> {
    let n = number.trim();
    let digits = n.strip_prefix('+').unwrap_or(n);
    if digits.is_empty() || digits.len() > 32 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid",
            format!("number: {number:?} is not a phone number (digits, e.g. \"120\")"),
        ));
    }
    Ok(n.to_string())
}

fn accepted(view: CallView) -> Response {
    (StatusCode::ACCEPTED, Json(view)).into_response()
}

pub(crate) async fn list_calls(State(st): State<ApiState>) -> Response {
    let items = st.calls.list().await;
    Json(json!({ "items": items, "total": items.len() })).into_response()
}

pub(crate) async fn get_call(
    State(st): State<ApiState>,
    ApiPath(id): ApiPath<u64>,
) -> Result<Response, ApiError> {
    st.calls
        .list()
        .await
        .into_iter()
        .find(|c| c.id == id)
        .map(|c| Json(c).into_response())
        .ok_or_else(|| CallControlError::NotFound.into())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NumberBody {
    number: String,
}

pub(crate) async fn conference(
    State(st): State<ApiState>,
    ApiPath(id): ApiPath<u64>,
    ApiJson(body): ApiJson<NumberBody>,
) -> Result<Response, ApiError> {
    let number = check_number(&body.number)?;
    Ok(accepted(st.calls.conference(id, number).await?))
}

pub(crate) async fn leave(
    State(st): State<ApiState>,
    ApiPath(id): ApiPath<u64>,
) -> Result<Response, ApiError> {
    Ok(accepted(st.calls.leave(id).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TransferBody {
    number: String,
    /// Default `blind` (one-key transfer).
    mode: Option<TransferMode>,
}

pub(crate) async fn transfer(
    State(st): State<ApiState>,
    ApiPath(id): ApiPath<u64>,
    ApiJson(body): ApiJson<TransferBody>,
) -> Result<Response, ApiError> {
    let number = check_number(&body.number)?;
    let mode = body.mode.unwrap_or(TransferMode::Blind);
    Ok(accepted(st.calls.transfer(id, number, mode).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MonitorBody {
    supervisor: String,
    /// Default `listen`.
    mode: Option<MonitorMode>,
}

pub(crate) async fn monitor(
    State(st): State<ApiState>,
    ApiPath(id): ApiPath<u64>,
    ApiJson(body): ApiJson<MonitorBody>,
) -> Result<Response, ApiError> {
    let supervisor = body.supervisor.trim().to_string();
    if supervisor.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid",
            "supervisor: must be a supervisor's agent id",
        ));
    }
    let mode = body.mode.unwrap_or(MonitorMode::Listen);
    Ok(accepted(st.calls.monitor(id, supervisor, mode).await?))
}
