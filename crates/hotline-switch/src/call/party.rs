//! Third parties (120, 110, any number) and supervisors joining a call.
//!
//! * **Three-way** (`*3` / `POST …/conference`): the switch dials the number (`[emergency]`, else the outbound
//!   trunk); caller and agent hear ring-back; on answer the call becomes a conference of the three. The agent
//!   may then leave (`*0` / `…/leave`, or simply hang up) and the citizen and the third party stay connected.
//!   If the third party is busy or fails, caller and agent hear a short prompt and stay together.
//! * **Transfer** (`*4` / `…/transfer`): *blind* — like a three-way call whose agent leaves by itself the
//!   moment the third party answers (the agent stays on until then, so a failed transfer loses nobody);
//!   *attended* — the agent talks to the third party while the citizen hears music, then hands over with
//!   `leave`.
//! * **SOS escalation** (`call/sos.rs`): 120 is dialled for an elder no agent answered; it hears an
//!   announcement, then the elder; agents keep being offered the call and the first to answer joins.
//! * **Supervisors** (`…/monitor`): rung on their registered phone and joined to the conference to listen
//!   (heard by none), whisper (heard by the agent only) or barge (heard by both).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use hotline_api::{CallControlError, MonitorMode};
use hotline_config::Config;
use hotline_media::engine::{LegId, MixRole};
use hotline_media::prompts::Prompt;
use hotline_media::sdp::{self, Sdp};
use hotline_sip::dialog::Dialog;
use hotline_sip::msg::{Method, Request, Response, SipMessage};
use hotline_sip::transaction::{build_cancel, ServerTxnId};
use hotline_sip::Transport;
use serde_json::json;
use tracing::{info, warn};

use super::callback::sip_target;
use super::monitor::monitor_str;
use super::{Call, Disposition, Phase};
use crate::messages::SipCmd;
use crate::sipbuild;

/// What a third party is in the call for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ThirdMode {
    ThreeWay,
    BlindTransfer,
    AttendedTransfer,
    Escalation,
}

impl ThirdMode {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            ThirdMode::ThreeWay => "three_way",
            ThirdMode::BlindTransfer => "blind_transfer",
            ThirdMode::AttendedTransfer => "attended_transfer",
            ThirdMode::Escalation => "escalation",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum PartyRole {
    Third(ThirdMode),
    Supervisor { id: String, mode: MonitorMode },
}

/// A leg the switch placed towards a third party or a supervisor.
pub(super) struct PartyLeg {
    pub(super) role: PartyRole,
    /// The number dialled (or the supervisor's id).
    pub(super) number: String,
    pub(super) invite: Request,
    pub(super) dest: SocketAddr,
    pub(super) transport: Transport,
    pub(super) media_leg: LegId,
    pub(super) local_port: u16,
    pub(super) dialog: Option<Dialog>,
    pub(super) up: bool,
    /// CANCEL or BYE sent; a late 2xx is acknowledged and hung up.
    pub(super) withdrawn: bool,
    /// Prompts still to play to this leg before it joins (the SOS announcement to 120).
    pub(super) announce: VecDeque<Arc<Prompt>>,
    /// In the conference (an escalation party joins only after its announcement).
    pub(super) joined: bool,
    /// The ticket's handoff row for this party (third parties only).
    pub(super) handoff: Option<u32>,
}

impl PartyLeg {
    /// A leg whose INVITE was just sent.
    pub(super) fn ringing(
        role: PartyRole,
        number: &str,
        invite: Request,
        (dest, transport): (SocketAddr, Transport),
        media: hotline_media::LegInfo,
        handoff: Option<u32>,
    ) -> PartyLeg {
        PartyLeg {
            role,
            number: number.to_string(),
            invite,
            dest,
            transport,
            media_leg: media.leg,
            local_port: media.local_port,
            dialog: None,
            up: false,
            withdrawn: false,
            announce: VecDeque::new(),
            joined: false,
            handoff,
        }
    }

    pub(super) fn mode_str(&self) -> &'static str {
        match &self.role {
            PartyRole::Third(m) => m.as_str(),
            PartyRole::Supervisor { mode, .. } => monitor_str(*mode),
        }
    }

