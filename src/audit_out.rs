//! What a reader sees of an audit: the console summary and `audit.xlsx`, in Chinese (default)
//! or English. The CSV files (`audit_cmd`) keep machine column names for scripts; everything
//! here goes through `govcap_core::vocab`, so no internal key reaches a Chinese reader.

use std::path::Path;

use govcap_core::audit::{self, Audit};
use govcap_core::vocab::{self, Tongue};
use govcap_io::export::Lang;

use crate::audit_cmd::{factor_rows, unit_rows, Cell};

/// A sensitivity index whose 90 % bootstrap interval is wider than this says little: the
/// draws were too few for it.
const UNSTABLE_INTERVAL: f64 = 0.5;

/// The widest 90 % bootstrap interval of any sensitivity index of the audit.
fn widest_index_interval(a: &Audit) -> f64 {
    a.factors
        .iter()
        .flat_map(|f| [f.rank_shift.as_ref(), f.tier_change.as_ref()])
        .flatten()
        .flat_map(|s| [s.si_q95 - s.si_q05, s.sti_q95 - s.sti_q05])
        .filter(|w| w.is_finite())
        .fold(0.0, f64::max)
}

/// The console summary of an audit: factors by total effect, robustness, widest intervals.
pub fn print_summary(a: &Audit, id: i64, out: &Path, secs: f64, lang: Lang) {
    let t = lang.tongue();
    let zh = t == Tongue::Zh;
    if a.synthetic {
        println!(
            "{}",
            t.pick(
                "【合成数据】本次审计针对演示运行。",
                "SYNTHETIC data (合成数据): this audit is of a demonstration run."
            )
        );
    }
    let d = a.factors.len();
    if zh {
        println!(
            "运行 {id} 的统计审计（{} {}，{}年）：{} 次模型运行（基础样本 N = {}，{d} 个变动因素），随机种子 {}，用时 {secs:.1} 秒",
            a.framework.id, a.framework.version, a.year, a.draws, a.base_samples, a.settings.seed
        );
    } else {
        println!(
            "audit of run {id} ({} {}, {}): {} draws (N = {}, {d} varying factors), seed {}, {secs:.1} s",
            a.framework.id, a.framework.version, a.year, a.draws, a.base_samples, a.settings.seed
        );
    }
    if a.draws != a.settings.draws {
        let (asked, ran, n) = (a.settings.draws, a.draws, a.base_samples);
        if zh {
            println!(
                "说明：要求 {asked} 次，实际运行 {ran} 次：Sobol′ 设计需要 N·(d + 2) 次运行，这里 N = ⌊{asked} / {}⌋ = {n}（d = {d} 个变动因素）",
                d + 2
            );
        } else {
            println!(
                "note: {asked} draws were asked for; {ran} ran: the Sobol' design needs N·(d + 2) runs, here N = ⌊{asked} / {}⌋ = {n} base samples for d = {d} varying factors",
                d + 2
            );
        }
    }
    let widest = widest_index_interval(a);
    if widest > UNSTABLE_INTERVAL {
        let more = (4 * a.draws).max(2_000);
        if zh {
            println!(
                "警告：基础样本 N = {} 时敏感性指数不稳定（有一个 90 % 区间宽达 {widest:.2}）；请用 --draws {more} 或更多",
                a.base_samples
            );
        } else {
            println!(
                "warning: the sensitivity indices are not stable with N = {} base samples (a 90 % interval spans {widest:.2}); use --draws {more} or more",
                a.base_samples
            );
        }
    }
    if let Some(s) = &a.rank_shift {
        if zh {
            println!(
                "每次模拟的平均绝对排名变动：平均 {:.2} 位，范围 {:.2}–{:.2} 位",
                s.mean, s.min, s.max
            );
        } else {
            println!(
                "mean absolute rank shift per draw: mean {:.2}, range {:.2}–{:.2}",
                s.mean, s.min, s.max
            );
        }
    }
    print_sensitivity(a, t);
    if a.tier_failures > 0 {
        if zh {
            println!(
                "{} 次模拟的分类方法未得到有效分类（分界点不足）",
                a.tier_failures
            );
        } else {
            println!(
                "{} draws had no valid tier classification (the tier method found too few cut points)",
                a.tier_failures
            );
        }
    }
    let ranked = a.units.iter().filter(|u| u.nominal_rank.is_some()).count();
    let robust = a.units.iter().filter(|u| u.robust).count();
    let stable = a
        .units
        .iter()
        .filter(|u| u.nominal_tier_probability.is_some_and(|p| p >= 0.9))
        .count();
    if zh {
        println!(
            "排名稳健的单位（名义排名位于 90 % 区间内，区间宽度 ≤ {:.1} 位）：{robust} 个，共 {ranked} 个",
            a.robust_max_width
        );
        println!("在至少 90 % 的模拟中保持发展类型的单位：{stable} 个，共 {ranked} 个");
        println!("排名区间最宽的单位：");
    } else {
        println!(
            "robust units (nominal rank inside the 90 % interval, width ≤ {:.1} ranks): {robust} of {ranked}",
            a.robust_max_width
        );
        println!("units keeping their tier in at least 90 % of draws: {stable} of {ranked}");
        println!("widest rank intervals:");
    }
    print_widest(a, t);
    println!(
        "{}{}  (audit.json, audit_units.csv, audit_factors.csv, audit_draws.csv, audit.xlsx, factors.toml)",
        t.pick("输出：", "outputs: "),
        out.display()
    );
}

