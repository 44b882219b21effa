//! The SIP transport edge: UDP sockets and TCP connections. Bytes in become `Inbound` messages for the SIP
//! actor; `Transmit`s from the sans-IO layer go out here. Nothing SIP-specific is decided in this module
//! beyond TCP framing.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use hotline_sip::{frame_stream, Framing, Transport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;
use tracing::{debug, warn};

/// Largest SIP message we accept on any transport; larger input is an attack or a bug.
pub const MAX_MESSAGE: usize = 65_535;

/// One message (datagram or framed TCP message) received from the network.
pub struct Inbound {
    pub transport: Transport,
    pub source: SocketAddr,
    pub bytes: Vec<u8>,
}

/// Writers of open TCP connections, keyed by the peer address. Touched only on connection open/close and
/// per outgoing TCP message (not per RTP packet), so a plain mutex is adequate here.
type TcpWriters = Arc<Mutex<HashMap<SocketAddr, mpsc::Sender<Vec<u8>>>>>;

#[derive(Clone)]
pub struct Transports {
    udp: Option<Arc<UdpSocket>>,
    tcp: TcpWriters,
    inbound: mpsc::Sender<Inbound>,
    pub udp_local: Option<SocketAddr>,
    pub tcp_local: Option<SocketAddr>,
}

impl Transports {
    /// Binds every listen address and starts the reader tasks.
    pub async fn bind(
        listen: &[(Transport, SocketAddr)],
        inbound: mpsc::Sender<Inbound>,
    ) -> std::io::Result<Transports> {
        let mut t = Transports {
            udp: None,
            tcp: Arc::new(Mutex::new(HashMap::new())),
            inbound,
            udp_local: None,
            tcp_local: None,
        };
        for (transport, addr) in listen {
            match transport {
                Transport::Udp => {
                    let sock = Arc::new(UdpSocket::bind(addr).await?);
                    t.udp_local = Some(sock.local_addr()?);
                    // Several UDP listeners are allowed; the first one is used for sending.
                    if t.udp.is_none() {
                        t.udp = Some(sock.clone());
                    }
                    tokio::spawn(udp_reader(sock, t.inbound.clone()));
                }
                Transport::Tcp => {
                    let listener = TcpListener::bind(addr).await?;
                    t.tcp_local = Some(listener.local_addr()?);
                    tokio::spawn(tcp_acceptor(listener, t.clone()));
                }
            }
        }
        Ok(t)
    }

    /// Local address to advertise in Via/Contact for a transport.
    pub fn local(&self, transport: Transport) -> Option<SocketAddr> {
        match transport {
            Transport::Udp => self.udp_local,
            Transport::Tcp => self.tcp_local,
        }
    }

    /// Sends bytes without waiting: UDP is fire-and-forget (the transaction layer retransmits), TCP goes
    /// to the connection's writer task, opening a connection when none exists.
    pub fn send(&self, transport: Transport, dest: SocketAddr, bytes: Vec<u8>) {
        match transport {
            Transport::Udp => {
                if let Some(sock) = &self.udp {
                    if let Err(e) = sock.try_send_to(&bytes, dest) {
                        debug!(%dest, "udp send failed: {e}");
                    }
                }
            }
            Transport::Tcp => {
                let existing = self.tcp.lock().ok().and_then(|m| m.get(&dest).cloned());
                match existing {
                    Some(tx) => {
                        if tx.try_send(bytes).is_err() {
                            debug!(%dest, "tcp writer queue full or closed");
                        }
                    }
                    None => {
                        let this = self.clone();
                        tokio::spawn(async move {
                            match TcpStream::connect(dest).await {
                                Ok(stream) => {
                                    let tx = this.adopt(stream, dest);
                                    let _ = tx.try_send(bytes);
                                }
                                Err(e) => debug!(%dest, "tcp connect failed: {e}"),
                            }
                        });
                    }
                }
            }
        }
    }

    /// Registers a connection and starts its reader and writer; returns the writer's queue.
    fn adopt(&self, stream: TcpStream, peer: SocketAddr) -> mpsc::Sender<Vec<u8>> {
        let (tx, rx) = mpsc::channel::<Vec<u8>>(256);
        if let Ok(mut m) = self.tcp.lock() {
            m.insert(peer, tx.clone());
        }
        let _ = stream.set_nodelay(true);
        let (read, write) = stream.into_split();
        tokio::spawn(tcp_writer(write, rx));
        let this = self.clone();
        tokio::spawn(async move {
            tcp_reader(read, peer, this.inbound.clone()).await;
            if let Ok(mut m) = this.tcp.lock() {
                m.remove(&peer);
            }
        });
        tx
    }
}

async fn udp_reader(sock: Arc<UdpSocket>, inbound: mpsc::Sender<Inbound>) {
    let mut buf = vec![0u8; MAX_MESSAGE + 1];
    loop {
        match sock.recv_from(&mut buf).await {
            Ok((n, source)) => {
                // Oversized datagrams are truncated by the kernel; hand them on so the parser rejects them.
                let bytes = buf.get(..n).unwrap_or_default().to_vec();
                if inbound
                    .send(Inbound {
                        transport: Transport::Udp,
                        source,
                        bytes,
                    })
                    .await
                    .is_err()
                {
                    return;
                }
            }
            // ICMP port unreachable surfaces as an error on Linux; it is not fatal for the socket.
            Err(e) => debug!("udp recv error: {e}"),
        }
    }
}

async fn tcp_acceptor(listener: TcpListener, transports: Transports) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                transports.adopt(stream, peer);
            }
            Err(e) => {
                warn!("tcp accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

async fn tcp_writer(mut write: tokio::net::tcp::OwnedWriteHalf, mut rx: mpsc::Receiver<Vec<u8>>) {
    while let Some(bytes) = rx.recv().await {
        if write.write_all(&bytes).await.is_err() {
            return;
        }
    }
}

/// Reads a TCP stream and frames it by Content-Length. A framing error closes the connection: after
/// garbage there is no way to find the next message boundary.
async fn tcp_reader(
    mut read: tokio::net::tcp::OwnedReadHalf,
    peer: SocketAddr,
    inbound: mpsc::Sender<Inbound>,
) {
    let mut buf: Vec<u8> = Vec::with_capacity(8192);
    let mut chunk = [0u8; 8192];
    loop {
        loop {
            // RFC 5626 keep-alives (CRLF CRLF) and stray line ends between messages are skipped.
            let skip = buf
                .iter()
                .take_while(|b| **b == b'\r' || **b == b'\n')
                .count();
            if skip > 0 {
                buf.drain(..skip);
            }
            if buf.is_empty() {
                break;
            }
            match frame_stream(&buf) {
                Framing::Complete(len) => {
                    let len = len.min(buf.len());
                    let bytes: Vec<u8> = buf.drain(..len).collect();
                    if inbound
                        .send(Inbound {
                            transport: Transport::Tcp,
                            source: peer,
                            bytes,
                        })
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                Framing::Incomplete => {
                    if buf.len() > MAX_MESSAGE {
                        debug!(%peer, "tcp message too large; closing");
                        return;
                    }
                    break;
                }
                Framing::Invalid(e) => {
                    debug!(%peer, "tcp framing error: {e}; closing");
                    return;
                }
            }
        }
        match read.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
        }
    }
}
