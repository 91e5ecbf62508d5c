//! `govcap monitor run`: sites → crawl → checks → `findings.jsonl`, with a WARC file per
//! site and a summary.
//!
//! Everything is written as each site finishes (findings and visits appended and flushed,
//! the site's archive closed), so stopping early — Ctrl-C, or a crash — keeps every site
//! already done. A site interrupted mid-crawl keeps its archive and its visit line (marked
//! `interrupted`) but gets no findings: checks on half a site would mislead.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use govcap_core::engine::score::short;
use serde::Serialize;
use tokio::task::JoinSet;

use crate::browser::{self, Browser, BrowserConfig, BrowserSummary, SiteBrowser};
use crate::checks::{self, CheckConfig};
use crate::clock;
use crate::crawl::{crawl_site, Cancel, CrawlConfig, CrawlStats, Site};
use crate::fetch::{FetchConfig, FetchSetupError, Fetcher};
use crate::model::{FetchState, Finding, SiteVisit};
use crate::warc::{RecordIds, WarcWriter};

/// The 337 prefecture-level portals (see `data/README.md`), the default site list.
pub const DEFAULT_SITES_CSV: &str = include_str!("../data/portals_337.csv");

/// Everything a run needs.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub out: PathBuf,
    /// `YYYY-MM-DD` the freshness and reply-age checks measure against.
    pub as_of: String,
    /// Sites visited at once.
    pub concurrency: usize,
    pub fetch: FetchConfig,
    pub crawl: CrawlConfig,
    pub checks: CheckConfig,
    /// Also write `visits.jsonl` (every page's decoded text: large).
    pub write_visits: bool,
    /// Headless Chromium for script-rendered pages and WAF confirmation.
    pub browser: BrowserConfig,
}

/// Why a run could not go on.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("site list: {0}")]
    Sites(String),
    #[error(transparent)]
    Setup(#[from] FetchSetupError),
    #[error("a site task failed: {0}")]
    Task(String),
    #[error(transparent)]
    Browser(#[from] browser::BrowserMissing),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> RunError + '_ {
    move |source| RunError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Told as the run goes (the CLI draws a progress bar from it).
pub trait Progress: Send + Sync {
    fn started(&self, _sites: usize) {}
    fn site_done(&self, _code: &str, _pages: usize, _home: Option<FetchState>) {}
    fn note(&self, _message: &str) {}
}

/// A [`Progress`] that says nothing.
pub struct Quiet;
impl Progress for Quiet {}

/// One site's archive in the summary.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WarcFile {
    pub code: String,
    pub path: String,
    pub bytes: u64,
    pub records: u64,
}

/// `summary.json`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RunSummary {
    pub started_at: String,
    pub as_of: String,
    pub user_agent: String,
    pub sites: usize,
    pub sites_done: usize,
    pub sites_interrupted: usize,
    pub pages: usize,
    /// Page states across all sites (ok included).
    pub pages_by_state: BTreeMap<String, usize>,
    /// Home-page states, one per site visited.
    pub home_by_state: BTreeMap<String, usize>,
    pub findings: usize,
    pub skipped_robots: usize,
    pub skipped_pattern: usize,
    pub bytes_archived: u64,
    pub warc_files: Vec<WarcFile>,
    pub elapsed_ms: u64,
    pub interrupted: bool,
    /// What headless Chromium did, or what was skipped without it.
    pub browser: BrowserSummary,
}

/// Columns a site list may have. Any other is refused: a misspelt `portal_ur1` would
/// otherwise be ignored without a word. The `check_*` / `has_*` columns are the provenance
/// columns of the built-in list.
const SITE_COLUMNS: &[&str] = &[
    "code",
    "name",
    "name_en",
    "province",
    "region",
    "type",
    "portal_url",
    "url",
    "portal_domain",
    "check_basis",
    "has_gov_service_section",
];

/// Problems listed one by one before the rest are counted.
const LISTED_SITE_PROBLEMS: usize = 20;

