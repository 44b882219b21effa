//! Early request checks (RFC 3261 §8.2, §16.3) shared by the transaction layer and the torture test.

use crate::msg::{parse_lenient, Method, Request, Response, Scheme, SipMessage};

/// What this element supports; drives 501/420/415/406/483.
#[derive(Debug, Clone)]
pub struct Capabilities {
    /// Methods answered normally; others get 501 with `Allow`.
    pub allow: Vec<Method>,
    /// Option tags we support (Require/Proxy-Require).
    pub supported: Vec<String>,
    /// Body media types we accept (415 with `Accept` otherwise).
    pub accept: Vec<String>,
    /// Hosts (domains/IPs) that are "us". Empty: every request is for us, so Max-Forwards: 0 is
    /// never a 483 (a B2BUA terminates the request).
    pub local_hosts: Vec<String>,
}

impl Default for Capabilities {
    fn default() -> Self {
        Capabilities {
            allow: vec![
                Method::Invite,
                Method::Ack,
                Method::Bye,
                Method::Cancel,
                Method::Options,
                Method::Register,
                Method::Info,
                Method::Update,
                Method::Refer,
                Method::Notify,
                Method::Message,
                Method::Prack,
            ],
            supported: vec!["replaces".into(), "timer".into(), "path".into()],
            accept: vec![
                "application/sdp".into(),
                "application/dtmf-relay".into(),
                "application/dtmf".into(),
                "message/sipfrag".into(),
                "text/plain".into(),
                "multipart/mixed".into(),
            ],
            local_hosts: Vec::new(),
        }
    }
}

impl Capabilities {
    pub fn allow_header(&self) -> String {
        self.allow
            .iter()
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn allows(&self, m: &Method) -> bool {
        self.allow.contains(m)
    }
}

fn respond(req: &Request, status: u16, reason: &str) -> Response {
    Response::to_request(req, status, reason)
}

/// Early answer for a parsed request, or `None` when it may proceed. ACK is never answered.
pub fn check_request(req: &Request, caps: &Capabilities) -> Option<Response> {
    if req.method == Method::Ack {
        return None;
    }
    // Mandatory headers (§8.1.1); Max-Forwards is tolerated missing for RFC 2543 peers.
    for name in ["Via", "To", "From", "Call-ID", "CSeq"] {
        if req.headers.get(name).is_none() {
            return Some(respond(req, 400, &format!("Bad Request (missing {name})")));
        }
    }
    for name in [
        "To",
        "From",
        "Call-ID",
        "CSeq",
        "Max-Forwards",
        "Content-Length",
    ] {
        if req.headers.count(name) > 1 {
            return Some(respond(
                req,
                400,
                &format!("Bad Request (duplicate {name})"),
            ));
        }
    }
    if req.from().is_none() || req.to().is_none() || req.top_via().is_none() {
        return Some(respond(req, 400, "Bad Request"));
    }
    let method_ok = caps.allows(&req.method) || req.method == Method::Cancel;
    let Some((_, cseq_method)) = req.cseq() else {
        return Some(respond(req, 400, "Bad Request (CSeq)"));
    };
    if !method_ok {
        // Unknown method: 501 even when CSeq disagrees (RFC 4475 §3.1.2.18).
        let mut r = respond(req, 501, "Not Implemented");
        r.headers.set("Allow", caps.allow_header());
        return Some(r);
    }
    if cseq_method != req.method {
        return Some(respond(req, 400, "Bad Request (CSeq method mismatch)"));
    }
    if !matches!(req.uri.scheme, Scheme::Sip | Scheme::Sips) {
        return Some(respond(req, 416, "Unsupported URI Scheme"));
    }
    if req.method != Method::Cancel {
        let unsupported: Vec<&str> = req
            .headers
            .get_all("Require")
            .chain(req.headers.get_all("Proxy-Require"))
            .filter(|t| !caps.supported.iter().any(|s| s.eq_ignore_ascii_case(t)))
            .collect();
        if !unsupported.is_empty() {
            let mut r = respond(req, 420, "Bad Extension");
            r.headers.set("Unsupported", unsupported.join(", "));
            return Some(r);
        }
    }
    if req.max_forwards() == Some(0) && !is_for_us(req, caps) {
        return Some(respond(req, 483, "Too Many Hops"));
    }
    if !req.body.is_empty() {
        let ct = req.content_type().unwrap_or("").to_ascii_lowercase();
        if !caps.accept.iter().any(|a| a.eq_ignore_ascii_case(&ct)) {
            let mut r = respond(req, 415, "Unsupported Media Type");
            r.headers.set("Accept", caps.accept.join(", "));
            return Some(r);
        }
    }
    if req.method == Method::Invite && req.headers.get("Accept").is_some() {
        let sdp_ok = req.headers.get_all("Accept").any(|a| {
            let t = a.split(';').next().unwrap_or(a).trim().to_ascii_lowercase();
            matches!(t.as_str(), "application/sdp" | "application/*" | "*/*")
        });
        if !sdp_ok {
            let mut r = respond(req, 406, "Not Acceptable");
            r.headers.set("Accept", "application/sdp");
            return Some(r);
        }
    }
    None
}

fn is_for_us(req: &Request, caps: &Capabilities) -> bool {
    caps.local_hosts.is_empty()
        || caps
            .local_hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(req.uri.host_unbracketed()) || *h == req.uri.host)
}