    pub(super) fn is_third(&self) -> bool {
        matches!(self.role, PartyRole::Third(_))
    }
}

/// China's ring-back tone: 450 Hz, one second on, four off (YD/T 1277), looped while a third party rings.
pub(super) fn ringback() -> Arc<Prompt> {
    static TONE: OnceLock<Arc<Prompt>> = OnceLock::new();
    TONE.get_or_init(|| {
        let mut samples = vec![0i16; 8000 * 5];
        for (i, s) in samples.iter_mut().take(8000).enumerate() {
            let t = i as f64 / 8000.0;
            *s = ((2.0 * std::f64::consts::PI * 450.0 * t).sin() * 6000.0) as i16;
        }
        Arc::new(Prompt::from_samples("ringback", &samples))
    })
    .clone()
}

pub(super) fn conflict(reason: impl Into<String>) -> CallControlError {
    CallControlError::Conflict(reason.into())
}

impl Call {
    /// The media leg of the agent who answered, while they are on the call.
    pub(super) fn agent_media(&self) -> Option<LegId> {
        if self.agent_released {
            return None;
        }
        let id = self.current.as_ref()?;
        let leg = self.agents.get(id)?;
        (leg.dialog.is_some() && !leg.withdrawn).then_some(leg.media_leg)
    }

    /// An agent is talking to the citizen (not a call-back whisper, not after leaving).
    pub(super) fn agent_on_call(&self) -> bool {
        self.phase == Phase::Bridged && self.agent_media().is_some()
    }

    pub(super) fn third_parties_up(&self) -> usize {
        self.parties
            .values()
            .filter(|p| p.is_third() && p.up && !p.withdrawn)
            .count()
    }

    /// Third parties in the conference (an escalation party joins after its announcement).
    pub(super) fn third_parties_joined(&self) -> usize {
        self.parties
            .values()
            .filter(|p| p.is_third() && p.joined && !p.withdrawn)
            .count()
    }

    fn third_party_ringing(&self) -> bool {
        self.parties
            .values()
            .any(|p| p.is_third() && !p.up && !p.withdrawn)
    }

    /// Turns the bridge into a conference (the citizen and the agent join the mix); idempotent.
    pub(super) fn ensure_conference(&mut self) {
        if self.conference {
            return;
        }
        if let Some(c) = self.citizen_media() {
            let _ = self.media.join(c, MixRole::Normal);
        }
        if let Some(a) = self.agent_media() {
            let _ = self.media.join(a, MixRole::Normal);
        }
        self.conference = true;
    }

    /// Stops ring-back or music on the citizen's and the agent's legs.
    fn stop_prompts(&self) {
        for leg in [self.citizen_media(), self.agent_media()]
            .into_iter()
            .flatten()
        {
            let _ = self.media.stop(leg);
        }
    }

    /// A three-way call or a transfer, from the agent's keys or the API.
    pub(super) async fn bring_in(
        &mut self,
        number: &str,
        mode: ThirdMode,
    ) -> Result<(), CallControlError> {
        if !self.agent_on_call() {
            return Err(conflict("no agent is talking to the citizen on this call"));
        }
        if self.third_party_ringing() {
            return Err(conflict("a third party is already being rung"));
        }
        self.dial_third(number, mode).await?;
        match mode {
            ThirdMode::AttendedTransfer => {
                // The citizen waits with music; the agent hears ring-back and then consults alone.
                if let (Some(c), Some(moh)) = (self.citizen_media(), self.ctx.prompts.get("moh")) {
                    let _ = self.media.play(c, moh, true);
                }
                if let Some(a) = self.agent_media() {
                    let _ = self.media.play(a, ringback(), true);
                }
            }
            _ => {
                for leg in [self.citizen_media(), self.agent_media()]
                    .into_iter()
                    .flatten()
                {
                    let _ = self.media.play(leg, ringback(), true);
                }
            }
        }
        Ok(())
    }

