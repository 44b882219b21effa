//! The routing core's storage on SQLite and PostgreSQL (see `common`): intake, actions in one audited
//! transaction, derived columns, the liaison's work list, the SLA sweep and the audit chain.

#[macro_use]
mod common;

use chrono::{DateTime, Duration, Utc};
use common::*;
use hotline_tickets::routing::*;
use hotline_tickets::*;
use hotline_workflow::*;

suite!(
    intake_numbers_accepts_and_audits,
    full_lifecycle_sets_kpi_facts,
    refused_action_changes_nothing,
    repeat_caller_is_linked,
    liaison_work_list_and_visibility,
    sweep_fires_supervision_and_flags_overdue,
    merge_touches_both_tickets,
    audit_tampering_is_detected,
    concurrent_intake_numbers_are_unique,
    first_response_clock_warns_until_accepted,
);

/// One "working day" = 24 h: the store's behaviour, not the calendar's, is under test here.
struct Hours;
impl Clock for Hours {
    fn due(&self, start: DateTime<Utc>, sla: Sla) -> DateTime<Utc> {
        match sla {
            Sla::Minutes(m) => start + Duration::minutes(i64::from(m)),
            Sla::Hours(h) => start + Duration::hours(i64::from(h)),
            Sla::WorkingDays(d) => start + Duration::days(i64::from(d)),
        }
    }
}

fn agent() -> Actor {
    Actor::new("1001", Role::Agent)
}

fn liaison(unit: u64) -> Actor {
    Actor::new("wang", Role::UnitLiaison { unit })
}

fn t0() -> DateTime<Utc> {
    t("2026-03-02T01:00:00Z")
}

fn sms(caller: &str, major: &str) -> NewTicket {
    NewTicket {
        channel: Channel::Sms,
        caller: caller.into(),
        caller_name: Some("张先生".into()),
        anonymous: false,
        confidential: false,
        received_at: Some(t0() - Duration::minutes(2)),
        ticket_type: TicketType::Complaint,
        urgency: Urgency::Normal,
        category: Some(format!("{major}.noise")),
        category_major: Some(major.into()),
        area: Some("futian.shatou.c1".into()),
        district: Some("futian".into()),
        address: Some("沙头街道1号".into()),
        content: "夜间施工噪音扰民".into(),
        request: Some("要求停止夜间施工".into()),
        tags: vec!["噪音".into()],
        agent_id: Some("1001".into()),
        call_id: None,
        line: None,
        first_response: Some(Duration::minutes(3)),
        repeat_window_days: 7,
        accept: true,
    }
}

fn step(ticket: i64, action: Action) -> ApplyStep {
    ApplyStep { ticket, action }
}

async fn dispatch(store: &TicketStore, id: i64, lead: u64, at: DateTime<Utc>) {
    store
        .apply(
            vec![
                step(
                    id,
                    Action::QueueForDispatch {
                        policy: SlaPolicy::shandong(),
                    },
                ),
                step(id, Action::Dispatch { lead, co: vec![] }),
            ],
            &agent(),
            at,
            &Hours,
            Some("satisfied"),
        )
        .await
        .unwrap();
}

async fn ticket(store: &TicketStore, id: i64) -> hotline_tickets::Ticket {
    store.get(id).await.unwrap().unwrap().ticket
}

