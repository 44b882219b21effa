//! The plain data of the state machine: assignments, requests, clocks, actions, events and the ticket.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::*;
use crate::sla::SlaPolicy;

/// Where an assignment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentState {
    /// 待签收
    Dispatched,
    /// 办理中 (signed)
    Signed,
    /// 已反馈: waiting for the reviewer (parent unit or centre).
    Replied,
    /// Reply accepted.
    Done,
    /// 退单 approved: the unit is off the ticket.
    Returned,
}

impl AssignmentState {
    pub(crate) fn is_open(self) -> bool {
        matches!(
            self,
            AssignmentState::Dispatched | AssignmentState::Signed | AssignmentState::Replied
        )
    }
}

/// A request a unit raises on its assignment; the reviewer (parent unit, or the centre at the top) decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// 退单
    Return,
    /// 延期 by this many working days.
    Extension { days: u32 },
    /// 协办: bring in another unit.
    CoHandling { unit: UnitId },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Pending,
    Approved,
    Rejected,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct Request {
    pub id: u32,
    pub kind: RequestKind,
    pub reason: String,
    pub opened_at: DateTime<Utc>,
    pub status: RequestStatus,
    pub decision_note: Option<String>,
}

/// One unit's share of a ticket. `parent` is set for sub-dispatch (下派); `level` is 1 at the top.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct Assignment {
    pub id: AssignmentId,
    pub unit: UnitId,
    pub parent: Option<AssignmentId>,
    pub level: u8,
    pub role: UnitRole,
    pub state: AssignmentState,
    pub dispatched_at: DateTime<Utc>,
    pub reply: Option<Reply>,
    pub requests: Vec<Request>,
    pub extensions_granted: u32,
    pub reopen_count: u32,
}

/// What a clock measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    /// 派单
    Dispatch,
    /// 签收
    Sign,
    /// 首次联系
    FirstContact,
    /// 办结
    Resolve,
    /// 回访
    Callback,
    /// 紧急到场: an urgent or critical ticket's top-level unit on site, from dispatch
    /// ([`SlaPolicy::onsite_urgent`]). Stops only on a contact made by visit ([`ContactMethod::Visit`]), by the
    /// unit or a unit it passed the work down to, or when the centre approves the unit's reply.
    OnSite,
    /// 首次响应: the centre's first answer to a text-channel contact, from creation
    /// ([`Ticket::start_first_response`]); stops on the first centre action on the ticket.
    FirstResponse,
}

impl ClockKind {
    /// Only the unit's own obligations escalate to 催办/督办/通报; the centre's clocks only warn.
    pub(crate) fn escalates(self) -> bool {
        matches!(
            self,
            ClockKind::Sign | ClockKind::Resolve | ClockKind::OnSite
        )
    }
}

/// A running or stopped deadline. Deadlines are never edited in place: a move is a [`Event::DueMoved`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct SlaClock {
    pub id: u32,
    pub kind: ClockKind,
    pub assignment: Option<AssignmentId>,
    pub start: DateTime<Utc>,
    pub due: DateTime<Utc>,
    /// Due + X, for 通报; computed by the calendar, so stored.
    pub notice_at: Option<DateTime<Utc>>,
    pub stopped_at: Option<DateTime<Utc>>,
    /// How many stages of the escalation ladder have fired.
    pub fired: usize,
}

/// One rung of the escalation ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// 预警 at a share of the clock.
    Warning {
        percent: u8,
    },
    Supervision {
        level: SupervisionLevel,
    },
}

/// Everything a person can do to a ticket. The API's `{"action": …}` body deserialises into it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum Action {
    /// 受理: draft → accepted.
    Accept,
    /// 直接办结: answered at intake (e.g. from the knowledge base).
    CloseAtIntake { answer: String },
    /// Send to dispatch; the SLA policy is copied onto the ticket here.
    QueueForDispatch { policy: SlaPolicy },
    /// 派单 to a lead unit and co-units.
    Dispatch { lead: UnitId, co: Vec<UnitId> },
    /// 转警.
    HandOff { to: EmergencyService, note: String },
    /// 不予受理.
    Reject { reason: String },
    /// 签收.
    Sign { assignment: AssignmentId },
    /// 下派 to a lower unit; `due` defaults to (and may not exceed) the parent's resolve due.
    SubDispatch {
        parent: AssignmentId,
        unit: UnitId,
        due: Option<DateTime<Utc>>,
    },
    /// First contact with the caller, before the reply.
    RecordContact {
        assignment: AssignmentId,
        at: DateTime<Utc>,
        method: ContactMethod,
    },
    /// 反馈.
    Reply {
        assignment: AssignmentId,
        reply: Reply,
    },
    /// 审核 a reply: by the parent unit for a sub-dispatched assignment, by the centre at the top.
    Review {
        assignment: AssignmentId,
        approve: bool,
        note: String,
    },
    /// 退单 / 延期 / 协办 request.
    Request {
        assignment: AssignmentId,
        kind: RequestKind,
        reason: String,
    },
    /// Decide a pending request.
    Decide {
        assignment: AssignmentId,
        request: u32,
        approve: bool,
        note: String,
    },
    /// 回访.
    Callback { attempt: CallbackAttempt },
    /// Close without a satisfied callback (e.g. the caller never answered).
    Close { note: String },
    /// 重办 by a supervisor: back to the lead unit with a new deadline.
    Reopen { reason: String },
    /// Manual 催办/督办/通报.
    Supervise {
        assignment: Option<AssignmentId>,
        level: SupervisionLevel,
        reason: String,
    },
    /// 并单: this ticket is a duplicate of `master`.
    MergeInto { master: String },
    /// The master side of a merge: record the duplicate.
    AbsorbDuplicate { duplicate: String },
    /// 归档.
    Archive,
}

