//! `GET /api/v1/tickets/{id}/recording` (`src/recording.rs`) against a real SQLite store and files
//! in a temp dir.

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use chrono::Utc;
use hotline_api::*;
use hotline_tickets::{CallUpdate, NewVoiceTicket, TicketStore};

mod common;

use common::{send_request, sqlite_store, NoAgents, Reply};

const TOKEN: &str = "rec-token";

struct Fixture {
    dir: tempfile::TempDir,
    store: TicketStore,
    app: Router,
}

async fn fixture() -> Fixture {
    let (dir, store) = sqlite_store().await;
    let app = router(ApiState::new(store.clone(), TOKEN, Arc::new(NoAgents)));
    Fixture { dir, store, app }
}

impl Fixture {
    /// A ticket whose `recording` is `path` (`None`: no recording).
    async fn ticket(&self, recording: Option<String>) -> i64 {
        let tk = self
            .store
            .create_voice(NewVoiceTicket {
                caller: "02512345678".into(),
                line: "96120".into(),
                call_id: format!("c-{}", Utc::now().timestamp_nanos_opt().unwrap()),
                created_at: Utc::now(),
            })
            .await
            .unwrap();
        if recording.is_some() {
            self.store
                .update_call(
                    tk.id,
                    CallUpdate {
                        recording,
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
        }
        tk.id
    }

    /// A ticket with a recording file holding `bytes`.
    async fn ticket_with_file(&self, name: &str, bytes: &[u8]) -> (i64, PathBuf) {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let id = self.ticket(Some(path.display().to_string())).await;
        (id, path)
    }
}

async fn send(app: &Router, uri: &str, auth: Option<&str>, range: Option<&str>) -> Reply {
    let mut req = Request::builder().method(Method::GET).uri(uri);
    if let Some(a) = auth {
        req = req.header(header::AUTHORIZATION, a);
    }
    if let Some(r) = range {
        req = req.header(header::RANGE, r);
    }
    send_request(app, req.body(Body::empty()).unwrap()).await
}

async fn get(app: &Router, uri: &str, range: Option<&str>) -> Reply {
    send(app, uri, Some(&format!("Bearer {TOKEN}")), range).await
}

fn assert_error(r: &Reply, status: StatusCode, code: &str) {
    assert_eq!(r.status, status);
    let v = r.json();
    assert_eq!(v["error"], code, "{v}");
    assert!(v["reason"].as_str().is_some_and(|s| !s.is_empty()), "{v}");
}

/// Bytes that are not valid UTF-8 and long enough to span several body chunks (64 KiB each).
fn audio(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8 ^ 0x80).collect()
}

#[tokio::test]
async fn unauthorized_without_token() {
    let f = fixture().await;
    let (id, _) = f.ticket_with_file("a.wav", b"RIFF").await;
    let uri = format!("/api/v1/tickets/{id}/recording");
    for auth in [None, Some("Bearer wrong"), Some(TOKEN)] {
        let r = send(&f.app, &uri, auth, None).await;
        assert_error(&r, StatusCode::UNAUTHORIZED, "unauthorized");
        assert_eq!(r.header(header::WWW_AUTHENTICATE), Some("Bearer"));
    }
}

#[tokio::test]
async fn not_found_cases() {
    let f = fixture().await;
    // No such ticket.
    let r = get(&f.app, "/api/v1/tickets/424242/recording", None).await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    // A ticket without a recording.
    let id = f.ticket(None).await;
    let r = get(&f.app, &format!("/api/v1/tickets/{id}/recording"), None).await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    // A recording whose file is gone (or never written).
    let gone = f.dir.path().join("gone.wav").display().to_string();
    let id = f.ticket(Some(gone)).await;
    let r = get(&f.app, &format!("/api/v1/tickets/{id}/recording"), None).await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    // A directory is not a recording.
    let id = f.ticket(Some(f.dir.path().display().to_string())).await;
    let r = get(&f.app, &format!("/api/v1/tickets/{id}/recording"), None).await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    // A bad id is a 400, like the ticket route.
    let r = get(&f.app, "/api/v1/tickets/abc/recording", None).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "bad_request");
}

#[tokio::test]
async fn whole_file() {
    let f = fixture().await;
    let bytes = audio(200_000);
    let (id, _) = f.ticket_with_file("call.wav", &bytes).await;
    let r = get(&f.app, &format!("/api/v1/tickets/{id}/recording"), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header(header::CONTENT_TYPE), Some("audio/wav"));
    assert_eq!(r.header(header::CONTENT_LENGTH), Some("200000"));
    assert_eq!(r.header(header::ACCEPT_RANGES), Some("bytes"));
    assert_eq!(
        r.header(header::CONTENT_DISPOSITION),
        Some(format!("attachment; filename=\"ticket-{id}.wav\"").as_str())
    );
    assert_eq!(r.header(header::CONTENT_RANGE), None);
    assert!(r.body == bytes, "body differs from the file");

    // An empty file (recording just started) is an empty 200.
    let (id, _) = f.ticket_with_file("empty.wav", b"").await;
    let r = get(&f.app, &format!("/api/v1/tickets/{id}/recording"), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header(header::CONTENT_LENGTH), Some("0"));
    assert!(r.body.is_empty());
}

#[tokio::test]
async fn growing_file_is_served_as_it_is() {
    let f = fixture().await;
    let (id, path) = f.ticket_with_file("live.wav", &audio(1000)).await;
    let uri = format!("/api/v1/tickets/{id}/recording");
    let r = get(&f.app, &uri, None).await;
    assert_eq!(r.body.len(), 1000);
    std::fs::write(&path, audio(3000)).unwrap();
    let r = get(&f.app, &uri, None).await;
    assert_eq!(r.header(header::CONTENT_LENGTH), Some("3000"));
    assert!(r.body == audio(3000));
}

#[tokio::test]
async fn byte_ranges() {
    let f = fixture().await;
    let bytes = audio(150_000);
    let (id, _) = f.ticket_with_file("call.wav", &bytes).await;
    let uri = format!("/api/v1/tickets/{id}/recording");
    for (range, start, end) in [
        ("bytes=0-43", 0usize, 43usize),
        ("bytes=100-70000", 100, 70000),
        ("bytes=149990-", 149_990, 149_999),
        ("bytes=140000-999999", 140_000, 149_999),
        ("bytes=-10", 149_990, 149_999),
        ("bytes=149999-149999", 149_999, 149_999),
    ] {
        let r = get(&f.app, &uri, Some(range)).await;
        assert_eq!(r.status, StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(r.header(header::CONTENT_TYPE), Some("audio/wav"));
        assert_eq!(
            r.header(header::CONTENT_RANGE),
            Some(format!("bytes {start}-{end}/150000").as_str()),
            "{range}"
        );
        let len = end - start + 1;
        assert_eq!(
            r.header(header::CONTENT_LENGTH),
            Some(len.to_string().as_str())
        );
        assert!(r.body == bytes[start..=end], "{range}: body differs");
    }

    // Several ranges: the whole file (we do not do multipart).
    let r = get(&f.app, &uri, Some("bytes=0-1,5-6")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body.len(), 150_000);

    for range in [
        "bytes=150000-",
        "bytes=200-100",
        "bytes=-0",
        "bytes=x-y",
        "bytes",
    ] {
        let r = get(&f.app, &uri, Some(range)).await;
        assert_error(
            &r,
            StatusCode::RANGE_NOT_SATISFIABLE,
            "range_not_satisfiable",
        );
        assert_eq!(r.header(header::CONTENT_RANGE), Some("bytes */150000"));
    }
}
