//! The campaign pages after entry: the evaluated unit's provisional results and appeals, the
//! lead's appeal decisions and adjudications, and the task list where the lead reassigns by
//! hand. Each handler parses, authorises (through the campaign functions it calls), calls one
//! plain function and redirects or renders.

use std::collections::HashMap;

use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use govcap_core::access::{Action, Role};
use govcap_core::campaign::state::Status;
use govcap_report::html::esc;
use serde::Deserialize;

use super::forms;
use super::layout;
use super::staff::{csrf_field as csrf, need, page, signed_in_bar};
use crate::auth::Caller;
use crate::campaigns::{self as c, TaskFilter, TaskView};
use crate::problem::Problem;
use crate::state::AppState;

fn status_zh(t: &TaskView) -> &'static str {
    if t.disputed {
        return "待裁定";
    }
    match t.state.status {
        Status::Unassigned => "未分配",
        Status::Todo => "待录入",
        Status::Entered => "待复核",
        Status::Returned => "退回",
        Status::Confirmed => "已确认",
        Status::Appealed => "申诉中",
        Status::Reopened => "申诉成立待改",
    }
}

fn evidence_link(u: Option<&str>) -> String {
    match u {
        Some(u) if !u.is_empty() => format!(
            "<a href=\"{}\" rel=\"noopener noreferrer\" target=\"_blank\">证据</a>",
            esc(u)
        ),
        _ => "—".into(),
    }
}

fn fmt_points(p: Option<f64>) -> String {
    p.map_or("—".into(), |v| format!("{v:.2}"))
}

#[derive(Debug, Deserialize)]
pub struct DeskQuery {
    /// A task just appealed, or an appeal just decided: said once at the top.
    pub done: Option<String>,
}

/// `/staff/campaigns/{id}/provisional`: a unit's representative sees its own provisional
/// scores and values with an appeal form per confirmed value; the team sees every appeal
/// (the lead decides them) and the disputed double codings (the lead adjudicates them).
pub async fn desk(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(q): Query<DeskQuery>,
) -> Result<Response, Response> {
    let here = format!("/staff/campaigns/{id}/provisional");
    need(&caller, Action::ReadTasks, &here)?;
    let err = |p: Problem| p.page().into_response();
    let (s, values) = c::visible_values(&state, &caller, id).await.map_err(err)?;
    let cp = &s.campaign;
    let open = c::appeals_open(cp);
    let mut body = signed_in_bar(&caller);
    body += &format!(
        "<h1>初步结果与申诉 <small>{} · {} 年</small></h1>",
        esc(&cp.name),
        cp.year
    );
    body.push_str(&match (cp.phase.as_str(), cp.appeal_deadline.as_deref()) {
        ("appeals", Some(d)) if open => format!("<p class=\"notice\">申诉复核期：截止 {}（UTC）。对已确认的数值有异议，可附反证提出申诉；评估负责人裁决后，改动的数值重新经复核。</p>", esc(d)),
        ("appeals", _) if open => "<p class=\"notice\">申诉复核期：可对已确认的数值附反证提出申诉。</p>".into(),
        ("appeals", Some(d)) => format!("<p class=\"warn\">申诉已于 {} 截止。</p>", esc(d)),
        ("entry", _) => "<p class=\"notice\">录入与复核阶段：初步结果尚未开放给被评估单位。</p>".into(),
        _ => "<p class=\"notice\">申诉期已结束，数值已冻结。</p>".into(),
    });
    if let Some(d) = q.done.as_deref() {
        let msg = match d {
            "appeal" => "申诉已提交，等待评估负责人裁决。",
            "decision" => "裁决已记录。",
            "adjudication" => "裁定值已记录，等待复核。",
            _ => "",
        };
        if !msg.is_empty() {
            body.push_str(&format!("<p class=\"notice\" role=\"status\">{msg}</p>"));
        }
    }
    let provisional = c::provisional(&state, &caller, id).await.map_err(err)?;
    if caller.role == Some(Role::Unit) {
        body.push_str(&unit_view(&s, &caller, &values, provisional.as_ref(), open));
    } else {
        match &provisional {
            Some((rid, units)) => body.push_str(&format!(
                "<p>初步结果：<a href=\"/runs/{rid}/\">运行 {rid}</a>（草稿，仅评估团队与各单位本单位可见；{} 个单位）。</p>",
                units.len()
            )),
            None if cp.phase != "entry" => body.push_str(
                "<p>没有初步结果：开放申诉时尚无已确认的数值。</p>",
            ),
            None => {}
        }
        body.push_str(&team_appeals(&caller, id, &values));
        if caller.require(Action::ManageCampaigns).is_ok() {
            let all = c::tasks(&state, id, &TaskFilter::default())
                .await
                .map_err(err)?;
            body.push_str(&disputes(&s, &caller, &all));
        }
    }
    Ok(page(&format!("初步结果与申诉 · {}", cp.name), &body))
}

