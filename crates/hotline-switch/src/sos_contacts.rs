//! After an SOS call: the elder's emergency contacts are called in order through the outbound trunk, each
//! hearing a prompt ("your family member pressed their SOS button… press 1 to confirm"), until one presses 1.
//! Every attempt and its result goes on the ticket (`sos_contact_attempt`), the round's end too
//! (`sos_contacts_done`).
//!
//! One task per round; each attempt is a small outbound call with its own media session.

use std::sync::Arc;
use std::time::Duration;

use hotline_media::engine::{MediaEvent, MediaEventKind};
use hotline_media::sdp::{self, Sdp};
use hotline_sip::dialog::Dialog;
use hotline_sip::msg::{Method, SipMessage};
use hotline_sip::transaction::build_cancel;
use hotline_tickets::{EmergencyContact, SosDevice};
use serde_json::json;
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant};
use tracing::{info, warn};

use crate::messages::{CallInput, SipCmd};
use crate::{sipbuild, Ctx};

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attempt {
    Confirmed,
    /// Answered but nobody pressed 1.
    NoConfirmation,
    Busy,
    NoAnswer,
    Failed,
    /// No trunk or an unusable number.
    NoRoute,
}

impl Attempt {
    fn as_str(self) -> &'static str {
        match self {
            Attempt::Confirmed => "confirmed",
            Attempt::NoConfirmation => "no_confirmation",
            Attempt::Busy => "busy",
            Attempt::NoAnswer => "no_answer",
            Attempt::Failed => "failed",
            Attempt::NoRoute => "no_route",
        }
    }
}

/// Calls the device's contacts in order (in the background) and records every attempt on `ticket`.
pub(crate) fn spawn_contact_round(ctx: Arc<Ctx>, ticket: i64, device: SosDevice) {
    if device.contacts.is_empty() {
        return;
    }
    tokio::spawn(async move {
        let mut confirmed_by = None;
        for (i, contact) in device.contacts.iter().enumerate() {
            let result = call_contact(&ctx, &device, contact).await;
            info!(ticket, contact = %contact.number, result = result.as_str(), "SOS contact attempt");
            let detail = json!({
                "order": i + 1,
                "name": contact.name,
                "relation": contact.relation,
                "number": contact.number,
                "result": result.as_str(),
            });
            if let Err(e) = ctx
                .tickets
                .add_interaction(ticket, chrono::Utc::now(), "sos_contact_attempt", detail)
                .await
            {
                warn!(ticket, "SOS contact attempt not logged: {e}");
            }
            if result == Attempt::Confirmed {
                confirmed_by = Some(contact.number.clone());
                break;
            }
        }
        let _ = ctx
            .tickets
            .add_interaction(
                ticket,
                chrono::Utc::now(),
                "sos_contacts_done",
                json!({ "confirmed_by": confirmed_by }),
            )
            .await;
    });
}

