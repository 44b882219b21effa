//! The unit tree (承办单位): `/api/v1/units`. Everyone logged in reads; admins write.
//!
//! * `GET /units?parent=<id>&q=&partner=&active=` → `{"items": [unit…]}` by code.
//! * `POST /units` `{"code", "name", "parent_id", "kind", "area", "partner"}` → 201 the unit
//!   (`kind`: centre, district, department, utility, enterprise, street, community, other);
//!   409 if the code is taken.
//! * `GET|PUT|DELETE /units/{id or code}` — the key is tried as a code first, then as an id. PUT
//!   replaces name, parent, kind, area, partner (and `active` if given; `code` may be left out but
//!   not changed; `id`/`created_at` are ignored, so a unit read with GET can be sent back);
//!   a parent below the unit is refused (`parent_id: … would make a cycle`). DELETE deactivates
//!   (tickets keep referring to the unit) → 204.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use hotline_tickets::{NewUnit, Principal, Unit, UnitFilter, UserRole};
use serde_json::{json, Value};

use crate::auth::require_role;
use crate::error::from_value;
use crate::respond::created;
use crate::{ApiError, ApiJson, ApiPath, ApiQuery, ApiState};

const WRITERS: &[UserRole] = &[UserRole::Admin];

pub(crate) async fn resolve(st: &ApiState, key: &str) -> Result<Unit, ApiError> {
    if let Some(u) = st.tickets.unit_by_code(key).await? {
        return Ok(u);
    }
    if let Ok(id) = key.trim().parse::<i64>() {
        if let Some(u) = st.tickets.unit(id).await? {
            return Ok(u);
        }
    }
    Err(ApiError::not_found(format!("no unit {key:?}")))
}

pub(crate) async fn list(
    State(st): State<ApiState>,
    ApiQuery(f): ApiQuery<UnitFilter>,
) -> Result<Json<Value>, ApiError> {
    let items = st.tickets.list_units(&f).await?;
    Ok(Json(json!({ "items": items })))
}

pub(crate) async fn create(
    State(st): State<ApiState>,
    Extension(p): Extension<Principal>,
    ApiJson(body): ApiJson<NewUnit>,
) -> Result<Response, ApiError> {
    require_role(&p, WRITERS)?;
    let unit = st.store_for(&p).create_unit(&body).await?;
    Ok(created(format!("/api/v1/units/{}", unit.id), &unit))
}

pub(crate) async fn get(
    State(st): State<ApiState>,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<Unit>, ApiError> {
    Ok(Json(resolve(&st, &key).await?))
}

pub(crate) async fn update(
    State(st): State<ApiState>,
    Extension(p): Extension<Principal>,
    ApiPath(key): ApiPath<String>,
    ApiJson(mut body): ApiJson<Value>,
) -> Result<Json<Unit>, ApiError> {
    require_role(&p, WRITERS)?;
    let unit = resolve(&st, &key).await?;
    let Some(obj) = body.as_object_mut() else {
        return Err(ApiError::bad_request(
            "invalid JSON body: must be an object",
        ));
    };
    obj.remove("id");
    obj.remove("created_at");
    obj.entry("code").or_insert_with(|| json!(unit.code));
    let upd: NewUnit = from_value(body)?;
    match st.store_for(&p).update_unit(unit.id, &upd).await? {
        Some(u) => Ok(Json(u)),
        None => Err(ApiError::not_found(format!("no unit {key:?}"))),
    }
}

pub(crate) async fn deactivate(
    State(st): State<ApiState>,
    Extension(p): Extension<Principal>,
    ApiPath(key): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    require_role(&p, WRITERS)?;
    let unit = resolve(&st, &key).await?;
    st.store_for(&p).deactivate_unit(unit.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
