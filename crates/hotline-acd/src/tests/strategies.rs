//! Each strategy's distinct choice, tiers and skills.

use super::*;

use std::collections::HashSet;

/// Queue "q" with `strategy` served by A, B, C, D (tier 1), and one private queue per agent ("hA"…) to give each
/// agent a known history: (answered calls, talk seconds, idle since) = A (3, 60, 900), B (2, 150, 600),
/// C (1, 120, 800), D (2, 30, 700).
fn with_history(strategy: Strategy, seed: u64) -> (Acd, Instant) {
    let ids = ["A", "B", "C", "D"];
    let mut queues = vec![QueueConfig {
        strategy,
        ..QueueConfig::new("q")
    }];
    queues.extend(ids.iter().map(|id| QueueConfig::new(format!("h{id}"))));
    let cfg = AcdConfig {
        queues,
        agents: ids
            .iter()
            .map(|id| {
                AgentConfig::new(*id)
                    .member("q", 1)
                    .member(format!("h{id}"), 1)
            })
            .collect(),
        seed,
    };
    let t0 = Instant::now();
    let mut acd = Acd::new(cfg);
    register_all(&mut acd, t0);
    let mut call = 1000;
    let mut serve = |acd: &mut Acd, at: u64, agent: &str| {
        call += 1;
        enqueue_in(acd, secs(t0, at), call, &format!("h{agent}"), 0);
        answer(acd, secs(t0, at), call, agent);
    };
    serve(&mut acd, 0, "A");
    serve(&mut acd, 0, "B");
    serve(&mut acd, 0, "D");
    end_call(&mut acd, secs(t0, 10), "D");
    end_call(&mut acd, secs(t0, 20), "A");
    serve(&mut acd, 20, "A");
    end_call(&mut acd, secs(t0, 40), "A");
    end_call(&mut acd, secs(t0, 100), "B");
    serve(&mut acd, 550, "B");
    end_call(&mut acd, secs(t0, 600), "B");
    serve(&mut acd, 680, "C");
    serve(&mut acd, 680, "D");
    end_call(&mut acd, secs(t0, 700), "D");
    end_call(&mut acd, secs(t0, 800), "C");
    serve(&mut acd, 880, "A");
    end_call(&mut acd, secs(t0, 900), "A");
    drain(&mut acd);
    let talk = |id: &str| acd.agent_stats(id, t0).unwrap().talk_secs;
    assert_eq!(
        [talk("A"), talk("B"), talk("C"), talk("D")],
        [60.0, 150.0, 120.0, 30.0]
    );
    (acd, t0)
}

/// Four calls arrive together; the order in which the four free agents are offered them.
fn first_four(strategy: Strategy, seed: u64) -> Vec<String> {
    let (mut acd, t0) = with_history(strategy, seed);
    for call in 1..=4 {
        enqueue_in(&mut acd, secs(t0, 1000), call, "q", 0);
    }
    calls_out(&mut acd).into_iter().map(|(_, _, a)| a).collect()
}

#[test]
fn each_strategy_makes_its_own_choice() {
    assert_eq!(first_four(Strategy::LongestIdle, 1), ["B", "D", "C", "A"]);
    assert_eq!(first_four(Strategy::FewestCalls, 1), ["C", "B", "D", "A"]);
    assert_eq!(first_four(Strategy::LeastTalkTime, 1), ["D", "A", "C", "B"]);
    assert_eq!(first_four(Strategy::RoundRobin, 1), ["A", "B", "C", "D"]);
}

#[test]
fn ring_all_offers_one_call_to_every_free_agent() {
    let (mut acd, t0) = with_history(Strategy::RingAll, 1);
    for call in 1..=2 {
        enqueue_in(&mut acd, secs(t0, 1000), call, "q", 0);
    }
    assert_eq!(
        calls_out(&mut acd),
        vec![offer(1, "A"), offer(1, "B"), offer(1, "C"), offer(1, "D")]
    );
    // Never two calls to one agent: call 2 waits.
    assert_eq!(acd.position(2), Some(1));
    answer(&mut acd, secs(t0, 1003), 1, "C");
    assert_eq!(
        calls_out(&mut acd),
        vec![
            withdraw(1, "A"),
            withdraw(1, "B"),
            withdraw(1, "D"),
            offer(2, "A"),
            offer(2, "B"),
            offer(2, "D")
        ]
    );
    // Losing the race is not a miss (A's offers: 3 in its history, then calls 1 and 2).
    let a = acd.agent_stats("A", t0).unwrap();
    assert_eq!((a.missed, a.consecutive_misses, a.offered), (0, 0, 5));
    // A answer crossing the withdraw is refused.
    answer(&mut acd, secs(t0, 1003), 1, "A");
    assert_eq!(calls_out(&mut acd), vec![withdraw(1, "A")]);
    assert_eq!(state(&acd, "A"), AgentState::Reserved);
}

