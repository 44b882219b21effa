//! The ticket lifecycle through the HTTP API (`src/routing/`) on SQLite and, when `HOTLINE_TEST_PG_URL` is
//! set, PostgreSQL: intake, catalogue dispatch, sign, reply, review, callback, the refusals, history, the
//! unit's work list and the audit chain.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use hotline_api::*;
use hotline_tickets::TicketStore;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

mod common;

use common::{calendar, request, routing_config, routing_setup, seed, NoAgents, TestDb};

const TOKEN: &str = "routing-token";

struct Fixture {
    db: TestDb,
    app: Router,
    store: TicketStore,
}

impl Fixture {
    async fn cleanup(self) {
        self.db.cleanup().await;
    }
}

async fn fixture(pg: bool) -> Option<Fixture> {
    let db = TestDb::new(pg, "hotline_api_routing").await?;
    let store = db.store.clone();
    let cfg = routing_config();
    seed(&store, &cfg).await;
    let setup = routing_setup(cfg);
    let app = router(
        ApiState::new(store.clone(), TOKEN, Arc::new(NoAgents))
            .with_calendar(calendar(), &[])
            .with_agent_logins(vec![AgentLogin {
                id: "1001".into(),
                name: "坐席1001".into(),
                password: "secret-1001".into(),
                role: hotline_workflow::Role::Agent,
            }])
            .with_routing(setup),
    );
    Some(Fixture { db, app, store })
}

async fn call(app: &Router, method: Method, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
    call_as(app, TOKEN, method, uri, body).await
}

async fn call_as(
    app: &Router,
    token: &str,
    method: Method,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    request(app, method, uri, Some(token), body).await
}

async fn act(app: &Router, id: &str, body: Value) -> (StatusCode, Value) {
    call(
        app,
        Method::POST,
        &format!("/api/v1/tickets/{id}/actions"),
        Some(body),
    )
    .await
}

