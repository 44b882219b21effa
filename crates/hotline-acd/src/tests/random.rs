//! Random input sequences against an independent model of the agents and calls.

use super::*;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{HashMap, HashSet};

/// What the test believes about one agent, rebuilt from the inputs it sent and the outputs it saw.
#[derive(Default, Clone)]
struct AgentModel {
    status: Option<AgentStatus>,
    registered: bool,
    direct: bool,
    offered: Option<CallRef>,
    ringing: bool,
    in_call: Option<CallRef>,
    /// In wrap-up (of this call) until the deadline (`None`: ends only by `EndWrapUp`).
    wrap: Option<(CallRef, Option<Instant>)>,
    misses: u32,
}

impl AgentModel {
    fn state(&self) -> AgentState {
        if self.offered.is_some() {
            if self.ringing {
                AgentState::Ringing
            } else {
                AgentState::Reserved
            }
        } else if self.in_call.is_some() || self.direct {
            AgentState::InCall
        } else if self.wrap.is_some() {
            AgentState::WrapUp
        } else {
            AgentState::Idle
        }
    }
}

struct CallModel {
    queue: usize,
    enqueued: Instant,
    offered_to: HashSet<String>,
    offered_at: Option<Instant>,
}

struct World {
    cfg: AcdConfig,
    agents: HashMap<String, AgentModel>,
    /// (queue index → tier) and skills per agent.
    tiers: HashMap<String, HashMap<usize, u32>>,
    qualified: HashMap<String, HashSet<usize>>,
    held: HashMap<CallRef, CallModel>,
    /// Queue of calls answered (for wrap-up length).
    talking: HashMap<CallRef, usize>,
    wrap_ended: HashSet<CallRef>,
    /// Wrap-ups the model saw end this step; the core must report each.
    wrap_due: HashSet<CallRef>,
    calls_ended: HashSet<CallRef>,
    offered: HashSet<CallRef>,
    abandoned: HashSet<CallRef>,
    /// How often the rarer paths ran, so the generator cannot silently stop reaching them.
    ring_all_extra: usize,
    reconciled: usize,
    no_answer_breaks: usize,
}

/// Random sequences keep the invariants: an agent never has two calls, offers go only to eligible agents (status,
/// registration, idle, no direct call, member in an open tier, skills), ring-all offers one call to many at once,
/// max_no_answer is applied exactly, reconciliation frees exactly the agents of vanished calls, wrap-up is
/// respected and reported once, nothing stalls, and every call is eventually offered or abandoned.
#[test]
fn random_sequences_keep_invariants() {
    let mut total = [0usize; 5];
    for seed in 0..300u64 {
        for (t, n) in total.iter_mut().zip(run_random(seed)) {
            *t += n;
        }
    }
    // Guard against a generator that silently stops exercising the core.
    let [offers, abandons, ring_all, reconciled, breaks] = total;
    assert!(
        offers > 6_000 && abandons > 1_000 && ring_all > 100 && reconciled > 100 && breaks > 100,
        "{total:?}"
    );
}

fn random_config(rng: &mut StdRng) -> AcdConfig {
    let n_agents = rng.gen_range(1..=6);
    let queues: Vec<QueueConfig> = ["a", "b"]
        .iter()
        .map(|q| QueueConfig {
            ring_timeout: Duration::from_secs(rng.gen_range(0..3) * 10),
            wrap_up: Duration::from_secs(rng.gen_range(0..3) * 3),
            strategy: Strategy::ALL[rng.gen_range(0..Strategy::ALL.len())],
            tier_escalate: Duration::from_secs(rng.gen_range(0..3) * 5),
            skills: if *q == "b" { vec!["x".into()] } else { vec![] },
            max_no_answer: rng.gen_range(0..4),
            ..QueueConfig::new(*q)
        })
        .collect();
    let agents = (0..n_agents)
        .map(|i| {
            let mut a = AgentConfig::new(format!("{}", 1001 + i));
            // The first agent serves both queues at tier 1 with the skill, so every call can be served.
            let which = if i == 0 { 2 } else { rng.gen_range(0..3) };
            for q in ["a", "b"]
                .iter()
                .enumerate()
                .filter(|(k, _)| which == 2 || which == *k)
            {
                let tier = if i == 0 { 1 } else { rng.gen_range(1..=3) };
                a = a.member(*q.1, tier);
            }
            if i == 0 || rng.gen_bool(0.5) {
                a = a.skill("x", rng.gen_range(1..=3));
            }
            a
        })
        .collect();
    AcdConfig {
        queues,
        agents,
        seed: rng.gen(),
    }
}

