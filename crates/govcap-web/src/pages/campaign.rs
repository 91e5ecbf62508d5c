//! The campaign pages: the lead's dashboard (progress by evaluator, indicator and province,
//! agreement, the phase actions), the evaluator's entry page (one page per unit with all of
//! that evaluator's tasks, one form, keyboard first), and the reviewer's queue.
//!
//! Every write goes through the same functions as the API (`crate::campaigns`), so the rules,
//! versions and the audit trail are the same whichever way a value arrives.

use std::collections::BTreeMap;

use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use govcap_core::access::Action;
use govcap_core::campaign::state::Status;
use govcap_core::framework::Rule;
use govcap_report::html::esc;
use serde::Deserialize;

use super::forms;
use super::layout;
use crate::auth::Caller;
use crate::campaigns::{self as c, TaskFilter, TaskView};
use crate::problem::Problem;
use crate::state::AppState;

use super::staff::{csrf_field as csrf, need, page, signed_in_bar};

fn phase_zh(p: &str) -> &'static str {
    match p {
        "entry" => "录入与复核",
        "appeals" => "申诉复核期",
        "frozen" => "已冻结",
        "closed" => "已出结果",
        _ => "-",
    }
}

/// `/staff/campaigns`: the list, and the form to start one (leads).
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Response, Response> {
    need(&caller, Action::ReadTasks, "/staff/campaigns")?;
    let mut all = state
        .pool
        .tx(false, govcap_store::campaigns::list)
        .await
        .map_err(|e| Problem::from(e).page().into_response())?;
    // A unit's representative sees the campaigns whose results are open to it, and goes
    // straight to its provisional results.
    let team = caller.require(Action::ReadCampaigns).is_ok();
    if !team {
        all.retain(|x| x.phase != "entry");
    }
    let target = if team { "" } else { "/provisional" };
    let mut body = signed_in_bar(&caller);
    body.push_str(if team {
        "<h1>评估任务 <small lang=\"en\">Campaigns</small></h1>"
    } else {
        "<h1>初步结果与申诉 <small lang=\"en\">Provisional results and appeals</small></h1>"
    });
    if all.is_empty() {
        body.push_str("<p>目前没有开放的评估任务。</p>");
    }
    body.push_str("<div class=\"tablewrap\"><table><thead><tr><th scope=\"col\" class=\"n\">编号</th><th scope=\"col\">名称</th><th scope=\"col\" class=\"n\">年度</th><th scope=\"col\">阶段</th><th scope=\"col\">创建</th></tr></thead><tbody>");
    for x in &all {
        body.push_str(&format!(
            "<tr><td class=\"n\">{}</td><td><a href=\"/staff/campaigns/{}{target}\">{}</a></td><td class=\"n\">{}</td><td>{}</td><td>{} · {}</td></tr>",
            x.id, x.id, esc(&x.name), x.year, phase_zh(&x.phase), esc(&x.created_by), esc(&x.created_at)
        ));
    }
    body.push_str("</tbody></table></div>");
    if caller.require(Action::ManageCampaigns).is_ok() {
        body.push_str(&format!(
            "<h2>新建评估任务</h2><form method=\"post\" action=\"/staff/campaigns\" enctype=\"multipart/form-data\">{}<label for=\"name\">名称</label><input id=\"name\" name=\"name\" required maxlength=\"200\"><label for=\"year\">年度</label><input id=\"year\" name=\"year\" type=\"number\" min=\"2000\" max=\"2100\" required><label for=\"share\">双人独立编码比例</label><input id=\"share\" name=\"double_share\" value=\"0.1\" inputmode=\"decimal\"><label for=\"due\">完成期限</label><input id=\"due\" name=\"due\" type=\"date\"><label for=\"mrun\">监测运行编号（自动指标与半自动指标的建议值来自它，可留空）</label><input id=\"mrun\" name=\"monitor_run\" inputmode=\"numeric\"><label for=\"fw\">指标框架（TOML，留空则用内置 3/9/31 框架）</label><textarea id=\"fw\" name=\"framework_toml\" rows=\"4\" cols=\"60\"></textarea><label for=\"fwf\">或选择框架文件（.toml，优先于上面的文本）</label><input id=\"fwf\" name=\"framework_file\" type=\"file\" accept=\".toml,text/plain\"><label for=\"units\">单位列表（CSV：code,name,province…；留空则用内置 337 个地级行政单位）</label><textarea id=\"units\" name=\"units_csv\" rows=\"4\" cols=\"60\"></textarea><label for=\"unitsf\">或选择单位列表文件（.csv，UTF-8，优先于上面的文本）</label><input id=\"unitsf\" name=\"units_file\" type=\"file\" accept=\".csv,text/csv\"><button type=\"submit\">创建</button></form>",
            csrf(&caller)
        ));
    }
    Ok(page("评估任务 · govcap", &body))
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    forms::AnyForm(f): forms::AnyForm,
) -> Result<Response, Problem> {
    caller.check_form_csrf(&f.get("csrf_token").unwrap_or_default())?;
    let year = f
        .get("year")
        .and_then(|y| y.trim().parse::<i32>().ok())
        .ok_or_else(|| {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "年度应为四位整数，如 2021",
            )
            .page()
        })?;
    let share = f
        .get("double_share")
        .filter(|x| !x.trim().is_empty())
        .unwrap_or_else(|| "0.1".into())
        .trim()
        .parse::<f64>()
        .map_err(|_| {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "双人独立编码比例应为 0 到 1 之间的小数",
            )
            .page()
        })?;
    let due = f.get("due");
    let due = due
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            if d.len() == 10 {
                format!("{d}T00:00:00Z")
            } else {
                d.to_string()
            }
        });
    let monitor_run = f.get("monitor_run");
    let monitor_run = monitor_run
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(|m| {
            m.parse::<i64>().map_err(|_| {
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "监测运行编号应为整数").page()
            })
        })
        .transpose()?;
    let spec = c::Spec {
        name: f.get("name").unwrap_or_default(),
        year,
        double_share: share,
        seed: 1,
        due_at: due,
        monitor_run,
        framework_toml: f
            .text_or_file("framework_toml", "framework_file")
            .map_err(Problem::page)?,
        units_csv: f
            .text_or_file("units_csv", "units_file")
            .map_err(Problem::page)?,
    };
    let id = c::create(&state, &caller, spec)
        .await
        .map_err(Problem::page)?;
    Ok(Redirect::to(&format!("/staff/campaigns/{id}")).into_response())
}

