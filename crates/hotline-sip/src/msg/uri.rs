//! SIP URIs: schemes, parsing (escapes kept verbatim) and serialization.

use std::fmt;
use std::str::FromStr;

use super::{is_uri_char, ParseError};

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

    pub(super) fn parse_inner(s: &str) -> Result<SipUri, ParseError> {
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
pub(super) fn parse_host_port(s: &str) -> Option<(String, Option<u16>)> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
