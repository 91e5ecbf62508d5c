//! `/api/v1/users`: accounts (admin only). The CLI (`govcap users`) does the same through
//! [`crate::users`].

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use govcap_core::access::Action;
use govcap_store::workspace;
use serde::{Deserialize, Serialize};

use super::ApiJson;
use crate::audit::Actor;
use crate::auth::Caller;
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserItem {
    pub name: String,
    pub role: String,
    pub units: Vec<String>,
    pub disabled: bool,
    pub created_at: String,
}

fn item(u: &workspace::User) -> UserItem {
    UserItem {
        name: u.name.clone(),
        role: u.role.clone(),
        units: u.units.clone(),
        disabled: u.disabled,
        created_at: u.created_at.clone(),
    }
}

/// All accounts.
#[utoipa::path(get, path = "/api/v1/users", tag = "users",
    responses(
        (status = 200, description = "All accounts", body = Vec<UserItem>),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<UserItem>>, Problem> {
    caller.require(Action::ManageUsers)?;
    let users = state.pool.tx(false, workspace::list_users).await?;
    Ok(Json(users.iter().map(item).collect()))
}

/// The five roles.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoleName {
    Admin,
    Lead,
    Evaluator,
    Reviewer,
    Unit,
}

impl RoleName {
    fn as_str(self) -> &'static str {
        match self {
            RoleName::Admin => "admin",
            RoleName::Lead => "lead",
            RoleName::Evaluator => "evaluator",
            RoleName::Reviewer => "reviewer",
            RoleName::Unit => "unit",
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewUserRequest {
    pub name: String,
    pub role: RoleName,
    /// Unit codes, for role `unit` (required there, refused otherwise).
    #[serde(default)]
    pub units: Vec<String>,
    /// At least 10 characters.
    pub password: String,
}

/// Adds an account.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = NewUserRequest,
    responses(
        (status = 201, description = "Created", body = UserItem),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The name is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<NewUserRequest>,
) -> Result<(StatusCode, Json<UserItem>), Problem> {
    caller.require(Action::ManageUsers)?;
    let new =
        crate::users::NewAccount::check(&req.name, req.role.as_str(), &req.units, &req.password)
            .map_err(|e| Problem::new(StatusCode::UNPROCESSABLE_ENTITY, e))?;
    let u = crate::users::add(&state.pool, Actor::of(&caller), new).await?;
    Ok((StatusCode::CREATED, Json(item(&u))))
}

/// Disables an account: its sessions end and its tokens stop working.
#[utoipa::path(post, path = "/api/v1/users/{name}/disable", tag = "users",
    params(("name" = String, Path, description = "Account name")),
    responses(
        (status = 200, description = "Disabled", body = UserItem),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such account", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Your own account, or the last active admin", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn disable(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<UserItem>, Problem> {
    caller.require(Action::ManageUsers)?;
    let u = crate::users::disable(&state.pool, Actor::of(&caller), &name).await?;
    Ok(Json(item(&u)))
}
