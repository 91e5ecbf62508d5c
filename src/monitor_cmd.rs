//! `govcap monitor run` and `govcap evidence show`: the command-line face of govcap-monitor.
//! Thin: flags become a `RunConfig`; the crate does the work.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use govcap_io::export;
use govcap_monitor::alerts::{self, Alert, AlertConfig, Severity};
use govcap_monitor::browser::{Browser, BrowserConfig, BrowserMode};
use govcap_monitor::charset;
use govcap_monitor::checks::CheckConfig;
use govcap_monitor::crawl::{CrawlConfig, Site};
use govcap_monitor::fetch::{self, FetchConfig};
use govcap_monitor::model::{FetchState, Finding};
use govcap_monitor::observations;
use govcap_monitor::run::{self, Progress, RunConfig, RunError};
use govcap_monitor::warc;

use crate::{user_error, UserError};

#[derive(Subcommand)]
pub enum MonitorCommand {
    /// Visit portals politely, run the named checks and archive what was seen:
    /// DIR/findings.jsonl, DIR/warc/<code>.warc.gz, DIR/summary.json.
    Run(RunArgs),
    /// Sample every portal's home page all day (the inspection rule: at least 20 spaced
    /// visits a day, 15 s each) and run the full checks once a cycle, storing each step in
    /// --db and rewriting DIR/alerts.jsonl after each; Ctrl-C stops cleanly.
    #[command(mut_arg("db", |a| a
        .required(true)
        .help("The store (SQLite file or postgres:// URL) that keeps every sample, run, finding and alert; the alert rules read the samples from it")))]
    Schedule(ScheduleArgs),
}

#[derive(Args)]
pub struct ScheduleArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Seconds from the start of one availability sample to the next (1200 = 72 a day).
    #[arg(long, default_value_t = 1200)]
    pub interval_secs: u64,
    /// Hours between full runs with every check; the first comes one cycle after the start.
    #[arg(long, default_value_t = 24.0)]
    pub cycle_hours: f64,
    /// Stop after this many samples (default: until Ctrl-C).
    #[arg(long)]
    pub max_samples: Option<usize>,
}

#[derive(Args)]
pub struct RunArgs {
    /// Site list: a CSV with at least `code` and `portal_url` columns
    /// (default: the built-in 337 prefecture-level portals).
    #[arg(long)]
    pub sites: Option<PathBuf>,
    /// Date the freshness and reply-age checks measure against, YYYY-MM-DD (default: today, UTC).
    #[arg(long)]
    pub as_of: Option<String>,
    /// Link depth from the home page (0 = home page only).
    #[arg(long, default_value_t = 2)]
    pub depth: u32,
    /// Pages per site, home page included.
    #[arg(long, default_value_t = 60)]
    pub max_pages: usize,
    /// Sites visited at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Requests in flight per host.
    #[arg(long, default_value_t = 2)]
    pub per_host: usize,
    /// Minimum milliseconds between request starts on one host (robots.txt Crawl-delay raises it).
    #[arg(long, default_value_t = 250)]
    pub delay_ms: u64,
    /// Seconds allowed per request (the inspection rule's "opens within 15 s").
    #[arg(long, default_value_t = 15)]
    pub timeout: u64,
    /// Seconds allowed per site.
    #[arg(long, default_value_t = 180)]
    pub site_budget: u64,
    /// Extra attempts after a timeout, reset or 5xx.
    #[arg(long, default_value_t = 2)]
    pub retries: u32,
    /// The whole User-Agent header (default: `govcap-monitor/VERSION (+CONTACT)`).
    #[arg(long)]
    pub user_agent: Option<String>,
    /// A URL or mailto: for site owners, put in the default User-Agent.
    #[arg(long, env = "GOVCAP_MONITOR_CONTACT")]
    pub contact: Option<String>,
    /// Also write DIR/visits.jsonl with every page's decoded text (large).
    #[arg(long)]
    pub visits: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Evaluation year of DIR/observations.csv (default: the year of the as-of date).
    #[arg(long)]
    pub year: Option<i32>,
    /// Alert thresholds as JSON, any subset of {"unreachable_share": 0.05,
    /// "unreachable_window_days": 7, "stale_home_days": 14, "unanswered_days": 90,
    /// "cert_expiry_days": 14} (these are the defaults).
    #[arg(long)]
    pub alert_rules: Option<PathBuf>,
    /// POST each alert as JSON to this URL (e.g. a chat bot's webhook).
    #[arg(long)]
    pub webhook: Option<String>,
    /// Also record the run, its findings and its alerts in this store (SQLite file or
    /// postgres:// URL); the alert rules then also see the week of runs stored before.
    /// Without it nothing is stored.
    #[arg(long)]
    pub db: Option<String>,
    /// Headless Chromium for script-rendered pages and WAF-challenge confirmation: `auto`
    /// uses it when installed (and says what it skipped when not), `off` never, `require`
    /// refuses to run without it.
    #[arg(long, default_value = "auto", value_parser = ["auto", "off", "require"])]
    pub browser: String,
    /// Output directory.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(c: MonitorCommand) -> anyhow::Result<()> {
    match c {
        MonitorCommand::Run(a) => monitor_run(a),
        MonitorCommand::Schedule(a) => monitor_schedule(a),
    }
}