/// Parses a site list: a CSV with at least `code` and `portal_url` (or `url`) columns. Every
/// problem is found (row and reason): an unknown column, an empty or repeated code, an address
/// that is not an http(s) URL with a host; nothing is run unless every row passes.
pub fn parse_sites(text: &str) -> Result<Vec<Site>, RunError> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| RunError::Sites(e.to_string()))?
        .clone();
    let col = |names: &[&str]| {
        headers
            .iter()
            .position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
    };
    let mut problems: Vec<String> = Vec::new();
    for h in headers.iter() {
        let h = h.trim();
        let known = SITE_COLUMNS.iter().any(|k| h.eq_ignore_ascii_case(k))
            || h.to_ascii_lowercase().starts_with("check_status_");
        if !known {
            problems.push(format!(
                "row 1: unknown column {:?} (known: {})",
                short(h),
                SITE_COLUMNS.join(", ")
            ));
        }
    }
    let code_col = col(&["code"]).ok_or_else(|| RunError::Sites("no `code` column".into()))?;
    let url_col = col(&["portal_url", "url"])
        .ok_or_else(|| RunError::Sites("no `portal_url` (or `url`) column".into()))?;
    let mut sites = Vec::new();
    let mut codes: HashMap<String, usize> = HashMap::new();
    for (i, rec) in rdr.records().enumerate() {
        let row = i + 2;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("row {row}: {e}"));
                continue;
            }
        };
        let code = rec.get(code_col).unwrap_or("").trim().to_string();
        let url = rec.get(url_col).unwrap_or("").trim().to_string();
        if code.is_empty() && url.is_empty() {
            continue;
        }
        if code.is_empty() {
            problems.push(format!("row {row}: empty code"));
        } else if let Some(first) = codes.get(&code) {
            problems.push(format!(
                "row {row}: code {} appears twice (first on row {first})",
                short(&code)
            ));
        } else {
            codes.insert(code.clone(), row);
        }
        if let Err(why) = check_site_url(&url) {
            problems.push(format!("row {row}: {why}"));
        }
        sites.push(Site { code, url });
    }
    if !problems.is_empty() {
        let n = problems.len();
        let mut msg = format!(
            "{n} problem{} found, nothing run:",
            if n == 1 { "" } else { "s" }
        );
        for p in problems.iter().take(LISTED_SITE_PROBLEMS) {
            msg.push_str("\n  ");
            msg.push_str(p);
        }
        if n > LISTED_SITE_PROBLEMS {
            msg.push_str(&format!("\n  … and {} more", n - LISTED_SITE_PROBLEMS));
        }
        return Err(RunError::Sites(msg));
    }
    if sites.is_empty() {
        return Err(RunError::Sites("no sites".into()));
    }
    Ok(sites)
}

/// A portal address the monitor can visit: `http://` or `https://` with a host and no user
/// name or password.
fn check_site_url(url: &str) -> Result<(), String> {
    if url.is_empty() {
        return Err("empty url".into());
    }
    let parsed = url::Url::parse(url).map_err(|e| {
        format!(
            "{:?} is not a web address ({e}); write it in full, e.g. https://www.example.gov.cn/",
            short(url)
        )
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "{:?} is not an http:// or https:// address",
            short(url)
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("{:?} has no host", short(url)));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!(
            "{:?} carries a user name or password; a portal is visited as the public sees it",
            short(url)
        ));
    }
    Ok(())
}

/// Reads a site list file.
pub fn load_sites(path: &Path) -> Result<Vec<Site>, RunError> {
    let text = fs::read_to_string(path).map_err(io_err(path))?;
    parse_sites(&text)
}

/// The built-in 337 portals.
pub fn default_sites() -> Vec<Site> {
    parse_sites(DEFAULT_SITES_CSV).expect("the embedded portal list parses")
}

