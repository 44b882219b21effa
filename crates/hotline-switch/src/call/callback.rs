//! Call-backs (回拨). A waiting citizen may leave a call-back request (key, menu or max-wait) and hang
//! up: the task keeps the call's place in the queue. A missed call may be dialled back from the API:
//! the task is created without an inbound leg and joins the queue. Either way, when an agent answers,
//! the agent hears a whisper with the number, then the task dials the citizen through `[trunks.outbound]`
//! and bridges the two.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use hotline_acd::AcdInput;
use hotline_media::engine::{LegId, MediaEvent};
use hotline_media::sdp::{self, Sdp};
use hotline_sip::dialog::Dialog;
use hotline_sip::msg::{Method, Response, SipMessage, SipUri};
use hotline_sip::Transport;
use hotline_tickets::{
    CallUpdate, Callback, CallbackKind as RowKind, CallbackStatus, CallbackUpdate, NewCallback,
};
use serde_json::json;
use tokio::sync::mpsc;
use tracing::{info, warn};

use super::{
    digit_prompts, now_utc, secs, AfterPlay, Call, CallbackKind, CallbackState, CitizenLeg,
    Disposition, Phase,
};
use crate::messages::{AcdCmd, SipCmd};
use crate::sipbuild;
use crate::Ctx;

/// Call-backs that have a task (waiting in a queue or being dialled), so the API cannot start a second.
#[derive(Default)]
pub struct CallbacksInProgress(Mutex<HashSet<i64>>);

impl CallbacksInProgress {
    /// Marks `id` as in progress; false if it already was.
    pub fn claim(&self, id: i64) -> bool {
        self.0.lock().map(|mut s| s.insert(id)).unwrap_or(false)
    }

    pub fn release(&self, id: i64) {
        if let Ok(mut s) = self.0.lock() {
            s.remove(&id);
        }
    }
}

/// Why the API could not start a call-back.
#[derive(Debug, thiserror::Error)]
pub enum DialError {
    #[error("no [trunks.outbound] configured: the switch cannot place outbound calls")]
    NoTrunk,
    #[error("call-back {0} is already waiting or being dialled")]
    InProgress(i64),
    #[error("call-back {0} is already connected")]
    Done(i64),
    #[error("queue `{0}` no longer exists")]
    UnknownQueue(String),
}

/// Starts the call-back of `cb` (from the API): the task joins the call-back's queue and, when an agent
/// answers, dials the citizen.
pub fn spawn_callback_call(ctx: Arc<Ctx>, cb: Callback) -> Result<(), DialError> {
    if ctx.config.trunks.outbound.is_none() {
        return Err(DialError::NoTrunk);
    }
    if cb.status == CallbackStatus::Connected {
        return Err(DialError::Done(cb.id));
    }
    if ctx.config.queue(&cb.queue).is_none() {
        return Err(DialError::UnknownQueue(cb.queue.clone()));
    }
    if !ctx.callbacks.claim(cb.id) {
        return Err(DialError::InProgress(cb.id));
    }
    let line = ctx
        .config
        .lines
        .iter()
        .find(|l| l.number == cb.line)
        .or_else(|| ctx.config.lines.first())
        .cloned();
    let Some(mut line) = line else {
        ctx.callbacks.release(cb.id);
        return Err(DialError::UnknownQueue(cb.queue.clone()));
    };
    line.queue = cb.queue.clone();
    let call_ref = ctx.new_call_ref();
    let (tx, rx) = mpsc::unbounded_channel();
    ctx.active_calls.fetch_add(1, Ordering::SeqCst);
    tokio::spawn(async move {
        let (media_tx, media_rx) = mpsc::unbounded_channel::<MediaEvent>();
        let media = ctx.media.session(media_tx, call_ref);
        let mut call = Call::new(
            ctx.clone(),
            call_ref,
            line,
            cb.caller.clone(),
            cb.ticket_id,
            media,
            tx.clone(),
        );
        call.callback = Some(CallbackState {
            id: cb.id,
            kind: match cb.kind {
                RowKind::Requested => CallbackKind::Requested,
                RowKind::Missed => CallbackKind::Missed,
            },
        });
        call.phase = Phase::CallbackWaiting;
        call.set_parked(true);
        call.queued = Some(Instant::now());
        call.attached = true;
        let _ = ctx.acd.send(AcdCmd::Attach {
            call: call_ref,
            ticket: cb.ticket_id,
            tx,
        });
        call.acd(AcdInput::Enqueue {
            call: call_ref,
            queue: cb.queue.clone(),
            priority: call.priority,
            callback: true,
        });
        info!(call = call_ref, callback = cb.id, caller = %cb.caller, "call-back queued from the API");
        call.log(
            "callback_queued",
            json!({ "callback_id": cb.id, "queue": cb.queue, "kind": cb.kind.as_str() }),
        );
        call.run(rx, media_rx).await;
        ctx.callbacks.release(cb.id);
        ctx.active_calls.fetch_sub(1, Ordering::SeqCst);
    });
    Ok(())
}

