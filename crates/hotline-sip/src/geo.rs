//! Caller location: the Geolocation header (RFC 6442), `multipart/mixed` bodies (RFC 2046 §5.1) and
//! PIDF-LO documents (RFC 4119, RFC 5491 shapes, RFC 5139 civic addresses).
//!
//! Pure and bounded: inputs over 64 KiB or 16 body parts are refused, DOCTYPE (and so any entity
//! declaration, the XXE vector) is refused, nothing is fetched (by-reference URIs are only reported).

use std::fmt::Write as _;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::msg::{split_comma_values, Message};

/// Largest body or PIDF-LO document looked at (the largest SIP message the stack accepts).
pub const MAX_BODY_SIZE: usize = crate::msg::MAX_MESSAGE_SIZE;
/// Most body parts in one multipart body.
pub const MAX_PARTS: usize = 16;
/// Most URIs taken from Geolocation headers.
pub const MAX_GEO_URIS: usize = 16;
/// Deepest XML nesting accepted; real PIDF-LO documents stay under 10.
const MAX_XML_DEPTH: usize = 64;
/// How deep multipart bodies may nest (multipart/mixed holding a multipart/related…).
const MAX_MULTIPART_DEPTH: usize = 2;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GeoError {
    #[error("empty Geolocation value")]
    EmptyHeader,
    #[error("malformed Geolocation value: {0}")]
    Header(String),
    #[error("more than {MAX_GEO_URIS} Geolocation URIs")]
    TooManyUris,
    #[error("not a multipart body: {0}")]
    NotMultipart(String),
    #[error("missing or invalid multipart boundary")]
    Boundary,
    #[error("no body part found (boundary never seen)")]
    NoParts,
    #[error("more than {MAX_PARTS} body parts")]
    TooManyParts,
    #[error("malformed body part header: {0}")]
    PartHeader(String),
    #[error("body larger than {MAX_BODY_SIZE} bytes")]
    TooLarge,
    #[error("PIDF-LO document is not UTF-8")]
    Encoding,
    #[error("DOCTYPE declarations are not allowed in PIDF-LO")]
    Doctype,
    #[error("malformed XML: {0}")]
    Xml(String),
    #[error("XML nested deeper than {MAX_XML_DEPTH} elements")]
    TooDeep,
    #[error("not a PIDF document (root element `{0}`)")]
    NotPidf(String),
    #[error("no PIDF-LO body")]
    NoPidf,
    #[error("PIDF-LO holds no usable point or civic address")]
    NoLocation,
}

// ---------------------------------------------------------------------------------------------
// Geolocation header

/// One `<uri>;params` entry of a Geolocation header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeoUri {
    /// The URI as written between the angle brackets.
    pub uri: String,
    pub params: Vec<(String, Option<String>)>,
}

impl GeoUri {
    /// Lower-cased scheme (`cid`, `sip`, `sips`, `http`, `https`…).
    pub fn scheme(&self) -> String {
        self.uri
            .split_once(':')
            .map(|(s, _)| s.to_ascii_lowercase())
            .unwrap_or_default()
    }

    /// For a `cid:` URI, the Content-ID it names, percent-decoded (RFC 2392), without `<>`.
    pub fn content_id(&self) -> Option<String> {
        let (scheme, rest) = self.uri.split_once(':')?;
        if !scheme.eq_ignore_ascii_case("cid") || rest.is_empty() {
            return None;
        }
        crate::refer::percent_decode(rest, "cid").ok()
    }

    /// True for a location held elsewhere (http, https, sip…): we only report those, never fetch.
    pub fn is_by_reference(&self) -> bool {
        self.scheme() != "cid"
    }
}

