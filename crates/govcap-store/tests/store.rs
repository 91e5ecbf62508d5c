//! One test body per behaviour, run against SQLite (always) and PostgreSQL (when
//! `GOVCAP_TEST_POSTGRES_URL` is set; unreachable server → the test fails).
//!
//! Digests below are real SHA-256 values of the fixture bytes, computed with Python's hashlib.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use govcap_store::{
    open, open_postgres_with_schema, NewBatch, NewRun, ObservationRow, RunInput, Store, StoreError,
};

const LATEST_SCHEMA: i64 = 7;

// ---------------------------------------------------------------- fixtures

/// Non-ASCII CSV (UTF-8 "北京市") with CRLF line ends.
const UNITS: &[u8] = b"code,name,level\r\n110000,\xe5\x8c\x97\xe4\xba\xac\xe5\xb8\x82,province\r\n";
const UNITS_SHA: &str = "8ec7bec86191a221bdfa5d53282c1eca2bb96b7f03d224655eedd4791ca4edc2";
const OBS_A: &[u8] = b"unit,indicator,year,value\n110000,1.1.1,2021,1\n";
const OBS_A_SHA: &str = "9f2fde7432d3e37a84d9330db788d1840795cfeb547ce819c774b0bc099e4f85";
const OBS_B: &[u8] = b"unit,indicator,year,value\n110000,1.1.1,2021,0\n";
const OBS_B_SHA: &str = "08f86348a9a2ce6fd04c767fdc1933968e1319fbaacdfef05928f7b53abea1c1";
/// Not UTF-8, with NUL bytes: blobs must be kept as raw bytes.
const RAW: &[u8] = &[0, 255, 254, 0xb1, 0xb1, 10, 13, 0];
const RAW_SHA: &str = "42bf251a80df8581fae55795cc55146d80a3d9a392dd5f6697b30c1cc5a7727c";

const FRAMEWORK: &str = "# 框架\r\nid = \"gov-isc\"\nversion = \"2021.1\"\n\n[[indicator]]\nname = \"在线办理\"  \n\ttrailing\t \n";
const RESULTS: &str = "{\n  \"units\": [{\"code\": \"110000\", \"name\": \"北京市\", \"score\": 87.25}],\r\n  \"note\": \"tab\\tend  \"\n}\n";

fn digest(n: u32) -> String {
    format!("{n:064x}")
}

fn input(role: &str, name: &str, sha: &str, bytes: &[u8]) -> RunInput {
    RunInput {
        role: role.into(),
        name: name.into(),
        sha256: sha.into(),
        bytes: bytes.to_vec(),
    }
}

fn sample_run(label: &str, obs: (&[u8], &str)) -> NewRun {
    NewRun {
        label: label.into(),
        year: 2021,
        created_at: "2026-11-27T20:30:00+08:00".into(),
        software_version: "0.1.0".into(),
        framework_id: "gov-isc".into(),
        framework_version: "2021.1".into(),
        framework_sha256: digest(0xf1),
        framework_toml: FRAMEWORK.into(),
        params_json: r#"{"impute":"mean","tiers":5}"#.into(),
        synthetic: false,
        previous_run: None,
        results_sha256: digest(0xe5),
        results_json: RESULTS.into(),
        inputs: vec![
            input("units", "units.csv", UNITS_SHA, UNITS),
            input("observations", "obs.csv", obs.1, obs.0),
        ],
    }
}

fn obs_row(file_row: i64, unit: &str, indicator: &str) -> ObservationRow {
    ObservationRow {
        unit: unit.into(),
        indicator: indicator.into(),
        year: 2021,
        value: format!("{}.5", file_row),
        source: "expert".into(),
        evaluator: None,
        evidence_url: None,
        observed_at: None,
        note: None,
        file_row,
    }
}

fn batch(file_name: &str, rows: Vec<ObservationRow>) -> NewBatch {
    NewBatch {
        file_name: file_name.into(),
        sha256: OBS_A_SHA.into(),
        imported_at: "2026-11-27T12:00:00Z".into(),
        rows,
    }
}

// ---------------------------------------------------------------- backends

