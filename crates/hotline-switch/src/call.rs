//! One task per citizen call: a B2BUA between the caller's leg and, once the ACD offers the call, an
//! agent's leg. It answers the caller, plays the line's greeting, queues the call with music on hold,
//! rings the offered agent, bridges media on answer, and keeps the call's ticket current throughout.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use hotline_acd::{AcdInput, AcdOutput, FailReason};
use hotline_config::LineConfig;
use hotline_media::engine::{LegId, MediaEvent, MediaEventKind, MediaHandle};
use hotline_media::sdp::{self, Direction, Negotiated, Sdp};
use hotline_sip::dialog::Dialog;
use hotline_sip::msg::{Method, Request, Response, SipMessage};
use hotline_sip::transaction::{build_cancel, ServerTxnId};
use hotline_sip::util::new_tag;
use hotline_sip::Transport;
pub use hotline_tickets::Disposition;
use hotline_tickets::{CallUpdate, NewVoiceTicket};
use serde_json::json;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

use crate::messages::{AcdCmd, CallInput, SipCmd};
use crate::sipbuild;
use crate::ticket_log::{spawn_ticket_writer, ticket_failed, TicketWrite};
use crate::Ctx;

pub struct NewCall {
    pub call_ref: u64,
    pub line: LineConfig,
    pub id: ServerTxnId,
    pub invite: Request,
    pub source: SocketAddr,
    pub transport: Transport,
    /// The sender the SIP actor routes this call's messages through; reused for the agent legs and the ACD.
    pub tx: mpsc::UnboundedSender<CallInput>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Greeting,
    Queued,
    Bridged,
}

/// A leg we originated towards an agent.
struct AgentLeg {
    agent: String,
    invite: Request,
    dest: SocketAddr,
    transport: Transport,
    media_leg: LegId,
    local_port: u16,
    dialog: Option<Dialog>,
    /// We sent CANCEL (or decided to drop the leg); a late 2xx is ACKed and hung up.
    withdrawn: bool,
}

pub fn spawn_citizen_call(ctx: Arc<Ctx>, new: NewCall, rx: mpsc::UnboundedReceiver<CallInput>) {
    ctx.active_calls.fetch_add(1, Ordering::SeqCst);
    tokio::spawn(async move {
        let ctx2 = ctx.clone();
        let call_id = new.invite.call_id().unwrap_or_default().to_string();
        run_call(ctx.clone(), new, rx).await;
        let _ = ctx2.sip.send(SipCmd::Unbind { call_id });
        ctx2.active_calls.fetch_sub(1, Ordering::SeqCst);
    });
}

struct Call {
    ctx: Arc<Ctx>,
    call_ref: u64,
    line: LineConfig,
    caller_number: String,
    caller_call_id: String,
    caller_dest: SocketAddr,
    caller_transport: Transport,
    caller_dialog: Option<Dialog>,
    local_tag: String,
    media: MediaHandle,
    caller_leg: LegId,
    caller_port: u16,
    sdp_version: u64,
    phase: Phase,
    agents: HashMap<String, AgentLeg>,
    /// Call-ID of the agent leg currently ringing or bridged.
    current: Option<String>,
    ticket_writes: mpsc::UnboundedSender<TicketWrite>,
    started: Instant,
    queued: Option<Instant>,
    answered: Option<Instant>,
    answered_agent: Option<String>,
    /// The caller sent BYE (or vanished): nothing more is sent to that leg.
    caller_left: bool,
    tx: mpsc::UnboundedSender<CallInput>,
}

async fn run_call(ctx: Arc<Ctx>, new: NewCall, mut rx: mpsc::UnboundedReceiver<CallInput>) {
    let (media_tx, mut media_rx) = mpsc::unbounded_channel::<MediaEvent>();
    let media = ctx.media.session(media_tx, new.call_ref);
    let Some(mut call) = Call::answer(ctx.clone(), new, media).await else {
        return;
    };
    loop {
        let input = tokio::select! {
            i = rx.recv() => i,
            m = media_rx.recv() => m.map(CallInput::Media),
        };
        let Some(input) = input else { break };
        if let Some(disposition) = call.handle(input).await {
            call.finish(disposition).await;
            call.linger(&mut rx).await;
            break;
        }
    }
    let _ = call.media.close();
}

pub(crate) fn now_utc() -> DateTime<Utc> {
    Utc::now()
}