/// `/staff/campaigns/{id}`: progress, agreement and, for leads, the phase actions.
pub async fn dashboard(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, Response> {
    need(
        &caller,
        Action::ReadCampaigns,
        &format!("/staff/campaigns/{id}"),
    )?;
    let err = |p: Problem| p.page().into_response();
    let s = c::load(&state, id).await.map_err(err)?;
    let all = c::tasks(&state, id, &TaskFilter::default())
        .await
        .map_err(err)?;
    let cp = &s.campaign;
    let mut body = signed_in_bar(&caller);
    body += &format!(
        "<h1>{} <small>{} 年</small></h1><p class=\"notice\">阶段：<strong>{}</strong>{} · 任务 {} 项（其中双人编码第二份 {} 项）</p>",
        esc(&cp.name),
        cp.year,
        phase_zh(&cp.phase),
        cp.appeal_deadline.as_deref().map(|d| format!("（申诉截止 {}）", esc(d))).unwrap_or_default(),
        all.len(),
        all.iter().filter(|t| t.coder == 2).count()
    );
    let fc = c::forecast(&all, cp.due_at.as_deref(), crate::clock::now_secs());
    body.push_str(&forecast_box(&fc));
    if caller.require(Action::EnterValues).is_ok() {
        body.push_str(&format!(
            "<p><a href=\"/staff/campaigns/{id}/entry\">我的录入任务</a></p>"
        ));
    }
    if caller.require(Action::ReviewValues).is_ok() {
        body.push_str(&format!(
            "<p><a href=\"/staff/campaigns/{id}/review\">待复核</a></p>"
        ));
    }
    body.push_str(&format!(
        "<p><a href=\"/staff/campaigns/{id}/tasks\">任务列表{}</a> · <a href=\"/staff/campaigns/{id}/provisional\">初步结果、申诉与裁定</a></p>",
        if caller.require(Action::ManageCampaigns).is_ok() { "（按人改派）" } else { "" }
    ));
    // Progress tables: by evaluator, indicator and province.
    let statuses = [
        "todo",
        "entered",
        "returned",
        "disputed",
        "confirmed",
        "appealed",
        "reopened",
    ];
    let label = |k: &str| match k {
        "todo" => "待录入",
        "entered" => "待复核",
        "returned" => "退回",
        "disputed" => "待裁定",
        "confirmed" => "已确认",
        "appealed" => "申诉中",
        "reopened" => "申诉成立待改",
        _ => "未分配",
    };
    let key = |t: &TaskView| {
        if t.disputed {
            "disputed"
        } else {
            t.state.status.as_str()
        }
    };
    let mut table = |title: &str, group: &dyn Fn(&TaskView) -> String| {
        let mut m: BTreeMap<String, BTreeMap<&str, usize>> = BTreeMap::new();
        for t in &all {
            *m.entry(group(t)).or_default().entry(key(t)).or_default() += 1;
        }
        body.push_str(&format!(
            "<h2>{}</h2><div class=\"tablewrap\"><table><thead><tr><th scope=\"col\"></th>",
            esc(title)
        ));
        for k in statuses {
            body.push_str(&format!("<th scope=\"col\" class=\"n\">{}</th>", label(k)));
        }
        body.push_str("<th scope=\"col\" class=\"n\">完成</th></tr></thead><tbody>");
        for (g, counts) in &m {
            let total: usize = counts.values().sum();
            let done = counts.get("confirmed").copied().unwrap_or(0);
            body.push_str(&format!("<tr><th scope=\"row\">{}</th>", esc(g)));
            for k in statuses {
                body.push_str(&format!(
                    "<td class=\"n\">{}</td>",
                    counts.get(k).copied().unwrap_or(0)
                ));
            }
            body.push_str(&format!(
                "<td class=\"n\">{:.0} %</td></tr>",
                100.0 * done as f64 / total.max(1) as f64
            ));
        }
        body.push_str("</tbody></table></div>");
    };
    table("按评估员", &|t| {
        t.state
            .assignee
            .clone()
            .unwrap_or_else(|| "（未分配）".into())
    });
    table("按指标", &|t| t.indicator.clone());
    table("按省份", &|t| {
        s.units
            .get(&t.unit)
            .and_then(|u| u.province.clone())
            .unwrap_or_default()
    });
    // Agreement.
    let agreement = c::agreement(&s, &all);
    body.push_str(&format!("<h2>评估员一致性 <small lang=\"en\">Inter-rater agreement</small></h2><p>双人独立编码样本，二值与分级指标用 Cohen's κ，连续指标用 Krippendorff's α（区间）。 <a href=\"/api/v1/campaigns/{id}/agreement.csv\">导出 CSV</a></p>"));
    body.push_str("<div class=\"tablewrap\"><table><thead><tr><th scope=\"col\">指标</th><th scope=\"col\">规则</th><th scope=\"col\" class=\"n\">配对数</th><th scope=\"col\" class=\"n\">一致比例</th><th scope=\"col\">统计量</th><th scope=\"col\" class=\"n\">值</th></tr></thead><tbody>");
    for a in &agreement {
        body.push_str(&format!(
            "<tr><td>{} {}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{:.0} %</td><td>{}</td><td class=\"n\">{}</td></tr>",
            esc(a["indicator"].as_str().unwrap_or("")),
            esc(a["name_zh"].as_str().unwrap_or("")),
            esc(a["rule"].as_str().unwrap_or("")),
            a["pairs"],
            a["percent_agreement"].as_f64().unwrap_or(0.0) * 100.0,
            if a["statistic"] == "cohen_kappa" { "κ" } else { "α" },
            a["value"].as_f64().map_or("无法计算".to_string(), |v| format!("{v:.3}")),
        ));
    }
    if agreement.is_empty() {
        body.push_str(
            "<tr><td colspan=\"6\">尚无双人编码配对（两份编码都录入后才计算）。</td></tr>",
        );
    }
    body.push_str("</tbody></table></div>");
    // Actions.
    if caller.require(Action::ManageCampaigns).is_ok() {
        body.push_str("<h2>操作</h2>");
        let f = |action: &str, inner: &str, button: &str| {
            format!("<form method=\"post\" action=\"/staff/campaigns/{id}/{action}\">{}{inner}<button type=\"submit\">{button}</button></form>", csrf(&caller))
        };
        match cp.phase.as_str() {
            "entry" if all.is_empty() => body.push_str(&f(
                "generate",
                "<label for=\"evs\">评估员（逗号分隔）</label><input id=\"evs\" name=\"evaluators\" required><label for=\"by\">分组</label><select id=\"by\" name=\"by\"><option value=\"province\">按省份</option><option value=\"indicator\">按指标</option></select> ",
                "生成并分配任务",
            )),
            "entry" => {
                body.push_str(&f("appeals", "<label for=\"dl\">申诉截止（UTC）</label><input id=\"dl\" name=\"deadline\" placeholder=\"2027-01-15T00:00:00Z\" required> ", "开放初步结果与申诉"));
                body.push_str(&f("freeze", "", "冻结"));
            }
            "appeals" => body.push_str(&f("freeze", "", "冻结")),
            "frozen" => body.push_str(&f("run", "", "计算评估结果")),
            _ => {}
        }
        if let Some(r) = cp.run_id {
            body.push_str(&format!(
                "<p>评估结果：<a href=\"/runs/{r}/\">运行 {r}</a>（在工作台发布后公开）</p>"
            ));
        }
        body.push_str(&format!(
            "<p><a href=\"/api/v1/campaigns/{id}/observations.csv\">下载已确认数值（CSV）</a></p>"
        ));
    }
    Ok(page(&format!("{} · govcap", cp.name), &body))
}

#[derive(Debug, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    pub csrf_token: String,
    pub evaluators: Option<String>,
    pub by: Option<String>,
    pub deadline: Option<String>,
}

