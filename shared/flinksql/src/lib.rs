//! Renders sluice sync jobs as Flink SQL 2.2 scripts. Pure: no I/O.
//!
//! [`FlinkSqlCompiler`] implements the domain's
//! [`JobCompiler`](sluice_domain::ports::JobCompiler) port: `check` validates
//! a job against its two registered sources and names every problem by its
//! JSON path; `render` turns it into one script:
//!
//! ```text
//! SET 'execution.runtime-mode' = 'batch';
//! SET 'parallelism.default' = '1';
//! SET 'pipeline.name' = 'sluice/<job id>/<job name>';
//! SET 'pipeline.operator-chaining.enabled' = 'false';
//!
//! CREATE TEMPORARY TABLE `src` (...) WITH (...);
//!
//! CREATE TEMPORARY TABLE `dst` (...) WITH (...);
//!
//! INSERT INTO `dst` (...)
//! SELECT ...
//! FROM `src`
//! WHERE ...;
//! ```
//!
//! Everything a user typed reaches the script only through one of:
//! [`ident::quote_identifier`] for checked identifiers,
//! [`literal::string_literal`] for option values and text, [`types::FlinkType`]
//! for types, and [`expr::Expr`] (an allow-listed AST of our own) for filters
//! and mapping expressions.

pub mod compiler;
pub mod connector;
pub mod expr;
pub mod ident;
pub mod literal;
pub mod native_types;
pub mod types;

pub use compiler::{FlinkSqlCompiler, Plan};
pub use expr::FlinkDialect;
pub use types::FlinkType;
