//! Compact hand-written SVG charts in one consistent style.
//!
//! Why not plotters: its SVG backend draws every glyph position and style attribute itself,
//! which makes larger files, does not let text inherit the page's CJK system font, and cannot
//! put `<title>` hover text or classes on marks. The charts here are a few dozen rectangles
//! each; a hundred lines of `write!` per kind gives smaller, readable, accessible SVG.
//!
//! Conventions: every chart is an inline `<svg>` with a `viewBox` and no fixed size (the page
//! CSS makes it 100 % wide, so it scales on a phone and in print), a `<title>`, axis labels,
//! text in the page font, bars starting at zero, the current year in blue and the previous
//! year in grey. Charts never compute figures: they are handed the numbers to draw.

use std::fmt::Write as _;

use crate::html::esc;

/// Current-year series colour.
pub const CURRENT: &str = "#1f5fa8";
/// Previous-year series colour.
pub const PREVIOUS: &str = "#b5c0cc";
/// National mean on the radar.
pub const NATIONAL: &str = "#6b7785";
/// Top-tier mean on the radar.
pub const TOP_TIER: &str = "#e07b00";
/// Tier colours A–D (same as the CSS variables); other codes get grey.
pub fn tier_fill(code: &str) -> &'static str {
    match code {
        "A" => "#1b5e9e",
        "B" => "#4a90c9",
        "C" => "#9cc9e6",
        "D" => "#f0a04b",
        _ => "#9aa3ad",
    }
}

pub(crate) const W: f64 = 520.0;
/// Width of the charts that span the page (the sorted-score curve, the histograms).
pub(crate) const W_WIDE: f64 = 720.0;
pub(crate) const FS: f64 = 13.0;
pub(crate) const SMALL: f64 = 11.0;
pub(crate) const AXIS: &str = "#8a949e";
pub(crate) const GRID: &str = "#e3e7eb";
pub(crate) const TEXT: &str = "#1d2733";

/// Short number for SVG coordinates.
pub(crate) fn f(x: f64) -> String {
    let r = (x * 10.0).round() / 10.0;
    if r == r.trunc() {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

/// Approximate rendered width of a label: CJK glyphs are about one em, others about half.
pub fn text_width(s: &str, size: f64) -> f64 {
    s.chars()
        .map(|c| if (c as u32) >= 0x2E80 { 1.0 } else { 0.58 })
        .sum::<f64>()
        * size
}

pub(crate) fn open(w: f64, h: f64, title: &str) -> String {
    format!(
        "<svg class=\"chart-svg\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{t}\" font-size=\"{FS}\" fill=\"{TEXT}\"><title>{t}</title>",
        f(w),
        f(h),
        t = esc(title)
    )
}

pub(crate) fn text(out: &mut String, x: f64, y: f64, anchor: &str, size: f64, fill: &str, s: &str) {
    let _ = write!(
        out,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\" font-size=\"{}\" fill=\"{fill}\">{}</text>",
        f(x),
        f(y),
        f(size),
        esc(s)
    );
}

pub(crate) fn line(
    out: &mut String,
    x1: f64,
    y1: f64,
    x2: f64,
    y2: f64,
    stroke: &str,
    extra: &str,
) {
    let _ = write!(
        out,
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{stroke}\"{extra}/>",
        f(x1),
        f(y1),
        f(x2),
        f(y2)
    );
}

/// A dot; `extra` is more attributes (e.g. a stroke), written as given.
pub(crate) fn circle(out: &mut String, cx: f64, cy: f64, r: f64, fill: &str, extra: &str) {
    let _ = write!(
        out,
        "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{fill}\"{extra}/>",
        f(cx),
        f(cy),
        f(r)
    );
}

/// The outline of the hollow marker of a previous value (with a white fill).
fn hollow() -> String {
    format!(" stroke=\"{NATIONAL}\" stroke-width=\"1.5\"")
}

pub(crate) fn rect(out: &mut String, x: f64, y: f64, w: f64, h: f64, fill: &str, tip: &str) {
    let _ = write!(
        out,
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{fill}\">",
        f(x),
        f(y),
        f(w.max(0.0)),
        f(h.max(0.0))
    );
    if tip.is_empty() {
        out.push_str("</rect>");
    } else {
        let _ = write!(out, "<title>{}</title></rect>", esc(tip));
    }
}

/// A "nice" tick step (1, 2, 2.5 or 5 × 10^k) giving about `target` intervals over `span`.
pub fn nice_step(span: f64, target: usize) -> f64 {
    if !(span.is_finite() && span > 0.0) {
        return 1.0;
    }
    let raw = span / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let m = raw / mag;
    let nice = if m <= 1.0 {
        1.0
    } else if m <= 2.0 {
        2.0
    } else if m <= 2.5 {
        2.5
    } else if m <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// Axis range covering `lo..hi` on nice steps: (start, end, step).
pub fn nice_range(lo: f64, hi: f64, target: usize) -> (f64, f64, f64) {
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        (lo - 1.0, lo + 1.0)
    };
    let step = nice_step(hi - lo, target);
    let start = (lo / step).floor() * step;
    let end = (hi / step).ceil() * step;
    (start, end, step)
}

fn tick_label(v: f64, step: f64, percent: bool) -> String {
    if percent {
        let p = v * 100.0;
        if (step * 100.0).fract().abs() < 1e-9 {
            format!("{}%", p.round() as i64)
        } else {
            format!("{p:.1}%")
        }
    } else if step.fract().abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.1}")
    }
}

