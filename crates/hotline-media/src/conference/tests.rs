use super::*;
use crate::g711;
use crate::g722::G722Encoder;
use crate::test_rng::XorShift;

const RATE8: f64 = 8000.0;

/// A sender: a tone at `hz`, encoded in `codec`, one 20 ms packet per call.
struct Sender {
    codec: Codec,
    /// One second of the tone at the codec's rate (the tones are whole hertz, so it loops seamlessly).
    second: Vec<i16>,
    n: usize,
    enc: G722Encoder,
    seq: u16,
    ts: u32,
}

impl Sender {
    fn new(codec: Codec, hz: f64) -> Self {
        let rate = codec.sample_rate() as usize;
        let second = (0..rate)
            .map(|i| {
                let t = i as f64 / rate as f64;
                ((2.0 * std::f64::consts::PI * hz * t).sin() * 6000.0) as i16
            })
            .collect();
        Sender {
            codec,
            second,
            n: 0,
            enc: G722Encoder::new(),
            seq: 1000,
            ts: 5000,
        }
    }

    fn packet(&mut self) -> (u16, u32, [u8; 160]) {
        let per = if self.codec == Codec::G722 { 320 } else { 160 };
        let pcm = &self.second[self.n..self.n + per];
        self.n = (self.n + per) % self.second.len();
        let mut out = [0u8; 160];
        match self.codec.law() {
            Some(law) => {
                g711::encode(law, pcm, &mut out);
            }
            None => {
                self.enc.encode(pcm, &mut out);
            }
        }
        let r = (self.seq, self.ts, out);
        self.seq = self.seq.wrapping_add(1);
        self.ts = self.ts.wrapping_add(160);
        r
    }
}

/// Decoded output of one listener, at 8 kHz.
#[derive(Default)]
struct Heard {
    pcm: Vec<i16>,
    frames: u64,
    dec: crate::g722::G722Decoder,
    down: Downsampler,
}

impl Heard {
    fn take(&mut self, codec: Codec, frame: &[u8]) {
        self.frames += 1;
        let mut out = [0i16; 320];
        match codec.law() {
            Some(law) => {
                let n = g711::decode(law, frame, &mut out);
                self.pcm.extend_from_slice(&out[..n]);
            }
            None => {
                self.dec.decode(frame, &mut out);
                let mut narrow = [0i16; 160];
                self.down.process(&out, &mut narrow);
                self.pcm.extend_from_slice(&narrow);
            }
        }
    }
}

/// Share of `x`'s energy at `hz` (1.0 for a pure tone, ~0 when absent).
fn share(x: &[i16], hz: f64) -> f64 {
    let (mut c, mut s, mut e) = (0.0, 0.0, 0.0);
    for (i, &v) in x.iter().enumerate() {
        let v = f64::from(v);
        let w = i as f64 * hz * 2.0 * std::f64::consts::PI / RATE8;
        c += v * w.cos();
        s += v * w.sin();
        e += v * v;
    }
    2.0 * (c * c + s * s) / (x.len() as f64 * e.max(1.0))
}

fn energy(x: &[i16]) -> f64 {
    (x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / x.len().max(1) as f64).sqrt()
}

/// Runs `ticks` ticks of a conference whose members each send a tone every tick; returns what each heard.
fn run(conf: &mut Conference, senders: &mut [(u32, Sender)], ticks: usize) -> Vec<Heard> {
    let mut heard: Vec<Heard> = senders.iter().map(|_| Heard::default()).collect();
    let codecs: Vec<(u32, Codec)> = senders.iter().map(|(id, s)| (*id, s.codec)).collect();
    for _ in 0..ticks {
        for (id, s) in senders.iter_mut() {
            let (seq, ts, p) = s.packet();
            conf.push(*id, seq, ts, false, &p);
        }
        conf.tick(
            |id, frame| {
                if let Some(i) = codecs.iter().position(|(c, _)| *c == id) {
                    heard[i].take(codecs[i].1, frame);
                }
            },
            None,
        );
    }
    heard
}