/// Steps in a row whose bookkeeping (store, alerts, webhook) may fail before the schedule
/// gives up: one webhook outage should not end a week of sampling, a dead store should.
const MAX_FAILED_STEPS: usize = 3;

fn monitor_schedule(a: ScheduleArgs) -> anyhow::Result<()> {
    use govcap_monitor::schedule::{self, ScheduleConfig, Step};
    if a.interval_secs == 0 {
        return user_error("--interval-secs must be at least 1");
    }
    if !(a.cycle_hours.is_finite() && a.cycle_hours > 0.0) {
        return user_error("--cycle-hours must be a positive number");
    }
    if a.max_samples == Some(0) {
        return user_error("--max-samples must be at least 1");
    }
    let Some(db) = &a.run.db else {
        return user_error("--db is required: the alert rules read the samples from the store");
    };
    let (cfg, sites, _) = prepare(&a.run)?;
    drop(govcap_store::open(db)?);
    alert_config(&a.run)?;
    if 86_400 / a.interval_secs < 20 {
        eprintln!(
            "note: --interval-secs {} gives fewer than the 20 visits a day the inspection rule asks for",
            a.interval_secs
        );
    }
    let sched = ScheduleConfig {
        interval: Duration::from_secs(a.interval_secs),
        cycle: Duration::from_secs_f64(a.cycle_hours * 3600.0),
        max_samples: a.max_samples,
        as_of_today: a.run.as_of.is_none(),
        ..ScheduleConfig::default()
    };
    let progress: Arc<dyn Progress> = Arc::new(Plain);
    let latest = cfg.out.join("alerts.jsonl");
    let mut failed_in_a_row = 0;
    let done = schedule::schedule_blocking(&cfg, sites, &sched, progress, |o| {
        let what = match o.step {
            Step::Sample { index } => format!("sample {}", index + 1),
            Step::Full { index } => format!("full run {}", index + 1),
        };
        println!(
            "{what}: {} of {} sites in {}",
            o.summary.sites_done,
            o.summary.sites,
            o.config.out.display()
        );
        if let Some(line) = o.summary.browser.console_line() {
            println!("{what}: {line}");
        }
        let r = after_run(&a.run, &o.config, &o.summary).and_then(|()| {
            let text = std::fs::read(o.config.out.join("alerts.jsonl"))?;
            export::write_atomic(&latest, &text)?;
            Ok(())
        });
        match r {
            Ok(()) => failed_in_a_row = 0,
            Err(e) => {
                failed_in_a_row += 1;
                eprintln!("{what}: {e:#}");
                if failed_in_a_row >= MAX_FAILED_STEPS {
                    return Err(e.context(format!("{MAX_FAILED_STEPS} steps in a row failed")));
                }
            }
        }
        Ok(())
    })?;
    println!(
        "{} samples and {} full runs{}",
        done.samples,
        done.full_runs,
        if done.interrupted { " (stopped)" } else { "" }
    );
    Ok(())
}

fn valid_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && s[..4].parse::<u32>().is_ok()
        && s[5..7].parse::<u32>().is_ok_and(|m| (1..=12).contains(&m))
        && s[8..].parse::<u32>().is_ok_and(|d| (1..=31).contains(&d))
}

struct Bar(indicatif::ProgressBar);

