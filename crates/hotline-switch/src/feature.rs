//! Feature codes dialled by an authenticated agent from the softphone: `*1` available, `*2` break,
//! `*0` logged out. The switch answers, plays a short confirmation, and hangs up.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use hotline_acd::AgentStatus;
use hotline_media::engine::{MediaEvent, MediaEventKind};
use hotline_media::sdp::{self, Sdp};
use hotline_sip::dialog::Dialog;
use hotline_sip::msg::{Method, Request, Response};
use hotline_sip::transaction::ServerTxnId;
use hotline_sip::util::new_tag;
use hotline_sip::Transport;
use tokio::sync::{mpsc, oneshot};
use tracing::{info, warn};

use crate::messages::{AcdCmd, CallInput, SipCmd};
use crate::sipbuild;
use crate::Ctx;

pub struct FeatureCall {
    pub call_ref: u64,
    pub agent: String,
    pub code: String,
    pub id: ServerTxnId,
    pub invite: Request,
    pub source: SocketAddr,
    pub transport: Transport,
}

/// The status a feature code selects and the prompt that confirms it.
pub fn feature_code(code: &str) -> Option<(AgentStatus, &'static str)> {
    match code {
        "*1" => Some((AgentStatus::Available, "status_available")),
        "*2" => Some((AgentStatus::Break, "status_break")),
        "*0" => Some((AgentStatus::LoggedOut, "status_logged_out")),
        _ => None,
    }
}

pub fn spawn_feature_call(
    ctx: Arc<Ctx>,
    call: FeatureCall,
    rx: mpsc::UnboundedReceiver<CallInput>,
) {
    ctx.active_calls.fetch_add(1, Ordering::SeqCst);
    tokio::spawn(async move {
        let call_id = call.invite.call_id().unwrap_or_default().to_string();
        run(ctx.clone(), call, rx).await;
        let _ = ctx.sip.send(SipCmd::Unbind { call_id });
        ctx.active_calls.fetch_sub(1, Ordering::SeqCst);
    });
}

async fn run(ctx: Arc<Ctx>, call: FeatureCall, mut rx: mpsc::UnboundedReceiver<CallInput>) {
    let respond = |resp: Response| {
        let _ = ctx.sip.send(SipCmd::Respond { id: call.id, resp });
    };
    let selected = feature_code(&call.code);
    let prompt_name = match selected {
        Some((status, prompt)) => {
            let (reply, rx) = oneshot::channel();
            let _ = ctx.acd.send(AcdCmd::SetStatus {
                agent: call.agent.clone(),
                status,
                reason: None,
                reply,
            });
            let _ = rx.await;
            info!(agent = %call.agent, code = %call.code, "feature code");
            prompt
        }
        None => "invalid_code",
    };
    let offer = std::str::from_utf8(&call.invite.body)
        .ok()
        .and_then(|s| Sdp::parse(s).ok());
    let Some(negotiated) = offer.as_ref().and_then(|o| sdp::negotiate(o).ok()) else {
        // No usable media: the status change stands; decline the call itself.
        respond(Response::to_request(
            &call.invite,
            488,
            "Not Acceptable Here",
        ));
        return;
    };
    let (media_tx, mut media_rx) = mpsc::unbounded_channel::<MediaEvent>();
    let media = ctx.media.session(media_tx, call.call_ref);
    let leg = match media.add_leg().await {
        Ok(l) => l,
        Err(e) => {
            warn!("no media port for a feature call: {e}");
            respond(Response::to_request(
                &call.invite,
                503,
                "Service Unavailable",
            ));
            return;
        }
    };
    let _ = media.set_remote(leg.leg, negotiated);
    let local = ctx.local_addr(call.transport);
    let tag = new_tag();
    let answer = sdp::build_answer(ctx.media_ip, leg.local_port, &negotiated, call.call_ref, 1);
    let resp = sipbuild::answer_invite(
        &call.invite,
        &tag,
        &sipbuild::contact(&call.code, local, call.transport),
        &answer,
    );
    let dialog = Dialog::uas(&call.invite, &resp).map(|mut d| {
        d.via = Some((local.to_string(), call.transport));
        d
    });
    respond(resp);
    // The agent's phone is busy with this call: no queue call is offered until it ends.
    let direct = |active: bool| {
        let _ = ctx
            .acd
            .send(AcdCmd::Input(hotline_acd::AcdInput::DirectCall {
                agent: call.agent.clone(),
                active,
            }));
    };
    direct(true);
    match ctx.prompts.get(prompt_name) {
        Some(p) => {
            let _ = media.play(leg.leg, p, false);
        }
        None => warn!(prompt = prompt_name, "confirmation prompt missing"),
    }
    // Hang up when the prompt ends (or after a bound, should the prompt be missing).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut caller_left = false;
    loop {
        let input = tokio::select! {
            i = rx.recv() => i,
            m = media_rx.recv() => m.map(CallInput::Media),
            _ = tokio::time::sleep_until(deadline) => None,
        };
        match input {
            None => break,
            Some(CallInput::Media(ev))
                if matches!(
                    ev.kind,
                    MediaEventKind::PlayDone | MediaEventKind::RtpTimeout
                ) =>
            {
                break
            }
            Some(CallInput::Request { id, req, .. }) => {
                let resp = sipbuild::reply(&req, 200, "OK", &tag);
                let _ = ctx.sip.send(SipCmd::Respond { id, resp });
                if req.method == Method::Bye {
                    caller_left = true;
                    break;
                }
            }
            Some(CallInput::AckTimeout) => {
                caller_left = true;
                break;
            }
            Some(_) => {}
        }
    }
    if !caller_left {
        if let Some(mut d) = dialog {
            let bye = d.new_request(Method::Bye);
            let _ = ctx.sip.send(SipCmd::Request {
                req: bye,
                dest: call.source,
                transport: call.transport,
            });
        }
    }
    direct(false);
    let _ = media.close();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_codes_select_status_and_prompt() {
        assert_eq!(
            feature_code("*1"),
            Some((AgentStatus::Available, "status_available"))
        );
        assert_eq!(
            feature_code("*2"),
            Some((AgentStatus::Break, "status_break"))
        );
        assert_eq!(
            feature_code("*0"),
            Some((AgentStatus::LoggedOut, "status_logged_out"))
        );
        assert_eq!(feature_code("*9"), None);
        assert_eq!(feature_code("12345"), None);
    }
}
