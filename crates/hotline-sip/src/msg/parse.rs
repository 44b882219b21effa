//! Parsing: TCP stream framing, datagram parsing and header validation.

use std::str::FromStr;

use super::addr::{parse_name_addr, parse_via};
use super::headers::split_outside;
use super::message::{parse_cseq, parse_u32_digits};
use super::{
    canonical_name, is_token, Headers, Method, ParseError, Request, Response, Scheme, SipMessage,
    SipUri, MAX_MESSAGE_SIZE,
};

// ---------------------------------------------------------------------------------------------
// Parsing

/// Result of framing a TCP stream buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Framing {
    /// The first `len` bytes (leading CRLF keep-alives included) hold one message.
    Complete(usize),
    Incomplete,
    /// The stream cannot be framed: close the connection.
    Invalid(ParseError),
}

/// Number of leading CRLF keep-alive bytes (RFC 5626 §3.5.1, RFC 3261 §7.5); a stream transport
/// should drain them before framing so a buffer of only keep-alives does not grow.
pub fn keepalive_len(buf: &[u8]) -> usize {
    buf.iter()
        .take_while(|b| **b == b'\r' || **b == b'\n')
        .count()
}

/// Finds the end of the header section: returns (index of first header byte after leading CRLFs,
/// index just past the blank line).
fn find_header_end(buf: &[u8]) -> Option<(usize, usize)> {
    let start = keepalive_len(buf);
    let mut i = start;
    let mut line_start = start;
    while let Some(&b) = buf.get(i) {
        if b == b'\n' {
            let line = buf.get(line_start..i)?;
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() && line_start > start {
                return Some((start, i + 1));
            }
            line_start = i + 1;
        }
        i += 1;
    }
    None
}

/// Frames one message at the start of a stream buffer by Content-Length (absent means 0).
pub fn frame_stream(buf: &[u8]) -> Framing {
    let Some((start, hdr_end)) = find_header_end(buf) else {
        return if buf.len() > MAX_MESSAGE_SIZE {
            Framing::Invalid(ParseError::TooLarge)
        } else {
            Framing::Incomplete
        };
    };
    let Some(head) = buf.get(start..hdr_end) else {
        return Framing::Invalid(ParseError::HeaderLine);
    };
    let Ok(head) = std::str::from_utf8(head) else {
        return Framing::Invalid(ParseError::Encoding);
    };
    let cl = match raw_headers(head) {
        Ok((_, headers)) => match content_length(&headers) {
            Ok(v) => v.unwrap_or(0),
            Err(e) => return Framing::Invalid(e),
        },
        Err(e) => return Framing::Invalid(e),
    };
    let total = hdr_end.saturating_add(cl);
    if total - start > MAX_MESSAGE_SIZE {
        return Framing::Invalid(ParseError::TooLarge);
    }
    if buf.len() < total {
        Framing::Incomplete
    } else {
        Framing::Complete(total)
    }
}

/// Splits the header section into the start line and unfolded header lines.
fn raw_headers(head: &str) -> Result<(&str, Headers), ParseError> {
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let start = lines.next().ok_or(ParseError::StartLine)?;
    let mut entries: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            // folded continuation (LWS): joins the previous value with one space
            let last = entries.last_mut().ok_or(ParseError::HeaderLine)?;
            let cont = line.trim();
            if !cont.is_empty() {
                if !last.1.is_empty() {
                    last.1.push(' ');
                }
                last.1.push_str(cont);
            }
            continue;
        }
        let (name, value) = line.split_once(':').ok_or(ParseError::HeaderLine)?;
        let name = name.trim_end_matches([' ', '\t']);
        if !is_token(name) {
            return Err(ParseError::HeaderLine);
        }
        entries.push((canonical_name(name), value.trim().to_string()));
    }
    Ok((start, Headers { entries }))
}

fn content_length(headers: &Headers) -> Result<Option<usize>, ParseError> {
    let mut values = headers.get_all("Content-Length");
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() || first.contains(',') {
        return Err(ParseError::ContentLength);
    }
    let v = first.trim();
    if v.is_empty() || v.len() > 10 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError::ContentLength);
    }
    v.parse::<usize>()
        .map(Some)
        .map_err(|_| ParseError::ContentLength)
}

