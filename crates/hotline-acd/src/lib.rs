//! hotline-acd: queues and agents as a pure state machine.
//!
//! Sans-IO in the style of quinn-proto: the owner feeds inputs with [`Acd::handle`], drains decisions with
//! [`Acd::poll_output`], and sleeps until [`Acd::poll_timeout`] before calling [`Acd::handle_timeout`]. The core
//! never reads the clock, so tests and simulators drive it with a fake one.
//!
//! As in FreeSWITCH mod_callcenter, an agent has a *status* it chooses ([`AgentStatus`]: available, on break,
//! logged out) and a *state* the system sets ([`AgentState`]: idle, ringing, in call, wrap-up). A call is offered
//! only to an agent that is available, registered and idle, and belongs to the call's queue.
//!
//! Distribution: calls are taken highest priority first, then oldest first (across queues, by arrival), and each
//! goes to the eligible agent whose state became idle longest ago (ties by configuration order).

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

mod strategy;
pub use strategy::{Strategy, UnknownStrategy};

/// Opaque call id chosen by the switch.
pub type CallRef = u64;

/// How long a call waits before being re-offered to the only agent that just failed it (and how long that agent
/// rests before any new offer), so a rejecting phone is not rung in a tight loop.
pub const DEFAULT_RETRY_DELAY: Duration = Duration::from_secs(2);

/// What the agent chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    Available,
    /// The reason, if any, is kept in [`AgentView::break_reason`].
    Break,
    LoggedOut,
}

/// What the system is doing with the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentState {
    Idle,
    /// Chosen for a call but not yet ringing. Reserved for a future two-phase offer; the core currently goes
    /// straight from idle to ringing.
    Reserved,
    Ringing,
    InCall,
    WrapUp,
}

/// A snapshot of one agent, as shown to the API and emitted in [`AcdOutput::AgentChanged`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentView {
    pub id: String,
    pub name: String,
    pub status: AgentStatus,
    pub state: AgentState,
    pub registered: bool,
    pub queues: Vec<String>,
    /// Wall-clock time of the last change. Always `None` from the pure core (it only knows `Instant`s); the
    /// owner task fills it in.
    pub state_since: Option<chrono::DateTime<chrono::Utc>>,
    pub break_reason: Option<String>,
}