/// A legend row at the top: coloured swatches with labels, left to right.
pub(crate) fn legend(out: &mut String, x0: f64, y: f64, items: &[(&str, &str, bool)]) {
    let mut x = x0;
    for (label, colour, dashed) in items {
        if *dashed {
            line(
                out,
                x,
                y - 4.0,
                x + 16.0,
                y - 4.0,
                colour,
                " stroke-width=\"2\" stroke-dasharray=\"4 2\"",
            );
        } else {
            rect(out, x, y - 9.0, 12.0, 10.0, colour, "");
        }
        text(out, x + 18.0, y, "start", SMALL, TEXT, label);
        x += 18.0 + text_width(label, SMALL) + 16.0;
    }
}

/// One bar of [`bars`].
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub fill: String,
    /// Text above the bar (e.g. the count); hover text adds the label.
    pub note: String,
}

/// Vertical bars from zero, one colour per bar (e.g. units per sub-level coloured by tier).
pub fn bars(title: &str, y_label: &str, items: &[Bar]) -> String {
    let h = 260.0;
    let (left, right, top, bottom) = (48.0, 10.0, 18.0, 42.0);
    let max = items.iter().map(|b| b.value).fold(0.0, f64::max);
    let (_, end, step) = nice_range(0.0, max.max(1.0), 5);
    let pw = W - left - right;
    let ph = h - top - bottom;
    let y = |v: f64| top + ph * (1.0 - v / end);
    let mut out = open(W, h, title);
    axis_y(&mut out, left, W - right, 0.0, end, step, &y, false);
    let slot = pw / items.len().max(1) as f64;
    let bw = (slot * 0.7).min(46.0);
    for (i, b) in items.iter().enumerate() {
        let cx = left + slot * (i as f64 + 0.5);
        rect(
            &mut out,
            cx - bw / 2.0,
            y(b.value),
            bw,
            y(0.0) - y(b.value),
            &b.fill,
            &format!("{}: {}", b.label, b.note),
        );
        text(
            &mut out,
            cx,
            y(b.value) - 4.0,
            "middle",
            SMALL,
            TEXT,
            &b.note,
        );
        text(&mut out, cx, top + ph + 16.0, "middle", FS, TEXT, &b.label);
    }
    y_title(&mut out, 12.0, top + ph / 2.0, y_label);
    out.push_str("</svg>");
    out
}

/// A y axis with grid lines from `lo` to `hi` every `step`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn axis_y(
    out: &mut String,
    x0: f64,
    x1: f64,
    lo: f64,
    hi: f64,
    step: f64,
    y: &dyn Fn(f64) -> f64,
    percent: bool,
) {
    let n = ((hi - lo) / step).round() as usize;
    for k in 0..=n {
        let v = lo + step * k as f64;
        let yy = y(v);
        line(out, x0, yy, x1, yy, if k == 0 { AXIS } else { GRID }, "");
        text(
            out,
            x0 - 5.0,
            yy + 4.0,
            "end",
            SMALL,
            AXIS,
            &tick_label(v, step, percent),
        );
    }
}

/// An x axis with grid lines from `lo` to `hi` every `step`, labels below `y_axis`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn axis_x(
    out: &mut String,
    y0: f64,
    y1: f64,
    lo: f64,
    hi: f64,
    step: f64,
    x: &dyn Fn(f64) -> f64,
    percent: bool,
) {
    let n = ((hi - lo) / step).round() as usize;
    for k in 0..=n {
        let v = lo + step * k as f64;
        let xx = x(v);
        line(out, xx, y0, xx, y1, GRID, "");
        text(
            out,
            xx,
            y1 + 14.0,
            "middle",
            SMALL,
            AXIS,
            &tick_label(v, step, percent),
        );
    }
}

