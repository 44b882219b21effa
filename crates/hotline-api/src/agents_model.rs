//! Agent types shown by the API.
//!
//! They belong to `hotline-acd`; this copy (same fields, same serde names) lets the API build on its
//! own meanwhile. To switch, replace this module's body with
//! `pub use hotline_acd::{AgentState, AgentStatus, AgentView};`.

use chrono::Utc;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct AgentView {
    pub id: String,
    pub name: String,
    pub status: AgentStatus,
    pub state: AgentState,
    pub registered: bool,
    pub queues: Vec<String>,
    pub state_since: Option<chrono::DateTime<Utc>>,
    pub break_reason: Option<String>,
}

/// What the agent chose.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    Available,
    Break,
    LoggedOut,
}

/// What the system is doing with the agent.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum AgentState {
    Idle,
    Reserved,
    Ringing,
    InCall,
    WrapUp,
}
