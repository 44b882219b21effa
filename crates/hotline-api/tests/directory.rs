//! Sessions and the directory routes (users, units, catalogue, KB, calendar) against a real SQLite
//! store.

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use axum::Router;
use chrono::{TimeDelta, Utc};
use hotline_api::*;
use hotline_tickets::TicketStore;
use hotline_workflow::Role;
use serde_json::{json, Value};

mod common;

use common::{calendar, request, sqlite_store, NoAgents};

const ADMIN: &str = "directory-admin-token";

struct Fixture {
    _dir: tempfile::TempDir,
    store: TicketStore,
    app: Router,
}

async fn fixture() -> Fixture {
    let (dir, store) = sqlite_store().await;
    let files = calendar();
    let edits = store.list_calendar_days().await.unwrap();
    let kb = load_kb(&store).await.unwrap();
    let state = ApiState::new(store.clone(), ADMIN, Arc::new(NoAgents))
        .with_agent_logins(vec![
            AgentLogin {
                id: "1001".into(),
                name: "坐席一".into(),
                password: "sip-pass-1001".into(),
                role: Role::Agent,
            },
            AgentLogin {
                id: "2001".into(),
                name: "班长".into(),
                password: "sip-pass-2001".into(),
                role: Role::Supervisor,
            },
        ])
        .with_kb(kb)
        .with_calendar(files, &edits);
    Fixture {
        _dir: dir,
        store,
        app: router(state),
    }
}

async fn admin(
    app: &Router,
    method: Method,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    request(app, method, uri, Some(ADMIN), body).await
}

async fn login(app: &Router, user: &str, password: &str) -> (StatusCode, Value) {
    request(
        app,
        Method::POST,
        "/api/v1/login",
        None,
        Some(json!({"user": user, "password": password})),
    )
    .await
}

async fn token_of(app: &Router, user: &str, password: &str) -> String {
    let (status, body) = login(app, user, password).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["token"].as_str().unwrap().to_string()
}

fn assert_error(v: &Value, code: &str, reason_contains: &str) {
    assert_eq!(v["error"], code, "{v}");
    assert!(
        v["reason"]
            .as_str()
            .unwrap_or_default()
            .contains(reason_contains),
        "{v}"
    );
}

