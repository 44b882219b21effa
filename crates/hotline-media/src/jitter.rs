//! A pure, allocation-free RTP jitter buffer for one conference leg: the network pushes packets whenever they
//! arrive, the mixer pops exactly one frame per 20 ms tick.
//!
//! Sans-IO: the buffer never reads a clock. Its only notion of time is the number of `pop` calls (ticks), so a
//! packet's lateness or slack is measured in frames relative to the playout cursor. All storage is a ring of
//! fixed-size slots allocated once in [`JitterBuffer::new`]; `push` and `pop` never allocate and never panic,
//! whatever the (possibly hostile) sequence numbers, timestamps and payloads.
//!
//! Frames are placed by RTP timestamp (in units of `frame_samples`), not by sequence number, so a silence
//! (DTX) period keeps the sender's real timing; the sequence number only counts reorders and confirms jumps.
//!
//! Adaptation rule ("grow on lateness, shrink slowly when steady"):
//! - the target delay starts at `min_delay_frames`;
//! - a packet arriving `k` frames after its playout slot grows the target by `k` (clamped to
//!   `max_delay_frames`); while playing, the extra delay is inserted as `k` [`Playout::Missing`] ticks that do
//!   not advance the cursor;
//! - every [`SHRINK_WINDOW_TICKS`] played ticks, if no packet was late and every packet stored had at least one
//!   frame of slack, the target shrinks by one (not below `min_delay_frames`). The frame is given back by
//!   skipping the next *empty* slot (a loss or a silence), never by dropping audio that arrived in time;
//! - after an underrun or a resync the buffer refills to the current target before playing again.
//!
//! In steady state this settles at "largest observed jitter + one frame".

/// The largest payload one slot holds: 20 ms of 16-bit linear audio at 8 kHz, or 40 ms of G.711 / G.722
/// (20 ms of those is 160 bytes).
pub const MAX_PAYLOAD: usize = 320;

/// Upper bound on `capacity_frames` (80 s of 20 ms frames), so a misconfiguration cannot allocate gigabytes.
pub const MAX_CAPACITY_FRAMES: usize = 4096;

/// Played ticks between two shrink decisions (10 s of 20 ms frames): shrinking is slow on purpose, growing is
/// immediate, because a late packet is audible and a frame of extra delay is not.
pub const SHRINK_WINDOW_TICKS: u32 = 500;

/// A packet this many frames (5 s) or more behind the cursor is not "late" but a sign the stream restarted.
const MAX_LATE_FRAMES: i64 = 250;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JitterConfig {
    /// The target delay never goes below this (at least 1).
    pub min_delay_frames: u32,
    /// The target delay never goes above this (must be below `capacity_frames`, leaving room for jitter).
    pub max_delay_frames: u32,
    /// Number of slots in the ring: how far ahead of the playout cursor a packet may be stored.
    pub capacity_frames: usize,
    /// RTP timestamp units per frame: 160 for 20 ms at 8 kHz.
    pub frame_samples: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JitterError {
    #[error("min_delay_frames must be at least 1 and not above max_delay_frames ({min} > {max})")]
    BadDelayRange { min: u32, max: u32 },
    #[error("capacity_frames {capacity} must be above max_delay_frames {max} and at most {MAX_CAPACITY_FRAMES}")]
    BadCapacity { capacity: usize, max: u32 },
    #[error("frame_samples must not be zero")]
    ZeroFrameSamples,
}

/// What `push` did with a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    /// Stored for playout.
    Stored,
    /// The same frame is already stored or was already played; dropped.
    Duplicate,
    /// Its playout slot has passed; dropped and counted (and the target delay grows).
    TooLate,
    /// Payload longer than [`MAX_PAYLOAD`]; dropped.
    TooLarge,
    /// Far outside the window without a marker: held on probation (dropped) until the next packet confirms the
    /// jump, so one stray packet cannot flush a healthy buffer.
    OutOfRange,
    /// A confirmed jump (marker, or two consecutive far packets): the buffer was flushed, resynchronized on this
    /// packet, and stored it.
    Reset,
}

