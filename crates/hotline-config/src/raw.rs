//! The file as written: loose types, every optional key an `Option`, unknown keys rejected. `lib.rs` turns this
//! into typed [`crate::Config`] and checks the meaning of each value.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub sip: RawSip,
    #[serde(default)]
    pub media: RawMedia,
    #[serde(default)]
    pub http: RawHttp,
    #[serde(default)]
    pub database: RawDatabase,
    #[serde(default)]
    pub sounds: RawSounds,
    #[serde(default)]
    pub lines: Vec<RawLine>,
    #[serde(default)]
    pub queues: Vec<RawQueue>,
    #[serde(default)]
    pub agents: Vec<RawAgent>,
    /// `[menus.NAME]`
    #[serde(default)]
    pub menus: BTreeMap<String, RawMenu>,
    /// `[trunks.outbound]` (not `sip.trunks`, the inbound CIDR list).
    #[serde(default)]
    pub trunks: RawTrunks,
    /// `[caller_priority]`: caller number → priority.
    #[serde(default)]
    pub caller_priority: BTreeMap<String, i64>,
    /// `[emergency]`: short number (120, 110…) → SIP URI of that service's gateway.
    #[serde(default)]
    pub emergency: BTreeMap<String, String>,
    pub sos: Option<RawSos>,
    #[serde(default)]
    pub routing: RawRouting,
    pub shutdown_grace_secs: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRouting {
    pub file: Option<String>,
    pub calendar_dir: Option<String>,
    pub sla: Option<String>,
    pub grade_scale: Option<String>,
    pub repeat_window_days: Option<i64>,
    pub first_response_mins: Option<i64>,
    pub sweep_secs: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSip {
    pub listen: Option<Vec<String>>,
    pub domain: Option<String>,
    pub trunks: Option<Vec<String>>,
    pub t1_ms: Option<i64>,
    pub t2_ms: Option<i64>,
    pub t4_ms: Option<i64>,
    pub nonce_ttl_secs: Option<i64>,
    pub digest_algorithms: Option<Vec<String>>,
    pub md5_only_user_agents: Option<Vec<String>>,
    pub register_min_expires: Option<i64>,
    pub register_max_expires: Option<i64>,
    pub options_keepalive_secs: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMedia {
    pub ip: Option<String>,
    pub rtp_ports: Option<Vec<i64>>,
    pub rtp_timeout_secs: Option<i64>,
    pub record: Option<bool>,
    pub recordings_dir: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHttp {
    pub listen: Option<String>,
    pub admin_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDatabase {
    pub url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSounds {
    pub dir: Option<String>,
    pub language: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLine {
    pub number: String,
    pub name: Option<String>,
    pub greeting: Option<String>,
    pub menu: Option<String>,
    pub queue: String,
    pub priority: Option<i64>,
    pub kind: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQueue {
    pub name: String,
    pub ring_timeout_secs: Option<i64>,
    pub wrap_up_secs: Option<i64>,
    pub strategy: Option<String>,
    pub max_no_answer: Option<i64>,
    pub announce_every_secs: Option<i64>,
    pub max_wait_secs: Option<i64>,
    pub on_max_wait: Option<String>,
    pub callback_key: Option<String>,
    pub tier_escalate_secs: Option<i64>,
    pub skills: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAgent {
    pub id: String,
    pub password: String,
    pub name: Option<String>,
    #[serde(default)]
    pub queues: Vec<RawMembership>,
    #[serde(default)]
    pub skills: BTreeMap<String, i64>,
    pub initial_status: Option<String>,
    pub role: Option<String>,
}

/// One entry of an agent's `queues`: `"general"` (tier 1) or `{ name = "general", tier = 2 }`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawMembership {
    Name(String),
    Tiered(RawTiered),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTiered {
    pub name: String,
    pub tier: Option<i64>,
}

/// The name `serde` gives [`RawMembership`] in its "did not match any variant" message.
pub const MEMBERSHIP_ENUM: &str = "RawMembership";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMenu {
    pub prompt: String,
    pub timeout_secs: Option<i64>,
    pub retries: Option<i64>,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
    pub on_timeout: String,
    pub on_invalid: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrunks {
    pub outbound: Option<RawOutbound>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutbound {
    pub uri: String,
    pub caller_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSos {
    pub queue: Option<String>,
    pub ring_agents: Option<i64>,
    pub escalate_after_secs: Option<i64>,
    pub escalate_to: Option<String>,
    pub contact_ring_secs: Option<i64>,
    pub announcements_dir: Option<String>,
}
