//! The file as written: loose types, every optional key an `Option`, unknown keys rejected. `lib.rs` turns this
//! into typed [`crate::Config`] and checks the meaning of each value.

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
    pub shutdown_grace_secs: Option<i64>,
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
    pub queue: String,
    pub priority: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQueue {
    pub name: String,
    pub ring_timeout_secs: Option<i64>,
    pub wrap_up_secs: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAgent {
    pub id: String,
    pub password: String,
    pub name: Option<String>,
    #[serde(default)]
    pub queues: Vec<String>,
    pub initial_status: Option<String>,
}