impl Action {
    /// The action's name as the API spells it.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Accept => "accept",
            Action::CloseAtIntake { .. } => "close_at_intake",
            Action::QueueForDispatch { .. } => "queue_for_dispatch",
            Action::Dispatch { .. } => "dispatch",
            Action::HandOff { .. } => "hand_off",
            Action::Reject { .. } => "reject",
            Action::Sign { .. } => "sign",
            Action::SubDispatch { .. } => "sub_dispatch",
            Action::RecordContact { .. } => "record_contact",
            Action::Reply { .. } => "reply",
            Action::Review { .. } => "review",
            Action::Request { .. } => "request",
            Action::Decide { .. } => "decide",
            Action::Callback { .. } => "callback",
            Action::Close { .. } => "close",
            Action::Reopen { .. } => "reopen",
            Action::Supervise { .. } => "supervise",
            Action::MergeInto { .. } => "merge_into",
            Action::AbsorbDuplicate { .. } => "absorb_duplicate",
            Action::Archive => "archive",
        }
    }
}

/// Every change, for the audit log: the caller stores each with who and when, in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum Event {
    StateChanged {
        from: TicketState,
        to: TicketState,
    },
    PolicyCopied {
        policy: SlaPolicy,
    },
    ClosedAtIntake {
        answer: String,
    },
    HandedOff {
        to: EmergencyService,
        note: String,
    },
    Rejected {
        reason: String,
    },
    AssignmentCreated {
        assignment: AssignmentId,
        unit: UnitId,
        parent: Option<AssignmentId>,
        level: u8,
        role: UnitRole,
    },
    AssignmentChanged {
        assignment: AssignmentId,
        from: AssignmentState,
        to: AssignmentState,
    },
    ClockStarted {
        clock: u32,
        kind: ClockKind,
        assignment: Option<AssignmentId>,
        start: DateTime<Utc>,
        due: DateTime<Utc>,
    },
    ClockStopped {
        clock: u32,
        kind: ClockKind,
        assignment: Option<AssignmentId>,
        at: DateTime<Utc>,
        overdue: bool,
    },
    DueMoved {
        clock: u32,
        assignment: Option<AssignmentId>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
    ContactRecorded {
        assignment: AssignmentId,
        at: DateTime<Utc>,
        method: ContactMethod,
    },
    ReplySubmitted {
        assignment: AssignmentId,
        reply: Reply,
    },
    ReplyReviewed {
        assignment: AssignmentId,
        approved: bool,
        note: String,
    },
    RequestOpened {
        assignment: AssignmentId,
        request: u32,
        kind: RequestKind,
        reason: String,
    },
    RequestDecided {
        assignment: AssignmentId,
        request: u32,
        kind: RequestKind,
        approved: bool,
        note: String,
    },
    CallbackRecorded {
        attempt: CallbackAttempt,
    },
    Reopened {
        assignment: AssignmentId,
        count: u32,
        reason: String,
    },
    Warning {
        clock: u32,
        kind: ClockKind,
        assignment: Option<AssignmentId>,
        percent: u8,
    },
    SupervisionRaised {
        supervision: Supervision,
    },
    Closed {
        note: String,
    },
    MergedInto {
        master: String,
    },
    DuplicateAbsorbed {
        duplicate: String,
    },
}

/// A ticket's workflow state. Intake details (caller, content, area) live in hotline-tickets; this holds only
/// what decides which action is legal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct Ticket {
    pub number: String,
    pub channel: Channel,
    pub ticket_type: TicketType,
    pub urgency: Urgency,
    pub state: TicketState,
    pub created_at: DateTime<Utc>,
    /// Copied when the ticket enters dispatch.
    pub policy: Option<SlaPolicy>,
    pub assignments: Vec<Assignment>,
    pub clocks: Vec<SlaClock>,
    pub callbacks: Vec<CallbackAttempt>,
    pub supervisions: Vec<Supervision>,
    /// Callbacks that found the caller unsatisfied for a reason the unit caused.
    pub failed_callbacks: u32,
    pub merged_into: Option<String>,
    pub duplicates: Vec<String>,
    pub handed_off_to: Option<EmergencyService>,
}