/// A representative's own units: scores, values and appeal forms.
fn unit_view(
    s: &c::Setup,
    caller: &Caller,
    values: &[TaskView],
    provisional: Option<&(i64, Vec<c::ProvisionalUnit>)>,
    open: bool,
) -> String {
    let id = s.campaign.id;
    let mut out = String::new();
    let mut units: Vec<&str> = values.iter().map(|t| t.unit.as_str()).collect();
    units.sort_unstable();
    units.dedup();
    if units.is_empty() {
        out.push_str("<p>本任务中没有贵单位的评估项。</p>");
    }
    for code in units {
        let name = s
            .units
            .get(code)
            .map(|u| u.name.clone())
            .unwrap_or_default();
        out.push_str(&format!(
            "<h2>{} <small>{}</small></h2>",
            esc(&name),
            esc(code)
        ));
        match provisional.and_then(|(_, us)| us.iter().find(|u| u.code == code)) {
            Some(u) => {
                out.push_str(&format!(
                    "<p class=\"notice\">初步得分 <strong>{}</strong> · 排名 {} / {} · 类型 {}{}（依据开放申诉时已确认的数值，申诉与复核后可能变化）</p>",
                    fmt_points(u.total),
                    u.rank.map_or("—".into(), |r| r.to_string()),
                    u.of,
                    esc(u.tier.as_deref().unwrap_or("—")),
                    esc(u.sublevel.as_deref().unwrap_or("")),
                ));
                out.push_str("<div class=\"tablewrap\"><table><thead><tr><th scope=\"col\">维度</th><th scope=\"col\" class=\"n\">得分</th><th scope=\"col\" class=\"n\">满分</th></tr></thead><tbody>");
                for n in &u.nodes {
                    let name = if n.depth == 1 {
                        format!("<strong>{}</strong>", esc(&n.name_zh))
                    } else {
                        format!("　{}", esc(&n.name_zh))
                    };
                    out.push_str(&format!(
                        "<tr><th scope=\"row\">{name}</th><td class=\"n\">{}</td><td class=\"n\">{:.0}</td></tr>",
                        fmt_points(n.points),
                        n.max_points
                    ));
                }
                out.push_str("</tbody></table></div>");
            }
            None => out.push_str("<p>初步得分尚未计算。</p>"),
        }
        out.push_str(&format!("<h3>人工核验数值（{}）</h3>", esc(&name)));
        out.push_str("<div class=\"tablewrap\"><table><thead><tr><th scope=\"col\">指标</th><th scope=\"col\">数值</th><th scope=\"col\">证据</th><th scope=\"col\">状态</th><th scope=\"col\">申诉</th></tr></thead><tbody>");
        for t in values.iter().filter(|t| t.unit == code) {
            let ind =
                s.fw.nodes
                    .iter()
                    .find(|n| n.id == t.indicator)
                    .map(|n| n.name_zh.clone())
                    .unwrap_or_default();
            let appeal = match (&t.appeal, t.state.status) {
                (Some(a), _) if a.decision.is_none() => {
                    format!("已申诉：{}", esc(&a.reason))
                }
                (Some(a), Status::Confirmed | Status::Reopened | Status::Entered)
                    if a.decision.is_some() =>
                {
                    let (up, note) = a.decision.clone().unwrap_or_default();
                    format!(
                        "{}：{}",
                        if up { "申诉成立" } else { "申诉驳回" },
                        esc(&note)
                    )
                }
                _ if open && t.state.status == Status::Confirmed => format!(
                    "<details><summary>提出申诉</summary><form method=\"post\" action=\"/staff/campaigns/{id}/provisional/{tid}\" enctype=\"multipart/form-data\">{csrf}<label for=\"r{tid}\">理由（必填）</label><textarea id=\"r{tid}\" name=\"reason\" rows=\"3\" required maxlength=\"4000\"></textarea><label for=\"u{tid}\">反证网址</label><input id=\"u{tid}\" name=\"evidence_url\" type=\"url\"><label for=\"f{tid}\">或反证文件（截图或 PDF，不超过 10 MiB）</label><input id=\"f{tid}\" name=\"file\" type=\"file\" accept=\"image/png,image/jpeg,image/gif,image/webp,application/pdf\"><button type=\"submit\">提交申诉</button></form></details>",
                    tid = t.id,
                    csrf = csrf(caller)
                ),
                _ => "—".into(),
            };
            out.push_str(&format!(
                "<tr id=\"t{}\"><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td><td>{appeal}</td></tr>",
                t.id,
                esc(&t.indicator),
                esc(&ind),
                esc(t.state.value.as_deref().unwrap_or("—")),
                evidence_link(t.evidence_url.as_deref()),
                status_zh(t),
            ));
        }
        out.push_str("</tbody></table></div>");
    }
    out
}

