//! hotline-config: the `hotline.toml` file, parsed and checked.
//!
//! [`Config::load`] / [`Config::parse`] return plain data with public fields. Field names are the TOML key names
//! (so the file and the code cannot drift apart); values that need parsing are typed (`SocketAddr`, `IpAddr`,
//! `IpNet`, [`ListenAddr`]), counts of time keep their unit in the name and have `Duration` accessors.
//!
//! Every error displays as `FILE:LINE: KEY: why`, e.g.
//! `bad.toml:7: queues[0].ring_timeout_secs: must be a positive integer`.
//!
//! Every section except `[[lines]]`, `[[queues]]` and `[[agents]]` may be left out; the defaults are documented on
//! each field. Unknown keys are rejected, so a typo never silently falls back to a default.
//!
//! Cross-references are checked: a line's `queue` and `menu`, menu actions (`queue:NAME`, `menu:NAME`), a queue's
//! `on_max_wait` and an agent's `queues` must name something defined; a queue that requires skills must have a
//! member agent holding all of them. Menus are also checked by [`hotline_ivr::Menus::validate`], whose errors are
//! mapped to the key they concern (e.g. `menus.elderly.options.7`).

mod check;
mod locate;
mod raw;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;
use toml_edit::ImDocument;

use check::Ctx;
use locate::Locator;
use raw::RawConfig;

pub use hotline_acd::Strategy;
pub use hotline_ivr::{Action, Menu, MenuError, Menus};

/// The shipped `config/hotline.toml`.
pub const EMBEDDED_DEFAULT: &str = include_str!("../../../config/hotline.toml");

/// A configuration problem, located. `line` is 1-based; 0 when the file could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {key}: {message}")]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    /// Path of the offending key, e.g. `sip.listen[1]` or `agents[3].queues[0]`.
    pub key: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub sip: SipConfig,
    pub media: MediaConfig,
    pub http: HttpConfig,
    pub database: DatabaseConfig,
    pub sounds: SoundsConfig,
    /// Numbers citizens dial. At least one.
    pub lines: Vec<LineConfig>,
    /// At least one.
    pub queues: Vec<QueueConfig>,
    /// At least one.
    pub agents: Vec<AgentConfig>,
    /// `[menus.NAME]`: IVR menus, entered by lines with a `menu`. Default none.
    pub menus: Menus,
    /// `[trunks]`: where outgoing calls go (not `sip.trunks`, which lists the networks calls may come from).
    pub trunks: TrunksConfig,
    /// `[caller_priority]`: caller number (as received in the From user part) → queue priority. See
    /// [`Config::caller_priority_for`]. Default empty.
    pub caller_priority: BTreeMap<String, i32>,
    /// `[emergency]`: short number → SIP URI of that service (120 ambulance, 110 police, 119 fire, 122 traffic
    /// police). Three-way calls and transfers to these numbers go there; other numbers through
    /// `[trunks.outbound]`. Each URI's host is an IP address (the switch does no DNS).
    pub emergency: BTreeMap<String, String>,
    /// `[sos]`: one-key SOS handsets. Present when the section is written or a line has `kind = "sos"`.
    pub sos: Option<SosConfig>,
    /// `[routing]`: the ticket routing core (工单流转). Always present; every key has a default.
    pub routing: RoutingSettings,
    /// How long calls in progress may go on after a shutdown request. Default 30.
    pub shutdown_grace_secs: u64,
}

/// Highest agent skill level. Levels are 1..=100: level 0 would read as "holds the skill" to the config author
/// but as "does not" to the ACD (which requires level >= 1), so it is refused; the ACD sums the levels of a
/// queue's required skills to rank agents, and a percent-like bound keeps those sums small and catches typos
/// such as `mandarin = 500`.
pub const MAX_SKILL_LEVEL: u32 = 100;

/// Keys a caller can press: menu option keys and `callback_key` are one of these.
pub const DTMF_KEYS: &str = "0123456789*#";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    Tcp,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        }
    }
}

/// One SIP listening socket, written `udp:IP:PORT` or `tcp:IP:PORT` (IPv6 as `udp:[::1]:5060`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListenAddr {
    pub transport: Transport,
    pub addr: SocketAddr,
}

