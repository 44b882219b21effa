//! The SIP actor: the one owner of the transaction layer, the registrar and digest auth. It turns
//! transaction events into work for call tasks (routed by Call-ID) and answers what needs no call:
//! REGISTER, OPTIONS, stray in-dialog requests.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use hotline_acd::AcdInput;
use hotline_sip::auth::{AuthOutcome, DigestAuth};
use hotline_sip::msg::{Method, Request, Response, SipUri};
use hotline_sip::registrar::Registrar;
use hotline_sip::transaction::{ClientTxnId, ServerTxnId, TransactionLayer, TxnEvent};
use hotline_sip::Transport;
use tokio::sync::mpsc;
use tracing::{debug, info};

use crate::call::{spawn_citizen_call, NewCall};
use crate::feature::{spawn_feature_call, FeatureCall};
use crate::messages::{AcdCmd, CallInput, SipCmd};
use crate::sipbuild;
use crate::transport::{Inbound, Transports};
use crate::Ctx;

pub const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REGISTER, UPDATE, REFER, NOTIFY";

struct PendingClient {
    call_id: String,
    method: Method,
}

pub struct SipActor {
    ctx: Arc<Ctx>,
    layer: TransactionLayer,
    registrar: Registrar,
    auth: DigestAuth,
    transports: Transports,
    calls: HashMap<String, mpsc::UnboundedSender<CallInput>>,
    clients: HashMap<ClientTxnId, PendingClient>,
    draining: bool,
    /// Keep-alive OPTIONS in flight: which user's binding each one probes.
    keepalives: HashMap<ClientTxnId, (String, SipUri)>,
    next_keepalive: Option<Instant>,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl SipActor {
    pub fn new(
        ctx: Arc<Ctx>,
        layer: TransactionLayer,
        registrar: Registrar,
        auth: DigestAuth,
        transports: Transports,
    ) -> SipActor {
        SipActor {
            ctx,
            layer,
            registrar,
            auth,
            transports,
            calls: HashMap::new(),
            clients: HashMap::new(),
            draining: false,
            keepalives: HashMap::new(),
            next_keepalive: None,
        }
    }

    pub async fn run(
        mut self,
        mut inbound: mpsc::Receiver<Inbound>,
        mut cmds: mpsc::UnboundedReceiver<SipCmd>,
    ) {
        if let Some(every) = self.ctx.config.sip.options_keepalive() {
            self.next_keepalive = Some(Instant::now() + every);
        }
        loop {
            let deadline = [
                self.layer.poll_timeout(),
                self.registrar.poll_timeout(),
                self.next_keepalive,
            ]
            .into_iter()
            .flatten()
            .min();
            let sleep = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                msg = inbound.recv() => {
                    let Some(msg) = msg else { return };
                    self.layer.handle_input(Instant::now(), msg.transport, msg.source, &msg.bytes);
                }
                cmd = cmds.recv() => {
                    let Some(cmd) = cmd else { return };
                    self.handle_cmd(cmd);
                }
                _ = sleep => {
                    let now = Instant::now();
                    self.layer.handle_timeout(now);
                    for user in self.registrar.expire(now) {
                        info!(agent = %user, "registration expired");
                        self.acd(AcdInput::Registered { agent: user, registered: false });
                    }
                    if self.next_keepalive.is_some_and(|t| t <= now) {
                        self.send_keepalives(now);
                    }
                }
            }
            self.drain_layer();
        }
    }

    fn drain_layer(&mut self) {
        loop {
            let mut progressed = false;
            while let Some(ev) = self.layer.poll_event() {
                progressed = true;
                self.handle_event(ev);
            }
            while let Some(t) = self.layer.poll_transmit() {
                progressed = true;
                self.transports.send(t.transport, t.dest, t.bytes);
            }
            if !progressed {
                break;
            }
        }
    }

