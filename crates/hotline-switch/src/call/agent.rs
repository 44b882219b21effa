//! Agents' legs: ringing the agent the ACD offered, withdrawing, answer and bridge, failures.

use std::collections::HashMap;
use std::time::Instant;

use hotline_acd::{AcdInput, AcdOutput, FailReason};
use hotline_media::sdp::{self, Negotiated, Sdp};
use hotline_sip::dialog::Dialog;
use hotline_sip::msg::{Method, Request, Response, SipMessage};
use hotline_sip::transaction::{build_cancel, ServerTxnId};
use hotline_tickets::CallUpdate;
use serde_json::json;
use tokio::sync::oneshot;
use tracing::{debug, info, warn};

use super::{now_utc, secs, AgentLeg, Call, Disposition, Phase};
use crate::messages::SipCmd;
use crate::sipbuild;

impl Call {
    pub(super) async fn agent_request(
        &mut self,
        id: ServerTxnId,
        req: Request,
        call_id: &str,
    ) -> Option<Disposition> {
        let is_current = self.current.as_deref() == Some(call_id);
        let tag = self.local_tag_for(&req);
        match req.method {
            Method::Bye => {
                self.respond(id, sipbuild::reply(&req, 200, "OK", &tag));
                let gone = self.agents.remove(call_id);
                let answered = matches!(
                    self.phase,
                    Phase::Bridged | Phase::Whisper | Phase::DialingCitizen
                );
                if is_current && answered && self.third_parties_up() > 0 {
                    // Hanging up in a three-way call is leaving it: the citizen and the third party go on.
                    self.current = None;
                    if let Some(leg) = gone {
                        let _ = self.media.remove_leg(leg.media_leg);
                    }
                    self.release_agent("hangup");
                    return None;
                }
                if is_current && answered {
                    info!(call = self.call_ref, "agent hung up");
                    self.current = None;
                    self.log("agent_hangup", json!({}));
                    return Some(self.hangup_disposition());
                }
                None
            }
            Method::Invite => {
                let Some(leg) = self.agents.get_mut(call_id) else {
                    self.respond(
                        id,
                        sipbuild::reply(&req, 481, "Call/Transaction Does Not Exist", &tag),
                    );
                    return None;
                };
                if let Some(d) = leg.dialog.as_mut() {
                    d.update_remote_target(&req);
                }
                let (media_leg, port) = (leg.media_leg, leg.local_port);
                self.reinvite(id, req, media_leg, port, "agent").await;
                None
            }
            Method::Info => self.info(id, req, "agent").await,
            Method::Refer => self.agent_refer(id, req, call_id).await,
            _ => {
                self.respond(id, sipbuild::reply(&req, 200, "OK", &tag));
                None
            }
        }
    }

    pub(super) async fn acd_output(&mut self, out: AcdOutput) -> Option<Disposition> {
        match out {
            AcdOutput::Offer { agent, .. } => self.ring_agent(agent).await,
            AcdOutput::Withdraw { agent, .. } => self.withdraw(&agent),
            _ => {}
        }
        None
    }

    fn offer_failed(&self, agent: String, reason: FailReason) {
        self.acd(AcdInput::OfferFailed {
            call: self.call_ref,
            agent,
            reason,
        });
    }