impl fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.transport.as_str(), self.addr)
    }
}

impl std::str::FromStr for ListenAddr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not udp:IP:PORT or tcp:IP:PORT");
        let (t, addr) = s.split_once(':').ok_or_else(bad)?;
        let transport = match t {
            "udp" => Transport::Udp,
            "tcp" => Transport::Tcp,
            _ => return Err(bad()),
        };
        let addr = addr.parse().map_err(|_| bad())?;
        Ok(ListenAddr { transport, addr })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    Md5,
    Sha256,
}

impl DigestAlgorithm {
    /// The name used in `WWW-Authenticate` (`MD5`, `SHA-256`).
    pub fn as_str(self) -> &'static str {
        match self {
            DigestAlgorithm::Md5 => "MD5",
            DigestAlgorithm::Sha256 => "SHA-256",
        }
    }
}

/// `[sip]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipConfig {
    /// Default `["udp:127.0.0.1:5060", "tcp:127.0.0.1:5060"]`. At least one.
    pub listen: Vec<ListenAddr>,
    /// Digest realm and our SIP domain. Default `hotline.local`.
    pub domain: String,
    /// Sources allowed to call lines without authentication (CIDRs; a bare IP means that host). Default
    /// `["127.0.0.0/8"]`.
    pub trunks: Vec<IpNet>,
    /// RFC 3261 T1 (RTT estimate). Default 500.
    pub t1_ms: u64,
    /// RFC 3261 T2 (maximum retransmit interval for non-INVITE). Default 4000.
    pub t2_ms: u64,
    /// RFC 3261 T4 (maximum time a message stays in the network). Default 5000.
    pub t4_ms: u64,
    /// How long a digest nonce stays valid before `stale=true`. Default 300.
    pub nonce_ttl_secs: u64,
    /// Offered in this order. Default `["MD5", "SHA-256"]`.
    pub digest_algorithms: Vec<DigestAlgorithm>,
    /// Clients whose User-Agent contains one of these (case-insensitive) are challenged with MD5 only:
    /// they abort authentication on any challenge they cannot compute, even when an MD5 one is beside
    /// it (baresip 1.0 / libre). Default `["baresip"]`.
    pub md5_only_user_agents: Vec<String>,
    /// Shorter REGISTER expiries get 423. Default 60.
    pub register_min_expires: u32,
    /// Longer REGISTER expiries are cut to this. Default 3600.
    pub register_max_expires: u32,
    /// OPTIONS ping to registered agents every this many seconds; 0 = off. Default 0.
    pub options_keepalive_secs: u64,
}

impl SipConfig {
    pub fn t1(&self) -> Duration {
        Duration::from_millis(self.t1_ms)
    }
    pub fn t2(&self) -> Duration {
        Duration::from_millis(self.t2_ms)
    }
    pub fn t4(&self) -> Duration {
        Duration::from_millis(self.t4_ms)
    }
    pub fn nonce_ttl(&self) -> Duration {
        Duration::from_secs(self.nonce_ttl_secs)
    }
    /// `None` when keepalives are off.
    pub fn options_keepalive(&self) -> Option<Duration> {
        (self.options_keepalive_secs > 0).then(|| Duration::from_secs(self.options_keepalive_secs))
    }
}

impl Default for SipConfig {
    fn default() -> Self {
        SipConfig {
            listen: vec![
                ListenAddr {
                    transport: Transport::Udp,
                    addr: SocketAddr::from(([127, 0, 0, 1], 5060)),
                },
                ListenAddr {
                    transport: Transport::Tcp,
                    addr: SocketAddr::from(([127, 0, 0, 1], 5060)),
                },
            ],
            domain: "hotline.local".into(),
            trunks: vec![IpNet::from(ipnet::Ipv4Net::new_assert(
                [127, 0, 0, 0].into(),
                8,
            ))],
            t1_ms: 500,
            t2_ms: 4000,
            t4_ms: 5000,
            nonce_ttl_secs: 300,
            digest_algorithms: vec![DigestAlgorithm::Md5, DigestAlgorithm::Sha256],
            md5_only_user_agents: vec!["baresip".to_string()],
            register_min_expires: 60,
            register_max_expires: 3600,
            options_keepalive_secs: 0,
        }
    }
}