/// Parses a Geolocation header value: `<uri>[;params], <uri>…` (RFC 6442 §4.1).
pub fn parse_geolocation(value: &str) -> Result<Vec<GeoUri>, GeoError> {
    let bad = |why: &str| GeoError::Header(why.to_string());
    if value.trim().is_empty() {
        return Err(GeoError::EmptyHeader);
    }
    let mut out = Vec::new();
    for elem in split_comma_values(value) {
        if elem.is_empty() {
            // tolerate a stray comma
            continue;
        }
        if out.len() == MAX_GEO_URIS {
            return Err(GeoError::TooManyUris);
        }
        let inner = elem
            .strip_prefix('<')
            .ok_or_else(|| bad("URI not in angle brackets"))?;
        let (uri, after) = inner.split_once('>').ok_or_else(|| bad("missing '>'"))?;
        let uri = uri.trim();
        let scheme_ok = uri.split_once(':').is_some_and(|(s, rest)| {
            s.starts_with(|c: char| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                && !rest.is_empty()
        });
        if !scheme_ok || uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("invalid URI"));
        }
        let mut params = Vec::new();
        let after = after.trim();
        if !after.is_empty() {
            let list = after
                .strip_prefix(';')
                .ok_or_else(|| bad("junk after URI"))?;
            for p in list.split(';') {
                let (n, v) = match p.split_once('=') {
                    Some((n, v)) => (n.trim(), Some(v.trim().to_string())),
                    None => (p.trim(), None),
                };
                if !crate::msg::is_token(n) {
                    return Err(bad("invalid parameter"));
                }
                params.push((n.to_string(), v));
            }
        }
        out.push(GeoUri {
            uri: uri.to_string(),
            params,
        });
    }
    if out.is_empty() {
        return Err(GeoError::EmptyHeader);
    }
    Ok(out)
}

/// All Geolocation URIs of a message (every header line), or an empty list when it has none.
pub fn geolocation_uris(msg: &impl Message) -> Result<Vec<GeoUri>, GeoError> {
    let mut out = Vec::new();
    for line in msg.headers().get_all("Geolocation") {
        out.extend(parse_geolocation(line)?);
        if out.len() > MAX_GEO_URIS {
            return Err(GeoError::TooManyUris);
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// multipart bodies

/// One part of a multipart body: its MIME headers (names as written) and the bytes after them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyPart<'a> {
    pub headers: Vec<(String, String)>,
    pub body: &'a [u8],
}

impl BodyPart<'_> {
    /// A part header by name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Lower-cased media type without parameters; `None` when the part has no Content-Type
    /// (RFC 2046 §5.1: it is then text/plain).
    pub fn content_type(&self) -> Option<String> {
        self.header("Content-Type").map(media_type)
    }

    /// Content-ID without its angle brackets.
    pub fn content_id(&self) -> Option<&str> {
        let v = self.header("Content-ID")?.trim();
        let v = v
            .strip_prefix('<')
            .and_then(|x| x.strip_suffix('>'))
            .unwrap_or(v);
        Some(v.trim())
    }
}

/// Lower-cased media type of a Content-Type value, parameters dropped.
pub fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// The `boundary` parameter of a Content-Type value, quotes removed and checked (RFC 2046 §5.1.1:
/// 1–70 characters from `bchars`, not ending in a space).
pub fn boundary(content_type: &str) -> Option<String> {
    let value = content_type.split(';').skip(1).find_map(|p| {
        let (n, v) = p.split_once('=')?;
        n.trim().eq_ignore_ascii_case("boundary").then(|| v.trim())
    })?;
    let value = match value.strip_prefix('"') {
        Some(q) => q.strip_suffix('"')?,
        None => value,
    };
    let ok = (1..=70).contains(&value.len())
        && !value.ends_with(' ')
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "'()+_,-./:=? ".contains(c));
    ok.then(|| value.to_string())
}

/// Splits a multipart body into its parts. `content_type` is the full Content-Type value (it gives
/// the boundary). CRLF and bare LF line ends are both accepted; preamble and epilogue are skipped;
/// a missing close delimiter ends the last part at the end of the body.
pub fn parse_multipart<'a>(
    content_type: &str,
    body: &'a [u8],
) -> Result<Vec<BodyPart<'a>>, GeoError> {
    if !media_type(content_type).starts_with("multipart/") {
        return Err(GeoError::NotMultipart(media_type(content_type)));
    }
    if body.len() > MAX_BODY_SIZE {
        return Err(GeoError::TooLarge);
    }
    let boundary = boundary(content_type).ok_or(GeoError::Boundary)?;
    let delim = format!("--{boundary}");
    let delim = delim.as_bytes();

    let mut parts = Vec::new();
    let mut part_start: Option<usize> = None;
    let mut pos = 0;
    loop {
        let line_end = find_byte(body, pos, b'\n').unwrap_or(body.len());
        let line = trim_cr(body.get(pos..line_end).unwrap_or_default());
        if let Some(rest) = line.strip_prefix(delim) {
            let (closing, tail) = match rest.strip_prefix(b"--") {
                Some(t) => (true, t),
                None => (false, rest),
            };
            // Transport padding (spaces, tabs) may follow a delimiter; anything else means the
            // line merely starts like one.
            if tail.iter().all(|b| *b == b' ' || *b == b'\t') {
                if let Some(start) = part_start.take() {
                    // The line break before a delimiter belongs to the delimiter.
                    let end = strip_trailing_newline(body, start, pos);
                    push_part(&mut parts, body.get(start..end).unwrap_or_default())?;
                }
                if closing {
                    return finish(parts);
                }
                part_start = Some((line_end + 1).min(body.len()));
            }
        }
        if line_end >= body.len() {
            break;
        }
        pos = line_end + 1;
    }
    if let Some(start) = part_start {
        push_part(&mut parts, body.get(start..).unwrap_or_default())?;
    }
    finish(parts)
}