    /// Places the INVITE to a third party: `[emergency]` for 120/110/…, else the outbound trunk. Returns the
    /// Call-ID of the new leg.
    pub(super) async fn dial_third(
        &mut self,
        number: &str,
        mode: ThirdMode,
    ) -> Result<String, CallControlError> {
        let config = self.ctx.config.clone();
        let uri = config.dial_target(number).ok_or_else(|| {
            CallControlError::Unavailable(format!(
                "no [emergency] entry for {number} and no [trunks.outbound] to dial it"
            ))
        })?;
        let (target, dest, transport) = sip_target(&uri).ok_or_else(|| {
            CallControlError::Unavailable(format!(
                "cannot dial {uri}: the host must be an IP address"
            ))
        })?;
        // Emergency services see the citizen's number (they may call back); a carrier trunk gets our caller ID.
        let from_user = if config.emergency.contains_key(number) {
            self.caller_number.clone()
        } else {
            config
                .trunks
                .outbound
                .as_ref()
                .and_then(|t| t.caller_id.clone())
                .unwrap_or_else(|| self.line.number.clone())
        };
        let leg = self.media.add_leg().await.map_err(|e| {
            warn!("no media port for a third party: {e}");
            CallControlError::Unavailable("no media port free".into())
        })?;
        let local = self.ctx.local_addr(transport);
        let domain = target.host_unbracketed().to_string();
        let built = sipbuild::offer_invite(
            &sipbuild::OutOfDialog {
                target: &target.to_string(),
                from_user: &from_user,
                to_user: number,
                domain: &domain,
                local,
                transport,
            },
            &self.line.number,
            &self.offer_sdp(leg.local_port),
        );
        let Ok((req, call_id)) = built else {
            let _ = self.media.remove_leg(leg.leg);
            return Err(CallControlError::Unavailable(format!(
                "cannot build an INVITE to {uri}"
            )));
        };
        self.start_leg(&call_id, &req, dest, transport);
        info!(call = self.call_ref, %number, mode = mode.as_str(), %dest, "dialling a third party");
        let partner = Config::partner_of(number);
        let handoff = self.handoff_started(number, partner, mode);
        self.log(
            "third_party_dialled",
            json!({ "number": number, "partner": partner, "mode": mode.as_str(), "agent": self.answered_agent }),
        );
        self.parties.insert(
            call_id.clone(),
            PartyLeg::ringing(
                PartyRole::Third(mode),
                number,
                req,
                (dest, transport),
                leg,
                Some(handoff),
            ),
        );
        Ok(call_id)
    }

    /// `*0` / `…/leave`: the agent leaves a call that has a third party; an attended transfer completes.
    pub(super) fn agent_leave(&mut self) -> Result<(), CallControlError> {
        if self.agent_media().is_none() {
            return Err(conflict("no agent is on this call"));
        }
        if self.third_parties_up() == 0 {
            return Err(conflict(if self.third_party_ringing() {
                "the third party has not answered yet"
            } else {
                "there is no third party to leave the citizen with"
            }));
        }
        self.complete_attended();
        if let Some(call_id) = self.current.take() {
            self.drop_agent_leg(&call_id);
        }
        self.release_agent("left");
        Ok(())
    }

    /// An attended transfer hands over: the citizen stops hearing music and is heard again.
    fn complete_attended(&mut self) {
        let attended = self.parties.values().any(|p| {
            p.up && !p.withdrawn && p.role == PartyRole::Third(ThirdMode::AttendedTransfer)
        });
        if attended {
            if let Some(c) = self.citizen_media() {
                let _ = self.media.stop(c);
                let _ = self.media.set_muted(c, false);
            }
        }
    }

    /// The agent is off the call while it goes on (left a three-way call, transfer done): wrap-up starts
    /// and the ticket notes when.
    pub(super) fn release_agent(&mut self, how: &str) {
        if self.agent_released {
            return;
        }
        self.agent_released = true;
        if let Some(agent) = self.answered_agent.clone() {
            self.acd(hotline_acd::AcdInput::CallEnded { agent });
        }
        info!(call = self.call_ref, agent = ?self.answered_agent, how, "agent left; the call goes on");
        self.log(
            "agent_left",
            json!({ "agent": self.answered_agent, "how": how }),
        );
        self.handoffs_agent_left();
    }

