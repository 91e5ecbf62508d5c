//! An output folder of `govcap evaluate` / `govcap demo` as a handle on its recorded run.
//!
//! `run.json` names the run id and, for SQLite, the database file the run was recorded in
//! (absolute). Commands given the folder (`audit`, `report`) use that database when `--db`
//! was left at its default, so `govcap audit govcap-demo/2021` works from any folder.

use std::path::{Path, PathBuf};

use crate::UserError;

/// The default of `--db`; a value other than this one was chosen by the user and wins.
pub const DEFAULT_DB: &str = "govcap.db";

/// What `run.json` says about where its run is recorded.
#[derive(Debug, Default)]
pub struct RunFolder {
    /// `run.json` itself.
    pub manifest: PathBuf,
    /// The recorded run, when the run was recorded.
    pub run_id: Option<i64>,
    /// The SQLite file the run was recorded in (absent for PostgreSQL and older folders).
    pub database: Option<String>,
}

impl RunFolder {
    /// Reads `SPEC/run.json` (SPEC a folder) or the `run.json` beside SPEC (a results.json).
    /// `Ok(None)` when there is no such file.
    pub fn read(spec: &str) -> anyhow::Result<Option<RunFolder>> {
        let p = Path::new(spec);
        let manifest = if p.is_dir() {
            p.join("run.json")
        } else if p.is_file() {
            p.with_file_name("run.json")
        } else {
            return Ok(None);
        };
        let text = match std::fs::read_to_string(&manifest) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(UserError(format!("cannot read {}: {e}", manifest.display())).into())
            }
        };
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| UserError(format!("{} is not JSON: {e}", manifest.display())))?;
        Ok(Some(RunFolder {
            run_id: v["run_id"].as_i64(),
            database: v["database"].as_str().map(str::to_string),
            manifest,
        }))
    }

    /// The database to read the run from: `given` when the user chose it, else the one
    /// `run.json` names when it still exists, else `given`.
    pub fn database_or(&self, given: &str) -> String {
        pick_database(given, self.database.as_deref())
    }
}

/// See [`RunFolder::database_or`].
pub fn pick_database(given: &str, recorded: Option<&str>) -> String {
    let chosen = given != DEFAULT_DB || std::env::var_os("GOVCAP_DB").is_some();
    match recorded {
        Some(r) if !chosen && Path::new(r).is_file() => r.to_string(),
        _ => given.to_string(),
    }
}

/// A hint for "no run N in DB": where runs usually are.
pub fn where_runs_are(db: &str) -> String {
    format!(
        "see `govcap runs list --db {db}`; a run is in the database it was recorded in (a demo's is govcap-demo/govcap.db), give it with --db"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chosen_database_wins_and_a_vanished_one_is_ignored() {
        let dir = std::env::temp_dir().join(format!("govcap-runfolder-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("govcap.db");
        std::fs::write(&db, b"").unwrap();
        let recorded = db.display().to_string();
        if std::env::var_os("GOVCAP_DB").is_none() {
            assert_eq!(pick_database(DEFAULT_DB, Some(&recorded)), recorded);
        }
        assert_eq!(pick_database("other.db", Some(&recorded)), "other.db");
        assert_eq!(
            pick_database(DEFAULT_DB, Some("/nonexistent/govcap.db")),
            DEFAULT_DB
        );
        assert_eq!(pick_database(DEFAULT_DB, None), DEFAULT_DB);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
