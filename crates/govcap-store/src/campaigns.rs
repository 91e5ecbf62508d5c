//! Evaluation campaigns, their tasks and the tasks' events.
//!
//! The store keeps events as the core serialised them (`body`, JSON) and never interprets
//! them: the web layer folds them into a state with `govcap_core::campaign::state`. The
//! `(task_id, version)` key makes optimistic concurrency race-free: of two writers who saw
//! the same version, the second one's insert fails and is reported as a conflict.

use crate::sql::{Row, Tx};
use crate::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    pub id: i64,
    pub name: String,
    pub year: i32,
    pub framework_toml: String,
    pub units_csv: String,
    /// Decimal text, e.g. "0.1": kept exactly as chosen.
    pub double_share: String,
    pub seed: i64,
    /// `entry`, `appeals`, `frozen` or `closed`.
    pub phase: String,
    pub appeal_deadline: Option<String>,
    /// When entry and review should be done (RFC 3339), for reminders and the forecast.
    pub due_at: Option<String>,
    /// The monitor run whose findings give the automated leaves and the proposals for hybrid
    /// ones.
    pub monitor_run_id: Option<i64>,
    pub run_id: Option<i64>,
    /// The run computed from the values confirmed when appeals opened: what units appeal.
    pub provisional_run_id: Option<i64>,
    pub created_by: String,
    pub created_at: String,
}

const COLS: &str = "id, name, year, framework_toml, units_csv, double_share, seed, phase, \
                    appeal_deadline, run_id, created_by, created_at, due_at, monitor_run_id, \
                    provisional_run_id";

fn campaign_from(r: &Row) -> Result<Campaign, StoreError> {
    Ok(Campaign {
        id: r.int(0)?,
        name: r.text(1)?,
        year: i32::try_from(r.int(2)?).map_err(|_| StoreError::Corrupt("year".into()))?,
        framework_toml: r.text(3)?,
        units_csv: r.text(4)?,
        double_share: r.text(5)?,
        seed: r.int(6)?,
        phase: r.text(7)?,
        appeal_deadline: r.opt_text(8)?,
        run_id: r.opt_int(9)?,
        created_by: r.text(10)?,
        created_at: r.text(11)?,
        due_at: r.opt_text(12)?,
        monitor_run_id: r.opt_int(13)?,
        provisional_run_id: r.opt_int(14)?,
    })
}

/// Creates a campaign in the `entry` phase; `c.id`, `phase` and `run_id` are ignored.
pub fn create(tx: &mut dyn Tx, c: &Campaign) -> Result<i64, StoreError> {
    tx.query_one(
        "INSERT INTO campaign (name, year, framework_toml, units_csv, double_share, seed, phase,
             created_by, created_at, due_at, monitor_run_id)
         VALUES ($1, $2, $3, $4, $5, $6, 'entry', $7, $8, $9, $10) RETURNING id",
        &[
            c.name.as_str().into(),
            i64::from(c.year).into(),
            c.framework_toml.as_str().into(),
            c.units_csv.as_str().into(),
            c.double_share.as_str().into(),
            c.seed.into(),
            c.created_by.as_str().into(),
            c.created_at.as_str().into(),
            c.due_at.as_deref().into(),
            c.monitor_run_id.into(),
        ],
    )?
    .int(0)
}

pub fn get(tx: &mut dyn Tx, id: i64) -> Result<Option<Campaign>, StoreError> {
    tx.query_opt(
        &format!("SELECT {COLS} FROM campaign WHERE id = $1"),
        &[id.into()],
    )?
    .map(|r| campaign_from(&r))
    .transpose()
}

pub fn list(tx: &mut dyn Tx) -> Result<Vec<Campaign>, StoreError> {
    tx.query(
        &format!("SELECT {COLS} FROM campaign ORDER BY id DESC"),
        &[],
    )?
    .iter()
    .map(campaign_from)
    .collect()
}

/// Moves a campaign to another phase (and records the deadline or the run when given).
pub fn set_phase(
    tx: &mut dyn Tx,
    id: i64,
    phase: &str,
    appeal_deadline: Option<&str>,
    run_id: Option<i64>,
) -> Result<(), StoreError> {
    tx.exec(
        "UPDATE campaign SET phase = $1,
             appeal_deadline = COALESCE(CAST($2 AS TEXT), appeal_deadline),
             run_id = COALESCE(CAST($3 AS BIGINT), run_id)
         WHERE id = $4",
        &[
            phase.into(),
            appeal_deadline.into(),
            run_id.into(),
            id.into(),
        ],
    )?;
    Ok(())
}

