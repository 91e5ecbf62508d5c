//! Findings → observations of the default framework's auto and hybrid leaves, so monitor
//! results enter `govcap evaluate` next to evaluators' spreadsheets.
//!
//! | leaf | from | value |
//! |---|---|---|
//! | I1.1 mobile pages (ratio) | `mobile` | share of sampled pages with a device-width viewport |
//! | I1.2 accessibility and elderly modes (graded) | `accessibility`, `elderly_mode`, `accessibility_basics` | `none` / `one` / `both` modes; `checked` when both and `accessibility_basics` is true (HTML checks only, see [`crate::checks::a11y`]) |
//! | I1.3 availability and security (continuous) | `availability`, `https`, `ipv6` | see [`monitoring_composite`] |
//! | I2.1 search (ratio) | `search` | 1 when the test query found the newest article, 0 when it did not or there is no search; nothing when untested |
//! | R1.1 intake channels (count) | `intake_channels` | kinds found, 0–4 |
//! | R3.1 reply rate × latency (continuous) | `message_board` | see [`reply_score`] |
//! | S1.2 guides complete (ratio) | `service_guide` | mean share of required fields |
//! | S3.2 app (binary, hybrid) | `new_media` | 1 when an app is linked |
//! | S3.4 Weibo and WeChat (graded, hybrid) | `new_media` | `none` / `one` / `both` linked; `active` when both and `details.activity` has each `active` (a dated post within `new_media_active_days`); no dated posts stay `both` |
//!
//! A leaf whose collection is `auto` gets source `auto`; a `hybrid` leaf gets `proposed`,
//! i.e. awaiting an evaluator's confirmation. Null findings produce no observation: a value
//! the monitor could not measure is left to the evaluation's missing-value rule.

use crate::model::Finding;
use govcap_core::framework::{Collection, Framework};
use govcap_core::observation::{Observation, Origin, Source, Value};
use serde_json::Value as Json;

/// Weights of the I1.3 composite: availability counts twice as much as HTTPS or IPv6,
/// because an unreachable portal serves nobody, however it is secured.
pub const COMPOSITE_WEIGHTS: [(&str, f64); 3] =
    [("availability", 0.5), ("https", 0.25), ("ipv6", 0.25)];
/// Median reply time (days) at or under which replies earn the full latency score: the
/// common "5 个工作日内答复" promise, taken as 5 calendar days.
pub const REPLY_FULL_DAYS: f64 = 5.0;
/// Median reply time (days) at or over which replies earn nothing: the 2019 veto limit.
pub const REPLY_ZERO_DAYS: f64 = 90.0;

/// I1.3: the weighted mean of availability (0–1), HTTPS (1/0) and IPv6 (1/0) with
/// [`COMPOSITE_WEIGHTS`], over the components measured (weights renormalised); `None`
/// without availability, which the composite cannot do without.
pub fn monitoring_composite(
    availability: Option<f64>,
    https: Option<bool>,
    ipv6: Option<bool>,
) -> Option<f64> {
    let av = availability?;
    let parts = [
        (Some(av), COMPOSITE_WEIGHTS[0].1),
        (https.map(f64::from), COMPOSITE_WEIGHTS[1].1),
        (ipv6.map(f64::from), COMPOSITE_WEIGHTS[2].1),
    ];
    let (sum, w) = parts
        .iter()
        .filter_map(|(v, w)| v.map(|v| (v * w, *w)))
        .fold((0.0, 0.0), |(s, t), (x, w)| (s + x, t + w));
    Some(sum / w)
}

/// R3.1: reply rate × latency score, where the latency score is 1 at a median reply time of
/// [`REPLY_FULL_DAYS`] or less, 0 at [`REPLY_ZERO_DAYS`] or more, linear between. With no
/// dated reply the score is 0 when nothing was answered and unknown (`None`) otherwise.
pub fn reply_score(reply_rate: f64, median_reply_days: Option<f64>) -> Option<f64> {
    match median_reply_days {
        Some(m) => {
            let latency =
                ((REPLY_ZERO_DAYS - m) / (REPLY_ZERO_DAYS - REPLY_FULL_DAYS)).clamp(0.0, 1.0);
            Some(reply_rate * latency)
        }
        None if reply_rate == 0.0 => Some(0.0),
        None => None,
    }
}

fn find<'f>(fs: &[&'f Finding], check: &str) -> Option<&'f Finding> {
    fs.iter().copied().find(|f| f.check == check)
}

