//! The one error shape of the API, `{"error": "<code>", "reason": "<human text>"}`, and extractors
//! that turn axum's own rejections into it.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hotline_tickets::TicketError;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::AgentControlError;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub reason: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, reason: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            reason: reason.into(),
        }
    }

    pub fn bad_request(reason: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", reason)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or wrong bearer token",
        )
    }

    pub fn forbidden(reason: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", reason)
    }

    /// 400 `invalid`: a value breaks a rule; `reason` starts with the field.
    pub fn invalid(reason: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid", reason)
    }

    pub fn not_found(reason: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", reason)
    }

    /// Details go to the log, not to the client.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!("api internal error: {detail}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal server error",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (
            self.status,
            Json(json!({ "error": self.code, "reason": self.reason })),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

impl From<TicketError> for ApiError {
    fn from(e: TicketError) -> Self {
        match e {
            TicketError::InvalidFilter(reason) => ApiError::bad_request(reason),
            TicketError::Workflow(w) => w.into(),
            TicketError::NotFound(id) => ApiError::not_found(format!("ticket {id} not found")),
            TicketError::CallbackNotFound(id) => {
                ApiError::not_found(format!("callback {id} not found"))
            }
            e @ TicketError::Invalid { .. } => ApiError::invalid(e.to_string()),
            TicketError::Conflict(reason) => {
                ApiError::new(StatusCode::CONFLICT, "conflict", reason)
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<AgentControlError> for ApiError {
    fn from(e: AgentControlError) -> Self {
        match e {
            AgentControlError::NotFound => ApiError::not_found("agent not found"),
            AgentControlError::Invalid(reason) => {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid", reason)
            }
            AgentControlError::Conflict(reason) => {
                ApiError::new(StatusCode::CONFLICT, "conflict", reason)
            }
            AgentControlError::Unavailable(reason) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", reason)
            }
        }
    }
}

/// Maps a rejection's status: client errors become 400 (as the API promises), others keep theirs.
fn rejection(status: StatusCode, text: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(status, "payload_too_large", text)
    } else if status.is_client_error() {
        ApiError::bad_request(text)
    } else {
        ApiError::internal(text)
    }
}

/// `axum::extract::Query` with JSON errors.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|r| rejection(r.status(), r.body_text()))
    }
}

/// `axum::extract::Path` with JSON errors.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|r| rejection(r.status(), r.body_text()))
    }
}

/// A JSON body. Unlike `axum::Json` it does not insist on `Content-Type: application/json`
/// (curl users forget it) and every failure is a 400 in the API's shape.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|r| rejection(r.status(), r.body_text()))?;
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(de)
            .map(ApiJson)
            .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {}", field_error(&e))))
    }
}

/// `field: what is wrong` (serde's text alone often does not say which field).
fn field_error(e: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let path = e.path().to_string();
    if path.is_empty() || path == "." {
        e.inner().to_string()
    } else {
        format!("{path}: {}", e.inner())
    }
}

/// Reads a JSON value already parsed (e.g. a PUT body completed with stored fields) into `T`,
/// naming the field that fails.
pub(crate) fn from_value<T: DeserializeOwned>(v: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(v).map_err(
        |e: serde_path_to_error::Error<serde_json::Error>| {
            ApiError::bad_request(format!("invalid JSON body: {}", field_error(&e)))
        },
    )
}
