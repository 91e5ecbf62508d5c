//! `GET /api/v1/audit-log` and its chain check.

use axum::extract::{Query, State};
use axum::Json;
use govcap_core::access::Action;
use govcap_store::workspace::{self, AuditEntry, AuditQuery};
use serde::{Deserialize, Serialize};

use crate::auth::Caller;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// Only entries before this sequence number (the previous page's `next_before`).
    pub before: Option<i64>,
    /// Only this action, e.g. `run.publish`.
    pub action: Option<String>,
    /// Only this actor.
    pub actor: Option<String>,
    /// Entries per page (1–1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LogEntry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub object: String,
    /// JSON text of the object before, if any.
    pub before: Option<String>,
    /// JSON text of the object after, if any.
    pub after: Option<String>,
    pub request_id: String,
    pub prev_hash: String,
    pub hash: String,
}

pub fn entry(e: &AuditEntry) -> LogEntry {
    LogEntry {
        seq: e.seq,
        at: e.entry.at.clone(),
        actor: e.entry.actor.clone(),
        role: e.entry.role.clone(),
        action: e.entry.action.clone(),
        object: e.entry.object.clone(),
        before: e.entry.before.clone(),
        after: e.entry.after.clone(),
        request_id: e.entry.request_id.clone(),
        prev_hash: e.prev_hash.clone(),
        hash: e.hash.clone(),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LogPage {
    /// Newest first.
    pub items: Vec<LogEntry>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}

pub async fn entries(state: &AppState, q: LogQuery) -> Result<Vec<AuditEntry>, Problem> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(Problem::bad_request("limit must be between 1 and 1000"));
    }
    let query = AuditQuery {
        before_seq: q.before,
        action: q.action.filter(|s| !s.is_empty()),
        actor: q.actor.filter(|s| !s.is_empty()),
        limit,
    };
    Ok(state
        .pool
        .tx(false, move |tx| workspace::audit_entries(tx, &query))
        .await?)
}

/// The audit trail, newest first (cursor-paginated).
#[utoipa::path(get, path = "/api/v1/audit-log", tag = "audit", params(LogQuery),
    responses(
        (status = 200, description = "One page of entries", body = LogPage),
        (status = 403, description = "The caller's role may not read the audit trail", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<LogQuery>,
) -> Result<Json<LogPage>, Problem> {
    caller.require(Action::ReadAuditLog)?;
    let limit = q.limit.unwrap_or(100);
    let items = entries(&state, q).await?;
    let next_before = if items.len() as i64 == limit {
        items.last().map(|e| e.seq)
    } else {
        None
    };
    Ok(Json(LogPage {
        items: items.iter().map(entry).collect(),
        next_before,
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChainCheck {
    pub entries: i64,
    pub head_hash: String,
    pub intact: bool,
    pub problems: Vec<String>,
}

/// Recomputes the hash chain: whether any entry was changed or removed.
#[utoipa::path(get, path = "/api/v1/audit-log/verify", tag = "audit",
    responses(
        (status = 200, description = "The chain's state", body = ChainCheck),
        (status = 403, description = "The caller's role may not read the audit trail", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn verify(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ChainCheck>, Problem> {
    caller.require(Action::ReadAuditLog)?;
    let r = state.pool.tx(false, workspace::verify_audit).await?;
    Ok(Json(ChainCheck {
        entries: r.entries,
        head_hash: r.head_hash,
        intact: r.problems.is_empty(),
        problems: r.problems,
    }))
}
