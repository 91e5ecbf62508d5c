//! `veto`: which 2019 inspection veto rules (单项否决, 国办秘函〔2019〕19号) the other
//! findings trigger, with the thresholds of [`CheckConfig`].

use super::{Analysis, CheckConfig};
use crate::model::Finding;
use serde_json::{json, Value};

/// The rule ids `veto` can report, in this order.
pub const RULES: &[&str] = &[
    "site_unreachable",
    "home_not_updated",
    "columns_not_updated",
    "poor_interaction",
    "impractical_services",
];

fn get<'f>(findings: &'f [Finding], check: &str) -> Option<&'f Finding> {
    findings.iter().find(|f| f.check == check)
}

/// The veto rules triggered (a list of rule ids from [`RULES`]). A rule is triggered only by
/// measured values; rules whose inputs are null are listed in `details.undetermined`.
///
/// * `site_unreachable`: availability below `availability_min` (rule: ≥ 5 % failures).
/// * `home_not_updated`: newest home item older than `home_stale_days` (rule: 2 weeks).
/// * `columns_not_updated`: ≥ `stale_columns_veto` stale, ≥ `long_stale_columns_veto` long
///   not updated, or ≥ `empty_columns_veto` empty columns.
/// * `poor_interaction`: no intake channel at all, or a message from the past
///   `unanswered_window_days` left unanswered (or answered) after more than `unanswered_days`.
/// * `impractical_services`: mean guide completeness below `guide_min_share` (off by default).
pub fn veto(a: &Analysis, cfg: &CheckConfig, findings: &[Finding]) -> Finding {
    const CHECK: &str = "veto";
    let mut rules: Vec<Value> = Vec::new();
    let mut triggered: Vec<&str> = Vec::new();
    let mut undetermined: Vec<&str> = Vec::new();
    // The home page always; the findings behind each triggered rule added below.
    let mut evidence: Vec<String> = a.evidence(a.home);
    let mut judge = |rule: &'static str,
                     hit: Option<bool>,
                     measured: Value,
                     threshold: Value,
                     f: &[Option<&Finding>]| {
        match hit {
            Some(true) => {
                triggered.push(rule);
                for x in f.iter().flatten() {
                    for e in &x.evidence {
                        if !evidence.contains(e) {
                            evidence.push(e.clone());
                        }
                    }
                }
            }
            Some(false) => {}
            None => undetermined.push(rule),
        }
        rules.push(
            json!({ "rule": rule, "triggered": hit, "measured": measured, "threshold": threshold }),
        );
    };

    let av = get(findings, "availability");
    let av_v = av.and_then(|f| f.value.as_f64());
    judge(
        "site_unreachable",
        av_v.map(|x| x < cfg.availability_min),
        json!(av_v),
        json!(cfg.availability_min),
        &[av],
    );

    let fr = get(findings, "freshness");
    let fr_v = fr.and_then(|f| f.value.as_i64());
    judge(
        "home_not_updated",
        fr_v.map(|x| x > cfg.home_stale_days),
        json!(fr_v),
        json!(cfg.home_stale_days),
        &[fr],
    );

    let count = |k: &str| {
        fr.and_then(|f| f.details.get(k))
            .and_then(Value::as_u64)
            .map(|x| x as usize)
    };
    let (st, lg, em) = (
        count("stale_columns"),
        count("long_stale_columns"),
        count("empty_columns"),
    );
    let cols_hit = match (st, lg, em) {
        (Some(s), Some(l), Some(e)) => Some(
            s >= cfg.stale_columns_veto
                || l >= cfg.long_stale_columns_veto
                || e >= cfg.empty_columns_veto,
        ),
        _ => None,
    };
    judge(
        "columns_not_updated",
        cols_hit,
        json!({ "stale": st, "long_stale": lg, "empty": em }),
        json!({ "stale": cfg.stale_columns_veto, "long_stale": cfg.long_stale_columns_veto, "empty": cfg.empty_columns_veto }),
        &[fr],
    );

    let ic = get(findings, "intake_channels");
    let channels = ic.and_then(|f| f.value.as_u64());
    let mb = get(findings, "message_board");
    let overdue = mb.filter(|f| !f.value.is_null()).and_then(|f| {
        let u = f.details.get("unanswered_over_limit")?.as_u64()?;
        let l = f.details.get("late_replies")?.as_u64()?;
        Some(u + l)
    });
    let interaction_hit = match (channels, overdue) {
        (Some(0), _) => Some(true),
        (_, Some(n)) if n > 0 => Some(true),
        (Some(_), Some(_)) => Some(false),
        // Channels exist but no board could be read: the overdue part is unknown.
        _ => None,
    };
    judge(
        "poor_interaction",
        interaction_hit,
        json!({ "channels": channels, "overdue_messages": overdue }),
        json!({ "channels": 1, "days": cfg.unanswered_days }),
        &[ic, mb],
    );

    let sg = get(findings, "service_guide");
    let sg_v = sg.and_then(|f| f.value.as_f64());
    match cfg.guide_min_share {
        Some(min) => judge(
            "impractical_services",
            sg_v.map(|x| x < min),
            json!(sg_v),
            json!(min),
            &[sg],
        ),
        None => rules.push(json!({
            "rule": "impractical_services", "triggered": null, "measured": sg_v,
            "threshold": null, "note": "off: the 2019 threshold was not found in the sources",
        })),
    }

    a.finding(
        CHECK,
        a.home_url(),
        json!(triggered),
        json!({ "rules": rules, "undetermined": undetermined }),
        evidence,
    )
}