impl World {
    fn new(cfg: AcdConfig) -> Self {
        let mut tiers = HashMap::new();
        let mut qualified = HashMap::new();
        for a in &cfg.agents {
            let mut t = HashMap::new();
            let mut q = HashSet::new();
            for m in &a.queues {
                let qi = cfg.queues.iter().position(|x| x.name == m.queue).unwrap();
                t.insert(qi, m.tier.max(1));
                if cfg.queues[qi]
                    .skills
                    .iter()
                    .all(|s| a.skills.get(s).is_some_and(|&l| l >= 1))
                {
                    q.insert(qi);
                }
            }
            tiers.insert(a.id.clone(), t);
            qualified.insert(a.id.clone(), q);
        }
        let agents = cfg
            .agents
            .iter()
            .map(|a| {
                let m = AgentModel {
                    status: Some(AgentStatus::Available),
                    ..Default::default()
                };
                (a.id.clone(), m)
            })
            .collect();
        World {
            cfg,
            agents,
            tiers,
            qualified,
            held: HashMap::new(),
            talking: HashMap::new(),
            wrap_ended: HashSet::new(),
            wrap_due: HashSet::new(),
            calls_ended: HashSet::new(),
            offered: HashSet::new(),
            abandoned: HashSet::new(),
            ring_all_extra: 0,
            reconciled: 0,
            no_answer_breaks: 0,
        }
    }

    /// Whether `agent` may take `call` now (everything but rest, which the model does not track).
    fn eligible(&self, now: Instant, agent: &str, call: CallRef) -> bool {
        let a = &self.agents[agent];
        let Some(c) = self.held.get(&call) else {
            return false;
        };
        let q = &self.cfg.queues[c.queue];
        let open = |tier: u32| {
            q.tier_escalate.is_zero()
                || now.saturating_duration_since(c.enqueued) >= q.tier_escalate * (tier - 1)
        };
        a.status == Some(AgentStatus::Available)
            && a.registered
            && !a.direct
            && a.state() == AgentState::Idle
            && self.qualified[agent].contains(&c.queue)
            && self.tiers[agent].get(&c.queue).is_some_and(|&t| open(t))
    }

    fn start_wrap(&mut self, now: Instant, agent: &str, call: CallRef) {
        let q = self.talking.remove(&call).unwrap();
        let w = self.cfg.queues[q].wrap_up;
        self.calls_ended.insert(call);
        self.agents.get_mut(agent).unwrap().wrap = if w.is_zero() {
            // Ends at once: the core reports a 0 s wrap-up.
            self.wrap_due.insert(call);
            None
        } else {
            Some((call, Some(now + w)))
        };
    }

    /// A miss by `agent` for `call` (already cleared from the model's offer).
    fn miss(&mut self, agent: &str, call: CallRef) {
        let q = self.held[&call].queue;
        let max = self.cfg.queues[q].max_no_answer;
        let a = self.agents.get_mut(agent).unwrap();
        a.misses += 1;
        if max > 0 && a.misses >= max {
            a.misses = 0;
            if a.status == Some(AgentStatus::Available) {
                a.status = Some(AgentStatus::Break);
                self.no_answer_breaks += 1;
            }
        }
    }