    /// Probes every registered phone with OPTIONS. Any final answer (even 404 or 501) proves the phone is
    /// there; a transaction timeout or transport error removes that binding, so an agent whose phone vanished
    /// is no longer offered calls long before the registration would expire.
    fn send_keepalives(&mut self, now: Instant) {
        let Some(every) = self.ctx.config.sip.options_keepalive() else {
            self.next_keepalive = None;
            return;
        };
        self.next_keepalive = Some(now + every);
        let users: Vec<String> = self.registrar.users().map(str::to_string).collect();
        for user in users {
            for binding in self.registrar.lookup(&user) {
                // One probe per binding at a time: a slow phone is not flooded.
                if self
                    .keepalives
                    .values()
                    .any(|(u, c)| *u == user && *c == binding.contact)
                {
                    continue;
                }
                let local = self.ctx.local_addr(binding.transport);
                let Ok(req) = sipbuild::keepalive_options(
                    &binding,
                    &user,
                    &self.ctx.config.sip.domain,
                    local,
                ) else {
                    continue;
                };
                let dest = sipbuild::reach(&binding);
                let id = self.layer.send_request(now, req, dest, binding.transport);
                self.keepalives
                    .insert(id, (user.clone(), binding.contact.clone()));
            }
        }
    }

    /// A keep-alive OPTIONS got no answer: the phone is gone.
    fn keepalive_failed(&mut self, user: String, contact: SipUri) {
        info!(agent = %user, %contact, "phone stopped answering OPTIONS; binding removed");
        if self.registrar.remove(&user, &contact) {
            self.acd(AcdInput::Registered {
                agent: user,
                registered: false,
            });
        }
    }

    fn acd(&self, input: AcdInput) {
        let _ = self.ctx.acd.send(AcdCmd::Input(input));
    }

    fn respond(&mut self, id: &ServerTxnId, resp: Response) {
        // A late answer to a finished transaction is harmless: the peer already has a final response.
        if let Err(e) = self.layer.send_response(Instant::now(), id, resp) {
            debug!("response not sent: {e}");
        }
    }

    fn handle_cmd(&mut self, cmd: SipCmd) {
        match cmd {
            SipCmd::Respond { id, resp } => self.respond(&id, resp),
            SipCmd::Request {
                req,
                dest,
                transport,
            } => {
                let call_id = req.call_id().unwrap_or_default().to_string();
                let method = req.method.clone();
                let id = self
                    .layer
                    .send_request(Instant::now(), req, dest, transport);
                self.clients.insert(id, PendingClient { call_id, method });
            }
            SipCmd::Stateless {
                msg,
                dest,
                transport,
            } => self.layer.send_stateless(dest, transport, msg),
            SipCmd::Bind { call_id, tx } => {
                self.calls.insert(call_id, tx);
            }
            SipCmd::Unbind { call_id } => {
                self.calls.remove(&call_id);
            }
            SipCmd::Lookup { user, reply } => {
                let _ = reply.send(self.registrar.lookup(&user));
            }
            SipCmd::Drain => self.draining = true,
        }
    }

    fn route(&mut self, call_id: &str, input: CallInput) -> bool {
        match self.calls.get(call_id) {
            Some(tx) => tx.send(input).is_ok(),
            None => false,
        }
    }

    fn handle_event(&mut self, ev: TxnEvent) {
        match ev {
            TxnEvent::Request {
                id,
                req,
                source,
                transport,
            } => self.handle_request(id, req, source, transport),
            TxnEvent::Ack { req, .. } => {
                let call_id = req.call_id().unwrap_or_default().to_string();
                self.route(&call_id, CallInput::Ack { req });
            }
            TxnEvent::Cancelled { id, cancel } => {
                let call_id = cancel.call_id().unwrap_or_default().to_string();
                self.route(&call_id, CallInput::Cancelled { id });
            }
            TxnEvent::Response { id, resp } => {
                let final_response = resp.status >= 200;
                if self.keepalives.contains_key(&id) {
                    if final_response {
                        self.keepalives.remove(&id);
                    }
                    return;
                }
                let call_id = match self.clients.get(&id) {
                    Some(p) => p.call_id.clone(),
                    None => resp.call_id().unwrap_or_default().to_string(),
                };
                if final_response {
                    self.clients.remove(&id);
                }
                self.route(&call_id, CallInput::Response { resp });
            }
            TxnEvent::Timeout { id } => {
                if let Some((user, contact)) = self.keepalives.remove(&id) {
                    self.keepalive_failed(user, contact);
                    return;
                }
                if let Some(p) = self.clients.remove(&id) {
                    let call_id = p.call_id.clone();
                    self.route(
                        &call_id,
                        CallInput::RequestTimeout {
                            method: p.method,
                            call_id: p.call_id,
                        },
                    );
                }
            }
            TxnEvent::AckTimeout { id } => {
                let call_id = self
                    .layer
                    .server_request(&id)
                    .and_then(|r| r.call_id())
                    .map(str::to_string);
                if let Some(call_id) = call_id {
                    self.route(&call_id, CallInput::AckTimeout);
                }
            }
        }
    }

