//! The urgent on-site clock (紧急到场) and the first-response clock (首次响应), with the same fake Monday–Friday
//! calendar as tests/workflow.rs.

use chrono::{DateTime, Duration, TimeZone, Utc};
use hotline_workflow::*;

mod common;
use common::*;

const LEAD: UnitId = 10;
const CO: UnitId = 11;
const STREET: UnitId = 20;

/// Monday 2026-03-02 09:00 UTC.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
}

fn m(n: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(n)
}

fn s(n: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(n)
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

fn contact(assignment: AssignmentId, at: DateTime<Utc>, method: ContactMethod) -> Action {
    Action::RecordContact {
        assignment,
        at,
        method,
    }
}

fn reply(contacted_at: Option<DateTime<Utc>>, method: Option<ContactMethod>) -> Action {
    Action::Reply {
        assignment: 0,
        reply: Reply {
            contacted_at,
            contact_method: method,
            outcome: Outcome::Resolved,
            public_text: "The burst main was shut off.".into(),
            internal_notes: String::new(),
        },
    }
}

/// The on-site clocks started or stopped in `ev`, as (assignment, stopped, overdue).
fn onsite_events(ev: &[Event]) -> Vec<(Option<AssignmentId>, bool, bool)> {
    ev.iter()
        .filter_map(|e| match e {
            Event::ClockStarted {
                kind: ClockKind::OnSite,
                assignment,
                ..
            } => Some((*assignment, false, false)),
            Event::ClockStopped {
                kind: ClockKind::OnSite,
                assignment,
                overdue,
                ..
            } => Some((*assignment, true, *overdue)),
            _ => None,
        })
        .collect()
}

/// A ticket of `urgency` dispatched at t0 under `policy` to LEAD and `co`.
fn dispatched_with(urgency: Urgency, policy: SlaPolicy, co: Vec<UnitId>) -> (Ticket, Vec<Event>) {
    let mut t = Ticket::new(
        "2026030200001",
        Channel::Voice,
        TicketType::Help,
        urgency,
        t0(),
    );
    ok(&mut t, Action::Accept, &agent(), t0());
    ok(&mut t, Action::QueueForDispatch { policy }, &agent(), t0());
    let ev = ok(&mut t, Action::Dispatch { lead: LEAD, co }, &agent(), t0());
    (t, ev)
}

fn dispatched(urgency: Urgency, co: Vec<UnitId>) -> (Ticket, Vec<Event>) {
    dispatched_with(urgency, SlaPolicy::shandong(), co)
}

#[test]
fn urgent_dispatch_starts_an_on_site_clock_per_top_level_assignment() {
    for urgency in [Urgency::Urgent, Urgency::Critical] {
        let (mut t, ev) = dispatched(urgency, vec![CO]);
        assert_eq!(
            onsite_events(&ev),
            vec![(Some(0), false, false), (Some(1), false, false)],
            "{urgency:?}"
        );
        for a in [0, 1] {
            let c = t.clock(ClockKind::OnSite, Some(a)).expect("on-site clock");
            assert_eq!((c.start, c.due), (t0(), m(30)));
            // It escalates like sign and resolve: 通报 one working day after the due time.
            assert_eq!(
                c.notice_at,
                Some(Utc.with_ymd_and_hms(2026, 3, 4, 0, 0, 0).unwrap())
            );
        }
        // Work passed down answers to its parent: no on-site clock of its own.
        ok(&mut t, Action::Sign { assignment: 0 }, &liaison(LEAD), m(1));
        let ev = ok(
            &mut t,
            Action::SubDispatch {
                parent: 0,
                unit: STREET,
                due: None,
            },
            &liaison(LEAD),
            m(2),
        );
        assert!(onsite_events(&ev).is_empty());
        assert!(t.clock(ClockKind::OnSite, Some(2)).is_none());
    }
}

#[test]
fn a_visit_stops_the_on_site_clock_a_phone_call_does_not() {
    let (mut t, _) = dispatched(Urgency::Urgent, vec![CO]);
    ok(&mut t, Action::Sign { assignment: 0 }, &liaison(LEAD), m(2));
    // A phone call is a first contact, not being on site.
    let ev = ok(
        &mut t,
        contact(0, m(5), ContactMethod::Phone),
        &liaison(LEAD),
        m(5),
    );
    assert!(onsite_events(&ev).is_empty());
    assert!(t.clock(ClockKind::FirstContact, Some(0)).is_none());
    assert!(t.clock(ClockKind::OnSite, Some(0)).is_some());
    // The crew arrives at 25 min and the liaison records it at 28: stopped on time, at the visit.
    let ev = ok(
        &mut t,
        contact(0, m(25), ContactMethod::Visit),
        &liaison(LEAD),
        m(28),
    );
    assert_eq!(onsite_events(&ev), vec![(Some(0), true, false)]);
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::ClockStopped { kind: ClockKind::OnSite, at, .. } if *at == m(25)
    )));
    assert!(t.clock(ClockKind::OnSite, Some(0)).is_none());
    // The co-unit's clock is its own and still runs; its visit at 40 min is late.
    assert!(t.clock(ClockKind::OnSite, Some(1)).is_some());
    let ev = ok(
        &mut t,
        contact(1, m(40), ContactMethod::Visit),
        &liaison(CO),
        m(41),
    );
    assert_eq!(onsite_events(&ev), vec![(Some(1), true, true)]);
}

