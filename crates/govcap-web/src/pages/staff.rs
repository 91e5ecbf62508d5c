//! The signed-in pages: login, the workspace home (all runs, publish), run diffs, monitor runs
//! with findings and alerts, the evidence viewer, the audit trail and API tokens.
//!
//! Forms post with the session's CSRF token in a hidden field (`csrf_token`); every handler
//! asks the policy table first.

use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use govcap_core::access::Action;
use govcap_report::html::esc;
use govcap_store::workspace;
use serde::Deserialize;

use super::layout::{self, simple_page};
use crate::api::audit_log::{self, LogQuery};
use crate::auth::Caller;
use crate::problem::Problem;
use crate::runs;
use crate::session;
use crate::state::AppState;

pub(crate) fn page(title: &str, body: &str) -> Response {
    layout::html(StatusCode::OK, simple_page(false, title, body))
}

pub(crate) fn csrf_field(c: &Caller) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf_token\" value=\"{}\">",
        esc(c.csrf().unwrap_or(""))
    )
}

pub(crate) fn signed_in_bar(c: &Caller) -> String {
    let mut nav = String::from("<nav class=\"notice\" aria-label=\"工作台\"><p>");
    nav.push_str(&format!(
        "{} <strong>{}</strong>（{}） · <a href=\"/staff/\">评估运行</a>",
        "已登录：",
        esc(c.name()),
        esc(c.role.map_or("-", |r| r.name_zh()))
    ));
    if c.require(Action::ReadMonitoring).is_ok() {
        nav.push_str(" · <a href=\"/staff/monitor\">监测</a>");
    }
    if c.require(Action::ReadAuditLog).is_ok() {
        nav.push_str(" · <a href=\"/staff/audit-log\">审计日志</a>");
    }
    if c.require(Action::ReadCampaigns).is_ok() {
        nav.push_str(" · <a href=\"/staff/campaigns\">评估任务</a>");
    } else if c.require(Action::Appeal).is_ok() {
        nav.push_str(" · <a href=\"/staff/campaigns\">初步结果与申诉</a>");
    }
    nav.push_str(" · <a href=\"/staff/tokens\">API 令牌</a>");
    nav.push_str(&format!(
        " <form class=\"inline\" method=\"post\" action=\"/logout\">{}<button type=\"submit\">退出登录</button></form></p></nav>",
        csrf_field(c)
    ));
    nav
}

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    pub next: Option<String>,
    pub error: Option<String>,
}

pub async fn login_form(Query(q): Query<NextQuery>) -> Response {
    let next = super::dashboard::local_path(q.next);
    let error = match q.error.as_deref() {
        Some("1") => "<p class=\"warn\" role=\"alert\">用户名或密码错误。 Wrong user name or password.</p>".to_string(),
        Some("429") => "<p class=\"warn\" role=\"alert\">登录失败次数过多，请稍后再试。 Too many failed logins; try again later.</p>".to_string(),
        _ => String::new(),
    };
    let body = format!(
        "<h1>登录 <small lang=\"en\">Sign in</small></h1>{error}<form method=\"post\" action=\"/login\"><input type=\"hidden\" name=\"next\" value=\"{}\"><label for=\"username\">用户名 / User name</label><input id=\"username\" name=\"username\" autocomplete=\"username\" required><label for=\"password\">密码 / Password</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required><p><button type=\"submit\">登录</button></p></form>",
        esc(&next)
    );
    page("登录 · govcap", &body)
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    pub username: String,
    pub password: String,
    pub next: Option<String>,
}

