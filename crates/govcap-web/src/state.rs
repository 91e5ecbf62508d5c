//! What every handler shares: the store pool, settings, throttle, metrics and the caches of
//! parsed runs and rendered report pages (recorded runs never change, so caching is safe).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use govcap_core::evaluate::Evaluation;
use govcap_report::{Lang, Manifest};
use govcap_store::RunSummary;

use crate::auth::Throttle;
use crate::metrics::Metrics;
use crate::pool::StorePool;

/// Server settings (from `govcap serve`'s flags).
#[derive(Debug, Clone)]
pub struct Config {
    /// A session unused this long is over.
    pub idle_timeout: Duration,
    /// A session is over this long after login, used or not.
    pub session_lifetime: Duration,
    /// Mark the session cookie `Secure` (served over TLS, directly or behind a TLS proxy).
    pub secure_cookies: bool,
    /// Where uploads and captured evidence are kept (the campaign workflow uses it).
    pub data_dir: Option<PathBuf>,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Let "capture now" fetch loopback and private addresses (tests and intranet portals);
    /// off by default so an account cannot make the server read internal services.
    pub capture_private: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            idle_timeout: Duration::from_secs(30 * 60),
            session_lifetime: Duration::from_secs(12 * 3600),
            secure_cookies: false,
            data_dir: None,
            body_limit: 1 << 20,
            capture_private: false,
        }
    }
}

/// A recorded run, parsed once.
pub struct LoadedRun {
    pub summary: RunSummary,
    pub evaluation: Evaluation,
    /// The run's newest statistical audit, when one was recorded and matches these results.
    pub audit: Option<govcap_core::audit::Audit>,
    pub manifest: Manifest,
    pub results_json: String,
}

/// A run's rendered report pages by path (`index.html`, `units/110000.html`, …).
pub type Pages = HashMap<String, String>;

/// A rendered report: (run, previous run compared with, language).
pub type ReportKey = (i64, Option<i64>, Lang);

#[derive(Default)]
pub struct Caches {
    pub runs: Mutex<HashMap<i64, Arc<LoadedRun>>>,
    /// Keyed by (run, previous run compared with, language).
    pub reports: Mutex<HashMap<ReportKey, Arc<Pages>>>,
    /// A monitor run's findings as observations, by monitor run (runs never change).
    pub proposals: Mutex<HashMap<i64, Arc<crate::campaigns::Proposals>>>,
}

impl Caches {
    /// Keeps memory bounded: past `max` entries the cache starts over (runs are re-read on
    /// demand; a team looks at a handful at a time).
    pub fn trim(&self, max: usize) {
        if let Ok(mut r) = self.runs.lock() {
            if r.len() > max {
                r.clear();
            }
        }
        if let Ok(mut r) = self.reports.lock() {
            if r.len() > max {
                r.clear();
            }
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub pool: Arc<StorePool>,
    pub config: Arc<Config>,
    pub throttle: Arc<Throttle>,
    pub metrics: Arc<Metrics>,
    pub caches: Arc<Caches>,
}

impl AppState {
    pub fn new(pool: Arc<StorePool>, config: Config) -> Self {
        AppState {
            pool,
            config: Arc::new(config),
            throttle: Arc::new(Throttle::new(5, 30, Duration::from_secs(15 * 60))),
            metrics: Arc::new(Metrics::default()),
            caches: Arc::new(Caches::default()),
        }
    }
}
