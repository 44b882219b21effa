//! Dialog state (RFC 3261 §12) for UAC and UAS, and helpers to build requests a B2BUA needs.

use crate::msg::{Message, Method, NameAddr, Request, Response, SipUri, Via};
use crate::Transport;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    pub call_id: String,
    pub local_tag: String,
    pub remote_tag: String,
    /// Our From (as UAC) / To (as UAS) value, tag included.
    pub local: NameAddr,
    pub remote: NameAddr,
    pub remote_target: SipUri,
    /// Route set in the order requests carry it.
    pub route_set: Vec<NameAddr>,
    /// Last CSeq we used (the next request uses +1).
    pub local_cseq: u32,
    pub remote_cseq: Option<u32>,
    /// When set, `new_request` and `ack` add a top Via with a fresh branch and `rport`.
    pub via: Option<(String, Transport)>,
    /// When set, INVITE/UPDATE/re-INVITE requests carry this Contact.
    pub local_contact: Option<SipUri>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DialogError {
    #[error("cannot form a dialog: missing Call-ID, tag or Contact")]
    Incomplete,
}

fn first_contact(m: &impl Message) -> Option<SipUri> {
    m.contacts().into_iter().next().map(|c| c.uri)
}

impl Dialog {
    /// UAS side from the INVITE received and our 2xx (or 1xx with To tag) to it.
    pub fn uas(invite: &Request, response: &Response) -> Option<Dialog> {
        let local = response.to()?;
        let remote = invite.from()?;
        Some(Dialog {
            call_id: invite.call_id()?.to_string(),
            local_tag: local.tag()?.to_string(),
            remote_tag: remote.tag().unwrap_or("").to_string(),
            remote_target: first_contact(invite)?,
            route_set: invite.record_routes(),
            local_cseq: 0,
            remote_cseq: invite.cseq().map(|c| c.0),
            local,
            remote,
            via: None,
            local_contact: first_contact(response),
        })
    }

    /// [`Dialog::uas`] with a typed error.
    pub fn new_uas(invite: &Request, response: &Response) -> Result<Dialog, DialogError> {
        Dialog::uas(invite, response).ok_or(DialogError::Incomplete)
    }

    /// [`Dialog::uac`] with a typed error.
    pub fn new_uac(invite: &Request, response: &Response) -> Result<Dialog, DialogError> {
        Dialog::uac(invite, response).ok_or(DialogError::Incomplete)
    }

    /// UAC side from the INVITE we sent and the 2xx (or 1xx with To tag) received.
    pub fn uac(invite: &Request, response: &Response) -> Option<Dialog> {
        let local = invite.from()?;
        let remote = response.to()?;
        let mut route_set = response.record_routes();
        route_set.reverse();
        Some(Dialog {
            call_id: invite.call_id()?.to_string(),
            local_tag: local.tag()?.to_string(),
            remote_tag: remote.tag()?.to_string(),
            remote_target: first_contact(response)?,
            route_set,
            local_cseq: invite.cseq()?.0,
            remote_cseq: None,
            local,
            remote,
            via: invite.top_via().map(|v| (v.sent_by(), transport_of(&v))),
            local_contact: first_contact(invite),
        })
    }

    /// True when `msg` belongs to this dialog (Call-ID and both tags).
    pub fn matches(&self, req: &Request) -> bool {
        req.call_id() == Some(self.call_id.as_str())
            && req
                .to()
                .and_then(|t| t.tag().map(str::to_string))
                .as_deref()
                == Some(self.local_tag.as_str())
            && req
                .from()
                .map(|f| f.tag().unwrap_or("").to_string())
                .as_deref()
                == Some(self.remote_tag.as_str())
    }

    /// Checks and records the CSeq of an in-dialog request from the peer; false when it is lower
    /// than the last one (answer 500, §12.2.2).
    pub fn accept_remote_cseq(&mut self, req: &Request) -> bool {
        let Some((n, m)) = req.cseq() else {
            return false;
        };
        if m == Method::Ack || m == Method::Cancel {
            return true;
        }
        if self.remote_cseq.is_some_and(|r| n <= r) {
            return false;
        }
        self.remote_cseq = Some(n);
        true
    }

    /// Target refresh (re-INVITE, UPDATE, or their 2xx): a new Contact replaces the remote target.
    pub fn update_remote_target(&mut self, msg: &impl Message) {
        if let Some(uri) = first_contact(msg) {
            self.remote_target = uri;
        }
    }

