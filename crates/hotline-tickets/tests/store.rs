//! The core ticket suite, run against SQLite and, when `HOTLINE_TEST_PG_URL` is set, PostgreSQL
//! (see `common`).

#[macro_use]
mod common;

use chrono::{Duration, Utc};
use common::*;
use hotline_tickets::*;
use serde_json::json;

suite!(
    create_and_get,
    numbers_per_local_day,
    concurrent_numbers_unique_and_sequential,
    update_sets_only_some_and_keeps_first_agent,
    update_unknown_is_not_found,
    interactions_roundtrip,
    list_filters_and_pages,
    list_rejects_bad_filters,
    survives_reopen,
    find_by_call_id,
);

async fn create_and_get(db: &TestDb) {
    let s = db.store().await;
    // Nanoseconds are dropped (PostgreSQL keeps microseconds): returned == stored.
    let at = t("2026-11-23T01:02:03.123456789Z");
    let tk = s.create_voice(new_ticket("13800000000", at)).await.unwrap();
    assert_eq!(tk.number, "20261123-000001");
    assert_eq!(tk.channel, "voice");
    assert_eq!(tk.caller, "13800000000");
    assert_eq!(tk.created_at, t("2026-11-23T01:02:03.123456Z"));
    assert_eq!(tk.disposition, None);
    assert_eq!(tk.agent_id, None);
    let d = s.get(tk.id).await.unwrap().unwrap();
    assert_eq!(d.ticket, tk);
    assert!(d.interactions.is_empty());
    assert!(s.get(tk.id + 1000).await.unwrap().is_none());

    let v = serde_json::to_value(&d).unwrap();
    assert_eq!(v["number"], "20261123-000001");
    assert_eq!(v["disposition"], serde_json::Value::Null);
    assert_eq!(v["interactions"], json!([]));
    assert!(v["created_at"].as_str().unwrap().ends_with('Z'));
}

async fn numbers_per_local_day(db: &TestDb) {
    let s = db.store().await;
    // 15:59:59Z is still 23:59:59 on the 22nd in UTC+8; 16:00Z is the 23rd.
    let a = s
        .create_voice(new_ticket("1", t("2026-11-22T15:59:59Z")))
        .await
        .unwrap();
    let b = s
        .create_voice(new_ticket("2", t("2026-11-22T16:00:00Z")))
        .await
        .unwrap();
    let c = s
        .create_voice(new_ticket("3", t("2026-11-23T10:00:00Z")))
        .await
        .unwrap();
    let d = s
        .create_voice(new_ticket("4", t("2026-11-22T12:00:00Z")))
        .await
        .unwrap();
    assert_eq!(a.number, "20261122-000001");
    assert_eq!(b.number, "20261123-000001");
    assert_eq!(c.number, "20261123-000002");
    assert_eq!(d.number, "20261122-000002");
}

async fn concurrent_numbers_unique_and_sequential(db: &TestDb) {
    let s = db.store().await;
    let at = t("2026-11-23T03:00:00Z");
    let n = 60;
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                s.create_voice(new_ticket(&format!("c{i}"), at + Duration::milliseconds(i)))
                    .await
            })
        })
        .collect();
    let mut numbers = Vec::new();
    for task in futures::future::join_all(tasks).await {
        numbers.push(task.unwrap().unwrap().number);
    }
    numbers.sort();
    let expected: Vec<String> = (1..=n).map(|i| format!("20261123-{i:06}")).collect();
    assert_eq!(numbers, expected);
}

