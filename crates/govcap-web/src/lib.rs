//! govcap's team workspace: one HTTP server for the evaluation team, the evaluated
//! governments and the public.
//!
//! An adapter like the CLI: handlers parse the request, ask the policy table in
//! `govcap_core::access`, call plain functions over the store (through [`pool::StorePool`],
//! which keeps blocking database calls off the async threads) and render HTML with the
//! report's renderers or JSON described by an OpenAPI document. Every write goes through one
//! transaction that also appends its audit-trail entry ([`audit`]).
//!
//! Code map: `api/` (JSON under `/api/v1`), `pages/` (dashboard, staff views, page layout and
//! security headers), `auth` (passwords, sessions, tokens, CSRF, throttle), `session` and
//! `users` and `runs` (the plain functions), `metrics`, `state`.

pub mod api;
pub mod audit;
pub mod auth;
pub mod campaigns;
pub(crate) mod clock;
pub mod evidence;
pub mod metrics;
pub mod pages;
pub mod pool;
pub mod problem;
pub mod runs;
pub mod session;
pub mod state;
pub mod users;

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use state::{AppState, Config};

use pages::{dashboard, staff};

/// Request ids: a per-process random prefix and a counter, short and unique enough to find a
/// request in the log.
#[derive(Clone)]
struct NextId {
    prefix: String,
    counter: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl MakeRequestId for NextId {
    fn make_request_id<B>(&mut self, _req: &Request<B>) -> Option<RequestId> {
        let n = self
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("{}-{n:x}", self.prefix)
            .parse()
            .ok()
            .map(RequestId::new)
    }
}

/// Forms that carry an evidence file: one file of the evidence limit, plus the form's fields.
fn upload_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(evidence::MAX_BYTES + (256 << 10))
}

/// The whole application, for `serve` and for tests.
pub fn app(state: AppState) -> Router {
    let x_request_id = HeaderName::from_static("x-request-id");
    let prefix: String = auth::random_secret()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(6)
        .collect();
    let body_limit = state.config.body_limit;
    Router::new()
        .route("/", get(dashboard::home_zh))
        .route("/en/", get(dashboard::home_en))
        .route("/en", get(dashboard::home_en))
        .route("/runs/{id}/", get(dashboard::run_index))
        .route("/en/runs/{id}/", get(dashboard::run_index_en))
        .route("/runs/{id}/download/{file}", get(dashboard::download))
        .route("/runs/{id}/{*path}", get(dashboard::run_page))
        .route("/en/runs/{id}/{*path}", get(dashboard::run_page_en))
        .route("/units", get(dashboard::unit_finder))
        .route("/en/units", get(dashboard::unit_finder_en))
        .route("/units/{code}", get(dashboard::unit_history))
        .route("/en/units/{code}", get(dashboard::unit_history_en))
        .route("/compare", get(dashboard::compare_zh))
        .route("/en/compare", get(dashboard::compare_en))
        .route("/prefs/text/{mode}", get(dashboard::text_size))
        .route("/login", get(staff::login_form).post(staff::login_submit))
        .route("/logout", post(staff::logout_submit))
        .route("/staff/", get(staff::home))
        .route("/staff", get(staff::home))
        .route("/staff/runs/{id}/{what}", post(staff::publish_form))
        .route("/staff/runs/{a}/diff/{b}", get(staff::diff))
        .route("/staff/monitor", get(staff::monitor))
        .route("/staff/monitor/{id}", get(staff::monitor_run))
        .route("/staff/monitor/{id}/evidence", get(staff::evidence))
        .route("/staff/monitor/{id}/evidence/raw", get(staff::evidence_raw))
        .route("/staff/audit-log", get(staff::audit_page))
        .route("/staff/audit-log.csv", get(staff::audit_csv))
        .route("/staff/tokens", get(staff::tokens).post(staff::token_create))
        .route("/staff/tokens/{id}/revoke", post(staff::token_revoke))
        .route("/staff/campaigns", get(pages::campaign::list).post(pages::campaign::create))
        .route("/staff/campaigns/{id}", get(pages::campaign::dashboard))
        .route("/staff/campaigns/{id}/entry", get(pages::campaign::entry).post(pages::campaign::entry_save).layer(upload_limit()))
        .route("/staff/campaigns/{id}/review", get(pages::campaign::review_queue))
        .route("/staff/campaigns/{id}/sheet", post(pages::campaign::sheet_upload))
        .route("/staff/campaigns/{id}/capture/{tid}", post(pages::campaign::capture_button).layer(upload_limit()))
        .route("/staff/campaigns/{id}/provisional", get(pages::appeals::desk))
        .route("/staff/campaigns/{id}/provisional/{tid}", post(pages::appeals::appeal).layer(upload_limit()))
        .route("/staff/campaigns/{id}/decision/{aid}", post(pages::appeals::decide))
        .route("/staff/campaigns/{id}/adjudication/{tid}", post(pages::appeals::adjudicate))
        .route("/staff/campaigns/{id}/tasks", get(pages::appeals::task_list))
        .route("/staff/campaigns/{id}/assignment/{tid}", post(pages::appeals::reassign))
        .route("/staff/campaigns/{id}/review/{tid}", post(pages::campaign::review_save))
        .route("/staff/campaigns/{id}/{what}", post(pages::campaign::action))
        .route("/evidence/files/{sha}", get(evidence_file))
        .route("/staff/captures/evidence", get(capture_page))
        .route("/staff/captures/evidence/raw", get(capture_raw))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .merge(api::router())
        .fallback(not_found)
        .layer(axum::middleware::from_fn(api_problems))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(axum::middleware::from_fn(pages::layout::security_headers))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(60)))
        .layer(CatchPanicLayer::new())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    let id = req
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    // The path only: queries may carry search terms, never logged.
                    tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path())
                })
                .on_response(tower_http::trace::DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(SetRequestIdLayer::new(
            x_request_id,
            NextId {
                prefix,
                counter: Default::default(),
            },
        ))
        .with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> Response {
    let path: String = uri.path().chars().take(80).collect();
    if path.starts_with("/api/") {
        problem::Problem::not_found(format!("API path {path}")).into_response()
    } else {
        problem::Problem::not_found(format!("page {path}"))
            .page()
            .into_response()
    }
}

/// axum answers a path or query it cannot parse (and a wrong method) with plain text; under
/// `/api/` every error is problem+json, so those answers are rewrapped with their text.
async fn api_problems(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let resp = next.run(req).await;
    let plain = resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    if !api || !plain || !(resp.status().is_client_error() || resp.status().is_server_error()) {
        return resp;
    }
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 4096)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    let detail = if text.trim().is_empty() {
        status.canonical_reason().unwrap_or("error").to_string()
    } else {
        text.chars().take(300).collect()
    };
    problem::Problem::new(status, detail).into_response()
}

