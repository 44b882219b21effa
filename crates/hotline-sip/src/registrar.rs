//! Registrar and location service (RFC 3261 §10.3). Sans-IO: expiry is driven by `expire(now)`.
//! GRUU (RFC 5627) is deliberately not offered: clients would then use `gr=` Contacts we cannot route.
//! Each binding records the request's source address and transport, so requests to the user go where
//! the REGISTER came from (NAT).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::msg::{parse_delta_seconds, Request, Response, SipUri};
use crate::Transport;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistrarConfig {
    pub min_expires: u32,
    pub max_expires: u32,
    pub default_expires: u32,
    /// Bindings kept per user; beyond it the one expiring soonest is replaced.
    pub max_bindings: usize,
}

impl Default for RegistrarConfig {
    fn default() -> Self {
        RegistrarConfig {
            min_expires: 60,
            max_expires: 3600,
            default_expires: 3600,
            max_bindings: 10,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub contact: SipUri,
    pub source: SocketAddr,
    pub transport: Transport,
    pub expires_at: Instant,
    pub call_id: String,
    pub cseq: u32,
}

#[derive(Debug, Default)]
pub struct Registrar {
    cfg: RegistrarConfig,
    bindings: HashMap<String, Vec<Binding>>,
}

fn reply(req: &Request, status: u16, reason: &str) -> Response {
    let mut r = Response::to_request(req, status, reason);
    r.set_to_tag(&crate::util::new_tag());
    r
}

impl Registrar {
    /// Registrar with the given Expires bounds (default expiry = max).
    pub fn new(min_expires: u32, max_expires: u32) -> Registrar {
        Registrar::with_config(RegistrarConfig {
            min_expires,
            max_expires,
            default_expires: max_expires,
            ..RegistrarConfig::default()
        })
    }

    pub fn with_config(cfg: RegistrarConfig) -> Registrar {
        Registrar {
            cfg,
            bindings: HashMap::new(),
        }
    }

    /// Handles an (already authenticated) REGISTER for `user` and returns the response to send.
    pub fn handle_register(
        &mut self,
        now: Instant,
        req: &Request,
        source: SocketAddr,
        transport: Transport,
        user: &str,
    ) -> Response {
        match req.to() {
            Some(to) if to.uri.is_sip() => {}
            // RFC 3261 §10.3 step 5: an AOR we cannot serve
            _ => return reply(req, 404, "Not Found"),
        }
        let (Some(call_id), Some((cseq, _))) = (req.call_id(), req.cseq()) else {
            return reply(req, 400, "Bad Request");
        };
        let header_expires = req.expires();
        if req.contact_is_star() {
            let count = req.headers.get_all("Contact").count();
            if header_expires != Some(0) || count != 1 {
                return reply(req, 400, "Bad Request (Contact: * needs Expires: 0)");
            }
            self.bindings.remove(user);
            return self.ok(now, req, user);
        }
        let contacts = req.contacts();
        if contacts.len() != req.headers.get_all("Contact").count() {
            return reply(req, 400, "Bad Request (Contact)");
        }
        // Validate every contact before changing anything (the request is atomic).
        let mut updates = Vec::with_capacity(contacts.len());
        for c in &contacts {
            if !c.uri.is_sip() {
                return reply(req, 400, "Bad Request (non-SIP Contact)");
            }
            let expires = c
                .param("expires")
                .flatten()
                .and_then(parse_delta_seconds)
                .or(header_expires)
                .unwrap_or(self.cfg.default_expires);
            if expires != 0 && expires < self.cfg.min_expires {
                let mut r = reply(req, 423, "Interval Too Brief");
                r.headers
                    .set("Min-Expires", self.cfg.min_expires.to_string());
                return r;
            }
            updates.push((c.uri.clone(), expires.min(self.cfg.max_expires)));
        }
        let list = self.bindings.entry(user.to_string()).or_default();
        for (uri, expires) in updates {
            let existing = list.iter().position(|b| same_contact(&b.contact, &uri));
            if let Some(pos) = existing {
                if list
                    .get(pos)
                    .is_some_and(|b| b.call_id == call_id && b.cseq >= cseq)
                {
                    // out-of-order retransmission of an older REGISTER: ignore (§10.3 step 7)
                    continue;
                }
                list.remove(pos);
            }
            if expires == 0 {
                continue;
            }
            if list.len() >= self.cfg.max_bindings {
                if let Some(soonest) = list
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, b)| b.expires_at)
                    .map(|(i, _)| i)
                {
                    list.remove(soonest);
                }
            }
            list.push(Binding {
                contact: uri,
                source,
                transport,
                expires_at: now + Duration::from_secs(u64::from(expires)),
                call_id: call_id.to_string(),
                cseq,
            });
        }
        if list.is_empty() {
            self.bindings.remove(user);
        }
        self.ok(now, req, user)
    }

