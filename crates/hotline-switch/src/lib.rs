//! Call control: the only crate that knows a call has a queue, an agent, media and a ticket.
//!
//! Tasks and what each one owns:
//! - transport readers/writers (`transport`): sockets only;
//! - the SIP actor (`sip_actor`): the transaction layer, registrar and digest auth;
//! - the ACD actor (`acd_actor`): the pure ACD core (queues, agents);
//! - one task per call (`call`, `feature`): the call's legs, media session and ticket;
//! - the HTTP API (`hotline-api`), which asks the ACD actor for agent state.

mod acd_actor;
mod call;
mod calls;
mod feature;
mod messages;
pub mod routing_core;
mod sip_actor;
mod sipbuild;
mod sos_contacts;
mod sos_voice;
mod ticket_log;
mod transport;

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use hotline_acd::{Acd, AcdConfig, AgentConfig, AgentStatus, Membership, QueueConfig};
use hotline_config::{Config, DigestAlgorithm, InitialStatus};
use hotline_media::engine::MediaEngine;
use hotline_media::prompts::Prompts;
use hotline_sip::auth::{Algorithm, DigestAuth};
use hotline_sip::registrar::Registrar;
use hotline_sip::transaction::{TimerConfig, TransactionLayer};
use hotline_sip::Transport;
use hotline_tickets::TicketStore;
use tokio::sync::mpsc;
use tracing::info;

pub use call::Disposition;
pub use feature::feature_code;

use messages::{AcdCmd, SipCmd};

#[derive(Debug, thiserror::Error)]
pub enum SwitchError {
    #[error("database {url}: {source}")]
    Database {
        url: String,
        source: hotline_tickets::TicketError,
    },
    #[error("sounds: {0}")]
    Sounds(String),
    #[error("cannot listen on {what}: {source}")]
    Bind {
        what: String,
        source: std::io::Error,
    },
    #[error("configuration: {0}")]
    Config(String),
}

/// What every task of the switch shares: senders to the actors and read-only services.
pub struct Ctx {
    pub config: Arc<Config>,
    pub sip: mpsc::UnboundedSender<SipCmd>,
    pub acd: mpsc::UnboundedSender<AcdCmd>,
    pub tickets: TicketStore,
    pub media: Arc<MediaEngine>,
    pub media_ip: IpAddr,
    pub prompts: Arc<Prompts>,
    pub active_calls: AtomicUsize,
    /// Call-backs that have a task now (so the API cannot start one twice).
    pub callbacks: call::CallbacksInProgress,
    /// Live calls for the API (`GET /api/v1/calls`, call control).
    pub calls: Arc<calls::CallRegistry>,
    /// Part of `active_calls` that only holds a queued call-back with nobody on the line (a task and its
    /// ticket writer each): shutdown does not wait for them; the call-back stays pending and is queued again
    /// at the next start.
    pub parked: AtomicUsize,
    next_call_ref: AtomicU64,
    udp_local: Option<SocketAddr>,
    tcp_local: Option<SocketAddr>,
}

impl Ctx {
    /// A fresh id for a call (inbound, feature code or call-back), unique for this run.
    pub fn new_call_ref(&self) -> u64 {
        self.next_call_ref.fetch_add(1, Ordering::Relaxed)
    }

    /// The address we put in Via and Contact for a transport.
    pub fn local_addr(&self, transport: Transport) -> SocketAddr {
        let preferred = match transport {
            Transport::Udp => self.udp_local,
            Transport::Tcp => self.tcp_local,
        };
        preferred
            .or(self.udp_local)
            .or(self.tcp_local)
            .unwrap_or_else(|| SocketAddr::new(self.media_ip, 5060))
    }
}

