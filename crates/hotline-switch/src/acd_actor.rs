//! The ACD actor: the single owner of the pure ACD core. Offers and withdrawals go to the call task that
//! attached the call; agent views are served to the HTTP API from here, so nothing else locks agent state.

use std::collections::HashMap;
use std::time::Instant;

use chrono::Utc;
use futures::future::BoxFuture;
use hotline_acd::{Acd, AcdOutput, AgentStatus, AgentView};
use hotline_api::{AgentControl, AgentControlError};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, warn};

use crate::messages::{AcdCmd, CallInput};

pub async fn run(mut acd: Acd, mut rx: mpsc::UnboundedReceiver<AcdCmd>) {
    let mut calls: HashMap<u64, mpsc::UnboundedSender<CallInput>> = HashMap::new();
    // Wall-clock time of each agent's last state change, for the API (the pure core only knows Instants).
    // Every agent is in its start-up state since the engine started.
    let started = Utc::now();
    let mut since: HashMap<String, chrono::DateTime<Utc>> =
        acd.agents().into_iter().map(|a| (a.id, started)).collect();
    loop {
        let deadline = acd.poll_timeout();
        let sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            cmd = rx.recv() => {
                let Some(cmd) = cmd else { return };
                match cmd {
                    AcdCmd::Input(input) => {
                        if let Err(e) = acd.handle(Instant::now(), input) {
                            warn!("acd rejected input: {e}");
                        }
                    }
                    AcdCmd::Attach { call, tx } => { calls.insert(call, tx); }
                    AcdCmd::Detach { call } => { calls.remove(&call); }
                    AcdCmd::List { reply } => {
                        let views = acd.agents().into_iter().map(|v| with_since(v, &since)).collect();
                        let _ = reply.send(views);
                    }
                    AcdCmd::SetStatus { agent, status, reason, reply } => {
                        let known = acd.agent(&agent).is_some();
                        if known {
                            if let Err(e) = acd.handle(
                                Instant::now(),
                                hotline_acd::AcdInput::SetStatus { agent: agent.clone(), status, reason },
                            ) {
                                warn!("acd rejected status change: {e}");
                            }
                        }
                        // Outputs first, so the view returned reflects the change's consequences.
                        drain(&mut acd, &calls, &mut since);
                        let _ = reply.send(acd.agent(&agent).map(|v| with_since(v, &since)));
                    }
                }
            }
            _ = sleep => acd.handle_timeout(Instant::now()),
        }
        drain(&mut acd, &calls, &mut since);
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
    calls: &HashMap<u64, mpsc::UnboundedSender<CallInput>>,
    since: &mut HashMap<String, chrono::DateTime<Utc>>,
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
        };
        if let Some(call) = call {
            match calls.get(&call) {
                Some(tx) => {
                    let _ = tx.send(CallInput::Acd(out));
                }
                None => debug!(call, "acd output for a call that is gone"),
            }
        }
    }
}

/// The HTTP API's view of agents, answered by the ACD actor.
pub struct AcdAgentControl {
    pub tx: mpsc::UnboundedSender<AcdCmd>,
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
}
