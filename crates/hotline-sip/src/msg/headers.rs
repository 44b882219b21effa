//! Header parameters, quoted strings, comma splitting and the ordered header list.

use std::fmt;

use super::{is_lws, is_token, ParseError};

// ---------------------------------------------------------------------------------------------
// Header parameters, quoted strings, comma splitting

/// Splits `s` on `sep` outside quoted strings and `<>`. `Err` on an unterminated quote or `<`.
pub(super) fn split_outside(s: &str, sep: char) -> Result<Vec<&str>, ()> {
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
pub(super) fn parse_params(
    s: &str,
    what: &str,
) -> Result<Vec<(String, Option<String>)>, ParseError> {
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
pub(super) fn parse_quoted(s: &str) -> Option<(&str, usize)> {
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

pub(super) fn write_params(
    f: &mut fmt::Formatter<'_>,
    params: &[(String, Option<String>)],
) -> fmt::Result {
    for (n, v) in params {
        match v {
            Some(v) => write!(f, ";{n}={v}")?,
            None => write!(f, ";{n}")?,
        }
    }
    Ok(())
}

pub(super) fn find_param<'a>(
    params: &'a [(String, Option<String>)],
    name: &str,
) -> Option<Option<&'a str>> {
    params
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_deref())
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
    pub(super) entries: Vec<(String, String)>,
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

#[cfg(test)]
mod tests {
    use super::*;

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