pub async fn login_submit(
    State(state): State<AppState>,
    caller: Caller,
    Form(f): Form<LoginForm>,
) -> Result<Response, Problem> {
    match session::login(&state, &caller, &f.username, &f.password).await {
        Ok(done) => {
            let next = super::dashboard::local_path(f.next.or(Some("/staff/".into())));
            let mut r = Redirect::to(&next).into_response();
            if let Ok(v) = HeaderValue::from_str(&session::set_cookie(&state, &done.cookie)) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            Ok(r)
        }
        Err(p) if p.status == 429 => {
            let mut r = Redirect::to("/login?error=429").into_response();
            *r.status_mut() = StatusCode::SEE_OTHER;
            Ok(r)
        }
        Err(p) if p.status == 401 => Ok(Redirect::to("/login?error=1").into_response()),
        Err(p) => Err(p.page()),
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf_token: String,
}

pub async fn logout_submit(
    State(state): State<AppState>,
    caller: Caller,
    Form(f): Form<CsrfForm>,
) -> Result<Response, Problem> {
    caller.check_form_csrf(&f.csrf_token)?;
    session::logout(&state, &caller)
        .await
        .map_err(Problem::page)?;
    let mut r = Redirect::to("/").into_response();
    if let Ok(v) = HeaderValue::from_str(&session::set_cookie(&state, "")) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(r)
}

/// Sends an anonymous visitor to the login page instead of a bare 401.
#[allow(clippy::result_large_err)] // axum's Response is a handler's natural error here.
pub(crate) fn need(c: &Caller, action: Action, here: &str) -> Result<(), Response> {
    match c.require(action) {
        Ok(()) => Ok(()),
        Err(_) if c.user.is_none() => {
            Err(Redirect::to(&format!("/login?next={}", layout::url_escape(here))).into_response())
        }
        Err(p) => Err(p.page().into_response()),
    }
}

/// The workspace home: every recorded run, with publish / unpublish for leads.
pub async fn home(State(state): State<AppState>, caller: Caller) -> Result<Response, Response> {
    if caller.user.is_none() {
        return Err(Redirect::to("/login?next=/staff/").into_response());
    }
    let mut body = signed_in_bar(&caller);
    if caller.require(Action::ReadAllRuns).is_err() {
        body.push_str("<p>本账号可查看已发布的评价结果：<a href=\"/\">公开数据</a>。</p>");
        if caller.require(Action::Appeal).is_ok() {
            body.push_str("<p>评估开放申诉复核时，可在 <a href=\"/staff/campaigns\">初步结果与申诉</a> 查看本单位的初步得分、核验数值与证据，并提出申诉。</p>");
        }
        return Ok(page("工作台 · govcap", &body));
    }
    let listed = runs::visible(&state, &caller)
        .await
        .map_err(|p| p.page().into_response())?;
    let can_publish = caller.require(Action::PublishRun).is_ok();
    body.push_str("<h1>评估运行 <small lang=\"en\">Recorded runs</small></h1><div class=\"tablewrap\"><table><thead><tr><th scope=\"col\" class=\"n\">编号</th><th scope=\"col\">名称</th><th scope=\"col\" class=\"n\">年度</th><th scope=\"col\">记录时间</th><th scope=\"col\">数据</th><th scope=\"col\">状态</th><th scope=\"col\">操作</th></tr></thead><tbody>");
    for r in &listed {
        let s = &r.summary;
        let action = if can_publish {
            let (path, label) = if r.published {
                ("unpublish", "撤回发布")
            } else {
                ("publish", "发布")
            };
            format!(
                "<form class=\"inline\" method=\"post\" action=\"/staff/runs/{}/{path}\">{}<button type=\"submit\" data-run=\"{}\">{label}</button></form>",
                s.id,
                csrf_field(&caller),
                s.id
            )
        } else {
            String::new()
        };
        let mut diff = s
            .previous_run
            .map(|p| {
                format!(
                    " · <a href=\"/staff/runs/{p}/diff/{}\">与运行 {p} 比较</a>",
                    s.id
                )
            })
            .unwrap_or_default();
        if r.audited {
            diff.push_str(&format!(
                " · <a href=\"/runs/{}/uncertainty.html\">统计审计</a>",
                s.id
            ));
        }
        body.push_str(&format!(
            "<tr><td class=\"n\">{}</td><td><a href=\"/runs/{}/\">{}</a>{diff}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{action}</td></tr>",
            s.id,
            s.id,
            esc(&s.label),
            s.year,
            esc(&s.created_at),
            if s.synthetic { "合成（演示）" } else { "实测" },
            if r.published { "已发布" } else { "未发布" },
        ));
    }
    body.push_str("</tbody></table></div>");
    if listed.is_empty() {
        body.push_str("<p>还没有评估运行。用 <code>govcap evaluate … --db</code> 或 <code>govcap demo</code> 记录一次运行。</p>");
    }
    Ok(page("工作台 · govcap", &body))
}

pub async fn publish_form(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, what)): Path<(i64, String)>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, Problem> {
    caller.check_form_csrf(&f.csrf_token)?;
    let publish = match what.as_str() {
        "publish" => true,
        "unpublish" => false,
        _ => return Err(Problem::not_found("this action").page()),
    };
    runs::set_published(&state, &caller, id, publish)
        .await
        .map_err(Problem::page)?;
    Ok(Redirect::to("/staff/").into_response())
}

