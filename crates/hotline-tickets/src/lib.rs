//! hotline-tickets: the ticket store.
//!
//! One ticket per call (channel "voice" for now), numbered `YYYYMMDD-NNNNNN` per local day
//! (Asia/Shanghai, UTC+8), plus an append-only interaction log per ticket; the callback list
//! (callers who asked to be called back, 回拨, and missed calls to call back, 漏接回拨);
//! per-interval queue and agent statistics computed from the tickets; and the SOS handset registry
//! (一键通, [`sos`]); and, per ticket, the third parties (120, 110, …) brought into or handed the
//! call ([`handoffs`]), the SOS profile and caller location at call time and the recording's path.
//!
//! Storage is sqlx: SQLite (the embedded default, WAL mode) or PostgreSQL, chosen by URL.
//! The same SQL text runs on both: placeholders are `$N` (SQLite accepts them too) and only
//! portable constructs are used (`ON CONFLICT ... DO UPDATE ... RETURNING`, `COALESCE`).
//!
//! Durability: SQLite runs with `journal_mode=WAL` and, by default, `synchronous=NORMAL`: a commit
//! that has returned is in the WAL file in the OS, so it survives a process crash (`kill -9`), which
//! is what "acknowledged" promises. A power loss may lose the last commits; `?synchronous=full` on the
//! URL adds an fsync per commit for that, at a large cost in throughput (measured: with FULL and a
//! pool of writers, 150 calls/s at 2,000 concurrent timed out in the pool). PostgreSQL keeps its own
//! (durable) defaults.
//!
//! SQLite gets one connection: SQLite admits one writer at a time anyway, and queueing in sqlx's
//! pool is fair and cheap where several connections would spin on the file lock (`busy_timeout`).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveTime, SubsecRound, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::types::Json;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static PG_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub const DEFAULT_PER_PAGE: u32 = 50;
pub const MAX_PER_PAGE: u32 = 500;

pub type Result<T, E = TicketError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    /// The URL scheme is neither `sqlite:` nor `postgres://` / `postgresql://`.
    /// Only the scheme is kept: the URL may carry a password.
    #[error("unsupported database URL scheme {0:?}: expected sqlite:PATH or postgres://...")]
    UnsupportedUrl(String),
    #[error("cannot create database directory {path}: {source}")]
    CreateDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("ticket {0} not found")]
    NotFound(i64),
    #[error("callback {0} not found")]
    CallbackNotFound(i64),
    /// A bad value in a [`TicketFilter`] (user input: the API maps this to 400).
    #[error("{0}")]
    InvalidFilter(String),
    /// A value to be stored breaks a rule (user input: the API maps this to 400 `invalid`).
    /// `field` names it, e.g. `name` or `contacts[1].number`.
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
    /// An SOS handset with this (normalised) number is already registered (the API's 409).
    #[error("SOS device {0} is already registered")]
    SosDeviceExists(String),
    /// The ticket workflow refused an action (the API maps the kinds to 409, 403, 404 and 400).
    #[error("{0}")]
    Workflow(#[from] hotline_workflow::WorkflowError),
    /// The value clashes with a stored one, e.g. a unit code or user id already taken (the API's 409).
    /// The text starts with the field: `code: …`.
    #[error("{0}")]
    Conflict(String),
    /// A row holds a value this version does not understand.
    #[error("unexpected value in database: {0}")]
    Corrupt(String),
}

/// A closed set of names stored as text: `as_str` (what is stored and serialized), `Display` and
/// `FromStr` (user input, e.g. a query string: an unknown name is an [`TicketError::InvalidFilter`]).
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($what:literal) {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[serde(rename_all = "snake_case")]
        $vis enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = TicketError;
            fn from_str(s: &str) -> Result<Self> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(TicketError::InvalidFilter(format!(
                        concat!("unknown ", $what, " {:?} (expected {})"),
                        other,
                        [$($text),+].join(", ")
                    ))),
                }
            }
        }
    };
}

