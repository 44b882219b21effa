//! Issue 4 on SQLite and PostgreSQL (see `common`): handoffs to 120/110/119/122/other, the new
//! ticket fields (SOS profile, location, recording), the `handed_off` disposition in statistics,
//! and tickets written before migration 0004.

#[macro_use]
mod common;

use std::borrow::Cow;
use std::path::PathBuf;
use std::str::FromStr;

use chrono::Duration;
use common::*;
use hotline_tickets::*;
use serde_json::json;

suite!(
    create_update_and_list,
    create_rejects_bad_input_and_unknown_ticket,
    update_unknown_is_none_and_partial_updates_keep_the_rest,
    ticket_detail_carries_handoffs,
    new_call_fields_roundtrip,
    handed_off_counts_offered_only,
    tickets_from_before_migration_0004_read_with_nulls,
);

fn new_handoff(ticket_id: i64, partner: &str, at: &str) -> NewHandoff {
    NewHandoff {
        ticket_id,
        partner: partner.into(),
        number: partner.into(),
        mode: HandoffMode::ThreeWay,
        agent_id: Some("1001".into()),
        dialled_at: t(at),
    }
}

async fn create_update_and_list(db: &TestDb) {
    let s = db.store().await;
    let tk = s
        .create_voice(new_ticket("139", t("2026-11-23T03:00:00Z")))
        .await
        .unwrap();
    let h = s
        .create_handoff(&new_handoff(tk.id, "120", "2026-11-23T03:01:00.123456789Z"))
        .await
        .unwrap();
    assert_eq!(h.ticket_id, tk.id);
    assert_eq!((h.partner.as_str(), h.number.as_str()), ("120", "120"));
    assert_eq!(h.mode, HandoffMode::ThreeWay);
    assert_eq!(h.agent_id.as_deref(), Some("1001"));
    // Microseconds kept, like tickets.
    assert_eq!(h.dialled_at, t("2026-11-23T03:01:00.123456Z"));
    assert_eq!(
        (
            h.answered_at,
            h.agent_left_at,
            h.ended_at,
            h.outcome,
            &h.detail
        ),
        (None, None, None, None, &None)
    );

    let answered = t("2026-11-23T03:01:08Z");
    let u = s
        .update_handoff(
            h.id,
            HandoffUpdate {
                answered_at: Some(answered),
                outcome: Some(HandoffOutcome::Connected),
                detail: Some(json!({"sip_status": 200, "note": "调度员已接听"})),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(u.answered_at, Some(answered));
    assert_eq!(u.outcome, Some(HandoffOutcome::Connected));
    assert_eq!(
        u.detail,
        Some(json!({"sip_status": 200, "note": "调度员已接听"}))
    );

    let left = t("2026-11-23T03:02:00Z");
    let ended = t("2026-11-23T03:05:00Z");
    let u = s
        .update_handoff(
            h.id,
            HandoffUpdate {
                agent_left_at: Some(left),
                ended_at: Some(ended),
                outcome: Some(HandoffOutcome::Completed),
                mode: Some(HandoffMode::AttendedTransfer),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(u.answered_at, Some(answered), "untouched field kept");
    assert_eq!((u.agent_left_at, u.ended_at), (Some(left), Some(ended)));
    assert_eq!(u.outcome, Some(HandoffOutcome::Completed));
    assert_eq!(u.mode, HandoffMode::AttendedTransfer);
    assert!(u.detail.is_some(), "detail kept");

    // A second, earlier-dialled handoff on the same ticket and one on another ticket.
    let escalation = s
        .create_handoff(&NewHandoff {
            mode: HandoffMode::Escalation,
            agent_id: None,
            ..new_handoff(tk.id, "other", "2026-11-23T03:00:30Z")
        })
        .await
        .unwrap();
    let other = s
        .create_voice(new_ticket("138", t("2026-11-23T04:00:00Z")))
        .await
        .unwrap();
    s.create_handoff(&new_handoff(other.id, "110", "2026-11-23T04:00:10Z"))
        .await
        .unwrap();

    let list = s.handoffs(tk.id).await.unwrap();
    assert_eq!(
        list.iter().map(|h| h.id).collect::<Vec<_>>(),
        [escalation.id, h.id],
        "oldest first"
    );
    assert_eq!(list[1], u);
    assert_eq!(list[0].agent_id, None);
    assert!(s.handoffs(999_999).await.unwrap().is_empty());

    let v = serde_json::to_value(&u).unwrap();
    assert_eq!(v["mode"], "attended_transfer");
    assert_eq!(v["outcome"], "completed");
    assert_eq!(v["partner"], "120");
    assert!(v["dialled_at"].as_str().unwrap().ends_with('Z'));
    let back: Handoff = serde_json::from_value(v).unwrap();
    assert_eq!(back, u);
}

async fn create_rejects_bad_input_and_unknown_ticket(db: &TestDb) {
    let s = db.store().await;
    let tk = s
        .create_voice(new_ticket("139", t("2026-11-23T03:00:00Z")))
        .await
        .unwrap();
    for partner in ["", "999", "ambulance", "120 "] {
        let e = s
            .create_handoff(&new_handoff(tk.id, partner, "2026-11-23T03:01:00Z"))
            .await
            .unwrap_err();
        assert!(
            matches!(&e, TicketError::Invalid { field, .. } if field == "partner"),
            "{partner:?}: {e:?}"
        );
    }
    for number in ["", "   ", &"1".repeat(65)] {
        let e = s
            .create_handoff(&NewHandoff {
                number: number.to_string(),
                ..new_handoff(tk.id, "other", "2026-11-23T03:01:00Z")
            })
            .await
            .unwrap_err();
        assert!(
            matches!(&e, TicketError::Invalid { field, .. } if field == "number"),
            "{number:?}: {e:?}"
        );
    }
    // Every known partner is accepted; the number is stored trimmed.
    for p in HANDOFF_PARTNERS {
        let h = s
            .create_handoff(&NewHandoff {
                number: " 02512345678 ".into(),
                ..new_handoff(tk.id, p, "2026-11-23T03:01:00Z")
            })
            .await
            .unwrap();
        assert_eq!((h.partner.as_str(), h.number.as_str()), (*p, "02512345678"));
    }
    let e = s
        .create_handoff(&new_handoff(424_242, "120", "2026-11-23T03:01:00Z"))
        .await
        .unwrap_err();
    assert!(matches!(e, TicketError::NotFound(424_242)), "{e:?}");
}

async fn update_unknown_is_none_and_partial_updates_keep_the_rest(db: &TestDb) {
    let s = db.store().await;
    assert_eq!(
        s.update_handoff(
            77,
            HandoffUpdate {
                outcome: Some(HandoffOutcome::Busy),
                ..Default::default()
            }
        )
        .await
        .unwrap(),
        None
    );
    let tk = s
        .create_voice(new_ticket("139", t("2026-11-23T03:00:00Z")))
        .await
        .unwrap();
    let h = s
        .create_handoff(&new_handoff(tk.id, "119", "2026-11-23T03:01:00Z"))
        .await
        .unwrap();
    // An empty update changes nothing and still returns the row.
    let same = s
        .update_handoff(h.id, HandoffUpdate::default())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(same, h);
    for o in HandoffOutcome::ALL {
        let u = s
            .update_handoff(
                h.id,
                HandoffUpdate {
                    outcome: Some(*o),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(u.outcome, Some(*o));
    }
    // The detail is replaced as a whole.
    for d in [json!({"a": 1}), json!({"b": [1, 2.5, "x"]})] {
        let u = s
            .update_handoff(
                h.id,
                HandoffUpdate {
                    detail: Some(d.clone()),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(u.detail, Some(d));
    }
    assert_eq!(
        HandoffMode::from_str("escalation").unwrap(),
        HandoffMode::Escalation
    );
    assert!(HandoffOutcome::from_str("hung_up").is_err());
}

async fn ticket_detail_carries_handoffs(db: &TestDb) {
    let s = db.store().await;
    let tk = s
        .create_voice(new_ticket("139", t("2026-11-23T03:00:00Z")))
        .await
        .unwrap();
    let d = s.get(tk.id).await.unwrap().unwrap();
    assert!(d.handoffs.is_empty());
    let v = serde_json::to_value(&d).unwrap();
    assert_eq!(v["handoffs"], json!([]));
    assert_eq!(v["sos_profile"], serde_json::Value::Null);
    assert_eq!(v["location"], serde_json::Value::Null);
    assert_eq!(v["recording"], serde_json::Value::Null);

    let a = s
        .create_handoff(&new_handoff(tk.id, "122", "2026-11-23T03:02:00Z"))
        .await
        .unwrap();
    let b = s
        .create_handoff(&new_handoff(tk.id, "110", "2026-11-23T03:01:00Z"))
        .await
        .unwrap();
    let d = s.get(tk.id).await.unwrap().unwrap();
    assert_eq!(d.handoffs, vec![b, a]);
    // TicketDetail JSON from before issue 4 (no "handoffs") still deserializes.
    let mut v = serde_json::to_value(&d).unwrap();
    v.as_object_mut().unwrap().remove("handoffs");
    let back: TicketDetail = serde_json::from_value(v).unwrap();
    assert!(back.handoffs.is_empty());
}

async fn new_call_fields_roundtrip(db: &TestDb) {
    let s = db.store().await;
    let tk = s
        .create_voice(new_ticket("02512345678", t("2026-11-23T03:00:00Z")))
        .await
        .unwrap();
    assert_eq!(
        (&tk.sos_profile, &tk.location, &tk.recording),
        (&None, &None, &None)
    );
    let profile = json!({
        "number": "02512345678",
        "name": "王秀英",
        "age": 82,
        "contacts": [{"name": "王强", "relation": "儿子", "number": "13900000000"}],
        "latitude": 32.0603,
        "longitude": 118.7969
    });
    let location = json!({
        "source": "pidf-lo",
        "description": "鼓楼区中山路 1 号",
        "lat": 32.0603,
        "lon": 118.7969,
        "radius_m": 35.5
    });
    let u = s
        .update_call(
            tk.id,
            CallUpdate {
                sos_profile: Some(profile.clone()),
                location: Some(location.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(u.sos_profile.as_ref(), Some(&profile));
    assert_eq!(u.location.as_ref(), Some(&location));
    assert_eq!(u.recording, None);

    // Setting another field leaves them alone; the recording path is stored as given.
    let path = "recordings/2026/11/23/20261123-000001 通话.wav";
    let u = s
        .update_call(
            tk.id,
            CallUpdate {
                recording: Some(path.into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(u.recording.as_deref(), Some(path));
    assert_eq!(u.sos_profile.as_ref(), Some(&profile));
    assert_eq!(u.location.as_ref(), Some(&location));

    // A later location (e.g. PIDF-LO after the registered address) replaces the earlier one.
    let registered = json!({"source": "registered", "description": "鼓楼区中山路 1 号"});
    let u = s
        .update_call(
            tk.id,
            CallUpdate {
                location: Some(registered.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(u.location.as_ref(), Some(&registered));

    let got = s.get(tk.id).await.unwrap().unwrap().ticket;
    assert_eq!(got, u);
    assert_eq!(
        s.find_by_call_id(&tk.call_id).await.unwrap(),
        Some(u.clone())
    );
    let page = s.list(&TicketFilter::default()).await.unwrap();
    assert_eq!(page.items, vec![u.clone()]);
    let v = serde_json::to_value(&u).unwrap();
    assert_eq!(v["sos_profile"]["name"], "王秀英");
    assert_eq!(v["location"]["source"], "registered");
    assert_eq!(v["recording"], path);
}

async fn handed_off_counts_offered_only(db: &TestDb) {
    let s = db.store().await;
    let from = t("2026-11-23T10:00:00Z");
    let to = t("2026-11-23T11:00:00Z");
    // 1: answered in 10 s; 2: abandoned after 20 s; 3: SOS escalated to 120 after 30 s.
    let mut ids = Vec::new();
    for (i, d) in [
        Disposition::Answered,
        Disposition::Abandoned,
        Disposition::HandedOff,
    ]
    .into_iter()
    .enumerate()
    {
        let queued = from + Duration::minutes(i as i64);
        let tk = s
            .create_voice(new_ticket(&format!("c{i}"), queued))
            .await
            .unwrap();
        let wait = 10.0 * (i as f64 + 1.0);
        let answered = d == Disposition::Answered;
        s.update_call(
            tk.id,
            CallUpdate {
                queue: Some("sos".into()),
                queued_at: Some(queued),
                answered_at: answered.then(|| queued + Duration::seconds(10)),
                agent_id: answered.then(|| "9001".into()),
                wait_secs: Some(wait),
                talk_secs: answered.then_some(60.0),
                ended_at: Some(queued + Duration::seconds(100)),
                disposition: Some(d),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        ids.push(tk.id);
    }
    let st = s.queue_interval_stats("sos", from, to).await.unwrap();
    assert_eq!(
        (st.offered, st.answered, st.abandoned),
        (3, 1, 1),
        "handed_off: offered, neither answered nor abandoned"
    );
    assert_eq!(st.answer_rate, Some(1.0 / 3.0));
    assert_eq!(st.asa_secs, Some(10.0), "only answered calls enter ASA");
    let ag = s.agent_interval_stats("9001", from, to).await.unwrap();
    assert_eq!(ag.answered, 1);

    // The disposition round-trips and filters.
    let got = s.get(ids[2]).await.unwrap().unwrap().ticket;
    assert_eq!(got.disposition, Some(Disposition::HandedOff));
    assert_eq!(
        serde_json::to_value(&got).unwrap()["disposition"],
        "handed_off"
    );
    let page = s
        .list(&TicketFilter {
            disposition: Some("handed_off".parse().unwrap()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        page.items.iter().map(|t| t.id).collect::<Vec<_>>(),
        [ids[2]]
    );
}

fn migrations_dir(backend: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend)
}

/// A migrator holding migrations 0001–0003: the schema before issue 4.
async fn before_0004(backend: &str) -> sqlx::migrate::Migrator {
    let mut m = sqlx::migrate::Migrator::new(migrations_dir(backend))
        .await
        .unwrap();
    assert!(
        m.migrations.len() >= 4,
        "expected 0004 among the migrations"
    );
    m.migrations = Cow::Owned(m.migrations[..3].to_vec());
    m
}

const OLD_INSERT: &str =
    "INSERT INTO tickets (number, channel, caller, line, call_id, created_at, queue, priority) \
     VALUES ('20261123-000001', 'voice', '139', '12345', 'old@host', $1, 'general', 5)";

async fn tickets_from_before_migration_0004_read_with_nulls(db: &TestDb) {
    let at = t("2026-11-23T03:00:00Z");
    match db {
        TestDb::Sqlite { url, .. } => {
            let path = url.trim_start_matches("sqlite://");
            std::fs::create_dir_all(std::path::Path::new(path).parent().unwrap()).unwrap();
            let opts = sqlx::sqlite::SqliteConnectOptions::from_str(url)
                .unwrap()
                .create_if_missing(true);
            let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
            before_0004("sqlite").await.run(&pool).await.unwrap();
            sqlx::query(OLD_INSERT)
                .bind(at)
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
        TestDb::Postgres { url, .. } => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            before_0004("postgres").await.run(&pool).await.unwrap();
            sqlx::query(OLD_INSERT)
                .bind(at)
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
    }
    let s = db.store().await;
    let old = s.find_by_call_id("old@host").await.unwrap().unwrap();
    assert_eq!(old.priority, Some(5));
    assert_eq!(
        (&old.sos_profile, &old.location, &old.recording),
        (&None, &None, &None)
    );
    let d = s.get(old.id).await.unwrap().unwrap();
    assert!(d.handoffs.is_empty());
    // Handoffs can be added to an old ticket.
    let h = s
        .create_handoff(&new_handoff(old.id, "120", "2026-11-23T03:01:00Z"))
        .await
        .unwrap();
    assert_eq!(s.get(old.id).await.unwrap().unwrap().handoffs, vec![h]);
}
