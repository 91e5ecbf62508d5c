//! Early warnings: rules over findings that flag a portal heading for a veto before an
//! inspection finds it (unreachable, home page not updated, messages unanswered, certificate
//! about to expire).
//!
//! Pure: the rules read findings stamped with the time of the run that produced them
//! ([`Stamped`]) and a `now` given by the caller; they do no I/O and read no clock. Several
//! runs' findings can be given at once (e.g. from the store), which is how the availability
//! rule sees a week of attempts and how `first_seen` reaches back to the first run that
//! already showed the problem.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::checks::dates::Date;
use crate::model::Finding;

/// Thresholds of the rules. The defaults are the 2019 inspection rules' limits
/// (国办秘函〔2019〕19号) and a two-week notice for certificates, so an alert means "a veto
/// condition holds now" or "will hold within the notice period".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertConfig {
    /// Alert when failed attempts reach this share of the counted attempts in the window.
    pub unreachable_share: f64,
    /// The window of the availability rule, in days back from `now`.
    pub unreachable_window_days: i64,
    /// Alert when the newest dated home-page item is at least this many days old.
    pub stale_home_days: i64,
    /// Alert when a message has waited for a reply longer than this many days.
    pub unanswered_days: i64,
    /// Alert when the certificate expires within this many days (critical once expired).
    pub cert_expiry_days: i64,
    /// An alert POSTed to the webhook for the same site, rule and subject less than this many
    /// hours before is not POSTed again (it is still written and stored); 0 sends every time.
    /// The window's last 1/96 (15 minutes of a day) does not count, so a reminder from a run
    /// at a fixed time of day is not skipped when yesterday's run started a little later.
    pub webhook_repeat_hours: i64,
}

impl Default for AlertConfig {
    fn default() -> Self {
        AlertConfig {
            unreachable_share: 0.05,
            unreachable_window_days: 7,
            stale_home_days: 14,
            unanswered_days: 90,
            cert_expiry_days: 14,
            webhook_repeat_hours: 24,
        }
    }
}

/// Which rule raised an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    Unreachable,
    HomeStale,
    MessageUnanswered,
    CertExpiring,
}

impl Rule {
    /// The name used in `alerts.jsonl`, the store and `govcap alerts`.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Unreachable => "unreachable",
            Rule::HomeStale => "home_stale",
            Rule::MessageUnanswered => "message_unanswered",
            Rule::CertExpiring => "cert_expiring",
        }
    }

    pub fn parse(s: &str) -> Option<Rule> {
        [
            Rule::Unreachable,
            Rule::HomeStale,
            Rule::MessageUnanswered,
            Rule::CertExpiring,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// `critical`: a veto condition holds now; `warning`: it will unless someone acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "warning" => Some(Severity::Warning),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

/// An alert's text in both languages the project reports in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub zh: String,
    pub en: String,
}

/// One line of `alerts.jsonl` (and one webhook POST body).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Unit (site) code.
    pub code: String,
    pub rule: Rule,
    pub severity: Severity,
    pub message: Message,
    /// Time of the earliest run, among those given, from which the condition held without a
    /// break up to `now` (for `unreachable`: the first failed attempt in the window).
    pub first_seen: String,
    /// The `now` the rules were evaluated at.
    pub last_seen: String,
    /// WARC record ids of the findings the alert rests on.
    pub evidence: Vec<String>,
    /// The findings it rests on, as `check@time` references.
    pub findings: Vec<String>,
    /// The measured quantity: failure share, days stale, days waiting, days to expiry.
    pub value: f64,
}

/// A finding with the time (RFC 3339) of the run that produced it.
#[derive(Debug, Clone, Copy)]
pub struct Stamped<'a> {
    pub at: &'a str,
    pub finding: &'a Finding,
}

