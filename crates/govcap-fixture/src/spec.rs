//! What each simulated portal offers, drawn deterministically from a seed.
//!
//! Every site gets its own random stream (the seed mixed with the site's index), so adding
//! sites never changes the existing ones. The features are recorded as plain data
//! ([`SiteSpec`]); the renderer writes them as HTML and the truth is computed from them.

use crate::date::Date;

/// SplitMix64: small, seedable, good enough to pick features; no dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as i64
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
}

/// How pages are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    /// UTF-8, declared in the header and a meta tag.
    Utf8,
    /// GBK, declared only by `<meta http-equiv>` (no charset in the header).
    GbkMeta,
    /// GBK, declared nowhere: only detection can decode it.
    GbkBare,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewport {
    All,
    HomeOnly,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchKind {
    None,
    /// A GET form whose results list matching articles.
    Working,
    /// A GET form whose results are always empty.
    Broken,
    /// A scripted search box outside any form (nothing to submit without a browser).
    ScriptBox,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum A11y {
    /// A 无障碍浏览 link.
    Text,
    /// A `wza.js` toolbar script.
    Script,
    /// An `aria.js` toolbar script with its `ariascripts` container id.
    AriaScript,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Platform {
    Weibo,
    Wechat,
    Douyin,
    App,
    MiniProgram,
}

impl Platform {
    pub fn key(self) -> &'static str {
        match self {
            Platform::Weibo => "weibo",
            Platform::Wechat => "wechat",
            Platform::Douyin => "douyin",
            Platform::App => "app",
            Platform::MiniProgram => "mini_program",
        }
    }
}

/// How a site names its form controls (WCAG 3.3.2 / 4.1.2, GB/T 37668).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Labels {
    /// `aria-label` on every control.
    Aria,
    /// A `<label for>` naming every control.
    LabelFor,
    /// Placeholders only: no accessible name. Drawn only for sites with a search box, so
    /// every page has an unlabelled control.
    Missing,
}

/// The basic accessibility of a site's page templates; each defect is on every HTML page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct A11yBasics {
    /// `<html lang="zh-CN">`.
    pub lang: bool,
    /// Images have `alt` (decorative ones `alt=""`); false: no `alt` at all (the logo link
    /// then keeps a `title`, so links stay named).
    pub alt: bool,
    pub labels: Labels,
    /// `<meta http-equiv="refresh" content="300">` on every page.
    pub refresh: bool,
}

impl A11yBasics {
    pub const CLEAN: A11yBasics = A11yBasics {
        lang: true,
        alt: true,
        labels: Labels::Aria,
        refresh: false,
    };

    /// What `accessibility_basics` should find: every page-wide defect fails its sub-check.
    pub fn pass(&self) -> bool {
        self.lang && self.alt && self.labels != Labels::Missing && !self.refresh
    }
}

/// A 政务微博 / 政务微信 column on the home page with the account's latest posts.
#[derive(Debug, Clone, PartialEq)]
pub struct Feed {
    /// Weibo or WeChat (only platforms the site links).
    pub platform: Platform,
    pub heading: &'static str,
    /// Post ages in days before `as_of`, newest first; always older than the newest column
    /// item on the home page, so `freshness` and the search probe are unchanged.
    pub ages: Vec<i64>,
    /// Dates printed with their year; false: `11-20` only, which no check may read as a date.
    pub dated: bool,
}

/// How a platform is shown: a link to the platform, or a QR image with a caption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaStyle {
    Link,
    Qr,
}

