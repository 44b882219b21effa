//! Live statistics on a hand-computed day, and the wait estimate.

use super::*;

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

/// Six calls, two agents, 10 s wrap-up:
///
/// | call | in  | outcome                     | wait | talk | wrap |
/// |------|-----|-----------------------------|------|------|------|
/// | 1    | 0   | A answers 3, ends 63        | 3    | 60   | 10   |
/// | 2    | 1   | B answers 13, ends 133      | 12   | 120  | 4 (ended early) |
/// | 3    | 2   | abandons 6                  | 4    |      |      |
/// | 4    | 50  | A answers 75, ends 105      | 25   | 30   | 10   |
/// | 5    | 60  | abandons 70                 | 10   |      |      |
/// | 6    | 100 | A answers 118, ends 160     | 18   | 42   | 10   |
#[test]
fn hand_computed_day() {
    let t0 = Instant::now();
    let mut cfg = config(&["A", "B"]);
    cfg.queues[0].wrap_up = Duration::from_secs(10);
    let mut acd = Acd::new(cfg);
    register_all(&mut acd, t0);
    let at = |s| secs(t0, s);
    enqueue(&mut acd, at(0), 1, 0);
    enqueue(&mut acd, at(1), 2, 0);
    enqueue(&mut acd, at(2), 3, 0);
    acd.handle(
        at(2),
        AcdInput::Ringing {
            call: 2,
            agent: "B".into(),
        },
    )
    .unwrap();
    answer(&mut acd, at(3), 1, "A");

    let live = acd.queue_stats("general", at(5)).unwrap();
    // Calls 2 (ringing B since 1 s) and 3.
    assert_eq!(live.waiting, 2);
    assert_eq!(live.longest_current_wait_secs, 4.0);
    assert_eq!(
        live.agents,
        AgentsByState {
            available: 2,
            registered: 2,
            in_call: 1,
            ringing: 1,
            ..Default::default()
        }
    );
    assert_eq!((live.offered, live.answered), (3, 1));

    acd.handle(at(6), AcdInput::Abandon { call: 3 }).unwrap();
    answer(&mut acd, at(13), 2, "B");
    enqueue(&mut acd, at(50), 4, 0);
    enqueue(&mut acd, at(60), 5, 0);
    end_call(&mut acd, at(63), "A");
    acd.handle(at(70), AcdInput::Abandon { call: 5 }).unwrap();
    acd.handle_timeout(at(73));
    answer(&mut acd, at(75), 4, "A");
    enqueue(&mut acd, at(100), 6, 0);
    end_call(&mut acd, at(105), "A");
    acd.handle_timeout(at(115));
    answer(&mut acd, at(118), 6, "A");
    end_call(&mut acd, at(133), "B");
    acd.handle(at(137), AcdInput::EndWrapUp { agent: "B".into() })
        .unwrap();
    end_call(&mut acd, at(160), "A");
    acd.handle_timeout(at(170));

    let s = acd.queue_stats("general", at(200)).unwrap();
    assert_eq!(s.queue, "general");
    assert_eq!(s.strategy, Strategy::LongestIdle);
    assert_eq!((s.waiting, s.longest_current_wait_secs), (0, 0.0));
    assert_eq!((s.offered, s.answered, s.abandoned), (6, 4, 2));
    assert_eq!(s.abandoned_within_5s, 1);
    assert_eq!(
        (
            s.answered_within_15s,
            s.answered_within_20s,
            s.answered_within_30s
        ),
        (2, 3, 4)
    );
    assert!(close(s.answer_rate, 4.0 / 6.0));
    assert!(close(s.service_level_15s, 2.0 / 6.0));
    assert!(close(s.asa_secs, 58.0 / 4.0));
    assert!(close(s.avg_talk_secs, 252.0 / 4.0));
    assert!(close(s.avg_wrap_up_secs, 34.0 / 4.0));
    assert_eq!(
        s.agents,
        AgentsByState {
            available: 2,
            registered: 2,
            idle: 2,
            ..Default::default()
        }
    );
    assert_eq!(acd.all_queue_stats(at(200)), vec![s.clone()]);

    let a = acd.agent_stats("A", at(200)).unwrap();
    assert_eq!((a.offered, a.answered, a.missed, a.rejected), (3, 3, 0, 0));
    assert_eq!((a.talk_secs, a.wrap_up_secs), (132.0, 30.0));
    assert!(close(a.avg_talk_secs, 44.0) && close(a.avg_wrap_up_secs, 10.0));
    let b = acd.agent_stats("B", at(200)).unwrap();
    assert_eq!(
        (b.offered, b.answered, b.talk_secs, b.wrap_up_secs),
        (1, 1, 120.0, 4.0)
    );
    assert_eq!(
        (b.status, b.state),
        (AgentStatus::Available, AgentState::Idle)
    );

    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["strategy"], "longest-idle");
    assert_eq!(json["abandoned_within_5s"], 1);
    assert_eq!(json["agents"]["in_call"], 0);
    assert_eq!(json["agents"]["on_break"], 0);
    let json = serde_json::to_value(&a).unwrap();
    assert_eq!(json["consecutive_misses"], 0);
    assert_eq!(json["avg_wrap_up_secs"], 10.0);
}