/// Rank and tier changes between two runs.
pub async fn diff(
    State(state): State<AppState>,
    caller: Caller,
    Path((a, b)): Path<(i64, i64)>,
) -> Result<Response, Response> {
    need(
        &caller,
        Action::ReadAllRuns,
        &format!("/staff/runs/{a}/diff/{b}"),
    )?;
    let ra = runs::get(&state, &caller, a)
        .await
        .map_err(|p| p.page().into_response())?;
    let rb = runs::get(&state, &caller, b)
        .await
        .map_err(|p| p.page().into_response())?;
    let d = govcap_core::analyse::compare::diff(&ra.evaluation, &rb.evaluation);
    let mut body = signed_in_bar(&caller);
    body.push_str(&format!(
        "<h1>运行 {a}（{}）→ 运行 {b}（{}）</h1><p>上升 {} · 下降 {} · 不变 {} · 最大名次变化 {} · 发展类型变化 {}</p>",
        d.year_a, d.year_b, d.moved_up, d.moved_down, d.unchanged, d.max_rank_change, d.tier_moves.len()
    ));
    body.push_str("<div class=\"tablewrap\"><table><thead><tr><th scope=\"col\">代码</th><th scope=\"col\">单位</th><th scope=\"col\" class=\"n\">总分 A</th><th scope=\"col\" class=\"n\">总分 B</th><th scope=\"col\" class=\"n\">名次 A</th><th scope=\"col\" class=\"n\">名次 B</th><th scope=\"col\" class=\"n\">名次变化</th><th scope=\"col\">类型 A → B</th></tr></thead><tbody>");
    let f = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:.2}"));
    let n = |v: Option<usize>| v.map_or("–".into(), |v| v.to_string());
    for u in &d.units {
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{} → {}</td></tr>",
            esc(&u.code),
            esc(&u.name),
            f(u.total_a),
            f(u.total_b),
            n(u.rank_a),
            n(u.rank_b),
            u.rank_change.map_or("–".into(), |v| format!("{v:+}")),
            esc(u.tier_a.as_deref().unwrap_or("–")),
            esc(u.tier_b.as_deref().unwrap_or("–")),
        ));
    }
    body.push_str("</tbody></table></div>");
    Ok(page("运行比较 · govcap", &body))
}

/// Monitor runs; with an id, that run's findings and alerts.
pub async fn monitor(State(state): State<AppState>, caller: Caller) -> Result<Response, Response> {
    need(&caller, Action::ReadMonitoring, "/staff/monitor")?;
    let mut list = state
        .pool
        .with(|s| s.list_monitor_runs())
        .await
        .map_err(|e| Problem::from(e).page().into_response())?;
    list.reverse();
    let mut body = signed_in_bar(&caller);
    body.push_str("<h1>监测运行 <small lang=\"en\">Monitor runs</small></h1><div class=\"tablewrap\"><table><thead><tr><th scope=\"col\" class=\"n\">编号</th><th scope=\"col\">开始时间</th><th scope=\"col\">截至日期</th><th scope=\"col\" class=\"n\">检查结果</th><th scope=\"col\" class=\"n\">预警</th></tr></thead><tbody>");
    for r in &list {
        body.push_str(&format!(
            "<tr><td class=\"n\"><a href=\"/staff/monitor/{}\">{}</a></td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            r.id, r.id, esc(&r.started_at), esc(&r.as_of), r.findings, r.alerts
        ));
    }
    body.push_str("</tbody></table></div>");
    if list.is_empty() {
        body.push_str(
            "<p>还没有监测运行。用 <code>govcap monitor run --db …</code> 记录一次。</p>",
        );
    }
    Ok(page("监测 · govcap", &body))
}

