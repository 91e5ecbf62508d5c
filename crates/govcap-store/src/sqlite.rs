//! SQLite backend: one local file, zero setup.

use std::path::Path;
use std::time::Duration;

use rusqlite::{
    params, Connection, ErrorCode, OptionalExtension, Transaction, TransactionBehavior,
};

use crate::{
    check_batch, check_run, count, join_list, split_list, to_i64, AlertFilter, BatchSummary,
    MonitorAlert, MonitorFinding, MonitorRunSummary, NewBatch, NewMonitorRun, NewRun,
    ObservationRow, RunInput, RunSummary, Store, StoreError, StoreStats, StoredAlert,
    StoredFinding, StoredRun,
};

/// Ordered migrations; version N is `MIGRATIONS[N - 1]`. Never edit a released entry, append.
/// STRICT tables make SQLite enforce the declared column types like PostgreSQL does.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE run (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    label             TEXT    NOT NULL,
    year              INTEGER NOT NULL,
    created_at        TEXT    NOT NULL,
    software_version  TEXT    NOT NULL,
    framework_id      TEXT    NOT NULL,
    framework_version TEXT    NOT NULL,
    framework_sha256  TEXT    NOT NULL CHECK (length(framework_sha256) = 64),
    framework_toml    TEXT    NOT NULL,
    params_json       TEXT    NOT NULL,
    synthetic         INTEGER NOT NULL CHECK (synthetic IN (0, 1)),
    previous_run      INTEGER REFERENCES run (id),
    results_sha256    TEXT    NOT NULL CHECK (length(results_sha256) = 64),
    results_json      TEXT    NOT NULL
) STRICT;

CREATE TABLE input_blob (
    sha256 TEXT    NOT NULL PRIMARY KEY CHECK (length(sha256) = 64),
    size   INTEGER NOT NULL CHECK (size >= 0),
    bytes  BLOB    NOT NULL,
    CHECK (length(bytes) = size)
) STRICT;

CREATE TABLE run_input (
    run_id   INTEGER NOT NULL REFERENCES run (id),
    position INTEGER NOT NULL CHECK (position >= 0),
    role     TEXT    NOT NULL CHECK (role <> ''),
    name     TEXT    NOT NULL,
    sha256   TEXT    NOT NULL REFERENCES input_blob (sha256),
    PRIMARY KEY (run_id, position)
) STRICT;
CREATE INDEX run_input_sha256 ON run_input (sha256);

CREATE TABLE observation_batch (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    file_name   TEXT NOT NULL,
    sha256      TEXT NOT NULL CHECK (length(sha256) = 64),
    imported_at TEXT NOT NULL
) STRICT;

CREATE TABLE observation_row (
    batch_id     INTEGER NOT NULL REFERENCES observation_batch (id),
    file_row     INTEGER NOT NULL,
    unit         TEXT    NOT NULL CHECK (unit <> ''),
    indicator    TEXT    NOT NULL CHECK (indicator <> ''),
    year         INTEGER NOT NULL,
    value        TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    evaluator    TEXT,
    evidence_url TEXT,
    observed_at  TEXT,
    note         TEXT,
    PRIMARY KEY (batch_id, file_row, indicator)
) STRICT;
"#,
    r#"
CREATE TABLE monitor_run (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at   TEXT NOT NULL,
    as_of        TEXT NOT NULL,
    out_dir      TEXT NOT NULL,
    summary_json TEXT NOT NULL
) STRICT;
CREATE INDEX monitor_run_started_at ON monitor_run (started_at);

CREATE TABLE monitor_finding (
    run_id       INTEGER NOT NULL REFERENCES monitor_run (id),
    position     INTEGER NOT NULL CHECK (position >= 0),
    code         TEXT    NOT NULL CHECK (code <> ''),
    check_name   TEXT    NOT NULL CHECK (check_name <> ''),
    url          TEXT    NOT NULL,
    value_json   TEXT    NOT NULL,
    details_json TEXT    NOT NULL,
    evidence     TEXT    NOT NULL,
    PRIMARY KEY (run_id, position)
) STRICT;