impl Progress for Bar {
    fn started(&self, sites: usize) {
        self.0.set_length(sites as u64);
    }
    fn site_done(&self, code: &str, pages: usize, home: Option<FetchState>) {
        let state = home
            .and_then(|s| serde_json::to_value(s).ok())
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "-".into());
        self.0
            .set_message(format!("{code}: {state}, {pages} pages"));
        self.0.inc(1);
    }
    fn note(&self, message: &str) {
        self.0.println(message);
    }
}

struct Plain;

impl Progress for Plain {
    fn note(&self, message: &str) {
        eprintln!("{message}");
    }
}

fn monitor_run(a: RunArgs) -> anyhow::Result<()> {
    let (cfg, sites, progress) = prepare(&a)?;
    // Fail before a long crawl, not after it: the store opens (and migrates) now.
    if let Some(db) = &a.db {
        drop(govcap_store::open(db)?);
    }
    alert_config(&a)?;
    full_run(&a, &cfg, sites, progress).map(|_| ())
}

/// Flags → run configuration, site list and progress display.
fn prepare(a: &RunArgs) -> anyhow::Result<(RunConfig, Vec<Site>, Arc<dyn Progress>)> {
    let as_of = a
        .as_of
        .clone()
        .unwrap_or_else(|| crate::clock::now_rfc3339()[..10].to_string());
    if !valid_date(&as_of) {
        return user_error(format!("--as-of must be YYYY-MM-DD, got {as_of:?}"));
    }
    if a.concurrency == 0 || a.max_pages == 0 || a.per_host == 0 || a.timeout == 0 {
        return user_error(
            "--concurrency, --max-pages, --per-host and --timeout must be at least 1",
        );
    }
    if let Some(url) = &a.webhook {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return user_error(format!("--webhook must be an http(s) URL, got {url:?}"));
        }
    }
    let sites = match &a.sites {
        Some(p) => run::load_sites(p).map_err(|e| UserError(e.to_string()))?,
        None => run::default_sites(),
    };
    let user_agent = a
        .user_agent
        .clone()
        .unwrap_or_else(|| fetch::user_agent(a.contact.as_deref()));
    let cfg = RunConfig {
        out: a.out.clone(),
        as_of,
        concurrency: a.concurrency,
        fetch: FetchConfig {
            user_agent,
            timeout: Duration::from_secs(a.timeout),
            retries: a.retries,
            per_host_inflight: a.per_host,
            min_interval: Duration::from_millis(a.delay_ms),
            ..FetchConfig::default()
        },
        crawl: CrawlConfig {
            max_depth: a.depth,
            max_pages: a.max_pages,
            site_budget: Duration::from_secs(a.site_budget.max(1)),
            ..CrawlConfig::default()
        },
        checks: CheckConfig::default(),
        write_visits: a.visits,
        browser: BrowserConfig {
            mode: a.browser.parse::<BrowserMode>().map_err(UserError)?,
            ..BrowserConfig::default()
        },
    };
    if let Err(e) = Browser::resolve(&cfg.browser, &cfg.fetch.user_agent) {
        return user_error(e.to_string());
    }
    let progress: Arc<dyn Progress> = if a.quiet {
        Arc::new(Plain)
    } else {
        let bar = indicatif::ProgressBar::new(sites.len() as u64).with_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} sites ({elapsed}, eta {eta}) {msg}",
            )
            .expect("static template"),
        );
        Arc::new(Bar(bar))
    };
    Ok((cfg, sites, progress))
}

/// One full monitor run and what follows it; returns the run's summary.
fn full_run(
    a: &RunArgs,
    cfg: &RunConfig,
    sites: Vec<Site>,
    progress: Arc<dyn Progress>,
) -> anyhow::Result<run::RunSummary> {
    let summary = match run::run_blocking(cfg, sites, progress) {
        Ok(s) => s,
        Err(RunError::Sites(m)) => return user_error(m),
        Err(e) => return Err(e.into()),
    };
    let states: Vec<String> = summary
        .home_by_state
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    println!(
        "{} of {} sites visited{}; {} pages; home pages: {}",
        summary.sites_done,
        summary.sites,
        if summary.interrupted {
            format!(
                " (stopped early, {} interrupted)",
                summary.sites_interrupted
            )
        } else {
            String::new()
        },
        summary.pages,
        states.join(", ")
    );
    println!(
        "{} findings in {}; archive {} bytes in {}; {:.1} s",
        summary.findings,
        cfg.out.join("findings.jsonl").display(),
        summary.bytes_archived,
        cfg.out.join("warc").display(),
        summary.elapsed_ms as f64 / 1000.0
    );
    if let Some(line) = summary.browser.console_line() {
        println!("{line}");
    }
    after_run(a, cfg, &summary)?;
    Ok(summary)
}

