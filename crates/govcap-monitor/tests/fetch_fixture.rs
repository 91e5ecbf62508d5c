//! The monitor against the simulated portals (`govcap-fixture`): hostile sites cannot hang or
//! exhaust it, each gets its own failure state, normal sites are crawled exactly as the
//! fixture's truth expects (same pages, same depth), and every check value it knows comes out.

mod fetch_support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use govcap_fixture::{spawn, FixtureConfig};
use govcap_monitor::checks::CheckConfig;
use govcap_monitor::crawl::{Cancel, CrawlConfig};
use govcap_monitor::fetch::FetchConfig;
use govcap_monitor::model::{FetchState, Finding, SiteVisit};
use govcap_monitor::run::{parse_sites, run, Quiet, RunConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_sites_are_bounded_and_normal_sites_match_the_truth() {
    let fx = spawn(FixtureConfig {
        sites: 6,
        seed: 7,
        as_of: "2026-11-27".into(),
        hostile: true,
        hosts: 3,
        slow_delay: Duration::from_secs(6),
        bomb_bytes: 256 << 20,
        huge_bytes: 64 << 20,
        ..FixtureConfig::default()
    })
    .await;
    let out = std::env::temp_dir().join(format!("govcap-fixture-run-{}", std::process::id()));
    let cfg = RunConfig {
        out: out.clone(),
        as_of: "2026-11-27".into(),
        concurrency: 6,
        fetch: FetchConfig {
            timeout: Duration::from_millis(1500),
            retries: 1,
            backoff: Duration::from_millis(50),
            max_body_bytes: 2 << 20,
            max_decoded_bytes: 4 << 20,
            min_interval: Duration::ZERO,
            per_host_inflight: 4,
            ..FetchConfig::default()
        },
        crawl: CrawlConfig {
            max_depth: 10,
            max_pages: 400,
            site_budget: Duration::from_secs(30),
            search_probe: true,
            http_probe: false,
            ..CrawlConfig::default()
        },
        checks: CheckConfig::default(),
        write_visits: true,
        browser: Default::default(),
    };
    let sites = parse_sites(&fx.sites_csv()).unwrap();
    assert_eq!(sites.len(), 13);
    let t = Instant::now();
    let summary = run(&cfg, sites, Arc::new(Quiet), Cancel::new())
        .await
        .unwrap();
    let took = t.elapsed();
    // Slow and dripping sites hold for 6 s; two 1.5 s attempts each bound them.
    assert!(took < Duration::from_secs(20), "run took {took:?}");
    assert_eq!(summary.sites_done, 13);

    let visits: BTreeMap<String, SiteVisit> = std::fs::read_to_string(out.join("visits.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<SiteVisit>(l).unwrap())
        .map(|v| (v.code.clone(), v))
        .collect();
    let home = |code: &str| visits[code].pages[0].state;
    assert_eq!(home("hx-slow"), FetchState::Timeout);
    assert_eq!(home("hx-drip"), FetchState::Timeout);
    assert_eq!(home("hx-loop"), FetchState::TooManyRedirects);
    assert_eq!(home("hx-waf"), FetchState::WafChallenge);
    assert_eq!(home("hx-bomb"), FetchState::TooLarge);
    assert_eq!(home("hx-huge"), FetchState::TooLarge);
    assert_eq!(home("hx-calendar"), FetchState::Ok);
    // The calendar is a chain of one pattern: cut after the default five links in a row,
    // backwards and forwards from the month the home page links to.
    let cal = &visits["hx-calendar"];
    let months = cal
        .pages
        .iter()
        .filter(|p| p.url.contains("/calendar"))
        .count();
    assert_eq!(
        months,
        1 + 5 + 5,
        "{:?}",
        cal.pages.iter().map(|p| &p.url).collect::<Vec<_>>()
    );

    // Normal sites: the crawl fetched exactly the truth's pages (plus the search probe).
    let truth = fx.truth();
    for t in truth.iter().filter(|t| t.hostile.is_none()) {
        let v = &visits[&t.code];
        let probe = v.facts.get("search_probe").and_then(|p| p.as_str());
        let crawled: Vec<_> = v
            .pages
            .iter()
            .filter(|p| Some(p.url.as_str()) != probe)
            .collect();
        if crawled.len() != t.pages {
            let want: Vec<String> = fx
                .portals()
                .offline_crawl(&t.code)
                .unwrap()
                .iter()
                .map(|(c, _)| c.path.clone())
                .collect();
            let got: Vec<String> = crawled
                .iter()
                .map(|p| url::Url::parse(&p.url).unwrap().path().to_string())
                .collect();
            eprintln!(
                "missing: {:?}",
                want.iter().filter(|w| !got.contains(w)).collect::<Vec<_>>()
            );
            eprintln!(
                "extra: {:?}",
                got.iter().filter(|w| !want.contains(w)).collect::<Vec<_>>()
            );
            eprintln!("facts: {}", serde_json::to_string(&v.facts).unwrap());
        }
        assert_eq!(crawled.len(), t.pages, "{}: pages", t.code);
        let deepest = crawled.iter().map(|p| p.depth).max().unwrap();
        assert_eq!(deepest, t.max_depth, "{}: depth", t.code);
        assert!(v.pages.iter().all(|p| p.warc_record.is_some()));
        assert!(
            !crawled.iter().any(|p| p.url.contains("/admin/")),
            "robots.txt obeyed"
        );
    }

    // Findings: one per check and site, each citing archived evidence.
    let findings: Vec<Finding> = std::fs::read_to_string(out.join("findings.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(findings.len(), summary.findings);
    assert_eq!(findings.len(), 13 * govcap_monitor::checks::CHECKS.len());
    let mut mismatches = Vec::new();
    for t in &truth {
        for (check, want) in &t.values {
            let got = findings
                .iter()
                .find(|f| f.code == t.code && &f.check == check);
            let same = got.is_some_and(|f| match (f.value.as_f64(), want.as_f64()) {
                (Some(a), Some(b)) => (a - b).abs() < 1e-9,
                _ => &f.value == want,
            });
            if !same {
                mismatches.push(format!(
                    "{} {check}: want {want}, got {:?}",
                    t.code,
                    got.map(|f| &f.value)
                ));
            }
        }
    }
    // End to end: crawl, decoding and checks give every value the fixture knows.
    assert!(mismatches.is_empty(), "{mismatches:#?}");
    std::fs::remove_dir_all(&out).unwrap();
}
