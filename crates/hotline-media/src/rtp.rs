//! RTP header access and the per-leg outgoing stream state that keeps what a peer receives continuous (one
//! SSRC, contiguous sequence numbers, timestamps following the clock) whether the audio comes from a prompt or
//! is relayed from the other leg. Everything here works in place on caller buffers and never allocates.

use std::time::Instant;

pub const HEADER_LEN: usize = 12;
/// 20 ms of 8 kHz audio.
pub const SAMPLES_PER_FRAME: u32 = 160;

/// The fields of a received RTP packet, and where its payload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpView {
    pub marker: bool,
    pub payload_type: u8,
    pub seq: u16,
    pub timestamp: u32,
    pub ssrc: u32,
    /// Payload is `buf[payload_start..payload_end]` (after CSRCs and extension, before padding).
    pub payload_start: usize,
    pub payload_end: usize,
}

/// Parse an RTP header; `None` for anything that is not a well-formed RTP version 2 packet (including RTCP
/// multiplexed on the port, payload types 72..=76).
pub fn parse(buf: &[u8]) -> Option<RtpView> {
    let b0 = *buf.first()?;
    let b1 = *buf.get(1)?;
    if b0 >> 6 != 2 || buf.len() < HEADER_LEN {
        return None;
    }
    let payload_type = b1 & 0x7F;
    if (72..=76).contains(&payload_type) {
        return None;
    }
    let cc = (b0 & 0x0F) as usize;
    let mut start = HEADER_LEN + 4 * cc;
    if b0 & 0x10 != 0 {
        let ext = buf.get(start..start + 4)?;
        let words = u16::from_be_bytes([ext[2], ext[3]]) as usize;
        start += 4 + 4 * words;
    }
    let mut end = buf.len();
    if b0 & 0x20 != 0 {
        let pad = *buf.last()? as usize;
        end = end.checked_sub(pad)?;
    }
    if start > end {
        return None;
    }
    Some(RtpView {
        marker: b1 & 0x80 != 0,
        payload_type,
        seq: u16::from_be_bytes([buf[2], buf[3]]),
        timestamp: u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]),
        ssrc: u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]),
        payload_start: start,
        payload_end: end,
    })
}

/// Overwrite marker, payload type, sequence number, timestamp and SSRC of the packet in `buf` (which must be at
/// least [`HEADER_LEN`] long; shorter buffers are left untouched). Version, padding, extension and CSRCs stay.
pub fn rewrite(
    buf: &mut [u8],
    marker: bool,
    payload_type: u8,
    seq: u16,
    timestamp: u32,
    ssrc: u32,
) {
    let Some(h) = buf.get_mut(..HEADER_LEN) else {
        return;
    };
    h[1] = (if marker { 0x80 } else { 0 }) | (payload_type & 0x7F);
    h[2..4].copy_from_slice(&seq.to_be_bytes());
    h[4..8].copy_from_slice(&timestamp.to_be_bytes());
    h[8..12].copy_from_slice(&ssrc.to_be_bytes());
}

/// Write a fresh 12-byte header (version 2, no padding/extension/CSRC).
pub fn write_header(
    buf: &mut [u8],
    marker: bool,
    payload_type: u8,
    seq: u16,
    timestamp: u32,
    ssrc: u32,
) {
    if let Some(b0) = buf.first_mut() {
        *b0 = 0x80;
    }
    rewrite(buf, marker, payload_type, seq, timestamp, ssrc);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    None,
    Local,
    Relay {
        ssrc: u32,
        seq_off: u16,
        ts_off: u32,
    },
}

/// The header fields to put on an outgoing packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutHeader {
    pub marker: bool,
    pub seq: u16,
    pub timestamp: u32,
    pub ssrc: u32,
}

/// A relayed stream whose sequence numbers jump this far is treated as a new stream (peer restarted).
const MAX_SEQ_JUMP: i16 = 3000;

/// The state of what one leg sends: its single SSRC, the next sequence number, the last timestamp.
#[derive(Debug, Clone)]
pub struct OutStream {
    ssrc: u32,
    next_seq: u16,
    last_ts: u32,
    last_at: Option<Instant>,
    source: Source,
}

