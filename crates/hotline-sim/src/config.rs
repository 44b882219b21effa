//! Scenarios (presets) and the day's report.

use std::fmt;
use std::time::Duration;

use hotline_acd::{CallRef, Strategy};

use crate::Violation;

/// A block of agents logged in from `start` to `end` (offsets into the day).
#[derive(Debug, Clone, PartialEq)]
pub struct Shift {
    pub start: Duration,
    pub end: Duration,
    /// Share of the agents on this shift (shares are normalised).
    pub share: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    pub seed: u64,
    /// Expected number of calls over the day (the Poisson draw varies around it).
    pub calls: u32,
    pub agents: u32,
    /// Relative arrival rate at each hour 0..24, linearly interpolated.
    pub hourly_curve: [f64; 24],
    /// Exact arrival offsets instead of the curve (hand-checkable scenarios).
    pub arrivals: Option<Vec<Duration>>,
    pub ring_timeout: Duration,
    pub wrap_up: Duration,
    pub talk_mean: Duration,
    /// Lognormal shape of talk time; 0 gives exactly `talk_mean`.
    pub talk_sigma: f64,
    /// Mean of the exponential patience; `None`: callers never give up.
    pub patience_mean: Option<Duration>,
    pub ring_delay_min: Duration,
    pub ring_delay_max: Duration,
    pub no_answer_p: f64,
    pub reject_p: f64,
    /// Answers that arrive just after the ring timeout withdraw (they crossed on the wire).
    pub late_answer_p: f64,
    /// Agents who end wrap-up early through the API.
    pub early_wrap_end_p: f64,
    pub breaks_per_shift: u32,
    pub break_len: Duration,
    pub shifts: Vec<Shift>,
    /// Share of callers with the high priority (e.g. the 12349 elderly line merged into the queue).
    pub priority_share: f64,
    /// Keep every offer in the report (for small scenarios).
    pub record_offers: bool,
    /// Period of the stuck-agent audit.
    pub audit_every: Duration,
    /// Strategy of both queues.
    pub strategy: Strategy,
    /// Share of agents in tier 2 (of both queues); tier 2 opens after `tier_escalate` of waiting.
    pub tier2_share: f64,
    pub tier_escalate: Duration,
    /// Share of calls to the skill queue, and share of agents holding its skill (levels 1–3).
    pub skill_call_share: f64,
    pub skilled_share: f64,
    pub max_no_answer: u32,
    /// How long an agent put on a no-answer break takes to come back.
    pub no_answer_break_len: Duration,
    /// Share of offers during which the phone vanishes (registration lost), and how long it stays away.
    pub vanish_p: f64,
    pub vanish_len: Duration,
    /// Share of calls whose BYE the switch loses (the ACD is not told the call ended).
    pub lost_bye_p: f64,
    /// Period of the switch's reconciliation (zero: none).
    pub reconcile_every: Duration,
    /// Direct (non-queue) calls per agent per shift, and their mean length.
    pub direct_calls_per_shift: u32,
    pub direct_call_len: Duration,
    /// From the offer to the switch's `Ringing` report.
    pub ringing_delay: Duration,
}

const fn h(x: u64) -> Duration {
    Duration::from_secs(x * 3600)
}

impl SimConfig {
    /// Shenzhen-sized: 60,000 calls, 700 agents on four overlapping shifts.
    pub fn shenzhen() -> Self {
        SimConfig {
            seed: 12345,
            calls: 60_000,
            agents: 700,
            // Quiet nights; peaks 9–11 and 14–17 (typical 12345 traffic).
            hourly_curve: [
                1.0, 0.6, 0.4, 0.3, 0.3, 0.5, 1.0, 2.5, 5.0, 7.5, 8.0, 7.0, 4.5, 5.0, 7.0, 7.5,
                7.0, 5.0, 3.5, 3.0, 2.5, 2.0, 1.5, 1.2,
            ],
            arrivals: None,
            ring_timeout: Duration::from_secs(15),
            wrap_up: Duration::from_secs(10),
            talk_mean: Duration::from_secs(180),
            talk_sigma: 0.6,
            patience_mean: Some(Duration::from_secs(60)),
            ring_delay_min: Duration::from_secs(2),
            ring_delay_max: Duration::from_secs(8),
            no_answer_p: 0.03,
            reject_p: 0.01,
            late_answer_p: 0.005,
            early_wrap_end_p: 0.1,
            breaks_per_shift: 2,
            break_len: Duration::from_secs(15 * 60),
            shifts: vec![
                Shift {
                    start: h(0),
                    end: h(8),
                    share: 0.08,
                },
                Shift {
                    start: h(7),
                    end: h(16),
                    share: 0.52,
                },
                Shift {
                    start: h(12),
                    end: h(21),
                    share: 0.32,
                },
                Shift {
                    start: h(20),
                    end: h(24),
                    share: 0.08,
                },
            ],
            priority_share: 0.05,
            record_offers: false,
            audit_every: Duration::from_secs(60),
            strategy: Strategy::LongestIdle,
            tier2_share: 0.15,
            tier_escalate: Duration::from_secs(20),
            skill_call_share: 0.03,
            skilled_share: 0.1,
            max_no_answer: 3,
            no_answer_break_len: Duration::from_secs(120),
            vanish_p: 0.002,
            vanish_len: Duration::from_secs(60),
            lost_bye_p: 0.002,
            reconcile_every: Duration::from_secs(30),
            direct_calls_per_shift: 2,
            direct_call_len: Duration::from_secs(90),
            ringing_delay: Duration::from_millis(200),
        }
    }

