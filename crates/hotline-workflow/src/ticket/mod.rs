//! The ticket state machine: [`Ticket::apply`] for actions, [`Ticket::poll_timeout`] / [`Ticket::handle_timeout`]
//! for the automatic warnings and supervision.

mod requests;
mod timers;
mod types;

pub use timers::stages;
pub use types::*;

use chrono::{DateTime, Utc};

use crate::model::*;
use crate::sla::{Clock, Escalation, Sla, SlaPolicy};
use crate::WorkflowError;

fn conflict(msg: impl Into<String>) -> WorkflowError {
    WorkflowError::Conflict(msg.into())
}

fn forbidden(msg: impl Into<String>) -> WorkflowError {
    WorkflowError::Forbidden(msg.into())
}

fn invalid(msg: impl Into<String>) -> WorkflowError {
    WorkflowError::Invalid(msg.into())
}

fn is_centre(actor: &Actor) -> bool {
    matches!(actor.role, Role::Admin | Role::Agent | Role::Supervisor)
}

fn require_centre(actor: &Actor, what: &str) -> Result<(), WorkflowError> {
    if is_centre(actor) {
        Ok(())
    } else {
        Err(forbidden(format!("only centre staff may {what}")))
    }
}

fn require_supervisor(actor: &Actor, what: &str) -> Result<(), WorkflowError> {
    if matches!(actor.role, Role::Admin | Role::Supervisor) {
        Ok(())
    } else {
        Err(forbidden(format!("only a supervisor or admin may {what}")))
    }
}

/// A liaison acts only for its own unit; an admin may act for any unit (e.g. entering a paper reply).
fn require_unit(actor: &Actor, unit: UnitId, what: &str) -> Result<(), WorkflowError> {
    match actor.role {
        Role::Admin => Ok(()),
        Role::UnitLiaison { unit: u } if u == unit => Ok(()),
        Role::UnitLiaison { unit: u } => Err(forbidden(format!(
            "liaison of unit {u} may not {what} for unit {unit}"
        ))),
        _ => Err(forbidden(format!("only unit {unit}'s liaison may {what}"))),
    }
}

/// While units work: a co-unit may sign, reply and ask even before the lead signs or after it replied.
const WORKING: &[TicketState] = &[
    TicketState::Dispatched,
    TicketState::InProgress,
    TicketState::Replied,
];

/// The deepest sub-dispatch: centre → district/department (1) → street (2) → community (3).
pub const MAX_LEVEL: u8 = 3;

impl Ticket {
    pub fn new(
        number: impl Into<String>,
        channel: Channel,
        ticket_type: TicketType,
        urgency: Urgency,
        now: DateTime<Utc>,
    ) -> Self {
        Ticket {
            number: number.into(),
            channel,
            ticket_type,
            urgency,
            state: TicketState::Draft,
            created_at: now,
            policy: None,
            assignments: Vec::new(),
            clocks: Vec::new(),
            callbacks: Vec::new(),
            supervisions: Vec::new(),
            failed_callbacks: 0,
            merged_into: None,
            duplicates: Vec::new(),
            handed_off_to: None,
        }
    }

    pub fn assignment(&self, id: AssignmentId) -> Option<&Assignment> {
        self.assignments.get(id as usize)
    }

    /// The top-level lead assignment that is still on the ticket (not returned).
    pub fn lead(&self) -> Option<&Assignment> {
        self.assignments.iter().find(|a| {
            a.parent.is_none() && a.role == UnitRole::Lead && a.state != AssignmentState::Returned
        })
    }

    /// The running clock of a kind for an assignment (or the ticket).
    pub fn clock(&self, kind: ClockKind, assignment: Option<AssignmentId>) -> Option<&SlaClock> {
        self.clocks
            .iter()
            .rev()
            .find(|c| c.kind == kind && c.assignment == assignment && c.stopped_at.is_none())
    }

    /// Starts the first-response (首次响应) clock of a text-channel contact: from [`Ticket::created_at`] to `due`,
    /// which the caller computes (e.g. created + 3 min) before the ticket has a policy. It only warns, at the
    /// default [`Escalation`] percentages, and stops on the centre's first action (accept, close at intake, queue
    /// for dispatch, hand off, reject, merge). Only a draft can start one, and only once; otherwise nothing
    /// happens and no event is returned.
    pub fn start_first_response(&mut self, due: DateTime<Utc>) -> Vec<Event> {
        let mut ev = Vec::new();
        let started = self
            .clocks
            .iter()
            .any(|c| c.kind == ClockKind::FirstResponse);
        if self.state == TicketState::Draft && !started {
            self.push_clock(
                ClockKind::FirstResponse,
                None,
                self.created_at,
                due,
                None,
                &mut ev,
            );
        }
        ev
    }