/// The factors by total effect on each output, with their indices and intervals.
fn print_sensitivity(a: &Audit, t: Tongue) {
    let zh = t == Tongue::Zh;
    for (what, pick) in [
        (
            t.pick("平均绝对排名变动", "the mean absolute rank shift"),
            (|f: &audit::FactorAudit| f.rank_shift.clone()) as fn(&audit::FactorAudit) -> _,
        ),
        (
            t.pick("发展类型变化的单位占比", "the share of units changing tier"),
            |f| f.tier_change.clone(),
        ),
    ] {
        if zh {
            println!("{what}的敏感性（Si 一阶指数，STi 总效应指数，[90 % bootstrap 区间]）：");
        } else {
            println!(
                "sensitivity of {what} (Si first order, STi total effect, [90 % bootstrap interval]):"
            );
        }
        let mut order: Vec<(&audit::FactorAudit, Option<audit::SobolIndices>)> =
            a.factors.iter().map(|f| (f, pick(f))).collect();
        order.sort_by(|x, y| {
            let k = |s: &Option<audit::SobolIndices>| s.as_ref().map_or(f64::MIN, |s| s.sti);
            k(&y.1).total_cmp(&k(&x.1))
        });
        for (f, s) in &order {
            let name = vocab::audit_factor(&f.kind, t);
            match s {
                Some(s) => println!(
                    "  {name:<16} Si {:>6.3} [{:>6.3}, {:>6.3}]   STi {:>6.3} [{:>6.3}, {:>6.3}]",
                    s.si, s.si_q05, s.si_q95, s.sti, s.sti_q05, s.sti_q95
                ),
                None => println!(
                    "  {name:<16} {}",
                    t.pick("（此输出不随之变化）", "(this output does not vary)")
                ),
            }
        }
    }
}

/// The five units whose rank intervals are widest.
fn print_widest(a: &Audit, t: Tongue) {
    let zh = t == Tongue::Zh;
    let mut widest: Vec<&audit::UnitAudit> = a
        .units
        .iter()
        .filter(|u| u.interval_width.is_some())
        .collect();
    widest.sort_by(|x, y| {
        y.interval_width
            .unwrap_or(0.0)
            .total_cmp(&x.interval_width.unwrap_or(0.0))
    });
    for u in widest.iter().take(5) {
        // Whole places for readers, the interval widened outwards; the files keep the
        // exact quantiles.
        let nominal = u.nominal_rank.map_or("-".into(), |r| r.to_string());
        let median = u.median_rank.map_or(f64::NAN, f64::round);
        let (lo, hi) = (
            u.q05_rank.map_or(f64::NAN, f64::floor),
            u.q95_rank.map_or(f64::NAN, f64::ceil),
        );
        let tier = u.nominal_tier.as_deref().unwrap_or("-");
        let kept = 100.0 * u.nominal_tier_probability.unwrap_or(f64::NAN);
        let name = &u.name;
        if zh {
            println!(
                "  {} {name:<10} 名义排名 {nominal:>4}  中位 {median:>4}  90 % 区间 {lo}–{hi}  类型 {tier}（{kept:.0} % 的模拟中保持）",
                u.code
            );
        } else {
            println!(
                "  {} {name:<12} nominal {nominal:>4}  median {median:>4}  90 % interval {lo}–{hi}  tier {tier} kept in {kept:.0} % of draws",
                u.code
            );
        }
    }
}

