//! Call transfer helpers: REFER (RFC 3515), Replaces (RFC 3891), Referred-By (RFC 3892) and the
//! `message/sipfrag` bodies of the implicit `refer` subscription's NOTIFYs.
//!
//! Pure functions over header values and bodies; nothing here touches a socket or a clock.

use std::fmt;
use std::str::FromStr;

use crate::dialog::Dialog;
use crate::msg::{reason_phrase, Method, NameAddr, Request, Scheme, SipUri};

/// Content-Type of REFER NOTIFY bodies (RFC 3515 §2.4.5).
pub const SIPFRAG_CONTENT_TYPE: &str = "message/sipfrag;version=2.0";

/// Refer-To values longer than this are refused: a transfer target is a short URI, and the bound keeps
/// percent-decoding and parameter splitting cheap on hostile input.
pub const MAX_REFER_TO_LEN: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferError {
    #[error("missing Refer-To header")]
    Missing,
    #[error("more than one Refer-To value")]
    Multiple,
    #[error("empty Refer-To value")]
    Empty,
    #[error("Refer-To value longer than {MAX_REFER_TO_LEN} bytes")]
    TooLong,
    #[error("malformed Refer-To: {0}")]
    Malformed(String),
    #[error("unsupported URI scheme `{0}` in Refer-To (sip, sips or tel expected)")]
    Scheme(String),
    #[error("invalid percent-escape in {0}")]
    Escape(String),
    #[error("malformed Replaces: {0}")]
    Replaces(String),
    #[error("malformed Referred-By: {0}")]
    ReferredBy(String),
    #[error("malformed sipfrag: {0}")]
    Sipfrag(String),
    #[error("not a REFER NOTIFY: {0}")]
    Notify(String),
}

// ---------------------------------------------------------------------------------------------
// Percent-encoding

/// Decodes `%XX` escapes; the result must be UTF-8. `what` names the field in the error.
pub fn percent_decode(s: &str, what: &str) -> Result<String, ReferError> {
    let err = || ReferError::Escape(what.to_string());
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hi = bytes.get(i + 1).and_then(|c| hex_val(*c)).ok_or_else(err)?;
            let lo = bytes.get(i + 2).and_then(|c| hex_val(*c)).ok_or_else(err)?;
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| err())
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Escapes a URI header value (RFC 3261 `hvalue`): everything but `unreserved` and `hnv-unreserved`,
/// so `@`, `;`, `=`, `&` and `%` of an embedded Replaces survive the trip.
pub fn percent_encode_hvalue(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric() || b"-_.!~*'()[]/?:+$".contains(&b);
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Replaces

/// The dialog an attended transfer replaces (RFC 3891 §6.1).
/// `to_tag` / `from_tag` are as seen by the UA receiving the INVITE with Replaces: its local and
/// remote tag respectively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replaces {
    pub call_id: String,
    pub to_tag: String,
    pub from_tag: String,
    pub early_only: bool,
}

impl Replaces {
    /// Parses a Replaces header value: `callid;to-tag=x;from-tag=y[;early-only]`. Parameter names are
    /// case-insensitive, unknown parameters are ignored, both tags are mandatory (§6.1).
    pub fn parse(value: &str) -> Result<Replaces, ReferError> {
        let err = |why: &str| ReferError::Replaces(why.to_string());
        let mut parts = value.split(';');
        let call_id = parts.next().map(str::trim).unwrap_or("");
        if call_id.is_empty() {
            return Err(err("empty call-id"));
        }
        // Call-ID = word ["@" word]: printable ASCII, no whitespace, at most one '@'.
        if !call_id.bytes().all(|b| b.is_ascii_graphic()) || call_id.matches('@').count() > 1 {
            return Err(err("invalid call-id"));
        }
        let mut to_tag = None;
        let mut from_tag = None;
        let mut early_only = false;
        for p in parts {
            let (name, val) = match p.split_once('=') {
                Some((n, v)) => (n.trim(), Some(v.trim())),
                None => (p.trim(), None),
            };
            if name.is_empty() {
                return Err(err("empty parameter"));
            }
            let slot = if name.eq_ignore_ascii_case("to-tag") {
                &mut to_tag
            } else if name.eq_ignore_ascii_case("from-tag") {
                &mut from_tag
            } else {
                if name.eq_ignore_ascii_case("early-only") {
                    early_only = true;
                }
                continue;
            };
            let v = val
                .filter(|v| is_tag(v))
                .ok_or_else(|| err("invalid tag"))?;
            // Two different tags make the target dialog ambiguous.
            if slot.replace(v.to_string()).is_some() {
                return Err(err("duplicate tag parameter"));
            }
        }
        Ok(Replaces {
            call_id: call_id.to_string(),
            to_tag: to_tag.ok_or_else(|| err("missing to-tag"))?,
            from_tag: from_tag.ok_or_else(|| err("missing from-tag"))?,
            early_only,
        })
    }

