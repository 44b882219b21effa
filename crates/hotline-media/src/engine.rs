//! The tokio edge: RTP sockets, one task per call.
//!
//! [`MediaEngine`] hands out even RTP ports from a range. [`MediaEngine::session`] spawns one task per call
//! which owns every socket of that call's legs; the switch drives it through a cloneable [`MediaHandle`] that
//! only sends commands, and hears back through [`MediaEvent`]s.
//!
//! RTCP: only the even RTP port is bound and advertised; the odd port next to it is never handed to another
//! leg but is not bound, so peers' RTCP is dropped by the kernel. RTCP multiplexed on the RTP port is ignored.
//!
//! Packet path (`Session::on_packet`): one preallocated receive buffer per call, header rewritten and payload
//! transcoded in place, a non-blocking `try_send_to`; no allocation, no lock, no log line. Counters are
//! relaxed atomics.

use std::collections::HashSet;
use std::fmt;
use std::future::poll_fn;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant};

use tokio::io::ReadBuf;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Interval, MissedTickBehavior};

use crate::dtmf::DtmfDetector;
use crate::prompts::{Prompt, FRAME_BYTES};
use crate::rtp::{self, OutStream, HEADER_LEN};
use crate::sdp::{Direction, Negotiated};
use crate::{g711, Codec};

/// Default silence after which a leg reports [`MediaEventKind::RtpTimeout`].
pub const DEFAULT_RTP_TIMEOUT: Duration = Duration::from_secs(60);
/// A latched peer that has been silent this long may be replaced by a new source address (NAT rebinding).
const RELATCH_AFTER: Duration = Duration::from_secs(2);
const FRAME: Duration = Duration::from_millis(20);
const RECV_BUF: usize = 2048;

/// Identifies a leg within its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LegId(pub u32);

impl fmt::Display for LegId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "leg{}", self.0)
    }
}

/// A new leg: put `local_port` (on [`MediaEngine::ip`]) in the SDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegInfo {
    pub leg: LegId,
    pub local_port: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaEventKind {
    /// A DTMF digit received as RFC 4733 telephone-event (once per key press).
    Dtmf(char),
    /// A non-looped prompt finished playing (not sent after `stop`).
    PlayDone,
    /// No RTP from the leg for the configured time (reported once per silent period).
    RtpTimeout,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaEvent {
    /// The tag given to [`MediaEngine::session`].
    pub tag: u64,
    pub leg: LegId,
    pub kind: MediaEventKind,
}

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("no free RTP port on {ip} in {port_min}..={port_max}")]
    PortsExhausted {
        ip: IpAddr,
        port_min: u16,
        port_max: u16,
    },
    #[error("cannot use RTP socket: {0}")]
    Socket(#[source] std::io::Error),
    #[error("media session is closed")]
    Closed,
}

/// Engine settings.
#[derive(Debug, Clone, Copy)]
pub struct MediaConfig {
    pub ip: IpAddr,
    pub port_min: u16,
    pub port_max: u16,
    /// Zero disables RTP timeouts.
    pub rtp_timeout: Duration,
}

/// A snapshot of the engine counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EngineStats {
    pub packets_received: u64,
    pub packets_relayed: u64,
    /// Received packets not relayed although bridged, malformed packets, failed sends.
    pub packets_dropped: u64,
    pub prompt_frames_sent: u64,
    pub dtmf_events: u64,
    pub sessions: u64,
    pub legs: u64,
}

#[derive(Default)]
struct Counters {
    received: AtomicU64,
    relayed: AtomicU64,
    dropped: AtomicU64,
    prompt_frames: AtomicU64,
    dtmf: AtomicU64,
    sessions: AtomicU64,
    legs: AtomicU64,
}

struct Inner {
    ip: IpAddr,
    port_min: u16,
    port_max: u16,
    rtp_timeout_ms: AtomicU64,
    ports: Mutex<PortPool>,
    counters: Counters,
}

