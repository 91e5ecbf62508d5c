//! The campaign workflow as plain async functions: each loads what it needs, asks the core's
//! rules (`govcap_core::campaign`) whether the write may happen, and appends the event and its
//! audit entry in one transaction. The API and the pages call these.

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::StatusCode;
use govcap_core::access::{Action, Role};
use govcap_core::campaign::assign::{assign, AssignBy};
use govcap_core::campaign::state::{self, Event, Refusal, Status, TaskState};
use govcap_core::campaign::{double_coding_sample, task_keys};
use govcap_core::engine::score::read_value;
use govcap_core::framework::{Framework, DEFAULT_FRAMEWORK_TOML};
use govcap_core::observation::Value;
use govcap_core::unit::UnitSet;
use govcap_store::campaigns::{self, Campaign, NewEvent, TaskRow};
use govcap_store::StoreError;
use serde_json::json;

use crate::audit::{self, Actor};
use crate::auth::Caller;
use crate::problem::Problem;
use crate::state::AppState;

mod appeals;
mod close;
mod forecast;
mod monitor;
mod sheet;

pub use appeals::*;
pub use close::*;
pub use forecast::*;
pub use monitor::*;
pub use sheet::*;

/// A task as shown: its key, coder and folded state, and whether its double-coded pair
/// disagrees.
#[derive(Debug, Clone)]
pub struct TaskView {
    pub id: i64,
    pub campaign_id: i64,
    pub unit: String,
    pub indicator: String,
    pub coder: i64,
    pub state: TaskState,
    pub evidence_url: Option<String>,
    pub note: Option<String>,
    pub disputed: bool,
    /// When the current value was confirmed (for the forecast).
    pub confirmed_at: Option<String>,
    /// The last appeal of this value, if any.
    pub appeal: Option<AppealView>,
}

/// An appeal as shown to the unit and the lead: addressed by its event's id.
#[derive(Debug, Clone)]
pub struct AppealView {
    pub id: i64,
    pub by: String,
    pub at: String,
    pub reason: String,
    pub evidence_url: Option<String>,
    /// `(upheld, note)` once the lead decided.
    pub decision: Option<(bool, String)>,
}

struct Folded {
    state: TaskState,
    evidence_url: Option<String>,
    note: Option<String>,
    confirmed_at: Option<String>,
    appeal: Option<AppealView>,
}

fn fold_row(t: &TaskRow) -> Result<Folded, Problem> {
    let mut events = Vec::with_capacity(t.events.len());
    let mut evidence = None;
    let mut note = None;
    let mut confirmed_at = None;
    let mut appeal: Option<AppealView> = None;
    for e in &t.events {
        let ev: Event = serde_json::from_str(&e.body).map_err(|err| {
            tracing::error!(task = t.id, error = %err, "unreadable task event");
            Problem::internal()
        })?;
        if matches!(ev, Event::Entered { .. } | Event::Adjudicated { .. }) {
            evidence = e.evidence_url.clone();
            note = e.note.clone();
        }
        match &ev {
            Event::Reviewed { confirm: true, .. } => confirmed_at = Some(e.at.clone()),
            Event::Appealed { by, reason } => {
                appeal = Some(AppealView {
                    id: e.id,
                    by: by.clone(),
                    at: e.at.clone(),
                    reason: reason.clone(),
                    evidence_url: e.evidence_url.clone(),
                    decision: None,
                })
            }
            Event::AppealDecided { uphold, note, .. } => {
                if let Some(a) = appeal.as_mut() {
                    a.decision = Some((*uphold, note.clone()));
                }
            }
            _ => {}
        }
        events.push(ev);
    }
    let st = state::fold(&events);
    if st.status != Status::Confirmed {
        confirmed_at = None;
    }
    Ok(Folded {
        state: st,
        evidence_url: evidence,
        note,
        confirmed_at,
        appeal,
    })
}

/// The campaign's framework and units (parsed once per call; both are small).
pub struct Setup {
    pub campaign: Campaign,
    pub fw: Framework,
    pub units: UnitSet,
}

