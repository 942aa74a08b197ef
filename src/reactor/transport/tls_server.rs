//! A rustls server configuration for a broker's TLS listener, from
//! mosquitto's listener keys (certfile, keyfile, cafile, capath,
//! require_certificate, tls_version, ciphers), and the client
//! certificate's common name for `use_identity_as_username`.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::server::WebPkiClientVerifier;

use super::tls_config::{TlsConfigError, provider, read_certs, read_key, select_suites};

/// The TLS settings of one listener.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsServerSettings {
    /// certfile: PEM server certificate chain.
    pub certfile: Option<PathBuf>,
    /// keyfile: PEM private key (unencrypted).
    pub keyfile: Option<PathBuf>,
    /// cafile: PEM CA certificates client certificates must chain to.
    pub cafile: Option<PathBuf>,
    /// capath: a directory of PEM CA certificates.
    pub capath: Option<PathBuf>,
    /// require_certificate: a client without a valid certificate fails the
    /// handshake.
    pub require_certificate: bool,
    /// use_identity_as_username: the client certificate's CN is the user
    /// name (a client certificate is asked for, and needed to connect).
    pub use_identity_as_username: bool,
    /// tls_version: the lowest version accepted ("tlsv1.3", "tlsv1.2";
    /// "tlsv1.1" means TLS 1.2 and 1.3 here, the only ones rustls speaks).
    pub tls_version: Option<String>,
    /// ciphers: an OpenSSL cipher list (TLS 1.2 suites).
    pub ciphers: Option<String>,
}

impl TlsServerSettings {
    /// Any key was given: the listener speaks TLS.
    pub fn is_set(&self) -> bool {
        *self != TlsServerSettings::default()
    }
}

fn invalid(s: impl Into<String>) -> TlsConfigError {
    TlsConfigError::Invalid(s.into())
}

fn client_roots(s: &TlsServerSettings) -> Result<RootCertStore, TlsConfigError> {
    let mut store = RootCertStore::empty();
    if let Some(p) = &s.cafile {
        for c in read_certs(p, "cafile")? {
            store
                .add(c)
                .map_err(|e| invalid(format!("bad CA in {}: {e}", p.display())))?;
        }
    }
    if let Some(dir) = &s.capath {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| invalid(format!("cannot read capath {}: {e}", dir.display())))?;
        for entry in entries.flatten() {
            // Not every file there is a certificate (hash links to CRLs, notes).
            if let Ok(iter) = CertificateDer::pem_file_iter(entry.path()) {
                for c in iter.flatten() {
                    let _ = store.add(c);
                }
            }
        }
    }
    Ok(store)
}

/// The rustls server configuration for `s`, reading its files now.
pub fn server_config(s: &TlsServerSettings) -> Result<Arc<rustls::ServerConfig>, TlsConfigError> {
    let (Some(certfile), Some(keyfile)) = (&s.certfile, &s.keyfile) else {
        return Err(invalid("a TLS listener needs both certfile and keyfile"));
    };
    let versions: &[&'static rustls::SupportedProtocolVersion] = match s.tls_version.as_deref() {
        None | Some("tlsv1.2") | Some("tlsv1.1") => {
            &[&rustls::version::TLS13, &rustls::version::TLS12]
        }
        Some("tlsv1.3") => &[&rustls::version::TLS13],
        Some(v) => {
            return Err(invalid(format!(
                "tls_version '{v}': use tlsv1.3, tlsv1.2 or tlsv1.1"
            )));
        }
    };
    let mut provider = provider();
    if let Some(list) = &s.ciphers {
        provider.cipher_suites = select_suites(list, &provider.cipher_suites)
            .map_err(|_| invalid(format!("no usable cipher suite in ciphers '{list}'")))?;
    }
    let provider = Arc::new(provider);
    let wants_client_cert = s.require_certificate || s.use_identity_as_username;
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .map_err(|e| invalid(format!("TLS versions: {e}")))?;
    let builder = if wants_client_cert {
        let roots = client_roots(s)?;
        if roots.is_empty() {
            return Err(invalid(
                "require_certificate and use_identity_as_username need cafile or capath \
                 with at least one CA certificate",
            ));
        }
        let mut v = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
        if !s.require_certificate {
            v = v.allow_unauthenticated();
        }
        let v = v
            .build()
            .map_err(|e| invalid(format!("cannot build the client verifier: {e}")))?;
        builder.with_client_cert_verifier(v)
    } else {
        builder.with_no_client_auth()
    };
    let certs = read_certs(certfile, "certfile")?;
    let key = read_key(keyfile, None)?;
    let config = builder
        .with_single_cert(certs, key)
        .map_err(|e| invalid(format!("certfile and keyfile do not fit: {e}")))?;
    Ok(Arc::new(config))
}

