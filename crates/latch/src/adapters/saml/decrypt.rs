//! XML Encryption of an assertion (xmlenc): a session key wrapped with RSA-OAEP to one of the
//! connection's keys, the assertion under AES-CBC, AES-GCM or 3DES-CBC.
//!
//! samael 0.0.22 has this, but cannot read the layout most IdPs send (the EncryptedKey inside
//! EncryptedData's KeyInfo, its prefixes declared on an ancestor) and slices ciphertexts without
//! checking their length, which panics on a short one; anyone can encrypt to the published key.
//! So the structure is read here with roxmltree and decrypted with OpenSSL, every length checked.
//! RSA PKCS#1 v1.5 key transport is refused: its padding oracle (Bleichenbacher) is the classic
//! break of XML Encryption.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Padding;
use openssl::symm::{decrypt_aead, Cipher, Crypter, Mode};
use roxmltree::Node;

pub(super) const XENC: &str = "http://www.w3.org/2001/04/xmlenc#";
const XENC11: &str = "http://www.w3.org/2009/xmlenc11#";
const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
const SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";
const MGF1_SHA1: &str = "http://www.w3.org/2009/xmlenc11#mgf1sha1";
const GCM_IV: usize = 12;
const GCM_TAG: usize = 16;

pub(super) fn is(n: Node<'_, '_>, ns: &str, name: &str) -> bool {
    n.is_element() && n.tag_name().namespace() == Some(ns) && n.tag_name().name() == name
}

pub(super) fn child<'a, 'i>(n: Node<'a, 'i>, ns: &str, name: &str) -> Option<Node<'a, 'i>> {
    n.children().find(|c| is(*c, ns, name))
}

fn algorithm<'a>(n: Node<'a, '_>) -> Result<&'a str, String> {
    child(n, XENC, "EncryptionMethod")
        .and_then(|m| m.attribute("Algorithm"))
        .ok_or_else(|| "no EncryptionMethod".to_string())
}

fn cipher_value(n: Node<'_, '_>) -> Result<Vec<u8>, String> {
    let text = child(n, XENC, "CipherData")
        .and_then(|d| child(d, XENC, "CipherValue"))
        .and_then(|v| v.text())
        .ok_or("no CipherValue")?;
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD
        .decode(compact)
        .map_err(|_| "CipherValue is not base64".to_string())
}

/// The content cipher an algorithm URI names, and whether it is GCM.
fn content_cipher(uri: &str) -> Result<(Cipher, bool), String> {
    Ok(match uri {
        "http://www.w3.org/2001/04/xmlenc#aes128-cbc" => (Cipher::aes_128_cbc(), false),
        "http://www.w3.org/2001/04/xmlenc#aes192-cbc" => (Cipher::aes_192_cbc(), false),
        "http://www.w3.org/2001/04/xmlenc#aes256-cbc" => (Cipher::aes_256_cbc(), false),
        "http://www.w3.org/2001/04/xmlenc#tripledes-cbc" => (Cipher::des_ede3_cbc(), false),
        "http://www.w3.org/2009/xmlenc11#aes128-gcm" => (Cipher::aes_128_gcm(), true),
        "http://www.w3.org/2009/xmlenc11#aes192-gcm" => (Cipher::aes_192_gcm(), true),
        "http://www.w3.org/2009/xmlenc11#aes256-gcm" => (Cipher::aes_256_gcm(), true),
        other => return Err(format!("content encryption {other} is not supported")),
    })
}

