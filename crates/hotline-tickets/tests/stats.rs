//! Interval statistics from tickets: a hand-computed scenario on SQLite and PostgreSQL.

#[macro_use]
mod common;

use chrono::{DateTime, Duration, Utc};
use common::*;
use hotline_tickets::*;

suite!(
    queue_scenario,
    agent_scenario,
    empty_interval_and_bad_bounds
);

fn secs(s: f64) -> Duration {
    Duration::microseconds((s * 1e6).round() as i64)
}

/// One finished call: queued at `queued`, waited `wait` seconds, then either answered by `agent`
/// (talk / wrap-up as given) or ended with `disposition`.
struct Call {
    queue: Option<&'static str>,
    queued: &'static str,
    wait: f64,
    agent: Option<&'static str>,
    talk: Option<f64>,
    wrap_up: Option<f64>,
    disposition: Disposition,
}

const fn answered(
    queue: &'static str,
    queued: &'static str,
    wait: f64,
    agent: &'static str,
    talk: Option<f64>,
    wrap_up: Option<f64>,
) -> Call {
    Call {
        queue: Some(queue),
        queued,
        wait,
        agent: Some(agent),
        talk,
        wrap_up,
        disposition: Disposition::Answered,
    }
}

const fn unanswered(queue: &'static str, queued: &'static str, wait: f64, d: Disposition) -> Call {
    Call {
        queue: Some(queue),
        queued,
        wait,
        agent: None,
        talk: None,
        wrap_up: None,
        disposition: d,
    }
}

/// The interval of the scenario: [10:00, 11:00) UTC.
const FROM: &str = "2026-11-23T10:00:00Z";
const TO: &str = "2026-11-23T11:00:00Z";

/// Queue "sales" in [FROM, TO) (✓ = counted):
///
/// | # | queued      | wait | outcome            | talk | wrap |
/// |---|-------------|------|--------------------|------|------|
/// | 1 | 10:00:00 ✓  | 10   | answered by A      | 100  | 20   |  (from is inclusive)
/// | 2 | 10:05 ✓     | 15   | answered by A      | 200  | —    |  (exactly 15 s: within 15)
/// | 3 | 10:10 ✓     | 20   | answered by B      | 60   | 10   |  (exactly 20 s: within 20)
/// | 4 | 10:15 ✓     | 30.5 | answered by B      | 40   | 30   |  (over 30 s)
/// | 5 | 10:20 ✓     | 4.9  | abandoned          |      |      |  (within 5 s)
/// | 6 | 10:25 ✓     | 5    | abandoned          |      |      |  (exactly 5 s: not within 5)
/// | 7 | 10:30 ✓     | 12   | callback_requested |      |      |  (offered, neither answered nor abandoned)
/// | 8 | 11:00:00 ✗  | 1    | answered by A      | 500  | 50   |  (to is exclusive; answered 11:00:01)
/// | 9 | 09:59:59.999999 ✗ | 1 | answered by A  | 60   | 5    |  (before from; answered 10:00:00.999999)
/// |10 | 10:30 ✗ "support" | 2 | answered by B  | 200  | —    |  (other queue)
/// |11 | no queue (IVR only) 10:30 ✗ |  |        |      |      |
///
/// offered 7, answered 4, abandoned 2, abandoned ≤5s 1, within 15/20/30 = 2/3/3,
/// 接通率 4/7, SL-15 2/7, ASA (10+15+20+30.5)/4 = 18.875, talk (100+200+60+40)/4 = 100,
/// wrap-up (20+10+30)/3 = 20.
///
/// By answered_at in [FROM, TO): A = #1, #2, #9 (talk 360, wrap 25 over 2);
/// B = #3, #4, #10 (talk 300, wrap 40 over 2).
const CALLS: &[Call] = &[
    answered("sales", "10:00:00", 10.0, "A", Some(100.0), Some(20.0)),
    answered("sales", "10:05:00", 15.0, "A", Some(200.0), None),
    answered("sales", "10:10:00", 20.0, "B", Some(60.0), Some(10.0)),
    answered("sales", "10:15:00", 30.5, "B", Some(40.0), Some(30.0)),
    unanswered("sales", "10:20:00", 4.9, Disposition::Abandoned),
    unanswered("sales", "10:25:00", 5.0, Disposition::Abandoned),
    unanswered("sales", "10:30:00", 12.0, Disposition::CallbackRequested),
    answered("sales", "11:00:00", 1.0, "A", Some(500.0), Some(50.0)),
    answered("sales", "09:59:59.999999", 1.0, "A", Some(60.0), Some(5.0)),
    answered("support", "10:30:00", 2.0, "B", Some(200.0), None),
    Call {
        queue: None,
        queued: "10:30:00",
        wait: 0.0,
        agent: None,
        talk: None,
        wrap_up: None,
        disposition: Disposition::IvrOnly,
    },
];

