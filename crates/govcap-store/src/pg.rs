//! PostgreSQL backend: a shared server for teams.
//!
//! All tables live in one schema. [`PostgresStore::connect`] uses the connection's current
//! schema (normally `public`, or whatever the URL's `options=-c search_path=…` selects);
//! [`PostgresStore::connect_with_schema`] creates and uses a named schema, which is how the
//! tests keep apart on one server. Either way the session's `search_path` is then pinned to
//! that single schema, so every unqualified table name below means the same table.

use postgres::{Client, NoTls, Transaction};

use crate::{
    check_batch, check_run, count, join_list, split_list, to_i64, AlertFilter, BatchSummary,
    MonitorAlert, MonitorFinding, MonitorRunSummary, NewBatch, NewMonitorRun, NewRun,
    ObservationRow, RunInput, RunSummary, Store, StoreError, StoreStats, StoredAlert,
    StoredFinding, StoredRun,
};

/// Ordered migrations; version N is `MIGRATIONS[N - 1]`. Never edit a released entry, append.
/// Same tables as the SQLite list, in PostgreSQL's dialect (identity, BIGINT, BYTEA, BOOLEAN).
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE run (
    id                BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    label             TEXT    NOT NULL,
    year              INTEGER NOT NULL,
    created_at        TEXT    NOT NULL,
    software_version  TEXT    NOT NULL,
    framework_id      TEXT    NOT NULL,
    framework_version TEXT    NOT NULL,
    framework_sha256  TEXT    NOT NULL CHECK (length(framework_sha256) = 64),
    framework_toml    TEXT    NOT NULL,
    params_json       TEXT    NOT NULL,
    synthetic         BOOLEAN NOT NULL,
    previous_run      BIGINT  REFERENCES run (id),
    results_sha256    TEXT    NOT NULL CHECK (length(results_sha256) = 64),
    results_json      TEXT    NOT NULL
);

CREATE TABLE input_blob (
    sha256 TEXT   NOT NULL PRIMARY KEY CHECK (length(sha256) = 64),
    size   BIGINT NOT NULL CHECK (size >= 0),
    bytes  BYTEA  NOT NULL,
    CHECK (octet_length(bytes) = size)
);

CREATE TABLE run_input (
    run_id   BIGINT  NOT NULL REFERENCES run (id),
    position INTEGER NOT NULL CHECK (position >= 0),
    role     TEXT    NOT NULL CHECK (role <> ''),
    name     TEXT    NOT NULL,
    sha256   TEXT    NOT NULL REFERENCES input_blob (sha256),
    PRIMARY KEY (run_id, position)
);
CREATE INDEX run_input_sha256 ON run_input (sha256);

CREATE TABLE observation_batch (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    file_name   TEXT   NOT NULL,
    sha256      TEXT   NOT NULL CHECK (length(sha256) = 64),
    imported_at TEXT   NOT NULL
);

CREATE TABLE observation_row (
    batch_id     BIGINT  NOT NULL REFERENCES observation_batch (id),
    file_row     BIGINT  NOT NULL,
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
);
"#,
    r#"
CREATE TABLE monitor_run (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at   TEXT NOT NULL,
    as_of        TEXT NOT NULL,
    out_dir      TEXT NOT NULL,
    summary_json TEXT NOT NULL
);
CREATE INDEX monitor_run_started_at ON monitor_run (started_at);

CREATE TABLE monitor_finding (
    run_id       BIGINT  NOT NULL REFERENCES monitor_run (id),
    position     INTEGER NOT NULL CHECK (position >= 0),
    code         TEXT    NOT NULL CHECK (code <> ''),
    check_name   TEXT    NOT NULL CHECK (check_name <> ''),
    url          TEXT    NOT NULL,
    value_json   TEXT    NOT NULL,
    details_json TEXT    NOT NULL,
    evidence     TEXT    NOT NULL,
    PRIMARY KEY (run_id, position)
);

