mod common;

use std::collections::BTreeMap;

use common::TempDir;
use govcap_io::{default_units, read_units, ImportError, Problem};

#[test]
fn default_units_match_the_reference_counts() {
    let units = default_units();
    assert_eq!(units.len(), 337);
    let count = |region: &str| {
        units
            .units()
            .iter()
            .filter(|u| u.region.as_deref() == Some(region))
            .count()
    };
    assert_eq!(count("东部"), 88);
    assert_eq!(count("中部"), 82);
    assert_eq!(count("西部"), 131);
    assert_eq!(count("东北"), 36);
    assert_eq!(
        units
            .units()
            .iter()
            .filter(|u| u.flag("sub_provincial"))
            .count(),
        15
    );
    assert_eq!(
        units
            .units()
            .iter()
            .filter(|u| u.flag("provincial_capital"))
            .count(),
        27
    );

    let chengdu = units.get("510100").expect("成都 is a default unit");
    assert_eq!(chengdu.name, "成都市");
    assert_eq!(chengdu.name_en, "Chengdu");
    assert_eq!(chengdu.province.as_deref(), Some("四川省"));
    assert_eq!(chengdu.region.as_deref(), Some("西部"));
    assert_eq!(chengdu.attr("region4"), Some("西部"));
    assert_eq!(chengdu.attr("type"), Some("地级市"));
    assert_eq!(chengdu.attr("province_code"), Some("510000"));
    assert_eq!(chengdu.attr("name_pinyin"), Some("Chengdu"));
    assert!(chengdu.flag("sub_provincial") && chengdu.flag("provincial_capital"));
    // Order is the file's (sorted by code), first and last as in the reference list.
    assert_eq!(units.units()[0].code, "110000");
    assert_eq!(
        units.position("510100"),
        Some(
            units
                .units()
                .iter()
                .position(|u| u.code == "510100")
                .unwrap()
        )
    );
    let hohhot = units.get("150100").unwrap();
    assert_eq!(hohhot.name_en, "Hohhot");
}

#[test]
fn custom_unit_list_keeps_extra_columns_as_attributes() {
    let dir = TempDir::new("units");
    let path = dir.write(
        "countries.csv",
        "code,name,population,EurAsia_group,region\n\
         AT,Austria,8.9,Europe,EU\n\
         CN,China,1412,Asia,\n\
         JP,Japan,,Asia,East Asia\n"
            .as_bytes(),
    );
    let units = read_units(&path).unwrap();
    assert_eq!(units.len(), 3);
    let at = units.get("AT").unwrap();
    assert_eq!(at.attr("population"), Some("8.9"));
    assert_eq!(at.number("population"), Some(8.9));
    assert_eq!(at.attr("EurAsia_group"), Some("Europe"));
    assert_eq!(at.name_en, "Austria", "name_en falls back to name");
    assert_eq!(at.region.as_deref(), Some("EU"));
    assert_eq!(at.province, None);
    assert_eq!(units.get("CN").unwrap().number("population"), Some(1412.0));
    assert_eq!(units.get("CN").unwrap().region, None);
    // An empty cell is a missing attribute, not an empty string.
    assert_eq!(units.get("JP").unwrap().attr("population"), None);
    assert_eq!(
        units.column("EurAsia_group"),
        vec![Some("Europe"), Some("Asia"), Some("Asia")]
    );
    let expected: BTreeMap<String, String> = [("population", "8.9"), ("EurAsia_group", "Europe")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(at.attrs, expected);
}

#[test]
fn unit_list_in_gbk_with_chinese_headers_and_region4() {
    let dir = TempDir::new("units-gbk");
    let text = "代码,名称,英文名称,省份,region4,人口\n510100,成都市,Chengdu,四川省,西部,2119.2\n420100,武汉市,Wuhan,湖北省,中部,1373.9\n";
    let (bytes, _, bad) = encoding_rs::GBK.encode(text);
    assert!(!bad);
    let path = dir.write("units.csv", &bytes);
    let units = read_units(&path).unwrap();
    let wuhan = units.get("420100").unwrap();
    assert_eq!(wuhan.name, "武汉市");
    assert_eq!(wuhan.name_en, "Wuhan");
    assert_eq!(wuhan.province.as_deref(), Some("湖北省"));
    assert_eq!(wuhan.region.as_deref(), Some("中部"));
    assert_eq!(wuhan.number("人口"), Some(1373.9));
}

#[test]
fn unit_list_problems_are_all_reported_with_rows() {
    let dir = TempDir::new("units-bad");
    let path = dir.write(
        "units.csv",
        b"code,name,population\nA,Alpha,1\n,Nameless,2\nB,,3\nA,Alpha again,4\n",
    );
    let err = read_units(&path).unwrap_err();
    let ImportError::Invalid { file, problems } = &err else {
        panic!("expected Invalid, got {err:?}");
    };
    assert!(file.ends_with("units.csv"));
    assert_eq!(
        problems,
        &vec![
            Problem::new(3, Some("code"), "empty required cell"),
            Problem::new(4, Some("name"), "empty required cell"),
            Problem::new(
                5,
                Some("code"),
                "duplicate unit code \"A\" (first on row 2)"
            ),
        ]
    );

    let path = dir.write("no-name.csv", b"code,label\nA,x\n");
    let err = read_units(&path).unwrap_err();
    assert_eq!(err.problems().len(), 1);
    assert_eq!(err.problems()[0].row, 1);
    assert_eq!(err.problems()[0].column.as_deref(), Some("name"));
    assert!(err.problems()[0]
        .reason
        .starts_with("missing required column"));
}

#[test]
fn unit_list_from_xlsx_with_numeric_codes() {
    let dir = TempDir::new("units-xlsx");
    let path = dir.path("units.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["code", "name", "population"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    sheet.write_number(1, 0, 110000).unwrap();
    sheet.write_string(1, 1, "北京市").unwrap();
    sheet.write_number(1, 2, 2189.3).unwrap();
    book.save(&path).unwrap();
    let units = read_units(&path).unwrap();
    let bj = units
        .get("110000")
        .expect("numeric code read as 110000, not 110000.0");
    assert_eq!(bj.name, "北京市");
    assert_eq!(bj.number("population"), Some(2189.3));
}
