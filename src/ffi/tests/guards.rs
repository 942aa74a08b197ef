//! The shared guards: panic boundary, struct checks, option conversion
//! (versions, NULLs, UTF-8, QoS) and message allocation.

use std::ffi::{c_char, c_int};
use std::mem::offset_of;

use crate::client::sync::Message;
use crate::ffi::client_convert::{connect_options, free_message, malloc_message};
use crate::ffi::guard::{c_str, checked_version, guard_or, guard_rc, qos};
use crate::ffi::handle::{guard_response, response_from};
use crate::ffi::mqttclient_misc::free_response;
use crate::ffi::types::*;
use crate::protocol::codec::{Properties, QoS, ReasonCode};

fn id(s: &[u8; 4]) -> [c_char; 4] {
    s.map(|b| b as c_char)
}

fn connect_opts() -> MQTTClient_connectOptions {
    MQTTClient_connectOptions {
        struct_id: id(b"MQTC"),
        struct_version: 8,
        keepAliveInterval: 60,
        cleansession: 1,
        reliable: 1,
        will: std::ptr::null_mut(),
        username: std::ptr::null(),
        password: std::ptr::null(),
        connectTimeout: 30,
        retryInterval: 0,
        ssl: std::ptr::null_mut(),
        serverURIcount: 0,
        serverURIs: std::ptr::null(),
        MQTTVersion: 0,
        returned: MQTTClient_connectOptions_returned {
            serverURI: std::ptr::null(),
            MQTTVersion: 0,
            sessionPresent: 0,
        },
        binarypwd: MQTTClient_connectOptions_binarypwd {
            len: 0,
            data: std::ptr::null(),
        },
        maxInflightMessages: -1,
        cleanstart: 0,
        httpHeaders: std::ptr::null(),
        httpProxy: std::ptr::null(),
        httpsProxy: std::ptr::null(),
    }
}

fn will(topic: *const c_char) -> MQTTClient_willOptions {
    MQTTClient_willOptions {
        struct_id: id(b"MQTW"),
        struct_version: 1,
        topicName: topic,
        message: c"bye".as_ptr(),
        retained: 1,
        qos: 1,
        payload: MQTTClient_willOptions_payload {
            len: 0,
            data: std::ptr::null(),
        },
    }
}

fn convert(o: &MQTTClient_connectOptions) -> Result<crate::client::sync::ConnectOptions, c_int> {
    // SAFETY: a valid, fully initialised struct.
    unsafe { connect_options(o, Properties::default(), Properties::default()) }
}

#[test]
fn panics_become_failure() {
    assert_eq!(guard_rc(|| panic!("boom")), MQTTCLIENT_FAILURE);
    assert_eq!(guard_or(7, || panic!("boom")), 7);
    assert_eq!(
        guard_response(|| panic!("boom")).reasonCode,
        MQTTCLIENT_FAILURE
    );
    assert_eq!(guard_rc(|| Err(MQTTCLIENT_BAD_QOS)), MQTTCLIENT_BAD_QOS);
    assert_eq!(
        guard_response(|| Err(MQTTCLIENT_WRONG_MQTT_VERSION)).reasonCode,
        MQTTCLIENT_WRONG_MQTT_VERSION
    );
}

#[test]
fn struct_checks() {
    let mut o = connect_opts();
    let p: *const MQTTClient_connectOptions = &o;
    assert_eq!(checked_version!(p, b"MQTC", 8), Ok(8));
    assert_eq!(
        checked_version!(p, b"MQTW", 8),
        Err(MQTTCLIENT_BAD_STRUCTURE)
    );
    o.struct_version = 9;
    let p: *const MQTTClient_connectOptions = &o;
    assert_eq!(
        checked_version!(p, b"MQTC", 8),
        Err(MQTTCLIENT_BAD_STRUCTURE)
    );
    o.struct_version = -1;
    let p: *const MQTTClient_connectOptions = &o;
    assert_eq!(
        checked_version!(p, b"MQTC", 8),
        Err(MQTTCLIENT_BAD_STRUCTURE)
    );
    let null: *const MQTTClient_connectOptions = std::ptr::null();
    assert_eq!(
        checked_version!(null, b"MQTC", 8),
        Err(MQTTCLIENT_NULL_PARAMETER)
    );
}

#[test]
fn strings_and_qos() {
    // SAFETY: NULL and static C strings.
    unsafe {
        assert_eq!(c_str(std::ptr::null()), Err(MQTTCLIENT_NULL_PARAMETER));
        assert_eq!(c_str(c"a/b".as_ptr()), Ok("a/b"));
        assert_eq!(c_str(c"\xff".as_ptr()), Err(MQTTCLIENT_BAD_UTF8_STRING));
    }
    assert_eq!(qos(2), Ok(QoS::ExactlyOnce));
    assert_eq!(qos(3), Err(MQTTCLIENT_BAD_QOS));
    assert_eq!(qos(-1), Err(MQTTCLIENT_BAD_QOS));
}

