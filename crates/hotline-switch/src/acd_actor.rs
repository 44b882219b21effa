//! The ACD actor: the single owner of the pure ACD core. Offers and withdrawals go to the call task that
//! attached the call; agent views are served to the HTTP API from here, so nothing else locks agent state.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::Utc;
use futures::future::BoxFuture;
use hotline_acd::stats::{AgentLiveStats, QueueLiveStats};
use hotline_acd::{Acd, AcdInput, AcdOutput, AgentStatus, AgentView};
use hotline_api::{AgentControl, AgentControlError};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

use crate::messages::{AcdCmd, CallInput};

/// How often the actor checks that every call the ACD holds (waiting, ringing or answered) still has a
/// live call task. A task that ended without telling the ACD (a bug, a panic) must not leave an agent stuck.
const RECONCILE_EVERY: Duration = Duration::from_secs(5);

/// Tickets of answered calls are kept this long after the call task detached, for the wrap-up time.
const TICKET_MEMORY: Duration = Duration::from_secs(6 * 3600);

struct Attached {
    tx: mpsc::UnboundedSender<CallInput>,
    ticket: i64,
}

pub async fn run(
    mut acd: Acd,
    mut rx: mpsc::UnboundedReceiver<AcdCmd>,
    tickets: hotline_tickets::TicketStore,
) {
    let mut calls: HashMap<u64, Attached> = HashMap::new();
    // Tickets of calls whose task is gone but whose agent may still be wrapping up.
    let mut detached: HashMap<u64, (i64, Instant)> = HashMap::new();
    // Wall-clock time of each agent's last state change, for the API (the pure core only knows Instants).
    // Every agent is in its start-up state since the engine started.
    let started = Utc::now();
    let mut since: HashMap<String, chrono::DateTime<Utc>> =
        acd.agents().into_iter().map(|a| (a.id, started)).collect();
    let mut next_reconcile = Instant::now() + RECONCILE_EVERY;
    loop {
        let deadline = acd
            .poll_timeout()
            .map_or(next_reconcile, |d| d.min(next_reconcile));
        let sleep = tokio::time::sleep_until(deadline.into());
        tokio::select! {
            cmd = rx.recv() => {
                let Some(cmd) = cmd else { return };
                let now = Instant::now();
                match cmd {
                    AcdCmd::Input(input) => {
                        if let Err(e) = acd.handle(now, input) {
                            warn!("acd rejected input: {e}");
                        }
                    }
                    AcdCmd::Attach { call, ticket, tx } => {
                        calls.insert(call, Attached { tx, ticket });
                    }
                    AcdCmd::Detach { call } => {
                        if let Some(a) = calls.remove(&call) {
                            detached.insert(call, (a.ticket, now));
                        }
                    }
                    AcdCmd::WaitEstimate { call, reply } => {
                        let _ = reply.send(acd.wait_estimate(call, now));
                    }
                    AcdCmd::List { reply } => {
                        let views = acd.agents().into_iter().map(|v| with_since(v, &since)).collect();
                        let _ = reply.send(views);
                    }
                    AcdCmd::SetStatus { agent, status, reason, reply } => {
                        let known = acd.agent(&agent).is_some();
                        if known {
                            if let Err(e) = acd.handle(now, AcdInput::SetStatus { agent: agent.clone(), status, reason }) {
                                warn!("acd rejected status change: {e}");
                            }
                        }
                        // Outputs first, so the view returned reflects the change's consequences.
                        drain(&mut acd, &calls, &mut detached, &mut since, &tickets);
                        let _ = reply.send(acd.agent(&agent).map(|v| with_since(v, &since)));
                    }
                    AcdCmd::EndWrapUp { agent, reply } => {
                        if acd.agent(&agent).is_some() {
                            if let Err(e) = acd.handle(now, AcdInput::EndWrapUp { agent: agent.clone() }) {
                                warn!("acd rejected end of wrap-up: {e}");
                            }
                        }
                        drain(&mut acd, &calls, &mut detached, &mut since, &tickets);
                        let _ = reply.send(acd.agent(&agent).map(|v| with_since(v, &since)));
                    }
                    AcdCmd::Queues { reply } => {
                        let _ = reply.send(acd.all_queue_stats(now));
                    }
                    AcdCmd::AgentStats { agent, reply } => {
                        let _ = reply.send(acd.agent_stats(&agent, now));
                    }
                }
            }
            _ = sleep => {
                let now = Instant::now();
                acd.handle_timeout(now);
                if now >= next_reconcile {
                    next_reconcile = now + RECONCILE_EVERY;
                    reconcile(&mut acd, &mut calls, &mut detached, now);
                }
            }
        }
        drain(&mut acd, &calls, &mut detached, &mut since, &tickets);
    }
}

/// Tells the ACD which calls still have a task; it frees agents held by any other.
fn reconcile(
    acd: &mut Acd,
    calls: &mut HashMap<u64, Attached>,
    detached: &mut HashMap<u64, (i64, Instant)>,
    now: Instant,
) {
    calls.retain(|call, a| {
        let alive = !a.tx.is_closed();
        if !alive {
            detached.insert(*call, (a.ticket, now));
        }
        alive
    });
    detached.retain(|_, (_, at)| now.duration_since(*at) < TICKET_MEMORY);
    let live: Vec<u64> = calls.keys().copied().collect();
    if let Err(e) = acd.handle(now, AcdInput::Reconcile { live }) {
        warn!("acd rejected reconciliation: {e}");
    }
}

