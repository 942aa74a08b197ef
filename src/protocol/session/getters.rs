//! Read-only views of a client session: its state, the negotiated limits and
//! what the server told us in CONNACK.

use std::time::Duration;

use super::client::{ClientConfig, ClientSession, CloseReason, SessionState, State};
use crate::protocol::codec::{ConnAck, ProtocolVersion};

impl ClientSession {
    /// The current state.
    pub fn state(&self) -> SessionState {
        match self.state {
            State::AwaitConnack(_) => SessionState::AwaitConnack,
            State::Connected(_) => SessionState::Connected,
            State::Disconnecting(_) => SessionState::Disconnecting,
            State::Closed(_) => SessionState::Closed,
        }
    }

    /// Why the session closed, once it has.
    pub fn close_reason(&self) -> Option<&CloseReason> {
        match &self.state {
            State::Closed(c) => Some(&c.reason),
            _ => None,
        }
    }

    /// The protocol version of the current connection.
    pub fn version(&self) -> ProtocolVersion {
        self.config.version
    }

    /// The configuration of the current connection.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The CONNACK of the current connection, once received.
    pub fn connack(&self) -> Option<&ConnAck> {
        self.connack.as_ref()
    }

    /// The Assigned Client Identifier the server gave us (MQTT 5), if any.
    pub fn assigned_client_id(&self) -> Option<&str> {
        self.assigned_client_id.as_deref()
    }

    /// Outgoing QoS 1/2 publishes not yet complete.
    pub fn inflight_len(&self) -> usize {
        self.inflight.len()
    }

    /// The in-flight window in force (0 when not connected).
    pub fn send_window(&self) -> u16 {
        match &self.state {
            State::Connected(c) => c.send_window,
            _ => 0,
        }
    }

    /// The keepalive in force (after Server Keep Alive); `None` when not connected.
    pub fn keep_alive(&self) -> Option<Duration> {
        match &self.state {
            State::Connected(c) => Some(c.keep_alive),
            _ => None,
        }
    }

    /// The server's Maximum Packet Size (0 = no limit beyond the protocol's).
    pub fn max_send_packet_size(&self) -> u32 {
        match &self.state {
            State::Connected(c) => c.max_send_size,
            _ => 0,
        }
    }

    /// True between a successful CONNACK and the end of the connection.
    pub fn is_connected(&self) -> bool {
        matches!(self.state, State::Connected(_))
    }

    /// Incoming QoS 2 flows waiting for the server (its PUBREL), not for
    /// the owner: what Paho's synchronous disconnect waits for too.
    pub fn incoming_in_flight(&self) -> usize {
        let with_owner = self.tracked.as_ref().map_or(0, |t| t.unacked.len());
        self.incoming_qos2.len().saturating_sub(with_owner)
    }

    /// Outgoing QoS 1/2 packet ids not yet complete, in send order.
    pub fn pending_packet_ids(&self) -> Vec<u16> {
        self.inflight.ids_in_order()
    }
}