/// A code made safe as a file name.
fn file_stem(code: &str) -> String {
    code.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

struct SiteOutcome {
    visit: SiteVisit,
    stats: CrawlStats,
    findings: Vec<Finding>,
    warc: WarcFile,
    browser: SiteBrowser,
}

async fn visit_site(
    fetcher: Fetcher,
    site: Site,
    cfg: Arc<RunConfig>,
    browser: Arc<Browser>,
    warc_dir: PathBuf,
    cancel: Cancel,
) -> Result<SiteOutcome, RunError> {
    // The crawl and the browser share the site's time budget.
    let deadline = Instant::now() + cfg.crawl.site_budget;
    let path = warc_dir.join(format!("{}.warc.gz", file_stem(&site.code)));
    let software = format!("govcap-monitor/{}", env!("CARGO_PKG_VERSION"));
    let mut warc =
        WarcWriter::create(&path, RecordIds::from_os(), &software).map_err(io_err(&path))?;
    let (visit, stats) = crawl_site(&fetcher, &site, &cfg.as_of, &cfg.crawl, &mut warc, &cancel)
        .await
        .map_err(io_err(&path))?;
    // Script-rendered pages and a challenged home page, in Chromium when there is one.
    let (visit, site_browser) = if stats.interrupted {
        (visit, SiteBrowser::default())
    } else {
        browser::enhance(&browser, visit, &mut warc, &cancel, deadline)
            .await
            .map_err(io_err(&path))?
    };
    warc.flush().map_err(io_err(&path))?;
    let warc_file = WarcFile {
        code: site.code.clone(),
        path: path.to_string_lossy().into_owned(),
        bytes: warc.bytes_written(),
        records: warc.records_written(),
    };
    let (visit, findings) = if stats.interrupted {
        (visit, Vec::new())
    } else {
        // Checks parse HTML (CPU-bound, `!Send` parser): off the async workers.
        let check_cfg = cfg.checks.clone();
        tokio::task::spawn_blocking(move || {
            let f = checks::run_all(&visit, &check_cfg);
            (visit, f)
        })
        .await
        .map_err(|e| RunError::Task(e.to_string()))?
    };
    Ok(SiteOutcome {
        visit,
        stats,
        findings,
        warc: warc_file,
        browser: site_browser,
    })
}

fn state_name(s: FetchState) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Runs the monitor over `sites`. Returns when every site is done or, after `cancel`, when
/// the sites in progress have stopped; sites not yet started are left out. Uses Chromium as
/// `cfg.browser` says; with `require` and no Chromium it fails before visiting anything.
pub async fn run(
    cfg: &RunConfig,
    sites: Vec<Site>,
    progress: Arc<dyn Progress>,
    cancel: Cancel,
) -> Result<RunSummary, RunError> {
    let browser = Arc::new(Browser::resolve(&cfg.browser, &cfg.fetch.user_agent)?);
    let started = Instant::now();
    let started_at = clock::rfc3339_millis(clock::now_millis());
    let warc_dir = cfg.out.join("warc");
    fs::create_dir_all(&warc_dir).map_err(io_err(&warc_dir))?;
    let findings_path = cfg.out.join("findings.jsonl");
    let mut findings_out =
        BufWriter::new(File::create(&findings_path).map_err(io_err(&findings_path))?);
    let visits_path = cfg.out.join("visits.jsonl");
    let mut visits_out = if cfg.write_visits {
        Some(BufWriter::new(
            File::create(&visits_path).map_err(io_err(&visits_path))?,
        ))
    } else {
        None
    };
    let fetcher = Fetcher::new(cfg.fetch.clone())?;
    let shared = Arc::new(cfg.clone());
    let mut summary = RunSummary {
        started_at,
        as_of: cfg.as_of.clone(),
        user_agent: cfg.fetch.user_agent.clone(),
        sites: sites.len(),
        sites_done: 0,
        sites_interrupted: 0,
        pages: 0,
        pages_by_state: BTreeMap::new(),
        home_by_state: BTreeMap::new(),
        findings: 0,
        skipped_robots: 0,
        skipped_pattern: 0,
        bytes_archived: 0,
        warc_files: Vec::new(),
        elapsed_ms: 0,
        interrupted: false,
        browser: BrowserSummary::new(&browser),
    };
    progress.started(sites.len());

    let mut queue = sites.into_iter();
    let mut tasks: JoinSet<Result<SiteOutcome, RunError>> = JoinSet::new();
    let mut first_error: Option<RunError> = None;
    loop {
        while tasks.len() < cfg.concurrency.max(1)
            && !cancel.is_cancelled()
            && first_error.is_none()
        {
            let Some(site) = queue.next() else { break };
            tasks.spawn(visit_site(
                fetcher.clone(),
                site,
                shared.clone(),
                browser.clone(),
                warc_dir.clone(),
                cancel.clone(),
            ));
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        let outcome = match joined {
            Ok(Ok(o)) => o,
            Ok(Err(e)) => {
                // An archive could not be written: stop starting sites, keep what is done.
                cancel.cancel();
                first_error.get_or_insert(e);
                continue;
            }
            Err(e) => {
                cancel.cancel();
                first_error.get_or_insert(RunError::Task(e.to_string()));
                continue;
            }
        };
        let SiteOutcome {
            visit,
            stats,
            findings,
            warc,
            browser: site_browser,
        } = outcome;
        summary.browser.add(&site_browser);
        for f in &findings {
            let line = serde_json::to_string(f).expect("findings serialise");
            writeln!(findings_out, "{line}").map_err(io_err(&findings_path))?;
        }
        findings_out.flush().map_err(io_err(&findings_path))?;
        if let Some(out) = visits_out.as_mut() {
            let line = serde_json::to_string(&visit).expect("visits serialise");
            writeln!(out, "{line}").map_err(io_err(&visits_path))?;
            out.flush().map_err(io_err(&visits_path))?;
        }
        let home = visit.pages.iter().find(|p| p.depth == 0).map(|p| p.state);
        if let Some(h) = home {
            *summary.home_by_state.entry(state_name(h)).or_default() += 1;
        }
        for p in &visit.pages {
            *summary
                .pages_by_state
                .entry(state_name(p.state))
                .or_default() += 1;
        }
        summary.pages += visit.pages.len();
        summary.findings += findings.len();
        summary.skipped_robots += stats.skipped_robots;
        summary.skipped_pattern += stats.skipped_pattern;
        summary.bytes_archived += warc.bytes;
        if stats.interrupted {
            summary.sites_interrupted += 1;
        } else {
            summary.sites_done += 1;
        }
        progress.site_done(&visit.code, visit.pages.len(), home);
        summary.warc_files.push(warc);
    }
    summary.interrupted = cancel.is_cancelled();
    summary.warc_files.sort_by(|a, b| a.code.cmp(&b.code));
    summary.elapsed_ms = started.elapsed().as_millis() as u64;
    let summary_path = cfg.out.join("summary.json");
    let text = serde_json::to_string_pretty(&summary).expect("summary serialises");
    fs::write(&summary_path, text + "\n").map_err(io_err(&summary_path))?;
    match first_error {
        Some(e) => Err(e),
        None => Ok(summary),
    }
}

/// Runs on a fresh multi-threaded runtime, with Ctrl-C wired to a clean stop (a second
/// Ctrl-C exits at once with status 130).
pub fn run_blocking(
    cfg: &RunConfig,
    sites: Vec<Site>,
    progress: Arc<dyn Progress>,
) -> Result<RunSummary, RunError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(io_err(&cfg.out))?;
    rt.block_on(async {
        let cancel = Cancel::new();
        let watcher = {
            let cancel = cancel.clone();
            let progress = progress.clone();
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    progress.note(
                        "stopping: finishing the sites in progress (Ctrl-C again to quit now)",
                    );
                    cancel.cancel();
                    if tokio::signal::ctrl_c().await.is_ok() {
                        std::process::exit(130);
                    }
                }
            })
        };
        let r = run(cfg, sites, progress, cancel).await;
        watcher.abort();
        r
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_lists() {
        let s = parse_sites(
            "\u{feff}code,name,portal_url\n1,a,http://a.gov.cn/\n\n2,b,http://b.gov.cn/\n",
        )
        .unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(
            s[1],
            Site {
                code: "2".into(),
                url: "http://b.gov.cn/".into()
            }
        );
        assert!(matches!(
            parse_sites("code,x\n1,2\n"),
            Err(RunError::Sites(_))
        ));
        assert!(matches!(
            parse_sites("code,url\n1,http://a/\n1,http://b/\n"),
            Err(RunError::Sites(_))
        ));
        // Every problem with its row; nothing accepted.
        let Err(RunError::Sites(m)) = parse_sites(
            "code,portal_url,portal_ur1\n1,127.0.0.1:1/,x\n2,ftp://x/,x\n1,http://u:p@a.gov.cn/,x\n3,https://b.gov.cn/,x\n",
        ) else {
            panic!("refused")
        };
        for want in [
            "5 problems",
            "row 1: unknown column \"portal_ur1\"",
            "row 2: \"127.0.0.1:1/\" is not a web address",
            "row 3: \"ftp://x/\" is not an http:// or https:// address",
            "row 4: code 1 appears twice (first on row 2)",
        ] {
            assert!(m.contains(want), "{want} in {m}");
        }
        assert!(m.contains("user name or password"), "{m}");
        let all = default_sites();
        assert_eq!(all.len(), 337);
        assert_eq!(all[0].code, "110000");
        assert_eq!(all[0].url, "https://www.beijing.gov.cn/");
    }

    #[test]
    fn file_stems_are_safe() {
        assert_eq!(file_stem("110000"), "110000");
        assert_eq!(file_stem("../x y"), "___x_y");
    }
}