/// Parses one datagram; any validation error is fatal. See [`parse_lenient`].
pub fn parse_datagram(bytes: &[u8]) -> Result<SipMessage, ParseError> {
    match parse_lenient(bytes)? {
        (msg, None) => Ok(msg),
        (_, Some(e)) => Err(e),
    }
}

/// Parses one datagram. `Err` when the bytes cannot be framed at all; otherwise the message and the
/// first validation error (bad header, wrong version, Content-Length mismatch…), so a request can
/// still be answered with 400/505 carrying its Via/From/To/Call-ID/CSeq.
pub fn parse_lenient(bytes: &[u8]) -> Result<(SipMessage, Option<ParseError>), ParseError> {
    if bytes.len() > MAX_MESSAGE_SIZE {
        return Err(ParseError::TooLarge);
    }
    let (start, hdr_end) = find_header_end(bytes).ok_or(ParseError::Incomplete)?;
    let head = bytes.get(start..hdr_end).ok_or(ParseError::Incomplete)?;
    let head = std::str::from_utf8(head).map_err(|_| ParseError::Encoding)?;
    let (start_line, headers) = raw_headers(head)?;
    let rest = bytes.get(hdr_end..).unwrap_or(&[]);
    let mut problem: Option<ParseError> = None;
    let body = match content_length(&headers) {
        Ok(Some(cl)) => match rest.get(..cl) {
            // extra octets after the body are ignored (RFC 4475 §3.1.1.8)
            Some(b) => b.to_vec(),
            None => {
                problem = Some(ParseError::BodyTooShort);
                rest.to_vec()
            }
        },
        Ok(None) => rest.to_vec(),
        Err(e) => {
            problem = Some(e);
            rest.to_vec()
        }
    };
    let msg = if start_line.starts_with("SIP/") {
        let mut parts = start_line.splitn(3, ' ');
        let version = parts.next().ok_or(ParseError::StartLine)?;
        let code = parts.next().ok_or(ParseError::StartLine)?;
        let reason = parts.next().unwrap_or("");
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::StartLine);
        }
        let status: u16 = code.parse().map_err(|_| ParseError::StartLine)?;
        if !(100..700).contains(&status) {
            return Err(ParseError::StartLine);
        }
        if !version.eq_ignore_ascii_case("SIP/2.0") && problem.is_none() {
            problem = Some(ParseError::Version(version.to_string()));
        }
        SipMessage::Response(Response {
            status,
            reason: reason.to_string(),
            headers,
            body,
        })
    } else {
        let parts: Vec<&str> = start_line.split(' ').collect();
        let (m, u, v) = match parts.as_slice() {
            [m, u, v] => (*m, *u, *v),
            _ => {
                // Extra or missing SP (RFC 4475 §3.1.2.8–10): answerable if the rest is sane.
                let m = parts.first().copied().unwrap_or("");
                if !is_token(m) || parts.len() < 3 {
                    return Err(ParseError::StartLine);
                }
                problem.get_or_insert(ParseError::StartLine);
                (m, "", "SIP/2.0")
            }
        };
        if !is_token(m) {
            return Err(ParseError::StartLine);
        }
        let version_ok = v.eq_ignore_ascii_case("SIP/2.0");
        if !version_ok {
            let looks_sip = v.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("SIP/"))
                && v.get(4..).is_some_and(|n| {
                    let mut it = n.split('.');
                    let a = it.next().unwrap_or("");
                    let b = it.next().unwrap_or("");
                    it.next().is_none()
                        && !a.is_empty()
                        && !b.is_empty()
                        && a.bytes().all(|c| c.is_ascii_digit())
                        && b.bytes().all(|c| c.is_ascii_digit())
                });
            if !looks_sip {
                return Err(ParseError::StartLine);
            }
            // Version comes first: 505 beats any other complaint.
            problem = Some(ParseError::Version(v.to_string()));
        }
        let uri = match SipUri::parse_inner(u) {
            Ok(uri) => {
                // Headers are not allowed in a Request-URI (RFC 4475 §3.1.2.11).
                if !uri.headers.is_empty() {
                    problem.get_or_insert(ParseError::Uri(u.to_string()));
                }
                uri
            }
            Err(e) => {
                problem.get_or_insert(e);
                SipUri {
                    scheme: Scheme::Other("invalid".into()),
                    user: None,
                    password: None,
                    host: u.to_string(),
                    port: None,
                    params: Vec::new(),
                    headers: Vec::new(),
                }
            }
        };
        SipMessage::Request(Request {
            method: Method::parse(m),
            uri,
            headers,
            body,
        })
    };
    if problem.is_none() {
        problem = validate_headers(msg.headers()).err();
    }
    Ok((msg, problem))
}