#[test]
fn connect_options_defaults_convert() {
    let c = convert(&connect_opts()).expect("valid options");
    assert_eq!(c.keep_alive.as_secs(), 60);
    assert!(c.clean_session && !c.clean_start);
    assert_eq!((c.max_inflight, c.mqtt_version), (1, 0));
    assert!(c.will.is_none() && c.username.is_none() && c.password.is_none());
    assert!(c.server_uris.is_empty());
}

#[test]
fn connect_options_version_0_reads_only_its_fields() {
    // A version 0 struct in a buffer that ends right after retryInterval,
    // as a program built against an old header would pass it.
    let size = offset_of!(MQTTClient_connectOptions, retryInterval) + std::mem::size_of::<c_int>();
    // SAFETY: malloc of `size` bytes; the struct prefix is written field by field.
    unsafe {
        let p = libc::calloc(1, size).cast::<MQTTClient_connectOptions>();
        assert!(!p.is_null());
        std::ptr::addr_of_mut!((*p).struct_id).write(id(b"MQTC"));
        std::ptr::addr_of_mut!((*p).struct_version).write(0);
        std::ptr::addr_of_mut!((*p).keepAliveInterval).write(20);
        std::ptr::addr_of_mut!((*p).connectTimeout).write(5);
        let c = connect_options(p, Properties::default(), Properties::default())
            .expect("version 0 is accepted");
        assert_eq!(
            (
                c.keep_alive.as_secs(),
                c.connect_timeout.as_secs(),
                c.mqtt_version
            ),
            (20, 5, 0)
        );
        assert_eq!(c.max_inflight, 10);
        libc::free(p.cast());
    }
}

#[test]
fn connect_options_errors() {
    let mut o = connect_opts();
    o.MQTTVersion = 9;
    assert_eq!(convert(&o).err(), Some(MQTTCLIENT_BAD_MQTT_VERSION));
    o.MQTTVersion = 5;
    assert_eq!(
        convert(&o).err(),
        Some(MQTTCLIENT_BAD_MQTT_OPTION),
        "cleansession with MQTT 5"
    );
    o.cleansession = 0;
    o.cleanstart = 1;
    assert!(convert(&o).expect("MQTT 5 clean start").clean_start);
    o.MQTTVersion = 4;
    assert_eq!(
        convert(&o).err(),
        Some(MQTTCLIENT_BAD_MQTT_OPTION),
        "cleanstart with MQTT 3.1.1"
    );
    let mut o = connect_opts();
    o.username = c"\xfe".as_ptr();
    assert_eq!(convert(&o).err(), Some(MQTTCLIENT_BAD_UTF8_STRING));
    let mut o = connect_opts();
    o.struct_id = id(b"MQTX");
    assert_eq!(convert(&o).err(), Some(MQTTCLIENT_BAD_STRUCTURE));
    // SAFETY: NULL is checked.
    assert_eq!(
        unsafe {
            connect_options(
                std::ptr::null(),
                Properties::default(),
                Properties::default(),
            )
        }
        .err(),
        Some(MQTTCLIENT_NULL_PARAMETER)
    );
}

/// Convert default options carrying `w` (and `ssl`, if given).
fn convert_with(
    mut w: MQTTClient_willOptions,
    ssl: Option<MQTTClient_SSLOptions>,
) -> Result<crate::client::sync::ConnectOptions, c_int> {
    let mut o = connect_opts();
    o.will = &mut w;
    let mut ssl = ssl;
    if let Some(s) = ssl.as_mut() {
        o.ssl = s;
    }
    convert(&o)
}

fn ssl(version: c_int) -> MQTTClient_SSLOptions {
    MQTTClient_SSLOptions {
        struct_id: id(b"MQTS"),
        struct_version: version,
        trustStore: std::ptr::null(),
        keyStore: std::ptr::null(),
        privateKey: std::ptr::null(),
        privateKeyPassword: std::ptr::null(),
        enabledCipherSuites: std::ptr::null(),
        enableServerCertAuth: 1,
        sslVersion: 0,
        verify: 0,
        CApath: std::ptr::null(),
        ssl_error_cb: None,
        ssl_error_context: std::ptr::null_mut(),
        ssl_psk_cb: None,
        ssl_psk_context: std::ptr::null_mut(),
        disableDefaultTrustStore: 0,
        protos: std::ptr::null(),
        protos_len: 0,
    }
}

