//! robots.txt for redirect targets: a redirect into another in-scope host waits for that
//! host's robots.txt (read once per host) and obeys it, so a disallowed target is never
//! fetched and its page gets the robots-skip treatment.

mod fetch_support;

use std::net::SocketAddr;
use std::time::Duration;

use fetch_support::quick_config;
use govcap_fixture::robust::{self, Robust};
use govcap_fixture::{spawn, FixtureConfig};
use govcap_monitor::crawl::{crawl_site, Cancel, CrawlConfig, Site};
use govcap_monitor::fetch::{FetchConfig, FetchOptions, Fetcher};
use govcap_monitor::model::FetchState;
use govcap_monitor::warc::{RecordIds, WarcReader, WarcWriter};
use serde_json::json;

#[tokio::test]
async fn a_redirect_to_a_host_whose_robots_disallows_it_is_not_followed() {
    let fx = spawn(FixtureConfig {
        sites: 1,
        robustness: true,
        ..FixtureConfig::default()
    })
    .await;
    let addr: SocketAddr = fx.addr();
    let port = addr.port();
    let code = Robust::CrossHostRedirect.code();
    let home = format!("http://{}:{port}/site/{code}/", robust::home_host());
    let fetcher = Fetcher::new(FetchConfig {
        resolve: vec![(robust::home_host(), addr), (robust::other_host(), addr)],
        ipv6_probe: false,
        ..quick_config()
    })
    .unwrap();
    let truth = fx.truth();
    let t = truth.iter().find(|t| t.code == code).unwrap();
    let dir = std::env::temp_dir().join(format!("govcap-xhost-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("x.warc.gz");
    let mut warc = WarcWriter::create(&path, RecordIds::from_seed(5), "t").unwrap();
    let cfg = CrawlConfig {
        max_depth: t.max_depth,
        max_pages: t.pages + 10,
        site_budget: Duration::from_secs(60),
        max_per_pattern: 50,
        search_probe: false,
        http_probe: false,
    };
    let site = Site {
        code: code.to_string(),
        url: home.clone(),
    };
    let (visit, stats) = crawl_site(
        &fetcher,
        &site,
        "2026-11-27",
        &cfg,
        &mut warc,
        &Cancel::new(),
    )
    .await
    .unwrap();
    warc.flush().unwrap();

    let jump = format!("{home}{}", robust::JUMP);
    let target = format!(
        "http://{}:{port}/site/{code}/{}",
        robust::other_host(),
        robust::TARGET
    );
    // The page is dropped like any robots-disallowed URL, and the target never requested.
    assert!(!visit
        .pages
        .iter()
        .any(|p| p.url == jump || p.final_url == target));
    assert_eq!(visit.pages.len(), t.pages, "the truth's crawl");
    assert!(visit
        .pages
        .iter()
        .all(|p| p.state == FetchState::Ok || p.status == Some(404)));
    assert_eq!(stats.skipped_robots, 1 + 1, "admin/ and the redirect");
    assert_eq!(
        visit.facts["robots_disallowed_redirects"],
        json!([{ "url": jump, "target": target,
                 "evidence": visit.facts["robots_disallowed_redirects"][0]["evidence"] }])
    );
    // The other host's robots.txt was read (and archived), once.
    let robots: Vec<&str> = visit.facts["robots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["url"].as_str().unwrap())
        .collect();
    let other_robots = format!("http://{}:{port}/robots.txt", robust::other_host());
    assert_eq!(
        robots,
        vec![
            format!("http://{}:{port}/robots.txt", robust::home_host()),
            other_robots.clone()
        ]
    );
    let mut reader = WarcReader::open(&path).unwrap();
    let mut uris: Vec<String> = Vec::new();
    while let Some(r) = reader.next_record().unwrap() {
        if r.header("WARC-Type") == Some("request") {
            uris.extend(r.header("WARC-Target-URI").map(str::to_string));
        }
    }
    assert_eq!(uris.iter().filter(|u| **u == jump).count(), 1, "{uris:?}");
    assert_eq!(uris.iter().filter(|u| **u == other_robots).count(), 1);
    assert!(!uris.contains(&target));
    drop(reader);
    std::fs::remove_dir_all(&dir).unwrap();

    // The same redirect fetched without the hold is followed (the fixture really redirects),
    // and the target host's robots.txt does not apply to a plain fetch.
    let f = fetcher.fetch(&jump, &FetchOptions::default()).await;
    assert_eq!(f.page.final_url, target);
    assert_eq!(f.page.state, FetchState::Ok);
    // With the hold, the fetch stops at the redirect and can be resumed.
    let held = fetcher
        .fetch(
            &jump,
            &FetchOptions {
                hold_cross_host: true,
                ..FetchOptions::default()
            },
        )
        .await;
    assert_eq!(held.held_redirect.as_deref(), Some(target.as_str()));
    assert_eq!(held.exchanges.len(), 1);
    let done = fetcher.follow(held, &FetchOptions::default()).await;
    assert_eq!(done.page.state, FetchState::Ok);
    assert_eq!(done.page.url, jump);
    assert_eq!(done.page.redirects, vec![target.clone()]);
    assert_eq!(done.exchanges.len(), 2);
}
