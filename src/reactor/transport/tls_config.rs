//! A rustls client configuration from the settings of Paho's
//! MQTTClient_SSLOptions: trust (CA file, CA directory, the system store),
//! client certificate, server and host-name checks, versions, cipher
//! suites and ALPN. Built once per set of options, off the reactor.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, ring};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, CipherSuite, DigitallySignedStruct, RootCertStore, SignatureScheme,
    SupportedCipherSuite,
};

/// Paho's sslVersion values (MQTT_SSL_VERSION_*), plus 4 for TLS 1.3 only.
pub const SSL_VERSION_DEFAULT: i32 = 0;
pub const SSL_VERSION_TLS_1_2: i32 = 3;
pub const SSL_VERSION_TLS_1_3: i32 = 4;

/// What MQTTClient_SSLOptions asks for, checked and converted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsSettings {
    /// trustStore: PEM file of trusted CA certificates.
    pub trust_store: Option<PathBuf>,
    /// CApath: a directory of PEM CA certificates.
    pub ca_path: Option<PathBuf>,
    /// Use the system's trust store when neither of the above is given
    /// (false: disableDefaultTrustStore).
    pub default_trust_store: bool,
    /// keyStore: PEM client certificate chain (may hold the key too).
    pub key_store: Option<PathBuf>,
    /// privateKey: PEM private key (else it is read from `key_store`).
    pub private_key: Option<PathBuf>,
    /// privateKeyPassword: set for an encrypted key.
    pub private_key_password: Option<String>,
    /// enableServerCertAuth: check the server's chain.
    pub verify_server: bool,
    /// verify: check the host name against the server's certificate.
    pub verify_host: bool,
    /// sslVersion.
    pub ssl_version: i32,
    /// enabledCipherSuites: an OpenSSL-style list.
    pub cipher_list: Option<String>,
    /// protos: ALPN protocol names.
    pub alpn: Vec<Vec<u8>>,
    /// ssl_psk_cb was given. rustls has no TLS-PSK, so no PSK suite is
    /// offered and the callback is never called; programs (Debian's
    /// paho_c_pub among them) set it for servers that might want PSK and
    /// still connect with certificates, so it does not fail the connect.
    pub psk: bool,
}

/// Why no configuration could be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsConfigError {
    /// Asked for something rustls does not do (TLS 1.0/1.1, encrypted keys).
    Unsupported(String),
    /// A file, key or list that cannot be used.
    Invalid(String),
}

impl std::fmt::Display for TlsConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TlsConfigError::Unsupported(s) | TlsConfigError::Invalid(s) => f.write_str(s),
        }
    }
}

fn invalid(s: impl Into<String>) -> TlsConfigError {
    TlsConfigError::Invalid(s.into())
}

