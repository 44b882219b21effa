//! The ticket lifecycle driven with a fake Monday–Friday calendar and explicit times.

use chrono::{DateTime, Duration, TimeZone, Utc};
use hotline_workflow::*;

mod common;
use common::*;

const LEAD: UnitId = 10;
const CO: UnitId = 11;
const OTHER: UnitId = 12;
const STREET: UnitId = 20;
const COMMUNITY: UnitId = 30;
const BLOCK: UnitId = 40;

/// Monday 2026-03-02 09:00 UTC.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

fn h(n: i64) -> DateTime<Utc> {
    t0() + Duration::hours(n)
}

fn agent() -> Actor {
    Actor::new("agent1", Role::Agent)
}
fn sup() -> Actor {
    Actor::new("sup1", Role::Supervisor)
}
fn admin() -> Actor {
    Actor::new("root", Role::Admin)
}
fn liaison(unit: UnitId) -> Actor {
    Actor::new(format!("liaison{unit}"), Role::UnitLiaison { unit })
}

fn reply() -> Reply {
    Reply {
        contacted_at: Some(h(1)),
        contact_method: Some(ContactMethod::Phone),
        outcome: Outcome::Resolved,
        public_text: "The streetlight was repaired.".into(),
        internal_notes: "crew 3".into(),
    }
}

fn grade(code: &str) -> Grade {
    GradeScale::three_level()
        .grade(code)
        .cloned()
        .expect("grade")
}

fn callback(code: &str, unit_caused: bool) -> Action {
    Action::Callback {
        attempt: CallbackAttempt {
            reached: true,
            resolved: Some(code == "satisfied"),
            grade: Some(grade(code)),
            comment: "asked the caller".into(),
            unit_caused,
        },
    }
}

fn ok(t: &mut Ticket, a: Action, who: &Actor, now: DateTime<Utc>) -> Vec<Event> {
    match t.apply(a.clone(), who, now, &CAL) {
        Ok(ev) => ev,
        Err(e) => panic!(
            "{} by {:?} in {:?} failed: {e}",
            a.name(),
            who.role,
            t.state
        ),
    }
}

fn err(t: &mut Ticket, a: Action, who: &Actor, now: DateTime<Utc>) -> WorkflowError {
    let before = t.clone();
    match t.apply(a.clone(), who, now, &CAL) {
        Ok(ev) => panic!(
            "{} by {:?} in {:?} succeeded: {ev:?}",
            a.name(),
            who.role,
            t.state
        ),
        Err(e) => {
            assert_eq!(*t, before, "a refused action must not change the ticket");
            e
        }
    }
}

fn changed_to(ev: &[Event], to: TicketState) -> bool {
    ev.iter()
        .any(|e| matches!(e, Event::StateChanged { to: x, .. } if *x == to))
}

fn new_ticket(tt: TicketType) -> Ticket {
    Ticket::new("2026030200001", Channel::Voice, tt, Urgency::Normal, t0())
}

/// A ticket walked to `state` along the main path (Help, Shandong: 5 WD for all).
fn at(state: TicketState) -> Ticket {
    use TicketState as S;
    let mut t = new_ticket(TicketType::Help);
    let path = [
        S::Accepted,
        S::PendingDispatch,
        S::Dispatched,
        S::InProgress,
        S::Replied,
        S::PendingCallback,
        S::Closed,
        S::Archived,
    ];
    if state == S::Draft {
        return t;
    }
    for step in path {
        let (a, who) = match step {
            S::Accepted => (Action::Accept, agent()),
            S::PendingDispatch => (
                Action::QueueForDispatch {
                    policy: SlaPolicy::shandong(),
                },
                agent(),
            ),
            S::Dispatched => (
                Action::Dispatch {
                    lead: LEAD,
                    co: vec![CO],
                },
                agent(),
            ),
            S::InProgress => (Action::Sign { assignment: 0 }, liaison(LEAD)),
            S::Replied => (
                Action::Reply {
                    assignment: 0,
                    reply: reply(),
                },
                liaison(LEAD),
            ),
            S::PendingCallback => (
                Action::Review {
                    assignment: 0,
                    approve: true,
                    note: String::new(),
                },
                agent(),
            ),
            S::Closed => (callback("satisfied", false), agent()),
            S::Archived => (Action::Archive, sup()),
            _ => unreachable!(),
        };
        let ev = ok(&mut t, a, &who, h(2));
        assert!(changed_to(&ev, step), "{step:?}: {ev:?}");
        if step == state {
            break;
        }
    }
    t
}

#[test]
fn main_path_every_legal_step() {
    let t = at(TicketState::Archived);
    assert_eq!(t.state, TicketState::Archived);
    assert_eq!(t.assignments.len(), 2);
    assert_eq!(t.assignments[0].role, UnitRole::Lead);
    assert_eq!(t.assignments[1].role, UnitRole::Co);
    // Closing stopped every clock, including the co-unit's.
    assert!(t.clocks.iter().all(|c| c.stopped_at.is_some()));
    assert_eq!(t.poll_timeout(), None);
}

