//! `ranking.html`: every unit with its total, first-level scores, tier, ranks and change. The
//! table is complete as HTML; a small inline script adds sorting (click a header) and filters
//! (text, tier, province), and the controls stay hidden when scripts are off.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::html::{esc, Links};
use crate::i18n::{num, opt, signed, signed_int, Lang};
use crate::index::tier_badge;
use crate::Ctx;

/// Sorting and filtering. Cells carry `data-v` (a number) when they sort numerically.
const SCRIPT: &str = r#"(function(){var t=document.getElementById('ranking-table');if(!t)return;var tb=t.tBodies[0];var rows=Array.prototype.slice.call(tb.rows);var hs=t.tHead.rows[0].cells;var q=document.getElementById('f-text'),ft=document.getElementById('f-tier'),fp=document.getElementById('f-prov'),cnt=document.getElementById('f-count');function key(r,i){var c=r.cells[i];var v=c.getAttribute('data-v');if(v!==null){return v===''?null:parseFloat(v);}return c.textContent;}function sortBy(i){var h=hs[i];var asc=h.getAttribute('aria-sort')!=='ascending';for(var k=0;k<hs.length;k++){hs[k].removeAttribute('aria-sort');}h.setAttribute('aria-sort',asc?'ascending':'descending');rows.sort(function(a,b){var x=key(a,i),y=key(b,i);if(x===null&&y===null)return 0;if(x===null)return 1;if(y===null)return -1;var r=(typeof x==='number')?x-y:String(x).localeCompare(String(y),document.documentElement.lang);return asc?r:-r;});for(var k=0;k<rows.length;k++){tb.appendChild(rows[k]);}}for(var i=0;i<hs.length;i++){(function(i){var h=hs[i];if(!h.classList.contains('sortable'))return;h.tabIndex=0;h.addEventListener('click',function(){sortBy(i);});h.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();sortBy(i);}});})(i);}function filter(){var s=q.value.trim().toLowerCase(),tv=ft.value,pv=fp.value,n=0;for(var k=0;k<rows.length;k++){var r=rows[k];var ok=(!s||r.getAttribute('data-search').indexOf(s)>=0)&&(!tv||r.getAttribute('data-tier')===tv)&&(!pv||r.getAttribute('data-prov')===pv);r.hidden=!ok;if(ok)n++;}cnt.textContent=String(n);}q.addEventListener('input',filter);ft.addEventListener('change',filter);fp.addEventListener('change',filter);filter();})();"#;

pub fn page(c: &Ctx) -> String {
    let links = Links::Site { depth: 0 };
    let title = format!("{} · {}", c.l.t("排名", "Ranking"), c.title());
    c.page(links, &title, Some(1), &body(c, links), SCRIPT)
}

