//! Adapters from sluice's ports to AWS: DynamoDB for records, KMS for keys.

pub mod dynamo;
pub mod kms;

pub use dynamo::DynamoSourceRepository;
pub use kms::KmsKeyProvider;