    /// A small city: 10,000 calls, 60 agents staffed all day.
    pub fn small_city() -> Self {
        SimConfig {
            calls: 10_000,
            agents: 60,
            // Flatter than a metropolis: fewer agents cannot follow a sharp peak.
            hourly_curve: [
                1.0, 0.6, 0.4, 0.3, 0.3, 0.5, 1.0, 2.5, 4.0, 5.0, 5.2, 5.0, 4.0, 4.2, 5.0, 5.2,
                5.0, 4.2, 3.5, 3.0, 2.5, 2.0, 1.5, 1.2,
            ],
            shifts: vec![Shift {
                start: h(0),
                end: h(24),
                share: 1.0,
            }],
            ..Self::shenzhen()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfferRecord {
    pub at: Duration,
    pub call: CallRef,
    pub agent: usize,
}

#[derive(Debug, Clone, Default)]
pub struct SimReport {
    pub offered: u64,
    pub answered: u64,
    pub abandoned: u64,
    pub abandoned_within_5s: u64,
    pub answered_within_15s: u64,
    /// Offers the ACD made to agents (including ones that rang out or were rejected).
    pub agent_offers: u64,
    pub no_answers: u64,
    pub rejects: u64,
    pub late_answers: u64,
    pub breaks: u64,
    pub no_answer_breaks: u64,
    pub vanished: u64,
    pub lost_byes: u64,
    pub reconciled: u64,
    pub direct_calls: u64,
    pub strategy: Strategy,
    pub average_speed_of_answer: Duration,
    pub max_wait: Duration,
    /// Virtual time from the start of the day to the end of draining.
    pub virtual_time: Duration,
    pub events: u64,
    pub violations: Vec<Violation>,
    pub wall_time: Duration,
    pub offers: Vec<OfferRecord>,
}

impl SimReport {
    fn ratio(&self, n: u64) -> f64 {
        if self.offered == 0 {
            0.0
        } else {
            n as f64 * 100.0 / self.offered as f64
        }
    }
    /// SL-15 in percent: answered within 15 s / offered.
    pub fn sl15(&self) -> f64 {
        self.ratio(self.answered_within_15s)
    }
    /// 接通率 in percent: answered / offered.
    pub fn answer_rate(&self) -> f64 {
        self.ratio(self.answered)
    }
    pub fn abandon_rate(&self) -> f64 {
        self.ratio(self.abandoned)
    }
}

impl fmt::Display for SimReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "策略 (strategy): {}", self.strategy)?;
        writeln!(
            f,
            "呼入 (offered): {}   接通 (answered): {}   放弃 (abandoned): {} (5 秒内 within 5 s: {})",
            self.offered, self.answered, self.abandoned, self.abandoned_within_5s
        )?;
        writeln!(
            f,
            "接通率 (answer rate): {:.1} %   15 秒服务水平 (SL-15): {:.1} %   放弃率 (abandon rate): {:.1} %",
            self.answer_rate(),
            self.sl15(),
            self.abandon_rate()
        )?;
        writeln!(
            f,
            "平均应答速度 (ASA): {:.1} s   最长等待 (max wait): {:.1} s",
            self.average_speed_of_answer.as_secs_f64(),
            self.max_wait.as_secs_f64()
        )?;
        writeln!(
            f,
            "坐席振铃 (agent offers): {}   未接 (no answer): {}   拒接 (rejected): {}   迟接 (late answers): {}   小休 (breaks): {}",
            self.agent_offers, self.no_answers, self.rejects, self.late_answers, self.breaks
        )?;
        writeln!(
            f,
            "未接小休 (no-answer breaks): {}   掉线 (vanished phones): {}   丢失挂机 (lost BYEs): {}   对账释放 (reconciled): {}   直拨 (direct calls): {}",
            self.no_answer_breaks, self.vanished, self.lost_byes, self.reconciled, self.direct_calls
        )?;
        writeln!(f, "违规 (invariant violations): {}", self.violations.len())?;
        for v in self.violations.iter().take(20) {
            writeln!(f, "  {v}")?;
        }
        write!(
            f,
            "耗时 (simulation took): {:.3} s wall for {:.1} h virtual, {} events",
            self.wall_time.as_secs_f64(),
            self.virtual_time.as_secs_f64() / 3600.0,
            self.events
        )
    }
}