    fn handle_request(
        &mut self,
        id: ServerTxnId,
        req: Request,
        source: SocketAddr,
        transport: Transport,
    ) {
        let call_id = req.call_id().unwrap_or_default().to_string();
        let has_to_tag = req
            .to()
            .and_then(|t| t.tag().map(|s| s.to_string()))
            .is_some();
        // In-dialog requests (and anything for a Call-ID a call owns) go to that call.
        if self.calls.contains_key(&call_id) && (has_to_tag || req.method != Method::Invite) {
            let fallback = Response::to_request(&req, 481, "Call/Transaction Does Not Exist");
            let input = CallInput::Request {
                id,
                req,
                source,
                transport,
            };
            if !self.route(&call_id, input) {
                // The call task is gone: the dialog no longer exists.
                self.calls.remove(&call_id);
                self.respond(&id, fallback);
            }
            return;
        }
        match req.method {
            Method::Register => self.handle_register(id, req, source, transport),
            Method::Options if !has_to_tag => {
                let mut resp = Response::to_request(&req, 200, "OK");
                resp.headers.push("Allow", ALLOW);
                resp.headers.push("Accept", "application/sdp");
                self.respond(&id, resp);
            }
            Method::Invite if !has_to_tag => self.handle_invite(id, req, source, transport),
            Method::Ack => {}
            _ => {
                let resp = Response::to_request(&req, 481, "Call/Transaction Does Not Exist");
                self.respond(&id, resp);
            }
        }
    }

    fn password_of(&self, user: &str) -> Option<String> {
        self.ctx
            .config
            .agents
            .iter()
            .find(|a| a.id == user)
            .map(|a| a.password.clone())
    }

    /// Digest-authenticates a request; on failure the challenge has already been sent.
    fn authenticate(&mut self, id: &ServerTxnId, req: &Request) -> Option<String> {
        let header = req.headers.get("Authorization").map(|s| s.to_string());
        let agents = self.ctx.config.agents.clone();
        let outcome = self.auth.verify(
            unix_now(),
            req.method.as_str(),
            header.as_deref(),
            |u: &str| {
                agents
                    .iter()
                    .find(|a| a.id == u)
                    .map(|a| a.password.clone())
            },
        );
        match outcome {
            AuthOutcome::Ok(user) => Some(user),
            AuthOutcome::Stale => {
                self.challenge(id, req, true);
                None
            }
            AuthOutcome::Failed => {
                self.challenge(id, req, false);
                None
            }
        }
    }

    fn challenge(&mut self, id: &ServerTxnId, req: &Request, stale: bool) {
        let mut resp = Response::to_request(req, 401, "Unauthorized");
        let md5_only = md5_only(
            req.headers.get("User-Agent").unwrap_or(""),
            &self.ctx.config.sip.md5_only_user_agents,
        );
        let mut values = self.auth.challenge(unix_now(), stale);
        if md5_only {
            let md5: Vec<String> = values
                .iter()
                .filter(|v| v.to_ascii_uppercase().contains("ALGORITHM=MD5"))
                .cloned()
                .collect();
            // Never leave a client with no challenge at all (a SHA-256-only configuration).
            if !md5.is_empty() {
                values = md5;
            }
        }
        for value in values {
            resp.headers.push("WWW-Authenticate", value);
        }
        self.respond(id, resp);
    }