/// Every appeal of the campaign; the lead decides the open ones.
fn team_appeals(caller: &Caller, id: i64, values: &[TaskView]) -> String {
    let appeals = c::appeals_of(values);
    let lead = caller.require(Action::ManageCampaigns).is_ok();
    let mut out = format!("<h2>申诉 <small>{} 件</small></h2>", appeals.len());
    if appeals.is_empty() {
        out.push_str("<p>尚无申诉。</p>");
        return out;
    }
    out.push_str("<div class=\"tablewrap\"><table><thead><tr><th scope=\"col\">单位</th><th scope=\"col\">指标</th><th scope=\"col\">数值</th><th scope=\"col\">理由</th><th scope=\"col\">反证</th><th scope=\"col\">申诉人</th><th scope=\"col\">裁决</th></tr></thead><tbody>");
    for (t, a) in appeals {
        let decision = match &a.decision {
            Some((up, note)) => format!(
                "{}：{}",
                if *up { "成立" } else { "驳回" },
                esc(note)
            ),
            None if lead && t.state.status == Status::Appealed => format!(
                "<form method=\"post\" action=\"/staff/campaigns/{id}/decision/{aid}\">{csrf}<label for=\"d{aid}\">裁决</label><select id=\"d{aid}\" name=\"decision\"><option value=\"reject\">驳回</option><option value=\"uphold\">成立（数值退回评估员重录、重新复核）</option></select><label for=\"dn{aid}\">理由（必填）</label><input id=\"dn{aid}\" name=\"note\" required maxlength=\"4000\"><button type=\"submit\">记录裁决</button></form>",
                aid = a.id,
                csrf = csrf(caller)
            ),
            None => "待裁决".into(),
        };
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} · {}</td><td>{decision}</td></tr>",
            esc(&t.unit),
            esc(&t.indicator),
            esc(t.state.value.as_deref().unwrap_or("—")),
            esc(&a.reason),
            evidence_link(a.evidence_url.as_deref()),
            esc(&a.by),
            esc(&a.at),
        ));
    }
    out.push_str("</tbody></table></div>");
    out
}

/// Double-coded pairs that disagree: both values side by side and the lead's adjudication.
fn disputes(s: &c::Setup, caller: &Caller, all: &[TaskView]) -> String {
    let id = s.campaign.id;
    let second: HashMap<(&str, &str), &TaskView> = all
        .iter()
        .filter(|t| t.coder == 2)
        .map(|t| ((t.unit.as_str(), t.indicator.as_str()), t))
        .collect();
    let open: Vec<&TaskView> = all.iter().filter(|t| t.disputed).collect();
    let mut out = format!(
        "<h2>双人编码分歧待裁定 <small>{} 项</small></h2>",
        open.len()
    );
    if open.is_empty() {
        out.push_str("<p>没有待裁定的分歧。</p>");
        return out;
    }
    out.push_str("<div class=\"tablewrap\"><table><thead><tr><th scope=\"col\">单位</th><th scope=\"col\">指标</th><th scope=\"col\">第一编码</th><th scope=\"col\">第二编码</th><th scope=\"col\">裁定</th></tr></thead><tbody>");
    for t in open {
        let other = second.get(&(t.unit.as_str(), t.indicator.as_str()));
        let coded = |x: &TaskView| {
            format!(
                "{} <small>（{}）</small> {}",
                esc(x.state.value.as_deref().unwrap_or("—")),
                esc(x.state.entered_by.as_deref().unwrap_or("")),
                evidence_link(x.evidence_url.as_deref())
            )
        };
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><form method=\"post\" action=\"/staff/campaigns/{id}/adjudication/{tid}\">{csrf}<input type=\"hidden\" name=\"version\" value=\"{ver}\"><label for=\"a{tid}\">裁定值</label><input id=\"a{tid}\" name=\"value\" required><label for=\"an{tid}\">理由（必填）</label><input id=\"an{tid}\" name=\"note\" required maxlength=\"4000\"><button type=\"submit\">裁定</button></form></td></tr>",
            esc(&t.unit),
            esc(&t.indicator),
            coded(t),
            other.map_or("—".into(), |o| coded(o)),
            tid = t.id,
            ver = t.state.version,
            csrf = csrf(caller)
        ));
    }
    out.push_str("</tbody></table></div>");
    out
}

