//! `POST/GET/DELETE /api/v1/session`.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use govcap_core::access::Action;
use serde::{Deserialize, Serialize};

use super::ApiJson;
use crate::auth::Caller;
use crate::problem::Problem;
use crate::session as s;
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionUser {
    pub name: String,
    /// admin, lead, evaluator, reviewer or unit.
    pub role: String,
    /// For unit accounts: the unit codes represented.
    pub units: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    /// Send this as `X-CSRF-Token` on every unsafe request made with the session cookie.
    pub csrf_token: String,
    pub user: SessionUser,
}

fn session_user(u: &govcap_store::workspace::User) -> SessionUser {
    SessionUser {
        name: u.name.clone(),
        role: u.role.clone(),
        units: u.units.clone(),
    }
}

/// Log in: sets the `govcap_session` cookie (HttpOnly, SameSite=Lax).
#[utoipa::path(post, path = "/api/v1/session", tag = "session", request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in; the cookie is set", body = LoginResponse),
        (status = 401, description = "Wrong user name or password", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed logins for this account or address", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Response, Problem> {
    caller.require(Action::Session)?;
    let done = s::login(&state, &caller, &req.username, &req.password).await?;
    let body = LoginResponse {
        csrf_token: done.csrf_token,
        user: session_user(&done.user),
    };
    Ok((
        [(header::SET_COOKIE, s::set_cookie(&state, &done.cookie))],
        Json(body),
    )
        .into_response())
}

/// Who is logged in, and the session's CSRF token.
#[utoipa::path(get, path = "/api/v1/session", tag = "session",
    responses(
        (status = 200, description = "The caller", body = LoginResponse),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn current(caller: Caller) -> Result<Json<LoginResponse>, Problem> {
    caller.require(Action::ManageOwnTokens)?;
    let user = caller.user.as_ref().ok_or_else(Problem::unauthorized)?;
    Ok(Json(LoginResponse {
        csrf_token: caller.csrf().unwrap_or_default().to_string(),
        user: session_user(user),
    }))
}

/// Log out: ends the session on the server and clears the cookie.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session",
    responses(
        (status = 204, description = "Logged out (also when there was no session)"),
        (status = 403, description = "Cookie session without the X-CSRF-Token header", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn remove(State(state): State<AppState>, caller: Caller) -> Result<Response, Problem> {
    caller.require(Action::Session)?;
    s::logout(&state, &caller).await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, s::set_cookie(&state, ""))],
    )
        .into_response())
}
