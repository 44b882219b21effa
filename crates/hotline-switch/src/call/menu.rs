//! The line's IVR menu, driven by the pure interpreter in `hotline-ivr`: prompts with barge-in, digits
//! from RFC 4733 or SIP INFO (both arrive as `dtmf`), digit timeouts, and the terminal route.

use std::time::Instant;

use hotline_ivr::{Action, Input, Ivr, Output};
use hotline_tickets::CallUpdate;
use serde_json::json;
use tracing::{info, warn};

use super::{AfterPlay, Call, Disposition, Phase};

impl Call {
    pub(super) async fn start_menu(&mut self, name: &str) {
        let ivr = match Ivr::new(&self.ctx.config.menus, name) {
            Ok(ivr) => ivr,
            Err(e) => {
                // Configuration validation makes this unreachable; fall back to the line's queue.
                warn!(menu = %name, "menu unavailable ({e}); queueing instead");
                let queue = self.line.queue.clone();
                self.enqueue(queue).await;
                return;
            }
        };
        self.phase = Phase::Menu;
        self.ivr = Some(ivr);
        if let Some(ivr) = self.ivr.as_mut() {
            ivr.handle(Instant::now(), Input::Start);
        }
        // A menu start only plays its prompt; it cannot end the call.
        let _ = self.drive_ivr().await;
    }

    pub(super) async fn menu_digit(&mut self, digit: char) -> Option<Disposition> {
        let ivr = self.ivr.as_mut()?;
        ivr.handle(Instant::now(), Input::Digit(digit));
        self.drive_ivr().await
    }

    /// Carries out what the interpreter asked for.
    pub(super) async fn drive_ivr(&mut self) -> Option<Disposition> {
        loop {
            let out = self.ivr.as_mut().and_then(|i| i.poll_output())?;
            match out {
                Output::Play { prompt, .. } => match self.ctx.prompts.get(&prompt) {
                    Some(p) => self.play_to_citizen(p),
                    None => {
                        // A missing prompt must not leave the caller in silence forever.
                        warn!(%prompt, "menu prompt missing; continuing as if it played");
                        if let Some(ivr) = self.ivr.as_mut() {
                            ivr.handle(Instant::now(), Input::PlaybackDone);
                        }
                    }
                },
                Output::StopPlayback => {
                    if let Some(leg) = self.citizen_media() {
                        let _ = self.media.stop(leg);
                    }
                }
                Output::Route(action) => return self.menu_route(action).await,
            }
        }
    }

    /// The menu ended with a terminal action.
    async fn menu_route(&mut self, action: Action) -> Option<Disposition> {
        let path = self
            .ivr
            .as_ref()
            .map(|i| i.path_summary())
            .unwrap_or_default();
        info!(call = self.call_ref, %action, %path, "menu done");
        self.log("ivr", json!({ "path": path, "route": action.to_string() }));
        self.update(CallUpdate {
            ivr_path: Some(path),
            ..Default::default()
        });
        match action {
            Action::Queue(queue) => {
                self.enqueue(queue).await;
                None
            }
            Action::Callback => {
                // Join the line's queue first: the call-back keeps the place the caller just took.
                let queue = self.line.queue.clone();
                self.enqueue(queue).await;
                if !self.request_callback("menu").await {
                    self.log("callback_unavailable", json!({ "from": "menu" }));
                }
                None
            }
            Action::Hangup => self.end_with_goodbye(Disposition::IvrOnly),
            // Non-terminal actions never reach here (the interpreter handles them).
            Action::Menu(_) | Action::Play(_) | Action::Repeat => None,
        }
    }

    /// Says goodbye and ends the call when the prompt is over (at once if there is no goodbye prompt).
    pub(super) fn end_with_goodbye(&mut self, disposition: Disposition) -> Option<Disposition> {
        match self.ctx.prompts.get("goodbye") {
            Some(p) if self.citizen_media().is_some() => {
                self.playlist.clear();
                self.after_play = AfterPlay::End(disposition);
                self.play_to_citizen(p);
                None
            }
            _ => Some(disposition),
        }
    }
}