    fn unoffer(&mut self, agent: &str, call: CallRef) {
        let a = self.agents.get_mut(agent).unwrap();
        assert_eq!(a.offered, Some(call), "{agent} withdrawn from {call}");
        a.offered = None;
        a.ringing = false;
        if let Some(c) = self.held.get_mut(&call) {
            c.offered_to.remove(agent);
            if c.offered_to.is_empty() {
                c.offered_at = None;
            }
        }
    }
}

/// Returns how many calls were offered and abandoned, extra ring-all offers, reconciled agents and no-answer
/// breaks.
fn run_random(seed: u64) -> [usize; 5] {
    let mut rng = StdRng::seed_from_u64(seed);
    let cfg = random_config(&mut rng);
    let ids: Vec<String> = cfg.agents.iter().map(|a| a.id.clone()).collect();
    let retry = Duration::from_millis(rng.gen_range(0..3) * 1000);
    let mut acd = Acd::new(cfg.clone()).with_retry_delay(retry);
    let mut w = World::new(cfg);
    let mut next_call: CallRef = 1;
    let mut now = Instant::now();

    let steps = 400;
    for step in 0..steps + 300 {
        let closing = step >= steps;
        let id = ids[rng.gen_range(0..ids.len())].clone();
        let m = w.agents[&id].clone();
        let input = if closing {
            // Wind down: everyone available and registered, answer and finish everything, let time pass.
            if m.status != Some(AgentStatus::Available) {
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
            } else if m.direct {
                Some(AcdInput::DirectCall {
                    agent: id,
                    active: false,
                })
            } else if let Some(call) = m.offered {
                Some(AcdInput::Answered { call, agent: id })
            } else if m.in_call.is_some() {
                Some(AcdInput::CallEnded { agent: id })
            } else {
                None
            }
        } else {
            let any_call = rng.gen_range(1..next_call + 1);
            match rng.gen_range(0..100) {
                0..=7 => Some(AcdInput::SetStatus {
                    agent: id,
                    status: [
                        AgentStatus::Available,
                        AgentStatus::Available,
                        AgentStatus::Break,
                        AgentStatus::LoggedOut,
                    ][rng.gen_range(0..4)],
                    reason: Some("r".into()),
                }),
                8..=15 => Some(AcdInput::Registered {
                    agent: id,
                    registered: rng.gen_bool(0.75),
                }),
                16..=33 => {
                    let call = next_call;
                    next_call += 1;
                    Some(AcdInput::Enqueue {
                        call,
                        queue: ["a", "b"][rng.gen_range(0..2)].into(),
                        priority: rng.gen_range(-1..=1),
                        callback: rng.gen_bool(0.1),
                    })
                }
                34..=39 => Some(AcdInput::Abandon { call: any_call }),
                40..=41 => Some(AcdInput::Leave { call: any_call }),
                42..=47 => Some(AcdInput::Ringing {
                    call: m.offered.filter(|_| rng.gen_bool(0.9)).unwrap_or(any_call),
                    agent: id,
                }),
                48..=59 => Some(AcdInput::Answered {
                    // Mostly the current offer; sometimes a stale or bogus one.
                    call: m.offered.filter(|_| rng.gen_bool(0.8)).unwrap_or(any_call),
                    agent: id,
                }),
                60..=67 => Some(AcdInput::OfferFailed {
                    call: m.offered.unwrap_or(any_call),
                    agent: id,
                    reason: [
                        FailReason::NoAnswer,
                        FailReason::Rejected,
                        FailReason::Unreachable,
                    ][rng.gen_range(0..3)],
                }),
                68..=75 => Some(AcdInput::CallEnded { agent: id }),
                76..=79 => Some(AcdInput::EndWrapUp { agent: id }),
                80..=83 => Some(AcdInput::DirectCall {
                    agent: id,
                    active: rng.gen_bool(0.5),
                }),
                84..=86 => {
                    // The switch lost some calls: each held or talking call survives with 80 %.
                    let mut live: Vec<CallRef> = w
                        .held
                        .keys()
                        .chain(w.talking.keys())
                        .copied()
                        .filter(|_| rng.gen_bool(0.8))
                        .collect();
                    live.sort_unstable();
                    Some(AcdInput::Reconcile { live })
                }
                _ => None,
            }
        };

        // Inputs whose withdrawals are misses.
        let mut miss_step = false;
        match input {
            Some(input) => {
                apply_to_model(&mut w, now, &input, &mut miss_step);
                let _ = acd.handle(now, input);
            }
            None => {
                // Let time pass to the next timer (or a bit, if none).
                now = match acd.poll_timeout() {
                    Some(t) if t > now => t,
                    _ => now + Duration::from_millis(rng.gen_range(1..5000)),
                };
                acd.handle_timeout(now);
                miss_step = true;
                expire_wrap_ups(&mut w, now);
            }
        }
        check_outputs(&mut acd, &mut w, now, miss_step, seed, step);

        for v in acd.agents() {
            let m = &w.agents[&v.id];
            assert_eq!(
                v.state,
                m.state(),
                "seed {seed} step {step}: agent {}",
                v.id
            );
            assert_eq!(
                Some(v.status),
                m.status,
                "seed {seed} step {step}: {}",
                v.id
            );
        }

        // Never stalls: a waiting call next to an eligible idle agent means a timer is pending (a rest).
        let waiting: Vec<CallRef> = w
            .held
            .iter()
            .filter(|(_, c)| c.offered_to.is_empty())
            .map(|(&k, _)| k)
            .collect();
        for call in waiting {
            if ids.iter().any(|id| w.eligible(now, id, call)) {
                assert!(
                    acd.poll_timeout().is_some_and(|t| t > now),
                    "seed {seed} step {step}: call {call} stalled"
                );
            }
        }
    }

    // Drain the tail: keep answering and ending (and lifting no-answer breaks) until quiet, before time moves.
    for _ in 0..1000 {
        let mut acted = false;
        for id in ids.iter().cycle().take(ids.len() * 50) {
            let m = w.agents[id].clone();
            let input = if m.status != Some(AgentStatus::Available) {
                AcdInput::SetStatus {
                    agent: id.clone(),
                    status: AgentStatus::Available,
                    reason: None,
                }
            } else if let Some(call) = m.offered {
                AcdInput::Answered {
                    call,
                    agent: id.clone(),
                }
            } else if m.in_call.is_some() {
                AcdInput::CallEnded { agent: id.clone() }
            } else {
                continue;
            };
            acted = true;
            let mut miss = false;
            apply_to_model(&mut w, now, &input, &mut miss);
            acd.handle(now, input).unwrap();
            check_outputs(&mut acd, &mut w, now, false, seed, 9999);
        }
        if let Some(t) = acd.poll_timeout() {
            acted = true;
            now = now.max(t);
            acd.handle_timeout(now);
            expire_wrap_ups(&mut w, now);
            check_outputs(&mut acd, &mut w, now, true, seed, 9999);
        }
        if !acted {
            break;
        }
    }
    assert!(
        w.held.is_empty(),
        "seed {seed}: calls left {:?}",
        w.held.keys()
    );
    for call in 1..next_call {
        assert!(!acd.contains_call(call), "seed {seed}: {call} still held");
    }
    assert_eq!(
        w.wrap_ended, w.calls_ended,
        "seed {seed}: wrap-ups reported"
    );
    [
        w.offered.len(),
        w.abandoned.len(),
        w.ring_all_extra,
        w.reconciled,
        w.no_answer_breaks,
    ]
}

