//! Building the SIP requests and responses the switch sends as a B2BUA. Kept apart from call control so
//! the call task reads as decisions, not header plumbing.

use std::net::SocketAddr;

use hotline_sip::msg::{Method, Request, Response};
use hotline_sip::registrar::Binding;
use hotline_sip::util::{new_branch, new_call_id, new_tag};
use hotline_sip::Transport;

pub const SUPPORTED_METHODS: &str = crate::sip_actor::ALLOW;

/// The SDP offer or answer of a message: its body, or the `application/sdp` part of a `multipart/mixed` body
/// (an INVITE carrying a PIDF-LO location, RFC 6442). `content_type` is the raw header value, parameters
/// included (the boundary): `Request::content_type()` drops them.
pub fn sdp_of(content_type: Option<&str>, body: &[u8]) -> Option<hotline_media::Sdp> {
    let ct = content_type.unwrap_or("application/sdp");
    let media = hotline_sip::geo::media_type(ct);
    let sdp = if media.starts_with("multipart/") {
        let parts = hotline_sip::geo::parse_multipart(ct, body).ok()?;
        parts
            .into_iter()
            .find(|p| {
                p.content_type()
                    .is_some_and(|t| hotline_sip::geo::media_type(&t) == "application/sdp")
            })?
            .body
    } else {
        body
    };
    hotline_media::Sdp::parse_bytes(sdp).ok()
}

pub fn transport_token(t: Transport) -> &'static str {
    match t {
        Transport::Udp => "UDP",
        Transport::Tcp => "TCP",
    }
}

pub fn via(local: SocketAddr, transport: Transport) -> String {
    format!(
        "SIP/2.0/{} {};branch={};rport",
        transport_token(transport),
        local,
        new_branch()
    )
}

pub fn contact(user: &str, local: SocketAddr, transport: Transport) -> String {
    match transport {
        Transport::Udp => format!("<sip:{user}@{local}>"),
        Transport::Tcp => format!("<sip:{user}@{local};transport=tcp>"),
    }
}

/// 200 OK to the caller's INVITE, with our tag, Contact and SDP.
pub fn answer_invite(invite: &Request, to_tag: &str, contact_hdr: &str, sdp: &str) -> Response {
    let mut resp = Response::to_request(invite, 200, "OK");
    set_to_tag(&mut resp, to_tag);
    resp.headers.push("Contact", contact_hdr);
    resp.headers.push("Allow", SUPPORTED_METHODS);
    resp.headers.push("Content-Type", "application/sdp");
    resp.body = sdp.as_bytes().to_vec();
    resp
}

/// Adds a To tag unless the request already carried one (in-dialog).
pub fn set_to_tag(resp: &mut Response, tag: &str) {
    if let Some(to) = resp.headers.get("To").map(|s| s.to_string()) {
        if !to.contains(";tag=") {
            resp.headers.set("To", format!("{to};tag={tag}"));
        }
    }
}

/// A non-2xx or plain response with our To tag, for requests inside a dialog we own.
pub fn reply(req: &Request, status: u16, reason: &str, to_tag: &str) -> Response {
    let mut resp = Response::to_request(req, status, reason);
    set_to_tag(&mut resp, to_tag);
    resp
}

/// The INVITE that rings an agent: the caller's number in From, a fresh Call-ID.
pub struct AgentInvite {
    pub req: Request,
    pub call_id: String,
}

/// Where requests to a registered phone go: its Contact when it registered from that very address (no NAT
/// in between), otherwise the address the REGISTER came from; over TCP always the connection's source.
pub fn reach(binding: &Binding) -> SocketAddr {
    if binding.transport == Transport::Tcp {
        return binding.source;
    }
    let contact_ip: Option<std::net::IpAddr> = binding.contact.host_unbracketed().parse().ok();
    match contact_ip {
        Some(ip) if ip == binding.source.ip() => {
            SocketAddr::new(ip, binding.contact.port.unwrap_or(5060))
        }
        _ => binding.source,
    }
}

/// Who an out-of-dialog request is from and to, and where it goes.
pub struct OutOfDialog<'a> {
    pub target: &'a str,
    pub from_user: &'a str,
    pub to_user: &'a str,
    pub domain: &'a str,
    pub local: SocketAddr,
    pub transport: Transport,
}

