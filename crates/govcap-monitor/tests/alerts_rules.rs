//! The early-warning rules on hand-built findings over several runs; every expected number
//! is computed by hand in the comments.

use govcap_monitor::alerts::{evaluate, Alert, AlertConfig, Rule, Severity, Stamped};
use govcap_monitor::model::Finding;
use serde_json::{json, Value};

const NOW: &str = "2026-11-27T12:00:00.000Z";

fn f(code: &str, check: &str, value: Value, details: Value, ev: &str) -> Finding {
    Finding {
        code: code.into(),
        url: format!("http://127.0.0.1:1/site/{code}/"),
        check: check.into(),
        value,
        details,
        evidence: vec![format!("<urn:uuid:{ev}>")],
    }
}

fn avail(code: &str, attempts: u32, successes: u32, challenged: u32, ev: &str) -> Finding {
    f(
        code,
        "availability",
        json!(successes as f64 / (attempts - challenged) as f64),
        json!({ "attempts": attempts, "successes": successes, "challenged": challenged, "robots_disallowed": 0 }),
        ev,
    )
}

fn run_rules(history: &[(&str, Finding)]) -> Vec<Alert> {
    let stamped: Vec<Stamped> = history
        .iter()
        .map(|(at, finding)| Stamped { at, finding })
        .collect();
    evaluate(&stamped, NOW, &AlertConfig::default())
}

fn only(alerts: &[Alert], code: &str, rule: Rule) -> Option<Alert> {
    let v: Vec<&Alert> = alerts
        .iter()
        .filter(|a| a.code == code && a.rule == rule)
        .collect();
    assert!(v.len() <= 1, "{v:?}");
    v.first().map(|a| (*a).clone())
}

#[test]
fn unreachable_counts_a_week_of_attempts() {
    let h = vec![
        // 9 days ago: outside the 7-day window, ignored although all failed.
        ("2026-11-18T12:00:00.000Z", avail("a", 10, 0, 0, "a0")),
        // 1 failure of 20.
        ("2026-11-21T12:00:00.000Z", avail("a", 20, 19, 0, "a1")),
        // 22 attempts, 2 challenges not counted: 20 counted, 0 failures.
        ("2026-11-24T12:00:00.000Z", avail("a", 22, 20, 2, "a2")),
        // The run itself: one home fetch, failed.
        (NOW, avail("a", 1, 0, 0, "a3")),
        // b: 1 of 20 = exactly 5 %: at the limit, alerts.
        ("2026-11-26T00:00:00.000Z", avail("b", 20, 19, 0, "b1")),
        // c: 1 of 21 = 4.76 %: under the limit.
        ("2026-11-26T00:00:00.000Z", avail("c", 21, 20, 0, "c1")),
    ];
    let alerts = run_rules(&h);
    // a: 2 failures of 20 + 20 + 1 = 41 counted → 4.878 % < 5 %: no alert.
    assert!(only(&alerts, "a", Rule::Unreachable).is_none());
    let b = only(&alerts, "b", Rule::Unreachable).expect("b at exactly 5 %");
    assert_eq!(b.value, 0.05);
    assert_eq!(b.severity, Severity::Critical);
    assert_eq!(b.first_seen, "2026-11-26T00:00:00.000Z");
    assert_eq!(b.evidence, ["<urn:uuid:b1>"]);
    assert!(b.message.zh.contains("5.0%"), "{}", b.message.zh);
    assert!(
        b.message.en.contains("1 of 20 visits failed"),
        "{}",
        b.message.en
    );
    assert!(only(&alerts, "c", Rule::Unreachable).is_none());

    // One more failing run for a: 3 of 42 = 7.14 %, first seen at the earliest failure in
    // the window (the 21st), evidence from the failing runs only.
    let mut h2 = h.clone();
    h2.push(("2026-11-26T12:00:00.000Z", avail("a", 1, 0, 0, "a4")));
    let a = only(&run_rules(&h2), "a", Rule::Unreachable).expect("a over 5 %");
    assert!((a.value - 3.0 / 42.0).abs() < 1e-12, "{}", a.value);
    assert_eq!(a.first_seen, "2026-11-21T12:00:00.000Z");
    assert_eq!(
        a.evidence,
        ["<urn:uuid:a3>", "<urn:uuid:a4>", "<urn:uuid:a1>"]
    );
    assert_eq!(a.last_seen, NOW);
}

fn fresh(code: &str, days: Value, ev: &str) -> Finding {
    f(
        code,
        "freshness",
        days,
        json!({ "newest_home_item": { "date": "2026-11-05", "title": "要闻", "url": "x" } }),
        ev,
    )
}

