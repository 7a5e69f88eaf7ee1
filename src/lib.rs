//! `report`: CLI telemetry in object storage → Parquet warehouse → SQL → static HTML reports.
//!
//! One module per pipeline stage; see ARCHITECTURE.md.

pub mod chart;
pub mod check;
pub mod cli;
pub mod config;
pub mod definition;
pub mod diff;
pub mod expect;
pub mod formats;
pub mod init;
pub mod messages;
pub mod output;
pub mod pipeline;
pub mod privacy;
pub mod problem;
pub mod project;
pub mod pull;
pub mod query;
pub mod serve;
pub mod site;
pub mod store;
pub mod warehouse;
