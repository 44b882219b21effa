//! The scenarios of the first ACD, on the new API.

use super::*;

#[test]
fn offer_goes_to_longest_idle_then_config_order() {
    let t0 = Instant::now();
    let mut acd = ready(t0, &["1001", "1002", "1003"]);
    // 1001 and 1002 take and finish calls; 1002 finishes first, so after 1003 (never busy) it is longest idle.
    enqueue(&mut acd, t0, 1, 0);
    enqueue(&mut acd, t0, 2, 0);
    assert_eq!(
        calls_out(&mut acd),
        vec![("offer", 1, "1001".into()), ("offer", 2, "1002".into())]
    );
    for (call, agent) in [(1, "1001"), (2, "1002")] {
        let a = agent.to_string();
        acd.handle(t0, AcdInput::Answered { call, agent: a })
            .unwrap();
    }
    acd.handle(
        secs(t0, 10),
        AcdInput::CallEnded {
            agent: "1002".into(),
        },
    )
    .unwrap();
    acd.handle(
        secs(t0, 20),
        AcdInput::CallEnded {
            agent: "1001".into(),
        },
    )
    .unwrap();
    // The owner wakes late; idle time still counts from each wrap-up's end (1002 at 15 s, 1001 at 25 s).
    acd.handle_timeout(secs(t0, 30));
    drain(&mut acd);
    for call in 3..=5 {
        enqueue(&mut acd, secs(t0, 31), call, 0);
    }
    assert_eq!(
        calls_out(&mut acd),
        vec![
            ("offer", 3, "1003".into()),
            ("offer", 4, "1002".into()),
            ("offer", 5, "1001".into())
        ]
    );
}

#[test]
fn priority_then_fifo() {
    let t0 = Instant::now();
    let mut acd = ready(t0, &["1001"]);
    acd.handle(
        t0,
        AcdInput::SetStatus {
            agent: "1001".into(),
            status: AgentStatus::Break,
            reason: Some("lunch".into()),
        },
    )
    .unwrap();
    enqueue(&mut acd, t0, 1, 0);
    enqueue(&mut acd, t0, 2, 5);
    enqueue(&mut acd, t0, 3, 0);
    enqueue(&mut acd, t0, 4, 5);
    assert_eq!(acd.queue_len("general"), 4);
    assert_eq!(acd.position(2), Some(1));
    assert_eq!(acd.position(4), Some(2));
    assert_eq!(acd.position(1), Some(3));
    assert_eq!(
        acd.agent("1001").unwrap().break_reason.as_deref(),
        Some("lunch")
    );
    drain(&mut acd);
    let mut order = Vec::new();
    let mut now = t0;
    acd.handle(
        now,
        AcdInput::SetStatus {
            agent: "1001".into(),
            status: AgentStatus::Available,
            reason: None,
        },
    )
    .unwrap();
    for _ in 0..4 {
        let offers = calls_out(&mut acd);
        assert_eq!(offers.len(), 1);
        let call = offers[0].1;
        order.push(call);
        acd.handle(
            now,
            AcdInput::Answered {
                call,
                agent: "1001".into(),
            },
        )
        .unwrap();
        acd.handle(
            now,
            AcdInput::CallEnded {
                agent: "1001".into(),
            },
        )
        .unwrap();
        now += WRAP;
        acd.handle_timeout(now);
    }
    assert_eq!(order, vec![2, 4, 1, 3]);
}