pub async fn action(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, what)): Path<(i64, String)>,
    Form(f): Form<ActionForm>,
) -> Result<Response, Problem> {
    caller.check_form_csrf(&f.csrf_token)?;
    let r = match what.as_str() {
        "generate" => {
            let evs: Vec<String> = f
                .evaluators
                .unwrap_or_default()
                .split([',', '，', ' '])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            let by = if f.by.as_deref() == Some("indicator") {
                govcap_core::campaign::assign::AssignBy::Indicator
            } else {
                govcap_core::campaign::assign::AssignBy::Province
            };
            c::generate(&state, &caller, id, Some(by), evs)
                .await
                .map(|_| ())
        }
        "appeals" => {
            c::set_phase(
                &state,
                &caller,
                id,
                "appeals",
                f.deadline.map(|d| d.trim().to_string()),
            )
            .await
        }
        "freeze" => c::set_phase(&state, &caller, id, "frozen", None).await,
        "run" => c::compute_run(&state, &caller, id).await.map(|_| ()),
        _ => Err(Problem::not_found("this action")),
    };
    r.map_err(Problem::page)?;
    Ok(Redirect::to(&format!("/staff/campaigns/{id}")).into_response())
}

#[derive(Debug, Deserialize)]
pub struct UnitQuery {
    pub unit: Option<String>,
    /// Messages from the last save, shown once.
    pub saved: Option<usize>,
    /// A capture just made: the task, and the archived page's URL to put in its evidence.
    pub captured: Option<i64>,
    pub capture_url: Option<String>,
}