#[test]
fn ring_all_with_a_limit_rings_that_many_at_once() {
    let t0 = Instant::now();
    let mut cfg = config(&["A", "B", "C", "D"]);
    cfg.queues[0].strategy = Strategy::RingAll;
    cfg.queues[0].ring_limit = 2;
    let mut acd = Acd::new(cfg);
    register_all(&mut acd, t0);
    enqueue(&mut acd, t0, 1, 0);
    enqueue(&mut acd, t0, 2, 0);
    // Two agents per call: the second call gets the other two at once.
    assert_eq!(
        calls_out(&mut acd),
        vec![offer(1, "A"), offer(1, "B"), offer(2, "C"), offer(2, "D")]
    );
}

#[test]
fn ring_all_call_returns_to_its_place_when_everyone_fails() {
    let t0 = Instant::now();
    let mut cfg = config(&["A", "B"]);
    cfg.queues[0].strategy = Strategy::RingAll;
    let mut acd = Acd::new(cfg).with_retry_delay(Duration::from_secs(20));
    register_all(&mut acd, t0);
    enqueue(&mut acd, t0, 1, 0);
    assert_eq!(calls_out(&mut acd), vec![offer(1, "A"), offer(1, "B")]);
    enqueue(&mut acd, secs(t0, 1), 2, 0);
    fail(&mut acd, secs(t0, 2), 1, "A", FailReason::Rejected);
    // B still rings: the call does not wait yet.
    assert_eq!(acd.position(1), None);
    assert!(calls_out(&mut acd).is_empty());
    acd.handle_timeout(t0 + RING);
    assert_eq!(calls_out(&mut acd), vec![withdraw(1, "B")]);
    // Back ahead of the later call 2.
    assert_eq!(acd.position(1), Some(1));
    assert_eq!(acd.position(2), Some(2));
    assert_eq!(acd.agent_stats("B", t0).unwrap().missed, 1);
    assert_eq!(acd.agent_stats("A", t0).unwrap().rejected, 1);
    // A rests until 22 s, B until 35 s.
    assert_eq!(acd.poll_timeout(), Some(secs(t0, 22)));
    acd.handle_timeout(secs(t0, 22));
    assert_eq!(calls_out(&mut acd), vec![offer(1, "A")]);
}

#[test]
fn round_robin_wraps_and_continues_after_the_last_offered() {
    let (mut acd, t0) = with_history(Strategy::RoundRobin, 1);
    let now = secs(t0, 1000);
    set_status(&mut acd, now, "A", AgentStatus::Break);
    set_status(&mut acd, now, "B", AgentStatus::Break);
    set_status(&mut acd, now, "D", AgentStatus::Break);
    enqueue_in(&mut acd, now, 1, "q", 0);
    assert_eq!(calls_out(&mut acd), vec![offer(1, "C")]);
    answer(&mut acd, now, 1, "C");
    end_call(&mut acd, now, "C");
    for id in ["A", "B", "D"] {
        set_status(&mut acd, now, id, AgentStatus::Available);
    }
    drain(&mut acd);
    // After C: D, then wrapping to A, B, C.
    for call in 2..=5 {
        enqueue_in(&mut acd, now, call, "q", 0);
        let (_, _, agent) = calls_out(&mut acd).remove(0);
        answer(&mut acd, now, call, &agent);
        end_call(&mut acd, now, &agent);
        drain(&mut acd);
        assert_eq!(agent, ["D", "A", "B", "C"][call as usize - 2]);
    }
}

#[test]
fn random_is_seeded_and_spreads() {
    assert_eq!(
        first_four(Strategy::Random, 7),
        first_four(Strategy::Random, 7)
    );
    let mut firsts = HashSet::new();
    for seed in 0..40 {
        let order = first_four(Strategy::Random, seed);
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(sorted, ["A", "B", "C", "D"]);
        firsts.insert(order[0].clone());
    }
    assert_eq!(firsts.len(), 4, "{firsts:?}");
}

fn tiered(escalate: Duration) -> (Acd, Instant) {
    let t0 = Instant::now();
    let cfg = AcdConfig {
        queues: vec![QueueConfig {
            tier_escalate: escalate,
            ring_timeout: Duration::ZERO,
            ..QueueConfig::new("general")
        }],
        agents: vec![
            AgentConfig::new("T1").member("general", 1),
            AgentConfig::new("T2").member("general", 2),
            AgentConfig::new("T3").member("general", 3),
        ],
        seed: 0,
    };
    let mut acd = Acd::new(cfg);
    register_all(&mut acd, t0);
    (acd, t0)
}

