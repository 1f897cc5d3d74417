//! The jobs function: the HTTP API of sync jobs and their SQL preview.
//! `main.rs` wires AWS clients into [`router`]; everything here runs without
//! AWS, so the routes are unit-tested with in-memory ports.

pub mod config;
mod routes;
mod views;

pub use routes::router;
