//! `govcap-bench crawl`: govcap's monitor against Scrapy 2.19 on the same loopback fixture,
//! in one run, with the same politeness.
//!
//! The fixture (`govcap-fixture`, seeded, no hostile sites) runs in this process; each
//! crawler runs as its own child process so its peak RSS is its own: ours is this binary
//! re-run with `--child-ours` (fetch + WARC + checks, as `monitor run` does), Scrapy is
//! `bench/scrapy_crawl.py` (fetch + link parsing only). Both get the monitor's default
//! fetch settings (per-host requests in flight and delay, timeout, retries, redirects, body
//! cap, user agent) and the same crawl bounds (depth, pages per site, per-pattern cap);
//! both obey robots.txt. Wall time is measured here around each child, start-up included.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use govcap_fixture::FixtureConfig;
use govcap_monitor::checks::CheckConfig;
use govcap_monitor::crawl::CrawlConfig;
use govcap_monitor::fetch::FetchConfig;
use govcap_monitor::model::FetchState;
use govcap_monitor::run::{parse_sites, run_blocking, Progress, RunConfig};

/// What the bench runs (all settable on the command line).
#[derive(Debug, Clone, PartialEq)]
struct Settings {
    sites: usize,
    hosts: usize,
    seed: u64,
    max_depth: u32,
    max_pages: usize,
    /// Sites visited at once by ours (Scrapy schedules all sites at once; per-host limits
    /// bound both).
    concurrency: usize,
    /// Requests in flight per host, for both crawlers (Scrapy's CONCURRENT_REQUESTS_PER_DOMAIN).
    per_host: usize,
    /// Milliseconds between request starts per host, for both (Scrapy's DOWNLOAD_DELAY).
    delay_ms: u64,
    python: String,
}

impl Default for Settings {
    fn default() -> Self {
        let crawl = CrawlConfig::default();
        Settings {
            sites: 200,
            hosts: 8,
            seed: 1,
            max_depth: crawl.max_depth,
            max_pages: crawl.max_pages,
            concurrency: 32,
            per_host: FetchConfig::default().per_host_inflight,
            delay_ms: FetchConfig::default().min_interval.as_millis() as u64,
            python: "python3".into(),
        }
    }
}

const HELP: &str = "usage: govcap-bench crawl [--sites N] [--hosts N] [--seed N] [--max-depth N]
                          [--max-pages N] [--concurrency N] [--per-host N] [--delay-ms MS]
                          [--python PATH]
Serves N seeded fixture portals over --hosts loopback addresses, crawls them with govcap's
monitor and with Scrapy 2.19 (bench/scrapy_crawl.py) under the same politeness (--per-host
requests in flight and --delay-ms between request starts per host; the monitor's defaults
unless given), and prints a markdown table.";

/// Parses the options; `child` gets `--child-ours SITES_CSV OUT_DIR` when present.
fn parse_args(args: &[String]) -> Result<(Settings, Option<(PathBuf, PathBuf)>), String> {
    let mut s = Settings::default();
    let mut child = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        fn num<T: std::str::FromStr>(name: &str, v: String) -> Result<T, String> {
            v.parse()
                .map_err(|_| format!("{name} must be a whole number, not {v:?}"))
        }
        match a.as_str() {
            "--sites" => s.sites = num("--sites", value("--sites")?)?,
            "--hosts" => s.hosts = num("--hosts", value("--hosts")?)?,
            "--seed" => s.seed = num("--seed", value("--seed")?)?,
            "--max-depth" => s.max_depth = num("--max-depth", value("--max-depth")?)?,
            "--max-pages" => s.max_pages = num("--max-pages", value("--max-pages")?)?,
            "--concurrency" => s.concurrency = num("--concurrency", value("--concurrency")?)?,
            "--per-host" => s.per_host = num("--per-host", value("--per-host")?)?,
            "--delay-ms" => s.delay_ms = num("--delay-ms", value("--delay-ms")?)?,
            "--python" => s.python = value("--python")?,
            "--child-ours" => {
                let csv = value("--child-ours")?;
                let out = value("--child-ours")?;
                child = Some((PathBuf::from(csv), PathBuf::from(out)));
            }
            "-h" | "--help" => return Err(HELP.to_string()),
            other => return Err(format!("unknown option {other:?}\n{HELP}")),
        }
    }
    if s.sites == 0 || s.hosts == 0 || s.max_pages == 0 || s.concurrency == 0 || s.per_host == 0 {
        return Err(
            "--sites, --hosts, --max-pages, --concurrency and --per-host must be at least 1".into(),
        );
    }
    Ok((s, child))
}

