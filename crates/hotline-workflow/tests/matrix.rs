//! The complete state × action matrix of [`Ticket::apply`], and a role matrix beside it.
//!
//! One ticket is built in each of the 12 states through legal actions only ([`ticket_in`]); every one of the 20
//! action kinds is then applied to a clone, with data that is valid wherever the action is legal and an actor whose
//! role may do it, so that the ticket state is the only reason for a refusal. The expected tables below are the
//! spec, written out by hand from the state machine's rules (crate docs, `WORKING`, each action's allowed states).
//! A mismatch lists every differing cell at once.
//!
//! The fixture behind the working states (dispatched, in progress, replied) and everything after them:
//!
//! | assignment | unit | role | state                                   | used by                              |
//! |------------|------|------|-----------------------------------------|--------------------------------------|
//! | 0          | 10   | lead | drives the ticket state                 | reopen                               |
//! | 1          | 11   | co   | signed                                  | sub_dispatch, record_contact, reply, request |
//! | 2          | 12   | co   | dispatched, one pending 协办 request    | sign, decide                         |
//! | 3          | 13   | co   | replied                                 | review                               |
//!
//! Co-units are used for the working actions because their work (and so the action's data) stays valid in all
//! three working states; the lead's own sign / reply / review are each valid in one state only and are covered
//! step by step in `workflow.rs`.

use chrono::{DateTime, Duration, TimeZone, Utc};
use hotline_workflow::*;

mod common;
use common::*;
use TicketState as S;

const NUMBER: &str = "2026030200001";
const MASTER: &str = "2026030200099";
const DUPLICATE: &str = "2026030200098";

/// Lead unit, assignment 0.
const LEAD: UnitId = 10;
/// Co-unit with signed work, assignment 1.
const CO_SIGNED: UnitId = 11;
/// Co-unit still to sign, with a pending co-handling request, assignment 2.
const CO_DISPATCHED: UnitId = 12;
/// Co-unit whose reply waits for review, assignment 3.
const CO_REPLIED: UnitId = 13;
/// Below CO_SIGNED, for sub-dispatch.
const STREET: UnitId = 20;
const STREET2: UnitId = 21;
/// Units brought in by co-handling requests.
const HELPER: UnitId = 50;
const HELPER2: UnitId = 51;
const HELPER3: UnitId = 52;
/// A unit with nothing to do with the ticket.
const STRANGER: UnitId = 99;

const A_LEAD: AssignmentId = 0;
const A_SIGNED: AssignmentId = 1;
const A_DISPATCHED: AssignmentId = 2;
const A_REPLIED: AssignmentId = 3;

const ALL_STATES: [S; 12] = [
    S::Draft,
    S::Accepted,
    S::PendingDispatch,
    S::Dispatched,
    S::InProgress,
    S::Replied,
    S::PendingCallback,
    S::Closed,
    S::Merged,
    S::HandedOff,
    S::Rejected,
    S::Archived,
];

/// Monday 2026-03-02 09:00 UTC.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

fn h(n: i64) -> DateTime<Utc> {
    t0() + Duration::hours(n)
}

/// When the fixture is built.
fn setup_time() -> DateTime<Utc> {
    h(2)
}

/// When the matrix's actions are tried.
fn now() -> DateTime<Utc> {
    h(3)
}

