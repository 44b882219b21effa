//! The per-call media task: owns every socket of a call's legs, relays bridged packets, plays prompts, mixes
//! the conference on a 20 ms timer and feeds the recording.

use std::future::poll_fn;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use tokio::io::ReadBuf;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::{Interval, MissedTickBehavior};

use super::{Cmd, Inner, LegId, LegInfo, MediaEvent, MediaEventKind, PortLease};
use crate::conference::{Conference, MixRole};
use crate::dtmf::DtmfDetector;
use crate::mixer::FRAME_SAMPLES_8K;
use crate::prompts::{Prompt, FRAME_BYTES};
use crate::record::CHUNK_SAMPLES;
use crate::rtp::{self, OutStream, HEADER_LEN};
use crate::sdp::{Direction, Negotiated};
use crate::transcode::{self, LegCodec};
use crate::Codec;

/// A latched peer that has been silent this long may be replaced by a new source address (NAT rebinding).
const RELATCH_AFTER: Duration = Duration::from_secs(2);
const FRAME: Duration = Duration::from_millis(20);
const RECV_BUF: usize = 2048;

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
    /// Relay transcoding state (the conference keeps its own per member).
    codec: LegCodec,
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
    /// G.711 / G.722 type.
    fn rx_codec(&self, pt: u8) -> Option<Codec> {
        match self.neg {
            Some(n) if n.payload_type == pt => Some(n.codec),
            _ if pt == 0 => Some(Codec::Pcmu),
            _ if pt == 8 => Some(Codec::Pcma),
            _ if pt == 9 => Some(Codec::G722),
            _ => None,
        }
    }
}

enum Wake {
    Cmd(Option<Cmd>),
    PlayTick(tokio::time::Instant),
    MixTick,
    TimeoutCheck,
    Packet(Option<(usize, usize, SocketAddr)>),
}

/// A recording in progress: samples gathered here and handed to the writer thread a second at a time.
struct Recording {
    id: u64,
    buf: Vec<i16>,
}

pub(super) struct Session {
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
    /// Mixing or recording; `None` for a plain bridged call.
    conference: Option<Box<Conference>>,
    /// Paces the conference while there is one.
    mix_tick: Option<Interval>,
    recording: Option<Recording>,
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
    pub(super) fn new(
        inner: Arc<Inner>,
        tag: u64,
        events: mpsc::UnboundedSender<MediaEvent>,
        rx: mpsc::UnboundedReceiver<Cmd>,
        rtp_timeout: Duration,
    ) -> Session {
        Session {
            inner,
            tag,
            events,
            rx,
            legs: Vec::new(),
            next_leg: 1,
            bridge: None,
            rr: 0,
            rtp_timeout,
            last_play_tick: None,
            conference: None,
            mix_tick: None,
            recording: None,
        }
    }