fn finish(parts: Vec<BodyPart<'_>>) -> Result<Vec<BodyPart<'_>>, GeoError> {
    if parts.is_empty() {
        Err(GeoError::NoParts)
    } else {
        Ok(parts)
    }
}

fn find_byte(hay: &[u8], from: usize, needle: u8) -> Option<usize> {
    hay.get(from..)?
        .iter()
        .position(|b| *b == needle)
        .map(|i| i + from)
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// End of a part's content: `pos` (start of the delimiter line) minus the CRLF or LF before it.
fn strip_trailing_newline(body: &[u8], start: usize, pos: usize) -> usize {
    let mut end = pos;
    if end > start && body.get(end - 1) == Some(&b'\n') {
        end -= 1;
        if end > start && body.get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
    }
    end.max(start)
}

/// Splits part content at the first empty line into MIME headers and body (RFC 2046 §5.1.1).
fn push_part<'a>(parts: &mut Vec<BodyPart<'a>>, content: &'a [u8]) -> Result<(), GeoError> {
    if parts.len() == MAX_PARTS {
        return Err(GeoError::TooManyParts);
    }
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut pos = 0;
    let body_start = loop {
        let Some(nl) = find_byte(content, pos, b'\n') else {
            // No empty line: whatever is left is still header text (a part with an empty body).
            let line = trim_cr(content.get(pos..).unwrap_or_default());
            if !line.is_empty() {
                add_header_line(&mut headers, line)?;
            }
            break content.len();
        };
        let line = trim_cr(content.get(pos..nl).unwrap_or_default());
        if line.is_empty() {
            break nl + 1;
        }
        add_header_line(&mut headers, line)?;
        pos = nl + 1;
    };
    parts.push(BodyPart {
        headers,
        body: content.get(body_start..).unwrap_or_default(),
    });
    Ok(())
}

fn add_header_line(headers: &mut Vec<(String, String)>, line: &[u8]) -> Result<(), GeoError> {
    let text = String::from_utf8_lossy(line);
    // A line starting with whitespace continues the previous header (RFC 5322 folding).
    if text.starts_with([' ', '\t']) {
        if let Some(last) = headers.last_mut() {
            last.1.push(' ');
            last.1.push_str(text.trim());
            return Ok(());
        }
    }
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| GeoError::PartHeader(text.chars().take(40).collect()))?;
    let name = name.trim();
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(GeoError::PartHeader(text.chars().take(40).collect()));
    }
    headers.push((name.to_string(), value.trim().to_string()));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Finding the PIDF-LO

const PIDF: &str = "application/pidf+xml";

/// The PIDF-LO document of a body: the whole body when `content_type` is application/pidf+xml; in a
/// multipart body the part whose Content-ID a `cid:` Geolocation URI names, else the first
/// application/pidf+xml part (nested multiparts searched too).
pub fn find_pidf<'a>(
    content_type: Option<&str>,
    body: &'a [u8],
    geolocation: &[GeoUri],
) -> Result<&'a [u8], GeoError> {
    let ct = content_type.ok_or(GeoError::NoPidf)?;
    let cids: Vec<String> = geolocation.iter().filter_map(GeoUri::content_id).collect();
    find_pidf_in(ct, body, &cids, 0)
}