/// A fresh, isolated database that can be opened repeatedly and inspected with raw SQL.
trait Backend {
    fn open(&self) -> Result<Box<dyn Store>, StoreError>;
    /// Runs raw SQL returning one integer.
    fn query_i64(&self, sql: &str) -> i64;
    fn exec(&self, sql: &str);
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn unique_suffix() -> String {
    format!(
        "{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

struct Sqlite {
    path: PathBuf,
}

impl Sqlite {
    fn new() -> Self {
        let path =
            std::env::temp_dir().join(format!("govcap_store_test_{}.sqlite", unique_suffix()));
        let sqlite = Sqlite { path };
        sqlite.remove_files();
        sqlite
    }

    fn remove_files(&self) {
        for ext in ["", "-wal", "-shm"] {
            let mut p = self.path.clone().into_os_string();
            p.push(ext);
            let _ = std::fs::remove_file(p);
        }
    }

    fn raw(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(&self.path).unwrap()
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
    fn query_i64(&self, sql: &str) -> i64 {
        self.raw().query_row(sql, [], |r| r.get(0)).unwrap()
    }
    fn exec(&self, sql: &str) {
        self.raw().execute_batch(sql).unwrap();
    }
}

/// A temporary schema on the test server, dropped (with its tables) when the test ends,
/// even if it panicked.
struct Postgres {
    url: String,
    schema: String,
}

impl Postgres {
    /// `None` (with a visible message) when the variable is unset; panics when it is set but
    /// the server cannot be used.
    fn new() -> Option<Self> {
        let Ok(url) = std::env::var("GOVCAP_TEST_POSTGRES_URL") else {
            eprintln!("skipping PostgreSQL tests: GOVCAP_TEST_POSTGRES_URL not set");
            return None;
        };
        let pg = Postgres {
            url,
            schema: format!("govcap_test_{}", unique_suffix()),
        };
        // A schema of the same name may be left over from a crashed run with the same pid.
        pg.raw_plain()
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", pg.schema))
            .expect("GOVCAP_TEST_POSTGRES_URL is set but the server cannot be used");
        Some(pg)
    }

    fn raw_plain(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).unwrap_or_else(|e| {
            panic!("GOVCAP_TEST_POSTGRES_URL is set but connecting failed: {e:?}")
        })
    }

    fn raw(&self) -> postgres::Client {
        let mut c = self.raw_plain();
        c.batch_execute(&format!("SET search_path TO {}", self.schema))
            .unwrap();
        c
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
    fn query_i64(&self, sql: &str) -> i64 {
        self.raw().query_one(sql, &[]).unwrap().get(0)
    }
    fn exec(&self, sql: &str) {
        self.raw().batch_execute(sql).unwrap();
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
    run_round_trips_byte_identical,
    inputs_are_stored_once_per_digest,
    conflicting_digest_refuses_the_whole_run,
    runs_are_listed_in_id_order_and_missing_ids_are_none,
    previous_run_must_exist,
    batch_round_trips,
    failing_batch_leaves_nothing,
    migrations_are_idempotent_on_reopen,
    newer_schema_is_refused,
);

// ---------------------------------------------------------------- shared bodies

fn run_round_trips_byte_identical(b: &dyn Backend) {
    let mut store = b.open().unwrap();
    let mut run = sample_run("2021", (OBS_A, OBS_A_SHA));
    run.synthetic = true;
    run.inputs.push(input("extra", "raw.bin", RAW_SHA, RAW));
    let id = store.save_run(&run).unwrap();
    drop(store);

    // Read back through a new connection, so nothing comes from a client-side cache.
    let mut store = b.open().unwrap();
    let stored = store.get_run(id).unwrap().expect("the run just saved");
    assert_eq!(stored.id, id);
    assert_eq!(stored.results_json.as_bytes(), RESULTS.as_bytes());
    assert_eq!(stored.framework_toml.as_bytes(), FRAMEWORK.as_bytes());
    assert_eq!(stored.inputs.len(), 3);
    assert_eq!(stored.inputs[0].bytes, UNITS);
    assert_eq!(stored.inputs[1].bytes, OBS_A);
    assert_eq!(stored.inputs[2].bytes, RAW);
    let (back_id, back) = stored.into_parts();
    assert_eq!(back_id, id);
    assert_eq!(back, run);

    let list = store.list_runs().unwrap();
    assert_eq!(list.len(), 1);
    let s = &list[0];
    assert_eq!(
        (s.id, s.label.as_str(), s.year, s.synthetic, s.previous_run),
        (id, "2021", 2021, true, None)
    );
    assert_eq!(s.created_at, "2026-11-27T20:30:00+08:00");
    assert_eq!(
        (s.framework_id.as_str(), s.framework_version.as_str()),
        ("gov-isc", "2021.1")
    );
    assert_eq!(s.results_sha256, digest(0xe5));
}

fn inputs_are_stored_once_per_digest(b: &dyn Backend) {
    let mut store = b.open().unwrap();
    let run = sample_run("daily", (OBS_A, OBS_A_SHA));
    let ids: Vec<i64> = (0..5).map(|_| store.save_run(&run).unwrap()).collect();
    let stats = store.stats().unwrap();
    assert_eq!(stats.runs, 5);
    assert_eq!(stats.run_inputs, 10);
    assert_eq!(stats.input_blobs, 2);
    assert_eq!(stats.input_blob_bytes, (UNITS.len() + OBS_A.len()) as u64); // 44 + 46
    assert_eq!(stats.input_blob_bytes, 90);

    // A changed observations file adds exactly one blob; units are shared.
    let id_b = store
        .save_run(&sample_run("daily", (OBS_B, OBS_B_SHA)))
        .unwrap();
    let stats = store.stats().unwrap();
    assert_eq!(
        (stats.runs, stats.input_blobs, stats.input_blob_bytes),
        (6, 3, 136)
    );
    assert_eq!(b.query_i64("SELECT COUNT(*) FROM input_blob"), 3);

    // Every run still resolves to its own bytes.
    for id in ids {
        assert_eq!(store.get_run(id).unwrap().unwrap().inputs[1].bytes, OBS_A);
    }
    assert_eq!(store.get_run(id_b).unwrap().unwrap().inputs[1].bytes, OBS_B);
}

fn conflicting_digest_refuses_the_whole_run(b: &dyn Backend) {
    let mut store = b.open().unwrap();
    store
        .save_run(&sample_run("a", (OBS_A, OBS_A_SHA)))
        .unwrap();
    // OBS_B's bytes under OBS_A's digest: a caller bug that must not silently alias files.
    let err = store
        .save_run(&sample_run("lying", (OBS_B, OBS_A_SHA)))
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::BlobMismatch { name, sha256 } if name == "obs.csv" && sha256 == OBS_A_SHA),
        "{err:?}"
    );
    let stats = store.stats().unwrap();
    assert_eq!((stats.runs, stats.run_inputs, stats.input_blobs), (1, 2, 2));

    let mut bad = sample_run("bad digest", (OBS_A, OBS_A_SHA));
    bad.results_sha256 = OBS_A_SHA.to_uppercase();
    assert!(matches!(
        store.save_run(&bad),
        Err(StoreError::BadDigest { .. })
    ));
    assert_eq!(store.list_runs().unwrap().len(), 1);
}

fn runs_are_listed_in_id_order_and_missing_ids_are_none(b: &dyn Backend) {
    let mut store = b.open().unwrap();
    let labels = ["2019", "2020", "b-label", "2021", "a-label"];
    let mut ids = Vec::new();
    for (i, label) in labels.iter().enumerate() {
        let mut run = sample_run(label, (OBS_A, OBS_A_SHA));
        run.year = 2019 + i as i32;
        ids.push(store.save_run(&run).unwrap());
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase: {ids:?}");
    let list = store.list_runs().unwrap();
    assert_eq!(list.iter().map(|s| s.id).collect::<Vec<_>>(), ids);
    assert_eq!(
        list.iter().map(|s| s.label.as_str()).collect::<Vec<_>>(),
        labels
    );
    assert_eq!(
        list.iter().map(|s| s.year).collect::<Vec<_>>(),
        [2019, 2020, 2021, 2022, 2023]
    );

    let max = *ids.last().unwrap();
    assert!(store.get_run(max + 1).unwrap().is_none());
    assert!(store.get_run(max + 1000).unwrap().is_none());
    assert!(store.get_run(0).unwrap().is_none());
    assert!(store.get_run(-1).unwrap().is_none());
    assert_eq!(store.get_run(ids[2]).unwrap().unwrap().label, "b-label");
}

fn previous_run_must_exist(b: &dyn Backend) {
    let mut store = b.open().unwrap();
    let first = store
        .save_run(&sample_run("2020", (OBS_A, OBS_A_SHA)))
        .unwrap();
    let mut second = sample_run("2021", (OBS_B, OBS_B_SHA));
    second.previous_run = Some(first);
    let second_id = store.save_run(&second).unwrap();
    assert_eq!(
        store.get_run(second_id).unwrap().unwrap().previous_run,
        Some(first)
    );
    assert_eq!(store.list_runs().unwrap()[1].previous_run, Some(first));

    second.previous_run = Some(second_id + 100);
    let err = store.save_run(&second).unwrap_err();
    assert!(
        matches!(err, StoreError::UnknownPreviousRun(n) if n == second_id + 100),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("previous run {} does not exist", second_id + 100)
    );
    assert_eq!(store.stats().unwrap().runs, 2);
}

fn batch_round_trips(b: &dyn Backend) {
    let mut store = b.open().unwrap();
    assert!(store.list_batches().unwrap().is_empty());
    let mut full = obs_row(7, "110000", "1.1.1");
    full.value = "是".into();
    full.evaluator = Some("张三".into());
    full.evidence_url = Some("https://www.beijing.gov.cn/".into());
    full.observed_at = Some("2021-06-01".into());
    full.note = Some("  spaces kept \n".into());
    // Given out of file order; read back ordered by file_row.
    let rows = vec![
        obs_row(9, "120000", "1.1.2"),
        full.clone(),
        obs_row(8, "110000", "1.1.2"),
    ];
    let id1 = store.save_batch(&batch("obs-2021.csv", rows)).unwrap();
    let id2 = store.save_batch(&batch("empty.csv", Vec::new())).unwrap();
    assert!(id1 < id2);

    let back = store.batch_rows(id1).unwrap();
    assert_eq!(
        back.iter().map(|r| r.file_row).collect::<Vec<_>>(),
        [7, 8, 9]
    );
    assert_eq!(back[0], full);
    assert_eq!(back[1], obs_row(8, "110000", "1.1.2"));
    assert_eq!(back[2].unit, "120000");
    assert_eq!(back[2].value, "9.5");
    assert!(store.batch_rows(id2).unwrap().is_empty());
    assert!(store.batch_rows(id2 + 50).unwrap().is_empty());

    let list = store.list_batches().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(
        (list[0].id, list[0].file_name.as_str(), list[0].rows),
        (id1, "obs-2021.csv", 3)
    );
    assert_eq!((list[1].id, list[1].rows), (id2, 0));
    assert_eq!(list[0].sha256, OBS_A_SHA);
    assert_eq!(list[0].imported_at, "2026-11-27T12:00:00Z");
}

fn failing_batch_leaves_nothing(b: &dyn Backend) {
    let mut store = b.open().unwrap();
    let good = store
        .save_batch(&batch("good.csv", vec![obs_row(2, "110000", "1.1.1")]))
        .unwrap();

    // Row 3 (second of three) has an empty unit: refused by the database mid-insert.
    let rows = vec![
        obs_row(2, "110000", "1.1.1"),
        obs_row(3, "", "1.1.1"),
        obs_row(4, "130000", "1.1.1"),
    ];
    let err = store.save_batch(&batch("bad.csv", rows)).unwrap_err();
    assert!(
        matches!(err, StoreError::RowRejected { file_row: 3, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("observation at file row 3 was refused"),
        "{err}"
    );

    // Duplicate file row: the second row with file_row 5 is refused.
    let rows = vec![
        obs_row(5, "110000", "1.1.1"),
        obs_row(6, "110000", "1.1.2"),
        obs_row(5, "120000", "1.1.1"),
    ];
    let err = store.save_batch(&batch("dup.csv", rows)).unwrap_err();
    assert!(
        matches!(err, StoreError::RowRejected { file_row: 5, .. }),
        "{err:?}"
    );

    // Empty indicator in the last row.
    let rows = vec![obs_row(2, "110000", "1.1.1"), obs_row(3, "110000", "")];
    let err = store.save_batch(&batch("ind.csv", rows)).unwrap_err();
    assert!(
        matches!(err, StoreError::RowRejected { file_row: 3, .. }),
        "{err:?}"
    );

    let list = store.list_batches().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!((list[0].id, list[0].rows), (good, 1));
    let stats = store.stats().unwrap();
    assert_eq!((stats.batches, stats.observation_rows), (1, 1));
    assert_eq!(b.query_i64("SELECT COUNT(*) FROM observation_batch"), 1);
    assert_eq!(b.query_i64("SELECT COUNT(*) FROM observation_row"), 1);

    // The store is still usable after the rollbacks.
    let next = store
        .save_batch(&batch("after.csv", vec![obs_row(1, "110000", "1.1.1")]))
        .unwrap();
    assert!(next > good);
    assert_eq!(store.batch_rows(next).unwrap().len(), 1);
}

fn migrations_are_idempotent_on_reopen(b: &dyn Backend) {
    let mut store = b.open().unwrap();
    let id = store
        .save_run(&sample_run("kept", (OBS_A, OBS_A_SHA)))
        .unwrap();
    let batch_id = store
        .save_batch(&batch("kept.csv", vec![obs_row(1, "110000", "1.1.1")]))
        .unwrap();
    drop(store);
    for _ in 0..3 {
        let mut store = b.open().unwrap();
        assert_eq!(store.stats().unwrap().schema_version, LATEST_SCHEMA);
        assert_eq!(store.get_run(id).unwrap().unwrap().label, "kept");
        assert_eq!(store.batch_rows(batch_id).unwrap().len(), 1);
    }
    assert_eq!(
        b.query_i64("SELECT COUNT(*) FROM schema_version"),
        LATEST_SCHEMA
    );
    assert_eq!(
        b.query_i64("SELECT MAX(version) FROM schema_version"),
        LATEST_SCHEMA
    );
    assert_eq!(b.query_i64("SELECT COUNT(*) FROM run"), 1);
}

fn newer_schema_is_refused(b: &dyn Backend) {
    drop(b.open().unwrap());
    b.exec(&format!(
        "INSERT INTO schema_version (version) VALUES ({})",
        LATEST_SCHEMA + 1
    ));
    let err = b.open().err().expect("a newer schema must be refused");
    assert!(
        matches!(err, StoreError::SchemaTooNew { found, known } if found == LATEST_SCHEMA + 1 && known == LATEST_SCHEMA),
        "{err:?}"
    );
}

// ---------------------------------------------------------------- backend-specific

#[test]
fn sqlite_file_is_created_in_wal_mode() {
    let b = Sqlite::new();
    assert!(!b.path.exists());
    let mut store = b.open().unwrap();
    assert!(b.path.exists());
    store
        .save_run(&sample_run("x", (OBS_A, OBS_A_SHA)))
        .unwrap();
    let mode: String = b
        .raw()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn sqlite_refuses_a_file_that_is_not_a_database() {
    let b = Sqlite::new();
    std::fs::write(&b.path, b"this is results.json, not a database, padded to be long enough to look like a header page..........").unwrap();
    let err = b.open().err().expect("not a database");
    assert!(matches!(err, StoreError::OpenSqlite { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("could not open SQLite database "),
        "{err}"
    );
}

#[test]
fn postgres_url_goes_to_postgres_and_reports_an_unreachable_server() {
    // Port 1 on loopback: nothing listens, so the connection is refused at once.
    let err = open("postgres://govcap@127.0.0.1:1/none")
        .err()
        .expect("nothing listens on port 1");
    assert!(matches!(err, StoreError::ConnectPostgres(_)), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with("could not connect to PostgreSQL: "),
        "{text}"
    );
    assert!(
        !text.contains("govcap@"),
        "the URL may hold secrets: {text}"
    );
}

#[test]
fn postgres_rejects_bad_schema_names_before_connecting() {
    let err = open_postgres_with_schema("postgres://x@127.0.0.1:1/none", "x; DROP TABLE run")
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::BadSchemaName(_)), "{err:?}");
}

#[test]
fn postgres_default_schema_is_the_connection_current_schema() {
    let Some(pg) = Postgres::new() else { return };
    // Create the schema, then point the session at it through the URL's options, as a user
    // of plain `open` would.
    pg.raw_plain()
        .batch_execute(&format!("CREATE SCHEMA {}", pg.schema))
        .unwrap();
    let sep = if pg.url.contains('?') { '&' } else { '?' };
    let url = format!("{}{sep}options=-csearch_path%3D{}", pg.url, pg.schema);
    let mut store = open(&url).unwrap();
    store
        .save_run(&sample_run("x", (OBS_A, OBS_A_SHA)))
        .unwrap();
    assert_eq!(pg.query_i64("SELECT COUNT(*) FROM run"), 1);
}