/// `/staff/campaigns/{id}/entry`: the evaluator's units with open tasks; with `?unit=` the
/// entry page for that unit.
pub async fn entry(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(q): Query<UnitQuery>,
) -> Result<Response, Response> {
    need(
        &caller,
        Action::EnterValues,
        &format!("/staff/campaigns/{id}/entry"),
    )?;
    let err = |p: Problem| p.page().into_response();
    let s = c::load(&state, id).await.map_err(err)?;
    let me = caller.name().to_string();
    let mine = c::tasks(
        &state,
        id,
        &TaskFilter {
            assignee: Some(me.clone()),
            ..Default::default()
        },
    )
    .await
    .map_err(err)?;
    match q.unit {
        None => {
            let mut by_unit: BTreeMap<String, (usize, usize)> = BTreeMap::new();
            for t in &mine {
                let e = by_unit.entry(t.unit.clone()).or_default();
                e.0 += 1;
                if matches!(
                    t.state.status,
                    Status::Todo | Status::Returned | Status::Reopened
                ) {
                    e.1 += 1;
                }
            }
            let mut body = format!(
                "<h1>我的录入任务 <small>{}</small></h1><p>{} 个单位，{} 项任务。</p>{}",
                esc(&s.campaign.name),
                by_unit.len(),
                mine.len(),
                sheet_forms(&caller, id, q.saved)
            );
            body.push_str("<div class=\"tablewrap\"><table><thead><tr><th scope=\"col\">单位</th><th scope=\"col\" class=\"n\">任务</th><th scope=\"col\" class=\"n\">待办</th></tr></thead><tbody>");
            for (u, (n, open)) in &by_unit {
                let name = s.units.get(u).map(|x| x.name.clone()).unwrap_or_default();
                body.push_str(&format!("<tr><td><a href=\"/staff/campaigns/{id}/entry?unit={u}\">{} {}</a></td><td class=\"n\">{n}</td><td class=\"n\">{open}</td></tr>", esc(u), esc(&name)));
            }
            body.push_str("</tbody></table></div>");
            Ok(page("录入 · govcap", &body))
        }
        Some(unit) => {
            let monitor = c::proposals(&state, &s).await.map_err(err)?;
            let captured = q.captured.zip(
                q.capture_url
                    .as_deref()
                    .filter(|u| u.starts_with("/staff/captures/")),
            );
            let notes = Notes {
                saved: q.saved,
                problems: &[],
                captured,
            };
            Ok(entry_unit(&s, &caller, &mine, &unit, notes, &monitor))
        }
    }
}

/// What the entry page reports about the last action.
#[derive(Default)]
struct Notes<'a> {
    saved: Option<usize>,
    problems: &'a [(i64, String)],
    /// A capture just made: the task and the archived page's URL for its evidence field.
    captured: Option<(i64, &'a str)>,
}

