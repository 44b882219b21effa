//! The invariant checker: an independent model of calls, agents and tickets, fed with what the simulated switch
//! sent to the ACD and what the ACD answered. It never panics; it collects [`Violation`]s.

mod audit;

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::time::{Duration, Instant};

use hotline_acd::{AcdConfig, AgentStatus, CallRef, QueueConfig, Strategy};

/// Which invariant broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ViolationKind {
    /// A call neither answered nor abandoned after draining, or still held by the ACD.
    CallLost,
    /// An agent was offered a call while reserved/ringing for or talking on another.
    DoubleOffer,
    /// An offer went to an agent not available, registered and idle (or in wrap-up).
    OfferToUnavailable,
    /// An offer went to an agent on a direct call, in a tier not yet open to the call, or without the queue's
    /// skills.
    OfferToIneligible,
    /// An offer for a call that is not waiting (gone, answered, or ringing elsewhere outside ring-all).
    OfferForGoneCall,
    /// An agent reserved/ringing too long, in a call that does not exist, in wrap-up too long, or not idle after
    /// draining.
    AgentStuck,
    /// A call offered before an older waiting call of the same queue and priority.
    FifoBroken,
    /// A call without a ticket, a ticket closed twice or left open, or a wrap-up never reported.
    Ticket,
    /// A withdraw for an offer the switch did not have, or a ring withdrawn before its timeout for no reason.
    UnexpectedWithdraw,
    /// The ACD took an answer for an offer it had already withdrawn.
    StaleAnswerAccepted,
    /// The ACD refused an answer for a current offer.
    AnswerRefused,
    /// The ACD returned an error for an input the switch considered valid.
    AcdError,
    /// An agent offered after `max_no_answer` consecutive misses, or put on a no-answer break too early.
    MaxNoAnswer,
    /// Reconciliation freed an agent whose call was still live.
    BadReconcile,
    /// A call waits while an eligible agent sits idle (not resting after a failed offer).
    Stalled,
    /// The ACD's live statistics disagree with the calls the checker saw.
    Stats,
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

/// Why the ACD withdrew an offer, as far as the checker can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WithdrawCause {
    /// Ring timeout or unreachable phone: counts toward `max_no_answer`.
    Miss,
    /// The caller left, another agent answered, or the agent took a direct call.
    NotAMiss,
    /// The switch had no such offer.
    Unexpected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallState {
    Waiting,
    /// Reserved/ringing this many agents (several only in ring-all), since the instant the first was offered.
    Ringing(usize, Instant),
    Talking(usize),
    Done(Disposition),
}

#[derive(Debug, Clone)]
struct CallModel {
    seq: u64,
    queue: usize,
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
    no_answer_break: bool,
    registered: bool,
    direct: bool,
    ringing: Option<(CallRef, Instant)>,
    in_call: Option<CallRef>,
    /// The call ended but the switch lost the BYE: the ACD learns it at the next reconciliation.
    lost_bye: Option<(CallRef, Instant)>,
    wrap_until: Option<Instant>,
    /// Resting after a failed offer (the ACD's retry delay).
    rest_until: Option<Instant>,
    misses: u32,
    /// Queue index → tier, for queues where the agent holds every required skill.
    tiers: HashMap<usize, u32>,
}

/// Per-call outcome, for the report.
#[derive(Debug, Clone, Copy)]
pub struct CallOutcome {
    pub wait: Duration,
    pub disposition: Option<Disposition>,
}

struct Ticket {
    disposition: Option<Disposition>,
    wrap_up_secs: Option<f64>,
}

pub struct Checker {
    base: Instant,
    queues: Vec<QueueConfig>,
    queue_index: HashMap<String, usize>,
    slack: Duration,
    reconcile_every: Option<Duration>,
    retry_delay: Duration,
    agents: Vec<AgentModel>,
    index: HashMap<String, usize>,
    calls: HashMap<CallRef, CallModel>,
    /// Waiting calls by (queue, priority), in arrival order.
    waiting: HashMap<(usize, i32), BTreeSet<u64>>,
    by_seq: HashMap<u64, CallRef>,
    next_seq: u64,
    next_ticket: u64,
    tickets: HashMap<u64, Ticket>,
    violations: Vec<Violation>,
}

