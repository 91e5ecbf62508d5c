//! Recorded runs as the workspace sees them: which a caller may see, loading and caching them,
//! publishing. Plain async functions; the API and the pages both call these.

use std::sync::Arc;

use govcap_core::access::Action;
use govcap_report::Manifest;
use govcap_store::{workspace, RunSummary};
use serde_json::json;

use crate::audit::{self, Actor};
use crate::auth::Caller;
use crate::problem::Problem;
use crate::state::{AppState, LoadedRun};

/// A run in a listing, with its publication state.
#[derive(Debug, Clone)]
pub struct ListedRun {
    pub summary: RunSummary,
    pub published: bool,
    /// A statistical audit of the run is recorded.
    pub audited: bool,
}

/// Runs the caller may see, newest first: all of them for the evaluation team, the published
/// ones for everyone else.
pub async fn visible(state: &AppState, caller: &Caller) -> Result<Vec<ListedRun>, Problem> {
    let all = caller.require(Action::ReadAllRuns).is_ok();
    let (runs, published, audited) = state
        .pool
        .with(|s| {
            let runs = s.list_runs()?;
            let (published, audited) = govcap_store::transact(s, false, |tx| {
                Ok((
                    workspace::published_run_ids(tx)?,
                    workspace::audited_run_ids(tx)?,
                ))
            })?;
            Ok((runs, published, audited))
        })
        .await?;
    let mut out: Vec<ListedRun> = runs
        .into_iter()
        .map(|r| ListedRun {
            published: published.contains(&r.id),
            audited: audited.contains(&r.id),
            summary: r,
        })
        .filter(|r| all || r.published)
        .collect();
    out.reverse();
    Ok(out)
}

/// Published run ids, ascending.
pub async fn published_ids(state: &AppState) -> Result<Vec<i64>, Problem> {
    Ok(state.pool.tx(false, workspace::published_run_ids).await?)
}

/// The run, if the caller may see it; otherwise 404 (an unpublished run's existence is not
/// revealed to the public).
pub async fn get(state: &AppState, caller: &Caller, id: i64) -> Result<Arc<LoadedRun>, Problem> {
    if caller.require(Action::ReadAllRuns).is_err() && !published_ids(state).await?.contains(&id) {
        return Err(Problem::not_found(format!("run {id}")));
    }
    load(state, id).await
}

/// Loads (and caches) a run without checking visibility: callers check first.
pub async fn load(state: &AppState, id: i64) -> Result<Arc<LoadedRun>, Problem> {
    if let Some(r) = state
        .caches
        .runs
        .lock()
        .ok()
        .and_then(|c| c.get(&id).cloned())
    {
        return Ok(r);
    }
    let loaded = state
        .pool
        .with(move |s| {
            let Some(r) = s.get_run(id)? else {
                return Err(govcap_store::StoreError::NotFound(format!("run {id}")));
            };
            let evaluation: govcap_core::evaluate::Evaluation =
                serde_json::from_str(&r.results_json).map_err(|e| {
                    govcap_store::StoreError::Corrupt(format!(
                        "run {id} has unreadable results: {e}"
                    ))
                })?;
            let audit = govcap_store::transact(s, false, |tx| workspace::run_audit(tx, id))?
                .and_then(|text| serde_json::from_str::<govcap_core::audit::Audit>(&text).ok())
                .filter(|a| govcap_report::audit_matches(&evaluation, a).is_ok());
            let mut inputs = vec![(
                format!("framework {} {}", r.framework_id, r.framework_version),
                r.framework_sha256.clone(),
            )];
            inputs.extend(r.inputs.iter().map(|i| (i.name.clone(), i.sha256.clone())));
            let manifest = Manifest {
                run_id: Some(r.id),
                label: Some(r.label.clone()),
                created_at: Some(r.created_at.clone()),
                software: format!("govcap {}", r.software_version),
                framework_sha256: Some(r.framework_sha256.clone()),
                inputs,
                results_sha256: Some(r.results_sha256.clone()),
                previous: None,
            };
            Ok(LoadedRun {
                summary: RunSummary {
                    id: r.id,
                    label: r.label,
                    year: r.year,
                    created_at: r.created_at,
                    framework_id: r.framework_id,
                    framework_version: r.framework_version,
                    synthetic: r.synthetic,
                    previous_run: r.previous_run,
                    results_sha256: r.results_sha256,
                },
                evaluation,
                audit,
                manifest,
                results_json: r.results_json,
            })
        })
        .await?;
    let loaded = Arc::new(loaded);
    state.caches.trim(16);
    if let Ok(mut c) = state.caches.runs.lock() {
        c.insert(id, Arc::clone(&loaded));
    }
    Ok(loaded)
}

/// The run a report compares with: the recorded previous run when the caller may see it,
/// otherwise the newest visible run of the year before with the same framework.
pub async fn previous_for(
    state: &AppState,
    caller: &Caller,
    run: &LoadedRun,
) -> Result<Option<i64>, Problem> {
    Ok(previous_in(&visible(state, caller).await?, run))
}

/// [`previous_for`] over a listing the caller already has (the runs it may see).
pub fn previous_in(visible: &[ListedRun], run: &LoadedRun) -> Option<i64> {
    if let Some(p) = run.summary.previous_run {
        if visible.iter().any(|r| r.summary.id == p) {
            return Some(p);
        }
    }
    visible
        .iter()
        .filter(|r| {
            r.summary.year == run.summary.year - 1
                && r.summary.framework_id == run.summary.framework_id
        })
        .map(|r| r.summary.id)
        .max()
}

/// Publishes or unpublishes a run, with its audit entry, in one transaction.
pub async fn set_published(
    state: &AppState,
    caller: &Caller,
    id: i64,
    publish: bool,
) -> Result<(), Problem> {
    caller.require(Action::PublishRun)?;
    let actor = Actor::of(caller);
    state
        .pool
        .tx(true, move |tx| {
            let now = crate::clock::now();
            let before = workspace::set_published(tx, id, publish, &now, &actor.name)?;
            audit::record(
                tx,
                &actor,
                if publish {
                    "run.publish"
                } else {
                    "run.unpublish"
                },
                &format!("run/{id}"),
                Some(json!({"published": before.is_some_and(|b| b.published)})),
                Some(json!({"published": publish})),
            )?;
            Ok(())
        })
        .await?;
    Ok(())
}