#[test]
fn dispatch_copies_policy_and_starts_clocks() {
    let mut t = at(TicketState::Accepted);
    let ev = ok(
        &mut t,
        Action::QueueForDispatch {
            policy: SlaPolicy::laishan(),
        },
        &agent(),
        t0(),
    );
    assert!(ev.iter().any(|e| matches!(e, Event::PolicyCopied { .. })));
    assert_eq!(
        t.clock(ClockKind::Dispatch, None).map(|c| c.due),
        Some(h(24))
    );
    let ev = ok(
        &mut t,
        Action::Dispatch {
            lead: LEAD,
            co: vec![],
        },
        &agent(),
        h(1),
    );
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::ClockStopped {
            kind: ClockKind::Dispatch,
            overdue: false,
            ..
        }
    )));
    // Help under Laishan: 2 WD from Monday → end of Wednesday.
    let due = t.clock(ClockKind::Resolve, Some(0)).map(|c| c.due);
    assert_eq!(
        due,
        Some(Utc.with_ymd_and_hms(2026, 3, 5, 0, 0, 0).unwrap())
    );
    // The ticket keeps its copy whatever the centre's policy becomes.
    assert_eq!(t.policy, Some(SlaPolicy::laishan()));
}

#[test]
fn presets() {
    assert_eq!(
        SlaPolicy::laishan().resolve.get(TicketType::Consult),
        Sla::Hours(2)
    );
    assert_eq!(
        SlaPolicy::laishan().resolve.get(TicketType::Complaint),
        Sla::WorkingDays(5)
    );
    assert_eq!(
        SlaPolicy::changchun().resolve.get(TicketType::Complaint),
        Sla::WorkingDays(1)
    );
    assert_eq!(
        SlaPolicy::changchun().resolve.get(TicketType::Suggestion),
        Sla::WorkingDays(2)
    );
    assert_eq!(
        SlaPolicy::guangdong().resolve.get(TicketType::Consult),
        Sla::WorkingDays(2)
    );
    assert_eq!(
        SlaPolicy::guangdong().resolve.get(TicketType::Help),
        Sla::WorkingDays(10)
    );
    assert_eq!(
        SlaPolicy::guangdong().resolve.get(TicketType::Suggestion),
        Sla::WorkingDays(15)
    );
    assert_eq!(
        SlaPolicy::shandong().resolve.get(TicketType::Praise),
        Sla::WorkingDays(5)
    );
    assert_eq!(
        SlaPolicy::shandong().dispatch(Urgency::Urgent),
        Sla::Minutes(15)
    );
    assert!(!GradeScale::abc()
        .grade("c")
        .map(|g| g.satisfied)
        .unwrap_or(true));
    assert_eq!(GradeScale::five_level().grades.len(), 5);
}

#[test]
fn side_states() {
    let mut t = at(TicketState::Accepted);
    let ev = ok(
        &mut t,
        Action::CloseAtIntake {
            answer: "KB item 12".into(),
        },
        &agent(),
        h(1),
    );
    assert!(changed_to(&ev, TicketState::Closed));
    ok(&mut t, Action::Archive, &sup(), h(2));

    for s in [
        TicketState::Draft,
        TicketState::Accepted,
        TicketState::PendingDispatch,
    ] {
        let mut t = at(s);
        let ev = ok(
            &mut t,
            Action::HandOff {
                to: EmergencyService::Ambulance120,
                note: "chest pain".into(),
            },
            &agent(),
            h(1),
        );
        assert!(changed_to(&ev, TicketState::HandedOff));
        assert_eq!(t.handed_off_to, Some(EmergencyService::Ambulance120));
        ok(&mut t, Action::Archive, &sup(), h(2));

        let mut t = at(s);
        let ev = ok(
            &mut t,
            Action::Reject {
                reason: "court matter".into(),
            },
            &agent(),
            h(1),
        );
        assert!(changed_to(&ev, TicketState::Rejected));
        ok(&mut t, Action::Archive, &admin(), h(2));
    }
}

#[test]
fn merge_duplicates() {
    let mut master = at(TicketState::InProgress);
    let mut dup = Ticket::new(
        "2026030200002",
        Channel::Wechat,
        TicketType::Help,
        Urgency::Normal,
        t0(),
    );
    ok(&mut dup, Action::Accept, &agent(), h(1));
    let ev = ok(
        &mut dup,
        Action::MergeInto {
            master: master.number.clone(),
        },
        &agent(),
        h(1),
    );
    assert!(changed_to(&ev, TicketState::Merged));
    assert_eq!(dup.merged_into.as_deref(), Some("2026030200001"));
    let ev = ok(
        &mut master,
        Action::AbsorbDuplicate {
            duplicate: dup.number.clone(),
        },
        &agent(),
        h(1),
    );
    assert_eq!(
        ev,
        vec![Event::DuplicateAbsorbed {
            duplicate: "2026030200002".into()
        }]
    );
    assert_eq!(master.state, TicketState::InProgress);
    // Twice is refused, and so is merging into itself or merging a dispatched ticket.
    let e = err(
        &mut master,
        Action::AbsorbDuplicate {
            duplicate: dup.number.clone(),
        },
        &agent(),
        h(1),
    );
    assert!(matches!(e, WorkflowError::Invalid(_)));
    let mut d2 = at(TicketState::Accepted);
    let own = d2.number.clone();
    let e = err(&mut d2, Action::MergeInto { master: own }, &agent(), h(1));
    assert!(matches!(e, WorkflowError::Invalid(_)));
    let e = err(
        &mut master,
        Action::MergeInto { master: "x".into() },
        &agent(),
        h(1),
    );
    assert!(matches!(e, WorkflowError::Conflict(_)));
    ok(&mut dup, Action::Archive, &sup(), h(2));
}