/// `[media]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaConfig {
    /// Address written into SDP and bound for RTP. Default `127.0.0.1`.
    pub ip: IpAddr,
    /// Inclusive RTP port range `[min, max]`, min < max. Default `[20000, 29999]`.
    pub rtp_ports: [u16; 2],
    /// A call whose media stops for this long is hung up. Default 60.
    pub rtp_timeout_secs: u64,
    /// Record every answered call (WAV, 8 kHz mono mix). Default false.
    pub record: bool,
    /// Where recordings go, as `<dir>/YYYY/MM/DD/<ticket>.wav`. Default `data/recordings` (next to the default
    /// database).
    pub recordings_dir: PathBuf,
}

impl MediaConfig {
    pub fn rtp_timeout(&self) -> Duration {
        Duration::from_secs(self.rtp_timeout_secs)
    }
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            ip: IpAddr::from([127, 0, 0, 1]),
            rtp_ports: [20000, 29999],
            rtp_timeout_secs: 60,
            record: false,
            recordings_dir: PathBuf::from("data/recordings"),
        }
    }
}

/// `[http]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// Default `127.0.0.1:8080`.
    pub listen: SocketAddr,
    /// Bearer token for the admin API. Default `change-me`; must not be empty.
    pub admin_token: String,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            admin_token: "change-me".into(),
        }
    }
}

/// `[database]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseConfig {
    /// `sqlite://…` (also `sqlite::memory:`) or `postgres://…` / `postgresql://…`. Default
    /// `sqlite://data/hotline.db`.
    pub url: String,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: "sqlite://data/hotline.db".into(),
        }
    }
}

/// `[sounds]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoundsConfig {
    /// Prompts live in `<dir>/<language>/<name>.wav`. Relative paths are relative to the working directory.
    /// Default `sounds`.
    pub dir: PathBuf,
    /// `zh` or `en`. Default `zh`.
    pub language: String,
}

impl Default for SoundsConfig {
    fn default() -> Self {
        SoundsConfig {
            dir: PathBuf::from("sounds"),
            language: "zh".into(),
        }
    }
}

/// `[[lines]]`: a number citizens dial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineConfig {
    /// The dialled number (SIP user part). Unique.
    pub number: String,
    /// Shown to agents. Default: the number.
    pub name: String,
    /// Prompt played on answer: `sounds/<language>/<greeting>.wav`. Default `welcome`.
    pub greeting: String,
    /// IVR menu entered after the greeting; must exist in `[menus]`. Default none: straight to `queue`
    /// (GB/T 33358: agent first).
    pub menu: Option<String>,
    /// Queue the call joins (without a menu); must exist.
    pub queue: String,
    /// Queue priority of calls on this line, higher first. Default 0. See [`Config::caller_priority_for`].
    pub priority: i32,
    /// `normal` (default) or `sos`: an SOS line skips greeting and menus and treats every call as an SOS call.
    pub kind: LineKind,
}

/// What a line is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LineKind {
    #[default]
    Normal,
    /// One-key SOS handsets (and whoever dials this number): see [`SosConfig`].
    Sos,
}

/// `[routing]`: deadlines, satisfaction scale and data files of the ticket routing core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingSettings {
    /// Categories, areas, units and the dispatch catalogue. `None`: `config/routing.toml` when it exists, else
    /// the sample built into the binary.
    pub file: Option<String>,
    /// Working-day calendar files (`<year>.toml`). `None`: `config/calendar` when it exists, else the official
    /// calendars built into the binary.
    pub calendar_dir: Option<String>,
    /// Deadline preset: `laishan`, `changchun`, `guangdong` or `shandong`. Default `guangdong`.
    pub sla: String,
    /// Callback grades: `abc` (A/B/C), `three_level` (满意/基本满意/不满意) or `five_level` (好差评). Default
    /// `three_level`.
    pub grade_scale: String,
    /// A ticket of the same caller on the same major category within this many days is a repeat. Default 7.
    pub repeat_window_days: u32,
    /// First-response time of text channels (SMS, web, WeChat, app, mailbox), minutes; 0 = none. Default 3.
    pub first_response_mins: u32,
    /// How often deadlines are checked for warnings and supervision, seconds. Default 30.
    pub sweep_secs: u64,
}