/// Seconds since the Unix epoch of an RFC 3339 time (`YYYY-MM-DDTHH:MM:SS[.f](Z|±HH:MM)`) or
/// a bare `YYYY-MM-DD` (midnight UTC); `None` when it is neither.
pub fn epoch_seconds(s: &str) -> Option<i64> {
    let date = Date::parse_iso(s.get(..10)?)?;
    let mut secs = date.days_since_epoch() * 86_400;
    let rest = &s[10..];
    if rest.is_empty() {
        return Some(secs);
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let num = |r: &str, i: usize| r.get(i..i + 2)?.parse::<i64>().ok();
    let (h, m, sec) = (num(rest, 0)?, num(rest, 3)?, num(rest, 6)?);
    secs += h * 3600 + m * 60 + sec;
    let mut tz = &rest[8..];
    if let Some(frac) = tz.strip_prefix('.') {
        tz = frac.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    match tz {
        "Z" | "z" => Some(secs),
        _ => {
            let sign = match tz.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let off = num(tz, 1)? * 3600 + num(tz, 4)? * 60;
            Some(secs - sign * off)
        }
    }
}

fn num(v: &Value, k: &str) -> Option<f64> {
    v.get(k).and_then(Value::as_f64)
}

/// (counted attempts, failures) of an availability finding: challenges and robots refusals
/// are not counted, as in the `availability` check itself.
fn availability_counts(f: &Finding) -> Option<(f64, f64)> {
    let d = &f.details;
    let attempts = num(d, "attempts")?;
    let counted = attempts
        - num(d, "challenged").unwrap_or(0.0)
        - num(d, "rate_limited").unwrap_or(0.0)
        - num(d, "robots_disallowed").unwrap_or(0.0);
    let ok = num(d, "successes")?;
    (counted > 0.0).then_some((counted, counted - ok))
}

fn fmt_share(x: f64) -> String {
    format!("{:.1}", x * 100.0)
}

struct Found<'a> {
    severity: Severity,
    value: f64,
    zh: String,
    en: String,
    from: Vec<Stamped<'a>>,
    first_seen: &'a str,
}

/// Runs every rule over `history` (any number of runs' findings, any sites) as of `now`
/// (RFC 3339). Alerts are ordered by code, then rule.
pub fn evaluate(history: &[Stamped], now: &str, cfg: &AlertConfig) -> Vec<Alert> {
    let now_s = epoch_seconds(now);
    let mut by_code: BTreeMap<&str, Vec<Stamped>> = BTreeMap::new();
    for s in history {
        // A finding from after `now` did not exist yet; unparseable times are skipped.
        let Some(t) = epoch_seconds(s.at) else {
            continue;
        };
        if now_s.is_some_and(|n| t > n) {
            continue;
        }
        by_code.entry(&s.finding.code).or_default().push(*s);
    }
    let mut out = Vec::new();
    for (code, mut fs) in by_code {
        // Newest first; ties keep input order.
        fs.sort_by_key(|s| std::cmp::Reverse(epoch_seconds(s.at)));
        let found = [
            (Rule::Unreachable, unreachable(&fs, now_s, cfg)),
            (Rule::HomeStale, home_stale(&fs, cfg)),
            (Rule::MessageUnanswered, unanswered(&fs, cfg)),
            (Rule::CertExpiring, cert_expiring(&fs, cfg)),
        ];
        for (rule, f) in found {
            let Some(f) = f else { continue };
            let mut evidence: Vec<String> = Vec::new();
            for s in &f.from {
                for e in &s.finding.evidence {
                    if !evidence.contains(e) {
                        evidence.push(e.clone());
                    }
                }
            }
            out.push(Alert {
                code: code.to_string(),
                rule,
                severity: f.severity,
                message: Message { zh: f.zh, en: f.en },
                first_seen: f.first_seen.to_string(),
                last_seen: now.to_string(),
                evidence,
                findings: f
                    .from
                    .iter()
                    .map(|s| format!("{}@{}", s.finding.check, s.at))
                    .collect(),
                value: f.value,
            });
        }
    }
    out
}

/// The newest finding of `check` with a usable reading, and the earliest run back from it
/// through which `holds` stayed true without a break.
fn latest_streak<'a, T>(
    fs: &[Stamped<'a>],
    check: &str,
    read: impl Fn(&Finding) -> Option<T>,
    holds: impl Fn(&T) -> bool,
) -> Option<(T, Vec<Stamped<'a>>, &'a str)> {
    let mut readings = fs
        .iter()
        .filter(|s| s.finding.check == check)
        .filter_map(|s| read(s.finding).map(|r| (r, *s)));
    let (latest, s0) = readings.next()?;
    if !holds(&latest) {
        return None;
    }
    let mut from = vec![s0];
    let mut first = s0.at;
    for (r, s) in readings {
        if !holds(&r) {
            break;
        }
        first = s.at;
        from.push(s);
    }
    Some((latest, from, first))
}

fn unreachable<'a>(fs: &[Stamped<'a>], now: Option<i64>, cfg: &AlertConfig) -> Option<Found<'a>> {
    let now = now?;
    let start = now - cfg.unreachable_window_days * 86_400;
    let mut counted = 0.0;
    let mut failed = 0.0;
    let mut from = Vec::new();
    let mut first: Option<(i64, &str)> = None;
    for s in fs.iter().filter(|s| s.finding.check == "availability") {
        let t = epoch_seconds(s.at)?;
        if t < start {
            continue;
        }
        let Some((c, x)) = availability_counts(s.finding) else {
            continue;
        };
        counted += c;
        failed += x;
        if x > 0.0 {
            from.push(*s);
            if first.is_none_or(|(ft, _)| t < ft) {
                first = Some((t, s.at));
            }
        }
    }
    if counted == 0.0 {
        return None;
    }
    let share = failed / counted;
    if share < cfg.unreachable_share || failed == 0.0 {
        return None;
    }
    Some(Found {
        severity: Severity::Critical,
        value: share,
        zh: format!(
            "近{}天访问失败{}次/共{}次（{}%），达到{}%的不可访问警戒线",
            cfg.unreachable_window_days,
            failed,
            counted,
            fmt_share(share),
            fmt_share(cfg.unreachable_share)
        ),
        en: format!(
            "{failed} of {counted} visits failed in the last {} days ({}%), at or over the {}% unreachable limit",
            cfg.unreachable_window_days,
            fmt_share(share),
            fmt_share(cfg.unreachable_share)
        ),
        from,
        first_seen: first?.1,
    })
}

