//! What sluice is about: sources, jobs, schedules and runs, with the rules
//! that keep each valid. No port and no service is imported here.

pub mod catalog;
pub mod discovery;
pub mod job;
pub mod run;
pub mod schedule;
pub mod secrets;
pub mod source;
pub mod tenant;
pub mod trigger_event;
pub mod validation;
