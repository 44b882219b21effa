//! The dispatch catalogue (派单目录): `/api/v1/catalogue`. Everyone logged in reads; admins and
//! supervisors write.
//!
//! * `GET /catalogue` → `{"items": [rule…]}` in the order rules are tried.
//! * `POST /catalogue` `{"position", "category", "area", "window_from", "window_to", "days",
//!   "lead_unit", "co_units", "note"}` → 201 the rule. Times are `HH:MM` (both or neither; the window
//!   may span midnight), `days` among mon…sun, working, rest; units by code and must exist
//!   (`lead_unit: no unit with code "x"`). `position` defaults to after the last rule.
//! * `GET|PUT|DELETE /catalogue/{id}` — PUT replaces the rule (keeping its position unless given;
//!   `id`/`updated_at` are ignored); DELETE → 204.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use hotline_tickets::{CatalogueRuleRow, NewCatalogueRule, Principal, UserRole};
use serde_json::{json, Value};

use crate::auth::require_role;
use crate::error::from_value;
use crate::respond::{created, without_read_only};
use crate::{ApiError, ApiJson, ApiPath, ApiState};

const WRITERS: &[UserRole] = &[UserRole::Admin, UserRole::Supervisor];

fn not_found(id: i64) -> ApiError {
    ApiError::not_found(format!("no catalogue rule {id}"))
}

pub(crate) async fn list(State(st): State<ApiState>) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        json!({ "items": st.tickets.list_catalogue_rules().await? }),
    ))
}

pub(crate) async fn create(
    State(st): State<ApiState>,
    Extension(p): Extension<Principal>,
    ApiJson(body): ApiJson<NewCatalogueRule>,
) -> Result<Response, ApiError> {
    require_role(&p, WRITERS)?;
    let rule = st.store_for(&p).create_catalogue_rule(&body).await?;
    Ok(created(format!("/api/v1/catalogue/{}", rule.id), &rule))
}

pub(crate) async fn get(
    State(st): State<ApiState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<CatalogueRuleRow>, ApiError> {
    st.tickets
        .catalogue_rule(id)
        .await?
        .map(Json)
        .ok_or_else(|| not_found(id))
}

pub(crate) async fn update(
    State(st): State<ApiState>,
    Extension(p): Extension<Principal>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<CatalogueRuleRow>, ApiError> {
    require_role(&p, WRITERS)?;
    let body = without_read_only(body, &["id", "updated_at"]);
    let rule: NewCatalogueRule = from_value(body)?;
    st.store_for(&p)
        .update_catalogue_rule(id, &rule)
        .await?
        .map(Json)
        .ok_or_else(|| not_found(id))
}

pub(crate) async fn delete(
    State(st): State<ApiState>,
    Extension(p): Extension<Principal>,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    require_role(&p, WRITERS)?;
    if st.store_for(&p).delete_catalogue_rule(id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(id))
    }
}
