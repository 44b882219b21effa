//! Attended transfer from the agent's own phone: the agent holds the citizen, dials the target (110…) as a
//! new call, talks to it, then presses "transfer" — the phone sends REFER on the citizen's dialog with
//! `Refer-To: <sip:110@…?Replaces=…>` naming that consultation dialog (RFC 3891).
//!
//! The SIP actor routes the agent's consultation INVITE to the call the agent is on (see
//! `CallRegistry::call_of_agent`), so this task owns both dialogs: the consultation leg is answered when the
//! target answers, the two talk in the call's mixer while the citizen stays bridged to the held agent leg,
//! and the REFER hands the citizen to the target and releases the agent.

use std::net::SocketAddr;

use hotline_media::engine::{LegId, MixRole};
use hotline_media::sdp::{self, Negotiated};
use hotline_sip::dialog::Dialog;
use hotline_sip::msg::{Request, Response};
use hotline_sip::transaction::ServerTxnId;
use hotline_sip::util::new_tag;
use hotline_sip::Transport;
use serde_json::json;
use tracing::info;

use super::party::ThirdMode;
use super::{Call, Disposition};
use crate::messages::SipCmd;
use crate::sipbuild;

/// The agent's consultation call to a transfer target, placed through this call.
pub(super) struct ConsultLeg {
    /// The agent's INVITE (its Call-ID names the dialog a Replaces refers to).
    pub(super) call_id: String,
    pub(super) id: ServerTxnId,
    pub(super) invite: Request,
    pub(super) source: SocketAddr,
    pub(super) transport: Transport,
    pub(super) media_leg: LegId,
    pub(super) local_port: u16,
    pub(super) negotiated: Negotiated,
    /// Our To tag towards the agent on this dialog.
    pub(super) tag: String,
    /// The Call-ID of our INVITE to the target (a party of this call).
    pub(super) party: String,
    pub(super) dialog: Option<Dialog>,
}

impl Call {
    /// A new INVITE from the agent on this call to a number: a consultation.
    pub(super) async fn consult_invite(
        &mut self,
        id: ServerTxnId,
        req: Request,
        source: SocketAddr,
        transport: Transport,
    ) -> Option<Disposition> {
        let call_id = req.call_id().unwrap_or_default().to_string();
        let tag = new_tag();
        let refuse = |call: &Call, status: u16, reason: &str| {
            call.respond(id, sipbuild::reply(&req, status, reason, &tag));
            call.sip(SipCmd::Unbind {
                call_id: call_id.clone(),
            });
        };
        if self.agent_media().is_none() || self.consult.is_some() {
            refuse(self, 486, "Busy Here");
            return None;
        }
        let number = req.uri.user.clone().unwrap_or_default();
        let Some(negotiated) = sipbuild::sdp_of(req.headers.get("Content-Type"), &req.body)
            .and_then(|o| sdp::negotiate(&o).ok())
        else {
            refuse(self, 488, "Not Acceptable Here");
            return None;
        };
        let Ok(leg) = self.media.add_leg().await else {
            refuse(self, 503, "Service Unavailable");
            return None;
        };
        let _ = self.media.set_remote(leg.leg, negotiated);
        let party = match self.dial_third(&number, ThirdMode::AttendedTransfer).await {
            Ok(p) => p,
            Err(e) => {
                info!(call = self.call_ref, %number, "consultation refused: {e}");
                let _ = self.media.remove_leg(leg.leg);
                refuse(self, 404, "Not Found");
                return None;
            }
        };
        self.respond(id, sipbuild::reply(&req, 180, "Ringing", &tag));
        self.log("consultation", json!({ "number": number }));
        self.consult = Some(ConsultLeg {
            call_id,
            id,
            invite: req,
            source,
            transport,
            media_leg: leg.leg,
            local_port: leg.local_port,
            negotiated,
            tag,
            party,
            dialog: None,
        });
        None
    }

    /// Whether `party` (Call-ID) is the target of the agent's consultation.
    pub(super) fn is_consult_party(&self, party: &str) -> bool {
        self.consult.as_ref().is_some_and(|c| c.party == party)
    }