    /// Request-URI and Route headers per §12.2.1.1 (loose and strict routing).
    fn route(&self, req: &mut Request) {
        let loose = self
            .route_set
            .first()
            .is_none_or(|r| r.uri.param("lr").is_some());
        if loose {
            req.uri = self.remote_target.clone();
            for r in &self.route_set {
                req.headers.push("Route", r.to_string());
            }
        } else {
            let mut it = self.route_set.iter();
            if let Some(first) = it.next() {
                let mut uri = first.uri.clone();
                uri.headers.clear();
                req.uri = uri;
            }
            for r in it {
                req.headers.push("Route", r.to_string());
            }
            req.headers.push(
                "Route",
                NameAddr::new(self.remote_target.clone()).to_string(),
            );
        }
    }

    fn base(&self, method: Method, cseq: u32) -> Request {
        let mut req = Request::new(method.clone(), self.remote_target.clone());
        if let Some((host_port, transport)) = &self.via {
            let (host, port) = split_host_port(host_port);
            let via = Via::new(*transport, host, port);
            req.headers.push("Via", via.to_string());
        }
        self.route(&mut req);
        req.headers.push("Max-Forwards", "70");
        req.headers.push("From", self.local.to_string());
        req.headers.push("To", self.remote.to_string());
        req.headers.push("Call-ID", self.call_id.clone());
        req.headers.push("CSeq", format!("{cseq} {method}"));
        req
    }

    /// A new in-dialog request with CSeq+1. It carries a Via only when `self.via` is set; otherwise
    /// the caller adds one (see [`Via::new`]).
    pub fn new_request(&mut self, method: Method) -> Request {
        self.local_cseq = self.local_cseq.wrapping_add(1).max(1);
        let mut req = self.base(method.clone(), self.local_cseq);
        if matches!(
            method,
            Method::Invite | Method::Update | Method::Subscribe | Method::Refer | Method::Notify
        ) {
            if let Some(c) = &self.local_contact {
                req.headers
                    .push("Contact", NameAddr::new(c.clone()).to_string());
            }
        }
        req
    }

    /// [`Dialog::new_request`] with an explicit Contact and a fresh top Via for `via_host_port`.
    pub fn new_request_with(
        &mut self,
        method: Method,
        local_contact: &SipUri,
        via_host_port: &str,
        transport: Transport,
    ) -> Request {
        self.via = Some((via_host_port.to_string(), transport));
        self.local_contact = Some(local_contact.clone());
        self.new_request(method)
    }

    /// ACK for a 2xx to our (re-)INVITE (§13.2.2.4): CSeq number of the INVITE, fresh branch.
    pub fn ack(&self, response: &Response) -> Request {
        let n = response.cseq().map(|c| c.0).unwrap_or(self.local_cseq);
        self.base(Method::Ack, n)
    }
}

fn transport_of(v: &Via) -> Transport {
    if v.transport.eq_ignore_ascii_case("UDP") {
        Transport::Udp
    } else {
        Transport::Tcp
    }
}

/// Splits `host[:port]` (IPv6 in brackets) without failing: a bad port is dropped.
fn split_host_port(s: &str) -> (String, Option<u16>) {
    if let Some(close) = s.rfind(']') {
        let host = s.get(..=close).unwrap_or(s).to_string();
        let port = s
            .get(close + 1..)
            .and_then(|p| p.strip_prefix(':'))
            .and_then(|p| p.parse().ok());
        return (host, port);
    }
    match s.rsplit_once(':') {
        Some((h, p)) => match p.parse() {
            Ok(port) => (h.to_string(), Some(port)),
            Err(_) => (s.to_string(), None),
        },
        None => (s.to_string(), None),
    }
}

