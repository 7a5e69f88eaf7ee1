//! The one integration-test binary: the fixture project end to end, the pull against a
//! counting store, quarantine, determinism, and the real binary's CLI.

mod adopt;
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
mod privacy;
mod publish;
mod pull;
mod robust;
mod serve;
mod servers;
