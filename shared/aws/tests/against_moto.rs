//! The adapters against moto's DynamoDB and KMS. Run through `make test`,
//! which starts moto, creates the table and key, and un-ignores these.

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use serde_json::json;
use sluice_aws::{DynamoSourceRepository, KmsKeyProvider};
use sluice_crypto::{EnvelopeSealer, KeyProvider, KeyProviderError};
use sluice_domain::ports::{RepositoryError, SealError, SecretSealer, SourceRepository};
use sluice_domain::{EncryptionContext, SealedSecrets, Source, SourceId, SourceKind, TenantId};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run `make test`"))
}

async fn aws() -> aws_config::SdkConfig {
    aws_config::load_from_env().await
}

fn fresh_tenant() -> TenantId {
    TenantId::parse(&format!(
        "moto-{}",
        ulid::Ulid::new().to_string().to_lowercase()
    ))
    .unwrap()
}

fn source(tenant: &TenantId) -> Source {
    let at = Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap();
    Source {
        id: SourceId::generate(),
        tenant: tenant.clone(),
        name: "orders".into(),
        kind: SourceKind::Postgres,
        config: json!({"host": "db", "port": 5432, "database": "shop", "username": "etl"})
            .as_object()
            .unwrap()
            .clone(),
        secret_fields: vec!["password".into()],
        sealed_secrets: Some(SealedSecrets {
            ciphertext: vec![0, 1, 2, 255],
            nonce: vec![7; 12],
            encrypted_data_key: vec![9; 40],
            key_id: "arn:aws:kms:us-east-1:123456789012:key/x".into(),
            algorithm: "AES_256_GCM".into(),
        }),
        secrets_updated_at: Some(at),
        version: 1,
        created_at: at,
        updated_at: at,
    }
}

async fn repository() -> DynamoSourceRepository {
    DynamoSourceRepository::new(
        aws_sdk_dynamodb::Client::new(&aws().await),
        env("SLUICE_TABLE"),
    )
}

#[tokio::test]
#[ignore = "needs moto: run `make test`"]
async fn repository_round_trips_every_field() {
    let repo = repository().await;
    let tenant = fresh_tenant();
    let src = source(&tenant);
    repo.insert(&src).await.unwrap();
    assert_eq!(repo.get(&tenant, &src.id).await.unwrap(), Some(src.clone()));
    assert!(matches!(
        repo.insert(&src).await,
        Err(RepositoryError::AlreadyExists)
    ));

    let mut without_secrets = source(&tenant);
    without_secrets.sealed_secrets = None;
    without_secrets.secrets_updated_at = None;
    without_secrets.secret_fields = vec![];
    repo.insert(&without_secrets).await.unwrap();
    assert_eq!(
        repo.get(&tenant, &without_secrets.id).await.unwrap(),
        Some(without_secrets)
    );
}

#[tokio::test]
#[ignore = "needs moto: run `make test`"]
async fn repository_writes_are_conditional_on_version() {
    let repo = repository().await;
    let tenant = fresh_tenant();
    let mut src = source(&tenant);
    repo.insert(&src).await.unwrap();

    src.version = 2;
    src.name = "renamed".into();
    repo.update(&src, 1).await.unwrap();
    // A writer still holding version 1 loses, and learns the current one.
    let mut stale = src.clone();
    stale.version = 2;
    stale.name = "lost update".into();
    assert!(matches!(
        repo.update(&stale, 1).await,
        Err(RepositoryError::VersionMismatch { current: 2 })
    ));
    assert_eq!(
        repo.get(&tenant, &src.id).await.unwrap().unwrap().name,
        "renamed"
    );

    assert!(matches!(
        repo.delete(&tenant, &src.id, Some(1)).await,
        Err(RepositoryError::VersionMismatch { current: 2 })
    ));
    repo.delete(&tenant, &src.id, Some(2)).await.unwrap();
    assert!(matches!(
        repo.delete(&tenant, &src.id, None).await,
        Err(RepositoryError::NotFound)
    ));
    assert!(matches!(
        repo.update(&src, 2).await,
        Err(RepositoryError::NotFound)
    ));
}