pub async fn monitor_run(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, Response> {
    need(
        &caller,
        Action::ReadMonitoring,
        &format!("/staff/monitor/{id}"),
    )?;
    let (run, findings, alerts) = state
        .pool
        .with(move |s| {
            let run = s
                .list_monitor_runs()?
                .into_iter()
                .find(|r| r.id == id)
                .ok_or_else(|| govcap_store::StoreError::NotFound(format!("monitor run {id}")))?;
            let findings: Vec<_> = s
                .monitor_findings_since(&run.started_at)?
                .into_iter()
                .filter(|f| f.run_id == id)
                .collect();
            let alerts: Vec<_> = s
                .list_alerts(&Default::default())?
                .into_iter()
                .filter(|a| a.run_id == id)
                .collect();
            Ok((run, findings, alerts))
        })
        .await
        .map_err(|e| Problem::from(e).page().into_response())?;
    let mut body = signed_in_bar(&caller);
    body.push_str(&format!(
        "<h1>监测运行 {id}</h1><p>开始 {} · 截至 {} · {} 条检查结果 · {} 条预警</p>",
        esc(&run.started_at),
        esc(&run.as_of),
        findings.len(),
        alerts.len()
    ));
    body.push_str("<h2>预警 <small lang=\"en\">Alerts</small></h2><div class=\"tablewrap\"><table><thead><tr><th scope=\"col\">单位</th><th scope=\"col\">规则</th><th scope=\"col\">级别</th><th scope=\"col\">说明</th><th scope=\"col\">首次发现</th></tr></thead><tbody>");
    for a in &alerts {
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&a.alert.code),
            esc(&a.alert.rule),
            esc(&a.alert.severity),
            esc(&a.alert.message_zh),
            esc(&a.alert.first_seen)
        ));
    }
    body.push_str("</tbody></table></div><h2>检查结果 <small lang=\"en\">Findings</small></h2><div class=\"tablewrap\"><table><thead><tr><th scope=\"col\">单位</th><th scope=\"col\">检查</th><th scope=\"col\">结果</th><th scope=\"col\">网址</th><th scope=\"col\">证据</th></tr></thead><tbody>");
    for f in findings.iter().take(5000) {
        let ev: String = f
            .finding
            .evidence
            .iter()
            .take(3)
            .map(|e| {
                format!(
                    "<a href=\"/staff/monitor/{id}/evidence?record={}\">{}</a> ",
                    layout::url_escape(e),
                    esc(&e
                        .chars()
                        .rev()
                        .take(8)
                        .collect::<String>()
                        .chars()
                        .rev()
                        .collect::<String>())
                )
            })
            .collect();
        let value: String = f.finding.value_json.chars().take(80).collect();
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{ev}</td></tr>",
            esc(&f.finding.code),
            esc(&f.finding.check),
            esc(&value),
            esc(&f.finding.url),
        ));
    }
    body.push_str("</tbody></table></div>");
    Ok(page("监测运行 · govcap", &body))
}

#[derive(Debug, Deserialize)]
pub struct RecordQuery {
    pub record: String,
}

async fn find_record(
    state: &AppState,
    id: i64,
    record: &str,
) -> Result<(std::path::PathBuf, govcap_monitor::warc::WarcRecord), Problem> {
    let runs = state.pool.with(|s| s.list_monitor_runs()).await?;
    let run = runs
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| Problem::not_found(format!("monitor run {id}")).page())?;
    find_in_dir(std::path::PathBuf::from(run.out_dir), record).await
}

