//! The knowledge base (知识库): `/api/v1/kb`. Everyone logged in reads; admins and supervisors write.
//!
//! Search runs on an in-memory [`KbIndex`] of the active items (built by [`load_kb`] at start-up and
//! kept in step with every write made here).
//!
//! * `GET /kb?q=&limit=` → `{"items": [{"id", "score", "highlights", "question", "answer",
//!   "category", "keywords"}…]}` best first (`limit` default 10, at most 100; `highlights` are byte
//!   ranges of `question`). Without `q`: `{"items": [item…]}` by id, active ones unless
//!   `include_inactive=true`.
//! * `POST /kb` `{"question", "answer", "category", "keywords", "active"}` → 201 the item.
//! * `GET|PUT|DELETE /kb/{id}` — PUT replaces (`active` kept unless given; `id`/`updated_at`
//!   ignored); DELETE → 204.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use hotline_kb::{KbIndex, KbItem};
use hotline_tickets::{KbItemRow, NewKbItem, Principal, TicketError, TicketStore, UserRole};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::require_role;
use crate::error::from_value;
use crate::respond::{created, without_read_only};
use crate::{ApiError, ApiJson, ApiPath, ApiQuery, ApiState};

const WRITERS: &[UserRole] = &[UserRole::Admin, UserRole::Supervisor];
pub const DEFAULT_LIMIT: usize = 10;

fn to_item(r: &KbItemRow) -> KbItem {
    KbItem {
        id: r.id,
        question: r.question.clone(),
        answer: r.answer.clone(),
        category: r.category.clone(),
        keywords: r.keywords.clone(),
    }
}

/// The index of every active item in the store (for [`ApiState::with_kb`] at start-up).
pub async fn load_kb(store: &TicketStore) -> Result<KbIndex, TicketError> {
    let mut index = KbIndex::new();
    for row in store.list_kb_items(false).await? {
        index.upsert(to_item(&row));
    }
    Ok(index)
}

/// Puts `row` in the index if it is active, takes it out otherwise.
fn reindex(st: &ApiState, id: i64, row: Option<&KbItemRow>) {
    let mut index = st.kb.write().unwrap_or_else(|e| e.into_inner());
    match row.filter(|r| r.active) {
        Some(r) => {
            index.upsert(to_item(r));
        }
        None => {
            index.remove(id);
        }
    }
}

fn not_found(id: i64) -> ApiError {
    ApiError::not_found(format!("no knowledge-base item {id}"))
}

#[derive(Deserialize)]
pub(crate) struct SearchQuery {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    include_inactive: Option<bool>,
}

pub(crate) async fn search(
    State(st): State<ApiState>,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> Result<Json<Value>, ApiError> {
    let q = query.q.as_deref().map(str::trim).unwrap_or_default();
    if q.is_empty() {
        let items = st
            .tickets
            .list_kb_items(query.include_inactive.unwrap_or(false))
            .await?;
        return Ok(Json(json!({ "items": items })));
    }
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    let index = st.kb.read().unwrap_or_else(|e| e.into_inner());
    let items: Vec<Value> = index
        .search(q, limit)
        .into_iter()
        .filter_map(|hit| {
            let item = index.get(hit.id)?;
            Some(json!({
                "id": hit.id,
                "score": hit.score,
                "highlights": hit.highlights,
                "question": item.question,
                "answer": item.answer,
                "category": item.category,
                "keywords": item.keywords,
            }))
        })
        .collect();
    Ok(Json(json!({ "items": items })))
}

pub(crate) async fn create(
    State(st): State<ApiState>,
    Extension(p): Extension<Principal>,
    ApiJson(body): ApiJson<NewKbItem>,
) -> Result<Response, ApiError> {
    require_role(&p, WRITERS)?;
    let row = st.store_for(&p).create_kb_item(&body).await?;
    reindex(&st, row.id, Some(&row));
    Ok(created(format!("/api/v1/kb/{}", row.id), &row))
}

pub(crate) async fn get(
    State(st): State<ApiState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<KbItemRow>, ApiError> {
    st.tickets
        .kb_item(id)
        .await?
        .map(Json)
        .ok_or_else(|| not_found(id))
}

pub(crate) async fn update(
    State(st): State<ApiState>,
    Extension(p): Extension<Principal>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<KbItemRow>, ApiError> {
    require_role(&p, WRITERS)?;
    let body = without_read_only(body, &["id", "updated_at"]);
    let item: NewKbItem = from_value(body)?;
    let row = st
        .store_for(&p)
        .update_kb_item(id, &item)
        .await?
        .ok_or_else(|| not_found(id))?;
    reindex(&st, id, Some(&row));
    Ok(Json(row))
}

pub(crate) async fn delete(
    State(st): State<ApiState>,
    Extension(p): Extension<Principal>,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    require_role(&p, WRITERS)?;
    if !st.store_for(&p).delete_kb_item(id).await? {
        return Err(not_found(id));
    }
    reindex(&st, id, None);
    Ok(StatusCode::NO_CONTENT)
}