/// Column titles of the unit and factor tables, keyed by their CSV names.
fn column(key: &str, t: Tongue) -> String {
    let fixed = match key {
        "code" => Some(("单位代码", "Code")),
        "name" => Some(("单位名称", "Unit")),
        "nominal_rank" => Some(("名义排名", "Nominal rank")),
        "nominal_tier" => Some(("名义类型", "Nominal tier")),
        "nominal_sublevel" => Some(("名义等级", "Nominal sub-level")),
        "mean_rank" => Some(("平均排名", "Mean rank")),
        "median_rank" => Some(("中位排名", "Median rank")),
        "q05_rank" => Some(("排名第 5 百分位", "Rank, 5th percentile")),
        "q95_rank" => Some(("排名第 95 百分位", "Rank, 95th percentile")),
        "interval_width" => Some(("区间宽度", "Interval width")),
        "nominal_in_interval" => Some(("名义排名在区间内", "Nominal rank inside")),
        "robust" => Some(("排名稳健", "Robust")),
        "p_nominal_tier" => Some(("保持名义类型的概率", "P(nominal tier)")),
        "factor" => Some(("因素", "Factor")),
        "output" => Some(("输出", "Output")),
        "alternatives" => Some(("备选设定", "Alternatives")),
        "coordinates" => Some(("Sobol′ 维数", "Sobol′ coordinates")),
        "si" => Some(("一阶指数 Si", "First order Si")),
        "sti" => Some(("总效应指数 STi", "Total effect STi")),
        "si_q05" => Some(("Si 第 5 百分位", "Si 5th percentile")),
        "si_q95" => Some(("Si 第 95 百分位", "Si 95th percentile")),
        "sti_q05" => Some(("STi 第 5 百分位", "STi 5th percentile")),
        "sti_q95" => Some(("STi 第 95 百分位", "STi 95th percentile")),
        _ => None,
    };
    if let Some((zh, en)) = fixed {
        return t.pick(zh, en).to_string();
    }
    if let Some(tier) = key.strip_prefix("p_tier_") {
        return match t {
            Tongue::Zh => format!("属于 {tier} 类的概率"),
            Tongue::En => format!("P(tier {tier})"),
        };
    }
    if let Some(s) = key.strip_prefix("p_sublevel_") {
        return match t {
            Tongue::Zh => format!("属于 {s} 级的概率"),
            Tongue::En => format!("P(sub-level {s})"),
        };
    }
    key.to_string()
}

/// A CSV cell for a reader: `true`/`false` as 是/否, method labels in words.
fn reader_cell(cell: &Cell, key: &str, t: Tongue) -> Cell {
    match cell {
        Cell::Text(s) if s == "true" || s == "false" => Cell::Text(match t {
            Tongue::Zh => (if s == "true" { "是" } else { "否" }).to_string(),
            Tongue::En => s.clone(),
        }),
        Cell::Text(s) if key == "alternatives" => Cell::Text(
            s.split(" | ")
                .map(|x| vocab::method_label(x, t))
                .collect::<Vec<_>>()
                .join(t.pick("、", " | ")),
        ),
        Cell::Text(s) if key == "output" => Cell::Text(
            match s.as_str() {
                "mean absolute rank shift" => {
                    t.pick("平均绝对排名变动", "mean absolute rank shift")
                }
                "share of units changing tier" => {
                    t.pick("发展类型变化的单位占比", "share of units changing tier")
                }
                other => other,
            }
            .to_string(),
        ),
        Cell::Text(s) => Cell::Text(s.clone()),
        Cell::Num(x) => Cell::Num(*x),
        Cell::Empty => Cell::Empty,
    }
}

