//! SDP (RFC 4566) parsing and the offer/answer subset (RFC 3264) a G.711 B2BUA needs.
//!
//! Parsing is tolerant (unknown lines and attributes are kept out of the way, `\n` or `\r\n`), negotiation is
//! strict: only RTP/AVP(F) audio over IPv4 with PCMU or PCMA is usable, anything else is an [`SdpError`] that
//! the switch turns into `488 Not Acceptable Here`.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use crate::Codec;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    #[error("SDP line {line}: {reason}")]
    Syntax { line: usize, reason: String },
    #[error("SDP has no `{0}=` line")]
    Missing(&'static str),
    #[error("SDP offers no audio stream")]
    NoAudio,
    #[error("SDP audio stream has no connection address (`c=`)")]
    NoConnection,
    #[error("SDP offers only IPv6 media, which is not supported")]
    Ipv6Only,
    #[error("SDP offers no supported audio codec (need PCMU or PCMA)")]
    NoCommonCodec,
}

/// Media direction attribute (`a=sendrecv` ...), as written by the side that wrote the SDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    #[default]
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    fn from_attr(s: &str) -> Option<Direction> {
        Some(match s {
            "sendrecv" => Direction::SendRecv,
            "sendonly" => Direction::SendOnly,
            "recvonly" => Direction::RecvOnly,
            "inactive" => Direction::Inactive,
            _ => return None,
        })
    }

    /// The direction an answer takes for an offer with this direction (RFC 3264 §6.1).
    pub fn reverse(self) -> Direction {
        match self {
            Direction::SendRecv => Direction::SendRecv,
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            Direction::Inactive => Direction::Inactive,
        }
    }

    /// Whether the writer of the SDP wants to receive media.
    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }

    /// Whether the writer of the SDP will send media.
    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }
}

/// `c=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// `IP4` or `IP6` as written.
    pub addr_type: String,
    /// The address text (may be a host name or carry a `/ttl` in theory; `ip` is what we use).
    pub address: String,
    /// The parsed address, when it is a literal IP.
    pub ip: Option<IpAddr>,
}

impl Connection {
    pub fn is_ipv6(&self) -> bool {
        self.addr_type.eq_ignore_ascii_case("IP6") || matches!(self.ip, Some(IpAddr::V6(_)))
    }
}

/// `o=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub username: String,
    pub session_id: String,
    pub session_version: String,
    pub addr_type: String,
    pub address: String,
}

/// `a=rtpmap:<pt> <encoding>/<clock>[/<channels>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpMap {
    pub payload_type: u8,
    pub encoding: String,
    pub clock_rate: u32,
    pub channels: Option<u8>,
}

/// One `m=` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDescription {
    pub media: String,
    pub port: u16,
    pub proto: String,
    /// Format tokens in the offerer's order of preference (payload types for RTP).
    pub formats: Vec<String>,
    pub connection: Option<Connection>,
    pub rtpmaps: Vec<RtpMap>,
    pub fmtps: Vec<(u8, String)>,
    pub ptime: Option<u32>,
    pub direction: Option<Direction>,
}

impl MediaDescription {
    pub fn rtpmap(&self, pt: u8) -> Option<&RtpMap> {
        self.rtpmaps.iter().find(|m| m.payload_type == pt)
    }

    pub fn fmtp(&self, pt: u8) -> Option<&str> {
        self.fmtps
            .iter()
            .find(|(p, _)| *p == pt)
            .map(|(_, s)| s.as_str())
    }

    fn is_rtp_avp(&self) -> bool {
        self.proto.eq_ignore_ascii_case("RTP/AVP") || self.proto.eq_ignore_ascii_case("RTP/AVPF")
    }
}

/// A parsed session description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sdp {
    pub origin: Option<Origin>,
    pub session_name: String,
    /// Session-level `c=`.
    pub connection: Option<Connection>,
    /// Session-level direction attribute (media-level wins).
    pub direction: Option<Direction>,
    pub media: Vec<MediaDescription>,
}