/// OpenSSL's names of the suites rustls (ring) offers.
const OPENSSL_NAMES: &[(&str, CipherSuite)] = &[
    (
        "TLS_AES_256_GCM_SHA384",
        CipherSuite::TLS13_AES_256_GCM_SHA384,
    ),
    (
        "TLS_AES_128_GCM_SHA256",
        CipherSuite::TLS13_AES_128_GCM_SHA256,
    ),
    (
        "TLS_CHACHA20_POLY1305_SHA256",
        CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
    ),
    (
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    ),
    (
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
    (
        "ECDHE-RSA-AES256-GCM-SHA384",
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "ECDHE-RSA-AES128-GCM-SHA256",
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    ),
    (
        "ECDHE-RSA-CHACHA20-POLY1305",
        CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
];

/// Is `suite` picked by the OpenSSL cipher-string token `token`?
fn token_matches(token: &str, suite: CipherSuite) -> bool {
    match token.to_ascii_uppercase().as_str() {
        "ALL" | "DEFAULT" | "HIGH" | "TLSV1.2" | "AESGCM" | "ECDHE" | "EECDH" | "KECDHE" => {
            let name = format!("{suite:?}");
            match token.to_ascii_uppercase().as_str() {
                "AESGCM" => name.contains("GCM"),
                "TLSV1.2" | "ECDHE" | "EECDH" | "KECDHE" => !name.starts_with("TLS13"),
                _ => true,
            }
        }
        "CHACHA20" => format!("{suite:?}").contains("CHACHA20"),
        "AES256" => format!("{suite:?}").contains("AES_256"),
        "AES128" => format!("{suite:?}").contains("AES_128"),
        "ECDSA" | "AECDSA" => format!("{suite:?}").contains("ECDSA"),
        "RSA" | "ARSA" => format!("{suite:?}").contains("_RSA_"),
        upper => OPENSSL_NAMES
            .iter()
            .any(|(n, s)| *s == suite && n.eq_ignore_ascii_case(upper)),
    }
}

/// The suites an OpenSSL-style list (`:`, `,` or space separated; `!x`
/// or `-x` removes) selects from `all`. As in OpenSSL the list governs the
/// TLS 1.2 suites; TLS 1.3 suites stay unless the list names some.
/// Unknown names are skipped; a list selecting nothing is an error.
pub fn select_suites(
    list: &str,
    all: &[SupportedCipherSuite],
) -> Result<Vec<SupportedCipherSuite>, TlsConfigError> {
    let mut chosen: Vec<SupportedCipherSuite> = Vec::new();
    let mut removed: Vec<CipherSuite> = Vec::new();
    for token in list.split([':', ',', ' ']).filter(|t| !t.is_empty()) {
        if let Some(t) = token.strip_prefix('!').or_else(|| token.strip_prefix('-')) {
            for s in all.iter().filter(|s| token_matches(t, s.suite())) {
                removed.push(s.suite());
            }
            continue;
        }
        let t = token.trim_start_matches('+');
        for s in all.iter().filter(|s| token_matches(t, s.suite())) {
            if !chosen.iter().any(|c| c.suite() == s.suite()) {
                chosen.push(*s);
            }
        }
    }
    chosen.retain(|s| !removed.contains(&s.suite()));
    if chosen.is_empty() {
        return Err(invalid(format!(
            "no usable cipher suite in enabledCipherSuites '{list}'"
        )));
    }
    let names_tls13 = chosen
        .iter()
        .any(|s| s.version() == &rustls::version::TLS13);
    if !names_tls13 {
        for s in all
            .iter()
            .filter(|s| s.version() == &rustls::version::TLS13)
        {
            chosen.push(*s);
        }
    }
    Ok(chosen)
}

pub(crate) fn read_certs(
    path: &Path,
    what: &str,
) -> Result<Vec<CertificateDer<'static>>, TlsConfigError> {
    let iter = CertificateDer::pem_file_iter(path)
        .map_err(|e| invalid(format!("cannot read {what} {}: {e}", path.display())))?;
    let certs = iter
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(format!("cannot parse {what} {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(invalid(format!(
            "{what} {} holds no PEM certificate",
            path.display()
        )));
    }
    Ok(certs)
}

const ENCRYPTED_BEGIN: &str = "-----BEGIN ENCRYPTED PRIVATE KEY-----";
const ENCRYPTED_END: &str = "-----END ENCRYPTED PRIVATE KEY-----";

/// Decrypt the first encrypted PKCS#8 block of `text` (PBES2: PBKDF2 or
/// scrypt with AES-CBC, as `openssl pkcs8 -topk8` and OpenSSL 3 write).
fn decrypt_pkcs8(
    text: &str,
    password: &str,
    path: &Path,
) -> Result<PrivateKeyDer<'static>, TlsConfigError> {
    let start = text.find(ENCRYPTED_BEGIN).unwrap_or(0);
    let end = text[start..]
        .find(ENCRYPTED_END)
        .map(|e| start + e + ENCRYPTED_END.len())
        .ok_or_else(|| invalid(format!("unterminated encrypted key in {}", path.display())))?;
    let (_, doc) = pkcs8::Document::from_pem(&text[start..end])
        .map_err(|e| invalid(format!("bad encrypted key in {}: {e}", path.display())))?;
    let info = pkcs8::EncryptedPrivateKeyInfo::try_from(doc.as_bytes())
        .map_err(|e| invalid(format!("bad encrypted key in {}: {e}", path.display())))?;
    let plain = info.decrypt(password).map_err(|e| {
        invalid(format!(
            "cannot decrypt the private key {} (wrong privateKeyPassword?): {e}",
            path.display()
        ))
    })?;
    Ok(PrivateKeyDer::Pkcs8(plain.as_bytes().to_vec().into()))
}

