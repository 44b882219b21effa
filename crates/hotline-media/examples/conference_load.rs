//! Load test of the conference engine: ROOMS calls, each a conference of three legs (the three-way calls of
//! issue 4), each leg fed 20 ms PCMU frames over real UDP on 127.0.0.1 for SECONDS. Prints mixed frames sent
//! (against the ideal 50 per leg per second), packets dropped, CPU time of the process and wall time.
//!
//!   cargo run --release -p hotline-media --example conference_load -- [ROOMS] [SECONDS]
//!
//! Run it in a network namespace (`scripts/bench.sh --conferences N` does) so the port range is free.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hotline_media::engine::{MediaEngine, MixRole};
use hotline_media::rtp;
use hotline_media::sdp::{Direction, Negotiated};
use hotline_media::Codec;
use tokio::net::UdpSocket;

const LO: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn cpu_seconds() -> f64 {
    // /proc/self/stat fields 14 and 15: user and system time in clock ticks (100 per second on Linux).
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (tick(11) + tick(12)) / 100.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rooms: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(500);
    let secs: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(10);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(run(rooms, secs));
}

async fn run(rooms: usize, secs: u64) {
    let engine = MediaEngine::new(LO, 20000, 20000 + (rooms as u16).saturating_mul(8).max(64));
    let received = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::new();
    let mut feeders = Vec::new();
    for r in 0..rooms {
        let (etx, _erx) = tokio::sync::mpsc::unbounded_channel();
        let h = engine.session(etx, r as u64);
        // One phone socket per room sends all three legs' audio and receives their mixes.
        let phone = Arc::new(UdpSocket::bind((LO, 0)).await.expect("bind"));
        let mut ports = Vec::new();
        for _ in 0..3 {
            let leg = h.add_leg().await.expect("leg");
            h.set_remote(
                leg.leg,
                Negotiated {
                    remote: phone.local_addr().expect("addr"),
                    codec: Codec::Pcmu,
                    payload_type: 0,
                    telephone_event: None,
                    direction: Direction::SendRecv,
                },
            )
            .expect("remote");
            h.join(leg.leg, MixRole::Normal).expect("join");
            ports.push(SocketAddr::new(LO, leg.local_port));
        }
        handles.push(h);
        let rx_sock = phone.clone();
        let count = received.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 512];
            while let Ok(n) = rx_sock.recv(&mut buf).await {
                if n > rtp::HEADER_LEN {
                    count.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        feeders.push((phone, ports));
    }
    let payload = [0x7Eu8; 160];
    let start = Instant::now();
    let cpu0 = cpu_seconds();
    let sent = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for (i, (phone, ports)) in feeders.into_iter().enumerate() {
        let sent = sent.clone();
        tasks.push(tokio::spawn(async move {
            let mut iv = tokio::time::interval(Duration::from_millis(20));
            let mut pkt = vec![0u8; rtp::HEADER_LEN + 160];
            let frames = secs * 50;
            for f in 0..frames {
                iv.tick().await;
                for (k, port) in ports.iter().enumerate() {
                    rtp::write_header(
                        &mut pkt,
                        f == 0,
                        0,
                        f as u16,
                        (f * 160) as u32,
                        (i * 3 + k) as u32,
                    );
                    pkt[rtp::HEADER_LEN..].copy_from_slice(&payload);
                    if phone.send_to(&pkt, port).await.is_ok() {
                        sent.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let wall = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let st = engine.stats();
    let ideal = rooms as f64 * 3.0 * 50.0 * wall;
    println!("conference_load: {rooms} rooms x 3 legs, {secs} s of audio");
    println!(
        "  packets sent to the engine : {}",
        sent.load(Ordering::Relaxed)
    );
    println!("  engine received            : {}", st.packets_received);
    println!(
        "  mixed frames sent          : {} ({:.1} % of 50/leg/s over {wall:.1} s)",
        st.mix_frames_sent,
        100.0 * st.mix_frames_sent as f64 / ideal
    );
    println!(
        "  mixed frames received      : {}",
        received.load(Ordering::Relaxed)
    );
    println!("  dropped                    : {}", st.packets_dropped);
    println!(
        "  CPU (this process, engine and feeders): {cpu:.1} s = {:.0} % of one core",
        100.0 * cpu / wall
    );
    for h in handles {
        let _ = h.close();
    }
}
