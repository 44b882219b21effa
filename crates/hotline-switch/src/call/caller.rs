//! The citizen's leg: answering the inbound INVITE (ticket first, then 200 OK and the greeting, or the SOS
//! path), requests inside its dialog (BYE, re-INVITE for hold, INFO digits) and hanging it up.

use std::sync::Arc;

use hotline_media::engine::{LegId, MediaHandle};
use hotline_media::sdp::{self, Direction};
use hotline_sip::dialog::Dialog;
use hotline_sip::msg::{Method, Request, Response};
use hotline_sip::transaction::ServerTxnId;
use hotline_tickets::{CallUpdate, NewVoiceTicket};
use serde_json::json;
use tracing::{info, warn};

use super::{now_utc, Call, CitizenLeg, Disposition, NewCall, Phase};
use crate::messages::SipCmd;
use crate::sipbuild;
use crate::ticket_log::ticket_failed;
use crate::Ctx;

impl Call {
    /// Answers the caller's INVITE (after the ticket exists) and starts the greeting.
    pub(super) async fn answer(ctx: Arc<Ctx>, new: NewCall, media: MediaHandle) -> Option<Call> {
        let invite = &new.invite;
        let caller_number = invite
            .from()
            .and_then(|f| f.uri.user.clone())
            .unwrap_or_else(|| "anonymous".to_string());
        let caller_call_id = invite.call_id().unwrap_or_default().to_string();

        // The ticket is committed before the call is answered: every call leaves one.
        let ticket = match ctx
            .tickets
            .create_voice(NewVoiceTicket {
                caller: caller_number.clone(),
                line: new.line.number.clone(),
                call_id: caller_call_id.clone(),
                created_at: now_utc(),
            })
            .await
        {
            Ok(t) => Some(t.id),
            Err(e) => {
                warn!("ticket create failed: {e}");
                None
            }
        };

        let fail = |status: u16, reason: &str| {
            let resp = Response::to_request(invite, status, reason);
            let _ = ctx.sip.send(SipCmd::Respond { id: new.id, resp });
        };
        let Some(ticket_id) = ticket else {
            fail(500, "Server Internal Error");
            return None;
        };

        let offer = sipbuild::sdp_of(invite.headers.get("Content-Type"), &invite.body);
        let negotiated = offer.as_ref().and_then(|o| sdp::negotiate(o).ok());
        let Some(negotiated) = negotiated else {
            fail(488, "Not Acceptable Here");
            ticket_failed(&ctx, ticket_id).await;
            return None;
        };

        let leg = match media.add_leg().await {
            Ok(l) => l,
            Err(e) => {
                warn!("no media port for a call: {e}");
                fail(503, "Service Unavailable");
                ticket_failed(&ctx, ticket_id).await;
                return None;
            }
        };
        let _ = media.set_remote(leg.leg, negotiated);

        let mut call = Call::new(
            ctx.clone(),
            new.call_ref,
            new.line.clone(),
            caller_number,
            ticket_id,
            media,
            new.tx.clone(),
        );
        let local = ctx.local_addr(new.transport);
        let answer_sdp =
            sdp::build_answer(ctx.media_ip, leg.local_port, &negotiated, new.call_ref, 1);
        let contact = sipbuild::contact(&new.line.number, local, new.transport);
        let resp = sipbuild::answer_invite(invite, &call.local_tag, &contact, &answer_sdp);
        let dialog = Dialog::uas(invite, &resp).map(|mut d| {
            d.via = Some((local.to_string(), new.transport));
            d
        });
        let _ = ctx.sip.send(SipCmd::Respond { id: new.id, resp });
        info!(call = new.call_ref, caller = %call.caller_number, line = %new.line.number, "call answered by the switch");

        call.citizen = Some(CitizenLeg {
            call_id: caller_call_id,
            dest: new.source,
            transport: new.transport,
            dialog,
            media_leg: leg.leg,
            port: leg.local_port,
            invite: None,
            left: false,
        });
        call.update(CallUpdate {
            priority: Some(call.priority),
            ..Default::default()
        });
        call.detect_sos(&new.invite).await;
        if call.sos.is_some() {
            call.start_sos().await;
            return Some(call);
        }
        match ctx.prompts.get(&new.line.greeting) {
            Some(p) => call.play_to_citizen(p),
            None => {
                warn!(greeting = %new.line.greeting, "greeting prompt missing; skipping it");
                call.after_greeting().await;
            }
        }
        Some(call)
    }

