//! Who is calling: passwords, sessions, API tokens, CSRF and login throttling.
//!
//! A request is anonymous unless it carries a live `govcap_session` cookie or an
//! `Authorization: Bearer` token; anonymous requests never touch the database here, so public
//! pages stay cheap. Secrets are random 32-byte values the client holds; the store keeps only
//! their SHA-256, so a copy of the database logs nobody in.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, Method};
use base64::Engine;
use govcap_core::access::{allowed, Action, Role};
use govcap_store::workspace::{self, User};
use sha2::{Digest, Sha256};

use crate::problem::Problem;
use crate::state::AppState;

pub const COOKIE: &str = "govcap_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// argon2id with the crate's defaults (19 MiB, 2 passes), the OWASP baseline.
pub fn hash_password(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|e| e.to_string())?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash of a password nobody knows, verified when the user does not exist so that a wrong
/// name and a wrong password take the same time.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("govcap decoy password").unwrap_or_default())
}

/// 32 random bytes, URL-safe base64 (43 characters).
pub fn random_secret() -> String {
    let mut b = [0u8; 32];
    getrandom::getrandom(&mut b).expect("the operating system's random source is unavailable");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

pub fn sha256_hex(s: &str) -> String {
    let d = Sha256::digest(s.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Constant-time comparison for the CSRF token.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// How the caller proved who they are.
#[derive(Debug, Clone)]
pub enum Via {
    Anonymous,
    Session { id_hash: String, csrf: String },
    Token,
}

/// The caller of a request, resolved once per request by the extractor.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: Option<User>,
    pub role: Option<Role>,
    pub via: Via,
    pub request_id: String,
    pub address: String,
}

impl Caller {
    /// Refuses the request unless the policy table allows this caller the action: 401 for an
    /// anonymous caller (logging in may help), 403 for a signed-in one (it will not).
    pub fn require(&self, action: Action) -> Result<(), Problem> {
        if allowed(self.role, action) {
            return Ok(());
        }
        if self.user.is_none() {
            Err(Problem::unauthorized())
        } else {
            Err(Problem::forbidden(format!(
                "your role ({}) may not do this; it needs: {}",
                self.role.map_or("-", Role::as_str),
                action.describe_roles()
            )))
        }
    }

    pub fn name(&self) -> &str {
        self.user.as_ref().map_or("-", |u| u.name.as_str())
    }

    pub fn role_str(&self) -> &str {
        self.role.map_or("-", Role::as_str)
    }

    /// The CSRF token of the caller's session (forms embed it).
    pub fn csrf(&self) -> Option<&str> {
        match &self.via {
            Via::Session { csrf, .. } => Some(csrf),
            _ => None,
        }
    }

    /// For an HTML form post: a session caller must send the session's token in the form.
    pub fn check_form_csrf(&self, sent: &str) -> Result<(), Problem> {
        match &self.via {
            Via::Session { csrf, .. } if same_secret(csrf, sent) => Ok(()),
            Via::Session { .. } => Err(Problem::forbidden(
                "the form is out of date (missing or wrong CSRF token); reload the page and try again",
            )
            .page()),
            _ => Ok(()),
        }
    }
}

fn cookie_value<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn is_unsafe(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let request_id = parts
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_string();
        let address = parts
            .extensions
            .get::<ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "-".into());
        let mut caller = Caller {
            user: None,
            role: None,
            via: Via::Anonymous,
            request_id,
            address,
        };
        let is_api = parts.uri.path().starts_with("/api/");
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        if let Some(token) = bearer {
            let hash = sha256_hex(token);
            let user = state
                .pool
                .tx(false, move |tx| workspace::token_user(tx, &hash))
                .await?;
            let Some(user) = user else {
                return Err(Problem::new(
                    axum::http::StatusCode::UNAUTHORIZED,
                    "the API token is unknown, revoked, or its account is disabled",
                ));
            };
            caller.role = user.role.parse().ok();
            caller.user = Some(user);
            caller.via = Via::Token;
            return Ok(caller);
        }
        if let Some(sid) = cookie_value(parts, COOKIE) {
            let id_hash = sha256_hex(sid);
            let idle = state.config.idle_timeout;
            let h = id_hash.clone();
            let session = state
                .pool
                .tx(false, move |tx| {
                    let now = crate::clock::now();
                    let cutoff = crate::clock::rfc3339_in(idle, true);
                    workspace::live_session(tx, &h, &now, &cutoff)
                })
                .await?;
            // Move the idle clock at most once a minute: a page view is not a write.
            if let Some(s) = &session {
                if s.last_seen < crate::clock::rfc3339_in(Duration::from_secs(60), true) {
                    let h = id_hash.clone();
                    state
                        .pool
                        .tx(true, move |tx| {
                            workspace::touch_session(tx, &h, &crate::clock::now())
                        })
                        .await?;
                }
            }
            if let Some(s) = session {
                if is_api && is_unsafe(&parts.method) {
                    let sent = parts
                        .headers
                        .get(CSRF_HEADER)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    if !same_secret(&s.csrf_token, sent) {
                        return Err(Problem::forbidden(
                            "a request authenticated by the session cookie must send the session's CSRF token in the X-CSRF-Token header",
                        ));
                    }
                }
                caller.role = s.user.role.parse().ok();
                caller.user = Some(s.user);
                caller.via = Via::Session {
                    id_hash,
                    csrf: s.csrf_token,
                };
            }
        }
        Ok(caller)
    }
}