pub(crate) fn y_title(out: &mut String, x: f64, y: f64, s: &str) {
    let _ = write!(
        out,
        "<text transform=\"translate({},{}) rotate(-90)\" text-anchor=\"middle\" font-size=\"{SMALL}\" fill=\"{AXIS}\">{}</text>",
        f(x),
        f(y),
        esc(s)
    );
}

/// One series of a grouped bar panel.
pub struct Series {
    pub name: String,
    pub colour: String,
    /// One per category; `None` draws nothing.
    pub values: Vec<Option<f64>>,
}

/// One panel of [`grouped`]: categories on x, one bar per series.
pub struct Panel {
    pub title: String,
    pub categories: Vec<String>,
    pub series: Vec<Series>,
    /// Formats a bar's value label.
    pub decimals: usize,
}

/// Small multiples of grouped vertical bars (e.g. tier means, counts and cut lines, this year
/// against the previous), side by side, with one shared legend.
pub fn grouped(title: &str, panels: &[Panel]) -> String {
    let h = 270.0;
    let (top, bottom) = (44.0, 38.0);
    let left0 = 34.0;
    // Each panel's tick labels sit left of its axis: the gap must hold them, or they crowd
    // the previous panel's last bar.
    let gap = left0 + 10.0;
    let n = panels.len().max(1) as f64;
    let pw = (W - left0 - 6.0 - gap * (n - 1.0)) / n;
    let ph = h - top - bottom;
    let mut out = open(W, h, title);
    if let Some(p) = panels.first() {
        let items: Vec<(&str, &str, bool)> = p
            .series
            .iter()
            .map(|s| (s.name.as_str(), s.colour.as_str(), false))
            .collect();
        legend(&mut out, left0, 14.0, &items);
    }
    for (pi, p) in panels.iter().enumerate() {
        let x0 = left0 + (pw + gap) * pi as f64;
        let max = p
            .series
            .iter()
            .flat_map(|s| s.values.iter().flatten())
            .fold(0.0f64, |a, &b| a.max(b));
        // Headroom above the tallest bar for its rotated value label.
        let (_, end, step) = nice_range(0.0, (max * 1.18).max(1e-9), 4);
        let y = |v: f64| top + ph * (1.0 - v / end);
        axis_y(&mut out, x0, x0 + pw, 0.0, end, step, &y, false);
        if panels.len() > 1 {
            text(
                &mut out,
                x0 + pw / 2.0,
                top - 8.0,
                "middle",
                FS,
                TEXT,
                &p.title,
            );
        }
        let cats = p.categories.len().max(1) as f64;
        let slot = pw / cats;
        let ns = p.series.len().max(1) as f64;
        let bw = (slot * 0.8 / ns).min(22.0);
        for (ci, cat) in p.categories.iter().enumerate() {
            let cx = x0 + slot * (ci as f64 + 0.5);
            for (si, s) in p.series.iter().enumerate() {
                let Some(v) = s.values.get(ci).copied().flatten() else {
                    continue;
                };
                let bx = cx - bw * ns / 2.0 + bw * si as f64;
                let label = format!("{v:.*}", p.decimals);
                rect(
                    &mut out,
                    bx + 0.5,
                    y(v),
                    bw - 1.0,
                    y(0.0) - y(v),
                    &s.colour,
                    &format!("{} · {cat} · {}: {label}", p.title, s.name),
                );
                if bw >= 13.0 {
                    let _ = write!(
                        out,
                        "<text transform=\"translate({},{}) rotate(-90)\" font-size=\"9.5\" fill=\"{TEXT}\">{}</text>",
                        f(bx + bw / 2.0 + 3.5),
                        f(y(v) - 3.0),
                        esc(&label)
                    );
                }
            }
            text(&mut out, cx, top + ph + 15.0, "middle", SMALL, TEXT, cat);
        }
    }
    out.push_str("</svg>");
    out
}

/// A row of [`ranges`]: a point with a spread and an optional previous-year point.
pub struct RangeRow {
    pub label: String,
    pub mid: f64,
    pub lo: Option<f64>,
    pub hi: Option<f64>,
    pub previous: Option<f64>,
    pub tip: String,
}