fn secs(d: Duration) -> f64 {
    (d.as_millis() as f64) / 1000.0
}

impl Call {
    /// Answers the caller's INVITE (after the ticket exists) and starts the greeting.
    async fn answer(ctx: Arc<Ctx>, new: NewCall, media: MediaHandle) -> Option<Call> {
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

        let offer = std::str::from_utf8(&invite.body)
            .ok()
            .and_then(|s| Sdp::parse(s).ok());
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

        let local = ctx.local_addr(new.transport);
        let local_tag = new_tag();
        let answer_sdp =
            sdp::build_answer(ctx.media_ip, leg.local_port, &negotiated, new.call_ref, 1);
        let contact = sipbuild::contact(&new.line.number, local, new.transport);
        let resp = sipbuild::answer_invite(invite, &local_tag, &contact, &answer_sdp);
        let dialog = Dialog::uas(invite, &resp).map(|mut d| {
            d.via = Some((local.to_string(), new.transport));
            d
        });
        let _ = ctx.sip.send(SipCmd::Respond { id: new.id, resp });
        info!(call = new.call_ref, caller = %caller_number, line = %new.line.number, "call answered by the switch");

        let mut call = Call {
            ctx: ctx.clone(),
            call_ref: new.call_ref,
            line: new.line.clone(),
            caller_number,
            caller_call_id,
            caller_dest: new.source,
            caller_transport: new.transport,
            caller_dialog: dialog,
            local_tag,
            media,
            caller_leg: leg.leg,
            caller_port: leg.local_port,
            sdp_version: 1,
            phase: Phase::Greeting,
            agents: HashMap::new(),
            current: None,
            ticket_writes: spawn_ticket_writer(ctx.clone(), ticket_id),
            started: Instant::now(),
            queued: None,
            answered: None,
            answered_agent: None,
            caller_left: false,
            tx: new.tx.clone(),
        };
        match ctx.prompts.get(&new.line.greeting) {
            Some(p) => {
                let _ = call.media.play(call.caller_leg, p, false);
            }
            None => {
                warn!(greeting = %new.line.greeting, "greeting prompt missing; queueing directly");
                call.enqueue().await;
            }
        }
        Some(call)
    }

    fn sip(&self, cmd: SipCmd) {
        let _ = self.ctx.sip.send(cmd);
    }

    fn acd(&self, input: AcdInput) {
        let _ = self.ctx.acd.send(AcdCmd::Input(input));
    }

    /// Appends to the ticket's interaction log (in order, without making call control wait).
    async fn log(&self, kind: &str, detail: serde_json::Value) {
        let _ = self.ticket_writes.send(TicketWrite::Interaction {
            at: now_utc(),
            kind: kind.to_string(),
            detail,
        });
    }

    /// Updates the ticket's call fields (in order, without making call control wait).
    async fn update(&self, update: CallUpdate) {
        let _ = self.ticket_writes.send(TicketWrite::Update(update));
    }

    async fn enqueue(&mut self) {
        self.phase = Phase::Queued;
        self.queued = Some(Instant::now());
        let _ = self.ctx.acd.send(AcdCmd::Attach {
            call: self.call_ref,
            tx: self.self_tx(),
        });
        self.acd(AcdInput::Enqueue {
            call: self.call_ref,
            queue: self.line.queue.clone(),
            priority: self.line.priority,
        });
        if let Some(moh) = self.ctx.prompts.get("moh") {
            let _ = self.media.play(self.caller_leg, moh, true);
        }
        self.update(CallUpdate {
            queue: Some(self.line.queue.clone()),
            queued_at: Some(now_utc()),
            ..Default::default()
        })
        .await;
        self.log("queued", json!({ "queue": self.line.queue }))
            .await;
    }

    /// The channel the SIP actor routes this call's caller Call-ID to; reused for ACD routing.
    fn self_tx(&self) -> mpsc::UnboundedSender<CallInput> {
        self.tx.clone()
    }

