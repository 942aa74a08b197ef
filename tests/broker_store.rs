//! The embedded broker with a store: an orderly stop still says goodbye
//! (the shutdown's DISCONNECT waits for its commit, then is written), and a
//! new server on the same store has what the old one acknowledged.

mod support;

use ferromq::broker::BrokerConfig;
use ferromq::broker::server::Server;
use ferromq::protocol::codec::{
    Connect, Properties, Property, PropertyId, PropertyValue, ProtocolVersion, QoS, ReasonCode,
};
use support::raw::Raw;

fn server(dir: &std::path::Path) -> (Server, u16) {
    let config = BrokerConfig {
        persistence: Some(dir.join("ferromq.redb")),
        ..BrokerConfig::default()
    };
    let mut s = Server::new(config, vec!["127.0.0.1:0".into()], None).expect("server");
    s.start().expect("start");
    let port = s.ports()[0];
    (s, port)
}

#[test]
fn stop_sends_disconnect_and_a_new_server_keeps_the_session() {
    let dir = tempfile::tempdir().unwrap();
    let (mut s, port) = server(dir.path());
    let mut sub = Raw::connect_with(
        port,
        Connect {
            protocol: ProtocolVersion::V311,
            client_id: "keeper".into(),
            clean_start: false,
            ..Connect::default()
        },
    );
    sub.subscribe("kept/#", QoS::AtLeastOnce);
    // Durable: closing it at the stop stages its session, so the
    // DISCONNECT waits for a commit.
    let mut v5 = Raw::connect_with(
        port,
        Connect {
            protocol: ProtocolVersion::V5,
            client_id: "five".into(),
            clean_start: false,
            properties: Properties {
                list: vec![Property {
                    id: PropertyId::SESSION_EXPIRY_INTERVAL,
                    value: PropertyValue::U32(600),
                }],
            },
            ..Connect::default()
        },
    );
    s.stop().expect("stop");
    v5.expect_closed(Some(ReasonCode::SERVER_SHUTTING_DOWN), "stop with a store");
    drop(s);

    let (_s, port) = server(dir.path());
    let mut publisher = Raw::connect(port, ProtocolVersion::V311, "pub");
    publisher.publish0("kept/x", b"after the restart");
    let mut sub = Raw::connect_with(
        port,
        Connect {
            protocol: ProtocolVersion::V311,
            client_id: "keeper".into(),
            clean_start: false,
            ..Connect::default()
        },
    );
    // The restored subscription delivers without a new SUBSCRIBE (QoS 0
    // is not queued for an offline session: this one is sent online).
    publisher.publish0("kept/x", b"online");
    sub.expect_publish("kept/x", b"online");
}
