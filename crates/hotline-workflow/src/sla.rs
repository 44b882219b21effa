//! Deadlines (时限): SLA lengths, the calendar trait that turns them into instants, and the per-ticket policy.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{TicketType, Urgency};

/// A length of time for a clock. Working days (工作日) need a calendar; see [`Clock`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sla {
    Minutes(u32),
    Hours(u32),
    WorkingDays(u32),
}

impl Sla {
    /// The elapsed-time lengths, which need no calendar; `None` for working days.
    /// Calendars can use it for the easy cases.
    pub fn elapsed(self) -> Option<Duration> {
        match self {
            Sla::Minutes(n) => Some(Duration::minutes(i64::from(n))),
            Sla::Hours(n) => Some(Duration::hours(i64::from(n))),
            Sla::WorkingDays(_) => None,
        }
    }
}

/// Turns a start and an SLA into a due instant. The real implementation (hotline-calendar) knows official days
/// off and make-up working days (调休); the workflow only asks, so it never reads a clock or a calendar file.
pub trait Clock {
    /// "N working days" starts on the first working day after `start` and ends at the end of the Nth one.
    fn due(&self, start: DateTime<Utc>, sla: Sla) -> DateTime<Utc>;

    /// Moves an existing due time on by `sla` (an extension, or 通报 at due + X). Separate from [`Clock::due`]
    /// because a due time at the end of a working day plus N working days must end at the end of the Nth
    /// *following* working day, and only the calendar knows how it represents "end of day".
    fn extend(&self, due: DateTime<Utc>, sla: Sla) -> DateTime<Utc> {
        self.due(due, sla)
    }
}

/// Resolve (办结) time by ticket type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct ResolveByType {
    pub consult: Sla,
    pub help: Sla,
    pub complaint: Sla,
    pub report: Sla,
    pub suggestion: Sla,
    pub praise: Sla,
    pub other: Sla,
}

impl ResolveByType {
    pub fn get(&self, t: TicketType) -> Sla {
        match t {
            TicketType::Consult => self.consult,
            TicketType::Help => self.help,
            TicketType::Complaint => self.complaint,
            TicketType::Report => self.report,
            TicketType::Suggestion => self.suggestion,
            TicketType::Praise => self.praise,
            TicketType::Other => self.other,
        }
    }

    fn all(s: Sla) -> Self {
        ResolveByType {
            consult: s,
            help: s,
            complaint: s,
            report: s,
            suggestion: s,
            praise: s,
            other: s,
        }
    }
}

/// When a running clock warns and escalates. Percentages are of the wall time between start and due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct Escalation {
    /// Warnings (预警), e.g. 50 % and 80 %.
    pub warn_percent: Vec<u8>,
    /// 催办 (urge) at this share of the clock, e.g. 80 %.
    pub urge_percent: Option<u8>,
    /// 督办 (supervise) when the clock is due.
    pub supervise_at_due: bool,
    /// 通报 (notice) this long after the due time.
    pub notice_after: Option<Sla>,
}

impl Default for Escalation {
    fn default() -> Self {
        Escalation {
            warn_percent: vec![50, 80],
            urge_percent: Some(80),
            supervise_at_due: true,
            notice_after: Some(Sla::WorkingDays(1)),
        }
    }
}

fn default_onsite_urgent() -> Option<Sla> {
    Some(Sla::Minutes(30))
}

