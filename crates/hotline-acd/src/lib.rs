//! hotline-acd: queues and agents as a pure state machine.
//!
//! Sans-IO in the style of quinn-proto: the owner feeds inputs with [`Acd::handle`], drains decisions with
//! [`Acd::poll_output`], and sleeps until [`Acd::poll_timeout`] before calling [`Acd::handle_timeout`]. The core
//! never reads the clock, so tests and simulators drive it with a fake one.
//!
//! As in FreeSWITCH mod_callcenter, an agent has a *status* it chooses ([`AgentStatus`]: available, on break,
//! logged out) and a *state* the system sets ([`AgentState`]: idle, reserved, ringing, in call, wrap-up). A call
//! is offered only to an agent that is available, registered, idle, not on a direct call, a member of the call's
//! queue in a tier already open to the call, and holding the queue's skills.
//!
//! Distribution: calls are taken highest priority first, then oldest first (across queues, by arrival). For each,
//! eligible agents are ordered by tier (lower first), then skill level (sum of the levels of the queue's required
//! skills, higher first), then the queue's [`Strategy`], then configuration order. Tier `t` opens to a call after
//! `(t - 1) × tier_escalate` of waiting in that queue; a timer makes that moment trigger distribution. A ring-all
//! queue offers a call to every eligible agent at once: the first answer wins and the others are withdrawn; if all
//! fail, the call goes back to its place. An agent is never offered two calls at once.
//!
//! Nothing waits on a report that may never come: the ACD owns the ring timer, a phone that unregisters fails its
//! offer, and the owner's periodic [`AcdInput::Reconcile`] frees agents held by calls that no longer exist (a lost
//! BYE, a vanished phone) and drops waiting calls whose caller is gone.
//!
//! Misses: a ring timeout, [`FailReason::NoAnswer`] or [`FailReason::Unreachable`] (including the phone
//! unregistering while reserved or ringing) count as a miss. After `max_no_answer` consecutive misses the agent's
//! status becomes [`AgentStatus::Break`] with reason [`NO_ANSWER_REASON`] (an agent already on break or logged out
//! keeps its status; the count restarts either way). An answer resets the count.
//! [`FailReason::Rejected`] is not a miss: a reject is a deliberate act of an agent at the phone, and putting an
//! agent who declines calls on break is for a supervisor to decide, not for the no-answer rule. A withdraw that is
//! not the agent's fault (caller hung up, another agent answered a ring-all call, reconciliation) is not a miss
//! either, and does not move the agent to the back of the longest-idle order.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

mod distribute;
mod machine;
pub mod stats;
mod strategy;

pub use stats::{AgentLiveStats, AgentsByState, QueueLiveStats, WaitEstimate};
pub use strategy::{Strategy, UnknownStrategy};

use stats::{AgentCounters, QueueCounters};

/// Opaque call id chosen by the switch.
pub type CallRef = u64;

/// How long a call waits before being re-offered to the only agent that just failed it (and how long that agent
/// rests before any new offer), so a rejecting phone is not rung in a tight loop.
pub const DEFAULT_RETRY_DELAY: Duration = Duration::from_secs(2);

/// `break_reason` the core sets after `max_no_answer` consecutive misses.
pub const NO_ANSWER_REASON: &str = "no_answer";

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
    /// Chosen for a call ([`AcdOutput::Offer`]); the switch has not yet reported [`AcdInput::Ringing`].
    Reserved,
    Ringing,
    /// On a queue call, or on a direct (non-queue) call.
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
    /// Rang out (e.g. 408/480, or the switch's own timer). A miss.
    NoAnswer,
    /// The agent declined (486/603). Not a miss.
    Rejected,
    /// The agent's phone could not be reached (no binding, 404, 503, transport error). A miss.
    Unreachable,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueConfig {
    pub name: String,
    /// How long an offer rings (counted from the offer) before the ACD withdraws it. Zero means no limit.
    pub ring_timeout: Duration,
    /// Rest after each call before the agent is offered another. Zero means none.
    pub wrap_up: Duration,
    pub strategy: Strategy,
    /// Tier `t` is eligible for a call after `(t - 1) × tier_escalate` of waiting in this queue. Zero opens every
    /// tier at once (lower tiers are still preferred).
    pub tier_escalate: Duration,
    /// Skills an agent must hold, each at level 1 or more.
    pub skills: Vec<String>,
    /// Consecutive misses after which the agent goes on break with reason [`NO_ANSWER_REASON`]; 0 turns it off.
    pub max_no_answer: u32,
    /// Ring-all only: at most this many agents are rung at once for a call (SOS: `[sos] ring_agents`); 0 = all.
    pub ring_limit: u32,
}