/// `[sos]`: calls from registered SOS handsets and to `kind = "sos"` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SosConfig {
    /// The queue every SOS call enters (at the top priority, ahead of all other calls). Must exist. Default
    /// `sos`.
    pub queue: String,
    /// How many agents are rung at once for an SOS call. Positive. Default 5.
    pub ring_agents: u32,
    /// Seconds without an agent answering before the switch dials `escalate_to` and bridges the elder with it.
    /// Default 20; 0 never escalates.
    pub escalate_after_secs: u64,
    /// The number dialled on escalation, through `[emergency]` (or `[trunks.outbound]`). Default `120` when
    /// `[emergency]` has it, else none.
    pub escalate_to: Option<String>,
    /// How long each emergency contact's phone rings in the after-call notification round. Default 30.
    pub contact_ring_secs: u64,
    /// Per-device announcements generated at registration. Default `data/sos`.
    pub announcements_dir: PathBuf,
}

/// Priority of SOS calls: above anything a line or `[caller_priority]` can give (they are i32 too, but a
/// configured priority this high would be absurd).
pub const SOS_PRIORITY: i32 = 1_000_000;

/// `[[queues]]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueConfig {
    /// Unique.
    pub name: String,
    /// How long an agent's phone rings before the call moves on. Positive. Default 15.
    pub ring_timeout_secs: u64,
    /// Rest after each call before the next offer; 0 = none. Default 5.
    pub wrap_up_secs: u64,
    /// How the queue picks among eligible agents of the same tier and skill level. Default `longest-idle`.
    pub strategy: Strategy,
    /// Consecutive missed offers (no answer / unreachable) that put an agent on break (`no_answer`); 0 = off.
    /// Default 3.
    pub max_no_answer: u32,
    /// Announce position and estimated wait to a waiting caller every this many seconds; 0 = off. Default 30.
    pub announce_every_secs: u64,
    /// A caller waiting this long gets `on_max_wait`; 0 = wait without limit. Default 600.
    pub max_wait_secs: u64,
    /// What happens after `max_wait_secs`: `callback`, `queue:NAME` (another queue, not this one), `menu:NAME`
    /// or `hangup`. Default `callback`.
    pub on_max_wait: Action,
    /// Key a waiting caller presses to hang up and be called back (one of 0-9 * #); `None` (written `""`) = no
    /// callback offer. Default `'1'`.
    pub callback_key: Option<char>,
    /// Agents of tier t are offered a call once it has waited (t - 1) × this; 0 = all tiers at once. Default 30.
    pub tier_escalate_secs: u64,
    /// Skills an agent must hold (level >= 1) to be offered this queue's calls. Default none.
    pub skills: Vec<String>,
}

impl QueueConfig {
    pub fn ring_timeout(&self) -> Duration {
        Duration::from_secs(self.ring_timeout_secs)
    }
    pub fn wrap_up(&self) -> Duration {
        Duration::from_secs(self.wrap_up_secs)
    }
    /// `None` when announcements are off.
    pub fn announce_every(&self) -> Option<Duration> {
        (self.announce_every_secs > 0).then(|| Duration::from_secs(self.announce_every_secs))
    }
    /// `None` when waiting is unlimited.
    pub fn max_wait(&self) -> Option<Duration> {
        (self.max_wait_secs > 0).then(|| Duration::from_secs(self.max_wait_secs))
    }
    pub fn tier_escalate(&self) -> Duration {
        Duration::from_secs(self.tier_escalate_secs)
    }
}

/// One entry of an agent's `queues`: written `"general"` (tier 1) or `{ name = "general", tier = 2 }`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QueueMembership {
    /// The queue; must exist.
    pub name: String,
    /// 1 or more; tier 1 is offered calls first, tier t after (t - 1) × the queue's `tier_escalate_secs`.
    pub tier: u32,
}

