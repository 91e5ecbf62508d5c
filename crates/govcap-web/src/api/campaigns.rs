//! `/api/v1/campaigns…`, `/api/v1/tasks…`, `/api/v1/appeals…`: the evaluators' workflow.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use govcap_core::access::{Action, Role};
use govcap_core::campaign::assign::AssignBy;
use serde::{Deserialize, Serialize};

use super::{ApiJson, PageQuery, Paged};
use crate::auth::Caller;
use crate::campaigns::{self as c, TaskFilter, TaskView};
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewCampaign {
    pub name: String,
    pub year: i32,
    /// Share of tasks coded twice, independently (default 0.1).
    pub double_share: Option<f64>,
    /// Seed of the double-coding draw (default 1).
    pub seed: Option<i64>,
    /// When entry and review should be done (RFC 3339 UTC): reminders and the forecast use it.
    pub due: Option<String>,
    /// A recorded monitor run (`govcap monitor run --db`): its findings give the automated
    /// leaves and, for hybrid leaves, the proposal shown to the evaluator.
    pub monitor_run: Option<i64>,
    /// A framework of one's own as TOML text (default: the built-in 3/9/31 framework).
    pub framework_toml: Option<String>,
    /// A unit list of one's own as CSV text, `code,name[,province,region,…]` (default: the
    /// built-in 337 units).
    pub units_csv: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Created {
    pub id: i64,
}

/// Creates a campaign: the built-in framework and 337 units unless others are given.
#[utoipa::path(post, path = "/api/v1/campaigns", tag = "campaigns", request_body = NewCampaign,
    responses(
        (status = 201, description = "Created", body = Created),
        (status = 403, description = "Not a lead or admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(r): ApiJson<NewCampaign>,
) -> Result<(StatusCode, Json<Created>), Problem> {
    caller.require(Action::ManageCampaigns)?;
    let spec = c::Spec {
        name: r.name,
        year: r.year,
        double_share: r.double_share.unwrap_or(0.1),
        seed: r.seed.unwrap_or(1),
        due_at: r.due.filter(|d| !d.is_empty()),
        monitor_run: r.monitor_run,
        framework_toml: r.framework_toml.filter(|t| !t.trim().is_empty()),
        units_csv: r.units_csv.filter(|t| !t.trim().is_empty()),
    };
    let id = c::create(&state, &caller, spec).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CampaignItem {
    pub id: i64,
    pub name: String,
    pub year: i32,
    /// entry, appeals, frozen or closed.
    pub phase: String,
    pub double_share: String,
    pub seed: i64,
    pub appeal_deadline: Option<String>,
    pub due_at: Option<String>,
    pub run_id: Option<i64>,
    pub created_by: String,
    pub created_at: String,
}

fn item(x: &govcap_store::campaigns::Campaign) -> CampaignItem {
    CampaignItem {
        id: x.id,
        name: x.name.clone(),
        year: x.year,
        phase: x.phase.clone(),
        double_share: x.double_share.clone(),
        seed: x.seed,
        appeal_deadline: x.appeal_deadline.clone(),
        due_at: x.due_at.clone(),
        run_id: x.run_id,
        created_by: x.created_by.clone(),
        created_at: x.created_at.clone(),
    }
}

/// All campaigns, newest first.
#[utoipa::path(get, path = "/api/v1/campaigns", tag = "campaigns",
    responses(
        (status = 200, description = "Campaigns", body = Vec<CampaignItem>),
        (status = 403, description = "Not a member of the evaluation team", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<CampaignItem>>, Problem> {
    caller.require(Action::ReadCampaigns)?;
    let all = state.pool.tx(false, govcap_store::campaigns::list).await?;
    Ok(Json(all.iter().map(item).collect()))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CampaignDetail {
    #[serde(flatten)]
    pub campaign: CampaignItem,
    /// First codings by state: todo, entered, confirmed, returned, disputed, appealed, reopened.
    #[schema(value_type = Object)]
    pub progress: serde_json::Value,
    /// Per indicator on the double-coded sample.
    #[schema(value_type = Vec<Object>)]
    pub agreement: Vec<serde_json::Value>,
    /// Open and confirmed first codings, the pace of the last 7 days, the estimated end, and
    /// open tasks per evaluator.
    #[schema(value_type = Object)]
    pub forecast: serde_json::Value,
}

/// A campaign with its progress and the agreement of its double-coded sample.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}", tag = "campaigns",
    params(("id" = i64, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "The campaign", body = CampaignDetail),
        (status = 404, description = "No such campaign", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<CampaignDetail>, Problem> {
    caller.require(Action::ReadCampaigns)?;
    let s = c::load(&state, id).await?;
    let all = c::tasks(&state, id, &TaskFilter::default()).await?;
    let progress = serde_json::to_value(c::progress(&all)).unwrap_or_default();
    let forecast = serde_json::to_value(c::forecast(
        &all,
        s.campaign.due_at.as_deref(),
        crate::clock::now_secs(),
    ))
    .unwrap_or_default();
    Ok(Json(CampaignDetail {
        forecast,
        agreement: c::agreement(&s, &all),
        campaign: item(&s.campaign),
        progress,
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Generate {
    /// Assign to these evaluators right away (balanced), grouped by `by`.
    #[serde(default)]
    pub evaluators: Vec<String>,
    /// province (default) or indicator.
    pub by: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Generated {
    pub tasks: usize,
    pub double_coded: usize,
}

/// Generates the tasks: every unit × every manual or hybrid leaf, plus the second codings of
/// the double-coding sample; assigns them when evaluators are named.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/tasks:generate", tag = "campaigns",
    params(("id" = i64, Path, description = "Campaign id")),
    request_body(content = Generate, description = "Optional: evaluators to assign to"),
    responses(
        (status = 200, description = "Generated", body = Generated),
        (status = 409, description = "Tasks exist already, or the campaign is past entry", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn generate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Result<Json<Generated>, Problem> {
    caller.require(Action::ManageCampaigns)?;
    // The body is optional: no body generates the tasks without assigning them.
    let g: Generate = if body.iter().all(u8::is_ascii_whitespace) {
        Generate {
            evaluators: vec![],
            by: None,
        }
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "the JSON body does not have the expected fields: {}",
                    e.to_string().chars().take(300).collect::<String>()
                ),
            )
        })?
    };
    let by = match g.by.as_deref() {
        None | Some("province") => AssignBy::Province,
        Some("indicator") => AssignBy::Indicator,
        Some(_) => {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "by: province or indicator",
            ))
        }
    };
    let (tasks, double_coded) = c::generate(&state, &caller, id, Some(by), g.evaluators).await?;
    Ok(Json(Generated {
        tasks,
        double_coded,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskQuery {
    pub unit: Option<String>,
    pub indicator: Option<String>,
    pub assignee: Option<String>,
    #[param(minimum = 1)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 500)]
    pub per_page: Option<u32>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TaskItem {
    pub id: i64,
    pub unit: String,
    pub indicator: String,
    /// 1, or 2 for the independent second coding of a double-coded task.
    pub coder: i64,
    /// unassigned, todo, entered, confirmed, returned, appealed, reopened.
    pub status: String,
    /// The two codings disagree: the lead adjudicates.
    pub disputed: bool,
    pub assignee: Option<String>,
    pub version: u64,
    pub value: Option<String>,
    pub entered_by: Option<String>,
    pub confirmed_by: Option<String>,
    /// The evaluator's confidence in the value: high, medium or low.
    pub confidence: Option<String>,
    pub evidence_url: Option<String>,
    pub note: Option<String>,
    /// For a hybrid leaf: the monitor's proposed value, a starting point, never final.
    pub proposed_value: Option<String>,
    /// The page the proposal rests on.
    pub proposed_evidence: Option<String>,
}

pub fn task_item(t: &TaskView) -> TaskItem {
    task_item_with(t, None)
}

pub fn task_item_with(t: &TaskView, p: Option<&c::Proposal>) -> TaskItem {
    let p = p.filter(|p| p.source == "proposed");
    TaskItem {
        id: t.id,
        unit: t.unit.clone(),
        indicator: t.indicator.clone(),
        coder: t.coder,
        status: t.state.status.as_str().into(),
        disputed: t.disputed,
        assignee: t.state.assignee.clone(),
        version: t.state.version,
        value: t.state.value.clone(),
        entered_by: t.state.entered_by.clone(),
        confirmed_by: t.state.confirmed_by.clone(),
        confidence: t.state.confidence.clone(),
        evidence_url: t.evidence_url.clone(),
        note: t.note.clone(),
        proposed_value: p.map(|p| p.value.clone()),
        proposed_evidence: p.and_then(|p| p.evidence_url.clone()),
    }
}

/// Tasks, filtered. A unit's representative sees only its own units' first codings, and
/// only once the lead has opened the provisional results.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/tasks", tag = "campaigns",
    params(("id" = i64, Path, description = "Campaign id"), TaskQuery),
    responses(
        (status = 200, description = "One page of tasks", body = Paged<TaskItem>),
        (status = 404, description = "No such campaign visible to the caller", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn tasks(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(q): Query<TaskQuery>,
) -> Result<Json<Paged<TaskItem>>, Problem> {
    caller.require(Action::ReadTasks)?;
    let page = PageQuery {
        page: q.page,
        per_page: q.per_page,
    };
    page.bounds()?;
    let f = TaskFilter {
        unit: q.unit,
        indicator: q.indicator,
        assignee: q.assignee,
    };
    let mut all = c::tasks(&state, id, &f).await?;
    if caller.role == Some(Role::Unit) {
        let s = c::load(&state, id).await?;
        if s.campaign.phase == "entry" {
            return Err(Problem::not_found(format!("campaign {id}")));
        }
        let mine = caller
            .user
            .as_ref()
            .map(|u| u.units.clone())
            .unwrap_or_default();
        all.retain(|t| t.coder == 1 && mine.contains(&t.unit));
    }
    let s = c::load(&state, id).await?;
    let monitor = c::proposals(&state, &s).await?;
    let items: Vec<TaskItem> = all
        .iter()
        .map(|t| task_item_with(t, monitor.get(&(t.unit.clone(), t.indicator.clone()))))
        .collect();
    Ok(Json(page.slice(&items)?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AssignTo {
    pub evaluator: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Versioned {
    pub id: i64,
    /// The task's version after the write: send it with the next write.
    pub version: u64,
}

/// Assigns (or reassigns) a task; earlier assignments stay in its history.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/assign", tag = "campaigns", request_body = AssignTo,
    params(("id" = i64, Path, description = "Task id")),
    responses(
        (status = 200, description = "Assigned", body = Versioned),
        (status = 422, description = "Not an active evaluator, or the other coder of the pair", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn assign(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(r): ApiJson<AssignTo>,
) -> Result<Json<Versioned>, Problem> {
    caller.require(Action::ManageCampaigns)?;
    let version = c::reassign(&state, &caller, id, &r.evaluator).await?;
    Ok(Json(Versioned { id, version }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PutValue {
    /// As the leaf's rule reads it: 1/0, 是/否, 0.85 or 85%, a count, a level key or label.
    pub value: String,
    pub evidence_url: Option<String>,
    pub note: Option<String>,
    /// The evaluator's confidence: high, medium or low.
    pub confidence: Option<String>,
    /// The version the evaluator saw.
    pub version: u64,
}

/// The assigned evaluator enters a value; a stale version is refused with 409, a value the
/// rule refuses with 422 naming the rule.
#[utoipa::path(put, path = "/api/v1/tasks/{id}/value", tag = "campaigns", request_body = PutValue,
    params(("id" = i64, Path, description = "Task id")),
    responses(
        (status = 200, description = "Entered", body = Versioned),
        (status = 403, description = "Not the assigned evaluator", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The task changed since that version (the detail says who changed it)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The rule refuses the value", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn put_value(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(r): ApiJson<PutValue>,
) -> Result<Json<Versioned>, Problem> {
    caller.require(Action::EnterValues)?;
    let entry = c::Entry {
        value: r.value,
        evidence_url: r.evidence_url.filter(|u| !u.is_empty()),
        note: r.note.filter(|n| !n.is_empty()),
        confidence: r.confidence,
    };
    let version = c::enter(&state, &caller, id, entry, r.version).await?;
    Ok(Json(Versioned { id, version }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ReviewDecision {
    /// confirm or reject.
    pub decision: String,
    #[serde(default)]
    pub note: String,
}

/// Confirms or rejects (with a reason) a value; its own evaluator may not.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/review", tag = "campaigns", request_body = ReviewDecision,
    params(("id" = i64, Path, description = "Task id")),
    responses(
        (status = 200, description = "Reviewed", body = Versioned),
        (status = 403, description = "The caller entered this value, or may not review", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Nothing to review, or a disputed pair awaiting adjudication", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn review(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(r): ApiJson<ReviewDecision>,
) -> Result<Json<Versioned>, Problem> {
    let confirm = match r.decision.as_str() {
        "confirm" => true,
        "reject" => false,
        _ => {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "decision: confirm or reject",
            ))
        }
    };
    let version = c::review(&state, &caller, id, confirm, &r.note).await?;
    Ok(Json(Versioned { id, version }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Adjudication {
    pub value: String,
    #[serde(default)]
    pub note: String,
    pub version: u64,
}

/// The lead's value for a disputed double-coded task; it is then reviewed like any value.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/adjudicate", tag = "campaigns", request_body = Adjudication,
    params(("id" = i64, Path, description = "Task id (the first coding)")),
    responses(
        (status = 200, description = "Adjudicated", body = Versioned),
        (status = 409, description = "Not disputed, or stale", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn adjudicate(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(r): ApiJson<Adjudication>,
) -> Result<Json<Versioned>, Problem> {
    caller.require(Action::ManageCampaigns)?;
    let version = c::adjudicate(&state, &caller, id, &r.value, &r.note, r.version).await?;
    Ok(Json(Versioned { id, version }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewAppeal {
    pub task: i64,
    pub reason: String,
    pub evidence_url: Option<String>,
}

/// The unit's own representative appeals a confirmed value while appeals are open.
#[utoipa::path(post, path = "/api/v1/appeals", tag = "campaigns", request_body = NewAppeal,
    responses(
        (status = 201, description = "Appealed", body = Created),
        (status = 404, description = "No such task of the caller's units", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Appeals closed, or the value is not confirmed", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn appeal(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(r): ApiJson<NewAppeal>,
) -> Result<(StatusCode, Json<Created>), Problem> {
    caller.require(Action::Appeal)?;
    let id = c::appeal(
        &state,
        &caller,
        r.task,
        &r.reason,
        r.evidence_url.filter(|u| !u.is_empty()),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AppealDecision {
    /// uphold or reject.
    pub decision: String,
    pub note: String,
}

/// The lead upholds (the evaluator enters a changed value, reviewed again) or rejects.
#[utoipa::path(post, path = "/api/v1/appeals/{id}/decision", tag = "campaigns", request_body = AppealDecision,
    params(("id" = i64, Path, description = "Appeal id")),
    responses(
        (status = 200, description = "Decided", body = Created),
        (status = 404, description = "No such appeal", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(r): ApiJson<AppealDecision>,
) -> Result<Json<Created>, Problem> {
    caller.require(Action::ManageCampaigns)?;
    let uphold = match r.decision.as_str() {
        "uphold" => true,
        "reject" => false,
        _ => {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "decision: uphold or reject",
            ))
        }
    };
    let task = c::decide(&state, &caller, id, uphold, &r.note).await?;
    Ok(Json(Created { id: task }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct OpenAppeals {
    /// RFC 3339 time after which appeals are refused.
    pub deadline: String,
}

/// Opens the provisional results to the units' representatives for appeals until the deadline.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/appeals:open", tag = "campaigns", request_body = OpenAppeals,
    params(("id" = i64, Path, description = "Campaign id")),
    responses(
        (status = 204, description = "Opened"),
        (status = 409, description = "Not in the entry phase", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn open_appeals(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(r): ApiJson<OpenAppeals>,
) -> Result<StatusCode, Problem> {
    caller.require(Action::ManageCampaigns)?;
    let d = r.deadline.trim();
    let ok = d.len() == 20 && d.ends_with('Z') && d.as_bytes()[10] == b'T';
    if !ok {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "deadline: RFC 3339 UTC, e.g. 2027-01-15T00:00:00Z",
        ));
    }
    c::set_phase(&state, &caller, id, "appeals", Some(d.to_string())).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Freezes the campaign: no value changes any more.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/freeze", tag = "campaigns",
    params(("id" = i64, Path, description = "Campaign id")),
    responses(
        (status = 204, description = "Frozen"),
        (status = 409, description = "Already frozen or closed", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn freeze(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, Problem> {
    caller.require(Action::ManageCampaigns)?;
    c::set_phase(&state, &caller, id, "frozen", None).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RunCreated {
    pub run_id: i64,
}

/// Computes the recorded run from the confirmed values (the same engine and recording as
/// `govcap evaluate` on the campaign's observations file).
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/runs", tag = "campaigns",
    params(("id" = i64, Path, description = "Campaign id")),
    responses(
        (status = 201, description = "Recorded", body = RunCreated),
        (status = 409, description = "Not frozen, or no confirmed value", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn run(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<RunCreated>), Problem> {
    caller.require(Action::ManageCampaigns)?;
    let run_id = c::compute_run(&state, &caller, id).await?;
    Ok((StatusCode::CREATED, Json(RunCreated { run_id })))
}

/// The confirmed values as the observations file of the campaign's run (CSV, long format).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/observations.csv", tag = "campaigns",
    params(("id" = i64, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "CSV", content_type = "text/csv"),
        (status = 404, description = "No such campaign", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn observations(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, Problem> {
    caller.require(Action::ReadCampaigns)?;
    let s = c::load(&state, id).await?;
    let all = c::tasks(&state, id, &TaskFilter::default()).await?;
    let monitor = c::proposals(&state, &s).await?;
    let csv = c::observations_csv(&s, &all, &monitor);
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", c::observations_file_name(id)),
            ),
        ],
        csv,
    )
        .into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SheetQuery {
    /// Another evaluator's sheet (leads and admins only); default: the caller's own.
    pub assignee: Option<String>,
}

/// The caller's tasks as a spreadsheet: a dropdown for binary and graded leaves, the rule and
/// guidance as a note on each indicator.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/sheet.xlsx", tag = "campaigns",
    params(("id" = i64, Path, description = "Campaign id"), SheetQuery),
    responses(
        (status = 200, description = "XLSX", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 404, description = "No such campaign", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn sheet(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(q): Query<SheetQuery>,
) -> Result<Response, Problem> {
    caller.require(Action::TaskSheet)?;
    let bytes = c::sheet(&state, &caller, id, q.assignee.filter(|a| !a.is_empty())).await?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"campaign-{id}-{}.xlsx\"",
                    caller
                        .name()
                        .chars()
                        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                        .collect::<String>()
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SheetSaved {
    /// Values that changed.
    pub saved: usize,
}

/// Imports a filled task spreadsheet (the body is the XLSX file): all rows or none, every
/// problem located by row and column in `errors`.
#[utoipa::path(put, path = "/api/v1/campaigns/{id}/sheet", tag = "campaigns",
    params(("id" = i64, Path, description = "Campaign id")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The .xlsx file's bytes (any Content-Type is accepted)"),
    responses(
        (status = 200, description = "Imported", body = SheetSaved),
        (status = 422, description = "Refused, nothing saved; `errors` lists every problem", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn put_sheet(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> Result<Json<SheetSaved>, Problem> {
    caller.require(Action::EnterValues)?;
    let saved = c::import_sheet(&state, &caller, id, body.to_vec(), "upload.xlsx").await?;
    Ok(Json(SheetSaved { saved }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The file's name, for display.
    pub name: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Uploaded {
    pub sha256: String,
    /// Where the file is served (to the signed-in team and units); use it as `evidence_url`.
    pub url: String,
    /// Judged from the content: image/png, image/jpeg, image/gif, image/webp or application/pdf.
    pub content_type: String,
    pub size: usize,
}

/// Uploads an evidence file (the body is the file, at most 10 MiB; images or PDF, judged by
/// the content); stored once by its SHA-256.
#[utoipa::path(post, path = "/api/v1/evidence", tag = "campaigns", params(UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "Stored", body = Uploaded),
        (status = 413, description = "Larger than 10 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not an image or PDF", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn upload_evidence(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<UploadQuery>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Uploaded>), Problem> {
    caller.require(Action::Evidence)?;
    let (sha256, ctype, size) = crate::evidence::upload(
        &state,
        &caller,
        q.name.as_deref().unwrap_or(""),
        body.to_vec(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(Uploaded {
            url: format!("/evidence/files/{sha256}"),
            sha256,
            content_type: ctype.into(),
            size,
        }),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CaptureRequest {
    /// The page to archive now (http or https).
    pub url: String,
}

/// "Capture now": fetches the page into the WARC evidence store and takes a screenshot with
/// headless Chromium (when installed); use the returned `url` as the task's `evidence_url`.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/capture", tag = "campaigns", request_body = CaptureRequest,
    params(("id" = i64, Path, description = "Task id")),
    responses(
        (status = 201, description = "Captured", body = crate::evidence::Capture),
        (status = 403, description = "Not the task's evaluator", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "Nothing could be fetched", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The server has no data directory", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn capture(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(r): ApiJson<CaptureRequest>,
) -> Result<(StatusCode, Json<crate::evidence::Capture>), Problem> {
    caller.require(Action::EnterValues)?;
    let c = crate::evidence::capture(&state, &caller, id, r.url.trim()).await?;
    Ok((StatusCode::CREATED, Json(c)))
}

/// The agreement of the double-coded sample per indicator, as CSV (UTF-8 with BOM for Excel).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/agreement.csv", tag = "campaigns",
    params(("id" = i64, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "CSV", content_type = "text/csv"),
        (status = 404, description = "No such campaign", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn agreement_csv(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, Problem> {
    caller.require(Action::ReadCampaigns)?;
    let s = c::load(&state, id).await?;
    let all = c::tasks(&state, id, &TaskFilter::default()).await?;
    let mut out = String::from(govcap_io::export::csv_bom());
    out.push_str("indicator,name_zh,rule,pairs,percent_agreement,statistic,value\n");
    for a in c::agreement(&s, &all) {
        let cells = [
            a["indicator"].as_str().unwrap_or("").to_string(),
            a["name_zh"].as_str().unwrap_or("").to_string(),
            a["rule"].as_str().unwrap_or("").to_string(),
            a["pairs"].to_string(),
            a["percent_agreement"]
                .as_f64()
                .map(|v| v.to_string())
                .unwrap_or_default(),
            a["statistic"].as_str().unwrap_or("").to_string(),
            a["value"]
                .as_f64()
                .map(|v| v.to_string())
                .unwrap_or_default(),
        ];
        let line: Vec<String> = cells
            .iter()
            .map(|c| crate::pages::staff::csv_cell(c))
            .collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_string(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"campaign-{id}-agreement.csv\""),
            ),
        ],
        out,
    )
        .into_response())
}