/// Records the provisional run shown to units during appeals.
pub fn set_provisional_run(tx: &mut dyn Tx, id: i64, run_id: i64) -> Result<(), StoreError> {
    tx.exec(
        "UPDATE campaign SET provisional_run_id = $1 WHERE id = $2",
        &[run_id.into(), id.into()],
    )?;
    Ok(())
}

/// A task and its events, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRow {
    pub id: i64,
    pub campaign_id: i64,
    pub unit: String,
    pub indicator: String,
    pub coder: i64,
    pub events: Vec<EventRow>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    pub id: i64,
    pub version: i64,
    pub at: String,
    pub actor: String,
    pub kind: String,
    /// The core's event, JSON.
    pub body: String,
    pub evidence_url: Option<String>,
    pub note: Option<String>,
}

/// Adds tasks; returns their ids in order. Refuses a campaign that already has tasks.
pub fn insert_tasks(
    tx: &mut dyn Tx,
    campaign_id: i64,
    tasks: &[(String, String, i64)],
) -> Result<Vec<i64>, StoreError> {
    let existing = tx
        .query_one(
            "SELECT COUNT(*) FROM campaign_task WHERE campaign_id = $1",
            &[campaign_id.into()],
        )?
        .int(0)?;
    if existing > 0 {
        return Err(StoreError::Conflict(format!(
            "campaign {campaign_id} already has its {existing} tasks"
        )));
    }
    let mut ids = Vec::with_capacity(tasks.len());
    for (unit, indicator, coder) in tasks {
        ids.push(
            tx.query_one(
                "INSERT INTO campaign_task (campaign_id, unit, indicator, coder)
                 VALUES ($1, $2, $3, $4) RETURNING id",
                &[
                    campaign_id.into(),
                    unit.as_str().into(),
                    indicator.as_str().into(),
                    (*coder).into(),
                ],
            )?
            .int(0)?,
        );
    }
    Ok(ids)
}

fn event_from(r: &Row, at: usize) -> Result<EventRow, StoreError> {
    Ok(EventRow {
        id: r.int(at)?,
        version: r.int(at + 1)?,
        at: r.text(at + 2)?,
        actor: r.text(at + 3)?,
        kind: r.text(at + 4)?,
        body: r.text(at + 5)?,
        evidence_url: r.opt_text(at + 6)?,
        note: r.opt_text(at + 7)?,
    })
}

/// The tasks of a campaign (optionally one task), each with its events.
pub fn tasks(
    tx: &mut dyn Tx,
    campaign_id: Option<i64>,
    task_id: Option<i64>,
) -> Result<Vec<TaskRow>, StoreError> {
    let rows = tx.query(
        "SELECT t.id, t.campaign_id, t.unit, t.indicator, t.coder,
                e.id, e.version, e.at, e.actor, e.kind, e.body, e.evidence_url, e.note
         FROM campaign_task t LEFT JOIN task_event e ON e.task_id = t.id
         WHERE (CAST($1 AS BIGINT) IS NULL OR t.campaign_id = CAST($1 AS BIGINT))
           AND (CAST($2 AS BIGINT) IS NULL OR t.id = CAST($2 AS BIGINT))
         ORDER BY t.id, e.version",
        &[campaign_id.into(), task_id.into()],
    )?;
    group(&rows)
}

/// A task and the other coding of its (unit, indicator), if it is double-coded.
pub fn task_with_pair(tx: &mut dyn Tx, task_id: i64) -> Result<Vec<TaskRow>, StoreError> {
    let rows = tx.query(
        "SELECT t.id, t.campaign_id, t.unit, t.indicator, t.coder,
                e.id, e.version, e.at, e.actor, e.kind, e.body, e.evidence_url, e.note
         FROM campaign_task me
         JOIN campaign_task t ON t.campaign_id = me.campaign_id AND t.unit = me.unit
                             AND t.indicator = me.indicator
         LEFT JOIN task_event e ON e.task_id = t.id
         WHERE me.id = $1
         ORDER BY t.id, e.version",
        &[task_id.into()],
    )?;
    group(&rows)
}

