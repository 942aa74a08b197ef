//! Paho's persistence types at create: MQTTCLIENT_PERSISTENCE_DEFAULT opens
//! the file store, MQTTCLIENT_PERSISTENCE_USER wraps the application's
//! MQTTClient_persistence table as a [`Store`]. Callbacks are called with
//! Paho's conventions: buffers the store returns (get, keys) are the
//! store's `malloc` allocations and are freed here with `free`.

use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::path::PathBuf;

use super::client_callbacks::Context;
use super::guard::FfiResult;
use super::types::{
    MQTTCLIENT_PERSISTENCE_DEFAULT, MQTTCLIENT_PERSISTENCE_ERROR, MQTTCLIENT_PERSISTENCE_NONE,
    MQTTCLIENT_PERSISTENCE_USER, MQTTClient_persistence,
};
use crate::client::persistence::file::FileStore;
use crate::client::persistence::{AfterRead, BeforeWrite, Store, StoreError, uri_for_store};
use crate::client::trace::{self, trace};

/// The store for `persistence_type` (None for MQTTCLIENT_PERSISTENCE_NONE).
///
/// # Safety
/// `context`: NULL, or for DEFAULT a C string (the base directory), for
/// USER a valid MQTTClient_persistence that outlives nothing (it is copied).
pub(crate) unsafe fn open_store(
    persistence_type: c_int,
    context: *mut c_void,
    client_id: &str,
    server_uri: &str,
) -> FfiResult<Option<Box<dyn Store>>> {
    let uri = uri_for_store(server_uri);
    match persistence_type {
        MQTTCLIENT_PERSISTENCE_NONE => Ok(None),
        MQTTCLIENT_PERSISTENCE_DEFAULT => {
            let base = if context.is_null() {
                None
            } else {
                // SAFETY: for DEFAULT the context is a C string (Paho's contract).
                let s = unsafe { CStr::from_ptr(context.cast::<c_char>()) };
                Some(PathBuf::from(
                    s.to_str().map_err(|_| MQTTCLIENT_PERSISTENCE_ERROR)?,
                ))
            };
            let store = FileStore::open(base.as_deref(), client_id, uri).map_err(|e| {
                trace!(trace::ERROR, "persistence: {e}");
                MQTTCLIENT_PERSISTENCE_ERROR
            })?;
            Ok(Some(Box::new(store)))
        }
        MQTTCLIENT_PERSISTENCE_USER => {
            if context.is_null() {
                return Err(MQTTCLIENT_PERSISTENCE_ERROR);
            }
            // SAFETY: for USER the context is an MQTTClient_persistence
            // (Paho's contract); it is copied, as Paho does.
            let table = unsafe { context.cast::<MQTTClient_persistence>().read_unaligned() };
            let t = &table;
            // As Paho: every function and the context are required.
            let complete = !t.context.is_null()
                && t.popen.is_some()
                && t.pclose.is_some()
                && t.pput.is_some()
                && t.pget.is_some()
                && t.premove.is_some()
                && t.pkeys.is_some()
                && t.pclear.is_some()
                && t.pcontainskey.is_some();
            if !complete {
                return Err(MQTTCLIENT_PERSISTENCE_ERROR);
            }
            let store = UserStore::open(table, client_id, uri).map_err(|e| e.code)?;
            Ok(Some(Box::new(store)))
        }
        _ => Err(MQTTCLIENT_PERSISTENCE_ERROR),
    }
}

/// The application's store: its table and the handle its open returned.
struct UserStore {
    table: MQTTClient_persistence,
    handle: *mut c_void,
}

// SAFETY: Paho calls a user store from its own threads, never two calls at
// once for one client; here every call is made under the client's lock, so
// the table and handle are used by one thread at a time.
unsafe impl Send for UserStore {}

fn failed(what: &str, rc: c_int) -> StoreError {
    StoreError {
        code: rc,
        what: format!("user persistence {what} returned {rc}"),
    }
}

fn missing(what: &str) -> StoreError {
    StoreError::new(format!("user persistence has no {what} function"))
}

fn key_c(key: &str) -> Result<CString, StoreError> {
    CString::new(key).map_err(|_| StoreError::new("key with a NUL"))
}