#[test]
fn home_stale_from_the_latest_run_with_a_streak() {
    let h = vec![
        ("2026-11-06T12:00:00.000Z", fresh("a", json!(1), "f0")),
        ("2026-11-13T12:00:00.000Z", fresh("a", json!(15), "f1")),
        // An undated home page (null) is no reading: it neither raises nor breaks the streak.
        ("2026-11-20T12:00:00.000Z", fresh("a", Value::Null, "f2")),
        (NOW, fresh("a", json!(22), "f3")),
        (NOW, fresh("b", json!(13), "g")),
        (NOW, fresh("c", json!(14), "h")),
    ];
    let alerts = run_rules(&h);
    let a = only(&alerts, "a", Rule::HomeStale).unwrap();
    assert_eq!(a.value, 22.0);
    assert_eq!(a.first_seen, "2026-11-13T12:00:00.000Z");
    assert_eq!(a.evidence, ["<urn:uuid:f3>", "<urn:uuid:f1>"]);
    assert_eq!(
        a.findings,
        [
            format!("freshness@{NOW}"),
            "freshness@2026-11-13T12:00:00.000Z".to_string()
        ]
    );
    assert!(a.message.zh.contains("2026-11-05"));
    assert!(a.message.en.contains("22 days"));
    assert!(only(&alerts, "b", Rule::HomeStale).is_none());
    assert_eq!(only(&alerts, "c", Rule::HomeStale).unwrap().value, 14.0);

    // A fresh latest run clears the alert whatever came before.
    let mut h2 = h.clone();
    h2.push(("2026-11-27T13:00:00.000Z", fresh("a", json!(0), "f4")));
    let later = Stamped {
        at: "2026-11-27T13:00:00.000Z",
        finding: &h2.last().unwrap().1,
    };
    let mut stamped: Vec<Stamped> = h
        .iter()
        .map(|(at, finding)| Stamped { at, finding })
        .collect();
    stamped.push(later);
    let alerts = evaluate(&stamped, "2026-11-27T14:00:00Z", &AlertConfig::default());
    assert!(only(&alerts, "a", Rule::HomeStale).is_none());
}

#[test]
fn findings_after_now_are_ignored() {
    let h = vec![("2026-11-28T00:00:00.000Z", fresh("a", json!(30), "f"))];
    assert!(run_rules(&h).is_empty());
}

fn board(code: &str, oldest: Value) -> Finding {
    f(
        code,
        "message_board",
        json!(0.5),
        json!({ "oldest_unanswered_days": oldest, "unanswered_over_limit": 1 }),
        "m",
    )
}

fn cert(code: &str, days: i64) -> Finding {
    f(
        code,
        "https",
        json!(true),
        json!({ "days_to_expiry": days, "cert_not_after": "2026-12-11" }),
        "c",
    )
}

#[test]
fn unanswered_and_certificate_thresholds() {
    let h = vec![
        (NOW, board("a", json!(91))),
        (NOW, board("b", json!(90))),
        (NOW, board("c", Value::Null)),
        (NOW, cert("a", 14)),
        (NOW, cert("b", 15)),
        (NOW, cert("c", -3)),
    ];
    let alerts = run_rules(&h);
    let a = only(&alerts, "a", Rule::MessageUnanswered).unwrap();
    assert_eq!((a.value, a.severity), (91.0, Severity::Critical));
    assert!(a.message.zh.contains("91天"));
    assert!(only(&alerts, "b", Rule::MessageUnanswered).is_none());
    assert!(only(&alerts, "c", Rule::MessageUnanswered).is_none());
    let ca = only(&alerts, "a", Rule::CertExpiring).unwrap();
    assert_eq!((ca.value, ca.severity), (14.0, Severity::Warning));
    assert!(ca.message.en.contains("2026-12-11, in 14 days"));
    assert!(only(&alerts, "b", Rule::CertExpiring).is_none());
    let cc = only(&alerts, "c", Rule::CertExpiring).unwrap();
    assert_eq!((cc.value, cc.severity), (-3.0, Severity::Critical));
    assert!(cc.message.en.contains("3 days ago"));
    // Ordered by code, then rule.
    let order: Vec<(String, Rule)> = alerts.iter().map(|a| (a.code.clone(), a.rule)).collect();
    assert_eq!(
        order,
        [
            ("a".to_string(), Rule::MessageUnanswered),
            ("a".to_string(), Rule::CertExpiring),
            ("c".to_string(), Rule::CertExpiring),
        ]
    );
}

#[test]
fn thresholds_are_configurable_and_alerts_serialise() {
    let fs = [fresh("a", json!(8), "f")];
    let st: Vec<Stamped> = fs
        .iter()
        .map(|finding| Stamped { at: NOW, finding })
        .collect();
    assert!(evaluate(&st, NOW, &AlertConfig::default()).is_empty());
    let cfg = AlertConfig {
        stale_home_days: 7,
        ..AlertConfig::default()
    };
    let got = evaluate(&st, NOW, &cfg);
    assert_eq!(got.len(), 1);
    let v = serde_json::to_value(&got[0]).unwrap();
    assert_eq!(v["rule"], "home_stale");
    assert_eq!(v["severity"], "critical");
    assert_eq!(v["value"], 8.0);
    assert_eq!(v["evidence"], json!(["<urn:uuid:f>"]));
    assert!(v["message"]["zh"].as_str().unwrap().contains("8天"));
    let back: Alert = serde_json::from_value(v).unwrap();
    assert_eq!(back, got[0]);
}

#[test]
fn config_files_fill_defaults_and_refuse_unknown_keys() {
    let c: AlertConfig = serde_json::from_str(r#"{"stale_home_days": 7}"#).unwrap();
    assert_eq!(
        c,
        AlertConfig {
            stale_home_days: 7,
            ..AlertConfig::default()
        }
    );
    assert_eq!(AlertConfig::default().unreachable_share, 0.05);
    assert!(serde_json::from_str::<AlertConfig>(r#"{"stale_home_dayz": 7}"#).is_err());
}