#[test]
fn each_member_hears_the_others_but_not_itself_across_codecs() {
    let mut conf = Conference::new();
    let mut senders = [
        (1, Sender::new(Codec::Pcmu, 400.0)),
        (2, Sender::new(Codec::Pcma, 1000.0)),
        (3, Sender::new(Codec::G722, 1700.0)),
    ];
    for (id, s) in &senders {
        conf.add(*id, s.codec, true).unwrap();
    }
    let heard = run(&mut conf, &mut senders, 100);
    let tones = [400.0, 1000.0, 1700.0];
    for (i, h) in heard.iter().enumerate() {
        assert_eq!(h.frames, 100, "one frame per tick to member {i}");
        let steady = &h.pcm[160 * 10..];
        for (j, &hz) in tones.iter().enumerate() {
            let sh = share(steady, hz);
            if i == j {
                assert!(sh < 0.02, "member {i} hears itself ({hz} Hz: {sh:.3})");
            } else {
                assert!(sh > 0.25, "member {i} misses member {j} ({hz} Hz: {sh:.3})");
            }
        }
    }
}

#[test]
fn listen_whisper_barge_and_mute() {
    // 1 citizen, 2 agent, 9 supervisor.
    let mut conf = Conference::new();
    let mut senders = [
        (1, Sender::new(Codec::Pcmu, 400.0)),
        (2, Sender::new(Codec::Pcmu, 1000.0)),
        (9, Sender::new(Codec::Pcmu, 1700.0)),
    ];
    for (id, s) in &senders {
        conf.add(*id, s.codec, true).unwrap();
    }
    let heard_sup = |h: &[Heard], who: usize| share(&h[who].pcm[1600..], 1700.0);

    conf.set_role(9, MixRole::Listen).unwrap();
    let h = run(&mut conf, &mut senders, 60);
    assert!(
        heard_sup(&h, 0) < 0.02 && heard_sup(&h, 1) < 0.02,
        "listen: heard by none"
    );
    assert!(
        share(&h[2].pcm[1600..], 400.0) > 0.25 && share(&h[2].pcm[1600..], 1000.0) > 0.25,
        "listen hears both"
    );

    conf.set_role(9, MixRole::Whisper(2)).unwrap();
    let h = run(&mut conf, &mut senders, 60);
    assert!(
        heard_sup(&h, 0) < 0.02,
        "whisper: citizen does not hear the supervisor"
    );
    assert!(heard_sup(&h, 1) > 0.25, "whisper: the agent does");

    conf.set_role(9, MixRole::Normal).unwrap();
    let h = run(&mut conf, &mut senders, 60);
    assert!(
        heard_sup(&h, 0) > 0.2 && heard_sup(&h, 1) > 0.2,
        "barge: heard by both"
    );

    conf.set_muted(1, true).unwrap();
    let h = run(&mut conf, &mut senders, 60);
    assert!(
        share(&h[1].pcm[1600..], 400.0) < 0.02,
        "muted citizen is not heard"
    );
}

#[test]
fn taps_feed_the_recording_but_are_sent_nothing() {
    let mut conf = Conference::new();
    conf.add(1, Codec::Pcmu, false).unwrap();
    conf.add(2, Codec::G722, false).unwrap();
    let mut a = Sender::new(Codec::Pcmu, 400.0);
    let mut b = Sender::new(Codec::G722, 1000.0);
    let mut rec = Vec::new();
    let mut sent = 0;
    for _ in 0..100 {
        let (s, t, p) = a.packet();
        conf.push(1, s, t, false, &p);
        let (s, t, p) = b.packet();
        conf.push(2, s, t, false, &p);
        let mut frame = [0i16; 160];
        conf.tick(|_, _| sent += 1, Some(&mut frame));
        rec.extend_from_slice(&frame);
    }
    assert_eq!(sent, 0);
    assert_eq!(rec.len(), 16_000);
    let steady = &rec[1600..];
    assert!(
        share(steady, 400.0) > 0.25 && share(steady, 1000.0) > 0.25,
        "both voices recorded"
    );
}

