//! Name-addr values (From, To, Contact, Route…) and Via headers.

use std::fmt;
use std::str::FromStr;

use super::headers::{find_param, parse_params, parse_quoted, write_params};
use super::uri::parse_host_port;
use super::{is_lws, is_token, is_token_char, ParseError, SipUri};

// ---------------------------------------------------------------------------------------------
// NameAddr

/// `display-name <uri>;params` or `uri;params` (From, To, Contact, Route…).
/// `display` holds the display name as written: for a quoted name the text between the quotes with
/// escapes kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    pub display: Option<String>,
    pub uri: SipUri,
    pub params: Vec<(String, Option<String>)>,
}

impl NameAddr {
    pub fn new(uri: SipUri) -> NameAddr {
        NameAddr {
            display: None,
            uri,
            params: Vec::new(),
        }
    }

    pub fn tag(&self) -> Option<&str> {
        self.param("tag").flatten()
    }

    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        find_param(&self.params, name)
    }

    pub fn set_param(&mut self, name: &str, value: Option<&str>) {
        let value = value.map(str::to_string);
        if let Some(p) = self
            .params
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            p.1 = value;
        } else {
            self.params.push((name.to_string(), value));
        }
    }

    pub fn set_tag(&mut self, tag: &str) {
        self.set_param("tag", Some(tag));
    }
}

impl FromStr for NameAddr {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_name_addr(s, "name-addr")
    }
}

pub(super) fn parse_name_addr(s: &str, what: &str) -> Result<NameAddr, ParseError> {
    let err = || ParseError::Header(what.to_string());
    let s = s.trim();
    if s.is_empty() {
        return Err(err());
    }
    let (display, after_display) = if s.starts_with('"') {
        let (inner, used) = parse_quoted(s).ok_or_else(err)?;
        let rest = s.get(used..).ok_or_else(err)?.trim_start();
        if !rest.starts_with('<') {
            return Err(err());
        }
        (Some(inner.to_string()), rest)
    } else if let Some(lt) = s.find('<') {
        let d = s.get(..lt).ok_or_else(err)?.trim();
        // display-name = *(token LWS) / quoted-string
        if !d.chars().all(|c| is_token_char(c) || is_lws(c)) {
            return Err(err());
        }
        let d = if d.is_empty() {
            None
        } else {
            Some(d.to_string())
        };
        (d, s.get(lt..).ok_or_else(err)?)
    } else {
        // addr-spec form: parameters after the URI belong to the header, and the URI may
        // carry neither parameters, headers nor commas of its own (RFC 3261 §20.10).
        let (uri_str, params_str) = match s.find(';') {
            Some(i) => (s.get(..i).ok_or_else(err)?, s.get(i..).ok_or_else(err)?),
            None => (s, ""),
        };
        if uri_str.contains('?') || uri_str.contains(',') {
            return Err(err());
        }
        let uri = SipUri::parse_inner(uri_str.trim()).map_err(|_| err())?;
        let params = parse_params(params_str, what)?;
        return Ok(NameAddr {
            display: None,
            uri,
            params,
        });
    };
    let inner_start = after_display.strip_prefix('<').ok_or_else(err)?;
    let gt = inner_start.find('>').ok_or_else(err)?;
    let uri_str = inner_start.get(..gt).ok_or_else(err)?;
    // No LWS inside <> (RFC 4475 §3.1.2.14).
    let uri = SipUri::parse_inner(uri_str).map_err(|_| err())?;
    let params = parse_params(inner_start.get(gt + 1..).ok_or_else(err)?, what)?;
    Ok(NameAddr {
        display,
        uri,
        params,
    })
}

impl fmt::Display for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(d) = &self.display {
            if d.chars().all(|c| is_token_char(c) || c == ' ') && !d.is_empty() {
                write!(f, "{d} ")?;
            } else {
                write!(f, "\"{d}\" ")?;
            }
        }
        write!(f, "<{}>", self.uri)?;
        write_params(f, &self.params)
    }
}

// ---------------------------------------------------------------------------------------------
// Via

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// Upper-case transport token (UDP, TCP, TLS, WS, SCTP or anything else).
    pub transport: String,
    pub host: String,
    pub port: Option<u16>,
    pub branch: Option<String>,
    /// `None`: no rport; `Some(None)`: `;rport` flag; `Some(Some(p))`: filled in.
    pub rport: Option<Option<u16>>,
    pub received: Option<String>,
    /// Other parameters, in order.
    pub params: Vec<(String, Option<String>)>,
}