#[test]
fn illegal_transitions_give_reasons() {
    use TicketState as S;
    let policy = || SlaPolicy::shandong();
    let table: Vec<(S, Action, Actor, &str)> = vec![
        (
            S::Draft,
            Action::QueueForDispatch { policy: policy() },
            agent(),
            "conflict",
        ),
        (
            S::Draft,
            Action::CloseAtIntake { answer: "x".into() },
            agent(),
            "conflict",
        ),
        (S::Draft, Action::Archive, sup(), "conflict"),
        (S::Draft, Action::Accept, liaison(LEAD), "forbidden"),
        (S::Accepted, Action::Accept, agent(), "conflict"),
        (
            S::Accepted,
            Action::Dispatch {
                lead: LEAD,
                co: vec![],
            },
            agent(),
            "conflict",
        ),
        (
            S::Accepted,
            Action::CloseAtIntake { answer: " ".into() },
            agent(),
            "invalid",
        ),
        (
            S::PendingDispatch,
            Action::Dispatch {
                lead: LEAD,
                co: vec![LEAD],
            },
            agent(),
            "invalid",
        ),
        (
            S::PendingDispatch,
            Action::Dispatch {
                lead: LEAD,
                co: vec![],
            },
            liaison(LEAD),
            "forbidden",
        ),
        (
            S::PendingDispatch,
            Action::Sign { assignment: 0 },
            liaison(LEAD),
            "conflict",
        ),
        (
            S::PendingDispatch,
            Action::CloseAtIntake { answer: "x".into() },
            agent(),
            "conflict",
        ),
        (
            S::Dispatched,
            Action::Dispatch {
                lead: LEAD,
                co: vec![],
            },
            agent(),
            "conflict",
        ),
        (
            S::Dispatched,
            Action::Sign { assignment: 0 },
            liaison(OTHER),
            "forbidden",
        ),
        (
            S::Dispatched,
            Action::Sign { assignment: 0 },
            agent(),
            "forbidden",
        ),
        (
            S::Dispatched,
            Action::Sign { assignment: 9 },
            liaison(LEAD),
            "not_found",
        ),
        (
            S::Dispatched,
            Action::Reply {
                assignment: 0,
                reply: reply(),
            },
            liaison(LEAD),
            "conflict",
        ),
        (
            S::Dispatched,
            Action::HandOff {
                to: EmergencyService::Police110,
                note: String::new(),
            },
            agent(),
            "conflict",
        ),
        (
            S::Dispatched,
            Action::Reject { reason: "x".into() },
            agent(),
            "conflict",
        ),
        (
            S::InProgress,
            Action::Sign { assignment: 0 },
            liaison(LEAD),
            "conflict",
        ),
        (
            S::InProgress,
            Action::Reply {
                assignment: 0,
                reply: reply(),
            },
            liaison(CO),
            "forbidden",
        ),
        (
            S::InProgress,
            Action::Reply {
                assignment: 1,
                reply: reply(),
            },
            liaison(CO),
            "conflict",
        ),
        (
            S::InProgress,
            Action::Review {
                assignment: 0,
                approve: true,
                note: String::new(),
            },
            agent(),
            "conflict",
        ),
        (
            S::InProgress,
            callback("satisfied", false),
            agent(),
            "conflict",
        ),
        (
            S::InProgress,
            Action::SubDispatch {
                parent: 1,
                unit: STREET,
                due: None,
            },
            liaison(CO),
            "conflict",
        ),
        (
            S::InProgress,
            Action::Supervise {
                assignment: Some(0),
                level: SupervisionLevel::Supervise,
                reason: "x".into(),
            },
            agent(),
            "forbidden",
        ),
        (
            S::InProgress,
            Action::Supervise {
                assignment: Some(0),
                level: SupervisionLevel::Urge,
                reason: String::new(),
            },
            agent(),
            "invalid",
        ),
        (S::InProgress, Action::Archive, sup(), "conflict"),
        (
            S::Replied,
            Action::Review {
                assignment: 0,
                approve: true,
                note: String::new(),
            },
            liaison(LEAD),
            "forbidden",
        ),
        (
            S::Replied,
            Action::Review {
                assignment: 0,
                approve: false,
                note: String::new(),
            },
            agent(),
            "invalid",
        ),
        (
            S::Replied,
            Action::Reply {
                assignment: 0,
                reply: reply(),
            },
            liaison(LEAD),
            "conflict",
        ),
        (
            S::Replied,
            Action::Request {
                assignment: 0,
                kind: RequestKind::Return,
                reason: "x".into(),
            },
            liaison(LEAD),
            "conflict",
        ),
        (
            S::PendingCallback,
            Action::Callback {
                attempt: CallbackAttempt {
                    reached: true,
                    resolved: None,
                    grade: None,
                    comment: String::new(),
                    unit_caused: false,
                },
            },
            agent(),
            "invalid",
        ),
        (
            S::PendingCallback,
            callback("satisfied", false),
            liaison(LEAD),
            "forbidden",
        ),
        (
            S::PendingCallback,
            Action::Close { note: "x".into() },
            agent(),
            "forbidden",
        ),
        (
            S::PendingCallback,
            Action::Reopen { reason: "x".into() },
            agent(),
            "forbidden",
        ),
        (S::PendingCallback, Action::Archive, sup(), "conflict"),
        (S::Closed, Action::Accept, agent(), "conflict"),
        (S::Closed, callback("satisfied", false), agent(), "conflict"),
        (S::Closed, Action::Archive, agent(), "forbidden"),
        (S::Archived, Action::Archive, sup(), "conflict"),
        (
            S::Archived,
            Action::Reopen { reason: "x".into() },
            sup(),
            "conflict",
        ),
    ];
    for (state, action, who, kind) in table {
        let mut t = at(state);
        let what = format!("{} by {:?} in {state:?}", action.name(), who.role);
        let e = err(&mut t, action, &who, h(3));
        let got = match &e {
            WorkflowError::Conflict(r)
            | WorkflowError::Forbidden(r)
            | WorkflowError::NotFound(r)
            | WorkflowError::Invalid(r) => {
                assert!(r.len() > 5, "{what}: reason too short: {r:?}");
                serde_json::to_value(&e).expect("json")["kind"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            }
        };
        assert_eq!(got, kind, "{what}: {e}");
    }
}

#[test]
fn three_level_sub_dispatch_with_review() {
    let mut t = at(TicketState::InProgress);
    // District (lead, 0) → street (2) → community (3); a fourth level is refused.
    let e = err(
        &mut t,
        Action::SubDispatch {
            parent: 0,
            unit: STREET,
            due: None,
        },
        &liaison(OTHER),
        h(3),
    );
    assert!(matches!(e, WorkflowError::Forbidden(_)));
    ok(
        &mut t,
        Action::SubDispatch {
            parent: 0,
            unit: STREET,
            due: None,
        },
        &liaison(LEAD),
        h(3),
    );
    let street = 2;
    assert_eq!(t.assignments[2].level, 2);
    assert_eq!(t.assignments[2].parent, Some(0));
    // Not signed yet: it cannot pass work down.
    let e = err(
        &mut t,
        Action::SubDispatch {
            parent: street,
            unit: COMMUNITY,
            due: None,
        },
        &liaison(STREET),
        h(3),
    );
    assert!(matches!(e, WorkflowError::Conflict(_)));
    ok(
        &mut t,
        Action::Sign { assignment: street },
        &liaison(STREET),
        h(4),
    );
    // The child cannot be given longer than its parent has.
    let late = t
        .clock(ClockKind::Resolve, Some(street))
        .map(|c| c.due)
        .unwrap()
        + Duration::hours(1);
    let e = err(
        &mut t,
        Action::SubDispatch {
            parent: street,
            unit: COMMUNITY,
            due: Some(late),
        },
        &liaison(STREET),
        h(4),
    );
    assert!(matches!(e, WorkflowError::Invalid(_)));
    ok(
        &mut t,
        Action::SubDispatch {
            parent: street,
            unit: COMMUNITY,
            due: Some(h(48)),
        },
        &liaison(STREET),
        h(4),
    );
    let community = 3;
    assert_eq!(t.assignments[3].level, 3);
    assert_eq!(
        t.clock(ClockKind::Resolve, Some(community)).map(|c| c.due),
        Some(h(48))
    );
    ok(
        &mut t,
        Action::Sign {
            assignment: community,
        },
        &liaison(COMMUNITY),
        h(5),
    );
    let e = err(
        &mut t,
        Action::SubDispatch {
            parent: community,
            unit: BLOCK,
            due: None,
        },
        &liaison(COMMUNITY),
        h(5),
    );
    assert!(
        matches!(e, WorkflowError::Conflict(ref r) if r.contains("level")),
        "{e}"
    );

    // The street cannot reply up while the community's work is open.
    let e = err(
        &mut t,
        Action::Reply {
            assignment: street,
            reply: reply(),
        },
        &liaison(STREET),
        h(6),
    );
    assert!(matches!(e, WorkflowError::Conflict(_)));
    ok(
        &mut t,
        Action::Reply {
            assignment: community,
            reply: reply(),
        },
        &liaison(COMMUNITY),
        h(6),
    );
    assert_eq!(
        t.state,
        TicketState::InProgress,
        "a child's reply does not move the ticket"
    );
    // Only the parent unit reviews: not the district, not the centre.
    let review = |approve: bool| Action::Review {
        assignment: community,
        approve,
        note: "photos missing".into(),
    };
    assert!(matches!(
        err(&mut t, review(true), &liaison(LEAD), h(7)),
        WorkflowError::Forbidden(_)
    ));
    assert!(matches!(
        err(&mut t, review(true), &agent(), h(7)),
        WorkflowError::Forbidden(_)
    ));
    // Send back: the community works again under its original deadline.
    let ev = ok(&mut t, review(false), &liaison(STREET), h(7));
    assert!(ev.contains(&Event::AssignmentChanged {
        assignment: community,
        from: AssignmentState::Replied,
        to: AssignmentState::Signed
    }));
    assert_eq!(
        t.clock(ClockKind::Resolve, Some(community)).map(|c| c.due),
        Some(h(48))
    );
    ok(
        &mut t,
        Action::Reply {
            assignment: community,
            reply: reply(),
        },
        &liaison(COMMUNITY),
        h(8),
    );
    ok(&mut t, review(true), &liaison(STREET), h(9));
    assert_eq!(t.assignments[3].state, AssignmentState::Done);

    // Street replies up; the district sends back once, then accepts.
    ok(
        &mut t,
        Action::Reply {
            assignment: street,
            reply: reply(),
        },
        &liaison(STREET),
        h(10),
    );
    ok(
        &mut t,
        Action::Review {
            assignment: street,
            approve: false,
            note: "call the caller".into(),
        },
        &liaison(LEAD),
        h(11),
    );
    ok(
        &mut t,
        Action::Reply {
            assignment: street,
            reply: reply(),
        },
        &liaison(STREET),
        h(12),
    );
    ok(
        &mut t,
        Action::Review {
            assignment: street,
            approve: true,
            note: String::new(),
        },
        &liaison(LEAD),
        h(13),
    );

    // District replies to the centre, which sends back, then approves.
    let ev = ok(
        &mut t,
        Action::Reply {
            assignment: 0,
            reply: reply(),
        },
        &liaison(LEAD),
        h(14),
    );
    assert!(changed_to(&ev, TicketState::Replied));
    let ev = ok(
        &mut t,
        Action::Review {
            assignment: 0,
            approve: false,
            note: "no photo".into(),
        },
        &agent(),
        h(15),
    );
    assert!(changed_to(&ev, TicketState::InProgress));
    ok(
        &mut t,
        Action::Reply {
            assignment: 0,
            reply: reply(),
        },
        &liaison(LEAD),
        h(16),
    );
    let ev = ok(
        &mut t,
        Action::Review {
            assignment: 0,
            approve: true,
            note: String::new(),
        },
        &agent(),
        h(17),
    );
    assert!(changed_to(&ev, TicketState::PendingCallback));
    assert!(t.clock(ClockKind::Callback, None).is_some());
}

fn request(kind: RequestKind) -> Action {
    Action::Request {
        assignment: 0,
        kind,
        reason: "not our district".into(),
    }
}

fn decide(request: u32, approve: bool) -> Action {
    Action::Decide {
        assignment: 0,
        request,
        approve,
        note: "checked".into(),
    }
}

#[test]
fn return_approved_redispatches_and_rejected_stays() {
    // Rejected: the unit keeps the work.
    let mut t = at(TicketState::Dispatched);
    ok(&mut t, request(RequestKind::Return), &liaison(LEAD), h(1));
    let e = err(&mut t, request(RequestKind::Return), &liaison(LEAD), h(1));
    assert!(matches!(e, WorkflowError::Conflict(ref r) if r.contains("pending")));
    assert!(matches!(
        err(&mut t, decide(0, true), &liaison(LEAD), h(2)),
        WorkflowError::Forbidden(_)
    ));
    ok(&mut t, decide(0, false), &agent(), h(2));
    assert_eq!(t.assignments[0].state, AssignmentState::Dispatched);
    assert_eq!(t.state, TicketState::Dispatched);
    assert!(matches!(
        err(&mut t, decide(0, true), &agent(), h(2)),
        WorkflowError::Conflict(_)
    ));

    // Approved: back to dispatch, co-units withdrawn, then dispatched to the right unit.
    let mut t = at(TicketState::InProgress);
    ok(&mut t, request(RequestKind::Return), &liaison(LEAD), h(3));
    let ev = ok(&mut t, decide(0, true), &agent(), h(4));
    assert!(changed_to(&ev, TicketState::PendingDispatch));
    assert_eq!(t.assignments[0].state, AssignmentState::Returned);
    assert_eq!(t.assignments[1].state, AssignmentState::Returned);
    assert!(t.clock(ClockKind::Resolve, Some(0)).is_none());
    assert!(t.clock(ClockKind::Dispatch, None).is_some());
    ok(
        &mut t,
        Action::Dispatch {
            lead: OTHER,
            co: vec![],
        },
        &agent(),
        h(5),
    );
    assert_eq!(t.lead().map(|l| l.unit), Some(OTHER));
    ok(
        &mut t,
        Action::Sign { assignment: 2 },
        &liaison(OTHER),
        h(6),
    );
    assert_eq!(t.state, TicketState::InProgress);

    // After the window (1 WD after Monday's dispatch → Wednesday 00:00) the return is refused.
    let mut t = at(TicketState::InProgress);
    let late = Utc.with_ymd_and_hms(2026, 3, 4, 0, 0, 1).unwrap();
    let e = err(&mut t, request(RequestKind::Return), &liaison(LEAD), late);
    assert!(
        matches!(e, WorkflowError::Conflict(ref r) if r.contains("window")),
        "{e}"
    );
}

#[test]
fn extension_once_before_due() {
    let mut t = at(TicketState::InProgress);
    let due = t.clock(ClockKind::Resolve, Some(0)).map(|c| c.due).unwrap();
    // Shandong: 5 WD from Monday 2 March → end of Monday 9 March.
    assert_eq!(due, Utc.with_ymd_and_hms(2026, 3, 10, 0, 0, 0).unwrap());
    let e = err(
        &mut t,
        request(RequestKind::Extension { days: 11 }),
        &liaison(LEAD),
        h(5),
    );
    assert!(matches!(e, WorkflowError::Invalid(_)));
    ok(
        &mut t,
        request(RequestKind::Extension { days: 3 }),
        &liaison(LEAD),
        h(5),
    );
    let ev = ok(&mut t, decide(0, true), &agent(), h(6));
    let moved = Utc.with_ymd_and_hms(2026, 3, 13, 0, 0, 0).unwrap();
    assert!(ev.contains(&Event::DueMoved {
        clock: t.clock(ClockKind::Resolve, Some(0)).unwrap().id,
        assignment: Some(0),
        from: due,
        to: moved
    }));
    assert_eq!(
        t.clock(ClockKind::Resolve, Some(0)).map(|c| c.due),
        Some(moved)
    );
    // Once by default.
    let e = err(
        &mut t,
        request(RequestKind::Extension { days: 1 }),
        &liaison(LEAD),
        h(7),
    );
    assert!(
        matches!(e, WorkflowError::Conflict(ref r) if r.contains("extensions")),
        "{e}"
    );

    // A rejected request does not use up the allowance; asking after the due time is refused.
    let mut t = at(TicketState::InProgress);
    ok(
        &mut t,
        request(RequestKind::Extension { days: 2 }),
        &liaison(LEAD),
        h(5),
    );
    ok(&mut t, decide(0, false), &agent(), h(6));
    let after = due + Duration::minutes(1);
    let e = err(
        &mut t,
        request(RequestKind::Extension { days: 2 }),
        &liaison(LEAD),
        after,
    );
    assert!(
        matches!(e, WorkflowError::Conflict(ref r) if r.contains("before")),
        "{e}"
    );
}

#[test]
fn co_handling_request_adds_a_co_unit() {
    let mut t = at(TicketState::InProgress);
    ok(
        &mut t,
        request(RequestKind::CoHandling { unit: OTHER }),
        &liaison(LEAD),
        h(3),
    );
    let ev = ok(&mut t, decide(0, true), &agent(), h(4));
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::AssignmentCreated {
            unit: OTHER,
            role: UnitRole::Co,
            parent: None,
            ..
        }
    )));
    let e = err(
        &mut t,
        request(RequestKind::CoHandling { unit: OTHER }),
        &liaison(LEAD),
        h(5),
    );
    assert!(matches!(e, WorkflowError::Invalid(_)));
}