#[test]
fn members_come_and_go() {
    let mut conf = Conference::new();
    conf.add(1, Codec::Pcmu, true).unwrap();
    conf.add(2, Codec::Pcmu, true).unwrap();
    conf.add(1, Codec::Pcmu, false).unwrap();
    assert!(!conf.hears(1) && conf.hears(2) && conf.any_hears());
    assert!(conf.remove(1));
    assert!(!conf.remove(1));
    assert!(
        conf.push(1, 1, 1, false, &[0; 160]).is_none(),
        "a stranger's packet is ignored"
    );
    for id in 10..(10 + MAX_PARTICIPANTS as u32 - 1) {
        conf.add(id, Codec::Pcma, true).unwrap();
    }
    assert!(conf.add(99, Codec::Pcmu, true).is_err(), "room full");
    assert_eq!(conf.len(), MAX_PARTICIPANTS);
    conf.set_codec(10, Codec::G722);
    let mut n = 0;
    conf.tick(
        |_, f| {
            assert_eq!(f.len(), 160);
            n += 1
        },
        None,
    );
    assert_eq!(n, MAX_PARTICIPANTS);
}

/// An hour of a three-way call (180 000 ticks) with senders whose clocks run 50 ppm fast and slow and with up
/// to 60 ms of network jitter: every listener gets exactly one frame per tick, and the buffers neither grow
/// without bound nor starve.
#[test]
fn one_hour_conference_does_not_drift() {
    const TICKS: u64 = 180_000;
    let mut conf = Conference::new();
    let mut rng = XorShift(0x5eed);
    // (id, sender, clock rate relative to ours, next send time in µs, in-flight packets (arrival µs, packet))
    let skews = [1.000_05, 0.999_95, 1.0];
    type InFlight = Vec<(u64, (u16, u32, [u8; 160]))>;
    let mut senders: Vec<(u32, Sender, f64, f64, InFlight)> = vec![
        (
            1,
            Sender::new(Codec::Pcmu, 400.0),
            skews[0],
            0.0,
            Vec::new(),
        ),
        (
            2,
            Sender::new(Codec::Pcma, 1000.0),
            skews[1],
            0.0,
            Vec::new(),
        ),
        // G.711 only: drift does not depend on the codec, and an hour of G.722 would make this test slow.
        (
            3,
            Sender::new(Codec::Pcmu, 1700.0),
            skews[2],
            0.0,
            Vec::new(),
        ),
    ];
    for (id, s, ..) in &senders {
        conf.add(*id, s.codec, true).unwrap();
    }
    let mut frames = [0u64; 4];
    for tick in 0..TICKS {
        let now_us = tick * 20_000;
        for (id, s, skew, next, flight) in senders.iter_mut() {
            while *next <= now_us as f64 {
                let jitter = rng.below(60_000);
                flight.push((*next as u64 + jitter, s.packet()));
                *next += 20_000.0 / *skew;
            }
            let mut i = 0;
            while i < flight.len() {
                if flight[i].0 <= now_us {
                    let (_, (seq, ts, p)) = flight.swap_remove(i);
                    conf.push(*id, seq, ts, false, &p);
                } else {
                    i += 1;
                }
            }
        }
        conf.tick(|id, _| frames[id as usize] += 1, None);
    }
    assert_eq!(
        &frames[1..],
        &[TICKS; 3],
        "exactly one frame per tick to each listener"
    );
    for id in 1..=3 {
        let st = conf.jitter_stats(id).unwrap();
        assert!(
            st.current_delay_frames <= jitter_config().max_delay_frames,
            "{id}: {st:?}"
        );
        assert!(st.buffered_frames <= 16, "{id}: buffer bounded: {st:?}");
        assert!(
            st.played as f64 >= TICKS as f64 * 0.99,
            "{id}: at least 99 % of the hour played from real frames: {st:?}"
        );
    }
}

#[test]
fn conference_audio_survives_g722_to_g711_levels() {
    let mut conf = Conference::new();
    let mut senders = [
        (1, Sender::new(Codec::G722, 500.0)),
        (2, Sender::new(Codec::Pcmu, 1200.0)),
    ];
    for (id, s) in &senders {
        conf.add(*id, s.codec, true).unwrap();
    }
    let h = run(&mut conf, &mut senders, 100);
    let e0 = energy(&h[0].pcm[1600..]);
    let e1 = energy(&h[1].pcm[1600..]);
    // The senders' tones are at amplitude 6000 (RMS ≈ 4243); G.722 and the resamplers keep the level.
    assert!((3000.0..5500.0).contains(&e0), "{e0}");
    assert!((3000.0..5500.0).contains(&e1), "{e1}");
}
