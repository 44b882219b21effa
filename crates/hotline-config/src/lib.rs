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

mod locate;
mod raw;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;
use toml_edit::ImDocument;

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
}

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

struct Ctx<'a> {
    file: &'a str,
    loc: &'a Locator<'a>,
}

type R<T> = Result<T, ConfigError>;

impl Ctx<'_> {
    fn err(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.file.to_string(),
            line: self.loc.line_of(key),
            key: key.to_string(),
            message: message.into(),
        }
    }

    fn positive(&self, key: &str, v: Option<i64>, default: u64) -> R<u64> {
        match v {
            None => Ok(default),
            Some(n) if n > 0 => Ok(n as u64),
            Some(_) => Err(self.err(key, "must be a positive integer")),
        }
    }

    fn non_negative(&self, key: &str, v: Option<i64>, default: u64) -> R<u64> {
        match v {
            None => Ok(default),
            Some(n) if n >= 0 => Ok(n as u64),
            Some(_) => Err(self.err(key, "must not be negative")),
        }
    }

    fn non_empty(&self, key: &str, v: Option<String>, default: &str) -> R<String> {
        let v = v.unwrap_or_else(|| default.to_string());
        if v.trim().is_empty() {
            return Err(self.err(key, "must not be empty"));
        }
        Ok(v)
    }

    fn convert(&self, raw: RawConfig) -> R<Config> {
        let sip = self.sip(raw.sip)?;
        let media = self.media(raw.media)?;
        let http = self.http(raw.http)?;
        let database = self.database(raw.database)?;
        let sounds = self.sounds(raw.sounds)?;
        let menu_names: Vec<&str> = raw.menus.keys().map(String::as_str).collect();
        let queues = self.queues(raw.queues, &menu_names)?;
        let lines = self.lines(raw.lines, &queues, &menu_names)?;
        let menus = self.menus(&raw.menus, &queues)?;
        let agents = self.agents(raw.agents, &queues, &lines)?;
        self.reachable(&queues, &agents)?;
        let trunks = self.trunks(raw.trunks, &lines)?;
        let caller_priority = self.caller_priority(raw.caller_priority)?;
        let shutdown_grace_secs =
            self.non_negative("shutdown_grace_secs", raw.shutdown_grace_secs, 30)?;
        Ok(Config {
            sip,
            media,
            http,
            database,
            sounds,
            lines,
            queues,
            agents,
            menus,
            trunks,
            caller_priority,
            shutdown_grace_secs,
        })
    }

    /// `v` (already checked for sign) as a u32.
    fn u32(&self, key: &str, v: u64) -> R<u32> {
        u32::try_from(v).map_err(|_| self.err(key, "is too large"))
    }

    fn i32(&self, key: &str, v: i64) -> R<i32> {
        i32::try_from(v).map_err(|_| self.err(key, "is out of range"))
    }

    /// A prompt name: `sounds/<language>/<name>.wav`, so not empty and not a path.
    fn prompt(&self, key: &str, v: Option<String>, default: &str) -> R<String> {
        let v = self.non_empty(key, v, default)?;
        if v.contains(['/', '\\']) || v.starts_with('.') {
            return Err(self.err(key, "must be a prompt name, not a path"));
        }
        Ok(v)
    }

    /// An IVR action; `queue:` targets must be defined queues and `play:` prompts prompt names. `menu:` targets
    /// are left to [`Menus::validate`] (menus) or checked by the caller (`on_max_wait`).
    fn action(&self, key: &str, text: &str, queues: &[QueueConfig]) -> R<Action> {
        let action: Action = text
            .parse()
            .map_err(|e: hotline_ivr::ParseActionError| self.err(key, e.to_string()))?;
        match &action {
            Action::Queue(q) if !queues.iter().any(|x| &x.name == q) => {
                Err(self.err(key, unknown("queue", q, queues.iter().map(|x| &x.name))))
            }
            Action::Play(p) => {
                self.prompt(key, Some(p.clone()), "")?;
                Ok(action)
            }
            _ => Ok(action),
        }
    }

    fn sip(&self, raw: raw::RawSip) -> R<SipConfig> {
        let d = SipConfig::default();
        let listen = match raw.listen {
            None => d.listen,
            Some(list) => {
                if list.is_empty() {
                    return Err(self.err("sip.listen", "needs at least one address"));
                }
                let mut out = Vec::new();
                for (i, s) in list.iter().enumerate() {
                    let key = format!("sip.listen[{i}]");
                    let addr: ListenAddr = s.parse().map_err(|e: String| self.err(&key, e))?;
                    if out.contains(&addr) {
                        return Err(self.err(&key, format!("`{s}` is listed twice")));
                    }
                    out.push(addr);
                }
                out
            }
        };
        let domain = self.non_empty("sip.domain", raw.domain, &d.domain)?;
        let trunks = match raw.trunks {
            None => d.trunks,
            Some(list) => {
                let mut out = Vec::new();
                for (i, s) in list.iter().enumerate() {
                    let net = s
                        .parse::<IpNet>()
                        .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                        .map_err(|_| {
                            self.err(
                                &format!("sip.trunks[{i}]"),
                                format!("`{s}` is not a CIDR such as 10.0.0.0/8 or an IP address"),
                            )
                        })?;
                    out.push(net.trunc());
                }
                out
            }
        };
        let t1_ms = self.positive("sip.t1_ms", raw.t1_ms, d.t1_ms)?;
        let t2_ms = self.positive("sip.t2_ms", raw.t2_ms, d.t2_ms)?;
        let t4_ms = self.positive("sip.t4_ms", raw.t4_ms, d.t4_ms)?;
        if t2_ms < t1_ms {
            return Err(self.err("sip.t2_ms", "must not be less than t1_ms"));
        }
        let nonce_ttl_secs =
            self.positive("sip.nonce_ttl_secs", raw.nonce_ttl_secs, d.nonce_ttl_secs)?;
        let digest_algorithms = match raw.digest_algorithms {
            None => d.digest_algorithms,
            Some(list) => {
                if list.is_empty() {
                    return Err(self.err("sip.digest_algorithms", "needs at least one algorithm"));
                }
                let mut out = Vec::new();
                for (i, s) in list.iter().enumerate() {
                    let key = format!("sip.digest_algorithms[{i}]");
                    let alg = match s.to_ascii_uppercase().as_str() {
                        "MD5" => DigestAlgorithm::Md5,
                        "SHA-256" => DigestAlgorithm::Sha256,
                        _ => return Err(self.err(&key, format!("`{s}` is not MD5 or SHA-256"))),
                    };
                    if out.contains(&alg) {
                        return Err(self.err(&key, format!("`{s}` is listed twice")));
                    }
                    out.push(alg);
                }
                out
            }
        };
        let md5_only_user_agents = raw.md5_only_user_agents.unwrap_or(d.md5_only_user_agents);
        let expires = |key: &str, v: Option<i64>, default: u32| -> R<u32> {
            let n = self.positive(key, v, u64::from(default))?;
            u32::try_from(n).map_err(|_| self.err(key, "is too large"))
        };
        let register_min_expires = expires(
            "sip.register_min_expires",
            raw.register_min_expires,
            d.register_min_expires,
        )?;
        let register_max_expires = expires(
            "sip.register_max_expires",
            raw.register_max_expires,
            d.register_max_expires,
        )?;
        if register_max_expires < register_min_expires {
            return Err(self.err(
                "sip.register_max_expires",
                "must not be less than register_min_expires",
            ));
        }
        let options_keepalive_secs = self.non_negative(
            "sip.options_keepalive_secs",
            raw.options_keepalive_secs,
            d.options_keepalive_secs,
        )?;
        Ok(SipConfig {
            listen,
            domain,
            trunks,
            t1_ms,
            t2_ms,
            t4_ms,
            nonce_ttl_secs,
            digest_algorithms,
            md5_only_user_agents,
            register_min_expires,
            register_max_expires,
            options_keepalive_secs,
        })
    }

    fn media(&self, raw: raw::RawMedia) -> R<MediaConfig> {
        let d = MediaConfig::default();
        let ip = match raw.ip {
            None => d.ip,
            Some(s) => {
                let ip: IpAddr = s
                    .parse()
                    .map_err(|_| self.err("media.ip", format!("`{s}` is not an IP address")))?;
                // SDP must carry an address the far end can send to.
                if ip.is_unspecified() {
                    return Err(
                        self.err("media.ip", "must be a concrete address, not 0.0.0.0 or ::")
                    );
                }
                ip
            }
        };
        let rtp_ports = match raw.rtp_ports {
            None => d.rtp_ports,
            Some(v) => {
                let [min, max] = v[..] else {
                    return Err(self.err("media.rtp_ports", "must be [min, max]"));
                };
                let port = |i: usize, p: i64| -> R<u16> {
                    u16::try_from(p).ok().filter(|&p| p > 0).ok_or_else(|| {
                        self.err(
                            &format!("media.rtp_ports[{i}]"),
                            "must be a port between 1 and 65535",
                        )
                    })
                };
                let (min, max) = (port(0, min)?, port(1, max)?);
                if min >= max {
                    return Err(self.err(
                        "media.rtp_ports",
                        "min must be less than max (at least 2 ports)",
                    ));
                }
                [min, max]
            }
        };
        let rtp_timeout_secs = self.positive(
            "media.rtp_timeout_secs",
            raw.rtp_timeout_secs,
            d.rtp_timeout_secs,
        )?;
        Ok(MediaConfig {
            ip,
            rtp_ports,
            rtp_timeout_secs,
        })
    }

    fn http(&self, raw: raw::RawHttp) -> R<HttpConfig> {
        let d = HttpConfig::default();
        let listen = match raw.listen {
            None => d.listen,
            Some(s) => s
                .parse()
                .map_err(|_| self.err("http.listen", format!("`{s}` is not IP:PORT")))?,
        };
        let admin_token = self.non_empty("http.admin_token", raw.admin_token, &d.admin_token)?;
        Ok(HttpConfig {
            listen,
            admin_token,
        })
    }

    fn database(&self, raw: raw::RawDatabase) -> R<DatabaseConfig> {
        let d = DatabaseConfig::default();
        let url = raw.url.unwrap_or(d.url);
        let ok = url == "sqlite::memory:"
            || ["sqlite://", "postgres://", "postgresql://"]
                .iter()
                .any(|p| url.len() > p.len() && url.starts_with(p));
        if !ok {
            return Err(self.err(
                "database.url",
                format!("`{url}` must start with sqlite:// or postgres:// (postgresql://)"),
            ));
        }
        Ok(DatabaseConfig { url })
    }

    fn sounds(&self, raw: raw::RawSounds) -> R<SoundsConfig> {
        let d = SoundsConfig::default();
        let dir = match raw.dir {
            None => d.dir,
            Some(s) if s.trim().is_empty() => {
                return Err(self.err("sounds.dir", "must not be empty"))
            }
            Some(s) => PathBuf::from(s),
        };
        let language = raw.language.unwrap_or(d.language);
        if language != "zh" && language != "en" {
            return Err(self.err("sounds.language", format!("`{language}` is not zh or en")));
        }
        Ok(SoundsConfig { dir, language })
    }

    fn queues(&self, raw: Vec<raw::RawQueue>, menu_names: &[&str]) -> R<Vec<QueueConfig>> {
        if raw.is_empty() {
            return Err(self.err("queues", "at least one [[queues]] is required"));
        }
        let mut out: Vec<QueueConfig> = Vec::new();
        // on_max_wait is parsed once every queue name is known.
        let mut on_max_wait: Vec<Option<String>> = Vec::new();
        for (i, q) in raw.into_iter().enumerate() {
            let key = |k: &str| format!("queues[{i}].{k}");
            let name = self.non_empty(&key("name"), Some(q.name), "")?;
            if out.iter().any(|o| o.name == name) {
                return Err(self.err(&key("name"), format!("queue `{name}` is defined twice")));
            }
            let ring_timeout_secs =
                self.positive(&key("ring_timeout_secs"), q.ring_timeout_secs, 15)?;
            let wrap_up_secs = self.non_negative(&key("wrap_up_secs"), q.wrap_up_secs, 5)?;
            let strategy = match q.strategy {
                None => Strategy::default(),
                Some(s) => s.parse().map_err(|e: hotline_acd::UnknownStrategy| {
                    self.err(&key("strategy"), e.to_string())
                })?,
            };
            let max_no_answer = self.non_negative(&key("max_no_answer"), q.max_no_answer, 3)?;
            let max_no_answer = self.u32(&key("max_no_answer"), max_no_answer)?;
            let announce_every_secs =
                self.non_negative(&key("announce_every_secs"), q.announce_every_secs, 30)?;
            let max_wait_secs = self.non_negative(&key("max_wait_secs"), q.max_wait_secs, 600)?;
            let callback_key = match q.callback_key.as_deref() {
                None => Some('1'),
                Some("") => None,
                Some(k) => {
                    let mut chars = k.chars();
                    match (chars.next(), chars.next()) {
                        (Some(c), None) if DTMF_KEYS.contains(c) => Some(c),
                        _ => {
                            return Err(self.err(
                                &key("callback_key"),
                                format!("`{k}` is not one DTMF key (0-9, * or #); \"\" turns the callback offer off"),
                            ))
                        }
                    }
                }
            };
            let tier_escalate_secs =
                self.non_negative(&key("tier_escalate_secs"), q.tier_escalate_secs, 30)?;
            let skills = self.skill_list(&key("skills"), q.skills.unwrap_or_default())?;
            on_max_wait.push(q.on_max_wait);
            out.push(QueueConfig {
                name,
                ring_timeout_secs,
                wrap_up_secs,
                strategy,
                max_no_answer,
                announce_every_secs,
                max_wait_secs,
                on_max_wait: Action::Callback,
                callback_key,
                tier_escalate_secs,
                skills,
            });
        }
        for (i, text) in on_max_wait.into_iter().enumerate() {
            let Some(text) = text else { continue };
            let key = format!("queues[{i}].on_max_wait");
            let action = self.action(&key, &text, &out)?;
            match &action {
                Action::Play(_) | Action::Repeat => {
                    return Err(self.err(
                        &key,
                        format!("`{action}` cannot end a wait: use callback, queue:NAME, menu:NAME or hangup"),
                    ))
                }
                Action::Queue(q) if *q == out[i].name => {
                    return Err(self.err(&key, "must not be the queue itself (use callback, hangup, another queue or a menu)"))
                }
                Action::Menu(m) if !menu_names.contains(&m.as_str()) => {
                    return Err(self.err(&key, unknown("menu", m, menu_names)));
                }
                _ => {}
            }
            out[i].on_max_wait = action;
        }
        self.max_wait_loops(&out)?;
        Ok(out)
    }

    /// `on_max_wait = "queue:B"` in A and `"queue:A"` in B would pass a caller back and forth for ever.
    fn max_wait_loops(&self, queues: &[QueueConfig]) -> R<()> {
        let next = |q: &QueueConfig| -> Option<usize> {
            match &q.on_max_wait {
                Action::Queue(t) if q.max_wait_secs > 0 => queues.iter().position(|x| &x.name == t),
                _ => None,
            }
        };
        for (i, q) in queues.iter().enumerate() {
            let mut chain = vec![i];
            let mut at = q;
            while let Some(j) = next(at) {
                let looped = chain.contains(&j);
                chain.push(j);
                if looped {
                    if j != i {
                        break; // a loop further down the chain; reported from one of its own queues
                    }
                    let names: Vec<&str> = chain.iter().map(|&k| queues[k].name.as_str()).collect();
                    return Err(self.err(
                        &format!("queues[{i}].on_max_wait"),
                        format!(
                            "callers would be passed round in a loop ({}); end the chain with callback, hangup or a menu",
                            names.join(" -> ")
                        ),
                    ));
                }
                at = &queues[j];
            }
        }
        Ok(())
    }

    /// A queue's required `skills`: names, no repeats.
    fn skill_list(&self, key: &str, list: Vec<String>) -> R<Vec<String>> {
        for (j, s) in list.iter().enumerate() {
            let k = format!("{key}[{j}]");
            if !is_name(s) {
                return Err(self.err(
                    &k,
                    format!("`{s}` is not a skill name (letters, digits, - and _)"),
                ));
            }
            if list[..j].contains(s) {
                return Err(self.err(&k, format!("`{s}` is listed twice")));
            }
        }
        Ok(list)
    }

    fn lines(
        &self,
        raw: Vec<raw::RawLine>,
        queues: &[QueueConfig],
        menu_names: &[&str],
    ) -> R<Vec<LineConfig>> {
        if raw.is_empty() {
            return Err(self.err("lines", "at least one [[lines]] is required"));
        }
        let mut out: Vec<LineConfig> = Vec::new();
        for (i, l) in raw.into_iter().enumerate() {
            let key = |k: &str| format!("lines[{i}].{k}");
            let number = self.non_empty(&key("number"), Some(l.number), "")?;
            if !is_sip_user(&number) {
                return Err(self.err(
                    &key("number"),
                    format!("`{number}` is not a valid SIP user part"),
                ));
            }
            if out.iter().any(|o| o.number == number) {
                return Err(self.err(&key("number"), format!("line `{number}` is defined twice")));
            }
            let name = self.non_empty(&key("name"), l.name, &number)?;
            let greeting = self.prompt(&key("greeting"), l.greeting, "welcome")?;
            if let Some(m) = &l.menu {
                if !menu_names.contains(&m.as_str()) {
                    return Err(self.err(&key("menu"), unknown("menu", m, menu_names)));
                }
            }
            let queue = l.queue;
            if !queues.iter().any(|q| q.name == queue) {
                return Err(self.err(
                    &key("queue"),
                    unknown("queue", &queue, queues.iter().map(|q| &q.name)),
                ));
            }
            let priority = match l.priority {
                None => 0,
                Some(p) => self.i32(&key("priority"), p)?,
            };
            out.push(LineConfig {
                number,
                name,
                greeting,
                menu: l.menu,
                queue,
                priority,
            });
        }
        Ok(out)
    }

    fn agents(
        &self,
        raw: Vec<raw::RawAgent>,
        queues: &[QueueConfig],
        lines: &[LineConfig],
    ) -> R<Vec<AgentConfig>> {
        if raw.is_empty() {
            return Err(self.err("agents", "at least one [[agents]] is required"));
        }
        let mut out: Vec<AgentConfig> = Vec::new();
        let mut seen = HashSet::new();
        for (i, a) in raw.into_iter().enumerate() {
            let key = |k: &str| format!("agents[{i}].{k}");
            let id = self.non_empty(&key("id"), Some(a.id), "")?;
            if !is_sip_user(&id) {
                return Err(self.err(&key("id"), format!("`{id}` is not a valid SIP user name")));
            }
            if !seen.insert(id.clone()) {
                return Err(self.err(&key("id"), format!("agent `{id}` is defined twice")));
            }
            // A dialled number must mean one thing: a line or an extension.
            if lines.iter().any(|l| l.number == id) {
                return Err(self.err(&key("id"), format!("`{id}` is also a line number")));
            }
            let password = self.non_empty(&key("password"), Some(a.password), "")?;
            let name = self.non_empty(&key("name"), a.name, &id)?;
            let mut memberships: Vec<QueueMembership> = Vec::new();
            for (j, m) in a.queues.into_iter().enumerate() {
                let at = format!("agents[{i}].queues[{j}]");
                let (name, name_key, tier) = match m {
                    raw::RawMembership::Name(n) => (n, at.clone(), 1),
                    raw::RawMembership::Tiered(t) => {
                        let tier_key = format!("{at}.tier");
                        let tier = match t.tier {
                            None => 1,
                            Some(n) if n >= 1 => self.u32(&tier_key, n as u64)?,
                            Some(_) => {
                                return Err(self.err(
                                    &tier_key,
                                    "must be 1 or more (tier 1 is offered calls first)",
                                ))
                            }
                        };
                        (t.name, format!("{at}.name"), tier)
                    }
                };
                if !queues.iter().any(|x| x.name == name) {
                    return Err(self.err(
                        &name_key,
                        unknown("queue", &name, queues.iter().map(|q| &q.name)),
                    ));
                }
                if memberships.iter().any(|x| x.name == name) {
                    return Err(self.err(&name_key, format!("queue `{name}` is listed twice")));
                }
                memberships.push(QueueMembership { name, tier });
            }
            let mut skills = BTreeMap::new();
            for (skill, level) in a.skills {
                let k = format!("agents[{i}].skills.{skill}");
                if !is_name(&skill) {
                    return Err(self.err(
                        &k,
                        format!("`{skill}` is not a skill name (letters, digits, - and _)"),
                    ));
                }
                let level = u32::try_from(level)
                    .ok()
                    .filter(|l| (1..=MAX_SKILL_LEVEL).contains(l))
                    .ok_or_else(|| {
                        self.err(
                            &k,
                            format!("level must be 1 to {MAX_SKILL_LEVEL} (higher is better)"),
                        )
                    })?;
                skills.insert(skill, level);
            }
            let initial_status = match a.initial_status.as_deref() {
                None | Some("available") => InitialStatus::Available,
                Some("break") => InitialStatus::Break,
                Some("logged_out") => InitialStatus::LoggedOut,
                Some(s) => {
                    return Err(self.err(
                        &key("initial_status"),
                        format!("`{s}` is not available, break or logged_out"),
                    ))
                }
            };
            out.push(AgentConfig {
                id,
                password,
                name,
                queues: memberships,
                skills,
                initial_status,
            });
        }
        Ok(out)
    }

    fn menus(&self, raw: &BTreeMap<String, raw::RawMenu>, queues: &[QueueConfig]) -> R<Menus> {
        let mut menus = Menus::new();
        for (name, m) in raw {
            let key = |k: &str| format!("menus.{name}.{k}");
            if !is_name(name) {
                return Err(self.err(
                    &format!("menus.{name}"),
                    format!("`{name}` is not a menu name (letters, digits, - and _)"),
                ));
            }
            let prompt = self.prompt(&key("prompt"), Some(m.prompt.clone()), "")?;
            let timeout_secs = self.positive(&key("timeout_secs"), m.timeout_secs, 5)?;
            let retries = self.non_negative(&key("retries"), m.retries, 2)?;
            let retries = self.u32(&key("retries"), retries)?;
            if m.options.is_empty() {
                return Err(self.err(&key("options"), "a menu needs at least one option"));
            }
            let mut options = BTreeMap::new();
            for (digit, text) in &m.options {
                let k = key(&format!("options.{digit}"));
                let mut chars = digit.chars();
                let d = match (chars.next(), chars.next()) {
                    (Some(c), None) if DTMF_KEYS.contains(c) => c,
                    _ => {
                        return Err(self.err(
                            &k,
                            format!("option key `{digit}` is not a single DTMF key (0-9, * or #)"),
                        ))
                    }
                };
                options.insert(d, self.action(&k, text, queues)?);
            }
            let on_timeout = self.action(&key("on_timeout"), &m.on_timeout, queues)?;
            let on_invalid = match &m.on_invalid {
                None => Action::Repeat,
                Some(t) => self.action(&key("on_invalid"), t, queues)?,
            };
            menus.insert(Menu {
                name: name.clone(),
                prompt,
                timeout: Duration::from_secs(timeout_secs),
                retries,
                options,
                on_timeout,
                on_invalid,
            });
        }
        if let Err(errs) = menus.validate() {
            // Report the first problem in file order.
            let err = errs
                .iter()
                .map(|e| self.menu_error(e, &menus))
                .min_by_key(|e| e.line)
                .expect("validate fails with at least one error");
            return Err(err);
        }
        Ok(menus)
    }

    fn menu_error(&self, e: &MenuError, menus: &Menus) -> ConfigError {
        let key = |menu: &str, k: &str| format!("menus.{menu}.{k}");
        match e {
            MenuError::UnknownMenu(m) => self.err(&format!("menus.{m}"), e.to_string()),
            MenuError::UnknownTarget {
                menu,
                place,
                target,
            } => {
                let k = match place.strip_prefix("option ") {
                    Some(d) => key(menu, &format!("options.{d}")),
                    None => key(menu, place),
                };
                self.err(&k, unknown("menu", target, menus.iter().map(|m| &m.name)))
            }
            MenuError::BadDigit { menu, digit } => self.err(
                &key(menu, &format!("options.{digit}")),
                format!("option key `{digit}` is not a single DTMF key (0-9, * or #)"),
            ),
            MenuError::TooManyRetries { menu, .. } => self.err(
                &key(menu, "retries"),
                format!("must be at most {}", hotline_ivr::menu::MAX_RETRIES),
            ),
            MenuError::BadTimeout { menu } => self.err(
                &key(menu, "timeout_secs"),
                format!(
                    "must be 1 to {} seconds",
                    hotline_ivr::menu::MAX_TIMEOUT.as_secs()
                ),
            ),
            MenuError::EmptyPrompt { menu } => self.err(&key(menu, "prompt"), "must not be empty"),
            MenuError::EmptyPlay { menu } => self.err(
                &format!("menus.{menu}"),
                "a `play:` action has no prompt name",
            ),
        }
    }

    /// A queue that requires skills none of its members holds could never be answered: its callers would only
    /// ever leave by `on_max_wait` or by hanging up. That is a configuration mistake, so it is an error, not a
    /// warning (a warning at start-up scrolls away; an unanswerable 12345 queue must not go live).
    fn reachable(&self, queues: &[QueueConfig], agents: &[AgentConfig]) -> R<()> {
        for (i, q) in queues.iter().enumerate() {
            if q.skills.is_empty() {
                continue;
            }
            let members: Vec<&AgentConfig> = agents
                .iter()
                .filter(|a| a.tier_in(&q.name).is_some())
                .collect();
            if !members.iter().any(|a| a.has_skills(&q.skills)) {
                let why = if members.is_empty() {
                    "the queue has no member agents".to_string()
                } else {
                    format!(
                        "none of its agents ({}) holds all of them",
                        members
                            .iter()
                            .map(|a| a.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                return Err(self.err(
                    &format!("queues[{i}].skills"),
                    format!(
                        "no agent could answer this queue: it requires {} and {why}",
                        q.skills.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    fn trunks(&self, raw: raw::RawTrunks, lines: &[LineConfig]) -> R<TrunksConfig> {
        let Some(o) = raw.outbound else {
            return Ok(TrunksConfig::default());
        };
        let key = "trunks.outbound.uri";
        let ok = o
            .uri
            .trim()
            .parse::<hotline_sip::SipUri>()
            .is_ok_and(|u| u.is_sip() && !u.host.is_empty());
        if !ok || o.uri.trim() != o.uri {
            return Err(self.err(
                key,
                format!(
                    "`{}` is not a sip: or sips: URI with a host, e.g. sip:gateway.example.net:5060",
                    o.uri
                ),
            ));
        }
        let caller_id = match o.caller_id {
            None => lines[0].number.clone(),
            Some(c) => {
                if !is_sip_user(&c) {
                    return Err(self.err(
                        "trunks.outbound.caller_id",
                        format!("`{c}` is not a valid SIP user part"),
                    ));
                }
                c
            }
        };
        Ok(TrunksConfig {
            outbound: Some(OutboundTrunk {
                uri: o.uri,
                caller_id: Some(caller_id),
            }),
        })
    }

    fn caller_priority(&self, raw: BTreeMap<String, i64>) -> R<BTreeMap<String, i32>> {
        let mut out = BTreeMap::new();
        for (number, p) in raw {
            let key = format!("caller_priority.{number}");
            if !is_sip_user(&number) {
                return Err(self.err(&key, format!("`{number}` is not a caller number")));
            }
            out.insert(number, self.i32(&key, p)?);
        }
        Ok(out)
    }
}

/// "no queue named `x` (defined: a, b)".
fn unknown<S: AsRef<str>>(kind: &str, name: &str, known: impl IntoIterator<Item = S>) -> String {
    let known: Vec<String> = known.into_iter().map(|s| s.as_ref().to_string()).collect();
    if known.is_empty() {
        format!("no {kind} named `{name}` (none is defined)")
    } else {
        format!("no {kind} named `{name}` (defined: {})", known.join(", "))
    }
}

/// Menu and skill names: they appear in key paths and after `menu:`, so no dots, spaces or colons.
fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
}

/// Characters that can stand unescaped in a SIP URI user part and in a Digest username, minus the ones that would
/// be confusing in a dial plan.
fn is_sip_user(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.!~*+#".contains(c))
}

#[cfg(test)]
mod tests;
