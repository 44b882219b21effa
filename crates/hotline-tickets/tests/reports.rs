//! KPI reports (`src/reports.rs`) over hand-inserted tickets with known facts, and the generator
//! (`src/generate.rs`), on SQLite and PostgreSQL.

#[macro_use]
mod common;

use chrono::{DateTime, Duration, Utc};
use common::*;
use hotline_tickets::generate::{generate, GenerateOptions};
use hotline_tickets::reports::*;

suite!(
    kpis_exact,
    grouping_across_the_china_midnight,
    filters,
    csv_of_a_report,
    generator_is_deterministic_and_counts
);

/// One hand-made ticket: only the report columns.
#[derive(Default, Clone)]
struct Fact {
    number: &'static str,
    received: Option<&'static str>,
    state: &'static str,
    channel: &'static str,
    category: Option<&'static str>,
    area: Option<&'static str>,
    unit: Option<i64>,
    dispatched: bool,
    replied: bool,
    closed: bool,
    intake: bool,
    returns: i32,
    extensions: i32,
    sign_overdue: Option<bool>,
    resolve_overdue: Option<bool>,
    callback: bool,
    reached: Option<bool>,
    resolved: Option<bool>,
    satisfied: Option<bool>,
    strict: Option<bool>,
    reopen: i32,
    repeat_of: Option<i64>,
}

const INSERT: &str = "INSERT INTO tickets (number, channel, caller, line, call_id, created_at, \
     received_at, state, category, category_major, area, lead_unit, dispatched_at, replied_at, \
     closed_at, closed_at_intake, returns_approved, extensions_approved, sign_overdue, \
     resolve_overdue, callback_at, callback_reached, caller_resolved, satisfied, satisfied_strict, \
     reopen_count, repeat_of) VALUES ($1, $2, '13800000000', '12345', $1, $3, $4, $5, $6, $7, $8, \
     $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)";

macro_rules! insert_all {
    ($pool:expr, $facts:expr) => {
        for f in $facts {
            let received = f.received.map(t);
            let at = received.unwrap_or_else(|| t("2026-03-02T00:00:00Z"));
            let later = |b: bool, h: i64| b.then(|| at + Duration::hours(h));
            sqlx::query(INSERT)
                .bind(f.number)
                .bind(if f.channel.is_empty() {
                    "voice"
                } else {
                    f.channel
                })
                .bind(at)
                .bind(received)
                .bind(if f.state.is_empty() {
                    "closed"
                } else {
                    f.state
                })
                .bind(f.category)
                .bind(f.category.and_then(|c| c.split('.').next()))
                .bind(f.area)
                .bind(f.unit)
                .bind(later(f.dispatched, 1))
                .bind(later(f.replied, 30))
                .bind(later(f.closed, 40))
                .bind(f.intake)
                .bind(f.returns)
                .bind(f.extensions)
                .bind(f.sign_overdue)
                .bind(f.resolve_overdue)
                .bind(later(f.callback, 35))
                .bind(f.reached)
                .bind(f.resolved)
                .bind(f.satisfied)
                .bind(f.strict)
                .bind(f.reopen)
                .bind(f.repeat_of)
                .execute(&$pool)
                .await
                .unwrap();
        }
    };
}

async fn insert(db: &TestDb, facts: &[Fact]) {
    match db {
        TestDb::Sqlite { url, .. } => {
            let pool = sqlx::SqlitePool::connect(url).await.unwrap();
            insert_all!(pool, facts);
            pool.close().await;
        }
        TestDb::Postgres { url, .. } => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            insert_all!(pool, facts);
            pool.close().await;
        }
    }
}