async fn update_sets_only_some_and_keeps_first_agent(db: &TestDb) {
    let s = db.store().await;
    let at = t("2026-11-23T03:00:00Z");
    let tk = s.create_voice(new_ticket("1", at)).await.unwrap();
    let u = s
        .update_call(
            tk.id,
            CallUpdate {
                queue: Some("general".into()),
                queued_at: Some(at + Duration::seconds(10)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(u.queue.as_deref(), Some("general"));
    assert_eq!(u.queued_at, Some(at + Duration::seconds(10)));
    assert_eq!(u.answered_at, None);

    let u = s
        .update_call(
            tk.id,
            CallUpdate {
                answered_at: Some(at + Duration::seconds(25)),
                agent_id: Some("1001".into()),
                wait_secs: Some(15.5),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(u.agent_id.as_deref(), Some("1001"));
    assert_eq!(u.queue.as_deref(), Some("general"), "untouched field kept");
    assert_eq!(u.wait_secs, Some(15.5));

    // Transferred to another agent: the first-contact owner stays.
    let u = s
        .update_call(
            tk.id,
            CallUpdate {
                agent_id: Some("1002".into()),
                ended_at: Some(at + Duration::seconds(90)),
                disposition: Some(Disposition::Answered),
                talk_secs: Some(65.0),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(u.agent_id.as_deref(), Some("1001"));
    assert_eq!(u.disposition, Some(Disposition::Answered));
    assert_eq!(u.talk_secs, Some(65.0));
    assert_eq!(u.ended_at, Some(at + Duration::seconds(90)));
    assert_eq!(s.get(tk.id).await.unwrap().unwrap().ticket, u);
}

async fn update_unknown_is_not_found(db: &TestDb) {
    let s = db.store().await;
    let e = s
        .update_call(
            4242,
            CallUpdate {
                queue: Some("x".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(e, TicketError::NotFound(4242)), "{e:?}");
    let e = s
        .add_interaction(4242, Utc::now(), "dtmf", json!({"digit": "1"}))
        .await
        .unwrap_err();
    assert!(matches!(e, TicketError::NotFound(4242)), "{e:?}");
}

async fn interactions_roundtrip(db: &TestDb) {
    let s = db.store().await;
    let at = t("2026-11-23T03:00:00Z");
    let tk = s.create_voice(new_ticket("1", at)).await.unwrap();
    let other = s.create_voice(new_ticket("2", at)).await.unwrap();
    s.add_interaction(
        tk.id,
        at + Duration::seconds(2),
        "dtmf",
        json!({"digit": "1"}),
    )
    .await
    .unwrap();
    s.add_interaction(
        tk.id,
        at + Duration::seconds(3),
        "queued",
        json!({"queue": "general", "nested": {"a": [1, 2]}}),
    )
    .await
    .unwrap();
    s.add_interaction(other.id, at, "ended", json!(null))
        .await
        .unwrap();
    let d = s.get(tk.id).await.unwrap().unwrap();
    let kinds: Vec<_> = d.interactions.iter().map(|i| i.kind.as_str()).collect();
    assert_eq!(kinds, ["dtmf", "queued"]);
    assert_eq!(d.interactions[0].detail, json!({"digit": "1"}));
    assert_eq!(
        d.interactions[1].detail,
        json!({"queue": "general", "nested": {"a": [1, 2]}})
    );
    assert_eq!(d.interactions[1].at, at + Duration::seconds(3));
    assert!(d.interactions.iter().all(|i| i.ticket_id == tk.id));
}

async fn list_filters_and_pages(db: &TestDb) {
    let s = db.store().await;
    let day1 = t("2026-11-22T02:00:00Z"); // 2026-11-22 10:00 local
    let day2 = t("2026-11-23T02:00:00Z"); // 2026-11-23 10:00 local
    let mut ids = Vec::new();
    for i in 0..5 {
        let tk = s
            .create_voice(new_ticket("A", day1 + Duration::minutes(i)))
            .await
            .unwrap();
        ids.push(tk.id);
    }
    for i in 0..3 {
        let tk = s
            .create_voice(new_ticket("B", day2 + Duration::minutes(i)))
            .await
            .unwrap();
        ids.push(tk.id);
    }
    s.update_call(
        ids[0],
        CallUpdate {
            disposition: Some(Disposition::Abandoned),
            ..Default::default()
        },
    )
    .await
    .unwrap();

    let all = s.list(&TicketFilter::default()).await.unwrap();
    assert_eq!(all.total, 8);
    assert_eq!(all.page, 1);
    assert_eq!(all.per_page, DEFAULT_PER_PAGE);
    let got: Vec<i64> = all.items.iter().map(|t| t.id).collect();
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(got, newest_first);

    let p2 = s
        .list(&TicketFilter {
            page: Some(2),
            per_page: Some(3),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(p2.total, 8);
    assert_eq!(
        p2.items.iter().map(|t| t.id).collect::<Vec<_>>(),
        newest_first[3..6]
    );
    let beyond = s
        .list(&TicketFilter {
            page: Some(9),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(beyond.items.is_empty());
    assert_eq!(beyond.total, 8);

    let capped = s
        .list(&TicketFilter {
            per_page: Some(10_000),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(capped.per_page, MAX_PER_PAGE);

    let b = s
        .list(&TicketFilter {
            caller: Some("B".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(b.total, 3);
    assert!(b.items.iter().all(|t| t.caller == "B"));

    let ab = s
        .list(&TicketFilter {
            disposition: Some(Disposition::Abandoned),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(ab.items.iter().map(|t| t.id).collect::<Vec<_>>(), [ids[0]]);

    // Local calendar days.
    let d1 = s
        .list(&TicketFilter {
            from: Some("2026-11-22".into()),
            to: Some("2026-11-22".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(d1.total, 5);
    let d2 = s
        .list(&TicketFilter {
            from: Some("2026-11-23".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(d2.total, 3);

    // RFC 3339 bounds are inclusive.
    let r = s
        .list(&TicketFilter {
            from: Some("2026-11-22T02:01:00Z".into()),
            to: Some("2026-11-22T10:03:00+08:00".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        r.items.iter().map(|t| t.id).collect::<Vec<_>>(),
        [ids[3], ids[2], ids[1]]
    );
}

async fn list_rejects_bad_filters(db: &TestDb) {
    let s = db.store().await;
    for f in [
        TicketFilter {
            from: Some("last tuesday".into()),
            ..Default::default()
        },
        TicketFilter {
            to: Some("2026-13-01".into()),
            ..Default::default()
        },
        TicketFilter {
            page: Some(0),
            ..Default::default()
        },
        TicketFilter {
            per_page: Some(0),
            ..Default::default()
        },
    ] {
        let e = s.list(&f).await.unwrap_err();
        assert!(matches!(e, TicketError::InvalidFilter(_)), "{f:?}: {e:?}");
    }
}

async fn survives_reopen(db: &TestDb) {
    let at = t("2026-11-23T03:00:00Z");
    let (id, number) = {
        let s = db.store().await;
        let tk = s.create_voice(new_ticket("1", at)).await.unwrap();
        s.add_interaction(tk.id, at, "dtmf", json!({"digit": "9"}))
            .await
            .unwrap();
        s.close().await;
        (tk.id, tk.number)
    };
    let s = db.store().await;
    let d = s.get(id).await.unwrap().expect("ticket survives reopen");
    assert_eq!(d.ticket.number, number);
    assert_eq!(d.interactions.len(), 1);
    // The day counter survives too.
    let next = s.create_voice(new_ticket("2", at)).await.unwrap();
    assert_eq!(next.number, "20261123-000002");
}

async fn find_by_call_id(db: &TestDb) {
    let s = db.store().await;
    let mut n = new_ticket("1", t("2026-11-23T03:00:00Z"));
    n.call_id = "abc@host".into();
    let tk = s.create_voice(n).await.unwrap();
    assert_eq!(s.find_by_call_id("abc@host").await.unwrap(), Some(tk));
    assert_eq!(s.find_by_call_id("nope").await.unwrap(), None);
}

#[tokio::test]
async fn sqlite_is_wal_and_rejects_other_schemes() {
    let db = TestDb::sqlite();
    let s = db.store().await;
    s.create_voice(new_ticket("1", Utc::now())).await.unwrap();
    let TestDb::Sqlite { url, .. } = &db else {
        unreachable!()
    };
    let path = url.trim_start_matches("sqlite://");
    assert!(std::path::Path::new(&format!("{path}-wal")).exists());
    let e = TicketStore::connect("mysql://u:secret@h/db")
        .await
        .unwrap_err();
    assert!(matches!(e, TicketError::UnsupportedUrl(_)));
    assert!(!e.to_string().contains("secret"));
}

#[tokio::test]
async fn in_memory_sqlite_works() {
    let s = TicketStore::connect("sqlite::memory:").await.unwrap();
    let tk = s
        .create_voice(new_ticket("1", t("2026-11-23T03:00:00Z")))
        .await
        .unwrap();
    assert!(s.get(tk.id).await.unwrap().is_some());
}

#[test]
fn db_name_swap() {
    assert_eq!(
        with_db_name("postgres://u:p@h:5/x?sslmode=disable", "y"),
        "postgres://u:p@h:5/y?sslmode=disable"
    );
    assert_eq!(with_db_name("postgres://h", "y"), "postgres://h/y");
}

/// Not a test on its own: when `HOTLINE_TICKETS_CRASH_DB` is set, the parent test below runs this
/// binary again with only this function, which acknowledges tickets and then dies without any
/// cleanup (abort: no destructors, no pool close, no WAL checkpoint), like a kill -9.
#[tokio::test]
async fn crash_child_writer() {
    let Ok(url) = std::env::var("HOTLINE_TICKETS_CRASH_DB") else {
        return;
    };
    let s = TicketStore::connect(&url).await.unwrap();
    for i in 0..5 {
        let tk = s
            .create_voice(new_ticket(&format!("k{i}"), t("2026-11-23T03:00:00Z")))
            .await
            .unwrap();
        // Acknowledged: printed only after the commit returned.
        println!("ACK {}", tk.number);
    }
    std::process::abort();
}

#[test]
fn acknowledged_tickets_survive_abort() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/crash.db", dir.path().display());
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash_child_writer",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("HOTLINE_TICKETS_CRASH_DB", &url)
        .output()
        .unwrap();
    assert!(!out.status.success(), "child should have aborted");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let acked: Vec<&str> = stdout
        .lines()
        // The harness prints "test NAME ... " without a newline before the first line.
        .filter_map(|l| l.find("ACK ").map(|i| &l[i + 4..]))
        .collect();
    assert_eq!(acked.len(), 5, "child output: {stdout}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let s = TicketStore::connect(&url).await.unwrap();
        let page = s.list(&TicketFilter::default()).await.unwrap();
        let mut numbers: Vec<String> = page.items.into_iter().map(|t| t.number).collect();
        numbers.sort();
        assert_eq!(numbers, acked);
    });
}