#[test]
fn a_reply_made_on_site_stops_the_clock_a_phone_reply_does_not() {
    let (mut t, _) = dispatched(Urgency::Urgent, vec![]);
    ok(&mut t, Action::Sign { assignment: 0 }, &liaison(LEAD), m(1));
    let mut phone = t.clone();
    let ev = ok(
        &mut phone,
        reply(Some(m(10)), Some(ContactMethod::Phone)),
        &liaison(LEAD),
        m(12),
    );
    assert!(onsite_events(&ev).is_empty());
    assert!(phone.clock(ClockKind::OnSite, Some(0)).is_some());
    let ev = ok(
        &mut t,
        reply(Some(m(20)), Some(ContactMethod::Visit)),
        &liaison(LEAD),
        m(50),
    );
    assert_eq!(onsite_events(&ev), vec![(Some(0), true, false)]);
}

#[test]
fn a_visit_by_the_unit_the_work_was_passed_to_counts() {
    let (mut t, _) = dispatched(Urgency::Urgent, vec![]);
    ok(&mut t, Action::Sign { assignment: 0 }, &liaison(LEAD), m(1));
    ok(
        &mut t,
        Action::SubDispatch {
            parent: 0,
            unit: STREET,
            due: None,
        },
        &liaison(LEAD),
        m(2),
    );
    let ev = ok(
        &mut t,
        contact(1, m(15), ContactMethod::Visit),
        &liaison(STREET),
        m(15),
    );
    assert_eq!(onsite_events(&ev), vec![(Some(0), true, false)]);
}

#[test]
fn on_site_clock_warns_urges_and_supervises_at_due() {
    let (mut t, _) = dispatched(Urgency::Urgent, vec![]);
    // 30 min: warn 15; warn and 催办 24; 督办 30. The day-long clocks are far away.
    let mut seen = Vec::new();
    while let Some(next) = t.poll_timeout() {
        if next > m(60) {
            break;
        }
        assert!(t.handle_timeout(next - Duration::seconds(1)).is_empty());
        for e in t.handle_timeout(next) {
            let what = match e {
                Event::Warning { kind, percent, .. } => format!("warn {kind:?} {percent}"),
                Event::SupervisionRaised { supervision } => {
                    assert!(supervision.automatic);
                    assert_eq!(supervision.assignment, Some(0));
                    format!("{:?}", supervision.level)
                }
                other => format!("{other:?}"),
            };
            seen.push(((next - t0()).num_minutes(), what));
        }
    }
    let expect: Vec<(i64, String)> = vec![
        (15, "warn OnSite 50".into()),
        (24, "warn OnSite 80".into()),
        (24, "Urge".into()),
        (30, "Supervise".into()),
    ];
    assert_eq!(seen, expect);
    assert_eq!(
        t.supervisions.last().map(|s| (s.level, s.reason.as_str())),
        Some((SupervisionLevel::Supervise, "automatic: OnSite clock"))
    );
    // A late visit stops it overdue; the 通报 a working day later no longer comes.
    let ev = ok(
        &mut t,
        contact(0, m(45), ContactMethod::Visit),
        &liaison(LEAD),
        m(45),
    );
    assert_eq!(onsite_events(&ev), vec![(Some(0), true, true)]);
    let notices = t
        .handle_timeout(Utc.with_ymd_and_hms(2026, 3, 4, 0, 0, 0).unwrap())
        .iter()
        .filter(|e| matches!(e, Event::SupervisionRaised { supervision } if supervision.level == SupervisionLevel::Notice))
        .count();
    // The on-site 通报 would have been due then; sign (1 WD, due that same instant) is only at its 督办.
    assert_eq!(notices, 0);
}