CREATE TABLE monitor_alert (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id     BIGINT  NOT NULL REFERENCES monitor_run (id),
    code       TEXT    NOT NULL CHECK (code <> ''),
    rule       TEXT    NOT NULL CHECK (rule <> ''),
    severity   TEXT    NOT NULL CHECK (severity IN ('warning', 'critical')),
    message_zh TEXT    NOT NULL,
    message_en TEXT    NOT NULL,
    first_seen TEXT    NOT NULL,
    last_seen  TEXT    NOT NULL,
    value      DOUBLE PRECISION NOT NULL,
    evidence   TEXT    NOT NULL,
    findings   TEXT    NOT NULL
);
CREATE INDEX monitor_alert_code ON monitor_alert (code, last_seen);
"#,
    // 3: when an alert was POSTed to the webhook (repeat suppression reads it).
    r#"
ALTER TABLE monitor_alert ADD COLUMN webhook_sent_at TEXT;
"#,
    // 4: the team workspace (accounts, sessions, API tokens, publication, audit trail).
    r#"
CREATE TABLE app_user (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE CHECK (name <> ''),
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'lead', 'evaluator', 'reviewer', 'unit')),
    units         TEXT    NOT NULL,
    disabled      BIGINT NOT NULL CHECK (disabled IN (0, 1)),
    password_hash TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);

CREATE TABLE user_session (
    id_hash    TEXT    NOT NULL PRIMARY KEY CHECK (length(id_hash) = 64),
    user_id    BIGINT NOT NULL REFERENCES app_user (id),
    csrf_token TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    last_seen  TEXT    NOT NULL,
    expires_at TEXT    NOT NULL,
    ended_at   TEXT
);
CREATE INDEX user_session_user ON user_session (user_id);

CREATE TABLE api_token (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES app_user (id),
    token_hash TEXT    NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    label      TEXT    NOT NULL,
    prefix     TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    revoked_at TEXT
);

CREATE TABLE run_publication (
    run_id     BIGINT NOT NULL PRIMARY KEY REFERENCES run (id),
    published  BIGINT NOT NULL CHECK (published IN (0, 1)),
    changed_at TEXT    NOT NULL,
    changed_by TEXT    NOT NULL
);

CREATE TABLE audit_log (
    seq         BIGINT NOT NULL PRIMARY KEY,
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
);
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

CREATE TABLE audit_head (
    id   BIGINT NOT NULL PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT    NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
"#,
    // 5: the statistical audits of recorded runs (the dashboard shows rank intervals from them).
    r#"
CREATE TABLE run_audit (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id      BIGINT NOT NULL REFERENCES run (id),
    created_at  TEXT    NOT NULL,
    factors     TEXT    NOT NULL,
    audit_json  TEXT    NOT NULL
);
CREATE INDEX run_audit_run ON run_audit (run_id, id);
"#,
    // 6: evaluation campaigns: tasks and their events (a task's state is folded from its events).
    r#"
CREATE TABLE campaign (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           TEXT    NOT NULL CHECK (name <> ''),
    year           BIGINT NOT NULL,
    framework_toml TEXT    NOT NULL,
    units_csv      TEXT    NOT NULL,
    double_share   TEXT    NOT NULL,
    seed           BIGINT NOT NULL,
    phase          TEXT    NOT NULL CHECK (phase IN ('entry', 'appeals', 'frozen', 'closed')),
    appeal_deadline TEXT,
    due_at         TEXT,
    monitor_run_id BIGINT REFERENCES monitor_run (id),
    run_id         BIGINT REFERENCES run (id),
    created_by     TEXT    NOT NULL,
    created_at     TEXT    NOT NULL
);

CREATE TABLE campaign_task (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id BIGINT NOT NULL REFERENCES campaign (id),
    unit        TEXT    NOT NULL CHECK (unit <> ''),
    indicator   TEXT    NOT NULL CHECK (indicator <> ''),
    coder       BIGINT NOT NULL CHECK (coder IN (1, 2)),
    UNIQUE (campaign_id, unit, indicator, coder)
);

CREATE TABLE task_event (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id  BIGINT NOT NULL REFERENCES campaign_task (id),
    version  BIGINT NOT NULL CHECK (version >= 1),
    at       TEXT    NOT NULL,
    actor    TEXT    NOT NULL,
    kind     TEXT    NOT NULL,
    body     TEXT    NOT NULL,
    evidence_url TEXT,
    note     TEXT,
    UNIQUE (task_id, version)
);
CREATE INDEX task_event_kind ON task_event (kind, task_id);
CREATE INDEX campaign_task_key ON campaign_task (campaign_id, unit, indicator);
CREATE TABLE evidence_file (
    sha256      TEXT    NOT NULL PRIMARY KEY CHECK (length(sha256) = 64),
    mime        TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    size        BIGINT NOT NULL CHECK (size >= 0),
    bytes       BYTEA    NOT NULL,
    uploaded_by TEXT    NOT NULL,
    uploaded_at TEXT    NOT NULL
);
"#,
    // 7: the provisional run computed when a campaign opens its appeals (what units see).
    r#"
ALTER TABLE campaign ADD COLUMN provisional_run_id BIGINT REFERENCES run (id);
"#,
];

