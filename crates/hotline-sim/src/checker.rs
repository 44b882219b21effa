//! The invariant checker: an independent model of calls, agents and tickets, fed with what the simulated switch
//! sent to the ACD and what the ACD answered. It never panics; it collects [`Violation`]s.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::time::{Duration, Instant};

use hotline_acd::{AgentState, AgentStatus, AgentView, CallRef};

/// Which invariant broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ViolationKind {
    /// A call neither answered nor abandoned after draining, or still held by the ACD.
    CallLost,
    /// An agent was offered a call while ringing for or talking on another.
    DoubleOffer,
    /// An offer went to an agent not available, registered and idle.
    OfferToUnavailable,
    /// An offer for a call that is not waiting (gone, answered, or ringing elsewhere).
    OfferForGoneCall,
    /// An agent ringing too long, in a call that does not exist, or not idle after draining.
    AgentStuck,
    /// A call offered before an older waiting call of the same queue and priority.
    FifoBroken,
    /// A call without a ticket, a ticket closed twice, or a ticket left open.
    Ticket,
    /// A withdraw for an offer the switch did not have.
    UnexpectedWithdraw,
    /// The ACD took an answer for an offer it had already withdrawn.
    StaleAnswerAccepted,
    /// The ACD refused an answer for a current offer.
    AnswerRefused,
    /// The ACD returned an error for an input the switch considered valid.
    AcdError,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Virtual time since the start of the day.
    pub at: Duration,
    pub kind: ViolationKind,
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{:>9.1} s] {:?}: {}",
            self.at.as_secs_f64(),
            self.kind,
            self.detail
        )
    }
}

/// How a ticket was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    Answered,
    Abandoned,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallState {
    Waiting,
    Ringing(usize),
    Talking(usize),
    Done(Disposition),
}

#[derive(Debug, Clone)]
struct CallModel {
    seq: u64,
    queue: String,
    priority: i32,
    arrived: Instant,
    answered: Option<Instant>,
    ended: Option<Instant>,
    state: CallState,
    ticket: u64,
}

#[derive(Debug, Clone)]
struct AgentModel {
    id: String,
    status: AgentStatus,
    registered: bool,
    ringing: Option<(CallRef, Instant)>,
    in_call: Option<CallRef>,
    wrap_until: Option<Instant>,
}

/// Per-call outcome, for the report.
#[derive(Debug, Clone, Copy)]
pub struct CallOutcome {
    pub wait: Duration,
    pub disposition: Option<Disposition>,
}

pub struct Checker {
    base: Instant,
    ring_timeout: Duration,
    wrap_up: Duration,
    slack: Duration,
    agents: Vec<AgentModel>,
    index: HashMap<String, usize>,
    calls: HashMap<CallRef, CallModel>,
    /// Waiting calls by (queue, priority), in arrival order.
    waiting: HashMap<(String, i32), BTreeSet<u64>>,
    next_seq: u64,
    next_ticket: u64,
    /// Ticket id -> closed disposition (None = open).
    tickets: HashMap<u64, Option<Disposition>>,
    violations: Vec<Violation>,
}

impl Checker {
    /// `agents` in ACD configuration order; they start logged out and unregistered.
    pub fn new(
        base: Instant,
        agents: &[String],
        ring_timeout: Duration,
        wrap_up: Duration,
    ) -> Self {
        let mut index = HashMap::new();
        let agents = agents
            .iter()
            .enumerate()
            .map(|(i, id)| {
                index.insert(id.clone(), i);
                AgentModel {
                    id: id.clone(),
                    status: AgentStatus::LoggedOut,
                    registered: false,
                    ringing: None,
                    in_call: None,
                    wrap_until: None,
                }
            })
            .collect();
        Checker {
            base,
            ring_timeout,
            wrap_up,
            slack: Duration::from_secs(1),
            agents,
            index,
            calls: HashMap::new(),
            waiting: HashMap::new(),
            next_seq: 0,
            next_ticket: 1,
            tickets: HashMap::new(),
            violations: Vec::new(),
        }
    }

    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    pub fn into_violations(self) -> Vec<Violation> {
        self.violations
    }