impl QueueConfig {
    /// Defaults: 15 s ring timeout, no wrap-up, longest-idle, 30 s tier escalation, no skills, 3 misses.
    pub fn new(name: impl Into<String>) -> Self {
        QueueConfig {
            name: name.into(),
            ring_timeout: Duration::from_secs(15),
            wrap_up: Duration::ZERO,
            strategy: Strategy::LongestIdle,
            tier_escalate: Duration::from_secs(30),
            skills: Vec::new(),
            max_no_answer: 3,
            ring_limit: 0,
        }
    }
}

/// An agent's membership of a queue.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Membership {
    pub queue: String,
    /// 1 is the first tier; 0 is read as 1.
    pub tier: u32,
}

impl Membership {
    /// Tier 1.
    pub fn new(queue: impl Into<String>) -> Self {
        Membership {
            queue: queue.into(),
            tier: 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentConfig {
    pub id: String,
    pub name: String,
    /// Queues this agent serves; unknown names are ignored, a repeated queue keeps its first tier.
    pub queues: Vec<Membership>,
    /// Skill → level (level 0 counts as not held).
    pub skills: BTreeMap<String, u32>,
    pub initial_status: AgentStatus,
}

impl AgentConfig {
    /// An available agent named after its id, in no queue, with no skills.
    pub fn new(id: impl Into<String>) -> Self {
        let id = id.into();
        AgentConfig {
            name: id.clone(),
            id,
            queues: Vec::new(),
            skills: BTreeMap::new(),
            initial_status: AgentStatus::Available,
        }
    }

    /// Builder: adds a membership.
    pub fn member(mut self, queue: impl Into<String>, tier: u32) -> Self {
        self.queues.push(Membership {
            queue: queue.into(),
            tier,
        });
        self
    }

    /// Builder: adds a skill.
    pub fn skill(mut self, skill: impl Into<String>, level: u32) -> Self {
        self.skills.insert(skill.into(), level);
        self
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AcdConfig {
    pub queues: Vec<QueueConfig>,
    pub agents: Vec<AgentConfig>,
    /// Seed of the `random` strategy's generator (same seed and inputs, same choices).
    pub seed: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcdInput {
    /// The agent (or a supervisor) changed the agent's status. `reason` is kept only for `Break`.
    SetStatus {
        agent: String,
        status: AgentStatus,
        reason: Option<String>,
    },
    /// The agent's phone gained its first or lost its last registration. Losing it while reserved or ringing
    /// fails the offer as unreachable (a miss) and withdraws it.
    Registered { agent: String, registered: bool },
    /// A caller joins `queue`. Higher `priority` is served first; FIFO within a priority. `callback` marks a
    /// callback request re-queued by the API: it is not counted as offered (nor answered or abandoned).
    Enqueue {
        call: CallRef,
        queue: String,
        priority: i32,
        callback: bool,
    },
    /// The caller left (hung up, or the switch gave up). Unknown or already answered calls are ignored.
    Abandon { call: CallRef },
    /// The call leaves its queue without counting as abandoned (max wait → another queue or a menu). A later
    /// `Enqueue` of the same call keeps its first arrival for statistics.
    Leave { call: CallRef },
    /// The switch sent the INVITE for an offer: the agent goes from reserved to ringing. Stale reports are
    /// ignored.
    Ringing { call: CallRef, agent: String },
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
    /// The agent is (`active`) or no longer is on a non-queue call. While active the agent shows `in_call` and is
    /// never offered queue calls; a pending offer is withdrawn (not a miss).
    DirectCall { agent: String, active: bool },
    /// The calls the switch still has. Agents reserved, ringing or in call for any other call are freed
    /// ([`AcdOutput::Reconciled`]; in call → wrap-up as after `CallEnded`), and held calls not in `live` are
    /// dropped and counted abandoned. Direct calls are not touched (they carry no call reference).
    Reconcile { live: Vec<CallRef> },
}

// No `Eq`: `WrapUpEnded::secs` is a float.
#[derive(Debug, Clone, PartialEq)]
pub enum AcdOutput {
    /// Ring `agent` for `call` (waiting in `queue`). The agent is reserved until [`AcdInput::Ringing`]. A ring-all
    /// queue offers one call to many agents at once.
    Offer {
        call: CallRef,
        agent: String,
        queue: String,
    },
    /// Stop ringing `agent` for `call` (ring timeout, caller abandoned, another agent answered), or hang up the
    /// agent leg that answered a stale offer. Only that agent's leg is affected.
    Withdraw { call: CallRef, agent: String },
    /// The agent's status, state or registration changed.
    AgentChanged(AgentView),
    /// Wrap-up after `call` ended (timeout, `EndWrapUp`, or immediately when the queue has none); `secs` is its
    /// length, for the ticket.
    WrapUpEnded {
        agent: String,
        call: CallRef,
        secs: f64,
    },
    /// Reconciliation freed `agent`, which was reserved, ringing or in call for `call` that no longer exists.
    /// The switch drops any leg it may still hold for it.
    Reconciled { agent: String, call: CallRef },
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

/// One agent's place in one queue.
#[derive(Debug, Clone, Copy)]
struct Member {
    queue: usize,
    tier: u32,
    /// Sum of the agent's levels in the queue's required skills.
    level: u32,
    /// Holds every required skill.
    qualified: bool,
}

struct Queue {
    cfg: QueueConfig,
    waiting: BTreeMap<WaitKey, CallRef>,
    /// Agents of this queue in configuration order (qualified or not), for statistics.
    members: Vec<usize>,
    /// Highest tier among qualified members: escalation timers stop there.
    max_tier: u32,
    /// Agent offered last, for round-robin.
    rr_last: Option<usize>,
    counters: QueueCounters,
    /// Instants of the last answers, oldest first, for the wait estimate.
    recent_answers: VecDeque<Instant>,
}

struct Call {
    queue: usize,
    priority: i32,
    /// Arrival order; kept across failed offers so the call returns to its place, not the tail.
    seq: u64,
    /// First `Enqueue` (kept across `Leave`/`Enqueue`): the start of the caller's wait in statistics.
    first_enqueued: Instant,
    /// `Enqueue` into this queue: tiers escalate from here.
    enqueued: Instant,
    callback: bool,
    /// Agents reserved or ringing for this call (several only in ring-all). Empty: the call is waiting.
    offered_to: Vec<usize>,
    /// Agent that just failed this call: passed over on the next offer while anyone else can take it.
    skip: Option<usize>,
    /// When the next tier opens to this waiting call.
    escalate_at: Option<Instant>,
}

impl Call {
    fn key(&self) -> WaitKey {
        (Reverse(self.priority), self.seq)
    }
}

#[derive(Debug, Clone, Copy)]
enum Work {
    Idle,
    /// Reserved (`ringing == false`) or ringing for a queue call; the deadline counts from the offer.
    Offered {
        call: CallRef,
        ringing: bool,
        deadline: Option<Instant>,
    },
    InCall {
        call: CallRef,
        queue: usize,
        answered_at: Instant,
    },
    WrapUp {
        call: CallRef,
        queue: usize,
        started: Instant,
        /// `None` only if the configured wrap-up overflows the clock: then only `EndWrapUp` ends it.
        deadline: Option<Instant>,
    },
}

impl Work {
    fn deadline(&self) -> Option<Instant> {
        match *self {
            Work::Offered { deadline, .. } | Work::WrapUp { deadline, .. } => deadline,
            _ => None,
        }
    }

    fn offered_call(&self) -> Option<CallRef> {
        match *self {
            Work::Offered { call, .. } => Some(call),
            _ => None,
        }
    }
}

struct Agent {
    id: String,
    name: String,
    members: Vec<Member>,
    status: AgentStatus,
    break_reason: Option<String>,
    registered: bool,
    /// On a non-queue call.
    direct: bool,
    work: Work,
    /// When the state last became idle; `None` means "since start-up", which sorts as longest idle.
    idle_since: Option<Instant>,
    /// After a failed offer the agent is not offered anything until then.
    rest_until: Option<Instant>,
    consecutive_misses: u32,
    counters: AgentCounters,
}

impl Agent {
    fn state(&self) -> AgentState {
        match self.work {
            Work::Offered { ringing: false, .. } => AgentState::Reserved,
            Work::Offered { ringing: true, .. } => AgentState::Ringing,
            Work::InCall { .. } => AgentState::InCall,
            _ if self.direct => AgentState::InCall,
            Work::WrapUp { .. } => AgentState::WrapUp,
            Work::Idle => AgentState::Idle,
        }
    }

    fn offerable(&self, now: Instant) -> bool {
        self.status == AgentStatus::Available
            && self.registered
            && !self.direct
            && matches!(self.work, Work::Idle)
            && self.rest_until.is_none_or(|t| t <= now)
    }
}

/// What a pending timer is for. Every timer is also recorded on its owner, so it can be removed exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    /// The agent's ring deadline or wrap-up end.
    Work(usize),
    Rest(usize),
    Escalate(CallRef),
}

/// `now + d`, or `None` if that overflows the clock (a huge configured duration never panics).
fn after(now: Instant, d: Duration) -> Option<Instant> {
    now.checked_add(d)
}

/// The ACD core. See the crate documentation.
pub struct Acd {
    queues: Vec<Queue>,
    queue_index: HashMap<String, usize>,
    agents: Vec<Agent>,
    agent_index: HashMap<String, usize>,
    calls: HashMap<CallRef, Call>,
    /// Calls waiting (not offered) across all queues.
    n_waiting: usize,
    /// First arrival of calls that left their queue, for a later `Enqueue`; pruned by `Reconcile`.
    left: HashMap<CallRef, Instant>,
    timers: BTreeSet<(Instant, Timer)>,
    out: VecDeque<AcdOutput>,
    next_seq: u64,
    retry_delay: Duration,
    /// xorshift64* state of the `random` strategy.
    rng: u64,
    /// Something that may allow a new offer changed since the last distribution (an agent freed or became
    /// available, registered or off a direct call, a rest ended, a call started waiting, a tier opened). Lets
    /// inputs like `Ringing` skip the pass over every agent.
    dirty: bool,
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
                members: Vec::new(),
                max_tier: 1,
                rr_last: None,
                counters: QueueCounters::default(),
                recent_answers: VecDeque::new(),
            });
        }
        let mut agents = Vec::new();
        let mut agent_index = HashMap::new();
        for a in cfg.agents {
            if agent_index.contains_key(&a.id) {
                continue;
            }
            let idx = agents.len();
            let mut members: Vec<Member> = Vec::new();
            for m in &a.queues {
                let Some(&qi) = queue_index.get(&m.queue) else {
                    continue;
                };
                if members.iter().any(|x| x.queue == qi) {
                    continue;
                }
                let q: &mut Queue = &mut queues[qi];
                let tier = m.tier.max(1);
                let mut qualified = true;
                let mut level = 0u32;
                for s in &q.cfg.skills {
                    match a.skills.get(s) {
                        Some(&l) if l >= 1 => level = level.saturating_add(l),
                        _ => qualified = false,
                    }
                }
                if qualified {
                    q.max_tier = q.max_tier.max(tier);
                }
                q.members.push(idx);
                members.push(Member {
                    queue: qi,
                    tier,
                    level,
                    qualified,
                });
            }
            agent_index.insert(a.id.clone(), idx);
            agents.push(Agent {
                id: a.id,
                name: a.name,
                members,
                status: a.initial_status,
                break_reason: None,
                registered: false,
                direct: false,
                work: Work::Idle,
                idle_since: None,
                rest_until: None,
                consecutive_misses: 0,
                counters: AgentCounters::default(),
            });
        }
        Acd {
            queues,
            queue_index,
            agents,
            agent_index,
            calls: HashMap::new(),
            n_waiting: 0,
            left: HashMap::new(),
            timers: BTreeSet::new(),
            out: VecDeque::new(),
            next_seq: 0,
            retry_delay: DEFAULT_RETRY_DELAY,
            // xorshift must not start at zero.
            rng: cfg.seed ^ 0x9E37_79B9_7F4A_7C15,
            dirty: false,
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

    /// When [`Acd::handle_timeout`] should next be called: a ring deadline, a wrap-up end, the end of an agent's
    /// rest after a failed offer, or a tier opening to a waiting call.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.first().map(|&(t, _)| t)
    }

    /// Expires ring timeouts, wrap-ups, rests and tier escalations due at `now`, then distributes.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(&(t, timer)) = self.timers.first() {
            if t > now {
                break;
            }
            self.timers.remove(&(t, timer));
            match timer {
                // Timers are removed whenever work changes; the check only guards against a stale one.
                Timer::Work(idx) if self.agents[idx].work.deadline() != Some(t) => {}
                Timer::Work(idx) => match self.agents[idx].work {
                    Work::Offered { call, .. } => {
                        // The ACD owns the ring timer: tell the switch to stop ringing, then count a miss.
                        self.withdraw(idx, call);
                        self.set_work(idx, Work::Idle);
                        // Measured from the deadline, not from a late wake-up, so idle order stays exact.
                        self.fail_offer(t, idx, call, FailReason::NoAnswer);
                    }
                    Work::WrapUp { .. } => self.end_wrap_up(t, idx),
                    _ => {}
                },
                Timer::Rest(idx) => {
                    self.agents[idx].rest_until = None;
                    self.dirty = true;
                }
                Timer::Escalate(call) => {
                    self.dirty = true;
                    if let Some(c) = self.calls.get_mut(&call) {
                        c.escalate_at = None;
                    }
                    self.schedule_escalation(call, now);
                }
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

    /// Calls waiting (not reserved/ringing anyone) in `queue`; 0 for an unknown queue.
    pub fn queue_len(&self, queue: &str) -> usize {
        self.queue_index
            .get(queue)
            .map_or(0, |&q| self.queues[q].waiting.len())
    }

    /// Queue names in configuration order.
    pub fn queue_names(&self) -> Vec<String> {
        self.queues.iter().map(|q| q.cfg.name.clone()).collect()
    }

    /// The queue's configuration.
    pub fn queue_config(&self, queue: &str) -> Option<&QueueConfig> {
        self.queue_index.get(queue).map(|&q| &self.queues[q].cfg)
    }

    /// 1-based place of a waiting call in its queue (for "you are caller number N" prompts); `None` if the call
    /// is not waiting (unknown, offered to an agent, or answered).
    pub fn position(&self, call: CallRef) -> Option<usize> {
        let c = self.calls.get(&call)?;
        if !c.offered_to.is_empty() {
            return None;
        }
        let key = c.key();
        Some(self.queues[c.queue].waiting.range(..key).count() + 1)
    }

    /// Whether the ACD still holds `call` (waiting or offered to an agent).
    pub fn contains_call(&self, call: CallRef) -> bool {
        self.calls.contains_key(&call)
    }

    fn agent_idx(&self, id: &str) -> Result<usize, AcdError> {
        self.agent_index
            .get(id)
            .copied()
            .ok_or_else(|| AcdError::UnknownAgent(id.to_string()))
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
                .members
                .iter()
                .map(|m| self.queues[m.queue].cfg.name.clone())
                .collect(),
            state_since: None,
            break_reason: a.break_reason.clone(),
        }
    }
}

#[cfg(test)]
mod tests;