#[test]
fn ring_timeout_goes_to_next_agent() {
    let t0 = Instant::now();
    let mut acd = ready(t0, &["1001", "1002"]);
    enqueue(&mut acd, t0, 7, 0);
    assert_eq!(calls_out(&mut acd), vec![("offer", 7, "1001".into())]);
    assert_eq!(state(&acd, "1001"), AgentState::Reserved);
    // The switch's INVITE went out a second later; the ring timer still counts from the offer.
    acd.handle(
        secs(t0, 1),
        AcdInput::Ringing {
            call: 7,
            agent: "1001".into(),
        },
    )
    .unwrap();
    assert_eq!(state(&acd, "1001"), AgentState::Ringing);
    assert_eq!(acd.poll_timeout(), Some(t0 + RING));
    acd.handle_timeout(t0 + RING - Duration::from_millis(1));
    assert!(calls_out(&mut acd).is_empty());
    acd.handle_timeout(t0 + RING);
    assert_eq!(
        calls_out(&mut acd),
        vec![("withdraw", 7, "1001".into()), ("offer", 7, "1002".into())]
    );
    assert_eq!(state(&acd, "1001"), AgentState::Idle);
    // The switch's late 487 for the withdrawn leg is ignored.
    acd.handle(
        t0 + RING,
        AcdInput::OfferFailed {
            call: 7,
            agent: "1001".into(),
            reason: FailReason::NoAnswer,
        },
    )
    .unwrap();
    assert!(calls_out(&mut acd).is_empty());
    assert_eq!(state(&acd, "1002"), AgentState::Reserved);
    // 1001 answering late gets its leg withdrawn; 1002 keeps ringing.
    acd.handle(
        t0 + RING,
        AcdInput::Answered {
            call: 7,
            agent: "1001".into(),
        },
    )
    .unwrap();
    assert_eq!(calls_out(&mut acd), vec![("withdraw", 7, "1001".into())]);
    assert_eq!(state(&acd, "1001"), AgentState::Idle);
    acd.handle(
        t0 + RING,
        AcdInput::Answered {
            call: 7,
            agent: "1002".into(),
        },
    )
    .unwrap();
    assert_eq!(state(&acd, "1002"), AgentState::InCall);
    assert!(!acd.contains_call(7));
}

#[test]
fn busy_goes_to_next_agent_and_back() {
    let t0 = Instant::now();
    let mut acd = ready(t0, &["1001", "1002"]).with_retry_delay(Duration::ZERO);
    enqueue(&mut acd, t0, 1, 0);
    assert_eq!(calls_out(&mut acd), vec![("offer", 1, "1001".into())]);
    acd.handle(
        t0,
        AcdInput::OfferFailed {
            call: 1,
            agent: "1001".into(),
            reason: FailReason::Rejected,
        },
    )
    .unwrap();
    // Even with no rest, 1001 is passed over while 1002 can take the call.
    assert_eq!(calls_out(&mut acd), vec![("offer", 1, "1002".into())]);
    acd.handle(
        t0,
        AcdInput::OfferFailed {
            call: 1,
            agent: "1002".into(),
            reason: FailReason::Rejected,
        },
    )
    .unwrap();
    assert_eq!(calls_out(&mut acd), vec![("offer", 1, "1001".into())]);
}

#[test]
fn single_agent_retry_waits() {
    let t0 = Instant::now();
    let mut acd = ready(t0, &["1001"]);
    enqueue(&mut acd, t0, 1, 0);
    calls_out(&mut acd);
    acd.handle(
        secs(t0, 1),
        AcdInput::OfferFailed {
            call: 1,
            agent: "1001".into(),
            reason: FailReason::Rejected,
        },
    )
    .unwrap();
    assert!(calls_out(&mut acd).is_empty());
    assert_eq!(acd.queue_len("general"), 1);
    assert_eq!(acd.position(1), Some(1));
    let retry = secs(t0, 1) + DEFAULT_RETRY_DELAY;
    assert_eq!(acd.poll_timeout(), Some(retry));
    acd.handle_timeout(retry);
    assert_eq!(calls_out(&mut acd), vec![("offer", 1, "1001".into())]);
}

#[test]
fn failed_call_returns_ahead_of_later_calls() {
    let t0 = Instant::now();
    let mut acd = ready(t0, &["1001", "1002"]);
    enqueue(&mut acd, t0, 1, 0);
    enqueue(&mut acd, t0, 2, 0);
    enqueue(&mut acd, t0, 3, 0);
    calls_out(&mut acd);
    acd.handle(
        t0,
        AcdInput::OfferFailed {
            call: 1,
            agent: "1001".into(),
            reason: FailReason::Unreachable,
        },
    )
    .unwrap();
    assert_eq!(acd.position(1), Some(1));
    assert_eq!(acd.position(3), Some(2));
    acd.handle(
        t0,
        AcdInput::Answered {
            call: 2,
            agent: "1002".into(),
        },
    )
    .unwrap();
    acd.handle(
        t0,
        AcdInput::CallEnded {
            agent: "1002".into(),
        },
    )
    .unwrap();
    acd.handle_timeout(t0 + WRAP);
    // Call 1 passes over 1001 (which just failed it); call 3 waits behind it.
    assert_eq!(
        calls_out(&mut acd),
        vec![("offer", 1, "1002".into()), ("offer", 3, "1001".into())]
    );
}