/// Horizontal dot plot with whiskers, one row per item in the given order (e.g. provinces
/// ranked by mean with ± 1 SD, the previous year's mean as a hollow dot).
pub fn ranges(title: &str, x_label: &str, rows: &[RangeRow], names: (&str, &str, &str)) -> String {
    let row_h = 17.0;
    let label_w = rows
        .iter()
        .map(|r| text_width(&r.label, SMALL))
        .fold(40.0, f64::max)
        + 10.0;
    let (top, bottom) = (34.0, 40.0);
    let h = top + bottom + row_h * rows.len() as f64;
    let left = label_w;
    let pw = W - left - 12.0;
    let lo = rows
        .iter()
        .flat_map(|r| [Some(r.mid), r.lo, r.previous])
        .flatten()
        .fold(f64::INFINITY, f64::min);
    let hi = rows
        .iter()
        .flat_map(|r| [Some(r.mid), r.hi, r.previous])
        .flatten()
        .fold(f64::NEG_INFINITY, f64::max);
    let (start, end, step) = nice_range(lo, hi, 6);
    let x = |v: f64| left + pw * (v - start) / (end - start);
    let mut out = open(W, h, title);
    legend(
        &mut out,
        left,
        14.0,
        &[(names.0, CURRENT, false), (names.1, CURRENT, true)],
    );
    if rows.iter().any(|r| r.previous.is_some()) {
        let lx = left + 36.0 + text_width(names.0, SMALL) + text_width(names.1, SMALL) + 34.0;
        circle(&mut out, lx + 5.0, 10.0, 4.0, "#fff", &hollow());
        text(&mut out, lx + 13.0, 14.0, "start", SMALL, TEXT, names.2);
    }
    let y0 = top;
    let y1 = top + row_h * rows.len() as f64;
    axis_x(&mut out, y0, y1, start, end, step, &x, false);
    for (i, r) in rows.iter().enumerate() {
        let cy = top + row_h * (i as f64 + 0.5);
        text(&mut out, left - 6.0, cy + 4.0, "end", SMALL, TEXT, &r.label);
        let _ = write!(out, "<g><title>{}</title>", esc(&r.tip));
        if let (Some(a), Some(b)) = (r.lo, r.hi) {
            line(
                &mut out,
                x(a),
                cy,
                x(b),
                cy,
                CURRENT,
                " stroke-width=\"1.6\" stroke-dasharray=\"4 2\"",
            );
        }
        if let Some(p) = r.previous {
            circle(&mut out, x(p), cy, 4.0, "#fff", &hollow());
        }
        circle(&mut out, x(r.mid), cy, 4.5, CURRENT, "");
        out.push_str("</g>");
    }
    text(
        &mut out,
        left + pw / 2.0,
        h - 6.0,
        "middle",
        SMALL,
        AXIS,
        x_label,
    );
    out.push_str("</svg>");
    out
}

/// A row of [`changes`]: from the previous value to the current one.
pub struct ChangeRow {
    pub label: String,
    pub from: Option<f64>,
    pub to: f64,
    pub tip: String,
}

/// Horizontal dumbbells: a grey dot for the previous value, a coloured dot for the current one,
/// joined by a line that is green when the value fell and red when it rose (for spreads, where
/// lower is better).
pub fn changes(title: &str, x_label: &str, rows: &[ChangeRow], names: (&str, &str)) -> String {
    let row_h = 17.0;
    let label_w = rows
        .iter()
        .map(|r| text_width(&r.label, SMALL))
        .fold(40.0, f64::max)
        + 10.0;
    let (top, bottom) = (34.0, 40.0);
    let h = top + bottom + row_h * rows.len() as f64;
    let left = label_w;
    let pw = W - left - 12.0;
    let hi = rows
        .iter()
        .flat_map(|r| [Some(r.to), r.from])
        .flatten()
        .fold(0.0, f64::max);
    let (start, end, step) = nice_range(0.0, hi.max(1e-9), 5);
    let x = |v: f64| left + pw * (v - start) / (end - start);
    let mut out = open(W, h, title);
    legend(
        &mut out,
        left,
        14.0,
        &[(names.0, PREVIOUS, false), (names.1, CURRENT, false)],
    );
    axis_x(
        &mut out,
        top,
        top + row_h * rows.len() as f64,
        start,
        end,
        step,
        &x,
        false,
    );
    for (i, r) in rows.iter().enumerate() {
        let cy = top + row_h * (i as f64 + 0.5);
        text(&mut out, left - 6.0, cy + 4.0, "end", SMALL, TEXT, &r.label);
        let _ = write!(out, "<g><title>{}</title>", esc(&r.tip));
        if let Some(p) = r.from {
            let colour = if r.to < p { "#1a7f37" } else { "#b42318" };
            line(
                &mut out,
                x(p),
                cy,
                x(r.to),
                cy,
                colour,
                " stroke-width=\"2.2\"",
            );
            circle(&mut out, x(p), cy, 4.0, PREVIOUS, "");
        }
        circle(&mut out, x(r.to), cy, 4.5, CURRENT, "");
        out.push_str("</g>");
    }
    text(
        &mut out,
        left + pw / 2.0,
        h - 6.0,
        "middle",
        SMALL,
        AXIS,
        x_label,
    );
    out.push_str("</svg>");
    out
}

