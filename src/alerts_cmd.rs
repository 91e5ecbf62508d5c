//! `govcap alerts`: the early-warning alerts recorded by `govcap monitor run --db`.

use clap::Args;
use govcap_monitor::alerts::{epoch_seconds, Rule};
use govcap_store::{AlertFilter, StoredAlert};
use serde_json::json;

use crate::{user_error, DbArgs};

#[derive(Args)]
pub struct AlertsArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Only this unit (site) code.
    #[arg(long)]
    pub code: Option<String>,
    /// Only this rule: unreachable, home_stale, message_unanswered or cert_expiring.
    #[arg(long)]
    pub rule: Option<String>,
    /// Only alerts seen on or after this date (YYYY-MM-DD) or time (RFC 3339, UTC).
    #[arg(long)]
    pub since: Option<String>,
    /// Print a JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: AlertsArgs) -> anyhow::Result<()> {
    if let Some(r) = &a.rule {
        if Rule::parse(r).is_none() {
            return user_error(format!(
                "--rule must be unreachable, home_stale, message_unanswered or cert_expiring, got {r:?}"
            ));
        }
    }
    if let Some(s) = &a.since {
        if epoch_seconds(s).is_none() {
            return user_error(format!(
                "--since must be YYYY-MM-DD or an RFC 3339 time, got {s:?}"
            ));
        }
    }
    let mut store = govcap_store::open_existing(&a.db.db)?;
    let alerts = store.list_alerts(&AlertFilter {
        code: a.code.clone(),
        rule: a.rule.clone(),
        since: a.since.clone(),
    })?;
    if a.json {
        let list: Vec<_> = alerts.iter().map(to_json).collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(());
    }
    if alerts.is_empty() {
        println!("no alerts in {}", a.db.db);
        return Ok(());
    }
    println!(
        "{:>5}  {:<10} {:<19} {:<8}  {:<24} {:<24} {:>8}  {:<24}  message",
        "id", "code", "rule", "severity", "first seen", "last seen", "value", "webhook sent"
    );
    for s in &alerts {
        let x = &s.alert;
        println!(
            "{:>5}  {:<10} {:<19} {:<8}  {:<24} {:<24} {:>8}  {:<24}  {} / {}",
            s.id,
            x.code,
            x.rule,
            x.severity,
            x.first_seen,
            x.last_seen,
            format_value(&x.rule, x.value),
            s.webhook_sent_at.as_deref().unwrap_or("–"),
            x.message_zh,
            x.message_en
        );
    }
    Ok(())
}

/// Shares as percentages, day counts as whole days.
fn format_value(rule: &str, v: f64) -> String {
    if rule == Rule::Unreachable.as_str() {
        format!("{:.1}%", v * 100.0)
    } else {
        format!("{v:.0} d")
    }
}

fn to_json(s: &StoredAlert) -> serde_json::Value {
    let x = &s.alert;
    json!({
        "id": s.id,
        "run_id": s.run_id,
        "code": x.code,
        "rule": x.rule,
        "severity": x.severity,
        "message": { "zh": x.message_zh, "en": x.message_en },
        "first_seen": x.first_seen,
        "last_seen": x.last_seen,
        "evidence": x.evidence,
        "findings": x.findings,
        "value": x.value,
        "webhook_sent_at": s.webhook_sent_at,
    })
}