fn setup(c: Campaign) -> Result<Setup, Problem> {
    let fw = Framework::from_toml(&c.framework_toml).map_err(|e| {
        tracing::error!(campaign = c.id, error = %e, "stored framework does not parse");
        Problem::internal()
    })?;
    let units = if c.units_csv == govcap_io::units::DEFAULT_UNITS_CSV {
        govcap_io::default_units()
    } else {
        read_units_text(&c.units_csv, "units.csv").map_err(|e| {
            tracing::error!(campaign = c.id, error = %e, "stored unit list does not parse");
            Problem::internal()
        })?
    };
    Ok(Setup {
        campaign: c,
        fw,
        units,
    })
}

/// A unit list from its text, through the same reader as `--units FILE` (which reads files).
fn read_units_text(text: &str, name: &str) -> Result<UnitSet, govcap_io::ImportError> {
    let dir = std::env::temp_dir().join(format!("govcap-units-{}", crate::auth::random_secret()));
    std::fs::create_dir_all(&dir).map_err(|e| govcap_io::ImportError::Xlsx {
        file: name.to_string(),
        reason: e.to_string(),
    })?;
    let path = dir.join(name);
    let out = std::fs::write(&path, text.as_bytes())
        .map_err(|e| govcap_io::ImportError::Xlsx {
            file: name.to_string(),
            reason: e.to_string(),
        })
        .and_then(|()| govcap_io::read_units(&path));
    let _ = std::fs::remove_dir_all(&dir);
    out
}

pub async fn load(state: &AppState, id: i64) -> Result<Setup, Problem> {
    let c = state
        .pool
        .tx(false, move |tx| campaigns::get(tx, id))
        .await?
        .ok_or_else(|| Problem::not_found(format!("campaign {id}")))?;
    setup(c)
}

/// What a lead chooses when creating a campaign.
#[derive(Debug, Clone)]
pub struct Spec {
    pub name: String,
    pub year: i32,
    /// Share of tasks coded twice (0–1).
    pub double_share: f64,
    pub seed: i64,
    pub due_at: Option<String>,
    pub monitor_run: Option<i64>,
    /// A framework of one's own (TOML, `docs/framework-format.md`); default: the built-in one.
    pub framework_toml: Option<String>,
    /// A unit list of one's own (CSV with `code,name[,province,…]`); default: the built-in 337.
    pub units_csv: Option<String>,
}

/// Creates a campaign over the built-in framework and units.
pub async fn create(state: &AppState, caller: &Caller, spec: Spec) -> Result<i64, Problem> {
    caller.require(Action::ManageCampaigns)?;
    let Spec {
        name,
        year,
        double_share,
        seed,
        due_at,
        monitor_run,
        framework_toml,
        units_csv,
    } = spec;
    let unprocessable = |msg: String| Problem::new(StatusCode::UNPROCESSABLE_ENTITY, msg);
    if let Some(t) = &framework_toml {
        Framework::from_toml(t).map_err(|e| unprocessable(format!("framework_toml: {e}")))?;
    }
    if let Some(u) = &units_csv {
        let text = u.clone();
        tokio::task::spawn_blocking(move || read_units_text(&text, "units.csv"))
            .await
            .map_err(|_| Problem::internal())?
            .map_err(|e| unprocessable(format!("units_csv: {e}")))?;
    }
    if let Some(m) = monitor_run {
        let runs = state.pool.with(|s| s.list_monitor_runs()).await?;
        if !runs.iter().any(|r| r.id == m) {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("monitor_run: there is no monitor run {m}"),
            ));
        }
    }
    if let Some(d) = &due_at {
        check_instant(d, "due")?;
    }
    let name = name.trim().to_string();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "name: 1–200 characters",
        ));
    }
    if !(2000..=2100).contains(&year) {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "year: between 2000 and 2100",
        ));
    }
    if !(0.0..=1.0).contains(&double_share) {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "double_share: a share between 0 and 1 (default 0.1)",
        ));
    }
    let c = Campaign {
        id: 0,
        name,
        year,
        framework_toml: framework_toml.unwrap_or_else(|| DEFAULT_FRAMEWORK_TOML.to_string()),
        units_csv: units_csv.unwrap_or_else(|| govcap_io::units::DEFAULT_UNITS_CSV.to_string()),
        double_share: double_share.to_string(),
        seed,
        phase: "entry".into(),
        appeal_deadline: None,
        due_at,
        monitor_run_id: monitor_run,
        provisional_run_id: None,
        run_id: None,
        created_by: caller.name().to_string(),
        created_at: crate::clock::now(),
    };
    let actor = Actor::of(caller);
    Ok(state
        .pool
        .tx(true, move |tx| {
            let id = campaigns::create(tx, &c)?;
            audit::record(
                tx,
                &actor,
                "campaign.create",
                &format!("campaign/{id}"),
                None,
                Some(json!({
                    "name": c.name, "year": c.year,
                    "framework": if c.framework_toml == DEFAULT_FRAMEWORK_TOML { "built-in".to_string() } else { format!("uploaded, sha256 {}", sha256_hex(c.framework_toml.as_bytes())) },
                    "units": if c.units_csv == govcap_io::units::DEFAULT_UNITS_CSV { "built-in 337".to_string() } else { format!("uploaded, sha256 {}", sha256_hex(c.units_csv.as_bytes())) },
                    "double_share": c.double_share, "seed": c.seed, "monitor_run": c.monitor_run_id, "due_at": c.due_at})),
            )?;
            Ok(id)
        })
        .await?)
}

