//! The ticket's record of third parties (handoffs: partner, mode, dialled / answered / agent-left / ended
//! times, outcome) and the call's recording.
//!
//! Handoff rows are written by the call's ticket writer, in order with everything else; a row is named by a
//! per-call key until the writer knows its database id.

use std::path::PathBuf;

use chrono::Datelike;
use hotline_tickets::{CallUpdate, HandoffMode, HandoffOutcome, HandoffUpdate, NewHandoff};
use serde_json::json;
use tracing::info;

use super::party::ThirdMode;
use super::{now_utc, Call};
use crate::ticket_log::TicketWrite;

fn handoff_mode(mode: ThirdMode) -> HandoffMode {
    match mode {
        ThirdMode::ThreeWay => HandoffMode::ThreeWay,
        ThirdMode::BlindTransfer => HandoffMode::BlindTransfer,
        ThirdMode::AttendedTransfer => HandoffMode::AttendedTransfer,
        ThirdMode::Escalation => HandoffMode::Escalation,
    }
}

fn outcome(text: &str) -> HandoffOutcome {
    match text {
        "connected" => HandoffOutcome::Connected,
        "busy" => HandoffOutcome::Busy,
        "no_answer" => HandoffOutcome::NoAnswer,
        "cancelled" => HandoffOutcome::Cancelled,
        "completed" => HandoffOutcome::Completed,
        _ => HandoffOutcome::Failed,
    }
}

/// `<dir>/YYYY/MM/DD/<ticket>.wav`, the date in China time (the hotline's working day).
pub(super) fn recording_path(dir: &std::path::Path, ticket: i64) -> PathBuf {
    let day = now_utc().with_timezone(&hotline_calendar::shanghai());
    dir.join(format!("{:04}", day.year()))
        .join(format!("{:02}", day.month()))
        .join(format!("{:02}", day.day()))
        .join(format!("{ticket}.wav"))
}

impl Call {
    pub(super) fn handoff_started(&mut self, number: &str, partner: &str, mode: ThirdMode) -> u32 {
        let key = self.next_handoff;
        self.next_handoff += 1;
        let _ = self.ticket_writes.send(TicketWrite::NewHandoff {
            key,
            handoff: NewHandoff {
                ticket_id: self.ticket_id,
                partner: partner.to_string(),
                number: number.to_string(),
                mode: handoff_mode(mode),
                agent_id: self.answered_agent.clone(),
                dialled_at: now_utc(),
            },
        });
        key
    }

    fn handoff_update(&self, key: u32, update: HandoffUpdate) {
        let _ = self
            .ticket_writes
            .send(TicketWrite::Handoff { key, update });
    }

    pub(super) fn handoff_answered(&self, key: u32) {
        self.handoff_update(
            key,
            HandoffUpdate {
                answered_at: Some(now_utc()),
                outcome: Some(HandoffOutcome::Connected),
                ..Default::default()
            },
        );
    }

    pub(super) fn handoff_ended(&self, key: u32, result: &str) {
        self.handoff_update(
            key,
            HandoffUpdate {
                ended_at: Some(now_utc()),
                outcome: Some(outcome(result)),
                ..Default::default()
            },
        );
    }

    /// The agent left while these third parties were on the call.
    pub(super) fn handoffs_agent_left(&self) {
        let keys: Vec<u32> = self
            .parties
            .values()
            .filter(|p| p.is_third() && p.up && !p.withdrawn)
            .filter_map(|p| p.handoff)
            .collect();
        for key in keys {
            self.handoff_update(
                key,
                HandoffUpdate {
                    agent_left_at: Some(now_utc()),
                    ..Default::default()
                },
            );
        }
    }

    /// Starts recording the call once it is answered (agent, third party or call-back), if configured.
    pub(super) fn start_recording(&mut self) {
        if !self.ctx.config.media.record || self.recording.is_some() {
            return;
        }
        let path = recording_path(&self.ctx.config.media.recordings_dir, self.ticket_id);
        if self.media.record(path.clone()).is_err() {
            return;
        }
        info!(call = self.call_ref, path = %path.display(), "recording");
        let text = path.to_string_lossy().into_owned();
        self.update(CallUpdate {
            recording: Some(text.clone()),
            ..Default::default()
        });
        self.log("recording_started", json!({ "path": text }));
        self.recording = Some(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recordings_are_filed_by_china_date() {
        let p = recording_path(std::path::Path::new("data/recordings"), 42);
        let s = p.to_string_lossy();
        assert!(s.starts_with("data/recordings/20"), "{s}");
        assert!(s.ends_with("/42.wav"), "{s}");
        assert_eq!(p.components().count(), 6, "{s}");
    }
}
