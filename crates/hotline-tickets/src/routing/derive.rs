//! Columns derived from a workflow snapshot: what lists filter on and what reports count. Pure, so the rules
//! are unit-tested here rather than through a database.

use chrono::{DateTime, Utc};
use hotline_workflow::{
    AssignmentState, ClockKind, Event, RequestKind, RequestStatus, Ticket, TicketState, UnitRole,
};

/// Everything `tickets` stores beside the snapshot. Overdue flags are `None` until the clock concerned has
/// started; a running clock past its due time counts as overdue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived {
    pub state: &'static str,
    pub lead_unit: Option<i64>,
    pub dispatched_at: Option<DateTime<Utc>>,
    pub sign_due: Option<DateTime<Utc>>,
    pub signed_at: Option<DateTime<Utc>>,
    pub sign_overdue: Option<bool>,
    pub resolve_due: Option<DateTime<Utc>>,
    pub resolve_overdue: Option<bool>,
    pub returns_approved: i32,
    pub extensions_approved: i32,
    pub callback_reached: Option<bool>,
    pub caller_resolved: Option<bool>,
    pub satisfied: Option<bool>,
    pub satisfied_strict: Option<bool>,
    pub reopen_count: i32,
    pub closed_at_intake: bool,
    /// When the timer sweep must look at the ticket again: the next warning or supervision, or the lead's
    /// running deadline (so the overdue flag flips on time even with no supervision configured).
    pub next_timeout: Option<DateTime<Utc>>,
}

pub(crate) fn state_name(s: TicketState) -> &'static str {
    match s {
        TicketState::Draft => "draft",
        TicketState::Accepted => "accepted",
        TicketState::PendingDispatch => "pending_dispatch",
        TicketState::Dispatched => "dispatched",
        TicketState::InProgress => "in_progress",
        TicketState::Replied => "replied",
        TicketState::PendingCallback => "pending_callback",
        TicketState::Closed => "closed",
        TicketState::Merged => "merged",
        TicketState::HandedOff => "handed_off",
        TicketState::Rejected => "rejected",
        TicketState::Archived => "archived",
    }
}

pub(crate) fn assignment_state_name(s: AssignmentState) -> &'static str {
    match s {
        AssignmentState::Dispatched => "dispatched",
        AssignmentState::Signed => "signed",
        AssignmentState::Replied => "replied",
        AssignmentState::Done => "done",
        AssignmentState::Returned => "returned",
    }
}

/// `top_grade` is the code of the best grade of the centre's scale (the strict satisfaction rate counts only it).
pub fn derive(t: &Ticket, now: DateTime<Utc>, top_grade: Option<&str>) -> Derived {
    let lead = t.lead();
    let lead_clock = |kind: ClockKind| {
        let id = lead?.id;
        t.clocks
            .iter()
            .rev()
            .find(|c| c.kind == kind && c.assignment == Some(id))
    };
    let overdue = |c: &hotline_workflow::SlaClock| match c.stopped_at {
        Some(s) => s > c.due,
        None => now > c.due,
    };
    let sign = lead_clock(ClockKind::Sign);
    let resolve = lead_clock(ClockKind::Resolve);
    let reached = t.callbacks.iter().rev().find(|c| c.reached);
    let approved = |pick: fn(&RequestKind) -> bool| -> i32 {
        let n = t
            .assignments
            .iter()
            .flat_map(|a| a.requests.iter())
            .filter(|r| r.status == RequestStatus::Approved && pick(&r.kind))
            .count();
        i32::try_from(n).unwrap_or(i32::MAX)
    };
    let mut next_timeout = t.poll_timeout();
    for c in [sign, resolve].into_iter().flatten() {
        if c.stopped_at.is_none() && c.due >= now {
            next_timeout = Some(next_timeout.map_or(c.due, |n| n.min(c.due)));
        }
    }
    if t.state.is_final() {
        next_timeout = None;
    }
    Derived {
        state: state_name(t.state),
        lead_unit: lead.and_then(|a| i64::try_from(a.unit).ok()),
        dispatched_at: t
            .assignments
            .iter()
            .filter(|a| a.parent.is_none())
            .map(|a| a.dispatched_at)
            .min(),
        sign_due: sign.map(|c| c.due),
        signed_at: sign.and_then(|c| c.stopped_at),
        sign_overdue: sign.map(overdue),
        resolve_due: resolve.map(|c| c.due),
        resolve_overdue: resolve.map(overdue),
        returns_approved: approved(|k| matches!(k, RequestKind::Return)),
        extensions_approved: approved(|k| matches!(k, RequestKind::Extension { .. })),
        callback_reached: (!t.callbacks.is_empty()).then_some(reached.is_some()),
        caller_resolved: reached.and_then(|c| c.resolved),
        satisfied: reached.and_then(|c| c.grade.as_ref()).map(|g| g.satisfied),
        satisfied_strict: reached
            .and_then(|c| c.grade.as_ref())
            .map(|g| top_grade.is_some_and(|top| top == g.code)),
        reopen_count: t
            .assignments
            .iter()
            .filter(|a| a.parent.is_none() && a.role == UnitRole::Lead)
            .map(|a| i32::try_from(a.reopen_count).unwrap_or(i32::MAX))
            .sum(),
        closed_at_intake: t.state == TicketState::Closed && t.assignments.is_empty(),
        next_timeout,
    }
}