    fn handle_register(
        &mut self,
        id: ServerTxnId,
        req: Request,
        source: SocketAddr,
        transport: Transport,
    ) {
        let Some(user) = self.authenticate(&id, &req) else {
            return;
        };
        // The authenticated identity must own the address of record it registers.
        let aor_user = req
            .to()
            .and_then(|t| t.uri.user.clone())
            .unwrap_or_default();
        if aor_user != user || self.password_of(&user).is_none() {
            let resp = Response::to_request(&req, 403, "Forbidden");
            self.respond(&id, resp);
            return;
        }
        let before = !self.registrar.lookup(&user).is_empty();
        let resp = self
            .registrar
            .handle_register(Instant::now(), &req, source, transport, &user);
        self.respond(&id, resp);
        let after = !self.registrar.lookup(&user).is_empty();
        if before != after {
            info!(agent = %user, registered = after, "registration changed");
            self.acd(AcdInput::Registered {
                agent: user,
                registered: after,
            });
        }
    }

    fn handle_invite(
        &mut self,
        id: ServerTxnId,
        req: Request,
        source: SocketAddr,
        transport: Transport,
    ) {
        if self.draining {
            let mut resp = Response::to_request(&req, 503, "Service Unavailable");
            resp.headers.push("Retry-After", "60");
            self.respond(&id, resp);
            return;
        }
        let target = req.uri.user.clone().unwrap_or_default();
        let call_id = req.call_id().unwrap_or_default().to_string();
        let call_ref = self.ctx.new_call_ref();

        // Feature codes (*1, *2, *0) always need the agent's credentials, even from a trunk address.
        if target.starts_with('*') {
            let Some(agent) = self.authenticate(&id, &req) else {
                return;
            };
            let (tx, rx) = mpsc::unbounded_channel();
            self.calls.insert(call_id, tx);
            spawn_feature_call(
                self.ctx.clone(),
                FeatureCall {
                    call_ref,
                    agent,
                    code: target,
                    id,
                    invite: req,
                    source,
                    transport,
                },
                rx,
            );
            return;
        }

        let from_trunk = self
            .ctx
            .config
            .sip
            .trunks
            .iter()
            .any(|net| net.contains(&source.ip()));
        let line = self
            .ctx
            .config
            .lines
            .iter()
            .find(|l| l.number == target)
            .cloned();
        match (line, from_trunk) {
            (Some(line), true) => {
                let (tx, rx) = mpsc::unbounded_channel();
                self.calls.insert(call_id, tx.clone());
                spawn_citizen_call(
                    self.ctx.clone(),
                    NewCall {
                        call_ref,
                        line,
                        id,
                        invite: req,
                        source,
                        transport,
                        tx,
                    },
                    rx,
                );
            }
            (Some(_), false) => {
                debug!(%source, "INVITE to a line from outside the trunks");
                let resp = Response::to_request(&req, 403, "Forbidden");
                self.respond(&id, resp);
            }
            (None, _) if self.ctx.config.dial_target(&target).is_some() => {
                // An agent dialling out during a call: the consultation of an attended transfer, owned by the
                // call the agent is on.
                let Some(agent) = self.authenticate(&id, &req) else {
                    return;
                };
                match self.ctx.calls.call_of_agent(&agent) {
                    Some(tx) => {
                        self.calls.insert(call_id, tx.clone());
                        let _ = tx.send(CallInput::Request {
                            id,
                            req,
                            source,
                            transport,
                        });
                    }
                    None => {
                        debug!(%agent, %target, "agent dialled out without a call to consult from");
                        let resp = Response::to_request(&req, 403, "Forbidden");
                        self.respond(&id, resp);
                    }
                }
            }
            (None, _) => {
                let resp = Response::to_request(&req, 404, "Not Found");
                self.respond(&id, resp);
            }
        }
    }
}

/// Whether a client gets MD5-only challenges (see `sip.md5_only_user_agents`).
fn md5_only(user_agent: &str, patterns: &[String]) -> bool {
    let ua = user_agent.to_ascii_lowercase();
    patterns
        .iter()
        .any(|p| !p.is_empty() && ua.contains(&p.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::md5_only;

    #[test]
    fn md5_only_matches_user_agent_case_insensitively() {
        let pats = vec!["baresip".to_string()];
        assert!(md5_only("baresip v1.0.0 (x86_64/linux)", &pats));
        assert!(md5_only("BareSIP", &pats));
        assert!(!md5_only("Linphone/5.1", &pats));
        assert!(!md5_only("", &pats));
        assert!(!md5_only("anything", &["".to_string()]));
    }
}
