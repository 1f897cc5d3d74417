//! Envelope encryption for sluice.
//!
//! Each seal asks a [`KeyProvider`] (KMS in production) for a fresh 256-bit
//! data key bound to the encryption context, encrypts with AES-256-GCM under a
//! fresh random 96-bit nonce with the canonical context as associated data,
//! stores the data key only in its provider-encrypted form, and zeroizes the
//! plaintext key as soon as it is used. A sealed blob moved to another tenant,
//! record or purpose fails to open twice over: the provider refuses the data
//! key for the wrong context, and GCM rejects the wrong AAD.

mod envelope;
mod in_memory;

pub use envelope::{ALGORITHM, EnvelopeSealer};
pub use in_memory::InMemoryKeyProvider;

use std::collections::BTreeMap;

use async_trait::async_trait;
use zeroize::Zeroizing;

pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A plaintext data key and its encrypted form.
pub struct DataKey {
    /// Zeroized on drop; never stored, never logged.
    pub plaintext: Zeroizing<[u8; 32]>,
    pub encrypted: Vec<u8>,
    /// The provider's id of the wrapping key (a KMS key ARN).
    pub key_id: String,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataKey")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyProviderError {
    /// The provider refused the encrypted key for this context.
    #[error("the key provider refused to decrypt the data key")]
    InvalidCiphertext,
    /// The provider could not be reached or failed; retrying may help.
    #[error("the key provider is unavailable")]
    Unavailable(#[source] BoxError),
}

/// Issues and unwraps data keys bound to an encryption context: the seam
/// between envelope encryption and KMS (or an in-memory key in tests).
#[async_trait]
pub trait KeyProvider: Send + Sync {
    async fn generate_data_key(
        &self,
        context: &BTreeMap<String, String>,
    ) -> Result<DataKey, KeyProviderError>;

    async fn decrypt_data_key(
        &self,
        encrypted: &[u8],
        key_id: &str,
        context: &BTreeMap<String, String>,
    ) -> Result<Zeroizing<[u8; 32]>, KeyProviderError>;
}
