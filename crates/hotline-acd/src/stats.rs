//! Live statistics per queue and per agent, and the estimated wait announced to callers.
//!
//! Counted since start-up (history over an interval comes from the tickets):
//! - *offered*: `Enqueue`s that are not callbacks. A call that leaves a queue (`Leave`) and joins another counts
//!   as offered in both; callbacks count in no queue's offered, answered or abandoned.
//! - *wait*: from the call's first `Enqueue` (kept across `Leave`/`Enqueue`) to `Answered` or `Abandon`.
//! - *abandoned*: `Abandon` of a held call, and held calls dropped by `Reconcile`; *within 5 s*: wait < 5 s.
//! - *answered within N s*: wait ≤ N s. SL-15 = answered within 15 s / offered; 接通率 = answered / offered.
//! - *talk*: `Answered` → `CallEnded` (or the reconciliation that ended it), counted when it ends.
//! - *wrap-up*: wrap-up start → its end by timeout or `EndWrapUp` (0 s when the queue has none); a status change
//!   does not end wrap-up. Counted when it ends. Talk and wrap-up of callbacks count (they are agent work).

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::{Acd, AgentState, AgentStatus, Call, CallRef, Strategy};

/// How many recent answers the wait estimate looks at, and how far back.
const EWT_ANSWERS: usize = 20;
const EWT_WINDOW: Duration = Duration::from_secs(30 * 60);
/// Assumed handling time per agent when the queue has too few recent answers.
const EWT_FALLBACK_PER_AGENT: Duration = Duration::from_secs(180);

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct QueueCounters {
    pub offered: u64,
    pub answered: u64,
    pub abandoned: u64,
    pub abandoned_within_5s: u64,
    pub answered_within_15s: u64,
    pub answered_within_20s: u64,
    pub answered_within_30s: u64,
    /// Sum of the waits of answered calls.
    pub answer_wait: Duration,
    pub talk: Duration,
    pub talks: u64,
    pub wrap_up: Duration,
    pub wrap_ups: u64,
}

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AgentCounters {
    pub offered: u64,
    pub answered: u64,
    pub missed: u64,
    pub rejected: u64,
    pub talk: Duration,
    pub talks: u64,
    pub wrap_up: Duration,
    pub wrap_ups: u64,
}

/// Members of a queue by status, registration and state (each member counts once in each group).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AgentsByState {
    pub logged_out: u32,
    pub on_break: u32,
    pub available: u32,
    pub registered: u32,
    pub idle: u32,
    pub reserved: u32,
    pub ringing: u32,
    pub in_call: u32,
    pub wrap_up: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueLiveStats {
    pub queue: String,
    pub strategy: Strategy,
    /// Calls held and not yet answered (waiting, reserved or ringing).
    pub waiting: u32,
    /// The longest wait among those calls; 0 when none.
    pub longest_current_wait_secs: f64,
    pub offered: u64,
    pub answered: u64,
    pub abandoned: u64,
    pub abandoned_within_5s: u64,
    pub answered_within_15s: u64,
    pub answered_within_20s: u64,
    pub answered_within_30s: u64,
    /// 接通率 = answered / offered.
    pub answer_rate: Option<f64>,
    /// answered_within_15s / offered.
    pub service_level_15s: Option<f64>,
    /// Average speed of answer: mean wait of answered calls.
    pub asa_secs: Option<f64>,
    pub avg_talk_secs: Option<f64>,
    pub avg_wrap_up_secs: Option<f64>,
    pub agents: AgentsByState,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentLiveStats {
    pub agent: String,
    pub status: AgentStatus,
    pub state: AgentState,
    /// Offers made to the agent (each ring-all offer included).
    pub offered: u64,
    pub answered: u64,
    /// Ring timeouts, no-answers and unreachable phones.
    pub missed: u64,
    pub rejected: u64,
    pub consecutive_misses: u32,
    /// Completed talks (the current call is counted when it ends).
    pub talk_secs: f64,
    pub avg_talk_secs: Option<f64>,
    pub wrap_up_secs: f64,
    pub avg_wrap_up_secs: Option<f64>,
}

/// What to announce to a waiting caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WaitEstimate {
    /// 1-based place in the queue.
    pub position: u32,
    /// Estimated wait time.
    pub ewt: Duration,
}