    pub(super) async fn run(mut self) {
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
                _ = tick_opt(&mut self.mix_tick) => Wake::MixTick,
                _ = timeout_tick.tick(), if !self.rtp_timeout.is_zero() => Wake::TimeoutCheck,
                r = recv_any(&self.legs, &mut self.rr, &mut buf) => Wake::Packet(r),
            };
            match wake {
                Wake::Cmd(None) | Wake::Cmd(Some(Cmd::Close)) => break,
                Wake::Cmd(Some(cmd)) => {
                    self.on_command(cmd, &mut play_tick);
                    self.refresh_conference();
                }
                Wake::MixTick => self.on_mix_tick(Instant::now()),
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
        self.stop_recording();
        if self.conference.is_some() {
            self.inner.counters.conferences.fetch_sub(1, Relaxed);
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
                    codec: LegCodec::new(),
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
                    if leg.neg.map(|n| n.codec) != Some(neg.codec) {
                        leg.codec.reset();
                    }
                    leg.neg = Some(neg);
                    leg.last_rx = now;
                    leg.timed_out = false;
                }
                if let Some(conf) = self.conference.as_mut() {
                    conf.set_codec(id.0, neg.codec);
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
            Cmd::Join(id, role) => self.join(id, role),
            Cmd::Leave(id) => {
                if let Some(conf) = self.conference.as_mut() {
                    conf.remove(id.0);
                }
            }
            Cmd::Mute(id, muted) => {
                if let Some(conf) = self.conference.as_mut() {
                    let _ = conf.set_muted(id.0, muted);
                }
            }
            Cmd::Record(path) => {
                self.stop_recording();
                if let Some(path) = path {
                    self.start_recording(path);
                }
            }
            Cmd::RemoveLeg(id) => {
                if self.bridge.is_some_and(|(a, b)| a == id || b == id) {
                    self.bridge = None;
                }
                if let Some(conf) = self.conference.as_mut() {
                    conf.remove(id.0);
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

    fn join(&mut self, id: LegId, role: MixRole) {
        let Some(codec) = self
            .legs
            .iter()
            .find(|l| l.id == id)
            .map(|l| l.codec_pt().0)
        else {
            return;
        };
        // A conference member is sent the mix, not relayed audio: it leaves a bridge it was in.
        if self.bridge.is_some_and(|(a, b)| a == id || b == id) {
            self.bridge = None;
        }
        let conf = self.conference.get_or_insert_with(Box::default);
        if let Err(e) = conf.add(id.0, codec, true) {
            tracing::warn!(tag = self.tag, %id, "cannot join the conference: {e}");
            return;
        }
        if let Err(e) = conf.set_role(id.0, role) {
            tracing::debug!(tag = self.tag, %id, "role refused: {e}");
        }
    }

    fn start_recording(&mut self, path: PathBuf) {
        let id = self.inner.next_recording.fetch_add(1, Relaxed);
        self.inner.recorder.open(id, path);
        self.recording = Some(Recording {
            id,
            buf: Vec::with_capacity(CHUNK_SAMPLES),
        });
    }

    fn stop_recording(&mut self) {
        if let Some(rec) = self.recording.take() {
            if !rec.buf.is_empty() {
                self.inner.recorder.write(rec.id, rec.buf);
            }
            self.inner.recorder.close(rec.id);
        }
    }

    /// Keep the conference in line with the commands: while recording, the bridged legs are taps (their audio
    /// is mixed for the file while packets are still relayed); taps of legs no longer bridged go; an empty
    /// conference is dropped with its timer.
    fn refresh_conference(&mut self) {
        let taps: [Option<LegId>; 2] = match (self.recording.is_some(), self.bridge) {
            (true, Some((a, b))) => [Some(a), Some(b)],
            _ => [None, None],
        };
        for id in taps.iter().flatten() {
            let Some(codec) = self
                .legs
                .iter()
                .find(|l| l.id == *id)
                .map(|l| l.codec_pt().0)
            else {
                continue;
            };
            let conf = self.conference.get_or_insert_with(Box::default);
            if !conf.contains(id.0) {
                let _ = conf.add(id.0, codec, false);
            }
        }
        if let Some(conf) = self.conference.as_mut() {
            let mut stale = [0u32; crate::mixer::MAX_PARTICIPANTS];
            let mut n = 0;
            for m in conf.members() {
                let is_tap = !conf.hears(m);
                if is_tap && !taps.contains(&Some(LegId(m))) {
                    if let Some(slot) = stale.get_mut(n) {
                        *slot = m;
                        n += 1;
                    }
                }
            }
            for m in stale.iter().take(n) {
                conf.remove(*m);
            }
        }
        let counters = &self.inner.counters;
        match (&self.conference, &self.mix_tick) {
            (Some(c), _) if c.is_empty() && self.recording.is_none() => {
                self.conference = None;
                self.mix_tick = None;
                counters.conferences.fetch_sub(1, Relaxed);
            }
            (Some(_), None) => {
                // Burst: a late tick is made up at once, so the mix never falls behind the wall clock and an
                // hour is exactly 180 000 frames.
                let mut iv = tokio::time::interval(FRAME);
                iv.set_missed_tick_behavior(MissedTickBehavior::Burst);
                self.mix_tick = Some(iv);
                counters.conferences.fetch_add(1, Relaxed);
            }
            _ => {}
        }
    }

    /// One 20 ms conference tick: the mix to every member that hears it (unless a prompt has its floor) and a
    /// frame of the recording.
    fn on_mix_tick(&mut self, now: Instant) {
        let Some(conf) = self.conference.as_mut() else {
            return;
        };
        let legs = &mut self.legs;
        let counters = &self.inner.counters;
        let mut rec_frame = [0i16; FRAME_SAMPLES_8K];
        let recording = self.recording.is_some();
        let mut pkt = [0u8; HEADER_LEN + FRAME_BYTES];
        conf.tick(
            |id, frame| {
                let Some(leg) = legs.iter_mut().find(|l| l.id.0 == id) else {
                    return;
                };
                if leg.player.is_some() {
                    return;
                }
                let Some(dest) = leg.dest() else {
                    return;
                };
                let (_, pt) = leg.codec_pt();
                let h = leg.out.next_local(now, false, 1);
                let len = HEADER_LEN + frame.len().min(FRAME_BYTES);
                rtp::write_header(&mut pkt, h.marker, pt, h.seq, h.timestamp, h.ssrc);
                pkt[HEADER_LEN..len].copy_from_slice(&frame[..len - HEADER_LEN]);
                match leg.socket.try_send_to(&pkt[..len], dest) {
                    Ok(_) => counters.mix_frames.fetch_add(1, Relaxed),
                    Err(_) => counters.dropped.fetch_add(1, Relaxed),
                };
            },
            recording.then_some(&mut rec_frame),
        );
        if let Some(rec) = self.recording.as_mut() {
            rec.buf.extend_from_slice(&rec_frame);
            if rec.buf.len() >= CHUNK_SAMPLES {
                let full = std::mem::replace(&mut rec.buf, Vec::with_capacity(CHUNK_SAMPLES));
                self.inner.recorder.write(rec.id, full);
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

        // Audio of a conference member goes to its jitter buffer; a member that hears the conference is not
        // relayed (a tap, i.e. a recorded bridged leg, still is).
        if let (Some(conf), Some(_)) = (self.conference.as_mut(), src_codec) {
            conf.push(leg_id.0, v.seq, v.timestamp, v.marker, payload);
            if conf.hears(leg_id.0) {
                return;
            }
        }

        let Some(j) = self.peer_index(i) else {
            return;
        };
        if self
            .conference
            .as_ref()
            .is_some_and(|c| c.hears(self.legs.get(j).map_or(0, |l| l.id.0)))
        {
            return;
        }
        let c = &self.inner.counters;
        let Some((src, dst)) = two_mut(&mut self.legs, i, j) else {
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
                            transcode::transcode(
                                codec,
                                &mut src.codec,
                                dneg.codec,
                                &mut dst.codec,
                                p,
                            );
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

/// Two distinct legs mutably (the sender's decoder and the receiver's encoder are both needed to transcode).
fn two_mut(legs: &mut [Leg], i: usize, j: usize) -> Option<(&mut Leg, &mut Leg)> {
    if i == j {
        return None;
    }
    if i < j {
        let (a, b) = legs.split_at_mut(j);
        Some((a.get_mut(i)?, b.first_mut()?))
    } else {
        let (a, b) = legs.split_at_mut(i);
        let dst = a.get_mut(j)?;
        Some((b.first_mut()?, dst))
    }
}
