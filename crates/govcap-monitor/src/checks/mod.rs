//! Named checks: pure functions from a [`crate::model::SiteVisit`] to findings.
