//! Waiting in a queue: joining it, spoken position and estimated wait (on entry and every
//! `announce_every_secs`, music on hold between), the call-back key, and `max_wait_secs`.

use std::time::{Duration, Instant};

use hotline_acd::AcdInput;
use hotline_ivr::{position_prompts, wait_minutes, wait_prompts, Action, Lang};
use hotline_tickets::CallUpdate;
use serde_json::json;
use tokio::sync::oneshot;
use tracing::{info, warn};

use super::{now_utc, AfterPlay, Call, Disposition, Phase};
use crate::messages::AcdCmd;

impl Call {
    /// Joins `queue` (the first queue, or another one after a menu or max-wait sent the caller there).
    pub(super) async fn enqueue(&mut self, queue: String) {
        self.enqueue_with_notice(queue, Vec::new()).await;
    }

    /// Joins `queue`, playing `notice` before the announcement.
    pub(super) async fn enqueue_with_notice(&mut self, queue: String, notice: Vec<String>) {
        let now = Instant::now();
        let first = self.queued.is_none();
        if !self.attached {
            self.attached = true;
            let _ = self.ctx.acd.send(AcdCmd::Attach {
                call: self.call_ref,
                ticket: self.ticket_id,
                tx: self.tx.clone(),
            });
        }
        self.phase = Phase::Queued;
        self.queue = queue.clone();
        self.queued.get_or_insert(now);
        self.acd(AcdInput::Enqueue {
            call: self.call_ref,
            queue: queue.clone(),
            priority: self.priority,
            callback: false,
        });
        let qcfg = self.ctx.config.queue(&queue);
        self.max_wait_at = qcfg
            .filter(|q| q.max_wait_secs > 0)
            .map(|q| now + Duration::from_secs(q.max_wait_secs));
        self.update(CallUpdate {
            queue: Some(queue.clone()),
            queued_at: first.then(now_utc),
            priority: Some(self.priority),
            ..Default::default()
        });
        self.log(
            "queued",
            json!({ "queue": queue, "priority": self.priority }),
        );
        self.announce_with(notice).await;
    }

    /// Whether pressing the queue's call-back key works now: the queue has one and there is a trunk to
    /// call back through.
    pub(super) fn callback_key(&self) -> Option<char> {
        self.ctx.config.trunks.outbound.as_ref()?;
        self.ctx.config.queue(&self.queue)?.callback_key
    }

    /// Tells the caller their place and the estimated wait (and the call-back key), then music on hold.
    pub(super) async fn announce(&mut self) {
        self.announce_with(Vec::new()).await;
    }

    async fn announce_with(&mut self, mut names: Vec<String>) {
        // No announcements over a conversation with a third party (an SOS elder talking to 120).
        if self.phase != Phase::Queued || self.third_parties_joined() > 0 {
            return;
        }
        let every = self
            .ctx
            .config
            .queue(&self.queue)
            .map_or(0, |q| q.announce_every_secs);
        self.announce_at = (every > 0).then(|| Instant::now() + Duration::from_secs(every));
        let (reply, rx) = oneshot::channel();
        let _ = self.ctx.acd.send(AcdCmd::WaitEstimate {
            call: self.call_ref,
            reply,
        });
        let Ok(Some(estimate)) = rx.await else {
            // Already ringing an agent (or gone): no place to tell; the notice, then music.
            if !names.is_empty() {
                self.play_sequence(&names);
            } else if self.playlist.is_empty() && self.after_play == AfterPlay::Nothing {
                self.music_on_hold();
            }
            return;
        };
        let lang: Lang = self.ctx.config.sounds.language.parse().unwrap_or(Lang::Zh);
        let minutes = wait_minutes(estimate.ewt);
        names.extend(position_prompts(lang, estimate.position));
        names.extend(wait_prompts(lang, minutes));
        if self.callback_key().is_some() {
            names.push("callback-offer".to_string());
        }
        self.log(
            "announced",
            json!({
                "position": estimate.position,
                "estimated_wait_secs": estimate.ewt.as_secs(),
                "minutes": minutes,
            }),
        );
        self.play_sequence(&names);
    }

    /// A digit while waiting: the call-back key registers a call-back; others are only logged.
    pub(super) async fn queued_digit(&mut self, digit: char) {
        if self.callback_key() == Some(digit) && self.callback.is_none() {
            self.request_callback("key").await;
        }
    }

    /// `max_wait_secs` passed: carry out the queue's `on_max_wait`.
    pub(super) async fn max_wait_reached(&mut self) -> Option<Disposition> {
        if self.phase != Phase::Queued {
            return None;
        }
        let action = self
            .ctx
            .config
            .queue(&self.queue)
            .map_or(Action::Hangup, |q| q.on_max_wait.clone());
        info!(call = self.call_ref, queue = %self.queue, %action, "max wait reached");
        self.log(
            "max_wait",
            json!({ "queue": self.queue, "action": action.to_string() }),
        );
        match action {
            Action::Callback => {
                if self.request_callback("max_wait").await {
                    return None;
                }
                // No trunk to call back through: the caller keeps waiting rather than being cut off.
                warn!(
                    call = self.call_ref,
                    "max wait: call-back impossible (no [trunks.outbound]); still waiting"
                );
                None
            }
            Action::Queue(other) => {
                self.acd(AcdInput::Leave {
                    call: self.call_ref,
                });
                self.enqueue_with_notice(other, vec!["transfer-other-queue".to_string()])
                    .await;
                None
            }
            Action::Menu(menu) => {
                self.acd(AcdInput::Leave {
                    call: self.call_ref,
                });
                self.announce_at = None;
                self.playlist.clear();
                self.start_menu(&menu).await;
                None
            }
            Action::Hangup => {
                self.acd(AcdInput::Leave {
                    call: self.call_ref,
                });
                self.announce_at = None;
                // Set before playing, so the end of the prompts ends the call instead of starting music.
                self.after_play = AfterPlay::End(Disposition::Abandoned);
                self.play_sequence(&["max-wait".to_string(), "goodbye".to_string()]);
                if self.citizen_media().is_none() {
                    return Some(Disposition::Abandoned);
                }
                None
            }
            Action::Play(_) | Action::Repeat => None,
        }
    }
}
