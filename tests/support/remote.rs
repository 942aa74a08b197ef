//! A mosquitto standing in for a bridge's remote broker: stopped and
//! started again on the same port, with its own persistence directory (its
//! sessions survive a SIGTERM) and extra configuration lines.

use std::process::Command;
use std::time::Duration;

use super::{LineLog, MOSQUITTO, Mosquitto};

const WAIT: Duration = Duration::from_secs(20);

pub struct Remote {
    pub port: u16,
    dir: tempfile::TempDir,
    extra: String,
    broker: Option<Mosquitto>,
}

impl Remote {
    /// Not started yet: its port is chosen, nothing listens there.
    pub fn new(extra: &str) -> Remote {
        Remote {
            port: super::free_port(),
            dir: tempfile::tempdir().expect("tempdir"),
            extra: extra.to_string(),
            broker: None,
        }
    }

    /// Start it (on the same port each time) and wait until it runs.
    pub fn up(&mut self) {
        let conf = self.dir.path().join("mosquitto.conf");
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        let text = format!(
            "listener {} 127.0.0.1\nallow_anonymous true\npersistence true\n\
             persistence_location {}/\nautosave_interval 0\n{}\n{}",
            self.port,
            self.dir.path().display(),
            if root { "user root" } else { "" },
            self.extra
        );
        std::fs::write(&conf, text).expect("write mosquitto.conf");
        let mut cmd = Command::new(MOSQUITTO);
        cmd.arg("-c").arg(&conf).arg("-v");
        let m = Mosquitto::spawn(cmd, self.port, tempfile::tempdir().expect("tempdir"));
        assert!(
            m.log().wait_for(" running", WAIT),
            "mosquitto did not start:\n{}",
            m.log().text()
        );
        self.broker = Some(m);
    }

    /// SIGTERM (mosquitto saves its sessions), wait until it has exited.
    pub fn down(&mut self) {
        let m = self.broker.take().expect("running");
        let pid = m.pid().expect("pid") as i32;
        // SAFETY: signalling a child process we started and have not reaped.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        assert!(m.log().wait_closed(WAIT), "mosquitto did not stop");
    }

    /// Its log while it runs.
    pub fn log(&self) -> &LineLog {
        self.broker.as_ref().expect("running").log()
    }
}