impl Call {
    /// Registers a call-back for this waiting citizen: confirm, hang up, keep the place in the queue.
    /// False when call-backs are impossible (no outbound trunk) or the request could not be stored.
    pub(super) async fn request_callback(&mut self, from: &str) -> bool {
        if self.ctx.config.trunks.outbound.is_none() {
            return false;
        }
        if self.callback.is_some() {
            return true;
        }
        let created = self
            .ctx
            .tickets
            .create_callback(self.callback_row_for(RowKind::Requested))
            .await;
        let cb = match created {
            Ok(cb) => cb,
            Err(e) => {
                warn!(call = self.call_ref, "call-back request not stored: {e}");
                return false;
            }
        };
        self.ctx.callbacks.claim(cb.id);
        self.callback = Some(CallbackState {
            id: cb.id,
            kind: CallbackKind::Requested,
        });
        info!(
            call = self.call_ref,
            callback = cb.id,
            from,
            "call-back requested"
        );
        self.log(
            "callback_requested",
            json!({ "from": from, "callback_id": cb.id, "queue": self.queue }),
        );
        // The inbound contact ends here for the citizen; the call-back is logged on the same ticket.
        self.update(CallUpdate {
            disposition: Some(Disposition::CallbackRequested),
            ended_at: Some(now_utc()),
            wait_secs: self.queued.map(|q| secs(q.elapsed())),
            ivr_path: self.ivr.as_ref().map(|i| i.path_summary()),
            ..Default::default()
        });
        self.phase = Phase::CallbackWaiting;
        self.announce_at = None;
        self.max_wait_at = None;
        self.after_play = AfterPlay::AwaitCallback;
        self.play_sequence(&["callback-registered".to_string()]);
        if self.citizen_media().is_none() {
            self.await_callback();
        }
        true
    }

    /// A call-back of this call's citizen, line and queue.
    fn callback_row_for(&self, kind: RowKind) -> NewCallback {
        NewCallback {
            ticket_id: self.ticket_id,
            caller: self.caller_number.clone(),
            line: self.line.number.clone(),
            queue: self.queue.clone(),
            kind,
            created_at: now_utc(),
        }
    }

    /// The caller gave up waiting: the number joins the missed-call list (漏接回拨), one entry per number.
    pub(super) async fn record_missed_call(&mut self) {
        // A withheld number cannot be called back.
        if !self.caller_number.chars().any(|c| c.is_ascii_digit()) {
            return;
        }
        let created = self
            .ctx
            .tickets
            .create_callback(self.callback_row_for(RowKind::Missed))
            .await;
        match created {
            Ok(cb) => self.log(
                "missed_call_listed",
                json!({ "callback_id": cb.id, "kind": cb.kind.as_str() }),
            ),
            Err(e) => warn!(call = self.call_ref, "missed call not listed: {e}"),
        }
    }

    /// The confirmation was heard: hang up the citizen; the task stays in the queue.
    pub(super) fn await_callback(&mut self) {
        self.hang_up_citizen();
        self.set_parked(true);
        self.log("callback_waiting", json!({ "queue": self.queue }));
    }

    /// An agent answered a call-back: whisper the number, then dial. If the citizen is somehow still on
    /// the line (the agent answered during the confirmation), connect them directly.
    pub(super) fn start_whisper(&mut self, agent_media: LegId) {
        self.set_parked(false);
        if let Some(leg) = self.citizen_media() {
            let _ = self.media.stop(leg);
            let _ = self.media.bridge(leg, agent_media);
            self.after_play = AfterPlay::Nothing;
            self.phase = Phase::Bridged;
            self.callback_connected();
            return;
        }
        self.phase = Phase::Whisper;
        self.whisper.clear();
        let mut names = vec!["callback-whisper".to_string()];
        names.extend(digit_prompts(&self.caller_number));
        for name in names {
            if let Some(p) = self.ctx.prompts.get(&name) {
                self.whisper.push_back(p);
            }
        }
        self.whisper_leg = Some(agent_media);
        self.whisper_next();
    }

    /// Plays the next whisper prompt to the agent; false when the whisper is over.
    pub(super) fn whisper_next(&mut self) -> bool {
        let (Some(leg), Some(p)) = (self.whisper_leg, self.whisper.pop_front()) else {
            return false;
        };
        let _ = self.media.play(leg, p, false);
        true
    }

    /// A prompt to the agent ended during the whisper.
    pub(super) async fn whisper_done(&mut self) -> Option<Disposition> {
        if self.whisper_next() {
            return None;
        }
        self.dial_citizen().await
    }

