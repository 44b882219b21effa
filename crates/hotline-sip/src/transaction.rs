//! RFC 3261 §17 transaction layer (sans-IO): client/server INVITE and non-INVITE machines, timers
//! A–K, 2xx retransmission until ACK (§13.3.1.4, RFC 6026), CANCEL handling, RFC 3581 rport,
//! merged-request detection (§8.2.2.2) and RFC 2543 fallback matching (§17.2.3).
//!
//! Drive it with `handle_input` / `handle_timeout`, then drain `poll_transmit` and `poll_event`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::msg::{
    parse_lenient, reason_phrase, set_top_via, Method, Request, Response, SipMessage, Via,
};
use crate::policy::{check_request, error_response, Capabilities};
use crate::Transport;

/// RFC 3261 timer base values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerConfig {
    pub t1: Duration,
    pub t2: Duration,
    pub t4: Duration,
}

impl Default for TimerConfig {
    fn default() -> Self {
        TimerConfig {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

impl TimerConfig {
    fn t64(&self) -> Duration {
        self.t1 * 64
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientTxnId(u64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServerTxnId(u64);

/// Bytes to put on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    pub transport: Transport,
    pub dest: SocketAddr,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone)]
pub enum TxnEvent {
    /// A new request for the TU (not ACK, not a matched CANCEL).
    Request {
        id: ServerTxnId,
        req: Request,
        source: SocketAddr,
        transport: Transport,
    },
    /// An ACK for a 2xx (or a stray ACK): end-to-end, for the dialog layer.
    Ack {
        req: Request,
        source: SocketAddr,
        transport: Transport,
    },
    /// The INVITE transaction `id` was cancelled; the layer already answered 200 to the CANCEL and the
    /// TU should now answer 487 on `id`.
    Cancelled { id: ServerTxnId, cancel: Request },
    /// A response on a client transaction (retransmitted 2xx to INVITE included, so the TU re-ACKs).
    Response { id: ClientTxnId, resp: Response },
    /// Timer B or F fired: no final response.
    Timeout { id: ClientTxnId },
    /// A 2xx to INVITE was never acknowledged within 64*T1.
    AckTimeout { id: ServerTxnId },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxnError {
    #[error("no such transaction")]
    UnknownTransaction,
    #[error("the transaction already sent a final response")]
    AlreadyFinal,
    #[error("status {0} is not a valid response code")]
    InvalidStatus(u16),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum TimerKind {
    A,
    B,
    D,
    E,
    F,
    K,
    G,
    H,
    I,
    J,
    /// 2xx retransmission by the server (§13.3.1.4).
    L,
    /// Wait for the ACK of a 2xx (64*T1), server side.
    AckWait,
    /// Client INVITE Accepted state end (RFC 6026 Timer M).
    M,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum TxnRef {
    Client(u64),
    Server(u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientState {
    /// Calling (INVITE) or Trying (non-INVITE).
    Calling,
    Proceeding,
    Completed,
    Accepted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ServerState {
    /// Proceeding (INVITE) or Trying/Proceeding (non-INVITE).
    Proceeding,
    Completed,
    Confirmed,
    Accepted,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ServerKey {
    /// §17.2.3 keys on branch, sent-by and method; Call-ID and CSeq number are added because a real
    /// retransmission repeats them too, and a different request reusing a branch (RFC 4475's novelsc and
    /// unkscm do) must get its own answer rather than the earlier request's.
    Rfc3261 {
        branch: String,
        sent_by: String,
        method: String,
        call_id: String,
        cseq: u32,
    },
    /// RFC 2543 peers: no usable branch (§17.2.3).
    Rfc2543 {
        call_id: String,
        from_tag: String,
        cseq: u32,
        via: String,
        method: String,
    },
}

type MergeKey = (String, String, u32, String);
type AckKey = (String, u32, String);

struct ClientTxn {
    key: (String, String),
    invite: bool,
    request: Request,
    bytes: Vec<u8>,
    dest: SocketAddr,
    transport: Transport,
    state: ClientState,
    interval: Duration,
    ack: Option<Vec<u8>>,
    timers: Vec<(TimerKind, Instant)>,
}

struct ServerTxn {
    key: ServerKey,
    invite: bool,
    dest: SocketAddr,
    transport: Transport,
    state: ServerState,
    last_response: Option<Vec<u8>>,
    interval: Duration,
    timers: Vec<(TimerKind, Instant)>,
    merge_key: Option<MergeKey>,
    ack_key: Option<AckKey>,
    request: Request,
}

/// The transaction layer. One per endpoint; not thread-safe by design (one owner).
pub struct TransactionLayer {
    cfg: TimerConfig,
    caps: Option<Capabilities>,
    auto_trying: bool,
    next_id: u64,
    seq: u64,
    clients: HashMap<u64, ClientTxn>,
    client_index: HashMap<(String, String), u64>,
    servers: HashMap<u64, ServerTxn>,
    server_index: HashMap<ServerKey, u64>,
    merge_index: HashMap<MergeKey, u64>,
    accepted: HashMap<AckKey, u64>,
    timers: BTreeMap<(Instant, u64), (TxnRef, TimerKind)>,
    events: VecDeque<TxnEvent>,
    transmits: VecDeque<Transmit>,
}

impl TransactionLayer {
    /// A layer that applies [`Capabilities::default`] checks to new requests and sends 100 Trying
    /// for INVITEs at once.
    pub fn new(cfg: TimerConfig) -> TransactionLayer {
        TransactionLayer {
            cfg,
            caps: Some(Capabilities::default()),
            auto_trying: true,
            next_id: 1,
            seq: 0,
            clients: HashMap::new(),
            client_index: HashMap::new(),
            servers: HashMap::new(),
            server_index: HashMap::new(),
            merge_index: HashMap::new(),
            accepted: HashMap::new(),
            timers: BTreeMap::new(),
            events: VecDeque::new(),
            transmits: VecDeque::new(),
        }
    }

    /// Replaces the early checks (`None`: only syntax errors are answered by the layer).
    pub fn set_capabilities(&mut self, caps: Option<Capabilities>) {
        self.caps = caps;
    }

    /// Whether INVITE server transactions answer 100 Trying immediately (default true).
    pub fn set_auto_trying(&mut self, on: bool) {
        self.auto_trying = on;
    }

    pub fn timer_config(&self) -> TimerConfig {
        self.cfg
    }

    pub fn poll_event(&mut self) -> Option<TxnEvent> {
        self.events.pop_front()
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// Earliest armed timer (may be stale: an early wake-up is harmless).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.keys().next().map(|(t, _)| *t)
    }

    /// Live transactions (client, server), for metrics and tests.
    pub fn counts(&self) -> (usize, usize) {
        (self.clients.len(), self.servers.len())
    }

    /// The request that created a server transaction.
    pub fn server_request(&self, id: &ServerTxnId) -> Option<&Request> {
        self.servers.get(&id.0).map(|t| &t.request)
    }

    fn alloc(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn arm(&mut self, r: TxnRef, kind: TimerKind, at: Instant) {
        self.seq += 1;
        self.timers.insert((at, self.seq), (r, kind));
        let list = match r {
            TxnRef::Client(id) => self.clients.get_mut(&id).map(|t| &mut t.timers),
            TxnRef::Server(id) => self.servers.get_mut(&id).map(|t| &mut t.timers),
        };
        if let Some(list) = list {
            list.retain(|(k, _)| *k != kind);
            list.push((kind, at));
        }
    }

    fn disarm(timers: &mut Vec<(TimerKind, Instant)>, kinds: &[TimerKind]) {
        timers.retain(|(k, _)| !kinds.contains(k));
    }

    fn send(&mut self, transport: Transport, dest: SocketAddr, bytes: Vec<u8>) {
        self.transmits.push_back(Transmit {
            transport,
            dest,
            bytes,
        });
    }

    // -----------------------------------------------------------------------------------------
    // Input

    /// Feeds one datagram (or one framed stream message) received from `source`.
    pub fn handle_input(
        &mut self,
        now: Instant,
        transport: Transport,
        source: SocketAddr,
        bytes: &[u8],
    ) {
        let Ok((msg, problem)) = parse_lenient(bytes) else {
            return;
        };
        match msg {
            SipMessage::Response(resp) => {
                if problem.is_none() {
                    self.on_response(now, resp);
                }
            }
            SipMessage::Request(mut req) => {
                stamp_via(&mut req, source);
                if let Some(e) = problem {
                    if req.method != Method::Ack {
                        if let Some(resp) = error_response(&req, e.status(), &e.reason()) {
                            let dest = response_dest(req.top_via().as_ref(), source, transport);
                            self.send(transport, dest, resp.to_bytes());
                        }
                    }
                    return;
                }
                self.on_request(now, req, source, transport);
            }
        }
    }

    fn on_request(&mut self, now: Instant, req: Request, source: SocketAddr, transport: Transport) {
        let Some(via) = req.top_via() else {
            return;
        };
        let Some(key) = server_key(&req, &via) else {
            return;
        };
        if req.method == Method::Ack {
            self.on_ack(now, req, key, source, transport);
            return;
        }
        if let Some(id) = self.server_index.get(&key).copied() {
            // retransmission: repeat the last response, if any
            if let Some(t) = self.servers.get(&id) {
                if let Some(b) = t.last_response.clone() {
                    let (tr, dest) = (t.transport, t.dest);
                    self.send(tr, dest, b);
                }
            }
            return;
        }
        let dest = response_dest(Some(&via), source, transport);
        if req.method == Method::Cancel {
            let invite_key = with_method(&key, "INVITE");
            let invite = self.server_index.get(&invite_key).copied();
            let id = self.create_server(now, key, req.clone(), dest, transport);
            let status = if invite.is_some() { 200 } else { 481 };
            let resp = Response::to_request(&req, status, reason_phrase(status));
            let _ = self.send_response(now, &id, resp);
            if let Some(inv) = invite {
                let pending = self
                    .servers
                    .get(&inv)
                    .is_some_and(|t| t.state == ServerState::Proceeding);
                if pending {
                    self.events.push_back(TxnEvent::Cancelled {
                        id: ServerTxnId(inv),
                        cancel: req,
                    });
                }
            }
            return;
        }
        let merge = merge_key(&req);
        let merged = req.to().is_some_and(|t| t.tag().is_none())
            && merge
                .as_ref()
                .is_some_and(|m| self.merge_index.contains_key(m));
        let id = self.create_server(now, key, req.clone(), dest, transport);
        if merged {
            let resp = Response::to_request(&req, 482, "Loop Detected");
            let _ = self.send_response(now, &id, resp);
            return;
        }
        if let Some(m) = merge {
            self.merge_index.insert(m.clone(), id.0);
            if let Some(t) = self.servers.get_mut(&id.0) {
                t.merge_key = Some(m);
            }
        }
        if let Some(resp) = self.caps.as_ref().and_then(|c| check_request(&req, c)) {
            let _ = self.send_response(now, &id, resp);
            return;
        }
        if req.method == Method::Invite && self.auto_trying {
            let mut trying = Response::to_request(&req, 100, "Trying");
            if let Some(ts) = req.headers.get("Timestamp") {
                trying.headers.set("Timestamp", ts);
            }
            let _ = self.send_response(now, &id, trying);
        }
        self.events.push_back(TxnEvent::Request {
            id,
            req,
            source,
            transport,
        });
    }

    fn on_ack(
        &mut self,
        now: Instant,
        req: Request,
        key: ServerKey,
        source: SocketAddr,
        transport: Transport,
    ) {
        let invite_key = with_method(&key, "INVITE");
        if let Some(id) = self.server_index.get(&invite_key).copied() {
            let mut confirm = None;
            if let Some(t) = self.servers.get_mut(&id) {
                match t.state {
                    ServerState::Completed => {
                        t.state = ServerState::Confirmed;
                        Self::disarm(&mut t.timers, &[TimerKind::G, TimerKind::H]);
                        confirm = Some(t.transport);
                    }
                    ServerState::Confirmed => return,
                    _ => {}
                }
            }
            if let Some(tr) = confirm {
                if tr.is_reliable() {
                    self.terminate_server(id);
                } else {
                    let at = now + self.cfg.t4;
                    self.arm(TxnRef::Server(id), TimerKind::I, at);
                }
                return;
            }
        }
        // ACK for a 2xx: ends the retransmissions and goes up to the TU.
        if let Some(k) = ack_key(&req) {
            if let Some(id) = self.accepted.remove(&k) {
                self.terminate_server(id);
            }
        }
        self.events.push_back(TxnEvent::Ack {
            req,
            source,
            transport,
        });
    }

    fn create_server(
        &mut self,
        _now: Instant,
        key: ServerKey,
        request: Request,
        dest: SocketAddr,
        transport: Transport,
    ) -> ServerTxnId {
        let id = self.alloc();
        let invite = request.method == Method::Invite;
        self.server_index.insert(key.clone(), id);
        self.servers.insert(
            id,
            ServerTxn {
                key,
                invite,
                dest,
                transport,
                state: ServerState::Proceeding,
                last_response: None,
                interval: self.cfg.t1,
                timers: Vec::new(),
                merge_key: None,
                ack_key: None,
                request,
            },
        );
        ServerTxnId(id)
    }

    fn terminate_server(&mut self, id: u64) {
        if let Some(t) = self.servers.remove(&id) {
            if self.server_index.get(&t.key) == Some(&id) {
                self.server_index.remove(&t.key);
            }
            if let Some(m) = t.merge_key {
                if self.merge_index.get(&m) == Some(&id) {
                    self.merge_index.remove(&m);
                }
            }
            if let Some(k) = t.ack_key {
                if self.accepted.get(&k) == Some(&id) {
                    self.accepted.remove(&k);
                }
            }
        }
    }

    fn terminate_client(&mut self, id: u64) {
        if let Some(t) = self.clients.remove(&id) {
            if self.client_index.get(&t.key) == Some(&id) {
                self.client_index.remove(&t.key);
            }
        }
    }

    fn on_response(&mut self, now: Instant, resp: Response) {
        let Some(via) = resp.top_via() else {
            return;
        };
        let (Some(branch), Some((_, method))) = (via.branch.clone(), resp.cseq()) else {
            return;
        };
        let Some(id) = self
            .client_index
            .get(&(branch, method.as_str().to_string()))
            .copied()
        else {
            return;
        };
        let Some(t) = self.clients.get_mut(&id) else {
            return;
        };
        let status = resp.status;
        let t64 = self.cfg.t64();
        let reliable = t.transport.is_reliable();
        let r = TxnRef::Client(id);
        if t.invite {
            match (t.state, status) {
                (ClientState::Calling | ClientState::Proceeding, 100..=199) => {
                    t.state = ClientState::Proceeding;
                    Self::disarm(&mut t.timers, &[TimerKind::A, TimerKind::B]);
                    self.events.push_back(TxnEvent::Response {
                        id: ClientTxnId(id),
                        resp,
                    });
                }
                (ClientState::Calling | ClientState::Proceeding, 200..=299) => {
                    t.state = ClientState::Accepted;
                    Self::disarm(&mut t.timers, &[TimerKind::A, TimerKind::B]);
                    self.arm(r, TimerKind::M, now + t64);
                    self.events.push_back(TxnEvent::Response {
                        id: ClientTxnId(id),
                        resp,
                    });
                }
                (ClientState::Calling | ClientState::Proceeding, _) => {
                    let ack = build_ack(&t.request, &resp).to_bytes();
                    t.ack = Some(ack.clone());
                    t.state = ClientState::Completed;
                    Self::disarm(&mut t.timers, &[TimerKind::A, TimerKind::B]);
                    let (tr, dest) = (t.transport, t.dest);
                    self.send(tr, dest, ack);
                    self.events.push_back(TxnEvent::Response {
                        id: ClientTxnId(id),
                        resp,
                    });
                    if reliable {
                        self.terminate_client(id);
                    } else {
                        // Timer D: at least 32 s for UDP
                        let d = t64.max(Duration::from_secs(32));
                        self.arm(r, TimerKind::D, now + d);
                    }
                }
                (ClientState::Completed, 300..) => {
                    if let Some(ack) = t.ack.clone() {
                        let (tr, dest) = (t.transport, t.dest);
                        self.send(tr, dest, ack);
                    }
                }
                (ClientState::Accepted, 200..=299) => {
                    self.events.push_back(TxnEvent::Response {
                        id: ClientTxnId(id),
                        resp,
                    });
                }
                _ => {}
            }
        } else {
            match (t.state, status) {
                (ClientState::Calling | ClientState::Proceeding, 100..=199) => {
                    t.state = ClientState::Proceeding;
                    self.events.push_back(TxnEvent::Response {
                        id: ClientTxnId(id),
                        resp,
                    });
                }
                (ClientState::Calling | ClientState::Proceeding, _) => {
                    t.state = ClientState::Completed;
                    Self::disarm(&mut t.timers, &[TimerKind::E, TimerKind::F]);
                    self.events.push_back(TxnEvent::Response {
                        id: ClientTxnId(id),
                        resp,
                    });
                    if reliable {
                        self.terminate_client(id);
                    } else {
                        let at = now + self.cfg.t4;
                        self.arm(r, TimerKind::K, at);
                    }
                }
                _ => {}
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Output from the TU

    /// Starts a client transaction. The request must carry a top Via with a branch (see
    /// [`Via::new`]); one is added (branch only) if missing. ACK is sent without a transaction.
    pub fn send_request(
        &mut self,
        now: Instant,
        mut req: Request,
        dest: SocketAddr,
        transport: Transport,
    ) -> ClientTxnId {
        let id = self.alloc();
        if req.method == Method::Ack {
            self.send(transport, dest, req.to_bytes());
            return ClientTxnId(id);
        }
        let mut via = req.top_via().unwrap_or_else(|| {
            let mut v = Via::new(transport, "invalid", None);
            v.branch = None;
            v
        });
        if via.branch.is_none() {
            via.branch = Some(crate::util::new_branch());
            set_top_via(&mut req.headers, &via);
        } else if req.top_via().is_none() {
            set_top_via(&mut req.headers, &via);
        }
        let branch = via.branch.clone().unwrap_or_default();
        let key = (branch, req.method.as_str().to_string());
        let bytes = req.to_bytes();
        let invite = req.method == Method::Invite;
        self.client_index.insert(key.clone(), id);
        self.clients.insert(
            id,
            ClientTxn {
                key,
                invite,
                request: req,
                bytes: bytes.clone(),
                dest,
                transport,
                state: ClientState::Calling,
                interval: self.cfg.t1,
                ack: None,
                timers: Vec::new(),
            },
        );
        self.send(transport, dest, bytes);
        let r = TxnRef::Client(id);
        if !transport.is_reliable() {
            let kind = if invite { TimerKind::A } else { TimerKind::E };
            self.arm(r, kind, now + self.cfg.t1);
        }
        let kind = if invite { TimerKind::B } else { TimerKind::F };
        self.arm(r, kind, now + self.cfg.t64());
        ClientTxnId(id)
    }

    /// Sends a response on a server transaction (provisional any number of times, then one final).
    pub fn send_response(
        &mut self,
        now: Instant,
        id: &ServerTxnId,
        resp: Response,
    ) -> Result<(), TxnError> {
        if !(100..700).contains(&resp.status) {
            return Err(TxnError::InvalidStatus(resp.status));
        }
        let t64 = self.cfg.t64();
        let t1 = self.cfg.t1;
        let t = self
            .servers
            .get_mut(&id.0)
            .ok_or(TxnError::UnknownTransaction)?;
        if t.state != ServerState::Proceeding {
            return Err(TxnError::AlreadyFinal);
        }
        let bytes = resp.to_bytes();
        let (tr, dest) = (t.transport, t.dest);
        let reliable = tr.is_reliable();
        let r = TxnRef::Server(id.0);
        t.last_response = Some(bytes.clone());
        if resp.status < 200 {
            self.send(tr, dest, bytes);
            return Ok(());
        }
        if t.invite && resp.is_success() {
            t.state = ServerState::Accepted;
            let key = ack_key(&t.request);
            t.ack_key = key.clone();
            if let Some(k) = key {
                self.accepted.insert(k, id.0);
            }
            self.send(tr, dest, bytes);
            if !reliable {
                self.arm(r, TimerKind::L, now + t1);
            }
            self.arm(r, TimerKind::AckWait, now + t64);
        } else if t.invite {
            t.state = ServerState::Completed;
            self.send(tr, dest, bytes);
            if !reliable {
                self.arm(r, TimerKind::G, now + t1);
            }
            self.arm(r, TimerKind::H, now + t64);
        } else {
            t.state = ServerState::Completed;
            self.send(tr, dest, bytes);
            if reliable {
                self.terminate_server(id.0);
            } else {
                self.arm(r, TimerKind::J, now + t64);
            }
        }
        Ok(())
    }

    /// Sends a message outside any transaction (ACK for 2xx, stateless answers).
    pub fn send_stateless(&mut self, dest: SocketAddr, transport: Transport, msg: SipMessage) {
        self.send(transport, dest, msg.to_bytes());
    }

    /// A CANCEL for the pending INVITE client transaction `id` (§9.1); send it with `send_request`
    /// to the same destination. `None` if the transaction is gone or not an INVITE.
    pub fn cancel_for(&self, id: &ClientTxnId) -> Option<(Request, SocketAddr, Transport)> {
        let t = self.clients.get(&id.0)?;
        if !t.invite {
            return None;
        }
        Some((build_cancel(&t.request), t.dest, t.transport))
    }

    // -----------------------------------------------------------------------------------------
    // Timers

    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((&(at, seq), &(r, kind))) = self.timers.iter().next() {
            if at > now {
                break;
            }
            self.timers.remove(&(at, seq));
            let live = match r {
                TxnRef::Client(id) => self.clients.get_mut(&id).map(|t| &mut t.timers),
                TxnRef::Server(id) => self.servers.get_mut(&id).map(|t| &mut t.timers),
            };
            let Some(list) = live else {
                continue;
            };
            let Some(pos) = list.iter().position(|(k, a)| *k == kind && *a == at) else {
                continue;
            };
            list.remove(pos);
            match r {
                TxnRef::Client(id) => self.fire_client(now, id, kind),
                TxnRef::Server(id) => self.fire_server(now, id, kind),
            }
        }
    }

    fn fire_client(&mut self, now: Instant, id: u64, kind: TimerKind) {
        let Some(t) = self.clients.get_mut(&id) else {
            return;
        };
        let r = TxnRef::Client(id);
        match kind {
            TimerKind::A if t.state == ClientState::Calling => {
                t.interval *= 2;
                let next = now + t.interval;
                let (tr, dest, b) = (t.transport, t.dest, t.bytes.clone());
                self.send(tr, dest, b);
                self.arm(r, TimerKind::A, next);
            }
            TimerKind::E if matches!(t.state, ClientState::Calling | ClientState::Proceeding) => {
                t.interval = if t.state == ClientState::Calling {
                    (t.interval * 2).min(self.cfg.t2)
                } else {
                    self.cfg.t2
                };
                let next = now + t.interval;
                let (tr, dest, b) = (t.transport, t.dest, t.bytes.clone());
                self.send(tr, dest, b);
                self.arm(r, TimerKind::E, next);
            }
            TimerKind::B | TimerKind::F => {
                self.events.push_back(TxnEvent::Timeout {
                    id: ClientTxnId(id),
                });
                self.terminate_client(id);
            }
            TimerKind::D | TimerKind::K | TimerKind::M => self.terminate_client(id),
            _ => {}
        }
    }

    fn fire_server(&mut self, now: Instant, id: u64, kind: TimerKind) {
        let Some(t) = self.servers.get_mut(&id) else {
            return;
        };
        let r = TxnRef::Server(id);
        match kind {
            TimerKind::G | TimerKind::L => {
                t.interval = (t.interval * 2).min(self.cfg.t2);
                let next = now + t.interval;
                let (tr, dest) = (t.transport, t.dest);
                if let Some(b) = t.last_response.clone() {
                    self.send(tr, dest, b);
                }
                self.arm(r, kind, next);
            }
            TimerKind::AckWait => {
                self.events.push_back(TxnEvent::AckTimeout {
                    id: ServerTxnId(id),
                });
                self.terminate_server(id);
            }
            TimerKind::H | TimerKind::I | TimerKind::J => self.terminate_server(id),
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

/// RFC 3581 / §18.2.1: records where the request really came from in its top Via.
fn stamp_via(req: &mut Request, source: SocketAddr) {
    let Some(mut via) = req.top_via() else {
        return;
    };
    let ip = source.ip().to_string();
    let mut changed = false;
    if via.rport.is_some() {
        via.rport = Some(Some(source.port()));
        via.received = Some(ip);
        changed = true;
    } else if via.host.trim_matches(['[', ']']) != ip {
        via.received = Some(ip);
        changed = true;
    }
    if changed {
        set_top_via(&mut req.headers, &via);
    }
}

/// Where responses go: back to the source address and port, on every transport. This is RFC 3581's
/// symmetric response routing applied even when the client did not ask for `rport`: phones behind NAT,
/// and clients that send from a port other than their Via port, only receive there. (Plain §18.2.2 would
/// send to the Via sent-by port.) The source of a datagram is never a broadcast or multicast address.
fn response_dest(_via: Option<&Via>, source: SocketAddr, _transport: Transport) -> SocketAddr {
    source
}

fn server_key(req: &Request, via: &Via) -> Option<ServerKey> {
    let method = match req.method {
        Method::Ack => "INVITE".to_string(),
        ref m => m.as_str().to_string(),
    };
    if via.is_rfc3261() {
        return Some(ServerKey::Rfc3261 {
            branch: via.branch.clone()?,
            sent_by: via.sent_by().to_ascii_lowercase(),
            method,
            call_id: req.call_id().unwrap_or_default().to_string(),
            cseq: req.cseq().map(|c| c.0).unwrap_or(0),
        });
    }
    let (cseq, _) = req.cseq()?;
    Some(ServerKey::Rfc2543 {
        call_id: req.call_id()?.to_string(),
        from_tag: req
            .from()
            .and_then(|f| f.tag().map(str::to_string))
            .unwrap_or_default(),
        cseq,
        via: format!("{} {}", via.sent_by(), via.branch.as_deref().unwrap_or("")),
        method,
    })
}

fn with_method(key: &ServerKey, m: &str) -> ServerKey {
    let mut k = key.clone();
    match &mut k {
        ServerKey::Rfc3261 { method, .. } | ServerKey::Rfc2543 { method, .. } => {
            *method = m.to_string()
        }
    }
    k
}

fn merge_key(req: &Request) -> Option<MergeKey> {
    let (n, m) = req.cseq()?;
    let tag = req.from()?.tag()?.to_string();
    Some((tag, req.call_id()?.to_string(), n, m.as_str().to_string()))
}

fn ack_key(req: &Request) -> Option<AckKey> {
    let (n, _) = req.cseq()?;
    let tag = req.from()?.tag().unwrap_or("").to_string();
    Some((req.call_id()?.to_string(), n, tag))
}

/// ACK for a non-2xx final response (§17.1.1.3): like the INVITE, but with the response's To (its tag).
pub fn build_ack(invite: &Request, resp: &Response) -> Request {
    same_transaction(invite, Method::Ack, resp.headers.get("To"))
}

/// CANCEL for a pending INVITE (§9.1): same Request-URI, top Via, From, To, Call-ID, CSeq number.
pub fn build_cancel(invite: &Request) -> Request {
    same_transaction(invite, Method::Cancel, None)
}

/// A request that belongs to the INVITE's client transaction: its Request-URI, top Via (so the branch
/// matches), Route set, From, Call-ID and CSeq number, with `method`; To from `to` or the INVITE.
fn same_transaction(invite: &Request, method: Method, to: Option<&str>) -> Request {
    let mut req = Request::new(method.clone(), invite.uri.clone());
    if let Some(v) = invite.headers.get_all("Via").next() {
        req.headers.push("Via", v);
    }
    for r in invite.headers.get_all("Route") {
        req.headers.push("Route", r);
    }
    copy(&mut req, invite, "From");
    match to {
        Some(to) => req.headers.push("To", to),
        None => copy(&mut req, invite, "To"),
    }
    copy(&mut req, invite, "Call-ID");
    if let Some((n, _)) = invite.cseq() {
        req.headers.push("CSeq", format!("{n} {method}"));
    }
    req.headers.push("Max-Forwards", "70");
    req
}

fn copy(dst: &mut Request, src: &Request, name: &str) {
    if let Some(v) = src.headers.get(name) {
        dst.headers.push(name, v);
    }
}