    fn ok(&self, now: Instant, req: &Request, user: &str) -> Response {
        let mut r = reply(req, 200, "OK");
        for b in self.bindings.get(user).into_iter().flatten() {
            let left = b.expires_at.saturating_duration_since(now).as_secs();
            r.headers
                .push("Contact", format!("<{}>;expires={left}", b.contact));
        }
        r
    }

    /// Current bindings of `user` (possibly expired ones not yet swept by `expire`).
    pub fn lookup(&self, user: &str) -> Vec<Binding> {
        self.bindings.get(user).cloned().unwrap_or_default()
    }

    /// Removes expired bindings; returns the users that lost their last binding.
    pub fn expire(&mut self, now: Instant) -> Vec<String> {
        let mut gone = Vec::new();
        self.bindings.retain(|user, list| {
            list.retain(|b| b.expires_at > now);
            if list.is_empty() {
                gone.push(user.clone());
                false
            } else {
                true
            }
        });
        gone.sort();
        gone
    }

    /// Drops one binding (the phone stopped answering keep-alives); true when `user` lost its last binding.
    pub fn remove(&mut self, user: &str, contact: &SipUri) -> bool {
        let Some(list) = self.bindings.get_mut(user) else {
            return false;
        };
        let before = list.len();
        list.retain(|b| !same_contact(&b.contact, contact));
        if list.is_empty() {
            self.bindings.remove(user);
            return before > 0;
        }
        false
    }

    /// When the next binding expires.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.bindings.values().flatten().map(|b| b.expires_at).min()
    }

    /// Users with at least one binding.
    pub fn users(&self) -> impl Iterator<Item = &str> {
        self.bindings.keys().map(String::as_str)
    }
}