text_enum! {
    /// How a call ended, from the ticket's point of view. `None` while the call is live.
    pub enum Disposition ("disposition") {
        Answered = "answered",
        Abandoned = "abandoned",
        IvrOnly = "ivr_only",
        Failed = "failed",
        /// The caller pressed the callback key and hung up, keeping their place in the queue
        /// (a [`Callback`] of kind `requested` holds the request).
        CallbackRequested = "callback_requested",
        /// The call ended connected to a third party (120, …) that no agent answered: an SOS
        /// escalation (see [`handoffs`]). In queue statistics it is offered, neither answered (no
        /// agent picked it up, `answered_at` stays unset) nor abandoned (the caller was served).
        HandedOff = "handed_off",
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Ticket {
    pub id: i64,
    pub number: String,
    pub channel: String,
    pub caller: String,
    pub line: String,
    pub call_id: String,
    pub created_at: DateTime<Utc>,
    pub queue: Option<String>,
    pub queued_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    /// First-contact owner (首接负责): set once, never overwritten.
    pub agent_id: Option<String>,
    pub ended_at: Option<DateTime<Utc>>,
    pub wait_secs: Option<f64>,
    pub talk_secs: Option<f64>,
    pub disposition: Option<Disposition>,
    /// Queue priority the call was given (line / caller priority); `None` on tickets from before
    /// issue 3 and on calls that never reached a queue.
    pub priority: Option<i32>,
    /// The IVR menu path the caller took (format chosen by the switch).
    pub ivr_path: Option<String>,
    /// After-call work of the agent who answered.
    pub wrap_up_secs: Option<f64>,
    /// Snapshot of the caller's SOS handset record at call time (JSON of an [`SosDevice`]); kept on
    /// the ticket because the registry row may change or be deleted later.
    pub sos_profile: Option<serde_json::Value>,
    /// Where the caller was: `{"source": "pidf-lo"|"registered", "description", "lat", "lon",
    /// "radius_m"}`.
    pub location: Option<serde_json::Value>,
    /// Path of the call's recording file, as given by the switch (served by the API).
    pub recording: Option<String>,
    /// Intake details, workflow state, lead unit and deadlines (the routing core, [`routing`]).
    #[serde(flatten)]
    pub case: routing::CaseFields,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Interaction {
    pub id: i64,
    pub ticket_id: i64,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub detail: serde_json::Value,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TicketDetail {
    #[serde(flatten)]
    pub ticket: Ticket,
    /// Oldest first.
    pub interactions: Vec<Interaction>,
    /// Third parties brought into or handed the call, oldest first.
    #[serde(default)]
    pub handoffs: Vec<Handoff>,
}

#[derive(Clone, Debug)]
pub struct NewVoiceTicket {
    pub caller: String,
    pub line: String,
    pub call_id: String,
    pub created_at: DateTime<Utc>,
}

/// Fields to set on a ticket; `None` leaves the stored value alone.
#[derive(Clone, Debug, Default)]
pub struct CallUpdate {
    pub queue: Option<String>,
    pub queued_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    /// Only stored if the ticket has no agent yet (first-contact owner).
    pub agent_id: Option<String>,
    pub ended_at: Option<DateTime<Utc>>,
    pub disposition: Option<Disposition>,
    pub wait_secs: Option<f64>,
    pub talk_secs: Option<f64>,
    pub priority: Option<i32>,
    pub ivr_path: Option<String>,
    pub wrap_up_secs: Option<f64>,
    pub sos_profile: Option<serde_json::Value>,
    pub location: Option<serde_json::Value>,
    pub recording: Option<String>,
}

/// Query of [`TicketStore::list`]. Deserializable so an HTTP query string maps onto it directly.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct TicketFilter {
    pub caller: Option<String>,
    pub disposition: Option<Disposition>,
    /// Inclusive lower bound on `created_at`: RFC 3339, or `YYYY-MM-DD` (start of that local day).
    pub from: Option<String>,
    /// Inclusive upper bound on `created_at`: RFC 3339, or `YYYY-MM-DD` (the whole local day).
    pub to: Option<String>,
    /// 1-based; default 1.
    pub page: Option<u32>,
    /// Default 50, capped at 500.
    pub per_page: Option<u32>,
    /// Workflow state, e.g. `dispatched`.
    pub state: Option<String>,
    /// Only tickets with an assignment to this unit (what a unit liaison may see).
    pub unit: Option<i64>,
    pub channel: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub per_page: u32,
    pub total: u64,
}

#[derive(Clone)]
enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Allocates the next `YYYYMMDD-NNNNNN` of local day `$day` inside transaction `$tx`; the counter row stays
/// locked until commit, so numbers are unique under concurrency and a rolled-back insert burns none.
macro_rules! next_ticket_number {
    ($tx:expr, $day:expr) => {{
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO ticket_day_seq (day, last) VALUES ($1, 1) \
             ON CONFLICT (day) DO UPDATE SET last = ticket_day_seq.last + 1 \
             RETURNING last",
        )
        .bind(&$day)
        .fetch_one(&mut *$tx)
        .await?;
        format!("{}-{seq:06}", $day)
    }};
}

/// Runs `$body` with `$pool` bound to the concrete pool; the body is compiled once per backend,
/// which keeps native column types (TIMESTAMPTZ, JSONB) on PostgreSQL with a single SQL text.
macro_rules! with_pool {
    ($self:expr, $pool:ident => $body:expr) => {
        match &$self.backend {
            $crate::Backend::Sqlite($pool) => $body,
            $crate::Backend::Postgres($pool) => $body,
        }
    };
}

mod callbacks;
mod connect;
pub mod directory;
pub mod generate;
pub mod handoffs;
pub mod reports;
pub mod routing;
pub mod sos;
mod stats;
mod time_range;

pub use callbacks::{
    Callback, CallbackFilter, CallbackKind, CallbackStatus, CallbackUpdate, NewCallback,
};
use connect::{connect_pg, connect_sqlite};
pub use directory::{
    CalendarDay, CatalogueRuleRow, KbItemRow, NewCatalogueRule, NewKbItem, NewUnit, NewUser,
    Principal, Unit, UnitFilter, UnitInput, UnitKind, User, UserRole, UserUpdate,
};
pub use handoffs::{
    Handoff, HandoffMode, HandoffOutcome, HandoffUpdate, NewHandoff, HANDOFF_PARTNERS,
};
pub use sos::{normalize_number, EmergencyContact, NewSosDevice, SosDevice, SosDeviceFilter};
pub use stats::{AgentIntervalStats, IntervalStats};
use time_range::{local_midnight, time_range};

/// Validated `page` / `per_page` of a listing.
struct Paging {
    page: u32,
    per_page: u32,
    offset: i64,
}

/// Page 1-based (default 1); per_page default [`DEFAULT_PER_PAGE`], capped at [`MAX_PER_PAGE`].
fn paging(page: Option<u32>, per_page: Option<u32>) -> Result<Paging> {
    let page = page.unwrap_or(1);
    if page == 0 {
        return Err(TicketError::InvalidFilter("page: must be >= 1".into()));
    }
    let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE);
    if per_page == 0 {
        return Err(TicketError::InvalidFilter("per_page: must be >= 1".into()));
    }
    let per_page = per_page.min(MAX_PER_PAGE);
    Ok(Paging {
        page,
        per_page,
        offset: i64::from(page - 1) * i64::from(per_page),
    })
}

/// Cheap to clone (the pool is shared).
#[derive(Clone)]
pub struct TicketStore {
    backend: Backend,
    /// Who the directory changes made through this handle are audited as (see [`TicketStore::acting_as`]).
    actor: Option<std::sync::Arc<str>>,
}

impl std::fmt::Debug for TicketStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TicketStore")
            .field("backend", &self.backend_name())
            .finish()
    }
}

