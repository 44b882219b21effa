//! The transitions: what each input does to agents and calls, and the helpers that keep timers in step.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::*;

impl Acd {
    pub(crate) fn apply(&mut self, now: Instant, input: AcdInput) -> Result<(), AcdError> {
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
                // Work in progress is untouched (a reserved, ringing or in-call agent keeps the call, wrap-up runs
                // to its end): the status only decides whether more calls come.
                if a.status != status || a.break_reason != reason {
                    a.status = status;
                    a.break_reason = reason;
                    self.dirty = true;
                    self.changed(idx);
                }
            }
            AcdInput::Registered { agent, registered } => {
                let idx = self.agent_idx(&agent)?;
                let was = std::mem::replace(&mut self.agents[idx].registered, registered);
                self.dirty |= was != registered;
                match self.agents[idx].work.offered_call() {
                    Some(call) if !registered => {
                        self.withdraw(idx, call);
                        self.set_work(idx, Work::Idle);
                        self.fail_offer(now, idx, call, FailReason::Unreachable);
                    }
                    _ if was != registered => self.changed(idx),
                    _ => {}
                }
            }
            AcdInput::Enqueue {
                call,
                queue,
                priority,
                callback,
            } => {
                let q = *self
                    .queue_index
                    .get(&queue)
                    .ok_or(AcdError::UnknownQueue(queue))?;
                if self.calls.contains_key(&call) {
                    return Err(AcdError::DuplicateCall(call));
                }
                let first_enqueued = self.left.remove(&call).unwrap_or(now);
                if !callback {
                    self.queues[q].counters.offered += 1;
                }
                let c = Call {
                    queue: q,
                    priority,
                    seq: self.next_seq,
                    first_enqueued,
                    enqueued: now,
                    callback,
                    offered_to: Vec::new(),
                    skip: None,
                    escalate_at: None,
                };
                self.next_seq += 1;
                self.queues[q].waiting.insert(c.key(), call);
                self.n_waiting += 1;
                self.dirty = true;
                self.calls.insert(call, c);
                self.schedule_escalation(call, now);
            }
            AcdInput::Abandon { call } => {
                self.left.remove(&call);
                if let Some(c) = self.remove_call(call, true) {
                    self.count_abandon(now, &c);
                }
            }
            AcdInput::Leave { call } => {
                if let Some(c) = self.remove_call(call, true) {
                    self.left.insert(call, c.first_enqueued);
                }
            }
            AcdInput::Ringing { call, agent } => {
                let idx = self.agent_idx(&agent)?;
                if let Work::Offered {
                    call: c,
                    ringing: false,
                    deadline,
                } = self.agents[idx].work
                {
                    if c == call {
                        self.agents[idx].work = Work::Offered {
                            call,
                            ringing: true,
                            deadline,
                        };
                        self.changed(idx);
                    }
                }
            }
            AcdInput::Answered { call, agent } => {
                let idx = self.agent_idx(&agent)?;
                if self.agents[idx].work.offered_call() == Some(call)
                    && self.calls.contains_key(&call)
                {
                    self.answer(now, idx, call);
                } else {
                    // Withdrawn already (timeout, abandon, another agent) or never offered: the switch must drop
                    // this leg.
                    self.out.push_back(AcdOutput::Withdraw { call, agent });
                }
            }
            AcdInput::OfferFailed {
                call,
                agent,
                reason,
            } => {
                let idx = self.agent_idx(&agent)?;
                if self.agents[idx].work.offered_call() == Some(call) {
                    self.set_work(idx, Work::Idle);
                    self.fail_offer(now, idx, call, reason);
                }
            }
            AcdInput::CallEnded { agent } => {
                let idx = self.agent_idx(&agent)?;
                self.end_call(now, idx);
            }
            AcdInput::EndWrapUp { agent } => {
                let idx = self.agent_idx(&agent)?;
                self.end_wrap_up(now, idx);
            }
            AcdInput::DirectCall { agent, active } => {
                let idx = self.agent_idx(&agent)?;
                let a = &mut self.agents[idx];
                let was = std::mem::replace(&mut a.direct, active);
                self.dirty |= was != active;
                if was && !active && matches!(a.work, Work::Idle) {
                    a.idle_since = Some(now);
                }
                match a.work.offered_call() {
                    // The phone is busy now; not the agent's fault.
                    Some(call) if active => {
                        self.withdraw(idx, call);
                        self.release(now, idx, call);
                    }
                    _ if was != active => self.changed(idx),
                    _ => {}
                }
            }
            AcdInput::Reconcile { live } => self.reconcile(now, live),
        }
        Ok(())
    }

    /// Replaces the agent's work, keeping its timer in step.
    pub(crate) fn set_work(&mut self, idx: usize, work: Work) {
        if let Some(d) = self.agents[idx].work.deadline() {
            self.timers.remove(&(d, Timer::Work(idx)));
        }
        if let Some(d) = work.deadline() {
            self.timers.insert((d, Timer::Work(idx)));
        }
        self.dirty |= matches!(work, Work::Idle);
        self.agents[idx].work = work;
    }

    pub(crate) fn set_rest(&mut self, idx: usize, until: Option<Instant>) {
        if let Some(t) = self.agents[idx].rest_until {
            self.timers.remove(&(t, Timer::Rest(idx)));
        }
        if let Some(t) = until {
            self.timers.insert((t, Timer::Rest(idx)));
        }
        self.agents[idx].rest_until = until;
    }

    pub(crate) fn set_escalation(&mut self, call: CallRef, at: Option<Instant>) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if let Some(t) = c.escalate_at {
            self.timers.remove(&(t, Timer::Escalate(call)));
        }
        if let Some(t) = at {
            self.timers.insert((t, Timer::Escalate(call)));
        }
        c.escalate_at = at;
    }

    /// Arms the timer for the next tier to open to a waiting call, if a higher tier exists.
    pub(crate) fn schedule_escalation(&mut self, call: CallRef, now: Instant) {
        let next = self.calls.get(&call).and_then(|c| {
            if !c.offered_to.is_empty() {
                return None;
            }
            let q = &self.queues[c.queue];
            let e = q.cfg.tier_escalate;
            if e.is_zero() || q.max_tier <= 1 {
                return None;
            }
            let waited = now.saturating_duration_since(c.enqueued);
            // Tiers up to floor(waited / e) + 1 are open; the next one opens at k × e.
            let k = waited.as_nanos() / e.as_nanos() + 1;
            if k > u128::from(q.max_tier - 1) {
                return None;
            }
            let k = u32::try_from(k).ok()?;
            after(c.enqueued, e.checked_mul(k)?)
        });
        self.set_escalation(call, next);
    }

    /// Highest tier open to a call that has waited in its queue since `enqueued`.
    pub(crate) fn tier_limit(&self, c: &Call, now: Instant) -> u32 {
        let e = self.queues[c.queue].cfg.tier_escalate;
        if e.is_zero() {
            return u32::MAX;
        }
        let waited = now.saturating_duration_since(c.enqueued);
        u32::try_from(waited.as_nanos() / e.as_nanos())
            .unwrap_or(u32::MAX)
            .saturating_add(1)
    }

    pub(crate) fn withdraw(&mut self, idx: usize, call: CallRef) {
        self.out.push_back(AcdOutput::Withdraw {
            call,
            agent: self.agents[idx].id.clone(),
        });
    }

    /// Removes `idx` from the call's offers; the call waits again, at its place, once nobody is offered it.
    pub(crate) fn unoffer(&mut self, now: Instant, idx: usize, call: CallRef, skip: bool) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        c.offered_to.retain(|&i| i != idx);
        if c.offered_to.is_empty() {
            c.skip = skip.then_some(idx);
            let key = c.key();
            self.queues[c.queue].waiting.insert(key, call);
            self.n_waiting += 1;
            self.dirty = true;
            self.schedule_escalation(call, now);
        }
    }

    /// Frees an agent whose offer ended through no fault of its own (not a miss, idle order kept).
    pub(crate) fn release(&mut self, now: Instant, idx: usize, call: CallRef) {
        self.set_work(idx, Work::Idle);
        self.unoffer(now, idx, call, false);
        self.changed(idx);
    }

    /// The offer of `call` to agent `idx` (already set idle) failed: count it, rest the agent, put the call back
    /// (passing this agent over next time if anyone else can take it), and apply the no-answer break.
    pub(crate) fn fail_offer(
        &mut self,
        now: Instant,
        idx: usize,
        call: CallRef,
        reason: FailReason,
    ) {
        let queue = self.calls.get(&call).map(|c| c.queue);
        self.unoffer(now, idx, call, true);
        if !self.retry_delay.is_zero() {
            self.set_rest(idx, after(now, self.retry_delay));
        }
        let a = &mut self.agents[idx];
        a.idle_since = Some(now);
        if reason == FailReason::Rejected {
            a.counters.rejected += 1;
        } else {
            a.counters.missed += 1;
            a.consecutive_misses = a.consecutive_misses.saturating_add(1);
            let max = queue.map_or(0, |q| self.queues[q].cfg.max_no_answer);
            if max > 0 && a.consecutive_misses >= max {
                a.consecutive_misses = 0;
                // An agent who already left (break, logged out) keeps the status it chose.
                if a.status == AgentStatus::Available {
                    a.status = AgentStatus::Break;
                    a.break_reason = Some(NO_ANSWER_REASON.to_string());
                }
            }
        }
        self.changed(idx);
    }

    /// Removes a call from the ACD; agents offered it are withdrawn (when `withdraw`) and freed without a miss.
    pub(crate) fn remove_call(&mut self, call: CallRef, withdraw: bool) -> Option<Call> {
        let c = self.calls.remove(&call)?;
        if let Some(t) = c.escalate_at {
            self.timers.remove(&(t, Timer::Escalate(call)));
        }
        if c.offered_to.is_empty() && self.queues[c.queue].waiting.remove(&c.key()).is_some() {
            self.n_waiting -= 1;
        }
        for &idx in &c.offered_to {
            if withdraw {
                self.withdraw(idx, call);
            } else {
                self.out.push_back(AcdOutput::Reconciled {
                    agent: self.agents[idx].id.clone(),
                    call,
                });
            }
            self.set_work(idx, Work::Idle);
            self.changed(idx);
        }
        Some(c)
    }

    pub(crate) fn answer(&mut self, now: Instant, idx: usize, call: CallRef) {
        let Some(mut c) = self.calls.remove(&call) else {
            return;
        };
        // Every other agent ringing for this (ring-all) call stops, without a miss.
        c.offered_to.retain(|&i| i != idx);
        for &other in &c.offered_to {
            self.withdraw(other, call);
            self.set_work(other, Work::Idle);
            self.changed(other);
        }
        if let Some(t) = c.escalate_at {
            self.timers.remove(&(t, Timer::Escalate(call)));
        }
        self.count_answer(now, &c);
        let a = &mut self.agents[idx];
        a.consecutive_misses = 0;
        a.counters.answered += 1;
        self.set_work(
            idx,
            Work::InCall {
                call,
                queue: c.queue,
                answered_at: now,
            },
        );
        self.changed(idx);
    }

    /// The agent's queue call ended (hang-up or reconciliation): talk time counted, wrap-up starts.
    pub(crate) fn end_call(&mut self, now: Instant, idx: usize) {
        let Work::InCall {
            call,
            queue,
            answered_at,
        } = self.agents[idx].work
        else {
            return;
        };
        self.count_talk(idx, queue, now.saturating_duration_since(answered_at));
        let wrap = self.queues[queue].cfg.wrap_up;
        if wrap.is_zero() {
            self.set_work(idx, Work::Idle);
            self.count_wrap_up(idx, queue, Duration::ZERO);
            self.out.push_back(AcdOutput::WrapUpEnded {
                agent: self.agents[idx].id.clone(),
                call,
                secs: 0.0,
            });
            self.agents[idx].idle_since = Some(now);
        } else {
            self.set_work(
                idx,
                Work::WrapUp {
                    call,
                    queue,
                    started: now,
                    deadline: after(now, wrap),
                },
            );
        }
        self.changed(idx);
    }

    /// Ends the agent's wrap-up (if any) at `at`: by its timer or by `EndWrapUp`.
    pub(crate) fn end_wrap_up(&mut self, at: Instant, idx: usize) {
        let Work::WrapUp {
            call,
            queue,
            started,
            ..
        } = self.agents[idx].work
        else {
            return;
        };
        self.set_work(idx, Work::Idle);
        let len = at.saturating_duration_since(started);
        self.count_wrap_up(idx, queue, len);
        self.out.push_back(AcdOutput::WrapUpEnded {
            agent: self.agents[idx].id.clone(),
            call,
            secs: len.as_secs_f64(),
        });
        self.agents[idx].idle_since = Some(at);
        self.changed(idx);
    }

    pub(crate) fn reconcile(&mut self, now: Instant, live: Vec<CallRef>) {
        let live: HashSet<CallRef> = live.into_iter().collect();
        for idx in 0..self.agents.len() {
            if let Work::InCall { call, .. } = self.agents[idx].work {
                if !live.contains(&call) {
                    self.out.push_back(AcdOutput::Reconciled {
                        agent: self.agents[idx].id.clone(),
                        call,
                    });
                    self.end_call(now, idx);
                }
            }
        }
        let mut gone: Vec<CallRef> = self
            .calls
            .keys()
            .filter(|c| !live.contains(c))
            .copied()
            .collect();
        gone.sort_unstable();
        for call in gone {
            if let Some(c) = self.remove_call(call, false) {
                self.count_abandon(now, &c);
            }
        }
        // An offer for a call the ACD no longer holds cannot happen, but never leave such an agent stuck.
        for idx in 0..self.agents.len() {
            if let Some(call) = self.agents[idx].work.offered_call() {
                if !self.calls.contains_key(&call) {
                    self.out.push_back(AcdOutput::Reconciled {
                        agent: self.agents[idx].id.clone(),
                        call,
                    });
                    self.set_work(idx, Work::Idle);
                    self.changed(idx);
                }
            }
        }
        self.left.retain(|c, _| live.contains(c));
    }
}
