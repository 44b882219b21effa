//! Conference mixer: pure, allocation-free mixing of decoded linear PCM for one room of up to
//! [`MAX_PARTICIPANTS`] legs. Jitter buffers, codecs and sockets live elsewhere; this module only adds
//! samples.
//!
//! # Mixing rate
//!
//! Every room mixes at a fixed 16 kHz ([`MIX_RATE_HZ`], [`FRAME_SAMPLES_16K`] samples per 20 ms frame).
//! A G.722 leg is wideband, so mixing at 8 kHz would throw its upper band away for everyone; mixing at
//! 16 kHz keeps it, and a narrowband (G.711) leg costs only one cheap upsample on the way in and one
//! downsample on the way out. One fixed rate also means no room ever has to be "re-rated" when a
//! wideband leg joins a narrowband room. [`Room::put_frame`] and [`Room::mix_into`] accept either
//! 160-sample (8 kHz) or 320-sample (16 kHz) frames and convert with a per-leg [`Upsampler`] /
//! [`Downsampler`], whose state carries across frames so frame edges do not click.
//!
//! # Who hears whom
//!
//! Each participant has a [`Role`] and a mute flag. Everybody hears everyone audible to them, never
//! themselves:
//!
//! | state                  | heard by                 | issue 4 / item 6 mode |
//! |------------------------|--------------------------|-----------------------|
//! | `Role::Normal`         | everyone else            | normal leg, **barge** |
//! | `Role::Listen`         | nobody                   | **listen**            |
//! | `Role::Whisper(agent)` | only `agent`             | **whisper**           |
//! | muted (any role)       | nobody                   | mute                  |
//!
//! The mix for a listener is `broadcast_sum - own_contribution + whispers_to_listener`, where the
//! broadcast sum (all unmuted `Normal` legs with a frame) is computed once per tick. Only whisperers
//! need a per-listener pass, and there are normally none or one, so a tick costs O(N) frame additions
//! instead of O(N²).
//!
//! # Limiter
//!
//! The i32 sum is hard-clipped to the i16 range. A soft limiter needs a per-listener gain envelope and
//! still distorts; in a call centre at most two or three people talk at once, so clipping is rare, and a
//! clip is deterministic and stateless, which keeps [`Room::mix_into`] easy to reason about.
//!
//! # Driving a room (no drift)
//!
//! Media time is the tick count, never the wall clock: one timer tick per 20 ms, e.g. a
//! `tokio::time::interval(Duration::from_millis(20))` with `MissedTickBehavior::Burst`, so a late tick is
//! caught up instead of lost and an hour is exactly 180 000 ticks. Each tick:
//!
//! ```text
//! for leg in room:  if let Some(pcm) = leg.jitter.pop() { room.put_frame(leg.id, &pcm)? }  // else silence
//! for leg in room:  room.mix_into(leg.id, &mut out[..leg.frame_len])?; leg.encode_and_send(&out)
//! room.end_tick()
//! ```
//!
//! Call [`Room::mix_into`] once per participant per tick: an 8 kHz output advances that leg's
//! downsampler state.

use thiserror::Error;

/// Duration of one frame (one tick).
pub const FRAME_MS: u32 = 20;
/// Samples in a 20 ms frame at 8 kHz (G.711).
pub const FRAME_SAMPLES_8K: usize = 160;
/// Samples in a 20 ms frame at 16 kHz (G.722 audio, and the mixing rate).
pub const FRAME_SAMPLES_16K: usize = 320;
/// The rate every room mixes at.
pub const MIX_RATE_HZ: u32 = 16_000;
/// Hard upper bound on a room's capacity; fixed so a room's storage is one flat block (about 22 KiB).
pub const MAX_PARTICIPANTS: usize = 32;

/// Identifies a participant inside a room (the engine maps its leg ids onto these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParticipantId(pub u64);

impl std::fmt::Display for ParticipantId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "participant {}", self.0)
    }
}

