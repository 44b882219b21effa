//! The SOS handset registry (一键通) on SQLite and PostgreSQL (see `common`).

#[macro_use]
mod common;

use common::*;
use hotline_tickets::*;

suite!(
    create_and_get_keeps_contact_order,
    lookup_normalises_the_number,
    duplicate_number_is_a_distinct_error,
    invalid_device_names_the_field,
    replace_keeps_created_at_and_may_renumber,
    delete_removes,
    list_filters_and_pages,
    upsert_counts_new_and_updated_in_one_transaction,
);

fn contact(name: &str, number: &str, relation: Option<&str>) -> EmergencyContact {
    EmergencyContact {
        name: name.into(),
        relation: relation.map(Into::into),
        number: number.into(),
    }
}

fn elder(number: &str, name: &str, community: &str) -> NewSosDevice {
    NewSosDevice {
        number: number.into(),
        name: name.into(),
        age: Some(80),
        gender: Some("女".into()),
        address: format!("深圳市福田区{community}1号"),
        medical_notes: "高血压，青霉素过敏".into(),
        contacts: vec![
            contact("张三", "13800000011", Some("儿子")),
            contact("李四", "+86 139-0000-0012", None),
            contact("王五", "0755-8888-0013", Some("邻居")),
        ],
        community: Some(community.into()),
        preferred_hospital: Some("深圳市人民医院".into()),
        latitude: Some(22.54),
        longitude: Some(114.06),
    }
}

async fn create_and_get_keeps_contact_order(db: &TestDb) {
    let s = db.store().await;
    let d = s
        .create_sos_device(&elder("13800000001", "王秀兰", "莲花北"))
        .await
        .unwrap();
    assert_eq!(d.number, "13800000001");
    assert_eq!(d.name, "王秀兰");
    assert_eq!(d.age, Some(80));
    assert_eq!(d.created_at, d.updated_at);
    let names: Vec<_> = d.contacts.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["张三", "李四", "王五"]);
    let numbers: Vec<_> = d.contacts.iter().map(|c| c.number.as_str()).collect();
    assert_eq!(numbers, ["13800000011", "13900000012", "075588880013"]);
    assert_eq!(d.contacts[1].relation, None);
    assert_eq!(s.sos_device("13800000001").await.unwrap(), Some(d.clone()));

    // Order survives a reversal on replace (JSON arrays keep it; the check guards a child table).
    let mut n = elder("13800000001", "王秀兰", "莲花北");
    n.contacts.reverse();
    let r = s
        .replace_sos_device("13800000001", &n)
        .await
        .unwrap()
        .unwrap();
    let names: Vec<_> = r.contacts.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["王五", "李四", "张三"]);

    let v = serde_json::to_value(&d).unwrap();
    assert_eq!(v["contacts"][0]["relation"], "儿子");
    assert_eq!(v["preferred_hospital"], "深圳市人民医院");
    assert_eq!(v["medical_notes"], "高血压，青霉素过敏");
    assert!(v["created_at"].as_str().unwrap().ends_with('Z'));

    // Minimal device: optional fields absent.
    let m = s
        .create_sos_device(&NewSosDevice {
            number: "120".into(),
            name: "x".into(),
            address: "y".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((m.age, m.community, m.latitude), (None, None, None));
    assert!(m.contacts.is_empty());
    assert_eq!(s.sos_device("120").await.unwrap().unwrap().name, "x");
}

async fn lookup_normalises_the_number(db: &TestDb) {
    let s = db.store().await;
    let d = s
        .create_sos_device(&elder("+86 138 0000 0001", "王秀兰", "莲花北"))
        .await
        .unwrap();
    assert_eq!(d.number, "13800000001");
    for q in [
        "13800000001",
        "+8613800000001",
        "008613800000001",
        "8613800000001",
        "138-0000-0001",
        " 138 0000 0001 ",
    ] {
        assert_eq!(s.sos_device(q).await.unwrap().as_ref(), Some(&d), "{q}");
    }
    assert_eq!(s.sos_device("13800000002").await.unwrap(), None);
    assert_eq!(s.sos_device("anonymous").await.unwrap(), None);
    assert_eq!(s.sos_device("").await.unwrap(), None);
}

async fn duplicate_number_is_a_distinct_error(db: &TestDb) {
    let s = db.store().await;
    s.create_sos_device(&elder("13800000001", "王秀兰", "莲花北"))
        .await
        .unwrap();
    let e = s
        .create_sos_device(&elder("+86 138-0000-0001", "李桂英", "景田"))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, TicketError::SosDeviceExists(n) if n == "13800000001"),
        "{e:?}"
    );
    // Nothing changed.
    let d = s.sos_device("13800000001").await.unwrap().unwrap();
    assert_eq!(d.name, "王秀兰");
}