fn home_stale<'a>(fs: &[Stamped<'a>], cfg: &AlertConfig) -> Option<Found<'a>> {
    let (days, from, first) = latest_streak(
        fs,
        "freshness",
        |f| f.value.as_f64(),
        |d| *d >= cfg.stale_home_days as f64,
    )?;
    let newest = from[0]
        .finding
        .details
        .pointer("/newest_home_item/date")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string();
    Some(Found {
        severity: Severity::Critical,
        value: days,
        zh: format!(
            "首页最新信息发布于{newest}，已{days}天未更新（警戒线{}天）",
            cfg.stale_home_days
        ),
        en: format!(
            "the newest home-page item is dated {newest}: not updated for {days} days (limit {} days)",
            cfg.stale_home_days
        ),
        from,
        first_seen: first,
    })
}

fn unanswered<'a>(fs: &[Stamped<'a>], cfg: &AlertConfig) -> Option<Found<'a>> {
    let (days, from, first) = latest_streak(
        fs,
        "message_board",
        |f| num(&f.details, "oldest_unanswered_days"),
        |d| *d > cfg.unanswered_days as f64,
    )?;
    let over = num(&from[0].finding.details, "unanswered_over_limit").unwrap_or(0.0);
    Some(Found {
        severity: Severity::Critical,
        value: days,
        zh: format!(
            "留言已{days}天未答复（超过{}天；期限内超时未答复{over}条）",
            cfg.unanswered_days
        ),
        en: format!(
            "a message has waited {days} days for a reply (over {} days; {over} overdue within the rule's window)",
            cfg.unanswered_days
        ),
        from,
        first_seen: first,
    })
}

