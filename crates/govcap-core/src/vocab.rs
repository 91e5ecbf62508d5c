//! The words readers see for the keys the data and the configuration use: channel tags,
//! scoring rules, ways of collection, scales and the method names of the engine and the audit.
//!
//! One table for every output (report, dashboard, spreadsheets, console) so that a Chinese
//! output never shows an internal key such as `e_licence` or `geometric`, and the two languages
//! cannot drift apart. Keys not in the table are shown as they are: a framework may bring its
//! own channel tags, and a raw key is better than a wrong word. `tests/raw_keys.rs` checks that
//! the default outputs hold none.

use crate::framework::{Collection, Scale};
use crate::tiers::TierParams;

/// A reader's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tongue {
    Zh,
    En,
}

impl Tongue {
    /// Picks the wording for this language.
    pub fn pick(self, zh: &'static str, en: &'static str) -> &'static str {
        match self {
            Tongue::Zh => zh,
            Tongue::En => en,
        }
    }
}

const PROVINCES: &[(&str, &str)] = &[
    ("北京市", "Beijing"),
    ("天津市", "Tianjin"),
    ("河北省", "Hebei"),
    ("山西省", "Shanxi"),
    ("内蒙古自治区", "Inner Mongolia"),
    ("辽宁省", "Liaoning"),
    ("吉林省", "Jilin"),
    ("黑龙江省", "Heilongjiang"),
    ("上海市", "Shanghai"),
    ("江苏省", "Jiangsu"),
    ("浙江省", "Zhejiang"),
    ("安徽省", "Anhui"),
    ("福建省", "Fujian"),
    ("江西省", "Jiangxi"),
    ("山东省", "Shandong"),
    ("河南省", "Henan"),
    ("湖北省", "Hubei"),
    ("湖南省", "Hunan"),
    ("广东省", "Guangdong"),
    ("广西壮族自治区", "Guangxi"),
    ("海南省", "Hainan"),
    ("重庆市", "Chongqing"),
    ("四川省", "Sichuan"),
    ("贵州省", "Guizhou"),
    ("云南省", "Yunnan"),
    ("西藏自治区", "Tibet"),
    ("陕西省", "Shaanxi"),
    ("甘肃省", "Gansu"),
    ("青海省", "Qinghai"),
    ("宁夏回族自治区", "Ningxia"),
    ("新疆维吾尔自治区", "Xinjiang"),
];

const REGIONS: &[(&str, &str)] = &[
    ("东部", "East"),
    ("中部", "Central"),
    ("西部", "West"),
    ("东北", "Northeast"),
];

/// A province's name for a reader: the data names provinces in Chinese only.
pub fn province(zh: &str, t: Tongue) -> &str {
    match t {
        Tongue::Zh => zh,
        Tongue::En => PROVINCES.iter().find(|p| p.0 == zh).map_or(zh, |p| p.1),
    }
}

/// A region's name for a reader (东部, 中部, 西部, 东北: the NBS four regions).
pub fn region(zh: &str, t: Tongue) -> &str {
    match t {
        Tongue::Zh => zh,
        Tongue::En => REGIONS.iter().find(|p| p.0 == zh).map_or(zh, |p| p.1),
    }
}

/// Channel tags of the built-in framework with the blue book's wording.
const CHANNELS: &[(&str, &str, &str)] = &[
    (
        "new_media",
        "政务微博或政务微信",
        "Government Weibo or WeChat accounts",
    ),
    ("app", "政务客户端", "Government mobile app"),
    (
        "mini_program",
        "微信或支付宝小程序",
        "WeChat or Alipay mini-programs",
    ),
    (
        "e_licence",
        "电子证照与“一件事”服务",
        "E-licences and life-event services",
    ),
    ("status_query", "办件进度查询", "Application status lookup"),
    ("mobile", "移动端适配", "Mobile-ready pages"),
    ("weibo", "政务微博", "Government Weibo"),
    ("wechat", "政务微信", "Government WeChat"),
];

/// What a channel tag means, e.g. `app` → 政务客户端; `None` for a tag not in the table.
pub fn channel(tag: &str, t: Tongue) -> Option<&'static str> {
    CHANNELS
        .iter()
        .find(|c| c.0 == tag)
        .map(|c| t.pick(c.1, c.2))
}

/// A channel tag for a reader: its words, or the tag itself when unknown.
pub fn channel_or_tag(tag: &str, t: Tongue) -> String {
    channel(tag, t).map_or_else(|| tag.to_string(), str::to_string)
}

/// How a scoring rule reads a value (`graded` → 分档).
pub fn rule(key: &str, t: Tongue) -> String {
    match key {
        "binary" => t.pick("有无（0/1）", "yes / no"),
        "ratio" => t.pick("比例（0–1）", "share 0–1"),
        "count" => t.pick("计数（封顶）", "count, capped"),
        "graded" => t.pick("分档", "graded levels"),
        "continuous" => t.pick("连续值（标准化）", "continuous, normalised"),
        other => return other.to_string(),
    }
    .to_string()
}

