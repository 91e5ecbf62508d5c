//! Account management shared by `govcap users …` and the admin API: validation, password
//! hashing and the audit entry, in one place.

use std::sync::Arc;

use govcap_core::access::Role;
use govcap_store::workspace::{self, NewUser, User};
use govcap_store::{Store, StoreError};
use serde_json::json;

use crate::audit::{self, Actor};
use crate::pool::{PoolError, StorePool};

/// A checked request for a new account.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub name: String,
    pub role: Role,
    pub units: Vec<String>,
    pub password: String,
}

pub const MIN_PASSWORD: usize = 10;

impl NewAccount {
    /// Refuses what would make a bad account, in words a user can act on.
    pub fn check(name: &str, role: &str, units: &[String], password: &str) -> Result<Self, String> {
        check_name(name)?;
        let role: Role = role
            .parse()
            .map_err(|e: govcap_core::access::UnknownRole| e.to_string())?;
        let units: Vec<String> = units
            .iter()
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty())
            .collect();
        if role == Role::Unit && units.is_empty() {
            return Err(
                "a `unit` account needs the unit codes it represents (--units CODE,…)".into(),
            );
        }
        if role != Role::Unit && !units.is_empty() {
            return Err(format!(
                "only `unit` accounts have unit codes; a {role} account sees all units"
            ));
        }
        if let Some(bad) = units
            .iter()
            .find(|u| u.len() > 20 || !u.chars().all(|c| c.is_ascii_alphanumeric()))
        {
            return Err(format!(
                "unit code {:?} is not a code (letters and digits)",
                clip(bad)
            ));
        }
        check_password(password)?;
        Ok(NewAccount {
            name: name.to_string(),
            role,
            units,
            password: password.to_string(),
        })
    }
}

pub fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.chars().count() <= 64
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "user name {:?}: use 1–64 letters, digits, `.`, `_`, `-` or `@`",
            clip(name)
        ))
    }
}

pub fn check_password(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_PASSWORD {
        return Err(format!(
            "the password is too short: at least {MIN_PASSWORD} characters"
        ));
    }
    if password.len() > 1024 {
        return Err("the password is too long: at most 1024 bytes".into());
    }
    Ok(())
}

fn clip(s: &str) -> String {
    s.chars().take(40).collect()
}

fn hash(password: &str) -> Result<String, StoreError> {
    crate::auth::hash_password(password)
        .map_err(|e| StoreError::Corrupt(format!("password hashing failed: {e}")))
}

fn user_json(u: &User) -> serde_json::Value {
    json!({"name": u.name, "role": u.role, "units": u.units, "disabled": u.disabled})
}

/// Adds an account (blocking; the CLI calls it directly).
pub fn add_blocking(
    store: &mut dyn Store,
    actor: &Actor,
    new: &NewAccount,
) -> Result<User, StoreError> {
    let h = hash(&new.password)?;
    govcap_store::transact(store, true, |tx| {
        let u = workspace::create_user(
            tx,
            &NewUser {
                name: &new.name,
                role: new.role.as_str(),
                units: &new.units,
                password_hash: &h,
                now: &crate::clock::now(),
            },
        )?;
        audit::record(
            tx,
            actor,
            "user.add",
            &format!("user/{}", u.name),
            None,
            Some(user_json(&u)),
        )?;
        Ok(u)
    })
}

/// Disables or enables an account (blocking).
pub fn set_disabled_blocking(
    store: &mut dyn Store,
    actor: &Actor,
    name: &str,
    disabled: bool,
) -> Result<User, StoreError> {
    govcap_store::transact(store, true, |tx| {
        if disabled {
            if actor.name == name {
                return Err(StoreError::Conflict(
                    "you cannot disable your own account".into(),
                ));
            }
            let users = workspace::list_users(tx)?;
            let target_is_admin = users
                .iter()
                .any(|u| u.name == name && u.role == "admin" && !u.disabled);
            let other_admins = users
                .iter()
                .filter(|u| u.name != name && u.role == "admin" && !u.disabled)
                .count();
            if target_is_admin && other_admins == 0 {
                return Err(StoreError::Conflict(format!(
                    "{name} is the last active admin; add another admin first"
                )));
            }
        }
        let before = workspace::set_disabled(tx, name, disabled, &crate::clock::now())?;
        let after = workspace::find_user(tx, name)?
            .ok_or_else(|| StoreError::NotFound(format!("user {name:?}")))?;
        audit::record(
            tx,
            actor,
            if disabled {
                "user.disable"
            } else {
                "user.enable"
            },
            &format!("user/{name}"),
            Some(user_json(&before)),
            Some(user_json(&after)),
        )?;
        Ok(after)
    })
}

/// Sets a new password and ends the account's sessions (blocking).
pub fn passwd_blocking(
    store: &mut dyn Store,
    actor: &Actor,
    name: &str,
    password: &str,
) -> Result<User, StoreError> {
    let h = hash(password)?;
    govcap_store::transact(store, true, |tx| {
        let before = workspace::set_password(tx, name, &h, &crate::clock::now())?;
        // The hashes never enter the log: only that the password changed.
        audit::record(
            tx,
            actor,
            "user.passwd",
            &format!("user/{name}"),
            None,
            Some(json!({"password": "changed", "sessions": "ended"})),
        )?;
        Ok(before)
    })
}

pub async fn add(pool: &Arc<StorePool>, actor: Actor, new: NewAccount) -> Result<User, PoolError> {
    pool.with(move |s| add_blocking(s, &actor, &new)).await
}

pub async fn disable(pool: &Arc<StorePool>, actor: Actor, name: &str) -> Result<User, PoolError> {
    let name = name.to_string();
    pool.with(move |s| set_disabled_blocking(s, &actor, &name, true))
        .await
}
