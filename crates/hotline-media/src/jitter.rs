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
mod tests;