/// Who hears a participant (everyone always hears all legs audible to them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Role {
    /// Heard by everyone else. Also the supervisor "barge" mode.
    #[default]
    Normal,
    /// Heard by nobody: a supervisor listening in.
    Listen,
    /// Heard only by the given participant: a supervisor coaching an agent.
    Whisper(ParticipantId),
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MixerError {
    #[error("room capacity {requested} is outside 1..={max}")]
    BadCapacity { requested: usize, max: usize },
    #[error("room is full ({capacity} participants)")]
    RoomFull { capacity: usize },
    #[error("{0} is already in the room")]
    Duplicate(ParticipantId),
    #[error("{0} is not in the room")]
    Unknown(ParticipantId),
    #[error(
        "frame of {0} samples; expected {FRAME_SAMPLES_8K} (8 kHz) or {FRAME_SAMPLES_16K} (16 kHz)"
    )]
    BadFrameLength(usize),
    #[error("{0} cannot whisper to itself")]
    WhisperToSelf(ParticipantId),
}

/// 8 kHz → 16 kHz by linear interpolation. The interpolated sample sits between the previous frame's last
/// sample and this frame's first, so output is continuous across frames at the price of one 16 kHz sample
/// (62.5 µs) of delay.
#[derive(Debug, Clone, Copy, Default)]
pub struct Upsampler {
    prev: i16,
}

impl Upsampler {
    pub const fn new() -> Self {
        Self { prev: 0 }
    }

    /// Forget the history (after a gap, the next frame ramps from silence).
    pub fn reset(&mut self) {
        self.prev = 0;
    }

    pub fn process(
        &mut self,
        input: &[i16; FRAME_SAMPLES_8K],
        output: &mut [i16; FRAME_SAMPLES_16K],
    ) {
        self.process_slice(input, output);
    }

    /// Any length: `output` gets `2 × input.len()` samples (as many as fit). Relayed packets need not be
    /// 20 ms long.
    pub fn process_slice(&mut self, input: &[i16], output: &mut [i16]) {
        let mut prev = i32::from(self.prev);
        for (&x, pair) in input.iter().zip(output.chunks_exact_mut(2)) {
            let x = i32::from(x);
            // Floor of the mean of two i16 always fits in i16; DC is preserved exactly.
            pair[0] = ((prev + x) >> 1) as i16;
            pair[1] = x as i16;
            prev = x;
        }
        self.prev = prev as i16;
    }
}

/// 16 kHz → 8 kHz: a [1 2 1]/4 low-pass (half gain at 4 kHz, unity at DC) then keep every other sample.
/// The kernel is centred on the odd samples, which are exactly where [`Upsampler`] puts the original
/// samples, so an 8k→16k→8k round trip is zero-phase with one 8 kHz sample of delay.
#[derive(Debug, Clone, Copy, Default)]
pub struct Downsampler {
    /// The last two input samples of the previous frame (index 318, 319).
    hist: [i16; 2],
}

impl Downsampler {
    pub const fn new() -> Self {
        Self { hist: [0; 2] }
    }

    pub fn reset(&mut self) {
        self.hist = [0; 2];
    }

    pub fn process(
        &mut self,
        input: &[i16; FRAME_SAMPLES_16K],
        output: &mut [i16; FRAME_SAMPLES_8K],
    ) {
        self.process_slice(input, output);
    }

    /// Any even length: `output` gets `input.len() / 2` samples (as many as fit).
    pub fn process_slice(&mut self, input: &[i16], output: &mut [i16]) {
        let mut a = i32::from(self.hist[0]);
        let mut b = i32::from(self.hist[1]);
        for (out, pair) in output.iter_mut().zip(input.chunks_exact(2)) {
            let c = i32::from(pair[0]);
            // Weights sum to 4, so the rounded result stays within the i16 range.
            *out = ((a + 2 * b + c + 2) >> 2) as i16;
            a = c;
            b = i32::from(pair[1]);
        }
        self.hist = [a as i16, b as i16];
    }
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    id: Option<ParticipantId>,
    role: Role,
    muted: bool,
    has_frame: bool,
    /// This tick's input, always at the mixing rate.
    frame: [i16; FRAME_SAMPLES_16K],
    up: Upsampler,
    down: Downsampler,
}

impl Slot {
    const EMPTY: Slot = Slot {
        id: None,
        role: Role::Normal,
        muted: false,
        has_frame: false,
        frame: [0; FRAME_SAMPLES_16K],
        up: Upsampler::new(),
        down: Downsampler::new(),
    };

