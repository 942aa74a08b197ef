//! MQTTAsync_setUpdateConnectOptions: before each automatic reconnect the C
//! callback sees the user name and binary password in an
//! MQTTAsync_connectData and may replace them.

use std::ffi::{CStr, CString, c_int};

use bytes::Bytes;

use super::async_handle::{AsyncHandle, c_ptr};
use super::async_responses::id;
use super::client_callbacks::Context;
use super::guard::bytes;
use super::types::{MQTTAsync_binaryData, MQTTAsync_connectData, MQTTAsync_updateConnectOptions};

/// Install (or with NULL remove) the C callback on the client.
pub(crate) fn install(h: &AsyncHandle, context: Context, f: MQTTAsync_updateConnectOptions) {
    let Some(f) = f else {
        h.client.set_update_connect(None);
        return;
    };
    h.client.set_update_connect(Some(Box::new(
        move |username: &mut Option<String>, password: &mut Option<Bytes>| {
            let context = context;
            let user = username
                .as_ref()
                .and_then(|u| CString::new(u.as_str()).ok());
            let pwd = password.clone().unwrap_or_default();
            let mut data = MQTTAsync_connectData {
                struct_id: id(b"MQCD"),
                struct_version: 0,
                username: c_ptr(&user),
                binarypwd: MQTTAsync_binaryData {
                    len: c_int::try_from(pwd.len()).unwrap_or(c_int::MAX),
                    data: if password.is_some() {
                        pwd.as_ptr().cast()
                    } else {
                        std::ptr::null()
                    },
                },
            };
            // SAFETY: the application's callback; `data` points to buffers
            // that outlive the call.
            if unsafe { f(context.0, &mut data) } == 0 {
                return;
            }
            *username = if data.username.is_null() {
                None
            } else {
                // SAFETY: the callback left a C string there (ours or its own).
                let s = unsafe { CStr::from_ptr(data.username) };
                Some(s.to_string_lossy().into_owned())
            };
            *password = if data.binarypwd.data.is_null() {
                None
            } else {
                // SAFETY: the callback promises `len` bytes at `data`.
                Some(Bytes::copy_from_slice(unsafe {
                    bytes(data.binarypwd.data, data.binarypwd.len)
                }))
            };
        },
    )));
}
