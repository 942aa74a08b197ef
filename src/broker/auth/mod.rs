//! Authentication and authorisation: the [`Auth`] interface the router asks
//! on every CONNECT, PUBLISH, SUBSCRIBE and delivery, and [`FileAuth`], its
//! implementation over mosquitto's `password_file` and `acl_file`.

pub mod acl;
pub mod password;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use super::config::mosquitto::{Conf, Security};
use crate::protocol::codec::ReasonCode;

pub use acl::{Acl, Want};
pub use password::{HashKind, PasswordFile, PasswordHash};

/// Who is asking: the listener (index in the broker's listener list) a
/// client came in on, its client id and its username.
#[derive(Debug, Clone, Copy)]
pub struct ClientRef<'a> {
    pub listener: usize,
    pub client_id: &'a str,
    pub username: Option<&'a str>,
}

/// What a client wants to do with a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Publish to a topic name (will messages too).
    Publish,
    /// Subscribe to a topic filter.
    Subscribe,
    /// Receive one message on a topic name.
    Read,
}

/// The broker's questions. Answers must be quick: the router asks them
/// inline, on the reactor thread.
pub trait Auth: Send + Sync + std::fmt::Debug {
    /// `ReasonCode::SUCCESS` accepts a CONNECT; any other code refuses it
    /// (3.x clients get the nearest CONNACK return code).
    fn authenticate(&self, client: &ClientRef<'_>, password: Option<&[u8]>) -> ReasonCode;
    /// May `client` do `action` on `topic` (a topic filter for `Subscribe`)?
    fn authorize(&self, client: &ClientRef<'_>, action: Action, topic: &str) -> bool;
}

/// One set of security settings: global, or one listener's with
/// `per_listener_settings true`.
#[derive(Debug, Clone, Default)]
pub struct Realm {
    pub allow_anonymous: bool,
    pub passwords: Option<Arc<PasswordFile>>,
    pub acl: Option<Arc<Acl>>,
}

impl Realm {
    fn authenticate(&self, client: &ClientRef<'_>, password: Option<&[u8]>) -> ReasonCode {
        // As mosquitto 2: without a password file a username proves
        // nothing, so `allow_anonymous` decides for everyone; with one, a
        // client without a username is anonymous, and an unknown user, a
        // missing or a wrong password are all "not authorised" (3.x return
        // code 5, MQTT 5 reason 0x87).
        let verified = match (&self.passwords, client.username) {
            (Some(file), Some(user)) => password.and_then(|p| file.verify(user, p)) == Some(true),
            _ => self.allow_anonymous,
        };
        if verified {
            ReasonCode::SUCCESS
        } else {
            ReasonCode::NOT_AUTHORIZED
        }
    }

    fn authorize(&self, client: &ClientRef<'_>, action: Action, topic: &str) -> bool {
        let Some(acl) = &self.acl else {
            return true;
        };
        match action {
            Action::Publish => acl.check(client.client_id, client.username, topic, Want::Write),
            Action::Read => acl.check(client.client_id, client.username, topic, Want::Read),
            Action::Subscribe => acl.can_subscribe(client.client_id, client.username, topic),
        }
    }
}

/// mosquitto's file-based security: one realm for every listener, or one per
/// listener (`per_listener_settings true`).
#[derive(Debug, Clone, Default)]
pub struct FileAuth {
    /// Realm per listener index; listeners beyond the list use `default`.
    pub listeners: Vec<Arc<Realm>>,
    pub default: Arc<Realm>,
}

impl FileAuth {
    /// The security a configuration file asks for, its password and ACL
    /// files read now, for `listeners` listeners (the file's, then any
    /// more, e.g. from `--listen`). `None` when nothing is checked at all:
    /// anonymous clients allowed, no password file, no ACL anywhere.
    pub fn from_conf(conf: &Conf, listeners: usize) -> Result<Option<FileAuth>, String> {
        let mut cache = Loaded::default();
        let default = Arc::new(cache.realm(&conf.security_for(usize::MAX))?);
        let mut realms = Vec::with_capacity(listeners);
        for i in 0..listeners {
            let s = conf.security_for(i);
            if s == conf.security_for(usize::MAX) {
                realms.push(default.clone());
            } else {
                realms.push(Arc::new(cache.realm(&s)?));
            }
        }
        let open = |r: &Realm| r.allow_anonymous && r.passwords.is_none() && r.acl.is_none();
        if open(&default) && realms.iter().all(|r| open(r)) {
            return Ok(None);
        }
        Ok(Some(FileAuth {
            listeners: realms,
            default,
        }))
    }

    fn realm(&self, listener: usize) -> &Realm {
        self.listeners.get(listener).unwrap_or(&self.default)
    }
}

impl Auth for FileAuth {
    fn authenticate(&self, client: &ClientRef<'_>, password: Option<&[u8]>) -> ReasonCode {
        self.realm(client.listener).authenticate(client, password)
    }

    fn authorize(&self, client: &ClientRef<'_>, action: Action, topic: &str) -> bool {
        self.realm(client.listener).authorize(client, action, topic)
    }
}

/// Files read once even when several listeners name them.
#[derive(Default)]
struct Loaded {
    passwords: HashMap<PathBuf, Arc<PasswordFile>>,
    acls: HashMap<PathBuf, Arc<Acl>>,
}

impl Loaded {
    fn realm(&mut self, s: &Security) -> Result<Realm, String> {
        let passwords = match &s.password_file {
            Some(p) => Some(match self.passwords.get(p) {
                Some(f) => f.clone(),
                None => {
                    let f = Arc::new(PasswordFile::load(p)?);
                    self.passwords.insert(p.clone(), f.clone());
                    f
                }
            }),
            None => None,
        };
        let acl = match &s.acl_file {
            Some(p) => Some(match self.acls.get(p) {
                Some(a) => a.clone(),
                None => {
                    let a = Arc::new(Acl::load(p)?);
                    self.acls.insert(p.clone(), a.clone());
                    a
                }
            }),
            None => None,
        };
        Ok(Realm {
            allow_anonymous: s.allow_anonymous.unwrap_or(true),
            passwords,
            acl,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(listener: usize, username: Option<&str>) -> ClientRef<'_> {
        ClientRef {
            listener,
            client_id: "c",
            username,
        }
    }

    #[test]
    fn authentication_as_mosquitto() {
        let pw = PasswordHash::new(HashKind::Pbkdf2Sha512, b"pw", b"saltsaltsalt");
        let file = PasswordFile::parse(&format!("u:{pw}\n")).unwrap();
        let strict = Arc::new(Realm {
            allow_anonymous: false,
            passwords: Some(Arc::new(file)),
            acl: None,
        });
        let open = Arc::new(Realm {
            allow_anonymous: true,
            ..Realm::default()
        });
        let auth = FileAuth {
            listeners: vec![strict, open.clone()],
            default: open,
        };
        let ok = ReasonCode::SUCCESS;
        let no = ReasonCode::NOT_AUTHORIZED;
        assert_eq!(auth.authenticate(&client(0, None), None), no);
        assert_eq!(auth.authenticate(&client(0, Some("u")), Some(b"pw")), ok);
        assert_eq!(auth.authenticate(&client(0, Some("u")), Some(b"px")), no);
        assert_eq!(auth.authenticate(&client(0, Some("u")), None), no);
        assert_eq!(auth.authenticate(&client(0, Some("v")), Some(b"pw")), no);
        assert_eq!(auth.authenticate(&client(1, None), None), ok);
        assert_eq!(auth.authenticate(&client(7, Some("any")), None), ok);
        let closed = FileAuth {
            listeners: vec![],
            default: Arc::new(Realm::default()),
        };
        // No password file and no anonymous access: nobody gets in.
        assert_eq!(closed.authenticate(&client(0, Some("u")), Some(b"pw")), no);
        assert!(auth.authorize(&client(1, None), Action::Publish, "x"));
    }

    #[test]
    fn from_conf_builds_realms_per_listener_and_none_when_open() {
        use crate::broker::config::mosquitto::parse_str;
        let open = parse_str("listen 127.0.0.1:0\n", "", false).unwrap();
        assert!(FileAuth::from_conf(&open, 1).unwrap().is_none());

        let dir = tempfile::tempdir().unwrap();
        let pw = dir.path().join("pw");
        let hash = PasswordHash::new(HashKind::Sha512, b"pw", b"saltsaltsalt");
        std::fs::write(&pw, format!("u:{hash}\n")).unwrap();
        let text = format!(
            "per_listener_settings true\nlistener 1 127.0.0.1\nallow_anonymous true\n\
             listener 2 127.0.0.1\npassword_file {}\n",
            pw.display()
        );
        let conf = parse_str(&text, "", false).unwrap();
        let auth = FileAuth::from_conf(&conf, 3).unwrap().expect("auth on");
        let ok = ReasonCode::SUCCESS;
        assert_eq!(auth.authenticate(&client(0, None), None), ok);
        assert_eq!(
            auth.authenticate(&client(1, None), None),
            ReasonCode::NOT_AUTHORIZED
        );
        assert_eq!(auth.authenticate(&client(1, Some("u")), Some(b"pw")), ok);
        // A `--listen` listener past the file's gets the global settings:
        // in a mosquitto-style file, no anonymous clients unless said so.
        assert_eq!(
            auth.authenticate(&client(2, None), None),
            ReasonCode::NOT_AUTHORIZED
        );

        std::fs::remove_file(&pw).unwrap();
        let e = FileAuth::from_conf(&conf, 2).unwrap_err();
        assert!(e.contains(&pw.display().to_string()), "{e}");
    }
}