/// Generates the tasks (and the double-coding sample), assigning them when evaluators are
/// named. Returns (tasks, double-coded tasks).
pub async fn generate(
    state: &AppState,
    caller: &Caller,
    id: i64,
    by: Option<AssignBy>,
    evaluators: Vec<String>,
) -> Result<(usize, usize), Problem> {
    caller.require(Action::ManageCampaigns)?;
    let s = load(state, id).await?;
    if s.campaign.phase != "entry" {
        return Err(Problem::conflict(
            "tasks are generated while the campaign is in its entry phase",
        ));
    }
    if !evaluators.is_empty() {
        check_evaluators(state, &evaluators).await?;
    }
    let keys = task_keys(&s.fw, &s.units);
    let share: f64 = s.campaign.double_share.parse().unwrap_or(0.1);
    let double = double_coding_sample(&keys, share, s.campaign.seed as u64);
    let assignments = if evaluators.is_empty() {
        None
    } else {
        Some(
            assign(
                &keys,
                &s.units,
                &evaluators,
                by.unwrap_or(AssignBy::Province),
                &double,
            )
            .map_err(|e| Problem::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?,
        )
    };
    let mut rows: Vec<(String, String, i64)> = keys
        .iter()
        .map(|k| (k.unit.clone(), k.indicator.clone(), 1))
        .collect();
    let mut who: Vec<Option<String>> = assignments
        .as_ref()
        .map(|a| a.iter().map(|x| Some(x.first.clone())).collect())
        .unwrap_or_else(|| vec![None; keys.len()]);
    for (i, k) in keys.iter().enumerate() {
        if double[i] {
            rows.push((k.unit.clone(), k.indicator.clone(), 2));
            who.push(assignments.as_ref().and_then(|a| a[i].second.clone()));
        }
    }
    let n_double = double.iter().filter(|&&d| d).count();
    let actor = Actor::of(caller);
    let n = rows.len();
    state
        .pool
        .tx(true, move |tx| {
            let ids = campaigns::insert_tasks(tx, id, &rows)?;
            let now = crate::clock::now();
            for (tid, to) in ids.iter().zip(&who) {
                if let Some(to) = to {
                    append(tx, *tid, 0, &now, &actor.name, &Event::Assigned { by: actor.name.clone(), to: to.clone() }, None, None)?;
                }
            }
            audit::record(
                tx,
                &actor,
                "campaign.generate",
                &format!("campaign/{id}"),
                None,
                Some(json!({"tasks": n, "double_coded": n_double, "assigned_to": who.iter().flatten().collect::<std::collections::BTreeSet<_>>()})),
            )?;
            Ok(())
        })
        .await?;
    Ok((n, n_double))
}

#[allow(clippy::too_many_arguments)]
fn append(
    tx: &mut dyn govcap_store::sql::Tx,
    task_id: i64,
    seen: u64,
    at: &str,
    actor: &str,
    ev: &Event,
    evidence_url: Option<&str>,
    note: Option<&str>,
) -> Result<i64, StoreError> {
    let body = serde_json::to_string(ev).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let kind = match ev {
        Event::Assigned { .. } => "assigned",
        Event::Entered { .. } => "entered",
        Event::Reviewed { .. } => "reviewed",
        Event::Adjudicated { .. } => "adjudicated",
        Event::Appealed { .. } => "appealed",
        Event::AppealDecided { .. } => "appeal_decided",
    };
    campaigns::append_event(
        tx,
        &NewEvent {
            task_id,
            seen: seen as i64,
            at,
            actor,
            kind,
            body: &body,
            evidence_url,
            note,
        },
    )
}

/// Active evaluator accounts, for the reassignment form.
pub async fn evaluator_names(state: &AppState) -> Result<Vec<String>, Problem> {
    let users = state
        .pool
        .tx(false, govcap_store::workspace::list_users)
        .await?;
    Ok(users
        .into_iter()
        .filter(|u| !u.disabled && u.role == Role::Evaluator.as_str())
        .map(|u| u.name)
        .collect())
}

async fn check_evaluators(state: &AppState, names: &[String]) -> Result<(), Problem> {
    let names = names.to_vec();
    let users = state
        .pool
        .tx(false, govcap_store::workspace::list_users)
        .await?;
    for n in &names {
        let ok = users
            .iter()
            .any(|u| &u.name == n && !u.disabled && u.role == Role::Evaluator.as_str());
        if !ok {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "{:?} is not an active evaluator account",
                    n.chars().take(64).collect::<String>()
                ),
            ));
        }
    }
    Ok(())
}

