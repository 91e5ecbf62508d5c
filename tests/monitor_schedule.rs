//! End to end through the real binary: `govcap monitor schedule` samples the simulated
//! portals (govcap-fixture, loopback only) plus one dead portal, stores every sample as a
//! monitor run of availability findings, and raises the unreachable alert from them.

mod common;

use std::collections::BTreeMap;
use std::net::TcpListener;

use common::{govcap, text, tmp};
use govcap_fixture::{spawn, FixtureConfig};
use govcap_monitor::alerts::epoch_seconds;
use serde_json::Value;

#[test]
fn schedule_stores_spaced_samples_and_alerts_on_the_dead_portal() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let fx = rt.block_on(spawn(FixtureConfig {
        sites: 3,
        seed: 5,
        ..FixtureConfig::default()
    }));
    let dir = tmp("monitor-schedule");
    // A loopback port nobody listens on: every visit is refused.
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let csv = format!("{}hx-dead,http://{dead}/\n", fx.sites_csv());
    std::fs::write(dir.join("sites.csv"), csv).unwrap();
    let codes: Vec<String> = fx.sites().into_iter().map(|(c, _)| c).collect();
    assert_eq!(codes.len(), 3);
    let db = dir.join("schedule.db");

    let o = govcap(
        &[
            "monitor",
            "schedule",
            "--sites",
            "sites.csv",
            "--out",
            "sched",
            "--as-of",
            "2026-11-27",
            "--delay-ms",
            "0",
            "--interval-secs",
            "1",
            "--max-samples",
            "3",
            "--db",
            db.to_str().unwrap(),
        ],
        &dir,
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("3 samples and 0 full runs"),
        "{}",
        text(&o)
    );

    // Three runs stored, at least the interval apart, each with only availability findings.
    let mut store = govcap_store::open(db.to_str().unwrap()).unwrap();
    let runs = store.list_monitor_runs().unwrap();
    assert_eq!(runs.len(), 3);
    let starts: Vec<i64> = runs
        .iter()
        .map(|r| epoch_seconds(&r.started_at).unwrap())
        .collect();
    assert!(starts.windows(2).all(|w| w[1] - w[0] >= 1), "{starts:?}");
    assert!(runs.iter().all(|r| r.findings == 4), "{runs:?}");
    let found = store.monitor_findings_since("").unwrap();
    let mut per_site: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for f in &found {
        assert_eq!(f.finding.check, "availability");
        let v: Value = serde_json::from_str(&f.finding.value_json).unwrap();
        per_site
            .entry(f.finding.code.clone())
            .or_default()
            .push(v.as_f64().unwrap());
    }
    assert_eq!(per_site.len(), 4);
    for c in &codes {
        assert_eq!(per_site[c], vec![1.0, 1.0, 1.0], "{c}");
    }
    assert_eq!(per_site["hx-dead"], vec![0.0, 0.0, 0.0]);

    // The latest alerts: only the dead portal, unreachable in all 3 samples of the window,
    // first seen at the first sample.
    let alerts: Vec<Value> = std::fs::read_to_string(dir.join("sched/alerts.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let a = &alerts[0];
    assert_eq!(a["code"], "hx-dead");
    assert_eq!(a["rule"], "unreachable");
    assert_eq!(a["severity"], "critical");
    assert_eq!(a["value"].as_f64(), Some(1.0));
    assert_eq!(a["first_seen"].as_str(), Some(runs[0].started_at.as_str()));
    assert_eq!(a["last_seen"].as_str(), Some(runs[2].started_at.as_str()));
    // One alert stored per sample.
    assert_eq!(runs.iter().map(|r| r.alerts).collect::<Vec<_>>(), [1, 1, 1]);

    // Each sample kept its archive: one home page per site.
    let samples: Vec<_> = std::fs::read_dir(dir.join("sched/samples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(samples.len(), 3);
    for s in &samples {
        let summary: Value =
            serde_json::from_str(&std::fs::read_to_string(s.join("summary.json")).unwrap())
                .unwrap();
        assert_eq!(summary["sites"], 4);
        assert_eq!(summary["pages"], 4, "{summary}");
    }

    // Bad cycles are refused before any visit.
    let o = govcap(
        &[
            "monitor",
            "schedule",
            "--sites",
            "sites.csv",
            "--out",
            "bad",
            "--interval-secs",
            "0",
            "--db",
            db.to_str().unwrap(),
        ],
        &dir,
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(!dir.join("bad").exists());
    drop(fx);
}

/// Ctrl-C while the schedule waits an hour for its next sample: it stops at once, keeps
/// the sample it took and exits 0.
#[cfg(unix)]
#[test]
fn ctrl_c_stops_the_schedule_cleanly() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let rt = tokio::runtime::Runtime::new().unwrap();
    let fx = rt.block_on(spawn(FixtureConfig {
        sites: 2,
        seed: 9,
        ..FixtureConfig::default()
    }));
    let dir = tmp("monitor-schedule-ctrl-c");
    fx.write_sites_csv(&dir.join("sites.csv")).unwrap();
    let db = dir.join("schedule.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_govcap"))
        .args([
            "monitor",
            "schedule",
            "--sites",
            "sites.csv",
            "--out",
            "sched",
            "--delay-ms",
            "0",
            "--interval-secs",
            "3600",
            "--db",
            db.to_str().unwrap(),
        ])
        .current_dir(&dir)
        .env_remove("GOVCAP_DB")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    // Once the first sample is recorded the schedule has nothing to do for an hour.
    for l in lines.by_ref() {
        let l = l.unwrap();
        let recorded = l.starts_with("recorded as monitor run");
        seen.push(l);
        if recorded {
            break;
        }
    }
    let ok = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    seen.extend(lines.map(Result::unwrap));
    let status = child.wait().unwrap();
    let all = seen.join("\n");
    assert!(status.success(), "{status:?}\n{all}");
    assert!(all.contains("1 samples and 0 full runs (stopped)"), "{all}");
    let mut store = govcap_store::open(db.to_str().unwrap()).unwrap();
    assert_eq!(store.list_monitor_runs().unwrap().len(), 1);
    drop(fx);
}