/// The session key: RSA-OAEP with SHA-1 and MGF1-SHA-1 (what `rsa-oaep-mgf1p` is, and the
/// defaults of xmlenc11's `rsa-oaep`), tried with each of the connection's keys.
fn session_key(encrypted_key: Node<'_, '_>, keys: &[PKey<Private>], key_len: usize) -> Result<Vec<u8>, String> {
    let method = child(encrypted_key, XENC, "EncryptionMethod").ok_or("no key EncryptionMethod")?;
    match method.attribute("Algorithm") {
        Some("http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p") | Some("http://www.w3.org/2009/xmlenc11#rsa-oaep") => {}
        other => return Err(format!("key transport {other:?} is not supported")),
    }
    let digest = child(method, DSIG, "DigestMethod").and_then(|d| d.attribute("Algorithm"));
    let mgf = child(method, XENC11, "MGF").and_then(|d| d.attribute("Algorithm"));
    if digest.is_some_and(|d| d != SHA1) || mgf.is_some_and(|m| m != MGF1_SHA1) {
        return Err("only SHA-1 OAEP parameters are supported".into());
    }
    let wrapped = cipher_value(encrypted_key)?;
    for key in keys {
        let Ok(rsa) = key.rsa() else { continue };
        let mut out = vec![0u8; rsa.size() as usize];
        if let Ok(n) = rsa.private_decrypt(&wrapped, &mut out, Padding::PKCS1_OAEP) {
            if n == key_len {
                out.truncate(n);
                return Ok(out);
            }
        }
    }
    Err("no key of the connection unwraps the session key".into())
}

fn decrypt_cbc(cipher: Cipher, key: &[u8], body: &[u8]) -> Result<Vec<u8>, String> {
    let block = cipher.block_size();
    let iv_len = cipher.iv_len().unwrap_or(block);
    if body.len() <= iv_len || !(body.len() - iv_len).is_multiple_of(block) {
        return Err("the ciphertext has a wrong length".into());
    }
    let (iv, data) = body.split_at(iv_len);
    let mut c = Crypter::new(cipher, Mode::Decrypt, key, Some(iv)).map_err(|e| e.to_string())?;
    // XML Encryption pads per ISO 10126 (random filler, the last byte its length), which is not
    // PKCS#7: strip it here.
    c.pad(false);
    let mut out = vec![0u8; data.len() + block];
    let mut n = c.update(data, &mut out).map_err(|e| e.to_string())?;
    n += c.finalize(&mut out[n..]).map_err(|e| e.to_string())?;
    out.truncate(n);
    let pad = usize::from(*out.last().ok_or("empty plaintext")?);
    if pad == 0 || pad > block || pad > out.len() {
        return Err("bad padding".into());
    }
    out.truncate(out.len() - pad);
    Ok(out)
}

fn decrypt_gcm(cipher: Cipher, key: &[u8], body: &[u8]) -> Result<Vec<u8>, String> {
    if body.len() < GCM_IV + GCM_TAG {
        return Err("the ciphertext is too short".into());
    }
    let (iv, rest) = body.split_at(GCM_IV);
    let (data, tag) = rest.split_at(rest.len() - GCM_TAG);
    decrypt_aead(cipher, key, Some(iv), &[], data, tag).map_err(|e| e.to_string())
}