/// URI comparison good enough for bindings: scheme, user, host (case-insensitive), port.
fn same_contact(a: &SipUri, b: &SipUri) -> bool {
    a.scheme == b.scheme
        && a.user == b.user
        && a.host.eq_ignore_ascii_case(&b.host)
        && a.port == b.port
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::{parse_datagram, SipMessage};

    fn register(contact: &str, expires: Option<u32>, cseq: u32) -> Request {
        let exp = expires
            .map(|e| format!("Expires: {e}\r\n"))
            .unwrap_or_default();
        let raw = format!(
            "REGISTER sip:hotline SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK{cseq}\r\n\
             From: <sip:1001@hotline>;tag=f\r\nTo: <sip:1001@hotline>\r\nCall-ID: reg1\r\n\
             CSeq: {cseq} REGISTER\r\nContact: {contact}\r\n{exp}Content-Length: 0\r\n\r\n"
        );
        match parse_datagram(raw.as_bytes()).unwrap() {
            SipMessage::Request(r) => r,
            SipMessage::Response(_) => unreachable!(),
        }
    }

    fn src() -> SocketAddr {
        "203.0.113.9:40000".parse().unwrap()
    }

    #[test]
    fn bind_refresh_expire() {
        let mut reg = Registrar::with_config(RegistrarConfig::default());
        let now = Instant::now();
        let r = reg.handle_register(
            now,
            &register("<sip:1001@10.0.0.5:5062>", Some(120), 1),
            src(),
            Transport::Udp,
            "1001",
        );
        assert_eq!(r.status, 200);
        assert_eq!(
            r.headers.get("Contact"),
            Some("<sip:1001@10.0.0.5:5062>;expires=120")
        );
        assert!(r.to().unwrap().tag().is_some());
        let b = reg.lookup("1001");
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].source, src(), "NAT: the source address is kept");
        assert_eq!(reg.poll_timeout(), Some(now + Duration::from_secs(120)));
        // contact param beats the header; max clamps
        let r = reg.handle_register(
            now,
            &register("<sip:1001@10.0.0.5:5062>;expires=99999", Some(120), 2),
            src(),
            Transport::Udp,
            "1001",
        );
        assert!(r.headers.get("Contact").unwrap().ends_with("expires=3600"));
        assert!(reg.expire(now + Duration::from_secs(3599)).is_empty());
        assert_eq!(
            reg.expire(now + Duration::from_secs(3600)),
            vec!["1001".to_string()]
        );
        assert!(reg.lookup("1001").is_empty());
    }

    #[test]
    fn remove_one_binding_reports_the_last() {
        let mut reg = Registrar::with_config(RegistrarConfig::default());
        let now = Instant::now();
        for (contact, cseq) in [
            ("<sip:1001@10.0.0.5:5062>", 1),
            ("<sip:1001@10.0.0.6:5062>", 2),
        ] {
            let r = reg.handle_register(
                now,
                &register(contact, Some(120), cseq),
                src(),
                Transport::Udp,
                "1001",
            );
            assert_eq!(r.status, 200);
        }
        let first: SipUri = "sip:1001@10.0.0.5:5062".parse().unwrap();
        let second: SipUri = "sip:1001@10.0.0.6:5062".parse().unwrap();
        assert!(!reg.remove("1001", &first), "one binding is left");
        assert_eq!(reg.lookup("1001").len(), 1);
        assert!(!reg.remove("1002", &first), "unknown user");
        assert!(reg.remove("1001", &second), "the last one went");
        assert!(reg.lookup("1001").is_empty());
        assert!(!reg.remove("1001", &second), "already gone");
    }

    #[test]
    fn too_brief_and_removal() {
        let mut reg = Registrar::with_config(RegistrarConfig::default());
        let now = Instant::now();
        let r = reg.handle_register(
            now,
            &register("<sip:1001@10.0.0.5>", Some(10), 1),
            src(),
            Transport::Udp,
            "1001",
        );
        assert_eq!(r.status, 423);
        assert_eq!(r.headers.get("Min-Expires"), Some("60"));
        reg.handle_register(
            now,
            &register("<sip:1001@a>", None, 2),
            src(),
            Transport::Udp,
            "1001",
        );
        reg.handle_register(
            now,
            &register("<sip:1001@b>", None, 3),
            src(),
            Transport::Tcp,
            "1001",
        );
        assert_eq!(reg.lookup("1001").len(), 2);
        let r = reg.handle_register(
            now,
            &register("<sip:1001@a>", Some(0), 4),
            src(),
            Transport::Udp,
            "1001",
        );
        assert_eq!(r.headers.get_all("Contact").count(), 1);
        // * without Expires: 0 is refused
        let r = reg.handle_register(now, &register("*", None, 5), src(), Transport::Udp, "1001");
        assert_eq!(r.status, 400);
        let r = reg.handle_register(
            now,
            &register("*", Some(0), 6),
            src(),
            Transport::Udp,
            "1001",
        );
        assert_eq!(r.status, 200);
        assert!(reg.lookup("1001").is_empty());
        // a query (no Contact) lists nothing and changes nothing
        let mut q = register("<sip:x@y>", None, 7);
        q.headers.remove("Contact");
        assert_eq!(
            reg.handle_register(now, &q, src(), Transport::Udp, "1001")
                .status,
            200
        );
    }
}
