//! `/api/v1/monitor/…`: recorded monitor runs and early-warning alerts (the team only).

use axum::extract::{Query, State};
use axum::Json;
use govcap_core::access::Action;
use govcap_store::AlertFilter;
use serde::{Deserialize, Serialize};

use super::{PageQuery, Paged};
use crate::auth::Caller;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MonitorRunItem {
    pub id: i64,
    pub started_at: String,
    pub as_of: String,
    pub findings: usize,
    pub alerts: usize,
}

/// Recorded monitor runs, newest first.
#[utoipa::path(get, path = "/api/v1/monitor/runs", tag = "monitor", params(PageQuery),
    responses(
        (status = 200, description = "One page of monitor runs", body = Paged<MonitorRunItem>),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a member of the evaluation team", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn runs(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<PageQuery>,
) -> Result<Json<Paged<MonitorRunItem>>, Problem> {
    caller.require(Action::ReadMonitoring)?;
    q.bounds()?;
    let mut runs = state.pool.with(|s| s.list_monitor_runs()).await?;
    runs.reverse();
    let items: Vec<MonitorRunItem> = runs
        .into_iter()
        .map(|r| MonitorRunItem {
            id: r.id,
            started_at: r.started_at,
            as_of: r.as_of,
            findings: r.findings,
            alerts: r.alerts,
        })
        .collect();
    Ok(Json(q.slice(&items)?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// Only this unit code.
    pub code: Option<String>,
    /// Only this rule, e.g. `unreachable`.
    pub rule: Option<String>,
    /// Only alerts seen at or after this date (YYYY-MM-DD or RFC 3339).
    pub since: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AlertItem {
    pub id: i64,
    pub run_id: i64,
    pub code: String,
    pub rule: String,
    pub severity: String,
    pub message_zh: String,
    pub message_en: String,
    pub first_seen: String,
    pub last_seen: String,
    pub value: f64,
    /// WARC record ids of the evidence.
    pub evidence: Vec<String>,
}

/// Early-warning alerts, newest first.
#[utoipa::path(get, path = "/api/v1/monitor/alerts", tag = "monitor", params(AlertQuery),
    responses(
        (status = 200, description = "One page of alerts", body = Paged<AlertItem>),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a member of the evaluation team", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn alerts(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<AlertQuery>,
) -> Result<Json<Paged<AlertItem>>, Problem> {
    caller.require(Action::ReadMonitoring)?;
    let page = PageQuery {
        page: q.page,
        per_page: q.per_page,
    };
    page.bounds()?;
    let filter = AlertFilter {
        code: q.code.filter(|s| !s.is_empty()),
        rule: q.rule.filter(|s| !s.is_empty()),
        since: q.since.filter(|s| !s.is_empty()),
    };
    let mut alerts = state.pool.with(move |s| s.list_alerts(&filter)).await?;
    alerts.reverse();
    let items: Vec<AlertItem> = alerts
        .into_iter()
        .map(|a| AlertItem {
            id: a.id,
            run_id: a.run_id,
            code: a.alert.code,
            rule: a.alert.rule,
            severity: a.alert.severity,
            message_zh: a.alert.message_zh,
            message_en: a.alert.message_en,
            first_seen: a.alert.first_seen,
            last_seen: a.alert.last_seen,
            value: if a.alert.value.is_finite() {
                a.alert.value
            } else {
                0.0
            },
            evidence: a.alert.evidence,
        })
        .collect();
    Ok(Json(page.slice(&items)?))
}
