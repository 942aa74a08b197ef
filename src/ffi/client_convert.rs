//! Conversions for the MQTTClient calls: C connect/will options to
//! `ConnectOptions` (reading only the fields the struct's version has), and
//! received messages to malloc'd MQTTClient_message values C may free.

use std::ffi::{CStr, c_char, c_int, c_void};
use std::time::Duration;

use bytes::Bytes;

use super::guard::{FfiResult, bytes, c_str, checked_version, malloc_bytes, qos, read_field};
use super::properties_convert::to_c;
use super::types::{
    MQTTCLIENT_0_LEN_WILL_TOPIC, MQTTCLIENT_BAD_MQTT_OPTION, MQTTCLIENT_BAD_MQTT_VERSION,
    MQTTCLIENT_BAD_UTF8_STRING, MQTTCLIENT_FAILURE, MQTTCLIENT_NULL_PARAMETER,
    MQTTClient_connectOptions, MQTTClient_message, MQTTClient_willOptions, MQTTProperties,
    MQTTVERSION_3_1, MQTTVERSION_5, MQTTVERSION_DEFAULT,
};
use crate::client::sync::{ConnectOptions, Message};
use crate::protocol::codec::{Properties, Will};

/// Highest struct_version of each option struct Paho 1.3 accepts.
pub(crate) const CONNECT_OPTIONS_MAX_VERSION: c_int = 8;
pub(crate) const WILL_OPTIONS_MAX_VERSION: c_int = 1;
pub(crate) const SSL_OPTIONS_MAX_VERSION: c_int = 5;
pub(crate) const MESSAGE_MAX_VERSION: c_int = 1;

/// Seconds from a C int, negative values as 0.
fn secs(v: c_int) -> Duration {
    Duration::from_secs(u64::try_from(v).unwrap_or(0))
}

/// The will of a connect, if any.
///
/// # Safety
/// `w` NULL or a will struct of the version it declares.
pub(crate) unsafe fn will(
    w: *const MQTTClient_willOptions,
    properties: Properties,
) -> FfiResult<Option<Will>> {
    if w.is_null() {
        return Ok(None);
    }
    let version = checked_version!(w, b"MQTW", WILL_OPTIONS_MAX_VERSION)?;
    let qos = qos(read_field!(w, qos))?;
    let topic_ptr: *const c_char = read_field!(w, topicName);
    if topic_ptr.is_null() {
        return Err(MQTTCLIENT_NULL_PARAMETER);
    }
    // SAFETY: non-NULL C string from the caller.
    let topic = unsafe { c_str(topic_ptr) }?;
    if topic.is_empty() {
        return Err(MQTTCLIENT_0_LEN_WILL_TOPIC);
    }
    let binary = if version >= 1 {
        Some(read_field!(w, payload))
    } else {
        None
    };
    let payload = match binary {
        // SAFETY: C promises `len` bytes at `data`.
        Some(p) if !p.data.is_null() => Bytes::copy_from_slice(unsafe { bytes(p.data, p.len) }),
        _ => {
            let message: *const c_char = read_field!(w, message);
            if message.is_null() {
                Bytes::new()
            } else {
                // SAFETY: non-NULL C string from the caller.
                Bytes::copy_from_slice(unsafe { CStr::from_ptr(message) }.to_bytes())
            }
        }
    };
    Ok(Some(Will {
        topic: topic.to_owned(),
        payload,
        qos,
        retain: read_field!(w, retained) != 0,
        properties,
    }))
}