async fn intake_numbers_accepts_and_audits(db: &TestDb) {
    let store = db.store().await;
    let tk = store
        .create_ticket(sms("13800000001", "env"), &agent(), t0(), &Hours)
        .await
        .unwrap();
    assert_eq!(tk.number, "20260302-000001");
    assert_eq!(tk.channel, "sms");
    assert_eq!(tk.case.state, "accepted");
    assert_eq!(tk.case.ticket_type.as_deref(), Some("complaint"));
    assert_eq!(tk.case.received_at, Some(t0() - Duration::minutes(2)));
    assert_eq!(
        tk.case.first_response_due,
        Some(t0() + Duration::minutes(1))
    );
    assert_eq!(tk.case.first_response_at, Some(t0()));
    let history = store
        .audit_of(&format!("ticket:{}", tk.number))
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].action, "create");
    assert_eq!(history[0].actor, "agent:1001");
    assert_eq!(history[0].after["state"], "accepted");

    // Bad input names the field and stores nothing.
    let mut bad = sms("13800000001", "env");
    bad.content = "  ".into();
    match store.create_ticket(bad, &agent(), t0(), &Hours).await {
        Err(TicketError::Invalid { field, .. }) => assert_eq!(field, "content"),
        other => panic!("expected invalid content, got {other:?}"),
    }
    let mut future = sms("13800000001", "env");
    future.received_at = Some(t0() + Duration::hours(1));
    assert!(matches!(
        store.create_ticket(future, &agent(), t0(), &Hours).await,
        Err(TicketError::Invalid { .. })
    ));
    // A liaison does not register tickets.
    assert!(matches!(
        store
            .create_ticket(sms("1", "env"), &liaison(3), t0(), &Hours)
            .await,
        Err(TicketError::Workflow(WorkflowError::Forbidden(_)))
    ));
    assert_eq!(store.audit_page(0, 100).await.unwrap().events.len(), 1);
}

async fn full_lifecycle_sets_kpi_facts(db: &TestDb) {
    let store = db.store().await;
    let id = store
        .create_ticket(sms("13800000002", "env"), &agent(), t0(), &Hours)
        .await
        .unwrap()
        .id;
    dispatch(&store, id, 7, t0()).await;
    let tk = ticket(&store, id).await;
    assert_eq!(tk.case.state, "dispatched");
    assert_eq!(tk.case.lead_unit, Some(7));
    assert_eq!(tk.case.dispatched_at, Some(t0()));
    assert_eq!(tk.case.resolve_due, Some(t0() + Duration::days(5)));

    let t1 = t0() + Duration::hours(3);
    store
        .apply(
            vec![step(id, Action::Sign { assignment: 0 })],
            &liaison(7),
            t1,
            &Hours,
            None,
        )
        .await
        .unwrap();
    let reply = Reply {
        contacted_at: Some(t1),
        contact_method: Some(ContactMethod::Phone),
        outcome: Outcome::Resolved,
        public_text: "已责令施工单位停止夜间施工".into(),
        internal_notes: String::new(),
    };
    let t2 = t0() + Duration::days(2);
    store
        .apply(
            vec![step(
                id,
                Action::Reply {
                    assignment: 0,
                    reply,
                },
            )],
            &liaison(7),
            t2,
            &Hours,
            None,
        )
        .await
        .unwrap();
    assert_eq!(ticket(&store, id).await.case.replied_at, Some(t2));
    store
        .apply(
            vec![step(
                id,
                Action::Review {
                    assignment: 0,
                    approve: true,
                    note: String::new(),
                },
            )],
            &agent(),
            t2,
            &Hours,
            None,
        )
        .await
        .unwrap();
    let grade = GradeScale::three_level().grade("satisfied").cloned();
    let t3 = t2 + Duration::hours(5);
    store
        .apply(
            vec![step(
                id,
                Action::Callback {
                    attempt: CallbackAttempt {
                        reached: true,
                        resolved: Some(true),
                        grade,
                        comment: "满意".into(),
                        unit_caused: false,
                    },
                },
            )],
            &agent(),
            t3,
            &Hours,
            Some("satisfied"),
        )
        .await
        .unwrap();
    let tk = ticket(&store, id).await;
    assert_eq!(tk.case.state, "closed");
    assert_eq!(tk.case.closed_at, Some(t3));
    // The KPI facts the reports count.
    let facts: (bool, bool, bool, bool, i32, i32, bool) = sqlx_facts(db, id).await;
    assert_eq!(facts, (false, false, true, true, 0, 0, false));
    let actions: Vec<String> = store
        .audit_of(&format!("ticket:{}", tk.number))
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            "create",
            "queue_for_dispatch",
            "dispatch",
            "sign",
            "reply",
            "review",
            "callback"
        ]
    );
    let flow = store.workflow(id).await.unwrap().unwrap();
    assert_eq!(flow.state, TicketState::Closed);
    assert!(store.verify_audit(vec![]).await.unwrap().ok());
}

