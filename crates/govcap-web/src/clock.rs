//! The server's clock: session expiry, audit times and throttling read it here only.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// RFC 3339 UTC of now plus `offset` (negative: in the past).
pub fn rfc3339_in(offset: Duration, past: bool) -> String {
    let o = offset.as_secs() as i64;
    govcap_core::timefmt::rfc3339(if past { now_secs() - o } else { now_secs() + o })
}

pub fn now() -> String {
    govcap_core::timefmt::rfc3339(now_secs())
}