/// One page with every task of this evaluator for one unit.
fn entry_unit(
    s: &c::Setup,
    caller: &Caller,
    mine: &[TaskView],
    unit: &str,
    notes: Notes,
    monitor: &c::Proposals,
) -> Response {
    let Notes {
        saved,
        problems,
        captured,
    } = notes;
    let id = s.campaign.id;
    let u = s.units.get(unit);
    let portal = govcap_monitor::run::default_sites()
        .into_iter()
        .find(|x| x.code == unit)
        .map(|x| x.url);
    let mut body = format!(
        "<h1>{} {}</h1><p>{}<a href=\"/staff/campaigns/{id}/entry\">返回单位列表</a></p>",
        esc(unit),
        esc(u.map_or("", |u| u.name.as_str())),
        portal.map(|p| format!("门户网站：<a href=\"{0}\" rel=\"noopener noreferrer\" target=\"_blank\">{0}</a> · ", esc(&p))).unwrap_or_default()
    );
    if let Some(n) = saved {
        body.push_str(&format!(
            "<p class=\"notice\" role=\"status\">已保存 {n} 项。</p>"
        ));
    }
    for (tid, msg) in problems {
        body.push_str(&format!(
            "<p class=\"warn\" role=\"alert\"><a href=\"#t{tid}\">任务 {tid}</a>：{}</p>",
            esc(msg)
        ));
    }
    // The first submit button of the form is the one Enter presses: it must be the save.
    body.push_str(&format!(
        "<form method=\"post\" action=\"/staff/campaigns/{id}/entry?unit={}\" enctype=\"multipart/form-data\">{}<p><button type=\"submit\">保存本单位</button></p>",
        layout::url_escape(unit),
        csrf(caller)
    ));
    let mut first = true;
    for t in mine.iter().filter(|t| t.unit == unit) {
        let Some(node) = s.fw.nodes.iter().find(|n| n.id == t.indicator) else {
            continue;
        };
        let Some(leaf) = &node.leaf else { continue };
        let editable = matches!(
            t.state.status,
            Status::Todo | Status::Entered | Status::Returned | Status::Reopened
        ) && matches!(s.campaign.phase.as_str(), "entry" | "appeals");
        let value = t.state.value.clone().unwrap_or_default();
        // The first field to fill gets the focus, so typing starts at once.
        let dis_af = match (editable, first) {
            (false, _) => " disabled",
            (true, true) => " autofocus",
            (true, false) => "",
        };
        let input = match &leaf.rule {
            Rule::Graded { levels } => {
                let mut sel = format!(
                    "<select id=\"v{0}\" name=\"v{0}\"{1}><option value=\"\">—</option>",
                    t.id, dis_af
                );
                for l in levels {
                    let chosen = if l.key == value || l.zh == value {
                        " selected"
                    } else {
                        ""
                    };
                    sel.push_str(&format!(
                        "<option value=\"{}\"{chosen}>{}（{}）</option>",
                        esc(&l.key),
                        esc(&l.zh),
                        l.fraction
                    ));
                }
                sel.push_str("</select>");
                sel
            }
            Rule::Binary => {
                let opt = |v: &str, label: &str| {
                    let chosen =
                        if value == v || (v == "1" && value == "是") || (v == "0" && value == "否")
                        {
                            " selected"
                        } else {
                            ""
                        };
                    format!("<option value=\"{v}\"{chosen}>{label}</option>")
                };
                format!("<select id=\"v{0}\" name=\"v{0}\"{1}><option value=\"\">—</option>{2}{3}</select>", t.id, dis_af, opt("1", "是"), opt("0", "否"))
            }
            _ => format!(
                "<input id=\"v{0}\" name=\"v{0}\" value=\"{1}\" inputmode=\"decimal\"{2}{3}>",
                t.id,
                esc(&value),
                if editable { "" } else { " disabled" },
                if first && editable { " autofocus" } else { "" }
            ),
        };
        if editable {
            first = false;
        }
        let rule_text = match &leaf.rule {
            Rule::Binary => "是/否".to_string(),
            Rule::Ratio => "比例 0–1 或百分数（如 0.85、85%）".to_string(),
            Rule::Count { cap } => format!("计数，满分 {cap}"),
            Rule::Graded { .. } => "分级".to_string(),
            Rule::Continuous => "数值".to_string(),
        };
        body.push_str(&format!(
            "<fieldset id=\"t{tid}\"><legend>{ind} {name}</legend><p class=\"sub\">规则：{rule}{guide}{coder} · 状态：{status}{note}</p>{proposal}<input type=\"hidden\" name=\"ver{tid}\" value=\"{ver}\"><label for=\"v{tid}\">数值</label>{input}<label for=\"e{tid}\">证据网址</label><input id=\"e{tid}\" name=\"e{tid}\" value=\"{ev}\"{dis}>{capture}<label for=\"n{tid}\">备注</label><input id=\"n{tid}\" name=\"n{tid}\" value=\"{nt}\"{dis}><label for=\"c{tid}\">把握程度</label><select id=\"c{tid}\" name=\"c{tid}\"{dis}>{conf}</select>{upload}</fieldset>",
            tid = t.id,
            ind = esc(&t.indicator),
            name = esc(&node.name_zh),
            rule = esc(&rule_text),
            guide = leaf.scoring.as_deref().map(|g| format!(" · 说明：{}", esc(g))).unwrap_or_default(),
            coder = if t.coder == 2 { " · 独立第二编码" } else { "" },
            proposal = monitor
                .get(&(t.unit.clone(), t.indicator.clone()))
                .filter(|p| p.source == "proposed")
                .map(|p| format!(
                    "<p class=\"notice\">监测建议值（仅供参考，须人工核验）：<strong>{}</strong>{}</p>",
                    esc(&p.value),
                    p.evidence_url.as_deref().map(|u| format!(" · <a href=\"{0}\" rel=\"noopener noreferrer\" target=\"_blank\">监测证据</a>", esc(u))).unwrap_or_default()
                ))
                .unwrap_or_default(),
            status = t.state.status.as_str(),
            note = t.state.note.as_deref().map(|n| format!(" · 复核意见：{}", esc(n))).unwrap_or_default(),
            ver = t.state.version,
            ev = esc(match captured {
                Some((ct, u)) if ct == t.id => u,
                _ => t.evidence_url.as_deref().unwrap_or(""),
            }),
            capture = if editable {
                format!(
                    " <button type=\"submit\" formaction=\"/staff/campaigns/{id}/capture/{}?unit={}\" formnovalidate>立即存证</button>{}",
                    t.id,
                    layout::url_escape(unit),
                    if captured.is_some_and(|(ct, _)| ct == t.id) { " <span role=\"status\">已存证，保存后生效</span>" } else { "" }
                )
            } else {
                String::new()
            },
            upload = if editable {
                format!("<label for=\"f{0}\">或上传证据文件（截图或 PDF，不超过 10 MiB；保存后替代上面的网址）</label><input id=\"f{0}\" name=\"f{0}\" type=\"file\" accept=\"image/png,image/jpeg,image/gif,image/webp,application/pdf\">", t.id)
            } else {
                String::new()
            },
            nt = esc(t.note.as_deref().unwrap_or("")),
            conf = [("", "—"), ("high", "高"), ("medium", "中"), ("low", "低")]
                .iter()
                .map(|(k, l)| format!(
                    "<option value=\"{k}\"{}>{l}</option>",
                    if t.state.confidence.as_deref().unwrap_or("") == *k { " selected" } else { "" }
                ))
                .collect::<String>(),
            dis = if editable { "" } else { " disabled" },
        ));
    }
    body.push_str("<p><button type=\"submit\">保存本单位（Enter）</button></p></form>");
    page("录入 · govcap", &body)
}