/// The appeal form's target: counter-evidence as a URL or an uploaded file.
pub async fn appeal(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, tid)): Path<(i64, i64)>,
    forms::AnyForm(f): forms::AnyForm,
) -> Result<Response, Problem> {
    caller.check_form_csrf(&f.get("csrf_token").unwrap_or_default())?;
    let mut evidence = f.get("evidence_url").filter(|u| !u.trim().is_empty());
    if let Some((_, name, bytes)) = f.file("file") {
        let (sha, _, _) = crate::evidence::upload(&state, &caller, name, bytes.clone())
            .await
            .map_err(Problem::page)?;
        evidence = Some(format!("/evidence/files/{sha}"));
    }
    let reason = f.get("reason").unwrap_or_default();
    c::appeal(&state, &caller, tid, &reason, evidence)
        .await
        .map_err(Problem::page)?;
    Ok(Redirect::to(&format!(
        "/staff/campaigns/{id}/provisional?done=appeal#t{tid}"
    ))
    .into_response())
}

#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    pub csrf_token: String,
    pub decision: String,
    #[serde(default)]
    pub note: String,
}

/// The lead's decision on an appeal.
pub async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, aid)): Path<(i64, i64)>,
    Form(f): Form<DecisionForm>,
) -> Result<Response, Problem> {
    caller.check_form_csrf(&f.csrf_token)?;
    let uphold = match f.decision.as_str() {
        "uphold" => true,
        "reject" => false,
        _ => return Err(Problem::bad_request("decision: uphold or reject").page()),
    };
    c::decide(&state, &caller, aid, uphold, &f.note)
        .await
        .map_err(Problem::page)?;
    Ok(Redirect::to(&format!("/staff/campaigns/{id}/provisional?done=decision")).into_response())
}

#[derive(Debug, Deserialize)]
pub struct AdjudicationForm {
    #[serde(default)]
    pub csrf_token: String,
    pub value: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub version: u64,
}

/// The lead's value for a disagreeing pair (reviewed afterwards like any value).
pub async fn adjudicate(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, tid)): Path<(i64, i64)>,
    Form(f): Form<AdjudicationForm>,
) -> Result<Response, Problem> {
    caller.check_form_csrf(&f.csrf_token)?;
    c::adjudicate(&state, &caller, tid, &f.value, &f.note, f.version)
        .await
        .map_err(Problem::page)?;
    Ok(Redirect::to(&format!(
        "/staff/campaigns/{id}/provisional?done=adjudication"
    ))
    .into_response())
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    pub unit: Option<String>,
    pub indicator: Option<String>,
    pub assignee: Option<String>,
}

/// Rows shown at once on the task list: filters narrow it.
const LIST_ROWS: usize = 200;