/// A new out-of-dialog INVITE (B2BUA outgoing leg): fresh Call-ID, From tag, branch; CSeq 1.
#[allow(clippy::too_many_arguments)]
pub fn new_invite(
    target: &SipUri,
    from: &NameAddr,
    to: &NameAddr,
    contact: &SipUri,
    via_host_port: &str,
    transport: Transport,
    sdp: Option<&[u8]>,
) -> Request {
    let mut req = Request::new(Method::Invite, target.clone());
    let (host, port) = split_host_port(via_host_port);
    req.headers
        .push("Via", Via::new(transport, host.clone(), port).to_string());
    req.headers.push("Max-Forwards", "70");
    let mut from = from.clone();
    if from.tag().is_none() {
        from.set_tag(&crate::util::new_tag());
    }
    let mut to = to.clone();
    to.params.retain(|(n, _)| !n.eq_ignore_ascii_case("tag"));
    req.headers.push("From", from.to_string());
    req.headers.push("To", to.to_string());
    req.headers
        .push("Call-ID", crate::util::new_call_id(Some(&host)));
    req.headers.push("CSeq", "1 INVITE");
    req.headers
        .push("Contact", NameAddr::new(contact.clone()).to_string());
    if let Some(body) = sdp {
        req.headers.push("Content-Type", "application/sdp");
        req.body = body.to_vec();
    }
    req
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::{parse_datagram, SipMessage};

    fn req(s: &str) -> Request {
        match parse_datagram(s.as_bytes()).unwrap() {
            SipMessage::Request(r) => r,
            SipMessage::Response(_) => unreachable!(),
        }
    }

    const INVITE: &str = "INVITE sip:hotline@192.0.2.1 SIP/2.0\r\n\
        Via: SIP/2.0/UDP 192.0.2.50:5060;branch=z9hG4bKx\r\n\
        Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n\
        From: \"Caller\" <sip:alice@example.com>;tag=ra\r\n\
        To: <sip:hotline@192.0.2.1>\r\n\
        Call-ID: dlg-1\r\nCSeq: 5 INVITE\r\n\
        Contact: <sip:alice@192.0.2.50:5060>\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn uas_dialog_requests() {
        let inv = req(INVITE);
        let mut ok = Response::to_request(&inv, 200, "OK");
        ok.set_to_tag("lt");
        ok.headers.push("Contact", "<sip:hotline@192.0.2.1:5060>");
        let mut d = Dialog::uas(&inv, &ok).unwrap();
        assert_eq!(d.route_set.len(), 2);
        assert_eq!(
            d.route_set[0].uri.host, "p1.example.com",
            "UAS keeps the order"
        );
        let bye = d.new_request_with(
            Method::Bye,
            &"sip:hotline@192.0.2.1".parse().unwrap(),
            "192.0.2.1:5060",
            Transport::Udp,
        );
        assert_eq!(bye.uri.to_string(), "sip:alice@192.0.2.50:5060");
        let routes: Vec<_> = bye.headers.get_all("Route").collect();
        assert_eq!(
            routes,
            vec!["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]
        );
        assert_eq!(bye.cseq(), Some((1, Method::Bye)));
        assert_eq!(bye.from().unwrap().tag(), Some("lt"));
        assert_eq!(bye.to().unwrap().tag(), Some("ra"));
        assert!(bye.top_via().unwrap().is_rfc3261());
        let again = d.new_request(Method::Info);
        assert_eq!(again.cseq(), Some((2, Method::Info)));
        // re-INVITE from the peer moves the target
        let mut reinv = req(&INVITE.replace("CSeq: 5", "CSeq: 6").replace(
            "<sip:alice@192.0.2.50:5060>",
            "<sip:alice@198.51.100.7:5070>",
        ));
        reinv.headers.set("To", "<sip:hotline@192.0.2.1>;tag=lt");
        assert!(d.matches(&reinv));
        assert!(d.accept_remote_cseq(&reinv));
        assert!(
            !d.accept_remote_cseq(&reinv),
            "same CSeq again is out of order"
        );
        d.update_remote_target(&reinv);
        assert_eq!(d.new_request(Method::Bye).uri.host, "198.51.100.7");
    }

    #[test]
    fn uac_dialog_reverses_route_set_and_acks() {
        let inv = new_invite(
            &"sip:1001@10.0.0.5:5062".parse().unwrap(),
            &"<sip:hotline@192.0.2.1>".parse().unwrap(),
            &"<sip:1001@hotline>".parse().unwrap(),
            &"sip:hotline@192.0.2.1:5060".parse().unwrap(),
            "192.0.2.1:5060",
            Transport::Udp,
            Some(b"v=0\r\n"),
        );
        assert!(inv.from().unwrap().tag().is_some());
        assert_eq!(inv.top_via().unwrap().port, Some(5060));
        let mut ok = Response::to_request(&inv, 200, "OK");
        ok.set_to_tag("rt");
        ok.headers.push(
            "Record-Route",
            "<sip:p2.example.com;lr>, <sip:p1.example.com;lr>",
        );
        ok.headers.push("Contact", "<sip:1001@10.0.0.5:5062>");
        let d = Dialog::uac(&inv, &ok).unwrap();
        assert_eq!(d.route_set[0].uri.host, "p1.example.com");
        let ack = d.ack(&ok);
        assert_eq!(ack.method, Method::Ack);
        assert_eq!(ack.cseq(), Some((1, Method::Ack)));
        assert_ne!(ack.top_via().unwrap().branch, inv.top_via().unwrap().branch);
        assert_eq!(ack.to().unwrap().tag(), Some("rt"));
        assert_eq!(ack.uri.to_string(), "sip:1001@10.0.0.5:5062");
    }

    #[test]
    fn strict_route() {
        let inv = req(&INVITE.replace(
            "Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>",
            "Record-Route: <sip:strict.example.com>",
        ));
        let mut ok = Response::to_request(&inv, 200, "OK");
        ok.set_to_tag("lt");
        let mut d = Dialog::uas(&inv, &ok).unwrap();
        let bye = d.new_request(Method::Bye);
        assert_eq!(bye.uri.host, "strict.example.com");
        assert_eq!(
            bye.headers.get_all("Route").collect::<Vec<_>>(),
            vec!["<sip:alice@192.0.2.50:5060>"]
        );
    }
}