/// The readers both connect options structs share: MQTTClient_connectOptions
/// and MQTTAsync_connectOptions differ in type but name and version these
/// fields alike. Expands, in the calling module, to `unsafe fn
/// credentials(o, version)` for the given struct type: the SSL options check,
/// then the user name and password; and `unsafe fn server_uris(o, version)`.
macro_rules! connect_option_readers {
    ($options:ty) => {
        /// The password: the C string, else (version 5+) the binary password.
        ///
        /// # Safety
        /// `o` a connect options struct of version `version`.
        unsafe fn password(
            o: *const $options,
            version: ::std::ffi::c_int,
        ) -> $crate::ffi::guard::FfiResult<Option<::bytes::Bytes>> {
            let text: *const ::std::ffi::c_char = $crate::ffi::guard::read_field!(o, password);
            if !text.is_null() {
                // SAFETY: non-NULL C string; Paho requires it to be UTF-8.
                return Ok(Some(::bytes::Bytes::copy_from_slice(
                    unsafe { $crate::ffi::guard::c_str(text) }?.as_bytes(),
                )));
            }
            if version >= 5 {
                let bin = $crate::ffi::guard::read_field!(o, binarypwd);
                if !bin.data.is_null() {
                    // SAFETY: C promises `len` bytes at `data`.
                    return Ok(Some(::bytes::Bytes::copy_from_slice(unsafe {
                        $crate::ffi::guard::bytes(bin.data, bin.len)
                    })));
                }
            }
            Ok(None)
        }

        /// The SSL options check (version 1+), then the user name and the
        /// password, in Paho's order.
        ///
        /// # Safety
        /// `o` a checked connect options struct of version `version`, whose
        /// pointers are valid.
        unsafe fn credentials(
            o: *const $options,
            version: ::std::ffi::c_int,
        ) -> $crate::ffi::guard::FfiResult<(Option<String>, Option<::bytes::Bytes>)> {
            if version >= 1 {
                let ssl = $crate::ffi::guard::read_field!(o, ssl);
                if !ssl.is_null() {
                    $crate::ffi::guard::checked_version!(
                        ssl,
                        b"MQTS",
                        $crate::ffi::client_convert::SSL_OPTIONS_MAX_VERSION
                    )?;
                }
            }
            // SAFETY: checked struct with the caller's pointers.
            let username = unsafe {
                $crate::ffi::guard::opt_c_str($crate::ffi::guard::read_field!(o, username))
            }?
            .map(str::to_owned);
            // SAFETY: as above.
            let password = unsafe { password(o, version) }?;
            Ok((username, password))
        }

        /// The SSL options (version 1+, when given), reading only the
        /// fields of their version.
        ///
        /// # Safety
        /// `o` a connect options struct of version `version` whose SSL
        /// options (if any) passed the check in `credentials`.
        unsafe fn tls(
            o: *const $options,
            version: ::std::ffi::c_int,
        ) -> $crate::ffi::guard::FfiResult<
            Option<::std::sync::Arc<$crate::client::tls::TlsOptions>>,
        > {
            if version < 1 {
                return Ok(None);
            }
            let ssl = $crate::ffi::guard::read_field!(o, ssl);
            if ssl.is_null() {
                return Ok(None);
            }
            let ssl_version = $crate::ffi::guard::checked_version!(
                ssl,
                b"MQTS",
                $crate::ffi::client_convert::SSL_OPTIONS_MAX_VERSION
            )?;
            Ok(Some(::std::sync::Arc::new(
                $crate::ffi::tls_convert::read_ssl_options!(ssl, ssl_version),
            )))
        }

        /// httpHeaders (version 7+): name/value pairs up to a NULL name.
        ///
        /// # Safety
        /// `o` a connect options struct of version `version`.
        unsafe fn http_headers(
            o: *const $options,
            version: ::std::ffi::c_int,
        ) -> $crate::ffi::guard::FfiResult<Vec<(String, String)>> {
            let mut out = Vec::new();
            if version < 7 {
                return Ok(out);
            }
            let mut p = $crate::ffi::guard::read_field!(o, httpHeaders);
            if p.is_null() {
                return Ok(out);
            }
            loop {
                let name = $crate::ffi::guard::read_field!(p, name);
                if name.is_null() {
                    return Ok(out);
                }
                let value = $crate::ffi::guard::read_field!(p, value);
                // SAFETY: C strings of the caller's NULL-ended list.
                let (n, v) = unsafe {
                    (
                        $crate::ffi::guard::c_str(name)?,
                        $crate::ffi::guard::opt_c_str(value)?.unwrap_or(""),
                    )
                };
                out.push((n.to_owned(), v.to_owned()));
                // SAFETY: the list goes on until the NULL name.
                p = unsafe { p.add(1) };
            }
        }

        /// httpProxy and httpsProxy (version 8+).
        ///
        /// # Safety
        /// `o` a connect options struct of version `version`.
        unsafe fn proxies(
            o: *const $options,
            version: ::std::ffi::c_int,
        ) -> $crate::ffi::guard::FfiResult<(Option<String>, Option<String>)> {
            if version < 8 {
                return Ok((None, None));
            }
            // SAFETY: NULL or C strings of the caller's struct.
            let (http, https) = unsafe {
                (
                    $crate::ffi::guard::opt_c_str($crate::ffi::guard::read_field!(o, httpProxy))?,
                    $crate::ffi::guard::opt_c_str($crate::ffi::guard::read_field!(o, httpsProxy))?,
                )
            };
            Ok((http.map(str::to_owned), https.map(str::to_owned)))
        }

        /// The server URI list of a version 2+ struct (empty: the create URI).
        ///
        /// # Safety
        /// `o` a connect options struct of version `version`.
        unsafe fn server_uris(
            o: *const $options,
            version: ::std::ffi::c_int,
        ) -> $crate::ffi::guard::FfiResult<Vec<String>> {
            if version < 2 {
                return Ok(Vec::new());
            }
            let count = $crate::ffi::guard::read_field!(o, serverURIcount);
            let list: *const *mut ::std::ffi::c_char =
                $crate::ffi::guard::read_field!(o, serverURIs);
            if count <= 0 {
                return Ok(Vec::new());
            }
            if list.is_null() {
                // MQTTASYNC_NULL_PARAMETER has the same value.
                return Err($crate::ffi::types::MQTTCLIENT_NULL_PARAMETER);
            }
            (0..count as usize)
                .map(|i| {
                    // SAFETY: C promises `count` entries, each a C string.
                    unsafe { $crate::ffi::guard::c_str(*list.add(i)) }.map(str::to_owned)
                })
                .collect()
        }
    };
}
pub(crate) use connect_option_readers;