fn note(fs: &[&Finding]) -> String {
    fs.iter()
        .map(|f| format!("{}: {}", f.check, f.evidence.join(" ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Turns the findings of any number of sites into observations for `year`, stamped
/// `observed_at`. Leaves are looked up in the default framework for their collection.
pub fn to_observations(findings: &[Finding], year: i32, observed_at: &str) -> Vec<Observation> {
    let fw = Framework::default_framework();
    let mut codes: Vec<&str> = Vec::new();
    for f in findings {
        if !codes.contains(&f.code.as_str()) {
            codes.push(&f.code);
        }
    }
    let mut out = Vec::new();
    for code in codes {
        let fs: Vec<&Finding> = findings.iter().filter(|f| f.code == code).collect();
        let mut emit = |indicator: &str, value: Value, from: &[&Finding]| {
            let Some(leaf) = fw
                .position(indicator)
                .and_then(|i| fw.node(i).leaf.as_ref())
            else {
                return;
            };
            let source = match leaf.collection {
                Collection::Auto => Source::Auto,
                Collection::Hybrid => Source::Proposed,
                Collection::Manual => return,
            };
            out.push(Observation {
                unit: code.to_string(),
                indicator: indicator.to_string(),
                year,
                value,
                source,
                evaluator: None,
                evidence_url: from.first().map(|f| f.url.as_str().into()),
                observed_at: Some(observed_at.to_string()),
                note: Some(note(from)),
                origin: Origin {
                    file: "monitor".into(),
                    row: 0,
                    column: None,
                },
            });
        };
        let num = |f: &Finding, k: &str| f.details.get(k).and_then(Json::as_f64);

        if let Some(f) = find(&fs, "mobile").filter(|f| !f.value.is_null()) {
            if let Some(share) = num(f, "share") {
                emit("I1.1", Value::Number(share), &[f]);
            }
        }
        if let (Some(acc), Some(eld)) = (find(&fs, "accessibility"), find(&fs, "elderly_mode")) {
            if let (Some(x), Some(y)) = (acc.value.as_bool(), eld.value.as_bool()) {
                let basics = find(&fs, "accessibility_basics");
                let passed = basics.and_then(|f| f.value.as_bool()) == Some(true);
                let level = match u8::from(x) + u8::from(y) {
                    0 => "none",
                    1 => "one",
                    _ if passed => "checked",
                    _ => "both",
                };
                let mut from = vec![acc, eld];
                from.extend(basics.filter(|_| x && y));
                emit("I1.2", Value::Text(level.into()), &from);
            }
        }
        let av = find(&fs, "availability");
        let hs = find(&fs, "https");
        let v6 = find(&fs, "ipv6");
        if let Some(c) = monitoring_composite(
            av.and_then(|f| f.value.as_f64()),
            hs.and_then(|f| f.value.as_bool()),
            v6.and_then(|f| f.value.as_bool()),
        ) {
            let from: Vec<&Finding> = [av, hs, v6].into_iter().flatten().collect();
            emit("I1.3", Value::Number(c), &from);
        }
        if let Some(f) = find(&fs, "search") {
            let tested = f
                .details
                .get("test_query")
                .and_then(|t| t.get("ok"))
                .and_then(Json::as_bool);
            let v = match (f.value.as_bool(), tested) {
                (Some(false), _) => Some(0.0),
                (Some(true), Some(ok)) => Some(f64::from(ok)),
                _ => None,
            };
            if let Some(v) = v {
                emit("I2.1", Value::Number(v), &[f]);
            }
        }
        if let Some(f) = find(&fs, "intake_channels") {
            if let Some(n) = f.value.as_f64() {
                emit("R1.1", Value::Number(n), &[f]);
            }
        }
        if let Some(f) = find(&fs, "message_board") {
            if let Some(s) = f
                .value
                .as_f64()
                .and_then(|r| reply_score(r, num(f, "median_reply_days")))
            {
                emit("R3.1", Value::Number(s), &[f]);
            }
        }
        if let Some(f) = find(&fs, "service_guide") {
            if let Some(v) = f.value.as_f64() {
                emit("S1.2", Value::Number(v), &[f]);
            }
        }
        if let Some(f) = find(&fs, "new_media") {
            if let Some(list) = f.value.as_array() {
                let has = |p: &str| list.iter().any(|x| x == p);
                emit("S3.2", Value::Number(f64::from(has("app"))), &[f]);
                let active = |p: &str| {
                    f.details
                        .pointer(&format!("/activity/{p}/active"))
                        .and_then(Json::as_bool)
                        == Some(true)
                };
                let level = match u8::from(has("weibo")) + u8::from(has("wechat")) {
                    0 => "none",
                    1 => "one",
                    _ if active("weibo") && active("wechat") => "active",
                    _ => "both",
                };
                emit("S3.4", Value::Text(level.into()), &[f]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composite_weights_and_renormalisation() {
        assert_eq!(
            monitoring_composite(Some(0.9), Some(true), Some(false)),
            Some(0.7)
        );
        // IPv6 unknown: (0.5·0.9 + 0.25·1) / 0.75
        let v = monitoring_composite(Some(0.9), Some(true), None).unwrap();
        assert!((v - 0.7 / 0.75).abs() < 1e-12);
        assert_eq!(monitoring_composite(None, Some(true), Some(true)), None);
    }

    #[test]
    fn reply_score_is_rate_times_latency() {
        assert_eq!(reply_score(0.8, Some(5.0)), Some(0.8));
        assert_eq!(reply_score(0.8, Some(90.0)), Some(0.0));
        // (90 − 47.5) / 85 = 0.5
        assert!((reply_score(0.5, Some(47.5)).unwrap() - 0.25).abs() < 1e-12);
        assert_eq!(reply_score(0.0, None), Some(0.0));
        assert_eq!(reply_score(0.4, None), None);
    }
}