/// The result of negotiating an offer (or an answer to our offer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// Where the peer wants its RTP (before latching).
    pub remote: SocketAddr,
    pub codec: Codec,
    /// The payload type the peer uses for `codec`.
    pub payload_type: u8,
    /// The telephone-event payload type the peer uses, if any (RFC 4733).
    pub telephone_event: Option<u8>,
    /// The direction written by the peer.
    pub direction: Direction,
}

impl Negotiated {
    /// The peer puts us on hold: it will not receive (sendonly/inactive), or it uses the RFC 2543 `c=0.0.0.0`.
    pub fn is_hold(&self) -> bool {
        matches!(self.direction, Direction::SendOnly | Direction::Inactive)
            || self.remote.ip().is_unspecified()
    }
}

fn syntax(line: usize, reason: impl Into<String>) -> SdpError {
    SdpError::Syntax {
        line,
        reason: reason.into(),
    }
}

fn parse_connection(line: usize, v: &str) -> Result<Connection, SdpError> {
    let mut it = v.split_ascii_whitespace();
    let (Some(net), Some(addr_type), Some(address)) = (it.next(), it.next(), it.next()) else {
        return Err(syntax(line, "c= needs <nettype> <addrtype> <address>"));
    };
    if !net.eq_ignore_ascii_case("IN") {
        return Err(syntax(line, format!("unsupported network type `{net}`")));
    }
    // Multicast addresses may carry /ttl/count; the IP is the part before.
    let ip = address
        .split('/')
        .next()
        .and_then(|a| a.parse::<IpAddr>().ok());
    Ok(Connection {
        addr_type: addr_type.to_string(),
        address: address.to_string(),
        ip,
    })
}

fn parse_media(line: usize, v: &str) -> Result<MediaDescription, SdpError> {
    let mut it = v.split_ascii_whitespace();
    let (Some(media), Some(port), Some(proto)) = (it.next(), it.next(), it.next()) else {
        return Err(syntax(line, "m= needs <media> <port> <proto> <fmt>..."));
    };
    let port = port
        .split('/')
        .next()
        .and_then(|p| p.parse::<u16>().ok())
        .ok_or_else(|| syntax(line, format!("bad port `{port}`")))?;
    Ok(MediaDescription {
        media: media.to_ascii_lowercase(),
        port,
        proto: proto.to_string(),
        formats: it.map(str::to_string).collect(),
        connection: None,
        rtpmaps: Vec::new(),
        fmtps: Vec::new(),
        ptime: None,
        direction: None,
    })
}

fn parse_rtpmap(v: &str) -> Option<RtpMap> {
    let (pt, rest) = v.trim().split_once(char::is_whitespace)?;
    let mut parts = rest.trim().split('/');
    let encoding = parts.next()?.trim().to_string();
    let clock_rate = parts.next()?.trim().parse().ok()?;
    let channels = parts.next().and_then(|c| c.trim().parse().ok());
    Some(RtpMap {
        payload_type: pt.parse().ok()?,
        encoding,
        clock_rate,
        channels,
    })
}

impl Sdp {
    /// Parse a SIP body; a body that is not UTF-8 is a syntax error.
    pub fn parse_bytes(body: &[u8]) -> Result<Sdp, SdpError> {
        let text = std::str::from_utf8(body).map_err(|e| syntax(0, format!("not UTF-8: {e}")))?;
        Sdp::parse(text)
    }

