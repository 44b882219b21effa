//! The SOS handset registry, `/api/v1/sos/devices` (`src/sos.rs`), against a real SQLite store.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use hotline_api::*;
use hotline_tickets::TicketStore;
use serde_json::{json, Value};
use tower::ServiceExt;

mod common;

use common::{request_reply, sqlite_store, NoAgents};

const TOKEN: &str = "sos-token";
const DEVICES: &str = "/api/v1/sos/devices";

struct Fixture {
    _dir: tempfile::TempDir,
    store: TicketStore,
    app: Router,
}

async fn fixture() -> Fixture {
    let (dir, store) = sqlite_store().await;
    let app = router(ApiState::new(store.clone(), TOKEN, Arc::new(NoAgents)));
    Fixture {
        _dir: dir,
        store,
        app,
    }
}

struct Reply {
    status: StatusCode,
    location: Option<String>,
    body: Value,
}

async fn send(app: &Router, method: Method, uri: &str, body: Option<Value>, auth: bool) -> Reply {
    let r = request_reply(app, method, uri, auth.then_some(TOKEN), body).await;
    Reply {
        status: r.status,
        location: r.header(header::LOCATION).map(str::to_string),
        body: r.json(),
    }
}

async fn call(app: &Router, method: Method, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
    let r = send(app, method, uri, body, true).await;
    (r.status, r.body)
}

fn assert_error(v: &Value, code: &str, reason_starts: &str) {
    assert_eq!(v["error"], code, "{v}");
    let reason = v["reason"].as_str().unwrap_or_default();
    assert!(reason.starts_with(reason_starts), "{v}");
}

fn elder(number: &str, name: &str, community: &str) -> Value {
    json!({
        "number": number,
        "name": name,
        "age": 81,
        "gender": "女",
        "address": format!("深圳市南山区{community}社区1栋"),
        "medical_notes": "冠心病，随身携带硝酸甘油",
        "contacts": [
            {"name": "张伟", "number": "+86 138-0000-0011", "relation": "儿子"},
            {"name": "李娜", "number": "13900000012"}
        ],
        "community": community,
        "preferred_hospital": "南山医院",
        "latitude": 22.53,
        "longitude": 113.93
    })
}