/// A new out-of-dialog request with a fresh Call-ID, From tag and branch.
pub fn out_of_dialog(
    method: Method,
    p: &OutOfDialog<'_>,
) -> Result<(Request, String), hotline_sip::msg::ParseError> {
    let uri = p.target.parse()?;
    let call_id = new_call_id(Some(&p.local.ip().to_string()));
    let mut req = Request::new(method.clone(), uri);
    req.headers.push("Via", via(p.local, p.transport));
    req.headers.push("Max-Forwards", "70");
    let (from_user, domain) = (p.from_user, p.domain);
    req.headers.push(
        "From",
        format!(
            "\"{from_user}\" <sip:{from_user}@{domain}>;tag={}",
            new_tag()
        ),
    );
    req.headers
        .push("To", format!("<sip:{}@{}>", p.to_user, p.domain));
    req.headers.push("Call-ID", &call_id);
    req.headers.push("CSeq", format!("1 {}", method.as_str()));
    Ok((req, call_id))
}

/// An out-of-dialog INVITE with our SDP offer, a Contact for `contact_user` and our Allow list: every leg the
/// switch originates (agents, call-backs, third parties, emergency contacts). Returns it with its Call-ID.
pub fn offer_invite(
    p: &OutOfDialog<'_>,
    contact_user: &str,
    sdp: &str,
) -> Result<(Request, String), hotline_sip::msg::ParseError> {
    let (mut req, call_id) = out_of_dialog(Method::Invite, p)?;
    req.headers
        .push("Contact", contact(contact_user, p.local, p.transport));
    req.headers.push("Allow", SUPPORTED_METHODS);
    req.headers.push("Content-Type", "application/sdp");
    req.body = sdp.as_bytes().to_vec();
    Ok((req, call_id))
}

#[allow(clippy::too_many_arguments)]
pub fn agent_invite(
    target: &str,
    agent: &str,
    caller_number: &str,
    domain: &str,
    local: SocketAddr,
    transport: Transport,
    line_number: &str,
    sdp: &str,
) -> Result<AgentInvite, hotline_sip::msg::ParseError> {
    let (req, call_id) = offer_invite(
        &OutOfDialog {
            target,
            from_user: caller_number,
            to_user: agent,
            domain,
            local,
            transport,
        },
        line_number,
        sdp,
    )?;
    Ok(AgentInvite { req, call_id })
}