/// A row of [`shares`].
pub struct ShareRow {
    pub label: String,
    /// 0–1.
    pub value: f64,
    pub previous: Option<f64>,
}

/// Horizontal bars of shares 0–100 % with the previous year as a grey tick (channel coverage).
pub fn shares(title: &str, rows: &[ShareRow], names: (&str, &str)) -> String {
    let row_h = 26.0;
    let label_w = rows
        .iter()
        .map(|r| text_width(&r.label, SMALL))
        .fold(40.0, f64::max)
        + 10.0;
    let (top, bottom) = (34.0, 26.0);
    let h = top + bottom + row_h * rows.len() as f64;
    let left = label_w.min(W * 0.45);
    let pw = W - left - 56.0;
    let x = |v: f64| left + pw * v;
    let mut out = open(W, h, title);
    legend(
        &mut out,
        left,
        14.0,
        &[(names.1, CURRENT, false), (names.0, PREVIOUS, false)],
    );
    axis_x(
        &mut out,
        top,
        top + row_h * rows.len() as f64,
        0.0,
        1.0,
        0.2,
        &x,
        true,
    );
    for (i, r) in rows.iter().enumerate() {
        let y = top + row_h * i as f64;
        text(
            &mut out,
            left - 6.0,
            y + row_h / 2.0 + 4.0,
            "end",
            SMALL,
            TEXT,
            &r.label,
        );
        rect(
            &mut out,
            left,
            y + 6.0,
            x(r.value) - left,
            row_h - 12.0,
            CURRENT,
            &format!("{}: {}", r.label, crate::i18n::pct(r.value)),
        );
        if let Some(p) = r.previous {
            line(
                &mut out,
                x(p),
                y + 3.0,
                x(p),
                y + row_h - 3.0,
                "#5b6673",
                " stroke-width=\"2.5\"",
            );
        }
        text(
            &mut out,
            x(r.value) + 5.0,
            y + row_h / 2.0 + 4.0,
            "start",
            SMALL,
            TEXT,
            &crate::i18n::pct1(r.value),
        );
    }
    out.push_str("</svg>");
    out
}

/// One histogram panel of [`histograms`].
pub struct Hist {
    pub title: String,
    /// Counts in equal bins over 0–1.
    pub counts: Vec<usize>,
    pub previous: Option<Vec<usize>>,
}

