//! govcap's persistence layer.
//!
//! A recorded evaluation run keeps everything needed to reproduce and audit it: the framework
//! text, the parameters, the exact input files and the exact `results.json`. Imported
//! observation batches keep every row with its provenance. The rest of govcap talks to the
//! [`Store`] trait only, so the same commands work on a local SQLite file (the default, zero
//! setup) and on a shared PostgreSQL server (for teams).
//!
//! Input files are content-addressed: each distinct file (by SHA-256) is stored once in
//! `input_blob` and linked to runs through `run_input`, so recording the same observations file
//! every day does not grow the database.
//!
//! Each backend carries its own ordered list of migrations, applied at open inside one
//! transaction and recorded in `schema_version`, so opening an up-to-date database is a no-op
//! and opening a database written by a newer govcap fails instead of corrupting it.

pub mod campaigns;
mod pg;
pub mod sql;
mod sqlite;
pub mod workspace;

pub use pg::PostgresStore;
pub use sqlite::SqliteStore;

/// A finished evaluation run, as handed over for recording.
///
/// Everything is given by the caller (including the timestamp) because the core never reads
/// the clock; the store only keeps what it is told, byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRun {
    /// Human label, e.g. the evaluation year "2021" or a user-chosen name.
    pub label: String,
    /// The evaluation year the run scores.
    pub year: i32,
    /// RFC 3339 time of the run, supplied by the caller.
    pub created_at: String,
    /// govcap version that produced the results, to explain differences between re-runs.
    pub software_version: String,
    /// Identifier of the indicator framework used.
    pub framework_id: String,
    /// Version of the indicator framework used.
    pub framework_version: String,
    /// SHA-256 (lowercase hex) of `framework_toml`.
    pub framework_sha256: String,
    /// The full framework text, kept so the run can be re-run even if the file changed since.
    pub framework_toml: String,
    /// All evaluation parameters as canonical JSON, for the same reason.
    pub params_json: String,
    /// True when any input was synthetic, so such runs are never mistaken for real findings.
    pub synthetic: bool,
    /// The run this one supersedes or is compared against, if any; it must already exist.
    pub previous_run: Option<i64>,
    /// SHA-256 (lowercase hex) of `results_json`.
    pub results_sha256: String,
    /// The complete results.json text, byte for byte, so a stored run can be diffed exactly.
    pub results_json: String,
    /// The input files, in the order the caller lists them (kept on read-back).
    pub inputs: Vec<RunInput>,
}

/// One input file of a run. Its bytes are stored once per distinct `sha256`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInput {
    /// What the file was used as: "units", "observations", ...
    pub role: String,
    /// The file name as the user gave it, for display.
    pub name: String,
    /// SHA-256 (lowercase hex) of `bytes`; it is the blob's identity. The store cannot hash
    /// (it has no hashing dependency) but it refuses a digest already stored with other bytes.
    pub sha256: String,
    /// The raw file content (not necessarily UTF-8).
    pub bytes: Vec<u8>,
}

/// The cheap columns of a recorded run, for listings (no framework, results or input bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary {
    /// Store-assigned id, increasing in recording order.
    pub id: i64,
    /// See [`NewRun::label`].
    pub label: String,
    /// See [`NewRun::year`].
    pub year: i32,
    /// See [`NewRun::created_at`].
    pub created_at: String,
    /// See [`NewRun::framework_id`].
    pub framework_id: String,
    /// See [`NewRun::framework_version`].
    pub framework_version: String,
    /// See [`NewRun::synthetic`]; shown in listings so synthetic runs stand out.
    pub synthetic: bool,
    /// See [`NewRun::previous_run`].
    pub previous_run: Option<i64>,
    /// See [`NewRun::results_sha256`]; lets a listing show whether two runs agree.
    pub results_sha256: String,
}

/// A recorded run read back in full: the id plus exactly what was given to [`Store::save_run`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRun {
    /// Store-assigned id.
    pub id: i64,
    /// See [`NewRun::label`].
    pub label: String,
    /// See [`NewRun::year`].
    pub year: i32,
    /// See [`NewRun::created_at`].
    pub created_at: String,
    /// See [`NewRun::software_version`].
    pub software_version: String,
    /// See [`NewRun::framework_id`].
    pub framework_id: String,
    /// See [`NewRun::framework_version`].
    pub framework_version: String,
    /// See [`NewRun::framework_sha256`].
    pub framework_sha256: String,
    /// See [`NewRun::framework_toml`].
    pub framework_toml: String,
    /// See [`NewRun::params_json`].
    pub params_json: String,
    /// See [`NewRun::synthetic`].
    pub synthetic: bool,
    /// See [`NewRun::previous_run`].
    pub previous_run: Option<i64>,
    /// See [`NewRun::results_sha256`].
    pub results_sha256: String,
    /// See [`NewRun::results_json`].
    pub results_json: String,
    /// See [`NewRun::inputs`]; same order as recorded.
    pub inputs: Vec<RunInput>,
}

