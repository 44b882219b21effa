//! Small answers every resource route gives the same way.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::Value;

/// 201 Created with the body and `Location: <location>` (left out if it is not a valid header value).
pub(crate) fn created(location: String, body: impl Serialize) -> Response {
    let mut resp = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

/// Drops the server-set fields of a resource sent back as it was read (`PUT` of a `GET`), so that strict
/// bodies (`deny_unknown_fields`) accept it.
pub(crate) fn without_read_only(mut body: Value, fields: &[&str]) -> Value {
    if let Some(obj) = body.as_object_mut() {
        for k in fields {
            obj.remove(*k);
        }
    }
    body
}
