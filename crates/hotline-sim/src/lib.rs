//! hotline-sim: replays a synthetic day of a 12345 hotline against the pure ACD core in virtual time.
//!
//! A discrete-event loop over a heap of (virtual instant, event) plays the callers, the agents and the switch:
//! arrivals on a daily curve (non-homogeneous Poisson by thinning), patience, ring delays, no-answers, rejects,
//! answers that cross the ring-timeout withdraw, phones that vanish while ringing, lost BYEs freed by periodic
//! reconciliation, direct calls, breaks, no-answer breaks and shifts, over a main queue (two tiers) and a smaller
//! skill queue. The [`Checker`] watches every offer and withdraw and reports broken invariants instead of
//! panicking. Nothing sleeps: a day takes seconds.

mod checker;
mod config;

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashSet};
use std::time::{Duration, Instant};

pub use hotline_acd::Strategy;
use hotline_acd::{
    Acd, AcdConfig, AcdInput, AcdOutput, AgentConfig, AgentStatus, CallRef, FailReason,
    QueueConfig, NO_ANSWER_REASON,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub use checker::{CallOutcome, Checker, Disposition, Violation, ViolationKind, WithdrawCause};
pub use config::{OfferRecord, Shift, SimConfig, SimReport};

/// The main queue, and a smaller queue that needs a skill (foreign-language callers).
pub const QUEUE: &str = "12345";
pub const SKILL_QUEUE: &str = "12345-en";
pub const SKILL: &str = "english";
const DAY: Duration = Duration::from_secs(24 * 3600);
/// How long after the day periodic work may continue while calls drain.
const DRAIN_LIMIT: Duration = Duration::from_secs(6 * 3600);

#[derive(Debug, Clone, Copy)]
enum Event {
    ShiftStart(usize),
    ShiftEnd(usize),
    BreakStart(usize),
    BreakEnd(usize),
    /// An agent on a no-answer break comes back.
    NoAnswerReturn(usize),
    Arrival(CallRef),
    Patience(CallRef),
    /// The switch reports that the agent's phone rings.
    Ringing {
        call: CallRef,
        agent: usize,
        leg: u64,
    },
    /// The agent's phone answers; `late` answers are sent even after a withdraw (they crossed it).
    Answer {
        call: CallRef,
        agent: usize,
        leg: u64,
        late: bool,
    },
    Reject {
        call: CallRef,
        agent: usize,
        leg: u64,
    },
    /// The phone loses its registration while ringing, and comes back later.
    Vanish {
        agent: usize,
        leg: u64,
    },
    Reappear(usize),
    TalkEnd(usize),
    EndWrapUp(usize),
    DirectStart(usize),
    DirectEnd(usize),
    Reconcile,
    Audit,
}

struct Scheduled {
    at: Instant,
    seq: u64,
    ev: Event,
}

impl PartialEq for Scheduled {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Scheduled {
    // Reversed: BinaryHeap is a max-heap, we want the earliest (then first scheduled) on top.
    fn cmp(&self, o: &Self) -> Ordering {
        (o.at, o.seq).cmp(&(self.at, self.seq))
    }
}

struct Sim {
    cfg: SimConfig,
    base: Instant,
    now: Instant,
    rng: StdRng,
    acd: Acd,
    checker: Checker,
    heap: BinaryHeap<Scheduled>,
    seq: u64,
    ids: Vec<String>,
    /// The ringing leg the switch holds per agent.
    leg: Vec<Option<(CallRef, u64)>>,
    next_leg: u64,
    on_shift: Vec<bool>,
    /// Logged out while busy: unregister once the current offer or call is over.
    pending_unregister: Vec<bool>,
    /// Calls the switch still has (waiting, ringing, talking with a BYE not lost), for reconciliation.
    live: HashSet<CallRef>,
    report: SimReport,
}

/// Runs the scenario to the end of the day and drains it.
pub fn run(cfg: SimConfig) -> SimReport {
    let wall = Instant::now();
    let mut sim = Sim::new(cfg);
    sim.schedule_day();
    sim.run_loop();
    let mut report = sim.finish();
    report.wall_time = wall.elapsed();
    report
}

/// The ACD configuration of a scenario: both queues, agents with their tiers and skills.
pub fn acd_config(cfg: &SimConfig) -> AcdConfig {
    // A stream of its own, so the agent mix does not shift the day's random draws.
    let mut rng = StdRng::seed_from_u64(cfg.seed ^ 0xA6E7);
    let queue = |name: &str, skills: Vec<String>| QueueConfig {
        ring_timeout: cfg.ring_timeout,
        wrap_up: cfg.wrap_up,
        strategy: cfg.strategy,
        tier_escalate: cfg.tier_escalate,
        skills,
        max_no_answer: cfg.max_no_answer,
        ..QueueConfig::new(name)
    };
    AcdConfig {
        queues: vec![queue(QUEUE, vec![]), queue(SKILL_QUEUE, vec![SKILL.into()])],
        agents: (0..cfg.agents)
            .map(|i| {
                let tier = if rng.gen::<f64>() < cfg.tier2_share {
                    2
                } else {
                    1
                };
                let mut a = AgentConfig {
                    initial_status: AgentStatus::LoggedOut,
                    ..AgentConfig::new(format!("a{i:04}"))
                        .member(QUEUE, tier)
                        .member(SKILL_QUEUE, tier)
                };
                if rng.gen::<f64>() < cfg.skilled_share {
                    a = a.skill(SKILL, rng.gen_range(1..=3));
                }
                a
            })
            .collect(),
        seed: cfg.seed,
    }
}

impl Sim {
    fn new(cfg: SimConfig) -> Self {
        let acd_cfg = acd_config(&cfg);
        let ids: Vec<String> = acd_cfg.agents.iter().map(|a| a.id.clone()).collect();
        let base = Instant::now();
        let mut checker = Checker::new(base, &acd_cfg);
        checker
            .set_reconcile_every((!cfg.reconcile_every.is_zero()).then_some(cfg.reconcile_every));
        let n = ids.len();
        Sim {
            rng: StdRng::seed_from_u64(cfg.seed),
            checker,
            acd: Acd::new(acd_cfg),
            report: SimReport {
                strategy: cfg.strategy,
                ..SimReport::default()
            },
            cfg,
            base,
            now: base,
            heap: BinaryHeap::new(),
            seq: 0,
            ids,
            leg: vec![None; n],
            next_leg: 0,
            on_shift: vec![false; n],
            pending_unregister: vec![false; n],
            live: HashSet::new(),
        }
    }

    fn at(&mut self, at: Instant, ev: Event) {
        self.seq += 1;
        self.heap.push(Scheduled {
            at,
            seq: self.seq,
            ev,
        });
    }

    fn after(&mut self, d: Duration, ev: Event) {
        self.at(self.now + d, ev);
    }

    fn uniform(&mut self, lo: Duration, hi: Duration) -> Duration {
        if hi <= lo {
            return lo;
        }
        Duration::from_secs_f64(self.rng.gen_range(lo.as_secs_f64()..hi.as_secs_f64()))
    }

    fn exp(&mut self, mean: Duration) -> Duration {
        let u: f64 = self.rng.gen_range(f64::MIN_POSITIVE..1.0);
        Duration::from_secs_f64(-u.ln() * mean.as_secs_f64())
    }

    fn talk_time(&mut self) -> Duration {
        let mean = self.cfg.talk_mean.as_secs_f64();
        let s = self.cfg.talk_sigma;
        if s <= 0.0 {
            return self.cfg.talk_mean;
        }
        // Box–Muller normal, then lognormal with the requested mean.
        let u1: f64 = self.rng.gen_range(f64::MIN_POSITIVE..1.0);
        let u2: f64 = self.rng.gen();
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        let mu = mean.ln() - s * s / 2.0;
        Duration::from_secs_f64((mu + s * z).exp().clamp(5.0, 7200.0))
    }

    fn rate_weight(&self, t: f64) -> f64 {
        let c = &self.cfg.hourly_curve;
        let hour = (t / 3600.0).clamp(0.0, 23.999_999);
        let i = hour.floor() as usize;
        let frac = hour - i as f64;
        c[i] * (1.0 - frac) + c[(i + 1) % 24] * frac
    }

    fn schedule_day(&mut self) {
        let base = self.base;
        // Agents: shift by share, breaks spread over the shift, direct calls anywhere in it.
        let total: f64 = self.cfg.shifts.iter().map(|s| s.share.max(0.0)).sum();
        let n = self.ids.len();
        let mut assigned = 0usize;
        let shifts = self.cfg.shifts.clone();
        for (k, s) in shifts.iter().enumerate() {
            let count = if k + 1 == shifts.len() {
                n - assigned
            } else if total > 0.0 {
                ((s.share.max(0.0) / total) * n as f64).round() as usize
            } else {
                0
            }
            .min(n - assigned);
            for a in assigned..assigned + count {
                self.at(base + s.start, Event::ShiftStart(a));
                self.at(base + s.end, Event::ShiftEnd(a));
                let len = s.end.saturating_sub(s.start);
                for b in 0..self.cfg.breaks_per_shift {
                    // One break per equal slice of the shift, away from its edges.
                    let slice = len / (self.cfg.breaks_per_shift + 1);
                    let centre = s.start + slice * (b + 1);
                    let jitter = self.uniform(Duration::ZERO, slice / 2);
                    let at = centre.saturating_sub(slice / 4) + jitter;
                    self.at(base + at, Event::BreakStart(a));
                }
                for _ in 0..self.cfg.direct_calls_per_shift {
                    let at = self.uniform(s.start, s.end);
                    self.at(base + at, Event::DirectStart(a));
                }
            }
            assigned += count;
        }
        // Calls.
        let arrivals = match self.cfg.arrivals.clone() {
            Some(a) => a,
            None => self.thinning(),
        };
        for (i, t) in arrivals.into_iter().enumerate() {
            self.at(base + t, Event::Arrival(i as CallRef + 1));
        }
        let mut t = self.cfg.audit_every;
        while !self.cfg.audit_every.is_zero() && t <= DAY {
            self.at(base + t, Event::Audit);
            t += self.cfg.audit_every;
        }
        if !self.cfg.reconcile_every.is_zero() {
            self.at(base + self.cfg.reconcile_every, Event::Reconcile);
        }
    }

    /// Non-homogeneous Poisson arrivals by thinning (Lewis–Shedler).
    fn thinning(&mut self) -> Vec<Duration> {
        let c = self.cfg.hourly_curve;
        // Integral of the piecewise-linear curve over the day, in weight·hours.
        let area: f64 = (0..24).map(|i| (c[i] + c[(i + 1) % 24]) / 2.0).sum();
        let max = c.iter().cloned().fold(0.0, f64::max);
        if area <= 0.0 || max <= 0.0 {
            return Vec::new();
        }
        let per_weight_sec = self.cfg.calls as f64 / (area * 3600.0);
        let lambda_max = max * per_weight_sec;
        let mut out = Vec::new();
        let mut t = 0.0;
        loop {
            let u: f64 = self.rng.gen_range(f64::MIN_POSITIVE..1.0);
            t += -u.ln() / lambda_max;
            if t >= DAY.as_secs_f64() {
                break;
            }
            if self.rng.gen::<f64>() * lambda_max <= self.rate_weight(t) * per_weight_sec {
                out.push(Duration::from_secs_f64(t));
            }
        }
        out
    }

    fn run_loop(&mut self) {
        // A broken core must end in violations, not hang the run: bound the drain and timer storms.
        let end = self.base + DAY + DRAIN_LIMIT + Duration::from_secs(3600);
        let mut same_instant = 0u32;
        loop {
            let next_ev = self.heap.peek().map(|s| s.at);
            let next_to = self.acd.poll_timeout().map(|t| t.max(self.now));
            if next_ev
                .into_iter()
                .chain(next_to)
                .min()
                .is_some_and(|t| t > end)
            {
                self.checker.record(
                    self.now,
                    ViolationKind::AgentStuck,
                    "still busy hours after the day; stopped".into(),
                );
                break;
            }
            match (next_ev, next_to) {
                (None, None) => break,
                (e, Some(t)) if e.is_none_or(|e| t <= e) => {
                    same_instant = if t == self.now { same_instant + 1 } else { 0 };
                    if same_instant > 10_000 {
                        self.checker.record(
                            t,
                            ViolationKind::AgentStuck,
                            "the ACD's timer does not advance; stopped".into(),
                        );
                        break;
                    }
                    self.now = t;
                    self.acd.handle_timeout(t);
                    self.drain(None);
                }
                _ => {
                    let Some(s) = self.heap.pop() else { break };
                    same_instant = 0;
                    self.now = s.at;
                    self.report.events += 1;
                    self.event(s.ev);
                }
            }
        }
    }

    fn input(&mut self, input: AcdInput) {
        if let Err(e) = self.acd.handle(self.now, input.clone()) {
            self.checker
                .record(self.now, ViolationKind::AcdError, format!("{input:?}: {e}"));
        }
    }

    /// The switch's leg for `agent`, if it is `leg`.
    fn leg_is(&self, agent: usize, leg: u64) -> bool {
        self.leg[agent].is_some_and(|(_, l)| l == leg)
    }

    fn event(&mut self, ev: Event) {
        match ev {
            Event::ShiftStart(a) => {
                self.on_shift[a] = true;
                self.pending_unregister[a] = false;
                self.checker.set_registered(a, true);
                self.input(AcdInput::Registered {
                    agent: self.ids[a].clone(),
                    registered: true,
                });
                self.drain(None);
                self.set_status(a, AgentStatus::Available, None);
            }
            Event::ShiftEnd(a) => {
                self.on_shift[a] = false;
                self.set_status(a, AgentStatus::LoggedOut, None);
                self.pending_unregister[a] = true;
                self.maybe_unregister(a);
            }
            Event::BreakStart(a) => {
                if self.on_shift[a] && self.checker.agent_status(a) == Some(AgentStatus::Available)
                {
                    self.report.breaks += 1;
                    // Breaks may start mid-call: the ACD keeps the call, it only stops new offers.
                    self.set_status(a, AgentStatus::Break, Some("rest".into()));
                    let d = self.cfg.break_len;
                    self.after(d, Event::BreakEnd(a));
                }
            }
            Event::BreakEnd(a) => {
                if self.on_shift[a]
                    && self.checker.agent_status(a) == Some(AgentStatus::Break)
                    && !self.checker.no_answer_break(a)
                {
                    self.set_status(a, AgentStatus::Available, None);
                }
            }
            Event::NoAnswerReturn(a) => {
                if self.on_shift[a] && self.checker.no_answer_break(a) {
                    self.set_status(a, AgentStatus::Available, None);
                }
            }
            Event::Arrival(call) => {
                let priority = if self.rng.gen::<f64>() < self.cfg.priority_share {
                    10
                } else {
                    0
                };
                let queue = if self.rng.gen::<f64>() < self.cfg.skill_call_share {
                    SKILL_QUEUE
                } else {
                    QUEUE
                };
                self.report.offered += 1;
                self.live.insert(call);
                self.checker.call_arrived(self.now, call, queue, priority);
                if let Some(mean) = self.cfg.patience_mean {
                    let p = self.exp(mean);
                    self.after(p, Event::Patience(call));
                }
                self.input(AcdInput::Enqueue {
                    call,
                    queue: queue.into(),
                    priority,
                    callback: false,
                });
                self.drain(None);
            }
            Event::Patience(call) => {
                if self.checker.call_pending(call) {
                    self.checker.call_abandoned(self.now, call);
                    self.live.remove(&call);
                    self.input(AcdInput::Abandon { call });
                    self.drain(None);
                }
            }
            Event::Ringing { call, agent, leg } => {
                if self.leg_is(agent, leg) {
                    self.input(AcdInput::Ringing {
                        call,
                        agent: self.ids[agent].clone(),
                    });
                    self.drain(None);
                }
            }
            Event::Answer {
                call,
                agent,
                leg,
                late,
            } => {
                let live = self.leg_is(agent, leg);
                if !live && !late {
                    return; // The ringing was stopped before the phone picked up.
                }
                if live {
                    self.leg[agent] = None;
                }
                self.input(AcdInput::Answered {
                    call,
                    agent: self.ids[agent].clone(),
                });
                let refused = self.drain(Some((call, agent)));
                if refused {
                    self.maybe_unregister(agent);
                } else if live {
                    let talk = self.talk_time();
                    self.after(talk, Event::TalkEnd(agent));
                } else {
                    // The ACD wrongly took it: hang up at once so the run can continue.
                    self.checker.on_call_ended(self.now, agent, false);
                    self.input(AcdInput::CallEnded {
                        agent: self.ids[agent].clone(),
                    });
                    self.drain(None);
                }
            }
            Event::Reject { call, agent, leg } => {
                if self.leg_is(agent, leg) {
                    self.leg[agent] = None;
                    self.report.rejects += 1;
                    self.checker
                        .on_offer_failed(self.now, call, agent, FailReason::Rejected);
                    self.input(AcdInput::OfferFailed {
                        call,
                        agent: self.ids[agent].clone(),
                        reason: FailReason::Rejected,
                    });
                    self.drain(None);
                    self.maybe_unregister(agent);
                }
            }
            Event::Vanish { agent, leg } => {
                if self.leg_is(agent, leg) {
                    self.report.vanished += 1;
                    self.checker.set_registered(agent, false);
                    self.input(AcdInput::Registered {
                        agent: self.ids[agent].clone(),
                        registered: false,
                    });
                    self.drain(None);
                    self.expect_no_leg(agent, "the phone unregistered");
                    let d = self.cfg.vanish_len;
                    self.after(d, Event::Reappear(agent));
                }
            }
            Event::Reappear(a) => {
                if self.on_shift[a] && !self.pending_unregister[a] && !self.checker.is_registered(a)
                {
                    self.checker.set_registered(a, true);
                    self.input(AcdInput::Registered {
                        agent: self.ids[a].clone(),
                        registered: true,
                    });
                    self.drain(None);
                }
            }
            Event::TalkEnd(agent) => {
                let lost = self.rng.gen::<f64>() < self.cfg.lost_bye_p;
                if let Some(call) = self.checker.in_call(agent) {
                    self.live.remove(&call);
                }
                self.checker.on_call_ended(self.now, agent, lost);
                if lost {
                    // The ACD never hears of it: the next reconciliation must free the agent.
                    self.report.lost_byes += 1;
                } else {
                    self.input(AcdInput::CallEnded {
                        agent: self.ids[agent].clone(),
                    });
                    self.drain(None);
                    if self.rng.gen::<f64>() < self.cfg.early_wrap_end_p {
                        let d = self.cfg.wrap_up / 3;
                        self.after(d, Event::EndWrapUp(agent));
                    }
                }
                self.maybe_unregister(agent);
            }
            Event::EndWrapUp(agent) => {
                if self.checker.in_wrap_up(self.now, agent) {
                    self.checker.on_wrap_up_ended(agent);
                    self.input(AcdInput::EndWrapUp {
                        agent: self.ids[agent].clone(),
                    });
                    self.drain(None);
                }
            }
            Event::DirectStart(a) => {
                // The agent dials out whenever not talking, racing any offer the ACD is making.
                if self.on_shift[a]
                    && self.checker.is_registered(a)
                    && self.checker.in_call(a).is_none()
                    && !self.checker.is_direct(a)
                {
                    self.report.direct_calls += 1;
                    self.checker.set_direct(a, true);
                    self.input(AcdInput::DirectCall {
                        agent: self.ids[a].clone(),
                        active: true,
                    });
                    self.drain(None);
                    self.expect_no_leg(a, "the agent took a direct call");
                    let d = self.exp(self.cfg.direct_call_len);
                    self.after(d, Event::DirectEnd(a));
                }
            }
            Event::DirectEnd(a) => {
                self.checker.set_direct(a, false);
                self.input(AcdInput::DirectCall {
                    agent: self.ids[a].clone(),
                    active: false,
                });
                self.drain(None);
                self.maybe_unregister(a);
            }
            Event::Reconcile => {
                let mut live: Vec<CallRef> = self.live.iter().copied().collect();
                live.sort_unstable();
                self.input(AcdInput::Reconcile { live });
                self.drain(None);
                // Past the day, keep going while a call may still lose its BYE or a lost one waits, but not for
                // ever: an ACD that never frees the agent is reported as stuck, not hung.
                let next = self.now + self.cfg.reconcile_every;
                let busy = !self.live.is_empty() || !self.checker.lost_byes().is_empty();
                if next <= self.base + DAY || (busy && next <= self.base + DAY + DRAIN_LIMIT) {
                    self.at(next, Event::Reconcile);
                }
            }
            Event::Audit => {
                let views = self.acd.agents();
                self.checker.audit(self.now, &views);
            }
        }
    }

    /// The ACD must withdraw a pending offer at once when the phone becomes unusable.
    fn expect_no_leg(&mut self, agent: usize, why: &str) {
        if let Some((call, _)) = self.leg[agent] {
            let detail = format!("{} still offered {call} after {why}", self.ids[agent]);
            self.checker
                .record(self.now, ViolationKind::AgentStuck, detail);
        }
    }

    fn set_status(&mut self, a: usize, status: AgentStatus, reason: Option<String>) {
        self.checker.set_status(a, status);
        self.input(AcdInput::SetStatus {
            agent: self.ids[a].clone(),
            status,
            reason,
        });
        self.drain(None);
    }

    /// A logged-out agent's phone unregisters once nothing rings or talks on it.
    fn maybe_unregister(&mut self, a: usize) {
        if self.pending_unregister[a] && !self.checker.agent_busy(a) && self.leg[a].is_none() {
            self.pending_unregister[a] = false;
            self.checker.set_registered(a, false);
            self.input(AcdInput::Registered {
                agent: self.ids[a].clone(),
                registered: false,
            });
            self.drain(None);
        }
    }

    /// Carries out the ACD's decisions. `answered` is an answer just sent: a withdraw of that very leg is the ACD
    /// refusing it, not a stop-ringing. Returns whether that refusal came.
    fn drain(&mut self, answered: Option<(CallRef, usize)>) -> bool {
        let outs: Vec<AcdOutput> = std::iter::from_fn(|| self.acd.poll_output()).collect();
        let is_refusal = |o: &AcdOutput, checker: &Checker| match (o, answered) {
            (AcdOutput::Withdraw { call, agent }, Some((c, idx))) => {
                *call == c && checker.agent_index(agent) == Some(idx)
            }
            _ => false,
        };
        let refused = outs.iter().any(|o| is_refusal(o, &self.checker));
        if let Some((call, idx)) = answered {
            // Before the other outputs: ring-all withdrawals of the other agents follow from this answer.
            self.checker.on_answered(self.now, call, idx, !refused);
        }
        let mut unregister = Vec::new();
        for out in outs {
            match out {
                AcdOutput::Withdraw { .. } if is_refusal(&out, &self.checker) => {}
                AcdOutput::Offer { call, agent, .. } => {
                    self.report.agent_offers += 1;
                    self.checker.on_offer(self.now, call, &agent);
                    let Some(idx) = self.checker.agent_index(&agent) else {
                        continue;
                    };
                    if self.cfg.record_offers {
                        self.report.offers.push(OfferRecord {
                            at: self.now.saturating_duration_since(self.base),
                            call,
                            agent: idx,
                        });
                    }
                    self.ring(call, idx);
                }
                AcdOutput::Withdraw { call, agent } => {
                    if self.checker.on_withdraw(self.now, call, &agent) == WithdrawCause::Miss {
                        self.report.no_answers += 1;
                    }
                    let Some(idx) = self.checker.agent_index(&agent) else {
                        continue;
                    };
                    if self.leg[idx].is_some_and(|(c, _)| c == call) {
                        self.leg[idx] = None;
                    }
                    unregister.push(idx);
                }
                AcdOutput::AgentChanged(v) => {
                    let Some(idx) = self.checker.agent_index(&v.id) else {
                        continue;
                    };
                    if v.status == AgentStatus::Break
                        && v.break_reason.as_deref() == Some(NO_ANSWER_REASON)
                        && !self.checker.no_answer_break(idx)
                    {
                        self.report.no_answer_breaks += 1;
                        self.checker.on_no_answer_break(self.now, idx);
                        let d = self.cfg.no_answer_break_len;
                        self.after(d, Event::NoAnswerReturn(idx));
                    }
                }
                AcdOutput::WrapUpEnded { call, secs, .. } => {
                    self.checker.on_wrap_up_reported(self.now, call, secs);
                }
                AcdOutput::Reconciled { agent, call } => {
                    self.report.reconciled += 1;
                    if let Some(idx) = self.checker.agent_index(&agent) {
                        self.checker.on_reconciled(self.now, idx, call);
                        unregister.push(idx);
                    }
                }
            }
        }
        for idx in unregister {
            self.maybe_unregister(idx);
        }
        refused
    }

    /// The switch rings the agent's phone and decides how the agent will react.
    fn ring(&mut self, call: CallRef, agent: usize) {
        self.next_leg += 1;
        let leg = self.next_leg;
        self.leg[agent] = Some((call, leg));
        let d = self.cfg.ringing_delay;
        self.after(d, Event::Ringing { call, agent, leg });
        let r: f64 = self.rng.gen();
        let c = &self.cfg;
        let ring = c.ring_timeout;
        let reject = c.reject_p;
        let no_answer = reject + c.no_answer_p;
        let late = no_answer + c.late_answer_p;
        let vanish = late + c.vanish_p;
        if r < reject {
            let d = self.uniform(Duration::from_secs(1), Duration::from_secs(3));
            self.after(d, Event::Reject { call, agent, leg });
        } else if r < no_answer {
            // Nobody picks up: the ACD's ring timeout withdraws it.
        } else if r < late && !ring.is_zero() {
            self.report.late_answers += 1;
            // Within the ACD's retry delay, so the same offer cannot have been made again meanwhile.
            let d = ring + self.uniform(Duration::from_millis(100), Duration::from_millis(1500));
            self.after(
                d,
                Event::Answer {
                    call,
                    agent,
                    leg,
                    late: true,
                },
            );
        } else if r < vanish {
            let until = if ring.is_zero() {
                Duration::from_secs(5)
            } else {
                ring.mul_f64(0.9)
            };
            let d = self.uniform(Duration::from_millis(500), until);
            self.after(d, Event::Vanish { agent, leg });
        } else {
            let (lo, hi) = (self.cfg.ring_delay_min, self.cfg.ring_delay_max);
            let d = self.uniform(lo, hi);
            self.after(
                d,
                Event::Answer {
                    call,
                    agent,
                    leg,
                    late: false,
                },
            );
        }
    }

    fn finish(mut self) -> SimReport {
        let views = self.acd.agents();
        let stats = self.acd.all_queue_stats(self.now);
        let acd = &self.acd;
        self.checker
            .finish(self.now, |c| acd.contains_call(c), &views, &stats);
        let mut r = std::mem::take(&mut self.report);
        let mut wait_sum = Duration::ZERO;
        for o in self.checker.outcomes() {
            r.max_wait = r.max_wait.max(o.wait);
            match o.disposition {
                Some(Disposition::Answered) => {
                    r.answered += 1;
                    wait_sum += o.wait;
                    if o.wait <= Duration::from_secs(15) {
                        r.answered_within_15s += 1;
                    }
                }
                Some(Disposition::Abandoned) => {
                    r.abandoned += 1;
                    if o.wait < Duration::from_secs(5) {
                        r.abandoned_within_5s += 1;
                    }
                }
                None => {}
            }
        }
        if r.answered > 0 {
            r.average_speed_of_answer = wait_sum / r.answered as u32;
        }
        r.virtual_time = self.now.saturating_duration_since(self.base);
        r.violations = self.checker.into_violations();
        r
    }
}