#[derive(sqlx::FromRow)]
struct TicketRow {
    id: i64,
    number: String,
    channel: String,
    caller: String,
    line: String,
    call_id: String,
    created_at: DateTime<Utc>,
    queue: Option<String>,
    queued_at: Option<DateTime<Utc>>,
    answered_at: Option<DateTime<Utc>>,
    agent_id: Option<String>,
    ended_at: Option<DateTime<Utc>>,
    wait_secs: Option<f64>,
    talk_secs: Option<f64>,
    disposition: Option<String>,
    priority: Option<i32>,
    ivr_path: Option<String>,
    wrap_up_secs: Option<f64>,
    sos_profile: Option<Json<serde_json::Value>>,
    location: Option<Json<serde_json::Value>>,
    recording: Option<String>,
    #[sqlx(flatten)]
    case: routing::CaseFields,
}

impl TryFrom<TicketRow> for Ticket {
    type Error = TicketError;
    fn try_from(r: TicketRow) -> Result<Ticket> {
        let disposition = match r.disposition.as_deref() {
            None => None,
            Some(s) => Some(
                s.parse()
                    .map_err(|_| TicketError::Corrupt(format!("disposition {s:?}")))?,
            ),
        };
        Ok(Ticket {
            id: r.id,
            number: r.number,
            channel: r.channel,
            caller: r.caller,
            line: r.line,
            call_id: r.call_id,
            created_at: r.created_at,
            queue: r.queue,
            queued_at: r.queued_at,
            answered_at: r.answered_at,
            agent_id: r.agent_id,
            ended_at: r.ended_at,
            wait_secs: r.wait_secs,
            talk_secs: r.talk_secs,
            disposition,
            priority: r.priority,
            ivr_path: r.ivr_path,
            wrap_up_secs: r.wrap_up_secs,
            sos_profile: r.sos_profile.map(|j| j.0),
            location: r.location.map(|j| j.0),
            recording: r.recording,
            case: r.case,
        })
    }
}

