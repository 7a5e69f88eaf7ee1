//! `report`: CLI telemetry in object storage → Parquet warehouse → SQL → static HTML reports.
//!
//! One module per pipeline stage; see the README's architecture section.

pub mod chart;
pub mod check;
pub mod cli;
pub mod config;
pub mod definition;
pub mod diff;
pub mod expect;
pub mod generate;
pub mod pipeline;
pub mod pull;
pub mod query;
pub mod site;
pub mod warehouse;