#[test]
fn wrap_up_is_respected_and_can_end_early() {
    let t0 = Instant::now();
    let mut acd = ready(t0, &["1001"]);
    enqueue(&mut acd, t0, 1, 0);
    acd.handle(
        t0,
        AcdInput::Answered {
            call: 1,
            agent: "1001".into(),
        },
    )
    .unwrap();
    enqueue(&mut acd, t0, 2, 0);
    enqueue(&mut acd, t0, 3, 0);
    calls_out(&mut acd);
    acd.handle(
        secs(t0, 60),
        AcdInput::CallEnded {
            agent: "1001".into(),
        },
    )
    .unwrap();
    assert_eq!(state(&acd, "1001"), AgentState::WrapUp);
    assert!(calls_out(&mut acd).is_empty());
    assert_eq!(acd.poll_timeout(), Some(secs(t0, 60) + WRAP));
    acd.handle_timeout(secs(t0, 64));
    assert!(calls_out(&mut acd).is_empty());
    acd.handle_timeout(secs(t0, 65));
    assert_eq!(calls_out(&mut acd), vec![("offer", 2, "1001".into())]);
    acd.handle(
        secs(t0, 66),
        AcdInput::Answered {
            call: 2,
            agent: "1001".into(),
        },
    )
    .unwrap();
    acd.handle(
        secs(t0, 70),
        AcdInput::CallEnded {
            agent: "1001".into(),
        },
    )
    .unwrap();
    acd.handle(
        secs(t0, 71),
        AcdInput::EndWrapUp {
            agent: "1001".into(),
        },
    )
    .unwrap();
    assert_eq!(calls_out(&mut acd), vec![("offer", 3, "1001".into())]);
}

#[test]
fn zero_wrap_up_goes_straight_to_idle() {
    let t0 = Instant::now();
    let mut cfg = config(&["1001"]);
    cfg.queues[0].wrap_up = Duration::ZERO;
    let mut acd = Acd::new(cfg);
    acd.handle(
        t0,
        AcdInput::Registered {
            agent: "1001".into(),
            registered: true,
        },
    )
    .unwrap();
    enqueue(&mut acd, t0, 1, 0);
    acd.handle(
        t0,
        AcdInput::Answered {
            call: 1,
            agent: "1001".into(),
        },
    )
    .unwrap();
    acd.handle(
        t0,
        AcdInput::CallEnded {
            agent: "1001".into(),
        },
    )
    .unwrap();
    assert_eq!(state(&acd, "1001"), AgentState::Idle);
}

#[test]
fn abandon_while_ringing_withdraws() {
    let t0 = Instant::now();
    let mut acd = ready(t0, &["1001"]);
    enqueue(&mut acd, t0, 1, 0);
    enqueue(&mut acd, t0, 2, 0);
    calls_out(&mut acd);
    acd.handle(secs(t0, 3), AcdInput::Abandon { call: 1 })
        .unwrap();
    // The agent did nothing wrong, so the next call rings at once.
    assert_eq!(
        calls_out(&mut acd),
        vec![("withdraw", 1, "1001".into()), ("offer", 2, "1001".into())]
    );
    acd.handle(secs(t0, 3), AcdInput::Abandon { call: 2 })
        .unwrap();
    acd.handle(secs(t0, 3), AcdInput::Abandon { call: 2 })
        .unwrap();
    acd.handle(secs(t0, 3), AcdInput::Abandon { call: 99 })
        .unwrap();
    assert_eq!(calls_out(&mut acd), vec![("withdraw", 2, "1001".into())]);
    assert_eq!(acd.poll_timeout(), None);
}

#[test]
fn abandon_while_waiting_removes() {
    let t0 = Instant::now();
    let mut acd = Acd::new(config(&["1001"]));
    enqueue(&mut acd, t0, 1, 0);
    enqueue(&mut acd, t0, 2, 0);
    acd.handle(t0, AcdInput::Abandon { call: 1 }).unwrap();
    assert_eq!(acd.queue_len("general"), 1);
    acd.handle(
        t0,
        AcdInput::Registered {
            agent: "1001".into(),
            registered: true,
        },
    )
    .unwrap();
    assert_eq!(calls_out(&mut acd), vec![("offer", 2, "1001".into())]);
}

