//! Language and number formatting: the report is Chinese by default and English on request.
//!
//! Strings are chosen inline with [`Lang::t`] so each sentence keeps both wordings side by side
//! (easier to review than two parallel tables). Names that the data only carries in Chinese
//! (provinces, regions) are translated from the fixed tables below.

use govcap_core::evaluate::{NodeInfo, UnitResult};
use govcap_core::tiers::TierInfo;
use govcap_core::vocab::{self, Tongue};

/// Language of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// Picks the wording for this language.
    pub fn t<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// The `lang` attribute of the pages.
    pub fn html_lang(self) -> &'static str {
        self.t("zh-CN", "en")
    }

    pub fn unit_name(self, u: &UnitResult) -> &str {
        match self {
            Lang::En if !u.name_en.is_empty() => &u.name_en,
            _ => &u.name,
        }
    }

    pub fn node_name(self, n: &NodeInfo) -> &str {
        match self {
            Lang::En if !n.name_en.is_empty() => &n.name_en,
            _ => &n.name_zh,
        }
    }

    pub fn tier_name(self, t: &TierInfo) -> &str {
        match self {
            Lang::En if !t.name_en.is_empty() => &t.name_en,
            _ => &t.name_zh,
        }
    }

    /// Province name (the data has Chinese names only).
    pub fn province(self, zh: &str) -> &str {
        vocab::province(zh, self.tongue())
    }

    /// Region name (东部, 中部, 西部, 东北: the NBS four regions).
    pub fn region(self, zh: &str) -> &str {
        vocab::region(zh, self.tongue())
    }

    /// What a channel tag means, e.g. `app` → 政务客户端; `None` for an unknown tag.
    pub fn channel(self, tag: &str) -> Option<&'static str> {
        vocab::channel(tag, self.tongue())
    }

    /// The shared vocabulary's language (`govcap_core::vocab`).
    pub fn tongue(self) -> Tongue {
        match self {
            Lang::Zh => Tongue::Zh,
            Lang::En => Tongue::En,
        }
    }
}

/// A score with two decimals ("85.53").
pub fn num(x: f64) -> String {
    format!("{x:.2}")
}

/// A share as a percentage without needless decimals ("60%", "62.5%"), for thresholds.
pub fn pct_short(x: f64) -> String {
    let s = format!("{:.2}", x * 100.0);
    format!("{}%", s.trim_end_matches('0').trim_end_matches('.'))
}

/// An optional score, "–" when missing.
pub fn opt(x: Option<f64>) -> String {
    x.map(num).unwrap_or_else(|| "–".into())
}

/// A share 0–1 as a percentage with two decimals ("97.63%").
pub fn pct(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

pub fn opt_pct(x: Option<f64>) -> String {
    x.map(pct).unwrap_or_else(|| "–".into())
}

/// A percentage with one decimal, for chart labels where space is short.
pub fn pct1(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// A signed change with two decimals ("+3.28", "−0.40", "±0.00").
pub fn signed(x: f64) -> String {
    let r = (x * 100.0).round() / 100.0;
    if r > 0.0 {
        format!("+{r:.2}")
    } else if r < 0.0 {
        format!("\u{2212}{:.2}", -r)
    } else {
        "±0.00".into()
    }
}

/// A signed whole number ("+3", "−2", "0").
pub fn signed_int(x: i64) -> String {
    match x.cmp(&0) {
        std::cmp::Ordering::Greater => format!("+{x}"),
        std::cmp::Ordering::Less => format!("\u{2212}{}", -x),
        std::cmp::Ordering::Equal => "0".into(),
    }
}

/// A signed change of a share in percentage points ("+3.26", two decimals).
pub fn signed_pp(x: f64) -> String {
    signed(x * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_round_and_sign() {
        assert_eq!(num(85.534), "85.53");
        assert_eq!(pct(0.97634), "97.63%");
        assert_eq!(signed(3.284), "+3.28");
        assert_eq!(signed(-0.404), "\u{2212}0.40");
        assert_eq!(signed(0.004), "±0.00");
        assert_eq!(signed(-0.004), "±0.00");
        assert_eq!(signed_int(-2), "\u{2212}2");
        assert_eq!(signed_pp(0.0326), "+3.26");
        assert_eq!(opt(None), "–");
        assert_eq!(pct_short(0.6), "60%");
        assert_eq!(pct_short(0.625), "62.5%");
    }

    #[test]
    fn translates_fixed_names() {
        assert_eq!(Lang::En.province("新疆维吾尔自治区"), "Xinjiang");
        assert_eq!(Lang::Zh.province("新疆维吾尔自治区"), "新疆维吾尔自治区");
        assert_eq!(Lang::En.province("某省"), "某省");
        assert_eq!(Lang::En.region("西部"), "West");
        assert_eq!(Lang::Zh.channel("app"), Some("政务客户端"));
        assert_eq!(Lang::En.channel("nope"), None);
    }
}