/// Sheets of units (rank intervals and tier stability), factors (sensitivity indices) and
/// settings, in the reader's language; numbers formatted, headers frozen, tables filtered.
pub fn audit_xlsx(a: &Audit, lang: Lang) -> anyhow::Result<Vec<u8>> {
    let t = lang.tongue();
    let (uh, ur) = unit_rows(a);
    let (fh, mut fr) = factor_rows(a);
    // The factor column names each factor in words.
    for (row, f) in fr.chunks_mut(2).zip(&a.factors) {
        for r in row {
            r[0] = Cell::Text(vocab::audit_factor(&f.kind, t));
        }
    }
    let localise = |h: &[String], rows: &[Vec<Cell>]| -> (Vec<String>, Vec<Vec<Cell>>) {
        let header = h.iter().map(|k| column(k, t)).collect();
        let rows = rows
            .iter()
            .map(|r| r.iter().zip(h).map(|(c, k)| reader_cell(c, k, t)).collect())
            .collect();
        (header, rows)
    };
    let (uh, ur) = localise(&uh, &ur);
    let (fh, fr) = localise(&fh, &fr);
    let zh = t == Tongue::Zh;
    let mut about: Vec<(String, String)> = vec![
        (t.pick("格式", "schema").into(), a.schema.clone()),
        (
            t.pick("指标体系", "framework").into(),
            format!("{} {}", a.framework.id, a.framework.version),
        ),
        (t.pick("年度", "year").into(), a.year.to_string()),
        (
            t.pick("数据性质", "data").into(),
            if a.synthetic {
                t.pick("合成数据（演示）", "SYNTHETIC (合成数据)")
            } else {
                t.pick("观测数据", "observed")
            }
            .into(),
        ),
        (t.pick("模型运行次数", "draws").into(), a.draws.to_string()),
        (
            t.pick("基础样本 N", "base sample N").into(),
            a.base_samples.to_string(),
        ),
        (t.pick("随机种子", "seed").into(), a.settings.seed.to_string()),
        (
            t.pick("bootstrap 次数", "bootstrap replicates").into(),
            a.settings.bootstrap.to_string(),
        ),
        (
            t.pick("稳健标准：区间宽度上限（位）", "robust: widest interval (ranks)")
                .into(),
            format!("{:.1}", a.robust_max_width),
        ),
        (
            t.pick("排名统计", "rank statistics").into(),
            t.pick(
                "A、B 两组共 2N 次独立模拟中排名的平均数、中位数及第 5、95 百分位数（R 第 7 类分位数）",
                "mean, median, 5th and 95th percentile (R type 7) over the 2N draws of matrices A and B",
            )
            .into(),
        ),
        (
            t.pick("敏感性指数", "sensitivity indices").into(),
            t.pick(
                "Si 一阶指数（Saltelli 2010），STi 总效应指数（Jansen），bootstrap 第 5、95 百分位数",
                "Si first order (Saltelli 2010), STi total effect (Jansen), 5th/95th bootstrap percentiles",
            )
            .into(),
        ),
    ];
    for f in &a.fixed {
        let what = vocab::audit_factor(&f.kind, t);
        about.push((
            if zh {
                format!("保持不变：{what}")
            } else {
                format!("fixed: {what}")
            },
            vocab::method_label(&f.alternative, t),
        ));
    }
    let about_rows: Vec<Vec<Cell>> = about
        .into_iter()
        .map(|(k, v)| vec![Cell::Text(k), Cell::Text(v)])
        .collect();
    let about_header = vec![
        t.pick("项目", "item").into(),
        t.pick("内容", "value").into(),
    ];

    let mut wb = rust_xlsxwriter::Workbook::new();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let number = rust_xlsxwriter::Format::new().set_num_format("0.000");
    for (name, header, rows, filter) in [
        (t.pick("单位", "units"), &uh, &ur, true),
        (t.pick("因素", "factors"), &fh, &fr, true),
        (t.pick("说明", "about"), &about_header, &about_rows, false),
    ] {
        let ws = wb.add_worksheet().set_name(name)?;
        let mut widths = vec![8usize; header.len()];
        for (c, h) in header.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, h, &bold)?;
            widths[c] = widths[c].max(display_width(h));
        }
        ws.set_freeze_panes(1, if filter { 2 } else { 0 })?;
        for (r, row) in rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                match cell {
                    Cell::Text(s) => {
                        ws.write_string(r, c as u16, s)?;
                        widths[c] = widths[c].max(display_width(s));
                    }
                    Cell::Num(x) if x.is_finite() => {
                        ws.write_number_with_format(r, c as u16, *x, &number)?;
                    }
                    Cell::Num(_) | Cell::Empty => {}
                }
            }
        }
        if filter && !rows.is_empty() {
            ws.autofilter(0, 0, rows.len() as u32, header.len() as u16 - 1)?;
        }
        for (c, w) in widths.iter().enumerate() {
            ws.set_column_width(c as u16, (*w as f64 + 2.0).min(60.0))?;
        }
    }
    Ok(wb.save_to_buffer()?)
}

/// Width in spreadsheet cells: CJK characters take two.
fn display_width(s: &str) -> usize {
    s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}