impl OutStream {
    pub fn new(ssrc: u32, first_seq: u16, first_ts: u32) -> Self {
        OutStream {
            ssrc,
            next_seq: first_seq,
            // The first packet will be at first_ts (resync adds one frame).
            last_ts: first_ts.wrapping_sub(SAMPLES_PER_FRAME),
            last_at: None,
            source: Source::None,
        }
    }

    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// The timestamp a new talk spurt starting `now` should carry: the last one plus the wall time since it was
    /// sent (at least one frame), so the peer's jitter buffer sees time pass.
    fn resync_ts(&self, now: Instant) -> u32 {
        let elapsed = match self.last_at {
            Some(t) => {
                let micros = now.saturating_duration_since(t).as_micros();
                u32::try_from(micros * 8 / 1000).unwrap_or(u32::MAX)
            }
            None => 0,
        };
        self.last_ts.wrapping_add(elapsed.max(SAMPLES_PER_FRAME))
    }

    fn advance(&mut self, now: Instant, seq: u16, ts: u32) {
        let next = seq.wrapping_add(1);
        if (next.wrapping_sub(self.next_seq) as i16) > 0 {
            self.next_seq = next;
        }
        if (ts.wrapping_sub(self.last_ts) as i32) > 0 {
            self.last_ts = ts;
        }
        self.last_at = Some(now);
    }

    /// Header for the next locally generated frame (prompt). `new_spurt` marks the first frame of a prompt;
    /// `frames` is how many 20 ms frames elapsed since the previous one (more than 1 when ticks were missed).
    pub fn next_local(&mut self, now: Instant, new_spurt: bool, frames: u32) -> OutHeader {
        let resync = new_spurt || self.source != Source::Local;
        let ts = if resync {
            self.source = Source::Local;
            self.resync_ts(now)
        } else {
            self.last_ts
                .wrapping_add(SAMPLES_PER_FRAME.saturating_mul(frames.max(1)))
        };
        let seq = self.next_seq;
        self.advance(now, seq, ts);
        OutHeader {
            marker: resync,
            seq,
            timestamp: ts,
            ssrc: self.ssrc,
        }
    }

