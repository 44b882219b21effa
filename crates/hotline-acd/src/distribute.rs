//! Choosing agents for waiting calls.

use std::ops::Bound;

use super::*;

/// An agent free for a queue, with what orders it there.
struct Cand {
    idx: usize,
    tier: u32,
    level: u32,
    /// Strategy key, smaller first (unused by longest-idle and ring-all).
    key: u64,
    since: Option<Instant>,
}

/// One queue's part of a distribution pass.
struct Lane {
    queue: usize,
    cands: Vec<Cand>,
    /// Candidates before this index are taken.
    cursor: usize,
    /// The queue's waiting calls are resumed after this key.
    after: Option<WaitKey>,
    /// No candidate left.
    done: bool,
}

fn xorshift(state: &mut u64) -> u64 {
    let mut x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    x.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

impl Acd {
    /// Offers every waiting call that has an eligible agent. Runs after every input and timeout.
    ///
    /// One pass: build each queue's ordered list of free eligible agents once, then walk waiting calls in global
    /// order (priority, arrival) and take agents from the front of the lists, so the cost is one sort of the free
    /// agents plus a step per offered call, not calls × agents.
    pub(crate) fn distribute(&mut self, now: Instant) {
        if !std::mem::take(&mut self.dirty) || self.n_waiting == 0 {
            return;
        }
        let n = self.agents.len();
        let mut rng = self.rng;
        let mut lane_of: Vec<Option<usize>> = vec![None; self.queues.len()];
        let mut lanes: Vec<Lane> = Vec::new();
        for (idx, a) in self.agents.iter().enumerate() {
            if !a.offerable(now) {
                continue;
            }
            for m in &a.members {
                let q = &self.queues[m.queue];
                if !m.qualified || q.waiting.is_empty() {
                    continue;
                }
                let key = match q.cfg.strategy {
                    Strategy::LongestIdle | Strategy::RingAll => 0,
                    // Distance after the last agent offered, in configuration order, wrapping.
                    Strategy::RoundRobin => q.rr_last.map_or(idx, |l| (idx + n - l - 1) % n) as u64,
                    Strategy::FewestCalls => a.counters.answered,
                    Strategy::LeastTalkTime => {
                        u64::try_from(a.counters.talk.as_nanos()).unwrap_or(u64::MAX)
                    }
                    Strategy::Random => xorshift(&mut rng),
                };
                let li = *lane_of[m.queue].get_or_insert_with(|| {
                    lanes.push(Lane {
                        queue: m.queue,
                        cands: Vec::new(),
                        cursor: 0,
                        after: None,
                        done: false,
                    });
                    lanes.len() - 1
                });
                lanes[li].cands.push(Cand {
                    idx,
                    tier: m.tier,
                    level: m.level,
                    key,
                    since: a.idle_since,
                });
            }
        }
        self.rng = rng;
        if lanes.is_empty() {
            return;
        }
        for lane in &mut lanes {
            let by_idle = self.queues[lane.queue].cfg.strategy == Strategy::LongestIdle;
            lane.cands.sort_unstable_by(|a, b| {
                a.tier
                    .cmp(&b.tier)
                    .then(b.level.cmp(&a.level))
                    .then(if by_idle {
                        a.since.cmp(&b.since)
                    } else {
                        a.key.cmp(&b.key)
                    })
                    .then(a.idx.cmp(&b.idx))
            });
        }

        let mut taken = vec![false; n];
        let mut plan: Vec<(CallRef, Vec<usize>)> = Vec::new();
        loop {
            // The lane whose next waiting call comes first overall (priority, then arrival).
            let mut best: Option<(usize, WaitKey, CallRef)> = None;
            for (li, lane) in lanes.iter_mut().enumerate() {
                if lane.done {
                    continue;
                }
                let waiting = &self.queues[lane.queue].waiting;
                let next = match lane.after {
                    None => waiting.iter().next(),
                    Some(k) => waiting.range((Bound::Excluded(k), Bound::Unbounded)).next(),
                };
                match next {
                    None => lane.done = true,
                    Some((&k, &call)) => {
                        if best.is_none_or(|(_, bk, _)| k < bk) {
                            best = Some((li, k, call));
                        }
                    }
                }
            }
            let Some((li, key, call)) = best else {
                break;
            };
            let lane = &mut lanes[li];
            lane.after = Some(key);
            let Some(c) = self.calls.get(&call) else {
                continue;
            };
            while lane.cursor < lane.cands.len() && taken[lane.cands[lane.cursor].idx] {
                lane.cursor += 1;
            }
            if lane.cursor == lane.cands.len() {
                lane.done = true;
                continue;
            }
            let limit = self.tier_limit(c, now);
            let open = &lane.cands[lane.cursor..];
            let cfg = &self.queues[lane.queue].cfg;
            let picks: Vec<usize> = if cfg.strategy == Strategy::RingAll {
                let at_once = match cfg.ring_limit {
                    0 => usize::MAX,
                    n => n as usize,
                };
                open.iter()
                    .take_while(|x| x.tier <= limit)
                    .filter(|x| !taken[x.idx])
                    .map(|x| x.idx)
                    .take(at_once)
                    .collect()
            } else if open[0].tier > limit {
                Vec::new()
            } else if Some(open[0].idx) == c.skip {
                let other = open[1..]
                    .iter()
                    .take_while(|x| x.tier <= limit)
                    .find(|x| !taken[x.idx]);
                vec![other.map_or(open[0].idx, |x| x.idx)]
            } else {
                vec![open[0].idx]
            };
            if picks.is_empty() {
                // Later calls of this priority arrived later, so no open tier has a free agent for them either.
                lane.after = Some((key.0, u64::MAX));
                continue;
            }
            for &i in &picks {
                taken[i] = true;
            }
            plan.push((call, picks));
        }
        for (call, picks) in plan {
            self.offer(now, call, picks);
        }
    }

    fn offer(&mut self, now: Instant, call: CallRef, picks: Vec<usize>) {
        self.set_escalation(call, None);
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let queue = &mut self.queues[c.queue];
        if c.offered_to.is_empty() && queue.waiting.remove(&c.key()).is_some() {
            self.n_waiting -= 1;
        }
        c.offered_to.extend_from_slice(&picks);
        c.skip = None;
        queue.rr_last = picks.last().copied().or(queue.rr_last);
        let ring = queue.cfg.ring_timeout;
        let deadline = if ring.is_zero() {
            None
        } else {
            after(now, ring)
        };
        let name = queue.cfg.name.clone();
        for idx in picks {
            self.out.push_back(AcdOutput::Offer {
                call,
                agent: self.agents[idx].id.clone(),
                queue: name.clone(),
            });
            self.agents[idx].counters.offered += 1;
            self.set_work(
                idx,
                Work::Offered {
                    call,
                    ringing: false,
                    deadline,
                },
            );
            self.changed(idx);
        }
    }
}