/// Saves every changed task of the page; each is checked on its own (version, rule), the
/// others still save, and the page says which ones did not and why.
pub async fn entry_save(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(q): Query<UnitQuery>,
    forms::AnyForm(f): forms::AnyForm,
) -> Result<Response, Problem> {
    caller.check_form_csrf(&f.get("csrf_token").unwrap_or_default())?;
    caller.require(Action::EnterValues).map_err(Problem::page)?;
    let unit = q.unit.clone().unwrap_or_default();
    let me = caller.name().to_string();
    let (saved, problems) = save_typed(&state, &caller, id, &unit, &f).await?;
    if problems.is_empty() {
        return Ok(Redirect::to(&format!(
            "/staff/campaigns/{id}/entry?unit={}&saved={saved}",
            layout::url_escape(&unit)
        ))
        .into_response());
    }
    let s = c::load(&state, id).await.map_err(Problem::page)?;
    let fresh = c::tasks(
        &state,
        id,
        &TaskFilter {
            assignee: Some(me),
            ..Default::default()
        },
    )
    .await
    .map_err(Problem::page)?;
    let monitor = c::proposals(&state, &s).await.map_err(Problem::page)?;
    let notes = Notes {
        saved: Some(saved),
        problems: &problems,
        captured: None,
    };
    let mut r = entry_unit(&s, &caller, &fresh, &unit, notes, &monitor);
    *r.status_mut() = StatusCode::CONFLICT;
    Ok(r)
}