fn admin() -> Actor {
    Actor::new("root", Role::Admin)
}
fn agent() -> Actor {
    Actor::new("agent1", Role::Agent)
}
fn sup() -> Actor {
    Actor::new("sup1", Role::Supervisor)
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

fn satisfied_callback() -> Action {
    Action::Callback {
        attempt: CallbackAttempt {
            reached: true,
            resolved: Some(true),
            grade: GradeScale::three_level().grade("satisfied").cloned(),
            comment: "asked the caller".into(),
            unit_caused: false,
        },
    }
}

fn co_handling(assignment: AssignmentId, unit: UnitId) -> Action {
    Action::Request {
        assignment,
        kind: RequestKind::CoHandling { unit },
        reason: "needs another unit".into(),
    }
}

/// The legal steps from a fresh draft to `state`.
fn steps_to(state: S) -> Vec<(Action, Actor)> {
    let mut steps = match state {
        S::Draft => return Vec::new(),
        S::Accepted => steps_to(S::Draft),
        S::PendingDispatch => steps_to(S::Accepted),
        S::Dispatched => steps_to(S::PendingDispatch),
        S::InProgress => steps_to(S::Dispatched),
        S::Replied => steps_to(S::InProgress),
        S::PendingCallback => steps_to(S::Replied),
        S::Closed => steps_to(S::PendingCallback),
        S::Archived => steps_to(S::Closed),
        S::Merged | S::HandedOff | S::Rejected => steps_to(S::Accepted),
    };
    let more: Vec<(Action, Actor)> = match state {
        S::Draft => unreachable!(),
        S::Accepted => vec![(Action::Accept, agent())],
        S::PendingDispatch => vec![(
            Action::QueueForDispatch {
                policy: SlaPolicy::shandong(),
            },
            agent(),
        )],
        S::Dispatched => vec![
            (
                Action::Dispatch {
                    lead: LEAD,
                    co: vec![CO_SIGNED, CO_DISPATCHED, CO_REPLIED],
                },
                agent(),
            ),
            (
                Action::Sign {
                    assignment: A_SIGNED,
                },
                liaison(CO_SIGNED),
            ),
            (co_handling(A_DISPATCHED, HELPER), liaison(CO_DISPATCHED)),
            (
                Action::Sign {
                    assignment: A_REPLIED,
                },
                liaison(CO_REPLIED),
            ),
            (
                Action::Reply {
                    assignment: A_REPLIED,
                    reply: reply(),
                },
                liaison(CO_REPLIED),
            ),
        ],
        S::InProgress => vec![(Action::Sign { assignment: A_LEAD }, liaison(LEAD))],
        S::Replied => vec![(
            Action::Reply {
                assignment: A_LEAD,
                reply: reply(),
            },
            liaison(LEAD),
        )],
        S::PendingCallback => vec![(
            Action::Review {
                assignment: A_LEAD,
                approve: true,
                note: String::new(),
            },
            agent(),
        )],
        S::Closed => vec![(satisfied_callback(), agent())],
        S::Archived => vec![(Action::Archive, sup())],
        S::Merged => vec![(
            Action::MergeInto {
                master: MASTER.into(),
            },
            agent(),
        )],
        S::HandedOff => vec![(
            Action::HandOff {
                to: EmergencyService::Police110,
                note: "fire reported".into(),
            },
            agent(),
        )],
        S::Rejected => vec![(
            Action::Reject {
                reason: "out of scope".into(),
            },
            agent(),
        )],
    };
    steps.extend(more);
    steps
}

/// A ticket in `state`, reached through legal actions only.
fn ticket_in(state: S) -> Ticket {
    let mut t = Ticket::new(
        NUMBER,
        Channel::Voice,
        TicketType::Help,
        Urgency::Normal,
        t0(),
    );
    for (a, who) in steps_to(state) {
        let name = a.name();
        if let Err(e) = t.apply(a, &who, setup_time(), &CAL) {
            panic!(
                "building {state:?}: {name} by {:?} in {:?} failed: {e}",
                who.role, t.state
            );
        }
    }
    assert_eq!(t.state, state, "ticket_in({state:?})");
    t
}

/// Each action kind with data valid in every state where the kind is legal, and an actor allowed to do it.
fn action(name: &str) -> (Action, Actor) {
    match name {
        "accept" => (Action::Accept, agent()),
        "close_at_intake" => (
            Action::CloseAtIntake {
                answer: "Opening hours are 9 to 5.".into(),
            },
            agent(),
        ),
        "queue_for_dispatch" => (
            Action::QueueForDispatch {
                policy: SlaPolicy::shandong(),
            },
            agent(),
        ),
        "dispatch" => (
            Action::Dispatch {
                lead: LEAD,
                co: vec![],
            },
            agent(),
        ),
        "hand_off" => (
            Action::HandOff {
                to: EmergencyService::Fire119,
                note: "smoke".into(),
            },
            agent(),
        ),
        "reject" => (
            Action::Reject {
                reason: "out of scope".into(),
            },
            agent(),
        ),
        "sign" => (
            Action::Sign {
                assignment: A_DISPATCHED,
            },
            liaison(CO_DISPATCHED),
        ),
        "sub_dispatch" => (
            Action::SubDispatch {
                parent: A_SIGNED,
                unit: STREET,
                due: None,
            },
            liaison(CO_SIGNED),
        ),
        "record_contact" => (
            Action::RecordContact {
                assignment: A_SIGNED,
                at: now(),
                method: ContactMethod::Phone,
            },
            liaison(CO_SIGNED),
        ),
        "reply" => (
            Action::Reply {
                assignment: A_SIGNED,
                reply: reply(),
            },
            liaison(CO_SIGNED),
        ),
        "review" => (
            Action::Review {
                assignment: A_REPLIED,
                approve: true,
                note: String::new(),
            },
            agent(),
        ),
        "request" => (co_handling(A_SIGNED, HELPER2), liaison(CO_SIGNED)),
        "decide" => (
            Action::Decide {
                assignment: A_DISPATCHED,
                request: 0,
                approve: true,
                note: "agreed".into(),
            },
            agent(),
        ),
        "callback" => (satisfied_callback(), agent()),
        "close" => (
            Action::Close {
                note: "caller unreachable".into(),
            },
            sup(),
        ),
        "reopen" => (
            Action::Reopen {
                reason: "not fixed".into(),
            },
            sup(),
        ),
        "supervise" => (
            Action::Supervise {
                assignment: None,
                level: SupervisionLevel::Supervise,
                reason: "slow".into(),
            },
            sup(),
        ),
        "merge_into" => (
            Action::MergeInto {
                master: MASTER.into(),
            },
            agent(),
        ),
        "absorb_duplicate" => (
            Action::AbsorbDuplicate {
                duplicate: DUPLICATE.into(),
            },
            agent(),
        ),
        "archive" => (Action::Archive, sup()),
        _ => panic!("no action {name}"),
    }
}

/// The spec: for each action kind, every state where it is legal and the state it leads to. In every state not
/// listed the action is refused with [`WorkflowError::Conflict`] and the ticket is unchanged.
/// 20 actions × 12 states = 240 cells.
#[rustfmt::skip]
const STATE_MATRIX: &[(&str, &[(S, S)])] = &[
    // Intake.
    ("accept",             &[(S::Draft, S::Accepted)]),
    ("close_at_intake",    &[(S::Accepted, S::Closed)]),
    ("queue_for_dispatch", &[(S::Accepted, S::PendingDispatch)]),
    ("dispatch",           &[(S::PendingDispatch, S::Dispatched)]),
    ("hand_off",           &[(S::Draft, S::HandedOff),
                             (S::Accepted, S::HandedOff),
                             (S::PendingDispatch, S::HandedOff)]),
    ("reject",             &[(S::Draft, S::Rejected),
                             (S::Accepted, S::Rejected),
                             (S::PendingDispatch, S::Rejected)]),
    // The units' work: legal while units work (WORKING); a co-unit's action leaves the ticket state alone.
    ("sign",               &[(S::Dispatched, S::Dispatched),
                             (S::InProgress, S::InProgress),
                             (S::Replied, S::Replied)]),
    ("sub_dispatch",       &[(S::Dispatched, S::Dispatched),
                             (S::InProgress, S::InProgress),
                             (S::Replied, S::Replied)]),
    ("record_contact",     &[(S::Dispatched, S::Dispatched),
                             (S::InProgress, S::InProgress),
                             (S::Replied, S::Replied)]),
    ("reply",              &[(S::Dispatched, S::Dispatched),
                             (S::InProgress, S::InProgress),
                             (S::Replied, S::Replied)]),
    ("review",             &[(S::Dispatched, S::Dispatched),
                             (S::InProgress, S::InProgress),
                             (S::Replied, S::Replied)]),
    ("request",            &[(S::Dispatched, S::Dispatched),
                             (S::InProgress, S::InProgress),
                             (S::Replied, S::Replied)]),
    ("decide",             &[(S::Dispatched, S::Dispatched),
                             (S::InProgress, S::InProgress),
                             (S::Replied, S::Replied)]),
    // Callback and after.
    ("callback",           &[(S::PendingCallback, S::Closed)]),
    ("close",              &[(S::PendingCallback, S::Closed)]),
    // Closed is final (`is_final`: "only archiving is left") yet may be reopened: kept as the code has it.
    ("reopen",             &[(S::PendingCallback, S::Dispatched),
                             (S::Closed, S::Dispatched)]),
    // Not while waiting for the callback: there is no open work left to press.
    ("supervise",          &[(S::PendingDispatch, S::PendingDispatch),
                             (S::Dispatched, S::Dispatched),
                             (S::InProgress, S::InProgress),
                             (S::Replied, S::Replied)]),
    ("merge_into",         &[(S::Draft, S::Merged),
                             (S::Accepted, S::Merged),
                             (S::PendingDispatch, S::Merged)]),
    // A deny-list in the code (not merged, archived, rejected, handed off), so a closed ticket, final, may still
    // absorb a duplicate: kept as the code has it.
    ("absorb_duplicate",   &[(S::Draft, S::Draft),
                             (S::Accepted, S::Accepted),
                             (S::PendingDispatch, S::PendingDispatch),
                             (S::Dispatched, S::Dispatched),
                             (S::InProgress, S::InProgress),
                             (S::Replied, S::Replied),
                             (S::PendingCallback, S::PendingCallback),
                             (S::Closed, S::Closed)]),
    ("archive",            &[(S::Closed, S::Archived),
                             (S::Merged, S::Archived),
                             (S::HandedOff, S::Archived),
                             (S::Rejected, S::Archived)]),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    To(S),
    Conflict,
}

fn expected(legal: &[(S, S)], state: S) -> Expect {
    legal
        .iter()
        .find(|(from, _)| *from == state)
        .map_or(Expect::Conflict, |(_, to)| Expect::To(*to))
}

#[test]
fn ticket_in_reaches_every_state() {
    for s in ALL_STATES {
        assert_eq!(ticket_in(s).state, s);
    }
    // The fixture the working actions rely on.
    let t = ticket_in(S::Dispatched);
    let states: Vec<(UnitId, AssignmentState, usize)> = t
        .assignments
        .iter()
        .map(|a| (a.unit, a.state, a.requests.len()))
        .collect();
    assert_eq!(
        states,
        vec![
            (LEAD, AssignmentState::Dispatched, 0),
            (CO_SIGNED, AssignmentState::Signed, 0),
            (CO_DISPATCHED, AssignmentState::Dispatched, 1),
            (CO_REPLIED, AssignmentState::Replied, 0),
        ]
    );
}

#[test]
fn the_state_matrix_covers_every_action_once() {
    let names: Vec<&str> = STATE_MATRIX.iter().map(|(n, _)| *n).collect();
    let mut distinct = names.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), names.len(), "an action is listed twice");
    assert_eq!(names.len(), 20, "Action has 20 kinds");
    for (name, legal) in STATE_MATRIX {
        assert_eq!(action(name).0.name(), *name);
        for (i, (from, _)) in legal.iter().enumerate() {
            assert!(
                !legal[..i].iter().any(|(f, _)| f == from),
                "{name}: {from:?} listed twice"
            );
        }
    }
}