/// `--alert-rules`, or the defaults.
fn alert_config(a: &RunArgs) -> anyhow::Result<AlertConfig> {
    let Some(p) = &a.alert_rules else {
        return Ok(AlertConfig::default());
    };
    let text = std::fs::read_to_string(p)
        .map_err(|e| UserError(format!("cannot read {}: {e}", p.display())))?;
    let cfg: AlertConfig =
        serde_json::from_str(&text).map_err(|e| UserError(format!("{}: {e}", p.display())))?;
    if !(0.0..=1.0).contains(&cfg.unreachable_share) || cfg.unreachable_window_days < 1 {
        return user_error(format!(
            "{}: unreachable_share must be 0–1 and unreachable_window_days at least 1",
            p.display()
        ));
    }
    Ok(cfg)
}

/// How far back stored findings are read for the alert rules (`first_seen` of a streak
/// reaches back at most this far).
const HISTORY_DAYS: i64 = 60;

/// What follows a run: observations for `govcap evaluate`, the early-warning rules, the
/// webhook and the store. The run's start time stamps its findings and is the alerts' `now`.
fn after_run(a: &RunArgs, cfg: &RunConfig, summary: &run::RunSummary) -> anyhow::Result<()> {
    let findings_path = cfg.out.join("findings.jsonl");
    let text = std::fs::read_to_string(&findings_path)
        .with_context(|| format!("cannot read {}", findings_path.display()))?;
    let findings = alerts::parse_findings(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", findings_path.display()))?;
    let year = match a.year {
        Some(y) => y,
        None => cfg.as_of[..4].parse().expect("as-of was validated"),
    };
    let obs = observations::to_observations(&findings, year, &summary.started_at);
    let obs_path = cfg.out.join("observations.csv");
    export::write_atomic(&obs_path, export::observations_csv(&obs).as_bytes())?;
    println!(
        "{} observations for {year} in {}",
        obs.len(),
        obs_path.display()
    );

    let now = summary.started_at.as_str();
    let alert_cfg = alert_config(a)?;
    let mut store = match &a.db {
        Some(db) => Some(govcap_store::open(db)?),
        None => None,
    };
    let earlier = match store.as_mut() {
        Some(s) => {
            // The availability window, or 60 days for the streak rules' `first_seen`.
            let since = alerts::epoch_seconds(now)
                .map(|t| t - alert_cfg.unreachable_window_days.max(HISTORY_DAYS) * 86_400)
                .map(|t| govcap_monitor::clock::rfc3339_millis(t * 1000))
                .unwrap_or_default();
            stored_findings(s.as_mut(), &since)?
        }
        None => Vec::new(),
    };
    let mut history: Vec<alerts::Stamped> = findings
        .iter()
        .map(|f| alerts::Stamped {
            at: now,
            finding: f,
        })
        .collect();
    history.extend(
        earlier
            .iter()
            .map(|(at, f)| alerts::Stamped { at, finding: f }),
    );
    let raised = alerts::evaluate(&history, now, &alert_cfg);
    let mut lines = String::new();
    for al in &raised {
        lines.push_str(&serde_json::to_string(al)?);
        lines.push('\n');
    }
    let alerts_path = cfg.out.join("alerts.jsonl");
    export::write_atomic(&alerts_path, lines.as_bytes())?;
    let critical = raised
        .iter()
        .filter(|x| x.severity == Severity::Critical)
        .count();
    println!(
        "{} alerts ({critical} critical) in {}",
        raised.len(),
        alerts_path.display()
    );

    // Alerts POSTed by earlier runs (read before this run's are recorded): repeats within
    // the window are not POSTed again.
    let delivered = match (store.as_mut(), &a.webhook) {
        (Some(s), Some(_)) => delivered_alerts(s.as_mut(), now, alert_cfg.webhook_repeat_hours)?,
        _ => Vec::new(),
    };
    let mut alert_ids = Vec::new();
    if let Some(s) = store.as_mut() {
        let id = s.save_monitor_run(&to_stored_run(cfg, summary, &findings, &raised)?)?;
        alert_ids = run_alert_ids(s.as_mut(), id, now)?;
        println!(
            "recorded as monitor run {id} in {}",
            a.db.as_deref().unwrap_or_default()
        );
    }

    if let Some(url) = &a.webhook {
        let post = alerts::to_post(&raised, &delivered, now, alert_cfg.webhook_repeat_hours);
        let sending: Vec<Alert> = raised
            .iter()
            .zip(&post)
            .filter(|(_, p)| **p)
            .map(|(x, _)| x.clone())
            .collect();
        let results = alerts::webhook::post_all(
            url,
            &sending,
            &cfg.fetch.user_agent,
            Duration::from_secs(a.timeout),
        )?;
        if let Some(s) = store.as_mut() {
            let sent = sent_alert_ids(&alert_ids, &post, &results);
            s.mark_webhook_sent(&sent, &crate::clock::now_rfc3339())?;
        }
        let failed: Vec<String> = results
            .into_iter()
            .filter_map(|r| r.err().map(|e| e.to_string()))
            .collect();
        for f in &failed {
            eprintln!("webhook: {f}");
        }
        println!(
            "{} of {} alerts delivered to the webhook",
            sending.len() - failed.len(),
            sending.len()
        );
        let repeats = raised.len() - sending.len();
        if repeats > 0 {
            println!(
                "{repeats} alerts already POSTed within {} h not sent again (still in alerts.jsonl)",
                alert_cfg.webhook_repeat_hours
            );
        }
        if !failed.is_empty() {
            anyhow::bail!("{} alerts could not be delivered to {url}", failed.len());
        }
    }
    Ok(())
}

/// Alerts the store remembers POSTing within `hours` before `now` (by their run's time).
fn delivered_alerts(
    s: &mut dyn govcap_store::Store,
    now: &str,
    hours: i64,
) -> anyhow::Result<Vec<alerts::Delivered>> {
    let Some(t) = alerts::epoch_seconds(now).filter(|_| hours > 0) else {
        return Ok(Vec::new());
    };
    let since = govcap_monitor::clock::rfc3339_millis((t - hours * 3600) * 1000);
    let filter = govcap_store::AlertFilter {
        since: Some(since),
        ..Default::default()
    };
    Ok(s.list_alerts(&filter)?
        .into_iter()
        .filter(|x| x.webhook_sent_at.is_some())
        .map(|x| alerts::Delivered {
            code: x.alert.code,
            rule: x.alert.rule,
            severity: x.alert.severity,
            at: x.alert.last_seen,
        })
        .collect())
}

/// Store ids of the alerts run `run_id` recorded, in the order they were given.
fn run_alert_ids(
    s: &mut dyn govcap_store::Store,
    run_id: i64,
    now: &str,
) -> anyhow::Result<Vec<i64>> {
    let filter = govcap_store::AlertFilter {
        since: Some(now.to_string()),
        ..Default::default()
    };
    Ok(s.list_alerts(&filter)?
        .into_iter()
        .filter(|x| x.run_id == run_id)
        .map(|x| x.id)
        .collect())
}

/// Ids of the alerts the webhook accepted: `post` marks which of the run's alerts were sent,
/// `results` holds one delivery result per sent alert, in order.
fn sent_alert_ids<T, E>(ids: &[i64], post: &[bool], results: &[Result<T, E>]) -> Vec<i64> {
    if ids.len() != post.len() {
        return Vec::new(); // not the run's alerts: mark nothing rather than the wrong ones
    }
    let sent = ids.iter().zip(post).filter(|(_, p)| **p).map(|(id, _)| *id);
    sent.zip(results)
        .filter(|(_, r)| r.is_ok())
        .map(|(id, _)| id)
        .collect()
}

/// Findings of runs recorded since `since`, each with its run's start time.
fn stored_findings(
    s: &mut dyn govcap_store::Store,
    since: &str,
) -> anyhow::Result<Vec<(String, Finding)>> {
    let mut out = Vec::new();
    for row in s.monitor_findings_since(since)? {
        let f = Finding {
            code: row.finding.code,
            url: row.finding.url,
            check: row.finding.check,
            value: serde_json::from_str(&row.finding.value_json)?,
            details: serde_json::from_str(&row.finding.details_json)?,
            evidence: row.finding.evidence,
        };
        out.push((row.started_at, f));
    }
    Ok(out)
}

fn to_stored_run(
    cfg: &RunConfig,
    summary: &run::RunSummary,
    findings: &[Finding],
    raised: &[Alert],
) -> anyhow::Result<govcap_store::NewMonitorRun> {
    Ok(govcap_store::NewMonitorRun {
        started_at: summary.started_at.clone(),
        as_of: summary.as_of.clone(),
        out_dir: cfg.out.display().to_string(),
        summary_json: serde_json::to_string(summary)?,
        findings: findings
            .iter()
            .map(|f| {
                Ok(govcap_store::MonitorFinding {
                    code: f.code.clone(),
                    check: f.check.clone(),
                    url: f.url.clone(),
                    value_json: serde_json::to_string(&f.value)?,
                    details_json: serde_json::to_string(&f.details)?,
                    evidence: f.evidence.clone(),
                })
            })
            .collect::<anyhow::Result<_>>()?,
        alerts: raised.iter().map(alert_to_store).collect(),
    })
}

/// The store's copy of an alert (the store knows nothing of the monitor's types).
pub fn alert_to_store(a: &Alert) -> govcap_store::MonitorAlert {
    govcap_store::MonitorAlert {
        code: a.code.clone(),
        rule: a.rule.as_str().to_string(),
        severity: a.severity.as_str().to_string(),
        message_zh: a.message.zh.clone(),
        message_en: a.message.en.clone(),
        first_seen: a.first_seen.clone(),
        last_seen: a.last_seen.clone(),
        value: a.value,
        evidence: a.evidence.clone(),
        findings: a.findings.clone(),
    }
}

#[derive(Subcommand)]
pub enum EvidenceCommand {
    /// Print one archived record: its WARC headers, HTTP head and decoded payload.
    Show(EvidenceShowArgs),
}

#[derive(Args)]
pub struct EvidenceShowArgs {
    /// Record id as listed in findings.jsonl `evidence` (`<urn:uuid:…>`, `urn:uuid:…` or the bare uuid).
    pub record: String,
    /// A run's output directory (holding warc/), or a directory of .warc.gz files.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// Characters of decoded payload to print (0 = all).
    #[arg(long, default_value_t = 20_000)]
    pub max_chars: usize,
}

pub fn evidence(c: EvidenceCommand) -> anyhow::Result<()> {
    match c {
        EvidenceCommand::Show(a) => evidence_show(a),
    }
}

pub fn evidence_show(a: EvidenceShowArgs) -> anyhow::Result<()> {
    if !a.dir.is_dir() {
        return user_error(format!("{} is not a directory", a.dir.display()));
    }
    let Some((path, rec)) = warc::find_record(&a.dir, &a.record)? else {
        return user_error(format!(
            "no record {} in the archives under {}",
            warc::normalise_record_id(&a.record),
            a.dir.display()
        ));
    };
    println!("# {} @ {}", path.display(), rec.offset);
    for (k, v) in &rec.headers {
        println!("{k}: {v}");
    }
    println!();
    let text = match rec.http_parts() {
        Some((head, payload)) => {
            let head = String::from_utf8_lossy(head);
            print!("{head}");
            println!();
            let header = |name: &str| {
                head.lines().find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.trim()
                        .eq_ignore_ascii_case(name)
                        .then(|| v.trim().to_string())
                })
            };
            let encoding = header("content-encoding");
            let body = match fetch::decode_content(payload, encoding.as_deref(), 64 << 20) {
                Ok(b) => b,
                Err(fetch::ContentError::TooLarge(b)) => b,
                Err(e) => {
                    println!("({e}; raw bytes follow)");
                    payload.to_vec()
                }
            };
            let ct = header("content-type");
            if fetch::is_html(ct.as_deref(), &body) || fetch::is_textual(ct.as_deref()) {
                charset::decode_html(&body, ct.as_deref(), Some(b"cn")).text
            } else {
                format!(
                    "({} bytes of {})",
                    body.len(),
                    ct.unwrap_or_else(|| "unknown type".into())
                )
            }
        }
        None => String::from_utf8_lossy(&rec.block).into_owned(),
    };
    if a.max_chars > 0 && text.chars().count() > a.max_chars {
        let cut: String = text.chars().take(a.max_chars).collect();
        println!(
            "{cut}\n… ({} more characters; --max-chars 0 prints all)",
            text.chars().count() - a.max_chars
        );
    } else {
        println!("{text}");
    }
    Ok(())
}