/// `/staff/campaigns/{id}/review`: values awaiting review that the caller did not enter.
pub async fn review_queue(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, Response> {
    need(
        &caller,
        Action::ReviewValues,
        &format!("/staff/campaigns/{id}/review"),
    )?;
    let err = |p: Problem| p.page().into_response();
    let s = c::load(&state, id).await.map_err(err)?;
    let all = c::tasks(&state, id, &TaskFilter::default())
        .await
        .map_err(err)?;
    let me = caller.name();
    let queue: Vec<&TaskView> = all
        .iter()
        .filter(|t| {
            t.coder == 1
                && t.state.status == Status::Entered
                && t.state.entered_by.as_deref() != Some(me)
        })
        .take(200)
        .collect();
    let mut body = format!("<h1>待复核 <small>{}</small></h1><p>前 {} 项（不含本人录入的数值）。</p><div class=\"tablewrap\"><table><thead><tr><th scope=\"col\">单位</th><th scope=\"col\">指标</th><th scope=\"col\">数值</th><th scope=\"col\">证据</th><th scope=\"col\">录入</th><th scope=\"col\">操作</th></tr></thead><tbody>", esc(&s.campaign.name), queue.len());
    for t in queue {
        let name =
            s.fw.nodes
                .iter()
                .find(|n| n.id == t.indicator)
                .map(|n| n.name_zh.clone())
                .unwrap_or_default();
        let ev = t
            .evidence_url
            .as_deref()
            .map(|u| {
                format!(
                    "<a href=\"{0}\" rel=\"noopener noreferrer\" target=\"_blank\">证据</a>",
                    esc(u)
                )
            })
            .unwrap_or_default();
        let actions = if t.disputed {
            "双人编码不一致，待负责人裁定".to_string()
        } else {
            format!(
                "<form class=\"inline\" method=\"post\" action=\"/staff/campaigns/{id}/review/{tid}\">{c}<input type=\"hidden\" name=\"decision\" value=\"confirm\"><button type=\"submit\">确认</button></form> <form class=\"inline\" method=\"post\" action=\"/staff/campaigns/{id}/review/{tid}\">{c}<input type=\"hidden\" name=\"decision\" value=\"reject\"><label class=\"inline\" for=\"r{tid}\">退回理由</label><input id=\"r{tid}\" name=\"note\" required> <button type=\"submit\">退回</button></form>",
                tid = t.id,
                c = csrf(&caller)
            )
        };
        body.push_str(&format!(
            "<tr><td>{} {}</td><td>{} {}</td><td>{}</td><td>{ev}</td><td>{}</td><td>{actions}</td></tr>",
            esc(&t.unit),
            esc(s.units.get(&t.unit).map_or("", |u| u.name.as_str())),
            esc(&t.indicator),
            esc(&name),
            esc(t.state.value.as_deref().unwrap_or("")),
            esc(t.state.entered_by.as_deref().unwrap_or("")),
        ));
    }
    body.push_str("</tbody></table></div>");
    Ok(page("复核 · govcap", &body))
}

#[derive(Debug, Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    pub csrf_token: String,
    pub decision: String,
    #[serde(default)]
    pub note: String,
}

pub async fn review_save(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, tid)): Path<(i64, i64)>,
    Form(f): Form<ReviewForm>,
) -> Result<Response, Problem> {
    caller.check_form_csrf(&f.csrf_token)?;
    c::review(&state, &caller, tid, f.decision == "confirm", &f.note)
        .await
        .map_err(Problem::page)?;
    Ok(Redirect::to(&format!("/staff/campaigns/{id}/review")).into_response())
}

/// Download and upload of the evaluator's spreadsheet.
fn sheet_forms(caller: &Caller, id: i64, saved: Option<usize>) -> String {
    let mut out = String::new();
    if let Some(n) = saved {
        out.push_str(&format!(
            "<p class=\"notice\" role=\"status\">已保存 {n} 项。</p>"
        ));
    }
    out.push_str(&format!(
        "<p><a href=\"/api/v1/campaigns/{id}/sheet.xlsx\">下载我的任务表格（XLSX）</a></p><form method=\"post\" action=\"/staff/campaigns/{id}/sheet\" enctype=\"multipart/form-data\">{}<label for=\"sheet\">上传填好的表格（整表校验，有错则全部不保存）</label><input id=\"sheet\" name=\"sheet\" type=\"file\" accept=\".xlsx\" required> <button type=\"submit\">上传</button></form>",
        csrf(caller)
    ));
    out
}

/// The upload form's target: the same import as `PUT /api/v1/campaigns/{id}/sheet`.
pub async fn sheet_upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    forms::AnyForm(f): forms::AnyForm,
) -> Result<Response, Problem> {
    caller.check_form_csrf(&f.get("csrf_token").unwrap_or_default())?;
    let Some((_, name, bytes)) = f.file("sheet").cloned() else {
        return Err(Problem::bad_request("choose the filled spreadsheet to upload").page());
    };
    let saved = c::import_sheet(&state, &caller, id, bytes, &name)
        .await
        .map_err(Problem::page)?;
    Ok(Redirect::to(&format!("/staff/campaigns/{id}/entry?saved={saved}")).into_response())
}