#[test]
fn state_by_action_matrix() {
    let tickets: Vec<(S, Ticket)> = ALL_STATES.iter().map(|&s| (s, ticket_in(s))).collect();
    let mut cells = 0;
    let mut mismatches = Vec::new();
    for (name, legal) in STATE_MATRIX {
        let (a, who) = action(name);
        for (state, ticket) in &tickets {
            cells += 1;
            let want = expected(legal, *state);
            let mut t = ticket.clone();
            let got = match t.apply(a.clone(), &who, now(), &CAL) {
                Ok(_) => format!("{:?}", Expect::To(t.state)),
                Err(WorkflowError::Conflict(msg)) => {
                    if t != *ticket {
                        mismatches.push(format!(
                            "{state:?} × {name}: refused but changed the ticket"
                        ));
                    }
                    format!("{:?} ({msg})", Expect::Conflict)
                }
                Err(e) => format!("{e:?}"),
            };
            let matches = match want {
                Expect::To(_) => got == format!("{want:?}"),
                Expect::Conflict => got.starts_with("Conflict ("),
            };
            if !matches {
                mismatches.push(format!("{state:?} × {name}: expected {want:?}, got {got}"));
            }
        }
    }
    assert_eq!(cells, 240);
    assert!(
        mismatches.is_empty(),
        "{} of {cells} cells differ from the spec:\n  {}",
        mismatches.len(),
        mismatches.join("\n  ")
    );
}

