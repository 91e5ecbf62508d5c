//! `GET/POST /api/v1/tokens`, `DELETE /api/v1/tokens/{id}`: API tokens for scripts.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use govcap_core::access::Action;
use govcap_store::workspace::{self, ApiToken};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::ApiJson;
use crate::audit::{self, Actor};
use crate::auth::{self, Caller};
use crate::problem::Problem;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct NewToken {
    /// What the token is for, e.g. "nightly import".
    #[serde(default)]
    pub label: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenInfo {
    pub id: i64,
    pub label: String,
    /// The token's first characters, to tell tokens apart.
    pub prefix: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    /// Shown once: store it now. Send it as `Authorization: Bearer …`.
    pub token: String,
    #[serde(flatten)]
    pub info: TokenInfo,
}

fn info(t: &ApiToken) -> TokenInfo {
    TokenInfo {
        id: t.id,
        label: t.label.clone(),
        prefix: t.prefix.clone(),
        created_at: t.created_at.clone(),
        revoked_at: t.revoked_at.clone(),
    }
}

/// Creates a token with the caller's role; the token is in this response only.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = NewToken,
    responses(
        (status = 201, description = "Created", body = CreatedToken),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), Problem> {
    caller.require(Action::ManageOwnTokens)?;
    let user = caller.user.clone().ok_or_else(Problem::unauthorized)?;
    if req.label.chars().count() > 200 {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "label: at most 200 characters",
        ));
    }
    let token = format!("gct_{}", auth::random_secret());
    let hash = auth::sha256_hex(&token);
    let prefix: String = token.chars().take(10).collect();
    let actor = Actor::of(&caller);
    let label = req.label;
    let t = state
        .pool
        .tx(true, move |tx| {
            let t =
                workspace::create_token(tx, user.id, &hash, &label, &prefix, &crate::clock::now())?;
            audit::record(
                tx,
                &actor,
                "token.create",
                &format!("token/{}", t.id),
                None,
                Some(json!({"label": t.label, "prefix": t.prefix, "user": user.name})),
            )?;
            Ok(t)
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            token,
            info: info(&t),
        }),
    ))
}

/// The caller's tokens (never the secrets).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens",
    responses(
        (status = 200, description = "The caller's tokens", body = Vec<TokenInfo>),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<TokenInfo>>, Problem> {
    caller.require(Action::ManageOwnTokens)?;
    let uid = caller.user.as_ref().ok_or_else(Problem::unauthorized)?.id;
    let tokens = state
        .pool
        .tx(false, move |tx| workspace::list_tokens(tx, uid))
        .await?;
    Ok(Json(tokens.iter().map(info).collect()))
}

/// Revokes one of the caller's tokens.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens",
    params(("id" = i64, Path, description = "Token id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such live token of the caller", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, Problem> {
    caller.require(Action::ManageOwnTokens)?;
    let uid = caller.user.as_ref().ok_or_else(Problem::unauthorized)?.id;
    let actor = Actor::of(&caller);
    let done = state
        .pool
        .tx(true, move |tx| {
            let t = workspace::revoke_token(tx, uid, id, &crate::clock::now())?;
            if let Some(t) = &t {
                audit::record(
                    tx,
                    &actor,
                    "token.revoke",
                    &format!("token/{}", t.id),
                    Some(json!({"revoked_at": null})),
                    Some(json!({"revoked_at": t.revoked_at})),
                )?;
            }
            Ok(t.is_some())
        })
        .await?;
    if done {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found(format!("live token {id} of yours")))
    }
}