/// An uploaded evidence file, sandboxed: shown inline, never able to run script here.
async fn evidence_file(
    State(state): State<AppState>,
    caller: auth::Caller,
    axum::extract::Path(sha): axum::extract::Path<String>,
) -> Result<Response, problem::Problem> {
    let f = evidence::get(&state, &caller, &sha)
        .await
        .map_err(problem::Problem::page)?;
    let mut r = (StatusCode::OK, f.bytes).into_response();
    let h = r.headers_mut();
    use axum::http::{header, HeaderValue};
    if let Ok(v) = HeaderValue::from_str(&f.mime) {
        h.insert(header::CONTENT_TYPE, v);
    }
    let ascii: String = f
        .name
        .chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{ascii}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'",
        ),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    Ok(r)
}

#[derive(serde::Deserialize)]
struct RecordQuery {
    record: String,
}

fn captures_dir(state: &AppState) -> Result<std::path::PathBuf, problem::Problem> {
    state
        .config
        .data_dir
        .as_ref()
        .map(|d| d.join("captures"))
        .ok_or_else(|| problem::Problem::not_found("the capture store (no --data-dir)").page())
}

/// A captured page, for the evaluation team: the record and the archived page, sandboxed.
async fn capture_page(
    State(state): State<AppState>,
    caller: auth::Caller,
    axum::extract::Query(q): axum::extract::Query<RecordQuery>,
) -> Result<Response, Response> {
    pages::staff::need(
        &caller,
        govcap_core::access::Action::ReadCampaigns,
        "/staff/campaigns",
    )?;
    let dir = captures_dir(&state).map_err(IntoResponse::into_response)?;
    let (path, rec) = pages::staff::find_in_dir(dir, &q.record)
        .await
        .map_err(IntoResponse::into_response)?;
    let raw = format!(
        "/staff/captures/evidence/raw?record={}",
        pages::layout::url_escape(&q.record)
    );
    Ok(pages::staff::record_page(&caller, &path, &rec, &raw))
}

async fn capture_raw(
    State(state): State<AppState>,
    caller: auth::Caller,
    axum::extract::Query(q): axum::extract::Query<RecordQuery>,
) -> Result<Response, problem::Problem> {
    caller
        .require(govcap_core::access::Action::ReadCampaigns)
        .map_err(problem::Problem::page)?;
    let dir = captures_dir(&state)?;
    let (_, rec) = pages::staff::find_in_dir(dir, &q.record).await?;
    pages::staff::raw_response(&rec)
}

async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready when the database answers.
async fn readyz(State(state): State<AppState>) -> Response {
    match state.pool.with(|s| s.stats()).await {
        Ok(_) => (StatusCode::OK, format!("ready ({})\n", state.pool.backend)).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the database does not answer\n",
            )
                .into_response()
        }
    }
}

async fn metrics_text(State(state): State<AppState>) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        state.metrics.render(state.pool.backend),
    )
        .into_response()
}

/// Installs the JSON log writer (stderr). `RUST_LOG` filters; default `info`.
pub fn init_logging(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        b.json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init()
    } else {
        b.try_init()
    };
}

/// Runs the server until Ctrl-C or SIGTERM, then stops accepting, lets requests in flight
/// finish, and returns. `ready` receives the bound address (port 0 picks a free one).
pub async fn serve(
    state: AppState,
    listen: SocketAddr,
    ready: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, backend = state.pool.backend, "govcap serve listening");
    ready(addr);
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
