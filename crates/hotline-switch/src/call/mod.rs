//! One task per citizen call: a B2BUA between the citizen's leg and, once the ACD offers the call, an
//! agent's leg. It answers the citizen, plays the line's greeting, runs the line's menu, queues the call
//! with spoken position and music on hold, rings the offered agent, bridges media on answer, and keeps the
//! call's ticket current throughout.
//!
//! The same task serves call-backs: a citizen who asked to be called back hangs up but the task keeps
//! the place in the queue; when an agent answers, the agent hears a whisper with the number and the task
//! dials the citizen through the outbound trunk (`callback`). A missed-call call-back started from the API
//! is the same task without an inbound leg.
//!
//! Third parties (120/110/any number: three-way calls, transfers, SOS escalation) and supervisors join the
//! same task: the call's media then becomes a conference.
//!
//! Modules: `caller` (the citizen's leg), `agent` (agents' legs), `menu` (IVR), `end` (hang-up, ticket), `queue` (waiting:
//! announcements, max wait, call-back key), `callback` (call-back requests and the outbound leg), `party`
//! (third parties), `monitor` (supervisors), `keys` (the agent's in-call feature codes), `control` (API requests and
//! the call's view), `sos` (SOS calls), `handoff` (the ticket's handoff rows and the recording).

mod agent;
mod callback;
mod caller;
mod consult;
mod control;
mod end;
mod handoff;
mod keys;
mod menu;
mod monitor;
mod party;
mod queue;
mod refer;
mod sos;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use hotline_acd::AcdInput;
use hotline_config::LineConfig;
use hotline_ivr::Ivr;
use hotline_media::engine::{LegId, MediaEvent, MediaEventKind, MediaHandle};
use hotline_media::prompts::Prompt;
use hotline_media::sdp;
use hotline_sip::dialog::Dialog;
use hotline_sip::msg::{Method, Request, Response};
use hotline_sip::transaction::ServerTxnId;
use hotline_sip::util::new_tag;
use hotline_sip::Transport;
use hotline_tickets::CallUpdate;
use serde_json::json;
use tokio::sync::mpsc;
use tracing::{info, warn};

pub use hotline_tickets::Disposition;

use crate::messages::{AcdCmd, CallInput, SipCmd};
use crate::ticket_log::{spawn_ticket_writer, TicketWrite};
use crate::Ctx;

pub(crate) use callback::sip_target;
pub use callback::{spawn_callback_call, CallbacksInProgress, DialError};

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
    Menu,
    Queued,
    /// The citizen hung up after asking to be called back; the call keeps its place in the queue.
    CallbackWaiting,
    /// Call-back: the agent answered and hears the whisper (the number to be called).
    Whisper,
    /// Call-back: the citizen's phone is being rung through the outbound trunk.
    DialingCitizen,
    Bridged,
}

/// The citizen's leg: the inbound call we answered, or the call-back we placed.
struct CitizenLeg {
    call_id: String,
    dest: SocketAddr,
    transport: Transport,
    dialog: Option<Dialog>,
    media_leg: LegId,
    port: u16,
    /// Our outbound INVITE (call-backs), for CANCEL while it rings.
    invite: Option<Request>,
    /// The citizen hung up (or the leg failed): nothing more is sent to it.
    left: bool,
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

/// Why this task exists when it runs a call-back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallbackKind {
    /// The citizen pressed the call-back key (or a menu / max-wait sent them there) during this call.
    Requested,
    /// A missed (abandoned) call dialled back from the API.
    Missed,
}

struct CallbackState {
    /// Row in the `callbacks` table.
    id: i64,
    kind: CallbackKind,
}

/// What to do when the prompt now playing to the citizen ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AfterPlay {
    Nothing,
    /// End the call with this disposition (menu `hangup`, max-wait `hangup`).
    End(Disposition),
    /// Hang up the citizen's leg and wait for the call-back in the queue.
    AwaitCallback,
}

