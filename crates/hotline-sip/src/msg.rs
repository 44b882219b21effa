//! SIP message model, parser and serializer (RFC 3261 §7, §20, §25).
//!
//! The parser is hand-written and strict where RFC 4475 asks for a 400, liberal where it asks to accept.
//! Parsing happens in two steps: framing (start line, header lines, body) and validation of the headers
//! the stack relies on. [`parse_lenient`] returns the framed message plus the first validation error, so
//! the transaction layer can still answer 400/505 with the right Via/From/To/Call-ID/CSeq.
//! %-escapes are kept verbatim everywhere (never decoded).

use std::fmt;
use std::str::FromStr;

/// Upper bound for one message (datagram or stream frame).
pub const MAX_MESSAGE_SIZE: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("message larger than {MAX_MESSAGE_SIZE} bytes")]
    TooLarge,
    #[error("message is incomplete")]
    Incomplete,
    #[error("malformed start line")]
    StartLine,
    #[error("unsupported SIP version {0}")]
    Version(String),
    #[error("header section is not UTF-8")]
    Encoding,
    #[error("malformed header line")]
    HeaderLine,
    #[error("malformed {0} header")]
    Header(String),
    #[error("duplicate {0} header")]
    Duplicate(String),
    #[error("malformed URI: {0}")]
    Uri(String),
    #[error("invalid Content-Length")]
    ContentLength,
    #[error("body shorter than Content-Length")]
    BodyTooShort,
}

impl ParseError {
    /// Reason phrase used when answering a request that failed with this error.
    pub fn reason(&self) -> String {
        match self {
            ParseError::Version(_) => "Version Not Supported".into(),
            other => format!("Bad Request ({other})"),
        }
    }

    /// Status code for a request that failed with this error.
    pub fn status(&self) -> u16 {
        match self {
            ParseError::Version(_) => 505,
            _ => 400,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Method

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    Invite,
    Ack,
    Bye,
    Cancel,
    Register,
    Options,
    Info,
    Refer,
    Notify,
    Subscribe,
    Message,
    Update,
    Prack,
    Other(String),
}

impl Method {
    pub fn as_str(&self) -> &str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Register => "REGISTER",
            Method::Options => "OPTIONS",
            Method::Info => "INFO",
            Method::Refer => "REFER",
            Method::Notify => "NOTIFY",
            Method::Subscribe => "SUBSCRIBE",
            Method::Message => "MESSAGE",
            Method::Update => "UPDATE",
            Method::Prack => "PRACK",
            Method::Other(s) => s,
        }
    }

