//! Requests from outside the call's own legs: the agent's in-call feature codes (`*3`, `*4`, `*0`), the
//! API's call-control routes, and the view of the call the registry shows (`GET /api/v1/calls`).

use hotline_api::{CallView, LegView, TransferMode};
use serde_json::json;
use tracing::info;

use super::keys::InCall;
use super::party::{PartyRole, ThirdMode};
use super::{Call, Disposition, Phase};
use crate::calls::{Control, ControlReply};

impl Call {
    /// One digit from the agent's phone: a complete feature code acts at once.
    pub(super) async fn agent_keys(&mut self, digit: char) -> Option<Disposition> {
        let command = self.keys.feed(digit)?;
        info!(call = self.call_ref, ?command, "agent feature code");
        let result = match &command {
            InCall::Conference(n) => self.bring_in(n, ThirdMode::ThreeWay).await,
            InCall::Transfer(n) => self.bring_in(n, ThirdMode::BlindTransfer).await,
            InCall::Leave => self.agent_leave(),
        };
        if let Err(e) = result {
            info!(call = self.call_ref, "agent feature code refused: {e}");
            self.log(
                "feature_code_refused",
                json!({ "code": format!("{command:?}"), "reason": e.to_string() }),
            );
            // The agent hears why nothing happened.
            if let (Some(leg), Some(p)) = (self.agent_media(), self.ctx.prompts.get("invalid_code"))
            {
                let _ = self.media.play(leg, p, false);
            }
        }
        None
    }

    /// A call-control request from the API.
    pub(super) async fn control(
        &mut self,
        control: Control,
        reply: ControlReply,
    ) -> Option<Disposition> {
        let result = match control {
            Control::Conference { number } => self.bring_in(&number, ThirdMode::ThreeWay).await,
            Control::Transfer { number, mode } => {
                let mode = match mode {
                    TransferMode::Blind => ThirdMode::BlindTransfer,
                    TransferMode::Attended => ThirdMode::AttendedTransfer,
                };
                self.bring_in(&number, mode).await
            }
            Control::Leave => self.agent_leave(),
            Control::Monitor { supervisor, mode } => self.monitor(&supervisor, mode).await,
        };
        let _ = reply.send(result.map(|()| self.view()));
        None
    }

    fn state_name(&self) -> &'static str {
        match self.phase {
            Phase::Greeting => "greeting",
            Phase::Menu => "menu",
            Phase::Queued if self.third_parties_joined() > 0 => "escalated",
            Phase::Queued if self.agents.values().any(|l| !l.withdrawn) => "ringing_agent",
            Phase::Queued => "queued",
            Phase::CallbackWaiting => "callback_waiting",
            Phase::Whisper => "callback_whisper",
            Phase::DialingCitizen => "callback_dialing",
            Phase::Bridged if self.conference => "conference",
            Phase::Bridged => "talking",
        }
    }

    /// The call as `GET /api/v1/calls` shows it.
    pub(super) fn view(&self) -> CallView {
        let mut legs = Vec::new();
        if let Some(c) = &self.citizen {
            legs.push(LegView {
                role: "citizen".into(),
                party: self.caller_number.clone(),
                state: if c.left {
                    "left"
                } else if c.dialog.is_some() || c.invite.is_none() {
                    "up"
                } else {
                    "ringing"
                }
                .into(),
                mode: None,
            });
        }
        for (call_id, a) in &self.agents {
            let answered = self.current.as_deref() == Some(call_id.as_str());
            let state = if a.withdrawn {
                continue;
            } else if a.dialog.is_some() {
                "up"
            } else {
                "ringing"
            };
            if a.dialog.is_some() && !answered {
                continue;
            }
            legs.push(LegView {
                role: "agent".into(),
                party: a.agent.clone(),
                state: state.into(),
                mode: None,
            });
        }
        if self.agent_released {
            if let Some(agent) = &self.answered_agent {
                legs.push(LegView {
                    role: "agent".into(),
                    party: agent.clone(),
                    state: "left".into(),
                    mode: None,
                });
            }
        }
        for p in self.parties.values().filter(|p| !p.withdrawn) {
            legs.push(LegView {
                role: match p.role {
                    PartyRole::Third(_) => "third_party",
                    PartyRole::Supervisor { .. } => "supervisor",
                }
                .into(),
                party: p.number.clone(),
                state: if p.up { "up" } else { "ringing" }.into(),
                mode: Some(p.mode_str().into()),
            });
        }
        CallView {
            id: self.call_ref,
            ticket_id: self.ticket_id,
            caller: self.caller_number.clone(),
            line: self.line.number.clone(),
            queue: self.queued.map(|_| self.queue.clone()),
            state: self.state_name().into(),
            agent: self.answered_agent.clone(),
            sos: self.sos.is_some(),
            sos_device: self
                .sos
                .as_ref()
                .and_then(|s| s.device.as_ref())
                .and_then(|d| serde_json::to_value(d).ok()),
            started_at: self.started_at,
            answered_at: self.answered_at,
            legs,
        }
    }

    /// Refreshes the registry's copy of the view.
    pub(super) fn publish(&self) {
        self.ctx.calls.publish(&self.tx, self.view());
    }
}