#[test]
fn will_and_ssl_checks() {
    let topic = c"last/will".as_ptr();
    assert_eq!(
        convert_with(will(c"".as_ptr()), None).err(),
        Some(MQTTCLIENT_0_LEN_WILL_TOPIC)
    );
    assert_eq!(
        convert_with(will(std::ptr::null()), None).err(),
        Some(MQTTCLIENT_NULL_PARAMETER)
    );
    assert_eq!(
        convert_with(
            MQTTClient_willOptions {
                qos: 3,
                ..will(topic)
            },
            None
        )
        .err(),
        Some(MQTTCLIENT_BAD_QOS)
    );
    assert_eq!(
        convert_with(
            MQTTClient_willOptions {
                struct_version: 2,
                ..will(topic)
            },
            None
        )
        .err(),
        Some(MQTTCLIENT_BAD_STRUCTURE)
    );
    let w = convert_with(will(topic), None)
        .expect("valid will")
        .will
        .expect("will present");
    assert_eq!(
        (w.topic.as_str(), &w.payload[..], w.retain, w.qos),
        ("last/will", &b"bye"[..], true, QoS::AtLeastOnce)
    );
    let bin = [1u8, 2, 3];
    let binary = MQTTClient_willOptions {
        payload: MQTTClient_willOptions_payload {
            len: 3,
            data: bin.as_ptr().cast(),
        },
        ..will(topic)
    };
    assert_eq!(
        &convert_with(binary, None)
            .expect("binary will")
            .will
            .expect("will")
            .payload[..],
        &bin
    );
    // Version 0 has no binary payload: the text message is used.
    let v0 = MQTTClient_willOptions {
        struct_version: 0,
        ..binary
    };
    assert_eq!(
        &convert_with(v0, None)
            .expect("v0 will")
            .will
            .expect("will")
            .payload[..],
        b"bye"
    );
    assert_eq!(
        convert_with(will(topic), Some(ssl(6))).err(),
        Some(MQTTCLIENT_BAD_STRUCTURE)
    );
    assert!(convert_with(will(topic), Some(ssl(5))).is_ok());
}

#[test]
fn password_and_server_uris() {
    let mut o = connect_opts();
    let secret = [0u8, 1, 2];
    o.binarypwd = MQTTClient_connectOptions_binarypwd {
        len: 3,
        data: secret.as_ptr().cast(),
    };
    assert_eq!(
        convert(&o).expect("binary password").password.as_deref(),
        Some(&secret[..])
    );
    o.password = c"pw".as_ptr();
    assert_eq!(
        convert(&o).expect("text password").password.as_deref(),
        Some(&b"pw"[..])
    );
    let uris = [
        c"tcp://127.0.0.1:1883".as_ptr().cast_mut(),
        c"127.0.0.1:1884".as_ptr().cast_mut(),
    ];
    o.serverURIcount = 2;
    o.serverURIs = uris.as_ptr();
    assert_eq!(
        convert(&o).expect("uris").server_uris,
        vec!["tcp://127.0.0.1:1883", "127.0.0.1:1884"]
    );
    o.serverURIs = std::ptr::null();
    assert_eq!(convert(&o).err(), Some(MQTTCLIENT_NULL_PARAMETER));
}

#[test]
fn messages_are_malloced_and_freed() {
    let m = Message {
        payload: bytes::Bytes::from_static(b"hello"),
        qos: QoS::AtLeastOnce,
        retained: true,
        dup: false,
        msgid: 7,
        properties: Properties::default(),
        receipt: None,
    };
    let p = malloc_message(&m);
    assert!(!p.is_null());
    // SAFETY: a message from malloc_message.
    unsafe {
        assert_eq!(&(*p).struct_id, &id(b"MQTM"));
        assert_eq!(
            ((*p).payloadlen, (*p).qos, (*p).retained, (*p).msgid),
            (5, 1, 1, 7)
        );
        assert_eq!(
            std::slice::from_raw_parts((*p).payload.cast::<u8>(), 5),
            b"hello"
        );
        free_message(p);
    }
}

#[test]
fn responses_carry_every_code() {
    let r = response_from(&[ReasonCode(1), ReasonCode(0x80)], &Properties::default());
    assert_eq!((r.reasonCode, r.reasonCodeCount), (1, 2));
    // SAFETY: two codes were allocated.
    unsafe { assert_eq!(*r.reasonCodes.add(1), 0x80) };
    assert!(r.properties.is_null());
    // SAFETY: built by response_from.
    unsafe { free_response(r) };
    let single = response_from(&[ReasonCode(2)], &Properties::default());
    assert!(single.reasonCodes.is_null());
}

#[test]
fn fields_of_later_versions_are_ignored() {
    let mut o = connect_opts();
    o.maxInflightMessages = 5;
    assert_eq!(convert(&o).expect("v8").max_inflight, 5);
    o.struct_version = 5;
    o.reliable = 0;
    assert_eq!(
        convert(&o).expect("v5").max_inflight,
        10,
        "maxInflightMessages is a version 6 field"
    );
    o.struct_version = 2;
    o.MQTTVersion = 9;
    assert_eq!(
        convert(&o).expect("v2").mqtt_version,
        0,
        "MQTTVersion is a version 3 field"
    );
    o.struct_version = 1;
    o.serverURIcount = 1;
    assert!(
        convert(&o).expect("v1").server_uris.is_empty(),
        "serverURIs is a version 2 field"
    );
}
