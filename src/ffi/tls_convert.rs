//! MQTTClient_SSLOptions / MQTTAsync_SSLOptions (identical layouts) to
//! `TlsOptions`, reading only the fields the struct's version has, and the
//! httpHeaders list of the connect options.

use std::ffi::{CStr, c_char, c_int, c_void};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use crate::client::tls::TlsErrorFn;

/// A C path string (NULL → None); any bytes, as the file system takes them.
///
/// # Safety
/// `p` NULL or a C string.
pub(crate) unsafe fn path(p: *const c_char) -> Option<PathBuf> {
    if p.is_null() {
        return None;
    }
    // SAFETY: non-NULL C string per the caller's contract.
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    Some(PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
}

/// The ALPN list from Paho's wire form (length-prefixed names). A length
/// running past the end ends the list.
pub(crate) fn alpn(wire: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = wire;
    while let Some((&n, tail)) = rest.split_first() {
        let n = usize::from(n);
        if n == 0 || n > tail.len() {
            break;
        }
        out.push(tail[..n].to_vec());
        rest = &tail[n..];
    }
    out
}

/// The C error callback and its context, callable from the dispatcher.
struct ErrorCb {
    cb: unsafe extern "C" fn(*const c_char, usize, *mut c_void) -> c_int,
    context: usize,
}

/// `ssl_error_cb` with its context as a Rust callback.
pub(crate) fn error_cb(
    cb: Option<unsafe extern "C" fn(*const c_char, usize, *mut c_void) -> c_int>,
    context: *mut c_void,
) -> Option<TlsErrorFn> {
    let cb = ErrorCb {
        cb: cb?,
        context: context as usize,
    };
    Some(std::sync::Arc::new(move |reason: &str| {
        let text = std::ffi::CString::new(reason.replace('\0', " ")).unwrap_or_default();
        // SAFETY: Paho's contract: the callback takes a string of `len`
        // bytes (NUL-terminated here too) and the context the application
        // gave with it, on a library thread.
        let _ = unsafe {
            (cb.cb)(
                text.as_ptr(),
                text.as_bytes().len(),
                cb.context as *mut c_void,
            )
        };
    }))
}

/// Read a checked SSL options struct of version `$version` into
/// `TlsOptions`. Evaluates to `TlsOptions`.
macro_rules! read_ssl_options {
    ($ssl:expr, $version:expr) => {{
        use $crate::ffi::guard::read_field;
        use $crate::ffi::tls_convert::{alpn, error_cb, path};
        let ssl = $ssl;
        let version: ::std::ffi::c_int = $version;
        // SAFETY (all `path` calls): the fields are NULL or C strings.
        let mut s = $crate::reactor::transport::tls_config::TlsSettings {
            trust_store: unsafe { path(read_field!(ssl, trustStore)) },
            key_store: unsafe { path(read_field!(ssl, keyStore)) },
            private_key: unsafe { path(read_field!(ssl, privateKey)) },
            verify_server: read_field!(ssl, enableServerCertAuth) != 0,
            default_trust_store: true,
            ..Default::default()
        };
        let password: *const ::std::ffi::c_char = read_field!(ssl, privateKeyPassword);
        if !password.is_null() {
            // SAFETY: non-NULL C string.
            s.private_key_password = Some(
                unsafe { ::std::ffi::CStr::from_ptr(password) }
                    .to_string_lossy()
                    .into_owned(),
            );
        }
        let ciphers: *const ::std::ffi::c_char = read_field!(ssl, enabledCipherSuites);
        if !ciphers.is_null() {
            // SAFETY: non-NULL C string.
            s.cipher_list = Some(
                unsafe { ::std::ffi::CStr::from_ptr(ciphers) }
                    .to_string_lossy()
                    .into_owned(),
            );
        }
        if version >= 1 {
            s.ssl_version = read_field!(ssl, sslVersion);
            s.verify_host = read_field!(ssl, verify) != 0;
        }
        if version >= 2 {
            // SAFETY: NULL or a C string.
            s.ca_path = unsafe { path(read_field!(ssl, CApath)) };
        }
        let mut on_error = None;
        if version >= 3 {
            on_error = error_cb(
                read_field!(ssl, ssl_error_cb),
                read_field!(ssl, ssl_error_context),
            );
        }
        if version >= 4 {
            s.psk = read_field!(ssl, ssl_psk_cb).is_some();
            s.default_trust_store = read_field!(ssl, disableDefaultTrustStore) == 0;
        }
        if version >= 5 {
            let protos: *const ::std::ffi::c_uchar = read_field!(ssl, protos);
            let len = read_field!(ssl, protos_len);
            // SAFETY: C promises `protos_len` bytes at `protos`.
            s.alpn = alpn(unsafe {
                $crate::ffi::guard::bytes(
                    protos.cast(),
                    ::std::ffi::c_int::try_from(len).unwrap_or(0),
                )
            });
        }
        $crate::client::tls::TlsOptions::new(s, on_error)
    }};
}
pub(crate) use read_ssl_options;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpn_wire_form() {
        assert_eq!(alpn(b"\x04mqtt\x09x-amzn"), vec![b"mqtt".to_vec()]);
        assert_eq!(
            alpn(b"\x04mqtt\x02h2"),
            vec![b"mqtt".to_vec(), b"h2".to_vec()]
        );
        assert!(alpn(b"").is_empty());
    }
}
