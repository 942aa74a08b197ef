//! A client's TLS options: the settings from MQTTClient_SSLOptions, the
//! user's `ssl_error_cb`, and the rustls configuration made from them on
//! first use and shared by every attempt and reconnect after it.

use std::sync::{Arc, OnceLock};

use super::error::ClientError;
use super::trace::{self, trace};
use crate::reactor::transport::tls_config::{self, TlsConfigError, TlsSettings};

/// `ssl_error_cb`: called with a readable reason when TLS fails. Runs on
/// the client's dispatcher, never on the reactor.
pub type TlsErrorFn = Arc<dyn Fn(&str) + Send + Sync>;

pub struct TlsOptions {
    pub settings: TlsSettings,
    pub error_cb: Option<TlsErrorFn>,
    config: OnceLock<Result<Arc<rustls::ClientConfig>, TlsConfigError>>,
}

impl std::fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsOptions")
            .field("settings", &self.settings)
            .field("error_cb", &self.error_cb.is_some())
            .finish()
    }
}

impl TlsOptions {
    pub fn new(settings: TlsSettings, error_cb: Option<TlsErrorFn>) -> TlsOptions {
        TlsOptions {
            settings,
            error_cb,
            config: OnceLock::new(),
        }
    }

    /// Paho's defaults (MQTTClient_SSLOptions_initializer): the server's
    /// chain checked against the system store, the host name not.
    pub fn paho_default() -> TlsOptions {
        TlsOptions::new(
            TlsSettings {
                default_trust_store: true,
                verify_server: true,
                ..TlsSettings::default()
            },
            None,
        )
    }

    /// The rustls configuration (made once), or the error with the client
    /// error it maps to: something rustls cannot do is SSL_NOT_SUPPORTED, a
    /// file or list that cannot be used a connect FAILURE, as Paho.
    pub fn config(&self) -> Result<Arc<rustls::ClientConfig>, (ClientError, String)> {
        let r = self.config.get_or_init(|| {
            if self.settings.psk {
                trace!(
                    trace::MINIMUM,
                    "ssl_psk_cb is set, but TLS-PSK is not supported: no PSK cipher suite is \
                     offered, the callback is never called"
                );
            }
            tls_config::client_config(&self.settings)
        });
        match r {
            Ok(c) => Ok(c.clone()),
            Err(TlsConfigError::Unsupported(s)) => Err((ClientError::SslNotSupported, s.clone())),
            Err(TlsConfigError::Invalid(s)) => Err((ClientError::Failure, s.clone())),
        }
    }
}

/// At most this many reasons wait for a synchronous connect's callback.
const MAX_WAITING_REASONS: usize = 16;

/// Report a TLS failure: a trace line naming the reason, then the user's
/// `ssl_error_cb`: MQTTAsync on the client's serial queue (before the
/// connect's onFailure), MQTTClient on the thread waiting in connect.
pub fn report(core: &mut super::core::Core, tls: Option<&TlsOptions>, reason: &str) {
    let hint = if tls.is_some_and(|t| t.settings.psk) {
        " (ssl_psk_cb is set: if the server wants TLS-PSK, that is not supported)"
    } else {
        ""
    };
    let reason = &format!("{reason}{hint}");
    trace!(trace::ERROR, "TLS failure: {reason}");
    let Some(cb) = tls.and_then(|t| t.error_cb.clone()) else {
        return;
    };
    if core.async_mode {
        let reason = reason.to_string();
        core.dispatch(super::dispatch::Dispatch::Run(Box::new(move || {
            cb(&reason)
        })));
    } else {
        let waiting = &mut core.sync().tls_errors;
        if waiting.len() < MAX_WAITING_REASONS {
            waiting.push(reason.to_string());
        }
    }
}
