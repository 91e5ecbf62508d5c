//! Prometheus metrics at `/metrics`: requests by route and status, and a latency histogram.
//!
//! Hand-written text exposition (format 0.0.4): a few counters need no metrics framework.
//! Routes are the matched patterns (`/api/v1/runs/{id}`), never raw paths, so the number of
//! series stays bounded whatever URLs clients send.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

const BUCKETS: [f64; 11] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

#[derive(Default)]
pub struct Metrics {
    /// (method, route, status) → latency series.
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
    pub logins_failed: std::sync::atomic::AtomicU64,
    pub logins_throttled: std::sync::atomic::AtomicU64,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, secs: f64) {
        if let Ok(mut m) = self.series.lock() {
            let s = m
                .entry((method.to_string(), route.to_string(), status))
                .or_default();
            s.count += 1;
            s.sum += secs;
            for (i, b) in BUCKETS.iter().enumerate() {
                if secs <= *b {
                    s.buckets[i] += 1;
                }
            }
        }
    }

    pub fn render(&self, pool_backend: &str) -> String {
        use std::sync::atomic::Ordering::Relaxed;
        let mut out = String::new();
        out.push_str("# HELP govcap_http_requests_total HTTP requests by method, route and status.\n# TYPE govcap_http_requests_total counter\n");
        let m = match self.series.lock() {
            Ok(m) => m,
            Err(_) => return out,
        };
        for ((method, route, status), s) in m.iter() {
            let _ = writeln!(
                out,
                "govcap_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {}",
                esc(route),
                s.count
            );
        }
        out.push_str("# HELP govcap_http_request_duration_seconds Time to answer, by method and route.\n# TYPE govcap_http_request_duration_seconds histogram\n");
        let mut by_route: BTreeMap<(&str, &str), Series> = BTreeMap::new();
        for ((method, route, _), s) in m.iter() {
            let t = by_route.entry((method, route)).or_default();
            t.count += s.count;
            t.sum += s.sum;
            for i in 0..BUCKETS.len() {
                t.buckets[i] += s.buckets[i];
            }
        }
        for ((method, route), s) in by_route {
            let labels = format!("method=\"{method}\",route=\"{}\"", esc(route));
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "govcap_http_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "govcap_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "govcap_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "govcap_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
        let _ = writeln!(out, "# HELP govcap_logins_failed_total Failed logins.\n# TYPE govcap_logins_failed_total counter\ngovcap_logins_failed_total {}", self.logins_failed.load(Relaxed));
        let _ = writeln!(out, "# HELP govcap_logins_throttled_total Logins refused by the throttle.\n# TYPE govcap_logins_throttled_total counter\ngovcap_logins_throttled_total {}", self.logins_throttled.load(Relaxed));
        let _ = writeln!(out, "# HELP govcap_store_info The database behind the server.\n# TYPE govcap_store_info gauge\ngovcap_store_info{{backend=\"{pool_backend}\"}} 1");
        out
    }
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Middleware: time every request and count it under its route pattern.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let resp = next.run(req).await;
    state.metrics.observe(
        &method,
        &route,
        resp.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    resp
}