/// Which even ports are in use; `next` spreads allocations over the range so a just-freed port is not reused
/// at once (late packets of the old call would land in the new one).
struct PortPool {
    next: usize,
    used: HashSet<u16>,
}

/// Owns one port of the pool until dropped.
struct PortLease {
    inner: Arc<Inner>,
    port: u16,
}

impl Drop for PortLease {
    fn drop(&mut self) {
        if let Ok(mut pool) = self.inner.ports.lock() {
            pool.used.remove(&self.port);
        }
        self.inner.counters.legs.fetch_sub(1, Relaxed);
    }
}

impl Inner {
    fn first_even(&self) -> u32 {
        (u32::from(self.port_min) + 1) & !1
    }

    fn slots(&self) -> usize {
        let first = self.first_even();
        let max = u32::from(self.port_max);
        if max < first {
            0
        } else {
            ((max - first) / 2 + 1) as usize
        }
    }

    fn exhausted(&self) -> MediaError {
        MediaError::PortsExhausted {
            ip: self.ip,
            port_min: self.port_min,
            port_max: self.port_max,
        }
    }

    /// Bind the next free even port. Ports taken by other programs are skipped.
    fn allocate(self: &Arc<Self>) -> Result<(UdpSocket, PortLease), MediaError> {
        let slots = self.slots();
        let first = self.first_even();
        let mut pool = self.ports.lock().map_err(|_| self.exhausted())?;
        let mut last_err = None;
        for k in 0..slots {
            let slot = (pool.next + k) % slots;
            let Ok(port) = u16::try_from(first + 2 * slot as u32) else {
                continue;
            };
            if pool.used.contains(&port) {
                continue;
            }
            let sock = match std::net::UdpSocket::bind(SocketAddr::new(self.ip, port)) {
                Ok(s) => s,
                Err(e) => {
                    last_err = Some(e);
                    continue;
                }
            };
            let sock = sock
                .set_nonblocking(true)
                .and_then(|()| UdpSocket::from_std(sock))
                .map_err(MediaError::Socket)?;
            pool.used.insert(port);
            pool.next = (slot + 1) % slots;
            self.counters.legs.fetch_add(1, Relaxed);
            return Ok((
                sock,
                PortLease {
                    inner: self.clone(),
                    port,
                },
            ));
        }
        match last_err {
            // Not a single port could be bound and none is ours: the address itself is the problem.
            Some(e) if pool.used.is_empty() && e.kind() != std::io::ErrorKind::AddrInUse => {
                Err(MediaError::Socket(e))
            }
            _ => Err(self.exhausted()),
        }
    }
}

/// Allocates RTP ports and spawns per-call media sessions.
pub struct MediaEngine {
    inner: Arc<Inner>,
}

impl MediaEngine {
    /// An engine binding `ip`, using the even ports of `port_min..=port_max`, RTP timeout 60 s.
    pub fn new(ip: IpAddr, port_min: u16, port_max: u16) -> Arc<MediaEngine> {
        Self::with_config(MediaConfig {
            ip,
            port_min,
            port_max,
            rtp_timeout: DEFAULT_RTP_TIMEOUT,
        })
    }

    pub fn with_config(cfg: MediaConfig) -> Arc<MediaEngine> {
        Arc::new(MediaEngine {
            inner: Arc::new(Inner {
                ip: cfg.ip,
                port_min: cfg.port_min,
                port_max: cfg.port_max,
                rtp_timeout_ms: AtomicU64::new(cfg.rtp_timeout.as_millis() as u64),
                ports: Mutex::new(PortPool {
                    next: 0,
                    used: HashSet::new(),
                }),
                counters: Counters::default(),
            }),
        })
    }

    /// Change the RTP timeout (zero = off); sessions started afterwards use it.
    pub fn set_rtp_timeout(&self, timeout: Duration) {
        self.inner
            .rtp_timeout_ms
            .store(timeout.as_millis() as u64, Relaxed);
    }

