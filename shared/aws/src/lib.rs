//! Adapters from sluice's ports to AWS: DynamoDB for records, KMS for keys.

pub mod dynamo;
pub mod dynamo_jobs;
pub mod dynamo_runs;
pub mod kms;

pub use dynamo::DynamoSourceRepository;
pub use dynamo_jobs::DynamoJobRepository;
pub use kms::KmsKeyProvider;
