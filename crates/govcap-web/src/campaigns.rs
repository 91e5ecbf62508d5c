//! The campaign workflow as plain async functions: each loads what it needs, asks the core's
//! rules (`govcap_core::campaign`) whether the write may happen, and appends the event and its
//! audit entry in one transaction. The API and the pages call these.

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::StatusCode;
use govcap_core::access::{Action, Role};
use govcap_core::campaign::assign::{assign, AssignBy};
use govcap_core::campaign::state::{self, Event, Refusal, Status, TaskState};
use govcap_core::campaign::{double_coding_sample, task_keys, TaskKey};
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
}

type Folded = (TaskState, Option<String>, Option<String>, Option<String>);

fn fold_row(t: &TaskRow) -> Result<Folded, Problem> {
    let mut events = Vec::with_capacity(t.events.len());
    let mut evidence = None;
    let mut note = None;
    let mut confirmed_at = None;
    for e in &t.events {
        let ev: Event = serde_json::from_str(&e.body).map_err(|err| {
            tracing::error!(task = t.id, error = %err, "unreadable task event");
            Problem::internal()
        })?;
        if matches!(ev, Event::Entered { .. } | Event::Adjudicated { .. }) {
            evidence = e.evidence_url.clone();
            note = e.note.clone();
        }
        if matches!(ev, Event::Reviewed { confirm: true, .. }) {
            confirmed_at = Some(e.at.clone());
        }
        events.push(ev);
    }
    let st = state::fold(&events);
    if st.status != Status::Confirmed {
        confirmed_at = None;
    }
    Ok((st, evidence, note, confirmed_at))
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
        let (st, evidence_url, note, confirmed_at) = fold_row(r)?;
        out.push(TaskView {
            id: r.id,
            campaign_id: r.campaign_id,
            unit: r.unit.clone(),
            indicator: r.indicator.clone(),
            coder: r.coder,
            state: st,
            evidence_url,
            note,
            disputed: false,
            confirmed_at,
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
pub async fn enter(
    state: &AppState,
    caller: &Caller,
    task_id: i64,
    value: &str,
    evidence_url: Option<String>,
    note: Option<String>,
    version: u64,
) -> Result<u64, Problem> {
    caller.require(Action::EnterValues)?;
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
    let actor = Actor::of(caller);
    let phase = phase.to_string();
    state
        .pool
        .tx(true, move |tx| {
            campaigns::set_phase(tx, id, &phase, deadline.as_deref(), None)?;
            audit::record(
                tx,
                &actor,
                &format!("campaign.{phase}"),
                &format!("campaign/{id}"),
                Some(json!({"phase": from})),
                Some(json!({"phase": phase, "appeal_deadline": deadline})),
            )?;
            Ok(())
        })
        .await?;
    Ok(())
}

/// Counts by status, for progress.
pub fn progress(tasks: &[TaskView]) -> HashMap<&'static str, usize> {
    let mut m = HashMap::new();
    for t in tasks.iter().filter(|t| t.coder == 1) {
        let k = if t.disputed {
            "disputed"
        } else {
            t.state.status.as_str()
        };
        *m.entry(k).or_insert(0) += 1;
    }
    m
}

/// The observations file of the campaign's run: the attached monitor run's values of the
/// automated leaves (unit-list and tree order), then the confirmed value of every first coding
/// (task order); long format, UTF-8, so the same values always give the same bytes.
pub fn observations_csv(s: &Setup, tasks: &[TaskView], monitor: &Proposals) -> String {
    let mut out =
        String::from("unit,indicator,year,value,source,evaluator,evidence_url,observed_at,note\n");
    let auto_leaves: Vec<&str> =
        s.fw.leaves()
            .into_iter()
            .filter_map(|i| {
                let n = &s.fw.nodes[i];
                matches!(
                    n.leaf.as_ref()?.collection,
                    govcap_core::framework::Collection::Auto
                )
                .then_some(n.id.as_str())
            })
            .collect();
    for u in s.units.units() {
        for l in &auto_leaves {
            let key = (u.code.clone(), l.to_string());
            let Some(p) = monitor.get(&key).filter(|p| p.source == "auto") else {
                continue;
            };
            let cells = [
                u.code.clone(),
                l.to_string(),
                s.campaign.year.to_string(),
                p.value.clone(),
                "auto".to_string(),
                String::new(),
                p.evidence_url.clone().unwrap_or_default(),
                p.observed_at.clone().unwrap_or_default(),
                p.note.clone().unwrap_or_default(),
            ];
            let line: Vec<String> = cells.iter().map(|c| csv_quote(c)).collect();
            out.push_str(&line.join(","));
            out.push('\n');
        }
    }
    for t in tasks
        .iter()
        .filter(|t| t.coder == 1 && t.state.status == Status::Confirmed)
    {
        let cells = [
            t.unit.clone(),
            t.indicator.clone(),
            s.campaign.year.to_string(),
            t.state.value.clone().unwrap_or_default(),
            "manual".to_string(),
            t.state.entered_by.clone().unwrap_or_default(),
            t.evidence_url.clone().unwrap_or_default(),
            String::new(),
            String::new(),
        ];
        let line: Vec<String> = cells.iter().map(|c| csv_quote(c)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

fn csv_quote(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub fn arc<T>(t: T) -> Arc<T> {
    Arc::new(t)
}

pub fn key(t: &TaskView) -> TaskKey {
    TaskKey {
        unit: t.unit.clone(),
        indicator: t.indicator.clone(),
    }
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// Closes a frozen campaign: its confirmed values become the observations file of a recorded
/// run, evaluated by the same engine and recorded the same way as `govcap evaluate
/// --observations FILE --year Y` on that file (the file is stored with the run, so
/// `govcap runs rerun` reproduces it byte for byte).
pub async fn compute_run(state: &AppState, caller: &Caller, id: i64) -> Result<i64, Problem> {
    caller.require(Action::ManageCampaigns)?;
    let s = load(state, id).await?;
    if s.campaign.phase != "frozen" {
        return Err(Problem::conflict(format!(
            "the campaign is {}: freeze it first (POST /api/v1/campaigns/{id}/freeze)",
            s.campaign.phase
        )));
    }
    let all = tasks(state, id, &TaskFilter::default()).await?;
    let monitor = proposals(state, &s).await?;
    let csv = observations_csv(&s, &all, &monitor);
    if csv.lines().count() < 2 {
        return Err(Problem::conflict(
            "no value is confirmed yet: there is nothing to evaluate",
        ));
    }
    let name = observations_file_name(id);
    let actor = Actor::of(caller);
    let run = tokio::task::spawn_blocking(move || -> Result<govcap_store::NewRun, Problem> {
        let dir = tempfile_dir()?;
        let path = dir.join(&name);
        std::fs::write(&path, csv.as_bytes()).map_err(|_| Problem::internal())?;
        let mut params = govcap_core::evaluate::Params::new(s.campaign.year);
        params.tiers = govcap_core::tiers::TierParams::default();
        let opts = govcap_io::ImportOptions {
            year: Some(params.year),
            ..Default::default()
        };
        let obs = govcap_io::read_observations(&path, &s.fw, &s.units, &opts)
            .map_err(|e| Problem::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
        let _ = std::fs::remove_dir_all(&dir);
        let evaluation = govcap_core::evaluate::evaluate(&s.fw, &s.units, &obs, &params)
            .map_err(|e| Problem::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
        let results_json =
            govcap_io::export::json_text(&evaluation).map_err(|_| Problem::internal())?;
        Ok(govcap_store::NewRun {
            label: s.campaign.name.clone(),
            year: s.campaign.year,
            created_at: crate::clock::now(),
            software_version: env!("CARGO_PKG_VERSION").into(),
            framework_id: evaluation.framework.id.clone(),
            framework_version: evaluation.framework.version.clone(),
            framework_sha256: sha256_hex(s.campaign.framework_toml.as_bytes()),
            framework_toml: s.campaign.framework_toml.clone(),
            params_json: serde_json::to_string(&params).map_err(|_| Problem::internal())?,
            synthetic: evaluation.synthetic,
            previous_run: None,
            results_sha256: sha256_hex(results_json.as_bytes()),
            results_json,
            inputs: vec![
                govcap_store::RunInput {
                    role: "units".into(),
                    name: if s.campaign.units_csv == govcap_io::units::DEFAULT_UNITS_CSV {
                        govcap_io::BUILTIN_UNITS.into()
                    } else {
                        format!("campaign-{}-units.csv", s.campaign.id)
                    },
                    sha256: sha256_hex(s.campaign.units_csv.as_bytes()),
                    bytes: s.campaign.units_csv.as_bytes().to_vec(),
                },
                govcap_store::RunInput {
                    role: "observations".into(),
                    name,
                    sha256: sha256_hex(csv.as_bytes()),
                    bytes: csv.into_bytes(),
                },
            ],
        })
    })
    .await
    .map_err(|_| Problem::internal())??;
    let run_id = state
        .pool
        .with(move |st| {
            let rid = st.save_run(&run)?;
            govcap_store::transact(st, true, |tx| {
                campaigns::set_phase(tx, id, "closed", None, Some(rid))?;
                audit::record(
                    tx,
                    &actor,
                    "campaign.run",
                    &format!("campaign/{id}"),
                    Some(json!({"phase": "frozen"})),
                    Some(json!({"phase": "closed", "run_id": rid, "results_sha256": run.results_sha256})),
                )?;
                Ok(())
            })?;
            Ok(rid)
        })
        .await?;
    Ok(run_id)
}

pub fn observations_file_name(id: i64) -> String {
    format!("campaign-{id}-observations.csv")
}

fn tempfile_dir() -> Result<std::path::PathBuf, Problem> {
    let d = std::env::temp_dir().join(format!("govcap-campaign-{}", crate::auth::random_secret()));
    std::fs::create_dir_all(&d).map_err(|_| Problem::internal())?;
    Ok(d)
}

/// Agreement per indicator on the double-coded sample: Cohen's kappa for binary and graded
/// leaves, Krippendorff's alpha (interval) for the others, over pairs where both codings have
/// a value that the rule reads.
pub fn agreement(s: &Setup, all: &[TaskView]) -> Vec<serde_json::Value> {
    use govcap_core::campaign::agreement::{cohen_kappa, krippendorff_alpha_interval};
    use govcap_core::framework::Rule;
    let mut pairs: HashMap<(String, String), [Option<String>; 2]> = HashMap::new();
    for t in all {
        let e = pairs
            .entry((t.unit.clone(), t.indicator.clone()))
            .or_default();
        e[(t.coder as usize).clamp(1, 2) - 1] = t.state.value.clone();
    }
    let mut out = Vec::new();
    for i in s.fw.leaves() {
        let n = &s.fw.nodes[i];
        let Some(leaf) = &n.leaf else { continue };
        let mut vals: Vec<(f64, f64)> = Vec::new();
        for ((_, ind), [a, b]) in &pairs {
            if ind != &n.id {
                continue;
            }
            if let (Some(a), Some(b)) = (a, b) {
                let ra = read_value(&leaf.rule, &Value::from_cell(a));
                let rb = read_value(&leaf.rule, &Value::from_cell(b));
                if let (Ok(x), Ok(y)) = (ra, rb) {
                    vals.push((x, y));
                }
            }
        }
        if vals.is_empty() {
            continue;
        }
        vals.sort_by(|p, q| p.partial_cmp(q).unwrap_or(std::cmp::Ordering::Equal));
        let (stat, value) = match leaf.rule {
            Rule::Binary | Rule::Graded { .. } => {
                // Categories as exact integers of the read fraction (levels are k/(m−1)).
                let cats: Vec<(i64, i64)> = vals
                    .iter()
                    .map(|(x, y)| ((x * 1e6).round() as i64, (y * 1e6).round() as i64))
                    .collect();
                ("cohen_kappa", cohen_kappa(&cats).map(|k| k.kappa))
            }
            _ => {
                let units: Vec<Vec<Option<f64>>> =
                    vals.iter().map(|(x, y)| vec![Some(*x), Some(*y)]).collect();
                (
                    "krippendorff_alpha_interval",
                    krippendorff_alpha_interval(&units).map(|a| a.alpha),
                )
            }
        };
        let agree = vals.iter().filter(|(x, y)| (x - y).abs() < 1e-12).count();
        out.push(json!({
            "indicator": n.id,
            "name_zh": n.name_zh,
            "rule": leaf.rule.name(),
            "pairs": vals.len(),
            "percent_agreement": agree as f64 / vals.len() as f64,
            "statistic": stat,
            "value": value.filter(|v| v.is_finite()),
        }));
    }
    out
}

/// The caller's tasks of a campaign as the evaluator's spreadsheet (a lead may name another
/// evaluator).
pub async fn sheet(
    state: &AppState,
    caller: &Caller,
    id: i64,
    assignee: Option<String>,
) -> Result<Vec<u8>, Problem> {
    caller.require(Action::TaskSheet)?;
    let who = match assignee {
        Some(a) if a != caller.name() => {
            caller.require(Action::ManageCampaigns)?;
            a
        }
        _ => caller.name().to_string(),
    };
    let s = load(state, id).await?;
    let mine = tasks(
        state,
        id,
        &TaskFilter {
            assignee: Some(who.clone()),
            ..Default::default()
        },
    )
    .await?;
    let rows: Vec<govcap_io::task_sheet::SheetTask> = mine
        .iter()
        .filter_map(|t| {
            let n = s.fw.nodes.iter().find(|n| n.id == t.indicator)?;
            let leaf = n.leaf.as_ref()?;
            Some(govcap_io::task_sheet::SheetTask {
                id: t.id,
                version: t.state.version,
                unit: t.unit.clone(),
                unit_name: s
                    .units
                    .get(&t.unit)
                    .map(|u| u.name.clone())
                    .unwrap_or_default(),
                indicator: t.indicator.clone(),
                indicator_name: n.name_zh.clone(),
                rule: leaf.rule.clone(),
                scoring: leaf.scoring.clone(),
                status: t.state.status.as_str().into(),
                value: t.state.value.clone().unwrap_or_default(),
                evidence_url: t.evidence_url.clone().unwrap_or_default(),
                note: t.note.clone().unwrap_or_default(),
            })
        })
        .collect();
    let note = format!(
        "{}（{} 年）· 评估员 {} · {} 项任务",
        s.campaign.name,
        s.campaign.year,
        who,
        rows.len()
    );
    tokio::task::spawn_blocking(move || govcap_io::task_sheet::write_task_sheet(&rows, &note))
        .await
        .map_err(|_| Problem::internal())?
        .map_err(|_| Problem::internal())
}

/// Imports a filled sheet: every row is checked (the task is the caller's, its version is
/// current, the rule reads the value, the evidence is a URL) before anything is written; any
/// problem refuses the whole file with every problem located. Returns how many values changed.
pub async fn import_sheet(
    state: &AppState,
    caller: &Caller,
    id: i64,
    bytes: Vec<u8>,
    file: &str,
) -> Result<usize, Problem> {
    caller.require(Action::EnterValues)?;
    let s = load(state, id).await?;
    if !matches!(s.campaign.phase.as_str(), "entry" | "appeals") {
        return Err(Problem::conflict(format!(
            "the campaign is {}: values can no longer change",
            s.campaign.phase
        )));
    }
    let name = file.to_string();
    let rows =
        tokio::task::spawn_blocking(move || govcap_io::task_sheet::read_task_sheet(&bytes, &name))
            .await
            .map_err(|_| Problem::internal())?;
    let refuse = |errors: Vec<String>| {
        let mut p = Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{file}: {} problem(s); nothing was saved", errors.len()),
        );
        p.errors = Some(errors);
        p
    };
    let rows = rows.map_err(|e| match e {
        govcap_io::ImportError::Invalid { problems, .. } => {
            refuse(problems.iter().map(|p| p.to_string()).collect())
        }
        other => Problem::new(StatusCode::UNPROCESSABLE_ENTITY, other.to_string()),
    })?;
    let me = caller.name().to_string();
    let mine = tasks(
        state,
        id,
        &TaskFilter {
            assignee: Some(me.clone()),
            ..Default::default()
        },
    )
    .await?;
    let by_id: HashMap<i64, &TaskView> = mine.iter().map(|t| (t.id, t)).collect();
    let value_col = govcap_io::task_sheet::HEADER[8];
    let mut errors = Vec::new();
    let mut writes: Vec<(TaskView, String, Option<String>, Option<String>)> = Vec::new();
    for r in &rows {
        let at = |col: &str, msg: String| format!("row {}, column {col:?}: {msg}", r.row);
        let Some(t) = by_id.get(&r.task) else {
            errors.push(at(
                govcap_io::task_sheet::HEADER[0],
                format!("task {} is not one of your tasks in this campaign", r.task),
            ));
            continue;
        };
        let unchanged = t.state.value.as_deref() == Some(r.value.as_str())
            && t.evidence_url == r.evidence_url
            && t.note == r.note;
        if unchanged {
            continue;
        }
        if let Err(e) = state::may_enter(&t.state, &me, r.version) {
            errors.push(at(value_col, e.to_string()));
            continue;
        }
        let rule =
            s.fw.nodes
                .iter()
                .find(|n| n.id == t.indicator)
                .and_then(|n| n.leaf.as_ref())
                .map(|l| l.rule.clone());
        if let Some(rule) = rule {
            if let Err(e) = read_value(&rule, &Value::from_cell(&r.value)) {
                errors.push(at(
                    value_col,
                    format!("indicator {} ({} rule): {e}", t.indicator, rule.name()),
                ));
                continue;
            }
        }
        if let Some(u) = &r.evidence_url {
            if check_url(u).is_err() {
                errors.push(at(
                    govcap_io::task_sheet::HEADER[9],
                    "an http(s) URL of at most 2000 characters".into(),
                ));
                continue;
            }
        }
        writes.push((
            (*t).clone(),
            r.value.clone(),
            r.evidence_url.clone(),
            r.note.clone(),
        ));
    }
    if !errors.is_empty() {
        return Err(refuse(errors));
    }
    let n = writes.len();
    let actor = Actor::of(caller);
    state
        .pool
        .tx(true, move |tx| {
            let now = crate::clock::now();
            for (t, value, ev, note) in &writes {
                let e = Event::Entered { by: actor.name.clone(), value: value.clone() };
                append(tx, t.id, t.state.version, &now, &actor.name, &e, ev.as_deref(), note.as_deref())?;
                audit::record(
                    tx,
                    &actor,
                    "task.value",
                    &format!("task/{}", t.id),
                    Some(task_json(t)),
                    Some(json!({"event": e, "value": value, "version": t.state.version + 1, "evidence_url": ev, "note": note, "via": "spreadsheet"})),
                )?;
            }
            Ok(())
        })
        .await?;
    Ok(n)
}

/// An RFC 3339 UTC instant as the workspace writes them (`2027-01-15T00:00:00Z`), so that
/// instants compare correctly as text.
pub fn check_instant(d: &str, field: &str) -> Result<(), Problem> {
    let b = d.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        r.into_iter()
            .all(|i| b.get(i).is_some_and(u8::is_ascii_digit))
    };
    let ok = b.len() == 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b[19] == b'Z';
    if ok {
        Ok(())
    } else {
        Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{field}: RFC 3339 UTC, e.g. 2027-01-15T00:00:00Z"),
        ))
    }
}

/// Where the campaign stands and when it will be done at the pace of the last seven days.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Forecast {
    /// First codings not yet confirmed.
    pub open: usize,
    pub confirmed: usize,
    /// Confirmations a day over the last seven days.
    pub per_day: f64,
    /// When the open tasks will be confirmed at that pace (none without a pace).
    pub estimated_done: Option<String>,
    pub due_at: Option<String>,
    /// The due time has passed with tasks open.
    pub overdue: bool,
    /// Due within three days with tasks open.
    pub due_soon: bool,
    /// Open first codings per evaluator, for the reminders.
    pub open_by_evaluator: std::collections::BTreeMap<String, usize>,
}

pub fn forecast(all: &[TaskView], due_at: Option<&str>, now_secs: i64) -> Forecast {
    let now = govcap_core::timefmt::rfc3339(now_secs);
    let week_ago = govcap_core::timefmt::rfc3339(now_secs - 7 * 86_400);
    let first: Vec<&TaskView> = all.iter().filter(|t| t.coder == 1).collect();
    let confirmed = first
        .iter()
        .filter(|t| t.state.status == Status::Confirmed)
        .count();
    let open = first.len() - confirmed;
    let recent = first
        .iter()
        .filter(|t| {
            t.confirmed_at
                .as_deref()
                .is_some_and(|a| a >= week_ago.as_str())
        })
        .count();
    let per_day = recent as f64 / 7.0;
    let estimated_done = (open > 0 && per_day > 0.0).then(|| {
        govcap_core::timefmt::rfc3339(now_secs + (open as f64 / per_day * 86_400.0).ceil() as i64)
    });
    let soon = govcap_core::timefmt::rfc3339(now_secs + 3 * 86_400);
    let mut open_by_evaluator = std::collections::BTreeMap::new();
    for t in all
        .iter()
        .filter(|t| !matches!(t.state.status, Status::Confirmed))
    {
        if let Some(a) = &t.state.assignee {
            if matches!(
                t.state.status,
                Status::Todo | Status::Returned | Status::Reopened
            ) {
                *open_by_evaluator.entry(a.clone()).or_insert(0) += 1;
            }
        }
    }
    Forecast {
        open,
        confirmed,
        per_day,
        estimated_done,
        due_at: due_at.map(str::to_string),
        overdue: open > 0 && due_at.is_some_and(|d| d < now.as_str()),
        due_soon: open > 0 && due_at.is_some_and(|d| d >= now.as_str() && d <= soon.as_str()),
        open_by_evaluator,
    }
}

/// What the monitor found for one unit and leaf: the value of an automated leaf, or the
/// starting point an evaluator confirms or overrides for a hybrid one (never a final value).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Proposal {
    pub value: String,
    /// `auto` or `proposed`.
    pub source: &'static str,
    pub evidence_url: Option<String>,
    pub observed_at: Option<String>,
    /// The checks and WARC records the value rests on.
    pub note: Option<String>,
}

pub type Proposals = HashMap<(String, String), Proposal>;

/// The campaign's monitor run as observations (cached per monitor run).
pub async fn proposals(state: &AppState, s: &Setup) -> Result<Arc<Proposals>, Problem> {
    let Some(mid) = s.campaign.monitor_run_id else {
        return Ok(Arc::new(HashMap::new()));
    };
    if let Some(p) = state
        .caches
        .proposals
        .lock()
        .ok()
        .and_then(|c| c.get(&mid).cloned())
    {
        return Ok(p);
    }
    let year = s.campaign.year;
    let map = state
        .pool
        .with(move |st| {
            let run = st
                .list_monitor_runs()?
                .into_iter()
                .find(|r| r.id == mid)
                .ok_or_else(|| StoreError::NotFound(format!("monitor run {mid}")))?;
            let findings: Vec<govcap_monitor::model::Finding> = st
                .monitor_findings_since(&run.started_at)?
                .into_iter()
                .filter(|f| f.run_id == mid)
                .map(|f| govcap_monitor::model::Finding {
                    code: f.finding.code,
                    url: f.finding.url,
                    check: f.finding.check,
                    value: serde_json::from_str(&f.finding.value_json)
                        .unwrap_or(serde_json::Value::Null),
                    details: serde_json::from_str(&f.finding.details_json)
                        .unwrap_or(serde_json::Value::Null),
                    evidence: f.finding.evidence,
                })
                .collect();
            let obs = govcap_monitor::observations::to_observations(&findings, year, &run.as_of);
            let mut map = Proposals::new();
            for o in obs {
                let source = match o.source {
                    govcap_core::observation::Source::Auto => "auto",
                    govcap_core::observation::Source::Proposed => "proposed",
                    _ => continue,
                };
                let value = match &o.value {
                    Value::Number(n) => n.to_string(),
                    Value::Text(t) => t.to_string(),
                };
                map.insert(
                    (o.unit.clone(), o.indicator.clone()),
                    Proposal {
                        value,
                        source,
                        evidence_url: o.evidence_url.as_deref().map(str::to_string),
                        observed_at: o.observed_at.clone(),
                        note: o.note.clone(),
                    },
                );
            }
            Ok(map)
        })
        .await?;
    let map = Arc::new(map);
    if let Ok(mut c) = state.caches.proposals.lock() {
        if c.len() > 16 {
            c.clear();
        }
        c.insert(mid, Arc::clone(&map));
    }
    Ok(map)
}
