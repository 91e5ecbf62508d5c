//! Reading an observed value under a leaf's scoring rule.
//!
//! This is the one place that decides what a cell like `是`, `85%`, `documents` or `0.7`
//! means for an indicator, so the importer (which must reject bad cells with their location)
//! and the engine (which scores them) can never disagree.

use crate::framework::Rule;
use crate::observation::Value;

/// Why a value does not fit an indicator's rule; the importer adds file, row and column.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValueError {
    #[error("{0:?} is not a yes/no value (use 1/0, yes/no, true/false, 是/否, 有/无)")]
    NotBinary(String),
    #[error("{0:?} is not a number")]
    NotNumber(String),
    #[error("{0:?} has a comma where a decimal point is expected: write 0.5, not 0,5 (a comma may only separate thousands, as in 12,345)")]
    DecimalComma(String),
    #[error("{written} is out of range for a {rule} indicator (expected {range})")]
    OutOfRange {
        /// The value as the user wrote it (`150%`, not the 1.5 it was read as).
        written: String,
        value: f64,
        rule: &'static str,
        range: &'static str,
    },
    #[error("{value:?} is not one of this indicator's levels ({levels})")]
    UnknownLevel { value: String, levels: String },
    #[error("the value is empty")]
    Empty,
}

/// Turns a raw value into the number the engine works with: the earned fraction (0–1) for
/// binary, ratio, count and graded rules; the raw number for continuous ones.
pub fn read_value(rule: &Rule, value: &Value) -> Result<f64, ValueError> {
    if let Value::Text(t) = value {
        if t.trim().is_empty() {
            return Err(ValueError::Empty);
        }
    }
    match rule {
        Rule::Binary => match value {
            Value::Number(n) if *n == 0.0 || *n == 1.0 => Ok(*n),
            Value::Number(n) => Err(ValueError::NotBinary(n.to_string())),
            Value::Text(t) => {
                let t = t.trim();
                let is = |words: &[&str]| words.iter().any(|w| w.eq_ignore_ascii_case(t));
                if is(&["yes", "y", "true", "是", "有", "√", "✓"]) {
                    Ok(1.0)
                } else if is(&["no", "n", "false", "否", "无", "×", "✗"]) {
                    Ok(0.0)
                } else {
                    Err(ValueError::NotBinary(short(t)))
                }
            }
        },
        Rule::Ratio => {
            let x = number_or_percent(value)?;
            if (0.0..=1.0).contains(&x) {
                Ok(x)
            } else {
                Err(ValueError::OutOfRange {
                    written: as_written(value),
                    value: x,
                    rule: "ratio",
                    range: "0 to 1, or a percentage such as 85%",
                })
            }
        }
        Rule::Count { cap } => {
            let x = number(value)?;
            if x < 0.0 {
                return Err(ValueError::OutOfRange {
                    written: as_written(value),
                    value: x,
                    rule: "count",
                    range: "0 or more",
                });
            }
            Ok(x.min(*cap) / cap)
        }
        Rule::Graded { levels } => {
            let found = match value {
                Value::Number(n) if n.fract() == 0.0 && *n >= 0.0 => levels.get(*n as usize),
                Value::Number(_) => None,
                Value::Text(t) => {
                    // Exact match first (no allocation on the hot path), then ASCII case-insensitive.
                    let t = t.trim();
                    levels
                        .iter()
                        .find(|l| l.key == t || l.zh == t || l.en == t)
                        .or_else(|| {
                            levels.iter().find(|l| {
                                l.key.eq_ignore_ascii_case(t) || l.en.eq_ignore_ascii_case(t)
                            })
                        })
                }
            };
            found
                .map(|l| l.fraction)
                .ok_or_else(|| ValueError::UnknownLevel {
                    value: match value {
                        Value::Number(n) => n.to_string(),
                        Value::Text(t) => short(t),
                    },
                    levels: levels
                        .iter()
                        .enumerate()
                        .map(|(i, l)| format!("{i} = {} / {}", l.key, l.zh))
                        .collect::<Vec<_>>()
                        .join(", "),
                })
        }
        Rule::Continuous => number(value),
    }
}

/// A value as the user wrote it, for messages: text quoted as typed, numbers as numbers.
fn as_written(value: &Value) -> String {
    match value {
        Value::Number(n) => n.to_string(),
        Value::Text(t) => format!("{:?}", short(t)),
    }
}

fn number(value: &Value) -> Result<f64, ValueError> {
    match value {
        Value::Number(n) => Ok(*n),
        Value::Text(t) => parse_number(t),
    }
}

/// A number as written in a cell. A comma is taken only as a thousands separator in its
/// proper place (`12,345.6`); anything else with a comma (`0,5`, `1,5`) is refused, because
/// reading it as a decimal comma or dropping the comma are both guesses that change scores.
fn parse_number(t: &str) -> Result<f64, ValueError> {
    let s = t.trim();
    if s.contains(',') {
        if !thousands_grouped(s) {
            return Err(ValueError::DecimalComma(short(s)));
        }
        return parse_number(&s.replace(',', ""));
    }
    s.parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| ValueError::NotNumber(short(t)))
}