/// How often a column must be updated (2019 rules: news 2 weeks, notices 6 months).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Dynamic,
    Notice,
    Other,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: &'static str,
    pub kind: ColumnKind,
    /// Item ages in days before `as_of`, newest first; empty for an empty column.
    pub ages: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Msg {
    pub title: String,
    /// Days before `as_of` the message was submitted.
    pub age: i64,
    /// Days from submission to reply; `None` when unanswered.
    pub reply_delay: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoardLayout {
    /// A table with a header row (信件标题 / 提交时间 / 回复时间 / 状态).
    Table,
    /// List rows with inline labels (留言时间：… 回复时间：…).
    List,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Board {
    pub layout: BoardLayout,
    pub msgs: Vec<Msg>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Present,
    /// The label printed with an empty value.
    Empty,
    /// The label left out.
    Omitted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuideLayout {
    Table,
    Para,
    Dl,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Guide {
    pub item: &'static str,
    /// 办理依据, 申请材料, 办理流程, 办理时限, 收费标准, 咨询电话.
    pub fields: [Field; 6],
    /// Which label variant each field prints (0 or 1).
    pub alias: [usize; 6],
    pub layout: GuideLayout,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broken {
    /// HTTP 404.
    NotFound,
    /// HTTP 200 with a "页面不存在" page.
    Soft404,
}

/// A hostile site: the home page itself misbehaves (or, for the calendar, traps the crawler).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hostile {
    /// Headers only after `slow_delay`.
    Slow,
    /// Headers at once, then the body a trickle at a time for `slow_delay`.
    Drip,
    /// `/` → `a` → `b` → `/` …
    RedirectLoop,
    /// HTTP 412 with a JS challenge and a `wzws_cid` cookie.
    Waf,
    /// A small gzip body that inflates to `bomb_bytes`.
    GzipBomb,
    /// A streamed page of `huge_bytes`.
    Huge,
    /// A normal home page linking to a calendar whose months go on forever.
    Calendar,
}

impl Hostile {
    pub const ALL: [Hostile; 7] = [
        Hostile::Slow,
        Hostile::Drip,
        Hostile::RedirectLoop,
        Hostile::Waf,
        Hostile::GzipBomb,
        Hostile::Huge,
        Hostile::Calendar,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Hostile::Slow => "hx-slow",
            Hostile::Drip => "hx-drip",
            Hostile::RedirectLoop => "hx-loop",
            Hostile::Waf => "hx-waf",
            Hostile::GzipBomb => "hx-bomb",
            Hostile::Huge => "hx-huge",
            Hostile::Calendar => "hx-calendar",
        }
    }

    pub fn key(self) -> &'static str {
        &self.code()[3..]
    }
}

/// Everything a simulated portal offers.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteSpec {
    pub index: usize,
    pub code: String,
    pub name: String,
    pub province: &'static str,
    pub charset: Charset,
    pub viewport: Viewport,
    pub search: SearchKind,
    pub search_param: &'static str,
    pub qa: Option<String>,
    pub a11y: Option<A11y>,
    pub elderly: Option<&'static str>,
    pub media: Vec<(Platform, MediaStyle)>,
    /// Intake channels: 领导信箱, 在线留言, 12345, 投诉.
    pub channels: [bool; 4],
    pub board: Option<Board>,
    pub guides: Vec<Guide>,
    pub columns: Vec<Column>,
    /// 0: `2026-11-20`, 1: `[2026-11-20]`, 2: `2026/11/20`, 3: `2026年11月20日`.
    pub date_style: u8,
    /// Column lists as tables rather than `<ul>`.
    pub list_table: bool,
    pub broken_home: Vec<Broken>,
    /// Broken links in the sidebar of the first column page.
    pub broken_inner: Vec<Broken>,
    pub icp: bool,
    pub gongan: bool,
    pub site_code: bool,
    pub meta_site_id: bool,
    /// A "今天是 2026年11月27日" banner (a date that is not an item).
    pub today_banner: bool,
    pub hostile: Option<Hostile>,
    /// A site that needs a browser (see `scripted`).
    pub scripted: Option<crate::scripted::Scripted>,
    pub a11y_basics: A11yBasics,
    /// 政务微博 / 政务微信 columns on the home page.
    pub feeds: Vec<Feed>,
}

const FIRST: &[&str] = &[
    "青", "云", "江", "白", "临", "松", "北", "东", "南", "西", "河", "安", "长", "永", "兴", "宁",
    "平", "清", "和", "丰",
];
const SECOND: &[&str] = &[
    "川", "岭", "口", "石", "湖", "原", "溪", "岚", "屿", "坪", "阳", "山", "泉", "林", "桥", "城",
];
const SUFFIX: &[&str] = &["市", "县", "区"];
pub const PROVINCES: &[&str] = &[
    "京", "津", "冀", "晋", "蒙", "辽", "吉", "黑", "沪", "苏", "浙", "皖", "闽", "赣", "鲁", "豫",
    "鄂", "湘", "粤", "桂", "琼", "渝", "川", "贵", "云", "藏", "陕", "甘", "青", "宁", "新",
];
const DYNAMIC: &[&str] = &["政务要闻", "部门动态", "基层动态", "工作动态"];
const NOTICE: &[&str] = &["通知公告", "政策文件", "政策解读", "规划计划"];
const OTHER: &[&str] = &["人事信息", "统计数据", "财政信息"];
const PLACES: &[&str] = &[
    "幸福小区",
    "滨河路",
    "第三中学",
    "人民医院",
    "火车站",
    "老城区",
    "工业园区",
    "中心广场",
];
const ISSUES: &[&str] = &[
    "路灯不亮",
    "道路积水",
    "停车难",
    "噪音扰民",
    "垃圾清运",
    "供暖不足",
    "公交线路调整",
    "学区划分",
];
pub const GUIDE_ITEMS: &[&str] = &[
    "居民身份证换领",
    "城乡居民基本养老保险参保登记",
    "个体工商户设立登记",
    "住房公积金提取",
    "生育登记",
    "残疾人证办理",
    "建设工程规划许可",
    "食品经营许可",
];

/// A unique place name for site `i` (960 distinct before a number is appended).
fn site_name(i: usize) -> String {
    let n = FIRST.len() * SECOND.len() * SUFFIX.len();
    let k = i % n;
    let base = format!(
        "{}{}{}",
        FIRST[k % FIRST.len()],
        SECOND[(k / FIRST.len()) % SECOND.len()],
        SUFFIX[(k / (FIRST.len() * SECOND.len())) % SUFFIX.len()]
    );
    if i < n {
        base
    } else {
        format!(
            "{}{}{}",
            &base[..base.len() - 3],
            i / n + 1,
            &base[base.len() - 3..]
        )
    }
}

/// Mixes the run seed with a site index (so each site has its own stream).
fn site_seed(seed: u64, i: usize) -> u64 {
    let mut r = Rng::new(seed ^ (i as u64).wrapping_mul(0xA24B_AED4_963E_E407));
    r.next_u64()
}

fn columns(r: &mut Rng, care: u8) -> Vec<Column> {
    // care: 0 good, 1 lax, 2 neglected.
    let mut names: Vec<(&'static str, ColumnKind)> = Vec::new();
    let (nd, nn, no) = if care == 2 {
        (3, 3, 1)
    } else {
        (
            r.range(1, 2) as usize,
            r.range(1, 3) as usize,
            r.range(1, 2) as usize,
        )
    };
    let mut take = |pool: &[&'static str], n: usize, kind: ColumnKind, r: &mut Rng| {
        let start = r.below(pool.len());
        for j in 0..n.min(pool.len()) {
            names.push((pool[(start + j) % pool.len()], kind));
        }
    };
    take(DYNAMIC, nd, ColumnKind::Dynamic, r);
    take(NOTICE, nn, ColumnKind::Notice, r);
    take(OTHER, no, ColumnKind::Other, r);
    names
        .into_iter()
        .map(|(name, kind)| {
            let empty = care != 2 && r.chance(0.1);
            let stale = care == 2 || (care == 1 && r.chance(0.5));
            let newest = match (kind, stale) {
                (ColumnKind::Dynamic, false) => r.range(0, 10),
                (ColumnKind::Dynamic, true) => r.range(15, 80),
                (ColumnKind::Notice, false) => r.range(0, 150),
                (ColumnKind::Notice, true) => r.range(184, 500),
                (ColumnKind::Other, false) => r.range(0, 300),
                (ColumnKind::Other, true) => r.range(366, 700),
            };
            let mut ages = Vec::new();
            if !empty {
                let mut a = newest;
                for _ in 0..r.range(3, 6) {
                    ages.push(a);
                    a += r.range(1, 25);
                }
            }
            Column { name, kind, ages }
        })
        .collect()
}

/// Template accessibility: half the sites clean, the others with one or two page-wide
/// defects (unlabelled controls only where a search box puts a control on every page).
fn a11y_basics(r: &mut Rng, search: SearchKind) -> A11yBasics {
    let mut b = A11yBasics::CLEAN;
    if r.chance(0.5) {
        b.labels = Labels::LabelFor;
    }
    if r.chance(0.5) {
        return b;
    }
    for _ in 0..if r.chance(0.3) { 2 } else { 1 } {
        match r.below(4) {
            0 => b.lang = false,
            1 => b.alt = false,
            2 if search != SearchKind::None => b.labels = Labels::Missing,
            2 => b.alt = false,
            _ => b.refresh = true,
        }
    }
    b
}

/// 政务微博 / 政务微信 columns for some linked accounts: recent (newest post 1–25 days old,
/// where the columns allow), stale (45–240 days, or older than the newest column item) or
/// printed without the year.
fn feeds(r: &mut Rng, media: &[(Platform, MediaStyle)], columns: &[Column]) -> Vec<Feed> {
    let Some(newest) = columns.iter().filter_map(|c| c.ages.first().copied()).min() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (p, _) in media {
        let headings: &[&'static str] = match p {
            Platform::Weibo => &["政务微博", "官方微博"],
            Platform::Wechat => &["政务微信", "微信公众号", "官方微信"],
            _ => continue,
        };
        if !r.chance(0.75) {
            continue;
        }
        let first = if newest < 25 && r.chance(0.75) {
            r.range(newest + 1, 25)
        } else {
            let lo = 45.max(newest + 1);
            r.range(lo, lo.max(240))
        };
        let mut ages = Vec::new();
        let mut a = first;
        for _ in 0..r.range(2, 4) {
            ages.push(a);
            a += r.range(1, 9);
        }
        out.push(Feed {
            platform: *p,
            heading: r.pick(headings),
            ages,
            dated: !r.chance(0.12),
        });
    }
    out
}

fn board(r: &mut Rng) -> Board {
    let rate = 0.4 + 0.6 * (r.below(1000) as f64 / 1000.0);
    let n = r.range(4, 12) as usize;
    let mut msgs = Vec::new();
    for j in 0..n {
        let age = r.range(3, 300);
        let delay = match r.below(20) {
            0 => r.range(91, 150),
            1..=3 => r.range(21, 60),
            _ => r.range(1, 20),
        };
        let answered = r.chance(rate) && delay <= age;
        let title = match j % 3 {
            0 => format!("关于{}{}的咨询", r.pick(PLACES), r.pick(ISSUES)),
            1 => format!("反映{}{}问题（{}）", r.pick(PLACES), r.pick(ISSUES), j + 1),
            _ => format!("关于{}{}的投诉", r.pick(PLACES), r.pick(ISSUES)),
        };
        msgs.push(Msg {
            title,
            age,
            reply_delay: answered.then_some(delay),
        });
    }
    // Titles must be unique on one board (they key list rows to detail pages).
    for j in 0..msgs.len() {
        if msgs[..j].iter().any(|m| m.title == msgs[j].title) {
            msgs[j].title = format!("{}（{}）", msgs[j].title, j + 1);
        }
    }
    Board {
        layout: if r.chance(0.5) {
            BoardLayout::Table
        } else {
            BoardLayout::List
        },
        msgs,
    }
}

fn guides(r: &mut Rng) -> Vec<Guide> {
    if !r.chance(0.7) {
        return Vec::new();
    }
    let n = r.range(1, 3) as usize;
    let start = r.below(GUIDE_ITEMS.len());
    (0..n)
        .map(|j| {
            let mut fields = [Field::Present; 6];
            for f in fields.iter_mut() {
                *f = match r.below(20) {
                    0..=2 => Field::Omitted,
                    3..=4 => Field::Empty,
                    _ => Field::Present,
                };
            }
            if !fields.contains(&Field::Present) {
                fields[0] = Field::Present;
            }
            let mut alias = [0; 6];
            for a in alias.iter_mut() {
                *a = r.below(2);
            }
            Guide {
                item: GUIDE_ITEMS[(start + j) % GUIDE_ITEMS.len()],
                fields,
                alias,
                layout: [GuideLayout::Table, GuideLayout::Para, GuideLayout::Dl][r.below(3)],
            }
        })
        .collect()
}

/// A normal portal, index `i`, code `code`.
pub fn normal_site(seed: u64, i: usize, code: String) -> SiteSpec {
    let mut r = Rng::new(site_seed(seed, i));
    let name = site_name(i);
    let care = match r.below(20) {
        0..=11 => 0,
        12..=16 => 1,
        _ => 2,
    };
    let charset = match r.below(10) {
        0..=5 => Charset::Utf8,
        6..=7 => Charset::GbkMeta,
        _ => Charset::GbkBare,
    };
    let viewport = match r.below(10) {
        0..=4 => Viewport::All,
        5..=6 => Viewport::HomeOnly,
        _ => Viewport::None,
    };
    let search = match r.below(20) {
        0..=9 => SearchKind::Working,
        10..=12 => SearchKind::Broken,
        13..=14 => SearchKind::ScriptBox,
        _ => SearchKind::None,
    };
    let first_char: String = name.chars().next().into_iter().collect();
    let qa = r.chance(0.4).then(|| {
        if r.chance(0.5) {
            "智能问答".to_string()
        } else {
            format!("小{first_char}助手")
        }
    });
    let a11y = r
        .chance(0.6)
        .then(|| [A11y::Text, A11y::Script, A11y::AriaScript][r.below(3)]);
    let elderly = r
        .chance(0.45)
        .then(|| r.pick(&["长者模式", "关怀版", "适老化模式"]));
    let mut media = Vec::new();
    for (p, prob) in [
        (Platform::Weibo, 0.6),
        (Platform::Wechat, 0.6),
        (Platform::Douyin, 0.3),
        (Platform::App, 0.4),
        (Platform::MiniProgram, 0.3),
    ] {
        if r.chance(prob) {
            let style = match p {
                Platform::Douyin => MediaStyle::Link,
                Platform::MiniProgram => MediaStyle::Qr,
                _ if r.chance(0.5) => MediaStyle::Link,
                _ => MediaStyle::Qr,
            };
            media.push((p, style));
        }
    }
    let channels = [r.chance(0.8), r.chance(0.6), r.chance(0.5), r.chance(0.4)];
    let board = ((channels[0] || channels[1]) && r.chance(0.85)).then(|| board(&mut r));
    let guides = guides(&mut r);
    let columns = columns(&mut r, care);
    let broken = |r: &mut Rng, max: i64| -> Vec<Broken> {
        (0..r.range(0, max))
            .map(|_| {
                if r.chance(0.5) {
                    Broken::NotFound
                } else {
                    Broken::Soft404
                }
            })
            .collect()
    };
    let broken_home = if r.chance(0.5) {
        broken(&mut r, 2)
    } else {
        Vec::new()
    };
    let broken_inner = broken(&mut r, 3);
    let mut spec = SiteSpec {
        index: i,
        code,
        province: r.pick(PROVINCES),
        charset,
        viewport,
        search,
        search_param: r.pick(&["searchword", "q", "keyword"]),
        qa,
        a11y,
        elderly,
        media,
        channels,
        board,
        guides,
        columns,
        date_style: r.below(4) as u8,
        list_table: r.chance(0.3),
        broken_home,
        broken_inner,
        icp: r.chance(0.85),
        gongan: r.chance(0.7),
        site_code: r.chance(0.75),
        meta_site_id: r.chance(0.6),
        today_banner: r.chance(0.3),
        hostile: None,
        scripted: None,
        name,
        a11y_basics: A11yBasics::CLEAN,
        feeds: Vec::new(),
    };
    // Drawn last, so the features above stay what they were before these were added.
    spec.a11y_basics = a11y_basics(&mut r, spec.search);
    spec.feeds = feeds(&mut r, &spec.media, &spec.columns);
    spec
}

/// A hostile site: a plain portal shape with the misbehaviour on top.
pub fn hostile_site(seed: u64, i: usize, h: Hostile) -> SiteSpec {
    let mut s = normal_site(seed, i, h.code().to_string());
    s.hostile = Some(h);
    s.board = None;
    s.guides.clear();
    s.broken_home.clear();
    s.broken_inner.clear();
    s.search = SearchKind::None;
    s
}

/// The item date for an age.
pub fn date_of(as_of: Date, age: i64) -> Date {
    as_of.add_days(-age)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sites_and_names_unique() {
        let a = normal_site(7, 3, "x".into());
        let b = normal_site(7, 3, "x".into());
        assert_eq!(a, b);
        let c = normal_site(8, 3, "x".into());
        assert_ne!(a, c);
        let names: std::collections::HashSet<String> = (0..960).map(site_name).collect();
        assert_eq!(names.len(), 960);
        assert_ne!(site_name(960), site_name(0));
    }

    #[test]
    fn columns_follow_their_care_level() {
        for seed in 0..50 {
            let mut r = Rng::new(seed);
            let cols = columns(&mut r, 2);
            let stale = cols
                .iter()
                .filter(|c| match c.kind {
                    ColumnKind::Dynamic => c.ages[0] > 14,
                    ColumnKind::Notice => c.ages[0] > 183,
                    ColumnKind::Other => false,
                })
                .count();
            assert!(
                stale >= 5,
                "a neglected site has at least five stale columns"
            );
            assert!(cols.iter().all(|c| c.ages[0] > 14));
        }
    }
}
