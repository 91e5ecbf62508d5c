//! `govcap monitor schedule`: availability sampled over days, full checks on a cycle.
//!
//! The inspection rule judges availability from at least 20 spaced visits a day, each
//! allowed 15 s; one crawl a day cannot show that. So the schedule visits every home page
//! (depth 0, one page, no retries) every `interval`, keeps only the `availability` finding
//! of each sample, and runs the full [`run`] once per `cycle`.
//!
//! One runtime serves the whole schedule, and its Ctrl-C watcher lives as long as the
//! schedule, so a Ctrl-C during a wait, a sample or the caller's bookkeeping is never lost:
//! the wait ends at once, a sample in progress stops as [`run`] does, and nothing new starts.

use std::fs;
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::runtime::Runtime;

use crate::alerts;
use crate::clock;
use crate::crawl::{Cancel, Site};
use crate::run::{run, Progress, RunConfig, RunError, RunSummary};

/// How often to sample and to run the full checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleConfig {
    /// From the start of one sample to the start of the next (a late sample delays the
    /// next rather than bunching visits together).
    pub interval: Duration,
    /// Time between full runs; the first comes one cycle after the start.
    pub cycle: Duration,
    /// Stop after this many samples (None: until Ctrl-C).
    pub max_samples: Option<usize>,
    /// Deadline of a sampled home-page visit (the rule's 15 s).
    pub sample_timeout: Duration,
    /// Re-date `as_of` to today (UTC) before every step, for schedules running for days.
    pub as_of_today: bool,
}

impl Default for ScheduleConfig {
    /// 72 samples a day (above the rule's 20), full checks daily.
    fn default() -> Self {
        ScheduleConfig {
            interval: Duration::from_secs(1200),
            cycle: Duration::from_secs(86_400),
            max_samples: None,
            sample_timeout: Duration::from_secs(15),
            as_of_today: true,
        }
    }
}

/// One step of the schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The `index`-th availability sample (from 0).
    Sample { index: usize },
    /// The `index`-th full run (from 0).
    Full { index: usize },
}

/// A finished step, handed to the caller (which stores it and evaluates alerts).
#[derive(Debug, Clone)]
pub struct StepOutcome {
    pub step: Step,
    /// The configuration the step ran with (its `out` holds `findings.jsonl`, the WARCs,
    /// `summary.json`).
    pub config: RunConfig,
    pub summary: RunSummary,
}

/// What the schedule did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScheduleSummary {
    pub samples: usize,
    pub full_runs: usize,
    /// Stopped by Ctrl-C (or a [`Cancel`]) rather than by `max_samples`.
    pub interrupted: bool,
}

/// The configuration of a sample: home page only, one attempt with the rule's deadline, no
/// extra probes, written under `full.out/samples/<start time>`.
pub fn sample_config(full: &RunConfig, sched: &ScheduleConfig, stamp: &str) -> RunConfig {
    let mut c = full.clone();
    c.out = full.out.join("samples").join(stamp);
    c.fetch.timeout = sched.sample_timeout;
    c.fetch.retries = 0;
    c.crawl.max_depth = 0;
    c.crawl.max_pages = 1;
    c.crawl.site_budget = c.crawl.site_budget.max(sched.sample_timeout);
    c.crawl.search_probe = false;
    c.crawl.http_probe = false;
    c.write_visits = false;
    // Samples only time the home page; WAF confirmation belongs to the cycle's full run.
    c.browser.mode = crate::browser::BrowserMode::Off;
    c
}

/// Keeps only the `availability` lines of `dir/findings.jsonl`: the other checks on a
/// lone home page would be judged on too little and would shadow the daily full run's.
pub fn keep_availability(dir: &Path) -> Result<usize, RunError> {
    let path = dir.join("findings.jsonl");
    let err = |source: io::Error| RunError::Io {
        path: path.clone(),
        source,
    };
    let text = fs::read_to_string(&path).map_err(err)?;
    let findings = alerts::parse_findings(&text).map_err(|e| RunError::Io {
        path: path.clone(),
        source: io::Error::new(io::ErrorKind::InvalidData, e.to_string()),
    })?;
    let mut out = Vec::new();
    let mut kept = 0;
    for f in findings.iter().filter(|f| f.check == "availability") {
        writeln!(
            out,
            "{}",
            serde_json::to_string(f).expect("findings serialise")
        )
        .map_err(err)?;
        kept += 1;
    }
    fs::write(&path, out).map_err(err)?;
    Ok(kept)
}