fn with_since(mut v: AgentView, since: &HashMap<String, chrono::DateTime<Utc>>) -> AgentView {
    if v.state_since.is_none() {
        v.state_since = since.get(&v.id).copied();
    }
    v
}

fn drain(
    acd: &mut Acd,
    calls: &HashMap<u64, Attached>,
    detached: &mut HashMap<u64, (i64, Instant)>,
    since: &mut HashMap<String, chrono::DateTime<Utc>>,
    tickets: &hotline_tickets::TicketStore,
) {
    while let Some(out) = acd.poll_output() {
        let call = match &out {
            AcdOutput::Offer { call, .. } => Some(*call),
            AcdOutput::Withdraw { call, .. } => Some(*call),
            AcdOutput::AgentChanged(view) => {
                since.insert(view.id.clone(), Utc::now());
                debug!(agent = %view.id, status = ?view.status, state = ?view.state, "agent changed");
                None
            }
            AcdOutput::WrapUpEnded { agent, call, secs } => {
                let ticket = calls
                    .get(call)
                    .map(|a| a.ticket)
                    .or_else(|| detached.remove(call).map(|(t, _)| t));
                if let Some(ticket) = ticket {
                    let (tickets, secs) = (tickets.clone(), *secs);
                    tokio::spawn(async move {
                        let update = hotline_tickets::CallUpdate {
                            wrap_up_secs: Some(secs),
                            ..Default::default()
                        };
                        if let Err(e) = tickets.update_call(ticket, update).await {
                            warn!(ticket, "wrap-up time not written: {e}");
                        }
                    });
                }
                debug!(%agent, call, secs, "wrap-up ended");
                None
            }
            AcdOutput::Reconciled { agent, call } => {
                info!(%agent, call, "agent freed by reconciliation: its call no longer exists");
                None
            }
        };
        if let Some(call) = call {
            match calls.get(&call) {
                Some(a) => {
                    let _ = a.tx.send(CallInput::Acd(out));
                }
                None => debug!(call, "acd output for a call that is gone"),
            }
        }
    }
}

/// The HTTP API's view of agents, answered by the ACD actor.
pub struct AcdAgentControl {
    pub tx: mpsc::UnboundedSender<AcdCmd>,
    pub ctx: std::sync::Arc<crate::Ctx>,
}

impl AgentControl for AcdAgentControl {
    fn list(&self) -> BoxFuture<'static, Vec<AgentView>> {
        let tx = self.tx.clone();
        Box::pin(async move {
            let (reply, rx) = oneshot::channel();
            if tx.send(AcdCmd::List { reply }).is_err() {
                return Vec::new();
            }
            rx.await.unwrap_or_default()
        })
    }

    fn set_status(
        &self,
        id: String,
        status: AgentStatus,
        reason: Option<String>,
    ) -> BoxFuture<'static, Result<AgentView, AgentControlError>> {
        let tx = self.tx.clone();
        Box::pin(async move {
            let (reply, rx) = oneshot::channel();
            tx.send(AcdCmd::SetStatus {
                agent: id,
                status,
                reason,
                reply,
            })
            .map_err(|_| AgentControlError::Invalid("switch is shutting down".into()))?;
            rx.await.ok().flatten().ok_or(AgentControlError::NotFound)
        })
    }

    fn end_wrap_up(&self, id: String) -> BoxFuture<'static, Result<AgentView, AgentControlError>> {
        let tx = self.tx.clone();
        Box::pin(async move {
            let (reply, rx) = oneshot::channel();
            tx.send(AcdCmd::EndWrapUp { agent: id, reply })
                .map_err(|_| AgentControlError::Unavailable("switch is shutting down".into()))?;
            rx.await.ok().flatten().ok_or(AgentControlError::NotFound)
        })
    }

    fn queues(&self) -> BoxFuture<'static, Vec<QueueLiveStats>> {
        let tx = self.tx.clone();
        Box::pin(async move {
            let (reply, rx) = oneshot::channel();
            if tx.send(AcdCmd::Queues { reply }).is_err() {
                return Vec::new();
            }
            rx.await.unwrap_or_default()
        })
    }

    fn agent_stats(&self, id: String) -> BoxFuture<'static, Option<AgentLiveStats>> {
        let tx = self.tx.clone();
        Box::pin(async move {
            let (reply, rx) = oneshot::channel();
            tx.send(AcdCmd::AgentStats { agent: id, reply }).ok()?;
            rx.await.ok().flatten()
        })
    }

    fn dial_callback(
        &self,
        callback: hotline_tickets::Callback,
    ) -> BoxFuture<'static, Result<(), AgentControlError>> {
        let ctx = self.ctx.clone();
        Box::pin(async move {
            use crate::call::DialError;
            crate::call::spawn_callback_call(ctx, callback).map_err(|e| match e {
                DialError::NoTrunk => AgentControlError::Unavailable(e.to_string()),
                DialError::InProgress(_) | DialError::Done(_) => {
                    AgentControlError::Conflict(e.to_string())
                }
                DialError::UnknownQueue(_) => AgentControlError::Invalid(e.to_string()),
            })
        })
    }
}
