//! Agents that do not answer, answer late, reject, vanish, lose the BYE, or take direct calls.

use super::*;

fn no_answer_breaks(out: &[AcdOutput]) -> Vec<&AgentView> {
    out.iter()
        .filter_map(|o| match o {
            AcdOutput::AgentChanged(v)
                if v.status == AgentStatus::Break
                    && v.break_reason.as_deref() == Some(NO_ANSWER_REASON) =>
            {
                Some(v)
            }
            _ => None,
        })
        .collect()
}

#[test]
fn max_no_answer_puts_the_agent_on_break() {
    let t0 = Instant::now();
    let mut acd = ready(t0, &["1001"]).with_retry_delay(Duration::ZERO);
    enqueue(&mut acd, t0, 1, 0);
    drain(&mut acd);
    // Miss 1: the ring timeout. Miss 2: no answer reported by the switch. Rejects in between do not count.
    acd.handle_timeout(t0 + RING);
    assert_eq!(
        calls_out(&mut acd),
        vec![withdraw(1, "1001"), offer(1, "1001")]
    );
    fail(&mut acd, secs(t0, 16), 1, "1001", FailReason::Rejected);
    fail(&mut acd, secs(t0, 17), 1, "1001", FailReason::NoAnswer);
    let s = acd.agent_stats("1001", t0).unwrap();
    assert_eq!((s.missed, s.rejected, s.consecutive_misses), (2, 1, 2));
    drain(&mut acd);
    // Miss 3: unreachable.
    fail(&mut acd, secs(t0, 18), 1, "1001", FailReason::Unreachable);
    let out = drain(&mut acd);
    let breaks = no_answer_breaks(&out);
    assert_eq!(breaks.len(), 1, "{out:?}");
    assert_eq!(breaks[0].id, "1001");
    assert_eq!(status(&acd, "1001"), AgentStatus::Break);
    assert_eq!(acd.position(1), Some(1));
    // Back from the break with a fresh count.
    set_status(&mut acd, secs(t0, 60), "1001", AgentStatus::Available);
    assert_eq!(calls_out(&mut acd), vec![offer(1, "1001")]);
    assert_eq!(acd.agent_stats("1001", t0).unwrap().consecutive_misses, 0);
}

#[test]
fn an_answer_resets_the_miss_count() {
    let t0 = Instant::now();
    let mut acd = ready(t0, &["1001"]).with_retry_delay(Duration::ZERO);
    enqueue(&mut acd, t0, 1, 0);
    fail(&mut acd, t0, 1, "1001", FailReason::NoAnswer);
    fail(&mut acd, t0, 1, "1001", FailReason::NoAnswer);
    answer(&mut acd, t0, 1, "1001");
    assert_eq!(acd.agent_stats("1001", t0).unwrap().consecutive_misses, 0);
    end_call(&mut acd, t0, "1001");
    acd.handle_timeout(t0 + WRAP);
    enqueue(&mut acd, t0 + WRAP, 2, 0);
    fail(&mut acd, t0 + WRAP, 2, "1001", FailReason::NoAnswer);
    fail(&mut acd, t0 + WRAP, 2, "1001", FailReason::NoAnswer);
    assert!(no_answer_breaks(&drain(&mut acd)).is_empty());
    assert_eq!(status(&acd, "1001"), AgentStatus::Available);
}

#[test]
fn max_no_answer_zero_is_off_and_rejects_never_count() {
    let t0 = Instant::now();
    let mut cfg = config(&["1001", "1002"]);
    cfg.queues[0].max_no_answer = 0;
    cfg.queues.push(QueueConfig::new("other"));
    cfg.agents[1].queues = vec![Membership::new("other")];
    let mut acd = Acd::new(cfg).with_retry_delay(Duration::ZERO);
    register_all(&mut acd, t0);
    enqueue(&mut acd, t0, 1, 0);
    for _ in 0..10 {
        fail(&mut acd, t0, 1, "1001", FailReason::NoAnswer);
    }
    assert_eq!(status(&acd, "1001"), AgentStatus::Available);
    enqueue_in(&mut acd, t0, 2, "other", 0);
    for _ in 0..10 {
        fail(&mut acd, t0, 2, "1002", FailReason::Rejected);
    }
    assert_eq!(status(&acd, "1002"), AgentStatus::Available);
    assert_eq!(acd.agent_stats("1002", t0).unwrap().rejected, 10);
}

