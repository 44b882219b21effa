//! Live calls and call control (`src/calls.rs`) against a fake switch.

use std::sync::{Arc, Mutex};

use axum::http::{Method, StatusCode};
use axum::Router;
use futures::future::BoxFuture;
use hotline_api::*;
use serde_json::{json, Value};

mod common;

use common::{request, sqlite_store, NoAgents};

const TOKEN: &str = "calls-token";

/// One live call (id 7); records every request; call 8 is one whose agent already left.
#[derive(Default)]
struct FakeCalls {
    seen: Mutex<Vec<String>>,
}

fn view(id: u64) -> CallView {
    CallView {
        id,
        ticket_id: 70,
        caller: "13800000001".into(),
        line: "12345".into(),
        queue: Some("general".into()),
        state: "talking".into(),
        agent: Some("1001".into()),
        sos: false,
        sos_device: None,
        started_at: chrono::Utc::now(),
        answered_at: Some(chrono::Utc::now()),
        legs: vec![
            LegView {
                role: "citizen".into(),
                party: "13800000001".into(),
                state: "up".into(),
                mode: None,
            },
            LegView {
                role: "agent".into(),
                party: "1001".into(),
                state: "up".into(),
                mode: None,
            },
        ],
    }
}

impl FakeCalls {
    fn answer(
        &self,
        call: u64,
        what: String,
    ) -> BoxFuture<'static, Result<CallView, CallControlError>> {
        self.seen.lock().unwrap().push(what);
        let r = match call {
            7 => Ok(view(7)),
            8 => Err(CallControlError::Conflict(
                "no agent is on this call".into(),
            )),
            9 => Err(CallControlError::Unavailable("nowhere to dial".into())),
            10 => Err(CallControlError::Invalid(
                "supervisor: 1001 is not a supervisor".into(),
            )),
            _ => Err(CallControlError::NotFound),
        };
        Box::pin(async move { r })
    }
}

impl CallControl for FakeCalls {
    fn list(&self) -> BoxFuture<'static, Vec<CallView>> {
        Box::pin(async { vec![view(7)] })
    }
    fn conference(
        &self,
        call: u64,
        number: String,
    ) -> BoxFuture<'static, Result<CallView, CallControlError>> {
        self.answer(call, format!("conference {call} {number}"))
    }
    fn leave(&self, call: u64) -> BoxFuture<'static, Result<CallView, CallControlError>> {
        self.answer(call, format!("leave {call}"))
    }
    fn transfer(
        &self,
        call: u64,
        number: String,
        mode: TransferMode,
    ) -> BoxFuture<'static, Result<CallView, CallControlError>> {
        self.answer(call, format!("transfer {call} {number} {mode:?}"))
    }
    fn monitor(
        &self,
        call: u64,
        supervisor: String,
        mode: MonitorMode,
    ) -> BoxFuture<'static, Result<CallView, CallControlError>> {
        self.answer(call, format!("monitor {call} {supervisor} {mode:?}"))
    }
}

async fn app() -> (tempfile::TempDir, Router, Arc<FakeCalls>) {
    let (dir, store) = sqlite_store().await;
    let fake = Arc::new(FakeCalls::default());
    let state = ApiState::new(store, TOKEN, Arc::new(NoAgents)).with_calls(fake.clone());
    (dir, router(state), fake)
}

async fn send(
    app: &Router,
    method: Method,
    uri: &str,
    body: Option<Value>,
    auth: bool,
) -> (StatusCode, Value) {
    request(app, method, uri, auth.then_some(TOKEN), body).await
}

#[tokio::test]
async fn list_and_get() {
    let (_d, app, _) = app().await;
    let (s, v) = send(&app, Method::GET, "/api/v1/calls", None, true).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["total"], 1);
    assert_eq!(v["items"][0]["id"], 7);
    assert_eq!(v["items"][0]["legs"][1]["role"], "agent");
    let (s, v) = send(&app, Method::GET, "/api/v1/calls/7", None, true).await;
    assert_eq!((s, v["ticket_id"].clone()), (StatusCode::OK, json!(70)));
    let (s, v) = send(&app, Method::GET, "/api/v1/calls/99", None, true).await;
    assert_eq!(
        (s, v["error"].clone()),
        (StatusCode::NOT_FOUND, json!("not_found"))
    );
    let (s, _) = send(&app, Method::GET, "/api/v1/calls", None, false).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn control_requests_reach_the_switch() {
    let (_d, app, fake) = app().await;
    let cases = [
        ("/api/v1/calls/7/conference", Some(json!({"number": "120"}))),
        ("/api/v1/calls/7/leave", None),
        (
            "/api/v1/calls/7/transfer",
            Some(json!({"number": "110", "mode": "attended"})),
        ),
        ("/api/v1/calls/7/transfer", Some(json!({"number": "110"}))),
        (
            "/api/v1/calls/7/monitor",
            Some(json!({"supervisor": "9001", "mode": "whisper"})),
        ),
        (
            "/api/v1/calls/7/monitor",
            Some(json!({"supervisor": "9001"})),
        ),
    ];
    for (uri, body) in cases {
        let (s, v) = send(&app, Method::POST, uri, body, true).await;
        assert_eq!(s, StatusCode::ACCEPTED, "{uri}: {v}");
        assert_eq!(v["id"], 7, "{v}");
    }
    assert_eq!(
        *fake.seen.lock().unwrap(),
        [
            "conference 7 120",
            "leave 7",
            "transfer 7 110 Attended",
            "transfer 7 110 Blind",
            "monitor 7 9001 Whisper",
            "monitor 7 9001 Listen"
        ]
    );
}

#[tokio::test]
async fn errors_are_json_with_a_reason() {
    let (_d, app, fake) = app().await;
    let n = json!({"number": "120"});
    let cases: [(&str, Option<Value>, StatusCode, &str); 9] = [
        (
            "/api/v1/calls/8/conference",
            Some(n.clone()),
            StatusCode::CONFLICT,
            "conflict",
        ),
        (
            "/api/v1/calls/9/conference",
            Some(n.clone()),
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
        ),
        (
            "/api/v1/calls/10/monitor",
            Some(json!({"supervisor": "1001"})),
            StatusCode::BAD_REQUEST,
            "invalid",
        ),
        (
            "/api/v1/calls/99/leave",
            None,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/v1/calls/7/conference",
            Some(json!({"number": "12a"})),
            StatusCode::BAD_REQUEST,
            "invalid",
        ),
        (
            "/api/v1/calls/7/conference",
            Some(json!({"number": ""})),
            StatusCode::BAD_REQUEST,
            "invalid",
        ),
        (
            "/api/v1/calls/7/conference",
            Some(json!({})),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/calls/7/transfer",
            Some(json!({"number": "110", "mode": "sideways"})),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/calls/x/leave",
            None,
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
    ];
    for (uri, body, status, code) in cases {
        let (s, v) = send(&app, Method::POST, uri, body.clone(), true).await;
        assert_eq!(
            (s, v["error"].as_str()),
            (status, Some(code)),
            "{uri} {body:?}: {v}"
        );
        assert!(v["reason"].as_str().is_some_and(|r| !r.is_empty()), "{v}");
    }
    // Malformed requests never reached the switch.
    assert_eq!(fake.seen.lock().unwrap().len(), 4);
}