    pub fn record(&mut self, now: Instant, kind: ViolationKind, detail: String) {
        self.violations.push(Violation {
            at: now.saturating_duration_since(self.base),
            kind,
            detail,
        });
    }

    pub fn agent_index(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    pub fn agent_status(&self, idx: usize) -> Option<AgentStatus> {
        self.agents.get(idx).map(|a| a.status)
    }

    /// Whether the agent has a ringing offer or a bridged call in the model.
    pub fn agent_busy(&self, idx: usize) -> bool {
        self.agents
            .get(idx)
            .is_some_and(|a| a.ringing.is_some() || a.in_call.is_some())
    }

    /// Whether the call is still waiting or ringing (the caller has not been served or given up).
    pub fn call_pending(&self, call: CallRef) -> bool {
        self.calls
            .get(&call)
            .is_some_and(|c| matches!(c.state, CallState::Waiting | CallState::Ringing(_)))
    }

    pub fn is_ringing(&self, idx: usize, call: CallRef) -> bool {
        self.agents
            .get(idx)
            .is_some_and(|a| a.ringing.is_some_and(|(c, _)| c == call))
    }

    pub fn set_status(&mut self, idx: usize, status: AgentStatus) {
        if let Some(a) = self.agents.get_mut(idx) {
            a.status = status;
        }
    }

    pub fn set_registered(&mut self, idx: usize, registered: bool) {
        if let Some(a) = self.agents.get_mut(idx) {
            a.registered = registered;
        }
    }

    /// A caller arrives: a ticket is opened and the call waits.
    pub fn call_arrived(&mut self, now: Instant, call: CallRef, queue: &str, priority: i32) {
        if self.calls.contains_key(&call) {
            self.record(
                now,
                ViolationKind::Ticket,
                format!("call {call} arrived twice"),
            );
            return;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        self.tickets.insert(ticket, None);
        self.waiting
            .entry((queue.to_string(), priority))
            .or_default()
            .insert(seq);
        self.calls.insert(
            call,
            CallModel {
                seq,
                queue: queue.to_string(),
                priority,
                arrived: now,
                answered: None,
                ended: None,
                state: CallState::Waiting,
                ticket,
            },
        );
    }

    fn unwait(&mut self, call: CallRef) {
        if let Some(c) = self.calls.get(&call) {
            if let Some(set) = self.waiting.get_mut(&(c.queue.clone(), c.priority)) {
                set.remove(&c.seq);
            }
        }
    }

    fn rewait(&mut self, call: CallRef) {
        if let Some(c) = self.calls.get_mut(&call) {
            c.state = CallState::Waiting;
            self.waiting
                .entry((c.queue.clone(), c.priority))
                .or_default()
                .insert(c.seq);
        }
    }

    /// The ACD offered `call` to `agent`.
    pub fn on_offer(&mut self, now: Instant, call: CallRef, agent: &str) {
        let Some(idx) = self.agent_index(agent) else {
            self.record(
                now,
                ViolationKind::OfferToUnavailable,
                format!("offer of {call} to unknown agent {agent}"),
            );
            return;
        };
        let a = &self.agents[idx];
        if a.ringing.is_some() || a.in_call.is_some() {
            let detail = format!(
                "{agent} offered {call} while ringing {:?} / in call {:?}",
                a.ringing.map(|r| r.0),
                a.in_call
            );
            self.record(now, ViolationKind::DoubleOffer, detail);
        } else if a.status != AgentStatus::Available
            || !a.registered
            || a.wrap_until.is_some_and(|t| t > now)
        {
            let detail = format!(
                "{agent} offered {call} while {:?}, registered={}, wrap-up until {:?}",
                a.status,
                a.registered,
                a.wrap_until.map(|t| t.saturating_duration_since(self.base))
            );
            self.record(now, ViolationKind::OfferToUnavailable, detail);
        }
        match self
            .calls
            .get(&call)
            .map(|c| (c.state, c.queue.clone(), c.priority, c.seq))
        {
            Some((CallState::Waiting, queue, prio, seq)) => {
                let first = self
                    .waiting
                    .get(&(queue.clone(), prio))
                    .and_then(|s| s.first().copied());
                if first.is_some_and(|f| f < seq) {
                    self.record(
                        now,
                        ViolationKind::FifoBroken,
                        format!("call {call} (#{seq}) offered before older #{first:?} in {queue}/{prio}"),
                    );
                }
                self.unwait(call);
                if let Some(c) = self.calls.get_mut(&call) {
                    c.state = CallState::Ringing(idx);
                }
            }
            Some((state, ..)) => {
                self.record(
                    now,
                    ViolationKind::OfferForGoneCall,
                    format!("offer of {call} to {agent} while {state:?}"),
                );
            }
            None => {
                self.record(
                    now,
                    ViolationKind::Ticket,
                    format!("offer of call {call} that has no ticket"),
                );
            }
        }
        self.agents[idx].ringing = Some((call, now));
    }

    /// The ACD withdrew `call` from `agent`. Returns whether the agent was ringing for it.
    pub fn on_withdraw(&mut self, now: Instant, call: CallRef, agent: &str) -> bool {
        let Some(idx) = self.agent_index(agent) else {
            self.record(
                now,
                ViolationKind::UnexpectedWithdraw,
                format!("withdraw of {call} from unknown {agent}"),
            );
            return false;
        };
        if !self.is_ringing(idx, call) {
            self.record(
                now,
                ViolationKind::UnexpectedWithdraw,
                format!("withdraw of {call} from {agent}, not ringing it"),
            );
            return false;
        }
        self.agents[idx].ringing = None;
        if self
            .calls
            .get(&call)
            .is_some_and(|c| c.state == CallState::Ringing(idx))
        {
            self.rewait(call);
        }
        true
    }

    /// The switch reported the offer failed (reject); the ACD puts the call back.
    pub fn on_offer_failed(&mut self, call: CallRef, idx: usize) {
        if self.is_ringing(idx, call) {
            self.agents[idx].ringing = None;
            if self
                .calls
                .get(&call)
                .is_some_and(|c| c.state == CallState::Ringing(idx))
            {
                self.rewait(call);
            }
        }
    }

    /// The switch sent an answer; `accepted` is whether the ACD took it (no withdraw came back).
    pub fn on_answered(&mut self, now: Instant, call: CallRef, idx: usize, accepted: bool) {
        let live = self.is_ringing(idx, call);
        let id = self
            .agents
            .get(idx)
            .map_or_else(String::new, |a| a.id.clone());
        match (live, accepted) {
            (true, true) => {
                self.agents[idx].ringing = None;
                self.agents[idx].in_call = Some(call);
                if let Some(c) = self.calls.get_mut(&call) {
                    c.state = CallState::Talking(idx);
                    c.answered = Some(now);
                }
            }
            (true, false) => {
                self.record(
                    now,
                    ViolationKind::AnswerRefused,
                    format!("{id} answered current offer {call}, withdrawn"),
                );
                self.agents[idx].ringing = None;
                self.rewait(call);
            }
            (false, true) => {
                self.record(
                    now,
                    ViolationKind::StaleAnswerAccepted,
                    format!("{id} answered stale offer {call}, accepted"),
                );
            }
            (false, false) => {}
        }
    }

    /// The bridged call of agent `idx` ended: the ticket closes as answered, wrap-up starts.
    pub fn on_call_ended(&mut self, now: Instant, idx: usize) {
        let Some(call) = self.agents.get_mut(idx).and_then(|a| a.in_call.take()) else {
            return;
        };
        self.agents[idx].wrap_until = Some(now + self.wrap_up);
        if let Some(c) = self.calls.get_mut(&call) {
            c.state = CallState::Done(Disposition::Answered);
            c.ended = Some(now);
        }
        self.close_ticket(now, call, Disposition::Answered);
    }

    pub fn on_wrap_up_ended(&mut self, idx: usize) {
        if let Some(a) = self.agents.get_mut(idx) {
            a.wrap_until = None;
        }
    }

    pub fn in_wrap_up(&self, now: Instant, idx: usize) -> bool {
        self.agents
            .get(idx)
            .is_some_and(|a| a.in_call.is_none() && a.wrap_until.is_some_and(|t| t > now))
    }

    /// The caller hung up before being answered.
    pub fn call_abandoned(&mut self, now: Instant, call: CallRef) {
        if !self.call_pending(call) {
            return;
        }
        self.unwait(call);
        if let Some(c) = self.calls.get_mut(&call) {
            c.state = CallState::Done(Disposition::Abandoned);
            c.ended = Some(now);
        }
        self.close_ticket(now, call, Disposition::Abandoned);
    }

    fn close_ticket(&mut self, now: Instant, call: CallRef, d: Disposition) {
        let Some(ticket) = self.calls.get(&call).map(|c| c.ticket) else {
            self.record(
                now,
                ViolationKind::Ticket,
                format!("call {call} ended without a ticket"),
            );
            return;
        };
        match self.tickets.get_mut(&ticket) {
            Some(slot @ None) => *slot = Some(d),
            Some(Some(prev)) => {
                let detail =
                    format!("ticket {ticket} of call {call} closed twice ({prev:?}, then {d:?})");
                self.record(now, ViolationKind::Ticket, detail);
            }
            None => self.record(
                now,
                ViolationKind::Ticket,
                format!("ticket {ticket} of call {call} missing"),
            ),
        }
    }

    /// Periodic check against the ACD's own view of its agents.
    pub fn audit(&mut self, now: Instant, views: &[AgentView]) {
        let mut found = Vec::new();
        for v in views {
            let Some(idx) = self.agent_index(&v.id) else {
                continue;
            };
            let a = &self.agents[idx];
            let why = match v.state {
                AgentState::Ringing => match a.ringing {
                    None => Some("ringing in the ACD, no offer in the switch".to_string()),
                    Some((c, since))
                        if now.saturating_duration_since(since)
                            > self.ring_timeout + self.slack =>
                    {
                        Some(format!(
                            "ringing for {c} since {:?}",
                            since.saturating_duration_since(self.base)
                        ))
                    }
                    _ => None,
                },
                AgentState::InCall if a.in_call.is_none() => {
                    Some("in call in the ACD, no call in the switch".to_string())
                }
                AgentState::WrapUp if a.wrap_until.is_none_or(|t| now > t + self.slack) => {
                    Some("wrap-up overran".to_string())
                }
                AgentState::Reserved => Some("reserved".to_string()),
                _ => None,
            };
            if let Some(why) = why {
                found.push(format!("{}: {why}", v.id));
            }
        }
        for d in found {
            self.record(now, ViolationKind::AgentStuck, d);
        }
    }

    /// After draining: every call ended, every ticket closed, the ACD holds no call, every agent idle.
    pub fn finish(
        &mut self,
        now: Instant,
        acd_holds: impl Fn(CallRef) -> bool,
        views: &[AgentView],
    ) {
        let mut found = Vec::new();
        for (call, c) in &self.calls {
            if !matches!(c.state, CallState::Done(_)) {
                found.push((
                    ViolationKind::CallLost,
                    format!("call {call} left {:?}", c.state),
                ));
            }
            if acd_holds(*call) {
                found.push((
                    ViolationKind::CallLost,
                    format!("call {call} still held by the ACD"),
                ));
            }
            if self.tickets.get(&c.ticket).is_none_or(|t| t.is_none()) {
                found.push((
                    ViolationKind::Ticket,
                    format!("ticket {} of call {call} not closed", c.ticket),
                ));
            }
        }
        for v in views {
            if v.state != AgentState::Idle {
                found.push((
                    ViolationKind::AgentStuck,
                    format!("{} left {:?} after draining", v.id, v.state),
                ));
            }
        }
        found.sort_by(|a, b| a.1.cmp(&b.1));
        for (k, d) in found {
            self.record(now, k, d);
        }
    }

    /// Waits and dispositions of all calls (unordered).
    pub fn outcomes(&self) -> Vec<CallOutcome> {
        self.calls
            .values()
            .map(|c| {
                let disposition = match c.state {
                    CallState::Done(d) => Some(d),
                    _ => None,
                };
                let until = match disposition {
                    Some(Disposition::Answered) => c.answered,
                    _ => c.ended,
                };
                CallOutcome {
                    wait: until.map_or(Duration::ZERO, |t| t.saturating_duration_since(c.arrived)),
                    disposition,
                }
            })
            .collect()
    }
}