#[test]
fn callback_satisfied_closes() {
    let mut t = at(TicketState::PendingCallback);
    // Not reached: recorded, still pending.
    let unreached = Action::Callback {
        attempt: CallbackAttempt {
            reached: false,
            resolved: None,
            grade: None,
            comment: "no answer".into(),
            unit_caused: false,
        },
    };
    let ev = ok(&mut t, unreached, &agent(), h(20));
    assert_eq!(ev.len(), 1);
    assert_eq!(t.state, TicketState::PendingCallback);
    let ev = ok(
        &mut t,
        callback("basically_satisfied", false),
        &agent(),
        h(21),
    );
    assert!(changed_to(&ev, TicketState::Closed));
    assert_eq!(t.callbacks.len(), 2);
    // Unsatisfied for a reason outside the unit's control also closes.
    let mut t = at(TicketState::PendingCallback);
    let ev = ok(&mut t, callback("unsatisfied", false), &agent(), h(21));
    assert!(changed_to(&ev, TicketState::Closed));
}

#[test]
fn unsatisfied_callback_reopens_then_supervises() {
    let mut t = at(TicketState::PendingCallback);
    let first_due = t
        .clocks
        .iter()
        .find(|c| c.kind == ClockKind::Resolve)
        .map(|c| c.due)
        .unwrap();
    // Thursday: the reopen gets 5 fresh working days.
    let thu = Utc.with_ymd_and_hms(2026, 3, 5, 10, 0, 0).unwrap();
    let ev = ok(&mut t, callback("unsatisfied", true), &agent(), thu);
    assert!(ev.contains(&Event::Reopened {
        assignment: 0,
        count: 1,
        reason: "callback unsatisfied: asked the caller".into()
    }));
    assert!(changed_to(&ev, TicketState::Dispatched));
    assert_eq!(t.lead().map(|l| l.unit), Some(LEAD), "same unit");
    let due = t.clock(ClockKind::Resolve, Some(0)).map(|c| c.due).unwrap();
    assert_eq!(due, Utc.with_ymd_and_hms(2026, 3, 13, 0, 0, 0).unwrap());
    assert!(due > first_due);
    assert!(!ev
        .iter()
        .any(|e| matches!(e, Event::SupervisionRaised { .. })));

    ok(
        &mut t,
        Action::Sign { assignment: 0 },
        &liaison(LEAD),
        thu + Duration::hours(1),
    );
    ok(
        &mut t,
        Action::Reply {
            assignment: 0,
            reply: reply(),
        },
        &liaison(LEAD),
        thu + Duration::hours(2),
    );
    ok(
        &mut t,
        Action::Review {
            assignment: 0,
            approve: true,
            note: String::new(),
        },
        &agent(),
        thu + Duration::hours(3),
    );
    let ev = ok(
        &mut t,
        callback("unsatisfied", true),
        &agent(),
        thu + Duration::hours(4),
    );
    assert!(ev
        .iter()
        .any(|e| matches!(e, Event::Reopened { count: 2, .. })));
    let sup_ev = ev.iter().find_map(|e| match e {
        Event::SupervisionRaised { supervision } => Some(supervision.clone()),
        _ => None,
    });
    let s = sup_ev.expect("second failure raises supervision");
    assert_eq!(s.level, SupervisionLevel::Supervise);
    assert!(s.automatic);
    assert_eq!(s.assignment, Some(0));

    // A supervisor can also reopen a closed ticket by hand.
    let mut t = at(TicketState::Closed);
    let ev = ok(
        &mut t,
        Action::Reopen {
            reason: "media report".into(),
        },
        &sup(),
        h(30),
    );
    assert!(changed_to(&ev, TicketState::Dispatched));
}