    pub fn rtp_timeout(&self) -> Duration {
        Duration::from_millis(self.inner.rtp_timeout_ms.load(Relaxed))
    }

    /// The address the engine binds and that goes into SDP.
    pub fn ip(&self) -> IpAddr {
        self.inner.ip
    }

    pub fn stats(&self) -> EngineStats {
        let c = &self.inner.counters;
        EngineStats {
            packets_received: c.received.load(Relaxed),
            packets_relayed: c.relayed.load(Relaxed),
            packets_dropped: c.dropped.load(Relaxed),
            prompt_frames_sent: c.prompt_frames.load(Relaxed),
            dtmf_events: c.dtmf.load(Relaxed),
            sessions: c.sessions.load(Relaxed),
            legs: c.legs.load(Relaxed),
        }
    }

    /// Start the media task of one call. Events carry `tag` so one receiver can serve many calls.
    /// Must be called within a tokio runtime.
    pub fn session(&self, events: mpsc::UnboundedSender<MediaEvent>, tag: u64) -> MediaHandle {
        let (tx, rx) = mpsc::unbounded_channel();
        let timeout = Duration::from_millis(self.inner.rtp_timeout_ms.load(Relaxed));
        self.inner.counters.sessions.fetch_add(1, Relaxed);
        let session = Session {
            inner: self.inner.clone(),
            tag,
            events,
            rx,
            legs: Vec::new(),
            next_leg: 1,
            bridge: None,
            rr: 0,
            rtp_timeout: timeout,
            last_play_tick: None,
        };
        tokio::spawn(session.run());
        MediaHandle {
            tx,
            inner: self.inner.clone(),
            tag,
        }
    }
}

enum Cmd {
    AddLeg {
        socket: UdpSocket,
        lease: PortLease,
        reply: oneshot::Sender<LegInfo>,
    },
    SetRemote(LegId, Negotiated),
    Play(LegId, Arc<Prompt>, bool),
    Stop(LegId),
    Bridge(LegId, LegId),
    Unbridge,
    SetHold(LegId, bool),
    RemoveLeg(LegId),
    Close,
}

/// Controls one call's media task. Cloning is cheap; commands are queued and applied in order. Commands naming
/// an unknown leg are ignored. The task ends on `close()` or when every handle is dropped.
#[derive(Clone)]
pub struct MediaHandle {
    tx: mpsc::UnboundedSender<Cmd>,
    inner: Arc<Inner>,
    tag: u64,
}

impl fmt::Debug for MediaHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MediaHandle")
            .field("tag", &self.tag)
            .finish()
    }
}

impl MediaHandle {
    fn send(&self, cmd: Cmd) -> Result<(), MediaError> {
        self.tx.send(cmd).map_err(|_| MediaError::Closed)
    }

    pub fn tag(&self) -> u64 {
        self.tag
    }

    /// Whether the session task has ended.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Bind a new RTP port and add a leg for it.
    pub async fn add_leg(&self) -> Result<LegInfo, MediaError> {
        let (socket, lease) = self.inner.allocate()?;
        let (reply, rx) = oneshot::channel();
        self.send(Cmd::AddLeg {
            socket,
            lease,
            reply,
        })?;
        rx.await.map_err(|_| MediaError::Closed)
    }

    /// Where and how to send to this leg (from its SDP). May be repeated (re-INVITE); a changed address drops
    /// the latch so the next received packet latches again.
    pub fn set_remote(&self, leg: LegId, negotiated: Negotiated) -> Result<(), MediaError> {
        self.send(Cmd::SetRemote(leg, negotiated))
    }

    /// Play a prompt to the leg, replacing what it was playing. While a prompt plays, audio bridged towards
    /// this leg is not sent to it.
    pub fn play(&self, leg: LegId, prompt: Arc<Prompt>, looped: bool) -> Result<(), MediaError> {
        self.send(Cmd::Play(leg, prompt, looped))
    }

