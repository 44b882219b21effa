//! Tickets through the workflow: intake ([`TicketStore::create_ticket`]), intake edits, actions
//! ([`TicketStore::apply`]), the SLA timer sweep ([`TicketStore::fire_due`]) and the assignment list.

use chrono::{DateTime, Duration, Utc};
use hotline_audit::NewEvent;
use hotline_workflow::{
    Action, Actor, Channel, Clock, Role, Ticket as Flow, TicketState, TicketType, Urgency,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::actor_label;
use super::audit::{audit_append, audit_lock, audit_store_head};
use super::derive::{assignment_rows, derive, stamps, state_name};
use crate::{local_day, paging, ts, Page, Paging, Result, Ticket, TicketError, TicketStore};

/// Longest free text accepted (content, request, address…), in characters.
pub const MAX_TEXT_CHARS: usize = 10_000;

/// A ticket from any channel (`POST /api/v1/tickets`). Category and area codes are checked by the caller
/// against the taxonomy; this layer stores what it is given.
#[derive(Debug, Clone)]
pub struct NewTicket {
    pub channel: Channel,
    /// The caller's phone number or account; empty when anonymous and unknown.
    pub caller: String,
    pub caller_name: Option<String>,
    pub anonymous: bool,
    pub confidential: bool,
    /// The original time of an imported contact; `now` when absent. Not in the future.
    pub received_at: Option<DateTime<Utc>>,
    pub ticket_type: TicketType,
    pub urgency: Urgency,
    pub category: Option<String>,
    pub category_major: Option<String>,
    pub area: Option<String>,
    pub district: Option<String>,
    pub address: Option<String>,
    pub content: String,
    pub request: Option<String>,
    pub tags: Vec<String>,
    /// First-contact agent (首接), if an agent took it.
    pub agent_id: Option<String>,
    /// The call it came from, for voice tickets created by hand.
    pub call_id: Option<String>,
    pub line: Option<String>,
    /// First-response deadline of text channels (e.g. received + 3 min); `None` for none.
    pub first_response: Option<Duration>,
    /// A ticket of the same caller on the same major category within this many days is linked as a repeat.
    pub repeat_window_days: u32,
    /// Accept (受理) at once; otherwise the ticket stays a draft.
    pub accept: bool,
}

/// Intake details to change while the ticket is not yet dispatched; `None` keeps the stored value.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeUpdate {
    pub ticket_type: Option<TicketType>,
    pub urgency: Option<Urgency>,
    pub category: Option<String>,
    #[serde(skip_deserializing)]
    pub category_major: Option<String>,
    pub area: Option<String>,
    #[serde(skip_deserializing)]
    pub district: Option<String>,
    pub address: Option<String>,
    pub content: Option<String>,
    pub request: Option<String>,
    pub caller_name: Option<String>,
    pub anonymous: Option<bool>,
    pub confidential: Option<bool>,
    pub tags: Option<Vec<String>>,
}

