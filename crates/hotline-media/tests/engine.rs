//! End-to-end tests of the media engine over real UDP sockets on 127.0.0.1.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hotline_media::engine::{MediaConfig, MediaEngine, MediaError, MediaEvent, MediaEventKind};
use hotline_media::rtp;
use hotline_media::sdp::{Direction, Negotiated};
use hotline_media::{g711, Codec, Prompt};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::timeout;

const LO: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn neg(remote: SocketAddr, codec: Codec, pt: u8, te: Option<u8>) -> Negotiated {
    Negotiated {
        remote,
        codec,
        payload_type: pt,
        telephone_event: te,
        direction: Direction::SendRecv,
    }
}

fn packet(pt: u8, marker: bool, seq: u16, ts: u32, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; rtp::HEADER_LEN];
    rtp::write_header(&mut b, marker, pt, seq, ts, ssrc);
    b.extend_from_slice(payload);
    b
}

async fn sock() -> UdpSocket {
    UdpSocket::bind((LO, 0)).await.unwrap()
}

async fn recv(s: &UdpSocket) -> (Vec<u8>, SocketAddr) {
    let mut buf = [0u8; 2048];
    let (n, from) = timeout(Duration::from_secs(2), s.recv_from(&mut buf))
        .await
        .expect("timed out waiting for RTP")
        .unwrap();
    (buf[..n].to_vec(), from)
}

async fn nothing_within(s: &UdpSocket, ms: u64) -> bool {
    let mut buf = [0u8; 2048];
    timeout(Duration::from_millis(ms), s.recv_from(&mut buf))
        .await
        .is_err()
}

async fn event(rx: &mut mpsc::UnboundedReceiver<MediaEvent>) -> MediaEvent {
    timeout(Duration::from_secs(3), rx.recv())
        .await
        .expect("timed out waiting for a media event")
        .expect("event channel closed")
}

fn tone_payload(codec: Codec) -> Vec<u8> {
    (0..160)
        .map(|i| {
            g711::encode_sample(
                codec.law().unwrap(),
                ((i as f64 * 0.4).sin() * 8000.0) as i16,
            )
        })
        .collect()
}

#[tokio::test]
async fn bridge_rewrites_transcodes_and_latches() {
    let engine = MediaEngine::new(LO, 41000, 41099);
    let (etx, mut erx) = mpsc::unbounded_channel();
    let h = engine.session(etx, 7);
    let l1 = h.add_leg().await.unwrap();
    let l2 = h.add_leg().await.unwrap();
    assert_ne!(l1.leg, l2.leg);
    assert_eq!(l1.local_port % 2, 0);
    let p1: SocketAddr = (LO, l1.local_port).into();
    let p2: SocketAddr = (LO, l2.local_port).into();

    let a = sock().await; // phone on leg 1, sends from its SDP address
    let b = sock().await; // phone on leg 2, behind "NAT": sends from another address than its SDP one
    let b_sdp = sock().await;
    h.set_remote(
        l1.leg,
        neg(a.local_addr().unwrap(), Codec::Pcmu, 0, Some(101)),
    )
    .unwrap();
    h.set_remote(
        l2.leg,
        neg(b_sdp.local_addr().unwrap(), Codec::Pcma, 8, Some(96)),
    )
    .unwrap();
    h.bridge(l1.leg, l2.leg).unwrap();

    // A -> leg 1 -> leg 2: not latched yet, so it goes to leg 2's SDP address, transcoded to PCMA.
    let ulaw = tone_payload(Codec::Pcmu);
    a.send_to(&packet(0, false, 100, 1000, 0xAAAA, &ulaw), p1)
        .await
        .unwrap();
    let (got, from) = recv(&b_sdp).await;
    assert_eq!(from, p2, "relayed from leg 2's port");
    let v = rtp::parse(&got).unwrap();
    assert_eq!(v.payload_type, 8);
    assert!(v.marker, "first packet of the spliced stream is marked");
    assert_ne!(v.ssrc, 0xAAAA);
    let mut expect = ulaw.clone();
    g711::transcode_in_place(g711::Law::Mu, g711::Law::A, &mut expect);
    assert_eq!(&got[v.payload_start..v.payload_end], &expect[..]);
    assert_eq!(got.len(), 12 + 160);
    let (seq0, ts0, ssrc2) = (v.seq, v.timestamp, v.ssrc);

    // B sends from its real address: leg 2 latches to it; A gets PCMU.
    let alaw = tone_payload(Codec::Pcma);
    b.send_to(&packet(8, false, 5, 77, 0xBBBB, &alaw), p2)
        .await
        .unwrap();
    let (got, from) = recv(&a).await;
    assert_eq!(from, p1);
    let v = rtp::parse(&got).unwrap();
    assert_eq!(v.payload_type, 0);
    let mut expect = alaw.clone();
    g711::transcode_in_place(g711::Law::A, g711::Law::Mu, &mut expect);
    assert_eq!(&got[v.payload_start..v.payload_end], &expect[..]);
    assert_ne!(v.ssrc, 0xBBBB);
    assert_ne!(v.ssrc, ssrc2, "one SSRC per outgoing leg");

    // A's next packet now goes to B's latched address, continuing the stream.
    a.send_to(&packet(0, false, 101, 1160, 0xAAAA, &ulaw), p1)
        .await
        .unwrap();
    let (got, _) = recv(&b).await;
    let v = rtp::parse(&got).unwrap();
    assert_eq!(
        (v.seq, v.timestamp, v.ssrc, v.marker),
        (seq0.wrapping_add(1), ts0.wrapping_add(160), ssrc2, false)
    );
    assert!(
        nothing_within(&b_sdp, 100).await,
        "nothing to the SDP address after latching"
    );

    // A telephone-event on leg 1 (PT 101) is relayed with leg 2's PT (96) and reported once.
    let ev = [5u8, 10, 0, 160];
    a.send_to(&packet(101, true, 102, 1320, 0xAAAA, &ev), p1)
        .await
        .unwrap();
    let (got, _) = recv(&b).await;
    let v = rtp::parse(&got).unwrap();
    assert_eq!(v.payload_type, 96);
    assert_eq!(v.seq, seq0.wrapping_add(2));
    assert_eq!(&got[v.payload_start..], &ev);
    let e = event(&mut erx).await;
    assert_eq!(
        (e.tag, e.leg, e.kind),
        (7, l1.leg, MediaEventKind::Dtmf('5'))
    );

    // A stranger sending to leg 2's port is not relayed while B is active.
    let stranger = sock().await;
    stranger
        .send_to(&packet(8, false, 1, 1, 0xCCCC, &alaw), p2)
        .await
        .unwrap();
    assert!(nothing_within(&a, 150).await);

    // Unbridged: nothing relayed.
    h.unbridge().unwrap();
    a.send_to(&packet(0, false, 103, 1480, 0xAAAA, &ulaw), p1)
        .await
        .unwrap();
    assert!(nothing_within(&b, 150).await);

    let s = engine.stats();
    assert!(s.packets_relayed >= 4, "{s:?}");
    assert!(s.packets_dropped >= 1, "{s:?}");
    assert_eq!(s.dtmf_events, 1);
    assert_eq!((s.sessions, s.legs), (1, 2));
    h.close().unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let s = engine.stats();
    assert_eq!((s.sessions, s.legs), (0, 0));
    assert!(h.is_closed());
    assert!(matches!(h.add_leg().await, Err(MediaError::Closed)));
}