    /// Stop playing (no `PlayDone`).
    pub fn stop(&self, leg: LegId) -> Result<(), MediaError> {
        self.send(Cmd::Stop(leg))
    }

    /// Relay RTP both ways between two legs (replaces any previous bridge of this session).
    pub fn bridge(&self, a: LegId, b: LegId) -> Result<(), MediaError> {
        self.send(Cmd::Bridge(a, b))
    }

    pub fn unbridge(&self) -> Result<(), MediaError> {
        self.send(Cmd::Unbridge)
    }

    /// While held, nothing is sent to the leg (prompts still advance; received RTP is still relayed).
    pub fn set_hold(&self, leg: LegId, held: bool) -> Result<(), MediaError> {
        self.send(Cmd::SetHold(leg, held))
    }

    /// Close the leg's socket and free its port.
    pub fn remove_leg(&self, leg: LegId) -> Result<(), MediaError> {
        self.send(Cmd::RemoveLeg(leg))
    }

    /// End the session: all its sockets are closed.
    pub fn close(&self) -> Result<(), MediaError> {
        self.send(Cmd::Close)
    }
}

struct Player {
    prompt: Arc<Prompt>,
    pos: usize,
    looped: bool,
    started: bool,
}

struct Leg {
    id: LegId,
    socket: UdpSocket,
    _lease: PortLease,
    neg: Option<Negotiated>,
    latched: Option<SocketAddr>,
    last_rx: Instant,
    timed_out: bool,
    hold: bool,
    out: OutStream,
    player: Option<Player>,
    dtmf: DtmfDetector,
}

impl Leg {
    /// Where to send now, or `None` when we must not (held, peer on hold, no address yet).
    fn dest(&self) -> Option<SocketAddr> {
        if self.hold || self.neg.is_some_and(|n| n.is_hold()) {
            return None;
        }
        let a = self.latched.or(self.neg.map(|n| n.remote))?;
        (!a.ip().is_unspecified() && a.port() != 0).then_some(a)
    }

    fn codec_pt(&self) -> (Codec, u8) {
        match self.neg {
            Some(n) => (n.codec, n.payload_type),
            None => (Codec::Pcmu, 0),
        }
    }

    /// The codec of a received audio payload type, `None` when it is neither the negotiated one nor a static
    /// G.711 type.
    fn rx_codec(&self, pt: u8) -> Option<Codec> {
        match self.neg {
            Some(n) if n.payload_type == pt => Some(n.codec),
            _ if pt == 0 => Some(Codec::Pcmu),
            _ if pt == 8 => Some(Codec::Pcma),
            _ => None,
        }
    }
}

enum Wake {
    Cmd(Option<Cmd>),
    PlayTick(tokio::time::Instant),
    TimeoutCheck,
    Packet(Option<(usize, usize, SocketAddr)>),
}

struct Session {
    inner: Arc<Inner>,
    tag: u64,
    events: mpsc::UnboundedSender<MediaEvent>,
    rx: mpsc::UnboundedReceiver<Cmd>,
    legs: Vec<Leg>,
    next_leg: u32,
    bridge: Option<(LegId, LegId)>,
    /// Round-robin start for polling the sockets, so one busy leg cannot starve the other.
    rr: usize,
    rtp_timeout: Duration,
    last_play_tick: Option<Instant>,
}

async fn tick_opt(t: &mut Option<Interval>) -> tokio::time::Instant {
    match t {
        Some(t) => t.tick().await,
        None => std::future::pending().await,
    }
}