CREATE TABLE monitor_alert (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id     INTEGER NOT NULL REFERENCES monitor_run (id),
    code       TEXT    NOT NULL CHECK (code <> ''),
    rule       TEXT    NOT NULL CHECK (rule <> ''),
    severity   TEXT    NOT NULL CHECK (severity IN ('warning', 'critical')),
    message_zh TEXT    NOT NULL,
    message_en TEXT    NOT NULL,
    first_seen TEXT    NOT NULL,
    last_seen  TEXT    NOT NULL,
    value      REAL    NOT NULL,
    evidence   TEXT    NOT NULL,
    findings   TEXT    NOT NULL
) STRICT;
CREATE INDEX monitor_alert_code ON monitor_alert (code, last_seen);
"#,
    // 3: when an alert was POSTed to the webhook (repeat suppression reads it).
    r#"
ALTER TABLE monitor_alert ADD COLUMN webhook_sent_at TEXT;
"#,
    // 4: the team workspace (accounts, sessions, API tokens, publication, audit trail).
    r#"
CREATE TABLE app_user (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL UNIQUE CHECK (name <> ''),
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'lead', 'evaluator', 'reviewer', 'unit')),
    units         TEXT    NOT NULL,
    disabled      INTEGER NOT NULL CHECK (disabled IN (0, 1)),
    password_hash TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
) STRICT;

CREATE TABLE user_session (
    id_hash    TEXT    NOT NULL PRIMARY KEY CHECK (length(id_hash) = 64),
    user_id    INTEGER NOT NULL REFERENCES app_user (id),
    csrf_token TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    last_seen  TEXT    NOT NULL,
    expires_at TEXT    NOT NULL,
    ended_at   TEXT
) STRICT;
CREATE INDEX user_session_user ON user_session (user_id);

CREATE TABLE api_token (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES app_user (id),
    token_hash TEXT    NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    label      TEXT    NOT NULL,
    prefix     TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    revoked_at TEXT
) STRICT;

CREATE TABLE run_publication (
    run_id     INTEGER NOT NULL PRIMARY KEY REFERENCES run (id),
    published  INTEGER NOT NULL CHECK (published IN (0, 1)),
    changed_at TEXT    NOT NULL,
    changed_by TEXT    NOT NULL
) STRICT;

CREATE TABLE audit_log (
    seq         INTEGER NOT NULL PRIMARY KEY,
    at          TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    role        TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    object      TEXT    NOT NULL,
    before_json TEXT,
    after_json  TEXT,
    request_id  TEXT    NOT NULL,
    prev_hash   TEXT    NOT NULL CHECK (length(prev_hash) = 64),
    hash        TEXT    NOT NULL CHECK (length(hash) = 64)
) STRICT;
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE TABLE audit_head (
    id   INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT    NOT NULL
) STRICT;
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
"#,
    // 5: the statistical audits of recorded runs (the dashboard shows rank intervals from them).
    r#"
CREATE TABLE run_audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id      INTEGER NOT NULL REFERENCES run (id),
    created_at  TEXT    NOT NULL,
    factors     TEXT    NOT NULL,
    audit_json  TEXT    NOT NULL
) STRICT;
CREATE INDEX run_audit_run ON run_audit (run_id, id);
"#,
    // 6: evaluation campaigns: tasks and their events (a task's state is folded from its events).
    r#"
CREATE TABLE campaign (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT    NOT NULL CHECK (name <> ''),
    year           INTEGER NOT NULL,
    framework_toml TEXT    NOT NULL,
    units_csv      TEXT    NOT NULL,
    double_share   TEXT    NOT NULL,
    seed           INTEGER NOT NULL,
    phase          TEXT    NOT NULL CHECK (phase IN ('entry', 'appeals', 'frozen', 'closed')),
    appeal_deadline TEXT,
    due_at         TEXT,
    monitor_run_id INTEGER REFERENCES monitor_run (id),
    run_id         INTEGER REFERENCES run (id),
    created_by     TEXT    NOT NULL,
    created_at     TEXT    NOT NULL
) STRICT;

CREATE TABLE campaign_task (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id INTEGER NOT NULL REFERENCES campaign (id),
    unit        TEXT    NOT NULL CHECK (unit <> ''),
    indicator   TEXT    NOT NULL CHECK (indicator <> ''),
    coder       INTEGER NOT NULL CHECK (coder IN (1, 2)),
    UNIQUE (campaign_id, unit, indicator, coder)
) STRICT;