/// (sign_overdue, resolve_overdue, satisfied, satisfied_strict, returns_approved, extensions_approved,
/// closed_at_intake) as stored.
async fn sqlx_facts(db: &TestDb, id: i64) -> (bool, bool, bool, bool, i32, i32, bool) {
    let sql =
        "SELECT sign_overdue, resolve_overdue, satisfied, satisfied_strict, returns_approved, \
               extensions_approved, closed_at_intake FROM tickets WHERE id = $1";
    match db {
        TestDb::Sqlite { url, .. } => {
            let p = sqlx::SqlitePool::connect(url).await.unwrap();
            let r = sqlx::query_as(sql).bind(id).fetch_one(&p).await.unwrap();
            p.close().await;
            r
        }
        TestDb::Postgres { url, .. } => {
            let p = sqlx::PgPool::connect(url).await.unwrap();
            let r = sqlx::query_as(sql).bind(id).fetch_one(&p).await.unwrap();
            p.close().await;
            r
        }
    }
}

async fn refused_action_changes_nothing(db: &TestDb) {
    let store = db.store().await;
    let id = store
        .create_ticket(sms("13800000003", "env"), &agent(), t0(), &Hours)
        .await
        .unwrap()
        .id;
    let before = ticket(&store, id).await;
    // Queue succeeds, then sign is illegal before dispatch: the whole batch rolls back.
    let err = store
        .apply(
            vec![
                step(
                    id,
                    Action::QueueForDispatch {
                        policy: SlaPolicy::shandong(),
                    },
                ),
                step(id, Action::Sign { assignment: 0 }),
            ],
            &agent(),
            t0(),
            &Hours,
            None,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, TicketError::Workflow(WorkflowError::Conflict(_))),
        "{err:?}"
    );
    assert_eq!(ticket(&store, id).await, before);
    assert_eq!(store.audit_page(0, 100).await.unwrap().events.len(), 1);
    assert!(matches!(
        store
            .apply(
                vec![step(999, Action::Accept)],
                &agent(),
                t0(),
                &Hours,
                None
            )
            .await,
        Err(TicketError::NotFound(999))
    ));
    // Intake edits are refused once dispatched.
    dispatch(&store, id, 7, t0()).await;
    let upd = IntakeUpdate {
        content: Some("改".into()),
        ..Default::default()
    };
    assert!(matches!(
        store.update_intake(id, upd, &agent(), t0()).await,
        Err(TicketError::Workflow(WorkflowError::Conflict(_)))
    ));
}

async fn repeat_caller_is_linked(db: &TestDb) {
    let store = db.store().await;
    let first = store
        .create_ticket(sms("13800000004", "env"), &agent(), t0(), &Hours)
        .await
        .unwrap();
    let later = t0() + Duration::days(3);
    let mut again = sms("13800000004", "env");
    again.received_at = Some(later);
    let second = store
        .create_ticket(again, &agent(), later, &Hours)
        .await
        .unwrap();
    assert_eq!(second.case.repeat_of, Some(first.id));
    // Another major category, or past the window: not a repeat.
    let mut other = sms("13800000004", "traffic");
    other.received_at = Some(later);
    let third = store
        .create_ticket(other, &agent(), later, &Hours)
        .await
        .unwrap();
    assert_eq!(third.case.repeat_of, None);
    let much_later = t0() + Duration::days(30);
    let mut late = sms("13800000004", "env");
    late.received_at = Some(much_later);
    let fourth = store
        .create_ticket(late, &agent(), much_later, &Hours)
        .await
        .unwrap();
    assert_eq!(fourth.case.repeat_of, None);
}

