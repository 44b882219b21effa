//! What partner-enterprise scorecards (考核) are computed from: per partner unit, the tickets it led in a period
//! (complaints, finished, on time, graded, satisfied) and its bad records (an overdue ticket at its due time; a
//! callback the unit was blamed for, which reopened the ticket, at the callback). The card and ranking rules
//! themselves are pure (`hotline_workflow::scorecard`).

use chrono::{DateTime, Utc};
use hotline_workflow::{BadRecord, BadRecordKind, PartnerTally};

use crate::{Result, TicketStore};

/// One partner unit's figures for the period.
#[derive(Debug, Clone, PartialEq)]
pub struct PartnerFacts {
    pub unit_id: i64,
    pub code: String,
    pub name: String,
    pub tally: PartnerTally,
}

#[derive(sqlx::FromRow)]
struct TallyRow {
    id: i64,
    code: String,
    name: String,
    complaints: i64,
    finished: i64,
    on_time: i64,
    graded: i64,
    satisfied: i64,
}

#[derive(sqlx::FromRow)]
struct RecordRow {
    code: String,
    number: String,
    resolve_due: Option<DateTime<Utc>>,
    resolve_overdue: Option<bool>,
    reopen_count: i32,
    callback_at: Option<DateTime<Utc>>,
}

fn count(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl TicketStore {
    /// Tallies of every active partner unit over tickets received in `[from, to)`, by unit code; partners
    /// without tickets get zeros (they are still scored: nothing finished means no rank).
    pub async fn partner_facts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(Vec<PartnerFacts>, Vec<BadRecord>)> {
        // Booleans are bound rather than written as literals: SQLite stores 0/1, PostgreSQL has BOOLEAN.
        let tally_sql = "SELECT u.id, u.code, u.name, \
             COUNT(CASE WHEN t.ticket_type = 'complaint' THEN 1 END) AS complaints, \
             COUNT(t.replied_at) AS finished, \
             COUNT(CASE WHEN t.replied_at IS NOT NULL AND t.resolve_overdue = $3 THEN 1 END) AS on_time, \
             COUNT(t.satisfied) AS graded, \
             COUNT(CASE WHEN t.satisfied = $4 THEN 1 END) AS satisfied \
             FROM units u LEFT JOIN tickets t ON t.lead_unit = u.id \
             AND t.received_at >= $1 AND t.received_at < $2 \
             WHERE u.partner = $4 AND u.active = $4 GROUP BY u.id, u.code, u.name ORDER BY u.code";
        let record_sql =
            "SELECT u.code, t.number, t.resolve_due, t.resolve_overdue, t.reopen_count, \
             t.callback_at FROM tickets t JOIN units u ON u.id = t.lead_unit \
             WHERE u.partner = $3 AND t.received_at >= $1 AND t.received_at < $2 \
             AND (t.resolve_overdue = $3 OR t.reopen_count > 0) ORDER BY t.id";
        let (tallies, rows): (Vec<TallyRow>, Vec<RecordRow>) = with_pool!(self, p => {
            let tallies = sqlx::query_as(tally_sql)
                .bind(from)
                .bind(to)
                .bind(false)
                .bind(true)
                .fetch_all(p)
                .await?;
            let rows = sqlx::query_as(record_sql)
                .bind(from)
                .bind(to)
                .bind(true)
                .fetch_all(p)
                .await?;
            (tallies, rows)
        });
        let facts = tallies
            .into_iter()
            .map(|r| PartnerFacts {
                unit_id: r.id,
                tally: PartnerTally {
                    unit: r.code.clone(),
                    complaints: count(r.complaints),
                    finished: count(r.finished),
                    on_time: count(r.on_time),
                    graded: count(r.graded),
                    satisfied: count(r.satisfied),
                },
                code: r.code,
                name: r.name,
            })
            .collect();
        let mut records = Vec::new();
        for r in rows {
            if let (Some(true), Some(due)) = (r.resolve_overdue, r.resolve_due) {
                records.push(BadRecord {
                    unit: r.code.clone(),
                    at: due,
                    kind: BadRecordKind::Overdue,
                    ticket: r.number.clone(),
                });
            }
            if let (true, Some(at)) = (r.reopen_count > 0, r.callback_at) {
                records.push(BadRecord {
                    unit: r.code.clone(),
                    at,
                    kind: BadRecordKind::UnsatisfiedByUnit,
                    ticket: r.number.clone(),
                });
            }
        }
        records.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.unit.cmp(&b.unit)));
        Ok((facts, records))
    }
}
