//! Per-interval queue and agent statistics, computed from the tickets.
//!
//! One aggregate query per call (`COUNT` / `SUM(CASE ...)` / `AVG`, identical SQL on both
//! backends), over an index on `(queue, queued_at)` or `(agent_id, answered_at)`: the cost does not
//! grow with what is returned and no rows are fetched. Timestamps compare correctly on SQLite too:
//! they are stored as UTC RFC 3339 text, whose byte order is time order.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{ts, Result, TicketError, TicketStore};

/// Statistics of one queue over `[from, to)`, from tickets with that `queue` whose `queued_at`
/// falls in the interval (a call moved to another queue counts under the queue its ticket names
/// last). Waits are the tickets' `wait_secs` (queue entry to answer / hang-up).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct IntervalStats {
    pub queue: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Tickets queued in the interval. A callback dialed later is only offered again if its
    /// call gets a ticket with a queue of its own. SOS calls escalated to a partner (disposition
    /// `handed_off`) are offered: they reached the queue and no agent took them, which the answer
    /// rate should show.
    pub offered: u64,
    /// Offered tickets with `answered_at` set (an agent picked up). `handed_off` tickets are not
    /// answered: nobody at the centre answered them, so `answered_at` is unset.
    pub answered: u64,
    /// Offered tickets with disposition `abandoned` (callback requests are not abandoned, nor are
    /// `handed_off` calls: the caller was connected to a partner, not lost).
    pub abandoned: u64,
    /// Abandoned with `wait_secs < 5` (short abandons, often excluded from abandon rates).
    pub abandoned_within_5s: u64,
    /// Answered with `wait_secs <= 15`.
    pub answered_within_15s: u64,
    /// Answered with `wait_secs <= 20`.
    pub answered_within_20s: u64,
    /// Answered with `wait_secs <= 30`.
    pub answered_within_30s: u64,
    /// 接通率 = answered / offered; `None` when nothing was offered.
    pub answer_rate: Option<f64>,
    /// SL-15 = answered_within_15s / offered; `None` when nothing was offered.
    pub service_level_15s: Option<f64>,
    /// Average speed of answer: mean `wait_secs` of answered tickets.
    pub asa_secs: Option<f64>,
    /// Mean `talk_secs` of answered tickets that have one.
    pub avg_talk_secs: Option<f64>,
    /// Mean `wrap_up_secs` of answered tickets that have one.
    pub avg_wrap_up_secs: Option<f64>,
}

/// Statistics of one agent over `[from, to)`, from tickets whose `agent_id` (the first-contact
/// owner: a transferred call counts for the agent who answered first) is the agent and whose
/// `answered_at` falls in the interval.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct AgentIntervalStats {
    pub agent: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub answered: u64,
    /// Total talk time (tickets without `talk_secs`, e.g. still in progress, add nothing).
    pub talk_secs: f64,
    /// Mean over tickets that have `talk_secs`.
    pub avg_talk_secs: Option<f64>,
    pub wrap_up_secs: f64,
    /// Mean over tickets that have `wrap_up_secs`.
    pub avg_wrap_up_secs: Option<f64>,
}

// SUM of no rows is NULL, hence the Options; counts are never negative.
#[derive(sqlx::FromRow)]
struct QueueAgg {
    offered: i64,
    answered: Option<i64>,
    abandoned: Option<i64>,
    abandoned_5: Option<i64>,
    answered_15: Option<i64>,
    answered_20: Option<i64>,
    answered_30: Option<i64>,
    asa: Option<f64>,
    avg_talk: Option<f64>,
    avg_wrap_up: Option<f64>,
}

#[derive(sqlx::FromRow)]
struct AgentAgg {
    answered: i64,
    talk: Option<f64>,
    avg_talk: Option<f64>,
    wrap_up: Option<f64>,
    avg_wrap_up: Option<f64>,
}

