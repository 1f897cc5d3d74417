use std::collections::BTreeMap;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use async_trait::async_trait;
use rand::RngCore;
use zeroize::Zeroizing;

use crate::{DataKey, KeyProvider, KeyProviderError};

/// A key provider holding its master key in memory, for unit tests and
/// local tools. Like KMS it binds every data key to its encryption context:
/// the wrapped key is AES-GCM(master, nonce, data key, AAD = context).
pub struct InMemoryKeyProvider {
    master: Zeroizing<[u8; 32]>,
    key_id: String,
}

impl InMemoryKeyProvider {
    pub fn random() -> Self {
        let mut master = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(&mut master[..]);
        Self {
            master,
            key_id: "in-memory".to_owned(),
        }
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&self.master[..]))
    }
}

fn aad(context: &BTreeMap<String, String>) -> Vec<u8> {
    serde_json::to_vec(context).expect("a map of strings always serializes")
}

#[async_trait]
impl KeyProvider for InMemoryKeyProvider {
    async fn generate_data_key(
        &self,
        context: &BTreeMap<String, String>,
    ) -> Result<DataKey, KeyProviderError> {
        let mut plaintext = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(&mut plaintext[..]);
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let wrapped = self
            .cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: &plaintext[..],
                    aad: &aad(context),
                },
            )
            .map_err(|_| KeyProviderError::Unavailable("wrap failed".into()))?;
        let mut encrypted = nonce.to_vec();
        encrypted.extend_from_slice(&wrapped);
        Ok(DataKey {
            plaintext,
            encrypted,
            key_id: self.key_id.clone(),
        })
    }

    async fn decrypt_data_key(
        &self,
        encrypted: &[u8],
        _key_id: &str,
        context: &BTreeMap<String, String>,
    ) -> Result<Zeroizing<[u8; 32]>, KeyProviderError> {
        if encrypted.len() < 12 {
            return Err(KeyProviderError::InvalidCiphertext);
        }
        let (nonce, wrapped) = encrypted.split_at(12);
        let plain = Zeroizing::new(
            self.cipher()
                .decrypt(
                    Nonce::from_slice(nonce),
                    Payload {
                        msg: wrapped,
                        aad: &aad(context),
                    },
                )
                .map_err(|_| KeyProviderError::InvalidCiphertext)?,
        );
        let key: [u8; 32] = plain[..]
            .try_into()
            .map_err(|_| KeyProviderError::InvalidCiphertext)?;
        Ok(Zeroizing::new(key))
    }
}
