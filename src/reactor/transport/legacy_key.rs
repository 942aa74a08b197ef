//! OpenSSL's legacy ("traditional") encrypted PEM keys: a PKCS#1 RSA or
//! SEC1 EC key whose PEM block carries `Proc-Type: 4,ENCRYPTED` and
//! `DEK-Info: CIPHER,IV` headers. `openssl genrsa -aes256`, `openssl ec
//! -des3` and OpenSSL 1.x in general write keys this way, and Paho's
//! `privateKeyPassword` opens them through OpenSSL.
//!
//! The cipher key is derived as OpenSSL's EVP_BytesToKey does with MD5 and
//! one iteration (salt: the first 8 bytes of the IV); the body is then
//! decrypted in CBC mode and its PKCS#7 padding removed.

use aes::cipher::{BlockDecryptMut, KeyIvInit, block_padding::Pkcs7};
use base64::Engine as _;
use md5::{Digest, Md5};
use rustls_pki_types::PrivateKeyDer;

/// The ciphers OpenSSL writes legacy keys with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cipher {
    Aes128,
    Aes192,
    Aes256,
    DesEde3,
}

impl Cipher {
    fn from_name(name: &str) -> Option<Cipher> {
        match name.to_ascii_uppercase().as_str() {
            "AES-128-CBC" => Some(Cipher::Aes128),
            "AES-192-CBC" => Some(Cipher::Aes192),
            "AES-256-CBC" => Some(Cipher::Aes256),
            "DES-EDE3-CBC" => Some(Cipher::DesEde3),
            _ => None,
        }
    }

    fn key_len(self) -> usize {
        match self {
            Cipher::Aes128 => 16,
            Cipher::Aes192 | Cipher::DesEde3 => 24,
            Cipher::Aes256 => 32,
        }
    }

    fn iv_len(self) -> usize {
        match self {
            Cipher::DesEde3 => 8,
            _ => 16,
        }
    }
}

/// EVP_BytesToKey(MD5, count 1): D1 = MD5(pass || salt), Di = MD5(Di-1 ||
/// pass || salt), concatenated until `len` bytes.
fn derive_key(password: &[u8], salt: &[u8], len: usize) -> Vec<u8> {
    let mut key = Vec::with_capacity(len + 16);
    let mut prev: Option<[u8; 16]> = None;
    while key.len() < len {
        let mut h = Md5::new();
        if let Some(p) = prev {
            h.update(p);
        }
        h.update(password);
        h.update(salt);
        let d: [u8; 16] = h.finalize().into();
        key.extend_from_slice(&d);
        prev = Some(d);
    }
    key.truncate(len);
    key
}

fn decrypt(cipher: Cipher, key: &[u8], iv: &[u8], data: &mut [u8]) -> Option<usize> {
    let n = match cipher {
        Cipher::Aes128 => cbc::Decryptor::<aes::Aes128>::new_from_slices(key, iv)
            .ok()?
            .decrypt_padded_mut::<Pkcs7>(data)
            .ok()?
            .len(),
        Cipher::Aes192 => cbc::Decryptor::<aes::Aes192>::new_from_slices(key, iv)
            .ok()?
            .decrypt_padded_mut::<Pkcs7>(data)
            .ok()?
            .len(),
        Cipher::Aes256 => cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv)
            .ok()?
            .decrypt_padded_mut::<Pkcs7>(data)
            .ok()?
            .len(),
        Cipher::DesEde3 => cbc::Decryptor::<des::TdesEde3>::new_from_slices(key, iv)
            .ok()?
            .decrypt_padded_mut::<Pkcs7>(data)
            .ok()?
            .len(),
    };
    Some(n)
}