    /// Places the outbound call to the citizen through `[trunks.outbound]`.
    pub(super) async fn dial_citizen(&mut self) -> Option<Disposition> {
        if self.phase != Phase::Whisper {
            return None;
        }
        let Some(trunk) = self.ctx.config.trunks.outbound.clone() else {
            return self.citizen_unreachable("no outbound trunk").await;
        };
        let Some((target, dest, transport)) = trunk_target(&trunk.uri, &self.caller_number) else {
            return self.citizen_unreachable("bad trunk uri").await;
        };
        let leg = match self.media.add_leg().await {
            Ok(l) => l,
            Err(e) => {
                warn!("no media port for the call-back leg: {e}");
                return self.citizen_unreachable("no media port").await;
            }
        };
        let local = self.ctx.local_addr(transport);
        let caller_id = trunk
            .caller_id
            .clone()
            .unwrap_or_else(|| self.line.number.clone());
        let domain = target.host_unbracketed().to_string();
        let built = sipbuild::offer_invite(
            &sipbuild::OutOfDialog {
                target: &target.to_string(),
                from_user: &caller_id,
                to_user: &self.caller_number,
                domain: &domain,
                local,
                transport,
            },
            &caller_id,
            &self.offer_sdp(leg.local_port),
        );
        let Ok((req, call_id)) = built else {
            let _ = self.media.remove_leg(leg.leg);
            return self.citizen_unreachable("bad trunk uri").await;
        };
        if let Some(tag) = req.from().and_then(|f| f.tag().map(str::to_string)) {
            self.local_tag = tag;
        }
        self.start_leg(&call_id, &req, dest, transport);
        self.citizen = Some(CitizenLeg {
            call_id,
            dest,
            transport,
            dialog: None,
            media_leg: leg.leg,
            port: leg.local_port,
            invite: Some(req),
            left: false,
        });
        self.phase = Phase::DialingCitizen;
        info!(call = self.call_ref, number = %self.caller_number, %dest, "dialling the citizen back");
        self.log(
            "callback_dialing",
            json!({ "number": self.caller_number, "trunk": trunk.uri }),
        );
        self.callback_row(CallbackStatus::Dialing, None, true);
        None
    }

    /// A response on the citizen's leg: only our outbound INVITE's matter.
    pub(super) async fn citizen_response(&mut self, resp: Response) -> Option<Disposition> {
        let (_, method) = resp.cseq()?;
        if method != Method::Invite || resp.status < 200 {
            return None;
        }
        if resp.status >= 300 {
            if let Some(c) = self.citizen.as_mut() {
                c.left = true;
                c.invite = None;
            }
            let reason = format!("{} {}", resp.status, resp.reason);
            return self.citizen_unreachable(&reason).await;
        }
        let c = self.citizen.as_mut()?;
        let invite = c.invite.clone()?;
        let dialog = Dialog::uac(&invite, &resp);
        let ack = dialog.as_ref().map(|d| d.ack(&resp));
        c.dialog = dialog;
        let (dest, transport, citizen_media) = (c.dest, c.transport, c.media_leg);
        if let Some(ack) = ack {
            self.sip(SipCmd::Stateless {
                msg: SipMessage::Request(ack),
                dest,
                transport,
            });
        }
        let negotiated = std::str::from_utf8(&resp.body)
            .ok()
            .and_then(|s| Sdp::parse(s).ok())
            .and_then(|s| sdp::negotiate(&s).ok());
        let agent_media = self
            .current
            .as_ref()
            .and_then(|id| self.agents.get(id))
            .map(|l| l.media_leg);
        let (Some(n), Some(agent_media), Phase::DialingCitizen) =
            (negotiated, agent_media, self.phase)
        else {
            // The agent is gone or the answer is unusable: end that leg.
            self.hang_up_citizen();
            return self.citizen_unreachable("answer unusable").await;
        };
        let _ = self.media.set_remote(citizen_media, n);
        let _ = self.media.bridge(citizen_media, agent_media);
        self.phase = Phase::Bridged;
        self.callback_connected();
        None
    }

    fn callback_connected(&mut self) {
        info!(call = self.call_ref, agent = ?self.answered_agent, "call-back connected");
        self.log(
            "callback_connected",
            json!({ "agent": self.answered_agent, "number": self.caller_number }),
        );
        let agent = self.answered_agent.clone();
        self.callback_row(CallbackStatus::Connected, agent, false);
        self.callback_result = Some("connected".to_string());
    }

    /// The citizen could not be reached: tell the log, free the agent.
    pub(super) async fn citizen_unreachable(&mut self, reason: &str) -> Option<Disposition> {
        info!(call = self.call_ref, reason, "call-back failed");
        self.log("callback_failed", json!({ "reason": reason }));
        self.callback_result = Some(reason.to_string());
        Some(Disposition::CallbackRequested)
    }