#[tokio::test]
#[ignore = "needs moto: run `make test`"]
async fn repository_lists_one_tenant_in_pages() {
    let repo = repository().await;
    let tenant = fresh_tenant();
    let other = fresh_tenant();
    let mut ids = Vec::new();
    for _ in 0..5 {
        let s = source(&tenant);
        repo.insert(&s).await.unwrap();
        ids.push(s.id);
        repo.insert(&source(&other)).await.unwrap();
    }
    ids.sort();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = repo.list(&tenant, 2, after.as_ref()).await.unwrap();
        assert!(page.items.iter().all(|s| s.tenant == tenant));
        seen.extend(page.items.iter().map(|s| s.id.clone()));
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, ids);
}

fn kms_sealer(client: aws_sdk_kms::Client) -> EnvelopeSealer<KmsKeyProvider> {
    EnvelopeSealer::new(KmsKeyProvider::new(client, env("SLUICE_KMS_ALIAS")))
}

#[tokio::test]
#[ignore = "needs moto: run `make test`"]
async fn kms_envelope_round_trip_and_binding() {
    let client = aws_sdk_kms::Client::new(&aws().await);
    let sealer = kms_sealer(client.clone());
    let tenant = fresh_tenant();
    let id = SourceId::generate();
    let context = EncryptionContext::for_source(&tenant, &id);
    let secret = br#"{"password":"canary-kms"}"#;

    let sealed = sealer.seal(&context, secret).await.unwrap();
    assert!(sealed.key_id.starts_with("arn:aws:kms:"));
    assert_eq!(
        &sealed_open(&sealer, &context, &sealed).await.unwrap()[..],
        secret
    );
    let again = sealer.seal(&context, secret).await.unwrap();
    assert_ne!(again.ciphertext, sealed.ciphertext);
    assert_ne!(again.encrypted_data_key, sealed.encrypted_data_key);

    // Moved to another source or tenant: refused.
    for wrong in [
        EncryptionContext::for_source(&tenant, &SourceId::generate()),
        EncryptionContext::for_source(&fresh_tenant(), &id),
    ] {
        assert!(matches!(
            sealed_open(&sealer, &wrong, &sealed).await,
            Err(SealError::Tampered)
        ));
    }
    // A flipped bit in the encrypted data key: refused by KMS.
    let mut bad = sealed.clone();
    let last = bad.encrypted_data_key.len() - 1;
    bad.encrypted_data_key[last] ^= 1;
    assert!(matches!(
        sealed_open(&sealer, &context, &bad).await,
        Err(SealError::Tampered)
    ));
}

async fn sealed_open(
    sealer: &EnvelopeSealer<KmsKeyProvider>,
    context: &EncryptionContext,
    sealed: &SealedSecrets,
) -> Result<zeroize::Zeroizing<Vec<u8>>, SealError> {
    sealer.open(context, sealed).await
}

/// KMS itself, not only AES-GCM's AAD, enforces the encryption context.
#[tokio::test]
#[ignore = "needs moto: run `make test`"]
async fn kms_refuses_a_data_key_under_another_context() {
    let keys = KmsKeyProvider::new(
        aws_sdk_kms::Client::new(&aws().await),
        env("SLUICE_KMS_ALIAS"),
    );
    let context = BTreeMap::from([("tenant".to_owned(), "a".to_owned())]);
    let data_key = keys.generate_data_key(&context).await.unwrap();
    let back = keys
        .decrypt_data_key(&data_key.encrypted, &data_key.key_id, &context)
        .await
        .unwrap();
    assert_eq!(*back, *data_key.plaintext);
    let other = BTreeMap::from([("tenant".to_owned(), "b".to_owned())]);
    assert!(matches!(
        keys.decrypt_data_key(&data_key.encrypted, &data_key.key_id, &other)
            .await,
        Err(KeyProviderError::InvalidCiphertext)
    ));
}
