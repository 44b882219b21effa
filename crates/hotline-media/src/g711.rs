//! G.711 µ-law (PCMU) and A-law (PCMA), table based: every conversion is one array lookup, computed at
//! compile time from the reference algorithm (ITU-T G.711 / the classic Sun `g711.c`). Nothing allocates.

use crate::Codec;

const ULAW_BIAS: i32 = 0x84;
const ULAW_CLIP: i32 = 8159;
const SEG_UEND: [i32; 8] = [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF];
const SEG_AEND: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];

const fn search(val: i32, table: &[i32; 8]) -> usize {
    let mut i = 0;
    while i < 8 {
        if val <= table[i] {
            return i;
        }
        i += 1;
    }
    8
}

/// Reference µ-law encoder on a 14-bit sample (the 16-bit sample shifted right by 2).
const fn ulaw_from_14bit(pcm14: i32) -> u8 {
    let (mut pcm, mask) = if pcm14 < 0 {
        (-pcm14, 0x7F)
    } else {
        (pcm14, 0xFF)
    };
    if pcm > ULAW_CLIP {
        pcm = ULAW_CLIP;
    }
    pcm += ULAW_BIAS >> 2;
    let seg = search(pcm, &SEG_UEND);
    if seg >= 8 {
        (0x7F ^ mask) as u8
    } else {
        let uval = ((seg as i32) << 4) | ((pcm >> (seg + 1)) & 0xF);
        (uval ^ mask) as u8
    }
}

const fn ulaw_to_linear(u: u8) -> i16 {
    let u = !u as i32;
    let mut t = ((u & 0x0F) << 3) + ULAW_BIAS;
    t <<= (u & 0x70) >> 4;
    if u & 0x80 != 0 {
        (ULAW_BIAS - t) as i16
    } else {
        (t - ULAW_BIAS) as i16
    }
}

/// Reference A-law encoder on a 13-bit sample (the 16-bit sample shifted right by 3).
const fn alaw_from_13bit(pcm13: i32) -> u8 {
    let (pcm, mask) = if pcm13 >= 0 {
        (pcm13, 0xD5)
    } else {
        (-pcm13 - 1, 0x55)
    };
    let seg = search(pcm, &SEG_AEND);
    if seg >= 8 {
        (0x7F ^ mask) as u8
    } else {
        let mut aval = (seg as i32) << 4;
        if seg < 2 {
            aval |= (pcm >> 1) & 0xF;
        } else {
            aval |= (pcm >> seg) & 0xF;
        }
        (aval ^ mask) as u8
    }
}

const fn alaw_to_linear(a: u8) -> i16 {
    let a = (a ^ 0x55) as i32;
    let mut t = (a & 0x0F) << 4;
    let seg = (a & 0x70) >> 4;
    match seg {
        0 => t += 8,
        1 => t += 0x108,
        _ => {
            t += 0x108;
            t <<= seg - 1;
        }
    }
    if a & 0x80 != 0 {
        t as i16
    } else {
        -t as i16
    }
}

/// Indexed by the 14-bit two's-complement value of `sample >> 2`.
static ULAW_ENCODE: [u8; 1 << 14] = {
    let mut t = [0u8; 1 << 14];
    let mut i = 0;
    while i < (1 << 14) {
        // Sign-extend the 14-bit index back to the sample it stands for.
        let v = ((i as i32) << 18) >> 18;
        t[i] = ulaw_from_14bit(v);
        i += 1;
    }
    t
};

/// Indexed by the 13-bit two's-complement value of `sample >> 3`.
static ALAW_ENCODE: [u8; 1 << 13] = {
    let mut t = [0u8; 1 << 13];
    let mut i = 0;
    while i < (1 << 13) {
        let v = ((i as i32) << 19) >> 19;
        t[i] = alaw_from_13bit(v);
        i += 1;
    }
    t
};

static ULAW_DECODE: [i16; 256] = {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = ulaw_to_linear(i as u8);
        i += 1;
    }
    t
};

static ALAW_DECODE: [i16; 256] = {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = alaw_to_linear(i as u8);
        i += 1;
    }
    t
};

/// Direct µ-law → A-law byte mapping (through the linear value), used to transcode relayed packets in place.
static ULAW_TO_ALAW: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = alaw_from_13bit((ulaw_to_linear(i as u8) as i32) >> 3);
        i += 1;
    }
    t
};

static ALAW_TO_ULAW: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = ulaw_from_14bit((alaw_to_linear(i as u8) as i32) >> 2);
        i += 1;
    }
    t
};

/// Encode one linear sample to µ-law.
#[inline]
pub fn linear_to_ulaw(sample: i16) -> u8 {
    ULAW_ENCODE[((sample >> 2) as u16 & 0x3FFF) as usize]
}

/// Encode one linear sample to A-law.
#[inline]
pub fn linear_to_alaw(sample: i16) -> u8 {
    ALAW_ENCODE[((sample >> 3) as u16 & 0x1FFF) as usize]
}

/// Decode one µ-law byte.
#[inline]
pub fn ulaw_to_linear_sample(byte: u8) -> i16 {
    ULAW_DECODE[byte as usize]
}

