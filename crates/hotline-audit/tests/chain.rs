//! The chain verifies when intact and every kind of tampering is caught at the right seq.

use chrono::{DateTime, Duration, TimeZone, Utc};
use hotline_audit::{
    event_hash, verify, verify_with_anchor, verify_with_anchors, Anchor, AuditEvent, Chain,
    NewEvent, Verifier, VerifyError, VerifyErrorKind, GENESIS_HASH,
};
use serde_json::json;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap()
}

fn new_event(i: u64) -> NewEvent {
    NewEvent {
        // Sub-microsecond part on purpose: append must truncate it.
        at: t0() + Duration::milliseconds(i as i64 * 1_500) + Duration::nanoseconds(789),
        actor: format!("agent:{}", 1000 + i % 7),
        entity: format!("ticket:{}", i / 3),
        action: ["create", "assign", "status"][(i % 3) as usize].into(),
        // Created events have nothing before them (and rust-version 1.85 predates is_multiple_of).
        before: match i % 3 {
            0 => json!(null),
            _ => json!({"status": "open", "unit": i % 5}),
        },
        after: json!({"status": "assigned", "unit": (i + 1) % 5, "note": format!("第{i}次变更")}),
    }
}

fn chain(n: u64) -> Vec<AuditEvent> {
    let mut c = Chain::new();
    (0..n).map(|i| c.append(new_event(i))).collect()
}

/// Recomputes seq links and hashes from index `from` on, like a forger with the algorithm.
fn rehash_from(events: &mut [AuditEvent], from: usize) {
    for i in from..events.len() {
        events[i].seq = i as u64 + 1;
        events[i].prev_hash = if i == 0 {
            GENESIS_HASH.to_string()
        } else {
            events[i - 1].hash.clone()
        };
        events[i].hash = event_hash(&events[i]);
    }
}

fn err(seq: u64, kind: VerifyErrorKind) -> Result<hotline_audit::VerifyReport, VerifyError> {
    Err(VerifyError { seq, kind })
}

#[test]
fn thousand_event_chain_verifies() {
    let events = chain(1000);
    assert_eq!(events[0].seq, 1);
    assert_eq!(events[0].prev_hash, GENESIS_HASH);
    assert_eq!(events[0].at.timestamp_subsec_nanos() % 1_000, 0);
    let report = verify(events.clone()).unwrap();
    assert_eq!(report.count, 1000);
    assert_eq!(report.last_seq, 1000);
    assert_eq!(report.last_hash, events[999].hash);
    assert_eq!(report.last_hash.len(), 64);
    assert!(verify_with_anchor(events.clone(), &events[999].hash).is_ok());
}

#[test]
fn empty_chain_verifies() {
    let report = verify(Vec::new()).unwrap();
    assert_eq!(
        (report.count, report.last_seq, report.last_hash.as_str()),
        (0, 0, GENESIS_HASH)
    );
}

#[test]
fn resuming_continues_the_same_chain() {
    let all = chain(10);
    let mut c = Chain::after(all.get(4));
    let mut events = all[..5].to_vec();
    for i in 5..10 {
        events.push(c.append(new_event(i)));
    }
    assert_eq!(events, all);
    assert_eq!(Chain::after(None), Chain::new());
}

#[test]
fn survives_storage_round_trip() {
    // JSON with keys in another order (as jsonb returns them) still hashes the same.
    let events = chain(50);
    let stored: Vec<AuditEvent> = events
        .iter()
        .map(|e| {
            let mut v = serde_json::to_value(e).unwrap();
            let text = serde_json::to_string_pretty(&v.take()).unwrap();
            serde_json::from_str(&text).unwrap()
        })
        .collect();
    verify(stored).unwrap();
}