    pub(super) async fn citizen_request(
        &mut self,
        id: ServerTxnId,
        req: Request,
    ) -> Option<Disposition> {
        let tag = self.local_tag_for(&req);
        match req.method {
            Method::Bye => {
                self.respond(id, sipbuild::reply(&req, 200, "OK", &tag));
                info!(call = self.call_ref, "caller hung up");
                if let Some(c) = self.citizen.as_mut() {
                    c.left = true;
                }
                self.log("caller_hangup", json!({}));
                // A citizen waiting for a call-back already left; the BYE only crossed ours.
                if self.phase == Phase::CallbackWaiting {
                    return None;
                }
                Some(self.hangup_disposition())
            }
            Method::Invite => {
                let c = self.citizen.as_mut()?;
                if let Some(d) = c.dialog.as_mut() {
                    d.update_remote_target(&req);
                }
                let (leg, port) = (c.media_leg, c.port);
                self.reinvite(id, req, leg, port, "caller").await;
                None
            }
            Method::Info => self.info(id, req, "caller").await,
            _ => {
                self.respond(id, sipbuild::reply(&req, 200, "OK", &tag));
                None
            }
        }
    }

    /// Hold/unhold and codec changes inside a dialog: answer with the same port, pause sending while held.
    pub(super) async fn reinvite(
        &mut self,
        id: ServerTxnId,
        req: Request,
        leg: LegId,
        port: u16,
        who: &str,
    ) {
        let offer = sipbuild::sdp_of(req.headers.get("Content-Type"), &req.body);
        let tag = self.local_tag_for(&req);
        match offer.as_ref().map(sdp::negotiate) {
            Some(Ok(n)) => {
                let held = matches!(n.direction, Direction::SendOnly | Direction::Inactive)
                    || n.remote.ip().is_unspecified();
                self.sdp_version += 1;
                let answer =
                    sdp::build_answer(self.ctx.media_ip, port, &n, self.call_ref, self.sdp_version);
                let _ = self.media.set_remote(leg, n);
                let _ = self.media.set_hold(leg, held);
                let transport = self
                    .citizen
                    .as_ref()
                    .map_or(hotline_sip::Transport::Udp, |c| c.transport);
                let local = self.ctx.local_addr(transport);
                let mut resp = sipbuild::reply(&req, 200, "OK", &tag);
                resp.headers.push(
                    "Contact",
                    sipbuild::contact(&self.line.number, local, transport),
                );
                resp.headers.push("Content-Type", "application/sdp");
                resp.body = answer.into_bytes();
                self.respond(id, resp);
                let kind = if held { "hold" } else { "unhold" };
                self.log(kind, json!({ "by": who }));
            }
            Some(Err(_)) => {
                self.respond(id, sipbuild::reply(&req, 488, "Not Acceptable Here", &tag))
            }
            None => {
                // No offer (e.g. a session refresh): answer with our current description.
                self.respond(id, sipbuild::reply(&req, 200, "OK", &tag));
            }
        }
    }

    pub(super) async fn info(
        &mut self,
        id: ServerTxnId,
        req: Request,
        who: &str,
    ) -> Option<Disposition> {
        let tag = self.local_tag_for(&req);
        let digit = hotline_media::dtmf::parse_info(req.content_type().unwrap_or(""), &req.body);
        self.respond(id, sipbuild::reply(&req, 200, "OK", &tag));
        match digit {
            Some(d) => self.dtmf(d, "sip_info", who).await,
            None => None,
        }
    }

    /// BYEs an established citizen leg (CANCELs one still ringing) unless the citizen already left.
    pub(super) fn hang_up_citizen(&mut self) {
        let Some(c) = self.citizen.as_mut() else {
            return;
        };
        if c.left {
            return;
        }
        c.left = true;
        let req = match (&mut c.dialog, &c.invite) {
            (Some(d), _) => d.new_request(Method::Bye),
            (None, Some(invite)) => hotline_sip::transaction::build_cancel(invite),
            (None, None) => return,
        };
        let (dest, transport, media_leg) = (c.dest, c.transport, c.media_leg);
        let _ = self.media.stop(media_leg);
        self.sip(SipCmd::Request {
            req,
            dest,
            transport,
        });
    }
}