    /// Handles one input; returns the disposition when the call is over.
    async fn handle(&mut self, input: CallInput) -> Option<Disposition> {
        match input {
            CallInput::Request { id, req, .. } => {
                let call_id = req.call_id().unwrap_or_default().to_string();
                if call_id == self.caller_call_id {
                    self.caller_request(id, req).await
                } else {
                    self.agent_request(id, req, &call_id).await
                }
            }
            CallInput::Ack { .. } => None,
            CallInput::Cancelled { .. } => {
                // We answer at once, so a CANCEL can only race our 200; the caller then sends BYE.
                None
            }
            CallInput::AckTimeout => {
                info!(call = self.call_ref, "caller never acknowledged our answer");
                self.caller_left = true;
                Some(self.hangup_disposition())
            }
            CallInput::Response { resp } => self.agent_response(resp).await,
            CallInput::RequestTimeout { method, call_id } => {
                if method == Method::Invite {
                    self.agent_failed(&call_id, FailReason::Unreachable).await;
                }
                None
            }
            CallInput::Acd(out) => {
                self.acd_output(out).await;
                None
            }
            CallInput::Media(ev) => self.media_event(ev).await,
        }
    }

    fn hangup_disposition(&self) -> Disposition {
        match self.phase {
            Phase::Greeting => Disposition::IvrOnly,
            Phase::Queued => Disposition::Abandoned,
            Phase::Bridged => Disposition::Answered,
        }
    }

    async fn caller_request(&mut self, id: ServerTxnId, req: Request) -> Option<Disposition> {
        match req.method {
            Method::Bye => {
                self.respond(id, sipbuild::reply(&req, 200, "OK", &self.local_tag));
                info!(call = self.call_ref, "caller hung up");
                self.caller_left = true;
                self.log("caller_hangup", json!({})).await;
                Some(self.hangup_disposition())
            }
            Method::Invite => {
                let leg = self.caller_leg;
                let port = self.caller_port;
                if let Some(d) = self.caller_dialog.as_mut() {
                    d.update_remote_target(&req);
                }
                self.reinvite(id, req, leg, port, "caller").await;
                None
            }
            Method::Info => {
                self.info(id, req, "caller").await;
                None
            }
            _ => {
                self.respond(id, sipbuild::reply(&req, 200, "OK", &self.local_tag));
                None
            }
        }
    }

    fn respond(&self, id: ServerTxnId, resp: Response) {
        self.sip(SipCmd::Respond { id, resp });
    }