/// `/staff/campaigns/{id}/tasks`: every task, filtered; the lead reassigns here by hand.
pub async fn task_list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(q): Query<ListQuery>,
) -> Result<Response, Response> {
    need(
        &caller,
        Action::ReadCampaigns,
        &format!("/staff/campaigns/{id}/tasks"),
    )?;
    let err = |p: Problem| p.page().into_response();
    let s = c::load(&state, id).await.map_err(err)?;
    let nonempty = |x: &Option<String>| x.clone().filter(|v| !v.trim().is_empty());
    let filter = TaskFilter {
        unit: nonempty(&q.unit),
        indicator: nonempty(&q.indicator),
        assignee: nonempty(&q.assignee),
    };
    let all = c::tasks(&state, id, &filter).await.map_err(err)?;
    let lead = caller.require(Action::ManageCampaigns).is_ok();
    let evaluators = if lead {
        c::evaluator_names(&state).await.map_err(err)?
    } else {
        Vec::new()
    };
    let field = |name: &str, label: &str, v: &Option<String>| {
        format!(
            "<label for=\"q{name}\">{label}</label><input id=\"q{name}\" name=\"{name}\" value=\"{}\">",
            esc(v.as_deref().unwrap_or(""))
        )
    };
    let mut body = signed_in_bar(&caller);
    body += &format!(
        "<h1>任务列表 <small>{}</small></h1><form method=\"get\" action=\"/staff/campaigns/{id}/tasks\">{}{}{}<button type=\"submit\">筛选</button></form>",
        esc(&s.campaign.name),
        field("unit", "单位代码", &q.unit),
        field("indicator", "指标", &q.indicator),
        field("assignee", "评估员", &q.assignee),
    );
    body.push_str(&format!(
        "<p>共 {} 项{}。</p>",
        all.len(),
        if all.len() > LIST_ROWS {
            format!("，显示前 {LIST_ROWS} 项；用筛选缩小范围")
        } else {
            String::new()
        }
    ));
    if lead {
        body.push_str(&format!(
            "<datalist id=\"evaluators\">{}</datalist>",
            evaluators
                .iter()
                .map(|e| format!("<option value=\"{}\">", esc(e)))
                .collect::<String>()
        ));
    }
    body.push_str("<div class=\"tablewrap\"><table><thead><tr><th scope=\"col\" class=\"n\">任务</th><th scope=\"col\">单位</th><th scope=\"col\">指标</th><th scope=\"col\">编码</th><th scope=\"col\">状态</th><th scope=\"col\">数值</th><th scope=\"col\">评估员</th></tr></thead><tbody>");
    let back = format!(
        "/staff/campaigns/{id}/tasks?unit={}&indicator={}&assignee={}",
        layout::url_escape(q.unit.as_deref().unwrap_or("")),
        layout::url_escape(q.indicator.as_deref().unwrap_or("")),
        layout::url_escape(q.assignee.as_deref().unwrap_or(""))
    );
    for t in all.iter().take(LIST_ROWS) {
        let who = esc(t.state.assignee.as_deref().unwrap_or("（未分配）"));
        let assign = if lead && matches!(s.campaign.phase.as_str(), "entry" | "appeals") {
            format!(
                "<form class=\"inline\" method=\"post\" action=\"/staff/campaigns/{id}/assignment/{tid}\">{csrf}<input type=\"hidden\" name=\"back\" value=\"{back}\"><label for=\"as{tid}\">{who} → </label><input id=\"as{tid}\" name=\"evaluator\" list=\"evaluators\" required size=\"10\"> <button type=\"submit\">改派</button></form>",
                tid = t.id,
                csrf = csrf(&caller),
                back = esc(&back)
            )
        } else {
            who
        };
        body.push_str(&format!(
            "<tr><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{assign}</td></tr>",
            t.id,
            esc(&t.unit),
            esc(&t.indicator),
            if t.coder == 2 { "第二" } else { "第一" },
            status_zh(t),
            esc(t.state.value.as_deref().unwrap_or("—")),
        ));
    }
    body.push_str("</tbody></table></div>");
    Ok(page(&format!("任务列表 · {}", s.campaign.name), &body))
}

#[derive(Debug, Deserialize)]
pub struct ReassignForm {
    #[serde(default)]
    pub csrf_token: String,
    pub evaluator: String,
    pub back: Option<String>,
}

/// Reassigns one task by hand (history kept as events), back to the filtered list.
pub async fn reassign(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, tid)): Path<(i64, i64)>,
    Form(f): Form<ReassignForm>,
) -> Result<Response, Problem> {
    caller.check_form_csrf(&f.csrf_token)?;
    c::reassign(&state, &caller, tid, f.evaluator.trim())
        .await
        .map_err(Problem::page)?;
    let back = super::dashboard::local_path(f.back)
        .strip_prefix(&format!("/staff/campaigns/{id}/tasks"))
        .map(|rest| format!("/staff/campaigns/{id}/tasks{rest}"))
        .unwrap_or_else(|| format!("/staff/campaigns/{id}/tasks"));
    Ok(Redirect::to(&back).into_response())
}
