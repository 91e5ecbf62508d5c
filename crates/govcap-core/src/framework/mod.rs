//! The framework: the indicator tree as data.
