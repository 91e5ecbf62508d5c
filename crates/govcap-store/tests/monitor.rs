//! Monitor runs, findings and alerts in the store, run against SQLite (always) and
//! PostgreSQL (when `GOVCAP_TEST_POSTGRES_URL` is set), like `tests/store.rs`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use govcap_store::{
    open, open_postgres_with_schema, AlertFilter, MonitorAlert, MonitorFinding, NewMonitorRun,
    Store, StoreError,
};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn unique_suffix() -> String {
    format!(
        "{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

trait Backend {
    fn open(&self) -> Result<Box<dyn Store>, StoreError>;
}

struct Sqlite {
    path: PathBuf,
}

impl Sqlite {
    fn new() -> Self {
        let path =
            std::env::temp_dir().join(format!("govcap_monitor_test_{}.sqlite", unique_suffix()));
        let s = Sqlite { path };
        s.remove_files();
        s
    }
    fn remove_files(&self) {
        for ext in ["", "-wal", "-shm"] {
            let mut p = self.path.clone().into_os_string();
            p.push(ext);
            let _ = std::fs::remove_file(p);
        }
    }
}

impl Drop for Sqlite {
    fn drop(&mut self) {
        self.remove_files();
    }
}

impl Backend for Sqlite {
    fn open(&self) -> Result<Box<dyn Store>, StoreError> {
        open(self.path.to_str().unwrap())
    }
}

struct Postgres {
    url: String,
    schema: String,
}

impl Postgres {
    fn new() -> Option<Self> {
        let Ok(url) = std::env::var("GOVCAP_TEST_POSTGRES_URL") else {
            eprintln!("skipping PostgreSQL tests: GOVCAP_TEST_POSTGRES_URL not set");
            return None;
        };
        let pg = Postgres {
            url,
            schema: format!("govcap_montest_{}", unique_suffix()),
        };
        postgres::Client::connect(&pg.url, postgres::NoTls)
            .and_then(|mut c| {
                c.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", pg.schema))
            })
            .expect("GOVCAP_TEST_POSTGRES_URL is set but the server cannot be used");
        Some(pg)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.url, postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema));
        }
    }
}

impl Backend for Postgres {
    fn open(&self) -> Result<Box<dyn Store>, StoreError> {
        open_postgres_with_schema(&self.url, &self.schema)
    }
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() { super::$name(&super::Sqlite::new()); } )*
        }
        mod postgresql {
            $(
                #[cfg_attr(not(govcap_pg), ignore = "needs PostgreSQL: set GOVCAP_TEST_POSTGRES_URL")]
                #[test]
                fn $name() {
                    if let Some(pg) = super::Postgres::new() {
                        super::$name(&pg);
                    }
                }
            )*
        }
    };
}

on_both_backends!(
    monitor_run_round_trips,
    findings_since_filters_by_run_time,
    alerts_are_filtered_by_code_rule_and_time,
    a_bad_list_item_stores_nothing,
    webhook_deliveries_are_remembered,
);

fn finding(code: &str, check: &str, value: &str, evidence: &[&str]) -> MonitorFinding {
    MonitorFinding {
        code: code.into(),
        check: check.into(),
        url: format!("http://127.0.0.1/site/{code}/"),
        value_json: value.into(),
        details_json: r#"{"attempts":1,"successes":0,"failures":{"timeout":1},"名":"首页"}"#.into(),
        evidence: evidence.iter().map(|s| s.to_string()).collect(),
    }
}

fn alert(code: &str, rule: &str, last_seen: &str, value: f64) -> MonitorAlert {
    MonitorAlert {
        code: code.into(),
        rule: rule.into(),
        severity: "critical".into(),
        message_zh: "近7天访问失败1次/共1次（100.0%）".into(),
        message_en: "1 of 1 visits failed".into(),
        first_seen: "2026-11-20T08:00:00.000Z".into(),
        last_seen: last_seen.into(),
        value,
        evidence: vec!["<urn:uuid:1>".into(), "<urn:uuid:2>".into()],
        findings: vec!["availability@2026-11-20T08:00:00.000Z".into()],
    }
}

fn run(
    started_at: &str,
    findings: Vec<MonitorFinding>,
    alerts: Vec<MonitorAlert>,
) -> NewMonitorRun {
    NewMonitorRun {
        started_at: started_at.into(),
        as_of: started_at[..10].into(),
        out_dir: "/tmp/监测".into(),
        summary_json: "{\"sites\": 2}\n".into(),
        findings,
        alerts,
    }
}

fn monitor_run_round_trips(b: &dyn Backend) {
    let mut s = b.open().unwrap();
    assert_eq!(s.stats().unwrap().schema_version, 7);
    let f1 = finding(
        "fx001",
        "availability",
        "0.0",
        &["<urn:uuid:a>", "<urn:uuid:b>"],
    );
    let f2 = finding("fx002", "freshness", "null", &[]);
    let a1 = alert("fx001", "unreachable", "2026-11-27T08:00:00.000Z", 1.0);
    let id = s
        .save_monitor_run(&run(
            "2026-11-27T08:00:00.000Z",
            vec![f1.clone(), f2.clone()],
            vec![a1.clone()],
        ))
        .unwrap();
    drop(s);
    let mut s = b.open().unwrap();
    let runs = s.list_monitor_runs().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].id, id);
    assert_eq!(runs[0].findings, 2);
    assert_eq!(runs[0].alerts, 1);
    assert_eq!(runs[0].out_dir, "/tmp/监测");
    let got = s.monitor_findings_since("").unwrap();
    assert_eq!(got.len(), 2);
    // Recording order kept; empty evidence stays empty; JSON text byte for byte.
    assert_eq!(got[0].finding, f1);
    assert_eq!(got[1].finding, f2);
    assert_eq!(got[1].finding.evidence, Vec::<String>::new());
    assert_eq!(got[0].run_id, id);
    assert_eq!(got[0].started_at, "2026-11-27T08:00:00.000Z");
    let alerts = s.list_alerts(&AlertFilter::default()).unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].run_id, id);
    assert_eq!(alerts[0].alert, a1);
    assert_eq!(alerts[0].webhook_sent_at, None);
}