CREATE TABLE task_event (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id  INTEGER NOT NULL REFERENCES campaign_task (id),
    version  INTEGER NOT NULL CHECK (version >= 1),
    at       TEXT    NOT NULL,
    actor    TEXT    NOT NULL,
    kind     TEXT    NOT NULL,
    body     TEXT    NOT NULL,
    evidence_url TEXT,
    note     TEXT,
    UNIQUE (task_id, version)
) STRICT;
CREATE INDEX task_event_kind ON task_event (kind, task_id);
CREATE INDEX campaign_task_key ON campaign_task (campaign_id, unit, indicator);
CREATE TABLE evidence_file (
    sha256      TEXT    NOT NULL PRIMARY KEY CHECK (length(sha256) = 64),
    mime        TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    size        INTEGER NOT NULL CHECK (size >= 0),
    bytes       BLOB    NOT NULL,
    uploaded_by TEXT    NOT NULL,
    uploaded_at TEXT    NOT NULL
) STRICT;
"#,
    // 7: the provisional run computed when a campaign opens its appeals (what units see).
    r#"
ALTER TABLE campaign ADD COLUMN provisional_run_id INTEGER REFERENCES run (id);
"#,
];

/// A store in a SQLite file, in WAL mode (readers do not block the writer) with foreign keys
/// enforced (SQLite leaves them off by default).
pub struct SqliteStore {
    conn: Connection,
}

impl SqliteStore {
    /// Opens (creating if absent) the database file at `path` and applies migrations.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        let open_err = |source| StoreError::OpenSqlite {
            path: path.display().to_string(),
            source,
        };
        let conn = Connection::open(path).map_err(open_err)?;
        Self::configure(&conn).map_err(open_err)?;
        let mut store = SqliteStore { conn };
        store.migrate()?;
        Ok(store)
    }

    /// Per-connection settings. Also the first real read, so a file that is not a database
    /// is reported here as an open error.
    fn configure(conn: &Connection) -> rusqlite::Result<()> {
        // Another govcap process may hold the write lock briefly; wait instead of failing.
        conn.busy_timeout(Duration::from_secs(10))?;
        // journal_mode answers with the resulting mode, so it is a query, not an update.
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")?;
        Ok(())
    }

    /// Applies pending migrations in one immediate transaction, so two processes opening the
    /// same new file cannot both migrate it.
    fn migrate(&mut self) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY) STRICT",
        )?;
        let current = schema_version(&tx)?;
        let known = to_i64("migration count", MIGRATIONS.len())?;
        if current > known {
            return Err(StoreError::SchemaTooNew {
                found: current,
                known,
            });
        }
        for (version, sql) in (1_i64..)
            .zip(MIGRATIONS)
            .skip(count("schema version", current)?)
        {
            tx.execute_batch(sql)?;
            tx.execute(
                "INSERT INTO schema_version (version) VALUES (?1)",
                [version],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

fn schema_version(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_version",
        [],
        |r| r.get(0),
    )?)
}

/// Stores `input`'s bytes unless a blob with its digest exists; an existing blob must have
/// the same bytes, otherwise the claimed digest is wrong and the run is refused.
fn put_blob(tx: &Transaction<'_>, input: &RunInput) -> Result<(), StoreError> {
    let size = to_i64("input size", input.bytes.len())?;
    let inserted = tx.execute(
        "INSERT INTO input_blob (sha256, size, bytes) VALUES (?1, ?2, ?3)
         ON CONFLICT (sha256) DO NOTHING",
        params![input.sha256, size, input.bytes],
    )?;
    if inserted == 0 {
        let same: bool = tx.query_row(
            "SELECT bytes = ?2 FROM input_blob WHERE sha256 = ?1",
            params![input.sha256, input.bytes],
            |r| r.get(0),
        )?;
        if !same {
            return Err(StoreError::BlobMismatch {
                name: input.name.clone(),
                sha256: input.sha256.clone(),
            });
        }
    }
    Ok(())
}

