//! The automatic side: when the next warning or supervision is due, firing them, and each clock's ladder.

use chrono::{DateTime, Utc};

use super::*;

impl Ticket {
    /// The next instant at which [`Ticket::handle_timeout`] has something to do.
    /// A clock running before the ticket has a policy (first response) warns at the default percentages.
    pub fn poll_timeout(&self) -> Option<DateTime<Utc>> {
        let policy = self.policy.as_ref();
        self.clocks
            .iter()
            .filter(|c| c.stopped_at.is_none())
            .filter_map(|c| stages(c, policy).get(c.fired).map(|(t, _)| *t))
            .min()
    }

    /// Fire every warning and automatic supervision due by `now`.
    pub fn handle_timeout(&mut self, now: DateTime<Utc>) -> Vec<Event> {
        let mut ev = Vec::new();
        let policy = self.policy.clone();
        let mut raised = Vec::new();
        for c in self.clocks.iter_mut().filter(|c| c.stopped_at.is_none()) {
            let st = stages(c, policy.as_ref());
            while let Some((t, stage)) = st.get(c.fired) {
                if *t > now {
                    break;
                }
                c.fired += 1;
                match stage {
                    Stage::Warning { percent } => ev.push(Event::Warning {
                        clock: c.id,
                        kind: c.kind,
                        assignment: c.assignment,
                        percent: *percent,
                    }),
                    Stage::Supervision { level } => raised.push((c.assignment, *level, c.kind, *t)),
                }
            }
        }
        for (assignment, level, kind, _) in raised {
            let reason = format!("automatic: {kind:?} clock");
            self.supervise(assignment, level, true, reason, now, &mut ev);
        }
        ev
    }
}

/// The escalation ladder of a clock, in time order (a warning before an urge at the same instant). Without a
/// policy (a clock running before dispatch, such as first response) only the warnings of the default
/// [`Escalation`] apply.
pub fn stages(c: &SlaClock, policy: Option<&SlaPolicy>) -> Vec<(DateTime<Utc>, Stage)> {
    let default;
    let (esc, escalates) = match policy {
        Some(p) => (&p.escalation, c.kind.escalates()),
        None => {
            default = Escalation::default();
            (&default, false)
        }
    };
    let total = c.due - c.start;
    let at = |p: u8| {
        total
            .checked_mul(i32::from(p))
            .and_then(|d| d.checked_div(100))
            .and_then(|d| c.start.checked_add_signed(d))
    };
    let mut out = Vec::new();
    for &p in &esc.warn_percent {
        if let Some(t) = at(p) {
            out.push((t, Stage::Warning { percent: p }));
        }
    }
    if escalates {
        if let Some(t) = esc.urge_percent.and_then(at) {
            out.push((
                t,
                Stage::Supervision {
                    level: SupervisionLevel::Urge,
                },
            ));
        }
        if esc.supervise_at_due {
            out.push((
                c.due,
                Stage::Supervision {
                    level: SupervisionLevel::Supervise,
                },
            ));
        }
        if let Some(t) = c.notice_at {
            out.push((
                t,
                Stage::Supervision {
                    level: SupervisionLevel::Notice,
                },
            ));
        }
    }
    // Stable sort keeps warnings ahead of supervision at the same instant.
    out.sort_by_key(|(t, _)| *t);
    out
}