#[derive(sqlx::FromRow)]
struct InteractionRow {
    id: i64,
    ticket_id: i64,
    at: DateTime<Utc>,
    kind: String,
    detail: Json<serde_json::Value>,
}

const TICKET_COLUMNS: &str = "id, number, channel, caller, line, call_id, created_at, queue, \
     queued_at, answered_at, agent_id, ended_at, wait_secs, talk_secs, disposition, priority, \
     ivr_path, wrap_up_secs, sos_profile, location, recording, \
     state, ticket_type, urgency, category, category_major, area, district, address, content, request, \
     caller_name, anonymous, confidential, received_at, updated_at, lead_unit, repeat_of, dispatched_at, \
     sign_due, resolve_due, replied_at, closed_at, first_response_due, first_response_at";

/// PostgreSQL keeps microseconds; truncating up front makes what we return equal what we read back.
fn ts(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

/// `YYYYMMDD` of the local day `t` falls in.
fn local_day(t: DateTime<Utc>) -> String {
    t.with_timezone(&hotline_calendar::shanghai())
        .format("%Y%m%d")
        .to_string()
}

impl TicketStore {
    /// Opens (creating if needed) the database at `url` and applies pending migrations.
    ///
    /// * `sqlite://data/hotline.db`, `sqlite:data/hotline.db`, `sqlite:///abs/path.db`:
    ///   the file and its directory are created if missing; WAL, `synchronous=NORMAL` (or
    ///   `?synchronous=full`), `busy_timeout=5s`, foreign keys on. `sqlite::memory:` is accepted (tests).
    /// * `postgres://user:pass@host:port/db` (or `postgresql://`).
    pub async fn connect(url: &str) -> Result<TicketStore> {
        let scheme = url.split(':').next().unwrap_or_default();
        let backend = match scheme {
            "sqlite" => Backend::Sqlite(connect_sqlite(url).await?),
            "postgres" | "postgresql" => Backend::Postgres(connect_pg(url).await?),
            other => return Err(TicketError::UnsupportedUrl(other.to_string())),
        };
        let store = TicketStore {
            backend,
            actor: None,
        };
        match &store.backend {
            Backend::Sqlite(p) => SQLITE_MIGRATIONS.run(p).await?,
            Backend::Postgres(p) => PG_MIGRATIONS.run(p).await?,
        }
        Ok(store)
    }

    /// The same store, whose directory changes (units, users, catalogue, knowledge base, calendar) are audited
    /// as done by `actor` (e.g. `admin:root`, `supervisor:9001`); without it they are `system`'s (seeding).
    pub fn acting_as(&self, actor: impl Into<String>) -> TicketStore {
        TicketStore {
            backend: self.backend.clone(),
            actor: Some(std::sync::Arc::from(actor.into())),
        }
    }

    pub(crate) fn actor_name(&self) -> String {
        self.actor.as_deref().unwrap_or("system").to_string()
    }

    /// "sqlite" or "postgres".
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Waits for in-flight queries and closes every connection (graceful shutdown).
    pub async fn close(&self) {
        with_pool!(self, p => p.close().await)
    }

    /// Creates a voice ticket, allocating the next number of `created_at`'s local day.
    ///
    /// The day counter bump and the insert share one transaction, so a number is never
    /// handed out twice and a failed insert does not burn one.
    pub async fn create_voice(&self, new: NewVoiceTicket) -> Result<Ticket> {
        let created_at = ts(new.created_at);
        let day = local_day(created_at);
        let insert = format!(
            "INSERT INTO tickets (number, channel, caller, line, call_id, created_at) \
             VALUES ($1, 'voice', $2, $3, $4, $5) RETURNING {TICKET_COLUMNS}"
        );
        let row: TicketRow = with_pool!(self, p => {
            let mut tx = p.begin().await?;
            // A write first: SQLite takes the write lock at once (waiting on busy_timeout),
            // PostgreSQL row-locks the day's counter until commit.
            let number = next_ticket_number!(tx, day);
            let row = sqlx::query_as::<_, TicketRow>(&insert)
                .bind(&number)
                .bind(&new.caller)
                .bind(&new.line)
                .bind(&new.call_id)
                .bind(created_at)
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            row
        });
        row.try_into()
    }

    /// Sets the fields of `upd` that are `Some`; `agent_id` only if none is stored yet.
    /// Returns the ticket as stored afterwards.
    pub async fn update_call(&self, id: i64, upd: CallUpdate) -> Result<Ticket> {
        let sql = format!(
            "UPDATE tickets SET \
             queue = COALESCE($2, queue), \
             queued_at = COALESCE($3, queued_at), \
             answered_at = COALESCE($4, answered_at), \
             agent_id = COALESCE(agent_id, $5), \
             ended_at = COALESCE($6, ended_at), \
             disposition = COALESCE($7, disposition), \
             wait_secs = COALESCE($8, wait_secs), \
             talk_secs = COALESCE($9, talk_secs), \
             priority = COALESCE($10, priority), \
             ivr_path = COALESCE($11, ivr_path), \
             wrap_up_secs = COALESCE($12, wrap_up_secs), \
             sos_profile = COALESCE($13, sos_profile), \
             location = COALESCE($14, location), \
             recording = COALESCE($15, recording) \
             WHERE id = $1 RETURNING {TICKET_COLUMNS}"
        );
        let disposition = upd.disposition.map(|d| d.as_str().to_string());
        let row: Option<TicketRow> = with_pool!(self, p => {
            sqlx::query_as::<_, TicketRow>(&sql)
                .bind(id)
                .bind(upd.queue.as_deref())
                .bind(upd.queued_at.map(ts))
                .bind(upd.answered_at.map(ts))
                .bind(upd.agent_id.as_deref())
                .bind(upd.ended_at.map(ts))
                .bind(disposition.as_deref())
                .bind(upd.wait_secs)
                .bind(upd.talk_secs)
                .bind(upd.priority)
                .bind(upd.ivr_path.as_deref())
                .bind(upd.wrap_up_secs)
                .bind(upd.sos_profile.as_ref().map(Json))
                .bind(upd.location.as_ref().map(Json))
                .bind(upd.recording.as_deref())
                .fetch_optional(p)
                .await?
        });
        row.ok_or(TicketError::NotFound(id))?.try_into()
    }

    /// Appends to the ticket's interaction log (e.g. kind "dtmf", "queued", "offered",
    /// "answered", "hold", "unhold", "ended").
    pub async fn add_interaction(
        &self,
        id: i64,
        at: DateTime<Utc>,
        kind: &str,
        detail: serde_json::Value,
    ) -> Result<Interaction> {
        let res: Result<InteractionRow, sqlx::Error> = with_pool!(self, p => {
            sqlx::query_as::<_, InteractionRow>(
                "INSERT INTO ticket_interactions (ticket_id, at, kind, detail) \
                 VALUES ($1, $2, $3, $4) RETURNING id, ticket_id, at, kind, detail",
            )
            .bind(id)
            .bind(ts(at))
            .bind(kind)
            .bind(Json(&detail))
            .fetch_one(p)
            .await
        });
        match res {
            Ok(r) => Ok(Interaction {
                id: r.id,
                ticket_id: r.ticket_id,
                at: r.at,
                kind: r.kind,
                detail: r.detail.0,
            }),
            Err(e)
                if e.as_database_error()
                    .is_some_and(|d| d.is_foreign_key_violation()) =>
            {
                Err(TicketError::NotFound(id))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The ticket with its interaction log and handoffs, or `None` if there is no such ticket.
    pub async fn get(&self, id: i64) -> Result<Option<TicketDetail>> {
        let sql = format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE id = $1");
        let isql = "SELECT id, ticket_id, at, kind, detail FROM ticket_interactions \
                    WHERE ticket_id = $1 ORDER BY at, id";
        let (row, irows): (Option<TicketRow>, Vec<InteractionRow>) = with_pool!(self, p => {
            let row = sqlx::query_as::<_, TicketRow>(&sql).bind(id).fetch_optional(p).await?;
            if row.is_none() {
                return Ok(None);
            }
            let irows = sqlx::query_as::<_, InteractionRow>(isql).bind(id).fetch_all(p).await?;
            (row, irows)
        });
        let Some(row) = row else { return Ok(None) };
        // A second round trip, not a join: handoffs are few and usually none.
        let handoffs = self.handoffs(id).await?;
        Ok(Some(TicketDetail {
            ticket: row.try_into()?,
            interactions: irows
                .into_iter()
                .map(|r| Interaction {
                    id: r.id,
                    ticket_id: r.ticket_id,
                    at: r.at,
                    kind: r.kind,
                    detail: r.detail.0,
                })
                .collect(),
            handoffs,
        }))
    }

    /// The most recent ticket of a SIP Call-ID, if any (lets call control find its ticket).
    pub async fn find_by_call_id(&self, call_id: &str) -> Result<Option<Ticket>> {
        let sql = format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE call_id = $1 ORDER BY id DESC LIMIT 1"
        );
        let row: Option<TicketRow> = with_pool!(self, p => {
            sqlx::query_as::<_, TicketRow>(&sql).bind(call_id).fetch_optional(p).await?
        });
        row.map(Ticket::try_from).transpose()
    }

    /// Tickets matching `f`, newest first (by `created_at`, then `id`).
    pub async fn list(&self, f: &TicketFilter) -> Result<Page<Ticket>> {
        let Paging {
            page,
            per_page,
            offset,
        } = paging(f.page, f.per_page)?;
        let range = time_range(f)?;
        let caller = f.caller.as_deref().filter(|s| !s.is_empty());
        let disposition = f.disposition.map(|d| d.as_str());

        // One static statement with "param IS NULL OR ..." guards keeps the SQL identical on both
        // backends; the table is indexed on created_at and caller.
        let state = f.state.as_deref().filter(|s| !s.is_empty());
        let channel = f.channel.as_deref().filter(|s| !s.is_empty());
        let cond = "($1 IS NULL OR caller = $1) \
             AND ($2 IS NULL OR disposition = $2) \
             AND ($3 IS NULL OR created_at >= $3) \
             AND ($4 IS NULL OR created_at <= $4) \
             AND ($5 IS NULL OR created_at < $5) \
             AND ($8 IS NULL OR state = $8) \
             AND ($9 IS NULL OR id IN (SELECT ticket_id FROM assignments WHERE unit_id = $9)) \
             AND ($10 IS NULL OR channel = $10)";
        let count_sql = format!("SELECT COUNT(*) FROM tickets WHERE {cond}");
        let list_sql = format!(
            "SELECT {TICKET_COLUMNS} FROM tickets WHERE {cond} \
             ORDER BY created_at DESC, id DESC LIMIT $6 OFFSET $7"
        );
        let (total, rows): (i64, Vec<TicketRow>) = with_pool!(self, p => {
            let total: i64 = sqlx::query_scalar(&count_sql)
                .bind(caller)
                .bind(disposition)
                .bind(range.from)
                .bind(range.to_incl)
                .bind(range.to_excl)
                .bind(i64::from(per_page))
                .bind(offset)
                .bind(state)
                .bind(f.unit)
                .bind(channel)
                .fetch_one(p)
                .await?;
            let rows = sqlx::query_as::<_, TicketRow>(&list_sql)
                .bind(caller)
                .bind(disposition)
                .bind(range.from)
                .bind(range.to_incl)
                .bind(range.to_excl)
                .bind(i64::from(per_page))
                .bind(offset)
                .bind(state)
                .bind(f.unit)
                .bind(channel)
                .fetch_all(p)
                .await?;
            (total, rows)
        });
        Ok(Page {
            items: rows
                .into_iter()
                .map(Ticket::try_from)
                .collect::<Result<_>>()?,
            page,
            per_page,
            total: u64::try_from(total).unwrap_or(0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stored / parsed text and the serde name must be the same string for every variant.
    #[test]
    fn text_enums_agree_with_serde() {
        fn check<T>(all: &[T])
        where
            T: Copy + std::fmt::Debug + PartialEq + Serialize + FromStr + std::fmt::Display,
            <T as FromStr>::Err: std::fmt::Debug,
        {
            for &v in all {
                let text = v.to_string();
                assert_eq!(serde_json::to_value(v).unwrap(), serde_json::json!(text));
                assert_eq!(text.parse::<T>().unwrap(), v);
            }
        }
        check(Disposition::ALL);
        check(CallbackKind::ALL);
        check(CallbackStatus::ALL);
        check(HandoffMode::ALL);
        check(HandoffOutcome::ALL);
        assert_eq!(Disposition::ALL.len(), 6);
    }

    #[test]
    fn local_day_is_utc_plus_8() {
        let t = DateTime::parse_from_rfc3339("2026-11-22T16:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(local_day(t), "20261123");
        let t = DateTime::parse_from_rfc3339("2026-11-22T15:59:59Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(local_day(t), "20261122");
    }
}