fn acd_config(config: &Config) -> AcdConfig {
    AcdConfig {
        queues: config
            .queues
            .iter()
            .map(|q| {
                let mut acd = QueueConfig::new(q.name.clone());
                acd.ring_timeout = Duration::from_secs(q.ring_timeout_secs);
                acd.wrap_up = Duration::from_secs(q.wrap_up_secs);
                acd.strategy = q.strategy;
                acd.tier_escalate = Duration::from_secs(q.tier_escalate_secs);
                acd.skills = q.skills.clone();
                acd.max_no_answer = q.max_no_answer;
                // SOS calls ring `ring_agents` agents at once, whatever the queue's own strategy.
                if let Some(sos) = config.sos.as_ref().filter(|s| s.queue == q.name) {
                    acd.strategy = hotline_acd::Strategy::RingAll;
                    acd.ring_limit = sos.ring_agents;
                }
                acd
            })
            .collect(),
        agents: config
            .agents
            .iter()
            .map(|a| AgentConfig {
                id: a.id.clone(),
                name: a.name.clone(),
                queues: a
                    .queues
                    .iter()
                    .map(|m| Membership {
                        queue: m.name.clone(),
                        tier: m.tier,
                    })
                    .collect(),
                skills: a.skills.clone().into_iter().collect(),
                initial_status: match a.initial_status {
                    InitialStatus::Available => AgentStatus::Available,
                    InitialStatus::Break => AgentStatus::Break,
                    InitialStatus::LoggedOut => AgentStatus::LoggedOut,
                },
            })
            .collect(),
        // Deterministic per run is enough for `random`: it spreads calls, it does not need secrecy.
        seed: rand::random(),
    }
}

/// Call-backs requested before a restart go back into their queues; ones cut off while dialling are
/// pending again. Missed calls wait for someone to dial them from the API.
async fn requeue_callbacks(ctx: &Arc<Ctx>) {
    if let Err(e) = ctx.tickets.reset_dialing_callbacks(Utc::now()).await {
        tracing::warn!("call-backs left dialling not reset: {e}");
    }
    let pending = match ctx.tickets.pending_callbacks().await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!("pending call-backs not read: {e}");
            return;
        }
    };
    for cb in pending
        .into_iter()
        .filter(|cb| cb.kind == hotline_tickets::CallbackKind::Requested)
    {
        let id = cb.id;
        match call::spawn_callback_call(ctx.clone(), cb) {
            Ok(()) => info!(callback = id, "call-back requeued after restart"),
            Err(e) => tracing::warn!(callback = id, "call-back not requeued: {e}"),
        }
    }
}

