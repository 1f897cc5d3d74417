//! In-memory implementations of the ports, for unit tests.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use zeroize::Zeroizing;

use crate::ports::{Clock, RepositoryError, SealError, SecretSealer, SourcePage, SourceRepository};
use crate::{EncryptionContext, SealedSecrets, Source, SourceId, TenantId};

/// Sources in a map keyed like the real table: (tenant, id).
#[derive(Default)]
pub struct MemorySourceRepository {
    items: Mutex<BTreeMap<(TenantId, SourceId), Source>>,
}

impl MemorySourceRepository {
    pub fn len(&self) -> usize {
        self.items.lock().unwrap().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl SourceRepository for MemorySourceRepository {
    async fn insert(&self, source: &Source) -> Result<(), RepositoryError> {
        let mut items = self.items.lock().unwrap();
        let key = (source.tenant.clone(), source.id.clone());
        if items.contains_key(&key) {
            return Err(RepositoryError::AlreadyExists);
        }
        items.insert(key, source.clone());
        Ok(())
    }

    async fn get(
        &self,
        tenant: &TenantId,
        id: &SourceId,
    ) -> Result<Option<Source>, RepositoryError> {
        let items = self.items.lock().unwrap();
        Ok(items.get(&(tenant.clone(), id.clone())).cloned())
    }

    async fn list(
        &self,
        tenant: &TenantId,
        limit: usize,
        after: Option<&SourceId>,
    ) -> Result<SourcePage, RepositoryError> {
        let items = self.items.lock().unwrap();
        let mut matching: Vec<Source> = items
            .iter()
            .filter(|((t, id), _)| t == tenant && after.is_none_or(|a| id > a))
            .map(|(_, s)| s.clone())
            .take(limit + 1)
            .collect();
        let next_after = (matching.len() > limit).then(|| {
            matching.truncate(limit);
            matching[limit - 1].id.clone()
        });
        Ok(SourcePage {
            items: matching,
            next_after,
        })
    }

    async fn update(&self, source: &Source, expected_version: u64) -> Result<(), RepositoryError> {
        let mut items = self.items.lock().unwrap();
        let key = (source.tenant.clone(), source.id.clone());
        let current = items.get(&key).ok_or(RepositoryError::NotFound)?;
        if current.version != expected_version {
            return Err(RepositoryError::VersionMismatch {
                current: current.version,
            });
        }
        items.insert(key, source.clone());
        Ok(())
    }

    async fn delete(
        &self,
        tenant: &TenantId,
        id: &SourceId,
        expected_version: Option<u64>,
    ) -> Result<(), RepositoryError> {
        let mut items = self.items.lock().unwrap();
        let key = (tenant.clone(), id.clone());
        let current = items.get(&key).ok_or(RepositoryError::NotFound)?;
        if expected_version.is_some_and(|v| v != current.version) {
            return Err(RepositoryError::VersionMismatch {
                current: current.version,
            });
        }
        items.remove(&key);
        Ok(())
    }
}

/// A sealer that records the contexts it was asked to seal under. Its
/// "ciphertext" is the plaintext reversed plus a counter, so two seals differ;
/// use `sluice-crypto` for real envelope encryption.
#[derive(Default)]
pub struct FakeSealer {
    contexts: Mutex<Vec<EncryptionContext>>,
}

impl FakeSealer {
    pub fn contexts(&self) -> Vec<EncryptionContext> {
        self.contexts.lock().unwrap().clone()
    }
}

#[async_trait]
impl SecretSealer for FakeSealer {
    async fn seal(
        &self,
        context: &EncryptionContext,
        plaintext: &[u8],
    ) -> Result<SealedSecrets, SealError> {
        let mut contexts = self.contexts.lock().unwrap();
        contexts.push(context.clone());
        Ok(SealedSecrets {
            ciphertext: plaintext.iter().rev().copied().collect(),
            nonce: (contexts.len() as u64).to_be_bytes().to_vec(),
            encrypted_data_key: context.canonical_bytes(),
            key_id: "fake".into(),
            algorithm: "FAKE".into(),
        })
    }

    async fn open(
        &self,
        context: &EncryptionContext,
        sealed: &SealedSecrets,
    ) -> Result<Zeroizing<Vec<u8>>, SealError> {
        if sealed.encrypted_data_key != context.canonical_bytes() {
            return Err(SealError::Tampered);
        }
        Ok(Zeroizing::new(
            sealed.ciphertext.iter().rev().copied().collect(),
        ))
    }
}

/// A clock stopped at one instant.
pub struct FixedClock(pub DateTime<Utc>);

impl Default for FixedClock {
    fn default() -> Self {
        Self(Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap())
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}