#[test]
fn normal_urgency_or_no_on_site_rule_starts_no_clock() {
    let (t, ev) = dispatched(Urgency::Normal, vec![CO]);
    assert!(onsite_events(&ev).is_empty());
    assert!(t.clocks.iter().all(|c| c.kind != ClockKind::OnSite));

    let mut policy = SlaPolicy::laishan();
    policy.onsite_urgent = None;
    let (t, ev) = dispatched_with(Urgency::Critical, policy, vec![]);
    assert!(onsite_events(&ev).is_empty());
    assert!(t.clocks.iter().all(|c| c.kind != ClockKind::OnSite));
}

#[test]
fn every_preset_has_the_30_minute_on_site_rule() {
    for p in [
        SlaPolicy::laishan(),
        SlaPolicy::changchun(),
        SlaPolicy::guangdong(),
        SlaPolicy::shandong(),
    ] {
        assert_eq!(p.onsite_urgent, Some(Sla::Minutes(30)));
        assert_eq!(p.onsite(Urgency::Normal), None);
        assert_eq!(p.onsite(Urgency::Urgent), Some(Sla::Minutes(30)));
        assert_eq!(p.onsite(Urgency::Critical), Some(Sla::Minutes(30)));
    }
}

#[test]
fn a_policy_stored_before_the_on_site_rule_still_loads() {
    let mut j = serde_json::to_value(SlaPolicy::shandong()).expect("json");
    assert_eq!(j["onsite_urgent"]["minutes"], 30);
    j.as_object_mut().expect("object").remove("onsite_urgent");
    let old: SlaPolicy = serde_json::from_value(j.clone()).expect("old policy");
    assert_eq!(old.onsite_urgent, Some(Sla::Minutes(30)));
    assert_eq!(old, SlaPolicy::shandong());

    // A stored null means the centre switched the rule off.
    j["onsite_urgent"] = serde_json::Value::Null;
    let off: SlaPolicy = serde_json::from_value(j).expect("null");
    assert_eq!(off.onsite_urgent, None);

    // A whole ticket snapshot written before the change (policy without the field) loads and keeps working.
    let (t, _) = dispatched(Urgency::Normal, vec![]);
    let mut snap = serde_json::to_value(&t).expect("snapshot");
    snap["policy"]
        .as_object_mut()
        .expect("policy")
        .remove("onsite_urgent");
    let mut back: Ticket = serde_json::from_value(snap).expect("old snapshot");
    assert_eq!(back, t);
    ok(
        &mut back,
        Action::Sign { assignment: 0 },
        &liaison(LEAD),
        m(5),
    );
}

#[test]
fn approval_stops_the_on_site_clock_and_a_reopen_does_not_restart_it() {
    let (mut t, _) = dispatched(Urgency::Urgent, vec![]);
    ok(&mut t, Action::Sign { assignment: 0 }, &liaison(LEAD), m(1));
    // Answered by phone only: nobody went on site, so the clock runs past its due time…
    ok(
        &mut t,
        reply(Some(m(10)), Some(ContactMethod::Phone)),
        &liaison(LEAD),
        m(20),
    );
    assert!(t.clock(ClockKind::OnSite, Some(0)).is_some());
    // …until the centre accepts the handling; it stops overdue.
    let ev = ok(
        &mut t,
        Action::Review {
            assignment: 0,
            approve: true,
            note: String::new(),
        },
        &agent(),
        m(60),
    );
    assert_eq!(onsite_events(&ev), vec![(Some(0), true, true)]);
    let ev = ok(
        &mut t,
        Action::Reopen {
            reason: "the water is back".into(),
        },
        &sup(),
        m(90),
    );
    assert!(onsite_events(&ev).is_empty());
    assert!(t.clock(ClockKind::OnSite, Some(0)).is_none());
    assert!(t.clock(ClockKind::Resolve, Some(0)).is_some());
    assert_eq!(
        t.clocks
            .iter()
            .filter(|c| c.kind == ClockKind::OnSite)
            .count(),
        1
    );
}