/// What an input means, applied before the outputs are seen.
fn apply_to_model(w: &mut World, now: Instant, input: &AcdInput, miss_step: &mut bool) {
    match input {
        AcdInput::SetStatus { agent, status, .. } => {
            w.agents.get_mut(agent).unwrap().status = Some(*status);
        }
        AcdInput::Registered { agent, registered } => {
            w.agents.get_mut(agent).unwrap().registered = *registered;
            *miss_step = !registered;
        }
        AcdInput::Enqueue { call, queue, .. } => {
            if !w.held.contains_key(call) {
                let q = w.cfg.queues.iter().position(|x| &x.name == queue).unwrap();
                w.held.insert(
                    *call,
                    CallModel {
                        queue: q,
                        enqueued: now,
                        offered_to: HashSet::new(),
                        offered_at: None,
                    },
                );
            }
        }
        AcdInput::Abandon { call } => {
            if w.held.contains_key(call) {
                w.abandoned.insert(*call);
            }
        }
        AcdInput::Ringing { call, agent } => {
            let a = w.agents.get_mut(agent).unwrap();
            if a.offered == Some(*call) {
                a.ringing = true;
            }
        }
        AcdInput::Answered { call, agent } => {
            if w.agents[agent].offered == Some(*call) {
                let q = w.held[call].queue;
                w.unoffer(agent, *call);
                let a = w.agents.get_mut(agent).unwrap();
                a.in_call = Some(*call);
                a.misses = 0;
                w.talking.insert(*call, q);
            }
        }
        AcdInput::OfferFailed {
            call,
            agent,
            reason,
        } => {
            if w.agents[agent].offered == Some(*call) {
                w.unoffer(agent, *call);
                if *reason != FailReason::Rejected {
                    w.miss(agent, *call);
                }
            }
        }
        AcdInput::CallEnded { agent } => {
            if let Some(call) = w.agents.get_mut(agent).unwrap().in_call.take() {
                w.start_wrap(now, agent, call);
            }
        }
        AcdInput::EndWrapUp { agent } => {
            if let Some((call, _)) = w.agents.get_mut(agent).unwrap().wrap.take() {
                w.wrap_due.insert(call);
            }
        }
        AcdInput::DirectCall { agent, active } => {
            w.agents.get_mut(agent).unwrap().direct = *active;
        }
        AcdInput::Leave { .. } | AcdInput::Reconcile { .. } => {}
    }
}