impl Checker {
    /// The same configuration as the ACD's; agents start logged out and unregistered.
    pub fn new(base: Instant, cfg: &AcdConfig) -> Self {
        let queue_index: HashMap<String, usize> = cfg
            .queues
            .iter()
            .enumerate()
            .map(|(i, q)| (q.name.clone(), i))
            .collect();
        let mut index = HashMap::new();
        let agents = cfg
            .agents
            .iter()
            .enumerate()
            .map(|(i, a)| {
                index.insert(a.id.clone(), i);
                let tiers = a
                    .queues
                    .iter()
                    .filter_map(|m| {
                        let q = *queue_index.get(&m.queue)?;
                        let skilled = cfg.queues[q]
                            .skills
                            .iter()
                            .all(|s| a.skills.get(s).is_some_and(|&l| l >= 1));
                        skilled.then_some((q, m.tier.max(1)))
                    })
                    .collect();
                AgentModel {
                    id: a.id.clone(),
                    status: AgentStatus::LoggedOut,
                    no_answer_break: false,
                    registered: false,
                    direct: false,
                    ringing: None,
                    in_call: None,
                    lost_bye: None,
                    wrap_until: None,
                    rest_until: None,
                    misses: 0,
                    tiers,
                }
            })
            .collect();
        Checker {
            base,
            queues: cfg.queues.clone(),
            queue_index,
            slack: Duration::from_secs(1),
            reconcile_every: None,
            retry_delay: hotline_acd::DEFAULT_RETRY_DELAY,
            agents,
            index,
            calls: HashMap::new(),
            waiting: HashMap::new(),
            by_seq: HashMap::new(),
            next_seq: 0,
            next_ticket: 1,
            tickets: HashMap::new(),
            violations: Vec::new(),
        }
    }

    /// How often the switch reconciles: an agent whose BYE was lost may stay in call that long.
    pub fn set_reconcile_every(&mut self, every: Option<Duration>) {
        self.reconcile_every = every;
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

    /// Whether the agent is on a no-answer break the ACD imposed.
    pub fn no_answer_break(&self, idx: usize) -> bool {
        self.agents.get(idx).is_some_and(|a| a.no_answer_break)
    }

    /// Whether the agent's phone has an offer, a bridged call or a direct call in the model.
    pub fn agent_busy(&self, idx: usize) -> bool {
        self.agents
            .get(idx)
            .is_some_and(|a| a.ringing.is_some() || a.in_call.is_some() || a.direct)
    }

    pub fn is_registered(&self, idx: usize) -> bool {
        self.agents.get(idx).is_some_and(|a| a.registered)
    }

    pub fn is_direct(&self, idx: usize) -> bool {
        self.agents.get(idx).is_some_and(|a| a.direct)
    }

    pub fn in_call(&self, idx: usize) -> Option<CallRef> {
        self.agents.get(idx).and_then(|a| a.in_call)
    }

    /// Whether the call is still waiting or ringing (the caller has not been served or given up).
    pub fn call_pending(&self, call: CallRef) -> bool {
        self.calls
            .get(&call)
            .is_some_and(|c| matches!(c.state, CallState::Waiting | CallState::Ringing(..)))
    }

    pub fn is_ringing(&self, idx: usize, call: CallRef) -> bool {
        self.agents
            .get(idx)
            .is_some_and(|a| a.ringing.is_some_and(|(c, _)| c == call))
    }

    /// The agent chose a status (the sim sends `SetStatus`).
    pub fn set_status(&mut self, idx: usize, status: AgentStatus) {
        if let Some(a) = self.agents.get_mut(idx) {
            a.status = status;
            a.no_answer_break = false;
        }
    }

    pub fn set_registered(&mut self, idx: usize, registered: bool) {
        if let Some(a) = self.agents.get_mut(idx) {
            a.registered = registered;
        }
    }

    pub fn set_direct(&mut self, idx: usize, active: bool) {
        if let Some(a) = self.agents.get_mut(idx) {
            a.direct = active;
        }
    }

    /// A caller arrives: a ticket is opened and the call waits.
    pub fn call_arrived(&mut self, now: Instant, call: CallRef, queue: &str, priority: i32) {
        let Some(&q) = self.queue_index.get(queue) else {
            self.record(
                now,
                ViolationKind::Ticket,
                format!("call {call} to unknown queue {queue}"),
            );
            return;
        };
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
        self.tickets.insert(
            ticket,
            Ticket {
                disposition: None,
                wrap_up_secs: None,
            },
        );
        self.waiting.entry((q, priority)).or_default().insert(seq);
        self.by_seq.insert(seq, call);
        self.calls.insert(
            call,
            CallModel {
                seq,
                queue: q,
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
            if let Some(set) = self.waiting.get_mut(&(c.queue, c.priority)) {
                set.remove(&c.seq);
            }
        }
    }

    fn rewait(&mut self, call: CallRef) {
        if let Some(c) = self.calls.get_mut(&call) {
            c.state = CallState::Waiting;
            self.waiting
                .entry((c.queue, c.priority))
                .or_default()
                .insert(c.seq);
        }
    }

    /// One agent fewer rings for the call; it waits again when nobody does.
    fn unring(&mut self, call: CallRef) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if let CallState::Ringing(n, _) = &mut c.state {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.rewait(call);
            }
        }
    }