/// Runs the switch until `shutdown` resolves, then drains: new calls get 503, calls in progress get
/// up to the grace period to end.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), SwitchError> {
    let config = Arc::new(config);
    let tickets = TicketStore::connect(&config.database.url)
        .await
        .map_err(|source| SwitchError::Database {
            url: config.database.url.clone(),
            source,
        })?;
    let routing_data = routing_core::load_routing(&config.routing)?;
    let calendar_files = routing_core::load_calendar(&config.routing)?;
    routing_core::seed(&tickets, &routing_data).await?;
    let db_err = |source| SwitchError::Database {
        url: config.database.url.clone(),
        source,
    };
    let calendar_edits = tickets.list_calendar_days().await.map_err(db_err)?;
    let kb = hotline_api::load_kb(&tickets).await.map_err(db_err)?;
    let agent_logins = config
        .agents
        .iter()
        .map(|a| hotline_api::AgentLogin {
            id: a.id.clone(),
            name: a.name.clone(),
            password: a.password.clone(),
            role: match a.role {
                hotline_config::AgentRole::Agent => hotline_workflow::Role::Agent,
                hotline_config::AgentRole::Supervisor => hotline_workflow::Role::Supervisor,
            },
        })
        .collect();
    let prompts = Prompts::load(&config.sounds.dir, &config.sounds.language)
        .map_err(|e| SwitchError::Sounds(e.to_string()))?;
    let media_ip = config.media.ip;
    let media = MediaEngine::new(
        media_ip,
        config.media.rtp_ports[0],
        config.media.rtp_ports[1],
    );
    media.set_rtp_timeout(config.media.rtp_timeout());

    let (sip_tx, sip_rx) = mpsc::unbounded_channel();
    let (acd_tx, acd_rx) = mpsc::unbounded_channel();
    let (inbound_tx, inbound_rx) = mpsc::channel(4096);

    let listen: Vec<(Transport, SocketAddr)> = config
        .sip
        .listen
        .iter()
        .map(|l| {
            let transport = match l.transport {
                hotline_config::Transport::Udp => Transport::Udp,
                hotline_config::Transport::Tcp => Transport::Tcp,
            };
            (transport, l.addr)
        })
        .collect();
    let transports = transport::Transports::bind(&listen, inbound_tx)
        .await
        .map_err(|source| SwitchError::Bind {
            what: format!("{listen:?}"),
            source,
        })?;

    let ctx = Arc::new(Ctx {
        config: config.clone(),
        sip: sip_tx.clone(),
        acd: acd_tx.clone(),
        tickets: tickets.clone(),
        media,
        media_ip,
        prompts: Arc::new(prompts),
        active_calls: AtomicUsize::new(0),
        callbacks: call::CallbacksInProgress::default(),
        calls: Arc::new(calls::CallRegistry::default()),
        parked: AtomicUsize::new(0),
        next_call_ref: AtomicU64::new(1),
        udp_local: transports.local(Transport::Udp),
        tcp_local: transports.local(Transport::Tcp),
    });

    let acd = Acd::new(acd_config(&config));
    tokio::spawn(acd_actor::run(acd, acd_rx, tickets.clone()));

    let timers = TimerConfig {
        t1: Duration::from_millis(config.sip.t1_ms),
        t2: Duration::from_millis(config.sip.t2_ms),
        t4: Duration::from_millis(config.sip.t4_ms),
    };
    let layer = TransactionLayer::new(timers);
    let registrar = Registrar::new(
        config.sip.register_min_expires,
        config.sip.register_max_expires,
    );
    let mut auth = DigestAuth::new(config.sip.domain.clone(), config.sip.nonce_ttl_secs);
    auth.set_algorithms(
        config
            .sip
            .digest_algorithms
            .iter()
            .map(|a| match a {
                DigestAlgorithm::Md5 => Algorithm::Md5,
                DigestAlgorithm::Sha256 => Algorithm::Sha256,
            })
            .collect(),
    );
    let actor = sip_actor::SipActor::new(ctx.clone(), layer, registrar, auth, transports);
    tokio::spawn(actor.run(inbound_rx, sip_rx));

    let api_state = hotline_api::ApiState::new(
        tickets,
        config.http.admin_token.clone(),
        Arc::new(acd_actor::AcdAgentControl {
            tx: acd_tx,
            ctx: ctx.clone(),
        }),
    )
    .with_calls(Arc::new(calls::SwitchCallControl {
        registry: ctx.calls.clone(),
    }))
    .with_sos_hook(sos_voice::hook(&config))
    .with_agent_logins(agent_logins)
    .with_kb(kb)
    .with_calendar(calendar_files, &calendar_edits)
    .with_routing(routing_core::setup(&config.routing, routing_data));
    routing_core::spawn_sweeper(
        ctx.tickets.clone(),
        api_state
            .routing
            .as_ref()
            .and_then(|r| r.scale.grades.first().map(|g| g.code.clone())),
        Duration::from_secs(config.routing.sweep_secs),
    );
    let draining = api_state.draining.clone();
    let listener = tokio::net::TcpListener::bind(config.http.listen)
        .await
        .map_err(|source| SwitchError::Bind {
            what: format!("http {}", config.http.listen),
            source,
        })?;
    let app = hotline_api::router(api_state);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!("http server stopped: {e}");
        }
    });
    info!(sip = ?listen, http = %config.http.listen, "hotline is up");
    requeue_callbacks(&ctx).await;

    shutdown.await;
    info!("shutting down: refusing new calls");
    draining.store(true, Ordering::SeqCst);
    let _ = sip_tx.send(SipCmd::Drain);
    let grace = Duration::from_secs(config.shutdown_grace_secs);
    let until = Instant::now() + grace;
    let busy = || {
        ctx.active_calls
            .load(Ordering::SeqCst)
            .saturating_sub(ctx.parked.load(Ordering::SeqCst))
    };
    while busy() > 0 && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let left = busy();
    if left > 0 {
        info!(calls = left, "grace period over; ending remaining calls");
    }
    // Let final BYEs and ticket writes leave.
    tokio::time::sleep(Duration::from_millis(300)).await;
    ctx.tickets.close().await;
    info!("stopped");
    Ok(())
}