    /// Parse a session description. Unknown line types and attributes are ignored.
    pub fn parse(text: &str) -> Result<Sdp, SdpError> {
        let mut sdp = Sdp {
            origin: None,
            session_name: String::new(),
            connection: None,
            direction: None,
            media: Vec::new(),
        };
        let mut saw_v = false;
        for (i, raw) in text.lines().enumerate() {
            let n = i + 1;
            let l = raw.trim_end_matches('\r').trim();
            if l.is_empty() {
                continue;
            }
            let Some((t, v)) = l.split_once('=') else {
                return Err(syntax(n, "expected <type>=<value>"));
            };
            if t.len() != 1 {
                return Err(syntax(n, format!("bad line type `{t}`")));
            }
            match t {
                "v" => {
                    if v.trim() != "0" {
                        return Err(syntax(n, format!("unsupported version `{v}`")));
                    }
                    saw_v = true;
                }
                "o" => {
                    let f: Vec<&str> = v.split_ascii_whitespace().collect();
                    if let [user, id, ver, _net, at, addr, ..] = f.as_slice() {
                        sdp.origin = Some(Origin {
                            username: user.to_string(),
                            session_id: id.to_string(),
                            session_version: ver.to_string(),
                            addr_type: at.to_string(),
                            address: addr.to_string(),
                        });
                    }
                    // A malformed o= does not stop the call: nothing we negotiate depends on it.
                }
                "s" => sdp.session_name = v.to_string(),
                "c" => {
                    let c = parse_connection(n, v)?;
                    match sdp.media.last_mut() {
                        Some(m) => m.connection = Some(c),
                        None => sdp.connection = Some(c),
                    }
                }
                "m" => sdp.media.push(parse_media(n, v)?),
                "a" => {
                    let (name, value) = match v.split_once(':') {
                        Some((a, b)) => (a.trim(), Some(b)),
                        None => (v.trim(), None),
                    };
                    let m = sdp.media.last_mut();
                    if let Some(d) = Direction::from_attr(name) {
                        match m {
                            Some(m) => m.direction = Some(d),
                            None => sdp.direction = Some(d),
                        }
                        continue;
                    }
                    let (Some(m), Some(value)) = (m, value) else {
                        continue;
                    };
                    match name {
                        "rtpmap" => {
                            let r = parse_rtpmap(value)
                                .ok_or_else(|| syntax(n, format!("bad rtpmap `{value}`")))?;
                            m.rtpmaps.push(r);
                        }
                        "fmtp" => {
                            if let Some((pt, params)) = value.trim().split_once(char::is_whitespace)
                            {
                                if let Ok(pt) = pt.parse() {
                                    m.fmtps.push((pt, params.trim().to_string()));
                                }
                            }
                        }
                        "ptime" => m.ptime = value.trim().parse().ok(),
                        _ => {}
                    }
                }
                _ => {}
            }
        }
        if !saw_v {
            return Err(SdpError::Missing("v"));
        }
        Ok(sdp)
    }
}

/// Negotiate like [`negotiate`], also returning the index of the chosen `m=` line (for
/// [`build_answer_to`], which must answer every `m=` line of the offer).
pub fn negotiate_index(sdp: &Sdp) -> Result<(usize, Negotiated), SdpError> {
    let mut saw_audio = false;
    let mut saw_ipv6 = false;
    let mut saw_no_conn = false;
    for (idx, m) in sdp.media.iter().enumerate() {
        if m.media != "audio" || m.port == 0 || !m.is_rtp_avp() {
            continue;
        }
        saw_audio = true;
        let Some(conn) = m.connection.as_ref().or(sdp.connection.as_ref()) else {
            saw_no_conn = true;
            continue;
        };
        if conn.is_ipv6() {
            saw_ipv6 = true;
            continue;
        }
        let Some(ip @ IpAddr::V4(_)) = conn.ip else {
            saw_no_conn = true;
            continue;
        };
        let codec = m.formats.iter().find_map(|f| {
            let pt: u8 = f.parse().ok()?;
            let codec = match m.rtpmap(pt) {
                Some(r) if r.clock_rate == 8000 && r.channels.unwrap_or(1) == 1 => {
                    if r.encoding.eq_ignore_ascii_case("PCMU") {
                        Codec::Pcmu
                    } else if r.encoding.eq_ignore_ascii_case("PCMA") {
                        Codec::Pcma
                    } else if r.encoding.eq_ignore_ascii_case("G722") {
                        Codec::G722
                    } else {
                        return None;
                    }
                }
                Some(_) => return None,
                None if pt == 0 => Codec::Pcmu,
                None if pt == 8 => Codec::Pcma,
                None if pt == 9 => Codec::G722,
                None => return None,
            };
            Some((codec, pt))
        });
        let Some((codec, payload_type)) = codec else {
            continue;
        };
        let telephone_event = m.formats.iter().find_map(|f| {
            let pt: u8 = f.parse().ok()?;
            let r = m.rtpmap(pt)?;
            ((96..=127).contains(&pt)
                && r.encoding.eq_ignore_ascii_case("telephone-event")
                && r.clock_rate == 8000)
                .then_some(pt)
        });
        return Ok((
            idx,
            Negotiated {
                remote: SocketAddr::new(ip, m.port),
                codec,
                payload_type,
                telephone_event,
                direction: m.direction.or(sdp.direction).unwrap_or_default(),
            },
        ));
    }
    Err(if !saw_audio {
        SdpError::NoAudio
    } else if saw_ipv6 {
        SdpError::Ipv6Only
    } else if saw_no_conn {
        SdpError::NoConnection
    } else {
        SdpError::NoCommonCodec
    })
}