#[test]
fn editing_any_field_of_any_event_is_detected() {
    let events = chain(1000);
    type Edit = fn(&mut AuditEvent);
    let edits: [(&str, Edit, VerifyErrorKind); 9] = [
        (
            "at",
            |e| e.at += Duration::seconds(1),
            VerifyErrorKind::BadHash,
        ),
        ("actor", |e| e.actor.push('x'), VerifyErrorKind::BadHash),
        (
            "entity",
            |e| e.entity = "ticket:999999".into(),
            VerifyErrorKind::BadHash,
        ),
        (
            "action",
            |e| e.action = "delete".into(),
            VerifyErrorKind::BadHash,
        ),
        (
            "before",
            |e| e.before = json!({"status": "closed"}),
            VerifyErrorKind::BadHash,
        ),
        (
            "after",
            |e| e.after["unit"] = json!(99),
            VerifyErrorKind::BadHash,
        ),
        (
            "hash",
            |e| e.hash = "f".repeat(64),
            VerifyErrorKind::BadHash,
        ),
        (
            "prev_hash",
            |e| e.prev_hash = "0".repeat(63) + "1",
            VerifyErrorKind::BrokenLink,
        ),
        // A changed seq no longer fits the sequence: it looks like this seq is missing.
        ("seq", |e| e.seq += 5, VerifyErrorKind::Gap),
    ];
    for at in [0usize, 1, 499, 998, 999] {
        for (field, edit, kind) in &edits {
            let mut ev = events.clone();
            edit(&mut ev[at]);
            let got = verify(ev);
            let want_seq = at as u64 + 1;
            // Editing the last event's hash also breaks nothing downstream, still BadHash at it.
            assert_eq!(
                got,
                err(want_seq, *kind),
                "field {field} of event {want_seq}"
            );
        }
    }
}

#[test]
fn deleting_an_event_is_a_gap() {
    for at in [0usize, 1, 500, 998] {
        let mut ev = chain(1000);
        ev.remove(at);
        assert_eq!(
            verify(ev),
            err(at as u64 + 1, VerifyErrorKind::Gap),
            "delete {}",
            at + 1
        );
    }
}

#[test]
fn deleting_and_renumbering_breaks_the_link() {
    let mut ev = chain(1000);
    ev.remove(500);
    for e in &mut ev[500..] {
        e.seq -= 1;
    }
    assert_eq!(verify(ev), err(501, VerifyErrorKind::BrokenLink));
}

#[test]
fn inserting_an_event_is_detected() {
    let events = chain(1000);
    // A well-formed forged event linked to #500, taking seq 501; the real #501 follows.
    let mut c = Chain::after(Some(&events[499]));
    let forged = c.append(NewEvent {
        at: events[499].at,
        actor: "admin:root".into(),
        entity: "ticket:1".into(),
        action: "status".into(),
        before: json!({"status": "open"}),
        after: json!({"status": "closed"}),
    });
    let mut ev = events.clone();
    ev.insert(500, forged.clone());
    // #501 (the forgery) links fine; the chain fails where #502 was expected.
    assert_eq!(verify(ev), err(502, VerifyErrorKind::Duplicate));

    // Inserted and everything after renumbered (without re-hashing): the old #501, now #502, no
    // longer links to its predecessor.
    let mut ev = events.clone();
    ev.insert(500, forged);
    for e in &mut ev[501..] {
        e.seq += 1;
    }
    assert_eq!(verify(ev), err(502, VerifyErrorKind::BrokenLink));

    // Inserted with a made-up link and seq.
    let mut ev = events;
    let mut junk = ev[10].clone();
    junk.seq = 12;
    ev.insert(11, junk);
    assert_eq!(verify(ev), err(12, VerifyErrorKind::BrokenLink));
}

#[test]
fn reordering_two_events_is_detected() {
    for (a, b) in [(0usize, 1usize), (499, 500), (998, 999)] {
        let mut ev = chain(1000);
        ev.swap(a, b);
        assert_eq!(
            verify(ev),
            err(a as u64 + 1, VerifyErrorKind::Reordered),
            "swap {a},{b}"
        );
    }
    // Swapping two far-apart events: the first one's place is found empty.
    let mut ev = chain(1000);
    ev.swap(100, 700);
    assert_eq!(verify(ev), err(101, VerifyErrorKind::Gap));
    // Moving an event later: its place is found empty.
    let mut ev = chain(1000);
    let e = ev.remove(100);
    ev.insert(300, e);
    assert_eq!(verify(ev), err(101, VerifyErrorKind::Gap));
    let mut ev = chain(1000);
    let e = ev.remove(3);
    ev.push(e);
    assert_eq!(verify(ev), err(4, VerifyErrorKind::Gap));
    // Moving an event earlier: it jumps the queue right before the expected one.
    let mut ev = chain(1000);
    let e = ev.remove(300);
    ev.insert(100, e);
    assert_eq!(verify(ev), err(101, VerifyErrorKind::Reordered));
    // A copy of an old event replayed later: the seq goes backwards.
    let mut ev = chain(10);
    let e = ev[2].clone();
    ev.insert(8, e);
    assert_eq!(verify(ev), err(9, VerifyErrorKind::Reordered));
}