/// Checks and applies the outputs of one step. `miss_step`: withdrawals of current offers are misses (ring
/// timeouts, unregistration).
fn check_outputs(
    acd: &mut Acd,
    w: &mut World,
    now: Instant,
    miss_step: bool,
    seed: u64,
    step: usize,
) {
    let ctx = format!("seed {seed} step {step}");
    while let Some(out) = acd.poll_output() {
        match out {
            AcdOutput::Offer { call, agent, queue } => {
                assert!(
                    w.eligible(now, &agent, call),
                    "{ctx}: {call} to ineligible {agent}"
                );
                let c = w.held.get_mut(&call).unwrap();
                assert_eq!(w.cfg.queues[c.queue].name, queue, "{ctx}");
                if let Some(at) = c.offered_at {
                    assert!(
                        at == now && w.cfg.queues[c.queue].strategy == Strategy::RingAll,
                        "{ctx}: {call} offered to {agent} while offered to {:?}",
                        c.offered_to
                    );
                }
                w.ring_all_extra += usize::from(c.offered_at.is_some());
                c.offered_at = Some(now);
                c.offered_to.insert(agent.clone());
                let a = w.agents.get_mut(&agent).unwrap();
                a.offered = Some(call);
                a.ringing = false;
                w.offered.insert(call);
            }
            AcdOutput::Withdraw { call, agent } => {
                if w.agents[&agent].offered == Some(call) {
                    w.unoffer(&agent, call);
                    let gone_elsewhere = !w.held.contains_key(&call);
                    if miss_step && !gone_elsewhere {
                        w.miss(&agent, call);
                    }
                }
                // Otherwise: refusing a stale answer.
            }
            AcdOutput::Reconciled { agent, call } => {
                w.reconciled += 1;
                let a = w.agents.get_mut(&agent).unwrap();
                if a.in_call == Some(call) {
                    a.in_call = None;
                    w.start_wrap(now, &agent, call);
                } else {
                    w.unoffer(&agent, call);
                }
            }
            AcdOutput::WrapUpEnded { call, .. } => {
                assert!(
                    w.wrap_due.remove(&call),
                    "{ctx}: unexpected wrap-up end of {call}"
                );
                assert!(
                    w.wrap_ended.insert(call),
                    "{ctx}: wrap-up of {call} reported twice"
                );
            }
            AcdOutput::AgentChanged(v) => {
                let m = &w.agents[&v.id];
                assert_eq!(v.registered, m.registered, "{ctx}");
                assert_eq!(Some(v.status), m.status, "{ctx}: {}", v.id);
            }
        }
    }
    // Calls the ACD dropped (abandon, leave, reconcile) leave the model too.
    let gone: Vec<CallRef> = w
        .held
        .keys()
        .copied()
        .filter(|c| !acd.contains_call(*c))
        .collect();
    for call in gone {
        let c = w.held.remove(&call).unwrap();
        assert!(c.offered_to.is_empty(), "{ctx}: {call} gone while offered");
        if !w.talking.contains_key(&call) {
            w.abandoned.insert(call);
        }
    }
    assert!(
        w.wrap_due.is_empty(),
        "{ctx}: wrap-ups not reported {:?}",
        w.wrap_due
    );
}