#[test]
fn phone_vanishing_while_reserved_or_ringing_is_a_miss() {
    let t0 = Instant::now();
    let mut acd = ready(t0, &["1001", "1002"]);
    enqueue(&mut acd, t0, 1, 0);
    assert_eq!(calls_out(&mut acd), vec![offer(1, "1001")]);
    acd.handle(
        secs(t0, 1),
        AcdInput::Ringing {
            call: 1,
            agent: "1001".into(),
        },
    )
    .unwrap();
    drain(&mut acd);
    acd.handle(
        secs(t0, 2),
        AcdInput::Registered {
            agent: "1001".into(),
            registered: false,
        },
    )
    .unwrap();
    let out = drain(&mut acd);
    let views: Vec<_> = out
        .iter()
        .filter_map(|o| match o {
            AcdOutput::AgentChanged(v) if v.id == "1001" => Some(v),
            _ => None,
        })
        .collect();
    // One change: idle and unregistered together.
    assert_eq!(views.len(), 1);
    assert!(!views[0].registered && views[0].state == AgentState::Idle);
    assert!(out.contains(&AcdOutput::Withdraw {
        call: 1,
        agent: "1001".into()
    }));
    assert!(out.contains(&AcdOutput::Offer {
        call: 1,
        agent: "1002".into(),
        queue: "general".into()
    }));
    assert_eq!(acd.agent_stats("1001", t0).unwrap().missed, 1);
    // Reserved (no Ringing yet) fails the same way.
    acd.handle(
        secs(t0, 3),
        AcdInput::Registered {
            agent: "1002".into(),
            registered: false,
        },
    )
    .unwrap();
    assert_eq!(calls_out(&mut acd), vec![withdraw(1, "1002")]);
    assert_eq!(acd.position(1), Some(1));
}

#[test]
fn late_answer_after_withdraw_is_refused_and_stale_ringing_ignored() {
    let t0 = Instant::now();
    let mut acd = ready(t0, &["1001", "1002"]);
    enqueue(&mut acd, t0, 1, 0);
    drain(&mut acd);
    acd.handle_timeout(t0 + RING);
    assert_eq!(
        calls_out(&mut acd),
        vec![withdraw(1, "1001"), offer(1, "1002")]
    );
    // The switch's 180 for the withdrawn leg arrives late: nothing changes.
    acd.handle(
        t0 + RING,
        AcdInput::Ringing {
            call: 1,
            agent: "1001".into(),
        },
    )
    .unwrap();
    assert_eq!(state(&acd, "1001"), AgentState::Idle);
    answer(&mut acd, t0 + RING, 1, "1001");
    assert_eq!(calls_out(&mut acd), vec![withdraw(1, "1001")]);
    assert_eq!(state(&acd, "1001"), AgentState::Idle);
    assert_eq!(state(&acd, "1002"), AgentState::Reserved);
}

#[test]
fn lost_bye_is_freed_by_reconciliation() {
    let t0 = Instant::now();
    let mut acd = ready(t0, &["1001"]);
    enqueue(&mut acd, t0, 1, 0);
    answer(&mut acd, secs(t0, 2), 1, "1001");
    enqueue(&mut acd, secs(t0, 10), 2, 0);
    drain(&mut acd);
    // The switch still has both calls: nothing happens.
    acd.handle(secs(t0, 30), AcdInput::Reconcile { live: vec![1, 2] })
        .unwrap();
    assert!(calls_out(&mut acd).is_empty());
    // The BYE of call 1 was lost: the next pass frees the agent into wrap-up, and the talk counts.
    acd.handle(secs(t0, 60), AcdInput::Reconcile { live: vec![2] })
        .unwrap();
    assert_eq!(
        calls_out(&mut acd),
        vec![("reconciled", 1, "1001".to_string())]
    );
    assert_eq!(state(&acd, "1001"), AgentState::WrapUp);
    assert_eq!(acd.agent_stats("1001", t0).unwrap().talk_secs, 58.0);
    acd.handle_timeout(secs(t0, 60) + WRAP);
    let out = drain(&mut acd);
    assert!(out.contains(&AcdOutput::WrapUpEnded {
        agent: "1001".into(),
        call: 1,
        secs: 5.0
    }));
    assert!(out.contains(&AcdOutput::Offer {
        call: 2,
        agent: "1001".into(),
        queue: "general".into()
    }));
}