/// A WARC record by id among the archives under `dir` (or `dir/warc`).
pub(crate) async fn find_in_dir(
    dir: std::path::PathBuf,
    record: &str,
) -> Result<(std::path::PathBuf, govcap_monitor::warc::WarcRecord), Problem> {
    let rec = record.to_string();
    tokio::task::spawn_blocking(move || govcap_monitor::warc::find_record(&dir, &rec))
        .await
        .map_err(|_| Problem::internal().page())?
        .map_err(|e| Problem::not_found(format!("the evidence archive ({e})")).page())?
        .ok_or_else(|| {
            Problem::not_found(format!(
                "evidence record {}",
                record.chars().take(80).collect::<String>()
            ))
            .page()
        })
}

/// An archived record: its WARC and HTTP headers, and the archived page in a sandboxed frame.
pub async fn evidence(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(q): Query<RecordQuery>,
) -> Result<Response, Response> {
    need(
        &caller,
        Action::ReadMonitoring,
        &format!("/staff/monitor/{id}"),
    )?;
    let (path, rec) = find_record(&state, id, &q.record)
        .await
        .map_err(IntoResponse::into_response)?;
    let raw = format!(
        "/staff/monitor/{id}/evidence/raw?record={}",
        layout::url_escape(&q.record)
    );
    Ok(record_page(&caller, &path, &rec, &raw))
}

/// The page of an archived record: headers, and the archived page framed from `raw_href`.
pub(crate) fn record_page(
    caller: &Caller,
    path: &std::path::Path,
    rec: &govcap_monitor::warc::WarcRecord,
    raw_href: &str,
) -> Response {
    let mut body = signed_in_bar(caller);
    body.push_str(&format!(
        "<h1>证据记录 <small lang=\"en\">Evidence record</small></h1><p><code>{}</code> @ {}</p><pre>",
        esc(&path.display().to_string()),
        rec.offset
    ));
    for (k, v) in &rec.headers {
        body.push_str(&format!("{}: {}\n", esc(k), esc(v)));
    }
    body.push_str("</pre>");
    if let Some((head, _)) = rec.http_parts() {
        body.push_str(&format!(
            "<pre>{}</pre>",
            esc(&String::from_utf8_lossy(head))
        ));
        body.push_str(&format!(
            "<p class=\"warn\">下方为存档页面的静态呈现：脚本不会执行，也不会加载外部资源。 The archived page below is shown sandboxed: its scripts never run and nothing is loaded from elsewhere.</p><iframe class=\"evidence\" sandbox title=\"archived page\" src=\"{}\"></iframe>",
            esc(raw_href)
        ));
    }
    let mut r = page("证据 · govcap", &body);
    // This page frames the raw view from the same origin.
    r.headers_mut()
        .insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    r
}

/// The archived payload itself, under `sandbox` (an opaque origin, no scripts) and a policy
/// that fetches nothing, so a hostile archived page can do nothing in our origin.
pub async fn evidence_raw(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(q): Query<RecordQuery>,
) -> Result<Response, Problem> {
    caller
        .require(Action::ReadMonitoring)
        .map_err(Problem::page)?;
    let (_, rec) = find_record(&state, id, &q.record).await?;
    raw_response(&rec)
}

/// The archived payload under `sandbox` and a policy that fetches nothing.
pub(crate) fn raw_response(rec: &govcap_monitor::warc::WarcRecord) -> Result<Response, Problem> {
    let Some((head, payload)) = rec.http_parts() else {
        return Err(Problem::not_found("an HTTP response in this record").page());
    };
    let head = String::from_utf8_lossy(head).to_string();
    let header_of = |name: &str| {
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    };
    let body = govcap_monitor::fetch::decode_content(
        payload,
        header_of("content-encoding").as_deref(),
        16 << 20,
    )
    .unwrap_or_else(|_| payload.to_vec());
    let ctype = header_of("content-type").unwrap_or_default();
    let safe_type = if ctype.starts_with("text/html")
        || ctype.starts_with("text/plain")
        || ctype.starts_with("image/")
    {
        ctype
    } else {
        "text/plain; charset=utf-8".to_string()
    };
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&safe_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'"),
    );
    h.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    );
    Ok(r)
}