fn cert_expiring<'a>(fs: &[Stamped<'a>], cfg: &AlertConfig) -> Option<Found<'a>> {
    let (days, from, first) = latest_streak(
        fs,
        "https",
        |f| num(&f.details, "days_to_expiry"),
        |d| *d <= cfg.cert_expiry_days as f64,
    )?;
    let not_after = from[0]
        .finding
        .details
        .get("cert_not_after")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string();
    let (severity, zh, en) = if days < 0.0 {
        (
            Severity::Critical,
            format!("HTTPS证书已于{not_after}过期（{}天前）", -days),
            format!(
                "the HTTPS certificate expired on {not_after} ({} days ago)",
                -days
            ),
        )
    } else {
        (
            Severity::Warning,
            format!(
                "HTTPS证书将于{not_after}到期，剩余{days}天（提前{}天预警）",
                cfg.cert_expiry_days
            ),
            format!(
                "the HTTPS certificate expires on {not_after}, in {days} days (notice {} days)",
                cfg.cert_expiry_days
            ),
        )
    };
    Some(Found {
        severity,
        value: days,
        zh,
        en,
        from,
        first_seen: first,
    })
}

/// Findings parsed from `findings.jsonl` text; a line that does not parse is an error naming
/// its line number.
pub fn parse_findings(text: &str) -> Result<Vec<Finding>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("line {}: {e}", i + 1)))
        .collect()
}

/// What an alert is about within its site and rule: the third part of the key that repeat
/// suppression ([`to_post`]) compares. Each rule watches one thing per site (the site, its
/// home page, its message board, its certificate), so the rule names it; a rule that one day
/// raises several alerts per site must say here what tells them apart.
pub fn subject_key(rule: Rule) -> &'static str {
    match rule {
        Rule::Unreachable => "site",
        Rule::HomeStale => "home_page",
        Rule::MessageUnanswered => "message_board",
        Rule::CertExpiring => "certificate",
    }
}

/// An alert POSTed to the webhook before, as the alert history (the store) remembers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub code: String,
    /// Rule name ([`Rule::as_str`]); unknown names are ignored.
    pub rule: String,
    /// [`Severity::as_str`].
    pub severity: String,
    /// The time of the run that raised and POSTed it (its `last_seen`), RFC 3339: runs are
    /// compared by their own times, so a daily schedule is not shifted by how long a run took.
    pub at: String,
}

/// Which of `alerts` (raised at `now`) to POST: `false` for an alert whose (site code, rule,
/// [`subject_key`]) was already POSTed less than `window_hours` before `now`, unless its
/// severity rose since (a warning turning critical is news). Pure; `delivered` may hold any
/// history (other sites, older posts, times after `now`, which are ignored). A window of 0 or
/// less, or an unparseable `now`, sends everything.
pub fn to_post(
    alerts: &[Alert],
    delivered: &[Delivered],
    now: &str,
    window_hours: i64,
) -> Vec<bool> {
    let Some(now_s) = epoch_seconds(now).filter(|_| window_hours > 0) else {
        return vec![true; alerts.len()];
    };
    // A post made a little less than a window ago (within 1/96 of it, 15 minutes of a day) no
    // longer counts: a reminder at a fixed daily time is not skipped by start-up jitter.
    let window_s = window_hours * 3600;
    let start = now_s - (window_s - window_s / 96);
    // (code, rule, subject) → highest severity POSTed within the window.
    let mut recent: BTreeMap<(&str, Rule, &str), Severity> = BTreeMap::new();
    for d in delivered {
        let (Some(rule), Some(sev), Some(t)) = (
            Rule::parse(&d.rule),
            Severity::parse(&d.severity),
            epoch_seconds(&d.at),
        ) else {
            continue;
        };
        if t <= start || t > now_s {
            continue;
        }
        let e = recent
            .entry((d.code.as_str(), rule, subject_key(rule)))
            .or_insert(sev);
        *e = (*e).max(sev);
    }
    alerts
        .iter()
        .map(|a| {
            recent
                .get(&(a.code.as_str(), a.rule, subject_key(a.rule)))
                .is_none_or(|sent| a.severity > *sent)
        })
        .collect()
}

