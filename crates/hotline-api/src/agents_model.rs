//! Agent types shown by the API: owned by the ACD core, re-exported so API users need one import.

pub use hotline_acd::{AgentState, AgentStatus, AgentView};