fn find_pidf_in<'a>(
    ct: &str,
    body: &'a [u8],
    cids: &[String],
    depth: usize,
) -> Result<&'a [u8], GeoError> {
    let mt = media_type(ct);
    if mt == PIDF {
        return Ok(body);
    }
    if !mt.starts_with("multipart/") || depth >= MAX_MULTIPART_DEPTH {
        return Err(GeoError::NoPidf);
    }
    let parts = parse_multipart(ct, body)?;
    for cid in cids {
        let hit = parts.iter().find(|p| {
            p.content_id()
                .is_some_and(|id| id.eq_ignore_ascii_case(cid))
        });
        if let Some(p) = hit {
            return Ok(p.body);
        }
    }
    if let Some(p) = parts
        .iter()
        .find(|p| p.content_type().as_deref() == Some(PIDF))
    {
        return Ok(p.body);
    }
    for p in &parts {
        if let Some(inner_ct) = p.header("Content-Type") {
            if let Ok(b) = find_pidf_in(inner_ct, p.body, cids, depth + 1) {
                return Ok(b);
            }
        }
    }
    Err(GeoError::NoPidf)
}

/// The caller's location as carried by value in a request (typically the INVITE): Geolocation
/// `cid:` URIs, the body, the PIDF-LO in it. By-reference URIs are not fetched: see
/// [`geolocation_uris`]. A malformed Geolocation header does not hide a PIDF-LO body.
pub fn message_location(msg: &impl Message) -> Result<Location, GeoError> {
    let uris = geolocation_uris(msg).unwrap_or_default();
    let pidf = find_pidf(msg.headers().get("Content-Type"), msg.body(), &uris)?;
    parse_pidf_lo(pidf)
}

// ---------------------------------------------------------------------------------------------
// PIDF-LO

/// RFC 5139 civic address elements (the ones a call-centre shows; others are ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CivicAddress {
    /// ISO 3166 alpha-2 code (`CN`).
    pub country: Option<String>,
    /// National subdivision (省 / 自治区 / 直辖市).
    pub a1: Option<String>,
    /// County, parish… (市).
    pub a2: Option<String>,
    /// City, township (区 / 县).
    pub a3: Option<String>,
    /// City division, borough (街道 / 镇).
    pub a4: Option<String>,
    /// Neighbourhood, block (社区).
    pub a5: Option<String>,
    /// Street (deprecated in favour of RD, still sent).
    pub a6: Option<String>,
    /// Leading street direction.
    pub prd: Option<String>,
    /// Trailing street suffix.
    pub pod: Option<String>,
    /// Street suffix.
    pub sts: Option<String>,
    /// House number.
    pub hno: Option<String>,
    /// House number suffix.
    pub hns: Option<String>,
    /// Landmark or vanity address.
    pub lmk: Option<String>,
    /// Additional location information.
    pub loc: Option<String>,
    /// Name (resident, business or office occupant).
    pub nam: Option<String>,
    /// Postal code.
    pub pc: Option<String>,
    /// Primary road or street.
    pub rd: Option<String>,
    /// Building.
    pub bld: Option<String>,
    /// Unit (apartment, suite).
    pub unit: Option<String>,
    /// Floor.
    pub flr: Option<String>,
    /// Room.
    pub room: Option<String>,
}

impl CivicAddress {
    fn slot(&mut self, local_name: &str) -> Option<&mut Option<String>> {
        Some(match local_name.to_ascii_uppercase().as_str() {
            "COUNTRY" => &mut self.country,
            "A1" => &mut self.a1,
            "A2" => &mut self.a2,
            "A3" => &mut self.a3,
            "A4" => &mut self.a4,
            "A5" => &mut self.a5,
            "A6" => &mut self.a6,
            "PRD" => &mut self.prd,
            "POD" => &mut self.pod,
            "STS" => &mut self.sts,
            "HNO" => &mut self.hno,
            "HNS" => &mut self.hns,
            "LMK" => &mut self.lmk,
            "LOC" => &mut self.loc,
            "NAM" => &mut self.nam,
            "PC" => &mut self.pc,
            "RD" => &mut self.rd,
            "BLD" => &mut self.bld,
            "UNIT" => &mut self.unit,
            "FLR" => &mut self.flr,
            "ROOM" => &mut self.room,
            _ => return None,
        })
    }

    pub fn is_empty(&self) -> bool {
        *self == CivicAddress::default()
    }