pub fn body(c: &Ctx, links: Links) -> String {
    let l = c.l;
    let e = c.e;
    let firsts: Vec<usize> = e
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.depth == 1)
        .map(|(i, _)| i)
        .collect();
    let mut units: Vec<(usize, &govcap_core::evaluate::UnitResult)> = e
        .units
        .iter()
        .enumerate()
        .filter(|(_, u)| u.total.is_some())
        .collect();
    units.sort_by(|a, b| {
        a.1.rank
            .unwrap_or(usize::MAX)
            .cmp(&b.1.rank.unwrap_or(usize::MAX))
            .then(a.0.cmp(&b.0))
    });
    let mut out = String::with_capacity(400 * units.len() + 4096);
    let _ = write!(
        out,
        "<h1>{}</h1><p class=\"sub\">{}</p>",
        l.t("全部单位排名", "Ranking of all units"),
        esc(&match l {
            Lang::Zh => format!(
                "{}年 · {}个单位 · 一级能力为得分（满分见表头）{}",
                c.year(),
                units.len(),
                c.prev_year()
                    .map(|y| format!(" · 变化为与{y}年相比"))
                    .unwrap_or_default()
            ),
            Lang::En => format!(
                "{} · {} units · first-level capabilities in points (maximum in the header){}",
                c.year(),
                units.len(),
                c.prev_year()
                    .map(|y| format!(" · changes against {y}"))
                    .unwrap_or_default()
            ),
        })
    );

    // Filters (shown only with scripts on).
    let provinces: BTreeSet<&str> = units
        .iter()
        .filter_map(|(_, u)| u.province.as_deref())
        .collect();
    let _ = write!(
        out,
        "<div class=\"controls jsonly\"><label>{} <input id=\"f-text\" type=\"search\" placeholder=\"{}\"></label><label>{} <select id=\"f-tier\"><option value=\"\">{}</option>",
        l.t("查找", "Find"),
        l.t("单位、省份或代码", "unit, province or code"),
        l.t("类型", "Tier"),
        l.t("全部", "all"),
    );
    for t in &c.a.tiers {
        let _ = write!(
            out,
            "<option value=\"{}\">{} {}</option>",
            esc(&t.code),
            esc(&t.code),
            esc(&c.tier_name(&t.code))
        );
    }
    let _ = write!(
        out,
        "</select></label><label>{} <select id=\"f-prov\"><option value=\"\">{}</option>",
        l.t("省份", "Province"),
        l.t("全部", "all")
    );
    for p in &provinces {
        let _ = write!(
            out,
            "<option value=\"{}\">{}</option>",
            esc(p),
            esc(l.province(p))
        );
    }
    let _ = write!(
        out,
        "</select></label><span>{} <strong id=\"f-count\">{}</strong> / {}</span></div>",
        l.t("显示", "Showing"),
        units.len(),
        units.len()
    );

    // Table.
    // Columns marked `opt` give way on a phone, leaving rank, unit, total and tier.
    let th = |label: &str, numeric: bool, opt: bool| {
        let class = match (numeric, opt) {
            (true, true) => " n opt",
            (true, false) => " n",
            (false, true) => " opt",
            (false, false) => "",
        };
        format!(
            "<th class=\"sortable{class}\" scope=\"col\">{}</th>",
            esc(label)
        )
    };
    let _ = write!(
        out,
        "<div class=\"tablewrap\"><table id=\"ranking-table\"><thead><tr>{}{}{}{}{}",
        th(l.t("名次", "Rank"), true, false),
        th(l.t("单位", "Unit"), false, false),
        th(l.t("省份", "Province"), false, true),
        th(l.t("区域", "Region"), false, true),
        th(l.t("总分", "Total"), true, false),
    );
    for &s in &firsts {
        let n = &e.nodes[s];
        out.push_str(&th(
            &format!("{} ({})", l.node_name(n), num_short(n.points)),
            true,
            true,
        ));
    }
    out.push_str(&th(l.t("类型", "Tier"), false, false));
    out.push_str(&th(l.t("省内名次", "In province"), true, true));
    if c.prev.is_some() {
        out.push_str(&th(l.t("得分变化", "Score change"), true, true));
        out.push_str(&th(l.t("名次变化", "Places"), true, true));
        out.push_str(&th(l.t("上年类型", "Previous tier"), false, true));
    }
    out.push_str("</tr></thead><tbody>");
    for (i, u) in &units {
        let prof = &c.p.units[*i];
        let name = l.unit_name(u);
        let prov = u.province.as_deref().unwrap_or("");
        let search = format!(
            "{} {} {} {} {}",
            u.name,
            u.name_en,
            prov,
            l.province(prov),
            u.code
        )
        .to_lowercase();
        let _ = write!(
            out,
            "<tr data-tier=\"{}\" data-prov=\"{}\" data-search=\"{}\"><td class=\"n\" data-v=\"{}\">{}</td><td><a href=\"{}\">{}</a></td><td class=\"opt\">{}</td><td class=\"opt\">{}</td><td class=\"n\" data-v=\"{}\">{}</td>",
            esc(u.tier.as_deref().unwrap_or("")),
            esc(prov),
            esc(&search),
            u.rank.map(|r| r.to_string()).unwrap_or_default(),
            u.rank.map(|r| r.to_string()).unwrap_or_else(|| "–".into()),
            links.unit(&u.code),
            esc(name),
            esc(l.province(prov)),
            esc(l.region(u.region.as_deref().unwrap_or(""))),
            u.total.map(|t| format!("{t:.4}")).unwrap_or_default(),
            opt(u.total),
        );
        for &s in &firsts {
            let v = u.scores.get(s).and_then(|x| x.points.or(x.value));
            let _ = write!(
                out,
                "<td class=\"n opt\" data-v=\"{}\">{}</td>",
                v.map(|x| format!("{x:.4}")).unwrap_or_default(),
                opt(v)
            );
        }
        let tier_key = u
            .tier
            .as_ref()
            .and_then(|t| c.a.tiers.iter().position(|x| &x.code == t))
            .map(|k| (k * 3 + sub_order(u.sublevel.as_deref())).to_string())
            .unwrap_or_default();
        let _ = write!(
            out,
            "<td data-v=\"{}\">{} {}</td><td class=\"n opt\" data-v=\"{}\">{}</td>",
            tier_key,
            tier_badge(u),
            esc(&u
                .tier
                .as_deref()
                .map(|t| c.tier_name(t))
                .unwrap_or_default()),
            u.province_rank.map(|r| r.to_string()).unwrap_or_default(),
            u.province_rank
                .map(|r| format!("{r}/{}", prof.province_size))
                .unwrap_or_else(|| "–".into()),
        );
        if c.prev.is_some() {
            let _ = write!(
                out,
                "<td class=\"n opt{}\" data-v=\"{}\">{}</td><td class=\"n opt\" data-v=\"{}\">{}</td><td class=\"opt\">{}</td>",
                match prof.total_change {
                    Some(d) if d >= 0.005 => " up",
                    Some(d) if d <= -0.005 => " down",
                    _ => "",
                },
                prof.total_change.map(|d| format!("{d:.4}")).unwrap_or_default(),
                prof.total_change.map(signed).unwrap_or_else(|| "–".into()),
                prof.rank_change.map(|d| d.to_string()).unwrap_or_default(),
                prof.rank_change.map(signed_int).unwrap_or_else(|| "–".into()),
                esc(&prof
                    .previous
                    .as_ref()
                    .and_then(|p| p.sublevel.clone().or_else(|| p.tier.clone()))
                    .unwrap_or_else(|| "–".into())),
            );
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
    let _ = write!(
        out,
        "<p class=\"note\">{}</p>",
        esc(l.t(
            "名次为竞争排名（并列取较小名次）。点击表头排序；开启脚本时可按单位、类型和省份筛选。",
            "Ranks are competition ranks (ties share the better rank). Click a header to sort; with scripts on, filter by unit, tier and province.",
        ))
    );
    out
}

/// Order key of a sub-level inside its tier, so "A+" sorts before "A" and "A-".
fn sub_order(s: Option<&str>) -> usize {
    match s.and_then(|s| s.chars().last()) {
        Some('+') => 0,
        Some('-') => 2,
        _ => 1,
    }
}

/// Points of a node without trailing zeros ("40", "12.5").
pub fn num_short(x: f64) -> String {
    if x == x.trunc() {
        format!("{}", x as i64)
    } else {
        let s = num(x);
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}