#[test]
fn reconciliation_drops_vanished_calls_and_frees_their_agents() {
    let t0 = Instant::now();
    let mut acd = ready(t0, &["1001"]);
    enqueue(&mut acd, t0, 1, 0);
    enqueue(&mut acd, t0, 2, 0);
    enqueue(&mut acd, t0, 3, 0);
    drain(&mut acd);
    // Call 1 (reserved by 1001) and call 2 (waiting) are gone from the switch.
    acd.handle(secs(t0, 1), AcdInput::Reconcile { live: vec![3, 99] })
        .unwrap();
    assert_eq!(
        calls_out(&mut acd),
        vec![("reconciled", 1, "1001".to_string()), offer(3, "1001")]
    );
    assert!(!acd.contains_call(1) && !acd.contains_call(2));
    let s = acd.queue_stats("general", secs(t0, 1)).unwrap();
    assert_eq!((s.offered, s.abandoned, s.abandoned_within_5s), (3, 2, 2));
    // Not a miss.
    assert_eq!(acd.agent_stats("1001", t0).unwrap().missed, 0);
}

#[test]
fn direct_call_blocks_offers() {
    let t0 = Instant::now();
    let mut acd = ready(t0, &["1001", "1002"]);
    let direct = |acd: &mut Acd, now, agent: &str, active| {
        acd.handle(
            now,
            AcdInput::DirectCall {
                agent: agent.into(),
                active,
            },
        )
        .unwrap();
    };
    direct(&mut acd, t0, "1001", true);
    assert_eq!(state(&acd, "1001"), AgentState::InCall);
    enqueue(&mut acd, t0, 1, 0);
    assert_eq!(calls_out(&mut acd), vec![offer(1, "1002")]);
    // 1002 dials out while its phone is being offered call 1: the offer goes back, not a miss.
    direct(&mut acd, secs(t0, 1), "1002", true);
    assert_eq!(calls_out(&mut acd), vec![withdraw(1, "1002")]);
    assert_eq!(acd.agent_stats("1002", t0).unwrap().missed, 0);
    assert_eq!(acd.position(1), Some(1));
    // Ending it (twice is harmless) makes 1001 offerable again.
    direct(&mut acd, secs(t0, 30), "1001", false);
    direct(&mut acd, secs(t0, 30), "1001", false);
    assert_eq!(calls_out(&mut acd), vec![offer(1, "1001")]);
    // A direct call during a queue call keeps the agent in call until both end.
    answer(&mut acd, secs(t0, 31), 1, "1001");
    direct(&mut acd, secs(t0, 40), "1001", true);
    end_call(&mut acd, secs(t0, 50), "1001");
    assert_eq!(state(&acd, "1001"), AgentState::InCall);
    acd.handle_timeout(secs(t0, 100));
    assert_eq!(state(&acd, "1001"), AgentState::InCall);
    direct(&mut acd, secs(t0, 101), "1001", false);
    assert_eq!(state(&acd, "1001"), AgentState::Idle);
}

#[test]
fn an_agent_is_never_offered_two_calls() {
    let t0 = Instant::now();
    let mut cfg = config(&["1001"]);
    cfg.queues.push(QueueConfig::new("other"));
    cfg.agents[0].queues.push(Membership::new("other"));
    let mut acd = Acd::new(cfg);
    register_all(&mut acd, t0);
    set_status(&mut acd, t0, "1001", AgentStatus::Break);
    enqueue(&mut acd, t0, 1, 0);
    enqueue_in(&mut acd, t0, 2, "other", 9);
    set_status(&mut acd, t0, "1001", AgentStatus::Available);
    // The higher priority wins across queues; the other call waits while 1001 is reserved, ringing, in call.
    assert_eq!(calls_out(&mut acd), vec![offer(2, "1001")]);
    acd.handle(
        t0,
        AcdInput::Ringing {
            call: 2,
            agent: "1001".into(),
        },
    )
    .unwrap();
    answer(&mut acd, t0, 2, "1001");
    assert!(calls_out(&mut acd).is_empty());
    end_call(&mut acd, t0, "1001");
    // "other" has no wrap-up.
    assert_eq!(calls_out(&mut acd), vec![offer(1, "1001")]);
}

#[test]
fn leave_is_not_an_abandon_and_keeps_the_first_arrival() {
    let t0 = Instant::now();
    let mut cfg = config(&["1001"]);
    cfg.queues.push(QueueConfig::new("overflow"));
    let mut acd = Acd::new(cfg);
    register_all(&mut acd, t0);
    set_status(&mut acd, t0, "1001", AgentStatus::Break);
    enqueue(&mut acd, t0, 1, 0);
    acd.handle(secs(t0, 40), AcdInput::Leave { call: 1 })
        .unwrap();
    acd.handle(secs(t0, 40), AcdInput::Leave { call: 1 })
        .unwrap();
    assert!(!acd.contains_call(1));
    enqueue_in(&mut acd, secs(t0, 40), 1, "overflow", 0);
    acd.handle(secs(t0, 45), AcdInput::Abandon { call: 1 })
        .unwrap();
    let g = acd.queue_stats("general", secs(t0, 45)).unwrap();
    assert_eq!((g.offered, g.abandoned), (1, 0));
    let o = acd.queue_stats("overflow", secs(t0, 45)).unwrap();
    // Waited 45 s in all, not 5 s.
    assert_eq!((o.offered, o.abandoned, o.abandoned_within_5s), (1, 1, 0));
}

