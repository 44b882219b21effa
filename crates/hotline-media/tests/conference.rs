//! The conference and recording paths of the media engine over real UDP sockets on 127.0.0.1: phones send
//! tones, the test decodes what each phone receives (or what the recording holds) and looks for the tones.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hotline_media::engine::{MediaEngine, MixRole};
use hotline_media::g722::{G722Decoder, G722Encoder};
use hotline_media::rtp;
use hotline_media::sdp::{Direction, Negotiated};
use hotline_media::{g711, wav, Codec};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

const LO: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// A fake phone: sends a tone in its codec every 20 ms and decodes everything it receives to 8 kHz.
struct Phone {
    sock: Arc<UdpSocket>,
    codec: Codec,
    hz: f64,
}

impl Phone {
    async fn new(codec: Codec, hz: f64) -> Phone {
        Phone {
            sock: Arc::new(UdpSocket::bind((LO, 0)).await.unwrap()),
            codec,
            hz,
        }
    }

    fn neg(&self) -> Negotiated {
        Negotiated {
            remote: self.sock.local_addr().unwrap(),
            codec: self.codec,
            payload_type: self.codec.static_payload_type(),
            telephone_event: None,
            direction: Direction::SendRecv,
        }
    }

    /// Send for `frames` × 20 ms to `to` while collecting what arrives; returns the decoded audio (8 kHz).
    async fn talk(&self, to: SocketAddr, frames: usize) -> Vec<i16> {
        let sock = self.sock.clone();
        let codec = self.codec;
        let receiver = tokio::spawn(async move {
            let mut out = Vec::new();
            let mut dec = G722Decoder::new();
            let mut buf = [0u8; 2048];
            let deadline =
                tokio::time::Instant::now() + Duration::from_millis(20 * frames as u64 + 300);
            while let Ok(Ok((n, _))) =
                tokio::time::timeout_at(deadline, sock.recv_from(&mut buf)).await
            {
                let Some(v) = rtp::parse(&buf[..n]) else {
                    continue;
                };
                let payload = &buf[v.payload_start..v.payload_end];
                match codec.law() {
                    Some(law) => {
                        let mut pcm = vec![0i16; payload.len()];
                        g711::decode(law, payload, &mut pcm);
                        out.extend_from_slice(&pcm);
                    }
                    None => {
                        let mut pcm = vec![0i16; payload.len() * 2];
                        dec.decode(payload, &mut pcm);
                        out.extend(pcm.chunks(2).map(|p| p[1]));
                    }
                }
            }
            out
        });
        let rate = self.codec.sample_rate() as usize;
        let per = rate / 50;
        let mut enc = G722Encoder::new();
        let mut ticker = tokio::time::interval(Duration::from_millis(20));
        for f in 0..frames {
            ticker.tick().await;
            let pcm: Vec<i16> = (0..per)
                .map(|i| {
                    let t = (f * per + i) as f64 / rate as f64;
                    ((2.0 * std::f64::consts::PI * self.hz * t).sin() * 6000.0) as i16
                })
                .collect();
            let mut payload = vec![0u8; 160];
            match self.codec.law() {
                Some(law) => {
                    g711::encode(law, &pcm, &mut payload);
                }
                None => {
                    enc.encode(&pcm, &mut payload);
                }
            }
            let mut pkt = vec![0u8; rtp::HEADER_LEN];
            rtp::write_header(
                &mut pkt,
                f == 0,
                self.codec.static_payload_type(),
                f as u16,
                (f * 160) as u32,
                0x1000 + self.hz as u32,
            );
            pkt.extend_from_slice(&payload);
            self.sock.send_to(&pkt, to).await.unwrap();
        }
        receiver.await.unwrap()
    }
}

/// Share of the signal's energy at `hz` (8 kHz samples): ~1 for a pure tone, ~0 when absent.
fn share(x: &[i16], hz: f64) -> f64 {
    let (mut c, mut s, mut e) = (0.0, 0.0, 0.0);
    for (i, &v) in x.iter().enumerate() {
        let v = f64::from(v);
        let w = i as f64 * hz * 2.0 * std::f64::consts::PI / 8000.0;
        c += v * w.cos();
        s += v * w.sin();
        e += v * v;
    }
    2.0 * (c * c + s * s) / (x.len() as f64 * e.max(1.0))
}

