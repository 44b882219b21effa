//! A call's ticket after creation: updates and interaction-log entries, applied in order by one writer
//! task per call so that a slow database never holds up call signalling.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use hotline_tickets::{CallUpdate, Disposition, HandoffUpdate, NewHandoff};
use tokio::sync::mpsc;
use tracing::warn;

use crate::call::now_utc;
use crate::Ctx;

/// A change to a call's ticket after it was created.
pub(crate) enum TicketWrite {
    Update(CallUpdate),
    Interaction {
        at: DateTime<Utc>,
        kind: String,
        detail: serde_json::Value,
    },
    /// A third party was dialled; `key` names the row in later [`TicketWrite::Handoff`]s.
    NewHandoff {
        key: u32,
        handoff: NewHandoff,
    },
    Handoff {
        key: u32,
        update: HandoffUpdate,
    },
}

/// One writer per call applies the ticket's updates in order. Creation is awaited by the call (the
/// ticket exists before the call is answered); what follows must not hold up signalling when the
/// database is slow. The writer counts as an active call, so shutdown waits for it to flush.
pub(crate) fn spawn_ticket_writer(
    ctx: Arc<Ctx>,
    ticket: i64,
) -> mpsc::UnboundedSender<TicketWrite> {
    let (tx, mut rx) = mpsc::unbounded_channel::<TicketWrite>();
    ctx.active_calls.fetch_add(1, Ordering::SeqCst);
    tokio::spawn(async move {
        // Handoff keys of this call → row ids (written in order, so a row exists before its updates).
        let mut handoffs: HashMap<u32, i64> = HashMap::new();
        while let Some(write) = rx.recv().await {
            let result = match write {
                TicketWrite::NewHandoff { key, handoff } => {
                    ctx.tickets.create_handoff(&handoff).await.map(|h| {
                        handoffs.insert(key, h.id);
                    })
                }
                TicketWrite::Handoff { key, update } => match handoffs.get(&key) {
                    Some(&id) => ctx.tickets.update_handoff(id, update).await.map(|_| ()),
                    None => Ok(()),
                },
                TicketWrite::Update(u) => ctx.tickets.update_call(ticket, u).await.map(|_| ()),
                TicketWrite::Interaction { at, kind, detail } => ctx
                    .tickets
                    .add_interaction(ticket, at, &kind, detail)
                    .await
                    .map(|_| ()),
            };
            if let Err(e) = result {
                warn!(ticket, "ticket write failed: {e}");
            }
        }
        ctx.active_calls.fetch_sub(1, Ordering::SeqCst);
    });
    tx
}

/// Closes the ticket of a call the switch could not take (no common codec, no media port).
pub(crate) async fn ticket_failed(ctx: &Ctx, ticket_id: i64) {
    let update = CallUpdate {
        ended_at: Some(now_utc()),
        disposition: Some(Disposition::Failed),
        ..Default::default()
    };
    if let Err(e) = ctx.tickets.update_call(ticket_id, update).await {
        warn!("ticket update failed: {e}");
    }
}