impl UserStore {
    fn open(
        table: MQTTClient_persistence,
        client_id: &str,
        uri: &str,
    ) -> Result<UserStore, StoreError> {
        let open = table.popen.ok_or_else(|| missing("open"))?;
        let (id, uri) = (key_c(client_id)?, key_c(uri)?);
        let mut handle: *mut c_void = std::ptr::null_mut();
        // SAFETY: the application's open, with Paho's arguments: an out
        // pointer, two C strings valid for the call, its own context.
        let rc = unsafe { open(&mut handle, id.as_ptr(), uri.as_ptr(), table.context) };
        if rc != 0 {
            return Err(failed("open", rc));
        }
        Ok(UserStore { table, handle })
    }

    fn with_key(
        &mut self,
        what: &str,
        f: Option<unsafe extern "C" fn(*mut c_void, *mut c_char) -> c_int>,
        key: &str,
    ) -> Result<c_int, StoreError> {
        let f = f.ok_or_else(|| missing(what))?;
        let k = key_c(key)?;
        // SAFETY: the application's function with its handle and a C string
        // valid for the call (Paho passes `char*`; it is not to be written).
        Ok(unsafe { f(self.handle, k.as_ptr().cast_mut()) })
    }
}

impl Store for UserStore {
    fn put(&mut self, key: &str, parts: &[&[u8]]) -> Result<(), StoreError> {
        let put = self.table.pput.ok_or_else(|| missing("put"))?;
        let k = key_c(key)?;
        let mut bufs: Vec<*mut c_char> =
            parts.iter().map(|p| p.as_ptr().cast_mut().cast()).collect();
        let mut lens = Vec::with_capacity(parts.len());
        for p in parts {
            lens.push(c_int::try_from(p.len()).map_err(|_| StoreError::new("record too large"))?);
        }
        let count = c_int::try_from(parts.len()).unwrap_or(c_int::MAX);
        // SAFETY: arrays of `count` buffers and lengths, valid for the call.
        let rc = unsafe {
            put(
                self.handle,
                k.as_ptr().cast_mut(),
                count,
                bufs.as_mut_ptr(),
                lens.as_mut_ptr(),
            )
        };
        if rc != 0 {
            return Err(failed("put", rc));
        }
        Ok(())
    }

    fn get(&mut self, key: &str) -> Result<Vec<u8>, StoreError> {
        let get = self.table.pget.ok_or_else(|| missing("get"))?;
        let k = key_c(key)?;
        let mut buf: *mut c_char = std::ptr::null_mut();
        let mut len: c_int = 0;
        // SAFETY: out pointers valid for the call.
        let rc = unsafe { get(self.handle, k.as_ptr().cast_mut(), &mut buf, &mut len) };
        let data = if buf.is_null() || len <= 0 {
            Vec::new()
        } else {
            // SAFETY: the store returned `len` readable bytes at `buf`.
            unsafe { std::slice::from_raw_parts(buf.cast::<u8>(), len as usize) }.to_vec()
        };
        if !buf.is_null() {
            // SAFETY: Paho's contract: the store allocates with malloc and
            // the library frees.
            unsafe { libc::free(buf.cast()) };
        }
        if rc != 0 {
            return Err(failed("get", rc));
        }
        Ok(data)
    }

    fn remove(&mut self, key: &str) -> Result<(), StoreError> {
        match self.with_key("remove", self.table.premove, key)? {
            0 => Ok(()),
            rc => Err(failed("remove", rc)),
        }
    }

    fn keys(&mut self) -> Result<Vec<String>, StoreError> {
        let keys = self.table.pkeys.ok_or_else(|| missing("keys"))?;
        let mut arr: *mut *mut c_char = std::ptr::null_mut();
        let mut n: c_int = 0;
        // SAFETY: out pointers valid for the call.
        let rc = unsafe { keys(self.handle, &mut arr, &mut n) };
        let mut out = Vec::new();
        if !arr.is_null() {
            for i in 0..usize::try_from(n).unwrap_or(0) {
                // SAFETY: the store returned `n` entries at `arr`.
                let p = unsafe { *arr.add(i) };
                if !p.is_null() {
                    // SAFETY: each entry is a C string the store allocated.
                    let s = unsafe { CStr::from_ptr(p) };
                    out.push(s.to_string_lossy().into_owned());
                    // SAFETY: malloc'd by the store, freed by the library.
                    unsafe { libc::free(p.cast()) };
                }
            }
            // SAFETY: as above, the array itself.
            unsafe { libc::free(arr.cast()) };
        }
        if rc != 0 {
            return Err(failed("keys", rc));
        }
        Ok(out)
    }

    fn clear(&mut self) -> Result<(), StoreError> {
        let clear = self.table.pclear.ok_or_else(|| missing("clear"))?;
        // SAFETY: the application's function with its own handle.
        match unsafe { clear(self.handle) } {
            0 => Ok(()),
            rc => Err(failed("clear", rc)),
        }
    }