/// The arguments that hand `s` to a child run of this subcommand.
fn settings_args(s: &Settings) -> Vec<String> {
    [
        ("--sites", s.sites.to_string()),
        ("--hosts", s.hosts.to_string()),
        ("--seed", s.seed.to_string()),
        ("--max-depth", s.max_depth.to_string()),
        ("--max-pages", s.max_pages.to_string()),
        ("--concurrency", s.concurrency.to_string()),
        ("--per-host", s.per_host.to_string()),
        ("--delay-ms", s.delay_ms.to_string()),
    ]
    .into_iter()
    .flat_map(|(k, v)| [k.to_string(), v])
    .collect()
}

/// The fetch settings both crawlers get: the monitor's defaults with the bench's politeness.
fn fetch_config(s: &Settings) -> FetchConfig {
    FetchConfig {
        ipv6_probe: false,
        timing_probe: false,
        per_host_inflight: s.per_host,
        min_interval: std::time::Duration::from_millis(s.delay_ms),
        ..FetchConfig::default()
    }
}

/// Our monitor's configuration for the bench: the defaults of `monitor run`, minus the
/// probes that have no Scrapy counterpart (site-search query, IPv6, HTTP→HTTPS, phase timings) and the
/// browser.
fn ours_config(s: &Settings, out: PathBuf, as_of: String) -> RunConfig {
    RunConfig {
        out,
        as_of,
        concurrency: s.concurrency,
        fetch: fetch_config(s),
        crawl: CrawlConfig {
            max_depth: s.max_depth,
            max_pages: s.max_pages,
            search_probe: false,
            http_probe: false,
            ..CrawlConfig::default()
        },
        checks: CheckConfig::default(),
        write_visits: false,
        // The bench fixture has no script-rendered or challenged sites.
        browser: govcap_monitor::browser::BrowserConfig {
            mode: govcap_monitor::browser::BrowserMode::Off,
            ..Default::default()
        },
    }
}

/// What one crawler reports: `key value` lines, and `site CODE PAGES` per site.
#[derive(Debug, Default, PartialEq)]
struct Report {
    fields: BTreeMap<String, u64>,
    per_site: BTreeMap<String, u64>,
}

impl Report {
    fn parse(text: &str) -> Result<Report, String> {
        let mut r = Report::default();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let parts: Vec<&str> = line.split_whitespace().collect();
            let bad = || format!("unexpected report line {line:?}");
            match parts.as_slice() {
                ["site", code, n] => {
                    r.per_site
                        .insert(code.to_string(), n.parse().map_err(|_| bad())?);
                }
                [key, n] => {
                    r.fields
                        .insert(key.to_string(), n.parse().map_err(|_| bad())?);
                }
                _ => return Err(bad()),
            }
        }
        Ok(r)
    }

    fn get(&self, key: &str) -> Option<u64> {
        self.fields.get(key).copied()
    }
}

/// How far two per-site page counts are apart.
#[derive(Debug, PartialEq)]
struct Diff {
    sites_differing: usize,
    /// Largest |ours − theirs| on one site.
    max_abs: u64,
    /// Sum of ours − theirs.
    total: i64,
    /// Sites only one side reported.
    missing: usize,
    /// The first few differing sites: (code, ours, theirs).
    examples: Vec<(String, u64, u64)>,
}

fn compare(ours: &BTreeMap<String, u64>, theirs: &BTreeMap<String, u64>) -> Diff {
    let mut d = Diff {
        sites_differing: 0,
        max_abs: 0,
        total: 0,
        missing: 0,
        examples: Vec::new(),
    };
    for (code, &a) in ours {
        let Some(&b) = theirs.get(code) else {
            d.missing += 1;
            continue;
        };
        if a != b {
            d.sites_differing += 1;
            if d.examples.len() < 10 {
                d.examples.push((code.clone(), a, b));
            }
        }
        d.max_abs = d.max_abs.max(a.abs_diff(b));
        d.total += a as i64 - b as i64;
    }
    d.missing += theirs.keys().filter(|c| !ours.contains_key(*c)).count();
    d
}

/// Peak resident set of this process (Linux `VmHWM`), in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Collects each site's page count as it finishes.
#[derive(Default)]
struct Counts(Mutex<Vec<(String, usize)>>);

impl Progress for Counts {
    fn site_done(&self, code: &str, pages: usize, _home: Option<FetchState>) {
        self.0
            .lock()
            .expect("not poisoned")
            .push((code.to_string(), pages));
    }
}