async fn load_scenario(s: &TicketStore) {
    for (i, c) in CALLS.iter().enumerate() {
        let queued = t(&format!("2026-11-23T{}Z", c.queued));
        let tk = s
            .create_voice(new_ticket(&format!("c{i}"), queued - Duration::seconds(5)))
            .await
            .unwrap();
        let answered_at = c.agent.map(|_| queued + secs(c.wait));
        let ended = queued + secs(c.wait) + secs(c.talk.unwrap_or(0.0));
        let upd = CallUpdate {
            queue: c.queue.map(String::from),
            queued_at: c.queue.map(|_| queued),
            answered_at,
            agent_id: c.agent.map(String::from),
            ended_at: Some(ended),
            disposition: Some(c.disposition),
            wait_secs: c.queue.map(|_| c.wait),
            talk_secs: c.talk,
            wrap_up_secs: c.wrap_up,
            ..Default::default()
        };
        s.update_call(tk.id, upd).await.unwrap();
    }
}

fn assert_close(got: Option<f64>, want: f64, what: &str) {
    let got = got.unwrap_or_else(|| panic!("{what}: None, want {want}"));
    assert!((got - want).abs() < 1e-9, "{what}: {got}, want {want}");
}

fn interval() -> (DateTime<Utc>, DateTime<Utc>) {
    (t(FROM), t(TO))
}

async fn queue_scenario(db: &TestDb) {
    let s = db.store().await;
    load_scenario(&s).await;
    let (from, to) = interval();
    let st = s.queue_interval_stats("sales", from, to).await.unwrap();
    assert_eq!((st.queue.as_str(), st.from, st.to), ("sales", from, to));
    assert_eq!(st.offered, 7);
    assert_eq!(st.answered, 4);
    assert_eq!(st.abandoned, 2);
    assert_eq!(st.abandoned_within_5s, 1);
    assert_eq!(st.answered_within_15s, 2);
    assert_eq!(st.answered_within_20s, 3);
    assert_eq!(st.answered_within_30s, 3);
    assert_close(st.answer_rate, 4.0 / 7.0, "answer_rate");
    assert_close(st.service_level_15s, 2.0 / 7.0, "service_level_15s");
    assert_close(st.asa_secs, 18.875, "asa");
    assert_close(st.avg_talk_secs, 100.0, "avg_talk");
    assert_close(st.avg_wrap_up_secs, 20.0, "avg_wrap_up");

    // Widened by a microsecond each way to take in #9 and #8: [09:59:59.999999, 11:00:00.000001).
    let st2 = s
        .queue_interval_stats(
            "sales",
            t("2026-11-23T09:59:59.999999Z"),
            t("2026-11-23T11:00:00.000001Z"),
        )
        .await
        .unwrap();
    assert_eq!((st2.offered, st2.answered), (9, 6));
    assert_eq!(st2.answered_within_15s, 4);
    assert_close(
        st2.asa_secs,
        (10.0 + 15.0 + 20.0 + 30.5 + 1.0 + 1.0) / 6.0,
        "asa2",
    );

    let sup = s.queue_interval_stats("support", from, to).await.unwrap();
    assert_eq!((sup.offered, sup.answered, sup.abandoned), (1, 1, 0));
    assert_eq!(sup.answer_rate, Some(1.0));
    assert_eq!(sup.avg_wrap_up_secs, None, "no wrap-up recorded");

    let v = serde_json::to_value(&st).unwrap();
    for key in [
        "queue",
        "from",
        "to",
        "offered",
        "answered",
        "abandoned",
        "abandoned_within_5s",
        "answered_within_15s",
        "answered_within_20s",
        "answered_within_30s",
        "answer_rate",
        "service_level_15s",
        "asa_secs",
        "avg_talk_secs",
        "avg_wrap_up_secs",
    ] {
        assert!(v.get(key).is_some(), "missing {key} in {v}");
    }
    assert_eq!(v["from"], "2026-11-23T10:00:00Z");
    assert_eq!(v["offered"], 7);
}