fn webhook_deliveries_are_remembered(b: &dyn Backend) {
    let mut s = b.open().unwrap();
    let run_id = s
        .save_monitor_run(&run(
            "2026-11-27T08:00:00.000Z",
            vec![],
            vec![
                alert("fx001", "unreachable", "2026-11-27T08:00:00.000Z", 1.0),
                alert("fx002", "home_stale", "2026-11-27T08:00:00.000Z", 20.0),
            ],
        ))
        .unwrap();
    let ids: Vec<i64> = s
        .list_alerts(&AlertFilter::default())
        .unwrap()
        .iter()
        .filter(|a| a.run_id == run_id)
        .map(|a| a.id)
        .collect();
    assert_eq!(ids.len(), 2);
    // Only the first was delivered; an unknown id is skipped.
    assert_eq!(
        s.mark_webhook_sent(&[ids[0], 9_999_999], "2026-11-27T08:03:00.000Z")
            .unwrap(),
        1
    );
    drop(s);
    let mut s = b.open().unwrap();
    let got: Vec<(String, Option<String>)> = s
        .list_alerts(&AlertFilter::default())
        .unwrap()
        .into_iter()
        .map(|a| (a.alert.code, a.webhook_sent_at))
        .collect();
    assert_eq!(
        got,
        [
            (
                "fx001".to_string(),
                Some("2026-11-27T08:03:00.000Z".to_string())
            ),
            ("fx002".to_string(), None)
        ]
    );
    assert_eq!(s.mark_webhook_sent(&[], "x").unwrap(), 0);
}

fn findings_since_filters_by_run_time(b: &dyn Backend) {
    let mut s = b.open().unwrap();
    for (t, v) in [
        ("2026-11-10T00:00:00.000Z", "0.0"),
        ("2026-11-21T00:00:00.000Z", "1.0"),
        ("2026-11-27T00:00:00.000Z", "0.5"),
    ] {
        s.save_monitor_run(&run(
            t,
            vec![finding("fx001", "availability", v, &["<urn:uuid:x>"])],
            vec![],
        ))
        .unwrap();
    }
    let got = s
        .monitor_findings_since("2026-11-20T00:00:00.000Z")
        .unwrap();
    let values: Vec<&str> = got.iter().map(|f| f.finding.value_json.as_str()).collect();
    assert_eq!(values, ["1.0", "0.5"]);
    assert!(got[0].run_id < got[1].run_id);
    assert_eq!(s.monitor_findings_since("2026-11-28").unwrap().len(), 0);
    assert_eq!(s.list_monitor_runs().unwrap().len(), 3);
}

fn alerts_are_filtered_by_code_rule_and_time(b: &dyn Backend) {
    let mut s = b.open().unwrap();
    s.save_monitor_run(&run(
        "2026-11-20T00:00:00.000Z",
        vec![],
        vec![
            alert("fx001", "unreachable", "2026-11-20T00:00:00.000Z", 0.25),
            alert("fx002", "home_stale", "2026-11-20T00:00:00.000Z", 30.0),
        ],
    ))
    .unwrap();
    s.save_monitor_run(&run(
        "2026-11-27T00:00:00.000Z",
        vec![],
        vec![alert(
            "fx001",
            "home_stale",
            "2026-11-27T00:00:00.000Z",
            21.0,
        )],
    ))
    .unwrap();
    let key = |f: AlertFilter| -> Vec<(String, String, f64)> {
        let mut s = b.open().unwrap();
        s.list_alerts(&f)
            .unwrap()
            .into_iter()
            .map(|a| (a.alert.code, a.alert.rule, a.alert.value))
            .collect()
    };
    assert_eq!(key(AlertFilter::default()).len(), 3);
    assert_eq!(
        key(AlertFilter {
            code: Some("fx001".into()),
            ..AlertFilter::default()
        }),
        [
            ("fx001".to_string(), "unreachable".to_string(), 0.25),
            ("fx001".to_string(), "home_stale".to_string(), 21.0)
        ]
    );
    assert_eq!(
        key(AlertFilter {
            rule: Some("home_stale".into()),
            since: Some("2026-11-21".into()),
            ..AlertFilter::default()
        }),
        [("fx001".to_string(), "home_stale".to_string(), 21.0)]
    );
    assert!(key(AlertFilter {
        code: Some("fx404".into()),
        ..AlertFilter::default()
    })
    .is_empty());
}

fn a_bad_list_item_stores_nothing(b: &dyn Backend) {
    let mut s = b.open().unwrap();
    let err = s
        .save_monitor_run(&run(
            "2026-11-27T00:00:00.000Z",
            vec![finding(
                "fx001",
                "availability",
                "1.0",
                &["<urn:uuid:a>\n<urn:uuid:b>"],
            )],
            vec![],
        ))
        .unwrap_err();
    assert!(matches!(err, StoreError::BadMonitorRun(_)), "{err:?}");
    assert!(s.list_monitor_runs().unwrap().is_empty());
    assert!(s.monitor_findings_since("").unwrap().is_empty());
}