/// Waits until `until` or until `cancel` fires, whichever is first.
fn wait(rt: &Runtime, until: Instant, cancel: &Cancel) {
    rt.block_on(async {
        tokio::select! {
            _ = tokio::time::sleep_until(until.into()) => {}
            _ = cancel.cancelled() => {}
        }
    });
}

/// The schedule's loop, apart from what a step does: `step` runs a step (outside any async
/// context, so it may block) and the loop decides what comes next and waits. Returns when
/// `max_samples` are done, when `cancel` fires, or on the first error.
pub fn drive<E>(
    rt: &Runtime,
    sched: &ScheduleConfig,
    cancel: &Cancel,
    mut step: impl FnMut(Step) -> Result<(), E>,
) -> Result<ScheduleSummary, E> {
    let start = Instant::now();
    let mut next_full = start + sched.cycle;
    let mut done = ScheduleSummary::default();
    let reached = |d: &ScheduleSummary| sched.max_samples.is_some_and(|m| d.samples >= m);
    while !cancel.is_cancelled() && !reached(&done) {
        let began = Instant::now();
        step(Step::Sample {
            index: done.samples,
        })?;
        done.samples += 1;
        if cancel.is_cancelled() || reached(&done) {
            break;
        }
        if Instant::now() >= next_full {
            step(Step::Full {
                index: done.full_runs,
            })?;
            done.full_runs += 1;
            let now = Instant::now();
            while next_full <= now {
                next_full += sched.cycle.max(Duration::from_secs(1));
            }
        }
        wait(rt, began + sched.interval, cancel);
    }
    done.interrupted = cancel.is_cancelled();
    Ok(done)
}

/// Ctrl-C (SIGINT on Unix).
struct Interrupts {
    #[cfg(unix)]
    sig: tokio::signal::unix::Signal,
}

impl Interrupts {
    /// Must be called inside the runtime.
    fn install() -> io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Interrupts {
                sig: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Interrupts {})
        }
    }

    /// True on the next Ctrl-C; false if none can come any more.
    async fn next(&mut self) -> bool {
        #[cfg(unix)]
        {
            self.sig.recv().await.is_some()
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await.is_ok()
        }
    }
}

fn stamp_now() -> String {
    clock::rfc3339_millis(clock::now_millis()).replace(':', "-")
}

