//! Hotline SIP stack: a sans-IO core (no sockets, no clock reads).
//!
//! * [`msg`]: message model, parser, serializer, TCP framing.
//! * [`policy`]: early request checks (400/416/420/501/505…) shared by the torture test and the layer.
//! * [`transaction`]: RFC 3261 §17 transaction layer with timers A–K.
//! * [`auth`]: RFC 7616/8760 digest authentication (server and client side).
//! * [`registrar`]: location service.
//! * [`dialog`]: UAC/UAS dialog state.
//! * [`refer`]: call transfer (REFER, Replaces, Referred-By, sipfrag NOTIFYs).
//! * [`geo`]: caller location (Geolocation header, multipart bodies, PIDF-LO).
//! * [`util`]: tags, Call-IDs and branches.

pub mod auth;
pub mod dialog;
pub mod geo;
pub mod msg;
pub mod policy;
pub mod refer;
pub mod registrar;
pub mod transaction;
pub mod util;

pub use msg::{
    frame_stream, parse_datagram, Framing, Headers, Message, Method, NameAddr, ParseError, Request,
    Response, Scheme, SipMessage, SipUri, Via,
};
pub use transaction::{
    ClientTxnId, ServerTxnId, TimerConfig, TransactionLayer, Transmit, TxnError, TxnEvent,
};
pub use util::{new_branch, new_call_id, new_tag};

/// Transport a message travelled on (or must be sent on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    Tcp,
}

impl Transport {
    /// Reliable transports skip the retransmission timers (RFC 3261 §17).
    pub fn is_reliable(self) -> bool {
        matches!(self, Transport::Tcp)
    }

    /// Name as written in a Via header.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        }
    }
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