fn forecast_box(f: &c::Forecast) -> String {
    let mut out = format!(
        "<p class=\"notice\">已确认 {} 项，未完成 {} 项；近 7 日平均每日确认 {:.1} 项",
        f.confirmed, f.open, f.per_day
    );
    match &f.estimated_done {
        Some(d) => out.push_str(&format!(
            "，按此进度预计 {} 完成",
            esc(&d[..10.min(d.len())])
        )),
        None if f.open > 0 => out.push_str("，近 7 日无确认，无法估计完成时间"),
        None => {}
    }
    if let Some(d) = &f.due_at {
        out.push_str(&format!("；期限 {}", esc(d)));
    }
    out.push_str("。</p>");
    if f.overdue || f.due_soon {
        let who: Vec<String> = f
            .open_by_evaluator
            .iter()
            .map(|(e, n)| format!("{} {n} 项", esc(e)))
            .collect();
        out.push_str(&format!(
            "<p class=\"warn\" role=\"alert\">{}：{}</p>",
            if f.overdue {
                "已逾期"
            } else {
                "期限将至"
            },
            if who.is_empty() {
                "待复核".to_string()
            } else {
                who.join("，")
            }
        ));
    }
    out
}

/// The entry page's 立即存证 button (the whole form is submitted to here): the values typed so
/// far are saved as by the save button, the task's evidence URL (or the unit's portal) is
/// captured, and the page comes back with the capture in the task's evidence field.
pub async fn capture_button(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, tid)): Path<(i64, i64)>,
    Query(q): Query<UnitQuery>,
    forms::AnyForm(f): forms::AnyForm,
) -> Result<Response, Problem> {
    caller.check_form_csrf(&f.get("csrf_token").unwrap_or_default())?;
    let unit = q.unit.clone().unwrap_or_default();
    // Nothing typed is lost: the form is saved first, as by the save button.
    let (_, problems) = save_typed(&state, &caller, id, &unit, &f).await?;
    if !problems.is_empty() {
        let mut p = Problem::conflict(
            "some values could not be saved, so nothing was captured; go back and correct them",
        );
        p.errors = Some(
            problems
                .iter()
                .map(|(t, m)| format!("任务 {t}: {m}"))
                .collect(),
        );
        return Err(p.page());
    }
    let portal = govcap_monitor::run::default_sites()
        .into_iter()
        .find(|x| x.code == unit)
        .map(|x| x.url);
    let target = f
        .get(&format!("e{tid}"))
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
        .or(portal)
        .ok_or_else(|| {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "写入要存证的网址（http/https）后再点立即存证",
            )
            .page()
        })?;
    let cap = crate::evidence::capture(&state, &caller, tid, &target)
        .await
        .map_err(Problem::page)?;
    Ok(Redirect::to(&format!(
        "/staff/campaigns/{id}/entry?unit={}&captured={tid}&capture_url={}#t{tid}",
        layout::url_escape(&unit),
        layout::url_escape(&cap.url)
    ))
    .into_response())
}

/// Saves every value typed on an entry page that changed; each task is checked on its own.
async fn save_typed(
    state: &AppState,
    caller: &Caller,
    id: i64,
    unit: &str,
    f: &forms::Fields,
) -> Result<(usize, Vec<(i64, String)>), Problem> {
    let get = |k: &str| f.get(k);
    let me = caller.name().to_string();
    let mine = c::tasks(
        state,
        id,
        &TaskFilter {
            assignee: Some(me),
            unit: Some(unit.to_string()),
            ..Default::default()
        },
    )
    .await
    .map_err(Problem::page)?;
    let mut saved = 0;
    let mut problems = Vec::new();
    for t in &mine {
        let Some(v) = get(&format!("v{}", t.id)) else {
            continue;
        };
        let mut ev = get(&format!("e{}", t.id)).filter(|x| !x.trim().is_empty());
        // An uploaded file is the evidence: stored by its hash, its address replaces the URL.
        let file = f.file(&format!("f{}", t.id));
        if let Some((_, name, bytes)) = file {
            match crate::evidence::upload(state, caller, name, bytes.clone()).await {
                Ok((sha, _, _)) => ev = Some(format!("/evidence/files/{sha}")),
                Err(p) => {
                    problems.push((t.id, format!("证据文件 {}：{}", name, p.detail)));
                    continue;
                }
            }
        }
        let note = get(&format!("n{}", t.id)).filter(|x| !x.trim().is_empty());
        let ver: u64 = get(&format!("ver{}", t.id))
            .and_then(|x| x.parse().ok())
            .unwrap_or(0);
        let conf = get(&format!("c{}", t.id)).filter(|x| !x.trim().is_empty());
        let unchanged = t.state.value.as_deref().unwrap_or("") == v.trim()
            && t.evidence_url == ev
            && t.note == note
            && t.state.confidence == conf;
        if v.trim().is_empty() {
            if file.is_some() {
                problems.push((t.id, "先填数值，再上传证据文件".into()));
            }
            continue;
        }
        if unchanged {
            continue;
        }
        let entry = c::Entry {
            value: v.clone(),
            evidence_url: ev,
            note,
            confidence: conf,
        };
        match c::enter(state, caller, t.id, entry, ver).await {
            Ok(_) => saved += 1,
            Err(p) => problems.push((t.id, p.detail)),
        }
    }
    Ok((saved, problems))
}