/// Why an offer did not turn into an answered call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailReason {
    /// Rang out (e.g. 408/480, or the switch's own timer).
    NoAnswer,
    /// The agent declined (486/603).
    Rejected,
    /// The agent's phone could not be reached (no binding, 404, 503, transport error).
    Unreachable,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueConfig {
    pub name: String,
    /// How long an offer rings before the ACD withdraws it. Zero means no limit.
    pub ring_timeout: Duration,
    /// Rest after each call before the agent is offered another. Zero means none.
    pub wrap_up: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentConfig {
    pub id: String,
    pub name: String,
    /// Names of the queues this agent serves; unknown names are ignored.
    pub queues: Vec<String>,
    pub initial_status: AgentStatus,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AcdConfig {
    pub queues: Vec<QueueConfig>,
    pub agents: Vec<AgentConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcdInput {
    /// The agent (or a supervisor) changed the agent's status. `reason` is kept only for `Break`.
    SetStatus {
        agent: String,
        status: AgentStatus,
        reason: Option<String>,
    },
    /// The agent's phone gained its first or lost its last registration.
    Registered { agent: String, registered: bool },
    /// A caller joins `queue`. Higher `priority` is served first; FIFO within a priority.
    Enqueue {
        call: CallRef,
        queue: String,
        priority: i32,
    },
    /// The caller left (hung up, or the switch gave up). Unknown or already answered calls are ignored.
    Abandon { call: CallRef },
    /// The agent answered an offer. If the offer is no longer current, a `Withdraw` comes back so the switch
    /// hangs that agent leg up.
    Answered { call: CallRef, agent: String },
    /// The offer did not connect. Stale reports (after a withdraw) are ignored.
    OfferFailed {
        call: CallRef,
        agent: String,
        reason: FailReason,
    },
    /// The agent's bridged call ended: wrap-up starts.
    CallEnded { agent: String },
    /// The agent finished wrap-up early.
    EndWrapUp { agent: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcdOutput {
    /// Ring `agent` for `call` (waiting in `queue`).
    Offer {
        call: CallRef,
        agent: String,
        queue: String,
    },
    /// Stop ringing `agent` for `call` (ring timeout, caller abandoned), or hang up the agent leg that answered a
    /// stale offer. Only that agent's leg is affected; the call may be ringing someone else.
    Withdraw { call: CallRef, agent: String },
    /// The agent's status, state or registration changed.
    AgentChanged(AgentView),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AcdError {
    #[error("unknown queue `{0}`")]
    UnknownQueue(String),
    #[error("unknown agent `{0}`")]
    UnknownAgent(String),
    #[error("call {0} is already in the ACD")]
    DuplicateCall(CallRef),
}

/// Waiting order inside a queue: highest priority first, then arrival order.
type WaitKey = (Reverse<i32>, u64);

struct Queue {
    cfg: QueueConfig,
    waiting: BTreeMap<WaitKey, CallRef>,
}

struct Call {
    queue: usize,
    priority: i32,
    /// Arrival order; kept across failed offers so the call returns to its place, not the tail.
    seq: u64,
    /// Agent currently ringing for this call.
    offered_to: Option<usize>,
    /// Agent that just failed this call: passed over on the next offer while anyone else can take it.
    skip: Option<usize>,
}

impl Call {
    fn key(&self) -> WaitKey {
        (Reverse(self.priority), self.seq)
    }
}

enum Work {
    Idle,
    Ringing {
        call: CallRef,
        deadline: Option<Instant>,
    },
    InCall {
        queue: usize,
    },
    WrapUp {
        deadline: Instant,
    },
}

struct Agent {
    id: String,
    name: String,
    queues: Vec<usize>,
    status: AgentStatus,
    break_reason: Option<String>,
    registered: bool,
    work: Work,
    /// When the state last became idle; `None` means "since start-up", which sorts as longest idle.
    idle_since: Option<Instant>,
    /// After a failed offer the agent is not offered anything until then.
    rest_until: Option<Instant>,
}

impl Agent {
    fn state(&self) -> AgentState {
        match self.work {
            Work::Idle => AgentState::Idle,
            Work::Ringing { .. } => AgentState::Ringing,
            Work::InCall { .. } => AgentState::InCall,
            Work::WrapUp { .. } => AgentState::WrapUp,
        }
    }

    fn offerable(&self, now: Instant) -> bool {
        self.status == AgentStatus::Available
            && self.registered
            && matches!(self.work, Work::Idle)
            && self.rest_until.is_none_or(|t| t <= now)
    }
}

/// The ACD core. See the crate documentation.
pub struct Acd {
    queues: Vec<Queue>,
    queue_index: HashMap<String, usize>,
    agents: Vec<Agent>,
    agent_index: HashMap<String, usize>,
    calls: HashMap<CallRef, Call>,
    out: VecDeque<AcdOutput>,
    next_seq: u64,
    retry_delay: Duration,
}

impl Acd {
    /// Builds the core. Agents start unregistered and idle. Duplicate queue names or agent ids keep the first.
    pub fn new(cfg: AcdConfig) -> Self {
        let mut queues = Vec::new();
        let mut queue_index = HashMap::new();
        for q in cfg.queues {
            if queue_index.contains_key(&q.name) {
                continue;
            }
            queue_index.insert(q.name.clone(), queues.len());
            queues.push(Queue {
                cfg: q,
                waiting: BTreeMap::new(),
            });
        }
        let mut agents = Vec::new();
        let mut agent_index = HashMap::new();
        for a in cfg.agents {
            if agent_index.contains_key(&a.id) {
                continue;
            }
            let mut qs: Vec<usize> = Vec::new();
            for name in &a.queues {
                if let Some(&i) = queue_index.get(name) {
                    if !qs.contains(&i) {
                        qs.push(i);
                    }
                }
            }
            agent_index.insert(a.id.clone(), agents.len());
            agents.push(Agent {
                id: a.id,
                name: a.name,
                queues: qs,
                status: a.initial_status,
                break_reason: None,
                registered: false,
                work: Work::Idle,
                idle_since: None,
                rest_until: None,
            });
        }
        Acd {
            queues,
            queue_index,
            agents,
            agent_index,
            calls: HashMap::new(),
            out: VecDeque::new(),
            next_seq: 0,
            retry_delay: DEFAULT_RETRY_DELAY,
        }
    }

    /// Builder form of [`Acd::set_retry_delay`].
    pub fn with_retry_delay(mut self, delay: Duration) -> Self {
        self.retry_delay = delay;
        self
    }

    /// How long an agent rests after a failed offer (default [`DEFAULT_RETRY_DELAY`]).
    pub fn set_retry_delay(&mut self, delay: Duration) {
        self.retry_delay = delay;
    }

    /// Applies one input, then distributes waiting calls. On error nothing changed.
    pub fn handle(&mut self, now: Instant, input: AcdInput) -> Result<(), AcdError> {
        let result = self.apply(now, input);
        self.distribute(now);
        result
    }

    /// The next decision for the owner to carry out.
    pub fn poll_output(&mut self) -> Option<AcdOutput> {
        self.out.pop_front()
    }

    /// When [`Acd::handle_timeout`] should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        let mut consider = |t: Instant| {
            if next.is_none_or(|n| t < n) {
                next = Some(t);
            }
        };
        for a in &self.agents {
            match a.work {
                Work::Ringing {
                    deadline: Some(d), ..
                } => consider(d),
                Work::WrapUp { deadline } => consider(deadline),
                _ => {}
            }
            if let Some(t) = a.rest_until {
                consider(t);
            }
        }
        next
    }

    /// Expires ring timeouts, wrap-ups and rests due at `now`, then distributes.
    pub fn handle_timeout(&mut self, now: Instant) {
        for idx in 0..self.agents.len() {
            match self.agents[idx].work {
                Work::Ringing {
                    call,
                    deadline: Some(d),
                } if d <= now => {
                    // The ACD owns the ring timer: tell the switch to stop ringing, then treat it as no answer.
                    self.out.push_back(AcdOutput::Withdraw {
                        call,
                        agent: self.agents[idx].id.clone(),
                    });
                    // Measured from the deadline, not from a late wake-up, so idle order stays exact.
                    self.fail_offer(d, idx, call);
                }
                Work::WrapUp { deadline } if deadline <= now => self.become_idle(deadline, idx),
                _ => {}
            }
            let a = &mut self.agents[idx];
            if a.rest_until.is_some_and(|t| t <= now) {
                a.rest_until = None;
            }
        }
        self.distribute(now);
    }

    /// Every agent, in configuration order.
    pub fn agents(&self) -> Vec<AgentView> {
        (0..self.agents.len()).map(|i| self.view(i)).collect()
    }

    pub fn agent(&self, id: &str) -> Option<AgentView> {
        self.agent_index.get(id).map(|&i| self.view(i))
    }

    /// Calls waiting (not ringing anyone) in `queue`; 0 for an unknown queue.
    pub fn queue_len(&self, queue: &str) -> usize {
        self.queue_index
            .get(queue)
            .map_or(0, |&q| self.queues[q].waiting.len())
    }

    /// Queue names in configuration order.
    pub fn queue_names(&self) -> Vec<String> {
        self.queues.iter().map(|q| q.cfg.name.clone()).collect()
    }

    /// 1-based place of a waiting call in its queue (for "you are caller number N" prompts); `None` if the call
    /// is not waiting (unknown, ringing an agent, or answered).
    pub fn position(&self, call: CallRef) -> Option<usize> {
        let c = self.calls.get(&call)?;
        if c.offered_to.is_some() {
            return None;
        }
        let key = c.key();
        Some(self.queues[c.queue].waiting.range(..key).count() + 1)
    }

    /// Whether the ACD still holds `call` (waiting or ringing an agent).
    pub fn contains_call(&self, call: CallRef) -> bool {
        self.calls.contains_key(&call)
    }

    fn agent_idx(&self, id: &str) -> Result<usize, AcdError> {
        self.agent_index
            .get(id)
            .copied()
            .ok_or_else(|| AcdError::UnknownAgent(id.to_string()))
    }

    fn apply(&mut self, now: Instant, input: AcdInput) -> Result<(), AcdError> {
        match input {
            AcdInput::SetStatus {
                agent,
                status,
                reason,
            } => {
                let idx = self.agent_idx(&agent)?;
                let reason = if status == AgentStatus::Break {
                    reason
                } else {
                    None
                };
                let a = &mut self.agents[idx];
                // Work in progress is untouched: a ringing or in-call agent keeps the call; the new status only
                // decides whether more calls come.
                if a.status != status || a.break_reason != reason {
                    a.status = status;
                    a.break_reason = reason;
                    self.changed(idx);
                }
            }
            AcdInput::Registered { agent, registered } => {
                let idx = self.agent_idx(&agent)?;
                if self.agents[idx].registered != registered {
                    self.agents[idx].registered = registered;
                    self.changed(idx);
                }
            }
            AcdInput::Enqueue {
                call,
                queue,
                priority,
            } => {
                let q = *self
                    .queue_index
                    .get(&queue)
                    .ok_or(AcdError::UnknownQueue(queue))?;
                if self.calls.contains_key(&call) {
                    return Err(AcdError::DuplicateCall(call));
                }
                let c = Call {
                    queue: q,
                    priority,
                    seq: self.next_seq,
                    offered_to: None,
                    skip: None,
                };
                self.next_seq += 1;
                self.queues[q].waiting.insert(c.key(), call);
                self.calls.insert(call, c);
            }
            AcdInput::Abandon { call } => {
                if let Some(c) = self.calls.remove(&call) {
                    match c.offered_to {
                        Some(idx) => {
                            self.out.push_back(AcdOutput::Withdraw {
                                call,
                                agent: self.agents[idx].id.clone(),
                            });
                            self.become_idle(now, idx);
                        }
                        None => {
                            self.queues[c.queue].waiting.remove(&c.key());
                        }
                    }
                }
            }
            AcdInput::Answered { call, agent } => {
                let idx = self.agent_idx(&agent)?;
                match self.agents[idx].work {
                    Work::Ringing { call: c, .. } if c == call => {
                        let queue = self.calls.remove(&call).map_or(0, |c| c.queue);
                        self.agents[idx].work = Work::InCall { queue };
                        self.changed(idx);
                    }
                    // Withdrawn already (timeout, abandon) or never offered: the switch must drop this leg.
                    _ => self.out.push_back(AcdOutput::Withdraw { call, agent }),
                }
            }
            AcdInput::OfferFailed { call, agent, .. } => {
                let idx = self.agent_idx(&agent)?;
                if matches!(self.agents[idx].work, Work::Ringing { call: c, .. } if c == call) {
                    self.fail_offer(now, idx, call);
                }
            }
            AcdInput::CallEnded { agent } => {
                let idx = self.agent_idx(&agent)?;
                if let Work::InCall { queue } = self.agents[idx].work {
                    let wrap = self
                        .queues
                        .get(queue)
                        .map_or(Duration::ZERO, |q| q.cfg.wrap_up);
                    if wrap.is_zero() {
                        self.become_idle(now, idx);
                    } else {
                        self.agents[idx].work = Work::WrapUp {
                            deadline: now + wrap,
                        };
                        self.changed(idx);
                    }
                }
            }
            AcdInput::EndWrapUp { agent } => {
                let idx = self.agent_idx(&agent)?;
                if matches!(self.agents[idx].work, Work::WrapUp { .. }) {
                    self.become_idle(now, idx);
                }
            }
        }
        Ok(())
    }

    /// The ringing agent `idx` did not take `call`: the agent rests, the call goes back to its place in the queue
    /// and passes this agent over next time if anyone else can take it.
    fn fail_offer(&mut self, now: Instant, idx: usize, call: CallRef) {
        if let Some(c) = self.calls.get_mut(&call) {
            c.offered_to = None;
            c.skip = Some(idx);
            let key = c.key();
            self.queues[c.queue].waiting.insert(key, call);
        }
        if !self.retry_delay.is_zero() {
            self.agents[idx].rest_until = Some(now + self.retry_delay);
        }
        self.become_idle(now, idx);
    }

    fn become_idle(&mut self, now: Instant, idx: usize) {
        let a = &mut self.agents[idx];
        a.work = Work::Idle;
        a.idle_since = Some(now);
        self.changed(idx);
    }

    fn changed(&mut self, idx: usize) {
        let v = self.view(idx);
        self.out.push_back(AcdOutput::AgentChanged(v));
    }

    fn view(&self, idx: usize) -> AgentView {
        let a = &self.agents[idx];
        AgentView {
            id: a.id.clone(),
            name: a.name.clone(),
            status: a.status,
            state: a.state(),
            registered: a.registered,
            queues: a
                .queues
                .iter()
                .map(|&q| self.queues[q].cfg.name.clone())
                .collect(),
            state_since: None,
            break_reason: a.break_reason.clone(),
        }
    }

    /// Offers every waiting call that has an eligible agent. Runs after every input and timeout.
    fn distribute(&mut self, now: Instant) {
        let mut free: Vec<usize> = (0..self.agents.len())
            .filter(|&i| self.agents[i].offerable(now))
            .collect();
        if free.is_empty() {
            return;
        }
        // Longest idle first, then configuration order; the first match below is then the best agent.
        free.sort_by_key(|&i| (self.agents[i].idle_since, i));

        let mut waiting: Vec<(WaitKey, CallRef)> = self
            .queues
            .iter()
            .flat_map(|q| q.waiting.iter().map(|(k, c)| (*k, *c)))
            .collect();
        waiting.sort_unstable();

        for (_, call) in waiting {
            if free.is_empty() {
                break;
            }
            let Some(c) = self.calls.get(&call) else {
                continue;
            };
            let q = c.queue;
            let serves = |i: usize| self.agents[i].queues.contains(&q);
            let pick = free
                .iter()
                .position(|&i| serves(i) && Some(i) != c.skip)
                .or_else(|| free.iter().position(|&i| serves(i)));
            let Some(pos) = pick else {
                continue;
            };
            let idx = free.remove(pos);
            self.offer(now, call, idx);
        }
    }

    fn offer(&mut self, now: Instant, call: CallRef, idx: usize) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let queue = &mut self.queues[c.queue];
        queue.waiting.remove(&c.key());
        c.offered_to = Some(idx);
        c.skip = None;
        let ring = queue.cfg.ring_timeout;
        let deadline = (!ring.is_zero()).then(|| now + ring);
        self.out.push_back(AcdOutput::Offer {
            call,
            agent: self.agents[idx].id.clone(),
            queue: queue.cfg.name.clone(),
        });
        self.agents[idx].work = Work::Ringing { call, deadline };
        self.changed(idx);
    }
}

#[cfg(test)]
mod tests;
