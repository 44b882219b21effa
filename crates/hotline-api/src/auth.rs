//! Who is calling: the configured admin token, or a session token from `POST /api/v1/login`.
//!
//! * `POST /api/v1/login` `{"user", "password"}` (no auth) → `{"token", "user", "name", "role",
//!   "unit", "expires_at"}`; 401 `wrong user or password` for an unknown user and a wrong password
//!   alike. Agents of the config file log in with their agent id and SIP password (checked first,
//!   see [`AgentLogin`]); everyone else against the `users` table.
//! * `POST /api/v1/logout` → 204 (ends the session of the bearer token).
//! * `GET /api/v1/me` → `{"user", "name", "role", "unit"}`.
//!
//! The middleware puts a [`Principal`] into the request's extensions (handlers take
//! `Extension<Principal>`); the admin token is `Principal { user: "admin", role: Admin }`.
//! Unit liaisons work on their unit's tickets only: the centre's own screens (agents, queues,
//! call-backs, live calls, the SOS registry, users) answer them 403.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use hotline_tickets::directory::constant_time_eq;
use hotline_tickets::{Principal, UserRole};
use hotline_workflow::Role;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::{ApiError, ApiJson, ApiState};

/// An agent (or supervisor) of the config file: logs in with the agent id and SIP password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentLogin {
    pub id: String,
    pub name: String,
    pub password: String,
    /// [`Role::Agent`] or [`Role::Supervisor`].
    pub role: Role,
}

/// Sessions last a shift unless [`ApiState::with_session_ttl`] says otherwise.
pub const DEFAULT_SESSION_TTL_HOURS: i64 = 12;

/// Paths (under `/api/v1`) a unit liaison may not use.
const CENTRE_ONLY: &[&str] = &[
    "/agents",
    "/queues",
    "/callbacks",
    "/calls",
    "/sos",
    "/users",
];

pub fn admin_principal() -> Principal {
    Principal {
        user: "admin".into(),
        role: Role::Admin,
        name: "admin".into(),
    }
}

/// 403 unless the caller has one of `allowed`.
pub fn require_role(principal: &Principal, allowed: &[UserRole]) -> Result<(), ApiError> {
    let role = UserRole::of(&principal.role);
    if allowed.contains(&role) {
        return Ok(());
    }
    let names: Vec<_> = allowed.iter().map(|r| r.as_str()).collect();
    Err(ApiError::forbidden(format!(
        "role {role} may not do this (needs {})",
        names.join(" or ")
    )))
}

fn centre_only(path: &str) -> bool {
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    CENTRE_ONLY.iter().any(|p| {
        path.strip_prefix(p)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

pub(crate) async fn authenticate(
    State(st): State<ApiState>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(token) = crate::bearer(&req).map(str::to_string) else {
        return ApiError::unauthorized().into_response();
    };
    let principal = if crate::token_matches(&token, &st.admin_token) {
        admin_principal()
    } else {
        match st.tickets.principal_for_token(&token, Utc::now()).await {
            Ok(Some(p)) => p,
            Ok(None) => return ApiError::unauthorized().into_response(),
            Err(e) => return ApiError::from(e).into_response(),
        }
    };
    if matches!(principal.role, Role::UnitLiaison { .. }) && centre_only(req.uri().path()) {
        return ApiError::forbidden("unit liaisons have no access to this").into_response();
    }
    // Handlers of the routing core take the workflow's Actor; the rest take the Principal.
    req.extensions_mut().insert(principal.actor());
    req.extensions_mut().insert(principal);
    next.run(req).await
}

/// `{"user", "name", "role", "unit"}`.
pub fn principal_json(p: &Principal) -> Value {
    json!({
        "user": p.user,
        "name": p.name,
        "role": UserRole::of(&p.role).as_str(),
        "unit": p.unit(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginBody {
    user: String,
    password: String,
}

fn wrong_login() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "wrong user or password",
    )
}

/// SHA-256 first, so neither content nor length leaks through the comparison's timing.
fn password_matches(given: &str, expected: &str) -> bool {
    !expected.is_empty()
        && constant_time_eq(
            &Sha256::digest(given.as_bytes()),
            &Sha256::digest(expected.as_bytes()),
        )
}

pub(crate) async fn login(
    State(st): State<ApiState>,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response, ApiError> {
    let now = Utc::now();
    let ttl = st.session_ttl;
    let user = body.user.trim();
    let session = match st.agent_logins.iter().find(|a| a.id == user) {
        Some(agent) => {
            if password_matches(&body.password, &agent.password) {
                let p = Principal {
                    user: agent.id.clone(),
                    role: agent.role,
                    name: agent.name.clone(),
                };
                let token = st.tickets.issue_token(&p, now, ttl).await?;
                Some((token, p))
            } else {
                None
            }
        }
        None => st.tickets.login(user, &body.password, now, ttl).await?,
    };
    let Some((token, p)) = session else {
        tracing::info!(user, "login refused");
        return Err(wrong_login());
    };
    let expires_at: DateTime<Utc> = now.checked_add_signed(ttl).unwrap_or(now);
    let mut out = principal_json(&p);
    if let Value::Object(m) = &mut out {
        m.insert("token".into(), json!(token));
        m.insert("expires_at".into(), json!(expires_at));
    }
    Ok(Json(out).into_response())
}

pub(crate) async fn logout(
    State(st): State<ApiState>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_string());
    if let Some(token) = token {
        st.tickets.logout(&token).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn me(Extension(p): Extension<Principal>) -> Json<Value> {
    Json(principal_json(&p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centre_only_paths() {
        assert!(centre_only("/api/v1/sos/devices"));
        assert!(centre_only("/users"));
        assert!(centre_only("/calls/3/monitor"));
        assert!(!centre_only("/usersx"));
        assert!(!centre_only("/api/v1/units"));
        assert!(!centre_only("/tickets/1"));
    }

    #[test]
    fn roles() {
        let mut p = admin_principal();
        assert!(require_role(&p, &[UserRole::Admin]).is_ok());
        p.role = Role::UnitLiaison { unit: 3 };
        let e = require_role(&p, &[UserRole::Admin, UserRole::Supervisor]).unwrap_err();
        assert_eq!(e.status, StatusCode::FORBIDDEN);
        assert_eq!(e.code, "forbidden");
    }
}
