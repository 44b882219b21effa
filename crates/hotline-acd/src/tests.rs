use super::*;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{HashMap, HashSet};

const RING: Duration = Duration::from_secs(15);
const WRAP: Duration = Duration::from_secs(5);

fn secs(t0: Instant, s: u64) -> Instant {
    t0 + Duration::from_secs(s)
}

fn config(agents: &[&str]) -> AcdConfig {
    AcdConfig {
        queues: vec![QueueConfig {
            name: "general".into(),
            ring_timeout: RING,
            wrap_up: WRAP,
        }],
        agents: agents
            .iter()
            .map(|id| AgentConfig {
                id: id.to_string(),
                name: format!("坐席{id}"),
                queues: vec!["general".into()],
                initial_status: AgentStatus::Available,
            })
            .collect(),
    }
}

/// An ACD with the given agents all registered and available, outputs drained.
fn ready(t0: Instant, agents: &[&str]) -> Acd {
    let mut acd = Acd::new(config(agents));
    for id in agents {
        acd.handle(
            t0,
            AcdInput::Registered {
                agent: id.to_string(),
                registered: true,
            },
        )
        .unwrap();
    }
    drain(&mut acd);
    acd
}

fn drain(acd: &mut Acd) -> Vec<AcdOutput> {
    std::iter::from_fn(|| acd.poll_output()).collect()
}

/// Only offers and withdrawals, as (kind, call, agent).
fn calls_out(acd: &mut Acd) -> Vec<(&'static str, CallRef, String)> {
    drain(acd)
        .into_iter()
        .filter_map(|o| match o {
            AcdOutput::Offer { call, agent, .. } => Some(("offer", call, agent)),
            AcdOutput::Withdraw { call, agent } => Some(("withdraw", call, agent)),
            AcdOutput::AgentChanged(_) => None,
        })
        .collect()
}

fn enqueue(acd: &mut Acd, now: Instant, call: CallRef, priority: i32) {
    acd.handle(
        now,
        AcdInput::Enqueue {
            call,
            queue: "general".into(),
            priority,
        },
    )
    .unwrap();
}

fn state(acd: &Acd, id: &str) -> AgentState {
    acd.agent(id).unwrap().state
}

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
    assert_eq!(state(&acd, "1002"), AgentState::Ringing);
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
        name: "elderly".into(),
        ring_timeout: RING,
        wrap_up: WRAP,
    });
    cfg.agents[1].queues = vec!["elderly".into(), "nonexistent".into()];
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
                priority: 0
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
                priority: 0
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

/// What the test believes about one agent, rebuilt from the inputs it sent and the outputs it saw.
#[derive(Default, Clone)]
struct Model {
    status_available: bool,
    registered: bool,
    ringing: Option<CallRef>,
    in_call: bool,
    /// Wrap-up ends no earlier than this unless ended explicitly.
    wrap_until: Option<Instant>,
}

/// Random event sequences against the invariants: an agent never has two calls, offers go only to available,
/// registered, idle agents of the call's queue, wrap-up is respected, nothing stalls, and every call is
/// eventually offered or abandoned.
#[test]
fn random_sequences_keep_invariants() {
    let (mut offers, mut abandons) = (0, 0);
    for seed in 0..300u64 {
        let (o, a) = run_random(seed);
        offers += o;
        abandons += a;
    }
    // Guard against a generator that silently stops exercising the core.
    assert!(
        offers > 10_000 && abandons > 1_000,
        "{offers} offers, {abandons} abandons"
    );
}

