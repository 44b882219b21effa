use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use chrono::{DateTime, Duration, Utc};
use futures::future::BoxFuture;
use hotline_api::*;
use hotline_tickets::{
    CallUpdate, Disposition, HandoffMode, HandoffOutcome, HandoffUpdate, NewHandoff, NewVoiceTicket,
};
use serde_json::{json, Value};

mod common;

use common::{send_request, sqlite_store};

const TOKEN: &str = "test-token";

/// Agents in a Vec; records the last reason it was given.
#[derive(Default)]
struct FakeAgents {
    agents: Mutex<Vec<AgentView>>,
    last_reason: Mutex<Option<Option<String>>>,
}

impl AgentControl for FakeAgents {
    fn list(&self) -> BoxFuture<'static, Vec<AgentView>> {
        let v = self.agents.lock().unwrap().clone();
        Box::pin(async move { v })
    }

    fn set_status(
        &self,
        id: String,
        status: AgentStatus,
        reason: Option<String>,
    ) -> BoxFuture<'static, Result<AgentView, AgentControlError>> {
        *self.last_reason.lock().unwrap() = Some(reason.clone());
        let mut agents = self.agents.lock().unwrap();
        let res = match agents.iter_mut().find(|a| a.id == id) {
            None => Err(AgentControlError::NotFound),
            Some(a) if a.state == AgentState::InCall && status == AgentStatus::LoggedOut => Err(
                AgentControlError::Invalid("cannot log out during a call".into()),
            ),
            Some(a) => {
                a.status = status;
                a.break_reason = reason;
                Ok(a.clone())
            }
        };
        Box::pin(async move { res })
    }
}

