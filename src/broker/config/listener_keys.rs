//! A listener's transport keys in mosquitto.conf: `protocol mqtt|websockets`
//! and the TLS keys (`certfile`, `keyfile`, `cafile`, `capath`,
//! `require_certificate`, `use_identity_as_username`, `tls_version`,
//! `ciphers`). Inside a `listener` block they belong to it; before any
//! block they belong to the default listener (`port`), as in mosquitto.

use std::path::PathBuf;

pub use crate::reactor::transport::tls_server::TlsServerSettings;

/// What a listener speaks above TCP (and TLS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListenerProtocol {
    #[default]
    Mqtt,
    WebSockets,
}

/// How a listener's connections are carried.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListenerSpec {
    pub protocol: ListenerProtocol,
    /// TLS when any key is set (`is_set`).
    pub tls: TlsServerSettings,
}

impl ListenerSpec {
    /// A short name for logs: mqtt, mqtts, ws or wss.
    pub fn scheme(&self) -> &'static str {
        match (self.protocol, self.tls.is_set()) {
            (ListenerProtocol::Mqtt, false) => "mqtt",
            (ListenerProtocol::Mqtt, true) => "mqtts",
            (ListenerProtocol::WebSockets, false) => "ws",
            (ListenerProtocol::WebSockets, true) => "wss",
        }
    }
}

/// True for the keys `apply` takes.
pub fn is_listener_key(key: &str) -> bool {
    matches!(
        key,
        "protocol"
            | "certfile"
            | "keyfile"
            | "cafile"
            | "capath"
            | "require_certificate"
            | "use_identity_as_username"
            | "tls_version"
            | "ciphers"
    )
}

/// Apply one key (`words`: the value split, comment stripped; `raw`: the
/// rest of the line, for paths) to `spec`. `at` names the line in errors.
pub fn apply(
    spec: &mut ListenerSpec,
    key: &str,
    words: &[&str],
    raw: &str,
    at: &str,
) -> Result<(), String> {
    let one = || -> Result<&str, String> {
        match words {
            [w] => Ok(w),
            [] => Err(format!("{at}: '{key}' needs a value")),
            _ => Err(format!("{at}: too many values for '{key}'")),
        }
    };
    let path = || -> Result<Option<PathBuf>, String> {
        if raw.is_empty() {
            return Err(format!("{at}: '{key}' needs a value"));
        }
        Ok(Some(PathBuf::from(raw)))
    };
    let boolean = || -> Result<bool, String> {
        match one()? {
            "true" => Ok(true),
            "false" => Ok(false),
            v => Err(format!("{at}: '{key}' takes true or false, not '{v}'")),
        }
    };
    let t = &mut spec.tls;
    match key {
        "protocol" => {
            spec.protocol = match one()? {
                "mqtt" => ListenerProtocol::Mqtt,
                "websockets" => ListenerProtocol::WebSockets,
                v => return Err(format!("{at}: 'protocol' is mqtt or websockets, not '{v}'")),
            }
        }
        "certfile" => t.certfile = path()?,
        "keyfile" => t.keyfile = path()?,
        "cafile" => t.cafile = path()?,
        "capath" => t.capath = path()?,
        "require_certificate" => t.require_certificate = boolean()?,
        "use_identity_as_username" => t.use_identity_as_username = boolean()?,
        "tls_version" => {
            let v = one()?;
            if !matches!(v, "tlsv1.3" | "tlsv1.2" | "tlsv1.1") {
                return Err(format!(
                    "{at}: 'tls_version' is tlsv1.3, tlsv1.2 or tlsv1.1, not '{v}'"
                ));
            }
            t.tls_version = Some(v.to_string());
        }
        "ciphers" => t.ciphers = Some(one()?.to_string()),
        _ => return Err(format!("{at}: '{key}' is not a listener setting")),
    }
    Ok(())
}

/// Once the file is read: the keys given outside any block go to the
/// default listener (`port`), then every listener's settings are checked.
pub fn finish(
    listeners: &mut [super::mosquitto::ListenerConf],
    default_listener: Option<usize>,
    default_spec: ListenerSpec,
) -> Result<(), String> {
    if default_spec != ListenerSpec::default() {
        let Some(i) = default_listener else {
            return Err(
                "protocol and TLS settings outside a listener block belong to \
                 the default listener: give it with 'port'"
                    .into(),
            );
        };
        listeners[i].spec = default_spec;
    }
    listeners
        .iter()
        .try_for_each(|l| check(&l.spec, &l.address))
}

/// Check a listener's settings: a TLS listener has both files; the
/// client-certificate keys need TLS and a CA.
fn check(spec: &ListenerSpec, address: &str) -> Result<(), String> {
    let t = &spec.tls;
    if !t.is_set() {
        return Ok(());
    }
    if t.certfile.is_none() || t.keyfile.is_none() {
        return Err(format!(
            "listener {address}: TLS settings need both certfile and keyfile"
        ));
    }
    if (t.require_certificate || t.use_identity_as_username)
        && t.cafile.is_none()
        && t.capath.is_none()
    {
        return Err(format!(
            "listener {address}: require_certificate and use_identity_as_username need cafile or capath"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::config::mosquitto::parse_str;

    #[test]
    fn blocks_and_the_default_listener() {
        let c = parse_str(
            "port 1884\ncertfile /s.pem # not a comment: paths take the line\nkeyfile /s.key\n\
             listener 8883 127.0.0.1\ncertfile /t.pem\nkeyfile /t.key\ncafile /ca.pem\n\
             require_certificate true\nuse_identity_as_username true\ntls_version tlsv1.3\n\
             ciphers ECDHE-RSA-AES128-GCM-SHA256\n\
             listener 8080\nprotocol websockets\n",
            "",
            false,
        )
        .unwrap();
        let specs: Vec<&ListenerSpec> = c.listeners.iter().map(|l| &l.spec).collect();
        assert_eq!(
            specs[0].tls.certfile.as_deref(),
            Some(std::path::Path::new(
                "/s.pem # not a comment: paths take the line"
            ))
        );
        assert_eq!(specs[0].scheme(), "mqtts");
        let t = &specs[1].tls;
        assert!(t.require_certificate && t.use_identity_as_username);
        assert_eq!(t.tls_version.as_deref(), Some("tlsv1.3"));
        assert_eq!(t.ciphers.as_deref(), Some("ECDHE-RSA-AES128-GCM-SHA256"));
        assert_eq!(specs[1].scheme(), "mqtts");
        assert_eq!(specs[2].scheme(), "ws");
    }

    #[test]
    fn bad_listener_settings_are_errors() {
        for (text, what) in [
            ("listener 1\nprotocol http\n", "mqtt or websockets"),
            ("listener 1\ncertfile /a\n", "both certfile and keyfile"),
            (
                "listener 1\ncertfile /a\nkeyfile /b\nrequire_certificate true\n",
                "cafile or capath",
            ),
            ("listener 1\ntls_version sslv3\n", "tlsv1.3"),
            ("listener 1\nrequire_certificate maybe\n", "true or false"),
            ("certfile /a\nkeyfile /b\n", "'port'"),
        ] {
            let e = parse_str(text, "", false).unwrap_err();
            assert!(e.contains(what), "{text:?}: {e}");
        }
    }
}