fn group(rows: &[Row]) -> Result<Vec<TaskRow>, StoreError> {
    let mut out: Vec<TaskRow> = Vec::new();
    for r in rows {
        let id = r.int(0)?;
        if out.last().map(|t| t.id) != Some(id) {
            out.push(TaskRow {
                id,
                campaign_id: r.int(1)?,
                unit: r.text(2)?,
                indicator: r.text(3)?,
                coder: r.int(4)?,
                events: Vec::new(),
            });
        }
        if r.opt_int(5)?.is_some() {
            let ev = event_from(r, 5)?;
            if let Some(t) = out.last_mut() {
                t.events.push(ev);
            }
        }
    }
    Ok(out)
}

/// A new event for a task, at the version after the one the writer saw.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub task_id: i64,
    /// The version the writer saw; the event gets `seen + 1`.
    pub seen: i64,
    pub at: &'a str,
    pub actor: &'a str,
    pub kind: &'a str,
    pub body: &'a str,
    pub evidence_url: Option<&'a str>,
    pub note: Option<&'a str>,
}

/// Appends an event; a concurrent writer who already took that version makes this a conflict.
pub fn append_event(tx: &mut dyn Tx, e: &NewEvent) -> Result<i64, StoreError> {
    let taken = tx
        .query_opt(
            "SELECT actor FROM task_event WHERE task_id = $1 AND version = $2",
            &[e.task_id.into(), (e.seen + 1).into()],
        )?
        .map(|r| r.text(0))
        .transpose()?;
    if let Some(by) = taken {
        return Err(StoreError::Conflict(format!(
            "task {} changed since version {} (by {by})",
            e.task_id, e.seen
        )));
    }
    tx.query_one(
        "INSERT INTO task_event (task_id, version, at, actor, kind, body, evidence_url, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        &[
            e.task_id.into(),
            (e.seen + 1).into(),
            e.at.into(),
            e.actor.into(),
            e.kind.into(),
            e.body.into(),
            e.evidence_url.into(),
            e.note.into(),
        ],
    )?
    .int(0)
}

/// The task an event belongs to, by event id and kind (appeals are addressed by their event).
pub fn event_task(tx: &mut dyn Tx, event_id: i64, kind: &str) -> Result<Option<i64>, StoreError> {
    tx.query_opt(
        "SELECT task_id FROM task_event WHERE id = $1 AND kind = $2",
        &[event_id.into(), kind.into()],
    )?
    .map(|r| r.int(0))
    .transpose()
}

/// An uploaded evidence file, stored once per content hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceFile {
    pub sha256: String,
    pub mime: String,
    pub name: String,
    pub bytes: Vec<u8>,
    pub uploaded_by: String,
    pub uploaded_at: String,
}

/// Stores a file unless one with its hash exists; returns whether it was new.
pub fn put_evidence_file(tx: &mut dyn Tx, f: &EvidenceFile) -> Result<bool, StoreError> {
    crate::check_digest("sha256 of the evidence file", &f.sha256)?;
    let n = tx.exec(
        "INSERT INTO evidence_file (sha256, mime, name, size, bytes, uploaded_by, uploaded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (sha256) DO NOTHING",
        &[
            f.sha256.as_str().into(),
            f.mime.as_str().into(),
            f.name.as_str().into(),
            (f.bytes.len() as i64).into(),
            crate::sql::Val::Bytes(f.bytes.clone()),
            f.uploaded_by.as_str().into(),
            f.uploaded_at.as_str().into(),
        ],
    )?;
    Ok(n > 0)
}

pub fn evidence_file(tx: &mut dyn Tx, sha256: &str) -> Result<Option<EvidenceFile>, StoreError> {
    tx.query_opt(
        "SELECT sha256, mime, name, bytes, uploaded_by, uploaded_at FROM evidence_file WHERE sha256 = $1",
        &[sha256.into()],
    )?
    .map(|r| {
        Ok(EvidenceFile {
            sha256: r.text(0)?,
            mime: r.text(1)?,
            name: r.text(2)?,
            bytes: r.bytes(3)?,
            uploaded_by: r.text(4)?,
            uploaded_at: r.text(5)?,
        })
    })
    .transpose()
}