/// Arbitrary first key of the advisory lock that serialises migrations (the second key is the
/// schema's hash), so concurrent opens of a fresh schema do not race to create tables.
const MIGRATION_LOCK: i32 = 0x6776_6361; // "gvca"

/// A store on a PostgreSQL server, over one synchronous connection.
pub struct PostgresStore {
    client: Client,
}

impl PostgresStore {
    /// Connects to `url` and uses the connection's current schema (the first existing schema
    /// on its search_path, normally `public`). Plain TCP only (`NoTls`): meant for a server on
    /// the same host or a trusted network.
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        let mut client = Client::connect(url, NoTls).map_err(StoreError::ConnectPostgres)?;
        let schema: Option<String> = client
            .query_one("SELECT current_schema()", &[])?
            .try_get(0)?;
        let schema = schema.ok_or(StoreError::NoCurrentSchema)?;
        Self::finish(client, &schema, false)
    }

    /// Connects to `url` and keeps every table in `schema`, creating it if absent. `schema`
    /// must be a plain lowercase identifier (letters, digits, `_`).
    pub fn connect_with_schema(url: &str, schema: &str) -> Result<Self, StoreError> {
        check_schema_name(schema)?;
        let client = Client::connect(url, NoTls).map_err(StoreError::ConnectPostgres)?;
        Self::finish(client, schema, true)
    }

    fn finish(mut client: Client, schema: &str, create: bool) -> Result<Self, StoreError> {
        let quoted = quote_ident(schema);
        if create {
            client.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {quoted}"))?;
        }
        client.batch_execute(&format!("SET search_path TO {quoted}"))?;
        let mut store = PostgresStore { client };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let mut tx = self.client.transaction()?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))",
            &[&MIGRATION_LOCK],
        )?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT PRIMARY KEY)")?;
        let current = schema_version(&mut tx)?;
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
            tx.batch_execute(sql)?;
            tx.execute(
                "INSERT INTO schema_version (version) VALUES ($1)",
                &[&version],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

/// Only plain identifiers are accepted, so a schema name can never smuggle SQL and never
/// needs case-sensitive quoting by the user.
fn check_schema_name(schema: &str) -> Result<(), StoreError> {
    let mut bytes = schema.bytes();
    let ok = schema.len() <= 63
        && matches!(bytes.next(), Some(b'a'..=b'z' | b'_'))
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::BadSchemaName(schema.to_string()))
    }
}