/// `[trunks]`
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrunksConfig {
    /// `[trunks.outbound]`. Default none: callbacks can be recorded but not dialled.
    pub outbound: Option<OutboundTrunk>,
}

/// `[trunks.outbound]`: the gateway outgoing calls (callbacks) are sent to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundTrunk {
    /// A `sip:` or `sips:` URI with a host, e.g. `sip:127.0.0.1:5092` (checked with the switch's own parser).
    pub uri: String,
    /// Number shown to citizens on outgoing calls. Filled in on parsing: the first line's number when not
    /// written, so it is always `Some` in a parsed config.
    pub caller_id: Option<String>,
}

/// Status an agent has at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum InitialStatus {
    #[default]
    Available,
    Break,
    LoggedOut,
}

/// `[[agents]]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentConfig {
    /// SIP user name and extension. Unique, not a line number.
    pub id: String,
    /// SIP digest password. Not empty.
    pub password: String,
    /// Default: the id.
    pub name: String,
    /// Queues served, each with a tier; each queue must exist and appear once. Default none.
    pub queues: Vec<QueueMembership>,
    /// Skill → level (1..=[`MAX_SKILL_LEVEL`], higher is better). Default none.
    pub skills: BTreeMap<String, u32>,
    /// `available` (default), `break` or `logged_out`.
    pub initial_status: InitialStatus,
    /// `agent` (default) or `supervisor` (may listen, whisper and barge into calls).
    pub role: AgentRole,
}

/// What an `[[agents]]` entry may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AgentRole {
    #[default]
    Agent,
    Supervisor,
}

impl AgentConfig {
    /// The agent's tier in `queue`, `None` when not a member.
    pub fn tier_in(&self, queue: &str) -> Option<u32> {
        self.queues.iter().find(|m| m.name == queue).map(|m| m.tier)
    }

    /// Holds every one of `skills` (at level >= 1).
    pub fn has_skills<S: AsRef<str>>(&self, skills: &[S]) -> bool {
        skills
            .iter()
            .all(|s| self.skills.get(s.as_ref()).is_some_and(|&l| l >= 1))
    }
}

