//! `govcap serve`, `govcap users …` and `govcap log verify`: the team workspace's commands.

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use govcap_store::workspace;
use govcap_web::audit::Actor;
use govcap_web::users::{self, NewAccount};

use crate::{user_error, DbArgs};

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// SQLite file, or a postgres:// URL. Default: govcap.db, or the demo's
    /// govcap-demo/govcap.db when only that exists.
    #[arg(long, env = "GOVCAP_DB")]
    pub db: Option<String>,
    /// Address to listen on (loopback by default; put a TLS proxy in front for a network).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Directory for uploaded files and captured evidence.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Mark the session cookie Secure: set this when users reach the server over HTTPS.
    #[arg(long)]
    pub secure_cookies: bool,
    /// Let evaluators' "capture now" fetch loopback and private addresses (intranet portals).
    #[arg(long)]
    pub capture_private: bool,
    /// Minutes of inactivity after which a session ends.
    #[arg(long, default_value_t = 30)]
    pub idle_minutes: u64,
    /// Log as human-readable lines instead of JSON.
    #[arg(long)]
    pub plain_logs: bool,
    /// Database connections at most (blocking threads that talk to the store).
    #[arg(long, default_value_t = 8)]
    pub db_connections: usize,
}

pub fn serve(a: ServeArgs) -> anyhow::Result<()> {
    govcap_web::init_logging(!a.plain_logs);
    if let Some(d) = &a.data_dir {
        std::fs::create_dir_all(d).map_err(|e| {
            crate::UserError(format!(
                "cannot create the data directory {}: {e}",
                d.display()
            ))
        })?;
    }
    let db = match a.db {
        Some(db) => db,
        None => {
            let demo = std::path::Path::new("govcap-demo").join("govcap.db");
            if !std::path::Path::new("govcap.db").exists() && demo.exists() {
                eprintln!(
                    "govcap serve: using the demo's database {} (pass --db to choose another)",
                    demo.display()
                );
                demo.display().to_string()
            } else {
                "govcap.db".to_string()
            }
        }
    };
    let pool = govcap_web::pool::StorePool::for_target(&db, a.db_connections)?;
    let config = govcap_web::Config {
        idle_timeout: std::time::Duration::from_secs(a.idle_minutes.max(1) * 60),
        secure_cookies: a.secure_cookies,
        capture_private: a.capture_private,
        data_dir: a.data_dir,
        ..Default::default()
    };
    let state = govcap_web::AppState::new(pool, config);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(govcap_web::serve(state, a.listen, |addr| {
        eprintln!("govcap serve: listening on http://{addr}/ (Ctrl-C stops)");
    }))?;
    Ok(())
}

#[derive(Subcommand, Debug)]
pub enum UsersCommand {
    /// Add an account; the password is read from standard input.
    Add(UsersAddArgs),
    /// List accounts.
    List(DbArgs),
    /// Disable an account: its sessions end and its API tokens stop working.
    Disable {
        name: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Re-enable a disabled account.
    Enable {
        name: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Set a new password (from standard input); the account's sessions end.
    Passwd {
        name: String,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Args, Debug)]
pub struct UsersAddArgs {
    pub name: String,
    /// admin, lead, evaluator, reviewer or unit.
    #[arg(long)]
    pub role: String,
    /// For role unit: the unit codes represented, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub units: Vec<String>,
    /// Read the password from standard input (required: passwords never go on the command line).
    #[arg(long, required = true)]
    pub password_stdin: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

fn read_password() -> anyhow::Result<String> {
    let mut s = String::new();
    std::io::stdin().take(4096).read_to_string(&mut s)?;
    let pw = s.trim_end_matches(['\n', '\r']).to_string();
    if let Err(e) = users::check_password(&pw) {
        return user_error(e);
    }
    Ok(pw)
}

fn cli_actor() -> Actor {
    Actor {
        name: std::env::var("USER")
            .map(|u| format!("cli:{u}"))
            .unwrap_or_else(|_| "cli".into()),
        role: "admin".into(),
        request_id: "cli".into(),
    }
}

fn not_found_is_user_error(e: govcap_store::StoreError) -> anyhow::Error {
    match e {
        govcap_store::StoreError::NotFound(_) | govcap_store::StoreError::Conflict(_) => {
            crate::UserError(e.to_string()).into()
        }
        other => other.into(),
    }
}

pub fn users(c: UsersCommand) -> anyhow::Result<()> {
    match c {
        UsersCommand::Add(a) => {
            let pw = read_password()?;
            let new = match NewAccount::check(&a.name, &a.role, &a.units, &pw) {
                Ok(n) => n,
                Err(e) => return user_error(e),
            };
            let mut store = govcap_store::open(&a.db.db)?;
            let u = users::add_blocking(store.as_mut(), &cli_actor(), &new)
                .map_err(not_found_is_user_error)?;
            println!(
                "added {} ({}{})",
                u.name,
                u.role,
                if u.units.is_empty() {
                    String::new()
                } else {
                    format!(", units {}", u.units.join(","))
                }
            );
        }
        UsersCommand::List(db) => {
            let mut store = govcap_store::open(&db.db)?;
            let list = govcap_store::transact(store.as_mut(), false, workspace::list_users)?;
            println!(
                "{:<24} {:<10} {:<9} {:<20} units",
                "name", "role", "state", "created"
            );
            for u in list {
                println!(
                    "{:<24} {:<10} {:<9} {:<20} {}",
                    u.name,
                    u.role,
                    if u.disabled { "disabled" } else { "active" },
                    u.created_at,
                    u.units.join(",")
                );
            }
        }
        UsersCommand::Disable { name, db } => {
            let mut store = govcap_store::open(&db.db)?;
            users::set_disabled_blocking(store.as_mut(), &cli_actor(), &name, true)
                .map_err(not_found_is_user_error)?;
            println!("disabled {name}: its sessions ended and its API tokens no longer work");
        }
        UsersCommand::Enable { name, db } => {
            let mut store = govcap_store::open(&db.db)?;
            users::set_disabled_blocking(store.as_mut(), &cli_actor(), &name, false)
                .map_err(not_found_is_user_error)?;
            println!("enabled {name}");
        }
        UsersCommand::Passwd { name, db, .. } => {
            let pw = read_password()?;
            let mut store = govcap_store::open(&db.db)?;
            users::passwd_blocking(store.as_mut(), &cli_actor(), &name, &pw)
                .map_err(not_found_is_user_error)?;
            println!("new password set for {name}; its sessions ended");
        }
    }
    Ok(())
}

#[derive(Subcommand, Debug)]
pub enum LogCommand {
    /// Check the audit trail's hash chain: exit 0 when intact, 1 when an entry was changed or removed.
    Verify(DbArgs),
}

pub fn log(c: LogCommand) -> anyhow::Result<std::process::ExitCode> {
    match c {
        LogCommand::Verify(db) => {
            let mut store = govcap_store::open(&db.db)?;
            let r = govcap_store::transact(store.as_mut(), false, workspace::verify_audit)?;
            if r.problems.is_empty() {
                println!(
                    "audit log intact: {} entries, head {}",
                    r.entries, r.head_hash
                );
                println!("(keep the head hash elsewhere: a later check that shows it proves nothing before it changed)");
                Ok(std::process::ExitCode::SUCCESS)
            } else {
                println!(
                    "audit log BROKEN: {} entries, {} problem(s):",
                    r.entries,
                    r.problems.len()
                );
                for p in &r.problems {
                    println!("  - {p}");
                }
                Ok(std::process::ExitCode::from(1))
            }
        }
    }
}