pub fn spawn_citizen_call(ctx: Arc<Ctx>, new: NewCall, rx: mpsc::UnboundedReceiver<CallInput>) {
    ctx.active_calls.fetch_add(1, Ordering::SeqCst);
    tokio::spawn(async move {
        let ctx2 = ctx.clone();
        let call_id = new.invite.call_id().unwrap_or_default().to_string();
        let (media_tx, media_rx) = mpsc::unbounded_channel::<MediaEvent>();
        let media = ctx.media.session(media_tx, new.call_ref);
        if let Some(call) = Call::answer(ctx.clone(), new, media).await {
            call.run(rx, media_rx).await;
        }
        let _ = ctx2.sip.send(SipCmd::Unbind { call_id });
        ctx2.active_calls.fetch_sub(1, Ordering::SeqCst);
    });
}

struct Call {
    ctx: Arc<Ctx>,
    call_ref: u64,
    line: LineConfig,
    caller_number: String,
    ticket_id: i64,
    citizen: Option<CitizenLeg>,
    /// Our tag in the citizen's dialog (To tag inbound, From tag for a call-back).
    local_tag: String,
    media: MediaHandle,
    sdp_version: u64,
    phase: Phase,
    /// The queue the call waits in (the line's, or where a menu or max-wait sent it).
    queue: String,
    priority: i32,
    agents: HashMap<String, AgentLeg>,
    /// Call-ID of the agent leg currently ringing or bridged.
    current: Option<String>,
    ticket_writes: mpsc::UnboundedSender<TicketWrite>,
    started: Instant,
    /// First time the call joined a queue (wait is measured from there, across queue changes).
    queued: Option<Instant>,
    answered: Option<Instant>,
    answered_agent: Option<String>,
    attached: bool,
    ivr: Option<Ivr>,
    /// Prompts still to play to the citizen, in order (announcements); music on hold follows while queued.
    playlist: VecDeque<Arc<Prompt>>,
    after_play: AfterPlay,
    announce_at: Option<Instant>,
    max_wait_at: Option<Instant>,
    callback: Option<CallbackState>,
    /// How the call-back ended when it did not connect (for the `callbacks` row).
    callback_result: Option<String>,
    /// Call-back whisper still to play to the agent, and the agent's media leg.
    whisper: VecDeque<Arc<Prompt>>,
    whisper_leg: Option<LegId>,
    /// Counted in `Ctx::parked` (a call-back waiting with nobody on the line).
    parked: bool,
    tx: mpsc::UnboundedSender<CallInput>,
    /// Third parties and supervisors, by the Call-ID of our INVITE to them.
    parties: HashMap<String, party::PartyLeg>,
    /// The agent's `*3…#` / `*4…#` / `*0` keys.
    keys: keys::InCallKeys,
    /// Media is mixed (a conference) rather than bridged.
    conference: bool,
    /// The answering agent left while the call goes on (three-way leave, transfer); the ACD knows.
    agent_released: bool,
    sos: Option<sos::SosCall>,
    sos_escalate_at: Option<Instant>,
    recording: Option<PathBuf>,
    /// Keys of the ticket's handoff rows, per call.
    next_handoff: u32,
    started_at: DateTime<Utc>,
    answered_at: Option<DateTime<Utc>>,
    /// A REFER from the agent's phone we report on with NOTIFY.
    refer: Option<refer::ReferSubscription>,
    /// The agent's own consultation call to a transfer target (attended transfer from the phone).
    consult: Option<consult::ConsultLeg>,
}

pub(crate) fn now_utc() -> DateTime<Utc> {
    Utc::now()
}

fn secs(d: Duration) -> f64 {
    (d.as_millis() as f64) / 1000.0
}