impl StoredRun {
    /// Splits into the id and the run as it was recorded, e.g. to re-run it or compare it.
    pub fn into_parts(self) -> (i64, NewRun) {
        let run = NewRun {
            label: self.label,
            year: self.year,
            created_at: self.created_at,
            software_version: self.software_version,
            framework_id: self.framework_id,
            framework_version: self.framework_version,
            framework_sha256: self.framework_sha256,
            framework_toml: self.framework_toml,
            params_json: self.params_json,
            synthetic: self.synthetic,
            previous_run: self.previous_run,
            results_sha256: self.results_sha256,
            results_json: self.results_json,
            inputs: self.inputs,
        };
        (self.id, run)
    }
}

/// An imported observations file, stored row by row with its provenance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBatch {
    /// The file name as the user gave it.
    pub file_name: String,
    /// SHA-256 (lowercase hex) of the file, to tell re-imports of the same file apart.
    pub sha256: String,
    /// RFC 3339 time of the import, supplied by the caller.
    pub imported_at: String,
    /// The parsed rows; stored all together or not at all.
    pub rows: Vec<ObservationRow>,
}

/// One observation row of a batch. `value` stays text so the store never reinterprets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservationRow {
    /// Local government unit code; must not be empty (the database refuses it).
    pub unit: String,
    /// Indicator id; must not be empty (the database refuses it).
    pub indicator: String,
    /// Year the observation is for.
    pub year: i32,
    /// Raw value text as read from the file.
    pub value: String,
    /// Where the value came from (e.g. "expert", "crawler").
    pub source: String,
    /// Who assessed it, when known.
    pub evaluator: Option<String>,
    /// Link to the evidence, when known.
    pub evidence_url: Option<String>,
    /// When it was observed, when known.
    pub observed_at: Option<String>,
    /// Free remark.
    pub note: Option<String>,
    /// Row number in the source file, so errors and audits point back to the file. A wide
    /// file holds several indicators on one row, so (row, indicator) is unique within a batch
    /// (the database refuses duplicates).
    pub file_row: i64,
}

/// A stored batch for listings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchSummary {
    /// Store-assigned id, increasing in import order.
    pub id: i64,
    /// See [`NewBatch::file_name`].
    pub file_name: String,
    /// See [`NewBatch::sha256`].
    pub sha256: String,
    /// See [`NewBatch::imported_at`].
    pub imported_at: String,
    /// Number of stored rows.
    pub rows: usize,
}

/// Sizes of what is stored, for a status command and to check that inputs are deduplicated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreStats {
    /// Applied schema version (the number of migrations run).
    pub schema_version: i64,
    /// Recorded runs.
    pub runs: usize,
    /// Links from runs to input files (one per input of each run).
    pub run_inputs: usize,
    /// Distinct input files stored.
    pub input_blobs: usize,
    /// Total bytes of the distinct input files.
    pub input_blob_bytes: u64,
    /// Imported observation batches.
    pub batches: usize,
    /// Observation rows over all batches.
    pub observation_rows: usize,
}

/// One finding of a monitor run, as the store keeps it. The store does not depend on the
/// monitor, so the finding's JSON parts travel as text, kept byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorFinding {
    /// Unit (site) code.
    pub code: String,
    /// Check name, e.g. `availability`.
    pub check: String,
    pub url: String,
    /// The finding's `value` as JSON text.
    pub value_json: String,
    /// The finding's `details` as JSON text.
    pub details_json: String,
    /// WARC record ids.
    pub evidence: Vec<String>,
}

/// One early-warning alert, as the store keeps it (see `govcap_monitor::alerts::Alert`).
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorAlert {
    pub code: String,
    /// Rule name, e.g. `unreachable`.
    pub rule: String,
    /// `warning` or `critical`.
    pub severity: String,
    pub message_zh: String,
    pub message_en: String,
    /// RFC 3339 time the condition was first seen.
    pub first_seen: String,
    /// RFC 3339 time the rules were evaluated.
    pub last_seen: String,
    pub value: f64,
    /// WARC record ids.
    pub evidence: Vec<String>,
    /// `check@time` references to the findings the alert rests on.
    pub findings: Vec<String>,
}

