//! SOS calls: from a registered one-key handset (any line) or to a `kind = "sos"` line.
//!
//! An SOS call skips menus, enters `[sos] queue` ahead of every other call (priority
//! [`hotline_config::SOS_PRIORITY`]) and rings `ring_agents` agents at once. The ticket carries the elder's
//! profile and a location (PIDF-LO from a `Geolocation` header, else the registered address). If no agent has
//! answered after `escalate_after_secs`, the switch dials `escalate_to` (120), plays its operator an
//! announcement of the elder (per-device recording generated from the profile, else the device number read
//! digit by digit), and bridges the elder with 120; agents keep being offered the call and the first to answer
//! joins as the third party. After the call the elder's emergency contacts are called (`sos_contacts`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use hotline_media::engine::MixRole;
use hotline_media::prompts::Prompt;
use hotline_sip::msg::Request;
use hotline_tickets::{CallUpdate, SosDevice};
use serde_json::json;
use tokio::sync::oneshot;
use tracing::{info, warn};

use super::party::ThirdMode;
use super::{digit_prompts, Call};

/// What the call knows about its SOS side.
pub(super) struct SosCall {
    pub(super) device: Option<SosDevice>,
    /// The per-device announcement, prepared in the background when the call starts.
    pub(super) announcement: Option<oneshot::Receiver<Option<Arc<Prompt>>>>,
    /// 120 (or `escalate_to`) was dialled.
    pub(super) escalated: bool,
    /// The elder talked with it.
    pub(super) connected: bool,
}

/// The location for the ticket: the caller's PIDF-LO if the INVITE carried one, else the registered address.
fn location(invite: &Request, device: Option<&SosDevice>) -> Option<serde_json::Value> {
    if let Ok(loc) = hotline_sip::geo::message_location(invite) {
        let (lat, lon) = loc.point.map_or((None, None), |(a, b)| (Some(a), Some(b)));
        return Some(json!({
            "source": "pidf-lo",
            "description": loc.describe(),
            "lat": lat,
            "lon": lon,
            "radius_m": loc.radius_m,
        }));
    }
    let d = device?;
    Some(json!({
        "source": "registered",
        "description": d.address,
        "lat": d.latitude,
        "lon": d.longitude,
    }))
}

impl Call {
    /// Decides whether the call is an SOS call (before its greeting); records the profile and location.
    pub(super) async fn detect_sos(&mut self, invite: &Request) {
        let Some(cfg) = self.ctx.config.sos.clone() else {
            return;
        };
        let device = match self.ctx.tickets.sos_device(&self.caller_number).await {
            Ok(d) => d,
            Err(e) => {
                warn!(call = self.call_ref, "SOS device lookup failed: {e}");
                None
            }
        };
        if device.is_none() && !self.ctx.config.is_sos_line(&self.line) {
            return;
        }
        self.priority = hotline_config::SOS_PRIORITY;
        self.queue = cfg.queue.clone();
        let profile = device.as_ref().and_then(|d| serde_json::to_value(d).ok());
        let location = location(invite, device.as_ref());
        info!(call = self.call_ref, caller = %self.caller_number, registered = device.is_some(), "SOS call");
        self.log(
            "sos",
            json!({
                "device": device.as_ref().map(|d| &d.number),
                "name": device.as_ref().map(|d| &d.name),
                "line": self.line.number,
                "location": location,
            }),
        );
        self.update(CallUpdate {
            sos_profile: profile,
            location,
            priority: Some(self.priority),
            ..Default::default()
        });
        let announcement = device.as_ref().map(|d| self.prepare_announcement(d));
        self.sos = Some(SosCall {
            device,
            announcement,
            escalated: false,
            connected: false,
        });
    }

    /// The per-device announcement for 120, ready long before the escalation timer (it is generated from
    /// the profile on first need and kept under `[sos] announcements_dir`).
    fn prepare_announcement(&self, device: &SosDevice) -> oneshot::Receiver<Option<Arc<Prompt>>> {
        let (tx, rx) = oneshot::channel();
        let dir = self
            .ctx
            .config
            .sos
            .as_ref()
            .map(|s| s.announcements_dir.clone());
        let lang = self.ctx.config.sounds.language.clone();
        let device = device.clone();
        tokio::task::spawn_blocking(move || {
            let prompt = dir.and_then(|dir| crate::sos_voice::announcement(&dir, &lang, &device));
            let _ = tx.send(prompt);
        });
        rx
    }