/// Who collects a leaf's value.
pub fn collection(c: Collection, t: Tongue) -> &'static str {
    match c {
        Collection::Auto => t.pick("自动监测", "automatic"),
        Collection::Manual => t.pick("人工采集", "manual"),
        Collection::Hybrid => t.pick("自动+人工校验", "automatic + verified"),
    }
}

/// How the framework scores.
pub fn scale(s: Scale, t: Tongue) -> &'static str {
    match s {
        Scale::Points => t.pick(
            "百分制（各指标分值相加）",
            "points (indicator points add up)",
        ),
        Scale::Weights => t.pick(
            "权重制（标准化后加权平均）",
            "weights (normalised, weighted means)",
        ),
    }
}

/// Method names and parameter names of the engine and the audit (the kebab-case keys of the
/// framework and factor files).
const METHOD_WORDS: &[(&str, &str, &str)] = &[
    ("nominal", "名义设定", "as evaluated"),
    ("arithmetic", "算术平均", "arithmetic mean"),
    ("geometric", "几何平均", "geometric mean"),
    ("harmonic", "调和平均", "harmonic mean"),
    ("generalised", "广义平均", "generalised mean"),
    ("copeland", "Copeland 两两比较", "Copeland pairwise"),
    (
        "exclude",
        "不计入（在其余指标间重新分配权重）",
        "left out (the others reweighted)",
    ),
    ("zero", "按零分计", "scored zero"),
    ("mean", "均值", "mean"),
    ("median", "中位数", "median"),
    ("group-mean", "组内均值填补", "group mean"),
    ("group-median", "组内中位数填补", "group median"),
    ("min-max", "极差标准化", "min-max"),
    ("z-score", "Z 分数标准化", "z-score"),
    ("goalposts", "目标值标准化", "goalposts"),
    (
        "dist-to-reference",
        "与参照单位之比",
        "distance to a reference",
    ),
    ("dist-to-target", "与目标值之距", "distance to a target"),
    ("dist-to-max", "与最大值之距", "distance to the maximum"),
    ("frac-max", "占最大值比例", "fraction of the maximum"),
    ("rank", "名次", "rank"),
    ("percent-rank", "百分位名次", "percent rank"),
    ("borda", "Borda 计分", "Borda count"),
    ("none", "不处理", "none"),
    ("winsorise", "缩尾处理", "winsorising"),
    ("log", "对数变换", "log transform"),
    ("difference", "差分趋势法", "difference trend"),
    ("natural-breaks", "自然断点法", "natural breaks"),
    ("quantile", "分位数法", "quantiles"),
    ("thresholds", "固定分数线", "fixed cut lines"),
    ("equal-width", "等宽", "equal width"),
    ("sublevels", "级别划分", "sub-levels"),
    ("cuts", "分数线", "cut lines"),
    ("low", "下限", "low"),
    ("high", "上限", "high"),
    ("p", "幂次", "p"),
    ("group", "分组", "group"),
    ("skew", "偏度阈值", "skewness limit"),
    ("kurt", "峰度阈值", "kurtosis limit"),
    ("max_points", "最多缩尾点数", "at most points winsorised"),
    ("fallback", "仍不满足时", "otherwise"),
    ("lower", "下目标值", "lower goalpost"),
    ("upper", "上目标值", "upper goalpost"),
    ("scale", "尺度", "scale"),
    ("sd", "标准差", "sd"),
    ("reference", "参照单位", "reference"),
    ("target", "目标值", "target"),
    ("cap", "封顶", "capped"),
    ("truncate", "截断", "truncated"),
    ("true", "是", "yes"),
    ("false", "否", "no"),
];

/// Every key [`method_label`] knows, for tests that look for keys leaking into outputs.
pub fn method_keys() -> impl Iterator<Item = &'static str> {
    METHOD_WORDS.iter().map(|w| w.0)
}

/// Every channel tag with words, for the same tests.
pub fn channel_tags() -> impl Iterator<Item = &'static str> {
    CHANNELS.iter().map(|c| c.0)
}

