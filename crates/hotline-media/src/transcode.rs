//! Per-leg codec state and payload conversion between PCMU, PCMA and G.722.
//!
//! G.711 is stateless, G.722 is ADPCM: its encoder and decoder carry state from one packet to the next, so each
//! leg owns one [`LegCodec`] — the decoder for what the leg sends us, the encoder and resamplers for what we send
//! it. Nothing here allocates; buffers are on the stack and sized for the largest datagram the engine reads.

use crate::g711;
use crate::g722::{G722Decoder, G722Encoder};
use crate::mixer::{Downsampler, Upsampler};
use crate::Codec;

/// Largest payload converted (bytes): larger ones are left as they are by [`transcode`] (never seen with
/// 20–60 ms packets, which are 160–480 bytes for all three codecs).
pub const MAX_TRANSCODE_BYTES: usize = 1024;

/// Codec state of one leg.
#[derive(Debug, Clone, Default)]
pub struct LegCodec {
    dec: G722Decoder,
    enc: G722Encoder,
    /// 8 → 16 kHz for audio sent to a G.722 leg that came from a G.711 source.
    up: Upsampler,
    /// 16 → 8 kHz for audio sent to a G.711 leg that came from a G.722 source.
    down: Downsampler,
}

impl LegCodec {
    pub fn new() -> Self {
        Self::default()
    }

    /// Forget all history (the leg's stream restarted or its codec changed).
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Decode what this leg sent: `payload` in `codec` into `out` at the codec's own rate (8 kHz for G.711,
    /// 16 kHz for G.722). Returns the number of samples written.
    pub fn decode(&mut self, codec: Codec, payload: &[u8], out: &mut [i16]) -> usize {
        match codec.law() {
            Some(law) => g711::decode(law, payload, out),
            None => self.dec.decode(payload, out),
        }
    }

    /// Encode audio for this leg: `pcm` at the codec's own rate into `out`. Returns the bytes written.
    pub fn encode(&mut self, codec: Codec, pcm: &[i16], out: &mut [u8]) -> usize {
        match codec.law() {
            Some(law) => g711::encode(law, pcm, out),
            None => self.enc.encode(pcm, out),
        }
    }
}

/// Convert a relayed payload in place from the sender's codec to the receiver's: `src` is the sending leg's
/// state (its decoder), `dst` the receiving leg's (its encoder and resampler). The length never changes: every
/// codec here carries 8 bytes per millisecond. A no-op when the codecs are equal.
pub fn transcode(
    from: Codec,
    src: &mut LegCodec,
    to: Codec,
    dst: &mut LegCodec,
    payload: &mut [u8],
) {
    if from == to || payload.len() > MAX_TRANSCODE_BYTES {
        return;
    }
    if let (Some(a), Some(b)) = (from.law(), to.law()) {
        g711::transcode_in_place(a, b, payload);
        return;
    }
    let mut decoded = [0i16; 2 * MAX_TRANSCODE_BYTES];
    let mut converted = [0i16; 2 * MAX_TRANSCODE_BYTES];
    let got = src.decode(from, payload, &mut decoded);
    let decoded = decoded.get(..got).unwrap_or(&[]);
    let pcm: &[i16] = match (from.sample_rate(), to.sample_rate()) {
        (8000, 16_000) => {
            let out = converted.get_mut(..2 * got).unwrap_or(&mut []);
            dst.up.process_slice(decoded, out);
            out
        }
        (16_000, 8000) => {
            let out = converted.get_mut(..got / 2).unwrap_or(&mut []);
            dst.down.process_slice(decoded, out);
            out
        }
        _ => decoded,
    };
    // Every conversion yields exactly one output byte per input byte (see the length note above).
    dst.encode(to, pcm, payload);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(rate: u32, hz: f64, n: usize) -> Vec<i16> {
        (0..n)
            .map(|i| {
                ((i as f64 * hz * 2.0 * std::f64::consts::PI / rate as f64).sin() * 8000.0) as i16
            })
            .collect()
    }

    /// Energy of `x` at `hz` relative to its total energy (a Goertzel-like correlation).
    fn tone_share(x: &[i16], rate: u32, hz: f64) -> f64 {
        let (mut c, mut s, mut e) = (0.0, 0.0, 0.0);
        for (i, &v) in x.iter().enumerate() {
            let v = f64::from(v);
            let w = i as f64 * hz * 2.0 * std::f64::consts::PI / rate as f64;
            c += v * w.cos();
            s += v * w.sin();
            e += v * v;
        }
        2.0 * (c * c + s * s) / (x.len() as f64 * e.max(1.0))
    }

    #[test]
    fn g711_to_g722_and_back_keeps_a_tone() {
        let pcm = tone(8000, 440.0, 160 * 50);
        let (mut a, mut b, mut c) = (LegCodec::new(), LegCodec::new(), LegCodec::new());
        let mut back = Vec::new();
        for frame in pcm.chunks(160) {
            let mut payload = [0u8; 160];
            g711::encode(g711::Law::Mu, frame, &mut payload);
            transcode(Codec::Pcmu, &mut a, Codec::G722, &mut b, &mut payload);
            // b now holds a G.722 frame; relay it on to a PCMA leg.
            transcode(Codec::G722, &mut b, Codec::Pcma, &mut c, &mut payload);
            let mut out = [0i16; 160];
            g711::decode(g711::Law::A, &payload, &mut out);
            back.extend_from_slice(&out);
        }
        // Skip the codec's start-up transient.
        let steady = &back[1600..];
        assert!(
            tone_share(steady, 8000, 440.0) > 0.9,
            "{}",
            tone_share(steady, 8000, 440.0)
        );
        let rms = (steady.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / steady.len() as f64)
            .sqrt();
        assert!((4000.0..7000.0).contains(&rms), "level kept: {rms}");
    }

    #[test]
    fn same_codec_is_untouched_and_g711_laws_convert() {
        let (mut a, mut b) = (LegCodec::new(), LegCodec::new());
        let mut p = [0x55u8; 160];
        transcode(Codec::G722, &mut a, Codec::G722, &mut b, &mut p);
        assert_eq!(p, [0x55; 160]);
        let mut p = [0xFFu8; 160];
        transcode(Codec::Pcmu, &mut a, Codec::Pcma, &mut b, &mut p);
        assert_eq!(p, [0xD5; 160], "µ-law silence becomes A-law silence");
    }

    #[test]
    fn odd_and_huge_payloads_do_not_panic() {
        let (mut a, mut b) = (LegCodec::new(), LegCodec::new());
        for len in [
            0usize,
            1,
            3,
            161,
            479,
            MAX_TRANSCODE_BYTES,
            MAX_TRANSCODE_BYTES + 1,
            1500,
        ] {
            let mut p = vec![0x33u8; len];
            transcode(Codec::Pcmu, &mut a, Codec::G722, &mut b, &mut p);
            assert_eq!(p.len(), len);
            transcode(Codec::G722, &mut b, Codec::Pcma, &mut a, &mut p);
            assert_eq!(p.len(), len);
        }
    }
}