    /// SOS calls go straight to the SOS queue (no menu), the greeting played over the wait.
    pub(super) async fn start_sos(&mut self) {
        let greeting = if self.ctx.config.is_sos_line(&self.line) {
            self.line.greeting.clone()
        } else {
            "sos-connecting".to_string()
        };
        let queue = self.queue.clone();
        self.enqueue_with_notice(queue, vec![greeting]).await;
        let after = self
            .ctx
            .config
            .sos
            .as_ref()
            .filter(|s| s.escalate_to.is_some() && s.escalate_after_secs > 0)
            .map(|s| Duration::from_secs(s.escalate_after_secs));
        self.sos_escalate_at = after.map(|d| Instant::now() + d);
    }

    /// No agent answered in time: dial `escalate_to`.
    pub(super) async fn sos_escalate(&mut self) {
        self.sos_escalate_at = None;
        if self.phase != super::Phase::Queued || self.agent_media().is_some() {
            return;
        }
        let Some(to) = self
            .ctx
            .config
            .sos
            .as_ref()
            .and_then(|s| s.escalate_to.clone())
        else {
            return;
        };
        info!(call = self.call_ref, %to, "SOS: no agent answered; escalating");
        match self.dial_third(&to, ThirdMode::Escalation).await {
            Ok(_) => {
                if let Some(s) = self.sos.as_mut() {
                    s.escalated = true;
                }
                self.log("sos_escalated", json!({ "to": to }));
            }
            Err(e) => {
                warn!(call = self.call_ref, "SOS escalation failed: {e}");
                self.log(
                    "sos_escalation_failed",
                    json!({ "to": to, "reason": e.to_string() }),
                );
            }
        }
    }

    /// 120 answered: it hears who is calling and where, then the elder.
    pub(super) fn escalation_answered(&mut self, call_id: &str) {
        let mut prompts: Vec<Arc<Prompt>> = Vec::new();
        let ready = self
            .sos
            .as_mut()
            .and_then(|s| s.announcement.as_mut())
            .and_then(|rx| rx.try_recv().ok())
            .flatten();
        // The per-device announcement opens with its own "SOS call" sentence; without it, the generic
        // intro and the device number.
        let mut names = Vec::new();
        if ready.is_none() {
            names.push("sos-escalation-intro".to_string());
            names.push("sos-escalation-device".to_string());
            names.extend(digit_prompts(&self.caller_number));
        }
        for name in &names {
            if let Some(p) = self.ctx.prompts.get(name) {
                prompts.push(p);
            }
        }
        prompts.extend(ready);
        if let Some(p) = self.ctx.prompts.get("sos-escalation-connect") {
            prompts.push(p);
        }
        if let Some(p) = self.parties.get_mut(call_id) {
            p.announce = prompts.into();
        }
        self.announce_next(call_id);
    }

    /// Plays the next announcement prompt to a party, or joins it to the elder when there is none left.
    pub(super) fn announce_next(&mut self, call_id: &str) {
        let Some(p) = self.parties.get_mut(call_id) else {
            return;
        };
        if !p.up || p.withdrawn || p.joined {
            return;
        }
        let leg = p.media_leg;
        if let Some(prompt) = p.announce.pop_front() {
            let _ = self.media.play(leg, prompt, false);
            return;
        }
        p.joined = true;
        if let Some(c) = self.citizen_media() {
            let _ = self.media.stop(c);
        }
        self.playlist.clear();
        self.announce_at = None;
        self.ensure_conference();
        let _ = self.media.join(leg, MixRole::Normal);
        if let Some(s) = self.sos.as_mut() {
            s.connected = true;
        }
        info!(
            call = self.call_ref,
            "SOS: elder connected with the escalation party"
        );
        self.log("sos_escalation_connected", json!({}));
    }
}
