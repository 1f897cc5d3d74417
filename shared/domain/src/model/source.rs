use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::{SealedSecrets, TenantId};

pub use crate::model::ids::SourceId;

/// The kinds of data source sluice can connect to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    Postgres,
    /// MySQL and the wire-compatible MariaDB and TiDB.
    Mysql,
    Kafka,
    /// Files under an `s3://` prefix or a local path.
    Filesystem,
}

impl SourceKind {
    pub const ALL: [SourceKind; 4] = [
        SourceKind::Postgres,
        SourceKind::Mysql,
        SourceKind::Kafka,
        SourceKind::Filesystem,
    ];

    /// A database whose objects have columns to discover (tables, views);
    /// a topic or a file declares its columns in the job.
    pub fn has_schema(self) -> bool {
        matches!(self, SourceKind::Postgres | SourceKind::Mysql)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Postgres => "postgres",
            SourceKind::Mysql => "mysql",
            SourceKind::Kafka => "kafka",
            SourceKind::Filesystem => "filesystem",
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SourceKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SourceKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = SourceKind::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown kind; expected one of {}", known.join(", "))
            })
    }
}

/// A registered data source. `config` holds the validated, non-secret
/// settings (defaults applied); secret values exist only sealed.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub id: SourceId,
    pub tenant: TenantId,
    pub name: String,
    pub kind: SourceKind,
    pub config: Map<String, Value>,
    /// Names of the secret fields that are set, e.g. `["password"]`.
    pub secret_fields: Vec<String>,
    pub sealed_secrets: Option<SealedSecrets>,
    pub secrets_updated_at: Option<DateTime<Utc>>,
    /// Starts at 1, grows by one per update: the optimistic-concurrency token.
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Source {
    /// The next version of this source with a new name and config.
    pub fn revised(&self, name: String, config: Map<String, Value>, now: DateTime<Utc>) -> Self {
        let mut next = self.clone();
        next.name = name;
        next.config = config;
        next.version = self.version + 1;
        next.updated_at = now;
        next
    }

    /// Replaces the secrets (`None` when the new set is empty).
    pub fn replace_secrets(
        &mut self,
        sealed: Option<SealedSecrets>,
        names: Vec<String>,
        now: DateTime<Utc>,
    ) {
        self.secrets_updated_at = sealed.as_ref().map(|_| now);
        self.sealed_secrets = sealed;
        self.secret_fields = names;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_back() {
        let id = SourceId::generate();
        assert_eq!(SourceId::parse(id.as_str()), Some(id));
    }

    #[test]
    fn foreign_ids_are_refused() {
        for raw in [
            "",
            "src_",
            "01J0000000000000000000000A",
            "job_01J0000000000000000000000A",
            "src_01j0000000000000000000000a",
            "src_01J0000000000000000000000A'",
            "src_../../etc",
        ] {
            assert_eq!(SourceId::parse(raw), None, "{raw}");
        }
    }

    #[test]
    fn kinds_parse_by_name_only() {
        assert_eq!("mysql".parse::<SourceKind>(), Ok(SourceKind::Mysql));
        assert!("MySQL".parse::<SourceKind>().is_err());
        assert!("oracle".parse::<SourceKind>().is_err());
    }
}