    /// Parses the percent-encoded form found in a Refer-To URI (`abc%40host%3Bto-tag%3D1…`).
    pub fn parse_encoded(value: &str) -> Result<Replaces, ReferError> {
        Replaces::parse(&percent_decode(value, "Replaces")?)
    }

    /// The form to embed in a Refer-To URI header (`?Replaces=…`).
    pub fn to_encoded(&self) -> String {
        percent_encode_hvalue(&self.to_string())
    }

    /// True when this names `dialog` (§3: Call-ID, to-tag = local tag, from-tag = remote tag).
    pub fn matches(&self, dialog: &Dialog) -> bool {
        self.call_id == dialog.call_id
            && self.to_tag == dialog.local_tag
            && self.from_tag == dialog.remote_tag
    }
}

fn is_tag(s: &str) -> bool {
    crate::msg::is_token(s)
}

impl FromStr for Replaces {
    type Err = ReferError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Replaces::parse(s)
    }
}

impl fmt::Display for Replaces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{};to-tag={};from-tag={}",
            self.call_id, self.to_tag, self.from_tag
        )?;
        if self.early_only {
            f.write_str(";early-only")?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Refer-To

/// A parsed Refer-To value (RFC 3515 §2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferTo {
    pub display: Option<String>,
    /// The transfer target with its embedded headers removed.
    pub target: SipUri,
    /// From an embedded `?Replaces=` (attended transfer).
    pub replaces: Option<Replaces>,
    /// Other embedded URI headers, percent-decoded, in order.
    pub headers: Vec<(String, String)>,
    /// Refer-To header parameters (after the `>`).
    pub params: Vec<(String, Option<String>)>,
}

impl ReferTo {
    /// A blind transfer to `target`.
    pub fn new(target: SipUri) -> ReferTo {
        ReferTo {
            display: None,
            target,
            replaces: None,
            headers: Vec::new(),
            params: Vec::new(),
        }
    }

    /// An attended transfer: `target` is asked to replace the dialog `replaces`.
    pub fn with_replaces(mut self, replaces: Replaces) -> ReferTo {
        self.replaces = Some(replaces);
        self
    }

    /// Parses a Refer-To header value: name-addr or addr-spec with a sip, sips or tel URI.
    pub fn parse(value: &str) -> Result<ReferTo, ReferError> {
        let value = value.trim();
        if value.is_empty() {
            return Err(ReferError::Empty);
        }
        if value.len() > MAX_REFER_TO_LEN {
            return Err(ReferError::TooLong);
        }
        let malformed = || ReferError::Malformed(value.to_string());
        // RFC 3261 forbids `?` in an addr-spec header value, yet some phones send
        // `Refer-To: sip:b@h?Replaces=…` unbracketed; read that as if it had brackets.
        let na = if !value.contains('<') && value.contains('?') {
            format!("<{value}>").parse::<NameAddr>()
        } else {
            value.parse::<NameAddr>()
        }
        .map_err(|_| malformed())?;
        match &na.uri.scheme {
            Scheme::Sip | Scheme::Sips => {}
            Scheme::Other(s) if s == "tel" => {}
            Scheme::Other(s) => return Err(ReferError::Scheme(s.clone())),
        }
        let mut target = na.uri;
        let mut replaces = None;
        let mut headers = Vec::new();
        for (name, raw) in std::mem::take(&mut target.headers) {
            let name = percent_decode(&name, "URI header name")?;
            if name.eq_ignore_ascii_case("Replaces") {
                if replaces.is_some() {
                    return Err(ReferError::Replaces("more than one".into()));
                }
                replaces = Some(Replaces::parse_encoded(&raw)?);
            } else {
                headers.push((name, percent_decode(&raw, "URI header value")?));
            }
        }
        Ok(ReferTo {
            display: na.display,
            target,
            replaces,
            headers,
            params: na.params,
        })
    }