/// Pick the first usable audio stream of an offer (or of an answer to our offer): the first of PCMU/PCMA/G.722
/// in the writer's order, and the telephone-event payload type the writer uses.
pub fn negotiate(sdp: &Sdp) -> Result<Negotiated, SdpError> {
    negotiate_index(sdp).map(|(_, n)| n)
}

fn ip_type(ip: IpAddr) -> &'static str {
    match ip {
        IpAddr::V4(_) => "IP4",
        IpAddr::V6(_) => "IP6",
    }
}

fn session_header(out: &mut String, local_ip: IpAddr, session_id: u64, version: u64) {
    let t = ip_type(local_ip);
    let _ = write!(
        out,
        "v=0\r\no=hotline {session_id} {version} IN {t} {local_ip}\r\ns=hotline\r\nc=IN {t} {local_ip}\r\nt=0 0\r\n"
    );
}

fn answer_audio(out: &mut String, local_port: u16, neg: &Negotiated) {
    let pt = neg.payload_type;
    match neg.telephone_event {
        Some(te) => {
            let _ = write!(out, "m=audio {local_port} RTP/AVP {pt} {te}\r\n");
        }
        None => {
            let _ = write!(out, "m=audio {local_port} RTP/AVP {pt}\r\n");
        }
    }
    let _ = write!(out, "a=rtpmap:{pt} {}/8000\r\n", neg.codec.name());
    if let Some(te) = neg.telephone_event {
        let _ = write!(
            out,
            "a=rtpmap:{te} telephone-event/8000\r\na=fmtp:{te} 0-16\r\n"
        );
    }
    let _ = write!(
        out,
        "a=ptime:20\r\na={}\r\n",
        neg.direction.reverse().as_str()
    );
}

/// Build our answer for a negotiated offer: one audio stream with the offerer's payload types, the reverse of
/// the offered direction.
pub fn build_answer(
    local_ip: IpAddr,
    local_port: u16,
    neg: &Negotiated,
    session_id: u64,
    version: u64,
) -> String {
    let mut out = String::with_capacity(256);
    session_header(&mut out, local_ip, session_id, version);
    answer_audio(&mut out, local_port, neg);
    out
}

/// Like [`build_answer`] but answers every `m=` line of `offer` (RFC 3264 §6): the one at `chosen` (from
/// [`negotiate_index`]) with our audio, the others rejected with port 0.
pub fn build_answer_to(
    offer: &Sdp,
    chosen: usize,
    local_ip: IpAddr,
    local_port: u16,
    neg: &Negotiated,
    session_id: u64,
    version: u64,
) -> String {
    let mut out = String::with_capacity(256);
    session_header(&mut out, local_ip, session_id, version);
    for (i, m) in offer.media.iter().enumerate() {
        if i == chosen {
            answer_audio(&mut out, local_port, neg);
        } else {
            let _ = write!(out, "m={} 0 {}", m.media, m.proto);
            for f in &m.formats {
                let _ = write!(out, " {f}");
            }
            out.push_str("\r\n");
        }
    }
    out
}