fn middle(x: &[i16]) -> &[i16] {
    let n = x.len();
    &x[n / 4..n * 3 / 4]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_way_conference_with_a_codec_per_leg_over_udp() {
    let engine = MediaEngine::new(LO, 42000, 42099);
    let (etx, _erx) = mpsc::unbounded_channel();
    let h = engine.session(etx, 1);
    let phones = [
        Phone::new(Codec::Pcmu, 400.0).await,
        Phone::new(Codec::Pcma, 1000.0).await,
        Phone::new(Codec::G722, 1700.0).await,
    ];
    let mut ports = Vec::new();
    for p in &phones {
        let leg = h.add_leg().await.unwrap();
        h.set_remote(leg.leg, p.neg()).unwrap();
        h.join(leg.leg, MixRole::Normal).unwrap();
        ports.push(SocketAddr::from((LO, leg.local_port)));
    }
    let (a, b, c) = tokio::join!(
        phones[0].talk(ports[0], 75),
        phones[1].talk(ports[1], 75),
        phones[2].talk(ports[2], 75)
    );
    assert_eq!(engine.stats().conferences, 1);
    let tones = [400.0, 1000.0, 1700.0];
    for (i, heard) in [a, b, c].iter().enumerate() {
        assert!(heard.len() >= 8000, "phone {i} got {} samples", heard.len());
        let m = middle(heard);
        for (j, &hz) in tones.iter().enumerate() {
            let sh = share(m, hz);
            if i == j {
                assert!(sh < 0.05, "phone {i} hears itself: {sh:.3}");
            } else {
                assert!(sh > 0.2, "phone {i} does not hear phone {j}: {sh:.3}");
            }
        }
    }
    assert!(engine.stats().mix_frames_sent >= 3 * 60);
    h.close().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_that_leaves_hears_nothing_and_is_not_heard() {
    let engine = MediaEngine::new(LO, 42100, 42199);
    let (etx, _erx) = mpsc::unbounded_channel();
    let h = engine.session(etx, 2);
    let phones = [
        Phone::new(Codec::Pcmu, 400.0).await,
        Phone::new(Codec::Pcmu, 1000.0).await,
        Phone::new(Codec::Pcmu, 1700.0).await,
    ];
    let mut legs = Vec::new();
    for p in &phones {
        let leg = h.add_leg().await.unwrap();
        h.set_remote(leg.leg, p.neg()).unwrap();
        h.join(leg.leg, MixRole::Normal).unwrap();
        legs.push(leg);
    }
    // The "agent" (phone 1) leaves; citizen (0) and 120 (2) stay together.
    h.leave(legs[1].leg).unwrap();
    let port = |i: usize| SocketAddr::from((LO, legs[i].local_port));
    let (a, b, c) = tokio::join!(
        phones[0].talk(port(0), 60),
        phones[1].talk(port(1), 60),
        phones[2].talk(port(2), 60)
    );
    assert!(
        b.is_empty(),
        "the leg that left gets no audio ({} samples)",
        b.len()
    );
    assert!(share(middle(&a), 1700.0) > 0.5 && share(middle(&a), 1000.0) < 0.05);
    assert!(share(middle(&c), 400.0) > 0.5 && share(middle(&c), 1000.0) < 0.05);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_bridged_call_holds_both_voices() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("2026/11/23/7.wav");
    let engine = MediaEngine::new(LO, 42200, 42299);
    let (etx, _erx) = mpsc::unbounded_channel();
    let h = engine.session(etx, 3);
    let citizen = Phone::new(Codec::Pcmu, 400.0).await;
    let agent = Phone::new(Codec::G722, 1000.0).await;
    let l1 = h.add_leg().await.unwrap();
    let l2 = h.add_leg().await.unwrap();
    h.set_remote(l1.leg, citizen.neg()).unwrap();
    h.set_remote(l2.leg, agent.neg()).unwrap();
    h.bridge(l1.leg, l2.leg).unwrap();
    h.record(path.clone()).unwrap();
    let (a, b) = tokio::join!(
        citizen.talk((LO, l1.local_port).into(), 100),
        agent.talk((LO, l2.local_port).into(), 100)
    );
    // Still relayed (not mixed): each side hears the other's tone, transcoded between PCMU and G.722.
    assert!(
        share(middle(&a), 1000.0) > 0.5,
        "{}",
        share(middle(&a), 1000.0)
    );
    assert!(
        share(middle(&b), 400.0) > 0.5,
        "{}",
        share(middle(&b), 400.0)
    );
    assert_eq!(engine.stats().mix_frames_sent, 0);
    h.close().unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let e = engine.clone();
    tokio::task::spawn_blocking(move || e.sync_recordings())
        .await
        .unwrap();
    let samples = wav::read(&path).unwrap();
    assert!(
        samples.len() >= 8000 * 18 / 10,
        "about 2 s recorded: {}",
        samples.len()
    );
    let m = middle(&samples);
    assert!(
        share(m, 400.0) > 0.2,
        "citizen in the recording: {}",
        share(m, 400.0)
    );
    assert!(
        share(m, 1000.0) > 0.2,
        "agent in the recording: {}",
        share(m, 1000.0)
    );
}
