//! End to end through the real binary: the simulated portals (govcap-fixture, loopback only)
//! → `govcap monitor run` → observations.csv, alerts.jsonl (checked against the fixture's
//! truth), the webhook, the store → `govcap evaluate` with a manual file → `govcap alerts`.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use common::{govcap, json, text, tmp};
use govcap_fixture::{spawn, FixtureConfig};
use serde_json::Value;

/// A loopback webhook that answers 200 and records each POSTed JSON body.
fn webhook() -> (String, Arc<Mutex<Vec<Value>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let out = seen.clone();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let mut s = s.unwrap();
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut len = 0usize;
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).unwrap() == 0 || h.trim().is_empty() {
                    break;
                }
                if let Some((k, v)) = h.split_once(':') {
                    if k.trim().eq_ignore_ascii_case("content-length") {
                        len = v.trim().parse().unwrap();
                    }
                }
            }
            let mut body = vec![0; len];
            r.read_exact(&mut body).unwrap();
            out.lock()
                .unwrap()
                .push(serde_json::from_slice(&body).unwrap());
            s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .unwrap();
        }
    });
    (url, seen)
}

fn jsonl(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn monitor_run_feeds_evaluate_alerts_and_the_store() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let fx = rt.block_on(spawn(FixtureConfig {
        sites: 6,
        seed: 11,
        // The hostile portals (slow, dripping, looping, WAF, bomb, huge, calendar) fail in
        // known ways: unreachable alerts, and spread in the monitoring composite.
        hostile: true,
        slow_delay: std::time::Duration::from_secs(3),
        bomb_bytes: 64 << 20,
        huge_bytes: 64 << 20,
        ..FixtureConfig::default()
    }));
    let dir = tmp("monitor-cli");
    fx.write_sites_csv(&dir.join("sites.csv")).unwrap();
    let truth = fx.truth();
    let codes: Vec<String> = truth.iter().map(|t| t.code.clone()).collect();
    let mut units = String::from("code,name,province\n");
    for (i, c) in codes.iter().enumerate() {
        units.push_str(&format!("{c},测试市{i},测试省\n"));
    }
    std::fs::write(dir.join("units.csv"), units).unwrap();
    let (hook, posted) = webhook();
    let db = dir.join("monitor.db");
    let max_pages = (truth.iter().map(|t| t.pages).max().unwrap() + 5).to_string();

    let o = govcap(
        &[
            "monitor",
            "run",
            "--sites",
            "sites.csv",
            "--out",
            "mon",
            "--as-of",
            "2026-11-27",
            "--quiet",
            "--delay-ms",
            "0",
            "--retries",
            "0",
            "--timeout",
            "10",
            "--max-pages",
            &max_pages,
            "--webhook",
            &hook,
            "--db",
            db.to_str().unwrap(),
        ],
        &dir,
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = dir.join("mon");

    // observations.csv: one row per auto/hybrid leaf measured, year from --as-of.
    let csv = std::fs::read_to_string(out.join("observations.csv")).unwrap();
    let header = csv
        .lines()
        .next()
        .unwrap()
        .strip_prefix('\u{feff}')
        .expect("CSV starts with a UTF-8 BOM");
    assert!(
        header.starts_with("unit,indicator,year,value,source"),
        "{header}"
    );
    let rows: Vec<Vec<String>> = {
        let mut r = csv::Reader::from_reader(csv.as_bytes());
        r.records()
            .map(|x| x.unwrap().iter().map(str::to_string).collect())
            .collect()
    };
    let normal = truth.iter().filter(|t| t.hostile.is_none()).count();
    assert!(rows.len() >= normal * 3, "{csv}");
    assert!(rows.iter().all(|r| r[2] == "2026"));

    // alerts.jsonl against the fixture's truth: a home page ≥ 14 days old, a message
    // unanswered for more than 90 days (plain HTTP: no certificate to expire).
    let mut expected = BTreeSet::new();
    for t in &truth {
        if t.values
            .get("freshness")
            .and_then(Value::as_f64)
            .is_some_and(|d| d >= 14.0)
        {
            expected.insert((t.code.clone(), "home_stale".to_string()));
        }
        if t.details
            .get("message_board")
            .and_then(|m| m["oldest_unanswered_days"].as_f64())
            .is_some_and(|d| d > 90.0)
        {
            expected.insert((t.code.clone(), "message_unanswered".to_string()));
        }
    }
    // Availability from the run's own findings (how a timeout falls depends on the fetch
    // limits, which the checks' tests cover): one attempt per site, so a failed home page is
    // 100 % failures. Normal portals never fail.
    for f in jsonl(&out.join("findings.jsonl")) {
        if f["check"] == "availability" && f["value"].as_f64().is_some_and(|v| v < 0.95) {
            let code = f["code"].as_str().unwrap();
            assert!(code.starts_with("hx-"), "{f}");
            expected.insert((code.to_string(), "unreachable".to_string()));
        }
    }
    assert!(expected.iter().any(|(_, r)| r == "unreachable"));
    let alerts = jsonl(&out.join("alerts.jsonl"));
    let got: BTreeSet<(String, String)> = alerts
        .iter()
        .map(|a| {
            (
                a["code"].as_str().unwrap().to_string(),
                a["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(got, expected);
    assert!(!expected.is_empty(), "the seed should give some stale site");
    for a in &alerts {
        let t = truth.iter().find(|t| t.code == a["code"]).unwrap();
        if a["rule"] == "home_stale" {
            assert_eq!(a["value"].as_f64(), t.values["freshness"].as_f64());
        }
        if a["rule"] == "unreachable" {
            assert_eq!(a["value"].as_f64(), Some(1.0));
            assert_eq!(a["severity"], "critical");
        }
        if a["rule"] != "unreachable" {
            assert!(!a["evidence"].as_array().unwrap().is_empty(), "{a}");
        }
        assert!(a["message"]["zh"].as_str().unwrap().contains('天'));
    }

    // The webhook got every alert once, as JSON.
    let posted = posted.lock().unwrap().clone();
    assert_eq!(posted.len(), alerts.len());
    for (p, a) in posted.iter().zip(&alerts) {
        assert_eq!(p["code"], a["code"]);
        assert_eq!(p["rule"], a["rule"]);
        assert!(p["text"].as_str().unwrap().starts_with("[govcap "));
    }

    // evaluate: monitor observations + a manual file for manual leaves.
    let mut manual = String::from("unit,indicator,year,value,source,evaluator\n");
    for c in &codes {
        manual.push_str(&format!(
            "{c},S2.1,2026,0.5,manual,张三\n{c},S3.3,2026,1,manual,张三\n"
        ));
    }
    std::fs::write(dir.join("manual.csv"), manual).unwrap();
    let o = govcap(
        &[
            "evaluate",
            "--units",
            "units.csv",
            "--observations",
            "mon/observations.csv",
            "--observations",
            "manual.csv",
            "--year",
            "2026",
            "--out",
            "eval",
            "--no-record",
        ],
        &dir,
    );
    assert!(o.status.success(), "{}", text(&o));
    let results = json(&dir.join("eval/results.json"));
    let base = format!("http://{}/site/", fx.addr());
    let (mut auto, mut proposed, mut manual_n) = (0, 0, 0);
    for u in results["units"].as_array().unwrap() {
        for l in u["leaves"].as_array().unwrap() {
            match l["source"].as_str() {
                Some("auto") => {
                    auto += 1;
                    let url = l["evidence_url"].as_str().unwrap();
                    assert!(url.starts_with(&base), "{url}");
                    assert!(url.contains(u["code"].as_str().unwrap()), "{url}");
                }
                Some("proposed") => {
                    proposed += 1;
                    assert!(["S3.2", "S3.4"].contains(&l["id"].as_str().unwrap()), "{l}");
                }
                Some("manual") => {
                    manual_n += 1;
                    assert!(l["evidence_url"].is_null());
                }
                _ => {}
            }
        }
    }
    assert_eq!(manual_n, 2 * codes.len());
    assert!(auto >= 3 * normal, "{auto}");
    let hybrid_rows = rows
        .iter()
        .filter(|r| r[1] == "S3.2" || r[1] == "S3.4")
        .count();
    assert_eq!(proposed, hybrid_rows);
    assert!(rows
        .iter()
        .filter(|r| r[1] == "S3.2" || r[1] == "S3.4")
        .all(|r| r[4] == "proposed"));

    // govcap alerts reads them back from the store.
    let o = govcap(&["alerts", "--db", db.to_str().unwrap(), "--json"], &dir);
    assert!(o.status.success(), "{}", text(&o));
    let stored: Vec<Value> = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(stored.len(), alerts.len());
    // Every alert went to the webhook, and the store says when.
    assert!(
        stored.iter().all(|a| a["webhook_sent_at"].is_string()),
        "{stored:?}"
    );
    let first = &alerts[0];
    let o = govcap(
        &[
            "alerts",
            "--db",
            db.to_str().unwrap(),
            "--json",
            "--code",
            first["code"].as_str().unwrap(),
            "--rule",
            first["rule"].as_str().unwrap(),
        ],
        &dir,
    );
    let one: Vec<Value> = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one[0]["value"], first["value"]);
    assert_eq!(one[0]["first_seen"], first["first_seen"]);
    let o = govcap(
        &[
            "alerts",
            "--db",
            db.to_str().unwrap(),
            "--json",
            "--since",
            "2999-01-01",
        ],
        &dir,
    );
    assert_eq!(
        serde_json::from_slice::<Vec<Value>>(&o.stdout)
            .unwrap()
            .len(),
        0
    );
    let o = govcap(
        &[
            "alerts",
            "--db",
            db.to_str().unwrap(),
            "--since",
            "yesterday",
        ],
        &dir,
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));

    // A second run sees the first through the store: first_seen stays at the first run.
    let o = govcap(
        &[
            "monitor",
            "run",
            "--sites",
            "sites.csv",
            "--out",
            "mon2",
            "--as-of",
            "2026-11-27",
            "--quiet",
            "--delay-ms",
            "0",
            "--retries",
            "0",
            "--max-pages",
            &max_pages,
            "--db",
            db.to_str().unwrap(),
        ],
        &dir,
    );
    assert!(o.status.success(), "{}", text(&o));
    let again = jsonl(&dir.join("mon2/alerts.jsonl"));
    assert_eq!(again.len(), alerts.len());
    for (a, b) in alerts.iter().zip(&again) {
        assert_eq!(a["code"], b["code"]);
        assert_eq!(b["first_seen"], a["first_seen"]);
        assert_ne!(b["last_seen"], a["last_seen"]);
    }
    let o = govcap(&["alerts", "--db", db.to_str().unwrap(), "--json"], &dir);
    let stored: Vec<Value> = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(stored.len(), 2 * alerts.len());

    // A misspelt threshold is refused before any crawling, with the user-error status.
    std::fs::write(dir.join("rules.json"), r#"{"stale_home_dayz": 3}"#).unwrap();
    let o = govcap(
        &[
            "monitor",
            "run",
            "--sites",
            "sites.csv",
            "--out",
            "mon3",
            "--alert-rules",
            "rules.json",
        ],
        &dir,
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("stale_home_dayz"), "{}", text(&o));
    assert!(!dir.join("mon3/findings.jsonl").exists());
    drop(fx);
}