    /// The Refer-To of a REFER request (long or compact `r` name). RFC 3515 §2.4.1: exactly one.
    pub fn from_request(req: &Request) -> Result<ReferTo, ReferError> {
        let mut values = req.headers.get_all("Refer-To");
        let first = values.next().ok_or(ReferError::Missing)?;
        if values.next().is_some() || crate::msg::split_comma_values(first).len() > 1 {
            return Err(ReferError::Multiple);
        }
        ReferTo::parse(first)
    }

    /// User part of the target (`110` in `sip:110@host` or `tel:110;phone-context=…`), without
    /// user parameters. Escapes are kept verbatim, as everywhere in the message model.
    pub fn target_user(&self) -> Option<&str> {
        let raw = if self.target.is_sip() {
            self.target.user.as_deref()?
        } else {
            // tel: the whole opaque part is stored in `host`.
            self.target.host.as_str()
        };
        let user = raw.split(';').next().unwrap_or(raw);
        (!user.is_empty()).then_some(user)
    }

    /// An embedded URI header other than Replaces (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl FromStr for ReferTo {
    type Err = ReferError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ReferTo::parse(s)
    }
}

/// Always the name-addr form: the embedded headers would otherwise become header parameters.
impl fmt::Display for ReferTo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut uri = self.target.clone();
        uri.headers.clear();
        if let Some(r) = &self.replaces {
            uri.headers.push(("Replaces".into(), r.to_encoded()));
        }
        for (n, v) in &self.headers {
            uri.headers
                .push((percent_encode_hvalue(n), percent_encode_hvalue(v)));
        }
        let mut na = NameAddr::new(uri);
        na.display.clone_from(&self.display);
        na.params.clone_from(&self.params);
        write!(f, "{na}")
    }
}

/// Parses a Referred-By value (RFC 3892 §3): a name-addr or addr-spec, `cid` and other parameters kept.
pub fn parse_referred_by(value: &str) -> Result<NameAddr, ReferError> {
    value
        .parse::<NameAddr>()
        .map_err(|_| ReferError::ReferredBy(value.trim().to_string()))
}

// ---------------------------------------------------------------------------------------------
// sipfrag bodies

/// A `message/sipfrag;version=2.0` body holding only a status line (RFC 3515 §2.4.5), e.g.
/// `SIP/2.0 200 OK\r\n`. An empty reason uses the standard phrase; CR/LF in the reason are dropped
/// so the caller cannot inject lines.
pub fn sipfrag(status: u16, reason: &str) -> String {
    let reason: String = reason.chars().filter(|c| !c.is_control()).collect();
    let reason = reason.trim();
    let reason = if reason.is_empty() {
        reason_phrase(status)
    } else {
        reason
    };
    format!("SIP/2.0 {status} {reason}\r\n")
}

/// Status code and reason of a sipfrag body's status line. Leading blank lines and LF-only line
/// ends are tolerated; anything after the status line (headers of the fragment) is ignored.
pub fn parse_sipfrag(body: &[u8]) -> Result<(u16, String), ReferError> {
    let err = |why: &str| ReferError::Sipfrag(why.to_string());
    let text = std::str::from_utf8(body).map_err(|_| err("not UTF-8"))?;
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .ok_or_else(|| err("empty body"))?;
    let rest = line
        .get(..8)
        .filter(|v| v.eq_ignore_ascii_case("SIP/2.0 "))
        .and_then(|_| line.get(8..))
        .ok_or_else(|| err("no SIP/2.0 status line"))?
        .trim_start();
    let code = rest.get(..3).ok_or_else(|| err("short status line"))?;
    let after = rest.get(3..).unwrap_or("");
    if !code.bytes().all(|b| b.is_ascii_digit()) || after.starts_with(|c: char| !c.is_whitespace())
    {
        return Err(err("bad status code"));
    }
    let status: u16 = code.parse().map_err(|_| err("bad status code"))?;
    if !(100..=699).contains(&status) {
        return Err(err("status code out of range"));
    }
    Ok((status, after.trim().to_string()))
}