/// The assertion (XML text) inside an `EncryptedAssertion`.
pub(super) fn decrypt(encrypted_assertion: Node<'_, '_>, keys: &[PKey<Private>]) -> Result<String, String> {
    let data = child(encrypted_assertion, XENC, "EncryptedData").ok_or("no EncryptedData")?;
    let (cipher, gcm) = content_cipher(algorithm(data)?)?;
    // The wrapped key sits in EncryptedData's KeyInfo, or beside EncryptedData.
    let encrypted_key = child(data, DSIG, "KeyInfo")
        .and_then(|k| child(k, XENC, "EncryptedKey"))
        .or_else(|| child(encrypted_assertion, XENC, "EncryptedKey"))
        .ok_or("no EncryptedKey")?;
    let key = session_key(encrypted_key, keys, cipher.key_len())?;
    let body = cipher_value(data)?;
    let plain = if gcm {
        decrypt_gcm(cipher, &key, &body)?
    } else {
        decrypt_cbc(cipher, &key, &body)?
    };
    String::from_utf8(plain).map_err(|_| "the plaintext is not UTF-8".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::rsa::Rsa;
    use openssl::symm::{encrypt, encrypt_aead};
    use proptest::prelude::*;

    fn key() -> &'static PKey<Private> {
        static KEY: std::sync::OnceLock<PKey<Private>> = std::sync::OnceLock::new();
        KEY.get_or_init(|| PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap())
    }

    fn wrap(session: &[u8], padding: Padding) -> String {
        let rsa = key().rsa().unwrap();
        let mut out = vec![0u8; rsa.size() as usize];
        let n = rsa.public_encrypt(session, &mut out, padding).unwrap();
        STANDARD.encode(&out[..n])
    }

    fn document(data_alg: &str, key_alg: &str, wrapped: &str, body: &[u8]) -> String {
        format!(
            r#"<saml:EncryptedAssertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><x:EncryptedData xmlns:x="{XENC}" xmlns:d="{DSIG}"><x:EncryptionMethod Algorithm="{data_alg}"/><d:KeyInfo><x:EncryptedKey><x:EncryptionMethod Algorithm="{key_alg}"/><x:CipherData><x:CipherValue>{wrapped}</x:CipherValue></x:CipherData></x:EncryptedKey></d:KeyInfo><x:CipherData><x:CipherValue>{}</x:CipherValue></x:CipherData></x:EncryptedData></saml:EncryptedAssertion>"#,
            STANDARD.encode(body)
        )
    }

    fn open(xml: &str) -> Result<String, String> {
        let doc = roxmltree::Document::parse(xml).unwrap();
        decrypt(doc.root_element(), std::slice::from_ref(key()))
    }

    const OAEP: &str = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p";
    const CBC: &str = "http://www.w3.org/2001/04/xmlenc#aes256-cbc";
    const GCM: &str = "http://www.w3.org/2009/xmlenc11#aes256-gcm";
    const ASSERTION: &str = r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="a1"/>"#;

    #[test]
    fn cbc_with_iso10126_padding_and_gcm_open() {
        let session = [7u8; 32];
        let iv = [1u8; 16];
        // ISO 10126: filler bytes, then the pad length.
        let mut padded = ASSERTION.as_bytes().to_vec();
        let pad = 16 - padded.len() % 16;
        padded.extend(std::iter::repeat_n(0xA5, pad - 1));
        padded.push(pad as u8);
        let mut c = Crypter::new(Cipher::aes_256_cbc(), Mode::Encrypt, &session, Some(&iv)).unwrap();
        c.pad(false);
        let mut ct = vec![0u8; padded.len() + 16];
        let n = c.update(&padded, &mut ct).unwrap();
        ct.truncate(n);
        let body = [iv.as_slice(), &ct].concat();
        assert_eq!(
            open(&document(CBC, OAEP, &wrap(&session, Padding::PKCS1_OAEP), &body)).unwrap(),
            ASSERTION
        );

        let nonce = [2u8; 12];
        let mut tag = [0u8; 16];
        let ct = encrypt_aead(
            Cipher::aes_256_gcm(),
            &session,
            Some(&nonce),
            &[],
            ASSERTION.as_bytes(),
            &mut tag,
        )
        .unwrap();
        let body = [nonce.as_slice(), &ct, &tag].concat();
        assert_eq!(
            open(&document(GCM, OAEP, &wrap(&session, Padding::PKCS1_OAEP), &body)).unwrap(),
            ASSERTION
        );
        // A flipped bit fails the tag.
        let mut bad = body.clone();
        bad[20] ^= 1;
        assert!(open(&document(GCM, OAEP, &wrap(&session, Padding::PKCS1_OAEP), &bad)).is_err());
    }

    #[test]
    fn pkcs1_v15_key_transport_and_wrong_key_sizes_are_refused() {
        let session = [7u8; 32];
        let body = encrypt(Cipher::aes_256_cbc(), &session, Some(&[0u8; 16]), ASSERTION.as_bytes()).unwrap();
        let body = [[0u8; 16].as_slice(), &body].concat();
        let v15 = "http://www.w3.org/2001/04/xmlenc#rsa-1_5";
        assert!(open(&document(CBC, v15, &wrap(&session, Padding::PKCS1), &body)).is_err());
        // A 16-byte key for AES-256 is not this cipher's key.
        assert!(open(&document(CBC, OAEP, &wrap(&[7u8; 16], Padding::PKCS1_OAEP), &body)).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        /// Anyone can encrypt to the published key: whatever the ciphertext, an answer, never a panic.
        #[test]
        fn arbitrary_ciphertexts_never_panic(body in proptest::collection::vec(any::<u8>(), 0..96), gcm in any::<bool>()) {
            let wrapped = wrap(&[9u8; 32], Padding::PKCS1_OAEP);
            let _ = open(&document(if gcm { GCM } else { CBC }, OAEP, &wrapped, &body));
        }
    }
}