/// Instants known only from the events of this change (the snapshot keeps no timestamp for them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Stamps {
    pub replied_at: Option<DateTime<Utc>>,
    pub callback_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

pub(crate) fn stamps(t: &Ticket, events: &[Event], now: DateTime<Utc>) -> Stamps {
    let lead = t.lead().map(|a| a.id);
    let mut s = Stamps::default();
    for e in events {
        match e {
            Event::ReplySubmitted { assignment, .. } if Some(*assignment) == lead => {
                s.replied_at = Some(now)
            }
            Event::CallbackRecorded { .. } => s.callback_at = Some(now),
            Event::StateChanged {
                to: TicketState::Closed,
                ..
            } => s.closed_at = Some(now),
            _ => {}
        }
    }
    s
}

/// One row of `assignments`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AssignmentRow {
    pub idx: i32,
    pub unit_id: i64,
    pub parent_idx: Option<i32>,
    pub level: i32,
    pub role: &'static str,
    pub state: &'static str,
    pub dispatched_at: DateTime<Utc>,
    pub sign_due: Option<DateTime<Utc>>,
    pub resolve_due: Option<DateTime<Utc>>,
    pub signed_at: Option<DateTime<Utc>>,
    pub sign_overdue: Option<bool>,
    pub resolve_overdue: Option<bool>,
    pub pending_requests: i32,
}