/// A monitor run handed over for recording, with its findings and alerts (one transaction).
#[derive(Debug, Clone, PartialEq)]
pub struct NewMonitorRun {
    /// RFC 3339 start time, supplied by the caller; also the time stamp of its findings.
    pub started_at: String,
    /// The `--as-of` date (YYYY-MM-DD).
    pub as_of: String,
    /// Where the run wrote its files (WARC evidence lives there, not in the store).
    pub out_dir: String,
    /// The run's `summary.json`.
    pub summary_json: String,
    pub findings: Vec<MonitorFinding>,
    pub alerts: Vec<MonitorAlert>,
}

/// A recorded monitor run without its findings, for listings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorRunSummary {
    pub id: i64,
    pub started_at: String,
    pub as_of: String,
    pub out_dir: String,
    pub findings: usize,
    pub alerts: usize,
}

/// A stored finding with the run it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFinding {
    pub run_id: i64,
    /// The run's `started_at`.
    pub started_at: String,
    pub finding: MonitorFinding,
}

/// A stored alert with its id and run.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAlert {
    pub id: i64,
    pub run_id: i64,
    pub alert: MonitorAlert,
    /// When it was POSTed to the webhook (RFC 3339), if it was: repeat suppression reads it.
    pub webhook_sent_at: Option<String>,
}

/// Which alerts [`Store::list_alerts`] returns; `None` fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertFilter {
    /// Only this unit code.
    pub code: Option<String>,
    /// Only this rule.
    pub rule: Option<String>,
    /// Only alerts whose `last_seen` is at or after this time (RFC 3339 or `YYYY-MM-DD`,
    /// compared as text, which orders correctly for UTC times written the same way).
    pub since: Option<String>,
}

/// Lists (WARC ids, finding references) are kept as newline-separated text: ids never
/// contain a newline, and this needs no JSON dependency in the store.
fn join_list(items: &[String]) -> Result<String, StoreError> {
    if let Some(bad) = items.iter().find(|i| i.contains('\n') || i.is_empty()) {
        return Err(StoreError::BadMonitorRun(format!(
            "list item {bad:?} is empty or contains a newline"
        )));
    }
    Ok(items.join("\n"))
}

fn split_list(text: &str) -> Vec<String> {
    if text.is_empty() {
        Vec::new()
    } else {
        text.split('\n').map(str::to_string).collect()
    }
}