pub(crate) fn read_key(
    path: &Path,
    password: Option<&str>,
) -> Result<PrivateKeyDer<'static>, TlsConfigError> {
    let raw = std::fs::read(path)
        .map_err(|e| invalid(format!("cannot read private key {}: {e}", path.display())))?;
    let text = String::from_utf8_lossy(&raw);
    if text.contains(ENCRYPTED_BEGIN) {
        let Some(password) = password else {
            return Err(invalid(format!(
                "private key {} is encrypted and no privateKeyPassword was given",
                path.display()
            )));
        };
        return decrypt_pkcs8(&text, password, path);
    }
    if text.contains("Proc-Type: 4,ENCRYPTED") {
        let Some(password) = password else {
            return Err(invalid(format!(
                "private key {} is encrypted and no privateKeyPassword was given",
                path.display()
            )));
        };
        return super::legacy_key::decrypt_legacy(&text, password)
            .map_err(|e| invalid(format!("private key {}: {e}", path.display())));
    }
    PrivateKeyDer::from_pem_slice(&raw)
        .map_err(|e| invalid(format!("no usable private key in {}: {e}", path.display())))
}

/// The system's trust store, loaded once per process.
fn system_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| rustls_native_certs::load_native_certs().certs)
}

fn roots(s: &TlsSettings) -> Result<RootCertStore, TlsConfigError> {
    let mut store = RootCertStore::empty();
    if let Some(p) = &s.trust_store {
        for c in read_certs(p, "trustStore")? {
            store
                .add(c)
                .map_err(|e| invalid(format!("bad CA in {}: {e}", p.display())))?;
        }
    }
    if let Some(dir) = &s.ca_path {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| invalid(format!("cannot read CApath {}: {e}", dir.display())))?;
        for entry in entries.flatten() {
            // Files that are not PEM certificates (OpenSSL's CRLs, notes) are skipped.
            if let Ok(iter) = CertificateDer::pem_file_iter(entry.path()) {
                for c in iter.flatten() {
                    let _ = store.add(c);
                }
            }
        }
    }
    if s.trust_store.is_none() && s.ca_path.is_none() && s.default_trust_store {
        let (_, _) = store.add_parsable_certificates(system_roots().iter().cloned());
    }
    Ok(store)
}

