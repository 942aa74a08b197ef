//! The checks every C entry point shares, written once: the panic boundary,
//! NULL checks, struct_id/struct_version checks, UTF-8 and QoS checks, and
//! field reads that never touch bytes an older struct version lacks.

use std::ffi::{CStr, c_char, c_int};
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::types::{
    MQTTCLIENT_BAD_QOS, MQTTCLIENT_BAD_STRUCTURE, MQTTCLIENT_BAD_UTF8_STRING, MQTTCLIENT_FAILURE,
    MQTTCLIENT_NULL_PARAMETER,
};
use crate::protocol::codec::QoS;

/// An entry point's result before it is turned into a C return value: the
/// error is the Paho return code.
pub(crate) type FfiResult<T> = Result<T, c_int>;

/// Run `f` behind a panic boundary and flatten its result into a return code.
/// A panic becomes MQTTCLIENT_FAILURE; it never unwinds into C.
pub(crate) fn guard_rc(f: impl FnOnce() -> FfiResult<c_int>) -> c_int {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(rc)) | Ok(Err(rc)) => rc,
        Err(_) => MQTTCLIENT_FAILURE,
    }
}

/// Run `f` behind a panic boundary; a panic yields `on_panic`.
pub(crate) fn guard_or<T>(on_panic: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(on_panic)
}

/// Read a field of `*p` without forming a reference to the whole struct, so
/// a caller's shorter (older-version) struct is never over-read.
macro_rules! read_field {
    ($p:expr, $field:ident) => {{
        // SAFETY: the caller checked that `$p` is non-NULL and that the
        // struct version it declared includes this field.
        #[allow(unused_unsafe)]
        let value = unsafe { ::std::ptr::addr_of!((*$p).$field).read_unaligned() };
        value
    }};
}
pub(crate) use read_field;

/// Check the eyecatcher and version of a versioned option struct. Only the
/// first 8 bytes (present in every version) are read.
///
/// # Safety
/// `id` and `version` must point into a readable struct header.
pub(crate) unsafe fn check_struct(
    id: *const [c_char; 4],
    version: *const c_int,
    expected: &[u8; 4],
    max_version: c_int,
) -> FfiResult<c_int> {
    // SAFETY: the caller guarantees both pointers are readable.
    let (id, version) = unsafe { (id.read_unaligned(), version.read_unaligned()) };
    let matches = id.iter().zip(expected).all(|(a, b)| *a as u8 == *b);
    if !matches || !(0..=max_version).contains(&version) {
        return Err(MQTTCLIENT_BAD_STRUCTURE);
    }
    Ok(version)
}

/// Check a versioned struct pointer: non-NULL, right id, known version.
/// Evaluates to the struct's version.
macro_rules! checked_version {
    ($p:expr, $id:expr, $max:expr) => {{
        let p = $p;
        if p.is_null() {
            Err($crate::ffi::types::MQTTCLIENT_NULL_PARAMETER)
        } else {
            // SAFETY: `p` is non-NULL and every version of the struct starts
            // with struct_id and struct_version.
            unsafe {
                $crate::ffi::guard::check_struct(
                    ::std::ptr::addr_of!((*p).struct_id),
                    ::std::ptr::addr_of!((*p).struct_version),
                    $id,
                    $max,
                )
            }
        }
    }};
}
pub(crate) use checked_version;

/// A required C string as UTF-8.
///
/// # Safety
/// `p` must be NULL or point to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn c_str<'a>(p: *const c_char) -> FfiResult<&'a str> {
    if p.is_null() {
        return Err(MQTTCLIENT_NULL_PARAMETER);
    }
    // SAFETY: non-NULL and NUL-terminated per the caller's contract.
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    std::str::from_utf8(bytes).map_err(|_| MQTTCLIENT_BAD_UTF8_STRING)
}

/// An optional C string (NULL → None) as UTF-8.
///
/// # Safety
/// As [`c_str`].
pub(crate) unsafe fn opt_c_str<'a>(p: *const c_char) -> FfiResult<Option<&'a str>> {
    if p.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded contract.
        unsafe { c_str(p) }.map(Some)
    }
}

/// `len` bytes at `p` as a slice (NULL or len <= 0 → empty).
///
/// # Safety
/// When non-NULL and `len > 0`, `p` must point to `len` readable bytes that
/// outlive `'a`.
pub(crate) unsafe fn bytes<'a>(p: *const std::ffi::c_void, len: c_int) -> &'a [u8] {
    match usize::try_from(len) {
        Ok(n) if n > 0 && !p.is_null() => {
            // SAFETY: per the caller's contract.
            unsafe { std::slice::from_raw_parts(p.cast::<u8>(), n) }
        }
        _ => &[],
    }
}

/// A C QoS value, or MQTTCLIENT_BAD_QOS outside 0..=2.
pub(crate) fn qos(v: c_int) -> FfiResult<QoS> {
    QoS::from_i32(v).ok_or(MQTTCLIENT_BAD_QOS)
}

/// Copy `data` into a new NUL-terminated buffer from the C allocator, so C
/// may release it with free(). NULL if the allocation fails.
pub(crate) fn malloc_bytes(data: &[u8]) -> *mut c_char {
    // SAFETY: malloc with a non-zero size; the result is checked for NULL.
    let p = unsafe { libc::malloc(data.len() + 1) }.cast::<u8>();
    if !p.is_null() {
        // SAFETY: `p` has room for data.len() + 1 bytes and does not overlap `data`.
        unsafe {
            std::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len());
            *p.add(data.len()) = 0;
        }
    }
    p.cast()
}

/// Store in `*tokens` the tokens of incomplete publications as an array from
/// the C allocator ended by -1 (C releases it with free()), or NULL when
/// there are none. MQTTCLIENT_FAILURE (MQTTASYNC_FAILURE has the same value)
/// when the allocation fails; `*tokens` is then left as it was.
///
/// # Safety
/// `tokens` must be non-NULL and writable.
pub(crate) unsafe fn write_pending_tokens(
    tokens: *mut *mut c_int,
    pending: &[c_int],
) -> FfiResult<()> {
    let array = if pending.is_empty() {
        std::ptr::null_mut()
    } else {
        let size = std::mem::size_of::<c_int>() * (pending.len() + 1);
        // SAFETY: malloc of len + 1 ints, checked for NULL.
        let a = unsafe { libc::malloc(size) }.cast::<c_int>();
        if a.is_null() {
            return Err(MQTTCLIENT_FAILURE);
        }
        for (i, t) in pending.iter().chain(std::iter::once(&-1)).enumerate() {
            // SAFETY: `i <= pending.len()`, inside the allocation.
            unsafe { a.add(i).write(*t) };
        }
        a
    };
    // SAFETY: non-NULL output pointer, per the caller's contract.
    unsafe { tokens.write(array) };
    Ok(())
}
