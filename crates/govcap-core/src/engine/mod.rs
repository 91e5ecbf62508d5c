//! The evaluation engine: pure, column-oriented steps from observations to scores.

pub mod aggregate;
pub mod denominate;
pub mod impute;
pub mod normalise;
pub mod treat;