/// Which tasks to list.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub unit: Option<String>,
    pub indicator: Option<String>,
    pub assignee: Option<String>,
}

/// The tasks of a campaign with their states; a double-coded pair whose values read
/// differently under the leaf's rule is marked disputed.
pub async fn tasks(state: &AppState, id: i64, f: &TaskFilter) -> Result<Vec<TaskView>, Problem> {
    let s = load(state, id).await?;
    let rows = state
        .pool
        .tx(false, move |tx| campaigns::tasks(tx, Some(id), None))
        .await?;
    let views = views(&s, &rows)?;
    Ok(views
        .into_iter()
        .filter(|t| f.unit.as_ref().is_none_or(|u| &t.unit == u))
        .filter(|t| f.indicator.as_ref().is_none_or(|i| &t.indicator == i))
        .filter(|t| {
            f.assignee
                .as_ref()
                .is_none_or(|a| t.state.assignee.as_ref() == Some(a))
        })
        .collect())
}

fn views(s: &Setup, rows: &[TaskRow]) -> Result<Vec<TaskView>, Problem> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let f = fold_row(r)?;
        out.push(TaskView {
            id: r.id,
            campaign_id: r.campaign_id,
            unit: r.unit.clone(),
            indicator: r.indicator.clone(),
            coder: r.coder,
            state: f.state,
            evidence_url: f.evidence_url,
            note: f.note,
            disputed: false,
            confirmed_at: f.confirmed_at,
            appeal: f.appeal,
        });
    }
    // Pairs: both codings entered and reading to different numbers.
    let mut by_key: HashMap<(String, String), Vec<usize>> = HashMap::new();
    for (i, t) in out.iter().enumerate() {
        by_key
            .entry((t.unit.clone(), t.indicator.clone()))
            .or_default()
            .push(i);
    }
    for idx in by_key.values().filter(|v| v.len() == 2) {
        let (a, b) = (&out[idx[0]], &out[idx[1]]);
        let rule =
            s.fw.nodes
                .iter()
                .find(|n| n.id == a.indicator)
                .and_then(|n| n.leaf.as_ref())
                .map(|l| l.rule.clone());
        let read = |t: &TaskView| {
            t.state
                .value
                .as_deref()
                .zip(rule.as_ref())
                .and_then(|(v, r)| read_value(r, &Value::from_cell(v)).ok())
        };
        // Only the first coding's value counts; it is disputed until the lead adjudicates.
        let first = if a.coder == 1 { idx[0] } else { idx[1] };
        let adjudicated = out[first].state.adjudicated;
        if let (Some(x), Some(y)) = (read(a), read(b)) {
            if (x - y).abs() > 1e-12 && !adjudicated {
                out[first].disputed = true;
            }
        }
    }
    Ok(out)
}

pub async fn task(
    state: &AppState,
    task_id: i64,
) -> Result<(Setup, TaskView, Option<TaskView>), Problem> {
    let rows = state
        .pool
        .tx(false, move |tx| campaigns::task_with_pair(tx, task_id))
        .await?;
    let campaign_id = rows
        .first()
        .map(|r| r.campaign_id)
        .ok_or_else(|| Problem::not_found(format!("task {task_id}")))?;
    let s = load(state, campaign_id).await?;
    let v = views(&s, &rows)?;
    let me = v
        .iter()
        .find(|t| t.id == task_id)
        .cloned()
        .ok_or_else(Problem::internal)?;
    let other = v.into_iter().find(|t| t.id != task_id);
    Ok((s, me, other))
}

