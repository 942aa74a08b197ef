//! A small HTTP CONNECT proxy on 127.0.0.1 for the proxy tests: it records
//! each request head, tunnels to the asked target (loopback only), and
//! answers 407 when it wants credentials that were not given. Its threads
//! end when the test's connections close; dropping it stops accepting.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct Proxy {
    pub port: u16,
    /// The request heads seen, in order.
    pub requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

fn pump(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 16384];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

fn serve(mut client: TcpStream, requests: Arc<Mutex<Vec<String>>>, auth: Option<String>) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(20)));
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match client.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    requests.lock().unwrap().push(head.clone());
    if let Some(a) = &auth
        && !head.contains(&format!("Proxy-Authorization: Basic {a}\r\n"))
    {
        let _ = client.write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n");
        return;
    }
    let target = head
        .strip_prefix("CONNECT ")
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or("")
        .to_string();
    // Loopback only: the tests never tunnel anywhere else.
    let loopback = target.starts_with("127.0.0.1:") || target.starts_with("localhost:");
    let upstream = if loopback {
        TcpStream::connect(target.replace("localhost:", "127.0.0.1:")).ok()
    } else {
        None
    };
    let Some(upstream) = upstream else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n");
        return;
    };
    let _ = client.set_read_timeout(None);
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .is_err()
    {
        return;
    }
    let (c2, u2) = match (client.try_clone(), upstream.try_clone()) {
        (Ok(c), Ok(u)) => (c, u),
        _ => return,
    };
    std::thread::spawn(move || pump(c2, upstream));
    pump(u2, client);
}

impl Proxy {
    /// Start a proxy; with `auth` (base64 of user:password) it requires
    /// those Basic credentials.
    pub fn start(auth: Option<&str>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, s, auth) = (requests.clone(), stop.clone(), auth.map(str::to_string));
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::Acquire) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (r, auth) = (r.clone(), auth.clone());
                std::thread::spawn(move || serve(conn, r, auth));
            }
        });
        Proxy {
            port,
            requests,
            stop,
        }
    }

    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}
