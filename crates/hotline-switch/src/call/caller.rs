//! The citizen's leg: requests inside its dialog (BYE, re-INVITE for hold, INFO digits) and hanging it up.

use hotline_media::engine::LegId;
use hotline_media::sdp::{self, Direction};
use hotline_sip::msg::{Method, Request};
use hotline_sip::transaction::ServerTxnId;
use serde_json::json;
use tracing::info;

use super::{Call, Disposition, Phase};
use crate::messages::SipCmd;
use crate::sipbuild;

impl Call {
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