#[tokio::test]
async fn agent_from_config_and_db_user_log_in() {
    let f = fixture().await;
    let (status, body) = login(&f.app, "1001", "sip-pass-1001").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"], "1001");
    assert_eq!(body["role"], "agent");
    assert_eq!(body["unit"], Value::Null);
    assert!(body["expires_at"].is_string());
    let token = body["token"].as_str().unwrap().to_string();
    let (status, me) = request(&f.app, Method::GET, "/api/v1/me", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["name"], "坐席一");
    // An agent reads the existing routes too.
    let (status, _) = request(&f.app, Method::GET, "/api/v1/tickets", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);

    // Wrong password and unknown user get the same answer.
    for (user, pw) in [
        ("1001", "nope"),
        ("ghost", "whatever-pass"),
        ("boss", "wrong-pass"),
    ] {
        let (status, body) = login(&f.app, user, pw).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            body,
            json!({"error": "unauthorized", "reason": "wrong user or password"})
        );
    }

    let (status, body) = admin(
        &f.app,
        Method::POST,
        "/api/v1/users",
        Some(json!({"id": "boss", "name": "主任", "role": "admin", "password": "boss-pass-1"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body.get("password_hash").is_none());
    let boss = token_of(&f.app, "boss", "boss-pass-1").await;
    let (status, me) = request(&f.app, Method::GET, "/api/v1/me", Some(&boss), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (me["user"].as_str(), me["role"].as_str()),
        (Some("boss"), Some("admin"))
    );
    // An admin user manages users as the admin token does.
    let (status, list) = request(&f.app, Method::GET, "/api/v1/users", Some(&boss), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);

    // Logout ends the session.
    let (status, _) = request(&f.app, Method::POST, "/api/v1/logout", Some(&boss), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = request(&f.app, Method::GET, "/api/v1/me", Some(&boss), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "unauthorized");
    // No token at all.
    let (status, _) = request(&f.app, Method::GET, "/api/v1/units", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn expired_token_is_refused() {
    let f = fixture().await;
    let p = Principal {
        user: "1001".into(),
        role: Role::Agent,
        name: "坐席一".into(),
    };
    let old = f
        .store
        .issue_token(&p, Utc::now() - TimeDelta::hours(13), TimeDelta::hours(12))
        .await
        .unwrap();
    let (status, body) = request(&f.app, Method::GET, "/api/v1/me", Some(&old), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "unauthorized");
    let fresh = f
        .store
        .issue_token(&p, Utc::now(), TimeDelta::hours(12))
        .await
        .unwrap();
    let (status, _) = request(&f.app, Method::GET, "/api/v1/me", Some(&fresh), None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn liaison_is_forbidden_user_admin_and_centre_screens() {
    let f = fixture().await;
    let (status, unit) = admin(
        &f.app,
        Method::POST,
        "/api/v1/units",
        Some(json!({"code": "water", "name": "水务集团", "kind": "utility", "partner": true})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{unit}");
    let (status, body) = admin(
        &f.app,
        Method::POST,
        "/api/v1/users",
        Some(json!({"id": "li", "name": "联络员", "role": "liaison", "password": "liaison-pass"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "invalid", "unit_id");
    let (status, body) = admin(
        &f.app,
        Method::POST,
        "/api/v1/users",
        Some(json!({"id": "li", "name": "联络员", "role": "liaison", "unit_id": unit["id"], "password": "liaison-pass"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = admin(
        &f.app,
        Method::POST,
        "/api/v1/users",
        Some(json!({"id": "li", "name": "again", "role": "agent", "password": "liaison-pass"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_error(&body, "conflict", "id");
    let (status, body) = admin(
        &f.app,
        Method::POST,
        "/api/v1/users",
        Some(json!({"id": "x", "name": "x", "role": "boss", "password": "long-enough"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "bad_request", "role");

    let (status, body) = login(&f.app, "li", "liaison-pass").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["role"], "liaison");
    assert_eq!(body["unit"], unit["id"]);
    let li = body["token"].as_str().unwrap().to_string();
    for (method, uri) in [
        (Method::GET, "/api/v1/users"),
        (Method::GET, "/api/v1/users/li"),
        (Method::DELETE, "/api/v1/users/li"),
        (Method::GET, "/api/v1/sos/devices"),
    ] {
        let (status, body) = request(&f.app, method, uri, Some(&li), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{uri}");
        assert_eq!(body["error"], "forbidden");
    }
    let (status, body) = request(
        &f.app,
        Method::POST,
        "/api/v1/units",
        Some(&li),
        Some(json!({"code": "x", "name": "x", "kind": "other"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_error(&body, "forbidden", "liaison");
    // Reading is for everyone.
    for uri in [
        "/api/v1/units",
        "/api/v1/catalogue",
        "/api/v1/kb",
        "/api/v1/calendar?year=2026",
    ] {
        let (status, _) = request(&f.app, Method::GET, uri, Some(&li), None).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
    }

    // Deactivating the user ends the session.
    let (status, _) = admin(&f.app, Method::DELETE, "/api/v1/users/li", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = request(&f.app, Method::GET, "/api/v1/me", Some(&li), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, u) = admin(&f.app, Method::GET, "/api/v1/users/li", None).await;
    assert_eq!(u["active"], false);
}

#[tokio::test]
async fn units_crud_and_cycle_refusal() {
    let f = fixture().await;
    let post = |body: Value| admin(&f.app, Method::POST, "/api/v1/units", Some(body));
    let (status, centre) =
        post(json!({"code": "centre", "name": "12345中心", "kind": "centre"})).await;
    assert_eq!(status, StatusCode::CREATED, "{centre}");
    let (_, district) = post(json!({"code": "futian", "name": "福田区", "kind": "district", "parent_id": centre["id"], "area": "440304"})).await;
    let (_, street) = post(json!({"code": "lianhua", "name": "莲花街道", "kind": "street", "parent_id": district["id"]})).await;
    let (status, body) = post(json!({"code": "futian", "name": "dup", "kind": "district"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_error(&body, "conflict", "code");
    let (status, body) = post(json!({"code": "x", "name": "x", "kind": "planet"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "bad_request", "kind");
    let (status, body) = post(json!({"code": "x", "name": " ", "kind": "other"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "invalid", "name");

    // By code or by id.
    let (status, got) = admin(&f.app, Method::GET, "/api/v1/units/futian", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, district);
    let uri = format!("/api/v1/units/{}", district["id"]);
    let (_, got) = admin(&f.app, Method::GET, &uri, None).await;
    assert_eq!(got["code"], "futian");
    let (status, _) = admin(&f.app, Method::GET, "/api/v1/units/nope", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let uri = format!("/api/v1/units?parent={}", centre["id"]);
    let (_, list) = admin(&f.app, Method::GET, &uri, None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let (_, list) = admin(
        &f.app,
        Method::GET,
        "/api/v1/units?q=%E8%8E%B2%E8%8A%B1",
        None,
    )
    .await;
    assert_eq!(list["items"][0]["code"], "lianhua");

    // Moving the district under its own street is a cycle.
    let mut upd = district.clone();
    upd["parent_id"] = street["id"].clone();
    let (status, body) = admin(
        &f.app,
        Method::PUT,
        "/api/v1/units/futian",
        Some(upd.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "invalid", "parent_id");
    assert!(body["reason"].as_str().unwrap().contains("cycle"), "{body}");
    // A GET body sent back with a new name, code left out.
    let mut upd = district.clone();
    upd["name"] = json!("福田区政府");
    upd.as_object_mut().unwrap().remove("code");
    let (status, body) = admin(&f.app, Method::PUT, "/api/v1/units/futian", Some(upd)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "福田区政府");

    let (status, _) = admin(&f.app, Method::DELETE, "/api/v1/units/lianhua", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, got) = admin(&f.app, Method::GET, "/api/v1/units/lianhua", None).await;
    assert_eq!(got["active"], false);
}

#[tokio::test]
async fn catalogue_validates_units_and_times() {
    let f = fixture().await;
    for code in ["water", "futian"] {
        let (status, _) = admin(
            &f.app,
            Method::POST,
            "/api/v1/units",
            Some(json!({"code": code, "name": code, "kind": "other"})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let sup = token_of(&f.app, "2001", "sip-pass-2001").await;
    let (status, body) = request(
        &f.app,
        Method::POST,
        "/api/v1/catalogue",
        Some(&sup),
        Some(json!({"category": "供水", "lead_unit": "nope"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "invalid", "lead_unit: no unit with code \"nope\"");
    let (status, body) = request(
        &f.app,
        Method::POST,
        "/api/v1/catalogue",
        Some(&sup),
        Some(json!({"lead_unit": "water", "window_from": "8:00", "window_to": "18:00"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "invalid", "window_from");
    let (status, rule) = request(
        &f.app,
        Method::POST,
        "/api/v1/catalogue",
        Some(&sup),
        Some(json!({"category": "供水", "area": "440304", "window_from": "18:00", "window_to": "08:00",
                    "days": ["mon", "working"], "lead_unit": "water", "co_units": ["futian"]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{rule}");
    assert_eq!(rule["co_units"], json!(["futian"]));
    let uri = format!("/api/v1/catalogue/{}", rule["id"]);
    let mut upd = rule.clone();
    upd["co_units"] = json!(["ghost"]);
    let (status, body) = request(&f.app, Method::PUT, &uri, Some(&sup), Some(upd)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "invalid", "co_units[0]");
    let mut upd = rule.clone();
    upd["note"] = json!("夜间");
    let (status, body) = request(&f.app, Method::PUT, &uri, Some(&sup), Some(upd)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["note"], "夜间");
    // An agent reads but does not write.
    let agent = token_of(&f.app, "1001", "sip-pass-1001").await;
    let (status, list) =
        request(&f.app, Method::GET, "/api/v1/catalogue", Some(&agent), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let (status, _) = request(&f.app, Method::DELETE, &uri, Some(&agent), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = request(&f.app, Method::DELETE, &uri, Some(&sup), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = request(&f.app, Method::GET, &uri, Some(&sup), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn kb_search_finds_chinese_by_two_characters() {
    let f = fixture().await;
    let items = [
        (
            "社保卡丢失后怎么补办？",
            "携带身份证到社保经办机构办理。",
            "社会保障",
        ),
        (
            "护照过期了如何换发？",
            "向户籍所在地出入境管理部门申请。",
            "出入境",
        ),
        ("路灯不亮找谁？", "由城管部门负责维修。", "市政"),
    ];
    let mut ids = Vec::new();
    for (q, a, c) in items {
        let (status, body) = admin(
            &f.app,
            Method::POST,
            "/api/v1/kb",
            Some(json!({"question": q, "answer": a, "category": c})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        ids.push(body["id"].as_i64().unwrap());
    }
    let agent = token_of(&f.app, "1001", "sip-pass-1001").await;
    let (status, hits) = request(
        &f.app,
        Method::GET,
        "/api/v1/kb?q=%E6%8A%A4%E7%85%A7",
        Some(&agent),
        None,
    )
    .await; // 护照
    assert_eq!(status, StatusCode::OK);
    assert_eq!(hits["items"][0]["id"], ids[1], "{hits}");
    assert!(hits["items"][0]["answer"]
        .as_str()
        .unwrap()
        .contains("出入境"));
    let (_, hits) = request(
        &f.app,
        Method::GET,
        "/api/v1/kb?q=%E7%A4%BE%E4%BF%9D&limit=1",
        Some(&agent),
        None,
    )
    .await; // 社保
    assert_eq!(hits["items"].as_array().unwrap().len(), 1);
    assert_eq!(hits["items"][0]["id"], ids[0]);

    // An update is searchable at once; a deactivated or deleted item is gone from search.
    let uri = format!("/api/v1/kb/{}", ids[2]);
    let (status, body) = admin(
        &f.app,
        Method::PUT,
        &uri,
        Some(json!({"question": "路灯不亮找谁？", "answer": "拨打12345或联系城管。", "keywords": ["照明"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, hits) = admin(&f.app, Method::GET, "/api/v1/kb?q=%E7%85%A7%E6%98%8E", None).await; // 照明
    assert_eq!(hits["items"][0]["id"], ids[2]);
    let (status, _) = request(&f.app, Method::DELETE, &uri, Some(&agent), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = admin(&f.app, Method::DELETE, &uri, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, hits) = admin(&f.app, Method::GET, "/api/v1/kb?q=%E7%85%A7%E6%98%8E", None).await;
    // (护照 still shares the character 照.)
    assert!(
        hits["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["id"] != ids[2]),
        "{hits}"
    );
    let uri = format!("/api/v1/kb/{}", ids[1]);
    let (_, item) = admin(&f.app, Method::GET, &uri, None).await;
    let mut upd = item.clone();
    upd["active"] = json!(false);
    let (status, _) = admin(&f.app, Method::PUT, &uri, Some(upd)).await;
    assert_eq!(status, StatusCode::OK);
    let (_, hits) = admin(&f.app, Method::GET, "/api/v1/kb?q=%E6%8A%A4%E7%85%A7", None).await;
    assert_eq!(hits["items"], json!([]));
    let (_, all) = admin(
        &f.app,
        Method::GET,
        "/api/v1/kb?include_inactive=true",
        None,
    )
    .await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    let (status, body) = admin(
        &f.app,
        Method::POST,
        "/api/v1/kb",
        Some(json!({"question": "q"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "invalid", "answer");

    // The index is rebuilt from the store at start-up.
    let index = load_kb(&f.store).await.unwrap();
    assert_eq!(index.len(), 1);
}

#[tokio::test]
async fn calendar_edit_moves_deadlines() {
    let f = fixture().await;
    // Friday 6 March 2026, 10:00 in Shanghai: one working day is Monday the 9th.
    let add = "/api/v1/calendar/add?start=2026-03-06T10:00:00%2B08:00&working_days=1";
    let (status, body) = admin(&f.app, Method::GET, add, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["due_local"], "2026-03-09T23:59:59.999+08:00");
    assert_eq!(body["provisional"], false);

    let (_, day) = admin(&f.app, Method::GET, "/api/v1/calendar/2026-03-07", None).await;
    assert_eq!(day["working"], false);
    let sup = token_of(&f.app, "2001", "sip-pass-2001").await;
    let (status, day) = request(
        &f.app,
        Method::PUT,
        "/api/v1/calendar/2026-03-07",
        Some(&sup),
        Some(json!({"working": true, "note": "台风补班"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{day}");
    assert_eq!(day["working"], true);
    assert_eq!(day["note"], "台风补班");
    let (_, body) = admin(&f.app, Method::GET, add, None).await;
    assert_eq!(body["due_local"], "2026-03-07T23:59:59.999+08:00");
    let (_, year) = admin(&f.app, Method::GET, "/api/v1/calendar?year=2026", None).await;
    let days = year["days"].as_array().unwrap();
    assert!(days
        .iter()
        .any(|d| d["date"] == "2026-03-07" && d["edited"] == true));
    // From the files: New Year's Day off, Sunday 4 January a make-up working day.
    assert!(days
        .iter()
        .any(|d| d["date"] == "2026-01-01" && d["working"] == false));
    assert!(days
        .iter()
        .any(|d| d["date"] == "2026-01-04" && d["working"] == true));
    assert!(
        !days.iter().any(|d| d["date"] == "2026-03-14"),
        "an ordinary Saturday"
    );
    assert_eq!(year["provisional"], false);
    assert_eq!(f.store.list_calendar_days().await.unwrap().len(), 1);

    // Agents may not edit; bad dates are 400.
    let agent = token_of(&f.app, "1001", "sip-pass-1001").await;
    let (status, _) = request(
        &f.app,
        Method::PUT,
        "/api/v1/calendar/2026-03-14",
        Some(&agent),
        Some(json!({"working": true})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = admin(&f.app, Method::GET, "/api/v1/calendar/2026-02-30", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_error(&body, "bad_request", "date");

    // Deleting the edit brings the Saturday back.
    let (status, _) = admin(&f.app, Method::DELETE, "/api/v1/calendar/2026-03-07", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, body) = admin(&f.app, Method::GET, add, None).await;
    assert_eq!(body["due_local"], "2026-03-09T23:59:59.999+08:00");
    let (status, _) = admin(&f.app, Method::DELETE, "/api/v1/calendar/2026-03-07", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