/// One DER element: tag, contents, what follows.
fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = b.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7F);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &x| (acc << 8) | usize::from(x));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// The subject's common name (OID 2.5.4.3) of a DER certificate.
pub fn common_name(cert: &[u8]) -> Option<String> {
    const SEQ: u8 = 0x30;
    let (SEQ, cert, _) = tlv(cert)? else {
        return None;
    };
    let (SEQ, tbs, _) = tlv(cert)? else {
        return None;
    };
    let mut rest = tbs;
    // [0] version is optional; then serial, signature, issuer, validity, subject.
    if rest.first() == Some(&0xA0) {
        rest = tlv(rest)?.2;
    }
    for _ in 0..4 {
        rest = tlv(rest)?.2;
    }
    let (SEQ, mut subject, _) = tlv(rest)? else {
        return None;
    };
    let mut found = None;
    while !subject.is_empty() {
        let (_, mut set, next) = tlv(subject)?;
        subject = next;
        while !set.is_empty() {
            let (_, attr, next) = tlv(set)?;
            set = next;
            let (oid_tag, oid, value) = tlv(attr)?;
            if oid_tag != 0x06 || oid != [0x55, 0x04, 0x03] {
                continue;
            }
            let (tag, v, _) = tlv(value)?;
            // The last CN counts, as with OpenSSL's lookup used by mosquitto.
            found = match tag {
                0x0C | 0x13 | 0x16 | 0x14 => std::str::from_utf8(v).ok().map(str::to_string),
                0x1E if v.len() % 2 == 0 => {
                    let units: Vec<u16> = v
                        .chunks(2)
                        .map(|c| u16::from_be_bytes([c[0], c[1]]))
                        .collect();
                    String::from_utf16(&units).ok()
                }
                _ => None,
            };
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_name_of_generated_certificates() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut p = rcgen::CertificateParams::new(vec!["x.test".to_string()]).unwrap();
        p.distinguished_name
            .push(rcgen::DnType::OrganizationName, "Org");
        p.distinguished_name
            .push(rcgen::DnType::CommonName, "alice é");
        let cert = p.self_signed(&key).unwrap();
        assert_eq!(common_name(cert.der()).as_deref(), Some("alice é"));
        let mut p = rcgen::CertificateParams::new(vec!["x.test".to_string()]).unwrap();
        p.distinguished_name = rcgen::DistinguishedName::new();
        let cert = p.self_signed(&key).unwrap();
        assert_eq!(common_name(cert.der()), None);
        // Truncated or garbage input: no name, no panic.
        let der = cert.der().to_vec();
        for n in 0..der.len() {
            let _ = common_name(&der[..n]);
        }
        assert_eq!(common_name(b"\x30\x84\xff\xff\xff\xff"), None);
    }

    #[test]
    fn bad_settings_are_errors() {
        assert!(server_config(&TlsServerSettings::default()).is_err());
        let s = TlsServerSettings {
            certfile: Some("/nonexistent.pem".into()),
            keyfile: Some("/nonexistent.key".into()),
            ..Default::default()
        };
        let e = server_config(&s).unwrap_err().to_string();
        assert!(e.contains("/nonexistent.pem"), "{e}");
        let s = TlsServerSettings {
            tls_version: Some("sslv3".into()),
            ..s
        };
        assert!(
            server_config(&s)
                .unwrap_err()
                .to_string()
                .contains("tls_version")
        );
    }
}
