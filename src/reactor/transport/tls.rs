//! The TLS layer: a rustls connection driven without I/O of its own
//! (`read_tls` from the bytes the socket gave, `write_tls` into the bytes
//! the socket will take). Client and server connections alike.

use std::io::{Read, Write};
use std::sync::Arc;

use bytes::{BufMut, BytesMut};
use rustls::pki_types::ServerName;

use super::{Layer, TransportError};

pub struct TlsLayer {
    conn: rustls::Connection,
    closing: bool,
    close_sent: bool,
}

impl TlsLayer {
    /// A client connection to `host` (a name or an IP address).
    pub fn client(
        config: Arc<rustls::ClientConfig>,
        host: &str,
    ) -> Result<TlsLayer, TransportError> {
        let name = ServerName::try_from(host.to_string())
            .map_err(|_| TransportError::new(format!("'{host}' is not a valid TLS server name")))?;
        let conn = rustls::ClientConnection::new(config, name)
            .map_err(|e| TransportError::new(format!("TLS setup failed: {e}")))?;
        Ok(TlsLayer::wrap(conn.into()))
    }

    /// A server connection (for a TLS listener).
    pub fn server(config: Arc<rustls::ServerConfig>) -> Result<TlsLayer, TransportError> {
        let conn = rustls::ServerConnection::new(config)
            .map_err(|e| TransportError::new(format!("TLS setup failed: {e}")))?;
        Ok(TlsLayer::wrap(conn.into()))
    }

    fn wrap(mut conn: rustls::Connection) -> TlsLayer {
        // The session above bounds what it queues; rustls need not.
        conn.set_buffer_limit(None);
        TlsLayer {
            conn,
            closing: false,
            close_sent: false,
        }
    }

    fn drain(&mut self, down: &mut BytesMut) -> Result<(), TransportError> {
        let mut w = down.writer();
        while self.conn.wants_write() {
            self.conn
                .write_tls(&mut w)
                .map_err(|e| TransportError::new(format!("TLS write failed: {e}")))?;
        }
        Ok(())
    }
}

/// A readable reason for a rustls error, naming the certificate problem.
pub fn describe(e: &rustls::Error) -> String {
    use rustls::{AlertDescription, CertificateError, Error};
    match e {
        Error::InvalidCertificate(c) => match c {
            CertificateError::UnknownIssuer => {
                "certificate verify failed: unknown issuer (not signed by a trusted CA)".into()
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                "certificate verify failed: host name mismatch".into()
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "certificate verify failed: certificate has expired".into()
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "certificate verify failed: certificate is not yet valid".into()
            }
            CertificateError::Revoked => "certificate verify failed: certificate revoked".into(),
            other => format!("certificate verify failed: {other:?}"),
        },
        Error::AlertReceived(AlertDescription::CertificateRequired) => {
            "the server requires a client certificate (alert certificate_required)".into()
        }
        Error::AlertReceived(a) => format!("the peer sent TLS alert {a:?}"),
        Error::NoCertificatesPresented => "the peer presented no certificate".into(),
        other => format!("TLS error: {other}"),
    }
}

impl Layer for TlsLayer {
    fn input(&mut self, mut wire: &[u8], up: &mut BytesMut) -> Result<(), TransportError> {
        while !wire.is_empty() {
            self.conn
                .read_tls(&mut wire)
                .map_err(|e| TransportError::new(format!("TLS read failed: {e}")))?;
            let state = self
                .conn
                .process_new_packets()
                .map_err(|e| TransportError::new(describe(&e)))?;
            let n = state.plaintext_bytes_to_read();
            if n > 0 {
                let start = up.len();
                up.resize(start + n, 0);
                self.conn
                    .reader()
                    .read_exact(&mut up[start..])
                    .map_err(|e| TransportError::new(format!("TLS read failed: {e}")))?;
            }
            if state.peer_has_closed() {
                return Err(TransportError::closed("the peer closed the TLS session"));
            }
        }
        Ok(())
    }

    fn output(&mut self, data: &[u8], down: &mut BytesMut) -> Result<(), TransportError> {
        if !data.is_empty() {
            // Unbounded buffer: write_all cannot come up short.
            self.conn
                .writer()
                .write_all(data)
                .map_err(|e| TransportError::new(format!("TLS write failed: {e}")))?;
        }
        if self.closing && !self.close_sent {
            self.close_sent = true;
            self.conn.send_close_notify();
        }
        self.drain(down)
    }

    fn ready(&self) -> bool {
        !self.conn.is_handshaking()
    }

    fn close(&mut self) {
        self.closing = true;
    }

    fn peer_identity(&self) -> Option<String> {
        let cert = self.conn.peer_certificates()?.first()?;
        super::tls_server::common_name(cert)
    }
}