pub(crate) fn assignment_rows(t: &Ticket, now: DateTime<Utc>) -> Vec<AssignmentRow> {
    t.assignments
        .iter()
        .map(|a| {
            let clock = |kind: ClockKind| {
                t.clocks
                    .iter()
                    .rev()
                    .find(|c| c.kind == kind && c.assignment == Some(a.id))
            };
            let overdue = |c: &hotline_workflow::SlaClock| match c.stopped_at {
                Some(s) => s > c.due,
                None => now > c.due,
            };
            let sign = clock(ClockKind::Sign);
            let resolve = clock(ClockKind::Resolve);
            AssignmentRow {
                idx: i32::try_from(a.id).unwrap_or(i32::MAX),
                unit_id: i64::try_from(a.unit).unwrap_or(i64::MAX),
                parent_idx: a.parent.map(|p| i32::try_from(p).unwrap_or(i32::MAX)),
                level: i32::from(a.level),
                role: match a.role {
                    UnitRole::Lead => "lead",
                    UnitRole::Co => "co",
                },
                state: assignment_state_name(a.state),
                dispatched_at: a.dispatched_at,
                sign_due: sign.map(|c| c.due),
                resolve_due: resolve.map(|c| c.due),
                signed_at: sign.and_then(|c| c.stopped_at),
                sign_overdue: sign.map(overdue),
                resolve_overdue: resolve.map(overdue),
                pending_requests: i32::try_from(
                    a.requests
                        .iter()
                        .filter(|r| r.status == RequestStatus::Pending)
                        .count(),
                )
                .unwrap_or(i32::MAX),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use hotline_workflow::*;

    struct Hours;
    impl Clock for Hours {
        // One "working day" = 24 h keeps the arithmetic obvious here; the real calendar is tested elsewhere.
        fn due(&self, start: DateTime<Utc>, sla: Sla) -> DateTime<Utc> {
            match sla {
                Sla::Minutes(m) => start + Duration::minutes(i64::from(m)),
                Sla::Hours(h) => start + Duration::hours(i64::from(h)),
                Sla::WorkingDays(d) => start + Duration::days(i64::from(d)),
            }
        }
    }

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-02T01:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn dispatched() -> Ticket {
        let centre = Actor::new("1001", Role::Agent);
        let mut t = Ticket::new(
            "20260302-000001",
            Channel::Voice,
            TicketType::Complaint,
            Urgency::Normal,
            t0(),
        );
        t.apply(Action::Accept, &centre, t0(), &Hours).unwrap();
        t.apply(
            Action::QueueForDispatch {
                policy: SlaPolicy::shandong(),
            },
            &centre,
            t0(),
            &Hours,
        )
        .unwrap();
        t.apply(
            Action::Dispatch {
                lead: 7,
                co: vec![9],
            },
            &centre,
            t0(),
            &Hours,
        )
        .unwrap();
        t
    }

    #[test]
    fn dispatched_ticket_has_lead_deadlines_and_rows() {
        let t = dispatched();
        let d = derive(&t, t0(), Some("satisfied"));
        assert_eq!(d.state, "dispatched");
        assert_eq!(d.lead_unit, Some(7));
        assert_eq!(d.dispatched_at, Some(t0()));
        assert_eq!(d.sign_due, Some(t0() + Duration::days(1)));
        assert_eq!(d.resolve_due, Some(t0() + Duration::days(5)));
        assert_eq!(d.sign_overdue, Some(false));
        assert_eq!(d.callback_reached, None);
        // The 50 % warning of the sign clock comes first.
        assert_eq!(d.next_timeout, Some(t0() + Duration::hours(12)));
        let rows = assignment_rows(&t, t0());
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].unit_id, rows[0].role), (7, "lead"));
        assert_eq!((rows[1].unit_id, rows[1].role), (9, "co"));
        // Past the due time with the clock still running: overdue.
        let late = derive(&t, t0() + Duration::days(2), None);
        assert_eq!(late.sign_overdue, Some(true));
        assert_eq!(late.resolve_overdue, Some(false));
    }

    #[test]
    fn callback_facts_and_strict_satisfaction() {
        let mut t = dispatched();
        let liaison = Actor::new("wang", Role::UnitLiaison { unit: 7 });
        let centre = Actor::new("1001", Role::Agent);
        let now = t0() + Duration::hours(2);
        t.apply(Action::Sign { assignment: 0 }, &liaison, now, &Hours)
            .unwrap();
        let ev = t
            .apply(
                Action::Reply {
                    assignment: 0,
                    reply: Reply {
                        contacted_at: Some(now),
                        contact_method: Some(ContactMethod::Phone),
                        outcome: Outcome::Resolved,
                        public_text: "已处理".into(),
                        internal_notes: String::new(),
                    },
                },
                &liaison,
                now,
                &Hours,
            )
            .unwrap();
        assert_eq!(stamps(&t, &ev, now).replied_at, Some(now));
        t.apply(
            Action::Review {
                assignment: 0,
                approve: true,
                note: String::new(),
            },
            &centre,
            now,
            &Hours,
        )
        .unwrap();
        let scale = GradeScale::three_level();
        let ev = t
            .apply(
                Action::Callback {
                    attempt: CallbackAttempt {
                        reached: true,
                        resolved: Some(true),
                        grade: scale.grade("basically_satisfied").cloned(),
                        comment: String::new(),
                        unit_caused: false,
                    },
                },
                &centre,
                now,
                &Hours,
            )
            .unwrap();
        let s = stamps(&t, &ev, now);
        assert_eq!((s.callback_at, s.closed_at), (Some(now), Some(now)));
        let d = derive(&t, now, Some("satisfied"));
        assert_eq!(d.state, "closed");
        assert_eq!(
            (
                d.callback_reached,
                d.caller_resolved,
                d.satisfied,
                d.satisfied_strict
            ),
            (Some(true), Some(true), Some(true), Some(false))
        );
        assert_eq!(d.resolve_overdue, Some(false));
        assert!(!d.closed_at_intake);
        assert_eq!(d.next_timeout, None);
    }

    #[test]
    fn closed_at_intake_has_no_assignments() {
        let centre = Actor::new("1001", Role::Agent);
        let mut t = Ticket::new(
            "n",
            Channel::Sms,
            TicketType::Consult,
            Urgency::Normal,
            t0(),
        );
        t.apply(Action::Accept, &centre, t0(), &Hours).unwrap();
        t.apply(
            Action::CloseAtIntake {
                answer: "办理时间为工作日".into(),
            },
            &centre,
            t0(),
            &Hours,
        )
        .unwrap();
        let d = derive(&t, t0(), None);
        assert!(d.closed_at_intake);
        assert_eq!(d.lead_unit, None);
    }
}
