//! A conference: one mixer [`Room`] and, per member, a jitter buffer and codec state. Pure (no sockets, no
//! clock): the engine pushes each received audio packet with [`Conference::push`] and calls
//! [`Conference::tick`] once per 20 ms from a timer; `tick` hands back one encoded frame per member that hears
//! the room, and optionally the 8 kHz mix for a recording.
//!
//! Media time is the tick count: every tick pops exactly one frame from every jitter buffer and emits exactly
//! one frame to every listener, so an hour is 180 000 frames whatever the senders' clocks do (a fast sender
//! overfills its jitter buffer, which drops the excess; a slow one underruns, which plays silence). Pacing the
//! ticks is the engine's job (`tokio::time::interval`, catching up missed ticks).
//!
//! A member either *hears* the room (it is sent the mix: conference legs) or is only a *tap* (its audio goes
//! into the mix for the recording while the engine relays its packets directly: a recorded two-party call).
//!
//! Packets must carry 20 ms (the engine offers `ptime:20`); other sizes are cut or padded to 20 ms.

use crate::jitter::{JitterBuffer, JitterConfig, JitterStats, Playout, PushOutcome};
use crate::mixer::{
    Downsampler, MixerError, ParticipantId, Role, Room, FRAME_SAMPLES_16K, FRAME_SAMPLES_8K,
    MAX_PARTICIPANTS,
};
use crate::transcode::LegCodec;
use crate::Codec;

/// Bytes of one encoded 20 ms frame (all three codecs).
pub const FRAME_BYTES: usize = 160;

/// Who hears a member: everyone (also a supervisor's "barge"), nobody (a supervisor listening), or one member
/// (a supervisor whispering to the agent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MixRole {
    #[default]
    Normal,
    Listen,
    Whisper(u32),
}

impl MixRole {
    fn to_role(self) -> Role {
        match self {
            MixRole::Normal => Role::Normal,
            MixRole::Listen => Role::Listen,
            MixRole::Whisper(to) => Role::Whisper(ParticipantId(u64::from(to))),
        }
    }
}

/// The jitter buffer of a conference leg: starts at 40 ms, may grow to 240 ms.
pub fn jitter_config() -> JitterConfig {
    JitterConfig {
        min_delay_frames: 2,
        max_delay_frames: 12,
        capacity_frames: 64,
        frame_samples: 160,
    }
}

struct Member {
    id: u32,
    codec: Codec,
    hears: bool,
    jitter: Box<JitterBuffer>,
    state: LegCodec,
}

/// One room with its members. About 22 KiB plus 21 KiB per member; allocated when a call starts mixing or
/// recording, never per packet or per tick.
pub struct Conference {
    room: Box<Room>,
    members: Vec<Member>,
    record_down: Downsampler,
}

impl Default for Conference {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Conference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conference")
            .field("members", &self.members.len())
            .finish_non_exhaustive()
    }
}

