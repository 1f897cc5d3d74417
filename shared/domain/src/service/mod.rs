//! The use cases: each service takes its ports as required constructor
//! arguments and reads as a short sequence of port calls.

pub mod discovery;
pub mod jobs;
pub mod reports;
pub mod runs;
pub mod schedules;
pub mod sources;
pub mod trigger;