fn ratio(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

fn mean(total: Duration, n: u64) -> Option<f64> {
    (n > 0).then(|| total.as_secs_f64() / n as f64)
}

impl Acd {
    pub(crate) fn count_answer(&mut self, now: Instant, c: &Call) {
        let q = &mut self.queues[c.queue];
        if q.recent_answers.len() == EWT_ANSWERS {
            q.recent_answers.pop_front();
        }
        q.recent_answers.push_back(now);
        if c.callback {
            return;
        }
        let wait = now.saturating_duration_since(c.first_enqueued);
        let k = &mut q.counters;
        k.answered += 1;
        k.answer_wait += wait;
        k.answered_within_15s += u64::from(wait <= Duration::from_secs(15));
        k.answered_within_20s += u64::from(wait <= Duration::from_secs(20));
        k.answered_within_30s += u64::from(wait <= Duration::from_secs(30));
    }

    pub(crate) fn count_abandon(&mut self, now: Instant, c: &Call) {
        if c.callback {
            return;
        }
        let wait = now.saturating_duration_since(c.first_enqueued);
        let k = &mut self.queues[c.queue].counters;
        k.abandoned += 1;
        k.abandoned_within_5s += u64::from(wait < Duration::from_secs(5));
    }

    pub(crate) fn count_talk(&mut self, idx: usize, queue: usize, d: Duration) {
        let k = &mut self.queues[queue].counters;
        k.talk += d;
        k.talks += 1;
        let a = &mut self.agents[idx].counters;
        a.talk += d;
        a.talks += 1;
    }

    pub(crate) fn count_wrap_up(&mut self, idx: usize, queue: usize, d: Duration) {
        let k = &mut self.queues[queue].counters;
        k.wrap_up += d;
        k.wrap_ups += 1;
        let a = &mut self.agents[idx].counters;
        a.wrap_up += d;
        a.wrap_ups += 1;
    }

    /// Live statistics of one queue; `None` for an unknown queue.
    pub fn queue_stats(&self, queue: &str, now: Instant) -> Option<QueueLiveStats> {
        let &q = self.queue_index.get(queue)?;
        Some(self.stats_of(q, now))
    }

    /// Live statistics of every queue, in configuration order.
    pub fn all_queue_stats(&self, now: Instant) -> Vec<QueueLiveStats> {
        (0..self.queues.len())
            .map(|q| self.stats_of(q, now))
            .collect()
    }

    fn stats_of(&self, q: usize, now: Instant) -> QueueLiveStats {
        let queue = &self.queues[q];
        let k = &queue.counters;
        let mut waiting = 0u32;
        let mut longest = Duration::ZERO;
        for c in self.calls.values().filter(|c| c.queue == q) {
            waiting += 1;
            longest = longest.max(now.saturating_duration_since(c.first_enqueued));
        }
        QueueLiveStats {
            queue: queue.cfg.name.clone(),
            strategy: queue.cfg.strategy,
            waiting,
            longest_current_wait_secs: longest.as_secs_f64(),
            offered: k.offered,
            answered: k.answered,
            abandoned: k.abandoned,
            abandoned_within_5s: k.abandoned_within_5s,
            answered_within_15s: k.answered_within_15s,
            answered_within_20s: k.answered_within_20s,
            answered_within_30s: k.answered_within_30s,
            answer_rate: ratio(k.answered, k.offered),
            service_level_15s: ratio(k.answered_within_15s, k.offered),
            asa_secs: mean(k.answer_wait, k.answered),
            avg_talk_secs: mean(k.talk, k.talks),
            avg_wrap_up_secs: mean(k.wrap_up, k.wrap_ups),
            agents: self.agents_by_state(q),
        }
    }

    fn agents_by_state(&self, q: usize) -> AgentsByState {
        let mut s = AgentsByState::default();
        for &idx in &self.queues[q].members {
            let a = &self.agents[idx];
            match a.status {
                AgentStatus::LoggedOut => s.logged_out += 1,
                AgentStatus::Break => s.on_break += 1,
                AgentStatus::Available => s.available += 1,
            }
            s.registered += u32::from(a.registered);
            match a.state() {
                AgentState::Idle => s.idle += 1,
                AgentState::Reserved => s.reserved += 1,
                AgentState::Ringing => s.ringing += 1,
                AgentState::InCall => s.in_call += 1,
                AgentState::WrapUp => s.wrap_up += 1,
            }
        }
        s
    }

    /// Live statistics of one agent since start-up; `None` for an unknown agent. `now` is not needed today (only
    /// completed talks and wrap-ups count) but keeps the query uniform with the queue ones.
    pub fn agent_stats(&self, agent: &str, _now: Instant) -> Option<AgentLiveStats> {
        let &idx = self.agent_index.get(agent)?;
        let a = &self.agents[idx];
        let k = &a.counters;
        Some(AgentLiveStats {
            agent: a.id.clone(),
            status: a.status,
            state: a.state(),
            offered: k.offered,
            answered: k.answered,
            missed: k.missed,
            rejected: k.rejected,
            consecutive_misses: a.consecutive_misses,
            talk_secs: k.talk.as_secs_f64(),
            avg_talk_secs: mean(k.talk, k.talks),
            wrap_up_secs: k.wrap_up.as_secs_f64(),
            avg_wrap_up_secs: mean(k.wrap_up, k.wrap_ups),
        })
    }

    /// Position and estimated wait of a waiting call; `None` if the call is not waiting (see
    /// [`Acd::position`]).
    ///
    /// EWT = position × the mean interval between the queue's last answers, taking at most the last 20 answers
    /// and only those within the last 30 minutes: (newest − oldest) / (n − 1), which needs n ≥ 2. With fewer
    /// answers: EWT = position × 180 s / max(1, members that are available and registered). The interval is the
    /// queue's observed service rate, so the estimate follows staffing and talk times without knowing either.
    pub fn wait_estimate(&self, call: CallRef, now: Instant) -> Option<WaitEstimate> {
        let position = u32::try_from(self.position(call)?).unwrap_or(u32::MAX);
        let q = &self.queues[self.calls.get(&call)?.queue];
        let recent: Vec<Instant> = q
            .recent_answers
            .iter()
            .copied()
            .filter(|&t| t <= now && now.duration_since(t) <= EWT_WINDOW)
            .collect();
        let ewt = match (recent.iter().min(), recent.iter().max()) {
            (Some(&first), Some(&last)) if recent.len() >= 2 => {
                let intervals = u32::try_from(recent.len() - 1).unwrap_or(u32::MAX);
                ((last - first) / intervals).saturating_mul(position)
            }
            _ => {
                let staffed = q
                    .members
                    .iter()
                    .filter(|&&i| {
                        let a = &self.agents[i];
                        a.status == AgentStatus::Available && a.registered
                    })
                    .count();
                let staffed = u32::try_from(staffed).unwrap_or(u32::MAX).max(1);
                EWT_FALLBACK_PER_AGENT.saturating_mul(position) / staffed
            }
        };
        Some(WaitEstimate { position, ewt })
    }
}