/// Histograms of score rates 0–100 %, one panel per capability side by side, with the
/// previous year as a grey outline and the threshold as a dashed line.
pub fn histograms(title: &str, panels: &[Hist], threshold: f64, names: (&str, &str)) -> String {
    let n = panels.len().max(1) as f64;
    let (left0, gap, top, ph, bottom) = (34.0, 26.0, 52.0, 150.0, 30.0);
    let pw = (W_WIDE - left0 - 8.0 - gap * (n - 1.0)) / n;
    let h = top + ph + bottom;
    let mut out = open(W_WIDE, h, title);
    legend(
        &mut out,
        left0,
        14.0,
        &[(names.1, CURRENT, false), (names.0, PREVIOUS, false)],
    );
    let max = panels
        .iter()
        .flat_map(|p| p.counts.iter().chain(p.previous.iter().flatten()))
        .copied()
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    // One y scale for all panels, so their heights compare.
    let (_, end, step) = nice_range(0.0, max, 4);
    let y = |v: f64| top + ph * (1.0 - v / end);
    for (pi, p) in panels.iter().enumerate() {
        let x0 = left0 + (pw + gap) * pi as f64;
        let x = |v: f64| x0 + pw * v;
        text(
            &mut out,
            x0 + pw / 2.0,
            top - 12.0,
            "middle",
            FS,
            TEXT,
            &p.title,
        );
        axis_y(&mut out, x0, x0 + pw, 0.0, end, step, &y, false);
        let nb = p.counts.len().max(1) as f64;
        let bw = pw / nb;
        for (i, &c) in p.counts.iter().enumerate() {
            let lo = i as f64 / nb;
            rect(
                &mut out,
                x(lo) + 0.3,
                y(c as f64),
                bw - 0.6,
                y(0.0) - y(c as f64),
                CURRENT,
                &format!(
                    "{} {}–{}%: {c}",
                    p.title,
                    (lo * 100.0).round(),
                    ((lo + 1.0 / nb) * 100.0).round()
                ),
            );
        }
        if let Some(prev) = &p.previous {
            let mut d = format!("M{} {}", f(x(0.0)), f(y(0.0)));
            for (i, &c) in prev.iter().enumerate() {
                let lo = i as f64 / nb;
                let _ = write!(d, "V{}H{}", f(y(c as f64)), f(x(lo + 1.0 / nb)));
            }
            let _ = write!(d, "V{}", f(y(0.0)));
            let _ = write!(
                out,
                "<path d=\"{d}\" fill=\"none\" stroke=\"#5b6673\" stroke-width=\"1.2\"/>"
            );
        }
        line(
            &mut out,
            x(threshold),
            top - 4.0,
            x(threshold),
            y(0.0),
            "#b42318",
            " stroke-width=\"1.4\" stroke-dasharray=\"4 3\"",
        );
        text(
            &mut out,
            x(threshold) - 3.0,
            top + 6.0,
            "end",
            SMALL,
            "#b42318",
            &crate::i18n::pct_short(threshold),
        );
        for k in 0..=2 {
            let v = k as f64 * 0.5;
            text(
                &mut out,
                x(v),
                y(0.0) + 14.0,
                if k == 0 {
                    "start"
                } else if k == 2 {
                    "end"
                } else {
                    "middle"
                },
                SMALL,
                AXIS,
                &format!("{}%", (v * 100.0).round()),
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// One tier band of [`score_curve`].
pub struct TierBand {
    pub code: String,
    pub label: String,
    /// Position (0-based, in the descending order) of the tier's first and last unit.
    pub first: usize,
    pub last: usize,
    /// Lowest score in the tier (its cut line).
    pub cut_line: Option<f64>,
}

/// The sorted-score curve: every unit's total from highest to lowest as a dot coloured by tier,
/// the cut lines dashed; below it, the gap to the next unit, with the tier breaks marked, so a
/// reader sees that the cuts fall where the gaps jump.
pub fn score_curve(
    title: &str,
    totals: &[(f64, String)],
    gaps: &[f64],
    bands: &[TierBand],
    labels: (&str, &str, &str),
) -> String {
    let (left, right) = (44.0, 12.0);
    let (top, ph1, mid, ph2, bottom) = (28.0, 230.0, 34.0, 80.0, 34.0);
    let h = top + ph1 + mid + ph2 + bottom;
    let pw = W_WIDE - left - right;
    let n = totals.len().max(2);
    let x = |i: f64| left + pw * i / (n - 1) as f64;
    let lo = totals.iter().map(|t| t.0).fold(f64::INFINITY, f64::min);
    let hi = totals.iter().map(|t| t.0).fold(f64::NEG_INFINITY, f64::max);
    let (start, end, step) = nice_range(lo, hi, 5);
    let y = |v: f64| top + ph1 * (1.0 - (v - start) / (end - start));
    let mut out = open(W_WIDE, h, title);
    let items: Vec<(&str, &str, bool)> = bands
        .iter()
        .map(|b| (b.label.as_str(), tier_fill(&b.code), false))
        .collect();
    legend(&mut out, left, 12.0, &items);
    axis_y(&mut out, left, left + pw, start, end, step, &y, false);
    // Tier breaks: vertical lines between the last unit of one tier and the first of the next.
    for b in bands.iter().skip(1) {
        let bx = x(b.first as f64 - 0.5);
        line(
            &mut out,
            bx,
            top,
            bx,
            top + ph1 + mid + ph2,
            "#b42318",
            " stroke-width=\"1\" stroke-dasharray=\"3 3\"",
        );
    }
    for b in bands {
        if let Some(c) = b.cut_line {
            let (x0, x1) = (x(b.first as f64), x(b.last as f64));
            line(
                &mut out,
                left,
                y(c),
                x1,
                y(c),
                tier_fill(&b.code),
                " stroke-width=\"1\" stroke-dasharray=\"2 3\"",
            );
            if b.last + 1 < totals.len() {
                text(
                    &mut out,
                    (x0 + x1) / 2.0,
                    y(c) + 14.0,
                    "middle",
                    SMALL,
                    TEXT,
                    &format!("{} ≥ {c:.2}", b.code),
                );
            }
        }
    }
    let mut dots = String::new();
    for (i, (t, code)) in totals.iter().enumerate() {
        circle(&mut dots, x(i as f64), y(*t), 2.3, tier_fill(code), "");
    }
    out.push_str(&dots);
    y_title(&mut out, 11.0, top + ph1 / 2.0, labels.0);
    // Gap panel.
    let g0 = top + ph1 + mid;
    let gmax = gaps.iter().copied().fold(0.0, f64::max);
    let (_, gend, gstep) = nice_range(0.0, gmax.max(1e-9), 2);
    let gy = |v: f64| g0 + ph2 * (1.0 - v / gend);
    text(&mut out, left, g0 - 8.0, "start", SMALL, TEXT, labels.1);
    axis_y(&mut out, left, left + pw, 0.0, gend, gstep, &gy, false);
    let bw = (pw / n as f64).max(0.6);
    for (i, g) in gaps.iter().enumerate() {
        let gx = x(i as f64 + 0.5) - bw / 2.0;
        let _ = write!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#5b6673\"/>",
            f(gx),
            f(gy(*g)),
            f(bw.max(0.8)),
            f(gy(0.0) - gy(*g))
        );
    }
    for k in [1usize, n / 4, n / 2, 3 * n / 4, n] {
        text(
            &mut out,
            x((k - 1) as f64),
            g0 + ph2 + 14.0,
            "middle",
            SMALL,
            AXIS,
            &k.to_string(),
        );
    }
    text(
        &mut out,
        left + pw / 2.0,
        h - 4.0,
        "middle",
        SMALL,
        AXIS,
        labels.2,
    );
    out.push_str("</svg>");
    out
}

/// One polygon of [`radar`].
pub struct RadarSeries {
    pub name: String,
    pub colour: String,
    pub dashed: bool,
    pub filled: bool,
    /// Score rates 0–1, one per axis.
    pub values: Vec<Option<f64>>,
}

/// Splits a label wider than `max` into two lines: at the space nearest the middle, or in the
/// middle of a label without spaces (CJK).
pub fn wrap2(label: &str, max: f64, size: f64) -> Vec<String> {
    if text_width(label, size) <= max {
        return vec![label.to_string()];
    }
    let chars: Vec<char> = label.chars().collect();
    let mid = chars.len() / 2;
    let split = chars
        .iter()
        .enumerate()
        .filter(|(_, c)| **c == ' ')
        .map(|(i, _)| i)
        .min_by_key(|&i| i.abs_diff(mid));
    match split {
        Some(i) => vec![chars[..i].iter().collect(), chars[i + 1..].iter().collect()],
        None => vec![chars[..mid].iter().collect(), chars[mid..].iter().collect()],
    }
}

/// A radar of score rates (0–100 %) on `axes`, first axis at the top, clockwise.
pub fn radar(title: &str, axes: &[String], series: &[RadarSeries]) -> String {
    let h = 430.0;
    let (cx, cy, r) = (W / 2.0, 232.0, 136.0);
    let n = axes.len().max(3) as f64;
    let pt = |k: usize, v: f64| {
        let a = std::f64::consts::TAU * k as f64 / n - std::f64::consts::FRAC_PI_2;
        (cx + r * v * a.cos(), cy + r * v * a.sin())
    };
    let mut out = open(W, h, title);
    let items: Vec<(&str, &str, bool)> = series
        .iter()
        .map(|s| (s.name.as_str(), s.colour.as_str(), s.dashed))
        .collect();
    legend(&mut out, 12.0, 16.0, &items);
    for ring in 1..=5 {
        let v = ring as f64 / 5.0;
        let pts: Vec<String> = (0..axes.len())
            .map(|k| {
                let (x, y) = pt(k, v);
                format!("{},{}", f(x), f(y))
            })
            .collect();
        let _ = write!(
            out,
            "<polygon points=\"{}\" fill=\"none\" stroke=\"{}\"/>",
            pts.join(" "),
            if ring == 5 { AXIS } else { GRID }
        );
        let (_, ty) = pt(0, v);
        text(
            &mut out,
            cx + 3.0,
            ty + 11.0,
            "start",
            9.5,
            AXIS,
            &format!("{}%", ring * 20),
        );
    }
    for (k, label) in axes.iter().enumerate() {
        let (x, y) = pt(k, 1.0);
        line(&mut out, cx, cy, x, y, GRID, "");
        let (lx, ly) = pt(k, 1.12);
        let anchor = if (lx - cx).abs() < 8.0 {
            "middle"
        } else if lx > cx {
            "start"
        } else {
            "end"
        };
        let dy = if ly < cy - r * 0.9 {
            -2.0
        } else if ly > cy + r * 0.9 {
            10.0
        } else {
            4.0
        };
        let lines = wrap2(label, 100.0, SMALL);
        if lines.len() == 1 {
            text(&mut out, lx, ly + dy, anchor, SMALL, TEXT, label);
        } else {
            // Two lines centred on the label point.
            let y0 = ly + dy - SMALL * 0.6;
            let _ = write!(
                out,
                "<text x=\"{x}\" y=\"{}\" text-anchor=\"{anchor}\" font-size=\"{SMALL}\" fill=\"{TEXT}\"><tspan x=\"{x}\">{}</tspan><tspan x=\"{x}\" dy=\"{}\">{}</tspan></text>",
                f(y0),
                esc(&lines[0]),
                f(SMALL * 1.15),
                esc(&lines[1]),
                x = f(lx),
            );
        }
    }
    for s in series {
        let pts: Vec<String> = s
            .values
            .iter()
            .enumerate()
            .map(|(k, v)| {
                let (x, y) = pt(k, v.unwrap_or(0.0).clamp(0.0, 1.0));
                format!("{},{}", f(x), f(y))
            })
            .collect();
        let _ = write!(
            out,
            "<polygon points=\"{}\" fill=\"{}\" fill-opacity=\"{}\" stroke=\"{}\" stroke-width=\"{}\"{}><title>{}</title></polygon>",
            pts.join(" "),
            s.colour,
            if s.filled { "0.18" } else { "0" },
            s.colour,
            if s.filled { "2.2" } else { "1.6" },
            if s.dashed { " stroke-dasharray=\"5 3\"" } else { "" },
            esc(&s.name)
        );
        if s.filled {
            for (k, v) in s.values.iter().enumerate() {
                if let Some(v) = v {
                    let (x, y) = pt(k, v.clamp(0.0, 1.0));
                    let _ = write!(
                        out,
                        "<circle cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"{}\"><title>{}: {}</title></circle>",
                        f(x),
                        f(y),
                        s.colour,
                        esc(&axes[k]),
                        crate::i18n::pct(*v)
                    );
                }
            }
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_steps_and_ranges() {
        assert_eq!(nice_step(100.0, 5), 20.0);
        assert_eq!(nice_step(47.0, 5), 10.0);
        assert_eq!(nice_step(0.9, 4), 0.25);
        assert_eq!(nice_range(51.26, 96.65, 5), (50.0, 100.0, 10.0));
        assert_eq!(nice_range(0.0, 137.0, 5), (0.0, 150.0, 50.0));
        assert_eq!(nice_range(3.0, 3.0, 5).0, 2.0);
    }

    #[test]
    fn bars_scale_from_zero_and_escape_labels() {
        let svg = bars(
            "t<",
            "n",
            &[
                Bar {
                    label: "A+".into(),
                    value: 10.0,
                    fill: "#000".into(),
                    note: "10".into(),
                },
                Bar {
                    label: "<D>".into(),
                    value: 5.0,
                    fill: "#111".into(),
                    note: "5".into(),
                },
            ],
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("<title>t&lt;</title>"));
        assert!(svg.contains("&lt;D&gt;"));
        assert!(!svg.contains("<D>"));
        // Axis 0..10 over a 200-unit plot (260 − 18 − 42): bar of 10 is 200 high, of 5 is 100.
        assert!(svg.contains("height=\"200\" fill=\"#000\""));
        assert!(svg.contains("height=\"100\" fill=\"#111\""));
    }

    #[test]
    fn radar_points_lie_on_their_axes() {
        let svg = radar(
            "r",
            &["a".into(), "b".into(), "c".into(), "d".into()],
            &[RadarSeries {
                name: "s".into(),
                colour: "#000".into(),
                dashed: false,
                filled: true,
                values: vec![Some(1.0), Some(0.5), Some(0.0), None],
            }],
        );
        // centre (260, 232), radius 136: top = (260, 96); right at half = (328, 232).
        assert!(svg.contains("points=\"260,96 328,232 260,232 260,232\""));
        assert_eq!(svg.matches("<circle").count(), 3);
    }

    #[test]
    fn long_labels_wrap_at_the_middle_space_or_char() {
        assert_eq!(wrap2("Request intake", 100.0, 11.0), vec!["Request intake"]);
        assert_eq!(
            wrap2("Intelligent interaction", 100.0, 11.0),
            vec!["Intelligent", "interaction"]
        );
        assert_eq!(
            wrap2("服务诉求受理能力", 80.0, 11.0),
            vec!["服务诉求", "受理能力"]
        );
    }

    #[test]
    fn text_width_counts_cjk_as_full_width() {
        assert_eq!(text_width("北京", 10.0), 20.0);
        assert!((text_width("ab", 10.0) - 11.6).abs() < 1e-9);
    }
}