    /// Apply one action. On error nothing has changed.
    pub fn apply(
        &mut self,
        action: Action,
        actor: &Actor,
        now: DateTime<Utc>,
        clock: &dyn Clock,
    ) -> Result<Vec<Event>, WorkflowError> {
        // Work on a copy so that a failure half-way leaves the ticket untouched.
        let mut next = self.clone();
        let mut ev = Vec::new();
        // The centre's first move on the ticket answers the contact (首次响应).
        let responds = matches!(
            action,
            Action::Accept
                | Action::CloseAtIntake { .. }
                | Action::QueueForDispatch { .. }
                | Action::HandOff { .. }
                | Action::Reject { .. }
                | Action::MergeInto { .. }
        );
        next.apply_inner(action, actor, now, clock, &mut ev)?;
        if responds {
            next.stop_clock(ClockKind::FirstResponse, None, now, &mut ev);
        }
        // A finished ticket owes nothing more: whatever still runs (a co-unit's, an unmet first contact) stops.
        if next.state.is_final() {
            next.stop_clocks(|_| true, now, &mut ev);
        }
        *self = next;
        Ok(ev)
    }

    fn expect_state(&self, action: &str, allowed: &[TicketState]) -> Result<(), WorkflowError> {
        if allowed.contains(&self.state) {
            Ok(())
        } else {
            let names: Vec<String> = allowed.iter().map(|s| format!("{s:?}")).collect();
            Err(conflict(format!(
                "cannot {action} a ticket in state {:?}; allowed in {}",
                self.state,
                names.join(", ")
            )))
        }
    }

    fn set_state(&mut self, to: TicketState, ev: &mut Vec<Event>) {
        if self.state != to {
            ev.push(Event::StateChanged {
                from: self.state,
                to,
            });
            self.state = to;
        }
    }

    fn policy(&self) -> Result<&SlaPolicy, WorkflowError> {
        self.policy.as_ref().ok_or_else(|| {
            conflict("the ticket has no SLA policy yet (it has not entered dispatch)")
        })
    }

    fn get(&self, id: AssignmentId) -> Result<&Assignment, WorkflowError> {
        self.assignments
            .get(id as usize)
            .ok_or_else(|| WorkflowError::NotFound(format!("no assignment {id} on this ticket")))
    }

    fn set_assignment(&mut self, id: AssignmentId, to: AssignmentState, ev: &mut Vec<Event>) {
        if let Some(a) = self.assignments.get_mut(id as usize) {
            if a.state != to {
                ev.push(Event::AssignmentChanged {
                    assignment: id,
                    from: a.state,
                    to,
                });
                a.state = to;
            }
        }
    }

    fn start_clock(
        &mut self,
        kind: ClockKind,
        assignment: Option<AssignmentId>,
        start: DateTime<Utc>,
        due: DateTime<Utc>,
        clock: &dyn Clock,
        ev: &mut Vec<Event>,
    ) {
        let notice_at = self.notice_at(kind, due, clock);
        self.push_clock(kind, assignment, start, due, notice_at, ev);
    }

    fn push_clock(
        &mut self,
        kind: ClockKind,
        assignment: Option<AssignmentId>,
        start: DateTime<Utc>,
        due: DateTime<Utc>,
        notice_at: Option<DateTime<Utc>>,
        ev: &mut Vec<Event>,
    ) {
        let id = self.clocks.len() as u32;
        self.clocks.push(SlaClock {
            id,
            kind,
            assignment,
            start,
            due,
            notice_at,
            stopped_at: None,
            fired: 0,
        });
        ev.push(Event::ClockStarted {
            clock: id,
            kind,
            assignment,
            start,
            due,
        });
    }

    fn notice_at(
        &self,
        kind: ClockKind,
        due: DateTime<Utc>,
        clock: &dyn Clock,
    ) -> Option<DateTime<Utc>> {
        if !kind.escalates() {
            return None;
        }
        let after = self.policy.as_ref()?.escalation.notice_after?;
        Some(clock.extend(due, after))
    }