/// Failed-login throttling per account and per address, in memory (one server process).
///
/// After `limit` failures within `window`, further attempts are refused with 429 and
/// `Retry-After` until the oldest failure leaves the window. A success clears the account.
pub struct Throttle {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
    pub account_limit: usize,
    pub address_limit: usize,
    pub window: Duration,
}

impl Throttle {
    pub fn new(account_limit: usize, address_limit: usize, window: Duration) -> Self {
        Throttle {
            failures: Mutex::new(HashMap::new()),
            account_limit,
            address_limit,
            window,
        }
    }

    fn keys(account: &str, address: &str) -> [(String, bool); 2] {
        [
            (format!("a:{}", account.to_lowercase()), true),
            (format!("ip:{address}"), false),
        ]
    }

    /// Seconds to wait, if either key is over its limit.
    pub fn blocked(&self, account: &str, address: &str) -> Option<u64> {
        let now = Instant::now();
        let mut map = self.failures.lock().ok()?;
        let mut wait = None::<u64>;
        for (k, is_account) in Self::keys(account, address) {
            let limit = if is_account {
                self.account_limit
            } else {
                self.address_limit
            };
            if let Some(v) = map.get_mut(&k) {
                v.retain(|t| now.duration_since(*t) < self.window);
                if v.len() >= limit {
                    let oldest = v[v.len() - limit];
                    let left = self.window.saturating_sub(now.duration_since(oldest));
                    let secs = left.as_secs().max(1);
                    wait = Some(wait.map_or(secs, |w| w.max(secs)));
                }
            }
        }
        wait
    }

    pub fn fail(&self, account: &str, address: &str) {
        if let Ok(mut map) = self.failures.lock() {
            // Bound memory under a flood of made-up names: forget everything past 100,000 keys.
            if map.len() > 100_000 {
                map.clear();
            }
            for (k, _) in Self::keys(account, address) {
                map.entry(k).or_default().push(Instant::now());
            }
        }
    }

    pub fn succeed(&self, account: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(&format!("a:{}", account.to_lowercase()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(&h, "correct horse"));
        assert!(!verify_password(&h, "wrong"));
        assert!(!verify_password("not a hash", "x"));
    }

    #[test]
    fn throttle_blocks_after_the_limit_and_clears_on_success() {
        let t = Throttle::new(3, 10, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(t.blocked("alice", "1.2.3.4").is_none());
            t.fail("alice", "1.2.3.4");
        }
        let wait = t.blocked("alice", "1.2.3.4").unwrap();
        assert!((1..=60).contains(&wait));
        assert!(t.blocked("bob", "5.6.7.8").is_none());
        t.succeed("alice");
        assert!(t.blocked("alice", "9.9.9.9").is_none());
    }

    #[test]
    fn secrets_are_random_and_compared_in_full() {
        let a = random_secret();
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_secret());
        assert!(same_secret(&a, &a.clone()));
        assert!(!same_secret(&a, &a[..42]));
    }
}