    /// A request within a party's dialog (BYE, re-INVITE, INFO…).
    pub(super) async fn party_request(
        &mut self,
        id: ServerTxnId,
        req: Request,
        call_id: &str,
    ) -> Option<Disposition> {
        let tag = self.local_tag_for(&req);
        match req.method {
            Method::Bye => {
                self.respond(id, sipbuild::reply(&req, 200, "OK", &tag));
                self.party_gone(call_id, "hangup")
            }
            Method::Invite => {
                let Some(p) = self.parties.get_mut(call_id) else {
                    self.respond(
                        id,
                        sipbuild::reply(&req, 481, "Call/Transaction Does Not Exist", &tag),
                    );
                    return None;
                };
                if let Some(d) = p.dialog.as_mut() {
                    d.update_remote_target(&req);
                }
                let (leg, port) = (p.media_leg, p.local_port);
                self.reinvite(id, req, leg, port, "third_party").await;
                None
            }
            _ => {
                self.respond(id, sipbuild::reply(&req, 200, "OK", &tag));
                None
            }
        }
    }

    /// A party's leg ended (it hung up, its media stopped, or it failed after answering).
    pub(super) fn party_gone(&mut self, call_id: &str, why: &str) -> Option<Disposition> {
        let p = self.parties.remove(call_id)?;
        let _ = self.media.remove_leg(p.media_leg);
        self.sip(SipCmd::Unbind {
            call_id: call_id.to_string(),
        });
        match &p.role {
            PartyRole::Supervisor { id, .. } => {
                self.log("supervisor_left", json!({ "supervisor": id, "why": why }));
                return None;
            }
            PartyRole::Third(mode) => {
                info!(call = self.call_ref, number = %p.number, why, "third party left");
                self.log(
                    "third_party_left",
                    json!({ "number": p.number, "mode": mode.as_str(), "why": why }),
                );
                if let Some(h) = p.handoff {
                    self.handoff_ended(h, if p.up { "completed" } else { "failed" });
                }
            }
        }
        let agent_here = self.agent_media().is_some();
        if agent_here {
            // The agent and the citizen go on; an attended transfer that lost its target gives the citizen back.
            self.complete_attended();
            return None;
        }
        if self.phase == Phase::Queued {
            // SOS escalation: 120 hung up before any agent answered; the elder keeps waiting for one.
            self.music_on_hold();
            return None;
        }
        if self.third_parties_up() == 0 {
            // The agent left earlier: nobody is left to talk to the citizen.
            return Some(self.hangup_disposition());
        }
        None
    }