    /// Header for a packet relayed from another leg: a fixed offset per incoming stream keeps the incoming
    /// spacing (gaps, reordering, telephone-event timestamps) while splicing it onto our stream.
    pub fn map_relay(
        &mut self,
        now: Instant,
        in_ssrc: u32,
        in_seq: u16,
        in_ts: u32,
        in_marker: bool,
    ) -> OutHeader {
        let mut resync = true;
        if let Source::Relay { ssrc, seq_off, .. } = self.source {
            let jump = in_seq.wrapping_add(seq_off).wrapping_sub(self.next_seq) as i16;
            resync = ssrc != in_ssrc || !(-MAX_SEQ_JUMP..=MAX_SEQ_JUMP).contains(&jump);
        }
        if resync {
            self.source = Source::Relay {
                ssrc: in_ssrc,
                seq_off: self.next_seq.wrapping_sub(in_seq),
                ts_off: self.resync_ts(now).wrapping_sub(in_ts),
            };
        }
        let (seq_off, ts_off) = match self.source {
            Source::Relay {
                seq_off, ts_off, ..
            } => (seq_off, ts_off),
            _ => (0, 0),
        };
        let seq = in_seq.wrapping_add(seq_off);
        let ts = in_ts.wrapping_add(ts_off);
        self.advance(now, seq, ts);
        OutHeader {
            marker: in_marker || resync,
            seq,
            timestamp: ts,
            ssrc: self.ssrc,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn pkt(pt: u8, seq: u16, ts: u32, ssrc: u32, payload: &[u8]) -> Vec<u8> {
        let mut b = vec![0u8; HEADER_LEN];
        write_header(&mut b, false, pt, seq, ts, ssrc);
        b.extend_from_slice(payload);
        b
    }

    #[test]
    fn parse_and_rewrite() {
        let mut b = pkt(0, 100, 16000, 0xdeadbeef, &[1, 2, 3]);
        let v = parse(&b).unwrap();
        assert_eq!(
            (v.payload_type, v.seq, v.timestamp, v.ssrc),
            (0, 100, 16000, 0xdeadbeef)
        );
        assert_eq!(&b[v.payload_start..v.payload_end], &[1, 2, 3]);
        rewrite(&mut b, true, 8, 7, 9, 11);
        let v = parse(&b).unwrap();
        assert_eq!(
            (v.marker, v.payload_type, v.seq, v.timestamp, v.ssrc),
            (true, 8, 7, 9, 11)
        );
        assert_eq!(&b[v.payload_start..v.payload_end], &[1, 2, 3]);
    }

    #[test]
    fn parse_csrc_ext_padding_and_garbage() {
        let mut b = pkt(0, 1, 2, 3, &[]);
        b[0] |= 0x01 | 0x10 | 0x20; // one CSRC, extension, padding
        b.extend_from_slice(&[0, 0, 0, 9]); // CSRC
        b.extend_from_slice(&[0xBE, 0xDE, 0, 1, 1, 2, 3, 4]); // extension, 1 word
        b.extend_from_slice(&[7, 7, 0, 2]); // payload 7 7, padding 2
        let v = parse(&b).unwrap();
        assert_eq!(&b[v.payload_start..v.payload_end], &[7, 7]);
        assert_eq!(parse(&[]), None);
        assert_eq!(parse(&[0x80, 0, 0]), None);
        assert_eq!(parse(&[0x40; 12]), None); // version 1
        let mut r = pkt(0, 1, 2, 3, &[]);
        r[1] = 200; // RTCP SR (marker bit + 72)
        assert_eq!(parse(&r), None);
        let mut bad = pkt(0, 1, 2, 3, &[]);
        bad[0] |= 0x0F; // 15 CSRCs that are not there
        assert_eq!(parse(&bad), None);
        let mut bad = pkt(0, 1, 2, 3, &[5]);
        bad[0] |= 0x20;
        *bad.last_mut().unwrap() = 200; // padding longer than the packet
        assert_eq!(parse(&bad), None);
        rewrite(&mut [0u8; 4], true, 0, 0, 0, 0); // too short: no panic
    }

    #[test]
    fn out_stream_splices_prompt_and_relay() {
        let t0 = Instant::now();
        let mut o = OutStream::new(42, 1000, 5000);
        let h = o.next_local(t0, true, 1);
        assert_eq!(
            (h.marker, h.seq, h.timestamp, h.ssrc),
            (true, 1000, 5000, 42)
        );
        let h = o.next_local(t0 + Duration::from_millis(20), false, 1);
        assert_eq!((h.marker, h.seq, h.timestamp), (false, 1001, 5160));
        let h = o.next_local(t0 + Duration::from_millis(60), false, 2);
        assert_eq!((h.marker, h.seq, h.timestamp), (false, 1002, 5480));
        // Relay starts 100 ms later: marker, next seq, timestamp advanced by the wall time.
        let t1 = t0 + Duration::from_millis(160);
        let h = o.map_relay(t1, 7, 50000, 123456, false);
        assert_eq!(
            (h.marker, h.seq, h.timestamp, h.ssrc),
            (true, 1003, 5480 + 800, 42)
        );
        let h = o.map_relay(t1, 7, 50001, 123456 + 160, false);
        assert_eq!((h.marker, h.seq, h.timestamp), (false, 1004, 5480 + 960));
        // A lost packet keeps its gap; a late one maps back without moving next_seq.
        let h = o.map_relay(t1, 7, 50003, 123456 + 480, false);
        assert_eq!(h.seq, 1006);
        let h = o.map_relay(t1, 7, 50002, 123456 + 320, false);
        assert_eq!(h.seq, 1005);
        // A new SSRC (e.g. after a transfer) is spliced on with a marker.
        let h = o.map_relay(t1 + Duration::from_millis(20), 8, 1, 1, false);
        assert_eq!((h.marker, h.seq, h.ssrc), (true, 1007, 42));
        // A wild sequence jump in the same SSRC is spliced too.
        let h = o.map_relay(t1 + Duration::from_millis(40), 8, 40000, 1, false);
        assert_eq!((h.marker, h.seq), (true, 1008));
        // Back to a prompt: marker, continuous seq.
        let h = o.next_local(t1 + Duration::from_millis(60), true, 1);
        assert_eq!((h.marker, h.seq), (true, 1009));
    }

    #[test]
    fn seq_wraps() {
        let t0 = Instant::now();
        let mut o = OutStream::new(1, 65535, 0);
        assert_eq!(o.next_local(t0, true, 1).seq, 65535);
        assert_eq!(o.next_local(t0, false, 1).seq, 0);
        assert_eq!(o.map_relay(t0, 5, 65535, 0, false).seq, 1);
        assert_eq!(o.map_relay(t0, 5, 0, 160, false).seq, 2);
    }
}
