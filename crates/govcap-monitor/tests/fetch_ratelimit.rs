//! Rate limits: 429 / 503 with `Retry-After` are waited out up to the cap, the host is held
//! back and spaced wider afterwards, and a page still refused is reported as rate-limited —
//! never as a 4xx, never as the site being down.

mod fetch_support;

use std::time::{Duration, Instant};

use fetch_support::*;
use govcap_fixture::robust::{Robust, RATE_LIMIT_FIRST};
use govcap_fixture::{spawn, FixtureConfig};
use govcap_monitor::checks::{self, CheckConfig};
use govcap_monitor::crawl::{crawl_site, Cancel, CrawlConfig, Site};
use govcap_monitor::fetch::{
    host_key, FetchConfig, FetchOptions, Fetcher, RATE_LIMITED_MARKER, RATE_LIMITED_STATE,
};
use govcap_monitor::model::FetchState;
use govcap_monitor::warc::{RecordIds, WarcWriter};
use serde_json::json;

fn warc(name: &str) -> WarcWriter {
    let d = std::env::temp_dir().join(format!("govcap-ratelimit-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let w = WarcWriter::create(&d.join("r.warc.gz"), RecordIds::from_seed(9), "t").unwrap();
    // Nothing reads this archive back: unlink it now (the open file keeps working) so no
    // test leaves it behind.
    std::fs::remove_dir_all(&d).unwrap();
    w
}

fn small_crawl() -> CrawlConfig {
    CrawlConfig {
        max_depth: 1,
        max_pages: 3,
        site_budget: Duration::from_secs(30),
        max_per_pattern: 20,
        search_probe: false,
        http_probe: false,
    }
}

/// The fixture with only the robustness portals' neighbours: one normal site plus both.
async fn fixture() -> (govcap_fixture::Fixture, Site) {
    let fx = spawn(FixtureConfig {
        sites: 1,
        robustness: true,
        ..FixtureConfig::default()
    })
    .await;
    let (code, url) = fx
        .sites()
        .into_iter()
        .find(|(c, _)| c == Robust::RateLimited.code())
        .unwrap();
    (fx, Site { code, url })
}

#[tokio::test]
async fn the_fixtures_429s_are_waited_out_and_the_host_slowed_down() {
    let (fx, site) = fixture().await;
    let fetcher = Fetcher::new(FetchConfig {
        ipv6_probe: false,
        ..quick_config()
    })
    .unwrap();
    let t = Instant::now();
    let (visit, _) = crawl_site(
        &fetcher,
        &site,
        "2026-11-27",
        &small_crawl(),
        &mut warc("ok"),
        &Cancel::new(),
    )
    .await
    .unwrap();
    let took = t.elapsed();
    let home = &visit.pages[0];
    assert_eq!(home.state, FetchState::Ok, "{:?}", visit.facts);
    assert_eq!(home.status, Some(200));
    // Two refusals with Retry-After: 1 → two waits of a second before the page came.
    assert!(took >= Duration::from_secs(2), "took {took:?}");
    let rl = visit.facts["rate_limited"].as_array().unwrap();
    assert_eq!(rl.len(), 1, "{rl:?}");
    assert_eq!(rl[0]["url"], json!(site.url));
    assert_eq!(rl[0]["status"], json!(429));
    assert_eq!(rl[0]["refusals"], json!(RATE_LIMIT_FIRST));
    assert_eq!(rl[0]["retry_after_s"], json!(1.0));
    assert_eq!(rl[0]["refused"], json!(false));
    assert!(rl[0]["waited_ms"].as_u64().unwrap() >= 2000);
    // Spacing grew from nothing to at least the asked second, and stays so for the host.
    let host = host_key(&url::Url::parse(&site.url).unwrap());
    let spacing = fetcher.gates().interval(&host).unwrap();
    assert!(spacing >= Duration::from_secs(1), "{spacing:?}");
    assert_eq!(
        rl[0]["host_spacing_ms"].as_u64(),
        Some(spacing.as_millis() as u64)
    );
    // The rest of the crawl got pages, not refusals.
    assert_eq!(visit.pages.len(), 3);
    assert!(visit.pages.iter().all(|p| p.state == FetchState::Ok));

    // The truth: an up site, as found.
    let truth = fx.truth();
    let t = truth.iter().find(|t| t.code == site.code).unwrap();
    let findings = checks::run_all(&visit, &CheckConfig::default());
    let av = findings.iter().find(|f| f.check == "availability").unwrap();
    assert_eq!(av.value, t.values["availability"]);
    assert_eq!(
        av.details["successes"],
        t.details["availability"]["successes"]
    );
    assert_eq!(
        av.details["challenged"],
        t.details["availability"]["challenged"]
    );
}

#[tokio::test]
async fn a_page_still_refused_is_rate_limited_not_4xx_and_not_down() {
    let (_fx, site) = fixture().await;
    // No retries for transient failures; a refusal with Retry-After still gets one.
    let fetcher = Fetcher::new(FetchConfig {
        retries: 0,
        ipv6_probe: false,
        ..quick_config()
    })
    .unwrap();
    let (visit, _) = crawl_site(
        &fetcher,
        &site,
        "2026-11-27",
        &small_crawl(),
        &mut warc("refused"),
        &Cancel::new(),
    )
    .await
    .unwrap();
    let home = &visit.pages[0];
    assert_eq!(home.status, Some(429));
    assert_eq!(home.state, RATE_LIMITED_STATE);
    assert_eq!(home.state, FetchState::RateLimited);
    assert_eq!(
        serde_json::to_value(home.state).unwrap(),
        json!("rate_limited")
    );
    assert_ne!(home.state, FetchState::Http4xx);
    assert_eq!(visit.facts["waf_marker"], json!(RATE_LIMITED_MARKER));
    assert!(visit.facts["home_error"]
        .as_str()
        .unwrap()
        .starts_with("rate limited: HTTP 429 after 2 refusal(s)"));
    assert_eq!(visit.facts["rate_limited"][0]["refused"], json!(true));
    assert_eq!(visit.pages.len(), 1, "no crawl past a refused home page");

    let findings = checks::run_all(&visit, &CheckConfig::default());
    let av = findings.iter().find(|f| f.check == "availability").unwrap();
    assert_eq!(
        av.value,
        json!(null),
        "not counted as down: {:?}",
        av.details
    );
    assert_eq!(av.details["failures"], json!({}));
    assert!(av.details["reason"].as_str().unwrap().contains("rate"));
    let links = findings.iter().find(|f| f.check == "links").unwrap();
    assert_eq!(links.value, json!(null));
}

#[tokio::test]
async fn a_retry_after_over_the_cap_is_not_waited_for() {
    let server = serve(|_, _| status(429, &[("Retry-After", "120")], b"slow down")).await;
    let fetcher = Fetcher::new(FetchConfig {
        max_retry_after: Duration::from_secs(5),
        ..quick_config()
    })
    .unwrap();
    let t = Instant::now();
    let f = fetcher
        .fetch(&server.url("/x"), &FetchOptions::default())
        .await;
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    assert_eq!(server.hits("/x"), 1);
    assert_eq!(f.page.state, RATE_LIMITED_STATE);
    let rl = f.rate_limit.unwrap();
    assert_eq!((rl.status, rl.refusals, rl.refused), (429, 1, true));
    assert_eq!(rl.retry_after_s, Some(120.0));
    assert_eq!(rl.waited_ms, 0);
    assert!(f.error.unwrap().contains("over the 5 s cap"));
    // Not waited for, but the host is still slowed down (doubled, at least 1 s, capped).
    let host = host_key(&url::Url::parse(&server.url("/")).unwrap());
    assert_eq!(
        fetcher.gates().interval(&host),
        Some(Duration::from_secs(1))
    );
}

#[tokio::test]
async fn a_503_with_retry_after_is_waited_out_and_later_requests_are_spaced() {
    let server = serve(|p, n| match (p, n) {
        ("/busy", 1) => status(503, &[("Retry-After", "1")], b"busy"),
        ("/busy", _) => html("<html>ok now</html>"),
        _ => html("<html>other</html>"),
    })
    .await;
    let fetcher = Fetcher::new(quick_config()).unwrap();
    let f = fetcher
        .fetch(&server.url("/busy"), &FetchOptions::default())
        .await;
    assert_eq!(f.page.state, FetchState::Ok);
    let rl = f.rate_limit.unwrap();
    assert_eq!((rl.status, rl.refusals, rl.refused), (503, 1, false));
    assert!(rl.waited_ms >= 1000);
    // Two more pages from the same host: their starts are now at least a second apart
    // (quick_config has no spacing at all before the refusal).
    let (ua, ub, opts) = (server.url("/a"), server.url("/b"), FetchOptions::default());
    let (a, b) = tokio::join!(fetcher.fetch(&ua, &opts), fetcher.fetch(&ub, &opts));
    assert_eq!(
        (a.page.state, b.page.state),
        (FetchState::Ok, FetchState::Ok)
    );
    let log = server.log.lock().unwrap().clone();
    let at = |p: &str| log.iter().find(|(_, q, _)| q == p).unwrap().0;
    let busy: Vec<Instant> = log
        .iter()
        .filter(|(_, q, _)| q == "/busy")
        .map(|(t, _, _)| *t)
        .collect();
    assert!(busy[1] - busy[0] >= Duration::from_millis(990));
    let (ta, tb) = (at("/a"), at("/b"));
    let gap = if ta > tb { ta - tb } else { tb - ta };
    assert!(gap >= Duration::from_millis(990), "{gap:?}");
}

#[tokio::test]
async fn a_503_without_retry_after_is_still_a_server_error() {
    let server = serve(|_, _| status(503, &[], b"down")).await;
    let f = Fetcher::new(quick_config())
        .unwrap()
        .fetch(&server.url("/x"), &FetchOptions::default())
        .await;
    assert_eq!(f.page.state, FetchState::Http5xx);
    assert!(f.rate_limit.is_none());
    assert_eq!(server.hits("/x"), 3);
}