async fn agent_scenario(db: &TestDb) {
    let s = db.store().await;
    load_scenario(&s).await;
    let (from, to) = interval();

    let a = s.agent_interval_stats("A", from, to).await.unwrap();
    assert_eq!((a.agent.as_str(), a.from, a.to), ("A", from, to));
    assert_eq!(a.answered, 3);
    assert!((a.talk_secs - 360.0).abs() < 1e-9, "{}", a.talk_secs);
    assert_close(a.avg_talk_secs, 120.0, "A avg_talk");
    assert!((a.wrap_up_secs - 25.0).abs() < 1e-9, "{}", a.wrap_up_secs);
    assert_close(a.avg_wrap_up_secs, 12.5, "A avg_wrap_up");

    // B's answers span two queues: agent statistics are not per queue.
    let b = s.agent_interval_stats("B", from, to).await.unwrap();
    assert_eq!(b.answered, 3);
    assert!((b.talk_secs - 300.0).abs() < 1e-9, "{}", b.talk_secs);
    assert_close(b.avg_talk_secs, 100.0, "B avg_talk");
    assert!((b.wrap_up_secs - 40.0).abs() < 1e-9, "{}", b.wrap_up_secs);
    assert_close(b.avg_wrap_up_secs, 20.0, "B avg_wrap_up");

    let nobody = s.agent_interval_stats("C", from, to).await.unwrap();
    assert_eq!(nobody.answered, 0);
    assert_eq!(nobody.talk_secs, 0.0);
    assert_eq!(
        (nobody.avg_talk_secs, nobody.avg_wrap_up_secs),
        (None, None)
    );
    assert_eq!(nobody.wrap_up_secs, 0.0);

    let v = serde_json::to_value(&a).unwrap();
    assert_eq!(v["agent"], "A");
    assert_eq!(v["answered"], 3);
    assert_eq!(v["avg_wrap_up_secs"], 12.5);
}

async fn empty_interval_and_bad_bounds(db: &TestDb) {
    let s = db.store().await;
    load_scenario(&s).await;
    let (from, to) = interval();

    // Nothing offered: counts zero, ratios and means None (not NaN).
    let none = s.queue_interval_stats("nobody", from, to).await.unwrap();
    assert_eq!(
        (
            none.offered,
            none.answered,
            none.abandoned,
            none.answered_within_30s
        ),
        (0, 0, 0, 0)
    );
    assert_eq!((none.answer_rate, none.service_level_15s), (None, None));
    assert_eq!(
        (none.asa_secs, none.avg_talk_secs, none.avg_wrap_up_secs),
        (None, None, None)
    );
    assert_eq!(
        serde_json::to_value(&none).unwrap()["answer_rate"],
        serde_json::Value::Null
    );

    // An empty interval is valid and empty.
    let empty = s.queue_interval_stats("sales", from, from).await.unwrap();
    assert_eq!(empty.offered, 0);

    // Only abandoned calls: an answer rate of 0, no ASA.
    let later = t("2026-11-23T10:20:00Z");
    let ab = s
        .queue_interval_stats("sales", later, later + Duration::minutes(10))
        .await
        .unwrap();
    assert_eq!((ab.offered, ab.answered, ab.abandoned), (2, 0, 2));
    assert_eq!(ab.answer_rate, Some(0.0));
    assert_eq!(ab.asa_secs, None);

    for r in [
        s.queue_interval_stats("sales", to, from).await.map(|_| ()),
        s.agent_interval_stats("A", to, from).await.map(|_| ()),
    ] {
        assert!(matches!(r, Err(TicketError::InvalidFilter(_))), "{r:?}");
    }
}