async fn invalid_device_names_the_field(db: &TestDb) {
    let s = db.store().await;
    let mut d = elder("13800000001", "王秀兰", "莲花北");
    d.contacts[2].number = "call me".into();
    let e = s.create_sos_device(&d).await.unwrap_err();
    assert!(
        matches!(&e, TicketError::Invalid { field, .. } if field == "contacts[2].number"),
        "{e:?}"
    );
    assert!(e.to_string().starts_with("contacts[2].number: "), "{e}");
    let mut d = elder("13800000001", "", "莲花北");
    let e = s.create_sos_device(&d).await.unwrap_err();
    assert_eq!(e.to_string(), "name: required");
    d.name = "王秀兰".into();
    d.age = Some(200);
    let e = s.create_sos_device(&d).await.unwrap_err();
    assert!(e.to_string().starts_with("age: "), "{e}");
    assert_eq!(
        s.list_sos_devices(&SosDeviceFilter::default())
            .await
            .unwrap()
            .total,
        0
    );
}

async fn replace_keeps_created_at_and_may_renumber(db: &TestDb) {
    let s = db.store().await;
    let a = s
        .create_sos_device(&elder("13800000001", "王秀兰", "莲花北"))
        .await
        .unwrap();
    s.create_sos_device(&elder("13800000002", "李桂英", "景田"))
        .await
        .unwrap();

    let mut n = elder("13800000001", "王秀兰", "莲花北");
    n.address = "深圳市福田区新地址2号".into();
    n.age = None;
    n.contacts.truncate(1);
    let r = s
        .replace_sos_device("+86 13800000001", &n)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.address, "深圳市福田区新地址2号");
    assert_eq!(r.age, None);
    assert_eq!(r.contacts.len(), 1);
    assert_eq!(r.created_at, a.created_at);
    assert!(r.updated_at >= a.updated_at);
    assert_eq!(s.sos_device("13800000001").await.unwrap(), Some(r));

    // Unknown device.
    assert_eq!(s.replace_sos_device("13800000009", &n).await.unwrap(), None);
    assert_eq!(s.replace_sos_device("nonsense", &n).await.unwrap(), None);

    // A new number that is taken: refused, nothing changed.
    n.number = "138-0000-0002".into();
    let e = s.replace_sos_device("13800000001", &n).await.unwrap_err();
    assert!(
        matches!(&e, TicketError::SosDeviceExists(x) if x == "13800000002"),
        "{e:?}"
    );
    assert_eq!(
        s.sos_device("13800000002").await.unwrap().unwrap().name,
        "李桂英"
    );

    // A free new number: the device moves.
    n.number = "13800000003".into();
    let moved = s
        .replace_sos_device("13800000001", &n)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(moved.number, "13800000003");
    assert_eq!(moved.created_at, a.created_at);
    assert_eq!(s.sos_device("13800000001").await.unwrap(), None);

    // Invalid replacement: the field is named.
    n.address.clear();
    let e = s.replace_sos_device("13800000003", &n).await.unwrap_err();
    assert!(
        matches!(&e, TicketError::Invalid { field, .. } if field == "address"),
        "{e:?}"
    );
}

async fn delete_removes(db: &TestDb) {
    let s = db.store().await;
    s.create_sos_device(&elder("13800000001", "王秀兰", "莲花北"))
        .await
        .unwrap();
    assert!(s.delete_sos_device("+86 138 0000 0001").await.unwrap());
    assert!(!s.delete_sos_device("13800000001").await.unwrap());
    assert!(!s.delete_sos_device("junk").await.unwrap());
    assert_eq!(s.sos_device("13800000001").await.unwrap(), None);
    // The number is free again.
    s.create_sos_device(&elder("13800000001", "王秀兰", "莲花北"))
        .await
        .unwrap();
}