/// Checks the headers the stack interprets: structure of Via/From/To/Contact/Route/CSeq and that
/// single-value headers appear once.
pub fn validate_headers(h: &Headers) -> Result<(), ParseError> {
    for name in [
        "To",
        "From",
        "Call-ID",
        "CSeq",
        "Max-Forwards",
        "Content-Length",
    ] {
        if h.count(name) > 1 {
            return Err(ParseError::Duplicate(name.into()));
        }
    }
    for (n, v) in h.iter() {
        match n {
            "Via" => {
                for part in split_outside(v, ',').map_err(|_| ParseError::Header("Via".into()))? {
                    parse_via(part)?;
                }
            }
            "To" | "From" => {
                parse_name_addr(v, n)?;
            }
            "Contact" | "Route" | "Record-Route" => {
                if n == "Contact" && v.trim() == "*" {
                    continue;
                }
                for part in split_outside(v, ',').map_err(|_| ParseError::Header(n.into()))? {
                    parse_name_addr(part, n)?;
                }
            }
            "CSeq" => {
                parse_cseq(v)?;
            }
            "Call-ID" if v.is_empty() || v.chars().any(|c| c.is_whitespace()) => {
                return Err(ParseError::Header("Call-ID".into()));
            }
            "Max-Forwards" if parse_u32_digits(v).is_none() => {
                return Err(ParseError::Header("Max-Forwards".into()));
            }
            _ => {}
        }
    }
    Ok(())
}

impl FromStr for SipMessage {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_datagram(s.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_and_folded_headers() {
        let raw = "INVITE sip:bob@example.com SIP/2.0\r\n\
            v: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc, SIP/2.0/TCP [2001:db8::10]:5070;branch=z9hG4bKdef\r\n\
            i: abc@host\r\n\
            f: \"Alice, A\" <sip:alice@example.com>;tag=1\r\n\
            t: <sip:bob@example.com>\r\n\
            m: <sip:alice@192.0.2.1>, sip:alt@192.0.2.2;expires=30\r\n\
            CSeq: 1\r\n INVITE\r\n\
            Max-Forwards: 70\r\n\
            l: 3\r\n\r\nabcEXTRA";
        let msg = parse_datagram(raw.as_bytes()).unwrap();
        let SipMessage::Request(req) = msg else {
            panic!("not a request")
        };
        assert_eq!(req.call_id(), Some("abc@host"));
        assert_eq!(req.cseq(), Some((1, Method::Invite)));
        let vias = req.vias();
        assert_eq!(vias.len(), 2);
        assert_eq!(vias[1].host, "[2001:db8::10]");
        assert_eq!(vias[1].port, Some(5070));
        assert_eq!(req.from().unwrap().display.as_deref(), Some("Alice, A"));
        assert_eq!(req.from().unwrap().tag(), Some("1"));
        let contacts = req.contacts();
        assert_eq!(contacts.len(), 2);
        assert_eq!(contacts[1].param("expires"), Some(Some("30")));
        assert_eq!(req.body, b"abc");
        // round trip
        let again = parse_datagram(&req.to_bytes()).unwrap();
        assert_eq!(again, SipMessage::Request(req));
    }

    #[test]
    fn framing() {
        let msg = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 4\r\n\r\nbody";
        assert_eq!(frame_stream(&msg[..20]), Framing::Incomplete);
        assert_eq!(frame_stream(&msg[..msg.len() - 1]), Framing::Incomplete);
        assert_eq!(frame_stream(msg), Framing::Complete(msg.len()));
        let mut two = b"\r\n\r\n".to_vec();
        two.extend_from_slice(msg);
        two.extend_from_slice(msg);
        assert_eq!(frame_stream(&two), Framing::Complete(4 + msg.len()));
        let bad = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n";
        assert!(matches!(frame_stream(bad), Framing::Invalid(_)));
        let huge = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 100000\r\n\r\n";
        assert_eq!(frame_stream(huge), Framing::Invalid(ParseError::TooLarge));
        let endless = vec![b'a'; MAX_MESSAGE_SIZE + 1];
        assert!(matches!(frame_stream(&endless), Framing::Invalid(_)));
    }
}
