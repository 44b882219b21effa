//! Emergency linkage (issue 4): every third party an agent brings into a call (三方通话) or hands the
//! call to (转接), and every SOS escalation, is one [`Handoff`] row on the call's ticket.
//!
//! The store only records what the switch reports; which mode follows which and when a row is
//! closed are the switch's business (any field may be set at any time, like callbacks).

use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;

use crate::{ts, Result, TicketError, TicketStore};

text_enum! {
    /// How the third party was brought in. May change during the handoff (e.g. a three-way call
    /// becomes a transfer when the agent leaves).
    pub enum HandoffMode ("handoff mode") {
        /// Agent, citizen and partner talk together.
        ThreeWay = "three_way",
        /// The call is handed over without the agent waiting for the partner to answer.
        BlindTransfer = "blind_transfer",
        /// The agent talks to the partner first, then hands the call over.
        AttendedTransfer = "attended_transfer",
        /// No agent answered an SOS call: the switch connected the partner itself.
        Escalation = "escalation",
    }
}

text_enum! {
    pub enum HandoffOutcome ("handoff outcome") {
        /// The partner answered and is (or was) connected to the citizen.
        Connected = "connected",
        Busy = "busy",
        NoAnswer = "no_answer",
        Failed = "failed",
        /// Abandoned before the partner answered (by the agent or because the citizen hung up).
        Cancelled = "cancelled",
        /// The partner's part of the call is over after a connection.
        Completed = "completed",
    }
}

/// Partners a handoff may name: the emergency services (120 ambulance, 110 police, 119 fire,
/// 122 traffic police) and `other` for any other number.
pub const HANDOFF_PARTNERS: &[&str] = &["120", "110", "119", "122", "other"];

/// Longest accepted dialled number (a SIP user part of a phone number; more is a caller bug).
const MAX_NUMBER_CHARS: usize = 64;

#[derive(Clone, Debug)]
pub struct NewHandoff {
    pub ticket_id: i64,
    /// One of [`HANDOFF_PARTNERS`].
    pub partner: String,
    /// The number dialled (e.g. `120`, or a hospital's direct line).
    pub number: String,
    pub mode: HandoffMode,
    /// The agent who brought the partner in; `None` for an automatic SOS escalation.
    pub agent_id: Option<String>,
    pub dialled_at: DateTime<Utc>,
}