fn expire_wrap_ups(w: &mut World, now: Instant) {
    for a in w.agents.values_mut() {
        if let Some((call, Some(t))) = a.wrap {
            if t <= now {
                a.wrap = None;
                w.wrap_due.insert(call);
            }
        }
    }
}

/// Arbitrary inputs (unknown agents and queues, bogus calls, instants that go backwards) never panic.
#[test]
fn garbage_never_panics() {
    for seed in 0..200u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let cfg = random_config(&mut rng);
        let mut acd = Acd::new(cfg).with_retry_delay(Duration::from_millis(rng.gen_range(0..3000)));
        let base = Instant::now() + Duration::from_secs(1_000_000);
        let agent = |rng: &mut StdRng| format!("{}", 1000 + rng.gen_range(0..9));
        for _ in 0..500 {
            let now =
                base + Duration::from_millis(rng.gen_range(0..600_000)) - Duration::from_secs(300);
            let call = rng.gen_range(0..20);
            let input = match rng.gen_range(0..13) {
                0 => AcdInput::SetStatus {
                    agent: agent(&mut rng),
                    status: [
                        AgentStatus::Available,
                        AgentStatus::Break,
                        AgentStatus::LoggedOut,
                    ][rng.gen_range(0..3)],
                    reason: None,
                },
                1 => AcdInput::Registered {
                    agent: agent(&mut rng),
                    registered: rng.gen(),
                },
                2 => AcdInput::Enqueue {
                    call,
                    queue: ["a", "b", "zz"][rng.gen_range(0..3)].into(),
                    priority: rng.gen(),
                    callback: rng.gen(),
                },
                3 => AcdInput::Abandon { call },
                4 => AcdInput::Leave { call },
                5 => AcdInput::Ringing {
                    call,
                    agent: agent(&mut rng),
                },
                6 => AcdInput::Answered {
                    call,
                    agent: agent(&mut rng),
                },
                7 => AcdInput::OfferFailed {
                    call,
                    agent: agent(&mut rng),
                    reason: FailReason::Unreachable,
                },
                8 => AcdInput::CallEnded {
                    agent: agent(&mut rng),
                },
                9 => AcdInput::EndWrapUp {
                    agent: agent(&mut rng),
                },
                10 => AcdInput::DirectCall {
                    agent: agent(&mut rng),
                    active: rng.gen(),
                },
                11 => AcdInput::Reconcile {
                    live: (0..rng.gen_range(0..20)).collect(),
                },
                _ => {
                    acd.handle_timeout(now);
                    continue;
                }
            };
            let _ = acd.handle(now, input);
            drain(&mut acd);
            let _ = acd.all_queue_stats(now);
            let _ = acd.wait_estimate(call, now);
            let _ = acd.agent_stats("1001", now);
        }
    }
}