async fn call_contact(ctx: &Arc<Ctx>, device: &SosDevice, contact: &EmergencyContact) -> Attempt {
    let ring = Duration::from_secs(ctx.config.sos.as_ref().map_or(30, |s| s.contact_ring_secs));
    let Some(trunk) = ctx.config.trunks.outbound.clone() else {
        return Attempt::NoRoute;
    };
    let Some(uri) = ctx.config.dial_target(&contact.number) else {
        return Attempt::NoRoute;
    };
    let Some((target, dest, transport)) = crate::call::sip_target(&uri) else {
        return Attempt::NoRoute;
    };
    let (tx, mut rx) = mpsc::unbounded_channel::<CallInput>();
    let (media_tx, mut media_rx) = mpsc::unbounded_channel::<MediaEvent>();
    let media = ctx.media.session(media_tx, ctx.new_call_ref());
    let Ok(leg) = media.add_leg().await else {
        let _ = media.close();
        return Attempt::Failed;
    };
    let local = ctx.local_addr(transport);
    let caller_id = trunk
        .caller_id
        .clone()
        .unwrap_or_else(|| device.number.clone());
    let domain = target.host_unbracketed().to_string();
    let offer = sdp::build_offer(
        ctx.media_ip,
        leg.local_port,
        sdp::Direction::SendRecv,
        101,
        media.tag(),
        1,
    );
    let Ok((invite, call_id)) = sipbuild::offer_invite(
        &sipbuild::OutOfDialog {
            target: &target.to_string(),
            from_user: &caller_id,
            to_user: &contact.number,
            domain: &domain,
            local,
            transport,
        },
        &caller_id,
        &offer,
    ) else {
        let _ = media.close();
        return Attempt::NoRoute;
    };
    let send = |cmd: SipCmd| {
        let _ = ctx.sip.send(cmd);
    };
    send(SipCmd::Bind {
        call_id: call_id.clone(),
        tx,
    });
    send(SipCmd::Request {
        req: invite.clone(),
        dest,
        transport,
    });

    let notify = ctx.prompts.get("sos-contact-notify");
    let confirmed_prompt = ctx.prompts.get("sos-contact-confirmed");
    // Not answered within `ring`: give up on this contact.
    let mut deadline = Instant::now() + ring;
    let mut dialog: Option<Dialog> = None;
    let mut plays = 0u32;
    let mut result: Option<Attempt> = None;
    let mut confirmed = false;
    loop {
        tokio::select! {
            input = rx.recv() => {
                let Some(input) = input else { break };
                match input {
                    CallInput::Response { resp } => {
                        let is_invite = resp.cseq().is_some_and(|(_, m)| m == Method::Invite);
                        if !is_invite || resp.status < 200 || dialog.is_some() {
                            continue;
                        }
                        if resp.status >= 300 {
                            result.get_or_insert(match resp.status {
                                486 | 600 => Attempt::Busy,
                                408 | 480 | 487 | 603 => Attempt::NoAnswer,
                                _ => Attempt::Failed,
                            });
                            break;
                        }
                        let Some(d) = Dialog::uac(&invite, &resp) else { continue };
                        send(SipCmd::Stateless { msg: SipMessage::Request(d.ack(&resp)), dest, transport });
                        let neg = std::str::from_utf8(&resp.body).ok()
                            .and_then(|s| Sdp::parse(s).ok())
                            .and_then(|s| sdp::negotiate(&s).ok());
                        dialog = Some(d);
                        if result.is_some() {
                            // Answered after we gave up (CANCEL crossed the 200).
                            break;
                        }
                        match (neg, &notify) {
                            (Some(n), Some(p)) => {
                                let _ = media.set_remote(leg.leg, n);
                                let _ = media.play(leg.leg, p.clone(), false);
                                plays = 1;
                                deadline = Instant::now() + p.duration() + Duration::from_secs(8);
                            }
                            _ => {
                                result = Some(Attempt::Failed);
                                break;
                            }
                        }
                    }
                    CallInput::Request { id, req, .. } => {
                        let tag = req.to().and_then(|t| t.tag().map(str::to_string)).unwrap_or_default();
                        send(SipCmd::Respond { id, resp: sipbuild::reply(&req, 200, "OK", &tag) });
                        if req.method == Method::Bye {
                            dialog = None;
                            result.get_or_insert(if confirmed { Attempt::Confirmed } else { Attempt::NoConfirmation });
                            break;
                        }
                        if req.method == Method::Info && !confirmed {
                            let d = hotline_media::dtmf::parse_info(req.content_type().unwrap_or(""), &req.body);
                            if d == Some('1') {
                                confirmed = true;
                                if let Some(p) = &confirmed_prompt {
                                    let _ = media.play(leg.leg, p.clone(), false);
                                    deadline = Instant::now() + p.duration() + Duration::from_millis(500);
                                }
                            }
                        }
                    }
                    CallInput::RequestTimeout { method: Method::Invite, .. } => {
                        result.get_or_insert(Attempt::NoAnswer);
                        break;
                    }
                    _ => {}
                }
            }
            ev = media_rx.recv() => {
                let Some(ev) = ev else { break };
                match ev.kind {
                    MediaEventKind::Dtmf('1') if !confirmed && dialog.is_some() => {
                        confirmed = true;
                        if let Some(p) = &confirmed_prompt {
                            let _ = media.play(leg.leg, p.clone(), false);
                            deadline = Instant::now() + p.duration() + Duration::from_millis(500);
                        }
                    }
                    MediaEventKind::PlayDone if confirmed => {
                        result = Some(Attempt::Confirmed);
                        break;
                    }
                    // The prompt is said twice before we wait out the deadline.
                    MediaEventKind::PlayDone if plays < 2 => {
                        if let Some(p) = &notify {
                            let _ = media.play(leg.leg, p.clone(), false);
                            plays += 1;
                            deadline = Instant::now() + p.duration() + Duration::from_secs(8);
                        }
                    }
                    _ => {}
                }
            }
            _ = sleep_until(deadline) => {
                if dialog.is_none() && result.is_none() {
                    // Still ringing: CANCEL and wait briefly for the 487.
                    send(SipCmd::Request { req: build_cancel(&invite), dest, transport });
                    result = Some(Attempt::NoAnswer);
                    deadline = Instant::now() + Duration::from_secs(4);
                    continue;
                }
                result.get_or_insert(if confirmed { Attempt::Confirmed } else { Attempt::NoConfirmation });
                break;
            }
        }
    }
    if let Some(mut d) = dialog {
        send(SipCmd::Request {
            req: d.new_request(Method::Bye),
            dest,
            transport,
        });
        // Let the BYE's response arrive before unbinding.
        let _ = tokio::time::timeout(Duration::from_secs(2), rx.recv()).await;
    }
    send(SipCmd::Unbind { call_id });
    let _ = media.close();
    result.unwrap_or(Attempt::Failed)
}