/// The scenario; the report interval is local 2 and 3 March 2026 = [03-01T16:00Z, 03-03T16:00Z).
fn scenario() -> Vec<Fact> {
    let closed_after_dispatch = Fact {
        dispatched: true,
        replied: true,
        closed: true,
        callback: true,
        reached: Some(true),
        sign_overdue: Some(false),
        resolve_overdue: Some(false),
        ..Default::default()
    };
    vec![
        // 1: local 2 March 01:00; closed at intake (no unit).
        Fact {
            number: "T1",
            received: Some("2026-03-01T17:00:00Z"),
            category: Some("housing.rent"),
            area: Some("futian.s1"),
            closed: true,
            intake: true,
            ..Default::default()
        },
        // 2: local 1 March 23:59:59, before the interval.
        Fact {
            number: "T2",
            received: Some("2026-03-01T15:59:59Z"),
            closed: true,
            intake: true,
            ..Default::default()
        },
        // 3: the good path: signed and replied in time, reached, resolved, satisfied.
        Fact {
            number: "T3",
            received: Some("2026-03-02T03:00:00Z"),
            category: Some("housing.elevator"),
            unit: Some(1),
            resolved: Some(true),
            satisfied: Some(true),
            strict: Some(true),
            ..closed_after_dispatch.clone()
        },
        // 4: the bad path: returned, signed late, extended, replied late, not resolved, unsatisfied,
        // reopened; repeats ticket 3.
        Fact {
            number: "T4",
            received: Some("2026-03-02T05:00:00Z"),
            channel: "web",
            category: Some("transport.bus"),
            unit: Some(2),
            returns: 1,
            extensions: 1,
            sign_overdue: Some(true),
            resolve_overdue: Some(true),
            resolved: Some(false),
            satisfied: Some(false),
            strict: Some(false),
            reopen: 1,
            repeat_of: Some(3),
            ..closed_after_dispatch.clone()
        },
        // 5: local 3 March 00:00 sharp; signed in time, still open past its due.
        Fact {
            number: "T5",
            received: Some("2026-03-02T16:00:00Z"),
            state: "in_progress",
            unit: Some(2),
            dispatched: true,
            sign_overdue: Some(false),
            resolve_overdue: Some(true),
            ..Default::default()
        },
        // 6: not accepted (不予受理); repeats ticket 1.
        Fact {
            number: "T6",
            received: Some("2026-03-03T01:00:00Z"),
            state: "rejected",
            channel: "web",
            repeat_of: Some(1),
            ..Default::default()
        },
        // 7: replied in time, waiting for its callback.
        Fact {
            number: "T7",
            received: Some("2026-03-03T02:00:00Z"),
            state: "pending_callback",
            category: Some("housing.rent"),
            unit: Some(1),
            dispatched: true,
            replied: true,
            sign_overdue: Some(false),
            resolve_overdue: Some(false),
            ..Default::default()
        },
        // 8: local 4 March 00:00: `to` is exclusive.
        Fact {
            number: "T8",
            received: Some("2026-03-03T16:00:00Z"),
            ..Default::default()
        },
        // 9: a draft without received_at: never counted.
        Fact {
            number: "T9",
            state: "draft",
            ..Default::default()
        },
    ]
}

fn query() -> ReportQuery {
    ReportQuery::new(t("2026-03-01T16:00:00Z"), t("2026-03-03T16:00:00Z"))
}

fn nd(k: Kpi) -> (u64, u64) {
    (k.numerator, k.denominator)
}

async fn kpis_exact(db: &TestDb) {
    let store = db.store().await;
    insert(db, &scenario()).await;
    let r = store.kpi_report(&query()).await.unwrap();
    assert_eq!(r.rows.len(), 1);
    assert_eq!(r.rows[0], r.total);
    let k = &r.total;
    assert!(k.keys.is_empty());
    assert_eq!(k.tickets, 6);
    assert_eq!(nd(k.direct_close), (1, 5));
    assert_eq!(k.direct_close.rate, Some(0.2));
    assert_eq!(nd(k.dispatch_accuracy), (3, 4));
    assert_eq!(k.dispatch_accuracy.rate, Some(0.75));
    assert_eq!(nd(k.sign_timely), (3, 4));
    assert_eq!(nd(k.on_time), (2, 3));
    assert_eq!(nd(k.overdue), (2, 4));
    assert_eq!(nd(k.extension), (1, 4));
    assert_eq!(nd(k.callback), (2, 3));
    assert_eq!(nd(k.resolution), (1, 2));
    assert_eq!(nd(k.satisfaction), (1, 2));
    assert_eq!(nd(k.satisfaction_strict), (1, 2));
    assert_eq!(nd(k.reopen), (1, 2));
    assert_eq!(nd(k.first_time), (2, 3));
    assert_eq!(nd(k.repeat), (2, 6));
    assert_eq!(k.repeat.rate, Some(2.0 / 6.0));

    // Nothing received: no rows, a zero total with undefined rates.
    let empty = store
        .kpi_report(&ReportQuery::new(
            t("2027-01-01T00:00:00Z"),
            t("2027-01-02T00:00:00Z"),
        ))
        .await
        .unwrap();
    assert!(empty.rows.is_empty());
    assert_eq!(empty.total.tickets, 0);
    assert_eq!(empty.total.satisfaction.rate, None);
    // Backwards interval.
    let mut q = query();
    std::mem::swap(&mut q.from, &mut q.to);
    assert!(store.kpi_report(&q).await.is_err());
    store.close().await;
}

