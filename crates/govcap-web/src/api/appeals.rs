//! `/api/v1/campaigns/{id}/provisional` and `/api/v1/campaigns/{id}/appeals`: what an
//! evaluated unit reads during appeals (its own only), and the lead's list of appeals.

use axum::extract::{Path, State};
use axum::Json;
use serde::Serialize;

use crate::auth::Caller;
use crate::campaigns::{self as c, ProvisionalUnit};
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Provisional {
    /// The draft run computed when appeals opened; `null` when there is none.
    pub run_id: Option<i64>,
    pub units: Vec<ProvisionalUnit>,
}

/// Provisional scores from the values confirmed when the lead opened appeals. A unit's
/// representative sees its own units only, and nothing before appeals open (404).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/provisional", tag = "campaigns",
    params(("id" = i64, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "Provisional scores", body = Provisional),
        (status = 404, description = "No such campaign visible to the caller", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn provisional(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Provisional>, Problem> {
    let p = c::provisional(&state, &caller, id).await?;
    Ok(Json(match p {
        Some((run_id, units)) => Provisional {
            run_id: Some(run_id),
            units,
        },
        None => Provisional {
            run_id: None,
            units: Vec::new(),
        },
    }))
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AppealItem {
    /// The appeal's id, for `POST /api/v1/appeals/{id}/decision`.
    pub id: i64,
    pub task: i64,
    pub unit: String,
    pub indicator: String,
    /// The value appealed against (or, once upheld and re-entered, the new one).
    pub value: Option<String>,
    pub by: String,
    pub at: String,
    pub reason: String,
    /// The counter-evidence.
    pub evidence_url: Option<String>,
    /// `open`, `upheld` or `rejected`.
    pub status: String,
    pub decision_note: Option<String>,
}

/// Appeals, newest first: a unit's representative sees its own units' only.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/appeals", tag = "campaigns",
    params(("id" = i64, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "Appeals", body = Vec<AppealItem>),
        (status = 404, description = "No such campaign visible to the caller", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Vec<AppealItem>>, Problem> {
    let (_, values) = c::visible_values(&state, &caller, id).await?;
    Ok(Json(
        c::appeals_of(&values)
            .into_iter()
            .map(|(t, a)| AppealItem {
                id: a.id,
                task: t.id,
                unit: t.unit.clone(),
                indicator: t.indicator.clone(),
                value: t.state.value.clone(),
                by: a.by.clone(),
                at: a.at.clone(),
                reason: a.reason.clone(),
                evidence_url: a.evidence_url.clone(),
                status: match a.decision {
                    None => "open",
                    Some((true, _)) => "upheld",
                    Some((false, _)) => "rejected",
                }
                .into(),
                decision_note: a.decision.as_ref().map(|d| d.1.clone()),
            })
            .collect(),
    ))
}