    /// The target answered: answer the agent's consultation INVITE and let the two talk (the citizen stays
    /// bridged to the agent's held leg).
    pub(super) fn consult_answered(&mut self, party_leg: LegId) {
        let local = self.ctx.local_addr(hotline_sip::Transport::Udp);
        let Some(c) = self.consult.as_mut() else {
            return;
        };
        let answer = sdp::build_answer(
            self.ctx.media_ip,
            c.local_port,
            &c.negotiated,
            self.call_ref,
            1,
        );
        let contact = sipbuild::contact(
            &self.line.number,
            self.ctx.local_addr(c.transport),
            c.transport,
        );
        let resp = sipbuild::answer_invite(&c.invite, &c.tag, &contact, &answer);
        c.dialog = Dialog::uas(&c.invite, &resp).map(|mut d| {
            d.via = Some((local.to_string(), c.transport));
            d
        });
        let (id, leg) = (c.id, c.media_leg);
        self.respond(id, resp);
        let _ = self.media.join(leg, MixRole::Normal);
        let _ = self.media.join(party_leg, MixRole::Normal);
        self.log("consultation_answered", json!({}));
    }

    /// The target did not answer: the agent's consultation INVITE fails the same way.
    pub(super) fn consult_failed(&mut self, status: u16) {
        let Some(c) = self.consult.take() else {
            return;
        };
        let reason = match status {
            486 => "Busy Here",
            480 => "Temporarily Unavailable",
            487 => "Request Terminated",
            _ => "Service Unavailable",
        };
        let resp = Response::to_request(&c.invite, status.max(400), reason);
        self.respond(c.id, resp);
        let _ = self.media.remove_leg(c.media_leg);
    }

    /// A request on the consultation dialog (BYE, re-INVITE) or a CANCEL of it.
    pub(super) async fn consult_request(
        &mut self,
        id: ServerTxnId,
        req: Request,
    ) -> Option<Disposition> {
        let c = self.consult.as_mut()?;
        let tag = c.tag.clone();
        match req.method {
            hotline_sip::msg::Method::Bye => {
                self.respond(id, sipbuild::reply(&req, 200, "OK", &tag));
                self.end_consult("agent_hung_up");
            }
            hotline_sip::msg::Method::Invite => {
                if let Some(d) = c.dialog.as_mut() {
                    d.update_remote_target(&req);
                }
                let (leg, port) = (c.media_leg, c.local_port);
                self.reinvite(id, req, leg, port, "agent").await;
            }
            _ => self.respond(id, sipbuild::reply(&req, 200, "OK", &tag)),
        }
        None
    }

    /// The agent gave up the consultation (hung it up or cancelled it): the target is hung up too.
    pub(super) fn end_consult(&mut self, why: &str) {
        let Some(c) = self.consult.take() else {
            return;
        };
        if c.dialog.is_none() {
            self.respond(
                c.id,
                Response::to_request(&c.invite, 487, "Request Terminated"),
            );
        }
        let _ = self.media.remove_leg(c.media_leg);
        self.drop_party(&c.party);
        let _ = self.party_gone(&c.party, why);
        self.log("consultation_ended", json!({ "why": why }));
    }

    /// REFER with Replaces naming the consultation: the citizen goes to the target; the agent is released.
    /// Returns false when there is no answered consultation to hand over to.
    pub(super) fn complete_consult(&mut self) -> bool {
        let Some(c) = self.consult.take() else {
            return false;
        };
        let Some(mut dialog) = c.dialog else {
            self.consult = Some(c);
            return false;
        };
        // The consultation dialog is replaced by the citizen's: end it.
        let bye = dialog.new_request(hotline_sip::msg::Method::Bye);
        self.sip(SipCmd::Request {
            req: bye,
            dest: c.source,
            transport: c.transport,
        });
        let _ = self.media.remove_leg(c.media_leg);
        if let Some(citizen) = self.citizen_media() {
            let _ = self.media.stop(citizen);
            let _ = self.media.join(citizen, MixRole::Normal);
        }
        self.conference = true;
        if let Some(p) = self.parties.get_mut(&c.party) {
            p.joined = true;
        }
        self.refer_progress(200, "OK");
        if let Some(agent_call) = self.current.take() {
            self.drop_agent_leg(&agent_call);
        }
        self.release_agent("transferred");
        info!(
            call = self.call_ref,
            "attended transfer by REFER/Replaces completed"
        );
        true
    }
}
