//! `[emergency]` and `[sos]` (issue 4): where three-way calls and transfers are dialled, and how SOS calls are
//! served.

use super::*;

impl Ctx<'_> {
    pub(super) fn emergency(&self, raw: BTreeMap<String, String>) -> R<BTreeMap<String, String>> {
        for (number, uri) in &raw {
            let key = format!("emergency.{number}");
            if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit()) {
                return Err(self.err(&key, format!("`{number}` is not a short number (digits)")));
            }
            let parsed = uri.trim().parse::<hotline_sip::SipUri>().ok();
            let Some(u) = parsed.filter(|u| u.is_sip() && uri.trim() == uri) else {
                return Err(self.err(
                    &key,
                    format!("`{uri}` is not a sip: URI, e.g. sip:{number}@192.0.2.10:5060"),
                ));
            };
            if u.host_unbracketed().parse::<IpAddr>().is_err() {
                return Err(self.err(
                    &key,
                    format!(
                        "`{uri}`: the host must be an IP address (the switch does no DNS lookups)"
                    ),
                ));
            }
        }
        Ok(raw)
    }

    pub(super) fn sos(
        &self,
        raw: Option<raw::RawSos>,
        lines: &[LineConfig],
        queues: &[QueueConfig],
        emergency: &BTreeMap<String, String>,
        trunks: &TrunksConfig,
    ) -> R<Option<SosConfig>> {
        let sos_line = lines.iter().find(|l| l.kind == LineKind::Sos);
        let raw = match (raw, sos_line) {
            (None, None) => return Ok(None),
            (Some(r), _) => r,
            (None, Some(_)) => raw::RawSos::default(),
        };
        // Without [sos] queue, an SOS line's own queue is the natural choice.
        let default_queue = sos_line.map_or("sos", |l| l.queue.as_str());
        let queue = raw.queue.unwrap_or_else(|| default_queue.to_string());
        if !queues.iter().any(|q| q.name == queue) {
            return Err(self.err(
                "sos.queue",
                unknown("queue", &queue, queues.iter().map(|q| &q.name)),
            ));
        }
        let ring_agents = self.positive("sos.ring_agents", raw.ring_agents, 5)?;
        let ring_agents = self.u32("sos.ring_agents", ring_agents)?;
        let escalate_after_secs =
            self.non_negative("sos.escalate_after_secs", raw.escalate_after_secs, 20)?;
        let escalate_to = match raw.escalate_to {
            None => emergency.contains_key("120").then(|| "120".to_string()),
            Some(n) => {
                if n.is_empty() || !n.chars().all(|c| c.is_ascii_digit()) {
                    return Err(self.err("sos.escalate_to", format!("`{n}` is not a number")));
                }
                if !emergency.contains_key(&n) && trunks.outbound.is_none() {
                    return Err(self.err(
                        "sos.escalate_to",
                        format!(
                            "`{n}` is not in [emergency] and there is no [trunks.outbound] to dial it"
                        ),
                    ));
                }
                Some(n)
            }
        };
        let contact_ring_secs =
            self.positive("sos.contact_ring_secs", raw.contact_ring_secs, 30)?;
        let announcements_dir = match raw.announcements_dir {
            None => PathBuf::from("data/sos"),
            Some(s) if s.trim().is_empty() => {
                return Err(self.err("sos.announcements_dir", "must not be empty"))
            }
            Some(s) => PathBuf::from(s),
        };
        Ok(Some(SosConfig {
            queue,
            ring_agents,
            escalate_after_secs,
            escalate_to,
            contact_ring_secs,
            announcements_dir,
        }))
    }
}
