//! hotline-workflow: the 工单 (ticket) lifecycle of a 12345 centre as a pure state machine.
//!
//! Sans-IO in the style of str0m and quinn-proto: [`Ticket::apply`] takes an [`Action`], the acting [`Actor`],
//! the current time and a [`Clock`] (the working-day calendar), and returns the [`Event`]s the change produced,
//! for the audit log (what changed, before → after); an illegal action returns a [`WorkflowError`] and changes
//! nothing. [`Ticket::poll_timeout`] says when the next warning or automatic supervision is due and
//! [`Ticket::handle_timeout`] fires them. Nothing here reads a clock, a file or a database.
//!
//! States ([`TicketState`]): draft → accepted → closed at intake (直接办结) or pending_dispatch → dispatched →
//! in_progress → replied → pending_callback → closed; side states merged (并单), handed_off (转警), rejected
//! (不予受理), archived. Returns (退单), extensions (延期), co-handling (协办) and supervision (催办/督办/通报) are
//! overlays on [`Assignment`]s, not ticket states.
//!
//! Assignments: one per unit; the lead (主办) drives the ticket state, co-units (协办) reply alongside. A unit can
//! pass work down (下派) to at most [`MAX_LEVEL`] levels; the parent unit reviews the child's reply (accept or
//! send back) and decides its requests, the centre does so at the top.
//!
//! Clocks ([`SlaClock`]): first response (首次响应, a text-channel contact from creation until the centre's first
//! action, started by [`Ticket::start_first_response`]), dispatch (from entering dispatch), sign, first contact and
//! resolve (per assignment, from dispatch), on site (紧急到场, urgent and critical tickets only, per top-level
//! assignment from dispatch, until a contact by visit), callback (from the approved reply). Every clock warns at
//! the policy's percentages (the default ones before a ticket has a policy); the unit's clocks (sign, resolve,
//! on site) also escalate: 催办 at 80 %, 督办 at due, 通报 at due + X. Percentages are of wall time between start
//! and due, which is what a person watching the clock sees. An extension moves a due date through
//! [`Event::DueMoved`] and re-arms the rungs still ahead.
//!
//! Callback (回访): a satisfied grade, or an unsatisfied one not caused by the unit, closes the ticket; an
//! unsatisfied one caused by the unit reopens (重办) it to the same lead unit with a fresh deadline, and the second
//! such failure raises an automatic 督办.
//!
//! `apply` takes the actor by reference and the calendar as a `&dyn Clock` argument rather than owning one:
//! the ticket stays plain serialisable data (a snapshot is just `serde_json`), and the caller decides which
//! calendar (the real hotline-calendar, or a test one) stands behind it. [`Clock::extend`] moves an existing due
//! time (extensions, 通报 at due + X) because "end of day + N working days" is the calendar's business.
//!
//! Routing data, pure as well: [`Taxonomy`] (categories, areas, seed units, loaded with [`RoutingConfig`] from
//! `config/routing.toml`), the dispatch catalogue ([`Catalogue::route`], with the 兜底 fallback to the district
//! government) and partner scorecards ([`CardRules`] for yellow/red cards, [`RankingRules`] for the yearly
//! ranking). Reading the file ([`RoutingConfig::from_path`]) is the only I/O in the crate.
//!
//! Not modelled here (kept in hotline-tickets or left for later): caller, content; waiting for co-units before the lead's reply is approved (today the centre may approve the lead while co-units
//! still work; their clocks stop when the ticket is final).
//!
//! Errors map to HTTP: [`WorkflowError::Conflict`] 409, [`WorkflowError::Forbidden`] 403,
//! [`WorkflowError::NotFound`] 404, [`WorkflowError::Invalid`] 400 (`invalid`).

mod calendar_clock;
mod catalogue;
mod model;
mod scorecard;
mod sla;
mod taxonomy;
mod ticket;

pub use catalogue::*;
pub use model::*;
pub use scorecard::*;
pub use sla::*;
pub use taxonomy::*;
pub use ticket::*;

/// Why an action was refused; the message is meant for the person who tried it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "reason")]
pub enum WorkflowError {
    /// Not legal in the ticket's or assignment's current state (HTTP 409).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The actor's role may not do this (HTTP 403).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// No such assignment or request (HTTP 404).
    #[error("not found: {0}")]
    NotFound(String),
    /// The action's own data is wrong (HTTP 400 `invalid`).
    #[error("invalid: {0}")]
    Invalid(String),
}
