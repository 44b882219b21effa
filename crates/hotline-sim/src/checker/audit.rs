//! Checks against the ACD's own view: the periodic audit (stuck agents, stalls, no-answer breaks) and the
//! end-of-day accounting.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use hotline_acd::{AgentState, AgentStatus, AgentView, CallRef, QueueLiveStats};

use super::*;

impl Checker {
    /// Periodic check against the ACD's own view of its agents: nobody is stuck (every agent reserved, ringing,
    /// in call or in wrap-up has a live reason), and no agent past `max_no_answer` is still available.
    pub fn audit(&mut self, now: Instant, views: &[AgentView]) {
        let mut found = Vec::new();
        for v in views {
            let Some(idx) = self.agent_index(&v.id) else {
                continue;
            };
            let a = &self.agents[idx];
            let why = match v.state {
                AgentState::Reserved | AgentState::Ringing => match a.ringing {
                    None => Some("offered in the ACD, no offer in the switch".to_string()),
                    Some((c, _)) if !self.call_pending(c) => Some(format!("ringing for gone {c}")),
                    Some((c, since)) => {
                        let ring = self
                            .calls
                            .get(&c)
                            .map_or(Duration::ZERO, |m| self.queues[m.queue].ring_timeout);
                        (!ring.is_zero()
                            && now.saturating_duration_since(since) > ring + self.slack)
                            .then(|| {
                                format!(
                                    "ringing for {c} since {:?}",
                                    since.saturating_duration_since(self.base)
                                )
                            })
                    }
                },
                AgentState::InCall => {
                    let grace = self.reconcile_every.unwrap_or(Duration::ZERO) + self.slack;
                    let lost_ok = a
                        .lost_bye
                        .is_some_and(|(_, t)| now.saturating_duration_since(t) <= grace);
                    (a.in_call.is_none() && !a.direct && !lost_ok)
                        .then(|| "in call in the ACD, no call in the switch".to_string())
                }
                AgentState::WrapUp if a.wrap_until.is_none_or(|t| now > t + self.slack) => {
                    Some("wrap-up overran".to_string())
                }
                _ => None,
            };
            if let Some(why) = why {
                found.push((ViolationKind::AgentStuck, format!("{}: {why}", v.id)));
            }
            let max = self
                .queues
                .iter()
                .map(|q| q.max_no_answer)
                .max()
                .unwrap_or(0);
            if max > 0 && v.status == AgentStatus::Available && a.misses >= max {
                found.push((
                    ViolationKind::MaxNoAnswer,
                    format!("{} available after {} consecutive misses", v.id, a.misses),
                ));
            }
        }
        found.extend(self.stalls(now, views));
        for (k, d) in found {
            self.record(now, k, d);
        }
    }

    /// Waiting calls next to an idle agent that could take them. Only the oldest call per queue and priority is
    /// looked at: a younger one is open to no more tiers.
    fn stalls(&self, now: Instant, views: &[AgentView]) -> Vec<(ViolationKind, String)> {
        let idle: Vec<usize> = views
            .iter()
            .filter(|v| v.state == AgentState::Idle)
            .filter_map(|v| self.agent_index(&v.id))
            .filter(|&i| {
                let a = &self.agents[i];
                a.status == AgentStatus::Available
                    && a.registered
                    && a.ringing.is_none()
                    && a.in_call.is_none()
                    && a.lost_bye.is_none()
                    && a.wrap_until.is_none_or(|t| t <= now)
                    && a.rest_until.is_none_or(|t| t <= now)
            })
            .collect();
        let mut found = Vec::new();
        for set in self.waiting.values() {
            let Some(c) = set
                .first()
                .and_then(|seq| self.by_seq.get(seq))
                .and_then(|call| self.calls.get(call).map(|c| (call, c)))
            else {
                continue;
            };
            if let Some(&i) = idle
                .iter()
                .find(|&&i| self.ineligible(now, i, c.1).is_none())
            {
                found.push((
                    ViolationKind::Stalled,
                    format!("call {} waits while {} is idle", c.0, self.agents[i].id),
                ));
            }
        }
        found
    }

    /// After draining: every call ended, every ticket closed (answered ones with their wrap-up), the ACD holds no
    /// call, every agent idle, and the ACD's statistics agree with what the checker saw.
    pub fn finish(
        &mut self,
        now: Instant,
        acd_holds: impl Fn(CallRef) -> bool,
        views: &[AgentView],
        stats: &[QueueLiveStats],
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
            match self.tickets.get(&c.ticket) {
                Some(t) if t.disposition.is_some() => {
                    if t.disposition == Some(Disposition::Answered) && t.wrap_up_secs.is_none() {
                        found.push((
                            ViolationKind::Ticket,
                            format!("ticket {} of call {call} has no wrap-up", c.ticket),
                        ));
                    }
                }
                _ => found.push((
                    ViolationKind::Ticket,
                    format!("ticket {} of call {call} not closed", c.ticket),
                )),
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
        for s in stats {
            let Some(&q) = self.queue_index.get(&s.queue) else {
                continue;
            };
            let (mut offered, mut answered, mut abandoned, mut sl15) = (0u64, 0u64, 0u64, 0u64);
            for c in self.calls.values().filter(|c| c.queue == q) {
                offered += 1;
                match (&c.state, c.answered) {
                    (CallState::Done(Disposition::Answered), Some(t)) => {
                        answered += 1;
                        sl15 += u64::from(
                            t.saturating_duration_since(c.arrived) <= Duration::from_secs(15),
                        );
                    }
                    (CallState::Done(Disposition::Abandoned), _) => abandoned += 1,
                    _ => {}
                }
            }
            let acd = (s.offered, s.answered, s.abandoned, s.answered_within_15s);
            if acd != (offered, answered, abandoned, sl15) {
                found.push((
                    ViolationKind::Stats,
                    format!(
                        "{}: ACD offered/answered/abandoned/SL-15 {acd:?}, checker {:?}",
                        s.queue,
                        (offered, answered, abandoned, sl15)
                    ),
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

    /// Agents whose calls ended with a lost BYE not yet reconciled.
    pub fn lost_byes(&self) -> HashSet<usize> {
        (0..self.agents.len())
            .filter(|&i| self.agents[i].lost_bye.is_some())
            .collect()
    }
}
