//! The end of a call: every leg hung up, the agent released to wrap-up, the ticket closed, and a short
//! linger to answer late responses.

use std::time::Duration;

use hotline_acd::AcdInput;
use hotline_tickets::CallUpdate;
use serde_json::json;
use tokio::sync::mpsc;
use tracing::info;

use super::{now_utc, secs, Call, CallbackKind, Disposition, Phase};
use crate::messages::{AcdCmd, CallInput, SipCmd};
use crate::sipbuild;

impl Call {
    /// Ends every leg still up, releases the agent and closes the ticket.
    pub(super) async fn finish(&mut self, disposition: Disposition) {
        let legs: Vec<String> = self.agents.keys().cloned().collect();
        for call_id in legs {
            let withdrawn = self
                .agents
                .get(&call_id)
                .map(|l| l.withdrawn)
                .unwrap_or(true);
            if !withdrawn {
                self.drop_agent_leg(&call_id);
            }
        }
        self.end_consult("call_ended");
        self.drop_all_parties();
        self.hang_up_citizen();
        match self.phase {
            Phase::Queued => self.acd(AcdInput::Abandon {
                call: self.call_ref,
            }),
            // A pending call-back that is given up (shutdown) leaves without counting as abandoned.
            Phase::CallbackWaiting => self.acd(AcdInput::Leave {
                call: self.call_ref,
            }),
            Phase::Bridged | Phase::Whisper | Phase::DialingCitizen => {
                if let Some(agent) = self.answered_agent.clone().filter(|_| !self.agent_released) {
                    self.acd(AcdInput::CallEnded { agent });
                }
            }
            Phase::Greeting | Phase::Menu => {}
        }
        self.finish_callback(disposition).await;
        // After an SOS call, the elder's family is told (and asked to confirm).
        if let Some(device) = self.sos.as_ref().and_then(|s| s.device.clone()) {
            crate::sos_contacts::spawn_contact_round(self.ctx.clone(), self.ticket_id, device);
        }
        if disposition == Disposition::Abandoned && self.callback.is_none() && self.queued.is_some()
        {
            self.record_missed_call().await;
        }
        // A call-back keeps the ticket of the original call: its end is logged, the call fields stay.
        if self.callback.is_none() {
            self.close_ticket(disposition);
        } else {
            let kind = self.callback.as_ref().map(|c| match c.kind {
                CallbackKind::Requested => "requested",
                CallbackKind::Missed => "missed",
            });
            self.log(
                "callback_ended",
                json!({
                    "kind": kind,
                    "result": self.callback_result.as_deref().unwrap_or("not_dialled"),
                    "agent": self.answered_agent,
                }),
            );
        }
        info!(call = self.call_ref, disposition = disposition.as_str(), total = ?self.started.elapsed(), "call ended");
        if let Some(c) = self.citizen.as_mut() {
            c.left = true;
        }
    }

    fn close_ticket(&self, disposition: Disposition) {
        let talk = self.answered.map(|a| secs(a.elapsed()));
        let wait = match (self.queued, self.answered) {
            (Some(q), Some(a)) => Some(secs(a.duration_since(q))),
            (Some(q), None) => Some(secs(q.elapsed())),
            _ => None,
        };
        let ivr_path = self.ivr.as_ref().map(|i| i.path_summary());
        self.update(CallUpdate {
            ended_at: Some(now_utc()),
            disposition: Some(disposition),
            wait_secs: wait,
            talk_secs: talk,
            ivr_path,
            ..Default::default()
        });
    }

    /// After the end, stay briefly to ACK/hang up late answers and absorb stray responses.
    pub(super) async fn linger(&mut self, rx: &mut mpsc::UnboundedReceiver<CallInput>) {
        let _ = self.ctx.acd.send(AcdCmd::Detach {
            call: self.call_ref,
        });
        let deadline = tokio::time::Instant::now() + Duration::from_secs(8);
        let pending = |call: &Call| {
            call.agents.values().any(|l| l.dialog.is_none())
                || call.parties.values().any(|p| p.dialog.is_none())
                || call
                    .citizen
                    .as_ref()
                    .is_some_and(|c| c.invite.is_some() && c.dialog.is_none())
        };
        while pending(self) {
            let Ok(Some(input)) = tokio::time::timeout_at(deadline, rx.recv()).await else {
                break;
            };
            match input {
                CallInput::Response { resp } => {
                    let call_id = resp.call_id().unwrap_or_default();
                    if self.citizen.as_ref().is_some_and(|c| c.call_id == call_id) {
                        self.late_citizen_answer(resp);
                    } else if self.parties.contains_key(call_id) {
                        let _ = self.party_response(resp).await;
                    } else {
                        let _ = self.agent_response(resp).await;
                    }
                }
                CallInput::Request { id, req, .. } => {
                    let tag = self.local_tag_for(&req);
                    self.respond(id, sipbuild::reply(&req, 200, "OK", &tag));
                }
                CallInput::RequestTimeout { call_id, .. } => {
                    self.agents.remove(&call_id);
                    self.parties.remove(&call_id);
                    if let Some(c) = self.citizen.as_mut() {
                        if c.call_id == call_id {
                            c.invite = None;
                        }
                    }
                }
                _ => {}
            }
        }
        for call_id in self.agents.keys().chain(self.parties.keys()) {
            self.sip(SipCmd::Unbind {
                call_id: call_id.clone(),
            });
        }
        if let Some(c) = &self.citizen {
            self.sip(SipCmd::Unbind {
                call_id: c.call_id.clone(),
            });
        }
    }
}