/// The audit trail, newest first, with a CSV export.
pub async fn audit_page(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<LogQuery>,
) -> Result<Response, Response> {
    need(&caller, Action::ReadAuditLog, "/staff/audit-log")?;
    let limit = q.limit.unwrap_or(100);
    let entries = audit_log::entries(&state, q)
        .await
        .map_err(|p| p.page().into_response())?;
    let check = state
        .pool
        .tx(false, workspace::verify_audit)
        .await
        .map_err(|e| Problem::from(e).page().into_response())?;
    let mut body = signed_in_bar(&caller);
    body.push_str("<h1>审计日志 <small lang=\"en\">Audit trail</small></h1>");
    if check.problems.is_empty() {
        body.push_str(&format!(
            "<p class=\"notice\">哈希链完整：{} 条记录，链头 <code>{}</code>。 <a href=\"/staff/audit-log.csv\">导出 CSV</a></p>",
            check.entries,
            esc(&check.head_hash)
        ));
    } else {
        body.push_str("<div class=\"warn\" role=\"alert\"><p><strong>哈希链已被破坏 / The chain is broken:</strong></p><ul>");
        for p in &check.problems {
            body.push_str(&format!("<li>{}</li>", esc(p)));
        }
        body.push_str("</ul></div>");
    }
    body.push_str("<div class=\"tablewrap\"><table><thead><tr><th scope=\"col\" class=\"n\">序号</th><th scope=\"col\">时间</th><th scope=\"col\">操作人</th><th scope=\"col\">角色</th><th scope=\"col\">操作</th><th scope=\"col\">对象</th><th scope=\"col\">变更前</th><th scope=\"col\">变更后</th><th scope=\"col\">请求</th></tr></thead><tbody>");
    for e in &entries {
        let x = &e.entry;
        body.push_str(&format!(
            "<tr><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td><td><code>{}</code></td></tr>",
            e.seq,
            esc(&x.at),
            esc(&x.actor),
            esc(&x.role),
            esc(&x.action),
            esc(&x.object),
            esc(x.before.as_deref().unwrap_or("")),
            esc(x.after.as_deref().unwrap_or("")),
            esc(&x.request_id),
        ));
    }
    body.push_str("</tbody></table></div>");
    if entries.len() as i64 == limit {
        if let Some(last) = entries.last() {
            body.push_str(&format!(
                "<p><a href=\"/staff/audit-log?before={}\">更早的记录</a></p>",
                last.seq
            ));
        }
    }
    Ok(page("审计日志 · govcap", &body))
}

/// The whole trail as CSV (UTF-8 with BOM for Excel), oldest first.
pub async fn audit_csv(State(state): State<AppState>, caller: Caller) -> Result<Response, Problem> {
    caller
        .require(Action::ReadAuditLog)
        .map_err(Problem::page)?;
    let mut all = Vec::new();
    let mut before = None;
    loop {
        let page = audit_log::entries(
            &state,
            LogQuery {
                before,
                action: None,
                actor: None,
                limit: Some(1000),
            },
        )
        .await?;
        let n = page.len();
        before = page.last().map(|e| e.seq);
        all.extend(page);
        if n < 1000 {
            break;
        }
    }
    all.reverse();
    let mut out = String::from(govcap_io::export::csv_bom());
    out.push_str("seq,at,actor,role,action,object,before,after,request_id,prev_hash,hash\n");
    for e in &all {
        let x = &e.entry;
        let cells = [
            e.seq.to_string(),
            x.at.clone(),
            x.actor.clone(),
            x.role.clone(),
            x.action.clone(),
            x.object.clone(),
            x.before.clone().unwrap_or_default(),
            x.after.clone().unwrap_or_default(),
            x.request_id.clone(),
            e.prev_hash.clone(),
            e.hash.clone(),
        ];
        let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"govcap-audit-log.csv\"",
            ),
        ],
        out,
    )
        .into_response())
}

