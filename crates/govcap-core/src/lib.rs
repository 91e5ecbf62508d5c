//! govcap's functional core.
//!
//! The model (units, framework, observations) and the engine (score, impute, treat, normalise,
//! aggregate, classify, analyse) live here as plain data and pure functions. Nothing in this
//! crate reads files, talks to a database or the network, or looks at the clock: the same
//! inputs always give the same outputs, which is what makes a recorded run reproducible.

pub mod access;
pub mod analyse;
pub mod audit;
pub mod campaign;
pub mod classify;
pub mod engine;
pub mod evaluate;
pub mod framework;
pub mod intern;
pub mod observation;
pub mod tiers;
pub mod timefmt;
pub mod unit;
pub mod vocab;
