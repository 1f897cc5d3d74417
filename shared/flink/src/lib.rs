//! Flink adapters.