#[test]
fn rewritten_tail_needs_an_anchor() {
    let events = chain(1000);
    let anchor = events[999].hash.clone();

    // Forger edits #600 and recomputes every hash from there on: self-consistent…
    let mut ev = events.clone();
    ev[599].after = json!({"status": "closed"});
    rehash_from(&mut ev, 599);
    assert!(verify(ev.clone()).is_ok());
    // …but not with the hash noted elsewhere.
    assert_eq!(
        verify_with_anchor(ev.clone(), &anchor),
        err(1000, VerifyErrorKind::AnchorMismatch)
    );
    // Periodic checkpoints pin it down to the interval; a checkpoint per event, exactly.
    let every_100: Vec<Anchor> = events
        .iter()
        .step_by(100)
        .map(|e| Anchor {
            seq: e.seq,
            hash: e.hash.clone(),
        })
        .collect();
    assert_eq!(
        verify_with_anchors(ev.clone(), every_100),
        err(601, VerifyErrorKind::AnchorMismatch)
    );
    let every: Vec<Anchor> = events
        .iter()
        .map(|e| Anchor {
            seq: e.seq,
            hash: e.hash.clone(),
        })
        .collect();
    assert_eq!(
        verify_with_anchors(ev, every.clone()),
        err(600, VerifyErrorKind::AnchorMismatch)
    );

    // Truncated, with the new tail re-hashed: caught by either form of anchor.
    let mut ev = events.clone();
    ev.truncate(700);
    ev[650].actor = "admin:root".into();
    rehash_from(&mut ev, 650);
    assert!(verify(ev.clone()).is_ok());
    assert_eq!(
        verify_with_anchor(ev.clone(), &anchor),
        err(700, VerifyErrorKind::AnchorMismatch)
    );
    assert_eq!(
        verify_with_anchors(ev, every.clone()),
        err(651, VerifyErrorKind::AnchorMismatch)
    );

    // Plain truncation: only anchors can tell.
    let mut ev = events.clone();
    ev.truncate(900);
    assert!(verify(ev.clone()).is_ok());
    assert_eq!(
        verify_with_anchor(ev.clone(), &anchor),
        err(900, VerifyErrorKind::AnchorMismatch)
    );
    assert_eq!(
        verify_with_anchors(ev, every),
        err(901, VerifyErrorKind::Truncated)
    );

    // Deleting one event and re-hashing the rest.
    let mut ev = events.clone();
    ev.remove(300);
    rehash_from(&mut ev, 300);
    assert!(verify(ev.clone()).is_ok());
    assert!(verify_with_anchor(ev, &anchor).is_err());

    // A chain that grew after the anchor was taken still verifies against it.
    let old = Anchor {
        seq: 500,
        hash: events[499].hash.clone(),
    };
    assert!(verify_with_anchors(events, [old]).is_ok());
}

#[test]
fn streaming_verifier_matches_and_stays_failed() {
    let mut ev = chain(20);
    ev[5].actor = "x".into();
    let mut v = Verifier::new();
    let results: Vec<_> = ev.iter().map(|e| v.push(e)).collect();
    assert!(results[..5].iter().all(|r| r.is_ok()));
    let e = VerifyError {
        seq: 6,
        kind: VerifyErrorKind::BadHash,
    };
    assert!(results[5..].iter().all(|r| r.as_ref() == Err(&e)));
    assert_eq!(v.finish(), Err(e));
    assert_eq!(e.to_string(), "audit chain broken at seq 6: BadHash");
}

#[test]
fn garbage_input_errors_without_panicking() {
    let mut e = chain(1).remove(0);
    e.hash = "not hex".into();
    e.prev_hash = "💥".into();
    e.seq = u64::MAX;
    assert!(verify([e.clone()]).is_err());
    e.seq = 0;
    assert!(verify([e]).is_err());
    let mut c = Chain::after(Some(&chain(1)[0]));
    let _ = c.append(new_event(0));
}
