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

/// The configuration the functions build their clients from: DynamoDB and
/// KMS share one HTTP client, whose connector the first request builds.
async fn aws() -> aws_config::SdkConfig {
    sluice_aws::config::load().await
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

mod jobs {
    use super::*;
    use sluice_aws::DynamoJobRepository;
    use sluice_domain::model::job::{Job, JobId, JobSpec};
    use sluice_domain::ports::JobRepository;

    async fn repositories() -> (DynamoSourceRepository, DynamoJobRepository) {
        let client = aws_sdk_dynamodb::Client::new(&aws().await);
        (
            DynamoSourceRepository::new(client.clone(), env("SLUICE_TABLE")),
            DynamoJobRepository::new(client, env("SLUICE_TABLE")),
        )
    }

    fn job(tenant: &TenantId, source: &SourceId, target: &SourceId) -> Job {
        let spec: JobSpec = serde_json::from_value(json!({
            "name": "copy",
            "source": {"source_id": source.as_str(), "object": "public.orders",
                       "columns": [{"name": "id", "type": "BIGINT"}],
                       "incremental": {"column": "id", "start": "2026-01-01T00:00:00Z", "lag_seconds": 30}},
            "target": {"source_id": target.as_str(), "object": "orders", "write_mode": "upsert",
                       "primary_key": ["id"]},
            "mapping": [{"target": "id", "expr": "id + 1", "type": "BIGINT"}],
            "options": {"mode": "batch", "parallelism": 2, "fetch_size": 1000},
            "flink_target": "session"
        }))
        .unwrap();
        let at = Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap();
        Job {
            id: JobId::generate(),
            tenant: tenant.clone(),
            spec,
            source_id: source.clone(),
            target_id: target.clone(),
            source_snapshot: None,
            version: 1,
            created_at: at,
            updated_at: at,
        }
    }

    #[tokio::test]
    #[ignore = "needs moto: run `make test`"]
    async fn jobs_round_trip_and_pin_their_sources() {
        let (sources, jobs) = repositories().await;
        let tenant = fresh_tenant();
        let (a, b, c) = (source(&tenant), source(&tenant), source(&tenant));
        for s in [&a, &b, &c] {
            sources.insert(s).await.unwrap();
        }
        let j = job(&tenant, &a.id, &b.id);
        jobs.insert(&j).await.unwrap();
        assert_eq!(jobs.get(&tenant, &j.id).await.unwrap(), Some(j.clone()));
        assert!(matches!(
            jobs.insert(&j).await,
            Err(RepositoryError::AlreadyExists)
        ));

        // Both endpoints are pinned.
        for s in [&a, &b] {
            assert!(matches!(
                sources.delete(&tenant, &s.id, None).await,
                Err(RepositoryError::InUse { jobs: 1 })
            ));
        }
        // Moving the target to c releases b and pins c, atomically.
        let mut moved = j.clone();
        moved.target_id = c.id.clone();
        moved.version = 2;
        jobs.update(&moved, &j).await.unwrap();
        assert!(matches!(
            jobs.update(&moved, &j).await,
            Err(RepositoryError::VersionMismatch { current: 2 })
        ));
        sources.delete(&tenant, &b.id, None).await.unwrap();
        assert!(sources.delete(&tenant, &c.id, None).await.is_err());

        assert!(matches!(
            jobs.delete(&tenant, &j.id, Some(1)).await,
            Err(RepositoryError::VersionMismatch { current: 2 })
        ));
        jobs.delete(&tenant, &j.id, Some(2)).await.unwrap();
        sources.delete(&tenant, &a.id, None).await.unwrap();
        sources.delete(&tenant, &c.id, None).await.unwrap();
        assert!(matches!(
            jobs.delete(&tenant, &j.id, None).await,
            Err(RepositoryError::NotFound)
        ));
    }

    #[tokio::test]
    #[ignore = "needs moto: run `make test`"]
    async fn a_job_of_500_tables_with_50_columns_each_round_trips() {
        let (sources, jobs) = repositories().await;
        let tenant = fresh_tenant();
        let a = source(&tenant);
        sources.insert(&a).await.unwrap();
        let column = |i: usize| {
            json!({"name": format!("column_{i} 名"), "native_type": "numeric(12,2)", "nullable": true,
                   "primary_key_position": null,
                   "proposal": {"status": "supported", "flink_type": "DECIMAL(12, 2)"}})
        };
        let tables: Vec<serde_json::Value> = (0..500)
            .map(|t| {
                json!({"source": format!("public.table_{t:03}"), "target": format!("table_{t:03}"),
                       "columns": (0..50).map(|i| json!({"name": format!("column_{i} 名"), "type": "DECIMAL(12, 2)"})).collect::<Vec<_>>(),
                       "snapshot": (0..50).map(column).collect::<Vec<_>>()})
            })
            .collect();
        let mut j = job(&tenant, &a.id, &a.id);
        j.spec = serde_json::from_value(json!({
            "name": "500 tables",
            "source": {"source_id": a.id.as_str(), "include": {"schema": "public"}},
            "target": {"source_id": a.id.as_str(), "write_mode": "append"},
            "options": {"mode": "batch"},
            "tables": tables
        }))
        .unwrap();
        jobs.insert(&j).await.unwrap();
        let stored = jobs.get(&tenant, &j.id).await.unwrap().unwrap();
        assert_eq!(stored.spec.tables.len(), 500);
        assert_eq!(stored, j);
        jobs.delete(&tenant, &j.id, None).await.unwrap();
        sources.delete(&tenant, &a.id, None).await.unwrap();
    }

    #[tokio::test]
    #[ignore = "needs moto: run `make test`"]
    async fn a_job_cannot_reference_a_missing_source() {
        let (sources, jobs) = repositories().await;
        let tenant = fresh_tenant();
        let a = source(&tenant);
        sources.insert(&a).await.unwrap();
        let ghost = SourceId::generate();
        let j = job(&tenant, &a.id, &ghost);
        assert!(matches!(
            jobs.insert(&j).await,
            Err(RepositoryError::MissingReference)
        ));
        assert_eq!(jobs.get(&tenant, &j.id).await.unwrap(), None);
        // Nothing was counted: the source can go.
        sources.delete(&tenant, &a.id, None).await.unwrap();
    }

    #[tokio::test]
    #[ignore = "needs moto: run `make test`"]
    async fn jobs_list_in_pages() {
        let (sources, jobs) = repositories().await;
        let tenant = fresh_tenant();
        let a = source(&tenant);
        sources.insert(&a).await.unwrap();
        let mut ids = Vec::new();
        for _ in 0..3 {
            let j = job(&tenant, &a.id, &a.id);
            jobs.insert(&j).await.unwrap();
            ids.push(j.id);
        }
        ids.sort();
        let first = jobs.list(&tenant, 2, None).await.unwrap();
        let second = jobs
            .list(&tenant, 2, first.next_after.as_ref())
            .await
            .unwrap();
        let seen: Vec<_> = first
            .items
            .iter()
            .chain(&second.items)
            .map(|j| j.id.clone())
            .collect();
        assert_eq!(seen, ids);
        assert_eq!(second.next_after, None);
        // One job on both sides counts once: deleting it frees the source.
        for id in &ids {
            jobs.delete(&tenant, id, None).await.unwrap();
        }
        sources.delete(&tenant, &a.id, None).await.unwrap();
    }
}