/// Decode one A-law byte.
#[inline]
pub fn alaw_to_linear_sample(byte: u8) -> i16 {
    ALAW_DECODE[byte as usize]
}

/// The two G.711 companding laws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Law {
    /// µ-law (PCMU).
    Mu,
    /// A-law (PCMA).
    A,
}

impl From<Law> for Codec {
    fn from(law: Law) -> Codec {
        match law {
            Law::Mu => Codec::Pcmu,
            Law::A => Codec::Pcma,
        }
    }
}

/// Encode a single sample with `law`.
#[inline]
pub fn encode_sample(law: Law, sample: i16) -> u8 {
    match law {
        Law::Mu => linear_to_ulaw(sample),
        Law::A => linear_to_alaw(sample),
    }
}

/// Decode a single byte with `law`.
#[inline]
pub fn decode_sample(law: Law, byte: u8) -> i16 {
    match law {
        Law::Mu => ulaw_to_linear_sample(byte),
        Law::A => alaw_to_linear_sample(byte),
    }
}

/// Encode `pcm` into `out`; converts `min(pcm.len(), out.len())` samples and returns that count.
pub fn encode(law: Law, pcm: &[i16], out: &mut [u8]) -> usize {
    let n = pcm.len().min(out.len());
    for (o, &s) in out.iter_mut().zip(pcm) {
        *o = encode_sample(law, s);
    }
    n
}

/// Decode `bytes` into `out`; converts `min(bytes.len(), out.len())` samples and returns that count.
pub fn decode(law: Law, bytes: &[u8], out: &mut [i16]) -> usize {
    let n = bytes.len().min(out.len());
    for (o, &b) in out.iter_mut().zip(bytes) {
        *o = decode_sample(law, b);
    }
    n
}

/// Convert a G.711 payload from one law to the other in place (same length). No-op when `from == to`.
pub fn transcode_in_place(from: Law, to: Law, payload: &mut [u8]) {
    let table = match (from, to) {
        (Law::Mu, Law::A) => &ULAW_TO_ALAW,
        (Law::A, Law::Mu) => &ALAW_TO_ULAW,
        _ => return,
    };
    for b in payload.iter_mut() {
        *b = table[*b as usize];
    }
}

/// The byte that encodes digital silence in `codec`.
pub fn silence(law: Law) -> u8 {
    encode_sample(law, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert_eq!(linear_to_ulaw(0), 0xFF);
        assert_eq!(linear_to_alaw(0), 0xD5);
        assert_eq!(ulaw_to_linear_sample(0xFF), 0);
        assert_eq!(ulaw_to_linear_sample(0x00), -32124);
        assert_eq!(ulaw_to_linear_sample(0x80), 32124);
        assert_eq!(alaw_to_linear_sample(0xD5), 8);
        assert_eq!(alaw_to_linear_sample(0x55), -8);
        assert_eq!(alaw_to_linear_sample(0xAA), 32256);
        assert_eq!(linear_to_ulaw(i16::MAX), 0x80);
        assert_eq!(linear_to_ulaw(i16::MIN), 0x00);
        assert_eq!(linear_to_alaw(i16::MAX), 0xAA);
        assert_eq!(linear_to_alaw(i16::MIN), 0x2A);
    }

    #[test]
    fn decode_encode_is_identity_on_codewords() {
        for b in 0..=255u8 {
            assert_eq!(linear_to_alaw(alaw_to_linear_sample(b)), b, "alaw {b:#x}");
            let u = linear_to_ulaw(ulaw_to_linear_sample(b));
            // 0x7F and 0xFF both decode to 0 (negative and positive zero).
            if b != 0x7F {
                assert_eq!(u, b, "ulaw {b:#x}");
            }
        }
    }

    #[test]
    fn roundtrip_error_is_small() {
        for s in (-32768i32..32768).step_by(7) {
            let s = s as i16;
            let u = ulaw_to_linear_sample(linear_to_ulaw(s)) as i32;
            let a = alaw_to_linear_sample(linear_to_alaw(s)) as i32;
            let tol = (s as i32).abs() / 16 + 16;
            assert!((u - s as i32).abs() <= tol.max(40), "ulaw {s} -> {u}");
            assert!((a - s as i32).abs() <= tol.max(40), "alaw {s} -> {a}");
        }
    }

    #[test]
    fn transcode_keeps_length_and_sound() {
        let pcm: Vec<i16> = (0..160)
            .map(|i| ((i as f64 * 0.3).sin() * 10000.0) as i16)
            .collect();
        let mut buf = [0u8; 160];
        encode(Law::Mu, &pcm, &mut buf);
        transcode_in_place(Law::Mu, Law::A, &mut buf);
        for (b, s) in buf.iter().zip(&pcm) {
            let d = alaw_to_linear_sample(*b) as i32 - *s as i32;
            assert!(d.abs() < 800, "{d}");
        }
        transcode_in_place(Law::A, Law::Mu, &mut buf);
        for (b, s) in buf.iter().zip(&pcm) {
            let d = ulaw_to_linear_sample(*b) as i32 - *s as i32;
            assert!(d.abs() < 800, "{d}");
        }
    }
}