/// Quotes a CSV cell; a leading `=`, `+`, `-` or `@` is prefixed with `'` so a spreadsheet
/// never runs a value a user typed as a formula.
pub fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The caller's API tokens: create (the token is shown once) and revoke.
pub async fn tokens(State(state): State<AppState>, caller: Caller) -> Result<Response, Response> {
    need(&caller, Action::ManageOwnTokens, "/staff/tokens")?;
    let uid = caller.user.as_ref().map_or(0, |u| u.id);
    let list = state
        .pool
        .tx(false, move |tx| workspace::list_tokens(tx, uid))
        .await
        .map_err(|e| Problem::from(e).page().into_response())?;
    let mut body = signed_in_bar(&caller);
    body.push_str("<h1>API 令牌 <small lang=\"en\">API tokens</small></h1><p>令牌带有本账号的角色，供脚本以 <code>Authorization: Bearer …</code> 调用 API。令牌只在创建时显示一次。</p>");
    body.push_str(&format!(
        "<form method=\"post\" action=\"/staff/tokens\">{}<label for=\"label\">用途</label><input id=\"label\" name=\"label\" maxlength=\"200\"> <button type=\"submit\">创建令牌</button></form>",
        csrf_field(&caller)
    ));
    body.push_str("<div class=\"tablewrap\"><table><thead><tr><th scope=\"col\">前缀</th><th scope=\"col\">用途</th><th scope=\"col\">创建时间</th><th scope=\"col\">状态</th><th scope=\"col\">操作</th></tr></thead><tbody>");
    for t in &list {
        let action = if t.revoked_at.is_none() {
            format!(
                "<form class=\"inline\" method=\"post\" action=\"/staff/tokens/{}/revoke\">{}<button type=\"submit\">吊销</button></form>",
                t.id,
                csrf_field(&caller)
            )
        } else {
            String::new()
        };
        body.push_str(&format!(
            "<tr><td><code>{}…</code></td><td>{}</td><td>{}</td><td>{}</td><td>{action}</td></tr>",
            esc(&t.prefix),
            esc(&t.label),
            esc(&t.created_at),
            t.revoked_at
                .as_deref()
                .map_or("有效".to_string(), |r| format!("已吊销 {}", esc(r))),
        ));
    }
    body.push_str("</tbody></table></div>");
    Ok(page("API 令牌 · govcap", &body))
}

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    pub csrf_token: String,
    #[serde(default)]
    pub label: String,
}

pub async fn token_create(
    State(state): State<AppState>,
    caller: Caller,
    Form(f): Form<TokenForm>,
) -> Result<Response, Problem> {
    caller.check_form_csrf(&f.csrf_token)?;
    let (_, axum::Json(t)) = crate::api::tokens::create(
        State(state),
        caller.clone(),
        crate::api::ApiJson(crate::api::tokens::NewToken { label: f.label }),
    )
    .await
    .map_err(Problem::page)?;
    let mut body = signed_in_bar(&caller);
    body.push_str(&format!(
        "<h1>新令牌</h1><p class=\"warn\">请现在复制保存：离开本页后不会再显示。 Copy it now: it is not shown again.</p><pre id=\"new-token\">{}</pre><p><a href=\"/staff/tokens\">返回</a></p>",
        esc(&t.token)
    ));
    Ok(page("新令牌 · govcap", &body))
}

pub async fn token_revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, Problem> {
    caller.check_form_csrf(&f.csrf_token)?;
    crate::api::tokens::revoke(State(state), caller, Path(id))
        .await
        .map_err(Problem::page)?;
    Ok(Redirect::to("/staff/tokens").into_response())
}