/// What the mixer gets for one tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Playout<'a> {
    /// The payload of the frame due now.
    Frame(&'a [u8]),
    /// The frame due now is absent (lost, late, or a tick inserted to grow the delay): conceal it.
    Missing,
    /// Not playing yet: never started, or refilling to the target delay after an underrun or resync.
    Buffering,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JitterStats {
    /// Every `push` call.
    pub received: u64,
    /// Frames returned as [`Playout::Frame`].
    pub played: u64,
    /// Ticks returned as [`Playout::Missing`].
    pub missing: u64,
    pub late: u64,
    pub duplicates: u64,
    /// Stored packets whose sequence number was older than the newest seen.
    pub reorders: u64,
    pub too_large: u64,
    pub out_of_range: u64,
    pub resets: u64,
    /// Times the buffer ran dry while playing.
    pub underruns: u64,
    /// Stored frames flushed by a reset without being played.
    pub dropped: u64,
    /// The current target delay.
    pub current_delay_frames: u32,
    /// Frames stored now.
    pub buffered_frames: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SlotState {
    Empty,
    Filled,
    /// Played; `ts` is kept so a duplicate arriving afterwards is recognised as one rather than as late.
    Played,
}

#[derive(Clone, Copy)]
struct Slot {
    state: SlotState,
    seq: u16,
    ts: u32,
    len: u16,
    data: [u8; MAX_PAYLOAD],
}

const EMPTY_SLOT: Slot = Slot {
    state: SlotState::Empty,
    seq: 0,
    ts: 0,
    len: 0,
    data: [0; MAX_PAYLOAD],
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Nothing received since creation or `reset`.
    Idle,
    /// Anchored on a first packet; the cursor waits until `depth >= target`.
    Filling,
    Playing,
    /// Ran dry while playing; the cursor keeps advancing so lateness is still measured, and the next packet
    /// re-anchors (a new talk spurt).
    Underrun,
}

pub struct JitterBuffer {
    cfg: JitterConfig,
    slots: Vec<Slot>,
    phase: Phase,
    /// Ring index of the playout cursor.
    head: usize,
    /// RTP timestamp of the frame at the cursor.
    cursor_ts: u32,
    /// One past the furthest stored offset from the cursor.
    depth: usize,
    filled: usize,
    target: u32,
    /// Missing ticks still to insert (growing the delay) / empty slots still to skip (shrinking it).
    hold: u32,
    skip: u32,
    /// Timestamp of the last frame consumed as Frame or Missing: nothing at or before it may be played again.
    consumed_ts: Option<u32>,
    highest_seq: Option<u16>,
    /// First far-away packet awaiting confirmation (seq, ts).
    candidate: Option<(u16, u32)>,
    window_ticks: u32,
    window_late: bool,
    window_min_slack: Option<i64>,
    stats: JitterStats,
}

impl std::fmt::Debug for JitterBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JitterBuffer")
            .field("cfg", &self.cfg)
            .field("phase", &self.phase)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// Signed distance `a - b` on the 32-bit timestamp circle.
fn ts_diff(a: u32, b: u32) -> i64 {
    a.wrapping_sub(b) as i32 as i64
}

impl JitterBuffer {
    /// Allocates the whole ring up front; nothing allocates afterwards.
    pub fn new(cfg: JitterConfig) -> Result<Self, JitterError> {
        if cfg.min_delay_frames == 0 || cfg.min_delay_frames > cfg.max_delay_frames {
            return Err(JitterError::BadDelayRange {
                min: cfg.min_delay_frames,
                max: cfg.max_delay_frames,
            });
        }
        if cfg.capacity_frames <= cfg.max_delay_frames as usize
            || cfg.capacity_frames > MAX_CAPACITY_FRAMES
        {
            return Err(JitterError::BadCapacity {
                capacity: cfg.capacity_frames,
                max: cfg.max_delay_frames,
            });
        }
        if cfg.frame_samples == 0 {
            return Err(JitterError::ZeroFrameSamples);
        }
        Ok(JitterBuffer {
            cfg,
            slots: vec![EMPTY_SLOT; cfg.capacity_frames],
            phase: Phase::Idle,
            head: 0,
            cursor_ts: 0,
            depth: 0,
            filled: 0,
            target: cfg.min_delay_frames,
            hold: 0,
            skip: 0,
            consumed_ts: None,
            highest_seq: None,
            candidate: None,
            window_ticks: 0,
            window_late: false,
            window_min_slack: None,
            stats: JitterStats::default(),
        })
    }

    pub fn config(&self) -> JitterConfig {
        self.cfg
    }

    pub fn stats(&self) -> JitterStats {
        JitterStats {
            current_delay_frames: self.target,
            buffered_frames: self.filled as u32,
            ..self.stats
        }
    }

    /// Forget the stream (e.g. the leg's SSRC changed); counters and the learnt target delay are kept.
    pub fn reset(&mut self) {
        self.stats.dropped += self.filled as u64;
        self.clear_slots();
        self.phase = Phase::Idle;
        self.consumed_ts = None;
        self.highest_seq = None;
        self.candidate = None;
    }

    /// Offer one received packet.
    pub fn push(&mut self, seq: u16, timestamp: u32, marker: bool, payload: &[u8]) -> PushOutcome {
        self.stats.received += 1;
        if payload.len() > MAX_PAYLOAD {
            self.stats.too_large += 1;
            return PushOutcome::TooLarge;
        }
        if self.phase == Phase::Idle {
            self.highest_seq = None;
            self.anchor(seq, timestamp, payload);
            return PushOutcome::Stored;
        }
        let o = self.offset_of(timestamp);
        let cap = self.cfg.capacity_frames as i64;
        if o >= cap || o <= -MAX_LATE_FRAMES {
            return self.far(seq, timestamp, marker, payload);
        }
        self.candidate = None;
        let after_consumed = self.consumed_ts.is_none_or(|c| ts_diff(timestamp, c) > 0);
        match self.phase {
            Phase::Underrun if after_consumed => {
                // A new talk spurt, or the first packet after the network stalled: if it is behind the
                // (virtual) cursor it came `-o` frames too late, so the delay grows.
                if o < 0 {
                    self.grow((-o) as u32);
                }
                self.anchor(seq, timestamp, payload);
                PushOutcome::Stored
            }
            Phase::Filling | Phase::Playing if o >= 0 => {
                self.store(o as usize, seq, timestamp, payload)
            }
            Phase::Filling if after_consumed && self.depth + ((-o) as usize) < self.slots.len() => {
                // An earlier packet of the first burst, reordered: move the start back to it.
                let k = (-o) as usize;
                self.head = (self.head + self.slots.len() - k) % self.slots.len();
                self.cursor_ts = self
                    .cursor_ts
                    .wrapping_sub((k as u32).wrapping_mul(self.cfg.frame_samples));
                self.depth += k;
                self.store(0, seq, timestamp, payload)
            }
            _ => {
                if -o <= cap {
                    let slot = &self.slots[self.index(o)];
                    if slot.state == SlotState::Played && slot.ts == timestamp {
                        self.stats.duplicates += 1;
                        return PushOutcome::Duplicate;
                    }
                }
                self.stats.late += 1;
                if o < 0 && matches!(self.phase, Phase::Playing | Phase::Underrun) {
                    self.window_late = true;
                    self.grow((-o) as u32);
                }
                PushOutcome::TooLate
            }
        }
    }

    /// The frame for this tick; call exactly once per tick.
    pub fn pop(&mut self) -> Playout<'_> {
        match self.phase {
            Phase::Idle => Playout::Buffering,
            Phase::Underrun => {
                self.advance();
                Playout::Buffering
            }
            Phase::Filling => {
                if self.depth < self.target as usize {
                    return Playout::Buffering;
                }
                self.phase = Phase::Playing;
                self.window_ticks = 0;
                self.window_late = false;
                self.window_min_slack = None;
                self.play()
            }
            Phase::Playing => {
                if self.hold > 0 {
                    self.hold -= 1;
                    self.stats.missing += 1;
                    self.tick_window();
                    return Playout::Missing;
                }
                if self.filled == 0 {
                    self.phase = Phase::Underrun;
                    self.stats.underruns += 1;
                    self.advance();
                    return Playout::Buffering;
                }
                // Give back delay over gaps only; terminates because at least one slot is filled.
                while self.skip > 0 && self.slots[self.head].state != SlotState::Filled {
                    self.skip -= 1;
                    self.advance();
                }
                self.tick_window();
                self.play()
            }
        }
    }

    fn far(&mut self, seq: u16, ts: u32, marker: bool, payload: &[u8]) -> PushOutcome {
        let fs = self.cfg.frame_samples as i64;
        let confirmed = marker
            || self.candidate.is_some_and(|(s, t)| {
                let d = ts_diff(ts, t);
                seq == s.wrapping_add(1) && d > 0 && d <= 4 * fs
            });
        if !confirmed {
            self.candidate = Some((seq, ts));
            self.stats.out_of_range += 1;
            return PushOutcome::OutOfRange;
        }
        self.candidate = None;
        self.stats.resets += 1;
        self.stats.dropped += self.filled as u64;
        self.consumed_ts = None;
        self.highest_seq = None;
        self.anchor(seq, ts, payload);
        PushOutcome::Reset
    }

    /// Start a fresh timeline on this packet; it refills to the target before playing.
    fn anchor(&mut self, seq: u16, ts: u32, payload: &[u8]) {
        self.clear_slots();
        self.phase = Phase::Filling;
        self.cursor_ts = ts;
        self.hold = 0;
        self.skip = 0;
        self.store(0, seq, ts, payload);
    }

    fn clear_slots(&mut self) {
        for s in &mut self.slots {
            s.state = SlotState::Empty;
        }
        self.head = 0;
        self.depth = 0;
        self.filled = 0;
    }

    fn store(&mut self, o: usize, seq: u16, ts: u32, payload: &[u8]) -> PushOutcome {
        let idx = self.index(o as i64);
        let slot = &mut self.slots[idx];
        if slot.state == SlotState::Filled {
            self.stats.duplicates += 1;
            return PushOutcome::Duplicate;
        }
        let len = payload.len().min(MAX_PAYLOAD);
        slot.data[..len].copy_from_slice(&payload[..len]);
        slot.len = len as u16;
        slot.seq = seq;
        slot.ts = ts;
        slot.state = SlotState::Filled;
        self.filled += 1;
        self.depth = self.depth.max(o + 1);
        match self.highest_seq {
            Some(h) if (seq.wrapping_sub(h) as i16) < 0 => self.stats.reorders += 1,
            _ => self.highest_seq = Some(seq),
        }
        if self.phase == Phase::Playing {
            let slack = o as i64;
            self.window_min_slack = Some(self.window_min_slack.map_or(slack, |m| m.min(slack)));
        }
        PushOutcome::Stored
    }

    /// Consume the cursor slot.
    fn play(&mut self) -> Playout<'_> {
        let idx = self.head;
        self.consumed_ts = Some(self.cursor_ts);
        self.advance();
        if self.slots[idx].state != SlotState::Filled {
            self.stats.missing += 1;
            return Playout::Missing;
        }
        self.filled -= 1;
        self.stats.played += 1;
        let slot = &mut self.slots[idx];
        slot.state = SlotState::Played;
        Playout::Frame(&slot.data[..slot.len as usize])
    }

    fn advance(&mut self) {
        self.head = (self.head + 1) % self.slots.len();
        self.cursor_ts = self.cursor_ts.wrapping_add(self.cfg.frame_samples);
        self.depth = self.depth.saturating_sub(1);
    }

    fn tick_window(&mut self) {
        self.window_ticks += 1;
        if self.window_ticks < SHRINK_WINDOW_TICKS {
            return;
        }
        if !self.window_late && self.window_min_slack.is_some_and(|m| m >= 1) {
            self.set_target(self.target.saturating_sub(1));
        }
        self.window_ticks = 0;
        self.window_late = false;
        self.window_min_slack = None;
    }

    fn grow(&mut self, frames: u32) {
        self.set_target(self.target.saturating_add(frames));
    }

    /// Clamp and record the change as pending hold/skip ticks (they cancel each other out).
    fn set_target(&mut self, wanted: u32) {
        let new = wanted.clamp(self.cfg.min_delay_frames, self.cfg.max_delay_frames);
        if new > self.target {
            let mut d = new - self.target;
            let cancel = d.min(self.skip);
            self.skip -= cancel;
            d -= cancel;
            self.hold += d;
        } else {
            let mut d = self.target - new;
            let cancel = d.min(self.hold);
            self.hold -= cancel;
            d -= cancel;
            self.skip += d;
        }
        self.target = new;
    }

    /// Frames from the cursor to `ts`, rounded to the nearest frame.
    fn offset_of(&self, ts: u32) -> i64 {
        let fs = self.cfg.frame_samples as i64;
        (ts_diff(ts, self.cursor_ts) + fs / 2).div_euclid(fs)
    }

    /// Ring index of offset `o` from the cursor; `|o|` is at most the capacity.
    fn index(&self, o: i64) -> usize {
        (self.head as i64 + o).rem_euclid(self.slots.len() as i64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FS: u32 = 160;

    fn jb(min: u32, max: u32, cap: usize) -> JitterBuffer {
        JitterBuffer::new(JitterConfig {
            min_delay_frames: min,
            max_delay_frames: max,
            capacity_frames: cap,
            frame_samples: FS,
        })
        .unwrap()
    }

    /// A 160-byte payload carrying the frame number in its first 4 bytes.
    fn payload(id: u32) -> [u8; 160] {
        let mut p = [0u8; 160];
        p[..4].copy_from_slice(&id.to_le_bytes());
        p
    }

    /// Push frame `id` of a stream starting at (seq0, ts0).
    fn push_id(b: &mut JitterBuffer, seq0: u16, ts0: u32, id: u32) -> PushOutcome {
        b.push(
            seq0.wrapping_add(id as u16),
            ts0.wrapping_add(id.wrapping_mul(FS)),
            false,
            &payload(id),
        )
    }

    #[derive(Debug, PartialEq, Eq)]
    enum Out {
        F(u32),
        M,
        B,
    }

    fn pop(b: &mut JitterBuffer) -> Out {
        match b.pop() {
            Playout::Frame(p) => Out::F(u32::from_le_bytes([p[0], p[1], p[2], p[3]])),
            Playout::Missing => Out::M,
            Playout::Buffering => Out::B,
        }
    }

    use crate::test_rng::XorShift;

    #[test]
    fn config_is_validated() {
        let ok = JitterConfig {
            min_delay_frames: 2,
            max_delay_frames: 10,
            capacity_frames: 32,
            frame_samples: 160,
        };
        assert!(JitterBuffer::new(ok).is_ok());
        let bad = [
            JitterConfig {
                min_delay_frames: 0,
                ..ok
            },
            JitterConfig {
                min_delay_frames: 11,
                ..ok
            },
            JitterConfig {
                capacity_frames: 10,
                ..ok
            },
            JitterConfig {
                capacity_frames: MAX_CAPACITY_FRAMES + 1,
                ..ok
            },
            JitterConfig {
                frame_samples: 0,
                ..ok
            },
        ];
        for c in bad {
            assert!(JitterBuffer::new(c).is_err(), "{c:?}");
        }
    }

    #[test]
    fn in_order_stream_plays_in_order_after_initial_delay() {
        let mut b = jb(3, 10, 32);
        assert_eq!(pop(&mut b), Out::B);
        let mut out = Vec::new();
        for id in 0..50 {
            assert_eq!(push_id(&mut b, 100, 1000, id), PushOutcome::Stored);
            out.push(pop(&mut b));
        }
        assert_eq!(out[..2], [Out::B, Out::B]);
        let frames: Vec<Out> = (0..48).map(Out::F).collect();
        assert_eq!(out[2..], frames[..]);
        let s = b.stats();
        assert_eq!(
            (
                s.played,
                s.missing,
                s.current_delay_frames,
                s.buffered_frames
            ),
            (48, 0, 3, 2)
        );
    }

    #[test]
    fn reordered_packets_come_out_in_order() {
        let mut b = jb(3, 10, 32);
        // Each pair is swapped on the wire.
        let order: Vec<u32> = (0..40)
            .map(|i| if i % 2 == 0 { i + 1 } else { i - 1 })
            .collect();
        let mut played = Vec::new();
        for id in order {
            assert_eq!(push_id(&mut b, 0, 0, id), PushOutcome::Stored);
            if let Out::F(f) = pop(&mut b) {
                played.push(f);
            }
        }
        assert_eq!(played, (0..played.len() as u32).collect::<Vec<_>>());
        assert!(played.len() >= 36);
        assert_eq!(b.stats().reorders, 20);
        assert_eq!(b.stats().missing, 0);
    }

    #[test]
    fn duplicates_are_dropped() {
        let mut b = jb(2, 10, 32);
        assert_eq!(push_id(&mut b, 7, 7, 0), PushOutcome::Stored);
        assert_eq!(push_id(&mut b, 7, 7, 0), PushOutcome::Duplicate);
        assert_eq!(push_id(&mut b, 7, 7, 1), PushOutcome::Stored);
        assert_eq!(pop(&mut b), Out::F(0));
        // A copy of a frame already played is still a duplicate, not a late packet.
        assert_eq!(push_id(&mut b, 7, 7, 0), PushOutcome::Duplicate);
        assert_eq!(push_id(&mut b, 7, 7, 1), PushOutcome::Duplicate);
        assert_eq!(pop(&mut b), Out::F(1));
        let s = b.stats();
        assert_eq!((s.duplicates, s.late, s.played), (3, 0, 2));
    }

    #[test]
    fn lost_packet_yields_exactly_one_missing_at_its_slot() {
        let mut b = jb(3, 10, 32);
        let mut out = Vec::new();
        for id in 0..30 {
            if id != 10 {
                push_id(&mut b, 0, 0, id);
            }
            out.push(pop(&mut b));
        }
        let want: Vec<Out> = [Out::B, Out::B]
            .into_iter()
            .chain((0..28).map(|i| if i == 10 { Out::M } else { Out::F(i) }))
            .collect();
        assert_eq!(out, want);
        assert_eq!(b.stats().missing, 1);
    }

    fn plays_seamlessly(seq0: u16, ts0: u32) {
        let mut b = jb(2, 10, 32);
        let mut played = Vec::new();
        for id in 0..100 {
            assert_eq!(push_id(&mut b, seq0, ts0, id), PushOutcome::Stored);
            match pop(&mut b) {
                Out::F(f) => played.push(f),
                Out::M => panic!("missing at {id}"),
                Out::B => assert_eq!(id, 0),
            }
        }
        assert_eq!(played, (0..99).collect::<Vec<_>>());
        let s = b.stats();
        assert_eq!((s.reorders, s.resets, s.late, s.out_of_range), (0, 0, 0, 0));
    }

    #[test]
    fn sequence_wrap_is_seamless() {
        plays_seamlessly(65_500, 0);
    }

    #[test]
    fn timestamp_wrap_is_seamless() {
        plays_seamlessly(0, u32::MAX - 50 * FS + 7);
        plays_seamlessly(65_500, u32::MAX - 50 * FS);
    }

    #[test]
    fn too_late_packet_is_counted_not_played() {
        let mut b = jb(2, 10, 32);
        let mut out = Vec::new();
        for id in 0..10 {
            if id != 5 {
                push_id(&mut b, 0, 0, id);
            }
            out.push(pop(&mut b));
        }
        // Frame 5 was due at tick 6 and played as Missing; it shows up now.
        assert_eq!(out[6], Out::M);
        assert_eq!(push_id(&mut b, 0, 0, 5), PushOutcome::TooLate);
        let mut rest = Vec::new();
        for id in 10..30 {
            push_id(&mut b, 0, 0, id);
            rest.push(pop(&mut b));
        }
        assert!(!rest.contains(&Out::F(5)));
        let s = b.stats();
        assert_eq!(s.late, 1);
        // It arrived 4 frames behind the cursor: the target grew by that much, within bounds.
        assert_eq!(s.current_delay_frames, 6);
        // Every frame except 5 played exactly once and in order.
        let played: Vec<u32> = out
            .iter()
            .chain(&rest)
            .filter_map(|o| if let Out::F(f) = o { Some(*f) } else { None })
            .collect();
        let want: Vec<u32> = (0..played.len() as u32 + 1).filter(|&i| i != 5).collect();
        assert_eq!(played, want);
    }

    #[test]
    fn burst_larger_than_capacity_resyncs_without_panic() {
        let mut b = jb(2, 6, 8);
        for id in 0..5 {
            push_id(&mut b, 0, 0, id);
            pop(&mut b);
        }
        let mut outcomes = Vec::new();
        for id in 5..60 {
            outcomes.push(push_id(&mut b, 0, 0, id));
        }
        assert!(outcomes.contains(&PushOutcome::Reset));
        let mut played = Vec::new();
        for _ in 0..100 {
            if let Out::F(f) = pop(&mut b) {
                played.push(f);
            }
        }
        assert!(!played.is_empty());
        assert!(played.windows(2).all(|w| w[0] < w[1]));
        // After the resync it keeps playing a fresh stream normally.
        let before = b.stats().played;
        for id in 60..100 {
            push_id(&mut b, 0, 0, id);
            pop(&mut b);
        }
        assert!(b.stats().played >= before + 30);
        assert!(b.stats().resets >= 1);
    }

    #[test]
    fn long_silence_then_marked_spurt_resyncs() {
        let mut b = jb(3, 10, 32);
        for id in 0..50 {
            push_id(&mut b, 0, 0, id);
            pop(&mut b);
        }
        // Ten seconds of silence: nothing arrives, the buffer drains and reports Buffering.
        let mut out = Vec::new();
        for _ in 0..500 {
            out.push(pop(&mut b));
        }
        assert_eq!(out[..2], [Out::F(48), Out::F(49)]);
        assert!(out[2..].iter().all(|o| *o == Out::B));
        // New spurt: sequence continues, timestamp jumped by the silence (plus some unaligned offset).
        let ts0 = 50 * FS + 500 * FS + 37;
        let mut out = Vec::new();
        for i in 0..20u32 {
            let r = b.push(50 + i as u16, ts0 + i * FS, i == 0, &payload(1000 + i));
            assert_eq!(r, PushOutcome::Stored);
            out.push(pop(&mut b));
        }
        assert_eq!(out[..2], [Out::B, Out::B]);
        assert_eq!(out[2..], (1000..1018).map(Out::F).collect::<Vec<_>>()[..]);
        assert_eq!(b.stats().missing, 0);

        // A marked jump far outside the window while playing resyncs at once.
        let mut b = jb(2, 10, 32);
        for id in 0..10 {
            push_id(&mut b, 0, 0, id);
            pop(&mut b);
        }
        assert_eq!(
            b.push(9999, 0x8000_0000, true, &payload(777)),
            PushOutcome::Reset
        );
        assert_eq!(
            b.push(10_000, 0x8000_0000 + FS, false, &payload(778)),
            PushOutcome::Stored
        );
        assert_eq!(pop(&mut b), Out::F(777));
        assert_eq!(pop(&mut b), Out::F(778));
        // Without a marker, one stray far packet is ignored and the stream goes on.
        assert_eq!(
            b.push(1, 12345, false, &payload(5)),
            PushOutcome::OutOfRange
        );
        assert_eq!(
            b.push(10_001, 0x8000_0000 + 2 * FS, false, &payload(779)),
            PushOutcome::Stored
        );
        assert_eq!(pop(&mut b), Out::F(779));
    }

    #[test]
    fn target_delay_grows_under_jitter_and_stays_within_bounds() {
        // Every fourth packet is 4 ticks late.
        let mut b = jb(2, 8, 32);
        let mut net = XorShift(0x1234_5678);
        let mut pending: Vec<(u64, u32)> = Vec::new();
        for tick in 0..3000u64 {
            let id = tick as u32;
            let delay = if id % 4 == 3 { 4 } else { 0 };
            pending.push((tick + delay, id));
            pending.retain(|&(at, id)| {
                if at == tick {
                    push_id(&mut b, 0, 0, id);
                    false
                } else {
                    true
                }
            });
            pop(&mut b);
            let d = b.stats().current_delay_frames;
            assert!((2..=8).contains(&d));
        }
        let s = b.stats();
        assert!(s.current_delay_frames > 2, "{s:?}");
        assert!(s.late > 0);
        // Once grown, nothing is late anymore.
        let late = s.late;
        for tick in 3000..4000u64 {
            let id = tick as u32;
            let delay = if id % 4 == 3 { 4 } else { 0 };
            pending.push((tick + delay, id));
            pending.retain(|&(at, id)| {
                if at == tick {
                    push_id(&mut b, 0, 0, id);
                    false
                } else {
                    true
                }
            });
            pop(&mut b);
        }
        assert_eq!(b.stats().late, late);

        // Wild jitter (up to 30 ticks) never pushes the target past max.
        let mut b = jb(2, 8, 64);
        let mut pending: Vec<(u64, u32)> = Vec::new();
        for tick in 0..5000u64 {
            pending.push((tick + net.below(30), tick as u32));
            pending.retain(|&(at, id)| {
                if at == tick {
                    push_id(&mut b, 0, 0, id);
                    false
                } else {
                    true
                }
            });
            pop(&mut b);
            assert!((2..=8).contains(&b.stats().current_delay_frames));
        }
        assert_eq!(b.stats().current_delay_frames, 8);
    }

    #[test]
    fn target_delay_shrinks_slowly_over_gaps_once_steady() {
        let mut b = jb(2, 10, 32);
        let mut id = 0u32;
        // A steady start, then four frames arrive late: the target grows.
        for _ in 0..5 {
            push_id(&mut b, 0, 0, id);
            id += 1;
            pop(&mut b);
        }
        // Frames 5..=8 arrive 4 ticks late (out of order with the rest).
        for _ in 0..4 {
            pop(&mut b);
        }
        for i in 5..9 {
            push_id(&mut b, 0, 0, i);
        }
        id = 9;
        let grown = b.stats().current_delay_frames;
        assert!(grown > 2);
        // Then a steady stream with an occasional loss (a gap to give the delay back over).
        let mut played = Vec::new();
        for _ in 0..20_000 {
            if id % 50 != 49 {
                push_id(&mut b, 0, 0, id);
            }
            id += 1;
            if let Out::F(f) = pop(&mut b) {
                played.push(f);
            }
        }
        assert_eq!(b.stats().current_delay_frames, 2);
        assert!(played.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn random_network_plays_every_timely_frame_once_in_order() {
        for seed in [1u64, 0xDEAD_BEEF, 0x5EED_0003] {
            let mut net = XorShift(seed);
            let mut b = jb(2, 12, 64);
            let seq0 = net.next() as u16;
            let ts0 = net.next() as u32;
            const N: u64 = 10_000;
            // arrivals[tick] = frames arriving during that tick.
            let mut arrivals: Vec<Vec<u32>> = vec![Vec::new(); (N + 100) as usize];
            for id in 0..N {
                if net.below(100) < 3 {
                    continue; // lost
                }
                let copies = if net.below(100) < 2 { 2 } else { 1 };
                for _ in 0..copies {
                    let jitter = if net.below(10) == 0 {
                        net.below(15)
                    } else {
                        net.below(3)
                    };
                    arrivals[(id + jitter) as usize].push(id as u32);
                }
            }
            let mut stored = vec![0u32; N as usize];
            let mut played = vec![0u32; N as usize];
            let mut last: Option<u32> = None;
            for arriving in &mut arrivals {
                let mut batch = std::mem::take(arriving);
                // Shuffle within the tick.
                for i in (1..batch.len()).rev() {
                    batch.swap(i, net.below(i as u64 + 1) as usize);
                }
                for id in batch {
                    match push_id(&mut b, seq0, ts0, id) {
                        PushOutcome::Stored => stored[id as usize] += 1,
                        PushOutcome::Duplicate | PushOutcome::TooLate => {}
                        other => panic!("seed {seed}: unexpected {other:?} for {id}"),
                    }
                }
                if let Out::F(f) = pop(&mut b) {
                    played[f as usize] += 1;
                    assert!(
                        last.is_none_or(|l| f > l),
                        "seed {seed}: {f} after {last:?}"
                    );
                    last = Some(f);
                }
                let d = b.stats().current_delay_frames;
                assert!((2..=12).contains(&d));
            }
            for id in 0..N as usize {
                assert!(stored[id] <= 1, "seed {seed}: {id} stored twice");
                assert_eq!(played[id], stored[id], "seed {seed}: frame {id}");
            }
            let s = b.stats();
            assert_eq!(s.played, stored.iter().map(|&x| x as u64).sum::<u64>());
            assert!(s.played > 9_000, "{s:?}");
            assert!(s.late > 0 && s.duplicates > 0 && s.reorders > 0, "{s:?}");
            assert_eq!(s.buffered_frames, 0);
        }
    }

    #[test]
    fn hostile_input_never_panics() {
        let mut net = XorShift(42);
        let mut b = jb(1, 3, 4);
        let big = [0xAAu8; MAX_PAYLOAD + 10];
        for _ in 0..200_000 {
            let len = net.below(MAX_PAYLOAD as u64 + 5) as usize;
            let seq = net.next() as u16;
            let ts = if net.below(2) == 0 {
                net.next() as u32
            } else {
                (net.below(8) as u32) * 80
            };
            b.push(seq, ts, net.below(7) == 0, &big[..len]);
            if net.below(2) == 0 {
                if let Playout::Frame(p) = b.pop() {
                    assert!(p.len() <= MAX_PAYLOAD);
                }
            }
            if net.below(10_000) == 0 {
                b.reset();
            }
        }
        assert!(b.stats().too_large > 0);
    }

    #[test]
    fn one_hour_steady_stream_does_not_drift() {
        let mut b = jb(3, 10, 32);
        const N: u32 = 180_000;
        let mut next_play = 0u32;
        for id in 0..N {
            assert_eq!(push_id(&mut b, 4242, 0xFFFF_0000, id), PushOutcome::Stored);
            match pop(&mut b) {
                Out::F(f) => {
                    assert_eq!(f, next_play);
                    next_play += 1;
                }
                other => assert!(id < 2, "{other:?} at {id}"),
            }
            if id >= 2 {
                let s = b.stats();
                assert_eq!(
                    (s.current_delay_frames, s.buffered_frames),
                    (3, 2),
                    "at {id}"
                );
            }
        }
        let s = b.stats();
        assert_eq!(s.played, u64::from(N) - 2);
        assert_eq!(
            (s.missing, s.late, s.underruns, s.resets, s.reorders),
            (0, 0, 0, 0, 0)
        );
    }
}