/// The status code of a sipfrag body.
pub fn sipfrag_status(body: &[u8]) -> Result<u16, ReferError> {
    parse_sipfrag(body).map(|(s, _)| s)
}

// ---------------------------------------------------------------------------------------------
// In-dialog REFER and NOTIFY

/// Subscription lifetime announced in provisional NOTIFYs (seconds).
pub const REFER_NOTIFY_EXPIRES: u32 = 60;

/// A REFER in `dialog` (CSeq+1, Route set, Contact as [`Dialog::new_request`] does).
pub fn refer_request(
    dialog: &mut Dialog,
    refer_to: &ReferTo,
    referred_by: Option<&NameAddr>,
) -> Request {
    let mut req = dialog.new_request(Method::Refer);
    req.headers.push("Refer-To", refer_to.to_string());
    if let Some(rb) = referred_by {
        req.headers.push("Referred-By", rb.to_string());
    }
    req
}

/// A NOTIFY reporting the progress of a REFER we accepted (RFC 3515 §2.4.4–2.4.7).
/// `event_id` is the CSeq number of that REFER (needed when a dialog carries several). A final
/// `status` (≥ 200) ends the subscription.
pub fn refer_notify(
    dialog: &mut Dialog,
    event_id: Option<u32>,
    status: u16,
    reason: &str,
) -> Request {
    let mut req = dialog.new_request(Method::Notify);
    let event = match event_id {
        Some(id) => format!("refer;id={id}"),
        None => "refer".to_string(),
    };
    req.headers.push("Event", event);
    let state = if status >= 200 {
        "terminated;reason=noresource".to_string()
    } else {
        format!("active;expires={REFER_NOTIFY_EXPIRES}")
    };
    req.headers.push("Subscription-State", state);
    req.headers.push("Content-Type", SIPFRAG_CONTENT_TYPE);
    req.body = sipfrag(status, reason).into_bytes();
    req
}

/// What a NOTIFY for a REFER we sent says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferProgress {
    pub event_id: Option<u32>,
    pub status: u16,
    pub reason: String,
    /// Subscription-State is `terminated`: no more NOTIFYs will come.
    pub terminated: bool,
}

/// Reads a NOTIFY in a REFER subscription: `Event: refer[;id=N]` and a sipfrag body.
pub fn parse_refer_notify(req: &Request) -> Result<ReferProgress, ReferError> {
    let err = |why: &str| ReferError::Notify(why.to_string());
    if req.method != Method::Notify {
        return Err(err("method is not NOTIFY"));
    }
    let event = req.headers.get("Event").ok_or_else(|| err("no Event"))?;
    let mut ev = event.split(';').map(str::trim);
    if !ev.next().is_some_and(|e| e.eq_ignore_ascii_case("refer")) {
        return Err(err("Event is not refer"));
    }
    let mut event_id = None;
    for p in ev {
        if let Some((n, v)) = p.split_once('=') {
            if n.trim().eq_ignore_ascii_case("id") {
                event_id = Some(v.trim().parse().map_err(|_| err("bad Event id"))?);
            }
        }
    }
    if let Some(ct) = req.content_type() {
        if !ct.eq_ignore_ascii_case("message/sipfrag") {
            return Err(err("body is not message/sipfrag"));
        }
    }
    let (status, reason) = parse_sipfrag(&req.body)?;
    let terminated = req.headers.get("Subscription-State").is_some_and(|s| {
        s.split(';')
            .next()
            .is_some_and(|st| st.trim().eq_ignore_ascii_case("terminated"))
    });
    Ok(ReferProgress {
        event_id,
        status,
        reason,
        terminated,
    })
}

#[cfg(test)]
mod tests;
