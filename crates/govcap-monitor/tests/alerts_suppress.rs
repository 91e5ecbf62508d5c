//! Webhook repeat suppression: an alert POSTed for the same site, rule and subject within the
//! window is not POSTed again, unless it got worse; everything else goes out.

use govcap_monitor::alerts::{
    subject_key, to_post, Alert, AlertConfig, Delivered, Message, Rule, Severity,
};

const NOW: &str = "2026-11-27T08:00:00.000Z";

fn alert(code: &str, rule: Rule, severity: Severity) -> Alert {
    Alert {
        code: code.into(),
        rule,
        severity,
        message: Message {
            zh: "测试".into(),
            en: "test".into(),
        },
        first_seen: "2026-11-20T08:00:00.000Z".into(),
        last_seen: NOW.into(),
        evidence: vec![],
        findings: vec![],
        value: 1.0,
    }
}

fn sent(code: &str, rule: &str, severity: &str, at: &str) -> Delivered {
    Delivered {
        code: code.into(),
        rule: rule.into(),
        severity: severity.into(),
        at: at.into(),
    }
}

#[test]
fn the_default_window_is_a_day() {
    assert_eq!(AlertConfig::default().webhook_repeat_hours, 24);
    // Older rule files without the key still parse, with the default.
    let cfg: AlertConfig = serde_json::from_str(r#"{"stale_home_days": 7}"#).unwrap();
    assert_eq!(cfg.webhook_repeat_hours, 24);
    let cfg: AlertConfig = serde_json::from_str(r#"{"webhook_repeat_hours": 6}"#).unwrap();
    assert_eq!(cfg.webhook_repeat_hours, 6);
}

#[test]
fn a_repeat_within_the_window_is_not_posted_again() {
    let raised = vec![
        alert("fx001", Rule::Unreachable, Severity::Critical),
        alert("fx001", Rule::HomeStale, Severity::Critical),
        alert("fx002", Rule::Unreachable, Severity::Critical),
    ];
    let history = vec![
        // Same site and rule, 23 h ago: a repeat.
        sent(
            "fx001",
            "unreachable",
            "critical",
            "2026-11-26T09:00:00.000Z",
        ),
        // Same site, other rule, but 24 h ago exactly: outside the window.
        sent(
            "fx001",
            "home_stale",
            "critical",
            "2026-11-26T08:00:00.000Z",
        ),
        // fx002's alert of another rule does not silence its `unreachable`.
        sent(
            "fx002",
            "home_stale",
            "critical",
            "2026-11-27T07:00:00.000Z",
        ),
    ];
    assert_eq!(to_post(&raised, &history, NOW, 24), vec![false, true, true]);
    // A shorter window lets the 23-hour-old one through again.
    assert_eq!(to_post(&raised, &history, NOW, 12), vec![true, true, true]);
    // 0 sends everything; so does an unreadable `now`.
    assert_eq!(to_post(&raised, &history, NOW, 0), vec![true; 3]);
    assert_eq!(to_post(&raised, &history, "yesterday", 24), vec![true; 3]);
    // No history, no suppression.
    assert_eq!(to_post(&raised, &[], NOW, 24), vec![true; 3]);
    // Yesterday's daily post made a few seconds later in the day than today's run: the
    // reminder still goes out (the window's last 15 minutes do not count).
    let jitter = vec![sent(
        "fx002",
        "unreachable",
        "critical",
        "2026-11-26T08:00:05.000Z",
    )];
    assert_eq!(to_post(&raised, &jitter, NOW, 24), vec![true; 3]);
    let earlier = vec![sent(
        "fx002",
        "unreachable",
        "critical",
        "2026-11-26T08:20:00.000Z",
    )];
    assert_eq!(to_post(&raised, &earlier, NOW, 24), vec![true, true, false]);
}

#[test]
fn a_worse_alert_is_news_and_a_milder_one_is_not() {
    let history = vec![sent(
        "fx001",
        "cert_expiring",
        "warning",
        "2026-11-27T02:00:00.000Z",
    )];
    let expired = alert("fx001", Rule::CertExpiring, Severity::Critical);
    let still = alert("fx001", Rule::CertExpiring, Severity::Warning);
    assert_eq!(to_post(&[expired], &history, NOW, 24), vec![true]);
    assert_eq!(
        to_post(std::slice::from_ref(&still), &history, NOW, 24),
        vec![false]
    );
    // Once critical was POSTed, a later warning for the same certificate stays quiet.
    let history = vec![
        history[0].clone(),
        sent(
            "fx001",
            "cert_expiring",
            "critical",
            "2026-11-27T05:00:00.000Z",
        ),
    ];
    assert_eq!(to_post(&[still], &history, NOW, 24), vec![false]);
}

#[test]
fn unknown_rules_future_times_and_bad_times_are_ignored() {
    let raised = vec![alert("fx001", Rule::Unreachable, Severity::Critical)];
    let history = vec![
        sent(
            "fx001",
            "no_such_rule",
            "critical",
            "2026-11-27T07:00:00.000Z",
        ),
        sent(
            "fx001",
            "unreachable",
            "critical",
            "2026-11-28T07:00:00.000Z",
        ),
        sent("fx001", "unreachable", "critical", "not a time"),
        sent("fx001", "unreachable", "urgent", "2026-11-27T07:00:00.000Z"),
    ];
    assert_eq!(to_post(&raised, &history, NOW, 24), vec![true]);
}

#[test]
fn each_rule_has_its_own_subject() {
    let rules = [
        Rule::Unreachable,
        Rule::HomeStale,
        Rule::MessageUnanswered,
        Rule::CertExpiring,
    ];
    let subjects: std::collections::BTreeSet<&str> =
        rules.iter().map(|r| subject_key(*r)).collect();
    assert_eq!(subjects.len(), rules.len());
}