fn keys(r: &Report) -> Vec<Vec<String>> {
    r.rows
        .iter()
        .map(|row| row.keys.values().cloned().collect())
        .collect()
}

async fn grouping_across_the_china_midnight(db: &TestDb) {
    let store = db.store().await;
    insert(db, &scenario()).await;
    let mut q = query();
    q.group_by = vec![Dim::Day];
    let r = store.kpi_report(&q).await.unwrap();
    // 2026-03-01T17:00Z is 2 March in China; 2026-03-02T16:00Z is 3 March.
    assert_eq!(keys(&r), vec![vec!["2026-03-02"], vec!["2026-03-03"]]);
    assert_eq!(r.rows[0].tickets, 3);
    assert_eq!(r.rows[1].tickets, 3);
    assert_eq!(nd(r.rows[0].direct_close), (1, 3));
    assert_eq!(nd(r.rows[1].direct_close), (0, 2));
    assert_eq!(r.total.tickets, 6);
    assert_eq!(nd(r.total.first_time), (2, 3));

    q.group_by = vec![Dim::Month, Dim::Week];
    let r = store.kpi_report(&q).await.unwrap();
    assert_eq!(r.rows.len(), 1);
    assert_eq!(r.rows[0].keys["month"], "2026-03");
    assert_eq!(r.rows[0].keys["week"], "2026-03-02"); // a Monday
                                                      // Local 1 March (a Sunday) belongs to the week of Monday 23 February.
    let mut wide = ReportQuery::new(t("2026-02-28T16:00:00Z"), t("2026-03-03T16:00:00Z"));
    wide.group_by = vec![Dim::Week];
    let r = store.kpi_report(&wide).await.unwrap();
    assert_eq!(keys(&r), vec![vec!["2026-02-23"], vec!["2026-03-02"]]);
    assert_eq!(r.rows[0].tickets, 1);

    // By unit then channel: NULL unit first as "", units in numeric order.
    q.group_by = vec![Dim::Unit, Dim::Channel];
    let r = store.kpi_report(&q).await.unwrap();
    let got: Vec<(String, String, u64)> = r
        .rows
        .iter()
        .map(|row| {
            (
                row.keys["unit"].clone(),
                row.keys["channel"].clone(),
                row.tickets,
            )
        })
        .collect();
    let want = [
        ("", "voice", 1),
        ("", "web", 1),
        ("1", "voice", 2),
        ("2", "voice", 1),
        ("2", "web", 1),
    ];
    let want: Vec<(String, String, u64)> = want
        .iter()
        .map(|(u, c, n)| (u.to_string(), c.to_string(), *n))
        .collect();
    assert_eq!(got, want);
    assert_eq!(nd(r.rows[2].callback), (1, 2));
    store.close().await;
}