#[test]
fn tiers_open_after_escalation_and_lower_tier_is_preferred() {
    let (mut acd, t0) = tiered(Duration::from_secs(30));
    enqueue(&mut acd, t0, 1, 0);
    assert_eq!(calls_out(&mut acd), vec![offer(1, "T1")]);
    answer(&mut acd, t0, 1, "T1");
    // T1 busy: call 2 waits for tier 2 to open at 10 + 30 s, call 3 at 20 + 30 s.
    enqueue(&mut acd, secs(t0, 10), 2, 0);
    enqueue(&mut acd, secs(t0, 20), 3, 0);
    assert!(calls_out(&mut acd).is_empty());
    assert_eq!(acd.poll_timeout(), Some(secs(t0, 40)));
    acd.handle_timeout(secs(t0, 40) - Duration::from_millis(1));
    assert!(calls_out(&mut acd).is_empty());
    acd.handle_timeout(secs(t0, 40));
    assert_eq!(calls_out(&mut acd), vec![offer(2, "T2")]);
    answer(&mut acd, secs(t0, 41), 2, "T2");
    // Call 3: tier 2 opens at 50 s (T2 busy), tier 3 at 80 s.
    acd.handle_timeout(secs(t0, 50));
    assert!(calls_out(&mut acd).is_empty());
    assert_eq!(acd.poll_timeout(), Some(secs(t0, 80)));
    acd.handle_timeout(secs(t0, 80));
    assert_eq!(calls_out(&mut acd), vec![offer(3, "T3")]);
    // A call that has waited past every escalation still goes to the lowest free tier.
    enqueue(&mut acd, secs(t0, 90), 4, 0);
    acd.handle_timeout(secs(t0, 200));
    assert!(calls_out(&mut acd).is_empty());
    // The switch lost both BYEs: reconciliation frees T1 and T2 at once.
    acd.handle(secs(t0, 201), AcdInput::Reconcile { live: vec![3, 4] })
        .unwrap();
    assert_eq!(
        calls_out(&mut acd),
        vec![
            ("reconciled", 1, "T1".into()),
            ("reconciled", 2, "T2".into()),
            offer(4, "T1")
        ]
    );
    // Nothing left to escalate: no timer.
    assert_eq!(acd.poll_timeout(), None);
}

#[test]
fn zero_escalation_opens_all_tiers_in_order() {
    let (mut acd, t0) = tiered(Duration::ZERO);
    for call in 1..=3 {
        enqueue(&mut acd, t0, call, 0);
    }
    assert_eq!(
        calls_out(&mut acd),
        vec![offer(1, "T1"), offer(2, "T2"), offer(3, "T3")]
    );
}

#[test]
fn skills_filter_and_higher_level_first() {
    let t0 = Instant::now();
    let cfg = AcdConfig {
        queues: vec![QueueConfig {
            skills: vec!["cantonese".into(), "legal".into()],
            ring_timeout: Duration::ZERO,
            ..QueueConfig::new("general")
        }],
        agents: vec![
            // Lacks "legal" (level 0 is not held).
            AgentConfig::new("none")
                .member("general", 1)
                .skill("cantonese", 5)
                .skill("legal", 0),
            AgentConfig::new("low")
                .member("general", 1)
                .skill("cantonese", 1)
                .skill("legal", 1),
            AgentConfig::new("high")
                .member("general", 1)
                .skill("cantonese", 2)
                .skill("legal", 3),
            // A higher level never beats a lower tier.
            AgentConfig::new("expert")
                .member("general", 2)
                .skill("cantonese", 9)
                .skill("legal", 9),
        ],
        seed: 0,
    };
    let mut acd = Acd::new(cfg);
    register_all(&mut acd, t0);
    for call in 1..=3 {
        enqueue(&mut acd, t0, call, 0);
    }
    assert_eq!(calls_out(&mut acd), vec![offer(1, "high"), offer(2, "low")]);
    acd.handle_timeout(secs(t0, 29));
    assert!(calls_out(&mut acd).is_empty());
    acd.handle_timeout(secs(t0, 30));
    assert_eq!(calls_out(&mut acd), vec![offer(3, "expert")]);
    assert_eq!(state(&acd, "none"), AgentState::Idle);
    assert_eq!(acd.agent("none").unwrap().queues, ["general"]);
}