/// Changes of [`TicketStore::update_handoff`]; `None` leaves the stored value alone.
#[derive(Clone, Debug, Default)]
pub struct HandoffUpdate {
    pub answered_at: Option<DateTime<Utc>>,
    pub agent_left_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub outcome: Option<HandoffOutcome>,
    pub mode: Option<HandoffMode>,
    /// Replaces the stored detail as a whole.
    pub detail: Option<serde_json::Value>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Handoff {
    pub id: i64,
    pub ticket_id: i64,
    /// `120`, `110`, `119`, `122` or `other`.
    pub partner: String,
    pub number: String,
    pub mode: HandoffMode,
    pub agent_id: Option<String>,
    pub dialled_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    /// When the agent dropped out of a three-way call, leaving citizen and partner connected.
    pub agent_left_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// `None` while the partner is being dialled.
    pub outcome: Option<HandoffOutcome>,
    /// Free-form JSON from the switch (e.g. SIP status, reason).
    pub detail: Option<serde_json::Value>,
}

#[derive(sqlx::FromRow)]
struct HandoffRow {
    id: i64,
    ticket_id: i64,
    partner: String,
    number: String,
    mode: String,
    agent_id: Option<String>,
    dialled_at: DateTime<Utc>,
    answered_at: Option<DateTime<Utc>>,
    agent_left_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    outcome: Option<String>,
    detail: Option<Json<serde_json::Value>>,
}

impl TryFrom<HandoffRow> for Handoff {
    type Error = TicketError;
    fn try_from(r: HandoffRow) -> Result<Handoff> {
        let mode = HandoffMode::from_str(&r.mode)
            .map_err(|_| TicketError::Corrupt(format!("handoff mode {:?}", r.mode)))?;
        let outcome = r
            .outcome
            .as_deref()
            .map(|o| {
                HandoffOutcome::from_str(o)
                    .map_err(|_| TicketError::Corrupt(format!("handoff outcome {o:?}")))
            })
            .transpose()?;
        Ok(Handoff {
            id: r.id,
            ticket_id: r.ticket_id,
            partner: r.partner,
            number: r.number,
            mode,
            agent_id: r.agent_id,
            dialled_at: r.dialled_at,
            answered_at: r.answered_at,
            agent_left_at: r.agent_left_at,
            ended_at: r.ended_at,
            outcome,
            detail: r.detail.map(|d| d.0),
        })
    }
}

const HANDOFF_COLUMNS: &str = "id, ticket_id, partner, number, mode, agent_id, dialled_at, \
     answered_at, agent_left_at, ended_at, outcome, detail";

fn validate(new: &NewHandoff) -> Result<()> {
    if !HANDOFF_PARTNERS.contains(&new.partner.as_str()) {
        return Err(TicketError::Invalid {
            field: "partner".into(),
            reason: format!(
                "unknown partner {:?} (expected {})",
                new.partner,
                HANDOFF_PARTNERS.join(", ")
            ),
        });
    }
    let number = new.number.trim();
    if number.is_empty() || number.chars().count() > MAX_NUMBER_CHARS {
        return Err(TicketError::Invalid {
            field: "number".into(),
            reason: format!("must be 1 to {MAX_NUMBER_CHARS} characters"),
        });
    }
    Ok(())
}

impl TicketStore {
    /// Records a third party being dialled on a ticket's call.
    /// [`TicketError::Invalid`] for an unknown partner or an empty number,
    /// [`TicketError::NotFound`] if `ticket_id` names no ticket.
    pub async fn create_handoff(&self, new: &NewHandoff) -> Result<Handoff> {
        validate(new)?;
        let sql = format!(
            "INSERT INTO handoffs (ticket_id, partner, number, mode, agent_id, dialled_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {HANDOFF_COLUMNS}"
        );
        let res: Result<HandoffRow, sqlx::Error> = with_pool!(self, p => {
            sqlx::query_as::<_, HandoffRow>(&sql)
                .bind(new.ticket_id)
                .bind(&new.partner)
                .bind(new.number.trim())
                .bind(new.mode.as_str())
                .bind(new.agent_id.as_deref())
                .bind(ts(new.dialled_at))
                .fetch_one(p)
                .await
        });
        match res {
            Ok(row) => row.try_into(),
            Err(e)
                if e.as_database_error()
                    .is_some_and(|d| d.is_foreign_key_violation()) =>
            {
                Err(TicketError::NotFound(new.ticket_id))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Sets the fields of `update` that are `Some`; returns the handoff as stored afterwards, or
    /// `None` if there is no such handoff.
    pub async fn update_handoff(&self, id: i64, update: HandoffUpdate) -> Result<Option<Handoff>> {
        let sql = format!(
            "UPDATE handoffs SET \
             answered_at = COALESCE($2, answered_at), \
             agent_left_at = COALESCE($3, agent_left_at), \
             ended_at = COALESCE($4, ended_at), \
             outcome = COALESCE($5, outcome), \
             mode = COALESCE($6, mode), \
             detail = COALESCE($7, detail) \
             WHERE id = $1 RETURNING {HANDOFF_COLUMNS}"
        );
        let row: Option<HandoffRow> = with_pool!(self, p => {
            sqlx::query_as::<_, HandoffRow>(&sql)
                .bind(id)
                .bind(update.answered_at.map(ts))
                .bind(update.agent_left_at.map(ts))
                .bind(update.ended_at.map(ts))
                .bind(update.outcome.map(|o| o.as_str()))
                .bind(update.mode.map(|m| m.as_str()))
                .bind(update.detail.as_ref().map(Json))
                .fetch_optional(p)
                .await?
        });
        row.map(Handoff::try_from).transpose()
    }

    /// The handoffs of a ticket, oldest first (by `dialled_at`, then `id`); empty for an unknown
    /// ticket.
    pub async fn handoffs(&self, ticket_id: i64) -> Result<Vec<Handoff>> {
        let sql = format!(
            "SELECT {HANDOFF_COLUMNS} FROM handoffs WHERE ticket_id = $1 ORDER BY dialled_at, id"
        );
        let rows: Vec<HandoffRow> = with_pool!(self, p => {
            sqlx::query_as::<_, HandoffRow>(&sql).bind(ticket_id).fetch_all(p).await?
        });
        rows.into_iter().map(Handoff::try_from).collect()
    }
}
