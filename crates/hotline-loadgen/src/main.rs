//! `hotline-loadgen`: helpers for `scripts/bench.sh`.
//!
//! `hotline-loadgen rtp-echo --bind 127.0.0.1:40000 [--max-secs 600] [--stats FILE]`
//!
//! One UDP socket that every benchmark agent advertises in its SDP: each RTP packet is sent back to
//! where it came from (symmetric RTP), and counted per stream (source address + SSRC). Sequence
//! numbers give the loss on the path caller -> hotline -> agent. SIPp's `-rtp_echo` drops packets
//! under load, which is why this exists. On SIGTERM/SIGINT or after `--max-secs` it prints one
//! line of JSON (and writes it to `--stats`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio::signal::unix::{signal, SignalKind};

#[derive(Default)]
struct Stream {
    first_seq: Option<u16>,
    /// Extended highest sequence number seen (RFC 3550 A.1 style, with wrap count).
    max_ext: i64,
    received: u64,
}

impl Stream {
    fn on_packet(&mut self, seq: u16) {
        self.received += 1;
        match self.first_seq {
            None => {
                self.first_seq = Some(seq);
                self.max_ext = i64::from(seq);
            }
            Some(_) => {
                let cycles = self.max_ext & !0xffff;
                let last = (self.max_ext & 0xffff) as u16;
                let delta = seq.wrapping_sub(last) as i16;
                if delta > 0 {
                    let mut ext = cycles | i64::from(seq);
                    if seq < last {
                        ext += 0x1_0000;
                    }
                    self.max_ext = ext;
                }
            }
        }
    }

    fn expected(&self) -> u64 {
        match self.first_seq {
            None => 0,
            Some(first) => (self.max_ext - i64::from(first) + 1).max(0) as u64,
        }
    }
}

#[derive(Default)]
struct Totals {
    packets_in: u64,
    packets_out: u64,
    send_errors: u64,
    non_rtp: u64,
    streams: HashMap<(SocketAddr, u32), Stream>,
}

impl Totals {
    fn json(&self, elapsed: Duration) -> String {
        let expected: u64 = self.streams.values().map(Stream::expected).sum();
        let received: u64 = self.streams.values().map(|s| s.received).sum();
        let lost = expected.saturating_sub(received);
        let loss_pct = if expected > 0 {
            lost as f64 * 100.0 / expected as f64
        } else {
            0.0
        };
        format!(
            "{{\"elapsed_secs\":{:.1},\"packets_in\":{},\"packets_out\":{},\"send_errors\":{},\"non_rtp\":{},\
             \"streams\":{},\"expected\":{},\"lost\":{},\"loss_pct\":{:.4}}}",
            elapsed.as_secs_f64(),
            self.packets_in,
            self.packets_out,
            self.send_errors,
            self.non_rtp,
            self.streams.len(),
            expected,
            lost,
            loss_pct
        )
    }
}

/// Asks for 16 MiB socket buffers (SO_*BUFFORCE as root, beyond rmem_max), so that a scheduling hiccup
/// of this task does not drop packets in the kernel and show up as relay loss. Returns the receive size.
fn grow_buffers(sock: &UdpSocket) -> i32 {
    let fd = sock.as_raw_fd();
    let size: libc::c_int = 16 << 20;
    for (force, plain) in [
        (libc::SO_RCVBUFFORCE, libc::SO_RCVBUF),
        (libc::SO_SNDBUFFORCE, libc::SO_SNDBUF),
    ] {
        for opt in [force, plain] {
            // SAFETY: fd is a valid socket owned by `sock`; the option value is a c_int of the given size.
            let r = unsafe {
                libc::setsockopt(
                    fd,
                    libc::SOL_SOCKET,
                    opt,
                    (&size as *const libc::c_int).cast(),
                    std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                )
            };
            if r == 0 {
                break;
            }
        }
    }
    let mut got: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: as above; `got`/`len` are valid out-pointers.
    unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUF,
            (&mut got as *mut libc::c_int).cast(),
            &mut len,
        );
    }
    got
}

fn usage() -> ! {
    eprintln!("usage: hotline-loadgen rtp-echo --bind IP:PORT [--max-secs N] [--stats FILE]");
    std::process::exit(2);
}

async fn rtp_echo(bind: SocketAddr, max_secs: u64, stats: Option<String>) -> std::io::Result<()> {
    let sock = UdpSocket::bind(bind).await?;
    let rcvbuf = grow_buffers(&sock);
    eprintln!(
        "hotline-loadgen: rtp-echo on {} (receive buffer {rcvbuf} bytes)",
        sock.local_addr()?
    );
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let start = Instant::now();
    let deadline = tokio::time::sleep(Duration::from_secs(max_secs));
    tokio::pin!(deadline);
    let mut t = Totals::default();
    let mut buf = vec![0u8; 2048];
    loop {
        tokio::select! {
            r = sock.recv_from(&mut buf) => {
                let (n, from) = match r {
                    Ok(x) => x,
                    Err(_) => continue, // ICMP errors from a closed leg surface here on Linux
                };
                t.packets_in += 1;
                let pkt = &buf[..n];
                if n >= 12 && pkt[0] >> 6 == 2 && !(200..=204).contains(&pkt[1]) {
                    let seq = u16::from_be_bytes([pkt[2], pkt[3]]);
                    let ssrc = u32::from_be_bytes([pkt[8], pkt[9], pkt[10], pkt[11]]);
                    t.streams.entry((from, ssrc)).or_default().on_packet(seq);
                } else {
                    t.non_rtp += 1;
                }
                match sock.send_to(pkt, from).await {
                    Ok(_) => t.packets_out += 1,
                    Err(_) => t.send_errors += 1,
                }
            }
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = &mut deadline => break,
        }
    }
    let line = t.json(start.elapsed());
    println!("{line}");
    if let Some(path) = stats {
        std::fs::write(path, format!("{line}\n"))?;
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) != Some("rtp-echo") {
        usage();
    }
    let mut bind: Option<SocketAddr> = None;
    let mut max_secs = 600u64;
    let mut stats = None;
    let mut it = args[1..].iter();
    while let Some(a) = it.next() {
        let v = it.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--bind" => bind = Some(v.parse().unwrap_or_else(|_| usage())),
            "--max-secs" => max_secs = v.parse().unwrap_or_else(|_| usage()),
            "--stats" => stats = Some(v.clone()),
            _ => usage(),
        }
    }
    let bind = bind.unwrap_or_else(|| usage());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    if let Err(e) = rt.block_on(rtp_echo(bind, max_secs, stats)) {
        eprintln!("hotline-loadgen: {e}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::Stream;

    #[test]
    fn counts_loss_and_wrap() {
        let mut s = Stream::default();
        for seq in [65530u16, 65531, 65533, 65535, 0, 1, 3] {
            s.on_packet(seq);
        }
        assert_eq!(s.expected(), 10); // 65530..=65535 and 0..=3
        assert_eq!(s.received, 7);
    }

    #[test]
    fn reordering_is_not_loss() {
        let mut s = Stream::default();
        for seq in [10u16, 12, 11, 13] {
            s.on_packet(seq);
        }
        assert_eq!(s.expected(), 4);
        assert_eq!(s.received, 4);
    }
}