#[test]
fn automatic_warnings_and_supervision() {
    let mut t = at(TicketState::Accepted);
    let mut policy = SlaPolicy::shandong();
    policy.resolve.help = Sla::Hours(10);
    policy.sign = Sla::Hours(100); // out of the way
    policy.first_contact = Sla::Hours(100);
    policy.escalation.notice_after = Some(Sla::Hours(2));
    ok(&mut t, Action::QueueForDispatch { policy }, &agent(), t0());
    // Dispatch clock (24 h) only warns: first stop at 50 % = 12 h, but dispatch comes first.
    assert_eq!(t.poll_timeout(), Some(h(12)));
    ok(
        &mut t,
        Action::Dispatch {
            lead: LEAD,
            co: vec![],
        },
        &agent(),
        t0(),
    );
    ok(&mut t, Action::Sign { assignment: 0 }, &liaison(LEAD), t0());

    // Resolve: 10 h → warn 5 h; warn + urge 8 h; supervise 10 h; notice 12 h.
    let mut seen = Vec::new();
    while let Some(next) = t.poll_timeout() {
        if next > h(13) {
            break;
        }
        // Nothing fires early.
        assert!(t.handle_timeout(next - Duration::seconds(1)).is_empty());
        for e in t.handle_timeout(next) {
            seen.push((next, e));
        }
    }
    let summary: Vec<(i64, String)> = seen
        .iter()
        .map(|(at, e)| {
            let what = match e {
                Event::Warning { percent, kind, .. } => format!("warn {kind:?} {percent}"),
                Event::SupervisionRaised { supervision } => format!("{:?}", supervision.level),
                other => format!("{other:?}"),
            };
            ((*at - t0()).num_hours(), what)
        })
        .collect();
    let expect: Vec<(i64, String)> = vec![
        (5, "warn Resolve 50".into()),
        (8, "warn Resolve 80".into()),
        (8, "Urge".into()),
        (10, "Supervise".into()),
        (12, "Notice".into()),
    ];
    assert_eq!(summary, expect);
    assert_eq!(t.supervisions.len(), 3);
    assert!(t
        .supervisions
        .iter()
        .all(|s| s.automatic && s.assignment == Some(0)));
    // Replying stops the resolve clock; only the far-off clocks are left.
    ok(
        &mut t,
        Action::Reply {
            assignment: 0,
            reply: reply(),
        },
        &liaison(LEAD),
        h(13),
    );
    assert!(t.poll_timeout().map(|n| n > h(13)).unwrap_or(true));
}

