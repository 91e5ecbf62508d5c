//! The console summary printed after an evaluation: a few lines a person reads first.

use govcap_core::evaluate::Evaluation;
use govcap_core::vocab::{self, Tongue};

use crate::evaluation::Outcome;
use crate::LangArg;

fn f2(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.2}")).unwrap_or_else(|| "–".into())
}

fn pct(x: Option<f64>) -> String {
    x.map(|v| format!("{:.2}%", v * 100.0))
        .unwrap_or_else(|| "–".into())
}

pub fn print(o: &Outcome, previous: Option<&Evaluation>, lang: LangArg) {
    let e = &o.evaluation;
    let a = &o.analyses;
    let zh = lang == LangArg::Zh;
    let t = |c: &'static str, en: &'static str| if zh { c } else { en };
    if e.synthetic {
        println!(
            "{}",
            t(
                "【合成数据】以下结果来自 govcap 的模拟数据，仅供演示，不反映任何地方政府的真实水平。",
                "[SYNTHETIC DATA] These results come from govcap's simulated data, for demonstration only."
            )
        );
    }
    println!(
        "{} {} · {} {} · {} {}",
        e.year,
        t("年度评价", "evaluation"),
        a.summary.units,
        t("个单位", "units"),
        t("框架", "framework"),
        format_args!("{} {}", e.framework.id, e.framework.version)
    );
    let change = a
        .summary
        .mean_change
        .map(|c| format!(" ({}{:+.2})", t("较上年", "vs previous "), c))
        .unwrap_or_default();
    println!(
        "{} {}{change} · {} {} · {} {}",
        t("平均分", "mean"),
        f2(a.summary.mean),
        t("最高", "max"),
        f2(a.summary.max),
        t("最低", "min"),
        f2(a.summary.min)
    );
    println!("{}", missing_line(e, zh));
    println!();
    println!(
        "{:<4} {:<10} {:>8} {:>8} {:>6} {:>10}",
        t("类型", "tier"),
        t("名称", "name"),
        t("分数线", "cut"),
        t("平均分", "mean"),
        t("数量", "count"),
        t("数量变化", "count Δ")
    );
    for tf in &a.tiers {
        let delta = tf
            .previous_count
            .map(|p| format!("{:+}", tf.count as i64 - p as i64))
            .unwrap_or_default();
        println!(
            "{:<4} {:<10} {:>8} {:>8} {:>6} {:>10}",
            tf.code,
            if zh { &tf.name_zh } else { &tf.name_en },
            f2(tf.cut_line),
            f2(tf.mean),
            tf.count,
            delta
        );
    }
    println!();
    for c in a.capabilities.iter().filter(|c| c.depth == 1) {
        println!(
            "{} {}: {} {} · {} {}% {} {}",
            c.id,
            if zh { &c.name_zh } else { &c.name_en },
            t("平均得分率", "mean rate"),
            pct(c.mean_rate),
            t("得分率高于", "rate above"),
            (a.rate_threshold * 100.0).round(),
            t("的单位", "units"),
            pct(c.share_above)
        );
    }
    let h = &a.regions.headline;
    println!(
        "{}/{} {}: {} · {}: {}",
        h.numerator,
        h.denominator,
        t("均值之比", "mean ratio"),
        pct(h.ratio),
        t("省均值标准差", "SD of province means"),
        f2(a.provinces.sd_of_means)
    );
    println!();
    println!("{}", t("前十名:", "Top 10:"));
    let mut ranked: Vec<_> = e.units.iter().filter(|u| u.rank.is_some()).collect();
    ranked.sort_by_key(|u| u.rank);
    for u in ranked.iter().take(10) {
        let moved = previous
            .and_then(|p| p.units.iter().find(|x| x.code == u.code))
            .and_then(|p| Some(p.rank? as i64 - u.rank? as i64))
            .map(|d| format!(" ({d:+})"))
            .unwrap_or_default();
        println!(
            "  {:>3}. {} {} {} {}{moved}",
            u.rank.unwrap_or(0),
            if zh { &u.name } else { &u.name_en },
            f2(u.total),
            u.tier.as_deref().unwrap_or(""),
            u.sublevel.as_deref().unwrap_or("")
        );
    }
    println!();
    println!("results.json sha256 {}", o.results_sha256);
}

/// How many cells had no value and what the framework's missing-data rule did with them, per
/// indicator: a filled cell moves a unit's rank, so it is never silent.
fn missing_line(e: &Evaluation, zh: bool) -> String {
    let t = if zh { Tongue::Zh } else { Tongue::En };
    let total: usize = e.steps.iter().map(|s| s.missing).sum();
    if total == 0 {
        return if zh {
            "缺失值：无".into()
        } else {
            "missing values: none".into()
        };
    }
    let per: Vec<String> = e
        .steps
        .iter()
        .filter(|s| s.missing > 0)
        .map(|s| {
            let policy = serde_json::to_value(&s.missing_policy)
                .ok()
                .and_then(|v| v["method"].as_str().map(str::to_string))
                .unwrap_or_default();
            format!(
                "{} ×{}（{}）",
                s.id,
                s.missing,
                vocab::method_label(&policy, t)
            )
        })
        .collect();
    if zh {
        format!(
            "缺失值：{total} 个，按指标体系的缺失值规则处理：{}",
            per.join("、")
        )
    } else {
        format!(
            "missing values: {total}, handled by the framework's missing-data rule: {}",
            per.join(", ").replace('（', " (").replace('）', ")")
        )
    }
}