/// Build our offer: PCMU, PCMA, G.722 and telephone-event (events 0-16) at `telephone_event_pt`, ptime 20.
/// G.711 comes first so that most phones answer with it and a G.711 call needs no transcoding; a phone that
/// prefers wideband may still pick G.722.
pub fn build_offer(
    local_ip: IpAddr,
    local_port: u16,
    direction: Direction,
    telephone_event_pt: u8,
    session_id: u64,
    version: u64,
) -> String {
    let mut out = String::with_capacity(256);
    session_header(&mut out, local_ip, session_id, version);
    let te = telephone_event_pt;
    let _ = write!(
        out,
        "m=audio {local_port} RTP/AVP 0 8 9 {te}\r\n\
         a=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:8 PCMA/8000\r\n\
         a=rtpmap:9 G722/8000\r\n\
         a=rtpmap:{te} telephone-event/8000\r\n\
         a=fmtp:{te} 0-16\r\n\
         a=ptime:20\r\n\
         a={}\r\n",
        direction.as_str()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = "v=0\r\n\
o=alice 2890844526 2890844526 IN IP4 10.0.0.5\r\n\
s=-\r\n\
c=IN IP4 10.0.0.5\r\n\
t=0 0\r\n\
m=audio 49170 RTP/AVP 8 0 18 96\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:18 G729/8000\r\n\
a=rtpmap:96 telephone-event/8000\r\n\
a=fmtp:96 0-15\r\n\
a=ptime:20\r\n\
a=sendrecv\r\n";

    #[test]
    fn parse_basic() {
        let s = Sdp::parse(OFFER).unwrap();
        assert_eq!(s.origin.as_ref().unwrap().username, "alice");
        assert_eq!(s.session_name, "-");
        assert_eq!(
            s.connection.as_ref().unwrap().ip,
            Some("10.0.0.5".parse().unwrap())
        );
        let m = &s.media[0];
        assert_eq!(m.port, 49170);
        assert_eq!(m.formats, vec!["8", "0", "18", "96"]);
        assert_eq!(m.rtpmap(96).unwrap().encoding, "telephone-event");
        assert_eq!(m.fmtp(96), Some("0-15"));
        assert_eq!(m.ptime, Some(20));
        assert_eq!(m.direction, Some(Direction::SendRecv));
    }

    #[test]
    fn negotiate_prefers_offerer_order_and_its_te_pt() {
        let n = negotiate(&Sdp::parse(OFFER).unwrap()).unwrap();
        assert_eq!(n.codec, Codec::Pcma);
        assert_eq!(n.payload_type, 8);
        assert_eq!(n.telephone_event, Some(96));
        assert_eq!(n.remote, "10.0.0.5:49170".parse().unwrap());
        assert_eq!(n.direction, Direction::SendRecv);
        assert!(!n.is_hold());

        let o = OFFER.replace("8 0 18 96", "18 0 8 96");
        let n = negotiate(&Sdp::parse(&o).unwrap()).unwrap();
        assert_eq!(n.codec, Codec::Pcmu);
        assert_eq!(n.payload_type, 0);
    }

    #[test]
    fn g722_is_negotiated_in_the_offerers_order() {
        let o = OFFER.replace("8 0 18 96", "9 0 96") + "a=rtpmap:9 G722/8000\r\n";
        let n = negotiate(&Sdp::parse(&o).unwrap()).unwrap();
        assert_eq!((n.codec, n.payload_type), (Codec::G722, 9));
        let a = build_answer("10.0.0.1".parse().unwrap(), 4000, &n, 1, 1);
        assert!(
            a.contains("m=audio 4000 RTP/AVP 9 96\r\na=rtpmap:9 G722/8000\r\n"),
            "{a}"
        );
        // Static payload type 9 without an rtpmap is G.722 too (RFC 3551).
        let o = "v=0\r\nc=IN IP4 1.1.1.1\r\nm=audio 5000 RTP/AVP 9\r\n";
        assert_eq!(
            negotiate(&Sdp::parse(o).unwrap()).unwrap().codec,
            Codec::G722
        );
    }

    #[test]
    fn te_pt_is_whatever_the_offer_uses() {
        let o = "v=0\nc=IN IP4 1.2.3.4\nm=audio 4000 RTP/AVP 0 127\na=rtpmap:127 telephone-event/8000\n";
        let n = negotiate(&Sdp::parse(o).unwrap()).unwrap();
        assert_eq!(n.telephone_event, Some(127));
        // Static PTs without rtpmap are fine; telephone-event outside 96..127 or at 16 kHz is ignored.
        let o = "v=0\nc=IN IP4 1.2.3.4\nm=audio 4000 RTP/AVP 0 95 100\na=rtpmap:95 telephone-event/8000\na=rtpmap:100 telephone-event/16000\n";
        let n = negotiate(&Sdp::parse(o).unwrap()).unwrap();
        assert_eq!((n.codec, n.telephone_event), (Codec::Pcmu, None));
    }

    #[test]
    fn media_level_connection_wins_and_direction() {
        let o = "v=0\r\nc=IN IP4 1.1.1.1\r\na=recvonly\r\nm=audio 5000 RTP/AVP 0\r\nc=IN IP4 2.2.2.2\r\nm=audio 6000 RTP/AVP 8\r\n";
        let s = Sdp::parse(o).unwrap();
        assert_eq!(s.media[1].connection, None);
        let n = negotiate(&s).unwrap();
        assert_eq!(n.remote, "2.2.2.2:5000".parse().unwrap());
        assert_eq!(n.direction, Direction::RecvOnly);
        let o = "v=0\r\nc=IN IP4 1.1.1.1\r\nm=audio 5000 RTP/AVP 0\r\na=sendonly\r\n";
        let n = negotiate(&Sdp::parse(o).unwrap()).unwrap();
        assert_eq!(n.direction, Direction::SendOnly);
        assert!(n.is_hold());
        let o = "v=0\r\nc=IN IP4 1.1.1.1\r\nm=audio 5000 RTP/AVP 0\r\na=inactive\r\n";
        assert!(negotiate(&Sdp::parse(o).unwrap()).unwrap().is_hold());
    }

    #[test]
    fn hold_with_zero_address() {
        let o = "v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 5000 RTP/AVP 0\r\n";
        let n = negotiate(&Sdp::parse(o).unwrap()).unwrap();
        assert!(n.is_hold());
        assert_eq!(n.direction, Direction::SendRecv);
    }

    #[test]
    fn ipv6() {
        let o = "v=0\r\nc=IN IP6 2001:db8::1\r\nm=audio 5000 RTP/AVP 0\r\n";
        let s = Sdp::parse(o).unwrap();
        let c = s.connection.as_ref().unwrap();
        assert!(c.is_ipv6());
        assert_eq!(c.ip, Some("2001:db8::1".parse().unwrap()));
        assert_eq!(negotiate(&s), Err(SdpError::Ipv6Only));
        // An IPv4 stream after an IPv6 one is used.
        let o = "v=0\r\nm=audio 5000 RTP/AVP 0\r\nc=IN IP6 ::1\r\nm=audio 5002 RTP/AVP 0\r\nc=IN IP4 9.9.9.9\r\n";
        let (i, n) = negotiate_index(&Sdp::parse(o).unwrap()).unwrap();
        assert_eq!((i, n.remote), (1, "9.9.9.9:5002".parse().unwrap()));
    }

    #[test]
    fn errors() {
        let e = |o: &str| negotiate(&Sdp::parse(o).unwrap()).unwrap_err();
        assert_eq!(
            e("v=0\r\nc=IN IP4 1.1.1.1\r\nm=audio 5000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n"),
            SdpError::NoCommonCodec
        );
        assert_eq!(
            e("v=0\r\nc=IN IP4 1.1.1.1\r\nm=video 5000 RTP/AVP 31\r\n"),
            SdpError::NoAudio
        );
        assert_eq!(
            e("v=0\r\nc=IN IP4 1.1.1.1\r\nm=audio 0 RTP/AVP 0\r\n"),
            SdpError::NoAudio
        );
        assert_eq!(
            e("v=0\r\nc=IN IP4 1.1.1.1\r\nm=audio 5000 RTP/SAVP 0\r\n"),
            SdpError::NoAudio
        );
        assert_eq!(
            e("v=0\r\nm=audio 5000 RTP/AVP 0\r\n"),
            SdpError::NoConnection
        );
        // PCMU under a dynamic PT but at the wrong rate is not PCMU.
        assert_eq!(
            e("v=0\r\nc=IN IP4 1.1.1.1\r\nm=audio 5000 RTP/AVP 97\r\na=rtpmap:97 PCMU/16000\r\n"),
            SdpError::NoCommonCodec
        );
        assert!(matches!(
            Sdp::parse("garbage"),
            Err(SdpError::Syntax { line: 1, .. })
        ));
        assert!(matches!(
            Sdp::parse("v=0\r\nm=audio x RTP/AVP 0"),
            Err(SdpError::Syntax { line: 2, .. })
        ));
        assert!(matches!(
            Sdp::parse("v=0\nc=IN"),
            Err(SdpError::Syntax { .. })
        ));
        assert!(Sdp::parse("v=0\na=rtpmap:x").is_ok());
        assert!(matches!(
            Sdp::parse("v=0\nm=audio 1 RTP/AVP 0\na=rtpmap:zz"),
            Err(SdpError::Syntax { .. })
        ));
        assert_eq!(Sdp::parse("s=x"), Err(SdpError::Missing("v")));
        assert!(Sdp::parse_bytes(&[b'v', b'=', 0xff]).is_err());
        assert!(Sdp::parse_bytes(b"v=0\r\n").is_ok());
        assert!(matches!(
            Sdp::parse("v=0\r\nxy=1"),
            Err(SdpError::Syntax { .. })
        ));
        assert!(Sdp::parse("v=0\r\nm=audio 1/2 RTP/AVP 0\r\n").is_ok());
        assert!(Sdp::parse("v=0\r\nm=audio 70000 RTP/AVP 0\r\n").is_err());
    }

    #[test]
    fn answer_roundtrips() {
        let n = negotiate(&Sdp::parse(OFFER).unwrap()).unwrap();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let a = build_answer(ip, 30000, &n, 42, 1);
        assert!(a.starts_with("v=0\r\no=hotline 42 1 IN IP4 192.0.2.1\r\n"));
        assert!(a.contains("m=audio 30000 RTP/AVP 8 96\r\n"));
        assert!(a.contains("a=rtpmap:96 telephone-event/8000\r\n"));
        assert!(a.ends_with("a=sendrecv\r\n"));
        let back = negotiate(&Sdp::parse(&a).unwrap()).unwrap();
        assert_eq!(back.remote, "192.0.2.1:30000".parse().unwrap());
        assert_eq!(
            (back.codec, back.payload_type, back.telephone_event),
            (Codec::Pcma, 8, Some(96))
        );

        let held = Negotiated {
            direction: Direction::SendOnly,
            telephone_event: None,
            ..n
        };
        let a = build_answer(ip, 30000, &held, 42, 2);
        assert!(a.contains("a=recvonly\r\n"));
        assert!(a.contains("m=audio 30000 RTP/AVP 8\r\n"));
        assert!(!a.contains("telephone-event"));
    }

    #[test]
    fn answer_to_rejects_other_streams() {
        let o = "v=0\r\nc=IN IP4 1.1.1.1\r\nm=video 5002 RTP/AVP 31\r\nm=audio 5000 RTP/AVP 0\r\n";
        let s = Sdp::parse(o).unwrap();
        let (i, n) = negotiate_index(&s).unwrap();
        let a = build_answer_to(&s, i, "10.1.1.1".parse().unwrap(), 4000, &n, 1, 1);
        let ms: Vec<&str> = a.lines().filter(|l| l.starts_with("m=")).collect();
        assert_eq!(ms, vec!["m=video 0 RTP/AVP 31", "m=audio 4000 RTP/AVP 0"]);
    }

    #[test]
    fn offer() {
        let o = build_offer(
            "10.0.0.1".parse().unwrap(),
            20000,
            Direction::SendRecv,
            101,
            7,
            3,
        );
        let s = Sdp::parse(&o).unwrap();
        let m = &s.media[0];
        assert_eq!(m.formats, vec!["0", "8", "9", "101"]);
        assert_eq!(m.rtpmap(9).map(|r| r.encoding.as_str()), Some("G722"));
        assert_eq!(m.fmtp(101), Some("0-16"));
        assert_eq!(m.ptime, Some(20));
        let n = negotiate(&s).unwrap();
        assert_eq!((n.codec, n.telephone_event), (Codec::Pcmu, Some(101)));
        let o6 = build_offer(
            "::1".parse().unwrap(),
            20000,
            Direction::Inactive,
            101,
            7,
            3,
        );
        assert!(o6.contains("c=IN IP6 ::1\r\n"));
        assert!(o6.contains("a=inactive\r\n"));
    }
}