/// A method label such as `nominal (zero)` or `min-max(low=1, high=100)` in the reader's words:
/// every known key is replaced, numbers and punctuation stay.
pub fn method_label(label: &str, t: Tongue) -> String {
    // The audit's one label with a sentence in it (`NormChoice::NominalOnto`).
    if let Some(range) = label
        .strip_prefix("nominal (onto ")
        .and_then(|r| r.strip_suffix(" where positive values are needed)"))
    {
        return match t {
            Tongue::Zh => format!("名义设定（需要正值时映射到 {range}）"),
            Tongue::En => format!("as evaluated (onto {range} where positive values are needed)"),
        };
    }
    let mut out = String::with_capacity(label.len() * 2);
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.is_empty() {
            return;
        }
        match METHOD_WORDS.iter().find(|w| w.0 == word.as_str()) {
            Some(w) => out.push_str(t.pick(w.1, w.2)),
            None => out.push_str(word),
        }
        word.clear();
    };
    for ch in label.chars() {
        if ch.is_ascii_alphabetic() || (ch == '-' && !word.is_empty()) || ch == '_' {
            word.push(ch);
        } else {
            flush(&mut word, &mut out);
            out.push(match (t, ch) {
                (Tongue::Zh, '(') => '（',
                (Tongue::Zh, ')') => '）',
                _ => ch,
            });
        }
    }
    flush(&mut word, &mut out);
    if t == Tongue::Zh {
        out = out.replace("（ ", "（").replace(" （", "（");
    }
    out
}

/// The tier rule in words, e.g. 自然断点法（4 类，A–C 各分 3 级，等宽）.
pub fn tier_rule(tp: &TierParams, t: Tongue) -> String {
    use crate::classify::{Method, SublevelMethod};
    let method = match &tp.method {
        Method::Difference(d) => match t {
            Tongue::Zh => format!(
                "差分趋势法（滑动中位数窗口 {}，每类至少 {:.0}%）",
                d.window,
                d.min_class_share * 100.0
            ),
            Tongue::En => format!(
                "difference trend (moving-median window {}, each tier at least {:.0} %)",
                d.window,
                d.min_class_share * 100.0
            ),
        },
        Method::Thresholds { cuts } => format!(
            "{} {}",
            method_label("thresholds", t),
            cuts.iter()
                .map(|c| format!("{c}"))
                .collect::<Vec<_>>()
                .join(t.pick("、", ", "))
        ),
        Method::NaturalBreaks => method_label("natural-breaks", t),
        Method::Quantile => method_label("quantile", t),
    };
    let sub = method_label(
        match tp.sublevel_method {
            SublevelMethod::EqualWidth => "equal-width",
            SublevelMethod::Quantile => "quantile",
        },
        t,
    );
    match t {
        Tongue::Zh => format!(
            "{method}；{} 类，前 {} 类各分 {} 级（{sub}）",
            tp.k,
            tp.k.saturating_sub(1),
            tp.sublevels
        ),
        Tongue::En => format!(
            "{method}; {} tiers, the top {} split into {} sub-levels ({sub})",
            tp.k,
            tp.k.saturating_sub(1),
            tp.sublevels
        ),
    }
}

/// What an audit factor varies (二级指标权重, aggregation method, …).
pub fn audit_factor(k: &crate::audit::FactorKind, t: Tongue) -> String {
    use crate::audit::FactorKind as F;
    const D: [&str; 9] = ["一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match (t, k) {
        (Tongue::Zh, F::Weights { depth }) => format!(
            "{}级指标权重",
            D.get(depth.wrapping_sub(1))
                .map_or_else(|| depth.to_string(), |s| s.to_string())
        ),
        (Tongue::En, F::Weights { depth }) => format!("level-{depth} weights"),
        (_, F::Normalisation) => t.pick("标准化方法", "normalisation method").into(),
        (_, F::Aggregation) => t.pick("加总方法", "aggregation method").into(),
        (_, F::Missing) => t.pick("缺失值处理", "missing-data policy").into(),
        (_, F::Treatment) => t.pick("异常值处理", "outlier treatment").into(),
        (_, F::Tiers) => t.pick("分类方法", "tier method").into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_labels_read_in_either_language() {
        assert_eq!(
            method_label("nominal (zero)", Tongue::Zh),
            "名义设定（按零分计）"
        );
        assert_eq!(method_label("geometric", Tongue::En), "geometric mean");
        assert_eq!(
            method_label("min-max(low=1, high=100)", Tongue::Zh),
            "极差标准化（下限=1, 上限=100）"
        );
        // An unknown key stays as it is rather than becoming a wrong word.
        assert_eq!(method_label("my-method", Tongue::Zh), "my-method");
    }

    #[test]
    fn every_province_has_an_english_name() {
        assert_eq!(PROVINCES.len(), 31);
        assert!(PROVINCES.iter().all(|p| p.1.is_ascii() && !p.0.is_ascii()));
        assert_eq!(province("新疆维吾尔自治区", Tongue::En), "Xinjiang");
        assert_eq!(region("东北", Tongue::En), "Northeast");
    }

    #[test]
    fn every_channel_has_both_languages() {
        for (tag, zh, en) in CHANNELS {
            assert_eq!(channel(tag, Tongue::Zh), Some(*zh));
            assert_eq!(channel(tag, Tongue::En), Some(*en));
            assert!(!zh.is_ascii() && !en.is_empty());
        }
        assert_eq!(channel_or_tag("own_tag", Tongue::Zh), "own_tag");
    }
}
