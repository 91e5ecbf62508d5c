//! `/api/v1/runs…`: recorded runs, their units, publication.

use axum::extract::{Path, Query, State};
use axum::Json;
use govcap_core::access::Action;
use serde::Serialize;

use super::{PageQuery, Paged};
use crate::auth::Caller;
use crate::problem::Problem;
use crate::runs::{self as r, ListedRun};
use crate::state::{AppState, LoadedRun};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RunItem {
    pub id: i64,
    pub label: String,
    pub year: i32,
    pub created_at: String,
    pub framework_id: String,
    pub framework_version: String,
    /// True when any input was synthetic: such a run describes no real government.
    pub synthetic: bool,
    pub published: bool,
    pub previous_run: Option<i64>,
    pub results_sha256: String,
}

fn item(r: &ListedRun) -> RunItem {
    let s = &r.summary;
    RunItem {
        id: s.id,
        label: s.label.clone(),
        year: s.year,
        created_at: s.created_at.clone(),
        framework_id: s.framework_id.clone(),
        framework_version: s.framework_version.clone(),
        synthetic: s.synthetic,
        published: r.published,
        previous_run: s.previous_run,
        results_sha256: s.results_sha256.clone(),
    }
}

/// Recorded runs, newest first: published ones for everyone, all of them for the team.
#[utoipa::path(get, path = "/api/v1/runs", tag = "runs", params(PageQuery),
    responses(
        (status = 200, description = "One page of runs", body = Paged<RunItem>),
        (status = 400, description = "Bad page parameters", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<PageQuery>,
) -> Result<Json<Paged<RunItem>>, Problem> {
    caller.require(Action::ReadPublished)?;
    let runs: Vec<RunItem> = r::visible(&state, &caller)
        .await?
        .iter()
        .map(item)
        .collect();
    Ok(Json(q.slice(&runs)?))
}

/// One run.
#[utoipa::path(get, path = "/api/v1/runs/{id}", tag = "runs",
    params(("id" = i64, Path, description = "Run id")),
    responses(
        (status = 200, description = "The run", body = RunItem),
        (status = 404, description = "No such run visible to the caller", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<RunItem>, Problem> {
    caller.require(Action::ReadPublished)?;
    let runs = r::visible(&state, &caller).await?;
    runs.iter()
        .find(|x| x.summary.id == id)
        .map(|x| Json(item(x)))
        .ok_or_else(|| Problem::not_found(format!("run {id}")))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UnitRow {
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub province: Option<String>,
    pub total: Option<f64>,
    pub rank: Option<usize>,
    pub tier: Option<String>,
    pub sublevel: Option<String>,
}

/// The units of a run in list order with their totals, ranks and tiers.
#[utoipa::path(get, path = "/api/v1/runs/{id}/units", tag = "runs",
    params(("id" = i64, Path, description = "Run id"), PageQuery),
    responses(
        (status = 200, description = "One page of units", body = Paged<UnitRow>),
        (status = 404, description = "No such run visible to the caller", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn units(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(q): Query<PageQuery>,
) -> Result<Json<Paged<UnitRow>>, Problem> {
    caller.require(Action::ReadPublished)?;
    q.bounds()?;
    let run = r::get(&state, &caller, id).await?;
    let rows: Vec<UnitRow> = run
        .evaluation
        .units
        .iter()
        .map(|u| UnitRow {
            code: u.code.clone(),
            name: u.name.clone(),
            name_en: u.name_en.clone(),
            province: u.province.clone(),
            total: u.total,
            rank: u.rank,
            tier: u.tier.clone(),
            sublevel: u.sublevel.clone(),
        })
        .collect();
    Ok(Json(q.slice(&rows)?))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NodeRow {
    pub id: String,
    pub parent: Option<String>,
    pub depth: usize,
    pub name_zh: String,
    pub name_en: String,
    /// Score rate 0–1 (points scale) or the aggregated value (weights scale).
    pub value: Option<f64>,
    /// Points earned, and the most there are.
    pub points: Option<f64>,
    pub max_points: f64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UnitDetail {
    pub run: i64,
    pub year: i32,
    /// True when the run's data are synthetic.
    pub synthetic: bool,
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub province: Option<String>,
    pub region: Option<String>,
    pub total: Option<f64>,
    pub rank: Option<usize>,
    pub province_rank: Option<usize>,
    pub tier: Option<String>,
    pub sublevel: Option<String>,
    /// Every node of the framework with this unit's score, in tree order.
    pub nodes: Vec<NodeRow>,
}

pub fn unit_detail(run: &LoadedRun, code: &str) -> Option<UnitDetail> {
    let e = &run.evaluation;
    let u = e.units.iter().find(|u| u.code == code)?;
    let nodes = e
        .nodes
        .iter()
        .map(|n| {
            let s = u.scores.iter().find(|s| s.id.as_str() == n.id);
            NodeRow {
                id: n.id.clone(),
                parent: n.parent.clone(),
                depth: n.depth,
                name_zh: n.name_zh.clone(),
                name_en: n.name_en.clone(),
                value: s.and_then(|s| s.value),
                points: s.and_then(|s| s.points),
                max_points: n.points,
            }
        })
        .collect();
    Some(UnitDetail {
        run: run.summary.id,
        year: e.year,
        synthetic: e.synthetic,
        code: u.code.clone(),
        name: u.name.clone(),
        name_en: u.name_en.clone(),
        province: u.province.clone(),
        region: u.region.clone(),
        total: u.total,
        rank: u.rank,
        province_rank: u.province_rank,
        tier: u.tier.clone(),
        sublevel: u.sublevel.clone(),
        nodes,
    })
}

/// A unit's total, rank, tier, sub-level and the score of every node.
#[utoipa::path(get, path = "/api/v1/runs/{id}/units/{code}", tag = "runs",
    params(("id" = i64, Path, description = "Run id"), ("code" = String, Path, description = "Unit code (GB/T 2260)")),
    responses(
        (status = 200, description = "The unit's results", body = UnitDetail),
        (status = 404, description = "No such run visible to the caller, or no such unit in it", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn unit(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, code)): Path<(i64, String)>,
) -> Result<Json<UnitDetail>, Problem> {
    caller.require(Action::ReadPublished)?;
    let run = r::get(&state, &caller, id).await?;
    unit_detail(&run, &code)
        .map(Json)
        .ok_or_else(|| Problem::not_found(format!("unit {} in run {id}", clip(&code))))
}

fn clip(s: &str) -> String {
    s.chars().take(40).collect()
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Published {
    pub id: i64,
    pub published: bool,
}

/// Publishes a run: it appears on the public dashboard and in anonymous listings.
#[utoipa::path(post, path = "/api/v1/runs/{id}/publish", tag = "runs",
    params(("id" = i64, Path, description = "Run id")),
    responses(
        (status = 200, description = "Published", body = Published),
        (status = 403, description = "The caller's role may not publish", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such run", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Published>, Problem> {
    r::set_published(&state, &caller, id, true).await?;
    Ok(Json(Published {
        id,
        published: true,
    }))
}

/// Withdraws a run from the public dashboard.
#[utoipa::path(post, path = "/api/v1/runs/{id}/unpublish", tag = "runs",
    params(("id" = i64, Path, description = "Run id")),
    responses(
        (status = 200, description = "Unpublished", body = Published),
        (status = 403, description = "The caller's role may not publish", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such run", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn unpublish(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Published>, Problem> {
    r::set_published(&state, &caller, id, false).await?;
    Ok(Json(Published {
        id,
        published: false,
    }))
}