    /// Whether this slot is part of the shared broadcast sum this tick.
    fn broadcasts(&self) -> bool {
        self.id.is_some() && self.has_frame && !self.muted && self.role == Role::Normal
    }
}

/// One conference room. All storage is inline and sized at compile time; nothing allocates after `new`.
#[derive(Debug, Clone)]
pub struct Room {
    capacity: usize,
    len: usize,
    slots: [Slot; MAX_PARTICIPANTS],
    /// Sum of all broadcasting slots' frames; valid when `dirty` is false.
    sum: [i32; FRAME_SAMPLES_16K],
    /// Slot indices of unmuted whisperers with a frame this tick.
    whisperers: [u8; MAX_PARTICIPANTS],
    whisper_count: usize,
    dirty: bool,
}

impl Room {
    /// A room for at most `capacity` participants (1..=[`MAX_PARTICIPANTS`]). The room is about 22 KiB;
    /// box it if many are kept.
    pub fn new(capacity: usize) -> Result<Self, MixerError> {
        if capacity == 0 || capacity > MAX_PARTICIPANTS {
            return Err(MixerError::BadCapacity {
                requested: capacity,
                max: MAX_PARTICIPANTS,
            });
        }
        Ok(Self {
            capacity,
            len: 0,
            slots: [Slot::EMPTY; MAX_PARTICIPANTS],
            sum: [0; FRAME_SAMPLES_16K],
            whisperers: [0; MAX_PARTICIPANTS],
            whisper_count: 0,
            dirty: true,
        })
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn contains(&self, id: ParticipantId) -> bool {
        self.index(id).is_some()
    }

    /// Iterate over the participants currently in the room.
    pub fn participants(&self) -> impl Iterator<Item = ParticipantId> + '_ {
        self.slots[..self.capacity].iter().filter_map(|s| s.id)
    }

    fn index(&self, id: ParticipantId) -> Option<usize> {
        self.slots[..self.capacity]
            .iter()
            .position(|s| s.id == Some(id))
    }

    fn slot_mut(&mut self, id: ParticipantId) -> Result<&mut Slot, MixerError> {
        let i = self.index(id).ok_or(MixerError::Unknown(id))?;
        Ok(&mut self.slots[i])
    }

    /// Join as a `Normal`, unmuted participant with no frame yet this tick.
    pub fn add(&mut self, id: ParticipantId) -> Result<(), MixerError> {
        if self.contains(id) {
            return Err(MixerError::Duplicate(id));
        }
        let free = self.slots[..self.capacity]
            .iter()
            .position(|s| s.id.is_none())
            .ok_or(MixerError::RoomFull {
                capacity: self.capacity,
            })?;
        let slot = &mut self.slots[free];
        *slot = Slot::EMPTY;
        slot.id = Some(id);
        self.len += 1;
        Ok(())
    }

    /// Leave the room. Whisperers still pointing at `id` become inaudible until re-targeted.
    pub fn remove(&mut self, id: ParticipantId) -> Result<(), MixerError> {
        let slot = self.slot_mut(id)?;
        slot.id = None;
        slot.has_frame = false;
        self.len -= 1;
        self.dirty = true;
        Ok(())
    }

    pub fn set_muted(&mut self, id: ParticipantId, muted: bool) -> Result<(), MixerError> {
        self.slot_mut(id)?.muted = muted;
        self.dirty = true;
        Ok(())
    }

    pub fn is_muted(&self, id: ParticipantId) -> Result<bool, MixerError> {
        let i = self.index(id).ok_or(MixerError::Unknown(id))?;
        Ok(self.slots[i].muted)
    }

    /// Change who hears `id`. Whispering to a participant not (yet) in the room is allowed: nobody hears it.
    pub fn set_role(&mut self, id: ParticipantId, role: Role) -> Result<(), MixerError> {
        if role == Role::Whisper(id) {
            return Err(MixerError::WhisperToSelf(id));
        }
        self.slot_mut(id)?.role = role;
        self.dirty = true;
        Ok(())
    }

    pub fn role(&self, id: ParticipantId) -> Result<Role, MixerError> {
        let i = self.index(id).ok_or(MixerError::Unknown(id))?;
        Ok(self.slots[i].role)
    }