/// The child: runs our monitor over the site list and prints its report.
fn child_ours(s: &Settings, csv: &Path, out: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(csv).map_err(|e| format!("{}: {e}", csv.display()))?;
    let sites = parse_sites(&text).map_err(|e| e.to_string())?;
    let as_of = FixtureConfig::default().as_of;
    let cfg = ours_config(s, out.to_path_buf(), as_of);
    let counts = Arc::new(Counts::default());
    let t = Instant::now();
    let summary = run_blocking(&cfg, sites, counts.clone()).map_err(|e| e.to_string())?;
    let ms = t.elapsed().as_millis();
    println!("pages {}", summary.pages);
    println!("crawl_ms {ms}");
    println!("skipped_robots {}", summary.skipped_robots);
    println!("findings {}", summary.findings);
    println!("bytes_archived {}", summary.bytes_archived);
    println!("peak_rss_kib {}", peak_rss_kib().unwrap_or(0));
    for (code, n) in counts.0.lock().expect("not poisoned").iter() {
        println!("site {code} {n}");
    }
    Ok(())
}

/// Runs a child to completion; returns its report and wall time in ms.
fn run_child(mut cmd: Command, what: &str) -> Result<(Report, u128), String> {
    let t = Instant::now();
    let out = cmd
        .output()
        .map_err(|e| format!("cannot start {what}: {e}"))?;
    let ms = t.elapsed().as_millis();
    if !out.status.success() {
        return Err(format!(
            "{what} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !stderr.trim().is_empty() {
        eprintln!("{what} said:\n{}", stderr.trim_end());
    }
    Ok((Report::parse(&String::from_utf8_lossy(&out.stdout))?, ms))
}

pub fn run(args: &[String]) -> Result<(), String> {
    let (s, child) = parse_args(args)?;
    if let Some((csv, out)) = child {
        return child_ours(&s, &csv, &out);
    }
    let work = std::env::temp_dir().join(format!("govcap-bench-crawl-{}", std::process::id()));
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let result = bench(&s, &work);
    let _ = std::fs::remove_dir_all(&work);
    result
}

fn bench(s: &Settings, work: &Path) -> Result<(), String> {
    let fcfg = FixtureConfig {
        sites: s.sites,
        seed: s.seed,
        hosts: s.hosts,
        hostile: false,
        ..FixtureConfig::default()
    };
    // The fixture gets one worker thread of its own; the crawlers run in child processes.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the fixture runtime: {e}"))?;
    let fixture = rt
        .block_on(govcap_fixture::try_spawn(fcfg))
        .map_err(|e| e.to_string())?;
    let csv = work.join("sites.csv");
    fixture
        .write_sites_csv(&csv)
        .map_err(|e| format!("{}: {e}", csv.display()))?;
    let fetch = fetch_config(s);

    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let mut ours = Command::new(exe);
    ours.arg("crawl")
        .args(settings_args(s))
        .arg("--child-ours")
        .arg(&csv)
        .arg(work.join("ours"));
    let r0 = fixture.requests();
    let (ours_r, ours_ms) = run_child(ours, "our monitor")?;
    let r1 = fixture.requests();

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/scrapy_crawl.py");
    let mut py = Command::new(&s.python);
    py.arg(&script)
        .arg("--sites")
        .arg(&csv)
        .args(["--user-agent", &fetch.user_agent])
        .args(["--max-depth", &s.max_depth.to_string()])
        .args(["--max-pages", &s.max_pages.to_string()])
        .args([
            "--max-per-pattern",
            &CrawlConfig::default().max_per_pattern.to_string(),
        ])
        .args(["--per-host", &fetch.per_host_inflight.to_string()])
        .args(["--delay", &fetch.min_interval.as_secs_f64().to_string()])
        .args(["--timeout", &fetch.timeout.as_secs_f64().to_string()])
        .args(["--retries", &fetch.retries.to_string()])
        .args(["--max-redirects", &fetch.max_redirects.to_string()])
        .args(["--max-body-bytes", &fetch.max_body_bytes.to_string()]);
    let (py_r, py_ms) = run_child(py, "Scrapy")?;
    let r2 = fixture.requests();
    drop(fixture);
    drop(rt);

    print_table(s, &fetch, &ours_r, ours_ms, r1 - r0, &py_r, py_ms, r2 - r1);
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn print_table(
    s: &Settings,
    fetch: &FetchConfig,
    ours: &Report,
    ours_ms: u128,
    ours_requests: u64,
    py: &Report,
    py_ms: u128,
    py_requests: u64,
) {
    let row = |name: &str, r: &Report, ms: u128, requests: u64| {
        let pages = r.get("pages").unwrap_or(0);
        let secs = ms as f64 / 1e3;
        let crawl = r.get("crawl_ms").unwrap_or(0) as f64 / 1e3;
        let rss = r.get("peak_rss_kib").unwrap_or(0) as f64 / 1024.0;
        format!(
            "| {name} | {secs:.1} | {crawl:.1} | {pages} | {requests} | {:.1} | {rss:.1} |",
            pages as f64 / secs.max(1e-9)
        )
    };
    println!(
        "\n### Crawl: {} fixture sites over {} loopback hosts (seed {})\n",
        s.sites, s.hosts, s.seed
    );
    println!(
        "Settings (both): depth {}, {} pages per site, {} per path pattern, {} requests in flight per host, \
         {} ms between request starts per host, {} s timeout, {} retries, {} redirects, robots.txt obeyed, \
         user agent {:?}. Ours: {} sites at once, fetch + WARC + checks. Scrapy 2.19: fetch + link parsing only.\n",
        s.max_depth,
        s.max_pages,
        CrawlConfig::default().max_per_pattern,
        fetch.per_host_inflight,
        fetch.min_interval.as_millis(),
        fetch.timeout.as_secs(),
        fetch.retries,
        fetch.max_redirects,
        fetch.user_agent,
        s.concurrency
    );
    println!("| crawler | wall s | crawl s | pages | requests served | pages/s | peak RSS MiB |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    println!("{}", row("govcap monitor", ours, ours_ms, ours_requests));
    println!("{}", row("Scrapy 2.19", py, py_ms, py_requests));
    let d = compare(&ours.per_site, &py.per_site);
    println!(
        "\nPages per site: {} of {} sites differ, largest gap {}, ours − Scrapy = {} in total, {} sites reported by one side only.",
        d.sites_differing,
        ours.per_site.len().max(py.per_site.len()),
        d.max_abs,
        d.total,
        d.missing
    );
    if !d.examples.is_empty() {
        let list: Vec<String> = d
            .examples
            .iter()
            .map(|(c, a, b)| format!("{c} {a} vs {b}"))
            .collect();
        println!("Differing sites (ours vs Scrapy): {}.", list.join(", "));
    }
    println!(
        "Ours also archived {} bytes of WARC and wrote {} findings; robots.txt refused {} URLs for ours, {} for Scrapy.",
        ours.get("bytes_archived").unwrap_or(0),
        ours.get("findings").unwrap_or(0),
        ours.get("skipped_robots").unwrap_or(0),
        py.get("robots_skipped").unwrap_or(0)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options_round_trip_to_the_child() {
        let (s, child) = parse_args(&strings(&[
            "--sites",
            "40",
            "--hosts",
            "5",
            "--max-pages",
            "7",
            "--seed",
            "9",
        ]))
        .unwrap();
        assert_eq!((s.sites, s.hosts, s.max_pages, s.seed), (40, 5, 7, 9));
        assert_eq!(s.max_depth, 2);
        assert!(child.is_none());
        let mut args = settings_args(&s);
        args.extend(strings(&["--child-ours", "a.csv", "out"]));
        let (again, child) = parse_args(&args).unwrap();
        assert_eq!(again, s);
        assert_eq!(child, Some(("a.csv".into(), "out".into())));
        assert!(parse_args(&strings(&["--hosts", "0"])).is_err());
        assert!(parse_args(&strings(&["--sites", "x"])).is_err());
        assert!(parse_args(&strings(&["--bogus"])).is_err());
    }

    #[test]
    fn ours_matches_the_scrapy_settings() {
        let s = Settings::default();
        let c = ours_config(&s, "o".into(), "2026-11-27".into());
        assert_eq!(c.crawl.max_depth, 2);
        assert_eq!(c.crawl.max_pages, 60);
        assert!(!c.crawl.search_probe && !c.crawl.http_probe && !c.fetch.ipv6_probe);
        assert_eq!(c.fetch.per_host_inflight, 2);
        assert_eq!(c.fetch.min_interval.as_millis(), 250);
    }

    #[test]
    fn reports_parse_and_compare() {
        let a = Report::parse("pages 12\ncrawl_ms 900\nsite fx001 5\nsite fx002 7\n").unwrap();
        assert_eq!(a.get("pages"), Some(12));
        assert_eq!(a.per_site.len(), 2);
        let b = Report::parse("pages 10\nsite fx001 5\nsite fx002 4\nsite fx003 1\n\n").unwrap();
        // fx002 differs by 3; fx003 only on one side; total 5+7 - (5+4) = 3.
        assert_eq!(
            compare(&a.per_site, &b.per_site),
            Diff {
                sites_differing: 1,
                max_abs: 3,
                total: 3,
                missing: 1,
                examples: vec![("fx002".into(), 7, 4)],
            }
        );
        assert!(Report::parse("pages x\n").is_err());
        assert!(Report::parse("a b c d\n").is_err());
    }
}