    /// A response to our INVITE to a party.
    pub(super) async fn party_response(&mut self, resp: Response) -> Option<Disposition> {
        let call_id = resp.call_id().unwrap_or_default().to_string();
        let (_, method) = resp.cseq()?;
        if method != Method::Invite {
            return None;
        }
        if resp.status < 200 {
            if resp.status == 180 || resp.status == 183 {
                if let Some(p) = self.parties.get(&call_id) {
                    if !p.withdrawn && p.is_third() {
                        self.log("third_party_ringing", json!({ "number": p.number }));
                    }
                }
            }
            return None;
        }
        let consult = self.is_consult_party(&call_id);
        let p = self.parties.get_mut(&call_id)?;
        if resp.status >= 300 {
            let number = p.number.clone();
            let role = p.role.clone();
            let withdrawn = p.withdrawn;
            let handoff = p.handoff;
            let _ = self.media.remove_leg(p.media_leg);
            self.parties.remove(&call_id);
            self.sip(SipCmd::Unbind { call_id });
            if withdrawn {
                return None;
            }
            if consult {
                // The agent's own consultation call fails like a normal call would.
                self.consult_failed(resp.status);
                if let Some(h) = handoff {
                    self.handoff_ended(h, if resp.status == 486 { "busy" } else { "failed" });
                }
                self.log(
                    "third_party_failed",
                    json!({ "number": number, "mode": "attended_transfer", "status": resp.status }),
                );
                return None;
            }
            let outcome = match resp.status {
                486 | 600 => "busy",
                408 | 480 | 487 | 603 => "no_answer",
                _ => "failed",
            };
            return self
                .party_failed(&number, &role, handoff, outcome, resp.status)
                .await;
        }
        // 2xx: acknowledge whatever happens next (RFC 3261 §13.2.2.4).
        let dialog = Dialog::uac(&p.invite, &resp);
        if let Some(d) = &dialog {
            let ack = d.ack(&resp);
            let _ = self.ctx.sip.send(SipCmd::Stateless {
                msg: SipMessage::Request(ack),
                dest: p.dest,
                transport: p.transport,
            });
        }
        p.dialog = dialog;
        let negotiated = std::str::from_utf8(&resp.body)
            .ok()
            .and_then(|s| Sdp::parse(s).ok())
            .and_then(|s| sdp::negotiate(&s).ok());
        if p.up {
            return None;
        }
        if p.withdrawn {
            // The answer crossed our CANCEL: hang that leg up.
            if let Some(d) = p.dialog.as_mut() {
                let bye = d.new_request(Method::Bye);
                let (dest, transport) = (p.dest, p.transport);
                self.sip(SipCmd::Request {
                    req: bye,
                    dest,
                    transport,
                });
            }
            return None;
        }
        let Some(n) = negotiated else {
            warn!(
                call = self.call_ref,
                "third party answered without usable SDP; hanging up"
            );
            self.drop_party(&call_id);
            return None;
        };
        p.up = true;
        let (leg, role, number, handoff) =
            (p.media_leg, p.role.clone(), p.number.clone(), p.handoff);
        let _ = self.media.set_remote(leg, n);
        if let Some(h) = handoff {
            self.handoff_answered(h);
        }
        match role {
            PartyRole::Third(mode) => self.third_answered(&call_id, leg, &number, mode),
            PartyRole::Supervisor { id, mode } => {
                self.mark_joined(&call_id);
                self.supervisor_answered(leg, &id, mode)
            }
        }
        None
    }

    fn third_answered(&mut self, call_id: &str, leg: LegId, number: &str, mode: ThirdMode) {
        info!(call = self.call_ref, %number, mode = mode.as_str(), "third party answered");
        self.log(
            "third_party_answered",
            json!({ "number": number, "mode": mode.as_str() }),
        );
        self.start_recording();
        match mode {
            ThirdMode::ThreeWay => {
                self.stop_prompts();
                self.ensure_conference();
                let _ = self.media.join(leg, MixRole::Normal);
                self.mark_joined(call_id);
            }
            ThirdMode::BlindTransfer => {
                self.stop_prompts();
                self.ensure_conference();
                let _ = self.media.join(leg, MixRole::Normal);
                self.mark_joined(call_id);
                self.refer_progress(200, "OK");
                if let Some(agent_call) = self.current.take() {
                    self.drop_agent_leg(&agent_call);
                }
                self.release_agent("transferred");
            }
            ThirdMode::AttendedTransfer if self.is_consult_party(call_id) => {
                self.mark_joined(call_id);
                self.consult_answered(leg);
            }
            ThirdMode::AttendedTransfer => {
                // Consultation: the agent and the third party talk; the citizen is in the room but muted and
                // hears music until the agent hands over (`leave`).
                if let Some(a) = self.agent_media() {
                    let _ = self.media.stop(a);
                }
                self.ensure_conference();
                if let Some(c) = self.citizen_media() {
                    let _ = self.media.set_muted(c, true);
                }
                let _ = self.media.join(leg, MixRole::Normal);
                self.mark_joined(call_id);
            }
            ThirdMode::Escalation => self.escalation_answered(call_id),
        }
    }

    pub(super) fn mark_joined(&mut self, call_id: &str) {
        if let Some(p) = self.parties.get_mut(call_id) {
            p.joined = true;
        }
    }