fn agent(id: &str, state: AgentState) -> AgentView {
    AgentView {
        id: id.into(),
        name: format!("Agent {id}"),
        status: AgentStatus::Available,
        state,
        registered: true,
        queues: vec!["general".into()],
        state_since: None,
        break_reason: None,
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    state: ApiState,
    app: Router,
    fake: Arc<FakeAgents>,
}

async fn fixture() -> Fixture {
    let (dir, store) = sqlite_store().await;
    let fake = Arc::new(FakeAgents::default());
    *fake.agents.lock().unwrap() = vec![
        agent("1001", AgentState::Idle),
        agent("1002", AgentState::InCall),
    ];
    let state = ApiState::new(store, TOKEN, fake.clone());
    let app = router(state.clone());
    Fixture {
        _dir: dir,
        state,
        app,
        fake,
    }
}

async fn call(
    app: &Router,
    method: Method,
    uri: &str,
    auth: Option<&str>,
    body: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(a) = auth {
        req = req.header(header::AUTHORIZATION, a);
    }
    let req = req
        .body(
            body.map(|b| Body::from(b.to_string()))
                .unwrap_or_else(Body::empty),
        )
        .unwrap();
    let r = send_request(app, req).await;
    (r.status, r.json())
}

async fn get(app: &Router, uri: &str) -> (StatusCode, Value) {
    call(
        app,
        Method::GET,
        uri,
        Some(&format!("Bearer {TOKEN}")),
        None,
    )
    .await
}

fn assert_error(v: &Value, code: &str) {
    assert_eq!(v["error"], code, "{v}");
    assert!(v["reason"].as_str().is_some_and(|r| !r.is_empty()), "{v}");
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[tokio::test]
async fn health_and_draining() {
    let f = fixture().await;
    let (s, v) = call(&f.app, Method::GET, "/health", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v, json!({"status": "ok"}));
    f.state.set_draining(true);
    let (s, v) = call(&f.app, Method::GET, "/health", None, None).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(v, json!({"status": "draining"}));
}

#[tokio::test]
async fn auth_required_everywhere_under_v1() {
    let f = fixture().await;
    for uri in [
        "/api/v1/tickets",
        "/api/v1/tickets/1",
        "/api/v1/agents",
        "/api/v1/agents/1001",
    ] {
        for auth in [
            None,
            Some("Bearer wrong"),
            Some("Bearer test-token-longer"),
            Some("Basic dGVzdC10b2tlbg=="),
            Some("test-token"),
        ] {
            let (s, v) = call(&f.app, Method::GET, uri, auth, None).await;
            assert_eq!(s, StatusCode::UNAUTHORIZED, "{uri} {auth:?}");
            assert_error(&v, "unauthorized");
        }
    }
    let (s, v) = call(
        &f.app,
        Method::PUT,
        "/api/v1/agents/1001/status",
        None,
        Some(r#"{"status":"break"}"#),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_error(&v, "unauthorized");
    assert_eq!(
        f.fake.agents.lock().unwrap()[0].status,
        AgentStatus::Available
    );
    // Scheme is case-insensitive.
    let (s, _) = call(
        &f.app,
        Method::GET,
        "/api/v1/agents",
        Some("bearer test-token"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn empty_admin_token_locks_the_api() {
    let f = fixture().await;
    let mut state = f.state.clone();
    state.admin_token = String::new();
    let app = router(state);
    let (s, _) = call(&app, Method::GET, "/api/v1/agents", Some("Bearer "), None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn tickets_list_and_get() {
    let f = fixture().await;
    let store = &f.state.tickets;
    let base = t("2026-11-23T02:00:00Z");
    let mut ids = Vec::new();
    for i in 0..4 {
        let tk = store
            .create_voice(NewVoiceTicket {
                caller: if i % 2 == 0 {
                    "13800000000"
                } else {
                    "13900000000"
                }
                .into(),
                line: "12345".into(),
                call_id: format!("c{i}"),
                created_at: base + Duration::minutes(i),
            })
            .await
            .unwrap();
        ids.push(tk.id);
    }
    store
        .update_call(
            ids[1],
            CallUpdate {
                queue: Some("general".into()),
                agent_id: Some("1001".into()),
                disposition: Some(Disposition::Answered),
                wait_secs: Some(3.5),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    store
        .add_interaction(ids[1], base, "dtmf", json!({"digit": "1"}))
        .await
        .unwrap();
    // Issue 4: an SOS call escalated to 120, with the elder's profile, location and recording.
    store
        .update_call(
            ids[2],
            CallUpdate {
                disposition: Some(Disposition::HandedOff),
                sos_profile: Some(json!({"name": "王秀英", "age": 82})),
                location: Some(json!({"source": "registered", "description": "中山路 1 号"})),
                recording: Some("recordings/20261123-000003.wav".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let h = store
        .create_handoff(&NewHandoff {
            ticket_id: ids[2],
            partner: "120".into(),
            number: "120".into(),
            mode: HandoffMode::Escalation,
            agent_id: None,
            dialled_at: base + Duration::minutes(3),
        })
        .await
        .unwrap();
    store
        .update_handoff(
            h.id,
            HandoffUpdate {
                answered_at: Some(base + Duration::minutes(3) + Duration::seconds(9)),
                outcome: Some(HandoffOutcome::Connected),
                ..Default::default()
            },
        )
        .await
        .unwrap();

    let (s, v) = get(&f.app, "/api/v1/tickets").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["total"], 4);
    assert_eq!(v["page"], 1);
    assert_eq!(v["per_page"], 50);
    assert_eq!(v["items"][0]["id"], ids[3]);
    assert_eq!(v["items"][0]["number"], "20261123-000004");

    let (s, v) = get(
        &f.app,
        "/api/v1/tickets?caller=13900000000&per_page=1&page=2",
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["total"], 2);
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    assert_eq!(v["items"][0]["id"], ids[1]);

    let (s, v) = get(
        &f.app,
        "/api/v1/tickets?disposition=answered&from=2026-11-23&to=2026-11-23",
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["total"], 1);

    let (s, v) = get(&f.app, &format!("/api/v1/tickets/{}", ids[1])).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["id"], ids[1]);
    assert_eq!(v["channel"], "voice");
    assert_eq!(v["agent_id"], "1001");
    assert_eq!(v["disposition"], "answered");
    assert_eq!(v["wait_secs"], 3.5);
    assert_eq!(v["talk_secs"], Value::Null);
    assert_eq!(v["interactions"][0]["kind"], "dtmf");
    assert_eq!(v["interactions"][0]["detail"], json!({"digit": "1"}));
    assert!(v["created_at"]
        .as_str()
        .unwrap()
        .starts_with("2026-11-23T02:01:00"));
    // Fields of issue 4 are present, null or empty on an ordinary call.
    assert_eq!(v["handoffs"], json!([]));
    assert_eq!(v["sos_profile"], Value::Null);
    assert_eq!(v["location"], Value::Null);
    assert_eq!(v["recording"], Value::Null);

    let (s, v) = get(&f.app, &format!("/api/v1/tickets/{}", ids[2])).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["disposition"], "handed_off");
    assert_eq!(v["sos_profile"], json!({"name": "王秀英", "age": 82}));
    assert_eq!(v["location"]["source"], "registered");
    assert_eq!(v["recording"], "recordings/20261123-000003.wav");
    let hs = v["handoffs"].as_array().unwrap();
    assert_eq!(hs.len(), 1);
    assert_eq!(hs[0]["id"], h.id);
    assert_eq!(hs[0]["ticket_id"], ids[2]);
    assert_eq!(hs[0]["partner"], "120");
    assert_eq!(hs[0]["number"], "120");
    assert_eq!(hs[0]["mode"], "escalation");
    assert_eq!(hs[0]["agent_id"], Value::Null);
    assert_eq!(hs[0]["outcome"], "connected");
    assert!(hs[0]["answered_at"]
        .as_str()
        .unwrap()
        .starts_with("2026-11-23T02:03:09"));
    assert_eq!(hs[0]["ended_at"], Value::Null);
    let (s, v) = get(&f.app, "/api/v1/tickets?disposition=handed_off").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["total"], 1);
    assert_eq!(v["items"][0]["id"], ids[2]);

    let (s, v) = get(&f.app, "/api/v1/tickets/999999").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_error(&v, "not_found");
}

#[tokio::test]
async fn tickets_bad_queries_are_400_json() {
    let f = fixture().await;
    for uri in [
        "/api/v1/tickets?page=abc",
        "/api/v1/tickets?page=-1",
        "/api/v1/tickets?page=0",
        "/api/v1/tickets?per_page=0",
        "/api/v1/tickets?disposition=maybe",
        "/api/v1/tickets?from=yesterday",
        "/api/v1/tickets?to=2026-02-30",
        "/api/v1/tickets/abc",
        "/api/v1/tickets/99999999999999999999999",
    ] {
        let (s, v) = get(&f.app, uri).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{uri}: {v}");
        assert_error(&v, "bad_request");
    }
}

#[tokio::test]
async fn agents_list_get_and_set_status() {
    let f = fixture().await;
    let auth = format!("Bearer {TOKEN}");
    let (s, v) = get(&f.app, "/api/v1/agents").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert_eq!(v[0]["status"], "available");
    assert_eq!(v[1]["state"], "in_call");

    let (s, v) = get(&f.app, "/api/v1/agents/1002").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["id"], "1002");
    let (s, v) = get(&f.app, "/api/v1/agents/nobody").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_error(&v, "not_found");

    let (s, v) = call(
        &f.app,
        Method::PUT,
        "/api/v1/agents/1001/status",
        Some(&auth),
        Some(r#"{"status":"break","reason":"lunch"}"#),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "break");
    assert_eq!(v["break_reason"], "lunch");
    assert_eq!(f.fake.agents.lock().unwrap()[0].status, AgentStatus::Break);

    // A reason only goes with a break.
    let (s, v) = call(
        &f.app,
        Method::PUT,
        "/api/v1/agents/1001/status",
        Some(&auth),
        Some(r#"{"status":"available","reason":"back"}"#),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "available");
    assert_eq!(*f.fake.last_reason.lock().unwrap(), Some(None));

    let (s, v) = call(
        &f.app,
        Method::PUT,
        "/api/v1/agents/nobody/status",
        Some(&auth),
        Some(r#"{"status":"available"}"#),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_error(&v, "not_found");

    let (s, v) = call(
        &f.app,
        Method::PUT,
        "/api/v1/agents/1002/status",
        Some(&auth),
        Some(r#"{"status":"logged_out"}"#),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_error(&v, "invalid");

    let long = "x".repeat(MAX_REASON_CHARS + 1);
    let long_body = format!(r#"{{"status":"break","reason":"{long}"}}"#);
    for body in [
        "",
        "not json",
        r#"{"status":"asleep"}"#,
        r#"{"reason":"x"}"#,
        r#"{"status":"break","extra":1}"#,
        long_body.as_str(),
    ] {
        let (s, v) = call(
            &f.app,
            Method::PUT,
            "/api/v1/agents/1001/status",
            Some(&auth),
            Some(body),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert_error(&v, "bad_request");
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_are_json() {
    let f = fixture().await;
    let auth = format!("Bearer {TOKEN}");
    let (s, v) = call(&f.app, Method::GET, "/nope", None, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_error(&v, "not_found");
    let (s, v) = call(&f.app, Method::DELETE, "/api/v1/tickets", Some(&auth), None).await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    assert_error(&v, "method_not_allowed");
    let (s, v) = call(&f.app, Method::POST, "/health", None, None).await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    assert_error(&v, "method_not_allowed");
}

#[tokio::test]
async fn store_failure_is_500_json() {
    let f = fixture().await;
    f.state.tickets.close().await;
    let (s, v) = get(&f.app, "/api/v1/tickets").await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    assert_error(&v, "internal");
}