async fn lifecycle(pg: bool) {
    let Some(fx) = fixture(pg).await else {
        eprintln!("skipping: HOTLINE_TEST_PG_URL unset");
        return;
    };
    let app = &fx.app;
    let (s, t) = call(
        app,
        Method::POST,
        "/api/v1/tickets",
        Some(json!({
            "channel": "wechat",
            "caller": "13800001234",
            "type": "complaint",
            "category": "construction.construction_noise",
            "area": "dongcheng.xinhua.wenhua",
            "address": "文化路18号",
            "content": "工地夜间施工噪音扰民",
            "request": "要求晚上十点后停工",
            "received_at": "2026-11-23T01:00:00Z"
        })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    assert_eq!(t["state"], "accepted");
    assert_eq!(t["channel"], "wechat");
    assert_eq!(t["category_major"], "construction");
    assert_eq!(t["district"], "dongcheng");
    assert_eq!(t["first_response_due"], "2026-11-23T01:03:00Z");
    let number = t["number"].as_str().unwrap().to_string();
    let id = t["id"].as_i64().unwrap().to_string();

    // Unknown category: 422 naming the field; nothing created.
    let (s, e) = call(
        app,
        Method::POST,
        "/api/v1/tickets",
        Some(json!({"channel": "sms", "type": "help", "category": "nope", "content": "x"})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert!(e["reason"].as_str().unwrap().contains("category"), "{e}");

    // Illegal now: sign before dispatch is a 409 with the reason.
    let (s, e) = act(app, &id, json!({"action": "sign", "assignment": 0})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["error"], "conflict");
    assert!(e["reason"].as_str().unwrap().contains("cannot sign"), "{e}");
    let (s, e) = act(app, &id, json!({"action": "teleport"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");

    // Dispatch by the catalogue (no lead named), addressed by number.
    let (s, t) = act(app, &number, json!({"action": "dispatch"})).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["state"], "dispatched");
    let lead = t["lead_unit"].as_i64().unwrap();
    assert_eq!(t["workflow"]["assignments"][0]["unit"], lead);
    assert!(t["resolve_due"].is_string());
    // The catalogue's rule for construction → the urban management bureau.
    let urban = fx
        .store
        .unit_by_code("urban_management")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lead, urban.id);
    let (_, units) = call(app, Method::GET, "/api/v1/assignments?state=open", None).await;
    assert_eq!(units["total"], 1, "{units}");
    assert_eq!(units["items"][0]["unit_id"], lead);

    // The unit signs and replies (the admin may act for any unit), the centre approves, the caller is
    // called back and satisfied.
    let (s, t) = act(app, &id, json!({"action": "sign"})).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["state"], "in_progress");
    let (s, t) = act(
        app,
        &id,
        json!({"action": "reply", "outcome": "resolved", "contact_method": "phone",
               "contacted_at": "2026-11-23T02:00:00Z", "public_text": "已责令夜间停工"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["state"], "replied");
    let (s, t) = act(app, &id, json!({"action": "review", "approve": true})).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["state"], "pending_callback");
    let (s, e) = act(
        app,
        &id,
        json!({"action": "callback", "reached": true, "grade": "A+"}),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    let (s, t) = act(
        app,
        &id,
        json!({"action": "callback", "reached": true, "resolved": true, "grade": "satisfied",
               "comment": "很满意"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["state"], "closed");
    assert!(t["closed_at"].is_string());
    // Closed is closed: a second callback conflicts.
    let (s, _) = act(app, &id, json!({"action": "callback", "reached": false})).await;
    assert_eq!(s, StatusCode::CONFLICT);

    let (s, h) = call(
        app,
        Method::GET,
        &format!("/api/v1/tickets/{id}/history"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let actions: Vec<&str> = h["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "create",
            "queue_for_dispatch",
            "dispatch",
            "sign",
            "reply",
            "review",
            "callback"
        ]
    );
    let (s, v) = call(app, Method::GET, "/api/v1/audit/verify", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["ok"], true, "{v}");
    // Seeding the units and the catalogue (2) and the ticket's 7 changes.
    assert_eq!(v["report"]["count"], 9);

    // The list filters by state.
    let (_, l) = call(app, Method::GET, "/api/v1/tickets?state=closed", None).await;
    assert_eq!(l["total"], 1);
    assert_eq!(l["items"][0]["number"], number.as_str());
    fx.cleanup().await;
}

/// A liaison user of unit `code`, logged in; returns the token.
async fn liaison(fx: &Fixture, user: &str, code: &str) -> String {
    let unit = fx.store.unit_by_code(code).await.unwrap().unwrap();
    let (s, v) = call(
        &fx.app,
        Method::POST,
        "/api/v1/users",
        Some(
            json!({"id": user, "name": user, "role": "liaison", "unit_id": unit.id,
                    "password": "liaison-pass"}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    login(fx, user, "liaison-pass").await
}

async fn login(fx: &Fixture, user: &str, password: &str) -> String {
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"user": user, "password": password}).to_string(),
        ))
        .unwrap();
    let resp = fx.app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let v: Value =
        serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap();
    v["token"].as_str().unwrap().to_string()
}

/// The three-level network through HTTP with real liaison logins: the district government signs and passes
/// the work down to a street office, which replies; the district reviews it and replies up. Requests
/// (extension, return) and an unsatisfied callback that reopens the ticket; what each liaison may see.
async fn three_levels(pg: bool) {
    let Some(fx) = fixture(pg).await else {
        eprintln!("skipping: HOTLINE_TEST_PG_URL unset");
        return;
    };
    let app = &fx.app;
    let district = liaison(&fx, "dc_wang", "dongcheng_gov").await;
    let street = liaison(&fx, "xh_li", "xinhua_office").await;
    let water = liaison(&fx, "water_zhao", "water_company").await;
    // The centre is an agent logged in with the SIP password of the config (an admin may act for any unit).
    let agent = login(&fx, "1001", "secret-1001").await;
    let act = |id: &str, body: Value| {
        let uri = format!("/api/v1/tickets/{id}/actions");
        let agent = agent.clone();
        async move { call_as(app, &agent, Method::POST, &uri, Some(body)).await }
    };
    let new = |content: &str| {
        json!({"channel": "web", "caller": "13900000077", "type": "help",
               "area": "dongcheng.xinhua.fuqian", "content": content})
    };
    let (s, t) = call_as(
        app,
        &agent,
        Method::POST,
        "/api/v1/tickets",
        Some(new("楼道灯坏了")),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let id = t["id"].as_i64().unwrap().to_string();
    // No category: no rule matches; the district government governs the area (兜底).
    let (s, t) = act(&id, json!({"action": "dispatch"})).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let dongcheng = fx
        .store
        .unit_by_code("dongcheng_gov")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t["lead_unit"], dongcheng.id);

    // Another unit's liaison does not see the ticket at all.
    let uri = format!("/api/v1/tickets/{id}");
    let (s, _) = call_as(app, &water, Method::GET, &uri, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, l) = call_as(app, &water, Method::GET, "/api/v1/tickets", None).await;
    assert_eq!(l["total"], 0, "{l}");
    let acts = format!("/api/v1/tickets/{id}/actions");
    let (s, _) = call_as(
        app,
        &water,
        Method::POST,
        &acts,
        Some(json!({"action": "sign", "assignment": 0})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // The district signs, asks for an extension (approved by the centre: the due date moves), passes down.
    let (s, t) = call_as(
        app,
        &district,
        Method::POST,
        &acts,
        Some(json!({"action": "sign"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let due_before = t["resolve_due"].as_str().unwrap().to_string();
    let (s, t) = call_as(
        app,
        &district,
        Method::POST,
        &acts,
        Some(json!({"action": "extend", "days": 2, "reason": "需协调物业"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    // A liaison cannot decide its own request.
    let (s, _) = call_as(
        app,
        &district,
        Method::POST,
        &acts,
        Some(json!({"action": "decide", "approve": true})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, t) = act(&id, json!({"action": "decide", "approve": true})).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert!(
        t["resolve_due"].as_str().unwrap() > due_before.as_str(),
        "{t}"
    );
    // Work passes down the tree only: the water company is not below the district government.
    let (s, e) = call_as(
        app,
        &district,
        Method::POST,
        &acts,
        Some(json!({"action": "sub_dispatch", "unit": "water_company"})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert!(e["reason"].as_str().unwrap().contains("unit tree"), "{e}");
    let xinhua = fx
        .store
        .unit_by_code("xinhua_office")
        .await
        .unwrap()
        .unwrap();
    let (s, t) = call_as(
        app,
        &district,
        Method::POST,
        &acts,
        Some(json!({"action": "sub_dispatch", "unit": "xinhua_office"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["workflow"]["assignments"][1]["unit"], xinhua.id);
    assert_eq!(t["workflow"]["assignments"][1]["level"], 2);
    // The street office sees it in its work list, signs and replies.
    let (_, w) = call_as(app, &street, Method::GET, "/api/v1/assignments", None).await;
    assert_eq!(w["total"], 1, "{w}");
    assert_eq!(w["items"][0]["idx"], 1);
    let (s, _) = call_as(
        app,
        &street,
        Method::POST,
        &acts,
        Some(json!({"action": "sign"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    // The district cannot reply up while the street's work is open.
    let (s, e) = call_as(
        app,
        &district,
        Method::POST,
        &acts,
        Some(
            json!({"action": "reply", "assignment": 0, "outcome": "resolved", "public_text": "x"}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    let (s, _) = call_as(
        app,
        &street,
        Method::POST,
        &acts,
        Some(json!({"action": "reply", "outcome": "resolved", "public_text": "已更换楼道灯"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    // The centre may not review a sub-dispatched reply; the parent unit does.
    let (s, _) = act(
        &id,
        json!({"action": "review", "assignment": 1, "approve": true}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, t) = call_as(
        app,
        &district,
        Method::POST,
        &acts,
        Some(json!({"action": "review", "approve": true})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let (s, t) = call_as(
        app,
        &district,
        Method::POST,
        &acts,
        Some(
            json!({"action": "reply", "assignment": 0, "outcome": "resolved",
                    "contact_method": "visit", "public_text": "街道已上门更换楼道灯"}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["state"], "replied");
    let (s, _) = act(&id, json!({"action": "review", "approve": true})).await;
    assert_eq!(s, StatusCode::OK);
    // Unsatisfied because of the unit: reopened to the same lead with a new deadline.
    let (s, t) = act(
        &id,
        json!({"action": "callback", "reached": true, "resolved": false,
        "grade": "unsatisfied", "unit_caused": true, "comment": "灯又坏了"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["state"], "dispatched");
    assert_eq!(t["lead_unit"], dongcheng.id);
    assert_eq!(t["workflow"]["assignments"][0]["reopen_count"], 1);

    // A return: asked by the unit within the window, approved by the centre → back to dispatch.
    let (s, t) = call_as(
        app,
        &agent,
        Method::POST,
        "/api/v1/tickets",
        Some(new("供水管道漏水")),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let id2 = t["id"].as_i64().unwrap().to_string();
    let (s, _) = act(&id2, json!({"action": "dispatch", "lead": "water_company"})).await;
    assert_eq!(s, StatusCode::OK);
    let acts2 = format!("/api/v1/tickets/{id2}/actions");
    let (s, _) = call_as(
        app,
        &water,
        Method::POST,
        &acts2,
        Some(json!({"action": "return", "reason": "属物业管理范围"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, t) = act(
        &id2,
        json!({"action": "decide", "approve": true, "note": "改派"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["state"], "pending_dispatch");
    assert_eq!(t["workflow"]["assignments"][0]["state"], "returned");
    // The returned unit no longer has open work.
    let (_, w) = call_as(
        app,
        &water,
        Method::GET,
        "/api/v1/assignments?state=open",
        None,
    )
    .await;
    assert_eq!(w["total"], 0, "{w}");
    // A confidential caller stays at the centre: the unit sees the ticket without number or name.
    let mut secret = new("举报违法排污");
    secret["confidential"] = json!(true);
    secret["caller_name"] = json!("匿名者");
    let (s, t) = call_as(app, &agent, Method::POST, "/api/v1/tickets", Some(secret)).await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let id3 = t["id"].as_i64().unwrap().to_string();
    let (s, _) = act(&id3, json!({"action": "dispatch", "lead": "water_company"})).await;
    assert_eq!(s, StatusCode::OK);
    let (_, seen) = call_as(
        app,
        &water,
        Method::GET,
        &format!("/api/v1/tickets/{id3}"),
        None,
    )
    .await;
    assert_eq!(
        (seen["caller"].as_str(), seen["caller_name"].is_null()),
        (Some(""), true),
        "{seen}"
    );
    let (_, listed) = call_as(app, &water, Method::GET, "/api/v1/tickets", None).await;
    let confidential: Vec<&Value> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["confidential"] == true)
        .collect();
    assert_eq!(confidential.len(), 1, "{listed}");
    assert_eq!(confidential[0]["caller"], "");
    let (_, seen) = call_as(
        app,
        &agent,
        Method::GET,
        &format!("/api/v1/tickets/{id3}"),
        None,
    )
    .await;
    assert_eq!(seen["caller"], "13900000077");
    // Another unit's recording is as invisible as its ticket.
    let (s, _) = call_as(
        app,
        &water,
        Method::GET,
        &format!("/api/v1/tickets/{id}/recording"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // A liaison's KPI report covers its own unit only, whatever it asks for.
    let water_id = fx
        .store
        .unit_by_code("water_company")
        .await
        .unwrap()
        .unwrap()
        .id;
    let (s, r) = call_as(
        app,
        &water,
        Method::GET,
        &format!(
            "/api/v1/reports/kpi?from=2000-01-01&to=2100-01-01&group_by=unit&unit={}",
            dongcheng.id
        ),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let units: Vec<&str> = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["keys"]["unit"].as_str().unwrap())
        .collect();
    assert_eq!(units, [water_id.to_string()], "{r}");

    // Directory changes are audited too, in their own transaction, with who did them.
    let (s, u) = call(
        app,
        Method::PUT,
        "/api/v1/units/water_company",
        Some(json!({"name": "江城市供水集团", "kind": "utility", "partner": true})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{u}");
    let (s, d) = call(
        app,
        Method::PUT,
        "/api/v1/calendar/2026-12-26",
        Some(json!({"working": true, "note": "演练调休"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    let unit_events = fx.store.audit_of("unit:water_company").await.unwrap();
    let last = unit_events.last().unwrap();
    assert_eq!(
        (last.action.as_str(), last.actor.as_str()),
        ("update", "admin:admin")
    );
    assert_eq!(last.before["name"], "江城市供水有限公司");
    assert_eq!(last.after["name"], "江城市供水集团");
    let day = fx.store.audit_of("calendar:2026-12-26").await.unwrap();
    assert_eq!(day.len(), 1);
    assert_eq!(day[0].after["working"], true);
    let user_events = fx.store.audit_of("user:water_zhao").await.unwrap();
    assert_eq!(user_events[0].action, "create");
    assert!(
        !user_events[0].after.to_string().contains("pbkdf2"),
        "no password hash in the log"
    );
    let (s, v) = call(app, Method::GET, "/api/v1/audit/verify", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["ok"], true, "{v}");
    let (s, _) = call_as(app, &water, Method::GET, "/api/v1/audit/verify", None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    fx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_levels_sqlite() {
    three_levels(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_levels_postgres() {
    three_levels(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_sqlite() {
    lifecycle(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_postgres() {
    lifecycle(true).await;
}

/// Partner scorecards: a partner overdue twice this year holds a red card and ranks last; one that finished on
/// time with a satisfied caller has no card.
async fn scorecards(pg: bool) {
    use chrono::Duration;
    use hotline_tickets::routing::{ApplyStep, NewTicket};
    use hotline_workflow::*;
    let Some(fx) = fixture(pg).await else {
        eprintln!("skipping: HOTLINE_TEST_PG_URL unset");
        return;
    };
    let cal = calendar();
    let agent = Actor::new("1001", Role::Agent);
    let admin = Actor::new("admin", Role::Admin);
    let start = chrono::Utc::now() - Duration::days(60);
    let water = fx
        .store
        .unit_by_code("water_company")
        .await
        .unwrap()
        .unwrap()
        .id as u64;
    let gas = fx
        .store
        .unit_by_code("gas_company")
        .await
        .unwrap()
        .unwrap()
        .id as u64;
    // (unit, days to reply, satisfied?)
    for (unit, reply_after, happy) in [(water, 40, false), (water, 30, true), (gas, 1, true)] {
        let new = NewTicket {
            channel: Channel::Voice,
            caller: "13800009999".into(),
            caller_name: None,
            anonymous: false,
            confidential: false,
            received_at: Some(start),
            ticket_type: TicketType::Complaint,
            urgency: Urgency::Normal,
            category: None,
            category_major: None,
            area: None,
            district: None,
            address: None,
            content: "停水无通知".into(),
            request: None,
            tags: vec![],
            agent_id: None,
            call_id: None,
            line: None,
            first_response: None,
            repeat_window_days: 0,
            accept: true,
        };
        let id = fx
            .store
            .create_ticket(new, &agent, start, &cal)
            .await
            .unwrap()
            .id;
        let step = |action| ApplyStep { ticket: id, action };
        fx.store
            .apply(
                vec![
                    step(Action::QueueForDispatch {
                        policy: SlaPolicy::guangdong(),
                    }),
                    step(Action::Dispatch {
                        lead: unit,
                        co: vec![],
                    }),
                ],
                &agent,
                start,
                &cal,
                None,
            )
            .await
            .unwrap();
        let t = start + Duration::hours(2);
        fx.store
            .apply(
                vec![step(Action::Sign { assignment: 0 })],
                &admin,
                t,
                &cal,
                None,
            )
            .await
            .unwrap();
        let replied = start + Duration::days(reply_after);
        let reply = Reply {
            contacted_at: None,
            contact_method: None,
            outcome: Outcome::Resolved,
            public_text: "已恢复供应".into(),
            internal_notes: String::new(),
        };
        fx.store
            .apply(
                vec![
                    step(Action::Reply {
                        assignment: 0,
                        reply,
                    }),
                    step(Action::Review {
                        assignment: 0,
                        approve: true,
                        note: String::new(),
                    }),
                ],
                &admin,
                replied,
                &cal,
                None,
            )
            .await
            .unwrap();
        let grade = GradeScale::three_level()
            .grade(if happy { "satisfied" } else { "unsatisfied" })
            .cloned();
        fx.store
            .apply(
                vec![step(Action::Callback {
                    attempt: CallbackAttempt {
                        reached: true,
                        resolved: Some(happy),
                        grade,
                        comment: String::new(),
                        unit_caused: false,
                    },
                })],
                &agent,
                replied + Duration::hours(1),
                &cal,
                Some("satisfied"),
            )
            .await
            .unwrap();
    }
    let year = start
        .with_timezone(&hotline_calendar::shanghai())
        .format("%Y")
        .to_string();
    let (s, v) = call(
        &fx.app,
        Method::GET,
        &format!("/api/v1/reports/scorecards?year={year}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let card = |code: &str| {
        v["scorecards"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["unit"] == code)
            .cloned()
            .unwrap()
    };
    let w = card("water_company");
    assert_eq!(
        (w["finished"].as_u64(), w["bad_records"].as_u64()),
        (Some(2), Some(2)),
        "{w}"
    );
    assert_eq!(w["card"], "red");
    assert_eq!(w["on_time_rate"], 0.0);
    assert_eq!(w["satisfaction_rate"], 0.5);
    let g = card("gas_company");
    assert_eq!(g["card"], "none", "{g}");
    assert_eq!(g["rank"], 1);
    assert_eq!(w["rank"], 2);
    // Partners with no work are listed, unranked.
    assert!(card("bus_company")["rank"].is_null());
    assert_eq!(v["red_warnings"][0], "water_company", "{v}");
    let events: Vec<&str> = v["card_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["card"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["yellow", "red"]);
    let (s, _) = call(
        &fx.app,
        Method::GET,
        "/api/v1/reports/scorecards?year=1900",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    fx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scorecards_sqlite() {
    scorecards(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scorecards_postgres() {
    scorecards(true).await;
}
