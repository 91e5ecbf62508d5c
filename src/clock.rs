//! The only place the CLI reads the time: run records get a creation time, results never do.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now as RFC 3339 UTC, e.g. `2026-11-27T20:40:00Z`.
pub fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    rfc3339(secs)
}

pub use govcap_core::timefmt::rfc3339;

#[cfg(test)]
mod tests {
    #[test]
    fn formats_known_instants() {
        assert_eq!(super::rfc3339(1_795_811_696), "2026-11-27T20:34:56Z");
    }
}