#[test]
fn handle_timeout_catches_up_after_a_gap() {
    let mut t = at(TicketState::InProgress);
    // Long after everything: one call fires every rung, once.
    let far = h(24 * 30);
    let ev = t.handle_timeout(far);
    let levels: Vec<SupervisionLevel> = ev
        .iter()
        .filter_map(|e| match e {
            Event::SupervisionRaised { supervision } => Some(supervision.level),
            _ => None,
        })
        .collect();
    // The lead's and co-unit's resolve clocks each urge, supervise and notice (signing stopped the lead's sign
    // clock; the co-unit never signed, so its sign clock escalates too).
    assert_eq!(
        levels
            .iter()
            .filter(|l| **l == SupervisionLevel::Notice)
            .count(),
        3
    );
    assert!(t.handle_timeout(far).is_empty());
    assert!(t.poll_timeout().is_none());
}

#[test]
fn manual_supervision() {
    let mut t = at(TicketState::InProgress);
    let ev = ok(
        &mut t,
        Action::Supervise {
            assignment: Some(0),
            level: SupervisionLevel::Urge,
            reason: "caller called again".into(),
        },
        &agent(),
        h(3),
    );
    assert!(
        matches!(&ev[..], [Event::SupervisionRaised { supervision }] if !supervision.automatic)
    );
    ok(
        &mut t,
        Action::Supervise {
            assignment: Some(0),
            level: SupervisionLevel::Notice,
            reason: "third complaint".into(),
        },
        &sup(),
        h(4),
    );
    assert_eq!(t.supervisions.len(), 2);
}