/// Wait for a datagram on any leg socket: (leg index, length, source). `None` on a receive error (e.g. an ICMP
/// error reported on the socket), which is simply skipped.
fn recv_any<'a>(
    legs: &'a [Leg],
    rr: &'a mut usize,
    buf: &'a mut [u8],
) -> impl std::future::Future<Output = Option<(usize, usize, SocketAddr)>> + 'a {
    poll_fn(move |cx| {
        let n = legs.len();
        for k in 0..n {
            let i = (*rr + k) % n;
            let Some(leg) = legs.get(i) else { continue };
            let mut rb = ReadBuf::new(&mut *buf);
            match leg.socket.poll_recv_from(cx, &mut rb) {
                Poll::Ready(Ok(src)) => {
                    *rr = (i + 1) % n;
                    return Poll::Ready(Some((i, rb.filled().len(), src)));
                }
                Poll::Ready(Err(_)) => {
                    *rr = (i + 1) % n;
                    return Poll::Ready(None);
                }
                Poll::Pending => {}
            }
        }
        Poll::Pending
    })
}

impl Session {
    async fn run(mut self) {
        let mut buf = [0u8; RECV_BUF];
        let mut play_tick: Option<Interval> = None;
        let check_every =
            (self.rtp_timeout / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
        let mut timeout_tick = tokio::time::interval(check_every);
        timeout_tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            let wake = tokio::select! {
                biased;
                cmd = self.rx.recv() => Wake::Cmd(cmd),
                t = tick_opt(&mut play_tick) => Wake::PlayTick(t),
                _ = timeout_tick.tick(), if !self.rtp_timeout.is_zero() => Wake::TimeoutCheck,
                r = recv_any(&self.legs, &mut self.rr, &mut buf) => Wake::Packet(r),
            };
            match wake {
                Wake::Cmd(None) | Wake::Cmd(Some(Cmd::Close)) => break,
                Wake::Cmd(Some(cmd)) => self.on_command(cmd, &mut play_tick),
                Wake::PlayTick(t) => {
                    if !self.on_play_tick(t.into_std()) {
                        play_tick = None;
                        self.last_play_tick = None;
                    }
                }
                Wake::TimeoutCheck => self.check_timeouts(Instant::now()),
                Wake::Packet(Some((i, len, src))) => {
                    if let Some(pkt) = buf.get_mut(..len) {
                        self.on_packet(i, pkt, src, Instant::now());
                    }
                }
                Wake::Packet(None) => {}
            }
        }
        self.inner.counters.sessions.fetch_sub(1, Relaxed);
        tracing::debug!(tag = self.tag, "media session closed");
    }

    fn index(&self, id: LegId) -> Option<usize> {
        self.legs.iter().position(|l| l.id == id)
    }

    fn leg_mut(&mut self, id: LegId) -> Option<&mut Leg> {
        self.legs.iter_mut().find(|l| l.id == id)
    }

    fn emit(&self, leg: LegId, kind: MediaEventKind) {
        let _ = self.events.send(MediaEvent {
            tag: self.tag,
            leg,
            kind,
        });
    }

    fn on_command(&mut self, cmd: Cmd, play_tick: &mut Option<Interval>) {
        let now = Instant::now();
        match cmd {
            Cmd::AddLeg {
                socket,
                lease,
                reply,
            } => {
                let id = LegId(self.next_leg);
                self.next_leg = self.next_leg.wrapping_add(1);
                let local_port = lease.port;
                self.legs.push(Leg {
                    id,
                    socket,
                    _lease: lease,
                    neg: None,
                    latched: None,
                    last_rx: now,
                    timed_out: false,
                    hold: false,
                    out: OutStream::new(rand::random(), rand::random(), rand::random()),
                    player: None,
                    dtmf: DtmfDetector::new(),
                });
                let _ = reply.send(LegInfo {
                    leg: id,
                    local_port,
                });
            }
            Cmd::SetRemote(id, neg) => {
                if let Some(leg) = self.leg_mut(id) {
                    if leg.neg.map(|n| n.remote) != Some(neg.remote) {
                        leg.latched = None;
                    }
                    leg.neg = Some(neg);
                    leg.last_rx = now;
                    leg.timed_out = false;
                }
            }
            Cmd::Play(id, prompt, looped) => {
                if let Some(leg) = self.leg_mut(id) {
                    leg.player = Some(Player {
                        prompt,
                        pos: 0,
                        looped,
                        started: false,
                    });
                    if play_tick.is_none() {
                        let mut iv = tokio::time::interval(FRAME);
                        // Skip: after a stall we jump ahead in the prompt (see `on_play_tick`) instead of
                        // bursting stale frames at the phone's jitter buffer.
                        iv.set_missed_tick_behavior(MissedTickBehavior::Skip);
                        *play_tick = Some(iv);
                    }
                }
            }
            Cmd::Stop(id) => {
                if let Some(leg) = self.leg_mut(id) {
                    leg.player = None;
                }
            }
            Cmd::Bridge(a, b) => {
                if a != b && self.index(a).is_some() && self.index(b).is_some() {
                    self.bridge = Some((a, b));
                } else {
                    tracing::debug!(tag = self.tag, %a, %b, "bridge of unknown legs ignored");
                }
            }
            Cmd::Unbridge => self.bridge = None,
            Cmd::SetHold(id, held) => {
                if let Some(leg) = self.leg_mut(id) {
                    leg.hold = held;
                }
            }
            Cmd::RemoveLeg(id) => {
                if self.bridge.is_some_and(|(a, b)| a == id || b == id) {
                    self.bridge = None;
                }
                self.legs.retain(|l| l.id != id);
                self.rr = 0;
            }
            Cmd::Close => {}
        }
    }