/// Quotes an identifier for PostgreSQL (needed for the current schema, which may be any name).
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn schema_version(tx: &mut Transaction<'_>) -> Result<i64, StoreError> {
    Ok(tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0)::BIGINT FROM schema_version",
            &[],
        )?
        .try_get(0)?)
}

/// Integrity-constraint violations (SQLSTATE class 23) are the row's fault, not the server's.
fn is_constraint_violation(e: &postgres::Error) -> bool {
    e.code().is_some_and(|c| c.code().starts_with("23"))
}

/// Stores `input`'s bytes unless a blob with its digest exists; an existing blob must have
/// the same bytes, otherwise the claimed digest is wrong and the run is refused.
fn put_blob(tx: &mut Transaction<'_>, input: &RunInput) -> Result<(), StoreError> {
    let size = to_i64("input size", input.bytes.len())?;
    let inserted = tx.execute(
        "INSERT INTO input_blob (sha256, size, bytes) VALUES ($1, $2, $3)
         ON CONFLICT (sha256) DO NOTHING",
        &[&input.sha256, &size, &input.bytes],
    )?;
    if inserted == 0 {
        let same: bool = tx
            .query_one(
                "SELECT bytes = $2 FROM input_blob WHERE sha256 = $1",
                &[&input.sha256, &input.bytes],
            )?
            .try_get(0)?;
        if !same {
            return Err(StoreError::BlobMismatch {
                name: input.name.clone(),
                sha256: input.sha256.clone(),
            });
        }
    }
    Ok(())
}

