//! The evaluation engine: pure, column-oriented steps from observations to scores.
//!
//! Each step works on one column (one indicator over all units, `None` = missing) so that
//! steps compose, are testable on their own, and match COINr's stages one to one:
//! score → denominate → impute → treat → normalise → aggregate.

pub mod aggregate;
pub mod denominate;
pub mod impute;
pub mod normalise;
pub mod score;
pub mod treat;