    /// Send the next frame of every playing leg. Returns whether any leg is still playing.
    fn on_play_tick(&mut self, t: Instant) -> bool {
        // Frames elapsed since the previous tick: more than one when ticks were skipped.
        let frames = match self.last_play_tick {
            Some(prev) => {
                let us = t.saturating_duration_since(prev).as_micros();
                u32::try_from((us + 10_000) / 20_000)
                    .unwrap_or(u32::MAX)
                    .max(1)
            }
            None => 1,
        };
        self.last_play_tick = Some(t);
        let mut any = false;
        let mut done: [Option<LegId>; 4] = [None; 4];
        let mut n_done = 0usize;
        let mut pkt = [0u8; HEADER_LEN + FRAME_BYTES];
        for leg in self.legs.iter_mut() {
            let (codec, pt) = leg.codec_pt();
            let dest = leg.dest();
            let Some(p) = leg.player.as_mut() else {
                continue;
            };
            let len = p.prompt.frame_count();
            if p.started {
                p.pos = p.pos.saturating_add(frames as usize);
            }
            if p.pos >= len {
                if p.looped && len > 0 {
                    p.pos %= len;
                } else {
                    leg.player = None;
                    if let Some(slot) = done.get_mut(n_done) {
                        *slot = Some(leg.id);
                        n_done += 1;
                    } else {
                        // More than 4 legs finishing on one tick: report directly (rare; allocation is fine here).
                        let _ = self.events.send(MediaEvent {
                            tag: self.tag,
                            leg: leg.id,
                            kind: MediaEventKind::PlayDone,
                        });
                    }
                    continue;
                }
            }
            any = true;
            let new_spurt = !p.started;
            p.started = true;
            let (Some(dest), Some(frame)) = (dest, p.prompt.frames(codec).get(p.pos)) else {
                continue;
            };
            let h = leg.out.next_local(t, new_spurt, frames);
            rtp::write_header(&mut pkt, h.marker, pt, h.seq, h.timestamp, h.ssrc);
            pkt[HEADER_LEN..].copy_from_slice(frame);
            match leg.socket.try_send_to(&pkt, dest) {
                Ok(_) => self.inner.counters.prompt_frames.fetch_add(1, Relaxed),
                Err(_) => self.inner.counters.dropped.fetch_add(1, Relaxed),
            };
        }
        for id in done.iter().flatten() {
            self.emit(*id, MediaEventKind::PlayDone);
        }
        any
    }