fn refused(r: Refusal) -> Problem {
    match r {
        Refusal::Stale { .. } => Problem::conflict(r.to_string()),
        Refusal::NotAssignee { .. } | Refusal::OwnValue => Problem::forbidden(r.to_string()),
        Refusal::WrongStatus(..) => Problem::conflict(r.to_string()),
    }
}

fn task_json(t: &TaskView) -> serde_json::Value {
    json!({"status": t.state.status.as_str(), "assignee": t.state.assignee, "value": t.state.value, "version": t.state.version})
}

/// Writes one event after the rules allowed it, with its audit entry.
async fn write(
    state: &AppState,
    caller: &Caller,
    t: &TaskView,
    ev: Event,
    action: &str,
    evidence_url: Option<String>,
    note: Option<String>,
) -> Result<u64, Problem> {
    let actor = Actor::of(caller);
    let (tid, seen) = (t.id, t.state.version);
    let before = task_json(t);
    let action = action.to_string();
    let after_value = match &ev {
        Event::Entered { value, .. } | Event::Adjudicated { value, .. } => Some(value.clone()),
        _ => t.state.value.clone(),
    };
    state
        .pool
        .tx(true, move |tx| {
            let now = crate::clock::now();
            append(tx, tid, seen, &now, &actor.name, &ev, evidence_url.as_deref(), note.as_deref())?;
            audit::record(
                tx,
                &actor,
                &action,
                &format!("task/{tid}"),
                Some(before.clone()),
                Some(json!({"event": ev, "value": after_value, "version": seen + 1, "evidence_url": evidence_url, "note": note})),
            )?;
            Ok(())
        })
        .await?;
    Ok(seen + 1)
}

/// The lead (re)assigns a task; history is kept as events.
pub async fn reassign(
    state: &AppState,
    caller: &Caller,
    task_id: i64,
    evaluator: &str,
) -> Result<u64, Problem> {
    caller.require(Action::ManageCampaigns)?;
    check_evaluators(state, &[evaluator.to_string()]).await?;
    let (s, t, other) = task(state, task_id).await?;
    if s.campaign.phase == "closed" || s.campaign.phase == "frozen" {
        return Err(Problem::conflict("the campaign is frozen"));
    }
    if other.as_ref().and_then(|o| o.state.assignee.as_deref()) == Some(evaluator) {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "this evaluator codes the other half of the double-coded pair; the two codings must be independent",
        ));
    }
    let ev = Event::Assigned {
        by: caller.name().to_string(),
        to: evaluator.to_string(),
    };
    write(state, caller, &t, ev, "task.assign", None, None).await
}

/// The assigned evaluator enters a value, validated by the leaf's rule exactly as import does.
/// What an evaluator enters for a task.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    pub value: String,
    pub evidence_url: Option<String>,
    pub note: Option<String>,
    /// `high`, `medium` or `low` (高/中/低 read as the same).
    pub confidence: Option<String>,
}

/// The confidence levels, read from English or Chinese.
pub fn confidence_of(s: &str) -> Option<&'static str> {
    match s.trim().to_lowercase().as_str() {
        "high" | "高" => Some("high"),
        "medium" | "中" => Some("medium"),
        "low" | "低" => Some("low"),
        _ => None,
    }
}

pub async fn enter(
    state: &AppState,
    caller: &Caller,
    task_id: i64,
    entry: Entry,
    version: u64,
) -> Result<u64, Problem> {
    caller.require(Action::EnterValues)?;
    let Entry {
        value,
        evidence_url,
        note,
        confidence,
    } = entry;
    let value = value.as_str();
    let confidence = match confidence
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        None => None,
        Some(c) => Some(confidence_of(c).ok_or_else(|| {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "confidence: high, medium or low",
            )
        })?),
    };
    let (s, t, _) = task(state, task_id).await?;
    if !matches!(s.campaign.phase.as_str(), "entry" | "appeals") {
        return Err(Problem::conflict(format!(
            "the campaign is {}: values can no longer change",
            s.campaign.phase
        )));
    }
    state::may_enter(&t.state, caller.name(), version).map_err(refused)?;
    let rule =
        s.fw.nodes
            .iter()
            .find(|n| n.id == t.indicator)
            .and_then(|n| n.leaf.as_ref())
            .map(|l| l.rule.clone())
            .ok_or_else(Problem::internal)?;
    let v = value.trim();
    if let Err(e) = read_value(&rule, &Value::from_cell(v)) {
        let mut p = Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("indicator {} ({} rule): {e}", t.indicator, rule.name()),
        );
        p.title = format!("value refused by the {} rule", rule.name());
        return Err(p);
    }
    if let Some(u) = &evidence_url {
        check_url(u)?;
    }
    let ev = Event::Entered {
        by: caller.name().to_string(),
        value: v.to_string(),
        confidence: confidence.map(str::to_string),
    };
    write(
        state,
        caller,
        &t,
        ev,
        "task.value",
        evidence_url,
        note.map(|n| n.chars().take(4000).collect()),
    )
    .await
}

