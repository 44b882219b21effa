//! Scenario tests with a fake clock.

use super::*;

mod agents;
mod basic;
mod random;
mod stats;
mod strategies;

const RING: Duration = Duration::from_secs(15);
const WRAP: Duration = Duration::from_secs(5);

fn secs(t0: Instant, s: u64) -> Instant {
    t0 + Duration::from_secs(s)
}

/// One queue "general" (15 s ring, 5 s wrap-up, longest-idle), every agent a tier-1 member.
fn config(agents: &[&str]) -> AcdConfig {
    AcdConfig {
        queues: vec![QueueConfig {
            wrap_up: WRAP,
            ..QueueConfig::new("general")
        }],
        agents: agents
            .iter()
            .map(|id| AgentConfig {
                name: format!("坐席{id}"),
                ..AgentConfig::new(*id).member("general", 1)
            })
            .collect(),
        seed: 1,
    }
}

fn register_all(acd: &mut Acd, t0: Instant) {
    for v in acd.agents() {
        acd.handle(
            t0,
            AcdInput::Registered {
                agent: v.id,
                registered: true,
            },
        )
        .unwrap();
    }
    drain(acd);
}

/// An ACD with the given agents all registered and available, outputs drained.
fn ready(t0: Instant, agents: &[&str]) -> Acd {
    let mut acd = Acd::new(config(agents));
    register_all(&mut acd, t0);
    acd
}

fn drain(acd: &mut Acd) -> Vec<AcdOutput> {
    std::iter::from_fn(|| acd.poll_output()).collect()
}

/// Only offers, withdrawals and reconciliations, as (kind, call, agent).
fn calls_out(acd: &mut Acd) -> Vec<(&'static str, CallRef, String)> {
    drain(acd)
        .into_iter()
        .filter_map(|o| match o {
            AcdOutput::Offer { call, agent, .. } => Some(("offer", call, agent)),
            AcdOutput::Withdraw { call, agent } => Some(("withdraw", call, agent)),
            AcdOutput::Reconciled { agent, call } => Some(("reconciled", call, agent)),
            AcdOutput::AgentChanged(_) | AcdOutput::WrapUpEnded { .. } => None,
        })
        .collect()
}

fn offer(call: CallRef, agent: &str) -> (&'static str, CallRef, String) {
    ("offer", call, agent.to_string())
}

fn withdraw(call: CallRef, agent: &str) -> (&'static str, CallRef, String) {
    ("withdraw", call, agent.to_string())
}

fn enqueue(acd: &mut Acd, now: Instant, call: CallRef, priority: i32) {
    enqueue_in(acd, now, call, "general", priority);
}

fn enqueue_in(acd: &mut Acd, now: Instant, call: CallRef, queue: &str, priority: i32) {
    acd.handle(
        now,
        AcdInput::Enqueue {
            call,
            queue: queue.into(),
            priority,
            callback: false,
        },
    )
    .unwrap();
}

fn answer(acd: &mut Acd, now: Instant, call: CallRef, agent: &str) {
    acd.handle(
        now,
        AcdInput::Answered {
            call,
            agent: agent.into(),
        },
    )
    .unwrap();
}

fn fail(acd: &mut Acd, now: Instant, call: CallRef, agent: &str, reason: FailReason) {
    acd.handle(
        now,
        AcdInput::OfferFailed {
            call,
            agent: agent.into(),
            reason,
        },
    )
    .unwrap();
}

fn end_call(acd: &mut Acd, now: Instant, agent: &str) {
    acd.handle(
        now,
        AcdInput::CallEnded {
            agent: agent.into(),
        },
    )
    .unwrap();
}

fn set_status(acd: &mut Acd, now: Instant, agent: &str, status: AgentStatus) {
    acd.handle(
        now,
        AcdInput::SetStatus {
            agent: agent.into(),
            status,
            reason: None,
        },
    )
    .unwrap();
}

fn state(acd: &Acd, id: &str) -> AgentState {
    acd.agent(id).unwrap().state
}

fn status(acd: &Acd, id: &str) -> AgentStatus {
    acd.agent(id).unwrap().status
}