/// Returns how many calls were offered and abandoned.
fn run_random(seed: u64) -> (usize, usize) {
    let mut rng = StdRng::seed_from_u64(seed);
    let n_agents = rng.gen_range(1..=5);
    let ids: Vec<String> = (0..n_agents).map(|i| format!("{}", 1001 + i)).collect();
    let queues = ["a", "b"];
    let cfg = AcdConfig {
        queues: queues
            .iter()
            .map(|q| QueueConfig {
                name: q.to_string(),
                ring_timeout: Duration::from_secs(rng.gen_range(0..3) * 10),
                wrap_up: Duration::from_secs(rng.gen_range(0..3) * 3),
            })
            .collect(),
        agents: ids
            .iter()
            .map(|id| AgentConfig {
                id: id.clone(),
                name: id.clone(),
                queues: match if id == &ids[0] {
                    2
                } else {
                    rng.gen_range(0..3)
                } {
                    0 => vec!["a".into()],
                    1 => vec!["b".into()],
                    _ => vec!["a".into(), "b".into()],
                },
                initial_status: AgentStatus::Available,
            })
            .collect(),
    };
    let agent_queues: HashMap<String, Vec<String>> = cfg
        .agents
        .iter()
        .map(|a| (a.id.clone(), a.queues.clone()))
        .collect();
    let wrap_of: HashMap<String, Duration> = cfg
        .queues
        .iter()
        .map(|q| (q.name.clone(), q.wrap_up))
        .collect();
    let retry = Duration::from_millis(rng.gen_range(0..3) * 1000);
    let mut acd = Acd::new(cfg).with_retry_delay(retry);
    let mut model: HashMap<String, Model> = ids
        .iter()
        .map(|id| {
            (
                id.clone(),
                Model {
                    status_available: true,
                    ..Default::default()
                },
            )
        })
        .collect();
    let mut call_queue: HashMap<CallRef, String> = HashMap::new();
    let mut in_call_queue: HashMap<String, String> = HashMap::new();
    let mut offered: HashSet<CallRef> = HashSet::new();
    let mut abandoned: HashSet<CallRef> = HashSet::new();
    let mut answered: HashSet<CallRef> = HashSet::new();
    let mut next_call: CallRef = 1;
    let mut now = Instant::now();

    let steps = 400;
    for step in 0..steps + 200 {
        let closing = step >= steps;
        let pick = |rng: &mut StdRng| ids[rng.gen_range(0..ids.len())].clone();
        let input = if closing {
            // Wind down: everyone available and registered, answer and finish everything, let time pass.
            let id = pick(&mut rng);
            let m = &model[&id];
            if !m.status_available {
                Some(AcdInput::SetStatus {
                    agent: id,
                    status: AgentStatus::Available,
                    reason: None,
                })
            } else if !m.registered {
                Some(AcdInput::Registered {
                    agent: id,
                    registered: true,
                })
            } else if let Some(call) = m.ringing {
                Some(AcdInput::Answered { call, agent: id })
            } else if m.in_call {
                Some(AcdInput::CallEnded { agent: id })
            } else {
                None
            }
        } else {
            match rng.gen_range(0..100) {
                0..=9 => Some(AcdInput::SetStatus {
                    agent: pick(&mut rng),
                    status: [
                        AgentStatus::Available,
                        AgentStatus::Available,
                        AgentStatus::Break,
                        AgentStatus::LoggedOut,
                    ][rng.gen_range(0..4)],
                    reason: Some("r".into()),
                }),
                10..=19 => Some(AcdInput::Registered {
                    agent: pick(&mut rng),
                    registered: rng.gen_bool(0.7),
                }),
                20..=39 => {
                    let call = next_call;
                    next_call += 1;
                    Some(AcdInput::Enqueue {
                        call,
                        queue: queues[rng.gen_range(0..2)].into(),
                        priority: rng.gen_range(-1..=1),
                    })
                }
                40..=47 if next_call > 1 => Some(AcdInput::Abandon {
                    call: rng.gen_range(1..next_call),
                }),
                48..=62 => {
                    let id = pick(&mut rng);
                    // Mostly answer the current offer; sometimes a stale or bogus one.
                    let call = match model[&id].ringing {
                        Some(c) if rng.gen_bool(0.8) => c,
                        _ => rng.gen_range(1..next_call + 1),
                    };
                    Some(AcdInput::Answered { call, agent: id })
                }
                63..=72 => {
                    let id = pick(&mut rng);
                    let call = model[&id].ringing.unwrap_or(next_call);
                    Some(AcdInput::OfferFailed {
                        call,
                        agent: id,
                        reason: FailReason::Rejected,
                    })
                }
                73..=82 => Some(AcdInput::CallEnded {
                    agent: pick(&mut rng),
                }),
                83..=87 => Some(AcdInput::EndWrapUp {
                    agent: pick(&mut rng),
                }),
                _ => None,
            }
        };

        match input {
            Some(input) => {
                // Update the model with what the input means before seeing outputs.
                match &input {
                    AcdInput::SetStatus { agent, status, .. } => {
                        model.get_mut(agent).unwrap().status_available =
                            *status == AgentStatus::Available;
                    }
                    AcdInput::Registered { agent, registered } => {
                        model.get_mut(agent).unwrap().registered = *registered;
                    }
                    AcdInput::Enqueue { call, queue, .. } => {
                        call_queue.insert(*call, queue.clone());
                    }
                    AcdInput::Abandon { call } => {
                        if !answered.contains(call) {
                            abandoned.insert(*call);
                        }
                    }
                    AcdInput::Answered { call, agent } => {
                        let m = model.get_mut(agent).unwrap();
                        if m.ringing == Some(*call) {
                            m.ringing = None;
                            m.in_call = true;
                            answered.insert(*call);
                            in_call_queue.insert(agent.clone(), call_queue[call].clone());
                        }
                    }
                    AcdInput::OfferFailed { call, agent, .. } => {
                        let m = model.get_mut(agent).unwrap();
                        if m.ringing == Some(*call) {
                            m.ringing = None;
                        }
                    }
                    AcdInput::CallEnded { agent } => {
                        let m = model.get_mut(agent).unwrap();
                        if m.in_call {
                            m.in_call = false;
                            let w = wrap_of[&in_call_queue[agent]];
                            m.wrap_until = (!w.is_zero()).then(|| now + w);
                        }
                    }
                    AcdInput::EndWrapUp { agent } => {
                        model.get_mut(agent).unwrap().wrap_until = None;
                    }
                }
                let _ = acd.handle(now, input);
            }
            None => {
                // Let time pass to the next timer (or a bit, if none).
                now = match acd.poll_timeout() {
                    Some(t) if t > now => t,
                    _ => now + Duration::from_millis(rng.gen_range(1..5000)),
                };
                acd.handle_timeout(now);
                for m in model.values_mut() {
                    if m.wrap_until.is_some_and(|t| t <= now) {
                        m.wrap_until = None;
                    }
                }
            }
        }

        while let Some(out) = acd.poll_output() {
            match out {
                AcdOutput::Offer { call, agent, queue } => {
                    let m = model.get_mut(&agent).unwrap();
                    assert!(
                        m.ringing.is_none(),
                        "seed {seed}: {agent} offered two calls"
                    );
                    assert!(!m.in_call, "seed {seed}: {agent} offered while in call");
                    assert!(
                        m.wrap_until.is_none(),
                        "seed {seed}: {agent} offered in wrap-up"
                    );
                    assert!(
                        m.status_available && m.registered,
                        "seed {seed}: {agent} not eligible"
                    );
                    assert_eq!(call_queue[&call], queue);
                    assert!(
                        agent_queues[&agent].contains(&queue),
                        "seed {seed}: wrong queue"
                    );
                    assert!(!abandoned.contains(&call) && !answered.contains(&call));
                    m.ringing = Some(call);
                    offered.insert(call);
                }
                AcdOutput::Withdraw { call, agent } => {
                    let m = model.get_mut(&agent).unwrap();
                    if m.ringing == Some(call) {
                        m.ringing = None;
                    }
                }
                AcdOutput::AgentChanged(v) => {
                    let m = &model[&v.id];
                    assert_eq!(v.registered, m.registered);
                    assert_eq!(v.status == AgentStatus::Available, m.status_available);
                }
            }
        }

        // Views agree with the model.
        for v in acd.agents() {
            let m = &model[&v.id];
            let expect = if m.ringing.is_some() {
                AgentState::Ringing
            } else if m.in_call {
                AgentState::InCall
            } else if m.wrap_until.is_some() {
                AgentState::WrapUp
            } else {
                AgentState::Idle
            };
            // A wrap-up can end early by timeout only at or after its deadline, which the model clears too.
            assert_eq!(v.state, expect, "seed {seed} step {step}: agent {}", v.id);
        }

        // Never stalls: a waiting call next to an eligible idle agent means a timer is pending (a rest).
        for q in queues {
            if acd.queue_len(q) > 0 {
                let idle_eligible = acd.agents().iter().any(|v| {
                    v.status == AgentStatus::Available
                        && v.registered
                        && v.state == AgentState::Idle
                        && v.queues.iter().any(|x| x == q)
                });
                if idle_eligible {
                    assert!(
                        acd.poll_timeout().is_some_and(|t| t > now),
                        "seed {seed} step {step}: queue {q} stalled"
                    );
                }
            }
        }
    }

    // Drain the tail: keep answering and ending until quiet.
    for _ in 0..1000 {
        let mut acted = false;
        for id in &ids {
            let m = model[id].clone();
            let input = if let Some(call) = m.ringing {
                Some(AcdInput::Answered {
                    call,
                    agent: id.clone(),
                })
            } else if m.in_call {
                Some(AcdInput::CallEnded { agent: id.clone() })
            } else {
                None
            };
            if let Some(input) = input {
                acted = true;
                if let AcdInput::Answered { call, .. } = &input {
                    let mm = model.get_mut(id).unwrap();
                    mm.ringing = None;
                    mm.in_call = true;
                    answered.insert(*call);
                } else {
                    model.get_mut(id).unwrap().in_call = false;
                }
                acd.handle(now, input).unwrap();
            }
        }
        if let Some(t) = acd.poll_timeout() {
            acted = true;
            now = now.max(t);
            acd.handle_timeout(now);
        }
        while let Some(out) = acd.poll_output() {
            if let AcdOutput::Offer { call, agent, .. } = out {
                assert!(model[&agent].ringing.is_none());
                model.get_mut(&agent).unwrap().ringing = Some(call);
                offered.insert(call);
            }
        }
        if !acted {
            break;
        }
    }
    for call in 1..next_call {
        if call_queue.contains_key(&call) {
            assert!(
                offered.contains(&call) || abandoned.contains(&call),
                "seed {seed}: call {call} never offered nor abandoned"
            );
        }
    }
    for q in queues {
        assert_eq!(acd.queue_len(q), 0, "seed {seed}: queue {q} not drained");
    }
    (offered.len(), abandoned.len())
}