    /// Why `agent` may not take `call` from `queue` now, if it may not (status and work aside).
    fn ineligible(&self, now: Instant, idx: usize, c: &CallModel) -> Option<String> {
        let a = &self.agents[idx];
        let q = &self.queues[c.queue];
        if a.direct {
            return Some("on a direct call".into());
        }
        let Some(&tier) = a.tiers.get(&c.queue) else {
            return Some(format!("not a skilled member of {}", q.name));
        };
        let waited = now.saturating_duration_since(c.arrived);
        let opens = q.tier_escalate.saturating_mul(tier - 1);
        if !q.tier_escalate.is_zero() && waited < opens {
            return Some(format!("tier {tier} opens at {opens:?}, waited {waited:?}"));
        }
        None
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
        if a.ringing.is_some() || a.in_call.is_some() || a.lost_bye.is_some() {
            let detail = format!(
                "{agent} offered {call} while ringing {:?} / in call {:?}",
                a.ringing.map(|r| r.0),
                a.in_call.or(a.lost_bye.map(|l| l.0))
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
        let Some(c) = self.calls.get(&call) else {
            self.record(
                now,
                ViolationKind::Ticket,
                format!("offer of call {call} that has no ticket"),
            );
            self.agents[idx].ringing = Some((call, now));
            return;
        };
        let (queue, priority, seq, state) = (c.queue, c.priority, c.seq, c.state);
        if let Some(why) = self.ineligible(now, idx, c) {
            self.record(
                now,
                ViolationKind::OfferToIneligible,
                format!("{agent} offered {call}: {why}"),
            );
        }
        let max = self.queues[queue].max_no_answer;
        let misses = self.agents[idx].misses;
        if max > 0 && misses >= max {
            self.record(
                now,
                ViolationKind::MaxNoAnswer,
                format!("{agent} offered {call} after {misses} consecutive misses"),
            );
        }
        let ring_all = self.queues[queue].strategy == Strategy::RingAll;
        match state {
            CallState::Waiting => {
                let first = self
                    .waiting
                    .get(&(queue, priority))
                    .and_then(|s| s.first().copied());
                if first.is_some_and(|f| f < seq) {
                    let detail = format!(
                        "call {call} (#{seq}) offered before older #{first:?} in {}/{priority}",
                        self.queues[queue].name
                    );
                    self.record(now, ViolationKind::FifoBroken, detail);
                }
                self.unwait(call);
                if let Some(m) = self.calls.get_mut(&call) {
                    m.state = CallState::Ringing(1, now);
                }
            }
            // Ring-all offers one call to every free agent in one go.
            CallState::Ringing(_, since) if ring_all && since == now => {
                if let Some(CallState::Ringing(n, _)) =
                    self.calls.get_mut(&call).map(|m| &mut m.state)
                {
                    *n += 1;
                }
            }
            state => {
                self.record(
                    now,
                    ViolationKind::OfferForGoneCall,
                    format!("offer of {call} to {agent} while {state:?}"),
                );
            }
        }
        self.agents[idx].ringing = Some((call, now));
    }

    /// A ring timeout, no-answer or unreachable phone by agent `idx` on `call`. At the limit the ACD puts an
    /// available agent on break (checked when it says so); an agent that already left just starts counting again.
    fn miss(&mut self, now: Instant, idx: usize, call: CallRef) {
        let max = self
            .calls
            .get(&call)
            .map_or(0, |c| self.queues[c.queue].max_no_answer);
        let rest = self.retry_delay;
        let a = &mut self.agents[idx];
        a.misses = a.misses.saturating_add(1);
        a.rest_until = Some(now + rest);
        if max > 0 && a.misses >= max && a.status != AgentStatus::Available {
            a.misses = 0;
        }
    }

    /// The ACD withdrew `call` from `agent`.
    pub fn on_withdraw(&mut self, now: Instant, call: CallRef, agent: &str) -> WithdrawCause {
        let Some(idx) = self.agent_index(agent) else {
            self.record(
                now,
                ViolationKind::UnexpectedWithdraw,
                format!("withdraw of {call} from unknown {agent}"),
            );
            return WithdrawCause::Unexpected;
        };
        let Some((_, since)) = self.agents[idx].ringing.filter(|&(c, _)| c == call) else {
            self.record(
                now,
                ViolationKind::UnexpectedWithdraw,
                format!("withdraw of {call} from {agent}, not ringing it"),
            );
            return WithdrawCause::Unexpected;
        };
        self.agents[idx].ringing = None;
        let pending = self.call_pending(call);
        self.unring(call);
        let a = &self.agents[idx];
        if !pending || a.direct {
            return WithdrawCause::NotAMiss;
        }
        if a.registered {
            // Only the ring timeout is left as a reason.
            let ring = self
                .calls
                .get(&call)
                .map_or(Duration::ZERO, |c| self.queues[c.queue].ring_timeout);
            if ring.is_zero() || now.saturating_duration_since(since) < ring {
                self.record(
                    now,
                    ViolationKind::UnexpectedWithdraw,
                    format!(
                        "{agent} withdrawn from pending {call} after {:?}",
                        now.saturating_duration_since(since)
                    ),
                );
            }
        }
        self.miss(now, idx, call);
        WithdrawCause::Miss
    }

    /// The switch reported the offer failed; the ACD puts the call back. Only a reject is not a miss.
    pub fn on_offer_failed(
        &mut self,
        now: Instant,
        call: CallRef,
        idx: usize,
        reason: hotline_acd::FailReason,
    ) {
        if self.is_ringing(idx, call) {
            self.agents[idx].ringing = None;
            self.agents[idx].rest_until = Some(now + self.retry_delay);
            self.unring(call);
            if reason != hotline_acd::FailReason::Rejected {
                self.miss(now, idx, call);
            }
        }
    }

    /// The ACD put the agent on a no-answer break.
    pub fn on_no_answer_break(&mut self, now: Instant, idx: usize) {
        let Some(a) = self.agents.get(idx) else {
            return;
        };
        let max = self
            .queues
            .iter()
            .map(|q| q.max_no_answer)
            .max()
            .unwrap_or(0);
        if max == 0 || a.misses < max {
            let detail = format!(
                "{} put on a no-answer break after {} misses",
                a.id, a.misses
            );
            self.record(now, ViolationKind::MaxNoAnswer, detail);
        }
        let a = &mut self.agents[idx];
        a.status = AgentStatus::Break;
        a.no_answer_break = true;
        a.misses = 0;
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
                let a = &mut self.agents[idx];
                a.ringing = None;
                a.in_call = Some(call);
                a.misses = 0;
                // Other ring-all agents still ring in the model until their withdrawals arrive.
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
                self.unring(call);
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

    /// The bridged call of agent `idx` ended: the ticket closes as answered. Unless the BYE was `lost`, the ACD
    /// is told and wrap-up starts.
    pub fn on_call_ended(&mut self, now: Instant, idx: usize, lost: bool) {
        let Some(call) = self.agents.get_mut(idx).and_then(|a| a.in_call.take()) else {
            return;
        };
        let wrap = self.wrap_of(call);
        let a = &mut self.agents[idx];
        if lost {
            a.lost_bye = Some((call, now));
        } else {
            a.wrap_until = Some(now + wrap);
        }
        if let Some(c) = self.calls.get_mut(&call) {
            c.state = CallState::Done(Disposition::Answered);
            c.ended = Some(now);
        }
        self.close_ticket(now, call, Disposition::Answered);
    }

    fn wrap_of(&self, call: CallRef) -> Duration {
        self.calls
            .get(&call)
            .map_or(Duration::ZERO, |c| self.queues[c.queue].wrap_up)
    }

    /// Reconciliation freed agent `idx` from `call`: only right for a call whose BYE was lost.
    pub fn on_reconciled(&mut self, now: Instant, idx: usize, call: CallRef) {
        let Some(a) = self.agents.get(idx) else {
            return;
        };
        if a.lost_bye.is_some_and(|(c, _)| c == call) {
            let wrap = self.wrap_of(call);
            let a = &mut self.agents[idx];
            a.lost_bye = None;
            a.wrap_until = Some(now + wrap);
        } else {
            let detail = format!("{} freed from live call {call}", a.id);
            self.record(now, ViolationKind::BadReconcile, detail);
        }
    }

    pub fn on_wrap_up_ended(&mut self, idx: usize) {
        if let Some(a) = self.agents.get_mut(idx) {
            a.wrap_until = None;
        }
    }

    /// The ACD reported the wrap-up length of `call` (for its ticket).
    pub fn on_wrap_up_reported(&mut self, now: Instant, call: CallRef, secs: f64) {
        let ticket = self.calls.get(&call).map(|c| c.ticket);
        match ticket.and_then(|t| self.tickets.get_mut(&t)) {
            Some(t) if t.wrap_up_secs.is_none() && t.disposition == Some(Disposition::Answered) => {
                t.wrap_up_secs = Some(secs);
            }
            _ => self.record(
                now,
                ViolationKind::Ticket,
                format!("wrap-up of call {call} reported twice or for no answered ticket"),
            ),
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
            Some(t) if t.disposition.is_none() => t.disposition = Some(d),
            Some(t) => {
                let detail = format!(
                    "ticket {ticket} of call {call} closed twice ({:?}, then {d:?})",
                    t.disposition
                );
                self.record(now, ViolationKind::Ticket, detail);
            }
            None => self.record(
                now,
                ViolationKind::Ticket,
                format!("ticket {ticket} of call {call} missing"),
            ),
        }
    }
}