#[test]
fn status_change_does_not_end_wrap_up() {
    let t0 = Instant::now();
    let mut acd = ready(t0, &["1001"]);
    enqueue(&mut acd, t0, 1, 0);
    answer(&mut acd, t0, 1, "1001");
    end_call(&mut acd, secs(t0, 10), "1001");
    set_status(&mut acd, secs(t0, 11), "1001", AgentStatus::Break);
    set_status(&mut acd, secs(t0, 12), "1001", AgentStatus::Available);
    assert_eq!(state(&acd, "1001"), AgentState::WrapUp);
    acd.handle(
        secs(t0, 13),
        AcdInput::EndWrapUp {
            agent: "1001".into(),
        },
    )
    .unwrap();
    let out = drain(&mut acd);
    assert!(out.contains(&AcdOutput::WrapUpEnded {
        agent: "1001".into(),
        call: 1,
        secs: 3.0
    }));
    assert_eq!(acd.poll_timeout(), None);
}

#[test]
fn unknown_agents_and_calls_never_panic() {
    let t0 = Instant::now();
    let mut acd = ready(t0, &["1001"]);
    for input in [
        AcdInput::Ringing {
            call: 5,
            agent: "x".into(),
        },
        AcdInput::DirectCall {
            agent: "x".into(),
            active: true,
        },
        AcdInput::Registered {
            agent: "x".into(),
            registered: false,
        },
    ] {
        assert_eq!(
            acd.handle(t0, input),
            Err(AcdError::UnknownAgent("x".into()))
        );
    }
    for input in [
        AcdInput::Leave { call: 5 },
        AcdInput::Abandon { call: 5 },
        AcdInput::Reconcile { live: vec![] },
        AcdInput::Ringing {
            call: 5,
            agent: "1001".into(),
        },
        AcdInput::CallEnded {
            agent: "1001".into(),
        },
        AcdInput::EndWrapUp {
            agent: "1001".into(),
        },
    ] {
        assert_eq!(acd.handle(t0, input), Ok(()));
    }
    assert!(calls_out(&mut acd).is_empty());
    assert!(acd.wait_estimate(5, t0).is_none());
    assert!(acd.queue_stats("nope", t0).is_none());
    assert!(acd.agent_stats("nope", t0).is_none());
    // Durations that overflow the clock do not panic either.
    let mut cfg = config(&["1001"]);
    cfg.queues[0].ring_timeout = Duration::MAX;
    cfg.queues[0].wrap_up = Duration::MAX;
    cfg.queues[0].tier_escalate = Duration::MAX;
    cfg.agents[0].queues[0].tier = 0;
    let mut acd = Acd::new(cfg).with_retry_delay(Duration::MAX);
    register_all(&mut acd, t0);
    enqueue(&mut acd, t0, 1, 0);
    fail(&mut acd, t0, 1, "1001", FailReason::Rejected);
    set_status(&mut acd, t0, "1001", AgentStatus::Available);
    enqueue(&mut acd, t0, 2, i32::MIN);
    acd.handle_timeout(t0 + Duration::from_secs(1 << 40));
    drain(&mut acd);
}

#[test]
fn no_answer_break_does_not_override_a_chosen_status() {
    let t0 = Instant::now();
    let mut acd = ready(t0, &["1001"]).with_retry_delay(Duration::ZERO);
    enqueue(&mut acd, t0, 1, 0);
    fail(&mut acd, t0, 1, "1001", FailReason::NoAnswer);
    fail(&mut acd, t0, 1, "1001", FailReason::NoAnswer);
    // Logs out while the third offer still rings; it times out.
    set_status(&mut acd, t0, "1001", AgentStatus::LoggedOut);
    acd.handle_timeout(t0 + RING);
    assert_eq!(status(&acd, "1001"), AgentStatus::LoggedOut);
    assert_eq!(acd.agent_stats("1001", t0).unwrap().consecutive_misses, 0);
}