    fn stop_clocks(
        &mut self,
        pred: impl Fn(&SlaClock) -> bool,
        now: DateTime<Utc>,
        ev: &mut Vec<Event>,
    ) {
        for c in self.clocks.iter_mut() {
            if c.stopped_at.is_none() && pred(c) {
                c.stopped_at = Some(now);
                ev.push(Event::ClockStopped {
                    clock: c.id,
                    kind: c.kind,
                    assignment: c.assignment,
                    at: now,
                    overdue: now > c.due,
                });
            }
        }
    }

    fn stop_clock(
        &mut self,
        kind: ClockKind,
        assignment: Option<AssignmentId>,
        now: DateTime<Utc>,
        ev: &mut Vec<Event>,
    ) {
        self.stop_clocks(|c| c.kind == kind && c.assignment == assignment, now, ev);
    }

    /// The top-level assignment an assignment descends from (itself at the top).
    fn root(&self, mut id: AssignmentId) -> AssignmentId {
        while let Some(p) = self.assignment(id).and_then(|a| a.parent) {
            id = p;
        }
        id
    }

    /// A contact was made. A visit puts the top-level unit on site (its on-site clock lives at the top; a street
    /// office it passed the work down to may be the one that went); a phone call does not.
    fn contacted(
        &mut self,
        assignment: AssignmentId,
        at: DateTime<Utc>,
        method: Option<ContactMethod>,
        ev: &mut Vec<Event>,
    ) {
        self.stop_clock(ClockKind::FirstContact, Some(assignment), at, ev);
        if method == Some(ContactMethod::Visit) {
            let root = self.root(assignment);
            self.stop_clock(ClockKind::OnSite, Some(root), at, ev);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn new_assignment(
        &mut self,
        unit: UnitId,
        parent: Option<AssignmentId>,
        role: UnitRole,
        now: DateTime<Utc>,
        resolve_due: DateTime<Utc>,
        clock: &dyn Clock,
        ev: &mut Vec<Event>,
    ) -> Result<AssignmentId, WorkflowError> {
        let policy = self.policy()?.clone();
        let level = match parent {
            Some(p) => self.get(p)?.level + 1,
            None => 1,
        };
        let id = self.assignments.len() as AssignmentId;
        self.assignments.push(Assignment {
            id,
            unit,
            parent,
            level,
            role,
            state: AssignmentState::Dispatched,
            dispatched_at: now,
            reply: None,
            requests: Vec::new(),
            extensions_granted: 0,
            reopen_count: 0,
        });
        ev.push(Event::AssignmentCreated {
            assignment: id,
            unit,
            parent,
            level,
            role,
        });
        self.start_clock(
            ClockKind::Sign,
            Some(id),
            now,
            clock.due(now, policy.sign),
            clock,
            ev,
        );
        // The caller is contacted by the top-level units; the lower levels answer to their parent.
        if parent.is_none() {
            self.start_clock(
                ClockKind::FirstContact,
                Some(id),
                now,
                clock.due(now, policy.first_contact),
                clock,
                ev,
            );
        }
        self.start_clock(ClockKind::Resolve, Some(id), now, resolve_due, clock, ev);
        Ok(id)
    }

    fn supervise(
        &mut self,
        assignment: Option<AssignmentId>,
        level: SupervisionLevel,
        automatic: bool,
        reason: String,
        now: DateTime<Utc>,
        ev: &mut Vec<Event>,
    ) {
        let s = Supervision {
            assignment,
            level,
            automatic,
            reason,
            at: now,
        };
        self.supervisions.push(s.clone());
        ev.push(Event::SupervisionRaised { supervision: s });
    }

    fn apply_inner(
        &mut self,
        action: Action,
        actor: &Actor,
        now: DateTime<Utc>,
        clock: &dyn Clock,
        ev: &mut Vec<Event>,
    ) -> Result<(), WorkflowError> {
        use TicketState as S;
        let name = action.name();
        match action {
            Action::Accept => {
                require_centre(actor, "accept a ticket")?;
                self.expect_state(name, &[S::Draft])?;
                self.set_state(S::Accepted, ev);
            }
            Action::CloseAtIntake { answer } => {
                require_centre(actor, "close a ticket at intake")?;
                self.expect_state(name, &[S::Accepted])?;
                if answer.trim().is_empty() {
                    return Err(invalid("closing at intake needs the answer given"));
                }
                ev.push(Event::ClosedAtIntake { answer });
                self.set_state(S::Closed, ev);
            }
            Action::QueueForDispatch { policy } => {
                require_centre(actor, "queue a ticket for dispatch")?;
                self.expect_state(name, &[S::Accepted])?;
                let due = clock.due(now, policy.dispatch(self.urgency));
                ev.push(Event::PolicyCopied {
                    policy: policy.clone(),
                });
                self.policy = Some(policy);
                self.set_state(S::PendingDispatch, ev);
                self.start_clock(ClockKind::Dispatch, None, now, due, clock, ev);
            }
            Action::Dispatch { lead, co } => {
                require_centre(actor, "dispatch")?;
                self.expect_state(name, &[S::PendingDispatch])?;
                if co.contains(&lead) {
                    return Err(invalid(format!(
                        "unit {lead} cannot be both lead and co-unit"
                    )));
                }
                let mut seen = co.clone();
                seen.sort_unstable();
                seen.dedup();
                if seen.len() != co.len() {
                    return Err(invalid("a co-unit is listed twice"));
                }
                let policy = self.policy()?;
                let resolve = policy.resolve.get(self.ticket_type);
                let onsite = policy.onsite(self.urgency).map(|sla| clock.due(now, sla));
                let due = clock.due(now, resolve);
                self.stop_clock(ClockKind::Dispatch, None, now, ev);
                let units = std::iter::once((lead, UnitRole::Lead))
                    .chain(co.into_iter().map(|u| (u, UnitRole::Co)));
                for (unit, role) in units {
                    let id = self.new_assignment(unit, None, role, now, due, clock, ev)?;
                    // 紧急到场 binds the units the centre sends an urgent ticket to, from this dispatch; a co-unit
                    // brought in later through 协办 joins work already under way and gets none.
                    if let Some(onsite) = onsite {
                        self.start_clock(ClockKind::OnSite, Some(id), now, onsite, clock, ev);
                    }
                }
                self.set_state(S::Dispatched, ev);
            }
            Action::HandOff { to, note } => {
                require_centre(actor, "hand a ticket off")?;
                self.expect_state(name, &[S::Draft, S::Accepted, S::PendingDispatch])?;
                self.stop_clocks(|_| true, now, ev);
                self.handed_off_to = Some(to);
                ev.push(Event::HandedOff { to, note });
                self.set_state(S::HandedOff, ev);
            }
            Action::Reject { reason } => {
                require_centre(actor, "reject a ticket")?;
                self.expect_state(name, &[S::Draft, S::Accepted, S::PendingDispatch])?;
                if reason.trim().is_empty() {
                    return Err(invalid("a rejection needs a reason"));
                }
                self.stop_clocks(|_| true, now, ev);
                ev.push(Event::Rejected { reason });
                self.set_state(S::Rejected, ev);
            }
            Action::Sign { assignment } => {
                self.expect_state(name, WORKING)?;
                let a = self.get(assignment)?.clone();
                require_unit(actor, a.unit, "sign")?;
                if a.state != AssignmentState::Dispatched {
                    return Err(conflict(format!(
                        "assignment {assignment} is {:?}, only a dispatched assignment can be signed",
                        a.state
                    )));
                }
                self.set_assignment(assignment, AssignmentState::Signed, ev);
                self.stop_clock(ClockKind::Sign, Some(assignment), now, ev);
                if self.lead().map(|l| l.id) == Some(assignment) {
                    self.set_state(S::InProgress, ev);
                }
            }
            Action::SubDispatch { parent, unit, due } => {
                self.expect_state(name, WORKING)?;
                let p = self.get(parent)?.clone();
                require_unit(actor, p.unit, "sub-dispatch")?;
                if p.state != AssignmentState::Signed {
                    return Err(conflict(format!(
                        "assignment {parent} is {:?}; sign it before passing work down",
                        p.state
                    )));
                }
                if p.level >= MAX_LEVEL {
                    return Err(conflict(format!(
                        "assignment {parent} is at level {}, the lowest of the {MAX_LEVEL}-level network",
                        p.level
                    )));
                }
                if unit == p.unit {
                    return Err(invalid("a unit cannot sub-dispatch to itself"));
                }
                let parent_due = self
                    .clock(ClockKind::Resolve, Some(parent))
                    .map(|c| c.due)
                    .ok_or_else(|| {
                        conflict(format!("assignment {parent} has no running resolve clock"))
                    })?;
                let due = due.unwrap_or(parent_due);
                // The child must finish in time for the parent to review and reply up.
                if due > parent_due {
                    return Err(invalid(format!(
                        "the child's due {due} is later than the parent's {parent_due}"
                    )));
                }
                if due <= now {
                    return Err(invalid("the child's due time is already past"));
                }
                self.new_assignment(unit, Some(parent), UnitRole::Lead, now, due, clock, ev)?;
            }
            Action::RecordContact {
                assignment,
                at,
                method,
            } => {
                self.expect_state(name, WORKING)?;
                let a = self.get(assignment)?.clone();
                require_unit(actor, a.unit, "record contact")?;
                if at > now {
                    return Err(invalid("the contact time is in the future"));
                }
                self.contacted(assignment, at, Some(method), ev);
                ev.push(Event::ContactRecorded {
                    assignment,
                    at,
                    method,
                });
            }
            Action::Reply { assignment, reply } => {
                self.expect_state(name, WORKING)?;
                let a = self.get(assignment)?.clone();
                require_unit(actor, a.unit, "reply")?;
                if a.state != AssignmentState::Signed {
                    return Err(conflict(format!(
                        "assignment {assignment} is {:?}; only a signed assignment can reply",
                        a.state
                    )));
                }
                if let Some(c) = self
                    .assignments
                    .iter()
                    .find(|c| c.parent == Some(assignment) && c.state.is_open())
                {
                    return Err(conflict(format!(
                        "sub-dispatched assignment {} (unit {}) is still {:?}; review it first",
                        c.id, c.unit, c.state
                    )));
                }
                if reply.public_text.trim().is_empty() {
                    return Err(invalid("a reply needs public text"));
                }
                if let Some(at) = reply.contacted_at {
                    if at > now {
                        return Err(invalid("the contact time is in the future"));
                    }
                    self.contacted(assignment, at, reply.contact_method, ev);
                }
                self.stop_clock(ClockKind::Resolve, Some(assignment), now, ev);
                if let Some(x) = self.assignments.get_mut(assignment as usize) {
                    x.reply = Some(reply.clone());
                }
                ev.push(Event::ReplySubmitted { assignment, reply });
                self.set_assignment(assignment, AssignmentState::Replied, ev);
                if self.lead().map(|l| l.id) == Some(assignment) {
                    self.set_state(S::Replied, ev);
                }
            }
            Action::Review {
                assignment,
                approve,
                note,
            } => {
                self.expect_state(name, WORKING)?;
                let a = self.get(assignment)?.clone();
                match a.parent {
                    Some(p) => require_unit(actor, self.get(p)?.unit, "review this reply")?,
                    None => require_centre(actor, "review a top-level reply")?,
                }
                if a.state != AssignmentState::Replied {
                    return Err(conflict(format!(
                        "assignment {assignment} is {:?}; there is no reply to review",
                        a.state
                    )));
                }
                if !approve && note.trim().is_empty() {
                    return Err(invalid("sending a reply back needs a reason"));
                }
                ev.push(Event::ReplyReviewed {
                    assignment,
                    approved: approve,
                    note,
                });
                let is_lead = self.lead().map(|l| l.id) == Some(assignment);
                if approve {
                    self.set_assignment(assignment, AssignmentState::Done, ev);
                    // The reviewer accepted the handling: an on-site clock still running has nothing left to
                    // escalate (it stops overdue if the unit never went in time). A reopen does not restart it.
                    self.stop_clock(ClockKind::OnSite, Some(assignment), now, ev);
                    if is_lead {
                        let due = clock.due(now, self.policy()?.callback);
                        self.set_state(S::PendingCallback, ev);
                        self.start_clock(ClockKind::Callback, None, now, due, clock, ev);
                    }
                } else {
                    self.set_assignment(assignment, AssignmentState::Signed, ev);
                    // The original deadline still holds: a send-back is not an extension.
                    let old = self
                        .clocks
                        .iter()
                        .rev()
                        .find(|c| c.kind == ClockKind::Resolve && c.assignment == Some(assignment))
                        .map(|c| c.due);
                    if let Some(due) = old {
                        self.start_clock(ClockKind::Resolve, Some(assignment), now, due, clock, ev);
                    }
                    if is_lead {
                        self.set_state(S::InProgress, ev);
                    }
                }
            }
            Action::Request {
                assignment,
                kind,
                reason,
            } => self.request(assignment, kind, reason, actor, now, clock, ev)?,
            Action::Decide {
                assignment,
                request,
                approve,
                note,
            } => self.decide(assignment, request, approve, note, actor, now, clock, ev)?,
            Action::Callback { attempt } => {
                require_centre(actor, "record a callback")?;
                self.expect_state(name, &[S::PendingCallback])?;
                if attempt.reached && attempt.grade.is_none() {
                    return Err(invalid("a callback that reached the caller needs a grade"));
                }
                self.callbacks.push(attempt.clone());
                ev.push(Event::CallbackRecorded {
                    attempt: attempt.clone(),
                });
                if let Some(g) = attempt.grade.as_ref().filter(|_| attempt.reached) {
                    if g.satisfied || !attempt.unit_caused {
                        self.stop_clock(ClockKind::Callback, None, now, ev);
                        ev.push(Event::Closed {
                            note: format!("callback graded {}", g.label),
                        });
                        self.set_state(S::Closed, ev);
                    } else {
                        self.failed_callbacks += 1;
                        let reason = format!("callback unsatisfied: {}", attempt.comment);
                        self.reopen(reason, now, clock, ev)?;
                        // The unit failed the caller twice: the centre steps in.
                        if self.failed_callbacks >= 2 {
                            let lead = self.lead().map(|l| l.id);
                            self.supervise(
                                lead,
                                SupervisionLevel::Supervise,
                                true,
                                format!("{} unsatisfied callbacks", self.failed_callbacks),
                                now,
                                ev,
                            );
                        }
                    }
                }
            }
            Action::Close { note } => {
                require_supervisor(actor, "close a ticket without a satisfied callback")?;
                self.expect_state(name, &[S::PendingCallback])?;
                self.stop_clock(ClockKind::Callback, None, now, ev);
                ev.push(Event::Closed { note });
                self.set_state(S::Closed, ev);
            }
            Action::Reopen { reason } => {
                require_supervisor(actor, "reopen a ticket")?;
                self.expect_state(name, &[S::PendingCallback, S::Closed])?;
                if reason.trim().is_empty() {
                    return Err(invalid("a reopen needs a reason"));
                }
                self.reopen(reason, now, clock, ev)?;
            }
            Action::Supervise {
                assignment,
                level,
                reason,
            } => {
                // Agents urge; supervise and notice carry weight, so they are a supervisor's.
                if level == SupervisionLevel::Urge {
                    require_centre(actor, "urge")?;
                } else {
                    require_supervisor(actor, "supervise or issue a notice")?;
                }
                self.expect_state(
                    name,
                    &[S::PendingDispatch, S::Dispatched, S::InProgress, S::Replied],
                )?;
                if let Some(id) = assignment {
                    let a = self.get(id)?;
                    if !a.state.is_open() {
                        return Err(conflict(format!(
                            "assignment {id} is {:?}; only open work can be supervised",
                            a.state
                        )));
                    }
                }
                if reason.trim().is_empty() {
                    return Err(invalid("supervision needs a reason"));
                }
                self.supervise(assignment, level, false, reason, now, ev);
            }
            Action::MergeInto { master } => {
                require_centre(actor, "merge tickets")?;
                self.expect_state(name, &[S::Draft, S::Accepted, S::PendingDispatch])?;
                if master == self.number {
                    return Err(invalid("a ticket cannot be merged into itself"));
                }
                self.stop_clocks(|_| true, now, ev);
                self.merged_into = Some(master.clone());
                ev.push(Event::MergedInto { master });
                self.set_state(S::Merged, ev);
            }
            Action::AbsorbDuplicate { duplicate } => {
                require_centre(actor, "merge tickets")?;
                if matches!(
                    self.state,
                    S::Merged | S::Archived | S::Rejected | S::HandedOff
                ) {
                    return Err(conflict(format!(
                        "a ticket in state {:?} cannot be a merge master",
                        self.state
                    )));
                }
                if duplicate == self.number || self.duplicates.contains(&duplicate) {
                    return Err(invalid(format!(
                        "{duplicate} is already part of this ticket"
                    )));
                }
                self.duplicates.push(duplicate.clone());
                ev.push(Event::DuplicateAbsorbed { duplicate });
            }
            Action::Archive => {
                require_supervisor(actor, "archive")?;
                self.expect_state(name, &[S::Closed, S::Merged, S::HandedOff, S::Rejected])?;
                self.set_state(S::Archived, ev);
            }
        }
        Ok(())
    }
}
