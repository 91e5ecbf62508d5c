//! Logging in and out: plain functions shared by the API and the login page.

use govcap_core::access::Role;
use govcap_store::workspace::{self, User};
use serde_json::json;

use crate::audit::{self, Actor};
use crate::auth::{self, Caller, Via, COOKIE};
use crate::problem::Problem;
use crate::state::AppState;

/// A new session: the cookie value for the client and its CSRF token.
pub struct LoggedIn {
    pub cookie: String,
    pub csrf_token: String,
    pub user: User,
}

/// Checks the password (throttled per account and per address) and opens a session.
pub async fn login(
    state: &AppState,
    caller: &Caller,
    username: &str,
    password: &str,
) -> Result<LoggedIn, Problem> {
    use std::sync::atomic::Ordering::Relaxed;
    if username.is_empty() || username.len() > 200 || password.len() > 1024 {
        return Err(Problem::new(
            axum::http::StatusCode::UNAUTHORIZED,
            "wrong user name or password",
        ));
    }
    if let Some(wait) = state.throttle.blocked(username, &caller.address) {
        state.metrics.logins_throttled.fetch_add(1, Relaxed);
        return Err(Problem::too_many(wait));
    }
    let name = username.to_string();
    let user = state
        .pool
        .tx(false, move |tx| workspace::find_user(tx, &name))
        .await?;
    let hash = user
        .as_ref()
        .filter(|u| !u.disabled)
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| auth::decoy_hash().to_string());
    let pw = password.to_string();
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&hash, &pw))
        .await
        .unwrap_or(false);
    let user = match user {
        Some(u) if ok && !u.disabled => u,
        _ => {
            state.throttle.fail(username, &caller.address);
            state.metrics.logins_failed.fetch_add(1, Relaxed);
            let actor = Actor {
                name: "-".into(),
                role: "-".into(),
                request_id: caller.request_id.clone(),
            };
            let (object, addr) = (format!("user/{}", clip(username)), caller.address.clone());
            state
                .pool
                .tx(true, move |tx| {
                    audit::record(
                        tx,
                        &actor,
                        "session.login_failed",
                        &object,
                        None,
                        Some(json!({"address": addr})),
                    )
                })
                .await?;
            return Err(Problem::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "wrong user name or password",
            ));
        }
    };
    state.throttle.succeed(username);
    let cookie = auth::random_secret();
    let csrf = auth::random_secret();
    let id_hash = auth::sha256_hex(&cookie);
    let lifetime = state.config.session_lifetime;
    let (uid, c2, addr) = (user.id, csrf.clone(), caller.address.clone());
    let actor = Actor {
        name: user.name.clone(),
        role: user.role.clone(),
        request_id: caller.request_id.clone(),
    };
    let object = format!("user/{}", user.name);
    state
        .pool
        .tx(true, move |tx| {
            let now = crate::clock::now();
            let expires = crate::clock::rfc3339_in(lifetime, false);
            workspace::create_session(tx, &id_hash, uid, &c2, &now, &expires)?;
            audit::record(
                tx,
                &actor,
                "session.login",
                &object,
                None,
                Some(json!({"address": addr, "expires_at": expires})),
            )?;
            Ok(())
        })
        .await?;
    Ok(LoggedIn {
        cookie,
        csrf_token: csrf,
        user,
    })
}

/// Ends the caller's session (no-op for token or anonymous callers).
pub async fn logout(state: &AppState, caller: &Caller) -> Result<bool, Problem> {
    let Via::Session { id_hash, .. } = &caller.via else {
        return Ok(false);
    };
    let (h, actor) = (id_hash.clone(), Actor::of(caller));
    let object = format!("user/{}", caller.name());
    Ok(state
        .pool
        .tx(true, move |tx| {
            let ended = workspace::end_session(tx, &h, &crate::clock::now())?;
            if ended {
                audit::record(tx, &actor, "session.logout", &object, None, None)?;
            }
            Ok(ended)
        })
        .await?)
}

/// The `Set-Cookie` value for a session (empty `value` and `Max-Age=0` clear it).
pub fn set_cookie(state: &AppState, value: &str) -> String {
    let max_age = if value.is_empty() {
        0
    } else {
        state.config.session_lifetime.as_secs()
    };
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    format!("{COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

/// A user as shown to themselves and to admins (never the password hash).
pub fn user_json(u: &User) -> serde_json::Value {
    json!({
        "name": u.name,
        "role": u.role,
        "role_zh": u.role.parse::<Role>().map(Role::name_zh).unwrap_or(""),
        "units": u.units,
        "disabled": u.disabled,
    })
}

/// A name as it may appear in the log: at most 64 characters.
fn clip(s: &str) -> String {
    s.chars().take(64).collect()
}
