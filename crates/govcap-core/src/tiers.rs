//! Development tiers (发展类型) and sub-levels: the blue book's classification of units by
//! total score, built on the generic [`crate::classify`] methods.

use serde::{Deserialize, Serialize};

use crate::classify::{self, Classes, ClassifyError, Method, SublevelMethod};

/// Which edition's tier names to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TierNames {
    /// 领先发展 / 积极发展 / 稳步发展 / 亟待发展 (2021).
    #[default]
    Edition2021,
    /// 创新领先 / 积极追赶 / 稳步推进 / 亟待发展 (2019–2020).
    Edition2019,
}

/// How units are cut into tiers and sub-levels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierParams {
    pub method: Method,
    /// Number of tiers (4 in the blue book).
    pub k: usize,
    pub names: TierNames,
    pub sublevel_method: SublevelMethod,
    /// Sub-levels per tier (3: A+, A, A-); 0 disables them.
    pub sublevels: usize,
}

impl Default for TierParams {
    /// Natural breaks (exact Fisher-Jenks), k = 4, 2021 names, equal-width thirds. The
    /// difference-trend rule is selectable but not the default: on scores without pronounced
    /// jumps (a smooth distribution) the largest gap ratios fall where chance puts them, so its
    /// tiers move from year to year for no reason (see the README's "Tiers" section).
    fn default() -> Self {
        TierParams {
            method: Method::NaturalBreaks,
            k: 4,
            names: TierNames::Edition2021,
            sublevel_method: SublevelMethod::EqualWidth,
            sublevels: 3,
        }
    }
}

/// One tier, highest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierInfo {
    /// A, B, C, D …
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// The lowest score in the tier (the published "分数线").
    pub cut_line: Option<f64>,
    pub lower_break: f64,
    pub upper_break: f64,
    pub count: usize,
    pub mean: Option<f64>,
}

/// Tiers of every unit plus the tier table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierOutcome {
    /// Highest tier first.
    pub tiers: Vec<TierInfo>,
    /// Ascending breaks in jenkspy's convention `[min, b1, …, max]`.
    pub breaks: Vec<f64>,
    /// Per scored unit (same order as the input): tier code and sub-level label (`A+`).
    pub tier_of: Vec<String>,
    pub sublevel_of: Vec<Option<String>>,
}

fn names(edition: TierNames, k: usize, i: usize) -> (String, String) {
    if k == 4 {
        let zh = match edition {
            TierNames::Edition2021 => ["领先发展", "积极发展", "稳步发展", "亟待发展"],
            TierNames::Edition2019 => ["创新领先", "积极追赶", "稳步推进", "亟待发展"],
        };
        let en = match edition {
            TierNames::Edition2021 => ["Leading", "Active", "Steady", "Lagging"],
            TierNames::Edition2019 => ["Innovating", "Catching up", "Advancing", "Lagging"],
        };
        (zh[i].to_string(), en[i].to_string())
    } else {
        (format!("第{}类", i + 1), format!("Tier {}", i + 1))
    }
}

/// Tier code for the i-th tier from the top: A, B, C, …
pub fn tier_code(i: usize) -> String {
    char::from(b'A' + (i as u8).min(25)).to_string()
}

/// Classifies scores into tiers (highest = A) and sub-levels inside every tier but the
/// lowest, as the blue book does (D has no sub-levels).
pub fn assign(scores: &[f64], p: &TierParams) -> Result<TierOutcome, ClassifyError> {
    let classes: Classes = classify::classify(scores, p.k, &p.method)?;
    let k = classes.counts.len();
    let with_sub: Vec<usize> = if p.sublevels > 0 {
        (1..k).collect()
    } else {
        vec![]
    };
    let subs = classify::sublevels(
        scores,
        &classes,
        &with_sub,
        p.sublevels.max(1),
        p.sublevel_method,
    );
    let mut tiers = Vec::with_capacity(k);
    for top in 0..k {
        let class = k - 1 - top;
        let members: Vec<f64> = scores
            .iter()
            .zip(&classes.class_of)
            .filter(|(_, &c)| c == class)
            .map(|(&s, _)| s)
            .collect();
        let (name_zh, name_en) = names(p.names, k, top);
        tiers.push(TierInfo {
            code: tier_code(top),
            name_zh,
            name_en,
            cut_line: members.iter().copied().reduce(f64::min),
            lower_break: classes.breaks[class],
            upper_break: classes.breaks[class + 1],
            count: members.len(),
            mean: crate::analyse::stats::mean(&members),
        });
    }
    let tier_of: Vec<String> = classes
        .class_of
        .iter()
        .map(|&c| tier_code(k - 1 - c))
        .collect();
    let sublevel_of = subs
        .iter()
        .zip(&tier_of)
        .map(|(s, t)| {
            s.map(|level| {
                // 3 sub-levels: top = "+", middle = "", bottom = "-"; other counts are numbered.
                let n = p.sublevels;
                if n == 3 {
                    format!("{t}{}", ["-", "", "+"][level])
                } else {
                    format!("{t}{}", n - level)
                }
            })
        })
        .collect();
    Ok(TierOutcome {
        tiers,
        breaks: classes.breaks,
        tier_of,
        sublevel_of,
    })
}