/// The keep-alive OPTIONS sent to a registered phone (`sip.options_keepalive_secs`).
pub fn keepalive_options(
    binding: &Binding,
    user: &str,
    domain: &str,
    local: SocketAddr,
) -> Result<Request, hotline_sip::msg::ParseError> {
    let target = binding.contact.to_string();
    let (mut req, _) = out_of_dialog(
        Method::Options,
        &OutOfDialog {
            target: &target,
            from_user: "hotline",
            to_user: user,
            domain,
            local,
            transport: binding.transport,
        },
    )?;
    req.headers.push("Accept", "application/sdp");
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_sip::msg::{parse_datagram, SipMessage};

    #[test]
    fn agent_invite_carries_caller_number_and_parses_back() {
        let local: SocketAddr = "127.0.0.1:5060".parse().unwrap();
        let built = agent_invite(
            "sip:1001@127.0.0.1:6002",
            "1001",
            "13800000001",
            "hotline.local",
            local,
            Transport::Udp,
            "12345",
            "v=0\r\n",
        )
        .expect("valid contact");
        let bytes = built.req.to_bytes();
        let Ok(SipMessage::Request(req)) = parse_datagram(&bytes) else {
            panic!("our own INVITE must parse");
        };
        assert_eq!(req.method, Method::Invite);
        let from = req.from().expect("From");
        assert_eq!(from.uri.user.as_deref(), Some("13800000001"));
        assert!(from.tag().is_some());
        assert_eq!(req.call_id(), Some(built.call_id.as_str()));
        assert!(req
            .top_via()
            .and_then(|v| v.branch)
            .is_some_and(|b| b.starts_with("z9hG4bK")));
        assert_eq!(req.body, b"v=0\r\n");
    }

    #[test]
    fn sdp_found_in_a_multipart_body_with_a_location() {
        let body = "--b1\r\nContent-Type: application/sdp\r\n\r\nv=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\n\r\n--b1\r\nContent-Type: application/pidf+xml\r\nContent-ID: <loc@x>\r\n\r\n<presence/>\r\n--b1--\r\n";
        let sdp = sdp_of(Some("multipart/mixed; boundary=b1"), body.as_bytes()).expect("sdp part");
        assert_eq!(sdp.media[0].port, 4000);
        let plain = "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4002 RTP/AVP 0\r\n";
        assert_eq!(sdp_of(None, plain.as_bytes()).unwrap().media[0].port, 4002);
        assert!(sdp_of(Some("multipart/mixed; boundary=b1"), b"junk").is_none());
    }

    #[test]
    fn sdp_of_a_parsed_invite_with_a_location() {
        let body = "--b1\r\nContent-Type: application/sdp\r\n\r\nv=0\r\nc=IN IP4 10.0.0.1\r\n\
m=audio 4000 RTP/AVP 0\r\n\r\n--b1--\r\n";
        let raw = format!(
            "INVITE sip:96120@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5206;branch=z9hG4bK-1\r\n\
From: <sip:1@127.0.0.1>;tag=1\r\nTo: <sip:96120@127.0.0.1>\r\nCall-ID: 1@x\r\nCSeq: 1 INVITE\r\n\
Max-Forwards: 70\r\nContent-Type: multipart/mixed; boundary=b1\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let Ok(hotline_sip::SipMessage::Request(req)) = hotline_sip::parse_datagram(raw.as_bytes())
        else {
            panic!("test INVITE does not parse");
        };
        // `content_type()` is the bare media type: the boundary must come from the header itself.
        assert_eq!(req.content_type(), Some("multipart/mixed"));
        let sdp = sdp_of(req.headers.get("Content-Type"), &req.body).expect("sdp part");
        assert_eq!(sdp.media[0].port, 4000);
    }

    #[test]
    fn to_tag_added_once() {
        let raw = b"BYE sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\nFrom: <sip:b@x>;tag=1\r\nTo: <sip:a@x>\r\nCall-ID: c\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n";
        let Ok(SipMessage::Request(req)) = parse_datagram(raw) else {
            panic!("parse");
        };
        let mut resp = reply(&req, 200, "OK", "abc");
        assert_eq!(
            resp.to()
                .and_then(|t| t.tag().map(str::to_string))
                .as_deref(),
            Some("abc")
        );
        set_to_tag(&mut resp, "zzz");
        assert_eq!(
            resp.to()
                .and_then(|t| t.tag().map(str::to_string))
                .as_deref(),
            Some("abc")
        );
    }

    fn binding(contact: &str, source: &str, transport: Transport) -> Binding {
        Binding {
            contact: contact.parse().expect("contact"),
            source: source.parse().expect("source"),
            transport,
            expires_at: std::time::Instant::now(),
            call_id: "c".into(),
            cseq: 1,
        }
    }

    #[test]
    fn contact_used_when_it_names_the_source_ip() {
        // SIPp and desk phones may register from one port and listen on another.
        let b = binding("sip:1001@127.0.0.1:6002", "127.0.0.1:5202", Transport::Udp);
        assert_eq!(reach(&b), "127.0.0.1:6002".parse().unwrap());
        let b = binding("sip:1001@127.0.0.1", "127.0.0.1:5202", Transport::Udp);
        assert_eq!(reach(&b), "127.0.0.1:5060".parse().unwrap());
    }

    #[test]
    fn source_used_behind_nat_for_hostnames_and_tcp() {
        let b = binding(
            "sip:1001@192.168.1.20:5060",
            "127.0.0.5:40000",
            Transport::Udp,
        );
        assert_eq!(reach(&b), "127.0.0.5:40000".parse().unwrap());
        let b = binding(
            "sip:1001@phone.example.com",
            "127.0.0.5:40000",
            Transport::Udp,
        );
        assert_eq!(reach(&b), "127.0.0.5:40000".parse().unwrap());
        let b = binding("sip:1001@127.0.0.1:6002", "127.0.0.1:41000", Transport::Tcp);
        assert_eq!(reach(&b), "127.0.0.1:41000".parse().unwrap());
    }
}
