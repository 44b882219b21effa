//! The callback list: callers who pressed the callback key and hung up keeping their place in the
//! queue (回拨, kind `requested`), and abandoned calls to be called back (漏接回拨, kind `missed`).
//!
//! The store only records entries and their progress; dialing, re-queueing and the order of
//! status changes are the switch's business (any status may be set from any other).

use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{paging, ts, Backend, Page, Paging, Result, TicketError, TicketStore};

text_enum! {
    /// Why the entry exists.
    pub enum CallbackKind ("callback kind") {
        /// The caller asked for a callback (pressed the callback key in the queue).
        Requested = "requested",
        /// The caller hung up while waiting (abandoned call).
        Missed = "missed",
    }
}

text_enum! {
    pub enum CallbackStatus ("callback status") {
        /// Waiting to be dialed (re-queued at start-up, see [`TicketStore::pending_callbacks`]).
        Pending = "pending",
        /// Being dialed / offered to an agent now.
        Dialing = "dialing",
        /// The caller was reached.
        Connected = "connected",
        /// Given up (`last_result` says why).
        Failed = "failed",
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Callback {
    pub id: i64,
    /// The ticket of the call that asked for (or missed) the callback.
    pub ticket_id: i64,
    /// The number to call back.
    pub caller: String,
    /// The line (called number) the original call came in on.
    pub line: String,
    pub queue: String,
    pub kind: CallbackKind,
    pub status: CallbackStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Dial attempts so far.
    pub attempts: i32,
    /// The agent who took (or is taking) the callback; the last one set wins.
    pub agent_id: Option<String>,
    /// Free text about the last attempt (e.g. "busy", "no_answer").
    pub last_result: Option<String>,
}

#[derive(Clone, Debug)]
pub struct NewCallback {
    pub ticket_id: i64,
    pub caller: String,
    pub line: String,
    pub queue: String,
    pub kind: CallbackKind,
    pub created_at: DateTime<Utc>,
}

/// Query of [`TicketStore::list_callbacks`]. Deserializable so an HTTP query string maps onto it.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct CallbackFilter {
    pub status: Option<CallbackStatus>,
    pub kind: Option<CallbackKind>,
    /// 1-based; default 1.
    pub page: Option<u32>,
    /// Default 50, capped at 500.
    pub per_page: Option<u32>,
}

/// Changes of [`TicketStore::update_callback`]; `None` leaves the stored value alone.
#[derive(Clone, Debug, Default)]
pub struct CallbackUpdate {
    pub status: Option<CallbackStatus>,
    pub agent_id: Option<String>,
    pub last_result: Option<String>,
    /// Counts one more dial attempt.
    pub add_attempt: bool,
    /// Time of the change (`updated_at`); `None` = now. Lets a virtual-time caller set it.
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct CallbackRow {
    id: i64,
    ticket_id: i64,
    caller: String,
    line: String,
    queue: String,
    kind: String,
    status: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    attempts: i32,
    agent_id: Option<String>,
    last_result: Option<String>,
}

impl TryFrom<CallbackRow> for Callback {
    type Error = TicketError;
    fn try_from(r: CallbackRow) -> Result<Callback> {
        Ok(Callback {
            id: r.id,
            ticket_id: r.ticket_id,
            caller: r.caller,
            line: r.line,
            queue: r.queue,
            kind: CallbackKind::from_str(&r.kind)
                .map_err(|_| TicketError::Corrupt(format!("callback kind {:?}", r.kind)))?,
            status: CallbackStatus::from_str(&r.status)
                .map_err(|_| TicketError::Corrupt(format!("callback status {:?}", r.status)))?,
            created_at: r.created_at,
            updated_at: r.updated_at,
            attempts: r.attempts,
            agent_id: r.agent_id,
            last_result: r.last_result,
        })
    }
}

const CALLBACK_COLUMNS: &str = "id, ticket_id, caller, line, queue, kind, status, created_at, \
     updated_at, attempts, agent_id, last_result";

impl TicketStore {
    /// Adds a `pending` entry to the callback list.
    ///
    /// One entry per number: a `missed` entry for a caller who already has a `pending` entry (of
    /// either kind) is not created; the existing entry (the oldest pending one) is returned
    /// unchanged instead. A `requested` entry is always created: the caller asked explicitly, and
    /// the switch ties it to the caller's place in the queue.
    ///
    /// [`TicketError::NotFound`] if `ticket_id` names no ticket.
    pub async fn create_callback(&self, new: NewCallback) -> Result<Callback> {
        let created_at = ts(new.created_at);
        let dedupe = new.kind == CallbackKind::Missed;
        let guard = if dedupe {
            "WHERE NOT EXISTS (SELECT 1 FROM callbacks WHERE caller = $2 AND status = 'pending')"
        } else {
            ""
        };
        let insert = format!(
            "INSERT INTO callbacks \
             (ticket_id, caller, line, queue, kind, status, created_at, updated_at, attempts) \
             SELECT $1, $2, $3, $4, $5, 'pending', $6, $6, 0 {guard} \
             RETURNING {CALLBACK_COLUMNS}"
        );
        let existing = format!(
            "SELECT {CALLBACK_COLUMNS} FROM callbacks WHERE caller = $1 AND status = 'pending' \
             ORDER BY created_at, id LIMIT 1"
        );
        let is_pg = matches!(self.backend, Backend::Postgres(_));
        let res: Result<Option<CallbackRow>, sqlx::Error> = with_pool!(self, p => async {
            let mut tx = p.begin().await?;
            if dedupe && is_pg {
                // Under READ COMMITTED two concurrent inserts could both pass NOT EXISTS: serialize
                // the check per number until commit. (SQLite runs one writer at a time: the INSERT
                // holds the write lock from its check to commit.)
                sqlx::query("SELECT pg_advisory_xact_lock(4242, hashtext($1))")
                    .bind(&new.caller)
                    .execute(&mut *tx)
                    .await?;
            }
            let mut row = sqlx::query_as::<_, CallbackRow>(&insert)
                .bind(new.ticket_id)
                .bind(&new.caller)
                .bind(&new.line)
                .bind(&new.queue)
                .bind(new.kind.as_str())
                .bind(created_at)
                .fetch_optional(&mut *tx)
                .await?;
            if row.is_none() {
                row = sqlx::query_as::<_, CallbackRow>(&existing)
                    .bind(&new.caller)
                    .fetch_optional(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>(row)
        }
        .await);
        match res {
            Ok(Some(row)) => row.try_into(),
            // Only possible if the pending entry vanished between the two statements, which the
            // lock (PostgreSQL) or the single writer (SQLite) rules out.
            Ok(None) => Err(TicketError::Corrupt(format!(
                "no callback inserted and none pending for {:?}",
                new.caller
            ))),
            Err(e)
                if e.as_database_error()
                    .is_some_and(|d| d.is_foreign_key_violation()) =>
            {
                Err(TicketError::NotFound(new.ticket_id))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The callback entry, or `None` if there is no such entry.
    pub async fn get_callback(&self, id: i64) -> Result<Option<Callback>> {
        let sql = format!("SELECT {CALLBACK_COLUMNS} FROM callbacks WHERE id = $1");
        let row: Option<CallbackRow> = with_pool!(self, p => {
            sqlx::query_as::<_, CallbackRow>(&sql).bind(id).fetch_optional(p).await?
        });
        row.map(Callback::try_from).transpose()
    }

    /// Entries matching `f`, newest first (by `created_at`, then `id`), paged like [`TicketStore::list`].
    pub async fn list_callbacks(&self, f: &CallbackFilter) -> Result<Page<Callback>> {
        let Paging {
            page,
            per_page,
            offset,
        } = paging(f.page, f.per_page)?;
        let status = f.status.map(|s| s.as_str());
        let kind = f.kind.map(|k| k.as_str());
        let cond = "($1 IS NULL OR status = $1) AND ($2 IS NULL OR kind = $2)";
        let count_sql = format!("SELECT COUNT(*) FROM callbacks WHERE {cond}");
        let list_sql = format!(
            "SELECT {CALLBACK_COLUMNS} FROM callbacks WHERE {cond} \
             ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
        );
        let (total, rows): (i64, Vec<CallbackRow>) = with_pool!(self, p => {
            let total: i64 = sqlx::query_scalar(&count_sql)
                .bind(status)
                .bind(kind)
                .fetch_one(p)
                .await?;
            let rows = sqlx::query_as::<_, CallbackRow>(&list_sql)
                .bind(status)
                .bind(kind)
                .bind(i64::from(per_page))
                .bind(offset)
                .fetch_all(p)
                .await?;
            (total, rows)
        });
        Ok(Page {
            items: rows
                .into_iter()
                .map(Callback::try_from)
                .collect::<Result<_>>()?,
            page,
            per_page,
            total: u64::try_from(total).unwrap_or(0),
        })
    }

    /// Applies `upd` and stamps `updated_at`; returns the entry as stored afterwards.
    /// [`TicketError::CallbackNotFound`] if there is no such entry.
    pub async fn update_callback(&self, id: i64, upd: CallbackUpdate) -> Result<Callback> {
        let sql = format!(
            "UPDATE callbacks SET \
             status = COALESCE($2, status), \
             agent_id = COALESCE($3, agent_id), \
             last_result = COALESCE($4, last_result), \
             attempts = attempts + $5, \
             updated_at = $6 \
             WHERE id = $1 RETURNING {CALLBACK_COLUMNS}"
        );
        let at = ts(upd.updated_at.unwrap_or_else(Utc::now));
        let row: Option<CallbackRow> = with_pool!(self, p => {
            sqlx::query_as::<_, CallbackRow>(&sql)
                .bind(id)
                .bind(upd.status.map(|s| s.as_str()))
                .bind(upd.agent_id.as_deref())
                .bind(upd.last_result.as_deref())
                .bind(i32::from(upd.add_attempt))
                .bind(at)
                .fetch_optional(p)
                .await?
        });
        row.ok_or(TicketError::CallbackNotFound(id))?.try_into()
    }

    /// Every `pending` entry, oldest first: what to re-queue at start-up.
    ///
    /// Not paged: the list is bounded by the callers actually waiting for a call back, and
    /// dropping any would lose a promised callback.
    pub async fn pending_callbacks(&self) -> Result<Vec<Callback>> {
        let sql = format!(
            "SELECT {CALLBACK_COLUMNS} FROM callbacks WHERE status = 'pending' \
             ORDER BY created_at, id"
        );
        let rows: Vec<CallbackRow> = with_pool!(self, p => {
            sqlx::query_as::<_, CallbackRow>(&sql).fetch_all(p).await?
        });
        rows.into_iter().map(Callback::try_from).collect()
    }

    /// Puts entries left `dialing` (e.g. by a crash mid-dial) back to `pending`, stamping
    /// `updated_at = at`; returns how many. Meant for start-up, before [`Self::pending_callbacks`].
    pub async fn reset_dialing_callbacks(&self, at: DateTime<Utc>) -> Result<u64> {
        let at = ts(at);
        let n = with_pool!(self, p => {
            sqlx::query(
                "UPDATE callbacks SET status = 'pending', updated_at = $1 WHERE status = 'dialing'",
            )
            .bind(at)
            .execute(p)
            .await?
            .rows_affected()
        });
        Ok(n)
    }
}
