//! Queues, statistics, call-backs and `/metrics` (`src/live.rs`), against a fake ACD and a real
//! SQLite ticket store.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use chrono::{DateTime, Duration, Utc};
use futures::future::BoxFuture;
use hotline_acd::stats::{AgentLiveStats, AgentsByState, QueueLiveStats};
use hotline_acd::Strategy;
use hotline_api::*;
use hotline_tickets::{
    CallUpdate, Callback, CallbackKind, CallbackStatus, CallbackUpdate, Disposition, NewCallback,
    NewVoiceTicket, TicketStore,
};
use serde_json::{json, Value};

mod common;

use common::{send_request, sqlite_store, NoAgents};

const TOKEN: &str = "live-token";
/// A queue name that needs escaping in Prometheus labels.
const WEIRD: &str = "we\"ird\\q";
const GENERAL: &str = "/api/v1/queues/general/stats";
const GET: Method = Method::GET;
const POST: Method = Method::POST;

type Failure = (StatusCode, &'static str);
const BAD_REQUEST: Failure = (StatusCode::BAD_REQUEST, "bad_request");
const NOT_FOUND: Failure = (StatusCode::NOT_FOUND, "not_found");
const CONFLICT: Failure = (StatusCode::CONFLICT, "conflict");
const UNAVAILABLE: Failure = (StatusCode::SERVICE_UNAVAILABLE, "unavailable");
const NOT_ALLOWED: Failure = (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");

/// The ACD as the API sees it: fixed live figures, agents that can leave wrap-up, and a dialer that
/// records every call-back it is asked to dial and refuses the ids in `refuse`.
#[derive(Default)]
struct FakeControl {
    agents: Mutex<Vec<AgentView>>,
    queues: Vec<QueueLiveStats>,
    agent_stats: Vec<AgentLiveStats>,
    dialed: Mutex<Vec<i64>>,
    refuse: Mutex<Vec<(i64, AgentControlError)>>,
    wrap_ups_ended: Mutex<Vec<String>>,
}

impl AgentControl for FakeControl {
    fn list(&self) -> BoxFuture<'static, Vec<AgentView>> {
        let v = self.agents.lock().unwrap().clone();
        Box::pin(async move { v })
    }

    fn set_status(
        &self,
        _id: String,
        _status: AgentStatus,
        _reason: Option<String>,
    ) -> BoxFuture<'static, Result<AgentView, AgentControlError>> {
        Box::pin(async { Err(AgentControlError::Invalid("not used here".into())) })
    }

    fn end_wrap_up(&self, id: String) -> BoxFuture<'static, Result<AgentView, AgentControlError>> {
        self.wrap_ups_ended.lock().unwrap().push(id.clone());
        let mut agents = self.agents.lock().unwrap();
        let res = match agents.iter_mut().find(|a| a.id == id) {
            None => Err(AgentControlError::NotFound),
            Some(a) => {
                if a.state == AgentState::WrapUp {
                    a.state = AgentState::Idle;
                }
                Ok(a.clone())
            }
        };
        Box::pin(async move { res })
    }

    fn queues(&self) -> BoxFuture<'static, Vec<QueueLiveStats>> {
        let v = self.queues.clone();
        Box::pin(async move { v })
    }

    fn agent_stats(&self, id: String) -> BoxFuture<'static, Option<AgentLiveStats>> {
        let s = self.agent_stats.iter().find(|s| s.agent == id).cloned();
        Box::pin(async move { s })
    }

    fn dial_callback(&self, cb: Callback) -> BoxFuture<'static, Result<(), AgentControlError>> {
        self.dialed.lock().unwrap().push(cb.id);
        let refuse = self.refuse.lock().unwrap();
        let res = match refuse.iter().find(|(id, _)| *id == cb.id) {
            Some((_, e)) => Err(e.clone()),
            None => Ok(()),
        };
        Box::pin(async move { res })
    }
}

