//! Requests, responses, typed header accessors and serialization.

use super::addr::{parse_name_addr, parse_via};
use super::{is_token, split_comma_values, Headers, Method, NameAddr, ParseError, SipUri, Via};

// ---------------------------------------------------------------------------------------------
// Messages

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    pub uri: SipUri,
    pub headers: Headers,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Headers,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SipMessage {
    Request(Request),
    Response(Response),
}

/// Typed accessors shared by requests and responses. `Request` and `Response` also have them as
/// inherent methods, so importing this trait is only needed for generic code.
pub trait Message {
    fn headers(&self) -> &Headers;
    fn headers_mut(&mut self) -> &mut Headers;
    fn body(&self) -> &[u8];

    fn call_id(&self) -> Option<&str> {
        self.headers().get("Call-ID")
    }

    fn cseq(&self) -> Option<(u32, Method)> {
        parse_cseq(self.headers().get("CSeq")?).ok()
    }

    fn from(&self) -> Option<NameAddr> {
        parse_name_addr(self.headers().get("From")?, "From").ok()
    }

    fn to(&self) -> Option<NameAddr> {
        parse_name_addr(self.headers().get("To")?, "To").ok()
    }

    /// All Via values, top first; unparsable values are skipped.
    fn vias(&self) -> Vec<Via> {
        self.headers()
            .get_all("Via")
            .filter_map(|v| parse_via(v).ok())
            .collect()
    }

    fn top_via(&self) -> Option<Via> {
        parse_via(self.headers().get_all("Via").next()?).ok()
    }

    /// Contact values (`*` excluded, unparsable skipped).
    fn contacts(&self) -> Vec<NameAddr> {
        self.headers()
            .get_all("Contact")
            .filter(|v| *v != "*")
            .filter_map(|v| parse_name_addr(v, "Contact").ok())
            .collect()
    }

    /// True for `Contact: *`.
    fn contact_is_star(&self) -> bool {
        self.headers().get_all("Contact").any(|v| v == "*")
    }

    fn max_forwards(&self) -> Option<u32> {
        parse_u32_digits(self.headers().get("Max-Forwards")?)
    }

    /// Media type of Content-Type (parameters stripped).
    fn content_type(&self) -> Option<&str> {
        let v = self.headers().get("Content-Type")?;
        Some(v.split(';').next().unwrap_or(v).trim())
    }

    /// Expires header (delta-seconds); overlarge values saturate at `u32::MAX`.
    fn expires(&self) -> Option<u32> {
        parse_delta_seconds(self.headers().get("Expires")?)
    }

    /// Route header values in order (unparsable skipped).
    fn routes(&self) -> Vec<NameAddr> {
        self.headers()
            .get_all("Route")
            .filter_map(|v| parse_name_addr(v, "Route").ok())
            .collect()
    }

    fn record_routes(&self) -> Vec<NameAddr> {
        self.headers()
            .get_all("Record-Route")
            .filter_map(|v| parse_name_addr(v, "Record-Route").ok())
            .collect()
    }
}

/// Parses delta-seconds, saturating overlarge values (RFC 3261 §20.19 says to treat them as big).
pub fn parse_delta_seconds(s: &str) -> Option<u32> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.parse::<u32>().unwrap_or(u32::MAX))
}

pub(super) fn parse_u32_digits(s: &str) -> Option<u32> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u32>().ok()
}

pub(super) fn parse_cseq(s: &str) -> Result<(u32, Method), ParseError> {
    let err = || ParseError::Header("CSeq".into());
    let mut it = s.split_whitespace();
    let num = it.next().ok_or_else(err)?;
    let method = it.next().ok_or_else(err)?;
    if it.next().is_some() || !num.bytes().all(|b| b.is_ascii_digit()) || !is_token(method) {
        return Err(err());
    }
    // RFC 3261 §8.1.1.5: the sequence number must be below 2^31.
    let n = num.parse::<u32>().map_err(|_| err())?;
    if n >= 1 << 31 {
        return Err(err());
    }
    Ok((n, Method::parse(method)))
}

macro_rules! message_impl {
    ($t:ty) => {
        impl Message for $t {
            fn headers(&self) -> &Headers {
                &self.headers
            }
            fn headers_mut(&mut self) -> &mut Headers {
                &mut self.headers
            }
            fn body(&self) -> &[u8] {
                &self.body
            }
        }

        impl $t {
            pub fn call_id(&self) -> Option<&str> {
                Message::call_id(self)
            }
            pub fn cseq(&self) -> Option<(u32, Method)> {
                Message::cseq(self)
            }
            pub fn from(&self) -> Option<NameAddr> {
                Message::from(self)
            }
            pub fn to(&self) -> Option<NameAddr> {
                Message::to(self)
            }
            pub fn vias(&self) -> Vec<Via> {
                Message::vias(self)
            }
            pub fn top_via(&self) -> Option<Via> {
                Message::top_via(self)
            }
            pub fn contacts(&self) -> Vec<NameAddr> {
                Message::contacts(self)
            }
            pub fn contact_is_star(&self) -> bool {
                Message::contact_is_star(self)
            }
            pub fn max_forwards(&self) -> Option<u32> {
                Message::max_forwards(self)
            }
            pub fn content_type(&self) -> Option<&str> {
                Message::content_type(self)
            }
            pub fn expires(&self) -> Option<u32> {
                Message::expires(self)
            }
            pub fn routes(&self) -> Vec<NameAddr> {
                Message::routes(self)
            }
            pub fn record_routes(&self) -> Vec<NameAddr> {
                Message::record_routes(self)
            }
            /// Sets the top Via (replacing the first Via element).
            pub fn set_top_via(&mut self, via: &Via) {
                set_top_via(&mut self.headers, via);
            }
        }
    };
}

