//! `monitor run` end to end over loopback sites: findings, visits, archives, summary, and a
//! clean stop.

mod fetch_support;

use std::sync::Arc;
use std::time::Duration;

use fetch_support::*;
use govcap_monitor::checks::{CheckConfig, CHECKS};
use govcap_monitor::crawl::{Cancel, CrawlConfig};
use govcap_monitor::model::{FetchState, Finding, SiteVisit};
use govcap_monitor::run::{load_sites, run, Quiet, RunConfig};
use govcap_monitor::warc::find_record;

fn config(out: std::path::PathBuf) -> RunConfig {
    RunConfig {
        out,
        as_of: "2024-06-01".into(),
        concurrency: 2,
        fetch: quick_config(),
        crawl: CrawlConfig {
            max_depth: 1,
            max_pages: 10,
            site_budget: Duration::from_secs(20),
            max_per_pattern: 10,
            search_probe: true,
            http_probe: true,
        },
        checks: CheckConfig::default(),
        write_visits: true,
        browser: Default::default(),
    }
}

#[tokio::test]
async fn a_run_writes_findings_visits_archives_and_a_summary() {
    let good = serve(|p, _| match p {
        "/robots.txt" => not_found(),
        "/" => Reply::Full {
            status: 200,
            headers: vec![("Content-Type".into(), "text/html".into())],
            body: gbk("<html><head><title>某市人民政府</title>\
                <meta name=\"viewport\" content=\"width=device-width\"></head><body>\
                <a href=\"/news/1.html\">政务公开</a><a href=\"/gone.html\">旧栏目</a>\
                <p>京ICP备05060933号</p></body></html>"),
            delay: Duration::ZERO,
        },
        "/news/1.html" => html("<html><p>2024-05-30 通知</p></html>"),
        _ => not_found(),
    })
    .await;
    let waf = serve(|_, _| {
        status(
            412,
            &[("Content-Type", "text/html")],
            b"<html><script>$_ts=window['$_ts'];</script></html>",
        )
    })
    .await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let out = std::env::temp_dir().join(format!("govcap-run-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    let sites_csv = out.join("sites.csv");
    std::fs::write(
        &sites_csv,
        format!(
            "code,name,portal_url\nA,好站,{}\nW,防护,{}\nR,关闭,http://127.0.0.1:{closed}/\n",
            good.url("/"),
            waf.url("/")
        ),
    )
    .unwrap();
    let sites = load_sites(&sites_csv).unwrap();
    let cfg = config(out.clone());
    let summary = run(&cfg, sites, Arc::new(Quiet), Cancel::new())
        .await
        .unwrap();

    assert_eq!(summary.sites, 3);
    assert_eq!(summary.sites_done, 3);
    assert!(!summary.interrupted);
    assert_eq!(summary.home_by_state["ok"], 1);
    assert_eq!(summary.home_by_state["waf_challenge"], 1);
    assert_eq!(summary.home_by_state["refused"], 1);
    assert_eq!(summary.pages, 3 + 2);
    let http_4xx = serde_json::to_value(FetchState::Http4xx).unwrap();
    assert_eq!(summary.pages_by_state[http_4xx.as_str().unwrap()], 1);
    assert_eq!(summary.findings, 3 * CHECKS.len());
    let on_disk: u64 = std::fs::read_dir(out.join("warc"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert_eq!(summary.bytes_archived, on_disk);
    assert_eq!(summary.warc_files.len(), 3);

    let text = std::fs::read_to_string(out.join("findings.jsonl")).unwrap();
    let mut findings = Vec::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        for key in ["code", "url", "check", "value", "details", "evidence"] {
            assert!(v.get(key).is_some(), "{key} missing in {line}");
        }
        findings.push(serde_json::from_value::<Finding>(v).unwrap());
    }
    assert_eq!(findings.len(), 3 * CHECKS.len());
    // Evidence ids resolve to archived records.
    let avail = findings
        .iter()
        .find(|f| f.code == "A" && f.check == "availability")
        .unwrap();
    assert_eq!(avail.value, serde_json::json!(1.0));
    let (_, rec) = find_record(&out, &avail.evidence[0])
        .unwrap()
        .expect("evidence archived");
    assert_eq!(rec.header("WARC-Target-URI"), Some(good.url("/").as_str()));

    let visits: Vec<SiteVisit> = std::fs::read_to_string(out.join("visits.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let a = visits.iter().find(|v| v.code == "A").unwrap();
    assert!(a.pages[0].text.contains("某市人民政府"));
    assert_eq!(a.pages[0].charset.as_deref(), Some("GBK"));
    assert_eq!(a.as_of, "2024-06-01");
    let w = visits.iter().find(|v| v.code == "W").unwrap();
    assert_eq!(w.facts["waf_marker"], "ruishu");

    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["sites_done"], 3);
    std::fs::remove_dir_all(&out).unwrap();
}

#[tokio::test]
async fn a_stopped_run_keeps_what_it_has_and_says_so() {
    let slow = serve(|p, _| match p {
        "/robots.txt" => not_found(),
        _ => Reply::Full {
            status: 200,
            headers: vec![("Content-Type".into(), "text/html".into())],
            body: b"<a href=/1>1</a><a href=/2>2</a>".to_vec(),
            delay: Duration::from_millis(300),
        },
    })
    .await;
    let out = std::env::temp_dir().join(format!("govcap-run-stop-{}", std::process::id()));
    let sites = govcap_monitor::run::parse_sites(&format!(
        "code,portal_url\nS1,{}\nS2,{}\nS3,{}\n",
        slow.url("/"),
        slow.url("/?b"),
        slow.url("/?c")
    ))
    .unwrap();
    let mut cfg = config(out.clone());
    cfg.concurrency = 1;
    let cancel = Cancel::new();
    let c2 = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(450)).await;
        c2.cancel();
    });
    let summary = run(&cfg, sites, Arc::new(Quiet), cancel).await.unwrap();
    assert!(summary.interrupted);
    // S1 was in progress (robots, then a 300 ms home page, then its links): interrupted.
    assert_eq!(summary.sites_done + summary.sites_interrupted, 1);
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["interrupted"], true);
    assert!(out.join("warc/S1.warc.gz").exists());
    assert!(
        !out.join("warc/S2.warc.gz").exists(),
        "sites not started are left out"
    );
    std::fs::remove_dir_all(&out).unwrap();
}
