//! The public dashboard: published runs as the blue-book report renders them (the same
//! renderers, served with the workspace bar), plus what only a server can offer: every
//! published year on one page, a unit's history, comparisons and downloads.
//!
//! Paths: Chinese at `/…`, English at `/en/…`. Evaluation-team members who are signed in see
//! unpublished runs at the same paths, marked as drafts.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use govcap_core::access::Action;
use govcap_core::analyse::figures::analyse;
use govcap_report::html::esc;
use govcap_report::{Lang, Options};
use serde::Deserialize;

use super::layout::{self, Chrome};
use crate::auth::Caller;
use crate::problem::Problem;
use crate::runs::{self, ListedRun};
use crate::state::{AppState, LoadedRun, Pages};

pub const TEXT_COOKIE: &str = "govcap_text";

fn chrome(caller: &Caller, headers: &HeaderMap, en: bool, here_zh: &str) -> Chrome {
    let large_text = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(';')
                .any(|kv| kv.trim() == format!("{TEXT_COOKIE}=large"))
        });
    let here_en = format!("/en{here_zh}");
    Chrome {
        en,
        large_text,
        user: caller.user.as_ref().map(|u| u.name.clone()),
        other_lang_href: if en {
            here_zh.to_string()
        } else {
            here_en.clone()
        },
        here: if en { here_en } else { here_zh.to_string() },
        extra: Vec::new(),
    }
}

fn lang(en: bool) -> Lang {
    if en {
        Lang::En
    } else {
        Lang::Zh
    }
}

