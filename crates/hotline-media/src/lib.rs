//! hotline-media: the media plane of the Hotline B2BUA.
//!
//! Pure parts (SDP, G.711, G.722, transcoding, WAV, DTMF, RTP header rewriting, prompts, the jitter buffer, the
//! mixer and the conference built from them) have no I/O; the `engine` module is the tokio edge that owns the
//! RTP sockets, one task per call, and `record` the thread that writes recordings.

pub mod conference;
pub mod dtmf;
pub mod engine;
pub mod g711;
pub mod g722;
pub mod jitter;
pub mod mixer;
pub mod prompts;
pub mod record;
pub mod rtp;
pub mod sdp;
pub mod transcode;
pub mod tts;
pub mod wav;

#[cfg(test)]
mod test_rng;

pub use engine::{
    EngineStats, LegId, LegInfo, MediaConfig, MediaEngine, MediaError, MediaEvent, MediaEventKind,
    MediaHandle,
};
pub use prompts::{Prompt, PromptError, Prompts};
pub use sdp::{Direction, Negotiated, Sdp, SdpError};

/// The audio codecs the engine speaks: G.711 µ-law and A-law (8 kHz, one byte per sample) and G.722 (16 kHz,
/// one byte per two samples). All three send 8 bytes per millisecond and use an 8000 Hz RTP clock (G.722 by the
/// RFC 3551 quirk), so converting between them never changes a packet's length or its timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    Pcmu,
    Pcma,
    G722,
}

impl Codec {
    /// The static RTP payload type (RFC 3551).
    pub fn static_payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
            Codec::G722 => 9,
        }
    }

    /// The encoding name used in `a=rtpmap`.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
            Codec::G722 => "G722",
        }
    }

    /// The G.711 law, `None` for G.722.
    pub fn law(self) -> Option<g711::Law> {
        match self {
            Codec::Pcmu => Some(g711::Law::Mu),
            Codec::Pcma => Some(g711::Law::A),
            Codec::G722 => None,
        }
    }

    /// Audio samples per second of the decoded signal (8 kHz narrowband, 16 kHz wideband).
    pub fn sample_rate(self) -> u32 {
        match self {
            Codec::Pcmu | Codec::Pcma => 8000,
            Codec::G722 => 16_000,
        }
    }
}