// `answered` tests `answered_at`, not the disposition: a call an agent answered and then handed to
// 120 stays `answered` (the agent served it), and an SOS escalation (`handed_off`) has no
// `answered_at` by definition, so it counts as offered only.
const QUEUE_STATS_SQL: &str = "SELECT \
     COUNT(*) AS offered, \
     SUM(CASE WHEN answered_at IS NOT NULL THEN 1 ELSE 0 END) AS answered, \
     SUM(CASE WHEN disposition = 'abandoned' THEN 1 ELSE 0 END) AS abandoned, \
     SUM(CASE WHEN disposition = 'abandoned' AND wait_secs < 5 THEN 1 ELSE 0 END) AS abandoned_5, \
     SUM(CASE WHEN answered_at IS NOT NULL AND wait_secs <= 15 THEN 1 ELSE 0 END) AS answered_15, \
     SUM(CASE WHEN answered_at IS NOT NULL AND wait_secs <= 20 THEN 1 ELSE 0 END) AS answered_20, \
     SUM(CASE WHEN answered_at IS NOT NULL AND wait_secs <= 30 THEN 1 ELSE 0 END) AS answered_30, \
     AVG(CASE WHEN answered_at IS NOT NULL THEN wait_secs END) AS asa, \
     AVG(CASE WHEN answered_at IS NOT NULL THEN talk_secs END) AS avg_talk, \
     AVG(CASE WHEN answered_at IS NOT NULL THEN wrap_up_secs END) AS avg_wrap_up \
     FROM tickets WHERE queue = $1 AND queued_at >= $2 AND queued_at < $3";

const AGENT_STATS_SQL: &str = "SELECT \
     COUNT(*) AS answered, \
     SUM(talk_secs) AS talk, \
     AVG(talk_secs) AS avg_talk, \
     SUM(wrap_up_secs) AS wrap_up, \
     AVG(wrap_up_secs) AS avg_wrap_up \
     FROM tickets WHERE agent_id = $1 AND answered_at >= $2 AND answered_at < $3";

/// `[from, to)` with PostgreSQL's precision; `to` before `from` is a caller error (400 in the API).
fn interval(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    if to < from {
        return Err(TicketError::InvalidFilter(format!(
            "to ({}) is before from ({})",
            to.to_rfc3339(),
            from.to_rfc3339()
        )));
    }
    Ok((ts(from), ts(to)))
}

fn count(n: Option<i64>) -> u64 {
    n.and_then(|n| u64::try_from(n).ok()).unwrap_or(0)
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

impl TicketStore {
    /// Statistics of `queue` for tickets queued in `[from, to)` (see [`IntervalStats`]).
    /// [`TicketError::InvalidFilter`] if `to` is before `from`.
    pub async fn queue_interval_stats(
        &self,
        queue: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<IntervalStats> {
        let (from, to) = interval(from, to)?;
        let a: QueueAgg = with_pool!(self, p => {
            sqlx::query_as::<_, QueueAgg>(QUEUE_STATS_SQL)
                .bind(queue)
                .bind(from)
                .bind(to)
                .fetch_one(p)
                .await?
        });
        let offered = count(Some(a.offered));
        let answered = count(a.answered);
        let answered_within_15s = count(a.answered_15);
        Ok(IntervalStats {
            queue: queue.to_string(),
            from,
            to,
            offered,
            answered,
            abandoned: count(a.abandoned),
            abandoned_within_5s: count(a.abandoned_5),
            answered_within_15s,
            answered_within_20s: count(a.answered_20),
            answered_within_30s: count(a.answered_30),
            answer_rate: ratio(answered, offered),
            service_level_15s: ratio(answered_within_15s, offered),
            asa_secs: a.asa,
            avg_talk_secs: a.avg_talk,
            avg_wrap_up_secs: a.avg_wrap_up,
        })
    }

    /// Statistics of `agent` for tickets it answered in `[from, to)` (see [`AgentIntervalStats`]).
    /// [`TicketError::InvalidFilter`] if `to` is before `from`.
    pub async fn agent_interval_stats(
        &self,
        agent: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<AgentIntervalStats> {
        let (from, to) = interval(from, to)?;
        let a: AgentAgg = with_pool!(self, p => {
            sqlx::query_as::<_, AgentAgg>(AGENT_STATS_SQL)
                .bind(agent)
                .bind(from)
                .bind(to)
                .fetch_one(p)
                .await?
        });
        Ok(AgentIntervalStats {
            agent: agent.to_string(),
            from,
            to,
            answered: count(Some(a.answered)),
            talk_secs: a.talk.unwrap_or(0.0),
            avg_talk_secs: a.avg_talk,
            wrap_up_secs: a.wrap_up.unwrap_or(0.0),
            avg_wrap_up_secs: a.avg_wrap_up,
        })
    }
}