    /// One line, biggest area first as Chinese addresses are written: country A1…A6, street, house
    /// number, building, unit, floor, room, then LOC, NAM and LMK. Empty parts are skipped and a part
    /// equal to the one before it is dropped (senders often fill both A6 and RD).
    pub fn display(&self) -> String {
        let country = self.country.as_deref().map(|c| {
            if c.trim().eq_ignore_ascii_case("CN") {
                "中国"
            } else {
                c
            }
        });
        let house = match (self.hno.as_deref(), self.hns.as_deref()) {
            (Some(n), Some(s)) => Some(format!("{}{}", n.trim(), s.trim())),
            (Some(n), None) => Some(n.to_string()),
            (None, Some(s)) => Some(s.to_string()),
            (None, None) => None,
        };
        let ordered = [
            country,
            self.a1.as_deref(),
            self.a2.as_deref(),
            self.a3.as_deref(),
            self.a4.as_deref(),
            self.a5.as_deref(),
            self.a6.as_deref(),
            self.prd.as_deref(),
            self.rd.as_deref(),
            self.sts.as_deref(),
            self.pod.as_deref(),
            house.as_deref(),
            self.bld.as_deref(),
            self.unit.as_deref(),
            self.flr.as_deref(),
            self.room.as_deref(),
            self.loc.as_deref(),
            self.nam.as_deref(),
            self.lmk.as_deref(),
        ];
        let mut words: Vec<&str> = Vec::new();
        for w in ordered.into_iter().flatten().map(str::trim) {
            if !w.is_empty() && words.last() != Some(&w) {
                words.push(w);
            }
        }
        words.join(" ")
    }
}

/// What a PIDF-LO document says about where the caller is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Location {
    /// WGS 84 (latitude, longitude) in degrees: a Point, or the centre of a Circle, Sphere or Ellipse.
    pub point: Option<(f64, f64)>,
    /// Uncertainty radius in metres (Circle, Sphere; an Ellipse's semi-major axis).
    pub radius_m: Option<f64>,
    pub civic: Option<CivicAddress>,
    /// How the location was determined (`gp:method`: GPS, Cell, Wiremap, 802.11…).
    pub method: Option<String>,
    /// The `entity` attribute of `<presence>` (`pres:alice@atlanta.example.com`).
    pub raw_entity: Option<String>,
}

impl Location {
    /// The civic address on one line when there is one, else `lat,lon (±r m)`; empty when neither.
    pub fn describe(&self) -> String {
        if let Some(c) = &self.civic {
            let d = c.display();
            if !d.is_empty() {
                return d;
            }
        }
        let Some((lat, lon)) = self.point else {
            return String::new();
        };
        let mut s = format!("{lat},{lon}");
        if let Some(r) = self.radius_m {
            let _ = write!(s, " (±{r} m)");
        }
        s
    }
}

/// GML shapes whose centre we take as the caller's point (RFC 5491 §5.2).
const SHAPES: &[&str] = &["Point", "Circle", "Sphere", "Ellipse", "Ellipsoid"];

struct Shape {
    kind: String,
    pos: Option<(f64, f64)>,
    radius: Option<f64>,
}

