//! Supervisors joining a call (`POST /api/v1/calls/{id}/monitor`): rung on their registered phone, then mixed
//! into the call as *listen* (hears both, heard by none), *whisper* (heard by the agent only) or *barge* (heard
//! by both). A second request changes the mode of a supervisor already in.

use hotline_api::{CallControlError, MonitorMode};
use hotline_config::AgentRole;
use hotline_media::engine::{LegId, MixRole};
use serde_json::json;
use tokio::sync::oneshot;
use tracing::{info, warn};

use super::party::{conflict, PartyLeg, PartyRole};
use super::Call;
use crate::messages::SipCmd;
use crate::sipbuild;

pub(super) fn monitor_str(mode: MonitorMode) -> &'static str {
    match mode {
        MonitorMode::Listen => "listen",
        MonitorMode::Whisper => "whisper",
        MonitorMode::Barge => "barge",
    }
}

impl Call {
    pub(super) fn supervisor_answered(&mut self, leg: LegId, id: &str, mode: MonitorMode) {
        info!(call = self.call_ref, supervisor = %id, mode = monitor_str(mode), "supervisor joined");
        self.log(
            "supervisor_joined",
            json!({ "supervisor": id, "mode": monitor_str(mode) }),
        );
        self.ensure_conference();
        let role = self.mix_role(mode);
        let _ = self.media.join(leg, role);
    }

    fn mix_role(&self, mode: MonitorMode) -> MixRole {
        match mode {
            MonitorMode::Listen => MixRole::Listen,
            MonitorMode::Barge => MixRole::Normal,
            // Whispering to nobody (agent gone) is silence, like listening.
            MonitorMode::Whisper => self
                .agent_media()
                .map_or(MixRole::Listen, |a| MixRole::Whisper(a.0)),
        }
    }

    /// `POST …/monitor`: ring a supervisor and join them in `mode` (or change the mode of one already in).
    pub(super) async fn monitor(
        &mut self,
        supervisor: &str,
        mode: MonitorMode,
    ) -> Result<(), CallControlError> {
        let config = self.ctx.config.clone();
        let Some(sup) = config.agents.iter().find(|a| a.id == supervisor) else {
            return Err(CallControlError::Invalid(format!(
                "supervisor: {supervisor} is not a configured agent"
            )));
        };
        if sup.role != AgentRole::Supervisor {
            return Err(CallControlError::Invalid(format!(
                "supervisor: {supervisor} does not have role = \"supervisor\""
            )));
        }
        if !self.agent_on_call() {
            return Err(conflict("no agent is talking on this call"));
        }
        let existing = self.parties.iter_mut().find(|(_, p)| {
            !p.withdrawn && matches!(&p.role, PartyRole::Supervisor { id, .. } if id == supervisor)
        });
        if let Some((_, p)) = existing {
            if !p.up {
                return Err(conflict("the supervisor's phone is still ringing"));
            }
            p.role = PartyRole::Supervisor {
                id: supervisor.to_string(),
                mode,
            };
            let leg = p.media_leg;
            let role = self.mix_role(mode);
            let _ = self.media.join(leg, role);
            self.log(
                "supervisor_mode",
                json!({ "supervisor": supervisor, "mode": monitor_str(mode) }),
            );
            return Ok(());
        }
        let (reply, rx) = oneshot::channel();
        self.sip(SipCmd::Lookup {
            user: supervisor.to_string(),
            reply,
        });
        let binding = rx
            .await
            .unwrap_or_default()
            .into_iter()
            .next()
            .ok_or_else(|| {
                CallControlError::Unavailable(format!(
                    "supervisor {supervisor}'s phone is not registered"
                ))
            })?;
        let leg = self.media.add_leg().await.map_err(|e| {
            warn!("no media port for a supervisor: {e}");
            CallControlError::Unavailable("no media port free".into())
        })?;
        let local = self.ctx.local_addr(binding.transport);
        let dest = sipbuild::reach(&binding);
        let offer = self.offer_sdp(leg.local_port);
        let invite = sipbuild::agent_invite(
            &binding.contact.to_string(),
            supervisor,
            &self.caller_number,
            &config.sip.domain,
            local,
            binding.transport,
            &self.line.number,
            &offer,
        )
        .map_err(|e| {
            let _ = self.media.remove_leg(leg.leg);
            CallControlError::Unavailable(format!("bad contact for {supervisor}: {e}"))
        })?;
        self.start_leg(&invite.call_id, &invite.req, dest, binding.transport);
        info!(call = self.call_ref, %supervisor, mode = monitor_str(mode), "ringing a supervisor");
        self.log(
            "supervisor_rung",
            json!({ "supervisor": supervisor, "mode": monitor_str(mode) }),
        );
        self.parties.insert(
            invite.call_id,
            PartyLeg::ringing(
                PartyRole::Supervisor {
                    id: supervisor.to_string(),
                    mode,
                },
                supervisor,
                invite.req,
                (dest, binding.transport),
                leg,
                None,
            ),
        );
        Ok(())
    }
}
