//! End to end over loopback: `monitor run` crawls the simulated portals (normal and hostile),
//! and every finding in `findings.jsonl` must equal the fixture's known truth.

mod checks_support;

use std::sync::Arc;
use std::time::Duration;

use checks_support::{level_mismatches, mismatches};
use govcap_fixture::{spawn, FixtureConfig};
use govcap_monitor::checks::CheckConfig;
use govcap_monitor::crawl::{Cancel, CrawlConfig};
use govcap_monitor::fetch::FetchConfig;
use govcap_monitor::model::Finding;
use govcap_monitor::run::{load_sites, run, Quiet, RunConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitor_run_finds_the_fixture_truth() {
    let fx = spawn(FixtureConfig {
        sites: 16,
        seed: 44,
        hostile: true,
        hosts: 4,
        // Past the fetch timeout below, so the slow sites time out.
        slow_delay: Duration::from_secs(3),
        bomb_bytes: 64 << 20,
        huge_bytes: 64 << 20,
        ..FixtureConfig::default()
    })
    .await;
    let out = std::env::temp_dir().join(format!("govcap-checks-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    let sites_csv = out.join("sites.csv");
    fx.write_sites_csv(&sites_csv).unwrap();
    let truth = fx.truth();
    let max_pages = truth.iter().map(|t| t.pages).max().unwrap() + 5;

    let cfg = RunConfig {
        out: out.clone(),
        as_of: "2026-11-27".into(),
        concurrency: 4,
        fetch: FetchConfig {
            timeout: Duration::from_millis(1500),
            connect_timeout: Duration::from_millis(500),
            retries: 0,
            min_interval: Duration::ZERO,
            per_host_inflight: 4,
            ..FetchConfig::default()
        },
        crawl: CrawlConfig {
            max_depth: 2,
            max_pages,
            site_budget: Duration::from_secs(60),
            max_per_pattern: 1000,
            search_probe: true,
            http_probe: false,
        },
        checks: CheckConfig::default(),
        write_visits: false,
        browser: Default::default(),
    };
    let sites = load_sites(&sites_csv).unwrap();
    let summary = run(&cfg, sites, Arc::new(Quiet), Cancel::new())
        .await
        .unwrap();
    assert_eq!(summary.sites_done, truth.len());

    let text = std::fs::read_to_string(out.join("findings.jsonl")).unwrap();
    let findings: Vec<Finding> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut problems = Vec::new();
    for t in &truth {
        let mine: Vec<Finding> = findings
            .iter()
            .filter(|f| f.code == t.code)
            .cloned()
            .collect();
        assert!(!mine.is_empty(), "{}: no findings", t.code);
        let spec = fx.portals().site(&t.code).unwrap();
        if t.hostile.is_some() {
            let av = mine.iter().find(|f| f.check == "availability").unwrap();
            if av.value != t.values["availability"] {
                problems.push(format!(
                    "{} availability {} ≠ {} ({})",
                    t.code, av.value, t.values["availability"], av.details
                ));
            }
            if let Some(fail) = t.details["availability"].get("failures") {
                if av.details["failures"] != *fail {
                    problems.push(format!(
                        "{} failures {} ≠ {fail}",
                        t.code, av.details["failures"]
                    ));
                }
            }
            if t.hostile.as_deref() == Some("waf") && av.details["challenged"] != 1 {
                problems.push(format!(
                    "{}: the challenge is not reported as such: {}",
                    t.code, av.details
                ));
            }
            continue;
        }
        let viewport_all = spec.viewport == govcap_fixture::spec::Viewport::All;
        let probed = mine
            .iter()
            .find(|f| f.check == "search")
            .is_some_and(|f| !f.details["test_query"].is_null());
        problems.extend(mismatches(t, &mine, probed, viewport_all));
        problems.extend(level_mismatches(t, &mine));
    }
    assert!(
        problems.is_empty(),
        "{} mismatches:\n{}",
        problems.len(),
        problems.join("\n")
    );
    // The agreement covers GBK pages served without any charset declaration.
    assert!(fx
        .portals()
        .sites
        .iter()
        .any(|s| s.charset == govcap_fixture::spec::Charset::GbkBare));
    // Complete crawls plus one search probe per site, one page per hostile home, and the
    // calendar trap cut at the page cap.
    let normal: usize = truth.iter().map(|t| t.pages).sum();
    assert!(
        summary.pages <= normal + 16 + 6 + max_pages,
        "{} pages",
        summary.pages
    );
    fx.shutdown().await;
    let _ = std::fs::remove_dir_all(&out);
}