/// The time rules of one ticket, copied onto it when it enters dispatch so that a later policy change does not
/// move old tickets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct SlaPolicy {
    /// 派单 time from entering dispatch, by urgency.
    pub dispatch_normal: Sla,
    pub dispatch_urgent: Sla,
    pub dispatch_critical: Sla,
    /// 签收 (sign) time from dispatch.
    pub sign: Sla,
    /// First contact with the caller, from dispatch.
    pub first_contact: Sla,
    /// 紧急到场: for an urgent or critical ticket, each top-level unit must be on site (a contact recorded as
    /// [`ContactMethod::Visit`](crate::ContactMethod::Visit)) this long after dispatch; `None` for no such clock.
    /// Policies stored before the field existed read as the 30-minute default: the clock only starts at dispatch,
    /// so a ticket dispatched earlier never gains one, and one still waiting for dispatch gets the centre's rule.
    #[serde(default = "default_onsite_urgent")]
    pub onsite_urgent: Option<Sla>,
    /// 办结 (resolve) time from dispatch, by type; also the length of a reopen (重办).
    pub resolve: ResolveByType,
    /// 回访 (callback) time from the approved reply.
    pub callback: Sla,
    /// A unit may ask for a return (退单) only this long after dispatch.
    pub return_window: Sla,
    /// Extensions (延期) a unit may be granted per assignment.
    pub max_extensions: u32,
    /// The longest single extension, in working days.
    pub max_extension_days: u32,
    pub escalation: Escalation,
}

impl SlaPolicy {
    /// Common defaults with the given resolve times: dispatch urgent 15 min / normal 24 h, sign and first contact
    /// 1 working day, on site within 30 min for urgent tickets, callback 1 working day, return within 1 working
    /// day, one extension of at most 10 working days.
    pub fn with_resolve(resolve: ResolveByType) -> Self {
        SlaPolicy {
            dispatch_normal: Sla::Hours(24),
            dispatch_urgent: Sla::Minutes(15),
            dispatch_critical: Sla::Minutes(15),
            sign: Sla::WorkingDays(1),
            first_contact: Sla::WorkingDays(1),
            onsite_urgent: default_onsite_urgent(),
            resolve,
            callback: Sla::WorkingDays(1),
            return_window: Sla::WorkingDays(1),
            max_extensions: 1,
            max_extension_days: 10,
            escalation: Escalation::default(),
        }
    }

    /// Laishan (莱山): consult 2 h, help 2 WD, complaint 5 WD; the other types take the complaint time.
    pub fn laishan() -> Self {
        let mut r = ResolveByType::all(Sla::WorkingDays(5));
        r.consult = Sla::Hours(2);
        r.help = Sla::WorkingDays(2);
        Self::with_resolve(r)
    }

    /// Changchun (长春): consult and complaint 1 WD, help and suggestion 2 WD; report as complaint, the rest 2 WD.
    pub fn changchun() -> Self {
        let mut r = ResolveByType::all(Sla::WorkingDays(2));
        r.consult = Sla::WorkingDays(1);
        r.complaint = Sla::WorkingDays(1);
        r.report = Sla::WorkingDays(1);
        Self::with_resolve(r)
    }

    /// Guangdong (广东): consult 2 WD, help/complaint/report 10 WD, suggestion 15 WD; praise and other 10 WD.
    pub fn guangdong() -> Self {
        let mut r = ResolveByType::all(Sla::WorkingDays(10));
        r.consult = Sla::WorkingDays(2);
        r.suggestion = Sla::WorkingDays(15);
        Self::with_resolve(r)
    }

    /// Shandong (山东): 5 WD for every type.
    pub fn shandong() -> Self {
        Self::with_resolve(ResolveByType::all(Sla::WorkingDays(5)))
    }

    pub fn dispatch(&self, u: Urgency) -> Sla {
        match u {
            Urgency::Normal => self.dispatch_normal,
            Urgency::Urgent => self.dispatch_urgent,
            Urgency::Critical => self.dispatch_critical,
        }
    }

    /// The on-site (到场) time for a ticket of this urgency: [`SlaPolicy::onsite_urgent`] for urgent and critical
    /// tickets, `None` for normal ones.
    pub fn onsite(&self, u: Urgency) -> Option<Sla> {
        match u {
            Urgency::Normal => None,
            Urgency::Urgent | Urgency::Critical => self.onsite_urgent,
        }
    }
}
