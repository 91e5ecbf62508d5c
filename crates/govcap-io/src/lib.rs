//! govcap's file boundary: reading unit lists and observation spreadsheets (CSV, XLSX) that
//! evaluators prepare by hand, and writing results back out.
//!
//! Import is all-or-nothing: a file either yields every observation in it or an
//! [`ImportError`] that lists every problem with its row and column, so a caller never stores
//! half of a file and evaluators can fix a whole sheet in one pass.

pub mod encoding;
pub mod error;
pub mod export;
pub mod import;
mod table;
pub mod task_sheet;
pub mod units;
mod workbook;

pub use error::{ImportError, Problem};
pub(crate) use govcap_core::engine::score::short;

/// Names under which the built-in inputs are recorded in a run (the CLI and the workspace use
/// the same, so `govcap runs rerun` re-reads either's runs the same way).
pub const BUILTIN_FRAMEWORK: &str = "builtin:govcap-default.toml";
pub const BUILTIN_UNITS: &str = "builtin:prefectures_337.csv";
pub use import::{read_observations, ImportOptions};
pub use units::{default_units, read_units};
