//! Analyses of a scored year (and of two years): the figures the blue book publishes.

pub mod compare;
pub mod disparity;
pub mod figures;
pub mod profile;
pub mod stats;