/// The reaction to one datagram, before any transaction matching.
#[derive(Debug, Clone)]
pub enum Reaction {
    /// Answer with this response (400, 505, 416, 420, 501…).
    Respond(Response),
    /// Drop silently (unparsable, or a broken response).
    Drop,
    /// Well-formed: hand it to the transaction layer / TU.
    Accept(SipMessage),
}

/// Parses a datagram and applies [`check_request`]. Used by [`crate::transaction::TransactionLayer`].
pub fn react(bytes: &[u8], caps: Option<&Capabilities>) -> Reaction {
    match parse_lenient(bytes) {
        Err(_) => Reaction::Drop,
        Ok((SipMessage::Response(_), Some(_))) => Reaction::Drop,
        Ok((SipMessage::Request(req), Some(e))) => {
            if req.method == Method::Ack {
                return Reaction::Drop;
            }
            match error_response(&req, e.status(), &e.reason()) {
                Some(r) => Reaction::Respond(r),
                None => Reaction::Drop,
            }
        }
        Ok((SipMessage::Request(req), None)) => match caps.and_then(|c| check_request(&req, c)) {
            Some(r) => Reaction::Respond(r),
            None => Reaction::Accept(SipMessage::Request(req)),
        },
        Ok((msg @ SipMessage::Response(_), None)) => Reaction::Accept(msg),
    }
}

/// An error response for a request that failed validation, or `None` when it lacks what any response
/// needs (a Via to route it by).
pub(crate) fn error_response(req: &Request, status: u16, reason: &str) -> Option<Response> {
    req.headers.get("Via")?;
    Some(respond(req, status, reason))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::parse_datagram;

    fn req(s: &str) -> Request {
        match parse_datagram(s.as_bytes()).unwrap() {
            SipMessage::Request(r) => r,
            SipMessage::Response(_) => panic!("response"),
        }
    }

    const BASE: &str = "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:a@b>\r\nFrom: <sip:c@d>;tag=1\r\nCall-ID: x\r\nMax-Forwards: 0\r\n";

    #[test]
    fn max_forwards_zero() {
        let r = req(&format!(
            "OPTIONS sip:a@b SIP/2.0\r\n{BASE}CSeq: 1 OPTIONS\r\n\r\n"
        ));
        assert!(check_request(&r, &Capabilities::default()).is_none());
        let caps = Capabilities {
            local_hosts: vec!["example.com".into()],
            ..Capabilities::default()
        };
        assert_eq!(check_request(&r, &caps).unwrap().status, 483);
    }

    #[test]
    fn unknown_method_gets_allow() {
        let r = req(&format!("FOO sip:a@b SIP/2.0\r\n{BASE}CSeq: 1 FOO\r\n\r\n"));
        let resp = check_request(&r, &Capabilities::default()).unwrap();
        assert_eq!(resp.status, 501);
        assert!(resp.headers.get("Allow").unwrap().contains("INVITE"));
    }
}