fn text_ticket() -> Ticket {
    Ticket::new(
        "2026030200002",
        Channel::Wechat,
        TicketType::Consult,
        Urgency::Normal,
        t0(),
    )
}

#[test]
fn first_response_clock_runs_from_creation_and_warns_without_a_policy() {
    let mut t = text_ticket();
    assert_eq!(t.poll_timeout(), None);
    let ev = t.start_first_response(m(3));
    assert_eq!(
        ev,
        vec![Event::ClockStarted {
            clock: 0,
            kind: ClockKind::FirstResponse,
            assignment: None,
            start: t0(),
            due: m(3),
        }]
    );
    assert!(t.policy.is_none());
    // Default warnings: 50 % at 90 s, 80 % at 144 s; no supervision for a centre clock.
    assert_eq!(t.poll_timeout(), Some(s(90)));
    assert!(t.handle_timeout(s(89)).is_empty());
    assert_eq!(
        t.handle_timeout(s(90)),
        vec![Event::Warning {
            clock: 0,
            kind: ClockKind::FirstResponse,
            assignment: None,
            percent: 50,
        }]
    );
    assert_eq!(t.poll_timeout(), Some(s(144)));
    let ev = t.handle_timeout(m(10));
    assert!(matches!(
        &ev[..],
        [Event::Warning {
            kind: ClockKind::FirstResponse,
            percent: 80,
            ..
        }]
    ));
    assert_eq!(t.poll_timeout(), None);
    assert!(t.supervisions.is_empty());
    // Accepted at 4 min: one minute late.
    let ev = ok(&mut t, Action::Accept, &agent(), m(4));
    assert!(ev.contains(&Event::ClockStopped {
        clock: 0,
        kind: ClockKind::FirstResponse,
        assignment: None,
        at: m(4),
        overdue: true,
    }));
    assert!(t.clock(ClockKind::FirstResponse, None).is_none());
}

#[test]
fn first_response_on_time_and_started_only_once_on_a_draft() {
    let mut t = text_ticket();
    assert_eq!(t.start_first_response(m(3)).len(), 1);
    // Idempotent: a second start does nothing.
    assert!(t.start_first_response(m(5)).is_empty());
    assert_eq!(t.clocks.len(), 1);
    let ev = ok(&mut t, Action::Accept, &agent(), m(2));
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::ClockStopped {
            kind: ClockKind::FirstResponse,
            overdue: false,
            ..
        }
    )));
    // Past the draft the first response has happened; nothing starts.
    let mut late = text_ticket();
    ok(&mut late, Action::Accept, &agent(), m(1));
    assert!(late.start_first_response(m(3)).is_empty());
    assert!(late.clocks.is_empty());
}

#[test]
fn first_response_stops_on_any_first_centre_action() {
    let actions = [
        Action::HandOff {
            to: EmergencyService::Police110,
            note: "fight in progress".into(),
        },
        Action::Reject {
            reason: "not a government matter".into(),
        },
        Action::MergeInto {
            master: "2026030200001".into(),
        },
    ];
    for a in actions {
        let mut t = text_ticket();
        t.start_first_response(m(3));
        let ev = ok(&mut t, a.clone(), &agent(), m(1));
        let stopped: Vec<_> = ev
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    Event::ClockStopped {
                        kind: ClockKind::FirstResponse,
                        overdue: false,
                        ..
                    }
                )
            })
            .collect();
        assert_eq!(stopped.len(), 1, "{}: {ev:?}", a.name());
        assert_eq!(t.poll_timeout(), None);
    }
    // A refused action answers nothing: the clock keeps running.
    let mut t = text_ticket();
    t.start_first_response(m(3));
    assert!(t.apply(Action::Accept, &liaison(LEAD), m(1), &CAL).is_err());
    assert!(t.clock(ClockKind::FirstResponse, None).is_some());
}

#[test]
fn new_clock_kinds_serialise_snake_case() {
    assert_eq!(
        serde_json::to_value(ClockKind::OnSite).expect("json"),
        "on_site"
    );
    assert_eq!(
        serde_json::to_value(ClockKind::FirstResponse).expect("json"),
        "first_response"
    );
    let mut t = text_ticket();
    t.start_first_response(m(3));
    let back: Ticket = serde_json::from_str(&serde_json::to_string(&t).expect("ser")).expect("de");
    assert_eq!(back, t);
}