    /// The third party did not answer: caller and agent hear a short prompt and stay together.
    async fn party_failed(
        &mut self,
        number: &str,
        role: &PartyRole,
        handoff: Option<u32>,
        outcome: &str,
        status: u16,
    ) -> Option<Disposition> {
        info!(call = self.call_ref, %number, status, outcome, "third party not reached");
        let reason = match status {
            486 => "Busy Here",
            408 => "Request Timeout",
            480 => "Temporarily Unavailable",
            487 => "Request Terminated",
            603 => "Decline",
            _ => "Service Unavailable",
        };
        self.refer_result(role, status.max(300), reason);
        if let Some(h) = handoff {
            self.handoff_ended(h, outcome);
        }
        match role {
            PartyRole::Supervisor { id, .. } => {
                self.log(
                    "supervisor_not_reached",
                    json!({ "supervisor": id, "status": status }),
                );
            }
            PartyRole::Third(ThirdMode::Escalation) => {
                self.log(
                    "third_party_failed",
                    json!({ "number": number, "mode": "escalation", "outcome": outcome, "status": status }),
                );
            }
            PartyRole::Third(mode) => {
                self.log(
                    "third_party_failed",
                    json!({ "number": number, "mode": mode.as_str(), "outcome": outcome, "status": status }),
                );
                if let Some(c) = self.citizen_media() {
                    let _ = self.media.set_muted(c, false);
                }
                let failed = self.ctx.prompts.get("third-party-failed");
                for leg in [self.citizen_media(), self.agent_media()]
                    .into_iter()
                    .flatten()
                {
                    match &failed {
                        Some(p) => {
                            let _ = self.media.play(leg, p.clone(), false);
                        }
                        None => {
                            let _ = self.media.stop(leg);
                        }
                    }
                }
            }
        }
        None
    }

    /// CANCEL a ringing party or BYE an answered one.
    pub(super) fn drop_party(&mut self, call_id: &str) {
        let Some(p) = self.parties.get_mut(call_id) else {
            return;
        };
        if p.withdrawn {
            return;
        }
        p.withdrawn = true;
        let req = match &mut p.dialog {
            None => build_cancel(&p.invite),
            Some(d) => d.new_request(Method::Bye),
        };
        let (dest, transport, leg) = (p.dest, p.transport, p.media_leg);
        self.sip(SipCmd::Request {
            req,
            dest,
            transport,
        });
        let _ = self.media.remove_leg(leg);
    }

    /// Ends every party leg (the call is over).
    pub(super) fn drop_all_parties(&mut self) {
        let ids: Vec<String> = self.parties.keys().cloned().collect();
        for id in ids {
            let (up, handoff) = self
                .parties
                .get(&id)
                .map_or((false, None), |p| (p.up, p.handoff));
            if let Some(h) = handoff {
                self.handoff_ended(h, if up { "completed" } else { "cancelled" });
            }
            self.drop_party(&id);
        }
    }

    /// Media events of party legs: end of the SOS announcement, media timeout.
    pub(super) async fn party_media_event(
        &mut self,
        call_id: &str,
        kind: hotline_media::MediaEventKind,
    ) -> Option<Disposition> {
        match kind {
            hotline_media::MediaEventKind::PlayDone => {
                self.announce_next(call_id);
                None
            }
            hotline_media::MediaEventKind::RtpTimeout => {
                self.drop_party(call_id);
                self.party_gone(call_id, "media_timeout")
            }
            hotline_media::MediaEventKind::Dtmf(_) => None,
        }
    }

    /// The SIP client transaction of a party's INVITE timed out.
    pub(super) async fn party_timeout(&mut self, call_id: &str) -> Option<Disposition> {
        if self.parties.get(call_id)?.up {
            return self.party_gone(call_id, "timeout");
        }
        let p = self.parties.remove(call_id)?;
        let _ = self.media.remove_leg(p.media_leg);
        self.sip(SipCmd::Unbind {
            call_id: call_id.to_string(),
        });
        if p.withdrawn {
            return None;
        }
        self.party_failed(&p.number, &p.role, p.handoff, "no_answer", 408)
            .await
    }
}