/// Evidence is an http(s) URL, or this workspace's own evidence (an uploaded file or a capture).
fn check_url(u: &str) -> Result<(), Problem> {
    let own =
        u.starts_with("/evidence/files/") || u.starts_with("/staff/captures/evidence?record=");
    let ok = (u.starts_with("http://") || u.starts_with("https://") || own)
        && u.len() <= 2000
        && !u.contains(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "evidence_url: an http(s) URL of at most 2000 characters, or the URL of an uploaded file or a capture",
        ))
    }
}

/// A reviewer confirms or rejects; never their own value; a disputed pair goes to the lead.
pub async fn review(
    state: &AppState,
    caller: &Caller,
    task_id: i64,
    confirm: bool,
    note: &str,
) -> Result<u64, Problem> {
    let (_, t, _) = task(state, task_id).await?;
    // The evaluator of the value is told the two-person rule, whatever their role.
    if t.state.entered_by.as_deref() == Some(caller.name()) {
        return Err(refused(Refusal::OwnValue));
    }
    caller.require(Action::ReviewValues)?;
    state::may_review(&t.state, caller.name()).map_err(refused)?;
    if confirm && t.disputed {
        return Err(Problem::conflict(
            "the two codings of this double-coded task disagree: the lead adjudicates it first",
        ));
    }
    if !confirm && note.trim().is_empty() {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "a rejection needs a reason (note)",
        ));
    }
    let ev = Event::Reviewed {
        by: caller.name().to_string(),
        confirm,
        note: note.trim().chars().take(4000).collect(),
    };
    write(
        state,
        caller,
        &t,
        ev,
        if confirm {
            "task.confirm"
        } else {
            "task.reject"
        },
        None,
        None,
    )
    .await
}

/// The lead settles a disputed pair with a value, which is then reviewed like any other.
pub async fn adjudicate(
    state: &AppState,
    caller: &Caller,
    task_id: i64,
    value: &str,
    note: &str,
    version: u64,
) -> Result<u64, Problem> {
    caller.require(Action::ManageCampaigns)?;
    let (s, t, _) = task(state, task_id).await?;
    if !t.disputed {
        return Err(Problem::conflict(
            "only a disputed double-coded task is adjudicated",
        ));
    }
    if t.state.version != version {
        return Err(refused(Refusal::Stale {
            current: t.state.version,
            by: t.state.last_actor.clone().unwrap_or_default(),
        }));
    }
    let rule =
        s.fw.nodes
            .iter()
            .find(|n| n.id == t.indicator)
            .and_then(|n| n.leaf.as_ref())
            .map(|l| l.rule.clone())
            .ok_or_else(Problem::internal)?;
    read_value(&rule, &Value::from_cell(value.trim())).map_err(|e| {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("indicator {} ({} rule): {e}", t.indicator, rule.name()),
        )
    })?;
    let ev = Event::Adjudicated {
        by: caller.name().to_string(),
        value: value.trim().to_string(),
    };
    write(
        state,
        caller,
        &t,
        ev,
        "task.adjudicate",
        None,
        Some(note.trim().chars().take(4000).collect()),
    )
    .await
}

