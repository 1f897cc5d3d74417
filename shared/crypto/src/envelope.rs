use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use async_trait::async_trait;
use sluice_domain::ports::{SealError, SecretSealer};
use sluice_domain::{EncryptionContext, SealedSecrets};
use zeroize::Zeroizing;

use crate::{KeyProvider, KeyProviderError};

/// The algorithm recorded with every sealed blob, so a future scheme can be
/// told apart.
pub const ALGORITHM: &str = "AES_256_GCM";

const NONCE_LEN: usize = 12;

/// [`SecretSealer`] by envelope encryption under a [`KeyProvider`].
pub struct EnvelopeSealer<K> {
    keys: K,
}

impl<K: KeyProvider> EnvelopeSealer<K> {
    pub fn new(keys: K) -> Self {
        Self { keys }
    }
}

fn provider_error(e: KeyProviderError) -> SealError {
    match e {
        KeyProviderError::InvalidCiphertext => SealError::Tampered,
        KeyProviderError::Unavailable(cause) => SealError::KeyProvider(cause),
    }
}

#[async_trait]
impl<K: KeyProvider> SecretSealer for EnvelopeSealer<K> {
    async fn seal(
        &self,
        context: &EncryptionContext,
        plaintext: &[u8],
    ) -> Result<SealedSecrets, SealError> {
        let data_key = self
            .keys
            .generate_data_key(context.pairs())
            .await
            .map_err(provider_error)?;
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&data_key.plaintext[..]));
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let aad = context.canonical_bytes();
        let ciphertext = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| SealError::KeyProvider("AES-GCM encryption failed".into()))?;
        // `data_key.plaintext` is zeroized when `data_key` drops here.
        Ok(SealedSecrets {
            ciphertext,
            nonce: nonce.to_vec(),
            encrypted_data_key: data_key.encrypted,
            key_id: data_key.key_id,
            algorithm: ALGORITHM.to_owned(),
        })
    }

    async fn open(
        &self,
        context: &EncryptionContext,
        sealed: &SealedSecrets,
    ) -> Result<Zeroizing<Vec<u8>>, SealError> {
        if sealed.algorithm != ALGORITHM {
            return Err(SealError::UnsupportedAlgorithm(sealed.algorithm.clone()));
        }
        if sealed.nonce.len() != NONCE_LEN {
            return Err(SealError::Tampered);
        }
        let key = self
            .keys
            .decrypt_data_key(&sealed.encrypted_data_key, &sealed.key_id, context.pairs())
            .await
            .map_err(provider_error)?;
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key[..]));
        let aad = context.canonical_bytes();
        cipher
            .decrypt(
                Nonce::from_slice(&sealed.nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| SealError::Tampered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InMemoryKeyProvider;
    use sluice_domain::{SourceId, TenantId};

    fn ctx(tenant: &str, id: &SourceId) -> EncryptionContext {
        EncryptionContext::for_source(&TenantId::parse(tenant).unwrap(), id)
    }

    fn sealer() -> EnvelopeSealer<InMemoryKeyProvider> {
        EnvelopeSealer::new(InMemoryKeyProvider::random())
    }

    const SECRET: &[u8] = br#"{"password":"canary-7f3a"}"#;

    #[tokio::test]
    async fn round_trip() {
        let s = sealer();
        let c = ctx("acme", &SourceId::generate());
        let sealed = s.seal(&c, SECRET).await.unwrap();
        assert_eq!(sealed.algorithm, ALGORITHM);
        assert_eq!(sealed.nonce.len(), 12);
        assert_eq!(&s.open(&c, &sealed).await.unwrap()[..], SECRET);
        // Ciphertext is plaintext plus the 16-byte tag, and not the plaintext.
        assert_eq!(sealed.ciphertext.len(), SECRET.len() + 16);
        assert!(!sealed.ciphertext.windows(6).any(|w| w == b"canary"));
    }

    #[tokio::test]
    async fn two_seals_of_one_secret_differ() {
        let s = sealer();
        let c = ctx("acme", &SourceId::generate());
        let a = s.seal(&c, SECRET).await.unwrap();
        let b = s.seal(&c, SECRET).await.unwrap();
        assert_ne!(a.ciphertext, b.ciphertext);
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.encrypted_data_key, b.encrypted_data_key);
    }

    #[tokio::test]
    async fn any_flipped_bit_fails() {
        let s = sealer();
        let c = ctx("acme", &SourceId::generate());
        let sealed = s.seal(&c, SECRET).await.unwrap();
        type Field = fn(&mut SealedSecrets) -> &mut Vec<u8>;
        let fields: [(&str, Field); 3] = [
            ("ciphertext", |s| &mut s.ciphertext),
            ("nonce", |s| &mut s.nonce),
            ("encrypted_data_key", |s| &mut s.encrypted_data_key),
        ];
        for (name, field) in fields {
            let len = field(&mut sealed.clone()).len();
            for byte in [0, len / 2, len - 1] {
                for bit in [0, 7] {
                    let mut bad = sealed.clone();
                    field(&mut bad)[byte] ^= 1 << bit;
                    let r = s.open(&c, &bad).await;
                    assert!(
                        matches!(r, Err(SealError::Tampered)),
                        "{name} byte {byte} bit {bit} opened"
                    );
                }
            }
        }
    }

    #[tokio::test]
    async fn moved_ciphertext_fails() {
        let s = sealer();
        let id = SourceId::generate();
        let sealed = s.seal(&ctx("acme", &id), SECRET).await.unwrap();
        let other_id = SourceId::generate();
        for wrong in [ctx("acme", &other_id), ctx("evil", &id)] {
            assert!(matches!(
                s.open(&wrong, &sealed).await,
                Err(SealError::Tampered)
            ));
        }
    }

    #[tokio::test]
    async fn unknown_algorithm_is_refused() {
        let s = sealer();
        let c = ctx("acme", &SourceId::generate());
        let mut sealed = s.seal(&c, SECRET).await.unwrap();
        sealed.algorithm = "ROT13".into();
        assert!(matches!(
            s.open(&c, &sealed).await,
            Err(SealError::UnsupportedAlgorithm(_))
        ));
    }

    /// Known-answer vector: pins the layout (key, nonce, AAD encoding), so a
    /// change in any of them breaks old ciphertexts visibly, here.
    #[test]
    fn known_answer() {
        let key = [7u8; 32];
        let nonce = [9u8; 12];
        let id = SourceId::parse("src_01J0000000000000000000000A").unwrap();
        let aad = ctx("acme", &id).canonical_bytes();
        let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key));
        let ct = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: b"secret",
                    aad: &aad,
                },
            )
            .unwrap();
        let hex: String = ct.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, KNOWN_CIPHERTEXT_HEX);
    }

    /// Computed independently with Python's `cryptography` (AESGCM).
    const KNOWN_CIPHERTEXT_HEX: &str = "54e0e7e6db8439825ce4c57e958664851ba269e9359a";
}
