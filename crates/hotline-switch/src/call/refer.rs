//! SIP REFER from the agent's softphone (RFC 3515): the phone's own "transfer" button.
//!
//! * **Blind** (`Refer-To: <sip:110@…>`): accepted with 202 and carried out like `*4` — the switch dials the
//!   number, the agent stays on until it answers and is then released; NOTIFYs report `100 Trying`, then the
//!   outcome (`200 OK`, or the failure, in which case citizen and agent stay together).
//! * **Attended** (`Refer-To: <sip:110@…?Replaces=…>`, RFC 3891): the Replaces header names the consultation
//!   the agent's phone placed through this call (`consult`). The citizen is then handed to the target and the
//!   agent released, with `NOTIFY 200`. A Replaces naming any other dialog is refused with 403 (the agent's
//!   phone keeps both calls).

use hotline_sip::msg::Request;
use hotline_sip::refer::{refer_notify, ReferTo};
use hotline_sip::transaction::ServerTxnId;
use serde_json::json;
use tracing::info;

use super::party::{PartyRole, ThirdMode};
use super::{Call, Disposition};
use crate::messages::SipCmd;
use crate::sipbuild;

/// A REFER we accepted and still report on.
pub(super) struct ReferSubscription {
    /// The agent leg (Call-ID) the REFER came in on: NOTIFYs go there.
    pub(super) agent_call_id: String,
    /// The REFER's CSeq number (`Event: refer;id=N`).
    pub(super) event_id: u32,
}

impl Call {
    pub(super) async fn agent_refer(
        &mut self,
        id: ServerTxnId,
        req: Request,
        call_id: &str,
    ) -> Option<Disposition> {
        let tag = self.local_tag_for(&req);
        let reply = |call: &Call, status: u16, reason: &str| {
            call.respond(id, sipbuild::reply(&req, status, reason, &tag));
        };
        if self.current.as_deref() != Some(call_id) || self.agent_media().is_none() {
            reply(self, 403, "Forbidden");
            return None;
        }
        let refer_to = match ReferTo::from_request(&req) {
            Ok(r) => r,
            Err(e) => {
                info!(call = self.call_ref, "bad REFER: {e}");
                reply(self, 400, "Bad Refer-To");
                return None;
            }
        };
        let event_id = req.cseq().map_or(1, |(n, _)| n);
        self.log(
            "refer",
            json!({ "refer_to": refer_to.to_string(), "attended": refer_to.replaces.is_some() }),
        );
        if let Some(replaces) = &refer_to.replaces {
            // Attended: the Replaces must name the consultation the agent placed through this call.
            if self
                .consult
                .as_ref()
                .is_none_or(|c| c.call_id != replaces.call_id)
            {
                reply(self, 403, "Forbidden");
                return None;
            }
            reply(self, 202, "Accepted");
            self.subscribe_refer(call_id, event_id);
            if !self.complete_consult() {
                self.refer_progress(503, "Service Unavailable");
            }
            return None;
        }
        let Some(number) = refer_to.target_user().map(str::to_string) else {
            reply(self, 400, "Refer-To Has No Number");
            return None;
        };
        match self.bring_in(&number, ThirdMode::BlindTransfer).await {
            Ok(()) => {
                reply(self, 202, "Accepted");
                self.subscribe_refer(call_id, event_id);
            }
            Err(e) => {
                info!(call = self.call_ref, %number, "REFER refused: {e}");
                let (status, reason) = match e {
                    hotline_api::CallControlError::Unavailable(_) => (503, "Service Unavailable"),
                    hotline_api::CallControlError::Conflict(_) => (491, "Request Pending"),
                    _ => (403, "Forbidden"),
                };
                reply(self, status, reason);
            }
        }
        None
    }

    /// The REFER was accepted: its progress is reported on the agent's leg, starting now.
    fn subscribe_refer(&mut self, agent_call_id: &str, event_id: u32) {
        self.refer = Some(ReferSubscription {
            agent_call_id: agent_call_id.to_string(),
            event_id,
        });
        self.refer_progress(100, "Trying");
    }

    /// Reports the REFER's progress to the agent's phone; a final status ends the subscription.
    pub(super) fn refer_progress(&mut self, status: u16, reason: &str) {
        let Some(sub) = &self.refer else {
            return;
        };
        let (agent_call_id, event_id) = (sub.agent_call_id.clone(), sub.event_id);
        if status >= 200 {
            self.refer = None;
        }
        let Some(leg) = self.agents.get_mut(&agent_call_id) else {
            return;
        };
        let Some(dialog) = leg.dialog.as_mut() else {
            return;
        };
        let notify = refer_notify(dialog, Some(event_id), status, reason);
        let (dest, transport) = (leg.dest, leg.transport);
        self.sip(SipCmd::Request {
            req: notify,
            dest,
            transport,
        });
    }

    /// The party a blind REFER dialled answered or failed.
    pub(super) fn refer_result(&mut self, role: &PartyRole, status: u16, reason: &str) {
        if matches!(role, PartyRole::Third(ThirdMode::BlindTransfer)) {
            self.refer_progress(status, reason);
        }
    }
}