impl Conference {
    pub fn new() -> Self {
        let room = match Room::new(MAX_PARTICIPANTS) {
            Ok(r) => r,
            // MAX_PARTICIPANTS is always a valid capacity.
            Err(_) => unreachable_room(),
        };
        Conference {
            room: Box::new(room),
            members: Vec::with_capacity(MAX_PARTICIPANTS),
            record_down: Downsampler::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn contains(&self, id: u32) -> bool {
        self.member(id).is_some()
    }

    /// Whether the member is sent the mix (false for a recording tap or a stranger).
    pub fn hears(&self, id: u32) -> bool {
        self.member(id).is_some_and(|m| m.hears)
    }

    /// Whether anyone is sent the mix.
    pub fn any_hears(&self) -> bool {
        self.members.iter().any(|m| m.hears)
    }

    pub fn members(&self) -> impl Iterator<Item = u32> + '_ {
        self.members.iter().map(|m| m.id)
    }

    fn member(&self, id: u32) -> Option<&Member> {
        self.members.iter().find(|m| m.id == id)
    }

    fn member_mut(&mut self, id: u32) -> Option<&mut Member> {
        self.members.iter_mut().find(|m| m.id == id)
    }

    /// Add a member (or change whether an existing one hears the room). A new member is `Normal`, unmuted.
    pub fn add(&mut self, id: u32, codec: Codec, hears: bool) -> Result<(), MixerError> {
        if let Some(m) = self.member_mut(id) {
            m.hears = hears;
            return Ok(());
        }
        self.room.add(ParticipantId(u64::from(id)))?;
        let jitter = match JitterBuffer::new(jitter_config()) {
            Ok(j) => j,
            Err(_) => unreachable_jitter(),
        };
        self.members.push(Member {
            id,
            codec,
            hears,
            jitter: Box::new(jitter),
            state: LegCodec::new(),
        });
        Ok(())
    }

    /// Remove a member; false when it was not one.
    pub fn remove(&mut self, id: u32) -> bool {
        let Some(i) = self.members.iter().position(|m| m.id == id) else {
            return false;
        };
        self.members.swap_remove(i);
        let _ = self.room.remove(ParticipantId(u64::from(id)));
        true
    }

    /// The member's codec changed (re-INVITE): its decoder, encoder and buffer start afresh.
    pub fn set_codec(&mut self, id: u32, codec: Codec) {
        if let Some(m) = self.member_mut(id) {
            if m.codec != codec {
                m.codec = codec;
                m.state.reset();
                m.jitter.reset();
            }
        }
    }

    pub fn set_role(&mut self, id: u32, role: MixRole) -> Result<(), MixerError> {
        self.room
            .set_role(ParticipantId(u64::from(id)), role.to_role())
    }

    pub fn role(&self, id: u32) -> Option<MixRole> {
        match self.room.role(ParticipantId(u64::from(id))).ok()? {
            Role::Normal => Some(MixRole::Normal),
            Role::Listen => Some(MixRole::Listen),
            Role::Whisper(p) => Some(MixRole::Whisper(u32::try_from(p.0).unwrap_or(u32::MAX))),
        }
    }

    pub fn set_muted(&mut self, id: u32, muted: bool) -> Result<(), MixerError> {
        self.room.set_muted(ParticipantId(u64::from(id)), muted)
    }

    /// Store one received audio packet of a member (telephone-events must not come here).
    pub fn push(
        &mut self,
        id: u32,
        seq: u16,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
    ) -> Option<PushOutcome> {
        let m = self.member_mut(id)?;
        Some(m.jitter.push(seq, timestamp, marker, payload))
    }

    pub fn jitter_stats(&self, id: u32) -> Option<JitterStats> {
        self.member(id).map(|m| m.jitter.stats())
    }

    /// One 20 ms tick: `send(id, frame)` for every member that hears the room (its codec, 160 bytes), and the
    /// room's 8 kHz mix of all audible members into `record` when given.
    pub fn tick(
        &mut self,
        mut send: impl FnMut(u32, &[u8]),
        record: Option<&mut [i16; FRAME_SAMPLES_8K]>,
    ) {
        let mut pcm = [0i16; FRAME_SAMPLES_16K];
        for m in self.members.iter_mut() {
            let payload = match m.jitter.pop() {
                Playout::Frame(p) => p,
                // Lost or not yet buffering: silence (the room treats a frameless member as silent).
                Playout::Missing | Playout::Buffering => continue,
            };
            let want = if m.codec == Codec::G722 {
                FRAME_SAMPLES_16K
            } else {
                FRAME_SAMPLES_8K
            };
            let frame = &mut pcm[..want];
            let got = m.state.decode(m.codec, payload, frame);
            if let Some(rest) = frame.get_mut(got..) {
                rest.fill(0);
            }
            let _ = self.room.put_frame(ParticipantId(u64::from(m.id)), frame);
        }
        let mut out = [0u8; FRAME_BYTES];
        for m in self.members.iter_mut().filter(|m| m.hears) {
            let want = if m.codec == Codec::G722 {
                FRAME_SAMPLES_16K
            } else {
                FRAME_SAMPLES_8K
            };
            let frame = &mut pcm[..want];
            if self
                .room
                .mix_into(ParticipantId(u64::from(m.id)), frame)
                .is_err()
            {
                continue;
            }
            let n = m.state.encode(m.codec, frame, &mut out);
            send(m.id, &out[..n]);
        }
        if let Some(rec) = record {
            let mut wide = [0i16; FRAME_SAMPLES_16K];
            self.room.broadcast_into(&mut wide);
            self.record_down.process(&wide, rec);
        }
        self.room.end_tick();
    }
}

#[cold]
fn unreachable_room() -> ! {
    unreachable!("MAX_PARTICIPANTS is a valid room capacity")
}

#[cold]
fn unreachable_jitter() -> ! {
    unreachable!("jitter_config() is valid")
}

#[cfg(test)]
mod tests;