    async fn ring_agent(&mut self, agent: String) {
        if !matches!(self.phase, Phase::Queued | Phase::CallbackWaiting) {
            self.offer_failed(agent, FailReason::Unreachable);
            return;
        }
        let (reply, rx) = oneshot::channel();
        self.sip(SipCmd::Lookup {
            user: agent.clone(),
            reply,
        });
        let bindings = rx.await.unwrap_or_default();
        let Some(binding) = bindings.into_iter().next() else {
            self.offer_failed(agent, FailReason::Unreachable);
            return;
        };
        let leg = match self.media.add_leg().await {
            Ok(l) => l,
            Err(e) => {
                warn!("no media port for the agent leg: {e}");
                self.offer_failed(agent, FailReason::Unreachable);
                return;
            }
        };
        let local = self.ctx.local_addr(binding.transport);
        let dest = sipbuild::reach(&binding);
        let offer = self.offer_sdp(leg.local_port);
        let built = sipbuild::agent_invite(
            &binding.contact.to_string(),
            &agent,
            &self.caller_number,
            &self.ctx.config.sip.domain,
            local,
            binding.transport,
            &self.line.number,
            &offer,
        );
        let invite = match built {
            Ok(i) => i,
            Err(e) => {
                warn!(%agent, "bad contact for agent: {e}");
                let _ = self.media.remove_leg(leg.leg);
                self.offer_failed(agent, FailReason::Unreachable);
                return;
            }
        };
        info!(call = self.call_ref, %agent, "ringing agent");
        self.start_leg(&invite.call_id, &invite.req, dest, binding.transport);
        self.acd(AcdInput::Ringing {
            call: self.call_ref,
            agent: agent.clone(),
        });
        // Ring-all offers one call to several agents; the last one rung is "current" until one answers.
        self.current = Some(invite.call_id.clone());
        self.agents.insert(
            invite.call_id,
            AgentLeg {
                agent: agent.clone(),
                invite: invite.req,
                dest,
                transport: binding.transport,
                media_leg: leg.leg,
                local_port: leg.local_port,
                dialog: None,
                withdrawn: false,
            },
        );
        self.log("offered", json!({ "agent": agent }));
    }

    /// The ACD took the offer back (ring timeout, another agent answered, the offer went stale): stop
    /// ringing that agent.
    fn withdraw(&mut self, agent: &str) {
        let Some(call_id) = self
            .agents
            .iter()
            .find(|(_, l)| l.agent == agent && !l.withdrawn)
            .map(|(k, _)| k.clone())
        else {
            return;
        };
        if self.current.as_deref() == Some(call_id.as_str()) {
            self.current = None;
            if self.phase == Phase::Bridged {
                // Should not happen: the ACD withdrew an answered call. Keep the caller, drop the agent.
                self.phase = Phase::Queued;
            }
        }
        let answered_elsewhere = self.answered_agent.as_deref().is_some_and(|a| a != agent);
        self.drop_agent_leg(&call_id);
        let kind = if answered_elsewhere {
            "offer_withdrawn"
        } else {
            "no_answer"
        };
        self.log(kind, json!({ "agent": agent }));
    }

    /// CANCEL a ringing leg or BYE an answered one; the leg stays known until its final response.
    pub(super) fn drop_agent_leg(&mut self, call_id: &str) {
        let Some(leg) = self.agents.get_mut(call_id) else {
            return;
        };
        leg.withdrawn = true;
        let req = match &mut leg.dialog {
            None => build_cancel(&leg.invite),
            Some(dialog) => dialog.new_request(Method::Bye),
        };
        let (dest, transport, media_leg) = (leg.dest, leg.transport, leg.media_leg);
        self.sip(SipCmd::Request {
            req,
            dest,
            transport,
        });
        let _ = self.media.remove_leg(media_leg);
    }