message_impl!(Request);
message_impl!(Response);

/// Replaces the first Via element (which may share a line with others) or inserts one.
pub(crate) fn set_top_via(headers: &mut Headers, via: &Via) {
    let entries = headers.entries_mut();
    if let Some(e) = entries.iter_mut().find(|(n, _)| n == "Via") {
        let parts = split_comma_values(&e.1);
        let rest: Vec<&str> = parts.into_iter().skip(1).collect();
        e.1 = if rest.is_empty() {
            via.to_string()
        } else {
            format!("{}, {}", via, rest.join(", "))
        };
    } else {
        entries.insert(0, ("Via".to_string(), via.to_string()));
    }
}

impl Request {
    pub fn new(method: Method, uri: SipUri) -> Request {
        Request {
            method,
            uri,
            headers: Headers::new(),
            body: Vec::new(),
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let start = format!("{} {} SIP/2.0\r\n", self.method, self.uri);
        serialize(start, &self.headers, &self.body)
    }

    /// Decrements Max-Forwards (adding `Max-Forwards: 70` when absent). Returns false when it was 0:
    /// the request must not be forwarded (483 Too Many Hops).
    pub fn decrement_max_forwards(&mut self) -> bool {
        match self.max_forwards() {
            Some(0) => false,
            Some(n) => {
                self.headers.set("Max-Forwards", (n - 1).to_string());
                true
            }
            None => {
                self.headers.set("Max-Forwards", "70");
                true
            }
        }
    }
}

impl Response {
    pub fn new(status: u16, reason: impl Into<String>) -> Response {
        Response {
            status,
            reason: reason.into(),
            headers: Headers::new(),
            body: Vec::new(),
        }
    }

    /// A response to `req` (RFC 3261 §8.2.6.2): copies Via, From, To, Call-ID, CSeq, and Record-Route
    /// for 1xx (not 100) and 2xx responses (§12.1.1). An empty `reason` uses the standard phrase.
    pub fn to_request(req: &Request, status: u16, reason: impl Into<String>) -> Response {
        let mut reason = reason.into();
        if reason.is_empty() {
            reason = reason_phrase(status).to_string();
        }
        let mut resp = Response::new(status, reason);
        for (n, v) in req.headers.iter() {
            let copy = matches!(n, "Via" | "From" | "To" | "Call-ID" | "CSeq")
                || (n == "Record-Route" && status > 100 && status < 300);
            if copy {
                resp.headers.push(n, v);
            }
        }
        resp
    }

    /// Adds a To tag unless one is present (the UAS dialog identifier).
    pub fn set_to_tag(&mut self, tag: &str) {
        if let Some(mut to) = self.to() {
            if to.tag().is_none() {
                to.set_tag(tag);
                self.headers.set("To", to.to_string());
            }
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let start = format!("SIP/2.0 {} {}\r\n", self.status, self.reason);
        serialize(start, &self.headers, &self.body)
    }

    pub fn is_provisional(&self) -> bool {
        self.status < 200
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

impl SipMessage {
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            SipMessage::Request(r) => r.to_bytes(),
            SipMessage::Response(r) => r.to_bytes(),
        }
    }

    pub fn headers(&self) -> &Headers {
        match self {
            SipMessage::Request(r) => &r.headers,
            SipMessage::Response(r) => &r.headers,
        }
    }
}

fn serialize(start: String, headers: &Headers, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(start.len() + 64 * headers.len() + body.len() + 32);
    out.extend_from_slice(start.as_bytes());
    for (n, v) in headers.iter() {
        if n == "Content-Length" {
            continue;
        }
        out.extend_from_slice(n.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}

/// Standard reason phrases (RFC 3261 §21 and friends).
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Trying",
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        200 => "OK",
        202 => "Accepted",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Moved Temporarily",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        410 => "Gone",
        413 => "Request Entity Too Large",
        415 => "Unsupported Media Type",
        416 => "Unsupported URI Scheme",
        420 => "Bad Extension",
        421 => "Extension Required",
        423 => "Interval Too Brief",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        482 => "Loop Detected",
        483 => "Too Many Hops",
        484 => "Address Incomplete",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        491 => "Request Pending",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        504 => "Server Time-out",
        505 => "Version Not Supported",
        513 => "Message Too Large",
        600 => "Busy Everywhere",
        603 => "Decline",
        604 => "Does Not Exist Anywhere",
        606 => "Not Acceptable",
        _ => match status / 100 {
            1 => "Session Progress",
            2 => "OK",
            3 => "Redirection",
            4 => "Client Error",
            5 => "Server Error",
            _ => "Global Failure",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializer_writes_content_length() {
        let mut r = Request::new(Method::Message, "sip:a@b".parse().unwrap());
        r.headers.set("Content-Length", "999");
        r.body = b"hello".to_vec();
        let s = String::from_utf8(r.to_bytes()).unwrap();
        assert!(s.contains("Content-Length: 5\r\n\r\nhello"));
        assert!(!s.contains("999"));
    }
}
