//! C callbacks behind the client's Rust callback traits: the context pointer
//! travels to the dispatcher thread in a Send wrapper, and each call hands C
//! the data in the form (and allocation) Paho programs expect.

use std::ffi::{CString, c_int, c_void};

use super::client_convert::{free_message, malloc_message};
use super::guard::malloc_bytes;
use super::properties::free;
use super::properties_convert::to_c;
use super::types::{
    MQTTClient_connectionLost, MQTTClient_deliveryComplete, MQTTClient_disconnected,
    MQTTClient_messageArrived, MQTTClient_published,
};
use crate::client::sync::{Callbacks, DisconnectedFn, Message, PublishedFn};
use crate::protocol::codec::{Properties, ReasonCode};

/// The application's context pointer. The application owns what it points
/// to and has promised, by registering callbacks, that they may use it from
/// the client's thread.
#[derive(Clone, Copy)]
pub(crate) struct Context(pub *mut c_void);

// SAFETY: the pointer is only handed back to the application's own
// callbacks; Paho's contract makes the application responsible for it being
// usable from the callback thread.
unsafe impl Send for Context {}
// SAFETY: as above; we never dereference it.
unsafe impl Sync for Context {}

/// MQTTClient_setCallbacks' three functions and their context.
pub(crate) struct CCallbacks {
    pub context: Context,
    pub connection_lost: MQTTClient_connectionLost,
    pub message_arrived: MQTTClient_messageArrived,
    pub delivery_complete: MQTTClient_deliveryComplete,
}

impl Callbacks for CCallbacks {
    fn connection_lost(&self, cause: Option<&str>) {
        let Some(f) = self.connection_lost else {
            return;
        };
        let cause = cause.and_then(|c| CString::new(c).ok());
        let ptr = cause
            .as_ref()
            .map_or(std::ptr::null_mut(), |c| c.as_ptr().cast_mut());
        // SAFETY: a C callback the application registered; `ptr` stays valid
        // for the call (the text is ours; C must not free it).
        unsafe { f(self.context.0, ptr) };
    }

    fn message_arrived(&self, topic: &str, message: &Message) -> bool {
        let Some(f) = self.message_arrived else {
            return true;
        };
        let topic_c = malloc_bytes(topic.as_bytes());
        let msg = malloc_message(message);
        if topic_c.is_null() || msg.is_null() {
            // SAFETY: both NULL or from malloc.
            unsafe {
                libc::free(topic_c.cast());
                free_message(msg);
            }
            return false;
        }
        // Paho passes 0 unless the topic holds NUL characters.
        let topic_len = if topic.contains('\0') {
            c_int::try_from(topic.len()).unwrap_or(c_int::MAX)
        } else {
            0
        };
        // SAFETY: a C callback the application registered, given buffers it
        // now owns (when it returns non-zero).
        let taken = unsafe { f(self.context.0, topic_c, topic_len, msg) } != 0;
        if !taken {
            // SAFETY: not taken, so still ours; both from malloc.
            unsafe {
                libc::free(topic_c.cast());
                free_message(msg);
            }
        }
        taken
    }

    fn delivery_complete(&self, token: i32) {
        if let Some(f) = self.delivery_complete {
            // SAFETY: a C callback the application registered.
            unsafe { f(self.context.0, token) };
        }
    }
}

/// A temporary C copy of `props` for the duration of `f`.
fn with_c_properties(props: &Properties, f: impl FnOnce(*mut super::types::MQTTProperties)) {
    let mut c = to_c(props);
    f(&mut c);
    // SAFETY: `c` was built by `to_c`.
    unsafe { free(&mut c) };
}

/// MQTTClient_setDisconnected's function as the client's closure.
pub(crate) fn disconnected(context: Context, f: MQTTClient_disconnected) -> Option<DisconnectedFn> {
    let f = f?;
    Some(Box::new(move |props: &Properties, reason: ReasonCode| {
        let context = context;
        with_c_properties(props, |p| {
            // SAFETY: a C callback the application registered; `p` is valid for the call.
            unsafe { f(context.0, p, c_int::from(reason.0)) }
        });
    }))
}

/// MQTTClient_setPublished's function as the client's closure.
pub(crate) fn published(context: Context, f: MQTTClient_published) -> Option<PublishedFn> {
    let f = f?;
    Some(Box::new(
        move |token: i32, packet_type: i32, props: &Properties, reason: ReasonCode| {
            let context = context;
            with_c_properties(props, |p| {
                // SAFETY: a C callback the application registered; `p` is valid for the call.
                unsafe { f(context.0, token, packet_type, p, c_int::from(reason.0)) }
            });
        },
    ))
}