#[test]
fn status_change_keeps_call() {
    let t0 = Instant::now();
    let mut acd = ready(t0, &["1001"]);
    enqueue(&mut acd, t0, 1, 0);
    assert_eq!(calls_out(&mut acd), vec![("offer", 1, "1001".into())]);
    acd.handle(
        t0,
        AcdInput::SetStatus {
            agent: "1001".into(),
            status: AgentStatus::Break,
            reason: Some("meeting".into()),
        },
    )
    .unwrap();
    // Still ringing; answering works.
    acd.handle(
        t0,
        AcdInput::Answered {
            call: 1,
            agent: "1001".into(),
        },
    )
    .unwrap();
    assert_eq!(state(&acd, "1001"), AgentState::InCall);
    acd.handle(
        t0,
        AcdInput::Registered {
            agent: "1001".into(),
            registered: false,
        },
    )
    .unwrap();
    assert_eq!(state(&acd, "1001"), AgentState::InCall);
    enqueue(&mut acd, t0, 2, 0);
    acd.handle(
        t0,
        AcdInput::CallEnded {
            agent: "1001".into(),
        },
    )
    .unwrap();
    acd.handle_timeout(t0 + WRAP);
    let v = acd.agent("1001").unwrap();
    assert_eq!((v.status, v.state), (AgentStatus::Break, AgentState::Idle));
    assert_eq!(acd.queue_len("general"), 1);
    acd.handle(
        t0 + WRAP,
        AcdInput::Registered {
            agent: "1001".into(),
            registered: true,
        },
    )
    .unwrap();
    acd.handle(
        t0 + WRAP,
        AcdInput::SetStatus {
            agent: "1001".into(),
            status: AgentStatus::Available,
            reason: Some("ignored".into()),
        },
    )
    .unwrap();
    assert_eq!(acd.agent("1001").unwrap().break_reason, None);
    assert_eq!(
        calls_out(&mut acd)
            .into_iter()
            .filter(|o| o.0 == "offer")
            .collect::<Vec<_>>(),
        vec![("offer", 2, "1001".into())]
    );
}

#[test]
fn only_agents_of_the_queue_are_offered() {
    let t0 = Instant::now();
    let mut cfg = config(&["1001", "1002"]);
    cfg.queues.push(QueueConfig {
        wrap_up: WRAP,
        ..QueueConfig::new("elderly")
    });
    cfg.agents[1].queues = vec![Membership::new("elderly"), Membership::new("nonexistent")];
    let mut acd = Acd::new(cfg);
    for a in ["1001", "1002"] {
        acd.handle(
            t0,
            AcdInput::Registered {
                agent: a.into(),
                registered: true,
            },
        )
        .unwrap();
    }
    acd.handle(
        t0,
        AcdInput::Enqueue {
            call: 1,
            queue: "elderly".into(),
            priority: 0,
            callback: false,
        },
    )
    .unwrap();
    assert_eq!(calls_out(&mut acd), vec![("offer", 1, "1002".into())]);
    assert_eq!(
        acd.agent("1002").unwrap().queues,
        vec!["elderly".to_string()]
    );
}

#[test]
fn errors() {
    let t0 = Instant::now();
    let mut acd = ready(t0, &["1001"]);
    assert_eq!(
        acd.handle(
            t0,
            AcdInput::Enqueue {
                call: 1,
                queue: "nope".into(),
                priority: 0,
                callback: false,
            }
        ),
        Err(AcdError::UnknownQueue("nope".into()))
    );
    assert_eq!(
        acd.handle(t0, AcdInput::EndWrapUp { agent: "9".into() }),
        Err(AcdError::UnknownAgent("9".into()))
    );
    enqueue(&mut acd, t0, 1, 0);
    assert_eq!(
        acd.handle(
            t0,
            AcdInput::Enqueue {
                call: 1,
                queue: "general".into(),
                priority: 0,
                callback: false,
            }
        ),
        Err(AcdError::DuplicateCall(1))
    );
    assert_eq!(
        AcdError::UnknownQueue("x".into()).to_string(),
        "unknown queue `x`"
    );
}

#[test]
fn agent_view_serde() {
    let acd = Acd::new(config(&["1001"]));
    let json = serde_json::to_value(acd.agent("1001").unwrap()).unwrap();
    assert_eq!(json["status"], "available");
    assert_eq!(json["state"], "idle");
    assert_eq!(json["registered"], false);
    assert_eq!(json["state_since"], serde_json::Value::Null);
    let s: AgentStatus = serde_json::from_str("\"logged_out\"").unwrap();
    assert_eq!(s, AgentStatus::LoggedOut);
    assert_eq!(
        serde_json::to_string(&AgentState::WrapUp).unwrap(),
        "\"wrap_up\""
    );
}