/// RFC 3261 branch prefix.
pub const MAGIC_COOKIE: &str = "z9hG4bK";

impl Via {
    /// A Via for a request we originate, with a fresh branch and the `rport` flag (RFC 3581).
    pub fn new(transport: crate::Transport, host: impl Into<String>, port: Option<u16>) -> Via {
        Via {
            transport: transport.as_str().to_string(),
            host: host.into(),
            port,
            branch: Some(crate::util::new_branch()),
            rport: Some(None),
            received: None,
            params: Vec::new(),
        }
    }

    pub fn with_branch(mut self, branch: impl Into<String>) -> Via {
        self.branch = Some(branch.into());
        self
    }

    /// True when the branch carries the RFC 3261 magic cookie and something after it.
    pub fn is_rfc3261(&self) -> bool {
        self.branch
            .as_deref()
            .is_some_and(|b| b.len() > MAGIC_COOKIE.len() && b.starts_with(MAGIC_COOKIE))
    }

    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        find_param(&self.params, name)
    }

    /// `host[:port]`, the sent-by.
    pub fn sent_by(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{}", self.host, p),
            None => self.host.clone(),
        }
    }
}

impl FromStr for Via {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_via(s)
    }
}

pub(super) fn parse_via(s: &str) -> Result<Via, ParseError> {
    let err = || ParseError::Header("Via".into());
    // sent-protocol = "SIP" / "2.0" / transport, LWS allowed around the slashes.
    let mut rest = s.trim();
    let mut parts = Vec::with_capacity(3);
    for i in 0..3 {
        let end = rest.find(|c: char| !is_token_char(c)).unwrap_or(rest.len());
        let tok = rest.get(..end).ok_or_else(err)?;
        if tok.is_empty() {
            return Err(err());
        }
        parts.push(tok);
        rest = rest.get(end..).ok_or_else(err)?.trim_start();
        if i < 2 {
            rest = rest.strip_prefix('/').ok_or_else(err)?.trim_start();
        }
    }
    let (name, version, transport) = match parts.as_slice() {
        [a, b, c] => (*a, *b, *c),
        _ => return Err(err()),
    };
    if !name.eq_ignore_ascii_case("SIP") || version != "2.0" {
        return Err(err());
    }
    let (sent_by, params_str) = match rest.find(';') {
        Some(i) => (
            rest.get(..i).ok_or_else(err)?,
            rest.get(i..).ok_or_else(err)?,
        ),
        None => (rest, ""),
    };
    let (host, port) = parse_host_port(sent_by.trim()).ok_or_else(err)?;
    let mut via = Via {
        transport: transport.to_ascii_uppercase(),
        host,
        port,
        branch: None,
        rport: None,
        received: None,
        params: Vec::new(),
    };
    let params_str = params_str.trim();
    if params_str.is_empty() {
        return Ok(via);
    }
    let params_body = params_str.strip_prefix(';').ok_or_else(err)?;
    for p in params_body.split(';') {
        let (n, v) = match p.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim())),
            None => (p.trim(), None),
        };
        if !is_token(n) {
            return Err(err());
        }
        // received may be a bare IPv6 address (RFC 5118 §4.5): values are checked loosely.
        if let Some(v) = v {
            if v.is_empty() || v.chars().any(|c| is_lws(c) || c.is_control() || c == ',') {
                return Err(err());
            }
        }
        match (n.to_ascii_lowercase().as_str(), v) {
            ("branch", Some(v)) => via.branch = Some(v.to_string()),
            ("received", Some(v)) => via.received = Some(v.to_string()),
            ("rport", None) => via.rport = Some(None),
            ("rport", Some(v)) => via.rport = Some(Some(v.parse::<u16>().map_err(|_| err())?)),
            ("branch", None) | ("received", None) => return Err(err()),
            _ => via.params.push((n.to_string(), v.map(str::to_string))),
        }
    }
    Ok(via)
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SIP/2.0/{} {}", self.transport, self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        if let Some(b) = &self.branch {
            write!(f, ";branch={b}")?;
        }
        write_params(f, &self.params)?;
        if let Some(r) = &self.received {
            write!(f, ";received={r}")?;
        }
        match self.rport {
            Some(Some(p)) => write!(f, ";rport={p}")?,
            Some(None) => f.write_str(";rport")?,
            None => {}
        }
        Ok(())
    }
}
