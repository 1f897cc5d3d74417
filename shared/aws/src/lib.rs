//! Adapters from sluice's ports to AWS: DynamoDB for records, KMS for keys.

pub mod dynamo;
pub mod dynamo_jobs;
pub mod dynamo_runs;
pub mod kms;
pub mod lambda;

pub use dynamo::DynamoSourceRepository;
pub use dynamo_jobs::DynamoJobRepository;
pub use dynamo_runs::DynamoRunRepository;
pub use kms::KmsKeyProvider;
pub use lambda::LambdaTriggerInvoker;