/// Allowed / forbidden.
const Y: bool = true;
const N: bool = false;

/// The role spec: for each action, in a state where it is legal, whether each of
/// [Admin, Agent, Supervisor, UnitLiaison(own unit), UnitLiaison(other unit)] may do it; a refusal is
/// [`WorkflowError::Forbidden`]. "Own unit" is the unit whose business the action is (see [`role_case`]): the
/// assignment's unit for the units' work, the reviewing parent unit for a sub-dispatched reply or request, the
/// lead unit for centre actions.
#[rustfmt::skip]
const ROLE_MATRIX: &[(&str, [bool; 5])] = &[
    //                               admin agent sup  own  other
    ("accept",                      [Y,    Y,    Y,   N,   N]),
    ("close_at_intake",             [Y,    Y,    Y,   N,   N]),
    ("queue_for_dispatch",          [Y,    Y,    Y,   N,   N]),
    ("dispatch",                    [Y,    Y,    Y,   N,   N]),
    ("hand_off",                    [Y,    Y,    Y,   N,   N]),
    ("reject",                      [Y,    Y,    Y,   N,   N]),
    // An admin may act for any unit (e.g. entering a paper reply); agents and supervisors may not.
    ("sign",                        [Y,    N,    N,   Y,   N]),
    ("sub_dispatch",                [Y,    N,    N,   Y,   N]),
    ("record_contact",              [Y,    N,    N,   Y,   N]),
    ("reply",                       [Y,    N,    N,   Y,   N]),
    // A top-level reply is reviewed by the centre, never by the unit that wrote it ("own").
    ("review top-level",            [Y,    Y,    Y,   N,   N]),
    // A sub-dispatched reply by the parent unit ("own"), not by the child that wrote it ("other").
    ("review sub-dispatched",       [Y,    N,    N,   Y,   N]),
    ("request",                     [Y,    N,    N,   Y,   N]),
    // A top-level request is decided by the centre, not by the unit that asked ("own").
    ("decide top-level",            [Y,    Y,    Y,   N,   N]),
    // A sub-dispatched request by the parent unit ("own"), not by the child that asked ("other").
    ("decide sub-dispatched",       [Y,    N,    N,   Y,   N]),
    ("callback",                    [Y,    Y,    Y,   N,   N]),
    ("close",                       [Y,    N,    Y,   N,   N]),
    ("reopen",                      [Y,    N,    Y,   N,   N]),
    // Agents urge; supervise and notice carry weight.
    ("supervise urge",              [Y,    Y,    Y,   N,   N]),
    ("supervise supervise",         [Y,    N,    Y,   N,   N]),
    ("supervise notice",            [Y,    N,    Y,   N,   N]),
    ("merge_into",                  [Y,    Y,    Y,   N,   N]),
    ("absorb_duplicate",            [Y,    Y,    Y,   N,   N]),
    ("archive",                     [Y,    N,    Y,   N,   N]),
];

