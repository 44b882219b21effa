//! SIP message model, parser and serializer (RFC 3261 §7, §20, §25).
//!
//! The parser is hand-written and strict where RFC 4475 asks for a 400, liberal where it asks to accept.
//! Parsing happens in two steps: framing (start line, header lines, body) and validation of the headers
//! the stack relies on. [`parse_lenient`] returns the framed message plus the first validation error, so
//! the transaction layer can still answer 400/505 with the right Via/From/To/Call-ID/CSeq.
//! %-escapes are kept verbatim everywhere (never decoded).

mod addr;
mod headers;
mod message;
mod parse;
mod uri;

pub use addr::{NameAddr, Via, MAGIC_COOKIE};
pub use headers::{canonical_name, split_comma_values, Headers};
pub(crate) use message::set_top_via;
pub use message::{parse_delta_seconds, reason_phrase, Message, Request, Response, SipMessage};
pub use parse::{
    frame_stream, keepalive_len, parse_datagram, parse_lenient, validate_headers, Framing,
};
pub use uri::{Scheme, SipUri};

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
