//! mosquitto's password file: one `username:hash` per line, the hash as
//! `mosquitto_passwd` writes it: `$7$ITERATIONS$SALT$HASH` (PBKDF2-HMAC-SHA512)
//! or `$6$SALT$HASH` (SHA-512 of password then salt), salt and hash in
//! standard base64. Comparison is constant-time.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::{Digest, Sha512};
use subtle::ConstantTimeEq;

/// Iterations `mosquitto_passwd` uses for `$7$` hashes.
pub const PBKDF2_ITERATIONS: u32 = 101;
/// Salt length `mosquitto_passwd` uses.
pub const SALT_LEN: usize = 12;

/// Which hash to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashKind {
    /// `$6$`: SHA-512 (mosquitto 1.6 and older).
    Sha512,
    /// `$7$`: PBKDF2-HMAC-SHA512 (mosquitto 2.0's default).
    Pbkdf2Sha512,
}

/// One user's stored hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordHash {
    kind: HashKind,
    iterations: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

impl PasswordHash {
    /// Parse the part after `username:`.
    pub fn parse(s: &str) -> Result<PasswordHash, String> {
        let mut parts = s.split('$');
        if parts.next() != Some("") {
            return Err("not a hashed password (run 'ferromq passwd -U')".into());
        }
        let b64 = |p: Option<&str>, what: &str| -> Result<Vec<u8>, String> {
            let p = p.ok_or_else(|| format!("no {what}"))?;
            B64.decode(p).map_err(|_| format!("{what} is not base64"))
        };
        let (kind, iterations) = match parts.next() {
            Some("6") => (HashKind::Sha512, 1),
            Some("7") => {
                let it = parts
                    .next()
                    .and_then(|i| i.parse::<u32>().ok())
                    .filter(|&i| i > 0)
                    .ok_or("bad iteration count")?;
                (HashKind::Pbkdf2Sha512, it)
            }
            _ => return Err("unknown hash type (only $6$ and $7$)".into()),
        };
        let salt = b64(parts.next(), "salt")?;
        let hash = b64(parts.next(), "hash")?;
        if parts.next().is_some() || hash.len() != 64 {
            return Err("malformed hash".into());
        }
        Ok(PasswordHash {
            kind,
            iterations,
            salt,
            hash,
        })
    }

    /// A new hash of `password` with `salt`.
    pub fn new(kind: HashKind, password: &[u8], salt: &[u8]) -> PasswordHash {
        let iterations = match kind {
            HashKind::Sha512 => 1,
            HashKind::Pbkdf2Sha512 => PBKDF2_ITERATIONS,
        };
        let hash = digest(kind, iterations, password, salt);
        PasswordHash {
            kind,
            iterations,
            salt: salt.to_vec(),
            hash,
        }
    }

    /// True when `password` hashes to this (constant-time comparison).
    pub fn verify(&self, password: &[u8]) -> bool {
        let got = digest(self.kind, self.iterations, password, &self.salt);
        got.ct_eq(&self.hash).into()
    }
}

impl std::fmt::Display for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (salt, hash) = (B64.encode(&self.salt), B64.encode(&self.hash));
        match self.kind {
            HashKind::Sha512 => write!(f, "$6${salt}${hash}"),
            HashKind::Pbkdf2Sha512 => write!(f, "$7${}${salt}${hash}", self.iterations),
        }
    }
}

fn digest(kind: HashKind, iterations: u32, password: &[u8], salt: &[u8]) -> Vec<u8> {
    match kind {
        HashKind::Sha512 => {
            let mut h = Sha512::new();
            h.update(password);
            h.update(salt);
            h.finalize().to_vec()
        }
        HashKind::Pbkdf2Sha512 => {
            let mut out = vec![0u8; 64];
            pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, iterations, &mut out);
            out
        }
    }
}

/// A parsed password file.
#[derive(Debug, Clone, Default)]
pub struct PasswordFile {
    users: HashMap<String, PasswordHash>,
}

impl PasswordFile {
    /// Parse the file's text; errors name the line. Lines starting with `#`
    /// and empty lines are skipped.
    pub fn parse(text: &str) -> Result<PasswordFile, String> {
        let mut users = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim_end_matches(['\r', '\n']);
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((user, hash)) = line.split_once(':') else {
                return Err(format!("line {}: no ':' after the username", n + 1));
            };
            let hash = PasswordHash::parse(hash)
                .map_err(|e| format!("line {}: user '{user}': {e}", n + 1))?;
            users.insert(user.to_string(), hash);
        }
        Ok(PasswordFile { users })
    }

    /// Read and parse `path`; errors name the file and line.
    pub fn load(path: &std::path::Path) -> Result<PasswordFile, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// `None`: no such user; otherwise whether the password is right.
    pub fn verify(&self, user: &str, password: &[u8]) -> Option<bool> {
        self.users.get(user).map(|h| h.verify(password))
    }

    pub fn len(&self) -> usize {
        self.users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Written by mosquitto_passwd 2.0.11 (`-b pw alice secret`, `-H sha512 -b pw carol pw6`).
    const ALICE: &str = "alice:$7$101$arJdmLA1TWI8PbIw$cU8iAaWVZ7TDFpf3n8AGGntVOfnRFRhTcoHaTRHmfMJ0vmlP+hW7wGN4a1huUcdOOPEkui2ly40bFoQ0FBYtvQ==";

    #[test]
    fn verifies_mosquitto_passwd_pbkdf2() {
        let f = PasswordFile::parse(&format!("{ALICE}\n")).unwrap();
        assert_eq!(f.verify("alice", b"secret"), Some(true));
        assert_eq!(f.verify("alice", b"Secret"), Some(false));
        assert_eq!(f.verify("bob", b"secret"), None);
    }

    #[test]
    fn sha512_and_pbkdf2_round_trip() {
        for kind in [HashKind::Sha512, HashKind::Pbkdf2Sha512] {
            let h = PasswordHash::new(kind, b"pw6", b"0123456789ab");
            let text = h.to_string();
            assert!(text.starts_with(if kind == HashKind::Sha512 {
                "$6$"
            } else {
                "$7$101$"
            }));
            let back = PasswordHash::parse(&text).unwrap();
            assert_eq!(back, h);
            assert!(back.verify(b"pw6") && !back.verify(b"pw7"));
        }
    }

    #[test]
    fn errors_name_the_line() {
        let e = PasswordFile::parse("# c\n\nbob:plain\n").unwrap_err();
        assert!(e.contains("line 3") && e.contains("bob"), "{e}");
        assert!(
            PasswordFile::parse("nocolon")
                .unwrap_err()
                .contains("line 1")
        );
        assert!(
            PasswordFile::parse("a:$5$x$y")
                .unwrap_err()
                .contains("unknown hash")
        );
        assert!(
            PasswordFile::parse("a:$7$0$x$y")
                .unwrap_err()
                .contains("iteration")
        );
    }
}
