//! Users who log in (`/api/v1/users`), admins only.
//!
//! * `GET /users` → `{"items": [user…]}` by id (never a password hash).
//! * `POST /users` `{"id", "name", "role", "unit_id", "password"}` → 201 the user. `role`: admin,
//!   agent, supervisor, liaison; a liaison needs `unit_id`, no other role may have one; passwords
//!   have at least 8 characters. 409 if the id is taken.
//! * `GET /users/{id}`; `PUT /users/{id}` with any of `name`, `role`, `unit_id` (null clears),
//!   `password`, `active` (changing role, unit or password, or deactivating, ends the user's
//!   sessions); `DELETE /users/{id}` deactivates → 204.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use hotline_tickets::{NewUser, Principal, User, UserRole, UserUpdate};
use serde_json::{json, Value};

use crate::auth::require_role;
use crate::error::from_value;
use crate::respond::{created, without_read_only};
use crate::{ApiError, ApiJson, ApiPath, ApiState};

const ADMIN: &[UserRole] = &[UserRole::Admin];

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("no user {id:?}"))
}

pub(crate) async fn list(
    State(st): State<ApiState>,
    Extension(p): Extension<Principal>,
) -> Result<Json<Value>, ApiError> {
    require_role(&p, ADMIN)?;
    Ok(Json(json!({ "items": st.tickets.list_users().await? })))
}

pub(crate) async fn create(
    State(st): State<ApiState>,
    Extension(p): Extension<Principal>,
    ApiJson(body): ApiJson<NewUser>,
) -> Result<Response, ApiError> {
    require_role(&p, ADMIN)?;
    if st.agent_logins.iter().any(|a| a.id == body.id.trim()) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!("id: {:?} is an agent of the configuration file", body.id),
        ));
    }
    let user = st.store_for(&p).create_user(&body).await?;
    Ok(created(format!("/api/v1/users/{}", user.id), &user))
}

pub(crate) async fn get(
    State(st): State<ApiState>,
    Extension(p): Extension<Principal>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<User>, ApiError> {
    require_role(&p, ADMIN)?;
    st.tickets
        .user(&id)
        .await?
        .map(Json)
        .ok_or_else(|| not_found(&id))
}

pub(crate) async fn update(
    State(st): State<ApiState>,
    Extension(p): Extension<Principal>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<User>, ApiError> {
    require_role(&p, ADMIN)?;
    // A user read with GET may be sent back as it is.
    let body = without_read_only(body, &["id", "created_at"]);
    let upd: UserUpdate = from_value(body)?;
    st.store_for(&p)
        .update_user(&id, &upd)
        .await?
        .map(Json)
        .ok_or_else(|| not_found(&id))
}

pub(crate) async fn deactivate(
    State(st): State<ApiState>,
    Extension(p): Extension<Principal>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    require_role(&p, ADMIN)?;
    if st.store_for(&p).deactivate_user(&id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(&id))
    }
}