    /// Hold/unhold and codec changes inside the dialog: answer with the same port, pause sending while held.
    async fn reinvite(&mut self, id: ServerTxnId, req: Request, leg: LegId, port: u16, who: &str) {
        let offer = std::str::from_utf8(&req.body)
            .ok()
            .and_then(|s| Sdp::parse(s).ok());
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
                let local = self.ctx.local_addr(self.caller_transport);
                let mut resp = sipbuild::reply(&req, 200, "OK", &tag);
                resp.headers.push(
                    "Contact",
                    sipbuild::contact(&self.line.number, local, self.caller_transport),
                );
                resp.headers.push("Content-Type", "application/sdp");
                resp.body = answer.into_bytes();
                self.respond(id, resp);
                let kind = if held { "hold" } else { "unhold" };
                self.log(kind, json!({ "by": who })).await;
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

    fn local_tag_for(&self, req: &Request) -> String {
        req.to()
            .and_then(|t| t.tag().map(|s| s.to_string()))
            .unwrap_or_else(|| self.local_tag.clone())
    }

    async fn info(&mut self, id: ServerTxnId, req: Request, who: &str) {
        let tag = self.local_tag_for(&req);
        let digit = hotline_media::dtmf::parse_info(req.content_type().unwrap_or(""), &req.body);
        self.respond(id, sipbuild::reply(&req, 200, "OK", &tag));
        if let Some(d) = digit {
            self.dtmf(d, "sip_info", who).await;
        }
    }

    /// Both DTMF transports end here, as one event for call control and the ticket.
    async fn dtmf(&mut self, digit: char, via: &str, who: &str) {
        debug!(call = self.call_ref, %digit, via, who, "dtmf");
        self.log(
            "dtmf",
            json!({ "digit": digit.to_string(), "via": via, "from": who }),
        )
        .await;
    }

    async fn agent_request(
        &mut self,
        id: ServerTxnId,
        req: Request,
        call_id: &str,
    ) -> Option<Disposition> {
        let is_current = self.current.as_deref() == Some(call_id);
        match req.method {
            Method::Bye => {
                let tag = self.local_tag_for(&req);
                self.respond(id, sipbuild::reply(&req, 200, "OK", &tag));
                if is_current && self.phase == Phase::Bridged {
                    info!(call = self.call_ref, "agent hung up");
                    self.agents.remove(call_id);
                    self.current = None;
                    self.log("agent_hangup", json!({})).await;
                    return Some(Disposition::Answered);
                }
                self.agents.remove(call_id);
                None
            }
            Method::Invite => {
                let Some(leg) = self.agents.get_mut(call_id) else {
                    let tag = self.local_tag_for(&req);
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
            Method::Info => {
                self.info(id, req, "agent").await;
                None
            }
            _ => {
                let tag = self.local_tag_for(&req);
                self.respond(id, sipbuild::reply(&req, 200, "OK", &tag));
                None
            }
        }
    }

    async fn acd_output(&mut self, out: AcdOutput) {
        match out {
            AcdOutput::Offer { agent, .. } => self.ring_agent(agent).await,
            AcdOutput::Withdraw { agent, .. } => self.withdraw(&agent).await,
            AcdOutput::AgentChanged(_) => {}
        }
    }

    async fn ring_agent(&mut self, agent: String) {
        if self.phase != Phase::Queued {
            self.acd(AcdInput::OfferFailed {
                call: self.call_ref,
                agent,
                reason: FailReason::Unreachable,
            });
            return;
        }
        let (reply, rx) = oneshot::channel();
        self.sip(SipCmd::Lookup {
            user: agent.clone(),
            reply,
        });
        let bindings = rx.await.unwrap_or_default();
        let Some(binding) = bindings.into_iter().next() else {
            self.acd(AcdInput::OfferFailed {
                call: self.call_ref,
                agent,
                reason: FailReason::Unreachable,
            });
            return;
        };
        let leg = match self.media.add_leg().await {
            Ok(l) => l,
            Err(e) => {
                warn!("no media port for the agent leg: {e}");
                self.acd(AcdInput::OfferFailed {
                    call: self.call_ref,
                    agent,
                    reason: FailReason::Unreachable,
                });
                return;
            }
        };
        let local = self.ctx.local_addr(binding.transport);
        let dest = sipbuild::reach(&binding);
        let offer = sdp::build_offer(
            self.ctx.media_ip,
            leg.local_port,
            Direction::SendRecv,
            101,
            self.call_ref,
            1,
        );
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
                self.acd(AcdInput::OfferFailed {
                    call: self.call_ref,
                    agent,
                    reason: FailReason::Unreachable,
                });
                return;
            }
        };
        info!(call = self.call_ref, %agent, "ringing agent");
        self.sip(SipCmd::Bind {
            call_id: invite.call_id.clone(),
            tx: self.self_tx(),
        });
        self.sip(SipCmd::Request {
            req: invite.req.clone(),
            dest,
            transport: binding.transport,
        });
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
        self.log("offered", json!({ "agent": agent })).await;
    }

    /// The ACD took the offer back (ring timeout, or the offer went stale): stop ringing that agent.
    async fn withdraw(&mut self, agent: &str) {
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
        self.drop_agent_leg(&call_id);
        self.log("no_answer", json!({ "agent": agent })).await;
    }

    /// CANCEL a ringing leg or BYE an answered one; the leg stays known until its final response.
    fn drop_agent_leg(&mut self, call_id: &str) {
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

    async fn agent_response(&mut self, resp: Response) -> Option<Disposition> {
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
        let is_current = self.current.as_deref() == Some(call_id.as_str());
        if leg.withdrawn || !is_current || self.phase != Phase::Queued || negotiated.is_none() {
            let agent = leg.agent.clone();
            debug!(call = self.call_ref, %agent, "late or unusable answer; hanging up that leg");
            self.drop_agent_leg(&call_id);
            if is_current && !leg_withdrawn(&self.agents, &call_id) {
                self.current = None;
            }
            return None;
        }
        let agent = leg.agent.clone();
        let media_leg = leg.media_leg;
        if let Some(n) = negotiated {
            let _ = self.media.set_remote(media_leg, n);
        }
        let _ = self.media.stop(self.caller_leg);
        let _ = self.media.bridge(self.caller_leg, media_leg);
        self.phase = Phase::Bridged;
        self.answered = Some(Instant::now());
        self.answered_agent = Some(agent.clone());
        self.acd(AcdInput::Answered {
            call: self.call_ref,
            agent: agent.clone(),
        });
        info!(call = self.call_ref, %agent, "agent answered; bridged");
        let wait = self.queued.map(|q| secs(q.elapsed())).unwrap_or(0.0);
        self.update(CallUpdate {
            answered_at: Some(now_utc()),
            agent_id: Some(agent.clone()),
            wait_secs: Some(wait),
            ..Default::default()
        })
        .await;
        self.log("answered", json!({ "agent": agent })).await;
        None
    }

    async fn agent_failed(&mut self, call_id: &str, reason: FailReason) {
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
            self.acd(AcdInput::OfferFailed {
                call: self.call_ref,
                agent: leg.agent.clone(),
                reason,
            });
        }
        self.log(
            "offer_failed",
            json!({ "agent": leg.agent, "reason": format!("{reason:?}") }),
        )
        .await;
    }

    async fn media_event(&mut self, ev: MediaEvent) -> Option<Disposition> {
        let who = if ev.leg == self.caller_leg {
            "caller"
        } else {
            "agent"
        };
        match ev.kind {
            MediaEventKind::Dtmf(d) => self.dtmf(d, "rfc4733", who).await,
            MediaEventKind::PlayDone => {
                if ev.leg == self.caller_leg && self.phase == Phase::Greeting {
                    self.enqueue().await;
                }
            }
            MediaEventKind::RtpTimeout => {
                info!(call = self.call_ref, who, "media timeout");
                self.log("rtp_timeout", json!({ "leg": who })).await;
                return Some(self.hangup_disposition());
            }
        }
        None
    }

    /// Ends every leg still up, releases the agent and closes the ticket.
    async fn finish(&mut self, disposition: Disposition) {
        let legs: Vec<String> = self.agents.keys().cloned().collect();
        for call_id in legs {
            let withdrawn = self
                .agents
                .get(&call_id)
                .map(|l| l.withdrawn)
                .unwrap_or(true);
            if !withdrawn {
                self.drop_agent_leg(&call_id);
            }
        }
        // BYE the caller unless the caller is the one who left.
        if !self.caller_left {
            if let Some(d) = self.caller_dialog.as_mut() {
                let bye = d.new_request(Method::Bye);
                let _ = self.ctx.sip.send(SipCmd::Request {
                    req: bye,
                    dest: self.caller_dest,
                    transport: self.caller_transport,
                });
            }
        }
        match self.phase {
            Phase::Queued => self.acd(AcdInput::Abandon {
                call: self.call_ref,
            }),
            Phase::Bridged => {
                if let Some(agent) = self.answered_agent.clone() {
                    self.acd(AcdInput::CallEnded { agent });
                }
            }
            Phase::Greeting => {}
        }
        let talk = self.answered.map(|a| secs(a.elapsed()));
        let wait = match (self.queued, self.answered) {
            (Some(q), Some(a)) => Some(secs(a.duration_since(q))),
            (Some(q), None) => Some(secs(q.elapsed())),
            _ => None,
        };
        self.update(CallUpdate {
            ended_at: Some(now_utc()),
            disposition: Some(disposition),
            wait_secs: wait,
            talk_secs: talk,
            ..Default::default()
        })
        .await;
        info!(call = self.call_ref, disposition = disposition.as_str(), total = ?self.started.elapsed(), "call ended");
        self.caller_left = true;
    }

    /// After the end, stay briefly to ACK/hang up late agent answers and absorb stray responses.
    async fn linger(&mut self, rx: &mut mpsc::UnboundedReceiver<CallInput>) {
        let _ = self.ctx.acd.send(AcdCmd::Detach {
            call: self.call_ref,
        });
        let deadline = tokio::time::Instant::now() + Duration::from_secs(8);
        while self.agents.values().any(|l| l.dialog.is_none()) {
            let Ok(Some(input)) = tokio::time::timeout_at(deadline, rx.recv()).await else {
                break;
            };
            match input {
                CallInput::Response { resp } => {
                    let _ = self.agent_response(resp).await;
                }
                CallInput::Request { id, req, .. } => {
                    let tag = self.local_tag_for(&req);
                    self.respond(id, sipbuild::reply(&req, 200, "OK", &tag));
                }
                CallInput::RequestTimeout { call_id, .. } => {
                    self.agents.remove(&call_id);
                }
                _ => {}
            }
        }
        for call_id in self.agents.keys() {
            self.sip(SipCmd::Unbind {
                call_id: call_id.clone(),
            });
        }
    }
}

fn leg_withdrawn(agents: &HashMap<String, AgentLeg>, call_id: &str) -> bool {
    agents.get(call_id).map(|l| l.withdrawn).unwrap_or(true)
}