/// Paho's checks: the chain always (with `verify_server`), the host name
/// only with `verify` set.
#[derive(Debug)]
struct PahoVerifier {
    chain: Option<Arc<WebPkiServerVerifier>>,
    check_host: bool,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PahoVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        // webpki checks the chain before the name: a name error means the
        // chain was good.
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.check_host => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The crypto provider: rustls on *ring* (deprecated in rustls 0.23.48
/// only for lacking post-quantum key exchange, which Paho on Debian's
/// OpenSSL 3.0 lacks as well; ring builds with a C compiler alone, where
/// aws-lc-rs needs a much longer native build).
///
/// Key exchange prefers X25519, then P-256, as OpenSSL does: rustls's ring
/// provider lists P-384 first, which ring computes without an assembly
/// fast path (a handshake then costs ~3 ms of CPU on each side instead of
/// ~0.1 ms: a broker accepted ~150 handshakes/s).
#[allow(deprecated)]
pub fn provider() -> CryptoProvider {
    let mut p = ring::default_provider();
    p.kx_groups = vec![
        ring::kx_group::X25519,
        ring::kx_group::SECP256R1,
        ring::kx_group::SECP384R1,
    ];
    p
}

/// The rustls client configuration for `s`.
pub fn client_config(s: &TlsSettings) -> Result<Arc<rustls::ClientConfig>, TlsConfigError> {
    let versions: &[&'static rustls::SupportedProtocolVersion] = match s.ssl_version {
        SSL_VERSION_DEFAULT | SSL_VERSION_TLS_1_2 => {
            &[&rustls::version::TLS13, &rustls::version::TLS12]
        }
        SSL_VERSION_TLS_1_3 => &[&rustls::version::TLS13],
        1 | 2 => {
            return Err(TlsConfigError::Unsupported(format!(
                "sslVersion {} asks for TLS 1.{}: only TLS 1.2 and 1.3 are supported",
                s.ssl_version,
                s.ssl_version - 1
            )));
        }
        v => return Err(invalid(format!("unknown sslVersion {v}"))),
    };
    let mut provider = provider();
    if let Some(list) = &s.cipher_list {
        provider.cipher_suites = select_suites(list, &provider.cipher_suites)?;
        let usable = provider
            .cipher_suites
            .iter()
            .any(|c| versions.contains(&c.version()));
        if !usable {
            return Err(invalid(format!(
                "no cipher suite in enabledCipherSuites '{list}' fits sslVersion {}",
                s.ssl_version
            )));
        }
    }
    let provider = Arc::new(provider);
    let chain = if s.verify_server {
        let store = roots(s)?;
        if store.is_empty() {
            return Err(invalid(
                "no trusted CA certificate (trustStore, CApath and the system store are empty)",
            ));
        }
        let v = WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
            .build()
            .map_err(|e| invalid(format!("cannot build the certificate verifier: {e}")))?;
        Some(v)
    } else {
        None
    };
    let verifier = Arc::new(PahoVerifier {
        chain,
        check_host: s.verify_host,
        provider: provider.clone(),
    });
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(|e| invalid(format!("TLS versions: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match &s.key_store {
        Some(chain_file) => {
            let certs = read_certs(chain_file, "keyStore")?;
            let key_file = s.private_key.as_deref().unwrap_or(chain_file);
            let key = read_key(key_file, s.private_key_password.as_deref())?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| invalid(format!("client certificate and key do not fit: {e}")))?
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = s.alpn.clone();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[SupportedCipherSuite]) -> Vec<String> {
        v.iter().map(|s| format!("{:?}", s.suite())).collect()
    }

    #[test]
    fn cipher_lists() {
        let all = provider().cipher_suites;
        let one = select_suites("ECDHE-RSA-AES128-GCM-SHA256", &all).unwrap();
        let n = names(&one);
        assert!(n.contains(&"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256".to_string()));
        assert!(
            !n.iter()
                .any(|s| s.contains("AES_256") && !s.starts_with("TLS13"))
        );
        // TLS 1.3 suites stay unless named.
        assert!(n.iter().any(|s| s.starts_with("TLS13")));
        let only13 = select_suites("TLS_AES_128_GCM_SHA256", &all).unwrap();
        assert_eq!(names(&only13), ["TLS13_AES_128_GCM_SHA256"]);
        let all_but = select_suites("ALL:!CHACHA20", &all).unwrap();
        assert!(!names(&all_but).iter().any(|s| s.contains("CHACHA")));
        assert!(select_suites("NULL-MD5:RC4-SHA", &all).is_err());
        assert!(select_suites("", &all).is_err());
    }

    #[test]
    fn unsupported_requests_are_errors() {
        let s = TlsSettings {
            ssl_version: 2,
            ..TlsSettings::default()
        };
        assert!(matches!(
            client_config(&s),
            Err(TlsConfigError::Unsupported(_))
        ));
        // A PSK callback is not an error: no PSK suite is offered.
        let s = TlsSettings {
            psk: true,
            ..TlsSettings::default()
        };
        assert!(client_config(&s).is_ok());
        let s = TlsSettings {
            verify_server: true,
            trust_store: Some("/nonexistent/ca.pem".into()),
            ..TlsSettings::default()
        };
        assert!(matches!(client_config(&s), Err(TlsConfigError::Invalid(_))));
        let s = TlsSettings {
            cipher_list: Some("BOGUS".into()),
            ..TlsSettings::default()
        };
        assert!(matches!(client_config(&s), Err(TlsConfigError::Invalid(_))));
        // No server check and nothing else asked: a configuration.
        assert!(client_config(&TlsSettings::default()).is_ok());
    }

    #[test]
    fn x25519_is_offered_first() {
        let names: Vec<_> = provider().kx_groups.iter().map(|g| g.name()).collect();
        assert_eq!(names[0], rustls::NamedGroup::X25519, "{names:?}");
    }
}
