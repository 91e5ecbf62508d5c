//! The store, reachable from async handlers without blocking the runtime.
//!
//! The store speaks to SQLite and PostgreSQL through their synchronous clients (the CLI needs
//! no runtime). The server keeps a small pool of open stores and runs every database call on
//! tokio's blocking threads, with a semaphore bounding how many run at once, so a slow query
//! never stalls the threads that accept requests. One store per blocking call: a SQLite
//! connection or a PostgreSQL session, each already migrated.

use std::sync::{Arc, Mutex};

use govcap_store::{sql::Tx, Store, StoreError};
use tokio::sync::Semaphore;

type Opener = Box<dyn Fn() -> Result<Box<dyn Store>, StoreError> + Send + Sync>;

pub struct StorePool {
    open: Opener,
    idle: Mutex<Vec<Box<dyn Store>>>,
    permits: Semaphore,
    /// For `/readyz` and the logs: "SQLite" or "PostgreSQL" (never the URL, which may hold a
    /// password).
    pub backend: &'static str,
}

/// Why a pooled call failed: the store's error, or the blocking task itself (a panic).
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a database task failed: {0}")]
    Task(String),
}

impl StorePool {
    /// Opens the first store now (so a bad target or a migration failure stops start-up) and
    /// more on demand, up to `size` at once.
    pub fn new(open: Opener, size: usize, backend: &'static str) -> Result<Arc<Self>, StoreError> {
        let first = open()?;
        Ok(Arc::new(StorePool {
            open,
            idle: Mutex::new(vec![first]),
            permits: Semaphore::new(size.max(1)),
            backend,
        }))
    }

    /// The pool for a `--db` target: a SQLite path or a `postgres://` URL.
    pub fn for_target(target: &str, size: usize) -> Result<Arc<Self>, StoreError> {
        let backend = if govcap_store::is_postgres_url(target) {
            "PostgreSQL"
        } else {
            "SQLite"
        };
        let t = target.to_string();
        Self::new(Box::new(move || govcap_store::open(&t)), size, backend)
    }

    /// Runs `f` with a store on a blocking thread.
    pub async fn with<T, F>(self: &Arc<Self>, f: F) -> Result<T, PoolError>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Store) -> Result<T, StoreError> + Send + 'static,
    {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| PoolError::Task(e.to_string()))?;
        let pool = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let taken = pool.idle.lock().map(|mut v| v.pop()).unwrap_or(None);
            let mut store = match taken {
                Some(s) => s,
                None => (pool.open)()?,
            };
            let out = f(store.as_mut());
            // A store whose database call failed may hold a broken connection: open a fresh one
            // next time. Refusals (not found, conflict, bad input) leave the connection healthy.
            let broken = matches!(
                out,
                Err(StoreError::Sqlite(_) | StoreError::Postgres(_) | StoreError::Corrupt(_))
            );
            if !broken {
                if let Ok(mut idle) = pool.idle.lock() {
                    idle.push(store);
                }
            }
            out.map_err(PoolError::from)
        })
        .await
        .map_err(|e| PoolError::Task(e.to_string()))?
    }

    /// Runs `f` in one transaction (see [`Store::transact`]).
    pub async fn tx<T, F>(self: &Arc<Self>, write: bool, f: F) -> Result<T, PoolError>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T, StoreError> + Send + 'static,
    {
        self.with(move |s| govcap_store::transact(s, write, f))
            .await
    }
}

impl Drop for StorePool {
    /// The PostgreSQL client blocks on its own runtime when closed, which tokio forbids on an
    /// async thread (where the server drops its state at shutdown): close the stores on a
    /// plain thread.
    fn drop(&mut self) {
        let stores = self.idle.get_mut().map(std::mem::take).unwrap_or_default();
        if !stores.is_empty() {
            let _ = std::thread::spawn(move || drop(stores)).join();
        }
    }
}
