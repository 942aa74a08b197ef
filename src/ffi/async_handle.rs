//! The object behind an opaque MQTTAsync handle: the Rust async client, the
//! MQTT version it was created for, and the C callbacks set one by one
//! (MQTTAsync_setMessageArrivedCallback and friends each have a context).

use std::ffi::{c_char, c_int};
use std::sync::Mutex;

use super::client_callbacks::{CCallbacks, Context};
use super::guard::FfiResult;
use super::types::{
    MQTTASYNC_BAD_MQTT_OPTION, MQTTASYNC_FAILURE, MQTTASYNC_SSL_NOT_SUPPORTED, MQTTAsync,
    MQTTAsync_connectionLost, MQTTAsync_deliveryComplete, MQTTAsync_messageArrived,
    MQTTCLIENT_BAD_MQTT_VERSION, MQTTCLIENT_SSL_NOT_SUPPORTED, MQTTClient_messageArrived,
    MQTTVERSION_5,
};
use crate::client::r#async::AsyncClient;
use crate::client::error::ClientError;
use crate::client::sync::{Callbacks, Message};

/// The three main callbacks, each with the context it was set with.
#[derive(Clone, Copy, Default)]
pub(crate) struct CallbackSet {
    pub lost: Option<(Context, MQTTAsync_connectionLost)>,
    pub arrived: Option<(Context, MQTTAsync_messageArrived)>,
    pub delivered: Option<(Context, MQTTAsync_deliveryComplete)>,
}

impl CallbackSet {
    fn is_empty(&self) -> bool {
        self.lost.is_none() && self.arrived.is_none() && self.delivered.is_none()
    }
}

/// MQTTClient_message and MQTTAsync_message have the same layout, so the
/// MQTTClient callback wrapper can call an MQTTAsync messageArrived.
fn as_client_arrived(f: MQTTAsync_messageArrived) -> MQTTClient_messageArrived {
    // SAFETY: both are Option<extern "C" fn> of the same arity whose only
    // differing parameter is a pointer to one of two #[repr(C)] structs with
    // identical fields, so the calling convention is the same.
    unsafe { std::mem::transmute::<MQTTAsync_messageArrived, MQTTClient_messageArrived>(f) }
}

impl Callbacks for CallbackSet {
    fn connection_lost(&self, cause: Option<&str>) {
        if let Some((context, f)) = self.lost {
            let c = CCallbacks {
                context,
                connection_lost: f,
                message_arrived: None,
                delivery_complete: None,
            };
            c.connection_lost(cause);
        }
    }

    fn message_arrived(&self, topic: &str, message: &Message) -> bool {
        match self.arrived {
            Some((context, f)) => CCallbacks {
                context,
                connection_lost: None,
                message_arrived: as_client_arrived(f),
                delivery_complete: None,
            }
            .message_arrived(topic, message),
            None => true,
        }
    }

    fn delivery_complete(&self, token: i32) {
        if let Some((context, f)) = self.delivered {
            CCallbacks {
                context,
                connection_lost: None,
                message_arrived: None,
                delivery_complete: f,
            }
            .delivery_complete(token);
        }
    }
}

/// What an MQTTAsync handle points to.
pub(crate) struct AsyncHandle {
    pub client: AsyncClient,
    /// The MQTTVersion given at create.
    pub mqtt_version: c_int,
    /// sendWhileDisconnected from the create options.
    pub offline: bool,
    /// Callbacks set so far (the client gets a copy on every change).
    pub callbacks: Mutex<CallbackSet>,
}

impl AsyncHandle {
    pub(crate) fn is_v5(&self) -> bool {
        self.mqtt_version >= MQTTVERSION_5
    }

    /// Change the callback set with `f` and install the result.
    pub(crate) fn update_callbacks(&self, f: impl FnOnce(&mut CallbackSet)) -> FfiResult<c_int> {
        let mut set = self.callbacks.lock().unwrap_or_else(|e| e.into_inner());
        let mut next = *set;
        f(&mut next);
        let boxed: Option<Box<dyn Callbacks>> = if next.is_empty() {
            None
        } else {
            Some(Box::new(next))
        };
        self.client.set_callbacks(boxed).map_err(async_code)?;
        *set = next;
        Ok(0)
    }
}

/// The handle behind `h`; NULL is MQTTASYNC_FAILURE, as Paho.
///
/// # Safety
/// `h` NULL, or any pointer: only one found in the live set is dereferenced.
pub(crate) unsafe fn async_ref<'a>(h: MQTTAsync) -> FfiResult<&'a AsyncHandle> {
    if h.is_null() || !super::handle::live_async().contains(&(h as usize)) {
        return Err(MQTTASYNC_FAILURE);
    }
    // SAFETY: per the contract, a live Box<AsyncHandle> pointer.
    Ok(unsafe { &*h.cast::<AsyncHandle>() })
}

/// Map a client error to its MQTTAsync code.
pub(crate) fn async_code(e: ClientError) -> c_int {
    super::client_errors::async_code(&e)
}

/// Map an MQTTClient code from a shared converter to the MQTTAsync code of
/// the same error (the two APIs number two of them differently).
pub(crate) fn async_rc(rc: c_int) -> c_int {
    match rc {
        MQTTCLIENT_SSL_NOT_SUPPORTED => MQTTASYNC_SSL_NOT_SUPPORTED,
        MQTTCLIENT_BAD_MQTT_VERSION => MQTTASYNC_BAD_MQTT_OPTION,
        other => other,
    }
}

/// A C string pointer valid while `s` lives (NULL if `s` is None).
pub(crate) fn c_ptr(s: &Option<std::ffi::CString>) -> *mut c_char {
    s.as_ref()
        .map_or(std::ptr::null_mut(), |c| c.as_ptr().cast_mut())
}