#[tokio::test]
async fn prompt_plays_as_paced_pcmu_frames() {
    let engine = MediaEngine::new(LO, 41100, 41199);
    let (etx, mut erx) = mpsc::unbounded_channel();
    let h = engine.session(etx, 1);
    let l = h.add_leg().await.unwrap();
    let a = sock().await;
    h.set_remote(l.leg, neg(a.local_addr().unwrap(), Codec::Pcmu, 0, None))
        .unwrap();
    let prompt = Arc::new(Prompt::tone("beep", 440.0, 200, 6000));
    assert_eq!(prompt.frame_count(), 10);
    let start = Instant::now();
    h.play(l.leg, prompt.clone(), false).unwrap();
    let mut first: Option<rtp::RtpView> = None;
    for k in 0..10u16 {
        let (got, _) = recv(&a).await;
        assert_eq!(got.len(), 12 + 160);
        let v = rtp::parse(&got).unwrap();
        assert_eq!(v.payload_type, 0);
        assert_eq!(
            &got[12..],
            &prompt.frames(Codec::Pcmu)[k as usize][..],
            "frame {k}"
        );
        match first {
            None => {
                assert!(v.marker);
                first = Some(v);
            }
            Some(f) => {
                assert!(!v.marker);
                assert_eq!(v.ssrc, f.ssrc);
                assert_eq!(v.seq, f.seq.wrapping_add(k));
                assert_eq!(v.timestamp, f.timestamp.wrapping_add(160 * k as u32));
            }
        }
    }
    // Ten frames paced 20 ms apart take at least ~180 ms.
    assert!(
        start.elapsed() >= Duration::from_millis(160),
        "{:?}",
        start.elapsed()
    );
    let e = event(&mut erx).await;
    assert_eq!((e.leg, e.kind), (l.leg, MediaEventKind::PlayDone));
    assert!(nothing_within(&a, 100).await);

    // A second prompt continues the same stream (same SSRC, next seq) with a new talk spurt.
    h.play(l.leg, prompt.clone(), true).unwrap();
    let (got, _) = recv(&a).await;
    let v = rtp::parse(&got).unwrap();
    let f = first.unwrap();
    assert!(v.marker);
    assert_eq!((v.ssrc, v.seq), (f.ssrc, f.seq.wrapping_add(10)));
    // Looped: keeps going past the prompt's length; held: stops sending; stop: no PlayDone.
    for _ in 0..12 {
        recv(&a).await;
    }
    h.set_hold(l.leg, true).unwrap();
    tokio::time::sleep(Duration::from_millis(40)).await;
    while !nothing_within(&a, 10).await {}
    assert!(nothing_within(&a, 100).await);
    h.stop(l.leg).unwrap();
    assert!(timeout(Duration::from_millis(300), erx.recv())
        .await
        .is_err());
    assert!(engine.stats().prompt_frames_sent >= 23);
}