/// The report pages of a run, rendered once per (run, comparison run, language).
async fn report_pages(
    state: &AppState,
    run: Arc<LoadedRun>,
    prev_id: Option<i64>,
    en: bool,
) -> Result<Arc<Pages>, Problem> {
    let key = (run.summary.id, prev_id, lang(en));
    if let Some(p) = state
        .caches
        .reports
        .lock()
        .ok()
        .and_then(|c| c.get(&key).cloned())
    {
        return Ok(p);
    }
    let prev = match prev_id {
        Some(p) => Some(runs::load(state, p).await?),
        None => None,
    };
    let pages = tokio::task::spawn_blocking(move || {
        let mut manifest = run.manifest.clone();
        manifest.previous = prev.as_ref().map(|p| format!("run {}", p.summary.id));
        govcap_report::render(
            &run.evaluation,
            prev.as_ref().map(|p| &p.evaluation),
            &manifest,
            run.audit.as_ref(),
            Options {
                lang: lang(en),
                book: false,
            },
        )
        .map(|r| {
            r.files
                .into_iter()
                .map(|f| (f.path, f.contents))
                .collect::<Pages>()
        })
    })
    .await
    .map_err(|_| Problem::internal())?
    .map_err(|e| Problem::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    let pages = Arc::new(pages);
    if let Ok(mut c) = state.caches.reports.lock() {
        c.insert(key, Arc::clone(&pages));
    }
    Ok(pages)
}

async fn report_file(
    state: AppState,
    caller: Caller,
    headers: HeaderMap,
    id: i64,
    path: String,
    en: bool,
) -> Result<Response, Problem> {
    caller
        .require(Action::ReadPublished)
        .map_err(Problem::page)?;
    // One listing answers visibility, publication and the comparison run: this is the
    // dashboard's hot path.
    let listed = runs::visible(&state, &caller)
        .await
        .map_err(Problem::page)?;
    let Some(entry) = listed.iter().find(|r| r.summary.id == id) else {
        return Err(Problem::not_found(format!("run {id}")).page());
    };
    let published = entry.published;
    let run = runs::load(&state, id).await.map_err(Problem::page)?;
    let path = if path.is_empty() {
        "index.html".to_string()
    } else {
        path
    };
    let prev_id = runs::previous_in(&listed, &run);
    let pages = report_pages(&state, Arc::clone(&run), prev_id, en)
        .await
        .map_err(Problem::page)?;
    let Some(page) = pages.get(&path) else {
        return Err(Problem::not_found(format!("page {}", clip(&path))).page());
    };
    let mut c = chrome(&caller, &headers, en, &format!("/runs/{id}/{path}"));
    if let Some(code) = path
        .strip_prefix("units/")
        .and_then(|p| p.strip_suffix(".html"))
    {
        c.extra.push((
            if en { "Over the years" } else { "历年表现" }.to_string(),
            format!("{}/units/{code}", if en { "/en" } else { "" }),
        ));
    }
    let mut html = layout::dress(page, &c);
    if !published {
        let note = if en {
            "DRAFT: this run is not published; only the evaluation team can see it."
        } else {
            "草稿：本次评估结果尚未发布，仅评估工作组可见。"
        };
        if let Some(i) = html.find("<main>") {
            html.insert_str(
                i,
                &format!("<div class=\"synthetic-banner\" role=\"note\">{note}</div>"),
            );
        }
    }
    Ok(layout::html(StatusCode::OK, html))
}

pub async fn run_index(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, Problem> {
    report_file(state, caller, headers, id, String::new(), false).await
}

pub async fn run_index_en(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, Problem> {
    report_file(state, caller, headers, id, String::new(), true).await
}

pub async fn run_page(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((id, path)): Path<(i64, String)>,
) -> Result<Response, Problem> {
    report_file(state, caller, headers, id, path, false).await
}

pub async fn run_page_en(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((id, path)): Path<(i64, String)>,
) -> Result<Response, Problem> {
    report_file(state, caller, headers, id, path, true).await
}

fn clip(s: &str) -> String {
    s.chars().take(60).collect()
}

/// `/` and `/en/`: every published year, newest first, with the headline figures.
pub async fn home(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    en: bool,
) -> Result<Response, Problem> {
    caller
        .require(Action::ReadPublished)
        .map_err(Problem::page)?;
    let t = |zh: &'static str, e: &'static str| if en { e } else { zh };
    let listed = runs::visible(state, caller).await.map_err(Problem::page)?;
    let published: Vec<&ListedRun> = listed.iter().filter(|r| r.published).collect();
    let prefix = if en { "/en" } else { "" };
    let mut body =
        format!(
        "<h1>{}</h1><p class=\"sub\">{}</p>",
        t("地方政府互联网服务能力评价", "Internet service capability of local governments"),
        t(
            "已发布的评价结果：每一年度的报告、地图、排名、单位页面与数据下载。",
            "Published evaluations: each year's report, map, ranking, unit pages and downloads."
        )
    );
    if published.iter().any(|r| r.summary.synthetic) {
        body.push_str(&govcap_report::html::banner(t(
            "合成数据：标注为“合成”的年度由 govcap 的模拟数据生成，仅供演示，不反映任何地方政府的真实水平。",
            "SYNTHETIC DATA: years marked “synthetic” come from govcap's simulated data, for demonstration only; they describe no real local government.",
        )));
    }
    if published.is_empty() {
        body.push_str(&format!(
            "<p class=\"notice\">{}</p>",
            t(
                "尚无已发布的评价结果。评估负责人登录后可在工作台发布一次评估。",
                "No evaluation is published yet. A lead can publish a run from the workspace after signing in."
            )
        ));
    } else {
        body.push_str(&format!(
            "<div class=\"tablewrap\"><table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\" class=\"n\">{}</th><th scope=\"col\" class=\"n\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
            t("年度", "Year"),
            t("报告", "Report"),
            t("评价单位数", "Units"),
            t("平均分", "Mean score"),
            t("数据", "Data"),
            t("下载", "Downloads"),
        ));
        for r in &published {
            let run = runs::load(state, r.summary.id)
                .await
                .map_err(Problem::page)?;
            let scored: Vec<f64> = run
                .evaluation
                .units
                .iter()
                .filter_map(|u| u.total)
                .collect();
            let mean = if scored.is_empty() {
                0.0
            } else {
                scored.iter().sum::<f64>() / scored.len() as f64
            };
            let id = r.summary.id;
            body.push_str(&format!(
                "<tr><td>{}</td><td><a href=\"{prefix}/runs/{id}/\">{}</a> · <a href=\"{prefix}/runs/{id}/ranking.html\">{}</a></td><td class=\"n\">{}</td><td class=\"n\">{mean:.2}</td><td>{}</td><td><a href=\"/runs/{id}/download/rankings.csv\">CSV</a> · <a href=\"/runs/{id}/download/results.xlsx\">XLSX</a> · <a href=\"/runs/{id}/download/results.json\">JSON</a></td></tr>",
                r.summary.year,
                esc(&r.summary.label),
                t("排名", "ranking"),
                scored.len(),
                if r.summary.synthetic { t("合成（演示）", "synthetic (demo)") } else { t("实测", "observed") },
            ));
        }
        body.push_str("</tbody></table></div>");
        // The unit finder and comparison form, against the newest published run.
        let latest = runs::load(state, published[0].summary.id)
            .await
            .map_err(Problem::page)?;
        let mut units: Vec<&govcap_core::evaluate::UnitResult> = latest
            .evaluation
            .units
            .iter()
            .filter(|u| u.total.is_some())
            .collect();
        units.sort_by(|a, b| a.code.cmp(&b.code));
        let options: String = units
            .iter()
            .map(|u| {
                format!(
                    "<option value=\"{}\">{} {}</option>",
                    esc(&u.code),
                    esc(&u.code),
                    esc(if en { &u.name_en } else { &u.name })
                )
            })
            .collect();
        body.push_str(&format!(
            "<h2>{}</h2><form method=\"get\" action=\"{prefix}/compare\"><label for=\"ca\">{}</label><select id=\"ca\" name=\"a\">{options}</select><label for=\"cb\">{}</label><select id=\"cb\" name=\"b\">{options}</select> <button type=\"submit\">{}</button></form>",
            t("比较两个单位", "Compare two units"),
            t("单位甲", "Unit A"),
            t("单位乙", "Unit B"),
            t("比较", "Compare"),
        ));
        body.push_str(&format!(
            "<h2>{}</h2><form method=\"get\" action=\"{prefix}/units\"><label for=\"uc\">{}</label><select id=\"uc\" name=\"code\">{options}</select> <button type=\"submit\">{}</button></form>",
            t("单位历年表现", "A unit over the years"),
            t("单位", "Unit"),
            t("查看", "Show"),
        ));
    }
    let c = chrome(caller, headers, en, "/");
    let title = t(
        "地方政府互联网服务能力评价",
        "Local government internet service capability",
    );
    Ok(layout::html(
        StatusCode::OK,
        layout::dress(&layout::simple_page(en, title, &body), &c),
    ))
}

pub async fn home_zh(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    home(&state, &caller, &headers, false).await
}

pub async fn home_en(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    home(&state, &caller, &headers, true).await
}

#[derive(Debug, Deserialize)]
pub struct CodeQuery {
    pub code: Option<String>,
}

/// `/units?code=` → `/units/{code}`, so the finder works without scripts.
pub async fn unit_finder(Query(q): Query<CodeQuery>) -> Response {
    let code: String = q
        .code
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(20)
        .collect();
    Redirect::to(&format!("/units/{code}")).into_response()
}

pub async fn unit_finder_en(Query(q): Query<CodeQuery>) -> Response {
    let code: String = q
        .code
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(20)
        .collect();
    Redirect::to(&format!("/en/units/{code}")).into_response()
}

/// A unit over every published year: total, rank, tier and the first-level scores.
async fn history(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    code: &str,
    en: bool,
) -> Result<Response, Problem> {
    caller
        .require(Action::ReadPublished)
        .map_err(Problem::page)?;
    let t = |zh: &'static str, e: &'static str| if en { e } else { zh };
    let mut listed: Vec<ListedRun> = runs::visible(state, caller)
        .await
        .map_err(Problem::page)?
        .into_iter()
        .filter(|r| r.published)
        .collect();
    listed.sort_by_key(|r| (r.summary.year, r.summary.id));
    let prefix = if en { "/en" } else { "" };
    let mut rows = String::new();
    let mut name = None;
    let mut synthetic = false;
    for r in &listed {
        let run = runs::load(state, r.summary.id)
            .await
            .map_err(Problem::page)?;
        let Some(u) = run.evaluation.units.iter().find(|u| u.code == code) else {
            continue;
        };
        synthetic |= run.evaluation.synthetic;
        name = Some(if en {
            u.name_en.clone()
        } else {
            u.name.clone()
        });
        let tier = u.tier.clone().unwrap_or_default();
        rows.push_str(&format!(
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{} {}</td><td><a href=\"{prefix}/runs/{}/units/{}.html\">{}</a></td></tr>",
            run.evaluation.year,
            u.total.map_or("–".into(), |v| format!("{v:.2}")),
            u.rank.map_or("–".into(), |v| v.to_string()),
            u.province_rank.map_or("–".into(), |v| v.to_string()),
            esc(&tier),
            esc(u.sublevel.as_deref().unwrap_or("")),
            r.summary.id,
            esc(&govcap_report::file_safe(code)),
            t("单位页面", "unit page"),
        ));
    }
    let Some(name) = name else {
        return Err(Problem::not_found(format!("unit {} in any published run", clip(code))).page());
    };
    let mut body = format!(
        "<h1>{} <small>{}</small></h1><p class=\"sub\">{}</p>",
        esc(&name),
        esc(code),
        t("历年已发布评价结果", "Every published evaluation")
    );
    if synthetic {
        body.push_str(&govcap_report::html::banner(t(
            "合成数据：本页数值来自模拟数据，仅供演示。",
            "SYNTHETIC DATA: the figures on this page come from simulated data, for demonstration only.",
        )));
    }
    body.push_str(&format!(
        "<div class=\"tablewrap\"><table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\" class=\"n\">{}</th><th scope=\"col\" class=\"n\">{}</th><th scope=\"col\" class=\"n\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>{rows}</tbody></table></div>",
        t("年度", "Year"),
        t("总分", "Score"),
        t("全国排名", "Rank"),
        t("省内排名", "Rank in province"),
        t("发展类型", "Tier"),
        t("详情", "Details"),
    ));
    let c = chrome(caller, headers, en, &format!("/units/{code}"));
    Ok(layout::html(
        StatusCode::OK,
        layout::dress(&layout::simple_page(en, &name, &body), &c),
    ))
}

pub async fn unit_history(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Result<Response, Problem> {
    history(&state, &caller, &headers, &code, false).await
}

pub async fn unit_history_en(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Result<Response, Problem> {
    history(&state, &caller, &headers, &code, true).await
}

#[derive(Debug, Deserialize)]
pub struct CompareQuery {
    /// Unit A and B.
    pub a: Option<String>,
    pub b: Option<String>,
    /// Run of A and of B (default: the newest published run; B defaults to A's run).
    pub ra: Option<i64>,
    pub rb: Option<i64>,
}

/// Two units, or one unit in two years, side by side at every level of the framework.
async fn compare(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    q: CompareQuery,
    en: bool,
) -> Result<Response, Problem> {
    caller
        .require(Action::ReadPublished)
        .map_err(Problem::page)?;
    let t = |zh: &'static str, e: &'static str| if en { e } else { zh };
    let published = runs::published_ids(state).await.map_err(Problem::page)?;
    let Some(&latest) = published.last() else {
        return Err(Problem::not_found("a published run").page());
    };
    let ra = q.ra.unwrap_or(latest);
    let rb = q.rb.unwrap_or(ra);
    let a_code = q.a.unwrap_or_default();
    let b_code = q.b.unwrap_or_else(|| a_code.clone());
    let run_a = runs::get(state, caller, ra).await.map_err(Problem::page)?;
    let run_b = runs::get(state, caller, rb).await.map_err(Problem::page)?;
    let find =
        |run: &Arc<LoadedRun>, code: &str| -> Result<crate::api::runs::UnitDetail, Problem> {
            crate::api::runs::unit_detail(run, code).ok_or_else(|| {
                Problem::not_found(format!("unit {} in run {}", clip(code), run.summary.id)).page()
            })
        };
    let a = find(&run_a, &a_code)?;
    let b = find(&run_b, &b_code)?;
    let label = |d: &crate::api::runs::UnitDetail| {
        format!("{} {}", if en { &d.name_en } else { &d.name }, d.year)
    };
    let mut body = format!(
        "<h1>{}</h1><p class=\"sub\">{} · {}</p>",
        t("对比", "Comparison"),
        esc(&label(&a)),
        esc(&label(&b))
    );
    if a.synthetic || b.synthetic {
        body.push_str(&govcap_report::html::banner(t(
            "合成数据：本页数值来自模拟数据，仅供演示。",
            "SYNTHETIC DATA: the figures on this page come from simulated data, for demonstration only.",
        )));
    }
    let fmt = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.2}"));
    body.push_str(&format!(
        "<div class=\"tablewrap\"><table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\" class=\"n\">{}</th><th scope=\"col\" class=\"n\">{}</th><th scope=\"col\" class=\"n\">{}</th></tr></thead><tbody>",
        t("指标", "Indicator"),
        esc(&label(&a)),
        esc(&label(&b)),
        t("差值（甲−乙）", "Difference (A − B)"),
    ));
    body.push_str(&format!(
        "<tr class=\"l1\"><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
        t("总分", "Total score"),
        fmt(a.total),
        fmt(b.total),
        fmt(a.total.zip(b.total).map(|(x, y)| x - y)),
    ));
    body.push_str(&format!(
        "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td></td></tr><tr><td>{}</td><td>{}</td><td>{}</td><td></td></tr>",
        t("全国排名", "Rank"),
        a.rank.map_or("–".into(), |r| r.to_string()),
        b.rank.map_or("–".into(), |r| r.to_string()),
        t("发展类型", "Tier"),
        esc(&format!("{} {}", a.tier.as_deref().unwrap_or("–"), a.sublevel.as_deref().unwrap_or(""))),
        esc(&format!("{} {}", b.tier.as_deref().unwrap_or("–"), b.sublevel.as_deref().unwrap_or(""))),
    ));
    for (na, nb) in a.nodes.iter().zip(&b.nodes) {
        if na.id != nb.id {
            continue;
        }
        let pa = na.points.or(na.value);
        let pb = nb.points.or(nb.value);
        body.push_str(&format!(
            "<tr class=\"l{}\"><td>{} {}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            (na.depth + 1).min(3),
            esc(&na.id),
            esc(if en { &na.name_en } else { &na.name_zh }),
            fmt(pa),
            fmt(pb),
            fmt(pa.zip(pb).map(|(x, y)| x - y)),
        ));
    }
    body.push_str("</tbody></table></div>");
    let here = format!(
        "/compare?a={}&b={}&ra={ra}&rb={rb}",
        layout::url_escape(&a_code),
        layout::url_escape(&b_code)
    );
    let c = chrome(caller, headers, en, &here);
    Ok(layout::html(
        StatusCode::OK,
        layout::dress(&layout::simple_page(en, t("对比", "Comparison"), &body), &c),
    ))
}

pub async fn compare_zh(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(q): Query<CompareQuery>,
) -> Result<Response, Problem> {
    compare(&state, &caller, &headers, q, false).await
}

pub async fn compare_en(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(q): Query<CompareQuery>,
) -> Result<Response, Problem> {
    compare(&state, &caller, &headers, q, true).await
}

/// `/runs/{id}/download/{file}`: the run's data files, made by the same exporters as the CLI.
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, file)): Path<(i64, String)>,
) -> Result<Response, Problem> {
    caller
        .require(Action::ReadPublished)
        .map_err(Problem::page)?;
    let run = runs::get(&state, &caller, id)
        .await
        .map_err(Problem::page)?;
    let prev = match runs::previous_for(&state, &caller, &run).await? {
        Some(p) => Some(runs::load(&state, p).await?),
        None => None,
    };
    let name = format!("govcap-run{id}-{}-{file}", run.summary.year);
    let (ctype, bytes): (&str, Vec<u8>) = match file.as_str() {
        "results.json" => ("application/json", run.results_json.clone().into_bytes()),
        "rankings.csv" => (
            "text/csv; charset=utf-8",
            govcap_io::export::rankings_csv(&run.evaluation, prev.as_ref().map(|p| &p.evaluation))
                .into_bytes(),
        ),
        "scores_level1.csv" | "scores_level2.csv" | "scores_level3.csv" => {
            let depth = usize::from(file.as_bytes()[12] - b'0');
            (
                "text/csv; charset=utf-8",
                govcap_io::export::level_scores_csv(&run.evaluation, depth).into_bytes(),
            )
        }
        "results.xlsx" => {
            let run2 = Arc::clone(&run);
            let bytes = tokio::task::spawn_blocking(move || {
                let analyses = analyse(&run2.evaluation, prev.as_ref().map(|p| &p.evaluation));
                govcap_io::export::results_xlsx(
                    &run2.evaluation,
                    &govcap_io::export::WorkbookContext {
                        analyses: &analyses,
                        previous: prev.as_ref().map(|p| &p.evaluation),
                        framework_sha256: run2.manifest.framework_sha256.as_deref().unwrap_or(""),
                        inputs: &run2.manifest.inputs,
                        software_version: env!("CARGO_PKG_VERSION"),
                        lang: govcap_io::export::Lang::Zh,
                    },
                )
            })
            .await
            .map_err(|_| Problem::internal())?
            .map_err(|_| Problem::internal())?;
            (
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                bytes,
            )
        }
        _ => return Err(Problem::not_found(format!("download {}", clip(&file))).page()),
    };
    Ok((
        [
            (header::CONTENT_TYPE, ctype.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
pub struct BackQuery {
    pub back: Option<String>,
}

/// Only a local path may be a redirect target (never `//host` or a scheme).
pub fn local_path(p: Option<String>) -> String {
    match p {
        Some(p)
            if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') && p.len() < 500 =>
        {
            p
        }
        _ => "/".into(),
    }
}

/// `/prefs/text/{large|normal}`: the large-text mode, remembered in a cookie.
pub async fn text_size(
    Path(mode): Path<String>,
    Query(q): Query<BackQuery>,
) -> Result<Response, Problem> {
    let cookie = match mode.as_str() {
        "large" => format!("{TEXT_COOKIE}=large; Path=/; Max-Age=31536000; SameSite=Lax"),
        "normal" => format!("{TEXT_COOKIE}=; Path=/; Max-Age=0; SameSite=Lax"),
        _ => return Err(Problem::not_found("this setting").page()),
    };
    let mut r = Redirect::to(&local_path(q.back)).into_response();
    if let Ok(v) = header::HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(r)
}