fn queue(name: &str, offered: u64, asa_secs: Option<f64>) -> QueueLiveStats {
    QueueLiveStats {
        queue: name.into(),
        strategy: Strategy::RoundRobin,
        waiting: 3,
        longest_current_wait_secs: 42.5,
        offered,
        answered: 7,
        abandoned: 2,
        abandoned_within_5s: 1,
        answered_within_15s: 5,
        answered_within_20s: 6,
        answered_within_30s: 7,
        answer_rate: Some(0.7),
        service_level_15s: Some(0.5),
        asa_secs,
        avg_talk_secs: Some(100.0),
        avg_wrap_up_secs: Some(30.0),
        agents: AgentsByState {
            logged_out: 1,
            on_break: 1,
            available: 2,
            registered: 3,
            idle: 1,
            in_call: 1,
            ..Default::default()
        },
    }
}

fn agent(id: &str, status: AgentStatus, state: AgentState, registered: bool) -> AgentView {
    AgentView {
        id: id.into(),
        name: format!("Agent {id}"),
        status,
        state,
        registered,
        queues: vec!["general".into()],
        state_since: None,
        break_reason: None,
    }
}

fn live_agent_stats(id: &str) -> AgentLiveStats {
    AgentLiveStats {
        agent: id.into(),
        status: AgentStatus::Available,
        state: AgentState::WrapUp,
        offered: 9,
        answered: 5,
        missed: 3,
        rejected: 1,
        consecutive_misses: 2,
        talk_secs: 500.0,
        avg_talk_secs: Some(100.0),
        wrap_up_secs: 50.0,
        avg_wrap_up_secs: Some(10.0),
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    store: TicketStore,
    app: Router,
    fake: Arc<FakeControl>,
}

async fn fixture() -> Fixture {
    let (_dir, store) = sqlite_store().await;
    let (a, b) = (AgentStatus::Available, AgentStatus::Break);
    let fake = Arc::new(FakeControl {
        agents: Mutex::new(vec![
            agent("1001", a, AgentState::WrapUp, true),
            agent("1002", a, AgentState::Idle, true),
            agent("1003", a, AgentState::Idle, true),
            agent("1004", b, AgentState::Idle, false),
        ]),
        queues: vec![
            queue("general", 10, Some(12.5)),
            queue("sales", 4, None),
            queue(WEIRD, 1, Some(2.0)),
        ],
        agent_stats: vec![live_agent_stats("1001"), live_agent_stats("1002")],
        ..Default::default()
    });
    let app = router(ApiState::new(store.clone(), TOKEN, fake.clone()));
    Fixture {
        _dir,
        store,
        app,
        fake,
    }
}

/// Status, content type and body.
type Raw = (StatusCode, String, String);

async fn send(app: &Router, method: Method, uri: &str, auth: Option<&str>) -> Raw {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(a) = auth {
        req = req.header(header::AUTHORIZATION, a);
    }
    let r = send_request(app, req.body(Body::empty()).unwrap()).await;
    (r.status, r.content_type(), r.text())
}

async fn call(app: &Router, method: Method, uri: &str, auth: Option<&str>) -> (StatusCode, Value) {
    let (status, ct, body) = send(app, method, uri, auth).await;
    let v = serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("{uri}: {status} non-JSON body {body:?} ({ct}): {e}"));
    (status, v)
}

/// Sends with the token and expects `status`; returns the JSON body.
async fn req(app: &Router, method: Method, uri: &str, status: StatusCode) -> Value {
    let (s, v) = call(app, method.clone(), uri, Some(&format!("Bearer {TOKEN}"))).await;
    assert_eq!(s, status, "{method} {uri}: {v}");
    v
}

async fn get_ok(app: &Router, uri: &str) -> Value {
    req(app, GET, uri, StatusCode::OK).await
}

fn assert_error(v: &Value, code: &str) {
    assert_eq!(v["error"], code, "{v}");
    assert!(v["reason"].as_str().is_some_and(|r| !r.is_empty()), "{v}");
}