impl Call {
    /// A call with no citizen leg yet; `answer` and `callback::spawn_callback_call` fill it in.
    #[allow(clippy::too_many_arguments)]
    fn new(
        ctx: Arc<Ctx>,
        call_ref: u64,
        line: LineConfig,
        caller_number: String,
        ticket_id: i64,
        media: MediaHandle,
        tx: mpsc::UnboundedSender<CallInput>,
    ) -> Call {
        let priority = ctx.config.caller_priority_for(&line, &caller_number);
        Call {
            queue: line.queue.clone(),
            priority,
            ticket_writes: spawn_ticket_writer(ctx.clone(), ticket_id),
            ctx,
            call_ref,
            line,
            caller_number,
            ticket_id,
            citizen: None,
            local_tag: new_tag(),
            media,
            sdp_version: 1,
            phase: Phase::Greeting,
            agents: HashMap::new(),
            current: None,
            started: Instant::now(),
            queued: None,
            answered: None,
            answered_agent: None,
            attached: false,
            ivr: None,
            playlist: VecDeque::new(),
            after_play: AfterPlay::Nothing,
            announce_at: None,
            max_wait_at: None,
            callback: None,
            callback_result: None,
            whisper: VecDeque::new(),
            whisper_leg: None,
            parked: false,
            tx,
            parties: HashMap::new(),
            keys: keys::InCallKeys::default(),
            conference: false,
            agent_released: false,
            sos: None,
            sos_escalate_at: None,
            recording: None,
            next_handoff: 1,
            started_at: now_utc(),
            answered_at: None,
            refer: None,
            consult: None,
        }
    }

