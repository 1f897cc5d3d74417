//! The DynamoDB repository of runs.
