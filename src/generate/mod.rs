//! `report generate`: realistic telemetry objects in the real bucket layouts, for fixtures,
//! demos and benchmarks. One file per source format; the same options and seed give the same
//! bytes.

pub mod abacus;

pub use abacus::{Object, Options, Rng, generate, invalid, truth, write};