/// Sends with the token and expects the error `(status, code)`; returns the body.
async fn fails(app: &Router, method: Method, uri: &str, (status, code): Failure) -> Value {
    let v = req(app, method, uri, status).await;
    assert_error(&v, code);
    v
}

/// `assert_fields!(v, {"key": value, ...})`: each key is in `v` with that value.
macro_rules! assert_fields {
    ($v:expr, $($json:tt)+) => {
        check_fields(&$v, json!($($json)+))
    };
}

fn check_fields(v: &Value, expected: Value) {
    for (k, want) in expected.as_object().unwrap() {
        assert_eq!(&v[k], want, "field {k} of {v}");
    }
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// `(queue, queued_at, wait_secs, agent, talk_secs)`: answered by `agent` after `wait_secs`, or
/// abandoned after `wait_secs` when `agent` is empty.
type Tk = (&'static str, &'static str, f64, &'static str, f64);

/// Creates the tickets; returns their ids.
async fn tickets(store: &TicketStore, specs: &[Tk]) -> Vec<i64> {
    let mut ids = Vec::new();
    for &(queue, queued_at, wait, agent, talk) in specs {
        let at = t(queued_at);
        let new = NewVoiceTicket {
            caller: "13800000000".into(),
            line: "12345".into(),
            call_id: format!("{queue}-{queued_at}"),
            created_at: at,
        };
        let tk = store.create_voice(new).await.unwrap();
        let picked_up = at + Duration::milliseconds((wait * 1000.0) as i64);
        let mut upd = CallUpdate {
            queue: Some(queue.into()),
            queued_at: Some(at),
            wait_secs: Some(wait),
            ended_at: Some(picked_up),
            disposition: Some(Disposition::Abandoned),
            ..Default::default()
        };
        if !agent.is_empty() {
            upd.answered_at = Some(picked_up);
            upd.agent_id = Some(agent.into());
            upd.talk_secs = Some(talk);
            upd.ended_at = Some(picked_up + Duration::seconds(talk as i64));
            upd.disposition = Some(Disposition::Answered);
        }
        store.update_call(tk.id, upd).await.unwrap();
        ids.push(tk.id);
    }
    ids
}

/// The China morning of 2026-11-23, `[2026-11-22T16:00Z, 2026-11-23T04:00Z)`, in "general": 4
/// tickets queued inside (2 answered by 1001, 2 abandoned), one at the exclusive end, one in "sales".
const MORNING_TICKETS: &[Tk] = &[
    ("general", "2026-11-22T16:00:00Z", 10.0, "1001", 60.0),
    ("general", "2026-11-23T01:00:00Z", 20.0, "1001", 120.0),
    ("general", "2026-11-23T02:00:00Z", 3.0, "", 0.0),
    ("general", "2026-11-23T03:59:59Z", 8.0, "", 0.0),
    ("general", "2026-11-23T04:00:00Z", 5.0, "1001", 30.0),
    ("sales", "2026-11-23T01:30:00Z", 1.0, "1002", 45.0),
];

const MORNING: &str = "from=2026-11-23T00:00:00%2B08:00&to=2026-11-23T12:00:00%2B08:00";

#[tokio::test]
async fn new_routes_need_the_token_and_metrics_does_not() {
    let f = fixture().await;
    let routes = [
        (GET, "/api/v1/queues"),
        (GET, GENERAL),
        (GET, "/api/v1/queues/general/stats?from=2026-11-23"),
        (GET, "/api/v1/agents/1001/stats"),
        (POST, "/api/v1/agents/1001/wrap-up/end"),
        (GET, "/api/v1/callbacks"),
        (GET, "/api/v1/callbacks/1"),
        (POST, "/api/v1/callbacks/1/dial"),
    ];
    for (method, uri) in routes {
        for auth in [None, Some("Bearer wrong"), Some("Basic bGl2ZS10b2tlbg==")] {
            let (s, v) = call(&f.app, method.clone(), uri, auth).await;
            assert_eq!(s, StatusCode::UNAUTHORIZED, "{method} {uri} {auth:?}");
            assert_error(&v, "unauthorized");
        }
    }
    assert!(f.fake.wrap_ups_ended.lock().unwrap().is_empty());
    assert!(f.fake.dialed.lock().unwrap().is_empty());
    let (s, ct, body) = send(&f.app, GET, "/metrics", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(ct.starts_with("text/plain"), "{ct}");
    assert!(body.contains("hotline_queue_offered_total"), "{body}");
}

#[tokio::test]
async fn queues_list_is_the_fakes() {
    let f = fixture().await;
    let v = get_ok(&f.app, "/api/v1/queues").await;
    assert_eq!(v, serde_json::to_value(&f.fake.queues).unwrap());
    assert_eq!(v[0]["strategy"], "round-robin");
    assert_eq!(v[2]["queue"], WEIRD);
}

#[tokio::test]
async fn live_queue_stats_and_errors() {
    let f = fixture().await;
    let v = get_ok(&f.app, GENERAL).await;
    let mut want = serde_json::to_value(&f.fake.queues[0]).unwrap();
    want["source"] = json!("live");
    assert_eq!(v, want);
    // Path segments are percent-decoded.
    let v = get_ok(&f.app, "/api/v1/queues/we%22ird%5Cq/stats").await;
    assert_fields!(v, {"queue": WEIRD, "offered": 1, "source": "live"});

    fails(&f.app, GET, "/api/v1/queues/nope/stats", NOT_FOUND).await;
    let uri = "/api/v1/queues/nope/stats?from=2026-11-23&to=2026-11-24";
    fails(&f.app, GET, uri, NOT_FOUND).await;
    for q in [
        "from=yesterday",
        "to=yesterday",
        "from=2026-02-30",
        "from=2026-11-24&to=2026-11-23",
        "from=2026-11-23T10:00:00Z&to=2026-11-23T09:59:59Z",
        "since=2026-11-23",
    ] {
        fails(&f.app, GET, &format!("{GENERAL}?{q}"), BAD_REQUEST).await;
    }
}

#[tokio::test]
async fn interval_queue_stats_come_from_tickets() {
    let f = fixture().await;
    tickets(&f.store, MORNING_TICKETS).await;
    let live = serde_json::to_value(&f.fake.queues[0]).unwrap();
    // `to` alone starts at the beginning of its China day: the same interval.
    for q in [MORNING, "to=2026-11-23T04:00:00Z"] {
        let v = get_ok(&f.app, &format!("{GENERAL}?{q}")).await;
        assert_fields!(v, {
            "source": "interval", "queue": "general",
            "from": "2026-11-22T16:00:00Z", "to": "2026-11-23T04:00:00Z",
            "offered": 4, "answered": 2, "abandoned": 2, "abandoned_within_5s": 1,
            "answered_within_15s": 1, "answered_within_20s": 2, "answered_within_30s": 2,
            "answer_rate": 0.5, "service_level_15s": 0.25, "asa_secs": 15.0,
            "avg_talk_secs": 90.0, "avg_wrap_up_secs": null,
            // Live-only fields stay the ACD's.
            "strategy": "round-robin", "waiting": 3, "longest_current_wait_secs": 42.5,
            "agents": live["agents"],
        });
    }
    // Another queue's tickets are its own.
    let v = get_ok(&f.app, &format!("/api/v1/queues/sales/stats?{MORNING}")).await;
    assert_fields!(v, {"offered": 1, "answered": 1, "asa_secs": 1.0});
    // An interval with no tickets: zero counts, no averages.
    let v = get_ok(&f.app, &format!("{GENERAL}?from=2026-01-01&to=2026-01-02")).await;
    assert_fields!(v, {"offered": 0, "answered": 0, "answer_rate": null, "asa_secs": null});
}

#[tokio::test]
async fn bare_dates_are_china_days() {
    let f = fixture().await;
    // 2026-11-25 in China is [2026-11-24T16:00Z, 2026-11-25T16:00Z). The tickets are, in China:
    // 23:30 on the 24th, 07:30, 23:59:59, and 00:00 on the 26th.
    let day = [
        ("general", "2026-11-24T15:30:00Z", 2.0, "", 0.0),
        ("general", "2026-11-24T23:30:00Z", 10.0, "1001", 60.0),
        ("general", "2026-11-25T15:59:59Z", 6.0, "", 0.0),
        ("general", "2026-11-25T16:00:00Z", 1.0, "", 0.0),
    ];
    tickets(&f.store, &day).await;
    // A date `to` includes its whole day, like /api/v1/tickets.
    let v = get_ok(&f.app, &format!("{GENERAL}?from=2026-11-25&to=2026-11-25")).await;
    // Read as UTC days this would be the last two tickets: 2 abandoned, 0 answered.
    assert_fields!(v, {
        "from": "2026-11-24T16:00:00Z", "to": "2026-11-25T16:00:00Z",
        "offered": 2, "answered": 1, "abandoned": 1, "abandoned_within_5s": 0, "asa_secs": 10.0,
    });
}

#[tokio::test]
async fn agent_stats_live_and_interval() {
    let f = fixture().await;
    tickets(&f.store, MORNING_TICKETS).await;
    let v = get_ok(&f.app, "/api/v1/agents/1001/stats").await;
    let mut want = serde_json::to_value(live_agent_stats("1001")).unwrap();
    want["source"] = json!("live");
    assert_eq!(v, want);

    let v = get_ok(&f.app, &format!("/api/v1/agents/1001/stats?{MORNING}")).await;
    assert_fields!(v, {
        "source": "interval", "agent": "1001",
        "from": "2026-11-22T16:00:00Z", "to": "2026-11-23T04:00:00Z",
        "answered": 2, "talk_secs": 180.0, "avg_talk_secs": 90.0,
        "wrap_up_secs": 0.0, "avg_wrap_up_secs": null,
        // Live-only.
        "state": "wrap_up", "consecutive_misses": 2,
    });
    let v = get_ok(&f.app, &format!("/api/v1/agents/1002/stats?{MORNING}")).await;
    assert_fields!(v, {"answered": 1, "talk_secs": 45.0});

    fails(&f.app, GET, "/api/v1/agents/nobody/stats", NOT_FOUND).await;
    let uri = "/api/v1/agents/nobody/stats?from=2026-11-23";
    fails(&f.app, GET, uri, NOT_FOUND).await;
    // Since-start-up counters are not mixed into an interval.
    let v = get_ok(&f.app, &format!("/api/v1/agents/1001/stats?{MORNING}")).await;
    assert!(
        v.get("offered").is_none() && v.get("missed").is_none(),
        "{v}"
    );
    let uri = "/api/v1/agents/1001/stats?from=yesterday";
    fails(&f.app, GET, uri, BAD_REQUEST).await;
}

#[tokio::test]
async fn end_wrap_up() {
    let f = fixture().await;
    let uri = "/api/v1/agents/1001/wrap-up/end";
    let v = req(&f.app, POST, uri, StatusCode::OK).await;
    assert_fields!(v, {"id": "1001", "state": "idle", "status": "available"});
    fails(&f.app, POST, "/api/v1/agents/nobody/wrap-up/end", NOT_FOUND).await;
    assert_eq!(*f.fake.wrap_ups_ended.lock().unwrap(), ["1001", "nobody"]);
    fails(&f.app, GET, uri, NOT_ALLOWED).await;
}

/// Call-backs created a minute apart, for distinct callers; `(kind, status)` each.
async fn seed_callbacks(store: &TicketStore, spec: &[(CallbackKind, CallbackStatus)]) -> Vec<i64> {
    let tk = tickets(store, &[("general", "2026-11-23T01:00:00Z", 30.0, "", 0.0)]).await[0];
    let mut ids = Vec::new();
    for (i, &(kind, status)) in spec.iter().enumerate() {
        let new = NewCallback {
            ticket_id: tk,
            caller: format!("1390000000{i}"),
            line: "12345".into(),
            queue: "general".into(),
            kind,
            created_at: t("2026-11-23T02:00:00Z") + Duration::minutes(i as i64),
        };
        let cb = store.create_callback(new).await.unwrap();
        if status != CallbackStatus::Pending {
            let upd = CallbackUpdate {
                status: Some(status),
                agent_id: Some("1002".into()),
                add_attempt: true,
                ..Default::default()
            };
            store.update_callback(cb.id, upd).await.unwrap();
        }
        ids.push(cb.id);
    }
    ids
}

#[tokio::test]
async fn callbacks_list_filter_and_get() {
    use CallbackKind::{Missed, Requested};
    use CallbackStatus::{Connected, Failed, Pending};
    let f = fixture().await;
    let spec = [
        (Requested, Pending),
        (Missed, Pending),
        (Missed, Failed),
        (Requested, Connected),
        (Requested, Pending),
    ];
    let id = seed_callbacks(&f.store, &spec).await;
    for (q, total, want) in [
        ("", 5, vec![id[4], id[3], id[2], id[1], id[0]]),
        ("?status=pending", 3, vec![id[4], id[1], id[0]]),
        ("?kind=missed", 2, vec![id[2], id[1]]),
        ("?status=pending&kind=requested", 2, vec![id[4], id[0]]),
        ("?status=failed", 1, vec![id[2]]),
        ("?status=dialing", 0, vec![]),
        ("?per_page=2&page=2", 5, vec![id[2], id[1]]),
        ("?per_page=2&page=3", 5, vec![id[0]]),
        ("?status=pending&per_page=2&page=2", 3, vec![id[0]]),
    ] {
        let v = get_ok(&f.app, &format!("/api/v1/callbacks{q}")).await;
        assert_eq!(v["total"], total, "{q}: {v}");
        let items = v["items"].as_array().unwrap();
        let ids: Vec<i64> = items.iter().map(|c| c["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, want, "{q}");
    }
    let v = get_ok(&f.app, "/api/v1/callbacks?per_page=2&page=2").await;
    assert_fields!(v, {"page": 2, "per_page": 2});

    let v = get_ok(&f.app, &format!("/api/v1/callbacks/{}", id[3])).await;
    assert_fields!(v, {
        "id": id[3], "caller": "13900000003", "line": "12345", "queue": "general",
        "kind": "requested", "status": "connected", "attempts": 1, "agent_id": "1002",
        "created_at": "2026-11-23T02:03:00Z",
    });
    fails(&f.app, GET, "/api/v1/callbacks/999999", NOT_FOUND).await;
    for uri in [
        "/api/v1/callbacks?status=bogus",
        "/api/v1/callbacks?kind=nope",
        "/api/v1/callbacks?page=0",
        "/api/v1/callbacks?per_page=0",
        "/api/v1/callbacks?page=abc",
        "/api/v1/callbacks/abc",
    ] {
        fails(&f.app, GET, uri, BAD_REQUEST).await;
    }
}

#[tokio::test]
async fn dial_callback_outcomes() {
    use AgentControlError::{Conflict, Unavailable};
    let f = fixture().await;
    let pending = (CallbackKind::Requested, CallbackStatus::Pending);
    let id = seed_callbacks(&f.store, &[pending; 3]).await;
    *f.fake.refuse.lock().unwrap() = vec![
        (id[1], Conflict("call-back already dialing".into())),
        (id[2], Unavailable("no outbound trunk".into())),
    ];
    let dial = |i: i64| format!("/api/v1/callbacks/{i}/dial");

    let v = req(&f.app, POST, &dial(id[0]), StatusCode::ACCEPTED).await;
    let stored = get_ok(&f.app, &format!("/api/v1/callbacks/{}", id[0])).await;
    assert_eq!(v, stored);
    assert_fields!(v, {"id": id[0], "status": "pending", "kind": "requested"});
    let v = fails(&f.app, POST, &dial(id[1]), CONFLICT).await;
    assert_eq!(v["reason"], "call-back already dialing");
    let v = fails(&f.app, POST, &dial(id[2]), UNAVAILABLE).await;
    assert_eq!(v["reason"], "no outbound trunk");

    fails(&f.app, POST, &dial(999999), NOT_FOUND).await;
    fails(&f.app, POST, "/api/v1/callbacks/abc/dial", BAD_REQUEST).await;
    fails(&f.app, GET, &dial(id[0]), NOT_ALLOWED).await;
    // Unknown and malformed ids never reach the switch.
    assert_eq!(*f.fake.dialed.lock().unwrap(), id);
}

#[tokio::test]
async fn metrics_text_format() {
    let f = fixture().await;
    let (s, ct, text) = send(&f.app, GET, "/metrics", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(ct.starts_with("text/plain"), "{ct}");
    // No answered call yet: no ASA sample rather than a misleading 0.
    assert!(
        !text.contains(r#"hotline_queue_asa_seconds{queue="sales"}"#),
        "{text}"
    );
    for line in [
        "# TYPE hotline_queue_offered_total counter",
        "# TYPE hotline_queue_answered_within_15s_total counter",
        "# TYPE hotline_queue_waiting gauge",
        "# TYPE hotline_queue_agents gauge",
        "# TYPE hotline_agents gauge",
        r#"hotline_queue_offered_total{queue="general"} 10"#,
        r#"hotline_queue_offered_total{queue="sales"} 4"#,
        r#"hotline_queue_offered_total{queue="we\"ird\\q"} 1"#,
        r#"hotline_queue_answered_total{queue="general"} 7"#,
        r#"hotline_queue_waiting{queue="sales"} 3"#,
        r#"hotline_queue_longest_wait_seconds{queue="general"} 42.5"#,
        r#"hotline_queue_asa_seconds{queue="general"} 12.5"#,
        r#"hotline_queue_agents_by_status{queue="general",status="break"} 1"#,
        r#"hotline_queue_agents{queue="general",state="in_call"} 1"#,
        r#"hotline_queue_agents_by_status{queue="we\"ird\\q",status="available"} 2"#,
        r#"hotline_agents{status="available",state="idle",registered="true"} 2"#,
        r#"hotline_agents{status="available",state="wrap_up",registered="true"} 1"#,
        r#"hotline_agents{status="break",state="idle",registered="false"} 1"#,
    ] {
        assert!(text.lines().any(|l| l == line), "no {line:?}:\n{text}");
    }
    assert!(!text.contains("we\"ird\\q\""), "unescaped label in\n{text}");
    // Every sample is `name{labels} value`, one TYPE per family.
    for l in text.lines().filter(|l| !l.starts_with('#')) {
        let (series, value) = l.rsplit_once(' ').unwrap();
        assert!(series.ends_with('}') && series.contains('{'), "{l}");
        assert!(value.parse::<f64>().is_ok(), "{l}");
    }
    let types = text.lines().filter(|l| l.starts_with("# TYPE ")).count();
    assert_eq!(types, 13, "{text}");
}

#[tokio::test]
async fn trait_defaults_answer_without_the_acd() {
    let (_dir, store) = sqlite_store().await;
    let ids = seed_callbacks(&store, &[(CallbackKind::Missed, CallbackStatus::Pending)]).await;
    let app = router(ApiState::new(store, TOKEN, Arc::new(NoAgents)));
    assert_eq!(get_ok(&app, "/api/v1/queues").await, json!([]));
    fails(&app, GET, GENERAL, NOT_FOUND).await;
    fails(&app, GET, "/api/v1/agents/1001/stats", NOT_FOUND).await;
    fails(&app, POST, "/api/v1/agents/1001/wrap-up/end", UNAVAILABLE).await;
    let uri = format!("/api/v1/callbacks/{}/dial", ids[0]);
    fails(&app, POST, &uri, UNAVAILABLE).await;
    let (s, _, text) = send(&app, GET, "/metrics", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(text.contains("# TYPE hotline_queue_agents gauge"), "{text}");
    assert!(!text.lines().any(|l| !l.starts_with('#')), "{text}");
}
