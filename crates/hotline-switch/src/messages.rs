//! Typed messages between the switch's tasks: the SIP actor, the ACD actor and one task per call.

use std::net::SocketAddr;

use hotline_acd::stats::{AgentLiveStats, QueueLiveStats};
use hotline_acd::{AcdInput, AcdOutput, AgentStatus, AgentView, WaitEstimate};
use hotline_media::engine::MediaEvent;
use hotline_sip::msg::{Method, Request, Response, SipMessage};
use hotline_sip::registrar::Binding;
use hotline_sip::transaction::ServerTxnId;
use hotline_sip::Transport;
use tokio::sync::{mpsc, oneshot};

/// Commands to the SIP actor, which owns the transaction layer, the registrar and digest auth.
pub enum SipCmd {
    Respond {
        id: ServerTxnId,
        resp: Response,
    },
    /// Starts a client transaction; its responses and timeout come back to the task bound to `call_id`.
    Request {
        req: Request,
        dest: SocketAddr,
        transport: Transport,
    },
    /// Sends outside any transaction (ACK for a 2xx).
    Stateless {
        msg: SipMessage,
        dest: SocketAddr,
        transport: Transport,
    },
    Bind {
        call_id: String,
        tx: mpsc::UnboundedSender<CallInput>,
    },
    Unbind {
        call_id: String,
    },
    Lookup {
        user: String,
        reply: oneshot::Sender<Vec<Binding>>,
    },
    /// Shutdown has begun: new calls get 503.
    Drain,
}

/// Everything a call task reacts to.
pub enum CallInput {
    Request {
        id: ServerTxnId,
        req: Request,
        source: SocketAddr,
        transport: Transport,
    },
    Ack {
        req: Request,
    },
    /// The caller CANCELled its INVITE; the layer already answered the CANCEL.
    Cancelled {
        id: ServerTxnId,
    },
    Response {
        resp: Response,
    },
    /// A client transaction timed out (Timer B/F) or hit a transport error.
    RequestTimeout {
        method: Method,
        call_id: String,
    },
    /// Our 2xx to an INVITE was never ACKed.
    AckTimeout,
    Acd(AcdOutput),
    Media(MediaEvent),
    /// A call-control request from the API (`crate::calls`).
    Control {
        control: crate::calls::Control,
        reply: crate::calls::ControlReply,
    },
}

/// Commands to the ACD actor, which owns the pure ACD core.
pub enum AcdCmd {
    Input(AcdInput),
    /// Routes offers and withdrawals for `call` to a call task.
    Attach {
        call: u64,
        /// The call's ticket, for the wrap-up time written after the call ended.
        ticket: i64,
        tx: mpsc::UnboundedSender<CallInput>,
    },
    /// Position and estimated wait of a waiting call (`None` when it is not waiting).
    WaitEstimate {
        call: u64,
        reply: oneshot::Sender<Option<WaitEstimate>>,
    },
    Detach {
        call: u64,
    },
    List {
        reply: oneshot::Sender<Vec<AgentView>>,
    },
    SetStatus {
        agent: String,
        status: AgentStatus,
        reason: Option<String>,
        reply: oneshot::Sender<Option<AgentView>>,
    },
    /// Ends the agent's wrap-up now (`None` for an unknown agent).
    EndWrapUp {
        agent: String,
        reply: oneshot::Sender<Option<AgentView>>,
    },
    Queues {
        reply: oneshot::Sender<Vec<QueueLiveStats>>,
    },
    AgentStats {
        agent: String,
        reply: oneshot::Sender<Option<AgentLiveStats>>,
    },
}