async fn liaison_work_list_and_visibility(db: &TestDb) {
    let store = db.store().await;
    let mut confidential = sms("13800000005", "env");
    confidential.confidential = true;
    let a = store
        .create_ticket(confidential, &agent(), t0(), &Hours)
        .await
        .unwrap()
        .id;
    let b = store
        .create_ticket(sms("13800000006", "env"), &agent(), t0(), &Hours)
        .await
        .unwrap()
        .id;
    dispatch(&store, a, 7, t0()).await;
    dispatch(&store, b, 8, t0()).await;
    let list = store
        .list_assignments(&AssignmentFilter {
            unit: Some(7),
            state: Some("open".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(list.total, 1);
    assert_eq!(list.items[0].ticket_id, a);
    assert_eq!(list.items[0].caller, "", "confidential caller withheld");
    assert_eq!(list.items[0].state, "dispatched");
    assert!(store.unit_has_ticket(7, a).await.unwrap());
    assert!(!store.unit_has_ticket(7, b).await.unwrap());
    let page = store
        .list(&TicketFilter {
            unit: Some(8),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.items.iter().map(|t| t.id).collect::<Vec<_>>(), [b]);
    let page = store
        .list(&TicketFilter {
            state: Some("dispatched".into()),
            channel: Some("sms".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.total, 2);
    // Another unit's liaison cannot sign.
    let err = store
        .apply(
            vec![step(a, Action::Sign { assignment: 0 })],
            &liaison(8),
            t0(),
            &Hours,
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        TicketError::Workflow(WorkflowError::Forbidden(_))
    ));
}

async fn sweep_fires_supervision_and_flags_overdue(db: &TestDb) {
    let store = db.store().await;
    let id = store
        .create_ticket(sms("13800000007", "env"), &agent(), t0(), &Hours)
        .await
        .unwrap()
        .id;
    dispatch(&store, id, 7, t0()).await;
    // Nothing due yet.
    assert_eq!(store.fire_due(t0(), 100, None).await.unwrap(), 0);
    // The sign clock (1 day) is past due: warnings, 催办 and 督办 fire; the flag flips.
    let late = t0() + Duration::hours(25);
    assert_eq!(store.fire_due(late, 100, None).await.unwrap(), 1);
    let flow = store.workflow(id).await.unwrap().unwrap();
    let levels: Vec<SupervisionLevel> = flow.supervisions.iter().map(|s| s.level).collect();
    assert_eq!(
        levels,
        [SupervisionLevel::Urge, SupervisionLevel::Supervise],
        "{:?}",
        flow.supervisions
    );
    let list = store
        .list_assignments(&AssignmentFilter {
            unit: Some(7),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(list.items[0].sign_overdue, Some(true));
    let history = store
        .audit_of(&format!("ticket:{}", ticket(&store, id).await.number))
        .await
        .unwrap();
    let last = history.last().unwrap();
    assert_eq!(
        (last.action.as_str(), last.actor.as_str()),
        ("sla", "system:sla")
    );
    // Swept once: not again until the next rung.
    assert_eq!(store.fire_due(late, 100, None).await.unwrap(), 0);
}

async fn merge_touches_both_tickets(db: &TestDb) {
    let store = db.store().await;
    let master = store
        .create_ticket(sms("13800000008", "env"), &agent(), t0(), &Hours)
        .await
        .unwrap();
    let dup = store
        .create_ticket(sms("13800000009", "env"), &agent(), t0(), &Hours)
        .await
        .unwrap();
    store
        .apply(
            vec![
                step(
                    dup.id,
                    Action::MergeInto {
                        master: master.number.clone(),
                    },
                ),
                step(
                    master.id,
                    Action::AbsorbDuplicate {
                        duplicate: dup.number.clone(),
                    },
                ),
            ],
            &agent(),
            t0(),
            &Hours,
            None,
        )
        .await
        .unwrap();
    assert_eq!(ticket(&store, dup.id).await.case.state, "merged");
    let m = store.workflow(master.id).await.unwrap().unwrap();
    assert_eq!(m.duplicates, std::slice::from_ref(&dup.number));
    assert_eq!(store.id_of_number(&dup.number).await.unwrap(), Some(dup.id));
}

async fn audit_tampering_is_detected(db: &TestDb) {
    let store = db.store().await;
    for i in 0..3 {
        store
            .create_ticket(
                sms(&format!("1380000010{i}"), "env"),
                &agent(),
                t0(),
                &Hours,
            )
            .await
            .unwrap();
    }
    let v = store.verify_audit(vec![]).await.unwrap();
    assert!(v.ok(), "{v:?}");
    assert_eq!(v.report.as_ref().unwrap().count, 3);
    // Someone edits the second event's actor behind the engine's back.
    let sql = "UPDATE audit_events SET actor = 'agent:9999' WHERE seq = 2";
    match db {
        TestDb::Sqlite { url, .. } => {
            let p = sqlx::SqlitePool::connect(url).await.unwrap();
            sqlx::query(sql).execute(&p).await.unwrap();
            p.close().await;
        }
        TestDb::Postgres { url, .. } => {
            let p = sqlx::PgPool::connect(url).await.unwrap();
            sqlx::query(sql).execute(&p).await.unwrap();
            p.close().await;
        }
    }
    let v = store.verify_audit(vec![]).await.unwrap();
    assert!(!v.ok());
    let e = v.error.unwrap();
    assert_eq!(e.seq, 2);
    assert_eq!(e.kind, hotline_audit::VerifyErrorKind::BadHash);
}

async fn concurrent_intake_numbers_are_unique(db: &TestDb) {
    let store = db.store().await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            s.create_ticket(
                sms(&format!("1390000{i:04}"), "env"),
                &agent(),
                t0(),
                &Hours,
            )
            .await
            .unwrap()
            .number
        }));
    }
    let mut numbers = Vec::new();
    for t in tasks {
        numbers.push(t.await.unwrap());
    }
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 40);
    let v = store.verify_audit(vec![]).await.unwrap();
    assert!(v.ok(), "{v:?}");
    assert_eq!(v.report.unwrap().count, 40);
}

async fn first_response_clock_warns_until_accepted(db: &TestDb) {
    let store = db.store().await;
    let mut draft = sms("13800000200", "env");
    draft.accept = false;
    draft.received_at = Some(t0());
    let id = store
        .create_ticket(draft, &agent(), t0(), &Hours)
        .await
        .unwrap()
        .id;
    // Received at t0 with 3 minutes to answer: warnings at 90 s and 144 s.
    assert_eq!(
        store
            .fire_due(t0() + Duration::seconds(60), 10, None)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .fire_due(t0() + Duration::seconds(150), 10, None)
            .await
            .unwrap(),
        1
    );
    let number = ticket(&store, id).await.number;
    let sla: Vec<_> = store
        .audit_of(&format!("ticket:{number}"))
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "sla")
        .collect();
    assert_eq!(sla.len(), 1);
    let percents: Vec<u64> = sla[0].after["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["percent"].as_u64())
        .collect();
    assert_eq!(percents, [50, 80]);
    // Accepted after 4 minutes: the clock stops, late.
    let late = t0() + Duration::minutes(4);
    store
        .apply(vec![step(id, Action::Accept)], &agent(), late, &Hours, None)
        .await
        .unwrap();
    let flow = store.workflow(id).await.unwrap().unwrap();
    let c = flow
        .clocks
        .iter()
        .find(|c| c.kind == ClockKind::FirstResponse)
        .unwrap();
    assert_eq!(c.stopped_at, Some(late));
    assert!(c.stopped_at.unwrap() > c.due);
    assert_eq!(ticket(&store, id).await.case.first_response_at, Some(late));
}