impl Store for SqliteStore {
    fn save_run(&mut self, run: &NewRun) -> Result<i64, StoreError> {
        check_run(run)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(prev) = run.previous_run {
            let exists: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM run WHERE id = ?1)",
                [prev],
                |r| r.get(0),
            )?;
            if !exists {
                return Err(StoreError::UnknownPreviousRun(prev));
            }
        }
        tx.execute(
            "INSERT INTO run (label, year, created_at, software_version, framework_id,
                 framework_version, framework_sha256, framework_toml, params_json, synthetic,
                 previous_run, results_sha256, results_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                run.label,
                run.year,
                run.created_at,
                run.software_version,
                run.framework_id,
                run.framework_version,
                run.framework_sha256,
                run.framework_toml,
                run.params_json,
                run.synthetic,
                run.previous_run,
                run.results_sha256,
                run.results_json,
            ],
        )?;
        let id = tx.last_insert_rowid();
        for (position, input) in (0_i64..).zip(&run.inputs) {
            put_blob(&tx, input)?;
            tx.execute(
                "INSERT INTO run_input (run_id, position, role, name, sha256)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, position, input.role, input.name, input.sha256],
            )?;
        }
        tx.commit()?;
        Ok(id)
    }

    fn list_runs(&mut self) -> Result<Vec<RunSummary>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, label, year, created_at, framework_id, framework_version, synthetic,
                    previous_run, results_sha256
             FROM run ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(RunSummary {
                id: r.get(0)?,
                label: r.get(1)?,
                year: r.get(2)?,
                created_at: r.get(3)?,
                framework_id: r.get(4)?,
                framework_version: r.get(5)?,
                synthetic: r.get(6)?,
                previous_run: r.get(7)?,
                results_sha256: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn get_run(&mut self, id: i64) -> Result<Option<StoredRun>, StoreError> {
        // One read transaction so the run and its inputs come from the same snapshot.
        let tx = self.conn.transaction()?;
        let run = tx
            .query_row(
                "SELECT label, year, created_at, software_version, framework_id,
                        framework_version, framework_sha256, framework_toml, params_json,
                        synthetic, previous_run, results_sha256, results_json
                 FROM run WHERE id = ?1",
                [id],
                |r| {
                    Ok(StoredRun {
                        id,
                        label: r.get(0)?,
                        year: r.get(1)?,
                        created_at: r.get(2)?,
                        software_version: r.get(3)?,
                        framework_id: r.get(4)?,
                        framework_version: r.get(5)?,
                        framework_sha256: r.get(6)?,
                        framework_toml: r.get(7)?,
                        params_json: r.get(8)?,
                        synthetic: r.get(9)?,
                        previous_run: r.get(10)?,
                        results_sha256: r.get(11)?,
                        results_json: r.get(12)?,
                        inputs: Vec::new(),
                    })
                },
            )
            .optional()?;
        let Some(mut run) = run else {
            return Ok(None);
        };
        {
            let mut stmt = tx.prepare(
                "SELECT ri.role, ri.name, ri.sha256, b.bytes
                 FROM run_input ri JOIN input_blob b ON b.sha256 = ri.sha256
                 WHERE ri.run_id = ?1 ORDER BY ri.position",
            )?;
            let inputs = stmt.query_map([id], |r| {
                Ok(RunInput {
                    role: r.get(0)?,
                    name: r.get(1)?,
                    sha256: r.get(2)?,
                    bytes: r.get(3)?,
                })
            })?;
            run.inputs = inputs.collect::<Result<_, _>>()?;
        }
        tx.commit()?;
        Ok(Some(run))
    }

    fn save_batch(&mut self, batch: &NewBatch) -> Result<i64, StoreError> {
        check_batch(batch)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO observation_batch (file_name, sha256, imported_at) VALUES (?1, ?2, ?3)",
            params![batch.file_name, batch.sha256, batch.imported_at],
        )?;
        let id = tx.last_insert_rowid();
        {
            let mut stmt = tx.prepare(
                "INSERT INTO observation_row (batch_id, file_row, unit, indicator, year, value,
                     source, evaluator, evidence_url, observed_at, note)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?;
            for row in &batch.rows {
                stmt.execute(params![
                    id,
                    row.file_row,
                    row.unit,
                    row.indicator,
                    row.year,
                    row.value,
                    row.source,
                    row.evaluator,
                    row.evidence_url,
                    row.observed_at,
                    row.note,
                ])
                .map_err(|e| match e.sqlite_error_code() {
                    Some(ErrorCode::ConstraintViolation) => StoreError::RowRejected {
                        file_row: row.file_row,
                        reason: e.to_string(),
                    },
                    _ => StoreError::Sqlite(e),
                })?;
            }
        }
        // Dropping `tx` on any error above rolls everything back, the batch row included.
        tx.commit()?;
        Ok(id)
    }

    fn batch_rows(&mut self, batch_id: i64) -> Result<Vec<ObservationRow>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT unit, indicator, year, value, source, evaluator, evidence_url, observed_at,
                    note, file_row
             FROM observation_row WHERE batch_id = ?1 ORDER BY file_row, indicator",
        )?;
        let rows = stmt.query_map([batch_id], |r| {
            Ok(ObservationRow {
                unit: r.get(0)?,
                indicator: r.get(1)?,
                year: r.get(2)?,
                value: r.get(3)?,
                source: r.get(4)?,
                evaluator: r.get(5)?,
                evidence_url: r.get(6)?,
                observed_at: r.get(7)?,
                note: r.get(8)?,
                file_row: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn list_batches(&mut self) -> Result<Vec<BatchSummary>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT b.id, b.file_name, b.sha256, b.imported_at,
                    (SELECT COUNT(*) FROM observation_row r WHERE r.batch_id = b.id)
             FROM observation_batch b ORDER BY b.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, file_name, sha256, imported_at, n) = row?;
            out.push(BatchSummary {
                id,
                file_name,
                sha256,
                imported_at,
                rows: count("batch row count", n)?,
            });
        }
        Ok(out)
    }

    fn stats(&mut self) -> Result<StoreStats, StoreError> {
        let tx = self.conn.transaction()?;
        let version = schema_version(&tx)?;
        let (runs, run_inputs, blobs, blob_bytes, batches, obs): (i64, i64, i64, i64, i64, i64) =
            tx.query_row(
                "SELECT (SELECT COUNT(*) FROM run),
                        (SELECT COUNT(*) FROM run_input),
                        (SELECT COUNT(*) FROM input_blob),
                        (SELECT COALESCE(SUM(size), 0) FROM input_blob),
                        (SELECT COUNT(*) FROM observation_batch),
                        (SELECT COUNT(*) FROM observation_row)",
                [],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                },
            )?;
        tx.commit()?;
        Ok(StoreStats {
            schema_version: version,
            runs: count("run count", runs)?,
            run_inputs: count("run input count", run_inputs)?,
            input_blobs: count("input blob count", blobs)?,
            input_blob_bytes: u64::try_from(blob_bytes)
                .map_err(|_| StoreError::Corrupt(format!("input blob bytes is {blob_bytes}")))?,
            batches: count("batch count", batches)?,
            observation_rows: count("observation row count", obs)?,
        })
    }

    fn save_monitor_run(&mut self, run: &NewMonitorRun) -> Result<i64, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO monitor_run (started_at, as_of, out_dir, summary_json)
             VALUES (?1, ?2, ?3, ?4)",
            params![run.started_at, run.as_of, run.out_dir, run.summary_json],
        )?;
        let id = tx.last_insert_rowid();
        {
            let mut stmt = tx.prepare(
                "INSERT INTO monitor_finding (run_id, position, code, check_name, url,
                     value_json, details_json, evidence)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for (position, f) in (0_i64..).zip(&run.findings) {
                stmt.execute(params![
                    id,
                    position,
                    f.code,
                    f.check,
                    f.url,
                    f.value_json,
                    f.details_json,
                    join_list(&f.evidence)?,
                ])?;
            }
            let mut stmt = tx.prepare(
                "INSERT INTO monitor_alert (run_id, code, rule, severity, message_zh,
                     message_en, first_seen, last_seen, value, evidence, findings)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?;
            for a in &run.alerts {
                stmt.execute(params![
                    id,
                    a.code,
                    a.rule,
                    a.severity,
                    a.message_zh,
                    a.message_en,
                    a.first_seen,
                    a.last_seen,
                    a.value,
                    join_list(&a.evidence)?,
                    join_list(&a.findings)?,
                ])?;
            }
        }
        tx.commit()?;
        Ok(id)
    }

    fn list_monitor_runs(&mut self) -> Result<Vec<MonitorRunSummary>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT r.id, r.started_at, r.as_of, r.out_dir,
                    (SELECT COUNT(*) FROM monitor_finding f WHERE f.run_id = r.id),
                    (SELECT COUNT(*) FROM monitor_alert a WHERE a.run_id = r.id)
             FROM monitor_run r ORDER BY r.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, started_at, as_of, out_dir, f, a) = row?;
            out.push(MonitorRunSummary {
                id,
                started_at,
                as_of,
                out_dir,
                findings: count("finding count", f)?,
                alerts: count("alert count", a)?,
            });
        }
        Ok(out)
    }

    fn monitor_findings_since(&mut self, since: &str) -> Result<Vec<StoredFinding>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT r.id, r.started_at, f.code, f.check_name, f.url, f.value_json,
                    f.details_json, f.evidence
             FROM monitor_finding f JOIN monitor_run r ON r.id = f.run_id
             WHERE r.started_at >= ?1
             ORDER BY r.id, f.position",
        )?;
        let rows = stmt.query_map([since], |r| {
            Ok(StoredFinding {
                run_id: r.get(0)?,
                started_at: r.get(1)?,
                finding: MonitorFinding {
                    code: r.get(2)?,
                    check: r.get(3)?,
                    url: r.get(4)?,
                    value_json: r.get(5)?,
                    details_json: r.get(6)?,
                    evidence: split_list(&r.get::<_, String>(7)?),
                },
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn list_alerts(&mut self, filter: &AlertFilter) -> Result<Vec<StoredAlert>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, run_id, code, rule, severity, message_zh, message_en, first_seen,
                    last_seen, value, evidence, findings, webhook_sent_at
             FROM monitor_alert
             WHERE (?1 IS NULL OR code = ?1)
               AND (?2 IS NULL OR rule = ?2)
               AND (?3 IS NULL OR last_seen >= ?3)
             ORDER BY id",
        )?;
        let rows = stmt.query_map(params![filter.code, filter.rule, filter.since], |r| {
            Ok(StoredAlert {
                id: r.get(0)?,
                run_id: r.get(1)?,
                alert: MonitorAlert {
                    code: r.get(2)?,
                    rule: r.get(3)?,
                    severity: r.get(4)?,
                    message_zh: r.get(5)?,
                    message_en: r.get(6)?,
                    first_seen: r.get(7)?,
                    last_seen: r.get(8)?,
                    value: r.get(9)?,
                    evidence: split_list(&r.get::<_, String>(10)?),
                    findings: split_list(&r.get::<_, String>(11)?),
                },
                webhook_sent_at: r.get(12)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn mark_webhook_sent(&mut self, ids: &[i64], at: &str) -> Result<usize, StoreError> {
        let tx = self.conn.transaction()?;
        let mut n = 0;
        {
            let mut stmt =
                tx.prepare("UPDATE monitor_alert SET webhook_sent_at = ?1 WHERE id = ?2")?;
            for id in ids {
                n += stmt.execute(params![at, id])?;
            }
        }
        tx.commit()?;
        Ok(n)
    }

    fn transact(
        &mut self,
        write: bool,
        f: &mut dyn FnMut(&mut dyn crate::sql::Tx) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let behavior = if write {
            TransactionBehavior::Immediate
        } else {
            TransactionBehavior::Deferred
        };
        let tx = self.conn.transaction_with_behavior(behavior)?;
        f(&mut crate::sql::sqlite_impl::SqliteTx(&tx))?;
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_enforces_foreign_keys() {
        let store = SqliteStore::open(":memory:").unwrap();
        let on: bool = store
            .conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert!(on);
        // And the constraint really bites: a link to a missing run is refused.
        let err = store
            .conn
            .execute(
                "INSERT INTO run_input (run_id, position, role, name, sha256)
                 VALUES (42, 0, 'units', 'u.csv', ?1)",
                [&"0".repeat(64)],
            )
            .unwrap_err();
        assert_eq!(
            err.sqlite_error_code(),
            Some(ErrorCode::ConstraintViolation)
        );
    }
}