#[test]
fn empty_queue_has_no_ratios_and_callbacks_are_not_offered() {
    let t0 = Instant::now();
    let mut acd = ready(t0, &["A"]);
    let s = acd.queue_stats("general", t0).unwrap();
    assert_eq!(
        (s.answer_rate, s.service_level_15s, s.asa_secs),
        (None, None, None)
    );
    acd.handle(
        t0,
        AcdInput::Enqueue {
            call: 1,
            queue: "general".into(),
            priority: 0,
            callback: true,
        },
    )
    .unwrap();
    answer(&mut acd, secs(t0, 2), 1, "A");
    end_call(&mut acd, secs(t0, 32), "A");
    let s = acd.queue_stats("general", secs(t0, 40)).unwrap();
    assert_eq!((s.offered, s.answered, s.abandoned), (0, 0, 0));
    // The callback's talk is agent work all the same.
    assert!(close(s.avg_talk_secs, 30.0));
    assert_eq!(acd.agent_stats("A", t0).unwrap().answered, 1);
}

/// Agent A (B on break), no wrap-up, answers calls at the given seconds (each ends at once); at `busy_at` A is on
/// a direct call and calls 1000 and 1001 wait.
fn answered_at(times: &[u64], busy_at: u64) -> (Acd, Instant) {
    let t0 = Instant::now();
    let mut cfg = config(&["A", "B"]);
    cfg.queues[0].wrap_up = Duration::ZERO;
    let mut acd = Acd::new(cfg);
    register_all(&mut acd, t0);
    set_status(&mut acd, t0, "B", AgentStatus::Break);
    for (i, &t) in times.iter().enumerate() {
        let call = i as CallRef + 1;
        enqueue(&mut acd, secs(t0, t), call, 0);
        answer(&mut acd, secs(t0, t), call, "A");
        end_call(&mut acd, secs(t0, t), "A");
    }
    // A busy without an answer entering the estimate: a direct call.
    acd.handle(
        secs(t0, busy_at),
        AcdInput::DirectCall {
            agent: "A".into(),
            active: true,
        },
    )
    .unwrap();
    enqueue(&mut acd, secs(t0, busy_at), 1000, 0);
    enqueue(&mut acd, secs(t0, busy_at), 1001, 0);
    drain(&mut acd);
    (acd, t0)
}

fn ewt(acd: &Acd, call: CallRef, now: Instant) -> (u32, u64) {
    let e = acd.wait_estimate(call, now).unwrap();
    (e.position, e.ewt.as_secs())
}

#[test]
fn ewt_from_recent_answers() {
    // Answers at 0, 10 and 40 s: mean interval (40 − 0) / 2 = 20 s.
    let (acd, t0) = answered_at(&[0, 10, 40], 41);
    assert_eq!(ewt(&acd, 1000, secs(t0, 41)), (1, 20));
    assert_eq!(ewt(&acd, 1001, secs(t0, 41)), (2, 40));
    // 30 minutes on, the answer at 0 s drops out: (40 − 10) / 1 = 30 s.
    assert_eq!(ewt(&acd, 1000, secs(t0, 1805)), (1, 30));
    // Later still, one answer is left: the fallback, 180 s per position over the one staffed agent (A: available
    // and registered; B is on break).
    assert_eq!(ewt(&acd, 1001, secs(t0, 1835)), (2, 360));
}

#[test]
fn ewt_uses_only_the_last_twenty_answers() {
    // 0 s, then 100..=119 s: the last twenty are one second apart; with the first it would be 5.95 s.
    let times: Vec<u64> = std::iter::once(0).chain(100..120).collect();
    let (acd, t0) = answered_at(&times, 120);
    let e = acd.wait_estimate(1001, secs(t0, 120)).unwrap();
    assert_eq!((e.position, e.ewt), (2, Duration::from_secs(2)));
}

#[test]
fn ewt_fallback_divides_by_staffed_members() {
    let t0 = Instant::now();
    let mut acd = ready(t0, &["A", "B", "C"]);
    set_status(&mut acd, t0, "C", AgentStatus::LoggedOut);
    for call in 1..=5 {
        enqueue(&mut acd, t0, call, 0);
    }
    // A and B are reserved for calls 1 and 2; both still count as staffed.
    assert_eq!(acd.wait_estimate(1, t0), None);
    assert_eq!(ewt(&acd, 3, t0), (1, 90));
    assert_eq!(ewt(&acd, 5, t0), (3, 270));
    // Nobody staffed: divide by one.
    for id in ["A", "B"] {
        set_status(&mut acd, t0, id, AgentStatus::Break);
    }
    assert_eq!(ewt(&acd, 5, t0), (3, 540));
}
