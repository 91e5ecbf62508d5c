//! `govcap monitor run` and `govcap evidence show`: the command-line face of govcap-monitor.
//! Thin: flags become a `RunConfig`; the crate does the work.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};
use govcap_monitor::charset;
use govcap_monitor::checks::CheckConfig;
use govcap_monitor::crawl::CrawlConfig;
use govcap_monitor::fetch::{self, FetchConfig};
use govcap_monitor::model::FetchState;
use govcap_monitor::run::{self, Progress, RunConfig, RunError};
use govcap_monitor::warc;

use crate::{user_error, UserError};

#[derive(Subcommand)]
pub enum MonitorCommand {
    /// Visit portals politely, run the named checks and archive what was seen:
    /// DIR/findings.jsonl, DIR/warc/<code>.warc.gz, DIR/summary.json.
    Run(RunArgs),
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
    /// Output directory.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(c: MonitorCommand) -> anyhow::Result<()> {
    match c {
        MonitorCommand::Run(a) => monitor_run(a),
    }
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
    };
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
    let summary = match run::run_blocking(&cfg, sites, progress) {
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
    Ok(())
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
