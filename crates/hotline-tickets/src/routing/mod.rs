//! The routing core's storage (工单流转): intake of tickets from every channel, workflow actions, the SLA timer
//! sweep, the assignment list a unit liaison works from, and the hash-chained audit log.
//!
//! The workflow itself is pure (`hotline-workflow`); a ticket's [`hotline_workflow::Ticket`] is stored as a
//! JSON snapshot in `tickets.workflow` and is the only thing that decides which action is legal. Every change
//! runs in one transaction that (1) takes the audit chain's head (`UPDATE audit_head` first: SQLite's write
//! lock, PostgreSQL's row lock — audited changes are serialised, so the chain never forks), (2) loads the
//! snapshots, applies the actions, (3) rewrites the snapshot and the columns derived from it ([`derive`]:
//! state, lead unit, deadlines, KPI facts, the next timer) and the ticket's `assignments` rows, and (4) appends
//! one audit event per action. An action refused by the workflow rolls the transaction back: nothing changes.

pub(crate) mod audit;
mod derive;
mod scorecards;
mod store;

pub use audit::{AuditPage, AuditVerification};
pub use derive::Derived;
pub use scorecards::PartnerFacts;
pub use store::{ApplyStep, AssignmentFilter, AssignmentItem, IntakeUpdate, NewTicket};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The intake and routing columns of a ticket (flattened into [`crate::Ticket`]). Tickets from before the
/// routing core (and voice tickets not yet filled in) have a `draft` state and empty details.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, sqlx::FromRow)]
pub struct CaseFields {
    /// Workflow state (`draft`, `accepted`, `pending_dispatch`, `dispatched`, `in_progress`, `replied`,
    /// `pending_callback`, `closed`, `merged`, `handed_off`, `rejected`, `archived`).
    pub state: String,
    /// 咨询 consult, 求助 help, 投诉 complaint, 举报 report, 建议 suggestion, 表扬 praise, 其他 other.
    pub ticket_type: Option<String>,
    /// normal (一般), urgent (紧急), critical (特急).
    pub urgency: String,
    /// Minor category code (or a major one); `category_major` is its major.
    pub category: Option<String>,
    pub category_major: Option<String>,
    /// Area code (district → street → community); `district` is its district.
    pub area: Option<String>,
    pub district: Option<String>,
    pub address: Option<String>,
    pub content: Option<String>,
    /// What the caller asks for (诉求).
    pub request: Option<String>,
    pub caller_name: Option<String>,
    pub anonymous: bool,
    /// Caller details hidden from units (保密).
    pub confidential: bool,
    /// When the contact really arrived (an imported SMS keeps its own time); `created_at` when not given.
    pub received_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    /// The lead unit (主办单位) of the current top-level lead assignment.
    pub lead_unit: Option<i64>,
    /// An earlier ticket of the same caller on the same major category within the repeat window (重复来电).
    pub repeat_of: Option<i64>,
    pub dispatched_at: Option<DateTime<Utc>>,
    pub sign_due: Option<DateTime<Utc>>,
    pub resolve_due: Option<DateTime<Utc>>,
    pub replied_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// First-response deadline of text channels (SMS, web, WeChat…), and when the centre first acted.
    pub first_response_due: Option<DateTime<Utc>>,
    pub first_response_at: Option<DateTime<Utc>>,
}

/// Who did something, as the audit log names them: `agent:1001`, `liaison:7:wang`, `system:sla`.
pub fn actor_label(actor: &hotline_workflow::Actor) -> String {
    use hotline_workflow::Role;
    match actor.role {
        Role::Admin => format!("admin:{}", actor.user),
        Role::Agent => format!("agent:{}", actor.user),
        Role::Supervisor => format!("supervisor:{}", actor.user),
        Role::UnitLiaison { unit } => format!("liaison:{unit}:{}", actor.user),
    }
}

/// The actor of automatic warnings and supervision.
pub fn system_actor() -> hotline_workflow::Actor {
    hotline_workflow::Actor::new("sla", hotline_workflow::Role::Admin)
}
