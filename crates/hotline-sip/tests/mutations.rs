//! Robustness: corrupted variants of the RFC 4475 / RFC 5118 corpus (and of a well-formed dialog) go
//! through every entry point that sees network bytes. Nothing may panic; what the layer sends has a
//! valid start line, and parses fully unless it is an error answer (a 4xx/5xx echoes the sender's own
//! malformed From/To/CSeq, as RFC 3261 §8.2.6 asks). Seeded, so a failure reproduces.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use hotline_sip::msg::{frame_stream, parse_datagram, parse_lenient};
use hotline_sip::policy::{react, Capabilities};
use hotline_sip::{TimerConfig, TransactionLayer, Transport};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const MUTANTS_PER_SEED: usize = 1000;

fn seeds() -> Vec<Vec<u8>> {
    let mut out = vec![
        b"INVITE sip:12345@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1;rport\r\n\
Max-Forwards: 70\r\nFrom: \"c\" <sip:138@127.0.0.1>;tag=a\r\nTo: <sip:12345@127.0.0.1>\r\nCall-ID: x@y\r\n\
CSeq: 1 INVITE\r\nContact: <sip:c@127.0.0.1:5070>\r\nContent-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n"
            .to_vec(),
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-2\r\nFrom: <sip:a@b>;tag=1\r\n\
To: <sip:c@d>;tag=2\r\nCall-ID: q\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
            .to_vec(),
    ];
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    for dir in ["rfc4475", "rfc5118/wire"] {
        if let Ok(entries) = std::fs::read_dir(shared.join(dir)) {
            for e in entries.flatten() {
                if e.path().extension().is_some_and(|x| x == "dat") {
                    if let Ok(bytes) = std::fs::read(e.path()) {
                        out.push(bytes);
                    }
                }
            }
        }
    }
    out
}

/// Characters that matter to a SIP parser, so mutants hit its branches rather than only bad UTF-8.
const INTERESTING: &[u8] = b" \t\r\n:;,<>\"[]%@=?&\\0123456789-+*#\x00\xff";

fn mutate(rng: &mut StdRng, seed: &[u8]) -> Vec<u8> {
    let mut m = seed.to_vec();
    for _ in 0..rng.gen_range(1..=4) {
        let len = m.len();
        match rng.gen_range(0..6) {
            0 if len > 0 => {
                let i = rng.gen_range(0..len);
                m[i] = INTERESTING[rng.gen_range(0..INTERESTING.len())];
            }
            1 if len > 0 => m.truncate(rng.gen_range(0..len)),
            2 => {
                let i = rng.gen_range(0..=len);
                let b = INTERESTING[rng.gen_range(0..INTERESTING.len())];
                m.insert(i, b);
            }
            3 if len > 1 => {
                // duplicate a slice (repeated headers, repeated values)
                let a = rng.gen_range(0..len);
                let b = rng.gen_range(a..len.min(a + 80));
                let piece = m[a..b].to_vec();
                let at = rng.gen_range(0..=m.len());
                m.splice(at..at, piece);
            }
            4 if len > 1 => {
                let a = rng.gen_range(0..len);
                let b = rng.gen_range(a..len);
                m.drain(a..b);
            }
            _ => {
                // absurd numbers where scalars live
                let s = String::from_utf8_lossy(&m).replacen(
                    "CSeq: ",
                    &format!("CSeq: {}", rng.gen::<u64>()),
                    1,
                );
                m = s.into_bytes();
            }
        }
    }
    m
}

fn well_formed(bytes: &[u8]) -> bool {
    if parse_datagram(bytes).is_ok() {
        return true;
    }
    let line = bytes.split(|b| *b == b'\r').next().unwrap_or_default();
    // An error answer: "SIP/2.0 4xx " or "SIP/2.0 5xx ".
    line.len() >= 12
        && line.starts_with(b"SIP/2.0 ")
        && matches!(line[8], b'4' | b'5')
        && line[9].is_ascii_digit()
        && line[10].is_ascii_digit()
        && line[11] == b' '
}

#[test]
fn corrupted_messages_never_panic_and_answers_parse() {
    let caps = Capabilities::default();
    let mut layer = TransactionLayer::new(TimerConfig::default());
    let start = Instant::now();
    let source: SocketAddr = "127.0.0.2:5060".parse().unwrap();
    // HOTLINE_MUTATION_SEED explores other corners; the default keeps CI reproducible.
    let seed = std::env::var("HOTLINE_MUTATION_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x1234_5345_u64);
    let mut rng = StdRng::seed_from_u64(seed);
    let seeds = seeds();
    assert!(seeds.len() >= 2);
    let mut answers = 0usize;
    for (n, seed) in seeds.iter().enumerate() {
        for k in 0..MUTANTS_PER_SEED {
            let m = mutate(&mut rng, seed);
            let _ = parse_datagram(&m);
            let _ = parse_lenient(&m);
            let _ = frame_stream(&m);
            let _ = react(&m, Some(&caps));
            let now = start + Duration::from_millis((n * MUTANTS_PER_SEED + k) as u64);
            let transport = if k % 2 == 0 {
                Transport::Udp
            } else {
                Transport::Tcp
            };
            layer.handle_input(now, transport, source, &m);
            while layer.poll_event().is_some() {}
            while let Some(t) = layer.poll_transmit() {
                answers += 1;
                assert!(
                    well_formed(&t.bytes),
                    "the layer sent something unparseable in answer to {:?}: {:?}",
                    String::from_utf8_lossy(&m),
                    String::from_utf8_lossy(&t.bytes)
                );
            }
        }
    }
    // Let every timer fire; retransmissions must stay well-formed too, and the layer must empty.
    layer.handle_timeout(start + Duration::from_secs(3600));
    while let Some(t) = layer.poll_transmit() {
        assert!(well_formed(&t.bytes));
    }
    assert!(
        answers > 1000,
        "mutants should mostly be answered (got {answers})"
    );
}