/// What the rest of govcap uses to persist runs and observations, whatever the backend.
///
/// Methods take `&mut self` because both database clients need exclusive access to run a
/// transaction. `Send` so a store can be moved to a worker thread.
pub trait Store: Send {
    /// Records a run and its inputs in one transaction; returns the new run id.
    fn save_run(&mut self, run: &NewRun) -> Result<i64, StoreError>;
    /// All runs, ordered by id (that is, by recording order).
    fn list_runs(&mut self) -> Result<Vec<RunSummary>, StoreError>;
    /// The full run, or `None` if no run has that id.
    fn get_run(&mut self, id: i64) -> Result<Option<StoredRun>, StoreError>;
    /// Stores a batch and all its rows atomically (all rows or nothing); returns the batch id.
    fn save_batch(&mut self, batch: &NewBatch) -> Result<i64, StoreError>;
    /// The rows of a batch ordered by `file_row` then indicator; empty if the batch does not exist.
    fn batch_rows(&mut self, batch_id: i64) -> Result<Vec<ObservationRow>, StoreError>;
    /// All batches, ordered by id.
    fn list_batches(&mut self) -> Result<Vec<BatchSummary>, StoreError>;
    /// Counts of stored things.
    fn stats(&mut self) -> Result<StoreStats, StoreError>;
    /// Records a monitor run with its findings and alerts in one transaction; returns its id.
    fn save_monitor_run(&mut self, run: &NewMonitorRun) -> Result<i64, StoreError>;
    /// All monitor runs, ordered by id.
    fn list_monitor_runs(&mut self) -> Result<Vec<MonitorRunSummary>, StoreError>;
    /// Findings of the runs started at or after `since` (compared as text, see
    /// [`AlertFilter::since`]), ordered by run then recording order: the history the alert
    /// rules read.
    fn monitor_findings_since(&mut self, since: &str) -> Result<Vec<StoredFinding>, StoreError>;
    /// Alerts matching `filter`, ordered by id.
    fn list_alerts(&mut self, filter: &AlertFilter) -> Result<Vec<StoredAlert>, StoreError>;
    /// Records that the alerts with these ids were POSTed to the webhook at `at` (RFC 3339),
    /// in one transaction; returns how many alerts were found. Unknown ids are skipped.
    fn mark_webhook_sent(&mut self, ids: &[i64], at: &str) -> Result<usize, StoreError>;
    /// Runs `f` in one transaction over the shared SQL interface (the workspace tables, see
    /// [`workspace`]): committed when `f` returns `Ok`, rolled back otherwise. `write` takes
    /// SQLite's write lock up front, so two writers never deadlock upgrading a read lock.
    fn transact(
        &mut self,
        write: bool,
        f: &mut dyn FnMut(&mut dyn sql::Tx) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
}

/// [`Store::transact`] with a result: the convenient form for callers.
pub fn transact<T>(
    store: &mut dyn Store,
    write: bool,
    mut f: impl FnMut(&mut dyn sql::Tx) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut out = None;
    store.transact(write, &mut |tx| {
        out = Some(f(tx)?);
        Ok(())
    })?;
    out.ok_or_else(|| StoreError::Corrupt("transaction returned nothing".into()))
}

/// Everything that can go wrong while storing or reading, in words a user can act on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// `open` was given an empty string.
    #[error("no database given: pass a SQLite file path or a postgres:// URL")]
    NoTarget,
    /// A command that only reads was pointed at a SQLite file that does not exist. Opening it
    /// would create an empty database and hide the mistake (a wrong folder, a missing `--db`).
    #[error(
        "there is no database at {path}: run `govcap evaluate` or `govcap demo` first, or pass \
         --db with the database that holds the runs (a demo's is govcap-demo/govcap.db)"
    )]
    NoDatabase {
        /// The path as given.
        path: String,
    },
    /// The SQLite file could not be opened or is not a database.
    #[error("could not open SQLite database {path}: {source}")]
    OpenSqlite {
        /// The path as given.
        path: String,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// The PostgreSQL server could not be reached or refused the login. The URL is not
    /// repeated because it may hold a password.
    #[error("could not connect to PostgreSQL: {}", pg_detail(.0))]
    ConnectPostgres(#[source] postgres::Error),
    /// Any other SQLite failure.
    #[error("SQLite error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Any other PostgreSQL failure.
    #[error("PostgreSQL error: {}", pg_detail(.0))]
    Postgres(#[from] postgres::Error),
    /// The database was migrated by a newer govcap; touching it could lose data.
    #[error(
        "the database schema is at version {found} but this govcap only knows up to version \
         {known}; use a newer govcap"
    )]
    SchemaTooNew {
        /// Version found in `schema_version`.
        found: i64,
        /// Latest version this build can apply.
        known: i64,
    },
    /// A digest field is not 64 lowercase hex characters.
    #[error("{what} is not a SHA-256 digest (64 lowercase hex characters): {value:?}")]
    BadDigest {
        /// Which field.
        what: String,
        /// The offending value.
        value: String,
    },
    /// An input claims a digest that is already stored with different bytes.
    #[error(
        "input file {name:?} claims SHA-256 {sha256}, which is already stored with different \
         content; the digest is wrong"
    )]
    BlobMismatch {
        /// File name of the offending input.
        name: String,
        /// The claimed digest.
        sha256: String,
    },
    /// `previous_run` names a run that does not exist.
    #[error("previous run {0} does not exist")]
    UnknownPreviousRun(i64),
    /// The database refused an observation row (empty unit or indicator, duplicate file row);
    /// the whole batch was rolled back.
    #[error("observation at file row {file_row} was refused, nothing was imported: {reason}")]
    RowRejected {
        /// `file_row` of the refused row.
        file_row: i64,
        /// What the database said.
        reason: String,
    },
    /// A PostgreSQL schema name that is not a plain lowercase identifier.
    #[error(
        "invalid PostgreSQL schema name {0:?}: use lowercase letters, digits and _, not \
         starting with a digit, at most 63 characters"
    )]
    BadSchemaName(String),
    /// The PostgreSQL session has no schema to create tables in.
    #[error(
        "the PostgreSQL connection has no current schema (its search_path names no existing \
         schema); create one or set search_path"
    )]
    NoCurrentSchema,
    /// Stored data that cannot be what this crate wrote.
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    /// A write that would break a uniqueness rule (e.g. a user name taken).
    #[error("{0}")]
    Conflict(String),
    /// The thing named does not exist.
    #[error("{0} does not exist")]
    NotFound(String),
    /// A monitor run that cannot be stored as given (e.g. a list item with a newline).
    #[error("monitor run refused, nothing was stored: {0}")]
    BadMonitorRun(String),
}

