//! `report generate`: realistic telemetry objects in the real bucket layouts, for fixtures,
//! demos and benchmarks. One file per source format; the same options and seed give the same
//! bytes.

pub mod abacus;
pub mod devstack;
pub mod go_telemetry;
pub mod pace;

pub use abacus::{Object, Options, Rng, generate, invalid, truth, write};

/// Valid objects of `format` (`--format`); `opts.sessions` is the number of sessions, reports,
/// installs or runs.
pub fn generate_format(format: crate::config::Format, opts: &Options) -> Vec<Object> {
    use crate::config::Format;
    match format {
        Format::Abacus => abacus::generate(opts),
        Format::GoTelemetry => go_telemetry::generate(opts),
        Format::Pace => pace::generate(opts),
        Format::Devstack => devstack::generate(opts),
    }
}