/// An in-progress ticket where unit 11 passed work down to two streets: 20 (assignment 4) signed and replied,
/// 21 (assignment 5) signed and asked for co-handling.
fn with_sub_dispatch() -> Ticket {
    let mut t = ticket_in(S::InProgress);
    let steps = [
        (
            Action::SubDispatch {
                parent: A_SIGNED,
                unit: STREET,
                due: None,
            },
            liaison(CO_SIGNED),
        ),
        (
            Action::SubDispatch {
                parent: A_SIGNED,
                unit: STREET2,
                due: None,
            },
            liaison(CO_SIGNED),
        ),
        (Action::Sign { assignment: 4 }, liaison(STREET)),
        (
            Action::Reply {
                assignment: 4,
                reply: reply(),
            },
            liaison(STREET),
        ),
        (Action::Sign { assignment: 5 }, liaison(STREET2)),
        (co_handling(5, HELPER3), liaison(STREET2)),
    ];
    for (a, who) in steps {
        let name = a.name();
        if let Err(e) = t.apply(a, &who, setup_time(), &CAL) {
            panic!("sub-dispatch fixture: {name} by {:?} failed: {e}", who.role);
        }
    }
    t
}

/// For a role-matrix row: a ticket where the action is legal, the action, the "own" unit and the "other" unit.
fn role_case(row: &str) -> (Ticket, Action, UnitId, UnitId) {
    let supervise = |level| Action::Supervise {
        assignment: None,
        level,
        reason: "slow".into(),
    };
    let plain =
        |name: &str, state: S, own: UnitId| (ticket_in(state), action(name).0, own, STRANGER);
    match row {
        "accept" | "hand_off" | "reject" | "merge_into" | "absorb_duplicate" => {
            plain(row, S::Draft, LEAD)
        }
        "close_at_intake" | "queue_for_dispatch" => plain(row, S::Accepted, LEAD),
        "dispatch" => plain(row, S::PendingDispatch, LEAD),
        "sign" => plain(row, S::InProgress, CO_DISPATCHED),
        "sub_dispatch" | "record_contact" | "reply" | "request" => {
            plain(row, S::InProgress, CO_SIGNED)
        }
        "review top-level" => plain("review", S::InProgress, CO_REPLIED),
        "decide top-level" => plain("decide", S::InProgress, CO_DISPATCHED),
        "review sub-dispatched" => (
            with_sub_dispatch(),
            Action::Review {
                assignment: 4,
                approve: true,
                note: String::new(),
            },
            CO_SIGNED,
            STREET,
        ),
        "decide sub-dispatched" => (
            with_sub_dispatch(),
            Action::Decide {
                assignment: 5,
                request: 0,
                approve: true,
                note: "agreed".into(),
            },
            CO_SIGNED,
            STREET2,
        ),
        "callback" | "close" | "reopen" => plain(row, S::PendingCallback, LEAD),
        "supervise urge" => (
            ticket_in(S::InProgress),
            supervise(SupervisionLevel::Urge),
            LEAD,
            STRANGER,
        ),
        "supervise supervise" => (
            ticket_in(S::InProgress),
            supervise(SupervisionLevel::Supervise),
            LEAD,
            STRANGER,
        ),
        "supervise notice" => (
            ticket_in(S::InProgress),
            supervise(SupervisionLevel::Notice),
            LEAD,
            STRANGER,
        ),
        "archive" => plain(row, S::Closed, LEAD),
        _ => panic!("no role case {row}"),
    }
}

