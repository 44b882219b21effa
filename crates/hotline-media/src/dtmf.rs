//! DTMF: SIP INFO bodies (`application/dtmf-relay`, `application/dtmf`) and RFC 4733 telephone-event
//! payloads, with the de-duplication RFC 4733 requires (an event is sent many times: start, updates, and
//! three end packets, all with the same RTP timestamp).

/// Map an RFC 4733 event code (0-15) to its DTMF character.
pub fn event_to_char(event: u8) -> Option<char> {
    Some(match event {
        0..=9 => (b'0' + event) as char,
        10 => '*',
        11 => '#',
        12..=15 => (b'A' + event - 12) as char,
        _ => return None,
    })
}

/// Map a DTMF character (case-insensitive for A-D) to its RFC 4733 event code.
pub fn char_to_event(c: char) -> Option<u8> {
    Some(match c.to_ascii_uppercase() {
        d @ '0'..='9' => d as u8 - b'0',
        '*' => 10,
        '#' => 11,
        l @ 'A'..='D' => l as u8 - b'A' + 12,
        _ => return None,
    })
}

fn single_digit(s: &str) -> Option<char> {
    let s = s.trim();
    let mut chars = s.chars();
    let c = chars.next()?;
    if chars.next().is_some() {
        // Some phones send the event number ("10" for '*') instead of the character.
        return s.parse::<u8>().ok().and_then(event_to_char);
    }
    char_to_event(c).and_then(event_to_char)
}

/// Parse a SIP INFO DTMF body. `content_type` may carry parameters (`application/dtmf-relay; charset=...`).
pub fn parse_info(content_type: &str, body: &[u8]) -> Option<char> {
    let ct = content_type.split(';').next()?.trim().to_ascii_lowercase();
    let body = std::str::from_utf8(body).ok()?;
    match ct.as_str() {
        "application/dtmf-relay" => body.lines().find_map(|line| {
            let (k, v) = line.split_once('=')?;
            if k.trim().eq_ignore_ascii_case("signal") {
                single_digit(v)
            } else {
                None
            }
        }),
        "application/dtmf" => single_digit(body),
        _ => None,
    }
}

/// One RFC 4733 telephone-event payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    pub event: u8,
    pub end: bool,
    /// Power level in -dBm0 (0..=63).
    pub volume: u8,
    /// Duration in timestamp units (samples at 8 kHz).
    pub duration: u16,
}

impl TelephoneEvent {
    /// Parse the 4-byte payload; `None` when too short.
    pub fn parse(payload: &[u8]) -> Option<TelephoneEvent> {
        let b = payload.get(0..4)?;
        Some(TelephoneEvent {
            event: b[0],
            end: b[1] & 0x80 != 0,
            volume: b[1] & 0x3F,
            duration: u16::from_be_bytes([b[2], b[3]]),
        })
    }

    /// Serialise into the 4-byte payload.
    pub fn to_bytes(&self) -> [u8; 4] {
        let d = self.duration.to_be_bytes();
        [
            self.event,
            (if self.end { 0x80 } else { 0 }) | (self.volume & 0x3F),
            d[0],
            d[1],
        ]
    }

    pub fn digit(&self) -> Option<char> {
        event_to_char(self.event)
    }
}

/// Turns the stream of telephone-event packets of one leg into one report per key press.
///
/// An event is identified by its RTP timestamp (all packets of one event share it) and its code: the first
/// packet seen of a new (timestamp, event) pair is reported, whether it is a start, an update or (if the
/// earlier packets were lost) an end packet; every later packet of it is ignored.
#[derive(Debug, Default, Clone)]
pub struct DtmfDetector {
    last: Option<(u32, u8)>,
}

impl DtmfDetector {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed one received telephone-event payload with its RTP timestamp; returns the digit once per event.
    pub fn on_packet(&mut self, rtp_timestamp: u32, payload: &[u8]) -> Option<char> {
        let ev = TelephoneEvent::parse(payload)?;
        let digit = ev.digit()?;
        let key = (rtp_timestamp, ev.event);
        if self.last == Some(key) {
            return None;
        }
        self.last = Some(key);
        Some(digit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_relay() {
        let ct = "application/dtmf-relay";
        assert_eq!(parse_info(ct, b"Signal=5\r\nDuration=160\r\n"), Some('5'));
        assert_eq!(parse_info(ct, b"Signal=*\r\nDuration=160"), Some('*'));
        assert_eq!(parse_info(ct, b"Signal=#\nDuration=160"), Some('#'));
        assert_eq!(parse_info(ct, b"signal = a\r\nduration= 100"), Some('A'));
        assert_eq!(parse_info(ct, b"Duration=160\r\nSIGNAL= D "), Some('D'));
        assert_eq!(parse_info(ct, b"Signal=10\r\n"), Some('*'));
        assert_eq!(
            parse_info("Application/DTMF-Relay; x=y", b"Signal=1"),
            Some('1')
        );
        assert_eq!(parse_info(ct, b"Signal=x\r\n"), None);
        assert_eq!(parse_info(ct, b"Duration=160"), None);
        assert_eq!(parse_info(ct, b""), None);
        assert_eq!(parse_info(ct, &[0xff, 0xfe]), None);
    }

    #[test]
    fn info_dtmf() {
        assert_eq!(parse_info("application/dtmf", b"5"), Some('5'));
        assert_eq!(parse_info("application/dtmf", b" #\r\n"), Some('#'));
        assert_eq!(parse_info("application/dtmf", b"11"), Some('#'));
        assert_eq!(parse_info("application/dtmf", b"55x"), None);
        assert_eq!(parse_info("text/plain", b"5"), None);
    }

    #[test]
    fn event_payload() {
        let ev = TelephoneEvent::parse(&[5, 0x8A, 0x03, 0x20]).unwrap();
        assert_eq!(
            ev,
            TelephoneEvent {
                event: 5,
                end: true,
                volume: 10,
                duration: 800
            }
        );
        assert_eq!(ev.to_bytes(), [5, 0x8A, 0x03, 0x20]);
        assert_eq!(TelephoneEvent::parse(&[5, 0]), None);
        for c in "0123456789*#ABCD".chars() {
            assert_eq!(event_to_char(char_to_event(c).unwrap()), Some(c));
        }
        assert_eq!(event_to_char(16), None);
    }

    #[test]
    fn detector_dedups() {
        let mut d = DtmfDetector::new();
        let start = [1u8, 10, 0, 160];
        let upd = [1u8, 10, 1, 64];
        let end = [1u8, 0x80 | 10, 3, 32];
        let got: Vec<_> = [start, upd, upd, end, end, end]
            .iter()
            .filter_map(|p| d.on_packet(1000, p))
            .collect();
        assert_eq!(got, vec!['1']);
        // Same digit again, new timestamp: a new key press.
        assert_eq!(d.on_packet(5000, &end), Some('1'));
        assert_eq!(d.on_packet(5000, &end), None);
        // Flash (16) is not a digit.
        assert_eq!(d.on_packet(9000, &[16, 0, 0, 0]), None);
        assert_eq!(d.on_packet(9000, &[1, 2]), None);
    }
}
