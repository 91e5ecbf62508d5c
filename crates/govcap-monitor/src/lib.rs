//! govcap's monitor: automated evidence collection from government portals.

pub mod checks;
pub mod model;
