//! Calendar dates as government CMSs print them (`2026-11-20`, `2026/11/20`, `2026.11.20`,
//! `2026年11月20日`), day arithmetic without a clock, and the percentile the checks report.
//!
//! Hand-written rather than a date crate because the checks only need civil dates, day
//! differences and one lenient scanner, and must stay pure (no clock, no time zone).

use std::fmt;

/// A proleptic Gregorian calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    /// A valid date, or `None` (Feb 30, month 13 …).
    pub fn new(year: i32, month: u32, day: u32) -> Option<Self> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date { year, month, day })
    }

    /// Parses `YYYY-MM-DD` (the `--as-of` form); anything after the date (a time) is ignored.
    pub fn parse_iso(s: &str) -> Option<Self> {
        let s = s.trim();
        let b = s.as_bytes();
        if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let y = s.get(0..4)?.parse().ok()?;
        let m = s.get(5..7)?.parse().ok()?;
        let d = s.get(8..10)?.parse().ok()?;
        Date::new(y, m, d)
    }

    /// Days since 1970-01-01 (negative before), after H. Hinnant's `days_from_civil`.
    pub fn days_since_epoch(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01 (inverse of [`Date::days_since_epoch`]).
    pub fn from_days_since_epoch(days: i64) -> Self {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    /// Whole days from `self` to `later` (negative when `later` is earlier).
    pub fn days_until(self, later: Date) -> i64 {
        later.days_since_epoch() - self.days_since_epoch()
    }

    /// The date `n` days later (earlier when negative).
    pub fn add_days(self, n: i64) -> Self {
        Date::from_days_since_epoch(self.days_since_epoch() + n)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Reads 1–`max` ASCII digits starting at `chars[i]`; returns the number and the next index.
fn digits(chars: &[char], i: usize, max: usize) -> Option<(u32, usize)> {
    let mut n = 0u32;
    let mut j = i;
    while j < chars.len() && j - i < max && chars[j].is_ascii_digit() {
        n = n * 10 + chars[j].to_digit(10).unwrap_or(0);
        j += 1;
    }
    // A longer digit run (e.g. a phone number) is not a date part.
    if j == i || (j < chars.len() && chars[j].is_ascii_digit()) {
        return None;
    }
    Some((n, j))
}

/// Tries to read a date at `chars[i]`: `20YY` then `-`, `/`, `.` or `年`, the month, the same
/// kind of separator (`月` after `年`), the day, and an optional `日`.
fn date_at(chars: &[char], i: usize) -> Option<(Date, usize)> {
    if i > 0 && chars[i - 1].is_ascii_digit() {
        return None;
    }
    if chars.get(i) != Some(&'2') || chars.get(i + 1) != Some(&'0') {
        return None;
    }
    let (y, j) = digits(chars, i, 4)?;
    if j != i + 4 {
        return None;
    }
    let sep = *chars.get(j)?;
    let second = match sep {
        '-' | '/' | '.' => sep,
        '年' => '月',
        _ => return None,
    };
    let (m, k) = digits(chars, j + 1, 2)?;
    if chars.get(k) != Some(&second) {
        return None;
    }
    let (d, mut end) = digits(chars, k + 1, 2)?;
    if chars.get(end) == Some(&'日') {
        end += 1;
    }
    Date::new(y as i32, m, d).map(|date| (date, end))
}

/// Every date in `text`, in order of appearance (years 2000–2099 only, so `1970-01-01`
/// defaults and phone numbers are never read as dates).
pub fn find_dates(text: &str) -> Vec<Date> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if let Some((d, end)) = date_at(&chars, i) {
            out.push(d);
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

/// The first date in `text`.
pub fn first_date(text: &str) -> Option<Date> {
    let chars: Vec<char> = text.chars().collect();
    (0..chars.len()).find_map(|i| date_at(&chars, i).map(|(d, _)| d))
}

/// The date printed right after one of `labels` (e.g. `提交时间：2026-11-20 10:30`), allowing
/// up to six separator characters (colons, spaces, brackets) between label and date.
pub fn date_after_label(text: &str, labels: &[&str]) -> Option<Date> {
    for label in labels {
        let mut from = 0;
        while let Some(pos) = text[from..].find(label) {
            if let Some(d) = leading_date(&text[from + pos + label.len()..]) {
                return Some(d);
            }
            from += pos + label.len();
        }
    }
    None
}

/// A date at the start of `rest`, after at most six separator characters (colons, spaces,
/// brackets): what follows a label such as `提交时间`.
pub fn leading_date(rest: &str) -> Option<Date> {
    let chars: Vec<char> = rest.chars().take(24).collect();
    let start = chars
        .iter()
        .position(|c| {
            !matches!(
                c,
                ':' | '：' | ' ' | '\u{a0}' | '\u{3000}' | '[' | '【' | '(' | '（'
            )
        })
        .unwrap_or(chars.len());
    if start > 6 {
        return None;
    }
    date_at(&chars, start).map(|(d, _)| d)
}

/// The `p`-th percentile (0–100) by linear interpolation between closest ranks (type 7,
/// numpy's default), so reported p90s can be reproduced with `numpy.percentile`.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let h = (sorted.len() - 1) as f64 * p / 100.0;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> Date {
        Date::new(y, m, day).unwrap()
    }

    #[test]
    fn epoch_days_round_trip_and_known_values() {
        assert_eq!(d(1970, 1, 1).days_since_epoch(), 0);
        assert_eq!(d(2000, 3, 1).days_since_epoch(), 11_017);
        assert_eq!(d(2026, 11, 27).days_since_epoch(), 20_784);
        for n in [-1000, 0, 59, 11_016, 20_784, 40_000] {
            assert_eq!(Date::from_days_since_epoch(n).days_since_epoch(), n);
        }
        assert_eq!(d(2024, 2, 28).add_days(1), d(2024, 2, 29));
        assert_eq!(d(2026, 11, 13).days_until(d(2026, 11, 27)), 14);
        assert!(Date::new(2026, 2, 29).is_none());
    }

    #[test]
    fn finds_cms_date_forms_and_skips_non_dates() {
        let t = "要闻 2026-11-20 通知2026/1/5，公告 2025.12.31 于2026年3月8日发布 电话 020261120 1970-01-01";
        assert_eq!(
            find_dates(t),
            vec![
                d(2026, 11, 20),
                d(2026, 1, 5),
                d(2025, 12, 31),
                d(2026, 3, 8)
            ]
        );
        assert_eq!(find_dates("2026-13-01 2026-02-30 2026-11"), vec![]);
        assert_eq!(find_dates("2026年11月"), vec![]);
    }

    #[test]
    fn reads_the_date_after_a_label() {
        let t = "标题 提交时间：2026-10-01 09:12 回复时间: 2026-10-15";
        assert_eq!(date_after_label(t, &["提交时间"]), Some(d(2026, 10, 1)));
        assert_eq!(
            date_after_label(t, &["答复时间", "回复时间"]),
            Some(d(2026, 10, 15))
        );
        assert_eq!(date_after_label("回复时间：—", &["回复时间"]), None);
    }

    #[test]
    fn percentile_matches_numpy_linear() {
        // numpy.percentile([1, 2, 4, 7, 30], [50, 90]) == [4.0, 20.8]
        let v = [1.0, 2.0, 4.0, 7.0, 30.0];
        assert_eq!(percentile(&v, 50.0), Some(4.0));
        assert!((percentile(&v, 90.0).unwrap() - 20.8).abs() < 1e-9);
        assert_eq!(percentile(&[], 50.0), None);
    }
}
