//! Instants, the forecast at the last week's pace and the overdue reminders.

use super::*;

/// An RFC 3339 UTC instant as the workspace writes them (`2027-01-15T00:00:00Z`), so that
/// instants compare correctly as text.
pub fn check_instant(d: &str, field: &str) -> Result<(), Problem> {
    let b = d.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        r.into_iter()
            .all(|i| b.get(i).is_some_and(u8::is_ascii_digit))
    };
    let ok = b.len() == 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b[19] == b'Z';
    if ok {
        Ok(())
    } else {
        Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{field}: RFC 3339 UTC, e.g. 2027-01-15T00:00:00Z"),
        ))
    }
}

/// Where the campaign stands and when it will be done at the pace of the last seven days.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Forecast {
    /// First codings not yet confirmed.
    pub open: usize,
    pub confirmed: usize,
    /// Confirmations a day over the last seven days.
    pub per_day: f64,
    /// When the open tasks will be confirmed at that pace (none without a pace).
    pub estimated_done: Option<String>,
    pub due_at: Option<String>,
    /// The due time has passed with tasks open.
    pub overdue: bool,
    /// Due within three days with tasks open.
    pub due_soon: bool,
    /// Open first codings per evaluator, for the reminders.
    pub open_by_evaluator: std::collections::BTreeMap<String, usize>,
}

pub fn forecast(all: &[TaskView], due_at: Option<&str>, now_secs: i64) -> Forecast {
    let now = govcap_core::timefmt::rfc3339(now_secs);
    let week_ago = govcap_core::timefmt::rfc3339(now_secs - 7 * 86_400);
    let first: Vec<&TaskView> = all.iter().filter(|t| t.coder == 1).collect();
    let confirmed = first
        .iter()
        .filter(|t| t.state.status == Status::Confirmed)
        .count();
    let open = first.len() - confirmed;
    let recent = first
        .iter()
        .filter(|t| {
            t.confirmed_at
                .as_deref()
                .is_some_and(|a| a >= week_ago.as_str())
        })
        .count();
    let per_day = recent as f64 / 7.0;
    let estimated_done = (open > 0 && per_day > 0.0).then(|| {
        govcap_core::timefmt::rfc3339(now_secs + (open as f64 / per_day * 86_400.0).ceil() as i64)
    });
    let soon = govcap_core::timefmt::rfc3339(now_secs + 3 * 86_400);
    let mut open_by_evaluator = std::collections::BTreeMap::new();
    for t in all
        .iter()
        .filter(|t| !matches!(t.state.status, Status::Confirmed))
    {
        if let Some(a) = &t.state.assignee {
            if matches!(
                t.state.status,
                Status::Todo | Status::Returned | Status::Reopened
            ) {
                *open_by_evaluator.entry(a.clone()).or_insert(0) += 1;
            }
        }
    }
    Forecast {
        open,
        confirmed,
        per_day,
        estimated_done,
        due_at: due_at.map(str::to_string),
        overdue: open > 0 && due_at.is_some_and(|d| d < now.as_str()),
        due_soon: open > 0 && due_at.is_some_and(|d| d >= now.as_str() && d <= soon.as_str()),
        open_by_evaluator,
    }
}