#[test]
fn extension_rearms_escalation() {
    let mut t = at(TicketState::Accepted);
    let mut policy = SlaPolicy::shandong();
    policy.resolve.help = Sla::WorkingDays(1);
    ok(&mut t, Action::QueueForDispatch { policy }, &agent(), t0());
    ok(
        &mut t,
        Action::Dispatch {
            lead: LEAD,
            co: vec![],
        },
        &agent(),
        t0(),
    );
    ok(&mut t, Action::Sign { assignment: 0 }, &liaison(LEAD), t0());
    ok(
        &mut t,
        Action::RecordContact {
            assignment: 0,
            at: h(1),
            method: ContactMethod::Phone,
        },
        &liaison(LEAD),
        h(1),
    );
    // Resolve: Monday 09:00 → Wednesday 00:00 (39 h); 80 % ≈ 31 h.
    let ev = t.handle_timeout(h(32));
    assert!(ev.iter().any(|e| matches!(e, Event::SupervisionRaised { supervision } if supervision.level == SupervisionLevel::Urge)));
    ok(
        &mut t,
        request(RequestKind::Extension { days: 2 }),
        &liaison(LEAD),
        h(33),
    );
    ok(&mut t, decide(0, true), &agent(), h(33));
    // The next rung is under the new due date, not a retroactive burst.
    assert!(t.handle_timeout(h(33)).is_empty());
    let next = t.poll_timeout().expect("re-armed");
    assert!(next > h(33));
}