    fn check_timeouts(&mut self, now: Instant) {
        let timeout = self.rtp_timeout;
        for leg in self.legs.iter_mut() {
            // Only legs that negotiated a two-way stream are expected to send; a held phone may go quiet.
            let expects_rtp = leg
                .neg
                .is_some_and(|n| n.direction == Direction::SendRecv && !n.is_hold())
                && !leg.hold;
            if expects_rtp
                && !leg.timed_out
                && now.saturating_duration_since(leg.last_rx) >= timeout
            {
                leg.timed_out = true;
                let _ = self.events.send(MediaEvent {
                    tag: self.tag,
                    leg: leg.id,
                    kind: MediaEventKind::RtpTimeout,
                });
            }
        }
    }

    fn peer_index(&self, i: usize) -> Option<usize> {
        let (a, b) = self.bridge?;
        let id = self.legs.get(i)?.id;
        let other = if id == a {
            b
        } else if id == b {
            a
        } else {
            return None;
        };
        self.index(other)
    }

    /// The hot path: one received datagram on leg `i`.
    fn on_packet(&mut self, i: usize, pkt: &mut [u8], src: SocketAddr, now: Instant) {
        let c = &self.inner.counters;
        c.received.fetch_add(1, Relaxed);
        let Some(v) = rtp::parse(pkt) else {
            c.dropped.fetch_add(1, Relaxed);
            return;
        };
        let Some(leg) = self.legs.get_mut(i) else {
            return;
        };
        // Symmetric RTP: latch to the first source; move only if that source has gone quiet.
        match leg.latched {
            None => leg.latched = Some(src),
            Some(a) if a == src => {}
            Some(_) if now.saturating_duration_since(leg.last_rx) >= RELATCH_AFTER => {
                leg.latched = Some(src)
            }
            Some(_) => {
                c.dropped.fetch_add(1, Relaxed);
                return;
            }
        }
        leg.last_rx = now;
        leg.timed_out = false;
        let src_te = leg.neg.and_then(|n| n.telephone_event);
        let is_te = src_te == Some(v.payload_type);
        let src_codec = if is_te {
            None
        } else {
            leg.rx_codec(v.payload_type)
        };
        let payload = pkt.get(v.payload_start..v.payload_end).unwrap_or(&[]);
        let digit = if is_te {
            leg.dtmf.on_packet(v.timestamp, payload)
        } else {
            None
        };
        let leg_id = leg.id;
        if let Some(d) = digit {
            c.dtmf.fetch_add(1, Relaxed);
            self.emit(leg_id, MediaEventKind::Dtmf(d));
        }

        let Some(j) = self.peer_index(i) else {
            return;
        };
        let c = &self.inner.counters;
        let Some(dst) = self.legs.get_mut(j) else {
            return;
        };
        // A prompt playing to the far leg has the floor; so does hold.
        let (Some(dest), Some(dneg), None) = (dst.dest(), dst.neg, dst.player.as_ref()) else {
            c.dropped.fetch_add(1, Relaxed);
            return;
        };
        let out_pt = if is_te {
            match dneg.telephone_event {
                Some(pt) => pt,
                None => {
                    c.dropped.fetch_add(1, Relaxed);
                    return;
                }
            }
        } else {
            match src_codec {
                Some(codec) => {
                    if codec != dneg.codec {
                        if let Some(p) = pkt.get_mut(v.payload_start..v.payload_end) {
                            g711::transcode_in_place(codec, dneg.codec, p);
                        }
                    }
                    dneg.payload_type
                }
                // Comfort noise, unknown codecs: the far side did not negotiate them.
                None => {
                    c.dropped.fetch_add(1, Relaxed);
                    return;
                }
            }
        };
        let h = dst.out.map_relay(now, v.ssrc, v.seq, v.timestamp, v.marker);
        rtp::rewrite(pkt, h.marker, out_pt, h.seq, h.timestamp, h.ssrc);
        match dst.socket.try_send_to(pkt, dest) {
            Ok(_) => c.relayed.fetch_add(1, Relaxed),
            Err(_) => c.dropped.fetch_add(1, Relaxed),
        };
    }
}
