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
//!
//! Two ways to connect legs: a *bridge* relays packets between two legs as they arrive (lowest delay, the normal
//! two-party call); a *conference* ([`MediaHandle::join`]) mixes any number of legs with a jitter buffer each,
//! paced by a 20 ms timer of the session (see [`crate::conference`]). A recording
//! ([`MediaHandle::record`]) taps the bridged legs into the conference's mixer without changing how they are
//! connected, so a recorded call keeps the bridge's delay.
//!
//! Modules: this file is the public side (engine, handle, ports); `session` is the per-call task.

mod session;

use std::collections::HashSet;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};

pub use crate::conference::MixRole;
use crate::prompts::Prompt;
use crate::record::Recorder;
use crate::sdp::Negotiated;
use session::Session;

/// Default silence after which a leg reports [`MediaEventKind::RtpTimeout`].
pub const DEFAULT_RTP_TIMEOUT: Duration = Duration::from_secs(60);

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
    /// Frames of conference mix sent.
    pub mix_frames_sent: u64,
    pub dtmf_events: u64,
    pub sessions: u64,
    pub legs: u64,
    /// Sessions mixing or recording now.
    pub conferences: u64,
}

#[derive(Default)]
struct Counters {
    received: AtomicU64,
    relayed: AtomicU64,
    dropped: AtomicU64,
    prompt_frames: AtomicU64,
    mix_frames: AtomicU64,
    dtmf: AtomicU64,
    sessions: AtomicU64,
    legs: AtomicU64,
    conferences: AtomicU64,
}

struct Inner {
    ip: IpAddr,
    port_min: u16,
    port_max: u16,
    rtp_timeout_ms: AtomicU64,
    ports: Mutex<PortPool>,
    counters: Counters,
    recorder: Recorder,
    next_recording: AtomicU64,
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
                recorder: Recorder::default(),
                next_recording: AtomicU64::new(1),
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
            mix_frames_sent: c.mix_frames.load(Relaxed),
            dtmf_events: c.dtmf.load(Relaxed),
            sessions: c.sessions.load(Relaxed),
            legs: c.legs.load(Relaxed),
            conferences: c.conferences.load(Relaxed),
        }
    }

    /// Block until every recording chunk handed over so far is written to disk (tests, shutdown). Call it
    /// from a blocking context (`spawn_blocking`).
    pub fn sync_recordings(&self) {
        self.inner.recorder.sync();
    }

    /// Start the media task of one call. Events carry `tag` so one receiver can serve many calls.
    /// Must be called within a tokio runtime.
    pub fn session(&self, events: mpsc::UnboundedSender<MediaEvent>, tag: u64) -> MediaHandle {
        let (tx, rx) = mpsc::unbounded_channel();
        let timeout = Duration::from_millis(self.inner.rtp_timeout_ms.load(Relaxed));
        self.inner.counters.sessions.fetch_add(1, Relaxed);
        let session = Session::new(self.inner.clone(), tag, events, rx, timeout);
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
    Join(LegId, MixRole),
    Leave(LegId),
    Mute(LegId, bool),
    Record(Option<PathBuf>),
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

    /// Put the leg into the session's conference (created on first use) in `role`, or change its role. From
    /// then on it is sent the mix of the other members instead of relayed audio; a leg that was bridged leaves
    /// the bridge, so join both ends of a bridge to turn a call into a conference. A whisper names the member
    /// who alone hears this leg.
    pub fn join(&self, leg: LegId, role: MixRole) -> Result<(), MediaError> {
        self.send(Cmd::Join(leg, role))
    }

    /// Take the leg out of the conference: it hears and is heard by nobody until joined or bridged again.
    pub fn leave(&self, leg: LegId) -> Result<(), MediaError> {
        self.send(Cmd::Leave(leg))
    }

    /// While muted, a conference member is heard by nobody (it still hears the others).
    pub fn set_muted(&self, leg: LegId, muted: bool) -> Result<(), MediaError> {
        self.send(Cmd::Mute(leg, muted))
    }

    /// Start recording the call to `path` (8 kHz mono WAV of everything audible: the bridged pair, or the
    /// conference mix), replacing a recording in progress. Directories are created as needed.
    pub fn record(&self, path: PathBuf) -> Result<(), MediaError> {
        self.send(Cmd::Record(Some(path)))
    }

    /// Stop recording and finish the file (also done when the session ends).
    pub fn stop_recording(&self) -> Result<(), MediaError> {
        self.send(Cmd::Record(None))
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