    fn contains_key(&mut self, key: &str) -> bool {
        matches!(
            self.with_key("containskey", self.table.pcontainskey, key),
            Ok(0)
        )
    }

    fn close(&mut self) -> Result<(), StoreError> {
        let close = self.table.pclose.ok_or_else(|| missing("close"))?;
        // SAFETY: the application's function with its own handle, once.
        match unsafe { close(self.handle) } {
            0 => Ok(()),
            rc => Err(failed("close", rc)),
        }
    }
}

/// MQTTPersistence_beforeWrite as a transform: the record in one buffer of
/// our own (C-allocated, so the callback may also change it in place), read
/// back from wherever the callback leaves the pointer and length.
pub(crate) fn before_write(
    context: Context,
    f: unsafe extern "C" fn(*mut c_void, c_int, *mut *mut c_char, *mut c_int) -> c_int,
) -> BeforeWrite {
    Box::new(move |record: Vec<u8>| {
        // The whole Context (Send), not just its pointer field.
        let context = &context;
        let len = c_int::try_from(record.len()).map_err(|_| StoreError::new("record too large"))?;
        // SAFETY: a fresh allocation of at least one byte.
        let ours = unsafe { libc::malloc(record.len().max(1)) }.cast::<c_char>();
        if ours.is_null() {
            return Err(StoreError::new("out of memory"));
        }
        // SAFETY: `ours` holds record.len() bytes.
        unsafe { std::ptr::copy_nonoverlapping(record.as_ptr(), ours.cast(), record.len()) };
        let mut bufs = [ours];
        let mut lens = [len];
        // SAFETY: the application's callback with its context and arrays of
        // one buffer and one length, valid for the call.
        let rc = unsafe { f(context.0, 1, bufs.as_mut_ptr(), lens.as_mut_ptr()) };
        let out = if rc == 0 && !bufs[0].is_null() && lens[0] >= 0 {
            // SAFETY: the callback left `lens[0]` readable bytes at `bufs[0]`.
            Ok(
                unsafe { std::slice::from_raw_parts(bufs[0].cast::<u8>(), lens[0] as usize) }
                    .to_vec(),
            )
        } else {
            Err(StoreError {
                code: if rc == 0 {
                    MQTTCLIENT_PERSISTENCE_ERROR
                } else {
                    rc
                },
                what: format!("beforeWrite returned {rc}"),
            })
        };
        // SAFETY: our own allocation from above, freed once.
        unsafe { libc::free(ours.cast()) };
        out
    })
}

/// MQTTPersistence_afterRead as a transform: the stored bytes in a
/// C-allocated buffer the callback may change in place or replace (as in
/// Paho, whatever buffer it leaves is freed with free()).
pub(crate) fn after_read(
    context: Context,
    f: unsafe extern "C" fn(*mut c_void, *mut *mut c_char, *mut c_int) -> c_int,
) -> AfterRead {
    Box::new(move |stored: Vec<u8>| {
        let context = &context;
        let mut len =
            c_int::try_from(stored.len()).map_err(|_| StoreError::new("record too large"))?;
        // SAFETY: a fresh allocation of at least one byte.
        let mut buf = unsafe { libc::malloc(stored.len().max(1)) }.cast::<c_char>();
        if buf.is_null() {
            return Err(StoreError::new("out of memory"));
        }
        // SAFETY: `buf` holds stored.len() bytes.
        unsafe { std::ptr::copy_nonoverlapping(stored.as_ptr(), buf.cast(), stored.len()) };
        // SAFETY: the application's callback with its context, a pointer to
        // our malloc'd buffer and to its length, valid for the call.
        let rc = unsafe { f(context.0, &mut buf, &mut len) };
        let out = if rc == 0 && !buf.is_null() && len >= 0 {
            // SAFETY: the callback left `len` readable bytes at `buf`.
            Ok(unsafe { std::slice::from_raw_parts(buf.cast::<u8>(), len as usize) }.to_vec())
        } else {
            Err(StoreError {
                code: if rc == 0 {
                    MQTTCLIENT_PERSISTENCE_ERROR
                } else {
                    rc
                },
                what: format!("afterRead returned {rc}"),
            })
        };
        if !buf.is_null() {
            // SAFETY: our buffer, or the malloc'd one the callback put in
            // its place (Paho frees it the same way); freed once.
            unsafe { libc::free(buf.cast()) };
        }
        out
    })
}
