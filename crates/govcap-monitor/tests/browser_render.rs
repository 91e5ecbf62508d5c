//! Headless Chromium in a monitor run, over the fixture's two sites that need a browser:
//! `sx-spa` (the home page is an empty shell built by an inline script) and `sx-waf` (HTTP 412
//! with a script that sets a cookie and reloads).
//!
//! With Chromium, the features that only exist after rendering are found, the rendered DOM is
//! archived as a `conversion` record cited in the evidence, and the WAF site is confirmed up
//! behind its challenge while its state stays `waf_challenge`. Without a browser
//! (`--browser off`, which needs no Chromium and always runs) the features are not found and
//! the run says what it skipped. The Chromium test is skipped with a visible message when
//! Chromium is not installed, unless `GOVCAP_REQUIRE_BROWSER=1` (CI), where it fails.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use govcap_fixture::{spawn, Fixture, FixtureConfig, SiteTruth};
use govcap_monitor::browser::{BrowserConfig, BrowserMode};
use govcap_monitor::checks::CheckConfig;
use govcap_monitor::crawl::{Cancel, CrawlConfig};
use govcap_monitor::fetch::FetchConfig;
use govcap_monitor::model::{Finding, SiteVisit};
use govcap_monitor::run::{load_sites, run, Quiet, RunConfig, RunError, RunSummary};
use govcap_monitor::warc::find_record;
use serde_json::{json, Value};

async fn fixture() -> Fixture {
    spawn(FixtureConfig {
        sites: 2,
        seed: 21,
        scripted: true,
        ..FixtureConfig::default()
    })
    .await
}

fn out_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("govcap-browser-run-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run_config(out: &Path) -> RunConfig {
    RunConfig {
        out: out.to_path_buf(),
        as_of: "2026-11-27".into(),
        concurrency: 4,
        fetch: FetchConfig {
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(2),
            retries: 0,
            min_interval: Duration::ZERO,
            per_host_inflight: 4,
            ..FetchConfig::default()
        },
        crawl: CrawlConfig {
            max_depth: 2,
            max_pages: 80,
            site_budget: Duration::from_secs(60),
            max_per_pattern: 1000,
            search_probe: true,
            http_probe: false,
        },
        checks: CheckConfig::default(),
        write_visits: true,
        browser: BrowserConfig::default(),
    }
}

struct Ran {
    out: PathBuf,
    summary: RunSummary,
    findings: Vec<Finding>,
    visits: Vec<SiteVisit>,
    truth: Vec<SiteTruth>,
}

impl Ran {
    fn finding(&self, code: &str, check: &str) -> &Finding {
        self.findings
            .iter()
            .find(|f| f.code == code && f.check == check)
            .unwrap_or_else(|| panic!("no {check} finding for {code}"))
    }

    fn visit(&self, code: &str) -> &SiteVisit {
        self.visits.iter().find(|v| v.code == code).unwrap()
    }

    fn truth(&self, code: &str) -> &SiteTruth {
        self.truth.iter().find(|t| t.code == code).unwrap()
    }
}

async fn monitor(fx: &Fixture, tag: &str, browser: BrowserConfig) -> Ran {
    let out = out_dir(tag);
    let sites_csv = out.join("sites.csv");
    fx.write_sites_csv(&sites_csv).unwrap();
    let summary = run(
        &RunConfig {
            browser,
            ..run_config(&out)
        },
        load_sites(&sites_csv).unwrap(),
        Arc::new(Quiet),
        Cancel::new(),
    )
    .await
    .unwrap();
    let lines = |f: &str| -> Vec<String> {
        std::fs::read_to_string(out.join(f))
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    };
    let findings = lines("findings.jsonl")
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let visits = lines("visits.jsonl")
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    Ran {
        out,
        summary,
        findings,
        visits,
        truth: fx.truth(),
    }
}

