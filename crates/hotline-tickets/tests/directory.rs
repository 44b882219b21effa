//! The directory (units, users and tokens, catalogue, knowledge base, calendar edits) on SQLite and
//! PostgreSQL (see `common`).

#[macro_use]
mod common;

use chrono::{NaiveDate, TimeDelta};
use common::*;
use hotline_tickets::directory::{apply_calendar_days, verify_password};
use hotline_tickets::*;
use hotline_workflow::Role;

suite!(
    units_crud_and_cycle_refusal,
    seed_units_is_idempotent_and_orders_parents,
    users_roles_and_login,
    tokens_expire_and_end,
    catalogue_validates_and_orders,
    kb_items_crud,
    calendar_edits,
);

fn unit(code: &str, name: &str, parent_id: Option<i64>, kind: UnitKind) -> NewUnit {
    NewUnit {
        code: code.into(),
        name: name.into(),
        parent_id,
        kind,
        area: None,
        partner: false,
        active: None,
    }
}

fn field_of(e: TicketError) -> String {
    match e {
        TicketError::Invalid { field, .. } => field,
        other => panic!("{other:?}"),
    }
}

async fn units_crud_and_cycle_refusal(db: &TestDb) {
    let s = db.store().await;
    let centre = s
        .create_unit(&unit("centre", "12345中心", None, UnitKind::Centre))
        .await
        .unwrap();
    assert!(centre.active);
    let mut d = unit("futian", "福田区", Some(centre.id), UnitKind::District);
    d.area = Some("440304".into());
    let district = s.create_unit(&d).await.unwrap();
    let street = s
        .create_unit(&unit(
            "futian.lianhua",
            "莲花街道",
            Some(district.id),
            UnitKind::Street,
        ))
        .await
        .unwrap();
    let mut water = unit("water", "水务集团", Some(centre.id), UnitKind::Utility);
    water.partner = true;
    s.create_unit(&water).await.unwrap();

    assert!(matches!(
        s.create_unit(&unit("futian", "again", None, UnitKind::Other))
            .await
            .unwrap_err(),
        TicketError::Conflict(_)
    ));
    assert_eq!(
        field_of(
            s.create_unit(&unit("x", "x", Some(9999), UnitKind::Other))
                .await
                .unwrap_err()
        ),
        "parent_id"
    );
    assert_eq!(
        field_of(
            s.create_unit(&unit("bad code", "x", None, UnitKind::Other))
                .await
                .unwrap_err()
        ),
        "code"
    );

    assert_eq!(s.unit(district.id).await.unwrap().unwrap(), district);
    assert_eq!(s.unit_by_code("futian").await.unwrap().unwrap(), district);
    assert!(s.unit(424242).await.unwrap().is_none());

    let children = s
        .list_units(&UnitFilter {
            parent: Some(centre.id),
            ..Default::default()
        })
        .await
        .unwrap();
    let codes: Vec<_> = children.iter().map(|u| u.code.as_str()).collect();
    assert_eq!(codes, ["futian", "water"]);
    let partners = s
        .list_units(&UnitFilter {
            partner: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(partners.len(), 1);
    let found = s
        .list_units(&UnitFilter {
            q: Some("莲花".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(found, vec![street.clone()]);

    // The district under its own street: a cycle. Under itself too.
    let mut upd = unit(
        "futian",
        "福田区人民政府",
        Some(street.id),
        UnitKind::District,
    );
    assert_eq!(
        field_of(s.update_unit(district.id, &upd).await.unwrap_err()),
        "parent_id"
    );
    upd.parent_id = Some(district.id);
    assert_eq!(
        field_of(s.update_unit(district.id, &upd).await.unwrap_err()),
        "parent_id"
    );
    upd.parent_id = Some(centre.id);
    let renamed = s.update_unit(district.id, &upd).await.unwrap().unwrap();
    assert_eq!(renamed.name, "福田区人民政府");
    assert_eq!(renamed.area, None);
    upd.code = "ft".into();
    assert_eq!(
        field_of(s.update_unit(district.id, &upd).await.unwrap_err()),
        "code"
    );
    assert!(s.update_unit(9999, &upd).await.unwrap().is_none());

    assert!(s.deactivate_unit(street.id).await.unwrap());
    assert!(!s.unit(street.id).await.unwrap().unwrap().active);
    assert!(!s.deactivate_unit(9999).await.unwrap());
    let active = s
        .list_units(&UnitFilter {
            active: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(active.len(), 3);
}

fn input(code: &str, parent: Option<&str>) -> UnitInput {
    UnitInput {
        code: code.into(),
        name: format!("单位{code}"),
        parent_code: parent.map(Into::into),
        kind: UnitKind::Other,
        area: None,
        partner: false,
    }
}

async fn seed_units_is_idempotent_and_orders_parents(db: &TestDb) {
    let s = db.store().await;
    // Children listed before their parents.
    let tree = vec![
        input("c1", Some("b")),
        input("b", Some("a")),
        input("a", None),
        input("c2", Some("b")),
    ];
    assert_eq!(s.seed_units(&tree).await.unwrap(), 4);
    let c1 = s.unit_by_code("c1").await.unwrap().unwrap();
    let b = s.unit_by_code("b").await.unwrap().unwrap();
    assert_eq!(c1.parent_id, Some(b.id));
    assert_eq!(s.seed_units(&tree).await.unwrap(), 0);
    // One more, under an existing unit.
    let more = vec![input("d", Some("a"))];
    assert_eq!(s.seed_units(&more).await.unwrap(), 1);
    // An unknown parent fails the whole call.
    let bad = vec![input("e", None), input("f", Some("nope"))];
    assert_eq!(
        field_of(s.seed_units(&bad).await.unwrap_err()),
        "[1].parent_code"
    );
    assert!(s.unit_by_code("e").await.unwrap().is_none());
}

fn user(id: &str, role: UserRole, unit_id: Option<i64>) -> NewUser {
    NewUser {
        id: id.into(),
        name: format!("用户{id}"),
        role,
        unit_id,
        password: "s3cret-pass".into(),
    }
}

async fn users_roles_and_login(db: &TestDb) {
    let s = db.store().await;
    let u = s
        .create_unit(&unit("gas", "燃气公司", None, UnitKind::Utility))
        .await
        .unwrap();
    let now = t("2026-03-02T01:00:00Z");
    let ttl = TimeDelta::hours(8);

    let admin = s
        .create_user(&user("boss", UserRole::Admin, None))
        .await
        .unwrap();
    assert_eq!(admin.role, UserRole::Admin);
    let liaison = s
        .create_user(&user("li", UserRole::Liaison, Some(u.id)))
        .await
        .unwrap();
    assert_eq!(liaison.unit_id, Some(u.id));
    assert_eq!(
        field_of(
            s.create_user(&user("x", UserRole::Liaison, None))
                .await
                .unwrap_err()
        ),
        "unit_id"
    );
    assert_eq!(
        field_of(
            s.create_user(&user("x", UserRole::Agent, Some(u.id)))
                .await
                .unwrap_err()
        ),
        "unit_id"
    );
    let mut short = user("x", UserRole::Agent, None);
    short.password = "short".into();
    assert_eq!(
        field_of(s.create_user(&short).await.unwrap_err()),
        "password"
    );
    assert!(matches!(
        s.create_user(&user("boss", UserRole::Agent, None))
            .await
            .unwrap_err(),
        TicketError::Conflict(_)
    ));
    let ids: Vec<_> = s
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(ids, ["boss", "li"]);

    let (token, p) = s
        .login("li", "s3cret-pass", now, ttl)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.role, Role::UnitLiaison { unit: u.id as u64 });
    assert_eq!(p.name, "用户li");
    assert_eq!(
        s.principal_for_token(&token, now).await.unwrap(),
        Some(p.clone())
    );
    assert!(s
        .login("li", "wrong-pass", now, ttl)
        .await
        .unwrap()
        .is_none());
    assert!(s
        .login("nobody", "s3cret-pass", now, ttl)
        .await
        .unwrap()
        .is_none());

    // A role change ends the sessions; a role other than liaison drops the unit.
    let upd = UserUpdate {
        role: Some(UserRole::Supervisor),
        ..Default::default()
    };
    let sup = s.update_user("li", &upd).await.unwrap().unwrap();
    assert_eq!((sup.role, sup.unit_id), (UserRole::Supervisor, None));
    assert!(s.principal_for_token(&token, now).await.unwrap().is_none());
    let (_, p) = s
        .login("li", "s3cret-pass", now, ttl)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.role, Role::Supervisor);

    let upd = UserUpdate {
        password: Some("another-pass".into()),
        name: Some("李联络".into()),
        ..Default::default()
    };
    s.update_user("li", &upd).await.unwrap().unwrap();
    assert!(s
        .login("li", "s3cret-pass", now, ttl)
        .await
        .unwrap()
        .is_none());
    let (token, p) = s
        .login("li", "another-pass", now, ttl)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.name, "李联络");

    assert!(s.deactivate_user("li").await.unwrap());
    assert!(s.principal_for_token(&token, now).await.unwrap().is_none());
    assert!(s
        .login("li", "another-pass", now, ttl)
        .await
        .unwrap()
        .is_none());
    assert!(!s.deactivate_user("nobody").await.unwrap());
    assert!(s
        .update_user("nobody", &UserUpdate::default())
        .await
        .unwrap()
        .is_none());
    assert!(verify_password(
        "x-password",
        &hotline_tickets::directory::hash_password("x-password")
    ));
}

async fn tokens_expire_and_end(db: &TestDb) {
    let s = db.store().await;
    let now = t("2026-03-02T01:00:00Z");
    let p = Principal {
        user: "1001".into(),
        role: Role::Agent,
        name: "坐席1001".into(),
    };
    let token = s.issue_token(&p, now, TimeDelta::hours(1)).await.unwrap();
    assert!(token.len() >= 43, "{token}");
    assert_eq!(
        s.principal_for_token(&token, now + TimeDelta::minutes(59))
            .await
            .unwrap(),
        Some(p.clone())
    );
    assert!(s
        .principal_for_token(&token, now + TimeDelta::hours(1))
        .await
        .unwrap()
        .is_none());
    assert!(s
        .principal_for_token("not-a-token", now)
        .await
        .unwrap()
        .is_none());
    let other = s.issue_token(&p, now, TimeDelta::hours(1)).await.unwrap();
    assert_ne!(token, other);
    assert!(s.logout(&other).await.unwrap());
    assert!(!s.logout(&other).await.unwrap());
    assert!(s.principal_for_token(&other, now).await.unwrap().is_none());
    assert_eq!(
        s.purge_expired_tokens(now + TimeDelta::hours(2))
            .await
            .unwrap(),
        1
    );
}

fn rule(lead: &str) -> NewCatalogueRule {
    NewCatalogueRule {
        lead_unit: lead.into(),
        ..Default::default()
    }
}

async fn catalogue_validates_and_orders(db: &TestDb) {
    let s = db.store().await;
    for code in ["water", "futian", "lianhua"] {
        s.create_unit(&unit(code, code, None, UnitKind::Other))
            .await
            .unwrap();
    }
    let mut r1 = rule("water");
    r1.category = Some("供水".into());
    r1.window_from = Some("18:00".into());
    r1.window_to = Some("08:00".into());
    r1.days = Some(vec!["Sat".into(), "sun".into(), "sat".into()]);
    r1.co_units = vec!["futian".into()];
    r1.note = " 夜间停水 ".into();
    let a = s.create_catalogue_rule(&r1).await.unwrap();
    assert_eq!(a.position, 0);
    assert_eq!(a.days, Some(vec!["sat".to_string(), "sun".to_string()]));
    assert_eq!(a.co_units, ["futian"]);
    assert_eq!(a.note, "夜间停水");
    let mut r2 = rule("futian");
    r2.area = Some("440304".into());
    let b = s.create_catalogue_rule(&r2).await.unwrap();
    assert_eq!(b.position, 1);
    assert_eq!(b.days, None);
    let mut r0 = rule("lianhua");
    r0.position = Some(-1);
    let c = s.create_catalogue_rule(&r0).await.unwrap();
    let order: Vec<_> = s
        .list_catalogue_rules()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(order, [c.id, a.id, b.id]);
    assert_eq!(s.catalogue_rule(a.id).await.unwrap().unwrap(), a);

    let bad = |f: fn(&mut NewCatalogueRule)| {
        let mut r = rule("water");
        f(&mut r);
        r
    };
    for (r, field) in [
        (bad(|r| r.lead_unit = "nope".into()), "lead_unit"),
        (bad(|r| r.lead_unit = String::new()), "lead_unit"),
        (bad(|r| r.co_units = vec!["nope".into()]), "co_units[0]"),
        (bad(|r| r.co_units = vec!["water".into()]), "co_units[0]"),
        (
            bad(|r| {
                r.window_from = Some("25:00".into());
                r.window_to = Some("08:00".into())
            }),
            "window_from",
        ),
        (bad(|r| r.window_from = Some("08:00".into())), "window_to"),
        (bad(|r| r.days = Some(vec!["someday".into()])), "days[0]"),
        (bad(|r| r.days = Some(vec![])), "days"),
    ] {
        assert_eq!(
            field_of(s.create_catalogue_rule(&r).await.unwrap_err()),
            field
        );
    }

    let mut upd = rule("lianhua");
    upd.category = Some("路灯".into());
    let b2 = s.update_catalogue_rule(b.id, &upd).await.unwrap().unwrap();
    assert_eq!((b2.position, b2.lead_unit.as_str()), (1, "lianhua"));
    assert_eq!(b2.area, None);
    assert!(s.update_catalogue_rule(999, &upd).await.unwrap().is_none());
    assert!(s.delete_catalogue_rule(c.id).await.unwrap());
    assert!(!s.delete_catalogue_rule(c.id).await.unwrap());

    // Seeding only fills an empty catalogue; replace swaps the lot.
    assert!(!s.seed_catalogue(&[rule("water")]).await.unwrap());
    assert_eq!(
        s.replace_catalogue(&[rule("water"), rule("futian")])
            .await
            .unwrap(),
        2
    );
    let all = s.list_catalogue_rules().await.unwrap();
    let leads: Vec<_> = all
        .iter()
        .map(|r| (r.position, r.lead_unit.as_str()))
        .collect();
    assert_eq!(leads, [(0, "water"), (1, "futian")]);
    assert_eq!(
        field_of(
            s.replace_catalogue(&[rule("water"), rule("nope")])
                .await
                .unwrap_err()
        ),
        "[1].lead_unit"
    );
    assert_eq!(s.list_catalogue_rules().await.unwrap().len(), 2);
}

async fn kb_items_crud(db: &TestDb) {
    let s = db.store().await;
    let k = NewKbItem {
        question: " 社保卡丢了怎么补办？ ".into(),
        answer: "携带身份证到社保服务网点办理。".into(),
        category: Some("社会保障".into()),
        keywords: vec!["社保卡".into(), "补办".into(), "社保卡".into()],
        active: None,
    };
    let a = s.create_kb_item(&k).await.unwrap();
    assert_eq!(a.question, "社保卡丢了怎么补办？");
    assert_eq!(a.keywords, ["社保卡", "补办"]);
    assert!(a.active);
    let mut k2 = k.clone();
    k2.question = "护照过期如何换领？".into();
    k2.active = Some(false);
    let b = s.create_kb_item(&k2).await.unwrap();
    assert_eq!(s.list_kb_items(false).await.unwrap(), vec![a.clone()]);
    assert_eq!(s.list_kb_items(true).await.unwrap().len(), 2);

    let mut bad = k.clone();
    bad.answer = " ".into();
    assert_eq!(
        field_of(s.create_kb_item(&bad).await.unwrap_err()),
        "answer"
    );
    bad = k.clone();
    bad.keywords = vec!["a\nb".into()];
    assert_eq!(
        field_of(s.create_kb_item(&bad).await.unwrap_err()),
        "keywords[0]"
    );

    k2.active = None;
    k2.keywords = vec![];
    let b2 = s.update_kb_item(b.id, &k2).await.unwrap().unwrap();
    assert!(!b2.active, "active: None keeps the flag");
    assert!(b2.keywords.is_empty());
    assert_eq!(s.kb_item(b.id).await.unwrap().unwrap(), b2);
    assert!(s.delete_kb_item(a.id).await.unwrap());
    assert!(s.kb_item(a.id).await.unwrap().is_none());
    assert!(s.update_kb_item(a.id, &k).await.unwrap().is_none());
}

async fn calendar_edits(db: &TestDb) {
    let s = db.store().await;
    let now = t("2026-03-02T01:00:00Z");
    let sat = NaiveDate::from_ymd_opt(2026, 3, 7).unwrap();
    let mon = NaiveDate::from_ymd_opt(2026, 3, 9).unwrap();
    let d = s
        .upsert_calendar_day(sat, true, " 调休上班 ", "admin", now)
        .await
        .unwrap();
    assert_eq!((d.day, d.working, d.note.as_str()), (sat, true, "调休上班"));
    s.upsert_calendar_day(mon, false, "", "sup1", now)
        .await
        .unwrap();
    let d = s
        .upsert_calendar_day(sat, false, "改回休息", "sup1", now)
        .await
        .unwrap();
    assert!(!d.working);
    assert_eq!(s.calendar_day(sat).await.unwrap().unwrap(), d);
    let all = s.list_calendar_days().await.unwrap();
    assert_eq!(all.iter().map(|d| d.day).collect::<Vec<_>>(), [sat, mon]);

    let mut cal = hotline_calendar::Calendar::new();
    apply_calendar_days(&mut cal, &all);
    assert!(!cal.is_working_day(mon));
    assert!(!cal.is_working_day(sat));

    assert!(s.delete_calendar_day(sat).await.unwrap());
    assert!(!s.delete_calendar_day(sat).await.unwrap());
    assert!(s.calendar_day(sat).await.unwrap().is_none());
    assert_eq!(s.list_calendar_days().await.unwrap().len(), 1);
    assert!(matches!(
        s.upsert_calendar_day(sat, true, &"x".repeat(501), "admin", now)
            .await
            .unwrap_err(),
        TicketError::Invalid { .. }
    ));
}