    /// Methods are case-sensitive (RFC 3261 §7.1): `invite` is an unknown method.
    pub fn parse(s: &str) -> Method {
        match s {
            "INVITE" => Method::Invite,
            "ACK" => Method::Ack,
            "BYE" => Method::Bye,
            "CANCEL" => Method::Cancel,
            "REGISTER" => Method::Register,
            "OPTIONS" => Method::Options,
            "INFO" => Method::Info,
            "REFER" => Method::Refer,
            "NOTIFY" => Method::Notify,
            "SUBSCRIBE" => Method::Subscribe,
            "MESSAGE" => Method::Message,
            "UPDATE" => Method::Update,
            "PRACK" => Method::Prack,
            other => Method::Other(other.to_string()),
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Method {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if is_token(s) {
            Ok(Method::parse(s))
        } else {
            Err(ParseError::StartLine)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Character classes

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-.!%*_+`'~".contains(c)
}

pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_token_char)
}

fn is_lws(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Characters that may appear in a URI outside `<>` context: no whitespace, no quotes, no angle
/// brackets, no control characters.
fn is_uri_char(c: char) -> bool {
    c.is_ascii_graphic() && !matches!(c, '<' | '>' | '"' | '\\' | '`' | '{' | '}' | '|' | '^')
}

// ---------------------------------------------------------------------------------------------
// URI

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scheme {
    Sip,
    Sips,
    /// Any other scheme (tel, http, isbn…), lower-cased.
    Other(String),
}

impl Scheme {
    pub fn as_str(&self) -> &str {
        match self {
            Scheme::Sip => "sip",
            Scheme::Sips => "sips",
            Scheme::Other(s) => s,
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A SIP/SIPS URI. For other schemes only `scheme` and `host` are used: `host` then holds the whole
/// opaque part after the colon (e.g. `tel:+123` → host `+123`).
/// IPv6 hosts keep their brackets (`[2001:db8::10]`). %-escapes are kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SipUri {
    pub scheme: Scheme,
    pub user: Option<String>,
    pub password: Option<String>,
    pub host: String,
    pub port: Option<u16>,
    pub params: Vec<(String, Option<String>)>,
    pub headers: Vec<(String, String)>,
}

impl SipUri {
    /// `sip:host[:port]`.
    pub fn new(host: impl Into<String>, port: Option<u16>) -> SipUri {
        SipUri {
            scheme: Scheme::Sip,
            user: None,
            password: None,
            host: host.into(),
            port,
            params: Vec::new(),
            headers: Vec::new(),
        }
    }

    pub fn with_user(mut self, user: impl Into<String>) -> SipUri {
        self.user = Some(user.into());
        self
    }

    pub fn is_sip(&self) -> bool {
        matches!(self.scheme, Scheme::Sip | Scheme::Sips)
    }

    /// Value of a URI parameter (`Some(None)` for a flag such as `lr`). Names compare case-insensitively.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
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

    /// Host without IPv6 brackets, for address parsing.
    pub fn host_unbracketed(&self) -> &str {
        unbracket(&self.host)
    }

    /// `host[:port]` as written in a URI.
    pub fn host_port(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{}", self.host, p),
            None => self.host.clone(),
        }
    }

    fn parse_inner(s: &str) -> Result<SipUri, ParseError> {
        let err = || ParseError::Uri(s.to_string());
        let colon = s.find(':').ok_or_else(err)?;
        let scheme_str = s.get(..colon).ok_or_else(err)?;
        let rest = s.get(colon + 1..).ok_or_else(err)?;
        let mut sc = scheme_str.chars();
        let first_ok = sc.next().is_some_and(|c| c.is_ascii_alphabetic());
        if !first_ok
            || !scheme_str
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            return Err(err());
        }
        if rest.is_empty() || !rest.chars().all(|c| is_uri_char(c) || !c.is_ascii()) {
            return Err(err());
        }
        let scheme = match scheme_str.to_ascii_lowercase().as_str() {
            "sip" => Scheme::Sip,
            "sips" => Scheme::Sips,
            other => {
                return Ok(SipUri {
                    scheme: Scheme::Other(other.to_string()),
                    user: None,
                    password: None,
                    host: rest.to_string(),
                    port: None,
                    params: Vec::new(),
                    headers: Vec::new(),
                });
            }
        };
        // userinfo ends at the first '@': neither host, params nor headers may hold a bare '@'
        // while the user part may hold ';', '?', ',' (RFC 4475 §3.1.1.2, §3.1.1.9).
        let (userinfo, after_user) = match rest.find('@') {
            Some(at) => (
                Some(rest.get(..at).ok_or_else(err)?),
                rest.get(at + 1..).ok_or_else(err)?,
            ),
            None => (None, rest),
        };
        let (user, password) = match userinfo {
            Some(ui) => {
                let (u, p) = match ui.find(':') {
                    Some(c) => (
                        ui.get(..c).ok_or_else(err)?,
                        Some(ui.get(c + 1..).ok_or_else(err)?.to_string()),
                    ),
                    None => (ui, None),
                };
                if u.is_empty() {
                    return Err(err());
                }
                (Some(u.to_string()), p)
            }
            None => (None, None),
        };
        let (before_headers, headers_str) = match after_user.find('?') {
            Some(q) => (
                after_user.get(..q).ok_or_else(err)?,
                Some(after_user.get(q + 1..).ok_or_else(err)?),
            ),
            None => (after_user, None),
        };
        let mut parts = before_headers.split(';');
        let hostport = parts.next().ok_or_else(err)?;
        let (host, port) = parse_host_port(hostport).ok_or_else(err)?;
        let mut params = Vec::new();
        for p in parts {
            let (n, v) = match p.find('=') {
                Some(e) => (
                    p.get(..e).ok_or_else(err)?,
                    Some(p.get(e + 1..).ok_or_else(err)?.to_string()),
                ),
                None => (p, None),
            };
            if n.is_empty() {
                return Err(err());
            }
            params.push((n.to_string(), v));
        }
        let mut headers = Vec::new();
        if let Some(hs) = headers_str {
            for h in hs.split('&') {
                let (n, v) = h.split_once('=').ok_or_else(err)?;
                if n.is_empty() {
                    return Err(err());
                }
                headers.push((n.to_string(), v.to_string()));
            }
        }
        Ok(SipUri {
            scheme,
            user,
            password,
            host,
            port,
            params,
            headers,
        })
    }
}

fn unbracket(h: &str) -> &str {
    h.strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(h)
}

/// `host[:port]` with bracketed IPv6 references. Tolerates RFC 5118 §4.10 `:::` forms.
fn parse_host_port(s: &str) -> Option<(String, Option<u16>)> {
    let (host, port_str) = if s.starts_with('[') {
        let close = s.find(']')?;
        let host = s.get(..=close)?;
        let inner = host.get(1..host.len() - 1)?;
        if inner.is_empty()
            || !inner
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return None;
        }
        let rest = s.get(close + 1..)?;
        let port = if rest.is_empty() {
            None
        } else {
            Some(rest.strip_prefix(':')?)
        };
        (host, port)
    } else {
        let (h, p) = match s.find(':') {
            Some(c) => (s.get(..c)?, Some(s.get(c + 1..)?)),
            None => (s, None),
        };
        if h.is_empty()
            || !h
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
        {
            return None;
        }
        (h, p)
    };
    let port = match port_str {
        Some(p) => {
            if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            Some(p.parse::<u16>().ok()?)
        }
        None => None,
    };
    Some((host.to_string(), port))
}

impl FromStr for SipUri {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SipUri::parse_inner(s)
    }
}

impl fmt::Display for SipUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.scheme)?;
        if !self.is_sip() {
            return f.write_str(&self.host);
        }
        if let Some(u) = &self.user {
            f.write_str(u)?;
            if let Some(p) = &self.password {
                write!(f, ":{p}")?;
            }
            f.write_str("@")?;
        }
        f.write_str(&self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        for (n, v) in &self.params {
            match v {
                Some(v) => write!(f, ";{n}={v}")?,
                None => write!(f, ";{n}")?,
            }
        }
        for (i, (n, v)) in self.headers.iter().enumerate() {
            write!(f, "{}{n}={v}", if i == 0 { '?' } else { '&' })?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Header parameters, quoted strings, comma splitting

/// Splits `s` on `sep` outside quoted strings and `<>`. `Err` on an unterminated quote or `<`.
fn split_outside(s: &str, sep: char) -> Result<Vec<&str>, ()> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_quote = false;
    let mut in_angle = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if in_quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_quote = false;
            }
            continue;
        }
        match c {
            '"' => in_quote = true,
            '<' if !in_angle => in_angle = true,
            '>' if in_angle => in_angle = false,
            c if c == sep && !in_angle => {
                out.push(s.get(start..i).ok_or(())?);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    if in_quote || in_angle {
        return Err(());
    }
    out.push(s.get(start..).ok_or(())?);
    Ok(out)
}

/// Splits a comma-joined header value into trimmed elements (empty ones kept for validation).
pub fn split_comma_values(s: &str) -> Vec<&str> {
    match split_outside(s, ',') {
        Ok(v) => v.into_iter().map(str::trim).collect(),
        Err(()) => vec![s.trim()],
    }
}

/// Parses `;name[=value]` parameters (after the leading `;` split). Values may be quoted strings,
/// which are kept with their quotes. LWS around `;` and `=` is allowed.
fn parse_params(s: &str, what: &str) -> Result<Vec<(String, Option<String>)>, ParseError> {
    let err = || ParseError::Header(what.to_string());
    let mut out = Vec::new();
    let trimmed = s.trim();
    if trimmed.is_empty() {
        return Ok(out);
    }
    let rest = trimmed.strip_prefix(';').ok_or_else(err)?;
    for p in split_outside(rest, ';').map_err(|_| err())? {
        let (n, v) = match p.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim())),
            None => (p.trim(), None),
        };
        if !is_token(n) {
            return Err(err());
        }
        if let Some(v) = v {
            if v.is_empty() {
                return Err(err());
            }
            if v.starts_with('"') {
                let (_, used) = parse_quoted(v).ok_or_else(err)?;
                if used != v.len() {
                    return Err(err());
                }
            } else if v.chars().any(|c| is_lws(c) || c == '"' || c.is_control()) {
                return Err(err());
            }
        }
        out.push((n.to_string(), v.map(str::to_string)));
    }
    Ok(out)
}

