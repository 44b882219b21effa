//! The callback list (回拨 / 漏接回拨) on SQLite and PostgreSQL (see `common`).

#[macro_use]
mod common;

use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use common::*;
use hotline_tickets::*;

suite!(
    create_and_get,
    create_for_unknown_ticket_is_not_found,
    missed_deduplicates_against_any_pending_entry,
    concurrent_missed_entries_make_one,
    list_filters_and_pages,
    list_rejects_bad_paging,
    update_sets_only_some_and_counts_attempts,
    update_unknown_is_callback_not_found,
    pending_oldest_first_and_reset_dialing,
);

/// A ticket for `caller` and a callback entry request for it.
async fn new_cb(
    s: &TicketStore,
    caller: &str,
    kind: CallbackKind,
    at: DateTime<Utc>,
) -> NewCallback {
    let tk = s.create_voice(new_ticket(caller, at)).await.unwrap();
    NewCallback {
        ticket_id: tk.id,
        caller: caller.into(),
        line: "12345".into(),
        queue: "general".into(),
        kind,
        created_at: at,
    }
}

async fn create_and_get(db: &TestDb) {
    let s = db.store().await;
    let at = t("2026-11-23T03:00:00.123456789Z");
    let n = new_cb(&s, "13800000000", CallbackKind::Requested, at).await;
    let cb = s.create_callback(n.clone()).await.unwrap();
    assert_eq!(cb.ticket_id, n.ticket_id);
    assert_eq!(cb.caller, "13800000000");
    assert_eq!((cb.line.as_str(), cb.queue.as_str()), ("12345", "general"));
    assert_eq!(cb.kind, CallbackKind::Requested);
    assert_eq!(cb.status, CallbackStatus::Pending);
    // Microseconds kept, like tickets; updated_at starts at created_at.
    assert_eq!(cb.created_at, t("2026-11-23T03:00:00.123456Z"));
    assert_eq!(cb.updated_at, cb.created_at);
    assert_eq!(cb.attempts, 0);
    assert_eq!((cb.agent_id.clone(), cb.last_result.clone()), (None, None));
    assert_eq!(s.get_callback(cb.id).await.unwrap(), Some(cb.clone()));
    assert_eq!(s.get_callback(cb.id + 1000).await.unwrap(), None);

    let v = serde_json::to_value(&cb).unwrap();
    assert_eq!(v["kind"], "requested");
    assert_eq!(v["status"], "pending");
    assert_eq!(v["attempts"], 0);
    assert!(v["created_at"].as_str().unwrap().ends_with('Z'));
}

async fn create_for_unknown_ticket_is_not_found(db: &TestDb) {
    let s = db.store().await;
    let e = s
        .create_callback(NewCallback {
            ticket_id: 4242,
            caller: "1".into(),
            line: "12345".into(),
            queue: "general".into(),
            kind: CallbackKind::Missed,
            created_at: Utc::now(),
        })
        .await
        .unwrap_err();
    assert!(matches!(e, TicketError::NotFound(4242)), "{e:?}");
    assert_eq!(
        s.list_callbacks(&CallbackFilter::default())
            .await
            .unwrap()
            .total,
        0
    );
}