fn home_state(v: &SiteVisit) -> Value {
    json!(v.pages.iter().find(|p| p.depth == 0).unwrap().state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_chromium_script_built_features_are_found_and_the_waf_is_confirmed() {
    let Some(chromium) = govcap_browser::find_chromium() else {
        if std::env::var("GOVCAP_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!(
                "GOVCAP_REQUIRE_BROWSER=1 but Chromium is not installed (apt-get install chromium)"
            );
        }
        eprintln!("skipped: chromium not installed (with_chromium_script_built_features_are_found_and_the_waf_is_confirmed)");
        return;
    };
    let fx = fixture().await;
    let requests_before = fx.requests();
    let r = monitor(
        &fx,
        "with",
        BrowserConfig {
            mode: BrowserMode::Require,
            chromium: Some(chromium),
            ..BrowserConfig::default()
        },
    )
    .await;
    let b = &r.summary.browser;
    eprintln!(
        "browser: {} pages rendered, WAF {:?}, {} ms in total, slowest run {} ms; {} fixture requests",
        b.rendered_pages,
        b.waf_confirmations,
        b.render_ms_total,
        b.render_ms_max,
        fx.requests() - requests_before
    );
    assert!(b.available);
    assert_eq!(b.mode, "require");
    // Only the shell is script-rendered: the normal portals are left alone.
    assert_eq!(b.rendered_pages, 1, "{b:?}");
    assert_eq!(b.render_failures, 0);
    assert_eq!(b.skipped_script_pages, 0);
    assert_eq!(b.skipped_waf_confirmations, 0);
    assert_eq!(
        b.waf_confirmations.get("up_behind_challenge"),
        Some(&1),
        "{b:?}"
    );
    assert!(b.render_ms_max > 0);

    // The script-rendered portal: the fixture's truth (what a browser shows).
    let t = r.truth("sx-spa");
    for check in ["availability", "mobile", "search", "identity"] {
        assert_eq!(
            r.finding("sx-spa", check).value,
            t.values[check],
            "sx-spa {check}: {:?}",
            r.finding("sx-spa", check)
        );
    }
    assert_eq!(
        r.finding("sx-spa", "identity").details["icp"],
        t.details["identity"]["icp"]
    );
    assert_eq!(
        r.finding("sx-spa", "mobile").details["home_has_viewport"],
        json!(true)
    );
    assert_eq!(
        r.finding("sx-spa", "search").details["home_has_form"],
        json!(true)
    );

    // The rendered DOM is in the WARC as a conversion record referring to the response.
    let visit = r.visit("sx-spa");
    let rendered = &visit.facts["browser"]["rendered"][0];
    assert_eq!(rendered["page"], json!(0));
    assert_eq!(rendered["reason"], json!("empty_app_root"));
    eprintln!("sx-spa home rendered in {} ms", rendered["ms"]);
    let conv_id = rendered["record"].as_str().unwrap().to_string();
    let response_id = visit.pages[0].warc_record.clone().unwrap();
    let (_, conv) = find_record(&r.out, &conv_id).unwrap().unwrap();
    assert_eq!(conv.header("WARC-Type"), Some("conversion"));
    assert_eq!(conv.header("WARC-Refers-To"), Some(response_id.as_str()));
    assert_eq!(
        conv.header("WARC-Target-URI"),
        Some(visit.pages[0].final_url.as_str())
    );
    let dom = String::from_utf8(conv.block.clone()).unwrap();
    assert!(dom.contains("name=\"viewport\""), "{dom}");
    assert!(dom.contains(t.details["identity"]["icp"].as_str().unwrap()));
    let (_, resp) = find_record(&r.out, &response_id).unwrap().unwrap();
    assert_eq!(resp.header("WARC-Type"), Some("response"));
    let static_html = String::from_utf8_lossy(resp.http_parts().unwrap().1).into_owned();
    assert!(static_html.contains("<div id=\"app\"></div>"));
    assert!(!static_html.contains("<meta name=\"viewport\""));
    // …and cited, with the response, by the findings read from the page.
    for check in ["mobile", "search", "identity"] {
        let ev = &r.finding("sx-spa", check).evidence;
        assert!(ev.contains(&conv_id), "{check} evidence {ev:?}");
        assert!(ev.contains(&response_id), "{check} evidence {ev:?}");
    }

    // The challenged portal: confirmed up behind the challenge, still reported as challenged.
    let waf = r.finding("sx-waf", "availability");
    assert_eq!(waf.value, Value::Null);
    assert_eq!(waf.details["challenged"], json!(1));
    assert_eq!(
        waf.details["browser"]["confirmed"],
        json!("up_behind_challenge")
    );
    assert_eq!(
        r.truth("sx-waf").details["availability"]["browser"]["confirmed"],
        waf.details["browser"]["confirmed"]
    );
    assert_eq!(home_state(r.visit("sx-waf")), json!("waf_challenge"));
    assert_eq!(r.summary.home_by_state.get("waf_challenge"), Some(&1));
    let waf_conv = waf.details["browser"]["record"].as_str().unwrap();
    assert!(waf.evidence.iter().any(|e| e == waf_conv));
    let (_, rec) = find_record(&r.out, waf_conv).unwrap().unwrap();
    assert_eq!(rec.header("WARC-Type"), Some("conversion"));
    assert_eq!(
        rec.header("WARC-Refers-To"),
        r.visit("sx-waf").pages[0].warc_record.as_deref()
    );
    assert!(String::from_utf8_lossy(&rec.block).contains("人民政府"));
    // The crawler never got the clearance: every page it fetched there is challenged.
    assert!(r
        .visit("sx-waf")
        .pages
        .iter()
        .all(|p| json!(p.state) == json!("waf_challenge")));

    // summary.json carries the same numbers.
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(r.out.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(written["browser"]["rendered_pages"], json!(1));
    assert_eq!(written["browser"]["available"], json!(true));
    let _ = std::fs::remove_dir_all(&r.out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_browser_the_run_says_what_it_skipped() {
    let fx = fixture().await;
    let r = monitor(
        &fx,
        "off",
        BrowserConfig {
            mode: BrowserMode::Off,
            ..BrowserConfig::default()
        },
    )
    .await;
    let b = &r.summary.browser;
    assert!(!b.available);
    assert_eq!(b.mode, "off");
    assert_eq!(b.rendered_pages, 0);
    assert_eq!(b.skipped_script_pages, 1, "{b:?}");
    assert_eq!(b.skipped_waf_confirmations, 1);
    assert!(b.waf_confirmations.is_empty());
    assert_eq!(
        b.console_line().unwrap(),
        "browser: off (--browser off) — skipped 1 script-rendered pages and 1 WAF challenge confirmations"
    );
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(r.out.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(written["browser"]["available"], json!(false));
    assert_eq!(written["browser"]["skipped_script_pages"], json!(1));
    assert_eq!(written["browser"]["skipped_waf_confirmations"], json!(1));

    // The shell alone shows none of the features the script builds.
    for check in ["mobile", "search", "identity"] {
        assert_eq!(
            r.finding("sx-spa", check).value,
            json!(false),
            "sx-spa {check} without a browser"
        );
    }
    assert_eq!(
        r.visit("sx-spa").facts["browser"]["skipped"],
        json!("browser disabled (--browser off)")
    );
    // The WAF site is still challenged, not down, and says the confirmation was skipped.
    let waf = r.finding("sx-waf", "availability");
    assert_eq!(waf.value, Value::Null);
    assert_eq!(waf.details["challenged"], json!(1));
    assert_eq!(
        waf.details["browser"]["skipped"],
        json!("browser disabled (--browser off)")
    );
    assert_eq!(home_state(r.visit("sx-waf")), json!("waf_challenge"));
    // No conversion record anywhere.
    for w in &r.summary.warc_files {
        let recs = govcap_monitor::warc::WarcReader::open(Path::new(&w.path)).unwrap();
        for rec in recs {
            assert_ne!(rec.unwrap().header("WARC-Type"), Some("conversion"));
        }
    }
    let _ = std::fs::remove_dir_all(&r.out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_without_chromium_fails_before_visiting() {
    let out = out_dir("require");
    let sites = govcap_monitor::run::parse_sites("code,url\nx,http://127.0.0.1:9/\n").unwrap();
    let r = run(
        &RunConfig {
            browser: BrowserConfig {
                mode: BrowserMode::Require,
                chromium: Some(PathBuf::from("/nonexistent/chromium")),
                ..BrowserConfig::default()
            },
            ..run_config(&out)
        },
        sites,
        Arc::new(Quiet),
        Cancel::new(),
    )
    .await;
    match r {
        Err(RunError::Browser(e)) => assert!(e.to_string().contains("Chromium was not found")),
        other => panic!("{other:?}"),
    }
    assert!(!out.join("findings.jsonl").exists());
    let _ = std::fs::remove_dir_all(&out);
}

/// The fixture's `hx-waf` never lets anyone through (its script reloads for ever): Chromium is
/// stopped after a few reloads and the challenge is reported as persisting, still not down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_challenge_that_never_yields_persists_and_is_cut_short() {
    let Some(chromium) = govcap_browser::find_chromium() else {
        if std::env::var("GOVCAP_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!(
                "GOVCAP_REQUIRE_BROWSER=1 but Chromium is not installed (apt-get install chromium)"
            );
        }
        eprintln!("skipped: chromium not installed (a_challenge_that_never_yields_persists_and_is_cut_short)");
        return;
    };
    let fx = spawn(FixtureConfig {
        sites: 1,
        seed: 5,
        hostile: true,
        ..FixtureConfig::default()
    })
    .await;
    let out = out_dir("persist");
    let (code, url) = fx.sites().into_iter().find(|(c, _)| c == "hx-waf").unwrap();
    let sites = govcap_monitor::run::parse_sites(&format!("code,url\n{code},{url}\n")).unwrap();
    let before = fx.requests();
    let t = std::time::Instant::now();
    let summary = run(
        &RunConfig {
            browser: BrowserConfig {
                mode: BrowserMode::Require,
                chromium: Some(chromium),
                ..BrowserConfig::default()
            },
            ..run_config(&out)
        },
        sites,
        Arc::new(Quiet),
        Cancel::new(),
    )
    .await
    .unwrap();
    let took = t.elapsed();
    let requests = fx.requests() - before;
    eprintln!(
        "hx-waf: {} ms, {requests} fixture requests in all",
        took.as_millis()
    );
    assert_eq!(
        summary.browser.waf_confirmations.get("challenge_persists"),
        Some(&1),
        "{:?}",
        summary.browser
    );
    let text = std::fs::read_to_string(out.join("findings.jsonl")).unwrap();
    let avail: Finding = text
        .lines()
        .map(|l| serde_json::from_str::<Finding>(l).unwrap())
        .find(|f| f.check == "availability")
        .unwrap();
    assert_eq!(avail.value, Value::Null);
    assert_eq!(avail.details["challenged"], json!(1));
    assert_eq!(
        avail.details["browser"]["confirmed"],
        json!("challenge_persists")
    );
    assert!(avail.details["browser"]["navigations"].as_u64().unwrap() > 5);
    // robots.txt, the crawler's home fetch, and a handful of browser loads: not hundreds.
    assert!(requests < 20, "{requests} requests");
    assert!(took < Duration::from_secs(25), "{took:?}");
    let _ = std::fs::remove_dir_all(&out);
}
