//! How a queue picks among the agents eligible for a call.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Distribution strategy of a queue. Tier and skill level are applied first; the strategy orders agents of
/// the same tier and level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// The agent whose state became idle longest ago.
    #[default]
    LongestIdle,
    /// The next member after the one offered last, in configuration order.
    RoundRobin,
    /// Every eligible agent at once; the first to answer takes the call.
    RingAll,
    /// The agent who answered the fewest calls since start-up.
    FewestCalls,
    /// The agent with the least talk time since start-up.
    LeastTalkTime,
    /// A seeded pseudo-random pick.
    Random,
}

impl Strategy {
    pub const ALL: [Strategy; 6] = [
        Strategy::LongestIdle,
        Strategy::RoundRobin,
        Strategy::RingAll,
        Strategy::FewestCalls,
        Strategy::LeastTalkTime,
        Strategy::Random,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::LongestIdle => "longest-idle",
            Strategy::RoundRobin => "round-robin",
            Strategy::RingAll => "ring-all",
            Strategy::FewestCalls => "fewest-calls",
            Strategy::LeastTalkTime => "least-talk-time",
            Strategy::Random => "random",
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not one of the strategy names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown strategy `{0}` (expected longest-idle, round-robin, ring-all, fewest-calls, least-talk-time or random)")]
pub struct UnknownStrategy(pub String);

impl FromStr for Strategy {
    type Err = UnknownStrategy;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Strategy::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| UnknownStrategy(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Strategy::ALL {
            assert_eq!(s.as_str().parse::<Strategy>(), Ok(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        assert!("longest_idle".parse::<Strategy>().is_err());
    }
}
