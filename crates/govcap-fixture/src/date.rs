//! Civil dates without a clock: enough to print item dates relative to `as_of`.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    /// Parses `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<Date> {
        let mut it = s.trim().splitn(3, '-');
        let year = it.next()?.parse().ok()?;
        let month = it.next()?.parse().ok()?;
        let day = it.next()?.get(..2)?.parse().ok()?;
        let d = Date { year, month, day };
        (Date::from_days(d.days()) == d).then_some(d)
    }

    /// Days since 1970-01-01 (H. Hinnant's algorithm).
    pub fn days(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
    }

    pub fn from_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        Date {
            year: (yoe + era * 400 + i64::from(month <= 2)) as i32,
            month,
            day,
        }
    }

    pub fn add_days(self, n: i64) -> Date {
        Date::from_days(self.days() + n)
    }

    /// The date in one of the CMS styles: 0 `2026-11-20`, 1 `[2026-11-20]`, 2 `2026/11/20`,
    /// 3 `2026年11月20日`.
    pub fn styled(self, style: u8) -> String {
        match style {
            1 => format!("[{self}]"),
            2 => format!("{}/{:02}/{:02}", self.year, self.month, self.day),
            3 => format!("{}年{}月{}日", self.year, self.month, self.day),
            _ => self.to_string(),
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_styles() {
        let d = Date::parse("2026-11-27").unwrap();
        assert_eq!(d.days(), 20_784);
        assert_eq!(d.add_days(-27).to_string(), "2026-10-31");
        assert_eq!(d.add_days(-365).to_string(), "2025-11-27");
        assert_eq!(d.styled(3), "2026年11月27日");
        assert!(Date::parse("2026-02-30").is_none());
    }
}