    /// A 2xx from the citizen after we gave up: acknowledge and hang up.
    pub(super) fn late_citizen_answer(&mut self, resp: Response) {
        if resp.status < 200 || resp.status >= 300 {
            if resp.status >= 200 {
                if let Some(c) = self.citizen.as_mut() {
                    c.invite = None;
                }
            }
            return;
        }
        let Some(c) = self.citizen.as_mut() else {
            return;
        };
        let Some(invite) = c.invite.take() else {
            return;
        };
        if let Some(mut d) = Dialog::uac(&invite, &resp) {
            let ack = d.ack(&resp);
            let bye = d.new_request(Method::Bye);
            let (dest, transport) = (c.dest, c.transport);
            self.sip(SipCmd::Stateless {
                msg: SipMessage::Request(ack),
                dest,
                transport,
            });
            self.sip(SipCmd::Request {
                req: bye,
                dest,
                transport,
            });
        }
    }

    /// Records the outcome of a call-back task in the `callbacks` table when the task ends.
    pub(super) async fn finish_callback(&mut self, _disposition: Disposition) {
        let Some(cb) = &self.callback else {
            return;
        };
        let id = cb.id;
        match self.callback_result.as_deref() {
            Some("connected") | None => {}
            Some(reason) => {
                let update = CallbackUpdate {
                    status: Some(CallbackStatus::Failed),
                    agent_id: self.answered_agent.clone(),
                    last_result: Some(reason.to_string()),
                    add_attempt: false,
                    ..Default::default()
                };
                if let Err(e) = self.ctx.tickets.update_callback(id, update).await {
                    warn!(callback = id, "call-back update failed: {e}");
                }
            }
        }
        self.ctx.callbacks.release(id);
    }

    /// Updates the call-back row without holding up call control.
    fn callback_row(&self, status: CallbackStatus, agent: Option<String>, attempt: bool) {
        let Some(cb) = &self.callback else {
            return;
        };
        let (ctx, id) = (self.ctx.clone(), cb.id);
        let result = match status {
            CallbackStatus::Connected => Some("connected".to_string()),
            _ => None,
        };
        tokio::spawn(async move {
            let update = CallbackUpdate {
                status: Some(status),
                agent_id: agent,
                last_result: result,
                add_attempt: attempt,
                ..Default::default()
            };
            if let Err(e) = ctx.tickets.update_callback(id, update).await {
                warn!(callback = id, "call-back update failed: {e}");
            }
        });
    }
}

/// The citizen's number at the trunk: `sip:NUMBER@trunk-host:port`, the address to send to (an IP
/// literal: the switch does no DNS) and the transport (`;transport=tcp` or UDP).
fn trunk_target(uri: &str, number: &str) -> Option<(SipUri, SocketAddr, Transport)> {
    let mut target: SipUri = uri.parse().ok()?;
    target.user = Some(number.to_string());
    sip_target(&target.to_string())
}

/// Where a SIP URI with an IP host is sent: the URI, the address and the transport (`;transport=tcp` or UDP).
pub(crate) fn sip_target(uri: &str) -> Option<(SipUri, SocketAddr, Transport)> {
    let target: SipUri = uri.parse().ok()?;
    let ip: IpAddr = target.host_unbracketed().parse().ok()?;
    let dest = SocketAddr::new(ip, target.port.unwrap_or(5060));
    let transport = match target.param("transport").flatten() {
        Some(t) if t.eq_ignore_ascii_case("tcp") => Transport::Tcp,
        _ => Transport::Udp,
    };
    Some((target, dest, transport))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trunk_target_puts_the_number_at_the_trunk() {
        let (uri, dest, transport) =
            trunk_target("sip:127.0.0.1:5092", "13800000001").expect("valid");
        assert_eq!(uri.user.as_deref(), Some("13800000001"));
        assert_eq!(dest, "127.0.0.1:5092".parse().unwrap());
        assert_eq!(transport, Transport::Udp);
        let (_, dest, transport) =
            trunk_target("sip:10.1.2.3;transport=tcp", "110").expect("valid");
        assert_eq!(dest, "10.1.2.3:5060".parse().unwrap());
        assert_eq!(transport, Transport::Tcp);
        assert!(trunk_target("sip:gw.example.com", "1").is_none(), "no DNS");
        assert!(trunk_target("not a uri", "1").is_none());
    }

    #[test]
    fn a_callback_is_claimed_once() {
        let p = CallbacksInProgress::default();
        assert!(p.claim(7));
        assert!(!p.claim(7));
        p.release(7);
        assert!(p.claim(7));
    }
}
