//! `GET /api/v1/openapi.yaml` (no auth): the API's OpenAPI 3.0.3 document, `openapi.yaml` beside
//! `Cargo.toml`, compiled in. No JSON rendering is served: no YAML parser is in the dependency tree,
//! and a hand-kept JSON copy would drift. `tests/openapi.rs` checks the document against the router.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The document as shipped.
pub const OPENAPI_YAML: &str = include_str!("../openapi.yaml");

pub(crate) async fn yaml() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/yaml; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        OPENAPI_YAML,
    )
        .into_response()
}