    async fn run(
        mut self,
        mut rx: mpsc::UnboundedReceiver<CallInput>,
        mut media_rx: mpsc::UnboundedReceiver<MediaEvent>,
    ) {
        loop {
            self.publish();
            let deadline = self.poll_timeout();
            let sleep = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d.into()).await,
                    None => std::future::pending().await,
                }
            };
            let input = tokio::select! {
                i = rx.recv() => i,
                m = media_rx.recv() => m.map(CallInput::Media),
                _ = sleep => {
                    match self.handle_timeout(Instant::now()).await {
                        Some(disposition) => {
                            self.finish(disposition).await;
                            self.linger(&mut rx).await;
                            break;
                        }
                        None => continue,
                    }
                }
            };
            let Some(input) = input else { break };
            if let Some(disposition) = self.handle(input).await {
                self.finish(disposition).await;
                self.linger(&mut rx).await;
                break;
            }
        }
        self.set_parked(false);
        self.ctx.calls.remove(self.call_ref);
        let _ = self.media.close();
    }

    /// Marks this task as holding only a queued call-back (see `Ctx::parked`): the task and its ticket
    /// writer, two of `active_calls`.
    fn set_parked(&mut self, parked: bool) {
        if self.parked == parked {
            return;
        }
        self.parked = parked;
        if parked {
            self.ctx.parked.fetch_add(2, Ordering::SeqCst);
        } else {
            self.ctx.parked.fetch_sub(2, Ordering::SeqCst);
        }
    }

    /// The earliest of the menu's digit timeout, the next announcement and the max-wait limit.
    fn poll_timeout(&self) -> Option<Instant> {
        [
            self.ivr.as_ref().and_then(|i| i.poll_timeout()),
            self.announce_at,
            self.max_wait_at,
            self.sos_escalate_at,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    async fn handle_timeout(&mut self, now: Instant) -> Option<Disposition> {
        if self
            .ivr
            .as_ref()
            .and_then(|i| i.poll_timeout())
            .is_some_and(|t| t <= now)
        {
            if let Some(ivr) = self.ivr.as_mut() {
                ivr.handle_timeout(now);
            }
            if let Some(d) = self.drive_ivr().await {
                return Some(d);
            }
        }
        if self.max_wait_at.is_some_and(|t| t <= now) {
            self.max_wait_at = None;
            if let Some(d) = self.max_wait_reached().await {
                return Some(d);
            }
        }
        if self.announce_at.is_some_and(|t| t <= now) {
            self.announce_at = None;
            self.announce().await;
        }
        if self.sos_escalate_at.is_some_and(|t| t <= now) {
            self.sos_escalate().await;
        }
        None
    }

    fn sip(&self, cmd: SipCmd) {
        let _ = self.ctx.sip.send(cmd);
    }

    /// Sends the INVITE of a leg this call originates, its responses routed back to this task.
    fn start_leg(&self, call_id: &str, invite: &Request, dest: SocketAddr, transport: Transport) {
        self.sip(SipCmd::Bind {
            call_id: call_id.to_string(),
            tx: self.tx.clone(),
        });
        self.sip(SipCmd::Request {
            req: invite.clone(),
            dest,
            transport,
        });
    }

    fn acd(&self, input: AcdInput) {
        let _ = self.ctx.acd.send(AcdCmd::Input(input));
    }

    fn respond(&self, id: ServerTxnId, resp: Response) {
        self.sip(SipCmd::Respond { id, resp });
    }

    /// Appends to the ticket's interaction log (in order, without making call control wait).
    fn log(&self, kind: &str, detail: serde_json::Value) {
        let _ = self.ticket_writes.send(TicketWrite::Interaction {
            at: now_utc(),
            kind: kind.to_string(),
            detail,
        });
    }

    /// Updates the ticket's call fields (in order, without making call control wait).
    fn update(&self, update: CallUpdate) {
        let _ = self.ticket_writes.send(TicketWrite::Update(update));
    }

    fn local_tag_for(&self, req: &Request) -> String {
        req.to()
            .and_then(|t| t.tag().map(|s| s.to_string()))
            .unwrap_or_else(|| self.local_tag.clone())
    }

    /// Our SDP offer for a leg we originate (agent or call-back): G.711 and telephone-event on `port`.
    fn offer_sdp(&self, port: u16) -> String {
        sdp::build_offer(
            self.ctx.media_ip,
            port,
            sdp::Direction::SendRecv,
            101,
            self.call_ref,
            1,
        )
    }

    fn citizen_media(&self) -> Option<LegId> {
        self.citizen
            .as_ref()
            .filter(|c| !c.left)
            .map(|c| c.media_leg)
    }

    /// Plays one prompt to the citizen, replacing whatever played (music on hold included).
    fn play_to_citizen(&self, prompt: Arc<Prompt>) {
        if let Some(leg) = self.citizen_media() {
            let _ = self.media.play(leg, prompt, false);
        }
    }

    /// Plays the named prompts to the citizen in order (missing ones are skipped with a warning).
    fn play_sequence(&mut self, names: &[String]) {
        self.playlist.clear();
        for name in names {
            match self.ctx.prompts.get(name) {
                Some(p) => self.playlist.push_back(p),
                None => warn!(prompt = %name, "prompt missing"),
            }
        }
        self.play_next();
    }

    /// Starts the next queued prompt; when none is left, the phase decides (music on hold while waiting).
    /// Returns false when nothing was started.
    fn play_next(&mut self) -> bool {
        if let Some(p) = self.playlist.pop_front() {
            self.play_to_citizen(p);
            return true;
        }
        if self.phase == Phase::Queued && self.after_play == AfterPlay::Nothing {
            self.music_on_hold();
        }
        false
    }

    fn music_on_hold(&self) {
        // Talking with a third party (SOS escalation) while still queued for an agent: no music over them.
        if self.third_parties_joined() > 0 {
            return;
        }
        if let (Some(leg), Some(moh)) = (self.citizen_media(), self.ctx.prompts.get("moh")) {
            let _ = self.media.play(leg, moh, true);
        }
    }

    /// Handles one input; returns the disposition when the call is over.
    async fn handle(&mut self, input: CallInput) -> Option<Disposition> {
        match input {
            CallInput::Request {
                id,
                req,
                source,
                transport,
            } => {
                let call_id = req.call_id().unwrap_or_default().to_string();
                let new_dialog = req.method == Method::Invite
                    && req.to().is_none_or(|t| t.tag().is_none())
                    && !self.agents.contains_key(&call_id);
                if self.citizen.as_ref().is_some_and(|c| c.call_id == call_id) {
                    self.citizen_request(id, req).await
                } else if self.parties.contains_key(&call_id) {
                    self.party_request(id, req, &call_id).await
                } else if self.consult.as_ref().is_some_and(|c| c.call_id == call_id) {
                    self.consult_request(id, req).await
                } else if new_dialog {
                    self.consult_invite(id, req, source, transport).await
                } else {
                    self.agent_request(id, req, &call_id).await
                }
            }
            CallInput::Ack { .. } => None,
            CallInput::Cancelled { id } => {
                if self.consult.as_ref().is_some_and(|c| c.id == id) {
                    self.end_consult("cancelled");
                }
                // Otherwise: we answer at once, so a CANCEL can only race our 200; the caller then sends BYE.
                None
            }
            CallInput::AckTimeout => {
                info!(call = self.call_ref, "caller never acknowledged our answer");
                if let Some(c) = self.citizen.as_mut() {
                    c.left = true;
                }
                Some(self.hangup_disposition())
            }
            CallInput::Response { resp } => {
                let call_id = resp.call_id().unwrap_or_default();
                if self.citizen.as_ref().is_some_and(|c| c.call_id == call_id) {
                    self.citizen_response(resp).await
                } else if self.parties.contains_key(call_id) {
                    self.party_response(resp).await
                } else {
                    self.agent_response(resp).await
                }
            }
            CallInput::RequestTimeout { method, call_id } => {
                if self.citizen.as_ref().is_some_and(|c| c.call_id == call_id) {
                    if method == Method::Invite {
                        return self.citizen_unreachable("timeout").await;
                    }
                    return None;
                }
                if self.parties.contains_key(&call_id) {
                    if method == Method::Invite {
                        return self.party_timeout(&call_id).await;
                    }
                    return None;
                }
                if method == Method::Invite {
                    self.agent_failed(&call_id, hotline_acd::FailReason::Unreachable)
                        .await;
                }
                None
            }
            CallInput::Acd(out) => self.acd_output(out).await,
            CallInput::Media(ev) => self.media_event(ev).await,
            CallInput::Control { control, reply } => self.control(control, reply).await,
        }
    }

    /// The disposition when the citizen hangs up now.
    fn hangup_disposition(&self) -> Disposition {
        if let AfterPlay::End(d) = self.after_play {
            return d;
        }
        if self.callback.is_some() {
            return match self.phase {
                Phase::Bridged => Disposition::Answered,
                _ => Disposition::CallbackRequested,
            };
        }
        match self.phase {
            Phase::Greeting | Phase::Menu => Disposition::IvrOnly,
            // An SOS elder who talked to 120 without any agent answering was handed off, not abandoned.
            Phase::Queued if self.sos.as_ref().is_some_and(|s| s.connected) => {
                Disposition::HandedOff
            }
            Phase::Queued => Disposition::Abandoned,
            Phase::Bridged => Disposition::Answered,
            Phase::CallbackWaiting | Phase::Whisper | Phase::DialingCitizen => {
                Disposition::CallbackRequested
            }
        }
    }

    async fn media_event(&mut self, ev: MediaEvent) -> Option<Disposition> {
        let party = self
            .parties
            .iter()
            .find(|(_, p)| p.media_leg == ev.leg)
            .map(|(id, _)| id.clone());
        if let Some(call_id) = party {
            return self.party_media_event(&call_id, ev.kind).await;
        }
        let from_citizen = self.citizen.as_ref().is_some_and(|c| c.media_leg == ev.leg);
        let who = if from_citizen { "caller" } else { "agent" };
        match ev.kind {
            MediaEventKind::Dtmf(d) => return self.dtmf(d, "rfc4733", who).await,
            MediaEventKind::PlayDone if from_citizen => return self.citizen_play_done().await,
            MediaEventKind::PlayDone => {
                if self.phase == Phase::Whisper {
                    return self.whisper_done().await;
                }
            }
            MediaEventKind::RtpTimeout => {
                info!(call = self.call_ref, who, "media timeout");
                self.log("rtp_timeout", json!({ "leg": who }));
                if from_citizen {
                    if let Some(c) = self.citizen.as_mut() {
                        c.left = true;
                    }
                } else if self.agent_media() == Some(ev.leg) && self.third_parties_up() > 0 {
                    // The agent's phone vanished in a three-way call: the citizen and the third party go on.
                    if let Some(call_id) = self.current.take() {
                        self.drop_agent_leg(&call_id);
                    }
                    self.release_agent("media_timeout");
                    return None;
                }
                return Some(self.hangup_disposition());
            }
        }
        None
    }

    /// A prompt to the citizen ended: next prompt, the menu, the queue, or the end.
    async fn citizen_play_done(&mut self) -> Option<Disposition> {
        if !self.playlist.is_empty() {
            self.play_next();
            return None;
        }
        match std::mem::replace(&mut self.after_play, AfterPlay::Nothing) {
            AfterPlay::End(d) => return Some(d),
            AfterPlay::AwaitCallback => {
                self.await_callback();
                return None;
            }
            AfterPlay::Nothing => {}
        }
        match self.phase {
            Phase::Greeting => self.after_greeting().await,
            Phase::Menu => {
                if let Some(ivr) = self.ivr.as_mut() {
                    ivr.handle(Instant::now(), hotline_ivr::Input::PlaybackDone);
                }
                return self.drive_ivr().await;
            }
            Phase::Queued => self.music_on_hold(),
            _ => {}
        }
        None
    }

    /// The greeting is over: the line's menu if it has one, else straight to the queue (GB/T 33358).
    async fn after_greeting(&mut self) {
        match self.line.menu.clone() {
            Some(menu) => self.start_menu(&menu).await,
            None => {
                let queue = self.line.queue.clone();
                self.enqueue(queue).await;
            }
        }
    }

    /// Both DTMF transports end here, as one event for call control and the ticket.
    async fn dtmf(&mut self, digit: char, via: &str, who: &str) -> Option<Disposition> {
        tracing::debug!(call = self.call_ref, %digit, via, who, "dtmf");
        self.log(
            "dtmf",
            json!({ "digit": digit.to_string(), "via": via, "from": who }),
        );
        if who == "agent" {
            return self.agent_keys(digit).await;
        }
        if who != "caller" {
            return None;
        }
        match self.phase {
            Phase::Greeting if self.line.menu.is_some() => {
                // A digit during the greeting skips it and counts as the menu's first digit.
                if let Some(leg) = self.citizen_media() {
                    let _ = self.media.stop(leg);
                }
                self.after_greeting().await;
                self.menu_digit(digit).await
            }
            Phase::Menu => self.menu_digit(digit).await,
            Phase::Queued => {
                self.queued_digit(digit).await;
                None
            }
            _ => None,
        }
    }
}

/// Prompts that read a phone number digit by digit (for the agent's call-back whisper).
fn digit_prompts(number: &str) -> Vec<String> {
    number
        .chars()
        .filter(|c| c.is_ascii_digit())
        .map(|c| format!("num-{c}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whisper_reads_the_number_digit_by_digit() {
        assert_eq!(
            digit_prompts("138-0013"),
            ["num-1", "num-3", "num-8", "num-0", "num-0", "num-1", "num-3"]
        );
        assert!(digit_prompts("anonymous").is_empty());
    }
}
