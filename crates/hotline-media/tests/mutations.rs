//! Robustness: corrupted SDP offers, SIP INFO DTMF bodies, RTP headers and telephone-event payloads
//! (all network input) never panic. Seeded, so a failure reproduces.

use hotline_media::dtmf::{parse_info, DtmfDetector, TelephoneEvent};
use hotline_media::{rtp, sdp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const OFFER: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio 40000 RTP/AVP 8 0 96\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:96 telephone-event/8000\r\na=fmtp:96 0-16\r\na=ptime:20\r\na=sendonly\r\n\
m=video 0 RTP/AVP 31\r\nc=IN IP6 2001:db8::1\r\n";

const INTERESTING: &[u8] = b" \t\r\n:=/.-0123456789\x00\xffIPN";

fn mutate(rng: &mut StdRng, seed: &[u8]) -> Vec<u8> {
    let mut m = seed.to_vec();
    for _ in 0..rng.gen_range(1..=4) {
        let len = m.len();
        match rng.gen_range(0..4) {
            0 if len > 0 => {
                let i = rng.gen_range(0..len);
                m[i] = INTERESTING[rng.gen_range(0..INTERESTING.len())];
            }
            1 if len > 0 => m.truncate(rng.gen_range(0..len)),
            2 => {
                let i = rng.gen_range(0..=len);
                m.insert(i, INTERESTING[rng.gen_range(0..INTERESTING.len())]);
            }
            _ if len > 1 => {
                let a = rng.gen_range(0..len);
                let b = rng.gen_range(a..len);
                m.drain(a..b);
            }
            _ => {}
        }
    }
    m
}

#[test]
fn corrupted_media_input_never_panics() {
    let mut rng = StdRng::seed_from_u64(0x5d9_0ffe);
    let mut negotiated = 0usize;
    for _ in 0..20_000 {
        let m = mutate(&mut rng, OFFER.as_bytes());
        if let Ok(offer) = sdp::Sdp::parse_bytes(&m) {
            if let Ok(n) = sdp::negotiate(&offer) {
                negotiated += 1;
                let answer = sdp::build_answer("127.0.0.1".parse().unwrap(), 20000, &n, 1, 1);
                assert!(
                    sdp::Sdp::parse(&answer).is_ok(),
                    "our answer must parse: {answer}"
                );
            }
        }
        let body = mutate(&mut rng, b"Signal=5\r\nDuration=160\r\n");
        let _ = parse_info("application/dtmf-relay", &body);
        let _ = parse_info("application/dtmf", &body);
    }
    assert!(
        negotiated > 100,
        "most mild mutants still negotiate (got {negotiated})"
    );

    let mut detector = DtmfDetector::new();
    let mut packet = [0u8; 172];
    for i in 0..50_000u32 {
        let len = rng.gen_range(0..packet.len());
        rng.fill(&mut packet[..len]);
        let _ = rtp::parse(&packet[..len]);
        let _ = TelephoneEvent::parse(&packet[..len.min(8)]);
        let _ = detector.on_packet(i / 3, &packet[..len.min(8)]);
    }
}
