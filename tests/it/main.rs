//! The one integration-test binary: the fixture project end to end, the pull against a
//! counting store, quarantine, determinism, and the real binary's CLI.

mod architecture;
mod charts;
mod check;
mod cli;
mod common;
mod crash;
mod dashboards;
mod diff;
mod formats;
mod pipeline;
mod publish;
mod pull;
mod servers;