fn hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Decrypt the first legacy-encrypted key block of `text` with `password`.
/// The error is a sentence for the trace and the ssl_error_cb.
pub(crate) fn decrypt_legacy(text: &str, password: &str) -> Result<PrivateKeyDer<'static>, String> {
    let (kind, rest) = ["RSA", "EC"]
        .iter()
        .find_map(|k| {
            let begin = format!("-----BEGIN {k} PRIVATE KEY-----");
            text.find(&begin).map(|i| (*k, &text[i + begin.len()..]))
        })
        .ok_or("no RSA or EC private key block")?;
    let end = format!("-----END {kind} PRIVATE KEY-----");
    let block = &rest[..rest.find(&end).ok_or("unterminated key block")?];
    let mut dek = None;
    let mut body = String::new();
    for line in block.lines().map(str::trim) {
        if let Some(v) = line.strip_prefix("DEK-Info:") {
            dek = Some(v.trim());
        } else if !line.contains(':') {
            body.push_str(line);
        }
    }
    let (name, iv) = dek
        .and_then(|d| d.split_once(','))
        .ok_or("the key has no DEK-Info header")?;
    let cipher = Cipher::from_name(name.trim())
        .ok_or_else(|| format!("the key's cipher {name} is not supported"))?;
    let iv = hex(iv.trim())
        .filter(|iv| iv.len() == cipher.iv_len())
        .ok_or("the key's DEK-Info IV is malformed")?;
    let mut data = base64::engine::general_purpose::STANDARD
        .decode(body.as_bytes())
        .map_err(|e| format!("the key's body is not base64: {e}"))?;
    let key = derive_key(password.as_bytes(), &iv[..8], cipher.key_len());
    let n = decrypt(cipher, &key, &iv, &mut data)
        .filter(|&n| n > 0 && data[0] == 0x30)
        .ok_or("cannot decrypt it (wrong privateKeyPassword?)")?;
    data.truncate(n);
    Ok(match kind {
        "RSA" => PrivateKeyDer::Pkcs1(data.into()),
        _ => PrivateKeyDer::Sec1(data.into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // A P-256 key made for these tests with `openssl ecparam -genkey`, then
    // written by `openssl ec -aes256` / `-des3` with the password "secret".
    const PLAIN_B64: &str = "MHcCAQEEIA85XZdCEhMGxcPNKeiFsWjRLOHhWLQ7ThLhopVZS+7RoAoGCCqGSM49\
        AwEHoUQDQgAE/Zr5sBpQLLFEut00N40b3FiRN7ptFRBACv5+C1wj/LCtgCmew96+JQblWxLSpeyA2gKWx4YptTkj+zXrdWrFpw==";
    const AES256: &str = "-----BEGIN EC PRIVATE KEY-----
Proc-Type: 4,ENCRYPTED
DEK-Info: AES-256-CBC,C66EA21C1E197626D398E7BD95A876D4

xvrb2ZuQLwjvQfUX1d4I9583Jx+RBacoJ1zcX2NcUCG1FqYe+NroDsDL1J7jsAJA
FECsjMvSdEEkKP+yrwZ+o9be2qDwkmbqYNUKph41xSb+HecCKKskCdsMNhNfeNuD
Gh/BRIY7zuatRu7QTNef6PC1yMUXfj9hg20hAEyO5Xo=
-----END EC PRIVATE KEY-----
";
    const DES3: &str = "-----BEGIN EC PRIVATE KEY-----
Proc-Type: 4,ENCRYPTED
DEK-Info: DES-EDE3-CBC,8D2947BF8E832D5D

z+eYMdELF5LGz3r411zZq3deRQh8Mu3LuU9v9vtaFW5oG5mhqg1SXIS8SZmYhjua
k5TumFGFiaJjs+OYY7kuMECFRB6vyoNBsdquiPWwgrOFTQwbPyP3E4C5JAjCQTKG
qTVF4fGST8NDvuU7C02QKtsHdDJK8lYPWQ/KJ6QYBzI=
-----END EC PRIVATE KEY-----
";

    #[test]
    fn openssl_aes_and_des3_keys_decrypt_to_the_plain_key() {
        let plain = base64::engine::general_purpose::STANDARD
            .decode(PLAIN_B64.replace(char::is_whitespace, ""))
            .unwrap();
        for text in [AES256, DES3] {
            let PrivateKeyDer::Sec1(k) = decrypt_legacy(text, "secret").unwrap() else {
                panic!("an EC key is SEC1");
            };
            assert_eq!(k.secret_sec1_der(), &plain[..]);
            assert!(decrypt_legacy(text, "wrong").is_err());
        }
    }

    #[test]
    fn key_derivation_matches_openssl() {
        // The chain spelled out: D1 = MD5(pass || salt), D2 = MD5(D1 || pass || salt).
        let k = derive_key(b"secret", &[1, 2, 3, 4, 5, 6, 7, 8], 32);
        let mut h = Md5::new();
        h.update(b"secret");
        h.update([1, 2, 3, 4, 5, 6, 7, 8]);
        let d1: [u8; 16] = h.finalize().into();
        let mut h = Md5::new();
        h.update(d1);
        h.update(b"secret");
        h.update([1, 2, 3, 4, 5, 6, 7, 8]);
        let d2: [u8; 16] = h.finalize().into();
        assert_eq!(&k[..16], &d1);
        assert_eq!(&k[16..], &d2);
    }

    #[test]
    fn malformed_blocks_are_errors_not_panics() {
        for text in [
            "",
            "-----BEGIN EC PRIVATE KEY-----\n",
            "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n-----END EC PRIVATE KEY-----\n",
            "-----BEGIN EC PRIVATE KEY-----\nDEK-Info: AES-256-CBC,00\n\nAAAA\n-----END EC PRIVATE KEY-----\n",
            "-----BEGIN EC PRIVATE KEY-----\nDEK-Info: RC2-CBC,0011223344556677\n\nAAAA\n-----END EC PRIVATE KEY-----\n",
            "-----BEGIN EC PRIVATE KEY-----\nDEK-Info: DES-EDE3-CBC,0011223344556677\n\n!!\n-----END EC PRIVATE KEY-----\n",
            "-----BEGIN EC PRIVATE KEY-----\nDEK-Info: DES-EDE3-CBC,0011223344556677\n\nAAAA\n-----END EC PRIVATE KEY-----\n",
        ] {
            assert!(decrypt_legacy(text, "secret").is_err(), "{text:?}");
        }
    }
}