/// `postgres::Error` displays only its kind ("db error"); the useful text is in the source.
fn pg_detail(e: &postgres::Error) -> String {
    use std::error::Error as _;
    if let Some(db) = e.as_db_error() {
        return db.to_string();
    }
    match e.source() {
        Some(src) => format!("{e}: {src}"),
        None => e.to_string(),
    }
}

/// Opens the store named by `target`: a `postgres://` or `postgresql://` URL selects
/// PostgreSQL (tables in the connection's current schema, see [`PostgresStore::connect`]);
/// anything else is a SQLite file path, created if absent. Migrations are applied.
pub fn open(target: &str) -> Result<Box<dyn Store>, StoreError> {
    if target.is_empty() {
        return Err(StoreError::NoTarget);
    }
    if is_postgres_url(target) {
        Ok(Box::new(PostgresStore::connect(target)?))
    } else {
        Ok(Box::new(SqliteStore::open(target)?))
    }
}

/// Opens an existing database for a command that only reads: a SQLite path that does not
/// exist is an error instead of a new, empty file.
pub fn open_existing(target: &str) -> Result<Box<dyn Store>, StoreError> {
    if !target.is_empty() && !is_postgres_url(target) && !std::path::Path::new(target).exists() {
        return Err(StoreError::NoDatabase {
            path: target.to_string(),
        });
    }
    open(target)
}

/// Opens PostgreSQL with all tables in `schema` (created if absent), for side-by-side
/// deployments and isolated tests on one server.
pub fn open_postgres_with_schema(url: &str, schema: &str) -> Result<Box<dyn Store>, StoreError> {
    Ok(Box::new(PostgresStore::connect_with_schema(url, schema)?))
}

/// True when `target` is a PostgreSQL connection URL rather than a file path.
pub fn is_postgres_url(target: &str) -> bool {
    let lower = target.get(..13).unwrap_or(target).to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// Refuses malformed digests before they reach the database, where they would become
/// permanent keys.
pub(crate) fn check_digest(what: &str, value: &str) -> Result<(), StoreError> {
    let ok = value.len() == 64
        && value
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::BadDigest {
            what: what.to_string(),
            value: value.to_string(),
        })
    }
}

fn check_run(run: &NewRun) -> Result<(), StoreError> {
    check_digest("framework_sha256", &run.framework_sha256)?;
    check_digest("results_sha256", &run.results_sha256)?;
    for input in &run.inputs {
        check_digest(&format!("sha256 of input {:?}", input.name), &input.sha256)?;
    }
    Ok(())
}

fn check_batch(batch: &NewBatch) -> Result<(), StoreError> {
    check_digest("sha256 of the batch file", &batch.sha256)
}

/// Converts a database count to `usize`, refusing negatives instead of wrapping.
fn count(what: &str, n: i64) -> Result<usize, StoreError> {
    usize::try_from(n).map_err(|_| StoreError::Corrupt(format!("{what} is {n}")))
}

fn to_i64(what: &str, n: usize) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Corrupt(format!("{what} {n} is too large")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_urls_are_recognised_case_insensitively() {
        assert!(is_postgres_url("postgres://u@127.0.0.1/db"));
        assert!(is_postgres_url("PostgreSQL://u@127.0.0.1/db"));
        assert!(!is_postgres_url("postgres.sqlite"));
        assert!(!is_postgres_url("/tmp/postgres://x"));
        assert!(!is_postgres_url("runs.db"));
        assert!(!is_postgres_url("数据库.db"));
    }

    #[test]
    fn digests_must_be_64_lowercase_hex() {
        assert!(check_digest("x", &"a".repeat(64)).is_ok());
        assert!(check_digest("x", &"A".repeat(64)).is_err());
        assert!(check_digest("x", &"a".repeat(63)).is_err());
        assert!(check_digest("x", &format!("{}g", "a".repeat(63))).is_err());
        let err = check_digest("results_sha256", "abc").unwrap_err();
        assert_eq!(
            err.to_string(),
            "results_sha256 is not a SHA-256 digest (64 lowercase hex characters): \"abc\""
        );
    }

    #[test]
    fn empty_target_is_refused() {
        assert!(matches!(open(""), Err(StoreError::NoTarget)));
    }
}
