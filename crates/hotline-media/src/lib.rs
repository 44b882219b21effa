//! hotline-media: the media plane of the Hotline B2BUA.
//!
//! Pure parts (SDP, G.711, WAV, DTMF, RTP header rewriting, prompts) have no I/O; the `engine` module is the
//! tokio edge that owns the RTP sockets, one task per call.

pub mod dtmf;
pub mod engine;
pub mod g711;
pub mod g722;
pub mod jitter;
pub mod mixer;
pub mod prompts;
pub mod rtp;
pub mod sdp;
pub mod wav;

#[cfg(test)]
mod test_rng;

pub use engine::{
    EngineStats, LegId, LegInfo, MediaConfig, MediaEngine, MediaError, MediaEvent, MediaEventKind,
    MediaHandle,
};
pub use prompts::{Prompt, PromptError, Prompts};
pub use sdp::{Direction, Negotiated, Sdp, SdpError};

/// The audio codecs the engine speaks. Both are 8 kHz G.711, one byte per sample, so converting between them
/// never changes a packet's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    Pcmu,
    Pcma,
}

impl Codec {
    /// The static RTP payload type (RFC 3551).
    pub fn static_payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
        }
    }

    /// The encoding name used in `a=rtpmap`.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
        }
    }
}
