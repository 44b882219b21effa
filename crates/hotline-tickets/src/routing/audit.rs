//! The audit log's storage: appended in the transaction of each change (see the module docs of `routing`),
//! read back page by page and verified (`hotline audit verify`).

use chrono::{DateTime, Utc};
use hotline_audit::{Anchor, AuditEvent, Verifier, VerifyError, VerifyReport};
use serde::Serialize;

use crate::{Result, TicketError, TicketStore};

/// Takes the chain's head inside transaction `$tx` and returns a [`hotline_audit::Chain`] to append to. A write
/// comes first on purpose: SQLite takes its write lock at once, PostgreSQL locks the head row until commit.
macro_rules! audit_lock {
    ($tx:expr) => {{
        let (seq, hash): (i64, String) =
            sqlx::query_as("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash")
                .fetch_one(&mut *$tx)
                .await?;
        hotline_audit::Chain::resume(u64::try_from(seq).unwrap_or(0), hash)
    }};
}

/// Appends one event in `$tx`.
macro_rules! audit_append {
    ($tx:expr, $chain:expr, $new:expr) => {{
        let e = $chain.append($new);
        sqlx::query(
            "INSERT INTO audit_events (seq, at, actor, entity, action, before, after, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(i64::try_from(e.seq).unwrap_or(i64::MAX))
        .bind(e.at)
        .bind(&e.actor)
        .bind(&e.entity)
        .bind(&e.action)
        .bind(e.before.to_string())
        .bind(e.after.to_string())
        .bind(&e.prev_hash)
        .bind(&e.hash)
        .execute(&mut *$tx)
        .await?;
    }};
}

/// Stores the new head in `$tx` (before commit).
macro_rules! audit_store_head {
    ($tx:expr, $chain:expr) => {{
        let last = $chain.next_seq().saturating_sub(1);
        sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
            .bind(i64::try_from(last).unwrap_or(i64::MAX))
            .bind($chain.last_hash())
            .execute(&mut *$tx)
            .await?;
    }};
}

/// Appends one event for a directory change in `$tx`, stores the head and commits: the change and its audit
/// event land together or not at all. `$after` / `$before` are anything `Serialize`.
macro_rules! audit_commit {
    ($self:expr, $tx:expr, $chain:expr, $entity:expr, $action:expr, $before:expr, $after:expr) => {{
        audit_append!(
            $tx,
            $chain,
            hotline_audit::NewEvent {
                at: chrono::Utc::now(),
                actor: $self.actor_name(),
                entity: $entity,
                action: $action.to_string(),
                before: serde_json::to_value($before).unwrap_or(serde_json::Value::Null),
                after: serde_json::to_value($after).unwrap_or(serde_json::Value::Null),
            }
        );
        audit_store_head!($tx, $chain);
        $tx.commit().await?;
    }};
}

pub(crate) use {audit_append, audit_commit, audit_lock, audit_store_head};

#[derive(sqlx::FromRow)]
struct AuditRow {
    seq: i64,
    at: DateTime<Utc>,
    actor: String,
    entity: String,
    action: String,
    before: String,
    after: String,
    prev_hash: String,
    hash: String,
}

impl TryFrom<AuditRow> for AuditEvent {
    type Error = TicketError;
    fn try_from(r: AuditRow) -> Result<AuditEvent> {
        let json = |s: &str, what: &str| {
            serde_json::from_str(s).map_err(|e| {
                TicketError::Corrupt(format!("audit event {}: {what} is not JSON: {e}", r.seq))
            })
        };
        Ok(AuditEvent {
            seq: u64::try_from(r.seq)
                .map_err(|_| TicketError::Corrupt(format!("audit seq {}", r.seq)))?,
            at: r.at,
            before: json(&r.before, "before")?,
            after: json(&r.after, "after")?,
            actor: r.actor,
            entity: r.entity,
            action: r.action,
            prev_hash: r.prev_hash,
            hash: r.hash,
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    /// Pass as `after` to read on; `None` at the end.
    pub next: Option<u64>,
}

/// What `hotline audit verify` prints.
#[derive(Debug, Clone, Serialize)]
pub struct AuditVerification {
    pub report: Option<VerifyReport>,
    pub error: Option<VerifyError>,
    /// The head row disagrees with the newest event (events cut off or appended behind the engine's back).
    pub head_mismatch: Option<String>,
}

impl AuditVerification {
    pub fn ok(&self) -> bool {
        self.error.is_none() && self.head_mismatch.is_none()
    }
}

const AUDIT_COLUMNS: &str = "seq, at, actor, entity, action, before, after, prev_hash, hash";

impl TicketStore {
    /// Events with `seq > after`, oldest first, at most `limit` (capped at 10 000).
    pub async fn audit_page(&self, after: u64, limit: u32) -> Result<AuditPage> {
        let limit = limit.clamp(1, 10_000);
        let sql = format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2"
        );
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let rows: Vec<AuditRow> = with_pool!(self, p => sqlx::query_as(&sql)
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(p)
            .await?);
        let events = rows
            .into_iter()
            .map(AuditEvent::try_from)
            .collect::<Result<Vec<_>>>()?;
        let next = (events.len() == limit as usize)
            .then(|| events.last().map(|e| e.seq))
            .flatten();
        Ok(AuditPage { events, next })
    }

    /// Every event about one entity (`ticket:<number>`, `unit:<code>`…), oldest first.
    pub async fn audit_of(&self, entity: &str) -> Result<Vec<AuditEvent>> {
        let sql =
            format!("SELECT {AUDIT_COLUMNS} FROM audit_events WHERE entity = $1 ORDER BY seq");
        let rows: Vec<AuditRow> =
            with_pool!(self, p => sqlx::query_as(&sql).bind(entity).fetch_all(p).await?);
        rows.into_iter().map(AuditEvent::try_from).collect()
    }

    /// Walks the whole chain from genesis in pages and checks every link (and the anchors, if any), then
    /// compares the head row with the newest event.
    pub async fn verify_audit(&self, anchors: Vec<Anchor>) -> Result<AuditVerification> {
        let mut verifier = Verifier::with_anchors(anchors);
        let mut after = 0u64;
        let mut last: Option<(u64, String)> = None;
        loop {
            let page = self.audit_page(after, 5_000).await?;
            for e in &page.events {
                if let Err(error) = verifier.push(e) {
                    return Ok(AuditVerification {
                        report: None,
                        error: Some(error),
                        head_mismatch: None,
                    });
                }
                last = Some((e.seq, e.hash.clone()));
            }
            match page.next {
                Some(n) => after = n,
                None => break,
            }
        }
        let (report, error) = match verifier.finish() {
            Ok(r) => (Some(r), None),
            Err(e) => (None, Some(e)),
        };
        let (seq, hash): (i64, String) = with_pool!(self, p => sqlx::query_as(
            "SELECT seq, hash FROM audit_head WHERE id = 1"
        )
        .fetch_one(p)
        .await?);
        let stored = (u64::try_from(seq).unwrap_or(0), hash);
        let newest = last.unwrap_or((0, hotline_audit::GENESIS_HASH.to_string()));
        let head_mismatch = (stored != newest).then(|| {
            format!(
                "head says seq {} hash {}, newest event is seq {} hash {}",
                stored.0, stored.1, newest.0, newest.1
            )
        });
        Ok(AuditVerification {
            report,
            error,
            head_mismatch,
        })
    }
}