impl Store for PostgresStore {
    fn save_run(&mut self, run: &NewRun) -> Result<i64, StoreError> {
        check_run(run)?;
        let mut tx = self.client.transaction()?;
        if let Some(prev) = run.previous_run {
            // FOR SHARE keeps the referenced run from vanishing before commit.
            let found = tx.query_opt("SELECT 1 FROM run WHERE id = $1 FOR SHARE", &[&prev])?;
            if found.is_none() {
                return Err(StoreError::UnknownPreviousRun(prev));
            }
        }
        let id: i64 = tx
            .query_one(
                "INSERT INTO run (label, year, created_at, software_version, framework_id,
                     framework_version, framework_sha256, framework_toml, params_json, synthetic,
                     previous_run, results_sha256, results_json)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                 RETURNING id",
                &[
                    &run.label,
                    &run.year,
                    &run.created_at,
                    &run.software_version,
                    &run.framework_id,
                    &run.framework_version,
                    &run.framework_sha256,
                    &run.framework_toml,
                    &run.params_json,
                    &run.synthetic,
                    &run.previous_run,
                    &run.results_sha256,
                    &run.results_json,
                ],
            )?
            .try_get(0)?;
        for (position, input) in (0_i32..).zip(&run.inputs) {
            put_blob(&mut tx, input)?;
            tx.execute(
                "INSERT INTO run_input (run_id, position, role, name, sha256)
                 VALUES ($1, $2, $3, $4, $5)",
                &[&id, &position, &input.role, &input.name, &input.sha256],
            )?;
        }
        tx.commit()?;
        Ok(id)
    }

    fn list_runs(&mut self) -> Result<Vec<RunSummary>, StoreError> {
        let rows = self.client.query(
            "SELECT id, label, year, created_at, framework_id, framework_version, synthetic,
                    previous_run, results_sha256
             FROM run ORDER BY id",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                Ok(RunSummary {
                    id: r.try_get(0)?,
                    label: r.try_get(1)?,
                    year: r.try_get(2)?,
                    created_at: r.try_get(3)?,
                    framework_id: r.try_get(4)?,
                    framework_version: r.try_get(5)?,
                    synthetic: r.try_get(6)?,
                    previous_run: r.try_get(7)?,
                    results_sha256: r.try_get(8)?,
                })
            })
            .collect()
    }

    fn get_run(&mut self, id: i64) -> Result<Option<StoredRun>, StoreError> {
        // A run and its inputs are committed together and never changed, so two reads under
        // READ COMMITTED already see a consistent pair.
        let Some(r) = self.client.query_opt(
            "SELECT label, year, created_at, software_version, framework_id, framework_version,
                    framework_sha256, framework_toml, params_json, synthetic, previous_run,
                    results_sha256, results_json
             FROM run WHERE id = $1",
            &[&id],
        )?
        else {
            return Ok(None);
        };
        let inputs = self
            .client
            .query(
                "SELECT ri.role, ri.name, ri.sha256, b.bytes
                 FROM run_input ri JOIN input_blob b ON b.sha256 = ri.sha256
                 WHERE ri.run_id = $1 ORDER BY ri.position",
                &[&id],
            )?
            .iter()
            .map(|i| {
                Ok(RunInput {
                    role: i.try_get(0)?,
                    name: i.try_get(1)?,
                    sha256: i.try_get(2)?,
                    bytes: i.try_get(3)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Some(StoredRun {
            id,
            label: r.try_get(0)?,
            year: r.try_get(1)?,
            created_at: r.try_get(2)?,
            software_version: r.try_get(3)?,
            framework_id: r.try_get(4)?,
            framework_version: r.try_get(5)?,
            framework_sha256: r.try_get(6)?,
            framework_toml: r.try_get(7)?,
            params_json: r.try_get(8)?,
            synthetic: r.try_get(9)?,
            previous_run: r.try_get(10)?,
            results_sha256: r.try_get(11)?,
            results_json: r.try_get(12)?,
            inputs,
        }))
    }

    fn save_batch(&mut self, batch: &NewBatch) -> Result<i64, StoreError> {
        check_batch(batch)?;
        let mut tx = self.client.transaction()?;
        let id: i64 = tx
            .query_one(
                "INSERT INTO observation_batch (file_name, sha256, imported_at)
                 VALUES ($1, $2, $3) RETURNING id",
                &[&batch.file_name, &batch.sha256, &batch.imported_at],
            )?
            .try_get(0)?;
        let stmt = tx.prepare(
            "INSERT INTO observation_row (batch_id, file_row, unit, indicator, year, value,
                 source, evaluator, evidence_url, observed_at, note)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )?;
        for row in &batch.rows {
            tx.execute(
                &stmt,
                &[
                    &id,
                    &row.file_row,
                    &row.unit,
                    &row.indicator,
                    &row.year,
                    &row.value,
                    &row.source,
                    &row.evaluator,
                    &row.evidence_url,
                    &row.observed_at,
                    &row.note,
                ],
            )
            .map_err(|e| {
                if is_constraint_violation(&e) {
                    StoreError::RowRejected {
                        file_row: row.file_row,
                        reason: crate::pg_detail(&e),
                    }
                } else {
                    StoreError::Postgres(e)
                }
            })?;
        }
        // Dropping `tx` on any error above rolls everything back, the batch row included.
        tx.commit()?;
        Ok(id)
    }

    fn batch_rows(&mut self, batch_id: i64) -> Result<Vec<ObservationRow>, StoreError> {
        self.client
            .query(
                "SELECT unit, indicator, year, value, source, evaluator, evidence_url,
                        observed_at, note, file_row
                 FROM observation_row WHERE batch_id = $1 ORDER BY file_row, indicator",
                &[&batch_id],
            )?
            .iter()
            .map(|r| {
                Ok(ObservationRow {
                    unit: r.try_get(0)?,
                    indicator: r.try_get(1)?,
                    year: r.try_get(2)?,
                    value: r.try_get(3)?,
                    source: r.try_get(4)?,
                    evaluator: r.try_get(5)?,
                    evidence_url: r.try_get(6)?,
                    observed_at: r.try_get(7)?,
                    note: r.try_get(8)?,
                    file_row: r.try_get(9)?,
                })
            })
            .collect()
    }

    fn list_batches(&mut self) -> Result<Vec<BatchSummary>, StoreError> {
        self.client
            .query(
                "SELECT b.id, b.file_name, b.sha256, b.imported_at,
                        (SELECT COUNT(*) FROM observation_row r WHERE r.batch_id = b.id)
                 FROM observation_batch b ORDER BY b.id",
                &[],
            )?
            .iter()
            .map(|r| {
                Ok(BatchSummary {
                    id: r.try_get(0)?,
                    file_name: r.try_get(1)?,
                    sha256: r.try_get(2)?,
                    imported_at: r.try_get(3)?,
                    rows: count("batch row count", r.try_get(4)?)?,
                })
            })
            .collect()
    }

    fn stats(&mut self) -> Result<StoreStats, StoreError> {
        // REPEATABLE READ: all counts from one snapshot.
        let mut tx = self
            .client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let version = schema_version(&mut tx)?;
        let r = tx.query_one(
            "SELECT (SELECT COUNT(*) FROM run),
                    (SELECT COUNT(*) FROM run_input),
                    (SELECT COUNT(*) FROM input_blob),
                    (SELECT COALESCE(SUM(size), 0)::BIGINT FROM input_blob),
                    (SELECT COUNT(*) FROM observation_batch),
                    (SELECT COUNT(*) FROM observation_row)",
            &[],
        )?;
        tx.commit()?;
        let blob_bytes: i64 = r.try_get(3)?;
        Ok(StoreStats {
            schema_version: version,
            runs: count("run count", r.try_get(0)?)?,
            run_inputs: count("run input count", r.try_get(1)?)?,
            input_blobs: count("input blob count", r.try_get(2)?)?,
            input_blob_bytes: u64::try_from(blob_bytes)
                .map_err(|_| StoreError::Corrupt(format!("input blob bytes is {blob_bytes}")))?,
            batches: count("batch count", r.try_get(4)?)?,
            observation_rows: count("observation row count", r.try_get(5)?)?,
        })
    }

    fn save_monitor_run(&mut self, run: &NewMonitorRun) -> Result<i64, StoreError> {
        let mut tx = self.client.transaction()?;
        let id: i64 = tx
            .query_one(
                "INSERT INTO monitor_run (started_at, as_of, out_dir, summary_json)
                 VALUES ($1, $2, $3, $4) RETURNING id",
                &[&run.started_at, &run.as_of, &run.out_dir, &run.summary_json],
            )?
            .try_get(0)?;
        let stmt = tx.prepare(
            "INSERT INTO monitor_finding (run_id, position, code, check_name, url,
                 value_json, details_json, evidence)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )?;
        for (position, f) in (0_i32..).zip(&run.findings) {
            tx.execute(
                &stmt,
                &[
                    &id,
                    &position,
                    &f.code,
                    &f.check,
                    &f.url,
                    &f.value_json,
                    &f.details_json,
                    &join_list(&f.evidence)?,
                ],
            )?;
        }
        let stmt = tx.prepare(
            "INSERT INTO monitor_alert (run_id, code, rule, severity, message_zh,
                 message_en, first_seen, last_seen, value, evidence, findings)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )?;
        for a in &run.alerts {
            tx.execute(
                &stmt,
                &[
                    &id,
                    &a.code,
                    &a.rule,
                    &a.severity,
                    &a.message_zh,
                    &a.message_en,
                    &a.first_seen,
                    &a.last_seen,
                    &a.value,
                    &join_list(&a.evidence)?,
                    &join_list(&a.findings)?,
                ],
            )?;
        }
        tx.commit()?;
        Ok(id)
    }

    fn list_monitor_runs(&mut self) -> Result<Vec<MonitorRunSummary>, StoreError> {
        let rows = self.client.query(
            "SELECT r.id, r.started_at, r.as_of, r.out_dir,
                    (SELECT COUNT(*) FROM monitor_finding f WHERE f.run_id = r.id),
                    (SELECT COUNT(*) FROM monitor_alert a WHERE a.run_id = r.id)
             FROM monitor_run r ORDER BY r.id",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                Ok(MonitorRunSummary {
                    id: r.try_get(0)?,
                    started_at: r.try_get(1)?,
                    as_of: r.try_get(2)?,
                    out_dir: r.try_get(3)?,
                    findings: count("finding count", r.try_get(4)?)?,
                    alerts: count("alert count", r.try_get(5)?)?,
                })
            })
            .collect()
    }

    fn monitor_findings_since(&mut self, since: &str) -> Result<Vec<StoredFinding>, StoreError> {
        let rows = self.client.query(
            "SELECT r.id, r.started_at, f.code, f.check_name, f.url, f.value_json,
                    f.details_json, f.evidence
             FROM monitor_finding f JOIN monitor_run r ON r.id = f.run_id
             WHERE r.started_at >= $1
             ORDER BY r.id, f.position",
            &[&since],
        )?;
        rows.iter()
            .map(|r| {
                Ok(StoredFinding {
                    run_id: r.try_get(0)?,
                    started_at: r.try_get(1)?,
                    finding: MonitorFinding {
                        code: r.try_get(2)?,
                        check: r.try_get(3)?,
                        url: r.try_get(4)?,
                        value_json: r.try_get(5)?,
                        details_json: r.try_get(6)?,
                        evidence: split_list(r.try_get(7)?),
                    },
                })
            })
            .collect()
    }

    fn list_alerts(&mut self, filter: &AlertFilter) -> Result<Vec<StoredAlert>, StoreError> {
        let rows = self.client.query(
            "SELECT id, run_id, code, rule, severity, message_zh, message_en, first_seen,
                    last_seen, value, evidence, findings, webhook_sent_at
             FROM monitor_alert
             WHERE ($1::TEXT IS NULL OR code = $1)
               AND ($2::TEXT IS NULL OR rule = $2)
               AND ($3::TEXT IS NULL OR last_seen >= $3)
             ORDER BY id",
            &[&filter.code, &filter.rule, &filter.since],
        )?;
        rows.iter()
            .map(|r| {
                Ok(StoredAlert {
                    id: r.try_get(0)?,
                    run_id: r.try_get(1)?,
                    alert: MonitorAlert {
                        code: r.try_get(2)?,
                        rule: r.try_get(3)?,
                        severity: r.try_get(4)?,
                        message_zh: r.try_get(5)?,
                        message_en: r.try_get(6)?,
                        first_seen: r.try_get(7)?,
                        last_seen: r.try_get(8)?,
                        value: r.try_get(9)?,
                        evidence: split_list(r.try_get(10)?),
                        findings: split_list(r.try_get(11)?),
                    },
                    webhook_sent_at: r.try_get(12)?,
                })
            })
            .collect()
    }

    fn mark_webhook_sent(&mut self, ids: &[i64], at: &str) -> Result<usize, StoreError> {
        let mut tx = self.client.transaction()?;
        let mut n = 0;
        for id in ids {
            n += tx.execute(
                "UPDATE monitor_alert SET webhook_sent_at = $1 WHERE id = $2",
                &[&at, id],
            )?;
        }
        tx.commit()?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn transact(
        &mut self,
        _write: bool,
        f: &mut dyn FnMut(&mut dyn crate::sql::Tx) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut tx = self.client.transaction()?;
        f(&mut crate::sql::pg_impl::PgTx(&mut tx))?;
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_plain_identifiers() {
        for ok in ["public", "govcap_test_12_3", "_x", &"a".repeat(63)] {
            assert!(check_schema_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "1abc",
            "Public",
            "a-b",
            "a\"; DROP",
            "ü",
            &"a".repeat(64),
        ] {
            assert!(check_schema_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn identifiers_are_quoted_with_doubled_quotes() {
        assert_eq!(quote_ident("public"), "\"public\"");
        assert_eq!(quote_ident("we\"ird"), "\"we\"\"ird\"");
    }
}