    pub(super) async fn agent_response(&mut self, resp: Response) -> Option<Disposition> {
        let call_id = resp.call_id().unwrap_or_default().to_string();
        let (_, method) = resp.cseq()?;
        if method != Method::Invite || resp.status < 200 {
            return None;
        }
        let leg = self.agents.get_mut(&call_id)?;
        if resp.status >= 300 {
            if leg.withdrawn {
                self.agents.remove(&call_id);
                self.sip(SipCmd::Unbind { call_id });
                return None;
            }
            let reason = match resp.status {
                486 | 600 | 603 => FailReason::Rejected,
                408 | 480 | 487 => FailReason::NoAnswer,
                _ => FailReason::Unreachable,
            };
            info!(call = self.call_ref, status = resp.status, "agent declined");
            self.agent_failed(&call_id, reason).await;
            return None;
        }
        // 2xx: ACK it whatever we do next (RFC 3261 §13.2.2.4).
        let dialog = Dialog::uac(&leg.invite, &resp);
        if let Some(d) = &dialog {
            let ack = d.ack(&resp);
            let _ = self.ctx.sip.send(SipCmd::Stateless {
                msg: SipMessage::Request(ack),
                dest: leg.dest,
                transport: leg.transport,
            });
        }
        leg.dialog = dialog;
        let answered_sdp = std::str::from_utf8(&resp.body)
            .ok()
            .and_then(|s| Sdp::parse(s).ok());
        let negotiated: Option<Negotiated> =
            answered_sdp.as_ref().and_then(|s| sdp::negotiate(s).ok());
        let waiting = matches!(self.phase, Phase::Queued | Phase::CallbackWaiting);
        if leg.withdrawn || !waiting || negotiated.is_none() {
            let agent = leg.agent.clone();
            debug!(call = self.call_ref, %agent, "late or unusable answer; hanging up that leg");
            self.drop_agent_leg(&call_id);
            if self.current.as_deref() == Some(call_id.as_str())
                && !leg_withdrawn(&self.agents, &call_id)
            {
                self.current = None;
            }
            return None;
        }
        let agent = leg.agent.clone();
        let media_leg = leg.media_leg;
        if let Some(n) = negotiated {
            let _ = self.media.set_remote(media_leg, n);
        }
        self.current = Some(call_id.clone());
        self.answered = Some(Instant::now());
        self.answered_at = Some(now_utc());
        self.sos_escalate_at = None;
        self.answered_agent = Some(agent.clone());
        self.announce_at = None;
        self.max_wait_at = None;
        self.playlist.clear();
        self.acd(AcdInput::Answered {
            call: self.call_ref,
            agent: agent.clone(),
        });
        if self.phase == Phase::CallbackWaiting {
            info!(call = self.call_ref, %agent, "agent answered a call-back; whisper");
            self.log("answered", json!({ "agent": agent, "callback": true }));
            self.start_whisper(media_leg);
            return None;
        }
        if self.conference {
            // An SOS elder already talking to 120: the agent joins them as the third party.
            let _ = self
                .media
                .join(media_leg, hotline_media::engine::MixRole::Normal);
        } else if let Some(leg) = self.citizen_media() {
            let _ = self.media.stop(leg);
            let _ = self.media.bridge(leg, media_leg);
        }
        self.phase = Phase::Bridged;
        self.start_recording();
        info!(call = self.call_ref, %agent, "agent answered; bridged");
        let wait = self.queued.map(|q| secs(q.elapsed())).unwrap_or(0.0);
        self.update(CallUpdate {
            answered_at: Some(now_utc()),
            agent_id: Some(agent.clone()),
            wait_secs: Some(wait),
            ..Default::default()
        });
        self.log("answered", json!({ "agent": agent }));
        None
    }

    pub(super) async fn agent_failed(&mut self, call_id: &str, reason: FailReason) {
        let Some(leg) = self.agents.remove(call_id) else {
            return;
        };
        let _ = self.media.remove_leg(leg.media_leg);
        self.sip(SipCmd::Unbind {
            call_id: call_id.to_string(),
        });
        if self.current.as_deref() == Some(call_id) {
            self.current = None;
        }
        if !leg.withdrawn {
            self.offer_failed(leg.agent.clone(), reason);
        }
        self.log(
            "offer_failed",
            json!({ "agent": leg.agent, "reason": format!("{reason:?}") }),
        );
    }
}

fn leg_withdrawn(agents: &HashMap<String, AgentLeg>, call_id: &str) -> bool {
    agents.get(call_id).map(|l| l.withdrawn).unwrap_or(true)
}