#[tokio::test]
async fn create_get_and_conflict() {
    let f = fixture().await;
    let r = send(
        &f.app,
        Method::POST,
        DEVICES,
        Some(elder("+86 138 0000 0001", "王秀兰", "桃源")),
        true,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(
        r.location.as_deref(),
        Some("/api/v1/sos/devices/13800000001")
    );
    let d = r.body;
    assert_eq!(d["number"], "13800000001");
    assert_eq!(d["age"], 81);
    assert_eq!(d["contacts"][0]["number"], "13800000011");
    assert_eq!(d["contacts"][0]["relation"], "儿子");
    assert_eq!(d["contacts"][1]["name"], "李娜");
    assert_eq!(d["contacts"][1]["relation"], Value::Null);
    assert_eq!(d["created_at"], d["updated_at"]);

    // The path is normalised too; `+` is literal in a path, %2B its encoding.
    for uri in [
        "/api/v1/sos/devices/13800000001",
        "/api/v1/sos/devices/+8613800000001",
        "/api/v1/sos/devices/%2B86%20138-0000-0001",
    ] {
        let (s, v) = call(&f.app, Method::GET, uri, None).await;
        assert_eq!(s, StatusCode::OK, "{uri}: {v}");
        assert_eq!(v, d, "{uri}");
    }
    // What the switch sees.
    let stored = f.store.sos_device("8613800000001").await.unwrap().unwrap();
    assert_eq!(serde_json::to_value(&stored).unwrap(), d);

    // The same number again, written differently: 409.
    let (s, v) = call(
        &f.app,
        Method::POST,
        DEVICES,
        Some(elder("138-0000-0001", "李桂英", "桃源")),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_error(&v, "conflict", "SOS device 13800000001");

    for uri in ["/api/v1/sos/devices/13800000009", "/api/v1/sos/devices/abc"] {
        let (s, v) = call(&f.app, Method::GET, uri, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{uri}");
        assert_error(&v, "not_found", "no SOS device");
    }
}

#[tokio::test]
async fn invalid_bodies_name_the_field() {
    let f = fixture().await;
    let cases = [
        (json!({"name": "x", "address": "y"}), "number: required"),
        (elder("12", "王秀兰", "桃源"), "number: "),
        (elder("13800000001", " ", "桃源"), "name: required"),
        (
            elder("13800000001", &"名".repeat(101), "桃源"),
            "name: at most 100",
        ),
        (
            {
                let mut e = elder("13800000001", "王秀兰", "桃源");
                e["age"] = json!(151);
                e
            },
            "age: ",
        ),
        (
            {
                let mut e = elder("13800000001", "王秀兰", "桃源");
                e["address"] = json!("");
                e
            },
            "address: required",
        ),
        (
            {
                let mut e = elder("13800000001", "王秀兰", "桃源");
                e["contacts"][1]["number"] = json!("unknown");
                e
            },
            "contacts[1].number: ",
        ),
        (
            {
                let mut e = elder("13800000001", "王秀兰", "桃源");
                e["contacts"] = json!(vec![json!({"name": "a", "number": "110"}); 11]);
                e
            },
            "contacts: at most 10",
        ),
        (
            {
                let mut e = elder("13800000001", "王秀兰", "桃源");
                e["medical_notes"] = json!("x".repeat(2001));
                e
            },
            "medical_notes: at most 2000",
        ),
        (
            {
                let mut e = elder("13800000001", "王秀兰", "桃源");
                e["hospital"] = json!("x");
                e
            },
            "hospital: unknown field",
        ),
    ];
    for (body, reason) in cases {
        let (s, v) = call(&f.app, Method::POST, DEVICES, Some(body)).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{reason}: {v}");
        assert_error(&v, "invalid", reason);
    }
    // Not JSON at all: the API's usual bad_request.
    let req = Request::builder()
        .method(Method::POST)
        .uri(DEVICES)
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .body(Body::from("{nope"))
        .unwrap();
    let resp = f.app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // Nothing was stored.
    let (_, v) = call(&f.app, Method::GET, DEVICES, None).await;
    assert_eq!(v["total"], 0);
}

#[tokio::test]
async fn replace_and_delete() {
    let f = fixture().await;
    for (n, name) in [("13800000001", "王秀兰"), ("13800000002", "李桂英")] {
        let (s, _) = call(&f.app, Method::POST, DEVICES, Some(elder(n, name, "桃源"))).await;
        assert_eq!(s, StatusCode::CREATED);
    }
    let (_, before) = call(&f.app, Method::GET, "/api/v1/sos/devices/13800000001", None).await;

    // PUT without a number keeps the path's; absent optional fields are cleared (a replacement).
    let body = json!({"name": "王秀兰", "address": "深圳市南山区新地址", "contacts": [
        {"name": "李娜", "number": "13900000012"},
        {"name": "张伟", "number": "13800000011", "relation": "儿子"}
    ]});
    let (s, v) = call(
        &f.app,
        Method::PUT,
        "/api/v1/sos/devices/+8613800000001",
        Some(body),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["number"], "13800000001");
    assert_eq!(v["address"], "深圳市南山区新地址");
    assert_eq!(v["age"], Value::Null);
    assert_eq!(v["community"], Value::Null);
    assert_eq!(v["contacts"][0]["name"], "李娜");
    assert_eq!(v["created_at"], before["created_at"]);

    // A device read with GET can be PUT back as it is (timestamps are ignored).
    let (s, again) = call(
        &f.app,
        Method::PUT,
        "/api/v1/sos/devices/13800000001",
        Some(v.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(again["contacts"], v["contacts"]);

    // Moving onto a taken number: 409; onto a free one: moved.
    let mut moved = v.clone();
    moved["number"] = json!("13800000002");
    let (s, e) = call(
        &f.app,
        Method::PUT,
        "/api/v1/sos/devices/13800000001",
        Some(moved.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_error(&e, "conflict", "");
    moved["number"] = json!("13800000003");
    let (s, m) = call(
        &f.app,
        Method::PUT,
        "/api/v1/sos/devices/13800000001",
        Some(moved),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(m["number"], "13800000003");
    let (s, _) = call(&f.app, Method::GET, "/api/v1/sos/devices/13800000001", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Unknown device; invalid body.
    let (s, e) = call(
        &f.app,
        Method::PUT,
        "/api/v1/sos/devices/13800000009",
        Some(elder("13800000009", "x", "y")),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_error(&e, "not_found", "");
    let (s, e) = call(
        &f.app,
        Method::PUT,
        "/api/v1/sos/devices/13800000003",
        Some(json!({"name": "x"})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_error(&e, "invalid", "address: required");

    // DELETE: 204 with no body, then 404.
    let r = send(
        &f.app,
        Method::DELETE,
        "/api/v1/sos/devices/138-0000-0003",
        None,
        true,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(r.body, Value::Null);
    let (s, e) = call(
        &f.app,
        Method::DELETE,
        "/api/v1/sos/devices/13800000003",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_error(&e, "not_found", "");
}

#[tokio::test]
async fn list_filters_and_pages() {
    let f = fixture().await;
    for (n, name, community) in [
        ("13800000001", "王秀兰", "桃源"),
        ("13800000002", "李桂英", "西丽"),
        ("13800000003", "张建国", "桃源"),
        ("13800000004", "陈德明", "桃源"),
    ] {
        let (s, _) = call(
            &f.app,
            Method::POST,
            DEVICES,
            Some(elder(n, name, community)),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED);
    }
    let (s, v) = call(&f.app, Method::GET, DEVICES, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (v["total"].clone(), v["page"].clone()),
        (json!(4), json!(1))
    );
    assert_eq!(v["items"].as_array().unwrap().len(), 4);

    let uri = format!(
        "{DEVICES}?community={}&page=2&per_page=2",
        "%E6%A1%83%E6%BA%90" // 桃源
    );
    let (s, v) = call(&f.app, Method::GET, &uri, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["total"], 3);
    assert_eq!(
        (v["page"].clone(), v["per_page"].clone()),
        (json!(2), json!(2))
    );
    assert_eq!(v["items"][0]["name"], "陈德明");

    let (_, v) = call(&f.app, Method::GET, &format!("{DEVICES}?q=0000-0002"), None).await;
    assert_eq!(v["total"], 1);
    assert_eq!(v["items"][0]["name"], "李桂英");
    let q = "%E5%BB%BA%E5%9B%BD"; // 建国
    let (_, v) = call(&f.app, Method::GET, &format!("{DEVICES}?q={q}"), None).await;
    assert_eq!(v["items"][0]["number"], "13800000003");

    let (s, v) = call(&f.app, Method::GET, &format!("{DEVICES}?page=0"), None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_error(&v, "bad_request", "page");
    let (s, _) = call(&f.app, Method::GET, &format!("{DEVICES}?per_page=x"), None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn needs_the_token_and_allowed_methods() {
    let f = fixture().await;
    for (m, uri) in [
        (Method::GET, DEVICES.to_string()),
        (Method::POST, DEVICES.to_string()),
        (Method::GET, format!("{DEVICES}/13800000001")),
        (Method::PUT, format!("{DEVICES}/13800000001")),
        (Method::DELETE, format!("{DEVICES}/13800000001")),
    ] {
        let r = send(&f.app, m.clone(), &uri, Some(json!({})), false).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{m} {uri}");
        assert_error(&r.body, "unauthorized", "");
    }
    let (s, v) = call(&f.app, Method::DELETE, DEVICES, None).await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    assert_error(&v, "method_not_allowed", "");
}