#[test]
fn actions_and_events_serialise_snake_case() {
    let a = Action::Request {
        assignment: 0,
        kind: RequestKind::Extension { days: 2 },
        reason: "rain".into(),
    };
    let j = serde_json::to_value(&a).expect("json");
    assert_eq!(j["action"], "request");
    assert_eq!(j["kind"]["extension"]["days"], 2);
    let back: Action = serde_json::from_value(j).expect("back");
    assert_eq!(back, a);
    let j = serde_json::to_value(Event::StateChanged {
        from: TicketState::PendingDispatch,
        to: TicketState::HandedOff,
    })
    .expect("json");
    assert_eq!(j["event"], "state_changed");
    assert_eq!(j["to"], "handed_off");
    let t = at(TicketState::InProgress);
    let back: Ticket = serde_json::from_str(&serde_json::to_string(&t).expect("ser")).expect("de");
    assert_eq!(back, t);
}

#[test]
fn close_and_reopen_from_pending_callback() {
    let mut t = at(TicketState::PendingCallback);
    let ev = ok(
        &mut t,
        Action::Close {
            note: "caller unreachable after 3 attempts".into(),
        },
        &sup(),
        h(30),
    );
    assert!(changed_to(&ev, TicketState::Closed));
    assert!(t.clocks.iter().all(|c| c.stopped_at.is_some()));

    let mut t = at(TicketState::PendingCallback);
    let ev = ok(
        &mut t,
        Action::Reopen {
            reason: "reply was wrong".into(),
        },
        &admin(),
        h(30),
    );
    assert!(changed_to(&ev, TicketState::Dispatched));
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::ClockStopped {
            kind: ClockKind::Callback,
            ..
        }
    )));
    assert_eq!(t.assignments[0].state, AssignmentState::Dispatched);
    assert_eq!(t.assignments[0].reopen_count, 1);
}

#[test]
fn child_extension_cannot_pass_parent_due() {
    let mut t = at(TicketState::InProgress);
    ok(
        &mut t,
        Action::SubDispatch {
            parent: 0,
            unit: STREET,
            due: None,
        },
        &liaison(LEAD),
        h(3),
    );
    ok(
        &mut t,
        Action::Sign { assignment: 2 },
        &liaison(STREET),
        h(4),
    );
    let ask = |days| Action::Request {
        assignment: 2,
        kind: RequestKind::Extension { days },
        reason: "rain".into(),
    };
    let e = err(&mut t, ask(1), &liaison(STREET), h(5));
    assert!(
        matches!(e, WorkflowError::Invalid(ref r) if r.contains("parent")),
        "{e}"
    );
    // With the parent extended first, the child fits; the parent unit decides, not the centre.
    ok(
        &mut t,
        request(RequestKind::Extension { days: 3 }),
        &liaison(LEAD),
        h(5),
    );
    ok(&mut t, decide(0, true), &agent(), h(5));
    ok(&mut t, ask(2), &liaison(STREET), h(6));
    let d = Action::Decide {
        assignment: 2,
        request: 0,
        approve: true,
        note: "ok".into(),
    };
    assert!(matches!(
        err(&mut t, d.clone(), &agent(), h(6)),
        WorkflowError::Forbidden(_)
    ));
    let ev = ok(&mut t, d, &liaison(LEAD), h(6));
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::DueMoved {
            assignment: Some(2),
            ..
        }
    )));
}

#[test]
fn co_unit_works_alongside_the_lead() {
    let mut t = at(TicketState::Dispatched);
    // The co-unit signs before the lead: the ticket waits for the lead.
    let ev = ok(&mut t, Action::Sign { assignment: 1 }, &liaison(CO), h(1));
    assert!(!ev.iter().any(|e| matches!(e, Event::StateChanged { .. })));
    ok(
        &mut t,
        Action::Reply {
            assignment: 1,
            reply: reply(),
        },
        &liaison(CO),
        h(2),
    );
    assert_eq!(t.state, TicketState::Dispatched);
    ok(
        &mut t,
        Action::Review {
            assignment: 1,
            approve: true,
            note: String::new(),
        },
        &agent(),
        h(3),
    );
    assert_eq!(t.assignments[1].state, AssignmentState::Done);
    // A co-unit's return leaves the lead in charge.
    let mut t = at(TicketState::InProgress);
    ok(
        &mut t,
        Action::Request {
            assignment: 1,
            kind: RequestKind::Return,
            reason: "not ours".into(),
        },
        &liaison(CO),
        h(1),
    );
    ok(
        &mut t,
        Action::Decide {
            assignment: 1,
            request: 0,
            approve: true,
            note: "ok".into(),
        },
        &agent(),
        h(2),
    );
    assert_eq!(t.state, TicketState::InProgress);
    assert_eq!(t.assignments[1].state, AssignmentState::Returned);
    assert_eq!(t.assignments[0].state, AssignmentState::Signed);
}