impl Config {
    /// Reads and checks a file. Errors name the file as given.
    pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: file.clone(),
            line: 0,
            key: "(file)".into(),
            message: format!("cannot read: {e}"),
        })?;
        Config::parse(&text, &file)
    }

    /// The shipped `config/hotline.toml`, compiled in.
    pub fn embedded_default() -> Result<Config, ConfigError> {
        Config::parse(EMBEDDED_DEFAULT, "config/hotline.toml")
    }

    /// Parses and checks `text`; `file_name` is only used in error messages.
    pub fn parse(text: &str, file_name: &str) -> Result<Config, ConfigError> {
        let doc = ImDocument::parse(text.to_string()).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            let line = line_at(text, offset);
            ConfigError {
                file: file_name.to_string(),
                line,
                key: locate::syntax_key(text, line),
                message: first_line(e.message()),
            }
        })?;
        let loc = Locator::new(text, &doc);
        let ctx = Ctx {
            file: file_name,
            loc: &loc,
        };
        let raw: RawConfig = toml_edit::de::from_document(doc.clone()).map_err(|e| {
            let span = e.span();
            let mut key = span
                .as_ref()
                .and_then(|s| loc.path_at(s))
                .unwrap_or_default();
            let mut message = first_line(e.message());
            let mut line = span.map_or(1, |s| loc.line_at(s.start));
            if message.contains(raw::MEMBERSHIP_ENUM) {
                // serde's untagged enums only say "did not match any variant", at the whole list.
                message =
                    "must be a queue name or { name = \"QUEUE\", tier = N } (no other keys)".into();
                if let Some(k) = bad_membership(&doc, &key) {
                    line = loc.line_of(&k);
                    key = k;
                }
            }
            // serde reports a missing field at the enclosing table; name the field itself.
            if let Some(field) = between(&message, "missing field `", "`") {
                key = locate::join(&key, field);
            }
            ConfigError {
                file: file_name.to_string(),
                line,
                key: if key.is_empty() {
                    "(document)".into()
                } else {
                    key
                },
                message,
            }
        })?;
        ctx.convert(raw)
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }

    pub fn queue(&self, name: &str) -> Option<&QueueConfig> {
        self.queues.iter().find(|q| q.name == name)
    }

    pub fn line(&self, number: &str) -> Option<&LineConfig> {
        self.lines.iter().find(|l| l.number == number)
    }

    pub fn agent(&self, id: &str) -> Option<&AgentConfig> {
        self.agents.iter().find(|a| a.id == id)
    }

    pub fn menu(&self, name: &str) -> Option<&Menu> {
        self.menus.get(name)
    }

    /// Queue priority of a call from `caller` on `line`: the higher of the line's `priority` and the caller's
    /// `[caller_priority]` entry (exact match on the number; none = the line's priority).
    pub fn caller_priority_for(&self, line: &LineConfig, caller: &str) -> i32 {
        self.caller_priority
            .get(caller)
            .map_or(line.priority, |&p| p.max(line.priority))
    }

    /// The SIP URI a three-way call or transfer to `number` dials: the `[emergency]` entry, else `number` at
    /// the `[trunks.outbound]` gateway (`sip:NUMBER@gateway`), else `None` (nowhere to dial).
    pub fn dial_target(&self, number: &str) -> Option<String> {
        if let Some(uri) = self.emergency.get(number) {
            return Some(uri.clone());
        }
        let trunk = self.trunks.outbound.as_ref()?;
        let mut uri: hotline_sip::SipUri = trunk.uri.parse().ok()?;
        uri.user = Some(number.to_string());
        Some(uri.to_string())
    }

    /// The partner kind recorded on a ticket's handoff: `120`, `110`, `119`, `122` or `other`.
    pub fn partner_of(number: &str) -> &'static str {
        match number {
            "120" => "120",
            "110" => "110",
            "119" => "119",
            "122" => "122",
            _ => "other",
        }
    }

    /// Whether `line` is an SOS line.
    pub fn is_sos_line(&self, line: &LineConfig) -> bool {
        line.kind == LineKind::Sos
    }

    /// Every prompt the configuration names (line greetings, menu prompts, `play:` prompts), sorted. Prompts the
    /// switch itself plays (queue announcements, callback prompts…) are not included.
    pub fn configured_prompts(&self) -> BTreeSet<String> {
        let mut out: BTreeSet<String> = self.lines.iter().map(|l| l.greeting.clone()).collect();
        for m in self.menus.iter() {
            out.insert(m.prompt.clone());
            let actions = m.options.values().chain([&m.on_timeout, &m.on_invalid]);
            for a in actions {
                if let Action::Play(p) = a {
                    out.insert(p.clone());
                }
            }
        }
        out
    }
}

/// `agents[N].queues` → `agents[N].queues[J]`, J the first entry that is neither a string nor an inline table of
/// a string `name` and an integer `tier`.
fn bad_membership(doc: &ImDocument<String>, key: &str) -> Option<String> {
    let n: usize = key
        .strip_prefix("agents[")?
        .strip_suffix("].queues")?
        .parse()
        .ok()?;
    let agents = doc.get("agents")?;
    let queues = match agents.as_array_of_tables() {
        Some(tables) => tables.get(n)?.get("queues")?.as_array()?,
        None => agents
            .as_array()?
            .get(n)?
            .as_inline_table()?
            .get("queues")?
            .as_array()?,
    };
    let ok = |v: &toml_edit::Value| {
        v.is_str()
            || v.as_inline_table().is_some_and(|t| {
                t.get("name").is_some_and(|n| n.is_str())
                    && t.iter()
                        .all(|(k, v)| k == "name" || (k == "tier" && v.is_integer()))
            })
    };
    let j = queues.iter().position(|v| !ok(v))?;
    Some(format!("{key}[{j}]"))
}

fn line_at(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    1 + text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

fn first_line(s: &str) -> String {
    s.trim().lines().next().unwrap_or("").trim().to_string()
}

fn between<'s>(s: &'s str, start: &str, end: &str) -> Option<&'s str> {
    let rest = &s[s.find(start)? + start.len()..];
    Some(&rest[..rest.find(end)?])
}

#[cfg(test)]
mod tests;