/// The JSON a webhook receives: the alert itself, plus `text` (both languages in one line)
/// for chat webhooks that only show a text field.
pub fn webhook_body(a: &Alert) -> Value {
    let mut v = serde_json::to_value(a).expect("alerts serialise");
    v["text"] = json!(format!(
        "[govcap {}] {} {}: {} / {}",
        a.severity.as_str(),
        a.code,
        a.rule.as_str(),
        a.message.zh,
        a.message.en
    ));
    v
}

/// Delivery of alerts to a webhook: the one part of this module that does I/O, kept apart
/// so the rules above stay pure.
pub mod webhook {
    use super::{webhook_body, Alert};
    use std::time::Duration;

    /// Why one alert could not be delivered.
    #[derive(Debug, thiserror::Error)]
    pub enum WebhookError {
        #[error("cannot set up the HTTP client: {0}")]
        Setup(String),
        #[error("alert {code}/{rule}: {reason}")]
        Post {
            code: String,
            rule: &'static str,
            reason: String,
        },
    }

    /// POSTs each alert as one JSON document ([`webhook_body`]) to `url`, one after the
    /// other, and returns the HTTP status of each delivery. A non-2xx status or a transport
    /// failure is an error for that alert only; the others are still sent.
    pub fn post_all(
        url: &str,
        alerts: &[Alert],
        user_agent: &str,
        timeout: Duration,
    ) -> Result<Vec<Result<u16, WebhookError>>, WebhookError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .tls_backend_rustls()
            .timeout(timeout)
            .user_agent(user_agent)
            .no_proxy()
            .build()
            .map_err(|e| WebhookError::Setup(e.to_string()))?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| WebhookError::Setup(e.to_string()))?;
        Ok(rt.block_on(async {
            let mut out = Vec::with_capacity(alerts.len());
            for a in alerts {
                let fail = |reason: String| WebhookError::Post {
                    code: a.code.clone(),
                    rule: a.rule.as_str(),
                    reason,
                };
                let body = serde_json::to_string(&webhook_body(a)).expect("alerts serialise");
                let r = client
                    .post(url)
                    .header("content-type", "application/json; charset=utf-8")
                    .body(body)
                    .send()
                    .await;
                out.push(match r {
                    Ok(resp) if resp.status().is_success() => Ok(resp.status().as_u16()),
                    Ok(resp) => Err(fail(format!("the webhook answered {}", resp.status()))),
                    Err(e) => Err(fail(e.to_string())),
                });
            }
            out
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse() {
        assert_eq!(epoch_seconds("1970-01-02"), Some(86_400));
        assert_eq!(epoch_seconds("1970-01-01T01:00:00Z"), Some(3600));
        assert_eq!(epoch_seconds("1970-01-01T01:00:00.123Z"), Some(3600));
        assert_eq!(epoch_seconds("1970-01-01T09:00:00+08:00"), Some(3600));
        assert_eq!(epoch_seconds("1970-01-01T00:00:00-01:30"), Some(5400));
        assert_eq!(epoch_seconds("2026-11-27T00:00:00Z"), Some(1_795_737_600));
        assert_eq!(epoch_seconds("nonsense"), None);
        assert_eq!(epoch_seconds("1970-01-01T01:00:00"), None);
    }

    #[test]
    fn rule_names_round_trip() {
        for r in [
            Rule::Unreachable,
            Rule::HomeStale,
            Rule::MessageUnanswered,
            Rule::CertExpiring,
        ] {
            assert_eq!(Rule::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), json!(r.as_str()));
        }
        assert_eq!(Severity::parse("critical"), Some(Severity::Critical));
        assert_eq!(Severity::parse("x"), None);
    }
}