async fn filters(db: &TestDb) {
    let store = db.store().await;
    insert(db, &scenario()).await;
    let mut q = query();
    q.unit = Some(1);
    assert_eq!(store.kpi_report(&q).await.unwrap().total.tickets, 2);
    let mut q = query();
    q.category = Some("housing".into()); // a major category
    assert_eq!(store.kpi_report(&q).await.unwrap().total.tickets, 3);
    q.category = Some("housing.rent".into());
    assert_eq!(store.kpi_report(&q).await.unwrap().total.tickets, 2);
    q.area = Some("futian.s1".into());
    assert_eq!(store.kpi_report(&q).await.unwrap().total.tickets, 1);
    let mut q = query();
    q.channel = Some("web".into());
    q.group_by = vec![Dim::Category];
    let r = store.kpi_report(&q).await.unwrap();
    assert_eq!(keys(&r), vec![vec![""], vec!["transport.bus"]]);
    assert_eq!(r.total.tickets, 2);
    // An empty filter is no filter.
    let mut q = query();
    q.channel = Some(String::new());
    assert_eq!(store.kpi_report(&q).await.unwrap().total.tickets, 6);
    store.close().await;
}

async fn csv_of_a_report(db: &TestDb) {
    let store = db.store().await;
    insert(db, &scenario()).await;
    let mut q = query();
    q.group_by = vec![Dim::Day];
    let csv = to_csv(&store.kpi_report(&q).await.unwrap());
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines.len(), 5, "{csv}"); // header, two days, total, "" after the last \r\n
    assert!(lines[0].starts_with(
        "日期 day,工单量 tickets,直接办结分子 direct_close_numerator,\
         直接办结分母 direct_close_denominator,直接办结率 direct_close_rate,"
    ));
    assert!(
        lines[1].starts_with("2026-03-02,3,1,3,0.3333,"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("2026-03-03,3,0,2,0.0000,"),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].starts_with("合计 total,6,1,5,0.2000,"),
        "{}",
        lines[3]
    );
    assert!(lines[3].ends_with(",2,6,0.3333"), "{}", lines[3]);
    assert_eq!(lines[4], "");
    store.close().await;
}

async fn generator_is_deterministic_and_counts(db: &TestDb) {
    let end: DateTime<Utc> = t("2026-03-31T16:00:00Z");
    let o = GenerateOptions {
        count: 2_500,
        seed: 42,
        days: 10,
        end,
    };
    let store = db.store().await;
    let stats = generate(&store, &o).await.unwrap();
    assert_eq!(stats.rows, 2_500);
    let mut q = ReportQuery::new(end - Duration::days(11), end);
    q.group_by = vec![Dim::Day, Dim::Unit];
    let first = store.kpi_report(&q).await.unwrap();
    assert_eq!(first.total.tickets, 2_500);
    let days: std::collections::BTreeSet<&String> =
        first.rows.iter().map(|r| &r.keys["day"]).collect();
    assert_eq!(days.len(), 10, "{days:?}");
    assert!(days
        .iter()
        .all(|d| d.as_str() >= "2026-03-22" && d.as_str() <= "2026-03-31"));
    // Plausible, not degenerate: every KPI has a denominator and a rate strictly inside (0, 1).
    for (k, (name, _)) in first.total.kpis().iter().zip(KPI_NAMES) {
        let rate = k.rate.unwrap_or_else(|| panic!("{name}: no denominator"));
        assert!(rate > 0.0 && rate < 1.0, "{name}: {rate}");
    }
    assert!(first
        .total
        .kpis()
        .iter()
        .all(|k| k.numerator <= k.denominator));

    // A second run numbers on (no collision); a fresh database with the same seed gets the same.
    generate(&store, &o).await.unwrap();
    assert_eq!(store.kpi_report(&q).await.unwrap().total.tickets, 5_000);
    store.close().await;
    let other = match db {
        TestDb::Sqlite { .. } => TestDb::sqlite(),
        TestDb::Postgres { .. } => TestDb::postgres().await.unwrap(),
    };
    let store = other.store().await;
    generate(&store, &o).await.unwrap();
    let again = store.kpi_report(&q).await.unwrap();
    assert_eq!(again, first);
    store.close().await;
    other.cleanup().await;
    assert!(generate(
        &db.store().await,
        &GenerateOptions {
            days: 0,
            ..o.clone()
        }
    )
    .await
    .is_err());
}