/// `1,234`, `-12,345,678.9`: groups of three digits after the first comma.
fn thousands_grouped(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let int = s.split('.').next().unwrap_or("");
    let mut groups = int.split(',');
    let first = groups.next().unwrap_or("");
    (1..=3).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_digit())
        && groups.all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
}

/// At most 40 characters of a cell, for messages: a million-character cell must not fill
/// the terminal.
pub fn short(t: &str) -> String {
    const MAX: usize = 40;
    let t = t.trim();
    match t.char_indices().nth(MAX) {
        None => t.to_string(),
        Some((i, _)) => format!("{}… ({} characters)", &t[..i], t.chars().count()),
    }
}

fn number_or_percent(value: &Value) -> Result<f64, ValueError> {
    if let Value::Text(t) = value {
        if let Some(p) = t.trim().strip_suffix(['%', '％']) {
            return parse_number(p).map(|x| x / 100.0).map_err(|e| match e {
                ValueError::NotNumber(_) => ValueError::NotNumber(short(t)),
                other => other,
            });
        }
    }
    number(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Level;

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn binary_accepts_chinese_and_english_words() {
        assert_eq!(read_value(&Rule::Binary, &text("是")), Ok(1.0));
        assert_eq!(read_value(&Rule::Binary, &text("No")), Ok(0.0));
        assert_eq!(read_value(&Rule::Binary, &Value::Number(1.0)), Ok(1.0));
        assert!(read_value(&Rule::Binary, &Value::Number(0.5)).is_err());
        assert!(read_value(&Rule::Binary, &text("maybe")).is_err());
    }

    #[test]
    fn a_comma_is_only_a_thousands_separator() {
        assert_eq!(
            read_value(&Rule::Continuous, &text("12,345.5")),
            Ok(12345.5)
        );
        assert_eq!(read_value(&Rule::Continuous, &text("-1,234")), Ok(-1234.0));
        for bad in ["0,5", "1,5", "12,34", "1,2345", ",5", "1,,000"] {
            assert!(
                matches!(
                    read_value(&Rule::Continuous, &text(bad)),
                    Err(ValueError::DecimalComma(_))
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            read_value(&Rule::Ratio, &text("0,5")),
            Err(ValueError::DecimalComma(_))
        ));
    }

    #[test]
    fn a_long_cell_is_quoted_short() {
        let long = "x".repeat(1_000_000);
        let e = read_value(&Rule::Continuous, &text(&long))
            .unwrap_err()
            .to_string();
        assert!(e.len() < 200, "{} bytes", e.len());
        assert!(e.contains("1000000 characters"), "{e}");
    }

    #[test]
    fn an_out_of_range_value_is_quoted_as_written() {
        let e = read_value(&Rule::Ratio, &text("150%")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "\"150%\" is out of range for a ratio indicator (expected 0 to 1, or a percentage such as 85%)"
        );
        let e = read_value(&Rule::Count { cap: 5.0 }, &Value::Number(-2.0)).unwrap_err();
        assert!(e.to_string().starts_with("-2 is out of range"), "{e}");
    }

    #[test]
    fn ratio_reads_percentages_and_rejects_out_of_range() {
        assert_eq!(read_value(&Rule::Ratio, &text("85%")), Ok(0.85));
        assert_eq!(read_value(&Rule::Ratio, &Value::Number(0.25)), Ok(0.25));
        assert!(matches!(
            read_value(&Rule::Ratio, &Value::Number(1.5)),
            Err(ValueError::OutOfRange { .. })
        ));
        assert!(matches!(
            read_value(&Rule::Ratio, &text("abc")),
            Err(ValueError::NotNumber(_))
        ));
    }

    #[test]
    fn count_is_capped() {
        let r = Rule::Count { cap: 4.0 };
        assert_eq!(read_value(&r, &Value::Number(2.0)), Ok(0.5));
        assert_eq!(read_value(&r, &Value::Number(9.0)), Ok(1.0));
        assert!(read_value(&r, &Value::Number(-1.0)).is_err());
    }

    #[test]
    fn graded_by_key_label_or_index() {
        let lv = |k: &str, zh: &str, f: f64| Level {
            key: k.into(),
            zh: zh.into(),
            en: k.into(),
            fraction: f,
        };
        let r = Rule::Graded {
            levels: vec![
                lv("none", "无", 0.0),
                lv("docs", "仅有文件", 0.5),
                lv("full", "文件及解读", 1.0),
            ],
        };
        assert_eq!(read_value(&r, &text("DOCS")), Ok(0.5));
        assert_eq!(read_value(&r, &text("文件及解读")), Ok(1.0));
        assert_eq!(read_value(&r, &Value::Number(1.0)), Ok(0.5));
        assert!(matches!(
            read_value(&r, &Value::Number(0.5)),
            Err(ValueError::UnknownLevel { .. })
        ));
        assert!(matches!(
            read_value(&r, &text("x")),
            Err(ValueError::UnknownLevel { .. })
        ));
    }

    #[test]
    fn empty_text_is_reported() {
        assert_eq!(
            read_value(&Rule::Continuous, &text("  ")),
            Err(ValueError::Empty)
        );
        assert_eq!(read_value(&Rule::Continuous, &text("1,234.5")), Ok(1234.5));
    }
}
