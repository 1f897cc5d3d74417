use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use aws_sdk_kms::Client;
use aws_sdk_kms::error::SdkError;
use aws_sdk_kms::operation::decrypt::DecryptError;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use sluice_crypto::{DataKey, KeyProvider, KeyProviderError};
use zeroize::{Zeroize, Zeroizing};

use crate::config::LazyClient;

/// Data keys from AWS KMS `GenerateDataKey`/`Decrypt`, with the encryption
/// context passed through so KMS (and IAM conditions on it) enforce it.
#[derive(Clone)]
pub struct KmsKeyProvider {
    client: LazyClient<Client>,
    key_id: String,
}

impl KmsKeyProvider {
    /// `key_id`: the KMS key id, ARN or alias that wraps data keys.
    /// `client`: a client, or one built on first use.
    pub fn new(client: impl Into<LazyClient<Client>>, key_id: impl Into<String>) -> Self {
        Self {
            client: client.into(),
            key_id: key_id.into(),
        }
    }
}

fn to_context(context: &BTreeMap<String, String>) -> HashMap<String, String> {
    context
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Moves the plaintext out of the SDK's blob into a zeroizing array and wipes
/// the blob's buffer.
fn take_key(blob: Option<Blob>) -> Result<Zeroizing<[u8; 32]>, KeyProviderError> {
    let mut bytes = blob
        .ok_or_else(|| KeyProviderError::Unavailable("KMS returned no plaintext".into()))?
        .into_inner();
    let key: Result<[u8; 32], _> = bytes[..].try_into();
    bytes.zeroize();
    key.map(Zeroizing::new)
        .map_err(|_| KeyProviderError::Unavailable("KMS returned a key of the wrong size".into()))
}

#[async_trait]
impl KeyProvider for KmsKeyProvider {
    async fn generate_data_key(
        &self,
        context: &BTreeMap<String, String>,
    ) -> Result<DataKey, KeyProviderError> {
        let out = self
            .client
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(DataKeySpec::Aes256)
            .set_encryption_context(Some(to_context(context)))
            .send()
            .await
            .map_err(|e| KeyProviderError::Unavailable(Box::new(e)))?;
        let encrypted = out
            .ciphertext_blob
            .ok_or_else(|| KeyProviderError::Unavailable("KMS returned no ciphertext".into()))?
            .into_inner();
        let key_id = out.key_id.unwrap_or_else(|| self.key_id.clone());
        Ok(DataKey {
            plaintext: take_key(out.plaintext)?,
            encrypted,
            key_id,
        })
    }

    async fn decrypt_data_key(
        &self,
        encrypted: &[u8],
        key_id: &str,
        context: &BTreeMap<String, String>,
    ) -> Result<Zeroizing<[u8; 32]>, KeyProviderError> {
        let out = self
            .client
            .decrypt()
            .key_id(key_id)
            .ciphertext_blob(Blob::new(encrypted))
            .set_encryption_context(Some(to_context(context)))
            .send()
            .await
            .map_err(|e| match e {
                SdkError::ServiceError(ref s)
                    if matches!(
                        s.err(),
                        DecryptError::InvalidCiphertextException(_)
                            | DecryptError::IncorrectKeyException(_)
                    ) =>
                {
                    KeyProviderError::InvalidCiphertext
                }
                other => KeyProviderError::Unavailable(Box::new(other)),
            })?;
        take_key(out.plaintext)
    }
}