/// Parses a quoted string at the start of `s`; returns (inner text with escapes verbatim, bytes used).
fn parse_quoted(s: &str) -> Option<(&str, usize)> {
    let body = s.strip_prefix('"')?;
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        if escaped {
            // quoted-pair excludes only CR and LF
            if c == '\r' || c == '\n' {
                return None;
            }
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            return Some((body.get(..i)?, i + 2));
        }
    }
    None
}

fn write_params(f: &mut fmt::Formatter<'_>, params: &[(String, Option<String>)]) -> fmt::Result {
    for (n, v) in params {
        match v {
            Some(v) => write!(f, ";{n}={v}")?,
            None => write!(f, ";{n}")?,
        }
    }
    Ok(())
}

fn find_param<'a>(params: &'a [(String, Option<String>)], name: &str) -> Option<Option<&'a str>> {
    params
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_deref())
}

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

fn parse_name_addr(s: &str, what: &str) -> Result<NameAddr, ParseError> {
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

fn parse_via(s: &str) -> Result<Via, ParseError> {
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

// ---------------------------------------------------------------------------------------------
// Headers

/// Canonical long name for a header name (compact forms expanded, known names capitalised).
pub fn canonical_name(name: &str) -> String {
    const KNOWN: &[&str] = &[
        "Accept",
        "Accept-Encoding",
        "Accept-Language",
        "Alert-Info",
        "Allow",
        "Allow-Events",
        "Authentication-Info",
        "Authorization",
        "Call-ID",
        "Call-Info",
        "Contact",
        "Content-Disposition",
        "Content-Encoding",
        "Content-Language",
        "Content-Length",
        "Content-Type",
        "CSeq",
        "Date",
        "Error-Info",
        "Event",
        "Expires",
        "From",
        "In-Reply-To",
        "Max-Forwards",
        "Min-Expires",
        "MIME-Version",
        "Organization",
        "Path",
        "Priority",
        "Proxy-Authenticate",
        "Proxy-Authorization",
        "Proxy-Require",
        "RAck",
        "Reason",
        "Record-Route",
        "Refer-To",
        "Referred-By",
        "Reply-To",
        "Require",
        "Retry-After",
        "Route",
        "RSeq",
        "Server",
        "Session-Expires",
        "Subject",
        "Subscription-State",
        "Supported",
        "Timestamp",
        "To",
        "Unsupported",
        "User-Agent",
        "Via",
        "Warning",
        "WWW-Authenticate",
    ];
    if name.len() == 1 {
        let long = match name.to_ascii_lowercase().as_str() {
            "i" => Some("Call-ID"),
            "m" => Some("Contact"),
            "e" => Some("Content-Encoding"),
            "l" => Some("Content-Length"),
            "c" => Some("Content-Type"),
            "f" => Some("From"),
            "s" => Some("Subject"),
            "k" => Some("Supported"),
            "t" => Some("To"),
            "v" => Some("Via"),
            "o" => Some("Event"),
            "u" => Some("Allow-Events"),
            "r" => Some("Refer-To"),
            "b" => Some("Referred-By"),
            "x" => Some("Session-Expires"),
            "a" => Some("Accept-Contact"),
            "j" => Some("Reject-Contact"),
            "d" => Some("Request-Disposition"),
            "y" => Some("Identity"),
            _ => None,
        };
        if let Some(l) = long {
            return l.to_string();
        }
    }
    KNOWN
        .iter()
        .find(|k| k.eq_ignore_ascii_case(name))
        .map(|k| k.to_string())
        .unwrap_or_else(|| name.to_string())
}

/// Headers whose values are comma-separated lists (split by `get_all`).
fn is_list_header(canonical: &str) -> bool {
    matches!(
        canonical,
        "Via"
            | "Contact"
            | "Route"
            | "Record-Route"
            | "Path"
            | "Require"
            | "Proxy-Require"
            | "Supported"
            | "Unsupported"
            | "Allow"
            | "Allow-Events"
            | "Accept"
            | "Accept-Encoding"
            | "Accept-Language"
            | "Content-Encoding"
            | "Content-Language"
            | "In-Reply-To"
    )
}

/// Ordered header list with canonical names. Lookups are case-insensitive and accept compact names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    entries: Vec<(String, String)>,
}

impl Headers {
    pub fn new() -> Headers {
        Headers::default()
    }

    /// First value (whole line, not comma-split).
    pub fn get(&self, name: &str) -> Option<&str> {
        let name = canonical_name(name);
        self.entries
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(&name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value in order; list headers (Via, Contact, Route, Require…) are split on commas
    /// outside quotes and `<>`, empty elements dropped.
    pub fn get_all<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> + 'a {
        let name = canonical_name(name);
        let list = is_list_header(&name);
        let mut out: Vec<&'a str> = Vec::new();
        for (n, v) in &self.entries {
            if n.eq_ignore_ascii_case(&name) {
                if list {
                    out.extend(split_comma_values(v).into_iter().filter(|x| !x.is_empty()));
                } else {
                    out.push(v.as_str());
                }
            }
        }
        out.into_iter()
    }

    /// Number of header lines with this name.
    pub fn count(&self, name: &str) -> usize {
        let name = canonical_name(name);
        self.entries
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(&name))
            .count()
    }

    /// Replaces every line of this name with one value (appended if absent, in place otherwise).
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let name = canonical_name(name);
        let value = value.into();
        if let Some(pos) = self
            .entries
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(&name))
        {
            self.entries.retain_mut_first(pos, &name);
            if let Some(e) = self.entries.get_mut(pos) {
                e.1 = value;
            }
        } else {
            self.entries.push((name, value));
        }
    }

    pub fn push(&mut self, name: &str, value: impl Into<String>) {
        self.entries.push((canonical_name(name), value.into()));
    }

    /// Inserts a line before all others (used for Via and Route).
    pub fn push_front(&mut self, name: &str, value: impl Into<String>) {
        self.entries.insert(0, (canonical_name(name), value.into()));
    }

    pub fn remove(&mut self, name: &str) {
        let name = canonical_name(name);
        self.entries.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Raw access for the transaction layer (rewriting the top Via in place).
    pub(crate) fn entries_mut(&mut self) -> &mut Vec<(String, String)> {
        &mut self.entries
    }
}