connect_option_readers!(MQTTClient_connectOptions);

/// What a publish reads from a checked message struct.
pub(crate) struct MessageFields {
    pub payloadlen: c_int,
    pub payload: *const c_void,
    pub qos: c_int,
    pub retained: c_int,
    /// The message's properties (version 1+), else NULL.
    pub properties: *const MQTTProperties,
}

/// Check a message struct (non-NULL, "MQTM", a known version) and read what
/// a publish needs. MQTTClient_message and MQTTAsync_message differ in type
/// but name and version these fields alike. Evaluates to
/// `FfiResult<MessageFields>`.
macro_rules! message_fields {
    ($msg:expr) => {{
        let msg = $msg;
        $crate::ffi::guard::checked_version!(
            msg,
            b"MQTM",
            $crate::ffi::client_convert::MESSAGE_MAX_VERSION
        )
        .map(|version| $crate::ffi::client_convert::MessageFields {
            payloadlen: $crate::ffi::guard::read_field!(msg, payloadlen),
            payload: $crate::ffi::guard::read_field!(msg, payload).cast_const(),
            qos: $crate::ffi::guard::read_field!(msg, qos),
            retained: $crate::ffi::guard::read_field!(msg, retained),
            properties: if version >= 1 {
                // SAFETY: `msg` is checked non-NULL and version 1 has
                // `properties`; only its address is taken.
                unsafe { ::std::ptr::addr_of!((*msg).properties) }
            } else {
                ::std::ptr::null()
            },
        })
    }};
}
pub(crate) use message_fields;

/// Check and convert connect options. `will_properties` and
/// `properties` are the MQTT 5 extras of MQTTClient_connect5.
///
/// # Safety
/// `o` NULL or a connect options struct of the version it declares, whose
/// pointers are valid.
pub(crate) unsafe fn connect_options(
    o: *const MQTTClient_connectOptions,
    properties: Properties,
    will_properties: Properties,
) -> FfiResult<ConnectOptions> {
    let version = checked_version!(o, b"MQTC", CONNECT_OPTIONS_MAX_VERSION)?;
    // SAFETY: checked struct; the will pointer is the caller's.
    let will = unsafe { will(read_field!(o, will), will_properties) }?;
    // SAFETY: checked struct with the caller's pointers.
    let (username, password) = unsafe { credentials(o, version) }?;
    // SAFETY: checked struct with the caller's pointers.
    let proxies = unsafe { proxies(o, version) }?;
    let mqtt_version = if version >= 3 {
        read_field!(o, MQTTVersion)
    } else {
        MQTTVERSION_DEFAULT
    };
    if mqtt_version != MQTTVERSION_DEFAULT
        && !(MQTTVERSION_3_1..=MQTTVERSION_5).contains(&mqtt_version)
    {
        return Err(MQTTCLIENT_BAD_MQTT_VERSION);
    }
    let clean_session = read_field!(o, cleansession) != 0;
    let clean_start = version >= 6 && read_field!(o, cleanstart) != 0;
    if (mqtt_version >= MQTTVERSION_5 && clean_session)
        || (mqtt_version < MQTTVERSION_5 && clean_start)
    {
        return Err(MQTTCLIENT_BAD_MQTT_OPTION);
    }
    // maxInflightMessages exists from version 6; before that (or when <= 0)
    // Paho uses 1 for `reliable` and 10 otherwise.
    let requested = if version >= 6 {
        read_field!(o, maxInflightMessages)
    } else {
        0
    };
    let max_inflight = if requested > 0 {
        u16::try_from(requested).unwrap_or(u16::MAX)
    } else if read_field!(o, reliable) != 0 {
        1
    } else {
        10
    };
    Ok(ConnectOptions {
        keep_alive: secs(read_field!(o, keepAliveInterval).min(c_int::from(u16::MAX))),
        clean_session,
        clean_start,
        will: will.map(Box::new),
        username,
        password,
        connect_timeout: secs(read_field!(o, connectTimeout)),
        retry_interval: secs(read_field!(o, retryInterval)),
        mqtt_version,
        // SAFETY: checked struct with the caller's pointers.
        server_uris: unsafe { server_uris(o, version) }?,
        max_inflight,
        properties,
        // SAFETY: checked struct with the caller's pointers.
        tls: unsafe { tls(o, version) }?,
        // SAFETY: as above.
        http_headers: unsafe { http_headers(o, version) }?,
        http_proxy: proxies.0,
        https_proxy: proxies.1,
        bridge: false,
    })
}

