//! Issue 3 ticket fields (priority, IVR path, wrap-up time, `callback_requested`) and tickets
//! written before migration 0002, on SQLite and PostgreSQL (see `common`).

#[macro_use]
mod common;

use std::borrow::Cow;
use std::path::PathBuf;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};
use common::*;
use hotline_tickets::*;

suite!(
    new_fields_set_only_when_given,
    callback_requested_disposition_roundtrips,
    tickets_from_before_migration_0002_still_read,
);

async fn new_fields_set_only_when_given(db: &TestDb) {
    let s = db.store().await;
    let at = t("2026-11-23T03:00:00Z");
    let tk = s.create_voice(new_ticket("1", at)).await.unwrap();
    assert_eq!(
        (tk.priority, tk.ivr_path.as_deref(), tk.wrap_up_secs),
        (None, None, None)
    );

    let u = s
        .update_call(
            tk.id,
            CallUpdate {
                priority: Some(20),
                ivr_path: Some("main>2>1".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(u.priority, Some(20));
    assert_eq!(u.ivr_path.as_deref(), Some("main>2>1"));
    assert_eq!(u.wrap_up_secs, None);

    let u = s
        .update_call(
            tk.id,
            CallUpdate {
                wrap_up_secs: Some(12.25),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(u.priority, Some(20), "untouched field kept");
    assert_eq!(u.ivr_path.as_deref(), Some("main>2>1"));
    assert_eq!(u.wrap_up_secs, Some(12.25));
    // Negative priorities are valid (below the default 0).
    let u = s
        .update_call(
            tk.id,
            CallUpdate {
                priority: Some(-5),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(u.priority, Some(-5));
    assert_eq!(s.get(tk.id).await.unwrap().unwrap().ticket, u);

    let v = serde_json::to_value(&u).unwrap();
    assert_eq!(v["priority"], -5);
    assert_eq!(v["ivr_path"], "main>2>1");
    assert_eq!(v["wrap_up_secs"], 12.25);
}

async fn callback_requested_disposition_roundtrips(db: &TestDb) {
    let s = db.store().await;
    let at = t("2026-11-23T03:00:00Z");
    let a = s.create_voice(new_ticket("1", at)).await.unwrap();
    let b = s.create_voice(new_ticket("2", at)).await.unwrap();
    for (id, d) in [
        (a.id, Disposition::CallbackRequested),
        (b.id, Disposition::Abandoned),
    ] {
        s.update_call(
            id,
            CallUpdate {
                disposition: Some(d),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }
    let got = s.get(a.id).await.unwrap().unwrap().ticket;
    assert_eq!(got.disposition, Some(Disposition::CallbackRequested));
    assert_eq!(
        serde_json::to_value(&got).unwrap()["disposition"],
        "callback_requested"
    );
    let page = s
        .list(&TicketFilter {
            disposition: Some(Disposition::CallbackRequested),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.items.iter().map(|t| t.id).collect::<Vec<_>>(), [a.id]);
    // Old names keep parsing; query strings deserialize the new one.
    assert_eq!(
        Disposition::from_str("abandoned").unwrap(),
        Disposition::Abandoned
    );
    assert_eq!(
        Disposition::from_str("callback_requested").unwrap(),
        Disposition::CallbackRequested
    );
    assert!(matches!(
        Disposition::from_str("callback"),
        Err(TicketError::InvalidFilter(_))
    ));
    let f: TicketFilter =
        serde_json::from_value(serde_json::json!({"disposition": "callback_requested"})).unwrap();
    assert_eq!(f.disposition, Some(Disposition::CallbackRequested));
}

fn migrations_dir(backend: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend)
}

/// A migrator holding only migration 0001: the schema of the previous release.
async fn first_migration_only(backend: &str) -> sqlx::migrate::Migrator {
    let mut m = sqlx::migrate::Migrator::new(migrations_dir(backend))
        .await
        .unwrap();
    assert!(
        m.migrations.len() >= 2,
        "expected 0002 among the migrations"
    );
    m.migrations = Cow::Owned(m.migrations[..1].to_vec());
    m
}

/// Exactly what the previous release's `create_voice` + `update_call` stored.
const OLD_INSERT: &str =
    "INSERT INTO tickets (number, channel, caller, line, call_id, created_at, \
     queue, queued_at, answered_at, agent_id, ended_at, wait_secs, talk_secs, disposition) \
     VALUES ('20261123-000001', 'voice', '139', '12345', 'old@host', $1, 'general', $2, $3, \
     '1001', $4, 8.5, 60.0, 'answered')";
const OLD_DAY_SEQ: &str = "INSERT INTO ticket_day_seq (day, last) VALUES ('20261123', 1)";

async fn tickets_from_before_migration_0002_still_read(db: &TestDb) {
    let at = t("2026-11-23T03:00:00Z");
    let binds: [DateTime<Utc>; 4] = [
        at,
        at + Duration::seconds(2),
        at + Duration::milliseconds(10_500),
        at + Duration::milliseconds(70_500),
    ];
    match db {
        TestDb::Sqlite { url, .. } => {
            let path = url.trim_start_matches("sqlite://");
            std::fs::create_dir_all(std::path::Path::new(path).parent().unwrap()).unwrap();
            let opts = sqlx::sqlite::SqliteConnectOptions::from_str(url)
                .unwrap()
                .create_if_missing(true);
            let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
            first_migration_only("sqlite")
                .await
                .run(&pool)
                .await
                .unwrap();
            let mut q = sqlx::query(OLD_INSERT);
            for b in binds {
                q = q.bind(b);
            }
            q.execute(&pool).await.unwrap();
            sqlx::query(OLD_DAY_SEQ).execute(&pool).await.unwrap();
            pool.close().await;
        }
        TestDb::Postgres { url, .. } => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            first_migration_only("postgres")
                .await
                .run(&pool)
                .await
                .unwrap();
            let mut q = sqlx::query(OLD_INSERT);
            for b in binds {
                q = q.bind(b);
            }
            q.execute(&pool).await.unwrap();
            sqlx::query(OLD_DAY_SEQ).execute(&pool).await.unwrap();
            pool.close().await;
        }
    }

    // Opening the store applies 0002 over the old data.
    let s = db.store().await;
    let old = s.find_by_call_id("old@host").await.unwrap().unwrap();
    assert_eq!(old.number, "20261123-000001");
    assert_eq!(old.created_at, at);
    assert_eq!(old.answered_at, Some(binds[2]));
    assert_eq!(old.disposition, Some(Disposition::Answered));
    assert_eq!((old.wait_secs, old.talk_secs), (Some(8.5), Some(60.0)));
    assert_eq!(
        (old.priority, old.ivr_path, old.wrap_up_secs),
        (None, None, None)
    );
    assert_eq!(s.list(&TicketFilter::default()).await.unwrap().total, 1);

    // It counts in the statistics (no wrap-up known), and the new fields can be set on it.
    let st = s
        .queue_interval_stats("general", at, at + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!((st.offered, st.answered), (1, 1));
    assert_eq!(st.asa_secs, Some(8.5));
    assert_eq!(st.avg_wrap_up_secs, None);
    let u = s
        .update_call(
            old.id,
            CallUpdate {
                wrap_up_secs: Some(3.0),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(u.wrap_up_secs, Some(3.0));
    // The day counter of the old schema carries on.
    let next = s
        .create_voice(new_ticket("2", at + Duration::minutes(5)))
        .await
        .unwrap();
    assert_eq!(next.number, "20261123-000002");
}