/// One workflow action on one ticket; several run in one transaction (dispatch = queue + dispatch, merge =
/// the duplicate and the master).
#[derive(Debug, Clone)]
pub struct ApplyStep {
    pub ticket: i64,
    pub action: Action,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AssignmentFilter {
    pub unit: Option<i64>,
    /// An assignment state, or `open` (dispatched, signed or replied).
    pub state: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// A row of a unit's work list: the assignment and what the unit needs of its ticket. A confidential ticket's
/// caller number is withheld.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, sqlx::FromRow)]
pub struct AssignmentItem {
    pub ticket_id: i64,
    pub number: String,
    pub idx: i32,
    pub unit_id: i64,
    pub parent_idx: Option<i32>,
    pub level: i32,
    pub role: String,
    pub state: String,
    pub dispatched_at: DateTime<Utc>,
    pub sign_due: Option<DateTime<Utc>>,
    pub resolve_due: Option<DateTime<Utc>>,
    pub signed_at: Option<DateTime<Utc>>,
    pub sign_overdue: Option<bool>,
    pub resolve_overdue: Option<bool>,
    pub pending_requests: i32,
    pub ticket_state: String,
    pub ticket_type: Option<String>,
    pub urgency: String,
    pub category: Option<String>,
    pub area: Option<String>,
    pub address: Option<String>,
    pub content: Option<String>,
    pub request: Option<String>,
    pub caller: String,
}

/// What an action needs of the stored ticket.
#[derive(sqlx::FromRow)]
struct FlowRow {
    id: i64,
    number: String,
    channel: String,
    created_at: DateTime<Utc>,
    received_at: Option<DateTime<Utc>>,
    ticket_type: Option<String>,
    urgency: String,
    state: String,
    workflow: Option<String>,
    closed_at: Option<DateTime<Utc>>,
}

const FLOW_SELECT: &str =
    "SELECT id, number, channel, created_at, received_at, ticket_type, urgency, \
     state, workflow, closed_at FROM tickets WHERE id = $1";

/// The intake columns, for the before/after of an edit's audit event.
#[derive(sqlx::FromRow, Serialize)]
struct IntakeRow {
    ticket_type: Option<String>,
    urgency: String,
    category: Option<String>,
    area: Option<String>,
    address: Option<String>,
    content: Option<String>,
    request: Option<String>,
    caller_name: Option<String>,
    anonymous: bool,
    confidential: bool,
    tags: Option<String>,
}

/// A serde enum from its snake_case name.
fn parse_name<T: DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(Value::String(s.to_string())).ok()
}

/// The snake_case name of a serde enum.
pub(crate) fn name_of<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

fn is_centre(actor: &Actor) -> bool {
    matches!(actor.role, Role::Admin | Role::Agent | Role::Supervisor)
}

fn invalid(field: &str, reason: impl Into<String>) -> TicketError {
    TicketError::Invalid {
        field: field.into(),
        reason: reason.into(),
    }
}

fn check_text(field: &str, v: Option<&str>) -> Result<()> {
    if v.is_some_and(|s| s.chars().count() > MAX_TEXT_CHARS) {
        return Err(invalid(
            field,
            format!("at most {MAX_TEXT_CHARS} characters"),
        ));
    }
    Ok(())
}

/// The stored snapshot, or a fresh one for a ticket that has none yet (a voice ticket being filled in).
fn snapshot(row: &FlowRow) -> Result<Flow> {
    if let Some(w) = &row.workflow {
        return serde_json::from_str(w)
            .map_err(|e| TicketError::Corrupt(format!("ticket {} workflow: {e}", row.id)));
    }
    let ticket_type = row
        .ticket_type
        .as_deref()
        .and_then(parse_name::<TicketType>)
        .ok_or_else(|| {
            invalid(
                "ticket_type",
                "set the ticket type (PATCH /api/v1/tickets/{id}) before acting on it",
            )
        })?;
    let channel = parse_name::<Channel>(&row.channel).unwrap_or(Channel::Other);
    let urgency = parse_name::<Urgency>(&row.urgency).unwrap_or(Urgency::Normal);
    let mut flow = Flow::new(
        row.number.clone(),
        channel,
        ticket_type,
        urgency,
        row.received_at.unwrap_or(row.created_at),
    );
    if let Some(state) = parse_name::<TicketState>(&row.state) {
        flow.state = state;
    }
    Ok(flow)
}

/// Rewrites the snapshot, the columns derived from it and the ticket's assignment rows, inside `$tx`.
macro_rules! persist_flow {
    ($tx:expr, $id:expr, $flow:expr, $events:expr, $old_closed_at:expr, $centre:expr, $now:expr, $top:expr) => {{
        let flow: &Flow = $flow;
        let now: DateTime<Utc> = $now;
        let d = derive(flow, now, $top);
        let st = stamps(flow, $events, now);
        let closed_at = match flow.state {
            TicketState::Closed | TicketState::Archived => st.closed_at.or($old_closed_at),
            _ => None,
        };
        let workflow = serde_json::to_string(flow)
            .map_err(|e| TicketError::Corrupt(format!("workflow snapshot: {e}")))?;
        sqlx::query(
            "UPDATE tickets SET workflow = $2, state = $3, lead_unit = $4, dispatched_at = $5, sign_due = $6, \
             signed_at = $7, sign_overdue = $8, resolve_due = $9, resolve_overdue = $10, \
             returns_approved = $11, extensions_approved = $12, callback_reached = $13, caller_resolved = $14, \
             satisfied = $15, satisfied_strict = $16, reopen_count = $17, closed_at_intake = $18, \
             next_timeout = $19, replied_at = COALESCE($20, replied_at), callback_at = COALESCE($21, callback_at), \
             closed_at = $22, first_response_at = COALESCE(first_response_at, $23), updated_at = $24, \
             ticket_type = $25, urgency = $26 WHERE id = $1",
        )
        .bind($id)
        .bind(workflow)
        .bind(d.state)
        .bind(d.lead_unit)
        .bind(d.dispatched_at)
        .bind(d.sign_due)
        .bind(d.signed_at)
        .bind(d.sign_overdue)
        .bind(d.resolve_due)
        .bind(d.resolve_overdue)
        .bind(d.returns_approved)
        .bind(d.extensions_approved)
        .bind(d.callback_reached)
        .bind(d.caller_resolved)
        .bind(d.satisfied)
        .bind(d.satisfied_strict)
        .bind(d.reopen_count)
        .bind(d.closed_at_intake)
        .bind(d.next_timeout)
        .bind(st.replied_at)
        .bind(st.callback_at)
        .bind(closed_at)
        .bind(if $centre { Some(now) } else { None })
        .bind(now)
        .bind(name_of(&flow.ticket_type))
        .bind(name_of(&flow.urgency))
        .execute(&mut *$tx)
        .await?;
        sqlx::query("DELETE FROM assignments WHERE ticket_id = $1")
            .bind($id)
            .execute(&mut *$tx)
            .await?;
        for a in assignment_rows(flow, now) {
            sqlx::query(
                "INSERT INTO assignments (ticket_id, idx, unit_id, parent_idx, level, role, state, \
                 dispatched_at, sign_due, resolve_due, signed_at, sign_overdue, resolve_overdue, \
                 pending_requests) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            )
            .bind($id)
            .bind(a.idx)
            .bind(a.unit_id)
            .bind(a.parent_idx)
            .bind(a.level)
            .bind(a.role)
            .bind(a.state)
            .bind(a.dispatched_at)
            .bind(a.sign_due)
            .bind(a.resolve_due)
            .bind(a.signed_at)
            .bind(a.sign_overdue)
            .bind(a.resolve_overdue)
            .bind(a.pending_requests)
            .execute(&mut *$tx)
            .await?;
        }
    }};
}

impl TicketStore {
    /// Creates a ticket from any channel, numbered like voice tickets, optionally accepted at once, linked to
    /// an earlier ticket of the same caller and major category within the repeat window (重复来电), and
    /// audited — all in one transaction.
    pub async fn create_ticket(
        &self,
        new: NewTicket,
        actor: &Actor,
        now: DateTime<Utc>,
        clock: &(dyn Clock + Sync),
    ) -> Result<Ticket> {
        let now = ts(now);
        if !is_centre(actor) {
            return Err(TicketError::Workflow(
                hotline_workflow::WorkflowError::Forbidden(
                    "only centre staff may register tickets".into(),
                ),
            ));
        }
        if new.content.trim().is_empty() {
            return Err(invalid("content", "must not be empty"));
        }
        check_text("content", Some(&new.content))?;
        check_text("request", new.request.as_deref())?;
        check_text("address", new.address.as_deref())?;
        if new.caller.chars().count() > 64 {
            return Err(invalid("caller", "at most 64 characters"));
        }
        if new.tags.len() > 20 || new.tags.iter().any(|t| t.chars().count() > 40) {
            return Err(invalid("tags", "at most 20 tags of at most 40 characters"));
        }
        let received_at = ts(new.received_at.unwrap_or(now));
        // A little slack for clocks of other systems; a contact from the future is a data error.
        if received_at > now + Duration::minutes(5) {
            return Err(invalid("received_at", "is in the future"));
        }
        let mut flow = Flow::new(
            String::new(),
            new.channel,
            new.ticket_type,
            new.urgency,
            received_at,
        );
        let day = local_day(now);
        let label = actor_label(actor);
        let channel = name_of(&new.channel);
        let tags = serde_json::to_string(&new.tags).unwrap_or_else(|_| "[]".into());
        let first_response_due = new.first_response.map(|d| received_at + d);
        let repeat_since = received_at - Duration::days(i64::from(new.repeat_window_days));
        let id: i64 = with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let mut chain = audit_lock!(tx);
            let number = next_ticket_number!(tx, day);
            flow.number = number.clone();
            // Text channels owe the citizen a first response within minutes: a clock from receipt that the
            // first centre action (accept, close at intake…) stops.
            let mut events = match first_response_due {
                Some(due) => flow.start_first_response(due),
                None => Vec::new(),
            };
            if new.accept {
                events.extend(flow.apply(Action::Accept, actor, now, clock)?);
            }
            let repeat_of: Option<i64> = if new.anonymous
                || new.caller.is_empty()
                || new.category_major.is_none()
                || new.repeat_window_days == 0
            {
                None
            } else {
                sqlx::query_scalar(
                    "SELECT id FROM tickets WHERE caller = $1 AND category_major = $2 \
                     AND received_at >= $3 AND received_at <= $4 ORDER BY received_at DESC, id DESC LIMIT 1",
                )
                .bind(&new.caller)
                .bind(&new.category_major)
                .bind(repeat_since)
                .bind(received_at)
                .fetch_optional(&mut *tx)
                .await?
            };
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO tickets (number, channel, caller, line, call_id, created_at, agent_id, category, \
                 category_major, area, district, address, content, request, caller_name, anonymous, \
                 confidential, tags, received_at, repeat_of, first_response_due) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
                 $20, $21) RETURNING id",
            )
            .bind(&number)
            .bind(&channel)
            .bind(&new.caller)
            .bind(new.line.as_deref().unwrap_or(""))
            .bind(new.call_id.as_deref().unwrap_or(""))
            .bind(now)
            .bind(&new.agent_id)
            .bind(&new.category)
            .bind(&new.category_major)
            .bind(&new.area)
            .bind(&new.district)
            .bind(&new.address)
            .bind(&new.content)
            .bind(&new.request)
            .bind(&new.caller_name)
            .bind(new.anonymous)
            .bind(new.confidential)
            .bind(&tags)
            .bind(received_at)
            .bind(repeat_of)
            .bind(first_response_due)
            .fetch_one(&mut *tx)
            .await?;
            persist_flow!(tx, id, &flow, &events, None, new.accept, now, None);
            audit_append!(tx, chain, NewEvent {
                at: now,
                actor: label.clone(),
                entity: format!("ticket:{number}"),
                action: "create".into(),
                before: Value::Null,
                after: json!({
                    "number": number,
                    "channel": channel,
                    "state": state_name(flow.state),
                    "ticket_type": name_of(&new.ticket_type),
                    "urgency": name_of(&new.urgency),
                    "category": new.category,
                    "area": new.area,
                    "received_at": received_at,
                    "repeat_of": repeat_of,
                }),
            });
            audit_store_head!(tx, chain);
            tx.commit().await?;
            id
        });
        self.get(id)
            .await?
            .map(|d| d.ticket)
            .ok_or(TicketError::NotFound(id))
    }

    /// Changes intake details of a ticket that is not yet dispatched (draft, accepted, pending dispatch).
    pub async fn update_intake(
        &self,
        id: i64,
        upd: IntakeUpdate,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let now = ts(now);
        if !is_centre(actor) {
            return Err(TicketError::Workflow(
                hotline_workflow::WorkflowError::Forbidden(
                    "only centre staff may edit intake details".into(),
                ),
            ));
        }
        if upd.content.as_deref().is_some_and(|c| c.trim().is_empty()) {
            return Err(invalid("content", "must not be empty"));
        }
        check_text("content", upd.content.as_deref())?;
        check_text("request", upd.request.as_deref())?;
        check_text("address", upd.address.as_deref())?;
        let label = actor_label(actor);
        let tags = upd
            .tags
            .as_ref()
            .map(|t| serde_json::to_string(t).unwrap_or_else(|_| "[]".into()));
        let intake_sql =
            "SELECT ticket_type, urgency, category, area, address, content, request, caller_name, \
                          anonymous, confidential, tags FROM tickets WHERE id = $1";
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let mut chain = audit_lock!(tx);
            let row: FlowRow = sqlx::query_as(FLOW_SELECT)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(TicketError::NotFound(id))?;
            if !matches!(row.state.as_str(), "draft" | "accepted" | "pending_dispatch") {
                return Err(TicketError::Workflow(hotline_workflow::WorkflowError::Conflict(format!(
                    "intake details are fixed once a ticket is dispatched (state {})",
                    row.state
                ))));
            }
            let before: IntakeRow = sqlx::query_as(intake_sql).bind(id).fetch_one(&mut *tx).await?;
            sqlx::query(
                "UPDATE tickets SET ticket_type = COALESCE($2, ticket_type), urgency = COALESCE($3, urgency), \
                 category = COALESCE($4, category), category_major = COALESCE($5, category_major), \
                 area = COALESCE($6, area), district = COALESCE($7, district), address = COALESCE($8, address), \
                 content = COALESCE($9, content), request = COALESCE($10, request), \
                 caller_name = COALESCE($11, caller_name), anonymous = COALESCE($12, anonymous), \
                 confidential = COALESCE($13, confidential), tags = COALESCE($14, tags), updated_at = $15 \
                 WHERE id = $1",
            )
            .bind(id)
            .bind(upd.ticket_type.as_ref().map(name_of))
            .bind(upd.urgency.as_ref().map(name_of))
            .bind(&upd.category)
            .bind(&upd.category_major)
            .bind(&upd.area)
            .bind(&upd.district)
            .bind(&upd.address)
            .bind(&upd.content)
            .bind(&upd.request)
            .bind(&upd.caller_name)
            .bind(upd.anonymous)
            .bind(upd.confidential)
            .bind(&tags)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            // The snapshot carries type and urgency too: they pick the deadlines at dispatch.
            if row.workflow.is_some() && (upd.ticket_type.is_some() || upd.urgency.is_some()) {
                let mut flow = snapshot(&row)?;
                if let Some(t) = upd.ticket_type {
                    flow.ticket_type = t;
                }
                if let Some(u) = upd.urgency {
                    flow.urgency = u;
                }
                let w = serde_json::to_string(&flow)
                    .map_err(|e| TicketError::Corrupt(format!("workflow snapshot: {e}")))?;
                sqlx::query("UPDATE tickets SET workflow = $2 WHERE id = $1")
                    .bind(id)
                    .bind(w)
                    .execute(&mut *tx)
                    .await?;
            }
            let after: IntakeRow = sqlx::query_as(intake_sql).bind(id).fetch_one(&mut *tx).await?;
            audit_append!(tx, chain, NewEvent {
                at: now,
                actor: label,
                entity: format!("ticket:{}", row.number),
                action: "edit".into(),
                before: serde_json::to_value(&before).unwrap_or(Value::Null),
                after: serde_json::to_value(&after).unwrap_or(Value::Null),
            });
            audit_store_head!(tx, chain);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Applies `steps` in order in one transaction: all of them or, if the workflow refuses one, none.
    /// `top_grade` is the best grade code of the centre's scale (for the strict satisfaction rate).
    pub async fn apply(
        &self,
        steps: Vec<ApplyStep>,
        actor: &Actor,
        now: DateTime<Utc>,
        clock: &(dyn Clock + Sync),
        top_grade: Option<&str>,
    ) -> Result<()> {
        let now = ts(now);
        let label = actor_label(actor);
        let centre = is_centre(actor);
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let mut chain = audit_lock!(tx);
            for step in steps {
                let row: FlowRow = sqlx::query_as(FLOW_SELECT)
                    .bind(step.ticket)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(TicketError::NotFound(step.ticket))?;
                let mut flow = snapshot(&row)?;
                let before = flow.state;
                let name = step.action.name();
                let events = flow.apply(step.action, actor, now, clock)?;
                persist_flow!(tx, row.id, &flow, &events, row.closed_at, centre, now, top_grade);
                audit_append!(tx, chain, NewEvent {
                    at: now,
                    actor: label.clone(),
                    entity: format!("ticket:{}", row.number),
                    action: name.into(),
                    before: json!({ "state": state_name(before) }),
                    after: json!({ "state": state_name(flow.state), "events": events }),
                });
            }
            audit_store_head!(tx, chain);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Fires the warnings and automatic supervision (催办/督办/通报) due by `now` on at most `limit` tickets and
    /// refreshes their overdue flags. Returns how many tickets were looked at; call again while it equals
    /// `limit`. Each ticket is its own transaction, so a long sweep never holds the write lock for long.
    pub async fn fire_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        top_grade: Option<&str>,
    ) -> Result<usize> {
        let now = ts(now);
        let ids: Vec<i64> = with_pool!(self, p => sqlx::query_scalar(
            "SELECT id FROM tickets WHERE next_timeout <= $1 ORDER BY next_timeout LIMIT $2"
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(p)
        .await?);
        let system = super::system_actor();
        for id in &ids {
            with_pool!(self, p => {
                let mut tx = p.begin().await?;
                let mut chain = audit_lock!(tx);
                let row: Option<FlowRow> = sqlx::query_as(FLOW_SELECT)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(row) = row else { continue };
                let Some(mut flow) = row.workflow.as_ref().map(|_| snapshot(&row)).transpose()? else {
                    continue;
                };
                let before = flow.state;
                let events = flow.handle_timeout(now);
                persist_flow!(tx, row.id, &flow, &events, row.closed_at, false, now, top_grade);
                if !events.is_empty() {
                    audit_append!(tx, chain, NewEvent {
                        at: now,
                        actor: actor_label(&system).replace("admin:", "system:"),
                        entity: format!("ticket:{}", row.number),
                        action: "sla".into(),
                        before: json!({ "state": state_name(before) }),
                        after: json!({ "state": state_name(flow.state), "events": events }),
                    });
                    audit_store_head!(tx, chain);
                }
                tx.commit().await?;
            });
        }
        Ok(ids.len())
    }

    /// The workflow snapshot (assignments, requests, clocks, supervision, callbacks), if the ticket has one.
    pub async fn workflow(&self, id: i64) -> Result<Option<Flow>> {
        let row: Option<FlowRow> =
            with_pool!(self, p => sqlx::query_as(FLOW_SELECT).bind(id).fetch_optional(p).await?);
        match row {
            Some(r) if r.workflow.is_some() => snapshot(&r).map(Some),
            _ => Ok(None),
        }
    }

    /// The id of the ticket numbered `number`.
    pub async fn id_of_number(&self, number: &str) -> Result<Option<i64>> {
        Ok(
            with_pool!(self, p => sqlx::query_scalar("SELECT id FROM tickets WHERE number = $1")
            .bind(number)
            .fetch_optional(p)
            .await?),
        )
    }

    /// The id of the unit with `code`.
    pub async fn unit_id_by_code(&self, code: &str) -> Result<Option<i64>> {
        Ok(
            with_pool!(self, p => sqlx::query_scalar("SELECT id FROM units WHERE code = $1")
            .bind(code)
            .fetch_optional(p)
            .await?),
        )
    }

    /// Whether `unit` holds (or held) an assignment on the ticket: what a liaison may see.
    pub async fn unit_has_ticket(&self, unit: i64, ticket: i64) -> Result<bool> {
        let n: i64 = with_pool!(self, p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM assignments WHERE ticket_id = $1 AND unit_id = $2"
        )
        .bind(ticket)
        .bind(unit)
        .fetch_one(p)
        .await?);
        Ok(n > 0)
    }

    /// Assignments, most urgent (earliest resolve due) first.
    pub async fn list_assignments(&self, f: &AssignmentFilter) -> Result<Page<AssignmentItem>> {
        let Paging {
            page,
            per_page,
            offset,
        } = paging(f.page, f.per_page)?;
        let state = f.state.as_deref().filter(|s| !s.is_empty());
        let cond = "($1 IS NULL OR a.unit_id = $1) AND ($2 IS NULL OR a.state = $2 \
                    OR ($2 = 'open' AND a.state IN ('dispatched', 'signed', 'replied')))";
        let count_sql = format!("SELECT COUNT(*) FROM assignments a WHERE {cond}");
        let list_sql = format!(
            "SELECT a.ticket_id, t.number, a.idx, a.unit_id, a.parent_idx, a.level, a.role, a.state, \
             a.dispatched_at, a.sign_due, a.resolve_due, a.signed_at, a.sign_overdue, a.resolve_overdue, \
             a.pending_requests, t.state AS ticket_state, t.ticket_type, t.urgency, t.category, t.area, \
             t.address, t.content, t.request, \
             CASE WHEN t.confidential THEN '' ELSE t.caller END AS caller \
             FROM assignments a JOIN tickets t ON t.id = a.ticket_id WHERE {cond} \
             ORDER BY a.resolve_due, a.ticket_id, a.idx LIMIT $3 OFFSET $4"
        );
        let (total, items): (i64, Vec<AssignmentItem>) = with_pool!(self, p => {
            let total: i64 = sqlx::query_scalar(&count_sql)
                .bind(f.unit)
                .bind(state)
                .fetch_one(p)
                .await?;
            let items = sqlx::query_as(&list_sql)
                .bind(f.unit)
                .bind(state)
                .bind(i64::from(per_page))
                .bind(offset)
                .fetch_all(p)
                .await?;
            (total, items)
        });
        Ok(Page {
            items,
            page,
            per_page,
            total: u64::try_from(total).unwrap_or(0),
        })
    }
}