#[test]
fn role_by_action_matrix() {
    let mut cells = 0;
    let mut mismatches = Vec::new();
    for (row, allowed) in ROLE_MATRIX {
        let (ticket, a, own, other) = role_case(row);
        let actors = [
            ("admin", admin()),
            ("agent", agent()),
            ("supervisor", sup()),
            ("liaison(own)", liaison(own)),
            ("liaison(other)", liaison(other)),
        ];
        for ((who_name, who), want) in actors.iter().zip(allowed) {
            cells += 1;
            let mut t = ticket.clone();
            let got = match t.apply(a.clone(), who, now(), &CAL) {
                Ok(_) => "allowed".to_string(),
                Err(WorkflowError::Forbidden(_)) if t == ticket => "forbidden".to_string(),
                Err(e) => format!("{e:?}"),
            };
            let want = if *want { "allowed" } else { "forbidden" };
            if got != want {
                mismatches.push(format!(
                    "{row} in {:?} by {who_name}: expected {want}, got {got}",
                    ticket.state
                ));
            }
        }
    }
    assert_eq!(cells, ROLE_MATRIX.len() * 5);
    assert!(
        mismatches.is_empty(),
        "{} of {cells} cells differ from the spec:\n  {}",
        mismatches.len(),
        mismatches.join("\n  ")
    );
}

#[test]
fn the_role_matrix_covers_every_action() {
    let mut covered: Vec<&str> = ROLE_MATRIX
        .iter()
        .map(|(row, _)| role_case(row).1.name())
        .collect();
    covered.sort_unstable();
    covered.dedup();
    let mut all: Vec<&str> = STATE_MATRIX.iter().map(|(n, _)| *n).collect();
    all.sort_unstable();
    assert_eq!(covered, all);
}
