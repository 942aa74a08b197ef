//! Routing as a function: events in, state changes and effects out.

use super::*;
use crate::client::connect::Engine;
use crate::client::core::Phase;
use crate::client::dispatch::Dispatch;
use crate::protocol::codec::{ConnAck, Disconnect, Properties, Publish, QoS, ReasonCode};
use crate::protocol::session::client::{CloseReason, Event};

fn publish(topic: &str) -> Event {
    Event::Message(Publish {
        topic: topic.into(),
        qos: QoS::AtLeastOnce,
        packet_id: 7,
        payload: bytes::Bytes::from_static(b"hi"),
        ..Publish::default()
    })
}

fn run(core: &mut Core, has: Installed, ev: Event) -> Effects {
    let mut fx = Effects::default();
    route(core, &has, ev, &mut fx);
    fx
}

const MAIN: Installed = Installed {
    main: true,
    disconnected: false,
    published: false,
};

#[test]
fn a_message_goes_to_the_callback_or_the_inbox() {
    let mut core = Core::new();
    let fx = run(&mut core, MAIN, publish("a"));
    assert!(
        matches!(fx.dispatch.as_slice(), [Dispatch::Message(t, m)] if t == "a" && m.msgid == 7)
    );
    assert!(core.sync().inbox.is_empty());

    let fx = run(&mut core, Installed::default(), publish("b"));
    assert!(fx.dispatch.is_empty() && fx.notify && !fx.inbox_full);
    assert_eq!(core.sync().inbox.front().map(|m| m.0.as_str()), Some("b"));

    // MQTTAsync without messageArrived: nowhere to go, as Paho.
    let mut core = Core::new();
    core.async_mode = true;
    let fx = run(&mut core, Installed::default(), publish("c"));
    assert!(fx.dispatch.is_empty() && core.sync().inbox.is_empty());
}

#[test]
fn a_full_inbox_asks_to_stop_reading() {
    let mut core = Core::new();
    for _ in 0..HIGH_WATER {
        assert!(!run(&mut core, Installed::default(), publish("x")).inbox_full);
    }
    assert!(run(&mut core, Installed::default(), publish("x")).inbox_full);
}

#[test]
fn a_completed_publish_leaves_pending_and_is_reported() {
    let mut core = Core::new();
    core.sync().pending = vec![3, 4];
    let has = Installed {
        main: true,
        disconnected: false,
        published: true,
    };
    let fx = run(
        &mut core,
        has,
        Event::PublishComplete {
            packet_id: 3,
            reason: ReasonCode::SUCCESS,
            properties: Properties::default(),
        },
    );
    assert_eq!(core.sync().pending, vec![4]);
    assert!(fx.notify);
    assert!(matches!(
        fx.dispatch.as_slice(),
        [
            Dispatch::DeliveryComplete(3),
            Dispatch::Published(3, 0, _, _)
        ]
    ));
}

#[test]
fn connack_goes_to_the_engine() {
    let mut core = Core::new();
    let fx = run(&mut core, MAIN, Event::Connected(ConnAck::default()));
    assert!(matches!(fx.connect, Some(ConnectOutcome::Accepted(_))));
    let refused = ConnAck {
        code: ReasonCode(5),
        ..ConnAck::default()
    };
    let fx = run(&mut core, MAIN, Event::ConnectRefused(refused));
    assert!(matches!(fx.connect, Some(ConnectOutcome::Refused(a)) if a.code.0 == 5));
}

#[test]
fn a_lost_connection_is_told_once_and_only_when_not_asked_for() {
    let mut core = Core::new();
    core.engine = Engine::in_phase(Phase::Connected);
    let fx = run(
        &mut core,
        MAIN,
        Event::Closed(CloseReason::KeepAliveTimeout),
    );
    assert!(fx.was_connected);
    assert!(matches!(
        fx.dispatch.as_slice(),
        [Dispatch::ConnectionLost(Some(c))] if c == "keepalive timeout"
    ));

    // Our own disconnect: no connectionLost, no reconnect.
    core.engine = Engine::in_phase(Phase::Disconnecting);
    let fx = run(
        &mut core,
        MAIN,
        Event::Closed(CloseReason::ClientDisconnect),
    );
    assert!(fx.dispatch.is_empty() && !fx.was_connected);

    // A server DISCONNECT goes to the disconnected callback instead.
    core.engine = Engine::in_phase(Phase::Connected);
    let has = Installed {
        main: true,
        disconnected: true,
        published: false,
    };
    let d = Disconnect {
        reason: ReasonCode(0x8e),
        properties: Properties::default(),
    };
    let fx = run(&mut core, has, Event::ServerDisconnect(d));
    assert!(matches!(fx.dispatch.as_slice(), [Dispatch::Disconnected(_, r)] if r.0 == 0x8e));
    let fx = run(&mut core, has, Event::Closed(CloseReason::ServerDisconnect));
    assert!(fx.dispatch.is_empty() && fx.was_connected);
    assert_eq!(fx.closed, Some(CloseReason::ServerDisconnect));
}

#[test]
fn a_deferred_ack_travels_with_the_message_until_settled() {
    use crate::client::receipt::Receipt;
    use crate::protocol::codec::{Packet, ProtocolVersion};
    use crate::protocol::session::client::ClientConfig;
    use crate::protocol::session::test_support as st;
    let t0 = std::time::Instant::now();
    let mut core = Core::new();
    let cfg = ClientConfig {
        ack_on_delivery: true,
        ..st::config(ProtocolVersion::V311)
    };
    core.session = Some(st::connected(cfg, t0));
    let fx = run(&mut core, MAIN, publish("a"));
    let [Dispatch::Message(topic, msg)] = fx.dispatch.as_slice() else {
        panic!("one message expected");
    };
    assert_eq!(
        msg.receipt,
        Some(Receipt::Wire {
            conn: core.conn_id(),
            id: 7,
            qos: QoS::AtLeastOnce
        })
    );
    let session = core.session.as_mut().unwrap();
    assert!(st::packets(session, t0).is_empty(), "not acknowledged yet");
    assert!(core.settle(topic, msg), "a PUBACK to send");
    let session = core.session.as_mut().unwrap();
    assert_eq!(st::packets(session, t0), vec![Packet::PubAck(st::resp(7))]);

    // Without deferral (no store) a message carries nothing.
    core.session = Some(st::connected(st::config(ProtocolVersion::V311), t0));
    let fx = run(&mut core, MAIN, publish("b"));
    assert!(matches!(fx.dispatch.as_slice(), [Dispatch::Message(_, m)] if m.receipt.is_none()));
}
