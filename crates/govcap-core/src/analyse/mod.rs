//! Analyses of a scored year (and of two years): the figures the blue book publishes.

pub mod disparity;
pub mod stats;