    /// This tick's decoded audio for `id`: 160 samples (8 kHz) or 320 samples (16 kHz). A second call in
    /// the same tick replaces the first.
    pub fn put_frame(&mut self, id: ParticipantId, pcm: &[i16]) -> Result<(), MixerError> {
        let slot = self.slot_mut(id)?;
        if let Ok(narrow) = <&[i16; FRAME_SAMPLES_8K]>::try_from(pcm) {
            slot.up.process(narrow, &mut slot.frame);
        } else if pcm.len() == FRAME_SAMPLES_16K {
            slot.frame.copy_from_slice(pcm);
        } else {
            return Err(MixerError::BadFrameLength(pcm.len()));
        }
        slot.has_frame = true;
        self.dirty = true;
        Ok(())
    }

    fn recompute(&mut self) {
        self.sum = [0; FRAME_SAMPLES_16K];
        self.whisper_count = 0;
        for (i, slot) in self.slots[..self.capacity].iter().enumerate() {
            if slot.id.is_none() || !slot.has_frame || slot.muted {
                continue;
            }
            match slot.role {
                Role::Normal => {
                    for (acc, &s) in self.sum.iter_mut().zip(slot.frame.iter()) {
                        *acc += i32::from(s);
                    }
                }
                Role::Listen => {}
                Role::Whisper(_) => {
                    // `i < MAX_PARTICIPANTS = 32`, so it fits in a u8.
                    self.whisperers[self.whisper_count] = i as u8;
                    self.whisper_count += 1;
                }
            }
        }
        self.dirty = false;
    }

    /// Write what `id` hears this tick into `out`: 160 samples for an 8 kHz leg or 320 for a 16 kHz leg.
    pub fn mix_into(&mut self, id: ParticipantId, out: &mut [i16]) -> Result<(), MixerError> {
        let li = self.index(id).ok_or(MixerError::Unknown(id))?;
        if out.len() != FRAME_SAMPLES_8K && out.len() != FRAME_SAMPLES_16K {
            return Err(MixerError::BadFrameLength(out.len()));
        }
        if self.dirty {
            self.recompute();
        }
        // Start from the shared sum and take our own voice back out: O(frame) per listener.
        let mut acc = self.sum;
        let own = &self.slots[li];
        if own.broadcasts() {
            for (a, &s) in acc.iter_mut().zip(own.frame.iter()) {
                *a -= i32::from(s);
            }
        }
        for &w in &self.whisperers[..self.whisper_count] {
            let w = &self.slots[usize::from(w)];
            if w.role == Role::Whisper(id) {
                for (a, &s) in acc.iter_mut().zip(w.frame.iter()) {
                    *a += i32::from(s);
                }
            }
        }
        let clip = |a: i32| a.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16;
        if let Ok(narrow) = <&mut [i16; FRAME_SAMPLES_8K]>::try_from(&mut *out) {
            let mut wide = [0i16; FRAME_SAMPLES_16K];
            for (w, &a) in wide.iter_mut().zip(acc.iter()) {
                *w = clip(a);
            }
            self.slots[li].down.process(&wide, narrow);
        } else {
            for (o, &a) in out.iter_mut().zip(acc.iter()) {
                *o = clip(a);
            }
        }
        Ok(())
    }

    /// Write everything the room says this tick, at 16 kHz: the sum of all audible (`Normal`, unmuted) legs,
    /// as a participant would hear it who says nothing. Whispers and listeners are left out. Recordings use it.
    pub fn broadcast_into(&mut self, out: &mut [i16; FRAME_SAMPLES_16K]) {
        if self.dirty {
            self.recompute();
        }
        for (o, &a) in out.iter_mut().zip(self.sum.iter()) {
            *o = a.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16;
        }
    }

    /// Close the tick: every input goes back to silence. A leg that sent nothing this tick also loses its
    /// interpolation history, so its next frame starts cleanly from silence.
    pub fn end_tick(&mut self) {
        for slot in &mut self.slots[..self.capacity] {
            if !slot.has_frame {
                slot.up.reset();
            }
            slot.has_frame = false;
        }
        self.dirty = true;
    }
}

#[cfg(test)]
mod tests;