#[tokio::test]
async fn rfc4733_event_yields_exactly_one_digit() {
    let engine = MediaEngine::new(LO, 41200, 41299);
    let (etx, mut erx) = mpsc::unbounded_channel();
    let h = engine.session(etx, 3);
    let l = h.add_leg().await.unwrap();
    let a = sock().await;
    h.set_remote(
        l.leg,
        neg(a.local_addr().unwrap(), Codec::Pcmu, 0, Some(110)),
    )
    .unwrap();
    let port: SocketAddr = (LO, l.local_port).into();
    let mut seq = 1u16;
    let mut send = |ev: u8, end: bool, ts: u32, dur: u16| {
        let p = packet(
            110,
            seq == 1,
            seq,
            ts,
            0x1234,
            &[
                ev,
                if end { 0x8A } else { 0x0A },
                (dur >> 8) as u8,
                dur as u8,
            ],
        );
        seq += 1;
        p
    };
    let pkts = [
        send(9, false, 8000, 160),
        send(9, false, 8000, 320),
        send(9, false, 8000, 480),
        send(9, true, 8000, 640),
        send(9, true, 8000, 640),
        send(9, true, 8000, 640),
    ];
    for p in &pkts {
        a.send_to(p, port).await.unwrap();
    }
    let e = event(&mut erx).await;
    assert_eq!(
        (e.tag, e.leg, e.kind),
        (3, l.leg, MediaEventKind::Dtmf('9'))
    );
    assert!(
        timeout(Duration::from_millis(200), erx.recv())
            .await
            .is_err(),
        "only one event"
    );
    // The same key again (new timestamp) is a new digit; '#' too.
    a.send_to(&send(9, true, 16000, 640), port).await.unwrap();
    a.send_to(&send(11, false, 24000, 160), port).await.unwrap();
    a.send_to(&send(11, true, 24000, 640), port).await.unwrap();
    assert_eq!(event(&mut erx).await.kind, MediaEventKind::Dtmf('9'));
    assert_eq!(event(&mut erx).await.kind, MediaEventKind::Dtmf('#'));
    assert!(timeout(Duration::from_millis(200), erx.recv())
        .await
        .is_err());
}

#[tokio::test]
async fn rtp_timeout_is_reported_once() {
    let engine = MediaEngine::with_config(MediaConfig {
        ip: LO,
        port_min: 41300,
        port_max: 41399,
        rtp_timeout: Duration::from_millis(300),
    });
    let (etx, mut erx) = mpsc::unbounded_channel();
    let h = engine.session(etx, 9);
    let l = h.add_leg().await.unwrap();
    let quiet = h.add_leg().await.unwrap();
    let a = sock().await;
    h.set_remote(l.leg, neg(a.local_addr().unwrap(), Codec::Pcmu, 0, None))
        .unwrap();
    // A leg without SDP yet is not expected to send.
    let _ = quiet;
    let e = event(&mut erx).await;
    assert_eq!(
        (e.tag, e.leg, e.kind),
        (9, l.leg, MediaEventKind::RtpTimeout)
    );
    assert!(
        timeout(Duration::from_millis(700), erx.recv())
            .await
            .is_err(),
        "reported once"
    );
    // Traffic re-arms it.
    let port: SocketAddr = (LO, l.local_port).into();
    a.send_to(&packet(0, false, 1, 1, 1, &[0xFF; 160]), port)
        .await
        .unwrap();
    let e = event(&mut erx).await;
    assert_eq!(e.kind, MediaEventKind::RtpTimeout);
}

#[tokio::test]
async fn ports_are_even_bounded_and_reused() {
    let engine = MediaEngine::new(LO, 41401, 41405); // even ports 41402 and 41404
    let (etx, _erx) = mpsc::unbounded_channel();
    let h = engine.session(etx, 1);
    let a = h.add_leg().await.unwrap();
    let b = h.add_leg().await.unwrap();
    let mut ports = [a.local_port, b.local_port];
    ports.sort();
    assert_eq!(ports, [41402, 41404]);
    assert!(matches!(
        h.add_leg().await,
        Err(MediaError::PortsExhausted { .. })
    ));
    h.remove_leg(a.leg).unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let c = h.add_leg().await.unwrap();
    assert_eq!(c.local_port, a.local_port);
    // Commands for unknown legs are ignored, not fatal.
    h.bridge(a.leg, c.leg).unwrap();
    h.stop(a.leg).unwrap();
    assert!(!h.is_closed());
    drop(h);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        engine.stats().legs,
        0,
        "dropping every handle ends the session"
    );
}
