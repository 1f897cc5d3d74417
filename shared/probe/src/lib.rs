//! The [`SourceProbe`] of sluice: one module per source kind, each reaching
//! the source with its settings and opened secrets, bounded in time
//! ([`TIME_BOUND`]), and never putting a secret into a check message, an
//! error or a log line.

use std::time::Duration;

use async_trait::async_trait;
use sluice_domain::model::discovery::{
    ConnectionReport, ObjectDescription, ObjectPage, ObjectQuery, RowCount, TableColumn, TableSpec,
};
use sluice_domain::ports::{DiscoveryError, SourceProbe};
use sluice_domain::{Secrets, Source, SourceKind};

/// The DDL of target tables (PostgreSQL, MySQL/MariaDB).
mod ddl;
pub mod filesystem;
pub mod kafka;
mod listing;
pub mod mysql;
pub mod postgres;
/// Helpers both SQL probes share.
mod sql;

/// How long one probe call may take in all: a form waits for it.
pub const TIME_BOUND: Duration = Duration::from_secs(5);
/// How long counting a table's rows may take (`validate: count`): the
/// reconciler waits for it, within the discovery function's 20 s.
pub const COUNT_TIME_BOUND: Duration = Duration::from_secs(15);

/// Probes every source kind.
#[derive(Debug, Clone, Default)]
pub struct DirectProbe;

#[async_trait]
impl SourceProbe for DirectProbe {
    async fn test(&self, source: &Source, secrets: &Secrets) -> ConnectionReport {
        match source.kind {
            SourceKind::Postgres => postgres::test(source, secrets).await,
            SourceKind::Mysql => mysql::test(source, secrets).await,
            SourceKind::Kafka => kafka::test(source, secrets).await,
            SourceKind::Filesystem => filesystem::test(source, secrets).await,
        }
    }

    async fn list(
        &self,
        source: &Source,
        secrets: &Secrets,
        query: &ObjectQuery,
    ) -> Result<ObjectPage, DiscoveryError> {
        match source.kind {
            SourceKind::Postgres => postgres::list(source, secrets, query).await,
            SourceKind::Mysql => mysql::list(source, secrets, query).await,
            SourceKind::Kafka => kafka::list(source, secrets, query).await,
            SourceKind::Filesystem => filesystem::list(source, secrets, query).await,
        }
    }

    async fn describe(
        &self,
        source: &Source,
        secrets: &Secrets,
        name: &str,
    ) -> Result<Option<ObjectDescription>, DiscoveryError> {
        match source.kind {
            SourceKind::Postgres => postgres::describe(source, secrets, name).await,
            SourceKind::Mysql => mysql::describe(source, secrets, name).await,
            SourceKind::Kafka => kafka::describe(source, secrets, name).await,
            SourceKind::Filesystem => filesystem::describe(source, secrets, name).await,
        }
    }

    async fn describe_many(
        &self,
        source: &Source,
        secrets: &Secrets,
        names: &[String],
    ) -> Result<Vec<Option<ObjectDescription>>, DiscoveryError> {
        match source.kind {
            SourceKind::Postgres => postgres::describe_many(source, secrets, names).await,
            SourceKind::Mysql => mysql::describe_many(source, secrets, names).await,
            SourceKind::Kafka | SourceKind::Filesystem => {
                let mut out = Vec::with_capacity(names.len());
                for name in names {
                    out.push(self.describe(source, secrets, name).await?);
                }
                Ok(out)
            }
        }
    }

    async fn create_table(
        &self,
        source: &Source,
        secrets: &Secrets,
        table: &TableSpec,
    ) -> Result<bool, DiscoveryError> {
        match source.kind {
            SourceKind::Postgres => postgres::create_table(source, secrets, table).await,
            SourceKind::Mysql => mysql::create_table(source, secrets, table).await,
            SourceKind::Kafka | SourceKind::Filesystem => Err(no_tables(source.kind)),
        }
    }

    async fn add_columns(
        &self,
        source: &Source,
        secrets: &Secrets,
        object: &str,
        columns: &[TableColumn],
    ) -> Result<Vec<String>, DiscoveryError> {
        match source.kind {
            SourceKind::Postgres => postgres::add_columns(source, secrets, object, columns).await,
            SourceKind::Mysql => mysql::add_columns(source, secrets, object, columns).await,
            SourceKind::Kafka | SourceKind::Filesystem => Err(no_tables(source.kind)),
        }
    }

    async fn count_rows(
        &self,
        source: &Source,
        secrets: &Secrets,
        counts: &[RowCount],
    ) -> Result<Vec<u64>, DiscoveryError> {
        match source.kind {
            SourceKind::Postgres => postgres::count_rows(source, secrets, counts).await,
            SourceKind::Mysql => mysql::count_rows(source, secrets, counts).await,
            SourceKind::Kafka | SourceKind::Filesystem => Err(no_tables(source.kind)),
        }
    }
}

/// Topics and files have no tables to create or extend.
fn no_tables(kind: SourceKind) -> DiscoveryError {
    DiscoveryError::Invalid {
        field: "kind",
        reason: format!("a {} source has no tables", kind.as_str()),
    }
}