async fn missed_deduplicates_against_any_pending_entry(db: &TestDb) {
    let s = db.store().await;
    let at = t("2026-11-23T03:00:00Z");
    let min = Duration::minutes(1);

    // A pending request: a later missed call of the same number returns it, untouched.
    let req = s
        .create_callback(new_cb(&s, "A", CallbackKind::Requested, at).await)
        .await
        .unwrap();
    let again = s
        .create_callback(new_cb(&s, "A", CallbackKind::Missed, at + min).await)
        .await
        .unwrap();
    assert_eq!(again, req);

    // A pending missed entry: likewise.
    let m1 = s
        .create_callback(new_cb(&s, "B", CallbackKind::Missed, at).await)
        .await
        .unwrap();
    let m2 = s
        .create_callback(new_cb(&s, "B", CallbackKind::Missed, at + min).await)
        .await
        .unwrap();
    assert_eq!(m2, m1);
    assert_eq!(m2.kind, CallbackKind::Missed);

    // An explicit request is always recorded (documented), even with one pending.
    let req_b = s
        .create_callback(new_cb(&s, "B", CallbackKind::Requested, at + min * 2).await)
        .await
        .unwrap();
    assert_ne!(req_b.id, m1.id);

    // Only *pending* entries absorb a missed call: once dialing or done, a new one is created.
    s.update_callback(
        m1.id,
        CallbackUpdate {
            status: Some(CallbackStatus::Dialing),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    s.update_callback(
        req_b.id,
        CallbackUpdate {
            status: Some(CallbackStatus::Connected),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let m3 = s
        .create_callback(new_cb(&s, "B", CallbackKind::Missed, at + min * 3).await)
        .await
        .unwrap();
    assert!(m3.id != m1.id && m3.id != req_b.id);
    assert_eq!(m3.status, CallbackStatus::Pending);

    // Other numbers are independent.
    let c = s
        .create_callback(new_cb(&s, "C", CallbackKind::Missed, at).await)
        .await
        .unwrap();
    assert!(![req.id, m1.id, req_b.id, m3.id].contains(&c.id));
    assert_eq!(
        s.list_callbacks(&CallbackFilter::default())
            .await
            .unwrap()
            .total,
        5
    );
}

async fn concurrent_missed_entries_make_one(db: &TestDb) {
    let s = db.store().await;
    let at = t("2026-11-23T03:00:00Z");
    let mut news = Vec::new();
    for i in 0..12 {
        news.push(new_cb(&s, "D", CallbackKind::Missed, at + Duration::seconds(i)).await);
    }
    let tasks: Vec<_> = news
        .into_iter()
        .map(|n| {
            let s = s.clone();
            tokio::spawn(async move { s.create_callback(n).await })
        })
        .collect();
    let mut ids = Vec::new();
    for task in futures::future::join_all(tasks).await {
        ids.push(task.unwrap().unwrap().id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(s.pending_callbacks().await.unwrap().len(), 1);
}

async fn list_filters_and_pages(db: &TestDb) {
    let s = db.store().await;
    let at = t("2026-11-23T03:00:00Z");
    // Seven entries one minute apart, distinct callers; kinds alternate, every third failed.
    let mut ids = Vec::new();
    for i in 0..7 {
        let kind = if i % 2 == 0 {
            CallbackKind::Missed
        } else {
            CallbackKind::Requested
        };
        let n = new_cb(&s, &format!("c{i}"), kind, at + Duration::minutes(i)).await;
        let cb = s.create_callback(n).await.unwrap();
        if i % 3 == 0 {
            s.update_callback(
                cb.id,
                CallbackUpdate {
                    status: Some(CallbackStatus::Failed),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        }
        ids.push(cb.id);
    }
    let mut newest_first = ids.clone();
    newest_first.reverse();
    let list = |f: CallbackFilter| {
        let s = s.clone();
        async move { s.list_callbacks(&f).await.unwrap() }
    };
    let idsof = |p: &Page<Callback>| p.items.iter().map(|c| c.id).collect::<Vec<_>>();

    let all = list(CallbackFilter::default()).await;
    assert_eq!(
        (all.total, all.page, all.per_page),
        (7, 1, DEFAULT_PER_PAGE)
    );
    assert_eq!(idsof(&all), newest_first);

    let p2 = list(CallbackFilter {
        page: Some(2),
        per_page: Some(3),
        ..Default::default()
    })
    .await;
    assert_eq!(p2.total, 7);
    assert_eq!(idsof(&p2), newest_first[3..6]);
    let p3 = list(CallbackFilter {
        page: Some(3),
        per_page: Some(3),
        ..Default::default()
    })
    .await;
    assert_eq!(idsof(&p3), newest_first[6..]);
    let capped = list(CallbackFilter {
        per_page: Some(100_000),
        ..Default::default()
    })
    .await;
    assert_eq!(capped.per_page, MAX_PER_PAGE);

    // i = 0, 3, 6 failed; missed = 0, 2, 4, 6.
    let failed = list(CallbackFilter {
        status: Some(CallbackStatus::Failed),
        ..Default::default()
    })
    .await;
    assert_eq!(idsof(&failed), [ids[6], ids[3], ids[0]]);
    let missed = list(CallbackFilter {
        kind: Some(CallbackKind::Missed),
        ..Default::default()
    })
    .await;
    assert_eq!(idsof(&missed), [ids[6], ids[4], ids[2], ids[0]]);
    let pending_missed = list(CallbackFilter {
        status: Some(CallbackStatus::Pending),
        kind: Some(CallbackKind::Missed),
        per_page: Some(1),
        ..Default::default()
    })
    .await;
    assert_eq!(pending_missed.total, 2);
    assert_eq!(idsof(&pending_missed), [ids[4]]);

    // The API deserializes its query string into the filter.
    let f: CallbackFilter = serde_json::from_value(serde_json::json!({
        "status": "dialing", "kind": "requested", "page": 2
    }))
    .unwrap();
    assert_eq!(f.status, Some(CallbackStatus::Dialing));
    assert_eq!(f.kind, Some(CallbackKind::Requested));
    assert_eq!(f.page, Some(2));
    assert_eq!(
        CallbackStatus::from_str("connected").unwrap(),
        CallbackStatus::Connected
    );
    assert!(matches!(
        CallbackKind::from_str("asked"),
        Err(TicketError::InvalidFilter(_))
    ));
}

async fn list_rejects_bad_paging(db: &TestDb) {
    let s = db.store().await;
    for f in [
        CallbackFilter {
            page: Some(0),
            ..Default::default()
        },
        CallbackFilter {
            per_page: Some(0),
            ..Default::default()
        },
    ] {
        let e = s.list_callbacks(&f).await.unwrap_err();
        assert!(matches!(e, TicketError::InvalidFilter(_)), "{f:?}: {e:?}");
    }
}

async fn update_sets_only_some_and_counts_attempts(db: &TestDb) {
    let s = db.store().await;
    let at = t("2026-11-23T03:00:00Z");
    let cb = s
        .create_callback(new_cb(&s, "E", CallbackKind::Missed, at).await)
        .await
        .unwrap();

    let u = s
        .update_callback(
            cb.id,
            CallbackUpdate {
                status: Some(CallbackStatus::Dialing),
                agent_id: Some("1001".into()),
                add_attempt: true,
                updated_at: Some(at + Duration::seconds(60)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(u.status, CallbackStatus::Dialing);
    assert_eq!(u.agent_id.as_deref(), Some("1001"));
    assert_eq!(u.attempts, 1);
    assert_eq!(u.updated_at, at + Duration::seconds(60));
    assert_eq!(u.created_at, at);

    let u = s
        .update_callback(
            cb.id,
            CallbackUpdate {
                status: Some(CallbackStatus::Pending),
                last_result: Some("busy".into()),
                updated_at: Some(at + Duration::seconds(90)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(u.attempts, 1, "no attempt added");
    assert_eq!(u.agent_id.as_deref(), Some("1001"), "untouched field kept");
    assert_eq!(u.last_result.as_deref(), Some("busy"));

    let u = s
        .update_callback(
            cb.id,
            CallbackUpdate {
                status: Some(CallbackStatus::Connected),
                agent_id: Some("1002".into()),
                last_result: Some("answered".into()),
                add_attempt: true,
                updated_at: Some(at + Duration::seconds(300)),
            },
        )
        .await
        .unwrap();
    assert_eq!(u.status, CallbackStatus::Connected);
    assert_eq!(
        u.agent_id.as_deref(),
        Some("1002"),
        "the last agent set wins"
    );
    assert_eq!(u.last_result.as_deref(), Some("answered"));
    assert_eq!(u.attempts, 2);
    assert_eq!(s.get_callback(cb.id).await.unwrap(), Some(u.clone()));

    // Without a time, updated_at is now.
    let before = Utc::now() - Duration::seconds(1);
    let u = s
        .update_callback(cb.id, CallbackUpdate::default())
        .await
        .unwrap();
    assert!(u.updated_at >= before, "{} < {before}", u.updated_at);
    assert_eq!(u.attempts, 2);
}

async fn update_unknown_is_callback_not_found(db: &TestDb) {
    let s = db.store().await;
    let e = s
        .update_callback(
            4242,
            CallbackUpdate {
                status: Some(CallbackStatus::Failed),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(e, TicketError::CallbackNotFound(4242)), "{e:?}");
    assert_eq!(e.to_string(), "callback 4242 not found");
}

async fn pending_oldest_first_and_reset_dialing(db: &TestDb) {
    let s = db.store().await;
    let at = t("2026-11-23T03:00:00Z");
    assert!(s.pending_callbacks().await.unwrap().is_empty());
    // Created out of time order: pending is by created_at, not by id.
    let mut by_caller = Vec::new();
    for (caller, mins) in [("F", 5), ("G", 1), ("H", 3), ("I", 2)] {
        let kind = if caller == "G" {
            CallbackKind::Requested
        } else {
            CallbackKind::Missed
        };
        let n = new_cb(&s, caller, kind, at + Duration::minutes(mins)).await;
        by_caller.push(s.create_callback(n).await.unwrap());
    }
    let [f, g, h, i] = &by_caller[..] else {
        unreachable!()
    };
    // H is done, I is being dialed: neither is pending.
    s.update_callback(
        h.id,
        CallbackUpdate {
            status: Some(CallbackStatus::Failed),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    s.update_callback(
        i.id,
        CallbackUpdate {
            status: Some(CallbackStatus::Dialing),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let pending: Vec<i64> = s
        .pending_callbacks()
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(pending, [g.id, f.id]);

    // After a crash mid-dial, start-up puts dialing entries back to pending.
    let restart = at + Duration::hours(1);
    assert_eq!(s.reset_dialing_callbacks(restart).await.unwrap(), 1);
    let pending = s.pending_callbacks().await.unwrap();
    assert_eq!(
        pending.iter().map(|c| c.id).collect::<Vec<_>>(),
        [g.id, i.id, f.id]
    );
    assert_eq!(pending[1].updated_at, restart);
    assert_eq!(s.reset_dialing_callbacks(restart).await.unwrap(), 0);
}