/// Runs the schedule on one multi-threaded runtime with Ctrl-C wired to a clean stop (a
/// second Ctrl-C exits at once with status 130). Each step's result goes to `on_step`;
/// its error stops the schedule.
pub fn schedule_blocking<E: From<RunError>>(
    cfg: &RunConfig,
    sites: Vec<Site>,
    sched: &ScheduleConfig,
    progress: Arc<dyn Progress>,
    mut on_step: impl FnMut(StepOutcome) -> Result<(), E>,
) -> Result<ScheduleSummary, E> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| RunError::Io {
            path: cfg.out.clone(),
            source,
        })?;
    let cancel = Cancel::new();
    // The handler is installed now, not when the watcher first runs, so a Ctrl-C right
    // after the start is not missed.
    let mut interrupts = {
        let _in_runtime = rt.enter();
        Interrupts::install().map_err(|source| RunError::Io {
            path: cfg.out.clone(),
            source,
        })?
    };
    let watcher = {
        let cancel = cancel.clone();
        let progress = progress.clone();
        rt.spawn(async move {
            if interrupts.next().await {
                progress
                    .note("stopping: finishing the step in progress (Ctrl-C again to quit now)");
                cancel.cancel();
                if interrupts.next().await {
                    std::process::exit(130);
                }
            }
        })
    };
    let r = drive(&rt, sched, &cancel, |step| {
        let mut base = cfg.clone();
        if sched.as_of_today {
            base.as_of = clock::date_of_millis(clock::now_millis());
        }
        let config = match step {
            Step::Sample { .. } => sample_config(&base, sched, &stamp_now()),
            Step::Full { .. } => {
                base.out = cfg.out.join("full").join(stamp_now());
                base
            }
        };
        let summary = rt.block_on(run(
            &config,
            sites.clone(),
            progress.clone(),
            cancel.clone(),
        ))?;
        if matches!(step, Step::Sample { .. }) {
            keep_availability(&config.out)?;
        }
        on_step(StepOutcome {
            step,
            config,
            summary,
        })
    });
    watcher.abort();
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn rt() -> Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn a_cancel_during_the_wait_stops_the_loop_at_once() {
        // An hour between samples and no sample limit: only the cancel can end this loop,
        // so if the wait missed it the test would hang instead of passing.
        let sched = ScheduleConfig {
            interval: Duration::from_secs(3600),
            cycle: Duration::from_secs(86_400),
            max_samples: None,
            ..ScheduleConfig::default()
        };
        let rt = rt();
        let cancel = Cancel::new();
        let mut steps = Vec::new();
        let done = drive::<()>(&rt, &sched, &cancel, |s| {
            steps.push(s);
            // Fires from another thread, normally while the loop waits after this sample.
            let cancel = cancel.clone();
            rt.spawn(async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                cancel.cancel();
            });
            Ok(())
        })
        .unwrap();
        assert_eq!(steps, vec![Step::Sample { index: 0 }]);
        assert_eq!(
            done,
            ScheduleSummary {
                samples: 1,
                full_runs: 0,
                interrupted: true
            }
        );
    }

    #[test]
    fn a_cancel_during_a_step_starts_nothing_more() {
        let sched = ScheduleConfig {
            interval: Duration::ZERO,
            cycle: Duration::ZERO,
            max_samples: Some(10),
            ..ScheduleConfig::default()
        };
        let rt = rt();
        let cancel = Cancel::new();
        let mut steps = Vec::new();
        let done = drive::<()>(&rt, &sched, &cancel, |s| {
            steps.push(s);
            if steps.len() == 3 {
                cancel.cancel();
            }
            Ok(())
        })
        .unwrap();
        // Zero cycle: the full run is due after the first sample; the cancel during the
        // second sample ends the loop before anything else starts.
        assert_eq!(
            steps,
            vec![
                Step::Sample { index: 0 },
                Step::Full { index: 0 },
                Step::Sample { index: 1 },
            ]
        );
        assert_eq!(done.samples, 2);
        assert_eq!(done.full_runs, 1);
        assert!(done.interrupted);
    }

    #[test]
    fn max_samples_and_errors_end_the_loop() {
        let sched = ScheduleConfig {
            interval: Duration::ZERO,
            max_samples: Some(3),
            ..ScheduleConfig::default()
        };
        let rt = rt();
        let cancel = Cancel::new();
        let mut n = 0;
        let done = drive::<()>(&rt, &sched, &cancel, |s| {
            assert!(matches!(s, Step::Sample { .. }), "a day has not passed");
            n += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!((n, done.samples, done.interrupted), (3, 3, false));
        let r = drive(&rt, &sched, &cancel_never(), |s| match s {
            Step::Sample { index: 1 } => Err("disk full"),
            _ => Ok(()),
        });
        assert_eq!(r, Err("disk full"));
    }

    fn cancel_never() -> Cancel {
        Cancel::new()
    }

    #[test]
    fn samples_visit_the_home_page_only() {
        let full = RunConfig {
            out: PathBuf::from("/x"),
            as_of: "2026-11-27".into(),
            concurrency: 4,
            fetch: crate::fetch::FetchConfig {
                timeout: Duration::from_secs(60),
                retries: 2,
                ..Default::default()
            },
            crawl: Default::default(),
            checks: Default::default(),
            write_visits: true,
            browser: Default::default(),
        };
        let s = sample_config(&full, &ScheduleConfig::default(), "t1");
        assert_eq!(s.out, PathBuf::from("/x/samples/t1"));
        assert_eq!(s.fetch.timeout, Duration::from_secs(15));
        assert_eq!(s.fetch.retries, 0);
        assert_eq!((s.crawl.max_depth, s.crawl.max_pages), (0, 1));
        assert!(!s.crawl.search_probe && !s.crawl.http_probe && !s.write_visits);
        assert_eq!(s.concurrency, 4);
    }
}