async fn list_filters_and_pages(db: &TestDb) {
    let s = db.store().await;
    for (i, (name, community)) in [
        ("王秀兰", "莲花北"),
        ("李桂英", "景田"),
        ("张建国", "莲花北"),
        ("Mary Smith", "景田"),
        ("陈德明", "莲花北"),
    ]
    .into_iter()
    .enumerate()
    {
        s.create_sos_device(&elder(&format!("1380000000{}", 5 - i), name, community))
            .await
            .unwrap();
    }
    let all = s
        .list_sos_devices(&SosDeviceFilter::default())
        .await
        .unwrap();
    assert_eq!(
        (all.total, all.page, all.per_page),
        (5, 1, DEFAULT_PER_PAGE)
    );
    // By number.
    let numbers: Vec<_> = all.items.iter().map(|d| d.number.as_str()).collect();
    assert_eq!(
        numbers,
        [
            "13800000001",
            "13800000002",
            "13800000003",
            "13800000004",
            "13800000005"
        ]
    );

    let f = |community: Option<&str>, q: Option<&str>, page, per_page| SosDeviceFilter {
        community: community.map(Into::into),
        q: q.map(Into::into),
        page,
        per_page,
    };
    let names = |p: &Page<SosDevice>| p.items.iter().map(|d| d.name.clone()).collect::<Vec<_>>();

    let p = s
        .list_sos_devices(&f(Some("莲花北"), None, None, None))
        .await
        .unwrap();
    assert_eq!(p.total, 3);
    assert_eq!(names(&p), ["陈德明", "张建国", "王秀兰"]);

    let p = s
        .list_sos_devices(&f(Some("莲花北"), None, Some(2), Some(2)))
        .await
        .unwrap();
    assert_eq!((p.total, p.page, p.per_page), (3, 2, 2));
    assert_eq!(names(&p), ["王秀兰"]);

    // q: a substring of the name, the address, or the number (separators ignored).
    let p = s
        .list_sos_devices(&f(None, Some("桂"), None, None))
        .await
        .unwrap();
    assert_eq!(names(&p), ["李桂英"]);
    let p = s
        .list_sos_devices(&f(None, Some("mary"), None, None))
        .await
        .unwrap();
    assert_eq!(names(&p), ["Mary Smith"]);
    let p = s
        .list_sos_devices(&f(None, Some("景田1号"), None, None))
        .await
        .unwrap();
    assert_eq!(p.total, 2);
    let p = s
        .list_sos_devices(&f(None, Some("0000-0003"), None, None))
        .await
        .unwrap();
    assert_eq!(names(&p), ["张建国"]);
    let p = s
        .list_sos_devices(&f(Some("景田"), Some("李"), None, None))
        .await
        .unwrap();
    assert_eq!(names(&p), ["李桂英"]);
    // LIKE wildcards in q are literal.
    let p = s
        .list_sos_devices(&f(None, Some("%"), None, None))
        .await
        .unwrap();
    assert_eq!(p.total, 0);
    let p = s
        .list_sos_devices(&f(None, Some("_"), None, None))
        .await
        .unwrap();
    assert_eq!(p.total, 0);
    // Blank filters are absent.
    let p = s
        .list_sos_devices(&f(Some(" "), Some(""), None, None))
        .await
        .unwrap();
    assert_eq!(p.total, 5);

    let e = s
        .list_sos_devices(&f(None, None, Some(0), None))
        .await
        .unwrap_err();
    assert!(matches!(e, TicketError::InvalidFilter(_)), "{e:?}");
}

async fn upsert_counts_new_and_updated_in_one_transaction(db: &TestDb) {
    let s = db.store().await;
    let a = s
        .create_sos_device(&elder("13800000001", "王秀兰", "莲花北"))
        .await
        .unwrap();
    let mut changed = elder("+86 13800000001", "王秀兰", "莲花北");
    changed.medical_notes = "糖尿病".into();
    let batch = vec![
        changed,
        elder("13800000002", "李桂英", "景田"),
        elder("13800000003", "张建国", "景田"),
    ];
    assert_eq!(s.upsert_sos_devices(&batch).await.unwrap(), (2, 1));
    let d = s.sos_device("13800000001").await.unwrap().unwrap();
    assert_eq!(d.medical_notes, "糖尿病");
    assert_eq!(d.created_at, a.created_at);
    assert_eq!(
        s.list_sos_devices(&SosDeviceFilter::default())
            .await
            .unwrap()
            .total,
        3
    );

    // Again: all updates.
    assert_eq!(s.upsert_sos_devices(&batch).await.unwrap(), (0, 3));
    assert_eq!(s.upsert_sos_devices(&[]).await.unwrap(), (0, 0));

    // One bad device: nothing at all is written, and the error says which one.
    let mut bad = elder("13800000005", "", "景田");
    bad.name.clear();
    let e = s
        .upsert_sos_devices(&[elder("13800000004", "陈德明", "景田"), bad])
        .await
        .unwrap_err();
    assert!(
        matches!(&e, TicketError::Invalid { field, .. } if field == "[1].name"),
        "{e:?}"
    );
    assert_eq!(s.sos_device("13800000004").await.unwrap(), None);
}