/// The unit's own representative appeals a confirmed value while appeals are open.
pub async fn appeal(
    state: &AppState,
    caller: &Caller,
    task_id: i64,
    reason: &str,
    evidence_url: Option<String>,
) -> Result<i64, Problem> {
    caller.require(Action::Appeal)?;
    let (s, t, _) = task(state, task_id).await?;
    let own = caller
        .user
        .as_ref()
        .is_some_and(|u| u.units.contains(&t.unit));
    if !own || t.coder != 1 {
        // Another unit's task is not revealed.
        return Err(Problem::not_found(format!("task {task_id}")));
    }
    if s.campaign.phase != "appeals" {
        return Err(Problem::conflict("appeals are not open for this campaign"));
    }
    if let Some(d) = &s.campaign.appeal_deadline {
        if crate::clock::now().as_str() > d.as_str() {
            return Err(Problem::conflict(format!(
                "the appeal deadline ({d}) has passed"
            )));
        }
    }
    if reason.trim().is_empty() {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "reason: say what is wrong and why",
        ));
    }
    if let Some(u) = &evidence_url {
        check_url(u)?;
    }
    state::may_appeal(&t.state).map_err(refused)?;
    let ev = Event::Appealed {
        by: caller.name().to_string(),
        reason: reason.trim().chars().take(4000).collect(),
    };
    write(state, caller, &t, ev, "appeal.create", evidence_url, None).await?;
    // The appeal is addressed by its event.
    let tid = t.id;
    let id = state
        .pool
        .tx(false, move |tx| {
            let rows = campaigns::tasks(tx, None, Some(tid))?;
            Ok(rows.first().and_then(|r| {
                r.events
                    .iter()
                    .rev()
                    .find(|e| e.kind == "appealed")
                    .map(|e| e.id)
            }))
        })
        .await?
        .ok_or_else(Problem::internal)?;
    Ok(id)
}

/// The lead upholds (the value reopens for a changed entry, reviewed again) or rejects.
pub async fn decide(
    state: &AppState,
    caller: &Caller,
    appeal_id: i64,
    uphold: bool,
    note: &str,
) -> Result<i64, Problem> {
    caller.require(Action::ManageCampaigns)?;
    let task_id = state
        .pool
        .tx(false, move |tx| {
            campaigns::event_task(tx, appeal_id, "appealed")
        })
        .await?
        .ok_or_else(|| Problem::not_found(format!("appeal {appeal_id}")))?;
    let (_, t, _) = task(state, task_id).await?;
    state::may_decide(&t.state).map_err(refused)?;
    if note.trim().is_empty() {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "note: give the reason for the decision",
        ));
    }
    let ev = Event::AppealDecided {
        by: caller.name().to_string(),
        uphold,
        note: note.trim().chars().take(4000).collect(),
    };
    write(
        state,
        caller,
        &t,
        ev,
        if uphold {
            "appeal.uphold"
        } else {
            "appeal.reject"
        },
        None,
        None,
    )
    .await?;
    Ok(task_id)
}

/// Moves the campaign to `appeals` (with a deadline) or `frozen`.
pub async fn set_phase(
    state: &AppState,
    caller: &Caller,
    id: i64,
    phase: &str,
    deadline: Option<String>,
) -> Result<(), Problem> {
    caller.require(Action::ManageCampaigns)?;
    let s = load(state, id).await?;
    let from = s.campaign.phase.clone();
    let allowed = matches!(
        (from.as_str(), phase),
        ("entry", "appeals") | ("entry", "frozen") | ("appeals", "frozen")
    );
    if !allowed {
        return Err(Problem::conflict(format!(
            "a campaign in phase {from} cannot move to {phase}"
        )));
    }
    // Opening appeals shows units their provisional scores: the values confirmed so far,
    // evaluated now as the final run will be, recorded as a draft run.
    let provisional = if phase == "appeals" {
        provisional_run(state, s).await?
    } else {
        None
    };
    let actor = Actor::of(caller);
    let phase = phase.to_string();
    state
        .pool
        .with(move |st| {
            let rid = provisional.map(|r| st.save_run(&r)).transpose()?;
            govcap_store::transact(st, true, |tx| {
                campaigns::set_phase(tx, id, &phase, deadline.as_deref(), None)?;
                if let Some(r) = rid {
                    campaigns::set_provisional_run(tx, id, r)?;
                }
                audit::record(
                    tx,
                    &actor,
                    &format!("campaign.{phase}"),
                    &format!("campaign/{id}"),
                    Some(json!({"phase": from})),
                    Some(json!({"phase": phase, "appeal_deadline": deadline, "provisional_run_id": rid})),
                )?;
                Ok(())
            })
        })
        .await?;
    Ok(())
}