/// Keeps the line at `pos` and drops later lines with the same name.
trait RetainFirst {
    fn retain_mut_first(&mut self, pos: usize, name: &str);
}

impl RetainFirst for Vec<(String, String)> {
    fn retain_mut_first(&mut self, pos: usize, name: &str) {
        let mut i = 0;
        self.retain(|(n, _)| {
            let keep = i <= pos || !n.eq_ignore_ascii_case(name);
            i += 1;
            keep
        });
    }
}

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

fn parse_u32_digits(s: &str) -> Option<u32> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u32>().ok()
}

fn parse_cseq(s: &str) -> Result<(u32, Method), ParseError> {
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
    fn uri_forms() {
        let u: SipUri = "sip:user;par=u%40example.net@example.com".parse().unwrap();
        assert_eq!(u.user.as_deref(), Some("user;par=u%40example.net"));
        assert_eq!(u.host, "example.com");
        let u: SipUri = "sip:[2001:db8::10:5070]".parse().unwrap();
        assert_eq!(u.port, None);
        let u: SipUri = "sip:[2001:db8::10]:5070;transport=tcp?Subject=x"
            .parse()
            .unwrap();
        assert_eq!(u.port, Some(5070));
        assert_eq!(u.param("transport"), Some(Some("tcp")));
        assert_eq!(
            u.to_string(),
            "sip:[2001:db8::10]:5070;transport=tcp?Subject=x"
        );
        assert!("sip:2001:db8::10".parse::<SipUri>().is_err());
        let u: SipUri = "tel:+1234".parse().unwrap();
        assert_eq!(u.scheme, Scheme::Other("tel".into()));
        assert_eq!(u.to_string(), "tel:+1234");
        let u: SipUri = "sip:%00@host5.example.com".parse().unwrap();
        assert_eq!(u.user.as_deref(), Some("%00"));
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

    #[test]
    fn serializer_writes_content_length() {
        let mut r = Request::new(Method::Message, "sip:a@b".parse().unwrap());
        r.headers.set("Content-Length", "999");
        r.body = b"hello".to_vec();
        let s = String::from_utf8(r.to_bytes()).unwrap();
        assert!(s.contains("Content-Length: 5\r\n\r\nhello"));
        assert!(!s.contains("999"));
    }

    #[test]
    fn headers_set_remove() {
        let mut h = Headers::new();
        h.push("v", "SIP/2.0/UDP a");
        h.push("Via", "SIP/2.0/UDP b");
        h.push("To", "<sip:x@y>");
        h.set("via", "SIP/2.0/UDP c");
        assert_eq!(h.get_all("Via").collect::<Vec<_>>(), vec!["SIP/2.0/UDP c"]);
        h.remove("t");
        assert_eq!(h.get("To"), None);
    }
}