/// A C string array of `count` topics as owned UTF-8 strings.
///
/// # Safety
/// `topics` NULL or `count` C string pointers.
pub(crate) unsafe fn topics(count: c_int, topics: *const *mut c_char) -> FfiResult<Vec<String>> {
    if count <= 0 {
        return Err(MQTTCLIENT_FAILURE);
    }
    if topics.is_null() {
        return Err(MQTTCLIENT_NULL_PARAMETER);
    }
    (0..count as usize)
        .map(|i| {
            // SAFETY: C promises `count` entries, each NULL or a C string.
            let f = unsafe { c_str(*topics.add(i)) }.map_err(|_| MQTTCLIENT_BAD_UTF8_STRING)?;
            // As Paho, a missing or unusable filter is reported as a bad string.
            crate::protocol::codec::topic::validate_topic_filter(f)
                .map_err(|_| MQTTCLIENT_BAD_UTF8_STRING)?;
            Ok(f.to_owned())
        })
        .collect()
}

/// A topic for PUBLISH: present, UTF-8, non-empty and free of wildcards.
/// Paho reports a NULL topic as MQTTCLIENT_BAD_UTF8_STRING; so do we, and
/// for topics the broker would refuse.
///
/// # Safety
/// `topic` NULL or a C string.
pub(crate) unsafe fn topic<'a>(topic: *const c_char) -> FfiResult<&'a str> {
    // SAFETY: forwarded contract.
    let t = unsafe { c_str(topic) }.map_err(|_| MQTTCLIENT_BAD_UTF8_STRING)?;
    crate::protocol::codec::topic::validate_topic_name(t)
        .map_err(|_| MQTTCLIENT_BAD_UTF8_STRING)?;
    Ok(t)
}

/// A payload for PUBLISH (`len` > 0 needs a non-NULL pointer).
///
/// # Safety
/// `payload` NULL or `len` readable bytes.
pub(crate) unsafe fn payload(len: c_int, payload: *const c_void) -> FfiResult<Bytes> {
    if len < 0 {
        return Err(MQTTCLIENT_FAILURE);
    }
    if len > 0 && payload.is_null() {
        return Err(MQTTCLIENT_NULL_PARAMETER);
    }
    // SAFETY: forwarded contract.
    Ok(Bytes::copy_from_slice(unsafe { bytes(payload, len) }))
}

/// A received message in C form: the struct, its payload and properties
/// each malloc'd, so MQTTClient_freeMessage or free() release them.
/// NULL if memory runs out.
pub(crate) fn malloc_message(m: &Message) -> *mut MQTTClient_message {
    let payload = malloc_bytes(&m.payload);
    if payload.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: malloc of a plain-data struct; checked for NULL below.
    let msg = unsafe { libc::malloc(std::mem::size_of::<MQTTClient_message>()) }
        .cast::<MQTTClient_message>();
    if msg.is_null() {
        // SAFETY: `payload` came from malloc.
        unsafe { libc::free(payload.cast()) };
        return msg;
    }
    let value = MQTTClient_message {
        struct_id: [
            b'M' as c_char,
            b'Q' as c_char,
            b'T' as c_char,
            b'M' as c_char,
        ],
        struct_version: MESSAGE_MAX_VERSION,
        payloadlen: c_int::try_from(m.payload.len()).unwrap_or(c_int::MAX),
        payload: payload.cast(),
        qos: m.qos as c_int,
        retained: c_int::from(m.retained),
        dup: c_int::from(m.dup),
        msgid: c_int::from(m.msgid),
        properties: to_c(&m.properties),
    };
    // SAFETY: `msg` is a fresh allocation of the right size.
    unsafe { msg.write(value) };
    msg
}

/// Free a message made by `malloc_message` (or by Paho-compatible code).
///
/// # Safety
/// `msg` NULL or a malloc'd message whose payload and properties are malloc'd.
pub(crate) unsafe fn free_message(msg: *mut MQTTClient_message) {
    if msg.is_null() {
        return;
    }
    // SAFETY: per the contract every part came from malloc.
    unsafe {
        super::properties::free(std::ptr::addr_of_mut!((*msg).properties));
        libc::free((*msg).payload);
        libc::free(msg.cast());
    }
}