/// Parses a PIDF-LO document. Elements are matched on local names, so any prefix (`gml:`, `gp:`,
/// `ca:`, `cl:`) or a default namespace works. The first usable shape and the first non-empty civic
/// address win. Fails with [`GeoError::NoLocation`] when neither is present.
pub fn parse_pidf_lo(xml: &[u8]) -> Result<Location, GeoError> {
    if xml.len() > MAX_BODY_SIZE {
        return Err(GeoError::TooLarge);
    }
    let xml = xml.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(xml);
    let text = std::str::from_utf8(xml).map_err(|_| GeoError::Encoding)?;
    let xml_err = |e: &dyn std::fmt::Display| GeoError::Xml(e.to_string());
    let mut reader = Reader::from_str(text);

    let mut loc = Location::default();
    let mut stack: Vec<String> = Vec::new();
    let mut buf = String::new();
    let mut shape: Option<Shape> = None;
    let mut civic: Option<CivicAddress> = None;
    let mut seen_root = false;
    loop {
        let ev = reader.read_event().map_err(|e| xml_err(&e))?;
        let (start, empty) = match &ev {
            Event::Start(e) => (Some(e), false),
            Event::Empty(e) => (Some(e), true),
            _ => (None, false),
        };
        if let Some(e) = start {
            let name = local_name(e);
            if stack.is_empty() {
                if seen_root {
                    return Err(GeoError::Xml("content after the root element".into()));
                }
                seen_root = true;
                if name != "presence" {
                    return Err(GeoError::NotPidf(name));
                }
                loc.raw_entity = attribute(e, "entity")?;
            }
            if stack.len() >= MAX_XML_DEPTH {
                return Err(GeoError::TooDeep);
            }
            if SHAPES.contains(&name.as_str()) && shape.is_none() {
                shape = Some(Shape {
                    kind: name.clone(),
                    pos: None,
                    radius: None,
                });
            }
            if name == "civicAddress" && civic.is_none() && loc.civic.is_none() {
                civic = Some(CivicAddress::default());
            }
            buf.clear();
            if empty {
                end_element(&name, "", &mut loc, &mut shape, &mut civic);
            } else {
                stack.push(name);
            }
            continue;
        }
        match ev {
            Event::Text(t) => buf.push_str(&t.unescape().map_err(|e| xml_err(&e))?),
            Event::CData(c) => {
                buf.push_str(std::str::from_utf8(&c.into_inner()).map_err(|_| GeoError::Encoding)?)
            }
            Event::End(_) => {
                // quick-xml checks that end tags match their start tags.
                let name = stack.pop().unwrap_or_default();
                end_element(&name, buf.trim(), &mut loc, &mut shape, &mut civic);
                buf.clear();
            }
            Event::DocType(_) => return Err(GeoError::Doctype),
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen_root {
        return Err(GeoError::Xml("no root element".into()));
    }
    if !stack.is_empty() {
        return Err(GeoError::Xml("document ends inside an element".into()));
    }
    if loc.point.is_none() && loc.civic.is_none() {
        return Err(GeoError::NoLocation);
    }
    Ok(loc)
}

fn local_name(e: &BytesStart<'_>) -> String {
    String::from_utf8_lossy(e.local_name().as_ref()).into_owned()
}

fn attribute(e: &BytesStart<'_>, local: &str) -> Result<Option<String>, GeoError> {
    for a in e.attributes() {
        let a = a.map_err(|err| GeoError::Xml(err.to_string()))?;
        if a.key.local_name().as_ref() == local.as_bytes() {
            let v = a
                .unescape_value()
                .map_err(|err| GeoError::Xml(err.to_string()))?;
            return Ok(Some(v.trim().to_string()).filter(|v| !v.is_empty()));
        }
    }
    Ok(None)
}

/// Applies the text of a closing element to what is being collected.
fn end_element(
    name: &str,
    text: &str,
    loc: &mut Location,
    shape: &mut Option<Shape>,
    civic: &mut Option<CivicAddress>,
) {
    if let Some(c) = civic.as_mut() {
        if name == "civicAddress" {
            if let Some(done) = civic.take().filter(|c| !c.is_empty()) {
                loc.civic = Some(done);
            }
        } else if let Some(slot) = c.slot(name) {
            if slot.is_none() && !text.is_empty() {
                *slot = Some(text.to_string());
            }
        }
        return;
    }
    if let Some(s) = shape.as_mut() {
        if name == s.kind {
            if let Some(s) = shape.take() {
                if loc.point.is_none() {
                    if let Some(p) = s.pos {
                        loc.point = Some(p);
                        loc.radius_m = s.radius;
                    }
                }
            }
        } else if name == "pos" && s.pos.is_none() {
            s.pos = parse_pos(text);
        } else if matches!(name, "radius" | "semiMajorAxis") && s.radius.is_none() {
            // RFC 5491 §5.1: distances are in metres (urn:ogc:def:uom:EPSG::9001).
            s.radius = text
                .parse::<f64>()
                .ok()
                .filter(|r| r.is_finite() && *r >= 0.0);
        }
        return;
    }
    if name == "method" && loc.method.is_none() && !text.is_empty() {
        loc.method = Some(text.to_string());
    }
}

/// `lat lon [alt]` in degrees (EPSG 4326/4979 axis order), checked for range.
fn parse_pos(text: &str) -> Option<(f64, f64)> {
    let nums: Vec<f64> = text
        .split_whitespace()
        .map(str::parse::<f64>)
        .collect::<Result<_, _>>()
        .ok()?;
    let (lat, lon) = match nums.as_slice() {
        [lat, lon] | [lat, lon, _] => (*lat, *lon),
        _ => return None,
    };
    let ok = lat.is_finite()
        && lon.is_finite()
        && (-90.0..=90.0).contains(&lat)
        && (-180.0..=180.0).contains(&lon);
    ok.then_some((lat, lon))
}

#[cfg(test)]
mod tests;
